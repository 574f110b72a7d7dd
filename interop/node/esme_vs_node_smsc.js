'use strict';
// Scenario 1: our client (crates/smpp-cli/examples/interop_esme.rs) against a node-smpp SMSC.
//
//   node esme_vs_node_smsc.js --driver PATH --dir DIR
//
// Starts a node-smpp server on 127.0.0.1 (a free port), runs the Rust driver against it,
// then compares, field by field, what node-smpp decoded (its own log, DIR/node-smsc.jsonl)
// with what the driver says it sent (DIR/rust-esme.jsonl), and what the driver decoded from
// the receipts, MO messages and responses node-smpp sent with what node-smpp encoded.

const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');
const { smpp, nodeView, nodeDecodeHex, compare, readJsonLines, args, Checks, ucs2 } =
  require('./common');

const opts = args(process.argv.slice(2));
const dir = opts.dir;
const nodeLog = path.join(dir, 'node-smsc.jsonl');
const rustLog = path.join(dir, 'rust-esme.jsonl');
fs.writeFileSync(nodeLog, '');
const HARD_LIMIT_MS = 60000;

function log(entry) {
  fs.appendFileSync(nodeLog, JSON.stringify(entry) + '\n');
}

// The MO messages node-smpp delivers on every receiving bind, after the pending receipts.
const MO = [
  { text: 'MO in GSM: {€} [~] @£$ ^|\\', data_coding: 0 },
  { text: 'MO UCS-2: Grüße 👍 Привет', data_coding: 8 },
  { text: 'MO in message_payload, Latin-1: Ça va? ½ ' + 'x'.repeat(200), data_coding: 3, payload: true },
];

let requestIndex = 0;
let messageId = 0;
const pendingReceipts = []; // receipts for a receiver that has not bound yet
const submitted = {}; // message id -> submit_sm view, for receipts

function send(session, pdu, extra) {
  // What node-smpp put on the wire, as node-smpp reads it back.
  // (after send, which assigns the sequence number of a request).
  session.send(pdu);
  const hex = pdu.toBuffer().toString('hex');
  log(Object.assign({ dir: 'out', octets: hex.length / 2, view: nodeDecodeHex(hex) }, extra || {}));
}

function receiptFor(id, sub) {
  const now = new Date();
  const d = now.toISOString().replace(/[-T:]/g, '').slice(2, 12);
  const text = `id:${id} sub:001 dlvrd:001 submit date:${d} done date:${d} stat:DELIVRD err:000 text:receipt`;
  return {
    pdu: new smpp.PDU('deliver_sm', {
      source_addr_ton: sub.fields.dest_addr_ton,
      source_addr_npi: sub.fields.dest_addr_npi,
      source_addr: sub.fields.destination_addr,
      dest_addr_ton: sub.fields.source_addr_ton,
      dest_addr_npi: sub.fields.source_addr_npi,
      destination_addr: sub.fields.source_addr,
      esm_class: 0x04,
      data_coding: 0,
      short_message: { message: text },
      receipted_message_id: id,
      message_state: 2,
      network_error_code: Buffer.from([0x03, 0x00, 0x00]),
    }),
    extra: { kind: 'receipt', receipted_message_id: id },
  };
}

function deliverMo(session) {
  for (const mo of MO) {
    const pdu = new smpp.PDU('deliver_sm', {
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      dest_addr_ton: 5,
      dest_addr_npi: 0,
      destination_addr: 'Interop',
      data_coding: mo.data_coding,
      short_message: mo.payload ? Buffer.alloc(0)
        : mo.data_coding === 8 ? ucs2(mo.text) : { message: mo.text },
      message_payload: mo.payload ? Buffer.from(mo.text, 'latin1') : undefined,
    });
    if (!mo.payload) delete pdu.message_payload;
    send(session, pdu, { kind: 'mo', text: mo.text });
  }
}

const server = smpp.createServer((session) => {
  let bound = null;
  // node-smpp stops reading a session when a PDU is too long for it (over 16384 octets)
  // and reports an error; this SMSC then drops the connection.
  session.on('error', (e) => {
    log({ dir: 'error', error: String(e) });
    session.destroy();
  });
  session.on('pdu', (pdu) => {
    const view = nodeView(pdu);
    const index = pdu.isResponse() ? null : requestIndex++;
    log({ dir: 'in', index, bound, view });
    if (pdu.isResponse()) return;
    const reply = (options, extra) => {
      send(session, pdu.response(options), Object.assign({ answers: index }, extra || {}));
    };
    switch (pdu.command) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver': {
        if (pdu.system_id !== 'interop' || pdu.password !== 'secret') {
          reply({ command_status: smpp.ESME_RBINDFAIL });
          return;
        }
        bound = pdu.command.slice(5);
        reply({ system_id: 'node-smsc' });
        if (bound !== 'transmitter') {
          while (pendingReceipts.length) {
            const r = pendingReceipts.shift();
            send(session, r.pdu, r.extra);
          }
          deliverMo(session);
        }
        return;
      }
      case 'submit_sm': {
        if (pdu.destination_addr === '000') {
          reply({ command_status: smpp.ESME_RINVDSTADR });
          return;
        }
        const id = 'n' + (++messageId);
        submitted[id] = view;
        reply({ message_id: id });
        if (pdu.registered_delivery & 1) {
          const r = receiptFor(id, view);
          if (bound === 'transceiver') send(session, r.pdu, r.extra);
          else pendingReceipts.push(r);
        }
        return;
      }
      case 'query_sm':
        reply({
          message_id: pdu.message_id, final_date: '261122101500000+', message_state: 2,
          error_code: 0,
        });
        return;
      case 'submit_multi':
        reply({
          message_id: 'm' + (++messageId),
          unsuccess_sme: [{
            dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '000',
            error_status_code: smpp.ESME_RINVDSTADR,
          }],
        });
        return;
      case 'data_sm':
        reply({ message_id: 'd' + (++messageId), additional_status_info_text: 'accepted' });
        return;
      case 'cancel_sm':
      case 'replace_sm':
      case 'enquire_link':
        reply({});
        return;
      case 'unbind':
        reply({}, { closes: true });
        return;
      default:
        reply({ command_status: smpp.ESME_RINVCMDID });
    }
  });
});

const hardLimit = setTimeout(() => {
  process.stdout.write('esme-vs-node-smsc: no result within 60 s\n');
  process.exit(1);
}, HARD_LIMIT_MS);

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const driver = childProcess.spawn(opts.driver, ['--addr', `127.0.0.1:${port}`, '--out', rustLog], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  driver.on('error', (e) => {
    process.stdout.write(`esme-vs-node-smsc: cannot start ${opts.driver}: ${e.message}\n`);
    process.exit(1);
  });
  driver.on('exit', (code, signal) => {
    clearTimeout(hardLimit);
    server.close();
    for (const s of server.sessions.slice()) s.destroy();
    check(code === 0 ? null : `the driver exited with ${signal || code}`);
  });
});

// Splits a decoded short_message's UDH into concatenation info, or null.
function concatInfo(udh) {
  for (const ie of udh || []) {
    const b = Buffer.from(ie, 'hex');
    if (b[0] === 0x00 && b[1] === 3) return { iei: 0, ref: b[2], total: b[3], seq: b[4] };
    if (b[0] === 0x08 && b[1] === 4) return { iei: 8, ref: b.readUInt16BE(2), total: b[4], seq: b[5] };
  }
  return null;
}

function check(driverError) {
  const c = new Checks('esme-vs-node-smsc');
  c.ok(!driverError, driverError || '');
  const ours = readJsonLines(rustLog);
  const theirs = readJsonLines(nodeLog);
  // One session error is expected: the PDU node-smpp cannot read (length over 16384).
  const errors = theirs.filter((e) => e.dir === 'error');
  const dropped = ours.filter((r) => r.step === 'dropped');
  c.ok(errors.length === dropped.length && errors.every((e) => /too large \(17\d\d\d, maximum is 16384\)/.test(e.error)),
    'node-smpp reported session errors: ' + JSON.stringify(errors) + ' for ' + dropped.length + ' PDUs over its limit');
  const inRequests = theirs.filter((e) => e.dir === 'in' && e.index !== null);
  const inResponses = theirs.filter((e) => e.dir === 'in' && e.index === null);
  const outDeliveries = theirs.filter((e) => e.dir === 'out' && e.view.command === 'deliver_sm');
  const answerOf = (index) => theirs.find((e) => e.dir === 'out' && e.answers === index);
  let next = 0;
  const take = () => inRequests[next++];

  for (const rec of ours) {
    switch (rec.step) {
      case 'error':
        c.ok(false, 'driver: ' + rec.error);
        break;
      case 'bind': {
        const got = take();
        if (!c.ok(got, `bind ${rec.kind}: node-smpp saw no request`)) break;
        const f = got.view.fields;
        c.ok(got.view.command === 'bind_' + rec.kind, `bind ${rec.kind}: node-smpp saw ${got.view.command}`);
        // The driver's credentials (kept out of its log).
        c.ok(f.system_id === rec.system_id && f.password === 'secret',
          `bind ${rec.kind}: node-smpp decoded system_id/password ${f.system_id}/${f.password}`);
        c.ok(f.interface_version === rec.interface_version,
          `bind ${rec.kind}: interface_version ${f.interface_version} at node-smpp`);
        break;
      }
      case 'request': {
        const got = take();
        if (!c.ok(got, `${rec.label}: node-smpp saw no request`)) break;
        c.diffs(compare(rec.pdu, got.view, { label: rec.label }), 'request');
        const answer = answerOf(got.index);
        if (c.ok(answer, `${rec.label}: node-smpp logged no response`)) {
          c.diffs(compare(rec.resp, answer.view, { label: rec.label }), 'response');
        }
        if (typeof rec.text === 'string') {
          // node-smpp's reading of the octets under our data_coding is the text we sent.
          const decoded = got.view.decoded.short_message || {};
          c.ok(decoded.message === rec.text,
            `${rec.label}: node-smpp decoded the text as ${JSON.stringify(decoded.message)}, sent ${JSON.stringify(rec.text)}`);
        }
        break;
      }
      case 'bind_refused': {
        const got = take();
        if (!c.ok(got, 'bind with a wrong password: node-smpp saw no request')) break;
        c.ok(got.view.command === 'bind_' + rec.kind && got.view.fields.password === 'wrong',
          `bind_refused: node-smpp saw ${got.view.command} with password ${got.view.fields.password}`);
        const answer = answerOf(got.index);
        c.ok(answer && answer.view.command_status === smpp.errors[rec.status] && answer.octets === 16,
          `bind_refused: our client reported ${rec.status}; node-smpp answered ${answer && answer.view.command_status} in ${answer && answer.octets} octets`);
        break;
      }
      case 'dropped':
        // node-smpp never decoded it (see the session errors above).
        break;
      case 'refused': {
        const got = take();
        if (!c.ok(got, `${rec.label}: node-smpp saw no request`)) break;
        c.diffs(compare(rec.pdu, got.view, { label: rec.label, sequence: false }), 'request');
        const answer = answerOf(got.index);
        c.ok(answer && answer.view.command_status === smpp.errors[rec.status] && answer.octets === 16,
          `${rec.label}: our client reported ${rec.status}; node-smpp answered ${answer && answer.view.command_status} in ${answer && answer.octets} octets`);
        break;
      }
      case 'text': {
        const n = rec.message_ids.length;
        const segs = [];
        for (let i = 0; i < n; i++) segs.push(take());
        if (!c.ok(segs.every((s) => s && s.view.command === 'submit_sm'),
          `${rec.label}: node-smpp did not see ${n} submit_sm`)) break;
        const texts = [];
        let octets = '';
        segs.forEach((s, i) => {
          const f = s.view.fields;
          const where = `${rec.label} segment ${i + 1}/${n}`;
          for (const [key, value] of Object.entries(rec.fields)) {
            c.ok(f[key] === value, `${where}: ${key} is ${JSON.stringify(f[key])} at node-smpp, sent ${JSON.stringify(value)}`);
          }
          if (rec.split === 'payload') octets += f.message_payload || '';
          else if (rec.split === 'sar') octets += f.short_message;
          else octets += f.short_message.slice((parseInt(f.short_message.slice(0, 2), 16) + 1) * 2);
          const answer = answerOf(s.index);
          c.ok(answer && answer.view.fields.message_id === rec.message_ids[i],
            `${where}: message id ${rec.message_ids[i]} here, ${answer && answer.view.fields.message_id} at node-smpp`);
          if (rec.split === 'payload') {
            c.ok(f.short_message === '' && f.esm_class === 0,
              `${where}: payload with a short_message ${f.short_message} / esm_class ${f.esm_class}`);
            const p = s.view.decoded.message_payload;
            texts.push(p && p.message);
          } else if (rec.split === 'sar') {
            c.ok(n > 1 && f.sar_total_segments === n && f.sar_segment_seqnum === i + 1 &&
              f.sar_msg_ref_num === segs[0].view.fields.sar_msg_ref_num && f.esm_class === 0,
              `${where}: sar TLVs ${f.sar_msg_ref_num}/${f.sar_total_segments}/${f.sar_segment_seqnum}`);
            texts.push((s.view.decoded.short_message || {}).message);
          } else {
            const sm = s.view.decoded.short_message || {};
            const info = concatInfo(sm.udh);
            const first = concatInfo((segs[0].view.decoded.short_message || {}).udh);
            c.ok(n > 1 && f.esm_class === 0x40 && info && first &&
              info.iei === (rec.split === 'udh8' ? 0 : 8) && info.total === n &&
              info.seq === i + 1 && info.ref === first.ref,
              `${where}: UDH ${JSON.stringify(sm.udh)} esm_class ${f.esm_class}`);
            texts.push(sm.message);
          }
        });
        c.ok(octets === rec.octets, `${rec.label}: the segments' octets without UDH are ${octets}, the text's ${rec.octets}`);
        c.ok(texts.join('') === rec.text,
          `${rec.label}: node-smpp reassembled ${JSON.stringify(texts.join(''))}, sent ${JSON.stringify(rec.text)}`);
        break;
      }
      case 'inbound':
      case 'unbind':
        if (rec.step === 'unbind') {
          const got = take();
          c.ok(got && got.view.command === 'unbind', 'unbind: node-smpp saw ' + (got && got.view.command));
        }
        break;
      default:
        c.ok(false, 'unknown driver step ' + rec.step);
    }
  }
  c.ok(next === inRequests.length, `node-smpp saw ${inRequests.length - next} requests the driver did not log: ` +
    JSON.stringify(inRequests.slice(next).map((e) => e.view.command)));

  // Deliveries: what node-smpp encoded against what our client decoded, in order.
  const inbound = ours.filter((r) => r.step === 'inbound');
  c.ok(inbound.length === outDeliveries.length && inbound.length === 4 + 2 * MO.length,
    `node-smpp sent ${outDeliveries.length} deliver_sm, the driver received ${inbound.length} (${4 + 2 * MO.length} expected)`);
  outDeliveries.forEach((out, i) => {
    const got = inbound[i];
    if (!got) return;
    c.diffs(compare(got.pdu, out.view, { label: 'deliver_sm ' + (i + 1) }), 'delivery');
    if (out.kind === 'receipt') {
      c.ok(got.receipt && got.receipt.id === out.receipted_message_id && got.receipt.stat === 'DELIVRD',
        `receipt ${out.receipted_message_id}: our client read ${JSON.stringify(got.receipt)}`);
    } else {
      c.ok(!got.receipt && got.text === out.text,
        `MO: node-smpp sent ${JSON.stringify(out.text)}, our client read ${JSON.stringify(got.text)}`);
    }
  });
  // Every delivery was acknowledged with ESME_ROK, in the session it came on.
  const acks = inResponses.filter((e) => e.view.command === 'deliver_sm_resp');
  c.ok(acks.length === outDeliveries.length && acks.every((a) => a.view.command_status === 0),
    `deliver_sm_resp: ${acks.length} for ${outDeliveries.length} deliveries, statuses ${acks.map((a) => a.view.command_status)}`);
  // (the refused submit got no message id)
  const submits = ours.reduce((n, r) => n + (r.step === 'text' ? r.message_ids.length
    : r.step === 'request' && r.pdu.command === 'submit_sm' ? 1 : 0), 0);
  c.ok(submits > 0 && Object.keys(submitted).length === submits,
    `node-smpp accepted ${Object.keys(submitted).length} submit_sm, the driver sent ${submits}`);
  c.finish();
}

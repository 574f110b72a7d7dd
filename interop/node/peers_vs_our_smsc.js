'use strict';
// Scenario 2: the node-smpp ESME and the python-smpplib ESME against our `smpp smsc`.
//
//   node peers_vs_our_smsc.js --smpp PATH --python PATH --dir DIR
//
// Starts `smpp smsc` on 127.0.0.1 (a free port) with a JSON-lines log, runs both peers at
// once (node-smpp in this process, interop/python/esme.py as a child), then checks our
// SMSC's log field by field against what each peer says it sent, and that each peer got one
// delivery receipt per submit, for the message id it was given, and answered it.

const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');
const { smpp, nodeDecodeHex, compare, comparePy, readJsonLines, args, Checks, ucs2 } = require('./common');

const opts = args(process.argv.slice(2));
const dir = opts.dir;
const smscLog = path.join(dir, 'our-smsc.jsonl');
const nodeReport = path.join(dir, 'node-esme.json');
const pyReport = path.join(dir, 'python-esme.json');
const HARD_LIMIT_MS = 60000;
const NODE_ID = 'nodeesme';
const NODE_PW = 'nodepw';

const hardLimit = setTimeout(() => fail('no result within 60 s'), HARD_LIMIT_MS);
let smsc = null;

function fail(msg) {
  process.stdout.write(`peers-vs-our-smsc: ${msg}\n`);
  if (smsc) smsc.kill('SIGKILL');
  process.exit(1);
}

// The node-smpp ESME's submits: explicit GSM (with TLVs), UCS-2, Latin-1, and one whose
// alphabet node-smpp picks itself (it labels that data_coding 1 and writes GSM septets).
const NODE_SUBMITS = [
  { text: 'Hello from node @£ {€}', options: { data_coding: 0, short_message: { message: 'Hello from node @£ {€}' }, user_message_reference: 7, source_port: 1234 } },
  { text: 'Привет из node 👋', options: { data_coding: 8, short_message: ucs2('Привет из node 👋') } },
  { text: 'Café Größe', options: { data_coding: 3, short_message: { message: 'Café Größe' } } },
  { text: 'Auto_detected text', options: { short_message: { message: 'Auto_detected text' } } },
];

function runNodeEsme(port) {
  return new Promise((resolve) => {
    const report = { sent: [], received: [], errors: [] };
    const session = smpp.connect({ host: '127.0.0.1', port });
    const sendLogged = (pdu, cb) => {
      session.send(pdu, cb);
      report.sent.push({ hex: pdu.toBuffer().toString('hex'), view: nodeDecodeHex(pdu.toBuffer().toString('hex')) });
    };
    const request = (command, options) => new Promise((res) => {
      sendLogged(new smpp.PDU(command, options), (resp) => {
        report.received.push({ view: nodeDecodeHex(resp.toBuffer().toString('hex')), status: resp.command_status });
        res(resp);
      });
    });
    let receipts = 0;
    let waitReceipts = null;
    session.on('error', (e) => { report.errors.push(String(e)); resolve(report); });
    session.on('deliver_sm', (pdu) => {
      report.received.push({ view: require('./common').nodeView(pdu) });
      sendLogged(pdu.response());
      receipts++;
      if (waitReceipts && receipts >= NODE_SUBMITS.length) waitReceipts();
    });
    session.on('connect', async () => {
      try {
        const bind = await request('bind_transceiver', { system_id: NODE_ID, password: NODE_PW, interface_version: 0x34 });
        if (bind.command_status !== 0) throw new Error('bind refused: ' + bind.command_status);
        for (const s of NODE_SUBMITS) {
          const o = Object.assign({
            source_addr_ton: 5, source_addr_npi: 0, source_addr: 'NodeSender',
            dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900888',
            registered_delivery: 1,
          }, s.options);
          await request('submit_sm', o);
        }
        if (receipts < NODE_SUBMITS.length) {
          await new Promise((res, rej) => {
            waitReceipts = res;
            setTimeout(() => rej(new Error(`only ${receipts} receipts within 10 s`)), 10000).unref();
          });
        }
        await request('enquire_link', {});
        await request('unbind', {});
      } catch (e) {
        report.errors.push(String(e));
      }
      session.close();
      resolve(report);
    });
  });
}

function runPython(port) {
  return new Promise((resolve) => {
    const script = path.join(__dirname, '..', 'python', 'esme.py');
    const child = childProcess.spawn(opts.python, [script, '--port', String(port), '--out', pyReport], {
      stdio: ['ignore', 'pipe', 'inherit'], timeout: 30000,
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', (e) => resolve({ errors: [`cannot start ${opts.python}: ${e.message}`] }));
    child.on('exit', (code, signal) => {
      let report;
      try {
        report = JSON.parse(fs.readFileSync(pyReport, 'utf8'));
      } catch (e) {
        report = { sent: [], received: [], errors: [] };
      }
      if (code !== 0) report.errors.push(`esme.py exited with ${signal || code}: ${out.trim()}`);
      resolve(report);
    });
  });
}

smsc = childProcess.spawn(opts.smpp, [
  'smsc', '--listen', '127.0.0.1:0', '--user', `${NODE_ID}:${NODE_PW}`, '--user', 'pyesme:pysecret',
  '--receipt-delay-ms', '20', '--log', smscLog,
], { stdio: ['ignore', 'pipe', 'inherit'] });
smsc.on('error', (e) => fail(`cannot start ${opts.smpp}: ${e.message}`));
// `smpp smsc` runs until killed: never leave it behind.
process.on('exit', () => smsc.kill('SIGKILL'));
let banner = '';
smsc.stdout.on('data', async function onData(d) {
  banner += d;
  const m = banner.match(/listening on 127\.0\.0\.1:(\d+)/);
  if (!m) return;
  smsc.stdout.removeListener('data', onData);
  const port = Number(m[1]);
  const [nodeResult, pyResult] = await Promise.all([runNodeEsme(port), runPython(port)]);
  fs.writeFileSync(nodeReport, JSON.stringify(nodeResult));
  // The peers saw their unbind_resp; the SMSC may still be writing the lines before it.
  // Its unbind lines come last on each connection: wait for both (at most 5 s).
  const until = Date.now() + 5000;
  const poll = () => {
    const unbinds = fs.readFileSync(smscLog, 'utf8').split('\n').filter((l) => l.includes('"command":"unbind"')).length;
    if (unbinds < 2 && Date.now() < until) {
      setTimeout(poll, 20);
      return;
    }
    smsc.kill('SIGTERM');
    clearTimeout(hardLimit);
    check(nodeResult, pyResult);
  };
  poll();
});

// Our SMSC's records, grouped by connection; `who` is the connection whose bind carried
// this system_id.
// The log's own members (time, connection, the session's system_id) are dropped: what is
// left is the PDU. (A bind's line has `system_id` twice, the session's then the PDU's;
// JSON.parse keeps the PDU's.)
function recordsOf(records, systemId) {
  const bind = records.find((r) => r.command && r.command.startsWith('bind_') && r.system_id === systemId);
  if (!bind) return null;
  return records.filter((r) => r.conn === bind.conn).map((r) => {
    const pdu = Object.assign({}, r);
    delete pdu.time_ms;
    delete pdu.conn;
    if (!r.command.startsWith('bind_')) delete pdu.system_id;
    return pdu;
  });
}

// Our SMSC's log does not hold every PDU it receives: enquire_link is answered inside the
// session without an event, and an unbind is logged from the session's `Unbound` event,
// which has no sequence number (logged as 0). See docs/interop.md.
function findRecord(records, command, sequence) {
  if (command === 'unbind') return records.find((r) => r.command === 'unbind');
  return records.find((r) => r.command === command && r.sequence_number === sequence);
}

const NOT_LOGGED = new Set(['enquire_link']);

// The `text:` part our SMSC writes in a receipt: the first 20 characters of the message,
// `?` for each one that reads differently as ASCII and as GSM 03.38 (the receipt is
// labelled data_coding 0 and most ESMEs read it as ASCII).
function receiptText(original) {
  return [...original].filter((ch) => ch.charCodeAt(0) >= 0x20).slice(0, 20)
    .map((ch) => (/[A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]/.test(ch) ? ch : '?')).join('');
}

function checkReceipts(c, who, submits, resps, receipts, receiptView, originals) {
  const ids = resps.map((r) => r.message_id);
  c.ok(resps.length === submits && ids.every((id) => id), `${who}: ${resps.length} submit_sm_resp with ids ${ids} for ${submits} submits`);
  c.ok(receipts.length === submits, `${who}: ${receipts.length} receipts for ${submits} submits`);
  const seen = new Set();
  for (const r of receipts) {
    const v = receiptView(r);
    c.ok(v.esm_class === 0x04, `${who}: receipt esm_class ${v.esm_class}`);
    c.ok(ids.includes(v.receipted_message_id) && !seen.has(v.receipted_message_id),
      `${who}: receipt for ${v.receipted_message_id}, ids given ${ids}`);
    seen.add(v.receipted_message_id);
    c.ok(/^id:\S+ .*stat:DELIVRD/.test(v.text) && v.message_state === 2,
      `${who}: receipt text ${JSON.stringify(v.text)}, message_state ${v.message_state}`);
    const original = originals[ids.indexOf(v.receipted_message_id)];
    c.ok(original !== undefined && v.text.endsWith(' text:' + receiptText(original)),
      `${who}: receipt ${JSON.stringify(v.text)} should end with text:${receiptText(original || '')}`);
    c.ok(v.source_addr === '447700900' + (who === 'node-smpp' ? '888' : '777'),
      `${who}: receipt source_addr ${v.source_addr}`);
  }
}

function check(node, py) {
  const c = new Checks('peers-vs-our-smsc');
  c.ok(node.errors.length === 0, 'node-smpp ESME: ' + node.errors.join('; '));
  c.ok(py.errors.length === 0, 'smpplib ESME: ' + py.errors.join('; '));
  const records = readJsonLines(smscLog);

  // node-smpp: every PDU it sent, as our SMSC decoded it, against node-smpp's own decoding.
  const ofNode = recordsOf(records, NODE_ID) || [];
  c.ok(ofNode.length > 0, 'our SMSC logged no bind of ' + NODE_ID);
  const nodeLogged = node.sent.filter((s) => !NOT_LOGGED.has(s.view.command));
  for (const s of nodeLogged) {
    const rec = findRecord(ofNode, s.view.command, s.view.sequence_number);
    if (!c.ok(rec, `node-smpp sent ${s.view.command} #${s.view.sequence_number}; our SMSC logged none`)) continue;
    c.diffs(compare(rec, s.view, { label: 'node-smpp ESME', sequence: s.view.command !== 'unbind' }));
  }
  c.ok(ofNode.length === nodeLogged.length, `our SMSC logged ${ofNode.length} PDUs from node-smpp, it sent ${nodeLogged.length} that it logs`);
  for (const cmd of ['enquire_link_resp', 'unbind_resp']) {
    c.ok(node.received.some((r) => r.view.command === cmd && r.view.command_status === 0), `node-smpp got no ${cmd}`);
  }
  const nodeBind = node.sent[0] && node.sent[0].view.fields;
  c.ok(nodeBind && nodeBind.interface_version === 0x34, 'node-smpp bound with interface_version 0x34');
  const nodeSubmits = node.sent.filter((s) => s.view.command === 'submit_sm');
  const auto = nodeSubmits[3] && nodeSubmits[3].view.fields;
  c.ok(auto && auto.data_coding === 1, 'node-smpp labels the text it encodes itself data_coding 1');
  checkReceipts(c, 'node-smpp', NODE_SUBMITS.length,
    node.received.filter((r) => r.view.command === 'submit_sm_resp').map((r) => r.view.fields),
    node.received.filter((r) => r.view.command === 'deliver_sm'),
    (r) => ({
      esm_class: r.view.fields.esm_class, receipted_message_id: r.view.fields.receipted_message_id,
      text: (r.view.decoded.short_message || {}).message, message_state: r.view.fields.message_state,
      source_addr: r.view.fields.source_addr,
    }),
    // node-smpp labels the text it encodes itself IA5 (data_coding 1) but writes GSM septets:
    // `_` goes out as 0x11, a control character in IA5, which the receipt text leaves out.
    NODE_SUBMITS.map((m) => (m.options.data_coding === undefined ? m.text.replace(/_/g, '') : m.text)));
  const nodeAcks = ofNode.filter((r) => r.command === 'deliver_sm_resp');
  c.ok(nodeAcks.length === NODE_SUBMITS.length && nodeAcks.every((r) => r.command_status === 'ESME_ROK'),
    `our SMSC logged ${nodeAcks.length} deliver_sm_resp from node-smpp`);

  // smpplib: every PDU it sent against our SMSC's record.
  const ofPy = recordsOf(records, 'pyesme') || [];
  c.ok(ofPy.length > 0, 'our SMSC logged no bind of pyesme');
  const pyLogged = py.sent.filter((s) => !NOT_LOGGED.has(s.command));
  for (const s of pyLogged) {
    const rec = findRecord(ofPy, s.command, s.sequence_number);
    if (!c.ok(rec, `smpplib sent ${s.command} #${s.sequence_number}; our SMSC logged none`)) continue;
    if (s.command === 'unbind') continue;
    c.diffs(comparePy(rec, s));
    // node-smpp's reading of smpplib's octets agrees with ours too.
    c.diffs(compare(rec, nodeDecodeHex(s.hex), { label: 'smpplib octets read by node-smpp' }));
  }
  c.ok(ofPy.length === pyLogged.length, `our SMSC logged ${ofPy.length} PDUs from smpplib, it sent ${pyLogged.length} that it logs`);
  for (const cmd of ['enquire_link_resp', 'unbind_resp']) {
    c.ok(py.received.some((r) => r.command === cmd && r.command_status === 0), `smpplib got no ${cmd}`);
  }
  const text = (h) => Buffer.from(h || '', 'hex').toString('latin1');
  checkReceipts(c, 'smpplib', (py.messages || []).length,
    py.received.filter((r) => r.command === 'submit_sm_resp').map((r) => ({ message_id: text((r.fields.message_id || {}).hex) })),
    py.received.filter((r) => r.command === 'deliver_sm'),
    (r) => ({
      esm_class: r.fields.esm_class, receipted_message_id: text((r.fields.receipted_message_id || {}).hex),
      text: text((r.fields.short_message || {}).hex), message_state: r.fields.message_state,
      source_addr: text((r.fields.source_addr || {}).hex),
    }),
    (py.messages || []).map((m) => m.text));
  const pyAcks = ofPy.filter((r) => r.command === 'deliver_sm_resp');
  c.ok(pyAcks.length === (py.messages || []).length && pyAcks.every((r) => r.command_status === 'ESME_ROK'),
    `our SMSC logged ${pyAcks.length} deliver_sm_resp from smpplib`);
  c.finish();
}

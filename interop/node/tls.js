'use strict';
// Scenario 4: TLS against a classic-only peer, both directions.
//
//   node tls.js --driver PATH --smpp PATH --dir DIR
//
// Our client and SMSC (default provider, aws-lc-rs) offer the hybrid post-quantum group
// X25519MLKEM768 first. node-smpp's TLS runs on Node's OpenSSL, which here offers only
// classic groups (Node 20's OpenSSL 3.0 has no ML-KEM; the server below is also limited to
// X25519, P-256 and P-384 explicitly, so a newer Node keeps it classic). Both directions
// must still connect, over TLS 1.3 with X25519:
//
// A. node-smpp's TLS server (smpp.createServer({key, cert})) and our client
//    (crates/smpp-cli/examples/interop_tls.rs `esme`): bind, submit_sm, enquire_link,
//    unbind; what our client's Client::tls_info says against what node's socket says.
// B. node-smpp's TLS client (smpp.connect({tls: true, ca})) and `smpp smsc --tls-cert
//    --tls-key`: bind, submit_sm, its receipt, enquire_link, unbind; node's view of the
//    handshake against the line our transport logs at debug level when it completes.
//
// The certificates are generated for this run by `interop_tls certs` (a CA of its own and a
// server certificate for 127.0.0.1): no key is committed. Everything is on 127.0.0.1.

const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');
const { smpp, args, Checks } = require('./common');

const opts = args(process.argv.slice(2));
const dir = opts.dir;
const certDir = path.join(dir, 'tls');
const driverReport = path.join(dir, 'rust-tls-esme.json');
const smscLog = path.join(dir, 'our-tls-smsc.log');
const HARD_LIMIT_MS = 60000;
const STEP_LIMIT_MS = 10000;
// What a classic-only peer and our stack should agree on.
const WANT_VERSION = 'TLSv1.3';
const WANT_GROUP = 'X25519';

const c = new Checks('tls');
let smsc = null;
const hardLimit = setTimeout(() => {
  c.ok(false, `no result within ${HARD_LIMIT_MS / 1000} s`);
  c.finish();
}, HARD_LIMIT_MS);
// `smpp smsc` runs until killed: never leave it behind.
process.on('exit', () => { if (smsc) smsc.kill('SIGKILL'); });

// rustls names a TLS 1.3 suite TLS13_AES_256_GCM_SHA384, OpenSSL TLS_AES_256_GCM_SHA384.
function sameSuite(rustls, openssl) {
  return typeof rustls === 'string' && typeof openssl === 'string' &&
    rustls.replace(/^TLS13_/, 'TLS_') === openssl;
}

// Rejects after `ms` with `what`, so no wait is unbounded.
function within(ms, what, promise) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function makeCerts() {
  const r = childProcess.spawnSync(opts.driver, ['certs', '--dir', certDir], {
    encoding: 'utf8', timeout: 20000,
  });
  if (r.status !== 0) {
    throw new Error(`interop_tls certs failed (${r.error || r.signal || r.status}): ${r.stderr}`);
  }
  return {
    ca: fs.readFileSync(path.join(certDir, 'ca.crt')),
    cert: fs.readFileSync(path.join(certDir, 'server.crt')),
    key: fs.readFileSync(path.join(certDir, 'server.key')),
    selfSigned: {
      cert: fs.readFileSync(path.join(certDir, 'selfsigned.crt')),
      key: fs.readFileSync(path.join(certDir, 'selfsigned.key')),
    },
  };
}

// A: node-smpp's TLS server, our client. `pinned`: the server presents a self-signed
// certificate marked as a CA (as `openssl req -x509` makes them, what SMSCs hand out) and
// our client pins it (--pin) instead of trusting a CA.
async function nodeServerOurClient(pki, pinned) {
  fs.rmSync(driverReport, { force: true }); // no report left from an earlier run
  const seen = { sessions: [], pdus: [], errors: [] };
  const identity = pinned ? pki.selfSigned : pki;
  const server = smpp.createServer({
    key: identity.key, cert: identity.cert, ecdhCurve: 'X25519:P-256:P-384', minVersion: 'TLSv1.2',
  }, (session) => {
    // The callback of a TLS server runs once the handshake is complete.
    const socket = session.socket;
    seen.sessions.push({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
    session.on('error', (e) => seen.errors.push(String(e)));
    session.on('pdu', (pdu) => {
      seen.pdus.push(pdu);
      if (pdu.isResponse()) return;
      switch (pdu.command) {
        case 'bind_transceiver':
          session.send(pdu.response(pdu.system_id === 'tlsesme' && pdu.password === 'tlspw'
            ? { system_id: 'node-tls-smsc' } : { command_status: smpp.ESME_RBINDFAIL }));
          return;
        case 'submit_sm':
          session.send(pdu.response({ message_id: 'tls-1' }));
          return;
        case 'enquire_link':
        case 'unbind':
          session.send(pdu.response());
          return;
        default:
          session.send(pdu.response({ command_status: smpp.ESME_RINVCMDID }));
      }
    });
  });
  server.on('tlsClientError', (e) => seen.errors.push('handshake: ' + String(e)));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  let exit;
  let driver = null;
  try {
    exit = await within(30000, 'our client against the node-smpp TLS server', new Promise((resolve) => {
      const trust = pinned
        ? ['--pin', path.join(certDir, 'selfsigned.crt')]
        : ['--ca', path.join(certDir, 'ca.crt')];
      driver = childProcess.spawn(opts.driver, [
        'esme', '--addr', `127.0.0.1:${port}`, ...trust, '--out', driverReport,
      ], { stdio: ['ignore', 'inherit', 'inherit'] });
      driver.on('error', (e) => resolve(`cannot start ${opts.driver}: ${e.message}`));
      driver.on('exit', (code, signal) => resolve(code === 0 ? null : `exited with ${signal || code}`));
    }));
  } catch (e) {
    exit = String(e);
    // Never leave a stuck driver behind.
    if (driver && driver.exitCode === null) driver.kill('SIGKILL');
  }
  server.close();
  for (const s of server.sessions.slice()) s.destroy();

  const who = pinned
    ? 'A2 (node-smpp TLS server with a self-signed CA-flagged certificate, our client pinning it)'
    : 'A (node-smpp TLS server, our client)';
  c.ok(!exit, `${who}: the driver ${exit}`);
  let ours = {};
  try {
    ours = JSON.parse(fs.readFileSync(driverReport, 'utf8'));
  } catch (e) {
    c.ok(false, `${who}: no driver report: ${e.message}`);
  }
  const tls = ours.tls || {};
  const theirs = seen.sessions[0] || {};
  c.ok(seen.sessions.length === 1, `${who}: node-smpp saw ${seen.sessions.length} TLS sessions, 1 expected`);
  c.ok(seen.errors.length === 0, `${who}: node-smpp errors ${JSON.stringify(seen.errors)}`);
  c.ok(tls.version === 'TLSv1_3' && theirs.protocol === WANT_VERSION,
    `${who}: version ${tls.version} at our client, ${theirs.protocol} at node-smpp`);
  c.ok(tls.key_exchange_group === WANT_GROUP,
    `${who}: our client negotiated ${tls.key_exchange_group}, ${WANT_GROUP} expected from a classic-only server`);
  c.ok(sameSuite(tls.cipher_suite, theirs.cipher),
    `${who}: cipher suite ${tls.cipher_suite} at our client, ${theirs.cipher} at node-smpp`);
  const commands = seen.pdus.map((p) => p.command);
  c.ok(JSON.stringify(commands) === JSON.stringify(['bind_transceiver', 'submit_sm', 'enquire_link', 'unbind']),
    `${who}: node-smpp decoded ${JSON.stringify(commands)}`);
  const submit = seen.pdus.find((p) => p.command === 'submit_sm');
  c.ok(submit && submit.destination_addr === '447700900777' && submit.source_addr === 'TlsInterop' &&
    Buffer.from(submit.short_message.message || '').toString() === 'over TLS',
  `${who}: node-smpp decoded the submit as ${submit && JSON.stringify([submit.source_addr, submit.destination_addr, submit.short_message])}`);
  c.ok(ours.submit_status === 0 && ours.message_id === 'tls-1',
    `${who}: our client got status ${ours.submit_status}, message id ${ours.message_id}; node-smpp answered tls-1`);
  c.ok(ours.enquire_link_status === 0 && ours.unbound === true,
    `${who}: enquire_link status ${ours.enquire_link_status}, unbound ${ours.unbound}`);
  process.stdout.write(`  ${pinned ? 'A2' : 'A'}: our client <-> node-smpp TLS server${pinned ? ' (pinned self-signed)' : ''}: ${tls.version} ${tls.cipher_suite} ${tls.key_exchange_group}\n`);
}

// Starts `smpp smsc` with TLS; resolves with its port.
function startSmsc() {
  return within(20000, 'smpp smsc --tls-cert', new Promise((resolve, reject) => {
    smsc = childProcess.spawn(opts.smpp, [
      'smsc', '--listen', '127.0.0.1:0', '--user', 'nodetls:nodepw', '--receipt-delay-ms', '20',
      '--tls-cert', path.join(certDir, 'server.crt'), '--tls-key', path.join(certDir, 'server.key'),
    ], {
      // The transport logs what each handshake negotiated at debug level.
      env: Object.assign({}, process.env, { RUST_LOG: 'smpp_transport=debug' }),
      stdio: ['ignore', 'pipe', fs.openSync(smscLog, 'w')],
    });
    smsc.on('error', (e) => reject(new Error(`cannot start ${opts.smpp}: ${e.message}`)));
    let banner = '';
    smsc.stdout.on('data', function onData(d) {
      banner += d;
      const m = banner.match(/listening with TLS on 127\.0\.0\.1:(\d+)/);
      if (!m) return;
      smsc.stdout.removeListener('data', onData);
      smsc.stdout.resume();
      resolve(Number(m[1]));
    });
  }));
}

// B: node-smpp's TLS client, our SMSC.
async function nodeClientOurSmsc(pki) {
  const who = 'B (node-smpp TLS client, our SMSC)';
  const port = await startSmsc();
  const got = { errors: [] };
  const session = smpp.connect({ host: '127.0.0.1', port, tls: true, ca: pki.ca });
  session.on('error', (e) => got.errors.push(String(e)));
  const request = (command, options) => within(STEP_LIMIT_MS, command, new Promise((resolve) => {
    session.send(new smpp.PDU(command, options || {}), resolve);
  }));
  let receipt = null;
  let onReceipt = null;
  session.on('deliver_sm', (pdu) => {
    session.send(pdu.response());
    receipt = pdu;
    if (onReceipt) onReceipt();
  });
  try {
    await within(STEP_LIMIT_MS, 'TLS handshake', new Promise((resolve, reject) => {
      session.on('secureConnect', resolve);
      session.on('error', reject);
    }));
    const socket = session.socket;
    got.protocol = socket.getProtocol();
    got.cipher = socket.getCipher().name;
    got.group = socket.getEphemeralKeyInfo().name;
    got.localPort = socket.localPort;
    got.authorized = socket.authorized;
    const bind = await request('bind_transceiver', { system_id: 'nodetls', password: 'nodepw' });
    got.bindStatus = bind.command_status;
    const submit = await request('submit_sm', {
      source_addr_ton: 5, source_addr_npi: 0, source_addr: 'NodeTls',
      dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900778',
      registered_delivery: 1, short_message: { message: 'node over TLS' },
    });
    got.submitStatus = submit.command_status;
    got.messageId = submit.message_id;
    if (!receipt) {
      await within(STEP_LIMIT_MS, 'the receipt', new Promise((resolve) => { onReceipt = resolve; }));
    }
    got.receiptFor = receipt.receipted_message_id;
    got.enquireStatus = (await request('enquire_link')).command_status;
    got.unbindStatus = (await request('unbind')).command_status;
  } catch (e) {
    got.errors.push(String(e));
  }
  session.close();
  // The handshake line is written when the handshake completes, long before the unbind.
  smsc.kill('SIGTERM');
  await within(5000, 'smpp smsc to exit', new Promise((resolve) => {
    if (smsc.exitCode !== null || smsc.signalCode !== null) resolve();
    else smsc.on('exit', resolve);
  })).catch((e) => got.errors.push(String(e)));
  const line = fs.readFileSync(smscLog, 'utf8').split('\n')
    .find((l) => l.includes(`TLS handshake with 127.0.0.1:${got.localPort} done: `)) || '';
  const [version, suite, group] = line.split(' done: ')[1] ? line.split(' done: ')[1].trim().split(' ') : [];

  c.ok(got.errors.length === 0, `${who}: ${JSON.stringify(got.errors)}`);
  c.ok(got.authorized === true, `${who}: node-smpp did not accept our certificate`);
  c.ok(got.protocol === WANT_VERSION && version === 'TLSv1_3',
    `${who}: version ${got.protocol} at node-smpp, ${version} at our SMSC`);
  c.ok(got.group === WANT_GROUP && group === WANT_GROUP,
    `${who}: key exchange ${got.group} at node-smpp, ${group} at our SMSC; ${WANT_GROUP} expected`);
  c.ok(sameSuite(suite, got.cipher), `${who}: cipher suite ${got.cipher} at node-smpp, ${suite} at our SMSC`);
  c.ok(got.bindStatus === 0, `${who}: bind status ${got.bindStatus}`);
  c.ok(got.submitStatus === 0 && typeof got.messageId === 'string' && got.messageId !== '',
    `${who}: submit status ${got.submitStatus}, message id ${got.messageId}`);
  c.ok(got.receiptFor === got.messageId, `${who}: receipt for ${got.receiptFor}, submitted ${got.messageId}`);
  c.ok(got.enquireStatus === 0 && got.unbindStatus === 0,
    `${who}: enquire_link ${got.enquireStatus}, unbind ${got.unbindStatus}`);
  process.stdout.write(`  B: node-smpp TLS client <-> our SMSC: ${got.protocol} ${got.cipher} ${got.group}\n`);
}

(async () => {
  process.stdout.write(`  node ${process.version}, OpenSSL ${process.versions.openssl}\n`);
  try {
    const pki = makeCerts();
    await nodeServerOurClient(pki, false);
    await nodeServerOurClient(pki, true);
    await nodeClientOurSmsc(pki);
  } catch (e) {
    c.ok(false, String(e && e.stack || e));
  }
  clearTimeout(hardLimit);
  c.finish();
})();

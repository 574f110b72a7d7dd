// Load generator for the node `smpp` client (node-smpp 0.5.1), run by smpp-peers-bench:
//   node load.js ADDR WINDOW MAX SECS WARMUP
// Binds as a transmitter, sends WARMUP untimed submit_sm, then keeps WINDOW requests in
// flight (node-smpp has no window of its own, so this script counts them) until MAX were
// sent or SECS passed, waits for the rest and prints one JSON line:
//   {"completed":N,"elapsed_s":S,"p50_us":U,"p99_us":U}  or  {"error":"..."}
'use strict';
const smpp = require('smpp');

const [addr, windowArg, maxArg, secsArg, warmupArg] = process.argv.slice(2);
const colon = addr.lastIndexOf(':');
const host = addr.slice(0, colon);
const port = Number(addr.slice(colon + 1));
const window = Number(windowArg);
const max = Number(maxArg);
const secs = Number(secsArg);
const warmup = Number(warmupArg);

// The same 128-octet submit_sm as the Rust clients: 76 letters, data_coding 0, no receipt.
const text = Buffer.from('abcdefghijklmnopqrstuvwxyz'.repeat(3).slice(0, 76), 'latin1');
const message = () => ({
  source_addr_ton: 5,
  source_addr_npi: 0,
  source_addr: 'MyBrand',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '447700900123',
  registered_delivery: 0,
  data_coding: 0,
  short_message: text,
});

let finished = false;
function finish(result) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}
function fail(msg) {
  finish({ error: 'node: ' + msg });
}

const session = smpp.connect({ host, port, auto_enquire_link_period: 0 });
session.on('error', (e) => fail(String(e && e.message ? e.message : e)));
session.on('close', () => fail('the connection closed'));

// One phase: `count` at most, `limitNs` at most (null: no time limit); calls done(result).
function phase(count, limitNs, done) {
  const start = process.hrtime.bigint();
  const latencies = [];
  let sent = 0;
  let inFlight = 0;
  let stopped = false;
  const pump = () => {
    while (!stopped && inFlight < window) {
      if (sent >= count) { stopped = true; break; }
      const t0 = process.hrtime.bigint();
      if (limitNs !== null && t0 - start >= limitNs) { stopped = true; break; }
      sent++;
      inFlight++;
      session.submit_sm(message(), (pdu) => {
        inFlight--;
        if (pdu.command_status !== 0) {
          fail('submit_sm answered with status ' + pdu.command_status);
          return;
        }
        latencies.push(Number(process.hrtime.bigint() - t0));
        if (stopped && inFlight === 0) {
          done({ latencies, elapsedNs: Number(process.hrtime.bigint() - start) });
        } else {
          pump();
        }
      });
    }
    if (stopped && inFlight === 0) {
      done({ latencies, elapsedNs: Number(process.hrtime.bigint() - start) });
    }
  };
  pump();
}

session.on('connect', () => {
  session.bind_transmitter(
    { system_id: 'bench', password: 'pw', interface_version: 0x34 },
    (pdu) => {
      if (pdu.command_status !== 0) {
        fail('bind answered with status ' + pdu.command_status);
        return;
      }
      phase(warmup, null, () => {
        phase(max, BigInt(Math.round(secs * 1e9)), (r) => {
          const l = r.latencies.sort((a, b) => a - b);
          const pct = (p) => (l.length ? l[Math.min(l.length - 1, Math.floor(l.length * p))] / 1e3 : 0);
          const result = {
            completed: l.length,
            elapsed_s: r.elapsedNs / 1e9,
            p50_us: pct(0.5),
            p99_us: pct(0.99),
          };
          session.removeAllListeners('close');
          session.unbind(() => {
            finish(result);
          });
          setTimeout(() => finish(result), 1000);
        });
      });
    },
  );
});

'use strict';
// Shared helpers of the interop scripts: node-smpp's view of a PDU as plain JSON, and the
// field-by-field comparison of that view with our JSON form of a PDU (the objects that
// `smpp decode`, `smpp smsc --log` and the Rust driver write; see crates/smpp-smsc/src/json.rs).
//
// node-smpp is loaded from NODE_PATH (target/peers/node/node_modules, installed by
// `cargo xtask peers`). Nothing here is part of node-smpp; it only reads its PDU objects.

const fs = require('fs');
const childProcess = require('child_process');

let smpp;
try {
  smpp = require('smpp');
} catch (e) {
  process.stderr.write(
    'interop: node-smpp is not installed (run `cargo xtask peers`; NODE_PATH=' +
      (process.env.NODE_PATH || '') + '): ' + e.message + '\n');
  process.exit(2);
}

// node-smpp replaces some fields while decoding (short_message and message_payload become
// {udh, message} objects, time fields become Dates). Keep the values its parser read from
// the wire, before those filters, so that raw octets and raw time strings can be compared.
const originalFilter = smpp.PDU.prototype._filter;
smpp.PDU.prototype._filter = function (func) {
  if (func === 'decode') {
    const raw = {};
    for (const key of Object.keys(this)) {
      raw[key] = Array.isArray(this[key]) ? this[key].slice() : this[key];
    }
    Object.defineProperty(this, '_raw', { value: raw, enumerable: false, writable: true });
  }
  return originalFilter.call(this, func);
};

const HEADER = ['command_length', 'command_id', 'command_status', 'sequence_number', 'command'];

function plain(v) {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (v instanceof Date) return isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = plain(v[k]);
    return o;
  }
  return v;
}

// node-smpp's view of a decoded PDU: `fields` holds what its parser read (octet strings as
// hex, before its filters), `decoded` what its filters made of them (message text, UDH
// information elements, dates).
function nodeView(pdu) {
  const raw = pdu._raw || pdu;
  const view = {
    command: pdu.command,
    command_status: pdu.command_status,
    sequence_number: pdu.sequence_number,
    fields: {},
    decoded: {},
  };
  for (const key of Object.keys(raw)) {
    if (HEADER.includes(key)) continue;
    view.fields[key] = plain(raw[key]);
  }
  for (const key of Object.keys(pdu)) {
    if (HEADER.includes(key)) continue;
    if (pdu._raw && pdu._raw[key] !== pdu[key]) view.decoded[key] = plain(pdu[key]);
  }
  return view;
}

// Decodes one PDU from hex with node-smpp.
function nodeDecodeHex(hex) {
  const pdu = new smpp.PDU(Buffer.from(hex, 'hex'));
  return nodeView(pdu);
}

const RENAMED = { dest_addresses: 'dest_address', unsuccess_smes: 'unsuccess_sme' };
const SKIP = new Set([
  'command', 'command_id', 'command_status', 'sequence_number', 'command_length',
  'number_of_dests', 'no_unsuccess', 'tlvs', 'input', 'offset',
]);

function statusNumber(s) {
  if (typeof s === 'number') return s;
  if (typeof s === 'string' && s.startsWith('0x')) return parseInt(s, 16);
  if (s in smpp.errors) return smpp.errors[s];
  throw new Error('unknown command_status name ' + s);
}

function isEmpty(v) {
  return v === '' || v === 0 || (Array.isArray(v) && v.length === 0);
}

// The value node-smpp's TLV type gives for octets `hex` (what it should have decoded).
function tlvExpected(def, hex) {
  const b = Buffer.from(hex, 'hex');
  const t = smpp.types.tlv;
  if (def.type === t.int8) return b.length === 1 ? b.readUInt8(0) : 'length ' + b.length;
  if (def.type === t.int16) return b.length === 2 ? b.readUInt16BE(0) : 'length ' + b.length;
  if (def.type === t.int32) return b.length === 4 ? b.readUInt32BE(0) : 'length ' + b.length;
  if (def.type === t.cstring) {
    const end = b.indexOf(0);
    return b.toString('ascii', 0, end < 0 ? b.length : end);
  }
  if (def.type === t.string) return b.toString('ascii');
  return hex; // buffer
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// Compares our JSON object of a PDU with node-smpp's view of the same PDU, field by field
// (every mandatory field and every TLV, in both directions for TLVs). Returns a list of
// differences, empty when they agree.
// An enumerated field's number: `<key>_value` beside its name, or the field itself.
function num(o, key) {
  return o[key + '_value'] !== undefined ? o[key + '_value'] : o[key];
}

function compare(ours, node, opts) {
  opts = opts || {};
  const diffs = [];
  const where = (opts.label ? opts.label + ': ' : '') + ours.command;
  if (ours.command !== node.command) {
    diffs.push(`${where}: command is ${ours.command} here, ${node.command} at node-smpp`);
    return diffs;
  }
  if ('command_status' in ours && statusNumber(ours.command_status) !== node.command_status) {
    diffs.push(`${where}: command_status ${ours.command_status} here, ${node.command_status} at node-smpp`);
  }
  if (opts.sequence !== false && 'sequence_number' in ours &&
      ours.sequence_number !== node.sequence_number) {
    diffs.push(`${where}: sequence_number ${ours.sequence_number} here, ${node.sequence_number} at node-smpp`);
  }
  for (const key of Object.keys(ours)) {
    // Derived members of `smpp decode`: text and UDH of user data, numbers beside names,
    // the parsed receipt.
    if (SKIP.has(key) || /_(hex|text|udh|value)$/.test(key) || key === 'receipt') continue;
    if (key === 'password' && ours[key] === '***') continue;
    // An enumerated field is its name, with the number in `<key>_value`.
    const ov = ours[key + '_value'] !== undefined ? ours[key + '_value'] : ours[key];
    const nv = node.fields[RENAMED[key] || key];
    if (nv === undefined) {
      // node-smpp stops reading at command_length (header-only error responses).
      if (!isEmpty(ov)) diffs.push(`${where}: ${key} is ${JSON.stringify(ov)} here, absent at node-smpp`);
      continue;
    }
    if (key === 'dest_addresses') {
      const mapped = ov.map((d) => d.dest_flag === 2 ? { dl_name: d.dl_name } : {
        dest_addr_ton: num(d, 'dest_addr_ton'), dest_addr_npi: num(d, 'dest_addr_npi'),
        destination_addr: d.destination_addr,
      });
      if (!same(mapped, nv)) diffs.push(`${where}: dest_addresses ${JSON.stringify(mapped)} here, ${JSON.stringify(nv)} at node-smpp`);
      continue;
    }
    if (key === 'unsuccess_smes') {
      const mapped = ov.map((u) => ({
        dest_addr_ton: num(u, 'dest_addr_ton'), dest_addr_npi: num(u, 'dest_addr_npi'),
        destination_addr: u.destination_addr, error_status_code: statusNumber(u.error_status_code),
      }));
      if (!same(mapped, nv)) diffs.push(`${where}: unsuccess_smes ${JSON.stringify(mapped)} here, ${JSON.stringify(nv)} at node-smpp`);
      continue;
    }
    if (!same(ov, nv)) {
      diffs.push(`${where}: ${key} is ${JSON.stringify(ov)} here, ${JSON.stringify(nv)} at node-smpp`);
    }
  }
  // TLVs: every one of ours must be decoded by node-smpp with the same value, and node-smpp
  // must have decoded no TLV we do not have.
  const tlvMap = (smpp.commands[ours.command] || {}).tlvMap || {};
  const seen = {};
  for (const t of ours.tlvs || []) {
    const tag = parseInt(t.tag, 16);
    const def = smpp.tlvsById[tag];
    const name = def ? (tlvMap[def.tag] || def.tag) : String(tag);
    let nv = node.fields[name];
    if (def && def.multiple && Array.isArray(nv)) {
      seen[name] = (seen[name] || 0) + 1;
      nv = nv[seen[name] - 1];
    } else {
      seen[name] = 1;
    }
    let expected = def ? tlvExpected(def, t.hex) : t.hex;
    // broadcast_end_time: node-smpp writes the 16 characters without the NUL the spec has
    // (COS-F 17); we accept both and print it NUL-terminated.
    if (tag === 0x0609 && typeof nv === 'string' && expected === nv + '\u0000') expected = nv;
    if (!same(expected, nv)) {
      diffs.push(`${where}: TLV ${t.name} (${t.tag}) is ${JSON.stringify(expected)} (octets ${t.hex}) here, ${JSON.stringify(nv)} at node-smpp`);
    }
  }
  const params = (smpp.commands[ours.command] || {}).params || {};
  for (const key of Object.keys(node.fields)) {
    if (key in params || seen[key]) continue;
    const isTlv = key in smpp.tlvs || /^[0-9]+$/.test(key) ||
      Object.values(tlvMap).includes(key);
    if (isTlv) diffs.push(`${where}: node-smpp decoded TLV ${key}=${JSON.stringify(node.fields[key])} that is not here`);
  }
  return diffs;
}

function hexOfOurs(ours, key) {
  if (ours[key + '_hex'] !== undefined) return ours[key + '_hex'];
  return Buffer.from(ours[key], 'utf8').toString('hex');
}

// Compares our JSON object of a PDU with python-smpplib's view of the same PDU (the
// `fields` that interop/python/*.py write: integers, octets as {hex}).
function comparePy(ours, py) {
  const diffs = [];
  const where = 'smpplib ' + py.command;
  if (ours.command !== py.command) return [`${where}: ${ours.command} here`];
  if (ours.sequence_number !== py.sequence_number) diffs.push(`${where}: sequence_number ${ours.sequence_number} here, ${py.sequence_number} at smpplib`);
  if ('command_status' in ours && py.command_status !== undefined &&
      statusNumber(ours.command_status) !== py.command_status) {
    diffs.push(`${where}: command_status ${ours.command_status} here, ${py.command_status} at smpplib`);
  }
  for (const [key, pv] of Object.entries(py.fields)) {
    if (key === 'sm_length' || (key === 'password' && ours.password === '***')) continue;
    const tlv = (ours.tlvs || []).find((t) => t.name === key);
      if (key in ours) {
      const ov = ours[key + '_value'] !== undefined ? ours[key + '_value'] : ours[key];
      if (typeof pv === 'object') {
        const oh = key === 'short_message' ? ov : hexOfOurs(ours, key);
        if (oh !== pv.hex) diffs.push(`${where}: ${key} octets ${oh} here, ${pv.hex} at smpplib`);
      } else if (ov !== pv) {
        diffs.push(`${where}: ${key} ${ov} here, ${pv} at smpplib`);
      }
    } else if (tlv) {
      // smpplib drops the terminating NUL of a C-octet string TLV.
      const got = typeof pv === 'object'
        ? (tlv.hex === pv.hex + '00' ? pv.hex : tlv.hex) : parseInt(tlv.hex, 16);
      const want = typeof pv === 'object' ? pv.hex : pv;
      if (got !== want) diffs.push(`${where}: TLV ${key} ${got} here, ${want} at smpplib`);
    } else {
      diffs.push(`${where}: ${key}=${JSON.stringify(pv)} at smpplib, not here`);
    }
  }
  for (const t of ours.tlvs || []) {
    if (!(t.name in py.fields)) diffs.push(`${where}: TLV ${t.name} is here, not at smpplib`);
  }
  return diffs;
}

// Runs `program args` with `input` on stdin, bounded by `timeoutMs`; returns stdout lines.
// A non-zero exit is returned as `status` (a decode error is an answer, not a crash).
function run(program, args, input, timeoutMs) {
  const r = childProcess.spawnSync(program, args, {
    input, timeout: timeoutMs || 20000, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${program} ${args.join(' ')}: ${r.error.message}`);
  if (r.signal) throw new Error(`${program} ${args.join(' ')}: killed by ${r.signal} (timeout?)`);
  return { status: r.status, lines: r.stdout.split('\n').filter((l) => l.trim() !== ''), stderr: r.stderr };
}

function readJsonLines(path) {
  return fs.readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON: ${e.message}`);
    }
  });
}

// Parses `--name value` arguments into an object.
function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
      throw new Error('expected --name value pairs, got ' + argv.slice(i).join(' '));
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

// Collects failed checks and counts passed ones; `finish` prints a summary and exits.
class Checks {
  constructor(name) {
    this.name = name;
    this.passed = 0;
    this.failed = [];
  }

  ok(cond, what) {
    if (cond) this.passed++;
    else this.failed.push(what);
    return cond;
  }

  diffs(list, what) {
    if (list.length === 0) this.passed++;
    else for (const d of list) this.failed.push(what ? `${what}: ${d}` : d);
  }

  finish() {
    for (const f of this.failed) process.stdout.write(`  FAIL ${f}\n`);
    process.stdout.write(`${this.name}: ${this.passed} checks passed, ${this.failed.length} failed\n`);
    process.exit(this.failed.length === 0 ? 0 : 1);
  }
}

// UCS-2 (UTF-16BE) octets of a JS string.
function ucs2(text) {
  return Buffer.from(text, 'utf16le').swap16();
}

module.exports = {
  smpp, nodeView, nodeDecodeHex, compare, comparePy, run, readJsonLines, args, Checks, ucs2, plain,
};

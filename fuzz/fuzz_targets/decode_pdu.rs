//! Decodes arbitrary bytes as a PDU; whatever decodes must re-encode and decode back to the
//! same PDU. The checks live in `fuzz/oracles.rs`, shared with the seed replay test.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracles.rs"]
mod oracles;

fuzz_target!(|data: &[u8]| oracles::decode_pdu(data));

//! Parses arbitrary bytes as delivery receipt text and as an SMPP time; what parses must
//! format and parse back. The checks live in `fuzz/oracles.rs`, shared with the seed
//! replay test.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracles.rs"]
mod oracles;

fuzz_target!(|data: &[u8]| oracles::receipt_parse(data));

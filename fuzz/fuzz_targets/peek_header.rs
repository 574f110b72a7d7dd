//! Frames arbitrary bytes with `Header::peek`; a header it returns must describe a whole
//! PDU inside the input. The checks live in `fuzz/oracles.rs`, shared with the seed
//! replay test.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracles.rs"]
mod oracles;

fuzz_target!(|data: &[u8]| oracles::peek_header(data));

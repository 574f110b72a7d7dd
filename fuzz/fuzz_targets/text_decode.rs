//! Decodes arbitrary bytes in every text alphabet; what decodes must re-encode and decode
//! back, the septet packer must read exactly the bits it is given, and `choose` must pick
//! an alphabet that holds the text. The checks live in `fuzz/oracles.rs`, shared with the
//! seed replay test.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracles.rs"]
mod oracles;

fuzz_target!(|data: &[u8]| oracles::text_decode(data));

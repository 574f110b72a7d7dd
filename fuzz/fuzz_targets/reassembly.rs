//! Runs arbitrary bytes as a script of pushes, clock advances, timeouts and drains against
//! one `concat::Reassembler` with small limits; every segment must come out once, complete
//! or given up, within the limits. Also reads the bytes as a User Data Header. The checks
//! live in `fuzz/oracles.rs`, shared with the seed replay test.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../oracles.rs"]
mod oracles;

fuzz_target!(|data: &[u8]| oracles::reassembly(data));

//! Runs arbitrary bytes as a script driving an ESME and an SMSC session back to back on a
//! virtual clock: raw input, chunked transfers, time steps and application commands. Every
//! request must resolve exactly once, timers must not ask to be woken for work already done,
//! transmitted bytes must frame and decode, and unframeable input must close the session.
//! The checks live in `fuzz/session_oracle.rs`, shared with the seed replay test in
//! smpp-session.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../session_oracle.rs"]
mod session_oracle;

fuzz_target!(|data: &[u8]| {
    session_oracle::session_input(data);
});

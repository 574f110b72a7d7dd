//! Integration tests of the session state machine: an ESME and an SMSC session wired back
//! to back on a virtual clock ([`pair`]), one behaviour per test, plus property tests.

mod pair;

mod bind;
mod close;
mod keepalive;
mod outbind;
mod props;
mod protocol_errors;
mod requests;
mod secrets;
mod sequence;
mod stats;

//! A sans-IO SMPP session state machine for both roles, ESME and SMSC.
//!
//! [`Session`] tracks the session state (open, outbound, bound, unbound, closed), enforces
//! which PDU each side may send in each state, numbers requests, matches responses, keeps
//! a window of outstanding requests with a response timer each, runs the bind, keep-alive
//! (enquire_link), inactivity and unbind timers, and answers by itself what the protocol
//! answers by itself (enquire_link, unbind, wrong-state requests, malformed and unknown
//! PDUs).
//!
//! What it never does: no sockets, no threads, no channels, no clock reads. Bytes and time
//! come in as arguments (`now: Instant`), bytes and events go out through `poll_*` calls,
//! so one core serves a blocking loop, a mio event loop or an async task alike, and every
//! behaviour can be tested with a virtual clock.
//!
//! # The drive loop
//!
//! One rule: **after any call that takes `&mut self`, drain `poll_transmit` and
//! `poll_event` until both are empty, then wait** (for bytes, or until `poll_timeout`,
//! then call `handle_timeout`). Answers the application gives while handling events queue
//! in the session and must be written before waiting; after [`Event::Closed`], still write
//! what `poll_transmit` holds. [`Session`] shows a complete loop
//! (`examples/drive_loop.rs`, which `tests/drive_loop.rs` runs against an in-memory peer).
//!
//! Every request the application starts resolves exactly once: a response, a response
//! timeout, or a failure when the session closes. On close, every request still in flight
//! is reported failed before [`Event::Closed`].
//!
//! [`Session::stats`] counts the traffic (PDUs per command and status both ways,
//! timeouts, failures, in-flight gauges, a response-latency histogram);
//! [`Session::handle_input_with`] hands inbound messages over borrowed, without a copy.
//!
//! # Example
//!
//! An ESME session and an SMSC session wired back to back in memory, on a clock that only
//! moves when we say so: bind, one `submit_sm` and its response, a response timeout
//! (`examples/back_to_back.rs`; `cargo run -p smpp-session --example back_to_back`).
//!
#![doc = concat!("```\n", include_str!("../examples/back_to_back.rs"), "```")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod error;
mod event;
mod maps;
mod session;
pub mod state;
pub mod stats;

pub use config::{BindKind, BindRequest, Config};
pub use error::SendError;
pub use event::{CloseReason, Event, FailReason, SequenceNumber, UnexpectedReason};
pub use session::{Delivery, Session, MAX_SEQUENCE_NUMBER};
pub use state::{Role, State};
pub use stats::Stats;

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
//! behaviour can be tested with a virtual clock. See [`Session`] for the drive loop.
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
//! moves when we say so: bind, one `submit_sm` and its response, a response timeout.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use smpp_pdu::{Body, CommandId, CommandStatus, SubmitSm, SubmitSmResp};
//! use smpp_session::{BindKind, BindRequest, Config, Event, Session};
//!
//! /// Moves everything `from` wants to send into `to`.
//! fn wire(now: Instant, from: &mut Session, to: &mut Session) {
//!     let mut bytes = Vec::new();
//!     while from.poll_transmit(&mut bytes).is_some() {}
//!     to.handle_input(now, &bytes);
//! }
//!
//! let mut now = Instant::now();
//! let config = Config::default().response_timeout(Duration::from_secs(5));
//! let mut esme = Session::esme(config.clone(), now);
//! let mut smsc = Session::smsc(config, now);
//!
//! esme.bind(now, BindRequest::new(BindKind::Transceiver, "esme", "secret"))?;
//! wire(now, &mut esme, &mut smsc);
//! let Some(Event::BindRequested { sequence_number, .. }) = smsc.poll_event() else { panic!() };
//! smsc.accept_bind(now, sequence_number, "SMSC")?;
//! wire(now, &mut smsc, &mut esme);
//! assert!(matches!(esme.poll_event(), Some(Event::Bound { .. })));
//!
//! let sm = SubmitSm { destination_addr: "447700900123".into(), short_message: "Hi".into(), ..Default::default() };
//! let seq = esme.send_request(now, Body::from(sm.clone()))?;
//! wire(now, &mut esme, &mut smsc);
//! while let Some(ev) = smsc.poll_event() {
//!     if let Event::Request { sequence_number, .. } = ev {
//!         let resp = SubmitSmResp { message_id: "1".into(), tlvs: vec![] };
//!         smsc.send_response(now, sequence_number, CommandStatus::ESME_ROK, Body::from(resp))?;
//!     }
//! }
//! wire(now, &mut smsc, &mut esme);
//! assert!(matches!(esme.poll_event(), Some(Event::Response { sequence_number, .. }) if sequence_number == seq));
//!
//! // A request nobody answers resolves by itself once its deadline passes.
//! let lost = esme.send_request(now, Body::from(sm))?;
//! now = esme.poll_timeout().expect("a deadline");
//! esme.handle_timeout(now);
//! assert!(matches!(esme.poll_event(), Some(Event::ResponseTimeout { sequence_number, .. }) if sequence_number == lost));
//! let stats = esme.stats();
//! assert_eq!(stats.sent.count(CommandId::SUBMIT_SM), 2);
//! assert_eq!(stats.response_timeouts, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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

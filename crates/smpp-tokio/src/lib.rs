//! SMPP for tokio: an async ESME client on the same sans-IO core as `smpp-client`, and an
//! SMSC server ([`Server`]) on `smpp-smsc`'s sans-IO core and handler API.
//!
//! The protocol and the bookkeeping are not written here. The session
//! (`smpp-session`), the lifecycle layer (tracking, receipts matched to their message,
//! one report per message, reassembly of long MO messages) and the client's rules (text
//! preparation, the window and its backlog, answers to inbound PDUs) are
//! [`smpp_client::core::Core`]'s; this crate drives it from one tokio task per
//! connection, and adds futures and a [`Stream`](futures_core::Stream) of inbound messages.
//!
//! ```no_run
//! use smpp_tokio::{Client, ClientConfig, InboundKind, TextOptions};
//! use smpp_session::BindKind;
//!
//! # async fn run() -> Result<(), smpp_tokio::Error> {
//! let config = ClientConfig::new(BindKind::Transceiver, "esme", "secret");
//! let (client, mut inbound) = Client::connect("127.0.0.1:2775", config).await?;
//! let options = TextOptions::default().reference("otp-42");
//! let sent = client.send_text("MyBrand", "+447700900123", "Your code is 123456", &options).await?;
//! println!("submitted as {:?}", sent.message_ids);
//! while let Some(item) = inbound.recv().await {
//!     if let InboundKind::Report(r) = item {
//!         println!("{}: {}", r.reference, r.outcome);
//!         break;
//!     }
//! }
//! client.unbind().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # How it runs
//!
//! [`Client::connect`] (or [`Client::bind`] on a stream of the caller's) spawns one task
//! that owns the connection: it reads, writes, runs the session's and the lifecycle's
//! timers (`enquire_link` when the link is idle, response timeouts, receipt waits,
//! reassembly), answers every `deliver_sm`/`data_sm`, and resolves each request's future.
//! [`Client`] is a cheap handle to it ([`Clone`], `Send`, `Sync`); every call is a message
//! to the task and a reply. No other thread and no other task.
//!
//! Any number of calls may be pending at once. Up to the window
//! ([`smpp_session::Config::window`]) are in flight on the wire; the rest wait in the order
//! they came, and go as responses free room (a text's segments go together, before later
//! calls). Each future resolves exactly once: with its response, with [`Error::Status`]
//! for an error response, [`Error::Timeout`] after the response timeout, or
//! [`Error::Disconnected`] when the connection is lost first; calls that had not gone out
//! when the connection ended resolve with [`Error::NotSent`] (or [`Error::Closed`] when the
//! task took them after the end), and nothing of them reached the SMSC.
//!
//! # Cancellation
//!
//! Every call is cancellation safe in this sense: dropping its future before the task took
//! the call (while the command channel is full) sends nothing; dropping it after sends the
//! request anyway (it cannot be taken back from the wire), and its result, when it comes,
//! is counted in [`Client::dropped_results`] instead of being delivered. A dropped
//! `send_text` still has its message tracked: its report comes on the [`Inbound`] stream.
//!
//! # Backpressure
//!
//! Inbound items wait in a channel of
//! [`ClientConfig::inbound_capacity`](smpp_client::ClientConfig::inbound_capacity); once it
//! is full the task stops reading from the SMSC (which then stops sending) until the
//! application takes items again. Reading stops for responses too: a program that sends
//! with receipts asked for must read the stream while it sends, or its calls time out
//! once the stream is full (the `tokio_send_many` example reads and sends at once). Nothing is dropped while [`Inbound`] is alive; once it
//! is dropped, items are counted and discarded.
//!
//! # Reconnecting, the rate cap and throttling
//!
//! With [`ClientConfig::reconnect`](smpp_client::ClientConfig::reconnect), a client from
//! [`Client::connect`] makes a dropped connection again (see there). With
//! [`ClientConfig::max_rate`](smpp_client::ClientConfig::max_rate), submits go evenly
//! spaced (every segment of a text counted), the rate halved for a while on a throttling
//! answer: calls wait for their slot as they wait for the window. With
//! [`ThrottlePolicy::Retry`](smpp_client::ThrottlePolicy::Retry) a request or segment
//! answered `ESME_RTHROTTLED` or `ESME_RMSGQFUL` goes again after the backoff, the call
//! resolving with the last answer.
//!
//! With [`ClientConfig::store`](smpp_client::ClientConfig::store) (`smpp_store::open`),
//! tracking is durable as in the blocking client: every change is journaled by a store
//! thread of its own (store I/O is blocking, so it never runs on the runtime), a
//! `send_text` is answered once its message's records are written
//! ([`Error::NotDurable`] after
//! [`ClientConfig::store_timeout`](smpp_client::ClientConfig::store_timeout)), the
//! messages still open in the store are tracked again at connect, a receipt that matches
//! nothing here is looked up there, and when the client ends its open messages are left
//! to the store for a later client or another process.
//!
//! [`Pool`] binds over several accounts from the same configuration file as the blocking
//! pool (see docs/pool.md). Of [`ClientConfig`], this client uses the bind, the session
//! settings, TLS, reconnect and `connect_attempts`, `max_rate`, `throttle`, the text
//! alphabets and addressing, the lifecycle settings, the store, `store_timeout`,
//! `account`, `receipt_items`, `inbound_capacity` and the connect timeout; not
//! `manual_ack`.

#![forbid(unsafe_code)]

mod client;
pub mod pool;
pub mod server;

pub use client::{Client, Inbound};
pub use pool::Pool;
pub use server::Server;
pub use smpp_client::{
    ClientConfig, ClientStats, Error, InboundKind, Outcome, Reference, Report, Sent, TextOptions,
    UnbindOutcome,
};

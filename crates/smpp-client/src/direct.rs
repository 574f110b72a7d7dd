//! A client driven from the caller's thread: [`DirectClient`], generic over any blocking
//! stream (`Read + Write + `[`Timeouts`]: a `TcpStream`, a rustls `StreamOwned`, a test
//! double), owning an ESME [`Session`], its buffers and a [`Lifecycle`] (tracking,
//! receipts, reassembly). No thread, no channel: every call does its work on the calling
//! thread, and nothing happens between calls.
//!
//! Shaped like tungstenite's `WebSocket<S>`: [`DirectClient::submit`],
//! [`DirectClient::request`] and [`DirectClient::send_text`] never block; they put the
//! request in the session's window (or refuse with `WindowFull` when it has no room) and
//! return a handle. [`DirectClient::poll`] does the I/O: it writes what is queued, reads
//! what came, runs the timers, and returns the next [`Event`] (a response, a text's
//! outcome, an inbound message, a report, the close), waiting at most its timeout.
//!
//! The protocol and the bookkeeping are the session's and the lifecycle layer's, exactly as
//! in the threaded [`Client`](crate::Client), held by the sans-IO [`Core`] that the tokio
//! face drives too: this face only moves bytes between the stream and it.
//!
//! # What the caller owes it
//!
//! - **Drive it.** Call [`DirectClient::poll`] (or [`DirectClient::flush`]) at least once
//!   per `enquire_link` interval ([`smpp_session::Config::enquire_link_interval`], 30 s by
//!   default), and keep calling it while requests are in flight. Between calls nothing is
//!   read, written or timed: keep-alives are not sent, receipts are not acknowledged, and
//!   timeouts are noticed late (by as long as the gap). An SMSC that sees no traffic for
//!   its own keep-alive interval may close the connection; its `enquire_link`s wait
//!   unanswered until the next call. Nothing is lost by calling late: a response timeout
//!   still resolves its request, only late, and a dead link shows as
//!   [`Event::Closed`] on the next call.
//! - **Drain the events.** `poll` returns queued events first, without any I/O; it writes
//!   and reads only when none is queued. Requests queued with `submit`/`send_text` go out
//!   at the next `poll` that finds no event queued (or on [`DirectClient::flush`]).
//! - **Give it a blocking stream.** The client bounds every read and write with
//!   [`Timeouts`] (to the earliest of the call's timeout and the session's and
//!   lifecycle's deadlines), so a stalled peer never blocks a call for longer than that. A
//!   non-blocking stream works too (a `WouldBlock` is a wait that ended), but then `poll`
//!   spins until its timeout.
//!
//! Every request resolves exactly once, as an [`Event::Response`] (or, for the segments of
//! a text, within one [`Event::Sent`]): its response, [`Error::Status`] for an error
//! response, [`Error::Timeout`] after the session's response timeout, or
//! [`Error::Disconnected`] when the connection is lost first. [`Event::Closed`] is the last
//! event; every tracked message has had its report by then (expired when its receipts
//! could no longer come), and later calls fail with [`Error::Closed`].
//!
//! Of [`ClientConfig`], the direct client uses the bind, the session settings, the text
//! alphabets and addressing, the lifecycle settings, the rate cap (`max_rate`: submits
//! evenly spaced, lowered for a while on a throttling answer; `has_room` says no until the
//! next slot) and the throttling policy (`throttle`: with `ThrottlePolicy::Retry` a
//! throttled request goes again after the backoff, its handle getting only the last
//! answer). The threaded client's other machinery is not here: no reconnect (bind a new
//! client on a new stream), no store, no manual acknowledgement (every
//! `deliver_sm`/`data_sm` is answered `ESME_ROK` as it is read, after the lifecycle layer
//! saw it).
//!
//! ```no_run
//! use std::time::Duration;
//! use smpp_client::direct::{DirectClient, Event};
//! use smpp_client::{ClientConfig, InboundKind, TextOptions};
//! use smpp_session::BindKind;
//!
//! let config = ClientConfig::new(BindKind::Transceiver, "id", "pw");
//! let mut client = DirectClient::connect("127.0.0.1:2775", config)?;
//! let options = TextOptions::default().registered_delivery(1).reference("otp-42");
//! client.send_text("MyBrand", "+447700900123", "Your code is 123456", &options)?;
//! while let Some(event) = client.poll(Duration::from_secs(30))? {
//!     match event {
//!         Event::Sent { result, .. } => println!("submitted: {result:?}"),
//!         Event::Inbound(InboundKind::Report(r)) => {
//!             println!("{}: {}", r.reference, r.outcome);
//!             break;
//!         }
//!         _ => {}
//!     }
//! }
//! client.unbind()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use log::warn;
use smpp_lifecycle::Lifecycle;
use smpp_pdu::{Body, SubmitSm};
use smpp_session::Session;
use smpp_transport::TransportError;

pub use smpp_transport::blocking::Timeouts;

use crate::core::Core;
pub use crate::core::{Event, RequestId, TextId};
use crate::{ClientConfig, ClientStats, Error, TextOptions, UnbindOutcome};

mod drive;

use drive::READ_CHUNK;

/// An SMPP client (ESME) driven from the caller's thread over a blocking stream `S`; see
/// the [module documentation](self).
///
/// Dropping it drops the stream without an `unbind` (nothing runs on its own to send one):
/// call [`DirectClient::unbind`] for a clean end.
pub struct DirectClient<S> {
    stream: S,
    core: Core,
    /// Encoded PDUs not yet written, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    buf: Vec<u8>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl<S> fmt::Debug for DirectClient<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The core's Debug redacts the password; the stream is left out.
        f.debug_struct("DirectClient")
            .field("core", &self.core)
            .field("unwritten", &(self.out.len() - self.out_pos))
            .finish_non_exhaustive()
    }
}

impl DirectClient<TcpStream> {
    /// Connects over TCP to the first address of `addr` that accepts within
    /// `config.transport.connect_timeout` (Nagle's algorithm off), then binds as
    /// [`DirectClient::bind`] does.
    pub fn connect(addr: impl ToSocketAddrs, config: ClientConfig) -> Result<Self, Error> {
        let stream = smpp_transport::blocking::connect(addr, config.transport.connect_timeout)
            .map_err(|e| Error::Connect(TransportError::Io(e)))?;
        DirectClient::bind(stream, config)
    }
}

impl<S> DirectClient<S> {
    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, mutably. Reading from or writing to it directly corrupts the SMPP
    /// stream; use it for socket options.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Gives the stream back, dropping the session (no unbind: call
    /// [`DirectClient::unbind`] first for a clean end) and whatever was not written.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Whether the session is bound (and not unbinding or closed).
    pub fn is_bound(&self) -> bool {
        self.core.is_bound()
    }

    /// Requests in flight (what the window counts), without the segments waiting for room.
    pub fn in_flight(&self) -> usize {
        self.core.in_flight()
    }

    /// Events queued: the next this many calls to [`DirectClient::poll`] return at once,
    /// without I/O (a caller that timestamps what arrives needs the clock only when this
    /// is 0).
    pub fn queued_events(&self) -> usize {
        self.core.queued_events()
    }

    /// Octets encoded and not yet taken by the stream (a peer that stops reading leaves
    /// them here; requests among them still time out as usual).
    pub fn unwritten(&self) -> usize {
        self.out.len() - self.out_pos + self.core.session().pending_output()
    }

    /// Whether a request may be started now: the session is bound, the window has room and
    /// no text segment is waiting for it. [`DirectClient::submit`] and
    /// [`DirectClient::send_text`] refuse with `WindowFull` otherwise.
    pub fn has_room(&self) -> bool {
        self.core.has_room()
    }

    /// The session (its state, its configuration, its counters).
    pub fn session(&self) -> &Session {
        self.core.session()
    }

    /// The lifecycle layer (the tracker and its counters, the inbox).
    pub fn lifecycle(&self) -> impl std::ops::Deref<Target = Lifecycle> + '_ {
        self.core.lifecycle()
    }

    /// What the client counted: the session's counters, the tracker's, whether it is bound.
    pub fn stats(&self) -> ClientStats {
        self.core.stats()
    }
}

impl<S: Read + Write + Timeouts> DirectClient<S> {
    /// Binds on an already connected stream (plain TCP, TLS, anything blocking), as
    /// `config.bind` says, and returns the bound client. Blocks until the SMSC answers, at
    /// most the session's bind timeout.
    ///
    /// A refused bind is [`Error::BindRejected`]; a stream that fails or closes first is
    /// [`Error::Connect`] (a TLS handshake failure shows here, as an I/O error holding
    /// rustls' reason); no answer in time is [`Error::Timeout`].
    pub fn bind(stream: S, config: ClientConfig) -> Result<Self, Error> {
        if config.store.is_some() {
            warn!("the direct client keeps no store: tracking is in memory only");
        }
        let now = Instant::now();
        // The session closes at its bind timeout; this is a second bound, never reached.
        let limit = now
            + config
                .session
                .bind_timeout
                .max(config.session.response_timeout)
            + Duration::from_secs(1);
        let mut c = DirectClient {
            stream,
            core: Core::bind(config, now)?,
            out: Vec::with_capacity(READ_CHUNK),
            out_pos: 0,
            buf: vec![0; READ_CHUNK],
            read_timeout: None,
            write_timeout: None,
        };
        loop {
            // What came with the bind response (an MO sent at once, say) stays queued for
            // the first poll: the bind itself makes no event.
            match c.core.bind_outcome() {
                Some(Ok(())) => return Ok(c),
                Some(Err(e)) => return Err(e),
                None => {}
            }
            if Instant::now() >= limit {
                return Err(Error::Timeout);
            }
            c.turn(limit, false);
        }
    }

    /// Starts a `submit_sm` and returns its handle; its [`Event::Response`] comes from
    /// [`DirectClient::poll`]. Never blocks: refused with
    /// [`Error::Refused`]`(`[`SendError`](smpp_session::SendError)`::WindowFull)` when the
    /// window has no room (poll, then try again), and as the session says when it is not
    /// bound to submit.
    pub fn submit(&mut self, sm: &SubmitSm<'_>) -> Result<RequestId, Error> {
        self.core.submit(Instant::now(), sm)
    }

    /// Starts any ESME request (`query_sm`, `cancel_sm`, `replace_sm`, `submit_multi`,
    /// `data_sm`, `submit_sm`, `enquire_link`) and returns its handle, as
    /// [`DirectClient::submit`] does. Binds and unbinds go through
    /// [`DirectClient::bind`] and [`DirectClient::unbind`].
    pub fn request(&mut self, body: Body<'_>) -> Result<RequestId, Error> {
        self.core.request(Instant::now(), &body)
    }

    /// Sends a text as the threaded [`Client::send_text`](crate::Client::send_text) does
    /// (encoded, addressed, split, tracked before its first segment goes out, one
    /// [`Report`](crate::Report) when [`TextOptions::registered_delivery`] asks for
    /// receipts), without blocking: returns its handle, and its [`Event::Sent`] comes from
    /// [`DirectClient::poll`] once every segment is answered.
    ///
    /// Accepted when [`DirectClient::has_room`] (else `WindowFull`): the segments that fit
    /// go into the window now, the others as it frees. A text that cannot be prepared or
    /// tracked fails here and nothing is sent; so does one whose first segment the session
    /// refuses (not bound to submit), which the tracker then reports failed.
    ///
    /// [`TextOptions::timeout`] does not apply here: each segment waits at most the
    /// session's response timeout.
    pub fn send_text(
        &mut self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<TextId, Error> {
        self.core.send_text(Instant::now(), from, to, text, options)
    }

    /// Sends one message the caller built as its `submit_sm`s, tracked as
    /// [`DirectClient::send_text`] says (see
    /// [`Client::send_segments`](crate::Client::send_segments)).
    pub fn send_segments(
        &mut self,
        segments: Vec<SubmitSm<'static>>,
        options: &TextOptions,
    ) -> Result<TextId, Error> {
        self.core.send_segments(Instant::now(), segments, options)
    }

    /// Writes what is queued (requests, acknowledgements), bounded by the time it may take
    /// as [`DirectClient::poll`] bounds it, without reading.
    pub fn flush(&mut self) -> Result<(), Error> {
        if self.core.is_closed() && self.core.queued_events() == 0 {
            return Err(Error::Closed);
        }
        let now = Instant::now();
        self.core.handle_timeout(now);
        let wake = self.next_wake(now + Duration::from_secs(1));
        self.write_out(wake);
        Ok(())
    }

    /// The next event, waiting for one at most `timeout` (`Ok(None)` when none came).
    ///
    /// A queued event is returned at once, without I/O. Otherwise each round writes what is
    /// queued, reads what came (waiting no longer than the timeout or the next deadline of
    /// the session or the lifecycle layer), and runs the timers: `enquire_link` when the
    /// link is idle, response timeouts, receipt and reassembly timeouts. After
    /// [`Event::Closed`] has been returned, [`Error::Closed`].
    pub fn poll(&mut self, timeout: Duration) -> Result<Option<Event>, Error> {
        if let Some(e) = self.core.poll_event() {
            return Ok(Some(e));
        }
        if self.core.is_closed() {
            return Err(Error::Closed);
        }
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(86_400));
        loop {
            self.turn(deadline, true);
            if let Some(e) = self.core.poll_event() {
                return Ok(Some(e));
            }
            if self.core.is_closed() {
                return Err(Error::Closed);
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// Unbinds: sends `unbind` and drives the session until the SMSC answers (or closes the
    /// connection, or the unbind timeout passes), then the session is over. Requests still
    /// in flight then fail with [`Error::Disconnected`] (poll until
    /// [`DirectClient::in_flight`] is 0 first to have their responses), segments not sent
    /// yet fail too; every tracked message gets its report. The events stay queued for
    /// [`DirectClient::poll`].
    ///
    /// An SMSC that closes the connection on our `unbind` instead of answering it has
    /// ended the session as asked: `Ok(`[`UnbindOutcome::ClosedByPeer`]`)`.
    pub fn unbind(&mut self) -> Result<UnbindOutcome, Error> {
        let now = Instant::now();
        self.core.unbind(now)?;
        let limit = now + self.core.config().session.unbind_timeout + Duration::from_secs(1);
        while !self.core.is_closed() && Instant::now() < limit {
            self.turn(limit, false);
        }
        if !self.core.is_closed() {
            // Overdue: the session ends here.
            self.core.close(Instant::now());
            return Err(Error::Timeout);
        }
        self.core.unbind_outcome().unwrap_or(Err(Error::Timeout))
    }
}

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
//! in the threaded [`Client`](crate::Client): this face only moves bytes between the stream
//! and them, and turns what they say into [`Event`]s.
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
//! alphabets and addressing, and the lifecycle settings. The threaded client's machinery
//! is not here: no reconnect (bind a new client on a new stream), no store, no rate cap, no
//! throttling retry (an `ESME_RTHROTTLED` answer is the request's error), no manual
//! acknowledgement (every `deliver_sm`/`data_sm` is answered `ESME_ROK` as it is read,
//! after the lifecycle layer saw it).
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

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use smpp_lifecycle::{Lifecycle, LifecycleConfig, SubmitResult, TrackId, UnknownReason};
use smpp_pdu::{
    Body, CommandId, CommandStatus, DataSmResp, DeliverSmResp, GenericNack, Pdu, SubmitSm,
};
use smpp_session::{BindKind, CloseReason, Delivery, SendError, Session};
use smpp_transport::{Outcome, TransportError};

pub use smpp_transport::blocking::Timeouts;

use crate::inbound::{lifecycle_events, route_inbound};
use crate::pending::outcome_to_result;
use crate::texts::{prepare, submit_result};
use crate::{ClientConfig, ClientStats, Error, InboundKind, Sent, TextOptions, UnbindOutcome};

mod drive;
mod events;

use drive::READ_CHUNK;

/// The handle of a request started with [`DirectClient::submit`] or
/// [`DirectClient::request`]: its sequence number, which its [`Event::Response`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u32);

impl RequestId {
    /// The request's sequence number on the wire.
    pub fn sequence_number(self) -> u32 {
        self.0
    }
}

/// The handle of a text sent with [`DirectClient::send_text`], which its [`Event::Sent`]
/// carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TextId(u64);

/// What [`DirectClient::poll`] returns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A request from [`DirectClient::submit`] or [`DirectClient::request`] resolved: its
    /// response, or why there is none ([`Error::Status`] for an error response,
    /// [`Error::Timeout`], [`Error::Disconnected`], [`Error::Failed`]). Exactly once per
    /// request.
    Response {
        /// The request.
        id: RequestId,
        /// Its response or error.
        result: Result<Pdu<'static>, Error>,
    },
    /// A text from [`DirectClient::send_text`] resolved: every segment was answered (or
    /// failed). The message ids in order, or the first segment's error. Its
    /// [`Report`](crate::Report) comes later as an [`Event::Inbound`] when it is tracked.
    Sent {
        /// The text.
        id: TextId,
        /// Its message ids and reference, or the first error.
        result: Result<Sent, Error>,
    },
    /// Something from the SMSC, through the lifecycle layer: a receipt (with what the
    /// tracker made of it), a whole MO message (reassembled), a message's one report,
    /// progress, an unmatched receipt, an incomplete message, or another PDU. Inbound
    /// requests were answered `ESME_ROK` already.
    Inbound(InboundKind),
    /// The session is over; always the last event. Every request was resolved before it.
    Closed {
        /// Why.
        reason: CloseReason,
        /// The stream's error, when an I/O error ended it (a reset, a refused TLS
        /// certificate, ...).
        error: Option<io::Error>,
    },
}

/// A text on its way: its segments' outcomes so far.
struct TextState {
    tracked: Option<TrackId>,
    reference: Option<String>,
    ids: Vec<Option<Result<String, Error>>>,
    remaining: usize,
}

/// An SMPP client (ESME) driven from the caller's thread over a blocking stream `S`; see
/// the [module documentation](self).
///
/// Dropping it drops the stream without an `unbind` (nothing runs on its own to send one):
/// call [`DirectClient::unbind`] for a clean end.
pub struct DirectClient<S> {
    stream: S,
    session: Session,
    life: Lifecycle,
    config: ClientConfig,
    /// Encoded PDUs not yet written, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    buf: Vec<u8>,
    events: VecDeque<Event>,
    /// Texts whose segments are not all answered.
    texts: HashMap<u64, TextState>,
    /// The segment each `submit_sm` in flight carries.
    segments: HashMap<u32, (u64, usize)>,
    /// Segments of accepted texts waiting for room in the window.
    backlog: VecDeque<(u64, usize, SubmitSm<'static>)>,
    next_text: u64,
    next_concat: u16,
    bind_seq: Option<u32>,
    bind_rejected: Option<CommandStatus>,
    unbind_seq: Option<u32>,
    /// Why the session closed, once it has.
    closed: Option<CloseReason>,
    /// The I/O error that ended the connection, for [`Event::Closed`].
    io_error: Option<io::Error>,
    /// The I/O error's kind, kept for [`DirectClient::bind`]'s error after the event took
    /// the error itself.
    io_error_text: Option<(ErrorKind, String)>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    unbind_closed_by_peer: u64,
    /// Session events of one input, handled after it (its allocation is kept).
    later: Vec<smpp_session::Event>,
}

impl<S> fmt::Debug for DirectClient<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The configuration's bind redacts its password; the stream is left out.
        f.debug_struct("DirectClient")
            .field("bind", &self.config.bind)
            .field("state", &self.session.state())
            .field("in_flight", &self.session.in_flight())
            .field("backlog", &self.backlog.len())
            .field("events", &self.events.len())
            .field("closed", &self.closed)
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
        self.session.is_bound() && self.unbind_seq.is_none()
    }

    /// Requests in flight (what the window counts), without the segments waiting for room.
    pub fn in_flight(&self) -> usize {
        self.session.in_flight()
    }

    /// Events queued: the next this many calls to [`DirectClient::poll`] return at once,
    /// without I/O (a caller that timestamps what arrives needs the clock only when this
    /// is 0).
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }

    /// Octets encoded and not yet taken by the stream (a peer that stops reading leaves
    /// them here; requests among them still time out as usual).
    pub fn unwritten(&self) -> usize {
        self.out.len() - self.out_pos + self.session.pending_output()
    }

    /// Whether a request may be started now: the session is bound, the window has room and
    /// no text segment is waiting for it. [`DirectClient::submit`] and
    /// [`DirectClient::send_text`] refuse with `WindowFull` otherwise.
    pub fn has_room(&self) -> bool {
        self.backlog.is_empty()
            && self.is_bound()
            && self.session.in_flight() < self.session.config().window
    }

    /// The session (its state, its configuration, its counters).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The lifecycle layer (the tracker and its counters, the inbox).
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.life
    }

    /// What the client counted: the session's counters, the tracker's, whether it is bound.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            session: self.session.stats(),
            reconnects: 0,
            throttled_retries: 0,
            unbind_closed_by_peer: self.unbind_closed_by_peer,
            connected: self.is_bound(),
            tracker: self.life.tracker().stats(),
            store: None,
        }
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
        let session = Session::esme(config.session.clone(), now);
        let life = Lifecycle::new(LifecycleConfig {
            text: config.text,
            ..config.lifecycle.clone()
        });
        let mut c = DirectClient {
            stream,
            session,
            life,
            config,
            out: Vec::with_capacity(READ_CHUNK),
            out_pos: 0,
            buf: vec![0; READ_CHUNK],
            events: VecDeque::new(),
            texts: HashMap::new(),
            segments: HashMap::new(),
            backlog: VecDeque::new(),
            next_text: 1,
            next_concat: 1,
            bind_seq: None,
            bind_rejected: None,
            unbind_seq: None,
            closed: None,
            io_error: None,
            io_error_text: None,
            read_timeout: None,
            write_timeout: None,
            unbind_closed_by_peer: 0,
            later: Vec::new(),
        };
        let seq = c
            .session
            .bind(now, c.config.bind.clone())
            .map_err(Error::Refused)?;
        c.bind_seq = Some(seq);
        // The session closes at its bind timeout; this is a second bound, never reached.
        let limit = now
            + c.config
                .session
                .bind_timeout
                .max(c.config.session.response_timeout)
            + Duration::from_secs(1);
        loop {
            if c.session.is_bound() {
                c.bind_seq = None;
                // What came with the bind response (an MO sent at once, say) stays queued
                // for the first poll: the bind itself makes no event.
                info!("bound as {:?}", c.config.bind.kind);
                return Ok(c);
            }
            if let Some(status) = c.bind_rejected {
                return Err(Error::BindRejected(status));
            }
            if let Some(reason) = c.closed {
                return Err(match (c.io_error_text.take(), reason) {
                    (Some((kind, text)), _) => {
                        Error::Connect(TransportError::Io(io::Error::new(kind, text)))
                    }
                    (None, CloseReason::BindTimeout) => Error::Timeout,
                    (None, _) => Error::Disconnected,
                });
            }
            if Instant::now() >= limit {
                return Err(Error::Timeout);
            }
            c.turn(limit, false);
        }
    }

    /// Starts a `submit_sm` and returns its handle; its [`Event::Response`] comes from
    /// [`DirectClient::poll`]. Never blocks: refused with
    /// [`Error::Refused`]`(`[`SendError::WindowFull`]`)` when the window has no room (poll,
    /// then try again), and as the session says when it is not bound to submit.
    pub fn submit(&mut self, sm: &SubmitSm<'_>) -> Result<RequestId, Error> {
        self.request(Body::from(sm.clone()))
    }

    /// Starts any ESME request (`query_sm`, `cancel_sm`, `replace_sm`, `submit_multi`,
    /// `data_sm`, `submit_sm`, `enquire_link`) and returns its handle, as
    /// [`DirectClient::submit`] does. Binds and unbinds go through
    /// [`DirectClient::bind`] and [`DirectClient::unbind`].
    pub fn request(&mut self, body: Body<'_>) -> Result<RequestId, Error> {
        if self.closed.is_some() {
            return Err(Error::Closed);
        }
        let id = body.command_id();
        if BindKind::from_command_id(id).is_some() || id == CommandId::UNBIND {
            return Err(Error::Refused(SendError::InvalidState {
                command_id: id,
                state: self.session.state(),
            }));
        }
        // Segments of texts accepted earlier go first.
        if !self.backlog.is_empty() && id.response().is_some() {
            return Err(Error::Refused(SendError::WindowFull));
        }
        self.session
            .send_request(Instant::now(), &body)
            .map(RequestId)
            .map_err(refused)
    }

    /// Sends a text as the threaded [`Client::send_text`](crate::Client::send_text) does
    /// (encoded, addressed, split, tracked before its first segment goes out, one
    /// [`Report`](crate::Report) when [`TextOptions::registered_delivery`] asks for
    /// receipts), without blocking: returns its handle, and its [`Event::Sent`] comes from
    /// [`DirectClient::poll`] once every segment is answered.
    ///
    /// Accepted when [`DirectClient::has_room`] (else
    /// [`Error::Refused`]`(`[`SendError::WindowFull`]`)`): the segments that fit go into
    /// the window now, the others as it frees. A text that cannot be prepared or tracked
    /// fails here and nothing is sent; so does one whose first segment the session refuses
    /// (not bound to submit), which the tracker then reports failed.
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
        if self.closed.is_some() {
            return Err(Error::Closed);
        }
        if !self.has_room() {
            return Err(Error::Refused(if self.unbind_seq.is_some() {
                SendError::Unbinding
            } else if !self.session.is_bound() {
                SendError::InvalidState {
                    command_id: CommandId::SUBMIT_SM,
                    state: self.session.state(),
                }
            } else {
                SendError::WindowFull
            }));
        }
        let concat_ref = self.next_concat;
        self.next_concat = self.next_concat.wrapping_add(1);
        let prepared = prepare(&self.config, concat_ref, from, to, text, options)?;
        let now = Instant::now();
        let reference = prepared.message.reference.clone();
        let n = prepared.segments.len();
        // Tracked before the first segment goes out, so that a receipt racing its response
        // finds the message.
        let tracked = if self.config.lifecycle.tracking {
            let t = self
                .life
                .tracker_mut()
                .submit(now, prepared.message)
                .map_err(Error::Track);
            self.drain_lifecycle();
            Some(t?)
        } else {
            None
        };
        let id = self.next_text;
        self.next_text += 1;
        self.texts.insert(
            id,
            TextState {
                tracked: tracked.as_ref().map(|t| t.id),
                reference: tracked.map(|t| t.reference).or(reference),
                ids: (0..n).map(|_| None).collect(),
                remaining: n,
            },
        );
        let mut segments = prepared.segments.into_iter().enumerate();
        if let Some((_, first)) = segments.next() {
            match self.session.send_request(now, &Body::from(first)) {
                Ok(seq) => {
                    self.segments.insert(seq, (id, 0));
                }
                Err(e) => {
                    // Nothing went: the text fails here (no `Sent` event), and the tracker
                    // reports it failed.
                    if let Some(track) = self.texts.remove(&id).and_then(|t| t.tracked) {
                        for j in 0..n {
                            self.life.tracker_mut().on_submit_result(
                                now,
                                track,
                                j,
                                SubmitResult::NotSent,
                            );
                        }
                    }
                    self.drain_lifecycle();
                    return Err(refused(e));
                }
            }
        }
        for (j, sm) in segments {
            self.backlog.push_back((id, j, sm));
        }
        self.feed_backlog(now);
        Ok(TextId(id))
    }

    /// Writes what is queued (requests, acknowledgements), bounded by the time it may take
    /// as [`DirectClient::poll`] bounds it, without reading.
    pub fn flush(&mut self) -> Result<(), Error> {
        if self.closed.is_some() && self.events.is_empty() {
            return Err(Error::Closed);
        }
        let now = Instant::now();
        self.feed_backlog(now);
        let wake = self.next_wake(now + Duration::from_secs(1));
        self.write_out(wake);
        self.translate(Instant::now());
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
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        if self.closed.is_some() {
            return Err(Error::Closed);
        }
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(86_400));
        loop {
            self.turn(deadline, true);
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            if self.closed.is_some() {
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
        if self.closed.is_some() {
            return Err(Error::Closed);
        }
        let now = Instant::now();
        let seq = self.session.unbind(now).map_err(refused)?;
        self.unbind_seq = Some(seq);
        let limit = now + self.config.session.unbind_timeout + Duration::from_secs(1);
        while self.closed.is_none() && Instant::now() < limit {
            self.turn(limit, false);
        }
        match self.closed {
            Some(CloseReason::Unbound) => {
                info!("unbound");
                Ok(UnbindOutcome::Acknowledged)
            }
            Some(CloseReason::PeerClosed) => {
                info!("the SMSC closed the connection on our unbind; the session is over");
                self.unbind_closed_by_peer += 1;
                Ok(UnbindOutcome::ClosedByPeer)
            }
            Some(CloseReason::UnbindTimeout) | None => {
                if self.closed.is_none() {
                    self.session.close(Instant::now());
                    self.translate(Instant::now());
                }
                Err(Error::Timeout)
            }
            Some(_) => Err(Error::Disconnected),
        }
    }
}

/// A session refusal as the client's error (a closed session is [`Error::Closed`]).
fn refused(e: SendError) -> Error {
    match e {
        SendError::Closed => Error::Closed,
        e => Error::Refused(e),
    }
}

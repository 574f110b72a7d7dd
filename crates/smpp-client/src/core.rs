//! The client's sans-IO core: [`Core`], an ESME [`Session`] and a [`Lifecycle`] (tracking,
//! receipts, reassembly) with the rules every face of this crate and of `smpp-tokio`
//! shares, and no I/O of its own. It is fed bytes, end of stream and `now`, and hands out
//! bytes to write, the next deadline and [`Event`]s, as the session does; a face (the
//! caller-driven [`DirectClient`](crate::direct::DirectClient), the tokio client) adds a
//! stream and a way to wait.
//!
//! What it does beyond the session: texts are prepared (encoded, addressed, split),
//! tracked before their first segment goes out, their segments fed into the window as it
//! frees (a text's segments go in order, before any later request) and their outcomes
//! settled into one [`Event::Sent`]; inbound `deliver_sm`/`data_sm` go through the
//! lifecycle layer and are answered `ESME_ROK`, anything else `generic_nack`; when the
//! session closes, segments never sent fail, every tracked message gets its report, and
//! [`Event::Closed`] comes last.
//!
//! # Driving it
//!
//! After every call that takes `&mut self`, write what [`Core::poll_transmit`] gives and
//! take the events of [`Core::poll_event`]; wait for input or [`Core::poll_timeout`],
//! whichever comes first, then call [`Core::handle_input`] or [`Core::handle_timeout`]
//! (reads that end the stream: [`Core::handle_eof`], [`Core::handle_io_error`]).
//!
//! ```
//! use std::time::Instant;
//! use smpp_client::core::{Core, Event};
//! use smpp_client::ClientConfig;
//! use smpp_session::BindKind;
//!
//! let now = Instant::now();
//! let mut core = Core::bind(ClientConfig::new(BindKind::Transceiver, "id", "pw"), now)?;
//! let mut out = Vec::new();
//! assert!(core.poll_transmit(&mut out)); // the bind_transceiver, to write to the SMSC
//! assert!(core.bind_outcome().is_none()); // waiting for its answer
//! core.handle_eof(now); // the SMSC went away before answering
//! assert!(matches!(core.poll_event(), Some(Event::Closed { .. })));
//! assert!(core.bind_outcome().is_some_and(|r| r.is_err()));
//! # Ok::<(), smpp_client::Error>(())
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, ErrorKind};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use log::{debug, info, warn};
use smpp_lifecycle::{Lifecycle, LifecycleConfig, SubmitResult, TrackId, UnknownReason};
use smpp_pdu::{
    Body, CommandId, CommandStatus, DataSmResp, DeliverSmResp, GenericNack, Pdu, SubmitSm,
};
use smpp_session::{BindKind, CloseReason, Delivery, SendError, Session};
use smpp_transport::{Outcome, TransportError};

pub use crate::store::{open_tracking, Opened, StoreLink, StoreWake};

use crate::inbound::{lifecycle_events, route_inbound};
use crate::pending::outcome_to_result;
use crate::rate::RateLimiter;
use crate::texts::{prepare, submit_result, Prepared};
use crate::{
    ClientConfig, ClientStats, Error, InboundKind, Sent, TextOptions, ThrottlePolicy, UnbindOutcome,
};

mod events;

/// The handle of a request started with [`Core::submit`] or [`Core::request`]: its
/// sequence number, which its [`Event::Response`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub(crate) u32);

impl RequestId {
    /// The request's sequence number on the wire.
    pub fn sequence_number(self) -> u32 {
        self.0
    }
}

/// The handle of a text sent with [`Core::send_text`] (or a message with
/// [`Core::send_segments`]), which its [`Event::Sent`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TextId(pub(crate) u64);

/// What [`Core::poll_event`] returns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A request from [`Core::submit`] or [`Core::request`] resolved: its response, or why
    /// there is none ([`Error::Status`] for an error response, [`Error::Timeout`],
    /// [`Error::Disconnected`], [`Error::Failed`]). Exactly once per request.
    Response {
        /// The request.
        id: RequestId,
        /// Its response or error.
        result: Result<Pdu<'static>, Error>,
    },
    /// A text from [`Core::send_text`] resolved: every segment was answered (or failed).
    /// The message ids in order, or the first segment's error. Its
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

/// An ESME session with its lifecycle layer and no I/O; see the [module
/// documentation](self).
pub struct Core {
    session: Session,
    life: Life,
    config: ClientConfig,
    /// [`ClientConfig::account`], shared with the tracker's keys.
    account: Option<Arc<str>>,
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
    /// The I/O error's kind and text, kept for the bind's error after the event took the
    /// error itself.
    io_error_text: Option<(ErrorKind, String)>,
    unbind_closed_by_peer: u64,
    /// Session events of one input, handled after it (its allocation is kept).
    later: Vec<smpp_session::Event>,
    /// Whether tracked messages stay open when the session closes ([`Core::keep_tracking`]).
    keep_tracking: bool,
    /// Sessions bound again by [`Core::rebind`].
    rebinds: u64,
    /// The counters of the sessions before this one.
    past: smpp_session::Stats,
    /// The rate cap of [`ClientConfig::max_rate`] on submits.
    rate: Option<RateLimiter>,
    /// The latest time a call passed in (for [`Core::has_room`]'s rate check).
    now: Instant,
    /// Under [`ThrottlePolicy::Retry`]: what each request in flight needs to be sent again.
    keep: HashMap<u32, Retry>,
    /// Throttled requests waiting for their turn to go again, with when.
    due: Vec<(Instant, Retry)>,
    /// A resent request's sequence number -> the one its caller holds.
    aliases: HashMap<u32, u32>,
    /// Requests sent again after a throttling answer.
    throttled_retries: u64,
}

/// A request kept to be sent again after a throttling answer.
pub(crate) struct Retry {
    body: Body<'static>,
    /// Resends so far.
    attempt: u32,
    origin: Origin,
}

/// Whose a kept request is.
#[derive(Clone, Copy)]
pub(crate) enum Origin {
    /// A caller's request, by the sequence number its handle holds.
    Raw(u32),
    /// Segment `.1` of text `.0`.
    Segment(u64, usize),
}

/// The lifecycle layer of a core: its own, or one shared with other cores (a pool's).
enum Life {
    Own(Box<Lifecycle>),
    Shared(Arc<Mutex<Lifecycle>>),
}

/// Mutable access to a [`Life`]: the core's own, or the shared one locked.
enum LifeGuard<'a> {
    Own(&'a mut Lifecycle),
    Shared(MutexGuard<'a, Lifecycle>),
}

/// Read access to a [`Life`].
enum LifeRef<'a> {
    Own(&'a Lifecycle),
    Shared(MutexGuard<'a, Lifecycle>),
}

impl std::ops::Deref for LifeGuard<'_> {
    type Target = Lifecycle;
    fn deref(&self) -> &Lifecycle {
        match self {
            LifeGuard::Own(l) => l,
            LifeGuard::Shared(g) => g,
        }
    }
}

impl std::ops::DerefMut for LifeGuard<'_> {
    fn deref_mut(&mut self) -> &mut Lifecycle {
        match self {
            LifeGuard::Own(l) => l,
            LifeGuard::Shared(g) => g,
        }
    }
}

impl std::ops::Deref for LifeRef<'_> {
    type Target = Lifecycle;
    fn deref(&self) -> &Lifecycle {
        match self {
            LifeRef::Own(l) => l,
            LifeRef::Shared(g) => g,
        }
    }
}

/// A shared lifecycle's lock; a poisoned one is taken over (the lifecycle keeps no
/// invariant a panic elsewhere could have left half done that matters more than going on).
fn locked(m: &Mutex<Lifecycle>) -> MutexGuard<'_, Lifecycle> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Life {
    /// The lifecycle to change.
    fn lock(&mut self) -> LifeGuard<'_> {
        match self {
            Life::Own(l) => LifeGuard::Own(l),
            Life::Shared(m) => LifeGuard::Shared(locked(m)),
        }
    }

    /// The lifecycle to read.
    fn read(&self) -> LifeRef<'_> {
        match self {
            Life::Own(l) => LifeRef::Own(l),
            Life::Shared(m) => LifeRef::Shared(locked(m)),
        }
    }
}

/// Whether a request counts against the rate cap (it carries a message).
fn is_submit(id: CommandId) -> bool {
    matches!(
        id,
        CommandId::SUBMIT_SM | CommandId::DATA_SM | CommandId::SUBMIT_MULTI
    )
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The configuration's bind redacts its password.
        f.debug_struct("Core")
            .field("bind", &self.config.bind)
            .field("state", &self.session.state())
            .field("in_flight", &self.session.in_flight())
            .field("backlog", &self.backlog.len())
            .field("events", &self.events.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// A new session that starts its bind as `config.bind` says (the bind PDU waits in
    /// [`Core::poll_transmit`]); [`Core::bind_outcome`] says when it is answered.
    ///
    /// Of [`ClientConfig`], the core uses the bind, the session settings, the text
    /// alphabets and addressing, the lifecycle settings, `receipt_items` and `max_rate`
    /// (submits, `data_sm`s and `submit_multi`s evenly spaced, every segment counted, the
    /// rate halved for a while on a throttling answer) and `throttle` (with
    /// [`ThrottlePolicy::Retry`], a request or segment answered `ESME_RTHROTTLED` or
    /// `ESME_RMSGQFUL` goes again after the backoff, as often as allowed, its caller seeing
    /// only the last answer); a store and reconnecting are the faces' business.
    pub fn bind(config: ClientConfig, now: Instant) -> Result<Core, Error> {
        let life = Lifecycle::new(LifecycleConfig {
            text: config.text,
            ..config.lifecycle.clone()
        });
        Core::bind_on(config, now, Life::Own(Box::new(life)))
    }

    /// [`Core::bind`] with a lifecycle layer shared with other cores (the binds of a
    /// pool): a receipt read by any of them is matched to a message any of them sent, and
    /// the reports come from whichever core read what completed them. Tracking is kept
    /// across closes ([`Core::keep_tracking`]): the owner of the lifecycle reports what is
    /// left open when the last core is done ([`Lifecycle::expire_all`]).
    pub fn bind_shared(
        config: ClientConfig,
        now: Instant,
        life: Arc<Mutex<Lifecycle>>,
    ) -> Result<Core, Error> {
        let mut core = Core::bind_on(config, now, Life::Shared(life))?;
        core.keep_tracking = true;
        Ok(core)
    }

    fn bind_on(config: ClientConfig, now: Instant, life: Life) -> Result<Core, Error> {
        let session = Session::esme(config.session.clone(), now);
        let config_rate = config.max_rate.map(|r| RateLimiter::new(r, now));
        let mut c = Core {
            session,
            life,
            account: config.account.as_deref().map(Arc::from),
            config,
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
            unbind_closed_by_peer: 0,
            later: Vec::new(),
            keep_tracking: false,
            rebinds: 0,
            past: smpp_session::Stats::default(),
            rate: config_rate,
            now,
            keep: HashMap::new(),
            due: Vec::new(),
            aliases: HashMap::new(),
            throttled_retries: 0,
        };
        let seq = c
            .session
            .bind(now, c.config.bind.clone())
            .map_err(Error::Refused)?;
        c.bind_seq = Some(seq);
        Ok(c)
    }

    /// Keeps tracked messages open when the session closes, for a face that binds again
    /// ([`Core::rebind`]): their receipts may come on the next session. Off by default:
    /// a close reports every open message (expired). A face that keeps them calls
    /// [`Core::expire_open`] when it gives up for good.
    pub fn keep_tracking(&mut self, on: bool) {
        self.keep_tracking = on;
    }

    /// After the session closed: a new session on a new connection, starting its bind as
    /// [`Core::bind`] does, with the same lifecycle layer (open messages, held receipts,
    /// partial MO messages) and counters. [`Error::Refused`] while the session is still
    /// open.
    pub fn rebind(&mut self, now: Instant) -> Result<(), Error> {
        if self.closed.is_none() {
            return Err(Error::Refused(SendError::InvalidState {
                command_id: self.config.bind.kind.command_id(),
                state: self.session.state(),
            }));
        }
        let mut session = Session::esme(self.config.session.clone(), now);
        let seq = session
            .bind(now, self.config.bind.clone())
            .map_err(Error::Refused)?;
        self.past.merge(&self.session.stats());
        self.session = session;
        self.bind_seq = Some(seq);
        self.bind_rejected = None;
        self.unbind_seq = None;
        self.closed = None;
        self.io_error = None;
        self.io_error_text = None;
        self.rebinds += 1;
        Ok(())
    }

    /// Reports every open tracked message now (expired: no receipt will be read any
    /// more), for a face that kept them open ([`Core::keep_tracking`]) and gives up. With
    /// a shared lifecycle ([`Core::bind_shared`]) it does nothing: the other cores may
    /// still read their receipts, and the lifecycle's owner decides.
    pub fn expire_open(&mut self, now: Instant) {
        if let Life::Shared(_) = self.life {
            return;
        }
        self.life.lock().expire_all(now);
        self.drain_lifecycle();
    }

    /// Where the bind stands: `None` while its answer is awaited, `Some(Ok(()))` once
    /// bound, and an error when it was refused ([`Error::BindRejected`]), timed out
    /// ([`Error::Timeout`]) or the connection ended first ([`Error::Connect`] holding the
    /// stream's error, else [`Error::Disconnected`]).
    pub fn bind_outcome(&mut self) -> Option<Result<(), Error>> {
        if self.session.is_bound() {
            if self.bind_seq.take().is_some() {
                info!("bound as {:?}", self.config.bind.kind);
            }
            return Some(Ok(()));
        }
        if let Some(status) = self.bind_rejected {
            return Some(Err(Error::BindRejected(status)));
        }
        let reason = self.closed?;
        Some(Err(match (&self.io_error_text, reason) {
            (Some((kind, text)), _) => {
                Error::Connect(TransportError::Io(io::Error::new(*kind, text.clone())))
            }
            (None, CloseReason::BindTimeout) => Error::Timeout,
            (None, _) => Error::Disconnected,
        }))
    }

    /// Starts a `submit_sm` and returns its handle; its [`Event::Response`] comes from
    /// [`Core::poll_event`]. Refused with [`Error::Refused`]`(`[`SendError::WindowFull`]`)`
    /// when the window has no room, and as the session says when it is not bound to
    /// submit.
    pub fn submit(&mut self, now: Instant, sm: &SubmitSm<'_>) -> Result<RequestId, Error> {
        self.request(now, &Body::from(sm.clone()))
    }

    /// Starts any ESME request (`query_sm`, `cancel_sm`, `replace_sm`, `submit_multi`,
    /// `data_sm`, `submit_sm`, `enquire_link`) and returns its handle, as
    /// [`Core::submit`] does. Binds and unbinds go through [`Core::bind`] and
    /// [`Core::unbind`].
    pub fn request(&mut self, now: Instant, body: &Body<'_>) -> Result<RequestId, Error> {
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
        self.tick(now);
        let capped = is_submit(id);
        if capped && !self.rate_ready() {
            return Err(Error::Refused(SendError::WindowFull));
        }
        let seq = self.session.send_request(now, body).map_err(refused)?;
        if capped {
            self.take_slot();
        }
        self.keep_for_retry(seq, Origin::Raw(seq), body);
        Ok(RequestId(seq))
    }

    /// Whether throttled requests are sent again ([`ThrottlePolicy::Retry`]).
    pub(crate) fn retrying(&self) -> bool {
        matches!(self.config.throttle, ThrottlePolicy::Retry { attempts, .. } if attempts > 0)
    }

    /// Under the retry policy, keeps the request sent as `seq` for sending again.
    pub(crate) fn keep_for_retry(&mut self, seq: u32, origin: Origin, body: &Body<'_>) {
        if self.retrying() {
            let retry = Retry {
                body: body.clone().into_owned(),
                attempt: 0,
                origin,
            };
            self.keep.insert(seq, retry);
        }
    }

    /// A response (or its absence) for `seq`: under the retry policy a throttling answer
    /// puts the request back in line for its turn (true: nothing else to do with it).
    pub(crate) fn held_for_retry(
        &mut self,
        now: Instant,
        seq: u32,
        result: &Result<Pdu<'static>, Error>,
    ) -> bool {
        let Some(kept) = self.keep.remove(&seq) else {
            return false;
        };
        let ThrottlePolicy::Retry { attempts, backoff } = self.config.throttle else {
            return false;
        };
        let throttled = matches!(result, Err(Error::Status(s)) if crate::pending::is_throttled(*s));
        if !throttled || kept.attempt >= attempts {
            return false;
        }
        // A deterministic spread in [0, 1) for the jitter (no generator in the core).
        let unit =
            (u64::from(seq).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
        let at = now + backoff.delay_with_jitter(kept.attempt, unit);
        debug!("seq {seq} throttled: sent again in {:?}", at - now);
        if let Origin::Segment(..) = kept.origin {
            self.segments.remove(&seq);
        }
        self.aliases.remove(&seq);
        self.throttled_retries += 1;
        self.due.push((at, kept));
        true
    }

    /// Sends the throttled requests whose turn came, while the window and the rate cap
    /// have room.
    pub(crate) fn resend_due(&mut self, now: Instant) {
        while let Some(i) = self
            .due
            .iter()
            .enumerate()
            .filter(|(_, (at, _))| *at <= now)
            .min_by_key(|(_, (at, _))| *at)
            .map(|(i, _)| i)
        {
            if self.session.in_flight() >= self.session.config().window || !self.rate_ready() {
                return;
            }
            let (_, mut r) = self.due.swap_remove(i);
            r.attempt += 1;
            match self.session.send_request(now, &r.body) {
                Ok(seq) => {
                    if is_submit(r.body.command_id()) {
                        self.take_slot();
                    }
                    match r.origin {
                        Origin::Raw(original) => {
                            self.aliases.insert(seq, original);
                        }
                        Origin::Segment(id, j) => {
                            self.segments.insert(seq, (id, j));
                        }
                    }
                    self.keep.insert(seq, r);
                }
                Err(e) => self.give_up_retry(now, r, refused(e)),
            }
        }
    }

    /// A kept request that will not go again: its caller gets `e`.
    pub(crate) fn give_up_retry(&mut self, now: Instant, r: Retry, e: Error) {
        match r.origin {
            Origin::Raw(original) => self.events.push_back(Event::Response {
                id: RequestId(original),
                result: Err(e),
            }),
            Origin::Segment(id, j) => self.segment_done(now, id, j, Err(e), SubmitResult::NotSent),
        }
    }

    /// Moves the core's notion of now forward.
    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// Whether the rate cap lets a submit go now.
    pub(crate) fn rate_ready(&self) -> bool {
        self.rate.as_ref().is_none_or(|r| r.next_slot() <= self.now)
    }

    /// A submit went: the next one waits its turn.
    pub(crate) fn take_slot(&mut self) {
        let now = self.now;
        if let Some(r) = self.rate.as_mut() {
            let _ = r.reserve(now);
        }
    }

    /// Sends a text as the threaded [`Client::send_text`](crate::Client::send_text) does
    /// (encoded, addressed, split, tracked before its first segment goes out, one
    /// [`Report`](crate::Report) when [`TextOptions::registered_delivery`] asks for
    /// receipts): returns its handle, and its [`Event::Sent`] comes once every segment is
    /// answered.
    ///
    /// Accepted when [`Core::has_room`] (else
    /// [`Error::Refused`]`(`[`SendError::WindowFull`]`)`): the segments that fit go into
    /// the window now, the others as it frees. A text that cannot be prepared or tracked
    /// fails here and nothing is sent; so does one whose first segment the session refuses
    /// (not bound to submit), which the tracker then reports failed.
    ///
    /// [`TextOptions::timeout`] does not apply here: each segment waits at most the
    /// session's response timeout.
    pub fn send_text(
        &mut self,
        now: Instant,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<TextId, Error> {
        self.tick(now);
        self.check_room()?;
        let concat_ref = self.next_concat;
        self.next_concat = self.next_concat.wrapping_add(1);
        let prepared = prepare(&self.config, concat_ref, from, to, text, options)?;
        self.send_prepared(now, prepared)
    }

    /// Sends one message the caller built as its `submit_sm`s, tracked as
    /// [`Core::send_text`] says (see
    /// [`Client::send_segments`](crate::Client::send_segments)); no segment, or more than
    /// 255, is [`Error::Segments`].
    pub fn send_segments(
        &mut self,
        now: Instant,
        segments: Vec<SubmitSm<'static>>,
        options: &TextOptions,
    ) -> Result<TextId, Error> {
        self.tick(now);
        self.check_room()?;
        let prepared = crate::texts::prepare_segments(segments, options)?;
        self.send_prepared(now, prepared)
    }

    /// Starts the unbind; [`Core::unbind_outcome`] says how it ended. Requests still in
    /// flight when the session closes fail with [`Error::Disconnected`], segments not sent
    /// yet fail too, and every tracked message gets its report.
    pub fn unbind(&mut self, now: Instant) -> Result<(), Error> {
        if self.closed.is_some() {
            return Err(Error::Closed);
        }
        let seq = self.session.unbind(now).map_err(refused)?;
        self.unbind_seq = Some(seq);
        Ok(())
    }

    /// How the unbind ended, once the session is closed (`None` before): acknowledged,
    /// or closed by the SMSC in answer (which ends the session as asked), else
    /// [`Error::Timeout`] or [`Error::Disconnected`].
    pub fn unbind_outcome(&self) -> Option<Result<UnbindOutcome, Error>> {
        Some(match self.closed? {
            CloseReason::Unbound => Ok(UnbindOutcome::Acknowledged),
            CloseReason::PeerClosed if self.unbind_seq.is_some() => Ok(UnbindOutcome::ClosedByPeer),
            CloseReason::UnbindTimeout => Err(Error::Timeout),
            _ => Err(Error::Disconnected),
        })
    }

    /// Ends the session at once, without an unbind (what a face does when the unbind's
    /// answer is overdue): every request fails, every tracked message gets its report,
    /// then [`Event::Closed`].
    pub fn close(&mut self, now: Instant) {
        if self.closed.is_none() {
            self.session.close(now);
            self.translate(now);
        }
    }

    /// Feeds octets read from the stream: responses, inbound requests (answered), the
    /// lifecycle layer's output, all as events; then runs the timers that are due.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        self.tick(now);
        self.feed(now, bytes);
        self.handle_timeout(now);
    }

    /// Runs what is due at `now`: the session's timers (`enquire_link`, response
    /// timeouts), the lifecycle's (receipt waits, reassembly), and the backlog of segments.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
        }
        {
            let mut life = self.life.lock();
            if life.poll_timeout().is_some_and(|t| t <= now) {
                life.handle_timeout(now);
            }
        }
        self.resend_due(now);
        self.feed_backlog(now);
        self.translate(now);
    }

    /// The stream ended (the SMSC closed it): the session closes.
    pub fn handle_eof(&mut self, now: Instant) {
        debug!("the SMSC closed the connection");
        self.session.handle_eof(now);
        self.translate(now);
    }

    /// The stream failed: the connection is lost, and every request with it; the error
    /// is kept for [`Event::Closed`] and the bind's outcome.
    pub fn handle_io_error(&mut self, now: Instant, e: io::Error) {
        if self.closed.is_some() {
            return;
        }
        warn!("connection lost: {e}");
        self.io_error_text = Some((e.kind(), e.to_string()));
        self.io_error = Some(e);
        self.session.handle_eof(now);
        self.translate(now);
    }

    /// Appends everything the session has to send to `out`; whether there was anything.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> bool {
        let mut any = false;
        while self.session.poll_transmit(out).is_some() {
            any = true;
        }
        any
    }

    /// Whether [`Core::poll_transmit`] has something to give.
    pub fn has_transmit(&self) -> bool {
        self.session.has_transmit()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest deadline of the session and the lifecycle layer: call
    /// [`Core::handle_timeout`] then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        // The rate cap's next slot, while it holds a send back (a segment waiting, or a
        // caller told there is no room): room comes then.
        let slot = self
            .rate
            .as_ref()
            .map(RateLimiter::next_slot)
            .filter(|&t| t > self.now);
        // A throttled request's turn: in the future, or (already due) when the window and
        // the rate have room for it; one due with no room waits for a response, which brings
        // room and runs the core anyway.
        let room = self.session.in_flight() < self.session.config().window;
        let retry = self
            .due
            .iter()
            .map(|(at, _)| *at)
            .filter(|&t| t > self.now || (room && self.rate_ready()))
            .min();
        [
            self.session.poll_timeout(),
            self.life.read().poll_timeout(),
            slot,
            retry,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether the session is over ([`Event::Closed`] was queued).
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Whether the session is bound (and not unbinding or closed).
    pub fn is_bound(&self) -> bool {
        self.session.is_bound() && self.unbind_seq.is_none()
    }

    /// Requests in flight (what the window counts), without the segments waiting for room.
    pub fn in_flight(&self) -> usize {
        self.session.in_flight()
    }

    /// Events queued for [`Core::poll_event`].
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }

    /// Whether a request may be started now: the session is bound, the window has room, no
    /// text segment is waiting for it, and the rate cap (if any) lets a submit go (as of
    /// the latest `now` passed in; [`Core::poll_timeout`] says when it will). [`Core::submit`] and [`Core::send_text`] refuse
    /// with `WindowFull` otherwise.
    pub fn has_room(&self) -> bool {
        self.backlog.is_empty()
            && self.is_bound()
            && self.session.in_flight() < self.session.config().window
            && self.rate_ready()
    }

    /// The session (its state, its configuration, its counters).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The lifecycle layer (the tracker and its counters, the inbox), locked while the
    /// guard lives when it is shared.
    pub fn lifecycle(&self) -> impl std::ops::Deref<Target = Lifecycle> + '_ {
        self.life.read()
    }

    /// The configuration it was bound with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// What it counted: the session's counters (summed over every session since
    /// [`Core::bind`]), the tracker's, whether it is bound.
    pub fn stats(&self) -> ClientStats {
        let mut session = self.past.clone();
        session.merge(&self.session.stats());
        ClientStats {
            session,
            reconnects: self.rebinds,
            throttled_retries: self.throttled_retries,
            unbind_closed_by_peer: self.unbind_closed_by_peer,
            connected: self.is_bound(),
            tracker: self.life.read().tracker().stats(),
            store: None,
            rate_now: self.rate.as_ref().map(|r| r.current_at(self.now)),
        }
    }

    /// Refuses a text when there is no room for it, saying why.
    fn check_room(&self) -> Result<(), Error> {
        if self.closed.is_some() {
            return Err(Error::Closed);
        }
        if self.has_room() {
            return Ok(());
        }
        Err(Error::Refused(if self.unbind_seq.is_some() {
            SendError::Unbinding
        } else if !self.session.is_bound() {
            SendError::InvalidState {
                command_id: CommandId::SUBMIT_SM,
                state: self.session.state(),
            }
        } else {
            SendError::WindowFull
        }))
    }

    /// Tracks a prepared message and puts its segments into the window (or the backlog).
    fn send_prepared(&mut self, now: Instant, prepared: Prepared) -> Result<TextId, Error> {
        let n = prepared.segments.len();
        let tracking = self.config.lifecycle.tracking;
        // Untracked, the reference comes back as given; tracked, from the tracker.
        let reference = match &prepared.message.reference {
            Some(r) if !tracking => Some(String::from(&**r)),
            _ => None,
        };
        // Tracked before the first segment goes out, so that a receipt racing its response
        // finds the message.
        let tracked = if tracking {
            let t = self
                .life
                .lock()
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
                reference: tracked.map(|t| String::from(&*t.reference)).or(reference),
                ids: (0..n).map(|_| None).collect(),
                remaining: n,
            },
        );
        let mut segments = prepared.segments.into_iter().enumerate();
        if let Some((_, first)) = segments.next() {
            let body = Body::from(first);
            match self.session.send_request(now, &body) {
                Ok(seq) => {
                    self.take_slot();
                    self.segments.insert(seq, (id, 0));
                    self.keep_for_retry(seq, Origin::Segment(id, 0), &body);
                }
                Err(e) => {
                    // Nothing went: the text fails here (no `Sent` event), and the tracker
                    // reports it failed.
                    if let Some(track) = self.texts.remove(&id).and_then(|t| t.tracked) {
                        for j in 0..n {
                            self.life.lock().tracker_mut().on_submit_result(
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

    /// Feeds octets to the session. While only raw requests are out (no text's segment,
    /// no bind or unbind), the responses at the head of the input become events straight
    /// from the borrowed input (one copy each, into the event), as long as nothing else
    /// comes between them; everything from the first other delivery on is handled in
    /// order as [`Core::translate`] does. The order of the events is the session's either
    /// way.
    fn feed(&mut self, now: Instant, bytes: &[u8]) {
        let fast = self.segments.is_empty()
            && self.bind_seq.is_none()
            && self.unbind_seq.is_none()
            && self.keep.is_empty();
        let mut later = std::mem::take(&mut self.later);
        let (session, events) = (&mut self.session, &mut self.events);
        let mut direct = fast;
        let mut throttled = false;
        session.handle_input_with(now, bytes, |d| match d {
            Delivery::Response {
                sequence_number,
                pdu,
                ..
            } if direct => {
                throttled |= crate::pending::is_throttled(pdu.command_status);
                events.push_back(Event::Response {
                    id: RequestId(sequence_number),
                    result: outcome_to_result(Outcome::Response(pdu.into_owned())),
                });
            }
            other => {
                direct = false;
                later.push(other.into_event());
            }
        });
        if let (true, Some(rate)) = (throttled, self.rate.as_mut()) {
            rate.throttled(now);
        }
        for ev in later.drain(..) {
            self.on_session_event(now, ev);
        }
        self.later = later;
    }
}

/// What a lifecycle layer has to say, as the inbound items every face hands out (reports,
/// progress, unmatched receipts, whole MO messages, incomplete ones): for the owner of a
/// shared lifecycle ([`Core::bind_shared`]) that drives it itself, after
/// [`Lifecycle::expire_all`] say.
pub fn lifecycle_items(life: &mut Lifecycle) -> Vec<InboundKind> {
    lifecycle_events(life).collect()
}

/// A session refusal as the client's error (a closed session is [`Error::Closed`]).
fn refused(e: SendError) -> Error {
    match e {
        SendError::Closed => Error::Closed,
        e => Error::Refused(e),
    }
}

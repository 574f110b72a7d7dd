//! The session state machine.

use std::collections::VecDeque;
use std::time::Instant;

use log::{debug, info, trace, warn};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    BindReceiver, BindReceiverResp, BindTransceiver, BindTransceiverResp, BindTransmitter,
    BindTransmitterResp, Body, CommandId, CommandStatus, EnquireLink, EnquireLinkResp, GenericNack,
    Header, Outbind, Pdu, Unbind, UnbindResp,
};

use crate::config::{BindKind, BindRequest, Config};
use crate::error::SendError;
use crate::event::{CloseReason, Event, FailReason, SequenceNumber, UnexpectedReason};
use crate::maps::{Deadlines, SeqMap, SeqSet};
use crate::state::{self, Role, State};
use crate::stats::Stats;

/// The largest sequence number; the next one wraps to 1.
pub const MAX_SEQUENCE_NUMBER: u32 = 0x7FFF_FFFF;

/// What started a request we sent, which decides how its resolution is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// The application (`send_request`): resolved by `Response`, `ResponseTimeout` or
    /// `RequestFailed`.
    App,
    /// The application's `bind`: resolved by `Bound`, `BindRejected`, `ResponseTimeout`
    /// or `RequestFailed`.
    Bind(BindKind),
    /// The application's `unbind`: resolved by `Unbound`, `ResponseTimeout` or
    /// `RequestFailed`.
    Unbind,
    /// The session's own keep-alive: never reported.
    KeepAlive,
    /// The session's own unbind after inactivity: never reported.
    InactivityUnbind,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    command_id: CommandId,
    /// When it was sent plus the timeout of its origin (see [`Session::timeout_of`]),
    /// which gives back the send time for the latency histogram.
    deadline: Instant,
    origin: Origin,
}

#[derive(Clone, Debug)]
struct Inbound {
    command_id: CommandId,
    /// For a bind: the ESME's `system_id`.
    system_id: Option<String>,
}

/// A sans-IO SMPP session, for either role.
///
/// It never touches a socket, a thread or the clock: bytes and time come in through
/// `handle_*` calls, and bytes, events and deadlines go out through `poll_*` calls.
///
/// # Method kinds
///
/// - Input: [`Session::handle_input`] (bytes from the peer, in any chunking; or
///   [`Session::handle_input_with`], which hands inbound messages to a callback borrowed
///   from the input, with no copy and no allocation per message),
///   [`Session::handle_timeout`] (time passed; calling it early is harmless),
///   [`Session::handle_eof`] (the peer closed the connection).
/// - Commands: [`Session::bind`], [`Session::send_request`], [`Session::send_response`],
///   [`Session::accept_bind`], [`Session::reject_bind`], [`Session::unbind`],
///   [`Session::outbind`], [`Session::close`]. Misuse returns a [`SendError`] and sends
///   nothing.
/// - Output: [`Session::poll_transmit`] (one encoded PDU at a time),
///   [`Session::poll_event`], [`Session::poll_timeout`].
/// - Getters: [`Session::state`], [`Session::role`], [`Session::is_bound`],
///   [`Session::in_flight`], [`Session::has_transmit`].
///
/// # The drive loop
///
/// One rule: after any call that takes `&mut self` (an input, a timeout, a command, or
/// handling an event), drain `poll_transmit` and `poll_event` until both are empty, then
/// wait, for bytes or until `poll_timeout`, whichever comes first; call `handle_timeout`
/// no later than that instant (early is harmless). Time passed in must never go
/// backwards.
///
/// Two consequences are easy to miss. Answers the application gives while handling events
/// (a `deliver_sm_resp`) queue in the session: write them before waiting, or they wait for
/// the next read or timeout. And `Closed` is the last event but not the last output:
/// still write what `poll_transmit` holds (a final `unbind_resp` or `generic_nack`), then
/// close the connection.
///
/// The loop below (`examples/drive_loop.rs`; `tests/drive_loop.rs` runs its `drive`
/// against an in-memory peer) handles events first, then writes everything, then waits.
///
#[doc = concat!("```no_run\n", include_str!("../examples/drive_loop.rs"), "```")]
#[derive(Debug)]
pub struct Session {
    role: Role,
    config: Config,
    state: State,
    out: Vec<u8>,
    out_head: usize,
    out_lens: VecDeque<usize>,
    rbuf: Vec<u8>,
    events: VecDeque<Event>,
    stats: Stats,
    next_seq: u32,
    in_flight: SeqMap<InFlight>,
    deadlines: Deadlines,
    app_in_flight: usize,
    late: VecDeque<u32>,
    late_set: SeqSet,
    inbound: SeqMap<Inbound>,
    bind_deadline: Option<Instant>,
    bind_seq: Option<u32>,
    keepalive_seq: Option<u32>,
    unbind_seq: Option<u32>,
    last_activity: Instant,
    last_message: Instant,
}

impl Session {
    /// An ESME session on a connection that opened at `now`.
    pub fn esme(config: Config, now: Instant) -> Session {
        Session::new(Role::Esme, config, now)
    }

    /// An SMSC session on a connection that opened at `now`.
    pub fn smsc(config: Config, now: Instant) -> Session {
        Session::new(Role::Smsc, config, now)
    }

    fn new(role: Role, config: Config, now: Instant) -> Session {
        let next_seq = match config.first_sequence_number {
            n @ 1..=MAX_SEQUENCE_NUMBER => n,
            _ => 1,
        };
        Session {
            role,
            bind_deadline: Some(now + config.bind_timeout),
            config,
            state: State::Open,
            out: Vec::new(),
            out_head: 0,
            out_lens: VecDeque::new(),
            rbuf: Vec::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            next_seq,
            in_flight: SeqMap::default(),
            deadlines: Deadlines::default(),
            app_in_flight: 0,
            late: VecDeque::new(),
            late_set: SeqSet::default(),
            inbound: SeqMap::default(),
            bind_seq: None,
            keepalive_seq: None,
            unbind_seq: None,
            last_activity: now,
            last_message: now,
        }
    }

    // ----- getters -----

    /// The session state.
    pub fn state(&self) -> State {
        self.state
    }

    /// ESME or SMSC.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the session is bound.
    pub fn is_bound(&self) -> bool {
        self.state.is_bound()
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// A snapshot of the session's counters (see [`Stats`]), with the gauges
    /// (`in_flight`, `inbound_pending`) filled in as of now.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        self.stats_into(&mut s);
        s
    }

    /// The counters without the gauges, borrowed (no copy): see [`Session::stats`].
    pub fn counters(&self) -> &Stats {
        &self.stats
    }

    /// [`Session::stats`] into `dst`, reusing its allocations.
    pub fn stats_into(&self, dst: &mut Stats) {
        dst.clone_from(&self.stats);
        dst.in_flight = self.app_in_flight as u64;
        dst.inbound_pending = self.inbound.len() as u64;
    }

    /// Application requests awaiting a response (what the window counts).
    pub fn in_flight(&self) -> usize {
        self.app_in_flight
    }

    /// Inbound requests the application has not answered yet.
    pub fn inbound_pending(&self) -> usize {
        self.inbound.len()
    }

    /// Whether encoded PDUs wait in `poll_transmit`.
    pub fn has_transmit(&self) -> bool {
        !self.out_lens.is_empty()
    }

    /// Octets of encoded PDUs waiting in `poll_transmit` (requests and the answers the
    /// session gave by itself). A caller that bounds its output stops feeding input while
    /// this and its own unwritten octets are too many.
    pub fn pending_output(&self) -> usize {
        self.out.len() - self.out_head
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ----- output -----

    /// Appends the next encoded PDU to `buf` and returns its length, or `None` when nothing
    /// is waiting. One PDU per call, so a transport can stop at its high-water mark.
    ///
    /// Poll after every input, command and timeout.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> Option<usize> {
        let len = self.out_lens.pop_front()?;
        if self.out_head == 0 && len == self.out.len() && buf.is_empty() && buf.capacity() >= len {
            // The whole queue is this one PDU and `buf` is empty with room for it: hand over
            // our buffer instead of copying, and keep `buf`'s allocation for the next PDU.
            std::mem::swap(buf, &mut self.out);
            return Some(len);
        }
        buf.extend_from_slice(&self.out[self.out_head..self.out_head + len]);
        self.out_head += len;
        if self.out_head == self.out.len() {
            self.out.clear();
            self.out_head = 0;
        }
        Some(len)
    }

    /// The next event, or `None`. Poll after every input, command and timeout.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest instant at which [`Session::handle_timeout`] has work to do, or `None`.
    ///
    /// Changes after every input, command and timeout.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        let mut t = self.deadlines.first().map(|(d, _)| d);
        let mut consider = |d: Option<Instant>| {
            if let Some(d) = d {
                t = Some(t.map_or(d, |t| t.min(d)));
            }
        };
        if !self.state.is_bound() {
            consider(self.bind_deadline);
        }
        consider(self.keepalive_due());
        consider(self.inactivity_due());
        t
    }

    fn keepalive_due(&self) -> Option<Instant> {
        match self.config.enquire_link_interval {
            Some(i)
                if self.state.is_bound()
                    && self.keepalive_seq.is_none()
                    && self.unbind_seq.is_none() =>
            {
                Some(self.last_activity + i)
            }
            _ => None,
        }
    }

    fn inactivity_due(&self) -> Option<Instant> {
        match self.config.inactivity_timeout {
            Some(i) if self.state.is_bound() && self.unbind_seq.is_none() => {
                Some(self.last_message + i)
            }
            _ => None,
        }
    }

    // ----- commands -----

    /// (ESME) Sends a bind. Allowed when open or after an outbind. Resolved by
    /// [`Event::Bound`], [`Event::BindRejected`], [`Event::ResponseTimeout`] (which also
    /// closes the session) or [`Event::RequestFailed`].
    pub fn bind(
        &mut self,
        now: Instant,
        request: BindRequest,
    ) -> Result<SequenceNumber, SendError> {
        let (system_id, password, system_type, address_range) = (
            request.system_id.as_str(),
            request.password.as_str(),
            request.system_type.as_str(),
            request.address_range.as_str(),
        );
        macro_rules! bind_body {
            ($t:ident) => {
                Body::from($t {
                    system_id: system_id.into(),
                    password: password.into(),
                    system_type: system_type.into(),
                    interface_version: request.interface_version,
                    addr_ton: request.addr_ton,
                    addr_npi: request.addr_npi,
                    address_range: address_range.into(),
                    tlvs: Vec::new(),
                })
            };
        }
        let body = match request.kind {
            BindKind::Transmitter => bind_body!(BindTransmitter),
            BindKind::Receiver => bind_body!(BindReceiver),
            BindKind::Transceiver => bind_body!(BindTransceiver),
        };
        let seq = self.start_bind(now, &body, request.kind)?;
        info!(
            "bind {:?} as {:?} sent (seq {seq})",
            request.kind, request.system_id
        );
        Ok(seq)
    }

    /// Starts a bind request built by [`Session::bind`] or given to
    /// [`Session::send_request`].
    fn start_bind(
        &mut self,
        now: Instant,
        body: &Body<'_>,
        kind: BindKind,
    ) -> Result<SequenceNumber, SendError> {
        self.check_can_start(kind.command_id())?;
        if self.bind_seq.is_some() {
            return Err(SendError::BindInProgress);
        }
        let seq =
            self.start_request(now, body, Origin::Bind(kind), self.config.response_timeout)?;
        self.bind_seq = Some(seq);
        Ok(seq)
    }

    /// Sends a request and returns its sequence number. Resolved exactly once by
    /// [`Event::Response`], [`Event::ResponseTimeout`] or [`Event::RequestFailed`]
    /// (except `alert_notification` and `outbind`, which have no response).
    ///
    /// Refused with a typed error when the session is closed or unbinding, when this role
    /// may not send this PDU in this state, or when the window is full. Binds and unbind
    /// may also be sent through [`Session::bind`] and [`Session::unbind`].
    ///
    /// The body is borrowed: it is encoded into the output at once, and a caller that
    /// must keep it (to queue it while the window is full, or to send it again) keeps it
    /// without a copy.
    pub fn send_request(
        &mut self,
        now: Instant,
        body: &Body<'_>,
    ) -> Result<SequenceNumber, SendError> {
        let id = body.command_id();
        if id.is_response() {
            return Err(SendError::NotARequest(id));
        }
        if let Some(kind) = BindKind::from_command_id(id) {
            return self.start_bind(now, body, kind);
        }
        if id == CommandId::UNBIND {
            return self.unbind(now);
        }
        self.check_can_start(id)?;
        if id.response().is_some() && self.app_in_flight >= self.config.window {
            return Err(SendError::WindowFull);
        }
        let seq = self.start_request(now, body, Origin::App, self.config.response_timeout)?;
        if id == CommandId::OUTBIND {
            self.state = State::Outbound;
        }
        Ok(seq)
    }

    fn check_can_start(&self, id: CommandId) -> Result<(), SendError> {
        if self.state == State::Closed {
            return Err(SendError::Closed);
        }
        if self.unbind_seq.is_some() || self.state == State::Unbound {
            return Err(SendError::Unbinding);
        }
        if !state::may_send_request(self.role, self.state, id) {
            return Err(SendError::InvalidState {
                command_id: id,
                state: self.state,
            });
        }
        Ok(())
    }

    /// Encodes and queues a request; tracks it if it has a response.
    fn start_request(
        &mut self,
        now: Instant,
        body: &Body<'_>,
        origin: Origin,
        timeout: std::time::Duration,
    ) -> Result<SequenceNumber, SendError> {
        let id = body.command_id();
        let seq = self.peek_seq();
        self.enqueue(CommandStatus::ESME_ROK, seq, body)?;
        self.advance_seq();
        trace!("sent seq {seq}: {body:?}");
        self.note_activity(now, id);
        if id.response().is_some() {
            let deadline = now + timeout;
            self.in_flight.insert(
                seq,
                InFlight {
                    command_id: id,
                    deadline,
                    origin,
                },
            );
            self.deadlines.insert(deadline, seq);
            if origin == Origin::App {
                self.app_in_flight += 1;
            }
        }
        Ok(seq)
    }

    /// The next sequence number not in flight (reference §1: 1..=0x7FFFFFFF, wrapping).
    fn peek_seq(&mut self) -> u32 {
        while !self.in_flight.is_empty() && self.in_flight.contains_key(&self.next_seq) {
            self.advance_seq();
        }
        // After a wrap-around the number is new again: a response to it is no longer late.
        if !self.late_set.is_empty() && self.late_set.remove(&self.next_seq) {
            self.late.retain(|&s| s != self.next_seq);
        }
        self.next_seq
    }

    fn advance_seq(&mut self) {
        self.next_seq = if self.next_seq >= MAX_SEQUENCE_NUMBER {
            1
        } else {
            self.next_seq + 1
        };
    }

    #[inline]
    fn enqueue(
        &mut self,
        status: CommandStatus,
        seq: u32,
        body: &Body<'_>,
    ) -> Result<(), SendError> {
        let len = Pdu::encode_parts(status, seq, body, &mut self.out)?;
        self.out_lens.push_back(len);
        if self.config.stats {
            self.stats.sent.add(body.command_id(), status);
        }
        Ok(())
    }

    fn note_activity(&mut self, now: Instant, id: CommandId) {
        self.last_activity = now;
        let keepalive = matches!(
            id,
            CommandId::ENQUIRE_LINK | CommandId::ENQUIRE_LINK_RESP | CommandId::GENERIC_NACK
        );
        if !keepalive {
            self.last_message = now;
        }
    }

    /// Answers an inbound request reported by [`Event::Request`] or
    /// [`Event::BindRequested`]. `body` must be the request's response type (or a
    /// `generic_nack`); with a non-zero `status` a default body is sent header-only.
    ///
    /// On the SMSC side, an `ESME_ROK` bind response binds the session.
    pub fn send_response(
        &mut self,
        now: Instant,
        sequence_number: SequenceNumber,
        status: CommandStatus,
        body: Body<'_>,
    ) -> Result<(), SendError> {
        if self.state == State::Closed {
            return Err(SendError::Closed);
        }
        let got = body.command_id();
        if !got.is_response() {
            return Err(SendError::NotARequest(got));
        }
        // Taken out at once (one lookup) and put back if the response cannot be sent.
        let Some(req) = self.inbound.remove(&sequence_number) else {
            return Err(SendError::UnknownRequest(sequence_number));
        };
        let expected = req.command_id.response().unwrap_or(CommandId::GENERIC_NACK);
        if got != expected && got != CommandId::GENERIC_NACK {
            self.inbound.insert(sequence_number, req);
            return Err(SendError::ResponseMismatch { expected, got });
        }
        if let Err(e) = self.enqueue(status, sequence_number, &body) {
            self.inbound.insert(sequence_number, req);
            return Err(e);
        }
        self.note_activity(now, got);
        trace!("sent seq {sequence_number} status {status:?}: {body:?}");
        if let Some(kind) = BindKind::from_command_id(req.command_id) {
            if status.is_ok() && got != CommandId::GENERIC_NACK && !self.state.is_bound() {
                self.state = state::bound_state(req.command_id).unwrap_or(self.state);
                self.bind_deadline = None;
                let peer = req.system_id.unwrap_or_default();
                info!("bound {kind:?} with {peer:?}");
                self.events.push_back(Event::Bound {
                    kind,
                    peer_system_id: peer,
                    interface_version: None,
                });
            }
        }
        Ok(())
    }

    /// (SMSC) Accepts the bind reported by [`Event::BindRequested`]: answers `ESME_ROK`
    /// with our `system_id` and `sc_interface_version` 0x34, and binds the session.
    pub fn accept_bind(
        &mut self,
        now: Instant,
        sequence_number: SequenceNumber,
        system_id: &str,
    ) -> Result<(), SendError> {
        let body = self.bind_response_body(
            sequence_number,
            system_id,
            vec![Tlv::ScInterfaceVersion(0x34)],
        )?;
        self.send_response(now, sequence_number, CommandStatus::ESME_ROK, body)
    }

    /// (SMSC) Refuses the bind reported by [`Event::BindRequested`] with `status` (for
    /// example `ESME_RBINDFAIL` or `ESME_RINVPASWD`); the response is header-only.
    pub fn reject_bind(
        &mut self,
        now: Instant,
        sequence_number: SequenceNumber,
        status: CommandStatus,
    ) -> Result<(), SendError> {
        // No system_id and no TLVs: an error response goes out header-only.
        let body = self.bind_response_body(sequence_number, "", Vec::new())?;
        self.send_response(now, sequence_number, status, body)
    }

    fn bind_response_body(
        &self,
        seq: SequenceNumber,
        system_id: &str,
        tlvs: Vec<Tlv<'static>>,
    ) -> Result<Body<'static>, SendError> {
        if self.state == State::Closed {
            return Err(SendError::Closed);
        }
        let req = self
            .inbound
            .get(&seq)
            .ok_or(SendError::UnknownRequest(seq))?;
        let system_id = smpp_pdu::COctetString::from(system_id.to_string());
        Ok(match req.command_id {
            CommandId::BIND_TRANSMITTER => Body::from(BindTransmitterResp { system_id, tlvs }),
            CommandId::BIND_RECEIVER => Body::from(BindReceiverResp { system_id, tlvs }),
            CommandId::BIND_TRANSCEIVER => Body::from(BindTransceiverResp { system_id, tlvs }),
            other => {
                return Err(SendError::ResponseMismatch {
                    expected: other,
                    got: CommandId::BIND_TRANSMITTER_RESP,
                })
            }
        })
    }

    /// Starts a graceful unbind: no new requests are accepted; the session closes when the
    /// response arrives (reported as [`Event::Unbound`] then [`Event::Closed`]) or when the
    /// unbind timeout passes. Requests still in flight when it closes fail.
    pub fn unbind(&mut self, now: Instant) -> Result<SequenceNumber, SendError> {
        self.check_can_start(CommandId::UNBIND)?;
        let seq = self.start_request(
            now,
            &Body::from(Unbind::default()),
            Origin::Unbind,
            self.config.unbind_timeout,
        )?;
        self.unbind_seq = Some(seq);
        info!("unbind sent (seq {seq})");
        Ok(seq)
    }

    /// (SMSC, on a connection it opened) Sends outbind, asking the ESME to bind.
    pub fn outbind(
        &mut self,
        now: Instant,
        system_id: &str,
        password: &str,
    ) -> Result<SequenceNumber, SendError> {
        self.send_request(
            now,
            &Body::from(Outbind {
                system_id: system_id.into(),
                password: password.into(),
                tlvs: Vec::new(),
            }),
        )
    }

    /// Closes the session now: every request in flight fails, then [`Event::Closed`].
    pub fn close(&mut self, _now: Instant) {
        self.close_with(CloseReason::Local);
    }

    fn close_with(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        info!("session closed: {reason:?}");
        let mut seqs: Vec<u32> = self.in_flight.keys().copied().collect();
        seqs.sort_unstable();
        for seq in seqs {
            let f = self.in_flight.remove(&seq).expect("listed");
            if let Some(req) = reportable(f.origin, f.command_id) {
                self.stats.requests_failed += 1;
                self.events.push_back(Event::RequestFailed {
                    sequence_number: seq,
                    request: req,
                    reason: FailReason::Closed(reason),
                });
            }
        }
        self.deadlines.clear();
        self.app_in_flight = 0;
        self.inbound.clear();
        self.bind_seq = None;
        self.keepalive_seq = None;
        self.unbind_seq = None;
        self.state = State::Closed;
        self.rbuf = Vec::new();
        self.events.push_back(Event::Closed { reason });
    }

    // ----- input -----

    /// The peer closed the connection.
    pub fn handle_eof(&mut self, _now: Instant) {
        let reason = if self.state == State::Unbound {
            CloseReason::Unbound
        } else {
            CloseReason::PeerClosed
        };
        self.close_with(reason);
    }

    /// Bytes from the peer, in any chunking. Whole PDUs are decoded straight from `bytes`;
    /// only an incomplete tail is copied and kept.
    ///
    /// Inbound requests and responses are queued as owned [`Event`]s for
    /// [`Session::poll_event`]; [`Session::handle_input_with`] hands them over borrowed
    /// instead, without copying a field.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        self.input(now, bytes, &mut Queue);
    }

    /// [`Session::handle_input`], with every event this input produces handed to `deliver`
    /// as it happens instead of being queued, and inbound requests and responses borrowed
    /// from `bytes` (or from the session's buffer of a PDU split across calls) rather
    /// than copied into owned fields: no allocation per message.
    ///
    /// Events queued earlier (by timers or commands) and not yet polled are handed to
    /// `deliver` first, so the order is the one [`Session::poll_event`] would give. Events
    /// produced by later timers and commands queue as usual: keep draining
    /// [`Session::poll_event`] too. A borrowed [`Pdu`] lives only for the call; keep what
    /// you need with [`Pdu::into_owned`].
    ///
    /// ```
    /// use std::time::Instant;
    /// use smpp_pdu::{Body, CommandStatus, SubmitSmResp};
    /// use smpp_session::{Delivery, Session};
    ///
    /// /// Feeds `bytes` to an SMSC session: each request is read in place, and answered
    /// /// once the callback has returned (it cannot call the session).
    /// fn on_bytes(smsc: &mut Session, now: Instant, bytes: &[u8]) {
    ///     let mut to_answer = Vec::new();
    ///     smsc.handle_input_with(now, bytes, |delivery| match delivery {
    ///         Delivery::Request { sequence_number, pdu } => {
    ///             let _ = pdu.command_id(); // fields borrow from `bytes`: no copy
    ///             to_answer.push(sequence_number);
    ///         }
    ///         Delivery::Event(event) => {
    ///             let _ = event; // as `poll_event` would have returned it
    ///         }
    ///         _ => {} // Delivery::Response: one of our requests answered
    ///     });
    ///     for seq in to_answer {
    ///         let resp = Body::from(SubmitSmResp { message_id: "1".into(), tlvs: vec![] });
    ///         let _ = smsc.send_response(now, seq, CommandStatus::ESME_ROK, resp);
    ///     }
    /// }
    /// ```
    pub fn handle_input_with<F>(&mut self, now: Instant, bytes: &[u8], deliver: F)
    where
        F: FnMut(Delivery<'_>),
    {
        let mut sink = Callback(deliver);
        sink.flush(&mut self.events);
        self.input(now, bytes, &mut sink);
        sink.flush(&mut self.events);
    }

    fn input<S: Sink>(&mut self, now: Instant, bytes: &[u8], sink: &mut S) {
        if self.state == State::Closed {
            return;
        }
        if self.rbuf.is_empty() {
            let used = self.process(now, bytes, sink);
            if used < bytes.len() && self.state != State::Closed {
                self.rbuf.extend_from_slice(&bytes[used..]);
            }
        } else {
            let mut buf = std::mem::take(&mut self.rbuf);
            buf.extend_from_slice(bytes);
            let used = self.process(now, &buf, sink);
            if self.state != State::Closed {
                buf.drain(..used);
                self.rbuf = buf;
            }
        }
    }

    fn process<S: Sink>(&mut self, now: Instant, buf: &[u8], sink: &mut S) -> usize {
        let mut pos = 0;
        while self.state != State::Closed {
            let rest = &buf[pos..];
            match Header::peek_with_max(rest, self.config.max_command_length) {
                Ok(None) => break,
                Ok(Some(h)) => {
                    let len = h.command_length as usize;
                    self.on_frame(now, h, &rest[..len], sink);
                    pos += len;
                }
                Err(_) if rest.len() < smpp_pdu::HEADER_LEN => {
                    // Framing is lost, but wait for the whole header so the generic_nack
                    // carries the sequence number however the bytes were split.
                    break;
                }
                Err(e) => {
                    let seq = Header::salvage_sequence_number(rest).unwrap_or(0);
                    warn!("framing lost: {e}");
                    self.send_nack(seq, e.command_status());
                    self.close_with(CloseReason::Framing(e));
                    return buf.len();
                }
            }
        }
        pos
    }

    fn send_nack(&mut self, seq: u32, status: CommandStatus) {
        // A header-only PDU always encodes.
        let _ = self.enqueue(status, seq, &Body::from(GenericNack::default()));
    }

    /// Answers an inbound request with an error status: its own response type, or a
    /// `generic_nack` for PDUs that have none.
    fn reject(&mut self, h: &Header, status: CommandStatus) {
        match h.command_id.response().and_then(Body::empty) {
            Some(body) => {
                let _ = self.enqueue(status, h.sequence_number, &body);
            }
            None => self.send_nack(h.sequence_number, status),
        }
        debug!(
            "rejected {:?} seq {} with {status:?}",
            h.command_id, h.sequence_number
        );
        self.stats.rejected_requests += 1;
        self.events.push_back(Event::Rejected {
            sequence_number: h.sequence_number,
            command_id: h.command_id,
            status,
        });
    }

    fn on_frame<S: Sink>(&mut self, now: Instant, h: Header, frame: &[u8], sink: &mut S) {
        self.note_activity(now, h.command_id);
        if self.config.stats {
            self.stats.received.add(h.command_id, h.command_status);
        }
        if h.command_id.is_response() {
            self.on_response(now, h, frame, sink);
        } else {
            self.on_request(h, frame, sink);
        }
    }

    fn on_request<S: Sink>(&mut self, h: Header, frame: &[u8], sink: &mut S) {
        let pdu = match Pdu::decode_frame(h, frame) {
            Ok(p) => p,
            Err(e) => {
                debug!(
                    "malformed {:?} seq {}: {e}",
                    h.command_id, h.sequence_number
                );
                return self.reject(&h, e.command_status());
            }
        };
        trace!("received {pdu:?}");
        if let Body::Unknown { .. } = pdu.body {
            return self.reject(&h, CommandStatus::ESME_RINVCMDID);
        }
        if let Err(status) = state::may_receive_request(self.role, self.state, h.command_id) {
            return self.reject(&h, status);
        }
        let seq = h.sequence_number;
        match pdu.body {
            Body::EnquireLink(_) => {
                let _ = self.enqueue(
                    CommandStatus::ESME_ROK,
                    seq,
                    &Body::from(EnquireLinkResp::default()),
                );
            }
            Body::Unbind(_) => {
                let _ = self.enqueue(
                    CommandStatus::ESME_ROK,
                    seq,
                    &Body::from(UnbindResp::default()),
                );
                info!("unbind received; unbound");
                self.state = State::Unbound;
                // Unbinds that crossed on the wire: ours is done too, and `Unbound` is its
                // one resolution (it must not also fail when the session closes below).
                if let Some(ours) = self.unbind_seq {
                    if let Some(f) = self.in_flight.get(&ours).copied() {
                        self.finish(ours, f);
                    }
                }
                self.events.push_back(Event::Unbound);
                self.close_with(CloseReason::Unbound);
            }
            Body::Outbind(o) => {
                self.state = State::Outbound;
                self.events.push_back(Event::Outbind {
                    system_id: o.system_id.to_str_lossy().into_owned(),
                    password: o.password.into_owned(),
                });
            }
            Body::AlertNotification(_) => {
                self.events.push_back(Event::Notification {
                    pdu: pdu.into_owned(),
                });
            }
            Body::BindTransmitter(_) | Body::BindReceiver(_) | Body::BindTransceiver(_) => {
                if self
                    .inbound
                    .values()
                    .any(|r| BindKind::from_command_id(r.command_id).is_some())
                {
                    return self.reject(&h, CommandStatus::ESME_RINVBNDSTS);
                }
                let system_id = match &pdu.body {
                    Body::BindTransmitter(b) => b.system_id.to_str_lossy().into_owned(),
                    Body::BindReceiver(b) => b.system_id.to_str_lossy().into_owned(),
                    Body::BindTransceiver(b) => b.system_id.to_str_lossy().into_owned(),
                    _ => String::new(),
                };
                info!("bind {:?} requested by {system_id:?}", h.command_id);
                self.inbound.insert(
                    seq,
                    Inbound {
                        command_id: h.command_id,
                        system_id: Some(system_id),
                    },
                );
                self.events.push_back(Event::BindRequested {
                    sequence_number: seq,
                    pdu: pdu.into_owned(),
                });
            }
            _ => {
                if self.inbound.len() >= self.config.max_inbound_pending {
                    let status = match self.role {
                        Role::Smsc => CommandStatus::ESME_RTHROTTLED,
                        Role::Esme => CommandStatus::ESME_RX_T_APPN,
                    };
                    return self.reject(&h, status);
                }
                if self
                    .inbound
                    .insert(
                        seq,
                        Inbound {
                            command_id: h.command_id,
                            system_id: None,
                        },
                    )
                    .is_some()
                {
                    warn!("peer reused sequence number {seq} of a request still unanswered");
                }
                sink.deliver(
                    &mut self.events,
                    Delivery::Request {
                        sequence_number: seq,
                        pdu,
                    },
                );
            }
        }
    }

    fn on_response<S: Sink>(&mut self, now: Instant, h: Header, frame: &[u8], sink: &mut S) {
        let seq = h.sequence_number;
        let Some(f) = self.in_flight.remove(&seq) else {
            let reason = if self.late_set.contains(&seq) {
                UnexpectedReason::Late
            } else {
                UnexpectedReason::Unknown
            };
            debug!("unexpected {:?} seq {seq} ({reason:?})", h.command_id);
            self.stats.unexpected_responses += 1;
            self.events.push_back(Event::UnexpectedResponse {
                sequence_number: seq,
                command_id: h.command_id,
                status: h.command_status,
                reason,
            });
            return;
        };
        self.finish_removed(seq, f);
        if self.config.stats {
            let timeout = self.timeout_of(f.origin);
            let sent = f.deadline.checked_sub(timeout).unwrap_or(f.deadline);
            self.stats
                .response_latency
                .record(now.saturating_duration_since(sent));
        }
        let expected = f.command_id.response().unwrap_or(CommandId::GENERIC_NACK);
        if h.command_id != expected && h.command_id != CommandId::GENERIC_NACK {
            return self.fail_or_close(seq, f, FailReason::MismatchedResponse(h.command_id));
        }
        let pdu = match Pdu::decode_frame(h, frame) {
            Ok(p) => p,
            Err(e) => return self.fail_or_close(seq, f, FailReason::MalformedResponse(e)),
        };
        trace!("received {pdu:?}");
        match f.origin {
            Origin::App => sink.deliver(
                &mut self.events,
                Delivery::Response {
                    sequence_number: seq,
                    request: f.command_id,
                    pdu,
                },
            ),
            Origin::Bind(kind) => {
                self.bind_seq = None;
                if pdu.command_status.is_ok() && pdu.command_id() != CommandId::GENERIC_NACK {
                    let (peer, version) = match &pdu.body {
                        Body::BindTransmitterResp(b) => {
                            (b.system_id.to_str_lossy().into_owned(), sc_version(&b.tlvs))
                        }
                        Body::BindReceiverResp(b) => {
                            (b.system_id.to_str_lossy().into_owned(), sc_version(&b.tlvs))
                        }
                        Body::BindTransceiverResp(b) => {
                            (b.system_id.to_str_lossy().into_owned(), sc_version(&b.tlvs))
                        }
                        _ => (String::new(), None),
                    };
                    self.state = state::bound_state(f.command_id).unwrap_or(self.state);
                    self.bind_deadline = None;
                    info!("bound {kind:?} to {peer:?}");
                    self.events.push_back(Event::Bound {
                        kind,
                        peer_system_id: peer,
                        interface_version: version,
                    });
                } else {
                    info!("bind rejected: {:?}", pdu.command_status);
                    self.events.push_back(Event::BindRejected {
                        status: pdu.command_status,
                    });
                }
            }
            Origin::Unbind | Origin::InactivityUnbind => {
                self.state = State::Unbound;
                if f.origin == Origin::Unbind {
                    self.events.push_back(Event::Unbound);
                }
                let reason = if f.origin == Origin::Unbind {
                    CloseReason::Unbound
                } else {
                    CloseReason::Inactivity
                };
                self.close_with(reason);
            }
            Origin::KeepAlive => {}
        }
    }

    /// The response timeout a request of this origin was started with (the configuration
    /// never changes, so the deadline minus this is the send time).
    fn timeout_of(&self, origin: Origin) -> std::time::Duration {
        match origin {
            Origin::App | Origin::Bind(_) => self.config.response_timeout,
            Origin::Unbind | Origin::InactivityUnbind => self.config.unbind_timeout,
            Origin::KeepAlive => self.config.enquire_link_timeout,
        }
    }

    /// Forgets a request that got its answer (or gave up waiting).
    fn finish(&mut self, seq: u32, f: InFlight) {
        self.in_flight.remove(&seq);
        self.finish_removed(seq, f);
    }

    /// [`Session::finish`] for a request already taken out of `in_flight`.
    fn finish_removed(&mut self, seq: u32, f: InFlight) {
        self.deadlines.remove(f.deadline, seq);
        match f.origin {
            Origin::App => self.app_in_flight -= 1,
            Origin::Bind(_) => self.bind_seq = None,
            Origin::KeepAlive => self.keepalive_seq = None,
            Origin::Unbind | Origin::InactivityUnbind => self.unbind_seq = None,
        }
    }

    /// A request that cannot be matched with its response: application requests fail; a
    /// failed bind, unbind or keep-alive leaves the session unusable, so it closes.
    fn fail_or_close(&mut self, seq: u32, f: InFlight, reason: FailReason) {
        warn!("request {:?} seq {seq} failed: {reason:?}", f.command_id);
        if let Some(req) = reportable(f.origin, f.command_id) {
            self.stats.requests_failed += 1;
            self.events.push_back(Event::RequestFailed {
                sequence_number: seq,
                request: req,
                reason,
            });
        }
        if f.origin != Origin::App {
            // A bind, unbind or keep-alive whose answer makes no sense leaves the session
            // in an unknown state.
            self.close_with(CloseReason::ProtocolError);
        }
    }

    /// Time passed. Expires requests whose response timer ran out, closes the session when
    /// the bind, keep-alive or unbind timer ran out, sends a keep-alive after the idle
    /// interval, and unbinds after the inactivity timeout. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if !self.state.is_bound() && self.bind_deadline.is_some_and(|d| d <= now) {
            return self.close_with(CloseReason::BindTimeout);
        }
        while let Some((deadline, seq)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            let Some(f) = self.in_flight.get(&seq).copied() else {
                self.deadlines.remove(deadline, seq);
                continue;
            };
            self.finish(seq, f);
            if let Some(req) = reportable(f.origin, f.command_id) {
                self.stats.response_timeouts += 1;
                self.events.push_back(Event::ResponseTimeout {
                    sequence_number: seq,
                    request: req,
                });
            }
            self.remember_late(seq);
            match f.origin {
                Origin::App => {}
                Origin::Bind(_) => return self.close_with(CloseReason::BindTimeout),
                Origin::KeepAlive => return self.close_with(CloseReason::EnquireLinkTimeout),
                Origin::Unbind | Origin::InactivityUnbind => {
                    return self.close_with(CloseReason::UnbindTimeout)
                }
            }
        }
        if self.inactivity_due().is_some_and(|d| d <= now) {
            info!(
                "no message traffic for {:?}; unbinding",
                self.config.inactivity_timeout
            );
            if let Ok(seq) = self.start_request(
                now,
                &Body::from(Unbind::default()),
                Origin::InactivityUnbind,
                self.config.unbind_timeout,
            ) {
                self.unbind_seq = Some(seq);
            }
            return;
        }
        if self.keepalive_due().is_some_and(|d| d <= now) {
            if let Ok(seq) = self.start_request(
                now,
                &Body::from(EnquireLink::default()),
                Origin::KeepAlive,
                self.config.enquire_link_timeout,
            ) {
                trace!("keep-alive enquire_link seq {seq}");
                self.keepalive_seq = Some(seq);
            }
        }
    }

    fn remember_late(&mut self, seq: u32) {
        if self.config.late_response_memory == 0 {
            return;
        }
        if self.late.len() >= self.config.late_response_memory {
            if let Some(old) = self.late.pop_front() {
                self.late_set.remove(&old);
            }
        }
        if self.late_set.insert(seq) {
            self.late.push_back(seq);
        }
    }
}

/// The `command_id` to report a resolution under, or `None` for the session's own requests.
fn reportable(origin: Origin, id: CommandId) -> Option<CommandId> {
    match origin {
        Origin::KeepAlive | Origin::InactivityUnbind => None,
        _ => Some(id),
    }
}

fn sc_version(tlvs: &[Tlv<'_>]) -> Option<u8> {
    tlvs.iter().find_map(|t| match t {
        Tlv::ScInterfaceVersion(v) => Some(*v),
        _ => None,
    })
}

/// What [`Session::handle_input_with`] hands to its callback.
#[derive(Debug)]
#[non_exhaustive]
pub enum Delivery<'a> {
    /// An inbound request for the application, as in [`Event::Request`], borrowed from
    /// the input. Answer it with [`Session::send_response`].
    Request {
        /// The request's sequence number, to answer with.
        sequence_number: SequenceNumber,
        /// The request, borrowing from the input.
        pdu: Pdu<'a>,
    },
    /// The response to one of our requests, as in [`Event::Response`], borrowed from the
    /// input. Resolves the request.
    Response {
        /// The request's sequence number.
        sequence_number: SequenceNumber,
        /// The request's `command_id`.
        request: CommandId,
        /// The response, borrowing from the input.
        pdu: Pdu<'a>,
    },
    /// Any other event, exactly as [`Session::poll_event`] would have returned it.
    Event(Event),
}

impl Delivery<'_> {
    /// The owned [`Event`] that [`Session::poll_event`] would have returned for this
    /// delivery (copies a borrowed PDU with [`Pdu::into_owned`]).
    pub fn into_event(self) -> Event {
        match self {
            Delivery::Request {
                sequence_number,
                pdu,
            } => Event::Request {
                sequence_number,
                pdu: pdu.into_owned(),
            },
            Delivery::Response {
                sequence_number,
                request,
                pdu,
            } => Event::Response {
                sequence_number,
                request,
                pdu: pdu.into_owned(),
            },
            Delivery::Event(e) => e,
        }
    }
}

/// Where decoded requests and responses for the application go.
trait Sink {
    /// Takes a request or a response (never a `Delivery::Event`: those are queued in
    /// `events`, which the sink may drain first to keep the order).
    fn deliver(&mut self, events: &mut VecDeque<Event>, delivery: Delivery<'_>);
}

/// The default: owned events in the queue.
struct Queue;

impl Sink for Queue {
    #[inline]
    fn deliver(&mut self, events: &mut VecDeque<Event>, delivery: Delivery<'_>) {
        events.push_back(delivery.into_event());
    }
}

/// [`Session::handle_input_with`]: everything to a callback, in order.
struct Callback<F>(F);

impl<F: FnMut(Delivery<'_>)> Callback<F> {
    #[inline]
    fn flush(&mut self, events: &mut VecDeque<Event>) {
        while let Some(e) = events.pop_front() {
            (self.0)(Delivery::Event(e));
        }
    }
}

impl<F: FnMut(Delivery<'_>)> Sink for Callback<F> {
    #[inline]
    fn deliver(&mut self, events: &mut VecDeque<Event>, delivery: Delivery<'_>) {
        self.flush(events);
        (self.0)(delivery);
    }
}

//! A test harness: an ESME and an SMSC session wired back to back on a virtual clock.
//!
//! The clock reads `Instant::now()` once, at creation; after that time only moves by
//! additions (`advance`, `advance_to_next_timeout`). Bytes travel through two "wires", one
//! per direction: [`Pair::pull`] moves what each session wants to transmit onto its wire,
//! [`Pair::deliver`] hands (part of) a wire to the other session, optionally in chunks.
//!
//! Every request a test starts through the harness (`esme_send`, `esme_bind`, `unbind`, ...)
//! is recorded, so [`Pair::check_accounting`] can verify that each one resolved exactly
//! once and that `Closed` is the last event and appears at most once.

use std::time::{Duration, Instant};

use smpp_pdu::{
    Body, CommandId, CommandStatus, DeliverSm, Header, Pdu, SubmitSm, SubmitSmResp, HEADER_LEN,
};
use smpp_session::{
    BindKind, BindRequest, CloseReason, Config, Event, Role, SendError, SequenceNumber, Session,
    State,
};

/// One end of the pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Esme,
    Smsc,
}

impl Side {
    pub(crate) fn other(self) -> Side {
        match self {
            Side::Esme => Side::Smsc,
            Side::Smsc => Side::Esme,
        }
    }
}

/// How a request started by the application is expected to resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `send_request`: `Response`, `ResponseTimeout` or `RequestFailed`.
    App,
    /// `bind`: `Bound`, `BindRejected`, `ResponseTimeout` or `RequestFailed`.
    Bind,
    /// `unbind`: `Unbound`, `ResponseTimeout` or `RequestFailed`.
    Unbind,
}

/// A request the application started (one that has a response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Started {
    pub(crate) seq: SequenceNumber,
    pub(crate) command_id: CommandId,
    pub(crate) kind: Kind,
}

/// An ESME and an SMSC session back to back.
pub(crate) struct Pair {
    pub(crate) esme: Session,
    pub(crate) smsc: Session,
    /// The virtual clock.
    pub(crate) now: Instant,
    /// The instant the pair was created.
    pub(crate) t0: Instant,
    /// Every event the ESME reported, in order.
    pub(crate) esme_events: Vec<Event>,
    /// Every event the SMSC reported, in order.
    pub(crate) smsc_events: Vec<Event>,
    /// Requests the ESME application started.
    pub(crate) esme_started: Vec<Started>,
    /// Requests the SMSC application started.
    pub(crate) smsc_started: Vec<Started>,
    /// Bytes on their way from the ESME to the SMSC.
    pub(crate) wire_to_smsc: Vec<u8>,
    /// Bytes on their way from the SMSC to the ESME.
    pub(crate) wire_to_esme: Vec<u8>,
    /// Every byte the ESME transmitted (dropped ones included).
    pub(crate) esme_tx: Vec<u8>,
    /// Every byte the SMSC transmitted (dropped ones included).
    pub(crate) smsc_tx: Vec<u8>,
    /// Deliver in pieces of at most this many bytes (`None`: one piece).
    pub(crate) chunk: Option<usize>,
    /// The SMSC application answers every `Request` with `ESME_ROK`.
    pub(crate) auto_smsc: bool,
    /// The ESME application answers every `Request` with `ESME_ROK`.
    pub(crate) auto_esme: bool,
    /// The SMSC application accepts every bind.
    pub(crate) auto_accept_bind: bool,
    /// Throw away what the ESME transmits.
    pub(crate) drop_esme_output: bool,
    /// Throw away what the SMSC transmits.
    pub(crate) drop_smsc_output: bool,
    esme_seen: usize,
    smsc_seen: usize,
}

/// A submit_sm with a small text.
pub(crate) fn submit(text: &str) -> Body<'static> {
    Body::from(SubmitSm {
        source_addr: "12345".into(),
        destination_addr: "447700900123".into(),
        short_message: text.to_string().into(),
        ..Default::default()
    })
}

/// A deliver_sm with a small text.
pub(crate) fn deliver(text: &str) -> Body<'static> {
    Body::from(DeliverSm {
        source_addr: "447700900123".into(),
        destination_addr: "12345".into(),
        short_message: text.to_string().into(),
        ..Default::default()
    })
}

/// The `ESME_ROK` response body an application would send for a request.
pub(crate) fn ok_response(request: CommandId, seq: SequenceNumber) -> Body<'static> {
    let id = request.response().unwrap_or(CommandId::GENERIC_NACK);
    if id == CommandId::SUBMIT_SM_RESP {
        return Body::from(SubmitSmResp {
            message_id: format!("m{seq}").into(),
            tlvs: Vec::new(),
        });
    }
    Body::empty(id).expect("every known request has a response body")
}

/// Encodes one PDU.
pub(crate) fn encode(pdu: &Pdu<'_>) -> Vec<u8> {
    pdu.to_bytes().expect("test PDUs encode")
}

/// A PDU from raw header fields and body octets, with the right `command_length`.
pub(crate) fn raw(command_id: u32, status: u32, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    Header {
        command_length: (HEADER_LEN + body.len()) as u32,
        command_id: CommandId(command_id),
        command_status: CommandStatus(status),
        sequence_number: seq,
    }
    .encode(&mut v);
    v.extend_from_slice(body);
    v
}

/// The `(command_id, command_status, sequence_number)` of every PDU in a stream.
pub(crate) fn headers(bytes: &[u8]) -> Vec<(CommandId, CommandStatus, u32)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= HEADER_LEN {
        let h = Header::peek_with_max(rest, u32::MAX)
            .expect("well framed")
            .expect("whole");
        out.push((h.command_id, h.command_status, h.sequence_number));
        rest = &rest[h.command_length as usize..];
    }
    assert!(rest.is_empty(), "trailing partial PDU");
    out
}

/// Whether an event resolves a request (the ones with a sequence number, plus the
/// bind/unbind outcomes).
pub(crate) fn is_resolution(e: &Event) -> bool {
    matches!(
        e,
        Event::Response { .. }
            | Event::ResponseTimeout { .. }
            | Event::RequestFailed { .. }
            | Event::Bound { .. }
            | Event::BindRejected { .. }
            | Event::Unbound
    )
}

/// The sequence number and request id of a resolution that carries them.
fn seq_resolution(e: &Event) -> Option<(SequenceNumber, CommandId)> {
    match e {
        Event::Response {
            sequence_number,
            request,
            ..
        }
        | Event::ResponseTimeout {
            sequence_number,
            request,
        }
        | Event::RequestFailed {
            sequence_number,
            request,
            ..
        } => Some((*sequence_number, *request)),
        _ => None,
    }
}

/// The reason of the `Closed` event, if any.
pub(crate) fn closed_reason(events: &[Event]) -> Option<CloseReason> {
    events.iter().find_map(|e| match e {
        Event::Closed { reason } => Some(*reason),
        _ => None,
    })
}

/// Checks, for one session, that every started request resolved exactly once, that no
/// resolution names a request that was not started, and that `Closed` appears at most once
/// and only as the last event. With `require_all`, every request must have resolved (the
/// session must be closed or have nothing in flight).
pub(crate) fn check_accounting(
    role: Role,
    started: &[Started],
    events: &[Event],
    require_all: bool,
) -> Result<(), String> {
    let closed = events
        .iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .count();
    if closed > 1 {
        return Err(format!("Closed {closed} times: {events:#?}"));
    }
    if closed == 1 && !matches!(events.last(), Some(Event::Closed { .. })) {
        return Err(format!("Closed is not the last event: {events:#?}"));
    }
    let mut seqs: Vec<_> = started.iter().map(|s| s.seq).collect();
    seqs.sort_unstable();
    if seqs.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!(
            "a sequence number was handed out twice: {started:?}"
        ));
    }
    for e in events {
        if let Some((seq, req)) = seq_resolution(e) {
            match started.iter().find(|s| s.seq == seq) {
                None => return Err(format!("{e:?} resolves a request never started")),
                Some(s) if s.command_id != req => {
                    return Err(format!("{e:?} names the wrong request for {s:?}"))
                }
                Some(_) => {}
            }
        }
    }
    let count = |seq| {
        events
            .iter()
            .filter(|e| seq_resolution(e).is_some_and(|(s, _)| s == seq))
            .count()
    };
    let bind_outcomes = if role == Role::Esme {
        events
            .iter()
            .filter(|e| matches!(e, Event::Bound { .. } | Event::BindRejected { .. }))
            .count()
    } else {
        0
    };
    let mut binds_without_seq_resolution = 0;
    for s in started {
        let n = count(s.seq);
        match s.kind {
            Kind::App => {
                if n > 1 || (n == 0 && require_all) {
                    return Err(format!(
                        "{s:?} resolved {n} times\nstarted: {started:?}\nevents: {events:#?}"
                    ));
                }
            }
            Kind::Bind => {
                if n > 1 {
                    return Err(format!("{s:?} resolved {n} times: {events:#?}"));
                }
                if n == 0 {
                    binds_without_seq_resolution += 1;
                }
            }
            Kind::Unbind => {
                if n > 1 {
                    return Err(format!("{s:?} resolved {n} times: {events:#?}"));
                }
                let unbound = events.iter().any(|e| matches!(e, Event::Unbound));
                if n == 0 && require_all && !unbound {
                    return Err(format!("{s:?} never resolved: {events:#?}"));
                }
            }
        }
    }
    // Binds are sequential (one at a time), so the outcomes without a sequence number
    // must match the binds that got no other resolution one for one.
    if bind_outcomes > binds_without_seq_resolution
        || (require_all && bind_outcomes != binds_without_seq_resolution)
    {
        return Err(format!(
            "{bind_outcomes} Bound/BindRejected for {binds_without_seq_resolution} binds \
             without another resolution\nstarted: {started:?}\nevents: {events:#?}"
        ));
    }
    Ok(())
}

impl Pair {
    /// A pair with these configurations; nothing sent yet.
    pub(crate) fn new(esme: Config, smsc: Config) -> Pair {
        let now = Instant::now();
        Pair {
            esme: Session::esme(esme, now),
            smsc: Session::smsc(smsc, now),
            now,
            t0: now,
            esme_events: Vec::new(),
            smsc_events: Vec::new(),
            esme_started: Vec::new(),
            smsc_started: Vec::new(),
            wire_to_smsc: Vec::new(),
            wire_to_esme: Vec::new(),
            esme_tx: Vec::new(),
            smsc_tx: Vec::new(),
            chunk: None,
            auto_smsc: false,
            auto_esme: false,
            auto_accept_bind: false,
            drop_esme_output: false,
            drop_smsc_output: false,
            esme_seen: 0,
            smsc_seen: 0,
        }
    }

    /// A pair with default configurations.
    pub(crate) fn default_pair() -> Pair {
        Pair::new(Config::default(), Config::default())
    }

    /// A pair bound in `kind` (auto-accepted, then auto-accept switched back off), with
    /// the events of the bind cleared.
    pub(crate) fn bound(kind: BindKind, esme: Config, smsc: Config) -> Pair {
        let mut p = Pair::new(esme, smsc);
        p.bind(kind);
        p.esme_events.clear();
        p.smsc_events.clear();
        p.esme_started.clear();
        p.esme_tx.clear();
        p.smsc_tx.clear();
        p.esme_seen = 0;
        p.smsc_seen = 0;
        p
    }

    /// Binds this pair in `kind` and asserts both sides are bound.
    pub(crate) fn bind(&mut self, kind: BindKind) {
        let auto = self.auto_accept_bind;
        self.auto_accept_bind = true;
        self.esme_bind(BindRequest::new(kind, "esme", "secret"))
            .expect("bind starts");
        self.drive();
        self.auto_accept_bind = auto;
        let state = match kind {
            BindKind::Transmitter => State::BoundTx,
            BindKind::Receiver => State::BoundRx,
            BindKind::Transceiver => State::BoundTrx,
        };
        assert_eq!(self.esme.state(), state, "{:#?}", self.esme_events);
        assert_eq!(self.smsc.state(), state, "{:#?}", self.smsc_events);
    }

    pub(crate) fn session(&mut self, side: Side) -> &mut Session {
        match side {
            Side::Esme => &mut self.esme,
            Side::Smsc => &mut self.smsc,
        }
    }

    pub(crate) fn events(&self, side: Side) -> &Vec<Event> {
        match side {
            Side::Esme => &self.esme_events,
            Side::Smsc => &self.smsc_events,
        }
    }

    fn started(&mut self, side: Side) -> &mut Vec<Started> {
        match side {
            Side::Esme => &mut self.esme_started,
            Side::Smsc => &mut self.smsc_started,
        }
    }

    // ----- commands that record what they start -----

    /// `send_request` on `side`, recording the request if it has a response.
    pub(crate) fn send(&mut self, side: Side, body: Body<'_>) -> Result<SequenceNumber, SendError> {
        let id = body.command_id();
        let now = self.now;
        let r = self.session(side).send_request(now, &body);
        if let Ok(seq) = r {
            let kind = if BindKind::from_command_id(id).is_some() {
                Some(Kind::Bind)
            } else if id == CommandId::UNBIND {
                Some(Kind::Unbind)
            } else if id.response().is_some() {
                Some(Kind::App)
            } else {
                None
            };
            if let Some(kind) = kind {
                self.started(side).push(Started {
                    seq,
                    command_id: id,
                    kind,
                });
            }
        }
        r
    }

    pub(crate) fn esme_send(&mut self, body: Body<'_>) -> Result<SequenceNumber, SendError> {
        self.send(Side::Esme, body)
    }

    pub(crate) fn smsc_send(&mut self, body: Body<'_>) -> Result<SequenceNumber, SendError> {
        self.send(Side::Smsc, body)
    }

    /// `bind` on the ESME, recorded.
    pub(crate) fn esme_bind(&mut self, req: BindRequest) -> Result<SequenceNumber, SendError> {
        let id = req.kind.command_id();
        let r = self.esme.bind(self.now, req);
        if let Ok(seq) = r {
            self.esme_started.push(Started {
                seq,
                command_id: id,
                kind: Kind::Bind,
            });
        }
        r
    }

    /// `unbind` on `side`, recorded.
    pub(crate) fn unbind(&mut self, side: Side) -> Result<SequenceNumber, SendError> {
        let now = self.now;
        let r = self.session(side).unbind(now);
        if let Ok(seq) = r {
            self.started(side).push(Started {
                seq,
                command_id: CommandId::UNBIND,
                kind: Kind::Unbind,
            });
        }
        r
    }

    // ----- bytes -----

    /// Moves everything both sessions want to transmit onto the wires; returns whether
    /// anything was transmitted.
    pub(crate) fn pull(&mut self) -> bool {
        let mut any = false;
        let mut buf = Vec::new();
        while self.esme.poll_transmit(&mut buf).is_some() {}
        if !buf.is_empty() {
            any = true;
            self.esme_tx.extend_from_slice(&buf);
            if !self.drop_esme_output {
                self.wire_to_smsc.extend_from_slice(&buf);
            }
        }
        buf.clear();
        while self.smsc.poll_transmit(&mut buf).is_some() {}
        if !buf.is_empty() {
            any = true;
            self.smsc_tx.extend_from_slice(&buf);
            if !self.drop_smsc_output {
                self.wire_to_esme.extend_from_slice(&buf);
            }
        }
        any
    }

    /// Hands up to `max` bytes of the wire towards `to` to that session, in pieces of at
    /// most `self.chunk` bytes. Returns how many bytes were delivered.
    pub(crate) fn deliver(&mut self, to: Side, max: usize) -> usize {
        let wire = match to {
            Side::Esme => &mut self.wire_to_esme,
            Side::Smsc => &mut self.wire_to_smsc,
        };
        let n = max.min(wire.len());
        let bytes: Vec<u8> = wire.drain(..n).collect();
        let chunk = self.chunk.unwrap_or(usize::MAX).max(1);
        let now = self.now;
        for piece in bytes.chunks(chunk) {
            self.session(to).handle_input(now, piece);
        }
        n
    }

    /// Injects raw bytes into `to`, as if the peer had sent them.
    pub(crate) fn inject(&mut self, to: Side, bytes: &[u8]) {
        let now = self.now;
        self.session(to).handle_input(now, bytes);
        self.step();
    }

    /// Pulls both outputs, then delivers both wires completely (both directions see the
    /// other's bytes of this round, as on a real full-duplex link). Returns whether any
    /// byte moved.
    pub(crate) fn transfer(&mut self) -> bool {
        let pulled = self.pull();
        let a = self.deliver(Side::Smsc, usize::MAX);
        let b = self.deliver(Side::Esme, usize::MAX);
        pulled || a + b > 0
    }

    /// Drains the events of both sessions into `esme_events` / `smsc_events`; returns
    /// whether there were any.
    pub(crate) fn drain_events(&mut self) -> bool {
        let before = self.esme_events.len() + self.smsc_events.len();
        self.esme_events
            .extend(std::iter::from_fn(|| self.esme.poll_event()));
        self.smsc_events
            .extend(std::iter::from_fn(|| self.smsc.poll_event()));
        self.esme_events.len() + self.smsc_events.len() != before
    }

    /// Lets the automatic applications act on the events they have not seen yet.
    pub(crate) fn auto_respond(&mut self) {
        for side in [Side::Esme, Side::Smsc] {
            let (auto, seen) = match side {
                Side::Esme => (self.auto_esme, self.esme_seen),
                Side::Smsc => (self.auto_smsc, self.smsc_seen),
            };
            let new: Vec<Event> = self.events(side)[seen..].to_vec();
            match side {
                Side::Esme => self.esme_seen += new.len(),
                Side::Smsc => self.smsc_seen += new.len(),
            }
            let now = self.now;
            for e in new {
                match e {
                    Event::Request {
                        sequence_number,
                        pdu,
                    } if auto => {
                        let body = ok_response(pdu.command_id(), sequence_number);
                        let _ = self.session(side).send_response(
                            now,
                            sequence_number,
                            CommandStatus::ESME_ROK,
                            body,
                        );
                    }
                    Event::BindRequested {
                        sequence_number, ..
                    } if side == Side::Smsc && self.auto_accept_bind => {
                        let _ = self.smsc.accept_bind(now, sequence_number, "smsc");
                    }
                    _ => {}
                }
            }
        }
    }

    /// One round: transfer bytes, drain events, let the automatic applications answer.
    /// Returns whether anything happened.
    pub(crate) fn step(&mut self) -> bool {
        let moved = self.transfer();
        let events = self.drain_events();
        self.auto_respond();
        moved || events || self.esme.has_transmit() || self.smsc.has_transmit()
    }

    /// Steps until neither side has anything to send or report (no time passes).
    pub(crate) fn drive(&mut self) {
        for _ in 0..10_000 {
            if !self.step() {
                return;
            }
        }
        panic!("the pair never went idle");
    }

    /// The earliest deadline of either session.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        match (self.esme.poll_timeout(), self.smsc.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Jumps the clock to the earliest deadline of either side, runs both timers and
    /// drives. Returns the new time, or `None` if neither side has a deadline.
    pub(crate) fn advance_to_next_timeout(&mut self) -> Option<Instant> {
        let t = self.next_timeout()?;
        assert!(
            t >= self.now,
            "a deadline in the past: {t:?} < {:?}",
            self.now
        );
        self.now = t;
        self.esme.handle_timeout(t);
        self.smsc.handle_timeout(t);
        self.drive();
        Some(t)
    }

    /// Moves the clock forward by `d`, running every deadline on the way in order.
    pub(crate) fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        let mut rounds = 0;
        while let Some(t) = self.next_timeout() {
            if t > end {
                break;
            }
            self.advance_to_next_timeout();
            rounds += 1;
            assert!(rounds < 100_000, "the timers never settle");
        }
        self.now = end;
        self.esme.handle_timeout(end);
        self.smsc.handle_timeout(end);
        self.drive();
    }

    /// Runs timers until both sessions are closed (or `limit` of virtual time passed).
    pub(crate) fn run_until_closed(&mut self, limit: Duration) {
        let end = self.now + limit;
        let mut rounds = 0;
        while !(self.esme.is_closed() && self.smsc.is_closed()) {
            rounds += 1;
            assert!(rounds < 100_000, "the timers never settle");
            match self.next_timeout() {
                Some(t) if t <= end => {
                    self.advance_to_next_timeout();
                }
                _ => break,
            }
        }
    }

    /// Virtual time since the pair was created.
    pub(crate) fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// [`check_accounting`] for both sides; panics with the details on failure.
    pub(crate) fn check_accounting(&self, require_all: bool) {
        if let Err(e) = check_accounting(
            Role::Esme,
            &self.esme_started,
            &self.esme_events,
            require_all,
        ) {
            panic!("ESME: {e}");
        }
        if let Err(e) = check_accounting(
            Role::Smsc,
            &self.smsc_started,
            &self.smsc_events,
            require_all,
        ) {
            panic!("SMSC: {e}");
        }
    }

    /// The sequence numbers of the `Event::Request`s `side` reported, in order.
    pub(crate) fn requests(&self, side: Side) -> Vec<(SequenceNumber, CommandId)> {
        self.events(side)
            .iter()
            .filter_map(|e| match e {
                Event::Request {
                    sequence_number,
                    pdu,
                } => Some((*sequence_number, pdu.command_id())),
                _ => None,
            })
            .collect()
    }

    /// Answers an inbound request on `side` with `ESME_ROK`.
    pub(crate) fn respond_ok(&mut self, side: Side, seq: SequenceNumber, request: CommandId) {
        let now = self.now;
        self.session(side)
            .send_response(now, seq, CommandStatus::ESME_ROK, ok_response(request, seq))
            .expect("the response is accepted");
    }
}

//! The `session_input` oracle: an ESME and an SMSC session driven by a script.
//!
//! This file is included with `#[path]` by the fuzz target
//! (`fuzz/fuzz_targets/session_input.rs`) and by the seed replay test
//! (`crates/smpp-session/tests/fuzz_seeds.rs`), so the committed seeds are checked by
//! exactly the assertions the fuzzer uses. The script format (and the seeds) live in
//! `fuzz/session_script.rs`, which the seed generator in smpp-pdu includes too.
//!
//! The input is read as a script (see [`script`]) that drives both sessions on a virtual
//! clock (one `Instant::now()`, then only additions): raw bytes into either side,
//! transfers of what a side transmitted in chosen pieces, time steps with
//! `handle_timeout`, and the application commands (bind, requests from a small menu,
//! responses to the oldest pending inbound request, accepting or rejecting a bind,
//! unbind, outbind, close, EOF). After every step it checks:
//!
//! - each `poll_transmit` appends exactly the one PDU whose length it returns; it frames
//!   with [`Header::peek`] and decodes with [`Pdu::decode`]; requests are ones the role may
//!   send, with a sequence number in `1..=0x7FFF_FFFF`; nothing is transmitted once the
//!   session is closed and drained;
//! - after `handle_timeout(t)`, `poll_timeout()` is `None` or later than `t` (a driver
//!   would spin otherwise), as `tests/it/props.rs` asserts;
//! - every request started with `Ok(seq)` by `send_request`, `bind` or `unbind` that
//!   expects a response resolves exactly once (`Response`, `ResponseTimeout`,
//!   `RequestFailed`; binds also by `Bound`/`BindRejected`; unbinds also by `Unbound`, as
//!   `tests/it/pair.rs` counts them) and no later than `Closed`; no resolution names a
//!   request that is not open; `RequestFailed(Closed(r))` and `Unbound` come only right
//!   before `Closed { r }`; `Closed` comes at most once and last;
//! - `in_flight()` is the number of open application requests and at most the window;
//!   `WindowFull` only with a full window;
//! - a model of the inbound requests (`Request`/`BindRequested` events, answered ones
//!   removed) predicts `inbound_pending()`, the `max_inbound_pending` limit, and the exact
//!   result of `send_response`, `accept_bind` and `reject_bind`; a closed session refuses
//!   every command with `Closed`;
//! - a model of the input framing (the bytes fed since the last whole PDU): when a
//!   `command_length` outside `16..=max_command_length` is readable, the session must
//!   close (so its buffered input never holds more than one PDU of at most
//!   `max_command_length` octets), and it closes with `Framing` only then.

// Each includer uses only part of this file.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use smpp_pdu::{
    AlertNotification, BindTransceiver, Body, CancelSm, CommandId, CommandStatus, DataSm,
    DeliverSm, EnquireLink, Header, Outbind, Pdu, QuerySm, SubmitSm, SubmitSmResp, Unbind,
    HEADER_LEN,
};
use smpp_session::{
    state, BindKind, BindRequest, CloseReason, Config, Event, FailReason, Role, SendError, Session,
    UnexpectedReason, MAX_SEQUENCE_NUMBER,
};

#[path = "session_script.rs"]
pub(crate) mod script;

use script::{Knobs, Side};

/// What each side did, as short labels in order: the events it reported (`"Bound"`,
/// `"UnexpectedResponse:Late"`, `"Closed:Framing"`, ...), the commands it refused
/// (`"err:WindowFull"`, ...) and the PDUs it transmitted (`"enquire_link"`, ...).
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    /// ESME, SMSC.
    pub(crate) labels: [Vec<&'static str>; 2],
}

/// Runs a script; panics when a session breaks a promise.
pub(crate) fn session_input(data: &[u8]) -> Trace {
    let mut r = Reader { data, pos: 0 };
    let flags = r.u8();
    let esme = Knobs::from_bytes([r.u8(), r.u8(), r.u8()]);
    let smsc = Knobs::from_bytes([r.u8(), r.u8(), r.u8()]);
    let mut run = Run::new(esme, smsc);
    while !r.is_empty() {
        let op = r.u8();
        let side = Side::from_bit(op);
        let kind = (op >> 1) % script::OP_KINDS;
        run.op(kind, side, &mut r);
    }
    if flags & script::FLAG_FINISH != 0 {
        run.finish();
    }
    run.close_all();
    run.trace
}

// ----- input -----

/// Reads operands; past the end every read gives zeros.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = start + n;
        &self.data[start..end]
    }
}

fn config(k: Knobs) -> Config {
    let secs = |table: [u64; 4], i: u8| Duration::from_secs(table[usize::from(i)]);
    let optional = |table: [u64; 4], i: u8| Some(secs(table, i)).filter(|d| !d.is_zero());
    Config::default()
        .window(script::WINDOW[usize::from(k.window)])
        .response_timeout(secs(script::RESPONSE_TIMEOUT_S, k.response_timeout))
        .enquire_link_interval(optional(
            script::ENQUIRE_LINK_INTERVAL_S,
            k.enquire_link_interval,
        ))
        .enquire_link_timeout(secs(script::ENQUIRE_LINK_TIMEOUT_S, k.enquire_link_timeout))
        .bind_timeout(secs(script::BIND_TIMEOUT_S, k.bind_timeout))
        .inactivity_timeout(optional(script::INACTIVITY_S, k.inactivity))
        .unbind_timeout(secs(script::UNBIND_TIMEOUT_S, k.unbind_timeout))
        .max_inbound_pending(script::INBOUND_PENDING[usize::from(k.inbound_pending)])
        .max_command_length(script::MAX_COMMAND_LENGTH[usize::from(k.max_command_length)])
        .late_response_memory(script::LATE_MEMORY[usize::from(k.late_memory)])
        .first_sequence_number(script::FIRST_SEQUENCE_NUMBER[usize::from(k.first_sequence_number)])
}

// ----- bodies -----

fn submit(text: &str) -> Body<'static> {
    Body::from(SubmitSm {
        source_addr: "12345".into(),
        destination_addr: "447700900123".into(),
        short_message: text.to_string().into(),
        ..Default::default()
    })
}

fn send_body(k: u8) -> Body<'static> {
    match script::SEND_MENU[usize::from(k) % script::SEND_MENU.len()] {
        "submit_sm" => submit("hello"),
        "deliver_sm" => Body::from(DeliverSm {
            source_addr: "447700900123".into(),
            destination_addr: "12345".into(),
            short_message: "hello".into(),
            ..Default::default()
        }),
        "data_sm" => Body::from(DataSm {
            source_addr: "1".into(),
            destination_addr: "2".into(),
            ..Default::default()
        }),
        "query_sm" => Body::from(QuerySm {
            message_id: "m1".into(),
            source_addr: "1".into(),
            ..Default::default()
        }),
        "enquire_link" => Body::from(EnquireLink::default()),
        "alert_notification" => Body::from(AlertNotification {
            source_addr: "1".into(),
            esme_addr: "2".into(),
            ..Default::default()
        }),
        "cancel_sm" => Body::from(CancelSm {
            message_id: "m1".into(),
            ..Default::default()
        }),
        "bind_transceiver" => Body::from(BindTransceiver {
            system_id: "esme".into(),
            password: "secret".into(),
            interface_version: 0x34,
            ..Default::default()
        }),
        "unbind" => Body::from(Unbind::default()),
        "outbind" => Body::from(Outbind {
            system_id: "smsc".into(),
            password: "pw".into(),
            tlvs: Vec::new(),
        }),
        "submit_sm_resp" => Body::from(SubmitSmResp {
            message_id: "m1".into(),
            tlvs: Vec::new(),
        }),
        "submit_sm_long" => submit(&"x".repeat(200)),
        other => unreachable!("no body for {other}"),
    }
}

/// The body of an answer of type `id` with `status`: a few fields set when `ESME_ROK`,
/// all defaults (sent header-only) otherwise.
fn response_body(id: CommandId, status: CommandStatus, seq: u32) -> Body<'static> {
    if status.is_ok() && id == CommandId::SUBMIT_SM_RESP {
        return Body::from(SubmitSmResp {
            message_id: format!("m{seq}").into(),
            tlvs: Vec::new(),
        });
    }
    Body::empty(id).unwrap_or_else(|| Body::empty(CommandId::GENERIC_NACK).expect("known id"))
}

/// A PDU from raw header fields and body octets.
fn raw(command_id: CommandId, status: u32, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    Header {
        command_length: (HEADER_LEN + body.len()) as u32,
        command_id,
        command_status: CommandStatus(status),
        sequence_number: seq,
    }
    .encode(&mut v);
    v.extend_from_slice(body);
    v
}

// ----- labels -----

fn close_label(reason: &CloseReason) -> &'static str {
    match reason {
        CloseReason::Local => "Closed:Local",
        CloseReason::PeerClosed => "Closed:PeerClosed",
        CloseReason::Unbound => "Closed:Unbound",
        CloseReason::UnbindTimeout => "Closed:UnbindTimeout",
        CloseReason::BindTimeout => "Closed:BindTimeout",
        CloseReason::EnquireLinkTimeout => "Closed:EnquireLinkTimeout",
        CloseReason::Inactivity => "Closed:Inactivity",
        CloseReason::Framing(_) => "Closed:Framing",
        CloseReason::ProtocolError => "Closed:ProtocolError",
        _ => "Closed:other",
    }
}

fn error_label(e: &SendError) -> &'static str {
    match e {
        SendError::Closed => "err:Closed",
        SendError::InvalidState { .. } => "err:InvalidState",
        SendError::Unbinding => "err:Unbinding",
        SendError::BindInProgress => "err:BindInProgress",
        SendError::WindowFull => "err:WindowFull",
        SendError::NotARequest(_) => "err:NotARequest",
        SendError::UnknownRequest(_) => "err:UnknownRequest",
        SendError::ResponseMismatch { .. } => "err:ResponseMismatch",
        SendError::Encode(_) => "err:Encode",
        _ => "err:other",
    }
}

// ----- the model of one side -----

/// How a request the application started resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `Response`, `ResponseTimeout` or `RequestFailed`.
    App,
    /// `Bound`, `BindRejected`, `ResponseTimeout` or `RequestFailed`.
    Bind,
    /// `Unbound`, `ResponseTimeout` or `RequestFailed`.
    Unbind,
}

struct End {
    role: Role,
    session: Session,
    window: usize,
    max_command_length: u32,
    max_inbound: usize,
    /// Requests started and not resolved yet.
    open: BTreeMap<u32, (CommandId, Kind)>,
    /// Inbound requests reported and not answered, oldest first.
    inbound: Vec<(u32, CommandId)>,
    /// Input fed since the last whole PDU (the model of the session's read buffer).
    unframed: Vec<u8>,
    /// Events handed over by `handle_input_with` (odd-sized pieces go that way), made
    /// owned, ahead of whatever `poll_event` still has.
    delivered: VecDeque<Event>,
    /// The framing model lost sync during the current operation.
    framing_lost: bool,
    /// (SMSC) A bind response this operation bound the session: `Bound` must follow.
    expect_bound: bool,
    unbound_seen: bool,
    closed_seen: bool,
    /// Closed, and everything it had to transmit was taken.
    drained: bool,
    /// Bytes on their way to this side.
    wire_in: Vec<u8>,
}

impl End {
    fn new(role: Role, k: Knobs, now: Instant) -> End {
        let config = config(k);
        End {
            role,
            window: config.window,
            max_command_length: config.max_command_length,
            max_inbound: config.max_inbound_pending,
            session: match role {
                Role::Esme => Session::esme(config, now),
                Role::Smsc => Session::smsc(config, now),
            },
            open: BTreeMap::new(),
            inbound: Vec::new(),
            unframed: Vec::new(),
            delivered: VecDeque::new(),
            framing_lost: false,
            expect_bound: false,
            unbound_seen: false,
            closed_seen: false,
            drained: false,
            wire_in: Vec::new(),
        }
    }

    fn open_app(&self) -> usize {
        self.open.values().filter(|(_, k)| *k == Kind::App).count()
    }

    fn open_of(&self, kind: Kind) -> Option<u32> {
        self.open
            .iter()
            .find(|(_, (_, k))| *k == kind)
            .map(|(s, _)| *s)
    }

    /// Records a request started with `Ok(seq)`.
    fn started(&mut self, seq: u32, id: CommandId) {
        let kind = if BindKind::from_command_id(id).is_some() {
            Kind::Bind
        } else if id == CommandId::UNBIND {
            Kind::Unbind
        } else if id.response().is_some() {
            Kind::App
        } else {
            return;
        };
        assert!(
            (1..=MAX_SEQUENCE_NUMBER).contains(&seq),
            "{:?} handed out sequence number {seq}",
            self.role
        );
        if kind != Kind::App {
            assert!(
                self.open_of(kind).is_none(),
                "{:?} started a second {kind:?} while one is open: {:?}",
                self.role,
                self.open
            );
        }
        let old = self.open.insert(seq, (id, kind));
        assert!(
            old.is_none(),
            "{:?} handed out sequence number {seq} of open request {old:?}",
            self.role
        );
    }

    /// `handle_input` on one piece, with the framing model alongside.
    fn input(&mut self, now: Instant, piece: &[u8]) {
        let was_closed = self.session.is_closed();
        if piece.len() % 2 == 1 {
            let delivered = &mut self.delivered;
            self.session
                .handle_input_with(now, piece, |d| delivered.push_back(d.into_event()));
        } else {
            self.session.handle_input(now, piece);
        }
        if was_closed {
            return;
        }
        self.unframed.extend_from_slice(piece);
        let lost = loop {
            match Header::peek_with_max(&self.unframed, self.max_command_length) {
                Ok(Some(h)) => {
                    self.unframed.drain(..h.command_length as usize);
                }
                Ok(None) => break false,
                Err(_) => break self.unframed.len() >= HEADER_LEN,
            }
        };
        if self.session.is_closed() {
            self.unframed.clear();
            self.framing_lost |= lost;
        } else {
            assert!(
                !lost,
                "{:?} stays open after an unframeable command_length (cap {}): {:02x?}",
                self.role,
                self.max_command_length,
                &self.unframed[..HEADER_LEN]
            );
            // What the session may still hold: part of one PDU within the cap.
            debug_assert!(self.unframed.len() < (self.max_command_length as usize).max(HEADER_LEN));
        }
    }

    /// Takes what the session transmits, checking each PDU; appends it to `wire`.
    fn pull(&mut self, wire: &mut Vec<u8>, labels: &mut Vec<&'static str>) {
        loop {
            let start = wire.len();
            let Some(len) = self.session.poll_transmit(wire) else {
                break;
            };
            assert!(
                !self.drained,
                "{:?} transmits after it closed and was drained",
                self.role
            );
            assert_eq!(
                wire.len() - start,
                len,
                "poll_transmit returned a wrong length"
            );
            let bytes = &wire[start..];
            let h = match Header::peek(bytes) {
                Ok(Some(h)) => h,
                other => panic!(
                    "{:?} transmitted a PDU that does not frame ({other:?}): {bytes:02x?}",
                    self.role
                ),
            };
            assert_eq!(
                h.command_length as usize, len,
                "poll_transmit returned more or less than one PDU"
            );
            let pdu = match Pdu::decode(bytes) {
                Ok(Some((pdu, used))) if used == len => pdu,
                other => panic!(
                    "{:?} transmitted a PDU that does not decode ({other:?}): {bytes:02x?}",
                    self.role
                ),
            };
            let id = pdu.command_id();
            if !id.is_response() {
                let allowed = [
                    state::State::Open,
                    state::State::BoundTx,
                    state::State::BoundRx,
                ]
                .into_iter()
                .any(|s| state::may_send_request(self.role, s, id));
                assert!(allowed, "{:?} transmitted a {id:?}", self.role);
                assert!(
                    (1..=MAX_SEQUENCE_NUMBER).contains(&pdu.sequence_number),
                    "{:?} transmitted {id:?} with sequence number {}",
                    self.role,
                    pdu.sequence_number
                );
            }
            labels.push(id.snake_name().unwrap_or("unknown_pdu"));
        }
        if self.session.is_closed() {
            self.drained = true;
        }
    }

    /// Drains and checks the events, then the counters.
    fn events(&mut self, labels: &mut Vec<&'static str>) {
        // RequestFailed(Closed(r)) and Unbound announce a Closed { r } in this batch.
        let mut announced: Option<CloseReason> = None;
        while let Some(e) = self
            .delivered
            .pop_front()
            .or_else(|| self.session.poll_event())
        {
            assert!(
                !self.closed_seen,
                "{:?} reported {e:?} after Closed",
                self.role
            );
            if let Some(r) = &announced {
                let fits = match &e {
                    Event::RequestFailed {
                        reason: FailReason::Closed(x),
                        ..
                    } => x == r,
                    Event::Closed { reason } => reason == r,
                    _ => false,
                };
                assert!(
                    fits,
                    "{:?} reported {e:?} where Closed {{ {r:?} }} was due",
                    self.role
                );
            }
            labels.push(self.event(&e, &mut announced));
        }
        assert!(
            announced.is_none(),
            "{:?}: RequestFailed(Closed) or Unbound without Closed",
            self.role
        );
        assert!(
            !self.expect_bound,
            "{:?} answered a bind with ESME_ROK but did not report Bound",
            self.role
        );
        assert_eq!(
            self.session.is_closed(),
            self.closed_seen,
            "{:?}: is_closed() and the Closed event disagree",
            self.role
        );
        if self.closed_seen {
            assert_eq!(
                self.session.poll_timeout(),
                None,
                "a closed session has a deadline"
            );
        }
        assert_eq!(
            self.session.in_flight(),
            self.open_app(),
            "{:?}: in_flight() is not the number of open requests {:?}",
            self.role,
            self.open
        );
        assert!(
            self.session.in_flight() <= self.window,
            "in_flight() above the window"
        );
        assert_eq!(
            self.session.inbound_pending(),
            self.inbound.len(),
            "{:?}: inbound_pending() is not the number of unanswered requests {:?}",
            self.role,
            self.inbound
        );
        self.framing_lost = false;
    }

    /// Checks one event against the model and updates it; returns its label.
    fn event(&mut self, e: &Event, announced: &mut Option<CloseReason>) -> &'static str {
        let role = self.role;
        match e {
            Event::Response {
                sequence_number,
                request,
                pdu,
            } => {
                self.resolve(*sequence_number, *request, &[Kind::App], e);
                let expected = request.response().unwrap_or(CommandId::GENERIC_NACK);
                assert!(
                    pdu.command_id() == expected || pdu.command_id() == CommandId::GENERIC_NACK,
                    "{role:?}: {e:?} does not answer the request"
                );
                assert_eq!(pdu.sequence_number, *sequence_number);
                "Response"
            }
            Event::ResponseTimeout {
                sequence_number,
                request,
            } => {
                let all = [Kind::App, Kind::Bind, Kind::Unbind];
                self.resolve(*sequence_number, *request, &all, e);
                "ResponseTimeout"
            }
            Event::RequestFailed {
                sequence_number,
                request,
                reason,
            } => {
                let all = [Kind::App, Kind::Bind, Kind::Unbind];
                self.resolve(*sequence_number, *request, &all, e);
                if let FailReason::Closed(r) = reason {
                    *announced = Some(*r);
                }
                "RequestFailed"
            }
            Event::Bound { .. } => {
                match role {
                    Role::Esme => self.resolve_bind(e),
                    Role::Smsc => {
                        assert!(
                            self.expect_bound,
                            "SMSC reported {e:?} without a bind answer"
                        );
                        self.expect_bound = false;
                    }
                }
                "Bound"
            }
            Event::BindRejected { .. } => {
                // Any status (a generic_nack with ESME_ROK rejects a bind too).
                assert_eq!(role, Role::Esme, "{e:?} on the SMSC");
                self.resolve_bind(e);
                "BindRejected"
            }
            Event::BindRequested {
                sequence_number,
                pdu,
            } => {
                assert_eq!(role, Role::Smsc, "{e:?} on the ESME");
                assert!(BindKind::from_command_id(pdu.command_id()).is_some());
                assert!(
                    !self.inbound.iter().any(|(s, id)| *s != *sequence_number
                        && BindKind::from_command_id(*id).is_some()),
                    "a second bind was reported while one is pending: {:?}",
                    self.inbound
                );
                self.inbound_request(*sequence_number, pdu.command_id(), true);
                "BindRequested"
            }
            Event::Outbind { .. } => {
                assert_eq!(role, Role::Esme, "{e:?} on the SMSC");
                "Outbind"
            }
            Event::Request {
                sequence_number,
                pdu,
            } => {
                let id = pdu.command_id();
                let peer = match role {
                    Role::Esme => Role::Smsc,
                    Role::Smsc => Role::Esme,
                };
                assert!(
                    id.response().is_some()
                        && BindKind::from_command_id(id).is_none()
                        && id != CommandId::UNBIND
                        && id != CommandId::ENQUIRE_LINK
                        && state::may_send_request(peer, state::State::BoundTrx, id),
                    "{role:?} reported a {id:?} request for the application"
                );
                assert_eq!(pdu.sequence_number, *sequence_number);
                self.inbound_request(*sequence_number, id, false);
                "Request"
            }
            Event::Notification { pdu } => {
                assert_eq!(role, Role::Esme, "{e:?} on the SMSC");
                assert_eq!(pdu.command_id(), CommandId::ALERT_NOTIFICATION);
                "Notification"
            }
            Event::UnexpectedResponse {
                sequence_number,
                reason,
                ..
            } => {
                assert!(
                    !self.open.contains_key(sequence_number),
                    "{role:?}: {e:?} but request {sequence_number} is open: {:?}",
                    self.open
                );
                match reason {
                    UnexpectedReason::Late => "UnexpectedResponse:Late",
                    UnexpectedReason::Unknown => "UnexpectedResponse:Unknown",
                }
            }
            Event::Rejected { status, .. } => {
                assert!(!status.is_ok(), "{role:?} rejected with ESME_ROK");
                "Rejected"
            }
            Event::Unbound => {
                assert!(!self.unbound_seen, "{role:?} reported Unbound twice");
                self.unbound_seen = true;
                *announced = Some(CloseReason::Unbound);
                "Unbound"
            }
            Event::Closed { reason } => {
                self.closed_seen = true;
                if matches!(reason, CloseReason::Framing(_)) {
                    assert!(
                        self.framing_lost,
                        "{role:?} closed with {reason:?} but the input frames"
                    );
                }
                // An unbind is resolved by Unbound when nothing else resolved it.
                let unresolved: Vec<_> = self
                    .open
                    .iter()
                    .filter(|(_, (_, k))| !(*k == Kind::Unbind && self.unbound_seen))
                    .collect();
                assert!(
                    unresolved.is_empty(),
                    "{role:?} closed ({reason:?}) with requests unresolved: {unresolved:?}"
                );
                assert_eq!(self.session.in_flight(), 0);
                *announced = None;
                self.open.clear();
                self.inbound.clear();
                close_label(reason)
            }
            other => panic!("{role:?} reported an event the oracle does not know: {other:?}"),
        }
    }

    fn resolve(&mut self, seq: u32, request: CommandId, kinds: &[Kind], e: &Event) {
        match self.open.remove(&seq) {
            Some((id, kind)) => {
                assert_eq!(
                    id, request,
                    "{:?}: {e:?} names the wrong request",
                    self.role
                );
                assert!(
                    kinds.contains(&kind),
                    "{:?}: {e:?} resolves a {kind:?} request",
                    self.role
                );
            }
            None => panic!(
                "{:?}: {e:?} resolves a request that is not open: {:?}",
                self.role, self.open
            ),
        }
    }

    fn resolve_bind(&mut self, e: &Event) {
        let seq = self
            .open_of(Kind::Bind)
            .unwrap_or_else(|| panic!("{:?}: {e:?} without a bind open", self.role));
        self.open.remove(&seq);
    }

    fn inbound_request(&mut self, seq: u32, id: CommandId, bind: bool) {
        if !bind {
            assert!(
                self.inbound.len() < self.max_inbound,
                "{:?} took a request past max_inbound_pending {}: {:?}",
                self.role,
                self.max_inbound,
                self.inbound
            );
        }
        // The peer may reuse the number of an unanswered request: it replaces it.
        self.inbound.retain(|(s, _)| *s != seq);
        self.inbound.push((seq, id));
    }

    /// What `send_response(seq, _, body of type got)` must return.
    fn expected_response_result(&self, seq: u32, got: CommandId) -> Result<(), SendError> {
        if self.session.is_closed() {
            return Err(SendError::Closed);
        }
        if !got.is_response() {
            return Err(SendError::NotARequest(got));
        }
        let Some((_, req)) = self.inbound.iter().find(|(s, _)| *s == seq) else {
            return Err(SendError::UnknownRequest(seq));
        };
        let expected = req.response().unwrap_or(CommandId::GENERIC_NACK);
        if got != expected && got != CommandId::GENERIC_NACK {
            return Err(SendError::ResponseMismatch { expected, got });
        }
        Ok(())
    }

    /// What `accept_bind(seq)` / `reject_bind(seq)` must return.
    fn expected_bind_answer_result(&self, seq: u32) -> Result<(), SendError> {
        if self.session.is_closed() {
            return Err(SendError::Closed);
        }
        let Some((_, req)) = self.inbound.iter().find(|(s, _)| *s == seq) else {
            return Err(SendError::UnknownRequest(seq));
        };
        if BindKind::from_command_id(*req).is_none() {
            return Err(SendError::ResponseMismatch {
                expected: *req,
                got: CommandId::BIND_TRANSMITTER_RESP,
            });
        }
        Ok(())
    }

    /// The model after a response to `seq` was sent with `status` and a body of type `got`.
    fn answered(&mut self, seq: u32, status: CommandStatus, got: CommandId, was_bound: bool) {
        let pos = self
            .inbound
            .iter()
            .position(|(s, _)| *s == seq)
            .expect("answered a pending request");
        let (_, req) = self.inbound.remove(pos);
        if let Some(bound) = state::bound_state(req) {
            if status.is_ok() && got != CommandId::GENERIC_NACK && !was_bound {
                self.expect_bound = true;
                assert_eq!(self.session.state(), bound, "an accepted bind did not bind");
            }
        }
    }
}

// ----- the run -----

struct Run {
    now: Instant,
    start: Instant,
    ends: [End; 2],
    trace: Trace,
}

impl Run {
    fn new(esme: Knobs, smsc: Knobs) -> Run {
        let now = Instant::now();
        Run {
            now,
            start: now,
            ends: [
                End::new(Role::Esme, esme, now),
                End::new(Role::Smsc, smsc, now),
            ],
            trace: Trace::default(),
        }
    }

    fn end(&mut self, side: Side) -> &mut End {
        &mut self.ends[side as usize]
    }

    /// Takes what both sessions transmit and the events they report, and checks them.
    fn settle(&mut self) {
        for side in [Side::Esme, Side::Smsc] {
            let mut wire = std::mem::take(&mut self.ends[side.other() as usize].wire_in);
            let i = side as usize;
            self.ends[i].pull(&mut wire, &mut self.trace.labels[i]);
            self.ends[side.other() as usize].wire_in = wire;
            self.ends[i].events(&mut self.trace.labels[i]);
        }
    }

    fn refused(&mut self, side: Side, e: &SendError) {
        self.trace.labels[side as usize].push(error_label(e));
    }

    /// Bytes into `to`, in pieces of `chunk` octets (0: one piece).
    fn feed(&mut self, to: Side, bytes: &[u8], chunk: usize) {
        let now = self.now;
        let end = self.end(to);
        if chunk == 0 {
            end.input(now, bytes);
        } else {
            for piece in bytes.chunks(chunk) {
                end.input(now, piece);
            }
        }
    }

    /// Up to `max` octets of the wire towards `to`.
    fn deliver(&mut self, to: Side, max: usize, chunk: usize) {
        let wire = &mut self.end(to).wire_in;
        let n = max.min(wire.len());
        let bytes: Vec<u8> = wire.drain(..n).collect();
        self.feed(to, &bytes, chunk);
    }

    fn flush(&mut self) {
        let to_esme = std::mem::take(&mut self.end(Side::Esme).wire_in);
        let to_smsc = std::mem::take(&mut self.end(Side::Smsc).wire_in);
        self.feed(Side::Smsc, &to_smsc, 0);
        self.feed(Side::Esme, &to_esme, 0);
    }

    /// Both sides run their timers at `t` (not before now); neither may then ask to be
    /// woken at or before `t`.
    fn timers(&mut self, t: Instant) {
        let t = t.max(self.now);
        self.now = t;
        for side in [Side::Esme, Side::Smsc] {
            self.timeout(side);
        }
    }

    fn timeout(&mut self, side: Side) {
        let t = self.now;
        let end = self.end(side);
        end.session.handle_timeout(t);
        if let Some(next) = end.session.poll_timeout() {
            assert!(
                next > t,
                "{:?} asks to be woken {:?} before a deadline it just handled",
                end.role,
                t - next
            );
        }
        self.settle();
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.ends
            .iter()
            .filter_map(|e| e.session.poll_timeout())
            .min()
    }

    fn tick(&mut self, d: Duration) {
        let end = self.now + d;
        let mut rounds = 0;
        while let Some(t) = self.next_deadline() {
            if t > end {
                break;
            }
            self.timers(t);
            rounds += 1;
            assert!(rounds < 10_000, "the timers never settle");
        }
        self.timers(end);
    }

    fn op(&mut self, kind: u8, side: Side, r: &mut Reader<'_>) {
        let now = self.now;
        match kind {
            script::OP_FEED => {
                let len = usize::from(r.u16());
                let chunk = usize::from(r.u8());
                let bytes = r.bytes(len);
                self.feed(side, bytes, chunk);
            }
            script::OP_TRANSFER => {
                let max = usize::from(r.u16());
                let chunk = usize::from(r.u8());
                self.deliver(side.other(), max, chunk);
            }
            script::OP_FLUSH => self.flush(),
            script::OP_ADVANCE => {
                let d = script::duration(r.u16());
                self.timers(now + d);
            }
            script::OP_TICK => self.tick(script::duration(r.u16())),
            script::OP_NEXT_DEADLINE => {
                if let Some(t) = self.next_deadline() {
                    self.timers(t);
                }
            }
            script::OP_SLEEP => self.now += script::duration(r.u16()),
            script::OP_TIMEOUT => self.timeout(side),
            script::OP_BIND => {
                let kind = [
                    BindKind::Transmitter,
                    BindKind::Receiver,
                    BindKind::Transceiver,
                ][usize::from(r.u8() % 3)];
                let end = self.end(side);
                let closed = end.session.is_closed();
                let result = end
                    .session
                    .bind(now, BindRequest::new(kind, "esme", "secret"));
                self.command_result(side, kind.command_id(), closed, result);
            }
            script::OP_SEND => {
                let body = send_body(r.u8());
                let id = body.command_id();
                let end = self.end(side);
                let closed = end.session.is_closed();
                let full = end.session.in_flight() >= end.window;
                let result = end.session.send_request(now, &body);
                if id.is_response() {
                    assert_eq!(result, Err(SendError::NotARequest(id)));
                }
                if result == Err(SendError::WindowFull) {
                    assert!(full, "WindowFull with room in the window");
                }
                self.command_result(side, id, closed, result);
            }
            script::OP_RESPOND => {
                let status = CommandStatus(script::status(r.u8()));
                let variant = r.u8();
                self.respond(side, status, variant);
            }
            script::OP_ACCEPT => {
                let a = r.u8();
                let end = self.end(side);
                let seq = end
                    .inbound
                    .iter()
                    .rev()
                    .find(|(_, id)| BindKind::from_command_id(*id).is_some())
                    .or(end.inbound.first())
                    .map_or(1, |(s, _)| *s);
                let expected = end.expected_bind_answer_result(seq);
                let was_bound = end.session.is_bound();
                let (status, result) = if a & 1 == 0 {
                    let r = end.session.accept_bind(now, seq, "smsc");
                    (CommandStatus::ESME_ROK, r)
                } else {
                    let status = CommandStatus(script::status(a >> 1));
                    (status, end.session.reject_bind(now, seq, status))
                };
                assert_eq!(result, expected, "accept/reject bind {seq}");
                if result.is_ok() {
                    let got = end
                        .inbound
                        .iter()
                        .find(|(s, _)| *s == seq)
                        .and_then(|(_, id)| id.response())
                        .expect("a pending bind");
                    end.answered(seq, status, got, was_bound);
                } else if let Err(e) = &result {
                    self.refused(side, e);
                }
            }
            script::OP_UNBIND => {
                let end = self.end(side);
                let closed = end.session.is_closed();
                let result = end.session.unbind(now);
                self.command_result(side, CommandId::UNBIND, closed, result);
            }
            script::OP_CLOSE => self.end(side).session.close(now),
            script::OP_EOF => {
                let end = self.end(side);
                end.session.handle_eof(now);
                end.wire_in.clear();
            }
            script::OP_OUTBIND => {
                let end = self.end(side);
                let closed = end.session.is_closed();
                let result = end.session.outbind(now, "smsc", "pw");
                self.command_result(side, CommandId::OUTBIND, closed, result);
            }
            script::OP_INJECT => {
                let kind = r.u8();
                let pick = r.u8();
                let bytes = self.faulty_response(side, kind, pick);
                self.feed(side, &bytes, 0);
            }
            _ => unreachable!("opcode kinds are taken modulo OP_KINDS"),
        }
        self.settle();
    }

    fn command_result(
        &mut self,
        side: Side,
        id: CommandId,
        was_closed: bool,
        result: Result<u32, SendError>,
    ) {
        if was_closed && !id.is_response() {
            assert_eq!(
                result,
                Err(SendError::Closed),
                "a closed session took {id:?}"
            );
        }
        match result {
            Ok(seq) => self.end(side).started(seq, id),
            Err(e) => self.refused(side, &e),
        }
    }

    fn respond(&mut self, side: Side, status: CommandStatus, variant: u8) {
        let now = self.now;
        let end = self.end(side);
        let (seq, request) = end
            .inbound
            .first()
            .copied()
            .unwrap_or((1 + u32::from(variant >> 2), CommandId::SUBMIT_SM));
        let proper = request.response().unwrap_or(CommandId::GENERIC_NACK);
        let body = match variant & 3 {
            script::RESPOND_PROPER => response_body(proper, status, seq),
            script::RESPOND_NACK => response_body(CommandId::GENERIC_NACK, status, seq),
            script::RESPOND_WRONG => {
                let wrong = if proper == CommandId::DELIVER_SM_RESP {
                    CommandId::SUBMIT_SM_RESP
                } else {
                    CommandId::DELIVER_SM_RESP
                };
                response_body(wrong, status, seq)
            }
            _ => submit("not a response"),
        };
        let got = body.command_id();
        let expected = end.expected_response_result(seq, got);
        let was_bound = end.session.is_bound();
        let result = end.session.send_response(now, seq, status, body);
        assert_eq!(result, expected, "send_response {got:?} to {seq}");
        match result {
            Ok(()) => end.answered(seq, status, got, was_bound),
            Err(e) => self.refused(side, &e),
        }
    }

    /// Bytes of a faulty or stray response to one of the requests `to` started.
    fn faulty_response(&mut self, to: Side, kind: u8, pick: u8) -> Vec<u8> {
        let open = &self.end(to).open;
        let (seq, request) = open
            .iter()
            .nth(usize::from(pick) % (open.len() + 1))
            .map_or(
                (u32::from(pick) + 1, CommandId::SUBMIT_SM),
                |(s, (id, _))| (*s, *id),
            );
        let resp = request.response().unwrap_or(CommandId::GENERIC_NACK);
        match kind % 5 {
            0 => raw(CommandId::GENERIC_NACK, 0x08, seq, &[]),
            1 => raw(CommandId::CANCEL_BROADCAST_SM_RESP, 0, seq, &[]),
            2 => raw(resp, 0, seq, &[b'x'; 70]),
            3 => raw(CommandId(0x8000_0099), 0, seq, &[]),
            _ => {
                let pdu = Pdu::response(
                    seq,
                    CommandStatus::ESME_ROK,
                    response_body(resp, CommandStatus::ESME_ROK, seq),
                );
                pdu.to_bytes().expect("a response encodes")
            }
        }
    }

    /// Delivers what is on the wires, and when they are idle runs the timers, until both
    /// sides close (or for a bounded while).
    fn finish(&mut self) {
        let limit = self.start + Duration::from_secs(4 * 3600);
        for _ in 0..512 {
            if self.ends.iter().any(|e| !e.wire_in.is_empty()) {
                self.flush();
                self.settle();
                continue;
            }
            if self.ends.iter().all(|e| e.session.is_closed()) {
                return;
            }
            match self.next_deadline() {
                Some(t) if t <= limit => self.timers(t),
                _ => return,
            }
        }
    }

    /// Closes both sides; every request must have resolved.
    fn close_all(&mut self) {
        let now = self.now;
        for end in &mut self.ends {
            end.session.close(now);
        }
        self.settle();
        for end in &self.ends {
            assert!(end.closed_seen, "{:?} closed without Closed", end.role);
            assert!(end.session.is_closed());
            assert_eq!(end.session.in_flight(), 0);
            assert_eq!(end.session.inbound_pending(), 0);
        }
    }
}

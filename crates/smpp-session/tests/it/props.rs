//! Property tests.
//!
//! (a) Chunk invariance: a byte stream of many PDUs gives the same events and the same
//! transmitted bytes whether it arrives in one piece or in random pieces (down to 1 octet).
//!
//! (b) Random interleavings of commands, partial deliveries, link drops and time steps on
//! a pair: no panic, every request the applications start resolves exactly once, and
//! `Closed` is the last event and appears at most once on each side.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use smpp_pdu::{
    BindTransceiver, BindTransceiverResp, Body, CancelSm, CommandId, CommandStatus, DataSm,
    DeliverSmResp, DestAddress, EnquireLink, EnquireLinkResp, GenericNack, Outbind, Pdu, QuerySm,
    SubmitMulti, SubmitSmResp, Unbind, UnbindResp,
};
use smpp_session::{BindKind, BindRequest, Config, Event, Role, Session};

use crate::pair::{check_accounting, deliver, encode, ok_response, raw, submit, Kind, Pair, Side};

/// `cases` cases, or `PROPTEST_CASES` if set (for a longer soak run).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ----- (a) chunk invariance -----

/// One PDU of a recorded stream.
#[derive(Clone, Debug)]
enum Item {
    Bind(u8),
    Submit(usize),
    Deliver(usize),
    DataSm,
    QuerySm,
    EnquireLink,
    Outbind,
    Alert,
    Unbind,
    /// A response of one of several kinds, with a status.
    Resp(u8, u32),
    /// An unknown command id (request or response) with a raw body.
    Unknown(u32, Vec<u8>),
    /// A submit_sm whose source_addr is too long.
    LongSourceAddr,
    /// A submit_sm whose body is cut short.
    Truncated(usize),
    /// A deliver_sm with a malformed schedule_delivery_time.
    BadTime,
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (0u8..3).prop_map(Item::Bind),
        16 => (0usize..160).prop_map(Item::Submit),
        16 => (0usize..160).prop_map(Item::Deliver),
        4 => Just(Item::DataSm),
        4 => Just(Item::QuerySm),
        8 => Just(Item::EnquireLink),
        4 => Just(Item::Outbind),
        4 => Just(Item::Alert),
        1 => Just(Item::Unbind),
        16 => (0u8..6, prop_oneof![Just(0u32), Just(0x58), Just(0x45)])
            .prop_map(|(k, s)| Item::Resp(k, s)),
        8 => (
            prop_oneof![Just(0x99u32), Just(0x200), Just(0x8000_0099), Just(0x0001_0000)],
            proptest::collection::vec(any::<u8>(), 0..12)
        )
            .prop_map(|(id, b)| Item::Unknown(id, b)),
        4 => Just(Item::LongSourceAddr),
        4 => (0usize..20).prop_map(Item::Truncated),
        4 => Just(Item::BadTime),
    ]
}

fn item_bytes(item: &Item, seq: u32) -> Vec<u8> {
    let text = |n: usize| "x".repeat(n);
    match item {
        Item::Bind(k) => {
            let b = BindTransceiver {
                system_id: "esme".into(),
                password: "pw".into(),
                interface_version: 0x34,
                ..Default::default()
            };
            let mut v = encode(&Pdu::new(seq, b));
            // Same layout for all three binds: patch the command_id.
            let id = [0x09u32, 0x01, 0x02][*k as usize % 3];
            v[4..8].copy_from_slice(&id.to_be_bytes());
            v
        }
        Item::Submit(n) => encode(&Pdu::new(seq, submit(&text(*n)))),
        Item::Deliver(n) => encode(&Pdu::new(seq, deliver(&text(*n)))),
        Item::DataSm => encode(&Pdu::new(
            seq,
            DataSm {
                source_addr: "1".into(),
                destination_addr: "2".into(),
                ..Default::default()
            },
        )),
        Item::QuerySm => encode(&Pdu::new(
            seq,
            QuerySm {
                message_id: "m1".into(),
                source_addr: "1".into(),
                ..Default::default()
            },
        )),
        Item::EnquireLink => encode(&Pdu::new(seq, EnquireLink::default())),
        Item::Outbind => encode(&Pdu::new(
            seq,
            Outbind {
                system_id: "smsc".into(),
                password: "pw".into(),
                tlvs: vec![],
            },
        )),
        Item::Alert => encode(&Pdu::new(
            seq,
            smpp_pdu::AlertNotification {
                source_addr: "1".into(),
                esme_addr: "2".into(),
                ..Default::default()
            },
        )),
        Item::Unbind => encode(&Pdu::new(seq, Unbind::default())),
        Item::Resp(k, status) => {
            let status = CommandStatus(*status);
            let body: Body<'static> = match k {
                0 => Body::from(SubmitSmResp {
                    message_id: "m".into(),
                    tlvs: vec![],
                }),
                1 => Body::from(DeliverSmResp::default()),
                2 => Body::from(EnquireLinkResp::default()),
                3 => Body::from(GenericNack::default()),
                4 => Body::from(BindTransceiverResp {
                    system_id: "smsc".into(),
                    tlvs: vec![],
                }),
                _ => Body::from(UnbindResp::default()),
            };
            encode(&Pdu::response(seq, status, body))
        }
        Item::Unknown(id, body) => raw(*id, 0, seq, body),
        Item::LongSourceAddr => {
            let mut body = vec![0u8, 1, 1];
            body.extend_from_slice(&[b'1'; 30]);
            body.push(0);
            body.extend_from_slice(&[0; 14]);
            raw(CommandId::SUBMIT_SM.0, 0, seq, &body)
        }
        Item::Truncated(n) => {
            let full = encode(&Pdu::new(seq, submit("truncated")));
            let body = &full[16..];
            raw(
                CommandId::SUBMIT_SM.0,
                0,
                seq,
                &body[..(*n).min(body.len() - 1)],
            )
        }
        Item::BadTime => {
            // A schedule_delivery_time of 3 characters (it must be empty or 16).
            let mut body = vec![0u8, 1, 1];
            body.extend_from_slice(b"447700900123\0");
            body.extend_from_slice(&[1, 1]);
            body.extend_from_slice(b"12345\0");
            body.extend_from_slice(&[0, 0, 0]);
            body.extend_from_slice(b"123\0");
            body.extend_from_slice(&[0; 8]);
            raw(CommandId::DELIVER_SM.0, 0, seq, &body)
        }
    }
}

/// A session of `role`, bound as a transceiver if `bound` (with a few requests of its own
/// in flight, so some responses in the stream match), everything it said so far drained.
fn fresh(role: Role, bound: bool, now: Instant) -> Session {
    let mut s = match role {
        Role::Esme => Session::esme(Config::default(), now),
        Role::Smsc => Session::smsc(Config::default(), now),
    };
    if bound {
        match role {
            Role::Esme => {
                s.bind(now, BindRequest::new(BindKind::Transceiver, "esme", "pw"))
                    .unwrap();
                let resp = BindTransceiverResp {
                    system_id: "smsc".into(),
                    tlvs: vec![],
                };
                s.handle_input(now, &encode(&Pdu::new(1, resp)));
                for i in 0..4 {
                    s.send_request(now, &submit(&format!("{i}"))).unwrap();
                }
            }
            Role::Smsc => {
                s.handle_input(now, &item_bytes(&Item::Bind(0), 1));
                s.accept_bind(now, 1, "smsc").unwrap();
                for i in 0..4 {
                    s.send_request(now, &deliver(&format!("{i}"))).unwrap();
                }
            }
        }
        assert!(s.is_bound());
    }
    while s.poll_transmit(&mut Vec::new()).is_some() {}
    while s.poll_event().is_some() {}
    s
}

/// Feeds `stream` in pieces whose sizes cycle through `chunks` (empty: one piece), and
/// returns the events and the transmitted bytes.
fn feed(mut s: Session, now: Instant, stream: &[u8], chunks: &[usize]) -> (Vec<Event>, Vec<u8>) {
    let mut events = Vec::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < stream.len() {
        let n = if chunks.is_empty() {
            stream.len()
        } else {
            chunks[i % chunks.len()]
        };
        let end = (pos + n).min(stream.len());
        s.handle_input(now, &stream[pos..end]);
        while s.poll_transmit(&mut out).is_some() {}
        events.extend(std::iter::from_fn(|| s.poll_event()));
        pos = end;
        i += 1;
    }
    (events, out)
}

/// [`feed`] through `handle_input_with`: borrowed deliveries are turned into the owned
/// events `poll_event` would have given (`Delivery::into_event`), in the order they were
/// handed over.
fn feed_with(
    mut s: Session,
    now: Instant,
    stream: &[u8],
    chunks: &[usize],
) -> (Vec<Event>, Vec<u8>) {
    let mut events = Vec::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < stream.len() {
        let n = if chunks.is_empty() {
            stream.len()
        } else {
            chunks[i % chunks.len()]
        };
        let end = (pos + n).min(stream.len());
        s.handle_input_with(now, &stream[pos..end], |d| events.push(d.into_event()));
        while s.poll_transmit(&mut out).is_some() {}
        // Nothing is left behind in the queue by an input handed over through the callback.
        assert!(s.poll_event().is_none());
        pos = end;
        i += 1;
    }
    (events, out)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn chunk_invariance(
        esme in any::<bool>(),
        bound in any::<bool>(),
        items in proptest::collection::vec((item(), 1u32..12), 1..40),
        chunks in proptest::collection::vec(1usize..48, 1..16),
    ) {
        let role = if esme { Role::Esme } else { Role::Smsc };
        let now = Instant::now();
        let mut stream = Vec::new();
        for (i, (item, seq)) in items.iter().enumerate() {
            // Requests get fresh numbers; responses aim at the low ones (in flight).
            let seq = if matches!(item, Item::Resp(..)) { *seq } else { 100 + i as u32 };
            stream.extend_from_slice(&item_bytes(item, seq));
        }
        let whole = feed(fresh(role, bound, now), now, &stream, &[]);
        let bytewise = feed(fresh(role, bound, now), now, &stream, &[1]);
        let random = feed(fresh(role, bound, now), now, &stream, &chunks);
        prop_assert_eq!(&whole, &bytewise);
        prop_assert_eq!(&whole, &random);
        // The borrowed path gives the same events in the same order, and the same bytes.
        let borrowed = feed_with(fresh(role, bound, now), now, &stream, &chunks);
        let borrowed_bytewise = feed_with(fresh(role, bound, now), now, &stream, &[1]);
        prop_assert_eq!(&whole, &borrowed);
        prop_assert_eq!(&whole, &borrowed_bytewise);
    }
}

// ----- (b) random interleavings on a pair -----

#[derive(Clone, Debug)]
enum Op {
    /// `send_request` of one of several PDUs (some not allowed for the role).
    Send(Side, u8),
    /// Answer one of the inbound requests seen so far (maybe already answered).
    Respond(Side, u8, bool),
    /// ESME binds.
    Bind(u8),
    /// SMSC accepts or rejects the latest bind it was asked for.
    Accept(bool),
    Unbind(Side),
    Close(Side),
    Outbind,
    /// Deliver up to this many bytes towards a side, in pieces of this size.
    Deliver(Side, u16, u8),
    /// Deliver everything both ways, in one piece.
    Flush,
    /// The link drops on this side.
    Eof(Side),
    /// A faulty or stray response arrives at this side (see [`faulty_response`]).
    Inject(Side, u8, u8),
    /// Time passes (milliseconds), running every deadline on the way.
    Tick(u16),
    /// Jump to the next deadline.
    NextTimeout,
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Esme), Just(Side::Smsc)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        32 => (side(), 0u8..8).prop_map(|(s, k)| Op::Send(s, k)),
        16 => (side(), any::<u8>(), any::<bool>()).prop_map(|(s, i, ok)| Op::Respond(s, i, ok)),
        8 => (0u8..3).prop_map(Op::Bind),
        8 => any::<bool>().prop_map(Op::Accept),
        2 => side().prop_map(Op::Unbind),
        1 => side().prop_map(Op::Close),
        4 => Just(Op::Outbind),
        32 => (side(), 1u16..600, 1u8..80).prop_map(|(s, n, c)| Op::Deliver(s, n, c)),
        12 => Just(Op::Flush),
        3 => (side(), any::<u8>(), any::<u8>()).prop_map(|(s, k, i)| Op::Inject(s, k, i)),
        1 => side().prop_map(Op::Eof),
        12 => (0u16..3000).prop_map(Op::Tick),
        4 => Just(Op::NextTimeout),
    ]
}

fn session_config() -> impl Strategy<Value = Config> {
    (
        1usize..5,
        1u64..10,
        2u64..30,
        prop_oneof![Just(None), (1u64..8).prop_map(Some)],
        1u64..5,
        prop_oneof![Just(None), (3u64..30).prop_map(Some)],
        1usize..4,
        0usize..3,
    )
        .prop_map(
            |(window, resp, bind, el, el_timeout, inact, inbound, late)| {
                Config::default()
                    .window(window)
                    .response_timeout(Duration::from_secs(resp))
                    .bind_timeout(Duration::from_secs(bind))
                    .enquire_link_interval(el.map(Duration::from_secs))
                    .enquire_link_timeout(Duration::from_secs(el_timeout))
                    .inactivity_timeout(inact.map(Duration::from_secs))
                    .unbind_timeout(Duration::from_secs(2))
                    .max_inbound_pending(inbound)
                    .late_response_memory(late)
            },
        )
}

fn request_body(side: Side, k: u8) -> Body<'static> {
    match (side, k) {
        (Side::Esme, 0 | 1) => submit("hello"),
        (Side::Smsc, 0 | 1) => deliver("hello"),
        (_, 2) => Body::from(DataSm {
            source_addr: "1".into(),
            destination_addr: "2".into(),
            ..Default::default()
        }),
        (_, 3) => Body::from(EnquireLink::default()),
        (Side::Esme, 4) => Body::from(QuerySm {
            message_id: "m1".into(),
            ..Default::default()
        }),
        (Side::Esme, 5) => Body::from(CancelSm {
            message_id: "m1".into(),
            ..Default::default()
        }),
        (Side::Esme, 6) => Body::from(SubmitMulti {
            source_addr: "1".into(),
            dest_addresses: vec![DestAddress::SmeAddress {
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "2".into(),
            }],
            short_message: "multi".into(),
            ..Default::default()
        }),
        (Side::Smsc, 4 | 5) => Body::from(smpp_pdu::AlertNotification {
            source_addr: "1".into(),
            esme_addr: "2".into(),
            ..Default::default()
        }),
        // The wrong direction: refused locally.
        (Side::Esme, _) => deliver("wrong"),
        (Side::Smsc, _) => submit("wrong"),
    }
}

/// Runs both timers at `t`; afterwards neither may ask to be woken at or before `t` again
/// (a driver would spin).
fn timers(p: &mut Pair, t: Instant) -> Result<(), TestCaseError> {
    p.now = t;
    p.esme.handle_timeout(t);
    p.smsc.handle_timeout(t);
    for side in [Side::Esme, Side::Smsc] {
        if let Some(next) = p.session(side).poll_timeout() {
            prop_assert!(next > t, "{side:?} asks for a deadline already handled");
        }
    }
    p.pull();
    Ok(())
}

/// Runs every deadline up to `end`, in order, without moving bytes.
fn tick_to(p: &mut Pair, end: Instant) -> Result<(), TestCaseError> {
    while let Some(t) = p.next_timeout() {
        if t > end {
            break;
        }
        timers(p, t)?;
    }
    timers(p, end)
}

/// Bytes of a faulty or stray response to one of the requests `to` started (or to a
/// number it never used).
fn faulty_response(p: &Pair, to: Side, kind: u8, pick: u8) -> Vec<u8> {
    let started = match to {
        Side::Esme => &p.esme_started,
        Side::Smsc => &p.smsc_started,
    };
    let (seq, request) = match started.get(pick as usize % (started.len() + 1)) {
        Some(s) => (s.seq, s.command_id),
        None => (u32::from(pick) + 1, CommandId::SUBMIT_SM),
    };
    let resp = request.response().unwrap_or(CommandId::GENERIC_NACK);
    match kind % 5 {
        // A generic_nack: resolves the request as a (negative) response.
        0 => raw(CommandId::GENERIC_NACK.0, 0x08, seq, &[]),
        // A response of the wrong type.
        1 => raw(CommandId::CANCEL_BROADCAST_SM_RESP.0, 0, seq, &[]),
        // The right type, but its body does not decode.
        2 => raw(resp.0, 0, seq, &[b'x'; 70]),
        // An unknown response id.
        3 => raw(0x8000_0099, 0, seq, &[]),
        // A well-formed answer (maybe a duplicate, maybe stealing the real one).
        _ => encode(&Pdu::response(
            seq,
            CommandStatus::ESME_ROK,
            ok_response(request, seq),
        )),
    }
}

fn apply(p: &mut Pair, op: &Op) -> Result<(), TestCaseError> {
    let now = p.now;
    match *op {
        Op::Send(side, k) => {
            let _ = p.send(side, request_body(side, k));
        }
        Op::Respond(side, i, ok) => {
            let reqs = p.requests(side);
            if !reqs.is_empty() {
                let (seq, id) = reqs[i as usize % reqs.len()];
                let (status, body) = if ok {
                    (CommandStatus::ESME_ROK, ok_response(id, seq))
                } else {
                    let resp = id.response().unwrap_or(CommandId::GENERIC_NACK);
                    (CommandStatus::ESME_RSYSERR, Body::empty(resp).unwrap())
                };
                let _ = p.session(side).send_response(now, seq, status, body);
            }
        }
        Op::Bind(k) => {
            let kind = [
                BindKind::Transmitter,
                BindKind::Receiver,
                BindKind::Transceiver,
            ][k as usize % 3];
            let _ = p.esme_bind(BindRequest::new(kind, "esme", "pw"));
        }
        Op::Accept(accept) => {
            let last = p.smsc_events.iter().rev().find_map(|e| match e {
                Event::BindRequested {
                    sequence_number, ..
                } => Some(*sequence_number),
                _ => None,
            });
            if let Some(seq) = last {
                let _ = if accept {
                    p.smsc.accept_bind(now, seq, "smsc")
                } else {
                    p.smsc.reject_bind(now, seq, CommandStatus::ESME_RINVPASWD)
                };
            }
        }
        Op::Unbind(side) => {
            let _ = p.unbind(side);
        }
        Op::Close(side) => p.session(side).close(now),
        Op::Outbind => {
            let _ = p.smsc.outbind(now, "smsc", "pw");
        }
        Op::Deliver(to, max, chunk) => {
            p.chunk = Some(chunk as usize);
            p.deliver(to, max as usize);
        }
        Op::Flush => {
            p.chunk = None;
            p.transfer();
        }
        Op::Eof(side) => {
            p.session(side).handle_eof(now);
            match side {
                Side::Esme => p.wire_to_esme.clear(),
                Side::Smsc => p.wire_to_smsc.clear(),
            }
        }
        Op::Inject(to, kind, pick) => {
            let bytes = faulty_response(p, to, kind, pick);
            p.session(to).handle_input(now, &bytes);
        }
        Op::Tick(ms) => tick_to(p, now + Duration::from_millis(ms as u64))?,
        Op::NextTimeout => {
            if let Some(t) = p.next_timeout() {
                tick_to(p, t)?;
            }
        }
    }
    Ok(())
}

/// A pair with these automatic applications, bound in one of the three modes (or not, for
/// `prebind` 3).
fn start(esme: Config, smsc: Config, auto: (bool, bool, bool), prebind: u8) -> Pair {
    let mut p = Pair::new(esme, smsc);
    if let Some(kind) = [
        BindKind::Transmitter,
        BindKind::Receiver,
        BindKind::Transceiver,
    ]
    .get(prebind as usize)
    {
        p.bind(*kind);
    }
    (p.auto_esme, p.auto_smsc, p.auto_accept_bind) = auto;
    p
}

fn check(p: &Pair, require_all: bool) -> Result<(), TestCaseError> {
    check_accounting(Role::Esme, &p.esme_started, &p.esme_events, require_all)
        .map_err(|e| TestCaseError::fail(format!("ESME: {e}")))?;
    check_accounting(Role::Smsc, &p.smsc_started, &p.smsc_events, require_all)
        .map_err(|e| TestCaseError::fail(format!("SMSC: {e}")))?;
    // The window counts exactly the application requests not resolved yet.
    for (side, started, events) in [
        (Side::Esme, &p.esme_started, &p.esme_events),
        (Side::Smsc, &p.smsc_started, &p.smsc_events),
    ] {
        let open = started
            .iter()
            .filter(|s| s.kind == Kind::App)
            .filter(|s| {
                !events.iter().any(|e| match e {
                    Event::Response {
                        sequence_number, ..
                    }
                    | Event::ResponseTimeout {
                        sequence_number, ..
                    }
                    | Event::RequestFailed {
                        sequence_number, ..
                    } => *sequence_number == s.seq,
                    _ => false,
                })
            })
            .count();
        let session = match side {
            Side::Esme => &p.esme,
            Side::Smsc => &p.smsc,
        };
        prop_assert_eq!(session.in_flight(), open, "{:?} window count", side);
        prop_assert!(session.in_flight() <= session.config().window);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn random_interleavings_resolve_every_request_once(
        esme_config in session_config(),
        smsc_config in session_config(),
        auto in (any::<bool>(), any::<bool>(), any::<bool>()),
        prebind in 0u8..4,
        ops in proptest::collection::vec(op(), 0..100),
        finish_naturally in any::<bool>(),
    ) {
        let mut p = start(esme_config, smsc_config, auto, prebind);
        for op in &ops {
            apply(&mut p, op)?;
            p.pull();
            p.drain_events();
            p.auto_respond();
            p.pull();
            check(&p, false)?;
        }
        if finish_naturally {
            // Let the link and the timers finish what was started.
            p.chunk = None;
            p.drive();
            p.run_until_closed(Duration::from_secs(120));
        }
        let now = p.now;
        p.esme.close(now);
        p.smsc.close(now);
        p.drain_events();
        check(&p, true)?;
        prop_assert!(p.esme.is_closed() && p.smsc.is_closed());
        prop_assert_eq!(p.esme.in_flight(), 0);
        prop_assert_eq!(p.smsc.in_flight(), 0);
    }
}

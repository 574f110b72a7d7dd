//! The caller-driven client (`smpp_client::direct::DirectClient`) over 127.0.0.1: the
//! threaded client's integration tests where they apply (bind modes, a refused bind, the
//! window kept full, response timeouts, enquire_link when idle, receipts and MO through the
//! lifecycle layer, a multi-part message with one report, TLS over a rustls `StreamOwned`),
//! a peer that closes under requests in flight, and a stalled peer that stops reading and
//! answering.
//!
//! Every wait is bounded: each test drives the client with `poll` under a deadline, and
//! the peers' waits are bounded by `WAIT`.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{sm, CountingProxy, DeliverKind, Knobs, WAIT};
use smpp_client::direct::{DirectClient, Event, RequestId, TextId};
use smpp_client::{ClientConfig, Error, InboundKind, Outcome, SegmentState, TextOptions};
use smpp_client::{Report, UnbindOutcome};
use smpp_lifecycle::ReceiptMatch;
use smpp_pdu::concat::SplitMethod;
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{BindTransceiverResp, CommandId, CommandStatus, Pdu, QuerySm};
use smpp_session::{BindKind, CloseReason, SendError};

/// A configuration with short timeouts, so that a failing test ends quickly.
fn cfg(kind: BindKind) -> ClientConfig {
    let mut c = ClientConfig::new(kind, "esme", "pw").response_timeout(Duration::from_secs(3));
    c.session.unbind_timeout = Duration::from_secs(1);
    c.session.bind_timeout = Duration::from_secs(3);
    c.transport.connect_timeout = Duration::from_secs(3);
    c
}

fn connect(addr: SocketAddr, config: ClientConfig) -> DirectClient<TcpStream> {
    DirectClient::connect(addr, config).expect("connect and bind")
}

/// Polls until `done` says so, collecting every event, at most `WAIT`.
fn drive<S>(c: &mut DirectClient<S>, mut done: impl FnMut(&[Event]) -> bool) -> Vec<Event>
where
    S: Read + Write + smpp_client::direct::Timeouts,
{
    let end = Instant::now() + WAIT;
    let mut events = Vec::new();
    while !done(&events) {
        assert!(
            Instant::now() < end,
            "gave up after {WAIT:?}; events so far: {events:#?}"
        );
        if let Some(e) = c.poll(Duration::from_millis(50)).expect("poll") {
            events.push(e);
        }
    }
    events
}

/// The responses among `events`, by request.
fn responses(events: &[Event]) -> HashMap<RequestId, &Result<Pdu<'static>, Error>> {
    let mut map = HashMap::new();
    for e in events {
        if let Event::Response { id, result } = e {
            assert!(map.insert(*id, result).is_none(), "{id:?} resolved twice");
        }
    }
    map
}

fn message_id(r: &Result<Pdu<'static>, Error>) -> String {
    match r {
        Ok(Pdu {
            body: smpp_pdu::Body::SubmitSmResp(r),
            ..
        }) => r.message_id.to_str_lossy().into_owned(),
        other => panic!("not a submit_sm_resp: {other:?}"),
    }
}

#[test]
fn binds_as_transmitter_receiver_and_transceiver() {
    let smsc = common::Smsc::start(Knobs::default());
    for kind in [
        BindKind::Transmitter,
        BindKind::Receiver,
        BindKind::Transceiver,
    ] {
        let mut c = connect(smsc.addr, cfg(kind));
        assert!(c.is_bound());
        let r = c.submit(&sm("hi"));
        match kind {
            BindKind::Receiver => assert!(
                matches!(r, Err(Error::Refused(SendError::InvalidState { .. }))),
                "a receiver may not submit: {r:?}"
            ),
            _ => {
                let id = r.expect("submit");
                let events = drive(&mut c, |e| !e.is_empty());
                let rs = responses(&events);
                assert!(!message_id(rs[&id]).is_empty());
            }
        }
        assert_eq!(c.unbind().expect("unbind"), UnbindOutcome::Acknowledged);
        // The close is the last event, then the client is closed.
        let mut last = None;
        while let Ok(Some(e)) = c.poll(Duration::ZERO) {
            last = Some(e);
        }
        assert!(
            matches!(
                last,
                Some(Event::Closed {
                    reason: CloseReason::Unbound,
                    error: None
                })
            ),
            "{last:?}"
        );
        assert!(matches!(c.poll(Duration::ZERO), Err(Error::Closed)));
        assert!(matches!(c.submit(&sm("late")), Err(Error::Closed)));
    }
    smsc.expect("three binds and three unbinds", |s| {
        s.binds
            == [
                BindKind::Transmitter,
                BindKind::Receiver,
                BindKind::Transceiver,
            ]
            && s.unbinds_received == 3
    });
}

#[test]
fn a_refused_bind_is_bind_rejected_with_the_status() {
    let smsc = common::Smsc::start(Knobs {
        credentials: Some(("esme".into(), "right".into())),
        ..Knobs::default()
    });
    match DirectClient::connect(smsc.addr, cfg(BindKind::Transceiver)) {
        Err(Error::BindRejected(s)) => assert_eq!(s, CommandStatus::ESME_RINVPASWD),
        other => panic!("{other:?}"),
    }
    // A closed port is a connect error, at once.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    match DirectClient::connect(closed, cfg(BindKind::Transceiver)) {
        Err(Error::Connect(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_window_is_kept_full_and_never_exceeded() {
    const WINDOW: usize = 8;
    const COUNT: usize = 64;
    let smsc = common::Smsc::start(Knobs {
        delay: Duration::from_millis(30),
        ..Knobs::default()
    });
    let mut c = connect(smsc.addr, cfg(BindKind::Transceiver).window(WINDOW));
    let mut sent = Vec::new();
    let mut ids = HashSet::new();
    let end = Instant::now() + WAIT;
    while ids.len() < COUNT {
        assert!(Instant::now() < end, "{} of {COUNT}", ids.len());
        while sent.len() < COUNT && c.has_room() {
            sent.push(c.submit(&sm(&format!("window {}", sent.len()))).unwrap());
            assert!(c.in_flight() <= WINDOW);
        }
        if sent.len() < COUNT {
            // A full window is a typed refusal, not a wait.
            assert!(matches!(
                c.submit(&sm("one too many")),
                Err(Error::Refused(SendError::WindowFull))
            ));
        }
        match c.poll(Duration::from_millis(100)).unwrap() {
            Some(Event::Response { id, result }) => {
                assert!(sent.contains(&id));
                assert!(ids.insert(message_id(&result)), "a fresh id");
            }
            Some(other) => panic!("{other:?}"),
            None => {}
        }
    }
    let s = smsc.stats();
    assert_eq!(s.max_outstanding, WINDOW, "kept full, never exceeded");
    assert_eq!(s.accepted.len(), COUNT);
    // Other requests go the same way.
    let q = c
        .request(smpp_pdu::Body::from(QuerySm {
            message_id: "1000".into(),
            ..Default::default()
        }))
        .unwrap();
    let events = drive(&mut c, |e| !e.is_empty());
    match &responses(&events)[&q] {
        Ok(p) => assert_eq!(p.command_id(), CommandId::QUERY_SM_RESP),
        other => panic!("{other:?}"),
    }
    c.unbind().unwrap();
}

/// A bare SMPP peer that answers the bind and then, as `stall` says, reads and ignores
/// everything (`false`) or stops reading altogether (`true`), until the test ends it.
fn silent_peer(stall: bool) -> (SocketAddr, mpsc::Sender<()>, JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (stop, stopped) = mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        if !common::accept_bind(&mut s, "silent") {
            return;
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stopped.recv_timeout(Duration::from_millis(20)) {
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            if !stall && matches!(s.read(&mut buf), Ok(0)) {
                return;
            }
        }
    });
    (addr, stop, t)
}

#[test]
fn requests_without_an_answer_time_out_once_each() {
    let (addr, stop, peer) = silent_peer(false);
    let config = cfg(BindKind::Transceiver).response_timeout(Duration::from_millis(300));
    let mut c = connect(addr, config);
    let ids: Vec<RequestId> = (0..3)
        .map(|i| c.submit(&sm(&format!("unanswered {i}"))).unwrap())
        .collect();
    let t = Instant::now();
    let events = drive(&mut c, |e| e.len() >= 3);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );
    let rs = responses(&events);
    for id in &ids {
        assert!(matches!(rs[id], Err(Error::Timeout)), "{:?}", rs[id]);
    }
    // Nothing more comes for them.
    assert!(c.poll(Duration::from_millis(200)).unwrap().is_none());
    assert_eq!(c.stats().session.response_timeouts, 3);
    // The peer does not answer the unbind either: it ends at the unbind timeout.
    let t = Instant::now();
    assert!(matches!(c.unbind(), Err(Error::Timeout)));
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let _ = stop.send(());
    peer.join().unwrap();
}

#[test]
fn a_stalled_peer_times_requests_out_and_never_blocks_a_call_past_its_timeout() {
    // The peer binds us, then neither reads nor answers: once the socket buffers are full
    // every write blocks. Each request carries 60 KB, 400 of them (24 MB) in the window.
    let (addr, stop, peer) = silent_peer(true);
    let mut config = cfg(BindKind::Transceiver)
        .window(400)
        .response_timeout(Duration::from_secs(1))
        .enquire_link_interval(None);
    config.session.unbind_timeout = Duration::from_millis(500);
    let mut c = connect(addr, config);
    let mut big = sm("");
    big.tlvs
        .push(Tlv::MessagePayload(vec![b'x'; 60_000].into()));
    let mut ids = Vec::new();
    while c.has_room() {
        ids.push(c.submit(&big).unwrap());
    }
    assert_eq!(ids.len(), 400);
    let start = Instant::now();
    // The peer's buffers fill up: writes block, and what they could not take waits here.
    assert!(c.poll(Duration::from_millis(100)).unwrap().is_none());
    assert!(
        c.unwritten() > 1_000_000,
        "only {} octets left unwritten",
        c.unwritten()
    );
    let mut resolved: HashMap<RequestId, Error> = HashMap::new();
    while resolved.len() < ids.len() {
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "only {} resolved",
            resolved.len()
        );
        let t = Instant::now();
        let e = c.poll(Duration::from_millis(100)).unwrap();
        // A call never blocks much past its timeout, however full the socket is.
        assert!(
            t.elapsed() < Duration::from_millis(400),
            "{:?}",
            t.elapsed()
        );
        match e {
            Some(Event::Response { id, result }) => {
                let err = result.expect_err("nobody answers");
                assert!(resolved.insert(id, err).is_none(), "{id:?} twice");
            }
            Some(other) => panic!("{other:?}"),
            None => {}
        }
    }
    assert!(resolved.values().all(|e| matches!(e, Error::Timeout)));
    // Every request within its timeout and a margin.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // The unbind cannot even be written: it ends at its timeout, the session with it.
    let t = Instant::now();
    assert!(matches!(c.unbind(), Err(Error::Timeout)));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(matches!(
        drive(&mut c, |e| !e.is_empty()).pop(),
        Some(Event::Closed { .. })
    ));
    let _ = stop.send(());
    peer.join().unwrap();
}

#[test]
fn a_peer_that_closes_fails_each_request_in_flight_once() {
    let smsc = common::Smsc::start(Knobs {
        delay: Duration::from_secs(10),
        drop_after: Some(5),
        ..Knobs::default()
    });
    let mut c = connect(smsc.addr, cfg(BindKind::Transceiver).window(10));
    let ids: Vec<RequestId> = (0..5)
        .map(|i| c.submit(&sm(&format!("doomed {i}"))).unwrap())
        .collect();
    let t = Instant::now();
    let events = drive(&mut c, |e| {
        e.iter().any(|e| matches!(e, Event::Closed { .. }))
    });
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let rs = responses(&events);
    assert_eq!(rs.len(), 5);
    for id in &ids {
        assert!(
            matches!(rs[id], Err(e @ Error::Disconnected) if e.is_transient()),
            "{:?}",
            rs[id]
        );
    }
    assert!(matches!(
        events.last(),
        Some(Event::Closed {
            reason: CloseReason::PeerClosed,
            ..
        })
    ));
    assert!(matches!(c.submit(&sm("after")), Err(Error::Closed)));
    assert!(matches!(c.unbind(), Err(Error::Closed)));
}

#[test]
fn enquire_link_is_sent_when_the_link_is_idle() {
    let smsc = common::Smsc::start(Knobs::default());
    let proxy = CountingProxy::start(smsc.addr);
    let mut config =
        cfg(BindKind::Transceiver).enquire_link_interval(Some(Duration::from_millis(100)));
    // An unanswered enquire_link would close the link within this.
    config.session.enquire_link_timeout = Duration::from_millis(500);
    let mut c = connect(proxy.addr, config);
    let t = Instant::now();
    // The caller drives it (as it must, at least once per interval); nothing comes back
    // but the answers to the keep-alives, which are no events.
    while t.elapsed() < Duration::from_millis(700) {
        assert!(c.poll(Duration::from_millis(50)).unwrap().is_none());
    }
    assert!(
        proxy.wait_enquire_links(5, WAIT),
        "only {} enquire_links",
        proxy.enquire_links()
    );
    assert!(c.is_bound());
    assert!(smsc.stats().closed.is_empty(), "{}", smsc.summary());
    let id = c.submit(&sm("still here")).unwrap();
    let events = drive(&mut c, |e| !e.is_empty());
    assert!(responses(&events)[&id].is_ok());
    c.unbind().unwrap();
}

#[test]
fn receipts_and_mo_come_through_the_lifecycle_layer_and_are_acknowledged() {
    let smsc = common::Smsc::start(Knobs {
        receipts: true,
        ..Knobs::default()
    });
    let mut c = connect(smsc.addr, cfg(BindKind::Transceiver));
    let mut m = sm("receipt me");
    m.registered_delivery = 1;
    let id = c.submit(&m).unwrap();
    let events = drive(&mut c, |e| {
        e.iter()
            .any(|e| matches!(e, Event::Inbound(InboundKind::Receipt { .. })))
            && !responses(e).is_empty()
    });
    let msg_id = message_id(responses(&events)[&id]);
    let receipt = events
        .iter()
        .find_map(|e| match e {
            Event::Inbound(InboundKind::Receipt {
                receipt, matched, ..
            }) => Some((receipt, matched)),
            _ => None,
        })
        .unwrap();
    assert_eq!(receipt.0.id, msg_id);
    assert_eq!(receipt.0.state, ReceiptState::Delivered);
    // A raw submit is not tracked: the tracker says it matched nothing it knows of yet.
    assert!(
        matches!(receipt.1, ReceiptMatch::Held | ReceiptMatch::Unmatched(_)),
        "{:?}",
        receipt.1
    );
    assert!(smsc.inject_mo("447700900001", "12345", "Hello from the handset"));
    let events = drive(&mut c, |e| {
        e.iter()
            .any(|e| matches!(e, Event::Inbound(InboundKind::Message { .. })))
    });
    let (message, pdu) = events
        .iter()
        .find_map(|e| match e {
            Event::Inbound(InboundKind::Message { message, pdu }) => Some((message, pdu)),
            _ => None,
        })
        .unwrap();
    assert_eq!(message.text.as_deref(), Some("Hello from the handset"));
    assert_eq!(message.segments, 1);
    assert_eq!(message.source.addr, "447700900001");
    assert!(pdu.is_some(), "the one PDU that carried it");
    smsc.expect("the receipt and the MO acknowledged", |s| {
        s.deliver_statuses(DeliverKind::Receipt) == [CommandStatus::ESME_ROK]
            && s.deliver_statuses(DeliverKind::Mo) == [CommandStatus::ESME_ROK]
    });
    c.unbind().unwrap();
}

/// Drives `c` until the text `id` is sent and `n` reports came; the text's result, the
/// reports by reference, and how many receipts came as items of their own.
fn text_and_reports<S>(
    c: &mut DirectClient<S>,
    id: TextId,
    n: usize,
) -> (Vec<String>, HashMap<String, Report>, usize)
where
    S: Read + Write + smpp_client::direct::Timeouts,
{
    let events = drive(c, |e| {
        e.iter()
            .filter(|e| matches!(e, Event::Inbound(InboundKind::Report(_))))
            .count()
            >= n
            && e.iter().any(|e| matches!(e, Event::Sent { .. }))
    });
    let mut ids = None;
    let mut reports = HashMap::new();
    let mut receipts = 0;
    for e in events {
        match e {
            Event::Sent { id: t, result } => {
                assert_eq!(t, id);
                assert!(ids.is_none(), "sent twice");
                ids = Some(result.expect("sent").message_ids);
            }
            Event::Inbound(InboundKind::Report(r)) => {
                assert!(
                    reports.insert(String::from(&r.reference), r).is_none(),
                    "a second report"
                );
            }
            Event::Inbound(InboundKind::Receipt { matched, .. }) => {
                assert!(
                    matches!(matched, ReceiptMatch::Matched { .. }),
                    "{matched:?}"
                );
                receipts += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    (ids.expect("the text's event"), reports, receipts)
}

#[test]
fn a_long_text_is_tracked_and_gets_one_report_for_its_segments() {
    let smsc = smpp_smsc::Smsc::start(
        smpp_smsc::SmscConfig::default()
            .receipt_delay(Duration::from_millis(5))
            .receipt_before_response(false),
    )
    .expect("SMSC");
    // A window of 2 for a text of 3 segments: the third waits for room.
    let mut c = connect(smsc.local_addr(), cfg(BindKind::Transceiver).window(2));
    let text = "A long text that needs three segments to go out whole. ".repeat(6);
    let options = TextOptions::default()
        .registered_delivery(1)
        .reference("long-1");
    let id = c
        .send_text("MyBrand", "+447700900123", &text, &options)
        .unwrap();
    // The window is full and a segment waits: no room for another text.
    assert!(!c.has_room());
    assert!(matches!(
        c.send_text("MyBrand", "+447700900123", "more", &TextOptions::default()),
        Err(Error::Refused(SendError::WindowFull))
    ));
    let (ids, reports, receipts) = text_and_reports(&mut c, id, 1);
    assert_eq!(ids.len(), 3, "three segments");
    // By default a tracked message's receipts come inside its report only.
    assert_eq!(receipts, 0, "no receipt item of its own");
    let r = &reports["long-1"];
    assert_eq!(r.outcome, Outcome::Delivered);
    assert_eq!(r.segments.len(), 3);
    for (s, id) in r.segments.iter().zip(&ids) {
        assert_eq!(s.message_id.as_deref(), Some(id.as_str()));
        assert_eq!(
            s.state,
            SegmentState::Final(ReceiptState::Delivered),
            "{s:?}"
        );
        assert_eq!(s.receipt.as_ref().map(|r| r.id.as_str()), Some(id.as_str()));
    }
    assert!(smsc.wait_for(WAIT, |s| s.submits == 3 && s.delivers_acked == 3));
    assert_eq!(c.lifecycle().tracker().tracked(), 0, "nothing left open");
    c.unbind().unwrap();
    smsc.shutdown();
}

#[test]
fn a_long_mo_in_segments_arrives_as_one_message() {
    let text = "Long MO text from a handset, long enough for several segments: ".repeat(5);
    for split in [SplitMethod::Udh8, SplitMethod::Sar] {
        let smsc =
            smpp_smsc::Smsc::start(smpp_smsc::SmscConfig::default().mo_split(split)).expect("SMSC");
        let mut c = connect(smsc.local_addr(), cfg(BindKind::Receiver));
        smsc.inject_mo("esme", "447700900123", "12345", &text)
            .expect("MO");
        let events = drive(&mut c, |e| !e.is_empty());
        match &events[..] {
            [Event::Inbound(InboundKind::Message { message, pdu })] => {
                assert_eq!(message.text.as_deref(), Some(text.as_str()), "{split:?}");
                assert!(message.segments >= 3, "{split:?}: {}", message.segments);
                assert!(pdu.is_none(), "no single PDU carried it");
                let n = u64::from(message.segments);
                assert!(
                    smsc.wait_for(WAIT, |s| s.delivers_acked == n),
                    "every segment answered"
                );
            }
            other => panic!("{split:?}: {other:?}"),
        }
        c.unbind().unwrap();
        smsc.shutdown();
    }
}

#[test]
fn messages_left_open_are_reported_when_the_session_ends() {
    // Receipts that never come: the unbind ends the session, and the open message gets its
    // one report then (no receipt can come any more).
    let smsc = common::Smsc::start(Knobs::default());
    let mut c = connect(smsc.addr, cfg(BindKind::Transceiver));
    let options = TextOptions::default()
        .registered_delivery(1)
        .reference("open-1");
    let id = c
        .send_text("MyBrand", "447700900123", "no receipt for me", &options)
        .unwrap();
    let events = drive(&mut c, |e| {
        e.iter().any(|e| matches!(e, Event::Sent { .. }))
    });
    assert!(matches!(&events[..], [Event::Sent { id: t, result: Ok(_) }] if *t == id));
    c.unbind().unwrap();
    let mut reports = Vec::new();
    while let Ok(Some(e)) = c.poll(Duration::ZERO) {
        if let Event::Inbound(InboundKind::Report(r)) = e {
            reports.push(r);
        }
    }
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].reference, "open-1");
    assert_eq!(reports[0].outcome, Outcome::Expired);
}

#[cfg(feature = "tls")]
#[path = "../../smpp-smsc/tests/pki/mod.rs"]
mod pki;

#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use smpp_transport::blocking::connect_tls;
    use smpp_transport::TlsClientConfig;

    /// A CA and a server certificate it signed for 127.0.0.1, as PEM: (ca, cert, key).
    fn certificates() -> (String, String, String) {
        let p = super::pki::pki(&["127.0.0.1"]);
        (p.ca, p.cert, p.key)
    }

    #[test]
    fn binds_submits_and_gets_receipts_over_a_rustls_stream() {
        let (ca, cert, key) = certificates();
        let smsc = smpp_smsc::Smsc::start(
            smpp_smsc::SmscConfig::default()
                .receipt_delay(Duration::from_millis(5))
                .tls(cert.as_bytes(), key.as_bytes())
                .unwrap(),
        )
        .expect("SMSC");
        let tls = TlsClientConfig::with_ca_pem(ca.as_bytes()).unwrap();
        let stream = connect_tls(smsc.local_addr(), &tls, Duration::from_secs(3)).unwrap();
        let mut c = DirectClient::bind(stream, cfg(BindKind::Transceiver)).expect("bind");
        assert!(!c.get_ref().conn.is_handshaking());
        let options = TextOptions::default()
            .registered_delivery(1)
            .reference("tls-1");
        let id = c
            .send_text("MyBrand", "447700900123", "over TLS", &options)
            .unwrap();
        let (ids, reports, receipts) = text_and_reports(&mut c, id, 1);
        assert_eq!(ids.len(), 1);
        assert_eq!(receipts, 0, "the receipt comes inside the report");
        assert_eq!(reports["tls-1"].outcome, Outcome::Delivered);
        assert!(reports["tls-1"].segments[0].receipt.is_some());
        assert_eq!(c.unbind().unwrap(), UnbindOutcome::Acknowledged);
        smsc.shutdown();
    }

    #[test]
    fn a_certificate_from_another_ca_fails_the_bind_with_the_reason() {
        let (_, cert, key) = certificates();
        let (other_ca, _, _) = certificates();
        let smsc = smpp_smsc::Smsc::start(
            smpp_smsc::SmscConfig::default()
                .tls(cert.as_bytes(), key.as_bytes())
                .unwrap(),
        )
        .expect("SMSC");
        let tls = TlsClientConfig::with_ca_pem(other_ca.as_bytes()).unwrap();
        let stream = connect_tls(smsc.local_addr(), &tls, Duration::from_secs(3)).unwrap();
        let t = Instant::now();
        match DirectClient::bind(stream, cfg(BindKind::Transceiver)) {
            Err(Error::Connect(e)) => {
                assert!(e.to_string().to_lowercase().contains("certificate"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        smsc.shutdown();
    }
}

/// An in-memory stream: reads return the chunks given (then `WouldBlock`), writes are kept.
#[derive(Default)]
struct Double {
    input: std::collections::VecDeque<Vec<u8>>,
    written: Vec<u8>,
}

impl Read for Double {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(mut chunk) = self.input.pop_front() else {
            return Err(std::io::ErrorKind::WouldBlock.into());
        };
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.input.push_front(chunk.split_off(n));
        }
        Ok(n)
    }
}

impl Write for Double {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl smpp_client::direct::Timeouts for Double {
    fn set_read_timeout(&mut self, _: Option<Duration>) -> std::io::Result<()> {
        Ok(())
    }

    fn set_write_timeout(&mut self, _: Option<Duration>) -> std::io::Result<()> {
        Ok(())
    }
}

/// A client bound over a [`Double`] (the bind answered in the script).
fn bound_double() -> DirectClient<Double> {
    let mut resp = Vec::new();
    Pdu::new(
        1,
        BindTransceiverResp {
            system_id: "double".into(),
            tlvs: vec![],
        },
    )
    .encode(&mut resp)
    .unwrap();
    let mut double = Double::default();
    double.input.push_back(resp);
    let config = ClientConfig::new(BindKind::Transceiver, "esme", "pw-7x9q");
    DirectClient::bind(double, config).expect("bound")
}

#[test]
fn garbage_from_the_peer_never_panics_and_resolves_every_request_once() {
    // A small xorshift: the same garbage on every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..200 {
        let mut c = bound_double();
        assert!(!format!("{c:?}").contains("pw-7x9q"), "{c:?}");
        let ids: Vec<RequestId> = (0..3).map(|_| c.submit(&sm("x")).unwrap()).collect();
        // Garbage: random octets, sometimes behind a plausible header.
        let len = (next() % 300) as usize;
        let mut junk: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 2 == 0 && junk.len() >= 16 {
            let n = junk.len() as u32;
            junk[..4].copy_from_slice(&n.to_be_bytes());
        }
        c.get_mut().input.push_back(junk);
        // And the peer goes away: whatever the garbage did, every request resolves.
        c.get_mut().input.push_back(Vec::new());
        let mut resolved = HashSet::new();
        let mut closed = false;
        for _ in 0..100 {
            match c.poll(Duration::from_millis(1)) {
                Ok(Some(Event::Response { id, .. })) => {
                    assert!(ids.contains(&id));
                    assert!(resolved.insert(id), "round {round}: {id:?} twice");
                }
                Ok(Some(Event::Closed { .. })) => closed = true,
                Ok(Some(other)) => {
                    // Garbage that decodes as a deliver_sm is handed on; fine.
                    let _ = other;
                }
                Ok(None) => {}
                Err(Error::Closed) => break,
                Err(e) => panic!("round {round}: {e}"),
            }
        }
        assert!(closed, "round {round}: no close");
        assert_eq!(resolved.len(), 3, "round {round}");
    }
}

#[test]
fn requests_are_written_at_the_next_poll_in_one_write() {
    let mut c = bound_double();
    let before = c.get_ref().written.len();
    let a = c.submit(&sm("one")).unwrap();
    let b = c.submit(&sm("two")).unwrap();
    assert_eq!(c.get_ref().written.len(), before, "queued, not written");
    assert!(c.unwritten() > 0);
    assert!(c.poll(Duration::from_millis(1)).unwrap().is_none());
    assert_eq!(c.unwritten(), 0);
    let written = c.get_ref().written[before..].to_vec();
    let (first, n) = Pdu::decode(&written).unwrap().unwrap();
    let (second, _) = Pdu::decode(&written[n..]).unwrap().unwrap();
    assert_eq!(
        (first.sequence_number, second.sequence_number),
        (a.sequence_number(), b.sequence_number())
    );
    // Their responses, in the other order, resolve each its own request.
    for (seq, id) in [(b.sequence_number(), "B"), (a.sequence_number(), "A")] {
        let mut out = Vec::new();
        Pdu::new(
            seq,
            smpp_pdu::SubmitSmResp {
                message_id: id.into(),
                tlvs: vec![],
            },
        )
        .encode(&mut out)
        .unwrap();
        c.get_mut().input.push_back(out);
    }
    let events = drive(&mut c, |e| e.len() == 2);
    let rs = responses(&events);
    assert_eq!(message_id(rs[&a]), "A");
    assert_eq!(message_id(rs[&b]), "B");
    let stream = c.into_inner();
    assert!(stream.input.is_empty());
}

#[test]
fn unbind_completes_with_events_not_yet_polled_and_keeps_them() {
    let mut c = bound_double();
    let ids: Vec<RequestId> = (0..3)
        .map(|i| c.submit(&sm(&format!("kept {i}"))).unwrap())
        .collect();
    // The three responses in one read, then the answer to the unbind that comes next.
    let mut chunk = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        Pdu::new(
            id.sequence_number(),
            smpp_pdu::SubmitSmResp {
                message_id: format!("M{n}").into(),
                tlvs: vec![],
            },
        )
        .encode(&mut chunk)
        .unwrap();
    }
    c.get_mut().input.push_back(chunk);
    let unbind_seq = ids[2].sequence_number() + 1;
    let mut resp = Vec::new();
    Pdu::new(unbind_seq, smpp_pdu::UnbindResp::default())
        .encode(&mut resp)
        .unwrap();
    c.get_mut().input.push_back(resp);
    // One event taken; two wait queued.
    let first = drive(&mut c, |e| !e.is_empty());
    assert_eq!(c.in_flight(), 0);
    assert_eq!(c.unbind().unwrap(), UnbindOutcome::Acknowledged);
    let mut rest = Vec::new();
    while let Ok(Some(e)) = c.poll(Duration::ZERO) {
        rest.push(e);
    }
    assert!(matches!(
        rest.pop(),
        Some(Event::Closed {
            reason: CloseReason::Unbound,
            ..
        })
    ));
    assert_eq!(rest.len(), 2, "{rest:?}");
    let all: Vec<Event> = first.into_iter().chain(rest).collect();
    let rs = responses(&all);
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(message_id(rs[id]), format!("M{n}"));
    }
    // The unbind went out after the submits.
    let written = c.get_ref().written.clone();
    let mut at = 0;
    let mut seqs = Vec::new();
    while let Ok(Some((p, n))) = Pdu::decode(&written[at..]) {
        seqs.push((p.command_id(), p.sequence_number));
        at += n;
    }
    assert_eq!(seqs.last(), Some(&(CommandId::UNBIND, unbind_seq)));
}

#[test]
fn events_keep_the_order_of_the_input() {
    let mut c = bound_double();
    let a = c.submit(&sm("a")).unwrap();
    let b = c.submit(&sm("b")).unwrap();
    assert!(c.poll(Duration::from_millis(1)).unwrap().is_none());
    // One read: a's response, an MO, b's response.
    let mut chunk = Vec::new();
    let resp = |seq: u32, id: &str, out: &mut Vec<u8>| {
        Pdu::new(
            seq,
            smpp_pdu::SubmitSmResp {
                message_id: id.to_string().into(),
                tlvs: vec![],
            },
        )
        .encode(out)
        .unwrap();
    };
    resp(a.sequence_number(), "A", &mut chunk);
    Pdu::new(
        7,
        smpp_pdu::DeliverSm {
            source_addr: "447700900001".into(),
            destination_addr: "12345".into(),
            short_message: "between".into(),
            ..Default::default()
        },
    )
    .encode(&mut chunk)
    .unwrap();
    resp(b.sequence_number(), "B", &mut chunk);
    c.get_mut().input.push_back(chunk);
    let events = drive(&mut c, |e| e.len() == 3);
    match &events[..] {
        [Event::Response { id: first, .. }, Event::Inbound(InboundKind::Message { message, .. }), Event::Response { id: second, .. }] =>
        {
            assert_eq!((*first, *second), (a, b));
            assert_eq!(message.text.as_deref(), Some("between"));
        }
        other => panic!("{other:?}"),
    }
    // The MO was answered ESME_ROK, in the same poll.
    let written = c.get_ref().written.clone();
    let mut at = 0;
    let mut last = None;
    while let Ok(Some((p, n))) = Pdu::decode(&written[at..]) {
        last = Some((p.command_id(), p.sequence_number, p.command_status));
        at += n;
    }
    assert_eq!(
        last,
        Some((CommandId::DELIVER_SM_RESP, 7, CommandStatus::ESME_ROK))
    );
}

#[test]
fn what_comes_with_the_bind_response_is_kept_for_the_first_poll() {
    let mut chunk = Vec::new();
    Pdu::new(
        1,
        BindTransceiverResp {
            system_id: "double".into(),
            tlvs: vec![],
        },
    )
    .encode(&mut chunk)
    .unwrap();
    Pdu::new(
        9,
        smpp_pdu::DeliverSm {
            source_addr: "447700900001".into(),
            destination_addr: "12345".into(),
            short_message: "right after the bind".into(),
            ..Default::default()
        },
    )
    .encode(&mut chunk)
    .unwrap();
    let mut double = Double::default();
    double.input.push_back(chunk);
    let config = ClientConfig::new(BindKind::Transceiver, "esme", "pw");
    let mut c = DirectClient::bind(double, config).expect("bound");
    assert_eq!(c.queued_events(), 1);
    match c.poll(Duration::ZERO).unwrap() {
        Some(Event::Inbound(InboundKind::Message { message, .. })) => {
            assert_eq!(message.text.as_deref(), Some("right after the bind"))
        }
        other => panic!("{other:?}"),
    }
}

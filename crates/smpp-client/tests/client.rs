//! The blocking client against the in-test SMSC (tests/common), over 127.0.0.1.
//!
//! Every wait is bounded: the SMSC's counters are awaited on a condition variable, client
//! calls are bounded by short response timeouts, and the few states with nothing to wait
//! on (`is_connected`) are polled with a deadline.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{poll_until, sm, CountingProxy, DeliverKind, Knobs, Smsc, WAIT};
use smpp_client::{Backoff, Client, ClientConfig, Error, TextOptions, ThrottlePolicy};
use smpp_pdu::concat::{self, Pushed, Reassembler, SplitMethod};
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::text::{self, Encoding};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    CancelSm, CommandId, CommandStatus, DataSm, DestAddress, QuerySm, ReplaceSm, SubmitMulti,
    SubmitSm,
};
use smpp_session::{BindKind, SendError};
use smpp_transport::TransportError;

/// A configuration with short timeouts, so that a failing test ends quickly.
fn cfg(kind: BindKind) -> ClientConfig {
    let mut c = ClientConfig::new(kind, "esme", "pw").response_timeout(Duration::from_secs(3));
    c.session.unbind_timeout = Duration::from_secs(1);
    c.session.bind_timeout = Duration::from_secs(3);
    c.transport.connect_timeout = Duration::from_secs(3);
    c
}

fn connect(smsc: &Smsc, config: ClientConfig) -> Client {
    Client::connect(smsc.addr, config).expect("connect and bind")
}

/// A request lost with its connection: `Disconnected`, which is transient.
fn is_disconnected(e: &Error) -> bool {
    matches!(e, Error::Disconnected) && e.is_transient()
}

#[test]
fn binds_as_transmitter_receiver_and_transceiver() {
    let smsc = Smsc::start(Knobs::default());
    for kind in [
        BindKind::Transmitter,
        BindKind::Receiver,
        BindKind::Transceiver,
    ] {
        let c = connect(&smsc, cfg(kind));
        assert!(c.is_connected());
        let r = c.submit(&sm("hi"));
        match kind {
            BindKind::Receiver => assert!(
                matches!(r, Err(Error::Refused(SendError::InvalidState { .. }))),
                "a receiver may not submit: {r:?}"
            ),
            _ => assert!(r.is_ok(), "{kind:?}: {r:?}"),
        }
        c.unbind().expect("unbind");
    }
    smsc.expect("three binds and unbinds", |s| {
        s.binds
            == [
                BindKind::Transmitter,
                BindKind::Receiver,
                BindKind::Transceiver,
            ]
            && s.unbinds_received == 3
            && s.closed.len() == 3
    });
    assert_eq!(smsc.stats().submitted.len(), 2);
}

#[test]
fn rejected_bind_is_bind_rejected_with_the_status() {
    let smsc = Smsc::start(Knobs {
        credentials: Some(("esme".into(), "secret".into())),
        ..Knobs::default()
    });
    let t = Instant::now();
    match Client::connect(smsc.addr, cfg(BindKind::Transceiver)) {
        Err(Error::BindRejected(s)) => assert_eq!(s, CommandStatus::ESME_RINVPASWD),
        other => panic!("expected BindRejected, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let mut good = cfg(BindKind::Transceiver);
    good.bind.password = "secret".into();
    let c = connect(&smsc, good);
    c.unbind().unwrap();
    let s = smsc.stats();
    assert_eq!(s.bind_rejects, 1);
    assert_eq!(s.binds, [BindKind::Transceiver]);
}

#[test]
fn connect_to_a_closed_port_is_a_connect_error() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let t = Instant::now();
    match Client::connect(addr, cfg(BindKind::Transceiver)) {
        Err(Error::Connect(TransportError::Io(e))) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("expected a refused connect, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn submit_returns_the_message_id_and_other_requests_are_answered() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transceiver));
    let r = c.submit(&sm("hello")).unwrap();
    let id = r.message_id.to_str_lossy().into_owned();
    assert!(!id.is_empty());
    assert_eq!(smsc.stats().accepted, [(b"hello".to_vec(), id.clone())]);

    let q = c
        .query(&QuerySm {
            message_id: id.clone().into(),
            source_addr: "12345".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.message_id.to_str_lossy(), id);
    assert_eq!(q.message_state, 2);
    c.cancel(&CancelSm {
        message_id: id.clone().into(),
        source_addr: "12345".into(),
        destination_addr: "447700900123".into(),
        ..Default::default()
    })
    .unwrap();
    c.replace(&ReplaceSm {
        message_id: id.clone().into(),
        source_addr: "12345".into(),
        short_message: "replaced".into(),
        ..Default::default()
    })
    .unwrap();
    let m = c
        .submit_multi(&SubmitMulti {
            source_addr: "12345".into(),
            dest_addresses: vec![
                DestAddress::SmeAddress {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "447700900001".into(),
                },
                DestAddress::SmeAddress {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "447700900002".into(),
                },
            ],
            short_message: "to two".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(!m.message_id.is_empty());
    assert!(m.unsuccess_smes.is_empty());
    let d = c
        .data_sm(&DataSm {
            source_addr: "12345".into(),
            destination_addr: "447700900123".into(),
            tlvs: vec![Tlv::MessagePayload("payload".into())],
            ..Default::default()
        })
        .unwrap();
    assert!(!d.message_id.is_empty());
    assert_eq!(
        smsc.stats().other_requests,
        [
            CommandId::QUERY_SM,
            CommandId::CANCEL_SM,
            CommandId::REPLACE_SM,
            CommandId::SUBMIT_MULTI,
            CommandId::DATA_SM
        ]
    );
    c.unbind().unwrap();
}

#[test]
fn submit_batch_of_ten_thousand_keeps_order_and_ids_are_unique() {
    const N: usize = 10_000;
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transmitter).window(256));
    let t = Instant::now();
    let results = c.submit_batch((0..N).map(|i| sm(&format!("batch {i}"))), 256);
    let took = t.elapsed();
    assert_eq!(results.len(), N);
    let by_text: HashMap<Vec<u8>, String> = smsc.stats().accepted.into_iter().collect();
    assert_eq!(by_text.len(), N, "the SMSC answered every message once");
    let mut ids = HashSet::new();
    for (i, r) in results.iter().enumerate() {
        let r = r.as_ref().unwrap_or_else(|e| panic!("message {i}: {e}"));
        let id = r.message_id.to_str_lossy().into_owned();
        assert_eq!(
            by_text[format!("batch {i}").as_bytes()],
            id,
            "result {i} is the answer to message {i}"
        );
        assert!(ids.insert(id), "message id of {i} is not unique");
    }
    let s = smsc.stats();
    assert_eq!(s.submitted.len(), N);
    assert!(s.max_outstanding <= 256, "{}", s.max_outstanding);
    c.unbind().unwrap();
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn submit_async_keeps_the_window_full() {
    const WINDOW: usize = 8;
    let smsc = Smsc::start(Knobs {
        delay: Duration::from_millis(30),
        ..Knobs::default()
    });
    let c = connect(&smsc, cfg(BindKind::Transceiver).window(WINDOW));
    let pendings: Vec<_> = (0..64)
        .map(|i| c.submit_async(sm(&format!("async {i}"))).unwrap())
        .collect();
    // Every message went out before the first answer could come back; the transport
    // queues what exceeds the window and feeds it as answers arrive.
    let ids: Vec<String> = pendings
        .into_iter()
        .map(|p| {
            p.wait_submit()
                .unwrap()
                .message_id
                .to_str_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 64);
    let s = smsc.stats();
    assert_eq!(
        s.max_outstanding, WINDOW,
        "the window was kept full and never exceeded"
    );
    assert_eq!(s.accepted.len(), 64);
    c.unbind().unwrap();
}

/// Reassembles the segments the SMSC received and decodes them.
fn reassemble(submits: &[SubmitSm<'static>], encoding: Encoding) -> String {
    let mut r = Reassembler::default();
    let now = Instant::now();
    let mut done = None;
    for s in submits {
        let (info, data) = concat::segment_of(s.esm_class, s.short_message.as_bytes(), &s.tlvs)
            .expect("a segment");
        // Each segment decodes on its own: no escape sequence or surrogate pair is split.
        let alone = text::decode(data, encoding).unwrap();
        assert!(!alone.contains('\u{FFFD}'), "segment {info:?}: {alone:?}");
        match r
            .push(
                now,
                s.source_addr.as_bytes(),
                s.destination_addr.as_bytes(),
                info,
                data,
            )
            .unwrap()
        {
            Pushed::Complete(m) => {
                assert!(done.is_none());
                done = Some(m);
            }
            Pushed::Pending => {}
            other => panic!("{other:?}"),
        }
    }
    let m = done.expect("the message completes");
    assert_eq!(r.pending(), 0);
    text::decode(&m.data(), encoding).unwrap()
}

fn long_unicode() -> String {
    "Привет, мир! 👋🌍 Γειά σου κόσμε — 你好，世界 🎉 ".repeat(8)
}

fn long_gsm() -> String {
    "GSM text with escapes €[]{}~^|\\ and accents àèéùì Ö Ñ Ü, line ".repeat(6)
}

#[test]
fn send_text_long_unicode_with_udh8() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transceiver));
    let text = long_unicode();
    let opts = TextOptions {
        split: SplitMethod::Udh8,
        registered_delivery: 0,
        ..TextOptions::default()
    };
    let ids = c.send_text("Brand", "447700900123", &text, &opts).unwrap();
    let units = text.encode_utf16().count();
    assert!(
        ids.len() >= units.div_ceil(67) && ids.len() > 1,
        "{} segments",
        ids.len()
    );
    let s = smsc.stats();
    assert_eq!(s.submitted.len(), ids.len());
    for (i, sm) in s.submitted.iter().enumerate() {
        assert_eq!(sm.data_coding, 8, "UCS-2");
        assert_ne!(sm.esm_class & 0x40, 0, "UDHI set");
        let (info, _) = concat::parse_udh(sm.short_message.as_bytes()).expect("a UDH");
        assert_eq!(info.seq as usize, i + 1);
        assert_eq!(info.total as usize, ids.len());
        assert!(sm.short_message.len() <= 140);
        assert!(sm.tlvs.is_empty());
    }
    assert_eq!(reassemble(&s.submitted, Encoding::Ucs2), text);
    // The ids are the SMSC's, in segment order.
    let accepted: Vec<String> = s.accepted.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids.message_ids, accepted);
    c.unbind().unwrap();
}

#[test]
fn send_text_long_gsm_with_sar() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transmitter));
    let text = long_gsm();
    assert!(text::is_gsm(&text));
    let opts = TextOptions {
        split: SplitMethod::Sar,
        registered_delivery: 0,
        ..TextOptions::default()
    };
    let ids = c.send_text("Brand", "447700900123", &text, &opts).unwrap();
    assert!(ids.len() > 1);
    let s = smsc.stats();
    assert_eq!(s.submitted.len(), ids.len());
    let mut refs = HashSet::new();
    for (i, sm) in s.submitted.iter().enumerate() {
        assert_eq!(sm.data_coding, 0, "GSM is the SMSC default");
        assert_eq!(sm.esm_class & 0x40, 0, "no UDH with SAR");
        assert!(sm.short_message.len() <= 153);
        let get = |f: fn(&Tlv<'_>) -> Option<u16>| sm.tlvs.iter().find_map(f);
        let r = get(|t| match t {
            Tlv::SarMsgRefNum(v) => Some(*v),
            _ => None,
        });
        let total = get(|t| match t {
            Tlv::SarTotalSegments(v) => Some(u16::from(*v)),
            _ => None,
        });
        let seq = get(|t| match t {
            Tlv::SarSegmentSeqnum(v) => Some(u16::from(*v)),
            _ => None,
        });
        refs.insert(r.expect("sar_msg_ref_num"));
        assert_eq!(total, Some(ids.len() as u16));
        assert_eq!(seq, Some(i as u16 + 1));
    }
    assert_eq!(refs.len(), 1, "one reference for all segments");
    assert_eq!(reassemble(&s.submitted, Encoding::Gsm7), text);
    c.unbind().unwrap();
}

#[test]
fn send_text_long_gsm_in_message_payload() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transmitter));
    let text = long_gsm();
    let opts = TextOptions {
        split: SplitMethod::Payload,
        registered_delivery: 0,
        ..TextOptions::default()
    };
    let ids = c.send_text("Brand", "447700900123", &text, &opts).unwrap();
    assert_eq!(ids.len(), 1);
    let s = smsc.stats();
    assert_eq!(s.submitted.len(), 1);
    let sm = &s.submitted[0];
    assert!(sm.short_message.is_empty());
    assert_eq!(sm.esm_class & 0x40, 0);
    let payload = sm
        .tlvs
        .iter()
        .find_map(|t| match t {
            Tlv::MessagePayload(p) => Some(p.as_bytes()),
            _ => None,
        })
        .expect("message_payload");
    assert!(payload.len() > 254);
    assert_eq!(text::decode(payload, Encoding::Gsm7).unwrap(), text);
    c.unbind().unwrap();
}

#[test]
fn receipts_arrive_parsed_and_are_acknowledged() {
    let smsc = Smsc::start(Knobs {
        receipts: true,
        ..Knobs::default()
    });
    let c = connect(&smsc, cfg(BindKind::Transceiver));
    let mut ids = HashSet::new();
    for i in 0..5 {
        let mut m = sm(&format!("receipt me {i}"));
        m.registered_delivery = 1;
        ids.insert(c.submit(&m).unwrap().message_id.to_str_lossy().into_owned());
    }
    let mut seen = HashSet::new();
    for _ in 0..5 {
        let inbound = c
            .inbound()
            .recv_timeout(WAIT)
            .unwrap_or_else(|e| panic!("no receipt: {e}; {}", smsc.summary()));
        let r = inbound.receipt().expect("a receipt");
        assert!(ids.contains(&r.id), "{} is one of ours", r.id);
        assert_eq!(r.state, ReceiptState::Delivered);
        assert!(r.submit_date.is_some() && r.done_date.is_some(), "{r:?}");
        assert_eq!(r.err.as_deref(), Some("000"));
        match &inbound.pdu().expect("the receipt's PDU").body {
            smpp_pdu::Body::DeliverSm(d) => assert!(d.short_message.as_bytes().starts_with(b"id:")),
            other => panic!("{other:?}"),
        }
        seen.insert(r.id.clone());
    }
    assert_eq!(seen, ids);
    smsc.expect("five receipts answered ESME_ROK", |s| {
        s.deliver_statuses(DeliverKind::Receipt) == [CommandStatus::ESME_ROK; 5]
    });
    // A transmitter gets no receipts (the SMSC may not deliver to it).
    c.unbind().unwrap();
}

#[test]
fn mo_message_arrives_with_its_text() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Receiver));
    assert!(smsc.inject_mo("447700900001", "12345", "Hello from the handset"));
    let inbound = c.inbound().recv_timeout(WAIT).expect("an MO message");
    assert!(inbound.receipt().is_none());
    assert_eq!(inbound.text(), Some("Hello from the handset"));
    let message = inbound.message().expect("a whole message");
    assert_eq!(message.segments, 1);
    assert_eq!(message.source.addr, "447700900001");
    match &inbound.pdu().expect("the one PDU that carried it").body {
        smpp_pdu::Body::DeliverSm(d) => assert_eq!(d.source_addr.to_str_lossy(), "447700900001"),
        other => panic!("{other:?}"),
    }
    smsc.expect("the MO acknowledged", |s| {
        s.deliver_statuses(DeliverKind::Mo) == [CommandStatus::ESME_ROK]
    });
    c.unbind().unwrap();
}

#[test]
fn manual_ack_sends_the_applications_status_and_drop_answers_rx_t_appn() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transceiver).manual_ack(true));
    let next = |text: &str| {
        assert!(smsc.inject_mo("447700900001", "12345", text));
        let i = c.inbound().recv_timeout(WAIT).expect("an MO message");
        assert_eq!(i.text(), Some(text));
        i
    };
    let statuses = |n: usize| {
        smsc.expect("deliver_sm answers", |s| s.deliver_results.len() == n);
        smsc.stats().deliver_statuses(DeliverKind::Mo)
    };

    let first = next("first");
    // Nothing is answered until the application says so.
    assert!(!smsc.wait(Duration::from_millis(100), |s| !s
        .deliver_results
        .is_empty()));
    first.ack(CommandStatus::ESME_RX_T_APPN);
    assert_eq!(statuses(1), [CommandStatus::ESME_RX_T_APPN]);

    drop(next("second"));
    assert_eq!(statuses(2)[1], CommandStatus::ESME_RX_T_APPN);

    next("third").ack(CommandStatus::ESME_ROK);
    assert_eq!(statuses(3)[2], CommandStatus::ESME_ROK);
    c.unbind().unwrap();
}

#[test]
fn enquire_link_keeps_an_idle_link_bound() {
    let smsc = Smsc::start(Knobs::default());
    let proxy = CountingProxy::start(smsc.addr);
    let mut config =
        cfg(BindKind::Transceiver).enquire_link_interval(Some(Duration::from_millis(100)));
    // An unanswered enquire_link would close the link within this.
    config.session.enquire_link_timeout = Duration::from_millis(500);
    let c = Client::connect(proxy.addr, config).unwrap();
    let t = Instant::now();
    assert!(
        proxy.wait_enquire_links(5, WAIT),
        "only {} enquire_links",
        proxy.enquire_links()
    );
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    assert!(c.is_connected());
    assert!(smsc.stats().closed.is_empty(), "{}", smsc.summary());
    c.submit(&sm("still here")).unwrap();
    c.unbind().unwrap();
    smsc.expect("the unbind", |s| s.unbinds_received == 1);
}

#[test]
fn server_close_fails_each_in_flight_request_once() {
    let smsc = Smsc::start(Knobs {
        delay: Duration::from_secs(10),
        drop_after: Some(5),
        ..Knobs::default()
    });
    let c = connect(&smsc, cfg(BindKind::Transceiver).window(10));
    let t = Instant::now();
    let pendings: Vec<_> = (0..5)
        .map(|i| c.submit_async(sm(&format!("doomed {i}"))).unwrap())
        .collect();
    for p in pendings {
        match p.wait() {
            Err(e) => assert!(is_disconnected(&e), "{e:?}"),
            Ok(p) => panic!("answered: {p:?}"),
        }
    }
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(poll_until(WAIT, || !c.is_connected()));
    match c.submit(&sm("after")) {
        Err(Error::Disconnected) => {}
        other => panic!("{other:?}"),
    }
    // The SMSC thread counts the drop after closing, so the client may see it first.
    assert!(poll_until(WAIT, || smsc.stats().drops == 1));
    let t = Instant::now();
    drop(c);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn reconnects_and_rebinds_after_the_server_drops_the_connection() {
    let smsc = Smsc::start(Knobs {
        delay: Duration::from_secs(10),
        drop_after: Some(3),
        ..Knobs::default()
    });
    let c = connect(
        &smsc,
        cfg(BindKind::Transceiver).reconnect(Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
            factor: 2.0,
            ..Backoff::default()
        }),
    );
    let pendings: Vec<_> = (0..3)
        .map(|i| c.submit_async(sm(&format!("in flight {i}"))).unwrap())
        .collect();
    for p in pendings {
        let e = p.wait().unwrap_err();
        assert!(is_disconnected(&e), "{e:?}");
    }
    smsc.set(|k| {
        k.drop_after = None;
        k.delay = Duration::ZERO;
    });
    smsc.expect("a second bind", |s| s.binds.len() == 2);
    assert!(poll_until(WAIT, || c.is_connected()));
    let r = c
        .submit(&sm("after reconnect"))
        .expect("a later submit succeeds");
    assert!(!r.message_id.is_empty());
    // Inbound traffic flows on the new connection too.
    assert!(smsc.inject_mo("447700900001", "12345", "after reconnect"));
    let inbound = c.inbound().recv_timeout(WAIT).expect("an MO message");
    assert_eq!(inbound.text(), Some("after reconnect"));
    let s = smsc.stats();
    assert_eq!(s.connections, 2);
    assert_eq!(s.drops, 1);
    // The client's counters span both connections.
    let cs = c.stats();
    assert_eq!(cs.reconnects, 1);
    assert!(cs.connected);
    assert_eq!(cs.session.sent.count(CommandId::BIND_TRANSCEIVER), 2);
    assert_eq!(
        cs.session.received.count(CommandId::BIND_TRANSCEIVER_RESP),
        2
    );
    assert_eq!(
        cs.session.requests_failed, 3,
        "the three in flight at the drop"
    );
    assert_eq!(cs.session.sent.count(CommandId::SUBMIT_SM), 4);
    assert_eq!(
        cs.session
            .received
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK),
        1
    );
    assert_eq!(cs.session.received.count(CommandId::DELIVER_SM), 1);
    assert_eq!(cs.session.sent.count(CommandId::DELIVER_SM_RESP), 1);
    c.unbind().unwrap();
}

/// A transmitter with a window of 64 that retries throttled submits after 1-2 ms.
fn retrying_cfg() -> ClientConfig {
    cfg(BindKind::Transmitter)
        .window(64)
        .throttle(ThrottlePolicy::Retry {
            attempts: 3,
            backoff: Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(2),
                factor: 2.0,
                ..Backoff::default()
            },
        })
}

/// 1,000 submits through a window, every 10th message throttled once and retried: 1,000
/// successful responses, 100 throttled responses, 100 retries.
#[test]
fn stats_count_throttled_responses_and_retries() {
    let smsc = Smsc::start(Knobs {
        throttle_every_message: Some(10),
        ..Knobs::default()
    });
    let c = connect(&smsc, retrying_cfg());
    let results = c.submit_batch((0..1000).map(|i| sm(&format!("message {i}"))), 64);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(smsc.stats().throttled, 100);
    let cs = c.stats();
    let st = &cs.session;
    assert_eq!(
        st.received
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK),
        1000
    );
    assert_eq!(
        st.received
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RTHROTTLED),
        100
    );
    assert_eq!(cs.throttled_retries, 100);
    assert_eq!(st.sent.count(CommandId::SUBMIT_SM), 1100);
    c.unbind().unwrap();
}

/// 1,000 submits through a window, every 10th submission throttled and retried: the
/// client's counters agree with what the SMSC saw, one for one.
#[test]
fn stats_agree_with_the_traffic() {
    let smsc = Smsc::start(Knobs {
        throttle_every: Some(10),
        ..Knobs::default()
    });
    let c = connect(&smsc, retrying_cfg());
    let results = c.submit_batch((0..1000).map(|i| sm(&format!("counted {i}"))), 64);
    assert!(results.iter().all(Result::is_ok));
    let s = smsc.stats();
    assert_eq!(s.accepted.len(), 1000);
    // Every 10th submission (retries included) is throttled once per message: about 111.
    assert!(s.throttled >= 100, "{}", s.throttled);
    let cs = c.stats();
    let st = &cs.session;
    assert_eq!(st.sent.count(CommandId::SUBMIT_SM), 1000 + s.throttled);
    assert_eq!(
        st.received
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK),
        1000
    );
    assert_eq!(
        st.received
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RTHROTTLED),
        s.throttled
    );
    assert_eq!(cs.throttled_retries, s.throttled);
    assert_eq!(cs.reconnects, 0);
    assert_eq!(st.response_timeouts, 0);
    assert_eq!(st.in_flight, 0);
    // One latency sample per answered request (the bind and every submit_sm attempt).
    assert_eq!(st.response_latency.count(), 1 + 1000 + s.throttled);
    assert!(st.response_latency.quantile(0.99).is_some());
    c.unbind().unwrap();
}

#[test]
fn throttled_submits_are_retried() {
    let smsc = Smsc::start(Knobs {
        throttle_every: Some(10),
        ..Knobs::default()
    });
    let c = connect(
        &smsc,
        cfg(BindKind::Transmitter).throttle(ThrottlePolicy::Retry {
            attempts: 3,
            backoff: Backoff {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(20),
                factor: 2.0,
                ..Backoff::default()
            },
        }),
    );
    for i in 0..100 {
        c.submit(&sm(&format!("retry {i}")))
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
    }
    let s = smsc.stats();
    assert!(s.throttled >= 10, "{}", s.throttled);
    assert_eq!(s.accepted.len(), 100);
    assert_eq!(
        s.submitted.len() as u64,
        100 + s.throttled,
        "one extra attempt per throttle"
    );

    // The batch path retries too.
    let results = c.submit_batch((0..200).map(|i| sm(&format!("batch retry {i}"))), 32);
    assert!(results.iter().all(Result::is_ok));
    let s2 = smsc.stats();
    assert!(s2.throttled >= s.throttled + 20, "{}", s2.throttled);
    assert_eq!(s2.accepted.len(), 300);
    assert_eq!(s2.submitted.len() as u64, 300 + s2.throttled);
    c.unbind().unwrap();
}

#[test]
fn throttled_submits_are_reported() {
    let smsc = Smsc::start(Knobs {
        throttle_every: Some(10),
        ..Knobs::default()
    });
    let c = connect(
        &smsc,
        cfg(BindKind::Transmitter).throttle(ThrottlePolicy::Report),
    );
    let mut failed = Vec::new();
    for i in 0..30 {
        match c.submit(&sm(&format!("report {i}"))) {
            Ok(_) => {}
            Err(e) => {
                assert!(
                    matches!(e, Error::Status(CommandStatus::ESME_RTHROTTLED)),
                    "{e:?}"
                );
                assert!(e.is_transient());
                failed.push(i);
            }
        }
    }
    assert_eq!(failed, [9, 19, 29]);
    assert_eq!(smsc.stats().submitted.len(), 30);
    c.unbind().unwrap();
}

#[test]
fn max_rate_caps_throughput() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transmitter).window(50).max_rate(200.0));
    let t = Instant::now();
    let results = c.submit_batch((0..100).map(|i| sm(&format!("paced {i}"))), 50);
    let took = t.elapsed();
    assert!(results.iter().all(Result::is_ok));
    assert!(
        took >= Duration::from_millis(450),
        "100 at 200/s took {took:?}"
    );
    c.unbind().unwrap();
}

#[test]
fn unbind_from_the_client() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transceiver));
    c.submit(&sm("before unbind")).unwrap();
    c.unbind().expect("unbind_resp arrives");
    smsc.expect("the unbind and the close", |s| {
        s.unbinds_received == 1 && s.closed.len() == 1
    });
}

#[test]
fn unbind_from_the_smsc_closes_the_client_connection() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(&smsc, cfg(BindKind::Transceiver));
    smsc.unbind_all();
    smsc.expect("the SMSC's unbind completes", |s| s.unbinds_sent == 1);
    assert!(poll_until(WAIT, || !c.is_connected()));
    let t = Instant::now();
    match c.submit(&sm("after the SMSC unbound")) {
        Err(e) => assert!(matches!(e, Error::Disconnected | Error::Closed), "{e:?}"),
        Ok(r) => panic!("{r:?}"),
    }
    // Nothing more will arrive: the inbound channel ends.
    assert!(c.inbound().recv_timeout(WAIT).is_err());
    assert!(t.elapsed() < Duration::from_secs(3));
    let t = Instant::now();
    drop(c);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(smsc.stats().unbinds_received, 0);
}

/// A bare SMPP peer that accepts a bind and then ignores everything.
fn silent_smsc() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert!(
            common::accept_bind(&mut s, "silent"),
            "the client closed before binding"
        );
        // Read and ignore until the client goes away (bounded by the read timeout).
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
    (addr, t)
}

#[test]
fn drop_with_an_unresponsive_smsc_is_bounded() {
    let (addr, server) = silent_smsc();
    let c = Client::connect(addr, cfg(BindKind::Transceiver)).unwrap();
    let p = c.submit_async(sm("never answered")).unwrap();
    let t = Instant::now();
    drop(c);
    let took = t.elapsed();
    // The unbind waits at most its timeout (1 s here), plus a little.
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(is_disconnected(&p.wait().unwrap_err()));
    server.join().unwrap();
}

#[test]
fn drop_while_reconnecting_is_bounded() {
    let smsc = Smsc::start(Knobs::default());
    let c = connect(
        &smsc,
        cfg(BindKind::Transceiver).reconnect(Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
            factor: 2.0,
            ..Backoff::default()
        }),
    );
    smsc.stop();
    assert!(poll_until(WAIT, || !c.is_connected()));
    assert!(matches!(c.submit(&sm("nobody")), Err(Error::Disconnected)));
    let t = Instant::now();
    drop(c);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn submit_batch_ends_promptly_when_the_connection_drops() {
    let smsc = Smsc::start(Knobs {
        drop_after: Some(100),
        ..Knobs::default()
    });
    let c = connect(&smsc, cfg(BindKind::Transmitter).window(16));
    let t = Instant::now();
    let results = c.submit_batch((0..500).map(|i| sm(&format!("cut {i}"))), 16);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(results.len(), 500);
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        ok,
        smsc.stats().accepted.len(),
        "every answer reached its caller"
    );
    assert!((80..100).contains(&ok), "{ok} answered before the drop");
    for (i, r) in results.iter().enumerate() {
        if let Err(e) = r {
            assert!(is_disconnected(e), "message {i}: {e:?}");
        }
    }
    // The answered ones are a prefix of the input, in order.
    assert!(results[..ok].iter().all(Result::is_ok));
}

#[test]
fn unbind_with_requests_in_flight_resolves_each_once() {
    let smsc = Smsc::start(Knobs {
        delay: Duration::from_millis(300),
        ..Knobs::default()
    });
    let c = connect(&smsc, cfg(BindKind::Transceiver));
    let pendings: Vec<_> = (0..5)
        .map(|i| {
            c.submit_async(sm(&format!("racing the unbind {i}")))
                .unwrap()
        })
        .collect();
    smsc.expect("the submits in flight", |s| s.outstanding == 5);
    let t = Instant::now();
    c.unbind().expect("unbind");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    for p in pendings {
        // The SMSC session closed on the unbind before its delayed answers went out.
        let e = p.wait().unwrap_err();
        assert!(is_disconnected(&e), "{e:?}");
    }
    smsc.expect("the unbind", |s| s.unbinds_received == 1);
}

#[test]
fn a_full_inbound_channel_pauses_the_smsc_until_the_application_reads() {
    let smsc = Smsc::start(Knobs::default());
    let mut config = cfg(BindKind::Receiver);
    config.inbound_capacity = 4;
    let c = connect(&smsc, config);
    for i in 0..20 {
        assert!(smsc.inject_mo("447700900001", "12345", &format!("mo {i}")));
    }
    // Four wait in the channel; the fifth is acknowledged and waits for room.
    smsc.expect("five answers", |s| s.deliver_results.len() >= 5);
    assert!(
        !smsc.wait(Duration::from_millis(300), |s| s.deliver_results.len() > 5),
        "{}",
        smsc.summary()
    );
    assert_eq!(c.inbound().len(), 4);
    for i in 0..20 {
        let m = c.inbound().recv_timeout(WAIT).expect("an MO message");
        assert_eq!(m.text(), Some(format!("mo {i}").as_str()));
    }
    smsc.expect("twenty answers", |s| {
        s.deliver_statuses(DeliverKind::Mo) == [CommandStatus::ESME_ROK; 20]
    });
    c.unbind().unwrap();
}

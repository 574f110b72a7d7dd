//! Incoming segments made whole on a virtual clock: UDH with 8- and 16-bit references,
//! SAR, `message_payload`, any order, duplicates, and the parts of a message that never
//! completes.

use std::time::{Duration, Instant};

use smpp_lifecycle::{Event, Lifecycle, LifecycleConfig, Message, Routed};
use smpp_pdu::concat::{self, GiveUpReason, ReassemblyConfig, SplitMethod};
use smpp_pdu::text::Encoding;
use smpp_pdu::{Body, DataSm, DeliverSm, OctetString, Tlv};

fn template(data_coding: u8) -> DeliverSm<'static> {
    DeliverSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "447700900123".into(),
        destination_addr: "12345".into(),
        data_coding,
        ..Default::default()
    }
}

fn segments(text: &str, encoding: Encoding, method: SplitMethod, dc: u8) -> Vec<Body<'static>> {
    concat::split(text, encoding, method, 0x1234)
        .unwrap()
        .iter()
        .map(|s| Body::from(s.to_deliver_sm(&template(dc))))
        .collect()
}

fn messages(life: &mut Lifecycle) -> Vec<Event> {
    std::iter::from_fn(|| life.poll_event()).collect()
}

fn one_message(life: &mut Lifecycle) -> Message {
    match messages(life).as_slice() {
        [Event::Message(m)] => m.clone(),
        other => panic!("expected one message: {other:?}"),
    }
}

#[test]
fn every_split_method_comes_out_whole_in_any_order() {
    let long = "Long MO text that needs several segments to travel: ".repeat(6);
    let rows = [
        (Encoding::Gsm7, SplitMethod::Udh8, 0u8),
        (Encoding::Gsm7, SplitMethod::Udh16, 0),
        (Encoding::Gsm7, SplitMethod::Sar, 0),
        (Encoding::Ucs2, SplitMethod::Udh8, 8),
        (Encoding::Latin1, SplitMethod::Sar, 3),
        (Encoding::Gsm7, SplitMethod::Payload, 0),
    ];
    for (encoding, method, dc) in rows {
        let t0 = Instant::now();
        let mut life = Lifecycle::new(LifecycleConfig::default());
        let mut parts = segments(&long, encoding, method, dc);
        let n = parts.len();
        parts.reverse();
        // The second-to-last arrives twice.
        if n > 1 {
            parts.insert(1, parts[1].clone());
        }
        for (k, p) in parts.iter().enumerate() {
            assert_eq!(life.on_inbound(t0, p), Routed::Inbox);
            if k + 1 < parts.len() {
                assert!(messages(&mut life).is_empty(), "{method:?}: early message");
            }
        }
        let m = one_message(&mut life);
        assert_eq!(
            m.text.as_deref(),
            Some(long.as_str()),
            "{method:?} {encoding:?}"
        );
        assert_eq!(usize::from(m.segments), n, "{method:?}");
        assert_eq!(m.source.addr, "447700900123");
        assert_eq!((m.source.ton, m.source.npi), (1, 1));
        assert_eq!(m.destination.addr, "12345");
        assert_eq!(m.data_coding, dc);
        assert_eq!(m.concat_reference.is_some(), n > 1);
        assert_eq!(life.inbox().unwrap().pending(), 0);
    }
}

#[test]
fn a_short_message_and_a_data_sm_pass_straight_through() {
    let t0 = Instant::now();
    let mut life = Lifecycle::new(LifecycleConfig::default());
    let mut d = template(0);
    d.short_message = OctetString::from(&b"Hi there"[..]);
    life.on_inbound(t0, &Body::from(d));
    let m = one_message(&mut life);
    assert_eq!((m.text.as_deref(), m.segments), (Some("Hi there"), 1));

    let data = DataSm {
        source_addr: "447700900999".into(),
        destination_addr: "12345".into(),
        data_coding: 8,
        tlvs: vec![Tlv::MessagePayload(OctetString::from(vec![
            0x04, 0x1F, 0x04, 0x40,
        ]))],
        ..Default::default()
    };
    assert_eq!(life.on_inbound(t0, &Body::from(data)), Routed::Inbox);
    let m = one_message(&mut life);
    assert_eq!(m.text.as_deref(), Some("Пр"));
    assert_eq!(m.source.addr, "447700900999");
}

#[test]
fn an_incomplete_message_is_reported_with_its_parts_after_the_timeout() {
    let t0 = Instant::now();
    let timeout = Duration::from_secs(120);
    let mut life = Lifecycle::new(LifecycleConfig {
        reassembly: Some(ReassemblyConfig {
            timeout,
            ..ReassemblyConfig::default()
        }),
        ..LifecycleConfig::default()
    });
    let text = "x".repeat(400);
    let parts = segments(&text, Encoding::Gsm7, SplitMethod::Udh8, 0);
    assert_eq!(parts.len(), 3);
    life.on_inbound(t0, &parts[0]);
    life.on_inbound(t0, &parts[2]);
    assert_eq!(life.poll_timeout(), Some(t0 + timeout));
    life.handle_timeout(t0 + timeout - Duration::from_millis(1));
    assert!(messages(&mut life).is_empty());
    life.handle_timeout(t0 + timeout);
    match messages(&mut life).as_slice() {
        [Event::Incomplete(i)] => {
            assert_eq!(i.total, 3);
            assert_eq!(i.reason, GiveUpReason::TimedOut);
            assert_eq!(
                i.received.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                [1, 3]
            );
            assert_eq!(i.text.as_ref().map(String::len), Some(153 + 94));
            assert_eq!(i.source.addr, "447700900123");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(life.poll_timeout(), None);
}

#[test]
fn without_reassembly_mo_passes_to_the_driver() {
    let t0 = Instant::now();
    let mut life = Lifecycle::new(LifecycleConfig {
        reassembly: None,
        ..LifecycleConfig::default()
    });
    let parts = segments(&"y".repeat(200), Encoding::Gsm7, SplitMethod::Udh8, 0);
    assert_eq!(life.on_inbound(t0, &parts[0]), Routed::Pass);
    assert!(messages(&mut life).is_empty());
}

#[test]
fn receipts_go_to_the_tracker_and_bad_receipts_pass() {
    let t0 = Instant::now();
    let mut life = Lifecycle::new(LifecycleConfig::default());
    let mut d = template(0);
    d.esm_class = 0x04;
    d.short_message = OctetString::from(&b"id:5 stat:DELIVRD"[..]);
    assert!(matches!(
        life.on_inbound(t0, &Body::from(d.clone())),
        Routed::Receipt { .. }
    ));
    d.short_message = OctetString::from(&b"no receipt here"[..]);
    assert_eq!(life.on_inbound(t0, &Body::from(d)), Routed::Pass);
}

/// Two SMSC accounts deliver parts of two different long MOs with the same addresses and
/// the same reference, interleaved: each account's parts make its own message (unscoped,
/// the second account's first part would be taken as a duplicate and both messages lost).
#[test]
fn segments_of_two_accounts_never_meet() {
    use std::sync::Arc;
    let t0 = Instant::now();
    let mut life = Lifecycle::new(LifecycleConfig::default());
    let (a, b): (Arc<str>, Arc<str>) = ("smsc-a".into(), "smsc-b".into());
    let text_a = "From the first SMSC, a message long enough for two parts: ".repeat(3);
    let text_b = "From the second SMSC, another text that needs two parts too: ".repeat(3);
    let parts_a = segments(&text_a, Encoding::Gsm7, SplitMethod::Udh8, 0);
    let parts_b = segments(&text_b, Encoding::Gsm7, SplitMethod::Udh8, 0);
    assert!(parts_a.len() >= 2 && parts_b.len() >= 2);
    let mut got = Vec::new();
    for i in 0..parts_a.len().max(parts_b.len()) {
        for (account, parts) in [(&a, &parts_a), (&b, &parts_b)] {
            if let Some(p) = parts.get(i) {
                assert_eq!(life.on_inbound_in(t0, Some(account), p), Routed::Inbox);
                got.extend(messages(&mut life));
            }
        }
    }
    let texts: Vec<String> = got
        .iter()
        .map(|e| match e {
            Event::Message(m) => {
                assert_eq!(
                    m.destination.addr, "12345",
                    "the address, without the account"
                );
                m.text.clone().unwrap_or_default()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, [text_a, text_b]);
    assert_eq!(life.inbox().map(|i| i.pending()), Some(0));
}

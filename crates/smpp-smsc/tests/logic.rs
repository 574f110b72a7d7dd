//! The SMSC logic that used to be tested over 127.0.0.1 and the wall clock, on a virtual
//! clock instead: receipt knobs (order, id forms, content, per-message final states,
//! intermediate and duplicate receipts, holding for a receiver), fault knobs, bind rules,
//! query/cancel/replace, MO messages and their split. No socket, no thread, no sleep.

use std::collections::HashSet;
use std::time::Duration;

use smpp_pdu::concat::{self, SplitMethod};
use smpp_pdu::receipt::{message_ids_match, Receipt, ReceiptState};
use smpp_pdu::text::{self, Encoding};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    Body, CancelSm, CommandId, CommandStatus, DataSm, DestAddress, QuerySm, ReplaceSm, SubmitMulti,
    SubmitSm,
};
use smpp_session::BindKind;
use smpp_smsc::core::Output;
use smpp_smsc::{
    IdFormat, IntermediateStyle, MessageMatch, ReceiptContent, ReceiptIdForm, SmscConfig,
    SmscError, StateRule, User,
};

mod common;
use common::rig::{deliver, ok_id, receipt, sm, status_of, submit, submit_resp, text_of, Rig};

use BindKind::{Receiver as Rx, Transceiver as Trx, Transmitter as Tx};

const TO: &str = "447700900123";

fn users() -> SmscConfig {
    SmscConfig::default()
        .user(User::new("alice", "secret"))
        .user(User::new("bob", "pw").bind_kinds(&[BindKind::Transmitter]))
        .user(User::new("carol", "pw").max_binds(1))
}

/// A core with alice bound as a transceiver on connection 1.
fn alice(config: SmscConfig) -> Rig {
    let mut r = Rig::new(config.user(User::new("alice", "secret")));
    r.bound_as(1, 0, Trx, "alice", "secret");
    r
}

fn is_response(o: &Output) -> bool {
    matches!(o, Output::Respond { .. })
}

fn bind_status(out: &[Output]) -> CommandStatus {
    match out {
        [Output::AcceptBind { .. }] => CommandStatus::ESME_ROK,
        [Output::RejectBind { status, .. }, ..] => *status,
        other => panic!("{other:?}"),
    }
}

/// The segments of `text` split as `method`, as `submit_sm`s from "Brand".
fn segments(text: &str, encoding: Encoding, rd: u8) -> Vec<SubmitSm<'static>> {
    let template = SubmitSm {
        data_coding: if encoding == Encoding::Ucs2 { 8 } else { 0 },
        ..sm(TO, "", rd)
    };
    let template = SubmitSm {
        source_addr: "Brand".into(),
        ..template
    };
    concat::split(text, encoding, SplitMethod::Udh8, 7)
        .unwrap()
        .iter()
        .map(|s| s.to_submit_sm(&template))
        .collect()
}

// ----- receipts -----

#[test]
fn submits_get_decimal_ids_from_1_and_full_receipts() {
    let mut r = alice(SmscConfig::default().receipt_delay(Duration::from_millis(50)));
    let ids: Vec<String> = (0..5)
        .map(|i| ok_id(&r.request(1, i, sm(TO, &format!("Hello {i}"), 1))))
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    // No receipt without registered_delivery.
    ok_id(&r.request(1, 5, sm(TO, "quiet", 0)));
    assert!(r.tick(49).is_empty(), "not yet");
    let out = r.run(10_000);
    assert_eq!(out.len(), 5, "{out:?}");
    let mut got = HashSet::new();
    for (ms, o) in &out {
        assert!((50..=54).contains(ms), "at {ms}");
        let (_, rec) = receipt(o);
        assert_eq!(rec.state, ReceiptState::Delivered);
        assert!(rec.submit_date.is_some() && rec.done_date.is_some());
        let (conn, d) = deliver(o);
        assert_eq!(conn, 1);
        assert_eq!(d.esm_class, 0x04);
        assert_eq!(d.destination_addr.to_str_lossy(), "12345");
        assert_eq!(d.source_addr.to_str_lossy(), TO);
        assert!(d
            .tlvs
            .iter()
            .any(|t| matches!(t, Tlv::ReceiptedMessageId(id) if id.to_str_lossy() == rec.id)));
        assert!(d.tlvs.iter().any(|t| matches!(t, Tlv::MessageState(2))));
        assert!(text_of(d).contains("text:Hello "), "{}", text_of(d));
        got.insert(rec.id);
        r.ack(100, o);
    }
    assert_eq!(got, ids.into_iter().collect::<HashSet<_>>());
    let st = r.core.stats();
    assert_eq!((st.receipts_sent, st.delivers_acked, st.submits), (5, 5, 6));
}

#[test]
fn receipts_come_after_the_response_unless_asked_to_come_before() {
    // Without the knob, even with no delay, the response comes first.
    let mut r = alice(SmscConfig::default().receipt_delay(Duration::ZERO));
    let mut out = r.request(1, 0, sm(TO, "normal", 1));
    assert!(is_response(&out[0]), "{out:?}");
    out.extend(r.tick(0));
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(receipt(&out[1]).1.id, submit_resp(&out[0]).1);

    // With it, the receipt comes first, although receipts are a minute away otherwise.
    let mut r = alice(
        SmscConfig::default()
            .receipt_before_response(true)
            .receipt_delay(Duration::from_secs(60)),
    );
    for ms in 0..3 {
        let out = r.request(1, ms, sm(TO, "fast", 1));
        assert_eq!(out.len(), 2, "{out:?}");
        let (_, rec) = receipt(&out[0]);
        assert_eq!(rec.id, submit_resp(&out[1]).1);
        assert_eq!(rec.state, ReceiptState::Delivered);
        r.ack(ms, &out[0]);
    }
    // No receipt asked for: just the response.
    assert!(matches!(
        r.request(1, 3, sm(TO, "quiet", 0))[..],
        [Output::Respond { .. }]
    ));
    assert!(r.run(120_000).is_empty(), "nothing left for later");
    let st = r.core.stats();
    assert_eq!((st.receipts_sent, st.delivers_acked), (3, 3));

    // With an intermediate receipt and duplicates, all of them precede the response, in
    // order.
    let mut r = alice(
        SmscConfig::default()
            .receipt_before_response(true)
            .intermediate_receipt(ReceiptState::Enroute, IntermediateStyle::AsReceipt)
            .duplicate_receipts(true),
    );
    let out = r.request(1, 0, sm(TO, "all of it", 1));
    assert_eq!(out.len(), 4, "{out:?}");
    let id = submit_resp(&out[3]).1;
    let states: Vec<ReceiptState> = out[..3]
        .iter()
        .map(|o| {
            let (_, rec) = receipt(o);
            assert_eq!(rec.id, id);
            rec.state
        })
        .collect();
    assert_eq!(
        states,
        [
            ReceiptState::Enroute,
            ReceiptState::Delivered,
            ReceiptState::Delivered
        ]
    );
}

#[test]
fn before_the_response_a_transmitter_gets_its_receipt_on_its_receiver() {
    let mut r = Rig::new(
        SmscConfig::default()
            .user(User::new("alice", "secret"))
            .receipt_before_response(true)
            .receipt_delay(Duration::from_secs(60)),
    );
    r.bound_as(1, 0, Tx, "alice", "secret");
    r.bound_as(2, 0, Rx, "alice", "secret");
    let out = r.request(1, 1, sm(TO, "to rx", 1));
    let [rec @ Output::Request { conn: 2, .. }, resp @ Output::Respond { conn: 1, .. }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(receipt(rec).1.id, submit_resp(resp).1);
}

#[test]
fn hex_ids_a_final_state_and_a_separate_receiver_of_the_same_system_id() {
    let mut r = Rig::new(
        users()
            .id_format(IdFormat::Hex)
            .receipt_state(ReceiptState::Undeliverable)
            .receipt_delay(Duration::from_millis(20)),
    );
    r.bound_as(1, 0, Tx, "alice", "secret");
    r.bound_as(2, 0, Rx, "alice", "secret");
    r.bound_as(3, 0, Rx, "carol", "pw");
    let id = ok_id(&r.request(1, 0, sm(TO, "to the receiver", 1)));
    assert_eq!(id, "00000001");
    let out = r.run(10_000);
    // Only alice's receiver; carol, another system_id, gets nothing.
    let [(20, o)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(deliver(o).0, 2);
    let (_, rec) = receipt(o);
    assert_eq!(
        (rec.id.as_str(), rec.state),
        (id.as_str(), ReceiptState::Undeliverable)
    );
}

#[test]
fn padded_hex_response_ids_and_decimal_receipt_text_ids() {
    let mut config = SmscConfig::default()
        .id_format(IdFormat::PaddedHex { width: 10 })
        .receipt_text_id(ReceiptIdForm::Format(IdFormat::Decimal))
        .receipt_delay(Duration::from_millis(10));
    config.first_id = 26;
    let mut r = alice(config);
    let id = ok_id(&r.request(1, 0, sm(TO, "ids", 1)));
    assert_eq!(id, "000000001A");
    let out = r.tick(10);
    let (_, d) = deliver(&out[0]);
    let text = text_of(d);
    assert!(text.starts_with("id:26 "), "{text}");
    let from_text = Receipt::parse_text(&text).unwrap().id;
    assert_eq!(from_text, "26");
    assert!(message_ids_match(&from_text, &id));
    // The TLV keeps the response's form, and wins in the parsed receipt.
    assert!(d
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::ReceiptedMessageId(v) if v.to_str_lossy() == id)));
    assert_eq!(receipt(&out[0]).1.id, id);

    assert_eq!(IdFormat::PaddedHex { width: 10 }.format(1), "0000000001");
    assert_eq!(IdFormat::PaddedHex { width: 4 }.format(0x12345), "12345");
    assert_eq!(
        IdFormat::PaddedDecimal { width: 10 }.format(1234),
        "0000001234"
    );
}

#[test]
fn receipts_with_text_only_or_tlvs_only() {
    let config = |content| {
        SmscConfig::default()
            .receipt_content(content)
            .receipt_state(ReceiptState::Expired)
            .receipt_delay(Duration::from_millis(10))
    };
    // Text only: no receipt TLVs, the id and state are in the text.
    let mut r = alice(config(ReceiptContent::TextOnly));
    let id = ok_id(&r.request(1, 0, sm(TO, "text", 1)));
    let out = r.tick(10);
    let (_, d) = deliver(&out[0]);
    assert_eq!(d.esm_class, 0x04);
    assert!(
        !d.tlvs
            .iter()
            .any(|t| matches!(t, Tlv::ReceiptedMessageId(_) | Tlv::MessageState(_))),
        "{:?}",
        d.tlvs
    );
    assert!(text_of(d).contains("stat:EXPIRED"), "{}", text_of(d));
    let (_, rec) = receipt(&out[0]);
    assert_eq!((rec.id, rec.state), (id, ReceiptState::Expired));

    // TLVs only: an empty short_message.
    let mut r = alice(config(ReceiptContent::TlvsOnly));
    let id = ok_id(&r.request(1, 0, sm(TO, "tlvs", 1)));
    let out = r.tick(10);
    let (_, d) = deliver(&out[0]);
    assert!(d.short_message.is_empty());
    assert!(d
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::ReceiptedMessageId(v) if v.to_str_lossy() == id)));
    assert!(d.tlvs.iter().any(|t| matches!(t, Tlv::MessageState(3))));
    let (_, rec) = receipt(&out[0]);
    assert_eq!((rec.id, rec.state), (id, ReceiptState::Expired));
}

#[test]
fn chosen_messages_fail_one_segment_of_a_long_text_included() {
    // One rule through the field, one through the builder; the first match wins.
    let mut config = SmscConfig::default().receipt_delay(Duration::from_millis(10));
    config.final_state_rules.push(StateRule {
        matches: MessageMatch::Destination("447700900999".into()),
        state: ReceiptState::Rejected,
        err: "011".into(),
    });
    let mut r = alice(config.final_state_every(2, ReceiptState::Undeliverable, "069"));
    // Messages 1, 2 and 3, the segments of one text: the second fails.
    let parts = segments(
        &"A long text in three parts. ".repeat(15),
        Encoding::Gsm7,
        1,
    );
    assert_eq!(parts.len(), 3);
    let ids: Vec<String> = parts
        .into_iter()
        .map(|p| ok_id(&r.request(1, 0, p)))
        .collect();
    let out = r.tick(10);
    assert_eq!(out.len(), 3, "{out:?}");
    for o in &out {
        let (_, rec) = receipt(o);
        let want = if rec.id == ids[1] {
            (ReceiptState::Undeliverable, "err:069")
        } else {
            (ReceiptState::Delivered, "err:000")
        };
        assert_eq!(rec.state, want.0);
        assert!(
            text_of(deliver(o).1).contains(want.1),
            "{}",
            text_of(deliver(o).1)
        );
    }
    // Message 4, a multiple of 2 too, goes to the destination of the first rule.
    let rejected = ok_id(&r.request(1, 20, sm("447700900999", "no", 1)));
    let out = r.tick(30);
    let (_, rec) = receipt(&out[0]);
    assert_eq!((rec.id, rec.state), (rejected, ReceiptState::Rejected));
    assert!(text_of(deliver(&out[0]).1).contains("err:011"));
    // query_sm tells the same final state.
    let out = r.request(
        1,
        40,
        QuerySm {
            message_id: ids[1].clone().into(),
            source_addr: "Brand".into(),
            ..Default::default()
        },
    );
    let [Output::Respond {
        body: Body::QuerySmResp(q),
        ..
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(q.message_state, 5);
    // Failure-only receipts (registered_delivery 2) follow the per-message state: of
    // messages 5 and 6, only the 6th fails and gets a receipt.
    r.request(1, 50, sm(TO, "five", 2));
    let six = ok_id(&r.request(1, 50, sm(TO, "six", 2)));
    let out = r.run(10_000);
    let [(60, o)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(receipt(o).1.id, six);
}

#[test]
fn registered_delivery_2_asks_for_failure_receipts_only() {
    for (state, wanted) in [
        (ReceiptState::Delivered, false),
        (ReceiptState::Undeliverable, true),
    ] {
        let mut r = alice(
            SmscConfig::default()
                .receipt_state(state.clone())
                .receipt_delay(Duration::from_millis(10)),
        );
        r.request(1, 0, sm(TO, "failure only", 2));
        let out = r.run(10_000);
        assert_eq!(out.len(), usize::from(wanted), "{state:?}: {out:?}");
        if let [(_, o)] = &out[..] {
            assert_eq!(receipt(o).1.state, state);
        }
    }
}

#[test]
fn intermediate_notifications_when_asked_for() {
    let mut r = alice(
        SmscConfig::default()
            .intermediate_receipt(ReceiptState::Enroute, IntermediateStyle::Notification)
            .receipt_delay(Duration::from_millis(200)),
    );
    // registered_delivery 0x11: final receipt and intermediate notification.
    let id = ok_id(&r.request(1, 0, sm(TO, "both", 0x11)));
    let mut out = r.outputs();
    out.extend(r.run(10_000).into_iter().map(|(_, o)| o));
    let [first, last] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(deliver(first).1.esm_class, 0x20);
    assert_eq!(receipt(first).1.state, ReceiptState::Enroute);
    assert_eq!(receipt(first).1.id, id);
    assert!(deliver(first)
        .1
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::MessageState(1))));
    assert_eq!(deliver(last).1.esm_class, 0x04);
    assert_eq!(receipt(last).1.state, ReceiptState::Delivered);
    assert_eq!(receipt(last).1.id, id);
    // registered_delivery 1: the final receipt only.
    let id = ok_id(&r.request(1, 1000, sm(TO, "final", 1)));
    let out = r.run(10_000);
    let [(1200, only)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(deliver(only).1.esm_class, 0x04);
    assert_eq!(receipt(only).1.id, id);
    let st = r.core.stats();
    assert_eq!((st.intermediates_sent, st.receipts_sent), (1, 2));
}

#[test]
fn intermediate_receipts_like_final_ones() {
    let mut r = alice(
        SmscConfig::default()
            .intermediate_receipt(ReceiptState::Accepted, IntermediateStyle::AsReceipt)
            .receipt_delay(Duration::from_millis(200)),
    );
    let id = ok_id(&r.request(1, 0, sm(TO, "acceptd", 1)));
    let mut out = r.outputs();
    out.extend(r.run(10_000).into_iter().map(|(_, o)| o));
    let [first, last] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(deliver(first).1.esm_class, 0x04);
    assert_eq!(receipt(first).1.state, ReceiptState::Accepted);
    assert!(text_of(deliver(first).1).contains("stat:ACCEPTD"));
    assert_eq!(receipt(last).1.state, ReceiptState::Delivered);
    assert_eq!(receipt(last).1.id, id);
    // No receipt asked for: no intermediate one either.
    assert_eq!(r.request(1, 1000, sm(TO, "none", 0)).len(), 1);
    assert!(r.run(10_000).is_empty());
}

#[test]
fn final_receipts_twice() {
    let mut r = alice(
        SmscConfig::default()
            .duplicate_receipts(true)
            .receipt_delay(Duration::from_millis(10)),
    );
    let id = ok_id(&r.request(1, 0, sm(TO, "twice", 1)));
    let out = r.run(10_000);
    let [(10, a), (10, b)] = &out[..] else {
        panic!("{out:?}")
    };
    let ((tag_a, ra), (tag_b, rb)) = (receipt(a), receipt(b));
    assert_eq!(ra.id, id);
    assert_eq!(ra, rb);
    assert_eq!(deliver(a).1.short_message, deliver(b).1.short_message);
    assert_ne!(tag_a, tag_b, "two requests, each answered on its own");
    r.ack(11, a);
    r.ack(11, b);
    let st = r.core.stats();
    assert_eq!((st.receipts_sent, st.delivers_acked), (2, 2));
}

#[test]
fn held_receipts_keep_their_order_for_a_late_receiver() {
    let mut r = Rig::new(
        SmscConfig::default()
            .user(User::new("alice", "secret"))
            .intermediate_receipt(ReceiptState::Enroute, IntermediateStyle::AsReceipt)
            .duplicate_receipts(true)
            .receipt_delay(Duration::from_millis(10)),
    );
    r.bound_as(1, 0, Tx, "alice", "secret");
    let id = ok_id(&r.request(1, 0, sm(TO, "held", 1)));
    // Both receipts are due before anyone can receive them.
    assert!(r.run(300).is_empty());
    assert_eq!(r.core.stats().receipts_sent, 0);
    r.bound_as(2, 300, Rx, "alice", "secret");
    let out = r.run(10_000);
    let states: Vec<ReceiptState> = out
        .iter()
        .map(|(_, o)| {
            assert_eq!(deliver(o).0, 2);
            let (_, rec) = receipt(o);
            assert_eq!(rec.id, id);
            rec.state
        })
        .collect();
    assert_eq!(
        states,
        [
            ReceiptState::Enroute,
            ReceiptState::Delivered,
            ReceiptState::Delivered
        ]
    );
    let st = r.core.stats();
    assert_eq!((st.intermediates_sent, st.receipts_sent), (1, 2));
}

#[test]
fn receipts_wait_for_a_receiver_then_give_up() {
    let mut r = Rig::new(
        users()
            .receipt_delay(Duration::from_millis(10))
            .receipt_hold(Duration::from_millis(800)),
    );
    r.bound_as(1, 0, Tx, "alice", "secret");
    let first = ok_id(&r.request(1, 0, sm(TO, "first", 1)));
    assert!(r.run(200).is_empty());
    // A receiver that binds after the receipt was due still gets it.
    r.bound_as(2, 200, Rx, "alice", "secret");
    let out = r.run(1000);
    let [(_, o)] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!((deliver(o).0, receipt(o).1.id), (2, first));
    r.unbound(2, 1000);
    r.core.closed(2);
    // With no receiver at all, the receipt is dropped once the hold is over.
    r.request(1, 1000, sm(TO, "second", 1));
    assert!(r.run(1809).is_empty());
    assert_eq!(r.core.stats().receipts_dropped, 0, "still held");
    assert!(r.run(100_000).is_empty());
    assert_eq!(r.core.poll_timeout(), None);
    let st = r.core.stats();
    assert_eq!((st.receipts_dropped, st.receipts_sent), (1, 1));
}

#[test]
fn one_receipt_per_segment_of_a_long_unicode_text() {
    let mut r = alice(SmscConfig::default().receipt_delay(Duration::from_millis(10)));
    let parts = segments(&"Grüße aus Köln 😀 ".repeat(10), Encoding::Ucs2, 1);
    assert!(parts.len() > 1);
    let ids: HashSet<String> = parts
        .into_iter()
        .map(|p| ok_id(&r.request(1, 0, p)))
        .collect();
    let got: HashSet<String> = r.run(10_000).iter().map(|(_, o)| receipt(o).1.id).collect();
    assert_eq!(got, ids);
}

/// Found by the interop run (docs/interop.md): the receipt's `text:` part was the original
/// text in UTF-8 under `data_coding` 0, so a UCS-2 message gave octets above 0x7F that are
/// not GSM at all, and `@` or `$` read differently as GSM and as ASCII.
#[test]
fn receipt_text_is_the_same_read_as_gsm_or_as_ascii() {
    let mut r = alice(SmscConfig::default().receipt_delay(Duration::from_millis(10)));
    let ucs2 = SubmitSm {
        data_coding: 8,
        short_message: text::encode("Привет @$_ ok", Encoding::Ucs2)
            .unwrap()
            .into(),
        ..sm(TO, "", 1)
    };
    ok_id(&r.request(1, 0, ucs2));
    let out = r.tick(10);
    let (_, d) = deliver(&out[0]);
    assert_eq!(d.data_coding, 0);
    let octets = d.short_message.as_bytes();
    let as_ascii = std::str::from_utf8(octets).expect("ASCII");
    assert!(octets.iter().all(|b| b.is_ascii()), "{as_ascii}");
    let as_gsm = text::decode(octets, Encoding::Gsm7).unwrap();
    assert_eq!(as_gsm, as_ascii);
    assert_eq!(receipt(&out[0]).1.text.as_deref(), Some("?????? ??? ok"));
}

// ----- faults -----

#[test]
fn every_nth_submit_sm_is_never_answered() {
    let mut r = Rig::new(SmscConfig::default().drop_every(3));
    r.bound(1);
    assert_eq!(ok_id(&r.request(1, 0, submit(0))), "1");
    assert_eq!(ok_id(&r.request(1, 0, submit(0))), "2");
    assert!(
        r.request(1, 0, submit(0)).is_empty(),
        "the third is dropped"
    );
    assert!(r.run(600_000).is_empty(), "and never answered");
    assert_eq!(
        ok_id(&r.request(1, 1, submit(0))),
        "3",
        "the dropped one got no id"
    );
    let st = r.core.stats();
    assert_eq!((st.dropped, st.submits), (1, 3));
    // The dropped submit is still recorded.
    let submits = r
        .records
        .iter()
        .filter(|r| r.command_id == CommandId::SUBMIT_SM)
        .count();
    assert_eq!(submits, 4);
}

#[test]
fn connection_closed_after_n_pdus() {
    // The bind is PDU 1, the two submits PDUs 2 and 3.
    let mut r = Rig::new(SmscConfig::default().close_after(3));
    r.bound(1);
    ok_id(&r.request(1, 0, submit(0)));
    // The third PDU is answered, then the connection closed.
    let out = r.request(1, 0, submit(0));
    assert!(
        matches!(
            out[..],
            [Output::Respond { conn: 1, .. }, Output::Close { conn: 1 }]
        ),
        "{out:?}"
    );
    r.core.closed(1);
    let st = r.core.stats();
    assert_eq!((st.fault_closes, st.open_connections), (1, 0));
    // Other connections are served as before.
    r.bound(2);
    ok_id(&r.request(2, 1, submit(0)));
}

#[test]
fn garbage_follows_the_response_to_the_nth_pdu_of_each_connection() {
    // The bind is PDU 1, the submit PDU 2: garbage follows its response.
    let mut r = Rig::new(SmscConfig::default().garbage_after(2));
    r.bound(1);
    r.bound(2);
    let out = r.request(2, 0, submit(0));
    let [Output::Respond { conn: 2, .. }, Output::SendRaw { conn: 2, bytes }] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(bytes[..], smpp_smsc::GARBAGE[..]);
    assert_eq!(r.core.stats().garbage_sent, 1);
    // Connection 1 is served; its own second PDU is answered, then gets garbage too.
    let out = r.request(1, 2, submit(0));
    assert!(
        matches!(
            out[..],
            [
                Output::Respond { conn: 1, .. },
                Output::SendRaw { conn: 1, .. }
            ]
        ),
        "{out:?}"
    );
    assert_eq!(r.core.stats().garbage_sent, 2);
}

#[test]
fn mo_messages_on_a_schedule_reach_every_receiver_of_the_system_id() {
    let mut r = Rig::new(SmscConfig::default().mo_schedule(
        Duration::from_millis(50),
        "esme",
        "447700900123",
        "12345",
        "tick",
    ));
    r.bound_as(1, 0, Rx, "esme", "pw");
    let out = r.run(150);
    let times: Vec<u64> = out.iter().map(|(ms, _)| *ms).collect();
    assert_eq!(times, [50, 100, 150]);
    for (_, o) in &out {
        let (conn, d) = deliver(o);
        assert_eq!(conn, 1);
        assert_eq!(text_of(d), "tick");
        assert_eq!(d.esm_class, 0, "not a receipt");
        assert_eq!(d.source_addr.to_str_lossy(), "447700900123");
        r.ack(160, o);
    }
    let st = r.core.stats();
    assert_eq!((st.mo_sent, st.delivers_acked), (3, 3));
}

// ----- binds -----

#[test]
fn binds_are_checked_against_users() {
    let mut r = Rig::new(users());
    let try_bind = |r: &mut Rig, conn: u64, kind, id: &str, pw: &str| {
        r.connect(conn, 0);
        bind_status(&r.bind_as(conn, 0, kind, id, pw))
    };
    use CommandStatus as S;
    assert_eq!(
        try_bind(&mut r, 1, Trx, "mallory", "secret"),
        S::ESME_RINVSYSID
    );
    assert_eq!(
        try_bind(&mut r, 2, Trx, "alice", "wrong"),
        S::ESME_RINVPASWD
    );
    assert_eq!(
        try_bind(&mut r, 3, Rx, "bob", "pw"),
        S::ESME_RBINDFAIL,
        "bob may only bind as a transmitter"
    );
    assert_eq!(try_bind(&mut r, 4, Tx, "bob", "pw"), S::ESME_ROK);
    assert_eq!(try_bind(&mut r, 5, Trx, "carol", "pw"), S::ESME_ROK);
    assert_eq!(
        try_bind(&mut r, 6, Trx, "carol", "pw"),
        S::ESME_RBINDFAIL,
        "carol may bind once at a time"
    );
    r.unbound(5, 1);
    r.core.closed(5);
    assert_eq!(r.core.stats().bound, 1);
    assert_eq!(
        try_bind(&mut r, 7, Trx, "carol", "pw"),
        S::ESME_ROK,
        "again"
    );
    let st = r.core.stats();
    assert_eq!((st.binds, st.bind_rejects, st.unbinds), (3, 4, 1));
    // Bind records carry the system_id but never the password.
    let binds: Vec<_> = r
        .records
        .iter()
        .filter(|r| r.command_id == CommandId::BIND_TRANSCEIVER)
        .collect();
    assert!(binds.len() >= 4, "{}", binds.len());
    for rec in binds {
        assert!(!rec.to_json().contains("secret"), "{}", rec.to_json());
    }
}

#[test]
fn any_bind_is_accepted_without_users() {
    let mut r = Rig::new(SmscConfig::default());
    for (conn, kind) in [(1, Tx), (2, Rx), (3, Trx)] {
        r.connect(conn, 0);
        assert_eq!(
            bind_status(&r.bind_as(conn, 0, kind, "whoever", "x")),
            CommandStatus::ESME_ROK
        );
    }
}

#[test]
fn failed_binds_per_address_lock_the_address_out_for_the_window() {
    let mut r = Rig::new(
        SmscConfig::default()
            .user(User::new("alice", "secret"))
            .failed_bind_limit(3, Duration::from_millis(1500)),
    );
    r.bound_as(1, 0, Trx, "alice", "secret");
    for conn in 2..5 {
        r.connect(conn, 10 * conn);
        let out = r.bind(conn, 10 * conn, "alice", "wrong");
        assert_eq!(bind_status(&out), CommandStatus::ESME_RINVPASWD);
    }
    // Locked out: the right password is refused too, and the connection closed.
    r.connect(5, 100);
    let out = r.bind(5, 100, "alice", "secret");
    assert!(
        matches!(
            out[..],
            [
                Output::RejectBind {
                    status: CommandStatus::ESME_RBINDFAIL,
                    ..
                },
                Output::Close { conn: 5 }
            ]
        ),
        "{out:?}"
    );
    let st = r.core.stats();
    assert_eq!((st.bind_rejects, st.bind_lockouts), (4, 1));
    // The session bound before keeps working.
    ok_id(&r.request(1, 200, submit(0)));
    // After the window (from the first failure at 20 ms), the address may bind again.
    r.connect(6, 1600);
    assert_eq!(
        bind_status(&r.bind(6, 1600, "alice", "secret")),
        CommandStatus::ESME_ROK
    );
}

#[test]
fn failed_bind_limit_default_and_off() {
    assert_eq!(SmscConfig::default().max_failed_binds, 10);
    assert_eq!(
        SmscConfig::default().failed_bind_window,
        Duration::from_secs(60)
    );
    let mut r = Rig::new(
        SmscConfig::default()
            .user(User::new("alice", "secret"))
            .failed_bind_limit(0, Duration::from_secs(60)),
    );
    for conn in 1..=20 {
        r.connect(conn, conn);
        let out = r.bind(conn, conn, "alice", "wrong");
        assert_eq!(bind_status(&out), CommandStatus::ESME_RINVPASWD);
    }
    r.connect(21, 21);
    assert_eq!(
        bind_status(&r.bind(21, 21, "alice", "secret")),
        CommandStatus::ESME_ROK
    );
    let st = r.core.stats();
    assert_eq!((st.bind_rejects, st.bind_lockouts), (20, 0));
}

// ----- other requests, MO -----

#[test]
fn query_replace_cancel_data_sm_and_submit_multi_are_answered() {
    let mut r = alice(SmscConfig::default().receipt_delay(Duration::from_secs(60)));
    let id = ok_id(&r.request(1, 0, sm(TO, "pending", 1)));
    let query = |r: &mut Rig, id: &str| match &r.request(
        1,
        1,
        QuerySm {
            message_id: id.to_string().into(),
            source_addr: "12345".into(),
            ..Default::default()
        },
    )[..]
    {
        [Output::Respond {
            status,
            body: Body::QuerySmResp(q),
            ..
        }] => (*status, q.message_state),
        other => panic!("{other:?}"),
    };
    assert_eq!(query(&mut r, &id), (CommandStatus::ESME_ROK, 1), "enroute");
    let replace = |id: &str| ReplaceSm {
        message_id: id.to_string().into(),
        source_addr: "12345".into(),
        short_message: "replaced".into(),
        ..Default::default()
    };
    let cancel = |id: &str| CancelSm {
        message_id: id.to_string().into(),
        source_addr: "12345".into(),
        ..Default::default()
    };
    assert_eq!(
        status_of(&r.request(1, 2, replace(&id))),
        CommandStatus::ESME_ROK
    );
    assert_eq!(
        status_of(&r.request(1, 3, cancel(&id))),
        CommandStatus::ESME_ROK
    );
    assert_eq!(query(&mut r, &id), (CommandStatus::ESME_ROK, 4), "deleted");
    assert_eq!(
        status_of(&r.request(1, 4, cancel(&id))),
        CommandStatus::ESME_RCANCELFAIL
    );
    assert_eq!(query(&mut r, "nope").0, CommandStatus::ESME_RQUERYFAIL);
    assert_eq!(
        status_of(&r.request(1, 5, replace("nope"))),
        CommandStatus::ESME_RREPLACEFAIL
    );
    let out = r.request(
        1,
        6,
        DataSm {
            source_addr: "12345".into(),
            destination_addr: TO.into(),
            ..Default::default()
        },
    );
    let [Output::Respond {
        status: CommandStatus::ESME_ROK,
        body: Body::DataSmResp(d),
        ..
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(d.message_id.to_str_lossy(), "2");
    let out = r.request(
        1,
        7,
        SubmitMulti {
            source_addr: "12345".into(),
            dest_addresses: vec![DestAddress::SmeAddress {
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: TO.into(),
            }],
            short_message: "multi".into(),
            ..Default::default()
        },
    );
    let [Output::Respond {
        status: CommandStatus::ESME_ROK,
        body: Body::SubmitMultiResp(m),
        ..
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(m.message_id.to_str_lossy(), "3");
    assert!(
        r.run(600_000).is_empty(),
        "the cancelled message gets no receipt"
    );
}

/// The text of an MO `deliver_sm` (`short_message`, or `message_payload`).
fn mo_text(d: &smpp_pdu::DeliverSm<'_>) -> String {
    let encoding = if d.data_coding == 8 {
        Encoding::Ucs2
    } else {
        Encoding::Gsm7
    };
    let payload = d.tlvs.iter().find_map(|t| match t {
        Tlv::MessagePayload(p) => Some(p.as_bytes().to_vec()),
        _ => None,
    });
    let bytes = payload.unwrap_or_else(|| d.short_message.as_bytes().to_vec());
    text::decode(&bytes, encoding).unwrap()
}

#[test]
fn injected_mo_messages_go_to_a_receiver_of_the_system_id() {
    let mut r = Rig::new(users());
    match r.core.inject_mo(r.at(0), "alice", TO, "12345", "nobody") {
        Err(SmscError::NoReceiver(id)) => assert_eq!(id, "alice"),
        other => panic!("expected NoReceiver, got {other:?}"),
    }
    r.bound_as(1, 0, Tx, "bob", "pw");
    assert!(matches!(
        r.core.inject_mo(r.at(0), "bob", "1", "2", "x"),
        Err(SmscError::NoReceiver(_))
    ));
    r.bound_as(2, 0, Trx, "alice", "secret");
    for (ms, want) in [(1, "Hi there"), (2, "Grüße 😀")] {
        r.core
            .inject_mo(r.at(ms), "alice", TO, "12345", want)
            .expect("injected");
        let out = r.outputs();
        let [o] = &out[..] else { panic!("{out:?}") };
        let (conn, d) = deliver(o);
        assert_eq!(conn, 2);
        assert_eq!(d.esm_class, 0, "not a receipt");
        assert_eq!(mo_text(d), want);
        assert_eq!(d.source_addr.to_str_lossy(), TO);
        assert_eq!(d.destination_addr.to_str_lossy(), "12345");
        r.ack(ms, o);
    }
    let st = r.core.stats();
    assert_eq!((st.mo_sent, st.delivers_acked), (2, 2));
    let resps = r
        .records
        .iter()
        .filter(|r| r.command_id == CommandId::DELIVER_SM_RESP)
        .count();
    assert_eq!(resps, 2, "deliver_sm_resp are recorded");
}

#[test]
fn long_mo_texts_are_split_as_mo_split_says() {
    let long = "Long MO text from a handset, long enough for several segments: ".repeat(5);
    for split in [
        SplitMethod::Udh8,
        SplitMethod::Udh16,
        SplitMethod::Sar,
        SplitMethod::Payload,
    ] {
        let mut r = Rig::new(SmscConfig::default().mo_split(split));
        r.bound_as(1, 0, Rx, "esme", "pw");
        r.core
            .inject_mo(r.at(0), "esme", TO, "12345", &long)
            .unwrap();
        let out = r.outputs();
        let pdus: Vec<&smpp_pdu::DeliverSm<'static>> = out.iter().map(|o| deliver(o).1).collect();
        if split == SplitMethod::Payload {
            assert_eq!(pdus.len(), 1, "{split:?}");
            assert!(pdus[0].short_message.is_empty());
            assert_eq!(mo_text(pdus[0]), long);
            continue;
        }
        let n = pdus.len();
        assert!(n >= 3, "{split:?}: {n}");
        let mut whole = String::new();
        for (i, d) in pdus.iter().enumerate() {
            let seq = i as u8 + 1;
            let sm = d.short_message.as_bytes();
            let body = match split {
                SplitMethod::Udh8 => {
                    assert_eq!(d.esm_class & 0x40, 0x40);
                    assert_eq!(sm[..3], [5, 0, 3]);
                    assert_eq!(sm[4..6], [n as u8, seq]);
                    &sm[6..]
                }
                SplitMethod::Udh16 => {
                    assert_eq!(d.esm_class & 0x40, 0x40);
                    assert_eq!(sm[..3], [6, 8, 4]);
                    assert_eq!(sm[5..7], [n as u8, seq]);
                    &sm[7..]
                }
                _ => {
                    assert_eq!(d.esm_class & 0x40, 0, "no UDH with SAR");
                    assert!(d.tlvs.contains(&Tlv::SarTotalSegments(n as u8)));
                    assert!(d.tlvs.contains(&Tlv::SarSegmentSeqnum(seq)));
                    assert!(d.tlvs.iter().any(|t| matches!(t, Tlv::SarMsgRefNum(_))));
                    sm
                }
            };
            whole.push_str(&text::decode(body, Encoding::Gsm7).unwrap());
        }
        assert_eq!(whole, long, "{split:?}");
        assert_eq!(
            r.core.stats().mo_sent,
            n as u64,
            "one per segment: {split:?}"
        );
    }
}

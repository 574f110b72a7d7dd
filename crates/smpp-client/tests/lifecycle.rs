//! The message lifecycle through the client against the test SMSC behaving like awkward
//! real SMSCs: receipts before responses, ids in hexadecimal in the response and decimal
//! in the receipt (and no `receipted_message_id`), a failing segment, intermediate and
//! duplicate receipts, receipts that never come, and long MO messages in segments.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use smpp_client::{
    Client, ClientConfig, InboundKind, Outcome, ReceiptItems, Report, SegmentState, TextOptions,
};
use smpp_lifecycle::ReceiptMatch;
use smpp_pdu::concat::SplitMethod;
use smpp_pdu::receipt::ReceiptState;
use smpp_session::BindKind;
use smpp_smsc::{IdFormat, IntermediateStyle, ReceiptContent, ReceiptIdForm, Smsc, SmscConfig};

const WAIT: Duration = Duration::from_secs(10);

fn connect(smsc: &Smsc, config: ClientConfig) -> Client {
    Client::connect(smsc.local_addr(), config).expect("bind")
}

fn trx() -> ClientConfig {
    ClientConfig::new(BindKind::Transceiver, "esme", "pw").response_timeout(Duration::from_secs(5))
}

/// Collects inbound items until `n` reports came (or `WAIT` passed): the reports by
/// reference, and every other item's kind in arrival order.
fn reports(c: &Client, n: usize) -> (HashMap<String, Report>, Vec<InboundKind>) {
    let end = Instant::now() + WAIT;
    let mut reports = HashMap::new();
    let mut others = Vec::new();
    while reports.len() < n {
        let left = end.saturating_duration_since(Instant::now());
        let Ok(i) = c.inbound().recv_timeout(left) else {
            panic!(
                "only {} of {n} reports within {WAIT:?}: {reports:?}",
                reports.len()
            );
        };
        if let Some(r) = i.report() {
            assert!(
                reports
                    .insert(String::from(&r.reference), r.clone())
                    .is_none(),
                "a second report for {}",
                r.reference
            );
        } else {
            // Keep the kind; `Inbound` itself holds the acknowledgement.
            others.push(match i.kind() {
                InboundKind::Receipt {
                    receipt, matched, ..
                } => InboundKind::Progress(smpp_client::Progress {
                    reference: format!("{matched:?}").into(),
                    segment: 0,
                    receipt: receipt.clone(),
                }),
                InboundKind::Progress(p) => InboundKind::Progress(p.clone()),
                InboundKind::Unmatched(u) => InboundKind::Unmatched(u.clone()),
                other => panic!("unexpected {other:?}"),
            });
        }
    }
    (reports, others)
}

#[test]
fn receipts_before_responses_with_hex_and_decimal_ids_give_one_report_each() {
    // Responses say 000000001A (hex, zero-padded); receipts, sent before the response,
    // say id:26 in the text only. Ids from 26 on, so every hex id differs from its
    // decimal form.
    let mut config = SmscConfig::default()
        .id_format(IdFormat::PaddedHex { width: 10 })
        .receipt_text_id(ReceiptIdForm::Format(IdFormat::Decimal))
        .receipt_content(ReceiptContent::TextOnly)
        .receipt_before_response(true);
    config.first_id = 26;
    let smsc = Smsc::start(config).expect("SMSC");
    // Every receipt as an item too, to see what the tracker made of each.
    let c = connect(&smsc, trx().receipt_items(ReceiptItems::All));
    let long = "A long message in several parts, each of which gets its own receipt. ".repeat(6);
    let short = c
        .send_text(
            "MyBrand",
            "+447700900123",
            "Your code is 123456",
            &TextOptions::default().reference("otp-1"),
        )
        .expect("short");
    let long_sent = c
        .send_text(
            "MyBrand",
            "+447700900124",
            &long,
            &TextOptions::default().reference("news-1"),
        )
        .expect("long");
    assert_eq!(short.reference.as_deref(), Some("otp-1"));
    assert!(long_sent.len() >= 3, "{long_sent:?}");
    assert_eq!(short[0], "000000001A");

    let (reports, others) = reports(&c, 2);
    let otp = &reports["otp-1"];
    assert_eq!(otp.outcome, Outcome::Delivered);
    assert_eq!(otp.state, Some(ReceiptState::Delivered));
    assert_eq!(otp.message_ids().collect::<Vec<_>>(), short.message_ids);
    let news = &reports["news-1"];
    assert_eq!(news.outcome, Outcome::Delivered);
    assert_eq!(news.segments.len(), long_sent.len());
    assert_eq!(
        news.message_ids().collect::<Vec<_>>(),
        long_sent.message_ids
    );
    // Every receipt came before its response on the wire. The client sees receipts on its
    // dispatcher thread and responses on the sending thread, so each receipt was either
    // held until its response was recorded or matched at once: both end matched.
    assert_eq!(
        others.len(),
        1 + long_sent.len(),
        "{others:#?} {reports:#?}"
    );
    let stats = c.stats().tracker;
    assert!(stats.receipts_held as usize <= 1 + long_sent.len());
    assert_eq!(stats.receipts_matched as usize, 1 + long_sent.len());
    assert_eq!(stats.receipts_unmatched, 0);
    assert_eq!((stats.delivered, stats.tracked, stats.held), (2, 0, 0));
    c.unbind().expect("unbind");
}

#[test]
fn one_failing_segment_fails_the_message_and_says_which() {
    // The 2nd accepted submit (segment 2 of the message) ends UNDELIV with err:034.
    let smsc = Smsc::start(
        SmscConfig::default()
            .receipt_delay(Duration::from_millis(20))
            .final_state_every(2, ReceiptState::Undeliverable, "034"),
    )
    .expect("SMSC");
    let c = connect(&smsc, trx());
    let text = "x".repeat(400); // three segments
    let sent = c
        .send_text(
            "MyBrand",
            "447700900123",
            &text,
            &TextOptions::default().reference("three"),
        )
        .expect("sent");
    assert_eq!(sent.len(), 3);
    let (reports, _) = reports(&c, 1);
    let r = &reports["three"];
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.state, Some(ReceiptState::Undeliverable));
    let (i, seg) = r.first_failure().expect("a failed segment");
    assert_eq!(i, 1);
    assert_eq!(seg.state, SegmentState::Final(ReceiptState::Undeliverable));
    assert_eq!(
        seg.receipt.as_ref().and_then(|x| x.err.as_deref()),
        Some("034")
    );
    assert_eq!(
        r.segments[0].state,
        SegmentState::Final(ReceiptState::Delivered)
    );
    assert_eq!(
        r.segments[2].state,
        SegmentState::Final(ReceiptState::Delivered)
    );
    c.unbind().expect("unbind");
}

#[test]
fn intermediate_and_duplicate_receipts_give_progress_and_still_one_report() {
    let smsc = Smsc::start(
        SmscConfig::default()
            .receipt_delay(Duration::from_millis(20))
            .intermediate_receipt(ReceiptState::Enroute, IntermediateStyle::AsReceipt)
            .duplicate_receipts(true),
    )
    .expect("SMSC");
    let c = connect(&smsc, trx().receipt_items(ReceiptItems::All));
    c.send_text(
        "MyBrand",
        "447700900123",
        "hello",
        &TextOptions::default().reference("p"),
    )
    .expect("sent");
    let (reports, others) = reports(&c, 1);
    assert_eq!(reports["p"].outcome, Outcome::Delivered);
    let progress = others
        .iter()
        .filter(|k| matches!(k, InboundKind::Progress(p) if p.reference == "p"))
        .count();
    assert_eq!(progress, 1, "one ENROUTE progress note: {others:?}");
    // The duplicate final receipt comes after the report: counted, not reported again.
    let dup = c
        .inbound()
        .recv_timeout(WAIT)
        .expect("the duplicate receipt");
    match dup.kind() {
        InboundKind::Receipt { matched, .. } => assert_eq!(*matched, ReceiptMatch::Duplicate),
        other => panic!("{other:?}"),
    }
    assert!(
        c.inbound()
            .recv_timeout(Duration::from_millis(300))
            .is_err(),
        "nothing else"
    );
    assert_eq!(c.stats().tracker.receipts_duplicate, 1);
    c.unbind().expect("unbind");
}

#[test]
fn a_message_whose_receipts_never_come_is_reported_expired() {
    let smsc =
        Smsc::start(SmscConfig::default().receipt_delay(Duration::from_secs(60))).expect("SMSC");
    let c = connect(&smsc, trx());
    let options = TextOptions::default()
        .reference("slow")
        .report_timeout(Duration::from_millis(300));
    let sent = c
        .send_text("MyBrand", "447700900123", "hello", &options)
        .expect("sent");
    let started = Instant::now();
    let (reports, _) = reports(&c, 1);
    let r = &reports["slow"];
    assert_eq!(r.outcome, Outcome::Expired);
    assert_eq!(r.segments[0].message_id.as_deref(), Some(sent[0].as_str()));
    assert_eq!(r.segments[0].state, SegmentState::Submitted);
    // The dispatcher woke for the deadline, not for anything else.
    assert!(started.elapsed() < Duration::from_secs(5));
    c.unbind().expect("unbind");
}

#[test]
fn no_receipt_asked_reports_accepted_and_refused_segments_fail() {
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let c = connect(&smsc, trx());
    c.send_text(
        "MyBrand",
        "447700900123",
        "no receipt",
        &TextOptions::default()
            .registered_delivery(0)
            .reference("fire-and-forget"),
    )
    .expect("sent");
    let (reports, _) = reports(&c, 1);
    assert_eq!(reports["fire-and-forget"].outcome, Outcome::Accepted);
    // A reference still in use is refused before anything is sent.
    let held =
        Smsc::start(SmscConfig::default().receipt_delay(Duration::from_secs(60))).expect("SMSC");
    let c2 = connect(&held, trx());
    c2.send_text("A", "1", "one", &TextOptions::default().reference("dup"))
        .expect("first");
    let e = c2
        .send_text("A", "1", "two", &TextOptions::default().reference("dup"))
        .expect_err("the reference is in use");
    assert!(e.to_string().contains("dup"), "{e}");
    assert_eq!(held.stats().submits, 1, "the second was never sent");
    c.unbind().expect("unbind");
    c2.unbind().expect("unbind");
}

#[test]
fn long_mo_in_segments_arrives_as_one_message_in_every_split_method() {
    let text = "Long MO text from a handset, long enough for several segments: ".repeat(5);
    for split in [SplitMethod::Udh8, SplitMethod::Udh16, SplitMethod::Sar] {
        let smsc = Smsc::start(SmscConfig::default().mo_split(split)).expect("SMSC");
        let c = connect(&smsc, ClientConfig::new(BindKind::Receiver, "esme", "pw"));
        smsc.inject_mo("esme", "447700900123", "12345", &text)
            .expect("MO");
        let i = c.inbound().recv_timeout(WAIT).expect("the whole message");
        let m = i
            .message()
            .unwrap_or_else(|| panic!("{split:?}: {:?}", i.kind()));
        assert_eq!(m.text.as_deref(), Some(text.as_str()), "{split:?}");
        assert!(m.segments >= 3, "{split:?}: {}", m.segments);
        assert_eq!(m.source.addr, "447700900123");
        assert!(i.pdu().is_none(), "no single PDU carried it");
        assert!(
            smsc.wait_for(WAIT, |s| s.delivers_acked == u64::from(m.segments)),
            "every segment answered"
        );
        // Off, the segments come one by one, as received.
        let raw = connect(
            &smsc,
            ClientConfig::new(BindKind::Receiver, "raw", "pw").reassemble(false),
        );
        smsc.inject_mo("raw", "447700900123", "12345", &text)
            .expect("MO");
        for n in 0..m.segments {
            let i = raw.inbound().recv_timeout(WAIT).expect("a segment");
            assert!(
                matches!(i.kind(), InboundKind::Pdu { .. }),
                "{split:?} segment {n}: {:?}",
                i.kind()
            );
        }
        c.unbind().expect("unbind");
        raw.unbind().expect("unbind");
    }
}

#[test]
fn send_many_keeps_the_window_full_and_reports_every_message_once() {
    let smsc =
        Smsc::start(SmscConfig::default().receipt_delay(Duration::from_millis(5))).expect("SMSC");
    let c = connect(&smsc, trx().window(32));
    let texts: Vec<smpp_client::OutgoingText> = (0..300)
        .map(|i| {
            // Every 50th has a sender too long to be alphanumeric: refused before sending.
            let from = if i % 50 == 7 {
                "AVeryLongBrandName"
            } else {
                "MyBrand"
            };
            let text = if i % 10 == 0 {
                "long ".repeat(40)
            } else {
                format!("message {i}")
            };
            smpp_client::OutgoingText::new(from, "447700900123", text)
                .options(TextOptions::default().reference(format!("m{i}")))
        })
        .collect();
    let results = c.send_many(texts, 32);
    assert_eq!(results.len(), 300);
    let mut expect_reports = 0;
    let mut segments = 0;
    for (i, r) in results.iter().enumerate() {
        if i % 50 == 7 {
            assert!(
                matches!(r, Err(smpp_client::Error::SourceAddress(_))),
                "{i}: {r:?}"
            );
        } else {
            let sent = r.as_ref().unwrap_or_else(|e| panic!("{i}: {e}"));
            assert_eq!(sent.reference.as_deref(), Some(format!("m{i}").as_str()));
            assert_eq!(sent.len(), if i % 10 == 0 { 2 } else { 1 });
            segments += sent.len();
            expect_reports += 1;
        }
    }
    assert_eq!(smsc.stats().submits as usize, segments);
    let (reports, _) = reports(&c, expect_reports);
    assert!(reports.values().all(|r| r.outcome == Outcome::Delivered));
    assert!(
        reports.contains_key("m0") && reports.contains_key("m299") && !reports.contains_key("m7")
    );
    c.unbind().expect("unbind");
}

#[test]
fn receipts_right_behind_their_responses_find_their_segments_at_once() {
    // The test SMSC writes each receipt right after its response, in the same write. The
    // connection's observer records each acceptance as it arrives, in the order of the
    // wire, so no receipt has to wait for the sending thread to get round to it (without
    // it, about two thirds were held).
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let c = connect(&smsc, trx().window(64));
    let texts: Vec<smpp_client::OutgoingText> = (0..500)
        .map(|i| {
            smpp_client::OutgoingText::new("MyBrand", "447700900123", "x")
                .options(TextOptions::default().reference(format!("m{i}")))
        })
        .collect();
    let results = c.send_many(texts, 64);
    assert!(results.iter().all(Result::is_ok));
    let (reports, _) = reports(&c, 500);
    assert!(reports.values().all(|r| r.outcome == Outcome::Delivered));
    let t = c.stats().tracker;
    assert_eq!((t.receipts_matched, t.receipts_held), (500, 0), "{t:?}");
    c.unbind().expect("unbind");
}

#[test]
fn a_segment_that_timed_out_keeps_its_outcome_when_the_answer_comes_late() {
    // The call's own timeout (100 ms) is shorter than the SMSC's answer (400 ms) and the
    // session's timeout: the caller gets Timeout, and so does the tracker, even though the
    // connection then reads an acceptance for it.
    let config = SmscConfig {
        response_delay: Duration::from_millis(400),
        ..SmscConfig::default()
    };
    let smsc = Smsc::start(config).expect("SMSC");
    let c = connect(&smsc, trx());
    let opts = TextOptions::default()
        .registered_delivery(0)
        .reference("late")
        .timeout(Duration::from_millis(100));
    let e = c
        .send_text("MyBrand", "447700900123", "x", &opts)
        .expect_err("no answer within 100 ms");
    assert!(matches!(e, smpp_client::Error::Timeout), "{e:?}");
    let (reports, _) = reports(&c, 1);
    // The acceptance arrives meanwhile; the report said what the caller was told.
    std::thread::sleep(Duration::from_millis(600));
    let r = &reports["late"];
    assert_eq!(r.outcome, Outcome::Unknown, "{r:?}");
    assert!(
        matches!(r.segments[0].state, SegmentState::Unknown(_)),
        "{r:?}"
    );
    assert!(c.inbound().try_recv().is_err(), "nothing more about it");
    c.unbind().expect("unbind");
}

#[test]
fn an_application_that_never_reads_gets_an_error_instead_of_growing() {
    // Messages that ask for no receipt are reported as soon as they are answered, by the
    // sending thread itself. With four unread items the client holds back new messages,
    // for the response timeout (wall clock: the application is given that long to read),
    // then refuses them: nothing unbounded piles up, nothing is sent that could not be
    // reported.
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let mut config = trx().response_timeout(Duration::from_millis(200));
    config.inbound_capacity = 4;
    let c = connect(&smsc, config);
    let quiet = |r: &str| TextOptions::default().registered_delivery(0).reference(r);
    for i in 0..4 {
        c.send_text("MyBrand", "447700900123", "x", &quiet(&format!("m{i}")))
            .expect("room for its report");
    }
    let e = c
        .send_text("MyBrand", "447700900123", "x", &quiet("m4"))
        .expect_err("four reports unread");
    assert!(matches!(e, smpp_client::Error::InboundFull(4)), "{e:?}");
    assert!(e.to_string().contains("read Client::inbound"), "{e}");
    // send_many waits once, then refuses the rest at once.
    let texts: Vec<smpp_client::OutgoingText> = (0..200)
        .map(|i| {
            smpp_client::OutgoingText::new("MyBrand", "447700900123", "x")
                .options(quiet(&format!("many{i}")))
        })
        .collect();
    let started = Instant::now();
    let results = c.send_many(texts, 8);
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(smpp_client::Error::InboundFull(_)))));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        smsc.stats().submits,
        4,
        "only the reported messages went out"
    );
    // Once read, sending goes on; every sent message had its one report.
    let (reports, _) = reports(&c, 4);
    assert_eq!(reports.len(), 4);
    c.send_text("MyBrand", "447700900123", "x", &quiet("m5"))
        .expect("room again");
    let (reports, _) = self::reports(&c, 1);
    assert!(reports.contains_key("m5"));
    c.unbind().expect("unbind");
}

#[test]
fn send_many_sends_nothing_of_a_message_whose_tracking_is_refused() {
    // Messages are tracked a group at a time, just before their segments go out; a
    // reference already in use is refused there, and none of that message's segments may
    // go out, even when the group boundary falls inside it (window 2, three segments each).
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let c = connect(&smsc, trx().window(2));
    let long = "x".repeat(400);
    let texts: Vec<smpp_client::OutgoingText> = ["a", "a", "b"]
        .iter()
        .map(|r| {
            smpp_client::OutgoingText::new("MyBrand", "447700900123", long.clone())
                .options(TextOptions::default().reference(*r))
        })
        .collect();
    let results = c.send_many(texts, 2);
    assert_eq!(results[0].as_ref().map(|s| s.len()).ok(), Some(3));
    assert!(
        matches!(results[1], Err(smpp_client::Error::Track(_))),
        "{:?}",
        results[1]
    );
    assert_eq!(results[2].as_ref().map(|s| s.len()).ok(), Some(3));
    assert_eq!(smsc.stats().submits, 6);
    let (reports, _) = reports(&c, 2);
    assert!(reports.contains_key("a") && reports.contains_key("b"));
    c.unbind().expect("unbind");
}

#[test]
fn a_client_that_stops_for_good_reports_every_open_message() {
    let smsc =
        Smsc::start(SmscConfig::default().receipt_delay(Duration::from_secs(60))).expect("SMSC");
    let c = connect(&smsc, trx());
    c.send_text(
        "MyBrand",
        "447700900123",
        "never receipted",
        &TextOptions::default().reference("open"),
    )
    .expect("sent");
    // The SMSC goes away and the client does not reconnect: no receipt can come now.
    smsc.shutdown();
    let (reports, _) = reports(&c, 1);
    assert_eq!(reports["open"].outcome, Outcome::Expired);
    // Then the inbound channel ends.
    match c.inbound().recv_timeout(WAIT) {
        Err(e) if e.is_disconnected() => {}
        Err(e) => panic!("the channel should end: {e}"),
        Ok(i) => panic!("nothing more: {:?}", i.kind()),
    }
}

#[test]
fn a_receiver_client_reports_what_a_transmitter_client_sent_through_a_shared_store() {
    use smpp_client::StoreHandle;
    // Receipts wait at the SMSC until a receiver binds.
    let smsc = Smsc::start(
        SmscConfig::default()
            .receipt_delay(Duration::from_millis(20))
            .receipt_hold(Duration::from_secs(20)),
    )
    .expect("SMSC");
    let store = StoreHandle::new(Box::new(smpp_lifecycle::MemoryStore::new()));
    let tx = connect(
        &smsc,
        ClientConfig::new(BindKind::Transmitter, "esme", "pw").store(store.clone()),
    );
    let sent = tx
        .send_text(
            "MyBrand",
            "447700900123",
            &"two parts ".repeat(20),
            &TextOptions::default().reference("R1"),
        )
        .expect("sent and written to the store");
    assert_eq!(sent.len(), 2);
    // The transmitter stops: its open message stays in the store, unreported.
    tx.unbind().expect("unbind");
    drop(tx);
    // A receiver (another process, in effect) binds with the same store.
    let rx = connect(
        &smsc,
        ClientConfig::new(BindKind::Receiver, "esme", "pw")
            .store(store)
            .receipt_items(ReceiptItems::All),
    );
    let (reports, others) = reports(&rx, 1);
    let r = &reports["R1"];
    assert_eq!(r.outcome, Outcome::Delivered);
    assert_eq!(r.message_ids().collect::<Vec<_>>(), sent.message_ids);
    assert_eq!(others.len(), 2, "both receipts: {others:?}");
    assert_eq!(rx.stats().tracker.adopted, 1);
    // The report is out before the store thread writes the message's removal: wait for
    // the receiver's writes to land (written, or compacted away within one batch).
    let landed = common::poll_until(WAIT, || {
        let s = rx.stats().store.expect("a store");
        s.pending == 0 && s.written + s.compacted >= 1
    });
    assert!(landed, "{:?}", rx.stats().store);
    rx.unbind().expect("unbind");
}

#[test]
fn by_default_a_tracked_message_is_one_item_and_untracked_receipts_still_come() {
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let c = connect(&smsc, trx());
    let sent = c
        .send_text(
            "MyBrand",
            "447700900123",
            &"two parts ".repeat(20),
            &TextOptions::default().reference("one-item"),
        )
        .expect("sent");
    assert_eq!(sent.len(), 2);
    let (reports, others) = reports(&c, 1);
    // Both receipts matched: they travel inside the report, not as items of their own.
    assert!(others.is_empty(), "only the report: {others:?}");
    let r = &reports["one-item"];
    assert_eq!(r.outcome, Outcome::Delivered);
    assert!(
        r.segments.iter().all(|s| s.receipt.is_some()),
        "{:?}",
        r.segments
    );
    // A submit the tracker does not follow, with nothing tracked in flight: its receipt
    // cannot be early for anything, so it is not held but comes at once, as one item
    // that says it matched nothing (no separate unmatched note).
    let raw = smpp_pdu::SubmitSm {
        source_addr: "MyBrand".into(),
        destination_addr: "447700900123".into(),
        registered_delivery: 1,
        short_message: smpp_pdu::OctetString::from(&b"raw"[..]),
        ..Default::default()
    };
    c.submit(&raw).expect("raw submit");
    let i = c
        .inbound()
        .recv_timeout(WAIT)
        .expect("the raw submit's receipt");
    assert!(
        matches!(
            i.kind(),
            InboundKind::Receipt {
                matched: ReceiptMatch::Unmatched(smpp_lifecycle::UnmatchedReason::UnknownId),
                ..
            }
        ),
        "{:?}",
        i.kind()
    );
    drop(i);
    assert!(
        c.inbound()
            .recv_timeout(Duration::from_millis(300))
            .is_err(),
        "nothing else"
    );
    assert_eq!(c.stats().tracker.receipts_held, 0);
    c.unbind().expect("unbind");
    // With tracking off nothing places a receipt: it comes as an item, as before.
    let u = connect(&smsc, trx().track(false));
    u.send_text("MyBrand", "447700900123", "hi", &TextOptions::default())
        .expect("sent");
    let i = u.inbound().recv_timeout(WAIT).expect("the receipt");
    assert!(
        matches!(
            i.kind(),
            InboundKind::Receipt {
                matched: ReceiptMatch::Untracked,
                ..
            }
        ),
        "{:?}",
        i.kind()
    );
    drop(i);
    u.unbind().expect("unbind");
}

#[test]
fn send_many_from_a_channel_sends_each_message_without_waiting_for_the_next() {
    // A producer that waits for its first message to reach the SMSC before it offers the
    // second: grouping must not hold a message back for one that is not there yet.
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let c = connect(&smsc, trx());
    let (tx, rx) = crossbeam_channel::unbounded();
    let results = std::thread::scope(|s| {
        let producer = s.spawn(|| {
            tx.send(smpp_client::OutgoingText::new("A", "1", "first"))
                .expect("send");
            let reached = common::poll_until(WAIT, || smsc.stats().submits == 1);
            tx.send(smpp_client::OutgoingText::new("A", "1", "second"))
                .expect("send");
            drop(tx);
            reached
        });
        let results = c.send_many(rx.iter(), 64);
        assert!(
            producer.join().expect("producer"),
            "the first message did not go out before the second was offered"
        );
        results
    });
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    c.unbind().expect("unbind");
}

/// A message the caller built as its own `submit_sm`s (binary octets behind its own
/// concatenation UDH) is tracked like a text: one report when both receipts came; no
/// segment, or too many, is refused before anything goes out.
#[test]
fn a_message_sent_as_its_own_segments_gets_one_report() {
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let c = connect(&smsc, trx());
    let segment = |seq: u8| smpp_pdu::SubmitSm {
        destination_addr: "447700900123".into(),
        esm_class: 0x40,
        data_coding: 4,
        registered_delivery: 1,
        short_message: vec![5, 0, 3, 0x2a, 2, seq, 0xca, 0xfe].into(),
        ..Default::default()
    };
    let sent = c
        .send_segments(
            vec![segment(1), segment(2)],
            &TextOptions::default().reference("binary-1"),
        )
        .expect("sent");
    assert_eq!(sent.message_ids.len(), 2);
    assert_eq!(sent.reference.as_deref(), Some("binary-1"));
    let (reports, _) = reports(&c, 1);
    let r = &reports["binary-1"];
    assert_eq!(r.outcome, Outcome::Delivered);
    assert_eq!(r.segments.len(), 2);
    assert_eq!(r.message_ids().collect::<Vec<_>>(), sent.message_ids);

    for n in [0, 256] {
        let e = c
            .send_segments(vec![segment(1); n], &TextOptions::default())
            .expect_err("refused");
        assert!(
            matches!(e, smpp_client::Error::Segments(m) if m == n),
            "{e}"
        );
    }
    assert_eq!(smsc.stats().submits, 2);
    c.unbind().expect("unbind");
}

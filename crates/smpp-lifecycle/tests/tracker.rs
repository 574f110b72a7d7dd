//! The tracker on a virtual clock: matching across id forms, early receipts, duplicates,
//! expiry, bounds, and one final report per message whatever the interleaving.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use smpp_lifecycle::ids::ids_match;
use smpp_lifecycle::{
    Event, NewMessage, Outcome, Overflow, ReceiptMatch, ReceiptPolicy, Report, SegmentState,
    SubmitResult, TrackError, Tracker, TrackerConfig, UnknownReason, UnmatchedReason,
};
use smpp_pdu::receipt::{message_ids_match, Receipt, ReceiptState};
use smpp_pdu::CommandStatus;

fn receipt(id: &str, stat: &str) -> Receipt {
    Receipt::parse_text(&format!(
        "id:{id} sub:001 dlvrd:001 submit date:2612061200 done date:2612061201 stat:{stat} err:000 text:hi"
    ))
    .expect("a well-formed receipt")
}

fn accepted(id: &str) -> SubmitResult {
    SubmitResult::Accepted {
        message_id: id.to_string(),
    }
}

fn events(t: &mut Tracker) -> Vec<Event> {
    std::iter::from_fn(|| t.poll_event()).collect()
}

fn reports(t: &mut Tracker) -> Vec<Report> {
    events(t)
        .into_iter()
        .filter_map(|e| match e {
            Event::Report(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn one_report(t: &mut Tracker) -> Report {
    let mut r = reports(t);
    assert_eq!(r.len(), 1, "exactly one report: {r:?}");
    r.remove(0)
}

#[test]
fn id_forms_match_across_response_and_receipt() {
    // (id in submit_sm_resp, id in the receipt)
    let rows = [
        ("0000000001", "1"),
        ("1", "0000000001"),
        ("000000000A", "10"),
        ("a", "10"),
        ("ABCDEF", "abcdef"),
        ("ff", "255"),
        ("255", "FF"),
        ("0", "0000"),
        ("  42 ", "42"),
        ("ffffffffffffffffffff", "1208925819614629174706175"),
        ("1208925819614629174706175", "FFFFFFFFFFFFFFFFFFFF"),
        ("msg-7f", "MSG-7F"),
        (
            "6f1a0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
            "6F1A0C2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B",
        ),
    ];
    for (resp, text) in rows {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let m = t.submit(now, NewMessage::new(1)).unwrap();
        t.on_submit_result(now, m.id, 0, accepted(resp));
        let got = t.on_receipt(now, receipt(text, "DELIVRD"));
        assert!(
            matches!(got, ReceiptMatch::Matched { segment: 0, .. }),
            "{resp:?} vs {text:?}: {got:?}"
        );
        assert_eq!(
            one_report(&mut t).outcome,
            Outcome::Delivered,
            "{resp} vs {text}"
        );
    }
}

#[test]
fn different_ids_do_not_match() {
    let now = Instant::now();
    let mut t = Tracker::new(TrackerConfig {
        early_receipt_hold: Duration::ZERO,
        ..TrackerConfig::default()
    });
    let m = t.submit(now, NewMessage::new(1)).unwrap();
    t.on_submit_result(now, m.id, 0, accepted("12"));
    for other in ["13", "120", "x12", "1 2"] {
        assert_eq!(
            t.on_receipt(now, receipt(other, "DELIVRD")),
            ReceiptMatch::Unmatched(UnmatchedReason::UnknownId),
            "{other}"
        );
    }
    assert_eq!(t.tracked(), 1);
}

proptest! {
    /// The canonical keys agree with `message_ids_match` on every pair of short ids, and
    /// on long ones (inline and allocated keys, numbers past u64).
    #[test]
    fn keys_agree_with_message_ids_match(
        a in "[0-9a-fA-FxZ ]{0,6}|[0-9a-f]{18,40}|0{0,3}[0-9]{20,40}",
        b in "[0-9a-fA-FxZ ]{0,6}|[0-9A-F]{18,40}|[0-9]{20,40}",
    ) {
        prop_assert_eq!(ids_match(&a, &b), message_ids_match(&a, &b), "{:?} {:?}", a, b);
        prop_assert_eq!(ids_match(&b, &a), message_ids_match(&a, &b), "{:?} {:?}", b, a);
    }
}

#[test]
fn a_receipt_before_its_response_is_held_then_matched() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let m = t.submit(t0, NewMessage::new(1).reference("r1")).unwrap();
    assert_eq!(
        t.on_receipt(t0, receipt("1", "DELIVRD")),
        ReceiptMatch::Held
    );
    assert_eq!(t.held(), 1);
    assert!(events(&mut t).is_empty());
    t.on_submit_result(
        t0 + Duration::from_millis(5),
        m.id,
        0,
        accepted("0000000001"),
    );
    let r = one_report(&mut t);
    assert_eq!(
        (r.reference.as_str(), r.outcome),
        ("r1", Outcome::Delivered)
    );
    assert_eq!(r.segments[0].message_id.as_deref(), Some("0000000001"));
    assert_eq!(t.held(), 0);
    assert_eq!(t.tracked(), 0);
    let s = t.stats();
    assert_eq!(
        (s.receipts_held, s.receipts_matched, s.delivered),
        (1, 1, 1)
    );
}

#[test]
fn an_intermediate_and_a_final_receipt_both_before_the_response_are_both_applied() {
    // A fast SMSC sends ENROUTE and then DELIVRD before its submit_sm_resp: the response
    // must take both held receipts, in order (progress, then the report), and leave no
    // receipt held to be reported unmatched later.
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let m = t.submit(t0, NewMessage::new(1).reference("r1")).unwrap();
    for stat in ["ENROUTE", "DELIVRD"] {
        assert_eq!(t.on_receipt(t0, receipt("7", stat)), ReceiptMatch::Held);
    }
    assert_eq!(t.held(), 2);
    t.on_submit_result(t0, m.id, 0, accepted("7"));
    let ev = events(&mut t);
    assert!(
        matches!(
            ev.as_slice(),
            [Event::Progress(p), Event::Report(r)]
                if p.receipt.state == ReceiptState::Enroute && r.outcome == Outcome::Delivered
        ),
        "{ev:?}"
    );
    assert_eq!((t.held(), t.tracked()), (0, 0));
    // Nothing is left to expire into an unmatched receipt.
    t.handle_timeout(t0 + Duration::from_secs(3600));
    assert!(events(&mut t).is_empty());
}

#[test]
fn a_held_receipt_nobody_claims_is_reported_unmatched_when_the_hold_ends() {
    let t0 = Instant::now();
    let hold = Duration::from_secs(30);
    let mut t = Tracker::new(TrackerConfig {
        early_receipt_hold: hold,
        report_timeout: Duration::from_secs(3600),
        ..TrackerConfig::default()
    });
    // A message awaits its response, which could be the receipt's.
    t.submit(t0, NewMessage::new(1)).unwrap();
    assert_eq!(
        t.on_receipt(t0, receipt("77", "DELIVRD")),
        ReceiptMatch::Held
    );
    assert_eq!(t.poll_timeout(), Some(t0 + hold));
    t.handle_timeout(t0 + hold - Duration::from_millis(1));
    assert!(events(&mut t).is_empty());
    t.handle_timeout(t0 + hold);
    match events(&mut t).as_slice() {
        [Event::Unmatched(u)] => {
            assert_eq!(u.receipt.id, "77");
            assert_eq!(u.reason, UnmatchedReason::UnknownId);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(3600)));
}

/// A receipt is held only while a response could still match it: with no segment
/// awaiting its response (nothing tracked, or every response in), one that matches
/// nothing is reported unmatched at once, and held again once a message is on its way.
#[test]
fn with_no_response_awaited_an_unknown_receipt_is_unmatched_at_once() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    assert_eq!(
        t.on_receipt(t0, receipt("77", "DELIVRD")),
        ReceiptMatch::Unmatched(UnmatchedReason::UnknownId)
    );
    match events(&mut t).as_slice() {
        [Event::Unmatched(u)] => assert_eq!(u.receipt.id, "77"),
        other => panic!("{other:?}"),
    }
    let m = t.submit(t0, NewMessage::new(2)).unwrap();
    assert_eq!(
        t.on_receipt(t0, receipt("78", "DELIVRD")),
        ReceiptMatch::Held
    );
    t.on_submit_result(t0, m.id, 0, accepted("1"));
    assert_eq!(
        t.on_receipt(t0, receipt("79", "DELIVRD")),
        ReceiptMatch::Held
    );
    // The last response: still tracked (awaiting receipts), but no response is to come.
    t.on_submit_result(t0, m.id, 1, accepted("2"));
    assert_eq!(t.tracked(), 1);
    assert_eq!(
        t.on_receipt(t0, receipt("80", "DELIVRD")),
        ReceiptMatch::Unmatched(UnmatchedReason::UnknownId)
    );
    // A refused segment, or an expired message, awaits nothing either.
    let n = t.submit(t0, NewMessage::new(1)).unwrap();
    assert_eq!(
        t.on_receipt(t0, receipt("81", "DELIVRD")),
        ReceiptMatch::Held
    );
    t.on_submit_result(
        t0,
        n.id,
        0,
        SubmitResult::Refused(CommandStatus::ESME_RTHROTTLED),
    );
    assert!(matches!(
        t.on_receipt(t0, receipt("82", "DELIVRD")),
        ReceiptMatch::Unmatched(_)
    ));
    t.submit(t0, NewMessage::new(1)).unwrap();
    t.handle_timeout(t0 + TrackerConfig::default().report_timeout);
    assert_eq!(t.tracked(), 0);
    assert!(matches!(
        t.on_receipt(t0, receipt("83", "DELIVRD")),
        ReceiptMatch::Unmatched(_)
    ));
    // A segment restored with its id but still marked as awaiting its answer stops
    // counting once its receipt came: an unknown receipt after it is not held.
    let mut restored = Tracker::new(TrackerConfig::default());
    assert!(restored.adopt(
        t0,
        0,
        smpp_lifecycle::Record {
            reference: "restored".into(),
            receipts: ReceiptPolicy::Final,
            submitted_unix_ms: 0,
            expires_unix_ms: 600_000,
            segments: vec![smpp_lifecycle::StoredSegment {
                message_id: Some("90".into()),
                state: SegmentState::Sending,
                err: None,
                account: None,
            }],
        }
    ));
    assert_eq!(
        restored.on_receipt(t0, receipt("91", "DELIVRD")),
        ReceiptMatch::Held,
        "its answer may still come"
    );
    assert!(matches!(
        restored.on_receipt(t0, receipt("90", "DELIVRD")),
        ReceiptMatch::Matched { .. }
    ));
    assert_eq!(
        restored.on_receipt(t0, receipt("92", "DELIVRD")),
        ReceiptMatch::Unmatched(UnmatchedReason::UnknownId)
    );
    // With a store, another process may have sent it: held (and looked up) all the same.
    let mut journaled = Tracker::new(TrackerConfig {
        journal: true,
        ..TrackerConfig::default()
    });
    assert_eq!(
        journaled.on_receipt(t0, receipt("84", "DELIVRD")),
        ReceiptMatch::Held
    );
}

#[test]
fn held_receipts_are_bounded_and_the_oldest_is_reported() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig {
        max_held_receipts: 3,
        ..TrackerConfig::default()
    });
    t.submit(t0, NewMessage::new(1)).unwrap();
    for i in 0..5 {
        t.on_receipt(t0, receipt(&format!("{i}"), "DELIVRD"));
    }
    assert_eq!(t.held(), 3);
    let evicted: Vec<String> = events(&mut t)
        .into_iter()
        .map(|e| match e {
            Event::Unmatched(u) if u.reason == UnmatchedReason::Evicted => u.receipt.id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(evicted, ["0", "1"]);
}

#[test]
fn a_receipt_without_id_is_unmatched_at_once() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let mut r = receipt("1", "DELIVRD");
    r.id = " ".into();
    assert_eq!(
        t.on_receipt(t0, r),
        ReceiptMatch::Unmatched(UnmatchedReason::NoId)
    );
    assert!(matches!(events(&mut t).as_slice(), [Event::Unmatched(_)]));
}

#[test]
fn duplicate_receipts_are_counted_not_reported() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let m = t.submit(t0, NewMessage::new(2)).unwrap();
    t.on_submit_result(t0, m.id, 0, accepted("5"));
    t.on_submit_result(t0, m.id, 1, accepted("6"));
    assert!(matches!(
        t.on_receipt(t0, receipt("5", "DELIVRD")),
        ReceiptMatch::Matched { .. }
    ));
    // Again while the message is open, and again after its report.
    assert_eq!(
        t.on_receipt(t0, receipt("5", "DELIVRD")),
        ReceiptMatch::Duplicate
    );
    t.on_receipt(t0, receipt("6", "DELIVRD"));
    assert_eq!(one_report(&mut t).outcome, Outcome::Delivered);
    assert_eq!(
        t.on_receipt(t0, receipt("0006", "DELIVRD")),
        ReceiptMatch::Duplicate
    );
    assert!(events(&mut t).is_empty());
    assert_eq!(t.stats().receipts_duplicate, 2);
}

#[test]
fn segments_in_any_order_give_one_report_with_the_worst_state() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let m = t.submit(t0, NewMessage::new(4).reference("four")).unwrap();
    for (seg, id) in [(2, "c"), (0, "a"), (3, "d"), (1, "b")] {
        t.on_submit_result(t0, m.id, seg, accepted(id));
    }
    t.on_receipt(t0, receipt("d", "DELIVRD"));
    t.on_receipt(t0, receipt("b", "EXPIRED"));
    t.on_receipt(t0, receipt("a", "DELIVRD"));
    assert!(
        reports(&mut t).is_empty(),
        "no report before the last segment"
    );
    t.on_receipt(t0 + Duration::from_secs(9), receipt("c", "UNDELIV"));
    let r = one_report(&mut t);
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.state, Some(ReceiptState::Undeliverable));
    assert_eq!(r.first_failure().map(|(i, _)| i), Some(1));
    let states: Vec<_> = r.segments.iter().map(|s| s.state.clone()).collect();
    assert_eq!(
        states,
        [
            SegmentState::Final(ReceiptState::Delivered),
            SegmentState::Final(ReceiptState::Expired),
            SegmentState::Final(ReceiptState::Undeliverable),
            SegmentState::Final(ReceiptState::Delivered),
        ]
    );
    assert_eq!(r.message_ids().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
    assert_eq!(r.elapsed, Duration::from_secs(9));
    assert!(r.submit_date.is_some() && r.done_date.is_some());
}

#[test]
fn intermediate_receipts_are_progress_not_final() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let m = t.submit(t0, NewMessage::new(1).reference("p")).unwrap();
    t.on_submit_result(t0, m.id, 0, accepted("9"));
    t.on_receipt(t0, receipt("9", "ENROUTE"));
    t.on_receipt(t0, receipt("9", "ACCEPTD"));
    let ev = events(&mut t);
    assert_eq!(ev.len(), 2);
    assert!(ev
        .iter()
        .all(|e| matches!(e, Event::Progress(p) if p.reference == "p")));
    t.on_receipt(t0, receipt("9", "DELIVRD"));
    assert_eq!(one_report(&mut t).outcome, Outcome::Delivered);
}

#[test]
fn refused_and_unknown_segments() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let a = t
        .submit(t0, NewMessage::new(2).reference("refused"))
        .unwrap();
    t.on_submit_result(t0, a.id, 0, accepted("1"));
    t.on_submit_result(
        t0,
        a.id,
        1,
        SubmitResult::Refused(CommandStatus::ESME_RINVDSTADR),
    );
    assert!(
        reports(&mut t).is_empty(),
        "segment 0 still awaits its receipt"
    );
    t.on_receipt(t0, receipt("1", "DELIVRD"));
    let r = one_report(&mut t);
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        r.segments[1].state,
        SegmentState::Refused(CommandStatus::ESME_RINVDSTADR)
    );

    let c = t
        .submit(t0, NewMessage::new(2).reference("unsent"))
        .unwrap();
    t.on_submit_result(t0, c.id, 0, SubmitResult::Unknown(UnknownReason::Timeout));
    t.on_submit_result(t0, c.id, 1, SubmitResult::NotSent);
    let r = one_report(&mut t);
    assert_eq!(r.outcome, Outcome::Failed, "never sent is a sure failure");
    assert_eq!(r.segments[1].state, SegmentState::NotSent);

    let b = t.submit(t0, NewMessage::new(1).reference("lost")).unwrap();
    t.on_submit_result(
        t0,
        b.id,
        0,
        SubmitResult::Unknown(UnknownReason::Disconnected),
    );
    let r = one_report(&mut t);
    assert_eq!(r.outcome, Outcome::Unknown);
    assert_eq!(
        r.segments[0].state,
        SegmentState::Unknown(UnknownReason::Disconnected)
    );
}

#[test]
fn receipt_policies() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig {
        report_timeout: Duration::from_secs(60),
        ..TrackerConfig::default()
    });
    // No receipt asked: reported once answered.
    let a = t
        .submit(
            t0,
            NewMessage::new(1).receipts(ReceiptPolicy::from_registered_delivery(0)),
        )
        .unwrap();
    t.on_submit_result(t0, a.id, 0, accepted("1"));
    assert_eq!(one_report(&mut t).outcome, Outcome::Accepted);
    // Failure only: silence until the deadline means delivered; a failure ends it early.
    let b = t
        .submit(
            t0,
            NewMessage::new(1).receipts(ReceiptPolicy::from_registered_delivery(2)),
        )
        .unwrap();
    t.on_submit_result(t0, b.id, 0, accepted("2"));
    let c = t
        .submit(t0, NewMessage::new(1).receipts(ReceiptPolicy::FailureOnly))
        .unwrap();
    t.on_submit_result(t0, c.id, 0, accepted("3"));
    t.on_receipt(t0, receipt("3", "UNDELIV"));
    assert_eq!(one_report(&mut t).outcome, Outcome::Failed);
    t.handle_timeout(t0 + Duration::from_secs(60));
    assert_eq!(one_report(&mut t).outcome, Outcome::Delivered);
}

#[test]
fn messages_whose_receipts_never_come_expire() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig {
        report_timeout: Duration::from_secs(600),
        ..TrackerConfig::default()
    });
    let a = t.submit(t0, NewMessage::new(2).reference("a")).unwrap();
    let b = t
        .submit(
            t0,
            NewMessage::new(1)
                .reference("b")
                .report_timeout(Duration::from_secs(5)),
        )
        .unwrap();
    t.on_submit_result(t0, a.id, 0, accepted("1"));
    t.on_submit_result(t0, a.id, 1, accepted("2"));
    t.on_submit_result(t0, b.id, 0, accepted("3"));
    t.on_receipt(t0, receipt("1", "ENROUTE"));
    assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    t.handle_timeout(t0 + Duration::from_secs(5));
    let r = one_report(&mut t);
    assert_eq!((r.reference.as_str(), r.outcome), ("b", Outcome::Expired));
    let _ = events(&mut t);
    t.handle_timeout(t0 + Duration::from_secs(600));
    let r = one_report(&mut t);
    assert_eq!((r.reference.as_str(), r.outcome), ("a", Outcome::Expired));
    assert_eq!(
        r.state,
        Some(ReceiptState::Enroute),
        "the latest state seen"
    );
    // A receipt after the report is a duplicate of a finished message, not a new one.
    assert_eq!(
        t.on_receipt(t0, receipt("2", "DELIVRD")),
        ReceiptMatch::Duplicate
    );
    assert_eq!(t.tracked(), 0);
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn the_limit_refuses_or_evicts_with_a_report() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig {
        max_tracked: 2,
        overflow: Overflow::Refuse,
        ..TrackerConfig::default()
    });
    t.submit(t0, NewMessage::new(1)).unwrap();
    t.submit(t0, NewMessage::new(1)).unwrap();
    assert_eq!(
        t.submit(t0, NewMessage::new(1)),
        Err(TrackError::Full { limit: 2 })
    );

    let mut t = Tracker::new(TrackerConfig {
        max_tracked: 2,
        overflow: Overflow::EvictOldest,
        ..TrackerConfig::default()
    });
    for r in ["first", "second", "third"] {
        t.submit(t0, NewMessage::new(1).reference(r)).unwrap();
    }
    let r = one_report(&mut t);
    assert_eq!(
        (r.reference.as_str(), r.outcome),
        ("first", Outcome::Evicted)
    );
    assert_eq!(t.tracked(), 2);
    assert_eq!(t.stats().evicted, 1);
}

#[test]
fn references_are_unique() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig {
        reference_prefix: "p-".into(),
        ..TrackerConfig::default()
    });
    t.submit(t0, NewMessage::new(1).reference("p-2")).unwrap();
    assert_eq!(
        t.submit(t0, NewMessage::new(1).reference("p-2")),
        Err(TrackError::DuplicateReference("p-2".into()))
    );
    let generated: Vec<String> = (0..3)
        .map(|_| t.submit(t0, NewMessage::new(1)).unwrap().reference.into())
        .collect();
    assert_eq!(generated, ["p-1", "p-3", "p-4"]);
    assert_eq!(
        t.submit(t0, NewMessage::new(0)),
        Err(TrackError::BadSegmentCount(0))
    );
    assert_eq!(
        t.submit(t0, NewMessage::new(256)),
        Err(TrackError::BadSegmentCount(256))
    );
}

#[test]
fn late_and_stray_responses_are_ignored() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let m = t.submit(t0, NewMessage::new(1)).unwrap();
    t.on_submit_result(t0, m.id, 5, accepted("1"));
    t.on_submit_result(
        t0,
        m.id,
        0,
        SubmitResult::Refused(CommandStatus::ESME_RSYSERR),
    );
    assert_eq!(one_report(&mut t).outcome, Outcome::Failed);
    // The message is gone: a late second answer changes nothing.
    t.on_submit_result(t0, m.id, 0, accepted("1"));
    assert!(events(&mut t).is_empty());
}

/// One step of a random interleaving.
#[derive(Clone, Debug)]
enum Step {
    /// Answer segment `seg % n` of message `msg % m`: accepted, refused, or unknown.
    Respond { msg: usize, seg: usize, how: u8 },
    /// A receipt for that segment's id (sent whether or not the response came), in a
    /// random id form and state.
    Receipt {
        msg: usize,
        seg: usize,
        form: u8,
        state: u8,
    },
    /// A receipt for an id nobody has.
    Stray(u32),
    /// Time passes.
    Advance(u16),
}

/// Messages that stay open while thousands of newer ones come and go (their receipt late,
/// or never) are still found by their receipt, by their reference and by their timeout.
#[test]
fn messages_that_outlive_thousands_of_newer_ones_are_still_found() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig {
        report_timeout: Duration::from_secs(300),
        ..TrackerConfig::default()
    });
    let late = t.submit(t0, NewMessage::new(1).reference("late")).unwrap();
    t.on_submit_result(t0, late.id, 0, accepted("L1"));
    let never = t.submit(t0, NewMessage::new(2).reference("never")).unwrap();
    t.on_submit_result(t0, never.id, 0, accepted("N1"));
    for i in 0..5_000 {
        let now = t0 + Duration::from_millis(i);
        let m = t
            .submit(now, NewMessage::new(1).reference(format!("m{i}")))
            .unwrap();
        t.on_submit_result(now, m.id, 0, accepted(&format!("{i}")));
        let matched = t.on_receipt(now, receipt(&format!("{i}"), "DELIVRD"));
        assert!(
            matches!(matched, ReceiptMatch::Matched { .. }),
            "{i}: {matched:?}"
        );
    }
    assert_eq!(reports(&mut t).len(), 5_000);
    assert_eq!(t.tracked(), 2);
    // Both are still known by their references: a new message may not take them.
    assert!(matches!(
        t.submit(t0, NewMessage::new(1).reference("never")),
        Err(TrackError::DuplicateReference(_))
    ));
    assert_eq!(t.reference(never.id), Some("never"));
    // The late receipt finds its message; the other's second segment answers and the
    // message expires at its time.
    let now = t0 + Duration::from_secs(10);
    let _ = t.on_receipt(now, receipt("L1", "DELIVRD"));
    let r = one_report(&mut t);
    assert_eq!((&*r.reference, r.outcome), ("late", Outcome::Delivered));
    t.on_submit_result(now, never.id, 1, accepted("N2"));
    assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(300)));
    t.handle_timeout(t0 + Duration::from_secs(300));
    let r = one_report(&mut t);
    assert_eq!((&*r.reference, r.outcome), ("never", Outcome::Expired));
    assert_eq!(t.tracked(), 0);
    assert_eq!(t.poll_timeout(), None);
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), 0u8..6).prop_map(|(msg, seg, how)| Step::Respond {
            msg,
            seg,
            how
        }),
        (any::<usize>(), any::<usize>(), 0u8..3, 0u8..5).prop_map(|(msg, seg, form, state)| {
            Step::Receipt {
                msg,
                seg,
                form,
                state,
            }
        }),
        (1_000_000u32..2_000_000).prop_map(Step::Stray),
        (0u16..400).prop_map(Step::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Every submitted message gets exactly one final report, whatever the interleaving
    /// of responses, receipts (early, repeated, in any id form), strays and time; held
    /// receipts all resolve; nothing stays tracked.
    #[test]
    fn every_message_gets_exactly_one_report(
        sizes in proptest::collection::vec(1usize..5, 1..12),
        max_tracked in 3usize..20,
        steps in proptest::collection::vec(step(), 0..200),
    ) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut t = Tracker::new(TrackerConfig {
            max_tracked,
            report_timeout: Duration::from_secs(300),
            early_receipt_hold: Duration::from_secs(20),
            max_held_receipts: 8,
            ..TrackerConfig::default()
        });
        let mut seen: HashMap<String, u32> = HashMap::new();
        let mut unmatched = 0u64;
        let mut collect = |t: &mut Tracker, seen: &mut HashMap<String, u32>| {
            while let Some(e) = t.poll_event() {
                match e {
                    Event::Report(r) => *seen.entry(r.reference.into()).or_default() += 1,
                    Event::Unmatched(_) => unmatched += 1,
                    Event::Progress(_) => {}
                    other => panic!("{other:?}"),
                }
            }
        };
        let mut ids = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let m = t.submit(now, NewMessage::new(n).reference(format!("m{i}"))).unwrap();
            ids.push((m.id, n));
            collect(&mut t, &mut seen);
        }
        // Segment j of message i has SMSC id 100*i + j + 1 (decimal), answered in hex.
        let sid = |i: usize, j: usize| (100 * i + j + 1) as u64;
        for s in steps {
            match s {
                Step::Respond { msg, seg, how } => {
                    let i = msg % ids.len();
                    let (id, n) = ids[i];
                    let j = seg % n;
                    let result = match how {
                        0..=3 => accepted(&format!("{:08X}", sid(i, j))),
                        4 => SubmitResult::Refused(CommandStatus::ESME_RTHROTTLED),
                        _ => SubmitResult::Unknown(UnknownReason::Timeout),
                    };
                    t.on_submit_result(now, id, j, result);
                }
                Step::Receipt { msg, seg, form, state } => {
                    let i = msg % ids.len();
                    let j = seg % ids[i].1;
                    let id = match form {
                        0 => format!("{}", sid(i, j)),
                        1 => format!("{:010}", sid(i, j)),
                        _ => format!("{:x}", sid(i, j)),
                    };
                    let stat = ["DELIVRD", "UNDELIV", "ENROUTE", "EXPIRED", "ACCEPTD"][state as usize];
                    t.on_receipt(now, receipt(&id, stat));
                }
                Step::Stray(n) => {
                    t.on_receipt(now, receipt(&format!("{n}"), "DELIVRD"));
                }
                Step::Advance(s) => {
                    now += Duration::from_secs(u64::from(s));
                    t.handle_timeout(now);
                }
            }
            collect(&mut t, &mut seen);
        }
        // Far in the future everything has resolved.
        now += Duration::from_secs(10_000);
        t.handle_timeout(now);
        collect(&mut t, &mut seen);
        prop_assert_eq!(t.tracked(), 0);
        prop_assert_eq!(t.held(), 0);
        prop_assert_eq!(t.poll_timeout(), None);
        prop_assert_eq!(seen.len(), sizes.len());
        for i in 0..sizes.len() {
            prop_assert_eq!(seen.get(&format!("m{i}")).copied(), Some(1), "m{}", i);
        }
        let s = t.stats();
        prop_assert_eq!(
            s.delivered + s.accepted + s.failed + s.unknown + s.expired + s.evicted,
            sizes.len() as u64
        );
        prop_assert_eq!(s.receipts_unmatched, unmatched);
    }
}

/// An all-digit id reads two ways: the forms a link uses decide which message it names.
#[test]
fn id_forms_decide_what_an_all_digit_id_means() {
    use smpp_lifecycle::IdForms;
    let t0 = Instant::now();
    let run = |forms: IdForms| {
        let mut t = Tracker::new(TrackerConfig {
            id_forms: forms,
            early_receipt_hold: Duration::ZERO,
            ..TrackerConfig::default()
        });
        // Two messages in flight: hex responses 0000000010 (16) and 000000000A (10).
        let a = t
            .submit(t0, NewMessage::new(1).reference("sixteen"))
            .unwrap();
        let b = t.submit(t0, NewMessage::new(1).reference("ten")).unwrap();
        t.on_submit_result(t0, a.id, 0, accepted("0000000010"));
        t.on_submit_result(t0, b.id, 0, accepted("000000000A"));
        // A receipt that says id:10.
        let m = t.on_receipt(t0, receipt("10", "DELIVRD"));
        (m, reports(&mut t))
    };
    // Written the same way: id:10 is the response 0000000010.
    let (m, r) = run(IdForms::Same);
    assert!(matches!(m, ReceiptMatch::Matched { ref reference, .. } if &**reference == "sixteen"));
    assert_eq!(r[0].reference, "sixteen");
    // Hex responses, decimal receipts: id:10 is 000000000A.
    let (m, _) = run(IdForms::HexResponseDecimalReceipt);
    assert!(matches!(m, ReceiptMatch::Matched { ref reference, .. } if &**reference == "ten"));
    // Auto reads it as written until an id with a letter says otherwise.
    let (m, _) = run(IdForms::Auto);
    assert!(matches!(m, ReceiptMatch::Matched { ref reference, .. } if &**reference == "sixteen"));
}

#[test]
fn auto_learns_the_forms_from_an_id_with_a_letter() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let ids: Vec<_> = (10..=16u32)
        .map(|n| {
            let m = t
                .submit(t0, NewMessage::new(1).reference(format!("m{n}")))
                .unwrap();
            t.on_submit_result(t0, m.id, 0, accepted(&format!("{n:010X}")));
            m
        })
        .collect();
    assert_eq!(ids.len(), 7);
    // id:10 cannot be the response 0000000010 (16) and 000000000A (10) at once; "10"
    // matches its own text first, but 000000000A's letter only fits a decimal receipt id:
    // a receipt id:11 (own "11" = message 17, not in flight) finds 000000000B and teaches
    // the tracker that receipts are decimal.
    assert!(matches!(
        t.on_receipt(t0, receipt("11", "DELIVRD")),
        ReceiptMatch::Matched { ref reference, .. } if &**reference == "m11"
    ));
    // From now on id:16 means 0000000010 (sixteen), not 0000000016.
    assert!(matches!(
        t.on_receipt(t0, receipt("16", "DELIVRD")),
        ReceiptMatch::Matched { ref reference, .. } if &**reference == "m16"
    ));
    assert!(matches!(
        t.on_receipt(t0, receipt("10", "DELIVRD")),
        ReceiptMatch::Matched { ref reference, .. } if &**reference == "m10"
    ));
}

/// Two SMSC accounts that give out the same ids (each counts from 1): a receipt read on an
/// account's bind finds the message that account accepted, never the other's.
#[test]
fn equal_ids_from_two_accounts_each_find_their_own_message() {
    let t0 = Instant::now();
    let (a, b): (Arc<str>, Arc<str>) = ("smsc-a".into(), "smsc-b".into());
    let mut t = Tracker::new(TrackerConfig::default());
    let ma = t.submit(t0, NewMessage::new(1).reference("via-a")).unwrap();
    let mb = t.submit(t0, NewMessage::new(1).reference("via-b")).unwrap();
    // b's receipt comes before b's response: held under b's key, not matched to a's.
    t.on_submit_result_in(t0, Some(&a), ma.id, 0, accepted("1"));
    assert_eq!(
        t.on_receipt_in(t0, Some(&b), receipt("1", "UNDELIV")),
        ReceiptMatch::Held
    );
    t.on_submit_result_in(t0, Some(&b), mb.id, 0, accepted("1"));
    let r = one_report(&mut t);
    assert_eq!(
        (r.reference.as_str(), r.outcome),
        ("via-b", Outcome::Failed)
    );
    assert_eq!(r.segments[0].account.as_deref(), Some("smsc-b"));
    // A receipt with no account, or another account's, does not take a's message.
    assert!(matches!(
        t.on_receipt_in(t0, Some(&b), receipt("1", "DELIVRD")),
        ReceiptMatch::Duplicate | ReceiptMatch::Held
    ));
    // No response is awaited any more, so it is not held either: unmatched at once.
    assert!(matches!(
        t.on_receipt(t0, receipt("1", "DELIVRD")),
        ReceiptMatch::Unmatched(UnmatchedReason::UnknownId)
    ));
    assert!(events(&mut t)
        .iter()
        .any(|e| matches!(e, Event::Unmatched(u) if u.receipt.id == "1")));
    assert!(matches!(
        t.on_receipt_in(t0, Some(&a), receipt("0001", "DELIVRD")),
        ReceiptMatch::Matched { ref reference, .. } if &**reference == "via-a"
    ));
    let r = one_report(&mut t);
    assert_eq!(
        (r.reference.as_str(), r.outcome),
        ("via-a", Outcome::Delivered)
    );
    assert_eq!(r.segments[0].account.as_deref(), Some("smsc-a"));
    assert_eq!((t.tracked(), t.held()), (0, 0));
}

/// Each account's id forms are learnt on their own: one SMSC writing hexadecimal in the
/// response and decimal in the receipt does not change how another's ids are read.
#[test]
fn id_forms_are_learnt_per_account() {
    let t0 = Instant::now();
    let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
    let mut t = Tracker::new(TrackerConfig::default());
    let submit = |t: &mut Tracker, account: &Arc<str>, reference: &str, id: &str| {
        let m = t
            .submit(t0, NewMessage::new(1).reference(reference))
            .unwrap();
        t.on_submit_result_in(t0, Some(account), m.id, 0, accepted(id));
    };
    // a: response 1A, receipt id:26 (the same number in decimal): learnt as cross forms.
    submit(&mut t, &a, "a1", "1A");
    assert!(matches!(
        t.on_receipt_in(t0, Some(&a), receipt("26", "DELIVRD")),
        ReceiptMatch::Matched { ref reference, .. } if &**reference == "a1"
    ));
    // b: the same id written the same way on both sides, with a letter: learnt as same.
    submit(&mut t, &b, "b1", "00AB");
    assert!(matches!(
        t.on_receipt_in(t0, Some(&b), receipt("ab", "DELIVRD")),
        ReceiptMatch::Matched { ref reference, .. } if &**reference == "b1"
    ));
    // On b, id:26 is the response 26, not 1a; on a, it is 1a.
    submit(&mut t, &b, "b-1a", "1a");
    submit(&mut t, &b, "b-26", "26");
    submit(&mut t, &a, "a-1a", "1a");
    submit(&mut t, &a, "a-26", "26");
    assert!(matches!(
        t.on_receipt_in(t0, Some(&b), receipt("26", "DELIVRD")),
        ReceiptMatch::Matched { ref reference, .. } if &**reference == "b-26"
    ));
    assert!(matches!(
        t.on_receipt_in(t0, Some(&a), receipt("26", "DELIVRD")),
        ReceiptMatch::Matched { ref reference, .. } if &**reference == "a-1a"
    ));
}

/// Held receipts whose ids read as each other's cross forms (123 in hex is 291) each go
/// to the response that wrote their own id.
#[test]
fn held_receipts_with_colliding_cross_forms_each_find_their_own_message() {
    let t0 = Instant::now();
    let mut t = Tracker::new(TrackerConfig::default());
    let a = t.submit(t0, NewMessage::new(1).reference("a")).unwrap();
    let b = t.submit(t0, NewMessage::new(1).reference("b")).unwrap();
    assert_eq!(
        t.on_receipt(t0, receipt("291", "DELIVRD")),
        ReceiptMatch::Held
    );
    assert_eq!(
        t.on_receipt(t0, receipt("123", "UNDELIV")),
        ReceiptMatch::Held
    );
    t.on_submit_result(t0, a.id, 0, accepted("291"));
    t.on_submit_result(t0, b.id, 0, accepted("123"));
    let mut r = reports(&mut t);
    r.sort_by(|x, y| x.reference.cmp(&y.reference));
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].reference.as_str(), r[0].outcome),
        ("a", Outcome::Delivered)
    );
    assert_eq!(
        (r[1].reference.as_str(), r[1].outcome),
        ("b", Outcome::Failed)
    );
    assert_eq!(t.held(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// With ids written the same way on both sides (decimal 1, 2, 3, ..., whose
    /// hexadecimal readings are other messages' ids), every receipt reaches its own
    /// message, whatever the order of responses and receipts, even while other messages
    /// with colliding readings are held or finished: each message gets the outcome of its
    /// own receipts.
    #[test]
    fn receipts_reach_their_own_message_in_any_order(
        n in 1usize..300,
        order in proptest::collection::vec(any::<u32>(), 600),
        fails in proptest::collection::vec(any::<bool>(), 300),
    ) {
        let t0 = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let tracked: Vec<_> = (0..n)
            .map(|i| t.submit(t0, NewMessage::new(1).reference(format!("m{}", i + 1))).unwrap())
            .collect();
        // Each message has a response and a receipt; shuffle the 2n steps.
        let mut steps: Vec<(u32, usize, bool)> = (0..n)
            .flat_map(|i| [(order[2 * i], i, true), (order[2 * i + 1], i, false)])
            .collect();
        steps.sort_by_key(|s| s.0);
        for (_, i, response) in steps {
            let id = format!("{}", i + 1);
            if response {
                t.on_submit_result(t0, tracked[i].id, 0, accepted(&id));
            } else {
                let stat = if fails[i] { "UNDELIV" } else { "DELIVRD" };
                t.on_receipt(t0, receipt(&id, stat));
            }
        }
        let got = reports(&mut t);
        prop_assert_eq!(got.len(), n, "every message reported without waiting");
        for r in got {
            let i: usize = r.reference[1..].parse().unwrap();
            let want = if fails[i - 1] { Outcome::Failed } else { Outcome::Delivered };
            prop_assert_eq!(r.outcome, want, "{}", r.reference);
            let id = format!("{i}");
            prop_assert_eq!(r.segments[0].message_id.as_deref(), Some(id.as_str()));
        }
        prop_assert_eq!(t.stats().receipts_duplicate, 0);
        prop_assert_eq!(t.held(), 0);
    }
}

#[test]
fn the_memory_store_behaves_as_every_store_must() {
    smpp_lifecycle::store::conformance(&mut smpp_lifecycle::MemoryStore::new());
}

mod journal {
    //! The tracker with a store: what it writes, what it asks, and messages that move
    //! between processes (trackers) through a shared store.

    use super::*;
    use smpp_lifecycle::{MemoryStore, Store, StoreOp, StoreRequest};

    fn journaled() -> Tracker {
        Tracker::new(TrackerConfig {
            journal: true,
            report_timeout: Duration::from_secs(600),
            ..TrackerConfig::default()
        })
    }

    /// Applies what the tracker wrote to the store, and answers what it asked.
    fn sync(t: &mut Tracker, store: &mut MemoryStore, now: Instant, now_unix_ms: u64) {
        loop {
            let ops: Vec<StoreOp> = std::iter::from_fn(|| t.poll_store_op()).collect();
            store.apply(&ops).expect("apply");
            let Some(req) = t.poll_store_request() else {
                if ops.is_empty() {
                    return;
                }
                continue;
            };
            match req {
                StoreRequest::Find { keys } => {
                    if let Some(r) = keys.iter().find_map(|k| store.find(k).expect("find")) {
                        t.adopt(now, now_unix_ms, r);
                    }
                }
                StoreRequest::StillOpen { reference } => {
                    let open = store.contains(&reference).expect("contains");
                    t.on_still_open(now, &reference, open);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn every_change_is_written_in_order() {
        let t0 = Instant::now();
        let mut t = journaled();
        let m = t.submit(t0, NewMessage::new(2).reference("r")).unwrap();
        t.on_submit_result(t0, m.id, 0, accepted("0000000A"));
        t.on_submit_result(
            t0,
            m.id,
            1,
            SubmitResult::Refused(CommandStatus::ESME_RINVDSTADR),
        );
        t.on_receipt(t0, receipt("a", "DELIVRD"));
        let ops: Vec<StoreOp> = std::iter::from_fn(|| t.poll_store_op()).collect();
        assert!(matches!(&ops[0], StoreOp::Put(r) if r.reference == "r" && r.segments.len() == 2));
        assert!(
            matches!(&ops[1], StoreOp::SetId { segment: 0, key, message_id, .. } if key == "a" && message_id == "0000000A")
        );
        assert!(matches!(
            &ops[2],
            StoreOp::SetState {
                segment: 1,
                state: SegmentState::Refused(_),
                ..
            }
        ));
        assert!(
            matches!(&ops[3], StoreOp::SetState { segment: 0, state: SegmentState::Final(ReceiptState::Delivered), err, .. } if err.as_deref() == Some("000"))
        );
        assert!(
            matches!(&ops[4], StoreOp::Remove { reference, keys } if reference == "r" && keys == &["a".to_string()])
        );
        assert_eq!(ops.len(), 5);
        assert_eq!(one_report(&mut t).outcome, Outcome::Failed);
    }

    /// A segment an account accepted is written with its account, under a key no other
    /// account's id can take, and found again through that key by another process.
    #[test]
    fn an_accounts_ids_are_written_and_found_with_the_account() {
        let t0 = Instant::now();
        let mut store = MemoryStore::new();
        let mut a = journaled();
        let mut b = journaled();
        let acct: Arc<str> = "smsc-a".into();
        let m = a.submit(t0, NewMessage::new(1).reference("r")).unwrap();
        a.on_submit_result_in(t0, Some(&acct), m.id, 0, accepted("0042"));
        let ops: Vec<StoreOp> = std::iter::from_fn(|| a.poll_store_op()).collect();
        let sep = smpp_lifecycle::ids::ACCOUNT_SEPARATOR;
        assert!(
            matches!(&ops[1], StoreOp::SetId { account: Some(n), key, .. } if n == "smsc-a" && *key == format!("smsc-a{sep}42")),
            "{ops:?}"
        );
        store.apply(&ops).unwrap();
        // Process b reads the receipt on another account: the store has nothing for it.
        assert_eq!(
            b.on_receipt_in(t0, Some(&"smsc-b".into()), receipt("42", "DELIVRD")),
            ReceiptMatch::Held
        );
        b.handle_timeout(t0 + Duration::from_secs(1));
        sync(&mut b, &mut store, t0, 1_000);
        assert_eq!(b.tracked(), 0, "another account's id adopts nothing");
        // On the right account it adopts the message, account and all, and reports it.
        assert_eq!(
            b.on_receipt_in(t0, Some(&acct), receipt("42", "DELIVRD")),
            ReceiptMatch::Held
        );
        b.handle_timeout(t0 + Duration::from_secs(2));
        sync(&mut b, &mut store, t0, 1_000);
        let r = reports(&mut b);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].outcome, Outcome::Delivered);
        assert_eq!(r[0].segments[0].account.as_deref(), Some("smsc-a"));
    }

    #[test]
    fn a_receipt_in_another_process_finds_the_message_through_the_store() {
        let t0 = Instant::now();
        let mut store = MemoryStore::new();
        // Process A submits; process B receives the receipts.
        let mut a = journaled();
        let mut b = journaled();
        let m = a
            .submit(
                t0,
                NewMessage {
                    submitted_unix_ms: 1_000_000,
                    ..NewMessage::new(2).reference("order-9")
                },
            )
            .unwrap();
        a.on_submit_result(t0, m.id, 0, accepted("101"));
        a.on_submit_result(t0, m.id, 1, accepted("102"));
        sync(&mut a, &mut store, t0, 1_000_000);
        assert_eq!(
            b.on_receipt(t0, receipt("101", "DELIVRD")),
            ReceiptMatch::Held
        );
        sync(&mut b, &mut store, t0, 1_000_000);
        assert_eq!(
            b.tracked(),
            0,
            "the store is asked after a moment, not at once"
        );
        b.handle_timeout(t0 + Duration::from_secs(1));
        sync(&mut b, &mut store, t0, 1_000_000);
        assert_eq!(b.tracked(), 1, "adopted");
        assert!(matches!(
            b.on_receipt(t0, receipt("102", "DELIVRD")),
            ReceiptMatch::Matched { .. }
        ));
        sync(&mut b, &mut store, t0, 1_000_000);
        let r = one_report(&mut b);
        assert_eq!(
            (r.reference.as_str(), r.outcome),
            ("order-9", Outcome::Delivered)
        );
        assert!(store.is_empty(), "the report removed it from the store");
        // A's copy reaches its report timeout: the store says it is finished, so A drops
        // it without a second report.
        a.handle_timeout(t0 + Duration::from_secs(600));
        sync(&mut a, &mut store, t0 + Duration::from_secs(600), 1_600_000);
        assert!(reports(&mut a).is_empty(), "exactly one report in all");
        assert_eq!(a.tracked(), 0);
        assert_eq!(a.stats().finished_elsewhere, 1);
        assert_eq!((b.stats().adopted, b.stats().lookups), (1, 1));
    }

    #[test]
    fn after_a_restart_the_store_gives_the_open_messages_back() {
        let t0 = Instant::now();
        let mut store = MemoryStore::new();
        let mut before = journaled();
        let m = before
            .submit(
                t0,
                NewMessage {
                    submitted_unix_ms: 5_000,
                    ..NewMessage::new(1).reference("r1")
                },
            )
            .unwrap();
        before.on_submit_result(t0, m.id, 0, accepted("77"));
        sync(&mut before, &mut store, t0, 5_000);
        // The process stops: with a store, open messages are left to it, not reported.
        before.expire_all(t0);
        assert!(reports(&mut before).is_empty());
        assert!(
            before.poll_store_op().is_none(),
            "nothing removed from the store"
        );
        drop(before);
        // A new process adopts what is open.
        let mut after = journaled();
        let t1 = t0 + Duration::from_secs(30);
        for r in store.load_open(100).unwrap() {
            assert!(after.adopt(t1, 35_000, r));
        }
        assert_eq!(after.tracked(), 1);
        // The record's expiry (5,000 + 600,000 ms) is placed on the new clock.
        assert_eq!(
            after.poll_timeout(),
            Some(t1 + Duration::from_millis(605_000 - 35_000))
        );
        after.on_receipt(t1, receipt("77", "UNDELIV"));
        let r = one_report(&mut after);
        assert_eq!((r.reference.as_str(), r.outcome), ("r1", Outcome::Failed));
        // Adopting the same message twice does nothing.
        let mut again = journaled();
        sync(&mut after, &mut store, t1, 35_000);
        assert!(store.load_open(10).unwrap().is_empty());
        assert!(!again.adopt(
            t1,
            0,
            smpp_lifecycle::Record {
                reference: "x".into(),
                receipts: ReceiptPolicy::Final,
                submitted_unix_ms: 0,
                expires_unix_ms: 0,
                segments: vec![],
            }
        ));
    }

    #[test]
    fn an_open_message_at_its_timeout_is_reported_expired_once() {
        let t0 = Instant::now();
        let mut store = MemoryStore::new();
        let mut t = journaled();
        let m = t.submit(t0, NewMessage::new(1).reference("late")).unwrap();
        t.on_submit_result(t0, m.id, 0, accepted("5"));
        sync(&mut t, &mut store, t0, 0);
        let end = t0 + Duration::from_secs(600);
        t.handle_timeout(end);
        assert!(reports(&mut t).is_empty(), "not before the store answered");
        t.handle_timeout(end + Duration::from_secs(1));
        sync(&mut t, &mut store, end, 600_000);
        let r = one_report(&mut t);
        assert_eq!(r.outcome, Outcome::Expired);
        assert!(store.is_empty());
    }
}

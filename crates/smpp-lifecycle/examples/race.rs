//! A two-segment message tracked to its one report, on a clock that only moves when we
//! say so. The receipt of the first segment comes before its `submit_sm_resp` (fast SMSCs
//! do this) and names the id in decimal, while the responses give the ids zero-padded in
//! hexadecimal; the second segment fails. This is application code: its one clock read is
//! the application's; the lifecycle layer only sees the `Instant`s passed to it.
//!
//! `cargo run -p smpp-lifecycle --example race`; it is also the crate's front-page
//! example, run as a doc test.

#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use smpp_lifecycle::{Event, Lifecycle, LifecycleConfig, NewMessage, Outcome, SubmitResult};
use smpp_pdu::receipt::Receipt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut life = Lifecycle::new(LifecycleConfig::default());
    let m = life
        .tracker_mut()
        .submit(start, NewMessage::new(2).reference("order-42"))?;

    // The receipt of segment 0 races ahead of its response: it is held.
    let r0 = Receipt::parse_text("id:10 stat:DELIVRD err:000")?;
    life.tracker_mut().on_receipt(start, r0);

    // The responses: "000000000A" is 10 in hexadecimal, so the held receipt matches.
    let accepted = |id: &str| SubmitResult::Accepted {
        message_id: id.into(),
    };
    life.tracker_mut()
        .on_submit_result(start, m.id, 0, accepted("000000000A"));
    life.tracker_mut()
        .on_submit_result(start, m.id, 1, accepted("000000000B"));

    // Segment 1 fails three seconds later.
    let r1 = Receipt::parse_text("id:11 stat:UNDELIV err:034")?;
    life.tracker_mut()
        .on_receipt(start + Duration::from_secs(3), r1);

    // One report for the whole message: failed, with the worst state and each segment.
    let Some(Event::Report(report)) = life.poll_event() else {
        return Err("expected one report".into());
    };
    assert_eq!(report.reference, "order-42");
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(report.state.as_ref().map(|s| s.stat()), Some("UNDELIV"));
    assert_eq!(report.first_failure().map(|(i, _)| i), Some(1));
    assert_eq!(report.elapsed, Duration::from_secs(3));
    assert!(life.poll_event().is_none());
    println!(
        "{}: {} ({:?}), segments {:?}",
        report.reference,
        report.outcome,
        report.state,
        report.message_ids().collect::<Vec<_>>()
    );
    Ok(())
}

//! The session's counters (`Session::stats`) against what the test did.

use std::time::Duration;

use smpp_pdu::{Body, CommandId, CommandStatus, SubmitSmResp};
use smpp_session::stats::{Histogram, HISTOGRAM_BUCKETS};
use smpp_session::{BindKind, Config};

use crate::pair::{raw, submit, Pair, Side};

/// 1,000 submits, every 10th answered `ESME_RTHROTTLED`, answered 3 ms after they were
/// sent; then 5 more that time out. Both sides count what happened.
#[test]
fn counters_agree_with_the_traffic() {
    let mut p = Pair::bound(
        BindKind::Transceiver,
        Config::default()
            .window(2000)
            .response_timeout(Duration::from_secs(5))
            .enquire_link_interval(None),
        Config::default().enquire_link_interval(None),
    );
    for i in 0..1000 {
        p.esme_send(submit(&format!("m{i}"))).unwrap();
    }
    p.drive();
    p.advance(Duration::from_millis(3));
    let reqs = p.requests(Side::Smsc);
    assert_eq!(reqs.len(), 1000);
    let esme_mid = p.esme.stats();
    assert_eq!(esme_mid.in_flight, 1000);
    assert_eq!(p.smsc.stats().inbound_pending, 1000);
    for (i, (seq, _)) in reqs.into_iter().enumerate() {
        let now = p.now;
        let status = if i % 10 == 9 {
            CommandStatus::ESME_RTHROTTLED
        } else {
            CommandStatus::ESME_ROK
        };
        let body = Body::from(SubmitSmResp {
            message_id: format!("id{i}").into(),
            tlvs: Vec::new(),
        });
        p.smsc.send_response(now, seq, status, body).unwrap();
    }
    p.drive();
    for i in 0..5 {
        p.esme_send(submit(&format!("lost{i}"))).unwrap();
    }
    p.drop_smsc_output = true;
    p.drive();
    p.advance(Duration::from_secs(6));
    // The SMSC answers them too late: the answers are lost on the way.
    let late: Vec<_> = p.requests(Side::Smsc)[1000..].to_vec();
    assert_eq!(p.smsc.stats().inbound_pending, 5);
    for (seq, id) in late {
        p.respond_ok(Side::Smsc, seq, id);
    }
    p.drive();

    let e = p.esme.stats();
    assert_eq!(e.sent.count(CommandId::SUBMIT_SM), 1005);
    assert_eq!(
        e.received
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK),
        900
    );
    assert_eq!(
        e.received
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RTHROTTLED),
        100
    );
    assert_eq!(e.received.count(CommandId::SUBMIT_SM_RESP), 1000);
    assert_eq!(e.response_timeouts, 5);
    assert_eq!(e.in_flight, 0);
    assert_eq!(e.requests_failed, 0);
    assert_eq!(e.generic_nacks_sent(), 0);
    // The bind is counted too, both ways.
    assert_eq!(e.sent.count(CommandId::BIND_TRANSCEIVER), 1);
    assert_eq!(e.received.count(CommandId::BIND_TRANSCEIVER_RESP), 1);
    // 1,000 submits answered after 3 ms, plus the bind (answered at once).
    let lat = &e.response_latency;
    assert_eq!(lat.count(), 1001);
    let p50 = lat.quantile(0.5).unwrap();
    assert!(
        p50 >= Duration::from_millis(3) && p50 <= Duration::from_micros(4096),
        "{p50:?}"
    );
    assert_eq!(lat.max(), Some(Duration::from_millis(3)));

    let s = p.smsc.stats();
    assert_eq!(s.received.count(CommandId::SUBMIT_SM), 1005);
    assert_eq!(
        s.sent
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RTHROTTLED),
        100
    );
    assert_eq!(s.sent.count(CommandId::SUBMIT_SM_RESP), 1005);
    assert_eq!(s.inbound_pending, 0);
    // The SMSC sent no requests of its own, so it measured no latency.
    assert_eq!(s.response_latency.count(), 0);
}

/// The session's own answers count: a generic_nack for an unknown command, a refused
/// wrong-state request, an unexpected response.
#[test]
fn refusals_and_nacks_are_counted() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    // Unknown command id: generic_nack ESME_RINVCMDID.
    p.inject(Side::Smsc, &raw(0x0000_0777, 0, 41, &[]));
    // A deliver_sm to an SMSC is refused (ESME_RINVBNDSTS or similar).
    p.inject(Side::Smsc, &raw(0x0000_0005, 0, 42, &[0; 17]));
    // A response nobody asked for.
    p.inject(Side::Esme, &raw(0x8000_0004, 0, 999, b"x\0"));
    p.drive();
    let s = p.smsc.stats();
    assert_eq!(s.generic_nacks_sent(), 1);
    assert_eq!(
        s.sent
            .count_status(CommandId::GENERIC_NACK, CommandStatus::ESME_RINVCMDID),
        1
    );
    assert_eq!(s.rejected_requests, 2);
    assert_eq!(s.received.count(CommandId(0x0000_0777)), 1);
    // The ESME got the stray response, and also the SMSC's two refusals, which answer
    // requests it never sent (they were injected on its behalf).
    let e = p.esme.stats();
    assert_eq!(e.unexpected_responses, 3);
    assert_eq!(e.generic_nacks_received(), 1);
}

/// Requests in flight when the session closes are counted as failed.
#[test]
fn failures_on_close_are_counted() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    for i in 0..7 {
        p.esme_send(submit(&format!("{i}"))).unwrap();
    }
    let now = p.now;
    p.esme.handle_eof(now);
    p.drive();
    let e = p.esme.stats();
    assert_eq!(e.requests_failed, 7);
    assert_eq!(e.in_flight, 0);
}

#[test]
fn histogram_buckets_quantiles_and_merge() {
    let mut h = Histogram::default();
    assert_eq!(h.quantile(0.5), None);
    assert_eq!(h.mean(), None);
    for us in [0u64, 1, 2, 3, 900, 1000, 1500] {
        h.record(Duration::from_micros(us));
    }
    // 0 -> bucket 0; 1 -> 1; 2,3 -> 2; 900,1000 -> 10 (512..1024); 1500 -> 11.
    let b = h.buckets();
    assert_eq!((b[0], b[1], b[2], b[10], b[11]), (1, 1, 2, 2, 1));
    assert_eq!(h.count(), 7);
    assert_eq!(h.quantile(0.5), Some(Duration::from_micros(4)));
    assert_eq!(h.quantile(1.0), Some(Duration::from_micros(1500)));
    assert_eq!(h.max(), Some(Duration::from_micros(1500)));
    assert_eq!(h.mean(), Some(Duration::from_micros(3406 / 7)));
    let mut other = Histogram::default();
    other.record(Duration::from_secs(10_000_000));
    h.merge(&other);
    assert_eq!(h.count(), 8);
    assert_eq!(h.buckets()[HISTOGRAM_BUCKETS - 1], 1);
    assert_eq!(
        Histogram::bucket_upper_bound(HISTOGRAM_BUCKETS - 1),
        Duration::MAX
    );
}

/// With `Config::stats(false)` nothing is counted, but the gauges still are.
#[test]
fn counters_can_be_switched_off() {
    let cfg = Config::default().stats(false);
    let mut p = Pair::bound(BindKind::Transmitter, cfg.clone(), cfg);
    p.auto_smsc = true;
    for i in 0..3 {
        p.esme_send(submit(&format!("{i}"))).unwrap();
    }
    p.drive();
    p.auto_smsc = false;
    p.esme_send(submit("pending")).unwrap();
    p.drive();
    let e = p.esme.stats();
    assert_eq!(e.sent.total(), 0);
    assert_eq!(e.received.total(), 0);
    assert_eq!(e.response_latency.count(), 0);
    assert_eq!(e.in_flight, 1);
    assert_eq!(p.smsc.stats().inbound_pending, 1);
}

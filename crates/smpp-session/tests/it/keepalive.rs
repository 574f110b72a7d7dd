//! The keep-alive (enquire_link) and inactivity timers.

use std::time::Duration;

use smpp_pdu::{CommandId, CommandStatus};
use smpp_session::{BindKind, CloseReason, Config, Event};

use crate::pair::{headers, is_resolution, submit, Pair};

fn count(bytes: &[u8], id: CommandId) -> usize {
    headers(bytes).iter().filter(|h| h.0 == id).count()
}

/// ESME with a 30 s keep-alive, SMSC without one.
fn keepalive_pair() -> Pair {
    Pair::bound(
        BindKind::Transceiver,
        Config::default().enquire_link_interval(Some(Duration::from_secs(30))),
        Config::default().enquire_link_interval(None),
    )
}

#[test]
fn idle_link_is_probed_with_enquire_link() {
    let mut p = keepalive_pair();
    let bound_at = p.now;
    assert_eq!(
        p.esme.poll_timeout(),
        Some(bound_at + Duration::from_secs(30))
    );
    p.advance_to_next_timeout();
    assert_eq!(p.now - bound_at, Duration::from_secs(30));
    let sent = headers(&p.esme_tx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, CommandId::ENQUIRE_LINK);
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(
            CommandId::ENQUIRE_LINK_RESP,
            CommandStatus::ESME_ROK,
            sent[0].2
        )]
    );
    // The keep-alive is the session's own business: nothing is reported on either side.
    assert!(p.esme_events.is_empty(), "{:#?}", p.esme_events);
    assert!(p.smsc_events.is_empty(), "{:#?}", p.smsc_events);
    assert_eq!(p.esme.in_flight(), 0);
    // The next probe comes one interval after the answer.
    assert_eq!(
        p.esme.poll_timeout(),
        Some(bound_at + Duration::from_secs(60))
    );
    p.advance(Duration::from_secs(95));
    assert_eq!(count(&p.esme_tx, CommandId::ENQUIRE_LINK), 4);
    assert!(!p.esme_events.iter().any(is_resolution));
    assert!(p.esme.is_bound());
}

#[test]
fn no_enquire_link_while_traffic_flows() {
    let mut p = keepalive_pair();
    p.auto_smsc = true;
    for i in 0..12 {
        p.advance(Duration::from_secs(10));
        p.esme_send(submit(&format!("{i}"))).unwrap();
        p.drive();
    }
    assert_eq!(count(&p.esme_tx, CommandId::SUBMIT_SM), 12);
    assert_eq!(count(&p.esme_tx, CommandId::ENQUIRE_LINK), 0);
    // Traffic from the peer counts as well: the SMSC delivers, the ESME stays quiet.
    p.auto_esme = true;
    for i in 0..6 {
        p.advance(Duration::from_secs(20));
        p.smsc_send(crate::pair::deliver(&format!("{i}"))).unwrap();
        p.drive();
    }
    assert_eq!(count(&p.esme_tx, CommandId::ENQUIRE_LINK), 0);
    // Once it stops, the probe comes 30 s after the last PDU.
    let last = p.now;
    p.advance_to_next_timeout();
    assert_eq!(p.now - last, Duration::from_secs(30));
    assert_eq!(count(&p.esme_tx, CommandId::ENQUIRE_LINK), 1);
    p.check_accounting(true);
}

#[test]
fn unanswered_enquire_link_closes_the_session() {
    let mut p = Pair::bound(
        BindKind::Transceiver,
        Config::default()
            .enquire_link_interval(Some(Duration::from_secs(30)))
            .enquire_link_timeout(Duration::from_secs(10)),
        Config::default().enquire_link_interval(None),
    );
    let bound_at = p.now;
    p.drop_smsc_output = true;
    p.advance_to_next_timeout();
    assert_eq!(count(&p.esme_tx, CommandId::ENQUIRE_LINK), 1);
    assert!(p.esme.is_bound());
    p.advance_to_next_timeout();
    assert_eq!(p.now - bound_at, Duration::from_secs(40));
    assert_eq!(
        p.esme_events,
        vec![Event::Closed {
            reason: CloseReason::EnquireLinkTimeout
        }]
    );
    assert_eq!(p.esme.poll_timeout(), None);
}

#[test]
fn unanswered_enquire_link_fails_requests_in_flight() {
    let mut p = Pair::bound(
        BindKind::Transceiver,
        Config::default()
            .enquire_link_interval(Some(Duration::from_secs(30)))
            .enquire_link_timeout(Duration::from_secs(10))
            .response_timeout(Duration::from_secs(3600)),
        Config::default().enquire_link_interval(None),
    );
    p.drop_smsc_output = true;
    p.esme_send(submit("lost")).unwrap();
    p.drive();
    p.run_until_closed(Duration::from_secs(120));
    assert!(p.esme.is_closed());
    assert!(
        matches!(
            p.esme_events[..],
            [
                Event::RequestFailed {
                    request: CommandId::SUBMIT_SM,
                    ..
                },
                Event::Closed {
                    reason: CloseReason::EnquireLinkTimeout
                }
            ]
        ),
        "{:#?}",
        p.esme_events
    );
    p.check_accounting(false);
}

#[test]
fn inactivity_unbinds_and_closes() {
    let mut p = Pair::bound(
        BindKind::Transceiver,
        Config::default()
            .enquire_link_interval(Some(Duration::from_secs(10)))
            .inactivity_timeout(Some(Duration::from_secs(35))),
        Config::default()
            .enquire_link_interval(None)
            .inactivity_timeout(None),
    );
    let bound_at = p.now;
    p.run_until_closed(Duration::from_secs(600));
    assert!(p.esme.is_closed());
    // Enquire_links were exchanged, but they are not traffic: the timer ran from the bind.
    assert_eq!(p.now - bound_at, Duration::from_secs(35));
    assert_eq!(count(&p.esme_tx, CommandId::ENQUIRE_LINK), 3);
    assert_eq!(count(&p.smsc_tx, CommandId::ENQUIRE_LINK_RESP), 3);
    assert_eq!(count(&p.esme_tx, CommandId::UNBIND), 1);
    assert_eq!(count(&p.smsc_tx, CommandId::UNBIND_RESP), 1);
    assert_eq!(
        p.esme_events,
        vec![Event::Closed {
            reason: CloseReason::Inactivity
        }]
    );
    assert_eq!(
        p.smsc_events,
        vec![
            Event::Unbound,
            Event::Closed {
                reason: CloseReason::Unbound
            }
        ]
    );
}

#[test]
fn message_traffic_postpones_inactivity() {
    let mut p = Pair::bound(
        BindKind::Transceiver,
        Config::default()
            .enquire_link_interval(None)
            .inactivity_timeout(Some(Duration::from_secs(35))),
        Config::default().enquire_link_interval(None),
    );
    p.auto_smsc = true;
    let bound_at = p.now;
    p.advance(Duration::from_secs(30));
    p.esme_send(submit("keep me")).unwrap();
    p.drive();
    p.run_until_closed(Duration::from_secs(600));
    assert_eq!(p.now - bound_at, Duration::from_secs(65));
    assert_eq!(
        p.esme_events.last(),
        Some(&Event::Closed {
            reason: CloseReason::Inactivity
        })
    );
    p.check_accounting(true);
}

#[test]
fn unanswered_inactivity_unbind_closes_with_unbind_timeout() {
    let mut p = Pair::bound(
        BindKind::Transceiver,
        Config::default()
            .enquire_link_interval(None)
            .inactivity_timeout(Some(Duration::from_secs(20)))
            .unbind_timeout(Duration::from_secs(3)),
        Config::default().enquire_link_interval(None),
    );
    p.drop_smsc_output = true;
    let bound_at = p.now;
    p.run_until_closed(Duration::from_secs(600));
    assert!(p.esme.is_closed());
    assert_eq!(p.now - bound_at, Duration::from_secs(23));
    // The session's own unbind is never reported as a request resolution.
    assert_eq!(
        p.esme_events,
        vec![Event::Closed {
            reason: CloseReason::UnbindTimeout
        }]
    );
}

#[test]
fn smsc_side_inactivity_unbinds_the_esme() {
    let mut p = Pair::bound(
        BindKind::Receiver,
        Config::default().enquire_link_interval(None),
        Config::default()
            .enquire_link_interval(Some(Duration::from_secs(5)))
            .inactivity_timeout(Some(Duration::from_secs(12))),
    );
    let bound_at = p.now;
    p.run_until_closed(Duration::from_secs(600));
    assert_eq!(p.now - bound_at, Duration::from_secs(12));
    assert_eq!(count(&p.smsc_tx, CommandId::ENQUIRE_LINK), 2);
    assert_eq!(
        p.smsc_events,
        vec![Event::Closed {
            reason: CloseReason::Inactivity
        }]
    );
    assert_eq!(
        p.esme_events,
        vec![
            Event::Unbound,
            Event::Closed {
                reason: CloseReason::Unbound
            }
        ]
    );
}

//! Binding: the three modes, rejection, and the session-init timer on both sides.

use std::time::Duration;

use smpp_pdu::{CommandId, CommandStatus};
use smpp_session::{
    BindKind, BindRequest, CloseReason, Config, Event, FailReason, SendError, State,
};

use crate::pair::{headers, Pair};

fn bind_in(kind: BindKind, state: State) {
    let mut p = Pair::default_pair();
    p.auto_accept_bind = true;
    let seq = p
        .esme_bind(BindRequest::new(kind, "esme", "secret"))
        .unwrap();
    assert_eq!(seq, 1);
    p.drive();
    assert_eq!(p.esme.state(), state);
    assert_eq!(p.smsc.state(), state);
    assert_eq!(
        p.esme_events,
        vec![Event::Bound {
            kind,
            peer_system_id: "smsc".into(),
            interface_version: Some(0x34),
        }]
    );
    match &p.smsc_events[..] {
        [Event::BindRequested {
            sequence_number: 1,
            pdu,
        }, Event::Bound {
            kind: k,
            peer_system_id,
            interface_version: None,
        }] => {
            assert_eq!(pdu.command_id(), kind.command_id());
            assert_eq!(*k, kind);
            assert_eq!(peer_system_id, "esme");
        }
        other => panic!("{other:#?}"),
    }
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(
            kind.command_id().response().unwrap(),
            CommandStatus::ESME_ROK,
            1
        )]
    );
    p.check_accounting(true);
}

#[test]
fn bind_transmitter() {
    bind_in(BindKind::Transmitter, State::BoundTx);
}

#[test]
fn bind_receiver() {
    bind_in(BindKind::Receiver, State::BoundRx);
}

#[test]
fn bind_transceiver() {
    bind_in(BindKind::Transceiver, State::BoundTrx);
}

#[test]
fn rejected_bind_leaves_both_sides_open() {
    let mut p = Pair::default_pair();
    let seq = p
        .esme_bind(BindRequest::new(BindKind::Transceiver, "esme", "wrong"))
        .unwrap();
    p.drive();
    assert!(matches!(
        p.smsc_events[..],
        [Event::BindRequested { sequence_number, .. }] if sequence_number == seq
    ));
    let now = p.now;
    p.smsc
        .reject_bind(now, seq, CommandStatus::ESME_RINVPASWD)
        .unwrap();
    p.drive();
    assert_eq!(
        p.esme_events,
        vec![Event::BindRejected {
            status: CommandStatus::ESME_RINVPASWD
        }]
    );
    assert_eq!(p.esme.state(), State::Open);
    assert_eq!(p.smsc.state(), State::Open);
    // The rejection is header-only.
    assert_eq!(
        p.smsc_tx.len(),
        16,
        "an error bind_resp is sent without a body"
    );
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(
            CommandId::BIND_TRANSCEIVER_RESP,
            CommandStatus::ESME_RINVPASWD,
            seq
        )]
    );
    p.check_accounting(true);
}

#[test]
fn a_rejected_esme_may_bind_again() {
    let mut p = Pair::default_pair();
    let seq = p
        .esme_bind(BindRequest::new(BindKind::Transmitter, "esme", "wrong"))
        .unwrap();
    p.drive();
    let now = p.now;
    p.smsc
        .reject_bind(now, seq, CommandStatus::ESME_RBINDFAIL)
        .unwrap();
    p.drive();
    p.bind(BindKind::Transmitter);
    p.check_accounting(true);
}

#[test]
fn a_second_bind_while_one_is_in_flight_is_refused_locally() {
    let mut p = Pair::default_pair();
    p.esme_bind(BindRequest::new(BindKind::Transmitter, "esme", "pw"))
        .unwrap();
    assert_eq!(
        p.esme_bind(BindRequest::new(BindKind::Receiver, "esme", "pw")),
        Err(SendError::BindInProgress)
    );
    assert_eq!(p.esme_started.len(), 1);
}

/// The bind is never answered. The ESME reports the bind resolved exactly once (timeout or
/// failure), then closes with `BindTimeout`.
fn unanswered_bind(esme: Config) -> Vec<Event> {
    let smsc = Config::default().bind_timeout(Duration::from_secs(3600));
    let mut p = Pair::new(esme, smsc);
    let seq = p
        .esme_bind(BindRequest::new(BindKind::Transceiver, "esme", "pw"))
        .unwrap();
    p.drive();
    p.run_until_closed(Duration::from_secs(600));
    assert!(p.esme.is_closed());
    assert!(!p.smsc.is_closed());
    let resolutions: Vec<_> = p
        .esme_events
        .iter()
        .filter(|e| match e {
            Event::ResponseTimeout {
                sequence_number,
                request,
            }
            | Event::RequestFailed {
                sequence_number,
                request,
                ..
            } => *sequence_number == seq && *request == CommandId::BIND_TRANSCEIVER,
            _ => false,
        })
        .collect();
    assert_eq!(resolutions.len(), 1, "{:#?}", p.esme_events);
    assert_eq!(
        p.esme_events.last(),
        Some(&Event::Closed {
            reason: CloseReason::BindTimeout
        })
    );
    assert_eq!(p.esme_events.len(), 2, "{:#?}", p.esme_events);
    p.check_accounting(true);
    p.esme_events
}

#[test]
fn bind_response_timeout_closes_with_bind_timeout() {
    let ev = unanswered_bind(
        Config::default()
            .response_timeout(Duration::from_secs(5))
            .bind_timeout(Duration::from_secs(20)),
    );
    assert!(matches!(ev[0], Event::ResponseTimeout { .. }), "{ev:#?}");
}

#[test]
fn bind_timer_expiring_first_fails_the_bind() {
    let ev = unanswered_bind(
        Config::default()
            .response_timeout(Duration::from_secs(20))
            .bind_timeout(Duration::from_secs(5)),
    );
    assert!(
        matches!(
            ev[0],
            Event::RequestFailed {
                reason: FailReason::Closed(CloseReason::BindTimeout),
                ..
            }
        ),
        "{ev:#?}"
    );
}

#[test]
fn smsc_closes_when_no_bind_arrives() {
    let mut p = Pair::new(
        Config::default().bind_timeout(Duration::from_secs(3600)),
        Config::default().bind_timeout(Duration::from_secs(7)),
    );
    assert_eq!(p.smsc.poll_timeout(), Some(p.t0 + Duration::from_secs(7)));
    p.advance_to_next_timeout();
    assert_eq!(p.elapsed(), Duration::from_secs(7));
    assert_eq!(
        p.smsc_events,
        vec![Event::Closed {
            reason: CloseReason::BindTimeout
        }]
    );
    assert!(p.smsc.is_closed());
    assert_eq!(p.smsc.poll_timeout(), None);
    assert!(p.smsc_tx.is_empty());
    assert!(p.esme_events.is_empty());
}

#[test]
fn generic_nack_to_a_bind_rejects_it() {
    let mut p = Pair::default_pair();
    let seq = p
        .esme_bind(BindRequest::new(BindKind::Transmitter, "esme", "pw"))
        .unwrap();
    p.drive();
    p.inject(
        crate::pair::Side::Esme,
        &crate::pair::raw(CommandId::GENERIC_NACK.0, 0x0D, seq, &[]),
    );
    assert_eq!(
        p.esme_events,
        vec![Event::BindRejected {
            status: CommandStatus::ESME_RBINDFAIL
        }]
    );
    assert_eq!(p.esme.state(), State::Open);
    p.check_accounting(true);
}

#[test]
fn esme_that_never_answers_an_outbind_times_out() {
    let mut p = Pair::new(
        Config::default().bind_timeout(Duration::from_secs(8)),
        Config::default().bind_timeout(Duration::from_secs(3600)),
    );
    let now = p.now;
    p.smsc.outbind(now, "smsc", "pw").unwrap();
    p.drive();
    assert_eq!(p.esme.state(), State::Outbound);
    p.advance_to_next_timeout();
    assert_eq!(p.elapsed(), Duration::from_secs(8));
    assert_eq!(
        p.esme_events.last(),
        Some(&Event::Closed {
            reason: CloseReason::BindTimeout
        })
    );
}

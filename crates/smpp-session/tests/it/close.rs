//! Ending a session: peer EOF, unbind from either side, unbind racing traffic, local close.

use smpp_pdu::CommandId;
use smpp_session::{BindKind, CloseReason, Config, Event, FailReason, SendError, State};

use crate::pair::{deliver, submit, Pair, Side};

#[test]
fn peer_eof_fails_every_request_in_flight() {
    const N: usize = 50;
    let mut p = Pair::bound(
        BindKind::Transmitter,
        Config::default().window(N),
        Config::default(),
    );
    let seqs: Vec<_> = (0..N)
        .map(|i| p.esme_send(submit(&format!("{i}"))).unwrap())
        .collect();
    p.drive();
    assert_eq!(p.requests(Side::Smsc).len(), N);
    let now = p.now;
    p.esme.handle_eof(now);
    p.drain_events();
    assert_eq!(p.esme_events.len(), N + 1);
    for (e, seq) in p.esme_events.iter().zip(&seqs) {
        assert_eq!(
            *e,
            Event::RequestFailed {
                sequence_number: *seq,
                request: CommandId::SUBMIT_SM,
                reason: FailReason::Closed(CloseReason::PeerClosed),
            }
        );
    }
    assert_eq!(
        p.esme_events[N],
        Event::Closed {
            reason: CloseReason::PeerClosed
        }
    );
    assert_eq!(p.esme.in_flight(), 0);
    assert_eq!(p.esme.state(), State::Closed);
    p.check_accounting(true);
}

fn unbind_from(side: Side) {
    let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
    p.unbind(side).unwrap();
    assert_eq!(p.unbind(side), Err(SendError::Unbinding));
    assert!(matches!(
        p.send(side, submit("late")),
        Err(SendError::Unbinding)
    ));
    p.drive();
    for s in [Side::Esme, Side::Smsc] {
        assert_eq!(
            *p.events(s),
            vec![
                Event::Unbound,
                Event::Closed {
                    reason: CloseReason::Unbound
                }
            ],
            "{s:?}"
        );
        assert!(p.session(s).is_closed());
    }
    p.check_accounting(true);
}

#[test]
fn unbind_from_the_esme() {
    unbind_from(Side::Esme);
}

#[test]
fn unbind_from_the_smsc() {
    unbind_from(Side::Smsc);
}

#[test]
fn unbind_fails_the_requests_still_in_flight() {
    let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
    let seq = p.esme_send(submit("pending")).unwrap();
    p.drive();
    p.unbind(Side::Esme).unwrap();
    p.drive();
    assert_eq!(
        p.esme_events,
        vec![
            Event::Unbound,
            Event::RequestFailed {
                sequence_number: seq,
                request: CommandId::SUBMIT_SM,
                reason: FailReason::Closed(CloseReason::Unbound),
            },
            Event::Closed {
                reason: CloseReason::Unbound
            }
        ]
    );
    p.check_accounting(true);
}

/// The ESME submits while the SMSC's unbind is on its way, in several orders of events.
#[test]
fn submit_racing_an_unbind() {
    for variant in 0..4 {
        let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
        p.auto_smsc = variant % 2 == 0;
        p.auto_esme = true;
        match variant / 2 {
            // Crossing on the wire: the SMSC unbinds, the ESME submits before it hears.
            0 => {
                p.smsc_send(deliver("d")).unwrap();
                p.unbind(Side::Smsc).unwrap();
                for i in 0..3 {
                    p.esme_send(submit(&format!("{i}"))).unwrap();
                }
            }
            // The submits reach the SMSC, which unbinds before its application answers.
            _ => {
                for i in 0..3 {
                    p.esme_send(submit(&format!("{i}"))).unwrap();
                }
                p.pull();
                p.deliver(Side::Smsc, usize::MAX);
                p.unbind(Side::Smsc).unwrap();
                p.drain_events();
            }
        }
        p.drive();
        // Whatever was left unanswered by the SMSC application: answer it now (refused,
        // the session is closed) — no panic either way.
        for (seq, id) in p.requests(Side::Smsc) {
            let now = p.now;
            let _ = p.smsc.send_response(
                now,
                seq,
                smpp_pdu::CommandStatus::ESME_ROK,
                crate::pair::ok_response(id, seq),
            );
        }
        p.drive();
        assert!(p.esme.is_closed(), "variant {variant}");
        assert!(p.smsc.is_closed(), "variant {variant}");
        p.check_accounting(true);
        assert_eq!(
            p.smsc_events.last(),
            Some(&Event::Closed {
                reason: CloseReason::Unbound
            })
        );
        assert_eq!(
            p.esme_events.last(),
            Some(&Event::Closed {
                reason: CloseReason::Unbound
            })
        );
    }
}

#[test]
fn local_close_fails_requests_and_refuses_commands() {
    let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
    let a = p.esme_send(submit("a")).unwrap();
    let b = p.esme_send(submit("b")).unwrap();
    let now = p.now;
    p.esme.close(now);
    p.drain_events();
    assert_eq!(
        p.esme_events,
        vec![
            Event::RequestFailed {
                sequence_number: a,
                request: CommandId::SUBMIT_SM,
                reason: FailReason::Closed(CloseReason::Local)
            },
            Event::RequestFailed {
                sequence_number: b,
                request: CommandId::SUBMIT_SM,
                reason: FailReason::Closed(CloseReason::Local)
            },
            Event::Closed {
                reason: CloseReason::Local
            },
        ]
    );
    assert_eq!(p.esme_send(submit("c")), Err(SendError::Closed));
    assert_eq!(p.unbind(Side::Esme), Err(SendError::Closed));
    // Closing twice, EOF and time after the close report nothing more.
    p.esme.close(now);
    p.esme.handle_eof(now);
    p.esme
        .handle_timeout(now + std::time::Duration::from_secs(3600));
    p.esme.handle_input(
        now,
        &crate::pair::encode(&smpp_pdu::Pdu::new(a, smpp_pdu::SubmitSmResp::default())),
    );
    assert_eq!(p.esme.poll_event(), None);
    assert_eq!(p.esme.poll_timeout(), None);
    p.check_accounting(true);
}

#[test]
fn unanswered_unbind_times_out_and_closes() {
    let mut p = Pair::bound(
        BindKind::Transceiver,
        Config::default()
            .unbind_timeout(std::time::Duration::from_secs(5))
            .enquire_link_interval(None),
        Config::default().enquire_link_interval(None),
    );
    p.drop_smsc_output = true;
    let start = p.now;
    let seq = p.unbind(Side::Esme).unwrap();
    p.drive();
    p.advance_to_next_timeout();
    assert_eq!(p.now - start, std::time::Duration::from_secs(5));
    assert_eq!(
        p.esme_events,
        vec![
            Event::ResponseTimeout {
                sequence_number: seq,
                request: CommandId::UNBIND
            },
            Event::Closed {
                reason: CloseReason::UnbindTimeout
            }
        ]
    );
    p.check_accounting(true);
}

#[test]
fn unbinds_crossing_on_the_wire() {
    let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
    p.unbind(Side::Esme).unwrap();
    p.unbind(Side::Smsc).unwrap();
    p.drive();
    assert!(p.esme.is_closed() && p.smsc.is_closed());
    for side in [Side::Esme, Side::Smsc] {
        assert_eq!(
            crate::pair::closed_reason(p.events(side)),
            Some(CloseReason::Unbound),
            "{side:?}"
        );
    }
    p.check_accounting(true);
}

//! A first end-to-end exchange between an ESME and an SMSC session on a virtual clock.

use std::time::{Duration, Instant};

use smpp_pdu::{Body, CommandStatus, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, BindRequest, CloseReason, Config, Event, Session, State};

fn pump(from: &mut Session, to: &mut Session, now: Instant) {
    let mut buf = Vec::new();
    while from.poll_transmit(&mut buf).is_some() {}
    to.handle_input(now, &buf);
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

#[test]
fn bind_submit_unbind() {
    let t0 = Instant::now();
    let mut esme = Session::esme(Config::default(), t0);
    let mut smsc = Session::smsc(Config::default(), t0);
    esme.bind(
        t0,
        BindRequest::new(BindKind::Transceiver, "esme", "secret"),
    )
    .unwrap();
    pump(&mut esme, &mut smsc, t0);
    let ev = events(&mut smsc);
    let Event::BindRequested {
        sequence_number, ..
    } = ev[0]
    else {
        panic!("{ev:?}")
    };
    smsc.accept_bind(t0, sequence_number, "smsc").unwrap();
    assert_eq!(smsc.state(), State::BoundTrx);
    let ev = events(&mut smsc);
    assert!(
        matches!(&ev[..], [Event::Bound { peer_system_id, .. }] if peer_system_id == "esme"),
        "{ev:?}"
    );
    pump(&mut smsc, &mut esme, t0);
    let ev = events(&mut esme);
    assert!(
        matches!(&ev[0], Event::Bound { kind: BindKind::Transceiver, peer_system_id, interface_version: Some(0x34) } if peer_system_id == "smsc"),
        "{ev:?}"
    );

    let seq = esme
        .send_request(
            t0,
            &Body::from(SubmitSm {
                source_addr: "1".into(),
                destination_addr: "2".into(),
                short_message: "hi".into(),
                ..Default::default()
            }),
        )
        .unwrap();
    assert_eq!(esme.in_flight(), 1);
    pump(&mut esme, &mut smsc, t0);
    let ev = events(&mut smsc);
    let Event::Request {
        sequence_number, ..
    } = &ev[0]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(*sequence_number, seq);
    smsc.send_response(
        t0,
        seq,
        CommandStatus::ESME_ROK,
        Body::from(SubmitSmResp {
            message_id: "abc".into(),
            tlvs: vec![],
        }),
    )
    .unwrap();
    pump(&mut smsc, &mut esme, t0);
    let ev = events(&mut esme);
    assert!(
        matches!(&ev[0], Event::Response { sequence_number, .. } if *sequence_number == seq),
        "{ev:?}"
    );
    assert_eq!(esme.in_flight(), 0);

    let t1 = t0 + Duration::from_secs(1);
    esme.unbind(t1).unwrap();
    pump(&mut esme, &mut smsc, t1);
    assert_eq!(
        events(&mut smsc),
        vec![
            Event::Unbound,
            Event::Closed {
                reason: CloseReason::Unbound
            }
        ]
    );
    pump(&mut smsc, &mut esme, t1);
    assert_eq!(
        events(&mut esme),
        vec![
            Event::Unbound,
            Event::Closed {
                reason: CloseReason::Unbound
            }
        ]
    );
}

#[test]
fn sequence_numbers_wrap_to_one() {
    let t0 = Instant::now();
    let cfg = Config::default()
        .first_sequence_number(0x7FFF_FFFE)
        .window(100);
    let mut esme = Session::esme(cfg, t0);
    let mut smsc = Session::smsc(Config::default(), t0);
    let bind = esme
        .bind(t0, BindRequest::new(BindKind::Transmitter, "e", "p"))
        .unwrap();
    assert_eq!(bind, 0x7FFF_FFFE);
    pump(&mut esme, &mut smsc, t0);
    let Event::BindRequested {
        sequence_number, ..
    } = events(&mut smsc)[0]
    else {
        panic!()
    };
    smsc.accept_bind(t0, sequence_number, "s").unwrap();
    pump(&mut smsc, &mut esme, t0);
    events(&mut esme);
    let submit = || {
        Body::from(SubmitSm {
            short_message: "x".into(),
            ..Default::default()
        })
    };
    // 0x7FFFFFFF, then wrap to 1, 2, 3.
    let seqs: Vec<u32> = (0..4)
        .map(|_| esme.send_request(t0, &submit()).unwrap())
        .collect();
    assert_eq!(seqs, vec![0x7FFF_FFFF, 1, 2, 3]);
    // The wrapped numbers match their responses like any other.
    pump(&mut esme, &mut smsc, t0);
    for ev in events(&mut smsc) {
        if let Event::Request {
            sequence_number, ..
        } = ev
        {
            if sequence_number != 2 {
                smsc.send_response(
                    t0,
                    sequence_number,
                    CommandStatus::ESME_ROK,
                    Body::from(SubmitSmResp::default()),
                )
                .unwrap();
            }
        }
    }
    pump(&mut smsc, &mut esme, t0);
    assert_eq!(esme.in_flight(), 1);
}

#[test]
fn crossed_unbinds_resolve_each_side_once() {
    let t0 = Instant::now();
    let mut esme = Session::esme(Config::default(), t0);
    let mut smsc = Session::smsc(Config::default(), t0);
    esme.bind(t0, BindRequest::new(BindKind::Transceiver, "e", "p"))
        .unwrap();
    pump(&mut esme, &mut smsc, t0);
    let Event::BindRequested {
        sequence_number, ..
    } = events(&mut smsc)[0]
    else {
        panic!()
    };
    smsc.accept_bind(t0, sequence_number, "s").unwrap();
    pump(&mut smsc, &mut esme, t0);
    events(&mut esme);
    events(&mut smsc);
    // Both send unbind before either sees the other's.
    let e_seq = esme.unbind(t0).unwrap();
    let s_seq = smsc.unbind(t0).unwrap();
    let (mut to_smsc, mut to_esme) = (Vec::new(), Vec::new());
    while esme.poll_transmit(&mut to_smsc).is_some() {}
    while smsc.poll_transmit(&mut to_esme).is_some() {}
    esme.handle_input(t0, &to_esme);
    smsc.handle_input(t0, &to_smsc);
    for (s, seq) in [(&mut esme, e_seq), (&mut smsc, s_seq)] {
        let ev = events(s);
        let failed_ours = ev
            .iter()
            .filter(|e| matches!(e, Event::RequestFailed { sequence_number, .. } if *sequence_number == seq))
            .count();
        assert_eq!(failed_ours, 0, "{ev:?}");
        assert_eq!(
            ev,
            vec![
                Event::Unbound,
                Event::Closed {
                    reason: CloseReason::Unbound
                }
            ]
        );
    }
}

//! Wrong-state requests (local and inbound), unknown commands, malformed PDUs and framing
//! errors.

use smpp_pdu::{BindTransmitter, CommandId, CommandStatus, DecodeErrorKind, EnquireLink, Pdu};
use smpp_session::{BindKind, CloseReason, Config, Event, SendError, State};

use crate::pair::{deliver, encode, headers, raw, submit, Pair, Side};

#[test]
fn submit_before_bind_is_refused_locally() {
    let mut p = Pair::default_pair();
    assert_eq!(
        p.esme_send(submit("too early")),
        Err(SendError::InvalidState {
            command_id: CommandId::SUBMIT_SM,
            state: State::Open
        })
    );
    assert!(!p.esme.has_transmit());
    assert_eq!(p.esme.in_flight(), 0);
}

#[test]
fn deliver_from_an_smsc_bound_as_transmitter_is_refused_locally() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    assert_eq!(
        p.smsc_send(deliver("no")),
        Err(SendError::InvalidState {
            command_id: CommandId::DELIVER_SM,
            state: State::BoundTx
        })
    );
    assert!(!p.smsc.has_transmit());
}

#[test]
fn submit_from_an_esme_bound_as_receiver_is_refused_locally() {
    let mut p = Pair::bound(BindKind::Receiver, Config::default(), Config::default());
    assert_eq!(
        p.esme_send(submit("no")),
        Err(SendError::InvalidState {
            command_id: CommandId::SUBMIT_SM,
            state: State::BoundRx
        })
    );
}

#[test]
fn deliver_from_an_esme_is_refused_locally() {
    let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
    assert!(matches!(
        p.esme_send(deliver("no")),
        Err(SendError::InvalidState {
            command_id: CommandId::DELIVER_SM,
            ..
        })
    ));
}

#[test]
fn inbound_submit_on_an_open_smsc_gets_rinvbndsts() {
    let mut p = Pair::default_pair();
    p.inject(Side::Smsc, &encode(&Pdu::new(7, submit("x"))));
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RINVBNDSTS, 7)]
    );
    assert_eq!(
        p.smsc_events,
        vec![Event::Rejected {
            sequence_number: 7,
            command_id: CommandId::SUBMIT_SM,
            status: CommandStatus::ESME_RINVBNDSTS
        }]
    );
    assert_eq!(p.smsc.state(), State::Open);
}

#[test]
fn inbound_deliver_on_an_esme_bound_as_transmitter_gets_rinvbndsts() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    p.inject(Side::Esme, &encode(&Pdu::new(9, deliver("x"))));
    assert_eq!(
        headers(&p.esme_tx),
        vec![(
            CommandId::DELIVER_SM_RESP,
            CommandStatus::ESME_RINVBNDSTS,
            9
        )]
    );
    assert!(p.esme.is_bound());
}

#[test]
fn inbound_enquire_link_is_answered_in_the_open_state() {
    let mut p = Pair::default_pair();
    p.inject(Side::Smsc, &encode(&Pdu::new(3, EnquireLink::default())));
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(CommandId::ENQUIRE_LINK_RESP, CommandStatus::ESME_ROK, 3)]
    );
    assert!(p.smsc_events.is_empty());
}

#[test]
fn second_bind_on_a_bound_smsc_gets_ralybnd() {
    let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
    let bind = BindTransmitter {
        system_id: "esme".into(),
        password: "pw".into(),
        interface_version: 0x34,
        ..Default::default()
    };
    p.inject(Side::Smsc, &encode(&Pdu::new(11, bind)));
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(
            CommandId::BIND_TRANSMITTER_RESP,
            CommandStatus::ESME_RALYBND,
            11
        )]
    );
    assert_eq!(
        p.smsc_events,
        vec![Event::Rejected {
            sequence_number: 11,
            command_id: CommandId::BIND_TRANSMITTER,
            status: CommandStatus::ESME_RALYBND
        }]
    );
    assert_eq!(p.smsc.state(), State::BoundTrx);
}

#[test]
fn unknown_command_id_gets_generic_nack_rinvcmdid() {
    let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
    p.inject(Side::Smsc, &raw(0x0000_0099, 0, 0x1234, b"whatever"));
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(
            CommandId::GENERIC_NACK,
            CommandStatus::ESME_RINVCMDID,
            0x1234
        )]
    );
    assert_eq!(
        p.smsc_events,
        vec![Event::Rejected {
            sequence_number: 0x1234,
            command_id: CommandId(0x99),
            status: CommandStatus::ESME_RINVCMDID
        }]
    );
    assert!(p.smsc.is_bound());
}

/// A submit_sm whose source_addr has no NUL within its 21 octets.
fn submit_with_long_source_addr(seq: u32) -> Vec<u8> {
    let mut body = vec![0u8, 1, 1]; // service_type "", ton, npi
    body.extend_from_slice(&[b'1'; 30]);
    body.push(0);
    body.extend_from_slice(&[1, 1, b'2', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    raw(CommandId::SUBMIT_SM.0, 0, seq, &body)
}

#[test]
fn malformed_submit_gets_its_decode_status() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    p.inject(Side::Smsc, &submit_with_long_source_addr(77));
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(
            CommandId::SUBMIT_SM_RESP,
            CommandStatus::ESME_RINVSRCADR,
            77
        )]
    );
    assert_eq!(p.smsc_tx.len(), 16, "the error response is header-only");
    assert_eq!(
        p.smsc_events,
        vec![Event::Rejected {
            sequence_number: 77,
            command_id: CommandId::SUBMIT_SM,
            status: CommandStatus::ESME_RINVSRCADR
        }]
    );
    // The stream stays framed: the next PDU is handled normally.
    p.auto_smsc = true;
    p.esme_send(submit("fine")).unwrap();
    p.drive();
    assert_eq!(p.requests(Side::Smsc).len(), 1);
}

fn short_command_length(seq: u32) -> Vec<u8> {
    let mut v = raw(CommandId::SUBMIT_SM.0, 0, seq, &[]);
    v[..4].copy_from_slice(&8u32.to_be_bytes());
    v
}

fn assert_framing_close(p: &Pair, seq: u32) {
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(CommandId::GENERIC_NACK, CommandStatus::ESME_RINVCMDLEN, seq)]
    );
    match p.smsc_events.last() {
        Some(Event::Closed {
            reason: CloseReason::Framing(e),
        }) => {
            assert_eq!(e.command_status(), CommandStatus::ESME_RINVCMDLEN);
            assert!(matches!(
                e.kind(),
                DecodeErrorKind::CommandLength { length: 8, .. }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(p.smsc.is_closed());
}

#[test]
fn command_length_8_gets_generic_nack_and_closes() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    p.esme_send(submit("pending on the SMSC")).unwrap();
    p.drive();
    assert_eq!(p.smsc.inbound_pending(), 1);
    p.inject(Side::Smsc, &short_command_length(55));
    assert_framing_close(&p, 55);
    // The request event, then the close; the unanswered inbound request is dropped.
    assert_eq!(p.smsc_events.len(), 2, "{:#?}", p.smsc_events);
    assert_eq!(p.smsc.inbound_pending(), 0);
}

#[test]
fn command_length_above_the_cap_closes() {
    let mut p = Pair::bound(
        BindKind::Transmitter,
        Config::default(),
        Config::default().max_command_length(1024),
    );
    let mut v = raw(CommandId::SUBMIT_SM.0, 0, 5, &[]);
    v[..4].copy_from_slice(&1025u32.to_be_bytes());
    p.inject(Side::Smsc, &v);
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(CommandId::GENERIC_NACK, CommandStatus::ESME_RINVCMDLEN, 5)]
    );
    assert!(matches!(
        p.smsc_events.last(),
        Some(Event::Closed {
            reason: CloseReason::Framing(_)
        })
    ));
}

#[test]
fn command_length_8_after_a_good_pdu_in_the_same_read() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    let mut bytes = encode(&Pdu::new(21, submit("ok")));
    bytes.extend_from_slice(&short_command_length(22));
    bytes.extend_from_slice(&encode(&Pdu::new(23, submit("never read"))));
    let now = p.now;
    p.smsc.handle_input(now, &bytes);
    p.drain_events();
    assert!(
        matches!(
            &p.smsc_events[..],
            [
                Event::Request {
                    sequence_number: 21,
                    ..
                },
                Event::Closed {
                    reason: CloseReason::Framing(_)
                }
            ]
        ),
        "{:#?}",
        p.smsc_events
    );
}

#[test]
fn command_length_8_byte_by_byte_nacks_the_same_sequence_number() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    p.chunk = Some(1);
    let bytes = short_command_length(55);
    p.wire_to_smsc.extend_from_slice(&bytes);
    p.deliver(Side::Smsc, usize::MAX);
    p.pull();
    p.drain_events();
    assert_framing_close(&p, 55);
}

/// Every request PDU an application may start, by name.
fn request_bodies() -> Vec<(&'static str, smpp_pdu::Body<'static>)> {
    use smpp_pdu::*;
    vec![
        ("submit_sm", submit("x")),
        (
            "submit_multi",
            Body::from(SubmitMulti {
                source_addr: "1".into(),
                dest_addresses: vec![DestAddress::SmeAddress {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "2".into(),
                }],
                ..Default::default()
            }),
        ),
        ("query_sm", Body::from(QuerySm::default())),
        ("cancel_sm", Body::from(CancelSm::default())),
        ("replace_sm", Body::from(ReplaceSm::default())),
        ("broadcast_sm", Body::from(BroadcastSm::default())),
        (
            "query_broadcast_sm",
            Body::from(QueryBroadcastSm::default()),
        ),
        (
            "cancel_broadcast_sm",
            Body::from(CancelBroadcastSm::default()),
        ),
        ("deliver_sm", deliver("x")),
        (
            "alert_notification",
            Body::from(AlertNotification::default()),
        ),
        ("data_sm", Body::from(DataSm::default())),
        ("enquire_link", Body::from(EnquireLink::default())),
    ]
}

/// Whether `sender` may send `name` in `state`, per SMPP 3.4 §2.3 / 5.0 §2.4.
fn allowed(sender: Side, state: State, name: &str) -> bool {
    let esme_tx = matches!(state, State::BoundTx | State::BoundTrx);
    let smsc_rx = matches!(state, State::BoundRx | State::BoundTrx);
    match (sender, name) {
        (_, "enquire_link") => state.is_bound(),
        (Side::Esme, "deliver_sm" | "alert_notification") => false,
        (Side::Smsc, "deliver_sm" | "alert_notification" | "data_sm") => smsc_rx,
        (Side::Esme, _) => esme_tx,
        (Side::Smsc, _) => false,
    }
}

fn pair_in(state: State) -> Pair {
    let kind = match state {
        State::Open => None,
        State::BoundTx => Some(BindKind::Transmitter),
        State::BoundRx => Some(BindKind::Receiver),
        State::BoundTrx => Some(BindKind::Transceiver),
        other => unreachable!("{other:?}"),
    };
    match kind {
        Some(k) => Pair::bound(k, Config::default(), Config::default()),
        None => Pair::default_pair(),
    }
}

const STATES: [State; 4] = [State::Open, State::BoundTx, State::BoundRx, State::BoundTrx];

#[test]
fn local_send_rules_in_every_state() {
    for state in STATES {
        for sender in [Side::Esme, Side::Smsc] {
            for (name, body) in request_bodies() {
                let mut p = pair_in(state);
                let id = body.command_id();
                let r = p.send(sender, body);
                if allowed(sender, state, name) {
                    assert!(r.is_ok(), "{sender:?} {name} in {state:?}: {r:?}");
                    assert!(p.session(sender).has_transmit());
                } else {
                    assert_eq!(
                        r,
                        Err(SendError::InvalidState {
                            command_id: id,
                            state
                        }),
                        "{sender:?} {name} in {state:?}"
                    );
                    assert!(!p.session(sender).has_transmit());
                }
            }
        }
    }
}

#[test]
fn inbound_rules_in_every_state() {
    for state in STATES {
        for receiver in [Side::Esme, Side::Smsc] {
            for (name, body) in request_bodies() {
                let mut p = pair_in(state);
                let id = body.command_id();
                p.inject(receiver, &encode(&Pdu::new(500, body)));
                let sent = headers(match receiver {
                    Side::Esme => &p.esme_tx,
                    Side::Smsc => &p.smsc_tx,
                });
                // enquire_link is answered in every open state.
                let ok = allowed(receiver.other(), state, name) || name == "enquire_link";
                let events = p.events(receiver);
                if ok {
                    match name {
                        "enquire_link" => {
                            assert_eq!(
                                sent,
                                vec![(CommandId::ENQUIRE_LINK_RESP, CommandStatus::ESME_ROK, 500)]
                            );
                            assert!(events.is_empty(), "{events:?}");
                        }
                        "alert_notification" => {
                            assert!(sent.is_empty());
                            assert!(matches!(events[..], [Event::Notification { .. }]));
                        }
                        _ => {
                            assert!(sent.is_empty(), "{receiver:?} {name} in {state:?}");
                            assert!(
                                matches!(
                                    events[..],
                                    [Event::Request {
                                        sequence_number: 500,
                                        ..
                                    }]
                                ),
                                "{receiver:?} {name} in {state:?}: {events:?}"
                            );
                        }
                    }
                } else {
                    let resp = id.response().unwrap_or(CommandId::GENERIC_NACK);
                    assert_eq!(
                        sent,
                        vec![(resp, CommandStatus::ESME_RINVBNDSTS, 500)],
                        "{receiver:?} {name} in {state:?}"
                    );
                    assert_eq!(
                        *events,
                        vec![Event::Rejected {
                            sequence_number: 500,
                            command_id: id,
                            status: CommandStatus::ESME_RINVBNDSTS
                        }]
                    );
                }
            }
        }
    }
}

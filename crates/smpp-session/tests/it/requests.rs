//! Requests and their responses: matching, the window, timeouts, late, unknown and
//! duplicate responses, `send_response` misuse and the inbound limit.

use std::time::Duration;

use smpp_pdu::{Body, CommandId, CommandStatus, DeliverSmResp, Pdu, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, Config, Delivery, Event, SendError, UnexpectedReason};

use crate::pair::{deliver, encode, headers, ok_response, submit, Pair, Side};

#[test]
fn submit_gets_its_response() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    p.auto_smsc = true;
    let seq = p.esme_send(submit("hello")).unwrap();
    assert_eq!(p.esme.in_flight(), 1);
    p.drive();
    assert_eq!(p.esme.in_flight(), 0);
    match &p.smsc_events[..] {
        [Event::Request {
            sequence_number,
            pdu,
        }] => {
            assert_eq!(*sequence_number, seq);
            match &pdu.body {
                Body::SubmitSm(s) => assert_eq!(s.short_message, "hello"),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:#?}"),
    }
    match &p.esme_events[..] {
        [Event::Response {
            sequence_number,
            request: CommandId::SUBMIT_SM,
            pdu,
        }] => {
            assert_eq!(*sequence_number, seq);
            assert_eq!(pdu.command_status, CommandStatus::ESME_ROK);
            assert_eq!(
                pdu.body,
                Body::from(SubmitSmResp {
                    message_id: format!("m{seq}").into(),
                    tlvs: vec![],
                })
            );
        }
        other => panic!("{other:#?}"),
    }
    p.check_accounting(true);
}

#[test]
fn deliver_gets_its_response() {
    let mut p = Pair::bound(BindKind::Receiver, Config::default(), Config::default());
    p.auto_esme = true;
    let seq = p.smsc_send(deliver("hi")).unwrap();
    p.drive();
    assert!(matches!(
        &p.smsc_events[..],
        [Event::Response { sequence_number, request: CommandId::DELIVER_SM, pdu }]
            if *sequence_number == seq && pdu.body == Body::from(DeliverSmResp::default())
    ));
    p.check_accounting(true);
}

#[test]
fn window_full_refuses_then_frees_a_slot_per_response() {
    let mut p = Pair::bound(
        BindKind::Transmitter,
        Config::default().window(3),
        Config::default(),
    );
    for i in 0..3 {
        p.esme_send(submit(&format!("m{i}"))).unwrap();
    }
    assert_eq!(p.esme.in_flight(), 3);
    assert_eq!(p.esme_send(submit("4th")), Err(SendError::WindowFull));
    p.drive();
    assert_eq!(p.esme_send(submit("4th")), Err(SendError::WindowFull));
    // Answer the first request only.
    let (seq, id) = p.requests(Side::Smsc)[0];
    p.respond_ok(Side::Smsc, seq, id);
    p.drive();
    assert_eq!(p.esme.in_flight(), 2);
    p.esme_send(submit("4th")).unwrap();
    assert_eq!(p.esme_send(submit("5th")), Err(SendError::WindowFull));
    assert_eq!(p.esme.in_flight(), 3);
    p.check_accounting(false);
}

#[test]
fn response_timeout_then_late_response() {
    let mut p = Pair::bound(
        BindKind::Transmitter,
        Config::default().response_timeout(Duration::from_secs(5)),
        Config::default(),
    );
    let start = p.now;
    let seq = p.esme_send(submit("slow")).unwrap();
    p.drive();
    p.advance_to_next_timeout();
    assert_eq!(p.now - start, Duration::from_secs(5));
    assert_eq!(
        p.esme_events,
        vec![Event::ResponseTimeout {
            sequence_number: seq,
            request: CommandId::SUBMIT_SM
        }]
    );
    assert_eq!(p.esme.in_flight(), 0);
    // The SMSC answers after all.
    p.respond_ok(Side::Smsc, seq, CommandId::SUBMIT_SM);
    p.drive();
    assert_eq!(
        p.esme_events[1..],
        [Event::UnexpectedResponse {
            sequence_number: seq,
            command_id: CommandId::SUBMIT_SM_RESP,
            status: CommandStatus::ESME_ROK,
            reason: UnexpectedReason::Late,
        }]
    );
    assert!(!p.esme.is_closed());
    p.check_accounting(true);
}

#[test]
fn response_with_unknown_sequence_number() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    let bytes = encode(&Pdu::new(4242, SubmitSmResp::default()));
    p.inject(Side::Esme, &bytes);
    assert_eq!(
        p.esme_events,
        vec![Event::UnexpectedResponse {
            sequence_number: 4242,
            command_id: CommandId::SUBMIT_SM_RESP,
            status: CommandStatus::ESME_ROK,
            reason: UnexpectedReason::Unknown,
        }]
    );
    assert!(p.esme.is_bound());
    assert!(p.esme_tx.is_empty(), "a response is never answered");
}

#[test]
fn duplicate_response_resolves_nothing_twice() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    p.auto_smsc = true;
    let seq = p.esme_send(submit("once")).unwrap();
    p.drive();
    assert_eq!(p.esme_events.len(), 1);
    // The SMSC's response, byte for byte, arrives a second time.
    let again = p.smsc_tx.clone();
    assert_eq!(
        headers(&again),
        vec![(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK, seq)]
    );
    p.inject(Side::Esme, &again);
    assert!(
        matches!(
            &p.esme_events[1..],
            [Event::UnexpectedResponse { sequence_number, reason: UnexpectedReason::Unknown | UnexpectedReason::Late, .. }]
                if *sequence_number == seq
        ),
        "{:#?}",
        p.esme_events
    );
    p.check_accounting(true);
}

#[test]
fn send_response_for_an_unknown_sequence_number() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    let now = p.now;
    assert_eq!(
        p.smsc.send_response(
            now,
            99,
            CommandStatus::ESME_ROK,
            Body::from(SubmitSmResp::default())
        ),
        Err(SendError::UnknownRequest(99))
    );
    // Answering twice: the second one is unknown.
    let seq = p.esme_send(submit("x")).unwrap();
    p.drive();
    p.respond_ok(Side::Smsc, seq, CommandId::SUBMIT_SM);
    assert_eq!(
        p.smsc.send_response(
            now,
            seq,
            CommandStatus::ESME_ROK,
            Body::from(SubmitSmResp::default())
        ),
        Err(SendError::UnknownRequest(seq))
    );
    p.drive();
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK, seq)]
    );
}

#[test]
fn send_response_with_a_mismatched_body() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    let seq = p.esme_send(submit("x")).unwrap();
    p.drive();
    let now = p.now;
    assert_eq!(
        p.smsc.send_response(
            now,
            seq,
            CommandStatus::ESME_ROK,
            Body::from(DeliverSmResp::default())
        ),
        Err(SendError::ResponseMismatch {
            expected: CommandId::SUBMIT_SM_RESP,
            got: CommandId::DELIVER_SM_RESP
        })
    );
    assert!(!p.smsc.has_transmit(), "nothing is sent on error");
    assert_eq!(
        p.smsc.inbound_pending(),
        1,
        "the request still awaits its answer"
    );
    // A generic_nack is always an acceptable answer.
    p.smsc
        .send_response(
            now,
            seq,
            CommandStatus::ESME_RSYSERR,
            Body::from(smpp_pdu::GenericNack::default()),
        )
        .unwrap();
    p.drive();
    assert!(matches!(
        &p.esme_events[..],
        [Event::Response { pdu, .. }]
            if pdu.command_id() == CommandId::GENERIC_NACK
                && pdu.command_status == CommandStatus::ESME_RSYSERR
    ));
    p.check_accounting(true);
}

#[test]
fn send_response_with_a_request_body_is_not_a_request() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    let seq = p.esme_send(submit("x")).unwrap();
    p.drive();
    let now = p.now;
    assert_eq!(
        p.smsc.send_response(
            now,
            seq,
            CommandStatus::ESME_ROK,
            Body::from(SubmitSm::default())
        ),
        Err(SendError::NotARequest(CommandId::SUBMIT_SM))
    );
}

#[test]
fn send_request_with_a_response_body_is_not_a_request() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    assert_eq!(
        p.esme_send(Body::from(SubmitSmResp::default())),
        Err(SendError::NotARequest(CommandId::SUBMIT_SM_RESP))
    );
    assert!(!p.esme.has_transmit());
}

#[test]
fn inbound_limit_throttles_by_itself() {
    let mut p = Pair::bound(
        BindKind::Transmitter,
        Config::default(),
        Config::default().max_inbound_pending(2),
    );
    let seqs: Vec<_> = (0..3)
        .map(|i| p.esme_send(submit(&format!("{i}"))).unwrap())
        .collect();
    p.drive();
    // Two reach the application; the third is answered by the session.
    assert_eq!(p.requests(Side::Smsc).len(), 2);
    assert_eq!(p.smsc.inbound_pending(), 2);
    assert_eq!(
        p.smsc_events.last(),
        Some(&Event::Rejected {
            sequence_number: seqs[2],
            command_id: CommandId::SUBMIT_SM,
            status: CommandStatus::ESME_RTHROTTLED,
        })
    );
    assert_eq!(
        headers(&p.smsc_tx),
        vec![(
            CommandId::SUBMIT_SM_RESP,
            CommandStatus::ESME_RTHROTTLED,
            seqs[2]
        )]
    );
    assert!(matches!(
        &p.esme_events[..],
        [Event::Response { sequence_number, pdu, .. }]
            if *sequence_number == seqs[2] && pdu.command_status == CommandStatus::ESME_RTHROTTLED
    ));
    // Once the application answers one, a new request reaches it again.
    p.respond_ok(Side::Smsc, seqs[0], CommandId::SUBMIT_SM);
    let s = p.esme_send(submit("again")).unwrap();
    p.drive();
    assert_eq!(
        p.requests(Side::Smsc).last(),
        Some(&(s, CommandId::SUBMIT_SM))
    );
    p.check_accounting(false);
}

#[test]
fn inbound_limit_on_the_esme_answers_deliveries_with_rx_t_appn() {
    let mut p = Pair::bound(
        BindKind::Receiver,
        Config::default().max_inbound_pending(1),
        Config::default(),
    );
    p.smsc_send(deliver("a")).unwrap();
    let second = p.smsc_send(deliver("b")).unwrap();
    p.drive();
    assert_eq!(p.requests(Side::Esme).len(), 1);
    assert!(p.esme_events.contains(&Event::Rejected {
        sequence_number: second,
        command_id: CommandId::DELIVER_SM,
        status: CommandStatus::ESME_RX_T_APPN,
    }));
}

#[test]
fn late_response_memory_is_bounded() {
    let mut p = Pair::bound(
        BindKind::Transmitter,
        Config::default()
            .response_timeout(Duration::from_secs(5))
            .late_response_memory(2),
        Config::default(),
    );
    let seqs: Vec<_> = (0..3)
        .map(|i| p.esme_send(submit(&format!("{i}"))).unwrap())
        .collect();
    p.drive();
    p.advance_to_next_timeout();
    // All three time out at the same instant, reported in sequence order.
    assert_eq!(
        p.esme_events,
        seqs.iter()
            .map(|&s| Event::ResponseTimeout {
                sequence_number: s,
                request: CommandId::SUBMIT_SM
            })
            .collect::<Vec<_>>()
    );
    for &s in &seqs {
        p.respond_ok(Side::Smsc, s, CommandId::SUBMIT_SM);
    }
    p.drive();
    let reasons: Vec<_> = p.esme_events[3..]
        .iter()
        .map(|e| match e {
            Event::UnexpectedResponse { reason, .. } => *reason,
            other => panic!("{other:?}"),
        })
        .collect();
    // Only the two most recent timeouts are remembered.
    assert_eq!(
        reasons,
        vec![
            UnexpectedReason::Unknown,
            UnexpectedReason::Late,
            UnexpectedReason::Late
        ]
    );
    p.check_accounting(true);
}

#[test]
fn application_enquire_link_is_resolved_like_any_request() {
    let mut p = Pair::bound(BindKind::Receiver, Config::default(), Config::default());
    let seq = p
        .esme_send(Body::from(smpp_pdu::EnquireLink::default()))
        .unwrap();
    assert_eq!(p.esme.in_flight(), 1);
    p.drive();
    assert!(matches!(
        &p.esme_events[..],
        [Event::Response { sequence_number, request: CommandId::ENQUIRE_LINK, .. }]
            if *sequence_number == seq
    ));
    // The SMSC answered by itself; its application saw nothing.
    assert!(p.smsc_events.is_empty());
    p.check_accounting(true);
}

#[test]
fn generic_nack_resolves_a_request() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    let seq = p.esme_send(submit("x")).unwrap();
    p.drive();
    p.inject(
        Side::Esme,
        &crate::pair::raw(CommandId::GENERIC_NACK.0, 0x08, seq, &[]),
    );
    assert!(matches!(
        &p.esme_events[..],
        [Event::Response { sequence_number, request: CommandId::SUBMIT_SM, pdu }]
            if *sequence_number == seq
                && pdu.command_id() == CommandId::GENERIC_NACK
                && pdu.command_status == CommandStatus::ESME_RSYSERR
    ));
    assert_eq!(p.esme.in_flight(), 0);
    p.check_accounting(true);
}

#[test]
fn mismatched_and_malformed_responses_fail_the_request() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    let a = p.esme_send(submit("a")).unwrap();
    let b = p.esme_send(submit("b")).unwrap();
    p.drive();
    p.inject(Side::Esme, &encode(&Pdu::new(a, DeliverSmResp::default())));
    // A submit_sm_resp whose message_id has no NUL within 65 octets.
    p.inject(
        Side::Esme,
        &crate::pair::raw(CommandId::SUBMIT_SM_RESP.0, 0, b, &[b'7'; 70]),
    );
    match &p.esme_events[..] {
        [Event::RequestFailed {
            sequence_number: sa,
            reason: smpp_session::FailReason::MismatchedResponse(CommandId::DELIVER_SM_RESP),
            ..
        }, Event::RequestFailed {
            sequence_number: sb,
            reason: smpp_session::FailReason::MalformedResponse(e),
            ..
        }] => {
            assert_eq!((*sa, *sb), (a, b));
            assert_eq!(e.command_status(), CommandStatus::ESME_RINVMSGID);
        }
        other => panic!("{other:#?}"),
    }
    assert!(
        p.esme.is_bound(),
        "a faulty response to a submit does not close"
    );
    assert_eq!(p.esme.in_flight(), 0);
    p.check_accounting(true);
}

/// `handle_input_with` hands over events queued before the input first (here a response
/// timeout), then the input's own in wire order, borrowed; the queue is left empty and the
/// request is resolved exactly once.
#[test]
fn handle_input_with_keeps_queued_events_first_and_borrows_messages() {
    let mut p = Pair::bound(
        BindKind::Transceiver,
        Config::default().response_timeout(Duration::from_secs(5)),
        Config::default(),
    );
    let slow = p.esme_send(submit("slow")).unwrap();
    let fast = p.esme_send(submit("fast")).unwrap();
    p.drive();
    assert_eq!(p.requests(Side::Smsc).len(), 2);
    // Only the second is answered; the SMSC also sends an MO. Hold the bytes back.
    let resp = encode(&Pdu::response(
        fast,
        CommandStatus::ESME_ROK,
        ok_response(CommandId::SUBMIT_SM, fast),
    ));
    let mo = encode(&Pdu::new(77, deliver("hi there")));
    let now = p.now + Duration::from_secs(5);
    let esme = p.session(Side::Esme);
    esme.handle_timeout(now);
    // `slow` timed out; `fast` also did (same deadline), so its response is late.
    let mut seen = Vec::new();
    let mut stream = resp.clone();
    stream.extend_from_slice(&mo);
    esme.handle_input_with(now, &stream, |d| match d {
        Delivery::Event(e) => seen.push(format!("{e:?}")),
        Delivery::Request {
            sequence_number,
            pdu,
        } => {
            match &pdu.body {
                Body::DeliverSm(d) => assert_eq!(d.short_message, "hi there"),
                other => panic!("{other:?}"),
            }
            seen.push(format!("request {sequence_number}"));
        }
        Delivery::Response {
            sequence_number, ..
        } => seen.push(format!("response {sequence_number}")),
        other => panic!("{other:?}"),
    });
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(
        seen[0].starts_with("ResponseTimeout")
            && seen[0].contains(&format!("sequence_number: {slow}")),
        "{seen:?}"
    );
    assert!(
        seen[1].starts_with("ResponseTimeout")
            && seen[1].contains(&format!("sequence_number: {fast}")),
        "{seen:?}"
    );
    assert!(
        seen[2].starts_with("UnexpectedResponse") && seen[2].contains("Late"),
        "{seen:?}"
    );
    assert_eq!(seen[3], "request 77");
    assert!(esme.poll_event().is_none());
    assert_eq!(esme.in_flight(), 0);
    assert_eq!(esme.inbound_pending(), 1);
}

/// A response through `handle_input_with` resolves its request, borrowed from the input.
#[test]
fn handle_input_with_delivers_a_response_borrowed() {
    let mut p = Pair::bound(BindKind::Transmitter, Config::default(), Config::default());
    let seq = p.esme_send(submit("x")).unwrap();
    p.drive();
    let bytes = encode(&Pdu::response(
        seq,
        CommandStatus::ESME_ROK,
        ok_response(CommandId::SUBMIT_SM, seq),
    ));
    let now = p.now;
    let esme = p.session(Side::Esme);
    let mut got = None;
    esme.handle_input_with(now, &bytes, |d| match d {
        Delivery::Response {
            sequence_number,
            request,
            pdu,
        } => {
            got = Some((
                sequence_number,
                request,
                pdu.command_id(),
                pdu.command_status,
            ))
        }
        other => panic!("{other:?}"),
    });
    assert_eq!(
        got,
        Some((
            seq,
            CommandId::SUBMIT_SM,
            CommandId::SUBMIT_SM_RESP,
            CommandStatus::ESME_ROK
        ))
    );
    assert_eq!(esme.in_flight(), 0);
    assert!(esme.poll_event().is_none());
}

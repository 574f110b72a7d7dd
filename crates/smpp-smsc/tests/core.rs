//! The SMSC's logic on a virtual clock: `smpp_smsc::core::Core` fed events and times by
//! hand, its outputs read back. No socket, no thread, no sleep: a receipt "five seconds
//! later" is `handle_timeout(t0 + 5 s)`.

use std::time::{Duration, Instant, SystemTime};

use smpp_pdu::{Body, CancelSm, CommandId, CommandStatus, DeliverSmResp, Pdu, QuerySm, SubmitSm};
use smpp_session::BindKind;
use smpp_smsc::core::{BindInfo, Core, Ctx, Handler, Output, Request, Verdict};
use smpp_smsc::{SmscConfig, User};
use smpp_transport::Outcome;

mod common;
use common::rig::{receipt, submit, submit_resp, Rig};

#[test]
fn a_receipt_goes_out_exactly_when_its_delay_has_passed() {
    let mut r = Rig::new(SmscConfig::default().receipt_delay(Duration::from_secs(5)));
    r.connect(1, 0);
    let out = r.bind(1, 0, "esme", "pw");
    assert!(
        matches!(out[..], [Output::AcceptBind { conn: 1, .. }]),
        "{out:?}"
    );
    let out = r.request(1, 10, submit(1));
    let (status, id) = submit_resp(&out[0]);
    assert_eq!((status, id.as_str()), (CommandStatus::ESME_ROK, "1"));
    assert_eq!(r.core.poll_timeout(), Some(r.at(5010)));
    assert!(r.tick(5009).is_empty(), "not yet");
    let out = r.tick(5010);
    assert_eq!(out.len(), 1);
    let (tag, rec) = receipt(&out[0]);
    assert_eq!(rec.id, "1");
    // Its acknowledgement is counted.
    r.core.on_completed(
        r.at(5011),
        tag,
        Outcome::Response(Pdu::new(9, DeliverSmResp::default())),
    );
    assert_eq!(r.core.stats().delivers_acked, 1);
    assert_eq!(r.core.stats().receipts_sent, 1);
    assert_eq!(r.core.poll_timeout(), None);
}

#[test]
fn receipts_before_responses_come_first_in_the_outputs() {
    let mut r = Rig::new(SmscConfig::default().receipt_before_response(true));
    r.connect(1, 0);
    r.bind(1, 0, "esme", "pw");
    let out = r.request(1, 1, submit(1));
    assert!(matches!(out[0], Output::Request { .. }), "{out:?}");
    assert!(matches!(out[1], Output::Respond { .. }), "{out:?}");
}

#[test]
fn the_submit_rate_cap_counts_a_sliding_second_of_virtual_time() {
    let mut r = Rig::new(SmscConfig::default().max_submits_per_second(3));
    r.connect(1, 0);
    r.bind(1, 0, "esme", "pw");
    let statuses: Vec<CommandStatus> = [0, 100, 200, 300, 999, 1000, 1001, 1100]
        .iter()
        .map(|&ms| {
            let out = r.request(1, ms, submit(0));
            match &out[0] {
                Output::Respond { status, .. } => *status,
                o => panic!("{o:?}"),
            }
        })
        .collect();
    use CommandStatus as S;
    assert_eq!(
        statuses,
        [
            S::ESME_ROK,
            S::ESME_ROK,
            S::ESME_ROK,
            S::ESME_RTHROTTLED,
            S::ESME_RTHROTTLED,
            // The one at 0 left the window; 100, 200 and 1000 fill it; 100 leaves at 1100.
            S::ESME_ROK,
            S::ESME_RTHROTTLED,
            S::ESME_ROK
        ]
    );
    assert_eq!(r.core.stats().throttled, 3);
}

#[test]
fn responses_are_held_for_the_response_delay() {
    let mut r = Rig::new(SmscConfig::default().response_delay(Duration::from_millis(300)));
    r.connect(1, 0);
    assert!(
        r.bind(1, 0, "esme", "pw").is_empty(),
        "the bind_resp waits too"
    );
    assert_eq!(r.tick(300).len(), 1);
    assert!(r.request(1, 400, submit(0)).is_empty());
    assert!(r.tick(699).is_empty());
    assert_eq!(submit_resp(&r.tick(700)[0]).0, CommandStatus::ESME_ROK);
    // A response for a connection that closed meanwhile is dropped.
    r.request(1, 800, submit(0));
    r.core.closed(1);
    assert!(r.tick(1100).is_empty());
}

#[test]
fn failed_binds_lock_an_address_out_for_the_window_then_forget() {
    let mut r = Rig::new(
        SmscConfig::default()
            .user(User::new("alice", "secret"))
            .failed_bind_limit(2, Duration::from_secs(60)),
    );
    for (conn, ms) in [(1, 0), (2, 10)] {
        r.connect(conn, ms);
        let out = r.bind(conn, ms, "alice", "wrong");
        assert!(
            matches!(
                out[..],
                [Output::RejectBind {
                    status: CommandStatus::ESME_RINVPASWD,
                    ..
                }]
            ),
            "{out:?}"
        );
    }
    // Locked out: even the right password is refused, and the connection closed.
    r.connect(3, 20);
    let out = r.bind(3, 20, "alice", "secret");
    assert!(
        matches!(
            out[..],
            [
                Output::RejectBind {
                    status: CommandStatus::ESME_RBINDFAIL,
                    ..
                },
                Output::Close { conn: 3 }
            ]
        ),
        "{out:?}"
    );
    assert_eq!(r.core.stats().bind_lockouts, 1);
    // A minute of virtual time later the failures are forgotten.
    r.connect(4, 60_011);
    let out = r.bind(4, 60_011, "alice", "secret");
    assert!(matches!(out[..], [Output::AcceptBind { .. }]), "{out:?}");
}

#[test]
fn query_and_cancel_follow_the_message_through_its_receipt() {
    let mut r = Rig::new(SmscConfig::default().receipt_delay(Duration::from_secs(10)));
    r.connect(1, 0);
    r.bind(1, 0, "esme", "pw");
    let (_, a) = submit_resp(&r.request(1, 1, submit(1))[0]);
    let (_, b) = submit_resp(&r.request(1, 2, submit(1))[0]);
    let state = |r: &mut Rig, id: &str, ms| match &r.request(
        1,
        ms,
        QuerySm {
            message_id: id.to_string().into(),
            source_addr: "12345".into(),
            ..Default::default()
        },
    )[0]
    {
        Output::Respond {
            status,
            body: Body::QuerySmResp(q),
            ..
        } => (*status, q.message_state),
        o => panic!("{o:?}"),
    };
    assert_eq!(
        state(&mut r, &a, 3),
        (CommandStatus::ESME_ROK, 1),
        "enroute"
    );
    let out = r.request(
        1,
        4,
        CancelSm {
            message_id: b.clone().into(),
            ..Default::default()
        },
    );
    assert!(matches!(
        out[0],
        Output::Respond {
            status: CommandStatus::ESME_ROK,
            ..
        }
    ));
    // Only a's receipt goes out; b was cancelled (state DELETED).
    let out = r.tick(10_010);
    assert_eq!(out.len(), 1);
    assert_eq!(receipt(&out[0]).1.id, a);
    assert_eq!(
        state(&mut r, &a, 10_011),
        (CommandStatus::ESME_ROK, 2),
        "delivered"
    );
    assert_eq!(
        state(&mut r, &b, 10_012),
        (CommandStatus::ESME_ROK, 4),
        "deleted"
    );
    assert_eq!(
        state(&mut r, "nope", 10_013).0,
        CommandStatus::ESME_RQUERYFAIL
    );
}

#[test]
fn scheduled_mo_messages_tick_on_the_virtual_clock() {
    let mut r = Rig::new(SmscConfig::default().mo_schedule(
        Duration::from_secs(2),
        "esme",
        "447700900999",
        "12345",
        "ping",
    ));
    r.connect(1, 0);
    r.bind(1, 0, "esme", "pw");
    assert_eq!(r.core.poll_timeout(), Some(r.at(2000)));
    assert_eq!(r.tick(2000).len(), 1);
    assert!(r.tick(3999).is_empty());
    assert_eq!(r.tick(4000).len(), 1);
    assert_eq!(r.core.stats().mo_sent, 2);
}

#[test]
fn a_handler_decides_binds_and_requests_and_leaves_the_rest_to_the_test_smsc() {
    struct Custom {
        submits: u64,
    }
    impl Handler for Custom {
        fn bind(&mut self, bind: &BindInfo<'_>, _ctx: &mut Ctx<'_>) -> Verdict {
            if bind.system_id == "banned" {
                Verdict::Reject(CommandStatus::ESME_RINVSYSID)
            } else {
                Verdict::Builtin
            }
        }
        fn request(&mut self, req: &Request<'_>, ctx: &mut Ctx<'_>) -> Verdict {
            if req.pdu.command_id() != CommandId::SUBMIT_SM {
                return Verdict::Builtin;
            }
            self.submits += 1;
            match self.submits % 3 {
                0 => Verdict::Reject(CommandStatus::ESME_RMSGQFUL),
                1 => Verdict::Builtin,
                _ => {
                    let id = format!("custom-{}", ctx.new_message_id());
                    Verdict::Respond(
                        CommandStatus::ESME_ROK,
                        smpp_pdu::SubmitSmResp {
                            message_id: id.into(),
                            tlvs: vec![],
                        }
                        .into(),
                    )
                }
            }
        }
    }
    let t0 = Instant::now();
    let core = Core::with_handler(
        SmscConfig::default(),
        Custom { submits: 0 },
        t0,
        SystemTime::now(),
    );
    let mut r = Rig::with(core, t0);
    r.connect(1, 0);
    let out = r.bind(1, 0, "banned", "pw");
    assert!(
        matches!(
            out[..],
            [Output::RejectBind {
                status: CommandStatus::ESME_RINVSYSID,
                ..
            }]
        ),
        "{out:?}"
    );
    r.connect(2, 1);
    assert!(matches!(
        r.bind(2, 1, "esme", "pw")[..],
        [Output::AcceptBind { .. }]
    ));
    let answers: Vec<(CommandStatus, String)> = (0..6)
        .map(|i| submit_resp(&r.request(2, 2 + i, submit(0))[0]))
        .collect();
    use CommandStatus as S;
    assert_eq!(answers[0], (S::ESME_ROK, "1".into()));
    assert_eq!(answers[1], (S::ESME_ROK, "custom-2".into()));
    assert_eq!(answers[2].0, S::ESME_RMSGQFUL);
    assert_eq!(answers[5].0, S::ESME_RMSGQFUL);
    assert_eq!(r.core.stats().submits, 4);
}

#[test]
fn bad_times_are_refused_unless_lenient() {
    let bad = SubmitSm {
        validity_period: "261331235959000+".into(),
        ..submit(0)
    };
    for (lenient, want) in [
        (false, CommandStatus::ESME_RINVEXPIRY),
        (true, CommandStatus::ESME_ROK),
    ] {
        let mut r = Rig::new(SmscConfig::default().lenient(lenient));
        r.connect(1, 0);
        r.bind(1, 0, "esme", "pw");
        assert_eq!(submit_resp(&r.request(1, 1, bad.clone())[0]).0, want);
    }
}

#[test]
fn a_transmitter_bind_gets_no_receipt_its_receiver_does() {
    let mut r = Rig::new(SmscConfig::default());
    r.connect(1, 0);
    r.bind_as(1, 0, BindKind::Transmitter, "esme", "pw");
    r.request(1, 1, submit(1));
    // No receiver yet: held (retried every 100 ms), then sent to the receiver that binds.
    assert!(r.tick(1001).is_empty());
    r.connect(2, 1050);
    r.bind(2, 1050, "esme", "pw");
    let out = r.tick(1101);
    assert!(
        matches!(out[..], [Output::Request { conn: 2, .. }]),
        "{out:?}"
    );
}

/// An ESME that answers slower than its receipts come: past 2,048 outstanding the core
/// holds receipts back (instead of overflowing the transport's queue, which would lose
/// them) and sends the next as each earlier one completes; those still held when the
/// connection closes are counted failed.
#[test]
fn receipts_past_the_outstanding_limit_wait_for_answers_instead_of_being_lost() {
    let mut r = Rig::new(SmscConfig::default().receipt_delay(Duration::from_millis(10)));
    r.bound(1);
    for _ in 0..3_000 {
        r.request(1, 0, submit(1));
    }
    let out = r.tick(10);
    let sent: Vec<&Output> = out
        .iter()
        .filter(|o| matches!(o, Output::Request { .. }))
        .collect();
    assert_eq!(sent.len(), 2_048, "the rest are held back");
    // Each answer lets the next go (`ack` takes the outputs it causes, so the count of
    // what the core sent in all tells).
    for o in &sent[..100] {
        r.ack(10, o);
    }
    assert_eq!(r.core.stats().receipts_sent, 2_048 + 100);
    r.core.closed(1);
    assert_eq!(r.core.stats().delivers_failed, 3_000 - 2_048 - 100);
}

#[test]
fn a_request_is_recorded_whole_before_its_answer() {
    let mut r = Rig::new(SmscConfig::default());
    r.connect(1, 0);
    r.bind(1, 0, "esme", "pw");
    r.records.clear();
    r.core.on_event(
        r.at(1),
        1,
        smpp_transport::ConnEvent::Session(smpp_session::Event::Request {
            sequence_number: 7,
            pdu: Pdu::new(7, submit(1)),
        }),
    );
    // The record is the first output, and it holds the request as it came.
    match r.core.poll_output() {
        Some(Output::Record(rec)) => {
            assert_eq!(rec.command_id, CommandId::SUBMIT_SM);
            assert_eq!(rec.sequence_number, 7);
            assert_eq!(rec.system_id.as_deref(), Some("esme"));
            assert_eq!(rec.pdu.map(|p| p.body), Some(Body::from(submit(1))));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(r.core.poll_output(), Some(Output::Respond { .. })));
}

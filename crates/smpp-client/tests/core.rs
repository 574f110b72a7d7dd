//! The client's sans-IO core (`smpp_client::core::Core`) against an SMSC session, in
//! memory and on a virtual clock: no socket, no thread, no sleep. The SMSC side is the
//! bare `smpp_session` session in its SMSC role, answered by hand.

use std::time::{Duration, Instant};

use smpp_client::core::{Core, Event, RequestId};
use smpp_client::{ClientConfig, Error, InboundKind, Outcome, TextOptions, UnbindOutcome};
use smpp_pdu::receipt::{Receipt, ReceiptState};
use smpp_pdu::{Body, CommandStatus, DeliverSm, Pdu, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, CloseReason, Config, Event as S, Session};

/// The core and an SMSC session wired together, on a clock only the test moves.
struct Pair {
    now: Instant,
    core: Core,
    smsc: Session,
    /// What the SMSC session reported, in order.
    at_smsc: Vec<S>,
    /// What the core reported, in order.
    events: Vec<Event>,
}

impl Pair {
    fn new(window: usize) -> Pair {
        Pair::with(window, |_| {})
    }

    /// A pair whose client configuration `f` adjusts.
    fn with(window: usize, f: impl FnOnce(&mut ClientConfig)) -> Pair {
        let now = Instant::now();
        let mut config = ClientConfig::new(BindKind::Transceiver, "esme", "pw");
        config.session.window = window;
        f(&mut config);
        config.session.response_timeout = Duration::from_secs(5);
        let core = Core::bind(config, now).expect("bind starts");
        let smsc = Session::smsc(Config::default(), now);
        Pair {
            now,
            core,
            smsc,
            at_smsc: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A bound pair.
    fn bound(window: usize) -> Pair {
        Pair::bound_with(window, |_| {})
    }

    fn bound_with(window: usize, f: impl FnOnce(&mut ClientConfig)) -> Pair {
        let mut p = Pair::with(window, f);
        p.accept_bind();
        p
    }

    /// The SMSC accepts the bind the core sent; the core is bound.
    fn accept_bind(&mut self) {
        self.pump();
        let seq = self.bind_request();
        self.smsc
            .accept_bind(self.now, seq, "SMSC")
            .expect("accept");
        self.pump();
        assert!(matches!(self.core.bind_outcome(), Some(Ok(()))));
    }

    /// The sequence number of the bind the SMSC received.
    fn bind_request(&mut self) -> u32 {
        self.take_smsc(|e| match e {
            S::BindRequested {
                sequence_number, ..
            } => Some(*sequence_number),
            _ => None,
        })
    }

    /// Moves bytes both ways until neither side has anything to say.
    fn pump(&mut self) {
        loop {
            let mut to_smsc = Vec::new();
            let mut to_esme = Vec::new();
            self.core.poll_transmit(&mut to_smsc);
            while self.smsc.poll_transmit(&mut to_esme).is_some() {}
            if to_smsc.is_empty() && to_esme.is_empty() {
                break;
            }
            if !to_smsc.is_empty() {
                self.smsc.handle_input(self.now, &to_smsc);
            }
            if !to_esme.is_empty() {
                self.core.handle_input(self.now, &to_esme);
            }
            while let Some(e) = self.smsc.poll_event() {
                self.at_smsc.push(e);
            }
        }
        while let Some(e) = self.core.poll_event() {
            self.events.push(e);
        }
    }

    /// Moves the clock on and runs both sides' timers.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.handle_timeout(self.now);
        self.smsc.handle_timeout(self.now);
        self.pump();
    }

    /// Removes and returns the first SMSC event `f` picks.
    fn take_smsc<T>(&mut self, f: impl Fn(&S) -> Option<T>) -> T {
        let i = self
            .at_smsc
            .iter()
            .position(|e| f(e).is_some())
            .unwrap_or_else(|| panic!("not at the SMSC: {:?}", self.at_smsc));
        f(&self.at_smsc.remove(i)).expect("picked")
    }

    /// The submit_sms the SMSC has, (sequence number, short_message), in arrival order.
    fn submits(&mut self) -> Vec<(u32, Vec<u8>)> {
        let mut out = Vec::new();
        self.at_smsc.retain(|e| match e {
            S::Request {
                sequence_number,
                pdu:
                    Pdu {
                        body: Body::SubmitSm(s),
                        ..
                    },
            } => {
                out.push((*sequence_number, s.short_message.as_bytes().to_vec()));
                false
            }
            _ => true,
        });
        out
    }

    fn answer(&mut self, seq: u32, id: &str) {
        let body = Body::from(SubmitSmResp {
            message_id: id.into(),
            ..Default::default()
        });
        self.smsc
            .send_response(self.now, seq, CommandStatus::ESME_ROK, body)
            .expect("answer");
    }

    fn receipt(&mut self, id: &str, state: ReceiptState) {
        let text = Receipt::new(id, state).format();
        let sm = DeliverSm {
            esm_class: 0x04,
            short_message: text.into_bytes().into(),
            ..Default::default()
        };
        self.smsc
            .send_request(self.now, &Body::from(sm))
            .expect("deliver_sm");
    }
}

#[test]
fn a_long_text_fills_the_window_in_order_and_gets_one_report() {
    let mut p = Pair::bound(2);
    let text = "x".repeat(400); // three GSM segments
    let options = TextOptions::default().reference("long-1");
    p.core
        .send_text(p.now, "MyBrand", "+447700900123", &text, &options)
        .expect("accepted");
    assert!(!p.core.has_room(), "the third segment waits for room");
    p.pump();
    let first = p.submits();
    assert_eq!(first.len(), 2, "the window holds two");
    // Answered out of order: the second segment first.
    p.answer(first[1].0, "B");
    p.pump();
    let third = p.submits();
    assert_eq!(third.len(), 1, "room for the third");
    p.answer(third[0].0, "C");
    p.answer(first[0].0, "A");
    // Receipts before nothing else is left: one per segment.
    for id in ["C", "A", "B"] {
        p.receipt(id, ReceiptState::Delivered);
    }
    p.pump();
    let sent: Vec<_> = p
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Sent { result, .. } => Some(result.as_ref().expect("sent").clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_ids, ["A", "B", "C"], "in segment order");
    let reports: Vec<_> = p
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Inbound(InboundKind::Report(r)) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(reports.len(), 1, "{:?}", p.events);
    assert_eq!(reports[0].reference, "long-1");
    assert_eq!(reports[0].outcome, Outcome::Delivered);
    // Every deliver_sm was answered.
    let answered = p
        .at_smsc
        .iter()
        .filter(|e| matches!(e, S::Response { .. }))
        .count();
    assert_eq!(answered, 3);
}

#[test]
fn an_unanswered_request_times_out_on_the_clock_once() {
    let mut p = Pair::bound(4);
    let id = p
        .core
        .submit(p.now, &SubmitSm::default())
        .expect("submitted");
    p.pump();
    assert_eq!(p.submits().len(), 1);
    p.advance(Duration::from_secs(4));
    assert!(p.events.is_empty(), "{:?}", p.events);
    p.advance(Duration::from_secs(2));
    let timed_out: Vec<RequestId> = p
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Response {
                id,
                result: Err(Error::Timeout),
            } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(timed_out, [id]);
    p.advance(Duration::from_secs(10));
    assert_eq!(p.events.len(), 1, "resolved once: {:?}", p.events);
}

#[test]
fn a_lost_connection_resolves_everything_once_and_closed_comes_last() {
    let mut p = Pair::bound(1);
    let raw = p.core.submit(p.now, &SubmitSm::default()).expect("raw");
    // The window is full: the text is refused, nothing is tracked for it.
    assert!(matches!(
        p.core
            .send_text(p.now, "A", "1", "hi", &TextOptions::default()),
        Err(Error::Refused(_))
    ));
    p.pump();
    p.core.handle_io_error(
        p.now,
        std::io::Error::from(std::io::ErrorKind::ConnectionReset),
    );
    p.pump();
    assert!(matches!(
        p.events.first(),
        Some(Event::Response { id, result: Err(Error::Disconnected) }) if *id == raw
    ));
    assert!(matches!(
        p.events.last(),
        Some(Event::Closed {
            reason: CloseReason::PeerClosed,
            error: Some(_)
        })
    ));
    assert_eq!(p.events.len(), 2, "{:?}", p.events);
    assert!(matches!(
        p.core.submit(p.now, &SubmitSm::default()),
        Err(Error::Closed)
    ));
}

#[test]
fn an_smsc_that_closes_on_unbind_ends_the_session_as_asked() {
    let mut p = Pair::bound(1);
    p.core.unbind(p.now).expect("unbind starts");
    // The unbind goes out; the SMSC closes instead of answering.
    let mut wire = Vec::new();
    assert!(p.core.poll_transmit(&mut wire));
    assert!(p.core.unbind_outcome().is_none(), "not over yet");
    p.core.handle_eof(p.now);
    assert!(matches!(
        p.core.unbind_outcome(),
        Some(Ok(UnbindOutcome::ClosedByPeer))
    ));
    assert_eq!(p.core.stats().unbind_closed_by_peer, 1);
}

#[test]
fn a_refused_bind_says_so() {
    let mut p = Pair::new(1);
    p.pump();
    let seq = p.bind_request();
    p.smsc
        .reject_bind(p.now, seq, CommandStatus::ESME_RINVPASWD)
        .expect("reject");
    p.pump();
    assert!(matches!(
        p.core.bind_outcome(),
        Some(Err(Error::BindRejected(CommandStatus::ESME_RINVPASWD)))
    ));
}

/// With tracking kept across sessions, a message submitted on one session is reported
/// when its receipt comes on the next one, after `rebind`; `expire_open` reports what is
/// still open when the face gives up.
#[test]
fn a_receipt_on_the_next_session_after_rebind_completes_its_message() {
    let mut p = Pair::bound(4);
    p.core.keep_tracking(true);
    let options = TextOptions::default().reference("across");
    p.core
        .send_text(p.now, "A", "447700900123", "hello", &options)
        .expect("accepted");
    p.core
        .send_text(
            p.now,
            "A",
            "447700900123",
            "never",
            &TextOptions::default().reference("open"),
        )
        .expect("accepted");
    p.pump();
    let submits = p.submits();
    p.answer(submits[0].0, "M1");
    p.answer(submits[1].0, "M2");
    p.pump();
    // The connection drops: nothing is reported yet.
    p.core.handle_eof(p.now);
    p.pump();
    assert!(
        !p.events
            .iter()
            .any(|e| matches!(e, Event::Inbound(InboundKind::Report(_)))),
        "{:?}",
        p.events
    );
    // A new connection, a new SMSC session, the same tracker.
    p.core.rebind(p.now).expect("rebind");
    p.smsc = Session::smsc(Config::default(), p.now);
    p.accept_bind();
    p.receipt("M1", ReceiptState::Delivered);
    p.pump();
    let reports: Vec<_> = p
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Inbound(InboundKind::Report(r)) => Some((r.reference.clone(), r.outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(reports, [("across".into(), Outcome::Delivered)]);
    assert_eq!(p.core.stats().reconnects, 1);
    p.core.expire_open(p.now);
    p.pump();
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::Inbound(InboundKind::Report(r)) if r.reference == "open" && r.outcome == Outcome::Expired
    )));
}

/// A rate cap of 10 submits a second spaces them 100 ms apart on the clock (a long text's
/// segments counted one by one), `has_room` says no until the next slot and
/// `poll_timeout` says when it comes; a throttling answer halves the rate.
#[test]
fn the_rate_cap_spaces_submits_and_comes_down_on_throttling() {
    let mut p = Pair::bound_with(100, |c| c.max_rate = Some(10.0));
    let t0 = p.now;
    let mut sent_at = Vec::new();
    let text = "x".repeat(300); // two segments
    p.core
        .send_text(p.now, "A", "447700900123", &text, &TextOptions::default())
        .expect("accepted");
    while sent_at.len() < 12 {
        p.pump();
        for (seq, _) in p.submits() {
            sent_at.push(p.now - t0);
            p.answer(seq, &format!("m{}", sent_at.len()));
        }
        if p.core.has_room() {
            p.core.submit(p.now, &SubmitSm::default()).expect("room");
            continue;
        }
        let next = p.core.poll_timeout().expect("a slot to wait for");
        p.advance(next - p.now);
    }
    for pair in sent_at.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(99),
            "{sent_at:?}"
        );
    }
    assert!(sent_at[10] >= Duration::from_millis(999), "{sent_at:?}");
    // A throttling answer: the next gap is twice as long.
    p.core.submit(p.now, &SubmitSm::default()).ok();
    p.pump();
    let throttled = p.submits();
    let seq = throttled.first().expect("a submit").0;
    let body = Body::from(SubmitSmResp::default());
    p.smsc
        .send_response(p.now, seq, CommandStatus::ESME_RTHROTTLED, body)
        .expect("answer");
    p.pump();
    let wait_room = |p: &mut Pair| {
        while !p.core.has_room() {
            let next = p.core.poll_timeout().expect("a slot");
            p.advance(next - p.now);
        }
    };
    // The slot taken before the answer stands; the one after it is 200 ms on.
    wait_room(&mut p);
    p.core.submit(p.now, &SubmitSm::default()).expect("room");
    let a = p.now;
    wait_room(&mut p);
    assert!(p.now - a >= Duration::from_millis(199), "{:?}", p.now - a);
}

/// Under `ThrottlePolicy::Retry`, a request or a text's segment answered `ESME_RTHROTTLED`
/// goes again after the backoff, on the clock, and its caller sees only the last answer
/// under the handle it holds; past the attempts allowed the throttling status is the answer.
#[test]
fn throttled_requests_go_again_after_the_backoff() {
    let backoff = smpp_client::Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(100),
        factor: 1.0,
        jitter: 0.0,
    };
    let mut p = Pair::bound_with(8, |c| {
        c.throttle = smpp_client::ThrottlePolicy::Retry {
            attempts: 2,
            backoff,
        }
    });
    let throttle = |p: &mut Pair, seq: u32| {
        p.smsc
            .send_response(
                p.now,
                seq,
                CommandStatus::ESME_RTHROTTLED,
                Body::from(SubmitSmResp::default()),
            )
            .expect("answer");
    };
    // A raw submit: throttled once, then accepted.
    let id = p.core.submit(p.now, &SubmitSm::default()).expect("sent");
    p.pump();
    let first = p.submits();
    throttle(&mut p, first[0].0);
    p.pump();
    assert!(p.events.is_empty(), "held for its turn: {:?}", p.events);
    p.advance(Duration::from_millis(99));
    assert!(p.submits().is_empty(), "not before the backoff");
    // The core says when: a driver that waits for poll_timeout sends it on time.
    assert_eq!(
        p.core.poll_timeout(),
        Some(p.now + Duration::from_millis(1))
    );
    p.advance(Duration::from_millis(1));
    let again = p.submits();
    assert_eq!(again.len(), 1, "sent again");
    assert_ne!(again[0].0, first[0].0);
    p.answer(again[0].0, "M1");
    p.pump();
    assert!(matches!(
        p.events.as_slice(),
        [Event::Response { id: got, result: Ok(_) }] if *got == id
    ));
    p.events.clear();
    // A text of two segments: the second throttled once; the outcome has both ids in order.
    let text = "y".repeat(300);
    p.core
        .send_text(p.now, "A", "447700900123", &text, &TextOptions::default())
        .expect("accepted");
    p.pump();
    let segs = p.submits();
    assert_eq!(segs.len(), 2);
    p.answer(segs[0].0, "S1");
    throttle(&mut p, segs[1].0);
    p.pump();
    p.advance(Duration::from_millis(100));
    let again = p.submits();
    p.answer(again[0].0, "S2");
    p.pump();
    let sent: Vec<_> = p
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Sent { result, .. } => Some(result.as_ref().expect("sent").message_ids.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [vec!["S1".to_string(), "S2".to_string()]]);
    p.events.clear();
    // Throttled every time: after two more attempts, the status is the answer.
    let id = p.core.submit(p.now, &SubmitSm::default()).expect("sent");
    for _ in 0..3 {
        p.pump();
        let s = p.submits();
        assert_eq!(s.len(), 1);
        throttle(&mut p, s[0].0);
        p.pump();
        p.advance(Duration::from_millis(100));
    }
    assert!(
        matches!(
            p.events.as_slice(),
            [Event::Response { id: got, result: Err(Error::Status(CommandStatus::ESME_RTHROTTLED)) }] if *got == id
        ),
        "{:?}",
        p.events
    );
    assert_eq!(p.core.stats().throttled_retries, 4);
}

//! Thousands of requests in flight through slow, bursty, out-of-order responses: every
//! one resolves exactly once with its own answer, and the client never stalls.
//!
//! (rusmppc 0.4.0 stops making progress for good once more than 5 requests are in flight;
//! this test keeps up to 4,096 in flight on one client.)

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig, OutgoingText};
use smpp_pdu::{Body, CommandStatus, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, Event};
use smpp_transport::{ConnEvent, Transport, TransportHandle};

/// A tiny deterministic generator (xorshift), so the bursts are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// An SMSC that holds every submit_sm and answers in bursts of random size, every few
/// milliseconds, in random order, `total` in all; the message id is the text it answers,
/// so each answer can be checked against its request. Returns (answered, most held at
/// once) once the client unbinds.
fn bursty_smsc(
    listener: smpp_transport::Listener,
    total: usize,
) -> thread::JoinHandle<(usize, usize)> {
    // The SMSC holds every submit_sm and answers in bursts of random size, every few
    // milliseconds, in random order; the message id is the text it answers, so each
    // answer can be checked against its request.
    thread::spawn(move || {
        let conn = listener.accept().expect("a connection");
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut held: Vec<(u32, String)> = Vec::new();
        let mut answered = 0usize;
        let mut max_held = 0usize;
        let deadline = Instant::now() + Duration::from_secs(60);
        while answered < total && Instant::now() < deadline {
            match conn.events().recv_timeout(Duration::from_millis(3)) {
                Ok(ConnEvent::Session(Event::BindRequested {
                    sequence_number, ..
                })) => conn.accept_bind(sequence_number, "SMSC").unwrap(),
                Ok(ConnEvent::Session(Event::Request {
                    sequence_number,
                    pdu,
                })) => {
                    let text = match pdu.body {
                        Body::SubmitSm(sm) => sm.short_message.to_str_lossy().into_owned(),
                        other => panic!("unexpected {other:?}"),
                    };
                    held.push((sequence_number, text));
                    max_held = max_held.max(held.len());
                    continue;
                }
                Ok(ConnEvent::Closed(why)) => panic!("closed early: {why:?}"),
                Ok(_) => {}
                Err(_) => {}
            }
            // A burst: sometimes nothing (slow), sometimes most of what is held.
            let burst = match rng.next() % 4 {
                0 => 0,
                1 => held.len().min(7),
                2 => held.len() / 2,
                _ => held.len(),
            };
            for _ in 0..burst {
                let i = (rng.next() % held.len() as u64) as usize;
                let (seq, text) = held.swap_remove(i);
                let resp = SubmitSmResp {
                    message_id: text.into(),
                    tlvs: vec![],
                };
                conn.respond(seq, CommandStatus::ESME_ROK, Body::from(resp))
                    .unwrap();
                answered += 1;
            }
        }
        // Wait for the unbind so the connection ends cleanly.
        while let Ok(ev) = conn.events().recv_timeout(Duration::from_secs(10)) {
            if matches!(ev, ConnEvent::Closed(_)) {
                break;
            }
        }
        (answered, max_held)
    })
}

/// A [`bursty_smsc`] answering `total` requests, and a transmitter bound to it with
/// `window` in flight (and a minute's response timeout).
fn bursty_pair(
    total: usize,
    window: usize,
) -> (TransportHandle, Client, thread::JoinHandle<(usize, usize)>) {
    let transport = Transport::spawn(Default::default()).expect("transport");
    let session = smpp_session::Config::default()
        .enquire_link_interval(None)
        .max_inbound_pending(window * 2);
    let listener = transport
        .listen("127.0.0.1:0".parse().unwrap(), session)
        .expect("listen");
    let addr = listener.local_addr();
    let smsc = bursty_smsc(listener, total);
    let client = Client::connect(
        addr,
        ClientConfig::new(BindKind::Transmitter, "esme", "pw")
            .window(window)
            .response_timeout(Duration::from_secs(60))
            .enquire_link_interval(None),
    )
    .expect("bind");
    (transport, client, smsc)
}

#[test]
fn thousands_in_flight_through_slow_bursty_responses() {
    const TOTAL: usize = 20_000;
    const WINDOW: usize = 4096;
    let (transport, client, smsc) = bursty_pair(TOTAL, WINDOW);
    let started = Instant::now();
    let mut pending = std::collections::VecDeque::new();
    let mut results: HashMap<String, usize> = HashMap::new();
    for i in 0..TOTAL {
        if pending.len() == WINDOW {
            let (text, p): (String, smpp_client::Pending) = pending.pop_front().unwrap();
            let r = p.wait_submit().expect("a response");
            assert_eq!(r.message_id.to_str_lossy(), text, "each answer is its own");
            *results.entry(text).or_default() += 1;
        }
        let text = format!("m{i}");
        let sm = SubmitSm {
            destination_addr: "447700900123".into(),
            short_message: text.clone().into_bytes().into(),
            ..Default::default()
        };
        pending.push_back((text, client.submit_async(sm).expect("submit_async")));
    }
    for (text, p) in pending {
        let r = p.wait_submit().expect("a response");
        assert_eq!(r.message_id.to_str_lossy(), text);
        *results.entry(text).or_default() += 1;
    }
    assert_eq!(results.len(), TOTAL);
    assert!(results.values().all(|&n| n == 1), "exactly once each");
    let stats = client.stats().session;
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.response_timeouts, 0);
    assert_eq!(stats.unexpected_responses, 0);
    client.unbind().expect("unbind");
    let (answered, max_held) = smsc.join().expect("SMSC thread");
    assert_eq!(answered, TOTAL);
    // Thousands were really outstanding at once.
    assert!(max_held >= 1000, "at most {max_held} held at once");
    assert!(started.elapsed() < Duration::from_secs(60));
    transport.shutdown();
}

/// `send_many` reads every outcome from one channel of its own (not one per request): with
/// responses in random order and in bursts, each text still gets its own message id, in
/// the order of the input.
#[test]
fn send_many_through_slow_bursty_responses_gives_each_text_its_own_id() {
    const TOTAL: usize = 5_000;
    const WINDOW: usize = 1024;
    let (transport, client, smsc) = bursty_pair(TOTAL, WINDOW);
    let texts = (0..TOTAL).map(|i| OutgoingText::new("MyBrand", "447700900123", format!("m{i}")));
    let results = client.send_many(texts, WINDOW);
    assert_eq!(results.len(), TOTAL);
    for (i, r) in results.into_iter().enumerate() {
        let sent = r.unwrap_or_else(|e| panic!("text {i}: {e}"));
        assert_eq!(
            sent.message_ids,
            [format!("m{i}")],
            "text {i} got its own answer"
        );
    }
    let stats = client.stats().session;
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.response_timeouts, 0);
    client.unbind().expect("unbind");
    let (answered, max_held) = smsc.join().expect("SMSC thread");
    assert_eq!(answered, TOTAL);
    assert!(max_held >= 100, "at most {max_held} held at once");
    transport.shutdown();
}

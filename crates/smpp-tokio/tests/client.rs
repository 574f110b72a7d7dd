//! The tokio client against the test SMSC over 127.0.0.1: the three bind kinds, thousands
//! of calls in flight through slow and out-of-order responses (each future gets its own
//! answer, none stalls), texts with receipts matched into one report, MO through the
//! stream, a refused bind, a lost connection resolving everything once, the last handle
//! unbinding, and TLS. Every wait is bounded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use smpp_pdu::{Body, CommandStatus, SubmitSm, SubmitSmResp};
use smpp_session::BindKind;
use smpp_smsc::core::{ConnId, Ctx, Handler, Request, Verdict};
use smpp_smsc::{Smsc, SmscConfig, User};
use smpp_tokio::{Client, ClientConfig, Error, InboundKind, Outcome, TextOptions, UnbindOutcome};
use tokio::time::timeout;

mod common;
use common::{report, WAIT};

#[cfg(feature = "tls")]
#[path = "../../smpp-smsc/tests/pki/mod.rs"]
mod pki;

fn config(kind: BindKind) -> ClientConfig {
    ClientConfig::new(kind, "esme", "pw").response_timeout(Duration::from_secs(10))
}

fn smsc() -> Smsc {
    Smsc::start(SmscConfig::default().receipt_delay(Duration::from_millis(20))).expect("SMSC")
}

/// Waits (without blocking the runtime) until the SMSC's counters satisfy `cond`.
async fn until(smsc: &Smsc, cond: impl Fn(&smpp_smsc::Stats) -> bool) {
    timeout(WAIT, async {
        while !cond(&smsc.stats()) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not in time: {:?}", smsc.stats()));
}

#[tokio::test]
async fn binds_as_each_kind_and_submits_where_it_may() {
    let smsc = smsc();
    for kind in [
        BindKind::Transmitter,
        BindKind::Receiver,
        BindKind::Transceiver,
    ] {
        let (client, _inbound) = Client::connect(smsc.local_addr(), config(kind))
            .await
            .expect("bind");
        let r = client
            .submit(SubmitSm {
                destination_addr: "447700900123".into(),
                short_message: "hi".into(),
                ..Default::default()
            })
            .await;
        match kind {
            BindKind::Receiver => assert!(matches!(r, Err(Error::Refused(_))), "{r:?}"),
            _ => assert!(!r.expect("submitted").message_id.is_empty()),
        }
        assert_eq!(
            client.unbind().await.expect("unbind"),
            UnbindOutcome::Acknowledged
        );
        assert!(matches!(client.enquire_link().await, Err(Error::Closed)));
    }
    assert_eq!(smsc.stats().submits, 2);
}

/// Holds every submit_sm and answers them in groups, in reverse order, after a delay; each
/// answer's message id is `id-` and the submit's text, so a future that got another's
/// answer shows it.
struct Shuffled {
    held: Vec<(ConnId, u32, String)>,
    group: usize,
}

impl Handler for Shuffled {
    fn request(&mut self, req: &Request<'_>, ctx: &mut Ctx<'_>) -> Verdict {
        let Body::SubmitSm(sm) = &req.pdu.body else {
            return Verdict::Builtin;
        };
        let text = String::from_utf8_lossy(sm.short_message.as_bytes()).into_owned();
        self.held.push((req.conn, req.sequence_number, text));
        if self.held.len() >= self.group {
            std::thread::sleep(Duration::from_millis(2));
            for (conn, seq, text) in self.held.drain(..).rev() {
                let body = Body::from(SubmitSmResp {
                    message_id: format!("id-{text}").into(),
                    ..Default::default()
                });
                ctx.respond(conn, seq, CommandStatus::ESME_ROK, body);
            }
        }
        Verdict::Ignore
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_in_flight_each_get_their_own_answer_at_any_window() {
    // Whole groups only: a last partial group would never be answered.
    for (window, calls, group) in [(1, 200, 1), (7, 2_002, 7), (256, 5_120, 64)] {
        let smsc = Smsc::start_with_handler(
            SmscConfig::default(),
            Shuffled {
                held: Vec::new(),
                group,
            },
        )
        .expect("SMSC");
        let (client, _inbound) = Client::connect(
            smsc.local_addr(),
            config(BindKind::Transmitter).window(window),
        )
        .await
        .expect("bind");
        let answered = Arc::new(AtomicU64::new(0));
        let run = futures::stream::iter(0..calls).for_each_concurrent(None, |n| {
            let (client, answered) = (client.clone(), Arc::clone(&answered));
            async move {
                let r = client
                    .submit(SubmitSm {
                        destination_addr: "1".into(),
                        short_message: n.to_string().into(),
                        ..Default::default()
                    })
                    .await
                    .expect("answered");
                assert_eq!(r.message_id.to_str_lossy(), format!("id-{n}"));
                answered.fetch_add(1, Ordering::Relaxed);
            }
        });
        timeout(WAIT, run)
            .await
            .unwrap_or_else(|_| panic!("window {window}: stalled"));
        assert_eq!(answered.load(Ordering::Relaxed), calls as u64);
        let stats = client.stats().await.expect("stats");
        assert_eq!(stats.session.response_timeouts, 0);
        client.unbind().await.expect("unbind");
    }
}

#[tokio::test]
async fn texts_get_one_report_each_with_their_receipts_matched() {
    let smsc = smsc();
    let (client, mut inbound) = Client::connect(smsc.local_addr(), config(BindKind::Transceiver))
        .await
        .expect("bind");
    let long = "A long message, in several parts. ".repeat(8);
    let options = TextOptions::default().registered_delivery(1);
    let (oa, ob) = (options.clone().reference("a"), options.reference("b"));
    let (a, b) = tokio::join!(
        client.send_text("MyBrand", "+447700900123", "short", &oa),
        client.send_text("MyBrand", "+447700900123", &long, &ob),
    );
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!(a.message_ids.len(), 1);
    assert!(b.message_ids.len() > 1);
    let mut reports = HashMap::new();
    for _ in 0..2 {
        let r = report(&mut inbound).await;
        reports.insert(r.reference.clone(), r);
    }
    assert_eq!(reports["a"].outcome, Outcome::Delivered);
    assert_eq!(reports["b"].outcome, Outcome::Delivered);
    assert_eq!(reports["b"].segments.len(), b.message_ids.len());
    client.unbind().await.expect("unbind");
}

#[tokio::test]
async fn mo_messages_come_on_the_stream_and_the_stream_ends_with_the_session() {
    let smsc = Smsc::start(SmscConfig::default().user(User::new("esme", "pw"))).expect("SMSC");
    let (client, inbound) = Client::connect(smsc.local_addr(), config(BindKind::Receiver))
        .await
        .expect("bind");
    for n in 0..3 {
        smsc.inject_mo("esme", "447700900999", "12345", &format!("MO {n}"))
            .expect("inject");
    }
    let texts: Vec<String> = timeout(
        WAIT,
        inbound
            .filter_map(|i| async move {
                match i {
                    InboundKind::Message { message, .. } => message.text,
                    _ => None,
                }
            })
            .take(3)
            .collect(),
    )
    .await
    .expect("three MO in time");
    assert_eq!(texts, ["MO 0", "MO 1", "MO 2"]);
    client.unbind().await.expect("unbind");
}

#[tokio::test]
async fn a_refused_bind_is_an_error() {
    let smsc = Smsc::start(SmscConfig::default().user(User::new("esme", "right"))).expect("SMSC");
    let r = Client::connect(
        smsc.local_addr(),
        ClientConfig::new(BindKind::Transceiver, "esme", "wrong"),
    )
    .await;
    assert!(
        matches!(r, Err(Error::BindRejected(CommandStatus::ESME_RINVPASWD))),
        "{r:?}"
    );
}

/// Answers nothing, ever.
struct Silent;

impl Handler for Silent {
    fn request(&mut self, _: &Request<'_>, _: &mut Ctx<'_>) -> Verdict {
        Verdict::Ignore
    }
}

#[tokio::test]
async fn a_lost_connection_resolves_every_call_once() {
    let smsc = Smsc::start_with_handler(SmscConfig::default(), Silent).expect("SMSC");
    let (client, mut inbound) =
        Client::connect(smsc.local_addr(), config(BindKind::Transceiver).window(4))
            .await
            .expect("bind");
    let calls: Vec<_> = (0..10)
        .map(|n| {
            let c = client.clone();
            tokio::spawn(async move {
                c.send_text("A", "1", &format!("{n}"), &TextOptions::default())
                    .await
            })
        })
        .collect();
    // Four in flight, six waiting; then the SMSC goes away.
    timeout(WAIT, async {
        while smsc
            .received()
            .iter()
            .filter(|r| r.command_id == smpp_pdu::CommandId::SUBMIT_SM)
            .count()
            < 4
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("four submits reach the SMSC");
    smsc.shutdown();
    let mut disconnected = 0;
    let mut not_sent = 0;
    for c in calls {
        match timeout(WAIT, c).await.expect("resolved").expect("task") {
            Err(Error::Disconnected) => disconnected += 1,
            // Never sent: taken before the end, or (waiting for room in the command
            // channel) after it.
            Err(Error::NotSent | Error::Closed) => not_sent += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((disconnected, not_sent), (4, 6));
    // The four tracked messages in flight are reported, their outcome unknown (the
    // connection dropped before any answer), then the stream ends.
    let mut reports = 0;
    while let Some(item) = timeout(WAIT, inbound.recv()).await.expect("in time") {
        if let InboundKind::Report(r) = item {
            assert_eq!(r.outcome, Outcome::Unknown, "{r:?}");
            reports += 1;
        }
    }
    assert_eq!(reports, 4);
    assert!(matches!(client.enquire_link().await, Err(Error::Closed)));
}

#[tokio::test]
async fn dropping_the_last_handle_unbinds_and_dropped_futures_are_counted() {
    let smsc = Smsc::start(SmscConfig::default().response_delay(Duration::from_millis(100)))
        .expect("SMSC");
    let (client, _inbound) = Client::connect(smsc.local_addr(), config(BindKind::Transmitter))
        .await
        .expect("bind");
    // A call given up before its answer: the submit still goes, its result is counted.
    let sm = SubmitSm {
        destination_addr: "447700900123".into(),
        ..Default::default()
    };
    let gave_up = timeout(Duration::from_millis(10), client.submit(sm)).await;
    assert!(gave_up.is_err());
    until(&smsc, |s| s.submits == 1).await;
    let other = client.clone();
    timeout(WAIT, async {
        while other.dropped_results() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("counted");
    drop((client, other));
    until(&smsc, |s| s.unbinds == 1).await;
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn binds_and_gets_receipts_over_tls() {
    let p = pki::pki(&["127.0.0.1"]);
    let smsc = Smsc::start(
        SmscConfig::default()
            .receipt_delay(Duration::from_millis(5))
            .tls(p.cert.as_bytes(), p.key.as_bytes())
            .unwrap(),
    )
    .expect("SMSC");
    let tls = smpp_client::TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    let (client, mut inbound) =
        Client::connect(smsc.local_addr(), config(BindKind::Transceiver).tls(tls))
            .await
            .expect("bind over TLS");
    let options = TextOptions::default()
        .registered_delivery(1)
        .reference("tls-1");
    client
        .send_text("MyBrand", "447700900123", "over TLS", &options)
        .await
        .expect("sent");
    assert_eq!(report(&mut inbound).await.outcome, Outcome::Delivered);
    assert_eq!(
        client.unbind().await.expect("unbind"),
        UnbindOutcome::Acknowledged
    );

    // A certificate from another CA: the connect fails, saying so.
    let other = pki::pki(&["127.0.0.1"]);
    let tls = smpp_client::TlsClientConfig::with_ca_pem(other.ca.as_bytes()).unwrap();
    let r = Client::connect(smsc.local_addr(), config(BindKind::Transceiver).tls(tls)).await;
    // The transport's typed error, in words (as the blocking client gives it), not rustls'
    // debug text.
    match r {
        Err(Error::Connect(smpp_transport::TransportError::Tls(
            smpp_transport::TlsError::Certificate(why),
        ))) => assert!(why.contains("not issued by a CA we trust"), "{why}"),
        other => panic!("a refused certificate expected: {other:?}"),
    }
}

/// An SMSC that drops every connection after two PDUs it receives: the client makes the
/// connection again (with the backoff) each time, a message submitted on one connection is
/// reported when its receipt comes on the next one, and later calls go on the connection
/// after that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_made_again_and_tracking_goes_on() {
    let smsc = Smsc::start(
        SmscConfig::default()
            .close_after(2)
            .receipt_delay(Duration::from_millis(300)),
    )
    .expect("SMSC");
    let backoff = smpp_client::Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
        factor: 2.0,
        jitter: 0.0,
    };
    let (client, mut inbound) = Client::connect(
        smsc.local_addr(),
        config(BindKind::Transceiver).reconnect(backoff),
    )
    .await
    .expect("bind");
    // Connection 1: the bind and this submit, then the SMSC closes it.
    let options = TextOptions::default().registered_delivery(1).reference("a");
    client
        .send_text("MyBrand", "447700900123", "a", &options)
        .await
        .expect("submitted on connection 1");
    // Connection 2: the bind and the answer to the receipt of "a", then closed.
    let r = report(&mut inbound).await;
    assert_eq!((r.reference.as_str(), r.outcome), ("a", Outcome::Delivered));
    let bound_again = |n: u64| {
        let client = client.clone();
        async move {
            timeout(WAIT, async {
                loop {
                    let s = client.stats().await.expect("stats");
                    if s.reconnects >= n && client.is_bound() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await
            .expect("bound again in time")
        }
    };
    bound_again(2).await;
    // Connection 3 takes this one.
    let plain = TextOptions::default().registered_delivery(0).reference("b");
    client
        .send_text("MyBrand", "447700900123", "b", &plain)
        .await
        .expect("submitted on connection 3");
    assert_eq!(smsc.stats().submits, 2);
    // (A call made while the client is down waits: see the next test.)
}

/// While the SMSC is gone, calls wait for the connection; an unbind stops the attempts:
/// it answers that the connection is gone, the waiting calls were never sent, and every
/// open message is reported before the stream ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unbind_while_reconnecting_ends_the_client_cleanly() {
    let smsc =
        Smsc::start(SmscConfig::default().receipt_delay(Duration::from_secs(600))).expect("SMSC");
    let backoff = smpp_client::Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(50),
        factor: 2.0,
        jitter: 0.5,
    };
    let (client, mut inbound) = Client::connect(
        smsc.local_addr(),
        // A window of one: the calls below fill the waiting line and the command
        // channel, and the unbind must still get through.
        config(BindKind::Transceiver).reconnect(backoff).window(1),
    )
    .await
    .expect("bind");
    let open = TextOptions::default()
        .registered_delivery(1)
        .reference("open");
    client
        .send_text("MyBrand", "447700900123", "waits for a receipt", &open)
        .await
        .expect("sent");
    smsc.shutdown();
    timeout(WAIT, async {
        while client.is_bound() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the drop seen");
    // Calls made now wait for a connection that will not come.
    let waiting: Vec<_> = (0..5)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.enquire_link().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        waiting.iter().all(|w| !w.is_finished()),
        "the calls wait while reconnecting"
    );
    assert!(matches!(
        timeout(WAIT, client.unbind()).await.expect("answered"),
        Err(Error::Disconnected)
    ));
    for w in waiting {
        let r = timeout(WAIT, w).await.expect("resolved").expect("task");
        assert!(matches!(r, Err(Error::NotSent | Error::Closed)), "{r:?}");
    }
    let r = report(&mut inbound).await;
    assert_eq!(
        (r.reference.as_str(), r.outcome),
        ("open", Outcome::Expired)
    );
    assert!(timeout(WAIT, inbound.recv()).await.expect("ends").is_none());
}

/// The rate cap (the core's rule, tested on a virtual clock in smpp-client) holds through
/// this face: 21 submits at 40 a second take at least half a second. On the wall clock,
/// since it is the task's real timer under test; bounded to a second or so.
#[tokio::test]
async fn the_rate_cap_spaces_calls_made_all_at_once() {
    let smsc = smsc();
    let mut cfg = config(BindKind::Transmitter);
    cfg.max_rate = Some(40.0);
    let (client, _inbound) = Client::connect(smsc.local_addr(), cfg).await.expect("bind");
    let started = std::time::Instant::now();
    let calls = (0..21).map(|_| {
        client.submit(SubmitSm {
            destination_addr: "447700900123".into(),
            ..Default::default()
        })
    });
    for r in timeout(WAIT, futures::future::join_all(calls))
        .await
        .expect("in time")
    {
        r.expect("submitted");
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(490), "{took:?}");
    client.unbind().await.expect("unbind");
}

//! The SMSC restarts while 1,000 requests are in flight (it is told to leave every
//! `submit_sm` unanswered with `drop_every(1)`, so none is answered before it goes away).
//!
//! What must hold:
//! - every one of the 1,000 requests of the client, and every one of 1,000 more sent
//!   straight on a transport connection (where a second outcome for a tag would show),
//!   resolves exactly once, as a connection error, promptly (not by its response timeout);
//! - the client reconnects and rebinds to the restarted SMSC on the same port by itself,
//!   and new submits succeed;
//! - afterwards no `smpp-transport`, `smpp-client` or `smpp-smsc` thread and no socket is
//!   left over.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use smpp_client::{Backoff, Client, ClientConfig, Error};
use smpp_pdu::{Body, SubmitSm};
use smpp_session::{BindKind, BindRequest};
use smpp_smsc::{Smsc, SmscConfig};
use smpp_transport::{Outcome, Transport};

const WAIT: Duration = Duration::from_secs(15);
const N: usize = 1_000;

fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .is_ok_and(|c| c.trim_end() == name)
                })
                .count()
        })
        .unwrap_or(0)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn counts() -> (usize, usize, usize, usize) {
    (
        threads_named("smpp-transport"),
        threads_named("smpp-client"),
        threads_named("smpp-smsc"),
        open_fds(),
    )
}

fn sm(i: usize) -> SubmitSm<'static> {
    SubmitSm {
        source_addr: "12345".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        short_message: format!("in flight {i}").into_bytes().into(),
        ..Default::default()
    }
}

#[test]
fn smsc_restart_with_a_thousand_requests_in_flight() {
    // Real sockets and time: restarts the SMSC on the same port with requests in flight.
    let _ = env_logger::builder().is_test(true).try_init();
    let before = counts();
    let smsc = Smsc::start(SmscConfig::default().drop_every(1)).expect("SMSC");
    let addr = smsc.local_addr();

    // A transport-level ESME: 1,000 tagged requests on one channel.
    let t = Transport::spawn(Default::default()).expect("transport");
    let raw = t
        .connect(
            addr,
            smpp_session::Config::default()
                .window(N)
                .response_timeout(Duration::from_secs(30)),
        )
        .expect("connect");
    let (done_tx, done) = crossbeam_channel::unbounded();
    raw.bind(
        BindRequest::new(BindKind::Transmitter, "raw", "pw"),
        u64::MAX,
        &done_tx,
    )
    .expect("bind");
    let client = Client::connect(
        addr,
        ClientConfig::new(BindKind::Transceiver, "client", "pw")
            // These tests exercise the SMSC: the client passes receipts on untracked.
            .track(false)
            .window(N)
            .response_timeout(Duration::from_secs(30))
            .reconnect(Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_millis(200),
                factor: 2.0,
                ..Backoff::default()
            }),
    )
    .expect("client binds");
    match done.recv_timeout(WAIT).expect("raw bind").outcome {
        Outcome::Bound { .. } => {}
        o => panic!("raw bind: {o:?}"),
    }

    for i in 0..N {
        raw.request(Body::from(sm(i)), i as u64, &done_tx)
            .expect("request");
    }
    let pendings: Vec<_> = (0..N)
        .map(|i| client.submit_async(sm(i)).expect("submit_async"))
        .collect();
    // All 2,000 have reached the SMSC, and none is answered.
    assert!(
        smsc.wait_for(WAIT, |s| s.dropped >= 2 * N as u64),
        "only {} submits reached the SMSC",
        smsc.stats().dropped
    );
    let restarted_at = Instant::now();
    smsc.shutdown();

    // Every client request resolves once, as a disconnection, well before its timeout.
    let mut disconnected = 0;
    for p in pendings {
        match p.wait() {
            Err(Error::Disconnected) => disconnected += 1,
            other => panic!("a request in flight resolved as {other:?}"),
        }
    }
    assert_eq!(disconnected, N);
    // Every transport request resolves exactly once.
    let mut seen: HashMap<u64, Vec<Outcome>> = HashMap::new();
    let end = Instant::now() + WAIT;
    while seen.len() < N {
        let c = done
            .recv_deadline(end)
            .unwrap_or_else(|_| panic!("only {} of {N} resolved", seen.len()));
        seen.entry(c.tag).or_default().push(c.outcome);
    }
    while let Ok(c) = done.recv_timeout(Duration::from_millis(200)) {
        seen.entry(c.tag).or_default().push(c.outcome);
    }
    assert_eq!(seen.len(), N);
    for (tag, o) in &seen {
        assert_eq!(o.len(), 1, "request {tag} resolved {} times", o.len());
        assert!(
            matches!(
                o[0],
                Outcome::Disconnected | Outcome::Failed(smpp_session::FailReason::Closed(_))
            ),
            "request {tag}: {:?}",
            o[0]
        );
    }
    assert!(
        restarted_at.elapsed() < Duration::from_secs(10),
        "resolving took {:?}",
        restarted_at.elapsed()
    );

    // The SMSC comes back on the same port; the client rebinds by itself.
    let smsc = Smsc::start(SmscConfig::default().addr(addr)).expect("SMSC restarts");
    assert!(
        smsc.wait_for(WAIT, |s| s.bound == 1),
        "the client did not rebind"
    );
    let end = Instant::now() + WAIT;
    let id = loop {
        // `is_connected` may lag the rebind by a moment; retry a disconnection briefly.
        match client.submit(&sm(N)) {
            Ok(r) => break r.message_id.to_str_lossy().into_owned(),
            Err(Error::Disconnected) if Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("submit after the restart: {e}"),
        }
    };
    assert!(!id.is_empty());
    let ids: Vec<_> = client
        .submit_batch((0..100).map(sm), 50)
        .into_iter()
        .map(|r| r.expect("submits after the restart succeed"))
        .collect();
    assert_eq!(ids.len(), 100);

    client.unbind().expect("unbind");
    drop(client);
    drop(raw);
    t.shutdown();
    drop(t);
    smsc.shutdown();
    let end = Instant::now() + WAIT;
    while counts() != before && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        counts(),
        before,
        "(transport, client, smsc threads, fds) before and after"
    );
}

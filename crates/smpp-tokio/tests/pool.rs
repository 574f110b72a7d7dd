//! The tokio pool (`smpp_tokio::Pool`) over two test SMSCs from a configuration file:
//! weights, transmitter and receiver binds sharing one tracker (receipts read on the
//! receiver are reported for the messages the transmitter sent), and failover when one
//! SMSC goes away. Every wait is bounded.

use std::collections::HashMap;
use std::time::Duration;

use smpp_client::PoolConfig;
use smpp_pdu::receipt::ReceiptState;
use smpp_smsc::{Smsc, SmscConfig};
use smpp_tokio::{InboundKind, Outcome, Pool, TextOptions};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);

/// A test SMSC whose receipts say `state`. Every SMSC of these tests numbers its message
/// ids from 1, as independent SMSCs do: the shared tracker keeps each account's ids apart.
fn smsc(state: ReceiptState) -> Smsc {
    let mut config = SmscConfig::default().receipt_delay(Duration::from_millis(20));
    config.receipt_state = state;
    Smsc::start(config).expect("SMSC")
}

fn config(a: &Smsc, b: &Smsc) -> PoolConfig {
    PoolConfig::from_toml(&format!(
        r#"
[[smsc]]
name = "a"
addr = ["{}"]
system_id = "esme"
password = "pw"
bind = "tx+rx"
weight = 2

[[smsc]]
name = "b"
addr = ["{}"]
system_id = "esme"
password = "pw"
bind = "trx"
binds = 2
weight = 1
"#,
        a.local_addr(),
        b.local_addr()
    ))
    .expect("a valid file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_shared_tracking_and_one_stream() {
    // Both SMSCs give out ids 1, 2, 3...; a's receipts say DELIVRD, b's UNDELIV.
    let (a, b) = (
        smsc(ReceiptState::Delivered),
        smsc(ReceiptState::Undeliverable),
    );
    let (pool, mut inbound) = Pool::connect(&config(&a, &b)).await.expect("binds");
    assert_eq!(pool.up(), 4);
    let options = TextOptions::default().registered_delivery(1);
    for n in 0..30 {
        let o = options.clone().reference(format!("m{n}"));
        pool.send_text("MyBrand", "447700900123", &format!("text {n}"), &o)
            .await
            .expect("sent");
    }
    // Two thirds to account a (weight 2), one third to b.
    assert_eq!((a.stats().submits, b.stats().submits), (20, 10));
    // Every message is reported with its own SMSC's receipt (account a's from receipts
    // its receiver bind read for what its transmitter bind sent), although both SMSCs
    // used the same ids: delivered through a, failed through b.
    let mut reports = HashMap::new();
    timeout(WAIT, async {
        while reports.len() < 30 {
            match inbound.recv().await {
                Some(InboundKind::Report(r)) => {
                    let account = r.segments[0].account.as_deref().map(str::to_string);
                    let expected = match account.as_deref() {
                        Some("a") => Outcome::Delivered,
                        Some("b") => Outcome::Failed,
                        other => panic!("{}: account {other:?}", r.reference),
                    };
                    assert_eq!(r.outcome, expected, "{r:?}");
                    assert!(reports.insert(r.reference.clone(), account).is_none());
                }
                Some(_) => {}
                None => panic!("the stream ended"),
            }
        }
    })
    .await
    .expect("30 reports in time");
    let stats = pool.tracker_stats();
    assert_eq!((stats.delivered, stats.failed), (20, 10), "{stats:?}");
    assert_eq!(
        (stats.receipts_unmatched, stats.receipts_duplicate),
        (0, 0),
        "{stats:?}"
    );
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_an_smsc_goes_away_the_other_carries_the_load() {
    let (a, b) = (smsc(ReceiptState::Delivered), smsc(ReceiptState::Delivered));
    let (pool, _inbound) = Pool::connect(&config(&a, &b)).await.expect("binds");
    a.shutdown();
    timeout(WAIT, async {
        while pool.up() > 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("account a's binds seen down");
    for n in 0..10 {
        let o = TextOptions::default()
            .registered_delivery(0)
            .reference(format!("f{n}"));
        pool.send_text("MyBrand", "447700900123", "failover", &o)
            .await
            .expect("sent through b");
    }
    assert_eq!(b.stats().submits, 10);
    assert_eq!(
        pool.accounts(),
        [("a".to_string(), 0), ("b".to_string(), 2)]
    );
    pool.close().await;
}

/// Answers nothing, ever.
struct Silent;

impl smpp_smsc::core::Handler for Silent {
    fn request(
        &mut self,
        _: &smpp_smsc::core::Request<'_>,
        _: &mut smpp_smsc::core::Ctx<'_>,
    ) -> smpp_smsc::core::Verdict {
        smpp_smsc::core::Verdict::Ignore
    }
}

/// A message waiting for room on a bind whose SMSC goes away moves to another bind (it was
/// never written); the one in flight there resolves once, outcome unknown; with every bind
/// down, a message is `NoBind` after the failover wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_waiting_on_a_bind_that_drops_moves_to_another() {
    let silent = Smsc::start_with_handler(SmscConfig::default(), Silent).expect("SMSC");
    let b = smsc(ReceiptState::Delivered);
    let config = PoolConfig::from_toml(&format!(
        r#"
[[smsc]]
name = "silent"
addr = ["{}"]
system_id = "esme"
password = "pw"
bind = "tx"
window = 1
response_timeout = 30

[[smsc]]
name = "b"
addr = ["{}"]
system_id = "esme"
password = "pw"
bind = "tx"
"#,
        silent.local_addr(),
        b.local_addr()
    ))
    .expect("a valid file");
    let options = smpp_client::pool::PoolOptions {
        failover_wait: Duration::from_millis(300),
        ..Default::default()
    };
    let (pool, _inbound) = Pool::connect_with(&config, &options).await.expect("binds");
    let pool = std::sync::Arc::new(pool);
    let send = |n: u32| {
        let pool = std::sync::Arc::clone(&pool);
        tokio::spawn(async move {
            let o = TextOptions::default()
                .registered_delivery(0)
                .reference(format!("w{n}"));
            pool.send_text("MyBrand", "447700900123", "hi", &o).await
        })
    };
    // By weight (1:1) the first goes to the silent SMSC and stays in flight there, the
    // second to b, the third to the silent one, where it waits for room.
    let first = send(1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = send(2).await.expect("task");
    assert!(second.is_ok(), "{second:?}");
    let third = send(3);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!third.is_finished() && !first.is_finished());
    silent.shutdown();
    let third = timeout(WAIT, third).await.expect("resolved").expect("task");
    assert!(third.is_ok(), "moved to b: {third:?}");
    let first = timeout(WAIT, first).await.expect("resolved").expect("task");
    assert!(
        matches!(first, Err(smpp_tokio::Error::Disconnected)),
        "outcome unknown, not sent again: {first:?}"
    );
    assert_eq!(b.stats().submits, 2);
    // Every bind down (and seen down: a send picked while b's close is on its way would
    // be written there and answered Disconnected): NoBind after the failover wait.
    b.shutdown();
    timeout(WAIT, async {
        while pool.up() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("every bind seen down");
    let started = std::time::Instant::now();
    let r = timeout(WAIT, send(4))
        .await
        .expect("resolved")
        .expect("task");
    assert!(matches!(r, Err(smpp_tokio::Error::NoBind)), "{r:?}");
    assert!(started.elapsed() >= Duration::from_millis(250));
}

/// `send_many` keeps every bind's window full and gives the results in the order of the
/// texts; `stats` gives each account's binds with their counters and health, which shows
/// a bind whose SMSC went away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_many_and_per_bind_stats() {
    let (a, b) = (smsc(ReceiptState::Delivered), smsc(ReceiptState::Delivered));
    let (pool, _inbound) = Pool::connect(&config(&a, &b)).await.expect("binds");
    let texts = (0..300).map(|n| {
        smpp_client::OutgoingText::new("MyBrand", "447700900123", format!("bulk {n}")).options(
            TextOptions::default()
                .registered_delivery(0)
                .reference(format!("bulk-{n}")),
        )
    });
    let results = timeout(WAIT, pool.send_many(texts))
        .await
        .expect("sent in time");
    assert_eq!(results.len(), 300);
    for (n, r) in results.iter().enumerate() {
        let sent = r.as_ref().expect("sent");
        assert_eq!(
            sent.reference.as_deref(),
            Some(format!("bulk-{n}").as_str())
        );
    }
    let (na, nb) = (a.stats().submits, b.stats().submits);
    assert_eq!(na + nb, 300);
    assert!(na > 0 && nb > 0, "both accounts used: {na} and {nb}");
    let stats = pool.stats().await;
    let names: Vec<&str> = stats.accounts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        (stats.accounts[0].submits(), stats.accounts[1].submits()),
        (na, nb),
        "the binds' own counters agree with the SMSCs'"
    );
    assert_eq!(
        (stats.accounts[0].binds.len(), stats.accounts[1].binds.len()),
        (2, 2)
    );
    assert!(stats
        .accounts
        .iter()
        .flat_map(|s| &s.binds)
        .all(|b| b.stats.connected && b.health.up_since.is_some()));
    // SMSC a goes away: its binds are down, since no time, with the reason.
    a.shutdown();
    timeout(WAIT, async {
        while pool.up() > 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("account a's binds seen down");
    let stats = pool.stats().await;
    for bind in &stats.accounts[0].binds {
        assert!(bind.health.up_since.is_none(), "{:?}", bind.health);
        assert!(bind.health.last_error.is_some(), "{:?}", bind.health);
    }
    assert_eq!(stats.accounts[1].up(), 2);
    pool.close().await;
}

//! Stores on tokio, against the test SMSC over 127.0.0.1 with a real SQLite file and a real
//! `redis-server` (started here on a free port; the Redis case is skipped with a message
//! when it is not installed, and CI installs it): a send is answered once its records are
//! in the store, a client that closes leaves its open messages there and a later one
//! reports them from their receipts, a store that takes nothing gives `NotDurable`, and a
//! pool's messages are finished by a client of the same account. Every wait is bounded.

#![allow(clippy::print_stderr)] // says when the Redis part is skipped

use std::path::PathBuf;
use std::time::Duration;

use smpp_client::{PoolConfig, StoreHandle};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig, User};
use smpp_tokio::{Client, ClientConfig, Error, Outcome, Pool, TextOptions};
use tokio::time::timeout;

mod common;
use common::{report, WAIT};

#[path = "../../smpp-store/tests/common/redis.rs"]
#[allow(dead_code)]
mod redis;

/// Receipts `delay` after the submit, held up to 30 s for a receiver of the account.
fn smsc(delay: Duration) -> Smsc {
    Smsc::start(
        SmscConfig::default()
            .user(User::new("esme", "pw"))
            .receipt_delay(delay)
            .receipt_hold(Duration::from_secs(30)),
    )
    .expect("SMSC")
}

fn config(kind: BindKind, store: &str) -> ClientConfig {
    let store = smpp_store::open(store).expect("the store opens");
    let mut c = ClientConfig::new(kind, "esme", "pw").response_timeout(Duration::from_secs(10));
    c.store = Some(StoreHandle::new(store));
    c
}

/// A fresh SQLite file's URL; the file (and its WAL) go when the guard drops.
struct SqliteFile(PathBuf);

impl SqliteFile {
    fn new(name: &str) -> SqliteFile {
        let path =
            std::env::temp_dir().join(format!("smpp-tokio-{name}-{}.db", std::process::id()));
        let f = SqliteFile(path);
        f.remove();
        f
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.0.display())
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A transmitter sends and closes before the receipt; the message is in the store as
/// soon as the send is answered (read with a store of its own), and a receiver started
/// later reports it, with the sender's reference, from the receipt it reads.
async fn sent_then_reported_by_a_later_client(url: &str) {
    let smsc = smsc(Duration::from_millis(700));
    let addr = smsc.local_addr();
    let (tx, _tx_inbound) = Client::connect(addr, config(BindKind::Transmitter, url))
        .await
        .expect("transmitter");
    let options = TextOptions::default()
        .registered_delivery(1)
        .reference("T1");
    let sent = tx
        .send_text("MyBrand", "447700900123", "kept in the store", &options)
        .await
        .expect("sent");
    assert_eq!(sent.reference.as_deref(), Some("T1"));
    // Written before the send was answered: another reader of the store sees it.
    let mut reader = smpp_store::open(url).expect("a second reader");
    let open = reader.load_open(10).expect("load_open");
    let record = open
        .iter()
        .find(|r| r.reference == "T1")
        .unwrap_or_else(|| panic!("T1 is in the store: {open:?}"));
    assert_eq!(
        record.segments[0].message_id.as_deref(),
        Some(sent.message_ids[0].as_str())
    );
    let stats = tx.stats().await.expect("stats").store.expect("a store");
    assert!(stats.written >= 2, "{stats:?}");
    tx.unbind().await.expect("unbind");
    drop(tx);
    // The receiver comes later and gets the receipt the SMSC held for the account.
    let (rx, mut inbound) = Client::connect(addr, config(BindKind::Receiver, url))
        .await
        .expect("receiver");
    let r = report(&mut inbound).await;
    assert_eq!(
        (r.reference.as_str(), r.outcome),
        ("T1", Outcome::Delivered)
    );
    rx.unbind().await.expect("unbind");
    // Reported: the store no longer holds it.
    timeout(WAIT, async {
        while reader.contains("T1").expect("contains") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("removed from the store after its report");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_across_clients() {
    let file = SqliteFile::new("later");
    sent_then_reported_by_a_later_client(&file.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_across_clients() {
    let Some(server) = redis::RedisServer::start() else {
        eprintln!("skipped: redis-server not installed");
        return;
    };
    sent_then_reported_by_a_later_client(&server.url(1)).await;
}

/// A store that takes no write (an SQLite file with no room to grow): the send is answered
/// `NotDurable` after the store timeout, holding what the SMSC accepted, and the store's
/// counters say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_takes_nothing_gives_not_durable() {
    let file = SqliteFile::new("full");
    let mut sqlite = smpp_store::SqliteStore::open(&file.0).expect("open");
    sqlite.set_size_limit(0).expect("limit");
    let smsc = smsc(Duration::from_secs(5));
    let mut c = ClientConfig::new(BindKind::Transceiver, "esme", "pw");
    c.store = Some(StoreHandle::new(Box::new(sqlite)));
    c.store_timeout = Duration::from_millis(300);
    let (client, _inbound) = Client::connect(smsc.local_addr(), c).await.expect("client");
    let long_reference = "x".repeat(4_000);
    let options = TextOptions::default()
        .registered_delivery(1)
        .reference(long_reference);
    let r = timeout(
        WAIT,
        client.send_text("MyBrand", "447700900123", "no room", &options),
    )
    .await
    .expect("answered in time");
    match r {
        Err(Error::NotDurable(sent, e)) => {
            assert_eq!(sent.message_ids.len(), 1, "{sent:?}");
            assert!(e.to_string().contains("not written within"), "{e}");
        }
        other => panic!("NotDurable expected: {other:?}"),
    }
    let stats = client.stats().await.expect("stats").store.expect("a store");
    assert!(stats.write_errors >= 1, "{stats:?}");
    assert_eq!(smsc.stats().submits, 1, "the SMSC has the message");
    client.unbind().await.expect("unbind");
}

/// A pool of one account (`a`) journals its messages in the store and closes before the
/// receipt; a client that names the same account finishes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pools_messages_are_finished_by_a_client_of_its_account() {
    let file = SqliteFile::new("pool");
    let smsc = smsc(Duration::from_millis(500));
    let config = PoolConfig::from_toml(&format!(
        r#"
[[smsc]]
name = "a"
addr = ["{}"]
system_id = "esme"
password = "pw"
bind = "tx"
"#,
        smsc.local_addr()
    ))
    .expect("a valid file");
    let options = smpp_client::pool::PoolOptions {
        store: Some(StoreHandle::new(
            smpp_store::open(&file.url()).expect("store"),
        )),
        ..Default::default()
    };
    let (pool, _inbound) = Pool::connect_with(&config, &options).await.expect("pool");
    for n in 0..3 {
        let o = TextOptions::default()
            .registered_delivery(1)
            .reference(format!("P{n}"));
        pool.send_text("MyBrand", "447700900123", "pooled", &o)
            .await
            .expect("sent");
    }
    pool.close().await;
    let mut reader = smpp_store::open(&file.url()).expect("reader");
    assert_eq!(reader.load_open(10).expect("load_open").len(), 3);
    // A receiver of account `a` reports all three.
    let c = self::config(BindKind::Receiver, &file.url()).account("a");
    let (rx, mut inbound) = Client::connect(smsc.local_addr(), c)
        .await
        .expect("receiver");
    let mut refs = Vec::new();
    for _ in 0..3 {
        let r = report(&mut inbound).await;
        assert_eq!(r.outcome, Outcome::Delivered, "{r:?}");
        assert_eq!(r.segments[0].account.as_deref(), Some("a"));
        refs.push(r.reference);
    }
    refs.sort();
    assert_eq!(refs, ["P0", "P1", "P2"]);
    rx.unbind().await.expect("unbind");
}

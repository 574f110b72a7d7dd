#![allow(clippy::print_stderr)] // says when the Redis part is skipped

//! The client with a durable store that fails: Redis going away mid-run and coming back,
//! an SQLite file that cannot take more. Clear errors, counters, no panic, and nothing the
//! client acknowledged is lost.

use std::time::Duration;

use smpp_client::{Client, ClientConfig, Error, StoreHandle, TextOptions};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};

#[path = "../../smpp-store/tests/common/redis.rs"]
#[allow(dead_code)]
mod redis;

fn smsc() -> Smsc {
    // Receipts never come during the test: what is open stays open in the store.
    Smsc::start(SmscConfig::default().receipt_delay(Duration::from_secs(600))).expect("SMSC")
}

fn client(smsc: &Smsc, store: StoreHandle) -> Client {
    let config = ClientConfig::new(BindKind::Transmitter, "esme", "pw").store(store);
    let mut config = config;
    config.store_timeout = Duration::from_millis(1500);
    Client::connect(smsc.local_addr(), config).expect("bind")
}

#[test]
fn redis_going_away_and_coming_back() {
    let Some(server) = redis::RedisServer::start() else {
        eprintln!("skipped: redis-server not installed");
        return;
    };
    let port = server.port();
    let url = server.url(0);
    let smsc = smsc();
    let store = StoreHandle::new(smpp_store::open(&url).expect("redis"));
    let c = client(&smsc, store);
    let opts = |r: &str| TextOptions::default().reference(r);
    c.send_text("MyBrand", "447700900123", "before", &opts("before"))
        .expect("written while Redis is up");
    // Redis goes away: the send still happens, but the client says it is not durable.
    drop(server);
    let e = c
        .send_text("MyBrand", "447700900123", "during", &opts("during"))
        .expect_err("not durable while Redis is down");
    match &e {
        Error::NotDurable(sent, why) => {
            assert_eq!(sent.reference.as_deref(), Some("during"));
            assert_eq!(sent.len(), 1, "submitted, with its id");
            assert!(why.to_string().contains("not written"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let stats = c.stats().store.expect("a store");
    assert!(stats.write_errors >= 1 && stats.pending >= 1, "{stats:?}");
    assert!(stats.last_error.is_some());
    // Redis comes back on the same port (empty: it kept nothing): the client's pending
    // writes go through by themselves, the acknowledged "during" message included.
    let _server = redis::RedisServer::start_on(port, None);
    let mut waited = Duration::ZERO;
    while c.stats().store.expect("a store").pending > 0 {
        assert!(waited < Duration::from_secs(15), "{:?}", c.stats().store);
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    c.send_text("MyBrand", "447700900123", "after", &opts("after"))
        .expect("written again");
    let mut check = smpp_store::open(&url).expect("redis again");
    assert!(
        check.contains("during").expect("contains"),
        "the pending write arrived"
    );
    assert!(check.contains("after").expect("contains"));
    c.unbind().expect("unbind");
}

#[test]
fn an_sqlite_file_that_is_full_gives_not_durable_and_recovers() {
    let path = std::env::temp_dir().join(format!("smpp-client-full-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut sqlite = smpp_store::SqliteStore::open(path.to_str().expect("UTF-8")).expect("open");
    // No room beyond what the file holds now.
    sqlite.set_size_limit(0).expect("limit");
    let store = StoreHandle::new(Box::new(sqlite));
    let smsc = smsc();
    let c = client(&smsc, store);
    let texts = (0..400).map(|i| {
        smpp_client::OutgoingText::new("MyBrand", "447700900123", "no room")
            .options(TextOptions::default().reference(format!("full-{i:0>200}")))
    });
    let results = c.send_many(texts, 64);
    assert_eq!(results.len(), 400);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(Error::NotDurable(..)))),
        "{:?}",
        results
            .iter()
            .find(|r| !matches!(r, Err(Error::NotDurable(..))))
    );
    let stats = c.stats().store.expect("a store");
    assert!(stats.write_errors >= 1, "{stats:?}");
    assert!(
        stats
            .last_error
            .as_deref()
            .is_some_and(|m| m.contains("refused")),
        "{stats:?}"
    );
    c.unbind().expect("unbind");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

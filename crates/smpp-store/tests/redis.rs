//! The Redis store against a real `redis-server` (started on a free loopback port for
//! each test, killed at the end). Skipped, with a line saying so, where `redis-server` is
//! not installed; CI installs it (`.ci/run`).

mod common;

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::redis::RedisServer;
use smpp_lifecycle::store::conformance;
use smpp_lifecycle::{
    ReceiptPolicy, Record, SegmentState, Store, StoreErrorKind, StoreOp, StoredSegment,
};
use smpp_pdu::receipt::ReceiptState;
use smpp_store::RedisStore;

/// Every log line of this test binary, to check that no password reaches the log.
fn logged() -> &'static Mutex<Vec<String>> {
    struct Capture;
    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            if let Ok(mut lines) = logged().lock() {
                lines.push(format!("{} {}", record.level(), record.args()));
            }
        }
        fn flush(&self) {}
    }
    static LINES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    static LOGGER: Capture = Capture;
    LINES.get_or_init(|| {
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(log::LevelFilter::Trace);
        Mutex::new(Vec::new())
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn record(reference: &str, submitted: u64, segments: usize) -> Record {
    Record {
        reference: reference.into(),
        receipts: ReceiptPolicy::Final,
        submitted_unix_ms: submitted,
        expires_unix_ms: submitted + 60_000,
        segments: (0..segments)
            .map(|_| StoredSegment {
                message_id: None,
                state: SegmentState::Sending,
                err: None,
                account: None,
            })
            .collect(),
    }
}

fn set_id(reference: &str, segment: u16, id: &str) -> StoreOp {
    StoreOp::SetId {
        reference: reference.into(),
        segment,
        message_id: id.to_uppercase(),
        account: None,
        key: id.into(),
    }
}

/// A plain connection to the test server, to look at what the store wrote.
fn raw(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap()
}

fn pttl(con: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query(con).unwrap()
}

/// A fresh Redis server, with the log capture installed; `None` (the test is skipped, as
/// `available` says why) when redis-server is not installed.
fn server() -> Option<RedisServer> {
    logged();
    RedisServer::start()
}

/// [`server`] and a store on its database 0.
fn fresh() -> Option<(RedisServer, RedisStore)> {
    let server = server()?;
    let store = RedisStore::open(&server.url(0)).expect("open");
    Some((server, store))
}

#[test]
fn conformance_on_a_fresh_database() {
    let Some((server, mut store)) = fresh() else {
        return;
    };
    conformance(&mut store);
    // Through the crate's `open` too, on another database of the same server.
    let mut boxed = smpp_store::open(&server.url(1)).expect("open by URL");
    conformance(boxed.as_mut());
}

#[test]
fn two_processes_see_each_others_writes() {
    let Some(server) = server() else {
        return;
    };
    let mut a = RedisStore::open(&server.url(0)).unwrap();
    let mut b = RedisStore::open(&server.url(0)).unwrap();
    let now = now_ms();
    a.apply(&[StoreOp::Put(record("m1", now, 2)), set_id("m1", 0, "aa01")])
        .unwrap();
    // The receipt reaches the other process: it finds the message by the id.
    let found = b.find("aa01").unwrap().expect("b finds a's message");
    assert_eq!(found.reference, "m1");
    assert_eq!(found.segments[0].message_id.as_deref(), Some("AA01"));
    assert_eq!(found.segments[0].state, SegmentState::Submitted);
    assert_eq!(found.segments[1].state, SegmentState::Sending);
    assert!(b.contains("m1").unwrap());
    // b records the final state, a sees it; b removes the message, a sees that too.
    b.apply(&[StoreOp::SetState {
        reference: "m1".into(),
        segment: 0,
        state: SegmentState::Final(ReceiptState::Delivered),
        err: Some("000".into()),
    }])
    .unwrap();
    let seen = a.find("aa01").unwrap().unwrap();
    assert_eq!(
        seen.segments[0].state,
        SegmentState::Final(ReceiptState::Delivered)
    );
    assert_eq!(seen.segments[0].err.as_deref(), Some("000"));
    assert_eq!(a.load_open(10).unwrap(), vec![seen]);
    b.apply(&[StoreOp::Remove {
        reference: "m1".into(),
        keys: vec!["aa01".into()],
    }])
    .unwrap();
    assert!(!a.contains("m1").unwrap());
    assert_eq!(a.find("aa01").unwrap(), None);
    assert_eq!(a.load_open(10).unwrap(), vec![]);
}

#[test]
fn one_batch_is_one_transaction() {
    let Some((server, mut store)) = fresh() else {
        return;
    };
    let now = now_ms();
    // A batch that puts, indexes, finishes and removes one message, and puts another:
    // applied in order.
    store
        .apply(&[
            StoreOp::Put(record("gone", now, 1)),
            set_id("gone", 0, "g1"),
            StoreOp::Remove {
                reference: "gone".into(),
                keys: vec!["g1".into()],
            },
            StoreOp::Put(record("kept", now + 1, 3)),
            set_id("kept", 2, "k3"),
        ])
        .unwrap();
    assert!(!store.contains("gone").unwrap());
    assert_eq!(store.find("g1").unwrap(), None);
    assert_eq!(store.find("k3").unwrap().unwrap().reference, "kept");
    // Writes to a message that is not there change nothing (no half record appears).
    store
        .apply(&[
            set_id("nobody", 0, "n1"),
            StoreOp::SetState {
                reference: "nobody".into(),
                segment: 0,
                state: SegmentState::NotSent,
                err: None,
            },
            set_id("kept", 7, "k8"),
        ])
        .unwrap();
    assert!(!store.contains("nobody").unwrap());
    assert_eq!(store.find("n1").unwrap(), None);
    assert_eq!(store.find("k8").unwrap(), None, "segment 7 of 3");
    let mut con = raw(&server.url(0));
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    let mut keys = keys;
    keys.sort();
    assert_eq!(
        keys,
        ["smpp:expiry", "smpp:id:k3", "smpp:msg:kept", "smpp:open"]
    );
}

#[test]
fn every_key_expires() {
    let Some(server) = server() else {
        return;
    };
    let mut store = RedisStore::builder(&server.url(0))
        .prefix("t1:")
        .grace(Duration::from_secs(600))
        .open()
        .unwrap();
    let now = now_ms();
    store
        .apply(&[StoreOp::Put(record("m", now, 1)), set_id("m", 0, "77")])
        .unwrap();
    let mut con = raw(&server.url(0));
    // expires is now + 60 s; the grace 600 s.
    let most = 660_000;
    for key in ["t1:msg:m", "t1:id:77", "t1:open", "t1:expiry"] {
        let ttl = pttl(&mut con, key);
        assert!(
            ttl > most - 30_000 && ttl <= most,
            "{key} expires in {ttl} ms"
        );
    }
    assert_eq!(store.message_key("m"), "t1:msg:m");
    // A message whose expiry has passed is still kept for the grace after it is written.
    store
        .apply(&[StoreOp::Put(record("old", 1_000, 1))])
        .unwrap();
    let ttl = pttl(&mut con, "t1:msg:old");
    assert!(ttl > 570_000 && ttl <= 600_000, "{ttl}");
    // The sets do not expire before their newest message.
    assert!(pttl(&mut con, "t1:open") > most - 30_000);
}

#[test]
fn purge_and_expired_members() {
    let Some((server, mut store)) = fresh() else {
        return;
    };
    let now = now_ms();
    let mut old = record("old", now - 100_000, 1);
    old.expires_unix_ms = now - 50_000;
    store
        .apply(&[
            StoreOp::Put(old),
            set_id("old", 0, "o1"),
            StoreOp::Put(record("new", now, 1)),
            set_id("new", 0, "n1"),
        ])
        .unwrap();
    assert_eq!(store.purge_expired(now, 60_000).unwrap(), 0, "in its grace");
    assert_eq!(store.purge_expired(now, 10_000).unwrap(), 1);
    assert!(!store.contains("old").unwrap());
    assert_eq!(store.find("o1").unwrap(), None, "its id key went too");
    assert!(store.contains("new").unwrap());
    // A hash that expired by itself (deleted here) leaves the open set when met.
    let mut con = raw(&server.url(0));
    let _: i64 = redis::cmd("DEL")
        .arg("smpp:msg:new")
        .query(&mut con)
        .unwrap();
    assert_eq!(store.load_open(10).unwrap(), vec![]);
    let members: i64 = redis::cmd("ZCARD")
        .arg("smpp:open")
        .query(&mut con)
        .unwrap();
    assert_eq!(members, 0);
    // load_open pages past more than one window, oldest first.
    let ops: Vec<StoreOp> = (0..1_200)
        .map(|i| StoreOp::Put(record(&format!("r{i:04}"), now + i, 1)))
        .collect();
    store.apply(&ops).unwrap();
    let open = store.load_open(1_100).unwrap();
    assert_eq!(open.len(), 1_100);
    assert_eq!(open[0].reference, "r0000");
    assert_eq!(open[1_099].reference, "r1099");
    assert_eq!(store.load_open(usize::MAX).unwrap().len(), 1_200);
}

#[test]
fn a_removed_message_leaves_a_reused_id_alone() {
    let Some((_server, mut store)) = fresh() else {
        return;
    };
    let now = now_ms();
    // The SMSC gave id 5 to "a", then again to "b" while "a" was still open.
    store
        .apply(&[
            StoreOp::Put(record("a", now, 1)),
            set_id("a", 0, "5"),
            StoreOp::Put(record("b", now, 1)),
            set_id("b", 0, "5"),
            StoreOp::Remove {
                reference: "a".into(),
                keys: vec!["5".into()],
            },
        ])
        .unwrap();
    assert_eq!(store.find("5").unwrap().unwrap().reference, "b");
}

#[test]
fn scripts_flushed_from_the_server_are_loaded_again() {
    let Some((server, mut store)) = fresh() else {
        return;
    };
    let mut con = raw(&server.url(0));
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut con).unwrap();
    store
        .apply(&[StoreOp::Put(record("m", now_ms(), 1)), set_id("m", 0, "9")])
        .expect("apply after SCRIPT FLUSH");
    assert_eq!(store.find("9").unwrap().unwrap().reference, "m");
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut con).unwrap();
    assert_eq!(store.purge_expired(now_ms() + 3_600_000, 0).unwrap(), 1);
}

#[test]
fn redis_going_away_and_coming_back() {
    logged();
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let port = server.port();
    let url = server.url(0);
    let mut store = RedisStore::open(&url).unwrap();
    let now = now_ms();
    store.apply(&[StoreOp::Put(record("m", now, 1))]).unwrap();
    server.kill();
    // Every call fails promptly with Unavailable; none panics or hangs.
    for round in 0..3 {
        let started = Instant::now();
        let results = [
            store.apply(&[StoreOp::Put(record("x", now, 1))]).err(),
            store.find("1").err(),
            store.contains("m").err(),
            store.load_open(10).err(),
            store.purge_expired(now, 0).err(),
        ];
        let took = started.elapsed();
        for e in results {
            let e = e.expect("a call succeeded with Redis down");
            assert_eq!(e.kind, StoreErrorKind::Unavailable, "{e}");
            assert!(e.is_transient());
        }
        assert!(took < Duration::from_secs(3), "round {round}: {took:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // A new server (empty: no persistence) on the same port: the store reconnects by
    // itself.
    let _server = RedisServer::start_on(port, None);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.apply(&[
            StoreOp::Put(record("back", now, 1)),
            set_id("back", 0, "b1"),
        ]) {
            Ok(()) => break,
            Err(e) => {
                assert_eq!(e.kind, StoreErrorKind::Unavailable, "{e}");
                assert!(Instant::now() < deadline, "no reconnection: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    assert_eq!(store.find("b1").unwrap().unwrap().reference, "back");
    assert!(
        !store.contains("m").unwrap(),
        "a Redis without persistence forgot m"
    );
    assert!(format!("{store:?}").contains("connected: true"));
}

#[test]
fn a_redis_that_hangs_does_not_hang_the_store() {
    let Some((server, mut store)) = fresh() else {
        return;
    };
    store
        .apply(&[StoreOp::Put(record("m", now_ms(), 1))])
        .unwrap();
    server.pause(true);
    // The response timeout (1 s) bounds the call; then reconnecting (connect and SCRIPT
    // LOAD, 1 s each) bounds the next ones.
    for _ in 0..3 {
        let started = Instant::now();
        let e = store.contains("m").unwrap_err();
        let took = started.elapsed();
        assert_eq!(e.kind, StoreErrorKind::Unavailable, "{e}");
        assert!(took < Duration::from_secs(4), "{took:?}: {e}");
        std::thread::sleep(Duration::from_millis(100));
    }
    server.pause(false);
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.contains("m").is_err() {
        assert!(Instant::now() < deadline, "no recovery after the pause");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(store.contains("m").unwrap(), "the same server kept m");
}

#[test]
fn a_store_that_cannot_connect_fails_at_once() {
    logged();
    if !common::redis::available() {
        return;
    }
    let port = common::redis::free_port();
    let started = Instant::now();
    let e = RedisStore::open(&format!("redis://127.0.0.1:{port}/0")).unwrap_err();
    assert_eq!(e.kind, StoreErrorKind::Unavailable, "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn the_password_is_never_shown() {
    let logs = logged();
    const PASSWORD: &str = "pw-Xq9-never-shown";
    let Some(mut server) = RedisServer::start_with(Some(PASSWORD)) else {
        return;
    };
    let url = server.url(0);
    assert!(url.contains(PASSWORD));
    let mut store = RedisStore::open(&url).expect("open with the password");
    store
        .apply(&[StoreOp::Put(record("m", now_ms(), 1))])
        .unwrap();
    assert!(store.contains("m").unwrap());
    let shown = format!("{store:?} {:?}", RedisStore::builder(&url));
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(shown.contains("***@127.0.0.1"), "{shown}");
    // A wrong password is refused, without the password in the error.
    let wrong = url.replace(PASSWORD, "wrong-pw-Zk7");
    let e = RedisStore::open(&wrong).unwrap_err();
    assert!(!e.message.contains("wrong-pw-Zk7"), "{e}");
    // Nor in the errors and log lines of a lost connection.
    server.kill();
    let e = store.contains("m").unwrap_err();
    assert!(!e.message.contains(PASSWORD), "{e}");
    let e = store.find("x").unwrap_err();
    assert!(!e.message.contains(PASSWORD), "{e}");
    let lines = logs.lock().unwrap();
    assert!(!lines.is_empty(), "the lost connection was logged");
    for line in lines.iter() {
        assert!(
            !line.contains(PASSWORD) && !line.contains("wrong-pw-Zk7"),
            "{line}"
        );
    }
}

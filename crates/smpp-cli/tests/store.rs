//! `--store` end to end, through the built binary against the test SMSC on 127.0.0.1:
//! a message sent by one `smpp` process is reported with its reference by another,
//! after the sender exited or was killed with SIGKILL, through an SQLite file and
//! through a real `redis-server` started here (skipped with a message when it is not
//! installed; CI installs it).

#![allow(clippy::print_stderr)] // says when the Redis part is skipped

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::time::Duration;

mod common;
use common::*;

use smpp_smsc::{Smsc, SmscConfig, User};

#[path = "../../smpp-store/tests/common/redis.rs"]
#[allow(dead_code)]
mod redis;

/// A test SMSC whose receipts come `delay` after the submit and wait up to 30 s for a
/// receiver of the account.
fn smsc(delay: Duration) -> Smsc {
    Smsc::start(
        SmscConfig::default()
            .user(User::new("esme", "secret"))
            .receipt_delay(delay)
            .receipt_hold(Duration::from_secs(30)),
    )
    .expect("SMSC starts")
}

fn conn<'a>(addr: &'a str, store: &'a str) -> Vec<&'a str> {
    vec![
        "--addr",
        addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--store",
        store,
    ]
}

/// `smpp listen --store` until one report came; its JSON lines.
fn listen_for_one_report(addr: &str, store: &str) -> Child {
    let mut args = vec![
        "listen",
        "--bind",
        "rx",
        "--json",
        "--count",
        "1",
        "--timeout",
        "30",
    ];
    args.extend(conn(addr, store));
    spawn(&args)
}

/// Waits for a listener from [`listen_for_one_report`] to end, successfully; its output.
fn listened(listener: Child) -> String {
    let o = finish(listener, Duration::from_secs(35), "smpp listen");
    let s = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{s}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    s
}

/// The sender exits after the responses; a later listener reports the message with the
/// caller's reference.
fn sent_then_reported_by_a_later_process(store: &str) {
    let smsc = smsc(Duration::from_millis(300));
    let addr = smsc.local_addr().to_string();
    let mut args = vec![
        "send",
        "--bind",
        "tx",
        "--to",
        "447700900123",
        "--text",
        "tracked across processes",
        "--ref",
        "R1",
        "--registered-delivery",
    ];
    args.extend(conn(&addr, store));
    let o = finish(spawn(&args), Duration::from_secs(20), "smpp send");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = listened(listen_for_one_report(&addr, store));
    let report = s
        .lines()
        .find(|l| l.starts_with(r#"{"event":"report""#))
        .unwrap_or_else(|| panic!("a report: {s}"));
    assert!(
        report.contains(r#""reference":"R1""#) && report.contains(r#""outcome":"delivered""#),
        "{report}"
    );
}

/// The sender is killed with SIGKILL after the submit was acknowledged, before the
/// receipt: a new process matches the receipt to the original reference.
fn killed_sender_then_reported_by_a_new_process(store: &str) {
    let smsc = smsc(Duration::from_secs(2));
    let addr = smsc.local_addr().to_string();
    let mut args = vec![
        "send",
        "--to",
        "447700900123",
        "--text",
        "survives kill -9",
        "--ref",
        "K1",
        "--wait-receipt",
        "60",
        "--json",
    ];
    args.extend(conn(&addr, store));
    let mut sender = spawn(&args);
    // Killed once it says the message was submitted (and so written to the store).
    let mut lines = BufReader::new(sender.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("UTF-8");
    assert!(
        first.contains(r#""event":"submitted""#) && first.contains(r#""reference":"K1""#),
        "{first}"
    );
    sender.kill().expect("SIGKILL");
    let _ = sender.wait();
    assert_eq!(smsc.stats().receipts_sent, 0, "killed before its receipt");
    let s = listened(listen_for_one_report(&addr, store));
    assert!(
        s.lines().any(|l| l.starts_with(r#"{"event":"report""#)
            && l.contains(r#""reference":"K1""#)
            && l.contains(r#""outcome":"delivered""#)),
        "{s}"
    );
}

/// A receiver process already listening reports what a transmitter process sends.
fn transmitter_and_receiver_processes(store: &str) {
    let smsc = smsc(Duration::from_millis(200));
    let addr = smsc.local_addr().to_string();
    let listener = listen_for_one_report(&addr, store);
    assert!(
        smsc.wait_for(Duration::from_secs(10), |s| s.bound == 1),
        "the receiver binds"
    );
    let text = "a long message in two parts ".repeat(7);
    let mut args = vec![
        "send",
        "--bind",
        "tx",
        "--to",
        "447700900123",
        "--text",
        &text,
        "--ref",
        "T1",
        "--registered-delivery",
    ];
    args.extend(conn(&addr, store));
    let o = finish(spawn(&args), Duration::from_secs(20), "smpp send");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = listened(listener);
    assert!(
        s.lines().any(|l| l.starts_with(r#"{"event":"report""#)
            && l.contains(r#""reference":"T1""#)
            && l.contains(r#""segments":2"#)),
        "{s}"
    );
}

/// A sender and a later listener that name the same SMSC account (`--account`, as a pool's
/// processes do): the receipt is looked up under the account's key and reported.
fn sent_and_reported_under_one_account(store: &str) {
    let smsc = smsc(Duration::from_millis(300));
    let addr = smsc.local_addr().to_string();
    let mut args = vec![
        "send",
        "--bind",
        "tx",
        "--to",
        "447700900123",
        "--text",
        "one account",
        "--ref",
        "A1",
        "--registered-delivery",
        "--account",
        "smsc-a",
    ];
    args.extend(conn(&addr, store));
    let o = finish(spawn(&args), Duration::from_secs(20), "smpp send");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut args = vec![
        "listen",
        "--bind",
        "rx",
        "--json",
        "--count",
        "1",
        "--timeout",
        "30",
        "--account",
        "smsc-a",
    ];
    args.extend(conn(&addr, store));
    let s = listened(spawn(&args));
    assert!(
        s.lines().any(|l| l.starts_with(r#"{"event":"report""#)
            && l.contains(r#""reference":"A1""#)
            && l.contains(r#""outcome":"delivered""#)),
        "{s}"
    );
}

fn sqlite_url(name: &str) -> (String, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("smpp-cli-{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    (format!("sqlite:{}", path.display()), path)
}

#[test]
fn sqlite_store_across_processes() {
    for (name, f) in [
        ("later", sent_then_reported_by_a_later_process as fn(&str)),
        ("killed", killed_sender_then_reported_by_a_new_process),
        ("two", transmitter_and_receiver_processes),
        ("account", sent_and_reported_under_one_account),
    ] {
        let (url, path) = sqlite_url(name);
        f(&url);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

#[test]
fn redis_store_across_processes() {
    let Some(server) = redis::RedisServer::start() else {
        eprintln!("skipped: redis-server not installed");
        return;
    };
    for (db, f) in [
        (1, sent_then_reported_by_a_later_process as fn(&str)),
        (2, killed_sender_then_reported_by_a_new_process),
        (3, transmitter_and_receiver_processes),
    ] {
        f(&server.url(db));
    }
}

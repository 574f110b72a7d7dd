//! The pool against two test SMSCs: traffic spread by weight, an SMSC stopped with a
//! thousand submits in flight (each resolved once, none sent twice, the other SMSC taking
//! the rest, the binds back after a restart), the per-account cap, receipts on a
//! receiver-only bind matched to what a transmitter-only bind sent, and the configuration
//! file.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use smpp_client::pool::{Account, BindMode, Pool, PoolOptions};
use smpp_client::{ClientConfig, Error, Outcome, OutgoingText, PoolConfig, TextOptions};
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::Body;
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};

const WAIT: Duration = Duration::from_secs(20);

fn config(id: &str) -> ClientConfig {
    ClientConfig::new(BindKind::Transceiver, id, "pw").response_timeout(Duration::from_secs(5))
}

fn texts(n: usize, receipts: bool) -> Vec<OutgoingText> {
    (0..n)
        .map(|i| {
            let options = TextOptions::default().reference(format!("m{i}"));
            let options = if receipts {
                options
            } else {
                options.registered_delivery(0)
            };
            OutgoingText::new("MyBrand", "447700900123", format!("m{i}")).options(options)
        })
        .collect()
}

/// The texts of the `submit_sm`s an SMSC received.
fn submitted_texts(smsc: &Smsc) -> Vec<String> {
    smsc.received()
        .into_iter()
        .filter_map(|r| match r.pdu.map(|p| p.body) {
            Some(Body::SubmitSm(s)) => {
                Some(String::from_utf8_lossy(s.short_message.as_bytes()).into_owned())
            }
            _ => None,
        })
        .collect()
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let end = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn send_text_spreads_messages_over_the_accounts_by_weight() {
    let (a, b) = (
        Smsc::start(SmscConfig::default()).expect("SMSC a"),
        Smsc::start(SmscConfig::default()).expect("SMSC b"),
    );
    let pool = Pool::connect(
        vec![
            Account::new("a", [a.local_addr()], config("esme"))
                .weight(3)
                .binds(2),
            Account::new("b", [b.local_addr()], config("esme")).weight(1),
        ],
        PoolOptions::default(),
    )
    .expect("pool");
    let options = TextOptions::default().registered_delivery(0);
    for i in 0..200 {
        pool.send_text("MyBrand", "447700900123", &format!("t{i}"), &options)
            .expect("sent");
    }
    assert_eq!((a.stats().submits, b.stats().submits), (150, 50));
    // Within an account, its binds take turns.
    let stats = pool.stats();
    let per_bind: Vec<u64> = stats.accounts[0]
        .binds
        .iter()
        .map(|b| b.stats.session.sent.count(smpp_pdu::CommandId::SUBMIT_SM))
        .collect();
    assert_eq!(per_bind, [75, 75]);
    assert_eq!(stats.accounts[0].submits(), 150);
    pool.close();
    assert!(matches!(
        pool.send_text("MyBrand", "447700900123", "late", &options),
        Err(Error::Closed)
    ));
}

#[test]
fn send_many_keeps_the_weights_when_both_accounts_keep_up() {
    let (a, b) = (
        Smsc::start(SmscConfig::default()).expect("SMSC a"),
        Smsc::start(SmscConfig::default()).expect("SMSC b"),
    );
    // Each account capped well above what it gets, so that neither is the slow one.
    let pool = Pool::connect(
        vec![
            Account::new("a", [a.local_addr()], config("esme").window(64)).weight(2),
            Account::new("b", [b.local_addr()], config("esme").window(64)).weight(1),
        ],
        PoolOptions::default(),
    )
    .expect("pool");
    let mut seen = 0;
    let results = pool.send_many(texts(3000, false), |_, _| seen += 1);
    assert_eq!(seen, 3000);
    assert!(results.iter().all(Result::is_ok));
    let (na, nb) = (a.stats().submits as f64, b.stats().submits as f64);
    assert_eq!(na + nb, 3000.0);
    // A slow moment of one account moves some of its share to the other; the split stays
    // near 2:1.
    assert!((na / 3000.0 - 2.0 / 3.0).abs() < 0.1, "a {na}, b {nb}");
    pool.close();
}

#[test]
fn an_smsc_stopped_with_a_thousand_submits_in_flight_loses_nothing_and_comes_back() {
    // SMSC a answers slowly, so that its two binds (window 500 each) hold 1,000 submits
    // when it is stopped; b is quick.
    // (3 s: long enough that none of a's responses come before it is stopped, even on a
    // loaded machine, and shorter than the 5 s response timeout.)
    let a_config = SmscConfig::default().response_delay(Duration::from_secs(3));
    let a = Smsc::start(a_config).expect("SMSC a");
    let a_addr = a.local_addr();
    let b = Smsc::start(SmscConfig::default()).expect("SMSC b");
    let fast = smpp_client::Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
        factor: 2.0,
        jitter: 0.2,
    };
    let pool = Pool::connect(
        vec![
            Account::new("a", [a_addr], config("esme").window(500).reconnect(fast))
                .binds(2)
                .weight(4),
            Account::new(
                "b",
                [b.local_addr()],
                config("esme").window(50).reconnect(fast),
            ),
        ],
        PoolOptions::default(),
    )
    .expect("pool");
    let n = 6000;
    let results = std::thread::scope(|s| {
        let run = s.spawn(|| pool.send_many(texts(n, false), |_, _| {}));
        wait_until("1,000 submits at a", || a.stats().submits >= 1000);
        let at_a = submitted_texts(&a);
        a.shutdown();
        (run.join().expect("send_many"), at_a)
    });
    let (results, at_a) = results;
    assert_eq!(results.len(), n);
    let unknown = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Disconnected | Error::Timeout)))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    // A message a bind took just as it dropped, before writing it, was not sent.
    let not_sent = results
        .iter()
        .filter(|r| matches!(r, Err(Error::NotSent)))
        .count();
    assert_eq!(
        ok + unknown + not_sent,
        n,
        "every message sent, unknown or not sent"
    );
    // What a had when it stopped never got its response: unknown, and not sent again.
    assert!(unknown >= 1000, "{unknown} unknown");
    let at_b = submitted_texts(&b);
    let at_b_set: HashSet<&String> = at_b.iter().collect();
    assert_eq!(at_b_set.len(), at_b.len(), "b got a message twice");
    let twice: Vec<&String> = at_a.iter().filter(|t| at_b_set.contains(t)).collect();
    assert!(
        twice.is_empty(),
        "sent to both: {:?}",
        &twice[..twice.len().min(5)]
    );
    assert_eq!(at_b.len(), ok, "b took the rest");
    // a's binds are down and say why; they come back when a is back on its port.
    let down = pool.stats();
    assert_eq!(down.accounts[0].up(), 0);
    assert!(down.accounts[0].binds[0].health.last_error.is_some());
    let a = Smsc::start(SmscConfig::default().addr(a_addr)).expect("SMSC a again");
    wait_until("a's binds back", || pool.stats().accounts[0].up() == 2);
    let since = pool.stats().accounts[0].binds[0].health.up_since;
    assert!(since.is_some_and(|t| t <= SystemTime::now()));
    pool.close();
    drop(a);
}

#[test]
fn the_account_cap_holds_within_five_percent_over_every_second() {
    // The cap is about time, so this test runs on the wall clock: 600 submits at 300/s
    // over two binds take two seconds.
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let pool = Pool::connect(
        vec![
            Account::new("a", [smsc.local_addr()], config("esme").window(64))
                .binds(2)
                .max_rate(300.0),
        ],
        PoolOptions::default(),
    )
    .expect("pool");
    let results = pool.send_many(texts(600, false), |_, _| {});
    assert!(results.iter().all(Result::is_ok));
    let times: Vec<SystemTime> = smsc
        .received()
        .into_iter()
        .filter(|r| r.command_id == smpp_pdu::CommandId::SUBMIT_SM)
        .map(|r| r.at)
        .collect();
    assert_eq!(times.len(), 600);
    let mut sorted = times.clone();
    sorted.sort();
    let mut worst = 0;
    for (i, t) in sorted.iter().enumerate() {
        let in_second = sorted[i..]
            .iter()
            .take_while(|u| u.duration_since(*t).unwrap_or_default() < Duration::from_secs(1))
            .count();
        worst = worst.max(in_second);
    }
    assert!(
        worst <= 315,
        "{worst} submits within one second at a cap of 300"
    );
    assert!(worst >= 250, "{worst}: the cap is not used");
    pool.close();
}

#[test]
fn receipts_on_a_receiver_bind_match_what_a_transmitter_bind_sent() {
    let smsc =
        Smsc::start(SmscConfig::default().receipt_delay(Duration::from_millis(20))).expect("SMSC");
    let pool = Pool::connect(
        vec![Account::new("a", [smsc.local_addr()], config("esme")).mode(BindMode::TxRx)],
        PoolOptions::default(),
    )
    .expect("pool");
    let stats = pool.stats();
    let kinds: Vec<BindKind> = stats.accounts[0].binds.iter().map(|b| b.kind).collect();
    assert_eq!(kinds, [BindKind::Transmitter, BindKind::Receiver]);
    let results = pool.send_many(texts(50, true), |_, _| {});
    assert!(results.iter().all(Result::is_ok));
    let mut reports = HashMap::new();
    let end = Instant::now() + WAIT;
    while reports.len() < 50 {
        let item = pool
            .inbound()
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .expect("reports within the wait");
        if let Some(r) = item.report() {
            assert!(reports.insert(r.reference.clone(), r.outcome).is_none());
        }
    }
    assert!(reports.values().all(|o| *o == Outcome::Delivered));
    // The receiver bind sent nothing; the transmitter bind received no receipt.
    let stats = pool.stats();
    let tx = &stats.accounts[0].binds[0].stats.session;
    let rx = &stats.accounts[0].binds[1].stats.session;
    assert_eq!(tx.sent.count(smpp_pdu::CommandId::SUBMIT_SM), 50);
    assert_eq!(rx.sent.count(smpp_pdu::CommandId::SUBMIT_SM), 0);
    assert_eq!(rx.received.count(smpp_pdu::CommandId::DELIVER_SM), 50);
    assert_eq!(tx.received.count(smpp_pdu::CommandId::DELIVER_SM), 0);
    pool.close();
}

/// Two SMSCs that both number their message ids from 1, as independent SMSCs do: each
/// receipt finds the message its own SMSC accepted (a's say DELIVRD, b's UNDELIV), none
/// is taken by the other account's message with the same id, and none is left unmatched.
#[test]
fn equal_ids_from_two_smscs_each_find_their_own_message() {
    let start = |state| {
        let mut c = SmscConfig::default().receipt_delay(Duration::from_millis(20));
        c.receipt_state = state;
        Smsc::start(c).expect("SMSC")
    };
    let (a, b) = (
        start(ReceiptState::Delivered),
        start(ReceiptState::Undeliverable),
    );
    let pool = Pool::connect(
        vec![
            Account::new("a", [a.local_addr()], config("esme")).mode(BindMode::TxRx),
            Account::new("b", [b.local_addr()], config("esme")),
        ],
        PoolOptions::default(),
    )
    .expect("pool");
    let results = pool.send_many(texts(60, true), |_, _| {});
    assert!(results.iter().all(Result::is_ok));
    let (na, nb) = (a.stats().submits, b.stats().submits);
    assert_eq!(na + nb, 60);
    assert!(na > 0 && nb > 0, "both accounts used: {na} and {nb}");
    let mut reports = HashMap::new();
    let end = Instant::now() + WAIT;
    while reports.len() < 60 {
        let item = pool
            .inbound()
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .expect("reports within the wait");
        if let Some(r) = item.report() {
            let account = r.segments[0].account.as_deref().map(str::to_string);
            let expected = match account.as_deref() {
                Some("a") => Outcome::Delivered,
                Some("b") => Outcome::Failed,
                other => panic!("{}: account {other:?}", r.reference),
            };
            assert_eq!(r.outcome, expected, "{r:?}");
            assert!(reports.insert(r.reference.clone(), account).is_none());
        }
    }
    let through_a = reports
        .values()
        .filter(|a| a.as_deref() == Some("a"))
        .count();
    assert_eq!(through_a as u64, na);
    let stats = pool.stats().tracker;
    assert_eq!((stats.delivered, stats.failed), (na, nb), "{stats:?}");
    assert_eq!(
        (stats.receipts_unmatched, stats.receipts_duplicate),
        (0, 0),
        "{stats:?}"
    );
    pool.close();
}

#[test]
fn a_pool_from_a_configuration_file() {
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let text = format!(
        r#"
[[smsc]]
name = "main"
addr = ["{}"]
system_id = "esme"
password = "pw"
bind = "trx"
binds = 2
window = 16
max_rate = 1000
"#,
        smsc.local_addr()
    );
    let config = PoolConfig::from_toml(&text).expect("config");
    let pool = Pool::from_config(&config, None).expect("pool");
    assert_eq!(pool.stats().accounts[0].up(), 2);
    let results = pool.send_many(texts(100, false), |_, _| {});
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(smsc.stats().submits, 100);
    pool.close();

    // An address that does not resolve is an error before any bind is attempted.
    let bad = text.replace(&smsc.local_addr().to_string(), "no-such-host.invalid:2775");
    let config = PoolConfig::from_toml(&bad).expect("syntax is fine");
    let before = smsc.stats().connections;
    let err = Pool::from_config(&config, None).expect_err("unresolvable");
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
    assert_eq!(smsc.stats().connections, before);
}

#[test]
fn a_pool_with_no_bind_up_fails_and_a_pool_with_one_up_starts() {
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr")
    };
    let err = Pool::connect(
        vec![Account::new("dead", [closed], config("esme"))],
        PoolOptions::default(),
    )
    .expect_err("nothing up");
    assert!(matches!(err, Error::NoBind), "{err}");
    let pool = Pool::connect(
        vec![
            Account::new("dead", [closed], config("esme")),
            Account::new("live", [smsc.local_addr()], config("esme")),
        ],
        PoolOptions::default(),
    )
    .expect("one account up");
    let stats = pool.stats();
    assert_eq!((stats.accounts[0].up(), stats.accounts[1].up()), (0, 1));
    assert!(stats.accounts[0].binds[0].health.last_error.is_some());
    let results = pool.send_many(texts(20, false), |_, _| {});
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(smsc.stats().submits, 20);
    pool.close();
}

#[test]
fn throttling_answers_lower_the_accounts_rate_and_retries_get_everything_through() {
    // The SMSC takes 150 submits a second and throttles the rest; the account's cap is
    // 600. Wall clock: the rates are per second.
    let smsc = Smsc::start(SmscConfig::default().max_submits_per_second(150)).expect("SMSC");
    let retry = smpp_client::ThrottlePolicy::Retry {
        attempts: 50,
        backoff: smpp_client::Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            factor: 2.0,
            jitter: 0.2,
        },
    };
    let pool = Pool::connect(
        vec![Account::new(
            "a",
            [smsc.local_addr()],
            config("esme").window(32).throttle(retry),
        )
        .binds(2)
        .max_rate(600.0)],
        PoolOptions::default(),
    )
    .expect("pool");
    let results = pool.send_many(texts(400, false), |_, _| {});
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(smsc.stats().submits, 400);
    assert!(smsc.stats().throttled > 0);
    let stats = pool.stats();
    let account = &stats.accounts[0];
    assert_eq!(account.max_rate, Some(600.0));
    let now = account.rate_now.expect("a capped account");
    assert!(now < 600.0, "the rate stayed at {now} under throttling");
    pool.close();
}

#[test]
fn with_resend_unknown_what_was_in_flight_on_a_dropped_bind_goes_out_again_elsewhere() {
    let a =
        Smsc::start(SmscConfig::default().response_delay(Duration::from_secs(3))).expect("SMSC a");
    let b = Smsc::start(SmscConfig::default()).expect("SMSC b");
    let pool = Pool::connect(
        vec![
            Account::new("a", [a.local_addr()], config("esme").window(100)).weight(4),
            Account::new("b", [b.local_addr()], config("esme").window(50)),
        ],
        PoolOptions {
            resend: smpp_client::pool::Resend::Unknown,
            ..PoolOptions::default()
        },
    )
    .expect("pool");
    let n = 1000;
    let (results, at_a) = std::thread::scope(|s| {
        let run = s.spawn(|| pool.send_many(texts(n, false), |_, _| {}));
        wait_until("100 submits at a", || a.stats().submits >= 100);
        let at_a = submitted_texts(&a);
        a.shutdown();
        (run.join().expect("send_many"), at_a)
    });
    // Every message went through in the end: the ones a never answered went to b.
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    let at_b: HashSet<String> = submitted_texts(&b).into_iter().collect();
    assert!(
        at_a.iter().take(100).all(|t| at_b.contains(t)),
        "a's unanswered ones at b"
    );
    assert!(at_b.len() >= n - at_a.len());
    pool.close();
}

//! `smpp send --file`, `--config` (a pool from a TOML file) for send, listen and bench,
//! against test SMSCs started here.

use std::path::PathBuf;
use std::time::Duration;

mod common;
use common::*;

use smpp_smsc::{Smsc, SmscConfig, User};

#[path = "../../smpp-smsc/tests/json_check/mod.rs"]
mod json_check;
use json_check::valid_json;

fn smsc() -> Smsc {
    Smsc::start(
        SmscConfig::default()
            .user(User::new("esme", "secret"))
            .receipt_delay(Duration::from_millis(100)),
    )
    .expect("SMSC starts")
}

/// A file of this test's own in the temporary directory.
fn file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("smpp-cli-pool-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).expect("write");
    path
}

/// A pool file with one transceiver account at `smsc`.
fn config(name: &str, smsc: &Smsc) -> PathBuf {
    file(
        name,
        &format!(
            "[[smsc]]\nname = \"a\"\naddr = [\"{}\"]\nsystem_id = \"esme\"\npassword = \"secret\"\nbind = \"trx\"\n",
            smsc.local_addr()
        ),
    )
}

/// 20 good rows (lines 2..=20 and 24) and 3 bad ones: a bad number (line 21), a missing
/// text (22), an over-long alphanumeric sender (23). Columns out of the usual order.
fn csv(name: &str) -> PathBuf {
    let mut s = String::from("text,to,from,ref\n");
    for i in 0..19 {
        s.push_str(&format!("\"hello, {i}\",4477009000{i:02},,r{i}\n"));
    }
    s.push_str("bad number,+44 7700 900123,,\n");
    s.push_str(",447700900200,,\n");
    s.push_str("long sender,447700900201,ThisSenderIsTooLong,\n");
    s.push_str("\"last one\",447700900202,Shop,\n");
    file(name, &s)
}

fn summary(out: &str) -> &str {
    let last = out.lines().last().expect("a last line");
    assert!(last.starts_with(r#"{"event":"summary""#), "{out}");
    last
}

#[test]
fn send_file_through_a_pool_reports_bad_rows_by_line() {
    let smsc = smsc();
    let cfg = config("send.toml", &smsc);
    let rows = csv("send.csv");
    let o = smpp(&[
        "send",
        "--config",
        cfg.to_str().unwrap(),
        "--file",
        rows.to_str().unwrap(),
        "--from",
        "Me",
        "--json",
    ]);
    let (s, e) = (out(&o), err(&o));
    assert_eq!(o.status.code(), Some(1), "{s}\n{e}");
    assert!(s.lines().all(valid_json), "{s}");
    assert_eq!(
        summary(&s),
        r#"{"event":"summary","messages":23,"submitted":20,"failed":3,"unknown":0,"receipts":{}}"#
    );
    for (line, what) in [
        (21, "destination address: "),
        (22, "text: empty"),
        (23, "source address: an alphanumeric address has at most 11"),
    ] {
        assert!(
            s.contains(&format!(
                r#"{{"event":"row_error","line":{line},"error":"{what}"#
            )),
            "{line}: {s}"
        );
        assert!(e.contains(&format!("line {line}: {what}")), "{line}: {e}");
    }
    assert_eq!(
        s.lines()
            .filter(|l| l.starts_with(r#"{"event":"submitted""#))
            .count(),
        20,
        "{s}"
    );
    assert!(
        s.contains(r#"{"event":"submitted","line":24,"to":"447700900202""#),
        "{s}"
    );
    assert!(s.contains(r#""reference":"r3""#), "{s}");
    assert_eq!(smsc.stats().submits, 20);

    // Without --json, a human summary line.
    let o = smpp(&[
        "send",
        "--config",
        cfg.to_str().unwrap(),
        "--file",
        rows.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("summary  23 message(s): 20 submitted, 3 failed, 0 outcome unknown"),
        "{}",
        out(&o)
    );
}

#[test]
fn send_file_waits_for_receipts_with_one_client_and_a_pool() {
    let smsc = smsc();
    let cfg = config("wait.toml", &smsc);
    let mut s = String::from("to,text\n");
    for i in 0..20 {
        s.push_str(&format!("4477009001{i:02},receipt {i}\n"));
    }
    let rows = file("wait.csv", &s);
    let addr = smsc.local_addr().to_string();
    let pool = [
        "--config",
        cfg.to_str().unwrap(),
        "--file",
        rows.to_str().unwrap(),
    ];
    let single = [
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--file",
        rows.to_str().unwrap(),
    ];
    for how in [&pool[..], &single[..]] {
        let mut args = vec!["send", "--wait-receipt", "10", "--json"];
        args.extend_from_slice(how);
        let o = smpp(&args);
        let s = out(&o);
        assert!(o.status.success(), "{s}\n{}", err(&o));
        assert_eq!(
            summary(&s),
            r#"{"event":"summary","messages":20,"submitted":20,"failed":0,"unknown":0,"receipts":{"DELIVRD":20}}"#
        );
        assert_eq!(
            s.lines()
                .filter(|l| l.starts_with(r#"{"event":"report""#))
                .count(),
            20,
            "{s}"
        );
    }
    assert_eq!(smsc.stats().submits, 40);
}

#[test]
fn send_to_through_a_pool() {
    let smsc = smsc();
    let cfg = config("to.toml", &smsc);
    let o = smpp(&[
        "send",
        "--config",
        cfg.to_str().unwrap(),
        "--to",
        "447700900123",
        "--to",
        "447700900124",
        "--text",
        "Hello",
        "--wait-receipt",
        "10",
    ]);
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    assert!(
        s.contains(
            "summary  2 message(s): 2 submitted, 0 failed, 0 outcome unknown; receipts: DELIVRD 2"
        ),
        "{s}"
    );

    // --config and the connection flags do not go together.
    let o = smpp(&[
        "send",
        "--config",
        cfg.to_str().unwrap(),
        "--addr",
        "127.0.0.1:1",
        "--to",
        "1",
        "--text",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}

#[test]
fn config_errors_exit_2_before_any_bind() {
    let smsc = smsc();
    let addr = smsc.local_addr();
    let rows = file("cfgerr.csv", "to,text\n447700900123,hi\n");
    let account = |extra: &str| {
        format!("[[smsc]]\nname = \"a\"\naddr = \"{addr}\"\nsystem_id = \"esme\"\n{extra}")
    };
    let cases = [
        (
            "wrong-key.toml",
            account("password = \"secret\"\ncolour = \"red\"\n"),
            "wrong-key.toml:6: key `colour`",
        ),
        (
            "no-password.toml",
            account(""),
            "key `password`: account `a`: `password` or `password_env` is needed",
        ),
        (
            "bad-bind.toml",
            account("password = \"secret\"\nbind = \"sideways\"\n"),
            "wrong-key.toml:6: key `bind`",
        ),
        (
            "unresolvable.toml",
            "[[smsc]]\nname = \"a\"\naddr = \"no-such-host.invalid:2775\"\nsystem_id = \"esme\"\npassword = \"secret\"\n".to_string(),
            "address `no-such-host.invalid:2775` does not resolve",
        ),
    ];
    for (name, text, want) in cases {
        let cfg = file(name, &text);
        for args in [
            vec![
                "send",
                "--config",
                cfg.to_str().unwrap(),
                "--file",
                rows.to_str().unwrap(),
            ],
            vec![
                "listen",
                "--config",
                cfg.to_str().unwrap(),
                "--timeout",
                "1",
            ],
            vec!["bench", "--config", cfg.to_str().unwrap(), "--count", "5"],
        ] {
            let o = smpp(&args);
            let e = err(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
            let want = want.replace("wrong-key.toml", name);
            assert!(e.contains(&want), "{args:?}: {e}");
        }
    }
    assert_eq!(smsc.stats().connections, 0, "nothing bound");
}

#[test]
fn listen_config_prints_an_mo() {
    let smsc = smsc();
    let cfg = config("listen.toml", &smsc);
    let child = spawn(&[
        "listen",
        "--config",
        cfg.to_str().unwrap(),
        "--count",
        "1",
        "--timeout",
        "20",
    ]);
    assert!(
        smsc.wait_for(Duration::from_secs(10), |s| s.bound == 1),
        "the pool binds"
    );
    smsc.inject_mo("esme", "447700900123", "12345", "Hi pool")
        .expect("MO");
    let o = finish(child, Duration::from_secs(25), "smpp listen --config");
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    // `HH:MM:SS.mmm ` and the line.
    let (time, line) = s.split_at(13);
    assert!(time.as_bytes()[2] == b':' && time.ends_with(' '), "{s}");
    assert_eq!(line, "MO       from 447700900123 to 12345: \"Hi pool\"\n");

    // A pool that cannot receive.
    let tx = file(
        "listen-tx.toml",
        &format!(
            "[[smsc]]\nname = \"a\"\naddr = \"{}\"\nsystem_id = \"esme\"\npassword = \"secret\"\nbind = \"tx\"\n",
            smsc.local_addr()
        ),
    );
    let o = smpp(&["listen", "--config", tx.to_str().unwrap(), "--timeout", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no account can receive"), "{}", err(&o));
}

#[test]
fn bench_config_sends_through_the_pool() {
    let smsc = smsc();
    let cfg = config("bench.toml", &smsc);
    let o = smpp(&["bench", "--config", cfg.to_str().unwrap(), "--count", "200"]);
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    assert!(s.starts_with("200 of 200 submits ok in "), "{s}");
    assert!(s.contains("over a pool of 1 account(s), 1 bind(s)"), "{s}");
    assert_eq!(smsc.stats().submits, 200);
}

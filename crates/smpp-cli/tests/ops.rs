//! `smpp query`, `cancel`, `replace`, `submit-multi`, `data-sm` and `enquire` against the
//! test SMSC: each succeeds, and each main failure (refused bind, unknown message id, an
//! operation on a message that is no longer pending) exits 1 saying why.

mod common;

use std::time::Duration;

use common::{err, out, smpp};
use smpp_client::{Client, ClientConfig, TextOptions};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig, User};

fn smsc() -> Smsc {
    Smsc::start(
        SmscConfig::default()
            .user(User::new("alice", "pw"))
            .receipt_delay(Duration::from_secs(600)),
    )
    .expect("SMSC")
}

fn with<'a>(addr: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend_from_slice(&["--addr", addr, "--system-id", "alice", "--password", "pw"]);
    v
}

#[test]
fn query_cancel_and_replace_follow_a_pending_message() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let c = Client::connect(
        smsc.local_addr(),
        ClientConfig::new(BindKind::Transceiver, "alice", "pw").track(false),
    )
    .expect("bind");
    let sent = c
        .send_text("12345", "447700900123", "hello", &TextOptions::default())
        .expect("sent");
    let id = sent.message_ids[0].clone();
    let o = smpp(&with(&addr, &["query", "--id", &id, "--from", "12345"]));
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("ENROUTE"), "{}", out(&o));
    let o = smpp(&with(
        &addr,
        &["replace", "--id", &id, "--from", "12345", "--text", "new"],
    ));
    assert!(o.status.success(), "{}", err(&o));
    let o = smpp(&with(
        &addr,
        &["cancel", "--id", &id, "--from", "12345", "--json"],
    ));
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("\"event\":\"cancelled\""), "{}", out(&o));
    let o = smpp(&with(
        &addr,
        &["query", "--id", &id, "--from", "12345", "--json"],
    ));
    assert!(out(&o).contains("\"state\":\"DELETED\""), "{}", out(&o));
    // No longer pending: replace and cancel fail with the SMSC's status.
    let o = smpp(&with(&addr, &["cancel", "--id", &id, "--from", "12345"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("ESME_RCANCELFAIL"), "{}", err(&o));
    let o = smpp(&with(&addr, &["replace", "--id", &id, "--text", "x"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("ESME_RREPLACEFAIL"), "{}", err(&o));
    // An unknown id.
    let o = smpp(&with(&addr, &["query", "--id", "no-such"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("ESME_RQUERYFAIL"), "{}", err(&o));
    c.unbind().expect("unbind");
}

#[test]
fn submit_multi_data_sm_and_enquire() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let o = smpp(&with(
        &addr,
        &[
            "submit-multi",
            "--to",
            "447700900001",
            "--to",
            "+447700900002",
            "--text",
            "hi all",
            "--json",
        ],
    ));
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("\"destinations\":2"), "{}", out(&o));
    let o = smpp(&with(
        &addr,
        &["data-sm", "--to", "447700900003", "--text", "as data_sm"],
    ));
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).starts_with("submitted as data_sm: message id "),
        "{}",
        out(&o)
    );
    let o = smpp(&with(&addr, &["enquire", "--count", "4", "--json"]));
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(lines[4].contains("\"count\":4"), "{}", lines[4]);
    assert_eq!(smsc.stats().submits, 2);
}

#[test]
fn a_refused_bind_and_bad_values_say_what_is_wrong() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let o = smpp(&[
        "enquire",
        "--addr",
        &addr,
        "--system-id",
        "alice",
        "--password",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("ESME_RINVPASWD"), "{}", err(&o));
    let o = smpp(&with(&addr, &["enquire", "--count", "0"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--count"), "{}", err(&o));
    let o = smpp(&with(&addr, &["query"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--id"), "{}", err(&o));
    let o = smpp(&with(&addr, &["data-sm", "--to", "+12a", "--text", "x"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("--to"), "{}", err(&o));
    for sub in [
        "query",
        "cancel",
        "replace",
        "submit-multi",
        "data-sm",
        "enquire",
    ] {
        let o = smpp(&[sub, "--help"]);
        assert!(o.status.success(), "{sub}");
        assert!(out(&o).contains("--addr"), "{sub}");
    }
}

//! `smpp smsc`'s receipt flags: bad values exit 2 naming the flag, and a client sees what
//! `--receipt-mix`, `--receipt-delay`, `--id-format` and `--receipt-content` asked for.

use std::process::Child;

mod common;
use common::*;

#[test]
fn bad_receipt_flag_values_exit_2_naming_the_flag() {
    for (flag, bad) in [
        ("--receipt-mix", "DELIVRD=90,NOPE=10"),
        ("--receipt-mix", "DELIVRD"),
        ("--receipt-mix", "DELIVRD=ninety"),
        ("--receipt-mix", "DELIVRD=0"),
        ("--receipt-delay", "soon"),
        ("--receipt-delay", "5s..1s"),
        ("--receipt-delay", "exp:0s"),
        ("--receipt-delay", "exp:2s,cap=1s"),
        ("--id-format", "octal"),
        ("--id-format", "padded-hex:0"),
        ("--receipt-content", "html"),
        ("--intermediate", "delivrd"),
        ("--intermediate", "enroute:sometimes"),
        ("--seed", "many"),
    ] {
        let o = smpp(&["smsc", "--listen", "127.0.0.1:0", flag, bad]);
        let e = err(&o);
        assert_eq!(o.status.code(), Some(2), "{flag} {bad}: {e}");
        assert!(e.contains(flag), "{flag} not named for {bad}: {e}");
        assert!(o.stdout.is_empty(), "{flag} {bad}");
    }
    // The old flags and the new ones for the same thing do not mix.
    let o = smpp(&["smsc", "--hex-ids", "--id-format", "uuid"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let o = smpp(&["smsc", "--receipt-delay-ms", "10", "--receipt-delay", "1s"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}

#[test]
fn smsc_help_describes_the_receipt_flags() {
    let o = smpp(&["smsc", "--help"]);
    assert!(o.status.success());
    let s = out(&o);
    for flag in [
        "--receipt-mix <STATE=WEIGHT,...>",
        "--receipt-delay <",
        "--id-format <FORMAT>",
        "--receipt-content <",
        "--receipt-first",
        "--intermediate <",
        "--seed <N>",
    ] {
        assert!(s.contains(flag), "no {flag} in {s}");
    }
}

/// `smpp smsc ARGS` on a free port (see `common::smsc_child`), stopping by itself after
/// 20 s.
fn smsc_process(args: &[&str]) -> (Child, String) {
    let mut all = vec!["--duration", "20"];
    all.extend_from_slice(args);
    common::smsc_child(&all)
}

fn send_and_wait(addr: &str) -> std::process::Output {
    smpp(&[
        "send",
        "--addr",
        addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--to",
        "447700900123",
        "--text",
        "Hello",
        "--wait-receipt",
        "10",
    ])
}

#[test]
fn an_smsc_with_an_all_undeliv_mix_sends_undeliv_receipts() {
    let (mut server, addr) = smsc_process(&[
        "--user",
        "esme:secret",
        "--receipt-mix",
        "UNDELIV=100",
        "--receipt-delay",
        "20ms..80ms",
        "--seed",
        "3",
    ]);
    let o = send_and_wait(&addr);
    let s = out(&o);
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        s.contains("receipt for message id 1: UNDELIV"),
        "{s}\n{}",
        err(&o)
    );
    assert!(!s.contains("DELIVRD"), "{s}");
}

#[test]
fn uuid_ids_and_text_only_receipts_reach_the_client() {
    let (mut server, addr) = smsc_process(&[
        "--user",
        "esme:secret",
        "--id-format",
        "uuid",
        "--receipt-content",
        "text",
        "--receipt-delay",
        "exp:50ms,cap=200ms",
        "--intermediate",
        "enroute",
    ]);
    let o = send_and_wait(&addr);
    let s = out(&o);
    let _ = server.kill();
    let _ = server.wait();
    let line = s
        .lines()
        .find(|l| l.starts_with("receipt for message id ") && l.ends_with(": DELIVRD"))
        .unwrap_or_else(|| panic!("no DELIVRD receipt: {s}\n{}", err(&o)));
    let id = &line["receipt for message id ".len()..line.len() - ": DELIVRD".len()];
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.matches('-').count(), 4, "{id}");
}

#[test]
fn lenient_data_sm_delivery_and_refused_destinations_from_the_command_line() {
    // Strict by default: priority 4 is refused on a 3.4 bind.
    let (mut strict, addr) = smsc_process(&["--user", "esme:secret"]);
    let send = |addr: &str, extra: &[&str]| {
        let mut args = vec![
            "send",
            "--addr",
            addr,
            "--system-id",
            "esme",
            "--password",
            "secret",
            "--to",
            "447700900123",
            "--text",
            "Hello",
        ];
        args.extend_from_slice(extra);
        smpp(&args)
    };
    let o = send(&addr, &["--priority", "4"]);
    let _ = strict.kill();
    let _ = strict.wait();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(err(&o).contains("ESME_RINVPRTFLG"), "{}", err(&o));
    // Lenient, receipts as data_sm, one destination refused.
    let (mut server, addr) = smsc_process(&[
        "--user",
        "esme:secret",
        "--lenient",
        "--deliver-as-data-sm",
        "--refuse-destination",
        "447700900002",
        "--receipt-delay-ms",
        "20",
    ]);
    let o = send(&addr, &["--priority", "4", "--wait-receipt", "10"]);
    assert!(o.status.success(), "{}\n{}", out(&o), err(&o));
    assert!(out(&o).contains("DELIVRD"), "{}", out(&o));
    let o = smpp(&[
        "submit-multi",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--to",
        "447700900001",
        "--to",
        "447700900002",
        "--text",
        "hi",
        "--json",
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(out(&o).contains("\"to\":\"447700900002\""), "{}", out(&o));
}

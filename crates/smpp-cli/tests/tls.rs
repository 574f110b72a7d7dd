//! `smpp smsc --tls-cert/--tls-key` and `smpp send --tls --ca` end to end over 127.0.0.1,
//! with certificates generated at test time and written to a temporary directory; both
//! run at trace level, and the password never shows in their logs. Every wait is bounded.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::TempDir;

#[path = "../../smpp-smsc/tests/pki/mod.rs"]
mod pki;

/// The account's password: it must never appear in a log.
const PASSWORD: &str = "tlsPw-42";

fn smpp(args: &[&str], envs: &[(&str, &str)]) -> Output {
    common::finish(
        common::spawn_env(args, envs),
        Duration::from_secs(30),
        &format!("smpp {args:?}"),
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `smpp smsc` with TLS at trace level, its log going to `log`; returns it and its address.
fn tls_smsc(cert: &str, key: &str, log: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args([
            "smsc",
            "--listen",
            "127.0.0.1:0",
            "--user",
            &format!("esme:{PASSWORD}"),
            "--receipt-delay-ms",
            "20",
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("smpp smsc runs");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .expect("the listening line");
    assert!(
        first.starts_with("smpp-smsc listening with TLS on "),
        "{first:?}"
    );
    let addr = first.trim().rsplit(' ').next().unwrap().to_string();
    (child, addr)
}

#[test]
fn smsc_and_send_over_tls_end_to_end_without_leaking_the_password() {
    let dir = TempDir::new("tls");
    let p = pki::pki(&["127.0.0.1", "localhost"]);
    let cert = dir.write("smsc.crt", &p.cert);
    let key = dir.write("smsc.key", &p.key);
    let ca = dir.write("ca.crt", &p.ca);
    let other_ca = dir.write("other-ca.crt", &pki::pki(&["127.0.0.1"]).ca);
    let smsc_log = dir.0.join("smsc.log");
    let (mut smsc, addr) = tls_smsc(&cert, &key, &smsc_log);
    let trace = [("RUST_LOG", "trace")];
    let send = |extra: &[&str], envs: &[(&str, &str)]| {
        let mut args = vec![
            "send",
            "--addr",
            &addr,
            "--system-id",
            "esme",
            "--password",
            PASSWORD,
            "--to",
            "447700900123",
            "--text",
            "over TLS",
        ];
        args.extend_from_slice(extra);
        smpp(&args, envs)
    };

    // Trusting the CA, by address and by host name; a receipt comes back.
    let ok = send(&["--tls", "--ca", &ca, "--wait-receipt", "10"], &trace);
    let (out, err) = (text(&ok.stdout), text(&ok.stderr));
    assert!(ok.status.success(), "{out}\n{err}");
    assert!(
        out.contains("submitted to 447700900123: message id(s) 1"),
        "{out}"
    );
    assert!(out.contains("receipt for message id 1: DELIVRD"), "{out}");
    assert!(
        err.contains("TLS handshake"),
        "no trace-level log captured: {err}"
    );
    assert!(!err.contains(PASSWORD), "the password is in send's log");
    assert!(!out.contains(PASSWORD));
    let by_name = send(&["--tls", "--ca", &ca, "--server-name", "localhost"], &[]);
    assert!(by_name.status.success(), "{}", text(&by_name.stderr));

    // The "system" roots (here a store of another CA): the certificate is refused.
    let refused = send(
        &["--tls"],
        &[("SSL_CERT_FILE", &other_ca), ("SSL_CERT_DIR", "")],
    );
    let err = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("certificate was refused")
            && err.contains("not issued by a CA we trust")
            && err.contains("--pin-sha256"),
        "{err}"
    );
    // A name the certificate does not have.
    let wrong = send(
        &["--tls", "--ca", &ca, "--server-name", "smsc.example"],
        &[],
    );
    let err = text(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not for smsc.example") && err.contains("--server-name"),
        "{err}"
    );
    // Plaintext to the TLS port.
    let plain = send(&[], &trace);
    let err = text(&plain.stderr);
    assert_eq!(plain.status.code(), Some(1), "{err}");
    assert!(
        err.contains("TLS records on a plaintext SMPP connection"),
        "{err}"
    );
    assert!(!err.contains(PASSWORD), "the password is in send's log");
    // A CA file that is not there.
    let missing = send(&["--tls", "--ca", "/nonexistent/ca.pem"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    let err = text(&missing.stderr);
    assert!(
        err.contains("--ca: cannot read `/nonexistent/ca.pem`"),
        "{err}"
    );

    let _ = smsc.kill();
    let _ = smsc.wait();
    let log = std::fs::read_to_string(&smsc_log).unwrap();
    assert!(
        log.contains("TLS handshake"),
        "no trace-level log captured: {log}"
    );
    assert!(!log.contains(PASSWORD), "the password is in the SMSC's log");
}

#[test]
fn tls_options_are_checked() {
    let dir = TempDir::new("tls-options");
    let p = pki::pki(&["127.0.0.1"]);
    let cert = dir.write("smsc.crt", &p.cert);
    let key = dir.write("smsc.key", &p.key);
    // Half a pair is a usage error.
    let o = smpp(
        &["smsc", "--listen", "127.0.0.1:0", "--tls-cert", &cert],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--tls-cert and --tls-key go together"));
    // Unreadable files and a key that is not the certificate's are named.
    let o = smpp(
        &["smsc", "--tls-cert", "/nonexistent.crt", "--tls-key", &key],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("cannot read /nonexistent.crt"),
        "{}",
        text(&o.stderr)
    );
    let other_key = dir.write("other.key", &pki::pki(&["127.0.0.1"]).key);
    let o = smpp(&["smsc", "--tls-cert", &cert, "--tls-key", &other_key], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("certificate and key refused"),
        "{}",
        text(&o.stderr)
    );
    // The client side: TLS needs an address; a pin and a CA do not go together.
    let o = smpp(&["send", "--tls", "--to", "1", "--text", "x"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("TLS needs --addr"));
    let o = smpp(
        &[
            "send",
            "--addr",
            "127.0.0.1:1",
            "--system-id",
            "a",
            "--password",
            "b",
            "--ca",
            &cert,
            "--pin-cert",
            &cert,
            "--to",
            "1",
            "--text",
            "x",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--pin-cert"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn decode_output_and_trace_log_redact_the_password() {
    use smpp_pdu::{BindTransceiver, Body, Pdu};

    let mut wire = Vec::new();
    Pdu::new(
        7,
        Body::from(BindTransceiver {
            system_id: "esme".into(),
            password: PASSWORD.into(),
            ..Default::default()
        }),
    )
    .encode(&mut wire)
    .unwrap();
    let hex: String = wire.iter().map(|b| format!("{b:02x}")).collect();
    let o = smpp(&["decode", &hex], &[("RUST_LOG", "trace")]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("\"password\":\"***\""), "{out}");
    assert!(
        !out.contains(PASSWORD) && !err.contains(PASSWORD),
        "{out}\n{err}"
    );
    // Only when asked.
    let o = smpp(&["decode", "--reveal-passwords", &hex], &[]);
    assert!(text(&o.stdout).contains(PASSWORD));
}

#[test]
fn listen_and_bench_over_tls() {
    use smpp_smsc::{Smsc, SmscConfig, User};

    let dir = TempDir::new("tls-listen");
    let p = pki::pki(&["127.0.0.1"]);
    let ca = dir.write("ca.crt", &p.ca);
    let smsc = Smsc::start(
        SmscConfig::default()
            .user(User::new("esme", PASSWORD))
            .mo_schedule(
                Duration::from_millis(20),
                "esme",
                "447700900123",
                "12345",
                "tick",
            )
            .tls(p.cert.as_bytes(), p.key.as_bytes())
            .unwrap(),
    )
    .unwrap();
    let addr = smsc.local_addr().to_string();
    let target = [
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        PASSWORD,
    ];
    let tls = ["--tls", "--ca", &ca];

    let listen: Vec<&str> = [
        &["listen"][..],
        &target,
        &tls,
        &["--bind", "rx", "--count", "2", "--timeout", "10"],
    ]
    .concat();
    let o = smpp(&listen, &[]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    assert_eq!(
        out.lines().filter(|l| l.contains("tick")).count(),
        2,
        "{out}"
    );

    let bench: Vec<&str> = [
        &["bench"][..],
        &target,
        &tls,
        &["--count", "2000", "--window", "64"],
    ]
    .concat();
    let o = smpp(&bench, &[]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    assert!(out.contains("2000 of 2000 submits ok"), "{out}");
    smsc.shutdown();
}

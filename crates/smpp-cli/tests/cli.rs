//! Runs the built `smpp` binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use smpp_pdu::tlv::Tlv;
use smpp_pdu::{Pdu, SubmitSm};

mod common;
#[path = "../../smpp-smsc/tests/json_check/mod.rs"]
mod json_check;
use json_check::valid_json;

fn smpp(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smpp runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    // Bounded: the demo waits at most a few seconds by itself.
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("smpp {args:?} did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn demo_reports_every_step() {
    let o = smpp(&["demo"], None);
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "exit {:?}\n{out}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<&str> = out.lines().collect();
    let find = |prefix: &str| {
        lines
            .iter()
            .filter(|l| l.starts_with(prefix))
            .copied()
            .collect::<Vec<_>>()
    };
    assert_eq!(find("bind").len(), 1, "{out}");
    assert!(find("bind")[0].contains("transceiver") && find("bind")[0].ends_with("ok"));
    let submits = find("submit");
    assert_eq!(submits.len(), 2, "{out}");
    assert!(submits[0].contains("message id(s) 1"), "{out}");
    assert!(
        submits[1].contains("UCS-2") && submits[1].contains("UDH"),
        "{out}"
    );
    let receipts = find("receipt");
    assert!(receipts.len() >= 3, "one per segment: {out}");
    for r in &receipts {
        assert!(r.contains("message id") && r.ends_with("DELIVRD"), "{r}");
    }
    assert_eq!(find("MO").len(), 1, "{out}");
    assert!(find("MO")[0].contains("Thanks, got it"));
    assert_eq!(find("unbind"), ["unbind   ok"]);
}

#[test]
fn demo_json_is_one_object_per_line() {
    let o = smpp(&["demo", "--json"], None);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    let mut events = Vec::new();
    for line in out.lines() {
        assert!(
            line.starts_with("{\"event\":\"") && valid_json(line),
            "{line}"
        );
        let name = line["{\"event\":\"".len()..].split('"').next().unwrap();
        events.push(name.to_string());
    }
    for want in [
        "smsc_started",
        "bound",
        "submitted",
        "receipt",
        "mo",
        "unbound",
        "done",
    ] {
        assert!(events.iter().any(|e| e == want), "no {want} in {events:?}");
    }
    assert_eq!(events.first().map(String::as_str), Some("smsc_started"));
    assert_eq!(events.last().map(String::as_str), Some("done"));
    assert!(out.contains(r#""message_ids":["1"]"#), "{out}");
}

#[test]
fn decode_good_pdus() {
    let mut wire = Vec::new();
    let submit = SubmitSm {
        source_addr: "12345".into(),
        destination_addr: "447700900123".into(),
        registered_delivery: 1,
        short_message: "Hello".into(),
        tlvs: vec![Tlv::ReceiptedMessageId("AB".into())],
        ..Default::default()
    };
    Pdu::new(7, submit).encode(&mut wire).unwrap();
    let one = hex(&wire);
    // Two PDUs in one argument, and one with spaces.
    let mut two = wire.clone();
    Pdu::new(8, smpp_pdu::EnquireLink::default())
        .encode(&mut two)
        .unwrap();
    let spaced: String = one
        .as_bytes()
        .chunks(8)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let o = smpp(&["decode", &one, &hex(&two), &spaced], None);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines.iter().all(|l| valid_json(l)), "{out}");
    for l in [lines[0], lines[1], lines[3]] {
        for key in [
            r#""command":"submit_sm""#,
            r#""command_status":"ESME_ROK""#,
            r#""sequence_number":7"#,
            r#""source_addr":"12345""#,
            r#""destination_addr":"447700900123""#,
            r#""registered_delivery":1"#,
            r#""short_message":"48656c6c6f","short_message_text":"Hello""#,
            r#""tlvs":[{"tag":"0x001e","name":"receipted_message_id","value":"AB","hex":"414200"}]"#,
        ] {
            assert!(l.contains(key), "{l} lacks {key}");
        }
    }
    assert!(
        lines[2].contains(r#""command":"enquire_link""#),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains(r#""sequence_number":8"#));

    // The same from stdin, one dump per line.
    let o = smpp(&["decode"], Some(&format!("{one}\n\n{}\n", hex(&two))));
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), 3);
}

#[test]
fn decode_bad_pdus() {
    // submit_sm whose source_addr has no NUL within 21 octets.
    let mut wire = vec![0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9];
    wire.extend_from_slice(&[0, 1, 1]);
    wire.extend_from_slice(&[b'9'; 30]);
    let len = wire.len() as u32;
    wire[..4].copy_from_slice(&len.to_be_bytes());
    let o = smpp(&["decode", &hex(&wire)], None);
    let out = stdout(&o);
    assert!(!o.status.success(), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(valid_json(out.trim_end()), "{out}");
    for key in [
        r#""command":"submit_sm""#,
        r#""sequence_number":9"#,
        r#""field":"source_addr""#,
        r#""command_status":"ESME_RINVSRCADR""#,
        r#""error":"#,
    ] {
        assert!(out.contains(key), "{out} lacks {key}");
    }

    // A command_length below 16, an incomplete PDU, and text that is not hex.
    let o = smpp(
        &[
            "decode",
            "00000008000000150000000000000001",
            "0000001000000015",
            "xyz1",
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines.iter().all(|l| valid_json(l)), "{out}");
    assert!(
        lines[0].contains(r#""field":"command_length""#) && lines[0].contains("ESME_RINVCMDLEN")
    );
    assert!(lines[1].contains("incomplete PDU"), "{}", lines[1]);
    assert!(lines[2].contains("invalid hex"), "{}", lines[2]);
}

#[test]
fn usage_errors_exit_2() {
    let o = smpp(&["frobnicate"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("frobnicate") && err.contains("Usage: smpp <COMMAND>"),
        "{err}"
    );
    // No subcommand: the help, on stderr, and exit 2.
    let o = smpp(&[], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Usage: smpp <COMMAND>"));
    let o = smpp(&["help"], None);
    assert!(o.status.success());
    let out = stdout(&o);
    for cmd in [
        "demo", "decode", "encode", "smsc", "send", "listen", "bench",
    ] {
        assert!(
            out.contains(&format!("\n  {cmd} ")),
            "{cmd} not listed: {out}"
        );
    }
}

#[test]
fn version_prints_the_version() {
    let o = smpp(&["--version"], None);
    assert!(o.status.success());
    assert_eq!(stdout(&o), format!("smpp {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_per_subcommand() {
    // `smpp send --help` describes send's own options and the shared connection options.
    let o = smpp(&["send", "--help"], None);
    assert!(o.status.success());
    let out = stdout(&o);
    for flag in [
        "--to <ADDR>",
        "--text <TEXT>",
        "--wait-receipt",
        "--addr <HOST:PORT>",
        "--tls",
    ] {
        assert!(out.contains(flag), "no {flag} in {out}");
    }
    assert!(
        !out.contains("--window"),
        "bench's option in send's help: {out}"
    );
    // `smpp help listen` is the same as `smpp listen --help`.
    let o = smpp(&["help", "listen"], None);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("Usage: smpp listen"), "{out}");
    assert!(
        out.contains("--count <N>") && out.contains("--timeout <SECONDS>"),
        "{out}"
    );
    assert_eq!(stdout(&smpp(&["listen", "--help"], None)), out);
}

#[test]
fn bad_values_name_the_flag_and_exit_2() {
    for (args, flag) in [
        (
            &["bench", "--count", "10", "--window", "abc"][..],
            "--window",
        ),
        (&["bench", "--count", "0", "--window", "1"][..], "--count"),
        (&["bench", "--count", "10"][..], "--window"),
        (&["smsc", "--stats-every", "0"][..], "--stats-every"),
        (
            &["send", "--to", "1", "--text", "x", "--encoding", "ebcdic"][..],
            "--encoding",
        ),
        (&["listen", "--timeout", "soon"][..], "--timeout"),
        (&["demo", "--jsno"][..], "--jsno"),
    ] {
        let o = smpp(args, None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {flag} not named in {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // A bad --user names the flag and the system_id, never the password.
    for bad in ["esme:s3cret:0", "esme:s3cret:99999999999999999999999"] {
        let o = smpp(&["smsc", "--user", bad], None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("--user") && err.contains("esme"), "{err}");
        assert!(!err.contains("s3cret"), "the password is in {err}");
    }
}

#[test]
fn smsc_command_serves_clients() {
    use smpp_client::{Client, ClientConfig};
    use smpp_session::BindKind;

    let (mut child, addr) = common::smsc_listening(&["--user", "esme:pw", "--hex-ids"]);
    let addr: std::net::SocketAddr = addr.parse().expect("an address");
    let result = (|| {
        let cfg = ClientConfig::new(BindKind::Transmitter, "esme", "pw")
            .response_timeout(Duration::from_secs(5));
        let c = Client::connect(addr, cfg)?;
        let r = c.submit(&SubmitSm {
            destination_addr: "1".into(),
            short_message: "hi".into(),
            ..Default::default()
        })?;
        c.unbind()?;
        Ok::<_, smpp_client::Error>(r.message_id.to_str_lossy().into_owned())
    })();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(result.expect("served"), "00000001");
}

#[test]
fn smsc_command_injects_faults_and_scheduled_mo() {
    use smpp_client::{Client, ClientConfig, Error};
    use smpp_session::BindKind;

    let (mut child, addr) = common::smsc_listening(&[
        "--user",
        "esme:pw",
        "--delay-ms",
        "20",
        "--drop-every",
        "2",
        "--mo-every-ms",
        "50",
        "--mo-text",
        "tick",
    ]);
    let addr: std::net::SocketAddr = addr.parse().expect("an address");
    let result = (|| {
        let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
            .response_timeout(Duration::from_millis(500));
        let c = Client::connect(addr, cfg)?;
        let sm = SubmitSm {
            destination_addr: "1".into(),
            short_message: "hi".into(),
            ..Default::default()
        };
        let first = c
            .submit(&sm)
            .map(|r| r.message_id.to_str_lossy().into_owned());
        let second = c.submit(&sm).map(|_| ());
        let mo = c
            .inbound()
            .recv_timeout(Duration::from_secs(10))
            .ok()
            .and_then(|m| m.text().map(str::to_string));
        Ok::<_, Error>((first, second, mo))
    })();
    let _ = child.kill();
    let _ = child.wait();
    let (first, second, mo) = result.expect("binds");
    assert_eq!(first.expect("the first submit is answered"), "1");
    assert!(
        matches!(second, Err(Error::Timeout)),
        "the second is dropped: {second:?}"
    );
    assert_eq!(mo.as_deref(), Some("tick"));
}

#[test]
fn smsc_fault_options_need_numbers() {
    for opt in [
        "--delay-ms",
        "--drop-every",
        "--close-after",
        "--garbage-after",
        "--mo-every-ms",
    ] {
        let o = smpp(&["smsc", opt, "x"], None);
        assert_eq!(o.status.code(), Some(2), "{opt} x");
    }
    let o = smpp(&["smsc", "--mo-every-ms", "10"], None);
    assert_eq!(
        o.status.code(),
        Some(2),
        "--mo-every-ms without a system_id"
    );
}

#[test]
fn help_works_after_every_subcommand() {
    for cmd in [
        "demo", "send", "listen", "smsc", "decode", "encode", "bench",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_smpp"))
            .args([cmd, "--help"])
            .output()
            .expect("run smpp");
        assert!(out.status.success(), "{cmd} --help: {:?}", out.status);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("Usage: smpp {cmd}")),
            "{cmd}: {text}"
        );
    }
}

//! Runs `smpp send`, `smpp listen` and `smpp bench` against the embedded SMSC or an
//! `Smsc` started here, with bounded waits.

use std::process::Child;
use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig, TextOptions};
use smpp_session::BindKind;
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

#[test]
fn send_to_the_embedded_smsc_waits_for_receipts() {
    let o = smpp(&[
        "send",
        "--from",
        "Me",
        "--to",
        "447700900123",
        "--to",
        "447700900124",
        "--text",
        "Hello €",
        "--wait-receipt",
        "10",
    ]);
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    assert_eq!(
        s.lines()
            .filter(|l| l.starts_with("submitted to 4477009001"))
            .count(),
        2,
        "{s}"
    );
    assert!(s.contains("message id(s) 1\n"), "{s}");
    assert!(s.contains("receipt for message id 1: DELIVRD"), "{s}");
    assert!(s.contains("receipt for message id 2: DELIVRD"), "{s}");
}

#[test]
fn send_json_long_ucs2_to_an_smsc() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let text = "привет ".repeat(20); // 140 UCS-2 characters: three segments
    let o = smpp(&[
        "send",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--to",
        "447700900123",
        "--text",
        &text,
        "--encoding",
        "ucs2",
        "--split",
        "udh16",
        "--wait-receipt",
        "10",
        "--ref",
        "order-7",
        "--json",
    ]);
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines.iter().all(|l| valid_json(l)), "{s}");
    assert_eq!(
        lines[0],
        r#"{"event":"submitted","to":"447700900123","reference":"order-7","segments":3,"message_ids":["1","2","3"]}"#
    );
    // A receipt per segment, then one report for the message, then the summary.
    assert_eq!(lines.len(), 6, "{s}");
    assert_eq!(
        lines[5],
        r#"{"event":"summary","messages":1,"submitted":1,"failed":0,"unknown":0,"receipts":{"DELIVRD":1}}"#
    );
    for l in &lines[1..4] {
        assert!(
            l.starts_with(r#"{"event":"receipt","message_id":""#)
                && l.contains(r#""stat":"DELIVRD""#),
            "{l}"
        );
    }
    assert!(
        lines[4].starts_with(
            r#"{"event":"report","reference":"order-7","to":"447700900123","outcome":"delivered","state":"DELIVRD","message_ids":["1","2","3"],"segments":3,"segment_states":["DELIVRD","DELIVRD","DELIVRD"],"segment_errors":["000","000","000"],"submit_date":""#
        ),
        "{}",
        lines[4]
    );
    assert_eq!(smsc.stats().submits, 3);
    let recs = smsc.received();
    assert!(
        recs.iter()
            .filter_map(|r| r.pdu.as_ref())
            .any(|p| matches!(&p.body, smpp_pdu::Body::SubmitSm(s) if s.data_coding == 8 && s.registered_delivery == 1)),
        "UCS-2 with a receipt requested"
    );
}

#[test]
fn send_failures_exit_non_zero() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let o = smpp(&[
        "send",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "wrong",
        "--to",
        "1",
        "--text",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("bind (Transceiver) to"), "{}", err(&o));
    assert!(out(&o).is_empty());

    // A port nobody listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = free.local_addr().expect("addr").to_string();
    drop(free);
    let o = smpp(&[
        "send",
        "--addr",
        &closed,
        "--system-id",
        "a",
        "--password",
        "b",
        "--to",
        "1",
        "--text",
        "x",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).starts_with(r#"{"event":"error","message":"bind"#),
        "{}",
        out(&o)
    );
    assert!(err(&o).contains("refused"), "{}", err(&o));

    // No receipt comes when the SMSC holds it back: a timeout, exit 1.
    let slow = Smsc::start(SmscConfig::default().receipt_delay(Duration::from_secs(30)))
        .expect("SMSC starts");
    let a = slow.local_addr().to_string();
    let o = smpp(&[
        "send",
        "--addr",
        &a,
        "--system-id",
        "x",
        "--password",
        "y",
        "--to",
        "1",
        "--text",
        "x",
        "--wait-receipt",
        "0.5",
        "--ref",
        "late-1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("no final state within 0.5 s for message(s) late-1"),
        "{}",
        err(&o)
    );
    assert!(
        out(&o).contains("report   late-1 to 1: expired, 1 segment(s), message id(s) 1"),
        "{}",
        out(&o)
    );

    // Usage errors exit 2.
    let o = smpp(&["send", "--text", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--to is required"));
    let o = smpp(&[
        "send",
        "--to",
        "1",
        "--text",
        "x",
        "--bind",
        "tx",
        "--wait-receipt",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn listen_prints_mo_and_receipts_as_json() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let child = spawn(&[
        "listen",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--count",
        "2",
        "--timeout",
        "20",
        "--json",
    ]);
    assert!(
        smsc.wait_for(Duration::from_secs(10), |s| s.bound == 1),
        "the listener binds"
    );
    smsc.inject_mo("esme", "447700900123", "12345", "Hi there 👋")
        .expect("MO");
    // A transmitter of the same account submits; its receipt goes to the listener.
    let tx = Client::connect(
        smsc.local_addr(),
        ClientConfig::new(BindKind::Transmitter, "esme", "secret"),
    )
    .expect("bind");
    let ids = tx
        .send_text(
            "Me",
            "447700900124",
            "receipt please",
            &TextOptions::default(),
        )
        .expect("submit");
    let o = finish(child, Duration::from_secs(25), "smpp listen");
    tx.unbind().expect("unbind");
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 2, "{s}");
    assert!(lines.iter().all(|l| valid_json(l)), "{s}");
    let mo = lines
        .iter()
        .find(|l| l.starts_with(r#"{"event":"mo""#))
        .expect("MO line");
    assert!(mo.contains(r#""command":"deliver_sm""#), "{mo}");
    assert!(mo.contains(r#""source_addr":"447700900123""#), "{mo}");
    assert!(mo.contains(r#""destination_addr":"12345""#), "{mo}");
    assert!(mo.contains(r#""text":"Hi there 👋""#), "{mo}");
    let r = lines
        .iter()
        .find(|l| l.starts_with(r#"{"event":"receipt""#))
        .expect("receipt line");
    assert!(
        r.contains(&format!(
            r#""receipt":{{"id":"{}","stat":"DELIVRD","final":true,"#,
            ids[0]
        )),
        "{r}"
    );
    assert_eq!(
        r.matches(r#""receipt":"#).count(),
        1,
        "the parsed receipt once, not a second object under the same key: {r}"
    );
    for key in [
        r#""sub":"001","dlvrd":"001""#,
        r#""submit_date":""#,
        r#""done_date":""#,
        r#""stat":"DELIVRD""#,
        r#""err":""#,
        r#""text":""#,
        r#""message_state":2,"#,
        r#""stat_raw":"DELIVRD""#,
        // Nothing was submitted on the listener: the receipt matches nothing it tracks.
        r#""matched":"unmatched","reference":null"#,
    ] {
        assert!(r.contains(key), "{key} in {r}");
    }
}

#[test]
fn listen_timeout_exits_zero_with_what_arrived() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let started = Instant::now();
    let o = smpp(&[
        "listen",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--bind",
        "trx",
        "--timeout",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).is_empty());
    assert!(started.elapsed() < Duration::from_secs(10));
    // A rejected bind is an error.
    let o = smpp(&[
        "listen",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "nope",
        "--timeout",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("failed"), "{}", err(&o));
}

#[test]
fn bench_reports_throughput_and_latency() {
    let o = smpp(&[
        "bench",
        "--count",
        "2000",
        "--window",
        "20",
        "--connections",
        "2",
        "--json",
    ]);
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 2, "the bench line and the final counters: {s}");
    assert!(lines.iter().all(|l| valid_json(l)), "{s}");
    assert!(s.starts_with(r#"{"event":"bench""#), "{s}");
    let st: serde_json::Value = serde_json::from_str(lines[1]).expect("JSON");
    assert_eq!(st["event"], "stats");
    assert_eq!(st["sent"]["submit_sm"]["ESME_ROK"], 2000);
    assert_eq!(st["sent"]["bind_transmitter"]["ESME_ROK"], 2);
    assert_eq!(st["received"]["submit_sm_resp"]["ESME_ROK"], 2000);
    assert_eq!(st["response_timeouts"], 0);
    assert_eq!(st["in_flight"], 0);
    assert_eq!(st["response_latency"]["count"], 2002);
    assert!(st["response_latency"]["p99_ms"].as_f64().is_some(), "{st}");
    for key in [
        r#""count":2000,"ok":2000,"errors":0,"connections":2,"window":20"#,
        r#""throughput":"#,
        r#""p50_ms":"#,
        r#""p99_ms":"#,
    ] {
        assert!(s.contains(key), "{key} in {s}");
    }
    // Not a terminal here: no progress line.
    assert!(err(&o).is_empty(), "{}", err(&o));

    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let o = smpp(&[
        "bench",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--count",
        "300",
        "--window",
        "8",
    ]);
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    assert!(s.starts_with("300 of 300 submits ok in "), "{s}");
    assert!(
        s.contains("bench stats:\n  sent:     bind_transmitter 1, submit_sm 300\n"),
        "{s}"
    );
    assert!(
        s.contains("  received: bind_transmitter_resp 1, submit_sm_resp 300\n"),
        "{s}"
    );
    assert!(
        s.contains("msg/s, latency p50 ") && s.contains(" ms, p99 "),
        "{s}"
    );
    assert_eq!(smsc.stats().submits, 300);
}

#[test]
fn send_times_out_when_the_bind_is_not_answered() {
    // A peer that accepts the connection and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr").to_string();
    let holder = std::thread::spawn(move || {
        let conn = silent.accept();
        std::thread::sleep(Duration::from_secs(20));
        drop(conn);
    });
    let started = Instant::now();
    let o = smpp(&[
        "send",
        "--addr",
        &addr,
        "--system-id",
        "a",
        "--password",
        "b",
        "--to",
        "1",
        "--text",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("failed"), "{}", err(&o));
    assert!(
        err(&o).to_lowercase().contains("time"),
        "a timeout: {}",
        err(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    drop(holder);
}

/// `smpp smsc ARGS` on a free port (see `common::smsc_child`).
fn smsc_process(args: &[&str]) -> (Child, String) {
    common::smsc_child(args)
}

/// `smpp smsc --stats-every --duration --json` prints its counters while it runs and once
/// at the end; `smpp bench --stats-every` prints the client's while it runs. Both agree
/// with the traffic.
#[test]
fn smsc_and_bench_print_counters_periodically_and_at_the_end() {
    let (server, addr) = smsc_process(&[
        "--user",
        "esme:secret",
        "--receipt-delay-ms",
        "10",
        "--stats-every",
        "0.3",
        "--duration",
        "4",
        "--json",
    ]);
    let o = smpp(&[
        "bench",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--count",
        "500",
        "--window",
        "10",
        "--stats-every",
        "0.05",
        "--json",
    ]);
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    let stats: Vec<serde_json::Value> = s
        .lines()
        .filter(|l| l.contains(r#""event":"stats""#))
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert!(!stats.is_empty(), "{s}");
    let last = stats.last().expect("final counters");
    assert_eq!(last["scope"], "bench");
    assert_eq!(last["sent"]["submit_sm"]["ESME_ROK"], 500);
    assert_eq!(last["received"]["submit_sm_resp"]["ESME_ROK"], 500);
    assert_eq!(last["throttled_retries"], 0);
    // Counters only grow from one snapshot to the next.
    let submitted: Vec<u64> = stats
        .iter()
        .map(|v| v["sent"]["submit_sm"]["ESME_ROK"].as_u64().unwrap_or(0))
        .collect();
    assert!(submitted.windows(2).all(|w| w[0] <= w[1]), "{submitted:?}");

    let o = finish(server, Duration::from_secs(20), "smpp smsc --duration 4");
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    let lines: Vec<serde_json::Value> = s
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert!(
        lines.len() >= 3,
        "periodic counters and the final ones: {s}"
    );
    let last = lines.last().expect("final counters");
    assert_eq!(last["scope"], "smsc");
    assert_eq!(last["received"]["submit_sm"]["ESME_ROK"], 500);
    assert_eq!(last["sent"]["submit_sm_resp"]["ESME_ROK"], 500);
    assert_eq!(last["submits"], 500);
    assert_eq!(last["binds"], 1);
    // The bench bound as a transmitter: receipts wait for a receiver, none went out.
    assert_eq!(last["sent"]["deliver_sm"], serde_json::Value::Null);
    assert_eq!(last["delivers_failed"], 0);
    assert_eq!(last["generic_nacks_sent"], 0);
}

/// `smpp smsc --max-failed-binds 2`: the third bind from this address within the window is
/// refused with ESME_RBINDFAIL, even with the right password.
#[test]
fn smsc_failed_bind_limit_is_configurable() {
    let (server, addr) = smsc_process(&[
        "--user",
        "esme:secret",
        "--max-failed-binds",
        "2",
        "--failed-bind-window",
        "60",
        "--duration",
        "20",
    ]);
    let sock: std::net::SocketAddr = addr.parse().unwrap();
    let bind = |pw: &str| {
        Client::connect(sock, ClientConfig::new(BindKind::Transmitter, "esme", pw))
            .map(|c| c.unbind())
            .err()
            .map(|e| format!("{e:?}"))
    };
    for _ in 0..2 {
        let e = bind("wrong").expect("a wrong password is refused");
        assert!(e.contains("ESME_RINVPASWD"), "{e}");
    }
    let e = bind("secret").expect("locked out");
    assert!(e.contains("ESME_RBINDFAIL"), "{e}");
    let mut server = server;
    let _ = server.kill();
    let _ = server.wait();
}

/// `smpp smsc --user ID:PW:MAXBINDS` limits that account's concurrent binds (the next is
/// refused with ESME_RBINDFAIL); `--max-binds` is the limit of every `--user` without its
/// own; a password with ':' and no MAXBINDS is taken whole.
#[test]
fn smsc_bind_limits_per_user_and_by_default() {
    let (mut server, addr) = smsc_process(&[
        "--user",
        "two:pw:2",
        "--user",
        "many:pw",
        "--user",
        "colon:x:y",
        "--max-binds",
        "20",
        "--duration",
        "30",
    ]);
    let sock: std::net::SocketAddr = addr.parse().unwrap();
    let bind = |id: &str, pw: &str| {
        Client::connect(
            sock,
            ClientConfig::new(BindKind::Transmitter, id, pw)
                .response_timeout(Duration::from_secs(10)),
        )
        .map_err(|e| format!("{e:?}"))
    };
    let result = std::panic::catch_unwind(|| {
        let first = bind("two", "pw").expect("the first bind");
        let second = bind("two", "pw").expect("the second bind");
        let e = bind("two", "pw").expect_err("a third bind is refused");
        assert!(e.contains("ESME_RBINDFAIL"), "{e}");

        let many: Vec<Client> = (0..15)
            .map(|i| bind("many", "pw").unwrap_or_else(|e| panic!("bind {i}: {e}")))
            .collect();
        let colon = bind("colon", "x:y").expect("the password is x:y");
        for c in many.into_iter().chain([first, second, colon]) {
            c.unbind().expect("unbind");
        }
    });
    let _ = server.kill();
    let _ = server.wait();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

#[test]
fn listen_prints_a_long_mo_once_reassembled() {
    let smsc = Smsc::start(
        SmscConfig::default()
            .user(User::new("esme", "secret"))
            .mo_split(smpp_pdu::concat::SplitMethod::Udh8),
    )
    .expect("SMSC starts");
    let addr = smsc.local_addr().to_string();
    let child = spawn(&[
        "listen",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--count",
        "1",
        "--timeout",
        "20",
        "--json",
    ]);
    assert!(
        smsc.wait_for(Duration::from_secs(10), |s| s.bound == 1),
        "the listener binds"
    );
    let text = "A long reply from a handset, in several segments of its own. ".repeat(6);
    smsc.inject_mo("esme", "447700900123", "12345", &text)
        .expect("MO");
    let o = finish(child, Duration::from_secs(25), "smpp listen");
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 1, "one message, not its segments: {s}");
    assert!(valid_json(lines[0]), "{s}");
    assert!(
        lines[0].contains(&format!(
            r#""text":"{text}","segments":3,"concat_reference":"#
        )),
        "{s}"
    );
    assert!(lines[0].contains(r#""source_addr":"447700900123""#), "{s}");
    assert!(
        smsc.wait_for(Duration::from_secs(5), |s| s.delivers_acked == 3),
        "each segment answered"
    );
}

#[test]
fn send_puts_every_field_flag_on_the_wire() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let o = smpp(&[
        "send",
        "--addr",
        &addr,
        "--system-id",
        "esme",
        "--password",
        "secret",
        "--from",
        "MyBrand",
        "--to",
        "+447700900123",
        "--to",
        "447700900124",
        "--dest-ton",
        "2",
        "--dest-npi",
        "9",
        "--text",
        "fields",
        "--ref",
        "camp",
        "--validity",
        "2h",
        "--schedule",
        "261231235959000+",
        "--priority",
        "2",
        "--service-type",
        "CMT",
        "--protocol-id",
        "64",
        "--data-coding",
        "240",
        "--esm-class",
        // Store and forward: transaction mode (0x02) is data_sm only in SMPP 3.4, and the
        // test SMSC refuses it in a submit_sm.
        "0x03",
        "--replace-if-present",
        "--tlv",
        "user_message_reference=002a",
        "--tlv",
        "0x1401=beef",
        "--system-type",
        "VMA",
    ]);
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    assert!(
        smsc.received().iter().any(|r| matches!(
            r.pdu.as_ref().map(|p| &p.body),
            Some(smpp_pdu::Body::BindTransceiver(b)) if b.system_type.to_str_lossy() == "VMA"
        )),
        "the bind carries --system-type"
    );
    assert!(
        s.contains("(reference camp-1)") && s.contains("(reference camp-2)"),
        "{s}"
    );
    let submits: Vec<smpp_pdu::SubmitSm<'static>> = smsc
        .received()
        .into_iter()
        .filter_map(|r| match r.pdu.map(|p| p.body) {
            Some(smpp_pdu::Body::SubmitSm(s)) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(submits.len(), 2);
    for sm in &submits {
        assert_eq!(
            (sm.source_addr_ton, sm.source_addr_npi),
            (5, 0),
            "alphanumeric sender"
        );
        assert_eq!(sm.source_addr.to_str_lossy(), "MyBrand");
        assert_eq!(sm.validity_period.as_bytes(), b"000000020000000R");
        assert_eq!(sm.schedule_delivery_time.as_bytes(), b"261231235959000+");
        assert_eq!(sm.priority_flag, 2);
        assert_eq!(sm.service_type.to_str_lossy(), "CMT");
        assert_eq!(sm.protocol_id, 64);
        assert_eq!(sm.data_coding, 240);
        assert_eq!(sm.esm_class, 0x03);
        assert_eq!(sm.replace_if_present_flag, 1);
        assert!(
            sm.tlvs.contains(&smpp_pdu::Tlv::UserMessageReference(42)),
            "{:?}",
            sm.tlvs
        );
        assert!(
            sm.tlvs.iter().any(|t| t.tag() == smpp_pdu::Tag(0x1401)),
            "{:?}",
            sm.tlvs
        );
    }
    // Explicit --dest-ton/--dest-npi win over the automatic choice, address as given.
    assert_eq!((submits[0].dest_addr_ton, submits[0].dest_addr_npi), (2, 9));
    assert_eq!(submits[0].destination_addr.to_str_lossy(), "+447700900123");
    assert_eq!(submits[1].destination_addr.to_str_lossy(), "447700900124");

    // A bad value names its flag and exits 2.
    for (flag, value) in [
        ("--validity", "soon"),
        ("--priority", "9"),
        ("--tlv", "nonsense=00"),
        ("--service-type", "TOOLONG"),
    ] {
        let o = smpp(&["send", "--to", "1", "--text", "x", flag, value]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        assert!(err(&o).contains(flag), "{flag}: {}", err(&o));
    }
}

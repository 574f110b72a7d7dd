//! The test SMSC over 127.0.0.1, with `smpp-client` as the ESME: what needs the running
//! SMSC (its log file, many concurrent clients, misbehaving TCP peers). Its logic (binds,
//! ids, receipts, MO, throttling, query/cancel/replace) is tested on the virtual clock in
//! `core.rs`, `core_ops.rs` and `logic.rs`. Every wait is bounded.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use smpp_client::{Client, ClientConfig, Error};
use smpp_pdu::{CommandId, SubmitSm};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig, User};

mod json_check;
use json_check::valid_json;

/// Upper bound for anything a test waits for.
const WAIT: Duration = Duration::from_secs(10);

fn init() {
    let _ = env_logger::builder().is_test(true).try_init();
}

fn smsc(config: SmscConfig) -> Smsc {
    init();
    Smsc::start(config).expect("SMSC starts")
}

fn users() -> SmscConfig {
    SmscConfig::default()
        .user(User::new("alice", "secret"))
        .user(User::new("bob", "pw").bind_kinds(&[BindKind::Transmitter]))
        .user(User::new("carol", "pw").max_binds(1))
}

fn connect(s: &Smsc, kind: BindKind, id: &str, pw: &str) -> Result<Client, Error> {
    let cfg = ClientConfig::new(kind, id, pw)
        // These tests exercise the SMSC: the client passes receipts on untracked.
        .track(false)
        .response_timeout(Duration::from_secs(5));
    Client::connect(s.local_addr(), cfg)
}

fn sm(text: &str, registered_delivery: u8) -> SubmitSm<'static> {
    SubmitSm {
        source_addr: "12345".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        registered_delivery,
        short_message: text.to_string().into(),
        ..Default::default()
    }
}

#[test]
fn json_checker_works() {
    assert!(valid_json(r#"{"a":1,"b":[true,null,"x\"y"],"c":{}}"#));
    assert!(!valid_json(r#"{"a":1,}"#));
    assert!(!valid_json(r#"{"a":"b"#));
}

#[test]
fn received_pdus_are_logged_as_json_lines() {
    // Real sockets: the running Smsc writes its JSON-lines log file as PDUs arrive.
    let path = std::env::temp_dir().join(format!("smpp-smsc-log-{}.jsonl", std::process::id()));
    let s = smsc(
        users()
            .log_path(&path)
            .receipt_delay(Duration::from_millis(10)),
    );
    let c = connect(&s, BindKind::Transceiver, "alice", "secret").unwrap();
    c.submit(&sm("log \"me\"\n", 1)).unwrap();
    let _ = c.inbound().recv_timeout(WAIT).expect("receipt");
    assert!(s.wait_for(WAIT, |st| st.delivers_acked == 1));
    c.unbind().unwrap();
    assert!(s.wait_for(WAIT, |st| st.unbinds == 1));
    let records = s.received();
    s.shutdown();
    let text = std::fs::read_to_string(&path).expect("the log exists");
    let _ = std::fs::remove_file(&path);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), records.len());
    let commands: Vec<&str> =
        ["bind_transceiver", "submit_sm", "deliver_sm_resp", "unbind"].to_vec();
    for (line, want) in lines.iter().zip(&commands) {
        assert!(valid_json(line), "not JSON: {line}");
        assert!(
            line.contains(&format!(r#""command":"{want}""#)),
            "{line} should be {want}"
        );
        for key in [
            "\"time_ms\":",
            "\"conn\":",
            "\"system_id\":\"alice\"",
            "\"command_status\":\"ESME_ROK\"",
            "\"sequence_number\":",
        ] {
            assert!(line.contains(key), "{line} lacks {key}");
        }
        assert!(!line.contains("secret"));
    }
    let submit = lines[1];
    for key in [
        "\"source_addr\":\"12345\"",
        "\"destination_addr\":\"447700900123\"",
        "\"registered_delivery\":1",
        "\"short_message\":\"6c6f672022",
        "\"tlvs\":[]",
    ] {
        assert!(submit.contains(key), "{submit} lacks {key}");
    }
}

#[test]
fn fifty_concurrent_clients() {
    // Real sockets and threads: fifty clients at once through the transport.
    let s = smsc(
        SmscConfig::default()
            .user(User::new("load", "pw").max_binds(100))
            .receipt_delay(Duration::from_millis(10)),
    );
    let addr = s.local_addr();
    let threads: Vec<_> = (0..50)
        .map(|i| {
            std::thread::spawn(move || {
                let cfg = ClientConfig::new(BindKind::Transceiver, "load", "pw")
                    // These tests exercise the SMSC: the client passes receipts on untracked.
                    .track(false)
                    .response_timeout(Duration::from_secs(10));
                let c = Client::connect(addr, cfg).expect("bind");
                let mut ids = Vec::new();
                for j in 0..5 {
                    let r = c.submit(&sm(&format!("c{i} m{j}"), 1)).expect("submit");
                    ids.push(r.message_id.to_str_lossy().into_owned());
                }
                // Receipts go to a receiving session of the same system_id: this one, or
                // any other "load" session, so just count what arrives here.
                let mut receipts = 0;
                while let Ok(inbound) = c.inbound().recv_timeout(Duration::from_millis(300)) {
                    assert!(inbound.receipt().is_some());
                    receipts += 1;
                }
                c.unbind().expect("unbind");
                (ids, receipts)
            })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut receipts = 0;
    for t in threads {
        let (i, r) = t.join().expect("client thread");
        ids.extend(i);
        receipts += r;
    }
    assert_eq!(ids.len(), 250, "every id unique");
    let st = s.stats();
    assert_eq!(st.binds, 50);
    assert_eq!(st.submits, 250);
    assert_eq!(st.receipts_sent, 250);
    assert_eq!(receipts, 250);
    assert!(s.wait_for(WAIT, |st| st.open_connections == 0));
    s.shutdown();
}

#[test]
fn a_misbehaving_peer_does_not_stop_the_others() {
    // Real sockets: raw garbage and a silent TCP peer must not stall the others.
    let s = smsc(users());
    // A peer that sends garbage, and one that connects and says nothing.
    let mut garbage = TcpStream::connect(s.local_addr()).unwrap();
    garbage
        .write_all(&[0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 1])
        .unwrap();
    let _silent = TcpStream::connect(s.local_addr()).unwrap();
    let c = connect(&s, BindKind::Transceiver, "alice", "secret").unwrap();
    c.submit(&sm("still here", 0)).expect("served");
    // The garbage peer got a generic_nack and was dropped.
    garbage
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = Vec::new();
    let _ = garbage.read_to_end(&mut buf);
    assert!(buf.len() >= 16, "a generic_nack before the close");
    assert_eq!(&buf[4..8], &CommandId::GENERIC_NACK.0.to_be_bytes());
    c.submit(&sm("still here", 0)).expect("served");
    c.unbind().unwrap();
    s.shutdown();
}

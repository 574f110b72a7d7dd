//! The test SMSC over 127.0.0.1, with `smpp-client` as the ESME. Every wait is bounded.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig, Error, TextOptions};
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    Body, CancelSm, CommandId, CommandStatus, DataSm, DestAddress, QuerySm, ReplaceSm, SubmitMulti,
    SubmitSm,
};
use smpp_session::BindKind;
use smpp_smsc::{IdFormat, Smsc, SmscConfig, SmscError, User};

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

fn rejected(r: Result<Client, Error>) -> CommandStatus {
    match r {
        Err(Error::BindRejected(s)) => s,
        Err(e) => panic!("expected a bind rejection, got {e}"),
        Ok(_) => panic!("expected a bind rejection, the bind succeeded"),
    }
}

#[test]
fn binds_are_checked_against_users() {
    let s = smsc(users());
    let addr = s.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(
        rejected(connect(&s, BindKind::Transceiver, "mallory", "secret")),
        CommandStatus::ESME_RINVSYSID
    );
    assert_eq!(
        rejected(connect(&s, BindKind::Transceiver, "alice", "wrong")),
        CommandStatus::ESME_RINVPASWD
    );
    assert_eq!(
        rejected(connect(&s, BindKind::Receiver, "bob", "pw")),
        CommandStatus::ESME_RBINDFAIL,
        "bob may only bind as a transmitter"
    );
    let bob = connect(&s, BindKind::Transmitter, "bob", "pw").expect("bob binds tx");
    let carol = connect(&s, BindKind::Transceiver, "carol", "pw").expect("carol binds once");
    assert_eq!(
        rejected(connect(&s, BindKind::Transceiver, "carol", "pw")),
        CommandStatus::ESME_RBINDFAIL,
        "carol may bind once at a time"
    );
    carol.unbind().expect("carol unbinds");
    assert!(s.wait_for(WAIT, |st| st.bound == 1));
    let carol = connect(&s, BindKind::Transceiver, "carol", "pw").expect("carol binds again");
    let st = s.stats();
    assert_eq!(st.binds, 3);
    assert_eq!(st.bind_rejects, 4);
    assert_eq!(st.unbinds, 1);
    carol.unbind().unwrap();
    bob.unbind().unwrap();
    // Bind records carry the system_id but never the password.
    let binds: Vec<_> = s
        .received()
        .into_iter()
        .filter(|r| r.command_id == CommandId::BIND_TRANSCEIVER)
        .collect();
    assert!(binds.len() >= 4);
    for r in &binds {
        assert!(!r.to_json().contains("secret"), "{}", r.to_json());
    }
    let started = Instant::now();
    s.shutdown();
    assert!(started.elapsed() < WAIT);
}

#[test]
fn any_bind_is_accepted_without_users() {
    let s = smsc(SmscConfig::default());
    let c = connect(&s, BindKind::Transceiver, "whoever", "x").expect("binds");
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn submits_get_unique_ids_and_receipts() {
    let s = smsc(users().receipt_delay(Duration::from_millis(50)));
    let c = connect(&s, BindKind::Transceiver, "alice", "secret").unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = c.submit(&sm(&format!("Hello {i}"), 1)).expect("submit");
        ids.push(r.message_id.to_str_lossy().into_owned());
    }
    assert_eq!(ids, ["1", "2", "3", "4", "5"], "decimal ids from 1");
    let mut got = HashSet::new();
    let end = Instant::now() + WAIT;
    while got.len() < ids.len() && Instant::now() < end {
        let Ok(inbound) = c.inbound().recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let receipt = inbound.receipt().expect("a receipt").clone();
        assert_eq!(receipt.state, ReceiptState::Delivered);
        assert!(receipt.submit_date.is_some() && receipt.done_date.is_some());
        let Body::DeliverSm(d) = &inbound.pdu().expect("a PDU").body else {
            panic!("not a deliver_sm: {:?}", inbound.pdu())
        };
        assert_eq!(d.esm_class, 0x04);
        assert_eq!(d.destination_addr.to_str_lossy(), "12345");
        assert_eq!(d.source_addr.to_str_lossy(), "447700900123");
        assert!(d
            .tlvs
            .iter()
            .any(|t| matches!(t, Tlv::ReceiptedMessageId(id) if id.to_str_lossy() == receipt.id)));
        assert!(d.tlvs.iter().any(|t| matches!(t, Tlv::MessageState(2))));
        let text = String::from_utf8_lossy(d.short_message.as_bytes()).into_owned();
        assert!(text.contains("text:Hello "), "{text}");
        got.insert(receipt.id);
    }
    assert_eq!(got, ids.iter().cloned().collect::<HashSet<_>>());
    // No receipt without registered_delivery.
    c.submit(&sm("quiet", 0)).unwrap();
    assert!(s.wait_for(WAIT, |st| st.delivers_acked == 5));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(s.stats().receipts_sent, 5);
    assert_eq!(s.stats().submits, 6);
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn hex_ids_final_state_and_a_separate_receiver() {
    let s = smsc(
        users()
            .id_format(IdFormat::Hex)
            .receipt_state(ReceiptState::Undeliverable)
            .receipt_delay(Duration::from_millis(20)),
    );
    let tx = connect(&s, BindKind::Transmitter, "alice", "secret").unwrap();
    let rx = connect(&s, BindKind::Receiver, "alice", "secret").unwrap();
    let other = connect(&s, BindKind::Receiver, "carol", "pw").unwrap();
    let id = tx.submit(&sm("to the receiver", 1)).unwrap().message_id;
    let id = id.to_str_lossy().into_owned();
    assert_eq!(id, "00000001");
    let inbound = rx.inbound().recv_timeout(WAIT).expect("receipt on the rx");
    let receipt = inbound.receipt().expect("a receipt");
    assert_eq!(receipt.id, id);
    assert_eq!(receipt.state, ReceiptState::Undeliverable);
    assert!(
        other
            .inbound()
            .recv_timeout(Duration::from_millis(200))
            .is_err(),
        "another system_id gets nothing"
    );
    tx.unbind().unwrap();
    rx.unbind().unwrap();
    other.unbind().unwrap();
    s.shutdown();
}

#[test]
fn long_unicode_text_gets_one_receipt_per_segment() {
    let s = smsc(users().receipt_delay(Duration::from_millis(10)));
    let c = connect(&s, BindKind::Transceiver, "alice", "secret").unwrap();
    let text = "Grüße aus Köln 😀 ".repeat(10);
    let ids = c
        .send_text("Brand", "447700900123", &text, &TextOptions::default())
        .unwrap();
    assert!(ids.len() > 1);
    let mut got = HashSet::new();
    while got.len() < ids.len() {
        let inbound = c.inbound().recv_timeout(WAIT).expect("a receipt");
        got.insert(inbound.receipt().expect("receipt").id.clone());
    }
    assert_eq!(got, ids.into_iter().collect::<HashSet<_>>());
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn injected_mo_messages_arrive() {
    let s = smsc(users());
    match s.inject_mo("alice", "447700900123", "12345", "nobody") {
        Err(SmscError::NoReceiver(id)) => assert_eq!(id, "alice"),
        other => panic!("expected NoReceiver, got {other:?}"),
    }
    let tx = connect(&s, BindKind::Transmitter, "bob", "pw").unwrap();
    assert!(matches!(
        s.inject_mo("bob", "1", "2", "x"),
        Err(SmscError::NoReceiver(_))
    ));
    let c = connect(&s, BindKind::Transceiver, "alice", "secret").unwrap();
    s.inject_mo("alice", "447700900123", "12345", "Hi there")
        .expect("injected");
    s.inject_mo("alice", "447700900123", "12345", "Grüße 😀")
        .expect("injected");
    for want in ["Hi there", "Grüße 😀"] {
        let inbound = c.inbound().recv_timeout(WAIT).expect("the MO");
        assert!(inbound.receipt().is_none());
        assert_eq!(inbound.text(), Some(want));
        let Body::DeliverSm(d) = &inbound.pdu().expect("a PDU").body else {
            panic!("not a deliver_sm")
        };
        assert_eq!(d.source_addr.to_str_lossy(), "447700900123");
        assert_eq!(d.destination_addr.to_str_lossy(), "12345");
    }
    assert!(s.wait_for(WAIT, |st| st.mo_sent == 2 && st.delivers_acked == 2));
    let resp = s
        .received()
        .into_iter()
        .filter(|r| r.command_id == CommandId::DELIVER_SM_RESP)
        .count();
    assert_eq!(resp, 2, "deliver_sm_resp are recorded");
    c.unbind().unwrap();
    tx.unbind().unwrap();
    s.shutdown();
}

#[test]
fn submits_above_the_cap_are_throttled() {
    let s = smsc(users().max_submits_per_second(5));
    let c = connect(&s, BindKind::Transmitter, "alice", "secret").unwrap();
    let (mut ok, mut throttled) = (0, 0);
    let started = Instant::now();
    for i in 0..20 {
        match c.submit(&sm(&format!("m{i}"), 0)) {
            Ok(_) => ok += 1,
            Err(Error::Status(CommandStatus::ESME_RTHROTTLED)) => throttled += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!(ok, 5);
        assert_eq!(throttled, 15);
    } else {
        // A slow machine: the window may have moved on.
        assert!(throttled > 0 && ok >= 5);
    }
    assert_eq!(s.stats().throttled, throttled);
    std::thread::sleep(Duration::from_millis(1100));
    c.submit(&sm("after a second", 0))
        .expect("accepted again after a second");
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn other_requests_are_answered() {
    let s = smsc(users().receipt_delay(Duration::from_secs(60)));
    let c = connect(&s, BindKind::Transceiver, "alice", "secret").unwrap();
    let id = c.submit(&sm("pending", 1)).unwrap().message_id;
    let id = id.to_str_lossy().into_owned();
    let q = c
        .query(&QuerySm {
            message_id: id.clone().into(),
            source_addr: "12345".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.message_state, 1, "en route until its receipt");
    c.replace(&ReplaceSm {
        message_id: id.clone().into(),
        source_addr: "12345".into(),
        short_message: "replaced".into(),
        ..Default::default()
    })
    .expect("replace");
    c.cancel(&CancelSm {
        message_id: id.clone().into(),
        source_addr: "12345".into(),
        ..Default::default()
    })
    .expect("cancel");
    let q = c
        .query(&QuerySm {
            message_id: id.clone().into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.message_state, 4, "deleted");
    assert!(matches!(
        c.cancel(&CancelSm {
            message_id: id.clone().into(),
            ..Default::default()
        }),
        Err(Error::Status(CommandStatus::ESME_RCANCELFAIL))
    ));
    assert!(matches!(
        c.query(&QuerySm {
            message_id: "nope".into(),
            ..Default::default()
        }),
        Err(Error::Status(CommandStatus::ESME_RQUERYFAIL))
    ));
    assert!(matches!(
        c.replace(&ReplaceSm {
            message_id: "nope".into(),
            ..Default::default()
        }),
        Err(Error::Status(CommandStatus::ESME_RREPLACEFAIL))
    ));
    let d = c
        .data_sm(&DataSm {
            source_addr: "12345".into(),
            destination_addr: "447700900123".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(d.message_id.to_str_lossy(), "2");
    let m = c
        .submit_multi(&SubmitMulti {
            source_addr: "12345".into(),
            dest_addresses: vec![DestAddress::SmeAddress {
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "447700900123".into(),
            }],
            short_message: "multi".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(m.message_id.to_str_lossy(), "3");
    assert!(
        c.inbound()
            .recv_timeout(Duration::from_millis(200))
            .is_err(),
        "the cancelled message gets no receipt"
    );
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn json_checker_works() {
    assert!(valid_json(r#"{"a":1,"b":[true,null,"x\"y"],"c":{}}"#));
    assert!(!valid_json(r#"{"a":1,}"#));
    assert!(!valid_json(r#"{"a":"b"#));
}

#[test]
fn received_pdus_are_logged_as_json_lines() {
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

#[test]
fn receipts_wait_for_a_receiver_then_give_up() {
    let s = smsc(
        users()
            .receipt_delay(Duration::from_millis(10))
            .receipt_hold(Duration::from_millis(800)),
    );
    let tx = connect(&s, BindKind::Transmitter, "alice", "secret").unwrap();
    let first = tx.submit(&sm("first", 1)).unwrap().message_id;
    std::thread::sleep(Duration::from_millis(200));
    // A receiver that binds after the receipt was due still gets it.
    let rx = connect(&s, BindKind::Receiver, "alice", "secret").unwrap();
    let inbound = rx.inbound().recv_timeout(WAIT).expect("the held receipt");
    assert_eq!(inbound.receipt().unwrap().id, first.to_str_lossy());
    rx.unbind().unwrap();
    // With no receiver at all, the receipt is dropped once the hold is over.
    tx.submit(&sm("second", 1)).unwrap();
    assert!(s.wait_for(WAIT, |st| st.receipts_dropped == 1));
    assert_eq!(s.stats().receipts_sent, 1);
    tx.unbind().unwrap();
    s.shutdown();
}

#[test]
fn registered_delivery_2_asks_for_failure_receipts_only() {
    for (state, wanted) in [
        (ReceiptState::Delivered, false),
        (ReceiptState::Undeliverable, true),
    ] {
        let s = smsc(
            users()
                .receipt_state(state.clone())
                .receipt_delay(Duration::from_millis(10)),
        );
        let c = connect(&s, BindKind::Transceiver, "alice", "secret").unwrap();
        c.submit(&sm("failure only", 2)).unwrap();
        let got = c.inbound().recv_timeout(Duration::from_millis(500));
        assert_eq!(got.is_ok(), wanted, "{state:?}");
        if let Ok(inbound) = got {
            assert_eq!(inbound.receipt().unwrap().state, state);
        }
        c.unbind().unwrap();
        s.shutdown();
    }
}

/// Found by the interop run (docs/interop.md): the receipt's `text:` part was the original
/// text in UTF-8 under `data_coding` 0, so a UCS-2 message gave octets above 0x7F that are
/// not GSM at all, and `@` or `$` read differently as GSM and as ASCII.
#[test]
fn receipt_text_is_the_same_read_as_gsm_or_as_ascii() {
    let s = smsc(users().receipt_delay(Duration::from_millis(10)));
    let c = connect(&s, BindKind::Transceiver, "alice", "secret").unwrap();
    let options = TextOptions {
        encoding: Some(smpp_pdu::text::Encoding::Ucs2),
        ..TextOptions::default()
    };
    c.send_text("Brand", "447700900123", "Привет @$_ ok", &options)
        .unwrap();
    let inbound = c.inbound().recv_timeout(WAIT).expect("a receipt");
    let Body::DeliverSm(d) = &inbound.pdu().expect("a PDU").body else {
        panic!(
            "expected a deliver_sm, got {:?}",
            inbound.pdu().expect("a PDU").body
        )
    };
    assert_eq!(d.data_coding, 0);
    let octets = d.short_message.as_bytes();
    let as_ascii = std::str::from_utf8(octets).expect("ASCII");
    assert!(octets.iter().all(|b| b.is_ascii()), "{as_ascii}");
    let as_gsm = smpp_pdu::text::decode(octets, smpp_pdu::text::Encoding::Gsm7).unwrap();
    assert_eq!(as_gsm, as_ascii);
    assert_eq!(
        inbound.receipt().unwrap().text.as_deref(),
        Some("?????? ??? ok")
    );
    c.unbind().unwrap();
    s.shutdown();
}

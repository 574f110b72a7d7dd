//! Passwords never appear in logs, `Debug` or `Display`: full sessions (plaintext and TLS:
//! bind with a known password, submit, receipt, unbind) and a bind refused for a wrong
//! password run with a logger that captures every record at trace level, and the captured
//! text, the PDU log file, the SMSC's records and the `Debug`/`Display` of every public type
//! that holds a password are searched for both passwords.
//!
//! One test in this binary: the logger is process-wide.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use log::{LevelFilter, Log, Metadata, Record};
use smpp_client::{Client, ClientConfig, Error, TextOptions};
use smpp_pdu::{BindReceiver, BindTransceiver, BindTransmitter, Body, CommandStatus, Outbind, Pdu};
use smpp_session::{BindKind, BindRequest, Session};
use smpp_smsc::{Smsc, SmscConfig, User};

mod pki;

/// The account's password (eight characters: the most a bind carries).
const PASSWORD: &str = "Pw-7q2Xz";
/// A wrong password a client tries.
const WRONG: &str = "Wr-9k4Lm";

/// Every log record, formatted as a logger would write it.
struct Capture(Mutex<Vec<String>>);

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, r: &Record<'_>) {
        let line = format!("{} {} {}", r.level(), r.target(), r.args());
        if let Ok(mut lines) = self.0.lock() {
            lines.push(line);
        }
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "the password shows in {what}: {text}"
    );
    assert!(
        !text.contains(WRONG),
        "the wrong password shows in {what}: {text}"
    );
}

/// Binds with the password, submits a text asking for a receipt, waits for it, unbinds.
fn full_session(client: Client) {
    let ids = client
        .send_text(
            "12345",
            "447700900123",
            "secret-free text",
            &TextOptions::default(),
        )
        .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let inbound = client.inbound().recv_timeout(left).expect("a receipt");
        if inbound.receipt().is_some_and(|r| ids.contains(&r.id)) {
            break;
        }
    }
    assert_clean("the client's Debug", &format!("{client:?}"));
    client.unbind().unwrap();
}

#[test]
fn passwords_never_appear_in_logs_debug_or_display() {
    // Real sockets: captures the logs of real sessions (plaintext and TLS).
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(LevelFilter::Trace);

    let dir = std::env::temp_dir().join(format!("smpp-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pdu_log = dir.join("pdus.jsonl");
    let p = pki::pki(&["127.0.0.1"]);
    let base = SmscConfig::default()
        .user(User::new("alice", PASSWORD))
        .receipt_delay(Duration::from_millis(20));
    let plain = Smsc::start(base.clone().log_path(&pdu_log)).unwrap();
    let tls_config = base.tls(p.cert.as_bytes(), p.key.as_bytes()).unwrap();
    assert_clean("SmscConfig's Debug", &format!("{tls_config:?}"));
    let tls = Smsc::start(tls_config).unwrap();

    let config = |pw: &str| {
        ClientConfig::new(BindKind::Transceiver, "alice", pw)
            // These tests exercise the SMSC: the client passes receipts on untracked.
            .track(false)
            .response_timeout(Duration::from_secs(5))
    };
    let ca = smpp_client::TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    assert_clean(
        "ClientConfig's Debug",
        &format!("{:?}", config(PASSWORD).tls(ca.clone())),
    );

    // Full sessions, plaintext and TLS.
    full_session(Client::connect(plain.local_addr(), config(PASSWORD)).unwrap());
    full_session(Client::connect(tls.local_addr(), config(PASSWORD).tls(ca.clone())).unwrap());

    // A wrong password, both ways.
    for (addr, cfg) in [
        (plain.local_addr(), config(WRONG)),
        (tls.local_addr(), config(WRONG).tls(ca)),
    ] {
        match Client::connect(addr, cfg) {
            Err(e @ Error::BindRejected(CommandStatus::ESME_RINVPASWD)) => {
                assert_clean("the bind error", &format!("{e} {e:?}"));
            }
            other => panic!("expected ESME_RINVPASWD, got {:?}", other.map(|_| ())),
        }
    }

    // What the SMSC kept: its records (Debug and JSON) and the PDU log file.
    let records = plain.received();
    assert!(records
        .iter()
        .any(|r| r.command_id == smpp_pdu::CommandId::BIND_TRANSCEIVER));
    for r in &records {
        assert_clean("an SMSC record", &format!("{r:?} {}", r.to_json()));
    }
    plain.shutdown();
    tls.shutdown();
    let file = std::fs::read_to_string(&pdu_log).unwrap();
    assert!(file.contains("bind_transceiver"), "{file}");
    assert_clean("the PDU log file", &file);
    let _ = std::fs::remove_dir_all(&dir);

    // Every public type that holds a password.
    let request = BindRequest::new(BindKind::Transmitter, "alice", PASSWORD);
    assert_clean("BindRequest's Debug", &format!("{request:?}"));
    let user = User::new("alice", PASSWORD);
    assert_clean("User's Debug", &format!("{user:?}"));
    let bodies = [
        Body::from(BindTransmitter {
            system_id: "alice".into(),
            password: PASSWORD.into(),
            ..Default::default()
        }),
        Body::from(BindReceiver {
            system_id: "alice".into(),
            password: PASSWORD.into(),
            ..Default::default()
        }),
        Body::from(BindTransceiver {
            system_id: "alice".into(),
            password: PASSWORD.into(),
            ..Default::default()
        }),
        Body::from(Outbind {
            system_id: "smsc".into(),
            password: PASSWORD.into(),
            ..Default::default()
        }),
    ];
    for body in bodies {
        let pdu = Pdu::new(1, body);
        assert_clean("a bind PDU's Debug", &format!("{pdu:?} {pdu:#?}"));
        // The encoded PDU does carry it (so the check above can fail).
        let mut wire = Vec::new();
        pdu.encode(&mut wire).unwrap();
        assert!(wire
            .windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes()));
    }
    // The session's events: an SMSC session reading a bind; an ESME reading an outbind.
    let now = Instant::now();
    let mut esme = Session::esme(smpp_session::Config::default(), now);
    esme.bind(now, BindRequest::new(BindKind::Receiver, "alice", PASSWORD))
        .unwrap();
    let mut wire = Vec::new();
    while esme.poll_transmit(&mut wire).is_some() {}
    let mut smsc = Session::smsc(smpp_session::Config::default(), now);
    smsc.handle_input(now, &wire);
    let mut events = 0;
    while let Some(ev) = smsc.poll_event() {
        events += 1;
        assert_clean("a session event's Debug", &format!("{ev:?}"));
    }
    assert!(events > 0);
    let mut outbind = Vec::new();
    Pdu::new(
        1,
        Body::from(Outbind {
            system_id: "smsc".into(),
            password: PASSWORD.into(),
            ..Default::default()
        }),
    )
    .encode(&mut outbind)
    .unwrap();
    let mut esme = Session::esme(smpp_session::Config::default(), now);
    esme.handle_input(now, &outbind);
    while let Some(ev) = esme.poll_event() {
        events += 1;
        assert_clean("a session event's Debug", &format!("{ev:?}"));
    }
    assert!(events > 1);

    // And the log of all of it, at trace level.
    let lines = CAPTURE.0.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.starts_with("TRACE")),
        "nothing at trace level captured"
    );
    assert!(
        lines.iter().any(|l| l.contains("bound")),
        "no bind was logged: {lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("TLS handshake")),
        "no TLS log: {lines:#?}"
    );
    assert_clean("the log", &lines.join("\n"));
}

//! The test SMSC serving TLS over 127.0.0.1 with `smpp-client` as the ESME, certificates
//! generated at test time: bind, submit, receipt and unbind; a refused certificate and a
//! plaintext client get clear errors, and the SMSC keeps serving. Every wait is bounded.
#![cfg(feature = "tls")]

use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig, Error, TextOptions, TlsClientConfig};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig, TlsError, User};
use smpp_transport::TransportError;

mod pki;
use pki::{pki, Pki};

const WAIT: Duration = Duration::from_secs(10);

fn tls_smsc(p: &Pki) -> Smsc {
    let _ = env_logger::builder().is_test(true).try_init();
    let config = SmscConfig::default()
        .user(User::new("alice", "secret"))
        .receipt_delay(Duration::from_millis(20))
        .tls(p.cert.as_bytes(), p.key.as_bytes())
        .unwrap();
    Smsc::start(config).unwrap()
}

fn config(tls: Option<TlsClientConfig>) -> ClientConfig {
    let c = ClientConfig::new(BindKind::Transceiver, "alice", "secret")
        // These tests exercise the SMSC: the client passes receipts on untracked.
        .track(false)
        .response_timeout(Duration::from_secs(5));
    match tls {
        Some(t) => c.tls(t),
        None => c,
    }
}

/// Binds over TLS, submits three texts asking for receipts, waits for each receipt, unbinds.
fn full_session(s: &Smsc, tls: TlsClientConfig) {
    let client = Client::connect(s.local_addr(), config(Some(tls))).unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let options = TextOptions::default();
        ids.extend(
            client
                .send_text("12345", "447700900123", &format!("hello {i}"), &options)
                .unwrap(),
        );
    }
    assert_eq!(ids.len(), 3);
    let end = Instant::now() + WAIT;
    let mut receipts = Vec::new();
    while receipts.len() < ids.len() {
        let left = end.saturating_duration_since(Instant::now());
        let inbound = client
            .inbound()
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{} of {} receipts", receipts.len(), ids.len()));
        if let Some(r) = inbound.receipt() {
            receipts.push(r.id.clone());
        }
    }
    receipts.sort();
    ids.sort();
    assert_eq!(receipts, ids);
    client.unbind().unwrap();
}

#[test]
fn bind_submit_receipt_unbind_over_tls() {
    let p = pki(&["127.0.0.1", "smsc.test"]);
    let s = tls_smsc(&p);
    let ca = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    full_session(&s, ca.clone());
    // By host name too.
    full_session(&s, ca.server_name("smsc.test"));
    let stats = s.stats();
    assert_eq!(stats.connections, 2);
    s.shutdown();
}

#[test]
fn refused_certificate_and_plaintext_client_get_clear_errors_and_the_smsc_keeps_serving() {
    let p = pki(&["127.0.0.1"]);
    let s = tls_smsc(&p);

    // A CA that did not sign the SMSC's certificate.
    let other = pki(&["127.0.0.1"]);
    let untrusted = TlsClientConfig::with_ca_pem(other.ca.as_bytes()).unwrap();
    match Client::connect(s.local_addr(), config(Some(untrusted))) {
        Err(Error::Connect(TransportError::Tls(TlsError::Certificate(why)))) => {
            assert!(why.contains("UnknownIssuer"), "{why}")
        }
        other => panic!("expected a certificate error, got {:?}", other.map(|_| ())),
    }

    // A plaintext client on the TLS port: the bind goes out in clear, the SMSC's TLS stack
    // answers with an alert, and the client says the peer speaks TLS.
    let start = Instant::now();
    match Client::connect(s.local_addr(), config(None)) {
        Err(e @ Error::Connect(TransportError::Tls(TlsError::UnexpectedTls))) => {
            assert!(e.to_string().contains("connect with TLS"), "{e}");
        }
        other => panic!("expected UnexpectedTls, got {:?}", other.map(|_| ())),
    }
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );

    // A TLS client on a plaintext SMSC.
    let plain = Smsc::start(SmscConfig::default()).unwrap();
    let ca = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    match Client::connect(plain.local_addr(), config(Some(ca.clone()))) {
        Err(e @ Error::Connect(TransportError::Tls(TlsError::ClosedDuringHandshake))) => {
            assert!(e.to_string().contains("plaintext"), "{e}");
        }
        other => panic!(
            "expected ClosedDuringHandshake, got {:?}",
            other.map(|_| ())
        ),
    }
    plain.shutdown();

    // None of that got to the SMSC logic, which still serves a good client.
    assert_eq!(s.stats().connections, 0);
    full_session(&s, ca);
    assert_eq!(s.stats().connections, 1);
    s.shutdown();
}

#[test]
fn bad_certificate_files_are_refused_at_configuration() {
    let p = pki(&["127.0.0.1"]);
    match SmscConfig::default().tls(p.key.as_bytes(), p.key.as_bytes()) {
        Err(TlsError::Config(why)) => assert!(why.contains("certificate chain"), "{why}"),
        other => panic!(
            "expected a configuration error, got {:?}",
            other.map(|_| ())
        ),
    }
    match SmscConfig::default().tls(p.cert.as_bytes(), b"") {
        Err(TlsError::Config(why)) => assert!(why.contains("private key"), "{why}"),
        other => panic!(
            "expected a configuration error, got {:?}",
            other.map(|_| ())
        ),
    }
}

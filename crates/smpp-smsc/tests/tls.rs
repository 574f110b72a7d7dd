//! The test SMSC serving TLS over 127.0.0.1 with `smpp-client` as the ESME, certificates
//! generated at test time: bind, submit, receipt and unbind; a refused certificate and a
//! plaintext client get clear errors, and the SMSC keeps serving. Every wait is bounded.
#![cfg(any(feature = "tls", feature = "tls-ring"))]

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
    // Real sockets: a TLS handshake and session over 127.0.0.1.
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
    // Real sockets: TLS handshake failures on real connections.
    let p = pki(&["127.0.0.1"]);
    let s = tls_smsc(&p);

    // A CA that did not sign the SMSC's certificate.
    let other = pki(&["127.0.0.1"]);
    let untrusted = TlsClientConfig::with_ca_pem(other.ca.as_bytes()).unwrap();
    match Client::connect(s.local_addr(), config(Some(untrusted))) {
        Err(Error::Connect(TransportError::Tls(TlsError::Certificate(why)))) => {
            assert!(why.contains("not issued by a CA we trust"), "{why}")
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
    // Real listener: certificate files are checked when the SMSC starts.
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

/// Our client and our SMSC, both with the default provider (aws-lc-rs), agree on TLS 1.3
/// with the hybrid post-quantum key exchange; a client that offers only X25519 (a rustls
/// configuration of its own) still binds, with X25519.
#[test]
#[cfg(feature = "tls")]
fn tls_1_3_with_x25519mlkem768_by_default_and_a_classic_only_client_still_binds() {
    // Real sockets: negotiates TLS key exchange with real clients.
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;

    let p = pki(&["127.0.0.1"]);
    let s = tls_smsc(&p);

    let ca = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    let client = Client::connect(s.local_addr(), config(Some(ca))).unwrap();
    let info = client.tls_info().expect("a TLS connection");
    assert_eq!(info.version, "TLSv1_3", "{info}");
    assert_eq!(
        info.key_exchange_group.as_deref(),
        Some("X25519MLKEM768"),
        "{info}"
    );
    client.unbind().unwrap();

    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519];
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(p.ca.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let classic = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tls = TlsClientConfig::from_rustls(Arc::new(classic));
    let client = Client::connect(s.local_addr(), config(Some(tls.clone()))).unwrap();
    let info = client.tls_info().expect("a TLS connection");
    assert_eq!(info.version, "TLSv1_3", "{info}");
    assert_eq!(info.key_exchange_group.as_deref(), Some("X25519"), "{info}");
    client.unbind().unwrap();
    // And the whole exchange works over it.
    full_session(&s, tls);
    s.shutdown();
}

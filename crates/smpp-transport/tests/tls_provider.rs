//! An application that installed its own process-wide rustls provider keeps it: our
//! configurations (`with_ca_pem`, `from_pem`) use it rather than ours. In a test binary of
//! its own, since the provider is installed for the whole process.
#![cfg(feature = "tls-aws-lc-rs")]

use std::time::Duration;

use rcgen::{CertificateParams, KeyPair};
use smpp_session::{BindKind, BindRequest, Event};
use smpp_transport::{Config, ConnEvent, Outcome, TlsClientConfig, TlsServerConfig, Transport};

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn a_process_wide_provider_installed_by_the_application_is_used() {
    // Classic X25519 only: what our own provider would never pick first.
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519];
    provider.install_default().unwrap();

    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let server =
        TlsServerConfig::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    let client = TlsClientConfig::with_ca_pem(cert.pem().as_bytes()).unwrap();

    let t = Transport::spawn(Config {
        connect_timeout: Duration::from_secs(5),
        ..Config::default()
    })
    .unwrap();
    let listener = t
        .listen_tls(
            "127.0.0.1:0".parse().unwrap(),
            &server,
            smpp_session::Config::default(),
        )
        .unwrap();
    let addr = listener.local_addr();
    let serving = std::thread::spawn(move || {
        let conn = listener.accept_timeout(WAIT).unwrap().unwrap();
        while let Ok(ev) = conn.events().recv_timeout(WAIT) {
            match ev {
                ConnEvent::Session(Event::BindRequested {
                    sequence_number, ..
                }) => conn.accept_bind(sequence_number, "smsc").unwrap(),
                ConnEvent::Closed(_) => break,
                _ => {}
            }
        }
    });
    let conn = t
        .connect_tls(addr, &client, smpp_session::Config::default())
        .unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    conn.bind(
        BindRequest::new(BindKind::Transceiver, "esme", "pw"),
        1,
        &tx,
    )
    .unwrap();
    assert!(matches!(
        rx.recv_timeout(WAIT).unwrap().outcome,
        Outcome::Bound { .. }
    ));
    let info = conn.tls_info().unwrap();
    assert_eq!(info.version, "TLSv1_3", "{info}");
    assert_eq!(info.key_exchange_group.as_deref(), Some("X25519"), "{info}");
    conn.close();
    serving.join().unwrap();
    t.shutdown();
}

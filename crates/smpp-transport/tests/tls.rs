//! SMPP over TLS through the transport over 127.0.0.1, with certificates generated here at
//! test time (a private CA and a server certificate it signs): a full exchange, a refused
//! certificate, a wrong server name, plaintext and TLS peers on the wrong ports, a stalled
//! handshake, bad PEM, and a burst that goes through the TLS buffers under backpressure.
//!
//! Every wait is bounded (`recv_timeout`, `accept_timeout`, the connect timeout).
#![cfg(any(feature = "tls-aws-lc-rs", feature = "tls-ring"))]

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use smpp_pdu::{Body, CommandStatus, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, BindRequest, CloseReason, Event};
use smpp_transport::{
    Completed, Config, ConnEvent, Connection, Disconnect, Listener, Outcome, TlsClientConfig,
    TlsError, TlsServerConfig, Transport, TransportError, TransportHandle,
};

const WAIT: Duration = Duration::from_secs(10);

/// A CA, and a server certificate it signed for `names`, as PEM.
struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn pki(names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // A name of its own: another CA of the same name would be found as the issuer (and
    // fail on the signature rather than as unknown).
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    ca.distinguished_name
        .push(DnType::CommonName, format!("smpp-rs test CA {n}"));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "smpp-rs test SMSC");
    let cert = params.signed_by(&key, &issuer).unwrap();
    Pki {
        ca: ca_cert.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn quick() -> Config {
    Config {
        connect_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

fn tls_listener(t: &TransportHandle, p: &Pki) -> Listener {
    let server = TlsServerConfig::from_pem(p.cert.as_bytes(), p.key.as_bytes()).unwrap();
    t.listen_tls(any_port(), &server, smpp_session::Config::default())
        .unwrap()
}

fn submit(n: usize) -> Body<'static> {
    Body::from(SubmitSm {
        source_addr: "1".into(),
        destination_addr: "2".into(),
        short_message: format!("message {n}").into(),
        ..Default::default()
    })
    .into_owned()
}

/// Answers one connection event as a permissive SMSC; `false` once the connection closed.
fn answer(conn: &Connection, ev: ConnEvent) -> bool {
    match ev {
        ConnEvent::Session(Event::BindRequested {
            sequence_number, ..
        }) => conn.accept_bind(sequence_number, "smsc").unwrap(),
        ConnEvent::Session(Event::Request {
            sequence_number, ..
        }) => conn
            .respond(
                sequence_number,
                CommandStatus::ESME_ROK,
                Body::from(SubmitSmResp {
                    message_id: format!("m{sequence_number}").into(),
                    tlvs: vec![],
                }),
            )
            .unwrap(),
        ConnEvent::Closed(_) => return false,
        _ => {}
    }
    true
}

/// Serves one accepted connection until it closes; returns its close reason.
fn serve_one(listener: Listener) -> std::thread::JoinHandle<Option<Disconnect>> {
    std::thread::spawn(move || {
        let conn = listener.accept_timeout(WAIT).unwrap()?;
        assert!(conn.is_tls());
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            match conn.events().recv_timeout(WAIT) {
                Ok(ConnEvent::Closed(why)) => return Some(why),
                Ok(ev) => {
                    answer(&conn, ev);
                }
                Err(_) => return None,
            }
        }
        None
    })
}

fn bind(conn: &Connection) -> Outcome {
    let (tx, rx) = crossbeam_channel::bounded(1);
    conn.bind(
        BindRequest::new(BindKind::Transceiver, "esme", "pw"),
        1,
        &tx,
    )
    .unwrap();
    rx.recv_timeout(WAIT).unwrap().outcome
}

/// The close reason of a connection, waiting at most `WAIT`.
fn closed(conn: &Connection) -> Disconnect {
    let end = Instant::now() + WAIT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match conn.events().recv_timeout(left) {
            Ok(ConnEvent::Closed(why)) => return why,
            Ok(_) => {}
            Err(e) => panic!("no Closed event: {e}"),
        }
    }
}

#[test]
fn bind_submit_unbind_over_tls_and_close_cleanly() {
    let p = pki(&["127.0.0.1", "smsc.test"]);
    let t = Transport::spawn(quick()).unwrap();
    let listener = tls_listener(&t, &p);
    let addr = listener.local_addr();
    let server = serve_one(listener);

    // By IP address: the certificate names 127.0.0.1.
    let client_tls = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    let conn = t
        .connect_tls(addr, &client_tls, smpp_session::Config::default())
        .unwrap();
    assert!(conn.is_tls());
    assert!(
        matches!(bind(&conn), Outcome::Bound { ref peer_system_id, .. } if peer_system_id == "smsc")
    );

    let (tx, rx) = crossbeam_channel::unbounded();
    for i in 0..10 {
        conn.request(submit(i), i as u64, &tx).unwrap();
    }
    let mut ids = HashSet::new();
    for _ in 0..10 {
        let c = rx.recv_timeout(WAIT).unwrap();
        match c.outcome {
            Outcome::Response(pdu) => match pdu.body {
                Body::SubmitSmResp(r) => {
                    assert!(ids.insert(r.message_id.to_str_lossy().to_string()))
                }
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ids.len(), 10);

    let (utx, urx) = crossbeam_channel::bounded(1);
    conn.unbind(99, &utx).unwrap();
    assert_eq!(urx.recv_timeout(WAIT).unwrap().outcome, Outcome::Unbound);
    assert_eq!(closed(&conn), Disconnect::Session(CloseReason::Unbound));
    // The SMSC side saw the unbind, not a broken stream (close_notify, then the close).
    assert_eq!(
        server.join().unwrap(),
        Some(Disconnect::Session(CloseReason::Unbound))
    );
}

#[test]
fn server_name_override_is_checked_against_the_certificate() {
    let p = pki(&["smsc.test"]);
    let t = Transport::spawn(quick()).unwrap();
    let listener = tls_listener(&t, &p);
    let addr = listener.local_addr();
    let ca = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();

    // The right name.
    let conn = t
        .connect_tls(
            addr,
            &ca.clone().server_name("smsc.test"),
            smpp_session::Config::default(),
        )
        .unwrap();
    let accepted = listener.accept_timeout(WAIT).unwrap().expect("accepted");
    assert!(accepted.is_tls());
    drop((conn, accepted));

    // The certificate does not name 127.0.0.1, nor another host.
    for tls in [ca.clone(), ca.clone().server_name("other.test")] {
        match t.connect_tls(addr, &tls, smpp_session::Config::default()) {
            Err(TransportError::Tls(TlsError::Certificate(why))) => {
                assert!(why.contains("issued for smsc.test, not for"), "{why}");
                let text = TransportError::Tls(TlsError::Certificate(why)).to_string();
                assert!(text.contains("certificate"), "{text}");
            }
            other => panic!("expected a certificate error, got {other:?}"),
        }
    }
    // A name that is not a name at all is refused before connecting.
    match t.connect_tls(
        addr,
        &ca.server_name("not a name!"),
        smpp_session::Config::default(),
    ) {
        Err(TransportError::Tls(TlsError::Config(why))) => assert!(why.contains("server name")),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    // The listener never handed out the failed handshakes.
    assert!(listener
        .accept_timeout(Duration::from_millis(300))
        .unwrap()
        .is_none());
}

#[test]
fn untrusted_certificate_is_a_typed_error_naming_the_issuer() {
    let server_pki = pki(&["127.0.0.1"]);
    let other_ca = pki(&["127.0.0.1"]);
    let t = Transport::spawn(quick()).unwrap();
    let listener = tls_listener(&t, &server_pki);
    let tls = TlsClientConfig::with_ca_pem(other_ca.ca.as_bytes()).unwrap();
    let err = t
        .connect_tls(listener.local_addr(), &tls, smpp_session::Config::default())
        .unwrap_err();
    match &err {
        TransportError::Tls(TlsError::Certificate(why)) => {
            assert!(why.contains("not issued by a CA we trust"), "{why}")
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("certificate was refused"), "{text}");
    assert!(listener
        .accept_timeout(Duration::from_millis(300))
        .unwrap()
        .is_none());
}

#[test]
fn plaintext_client_on_a_tls_port_gets_a_clear_error_quickly() {
    let p = pki(&["127.0.0.1"]);
    let t = Transport::spawn(quick()).unwrap();
    let listener = tls_listener(&t, &p);
    let start = Instant::now();
    let conn = t
        .connect(listener.local_addr(), smpp_session::Config::default())
        .unwrap();
    assert!(!conn.is_tls());
    // The bind goes out in clear; the server's TLS stack answers with an alert.
    let outcome = bind(&conn);
    assert!(
        !matches!(outcome, Outcome::Bound { .. }),
        "bound over a TLS port in clear: {outcome:?}"
    );
    assert_eq!(closed(&conn), Disconnect::Tls(TlsError::UnexpectedTls));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(listener
        .accept_timeout(Duration::from_millis(200))
        .unwrap()
        .is_none());
}

#[test]
fn tls_client_on_a_plaintext_port_gets_a_clear_error_quickly() {
    let t = Transport::spawn(quick()).unwrap();
    let listener = t
        .listen(any_port(), smpp_session::Config::default())
        .unwrap();
    let p = pki(&["127.0.0.1"]);
    let tls = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    let start = Instant::now();
    let err = t
        .connect_tls(listener.local_addr(), &tls, smpp_session::Config::default())
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsError::ClosedDuringHandshake)),
        "{err:?}"
    );
    assert!(err.to_string().contains("plaintext"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // The plaintext side saw a ClientHello where a PDU should be, and says so.
    let accepted = listener.accept_timeout(WAIT).unwrap().expect("accepted");
    assert_eq!(closed(&accepted), Disconnect::Tls(TlsError::UnexpectedTls));
}

#[test]
fn tls_client_on_a_plaintext_peer_that_answers_gets_not_tls() {
    // A plaintext SMPP peer that answers anything with a generic_nack (16 octets).
    let server = StdListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = server.accept().unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        let nack = [0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0];
        let _ = s.write_all(&nack);
        // Keep the socket open: the client must not wait for a close.
        std::thread::sleep(Duration::from_secs(2));
    });
    let t = Transport::spawn(quick()).unwrap();
    let p = pki(&["127.0.0.1"]);
    let tls = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    let start = Instant::now();
    let err = t
        .connect_tls(addr, &tls, smpp_session::Config::default())
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsError::NotTls)),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    peer.join().unwrap();
}

#[test]
fn a_stalled_handshake_ends_at_the_connect_timeout() {
    // Accepts and never answers.
    let server = StdListener::bind(any_port()).unwrap();
    let addr = server.local_addr().unwrap();
    let t = Transport::spawn(Config {
        connect_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .unwrap();
    let p = pki(&["127.0.0.1"]);
    let tls = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    let start = Instant::now();
    let err = t
        .connect_tls(addr, &tls, smpp_session::Config::default())
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsError::HandshakeTimeout)),
        "{err:?}"
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    drop(server);

    // And a client that connects to a TLS port and never says a word is dropped by the
    // server at its connect timeout; the listener hands out nothing.
    let listener = tls_listener(&t, &p);
    let silent = std::net::TcpStream::connect(listener.local_addr()).unwrap();
    silent.set_read_timeout(Some(WAIT)).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let n = std::io::Read::read(&mut &silent, &mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the server wrote to a silent client");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(listener.try_accept().unwrap().is_none());
}

#[test]
fn bad_pem_is_a_configuration_error_naming_what_is_wrong() {
    let p = pki(&["127.0.0.1"]);
    let other = pki(&["127.0.0.1"]);
    let err = |r: Result<TlsServerConfig, TlsError>| match r {
        Err(TlsError::Config(why)) => why,
        other => panic!("expected a configuration error, got {other:?}"),
    };
    assert!(err(TlsServerConfig::from_pem(b"", p.key.as_bytes())).contains("certificate chain"));
    assert!(err(TlsServerConfig::from_pem(
        p.key.as_bytes(),
        p.key.as_bytes()
    ))
    .contains("certificate chain"));
    assert!(err(TlsServerConfig::from_pem(p.cert.as_bytes(), b"junk")).contains("private key"));
    assert!(err(TlsServerConfig::from_pem(
        p.cert.as_bytes(),
        other.key.as_bytes()
    ))
    .contains("certificate and key refused"));
    match TlsClientConfig::with_ca_pem(b"no pem here") {
        Err(TlsError::Config(why)) => assert!(why.contains("CA"), "{why}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    // The key never shows in Debug.
    let server = TlsServerConfig::from_pem(p.cert.as_bytes(), p.key.as_bytes()).unwrap();
    let key_body = p.key.lines().nth(1).unwrap();
    assert!(!format!("{server:?}").contains(key_body));
}

/// 10,000 submits at window 256 over TLS with small write buffers on both sides, so the
/// loop's high-water mark and rustls' buffer both hold back: every request resolves
/// exactly once, with its own response.
#[test]
fn burst_of_10000_submits_at_window_256_resolves_each_exactly_once() {
    const N: u64 = 10_000;
    let p = pki(&["127.0.0.1"]);
    let small = Config {
        write_high_water: 4096,
        max_write_buffer: 16 * 1024,
        read_chunk: 4096,
        max_queued_requests: N as usize,
        ..quick()
    };
    let server_t = Transport::spawn(small.clone()).unwrap();
    let listener = tls_listener(&server_t, &p);
    let addr = listener.local_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let conn = listener.accept_timeout(WAIT).unwrap().expect("accepted");
            let mut answered = 0u64;
            while !stop.load(Ordering::SeqCst) {
                match conn.events().recv_timeout(Duration::from_millis(50)) {
                    Ok(ConnEvent::Closed(_)) => break,
                    Ok(ev) => {
                        if matches!(ev, ConnEvent::Session(Event::Request { .. })) {
                            answered += 1;
                        }
                        answer(&conn, ev);
                    }
                    Err(_) => {}
                }
            }
            answered
        })
    };
    let client_t = Transport::spawn(small).unwrap();
    let tls = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
    let session = smpp_session::Config {
        window: 256,
        ..smpp_session::Config::default()
    };
    let conn = client_t.connect_tls(addr, &tls, session).unwrap();
    assert!(matches!(bind(&conn), Outcome::Bound { .. }));
    let (tx, rx) = crossbeam_channel::unbounded::<Completed>();
    for i in 0..N {
        conn.request(submit(i as usize), i, &tx).unwrap();
    }
    let mut seen = HashSet::new();
    let end = Instant::now() + Duration::from_secs(60);
    while seen.len() < N as usize {
        let left = end.saturating_duration_since(Instant::now());
        let c = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("only {} of {N} resolved", seen.len()));
        assert!(
            matches!(c.outcome, Outcome::Response(ref p) if p.command_status == CommandStatus::ESME_ROK),
            "{c:?}"
        );
        assert!(seen.insert(c.tag), "tag {} resolved twice", c.tag);
    }
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    assert_eq!(seen, (0..N).collect::<HashSet<_>>());
    stop.store(true, Ordering::SeqCst);
    assert_eq!(server.join().unwrap(), N);
}

/// What the default provider (aws-lc-rs) negotiates, that classic-only peers still get
/// in, and what a `tls-ring` build negotiates.
mod key_exchange {
    use super::*;
    #[cfg(feature = "tls-aws-lc-rs")]
    use rustls::pki_types::pem::PemObject;

    /// A rustls provider (aws-lc-rs) that offers only the classic X25519 key exchange: a peer
    /// that predates post-quantum key exchange.
    #[cfg(feature = "tls-aws-lc-rs")]
    fn classic_only_provider() -> Arc<rustls::crypto::CryptoProvider> {
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519];
        Arc::new(provider)
    }

    /// Connects with `client` to a listener serving `server`, binds, and returns what each
    /// side's connection says was negotiated (client's, server's).
    fn negotiated(
        client: &TlsClientConfig,
        server: &TlsServerConfig,
    ) -> (smpp_transport::TlsInfo, smpp_transport::TlsInfo) {
        let t = Transport::spawn(quick()).unwrap();
        let listener = t
            .listen_tls(any_port(), server, smpp_session::Config::default())
            .unwrap();
        let addr = listener.local_addr();
        let (info_tx, info_rx) = crossbeam_channel::bounded(1);
        let serving = std::thread::spawn(move || {
            let conn = listener.accept_timeout(WAIT).unwrap().unwrap();
            info_tx.send(conn.tls_info().cloned()).unwrap();
            while let Ok(ev) = conn.events().recv_timeout(WAIT) {
                if !answer(&conn, ev) {
                    break;
                }
            }
        });
        let conn = t
            .connect_tls(addr, client, smpp_session::Config::default())
            .unwrap();
        assert!(matches!(bind(&conn), Outcome::Bound { .. }));
        let ours = conn
            .tls_info()
            .cloned()
            .expect("a TLS connection has TLS info");
        let theirs = info_rx.recv_timeout(WAIT).unwrap().expect("TLS info");
        conn.close();
        serving.join().unwrap();
        t.shutdown();
        (ours, theirs)
    }

    #[test]
    #[cfg(feature = "tls-aws-lc-rs")]
    fn by_default_tls_1_3_with_the_hybrid_post_quantum_key_exchange_is_negotiated() {
        let p = pki(&["127.0.0.1"]);
        let client = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
        let server = TlsServerConfig::from_pem(p.cert.as_bytes(), p.key.as_bytes()).unwrap();
        let (ours, theirs) = negotiated(&client, &server);
        for info in [&ours, &theirs] {
            assert_eq!(info.version, "TLSv1_3", "{info}");
            assert_eq!(
                info.key_exchange_group.as_deref(),
                Some("X25519MLKEM768"),
                "{info}"
            );
            assert!(info.cipher_suite.starts_with("TLS13_"), "{info}");
        }
        assert_eq!(ours, theirs);
        assert!(ours.to_string().contains("X25519MLKEM768"), "{ours}");
    }

    #[test]
    #[cfg(feature = "tls-aws-lc-rs")]
    fn a_classic_only_client_still_gets_in_with_x25519() {
        let p = pki(&["127.0.0.1"]);
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(p.ca.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let classic = rustls::ClientConfig::builder_with_provider(classic_only_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = TlsClientConfig::from_rustls(Arc::new(classic));
        let server = TlsServerConfig::from_pem(p.cert.as_bytes(), p.key.as_bytes()).unwrap();
        let (ours, theirs) = negotiated(&client, &server);
        assert_eq!(ours, theirs);
        assert_eq!(ours.version, "TLSv1_3", "{ours}");
        assert_eq!(ours.key_exchange_group.as_deref(), Some("X25519"), "{ours}");
    }

    #[test]
    #[cfg(feature = "tls-aws-lc-rs")]
    fn our_client_still_gets_into_a_classic_only_server_with_x25519() {
        let p = pki(&["127.0.0.1"]);
        let certs = rustls::pki_types::CertificateDer::pem_slice_iter(p.cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(p.key.as_bytes()).unwrap();
        let classic = rustls::ServerConfig::builder_with_provider(classic_only_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let server = TlsServerConfig::from_rustls(Arc::new(classic));
        let client = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
        let (ours, theirs) = negotiated(&client, &server);
        assert_eq!(ours, theirs);
        assert_eq!(ours.version, "TLSv1_3", "{ours}");
        assert_eq!(ours.key_exchange_group.as_deref(), Some("X25519"), "{ours}");
    }

    /// Built with `tls-ring` alone, both ends prefer X25519 (ring's own default order put
    /// P-384 first from rustls 0.23.48 on).
    #[test]
    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc-rs")))]
    fn with_ring_both_ends_settle_on_x25519() {
        let p = pki(&["127.0.0.1"]);
        let client = TlsClientConfig::with_ca_pem(p.ca.as_bytes()).unwrap();
        let server = TlsServerConfig::from_pem(p.cert.as_bytes(), p.key.as_bytes()).unwrap();
        let (ours, theirs) = negotiated(&client, &server);
        assert_eq!(ours, theirs);
        assert_eq!(ours.version, "TLSv1_3", "{ours}");
        assert_eq!(ours.key_exchange_group.as_deref(), Some("X25519"), "{ours}");
    }
}

#[test]
fn a_plaintext_connection_has_no_tls_info() {
    let t = Transport::spawn(quick()).unwrap();
    let listener = t
        .listen(any_port(), smpp_session::Config::default())
        .unwrap();
    let conn = t
        .connect(listener.local_addr(), smpp_session::Config::default())
        .unwrap();
    assert!(!conn.is_tls());
    assert_eq!(conn.tls_info(), None);
    let accepted = listener.accept_timeout(WAIT).unwrap().unwrap();
    assert_eq!(accepted.tls_info(), None);
    t.shutdown();
}

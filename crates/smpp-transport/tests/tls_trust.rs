//! The certificates SMSCs really have, over 127.0.0.1 with certificates generated here at
//! test time: a self-signed certificate marked as a CA (what `openssl req -x509` makes)
//! refused through `--ca` with what to do about it, and accepted when pinned (by file and
//! by fingerprint); a name mismatch naming the certificate's names; an expired certificate
//! (refused, pinned or not, unless allowed); mutual TLS required and missing, and given;
//! the insecure mode with its warning; and `probe_tls`. Every wait is bounded.
#![cfg(any(feature = "tls-aws-lc-rs", feature = "tls-ring"))]

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use smpp_session::{BindKind, BindRequest, Event};
use smpp_transport::blocking::probe_tls;
use smpp_transport::{
    CertPin, Config, ConnEvent, Connection, Listener, Outcome, TlsClientConfig, TlsError,
    TlsServerConfig, Transport, TransportError, TransportHandle,
};

const WAIT: Duration = Duration::from_secs(10);

/// A certificate and its key, as PEM.
struct Id {
    cert: String,
    key: String,
}

/// A self-signed certificate for `names`, marked as a CA as OpenSSL's `req -x509` does.
fn self_signed_ca_flagged(names: &[&str]) -> Id {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key).unwrap();
    Id {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// A CA (its PEM and its issuer) for `label`.
fn ca(label: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, format!("smpp-rs {label} CA"));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = p.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(p, key))
}

/// A certificate for `names` signed by `issuer`, valid until `until` (year, month, day)
/// when given.
fn signed(names: &[&str], issuer: &Issuer<'static, KeyPair>, until: Option<(i32, u8, u8)>) -> Id {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, names[0]);
    if let Some((y, m, d)) = until {
        p.not_before = date_time_ymd(y - 2, m, d);
        p.not_after = date_time_ymd(y, m, d);
    }
    let cert = p.signed_by(&key, issuer).unwrap();
    Id {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn quick() -> Config {
    Config {
        connect_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

fn listener(t: &TransportHandle, server: &TlsServerConfig) -> Listener {
    t.listen_tls(
        "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        server,
        smpp_session::Config::default(),
    )
    .unwrap()
}

fn serving(id: &Id) -> TlsServerConfig {
    TlsServerConfig::from_pem(id.cert.as_bytes(), id.key.as_bytes()).unwrap()
}

/// Accepts one connection and answers its bind, on a thread of its own.
fn serve_binds(listener: Listener) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let Ok(Some(conn)) = listener.accept_timeout(WAIT) else {
            return;
        };
        while let Ok(ev) = conn.events().recv_timeout(WAIT) {
            match ev {
                ConnEvent::Session(Event::BindRequested {
                    sequence_number, ..
                }) => {
                    let _ = conn.accept_bind(sequence_number, "smsc");
                }
                ConnEvent::Closed(_) => return,
                _ => {}
            }
        }
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

/// Connects and binds with `tls`; the refusal text when the certificate is refused.
fn connect(
    t: &TransportHandle,
    addr: SocketAddr,
    tls: &TlsClientConfig,
) -> Result<Outcome, TransportError> {
    let conn = t.connect_tls(addr, tls, smpp_session::Config::default())?;
    Ok(bind(&conn))
}

fn refusal(r: Result<Outcome, TransportError>) -> String {
    match r {
        Err(TransportError::Tls(TlsError::Certificate(why))) => why,
        other => panic!("expected a refused certificate, got {other:?}"),
    }
}

#[test]
fn a_self_signed_ca_flagged_certificate_is_pinned_not_trusted_as_a_ca() {
    let id = self_signed_ca_flagged(&["localhost"]);
    let pin = CertPin::from_pem(id.cert.as_bytes()).unwrap()[0];
    let t = Transport::spawn(quick()).unwrap();
    let l = listener(&t, &serving(&id));
    let addr = l.local_addr();

    // Given as a CA, as users first try: refused, saying why and how to pin it.
    let as_ca = TlsClientConfig::with_ca_pem(id.cert.as_bytes())
        .unwrap()
        .server_name("localhost");
    let why = refusal(connect(&t, addr, &as_ca));
    assert!(why.contains("marked as a CA"), "{why}");
    assert!(why.contains("--pin-cert FILE"), "{why}");
    assert!(why.contains(&format!("--pin-sha256 {pin}")), "{why}");
    assert!(why.contains("subject \"CN=localhost\""), "{why}");
    assert!(why.contains("(self-signed)"), "{why}");

    // Pinned by file, and by fingerprint written as OpenSSL prints it: bound.
    let server = serve_binds(l);
    let by_file =
        TlsClientConfig::pinned(CertPin::from_pem(id.cert.as_bytes()).unwrap(), false).unwrap();
    assert!(matches!(
        connect(&t, addr, &by_file),
        Ok(Outcome::Bound { .. })
    ));
    server.join().unwrap();
    let l = listener(&t, &serving(&id));
    let addr = l.local_addr();
    let server = serve_binds(l);
    let openssl_style = pin.to_string().to_uppercase();
    let by_hex =
        TlsClientConfig::pinned(vec![CertPin::from_hex(&openssl_style).unwrap()], false).unwrap();
    assert!(matches!(
        connect(&t, addr, &by_hex),
        Ok(Outcome::Bound { .. })
    ));
    server.join().unwrap();

    // Another certificate pinned: refused, naming both.
    let other = self_signed_ca_flagged(&["localhost"]);
    let other_pins = CertPin::from_pem(other.cert.as_bytes()).unwrap();
    let l = listener(&t, &serving(&id));
    let why = refusal(connect(
        &t,
        l.local_addr(),
        &TlsClientConfig::pinned(other_pins.clone(), false).unwrap(),
    ));
    assert!(why.contains("not the pinned certificate"), "{why}");
    assert!(why.contains(&other_pins[0].to_string()), "{why}");
    assert!(why.contains(&pin.to_string()), "{why}");

    assert!(CertPin::from_hex("12:34").is_err());
}

#[test]
fn a_name_mismatch_names_the_certificates_names() {
    let (ca_pem, issuer) = ca("names");
    let id = signed(&["smsc.example.com", "smpp.example.com"], &issuer, None);
    let t = Transport::spawn(quick()).unwrap();
    let l = listener(&t, &serving(&id));
    let tls = TlsClientConfig::with_ca_pem(ca_pem.as_bytes()).unwrap();
    let why = refusal(connect(&t, l.local_addr(), &tls));
    assert!(
        why.contains("issued for smsc.example.com, smpp.example.com, not for 127.0.0.1"),
        "{why}"
    );
    assert!(why.contains("--server-name"), "{why}");
    // With one of the names: bound.
    assert!(binds(&t, &id, tls.server_name("smpp.example.com")));
}

/// Whether a connection with `tls` to a fresh listener serving `id` binds.
fn binds(t: &TransportHandle, id: &Id, tls: TlsClientConfig) -> bool {
    let l = listener(t, &serving(id));
    let addr = l.local_addr();
    let server = serve_binds(l);
    let ok = matches!(connect(t, addr, &tls), Ok(Outcome::Bound { .. }));
    server.join().unwrap();
    ok
}

#[test]
fn an_expired_certificate_says_when_and_is_accepted_pinned_only_when_allowed() {
    let (ca_pem, issuer) = ca("expired");
    let id = signed(&["127.0.0.1"], &issuer, Some((2021, 3, 1)));
    let t = Transport::spawn(quick()).unwrap();
    let l = listener(&t, &serving(&id));
    let why = refusal(connect(
        &t,
        l.local_addr(),
        &TlsClientConfig::with_ca_pem(ca_pem.as_bytes()).unwrap(),
    ));
    assert!(why.contains("expired on 2021-03-01"), "{why}");
    let pins = CertPin::from_pem(id.cert.as_bytes()).unwrap();
    let why = refusal(connect(
        &t,
        l.local_addr(),
        &TlsClientConfig::pinned(pins.clone(), false).unwrap(),
    ));
    assert!(
        why.contains("pinned certificate expired on 2021-03-01"),
        "{why}"
    );
    assert!(why.contains("--allow-expired"), "{why}");
    assert!(binds(&t, &id, TlsClientConfig::pinned(pins, true).unwrap()));
}

#[test]
fn mutual_tls_required_and_missing_then_given() {
    let (server_ca, server_issuer) = ca("server");
    let (client_ca, client_issuer) = ca("client");
    let server_id = signed(&["127.0.0.1"], &server_issuer, None);
    let client_id = signed(&["esme.example.com"], &client_issuer, None);
    let server = serving(&server_id)
        .require_client_cert(client_ca.as_bytes())
        .unwrap();
    let t = Transport::spawn(quick()).unwrap();
    let trust = TlsClientConfig::with_ca_pem(server_ca.as_bytes()).unwrap();
    assert!(!trust.has_client_cert());

    // No client certificate: the SMSC ends the handshake (TLS 1.3 says so after the
    // client's Finished, so it may show at the bind), and says why.
    let l = listener(&t, &server);
    let addr = l.local_addr();
    let _accepting = std::thread::spawn(move || l.accept_timeout(Duration::from_secs(3)));
    let text = match t.connect_tls(addr, &trust, smpp_session::Config::default()) {
        Err(e) => e.to_string(),
        Ok(conn) => {
            assert!(
                !matches!(bind(&conn), Outcome::Bound { .. }),
                "bound without a client certificate"
            );
            loop {
                match conn.events().recv_timeout(WAIT) {
                    Ok(ConnEvent::Closed(smpp_transport::Disconnect::Tls(e))) => {
                        break e.to_string()
                    }
                    Ok(ConnEvent::Closed(other)) => break format!("{other:?}"),
                    Ok(_) => {}
                    Err(e) => panic!("no close: {e}"),
                }
            }
        }
    };
    assert!(
        text.contains("client certificate") || text.contains("CertificateRequired"),
        "{text}"
    );

    // tls-probe sees the refusal too, though the handshake itself completed.
    let l = listener(&t, &server);
    let addr = l.local_addr();
    let _accepting = std::thread::spawn(move || l.accept_timeout(Duration::from_secs(3)));
    match probe_tls(addr, &trust, WAIT) {
        Err(TransportError::Tls(e)) => {
            assert!(e.to_string().contains("client certificate"), "{e}")
        }
        other => panic!("the probe must fail without a client certificate: {other:?}"),
    }

    // With one the SMSC trusts: bound.
    let with_cert = trust
        .with_client_cert(client_id.cert.as_bytes(), client_id.key.as_bytes())
        .unwrap();
    assert!(with_cert.has_client_cert());
    let l = listener(&t, &server);
    let addr = l.local_addr();
    let s = serve_binds(l);
    assert!(matches!(
        connect(&t, addr, &with_cert),
        Ok(Outcome::Bound { .. })
    ));
    s.join().unwrap();
}

/// Log records, for the insecure mode's warning.
struct Captured(Mutex<Vec<String>>);

impl log::Log for Captured {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record<'_>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(format!("{} {}", r.level(), r.args()));
        }
    }
    fn flush(&self) {}
}

static LOGS: Captured = Captured(Mutex::new(Vec::new()));

#[test]
fn insecure_mode_accepts_anything_and_warns_at_every_connect() {
    let _ = log::set_logger(&LOGS);
    log::set_max_level(log::LevelFilter::Warn);
    let id = self_signed_ca_flagged(&["lab.invalid"]);
    let pin = CertPin::from_pem(id.cert.as_bytes()).unwrap()[0];
    let t = Transport::spawn(quick()).unwrap();
    let any = TlsClientConfig::dangerous_accept_any().unwrap();
    for _ in 0..2 {
        assert!(binds(&t, &id, any.clone()));
    }
    let warnings: Vec<String> = LOGS
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("WARN") && l.contains("INSECURE") && l.contains(&pin.to_string()))
        .cloned()
        .collect();
    assert_eq!(warnings.len(), 2, "one warning per connect: {warnings:?}");
}

#[test]
fn probe_shows_the_chain_the_negotiation_and_the_verdict() {
    let id = self_signed_ca_flagged(&["localhost"]);
    let pin = CertPin::from_pem(id.cert.as_bytes()).unwrap()[0];
    let t = Transport::spawn(quick()).unwrap();
    let tls = TlsClientConfig::with_ca_pem(id.cert.as_bytes())
        .unwrap()
        .server_name("localhost");
    let addr = accepting(&t, &id);
    let p = probe_tls(addr, &tls, WAIT).unwrap();
    assert_eq!(p.info.version, "TLSv1_3");
    let leaf = p.chain[0].as_ref().expect("a readable certificate");
    assert!(leaf.is_ca && leaf.self_signed());
    assert_eq!(leaf.sha256, pin);
    assert_eq!(leaf.names, ["localhost"]);
    let verdict = p.verdict.expect("a check ran");
    assert!(verdict.unwrap_err().contains("marked as a CA"));
    // Pinned, the same server passes.
    let addr = accepting(&t, &id);
    let pinned = TlsClientConfig::pinned(vec![pin], false).unwrap();
    assert_eq!(
        probe_tls(addr, &pinned, WAIT).unwrap().verdict,
        Some(Ok(()))
    );
}

/// A fresh listener serving `id` that accepts one connection; its address.
fn accepting(t: &TransportHandle, id: &Id) -> SocketAddr {
    let l = listener(t, &serving(id));
    let addr = l.local_addr();
    std::thread::spawn(move || l.accept_timeout(Duration::from_secs(3)));
    addr
}

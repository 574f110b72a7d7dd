//! The certificates SMSCs really have, end to end through the built binary over 127.0.0.1:
//! a self-signed certificate marked as a CA (what `openssl req -x509` makes) refused
//! through `--ca` with what to do, accepted with `--pin-cert` and `--pin-sha256`, and shown
//! by `smpp tls-probe`; `--insecure` with its warning; and mutual TLS (`smpp smsc
//! --tls-client-ca`, `smpp send --client-cert/--client-key`). Certificates are generated
//! at test time; every wait is bounded.

use std::process::{Child, Output};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

mod common;
use common::TempDir;

#[path = "../../smpp-smsc/tests/pki/mod.rs"]
mod pki;

fn smpp(args: &[&str]) -> Output {
    common::smpp(args)
}

/// `smpp smsc` with TLS (and `extra` options); the child, killed when dropped, and its
/// address.
struct Smsc(Child, String);

impl Drop for Smsc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn smsc(cert: &str, key: &str, extra: &[&str]) -> Smsc {
    let mut args = vec!["--user", "esme:pw", "--tls-cert", cert, "--tls-key", key];
    args.extend_from_slice(extra);
    let (child, addr) = common::smsc_listening(&args);
    Smsc(child, addr)
}

/// `smpp send` of one text to `addr` with these TLS options.
fn send(addr: &str, tls: &[&str]) -> Output {
    let mut args = vec![
        "send",
        "--addr",
        addr,
        "--system-id",
        "esme",
        "--password",
        "pw",
        "--to",
        "447700900123",
        "--text",
        "hello",
    ];
    args.extend_from_slice(tls);
    smpp(&args)
}

/// The SHA-256 fingerprint of a certificate (DER), as `openssl x509 -fingerprint -sha256`
/// writes it (upper case, ':' between octets), computed here independently.
fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn a_self_signed_ca_flagged_certificate_pinned_probed_and_insecure() {
    let dir = TempDir::new("tls-trust");
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "localhost");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let made = p.self_signed(&key).unwrap();
    let cert = dir.write("smsc.crt", &made.pem());
    let key = dir.write("smsc.key", &key.serialize_pem());
    let fp = fingerprint(made.der());
    let s = smsc(&cert, &key, &[]);

    // What a new user tries first: refused, with the reason and the way out.
    let o = send(
        &s.1,
        &["--tls", "--ca", &cert, "--server-name", "localhost"],
    );
    let err = common::err(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("marked as a CA"), "{err}");
    assert!(err.contains("--pin-cert FILE"), "{err}");
    assert!(
        err.contains(&fp.to_lowercase()),
        "the fingerprint to pin: {err}"
    );
    assert!(err.contains("subject \"CN=localhost\""), "{err}");

    // Pinned by file and by fingerprint (OpenSSL's spelling): sent.
    for tls in [vec!["--pin-cert", &cert], vec!["--pin-sha256", &fp]] {
        let o = send(&s.1, &tls);
        assert!(o.status.success(), "{tls:?}: {}", common::err(&o));
        assert!(
            common::out(&o).contains("message id(s)"),
            "{}",
            common::out(&o)
        );
    }

    // tls-probe: the chain, the negotiation, the verdict.
    let o = smpp(&[
        "tls-probe",
        "--addr",
        &s.1,
        "--ca",
        &cert,
        "--server-name",
        "localhost",
    ]);
    let out = common::out(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", common::err(&o));
    assert!(out.contains("TLSv1_3"), "{out}");
    assert!(out.contains("subject     CN=localhost"), "{out}");
    assert!(out.contains("CA          yes"), "{out}");
    assert!(
        out.contains(&format!("SHA-256     {}", fp.to_lowercase())),
        "{out}"
    );
    assert!(
        out.contains("trusted: no: the certificate is marked as a CA"),
        "{out}"
    );
    let o = smpp(&["tls-probe", "--addr", &s.1, "--pin-sha256", &fp, "--json"]);
    let out = common::out(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("\"trusted\":true") && out.contains("\"ca\":true"),
        "{out}"
    );

    // Insecure: sent, with the warning.
    let o = send(&s.1, &["--insecure"]);
    let err = common::err(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("INSECURE") && err.contains(&fp.to_lowercase()),
        "{err}"
    );
}

#[test]
fn mutual_tls_required_by_the_smsc() {
    let dir = TempDir::new("tls-mutual");
    let server = pki::pki(&["127.0.0.1"]);
    let client = pki::pki(&["esme.example.com"]);
    let s = smsc(
        &dir.write("smsc.crt", &server.cert),
        &dir.write("smsc.key", &server.key),
        &["--tls-client-ca", &dir.write("client-ca.crt", &client.ca)],
    );
    let ca = dir.write("ca.crt", &server.ca);
    let o = send(&s.1, &["--ca", &ca]);
    let err = common::err(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("client certificate"), "{err}");
    let o = send(
        &s.1,
        &[
            "--ca",
            &ca,
            "--client-cert",
            &dir.write("esme.crt", &client.cert),
            "--client-key",
            &dir.write("esme.key", &client.key),
        ],
    );
    assert!(o.status.success(), "{}", common::err(&o));
}

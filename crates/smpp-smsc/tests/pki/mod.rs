//! Certificates generated at test time: a private CA and a server certificate it signs.

use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A CA, and a server certificate it signed, as PEM.
pub(crate) struct Pki {
    /// The CA certificate (what clients trust).
    pub(crate) ca: String,
    /// The server certificate.
    pub(crate) cert: String,
    /// The server's private key.
    pub(crate) key: String,
}

/// A new CA (with a name of its own) and a certificate it signed for `names` (host names or
/// IP addresses).
pub(crate) fn pki(names: &[&str]) -> Pki {
    static N: AtomicUsize = AtomicUsize::new(0);
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let n = N.fetch_add(1, Ordering::Relaxed);
    ca.distinguished_name
        .push(DnType::CommonName, format!("smpp-rs test CA {n}"));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    Pki {
        ca: ca_cert.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

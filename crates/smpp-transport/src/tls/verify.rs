//! How a client checks the SMSC's certificate, with answers people can act on.
//!
//! - [`Explaining`]: the usual check (a chain to a trusted root, the server name, the
//!   dates), by rustls' WebPKI verifier; a refusal says in words what was wrong and what to
//!   do about it, and describes the certificate ([`CertificateSummary`]) so that the user
//!   can decide to pin it.
//! - [`Pinned`]: the SMSC's own certificate, given in advance: accepted when the peer
//!   presents exactly that certificate (compared by SHA-256 of its DER), whatever its
//!   issuer, names or basic constraints; its dates still count unless told otherwise.
//! - [`AcceptAny`]: no check at all (lab use), with a warning at every handshake.
//!
//! All three check the handshake's signatures with the provider's algorithms: the peer
//! must hold the certificate's private key, whatever was decided about the certificate.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, OtherError, SignatureScheme};
use sha2::{Digest, Sha256};

use super::TlsError;

/// The SHA-256 of a certificate's DER octets: what pinning compares, and what a refusal
/// prints for the user to pin.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertPin([u8; 32]);

impl CertPin {
    /// The pin of a certificate (DER).
    pub fn of_der(der: &[u8]) -> CertPin {
        CertPin(Sha256::digest(der).into())
    }

    /// The pins of every certificate of a PEM text (usually one: the SMSC's).
    pub fn from_pem(pem: &[u8]) -> Result<Vec<CertPin>, TlsError> {
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Config(format!("pinned certificate: cannot read PEM: {e}")))?;
        if certs.is_empty() {
            return Err(TlsError::Config(
                "pinned certificate: no CERTIFICATE block in the PEM text".into(),
            ));
        }
        Ok(certs.iter().map(|c| CertPin::of_der(c)).collect())
    }

    /// A pin written in hexadecimal: 64 digits, upper or lower case, with or without `:`
    /// between octets (as `openssl x509 -fingerprint -sha256` prints it).
    pub fn from_hex(text: &str) -> Result<CertPin, TlsError> {
        let digits: String = text
            .trim()
            .trim_start_matches("sha256:")
            .trim_start_matches("SHA256:")
            .chars()
            .filter(|c| *c != ':')
            .collect();
        let bad = || {
            TlsError::Config(format!(
                "SHA-256 fingerprint {text:?}: expected 64 hexadecimal digits (32 octets), \
                 optionally with ':' between octets"
            ))
        };
        if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(CertPin(out))
    }
}

impl fmt::Display for CertPin {
    /// Lower-case hexadecimal, octets separated by `:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertPin({self})")
    }
}

/// What a certificate says about itself, for messages and `smpp tls-probe`. Times are UTC
/// (`2027-01-31 12:00:00 UTC`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateSummary {
    /// The subject's distinguished name (`CN=localhost`).
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// Valid from (`2026-12-07 10:00:00 UTC`).
    pub not_before: String,
    /// Valid until.
    pub not_after: String,
    /// Valid from, in seconds since the Unix epoch.
    pub not_before_unix: i64,
    /// Valid until, in seconds since the Unix epoch.
    pub not_after_unix: i64,
    /// The DNS names and IP addresses it is issued for (subject alternative names).
    pub names: Vec<String>,
    /// Whether its basic constraints mark it as a CA.
    pub is_ca: bool,
    /// Its SHA-256 fingerprint (what `--pin-sha256` takes).
    pub sha256: CertPin,
}

impl CertificateSummary {
    /// Reads a certificate (DER); `None` when it cannot be parsed as X.509.
    pub fn of_der(der: &[u8]) -> Option<CertificateSummary> {
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let validity = cert.validity();
        let mut names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for n in &san.value.general_names {
                match n {
                    GeneralName::DNSName(d) => names.push((*d).to_string()),
                    GeneralName::IPAddress(ip) => match ip.len() {
                        4 => names
                            .push(std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string()),
                        16 => {
                            let mut o = [0u8; 16];
                            o.copy_from_slice(ip);
                            names.push(std::net::Ipv6Addr::from(o).to_string());
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
        }
        Some(CertificateSummary {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: utc(&validity.not_before),
            not_after: utc(&validity.not_after),
            not_before_unix: validity.not_before.timestamp(),
            not_after_unix: validity.not_after.timestamp(),
            names,
            is_ca: cert.is_ca(),
            sha256: CertPin::of_der(der),
        })
    }

    /// Whether the certificate names itself as its issuer.
    pub fn self_signed(&self) -> bool {
        self.subject == self.issuer
    }
}

impl fmt::Display for CertificateSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "subject {:?}, issuer {:?}", self.subject, self.issuer)?;
        if self.self_signed() {
            f.write_str(" (self-signed)")?;
        }
        if self.is_ca {
            f.write_str(", marked as a CA")?;
        }
        write!(f, ", valid {} to {}", self.not_before, self.not_after)?;
        if !self.names.is_empty() {
            write!(f, ", names {}", self.names.join(" "))?;
        }
        write!(f, ", SHA-256 {}", self.sha256)
    }
}

/// An X.509 time as `YYYY-MM-DD hh:mm:ss UTC`.
fn utc(t: &x509_parser::time::ASN1Time) -> String {
    let d = t.to_datetime();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// A refused certificate: what was wrong, what to do, and the certificate.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) words: String,
    pub(crate) certificate: Option<CertificateSummary>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words)?;
        if let Some(c) = &self.certificate {
            write!(f, "; the SMSC's certificate: {c}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

fn refuse(words: String, cert: &CertificateDer<'_>) -> Error {
    Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Refusal {
        words,
        certificate: CertificateSummary::of_der(cert),
    }))))
}

/// The WebPKI check with a refusal in words.
#[derive(Debug)]
pub(crate) struct Explaining {
    pub(crate) inner: Arc<WebPkiServerVerifier>,
}

/// What went wrong, in words, with what the user can do about it.
fn explain(e: &CertificateError, cert: &CertificateDer<'_>, name: &ServerName<'_>) -> String {
    let summary = CertificateSummary::of_der(cert);
    let pin_hint = |what: &str| match &summary {
        Some(s) => format!(
            "{what}: if this is the SMSC's own certificate, pin it with --pin-cert FILE or \
             --pin-sha256 {}",
            s.sha256
        ),
        None => format!("{what}: pin the SMSC's certificate with --pin-cert FILE"),
    };
    let text = format!("{e:?}");
    match e {
        CertificateError::UnknownIssuer => pin_hint(
            "not issued by a CA we trust (a self-signed or private-CA certificate): give the \
             CA with --ca FILE, or",
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = summary
                .as_ref()
                .map(|s| s.names.join(", "))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "no DNS name or address".into());
            format!(
                "issued for {names}, not for {}: connect with --server-name set to one of \
                 those names",
                server_name_text(name)
            )
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
            "expired on {}: the SMSC must renew it (a pinned certificate may be accepted \
             anyway with --allow-expired)",
            summary.as_ref().map_or("?", |s| s.not_after.as_str())
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => format!(
            "not valid before {} (is this machine's clock right?)",
            summary.as_ref().map_or("?", |s| s.not_before.as_str())
        ),
        _ if text.contains("CaUsedAsEndEntity") => pin_hint(
            "the certificate is marked as a CA (what `openssl req -x509` makes by default), so \
             it cannot be trusted as a server certificate through --ca; instead",
        ),
        _ if text.contains("UnsupportedCertVersion") || text.contains("BadEncoding") => {
            format!("the certificate cannot be read ({e})")
        }
        other => format!("{other}"),
    }
}

fn server_name_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

impl ServerCertVerifier for Explaining {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match &e {
                Error::InvalidCertificate(c) => {
                    refuse(explain(c, end_entity, server_name), end_entity)
                }
                _ => e,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The handshake-signature checks of a verifier that decides about the certificate itself
/// (pinned, insecure, probe): the provider's algorithms in its `algorithms` field, so that
/// the peer must hold the certificate's key whatever was decided about the certificate.
macro_rules! signatures_by_algorithms {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    };
}

/// The SMSC's own certificate, pinned.
#[derive(Debug)]
pub(crate) struct Pinned {
    pub(crate) pins: Vec<CertPin>,
    pub(crate) allow_expired: bool,
    pub(crate) algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let presented = CertPin::of_der(end_entity);
        if !self.pins.contains(&presented) {
            let pinned: Vec<String> = self.pins.iter().map(ToString::to_string).collect();
            return Err(refuse(
                format!(
                    "not the pinned certificate (pinned SHA-256 {}): the SMSC presents another \
                     one; if it changed its certificate on purpose, pin the new one",
                    pinned.join(" or ")
                ),
                end_entity,
            ));
        }
        if self.allow_expired {
            return Ok(ServerCertVerified::assertion());
        }
        let Some(s) = CertificateSummary::of_der(end_entity) else {
            return Err(refuse(
                "the pinned certificate cannot be read as X.509, so its dates cannot be \
                 checked (accept it anyway with --allow-expired)"
                    .into(),
                end_entity,
            ));
        };
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now > s.not_after_unix {
            return Err(refuse(
                format!(
                    "the pinned certificate expired on {}: the SMSC must renew it (accept it \
                     anyway with --allow-expired)",
                    s.not_after
                ),
                end_entity,
            ));
        }
        if now < s.not_before_unix {
            return Err(refuse(
                format!(
                    "the pinned certificate is not valid before {} (is this machine's clock \
                     right? --allow-expired accepts it)",
                    s.not_before
                ),
                end_entity,
            ));
        }
        Ok(ServerCertVerified::assertion())
    }

    signatures_by_algorithms!();
}

/// No check of the certificate at all, with a warning at every handshake.
#[derive(Debug)]
pub(crate) struct AcceptAny {
    pub(crate) algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let what = CertificateSummary::of_der(end_entity).map_or_else(
            || "a certificate that cannot be read".to_string(),
            |s| s.to_string(),
        );
        log::warn!(
            "TLS to {}: INSECURE: the SMSC's certificate is accepted without any check \
             (insecure mode, for lab use only): {what}",
            server_name_text(server_name)
        );
        Ok(ServerCertVerified::assertion())
    }

    signatures_by_algorithms!();
}

/// The refusal's text, when a rustls certificate error is one of ours.
pub(crate) fn refusal_text(e: &CertificateError) -> Option<String> {
    match e {
        CertificateError::Other(OtherError(inner)) => {
            inner.downcast_ref::<Refusal>().map(ToString::to_string)
        }
        _ => None,
    }
}

/// What `smpp tls-probe` learns: the chain the SMSC presented and what the configured
/// check said of it, with the handshake completed either way.
#[derive(Debug)]
pub(crate) struct Probe {
    check: Option<Arc<dyn ServerCertVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    seen: std::sync::Mutex<Option<ProbeResult>>,
}

/// The chain (end entity first) and the verdict (`Err`: the refusal, in words; `None` when
/// there was no check to run).
#[derive(Clone, Debug)]
pub(crate) struct ProbeResult {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) verdict: Option<Result<(), String>>,
}

impl Probe {
    pub(crate) fn new(
        check: Option<Arc<dyn ServerCertVerifier>>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Probe {
        Probe {
            check,
            algorithms,
            seen: std::sync::Mutex::new(None),
        }
    }

    /// What the handshake showed, once it ran.
    pub(crate) fn result(&self) -> Option<ProbeResult> {
        self.seen.lock().ok().and_then(|s| s.clone())
    }
}

impl ServerCertVerifier for Probe {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = self.check.as_ref().map(|c| {
            c.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map(|_| ())
                .map_err(|e| match &e {
                    Error::InvalidCertificate(ce) => {
                        refusal_text(ce).unwrap_or_else(|| e.to_string())
                    }
                    _ => e.to_string(),
                })
        });
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(ProbeResult { chain, verdict });
        }
        Ok(ServerCertVerified::assertion())
    }

    signatures_by_algorithms!();
}

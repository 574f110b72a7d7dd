//! SMPP over TLS: configurations, errors, and the TLS state of one connection.
//!
//! With the `tls` feature (on by default) a connection may carry a `rustls` client or server
//! connection between its socket and its session. The event loop drives it without
//! blocking: `read_tls` and `process_new_packets` until the socket would block, the
//! decrypted octets to the session; the session's octets into `writer()` and `write_tls`
//! until the socket would block. The plaintext write buffer and its limits
//! ([`crate::Config::write_high_water`], [`crate::Config::max_write_buffer`]) stay as they
//! are; rustls holds at most its own buffer limit of records on top of them.
//!
//! [`TlsError`] exists without the feature too: a plaintext connection whose peer answers
//! with TLS records closes with [`TlsError::UnexpectedTls`].
//!
//! # Crypto provider
//!
//! The configurations made here ([`TlsClientConfig::system_roots`],
//! [`TlsClientConfig::with_ca_pem`], [`TlsServerConfig::from_pem`]) use the process-wide
//! provider when the application installed one
//! (`rustls::crypto::CryptoProvider::install_default`), else the one our features chose:
//! aws-lc-rs (`tls`, `tls-aws-lc-rs`; TLS 1.3 prefers the hybrid post-quantum key exchange
//! X25519MLKEM768), or ring (`tls-ring` without aws-lc-rs; classic key exchange only). With
//! `tls-core` alone there is no provider of ours and a configuration without an installed
//! one fails with [`TlsError::Config`]. See `docs/tls.md`.

use std::fmt;

/// Why a TLS handshake or a TLS connection failed, or a TLS configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// We refused the peer's certificate: not issued by a trusted CA (`UnknownIssuer`), not
    /// valid for the server name asked for (`NotValidForName`), expired, ... The text is
    /// rustls' reason.
    Certificate(String),
    /// The peer ended the handshake with a fatal alert, e.g. `UnknownCA` or
    /// `BadCertificate` when it does not trust our certificate.
    AlertReceived(String),
    /// The peer's octets are not TLS records: a plaintext SMPP peer on a TLS connection.
    NotTls,
    /// The peer sent TLS records on a plaintext SMPP connection: it expects TLS.
    UnexpectedTls,
    /// The peer closed the connection during the handshake (a plaintext SMPP server hangs
    /// up on a `ClientHello`).
    ClosedDuringHandshake,
    /// The handshake did not complete within [`crate::Config::connect_timeout`].
    HandshakeTimeout,
    /// Another TLS protocol failure (rustls' text).
    Protocol(String),
    /// A configuration was refused: unreadable PEM, no certificate, a key that does not
    /// match the certificate, an invalid server name, no trusted roots.
    Config(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Certificate(why) => {
                write!(f, "TLS: the peer's certificate was refused: {why}")
            }
            TlsError::AlertReceived(alert) => match alert.as_str() {
                "CertificateRequired" => f.write_str(
                    "TLS: the peer requires a client certificate (alert CertificateRequired): \
                     give one with --client-cert FILE --client-key FILE",
                ),
                "UnknownCA" | "BadCertificate" | "CertificateUnknown" | "AccessDenied" => write!(
                    f,
                    "TLS: the peer refused our certificate (alert {alert}): as a client, the \
                     SMSC does not trust the issuer of our client certificate; as a server, \
                     the ESME does not trust ours"
                ),
                "HandshakeFailure" | "ProtocolVersion" | "InsufficientSecurity" => write!(
                    f,
                    "TLS: the peer ended the handshake (alert {alert}): no TLS version or \
                     cipher suite in common, or (TLS 1.2) a client certificate it requires \
                     is missing"
                ),
                _ => write!(
                    f,
                    "TLS: the peer aborted the handshake with alert {alert} (does it trust our \
                     certificate?)"
                ),
            },
            TlsError::NotTls => f.write_str(
                "TLS: the peer does not speak TLS (a plaintext SMPP peer on a TLS connection?)",
            ),
            TlsError::UnexpectedTls => f.write_str(
                "TLS: the peer sent TLS records on a plaintext SMPP connection (connect with TLS)",
            ),
            TlsError::ClosedDuringHandshake => f.write_str(
                "TLS: the peer closed the connection during the handshake (a plaintext SMPP port?)",
            ),
            TlsError::HandshakeTimeout => {
                f.write_str("TLS: the handshake did not complete within the connect timeout")
            }
            TlsError::Protocol(why) => write!(f, "TLS: {why}"),
            TlsError::Config(why) => write!(f, "TLS configuration: {why}"),
        }
    }
}

impl std::error::Error for TlsError {}

#[cfg(feature = "tls-core")]
impl TlsError {
    /// rustls' error as ours (for a face that runs rustls itself, as smpp-tokio does): a
    /// certificate refused by our verifiers keeps its words, an alert its name.
    pub fn from_rustls(e: rustls::Error) -> TlsError {
        classify(e)
    }
}

/// What a TLS connection negotiated, for logs and checks: see
/// [`crate::Connection::tls_info`]. The names are rustls' (IANA's names with underscores).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsInfo {
    /// The protocol version, e.g. `TLSv1_3`.
    pub version: String,
    /// The cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    /// The key exchange group, e.g. `X25519MLKEM768` (hybrid post-quantum) or `X25519`;
    /// `None` when rustls does not report one (a TLS 1.2 session resumed without a new key
    /// exchange).
    pub key_exchange_group: Option<String>,
}

impl fmt::Display for TlsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.version, self.cipher_suite)?;
        if let Some(group) = &self.key_exchange_group {
            write!(f, " {group}")?;
        }
        Ok(())
    }
}

/// Whether the first octets read on a plaintext connection are a TLS record header:
/// content type alert (21) or handshake (22), then major version 3 and a minor version up to
/// 4. As an SMPP header that would be a `command_length` above 350 MB, which no PDU has.
pub(crate) fn looks_like_tls(first: &[u8]) -> bool {
    matches!(first, [0x15 | 0x16, 0x03, minor, ..] if *minor <= 0x04)
}

#[cfg(feature = "tls-core")]
pub use imp::{TlsClientConfig, TlsServerConfig};

#[cfg(feature = "tls-core")]
mod verify;
#[cfg(feature = "tls-core")]
pub use verify::{CertPin, CertificateSummary};

#[cfg(feature = "tls-core")]
pub(crate) use imp::{classify, info_of, TlsConn};

/// The ring provider, assembled from rustls' public parts: `rustls::crypto::ring::
/// default_provider` is deprecated since rustls 0.23.48 (no post-quantum key exchange), and
/// `-D warnings` turns a call into an error. The same suites, groups and algorithms as that
/// function's provider. Only compiled when ring is the provider of ours.
#[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc-rs")))]
mod ring_provider {
    use std::sync::Arc;

    use rustls::crypto::{
        ring as rustls_ring, CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom,
        WebPkiSupportedAlgorithms,
    };
    use rustls::pki_types::PrivateKeyDer;
    use rustls::sign::SigningKey;
    use rustls::SignatureScheme;
    use webpki::ring as algs;

    /// Randomness and key loading with ring.
    #[derive(Debug)]
    struct Ring;

    impl SecureRandom for Ring {
        fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
            use ring::rand::SecureRandom as _;
            ring::rand::SystemRandom::new()
                .fill(buf)
                .map_err(|_| GetRandomFailed)
        }
    }

    impl KeyProvider for Ring {
        fn load_private_key(
            &self,
            key_der: PrivateKeyDer<'static>,
        ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
            rustls_ring::sign::any_supported_type(&key_der)
        }
    }

    /// What webpki verifies with ring, and which TLS signature scheme maps to what.
    static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
        all: &[
            algs::ECDSA_P256_SHA256,
            algs::ECDSA_P256_SHA384,
            algs::ECDSA_P384_SHA256,
            algs::ECDSA_P384_SHA384,
            algs::ED25519,
            algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            algs::RSA_PKCS1_2048_8192_SHA256,
            algs::RSA_PKCS1_2048_8192_SHA384,
            algs::RSA_PKCS1_2048_8192_SHA512,
            algs::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
            algs::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
            algs::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        ],
        mapping: &[
            // For TLS 1.2 the curve is not fixed by the scheme; for TLS 1.3 it is.
            (
                SignatureScheme::ECDSA_NISTP384_SHA384,
                &[algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384],
            ),
            (
                SignatureScheme::ECDSA_NISTP256_SHA256,
                &[algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256],
            ),
            (SignatureScheme::ED25519, &[algs::ED25519]),
            (
                SignatureScheme::RSA_PSS_SHA512,
                &[algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PSS_SHA384,
                &[algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PSS_SHA256,
                &[algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA512,
                &[algs::RSA_PKCS1_2048_8192_SHA512],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA384,
                &[algs::RSA_PKCS1_2048_8192_SHA384],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA256,
                &[algs::RSA_PKCS1_2048_8192_SHA256],
            ),
        ],
    };

    /// ring's provider: TLS 1.3 and 1.2 suites; X25519, then P-256 and P-384, in that
    /// order of preference, stated here (rustls 0.23.48 moved P-384 first in ring's
    /// default list, so two ring ends would have settled on the slowest of the three).
    pub(super) fn provider() -> CryptoProvider {
        CryptoProvider {
            cipher_suites: rustls_ring::DEFAULT_CIPHER_SUITES.to_vec(),
            kx_groups: vec![
                rustls_ring::kx_group::X25519,
                rustls_ring::kx_group::SECP256R1,
                rustls_ring::kx_group::SECP384R1,
            ],
            signature_verification_algorithms: SIGNATURE_ALGORITHMS,
            secure_random: &Ring,
            key_provider: &Ring,
        }
    }
}

#[cfg(feature = "tls-core")]
mod imp {
    use std::fmt;
    use std::io::{self, Read, Write};
    use std::net::SocketAddr;
    use std::sync::Arc;

    use rustls::client::danger::ServerCertVerifier;
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use rustls::{ClientConfig, RootCertStore, ServerConfig};

    use super::verify::{self, CertPin};
    use super::{ReadError, ReadWrite, TlsError, TlsInfo};

    /// The provider our configurations use: the process-wide one when the application
    /// installed it, else the one of our features (see the module's documentation).
    fn provider() -> Result<Arc<CryptoProvider>, TlsError> {
        if let Some(installed) = CryptoProvider::get_default() {
            log::debug!("TLS: using the process-wide crypto provider");
            return Ok(Arc::clone(installed));
        }
        ours()
    }

    #[cfg(feature = "tls-aws-lc-rs")]
    fn ours() -> Result<Arc<CryptoProvider>, TlsError> {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }

    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc-rs")))]
    fn ours() -> Result<Arc<CryptoProvider>, TlsError> {
        Ok(Arc::new(super::ring_provider::provider()))
    }

    #[cfg(not(any(feature = "tls-aws-lc-rs", feature = "tls-ring")))]
    fn ours() -> Result<Arc<CryptoProvider>, TlsError> {
        Err(TlsError::Config(
            "no crypto provider: built with `tls-core` only, and none installed with \
             rustls::crypto::CryptoProvider::install_default"
                .into(),
        ))
    }

    /// Reads every certificate of a PEM text.
    fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Config(format!("{what}: cannot read PEM: {e}")))?;
        if certs.is_empty() {
            return Err(TlsError::Config(format!(
                "{what}: no CERTIFICATE block in the PEM text"
            )));
        }
        Ok(certs)
    }

    /// A client certificate chain and its key (mutual TLS).
    type ClientAuth = Arc<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>;

    /// How a client connects with TLS: how the SMSC's certificate is checked (trusted
    /// roots, a pinned certificate, or not at all), optionally a client certificate, and
    /// the server name to ask for and check the certificate against. Cheap to clone.
    ///
    /// Without [`TlsClientConfig::server_name`] the name is the IP address connected to,
    /// so the server's certificate must name that address; set it when the certificate
    /// names a host.
    ///
    /// A refused certificate is [`TlsError::Certificate`] saying what was wrong in words
    /// (not issued by a trusted CA, issued for other names, expired, marked as a CA), what
    /// to do about it, and the certificate's subject, issuer, dates, names and SHA-256
    /// fingerprint (to pin it, when it is the SMSC's own).
    #[derive(Clone)]
    pub struct TlsClientConfig {
        pub(crate) config: Arc<ClientConfig>,
        pub(crate) server_name: Option<String>,
        /// How the server's certificate is checked (`None` for a configuration made
        /// elsewhere, [`TlsClientConfig::from_rustls`]).
        verifier: Option<Arc<dyn ServerCertVerifier>>,
        client_auth: Option<ClientAuth>,
    }

    impl fmt::Debug for TlsClientConfig {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsClientConfig")
                .field("server_name", &self.server_name)
                .finish_non_exhaustive()
        }
    }

    impl TlsClientConfig {
        /// A configuration checking certificates with `verifier`.
        fn with_verifier(
            provider: Arc<CryptoProvider>,
            verifier: Arc<dyn ServerCertVerifier>,
            client_auth: Option<ClientAuth>,
        ) -> Result<Self, TlsError> {
            let builder = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError::Config(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::clone(&verifier));
            let config = match &client_auth {
                None => builder.with_no_client_auth(),
                Some(auth) => builder
                    .with_client_auth_cert(auth.0.clone(), auth.1.clone_key())
                    .map_err(|e| {
                        TlsError::Config(format!("client certificate and key refused: {e}"))
                    })?,
            };
            Ok(TlsClientConfig {
                config: Arc::new(config),
                server_name: None,
                verifier: Some(verifier),
                client_auth,
            })
        }

        fn with_roots(roots: RootCertStore) -> Result<Self, TlsError> {
            if roots.is_empty() {
                return Err(TlsError::Config("no trusted root certificate".into()));
            }
            let provider = provider()?;
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| TlsError::Config(format!("trusted roots refused: {e}")))?;
            Self::with_verifier(provider, Arc::new(verify::Explaining { inner }), None)
        }

        /// Trusts exactly these certificates of the SMSC (its own, compared by SHA-256;
        /// see [`CertPin::from_pem`] and [`CertPin::from_hex`]), whatever issued them and
        /// whatever their basic constraints: for SMSCs that hand out a self-signed
        /// certificate. The server name is not checked (the pin names the certificate);
        /// the dates are, unless `allow_expired`. The handshake's signatures are checked
        /// as always: the SMSC must hold the certificate's key.
        pub fn pinned(pins: Vec<CertPin>, allow_expired: bool) -> Result<Self, TlsError> {
            if pins.is_empty() {
                return Err(TlsError::Config("no certificate to pin".into()));
            }
            let provider = provider()?;
            let algorithms = provider.signature_verification_algorithms;
            Self::with_verifier(
                provider,
                Arc::new(verify::Pinned {
                    pins,
                    allow_expired,
                    algorithms,
                }),
                None,
            )
        }

        /// Accepts any certificate without a check (lab use only): every handshake logs a
        /// warning with the certificate it accepted. The connection is encrypted, but
        /// anyone between here and the SMSC can read and change it.
        pub fn dangerous_accept_any() -> Result<Self, TlsError> {
            let provider = provider()?;
            let algorithms = provider.signature_verification_algorithms;
            Self::with_verifier(provider, Arc::new(verify::AcceptAny { algorithms }), None)
        }

        /// Presents this client certificate (mutual TLS, for SMSCs that require one): a
        /// chain (PEM, ours first) and its private key (PEM: PKCS#8, PKCS#1 or SEC1).
        /// Fails on a configuration made with [`TlsClientConfig::from_rustls`] (give the
        /// certificate to rustls there).
        pub fn with_client_cert(self, chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
            let certs = certs_from_pem(chain_pem, "client certificate")?;
            let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
                TlsError::Config(format!("client private key: cannot read PEM: {e}"))
            })?;
            let Some(verifier) = self.verifier.clone() else {
                return Err(TlsError::Config(
                    "a configuration from rustls takes its client certificate there".into(),
                ));
            };
            let provider = Arc::clone(self.config.crypto_provider());
            let mut out = Self::with_verifier(provider, verifier, Some(Arc::new((certs, key))))?;
            out.server_name = self.server_name;
            Ok(out)
        }

        /// Whether a client certificate is configured.
        pub fn has_client_cert(&self) -> bool {
            self.client_auth.is_some()
        }

        /// A configuration that completes any handshake and records, instead of enforcing,
        /// what this one's check says: for `smpp tls-probe`.
        pub(crate) fn probing(&self) -> Result<(Self, Arc<verify::Probe>), TlsError> {
            let provider = Arc::clone(self.config.crypto_provider());
            let probe = Arc::new(verify::Probe::new(
                self.verifier.clone(),
                provider.signature_verification_algorithms,
            ));
            let mut out = Self::with_verifier(
                provider,
                Arc::clone(&probe) as Arc<dyn ServerCertVerifier>,
                self.client_auth.clone(),
            )?;
            out.server_name = self.server_name.clone();
            Ok((out, probe))
        }

        /// Trusts the operating system's root certificates (read once, here; `SSL_CERT_FILE`
        /// and `SSL_CERT_DIR` are honoured).
        pub fn system_roots() -> Result<Self, TlsError> {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                log::warn!("cannot load a system root certificate: {e}");
            }
            let mut roots = RootCertStore::empty();
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            log::debug!("{added} system root certificates ({ignored} unusable)");
            Self::with_roots(roots)
        }

        /// Trusts only the CA certificates of this PEM text (one or more `CERTIFICATE`
        /// blocks), e.g. a private CA or a self-signed server certificate's issuer.
        pub fn with_ca_pem(pem: &[u8]) -> Result<Self, TlsError> {
            let mut roots = RootCertStore::empty();
            for cert in certs_from_pem(pem, "CA")? {
                roots
                    .add(cert)
                    .map_err(|e| TlsError::Config(format!("CA certificate refused: {e}")))?;
            }
            Self::with_roots(roots)
        }

        /// Uses a rustls configuration made elsewhere (client certificates, other
        /// verifiers, ...).
        pub fn from_rustls(config: Arc<ClientConfig>) -> Self {
            TlsClientConfig {
                config,
                server_name: None,
                verifier: None,
                client_auth: None,
            }
        }

        /// Asks for and checks the certificate against this name (a DNS name or an IP
        /// address) instead of the IP address connected to.
        pub fn server_name(mut self, name: impl Into<String>) -> Self {
            self.server_name = Some(name.into());
            self
        }

        /// The rustls configuration, for a face that runs TLS itself (smpp-tokio's client
        /// hands it to tokio-rustls).
        pub fn rustls_config(&self) -> Arc<ClientConfig> {
            Arc::clone(&self.config)
        }

        /// The name a connection to `addr` asks for and checks the certificate against:
        /// [`TlsClientConfig::server_name`], else the address itself.
        pub fn server_name_for(&self, addr: SocketAddr) -> Result<ServerName<'static>, TlsError> {
            self.name_for(addr)
        }

        /// The name the connection to `addr` asks for.
        pub(crate) fn name_for(&self, addr: SocketAddr) -> Result<ServerName<'static>, TlsError> {
            match &self.server_name {
                Some(n) => ServerName::try_from(n.clone())
                    .map_err(|e| TlsError::Config(format!("server name {n:?}: {e}"))),
                None => Ok(ServerName::IpAddress(addr.ip().into())),
            }
        }
    }

    /// How a listener serves TLS: its certificate chain and private key, and optionally the
    /// CAs whose client certificates it requires. Cheap to clone.
    #[derive(Clone)]
    pub struct TlsServerConfig {
        pub(crate) config: Arc<ServerConfig>,
        /// The certificate and key, to build the configuration again with client
        /// authentication (`None` for a configuration made elsewhere).
        identity: Option<ClientAuth>,
    }

    impl fmt::Debug for TlsServerConfig {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // Never the key.
            f.debug_struct("TlsServerConfig").finish_non_exhaustive()
        }
    }

    impl TlsServerConfig {
        /// A certificate chain (PEM, the server's certificate first, then intermediates)
        /// and its private key (PEM: PKCS#8, PKCS#1 or SEC1). Fails with
        /// [`TlsError::Config`] naming what is wrong: no certificate, no key, or a key that
        /// does not match the certificate.
        pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
            let certs = certs_from_pem(cert_chain_pem, "certificate chain")?;
            let key = PrivateKeyDer::from_pem_slice(key_pem)
                .map_err(|e| TlsError::Config(format!("private key: cannot read PEM: {e}")))?;
            let config = ServerConfig::builder_with_provider(provider()?)
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError::Config(e.to_string()))?
                .with_no_client_auth()
                .with_single_cert(certs.clone(), key.clone_key())
                .map_err(|e| TlsError::Config(format!("certificate and key refused: {e}")))?;
            Ok(TlsServerConfig {
                config: Arc::new(config),
                identity: Some(Arc::new((certs, key))),
            })
        }

        /// Requires every client to present a certificate issued by one of the CAs of this
        /// PEM text (mutual TLS); a client without one, or with another, fails the
        /// handshake. Fails on a configuration made with
        /// [`TlsServerConfig::from_rustls`].
        pub fn require_client_cert(self, ca_pem: &[u8]) -> Result<Self, TlsError> {
            let Some(identity) = self.identity.clone() else {
                return Err(TlsError::Config(
                    "a configuration from rustls sets client authentication there".into(),
                ));
            };
            let mut roots = RootCertStore::empty();
            for cert in certs_from_pem(ca_pem, "client CA")? {
                roots
                    .add(cert)
                    .map_err(|e| TlsError::Config(format!("client CA refused: {e}")))?;
            }
            let provider = Arc::clone(self.config.crypto_provider());
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| TlsError::Config(format!("client CA refused: {e}")))?;
            let config = ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError::Config(e.to_string()))?
                .with_client_cert_verifier(verifier)
                .with_single_cert(identity.0.clone(), identity.1.clone_key())
                .map_err(|e| TlsError::Config(format!("certificate and key refused: {e}")))?;
            Ok(TlsServerConfig {
                config: Arc::new(config),
                identity: Some(identity),
            })
        }

        /// Uses a rustls configuration made elsewhere (client authentication, several
        /// certificates, ...).
        pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
            TlsServerConfig {
                config,
                identity: None,
            }
        }

        /// The rustls configuration, for a face that runs TLS itself (smpp-tokio's server
        /// hands it to tokio-rustls).
        pub fn rustls_config(&self) -> Arc<ServerConfig> {
            Arc::clone(&self.config)
        }
    }

    /// What a connection negotiated.
    pub(crate) fn info_of<D>(conn: &rustls::ConnectionCommon<D>) -> TlsInfo {
        TlsInfo {
            version: conn
                .protocol_version()
                .map_or_else(|| "none".into(), |v| format!("{v:?}")),
            cipher_suite: conn
                .negotiated_cipher_suite()
                .map_or_else(|| "none".into(), |s| format!("{:?}", s.suite())),
            key_exchange_group: conn
                .negotiated_key_exchange_group()
                .map(|g| format!("{:?}", g.name())),
        }
    }

    /// Maps a rustls error to ours.
    pub(crate) fn classify(e: rustls::Error) -> TlsError {
        match e {
            rustls::Error::InvalidCertificate(c) if verify::refusal_text(&c).is_some() => {
                TlsError::Certificate(verify::refusal_text(&c).unwrap_or_default())
            }
            rustls::Error::InvalidCertificate(c) => {
                // The variant's name (`UnknownIssuer`, `NotValidForNameContext`, ...), then
                // rustls' sentence when it says more.
                let debug = format!("{c:?}");
                let kind = debug.split(['{', '(']).next().unwrap_or("").trim();
                let text = c.to_string();
                TlsError::Certificate(if text == kind {
                    text
                } else {
                    format!("{kind}: {text}")
                })
            }
            rustls::Error::NoCertificatesPresented => {
                TlsError::Certificate("the peer sent no certificate".into())
            }
            rustls::Error::AlertReceived(a) => TlsError::AlertReceived(format!("{a:?}")),
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
            | rustls::Error::InvalidMessage(rustls::InvalidMessage::UnknownProtocolVersion) => {
                TlsError::NotTls
            }
            other => TlsError::Protocol(other.to_string()),
        }
    }

    /// The TLS side of one connection.
    pub(crate) struct TlsConn {
        conn: rustls::Connection,
        /// Whether any TLS octets came from the peer (to tell a plaintext server that hung
        /// up from one that failed later).
        got_any: bool,
        close_notify_sent: bool,
    }

    impl TlsConn {
        pub(crate) fn client(config: &TlsClientConfig, addr: SocketAddr) -> Result<Self, TlsError> {
            let name = config.name_for(addr)?;
            let conn = rustls::ClientConnection::new(Arc::clone(&config.config), name)
                .map_err(classify)?;
            Ok(TlsConn {
                conn: conn.into(),
                got_any: false,
                close_notify_sent: false,
            })
        }

        pub(crate) fn server(config: &TlsServerConfig) -> Result<Self, TlsError> {
            let conn =
                rustls::ServerConnection::new(Arc::clone(&config.config)).map_err(classify)?;
            Ok(TlsConn {
                conn: conn.into(),
                got_any: false,
                close_notify_sent: false,
            })
        }

        pub(crate) fn wants_write(&self) -> bool {
            self.conn.wants_write()
        }

        /// What the handshake negotiated (once it is complete).
        pub(crate) fn info(&self) -> TlsInfo {
            match &self.conn {
                rustls::Connection::Client(c) => info_of(c),
                rustls::Connection::Server(s) => info_of(s),
            }
        }

        /// Reads and processes TLS records until the socket would block or the handshake
        /// is over; writes what the handshake wants to send. `Ok(true)` once the handshake
        /// is complete (records still to write are written by [`TlsConn::write`]).
        pub(crate) fn handshake(&mut self, stream: &mut impl ReadWrite) -> Result<bool, ReadError> {
            loop {
                while self.conn.wants_write() {
                    match self.conn.write_tls(stream) {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(ReadError::Io(e)),
                    }
                }
                if !self.conn.is_handshaking() {
                    return Ok(true);
                }
                match self.conn.read_tls(stream) {
                    Ok(0) => return Err(ReadError::Tls(TlsError::ClosedDuringHandshake)),
                    Ok(_) => {
                        self.got_any = true;
                        self.process()?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if !self.got_any && is_reset(&e) => {
                        return Err(ReadError::Tls(TlsError::ClosedDuringHandshake))
                    }
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
        }

        fn process(&mut self) -> Result<(), ReadError> {
            self.conn
                .process_new_packets()
                .map(|_| ())
                .map_err(|e| ReadError::Tls(classify(e)))
        }

        /// Reads decrypted octets into `buf`: `Ok(0)` at the end of the stream (the peer's
        /// `close_notify`, or its close without one), `WouldBlock` when the socket has no
        /// more for now.
        pub(crate) fn read(
            &mut self,
            stream: &mut impl ReadWrite,
            buf: &mut [u8],
        ) -> Result<usize, ReadError> {
            loop {
                match self.conn.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    // Closed without close_notify: an end of stream all the same (SMPP
                    // frames its PDUs, so truncation shows there).
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                    Err(e) => return Err(ReadError::Io(e)),
                }
                match self.conn.read_tls(stream) {
                    Ok(0) => return Ok(0),
                    Ok(_) => self.process()?,
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
        }

        /// Encrypts `wbuf[*wpos..]` and writes records until done or the socket would
        /// block; advances `wpos` past what rustls took.
        pub(crate) fn write(
            &mut self,
            stream: &mut impl ReadWrite,
            wbuf: &[u8],
            wpos: &mut usize,
        ) -> io::Result<()> {
            loop {
                while self.conn.wants_write() {
                    match self.conn.write_tls(stream) {
                        Ok(0) => {
                            return Err(io::Error::new(
                                io::ErrorKind::WriteZero,
                                "write returned 0",
                            ))
                        }
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                if *wpos >= wbuf.len() {
                    return Ok(());
                }
                let n = self.conn.writer().write(&wbuf[*wpos..])?;
                if n == 0 {
                    // rustls' buffer is full while it wants nothing written: cannot
                    // happen after the loop above, but never spin.
                    return Ok(());
                }
                *wpos += n;
            }
        }

        /// Queues a `close_notify` once (written by the next [`TlsConn::write`]).
        pub(crate) fn close_notify(&mut self) {
            if !self.close_notify_sent {
                self.close_notify_sent = true;
                self.conn.send_close_notify();
            }
        }

        /// Writes what rustls holds (an alert) once, without waiting; errors are ignored:
        /// the connection is being dropped.
        pub(crate) fn flush_best_effort(&mut self, stream: &mut impl ReadWrite) {
            while self.conn.wants_write() {
                if self.conn.write_tls(stream).is_err() {
                    return;
                }
            }
        }
    }

    fn is_reset(e: &io::Error) -> bool {
        matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
        )
    }
}

/// A failed TLS read: the socket's error, or the TLS protocol's.
#[cfg_attr(not(feature = "tls-core"), allow(dead_code))]
pub(crate) enum ReadError {
    Io(std::io::Error),
    Tls(TlsError),
}

/// A socket.
pub(crate) trait ReadWrite: std::io::Read + std::io::Write {}
impl<T: std::io::Read + std::io::Write> ReadWrite for T {}

#[cfg(not(feature = "tls-core"))]
pub(crate) use stub::{TlsClientConfig, TlsConn, TlsServerConfig};

/// Without the `tls` feature no connection has a TLS side: these types have no values, so
/// the loop's TLS paths compile to nothing.
#[cfg(not(feature = "tls-core"))]
mod stub {
    use std::io;
    use std::net::SocketAddr;

    use super::{ReadError, ReadWrite, TlsError, TlsInfo};

    pub(crate) enum TlsClientConfig {}
    pub(crate) enum TlsServerConfig {}
    pub(crate) enum TlsConn {}

    impl TlsConn {
        pub(crate) fn client(c: &TlsClientConfig, _: SocketAddr) -> Result<Self, TlsError> {
            match *c {}
        }
        pub(crate) fn server(c: &TlsServerConfig) -> Result<Self, TlsError> {
            match *c {}
        }
        pub(crate) fn wants_write(&self) -> bool {
            match *self {}
        }
        pub(crate) fn info(&self) -> TlsInfo {
            match *self {}
        }
        pub(crate) fn handshake(&mut self, _: &mut impl ReadWrite) -> Result<bool, ReadError> {
            match *self {}
        }
        pub(crate) fn read(
            &mut self,
            _: &mut impl ReadWrite,
            _: &mut [u8],
        ) -> Result<usize, ReadError> {
            match *self {}
        }
        pub(crate) fn write(
            &mut self,
            _: &mut impl ReadWrite,
            _: &[u8],
            _: &mut usize,
        ) -> io::Result<()> {
            match *self {}
        }
        pub(crate) fn close_notify(&mut self) {
            match *self {}
        }
        pub(crate) fn flush_best_effort(&mut self, _: &mut impl ReadWrite) {
            match *self {}
        }
    }
}

//! The TLS options of every command that connects (`send`, `listen`, `query`, ...,
//! `tls-probe`): how the SMSC's certificate is checked (system roots, `--ca`, a pinned
//! certificate, or `--insecure`), the client certificate, and the server name.

use std::path::PathBuf;

use clap::Args;
use smpp_client::{TlsClientConfig, TlsFileConfig};

/// TLS to the SMSC.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct TlsArgs {
    /// Connect over TLS, trusting the system's root certificates (or only --ca, or the
    /// pinned certificate). Implied by any other TLS option. Needs --addr: the embedded
    /// SMSC is plaintext.
    #[arg(long)]
    pub(crate) tls: bool,
    /// Trust only the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// The name the server's certificate must carry (default: the host of --addr).
    #[arg(long, value_name = "NAME")]
    pub(crate) server_name: Option<String>,
    /// Trust exactly this certificate of the SMSC (PEM; repeatable), whatever issued it
    /// and whatever its basic constraints: for SMSCs that hand out a self-signed
    /// certificate. Its name is not checked; its dates are, unless --allow-expired.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ca", "insecure"])]
    pub(crate) pin_cert: Vec<PathBuf>,
    /// Like --pin-cert, by the certificate's SHA-256 fingerprint (64 hex digits, ':'
    /// between octets allowed, as `openssl x509 -fingerprint -sha256` prints it and as a
    /// refused certificate's message shows it; repeatable).
    #[arg(long, value_name = "HEX", conflicts_with_all = ["ca", "insecure"])]
    pub(crate) pin_sha256: Vec<String>,
    /// With a pinned certificate: accept it even when it expired (or is not valid yet).
    #[arg(long)]
    pub(crate) allow_expired: bool,
    /// Accept any certificate without a check (lab use only: anyone between here and the
    /// SMSC can read and change the traffic). A warning is printed at every connect.
    #[arg(long, conflicts_with = "ca")]
    pub(crate) insecure: bool,
    /// Present this client certificate (PEM chain, ours first) for SMSCs that require
    /// one (mutual TLS); needs --client-key.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub(crate) client_cert: Option<PathBuf>,
    /// The private key (PEM) of --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub(crate) client_key: Option<PathBuf>,
}

impl TlsArgs {
    /// Whether TLS was asked for, by --tls or any other TLS option.
    pub(crate) fn wanted(&self) -> bool {
        self.tls
            || self.ca.is_some()
            || self.server_name.is_some()
            || !self.pin_cert.is_empty()
            || !self.pin_sha256.is_empty()
            || self.insecure
            || self.allow_expired
            || self.client_cert.is_some()
    }

    /// The client configuration (`None` without TLS); `host` is the host of --addr, the
    /// default server name. The rules are the configuration file's
    /// (`TlsFileConfig::client_config`); an error names the option.
    pub(crate) fn client_config(
        &self,
        host: Option<&str>,
    ) -> Result<Option<TlsClientConfig>, String> {
        if !self.wanted() {
            return Ok(None);
        }
        let mut t = TlsFileConfig::default();
        t.ca = self.ca.clone();
        t.server_name = self.server_name.clone().or(host.map(str::to_string));
        t.pin_cert = self.pin_cert.clone();
        t.pin_sha256 = self.pin_sha256.clone();
        t.allow_expired = self.allow_expired;
        t.insecure = self.insecure;
        t.client_cert = self.client_cert.clone();
        t.client_key = self.client_key.clone();
        t.client_config().map(Some).map_err(|e| {
            // The file's key names, as this command's options.
            let mut message = e.message;
            for key in [
                "pin_cert",
                "pin_sha256",
                "allow_expired",
                "client_cert",
                "client_key",
            ] {
                message = message.replace(key, &format!("--{}", key.replace('_', "-")));
            }
            if e.key.is_empty() {
                format!("TLS: {message}")
            } else {
                format!("--{}: {message}", e.key.replace('_', "-"))
            }
        })
    }
}

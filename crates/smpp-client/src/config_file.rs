//! A TOML file describing a pool of SMPP binds: one `[[smsc]]` table per account and an
//! optional `[store]`.
//!
//! ```toml
//! [[smsc]]
//! name = "a"                     # required, unique across accounts
//! addr = ["127.0.0.1:2775"]      # required, non-empty, tried in turn; one string also works
//! system_id = "esme1"            # required
//! password = "secret"            # or password_env = "VAR" (exactly one of the two)
//! bind = "trx"                   # tx | rx | trx | tx+rx (default trx)
//! binds = 2                      # default 1
//! window = 64                    # default 64, 1..=65535
//! max_rate = 500                 # optional, submits per second for the account
//! weight = 1                     # default 1
//! system_type = ""               # optional
//! enquire_link = 30              # optional seconds (0 = off)
//! response_timeout = 10          # optional seconds
//! tls = { ca = "ca.pem", server_name = "smsc.example.com" }   # or tls = true
//!
//! [store]
//! url = "sqlite:/var/lib/smpp/track.db"   # or "redis://127.0.0.1:6379/0" or "memory"
//! ```
//!
//! Parsed with serde and the `toml` crate, whose spans give every error its line and key.

use std::fmt;
use std::net::ToSocketAddrs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use smpp_session::BindKind;
use toml::Spanned;

/// A pool of SMPP accounts read from a TOML file (docs/pool.md describes the format).
#[derive(Clone, Debug, PartialEq)]
pub struct PoolConfig {
    /// The `[[smsc]]` accounts, in file order; never empty after a successful parse.
    pub smsc: Vec<AccountConfig>,
    /// The `[store]` table, when there is one.
    pub store: Option<StoreConfig>,
}

/// One `[[smsc]]` account: where to connect, with which credentials, how many binds.
#[derive(Clone, PartialEq)]
pub struct AccountConfig {
    /// The account's name, unique in the file.
    pub name: String,
    /// `host:port` addresses, tried in turn; never empty.
    pub addr: Vec<String>,
    /// The bind's `system_id`.
    pub system_id: String,
    /// The bind's password (from `password`, or the variable `password_env` names, read at
    /// load). Never shown by `Debug`.
    pub password: String,
    /// Which binds to open.
    pub bind: BindMode,
    /// How many binds (of each kind of [`BindMode::kinds`]) to open; at least 1.
    pub binds: usize,
    /// Requests in flight per bind, 1..=65535.
    pub window: usize,
    /// Most submits per second for the whole account (shared by its binds); `None` for no
    /// cap.
    pub max_rate: Option<f64>,
    /// The account's share of traffic relative to the others; at least 1.
    pub weight: u32,
    /// The bind's `system_type` (empty by default).
    pub system_type: String,
    /// The enquire_link interval: `None` for the session's default, `Some(Duration::ZERO)`
    /// (`enquire_link = 0` in the file) to send none.
    pub enquire_link: Option<Duration>,
    /// The response timeout; `None` for the session's default.
    pub response_timeout: Option<Duration>,
    /// Connect over TLS; `None` for plaintext.
    pub tls: Option<TlsFileConfig>,
}

impl fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountConfig")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .field("system_id", &self.system_id)
            .field("password", &"***")
            .field("bind", &self.bind)
            .field("binds", &self.binds)
            .field("window", &self.window)
            .field("max_rate", &self.max_rate)
            .field("weight", &self.weight)
            .field("system_type", &self.system_type)
            .field("enquire_link", &self.enquire_link)
            .field("response_timeout", &self.response_timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Which binds an account opens: `bind = "tx" | "rx" | "trx" | "tx+rx"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum BindMode {
    /// Transmitters only (`"tx"`).
    #[serde(rename = "tx")]
    Tx,
    /// Receivers only (`"rx"`).
    #[serde(rename = "rx")]
    Rx,
    /// Transceivers (`"trx"`, the default).
    #[serde(rename = "trx")]
    #[default]
    Trx,
    /// A transmitter and a receiver side by side (`"tx+rx"`).
    #[serde(rename = "tx+rx")]
    TxRx,
}

impl BindMode {
    /// The bind kinds to open for this mode: one for each, two (transmitter, receiver) for
    /// [`BindMode::TxRx`].
    pub fn kinds(&self) -> &'static [BindKind] {
        match self {
            BindMode::Tx => &[BindKind::Transmitter],
            BindMode::Rx => &[BindKind::Receiver],
            BindMode::Trx => &[BindKind::Transceiver],
            BindMode::TxRx => &[BindKind::Transmitter, BindKind::Receiver],
        }
    }

    /// Whether the account's binds can submit messages.
    pub fn can_submit(&self) -> bool {
        !matches!(self, BindMode::Rx)
    }

    /// Whether the account's binds receive messages and receipts.
    pub fn can_receive(&self) -> bool {
        !matches!(self, BindMode::Tx)
    }
}

/// The `[store]` table: where tracked messages are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// `"memory"`, `"sqlite:PATH"`, `"redis://..."` or `"rediss://..."`, as
    /// `smpp_store::open` takes it.
    pub url: String,
}

/// An account's `tls` entry: `tls = true` (system roots, no server name) or a table with
/// the settings of the CLI's TLS options. Relative paths are taken from the configuration
/// file's directory by [`PoolConfig::load`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFileConfig {
    /// A PEM file of CA certificates to trust instead of the system's roots.
    pub ca: Option<PathBuf>,
    /// The name to check the server's certificate against, instead of its IP address.
    pub server_name: Option<String>,
    /// The SMSC's own certificates (PEM), trusted whatever issued them (`pin_cert`: a
    /// path, or a list of paths).
    pub pin_cert: Vec<PathBuf>,
    /// The SMSC's certificates by their SHA-256 fingerprints (`pin_sha256`: one, or a
    /// list).
    pub pin_sha256: Vec<String>,
    /// With a pinned certificate: accept it expired (`allow_expired`).
    pub allow_expired: bool,
    /// Accept any certificate without a check, with a warning at every connect
    /// (`insecure`; lab use only).
    pub insecure: bool,
    /// A client certificate chain (PEM) for SMSCs that require one (`client_cert`).
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM) (`client_key`).
    pub client_key: Option<PathBuf>,
}

/// A TLS setting that cannot be used: its key (as the configuration file names it:
/// `pin_cert`, `client_key`, ...; empty for the table as a whole) and why.
#[cfg(feature = "tls-core")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettingError {
    /// The key at fault (`ca`, `pin_cert`, `pin_sha256`, `allow_expired`, `insecure`,
    /// `client_cert`, `client_key`), or empty.
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

#[cfg(feature = "tls-core")]
impl TlsFileConfig {
    /// The client TLS configuration these settings describe: the one place the rules live
    /// for the configuration file, the CLI's TLS options and the Python package. A pinned
    /// certificate (`pin_cert`, `pin_sha256`), `insecure` and `ca` exclude each other;
    /// `allow_expired` needs a pin; `client_cert` and `client_key` go together; without a
    /// pin, `insecure` or `ca`, the system's roots are trusted. Files are read here.
    pub fn client_config(&self) -> Result<crate::TlsClientConfig, TlsSettingError> {
        let err = |key: &'static str, message: String| TlsSettingError { key, message };
        let read = |key: &'static str, path: &PathBuf| {
            std::fs::read(path)
                .map_err(|e| err(key, format!("cannot read `{}`: {e}", path.display())))
        };
        let mut pins = Vec::new();
        for path in &self.pin_cert {
            pins.extend(
                crate::CertPin::from_pem(&read("pin_cert", path)?)
                    .map_err(|e| err("pin_cert", format!("`{}`: {e}", path.display())))?,
            );
        }
        for hex in &self.pin_sha256 {
            pins.push(crate::CertPin::from_hex(hex).map_err(|e| err("pin_sha256", e.to_string()))?);
        }
        let exclusive = [!pins.is_empty(), self.insecure, self.ca.is_some()];
        if exclusive.iter().filter(|b| **b).count() > 1 {
            return Err(err(
                "",
                "give one of a pinned certificate (pin_cert, pin_sha256), insecure and ca".into(),
            ));
        }
        if self.allow_expired && pins.is_empty() {
            return Err(err(
                "allow_expired",
                "goes with pin_cert or pin_sha256".into(),
            ));
        }
        let mut client = if !pins.is_empty() {
            crate::TlsClientConfig::pinned(pins, self.allow_expired)
                .map_err(|e| err("", e.to_string()))?
        } else if self.insecure {
            crate::TlsClientConfig::dangerous_accept_any()
                .map_err(|e| err("insecure", e.to_string()))?
        } else {
            match &self.ca {
                Some(ca) => crate::TlsClientConfig::with_ca_pem(&read("ca", ca)?)
                    .map_err(|e| err("ca", format!("CA file `{}`: {e}", ca.display())))?,
                None => crate::TlsClientConfig::system_roots()
                    .map_err(|e| err("", format!("system roots: {e}")))?,
            }
        };
        match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                client = client
                    .with_client_cert(&read("client_cert", cert)?, &read("client_key", key)?)
                    .map_err(|e| err("client_cert", e.to_string()))?;
            }
            (None, None) => {}
            _ => {
                return Err(err(
                    "client_cert",
                    "client_cert and client_key go together".into(),
                ))
            }
        }
        if let Some(name) = &self.server_name {
            client = client.server_name(name.clone());
        }
        Ok(client)
    }
}

/// Why a configuration file was refused: where (file, line, key) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, when the configuration was loaded from one.
    pub path: Option<PathBuf>,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The key at fault, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    fn new(line: Option<usize>, key: Option<&str>, message: impl Into<String>) -> Self {
        ConfigError {
            path: None,
            line,
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{l}: ", p.display())?,
            (Some(p), None) => write!(f, "{}: ", p.display())?,
            (None, Some(l)) => write!(f, "line {l}: ")?,
            (None, None) => {}
        }
        if let Some(k) = &self.key {
            write!(f, "key `{k}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl PoolConfig {
    /// Parses and checks a configuration (see docs/pool.md for the file format); reads the
    /// variables `password_env` names. Errors name the line and key.
    pub fn from_toml(text: &str) -> Result<PoolConfig, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| from_toml_error(text, &e))?;
        let lines = Lines(text);
        let Some(accounts) = raw.smsc else {
            return Err(ConfigError::new(
                None,
                Some("smsc"),
                "no [[smsc]] account: at least one is needed",
            ));
        };
        if accounts.get_ref().is_empty() {
            return Err(ConfigError::new(
                Some(lines.line(accounts.span())),
                Some("smsc"),
                "no [[smsc]] account: at least one is needed",
            ));
        }
        let mut smsc: Vec<AccountConfig> = Vec::with_capacity(accounts.get_ref().len());
        for a in accounts.into_inner() {
            let account = a.check(&lines)?;
            if smsc.iter().any(|o| o.name == account.name) {
                return Err(ConfigError::new(
                    Some(lines.line(a.name.span())),
                    Some("name"),
                    format!("account name `{}` is used twice", account.name),
                ));
            }
            smsc.push(account);
        }
        let store = match raw.store {
            None => None,
            Some(s) => {
                let url = s.url.get_ref();
                let known = url == "memory"
                    || url.starts_with("sqlite:")
                    || url.starts_with("redis://")
                    || url.starts_with("rediss://");
                if !known {
                    return Err(ConfigError::new(
                        Some(lines.line(s.url.span())),
                        Some("url"),
                        format!(
                            "unknown store `{url}`: expected \"memory\", \"sqlite:PATH\" or \"redis://HOST:PORT/DB\""
                        ),
                    ));
                }
                Some(StoreConfig {
                    url: s.url.into_inner(),
                })
            }
        };
        Ok(PoolConfig { smsc, store })
    }

    /// Reads and parses the file at `path` (see [`PoolConfig::from_toml`]); errors carry
    /// the path. A relative `tls.ca` is taken from the file's directory.
    pub fn load(path: &Path) -> Result<PoolConfig, ConfigError> {
        let with_path = |mut e: ConfigError| {
            e.path = Some(path.to_owned());
            e
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| with_path(ConfigError::new(None, None, format!("cannot read: {e}"))))?;
        let mut config = PoolConfig::from_toml(&text).map_err(with_path)?;
        let dir = path.parent().unwrap_or(Path::new(""));
        for a in &mut config.smsc {
            let files = a.tls.as_mut().into_iter().flat_map(|t| {
                let single = [&mut t.ca, &mut t.client_cert, &mut t.client_key];
                single.into_iter().flatten().chain(t.pin_cert.iter_mut())
            });
            for ca in files {
                if ca.is_relative() {
                    *ca = dir.join(&*ca);
                }
            }
        }
        Ok(config)
    }

    /// Resolves every account's addresses (DNS for host names); fails on the first one that
    /// does not resolve, naming the account and the address.
    pub fn check_addresses(&self) -> Result<(), ConfigError> {
        for a in &self.smsc {
            for addr in &a.addr {
                let why = match addr.to_socket_addrs() {
                    Ok(mut found) => {
                        if found.next().is_some() {
                            continue;
                        }
                        "no address found".to_owned()
                    }
                    Err(e) => e.to_string(),
                };
                return Err(ConfigError::new(
                    None,
                    Some("addr"),
                    format!(
                        "account `{}`: address `{addr}` does not resolve: {why}",
                        a.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl AccountConfig {
    /// A client configuration for one bind of this account, of `kind`: credentials,
    /// `system_type`, window, enquire_link interval, response timeout, TLS, and the
    /// account's name as [`ClientConfig::account`](crate::ClientConfig::account). The rate
    /// cap is not set: the account's binds share [`AccountConfig::max_rate`].
    ///
    /// Fails when the CA file cannot be read or used, or when the file asks for TLS and
    /// the crate was built without it (the `tls-core` feature).
    pub fn client_config(&self, kind: BindKind) -> Result<crate::ClientConfig, ConfigError> {
        let mut config =
            crate::ClientConfig::new(kind, &self.system_id, &self.password).window(self.window);
        config.bind.system_type = self.system_type.clone();
        // Its message ids are its own: see `ClientConfig::account`.
        config.account = Some(self.name.clone());
        match self.enquire_link {
            None => {}
            Some(d) if d.is_zero() => config = config.enquire_link_interval(None),
            Some(d) => config = config.enquire_link_interval(Some(d)),
        }
        if let Some(t) = self.response_timeout {
            config = config.response_timeout(t);
        }
        if let Some(tls) = &self.tls {
            config = self.with_tls(config, tls)?;
        }
        Ok(config)
    }

    #[cfg(feature = "tls-core")]
    fn with_tls(
        &self,
        config: crate::ClientConfig,
        tls: &TlsFileConfig,
    ) -> Result<crate::ClientConfig, ConfigError> {
        let client = tls.client_config().map_err(|e| {
            let key = if e.key.is_empty() {
                "tls".to_string()
            } else {
                format!("tls.{}", e.key)
            };
            ConfigError::new(
                None,
                Some(&key),
                format!("account `{}`: {}", self.name, e.message),
            )
        })?;
        Ok(config.tls(client))
    }

    #[cfg(not(feature = "tls-core"))]
    fn with_tls(
        &self,
        _config: crate::ClientConfig,
        _tls: &TlsFileConfig,
    ) -> Result<crate::ClientConfig, ConfigError> {
        Err(ConfigError::new(
            None,
            Some("tls"),
            format!(
                "account `{}`: TLS support is not built in (smpp-client's `tls` feature)",
                self.name
            ),
        ))
    }
}

// ---------------------------------------------------------------------------------------
// The file as written, with spans for the checks made after deserializing.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    smsc: Option<Spanned<Vec<RawAccount>>>,
    store: Option<RawStore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    name: Spanned<String>,
    addr: Spanned<Addrs>,
    system_id: Spanned<String>,
    password: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    #[serde(default)]
    bind: BindMode,
    binds: Option<Spanned<i64>>,
    window: Option<Spanned<i64>>,
    max_rate: Option<Spanned<f64>>,
    weight: Option<Spanned<i64>>,
    system_type: Option<String>,
    enquire_link: Option<Spanned<i64>>,
    response_timeout: Option<Spanned<i64>>,
    tls: Option<RawTls>,
}

/// `addr`: one string or an array of them (each with its span when known).
struct Addrs(Vec<(String, Option<Range<usize>>)>);

impl<'de> Deserialize<'de> for Addrs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Addrs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a \"host:port\" string or an array of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Addrs, E> {
                Ok(Addrs(vec![(v.to_owned(), None)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Addrs, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Spanned<String>>()? {
                    let span = s.span();
                    out.push((s.into_inner(), Some(span)));
                }
                Ok(Addrs(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `tls`: `true`, `false` or a table.
struct RawTls(Option<TlsFileConfig>);

/// A value, or a list of them.
struct OneOrMany<T>(Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either<T> {
            Many(Vec<T>),
            One(T),
        }
        Ok(OneOrMany(match Either::deserialize(d)? {
            Either::Many(v) => v,
            Either::One(x) => vec![x],
        }))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTlsTable {
    ca: Option<PathBuf>,
    server_name: Option<String>,
    #[serde(default)]
    pin_cert: OneOrMany<PathBuf>,
    #[serde(default)]
    pin_sha256: OneOrMany<String>,
    #[serde(default)]
    allow_expired: bool,
    #[serde(default)]
    insecure: bool,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
}

impl<'de> Deserialize<'de> for RawTls {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawTls;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "true, false or a table { ca, server_name, pin_cert, pin_sha256, \
                     allow_expired, insecure, client_cert, client_key }",
                )
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawTls, E> {
                Ok(RawTls(v.then(TlsFileConfig::default)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawTls, A::Error> {
                let t = RawTlsTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawTls(Some(TlsFileConfig {
                    ca: t.ca,
                    server_name: t.server_name,
                    pin_cert: t.pin_cert.0,
                    pin_sha256: t.pin_sha256.0,
                    allow_expired: t.allow_expired,
                    insecure: t.insecure,
                    client_cert: t.client_cert,
                    client_key: t.client_key,
                })))
            }
        }
        d.deserialize_any(V)
    }
}

/// The text, for turning byte offsets into 1-based line numbers.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        line_of(self.0, span.start)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn err_at<T>(
    lines: &Lines<'_>,
    v: &Spanned<T>,
    key: &str,
    message: impl Into<String>,
) -> ConfigError {
    ConfigError::new(Some(lines.line(v.span())), Some(key), message)
}

impl RawAccount {
    fn check(&self, lines: &Lines<'_>) -> Result<AccountConfig, ConfigError> {
        let name = self.name.get_ref();
        if name.is_empty() {
            return Err(err_at(lines, &self.name, "name", "must not be empty"));
        }
        let who = format!("account `{name}`");
        let addrs = &self.addr.get_ref().0;
        if addrs.is_empty() {
            return Err(err_at(
                lines,
                &self.addr,
                "addr",
                format!("{who}: at least one address is needed"),
            ));
        }
        for (a, span) in addrs {
            if let Err(why) = check_addr_syntax(a) {
                let line = lines.line(span.clone().unwrap_or_else(|| self.addr.span()));
                return Err(ConfigError::new(
                    Some(line),
                    Some("addr"),
                    format!("{who}: address `{a}` {why}: expected HOST:PORT"),
                ));
            }
        }
        if self.system_id.get_ref().is_empty() {
            return Err(err_at(
                lines,
                &self.system_id,
                "system_id",
                format!("{who}: must not be empty"),
            ));
        }
        let password = match (&self.password, &self.password_env) {
            (Some(p), None) => p.get_ref().clone(),
            (None, Some(var)) => std::env::var(var.get_ref()).map_err(|e| {
                err_at(
                    lines,
                    var,
                    "password_env",
                    format!(
                        "{who}: cannot read the password from variable `{}`: {e}",
                        var.get_ref()
                    ),
                )
            })?,
            (Some(_), Some(var)) => {
                return Err(err_at(
                    lines,
                    var,
                    "password_env",
                    format!("{who}: give `password` or `password_env`, not both"),
                ))
            }
            (None, None) => {
                return Err(err_at(
                    lines,
                    &self.name,
                    "password",
                    format!("{who}: `password` or `password_env` is needed"),
                ))
            }
        };
        let binds = int_in(lines, &self.binds, "binds", &who, 1, i64::MAX, 1)?;
        let window = int_in(lines, &self.window, "window", &who, 1, 65_535, 64)?;
        let weight = int_in(lines, &self.weight, "weight", &who, 1, u32::MAX.into(), 1)?;
        let max_rate = match &self.max_rate {
            None => None,
            Some(r) => {
                let v = *r.get_ref();
                if !(v.is_finite() && v > 0.0) {
                    return Err(err_at(
                        lines,
                        r,
                        "max_rate",
                        format!("{who}: must be a number of submits per second above 0"),
                    ));
                }
                Some(v)
            }
        };
        let enquire_link = match &self.enquire_link {
            None => None,
            Some(s) => Some(Duration::from_secs(int_in(
                lines,
                &Some(s.clone()),
                "enquire_link",
                &who,
                0,
                i64::MAX,
                0,
            )? as u64)),
        };
        let response_timeout = match &self.response_timeout {
            None => None,
            Some(s) => Some(Duration::from_secs(int_in(
                lines,
                &Some(s.clone()),
                "response_timeout",
                &who,
                1,
                i64::MAX,
                0,
            )? as u64)),
        };
        Ok(AccountConfig {
            name: name.clone(),
            addr: addrs.iter().map(|(a, _)| a.clone()).collect(),
            system_id: self.system_id.get_ref().clone(),
            password,
            bind: self.bind,
            binds: binds as usize,
            window: window as usize,
            max_rate,
            weight: weight as u32,
            system_type: self.system_type.clone().unwrap_or_default(),
            enquire_link,
            response_timeout,
            tls: self.tls.as_ref().and_then(|t| t.0.clone()),
        })
    }
}

/// The value of an optional integer key, `default` when absent, checked to be in
/// `min..=max`.
fn int_in(
    lines: &Lines<'_>,
    v: &Option<Spanned<i64>>,
    key: &str,
    who: &str,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, ConfigError> {
    let Some(s) = v else { return Ok(default) };
    let n = *s.get_ref();
    if n < min || n > max {
        let range = if max == i64::MAX {
            format!("at least {min}")
        } else {
            format!("from {min} to {max}")
        };
        return Err(err_at(
            lines,
            s,
            key,
            format!("{who}: {n} is out of range: must be {range}"),
        ));
    }
    Ok(n)
}

/// Checks `host:port` syntax (no lookup): a non-empty host (an IPv6 address in brackets)
/// and a port from 1 to 65535.
fn check_addr_syntax(a: &str) -> Result<(), &'static str> {
    let Some((host, port)) = a.rsplit_once(':') else {
        return Err("has no port");
    };
    if host.is_empty() {
        return Err("has no host");
    }
    if host.chars().any(char::is_whitespace) {
        return Err("has a space in the host");
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err("has an IPv6 address not in brackets");
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err("has a bad port"),
    }
}

/// A toml/serde error as a [`ConfigError`]: the line from its span, the key from its
/// message (missing and unknown fields) or from the text at the span.
fn from_toml_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().to_owned();
    let span = e.span();
    let line = span.as_ref().map(|s| line_of(text, s.start));
    let key = key_in_message(&message).or_else(|| span.and_then(|s| key_at(text, s)));
    ConfigError {
        path: None,
        line,
        key,
        message,
    }
}

/// The field named by serde's "missing field `x`" and "unknown field `x`" messages.
fn key_in_message(message: &str) -> Option<String> {
    for start in ["missing field `", "unknown field `", "duplicate key `"] {
        if let Some(rest) = message.strip_prefix(start) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}

/// The key an error span points at: the span itself when it is a key (followed by `=`),
/// else the nearest `key =` before it on its line.
fn key_at(text: &str, span: Range<usize>) -> Option<String> {
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return None;
    }
    let after = text[end..].trim_start_matches([' ', '\t']);
    if after.starts_with('=') && end > start {
        let k = last_key_segment(&text[start..end]);
        if !k.is_empty() {
            return Some(k);
        }
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..start];
    let eq = before.rfind('=')?;
    let k = last_key_segment(&before[..eq]);
    (!k.is_empty()).then_some(k)
}

/// The last part of a (possibly dotted, quoted, or inline-table) key written before `=`.
fn last_key_segment(s: &str) -> String {
    let s = s.trim_end();
    let tail = s
        .rsplit(|c: char| c == '{' || c == ',' || c == '.' || c.is_whitespace())
        .next()
        .unwrap_or("");
    tail.trim_matches(['"', '\'']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[[smsc]]
name = "a"
addr = ["127.0.0.1:2775", "smsc.example.com:2775"]
system_id = "esme1"
password = "secret"
bind = "tx+rx"
binds = 2
window = 32
max_rate = 500
weight = 3
system_type = "VMA"
enquire_link = 0
response_timeout = 10
tls = { ca = "ca.pem", server_name = "smsc.example.com" }

[[smsc]]
name = "b"
addr = "[::1]:2775"
system_id = "esme2"
password = "pw2"
tls = true

[store]
url = "sqlite:/var/lib/smpp/track.db"
"#;

    /// A minimal account, with `extra` lines appended to its table.
    fn account(name: &str, extra: &str) -> String {
        format!(
            "[[smsc]]\nname = \"{name}\"\naddr = \"127.0.0.1:2775\"\nsystem_id = \"id\"\n{extra}"
        )
    }

    /// Parses `text`, expecting an error at `line` with `key`; returns the message.
    fn fails(text: &str, line: usize, key: &str) -> String {
        let e = PoolConfig::from_toml(text).expect_err("should be refused");
        assert_eq!(e.line, Some(line), "line of {e} in\n{text}");
        assert_eq!(e.key.as_deref(), Some(key), "key of {e} in\n{text}");
        e.to_string()
    }

    #[test]
    fn full_file_round_trip() {
        let c = PoolConfig::from_toml(FULL).unwrap();
        let expected = PoolConfig {
            smsc: vec![
                AccountConfig {
                    name: "a".into(),
                    addr: vec!["127.0.0.1:2775".into(), "smsc.example.com:2775".into()],
                    system_id: "esme1".into(),
                    password: "secret".into(),
                    bind: BindMode::TxRx,
                    binds: 2,
                    window: 32,
                    max_rate: Some(500.0),
                    weight: 3,
                    system_type: "VMA".into(),
                    enquire_link: Some(Duration::ZERO),
                    response_timeout: Some(Duration::from_secs(10)),
                    tls: Some(TlsFileConfig {
                        ca: Some("ca.pem".into()),
                        server_name: Some("smsc.example.com".into()),
                        ..TlsFileConfig::default()
                    }),
                },
                AccountConfig {
                    name: "b".into(),
                    addr: vec!["[::1]:2775".into()],
                    system_id: "esme2".into(),
                    password: "pw2".into(),
                    bind: BindMode::Trx,
                    binds: 1,
                    window: 64,
                    max_rate: None,
                    weight: 1,
                    system_type: String::new(),
                    enquire_link: None,
                    response_timeout: None,
                    tls: Some(TlsFileConfig::default()),
                },
            ],
            store: Some(StoreConfig {
                url: "sqlite:/var/lib/smpp/track.db".into(),
            }),
        };
        assert_eq!(c, expected);
        assert_eq!(
            BindMode::TxRx.kinds(),
            &[BindKind::Transmitter, BindKind::Receiver]
        );
        assert!(BindMode::Tx.can_submit() && !BindMode::Tx.can_receive());
        assert!(!BindMode::Rx.can_submit() && BindMode::Rx.can_receive());
        assert!(BindMode::Trx.can_submit() && BindMode::Trx.can_receive());
        let b = c.smsc[1].client_config(BindKind::Transceiver);
        #[cfg(not(feature = "tls-core"))]
        assert!(b.unwrap_err().message.contains("not built in"));
        #[cfg(feature = "tls-core")]
        let _ = b; // system roots may be missing on a test machine
    }

    #[test]
    fn client_config_carries_the_account() {
        let text = account(
            "a",
            "password = \"pw\"\nsystem_type = \"VMA\"\nwindow = 7\nenquire_link = 0\nresponse_timeout = 3\n",
        );
        let c = PoolConfig::from_toml(&text).unwrap();
        let cc = c.smsc[0].client_config(BindKind::Receiver).unwrap();
        assert_eq!(cc.bind.kind, BindKind::Receiver);
        assert_eq!(cc.bind.system_id, "id");
        assert_eq!(cc.bind.password, "pw");
        assert_eq!(cc.bind.system_type, "VMA");
        assert_eq!(cc.session.window, 7);
        assert_eq!(cc.session.enquire_link_interval, None);
        assert_eq!(cc.session.response_timeout, Duration::from_secs(3));
        assert_eq!(cc.max_rate, None);
    }

    #[cfg(feature = "tls-core")]
    #[test]
    fn missing_ca_file_names_account_and_file() {
        let text = account(
            "a",
            "password = \"pw\"\ntls = { ca = \"/no/such/ca.pem\" }\n",
        );
        let c = PoolConfig::from_toml(&text).unwrap();
        let e = c.smsc[0]
            .client_config(BindKind::Transceiver)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("account `a`") && e.contains("/no/such/ca.pem"),
            "{e}"
        );
    }

    #[test]
    fn tls_false_is_none_and_load_carries_path() {
        let c = PoolConfig::from_toml(&account("a", "password = \"p\"\ntls = false\n")).unwrap();
        assert_eq!(c.smsc[0].tls, None);
        assert_eq!(c.store, None);

        let dir = std::env::temp_dir().join(format!("smpp-config-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            account("a", "password = \"p\"\ntls = { ca = \"ca.pem\" }\n"),
        )
        .unwrap();
        let c = PoolConfig::load(&good).unwrap();
        assert_eq!(
            c.smsc[0].tls.as_ref().unwrap().ca.as_deref(),
            Some(dir.join("ca.pem").as_path())
        );
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, account("a", "password = \"p\"\nbinds = 0\n")).unwrap();
        let e = PoolConfig::load(&bad).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(bad.as_path()));
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("{}:6: key `binds`: ", bad.display())),
            "{shown}"
        );
        let missing = PoolConfig::load(&dir.join("missing.toml")).unwrap_err();
        assert!(missing.path.is_some() && missing.line.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rejects_an_empty_pool() {
        let e = PoolConfig::from_toml("").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("smsc"));
        fails("\n\nsmsc = []\n", 3, "smsc");
    }

    #[test]
    fn rejects_duplicate_names() {
        let text = format!(
            "{}{}",
            account("a", "password = \"p\"\n"),
            account("a", "password = \"p\"\n")
        );
        let m = fails(&text, 7, "name");
        assert!(m.contains("used twice"), "{m}");
    }

    #[test]
    fn rejects_missing_or_double_password() {
        fails(&account("a", ""), 2, "password");
        fails(
            &account("a", "password = \"p\"\npassword_env = \"X\"\n"),
            6,
            "password_env",
        );
    }

    #[test]
    fn reads_password_env() {
        let var = "SMPP_CLIENT_CONFIG_FILE_TEST_PASSWORD_7F3A";
        std::env::set_var(var, "from-env");
        let c =
            PoolConfig::from_toml(&account("a", &format!("password_env = \"{var}\"\n"))).unwrap();
        assert_eq!(c.smsc[0].password, "from-env");
        std::env::remove_var(var);
    }

    #[test]
    fn rejects_unset_password_env() {
        let m = fails(
            &account(
                "a",
                "password_env = \"SMPP_CLIENT_CONFIG_FILE_TEST_UNSET_9B21\"\n",
            ),
            5,
            "password_env",
        );
        assert!(m.contains("SMPP_CLIENT_CONFIG_FILE_TEST_UNSET_9B21"), "{m}");
    }

    #[test]
    fn rejects_out_of_range_numbers_on_their_line() {
        // binds = 0 in the second account.
        let text = format!(
            "{}{}",
            account("a", "password = \"p\"\n"),
            account("b", "password = \"p\"\nbinds = 0\n")
        );
        fails(&text, 11, "binds");
        fails(&account("a", "password = \"p\"\nwindow = 0\n"), 6, "window");
        fails(
            &account("a", "password = \"p\"\nwindow = 65536\n"),
            6,
            "window",
        );
        fails(
            &account("a", "password = \"p\"\nmax_rate = 0\n"),
            6,
            "max_rate",
        );
        fails(
            &account("a", "password = \"p\"\nmax_rate = -2.5\n"),
            6,
            "max_rate",
        );
        fails(&account("a", "password = \"p\"\nweight = 0\n"), 6, "weight");
        fails(
            &account("a", "password = \"p\"\nresponse_timeout = 0\n"),
            6,
            "response_timeout",
        );
        fails(
            &account("a", "password = \"p\"\nenquire_link = -1\n"),
            6,
            "enquire_link",
        );
    }

    #[test]
    fn rejects_bad_addresses() {
        let one =
            "[[smsc]]\nname = \"a\"\naddr = \"localhost\"\nsystem_id = \"i\"\npassword = \"p\"\n";
        let m = fails(one, 3, "addr");
        assert!(m.contains("`localhost`"), "{m}");
        let many = "[[smsc]]\nname = \"a\"\naddr = [\n  \"127.0.0.1:2775\",\n  \"host:port\",\n]\nsystem_id = \"i\"\npassword = \"p\"\n";
        fails(many, 5, "addr");
        let empty = "[[smsc]]\nname = \"a\"\naddr = []\nsystem_id = \"i\"\npassword = \"p\"\n";
        fails(empty, 3, "addr");
        let v6 =
            "[[smsc]]\nname = \"a\"\naddr = \"::1:2775\"\nsystem_id = \"i\"\npassword = \"p\"\n";
        fails(v6, 3, "addr");
    }

    #[test]
    fn rejects_unknown_keys_and_kinds() {
        let m = fails(
            &account("a", "password = \"p\"\n\npasword = \"x\"\n"),
            7,
            "pasword",
        );
        assert!(m.contains("pasword"), "{m}");
        let m = fails(
            &account("a", "password = \"p\"\nbind = \"txrx\"\n"),
            6,
            "bind",
        );
        for allowed in ["`tx`", "`rx`", "`trx`", "`tx+rx`"] {
            assert!(m.contains(allowed), "{m}");
        }
        fails(
            &account("a", "password = \"p\"\ntls = { ca = \"x\", sni = \"y\" }\n"),
            6,
            "sni",
        );
        fails(
            &format!(
                "{}\n[store]\nurl = \"memory\"\npath = \"x\"\n",
                account("a", "password = \"p\"\n")
            ),
            9,
            "path",
        );
        fails(
            &format!(
                "{}\n[store]\nurl = \"postgres://x\"\n",
                account("a", "password = \"p\"\n")
            ),
            8,
            "url",
        );
        fails("[[smsc]]\nname = \"a\"\n", 1, "addr");
        fails(
            &account("a", "password = \"p\"\nbinds = \"two\"\n"),
            6,
            "binds",
        );
        fails(&account("a", "password = \"p\"\ntls = 3\n"), 6, "tls");
    }

    #[test]
    fn debug_hides_the_password() {
        let c = PoolConfig::from_toml(&account("a", "password = \"hunter2-secret\"\n")).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("password: \"***\""), "{shown}");
    }

    #[test]
    fn check_addresses_resolves() {
        let ok = PoolConfig::from_toml(&account("a", "password = \"p\"\n")).unwrap();
        ok.check_addresses().unwrap();
        let bad = "[[smsc]]\nname = \"far\"\naddr = [\"127.0.0.1:2775\", \"no-such-host.invalid:2775\"]\nsystem_id = \"i\"\npassword = \"p\"\n";
        let e = PoolConfig::from_toml(bad)
            .unwrap()
            .check_addresses()
            .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("addr"));
        assert!(
            e.message.contains("`far`") && e.message.contains("no-such-host.invalid:2775"),
            "{e}"
        );
    }

    #[test]
    fn tls_tables_take_pins_insecure_and_client_certificates() {
        let text = r#"
[[smsc]]
name = "pinned"
addr = ["127.0.0.1:2775"]
system_id = "a"
password = "b"
tls = { pin_sha256 = "AB:CD", allow_expired = true }
"#;
        let c = PoolConfig::from_toml(text).expect("the keys are known");
        let tls = c.smsc[0].tls.as_ref().expect("a tls table");
        assert_eq!(tls.pin_sha256, ["AB:CD"]);
        assert!(tls.allow_expired);
        // A fingerprint that is not one is refused naming the key.
        let e = c.smsc[0]
            .client_config(BindKind::Transceiver)
            .expect_err("not 32 octets");
        assert_eq!(e.key.as_deref(), Some("tls.pin_sha256"), "{e}");
        let both = text.replace(
            "tls = { pin_sha256 = \"AB:CD\", allow_expired = true }",
            "tls = { insecure = true, ca = \"ca.pem\" }",
        );
        let e = PoolConfig::from_toml(&both).unwrap().smsc[0]
            .client_config(BindKind::Transceiver)
            .expect_err("insecure and a CA");
        assert!(e.message.contains("give one of"), "{e}");
        let half = text.replace(
            "tls = { pin_sha256 = \"AB:CD\", allow_expired = true }",
            "tls = { insecure = true, client_cert = \"c.pem\" }",
        );
        let e = PoolConfig::from_toml(&half).unwrap().smsc[0]
            .client_config(BindKind::Transceiver)
            .expect_err("a certificate without its key");
        assert!(e.message.contains("go together"), "{e}");
        let typo = text.replace("allow_expired", "allow_expird");
        let e = PoolConfig::from_toml(&typo).expect_err("an unknown key");
        assert!(e.to_string().contains("allow_expird"), "{e}");
    }
}

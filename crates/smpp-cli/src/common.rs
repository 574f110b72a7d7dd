//! What `send`, `listen` and `bench` share: the connection options, value parsers,
//! connecting, the embedded SMSC.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use smpp_client::{Client, ClientConfig};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};

/// Credentials used against the embedded SMSC (which accepts any bind).
pub(crate) const EMBEDDED_ID: &str = "smpp";

/// A password from the command line. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Password(pub(crate) String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Parses a password (any text).
pub(crate) fn password(v: &str) -> Result<Password, String> {
    Ok(Password(v.to_string()))
}

/// `--addr HOST:PORT`: the resolved address, and the host when it was a name.
#[derive(Clone, Debug)]
pub(crate) struct Addr {
    /// The first address the host resolved to.
    pub(crate) socket: SocketAddr,
    /// The host of `--addr` when it is a name (the TLS server name by default).
    pub(crate) host: Option<String>,
}

/// Parses `HOST:PORT`, resolving a host name.
pub(crate) fn addr(v: &str) -> Result<Addr, String> {
    use std::net::ToSocketAddrs;
    let socket = v
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| "no address".to_string())?;
    let host = v
        .rsplit_once(':')
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
        .filter(|h| h.parse::<std::net::IpAddr>().is_err())
        .map(str::to_string);
    Ok(Addr { socket, host })
}

/// Where to connect, as whom, and whether over TLS: the options `send`, `listen` and
/// `bench` share.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Connection")]
pub(crate) struct Connection {
    /// The SMSC to connect to (a host name is resolved). Needs --system-id and a
    /// password. Without it, send and bench start an embedded test SMSC on 127.0.0.1
    /// that accepts any bind; listen needs it.
    #[arg(long, value_name = "HOST:PORT", value_parser = addr)]
    pub(crate) addr: Option<Addr>,
    /// The system_id to bind with.
    #[arg(long, value_name = "ID")]
    pub(crate) system_id: Option<String>,
    /// The system_type to bind with (some SMSCs route or bill by it; default empty).
    #[arg(long, value_name = "TYPE", value_parser = system_type)]
    pub(crate) system_type: Option<String>,
    /// The SMPP version to bind as: 3.4 (interface_version 0x34, the default) or 5.0
    /// (0x50).
    #[arg(long, value_name = "VERSION", value_parser = interface_version)]
    pub(crate) interface_version: Option<u8>,
    /// How long to wait for each response from the SMSC before giving up (default 10).
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub(crate) response_timeout: Option<Duration>,
    /// The password to bind with (never logged). On the command line it shows in `ps`:
    /// prefer SMPP_PASSWORD, --password-file, or the prompt on a terminal. Not used with
    /// --config or --smsc (the file holds the passwords).
    #[arg(
        long,
        value_name = "PW",
        value_parser = password,
        allow_hyphen_values = true,
        env = "SMPP_PASSWORD",
        hide_env_values = true
    )]
    pub(crate) password: Option<Password>,
    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "password")]
    pub(crate) password_file: Option<PathBuf>,
    /// TLS: --tls, --ca, --server-name, --pin-cert, --pin-sha256, --allow-expired,
    /// --insecure, --client-cert, --client-key.
    #[command(flatten)]
    pub(crate) tls: crate::tls_args::TlsArgs,
    /// Keep tracked messages in a store, so that a later `smpp listen` (or another
    /// process) matches their receipts: memory (the default), sqlite:PATH, or
    /// redis://HOST:PORT[/DB].
    #[arg(long, value_name = "URL")]
    pub(crate) store: Option<String>,
    /// With --store shared with `--config` processes: the name of the SMSC account (its
    /// `name` in the file), so that ids match across processes. An SMSC's message ids are
    /// unique only among its own, so a pool keeps each account's apart.
    #[arg(long, value_name = "NAME", requires = "store")]
    pub(crate) account: Option<String>,
}

impl Connection {
    /// The password: `--password` (or SMPP_PASSWORD), else the first line of
    /// `--password-file`, else, connecting to `--addr` from a terminal, typed at a prompt
    /// (not echoed); `None` when there is none.
    pub(crate) fn secret(&self) -> Result<Option<String>, String> {
        if let Some(p) = &self.password {
            return Ok(Some(p.0.clone()));
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--password-file {}: {e}", path.display()))?;
            let line = text.lines().next().unwrap_or_default();
            return Ok(Some(line.to_string()));
        }
        let Some(addr) = &self.addr else {
            return Ok(None);
        };
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return Ok(None);
        }
        let who = self.system_id.as_deref().unwrap_or_default();
        rpassword::prompt_password(format!("password for {who} at {}: ", addr.socket))
            .map(Some)
            .map_err(|e| format!("cannot read the password: {e}"))
    }

    /// The socket address of `--addr`, if given.
    pub(crate) fn socket(&self) -> Option<SocketAddr> {
        self.addr.as_ref().map(|a| a.socket)
    }

    /// With `--addr`, `--system-id` and `--password` are required; `--ca` and
    /// `--server-name` need `--tls`, which needs `--addr`.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.addr.is_some() && self.system_id.is_none() {
            return Err("--addr needs --system-id".into());
        }
        if self.tls.wanted() && self.addr.is_none() {
            return Err("TLS needs --addr (the embedded SMSC is plaintext)".into());
        }
        Ok(())
    }

    /// The address to use, starting the embedded SMSC when there is none.
    pub(crate) fn resolve(
        &self,
        receipt_delay: Duration,
    ) -> Result<(SocketAddr, Option<Smsc>), String> {
        match self.socket() {
            Some(a) => Ok((a, None)),
            None => {
                let smsc = Smsc::start(SmscConfig::default().receipt_delay(receipt_delay))
                    .map_err(|e| format!("cannot start the embedded SMSC: {e}"))?;
                Ok((smsc.local_addr(), Some(smsc)))
            }
        }
    }

    /// A client configuration of this bind kind; with `--tls`, the CA file is read here.
    pub(crate) fn config(&self, kind: BindKind) -> Result<ClientConfig, String> {
        let id = self.system_id.as_deref().unwrap_or(EMBEDDED_ID);
        let pw = match self.secret()? {
            Some(pw) => pw,
            None if self.addr.is_none() => EMBEDDED_ID.to_string(),
            None => {
                return Err("--addr needs a password: --password, --password-file, \
                            SMPP_PASSWORD, or the prompt on a terminal"
                    .into())
            }
        };
        let timeout = self.response_timeout.unwrap_or(Duration::from_secs(10));
        // The commands show every receipt as it comes, besides each message's report.
        let mut config = ClientConfig::new(kind, id, pw)
            .response_timeout(timeout)
            .receipt_items(smpp_client::ReceiptItems::All);
        if let Some(t) = &self.system_type {
            config.bind.system_type = t.clone();
        }
        if let Some(v) = self.interface_version {
            config.bind.interface_version = v;
        }
        if let Some(url) = &self.store {
            let store = smpp_store::open(url).map_err(|e| format!("--store {url}: {e}"))?;
            config = config.store(smpp_client::StoreHandle::new(store));
        }
        config.account = self.account.clone();
        let host = self.addr.as_ref().and_then(|a| a.host.as_deref());
        Ok(match self.tls.client_config(host)? {
            Some(tls) => config.tls(tls),
            None => config,
        })
    }
}

/// Connects and binds, with an error message naming the address.
pub(crate) fn connect(addr: SocketAddr, config: ClientConfig) -> Result<Client, String> {
    let kind = config.bind.kind;
    Client::connect(addr, config).map_err(|e| format!("bind ({kind:?}) to {addr} failed: {e}"))
}

/// A JSON array of strings.
pub(crate) fn str_array<S: AsRef<str>>(items: &[S]) -> String {
    let mut s = String::from("[");
    for (i, id) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        smpp_pdu::json::push_str(&mut s, id.as_ref());
    }
    s.push(']');
    s
}

/// A value parser for --interface-version: `3.4` (0x34) or `5.0` (0x50).
fn interface_version(v: &str) -> Result<u8, String> {
    match v {
        "3.4" | "34" | "0x34" => Ok(0x34),
        "5.0" | "5" | "50" | "0x50" => Ok(0x50),
        _ => Err("expected 3.4 or 5.0".into()),
    }
}

/// A value parser for --system-type: at most 12 characters (`C-Octet String(13)`).
fn system_type(v: &str) -> Result<String, String> {
    if v.len() > 12 {
        return Err("at most 12 characters".into());
    }
    Ok(v.to_string())
}

/// A value parser: a positive number of seconds (fractions allowed).
pub(crate) fn positive_seconds(v: &str) -> Result<Duration, String> {
    match v.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => Ok(Duration::from_secs_f64(s)),
        _ => Err("expected a positive number of seconds".into()),
    }
}

/// A value parser: zero or more seconds (fractions allowed).
pub(crate) fn seconds(v: &str) -> Result<Duration, String> {
    match v.parse::<f64>() {
        Ok(s) if s >= 0.0 && s.is_finite() => Ok(Duration::from_secs_f64(s)),
        _ => Err("expected a number of seconds (0 or more)".into()),
    }
}

/// A value parser: a count of at least 1.
pub(crate) fn at_least_one(v: &str) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(0) => Err("expected at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A value parser: a count of at least 1 that fits in `usize`.
pub(crate) fn at_least_one_usize(v: &str) -> Result<usize, String> {
    at_least_one(v).and_then(|n| usize::try_from(n).map_err(|e| e.to_string()))
}

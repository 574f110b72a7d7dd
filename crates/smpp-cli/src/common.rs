//! What `send`, `listen` and `bench` share: option parsing, connecting, the embedded SMSC.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use smpp_client::{Client, ClientConfig, TlsClientConfig};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};

/// Credentials used against the embedded SMSC (which accepts any bind).
pub(crate) const EMBEDDED_ID: &str = "smpp";

/// Walks `--name value` and `--flag` arguments.
pub(crate) struct Args<'a> {
    cmd: &'static str,
    it: std::slice::Iter<'a, String>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(cmd: &'static str, args: &'a [String]) -> Self {
        Args {
            cmd,
            it: args.iter(),
        }
    }

    /// The next option name, if any.
    pub(crate) fn next_name(&mut self) -> Option<&'a str> {
        self.it.next().map(String::as_str)
    }

    /// The value of option `name`.
    pub(crate) fn value(&mut self, name: &str) -> Result<String, String> {
        self.it
            .next()
            .cloned()
            .ok_or_else(|| format!("{}: {name} needs a value", self.cmd))
    }

    /// The value of option `name`, parsed.
    pub(crate) fn parsed<T>(&mut self, name: &str) -> Result<T, String>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let v = self.value(name)?;
        v.parse()
            .map_err(|e| format!("{}: {name} {v}: {e}", self.cmd))
    }

    /// An error about an unknown argument.
    pub(crate) fn unknown(&self, a: &str) -> String {
        format!("{}: unknown argument {a:?}", self.cmd)
    }
}

/// Where to connect, as whom, and whether over TLS.
pub(crate) struct Target {
    pub(crate) addr: Option<SocketAddr>,
    pub(crate) system_id: Option<String>,
    pub(crate) password: Option<String>,
    /// The host of `--addr` when it is a name (the TLS server name by default).
    host: Option<String>,
    /// `--tls`.
    tls: bool,
    /// `--ca FILE`: trust this CA instead of the system's roots.
    ca: Option<PathBuf>,
    /// `--server-name NAME`: check the certificate against this name.
    server_name: Option<String>,
}

impl Target {
    pub(crate) fn new() -> Self {
        Target {
            addr: None,
            system_id: None,
            password: None,
            host: None,
            tls: false,
            ca: None,
            server_name: None,
        }
    }

    /// Takes `--addr`, `--system-id` and `--password`; whether `name` was one of them.
    pub(crate) fn take(&mut self, name: &str, args: &mut Args<'_>) -> Result<bool, String> {
        match name {
            "--addr" => {
                let v = args.value(name)?;
                let addr = resolve(&v).map_err(|e| format!("{}: --addr {v}: {e}", args.cmd))?;
                self.addr = Some(addr);
                self.host = v
                    .rsplit_once(':')
                    .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
                    .filter(|h| h.parse::<std::net::IpAddr>().is_err())
                    .map(str::to_string);
            }
            "--system-id" => self.system_id = Some(args.value(name)?),
            "--password" => self.password = Some(args.value(name)?),
            "--tls" => self.tls = true,
            "--ca" => self.ca = Some(args.value(name)?.into()),
            "--server-name" => self.server_name = Some(args.value(name)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// With `--addr`, `--system-id` and `--password` are required.
    pub(crate) fn check(&self, cmd: &str) -> Result<(), String> {
        if self.addr.is_some() && (self.system_id.is_none() || self.password.is_none()) {
            return Err(format!("{cmd}: --addr needs --system-id and --password"));
        }
        if !self.tls && (self.ca.is_some() || self.server_name.is_some()) {
            return Err(format!("{cmd}: --ca and --server-name need --tls"));
        }
        if self.tls && self.addr.is_none() {
            return Err(format!(
                "{cmd}: --tls needs --addr (the embedded SMSC is plaintext)"
            ));
        }
        Ok(())
    }

    /// The address to use, starting the embedded SMSC when there is none.
    pub(crate) fn resolve(
        &self,
        receipt_delay: Duration,
    ) -> Result<(SocketAddr, Option<Smsc>), String> {
        match self.addr {
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
        let pw = self.password.as_deref().unwrap_or(EMBEDDED_ID);
        let config = ClientConfig::new(kind, id, pw).response_timeout(Duration::from_secs(10));
        if !self.tls {
            return Ok(config);
        }
        let mut tls = match &self.ca {
            Some(path) => {
                let pem =
                    std::fs::read(path).map_err(|e| format!("--ca {}: {e}", path.display()))?;
                TlsClientConfig::with_ca_pem(&pem)
                    .map_err(|e| format!("--ca {}: {e}", path.display()))?
            }
            None => TlsClientConfig::system_roots()
                .map_err(|e| format!("--tls without --ca: the system's roots: {e}"))?,
        };
        if let Some(name) = self.server_name.as_ref().or(self.host.as_ref()) {
            tls = tls.server_name(name.clone());
        }
        Ok(config.tls(tls))
    }
}

/// Parses `HOST:PORT`, resolving a host name.
fn resolve(v: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    v.to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| "no address".to_string())
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
        smpp_smsc::json::push_str(&mut s, id.as_ref());
    }
    s.push(']');
    s
}

/// `v` as a positive number of seconds (fractions allowed), for option `name` of `cmd`.
pub(crate) fn positive_seconds(
    cmd: &str,
    name: &str,
    v: &str,
) -> Result<std::time::Duration, String> {
    match v.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => Ok(std::time::Duration::from_secs_f64(s)),
        _ => Err(format!(
            "{cmd}: {name} {v}: expected a positive number of seconds"
        )),
    }
}

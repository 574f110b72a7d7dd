//! Where a client connects ([`ServerAddr`]), connecting and binding, and the first
//! connect's retry.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{info, warn};
use smpp_transport::{ConnEvent, Connection, Disconnect, Outcome, TransportError, TransportHandle};

use crate::config::Jitter;
use crate::pending::outcome_to_result;
use crate::{ClientConfig, Error};

/// One server to connect to: an IP address and port, or a host name and port resolved
/// again on every connect attempt (so a reconnect follows a DNS change).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ServerAddr {
    /// An address and port.
    Ip(SocketAddr),
    /// `host:port`, resolved on each attempt; each address it resolves to is tried in turn.
    Host(String),
}

impl ServerAddr {
    /// The addresses to try now: `Ip` as is, `Host` resolved.
    pub fn resolve(&self) -> std::io::Result<Vec<SocketAddr>> {
        match self {
            ServerAddr::Ip(a) => Ok(vec![*a]),
            ServerAddr::Host(h) => h.to_socket_addrs().map(Iterator::collect),
        }
    }
}

impl fmt::Debug for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerAddr::Ip(a) => write!(f, "{a}"),
            ServerAddr::Host(h) => f.write_str(h),
        }
    }
}

impl From<SocketAddr> for ServerAddr {
    fn from(a: SocketAddr) -> ServerAddr {
        ServerAddr::Ip(a)
    }
}

impl From<&str> for ServerAddr {
    /// An `ip:port` is kept as an address; anything else is a host name, resolved on each
    /// attempt.
    fn from(s: &str) -> ServerAddr {
        s.parse()
            .map_or_else(|_| ServerAddr::Host(s.to_string()), ServerAddr::Ip)
    }
}

impl From<String> for ServerAddr {
    /// As `From<&str>`.
    fn from(s: String) -> ServerAddr {
        ServerAddr::from(s.as_str())
    }
}

impl From<&String> for ServerAddr {
    /// As `From<&str>`.
    fn from(s: &String) -> ServerAddr {
        ServerAddr::from(s.as_str())
    }
}

/// One round over `servers`: each in order, each of a host's addresses in turn, until one
/// binds. The error is a refused bind if any server refused (it says most), else the last.
pub(crate) fn open_any(
    transport: &TransportHandle,
    servers: &[ServerAddr],
    config: &ClientConfig,
) -> Result<(Arc<Connection>, SocketAddr), Error> {
    let mut last = None;
    let mut rejected = None;
    for server in servers {
        let addrs = match server.resolve() {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => {
                warn!("{server} resolves to no address");
                last = Some(Error::Connect(TransportError::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{server} resolves to no address"),
                ))));
                continue;
            }
            Err(e) => {
                warn!("cannot resolve {server}: {e}");
                last = Some(Error::Connect(TransportError::Io(e)));
                continue;
            }
        };
        for addr in addrs {
            match open(transport, addr, config) {
                Ok(c) => return Ok((c, addr)),
                Err(e @ Error::BindRejected(_)) => {
                    warn!("{addr} ({server}) refused the bind: {e}");
                    rejected.get_or_insert(e);
                }
                Err(e) => {
                    warn!("connect to {addr} ({server}) failed: {e}");
                    last = Some(e);
                }
            }
        }
    }
    Err(rejected.or(last).unwrap_or(Error::Closed))
}

/// The first connect: one round, or with reconnect on, up to
/// [`ClientConfig::connect_attempts`] rounds under the reconnect backoff; a refused bind
/// ends it.
pub(crate) fn first(
    transport: &TransportHandle,
    servers: &[ServerAddr],
    config: &ClientConfig,
    jitter: &Jitter,
) -> Result<(Arc<Connection>, SocketAddr), Error> {
    let mut round = 0u32;
    loop {
        match open_any(transport, servers, config) {
            Ok(c) => return Ok(c),
            Err(e @ Error::BindRejected(_)) => return Err(e),
            Err(e) => {
                let Some(backoff) = config.reconnect else {
                    return Err(e);
                };
                round += 1;
                if round >= config.connect_attempts.max(1) {
                    warn!("giving up connecting to {servers:?} after {round} rounds: {e}");
                    return Err(e);
                }
                let d = backoff.delay_with_jitter(round - 1, jitter.unit());
                info!("connecting to {servers:?} failed ({e}); trying again in {d:?}");
                std::thread::sleep(d);
            }
        }
    }
}

pub(crate) fn open(
    transport: &TransportHandle,
    addr: SocketAddr,
    config: &ClientConfig,
) -> Result<Arc<Connection>, Error> {
    #[cfg(feature = "tls-core")]
    let conn = match &config.tls {
        Some(tls) => transport.connect_tls(addr, tls, config.session.clone()),
        None => transport.connect(addr, config.session.clone()),
    };
    #[cfg(not(feature = "tls-core"))]
    let conn = transport.connect(addr, config.session.clone());
    let conn = conn.map_err(Error::Connect)?;
    bind_on(conn, addr, config)
}

/// Binds on `conn` (to `addr`) as `config` says and waits for the outcome.
pub(crate) fn bind_on(
    conn: Connection,
    addr: SocketAddr,
    config: &ClientConfig,
) -> Result<Arc<Connection>, Error> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    conn.bind(config.bind.clone(), 0, &tx)
        .map_err(|_| Error::Closed)?;
    let wait = config.session.response_timeout + Duration::from_secs(5);
    match rx.recv_timeout(wait).map(|c| c.outcome) {
        Ok(Outcome::Bound {
            kind,
            peer_system_id,
            ..
        }) => {
            info!("bound {kind:?} to {peer_system_id:?} at {addr}");
            Ok(Arc::new(conn))
        }
        Ok(Outcome::BindRejected(s)) => Err(Error::BindRejected(s)),
        Ok(o) => {
            let e = outcome_to_result(o)
                .err()
                .unwrap_or(Error::UnexpectedResponse);
            // A connection that closed under the bind may say why in its last event (a
            // TLS server answering a plaintext bind, ...): that is the better error.
            Err(match (&e, tls_close_reason(&conn)) {
                (Error::Disconnected, Some(t)) => Error::Connect(TransportError::Tls(t)),
                _ => e,
            })
        }
        Err(_) => Err(Error::Timeout),
    }
}

/// The TLS failure a just-closed connection reports in its last event, if any.
fn tls_close_reason(conn: &Connection) -> Option<smpp_transport::TlsError> {
    let end = Instant::now() + Duration::from_millis(500);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match conn.events().recv_timeout(left) {
            Ok(ConnEvent::Closed(Disconnect::Tls(e))) => return Some(e),
            Ok(ConnEvent::Closed(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

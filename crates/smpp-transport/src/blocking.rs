//! Blocking streams for a session driven from the caller's thread (no event loop): a TCP
//! connect with a timeout, and [`Timeouts`], the one thing such a driver needs from a
//! stream besides `Read + Write`: bounding how long a read or a write may block, so that it
//! wakes in time for the session's timers.
//!
//! The sockets stay here, in the transport crate, as everywhere else in the toolkit; the
//! caller-driven client (`smpp_client::direct`) is generic over any `Read + Write +
//! Timeouts` and only uses this.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A blocking stream whose reads and writes can be bounded in time, as
/// `TcpStream::set_read_timeout` and `set_write_timeout` do: once the time passes, the
/// call returns an error of kind `WouldBlock` or `TimedOut` (after a partial write, the
/// count written), and the stream stays usable.
///
/// `None` blocks without limit. A zero duration is never passed (implementations may
/// refuse it, as `TcpStream` does).
///
/// Implemented for `TcpStream`, for a rustls `StreamOwned` over a stream that implements
/// it (with a `tls` feature), and for `&mut T` and `Box<T>`; implement it for a test
/// double as a no-op.
pub trait Timeouts {
    /// Bounds how long a `read` may block.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
    /// Bounds how long a `write` may block.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Timeouts for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }
}

impl<T: Timeouts + ?Sized> Timeouts for &mut T {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_write_timeout(timeout)
    }
}

impl<T: Timeouts + ?Sized> Timeouts for Box<T> {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_write_timeout(timeout)
    }
}

/// TLS over a stream: the timeouts are the underlying stream's (rustls reads and writes
/// records through it, and a call that times out in the middle of a record goes on from
/// where it stopped).
#[cfg(feature = "tls-core")]
impl<C, T, S> Timeouts for rustls::StreamOwned<C, T>
where
    C: std::ops::DerefMut + std::ops::Deref<Target = rustls::ConnectionCommon<S>>,
    T: io::Read + io::Write + Timeouts,
    S: rustls::SideData,
{
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(timeout)
    }
}

/// Connects to the first address of `addr` that accepts within `timeout` (each address
/// gets the whole timeout; a host name is resolved once, here), with Nagle's algorithm off
/// (SMPP is request/response: small PDUs must not wait for an acknowledgement).
pub fn connect(addr: impl ToSocketAddrs, timeout: Duration) -> io::Result<TcpStream> {
    let timeout = timeout.max(Duration::from_millis(1));
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                s.set_nodelay(true)?;
                log::debug!("connected to {a}");
                return Ok(s);
            }
            Err(e) => {
                log::debug!("connect to {a}: {e}");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        )
    }))
}

/// A rustls client stream over TCP, as [`connect_tls`] returns it.
#[cfg(feature = "tls-core")]
pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Connects to `addr` as [`connect`] does and starts TLS on the connection with `tls`
/// (the server name is the one it sets, else `addr`'s IP address). The handshake itself
/// runs on the first read or write of the stream, so a refused certificate shows up
/// there, as an I/O error holding rustls' reason.
#[cfg(feature = "tls-core")]
pub fn connect_tls(
    addr: std::net::SocketAddr,
    tls: &crate::TlsClientConfig,
    timeout: Duration,
) -> Result<TlsStream, crate::TransportError> {
    let name = tls.name_for(addr).map_err(crate::TransportError::Tls)?;
    let conn = rustls::ClientConnection::new(std::sync::Arc::clone(&tls.config), name)
        .map_err(|e| crate::TransportError::Tls(crate::TlsError::Config(e.to_string())))?;
    let tcp = connect(addr, timeout).map_err(crate::TransportError::Io)?;
    Ok(rustls::StreamOwned::new(conn, tcp))
}

/// What [`probe_tls`] learnt of a TLS server.
#[cfg(feature = "tls-core")]
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TlsProbe {
    /// The version, cipher suite and key exchange negotiated.
    pub info: crate::TlsInfo,
    /// The certificates the server presented, its own first (`None` for one that cannot be
    /// read as X.509).
    pub chain: Vec<Option<crate::CertificateSummary>>,
    /// What the configuration's check says of them: `Ok`, or the refusal in words (as a
    /// connection would give it); `None` for a configuration made with
    /// [`TlsClientConfig::from_rustls`](crate::TlsClientConfig::from_rustls).
    pub verdict: Option<Result<(), String>>,
}

/// Connects to `addr` over TLS and completes the handshake whatever the certificate, to
/// show what the server presents and negotiates, and what `tls`'s check would say of it
/// (`smpp tls-probe`). Nothing is sent after the handshake; it then listens up to half a
/// second for the server's verdict on a client certificate (TLS 1.3 gives it after the
/// handshake). Fails when the connection or the handshake itself fails (no TLS on the
/// port, no common version, a client certificate the server refuses or requires).
#[cfg(feature = "tls-core")]
pub fn probe_tls(
    addr: std::net::SocketAddr,
    tls: &crate::TlsClientConfig,
    timeout: Duration,
) -> Result<TlsProbe, crate::TransportError> {
    let (probing, probe) = tls.probing().map_err(crate::TransportError::Tls)?;
    let mut stream = connect_tls(addr, &probing, timeout)?;
    let io = |e: io::Error| crate::TransportError::Io(e);
    stream.sock.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.sock.set_write_timeout(Some(timeout)).map_err(io)?;
    // rustls' own error, when the socket's carries one, says more than the socket's.
    let failed = |e: io::Error| {
        let tls_error = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .cloned();
        match tls_error {
            Some(t) => crate::TransportError::Tls(crate::tls::classify(t)),
            None if e.kind() == io::ErrorKind::UnexpectedEof => {
                crate::TransportError::Tls(crate::TlsError::ClosedDuringHandshake)
            }
            None => io(e),
        }
    };
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).map_err(failed)?;
    }
    // In TLS 1.3 the server judges a client certificate (or its absence) after our
    // Finished: a refusal is an alert after the handshake. Listen briefly for one.
    stream
        .sock
        .set_read_timeout(Some(timeout.min(Duration::from_millis(500))))
        .map_err(io)?;
    let mut first = [0u8; 1];
    // Only an alert counts: quiet, data, or a close without one are no verdict.
    match io::Read::read(&mut stream, &mut first) {
        Err(e) if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => return Err(failed(e)),
        _ => {}
    }
    let info = crate::tls::info_of(&stream.conn);
    stream.conn.send_close_notify();
    let _ = stream.conn.complete_io(&mut stream.sock);
    let seen = probe.result();
    Ok(TlsProbe {
        info,
        chain: seen
            .as_ref()
            .map(|r| {
                r.chain
                    .iter()
                    .map(|c| crate::CertificateSummary::of_der(c))
                    .collect()
            })
            .unwrap_or_default(),
        verdict: seen.and_then(|r| r.verdict),
    })
}

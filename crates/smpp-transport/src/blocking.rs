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

//! A mio event loop that hosts many SMPP sessions over TCP.
//!
//! One thread per [`Transport`] owns a `mio::Poll`, the sockets, a read buffer and a write
//! buffer per connection, and the [`smpp_session::Session`] of every connection. It hosts
//! outbound connections ([`TransportHandle::connect`], ESME role) and connections accepted
//! from listeners ([`TransportHandle::listen`], SMSC role) side by side.
//!
//! Commands reach the loop over a crossbeam channel and a [`mio::Waker`] (woken only when
//! the loop may be asleep); results leave over crossbeam channels: each request carries the
//! sender its [`Completed`] outcome goes to, and every connection has a channel of
//! [`ConnEvent`]s for everything else (inbound requests, binds, closes).
//!
//! The loop holds no SMPP rules: it moves bytes and deadlines between sockets and
//! sessions. It reads and writes until `WouldBlock`, writes many PDUs per syscall, asks
//! for writability only while bytes are pending, bounds each connection's buffers, and
//! sleeps until the earliest session deadline.
//!
//! With the `tls` feature (on by default; rustls with aws-lc-rs, or ring with `tls-ring`) a
//! connection may run over TLS with rustls:
//! [`TransportHandle::connect_tls`] with a [`TlsClientConfig`] (the system's roots or a CA of
//! your own, and a server name), [`TransportHandle::listen_tls`] with a [`TlsServerConfig`]
//! (a certificate chain and key). The loop drives the handshake and the records without
//! blocking, between the socket and the same plaintext buffers; a connection reaches the
//! application only once its handshake is complete, within [`Config::connect_timeout`].
//! Failures are typed ([`TlsError`]): a refused certificate, a plaintext peer on a TLS
//! connection or a TLS peer on a plaintext one, a stalled handshake. See `docs/tls.md`.
//!
//! Every request resolves exactly once: a response, a timeout, a failure reported by the
//! session, a local refusal, or [`Outcome::Disconnected`] when the connection or the loop
//! goes away first.
//!
//! Each [`Connection::stats`] is a snapshot of its session's counters (PDUs per command
//! and status, timeouts, in-flight gauges, response latencies), republished by the loop
//! without allocating.
//!
//! # Example
//!
//! An SMSC-role listener and an ESME-role connection on one transport, over 127.0.0.1:
//! bind, one `submit_sm`, its response, the counters.
//!
//! ```
//! use std::time::Duration;
//! use smpp_pdu::{Body, CommandId, CommandStatus, SubmitSm, SubmitSmResp};
//! use smpp_session::{BindKind, BindRequest, Config as SessionConfig, Event};
//! use smpp_transport::{Config, ConnEvent, Outcome, Transport};
//!
//! let transport = Transport::spawn(Config::default())?;
//! let listener = transport.listen("127.0.0.1:0".parse()?, SessionConfig::default())?;
//! let addr = listener.local_addr();
//! // The SMSC side: accept, bind whoever asks, answer each request.
//! let smsc = std::thread::spawn(move || {
//!     let conn = listener.accept().expect("a connection");
//!     while let Ok(ev) = conn.events().recv_timeout(Duration::from_secs(10)) {
//!         match ev {
//!             ConnEvent::Session(Event::BindRequested { sequence_number, .. }) => {
//!                 conn.accept_bind(sequence_number, "SMSC").unwrap();
//!             }
//!             ConnEvent::Session(Event::Request { sequence_number, .. }) => {
//!                 let resp = SubmitSmResp { message_id: "42".into(), tlvs: vec![] };
//!                 conn.respond(sequence_number, CommandStatus::ESME_ROK, Body::from(resp)).unwrap();
//!             }
//!             ConnEvent::Closed(_) => break,
//!             _ => {}
//!         }
//!     }
//! });
//!
//! // The ESME side: outcomes come back on a channel, tagged.
//! let conn = transport.connect(addr, SessionConfig::default())?;
//! let (reply, outcomes) = crossbeam_channel::unbounded();
//! conn.bind(BindRequest::new(BindKind::Transmitter, "esme", "secret"), 1, &reply)?;
//! assert!(matches!(outcomes.recv()?.outcome, Outcome::Bound { .. }));
//! let sm = SubmitSm { destination_addr: "447700900123".into(), short_message: "Hi".into(), ..Default::default() };
//! conn.request(Body::from(sm), 2, &reply)?;
//! let done = outcomes.recv()?;
//! assert_eq!(done.tag, 2);
//! match done.outcome {
//!     Outcome::Response(pdu) => assert_eq!(pdu.command_status, CommandStatus::ESME_ROK),
//!     other => panic!("{other:?}"),
//! }
//! conn.unbind(3, &reply)?;
//! assert_eq!(outcomes.recv()?.outcome, Outcome::Unbound);
//! let stats = conn.stats();
//! assert_eq!(stats.sent.count(CommandId::SUBMIT_SM), 1);
//! smsc.join().unwrap();
//! transport.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod blocking;
mod event_loop;
mod tls;

#[cfg(feature = "tls-core")]
pub use tls::{CertPin, CertificateSummary};
#[cfg(feature = "tls-core")]
pub use tls::{TlsClientConfig, TlsServerConfig};
pub use tls::{TlsError, TlsInfo};

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use smpp_pdu::{Body, CommandStatus, Pdu};
use smpp_session::{BindKind, BindRequest, CloseReason, Event, FailReason, SendError};

/// Settings of a transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Octets read from a socket per `read` call.
    pub read_chunk: usize,
    /// Stop taking PDUs from a session once this many octets wait to be written.
    pub write_high_water: usize,
    /// Stop reading from a socket while this many octets wait to be written to it (the
    /// peer is not reading our responses): in the write buffer and encoded in the session.
    /// Each read may add the answers to one `read_chunk` of requests past it.
    pub max_write_buffer: usize,
    /// How long a connect may take.
    pub connect_timeout: Duration,
    /// How long a closed session's last octets (a final `generic_nack` or `unbind_resp`)
    /// may take to flush before the socket is dropped.
    pub linger: Duration,
    /// Requests queued per connection while the session's window is full; past it new
    /// requests are refused with `WindowFull`.
    pub max_queued_requests: usize,
    /// Connections (outbound and accepted) per transport; past it new ones are refused.
    pub max_connections: usize,
    /// Connections accepted from one listener and open at once; past it a newly accepted
    /// socket is closed at once, before any PDU is read from it.
    pub max_sessions_per_listener: usize,
    /// Capacity of the command channel into the loop.
    pub command_capacity: usize,
    /// Capacity of each connection's event channel. When the application does not drain
    /// it, the loop stops reading from that connection rather than buffer without bound.
    pub event_capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            read_chunk: 64 * 1024,
            write_high_water: 256 * 1024,
            max_write_buffer: 4 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            linger: Duration::from_secs(2),
            max_queued_requests: 4096,
            max_connections: 10_000,
            max_sessions_per_listener: 10_000,
            command_capacity: 65_536,
            event_capacity: 65_536,
        }
    }
}

/// What a request resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The response (possibly a `generic_nack`; check its `command_status`).
    Response(Pdu<'static>),
    /// A bind succeeded.
    Bound {
        /// How the session is bound.
        kind: BindKind,
        /// The SMSC's `system_id`.
        peer_system_id: String,
        /// `sc_interface_version` if the SMSC sent it.
        interface_version: Option<u8>,
    },
    /// A bind was refused with this status.
    BindRejected(CommandStatus),
    /// An unbind completed.
    Unbound,
    /// A request with no response (`alert_notification`, `outbind`) was queued for sending.
    Sent,
    /// No response within the response timeout.
    Timeout,
    /// The session gave up on the request (closed, malformed or mismatched response).
    Failed(FailReason),
    /// The session refused to send it (not bound, window full and queue full, ...).
    Refused(SendError),
    /// The connection or the transport went away before the request could resolve.
    Disconnected,
}

/// A resolved request: the caller's tag and the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completed {
    /// The tag the caller gave the request.
    pub tag: u64,
    /// What it resolved to.
    pub outcome: Outcome,
}

/// Where a request's outcome goes.
pub type Reply = Sender<Completed>;

/// Sees every response of a connection, with its request's tag, on the transport's thread
/// just before the response goes to its [`Reply`]: so in the order of the wire, before any
/// request the peer sent after it reaches [`Connection::events`]. Set with
/// [`Connection::observe_responses`]; it must be quick and must not block (the thread
/// serves every connection of the transport).
pub type ResponseObserver = Arc<dyn Fn(u64, &Pdu<'static>) + Send + Sync>;

/// Events of one connection other than request outcomes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnEvent {
    /// An event of the session: inbound requests to answer, binds, unbinds, unexpected
    /// responses, PDUs the session rejected by itself. (`Closed` arrives as
    /// [`ConnEvent::Closed`] instead.)
    Session(Event),
    /// A response or bind answer given with [`Connection::respond`] and friends was refused.
    ResponseRefused {
        /// The request's sequence number.
        sequence_number: u32,
        /// Why.
        error: SendError,
    },
    /// The connection is closed; always the last event.
    Closed(Disconnect),
}

/// Why a connection closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disconnect {
    /// The session closed (unbind, timer, peer close, framing error, local close).
    Session(CloseReason),
    /// A socket error.
    Io(io::ErrorKind, String),
    /// TLS failed on an established connection (a corrupt record, a fatal alert), or a
    /// plaintext connection's peer answered with TLS ([`TlsError::UnexpectedTls`]).
    Tls(TlsError),
    /// The transport shut down.
    Shutdown,
}

/// Errors of transport operations.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// A socket operation failed (connect refused, address in use, ...).
    Io(io::Error),
    /// The connect did not complete within [`Config::connect_timeout`].
    ConnectTimeout,
    /// The transport's loop is gone.
    Shutdown,
    /// [`Config::max_connections`] connections are open.
    TooManyConnections,
    /// The TLS handshake failed (a refused certificate, a plaintext peer, a timeout), or a
    /// TLS configuration was refused.
    Tls(TlsError),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Io(e) => write!(f, "socket error: {e}"),
            TransportError::ConnectTimeout => f.write_str("connect timed out"),
            TransportError::Shutdown => f.write_str("the transport has shut down"),
            TransportError::TooManyConnections => f.write_str("too many connections"),
            TransportError::Tls(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Io(e) => Some(e),
            TransportError::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TransportError> for io::Error {
    fn from(e: TransportError) -> io::Error {
        match e {
            TransportError::Io(e) => e,
            TransportError::ConnectTimeout => {
                io::Error::new(io::ErrorKind::TimedOut, "connect timed out")
            }
            TransportError::Tls(e) => io::Error::new(io::ErrorKind::InvalidData, e),
            other => io::Error::other(other.to_string()),
        }
    }
}

/// Identifies a connection within its transport.
pub type ConnId = u64;

/// Commands into the loop.
pub(crate) enum Command {
    Connect {
        addr: SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsClientConfig>,
        /// Whether the connection gets an SMSC session (an SMSC dialling an ESME for
        /// outbind) rather than an ESME one.
        smsc: bool,
        reply: Sender<Result<Connection, TransportError>>,
    },
    Listen {
        addr: SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsServerConfig>,
        shared_events: bool,
        /// Whether accepted connections get ESME sessions (an ESME waiting for an SMSC's
        /// outbind) rather than SMSC ones.
        esme: bool,
        reply: Sender<Result<Listener, TransportError>>,
    },
    CloseListener(u64),
    Conn(ConnId, ConnOp),
    Shutdown,
}

/// Operations on one connection.
pub(crate) enum ConnOp {
    Bind(BindRequest, u64, Reply),
    Request(Body<'static>, u64, Reply),
    /// Several requests in order, handed over at once.
    Requests(Vec<(Body<'static>, u64, Reply)>),
    Unbind(u64, Reply),
    Respond(u32, CommandStatus, Body<'static>),
    /// Several answers in order, handed over at once.
    Responses(Vec<(u32, CommandStatus, Body<'static>)>),
    AcceptBind(u32, String),
    RejectBind(u32, CommandStatus),
    Raw(Vec<u8>),
    Close,
    /// A snapshot of the session's counters, for [`Connection::stats`].
    Stats(Sender<smpp_session::Stats>),
    /// [`Connection::observe_responses`].
    Observe(ResponseObserver),
}

/// What the handles share with the loop.
pub(crate) struct Shared {
    /// Unbounded underneath (a bounded crossbeam channel allocates and initializes every
    /// slot up front: 65,536 commands were about 15 MiB per transport); `capacity` bounds it.
    tx: Sender<Command>,
    /// [`Config::command_capacity`].
    capacity: usize,
    waker: mio::Waker,
    sleeping: AtomicBool,
    /// Where senders wait while the channel is full.
    room: Arc<Room>,
    thread: Mutex<Option<JoinHandle<()>>>,
    loop_thread: std::sync::OnceLock<std::thread::ThreadId>,
}

impl Shared {
    /// Queues a command; wakes the loop only if it may be asleep.
    fn send(&self, cmd: Command) -> Result<(), TransportError> {
        if self.loop_thread.get() == Some(&std::thread::current().id()) {
            // The loop never blocks on its own channel (a handle dropped on the loop
            // thread); its own commands are best effort.
            return self.tx.try_send(cmd).map_err(|_| TransportError::Shutdown);
        }
        // Backpressure: wait while the loop is this far behind, until it has taken the
        // queued commands. (A gone loop empties the channel, so this never waits for a loop
        // that has ended; the timed wait is only a safety net.)
        if self.tx.len() >= self.capacity {
            self.room.waiting.fetch_add(1, Ordering::SeqCst);
            let mut guard = self.room.lock.lock().unwrap_or_else(|e| e.into_inner());
            while self.tx.len() >= self.capacity {
                if self.sleeping.swap(false, Ordering::SeqCst) {
                    if let Err(e) = self.waker.wake() {
                        self.room.waiting.fetch_sub(1, Ordering::SeqCst);
                        return Err(TransportError::Io(e));
                    }
                }
                guard = self
                    .room
                    .cond
                    .wait_timeout(guard, Duration::from_millis(10))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            drop(guard);
            self.room.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        self.tx.send(cmd).map_err(|_| TransportError::Shutdown)?;
        if self.sleeping.swap(false, Ordering::SeqCst) {
            self.waker.wake().map_err(TransportError::Io)?;
        }
        Ok(())
    }
}

/// Senders waiting for room in the command channel: the loop wakes them when it has
/// taken the queued commands (instead of each sleeping and looking again).
#[derive(Default)]
pub(crate) struct Room {
    waiting: AtomicUsize,
    lock: Mutex<()>,
    cond: Condvar,
}

impl Room {
    /// Called by the loop after it took the queued commands.
    pub(crate) fn notify(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.cond.notify_all();
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::Shutdown);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// Starts transports.
pub struct Transport;

impl Transport {
    /// Starts an event-loop thread and returns a handle to it. The loop runs until
    /// [`TransportHandle::shutdown`] or until every handle, listener and connection of it
    /// is dropped.
    pub fn spawn(config: Config) -> Result<TransportHandle, TransportError> {
        event_loop::spawn(config)
    }
}

/// A handle to a transport's loop. Cheap to clone.
#[derive(Clone)]
pub struct TransportHandle {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for TransportHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportHandle").finish_non_exhaustive()
    }
}

impl TransportHandle {
    /// Opens a TCP connection and starts an ESME session on it. Blocks until the
    /// connection is established, refused or timed out.
    pub fn connect(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
    ) -> Result<Connection, TransportError> {
        self.connect_with(addr, session, None)
    }

    /// Like [`TransportHandle::connect`], over TLS: returns once the TLS handshake is
    /// complete, so a refused certificate ([`TlsError::Certificate`]), a plaintext server
    /// ([`TlsError::ClosedDuringHandshake`], [`TlsError::NotTls`]) or a stalled handshake
    /// ([`TlsError::HandshakeTimeout`], within [`Config::connect_timeout`] of the start)
    /// comes back here as [`TransportError::Tls`].
    #[cfg(feature = "tls-core")]
    pub fn connect_tls(
        &self,
        addr: SocketAddr,
        tls: &TlsClientConfig,
        session: smpp_session::Config,
    ) -> Result<Connection, TransportError> {
        // Check the server name here rather than on the loop.
        tls.name_for(addr).map_err(TransportError::Tls)?;
        self.connect_with(addr, session, Some(tls.clone()))
    }

    /// (SMSC) Opens a TCP connection to an ESME that listens, with an SMSC session on it:
    /// for outbind (reference §12.6). Send `outbind` with [`Connection::request`] (its
    /// outcome is [`Outcome::Sent`]); the ESME's bind then comes as on an accepted
    /// connection ([`ConnEvent::Session`] with `BindRequested`). Plain TCP only.
    pub fn connect_as_smsc(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
    ) -> Result<Connection, TransportError> {
        self.connect_role(addr, session, None, true)
    }

    fn connect_with(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsClientConfig>,
    ) -> Result<Connection, TransportError> {
        self.connect_role(addr, session, tls, false)
    }

    fn connect_role(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsClientConfig>,
        smsc: bool,
    ) -> Result<Connection, TransportError> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.shared.send(Command::Connect {
            addr,
            session,
            tls,
            smsc,
            reply,
        })?;
        rx.recv().map_err(|_| TransportError::Shutdown)?
    }

    /// Listens on `addr` (port 0 picks a free one); every accepted connection gets an SMSC
    /// session with this configuration.
    pub fn listen(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
    ) -> Result<Listener, TransportError> {
        self.listen_with(addr, session, None, false)
    }

    /// Like [`TransportHandle::listen`], with one event channel for every connection
    /// accepted from it ([`Listener::events`], each event with its connection's id) instead
    /// of a channel per connection: a server with thousands of connections waits on one
    /// channel rather than selecting over thousands. Those connections' own
    /// [`Connection::events`] never receive anything. The channel holds up to 16 times
    /// [`Config::event_capacity`] events; past that, a connection with more to say holds
    /// them and stops reading until there is room.
    pub fn listen_shared(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
    ) -> Result<Listener, TransportError> {
        self.listen_with(addr, session, None, true)
    }

    /// Like [`TransportHandle::listen`], serving TLS: an accepted connection comes out of
    /// [`Listener::accept`] once its handshake is complete. A handshake that fails (a
    /// plaintext client, a client that refuses the certificate) or does not complete within
    /// [`Config::connect_timeout`] is logged and dropped.
    #[cfg(feature = "tls-core")]
    pub fn listen_tls(
        &self,
        addr: SocketAddr,
        tls: &TlsServerConfig,
        session: smpp_session::Config,
    ) -> Result<Listener, TransportError> {
        self.listen_with(addr, session, Some(tls.clone()), false)
    }

    /// [`TransportHandle::listen_tls`] with one event channel for every connection, as
    /// [`TransportHandle::listen_shared`] says.
    #[cfg(feature = "tls-core")]
    pub fn listen_tls_shared(
        &self,
        addr: SocketAddr,
        tls: &TlsServerConfig,
        session: smpp_session::Config,
    ) -> Result<Listener, TransportError> {
        self.listen_with(addr, session, Some(tls.clone()), true)
    }

    /// (ESME) Listens on `addr` for an SMSC that dials in for outbind (reference §12.6):
    /// every accepted connection gets an ESME session, which reports the SMSC's `outbind`
    /// as `Event::Outbind`; bind on it with [`Connection::bind`] (as a receiver, or a
    /// transceiver in 5.0). Plain TCP only.
    pub fn listen_as_esme(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
    ) -> Result<Listener, TransportError> {
        self.listen_role(addr, session, None, false, true)
    }

    fn listen_with(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsServerConfig>,
        shared_events: bool,
    ) -> Result<Listener, TransportError> {
        self.listen_role(addr, session, tls, shared_events, false)
    }

    fn listen_role(
        &self,
        addr: SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsServerConfig>,
        shared_events: bool,
        esme: bool,
    ) -> Result<Listener, TransportError> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.shared.send(Command::Listen {
            addr,
            session,
            tls,
            shared_events,
            esme,
            reply,
        })?;
        rx.recv().map_err(|_| TransportError::Shutdown)?
    }

    /// Stops the loop: every connection closes, every pending request resolves as
    /// [`Outcome::Disconnected`], every connection gets [`Disconnect::Shutdown`]. Waits
    /// for the loop thread to end (unless called from it).
    pub fn shutdown(&self) {
        let _ = self.shared.send(Command::Shutdown);
        if let Some(t) = self.shared.thread.lock().ok().and_then(|mut t| t.take()) {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// A listening socket; accepted connections come out of [`Listener::accept`].
pub struct Listener {
    pub(crate) id: u64,
    pub(crate) local_addr: SocketAddr,
    pub(crate) accepted: Receiver<Connection>,
    pub(crate) events: Option<Receiver<(ConnId, ConnEvent)>>,
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits for the next accepted connection.
    pub fn accept(&self) -> Result<Connection, TransportError> {
        self.accepted.recv().map_err(|_| TransportError::Shutdown)
    }

    /// Waits at most `timeout` for the next accepted connection; `Ok(None)` on timeout.
    pub fn accept_timeout(&self, timeout: Duration) -> Result<Option<Connection>, TransportError> {
        match self.accepted.recv_timeout(timeout) {
            Ok(c) => Ok(Some(c)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(TransportError::Shutdown),
        }
    }

    /// The next accepted connection if one is waiting.
    pub fn try_accept(&self) -> Result<Option<Connection>, TransportError> {
        match self.accepted.try_recv() {
            Ok(c) => Ok(Some(c)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(TransportError::Shutdown),
        }
    }

    /// The channel accepted connections arrive on (for `select!`).
    pub fn receiver(&self) -> &Receiver<Connection> {
        &self.accepted
    }

    /// The event channel every connection accepted from it shares, each event with its
    /// connection's id (a listener from [`TransportHandle::listen_shared`]; `None` for one
    /// whose connections each have their own). A connection's events come after it came
    /// out of [`Listener::accept`]: take connections first when both are ready.
    pub fn events(&self) -> Option<&Receiver<(ConnId, ConnEvent)>> {
        self.events.as_ref()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.shared.send(Command::CloseListener(self.id));
    }
}

/// One connection and its session, living on the transport's loop. Dropping it closes
/// the connection (without unbinding: use [`Connection::unbind`] first for a graceful end).
pub struct Connection {
    pub(crate) id: ConnId,
    pub(crate) peer_addr: SocketAddr,
    pub(crate) local_addr: SocketAddr,
    pub(crate) tls: Option<TlsInfo>,
    pub(crate) events: Receiver<ConnEvent>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) stats: Arc<Mutex<smpp_session::Stats>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("peer_addr", &self.peer_addr)
            .field("local_addr", &self.local_addr)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Connection {
    fn op(&self, op: ConnOp) -> Result<(), TransportError> {
        self.shared.send(Command::Conn(self.id, op))
    }

    /// The connection's id within its transport.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
    }

    /// Our address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A snapshot of the session's counters: PDUs per command and status both ways,
    /// timeouts, failures, the in-flight gauges and the response-latency histogram (see
    /// [`smpp_session::Stats`]).
    ///
    /// While the connection is open the loop takes the snapshot when asked (one round trip
    /// through the command channel, so it includes everything the loop has done before the
    /// call); nothing is copied on the data path. After the connection is gone, the
    /// counters stay as they were at its end.
    pub fn stats(&self) -> smpp_session::Stats {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let on_loop = self.shared.loop_thread.get() == Some(&std::thread::current().id());
        if !on_loop && self.op(ConnOp::Stats(tx)).is_ok() {
            // The loop answers at once, or drops the sender if the connection is gone.
            if let Ok(s) = rx.recv_timeout(Duration::from_secs(5)) {
                return s;
            }
        }
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// What the TLS handshake negotiated (version, cipher suite, key exchange group), or
    /// `None` on a plaintext connection. A connection is handed out once its handshake is
    /// complete, so this does not change over its life.
    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// The connection's events (inbound requests, binds, close). Drain it: when it is
    /// full the loop stops reading from this connection.
    pub fn events(&self) -> &Receiver<ConnEvent> {
        &self.events
    }

    /// Sends a bind; its outcome ([`Outcome::Bound`], [`Outcome::BindRejected`], ...) goes
    /// to `reply` under `tag`.
    pub fn bind(
        &self,
        request: BindRequest,
        tag: u64,
        reply: &Reply,
    ) -> Result<(), TransportError> {
        self.op(ConnOp::Bind(request, tag, reply.clone()))
    }

    /// Has `observer` see each response from now on, before it goes to its reply (see
    /// [`ResponseObserver`]); replaces an earlier one. Set it before the requests it should
    /// see: operations on a connection are carried out in order.
    pub fn observe_responses(&self, observer: ResponseObserver) -> Result<(), TransportError> {
        self.op(ConnOp::Observe(observer))
    }

    /// Sends a request; its outcome goes to `reply` under `tag`. When the session's window
    /// is full the request waits in a bounded queue.
    pub fn request(
        &self,
        body: Body<'static>,
        tag: u64,
        reply: &Reply,
    ) -> Result<(), TransportError> {
        self.op(ConnOp::Request(body, tag, reply.clone()))
    }

    /// Sends several requests, in order, as one hand-over to the loop: one command and at
    /// most one wake-up for all of them, and their octets written together. Each outcome
    /// goes to its own `reply` under its own tag, exactly as [`Connection::request`] does
    /// for one.
    pub fn request_batch(
        &self,
        requests: Vec<(Body<'static>, u64, Reply)>,
    ) -> Result<(), TransportError> {
        if requests.is_empty() {
            return Ok(());
        }
        self.op(ConnOp::Requests(requests))
    }

    /// Starts a graceful unbind; [`Outcome::Unbound`] goes to `reply` under `tag`.
    pub fn unbind(&self, tag: u64, reply: &Reply) -> Result<(), TransportError> {
        self.op(ConnOp::Unbind(tag, reply.clone()))
    }

    /// Answers an inbound request. A refusal comes back as [`ConnEvent::ResponseRefused`].
    pub fn respond(
        &self,
        sequence_number: u32,
        status: CommandStatus,
        body: Body<'static>,
    ) -> Result<(), TransportError> {
        self.op(ConnOp::Respond(sequence_number, status, body))
    }

    /// Answers several inbound requests, in order, as one hand-over to the loop (one
    /// command and at most one wake-up for all of them), each as [`Connection::respond`]
    /// does for one.
    pub fn respond_batch(
        &self,
        responses: Vec<(u32, CommandStatus, Body<'static>)>,
    ) -> Result<(), TransportError> {
        if responses.is_empty() {
            return Ok(());
        }
        self.op(ConnOp::Responses(responses))
    }

    /// (SMSC) Accepts a bind with our `system_id`.
    pub fn accept_bind(&self, sequence_number: u32, system_id: &str) -> Result<(), TransportError> {
        self.op(ConnOp::AcceptBind(sequence_number, system_id.to_string()))
    }

    /// (SMSC) Refuses a bind.
    pub fn reject_bind(
        &self,
        sequence_number: u32,
        status: CommandStatus,
    ) -> Result<(), TransportError> {
        self.op(ConnOp::RejectBind(sequence_number, status))
    }

    /// Test-only fault injection: writes `bytes` to the socket as they are, after every PDU
    /// the session has queued so far (typically garbage that breaks the peer's framing).
    /// The session does not know about them; do not use this outside tests.
    pub fn send_raw(&self, bytes: Vec<u8>) -> Result<(), TransportError> {
        self.op(ConnOp::Raw(bytes))
    }

    /// Closes the connection now; pending requests fail.
    pub fn close(&self) {
        let _ = self.op(ConnOp::Close);
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.close();
    }
}

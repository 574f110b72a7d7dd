//! A blocking SMPP client (ESME) for scripts and services, in two shapes on the same
//! session and lifecycle layer:
//!
//! - [`Client`], threaded: the session lives on a transport thread, and a dispatcher thread
//!   runs the lifecycle, so the calling thread may block in a call (or do something else)
//!   while keep-alives, timers and inbound deliveries go on; it reconnects, keeps a store,
//!   caps the rate and retries throttled requests.
//! - [`direct::DirectClient`], driven from the caller's thread over any blocking stream (a
//!   `TcpStream`, a rustls `StreamOwned`, a test double), like tungstenite's
//!   `WebSocket<S>`: no thread, no channel; `submit`/`send_text` queue into the window and
//!   `poll(timeout)` does the I/O and returns the next event. The fastest path, for a
//!   program with a loop of its own; the caller must poll at least once per
//!   `enquire_link` interval (see [`direct`]).
//!
//! The threaded client:
//!
//! The session lives on a [`smpp_transport`] event loop thread, so keep-alives, timers and
//! inbound deliveries keep working while the calling thread is busy. Calls block the
//! calling thread only: [`Client::submit`] waits for one response, [`Client::submit_async`]
//! returns a handle so one thread can keep a whole window in flight, and
//! [`Client::submit_batch`] streams many messages through the window.
//!
//! ```no_run
//! use smpp_client::{Client, ClientConfig, TextOptions};
//! use smpp_session::BindKind;
//!
//! let client = Client::connect("127.0.0.1:2775".parse()?, ClientConfig::new(BindKind::Transceiver, "id", "pw"))?;
//! let ids = client.send_text("MyBrand", "447700900123", "Hello €", &TextOptions::default())?;
//! for inbound in client.inbound().try_iter() {
//!     if let Some(receipt) = inbound.receipt() {
//!         println!("{} is {}", receipt.id, receipt.state);
//!     }
//! }
//! client.unbind()?;
//! # let _ = ids;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Over TLS (the `tls` feature, on by default), give the configuration a
//! [`TlsClientConfig`]: the system's roots, or a CA of your own, and the server name when
//! the certificate names a host rather than the address connected to.
//!
//! ```no_run
//! use smpp_client::{Client, ClientConfig, TlsClientConfig};
//! use smpp_session::BindKind;
//!
//! let ca = std::fs::read("ca.pem")?;
//! let tls = TlsClientConfig::with_ca_pem(&ca)?.server_name("smsc.example.com");
//! let config = ClientConfig::new(BindKind::Transmitter, "id", "pw").tls(tls);
//! let client = Client::connect("192.0.2.10:3550".parse()?, config)?;
//! # let _ = client;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A refused certificate, a plaintext SMSC on the TLS port or a TLS SMSC on a plaintext
//! connection fail the connect with [`Error::Connect`] holding a
//! [`smpp_transport::TransportError::Tls`] that says which.
//!
//! Inbound `deliver_sm` and `data_sm` (MO messages and delivery receipts) arrive on
//! [`Client::inbound`], acknowledged with `ESME_ROK` automatically, or by the application
//! when [`ClientConfig::manual_ack`] is set (an unanswered one is answered
//! `ESME_RX_T_APPN`, so the SMSC retries it, when it is dropped).
#![warn(missing_docs)]

mod close;
mod config;
mod config_file;
mod connect;
pub mod core;
pub mod direct;
mod dispatch;
mod error;
mod inbound;
mod options;
mod outbind;
mod pending;
pub mod pool;
mod rate;
mod send;
mod store;
mod texts;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use smpp_lifecycle::{Lifecycle, TrackId};
use smpp_transport::{Connection, Transport, TransportError, TransportHandle};

pub use close::UnbindOutcome;

pub use config::{Addressing, Backoff, ClientConfig, ReceiptItems, ThrottlePolicy};
#[cfg(feature = "tls-core")]
pub use config_file::TlsSettingError;
pub use config_file::{
    AccountConfig, BindMode, ConfigError, PoolConfig, StoreConfig, TlsFileConfig,
};
pub use connect::ServerAddr;

use config::Jitter;
pub use error::Error;
pub use inbound::{Inbound, InboundKind};
pub use options::{Sent, TextOptions};
pub use outbind::OutbindListener;
pub use pending::Pending;
pub use smpp_lifecycle::{
    Incomplete, LifecycleConfig, Message, Outcome, Progress, ReceiptMatch, Reference, Report,
    SegmentReport, SegmentState, TrackerConfig, TrackerStats, Unmatched, UnmatchedReason,
};
/// Blocking streams for [`direct::DirectClient`]: `connect` (TCP with a timeout, Nagle
/// off), `connect_tls` (a rustls stream, with a `tls` feature) and the `Timeouts` trait a
/// stream implements.
pub use smpp_transport::blocking;
#[cfg(feature = "tls-core")]
pub use smpp_transport::{CertPin, CertificateSummary, TlsClientConfig};
pub use smpp_transport::{TlsError, TlsInfo};
pub use store::{StoreHandle, StoreStats};
pub use texts::OutgoingText;

use dispatch::dispatch;
use rate::RateLimiter;

impl Inner {
    /// The bound connection, or why there is none.
    pub(crate) fn connection(&self) -> Result<Arc<Connection>, Error> {
        if self.closing.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        self.conn
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or(Error::Disconnected)
    }

    /// How long a wait for a response lasts by default: the session's response timeout and
    /// a margin (the session resolves the request by then).
    pub(crate) fn wait_limit(&self) -> Duration {
        self.config.session.response_timeout + Duration::from_secs(5)
    }

    /// Waits as the rate cap requires before the next message.
    pub(crate) fn pace(&self) {
        if let Some(r) = &self.rate {
            let wait = r
                .lock()
                .map(|mut r| r.reserve(Instant::now()))
                .unwrap_or_default();
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
    }

    /// The SMSC answered a throttling status: the rate cap (shared by an account's binds)
    /// comes down for a while.
    pub(crate) fn throttled(&self) {
        if let Some(r) = &self.rate {
            if let Ok(mut r) = r.lock() {
                r.throttled(Instant::now());
            }
        }
    }

    /// The connection came up (`None`) or went down (why), for [`Client::health`].
    pub(crate) fn set_health(&self, down: Option<String>) {
        if let Ok(mut h) = self.health.lock() {
            match down {
                None => h.up_since = Some(std::time::SystemTime::now()),
                Some(why) => {
                    h.up_since = None;
                    h.last_error = Some(why);
                }
            }
        }
    }

    /// The delay before resend or reconnect attempt `n` under `backoff`, with jitter.
    pub(crate) fn jittered(&self, backoff: &Backoff, n: u32) -> Duration {
        backoff.delay_with_jitter(n, self.jitter.unit())
    }

    /// Moves what the lifecycle has for the store to the store thread (with the lifecycle
    /// lock held); the sequence number to wait for when there were writes.
    pub(crate) fn to_store(&self, life: &mut Lifecycle) -> Option<u64> {
        let seq = self.store.as_ref().and_then(|s| s.take(life))?;
        self.store_seq.fetch_max(seq, Ordering::Relaxed);
        Some(seq)
    }

    /// Tells the dispatcher there is work (lifecycle events to forward).
    pub(crate) fn nudge(&self) {
        let _ = self.wake.try_send(());
    }

    /// The address of the current (or last) connection.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.addr
            .lock()
            .map(|a| *a)
            .unwrap_or_else(|e| *e.into_inner())
    }
}

/// An accepted `submit_sm_resp` seen by a connection's response observer: the request's
/// tag and the message id.
pub(crate) type Accepted = (u64, String);

/// The response observer's queue of [`Accepted`] ([`Inner::observe`]).
#[derive(Default)]
pub(crate) struct AcceptedQueue {
    /// Queued, oldest first.
    queue: Mutex<Vec<Accepted>>,
    /// How many are queued: read without the lock to skip it when there are none.
    len: AtomicUsize,
    /// The vector [`Inner::take_accepted`] swaps in, empty with its capacity kept.
    spare: Mutex<Vec<Accepted>>,
}

pub(crate) struct Inner {
    transport: TransportHandle,
    /// Where to connect, in order of preference.
    servers: Vec<ServerAddr>,
    /// The address of the current (or last) connection, for logs.
    addr: Mutex<SocketAddr>,
    jitter: Jitter,
    config: ClientConfig,
    /// [`ClientConfig::account`], shared with the tracker's keys.
    account: Option<Arc<str>>,
    conn: RwLock<Option<Arc<Connection>>>,
    next_tag: AtomicU64,
    next_reference: AtomicU64,
    closing: AtomicBool,
    /// The rate cap, shared by the binds of a pool's account.
    rate: Option<Arc<Mutex<RateLimiter>>>,
    wake: Sender<()>,
    /// Up since when, and the last error.
    health: Mutex<Health>,
    /// Counters of the connections that ended, summed.
    finished: Mutex<smpp_session::Stats>,
    reconnects: AtomicU64,
    throttled_retries: AtomicU64,
    unbind_closed_by_peer: AtomicU64,
    /// The message lifecycle: tracked submissions, receipts, reassembly. Calling threads
    /// record submissions and responses; the dispatcher feeds it inbound PDUs and runs its
    /// timers. Whoever changed it hands its events on ([`Inner::hand_over`]).
    life: Arc<Mutex<Lifecycle>>,
    /// The sending side of the inbound channel for [`Inner::hand_over`]; emptied by the
    /// dispatcher when it stops (the owner's, in a pool), which ends the channel.
    out: Arc<Mutex<Option<Sender<Inbound>>>>,
    /// The store thread, when the configuration has a store.
    store: Option<Arc<store::StoreLink>>,
    /// The sequence number of the last writes handed to the store thread.
    store_seq: Arc<AtomicU64>,
    /// Whether this client ends the tracking when it stops (a client alone does; in a
    /// pool, the lifecycle, channel and store are the pool's, shared by its binds).
    owns_tracking: bool,
    /// The tracked segments in flight, by their request's tag, for
    /// [`Inner::take_accepted`].
    observed: Mutex<HashMap<u64, (TrackId, usize), foldhash::fast::RandomState>>,
    /// Acceptances (tag, message id) queued by the connection's response observer
    /// ([`Inner::observe`]), shared with it. A vector under a lock rather than a channel:
    /// [`Inner::take_accepted`] swaps it for an empty one that kept its capacity, so the
    /// queue allocates nothing once it has grown.
    accepted: Arc<AcceptedQueue>,
}

/// Whether a client's connection is up, since when, and the last thing that went wrong:
/// see [`Client::health`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// When the current connection bound; `None` while there is none.
    pub up_since: Option<std::time::SystemTime>,
    /// Why the last connection or connect attempt failed, if one did.
    pub last_error: Option<String>,
}

/// How a client starts: its first connection (or why there is none), its rate cap, whether
/// it owns the tracking, and its dispatcher's wake-up channel.
struct Start {
    first: Result<(Arc<Connection>, SocketAddr), Error>,
    rate: Option<Arc<Mutex<RateLimiter>>>,
    owns_tracking: bool,
    wake: (Sender<()>, Receiver<()>),
}

/// A client's message tracking (a pool's, shared by its binds): the lifecycle, the
/// inbound channel and the store thread.
pub(crate) struct Tracking {
    life: Arc<Mutex<Lifecycle>>,
    out: Arc<Mutex<Option<Sender<Inbound>>>>,
    in_tx: Sender<Inbound>,
    in_rx: Receiver<Inbound>,
    store: Option<Arc<store::StoreLink>>,
    store_seq: Arc<AtomicU64>,
}

impl Tracking {
    /// The lifecycle as `config` says, with the messages still open in its store tracked
    /// again (a restart) and the store thread started (it wakes the dispatcher behind
    /// `nudge` when it has answers).
    pub(crate) fn open(config: &ClientConfig, nudge: &Sender<()>) -> Result<Tracking, Error> {
        // Unbounded underneath (a bounded crossbeam channel allocates and initializes every
        // slot up front: 65,536 were about 27 MiB per client); `forward` enforces the capacity.
        let (in_tx, in_rx) = crossbeam_channel::unbounded();
        let (life, store) = store::open_tracking(config, Arc::new(nudge.clone()))?;
        Ok(Tracking {
            life,
            out: Arc::new(Mutex::new(Some(in_tx.clone()))),
            in_tx,
            in_rx,
            store,
            store_seq: Arc::new(AtomicU64::new(0)),
        })
    }
}

/// What a client counted since it was created: see [`Client::stats`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ClientStats {
    /// The session counters (PDUs per command and status both ways, timeouts, failures,
    /// in-flight gauges, response-latency histogram), summed over every connection this
    /// client has had.
    pub session: smpp_session::Stats,
    /// Successful reconnects (each one bound again).
    pub reconnects: u64,
    /// Requests sent again after an `ESME_RTHROTTLED` or `ESME_RMSGQFUL` answer, as
    /// [`ThrottlePolicy::Retry`] allows.
    pub throttled_retries: u64,
    /// Unbinds the SMSC answered by closing the connection instead of with
    /// `unbind_resp` ([`UnbindOutcome::ClosedByPeer`]).
    pub unbind_closed_by_peer: u64,
    /// Whether the client is connected and bound now.
    pub connected: bool,
    /// The message lifecycle's counters: messages tracked, reports by outcome, receipts
    /// matched, held, duplicated and unmatched.
    pub tracker: TrackerStats,
    /// The store's counters (writes, batches, pending writes, errors, lookups), with a
    /// store configured.
    pub store: Option<StoreStats>,
    /// With a rate cap: the rate allowed now (submits per second), the cap or less while
    /// the SMSC throttles.
    pub rate_now: Option<f64>,
}

/// A bound SMPP client. Dropping it unbinds (waiting at most the unbind timeout) and
/// stops its threads.
pub struct Client {
    inner: Arc<Inner>,
    inbound: Receiver<Inbound>,
    dispatcher: Mutex<Option<JoinHandle<()>>>,
    owns_transport: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("servers", &self.inner.servers)
            .field("addr", &self.inner.peer())
            .field("bind", &self.inner.config.bind)
            .finish()
    }
}

impl Client {
    /// Connects to `addr` and binds; returns a bound client or why it could not be.
    /// With [`ClientConfig::reconnect`], a failed first connect is retried under the same
    /// backoff, at most [`ClientConfig::connect_attempts`] rounds.
    pub fn connect(addr: SocketAddr, config: ClientConfig) -> Result<Client, Error> {
        Client::connect_to([addr], config)
    }

    /// Like [`Client::connect`], on an existing transport shared with other clients.
    pub fn connect_with(
        transport: &TransportHandle,
        addr: SocketAddr,
        config: ClientConfig,
    ) -> Result<Client, Error> {
        Client::connect_to_with(transport, [addr], config)
    }

    /// Connects to the first of `servers` that accepts and binds, trying them in order;
    /// a host name (`"smsc.example.com:2775"`) is resolved again on every attempt,
    /// including every reconnect, and each of its addresses is tried in turn. Reconnects
    /// go through the list from its start again. With [`ClientConfig::reconnect`], a first
    /// connect that finds no server is retried as [`Client::connect`] says.
    ///
    /// ```no_run
    /// use smpp_client::{Backoff, Client, ClientConfig};
    /// use smpp_session::BindKind;
    ///
    /// let config = ClientConfig::new(BindKind::Transceiver, "id", "pw").reconnect(Backoff::default());
    /// let client = Client::connect_to(["smsc-a.example.com:2775", "smsc-b.example.com:2775"], config)?;
    /// # let _ = client;
    /// # Ok::<(), smpp_client::Error>(())
    /// ```
    pub fn connect_to<S: Into<ServerAddr>>(
        servers: impl IntoIterator<Item = S>,
        config: ClientConfig,
    ) -> Result<Client, Error> {
        let transport = Transport::spawn(config.transport.clone()).map_err(Error::Connect)?;
        match Client::connect_to_with(&transport, servers, config) {
            Ok(mut c) => {
                c.owns_transport = true;
                Ok(c)
            }
            Err(e) => {
                transport.shutdown();
                Err(e)
            }
        }
    }

    /// Like [`Client::connect_to`], on an existing transport shared with other clients.
    pub fn connect_to_with<S: Into<ServerAddr>>(
        transport: &TransportHandle,
        servers: impl IntoIterator<Item = S>,
        config: ClientConfig,
    ) -> Result<Client, Error> {
        let servers: Vec<ServerAddr> = servers.into_iter().map(Into::into).collect();
        if servers.is_empty() {
            return Err(Error::Connect(TransportError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "no server address given",
            ))));
        }
        let jitter = Jitter::new();
        let (conn, addr) = connect::first(transport, &servers, &config, &jitter)?;
        let (wake, wake_rx) = crossbeam_channel::bounded(1);
        let tracking = Tracking::open(&config, &wake)?;
        let rate = config
            .max_rate
            .map(|r| Arc::new(Mutex::new(RateLimiter::new(r, Instant::now()))));
        let start = Start {
            first: Ok((conn, addr)),
            rate,
            owns_tracking: true,
            wake: (wake, wake_rx),
        };
        Client::start(transport, servers, config, jitter, &tracking, start)
    }

    /// A client on a connection already bound to `addr` (an outbind's), on `transport`.
    pub(crate) fn on_connection(
        transport: &TransportHandle,
        conn: Arc<Connection>,
        addr: SocketAddr,
        config: ClientConfig,
    ) -> Result<Client, Error> {
        let (wake, wake_rx) = crossbeam_channel::bounded(1);
        let tracking = Tracking::open(&config, &wake)?;
        let rate = config
            .max_rate
            .map(|r| Arc::new(Mutex::new(RateLimiter::new(r, Instant::now()))));
        let start = Start {
            first: Ok((conn, addr)),
            rate,
            owns_tracking: true,
            wake: (wake, wake_rx),
        };
        Client::start(
            transport,
            vec![ServerAddr::from(addr)],
            config,
            Jitter::new(),
            &tracking,
            start,
        )
    }

    /// A bind of a pool: on the pool's tracking and its account's rate cap; a first
    /// connect that fails leaves it down, reconnecting in the background (a pool's binds
    /// always reconnect).
    pub(crate) fn member(
        transport: &TransportHandle,
        servers: Vec<ServerAddr>,
        config: ClientConfig,
        tracking: &Tracking,
        rate: Option<Arc<Mutex<RateLimiter>>>,
        wake: (Sender<()>, Receiver<()>),
    ) -> Result<Client, Error> {
        let first = connect::open_any(transport, &servers, &config);
        if let Err(e) = &first {
            log::warn!("{servers:?}: {e}; reconnecting in the background");
        }
        let start = Start {
            first,
            rate,
            owns_tracking: false,
            wake,
        };
        Client::start(transport, servers, config, Jitter::new(), tracking, start)
    }

    fn start(
        transport: &TransportHandle,
        servers: Vec<ServerAddr>,
        config: ClientConfig,
        jitter: Jitter,
        tracking: &Tracking,
        start: Start,
    ) -> Result<Client, Error> {
        let (conn, addr, health) = match start.first {
            Ok((conn, addr)) => (
                Some(conn),
                addr,
                Health {
                    up_since: Some(std::time::SystemTime::now()),
                    last_error: None,
                },
            ),
            Err(e) => (
                None,
                SocketAddr::from(([0, 0, 0, 0], 0)),
                Health {
                    up_since: None,
                    last_error: Some(e.to_string()),
                },
            ),
        };
        let (wake, wake_rx) = start.wake;
        let inner = Inner {
            transport: transport.clone(),
            servers,
            addr: Mutex::new(addr),
            jitter,
            rate: start.rate,
            account: config.account.as_deref().map(Arc::from),
            config,
            conn: RwLock::new(conn),
            next_tag: AtomicU64::new(1),
            next_reference: AtomicU64::new(1),
            closing: AtomicBool::new(false),
            wake,
            health: Mutex::new(health),
            finished: Mutex::default(),
            reconnects: AtomicU64::new(0),
            throttled_retries: AtomicU64::new(0),
            unbind_closed_by_peer: AtomicU64::new(0),
            life: Arc::clone(&tracking.life),
            out: Arc::clone(&tracking.out),
            store: tracking.store.clone(),
            store_seq: Arc::clone(&tracking.store_seq),
            owns_tracking: start.owns_tracking,
            observed: Mutex::default(),
            accepted: Arc::default(),
        };
        let inner = Arc::new(inner);
        if let Some(c) = inner.conn.read().ok().and_then(|c| c.clone()) {
            inner.observe(&c);
        }
        let d = Arc::clone(&inner);
        let in_tx = tracking.in_tx.clone();
        let dispatcher = std::thread::Builder::new()
            .name("smpp-client".into())
            .spawn(move || dispatch(d, in_tx, wake_rx))
            .map_err(|e| Error::Connect(smpp_transport::TransportError::Io(e)))?;
        Ok(Client {
            inner,
            inbound: tracking.in_rx.clone(),
            dispatcher: Mutex::new(Some(dispatcher)),
            owns_transport: false,
        })
    }

    /// Whether the connection is up, since when, and the last error (a failed connect,
    /// reconnect or a dropped connection).
    pub fn health(&self) -> Health {
        self.inner
            .health
            .lock()
            .map(|h| h.clone())
            .unwrap_or_default()
    }

    /// Inbound messages and receipts.
    pub fn inbound(&self) -> &Receiver<Inbound> {
        &self.inbound
    }

    /// Whether the client was closed ([`Client::unbind`]).
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.closing.load(Ordering::SeqCst)
    }

    /// Whether the client currently has a bound connection.
    pub fn is_connected(&self) -> bool {
        self.inner.conn.read().map(|c| c.is_some()).unwrap_or(false)
    }

    /// What the TLS handshake of the current connection negotiated (version, cipher suite,
    /// key exchange group; see docs/tls.md), or `None` without a bound connection or on a
    /// plaintext one. After a reconnect it describes the new connection.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        let current = self.inner.conn.read().ok().and_then(|c| c.clone())?;
        current.tls_info().cloned()
    }

    /// What the client counted since it was created, across reconnects: the session
    /// counters of every connection it had (see [`smpp_session::Stats`]), reconnects and
    /// throttled retries. A snapshot, cheap to take (a few short copies).
    pub fn stats(&self) -> ClientStats {
        let mut session = self
            .inner
            .finished
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default();
        let current = self.inner.conn.read().ok().and_then(|c| c.clone());
        if let Some(c) = &current {
            session.merge(&c.stats());
        }
        ClientStats {
            session,
            reconnects: self.inner.reconnects.load(Ordering::Relaxed),
            throttled_retries: self.inner.throttled_retries.load(Ordering::Relaxed),
            unbind_closed_by_peer: self.inner.unbind_closed_by_peer.load(Ordering::Relaxed),
            connected: current.is_some(),
            tracker: self
                .inner
                .life
                .lock()
                .map(|l| l.tracker().stats())
                .unwrap_or_default(),
            store: self.inner.store.as_ref().map(|s| s.stats()),
            rate_now: self
                .inner
                .rate
                .as_ref()
                .and_then(|r| r.lock().ok().map(|r| r.current_at(Instant::now()))),
        }
    }
}

/// The examples in the repository's README, compiled and run as doc tests so they stay
/// true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

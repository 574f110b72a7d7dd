//! A blocking SMPP client (ESME) for scripts and services.
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
mod dispatch;
mod error;
mod inbound;
mod options;
mod pending;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use log::{info, warn};
use smpp_pdu::concat;
use smpp_pdu::text::{self, Encoding};
use smpp_pdu::{
    Body, CancelSm, CommandStatus, DataSm, DataSmResp, Pdu, QuerySm, QuerySmResp, ReplaceSm,
    SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp,
};
use smpp_transport::{
    Completed, ConnEvent, Connection, Disconnect, Outcome, Transport, TransportError,
    TransportHandle,
};

pub use close::UnbindOutcome;
pub use config::{Backoff, ClientConfig, ThrottlePolicy};
pub use error::Error;
pub use inbound::Inbound;
pub use options::TextOptions;
pub use pending::Pending;
#[cfg(feature = "tls")]
pub use smpp_transport::TlsClientConfig;
pub use smpp_transport::TlsError;

use dispatch::dispatch;
use pending::outcome_to_result;

struct RateLimiter {
    per_second: f64,
    next: Instant,
}

impl RateLimiter {
    /// How long to wait before the next message may go.
    fn reserve(&mut self) -> Duration {
        let now = Instant::now();
        let start = self.next.max(now);
        self.next = start + Duration::from_secs_f64(1.0 / self.per_second.max(1e-9));
        start - now
    }
}

pub(crate) struct Inner {
    transport: TransportHandle,
    addr: SocketAddr,
    config: ClientConfig,
    conn: RwLock<Option<Arc<Connection>>>,
    next_tag: AtomicU64,
    next_reference: AtomicU64,
    closing: AtomicBool,
    rate: Option<Mutex<RateLimiter>>,
    wake: Sender<()>,
    /// Counters of the connections that ended, summed.
    finished: Mutex<smpp_session::Stats>,
    reconnects: AtomicU64,
    throttled_retries: AtomicU64,
    unbind_closed_by_peer: AtomicU64,
}

/// What a client counted since it was created: see [`Client::stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
            .field("addr", &self.inner.addr)
            .field("bind", &self.inner.config.bind)
            .finish()
    }
}

pub(crate) fn open(
    transport: &TransportHandle,
    addr: SocketAddr,
    config: &ClientConfig,
) -> Result<Arc<Connection>, Error> {
    #[cfg(feature = "tls")]
    let conn = match &config.tls {
        Some(tls) => transport.connect_tls(addr, tls, config.session.clone()),
        None => transport.connect(addr, config.session.clone()),
    };
    #[cfg(not(feature = "tls"))]
    let conn = transport.connect(addr, config.session.clone());
    let conn = conn.map_err(Error::Connect)?;
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

impl Client {
    /// Connects to `addr` and binds; returns a bound client or why it could not be.
    pub fn connect(addr: SocketAddr, config: ClientConfig) -> Result<Client, Error> {
        let transport = Transport::spawn(config.transport.clone()).map_err(Error::Connect)?;
        Client::connect_with(&transport, addr, config).map(|mut c| {
            c.owns_transport = true;
            c
        })
    }

    /// Like [`Client::connect`], on an existing transport shared with other clients.
    pub fn connect_with(
        transport: &TransportHandle,
        addr: SocketAddr,
        config: ClientConfig,
    ) -> Result<Client, Error> {
        let conn = open(transport, addr, &config)?;
        let (wake, wake_rx) = crossbeam_channel::bounded(1);
        // Unbounded underneath (a bounded crossbeam channel allocates and initializes every
        // slot up front: 65,536 were about 27 MiB per client); `forward` enforces the capacity.
        let (in_tx, in_rx) = crossbeam_channel::unbounded();
        let inner = Arc::new(Inner {
            transport: transport.clone(),
            addr,
            rate: config.max_rate.map(|r| {
                Mutex::new(RateLimiter {
                    per_second: r,
                    next: Instant::now(),
                })
            }),
            config,
            conn: RwLock::new(Some(conn)),
            next_tag: AtomicU64::new(1),
            next_reference: AtomicU64::new(1),
            closing: AtomicBool::new(false),
            wake,
            finished: Mutex::default(),
            reconnects: AtomicU64::new(0),
            throttled_retries: AtomicU64::new(0),
            unbind_closed_by_peer: AtomicU64::new(0),
        });
        let d = Arc::clone(&inner);
        let dispatcher = std::thread::Builder::new()
            .name("smpp-client".into())
            .spawn(move || dispatch(d, in_tx, wake_rx))
            .map_err(|e| Error::Connect(smpp_transport::TransportError::Io(e)))?;
        Ok(Client {
            inner,
            inbound: in_rx,
            dispatcher: Mutex::new(Some(dispatcher)),
            owns_transport: false,
        })
    }

    /// Inbound messages and receipts.
    pub fn inbound(&self) -> &Receiver<Inbound> {
        &self.inbound
    }

    /// Whether the client currently has a bound connection.
    pub fn is_connected(&self) -> bool {
        self.inner.conn.read().map(|c| c.is_some()).unwrap_or(false)
    }

    fn connection(&self) -> Result<Arc<Connection>, Error> {
        if self.inner.closing.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        self.inner
            .conn
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or(Error::Disconnected)
    }

    fn wait_limit(&self) -> Duration {
        self.inner.config.session.response_timeout + Duration::from_secs(5)
    }

    fn pace(&self) {
        if let Some(r) = &self.inner.rate {
            let wait = r.lock().map(|mut r| r.reserve()).unwrap_or_default();
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
    }

    /// Starts a request and returns a handle to wait on.
    pub fn request_async(&self, body: Body<'static>) -> Result<Pending, Error> {
        self.pace();
        let conn = self.connection()?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        let tag = self.inner.next_tag.fetch_add(1, Ordering::Relaxed);
        conn.request(body, tag, &tx)
            .map_err(|_| Error::Disconnected)?;
        Ok(Pending {
            rx,
            deadline: self.wait_limit(),
        })
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
        }
    }

    /// Sends a request and waits for its response, retrying on throttling as configured.
    pub fn request(&self, body: Body<'static>) -> Result<Pdu<'static>, Error> {
        let mut attempt = 0;
        loop {
            match self.request_async(body.clone())?.wait() {
                Err(Error::Status(s))
                    if matches!(
                        s,
                        CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RMSGQFUL
                    ) =>
                {
                    match self.inner.config.throttle {
                        ThrottlePolicy::Retry { attempts, backoff } if attempt < attempts => {
                            let d = backoff.delay(attempt);
                            warn!("{s:?}; retrying in {d:?}");
                            self.inner.throttled_retries.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(d);
                            attempt += 1;
                        }
                        _ => return Err(Error::Status(s)),
                    }
                }
                other => return other,
            }
        }
    }

    /// Submits one message and waits for its `submit_sm_resp`.
    pub fn submit(&self, sm: &SubmitSm<'_>) -> Result<SubmitSmResp<'static>, Error> {
        match self.request(Body::from(sm.clone().into_owned()))?.body {
            Body::SubmitSmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Starts a submit and returns a handle; keep up to the window's worth in flight.
    pub fn submit_async(&self, sm: SubmitSm<'static>) -> Result<Pending, Error> {
        self.request_async(Body::from(sm))
    }

    /// Submits many messages, keeping up to `window` in flight, and returns each result in
    /// input order. Throttled responses are retried as configured.
    pub fn submit_batch(
        &self,
        messages: impl IntoIterator<Item = SubmitSm<'static>>,
        window: usize,
    ) -> Vec<Result<SubmitSmResp<'static>, Error>> {
        let messages: Vec<SubmitSm<'static>> = messages.into_iter().collect();
        let mut results: Vec<Option<Result<SubmitSmResp<'static>, Error>>> =
            (0..messages.len()).map(|_| None).collect();
        let (tx, rx) = crossbeam_channel::unbounded::<Completed>();
        let window = window.max(1);
        let mut attempts = vec![0u32; messages.len()];
        let mut next = 0;
        let mut in_flight = 0;
        let mut retry: Vec<usize> = Vec::new();
        let mut remaining = messages.len();
        while remaining > 0 {
            while in_flight < window && (next < messages.len() || !retry.is_empty()) {
                let i = retry.pop().unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                self.pace();
                match self.connection() {
                    Ok(conn) => {
                        if conn
                            .request(Body::from(messages[i].clone()), i as u64, &tx)
                            .is_ok()
                        {
                            in_flight += 1;
                        } else {
                            results[i] = Some(Err(Error::Disconnected));
                            remaining -= 1;
                        }
                    }
                    Err(e) => {
                        results[i] = Some(Err(e));
                        remaining -= 1;
                    }
                }
            }
            if in_flight == 0 {
                continue;
            }
            let Ok(c) = rx.recv_timeout(self.wait_limit()) else {
                for r in results.iter_mut().filter(|r| r.is_none()) {
                    *r = Some(Err(Error::Timeout));
                }
                break;
            };
            in_flight -= 1;
            let i = c.tag as usize;
            let r = outcome_to_result(c.outcome).and_then(|p| match p.body {
                Body::SubmitSmResp(r) => Ok(r),
                _ => Err(Error::UnexpectedResponse),
            });
            match (&r, self.inner.config.throttle) {
                (
                    Err(Error::Status(s)),
                    ThrottlePolicy::Retry {
                        attempts: max,
                        backoff,
                    },
                ) if s.is_transient() && *s != CommandStatus::ESME_RSYSERR && attempts[i] < max => {
                    self.inner.throttled_retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(backoff.delay(attempts[i]));
                    attempts[i] += 1;
                    retry.push(i);
                }
                _ => {
                    results[i] = Some(r);
                    remaining -= 1;
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::Timeout)))
            .collect()
    }

    /// Encodes `text` (choosing the cheapest alphabet unless told), splits it if long,
    /// submits every segment and returns the message ids in segment order.
    pub fn send_text(
        &self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<Vec<String>, Error> {
        let encoding = options
            .encoding
            .unwrap_or_else(|| text::choose(text, &self.inner.config.text));
        let data_coding = self
            .inner
            .config
            .text
            .data_coding(encoding)
            .unwrap_or(match encoding {
                Encoding::Ucs2 => 8,
                Encoding::Latin1 => 3,
                _ => 0,
            });
        let reference = self.inner.next_reference.fetch_add(1, Ordering::Relaxed) as u16;
        let segments =
            concat::split(text, encoding, options.split, reference).map_err(Error::Text)?;
        let template = SubmitSm {
            source_addr_ton: options.source_addr_ton,
            source_addr_npi: options.source_addr_npi,
            source_addr: from.to_string().into(),
            dest_addr_ton: options.dest_addr_ton,
            dest_addr_npi: options.dest_addr_npi,
            destination_addr: to.to_string().into(),
            registered_delivery: options.registered_delivery,
            data_coding,
            ..Default::default()
        };
        let pendings: Vec<Result<Pending, Error>> = segments
            .iter()
            .map(|s| self.submit_async(s.to_submit_sm(&template)))
            .collect();
        pendings
            .into_iter()
            .map(|p| {
                p.and_then(Pending::wait_submit)
                    .map(|r| r.message_id.to_str_lossy().into_owned())
            })
            .collect()
    }

    /// `query_sm`.
    pub fn query(&self, q: &QuerySm<'_>) -> Result<QuerySmResp<'static>, Error> {
        match self.request(Body::from(q.clone().into_owned()))?.body {
            Body::QuerySmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// `cancel_sm`.
    pub fn cancel(&self, c: &CancelSm<'_>) -> Result<(), Error> {
        self.request(Body::from(c.clone().into_owned())).map(|_| ())
    }

    /// `replace_sm`.
    pub fn replace(&self, r: &ReplaceSm<'_>) -> Result<(), Error> {
        self.request(Body::from(r.clone().into_owned())).map(|_| ())
    }

    /// `submit_multi`.
    pub fn submit_multi(&self, m: &SubmitMulti<'_>) -> Result<SubmitMultiResp<'static>, Error> {
        match self.request(Body::from(m.clone().into_owned()))?.body {
            Body::SubmitMultiResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// `data_sm`.
    pub fn data_sm(&self, d: &DataSm<'_>) -> Result<DataSmResp<'static>, Error> {
        match self.request(Body::from(d.clone().into_owned()))?.body {
            Body::DataSmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }
}

/// The examples in the repository's README, compiled and run as doc tests so they stay
/// true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

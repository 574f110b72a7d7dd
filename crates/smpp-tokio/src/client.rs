//! [`Client`], the handle, and [`Inbound`], the stream of what the SMSC sends; the task
//! that owns the connection is in `client/task.rs`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use smpp_client::core::Core;
use smpp_client::{
    ClientConfig, ClientStats, Error, Health, InboundKind, Sent, TextOptions, UnbindOutcome,
};
use smpp_pdu::{
    Body, CancelSm, DataSm, DataSmResp, EnquireLink, Pdu, QuerySm, QuerySmResp, ReplaceSm,
    SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp,
};
use smpp_transport::TransportError;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot};

pub(crate) mod store;
mod task;

use store::{TaskStore, Tracking};
use task::{Call, Command, Shared};

/// An async SMPP client (ESME): a handle to the task that owns one bound connection; see
/// the [crate documentation](crate).
///
/// Cheap to clone; every clone talks to the same connection. When the last handle is
/// dropped, the task unbinds (waiting at most the unbind timeout) and ends; the
/// [`Inbound`] stream then ends after its last item.
#[derive(Clone)]
pub struct Client {
    /// Calls (bounded: the window's worth waits in the channel).
    tx: mpsc::Sender<Box<Command>>,
    /// Unbind and stats, taken by the task whatever the calls are doing.
    control: mpsc::UnboundedSender<Box<Command>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("closed", &self.tx.is_closed())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects over TCP to the first address of `addr` that accepts within
    /// `config.transport.connect_timeout` (Nagle's algorithm off), over TLS when
    /// `config.tls` is set, and binds as [`Client::bind`] does.
    ///
    /// With [`ClientConfig::reconnect`](smpp_client::ClientConfig::reconnect) set, the first
    /// connect is tried [`ClientConfig::connect_attempts`](smpp_client::ClientConfig::connect_attempts)
    /// times with the backoff between (a refused bind ends it at once), and a bound
    /// connection that drops is made again and bound again with the backoff between
    /// attempts, for as long as a handle lives: calls made meanwhile wait (those in flight
    /// when it dropped resolve with [`Error::Disconnected`]), and tracked messages stay
    /// open, so their receipts may come on the new connection.
    ///
    /// A connection that fails (refused, unreachable, timed out, a TLS handshake refused)
    /// is [`Error::Connect`]; the bind's own errors are [`Client::bind`]'s.
    pub async fn connect(
        addr: impl ToSocketAddrs,
        config: ClientConfig,
    ) -> Result<(Client, Inbound), Error> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr)
            .await
            .map_err(io_error)?
            .collect();
        Client::connect_on(addrs, config, None).await
    }

    /// [`Client::connect`] to resolved addresses, with the tracking (lifecycle layer and
    /// store) shared with other clients (a pool's) when `tracking` is given.
    pub(crate) async fn connect_on(
        addrs: Vec<SocketAddr>,
        config: ClientConfig,
        tracking: Option<Tracking>,
    ) -> Result<(Client, Inbound), Error> {
        let pooled = tracking.is_some();
        let timeout = config.transport.connect_timeout;
        #[cfg(feature = "tls-core")]
        if let Some(tls) = config.tls.clone() {
            let dial: task::Dialer<_> = Box::new(move || {
                Box::pin(connect_tls(addrs.clone(), timeout, tls.clone())) as task::Dialing<_>
            });
            return Client::connect_with(dial, config, tracking, pooled).await;
        }
        let dial: task::Dialer<_> =
            Box::new(move || Box::pin(connect_tcp(addrs.clone(), timeout)) as task::Dialing<_>);
        Client::connect_with(dial, config, tracking, pooled).await
    }

    /// The first connect (retried as the configuration says) and the bind, with the
    /// dialer kept for reconnecting.
    async fn connect_with<S>(
        mut dial: task::Dialer<S>,
        config: ClientConfig,
        tracking: Option<Tracking>,
        refuse_while_down: bool,
    ) -> Result<(Client, Inbound), Error>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let Some(backoff) = config.reconnect else {
            let stream = dial().await?;
            return Client::bind_with(stream, config, None, tracking, refuse_while_down).await;
        };
        let attempts = config.connect_attempts.max(1);
        let mut last = Error::Closed;
        for n in 0..attempts {
            if n > 0 {
                tokio::time::sleep(backoff.delay(n - 1)).await;
            }
            let stream = match dial().await {
                Ok(s) => s,
                Err(e) => {
                    log::warn!("connect attempt {} of {attempts} failed: {e}", n + 1);
                    last = e;
                    continue;
                }
            };
            let reconnect = Some(task::Reconnect { dial, backoff });
            return Client::bind_with(stream, config, reconnect, tracking, refuse_while_down).await;
        }
        Err(last)
    }

    /// Binds on a connected stream (a `TcpStream`, a TLS stream, anything async), as
    /// `config.bind` says: spawns the connection's task on the current runtime and returns
    /// once the SMSC accepted the bind, with the handle and the stream of inbound items.
    /// A client bound this way does not reconnect (it cannot open a stream of its own).
    ///
    /// A refused bind is [`Error::BindRejected`]; a stream that fails or closes first is
    /// [`Error::Connect`] (or [`Error::Disconnected`]); no answer within the bind timeout
    /// is [`Error::Timeout`].
    pub async fn bind<S>(stream: S, config: ClientConfig) -> Result<(Client, Inbound), Error>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Client::bind_with(stream, config, None, None, false).await
    }

    async fn bind_with<S>(
        stream: S,
        config: ClientConfig,
        reconnect: Option<task::Reconnect<S>>,
        tracking: Option<Tracking>,
        refuse_while_down: bool,
    ) -> Result<(Client, Inbound), Error>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let window = config.session.window.max(1);
        let capacity = config.inbound_capacity.max(1);
        let store_timeout = config.store_timeout;
        // A pool's binds share its tracking; a client alone with a store has tracking of
        // its own behind a lock, shared with its store thread.
        let (tracking, owner) = match tracking {
            Some(t) => (Some(t), false),
            None if config.store.is_some() => (Some(Tracking::open(&config).await?), true),
            None => (None, false),
        };
        let store = tracking
            .as_ref()
            .and_then(|t| TaskStore::new(t, store_timeout, owner));
        let core = match &tracking {
            Some(t) => Core::bind_shared(config, Instant::now(), Arc::clone(&t.life)),
            None => Core::bind(config, Instant::now()),
        };
        let core = match (core, &tracking) {
            (Ok(core), _) => core,
            (Err(e), Some(t)) if owner => {
                t.finish(store_timeout).await;
                return Err(e);
            }
            (Err(e), _) => return Err(e),
        };
        let (tx, rx) = mpsc::channel(window);
        let (control, control_rx) = mpsc::unbounded_channel();
        let (in_tx, in_rx) = mpsc::channel(capacity);
        let (bound_tx, bound_rx) = oneshot::channel();
        let shared = Arc::new(Shared::default());
        let links = task::Links {
            cmds: rx,
            control: control_rx,
            inbound_tx: in_tx,
            bound: bound_tx,
            shared: Arc::clone(&shared),
            refuse_while_down,
            store,
        };
        tokio::spawn(task::run(stream, core, links, reconnect));
        bound_rx.await.unwrap_or(Err(Error::Disconnected))?;
        Ok((
            Client {
                tx,
                control,
                shared,
            },
            Inbound { rx: in_rx },
        ))
    }

    /// Sends a command to the task and waits for its reply. The command is boxed and made
    /// before the future exists, so the future itself stays small (a call's future is
    /// moved, and often boxed, by whatever runs it).
    async fn call<T: Send + 'static>(
        &self,
        cmd: Box<Command>,
        rx: oneshot::Receiver<Result<T, Error>>,
    ) -> Result<T, Error> {
        match *cmd {
            Command::Call(_) => self.tx.send(cmd).await.map_err(|_| Error::Closed)?,
            _ => self.control.send(cmd).map_err(|_| Error::Closed)?,
        }
        rx.await.unwrap_or(Err(Error::Closed))
    }

    /// Any ESME request (`submit_sm`, `query_sm`, `cancel_sm`, `replace_sm`,
    /// `submit_multi`, `data_sm`, `enquire_link`): resolves with its response (a
    /// non-zero `command_status` is [`Error::Status`]). Binds and unbinds are refused
    /// ([`Error::Refused`]); use [`Client::bind`] and [`Client::unbind`].
    pub fn request(
        &self,
        body: Body<'static>,
    ) -> impl Future<Output = Result<Pdu<'static>, Error>> + Send + '_ {
        let (reply, rx) = oneshot::channel();
        self.call(Box::new(Command::Call(Call::Request { body, reply })), rx)
    }

    /// `submit_sm`, as it is (no tracking; [`Client::send_text`] tracks).
    pub fn submit(
        &self,
        sm: SubmitSm<'static>,
    ) -> impl Future<Output = Result<SubmitSmResp<'static>, Error>> + Send + '_ {
        let response = self.request(Body::from(sm));
        async move {
            match response.await?.body {
                Body::SubmitSmResp(r) => Ok(r),
                _ => Err(Error::UnexpectedResponse),
            }
        }
    }

    /// Sends a text as the blocking
    /// [`smpp_client::Client::send_text`] does: encoded (the cheapest alphabet unless
    /// told), addressed (automatic TON/NPI unless set), split when long, tracked before its
    /// first segment goes out, every segment in flight as the window allows. Resolves with
    /// the message ids in segment order and the reference once every segment is answered
    /// (the first error otherwise); the message's one [`Report`](crate::Report) comes on
    /// [`Inbound`] when its receipts are in (or it expired).
    ///
    /// [`TextOptions::timeout`] does not apply: each segment waits at most the session's
    /// response timeout.
    pub fn send_text(
        &self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> impl Future<Output = Result<Sent, Error>> + Send + '_ {
        let (reply, rx) = oneshot::channel();
        let cmd = Command::Call(Call::Text {
            from: from.into(),
            to: to.into(),
            text: text.into(),
            options: options.clone(),
            reply,
        });
        self.call(Box::new(cmd), rx)
    }

    /// Sends one message the caller built as its `submit_sm`s (binary octets, its own
    /// UDH), tracked as [`Client::send_text`] says (see
    /// [`smpp_client::Client::send_segments`]).
    pub fn send_segments(
        &self,
        segments: Vec<SubmitSm<'static>>,
        options: &TextOptions,
    ) -> impl Future<Output = Result<Sent, Error>> + Send + '_ {
        let (reply, rx) = oneshot::channel();
        let cmd = Command::Call(Call::Segments {
            segments,
            options: options.clone(),
            reply,
        });
        self.call(Box::new(cmd), rx)
    }

    /// `query_sm`.
    pub async fn query(&self, q: QuerySm<'static>) -> Result<QuerySmResp<'static>, Error> {
        match self.request(Body::from(q)).await?.body {
            Body::QuerySmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// `cancel_sm`.
    pub async fn cancel(&self, c: CancelSm<'static>) -> Result<(), Error> {
        self.request(Body::from(c)).await.map(drop)
    }

    /// `replace_sm`.
    pub async fn replace(&self, r: ReplaceSm<'static>) -> Result<(), Error> {
        self.request(Body::from(r)).await.map(drop)
    }

    /// `submit_multi`.
    pub async fn submit_multi(
        &self,
        m: SubmitMulti<'static>,
    ) -> Result<SubmitMultiResp<'static>, Error> {
        match self.request(Body::from(m)).await?.body {
            Body::SubmitMultiResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// `data_sm`.
    pub async fn data_sm(&self, d: DataSm<'static>) -> Result<DataSmResp<'static>, Error> {
        match self.request(Body::from(d)).await?.body {
            Body::DataSmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// `enquire_link` (the task also sends one by itself whenever the link is idle).
    pub async fn enquire_link(&self) -> Result<(), Error> {
        self.request(Body::from(EnquireLink::default()))
            .await
            .map(drop)
    }

    /// Unbinds at once: requests still in flight fail with [`Error::Disconnected`], calls
    /// still waiting for the window with [`Error::NotSent`], and every tracked message
    /// gets its report (await the calls first for their responses). An SMSC that closes
    /// the connection on our `unbind` instead of answering has ended the session as
    /// asked: `Ok(`[`UnbindOutcome::ClosedByPeer`]`)`.
    pub async fn unbind(&self) -> Result<UnbindOutcome, Error> {
        let (reply, rx) = oneshot::channel();
        self.call(Box::new(Command::Unbind { reply }), rx).await
    }

    /// What the connection counted: the session's counters, the tracker's, whether it is
    /// bound.
    pub async fn stats(&self) -> Result<ClientStats, Error> {
        let (reply, rx) = oneshot::channel();
        self.call(Box::new(Command::Stats { reply }), rx).await
    }

    /// Results that came for calls whose future had been dropped (see the crate's
    /// cancellation notes).
    pub fn dropped_results(&self) -> u64 {
        self.shared.dropped_results.load(Ordering::Relaxed)
    }

    /// Inbound items discarded because the [`Inbound`] stream had been dropped.
    pub fn discarded_inbound(&self) -> u64 {
        self.shared.dropped_inbound.load(Ordering::Relaxed)
    }

    /// Bound since when (`None` while it is not), and the last thing that went wrong (a
    /// lost connection, a failed reconnect attempt, a refused bind).
    pub fn health(&self) -> Health {
        self.shared
            .health
            .lock()
            .map(|h| h.clone())
            .unwrap_or_default()
    }

    /// Whether the session is bound now (not while it binds again after a drop, nor after
    /// the end).
    pub fn is_bound(&self) -> bool {
        self.shared.bound.load(Ordering::Relaxed)
    }

    /// Whether the connection's task has ended (calls then fail with [`Error::Closed`]).
    pub fn is_closed(&self) -> bool {
        self.control.is_closed()
    }
}

/// What the SMSC sends, through the lifecycle layer: receipts, each tracked message's one
/// report, whole MO messages (reassembled), progress, unmatched receipts, incomplete
/// messages, other PDUs. Every inbound request was answered before its item came here.
///
/// A [`Stream`](futures_core::Stream) of [`InboundKind`], and [`Inbound::recv`] for a
/// plain loop; it ends once the connection is over and every item was taken.
#[derive(Debug)]
pub struct Inbound {
    pub(crate) rx: mpsc::Receiver<InboundKind>,
}

impl Inbound {
    /// The next item; `None` once the connection is over and every item was taken.
    /// Cancellation safe: an item is never lost to a dropped `recv`.
    pub async fn recv(&mut self) -> Option<InboundKind> {
        self.rx.recv().await
    }

    /// The next item if one is waiting (`None` when none is, or the stream ended).
    pub fn try_recv(&mut self) -> Option<InboundKind> {
        self.rx.try_recv().ok()
    }
}

impl futures_core::Stream for Inbound {
    type Item = InboundKind;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<InboundKind>> {
        self.rx.poll_recv(cx)
    }
}

/// The first of `addrs` that accepts within `timeout`, Nagle's algorithm off.
async fn connect_tcp(addrs: Vec<SocketAddr>, timeout: Duration) -> Result<TcpStream, Error> {
    let mut last = None;
    for a in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(a)).await {
            Ok(Ok(s)) => {
                s.set_nodelay(true).map_err(io_error)?;
                return Ok(s);
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => last = Some(std::io::ErrorKind::TimedOut.into()),
        }
    }
    Err(io_error(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no address to connect to")
    })))
}

/// [`connect_tcp`], then the TLS handshake (bounded by `timeout` too).
#[cfg(feature = "tls-core")]
async fn connect_tls(
    addrs: Vec<SocketAddr>,
    timeout: Duration,
    tls: smpp_client::TlsClientConfig,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Error> {
    let tcp = connect_tcp(addrs, timeout).await?;
    let peer = tcp.peer_addr().map_err(io_error)?;
    let name = tls
        .server_name_for(peer)
        .map_err(|e| Error::Connect(TransportError::Tls(e)))?;
    let connector = tokio_rustls::TlsConnector::from(tls.rustls_config());
    match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        // rustls' own error, when it has one, as the transport's typed TLS error (a
        // refused certificate in words, an alert by name).
        Ok(r) => r.map_err(|e| {
            let tls = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<tokio_rustls::rustls::Error>())
                .cloned();
            match tls {
                Some(t) => {
                    Error::Connect(TransportError::Tls(smpp_client::TlsError::from_rustls(t)))
                }
                None => io_error(e),
            }
        }),
        Err(_) => Err(io_error(std::io::ErrorKind::TimedOut.into())),
    }
}

fn io_error(e: std::io::Error) -> Error {
    Error::Connect(TransportError::Io(e))
}

//! The task that owns one connection: it drives the client's sans-IO [`Core`] with the
//! stream's reads and writes, the core's deadline and the handles' commands, and resolves
//! each command's reply from the core's events.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, warn};
use smpp_client::core::{Core, Event, RequestId, TextId};
use smpp_client::{
    Backoff, ClientStats, Error, Health, InboundKind, Sent, TextOptions, UnbindOutcome,
};
use smpp_pdu::{Body, Pdu, SubmitSm};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

use super::store::TaskStore;

/// Where a command's result goes.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// A connection attempt in progress.
pub(crate) type Dialing<S> = Pin<Box<dyn Future<Output = Result<S, Error>> + Send>>;

/// Opens a new connection to the same SMSC (TCP, and TLS when configured), for
/// reconnecting.
pub(crate) type Dialer<S> = Box<dyn FnMut() -> Dialing<S> + Send>;

/// The task's ends of the handles' channels, and how it treats calls while down.
pub(crate) struct Links {
    pub(crate) cmds: mpsc::Receiver<Box<Command>>,
    pub(crate) control: mpsc::UnboundedReceiver<Box<Command>>,
    pub(crate) inbound_tx: mpsc::Sender<InboundKind>,
    pub(crate) bound: oneshot::Sender<Result<(), Error>>,
    pub(crate) shared: Arc<Shared>,
    /// Refuse calls (`NotSent`) while reconnecting instead of keeping them waiting.
    pub(crate) refuse_while_down: bool,
    /// The store, when the tracking has one.
    pub(crate) store: Option<TaskStore>,
}

/// How the task reconnects when the connection drops.
pub(crate) struct Reconnect<S> {
    pub(crate) dial: Dialer<S>,
    pub(crate) backoff: Backoff,
}

/// Counters the handles read.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Results whose future had been dropped.
    pub(crate) dropped_results: AtomicU64,
    /// Inbound items discarded because the stream had been dropped.
    pub(crate) dropped_inbound: AtomicU64,
    /// Whether the session is bound now (for a pool choosing a bind).
    pub(crate) bound: std::sync::atomic::AtomicBool,
    /// Bound since when, and the last thing that went wrong.
    pub(crate) health: std::sync::Mutex<Health>,
}

impl Shared {
    fn set_last_error(&self, e: String) {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last_error = Some(e);
    }
}

/// What a handle asks of the task (always boxed, so the variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    /// A call that goes into the window.
    Call(Call),
    Unbind {
        reply: Reply<UnbindOutcome>,
    },
    Stats {
        reply: Reply<ClientStats>,
    },
}

/// A call that goes into the window (or waits for room there).
pub(crate) enum Call {
    Request {
        body: Body<'static>,
        reply: Reply<Pdu<'static>>,
    },
    Text {
        from: String,
        to: String,
        text: String,
        options: TextOptions,
        reply: Reply<Sent>,
    },
    Segments {
        segments: Vec<SubmitSm<'static>>,
        options: TextOptions,
        reply: Reply<Sent>,
    },
}

/// Octets read per call.
const READ_CHUNK: usize = 64 * 1024;

/// How long the task keeps writing what is left after the session closed.
const LINGER: Duration = Duration::from_secs(1);

/// What woke the task that owns a stream of type `S`.
enum Wake<S> {
    Wrote(io::Result<usize>),
    Flushed(io::Result<()>),
    Read(io::Result<usize>),
    /// Room in the inbound channel (`false`: the stream was dropped).
    Room(bool),
    /// A command (`None`: every handle was dropped).
    Command(Option<Box<Command>>),
    Timer,
    /// A reconnect attempt ended.
    Dialed(Result<S, Error>),
    /// The store thread answered a read or finished writes (`false`: it stopped).
    Store(bool),
}

/// The connection's state, held by its task.
struct Driver<S> {
    core: Core,
    rd: ReadHalf<S>,
    wr: WriteHalf<S>,
    buf: Vec<u8>,
    /// Encoded PDUs not yet written, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    /// Calls waiting for room in the window, in the order they came.
    waiting: VecDeque<Call>,
    requests: HashMap<RequestId, Reply<Pdu<'static>>>,
    texts: HashMap<TextId, Reply<Sent>>,
    unbinds: Vec<Reply<UnbindOutcome>>,
    /// Inbound items the channel had no room for yet (the task reads nothing meanwhile).
    inbound: VecDeque<InboundKind>,
    inbound_tx: mpsc::Sender<InboundKind>,
    /// The bind's reply, until the bind is answered.
    bound: Option<oneshot::Sender<Result<(), Error>>>,
    shared: Arc<Shared>,
    window: usize,
    /// When the session closed for good.
    closed_at: Option<Instant>,
    /// While the connection is being made again: when the next attempt starts (`None`
    /// while one is under way).
    retry_at: Option<Instant>,
    /// Whether the connection is being made again (calls wait meanwhile).
    reconnecting: bool,
    /// Failed attempts since the last bind that held.
    attempt: u32,
    /// Whether reconnecting is possible (a dialer and a backoff were given).
    can_reconnect: bool,
    /// Whether every handle was dropped.
    orphaned: bool,
    /// The delays between attempts.
    backoff: Backoff,
    /// Whether calls are refused (`NotSent`) while the connection is being made again
    /// instead of waiting for it (a pool's binds: the pool sends them elsewhere).
    refuse_while_down: bool,
    /// Whether `out` was written and the stream still has to be flushed (a TLS stream
    /// keeps records a write left while the socket was full).
    unflushed: bool,
    /// The store, when the tracking has one: sends are answered once their records are.
    store: Option<TaskStore>,
}

/// Runs one connection until its session is over, what it still had to write is written
/// (or [`LINGER`] passed) and every inbound item was handed over.
pub(crate) async fn run<S>(stream: S, core: Core, links: Links, reconnect: Option<Reconnect<S>>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let Links {
        mut cmds,
        mut control,
        inbound_tx,
        bound,
        shared,
        refuse_while_down,
        store,
    } = links;
    let mut signal = store.as_ref().and_then(TaskStore::signal);
    let (rd, wr) = tokio::io::split(stream);
    let window = core.session().config().window.max(1);
    let mut core = core;
    // Open messages survive a dropped connection when it is made again.
    if reconnect.is_some() {
        core.keep_tracking(true);
    }
    let (mut dial, backoff) = match reconnect {
        Some(r) => (Some(r.dial), Some(r.backoff)),
        None => (None, None),
    };
    let mut dialing: Option<Dialing<S>> = None;
    let mut d = Driver {
        core,
        rd,
        wr,
        buf: vec![0; READ_CHUNK],
        out: Vec::with_capacity(READ_CHUNK),
        out_pos: 0,
        waiting: VecDeque::new(),
        requests: HashMap::new(),
        texts: HashMap::new(),
        unbinds: Vec::new(),
        inbound: VecDeque::new(),
        inbound_tx,
        bound: Some(bound),
        shared,
        window,
        closed_at: None,
        retry_at: None,
        reconnecting: false,
        attempt: 0,
        can_reconnect: dial.is_some(),
        orphaned: false,
        backoff: backoff.unwrap_or_default(),
        refuse_while_down,
        unflushed: false,
        store,
    };
    let far = || tokio::time::Instant::now() + Duration::from_secs(86_400);
    let sleep = tokio::time::sleep_until(far());
    tokio::pin!(sleep);
    // When the timer is set to fire. It is re-armed only for an earlier deadline (or once
    // it fired): waking early is harmless (the core finds nothing due and says when), and
    // the deadline moves with nearly every response.
    let mut armed: Option<Instant> = None;
    let mut handles = true;
    let mut drained = false;
    loop {
        // Every call already queued is taken at once, so that a burst of calls goes out
        // in one write.
        while handles && d.waiting.len() < d.window {
            match cmds.try_recv() {
                Ok(c) => d.command(c),
                Err(_) => break,
            }
        }
        d.settle();
        if d.closed_at.is_some() && !drained {
            // Calls made before the end that the task had not taken yet never went out.
            drained = true;
            while let Ok(c) = cmds.try_recv() {
                refuse_command(c, Error::NotSent);
            }
            while let Ok(c) = control.try_recv() {
                refuse_command(c, Error::NotSent);
            }
        }
        let store_due = d.store.as_ref().and_then(TaskStore::deadline);
        if let Some(at) = d.closed_at {
            let written = d.out_pos == d.out.len() || at.elapsed() >= LINGER;
            if written && d.inbound.is_empty() && store_due.is_none() {
                break;
            }
        }
        // After the close, what is left is written for up to LINGER; past it the task only
        // waits for room to hand over the last inbound items (no timer to spin on).
        let lingering = d.closed_at.is_some_and(|at| at.elapsed() < LINGER);
        let deadline = match (d.closed_at, d.reconnecting) {
            (Some(at), _) => lingering.then_some(at + LINGER),
            (None, true) => d.retry_at,
            (None, false) => d.core.poll_timeout(),
        };
        // A send waiting for its records is answered when its wait runs out.
        let deadline = match (deadline, store_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(t) = deadline {
            if armed.is_none_or(|a| t < a) {
                armed = Some(t);
                sleep.as_mut().reset(tokio::time::Instant::from_std(t));
            }
        }
        let open = d.closed_at.is_none() && !d.reconnecting;
        let can_write = (open || lingering) && !d.reconnecting;
        let writing = can_write && d.out_pos < d.out.len();
        let flushing = can_write && !writing && d.unflushed;
        let reading = open && d.inbound.is_empty();
        let taking = handles && d.waiting.len() < d.window;
        let wake = tokio::select! {
            biased;
            w = async {
                if writing {
                    Wake::Wrote(d.wr.write(&d.out[d.out_pos..]).await)
                } else {
                    Wake::Flushed(d.wr.flush().await)
                }
            }, if writing || flushing => w,
            r = d.rd.read(&mut d.buf), if reading => Wake::Read(r),
            r = async { dialing.as_mut().expect("checked").await }, if dialing.is_some() => {
                Wake::Dialed(r)
            }
            r = d.inbound_tx.reserve(), if !d.inbound.is_empty() => Wake::Room(r.is_ok()),
            r = async { signal.as_mut().expect("checked").changed().await }, if signal.is_some() => {
                Wake::Store(r.is_ok())
            }
            c = control.recv(), if handles => Wake::Command(c),
            c = cmds.recv(), if taking => Wake::Command(c),
            () = &mut sleep, if armed.is_some() => Wake::Timer,
        };
        match wake {
            // Given up meanwhile (an unbind, the last handle dropped).
            Wake::Dialed(_) if !d.reconnecting => dialing = None,
            Wake::Dialed(Ok(stream)) => {
                dialing = None;
                let (rd, wr) = tokio::io::split(stream);
                (d.rd, d.wr) = (rd, wr);
                d.out.clear();
                d.out_pos = 0;
                d.reconnecting = false;
                if let Err(e) = d.core.rebind(Instant::now()) {
                    warn!("cannot bind again: {e}");
                    d.give_up();
                }
            }
            Wake::Dialed(Err(e)) => {
                dialing = None;
                warn!("reconnect attempt {} failed: {e}", d.attempt);
                d.shared.set_last_error(e.to_string());
                d.schedule_retry();
            }
            Wake::Wrote(Ok(0)) => d.lost(io::ErrorKind::WriteZero.into()),
            Wake::Wrote(Ok(n)) => {
                d.out_pos += n;
                d.unflushed = true;
            }
            Wake::Flushed(Ok(())) => d.unflushed = false,
            Wake::Flushed(Err(e)) => d.lost(e),
            Wake::Read(Ok(0)) => d.core.handle_eof(Instant::now()),
            Wake::Read(Ok(n)) => d.core.handle_input(Instant::now(), &d.buf[..n]),
            Wake::Wrote(Err(e)) | Wake::Read(Err(e)) => d.lost(e),
            // The permit was let go at once: the channel has room, and only this task
            // sends on it, so the items go in `settle`.
            Wake::Room(true) => {}
            Wake::Room(false) => d.discard_inbound(),
            Wake::Command(Some(c)) => d.command(c),
            // What the store's answers changed in the lifecycle comes out with the core's
            // timers (running them early is harmless); durable sends go in `settle`.
            Wake::Store(true) => {
                if d.closed_at.is_none() && !d.reconnecting {
                    d.core.handle_timeout(Instant::now());
                }
            }
            Wake::Store(false) => signal = None,
            Wake::Command(None) => {
                // Every handle is gone: the session ends with an unbind.
                handles = false;
                d.orphaned = true;
                if d.reconnecting {
                    dialing = None;
                    d.give_up();
                } else if open && d.core.is_bound() {
                    debug!("every handle dropped: unbinding");
                    let _ = d.core.unbind(Instant::now());
                }
            }
            Wake::Timer => {
                armed = None;
                sleep.as_mut().reset(far());
                if open {
                    d.core.handle_timeout(Instant::now());
                } else if d.reconnecting && d.retry_at.is_some_and(|t| t <= Instant::now()) {
                    d.retry_at = None;
                    if let Some(dial) = dial.as_mut() {
                        debug!("reconnecting (attempt {})", d.attempt + 1);
                        dialing = Some(dial());
                    }
                }
            }
        }
    }
    let _ = d.wr.shutdown().await;
    // A client alone ends its tracking: what is open is left to the store, the last
    // writes go in, and what the lifecycle still has to say goes on the stream.
    if let Some(store) = d.store.take().filter(|s| s.owner) {
        let limit = d.core.config().store_timeout;
        for item in store.tracking().finish(limit).await {
            if d.inbound_tx.send(item).await.is_err() {
                break;
            }
        }
    }
    debug!("connection task ended");
}

impl<S: AsyncRead + AsyncWrite> Driver<S> {
    /// After anything happened: starts the waiting calls that fit, takes the output, hands
    /// out the events, and answers the bind and the unbinds once they are decided.
    fn settle(&mut self) {
        self.start_waiting();
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        self.core.poll_transmit(&mut self.out);
        while let Some(ev) = self.core.poll_event() {
            self.event(ev);
        }
        if let Some(store) = &mut self.store {
            store.take();
            for (reply, result) in store.ready(Instant::now()) {
                self.deliver(reply, result);
            }
        }
        self.flush_inbound();
        if self.attempt > 0 && matches!(self.core.bind_outcome(), Some(Ok(()))) {
            debug!("bound again after {} failed attempt(s)", self.attempt);
            self.attempt = 0;
        }
        // Every handle went while the session was binding: it ends once bound.
        if self.orphaned && self.core.is_bound() && self.closed_at.is_none() {
            debug!("every handle dropped while binding: unbinding");
            let _ = self.core.unbind(Instant::now());
        }
        // Before the bind's answer goes out, so that a handle never sees itself unbound
        // once connected.
        let bound = self.core.is_bound();
        if self.shared.bound.swap(bound, Ordering::Relaxed) != bound {
            let mut h = self.shared.health.lock().unwrap_or_else(|e| e.into_inner());
            h.up_since = bound.then(std::time::SystemTime::now);
        }
        if let Some(tx) = self.bound.take() {
            match self.core.bind_outcome() {
                Some(r) => {
                    if let Err(e) = &r {
                        self.shared.set_last_error(e.to_string());
                    }
                    let _ = tx.send(r);
                }
                None => self.bound = Some(tx),
            }
        }
        if self.core.is_closed() && !self.unbinds.is_empty() {
            let outcome = self.core.unbind_outcome();
            for reply in self.unbinds.drain(..) {
                let r = match &outcome {
                    Some(Ok(o)) => Ok(*o),
                    Some(Err(Error::Timeout)) => Err(Error::Timeout),
                    _ => Err(Error::Disconnected),
                };
                let _ = reply.send(r);
            }
        }
    }

    /// One event of the core: a reply resolved, an inbound item queued, or the close.
    fn event(&mut self, ev: Event) {
        match ev {
            Event::Response { id, result } => match self.requests.remove(&id) {
                Some(reply) => self.deliver(reply, result),
                None => debug!("a response for {id:?}, which no call waits for"),
            },
            Event::Sent { id, result } => match self.texts.remove(&id) {
                // With a store, what is answered as sent is written there first.
                Some(reply) => match &mut self.store {
                    Some(store) => {
                        if let Some((reply, result)) = store.answer(reply, result) {
                            self.deliver(reply, result);
                        }
                    }
                    None => self.deliver(reply, result),
                },
                None => debug!("an outcome for {id:?}, which no call waits for"),
            },
            Event::Inbound(item) => self.inbound.push_back(item),
            Event::Closed { reason, error } => {
                let quiet = error.is_none();
                match error {
                    Some(e) => {
                        warn!("session closed ({reason:?}): {e}");
                        self.shared.set_last_error(e.to_string());
                    }
                    None => debug!("session closed ({reason:?})"),
                }
                // A connection that was bound and dropped without our unbind is made
                // again (when configured); calls wait for it.
                let ours = !self.unbinds.is_empty() || self.orphaned;
                // A close without an I/O error (the SMSC unbound or hung up) is the reason.
                if quiet && !ours {
                    self.shared
                        .set_last_error(format!("the session closed ({reason:?})"));
                }
                if self.can_reconnect && self.bound.is_none() && !ours {
                    self.reconnecting = true;
                    self.schedule_retry();
                    if self.refuse_while_down {
                        for c in std::mem::take(&mut self.waiting) {
                            refuse(c, Error::NotSent);
                        }
                    }
                    return;
                }
                self.closed_at = Some(Instant::now());
                self.core.expire_open(Instant::now());
                // The core resolved every request before its close; whatever is left
                // (nothing, unless a rule changed) is resolved here rather than left open.
                for (_, reply) in std::mem::take(&mut self.requests) {
                    let _ = reply.send(Err(Error::Disconnected));
                }
                for (_, reply) in std::mem::take(&mut self.texts) {
                    let _ = reply.send(Err(Error::Disconnected));
                }
                for c in std::mem::take(&mut self.waiting) {
                    refuse(c, Error::NotSent);
                }
            }
            other => debug!("core: {other:?}"),
        }
    }

    /// Hands a result to its call, counting it when the call's future was dropped.
    fn deliver<T>(&self, reply: Reply<T>, result: Result<T, Error>) {
        if reply.send(result).is_err() {
            self.shared.dropped_results.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands queued inbound items to the channel while it has room.
    fn flush_inbound(&mut self) {
        while let Some(item) = self.inbound.pop_front() {
            match self.inbound_tx.try_send(item) {
                Ok(()) => {}
                Err(TrySendError::Full(item)) => {
                    self.inbound.push_front(item);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    self.shared.dropped_inbound.fetch_add(1, Ordering::Relaxed);
                    self.discard_inbound();
                    return;
                }
            }
        }
    }

    /// The stream was dropped: what is queued is counted and discarded.
    fn discard_inbound(&mut self) {
        let n = self.inbound.len() as u64;
        self.inbound.clear();
        self.shared.dropped_inbound.fetch_add(n, Ordering::Relaxed);
    }

    /// A command from a handle: a call is started now when nothing waits before it and
    /// it fits, queued otherwise.
    fn command(&mut self, c: Box<Command>) {
        match *c {
            Command::Stats { reply } => {
                let mut stats = self.core.stats();
                stats.store = self.store.as_ref().and_then(TaskStore::stats);
                let _ = reply.send(Ok(stats));
            }
            Command::Unbind { reply } => {
                if self.reconnecting {
                    // No session to unbind: the attempts stop and the client closes.
                    self.give_up();
                    let _ = reply.send(Err(Error::Disconnected));
                    return;
                }
                if self.core.is_closed() {
                    let _ = reply.send(Err(Error::Closed));
                    return;
                }
                for c in std::mem::take(&mut self.waiting) {
                    refuse(c, Error::NotSent);
                }
                match self.core.unbind(Instant::now()) {
                    Ok(()) => self.unbinds.push(reply),
                    // Already unbinding: this call waits for the same outcome.
                    Err(Error::Refused(_)) if !self.unbinds.is_empty() => self.unbinds.push(reply),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Call(call) if self.reconnecting && self.refuse_while_down => {
                refuse(call, Error::NotSent);
            }
            Command::Call(call) if self.waiting.is_empty() && self.fits() => self.start(call),
            Command::Call(call) => self.waiting.push_back(call),
        }
    }

    /// Whether a call would be started now: there is room, or the session cannot take
    /// any (not bound, closed), and the call gets the core's refusal at once.
    fn fits(&self) -> bool {
        self.core.has_room() || self.closed_at.is_some()
    }

    /// The next reconnect attempt after the backoff's delay for this one.
    fn schedule_retry(&mut self) {
        let delay = self.backoff.delay_with_jitter(self.attempt, unit_random());
        self.attempt += 1;
        debug!("reconnect attempt {} in {delay:?}", self.attempt);
        self.retry_at = Some(Instant::now() + delay);
    }

    /// Stops reconnecting: the client is closed for good, waiting calls were never sent,
    /// and every open message is reported.
    fn give_up(&mut self) {
        self.reconnecting = false;
        self.retry_at = None;
        let now = Instant::now();
        self.closed_at = Some(now);
        for c in std::mem::take(&mut self.waiting) {
            refuse(c, Error::NotSent);
        }
        self.core.expire_open(now);
    }

    /// Starts the waiting calls, in order, while they fit.
    fn start_waiting(&mut self) {
        while !self.waiting.is_empty() && self.fits() {
            if let Some(c) = self.waiting.pop_front() {
                self.start(c);
            }
        }
    }

    /// Hands a call to the core; its reply waits for the core's event.
    fn start(&mut self, call: Call) {
        let now = Instant::now();
        match call {
            Call::Request { body, reply } => match self.core.request(now, &body) {
                Ok(id) => {
                    self.requests.insert(id, reply);
                }
                Err(e) => self.deliver(reply, Err(e)),
            },
            Call::Text {
                from,
                to,
                text,
                options,
                reply,
            } => match self.core.send_text(now, &from, &to, &text, &options) {
                Ok(id) => {
                    self.texts.insert(id, reply);
                }
                Err(e) => self.deliver(reply, Err(e)),
            },
            Call::Segments {
                segments,
                options,
                reply,
            } => match self.core.send_segments(now, segments, &options) {
                Ok(id) => {
                    self.texts.insert(id, reply);
                }
                Err(e) => self.deliver(reply, Err(e)),
            },
        }
    }

    /// The stream failed.
    fn lost(&mut self, e: io::Error) {
        self.out_pos = self.out.len();
        self.core.handle_io_error(Instant::now(), e);
    }
}

/// A number in `[0, 1)` for the backoff's jitter, different in every call (from the
/// standard library's randomly keyed hasher; no generator needed for this).
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Answers a call that will not be started.
fn refuse(call: Call, e: Error) {
    match call {
        Call::Request { reply, .. } => {
            let _ = reply.send(Err(e));
        }
        Call::Text { reply, .. } | Call::Segments { reply, .. } => {
            let _ = reply.send(Err(e));
        }
    }
}

/// Answers a command that will not be carried out.
fn refuse_command(c: Box<Command>, e: Error) {
    match *c {
        Command::Call(call) => refuse(call, e),
        Command::Unbind { reply } => {
            let _ = reply.send(Err(e));
        }
        Command::Stats { reply } => {
            let _ = reply.send(Err(e));
        }
    }
}

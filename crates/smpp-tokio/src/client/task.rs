//! The task that owns one connection: it drives the client's sans-IO [`Core`] with the
//! stream's reads and writes, the core's deadline and the handles' commands, and resolves
//! each command's reply from the core's events.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, warn};
use smpp_client::core::{Core, Event, RequestId, TextId};
use smpp_client::{ClientStats, Error, InboundKind, Sent, TextOptions, UnbindOutcome};
use smpp_pdu::{Body, Pdu, SubmitSm};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

/// Where a command's result goes.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// Counters the handles read.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Results whose future had been dropped.
    pub(crate) dropped_results: AtomicU64,
    /// Inbound items discarded because the stream had been dropped.
    pub(crate) dropped_inbound: AtomicU64,
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

/// What woke the task.
enum Wake {
    Wrote(io::Result<usize>),
    Read(io::Result<usize>),
    /// Room in the inbound channel (`false`: the stream was dropped).
    Room(bool),
    /// A command (`None`: every handle was dropped).
    Command(Option<Box<Command>>),
    Timer,
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
    /// When the session closed.
    closed_at: Option<Instant>,
}

/// Runs one connection until its session is over, what it still had to write is written
/// (or [`LINGER`] passed) and every inbound item was handed over.
pub(crate) async fn run<S>(
    stream: S,
    core: Core,
    mut cmds: mpsc::Receiver<Box<Command>>,
    inbound_tx: mpsc::Sender<InboundKind>,
    bound: oneshot::Sender<Result<(), Error>>,
    shared: Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let window = core.session().config().window.max(1);
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
        }
        if let Some(at) = d.closed_at {
            let written = d.out_pos == d.out.len() || at.elapsed() >= LINGER;
            if written && d.inbound.is_empty() {
                break;
            }
        }
        let deadline = match d.closed_at {
            Some(at) => Some(at + LINGER),
            None => d.core.poll_timeout(),
        };
        if let Some(t) = deadline {
            if armed.is_none_or(|a| t < a) {
                armed = Some(t);
                sleep.as_mut().reset(tokio::time::Instant::from_std(t));
            }
        }
        let open = d.closed_at.is_none();
        let (writing, reading) = (d.out_pos < d.out.len(), open && d.inbound.is_empty());
        let taking = handles && d.waiting.len() < d.window;
        let wake = tokio::select! {
            biased;
            r = d.wr.write(&d.out[d.out_pos..]), if writing => Wake::Wrote(r),
            r = d.rd.read(&mut d.buf), if reading => Wake::Read(r),
            r = d.inbound_tx.reserve(), if !d.inbound.is_empty() => Wake::Room(r.is_ok()),
            c = cmds.recv(), if taking => Wake::Command(c),
            () = &mut sleep, if armed.is_some() => Wake::Timer,
        };
        match wake {
            Wake::Wrote(Ok(0)) => d.lost(io::ErrorKind::WriteZero.into()),
            Wake::Wrote(Ok(n)) => d.out_pos += n,
            Wake::Read(Ok(0)) => d.core.handle_eof(Instant::now()),
            Wake::Read(Ok(n)) => d.core.handle_input(Instant::now(), &d.buf[..n]),
            Wake::Wrote(Err(e)) | Wake::Read(Err(e)) => d.lost(e),
            // The permit was let go at once: the channel has room, and only this task
            // sends on it, so the items go in `settle`.
            Wake::Room(true) => {}
            Wake::Room(false) => d.discard_inbound(),
            Wake::Command(Some(c)) => d.command(c),
            Wake::Command(None) => {
                // Every handle is gone: the session ends with an unbind.
                handles = false;
                if open && d.core.is_bound() {
                    debug!("every handle dropped: unbinding");
                    let _ = d.core.unbind(Instant::now());
                }
            }
            Wake::Timer => {
                armed = None;
                sleep.as_mut().reset(far());
                if open {
                    d.core.handle_timeout(Instant::now());
                }
            }
        }
    }
    let _ = d.wr.shutdown().await;
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
        self.flush_inbound();
        if let Some(tx) = self.bound.take() {
            match self.core.bind_outcome() {
                Some(r) => {
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
                Some(reply) => self.deliver(reply, result),
                None => debug!("an outcome for {id:?}, which no call waits for"),
            },
            Event::Inbound(item) => self.inbound.push_back(item),
            Event::Closed { reason, error } => {
                match error {
                    Some(e) => warn!("session closed ({reason:?}): {e}"),
                    None => debug!("session closed ({reason:?})"),
                }
                self.closed_at = Some(Instant::now());
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
                let _ = reply.send(Ok(self.core.stats()));
            }
            Command::Unbind { reply } => {
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
            Command::Call(call) if self.waiting.is_empty() && self.fits() => self.start(call),
            Command::Call(call) => self.waiting.push_back(call),
        }
    }

    /// Whether a call would be started now: there is room, or the session cannot take
    /// any (not bound, closed), and the call gets the core's refusal at once.
    fn fits(&self) -> bool {
        self.core.has_room() || !self.core.is_bound()
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

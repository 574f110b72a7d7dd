//! The event loop thread: one `mio::Poll` for every socket, the commands from the
//! handles, and the timer heap. This file holds the loop, its state and its timers;
//! `sockets.rs` opens, accepts, handshakes and takes down connections, `wire.rs` moves
//! octets between sockets and sessions, and `routing.rs` carries requests, responses and
//! events between the sessions and the application.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use log::{debug, info, trace, warn};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use smpp_pdu::Body;
use smpp_session::{Event, SendError, Session, Stats};

use crate::tls::{self, ReadError, TlsConn, TlsError};
use crate::{
    Command, Completed, Config, ConnEvent, ConnId, ConnOp, Connection, Disconnect, Listener,
    Outcome, Reply, ResponseObserver, Room, Shared, TransportError, TransportHandle,
};

mod routing;
mod sockets;
mod wire;

use routing::*;
use wire::*;

const WAKER: Token = Token(0);

pub(crate) fn spawn(config: Config) -> Result<TransportHandle, TransportError> {
    let poll = Poll::new().map_err(TransportError::Io)?;
    let waker = mio::Waker::new(poll.registry(), WAKER).map_err(TransportError::Io)?;
    let (tx, rx) = crossbeam_channel::unbounded();
    let room = Arc::new(Room::default());
    let shared = Arc::new(Shared {
        tx,
        capacity: config.command_capacity.max(1),
        waker,
        sleeping: AtomicBool::new(false),
        room: Arc::clone(&room),
        thread: Mutex::new(None),
        loop_thread: std::sync::OnceLock::new(),
    });
    let weak = Arc::downgrade(&shared);
    let thread = std::thread::Builder::new()
        .name("smpp-transport".into())
        .spawn(move || {
            let mut l = EventLoop {
                poll,
                config,
                rx,
                shared: weak,
                room,
                entries: HashMap::new(),
                next_token: 1,
                scratch: Vec::new(),
                conns: 0,
                orphans: Vec::new(),
                timers: BinaryHeap::new(),
                touched: Vec::new(),
            };
            l.run();
        })
        .map_err(TransportError::Io)?;
    let _ = shared.loop_thread.set(thread.thread().id());
    *shared.thread.lock().map_err(|_| TransportError::Shutdown)? = Some(thread);
    Ok(TransportHandle { shared })
}

struct ListenerState {
    socket: TcpListener,
    session: smpp_session::Config,
    tls: Option<tls::TlsServerConfig>,
    accepted: Sender<Connection>,
    /// The event channel its connections share, if it was asked for one.
    events: Option<Sender<(ConnId, ConnEvent)>>,
    id: u64,
    /// Connections accepted from it and not yet removed.
    open: usize,
    /// Its connections get ESME sessions (outbind), not SMSC ones.
    esme: bool,
}

/// A listener's shared event channel holds this many times [`Config::event_capacity`]
/// events before connections with more to say hold them back (and stop reading).
const SHARED_CAPACITY_FACTOR: usize = 16;

/// Where a connection goes once its TLS handshake is complete.
enum Handoff {
    /// To the caller of `connect_tls`.
    Connect(Sender<Result<Connection, TransportError>>),
    /// To the listener's accept channel.
    Accept(Sender<Connection>),
}

struct Queued {
    body: Body<'static>,
    tag: u64,
    reply: Reply,
}

struct Conn {
    stream: TcpStream,
    /// The TLS side, between the socket and the session.
    tls: Option<Box<TlsConn>>,
    /// A TLS handshake in progress: its deadline and where the connection goes after it.
    handshake: Option<(Instant, Handoff)>,
    /// Whether the first octets of a plaintext connection were checked for TLS records.
    sniffed: bool,
    session: Option<Session>,
    session_config: smpp_session::Config,
    events: Option<EventTx>,
    wbuf: Vec<u8>,
    wpos: usize,
    pending: HashMap<u32, (u64, Reply)>,
    /// Sees each response before its reply does ([`Connection::observe_responses`]).
    observer: Option<ResponseObserver>,
    bind: Option<(u32, u64, Reply)>,
    unbind: Option<(u32, u64, Reply)>,
    queue: VecDeque<Queued>,
    interest: Interest,
    connecting: Option<(Instant, Sender<Result<Connection, TransportError>>)>,
    closed: Option<Disconnect>,
    closed_at: Option<Instant>,
    held_events: VecDeque<ConnEvent>,
    read_paused: bool,
    /// The session's counters as last published for [`Connection::stats`].
    stats: Arc<Mutex<Stats>>,
    /// The listener it was accepted from (counted in its `open` until removed).
    listener: Option<Token>,
    /// The deadline it has in the loop's timer heap (entries with another time are stale).
    armed: Option<Instant>,
    /// Whether its session is an SMSC's: accepted from a listener, or dialled for outbind.
    smsc_role: bool,
}

enum Entry {
    Listener(Box<ListenerState>),
    Conn(Box<Conn>),
}

struct EventLoop {
    poll: Poll,
    config: Config,
    rx: Receiver<Command>,
    shared: std::sync::Weak<Shared>,
    /// Senders waiting for room in the command channel.
    room: Arc<Room>,
    entries: HashMap<Token, Entry>,
    next_token: usize,
    scratch: Vec<u8>,
    conns: usize,
    /// Last events of removed connections that did not fit in their (full) channels yet.
    orphans: Vec<(EventTx, VecDeque<ConnEvent>)>,
    /// Each connection's next deadline, earliest first; an entry whose time is not the
    /// connection's `armed` any more is stale and skipped (and the heap is rebuilt when
    /// stale entries outnumber the connections). A turn runs the timers that are due
    /// instead of looking at every connection.
    timers: BinaryHeap<Reverse<(Instant, Token)>>,
    /// Connections something happened to in this turn: their deadline is worked out again
    /// before the loop sleeps.
    touched: Vec<Token>,
}

impl EventLoop {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        self.scratch = vec![0; self.config.read_chunk.max(16)];
        loop {
            if !self.drain_commands() {
                break;
            }
            // New connections and commands may bring deadlines already due.
            self.rearm_touched();
            self.run_timers(Instant::now());
            self.rearm_touched();
            let mut timeout: Option<Instant> = self.timers.peek().map(|Reverse((at, _))| *at);
            self.orphans
                .retain_mut(|(tx, events)| !try_deliver(tx, events));
            if !self.orphans.is_empty() {
                // Look again soon, as for backpressure.
                let d = Instant::now() + std::time::Duration::from_millis(1);
                timeout = Some(timeout.map_or(d, |x: Instant| x.min(d)));
            }
            let shared = self.shared.upgrade();
            if let Some(s) = &shared {
                s.sleeping.store(true, Ordering::SeqCst);
            }
            let wait = if !self.rx.is_empty() {
                Some(std::time::Duration::ZERO)
            } else {
                timeout.map(|d| d.saturating_duration_since(Instant::now()))
            };
            drop(shared);
            if let Err(e) = self.poll.poll(&mut events, wait) {
                if !interrupted(&e) {
                    warn!("poll failed: {e}");
                    break;
                }
            }
            if let Some(s) = self.shared.upgrade() {
                s.sleeping.store(false, Ordering::SeqCst);
            } else {
                break;
            }
            for ev in events.iter() {
                let t = ev.token();
                if t == WAKER {
                    continue;
                }
                match self.entries.get(&t) {
                    Some(Entry::Listener(_)) => self.accept(t),
                    Some(Entry::Conn(_)) => {
                        self.on_io(t, ev.is_readable() || ev.is_read_closed(), ev.is_writable());
                        self.touched.push(t);
                    }
                    None => {}
                }
            }
        }
        self.shutdown_all();
    }

    /// Handles queued commands; `false` on shutdown.
    fn drain_commands(&mut self) -> bool {
        let mut touched = Vec::new();
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Command::Shutdown => return false,
                Command::Connect {
                    addr,
                    session,
                    tls,
                    smsc,
                    reply,
                } => self.connect(addr, session, tls, smsc, reply),
                Command::Listen {
                    addr,
                    session,
                    tls,
                    shared_events,
                    esme,
                    reply,
                } => self.listen(addr, session, tls, shared_events, esme, reply),
                Command::CloseListener(id) => {
                    let t = self.entries.iter().find_map(|(t, e)| match e {
                        Entry::Listener(l) if l.id == id => Some(*t),
                        _ => None,
                    });
                    if let Some(t) = t {
                        if let Some(Entry::Listener(mut l)) = self.entries.remove(&t) {
                            let _ = self.poll.registry().deregister(&mut l.socket);
                        }
                    }
                }
                Command::Conn(id, op) => {
                    let t = Token(id as usize);
                    self.conn_op(t, op);
                    if !touched.contains(&t) {
                        touched.push(t);
                    }
                }
            }
        }
        self.room.notify();
        for t in touched {
            self.service(t);
            self.touched.push(t);
        }
        true
    }

    /// Runs the timers due at `now`.
    fn run_timers(&mut self, now: Instant) {
        while let Some(&Reverse((at, t))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            match self.entries.get_mut(&t) {
                Some(Entry::Conn(c)) if c.armed == Some(at) => c.armed = None,
                _ => continue,
            }
            self.on_time(t, now);
            self.touched.push(t);
        }
    }

    /// Puts each touched connection's next deadline in the timer heap.
    fn rearm_touched(&mut self) {
        let mut touched = std::mem::take(&mut self.touched);
        for &t in &touched {
            let d = self.deadline(t);
            if let Some(Entry::Conn(c)) = self.entries.get_mut(&t) {
                if c.armed != d {
                    c.armed = d;
                    if let Some(d) = d {
                        self.timers.push(Reverse((d, t)));
                    }
                }
            }
        }
        touched.clear();
        self.touched = touched;
        if self.timers.len() > 2 * self.conns + 64 {
            let entries = &self.entries;
            self.timers.retain(|Reverse((at, t))| {
                matches!(entries.get(t), Some(Entry::Conn(c)) if c.armed == Some(*at))
            });
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    /// Runs timers of one entry.
    fn on_time(&mut self, t: Token, now: Instant) {
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        if let Some((deadline, _)) = &c.connecting {
            if *deadline <= now {
                let (_, reply) = c.connecting.take().expect("connecting");
                let _ = reply.send(Err(TransportError::ConnectTimeout));
                self.remove(t);
            }
            return;
        }
        if let Some((deadline, _)) = &c.handshake {
            if *deadline <= now {
                self.fail_handshake(t, TransportError::Tls(TlsError::HandshakeTimeout));
            }
            return;
        }
        if let Some(at) = c.closed_at {
            if now.duration_since(at) >= self.config.linger {
                debug!("dropping connection {}: linger over", t.0);
                self.remove(t);
            }
            return;
        }
        if c.read_paused || !c.held_events.is_empty() {
            release_held(c);
            if c.held_events.is_empty() && unwritten(c) < self.config.max_write_buffer {
                self.read(t);
            }
            self.service(t);
        }
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        if let Some(s) = c.session.as_mut() {
            if s.poll_timeout().is_some_and(|d| d <= now) {
                s.handle_timeout(now);
                self.service(t);
            }
        }
    }

    fn deadline(&self, t: Token) -> Option<Instant> {
        let Some(Entry::Conn(c)) = self.entries.get(&t) else {
            return None;
        };
        if let Some((d, _)) = &c.connecting {
            return Some(*d);
        }
        if let Some((d, _)) = &c.handshake {
            return Some(*d);
        }
        if let Some(at) = c.closed_at {
            return Some(at + self.config.linger);
        }
        if c.read_paused || !c.held_events.is_empty() {
            // Backpressure: look again soon.
            return Some(Instant::now() + std::time::Duration::from_millis(1));
        }
        c.session.as_ref().and_then(Session::poll_timeout)
    }
}

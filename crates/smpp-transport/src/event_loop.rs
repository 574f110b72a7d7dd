//! The event loop thread.

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
    Command, Completed, Config, ConnEvent, ConnOp, Connection, Disconnect, Listener, Outcome,
    Reply, Shared, TransportError, TransportHandle,
};

const WAKER: Token = Token(0);

pub(crate) fn spawn(config: Config) -> Result<TransportHandle, TransportError> {
    let poll = Poll::new().map_err(TransportError::Io)?;
    let waker = mio::Waker::new(poll.registry(), WAKER).map_err(TransportError::Io)?;
    let (tx, rx) = crossbeam_channel::unbounded();
    let shared = Arc::new(Shared {
        tx,
        capacity: config.command_capacity.max(1),
        waker,
        sleeping: AtomicBool::new(false),
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
    id: u64,
    /// Connections accepted from it and not yet removed.
    open: usize,
}

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
}

enum Entry {
    Listener(ListenerState),
    Conn(Box<Conn>),
}

struct EventLoop {
    poll: Poll,
    config: Config,
    rx: Receiver<Command>,
    shared: std::sync::Weak<Shared>,
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

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

fn interrupted(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Interrupted
}

/// Resolves an operation that asked for an outcome when its connection is gone.
fn disconnected(op: ConnOp) {
    match op {
        ConnOp::Bind(_, tag, reply)
        | ConnOp::Request(_, tag, reply)
        | ConnOp::Unbind(tag, reply) => resolve(&reply, tag, Outcome::Disconnected),
        _ => {}
    }
}

fn resolve(reply: &Reply, tag: u64, outcome: Outcome) {
    // The caller may have gone; its outcome has nowhere to go then.
    let _ = reply.send(Completed { tag, outcome });
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
                    reply,
                } => self.connect(addr, session, tls, reply),
                Command::Listen {
                    addr,
                    session,
                    tls,
                    reply,
                } => self.listen(addr, session, tls, reply),
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

    fn listen(
        &mut self,
        addr: std::net::SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsServerConfig>,
        reply: Sender<Result<Listener, TransportError>>,
    ) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let result = (|| {
            let mut socket = TcpListener::bind(addr).map_err(TransportError::Io)?;
            let local_addr = socket.local_addr().map_err(TransportError::Io)?;
            let t = self.token();
            self.poll
                .registry()
                .register(&mut socket, t, Interest::READABLE)
                .map_err(TransportError::Io)?;
            let (tx, rx) = crossbeam_channel::unbounded();
            let id = t.0 as u64;
            let secure = tls.is_some();
            self.entries.insert(
                t,
                Entry::Listener(ListenerState {
                    socket,
                    session,
                    tls,
                    accepted: tx,
                    id,
                    open: 0,
                }),
            );
            info!(
                "listening on {local_addr}{}",
                if secure { " (TLS)" } else { "" }
            );
            Ok(Listener {
                id,
                local_addr,
                accepted: rx,
                shared,
            })
        })();
        let _ = reply.send(result);
    }

    fn accept(&mut self, t: Token) {
        loop {
            let Some(Entry::Listener(l)) = self.entries.get_mut(&t) else {
                return;
            };
            match l.socket.accept() {
                Ok((stream, peer)) => {
                    let session_config = l.session.clone();
                    let accepted = l.accepted.clone();
                    if self.conns >= self.config.max_connections {
                        warn!("refusing {peer}: {} connections open", self.conns);
                        drop(stream);
                        continue;
                    }
                    if l.open >= self.config.max_sessions_per_listener {
                        warn!("refusing {peer}: {} sessions open on this listener", l.open);
                        drop(stream);
                        continue;
                    }
                    let tls = match l.tls.as_ref().map(TlsConn::server).transpose() {
                        Ok(tls) => tls.map(Box::new),
                        Err(e) => {
                            warn!("refusing {peer}: {e}");
                            continue;
                        }
                    };
                    l.open += 1;
                    let _ = stream.set_nodelay(true);
                    let now = Instant::now();
                    let ct = self.token();
                    if tls.is_some() {
                        // The application gets the connection once the handshake is done.
                        let deadline = now + self.config.connect_timeout;
                        match self.add_conn(ct, stream, session_config, None, tls) {
                            Ok(()) => {
                                if let Some(Entry::Conn(c)) = self.entries.get_mut(&ct) {
                                    c.handshake = Some((deadline, Handoff::Accept(accepted)));
                                    c.listener = Some(t);
                                }
                                trace!("accepted {peer}, TLS handshake");
                                self.drive_handshake(ct);
                            }
                            Err(e) => {
                                warn!("cannot register accepted connection: {e}");
                                if let Some(Entry::Listener(l)) = self.entries.get_mut(&t) {
                                    l.open -= 1;
                                }
                            }
                        }
                        continue;
                    }
                    match self.add_conn(ct, stream, session_config, None, None) {
                        Ok(()) => {
                            if let Some(Entry::Conn(c)) = self.entries.get_mut(&ct) {
                                c.listener = Some(t);
                            }
                            let Some(conn) = self.new_handle(ct, now, true) else {
                                // The peer reset before we got here (no peer address), or
                                // the transport is going away: drop the half-made entry.
                                self.remove(ct);
                                continue;
                            };
                            debug!("accepted {peer}");
                            if accepted.send(conn).is_err() {
                                // Nobody takes connections from this listener any more.
                                self.close_conn(ct, Disconnect::Shutdown);
                            }
                        }
                        Err(e) => {
                            warn!("cannot register accepted connection: {e}");
                            if let Some(Entry::Listener(l)) = self.entries.get_mut(&t) {
                                l.open -= 1;
                            }
                        }
                    }
                }
                Err(e) if would_block(&e) => return,
                Err(e) if interrupted(&e) => continue,
                Err(e) => {
                    warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    fn add_conn(
        &mut self,
        t: Token,
        mut stream: TcpStream,
        session_config: smpp_session::Config,
        connecting: Option<(Instant, Sender<Result<Connection, TransportError>>)>,
        tls: Option<Box<TlsConn>>,
    ) -> io::Result<()> {
        let interest = if connecting.is_some() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        self.poll.registry().register(&mut stream, t, interest)?;
        self.conns += 1;
        self.entries.insert(
            t,
            Entry::Conn(Box::new(Conn {
                stream,
                sniffed: tls.is_some(),
                tls,
                handshake: None,
                session: None,
                session_config,
                events: None,
                wbuf: Vec::new(),
                wpos: 0,
                pending: HashMap::new(),
                bind: None,
                unbind: None,
                queue: VecDeque::new(),
                interest,
                connecting,
                closed: None,
                closed_at: None,
                held_events: VecDeque::new(),
                read_paused: false,
                stats: Arc::default(),
                listener: None,
                armed: None,
            })),
        );
        self.touched.push(t);
        Ok(())
    }

    /// Creates the session and the application's handle once the socket is connected.
    fn new_handle(&mut self, t: Token, now: Instant, smsc: bool) -> Option<Connection> {
        let shared = self.shared.upgrade()?;
        let cap = self.config.event_capacity;
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return None;
        };
        let (peer_addr, local_addr) = (c.stream.peer_addr().ok()?, c.stream.local_addr().ok()?);
        let (tx, rx) = crossbeam_channel::unbounded();
        c.events = Some(EventTx {
            tx,
            cap: cap.max(1),
        });
        let cfg = c.session_config.clone();
        c.session = Some(if smsc {
            Session::smsc(cfg, now)
        } else {
            Session::esme(cfg, now)
        });
        Some(Connection {
            id: t.0 as u64,
            peer_addr,
            local_addr,
            tls: c.tls.as_ref().map(|tls| tls.info()),
            events: rx,
            shared,
            stats: Arc::clone(&c.stats),
        })
    }

    fn connect(
        &mut self,
        addr: std::net::SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsClientConfig>,
        reply: Sender<Result<Connection, TransportError>>,
    ) {
        if self.conns >= self.config.max_connections {
            let _ = reply.send(Err(TransportError::TooManyConnections));
            return;
        }
        let tls = match tls.map(|c| TlsConn::client(&c, addr)).transpose() {
            Ok(tls) => tls.map(Box::new),
            Err(e) => {
                let _ = reply.send(Err(TransportError::Tls(e)));
                return;
            }
        };
        let stream = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(e) => {
                let _ = reply.send(Err(TransportError::Io(e)));
                return;
            }
        };
        let t = self.token();
        let deadline = Instant::now() + self.config.connect_timeout;
        if let Err(e) = self.add_conn(t, stream, session, Some((deadline, reply.clone())), tls) {
            let _ = reply.send(Err(TransportError::Io(e)));
        }
    }

    /// A connecting socket became writable: connected, or failed.
    fn finish_connect(&mut self, t: Token) {
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        let err = match c.stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match c.stream.peer_addr() {
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return, // not yet
                Err(e) => Some(e),
            },
        };
        let (deadline, reply) = c.connecting.take().expect("connecting");
        if let Some(e) = err {
            let _ = reply.send(Err(TransportError::Io(e)));
            self.remove(t);
            return;
        }
        let _ = c.stream.set_nodelay(true);
        if c.tls.is_some() {
            // The caller gets the connection once the handshake is done, within the
            // same connect deadline.
            c.handshake = Some((deadline, Handoff::Connect(reply)));
            self.drive_handshake(t);
            return;
        }
        match self.new_handle(t, Instant::now(), false) {
            Some(conn) => {
                debug!("connected to {}", conn.peer_addr);
                if reply.send(Ok(conn)).is_err() {
                    self.remove(t);
                } else {
                    self.service(t);
                }
            }
            None => {
                let _ = reply.send(Err(TransportError::Shutdown));
                self.remove(t);
            }
        }
    }

    /// Moves a TLS handshake on: reads and writes until the socket would block; hands the
    /// connection over when it is complete, drops it when it failed.
    fn drive_handshake(&mut self, t: Token) {
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        let Some(tls) = c.tls.as_mut() else {
            return;
        };
        match tls.handshake(&mut c.stream) {
            Ok(false) => {
                let interest = if tls.wants_write() {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                if interest != c.interest {
                    c.interest = interest;
                    if let Err(e) = self.poll.registry().reregister(&mut c.stream, t, interest) {
                        warn!("reregister failed: {e}");
                    }
                }
            }
            Ok(true) => self.finish_handshake(t),
            Err(ReadError::Io(e)) => self.fail_handshake(t, TransportError::Io(e)),
            Err(ReadError::Tls(e)) => self.fail_handshake(t, TransportError::Tls(e)),
        }
    }

    /// The handshake is complete: the session starts and the application gets the
    /// connection; octets that came with the handshake's last flight are read now.
    fn finish_handshake(&mut self, t: Token) {
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        let Some((_, handoff)) = c.handshake.take() else {
            return;
        };
        let smsc = matches!(handoff, Handoff::Accept(_));
        let Some(conn) = self.new_handle(t, Instant::now(), smsc) else {
            if let Handoff::Connect(reply) = handoff {
                let _ = reply.send(Err(TransportError::Shutdown));
            }
            self.remove(t);
            return;
        };
        if let Some(info) = conn.tls_info() {
            debug!("TLS handshake with {} done: {info}", conn.peer_addr);
        }
        let taken = match handoff {
            Handoff::Connect(reply) => reply.send(Ok(conn)).is_ok(),
            Handoff::Accept(accepted) => accepted.send(conn).is_ok(),
        };
        if !taken {
            self.close_conn(t, Disconnect::Shutdown);
            return;
        }
        self.read(t);
        self.service(t);
    }

    /// The handshake failed or timed out: the caller of `connect_tls` gets the error, an
    /// accepted connection is logged; the connection is dropped (after a best-effort alert).
    fn fail_handshake(&mut self, t: Token, error: TransportError) {
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        let peer = c
            .stream
            .peer_addr()
            .map_or_else(|_| "a peer".to_string(), |a| a.to_string());
        match c.handshake.take() {
            Some((_, Handoff::Connect(reply))) => {
                debug!("TLS handshake with {peer} failed: {error}");
                let _ = reply.send(Err(error));
            }
            Some((_, Handoff::Accept(_))) => {
                warn!("TLS handshake with {peer} failed: {error}");
            }
            None => {}
        }
        self.remove(t);
    }

    fn conn_op(&mut self, t: Token, op: ConnOp) {
        let now = Instant::now();
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            // The connection is gone: resolve what asked for an outcome.
            return disconnected(op);
        };
        if let ConnOp::Stats(reply) = op {
            // Closed or not: the counters as they are now.
            if let Some(s) = c.session.as_ref() {
                let _ = reply.send(s.stats());
            }
            return;
        }
        let Some(s) = c.session.as_mut().filter(|_| c.closed.is_none()) else {
            return disconnected(op);
        };
        match op {
            // Answered above, before the closed check.
            ConnOp::Stats(reply) => {
                let _ = reply.send(s.stats());
            }
            ConnOp::Bind(req, tag, reply) => match s.bind(now, req) {
                Ok(seq) => c.bind = Some((seq, tag, reply)),
                Err(e) => resolve(&reply, tag, Outcome::Refused(e)),
            },
            ConnOp::Request(body, tag, reply) => {
                if !c.queue.is_empty() {
                    if c.queue.len() >= self.config.max_queued_requests {
                        resolve(&reply, tag, Outcome::Refused(SendError::WindowFull));
                    } else {
                        c.queue.push_back(Queued { body, tag, reply });
                    }
                } else {
                    start_request(c, now, body, tag, reply, self.config.max_queued_requests);
                }
            }
            ConnOp::Unbind(tag, reply) => match s.unbind(now) {
                Ok(seq) => c.unbind = Some((seq, tag, reply)),
                Err(e) => resolve(&reply, tag, Outcome::Refused(e)),
            },
            ConnOp::Respond(seq, status, body) => {
                if let Err(error) = s.send_response(now, seq, status, body) {
                    push_event(
                        c,
                        ConnEvent::ResponseRefused {
                            sequence_number: seq,
                            error,
                        },
                    );
                }
            }
            ConnOp::AcceptBind(seq, system_id) => {
                if let Err(error) = s.accept_bind(now, seq, &system_id) {
                    push_event(
                        c,
                        ConnEvent::ResponseRefused {
                            sequence_number: seq,
                            error,
                        },
                    );
                }
            }
            ConnOp::RejectBind(seq, status) => {
                if let Err(error) = s.reject_bind(now, seq, status) {
                    push_event(
                        c,
                        ConnEvent::ResponseRefused {
                            sequence_number: seq,
                            error,
                        },
                    );
                }
            }
            ConnOp::Raw(bytes) => {
                // After everything the session has queued, then the octets as they are.
                while s.poll_transmit(&mut c.wbuf).is_some() {}
                c.wbuf.extend_from_slice(&bytes);
            }
            ConnOp::Close => s.close(now),
        }
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

    fn on_io(&mut self, t: Token, readable: bool, writable: bool) {
        let connecting =
            matches!(self.entries.get(&t), Some(Entry::Conn(c)) if c.connecting.is_some());
        if connecting {
            if writable || readable {
                self.finish_connect(t);
            }
            return;
        }
        if matches!(self.entries.get(&t), Some(Entry::Conn(c)) if c.handshake.is_some()) {
            self.drive_handshake(t);
            return;
        }
        if writable {
            self.flush(t);
        }
        if readable {
            self.read(t);
        }
        self.service(t);
    }

    fn read(&mut self, t: Token) {
        let max_w = self.config.max_write_buffer;
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        loop {
            if c.closed.is_some() {
                return;
            }
            if unwritten(c) >= max_w || !c.held_events.is_empty() {
                // Backpressure: the peer does not read or the application does not drain
                // events. Reading resumes from the timer check once that clears.
                c.read_paused = true;
                return;
            }
            c.read_paused = false;
            let Some(s) = c.session.as_mut() else { return };
            let r = match c.tls.as_mut() {
                Some(tls) => tls.read(&mut c.stream, &mut self.scratch),
                None => c.stream.read(&mut self.scratch).map_err(ReadError::Io),
            };
            match r {
                Ok(0) => {
                    s.handle_eof(Instant::now());
                    return;
                }
                Ok(n) => {
                    trace!("read {n} octets on {}", t.0);
                    if !c.sniffed {
                        c.sniffed = true;
                        if tls::looks_like_tls(&self.scratch[..n]) {
                            warn!(
                                "connection {}: the peer speaks TLS on a plaintext connection",
                                t.0
                            );
                            c.closed = Some(Disconnect::Tls(TlsError::UnexpectedTls));
                            s.handle_eof(Instant::now());
                            return;
                        }
                    }
                    s.handle_input(Instant::now(), &self.scratch[..n]);
                    pump(
                        c,
                        self.config.write_high_water,
                        self.config.max_queued_requests,
                    );
                }
                Err(ReadError::Io(e)) if would_block(&e) => return,
                Err(ReadError::Io(e)) if interrupted(&e) => continue,
                Err(ReadError::Io(e)) => {
                    debug!("read error on {}: {e}", t.0);
                    c.closed = Some(Disconnect::Io(e.kind(), e.to_string()));
                    s.handle_eof(Instant::now());
                    return;
                }
                Err(ReadError::Tls(e)) => {
                    warn!("connection {}: {e}", t.0);
                    c.closed = Some(Disconnect::Tls(e));
                    s.handle_eof(Instant::now());
                    return;
                }
            }
        }
    }

    /// Writes pending octets until done or `WouldBlock`.
    fn flush(&mut self, t: Token) {
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        write_out(c);
    }

    /// After any change: forward events, feed the window, fill and write the buffer,
    /// adjust interest, and finish a closed connection.
    fn service(&mut self, t: Token) {
        let hw = self.config.write_high_water;
        let mq = self.config.max_queued_requests;
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        if c.connecting.is_some() || c.handshake.is_some() {
            return;
        }
        pump(c, hw, mq);
        write_out(c);
        let session_closed = c.session.as_ref().is_some_and(Session::is_closed);
        if session_closed && c.closed_at.is_none() {
            c.closed_at = Some(Instant::now());
        }
        let broken = c
            .closed
            .as_ref()
            .is_some_and(|d| matches!(d, Disconnect::Io(..) | Disconnect::Tls(..)));
        if session_closed && !broken && c.wpos >= c.wbuf.len() {
            if let Some(tls) = c.tls.as_mut() {
                // Everything the session had is encrypted: end the TLS stream cleanly.
                tls.close_notify();
                write_out(c);
            }
        }
        let tls_pending = c.tls.as_ref().is_some_and(|tls| tls.wants_write());
        let done = session_closed && ((c.wpos >= c.wbuf.len() && !tls_pending) || broken);
        if done && c.held_events.is_empty() {
            self.remove(t);
            return;
        }
        let want_write = c.wpos < c.wbuf.len() || tls_pending;
        let want_read = !session_closed
            && unwritten(c) < self.config.max_write_buffer
            && c.held_events.is_empty();
        let interest = match (want_read, want_write) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        };
        let interest = interest.unwrap_or(Interest::READABLE);
        if interest != c.interest {
            c.interest = interest;
            if let Err(e) = self.poll.registry().reregister(&mut c.stream, t, interest) {
                warn!("reregister failed: {e}");
            }
        }
    }

    fn close_conn(&mut self, t: Token, why: Disconnect) {
        if let Some(Entry::Conn(c)) = self.entries.get_mut(&t) {
            c.closed.get_or_insert(why);
            if let Some(s) = c.session.as_mut() {
                s.close(Instant::now());
            }
        }
        self.service(t);
    }

    /// Drops a connection: resolves everything still pending and sends the final event.
    fn remove(&mut self, t: Token) {
        let Some(Entry::Conn(mut c)) = self.entries.remove(&t) else {
            return;
        };
        if let Some(tls) = c.tls.as_mut() {
            // A last alert or close_notify, if the socket takes it now.
            tls.flush_best_effort(&mut c.stream);
        }
        let _ = self.poll.registry().deregister(&mut c.stream);
        self.conns -= 1;
        if let Some(Entry::Listener(l)) = c.listener.and_then(|lt| self.entries.get_mut(&lt)) {
            l.open = l.open.saturating_sub(1);
        }
        if let Some(s) = c.session.as_mut() {
            if !s.is_closed() {
                s.close(Instant::now());
            }
        }
        // Forward the session's last events (failures of in-flight requests, Closed).
        forward_events(&mut c);
        publish_stats(&c);
        for (_, (tag, reply)) in c.pending.drain() {
            resolve(&reply, tag, Outcome::Disconnected);
        }
        for q in c.queue.drain(..) {
            resolve(&q.reply, q.tag, Outcome::Disconnected);
        }
        for (_, tag, reply) in c.bind.take().into_iter().chain(c.unbind.take()) {
            resolve(&reply, tag, Outcome::Disconnected);
        }
        let why = c.closed.take().unwrap_or(Disconnect::Shutdown);
        if let Some(tx) = c.events.take() {
            // Never block the loop on a full channel: what does not fit now is retried on
            // later turns, until the application drains the channel or drops it.
            let mut events = std::mem::take(&mut c.held_events);
            events.push_back(ConnEvent::Closed(why));
            if !try_deliver(&tx, &mut events) {
                self.orphans.push((tx, events));
            }
        }
    }

    fn shutdown_all(&mut self) {
        info!("transport shutting down");
        let tokens: Vec<Token> = self.entries.keys().copied().collect();
        for t in tokens {
            match self.entries.get_mut(&t) {
                Some(Entry::Conn(c)) => {
                    if let Some((_, reply)) = c.connecting.take() {
                        let _ = reply.send(Err(TransportError::Shutdown));
                    }
                    if let Some((_, Handoff::Connect(reply))) = c.handshake.take() {
                        let _ = reply.send(Err(TransportError::Shutdown));
                    }
                    c.closed = Some(Disconnect::Shutdown);
                    c.held_events.clear();
                    // Resolve what is pending as Disconnected (as documented) before the
                    // session's close reports the requests in flight as failed.
                    for (_, (tag, reply)) in c.pending.drain() {
                        resolve(&reply, tag, Outcome::Disconnected);
                    }
                    for (_, tag, reply) in c.bind.take().into_iter().chain(c.unbind.take()) {
                        resolve(&reply, tag, Outcome::Disconnected);
                    }
                    self.remove(t);
                }
                Some(Entry::Listener(_)) => {
                    self.entries.remove(&t);
                }
                None => {}
            }
        }
        // Last events still waiting for room: the loop ends, so send them past the
        // capacity (the channel is unbounded underneath; they are few).
        for (tx, events) in self.orphans.drain(..) {
            for e in events {
                if tx.tx.send(e).is_err() {
                    break;
                }
            }
        }
        // Resolve commands that raced the shutdown.
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Command::Connect { reply, .. } => {
                    let _ = reply.send(Err(TransportError::Shutdown));
                }
                Command::Listen { reply, .. } => {
                    let _ = reply.send(Err(TransportError::Shutdown));
                }
                Command::Conn(_, op) => disconnected(op),
                _ => {}
            }
        }
    }
}

fn start_request(
    c: &mut Conn,
    now: Instant,
    body: Body<'static>,
    tag: u64,
    reply: Reply,
    max_queued: usize,
) {
    let Some(s) = c.session.as_mut() else {
        return resolve(&reply, tag, Outcome::Disconnected);
    };
    let no_response = body.command_id().response().is_none();
    match s.send_request(now, body.clone()) {
        Ok(seq) => {
            if no_response {
                resolve(&reply, tag, Outcome::Sent);
            } else {
                c.pending.insert(seq, (tag, reply));
            }
        }
        Err(SendError::WindowFull) => {
            if c.queue.len() >= max_queued {
                resolve(&reply, tag, Outcome::Refused(SendError::WindowFull));
            } else {
                c.queue.push_back(Queued { body, tag, reply });
            }
        }
        Err(e) => resolve(&reply, tag, Outcome::Refused(e)),
    }
}

/// Moves session output to the write buffer and session events to their owners; starts
/// queued requests as the window frees up.
fn pump(c: &mut Conn, high_water: usize, max_queued: usize) {
    loop {
        forward_events(c);
        let now = Instant::now();
        let mut started = false;
        while let Some(s) = c.session.as_ref() {
            if c.queue.is_empty() || s.in_flight() >= s.config().window || s.is_closed() {
                break;
            }
            let q = c.queue.pop_front().expect("non-empty");
            start_request(c, now, q.body, q.tag, q.reply, max_queued);
            started = true;
        }
        if let Some(s) = c.session.as_mut() {
            if c.wpos > 0 && c.wpos == c.wbuf.len() {
                c.wbuf.clear();
                c.wpos = 0;
            }
            while c.wbuf.len() - c.wpos < high_water && s.poll_transmit(&mut c.wbuf).is_some() {}
        }
        if !started {
            break;
        }
    }
    forward_events(c);
}

/// Leaves the session's last counters where [`Connection::stats`] reads them once the
/// connection is gone.
fn publish_stats(c: &Conn) {
    if let (Some(s), Ok(mut dst)) = (c.session.as_ref(), c.stats.lock()) {
        s.stats_into(&mut dst);
    }
}

fn push_event(c: &mut Conn, e: ConnEvent) {
    if !c.held_events.is_empty() {
        c.held_events.push_back(e);
        return;
    }
    let Some(tx) = &c.events else { return };
    match tx.try_send(e) {
        Ok(()) => {}
        Err(TrySendError::Full(e)) => c.held_events.push_back(e),
        Err(TrySendError::Disconnected(_)) => {}
    }
}

/// A connection's event channel: unbounded underneath, with [`Config::event_capacity`]
/// enforced here. (A bounded crossbeam channel allocates and initializes every slot when it
/// is created: with the default capacity that was about 14 MiB per connection.)
struct EventTx {
    tx: Sender<ConnEvent>,
    cap: usize,
}

impl EventTx {
    /// Like a bounded channel's `try_send`. Only the loop sends, so the length cannot grow
    /// behind the check; a dropped receiver empties the channel, so a gone application is
    /// seen as `Disconnected`, never as full forever.
    #[allow(clippy::result_large_err)] // gives the event back, as crossbeam's try_send
    fn try_send(&self, e: ConnEvent) -> Result<(), TrySendError<ConnEvent>> {
        if self.tx.len() >= self.cap {
            return Err(TrySendError::Full(e));
        }
        self.tx.try_send(e)
    }
}

/// Sends `events` in order without blocking; `true` once they are all delivered (or the
/// application dropped its receiver), `false` if some still wait for room.
fn try_deliver(tx: &EventTx, events: &mut VecDeque<ConnEvent>) -> bool {
    while let Some(e) = events.pop_front() {
        match tx.try_send(e) {
            Ok(()) => {}
            Err(TrySendError::Full(e)) => {
                events.push_front(e);
                return false;
            }
            Err(TrySendError::Disconnected(_)) => {
                events.clear();
                return true;
            }
        }
    }
    true
}

/// Retries events held back because the application's channel was full.
fn release_held(c: &mut Conn) {
    let Some(tx) = &c.events else { return };
    while let Some(e) = c.held_events.pop_front() {
        match tx.try_send(e) {
            Ok(()) => {}
            Err(TrySendError::Full(e)) => {
                c.held_events.push_front(e);
                return;
            }
            Err(TrySendError::Disconnected(_)) => {
                c.held_events.clear();
                return;
            }
        }
    }
}

fn forward_events(c: &mut Conn) {
    release_held(c);
    while let Some(ev) = c.session.as_mut().and_then(Session::poll_event) {
        match ev {
            Event::Response {
                sequence_number,
                pdu,
                ..
            } => {
                if let Some((tag, reply)) = c.pending.remove(&sequence_number) {
                    resolve(&reply, tag, Outcome::Response(pdu));
                }
            }
            Event::ResponseTimeout {
                sequence_number, ..
            } => {
                if let Some((tag, reply)) = take_request(c, sequence_number) {
                    resolve(&reply, tag, Outcome::Timeout);
                }
            }
            Event::RequestFailed {
                sequence_number,
                reason,
                ..
            } => {
                if let Some((tag, reply)) = take_request(c, sequence_number) {
                    resolve(&reply, tag, Outcome::Failed(reason));
                }
            }
            Event::Bound {
                kind,
                ref peer_system_id,
                interface_version,
            } => {
                if let Some((_, tag, reply)) = c.bind.take() {
                    resolve(
                        &reply,
                        tag,
                        Outcome::Bound {
                            kind,
                            peer_system_id: peer_system_id.clone(),
                            interface_version,
                        },
                    );
                }
                push_event(c, ConnEvent::Session(ev));
            }
            Event::BindRejected { status } => {
                if let Some((_, tag, reply)) = c.bind.take() {
                    resolve(&reply, tag, Outcome::BindRejected(status));
                }
                push_event(c, ConnEvent::Session(ev));
            }
            Event::Unbound => {
                if let Some((_, tag, reply)) = c.unbind.take() {
                    resolve(&reply, tag, Outcome::Unbound);
                }
                push_event(c, ConnEvent::Session(ev));
            }
            Event::Closed { reason } => {
                c.closed.get_or_insert(Disconnect::Session(reason));
            }
            other => push_event(c, ConnEvent::Session(other)),
        }
    }
}

/// The caller of a request the session resolved by sequence number: an ordinary request,
/// the bind or the unbind.
fn take_request(c: &mut Conn, seq: u32) -> Option<(u64, Reply)> {
    if let Some(x) = c.pending.remove(&seq) {
        return Some(x);
    }
    if c.bind.as_ref().is_some_and(|b| b.0 == seq) {
        return c.bind.take().map(|(_, t, r)| (t, r));
    }
    if c.unbind.as_ref().is_some_and(|b| b.0 == seq) {
        return c.unbind.take().map(|(_, t, r)| (t, r));
    }
    None
}

/// A write failed: the connection is broken, the session closes.
fn write_failed(c: &mut Conn, e: io::Error) {
    debug!("write error: {e}");
    c.closed
        .get_or_insert(Disconnect::Io(e.kind(), e.to_string()));
    if let Some(s) = c.session.as_mut() {
        s.handle_eof(Instant::now());
    }
    c.wpos = c.wbuf.len();
}

/// Octets waiting to be written to the peer: in the write buffer, and encoded in the
/// session but not yet moved there (past the high-water mark, or answers the session gave
/// by itself to a flood of requests). [`Config::max_write_buffer`] bounds this.
fn unwritten(c: &Conn) -> usize {
    c.wbuf.len() - c.wpos + c.session.as_ref().map_or(0, Session::pending_output)
}

/// Writes buffered octets until done or `WouldBlock`; on error, closes the session.
fn write_out(c: &mut Conn) {
    if let Some(tls) = c.tls.as_mut() {
        match tls.write(&mut c.stream, &c.wbuf, &mut c.wpos) {
            Ok(()) => {}
            Err(e) if would_block(&e) => {}
            Err(e) => write_failed(c, e),
        }
        if c.wpos >= c.wbuf.len() {
            c.wbuf.clear();
            c.wpos = 0;
        }
        return;
    }
    while c.wpos < c.wbuf.len() {
        match c.stream.write(&c.wbuf[c.wpos..]) {
            Ok(0) => {
                c.closed.get_or_insert(Disconnect::Io(
                    io::ErrorKind::WriteZero,
                    "write returned 0".into(),
                ));
                if let Some(s) = c.session.as_mut() {
                    s.handle_eof(Instant::now());
                }
                c.wpos = c.wbuf.len();
                return;
            }
            Ok(n) => c.wpos += n,
            Err(e) if would_block(&e) => return,
            Err(e) if interrupted(&e) => continue,
            Err(e) => return write_failed(c, e),
        }
    }
    c.wbuf.clear();
    c.wpos = 0;
}

//! The loop's sockets: listening and accepting, connecting, the TLS handshake, and
//! taking a connection down (one, or all at shutdown).

use super::*;

impl EventLoop {
    pub(super) fn listen(
        &mut self,
        addr: std::net::SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsServerConfig>,
        shared_events: bool,
        esme: bool,
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
            let (events_tx, events_rx) = if shared_events {
                let (etx, erx) = crossbeam_channel::unbounded();
                (Some(etx), Some(erx))
            } else {
                (None, None)
            };
            let id = t.0 as u64;
            let secure = tls.is_some();
            self.entries.insert(
                t,
                Entry::Listener(Box::new(ListenerState {
                    socket,
                    session,
                    tls,
                    accepted: tx,
                    events: events_tx,
                    id,
                    open: 0,
                    esme,
                })),
            );
            info!(
                "listening on {local_addr}{}",
                if secure { " (TLS)" } else { "" }
            );
            Ok(Listener {
                id,
                local_addr,
                accepted: rx,
                events: events_rx,
                shared,
            })
        })();
        let _ = reply.send(result);
    }

    pub(super) fn accept(&mut self, t: Token) {
        loop {
            let Some(Entry::Listener(l)) = self.entries.get_mut(&t) else {
                return;
            };
            match l.socket.accept() {
                Ok((stream, peer)) => {
                    let session_config = l.session.clone();
                    let accepted = l.accepted.clone();
                    let smsc_role = !l.esme;
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
                                    c.smsc_role = smsc_role;
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
                                c.smsc_role = smsc_role;
                            }
                            let Some(conn) = self.new_handle(ct, now, smsc_role) else {
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

    pub(super) fn add_conn(
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
                observer: None,
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
                smsc_role: false,
            })),
        );
        self.touched.push(t);
        Ok(())
    }

    /// Creates the session and the application's handle once the socket is connected.
    pub(super) fn new_handle(&mut self, t: Token, now: Instant, smsc: bool) -> Option<Connection> {
        let shared = self.shared.upgrade()?;
        let cap = self.config.event_capacity;
        // A connection accepted from a listener with a shared event channel sends there.
        let listener_events = match self.entries.get(&t) {
            Some(Entry::Conn(c)) => c.listener.and_then(|l| match self.entries.get(&l) {
                Some(Entry::Listener(l)) => l.events.clone(),
                _ => None,
            }),
            _ => None,
        };
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return None;
        };
        let (peer_addr, local_addr) = (c.stream.peer_addr().ok()?, c.stream.local_addr().ok()?);
        let rx = match listener_events {
            Some(tx) => {
                c.events = Some(EventTx {
                    tx: Sink::Shared(t.0 as u64, tx),
                    cap: cap.saturating_mul(SHARED_CAPACITY_FACTOR).max(1),
                });
                crossbeam_channel::never()
            }
            None => {
                let (tx, rx) = crossbeam_channel::unbounded();
                c.events = Some(EventTx {
                    tx: Sink::Own(tx),
                    cap: cap.max(1),
                });
                rx
            }
        };
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

    pub(super) fn connect(
        &mut self,
        addr: std::net::SocketAddr,
        session: smpp_session::Config,
        tls: Option<tls::TlsClientConfig>,
        smsc: bool,
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
        match self.add_conn(t, stream, session, Some((deadline, reply.clone())), tls) {
            Ok(()) => {
                if let Some(Entry::Conn(c)) = self.entries.get_mut(&t) {
                    c.smsc_role = smsc;
                }
            }
            Err(e) => {
                let _ = reply.send(Err(TransportError::Io(e)));
            }
        }
    }

    /// A connecting socket became writable: connected, or failed.
    pub(super) fn finish_connect(&mut self, t: Token) {
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
        let smsc = c.smsc_role;
        if c.tls.is_some() {
            // The caller gets the connection once the handshake is done, within the
            // same connect deadline.
            c.handshake = Some((deadline, Handoff::Connect(reply)));
            self.drive_handshake(t);
            return;
        }
        match self.new_handle(t, Instant::now(), smsc) {
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
    pub(super) fn drive_handshake(&mut self, t: Token) {
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
    pub(super) fn finish_handshake(&mut self, t: Token) {
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        let Some((_, handoff)) = c.handshake.take() else {
            return;
        };
        let smsc = c.smsc_role;
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
    pub(super) fn fail_handshake(&mut self, t: Token, error: TransportError) {
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

    pub(super) fn close_conn(&mut self, t: Token, why: Disconnect) {
        if let Some(Entry::Conn(c)) = self.entries.get_mut(&t) {
            c.closed.get_or_insert(why);
            if let Some(s) = c.session.as_mut() {
                s.close(Instant::now());
            }
        }
        self.service(t);
    }

    /// Drops a connection: resolves everything still pending and sends the final event.
    pub(super) fn remove(&mut self, t: Token) {
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

    pub(super) fn shutdown_all(&mut self) {
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
                if !tx.send_anyway(e) {
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

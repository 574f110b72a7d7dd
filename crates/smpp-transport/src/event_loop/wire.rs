//! Moving octets: the application's operations on a connection, reading into the
//! session, writing its output, and what each turn leaves a connection wanting (interest,
//! closing).

use super::*;

impl EventLoop {
    pub(super) fn conn_op(&mut self, t: Token, op: ConnOp) {
        let now = Instant::now();
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            // The connection is gone: resolve what asked for an outcome.
            return disconnected(op);
        };
        if let ConnOp::Observe(o) = op {
            c.observer = Some(o);
            return;
        }
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
            // Taken above, before the closed check.
            ConnOp::Observe(o) => c.observer = Some(o),
            ConnOp::Bind(req, tag, reply) => match s.bind(now, req) {
                Ok(seq) => c.bind = Some((seq, tag, reply)),
                Err(e) => resolve(&reply, tag, Outcome::Refused(e)),
            },
            ConnOp::Request(body, tag, reply) => {
                request(c, now, body, tag, reply, self.config.max_queued_requests);
            }
            ConnOp::Requests(requests) => {
                for (body, tag, reply) in requests {
                    request(c, now, body, tag, reply, self.config.max_queued_requests);
                }
            }
            ConnOp::Unbind(tag, reply) => match s.unbind(now) {
                Ok(seq) => c.unbind = Some((seq, tag, reply)),
                Err(e) => resolve(&reply, tag, Outcome::Refused(e)),
            },
            ConnOp::Respond(seq, status, body) => respond(c, now, seq, status, body),
            ConnOp::Responses(responses) => {
                for (seq, status, body) in responses {
                    respond(c, now, seq, status, body);
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

    pub(super) fn on_io(&mut self, t: Token, readable: bool, writable: bool) {
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

    pub(super) fn read(&mut self, t: Token) {
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
    pub(super) fn flush(&mut self, t: Token) {
        let Some(Entry::Conn(c)) = self.entries.get_mut(&t) else {
            return;
        };
        write_out(c);
    }

    /// After any change: forward events, feed the window, fill and write the buffer,
    /// adjust interest, and finish a closed connection.
    pub(super) fn service(&mut self, t: Token) {
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
}

/// A write failed: the connection is broken, the session closes.
pub(super) fn write_failed(c: &mut Conn, e: io::Error) {
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
pub(super) fn unwritten(c: &Conn) -> usize {
    c.wbuf.len() - c.wpos + c.session.as_ref().map_or(0, Session::pending_output)
}

/// Writes buffered octets until done or `WouldBlock`; on error, closes the session.
pub(super) fn write_out(c: &mut Conn) {
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

pub(super) fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

pub(super) fn interrupted(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Interrupted
}

/// A request from the application: behind those already queued (they keep their order),
/// or into the session.
fn request(c: &mut Conn, now: Instant, body: Body<'static>, tag: u64, reply: Reply, max: usize) {
    if !c.queue.is_empty() {
        if c.queue.len() >= max {
            resolve(&reply, tag, Outcome::Refused(SendError::WindowFull));
        } else {
            c.queue.push_back(Queued { body, tag, reply });
        }
    } else {
        start_request(c, now, body, tag, reply, max);
    }
}

/// Answers inbound request `seq`; a refusal becomes [`ConnEvent::ResponseRefused`].
fn respond(
    c: &mut Conn,
    now: Instant,
    seq: u32,
    status: smpp_pdu::CommandStatus,
    body: Body<'static>,
) {
    let Some(s) = c.session.as_mut() else {
        return;
    };
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

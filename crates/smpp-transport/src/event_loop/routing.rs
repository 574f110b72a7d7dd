//! Routing between the session and the application: requests into the window, responses
//! to the sender waiting for them, events to the connection's channel (held while it is
//! full), and the last word for every request when a connection goes.

use super::*;

/// Resolves an operation that asked for an outcome when its connection is gone.
pub(super) fn disconnected(op: ConnOp) {
    match op {
        ConnOp::Bind(_, tag, reply)
        | ConnOp::Request(_, tag, reply)
        | ConnOp::Unbind(tag, reply) => resolve(&reply, tag, Outcome::Disconnected),
        ConnOp::Requests(requests) => {
            for (_, tag, reply) in requests {
                resolve(&reply, tag, Outcome::Disconnected);
            }
        }
        _ => {}
    }
}

pub(super) fn resolve(reply: &Reply, tag: u64, outcome: Outcome) {
    // The caller may have gone; its outcome has nowhere to go then.
    let _ = reply.send(Completed { tag, outcome });
}

pub(super) fn start_request(
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
    match s.send_request(now, &body) {
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
pub(super) fn pump(c: &mut Conn, high_water: usize, max_queued: usize) {
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
pub(super) fn publish_stats(c: &Conn) {
    if let (Some(s), Ok(mut dst)) = (c.session.as_ref(), c.stats.lock()) {
        s.stats_into(&mut dst);
    }
}

pub(super) fn push_event(c: &mut Conn, e: ConnEvent) {
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

/// Sends `events` in order without blocking; `true` once they are all delivered (or the
/// application dropped its receiver), `false` if some still wait for room.
pub(super) fn try_deliver(tx: &EventTx, events: &mut VecDeque<ConnEvent>) -> bool {
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
pub(super) fn release_held(c: &mut Conn) {
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

pub(super) fn forward_events(c: &mut Conn) {
    release_held(c);
    while let Some(ev) = c.session.as_mut().and_then(Session::poll_event) {
        match ev {
            Event::Response {
                sequence_number,
                pdu,
                ..
            } => {
                if let Some((tag, reply)) = c.pending.remove(&sequence_number) {
                    if let Some(o) = &c.observer {
                        o(tag, &pdu);
                    }
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
pub(super) fn take_request(c: &mut Conn, seq: u32) -> Option<(u64, Reply)> {
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

/// A connection's event channel: unbounded underneath, with [`Config::event_capacity`]
/// enforced here. (A bounded crossbeam channel allocates and initializes every slot when it
/// is created: with the default capacity that was about 14 MiB per connection.)
pub(super) struct EventTx {
    pub(super) tx: Sink,
    pub(super) cap: usize,
}

/// Where a connection's events go: a channel of its own, or its listener's channel shared
/// by every connection accepted from it (each event with the connection's id).
pub(super) enum Sink {
    Own(Sender<ConnEvent>),
    Shared(ConnId, Sender<(ConnId, ConnEvent)>),
}

impl EventTx {
    /// Like a bounded channel's `try_send`. Only the loop sends, so the length cannot grow
    /// behind the check; a dropped receiver empties the channel, so a gone application is
    /// seen as `Disconnected`, never as full forever.
    #[allow(clippy::result_large_err)] // gives the event back, as crossbeam's try_send
    pub(super) fn try_send(&self, e: ConnEvent) -> Result<(), TrySendError<ConnEvent>> {
        match &self.tx {
            Sink::Own(tx) => {
                if tx.len() >= self.cap {
                    return Err(TrySendError::Full(e));
                }
                tx.try_send(e)
            }
            Sink::Shared(id, tx) => {
                if tx.len() >= self.cap {
                    return Err(TrySendError::Full(e));
                }
                tx.try_send((*id, e)).map_err(|err| match err {
                    TrySendError::Full((_, e)) => TrySendError::Full(e),
                    TrySendError::Disconnected((_, e)) => TrySendError::Disconnected(e),
                })
            }
        }
    }

    /// Sends past the capacity (the loop is ending).
    pub(super) fn send_anyway(&self, e: ConnEvent) -> bool {
        match &self.tx {
            Sink::Own(tx) => tx.send(e).is_ok(),
            Sink::Shared(id, tx) => tx.send((*id, e)).is_ok(),
        }
    }
}

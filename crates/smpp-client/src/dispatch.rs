//! The client's background thread: inbound messages through the lifecycle layer, its
//! timers, lost connections, reconnects.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use log::{info, warn};
use smpp_lifecycle::Lifecycle;
use smpp_pdu::{CommandStatus, Pdu};
use smpp_session::Event;
use smpp_transport::{ConnEvent, Connection};

use crate::connect::open_any;
use crate::inbound::{
    answer_body, forward, route_inbound, wait_for_room, Ack, Inbound, InboundKind,
};
use crate::Inner;

/// How long the dispatcher sleeps at most when nothing is due (it is woken for any work).
const IDLE: Duration = Duration::from_secs(3600);

/// The most events taken from the connection at once (their requests acknowledged with one
/// command).
const MAX_BURST: usize = 64;

/// The client's background thread: acknowledges inbound messages, passes them through the
/// lifecycle layer, forwards what the application should see, runs the layer's timers,
/// and reconnects after a drop.
pub(crate) fn dispatch(inner: Arc<Inner>, inbound: Sender<Inbound>, wake: Receiver<()>) {
    run(&inner, &inbound, &wake);
    // In a pool, the tracking is the pool's: it ends it once every bind has stopped.
    if inner.owns_tracking {
        finish_tracking(&inner);
    }
}

/// Ends a client's (or a pool's) tracking: every open message gets its report (or, with a
/// store, stays open there), the inbound channel ends, and the store thread stops.
pub(crate) fn finish_tracking(inner: &Inner) {
    // Stopping for good (closed, or the connection lost with no reconnect): no receipt or
    // segment can come here any more, so every tracked message gets its report now, or,
    // with a store, is left open there for a restart or another process.
    if let Ok(mut life) = inner.life.lock() {
        life.expire_all(Instant::now());
        inner.to_store(&mut life);
    }
    drain_lifecycle(inner);
    // The channel ends once this thread's sender and the outbox's are gone.
    if let Ok(mut out) = inner.out.lock() {
        *out = None;
    }
    // What is left goes to the store before the client is gone (with a store, open
    // messages stay open there for a restart or another process).
    if let Some(s) = &inner.store {
        s.stop(inner.config.store_timeout);
    }
}

fn run(inner: &Arc<Inner>, inbound: &Sender<Inbound>, wake: &Receiver<()>) {
    let mut attempt = 0u32;
    // The lifecycle's next deadline, as of the last time this thread held its lock (the
    // sending threads wake this one when they add an earlier one or events to forward).
    let mut due = drain_lifecycle(inner);
    // A burst's events, its inbound requests and what they become for the application:
    // kept from burst to burst (large vectors, which the allocator serves slowly).
    let mut burst = Burst {
        events: Vec::with_capacity(MAX_BURST),
        requests: Vec::with_capacity(MAX_BURST),
        items: Vec::new(),
    };
    while !inner.closing.load(Ordering::SeqCst) {
        let until_due = due.map_or(IDLE, |d| d.saturating_duration_since(Instant::now()));
        let conn = inner.conn.read().ok().and_then(|c| c.clone());
        let Some(conn) = conn else {
            // Disconnected: reconnect if configured (the lifecycle's timers keep running).
            let Some(backoff) = inner.config.reconnect else {
                return;
            };
            let delay = inner.jittered(&backoff, attempt);
            match wake.recv_timeout(delay.min(until_due)) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                    due = drain_lifecycle(inner);
                    continue;
                }
                Err(RecvTimeoutError::Timeout) if until_due < delay => {
                    due = drain_lifecycle(inner);
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if inner.closing.load(Ordering::SeqCst) {
                return;
            }
            // Host names are resolved again, and the list is tried from its start.
            match open_any(&inner.transport, &inner.servers, &inner.config) {
                Ok((c, addr)) => {
                    info!("reconnected to {addr}");
                    inner.set_health(None);
                    if let Ok(mut a) = inner.addr.lock() {
                        *a = addr;
                    }
                    inner.reconnects.fetch_add(1, Ordering::Relaxed);
                    attempt = 0;
                    inner.observe(&c);
                    if let Ok(mut slot) = inner.conn.write() {
                        *slot = Some(c);
                    }
                }
                Err(e) => {
                    warn!("reconnect to {:?} failed: {e}", inner.servers);
                    inner.set_health(Some(e.to_string()));
                    attempt = attempt.saturating_add(1);
                }
            }
            continue;
        };
        crossbeam_channel::select! {
            recv(conn.events()) -> ev => match ev {
                Ok(first) => {
                    // The events already there behind it come with it, as many as the
                    // application has room for (one when it is behind: nothing more is
                    // acknowledged than it can take), and their requests are acknowledged
                    // together: one command to the transport (and one wake-up of its loop)
                    // for the burst instead of one per message.
                    let room = inner.config.inbound_capacity.max(1).saturating_sub(inbound.len());
                    burst.events.push(first);
                    while burst.events.len() < room.clamp(1, MAX_BURST) {
                        match conn.events().try_recv() {
                            Ok(ev) => burst.events.push(ev),
                            Err(_) => break,
                        }
                    }
                    if !inner.config.manual_ack {
                        acknowledge(&conn, &burst.events);
                    }
                    if let Some(d) = events(inner, inbound, &conn, &mut burst) {
                        due = d;
                    }
                }
                Err(_) => lost(inner, &conn, "event channel gone"),
            },
            recv(wake) -> _ => due = drain_lifecycle(inner),
            default(until_due) => due = drain_lifecycle(inner),
        }
    }
}

/// Answers `ESME_ROK` to every inbound request among `events`, in one hand-over to the
/// transport.
fn acknowledge(conn: &Connection, events: &[ConnEvent]) {
    let answers: Vec<_> = events
        .iter()
        .filter_map(|ev| match ev {
            ConnEvent::Session(Event::Request {
                sequence_number,
                pdu,
            }) => Some((
                *sequence_number,
                CommandStatus::ESME_ROK,
                answer_body(pdu.command_id()),
            )),
            _ => None,
        })
        .collect();
    if let Err(e) = conn.respond_batch(answers) {
        warn!("cannot acknowledge inbound messages: {e}");
    }
}

/// A burst of the connection's events, in order (their requests acknowledged already,
/// unless the application acknowledges): each run of inbound requests goes through the
/// lifecycle together ([`inbound_requests`]). The lifecycle's next deadline when it
/// changed.
fn events(
    inner: &Inner,
    inbound: &Sender<Inbound>,
    conn: &Arc<Connection>,
    burst: &mut Burst,
) -> Option<Option<Instant>> {
    let mut due = None;
    let Burst {
        events,
        requests,
        items,
    } = burst;
    for ev in events.drain(..) {
        match ev {
            ConnEvent::Session(Event::Request {
                sequence_number,
                pdu,
            }) => {
                let ack = inner.config.manual_ack.then(|| Ack {
                    conn: Arc::clone(conn),
                    sequence_number,
                    command_id: pdu.command_id(),
                });
                requests.push((pdu, ack));
            }
            other => {
                if !requests.is_empty() {
                    due = Some(inbound_requests(inner, inbound, requests, items));
                }
                event(inner, inbound, conn, other);
            }
        }
    }
    if !requests.is_empty() {
        due = Some(inbound_requests(inner, inbound, requests, items));
    }
    due
}

/// The dispatcher's working vectors for a burst of events.
struct Burst {
    /// The events taken from the connection.
    events: Vec<ConnEvent>,
    /// A run of inbound requests among them, with their acknowledgements (manual ones).
    requests: Vec<(Pdu<'static>, Option<Ack>)>,
    /// What the requests became for the application.
    items: Vec<Inbound>,
}

/// One event of the connection other than an inbound request (the lifecycle is not
/// involved).
fn event(inner: &Inner, inbound: &Sender<Inbound>, conn: &Arc<Connection>, ev: ConnEvent) {
    match ev {
        ConnEvent::Session(Event::Notification { pdu }) => {
            let text = None;
            forward(
                inner,
                inbound,
                Inbound::new(InboundKind::Pdu { pdu, text }, None),
            );
        }
        ConnEvent::Closed(why) => lost(inner, conn, &format!("{why:?}")),
        _ => {}
    }
}

/// Inbound `deliver_sm`s and `data_sm`s, in order: a receipt goes to the tracker and on
/// to the application with what the tracker made of it; an MO goes to the reassembly,
/// and the application gets the whole message (with the PDU and its acknowledgement when
/// the PDU held all of it; a segment's own acknowledgement is sent now: holding it until
/// the last segment could make the SMSC give up and resend).
///
/// They go through the lifecycle under one hold of its lock, as many as the application
/// has room for (then the items go out, and the rest wait for room as one PDU would):
/// the lock, the clock and the observer's acceptances are taken once for them all.
/// Returns the lifecycle's next deadline.
fn inbound_requests(
    inner: &Inner,
    tx: &Sender<Inbound>,
    requests: &mut Vec<(Pdu<'static>, Option<Ack>)>,
    items: &mut Vec<Inbound>,
) -> Option<Instant> {
    let capacity = inner.config.inbound_capacity.max(1);
    let mut due = None;
    let mut pending = requests.drain(..).peekable();
    while pending.peek().is_some() {
        // The application's pace: nothing more is taken from the SMSC while it is behind.
        if !wait_for_room(inner, tx) {
            return None;
        }
        let room = capacity.saturating_sub(tx.len()).max(1);
        let now = Instant::now();
        let Ok(mut life) = inner.life.lock() else {
            return None;
        };
        // Responses that came before these PDUs are recorded before they are matched.
        catch_up(inner, now, &mut life);
        // Segments whose message is not whole yet (or was just completed by them): their
        // PDUs are answered once the items are out.
        let mut answers = Vec::new();
        while items.len() < room {
            let Some((pdu, mut ack)) = pending.next() else {
                break;
            };
            let routed = route_inbound(
                &mut life,
                now,
                inner.account.as_ref(),
                pdu,
                &inner.config.text,
                inner.config.receipt_items,
            );
            // The item that carries the PDU takes its acknowledgement (the application
            // answers it with manual acknowledgement).
            items.extend(routed.into_iter().map(|(kind, carries)| {
                Inbound::new(kind, if carries { ack.take() } else { None })
            }));
            answers.extend(ack);
        }
        inner.to_store(&mut life);
        due = life.poll_timeout();
        inner.hand_over(life, items);
        for a in answers {
            a.send(CommandStatus::ESME_ROK);
        }
    }
    due
}

/// Runs the lifecycle's due timers and hands on everything it has to say; returns its
/// next deadline.
pub(crate) fn drain_lifecycle(inner: &Inner) -> Option<Instant> {
    let Ok(mut life) = inner.life.lock() else {
        return None;
    };
    catch_up(inner, Instant::now(), &mut life);
    inner.to_store(&mut life);
    let due = life.poll_timeout();
    inner.hand_over(life, &mut Vec::new());
    due
}

/// What the dispatcher does first whenever it holds the lifecycle's lock: records the
/// acceptances the connection's observer queued, then runs the timers that are due. In
/// that order, so that an acceptance already read counts before a report timeout runs
/// out.
fn catch_up(inner: &Inner, now: Instant, life: &mut Lifecycle) {
    inner.take_accepted(now, life);
    if life.poll_timeout().is_some_and(|t| t <= now) {
        life.handle_timeout(now);
    }
}

/// The current connection closed: forget it, so calls fail fast and the dispatcher
/// reconnects if configured.
fn lost(inner: &Inner, conn: &Arc<Connection>, why: &str) {
    if !inner.closing.load(Ordering::SeqCst) {
        warn!("connection to {} closed: {why}", inner.peer());
        inner.set_health(Some(format!("connection closed: {why}")));
    }
    if let Ok(mut slot) = inner.conn.write() {
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *slot = None;
            // Counted once: only the call that takes the connection out of the slot.
            if let Ok(mut f) = inner.finished.lock() {
                f.merge(&conn.stats());
            }
        }
    }
}

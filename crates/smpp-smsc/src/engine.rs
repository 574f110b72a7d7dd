//! The SMSC thread: the driver of a [`Core`]. It waits on the API's commands, accepted
//! connections, the one event channel all connections share, and the outcomes of the
//! requests it sent, feeds each to the core with the time, and carries out what the core
//! says (responses, requests, closes, records). All SMSC logic is in the core.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Select, Sender};
use log::{info, warn};
use smpp_transport::{Completed, ConnEvent, ConnId, Connection, Listener, Outcome};

use crate::core::{Core, Output};
use crate::{Control, Shared};

/// Events taken from the shared channel per wake-up after the first, before the outputs
/// are carried out.
const EVENT_BATCH: usize = 64;

/// Runs `core` until [`Control::Shutdown`] or until the API handle is gone.
pub(crate) fn run(
    mut core: Core,
    listener: Listener,
    control: Receiver<Control>,
    shared: Arc<Shared>,
    log: Option<File>,
) {
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Completed>();
    // Events of the connections the SMSC opened for outbind (each has its own channel,
    // forwarded here by a thread of its own).
    let (outbound_tx, outbound_rx) = crossbeam_channel::unbounded::<(ConnId, ConnEvent)>();
    let never = crossbeam_channel::never();
    let events = listener.events().unwrap_or(&never).clone();
    let mut d = Driver {
        conns: HashMap::new(),
        done_tx,
        shared,
        log: log.map(BufWriter::new),
        closed_stats: smpp_session::Stats::default(),
        max_records: core.config.max_records.max(1),
    };
    let mut listening = true;
    loop {
        let timeout = core
            .poll_timeout()
            .map(|at| at.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        let mut sel = Select::new();
        let i_control = sel.recv(&control);
        let i_done = sel.recv(&done_rx);
        let i_events = sel.recv(&events);
        let i_outbound = sel.recv(&outbound_rx);
        // Last, so every other index is known: what is left is the accept channel.
        if listening {
            sel.recv(listener.receiver());
        }
        let ready = sel.select_timeout(timeout);
        let now = Instant::now();
        match ready {
            Err(_) => {}
            Ok(op) if op.index() == i_control => match op.recv(&control) {
                Ok(Control::Shutdown) | Err(_) => break,
                Ok(Control::InjectMo {
                    system_id,
                    from,
                    to,
                    text,
                    reply,
                }) => {
                    let r = core.inject_mo(now, &system_id, &from, &to, &text);
                    let _ = reply.send(r);
                }
                Ok(Control::Outbind {
                    conn,
                    system_id,
                    password,
                }) => {
                    let (id, peer) = (conn.id(), conn.peer_addr());
                    let events = conn.events().clone();
                    let tx = outbound_tx.clone();
                    let forwarder = std::thread::Builder::new()
                        .name(format!("smpp-smsc-outbind-{id}"))
                        .spawn(move || {
                            for ev in events.iter() {
                                if tx.send((id, ev)).is_err() {
                                    break;
                                }
                            }
                        });
                    match forwarder {
                        Ok(_) => {
                            d.conns.insert(id, conn);
                            core.outbind(now, id, peer, &system_id, &password);
                        }
                        Err(e) => warn!("outbind to {peer}: no thread for its events: {e}"),
                    }
                }
                Ok(Control::SessionStats { reply }) => {
                    let mut total = d.closed_stats.clone();
                    for c in d.conns.values() {
                        total.merge(&c.stats());
                    }
                    let _ = reply.send(total);
                }
            },
            Ok(op) if op.index() == i_done => {
                if let Ok(c) = op.recv(&done_rx) {
                    core.on_completed(now, c.tag, c.outcome);
                    for c in done_rx.try_iter().take(EVENT_BATCH) {
                        core.on_completed(now, c.tag, c.outcome);
                    }
                }
            }
            Ok(op) if op.index() == i_events => {
                if let Ok((id, ev)) = op.recv(&events) {
                    d.event(&mut core, &listener, now, id, ev);
                    for (id, ev) in events.try_iter().take(EVENT_BATCH) {
                        d.event(&mut core, &listener, now, id, ev);
                    }
                }
            }
            Ok(op) if op.index() == i_outbound => {
                if let Ok((id, ev)) = op.recv(&outbound_rx) {
                    d.event(&mut core, &listener, now, id, ev);
                    for (id, ev) in outbound_rx.try_iter().take(EVENT_BATCH) {
                        d.event(&mut core, &listener, now, id, ev);
                    }
                }
            }
            Ok(op) => match op.recv(listener.receiver()) {
                Ok(conn) => d.accepted(&mut core, now, conn),
                Err(_) => {
                    warn!("the listener is gone; serving the open connections only");
                    listening = false;
                }
            },
        }
        if core.poll_timeout().is_some_and(|t| t <= now) {
            core.handle_timeout(now);
        }
        d.carry_out(&mut core);
    }
    info!("SMSC stopping: closing {} connections", d.conns.len());
    for c in d.conns.values() {
        c.close();
    }
    if let Some(w) = d.log.as_mut() {
        let _ = w.flush();
    }
}

/// The I/O side: the connections, the log, what the API reads.
struct Driver {
    conns: HashMap<ConnId, Connection>,
    done_tx: Sender<Completed>,
    shared: Arc<Shared>,
    log: Option<BufWriter<File>>,
    /// Session counters of the connections that closed, summed.
    closed_stats: smpp_session::Stats,
    max_records: usize,
}

impl Driver {
    fn accepted(&mut self, core: &mut Core, now: Instant, conn: Connection) {
        core.connected(now, conn.id(), conn.peer_addr());
        self.conns.insert(conn.id(), conn);
    }

    fn event(
        &mut self,
        core: &mut Core,
        listener: &Listener,
        now: Instant,
        id: ConnId,
        ev: ConnEvent,
    ) {
        // A connection's events can be read before the connection was taken from the
        // accept channel.
        while !self.conns.contains_key(&id) {
            match listener.try_accept() {
                Ok(Some(c)) => self.accepted(core, now, c),
                _ => {
                    warn!("event for unknown connection {id} dropped: {ev:?}");
                    return;
                }
            }
        }
        let closed = matches!(ev, ConnEvent::Closed(_));
        core.on_event(now, id, ev);
        if closed {
            if let Some(c) = self.conns.remove(&id) {
                self.closed_stats.merge(&c.stats());
            }
        }
    }

    /// Carries out what the core said: its records first (so whoever sees a response can
    /// read the record of its request), then its counters, then the wire.
    fn carry_out(&mut self, core: &mut Core) {
        let mut wire = Vec::new();
        while let Some(o) = core.poll_output() {
            match o {
                Output::Record(rec) => {
                    if let Some(w) = self.log.as_mut() {
                        let line = rec.to_json();
                        if let Err(err) = writeln!(w, "{line}").and_then(|()| w.flush()) {
                            warn!("cannot write the PDU log: {err}");
                        }
                    }
                    if let Ok(mut r) = self.shared.records.lock() {
                        if r.len() >= self.max_records {
                            r.pop_front();
                        }
                        r.push_back(rec);
                    }
                }
                other => wire.push(other),
            }
        }
        if core.take_stats_changed() {
            let stats = core.stats().clone();
            self.shared.update(|s| *s = stats);
        }
        let mut failed = Vec::new();
        for o in wire {
            let (conn, r) = match o {
                Output::AcceptBind {
                    conn,
                    sequence_number,
                    system_id,
                } => (
                    conn,
                    self.on(conn, |c| c.accept_bind(sequence_number, &system_id)),
                ),
                Output::RejectBind {
                    conn,
                    sequence_number,
                    status,
                } => (
                    conn,
                    self.on(conn, |c| c.reject_bind(sequence_number, status)),
                ),
                Output::Respond {
                    conn,
                    sequence_number,
                    status,
                    body,
                } => (
                    conn,
                    self.on(conn, |c| c.respond(sequence_number, status, body)),
                ),
                Output::Request { conn, tag, body } => {
                    let done = &self.done_tx;
                    let r = self.on(conn, |c| c.request(body, tag, done));
                    if r.is_err() {
                        failed.push(tag);
                    }
                    (conn, r)
                }
                Output::SendRaw { conn, bytes } => (conn, self.on(conn, |c| c.send_raw(bytes))),
                Output::Close { conn } => (
                    conn,
                    self.on(conn, |c| {
                        c.close();
                        Ok(())
                    }),
                ),
                Output::Record(_) => continue,
            };
            if let Err(e) = r {
                warn!("connection {conn}: {e}");
            }
        }
        // A request that could not be handed to its connection failed at once.
        if !failed.is_empty() {
            let now = Instant::now();
            for tag in failed {
                core.on_completed(now, tag, Outcome::Disconnected);
            }
            if core.take_stats_changed() {
                let stats = core.stats().clone();
                self.shared.update(|s| *s = stats);
            }
        }
    }

    fn on(
        &self,
        conn: ConnId,
        f: impl FnOnce(&Connection) -> Result<(), smpp_transport::TransportError>,
    ) -> Result<(), String> {
        match self.conns.get(&conn) {
            Some(c) => f(c).map_err(|e| e.to_string()),
            None => Err("gone".into()),
        }
    }
}

/// The wall-clock time and the monotonic time, read together, for a new core.
pub(crate) fn clocks() -> (Instant, SystemTime) {
    (Instant::now(), SystemTime::now())
}

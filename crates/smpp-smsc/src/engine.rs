//! The SMSC thread: one loop over the accept channel, every connection's events, the
//! outcomes of our `deliver_sm`, the API's commands, and a timeout for due receipts.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvError, Select, Sender};
use log::{debug, info, warn};
use smpp_pdu::concat::{self, SplitMethod};
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::text::{self, Encoding, TextConfig};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    Body, CancelSmResp, CommandId, CommandStatus, DataSmResp, DeliverSm, GenericNack, Pdu,
    QuerySmResp, ReplaceSmResp, SubmitMultiResp, SubmitSmResp,
};
use smpp_session::{BindKind, Event};
use smpp_transport::{Completed, ConnEvent, ConnId, Connection, Listener, Outcome};

use crate::{Control, Record, Result, Shared, SmscConfig, SmscError};

mod receipts;

use receipts::{original_text, Accepted, DueReceipt};

/// One accepted connection.
struct Conn {
    conn: Connection,
    /// The `system_id` of its bind (set when the bind is accepted).
    system_id: Option<String>,
    /// How it is bound; `None` before the bind and after an unbind.
    kind: Option<BindKind>,
    /// PDUs received on it (for the fault injection after N PDUs).
    pdus: u64,
}

/// A response held back by [`SmscConfig::response_delay`].
struct Delayed {
    at: Instant,
    conn: ConnId,
    what: Answer,
}

/// A response to send.
enum Answer {
    Respond(u32, CommandStatus, Body<'static>),
    AcceptBind(u32),
    RejectBind(u32, CommandStatus),
}

impl Conn {
    fn can_receive(&self) -> bool {
        matches!(self.kind, Some(BindKind::Receiver | BindKind::Transceiver))
    }
}

/// A message the SMSC accepted.
struct Message {
    system_id: Option<String>,
    final_state: Option<ReceiptState>,
    source_addr: String,
    destination_addr: String,
}

/// What a `deliver_sm` we sent was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    Receipt,
    Mo,
    Intermediate,
}

/// Incoming work, taken off the selected channel.
enum Input {
    Control(Result<Control, RecvError>),
    Accepted(Result<Connection, RecvError>),
    Done(Result<Completed, RecvError>),
    Conn(usize, Result<ConnEvent, RecvError>),
    Timeout,
}

struct Engine {
    config: SmscConfig,
    shared: Arc<Shared>,
    conns: Vec<Conn>,
    next_id: u64,
    messages: HashMap<String, Message>,
    message_order: VecDeque<String>,
    receipts: Vec<DueReceipt>,
    submits: VecDeque<Instant>,
    done_tx: Sender<Completed>,
    next_tag: u64,
    /// Tag of each `deliver_sm` in flight: its connection, `system_id` and kind.
    in_flight: HashMap<u64, (ConnId, Option<String>, Sent)>,
    log: Option<BufWriter<File>>,
    /// Responses waiting for their time, oldest first (the delay is the same for all).
    delayed: VecDeque<Delayed>,
    /// `submit_sm` received so far (for [`SmscConfig::drop_every`]).
    submit_sms: u64,
    /// Messages accepted by `submit_sm` or `data_sm` so far (for [`crate::MessageMatch::Every`]).
    accepted_messages: u64,
    /// Connections that received a PDU since the last fault check.
    fault_check: Vec<ConnId>,
    /// When each of [`SmscConfig::mo_schedule`] fires next.
    mo_next: Vec<Instant>,
    /// The concatenation reference of the next segmented MO.
    mo_reference: u16,
    /// Session counters of the connections that closed, summed.
    closed_stats: smpp_session::Stats,
    /// Times of the recent failed binds of each peer IP address (within
    /// [`SmscConfig::failed_bind_window`]; at most [`SmscConfig::max_failed_binds`] each).
    failed_binds: HashMap<IpAddr, VecDeque<Instant>>,
}

/// Events taken from one connection per wake-up after the selected one.
const EVENT_BATCH: usize = 63;

/// Runs the SMSC until [`Control::Shutdown`] or until the API handle is gone.
pub(crate) fn run(
    config: SmscConfig,
    listener: Listener,
    control: Receiver<Control>,
    shared: Arc<Shared>,
    log: Option<File>,
) {
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    let mut e = Engine {
        next_id: config.first_id,
        config,
        shared,
        conns: Vec::new(),
        messages: HashMap::new(),
        message_order: VecDeque::new(),
        receipts: Vec::new(),
        submits: VecDeque::new(),
        done_tx,
        next_tag: 1,
        in_flight: HashMap::new(),
        log: log.map(BufWriter::new),
        delayed: VecDeque::new(),
        submit_sms: 0,
        accepted_messages: 0,
        fault_check: Vec::new(),
        mo_next: Vec::new(),
        mo_reference: 0,
        closed_stats: smpp_session::Stats::default(),
        failed_binds: HashMap::new(),
    };
    let start = Instant::now();
    e.mo_next = e
        .config
        .mo_schedule
        .iter()
        .map(|m| start + m.every.max(Duration::from_millis(1)))
        .collect();
    let mut listening = true;
    loop {
        let timeout = e
            .receipts
            .iter()
            .map(|r| r.at)
            .chain(e.delayed.front().map(|d| d.at))
            .chain(e.mo_next.iter().copied())
            .min()
            .map(|at| at.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        let input = {
            let mut sel = Select::new();
            let i_control = sel.recv(&control);
            let i_done = sel.recv(&done_rx);
            let i_accept = if listening {
                Some(sel.recv(listener.receiver()))
            } else {
                None
            };
            // `Select` numbers operations in the order they were added, and picks at random
            // among ready ones, so one busy connection cannot starve the others.
            let first_conn = if i_accept.is_some() { 3 } else { 2 };
            for c in &e.conns {
                sel.recv(c.conn.events());
            }
            match sel.select_timeout(timeout) {
                Err(_) => Input::Timeout,
                Ok(op) => {
                    let i = op.index();
                    if i == i_control {
                        Input::Control(op.recv(&control))
                    } else if i == i_done {
                        Input::Done(op.recv(&done_rx))
                    } else if Some(i) == i_accept {
                        Input::Accepted(op.recv(listener.receiver()))
                    } else {
                        let k = i - first_conn;
                        Input::Conn(k, op.recv(e.conns[k].conn.events()))
                    }
                }
            }
        };
        match input {
            Input::Control(Ok(Control::Shutdown)) | Input::Control(Err(_)) => break,
            Input::Control(Ok(Control::InjectMo {
                system_id,
                from,
                to,
                text,
                reply,
            })) => {
                let r = e.inject_mo(&system_id, &from, &to, &text);
                let _ = reply.send(r);
            }
            Input::Control(Ok(Control::SessionStats { reply })) => {
                let mut total = e.closed_stats.clone();
                for c in &e.conns {
                    total.merge(&c.conn.stats());
                }
                let _ = reply.send(total);
            }
            Input::Accepted(Ok(conn)) => {
                debug!("accepted {} from {}", conn.id(), conn.peer_addr());
                e.conns.push(Conn {
                    conn,
                    system_id: None,
                    kind: None,
                    pdus: 0,
                });
                e.shared.update(|s| {
                    s.connections += 1;
                    s.open_connections += 1;
                });
            }
            Input::Accepted(Err(_)) => {
                warn!("the listener is gone; serving the open connections only");
                listening = false;
            }
            Input::Done(Ok(c)) => e.on_completed(c),
            Input::Done(Err(_)) => {}
            Input::Conn(k, Ok(ev)) => {
                // Take a few more queued events of this connection while it is at hand: the
                // `Select` is rebuilt for every wake-up, which costs one entry per connection.
                let mut open = e.on_event(k, ev);
                for _ in 0..EVENT_BATCH {
                    if !open {
                        break;
                    }
                    match e.conns[k].conn.events().try_recv() {
                        Ok(ev) => open = e.on_event(k, ev),
                        Err(_) => break,
                    }
                }
            }
            Input::Conn(k, Err(_)) => e.remove(k),
            Input::Timeout => {}
        }
        e.fire_delayed();
        e.inject_faults();
        e.fire_mo_schedule();
        e.fire_due_receipts();
    }
    info!("SMSC stopping: closing {} connections", e.conns.len());
    for c in &e.conns {
        c.conn.close();
    }
    if let Some(w) = e.log.as_mut() {
        let _ = w.flush();
    }
}

fn bind_kind(id: CommandId) -> Option<BindKind> {
    match id {
        CommandId::BIND_TRANSMITTER => Some(BindKind::Transmitter),
        CommandId::BIND_RECEIVER => Some(BindKind::Receiver),
        CommandId::BIND_TRANSCEIVER => Some(BindKind::Transceiver),
        _ => None,
    }
}

impl Engine {
    fn record(
        &mut self,
        conn: ConnId,
        system_id: Option<String>,
        pdu: Option<Pdu<'static>>,
        id: CommandId,
        seq: u32,
        status: CommandStatus,
    ) {
        let rec = Record {
            at: SystemTime::now(),
            conn,
            system_id,
            command_id: id,
            sequence_number: seq,
            command_status: status,
            pdu,
        };
        if let Some(w) = self.log.as_mut() {
            let line = rec.to_json();
            if let Err(err) = writeln!(w, "{line}").and_then(|()| w.flush()) {
                warn!("cannot write the PDU log: {err}");
            }
        }
        if let Some(c) = self.conns.iter_mut().find(|c| c.conn.id() == conn) {
            c.pdus += 1;
            if self.config.close_after.is_some() || self.config.garbage_after.is_some() {
                self.fault_check.push(conn);
            }
        }
        if let Ok(mut r) = self.shared.records.lock() {
            if r.len() >= self.config.max_records.max(1) {
                r.pop_front();
            }
            r.push_back(rec);
        }
        self.shared.update(|s| s.received += 1);
    }

    fn record_pdu(&mut self, k: usize, pdu: &Pdu<'static>) {
        let (id, sys) = (self.conns[k].conn.id(), self.conns[k].system_id.clone());
        self.record(
            id,
            sys,
            Some(pdu.clone()),
            pdu.command_id(),
            pdu.sequence_number,
            pdu.command_status,
        );
    }

    fn remove(&mut self, k: usize) {
        let c = self.conns.swap_remove(k);
        self.closed_stats.merge(&c.conn.stats());
        let bound = c.kind.is_some();
        debug!("connection {} closed", c.conn.id());
        self.shared.update(|s| {
            s.open_connections = s.open_connections.saturating_sub(1);
            if bound {
                s.bound = s.bound.saturating_sub(1);
            }
        });
    }

    /// The next message number and its id.
    fn new_id(&mut self) -> (u64, String) {
        let n = self.next_id;
        self.next_id += 1;
        (n, self.config.id_format.format(n))
    }

    /// Remembers an accepted `submit_sm` or `data_sm`, schedules its receipts (and sends
    /// them now with [`SmscConfig::receipt_before_response`]), then answers it with `resp`.
    fn accept_message(&mut self, k: usize, seq: u32, m: Accepted, resp: Body<'static>) {
        let id = m.id.clone();
        self.accepted(m);
        if self.config.receipt_before_response {
            self.send_receipts_now(&id);
        }
        // Counted before the answer leaves, so that a client that has its response sees
        // the count.
        self.shared.update(|s| s.submits += 1);
        self.respond(k, seq, CommandStatus::ESME_ROK, resp);
    }

    /// Whether a submit now is above the rate cap (and counts it if not).
    fn throttled(&mut self) -> bool {
        let Some(cap) = self.config.max_submits_per_second else {
            return false;
        };
        let now = Instant::now();
        while self
            .submits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.submits.pop_front();
        }
        if self.submits.len() >= cap as usize {
            return true;
        }
        self.submits.push_back(now);
        false
    }

    fn remember(&mut self, id: &str, m: Message) {
        if self.message_order.len() >= self.config.max_messages.max(1) {
            if let Some(old) = self.message_order.pop_front() {
                self.messages.remove(&old);
            }
        }
        self.message_order.push_back(id.to_string());
        self.messages.insert(id.to_string(), m);
    }

    /// Handles one event of connection `k`; whether the connection is still there (a
    /// `Closed` event removes it, which moves another connection to index `k`).
    fn on_event(&mut self, k: usize, ev: ConnEvent) -> bool {
        match ev {
            ConnEvent::Session(Event::BindRequested {
                sequence_number,
                pdu,
            }) => self.on_bind(k, sequence_number, pdu),
            ConnEvent::Session(Event::Bound { kind, .. }) => {
                debug!("connection {} bound as {kind:?}", self.conns[k].conn.id());
            }
            ConnEvent::Session(Event::Request {
                sequence_number,
                pdu,
            }) => {
                self.record_pdu(k, &pdu);
                self.on_request(k, sequence_number, pdu);
            }
            ConnEvent::Session(Event::Notification { pdu }) => self.record_pdu(k, &pdu),
            ConnEvent::Session(Event::Rejected {
                sequence_number,
                command_id,
                status,
            }) => {
                let (id, sys) = (self.conns[k].conn.id(), self.conns[k].system_id.clone());
                debug!("connection {id}: the session rejected {command_id:?} with {status:?}");
                self.record(id, sys, None, command_id, sequence_number, status);
            }
            ConnEvent::Session(Event::Unbound) => {
                let (id, sys) = (self.conns[k].conn.id(), self.conns[k].system_id.clone());
                self.record(id, sys, None, CommandId::UNBIND, 0, CommandStatus::ESME_ROK);
                if self.conns[k].kind.take().is_some() {
                    self.shared.update(|s| {
                        s.unbinds += 1;
                        s.bound = s.bound.saturating_sub(1);
                    });
                }
            }
            ConnEvent::Session(Event::UnexpectedResponse {
                sequence_number,
                command_id,
                status,
                ..
            }) => {
                let (id, sys) = (self.conns[k].conn.id(), self.conns[k].system_id.clone());
                self.record(id, sys, None, command_id, sequence_number, status);
            }
            ConnEvent::ResponseRefused {
                sequence_number,
                error,
            } => warn!(
                "connection {}: response to {sequence_number} refused: {error:?}",
                self.conns[k].conn.id()
            ),
            ConnEvent::Closed(why) => {
                debug!("connection {} closed: {why:?}", self.conns[k].conn.id());
                self.remove(k);
                return false;
            }
            other => debug!("connection {}: {other:?}", self.conns[k].conn.id()),
        }
        true
    }

    fn on_bind(&mut self, k: usize, seq: u32, pdu: Pdu<'static>) {
        let (system_id, password) = match &pdu.body {
            Body::BindTransmitter(b) => (b.system_id.to_str_lossy(), b.password.expose()),
            Body::BindReceiver(b) => (b.system_id.to_str_lossy(), b.password.expose()),
            Body::BindTransceiver(b) => (b.system_id.to_str_lossy(), b.password.expose()),
            _ => (Default::default(), &[][..]),
        };
        let system_id = system_id.into_owned();
        let kind = bind_kind(pdu.command_id());
        let ip = self.conns[k].conn.peer_addr().ip();
        let locked_out = self.locked_out(ip);
        let status = match (kind, self.config.users.is_empty()) {
            _ if locked_out => CommandStatus::ESME_RBINDFAIL,
            (None, _) => CommandStatus::ESME_RBINDFAIL,
            (Some(_), true) => CommandStatus::ESME_ROK,
            (Some(kind), false) => {
                match self.config.users.iter().find(|u| u.system_id == system_id) {
                    None => CommandStatus::ESME_RINVSYSID,
                    Some(u) if u.password.as_bytes() != password => CommandStatus::ESME_RINVPASWD,
                    Some(u) if !u.bind_kinds.contains(&kind) => CommandStatus::ESME_RBINDFAIL,
                    Some(u) => {
                        let bound = self
                            .conns
                            .iter()
                            .filter(|c| {
                                c.kind.is_some() && c.system_id.as_deref() == Some(&system_id)
                            })
                            .count();
                        if bound >= u.max_binds {
                            CommandStatus::ESME_RBINDFAIL
                        } else {
                            CommandStatus::ESME_ROK
                        }
                    }
                }
            }
        };
        self.conns[k].system_id = Some(system_id.clone());
        self.record_pdu(k, &pdu);
        let conn = &self.conns[k].conn;
        if status.is_ok() {
            info!(
                "connection {}: bind {kind:?} of {system_id:?} accepted",
                conn.id()
            );
            // Marked bound now: the ESME may see its bind_resp, and ask for an MO, before
            // the session's `Bound` event reaches us.
            self.conns[k].kind = kind;
            // Counted before the answer goes out, so whoever sees the answer sees the count.
            self.shared.update(|s| {
                s.binds += 1;
                s.bound += 1;
            });
            self.answer(k, Answer::AcceptBind(seq));
        } else if locked_out {
            warn!(
                "connection {}: bind of {system_id:?} refused: {} failed binds from {ip} \
                 within {:?}; closing",
                conn.id(),
                self.config.max_failed_binds,
                self.config.failed_bind_window
            );
            self.shared.update(|s| {
                s.bind_rejects += 1;
                s.bind_lockouts += 1;
            });
            // Answered at once (never delayed) so the close cannot overtake it.
            send_answer(
                conn,
                &self.config.system_id,
                Answer::RejectBind(seq, status),
            );
            conn.close();
        } else {
            info!(
                "connection {}: bind of {system_id:?} refused: {status:?}",
                conn.id()
            );
            self.shared.update(|s| s.bind_rejects += 1);
            self.note_failed_bind(ip);
            self.answer(k, Answer::RejectBind(seq, status));
        }
    }

    /// Whether binds from `ip` are locked out: [`SmscConfig::max_failed_binds`] of them
    /// failed within the window. Forgets failures older than the window.
    fn locked_out(&mut self, ip: IpAddr) -> bool {
        let max = self.config.max_failed_binds as usize;
        if max == 0 {
            return false;
        }
        let window = self.config.failed_bind_window;
        let now = Instant::now();
        // Prune every address, so addresses that stopped trying do not stay in memory.
        self.failed_binds.retain(|_, times| {
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        self.failed_binds.get(&ip).is_some_and(|t| t.len() >= max)
    }

    /// Counts a failed bind from `ip` (at most [`SmscConfig::max_failed_binds`] are kept).
    fn note_failed_bind(&mut self, ip: IpAddr) {
        let max = self.config.max_failed_binds as usize;
        if max == 0 {
            return;
        }
        let times = self.failed_binds.entry(ip).or_default();
        if times.len() >= max {
            times.pop_front();
        }
        times.push_back(Instant::now());
    }

    fn respond(
        &mut self,
        k: usize,
        seq: u32,
        status: CommandStatus,
        body: impl Into<Body<'static>>,
    ) {
        self.answer(k, Answer::Respond(seq, status, body.into()));
    }

    /// Sends a response to connection `k` now, or queues it for later when responses are
    /// delayed.
    fn answer(&mut self, k: usize, what: Answer) {
        if self.config.response_delay.is_zero() {
            send_answer(&self.conns[k].conn, &self.config.system_id, what);
        } else {
            self.delayed.push_back(Delayed {
                at: Instant::now() + self.config.response_delay,
                conn: self.conns[k].conn.id(),
                what,
            });
        }
    }

    /// Sends the delayed responses whose time has come (dropped if the connection is gone).
    fn fire_delayed(&mut self) {
        let now = Instant::now();
        while self.delayed.front().is_some_and(|d| d.at <= now) {
            let Some(d) = self.delayed.pop_front() else {
                break;
            };
            match self.conns.iter().find(|c| c.conn.id() == d.conn) {
                Some(c) => send_answer(&c.conn, &self.config.system_id, d.what),
                None => debug!("delayed response for closed connection {} dropped", d.conn),
            }
        }
    }

    /// Closes or sends garbage to the connections that reached their PDU count.
    fn inject_faults(&mut self) {
        for id in std::mem::take(&mut self.fault_check) {
            let Some(c) = self.conns.iter().find(|c| c.conn.id() == id) else {
                continue;
            };
            if self.config.garbage_after == Some(c.pdus) {
                info!(
                    "connection {id}: fault injection: garbage after {} PDUs",
                    c.pdus
                );
                match c.conn.send_raw(crate::GARBAGE.to_vec()) {
                    Ok(()) => self.shared.update(|s| s.garbage_sent += 1),
                    Err(e) => warn!("cannot send garbage: {e}"),
                }
            }
            if self.config.close_after == Some(c.pdus) {
                info!(
                    "connection {id}: fault injection: closed after {} PDUs",
                    c.pdus
                );
                c.conn.close();
                self.shared.update(|s| s.fault_closes += 1);
            }
        }
    }

    /// Sends the scheduled MO messages that are due, to every receiving session of their
    /// `system_id`.
    fn fire_mo_schedule(&mut self) {
        let now = Instant::now();
        for i in 0..self.mo_next.len() {
            if self.mo_next[i] > now {
                continue;
            }
            let m = self.config.mo_schedule[i].clone();
            let every = m.every.max(Duration::from_millis(1));
            // No burst to catch up after a stall: the next tick is at least `every` away.
            self.mo_next[i] = (self.mo_next[i] + every).max(now + every / 2);
            let targets: Vec<usize> = (0..self.conns.len())
                .filter(|&k| {
                    self.conns[k].can_receive()
                        && self.conns[k].system_id.as_deref() == Some(&*m.system_id)
                })
                .collect();
            if targets.is_empty() {
                debug!("scheduled MO: no receiver of {:?}", m.system_id);
            }
            for k in targets {
                self.mo_reference = self.mo_reference.wrapping_add(1);
                match mo_pdus(
                    &m.from,
                    &m.to,
                    &m.text,
                    self.config.mo_split,
                    self.mo_reference,
                ) {
                    Ok(pdus) => {
                        for d in pdus {
                            self.send_deliver(k, d, Sent::Mo);
                        }
                    }
                    Err(e) => {
                        warn!("scheduled MO: {e}");
                        break;
                    }
                }
            }
        }
    }

    fn on_request(&mut self, k: usize, seq: u32, pdu: Pdu<'static>) {
        let conn_id = self.conns[k].conn.id();
        let system_id = self.conns[k].system_id.clone();
        if self.config.strict_tlvs {
            let malformed = pdu.body.tlvs().iter().find_map(|t| match t {
                Tlv::Other(raw) if raw.is_malformed_known_tag() => Some(raw.tag),
                _ => None,
            });
            let response = pdu.command_id().response().and_then(Body::empty);
            if let (Some(tag), Some(body)) = (malformed, response) {
                debug!("connection {conn_id}: {tag:?} has an invalid length");
                return self.respond(k, seq, CommandStatus::ESME_RINVPARLEN, body);
            }
        }
        match pdu.body {
            Body::SubmitSm(sm) => {
                self.submit_sms += 1;
                if self
                    .config
                    .drop_every
                    .is_some_and(|n| n > 0 && self.submit_sms % n == 0)
                {
                    debug!("connection {conn_id}: fault injection: submit_sm {seq} unanswered");
                    self.shared.update(|s| s.dropped += 1);
                    return;
                }
                if self.throttled() {
                    self.shared.update(|s| s.throttled += 1);
                    return self.respond(
                        k,
                        seq,
                        CommandStatus::ESME_RTHROTTLED,
                        SubmitSmResp::default(),
                    );
                }
                let (number, id) = self.new_id();
                let text = original_text(sm.short_message.as_bytes(), sm.esm_class, sm.data_coding);
                let m = Accepted {
                    number,
                    id: id.clone(),
                    conn: conn_id,
                    system_id,
                    registered_delivery: sm.registered_delivery,
                    source: (
                        sm.source_addr_ton,
                        sm.source_addr_npi,
                        sm.source_addr.to_str_lossy().into_owned(),
                    ),
                    dest: (
                        sm.dest_addr_ton,
                        sm.dest_addr_npi,
                        sm.destination_addr.to_str_lossy().into_owned(),
                    ),
                    text,
                };
                let resp = SubmitSmResp {
                    message_id: id.into(),
                    tlvs: vec![],
                };
                self.accept_message(k, seq, m, resp.into());
            }
            Body::DataSm(d) => {
                if self.throttled() {
                    self.shared.update(|s| s.throttled += 1);
                    return self.respond(
                        k,
                        seq,
                        CommandStatus::ESME_RTHROTTLED,
                        DataSmResp::default(),
                    );
                }
                let (number, id) = self.new_id();
                let m = Accepted {
                    number,
                    id: id.clone(),
                    conn: conn_id,
                    system_id,
                    registered_delivery: d.registered_delivery,
                    source: (
                        d.source_addr_ton,
                        d.source_addr_npi,
                        d.source_addr.to_str_lossy().into_owned(),
                    ),
                    dest: (
                        d.dest_addr_ton,
                        d.dest_addr_npi,
                        d.destination_addr.to_str_lossy().into_owned(),
                    ),
                    text: String::new(),
                };
                let resp = DataSmResp {
                    message_id: id.into(),
                    tlvs: vec![],
                };
                self.accept_message(k, seq, m, resp.into());
            }
            Body::SubmitMulti(m) => {
                if self.throttled() {
                    self.shared.update(|s| s.throttled += 1);
                    return self.respond(
                        k,
                        seq,
                        CommandStatus::ESME_RTHROTTLED,
                        SubmitMultiResp::default(),
                    );
                }
                let (_, id) = self.new_id();
                self.shared.update(|s| s.submits += 1);
                self.respond(
                    k,
                    seq,
                    CommandStatus::ESME_ROK,
                    SubmitMultiResp {
                        message_id: id.clone().into(),
                        unsuccess_smes: vec![],
                        tlvs: vec![],
                    },
                );
                self.remember(
                    &id,
                    Message {
                        system_id,
                        final_state: Some(self.config.receipt_state.clone()),
                        source_addr: m.source_addr.to_str_lossy().into_owned(),
                        destination_addr: String::new(),
                    },
                );
            }
            Body::QuerySm(q) => {
                self.shared.update(|s| s.other_requests += 1);
                let id = q.message_id.to_str_lossy().into_owned();
                match self.messages.get(&id) {
                    Some(m) if m.system_id == system_id => {
                        let state = m
                            .final_state
                            .as_ref()
                            .map_or(Some(1), ReceiptState::message_state);
                        self.respond(
                            k,
                            seq,
                            CommandStatus::ESME_ROK,
                            QuerySmResp {
                                message_id: q.message_id,
                                final_date: "".into(),
                                message_state: state.unwrap_or(7),
                                error_code: 0,
                                tlvs: vec![],
                            },
                        );
                    }
                    _ => self.respond(
                        k,
                        seq,
                        CommandStatus::ESME_RQUERYFAIL,
                        QuerySmResp::default(),
                    ),
                }
            }
            Body::CancelSm(c) => {
                self.shared.update(|s| s.other_requests += 1);
                let id = c.message_id.to_str_lossy().into_owned();
                let ids: Vec<String> = if id.is_empty() {
                    let (src, dst) = (
                        c.source_addr.to_str_lossy(),
                        c.destination_addr.to_str_lossy(),
                    );
                    self.messages
                        .iter()
                        .filter(|(_, m)| {
                            m.final_state.is_none()
                                && m.system_id == system_id
                                && m.source_addr == src
                                && m.destination_addr == dst
                        })
                        .map(|(id, _)| id.clone())
                        .collect()
                } else {
                    match self.messages.get(&id) {
                        Some(m) if m.final_state.is_none() && m.system_id == system_id => vec![id],
                        _ => vec![],
                    }
                };
                if ids.is_empty() {
                    return self.respond(
                        k,
                        seq,
                        CommandStatus::ESME_RCANCELFAIL,
                        CancelSmResp::default(),
                    );
                }
                for id in &ids {
                    if let Some(m) = self.messages.get_mut(id) {
                        m.final_state = Some(ReceiptState::Deleted);
                    }
                    self.receipts.retain(|r| &r.id != id);
                }
                self.respond(k, seq, CommandStatus::ESME_ROK, CancelSmResp::default());
            }
            Body::ReplaceSm(r) => {
                self.shared.update(|s| s.other_requests += 1);
                let id = r.message_id.to_str_lossy().into_owned();
                let ok = self
                    .messages
                    .get(&id)
                    .is_some_and(|m| m.final_state.is_none() && m.system_id == system_id);
                if ok {
                    let text = original_text(r.short_message.as_bytes(), 0, 0);
                    for due in self.receipts.iter_mut().filter(|d| d.id == id) {
                        due.text = text.clone();
                    }
                    self.respond(k, seq, CommandStatus::ESME_ROK, ReplaceSmResp::default());
                } else {
                    self.respond(
                        k,
                        seq,
                        CommandStatus::ESME_RREPLACEFAIL,
                        ReplaceSmResp::default(),
                    );
                }
            }
            other => {
                let id = other.command_id();
                debug!("connection {conn_id}: unsupported {id:?}");
                match id.response().and_then(Body::empty) {
                    Some(body) => self.respond(k, seq, CommandStatus::ESME_RINVCMDID, body),
                    None => self.respond(
                        k,
                        seq,
                        CommandStatus::ESME_RINVCMDID,
                        GenericNack::default(),
                    ),
                }
            }
        }
    }

    fn send_deliver(&mut self, k: usize, d: DeliverSm<'static>, kind: Sent) -> bool {
        let tag = self.next_tag;
        self.next_tag += 1;
        let c = &self.conns[k];
        match c.conn.request(Body::from(d), tag, &self.done_tx) {
            Ok(()) => {
                self.in_flight
                    .insert(tag, (c.conn.id(), c.system_id.clone(), kind));
                self.shared.update(|s| match kind {
                    Sent::Receipt => s.receipts_sent += 1,
                    Sent::Mo => s.mo_sent += 1,
                    Sent::Intermediate => s.intermediates_sent += 1,
                });
                true
            }
            Err(e) => {
                warn!("cannot send deliver_sm: {e}");
                false
            }
        }
    }

    fn on_completed(&mut self, c: Completed) {
        let Some((conn, system_id, kind)) = self.in_flight.remove(&c.tag) else {
            return;
        };
        match c.outcome {
            Outcome::Response(pdu) => {
                let ok = pdu.command_status.is_ok();
                self.record(
                    conn,
                    system_id,
                    Some(pdu.clone()),
                    pdu.command_id(),
                    pdu.sequence_number,
                    pdu.command_status,
                );
                self.shared.update(|s| {
                    if ok {
                        s.delivers_acked += 1;
                    } else {
                        s.delivers_failed += 1;
                    }
                });
            }
            other => {
                debug!("{kind:?} deliver_sm on connection {conn}: {other:?}");
                self.shared.update(|s| s.delivers_failed += 1);
            }
        }
    }

    fn inject_mo(&mut self, system_id: &str, from: &str, to: &str, text: &str) -> Result<()> {
        self.mo_reference = self.mo_reference.wrapping_add(1);
        let pdus = mo_pdus(from, to, text, self.config.mo_split, self.mo_reference)?;
        let k = self
            .conns
            .iter()
            .position(|c| c.can_receive() && c.system_id.as_deref() == Some(system_id))
            .ok_or_else(|| SmscError::NoReceiver(system_id.to_string()))?;
        for d in pdus {
            if !self.send_deliver(k, d, Sent::Mo) {
                return Err(SmscError::Stopped);
            }
        }
        Ok(())
    }
}

/// Sends one response on `conn`.
fn send_answer(conn: &Connection, system_id: &str, what: Answer) {
    let r = match what {
        Answer::Respond(seq, status, body) => conn.respond(seq, status, body),
        Answer::AcceptBind(seq) => conn.accept_bind(seq, system_id),
        Answer::RejectBind(seq, status) => conn.reject_bind(seq, status),
    };
    if let Err(e) = r {
        warn!("cannot respond: {e}");
    }
}

/// The `deliver_sm`s of an MO message: one (`message_payload` when long) with
/// [`SplitMethod::Payload`], else one per segment of the split.
fn mo_pdus(
    from: &str,
    to: &str,
    text: &str,
    split: SplitMethod,
    reference: u16,
) -> Result<Vec<DeliverSm<'static>>> {
    let one = mo_pdu(from, to, text)?;
    if split == SplitMethod::Payload {
        return Ok(vec![one]);
    }
    let encoding = text::choose(text, &TextConfig::default());
    let segments = concat::split(text, encoding, split, reference)
        .map_err(|e| SmscError::Text(e.to_string()))?;
    let template = DeliverSm {
        short_message: Default::default(),
        tlvs: Vec::new(),
        ..one
    };
    Ok(segments
        .iter()
        .map(|s| s.to_deliver_sm(&template))
        .collect())
}

/// The `deliver_sm` of an MO message.
fn mo_pdu(from: &str, to: &str, text: &str) -> Result<DeliverSm<'static>> {
    let config = TextConfig::default();
    let encoding = text::choose(text, &config);
    let data_coding = config.data_coding(encoding).unwrap_or(match encoding {
        Encoding::Ucs2 => 8,
        Encoding::Latin1 => 3,
        _ => 0,
    });
    let bytes = text::encode(text, encoding).map_err(|e| SmscError::Text(format!("{e:?}")))?;
    let (short_message, tlvs) = if bytes.len() <= 254 {
        (bytes, vec![])
    } else {
        (Vec::new(), vec![Tlv::MessagePayload(bytes.into())])
    };
    let d = DeliverSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: from.to_string().into(),
        dest_addr_ton: 0,
        dest_addr_npi: 0,
        destination_addr: to.to_string().into(),
        data_coding,
        short_message: short_message.into(),
        tlvs,
        ..Default::default()
    };
    Ok(d)
}

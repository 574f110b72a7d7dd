//! A small SMSC for the client's integration tests, built on `smpp_transport` (SMSC-role
//! sessions on its own transport), with knobs and counters.
//!
//! One thread accepts connections; each connection gets a thread that answers binds,
//! submits and the other ESME requests, delays responses, throttles, sends receipts and
//! MO messages, unbinds or drops the connection on command, and counts what it saw.
//! [`Smsc::stop`] (or dropping the [`Smsc`]) joins every thread and shuts the transport down.

#![allow(dead_code)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{select, Receiver, Sender};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    Body, CancelSmResp, CommandId, CommandStatus, DataSmResp, DeliverSm, GenericNack, QuerySmResp,
    ReplaceSmResp, SubmitMultiResp, SubmitSm, SubmitSmResp,
};
use smpp_session::{BindKind, Event};
use smpp_transport::{
    Completed, Config, ConnEvent, Connection, Disconnect, Outcome, Transport, TransportHandle,
};

/// Upper bound for anything a test waits for.
pub(crate) const WAIT: Duration = Duration::from_secs(15);

/// The SMSC's `system_id`.
pub(crate) const SMSC_ID: &str = "test-smsc";

/// Behaviour of the SMSC; change it at run time with [`Smsc::set`].
#[derive(Clone, Debug)]
pub(crate) struct Knobs {
    /// Accept only this `(system_id, password)`; `None` accepts every bind.
    pub(crate) credentials: Option<(String, String)>,
    /// The status a refused bind gets.
    pub(crate) reject_status: CommandStatus,
    /// Answer every n-th submit_sm received (counting attempts) with `ESME_RTHROTTLED`,
    /// at most once per message (a resubmission of the same content is accepted).
    pub(crate) throttle_every: Option<u64>,
    /// Answer the first attempt of every n-th distinct message (by destination and text)
    /// with `ESME_RTHROTTLED`; its resubmission is accepted. 1,000 messages: exactly 100.
    pub(crate) throttle_every_message: Option<u64>,
    /// How long responses to submit_sm wait before they go out.
    pub(crate) delay: Duration,
    /// Send a delivery receipt for each accepted submit_sm asking for one.
    pub(crate) receipts: bool,
    /// Close a connection (without answering) when its n-th submit_sm arrives.
    pub(crate) drop_after: Option<usize>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            credentials: None,
            reject_status: CommandStatus::ESME_RINVPASWD,
            throttle_every: None,
            throttle_every_message: None,
            delay: Duration::ZERO,
            receipts: false,
            drop_after: None,
        }
    }
}

/// What a deliver_sm the SMSC sent was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeliverKind {
    /// A delivery receipt.
    Receipt,
    /// An MO message.
    Mo,
}

/// What the SMSC saw.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stats {
    /// Connections accepted.
    pub(crate) connections: usize,
    /// Connections whose `ConnEvent::Closed` arrived, with why.
    pub(crate) closed: Vec<Disconnect>,
    /// Binds accepted, by kind.
    pub(crate) binds: Vec<BindKind>,
    /// Binds refused.
    pub(crate) bind_rejects: usize,
    /// submit_sm PDUs received (every attempt), in arrival order.
    pub(crate) submitted: Vec<SubmitSm<'static>>,
    /// Accepted submits: `(short_message, message_id)`, in answer order.
    pub(crate) accepted: Vec<(Vec<u8>, String)>,
    /// submit_sm answered `ESME_RTHROTTLED`.
    pub(crate) throttled: u64,
    /// submit_sm received and not answered yet.
    pub(crate) outstanding: usize,
    /// The most submit_sm outstanding at once.
    pub(crate) max_outstanding: usize,
    /// Other requests received (query_sm, cancel_sm, ...).
    pub(crate) other_requests: Vec<CommandId>,
    /// Outcomes of the deliver_sm the SMSC sent: kind and the response's status (or the
    /// outcome when there was no response).
    pub(crate) deliver_results: Vec<(DeliverKind, Result<CommandStatus, Outcome>)>,
    /// Receipts sent.
    pub(crate) receipts_sent: usize,
    /// unbind requests received from the ESME.
    pub(crate) unbinds_received: usize,
    /// Unbinds the SMSC started that completed.
    pub(crate) unbinds_sent: usize,
    /// Connections dropped because of [`Knobs::drop_after`].
    pub(crate) drops: usize,
    /// PDUs the session rejected by itself.
    pub(crate) rejected: Vec<(CommandId, CommandStatus)>,
    /// Responses the transport refused (a bug in this SMSC or in the stack).
    pub(crate) refused_responses: usize,
}

impl Stats {
    /// Statuses of the responses to deliver_sm of this kind.
    pub(crate) fn deliver_statuses(&self, kind: DeliverKind) -> Vec<CommandStatus> {
        self.deliver_results
            .iter()
            .filter(|(k, _)| *k == kind)
            .filter_map(|(_, r)| r.as_ref().ok().copied())
            .collect()
    }
}

enum Cmd {
    Deliver(DeliverSm<'static>, DeliverKind),
    Unbind,
    Close,
    Stop,
}

struct ConnCtl {
    tx: Sender<Cmd>,
    kind: Arc<Mutex<Option<BindKind>>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    knobs: Mutex<Knobs>,
    stats: Mutex<Stats>,
    changed: Condvar,
    next_id: AtomicU64,
    stop: AtomicBool,
    conns: Mutex<Vec<ConnCtl>>,
    throttled_keys: Mutex<HashSet<(Vec<u8>, Vec<u8>)>>,
    /// Distinct messages seen, for [`Knobs::throttle_every_message`].
    seen_keys: Mutex<HashSet<(Vec<u8>, Vec<u8>)>>,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut Stats)) {
        let mut s = self.stats.lock().unwrap();
        f(&mut s);
        drop(s);
        self.changed.notify_all();
    }

    fn knobs(&self) -> Knobs {
        self.knobs.lock().unwrap().clone()
    }
}

/// The in-test SMSC.
pub(crate) struct Smsc {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    transport: TransportHandle,
}

impl Smsc {
    /// Starts an SMSC with these knobs and default session settings.
    pub(crate) fn start(knobs: Knobs) -> Smsc {
        Smsc::start_with(knobs, smpp_session::Config::default(), Config::default())
    }

    /// Starts an SMSC with these knobs, session and transport settings.
    pub(crate) fn start_with(
        knobs: Knobs,
        session: smpp_session::Config,
        transport: Config,
    ) -> Smsc {
        let t = Transport::spawn(transport).expect("transport");
        let listener = t
            .listen("127.0.0.1:0".parse().unwrap(), session)
            .expect("listen");
        let addr = listener.local_addr();
        let shared = Arc::new(Shared {
            knobs: Mutex::new(knobs),
            stats: Mutex::new(Stats::default()),
            changed: Condvar::new(),
            next_id: AtomicU64::new(0x1000),
            stop: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
            throttled_keys: Mutex::new(HashSet::new()),
            seen_keys: Mutex::new(HashSet::new()),
        });
        let s = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("test-smsc".into())
            .spawn(move || {
                while !s.stop.load(Ordering::SeqCst) {
                    let conn = match listener.accept_timeout(Duration::from_millis(20)) {
                        Ok(Some(c)) => c,
                        Ok(None) => continue,
                        Err(_) => return,
                    };
                    s.update(|st| st.connections += 1);
                    let (tx, rx) = crossbeam_channel::unbounded();
                    let kind = Arc::new(Mutex::new(None));
                    let (s2, k2) = (Arc::clone(&s), Arc::clone(&kind));
                    let thread = std::thread::Builder::new()
                        .name("test-smsc".into())
                        .spawn(move || serve(conn, s2, rx, k2))
                        .expect("spawn");
                    s.conns.lock().unwrap().push(ConnCtl {
                        tx,
                        kind,
                        thread: Some(thread),
                    });
                }
            })
            .expect("spawn");
        Smsc {
            addr,
            shared,
            accept: Some(accept),
            transport: t,
        }
    }

    /// Changes the knobs.
    pub(crate) fn set(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.shared.knobs.lock().unwrap());
    }

    /// A copy of the counters.
    pub(crate) fn stats(&self) -> Stats {
        self.shared.stats.lock().unwrap().clone()
    }

    /// Reads the counters without copying them.
    pub(crate) fn with_stats<R>(&self, f: impl FnOnce(&Stats) -> R) -> R {
        f(&self.shared.stats.lock().unwrap())
    }

    /// Waits until `cond` holds for the counters, at most `timeout`; whether it did.
    pub(crate) fn wait(&self, timeout: Duration, cond: impl Fn(&Stats) -> bool) -> bool {
        let guard = self.shared.stats.lock().unwrap();
        let (guard, _) = self
            .shared
            .changed
            .wait_timeout_while(guard, timeout, |s| !cond(s))
            .unwrap();
        cond(&guard)
    }

    /// Like [`Smsc::wait`], panicking with `what` and the counters on timeout.
    pub(crate) fn expect(&self, what: &str, cond: impl Fn(&Stats) -> bool) {
        if !self.wait(WAIT, &cond) {
            panic!(
                "SMSC: timed out waiting for {what}; stats: {:#?}",
                self.summary()
            );
        }
    }

    /// The counters without the (long) list of submits.
    pub(crate) fn summary(&self) -> String {
        self.with_stats(|s| {
            format!(
                "connections {} closed {:?} binds {:?} rejects {} submits {} accepted {} \
                 throttled {} outstanding {} other {:?} delivers {:?} unbinds in {} out {} \
                 drops {} rejected {:?} refused {}",
                s.connections,
                s.closed,
                s.binds,
                s.bind_rejects,
                s.submitted.len(),
                s.accepted.len(),
                s.throttled,
                s.outstanding,
                s.other_requests,
                s.deliver_results,
                s.unbinds_received,
                s.unbinds_sent,
                s.drops,
                s.rejected,
                s.refused_responses
            )
        })
    }

    /// Sends an MO deliver_sm on the most recent connection bound to receive; whether
    /// there was one.
    pub(crate) fn inject_mo(&self, from: &str, to: &str, text: &str) -> bool {
        let sm = DeliverSm {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: from.to_string().into(),
            dest_addr_ton: 0,
            dest_addr_npi: 0,
            destination_addr: to.to_string().into(),
            data_coding: 0,
            short_message: text.to_string().into(),
            ..Default::default()
        };
        self.deliver(sm, DeliverKind::Mo)
    }

    /// Sends a deliver_sm on the most recent connection bound to receive, waiting (at most
    /// [`WAIT`]) for one: the client may see its bind_resp before this SMSC's connection
    /// thread saw the bind complete.
    pub(crate) fn deliver(&self, sm: DeliverSm<'static>, kind: DeliverKind) -> bool {
        let end = Instant::now() + WAIT;
        let mut cmd = Cmd::Deliver(sm, kind);
        loop {
            {
                let conns = self.shared.conns.lock().unwrap();
                for c in conns.iter().rev() {
                    let can = matches!(
                        *c.kind.lock().unwrap(),
                        Some(BindKind::Receiver | BindKind::Transceiver)
                    );
                    if !can {
                        continue;
                    }
                    match c.tx.send(cmd) {
                        Ok(()) => return true,
                        Err(e) => cmd = e.into_inner(),
                    }
                }
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // Binds notify the condition variable.
            let g = self.shared.stats.lock().unwrap();
            let _ = self
                .shared
                .changed
                .wait_timeout(g, left.min(Duration::from_millis(50)))
                .unwrap();
        }
    }

    /// Asks every live connection to unbind.
    pub(crate) fn unbind_all(&self) {
        for c in self.shared.conns.lock().unwrap().iter() {
            let _ = c.tx.send(Cmd::Unbind);
        }
    }

    /// Closes every live connection (`Connection::close`).
    pub(crate) fn close_all(&self) {
        for c in self.shared.conns.lock().unwrap().iter() {
            let _ = c.tx.send(Cmd::Close);
        }
    }

    /// Stops every thread and the transport.
    pub(crate) fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        let conns: Vec<ConnCtl> = std::mem::take(&mut *self.shared.conns.lock().unwrap());
        for c in &conns {
            let _ = c.tx.send(Cmd::Stop);
        }
        for mut c in conns {
            if let Some(t) = c.thread.take() {
                let _ = t.join();
            }
        }
        self.transport.shutdown();
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        if self.accept.is_some() {
            self.stop_inner();
        }
    }
}

/// A response waiting for its time to go out.
struct Due {
    at: Instant,
    seq: u32,
    status: CommandStatus,
    body: Body<'static>,
    /// The submit it answers (for the outstanding count, ids and receipts).
    submit: Option<SubmitSm<'static>>,
}

const MO_TAG: u64 = 1 << 62;
const RECEIPT_TAG: u64 = 1 << 61;
const UNBIND_TAG: u64 = 1 << 60;

/// Serves one connection until it closes or the SMSC stops.
fn serve(
    conn: Connection,
    shared: Arc<Shared>,
    cmds: Receiver<Cmd>,
    kind_slot: Arc<Mutex<Option<BindKind>>>,
) {
    let (reply, done) = crossbeam_channel::unbounded::<Completed>();
    let mut due: Vec<Due> = Vec::new();
    let mut submits_here = 0usize;
    let mut next_tag = 1u64;
    let mut unbinding = false;
    let mut closed = false;
    while !closed {
        let now = Instant::now();
        let wait = due
            .iter()
            .map(|d| d.at.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_millis(100));
        select! {
            recv(conn.events()) -> ev => match ev {
                Ok(ev) => {
                    closed = on_event(
                        &conn, &shared, ev, &mut due, &mut submits_here, &kind_slot, unbinding,
                    );
                }
                Err(_) => closed = true,
            },
            recv(done) -> c => {
                if let Ok(c) = c {
                    on_completed(&shared, c);
                }
            },
            recv(cmds) -> cmd => match cmd {
                Ok(Cmd::Deliver(sm, kind)) => {
                    let tag = next_tag | if kind == DeliverKind::Mo { MO_TAG } else { RECEIPT_TAG };
                    next_tag += 1;
                    let _ = conn.request(Body::from(sm), tag, &reply);
                }
                Ok(Cmd::Unbind) => {
                    unbinding = true;
                    let _ = conn.unbind(UNBIND_TAG, &reply);
                }
                Ok(Cmd::Close) => conn.close(),
                Ok(Cmd::Stop) | Err(_) => break,
            },
            default(wait) => {}
        }
        // Send what is due, in order.
        let now = Instant::now();
        due.sort_by_key(|d| d.at);
        while due.first().is_some_and(|d| d.at <= now) && !closed {
            let d = due.remove(0);
            respond(&conn, &shared, d, &mut next_tag, &reply, &kind_slot);
        }
    }
    *kind_slot.lock().unwrap() = None;
    // Outcomes that raced the close.
    while let Ok(c) = done.try_recv() {
        on_completed(&shared, c);
    }
}

fn on_completed(shared: &Shared, c: Completed) {
    let kind = if c.tag & MO_TAG != 0 {
        DeliverKind::Mo
    } else if c.tag & RECEIPT_TAG != 0 {
        DeliverKind::Receipt
    } else {
        if c.tag == UNBIND_TAG && c.outcome == Outcome::Unbound {
            shared.update(|s| s.unbinds_sent += 1);
        }
        return;
    };
    let r = match c.outcome {
        Outcome::Response(p) => Ok(p.command_status),
        other => Err(other),
    };
    shared.update(|s| s.deliver_results.push((kind, r)));
}

/// Handles one connection event; whether the connection is closed.
fn on_event(
    conn: &Connection,
    shared: &Shared,
    ev: ConnEvent,
    due: &mut Vec<Due>,
    submits_here: &mut usize,
    kind_slot: &Mutex<Option<BindKind>>,
    unbinding: bool,
) -> bool {
    let knobs = shared.knobs();
    match ev {
        ConnEvent::Session(Event::BindRequested {
            sequence_number,
            pdu,
        }) => {
            let (kind, system_id, password) = match &pdu.body {
                Body::BindTransmitter(b) => (
                    Some(BindKind::Transmitter),
                    b.system_id.as_bytes(),
                    b.password.expose(),
                ),
                Body::BindReceiver(b) => (
                    Some(BindKind::Receiver),
                    b.system_id.as_bytes(),
                    b.password.expose(),
                ),
                Body::BindTransceiver(b) => (
                    Some(BindKind::Transceiver),
                    b.system_id.as_bytes(),
                    b.password.expose(),
                ),
                _ => (None, &[][..], &[][..]),
            };
            let ok = knobs
                .credentials
                .as_ref()
                .is_none_or(|(id, pw)| id.as_bytes() == system_id && pw.as_bytes() == password);
            if ok {
                // Counted before the answer goes out: a client that binds, unbinds and
                // binds again on a new connection may otherwise see its second bind
                // counted first (each connection's events come on their own thread).
                if let Some(kind) = kind {
                    shared.update(|s| s.binds.push(kind));
                }
                let _ = conn.accept_bind(sequence_number, SMSC_ID);
            } else {
                let _ = conn.reject_bind(sequence_number, knobs.reject_status);
                shared.update(|s| s.bind_rejects += 1);
            }
        }
        ConnEvent::Session(Event::Bound { kind, .. }) => {
            *kind_slot.lock().unwrap() = Some(kind);
        }
        ConnEvent::Session(Event::Request {
            sequence_number: seq,
            pdu,
        }) => {
            let now = Instant::now();
            match pdu.body {
                Body::SubmitSm(sm) => {
                    *submits_here += 1;
                    let n = shared.with_count(|s| {
                        s.submitted.push(sm.clone());
                        s.submitted.len() as u64
                    });
                    if knobs.drop_after.is_some_and(|d| *submits_here >= d) {
                        shared.update(|s| s.drops += 1);
                        conn.close();
                        return false;
                    }
                    let key = (
                        sm.destination_addr.as_bytes().to_vec(),
                        sm.short_message.as_bytes().to_vec(),
                    );
                    let nth_message = knobs.throttle_every_message.is_some_and(|k| {
                        let mut seen = shared.seen_keys.lock().unwrap();
                        seen.insert(key.clone()) && seen.len() as u64 % k == 0
                    });
                    let throttle = (nth_message
                        || knobs.throttle_every.is_some_and(|k| n % k == 0))
                        && shared.throttled_keys.lock().unwrap().insert(key);
                    if throttle {
                        shared.update(|s| s.throttled += 1);
                        let _ = conn.respond(
                            seq,
                            CommandStatus::ESME_RTHROTTLED,
                            Body::from(SubmitSmResp::default()),
                        );
                        return false;
                    }
                    shared.update(|s| {
                        s.outstanding += 1;
                        s.max_outstanding = s.max_outstanding.max(s.outstanding);
                    });
                    let id = format!("{:X}", shared.next_id.fetch_add(1, Ordering::Relaxed));
                    due.push(Due {
                        at: now + knobs.delay,
                        seq,
                        status: CommandStatus::ESME_ROK,
                        body: Body::from(SubmitSmResp {
                            message_id: id.into(),
                            tlvs: vec![],
                        }),
                        submit: Some(sm),
                    });
                }
                other => {
                    let id = other.command_id();
                    shared.update(|s| s.other_requests.push(id));
                    let new_id = || format!("{:X}", shared.next_id.fetch_add(1, Ordering::Relaxed));
                    let (status, body) = match other {
                        Body::QuerySm(q) => (
                            CommandStatus::ESME_ROK,
                            Body::from(QuerySmResp {
                                message_id: q.message_id,
                                final_date: "".into(),
                                message_state: 2,
                                error_code: 0,
                                tlvs: vec![],
                            }),
                        ),
                        Body::CancelSm(_) => {
                            (CommandStatus::ESME_ROK, Body::from(CancelSmResp::default()))
                        }
                        Body::ReplaceSm(_) => (
                            CommandStatus::ESME_ROK,
                            Body::from(ReplaceSmResp::default()),
                        ),
                        Body::SubmitMulti(_) => (
                            CommandStatus::ESME_ROK,
                            Body::from(SubmitMultiResp {
                                message_id: new_id().into(),
                                unsuccess_smes: vec![],
                                tlvs: vec![],
                            }),
                        ),
                        Body::DataSm(_) => (
                            CommandStatus::ESME_ROK,
                            Body::from(DataSmResp {
                                message_id: new_id().into(),
                                tlvs: vec![],
                            }),
                        ),
                        _ => (
                            CommandStatus::ESME_RINVCMDID,
                            Body::from(GenericNack::default()),
                        ),
                    };
                    let _ = conn.respond(seq, status, body.into_owned());
                }
            }
        }
        ConnEvent::Session(Event::Unbound) if !unbinding => {
            shared.update(|s| s.unbinds_received += 1);
        }
        ConnEvent::Session(Event::Rejected {
            command_id, status, ..
        }) => shared.update(|s| s.rejected.push((command_id, status))),
        ConnEvent::ResponseRefused { .. } => shared.update(|s| s.refused_responses += 1),
        ConnEvent::Closed(why) => {
            let dropped = due.iter().filter(|d| d.submit.is_some()).count();
            due.clear();
            shared.update(|s| {
                s.outstanding -= dropped;
                s.closed.push(why);
            });
            return true;
        }
        _ => {}
    }
    false
}

impl Shared {
    fn with_count<R>(&self, f: impl FnOnce(&mut Stats) -> R) -> R {
        let mut s = self.stats.lock().unwrap();
        let r = f(&mut s);
        drop(s);
        self.changed.notify_all();
        r
    }
}

fn respond(
    conn: &Connection,
    shared: &Shared,
    d: Due,
    next_tag: &mut u64,
    reply: &Sender<Completed>,
    kind_slot: &Mutex<Option<BindKind>>,
) {
    let id = match &d.body {
        Body::SubmitSmResp(r) => r.message_id.to_str_lossy().into_owned(),
        _ => String::new(),
    };
    // Record before answering: a test may look as soon as the client has the response.
    if let Some(sm) = &d.submit {
        shared.update(|s| {
            s.outstanding -= 1;
            s.accepted
                .push((sm.short_message.as_bytes().to_vec(), id.clone()));
        });
    }
    let _ = conn.respond(d.seq, d.status, d.body);
    let Some(sm) = d.submit else { return };
    let can_deliver = matches!(
        *kind_slot.lock().unwrap(),
        Some(BindKind::Receiver | BindKind::Transceiver)
    );
    if shared.knobs().receipts && sm.registered_delivery & 0x03 != 0 && can_deliver {
        let receipt = receipt_for(&sm, &id);
        let tag = *next_tag | RECEIPT_TAG;
        *next_tag += 1;
        if conn.request(Body::from(receipt), tag, reply).is_ok() {
            shared.update(|s| s.receipts_sent += 1);
        }
    }
}

/// The standard receipt for an accepted submit: text and TLVs.
pub(crate) fn receipt_for(sm: &SubmitSm<'_>, id: &str) -> DeliverSm<'static> {
    let date = receipt_date(SystemTime::now());
    let original: String = if sm.data_coding == 0 || sm.data_coding == 1 {
        sm.short_message
            .as_bytes()
            .iter()
            .filter(|b| b.is_ascii_graphic() || **b == b' ')
            .take(20)
            .map(|&b| b as char)
            .collect()
    } else {
        String::new()
    };
    let text = format!(
        "id:{id} sub:001 dlvrd:001 submit date:{date} done date:{date} stat:DELIVRD err:000 text:{original}"
    );
    DeliverSm {
        source_addr_ton: sm.dest_addr_ton,
        source_addr_npi: sm.dest_addr_npi,
        source_addr: sm.destination_addr.clone().into_owned(),
        dest_addr_ton: sm.source_addr_ton,
        dest_addr_npi: sm.source_addr_npi,
        destination_addr: sm.source_addr.clone().into_owned(),
        esm_class: 0x04,
        data_coding: 0,
        short_message: text.into(),
        tlvs: vec![
            Tlv::ReceiptedMessageId(id.to_string().into()),
            Tlv::MessageState(2),
        ],
        ..Default::default()
    }
}

/// `YYMMDDhhmm` (UTC) of `t`.
pub(crate) fn receipt_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let a = smpp_pdu::time::AbsoluteTime::from_unix_seconds(secs as i64, 0)
        .expect("a date in 2000-2099");
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        a.year % 100,
        a.month,
        a.day,
        a.hour,
        a.minute
    )
}

/// A submit_sm with this text (data_coding 0, GSM-safe ASCII expected).
pub(crate) fn sm(text: &str) -> SubmitSm<'static> {
    SubmitSm {
        source_addr: "12345".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        short_message: text.to_string().into(),
        ..Default::default()
    }
}

/// Counts this process's threads with this name (`/proc/self/task/*/comm`).
pub(crate) fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .map(|c| c.trim_end() == name)
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

/// A scripted raw peer's first step: reads one whole PDU from `s` (within [`WAIT`],
/// whatever read timeout `s` has), which must be a `bind_transceiver`, and accepts it as
/// `system_id`. `false` when the client closed before its bind was whole.
pub(crate) fn accept_bind(s: &mut std::net::TcpStream, system_id: &str) -> bool {
    use std::io::{Read, Write};
    let end = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut chunk = [0u8; 4];
    while got.len() < 4 || got.len() < u32::from_be_bytes([got[0], got[1], got[2], got[3]]) as usize
    {
        assert!(Instant::now() < end, "no bind within {WAIT:?}");
        match s.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(_) => {}
        }
    }
    let (bind, _) = smpp_pdu::Pdu::decode(&got)
        .expect("a PDU")
        .expect("a whole PDU");
    assert_eq!(bind.command_id(), CommandId::BIND_TRANSCEIVER);
    let mut out = Vec::new();
    smpp_pdu::Pdu::new(
        bind.sequence_number,
        smpp_pdu::BindTransceiverResp {
            system_id: system_id.to_string().into(),
            tlvs: vec![],
        },
    )
    .encode(&mut out)
    .expect("encode");
    s.write_all(&out).expect("write the bind response");
    true
}

/// Polls `cond` every few milliseconds until it holds or `timeout` passes; whether it held.
/// Only for state that offers nothing to wait on (such as `Client::is_connected`).
pub(crate) fn poll_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A TCP relay between a client and the SMSC that counts the client's enquire_link PDUs.
pub(crate) struct CountingProxy {
    /// Where clients connect.
    pub(crate) addr: SocketAddr,
    enquire_links: Arc<(Mutex<usize>, Condvar)>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl CountingProxy {
    /// Relays one connection to `upstream`.
    pub(crate) fn start(upstream: SocketAddr) -> CountingProxy {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let enquire_links = Arc::new((Mutex::new(0usize), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (el, st) = (Arc::clone(&enquire_links), Arc::clone(&stop));
        let main = std::thread::spawn(move || {
            // Accept one client (bounded by the stop flag).
            let client = loop {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                match listener.accept() {
                    Ok((c, _)) => break c,
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            };
            client.set_nonblocking(false).unwrap();
            let server = TcpStream::connect(upstream).unwrap();
            let tick = Some(Duration::from_millis(20));
            for s in [&client, &server] {
                s.set_read_timeout(tick).unwrap();
                s.set_nodelay(true).unwrap();
            }
            let relay = |mut from: TcpStream, mut to: TcpStream, count: bool| {
                let (el, st) = (Arc::clone(&el), Arc::clone(&st));
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut frame: Vec<u8> = Vec::new();
                    while !st.load(Ordering::SeqCst) {
                        let n = match from.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => n,
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                                ) =>
                            {
                                continue
                            }
                            Err(_) => break,
                        };
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        if count {
                            frame.extend_from_slice(&buf[..n]);
                            while frame.len() >= 16 {
                                let len =
                                    u32::from_be_bytes(frame[0..4].try_into().unwrap()) as usize;
                                let id = u32::from_be_bytes(frame[4..8].try_into().unwrap());
                                if len < 16 || frame.len() < len {
                                    break;
                                }
                                if id == CommandId::ENQUIRE_LINK.0 {
                                    *el.0.lock().unwrap() += 1;
                                    el.1.notify_all();
                                }
                                frame.drain(..len);
                            }
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Both);
                })
            };
            let a = relay(
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                true,
            );
            let b = relay(server, client, false);
            let _ = a.join();
            let _ = b.join();
        });
        CountingProxy {
            addr,
            enquire_links,
            stop,
            threads: vec![main],
        }
    }

    /// enquire_link PDUs the client sent so far.
    pub(crate) fn enquire_links(&self) -> usize {
        *self.enquire_links.0.lock().unwrap()
    }

    /// Waits until the client sent at least `n` enquire_links, at most `timeout`.
    pub(crate) fn wait_enquire_links(&self, n: usize, timeout: Duration) -> bool {
        let g = self.enquire_links.0.lock().unwrap();
        let (g, _) = self
            .enquire_links
            .1
            .wait_timeout_while(g, timeout, |c| *c < n)
            .unwrap();
        *g >= n
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

//! The SMSC's logic without I/O: [`Core`] is driven by events and `now` (accounts and
//! binds, the message store, receipts, MO messages, throttling, delayed responses, fault
//! injection) and says what to do as [`Output`]s, so it is tested on a virtual clock. The
//! [`Smsc`](crate::Smsc) runs one on a thread over a transport; a program of its own can
//! drive one over anything that carries sessions.
//!
//! A [`Handler`] decides binds and requests first (a custom SMSC); what it leaves to the
//! core ([`Verdict::Builtin`]) gets the built-in test SMSC's behaviour.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use log::{debug, info, warn};
use smpp_pdu::concat::{self, SplitMethod};
use smpp_pdu::text::{self, Encoding, TextConfig};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{Body, CommandId, CommandStatus, DataSm, DeliverSm, GenericNack, Pdu};
use smpp_session::{BindKind, Event};
use smpp_transport::{ConnEvent, Outcome};

use crate::{Record, Result, SmscConfig, SmscError, Stats};

mod broadcast;
mod handler;
mod receipts;
mod requests;
pub(crate) mod rng;
mod store;

pub use handler::{BindInfo, Ctx, Handler, Request, Verdict};
use receipts::DueReceipt;
/// A connection's id (the transport's), as [`Request::conn`] and [`Ctx::bound`] give it.
pub use smpp_transport::ConnId;

/// What the core asks its driver to do, in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum Output {
    /// Accept the bind with `sequence_number` on `conn`, answering with our `system_id`.
    AcceptBind {
        /// The connection.
        conn: ConnId,
        /// The bind's sequence number.
        sequence_number: u32,
        /// The SMSC's `system_id` for the response.
        system_id: String,
    },
    /// Refuse the bind with `status`.
    RejectBind {
        /// The connection.
        conn: ConnId,
        /// The bind's sequence number.
        sequence_number: u32,
        /// The status of the refusal.
        status: CommandStatus,
    },
    /// Answer request `sequence_number` on `conn`.
    Respond {
        /// The connection.
        conn: ConnId,
        /// The request's sequence number.
        sequence_number: u32,
        /// The response's status.
        status: CommandStatus,
        /// The response's body.
        body: Body<'static>,
    },
    /// Send a request (`deliver_sm`, `data_sm`, `alert_notification`) on `conn`; its
    /// outcome comes back through [`Core::on_completed`] with `tag`.
    Request {
        /// The connection.
        conn: ConnId,
        /// The tag to report the outcome with.
        tag: u64,
        /// The request.
        body: Body<'static>,
    },
    /// Write these octets as they are (fault injection).
    SendRaw {
        /// The connection.
        conn: ConnId,
        /// The octets.
        bytes: Vec<u8>,
    },
    /// Close the connection.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// A PDU received (or the session's report of one), for the record and the log.
    Record(Record),
}

/// One connection the core knows.
pub(crate) struct Conn {
    pub(crate) id: ConnId,
    pub(crate) peer: SocketAddr,
    /// The `system_id` of its bind (set when the bind is answered).
    pub(crate) system_id: Option<String>,
    /// How it is bound; `None` before the bind and after an unbind.
    pub(crate) kind: Option<BindKind>,
    /// The bind's `interface_version`.
    pub(crate) version: u8,
    /// PDUs received on it (for the fault injection after N PDUs).
    pub(crate) pdus: u64,
    /// Requests sent on it and not completed yet.
    pub(crate) outstanding: usize,
    /// Requests held back while [`MAX_OUTSTANDING`] are outstanding (an ESME that answers
    /// slower than receipts come): sent, in order, as outcomes come back, instead of
    /// overflowing the transport's queue and being lost.
    pub(crate) deferred: VecDeque<(Body<'static>, Sent)>,
}

/// Requests the core keeps outstanding per connection before it holds the next ones back
/// (below the transport's queue of 4,096 per connection).
pub(crate) const MAX_OUTSTANDING: usize = 2048;

/// Requests held back per connection at most; past it (an ESME that stopped answering for
/// good) new ones are counted failed, so that memory stays bounded.
pub(crate) const MAX_DEFERRED: usize = 65_536;

impl Conn {
    pub(crate) fn can_receive(&self) -> bool {
        matches!(self.kind, Some(BindKind::Receiver | BindKind::Transceiver))
    }
}

/// A response held back by [`SmscConfig::response_delay`].
struct Delayed {
    at: Instant,
    output: Output,
}

/// A message the SMSC accepted.
pub(crate) struct Message {
    pub(crate) system_id: Option<String>,
    pub(crate) final_state: Option<smpp_pdu::receipt::ReceiptState>,
    pub(crate) source_addr: String,
    pub(crate) destination_addr: String,
}

/// What a `deliver_sm` we sent was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    Receipt,
    Mo,
    Intermediate,
    /// Sent by a [`Handler`] through [`Ctx::deliver`].
    Handler,
    /// An `outbind` on a connection the SMSC opened ([`Core::outbind`]).
    Outbind,
}

/// The SMSC's logic, driven by events and `now`: see the [module](self) documentation.
pub struct Core {
    pub(crate) config: SmscConfig,
    handler: Option<Box<dyn Handler>>,
    pub(crate) conns: HashMap<ConnId, Conn, foldhash::fast::RandomState>,
    next_id: u64,
    /// The seeded generator of [`SmscConfig::seed`].
    pub(crate) rng: rng::SplitMix64,
    pub(crate) messages: store::Messages,
    /// Broadcasts accepted by `broadcast_sm`, by id.
    pub(crate) broadcasts: HashMap<String, broadcast::Broadcast>,
    /// Receipts waiting for their time, by (time, order of scheduling).
    pub(crate) receipts: BTreeMap<(Instant, u64), DueReceipt>,
    receipt_seq: u64,
    submits: VecDeque<Instant>,
    next_tag: u64,
    /// Tag of each `deliver_sm` in flight: its connection, `system_id` and kind.
    in_flight: HashMap<u64, (ConnId, Option<String>, Sent), foldhash::fast::RandomState>,
    /// Responses waiting for their time, oldest first (the delay is the same for all).
    delayed: VecDeque<Delayed>,
    /// `submit_sm` received so far (for [`SmscConfig::drop_every`]).
    pub(crate) submit_sms: u64,
    /// Messages accepted by `submit_sm` or `data_sm` so far (for
    /// [`crate::MessageMatch::Every`]).
    pub(crate) accepted_messages: u64,
    /// When each of [`SmscConfig::mo_schedule`] fires next.
    mo_next: Vec<Instant>,
    /// The concatenation reference of the next segmented MO.
    mo_reference: u16,
    /// Times of the recent failed binds of each peer IP address.
    failed_binds: HashMap<IpAddr, VecDeque<Instant>>,
    stats: Stats,
    stats_changed: bool,
    out: VecDeque<Output>,
    /// `now` of the current call.
    pub(crate) now: Instant,
    /// A wall-clock time and the `now` it was read at: wall-clock times (records, receipt
    /// dates) are worked out from `now`, never read.
    wall: (Instant, SystemTime),
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("connections", &self.conns.len())
            .field("messages", &self.messages.len())
            .field("receipts", &self.receipts.len())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// A core with the built-in behaviour; `now` and `wall` are the same moment on the
    /// monotonic and the wall clock (wall-clock times are worked out from `now` after it).
    pub fn new(config: SmscConfig, now: Instant, wall: SystemTime) -> Core {
        let mo_next = config
            .mo_schedule
            .iter()
            .map(|m| now + m.every.max(Duration::from_millis(1)))
            .collect();
        Core {
            next_id: config.first_id,
            rng: rng::SplitMix64::new(config.seed),
            config,
            handler: None,
            conns: HashMap::default(),
            messages: store::Messages::default(),
            broadcasts: HashMap::new(),
            receipts: BTreeMap::new(),
            receipt_seq: 0,
            submits: VecDeque::new(),
            next_tag: 1,
            in_flight: HashMap::default(),
            delayed: VecDeque::new(),
            submit_sms: 0,
            accepted_messages: 0,
            mo_next,
            mo_reference: 0,
            failed_binds: HashMap::new(),
            stats: Stats::default(),
            stats_changed: false,
            out: VecDeque::new(),
            now,
            wall: (now, wall),
        }
    }

    /// A core whose binds and requests `handler` decides first (see [`Handler`]).
    pub fn with_handler(
        config: SmscConfig,
        handler: impl Handler,
        now: Instant,
        wall: SystemTime,
    ) -> Core {
        let mut core = Core::new(config, now, wall);
        core.handler = Some(Box::new(handler));
        core
    }

    pub(crate) fn with_boxed_handler(
        config: SmscConfig,
        handler: Box<dyn Handler>,
        now: Instant,
        wall: SystemTime,
    ) -> Core {
        let mut core = Core::new(config, now, wall);
        core.handler = Some(handler);
        core
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether the counters changed since the last call (for a driver that publishes them).
    pub fn take_stats_changed(&mut self) -> bool {
        std::mem::take(&mut self.stats_changed)
    }

    /// Connections it knows.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// The next thing to do, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Core::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let receipts = self.receipts.keys().next().map(|(t, _)| *t);
        let delayed = self.delayed.front().map(|d| d.at);
        let mo = self.mo_next.iter().copied().min();
        [receipts, delayed, mo].into_iter().flatten().min()
    }

    /// Runs what is due at `now`: delayed responses, scheduled MO messages, receipts.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.fire_delayed();
        self.fire_mo_schedule();
        self.fire_due_receipts();
    }

    /// A connection was accepted from `peer`.
    pub fn connected(&mut self, now: Instant, conn: ConnId, peer: SocketAddr) {
        self.now = self.now.max(now);
        debug!("accepted {conn} from {peer}");
        self.conns.insert(
            conn,
            Conn {
                id: conn,
                peer,
                system_id: None,
                kind: None,
                version: 0x34,
                pdus: 0,
                outstanding: 0,
                deferred: VecDeque::new(),
            },
        );
        self.count(|s| {
            s.connections += 1;
            s.open_connections += 1;
        });
    }

    /// The SMSC opened connection `conn` to an ESME at `peer` (which listens for it):
    /// sends `outbind` with this `system_id` and `password` (reference §12.6). The ESME's
    /// bind (as a receiver, or a transceiver in 5.0) then comes on `conn` and is served as
    /// any bind: the accounts, the lockout and the handler decide it, and once bound the
    /// connection gets receipts and MO messages like an accepted one.
    pub fn outbind(
        &mut self,
        now: Instant,
        conn: ConnId,
        peer: SocketAddr,
        system_id: &str,
        password: &str,
    ) {
        self.connected(now, conn, peer);
        info!("connection {conn}: outbind to {peer} as {system_id:?}");
        let body = Body::from(smpp_pdu::Outbind {
            system_id: system_id.to_string().into(),
            password: password.to_string().into(),
            tlvs: Vec::new(),
        });
        self.send_request(conn, body, Sent::Outbind);
    }

    /// An event of connection `conn`.
    pub fn on_event(&mut self, now: Instant, conn: ConnId, ev: ConnEvent) {
        self.now = self.now.max(now);
        if !self.conns.contains_key(&conn) {
            debug!("event for unknown connection {conn}: {ev:?}");
            return;
        }
        match ev {
            ConnEvent::Session(Event::BindRequested {
                sequence_number,
                pdu,
            }) => {
                self.on_bind(conn, sequence_number, pdu);
                self.check_faults(conn);
            }
            ConnEvent::Session(Event::Bound { kind, .. }) => {
                debug!("connection {conn} bound as {kind:?}");
            }
            ConnEvent::Session(Event::Request {
                sequence_number,
                pdu,
            }) => {
                // Recorded before its answers (the record is the first output), and the
                // PDU moved into it once served: no copy of each request.
                let at = self.record_pdu(conn, &pdu, false);
                self.on_request(conn, sequence_number, &pdu);
                if let Some(Output::Record(r)) = at.and_then(|i| self.out.get_mut(i)) {
                    r.pdu = Some(pdu);
                }
                self.check_faults(conn);
            }
            ConnEvent::Session(Event::Notification { pdu }) => {
                self.record_pdu(conn, &pdu, true);
                self.check_faults(conn);
            }
            ConnEvent::Session(Event::Rejected {
                sequence_number,
                command_id,
                status,
            }) => {
                debug!("connection {conn}: the session rejected {command_id:?} with {status:?}");
                self.record(conn, None, command_id, sequence_number, status);
                self.check_faults(conn);
            }
            ConnEvent::Session(Event::Unbound) => {
                self.record(conn, None, CommandId::UNBIND, 0, CommandStatus::ESME_ROK);
                self.check_faults(conn);
                let was_bound = self.conns.get_mut(&conn).and_then(|c| c.kind.take());
                if was_bound.is_some() {
                    self.count(|s| {
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
                self.record(conn, None, command_id, sequence_number, status);
                self.check_faults(conn);
            }
            ConnEvent::ResponseRefused {
                sequence_number,
                error,
            } => warn!("connection {conn}: response to {sequence_number} refused: {error:?}"),
            ConnEvent::Closed(why) => {
                debug!("connection {conn} closed: {why:?}");
                self.closed(conn);
            }
            other => debug!("connection {conn}: {other:?}"),
        }
    }

    /// The connection is gone (its events channel ended, or it closed).
    pub fn closed(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let bound = c.kind.is_some();
        // What was held back for it cannot go any more.
        let lost = c.deferred.len() as u64;
        if lost > 0 {
            warn!("connection {conn} closed with {lost} requests held back");
        }
        self.count(|s| {
            s.delivers_failed += lost;
            s.open_connections = s.open_connections.saturating_sub(1);
            if bound {
                s.bound = s.bound.saturating_sub(1);
            }
        });
    }

    /// The outcome of a request sent with [`Output::Request`].
    pub fn on_completed(&mut self, now: Instant, tag: u64, outcome: Outcome) {
        self.now = self.now.max(now);
        let Some((conn, system_id, kind)) = self.in_flight.remove(&tag) else {
            return;
        };
        self.completed_on(conn);
        if kind == Sent::Outbind {
            // No response: `Sent` once it is queued, or why it could not be.
            match outcome {
                Outcome::Sent => debug!("connection {conn}: outbind sent"),
                other => warn!("connection {conn}: outbind not sent: {other:?}"),
            }
            return;
        }
        match outcome {
            Outcome::Response(pdu) => {
                let ok = pdu.command_status.is_ok();
                let (id, seq, status) = (pdu.command_id(), pdu.sequence_number, pdu.command_status);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.pdus += 1;
                }
                self.push_record(conn, system_id, Some(pdu), id, seq, status);
                self.check_faults(conn);
                self.count(|s| {
                    if ok {
                        s.delivers_acked += 1;
                    } else {
                        s.delivers_failed += 1;
                    }
                });
            }
            other => {
                debug!("{kind:?} deliver_sm on connection {conn}: {other:?}");
                self.count(|s| s.delivers_failed += 1);
            }
        }
    }

    /// Sends an MO message to a receiving session of `system_id` (split or in
    /// `message_payload` as [`SmscConfig::mo_split`] says).
    pub fn inject_mo(
        &mut self,
        now: Instant,
        system_id: &str,
        from: &str,
        to: &str,
        text: &str,
    ) -> Result<()> {
        self.now = self.now.max(now);
        self.mo_reference = self.mo_reference.wrapping_add(1);
        let pdus = mo_pdus(from, to, text, self.config.mo_split, self.mo_reference)?;
        let conn = self
            .receiver_of(system_id, None)
            .ok_or_else(|| SmscError::NoReceiver(system_id.to_string()))?;
        for d in pdus {
            self.send_request(conn, Body::from(d), Sent::Mo);
        }
        Ok(())
    }

    /// A receiving session of `system_id`: `prefer` if it receives, else the one with the
    /// lowest id (so the choice is the same every time).
    pub(crate) fn receiver_of(&self, system_id: &str, prefer: Option<ConnId>) -> Option<ConnId> {
        if let Some(p) = prefer {
            if self.conns.get(&p).is_some_and(Conn::can_receive) {
                return Some(p);
            }
        }
        self.conns
            .values()
            .filter(|c| c.can_receive() && c.system_id.as_deref() == Some(system_id))
            .map(|c| c.id)
            .min()
    }

    /// Wall-clock time at `now`.
    pub(crate) fn wall_now(&self) -> SystemTime {
        self.wall.1 + self.now.saturating_duration_since(self.wall.0)
    }

    pub(crate) fn count(&mut self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats);
        self.stats_changed = true;
    }

    /// Records `pdu` (a copy of it with `copy`, else without it, for the caller to move
    /// in); the record's place in the outputs.
    fn record_pdu(&mut self, conn: ConnId, pdu: &Pdu<'static>, copy: bool) -> Option<usize> {
        self.record(
            conn,
            copy.then(|| pdu.clone()),
            pdu.command_id(),
            pdu.sequence_number,
            pdu.command_status,
        );
        self.out.len().checked_sub(1)
    }

    fn record(
        &mut self,
        conn: ConnId,
        pdu: Option<Pdu<'static>>,
        id: CommandId,
        seq: u32,
        status: CommandStatus,
    ) {
        let system_id = match self.conns.get_mut(&conn) {
            Some(c) => {
                c.pdus += 1;
                c.system_id.clone()
            }
            None => None,
        };
        self.push_record(conn, system_id, pdu, id, seq, status);
    }

    fn push_record(
        &mut self,
        conn: ConnId,
        system_id: Option<String>,
        pdu: Option<Pdu<'static>>,
        id: CommandId,
        seq: u32,
        status: CommandStatus,
    ) {
        let rec = Record {
            at: self.wall_now(),
            conn,
            system_id,
            command_id: id,
            sequence_number: seq,
            command_status: status,
            pdu,
        };
        self.out.push_back(Output::Record(rec));
        self.count(|s| s.received += 1);
    }

    /// The next message number and its id.
    pub(crate) fn new_id(&mut self) -> (u64, String) {
        let n = self.next_id;
        self.next_id += 1;
        (n, self.config.id_format.format_seeded(n, self.config.seed))
    }

    /// Whether a submit now is above the rate cap (and counts it if not).
    pub(crate) fn throttled(&mut self) -> bool {
        let Some(cap) = self.config.max_submits_per_second else {
            return false;
        };
        let now = self.now;
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

    pub(crate) fn remember(&mut self, id: &str, m: Message) {
        self.messages.remember(self.config.max_messages, id, m);
    }

    /// Schedules a receipt.
    pub(crate) fn schedule_receipt(&mut self, r: DueReceipt) {
        self.receipt_seq += 1;
        self.receipts.insert((r.at, self.receipt_seq), r);
    }

    fn on_bind(&mut self, conn: ConnId, seq: u32, pdu: Pdu<'static>) {
        let (system_id, password, version) = match &pdu.body {
            Body::BindTransmitter(b) => (
                b.system_id.to_str_lossy(),
                b.password.expose(),
                b.interface_version,
            ),
            Body::BindReceiver(b) => (
                b.system_id.to_str_lossy(),
                b.password.expose(),
                b.interface_version,
            ),
            Body::BindTransceiver(b) => (
                b.system_id.to_str_lossy(),
                b.password.expose(),
                b.interface_version,
            ),
            _ => (Default::default(), &[][..], 0x34),
        };
        let system_id = system_id.into_owned();
        let password = password.to_vec();
        let kind = bind_kind(pdu.command_id());
        let Some(peer) = self.conns.get(&conn).map(|c| c.peer) else {
            return;
        };
        let ip = peer.ip();
        let locked_out = self.locked_out(ip);
        let builtin = |core: &Core| match (kind, core.config.users.is_empty()) {
            (None, _) => CommandStatus::ESME_RBINDFAIL,
            (Some(_), true) => CommandStatus::ESME_ROK,
            (Some(kind), false) => {
                match core.config.users.iter().find(|u| u.system_id == system_id) {
                    None => CommandStatus::ESME_RINVSYSID,
                    Some(u) if u.password.as_bytes() != password => CommandStatus::ESME_RINVPASWD,
                    Some(u) if !u.bind_kinds.contains(&kind) => CommandStatus::ESME_RBINDFAIL,
                    Some(u) => {
                        let bound = core
                            .conns
                            .values()
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
        let status = if locked_out {
            CommandStatus::ESME_RBINDFAIL
        } else {
            match (self.handler.take(), kind) {
                (Some(mut h), Some(kind)) => {
                    let info = BindInfo {
                        conn,
                        peer,
                        kind,
                        system_id: &system_id,
                        password: &password,
                        interface_version: version,
                    };
                    let verdict = h.bind(&info, &mut Ctx::new(self));
                    self.handler = Some(h);
                    match verdict {
                        Verdict::Builtin => builtin(self),
                        Verdict::Accept => CommandStatus::ESME_ROK,
                        Verdict::Reject(s) => s,
                        // A bind must be answered: an unanswered one is refused.
                        Verdict::Respond(..) | Verdict::Ignore => CommandStatus::ESME_RBINDFAIL,
                    }
                }
                (h, _) => {
                    self.handler = h;
                    builtin(self)
                }
            }
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.system_id = Some(system_id.clone());
            c.version = version;
        }
        self.record_pdu(conn, &pdu, true);
        if status.is_ok() {
            info!("connection {conn}: bind {kind:?} of {system_id:?} accepted");
            // Marked bound now: the ESME may see its bind_resp, and ask for an MO, before
            // the session's `Bound` event reaches us.
            if let Some(c) = self.conns.get_mut(&conn) {
                c.kind = kind;
            }
            // Counted before the answer goes out, so whoever sees the answer sees the count.
            self.count(|s| {
                s.binds += 1;
                s.bound += 1;
            });
            let out = Output::AcceptBind {
                conn,
                sequence_number: seq,
                system_id: self.config.system_id.clone(),
            };
            self.answer(out);
        } else if locked_out {
            warn!(
                "connection {conn}: bind of {system_id:?} refused: {} failed binds from {ip} \
                 within {:?}; closing",
                self.config.max_failed_binds, self.config.failed_bind_window
            );
            self.count(|s| {
                s.bind_rejects += 1;
                s.bind_lockouts += 1;
            });
            // Answered at once (never delayed) so the close cannot overtake it.
            self.out.push_back(Output::RejectBind {
                conn,
                sequence_number: seq,
                status,
            });
            self.out.push_back(Output::Close { conn });
        } else {
            info!("connection {conn}: bind of {system_id:?} refused: {status:?}");
            self.count(|s| s.bind_rejects += 1);
            self.note_failed_bind(ip);
            self.answer(Output::RejectBind {
                conn,
                sequence_number: seq,
                status,
            });
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
        let now = self.now;
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
        let now = self.now;
        let times = self.failed_binds.entry(ip).or_default();
        if times.len() >= max {
            times.pop_front();
        }
        times.push_back(now);
    }

    pub(crate) fn respond(
        &mut self,
        conn: ConnId,
        seq: u32,
        status: CommandStatus,
        body: impl Into<Body<'static>>,
    ) {
        self.answer(Output::Respond {
            conn,
            sequence_number: seq,
            status,
            body: body.into(),
        });
    }

    /// Answers now, or queues the answer when responses are delayed.
    fn answer(&mut self, output: Output) {
        if self.config.response_delay.is_zero() {
            self.out.push_back(output);
        } else {
            self.delayed.push_back(Delayed {
                at: self.now + self.config.response_delay,
                output,
            });
        }
    }

    /// Sends the delayed responses whose time has come (dropped if the connection is gone).
    fn fire_delayed(&mut self) {
        while self.delayed.front().is_some_and(|d| d.at <= self.now) {
            let Some(d) = self.delayed.pop_front() else {
                break;
            };
            let conn = match &d.output {
                Output::Respond { conn, .. }
                | Output::AcceptBind { conn, .. }
                | Output::RejectBind { conn, .. } => *conn,
                _ => continue,
            };
            if self.conns.contains_key(&conn) {
                self.out.push_back(d.output);
            } else {
                debug!("delayed response for closed connection {conn} dropped");
            }
        }
    }

    /// Closes or sends garbage to a connection that reached its PDU count.
    fn check_faults(&mut self, conn: ConnId) {
        if self.config.close_after.is_none() && self.config.garbage_after.is_none() {
            return;
        }
        let Some(pdus) = self.conns.get(&conn).map(|c| c.pdus) else {
            return;
        };
        if self.config.garbage_after == Some(pdus) {
            info!("connection {conn}: fault injection: garbage after {pdus} PDUs");
            self.out.push_back(Output::SendRaw {
                conn,
                bytes: crate::GARBAGE.to_vec(),
            });
            self.count(|s| s.garbage_sent += 1);
        }
        if self.config.close_after == Some(pdus) {
            info!("connection {conn}: fault injection: closed after {pdus} PDUs");
            self.out.push_back(Output::Close { conn });
            self.count(|s| s.fault_closes += 1);
        }
    }

    /// Sends the scheduled MO messages that are due, to every receiving session of their
    /// `system_id`.
    fn fire_mo_schedule(&mut self) {
        let now = self.now;
        for i in 0..self.mo_next.len() {
            if self.mo_next[i] > now {
                continue;
            }
            let m = self.config.mo_schedule[i].clone();
            let every = m.every.max(Duration::from_millis(1));
            // No burst to catch up after a stall: the next tick is at least `every` away.
            self.mo_next[i] = (self.mo_next[i] + every).max(now + every / 2);
            let mut targets: Vec<ConnId> = self
                .conns
                .values()
                .filter(|c| c.can_receive() && c.system_id.as_deref() == Some(&*m.system_id))
                .map(|c| c.id)
                .collect();
            targets.sort_unstable();
            if targets.is_empty() {
                debug!("scheduled MO: no receiver of {:?}", m.system_id);
            }
            for conn in targets {
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
                            self.send_request(conn, Body::from(d), Sent::Mo);
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

    /// Sends a request to `conn` (its outcome comes to [`Core::on_completed`]).
    pub(crate) fn send_request(&mut self, conn: ConnId, body: Body<'static>, kind: Sent) {
        let body = match body {
            Body::DeliverSm(d) if self.config.deliver_as_data_sm && kind != Sent::Handler => {
                Body::from(data_sm_of(d))
            }
            other => other,
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            if c.outstanding >= MAX_OUTSTANDING || !c.deferred.is_empty() {
                if c.deferred.len() >= MAX_DEFERRED {
                    warn!("connection {conn}: {MAX_DEFERRED} requests held back; dropping one");
                    self.count(|s| s.delivers_failed += 1);
                    return;
                }
                c.deferred.push_back((body, kind));
                return;
            }
        }
        self.send_now(conn, body, kind);
    }

    /// Hands a request to the transport, counted as outstanding on its connection.
    fn send_now(&mut self, conn: ConnId, body: Body<'static>, kind: Sent) {
        let tag = self.next_tag;
        self.next_tag += 1;
        let system_id = match self.conns.get_mut(&conn) {
            Some(c) => {
                c.outstanding += 1;
                c.system_id.clone()
            }
            None => None,
        };
        self.in_flight.insert(tag, (conn, system_id, kind));
        self.count(|s| match kind {
            Sent::Receipt => s.receipts_sent += 1,
            Sent::Mo => s.mo_sent += 1,
            Sent::Intermediate => s.intermediates_sent += 1,
            Sent::Handler | Sent::Outbind => {}
        });
        self.out.push_back(Output::Request { conn, tag, body });
    }

    /// A request on `conn` completed: the next held-back one goes.
    fn completed_on(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.outstanding = c.outstanding.saturating_sub(1);
        if c.outstanding < MAX_OUTSTANDING {
            if let Some((body, kind)) = c.deferred.pop_front() {
                self.send_now(conn, body, kind);
            }
        }
    }

    /// Answers a request the core does not serve.
    pub(crate) fn unsupported(&mut self, conn: ConnId, seq: u32, id: CommandId) {
        debug!("connection {conn}: unsupported {id:?}");
        match id.response().and_then(Body::empty) {
            Some(body) => self.respond(conn, seq, CommandStatus::ESME_RINVCMDID, body),
            None => self.respond(
                conn,
                seq,
                CommandStatus::ESME_RINVCMDID,
                GenericNack::default(),
            ),
        }
    }

    /// Handles a request: the handler first, then the built-in behaviour.
    fn on_request(&mut self, conn: ConnId, seq: u32, pdu: &Pdu<'static>) {
        if self.config.strict_tlvs {
            let malformed = pdu.body.tlvs().iter().find_map(|t| match t {
                Tlv::Other(raw) if raw.is_malformed_known_tag() => Some(raw.tag),
                _ => None,
            });
            let response = pdu.command_id().response().and_then(Body::empty);
            if let (Some(tag), Some(body)) = (malformed, response) {
                debug!("connection {conn}: {tag:?} has an invalid length");
                return self.respond(conn, seq, CommandStatus::ESME_RINVPARLEN, body);
            }
        }
        if let Some(mut h) = self.handler.take() {
            let verdict = {
                let Some(c) = self.conns.get(&conn) else {
                    self.handler = Some(h);
                    return;
                };
                let req = Request {
                    conn,
                    system_id: c.system_id.clone().unwrap_or_default(),
                    sequence_number: seq,
                    pdu,
                };
                h.request(&req, &mut Ctx::new(self))
            };
            self.handler = Some(h);
            match verdict {
                Verdict::Builtin => {}
                Verdict::Respond(status, body) => {
                    if status.is_ok() && is_submit(pdu.command_id()) {
                        self.count(|s| s.submits += 1);
                    }
                    return self.respond(conn, seq, status, body);
                }
                Verdict::Reject(status) => {
                    let body = pdu
                        .command_id()
                        .response()
                        .and_then(Body::empty)
                        .unwrap_or_else(|| GenericNack::default().into());
                    return self.respond(conn, seq, status, body);
                }
                Verdict::Accept => {
                    return self.unsupported(conn, seq, pdu.command_id());
                }
                Verdict::Ignore => return,
            }
        }
        self.builtin_request(conn, seq, pdu);
    }
}

/// Whether `id` is a request that carries a message (counted in [`Stats::submits`]).
fn is_submit(id: CommandId) -> bool {
    matches!(
        id,
        CommandId::SUBMIT_SM | CommandId::SUBMIT_MULTI | CommandId::DATA_SM
    )
}

fn bind_kind(id: CommandId) -> Option<BindKind> {
    match id {
        CommandId::BIND_TRANSMITTER => Some(BindKind::Transmitter),
        CommandId::BIND_RECEIVER => Some(BindKind::Receiver),
        CommandId::BIND_TRANSCEIVER => Some(BindKind::Transceiver),
        _ => None,
    }
}

/// The `data_sm` that carries what `d` says ([`SmscConfig::deliver_as_data_sm`]): the same
/// addresses, `esm_class`, `registered_delivery`, `data_coding` and TLVs (a receipt's
/// `receipted_message_id` and `message_state` among them), with `short_message` moved into
/// `message_payload` (`data_sm` has no `short_message`).
pub(crate) fn data_sm_of(d: DeliverSm<'static>) -> DataSm<'static> {
    let mut tlvs = d.tlvs;
    let has_payload = tlvs.iter().any(|t| matches!(t, Tlv::MessagePayload(_)));
    if !d.short_message.is_empty() && !has_payload {
        tlvs.push(Tlv::MessagePayload(
            d.short_message.as_bytes().to_vec().into(),
        ));
    }
    DataSm {
        service_type: d.service_type,
        source_addr_ton: d.source_addr_ton,
        source_addr_npi: d.source_addr_npi,
        source_addr: d.source_addr,
        dest_addr_ton: d.dest_addr_ton,
        dest_addr_npi: d.dest_addr_npi,
        destination_addr: d.destination_addr,
        esm_class: d.esm_class,
        registered_delivery: d.registered_delivery,
        data_coding: d.data_coding,
        tlvs,
    }
}

/// The `deliver_sm`s of an MO message: one (`message_payload` when long) with
/// [`SplitMethod::Payload`], else one per segment of the split.
pub(crate) fn mo_pdus(
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
    Ok(DeliverSm {
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
    })
}

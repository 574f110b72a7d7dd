//! Fault injection on 127.0.0.1: a scripted "evil" SMSC (a plain `std::net` socket) plays
//! misbehaviour against our ESME side, and a bad-input matrix sends it malformed PDUs.
//!
//! What must hold in every scenario:
//! - every request resolves exactly once (counted per tag on the transport's outcome
//!   channel, which would show a second outcome);
//! - nothing waits without bound: the session's timers (response, enquire_link) end
//!   what the peer leaves hanging;
//! - no thread or socket leaks: the `smpp-transport` and `smpp-client` threads and this
//!   process's open file descriptors are back to their count before the scenario;
//! - where the client has a reconnect backoff, it reconnects and rebinds, and new
//!   submits succeed.
//!
//! The scenarios share a lock, so the thread and descriptor counts of one are not
//! disturbed by another running in parallel.

mod common;

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{poll_until, threads_named, Knobs, Smsc};
use crossbeam_channel::Receiver;
use smpp_client::{Backoff, Client, ClientConfig, Error, UnbindOutcome};
use smpp_pdu::{Body, CommandId, CommandStatus as S, SubmitSm};
use smpp_session::{BindKind, BindRequest, CloseReason, Event, FailReason, UnexpectedReason};
use smpp_transport::{
    Completed, ConnEvent, Connection, Disconnect, Outcome, Transport, TransportHandle,
};

/// Upper bound for any one wait.
const WAIT: Duration = Duration::from_secs(10);

static SERIAL: Mutex<()> = Mutex::new(());

/// Serializes the scenarios and checks that each leaves no thread or socket behind.
struct LeakCheck {
    transports: usize,
    clients: usize,
    fds: usize,
    _serial: MutexGuard<'static, ()>,
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

impl LeakCheck {
    fn start() -> LeakCheck {
        let _ = env_logger::builder().is_test(true).try_init();
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        LeakCheck {
            transports: threads_named("smpp-transport"),
            clients: threads_named("smpp-client"),
            fds: open_fds(),
            _serial: serial,
        }
    }

    /// Call after everything of the scenario was dropped.
    fn finish(self) {
        let fds = |n: usize| {
            std::fs::read_dir("/proc/self/fd")
                .map(|d| {
                    d.filter_map(Result::ok)
                        .filter_map(|e| std::fs::read_link(e.path()).ok())
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
                .join(" ")
                + &format!(" (was {n})")
        };
        let settled = poll_until(WAIT, || {
            threads_named("smpp-transport") == self.transports
                && threads_named("smpp-client") == self.clients
                && open_fds() == self.fds
        });
        assert!(
            settled,
            "leak: transport threads {} -> {}, client threads {} -> {}, fds {} -> {}",
            self.transports,
            threads_named("smpp-transport"),
            self.clients,
            threads_named("smpp-client"),
            self.fds,
            fds(self.fds)
        );
    }
}

// ----- the evil peer's raw PDUs -----

fn pdu(id: CommandId, status: S, seq: u32, body: &[u8]) -> Vec<u8> {
    with_len(16 + body.len() as u32, id.0, status.0, seq, body)
}

fn with_len(len: u32, id: u32, status: u32, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(16 + body.len());
    for x in [len, id, status, seq] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

fn c(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// A `deliver_sm` body: addresses, `sm_length` as given, the text, then `tail` octets.
fn deliver_body(source_addr: &[u8], sm_length: u8, text: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut v = c("");
    v.extend_from_slice(&[1, 1]);
    v.extend_from_slice(source_addr);
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&c("12345"));
    v.extend_from_slice(&[0, 0, 0]);
    v.extend_from_slice(&c(""));
    v.extend_from_slice(&c(""));
    v.extend_from_slice(&[0, 0, 0, 0, sm_length]);
    v.extend_from_slice(text);
    v.extend_from_slice(tail);
    v
}

#[derive(Debug, PartialEq, Eq)]
enum Got {
    Pdu { id: CommandId, status: S, seq: u32 },
    Eof,
    Timeout,
}

/// A raw PDU read by the evil peer: header fields and body.
struct Raw {
    id: CommandId,
    status: S,
    seq: u32,
}

impl Raw {
    fn got(&self) -> Got {
        Got::Pdu {
            id: self.id,
            status: self.status,
            seq: self.seq,
        }
    }
}

fn read_full(s: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<(), Got> {
    let mut n = 0;
    while n < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Got::Timeout);
        }
        s.set_read_timeout(Some(left)).expect("timeout");
        match s.read(&mut buf[n..]) {
            Ok(0) => return Err(Got::Eof),
            Ok(k) => n += k,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(Got::Timeout)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err(Got::Eof),
        }
    }
    Ok(())
}

fn read_raw(s: &mut TcpStream, deadline: Instant) -> Result<Raw, Got> {
    let mut h = [0u8; 16];
    read_full(s, &mut h, deadline)?;
    let w = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let len = w(0) as usize;
    assert!(
        (16..=65_536).contains(&len),
        "ESME wrote command_length {len}"
    );
    let mut body = vec![0; len - 16];
    read_full(s, &mut body, deadline)?;
    Ok(Raw {
        id: CommandId(w(4)),
        status: S(w(8)),
        seq: w(12),
    })
}

fn read_pdu(s: &mut TcpStream, deadline: Instant) -> Got {
    match read_raw(s, deadline) {
        Ok(r) => r.got(),
        Err(g) => g,
    }
}

/// Reads PDUs until one that is not an `enquire_link` (answering those if `answer_el`).
fn next_request(s: &mut TcpStream, deadline: Instant, answer_el: bool) -> Raw {
    loop {
        let r = read_raw(s, deadline).unwrap_or_else(|g| panic!("evil peer read: {g:?}"));
        if r.id == CommandId::ENQUIRE_LINK {
            if answer_el {
                s.write_all(&pdu(CommandId::ENQUIRE_LINK_RESP, S::ESME_ROK, r.seq, &[]))
                    .expect("write");
            }
            continue;
        }
        return r;
    }
}

/// A listening evil SMSC.
struct Evil {
    listener: TcpListener,
}

impl Evil {
    fn new() -> Evil {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        Evil { listener }
    }

    fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("addr")
    }

    /// Accepts one connection within `WAIT`.
    fn accept(&self) -> TcpStream {
        let end = Instant::now() + WAIT;
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).expect("blocking");
                    s.set_nodelay(true).expect("nodelay");
                    return s;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < end => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => panic!("evil peer accept: {e}"),
            }
        }
    }

    /// Accepts a connection and answers its bind with `ESME_ROK`.
    fn accept_bound(&self) -> TcpStream {
        let mut s = self.accept();
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        assert!(
            matches!(
                r.id,
                CommandId::BIND_TRANSCEIVER
                    | CommandId::BIND_TRANSMITTER
                    | CommandId::BIND_RECEIVER
            ),
            "expected a bind, got {:?}",
            r.id
        );
        let resp = CommandId(r.id.0 | 0x8000_0000);
        s.write_all(&pdu(resp, S::ESME_ROK, r.seq, &c("evil")))
            .expect("write bind_resp");
        s
    }
}

fn submit_resp(seq: u32, id: &str) -> Vec<u8> {
    pdu(CommandId::SUBMIT_SM_RESP, S::ESME_ROK, seq, &c(id))
}

fn sm() -> Body<'static> {
    Body::from(SubmitSm {
        source_addr: "12345".into(),
        destination_addr: "447700900123".into(),
        short_message: b"fault".as_slice().into(),
        ..Default::default()
    })
}

// ----- an ESME straight on the transport, to count outcomes per tag -----

struct Esme {
    transport: TransportHandle,
    conn: Connection,
    done: Receiver<Completed>,
    done_tx: crossbeam_channel::Sender<Completed>,
}

impl Esme {
    /// Connects to `addr` and binds (the peer must answer the bind on another thread).
    fn bind(
        addr: SocketAddr,
        session: smpp_session::Config,
        transport: smpp_transport::Config,
    ) -> Esme {
        let t = Transport::spawn(transport).expect("transport");
        let conn = t.connect(addr, session).expect("connect");
        let (tx, rx) = crossbeam_channel::unbounded();
        conn.bind(
            BindRequest::new(BindKind::Transceiver, "esme", "pw"),
            0,
            &tx,
        )
        .expect("bind");
        match rx.recv_timeout(WAIT).expect("bind outcome").outcome {
            Outcome::Bound { .. } => {}
            o => panic!("bind: {o:?}"),
        }
        Esme {
            transport: t,
            conn,
            done: rx,
            done_tx: tx,
        }
    }

    fn submit(&self, tag: u64) {
        self.conn
            .request(sm(), tag, &self.done_tx)
            .expect("request");
    }

    /// Collects outcomes until `n` tags resolved (and a little longer, to catch a second
    /// outcome of any); panics if that takes longer than `WAIT`.
    fn outcomes(&self, n: usize) -> HashMap<u64, Vec<Outcome>> {
        let mut m: HashMap<u64, Vec<Outcome>> = HashMap::new();
        let end = Instant::now() + WAIT;
        while m.len() < n {
            let c = self
                .done
                .recv_deadline(end)
                .unwrap_or_else(|_| panic!("only {} of {n} requests resolved: {m:?}", m.len()));
            m.entry(c.tag).or_default().push(c.outcome);
        }
        while let Ok(c) = self.done.recv_timeout(Duration::from_millis(100)) {
            m.entry(c.tag).or_default().push(c.outcome);
        }
        for (tag, o) in &m {
            assert_eq!(
                o.len(),
                1,
                "request {tag} resolved {} times: {o:?}",
                o.len()
            );
        }
        m
    }

    /// Waits for the connection's `Closed` event; returns it and the events before it.
    fn closed(&self) -> (Disconnect, Vec<ConnEvent>) {
        let mut seen = Vec::new();
        let end = Instant::now() + WAIT;
        loop {
            match self.conn.events().recv_deadline(end) {
                Ok(ConnEvent::Closed(d)) => return (d, seen),
                Ok(e) => seen.push(e),
                Err(_) => panic!("no Closed event within {WAIT:?}; saw {seen:?}"),
            }
        }
    }

    fn stop(self) {
        drop(self.conn);
        self.transport.shutdown();
    }
}

fn fast_session() -> smpp_session::Config {
    smpp_session::Config::default()
        .response_timeout(Duration::from_millis(400))
        .enquire_link_interval(None)
        .unbind_timeout(Duration::from_millis(200))
}

fn fast_transport() -> smpp_transport::Config {
    smpp_transport::Config {
        linger: Duration::from_millis(200),
        ..Default::default()
    }
}

fn is_disconnected(o: &Outcome) -> bool {
    matches!(
        o,
        Outcome::Disconnected | Outcome::Failed(FailReason::Closed(_))
    )
}

// ----- scenarios -----

/// The peer closes in the middle of a response: every request in flight resolves once as
/// a disconnection; none is answered from the half PDU.
#[test]
fn peer_closes_mid_pdu() {
    let leaks = LeakCheck::start();
    let evil = Evil::new();
    let addr = evil.addr();
    let peer = std::thread::spawn(move || {
        let mut s = evil.accept_bound();
        let deadline = Instant::now() + WAIT;
        let first = next_request(&mut s, deadline, true);
        for _ in 1..5 {
            next_request(&mut s, deadline, true);
        }
        let resp = submit_resp(first.seq, "half");
        s.write_all(&resp[..resp.len() / 2]).expect("write");
        std::thread::sleep(Duration::from_millis(50));
        drop(s);
    });
    let esme = Esme::bind(addr, fast_session(), fast_transport());
    for tag in 1..=5 {
        esme.submit(tag);
    }
    let m = esme.outcomes(5);
    for (tag, o) in &m {
        assert!(is_disconnected(&o[0]), "request {tag}: {:?}", o[0]);
    }
    let (why, _) = esme.closed();
    assert_eq!(why, Disconnect::Session(CloseReason::PeerClosed));
    peer.join().expect("peer");
    esme.stop();
    leaks.finish();
}

/// The peer stops reading after the bind: our writes back up against the bounded write
/// buffer, further requests are refused by the bounded queue, every request resolves once,
/// and the unanswered enquire_link closes the session.
#[test]
fn peer_stops_reading() {
    let leaks = LeakCheck::start();
    let evil = Evil::new();
    let addr = evil.addr();
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let peer = std::thread::spawn(move || {
        let s = evil.accept_bound();
        // Never read again; keep the socket open until the test is done.
        let _ = stop_rx.recv_timeout(WAIT);
        drop(s);
    });
    let session = fast_session()
        .window(100_000)
        .response_timeout(Duration::from_secs(5))
        .enquire_link_interval(Some(Duration::from_millis(200)))
        .enquire_link_timeout(Duration::from_millis(300));
    let transport = smpp_transport::Config {
        write_high_water: 64 * 1024,
        max_write_buffer: 256 * 1024,
        max_queued_requests: 1_000,
        ..fast_transport()
    };
    let esme = Esme::bind(addr, session, transport);
    // Far more than the kernel's socket buffers, the write buffer and the queue hold:
    // 150,000 submits of ~60 octets = 9 MB; the window lets 100,000 of them (6 MB) go.
    let n = 150_000u64;
    for tag in 1..=n {
        esme.submit(tag);
    }
    let m = esme.outcomes(n as usize);
    let refused = m
        .values()
        .filter(|o| matches!(o[0], Outcome::Refused(smpp_session::SendError::WindowFull)))
        .count();
    let other: Vec<_> = m
        .values()
        .filter(|o| !matches!(o[0], Outcome::Refused(_)) && !is_disconnected(&o[0]))
        .take(3)
        .collect();
    assert!(refused > 0, "the bounded queue never refused a request");
    assert!(other.is_empty(), "unexpected outcomes: {other:?}");
    let (why, _) = esme.closed();
    assert_eq!(why, Disconnect::Session(CloseReason::EnquireLinkTimeout));
    let _ = stop_tx.send(());
    peer.join().expect("peer");
    esme.stop();
    leaks.finish();
}

/// The peer sends half a PDU and stalls: nothing is made of the half, the unanswered
/// enquire_link closes the session, and the request in flight resolves once.
#[test]
fn peer_sends_half_a_pdu_and_stalls() {
    let leaks = LeakCheck::start();
    let evil = Evil::new();
    let addr = evil.addr();
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let peer = std::thread::spawn(move || {
        let mut s = evil.accept_bound();
        let deliver = pdu(
            CommandId::DELIVER_SM,
            S::ESME_ROK,
            7,
            &deliver_body(&c("447700900123"), 2, b"hi", &[]),
        );
        s.write_all(&deliver[..10]).expect("write");
        // Stall: read (so our side is not blocked on writing) but never answer.
        s.set_read_timeout(Some(Duration::from_millis(20))).ok();
        let mut buf = [0u8; 4096];
        while stop_rx.try_recv().is_err() {
            if let Ok(0) = s.read(&mut buf) {
                break;
            }
        }
    });
    let session = fast_session()
        .response_timeout(Duration::from_secs(5))
        .enquire_link_interval(Some(Duration::from_millis(200)))
        .enquire_link_timeout(Duration::from_millis(300));
    let esme = Esme::bind(addr, session, fast_transport());
    esme.submit(1);
    let started = Instant::now();
    let m = esme.outcomes(1);
    assert!(is_disconnected(&m[&1][0]), "{:?}", m[&1]);
    let (why, events) = esme.closed();
    assert_eq!(why, Disconnect::Session(CloseReason::EnquireLinkTimeout));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ConnEvent::Session(Event::Request { .. }))),
        "the half deliver_sm was delivered: {events:?}"
    );
    let _ = stop_tx.send(());
    peer.join().expect("peer");
    esme.stop();
    leaks.finish();
}

/// Responses arrive out of order, duplicated, for an unknown sequence number, as a
/// generic_nack, and after the request timed out: each request resolves exactly once with
/// its own response (matched by sequence number, not by order), the others are reported
/// as unexpected, and the session keeps working.
#[test]
fn responses_late_out_of_order_duplicated_and_unknown() {
    let leaks = LeakCheck::start();
    let evil = Evil::new();
    let addr = evil.addr();
    let peer = std::thread::spawn(move || {
        let mut s = evil.accept_bound();
        let deadline = Instant::now() + WAIT;
        let seqs: Vec<u32> = (0..5)
            .map(|_| next_request(&mut s, deadline, true).seq)
            .collect();
        let mut out = Vec::new();
        out.extend(submit_resp(seqs[2], "id-3"));
        out.extend(submit_resp(seqs[0], "id-1"));
        out.extend(submit_resp(seqs[0], "id-1-again"));
        out.extend(submit_resp(0x7654_3210, "nobody"));
        out.extend(pdu(CommandId::GENERIC_NACK, S::ESME_RSYSERR, seqs[1], &[]));
        s.write_all(&out).expect("write");
        // seqs[3] is answered after its response timeout; seqs[4] never.
        std::thread::sleep(Duration::from_millis(1200));
        s.write_all(&submit_resp(seqs[3], "id-4-late"))
            .expect("write");
        // A sixth request after all that is answered normally.
        let sixth = next_request(&mut s, Instant::now() + WAIT, true);
        s.write_all(&submit_resp(sixth.seq, "id-6")).expect("write");
        let _ = next_request(&mut s, Instant::now() + WAIT, true); // unbind
    });
    let esme = Esme::bind(addr, fast_session(), fast_transport());
    for tag in 1..=5 {
        esme.submit(tag);
    }
    let m = esme.outcomes(5);
    let message_id = |o: &Outcome| match o {
        Outcome::Response(p) => match &p.body {
            Body::SubmitSmResp(r) => Some(r.message_id.to_str_lossy().into_owned()),
            _ => None,
        },
        _ => None,
    };
    assert_eq!(message_id(&m[&1][0]).as_deref(), Some("id-1"));
    assert_eq!(message_id(&m[&3][0]).as_deref(), Some("id-3"));
    match &m[&2][0] {
        Outcome::Response(p) => {
            assert_eq!(p.command_id(), CommandId::GENERIC_NACK);
            assert_eq!(p.command_status, S::ESME_RSYSERR);
        }
        o => panic!("request 2: {o:?}"),
    }
    assert_eq!(m[&4][0], Outcome::Timeout);
    assert_eq!(m[&5][0], Outcome::Timeout);
    // The unexpected ones are reported, not matched to anything.
    let mut unexpected = Vec::new();
    let end = Instant::now() + WAIT;
    while unexpected.len() < 3 {
        match esme.conn.events().recv_deadline(end) {
            Ok(ConnEvent::Session(Event::UnexpectedResponse { reason, .. })) => {
                unexpected.push(reason)
            }
            Ok(_) => {}
            Err(_) => panic!("unexpected responses reported: {unexpected:?}"),
        }
    }
    unexpected.sort_by_key(|r| *r == UnexpectedReason::Late);
    assert_eq!(
        unexpected,
        [
            UnexpectedReason::Unknown,
            UnexpectedReason::Unknown,
            UnexpectedReason::Late
        ]
    );
    esme.submit(6);
    let m = esme.outcomes(1);
    assert_eq!(message_id(&m[&6][0]).as_deref(), Some("id-6"));
    let (tx, rx) = crossbeam_channel::bounded(1);
    esme.conn.unbind(7, &tx).expect("unbind");
    let _ = rx.recv_timeout(WAIT).expect("unbind resolves");
    peer.join().expect("peer");
    esme.stop();
    leaks.finish();
}

/// The SMSC never answers enquire_link: the client declares the link dead, reconnects,
/// rebinds, and submits on the new connection.
#[test]
fn unanswered_enquire_link_reconnects_and_rebinds() {
    let leaks = LeakCheck::start();
    let evil = Evil::new();
    let addr = evil.addr();
    let (rebound_tx, rebound_rx) = crossbeam_channel::bounded::<()>(1);
    let peer = std::thread::spawn(move || {
        // First connection: bound, but enquire_link is never answered. Everything the
        // client sends on it until it gives up is collected.
        let mut s = evil.accept_bound();
        let mut first = Vec::new();
        while let Ok(r) = read_raw(&mut s, Instant::now() + WAIT) {
            first.push(r.id);
        }
        drop(s);
        // Second connection (the reconnect): a well-behaved SMSC.
        let mut s = evil.accept_bound();
        let _ = rebound_tx.send(());
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        assert_eq!(r.id, CommandId::SUBMIT_SM);
        s.write_all(&submit_resp(r.seq, "after-reconnect"))
            .expect("write");
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        assert_eq!(r.id, CommandId::UNBIND);
        s.write_all(&pdu(CommandId::UNBIND_RESP, S::ESME_ROK, r.seq, &[]))
            .expect("write");
        first
    });
    let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
        .enquire_link_interval(Some(Duration::from_millis(150)))
        .response_timeout(Duration::from_secs(2))
        .reconnect(Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            factor: 2.0,
            ..Backoff::default()
        });
    let mut cfg = cfg;
    cfg.session.enquire_link_timeout = Duration::from_millis(250);
    cfg.session.unbind_timeout = Duration::from_millis(200);
    let client = Client::connect(addr, cfg).expect("client binds");
    rebound_rx
        .recv_timeout(WAIT)
        .expect("the client reconnects and binds again");
    assert!(poll_until(WAIT, || client.is_connected()), "no reconnect");
    let sm = SubmitSm {
        destination_addr: "447700900123".into(),
        short_message: b"again".as_slice().into(),
        ..Default::default()
    };
    let r = client.submit(&sm).expect("submit after reconnect");
    assert_eq!(r.message_id.to_str_lossy(), "after-reconnect");
    client.unbind().expect("unbind");
    drop(client);
    let first = peer.join().expect("peer");
    assert!(
        !first.is_empty() && first.iter().all(|id| *id == CommandId::ENQUIRE_LINK),
        "the first connection saw {first:?}"
    );
    leaks.finish();
}

/// The peer closes mid-PDU under a client with reconnect: the request fails once as a
/// disconnection, the client rebinds on its own and the next submit succeeds.
#[test]
fn client_reconnects_after_a_close_mid_pdu() {
    let leaks = LeakCheck::start();
    let evil = Evil::new();
    let addr = evil.addr();
    let (rebound_tx, rebound_rx) = crossbeam_channel::bounded::<()>(1);
    let peer = std::thread::spawn(move || {
        let mut s = evil.accept_bound();
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        let resp = submit_resp(r.seq, "never-whole");
        s.write_all(&resp[..7]).expect("write");
        drop(s);
        let mut s = evil.accept_bound();
        let _ = rebound_tx.send(());
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        s.write_all(&submit_resp(r.seq, "second")).expect("write");
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        assert_eq!(r.id, CommandId::UNBIND);
        s.write_all(&pdu(CommandId::UNBIND_RESP, S::ESME_ROK, r.seq, &[]))
            .expect("write");
    });
    let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
        .enquire_link_interval(None)
        .response_timeout(Duration::from_secs(2))
        .reconnect(Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            factor: 2.0,
            ..Backoff::default()
        });
    let client = Client::connect(addr, cfg).expect("binds");
    let first = SubmitSm {
        destination_addr: "1".into(),
        ..Default::default()
    };
    match client.submit(&first) {
        Err(Error::Disconnected) => {}
        other => panic!("expected a disconnection, got {other:?}"),
    }
    // (`is_connected` may still show the old connection for a moment: wait for the peer
    // to see the new bind.)
    rebound_rx
        .recv_timeout(WAIT)
        .expect("the client reconnects and binds again");
    assert!(poll_until(WAIT, || client.is_connected()), "no reconnect");
    let r = client.submit(&first).expect("submit after reconnect");
    assert_eq!(r.message_id.to_str_lossy(), "second");
    client.unbind().expect("unbind");
    drop(client);
    peer.join().expect("peer");
    leaks.finish();
}

// ----- the bad-input matrix against our client -----

/// What our ESME must do with a row's octets.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Answer with this PDU and status (echoing the row's sequence number); keep serving.
    Answer(CommandId, S),
    /// Answer, then close the connection.
    AnswerClose(CommandId, S),
    /// `generic_nack` with this status, then close (framing lost).
    NackClose(S),
    /// No answer; keep serving.
    Silent,
}

const SEQ: u32 = 0x0000_0555;
const PROBE_SEQ: u32 = 0x0000_0666;

fn client_rows() -> Vec<(&'static str, Vec<u8>, Expect)> {
    use Expect::*;
    let deliver = |body: Vec<u8>| pdu(CommandId::DELIVER_SM, S::ESME_ROK, SEQ, &body);
    let good = deliver_body(&c("447700900123"), 2, b"hi", &[]);
    vec![
        (
            "command_length 8",
            with_len(8, 5, 0, SEQ, &[]),
            NackClose(S::ESME_RINVCMDLEN),
        ),
        (
            "command_length 1 GiB",
            with_len(1 << 30, 5, 0, SEQ, &[]),
            NackClose(S::ESME_RINVCMDLEN),
        ),
        (
            "unknown command_id",
            pdu(CommandId(0x0000_0123), S::ESME_ROK, SEQ, &[]),
            Answer(CommandId::GENERIC_NACK, S::ESME_RINVCMDID),
        ),
        (
            "deliver_sm: source_addr over 20 characters",
            deliver(deliver_body(&[b'7'; 30], 2, b"hi", &[])),
            Answer(CommandId::DELIVER_SM_RESP, S::ESME_RINVSRCADR),
        ),
        (
            "deliver_sm: sm_length past the end",
            deliver(deliver_body(&c("1"), 250, b"hi", &[])),
            Answer(CommandId::DELIVER_SM_RESP, S::ESME_RINVMSGLEN),
        ),
        (
            "deliver_sm: TLV length past the end",
            deliver(deliver_body(
                &c("1"),
                2,
                b"hi",
                &[0x04, 0x24, 0x00, 0x09, b'x'],
            )),
            Answer(CommandId::DELIVER_SM_RESP, S::ESME_RINVOPTPARSTREAM),
        ),
        (
            "deliver_sm: body cut short",
            deliver(good[..8].to_vec()),
            Answer(CommandId::DELIVER_SM_RESP, S::ESME_RINVCMDLEN),
        ),
        (
            "submit_sm sent to the ESME",
            pdu(CommandId::SUBMIT_SM, S::ESME_ROK, SEQ, &good),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVBNDSTS),
        ),
        (
            "bind_transceiver sent to the ESME",
            pdu(
                CommandId::BIND_TRANSCEIVER,
                S::ESME_ROK,
                SEQ,
                &[c("x"), c("y"), c(""), vec![0x34, 0, 0], c("")].concat(),
            ),
            Answer(CommandId::BIND_TRANSCEIVER_RESP, S::ESME_RINVBNDSTS),
        ),
        (
            "outbind while bound",
            pdu(
                CommandId::OUTBIND,
                S::ESME_ROK,
                SEQ,
                &[c("x"), c("y")].concat(),
            ),
            Answer(CommandId::GENERIC_NACK, S::ESME_RALYBND),
        ),
        (
            "submit_sm_resp for a request never sent",
            pdu(CommandId::SUBMIT_SM_RESP, S::ESME_ROK, SEQ, &c("x")),
            Silent,
        ),
        (
            "generic_nack for a request never sent",
            pdu(CommandId::GENERIC_NACK, S::ESME_RSYSERR, SEQ, &[]),
            Silent,
        ),
        (
            "control: a valid MO deliver_sm is acknowledged",
            deliver(good.clone()),
            Answer(CommandId::DELIVER_SM_RESP, S::ESME_ROK),
        ),
        (
            "control: unbind from the SMSC",
            pdu(CommandId::UNBIND, S::ESME_ROK, SEQ, &[]),
            AnswerClose(CommandId::UNBIND_RESP, S::ESME_ROK),
        ),
    ]
}

fn run_client_row(s: &mut TcpStream, bytes: &[u8], expect: Expect) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    s.write_all(bytes).map_err(|e| e.to_string())?;
    let probe = |s: &mut TcpStream| -> Result<(), String> {
        s.write_all(&pdu(CommandId::ENQUIRE_LINK, S::ESME_ROK, PROBE_SEQ, &[]))
            .map_err(|e| e.to_string())?;
        match read_pdu(s, deadline) {
            Got::Pdu {
                id: CommandId::ENQUIRE_LINK_RESP,
                status: S::ESME_ROK,
                seq: PROBE_SEQ,
            } => Ok(()),
            other => Err(format!(
                "expected the probe's enquire_link_resp, got {other:?}"
            )),
        }
    };
    match expect {
        Expect::Answer(id, status) | Expect::AnswerClose(id, status) => {
            let want = Got::Pdu {
                id,
                status,
                seq: SEQ,
            };
            let got = read_pdu(s, deadline);
            if got != want {
                return Err(format!("expected {want:?}, got {got:?}"));
            }
            if matches!(expect, Expect::AnswerClose(..)) {
                return match read_pdu(s, deadline) {
                    Got::Eof => Ok(()),
                    other => Err(format!("expected a close, got {other:?}")),
                };
            }
            probe(s)
        }
        Expect::NackClose(status) => {
            let want = Got::Pdu {
                id: CommandId::GENERIC_NACK,
                status,
                seq: SEQ,
            };
            let got = read_pdu(s, deadline);
            if got != want {
                return Err(format!("expected {want:?}, got {got:?}"));
            }
            match read_pdu(s, deadline) {
                Got::Eof => Ok(()),
                other => Err(format!("expected a close after the nack, got {other:?}")),
            }
        }
        Expect::Silent => probe(s),
    }
}

/// Each malformed PDU from the SMSC gets the specific answer (or close) the spec asks for,
/// and a second client on the same transport, bound to a well-behaved SMSC, keeps
/// submitting through all of it.
#[test]
fn bad_input_to_the_client() {
    let leaks = LeakCheck::start();
    let good = Smsc::start(Knobs::default());
    let transport = Transport::spawn(fast_transport()).expect("transport");
    let bystander = Client::connect_with(
        &transport,
        good.addr,
        ClientConfig::new(BindKind::Transceiver, "bystander", "pw"),
    )
    .expect("bystander binds");
    let rows = client_rows();
    let mut failures = Vec::new();
    for (name, bytes, expect) in &rows {
        let evil = Evil::new();
        let addr = evil.addr();
        let peer = std::thread::spawn(move || evil.accept_bound());
        let mut cfg =
            ClientConfig::new(BindKind::Transceiver, "esme", "pw").enquire_link_interval(None);
        cfg.session.unbind_timeout = Duration::from_millis(100);
        let client = Client::connect_with(&transport, addr, cfg).expect("client binds");
        let mut s = peer.join().expect("peer");
        if let Err(e) = run_client_row(&mut s, bytes, *expect) {
            failures.push(format!("{name}: {e}"));
        }
        drop(s);
        drop(client);
        let sm = common::sm("still here");
        if let Err(e) = bystander.submit(&sm) {
            failures.push(format!("after {name}: the bystander's submit failed: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    bystander.unbind().expect("unbind");
    drop(bystander);
    transport.shutdown();
    drop(transport);
    good.stop();
    leaks.finish();
}

/// An SMSC that answers the bind and the submit, sends a receipt, and then closes the
/// connection on our `unbind` without an `unbind_resp` (several real SMSCs do): the
/// session ended as asked, so `unbind` succeeds, says the peer closed, and counts it.
#[test]
fn unbind_answered_by_a_close_is_success() {
    let leaks = LeakCheck::start();
    let evil = Evil::new();
    let addr = evil.addr();
    let peer = std::thread::spawn(move || {
        let mut s = evil.accept_bound();
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        assert_eq!(r.id, CommandId::SUBMIT_SM);
        s.write_all(&submit_resp(r.seq, "closer")).expect("write");
        let receipt = deliver_body(&c("447700900123"), 0, &[], &[]);
        s.write_all(&pdu(CommandId::DELIVER_SM, S::ESME_ROK, 900, &receipt))
            .expect("write deliver_sm");
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        assert_eq!(r.id, CommandId::DELIVER_SM_RESP);
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        assert_eq!(r.id, CommandId::UNBIND);
        drop(s);
    });
    let mut cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
        .enquire_link_interval(None)
        .response_timeout(Duration::from_secs(2));
    cfg.session.unbind_timeout = Duration::from_secs(5);
    let client = Client::connect(addr, cfg).expect("binds");
    let r = client.submit(&SubmitSm {
        destination_addr: "447700900123".into(),
        short_message: b"hi".as_slice().into(),
        ..Default::default()
    });
    assert_eq!(r.expect("submit").message_id.to_str_lossy(), "closer");
    client.inbound().recv_timeout(WAIT).expect("the deliver_sm");
    let started = Instant::now();
    let outcome = client
        .unbind()
        .expect("a close after our unbind ends the session");
    assert_eq!(outcome, UnbindOutcome::ClosedByPeer);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "resolved by the close, not by the unbind timeout: {:?}",
        started.elapsed()
    );
    assert_eq!(client.stats().unbind_closed_by_peer, 1);
    assert!(!client.is_connected());
    peer.join().expect("peer");
    drop(client);
    leaks.finish();
}

/// A peer that closes before the work was done is still an error: the submit in flight
/// fails as a disconnection, and an unbind afterwards finds no session to end.
#[test]
fn a_close_before_the_response_is_still_an_error() {
    let leaks = LeakCheck::start();
    let evil = Evil::new();
    let addr = evil.addr();
    let peer = std::thread::spawn(move || {
        let mut s = evil.accept_bound();
        let r = next_request(&mut s, Instant::now() + WAIT, true);
        assert_eq!(r.id, CommandId::SUBMIT_SM);
        drop(s);
    });
    let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
        .enquire_link_interval(None)
        .response_timeout(Duration::from_secs(2));
    let client = Client::connect(addr, cfg).expect("binds");
    match client.submit(&SubmitSm {
        destination_addr: "447700900123".into(),
        ..Default::default()
    }) {
        Err(Error::Disconnected) => {}
        other => panic!("expected a disconnection, got {other:?}"),
    }
    assert!(poll_until(WAIT, || !client.is_connected()));
    assert_eq!(
        client.unbind().expect("nothing to unbind"),
        UnbindOutcome::NotConnected
    );
    assert_eq!(client.stats().unbind_closed_by_peer, 0);
    peer.join().expect("peer");
    drop(client);
    leaks.finish();
}

// ----- first connect, address lists -----

/// A port on 127.0.0.1 that nothing listens on now (bound, then released).
fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

fn answer_unbind(s: &mut TcpStream) {
    let r = next_request(s, Instant::now() + WAIT, true);
    assert_eq!(r.id, CommandId::UNBIND);
    s.write_all(&pdu(CommandId::UNBIND_RESP, S::ESME_ROK, r.seq, &[]))
        .expect("write unbind_resp");
}

fn quick_reconnect() -> Backoff {
    Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
        factor: 2.0,
        jitter: 0.2,
    }
}

/// With reconnect on, a first connect that finds nobody listening is retried under the
/// backoff: the SMSC comes up on the port a little later (a host-name entry, resolved on
/// every attempt) and the client binds to it.
#[test]
fn first_connect_is_retried_until_the_smsc_is_up() {
    let leaks = LeakCheck::start();
    let addr = closed_port();
    let peer = std::thread::spawn(move || {
        // Comes up after the client's first attempts were refused.
        std::thread::sleep(Duration::from_millis(300));
        let listener = TcpListener::bind(addr).expect("the reserved port is free again");
        listener.set_nonblocking(true).expect("nonblocking");
        let evil = Evil { listener };
        let mut s = evil.accept_bound();
        answer_unbind(&mut s);
    });
    let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
        .enquire_link_interval(None)
        .reconnect(quick_reconnect())
        .connect_attempts(40);
    let server = smpp_client::ServerAddr::Host(addr.to_string());
    let client = Client::connect_to([server], cfg).expect("binds once the SMSC is up");
    assert!(client.is_connected());
    assert_eq!(
        client.unbind().expect("unbind"),
        UnbindOutcome::Acknowledged
    );
    drop(client);
    peer.join().expect("peer");
    leaks.finish();
}

/// The retry of the first connect is bounded by `connect_attempts`; without reconnect the
/// first connect makes one round and fails at once.
#[test]
fn first_connect_gives_up_after_its_attempts() {
    let leaks = LeakCheck::start();
    let addr = closed_port();
    let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
        .reconnect(quick_reconnect())
        .connect_attempts(3);
    match Client::connect(addr, cfg) {
        Err(Error::Connect(_)) => {}
        other => panic!("expected a connect error, got {other:?}"),
    }
    let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw");
    match Client::connect(addr, cfg) {
        Err(Error::Connect(_)) => {}
        other => panic!("expected a connect error, got {other:?}"),
    }
    leaks.finish();
}

/// Several addresses are tried in turn: the first refuses, the second serves; after the
/// second drops the connection, the reconnect goes through the list again and binds to
/// the one that serves.
#[test]
fn address_list_fails_over_to_the_next_server() {
    let leaks = LeakCheck::start();
    let refused = closed_port();
    let evil = Evil::new();
    let serving = evil.addr();
    let (rebound_tx, rebound_rx) = crossbeam_channel::bounded::<()>(1);
    let peer = std::thread::spawn(move || {
        let s = evil.accept_bound();
        drop(s);
        let mut s = evil.accept_bound();
        let _ = rebound_tx.send(());
        answer_unbind(&mut s);
    });
    let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
        .enquire_link_interval(None)
        .reconnect(quick_reconnect());
    let client = Client::connect_to([refused, serving], cfg).expect("binds to the second");
    rebound_rx
        .recv_timeout(WAIT)
        .expect("reconnects through the list");
    assert!(poll_until(WAIT, || client.is_connected()), "no reconnect");
    assert_eq!(client.stats().reconnects, 1);
    assert_eq!(
        client.unbind().expect("unbind"),
        UnbindOutcome::Acknowledged
    );
    drop(client);
    peer.join().expect("peer");
    leaks.finish();
}

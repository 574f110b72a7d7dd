//! The transport itself over 127.0.0.1: many connections, garbage input, connect errors,
//! shutdown, and backpressure from an application that does not drain its events.
//!
//! Every wait is bounded (`recv_timeout`, read timeouts, deadlines).

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Select;
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    BindTransceiver, Body, CommandId, CommandStatus, DataSm, DataSmResp, Header, Pdu, SubmitSm,
    SubmitSmResp,
};
use smpp_session::{BindKind, BindRequest, CloseReason, Event};
use smpp_transport::{
    Completed, Config, ConnEvent, Connection, Disconnect, Listener, Outcome, Transport,
    TransportError, TransportHandle,
};

const WAIT: Duration = Duration::from_secs(10);

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn submit(text: &str) -> Body<'static> {
    Body::from(SubmitSm {
        source_addr: "1".into(),
        destination_addr: "2".into(),
        short_message: text.to_string().into(),
        ..Default::default()
    })
    .into_owned()
}

/// Answers one connection event as a permissive SMSC; `false` once the connection closed.
fn answer(conn: &Connection, ev: ConnEvent) -> bool {
    match ev {
        ConnEvent::Session(Event::BindRequested {
            sequence_number, ..
        }) => {
            conn.accept_bind(sequence_number, "smsc").unwrap();
        }
        ConnEvent::Session(Event::Request {
            sequence_number,
            pdu,
        }) => {
            let body = match pdu.body {
                Body::DataSm(_) => Body::from(DataSmResp {
                    message_id: format!("d{sequence_number}").into(),
                    tlvs: vec![],
                }),
                _ => Body::from(SubmitSmResp {
                    message_id: format!("{}-{sequence_number}", conn.id()).into(),
                    tlvs: vec![],
                }),
            };
            conn.respond(sequence_number, CommandStatus::ESME_ROK, body)
                .unwrap();
        }
        ConnEvent::Closed(_) => return false,
        _ => {}
    }
    true
}

/// Serves every connection of `listener` on one thread (a dynamic select over all of
/// them) until `stop` is set; returns how many connections it accepted.
fn serve_all(listener: Listener, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut conns: Vec<Connection> = Vec::new();
        let mut accepted = 0;
        while !stop.load(Ordering::SeqCst) {
            let mut sel = Select::new();
            sel.recv(listener.receiver());
            for c in &conns {
                sel.recv(c.events());
            }
            let Ok(op) = sel.select_timeout(Duration::from_millis(20)) else {
                continue;
            };
            let i = op.index();
            if i == 0 {
                if let Ok(c) = op.recv(listener.receiver()) {
                    accepted += 1;
                    conns.push(c);
                }
                continue;
            }
            let open = match op.recv(conns[i - 1].events()) {
                Ok(ev) => answer(&conns[i - 1], ev),
                Err(_) => false,
            };
            if !open {
                conns.swap_remove(i - 1);
            }
        }
        accepted
    })
}

/// A server answering every submit on its own transport, and a client transport with
/// `config` bound to it with `window`: the setup of the tests that push many requests.
struct Served {
    server: TransportHandle,
    stop: Arc<AtomicBool>,
    serving: std::thread::JoinHandle<usize>,
    client: TransportHandle,
    conn: Connection,
    reply: crossbeam_channel::Sender<Completed>,
    done: crossbeam_channel::Receiver<Completed>,
}

impl Served {
    fn start(config: Config, window: usize) -> Served {
        let server = Transport::spawn(Config::default()).unwrap();
        let listener = server
            .listen(any_port(), smpp_session::Config::default())
            .unwrap();
        let addr = listener.local_addr();
        let stop = Arc::new(AtomicBool::new(false));
        let serving = serve_all(listener, Arc::clone(&stop));
        let client = Transport::spawn(config).unwrap();
        let conn = client
            .connect(addr, smpp_session::Config::default().window(window))
            .unwrap();
        let (reply, done) = crossbeam_channel::unbounded::<Completed>();
        conn.bind(
            BindRequest::new(BindKind::Transceiver, "esme", "pw"),
            0,
            &reply,
        )
        .unwrap();
        assert!(matches!(
            done.recv_timeout(WAIT).unwrap().outcome,
            Outcome::Bound { .. }
        ));
        Served {
            server,
            stop,
            serving,
            client,
            conn,
            reply,
            done,
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.serving.join().unwrap();
        self.client.shutdown();
        self.server.shutdown();
    }
}

#[test]
fn two_hundred_connections_from_one_transport() {
    const CONNS: u64 = 200;
    const SUBMITS: u64 = 3;
    let server = Transport::spawn(Config::default()).unwrap();
    let listener = server
        .listen(any_port(), smpp_session::Config::default())
        .unwrap();
    let addr = listener.local_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let srv = serve_all(listener, Arc::clone(&stop));

    let client = Transport::spawn(Config::default()).unwrap();
    let rss_before = rss_kib();
    let started = Instant::now();
    let conns: Vec<Connection> = (0..CONNS)
        .map(|_| {
            client
                .connect(addr, smpp_session::Config::default())
                .unwrap()
        })
        .collect();
    // 400 sessions (both ends) with default settings: no large per-connection allocation.
    let grown = rss_kib().saturating_sub(rss_before);
    assert!(grown < 512 * 1024, "{CONNS} connections took {grown} KiB");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{CONNS} connects took {:?}",
        started.elapsed()
    );
    let ids: HashSet<u64> = conns.iter().map(Connection::id).collect();
    assert_eq!(ids.len(), CONNS as usize);

    // All binds at once, then all submits at once, on one reply channel.
    let (reply, done) = crossbeam_channel::unbounded::<Completed>();
    for (i, c) in conns.iter().enumerate() {
        c.bind(
            BindRequest::new(BindKind::Transceiver, format!("esme{i}"), "pw"),
            i as u64,
            &reply,
        )
        .unwrap();
    }
    let mut bound = HashSet::new();
    for _ in 0..CONNS {
        let c = done.recv_timeout(WAIT).expect("a bind answer");
        assert!(matches!(c.outcome, Outcome::Bound { .. }), "{c:?}");
        assert!(bound.insert(c.tag));
    }
    for (i, c) in conns.iter().enumerate() {
        for j in 0..SUBMITS {
            c.request(submit(&format!("{i}/{j}")), i as u64 * 100 + j, &reply)
                .unwrap();
        }
    }
    let mut tags = HashSet::new();
    for _ in 0..CONNS * SUBMITS {
        let c = done.recv_timeout(WAIT).expect("a submit answer");
        let Outcome::Response(p) = &c.outcome else {
            panic!("{c:?}")
        };
        assert_eq!(p.command_status, CommandStatus::ESME_ROK);
        assert!(tags.insert(c.tag), "tag {} resolved twice", c.tag);
    }
    for (i, c) in conns.iter().enumerate() {
        c.unbind(1_000_000 + i as u64, &reply).unwrap();
    }
    for _ in 0..CONNS {
        let c = done.recv_timeout(WAIT).expect("an unbind answer");
        assert_eq!(c.outcome, Outcome::Unbound, "{c:?}");
    }
    for c in &conns {
        let mut last = None;
        while let Ok(ev) = c.events().recv_timeout(WAIT) {
            last = Some(ev);
            if matches!(last, Some(ConnEvent::Closed(_))) {
                break;
            }
        }
        assert_eq!(
            last,
            Some(ConnEvent::Closed(Disconnect::Session(CloseReason::Unbound)))
        );
    }
    assert!(done.try_recv().is_err(), "nothing resolves twice");
    stop.store(true, Ordering::SeqCst);
    assert_eq!(srv.join().unwrap(), CONNS as usize);
    client.shutdown();
    server.shutdown();
}

/// This process's resident set size, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A deterministic pseudo-random byte source (xorshift).
fn garbage(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Reads PDUs from a raw socket until EOF or `deadline`; returns them and whether EOF came.
fn read_pdus(s: &mut TcpStream, deadline: Instant) -> (Vec<Pdu<'static>>, bool) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut eof = false;
    while Instant::now() < deadline {
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        match s.read(&mut chunk) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                eof = true;
                break;
            }
        }
    }
    let mut pdus = Vec::new();
    let mut pos = 0;
    while let Ok(Some((p, used))) = Pdu::decode(&buf[pos..]) {
        pdus.push(p.into_owned());
        pos += used;
    }
    (pdus, eof)
}

#[test]
fn garbage_gets_a_generic_nack_and_a_close_without_disturbing_others() {
    let server = Transport::spawn(Config::default()).unwrap();
    let listener = server
        .listen(any_port(), smpp_session::Config::default())
        .unwrap();
    let addr = listener.local_addr();

    // A well-behaved ESME, bound before the garbage arrives.
    let client = Transport::spawn(Config::default()).unwrap();
    let good = client
        .connect(addr, smpp_session::Config::default())
        .unwrap();
    let good_srv = listener
        .accept_timeout(WAIT)
        .unwrap()
        .expect("the good connection");
    let (reply, done) = crossbeam_channel::unbounded::<Completed>();
    good.bind(
        BindRequest::new(BindKind::Transceiver, "esme", "pw"),
        0,
        &reply,
    )
    .unwrap();
    let ev = good_srv.events().recv_timeout(WAIT).unwrap();
    assert!(answer(&good_srv, ev));
    assert!(matches!(
        done.recv_timeout(WAIT).unwrap().outcome,
        Outcome::Bound { .. }
    ));

    for (round, seed) in [0x9E37_79B9_7F4A_7C15u64, 0xDEAD_BEEF, 42]
        .into_iter()
        .enumerate()
    {
        let mut raw = TcpStream::connect(addr).unwrap();
        let bad_srv = listener
            .accept_timeout(WAIT)
            .unwrap()
            .expect("the raw connection");
        let mut bytes = garbage(seed, 4096);
        // An impossible command_length, so that framing is lost right away.
        bytes[..4].copy_from_slice(&(0xF000_0000u32 + round as u32).to_be_bytes());
        raw.write_all(&bytes).unwrap();
        let (pdus, eof) = read_pdus(&mut raw, Instant::now() + WAIT);
        assert!(eof, "the transport closed the connection");
        assert_eq!(pdus.len(), 1, "{pdus:?}");
        assert_eq!(pdus[0].command_id(), CommandId::GENERIC_NACK);
        assert_eq!(pdus[0].command_status, CommandStatus::ESME_RINVCMDLEN);
        // The application sees the framing error, then the close.
        let mut last = None;
        while let Ok(ev) = bad_srv.events().recv_timeout(WAIT) {
            let closed = matches!(ev, ConnEvent::Closed(_));
            last = Some(ev);
            if closed {
                break;
            }
        }
        assert!(
            matches!(
                last,
                Some(ConnEvent::Closed(Disconnect::Session(
                    CloseReason::Framing(_)
                )))
            ),
            "{last:?}"
        );

        // The good connection still works.
        good.request(
            submit(&format!("after garbage {round}")),
            1 + round as u64,
            &reply,
        )
        .unwrap();
        answer_next_request(&good_srv);
        let c = done.recv_timeout(WAIT).unwrap();
        assert!(
            matches!(c.outcome, Outcome::Response(ref p) if p.command_status.is_ok()),
            "{c:?}"
        );
    }

    // A well-framed PDU with an unknown command_id is nacked without a close.
    let mut raw = TcpStream::connect(addr).unwrap();
    let _bad_srv = listener
        .accept_timeout(WAIT)
        .unwrap()
        .expect("the raw connection");
    let mut unknown = Vec::new();
    unknown.extend_from_slice(&20u32.to_be_bytes());
    unknown.extend_from_slice(&0x0000_0777u32.to_be_bytes());
    unknown.extend_from_slice(&0u32.to_be_bytes());
    unknown.extend_from_slice(&7u32.to_be_bytes());
    unknown.extend_from_slice(&garbage(7, 4));
    raw.write_all(&unknown).unwrap();
    let (pdus, eof) = read_pdus(&mut raw, Instant::now() + Duration::from_millis(500));
    assert!(!eof, "an unknown command does not close the session");
    assert_eq!(pdus.len(), 1, "{pdus:?}");
    assert_eq!(pdus[0].command_id(), CommandId::GENERIC_NACK);
    assert_eq!(pdus[0].command_status, CommandStatus::ESME_RINVCMDID);
    assert_eq!(pdus[0].sequence_number, 7);

    client.shutdown();
    server.shutdown();
}

#[test]
fn connect_refused_and_connect_timeout() {
    let t = Transport::spawn(Config::default()).unwrap();
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let start = Instant::now();
    match t.connect(closed, smpp_session::Config::default()) {
        Err(TransportError::Io(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}")
        }
        other => panic!("expected refused, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(2));
    t.shutdown();

    // A connect that cannot complete in time: the deadline passes before the loop even
    // looks at the socket.
    let t = Transport::spawn(Config {
        connect_timeout: Duration::ZERO,
        ..Config::default()
    })
    .unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    match t.connect(l.local_addr().unwrap(), smpp_session::Config::default()) {
        Err(TransportError::ConnectTimeout) => {}
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    // The transport is still usable, and a shut-down transport refuses.
    t.shutdown();
    match t.connect(l.local_addr().unwrap(), smpp_session::Config::default()) {
        Err(TransportError::Shutdown) => {}
        other => panic!("expected Shutdown, got {other:?}"),
    }
}

#[test]
fn shutdown_resolves_everything_as_disconnected_and_closes_every_connection() {
    // An SMSC that binds but never answers submits.
    let server = Transport::spawn(Config::default()).unwrap();
    let listener = server
        .listen(any_port(), smpp_session::Config::default())
        .unwrap();
    let addr = listener.local_addr();

    let client = Transport::spawn(Config::default()).unwrap();
    let window = 4;
    let mut conns = Vec::new();
    let mut srv_conns = Vec::new();
    let (reply, done) = crossbeam_channel::unbounded::<Completed>();
    for _ in 0..3 {
        let c = client
            .connect(addr, smpp_session::Config::default().window(window))
            .unwrap();
        let s = listener.accept_timeout(WAIT).unwrap().expect("accepted");
        c.bind(
            BindRequest::new(BindKind::Transceiver, "esme", "pw"),
            0,
            &reply,
        )
        .unwrap();
        let ev = s.events().recv_timeout(WAIT).unwrap();
        assert!(answer(&s, ev));
        assert!(matches!(
            done.recv_timeout(WAIT).unwrap().outcome,
            Outcome::Bound { .. }
        ));
        conns.push(c);
        srv_conns.push(s);
    }
    // Fill each window and queue more behind it.
    let per_conn = 10u64;
    for (i, c) in conns.iter().enumerate() {
        for j in 0..per_conn {
            c.request(submit("never answered"), i as u64 * 100 + j, &reply)
                .unwrap();
        }
    }
    // Wait until the SMSC side saw every window's worth in flight.
    for s in &srv_conns {
        let mut seen = 0;
        while seen < window {
            match s.events().recv_timeout(WAIT).unwrap() {
                ConnEvent::Session(Event::Request { .. }) => seen += 1,
                ConnEvent::Session(Event::Bound { .. }) => {}
                other => panic!("{other:?}"),
            }
        }
    }
    let t = Instant::now();
    client.shutdown();
    assert!(t.elapsed() < Duration::from_secs(2));
    let mut resolved = HashSet::new();
    for _ in 0..conns.len() as u64 * per_conn {
        let c = done.recv_timeout(WAIT).expect("every request resolves");
        assert_eq!(c.outcome, Outcome::Disconnected, "tag {}", c.tag);
        assert!(resolved.insert(c.tag), "tag {} resolved twice", c.tag);
    }
    assert!(done.try_recv().is_err(), "nothing resolves twice");
    for c in &conns {
        let mut last = None;
        while let Ok(ev) = c.events().recv_timeout(WAIT) {
            last = Some(ev);
        }
        assert_eq!(last, Some(ConnEvent::Closed(Disconnect::Shutdown)));
    }
    // Requests after the shutdown are refused at once.
    assert!(matches!(
        conns[0].request(submit("late"), 999, &reply),
        Err(TransportError::Shutdown)
    ));

    // The SMSC side saw the peer go away; shutting it down closes its listener.
    for s in &srv_conns {
        let mut last = None;
        while let Ok(ev) = s.events().recv_timeout(WAIT) {
            let closed = matches!(ev, ConnEvent::Closed(_));
            last = Some(ev);
            if closed {
                break;
            }
        }
        assert_eq!(
            last,
            Some(ConnEvent::Closed(Disconnect::Session(
                CloseReason::PeerClosed
            )))
        );
    }
    // One more connection still open on the server when it shuts down.
    let extra = client_side_raw_bind(addr);
    let s = listener.accept_timeout(WAIT).unwrap().expect("accepted");
    let ev = s.events().recv_timeout(WAIT).unwrap();
    assert!(answer(&s, ev));
    server.shutdown();
    let mut last = None;
    while let Ok(ev) = s.events().recv_timeout(WAIT) {
        last = Some(ev);
    }
    assert_eq!(last, Some(ConnEvent::Closed(Disconnect::Shutdown)));
    assert!(listener.accept_timeout(Duration::from_millis(100)).is_err());
    drop(extra);
}

/// Reads one whole PDU from a raw socket (bounded by a read timeout).
fn read_one_pdu(s: &mut TcpStream) -> Pdu<'static> {
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = vec![0u8; 4];
    s.read_exact(&mut buf).unwrap();
    let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
    buf.resize(len, 0);
    s.read_exact(&mut buf[4..]).unwrap();
    let (pdu, _) = Pdu::decode(&buf).unwrap().expect("a whole PDU");
    pdu.into_owned()
}

/// Answers events of `conn` until it answered one request.
fn answer_next_request(conn: &Connection) {
    loop {
        let ev = conn.events().recv_timeout(WAIT).expect("an event");
        let request = matches!(ev, ConnEvent::Session(Event::Request { .. }));
        assert!(answer(conn, ev), "closed");
        if request {
            return;
        }
    }
}

/// A raw socket that sends a bind_transceiver.
fn client_side_raw_bind(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut out = Vec::new();
    Pdu::new(
        1,
        BindTransceiver {
            system_id: "raw".into(),
            password: "pw".into(),
            interface_version: 0x34,
            ..Default::default()
        },
    )
    .encode(&mut out)
    .unwrap();
    s.write_all(&out).unwrap();
    s
}

#[test]
fn an_application_that_does_not_drain_stops_reading_and_resumes() {
    const CAPACITY: usize = 8;
    const PAYLOAD: usize = 8 * 1024;
    const COUNT: usize = 6_000; // about 49 MB: far more than socket buffers hold
    let server = Transport::spawn(Config {
        event_capacity: CAPACITY,
        ..Config::default()
    })
    .unwrap();
    let listener = server
        .listen(
            any_port(),
            smpp_session::Config::default().max_inbound_pending(100_000),
        )
        .unwrap();
    let addr = listener.local_addr();

    // A raw ESME that binds, then writes data_sm PDUs as fast as the socket takes them.
    let mut raw = client_side_raw_bind(addr);
    let srv = listener.accept_timeout(WAIT).unwrap().expect("accepted");
    let ev = srv.events().recv_timeout(WAIT).unwrap();
    assert!(answer(&srv, ev));
    assert!(matches!(
        srv.events().recv_timeout(WAIT).unwrap(),
        ConnEvent::Session(Event::Bound { .. })
    ));
    let resp = read_one_pdu(&mut raw);
    assert_eq!(resp.command_id(), CommandId::BIND_TRANSCEIVER_RESP);

    let mut pdu = Vec::new();
    let written = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (stalled_tx, stalled) = crossbeam_channel::bounded::<usize>(1);
    let writer = {
        let mut w = raw.try_clone().unwrap();
        let (written, stop) = (Arc::clone(&written), Arc::clone(&stop));
        std::thread::spawn(move || {
            w.set_write_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut reported = false;
            for i in 0..COUNT {
                pdu.clear();
                Pdu::new(
                    i as u32 + 2,
                    DataSm {
                        source_addr: "1".into(),
                        destination_addr: "2".into(),
                        tlvs: vec![Tlv::MessagePayload(vec![b'x'; PAYLOAD].into())],
                        ..Default::default()
                    },
                )
                .encode(&mut pdu)
                .unwrap();
                let mut pos = 0;
                while pos < pdu.len() {
                    if stop.load(Ordering::SeqCst) {
                        return false;
                    }
                    match w.write(&pdu[pos..]) {
                        Ok(n) => {
                            pos += n;
                            written.fetch_add(n, Ordering::SeqCst);
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) =>
                        {
                            if !reported {
                                reported = true;
                                let _ = stalled_tx.send(written.load(Ordering::SeqCst));
                            }
                        }
                        Err(_) => return false,
                    }
                }
            }
            true
        })
    };
    // Read (and count) the responses so that the server's writes never block.
    let responses = Arc::new(AtomicUsize::new(0));
    let reader = {
        let mut r = raw.try_clone().unwrap();
        let (responses, stop) = (Arc::clone(&responses), Arc::clone(&stop));
        std::thread::spawn(move || {
            r.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 64 * 1024];
            while !stop.load(Ordering::SeqCst) {
                match r.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    Err(_) => continue,
                }
                let mut pos = 0;
                while let Ok(Some(h)) = Header::peek(&buf[pos..]) {
                    if buf.len() - pos < h.command_length as usize {
                        break;
                    }
                    if h.command_id == CommandId::DATA_SM_RESP {
                        responses.fetch_add(1, Ordering::SeqCst);
                    }
                    pos += h.command_length as usize;
                }
                buf.drain(..pos);
            }
        })
    };

    // The application does not drain: the writer stalls well before it wrote everything.
    stalled
        .recv_timeout(WAIT)
        .expect("the writer stalls while the application does not drain");
    // Under load a write may time out before the transport has actually paused: wait
    // (bounded) for the octets taken to level off.
    let total = COUNT * (PAYLOAD + 60);
    let level_by = Instant::now() + WAIT;
    let mut plateau = written.load(Ordering::SeqCst);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = written.load(Ordering::SeqCst);
        if now == plateau {
            break;
        }
        assert!(
            Instant::now() < level_by,
            "the writer never stalls for good"
        );
        plateau = now;
    }
    assert!(plateau < total / 2, "{plateau} of {total} octets taken");
    assert_eq!(
        srv.events().len(),
        CAPACITY,
        "the channel is full, nothing more"
    );
    // And stays stalled: the transport does not read on behind the application's back.
    std::thread::sleep(Duration::from_millis(300));
    let after = written.load(Ordering::SeqCst);
    assert!(
        after - plateau <= 64 * 1024,
        "{} octets taken while paused",
        after - plateau
    );
    assert_eq!(srv.events().len(), CAPACITY);

    // Drain and answer: traffic resumes and everything arrives.
    let mut requests = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while requests < COUNT {
        assert!(
            Instant::now() < deadline,
            "only {requests} of {COUNT} requests"
        );
        match srv.events().recv_timeout(WAIT) {
            Ok(ConnEvent::Session(Event::Request {
                sequence_number,
                pdu,
            })) => {
                assert_eq!(pdu.command_id(), CommandId::DATA_SM);
                requests += 1;
                srv.respond(
                    sequence_number,
                    CommandStatus::ESME_ROK,
                    Body::from(DataSmResp::default()),
                )
                .unwrap();
            }
            other => panic!("after {requests}: {other:?}"),
        }
    }
    assert!(writer.join().unwrap(), "the writer finished");
    let end = Instant::now() + WAIT;
    while responses.load(Ordering::SeqCst) < COUNT && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(responses.load(Ordering::SeqCst), COUNT);
    stop.store(true, Ordering::SeqCst);
    reader.join().unwrap();
    server.shutdown();
}

#[test]
fn a_closed_connection_whose_events_are_not_drained_does_not_stall_the_loop() {
    let server = Transport::spawn(Config {
        event_capacity: 4,
        linger: Duration::from_millis(50),
        ..Config::default()
    })
    .unwrap();
    let listener = server
        .listen(any_port(), smpp_session::Config::default())
        .unwrap();
    let addr = listener.local_addr();

    // A: a raw ESME that binds and floods submits; its application stops draining.
    let mut raw = client_side_raw_bind(addr);
    let a = listener.accept_timeout(WAIT).unwrap().expect("accepted");
    let ev = a.events().recv_timeout(WAIT).unwrap();
    assert!(answer(&a, ev));
    assert_eq!(
        read_one_pdu(&mut raw).command_id(),
        CommandId::BIND_TRANSCEIVER_RESP
    );
    let mut flood = Vec::new();
    for i in 0..50 {
        Pdu::new(
            i + 2,
            SubmitSm {
                source_addr: "1".into(),
                destination_addr: "2".into(),
                short_message: "flood".into(),
                ..Default::default()
            },
        )
        .encode(&mut flood)
        .unwrap();
    }
    raw.write_all(&flood).unwrap();
    // Wait until A's channel is full (Bound + 3 submits), then close A without draining.
    let end = Instant::now() + WAIT;
    while a.events().len() < 4 {
        assert!(Instant::now() < end, "A's events never filled up");
        std::thread::sleep(Duration::from_millis(5));
    }
    a.close();

    // B: an ordinary ESME on the same transport, bound after A's linger has passed.
    let client = Transport::spawn(Config::default()).unwrap();
    std::thread::sleep(Duration::from_millis(200)); // past A's linger (50 ms)
    let b = client
        .connect(addr, smpp_session::Config::default())
        .unwrap();
    let (reply, _done) = crossbeam_channel::unbounded::<Completed>();
    b.bind(
        BindRequest::new(BindKind::Transceiver, "esme", "pw"),
        0,
        &reply,
    )
    .unwrap();
    let b_srv = listener.accept_timeout(Duration::from_secs(3)).unwrap();
    let served = b_srv.map(|s| {
        let ev = s.events().recv_timeout(Duration::from_secs(3));
        (s, ev)
    });
    let ok = matches!(
        &served,
        Some((_, Ok(ConnEvent::Session(Event::BindRequested { .. }))))
    );
    if !ok {
        // Unblock the loop (dropping A's receiver) so that the test ends, then fail.
        drop(a);
        panic!("the loop stalled on A's undelivered events: {served:?}");
    }
    // A's last events are still delivered, in order, once its application drains them.
    let mut last = None;
    let mut requests = 0;
    while let Ok(ev) = a.events().recv_timeout(WAIT) {
        if matches!(ev, ConnEvent::Session(Event::Request { .. })) {
            requests += 1;
        }
        last = Some(ev);
    }
    assert!(requests >= 3, "{requests}");
    assert_eq!(
        last,
        Some(ConnEvent::Closed(Disconnect::Session(CloseReason::Local)))
    );
    drop(served);
    drop(raw);
    client.shutdown();
    server.shutdown();
}

#[test]
fn a_tiny_command_channel_applies_backpressure_without_losing_commands() {
    const N: u64 = 3000;
    let served = Served::start(
        Config {
            command_capacity: 2,
            ..Config::default()
        },
        32,
    );
    let (conn, reply, done) = (&served.conn, &served.reply, &served.done);
    // Two producers at once, each as fast as the channel lets it.
    std::thread::scope(|scope| {
        for p in 0..2u64 {
            let (conn, reply) = (&conn, reply.clone());
            scope.spawn(move || {
                for i in 0..N / 2 {
                    conn.request(submit("tiny"), p * N + i, &reply).unwrap();
                }
            });
        }
    });
    let mut tags = HashSet::new();
    for _ in 0..N {
        let c = done.recv_timeout(WAIT).expect("every request resolves");
        assert!(
            matches!(c.outcome, Outcome::Response(ref p) if p.command_status.is_ok()),
            "{c:?}"
        );
        assert!(tags.insert(c.tag));
    }
    served.stop();
}

#[test]
fn a_batch_of_requests_is_one_hand_over_and_each_resolves_once() {
    // A window smaller than the batch: the rest waits in the queue, in order.
    let served = Served::start(Config::default(), 16);
    let (conn, reply, done) = (&served.conn, &served.reply, &served.done);
    // Two reply channels in one batch: each outcome goes to its own.
    let (other, other_done) = crossbeam_channel::unbounded::<Completed>();
    let batch: Vec<_> = (1..=100u64)
        .map(|tag| {
            let to = if tag % 2 == 0 { reply } else { &other };
            (submit("batch"), tag, to.clone())
        })
        .collect();
    conn.request_batch(batch).unwrap();
    conn.request_batch(Vec::new()).unwrap();
    let mut even = Vec::new();
    let mut odd = Vec::new();
    for _ in 0..50 {
        let c = done
            .recv_timeout(WAIT)
            .expect("every even request resolves");
        assert!(matches!(c.outcome, Outcome::Response(ref p) if p.command_status.is_ok()));
        even.push(c.tag);
        let c = other_done
            .recv_timeout(WAIT)
            .expect("every odd request resolves");
        assert!(matches!(c.outcome, Outcome::Response(ref p) if p.command_status.is_ok()));
        odd.push(c.tag);
    }
    // Sent in order, answered in order by this server: each channel sees its tags in order.
    assert_eq!(even, (1..=50).map(|i| 2 * i).collect::<Vec<u64>>());
    assert_eq!(odd, (0..50).map(|i| 2 * i + 1).collect::<Vec<u64>>());
    assert!(done.try_recv().is_err() && other_done.try_recv().is_err());
    // On a closed connection every request of a batch is refused or disconnected, once.
    conn.close();
    let closed_batch: Vec<_> = (200..210u64)
        .map(|tag| (submit("late"), tag, reply.clone()))
        .collect();
    let _ = conn.request_batch(closed_batch);
    let mut late = HashSet::new();
    while late.len() < 10 {
        let c = done
            .recv_timeout(WAIT)
            .expect("every late request resolves");
        if c.tag >= 200 {
            assert!(
                matches!(c.outcome, Outcome::Disconnected | Outcome::Refused(_)),
                "{c:?}"
            );
            assert!(late.insert(c.tag), "resolved twice: {}", c.tag);
        }
    }
    assert_eq!(late.len(), 10);
    served.stop();
}

#[test]
fn send_raw_writes_octets_as_is_after_the_queued_pdus() {
    let server = Transport::spawn(Config::default()).unwrap();
    let listener = server
        .listen(any_port(), smpp_session::Config::default())
        .unwrap();
    let mut raw = client_side_raw_bind(listener.local_addr());
    raw.set_read_timeout(Some(WAIT)).unwrap();
    let srv = listener.accept_timeout(WAIT).unwrap().expect("accepted");
    let ev = srv.events().recv_timeout(WAIT).unwrap();
    let ConnEvent::Session(Event::BindRequested {
        sequence_number, ..
    }) = ev
    else {
        panic!("expected a bind, got {ev:?}");
    };
    // The bind_resp is queued, then the raw octets go out behind it.
    srv.accept_bind(sequence_number, "smsc").unwrap();
    srv.send_raw(vec![0xDE, 0xAD, 0xBE, 0xEF]).unwrap();
    let resp = read_one_pdu(&mut raw);
    assert_eq!(resp.command_id(), CommandId::BIND_TRANSCEIVER_RESP);
    let mut tail = [0u8; 4];
    raw.read_exact(&mut tail).unwrap();
    assert_eq!(tail, [0xDE, 0xAD, 0xBE, 0xEF]);
    server.shutdown();
}

#[test]
fn a_shared_listener_delivers_every_connections_events_on_one_channel() {
    const CONNS: usize = 50;
    let server = Transport::spawn(Config::default()).unwrap();
    let listener = server
        .listen_shared(any_port(), smpp_session::Config::default())
        .unwrap();
    let addr = listener.local_addr();
    let events = listener.events().expect("a shared channel").clone();
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    // One thread serves every connection from the one channel: no select over them.
    let srv = std::thread::spawn(move || {
        let mut conns: std::collections::HashMap<u64, Connection> = Default::default();
        let mut seen: HashSet<u64> = HashSet::new();
        while !s.load(Ordering::SeqCst) {
            while let Ok(Some(c)) = listener.try_accept() {
                // Its own channel stays silent.
                assert!(c.events().try_recv().is_err());
                conns.insert(c.id(), c);
            }
            let Ok((id, ev)) = events.recv_timeout(Duration::from_millis(20)) else {
                continue;
            };
            // An event may come before its connection was taken from the accept channel.
            while !conns.contains_key(&id) {
                let c = listener.accept_timeout(WAIT).unwrap().expect("accepted");
                conns.insert(c.id(), c);
            }
            seen.insert(id);
            answer(&conns[&id], ev);
        }
        seen.len()
    });
    let client = Transport::spawn(Config::default()).unwrap();
    let conns: Vec<Connection> = (0..CONNS)
        .map(|_| {
            client
                .connect(addr, smpp_session::Config::default())
                .unwrap()
        })
        .collect();
    let (reply, done) = crossbeam_channel::unbounded::<Completed>();
    for (i, c) in conns.iter().enumerate() {
        c.bind(
            BindRequest::new(BindKind::Transceiver, format!("esme{i}"), "pw"),
            i as u64,
            &reply,
        )
        .unwrap();
    }
    for _ in 0..CONNS {
        let c = done.recv_timeout(WAIT).expect("bound");
        assert!(
            matches!(c.outcome, Outcome::Bound { .. }),
            "{:?}",
            c.outcome
        );
    }
    for (i, c) in conns.iter().enumerate() {
        c.request(submit("hi"), i as u64, &reply).unwrap();
    }
    let mut ids = HashSet::new();
    for _ in 0..CONNS {
        let c = done.recv_timeout(WAIT).expect("answered");
        let Outcome::Response(p) = c.outcome else {
            panic!("{:?}", c.outcome)
        };
        let Body::SubmitSmResp(r) = p.body else {
            panic!("{:?}", p.body)
        };
        // The server answered on the connection the submit came on.
        ids.insert(
            r.message_id
                .to_str_lossy()
                .split('-')
                .next()
                .map(str::to_string),
        );
    }
    assert_eq!(ids.len(), CONNS);
    stop.store(true, Ordering::SeqCst);
    assert_eq!(srv.join().unwrap(), CONNS);
    client.shutdown();
    server.shutdown();
}

/// Binds `conn` as a transceiver (tag 1) and waits until it is bound; the reply channel
/// it used, for more requests.
fn bind_transceiver(
    conn: &Connection,
) -> (
    crossbeam_channel::Sender<Completed>,
    crossbeam_channel::Receiver<Completed>,
) {
    let (reply, done) = crossbeam_channel::unbounded();
    conn.bind(
        BindRequest::new(BindKind::Transceiver, "esme", "pw"),
        1,
        &reply,
    )
    .unwrap();
    let bound = done.recv_timeout(WAIT).unwrap();
    assert!(matches!(bound.outcome, Outcome::Bound { .. }), "{bound:?}");
    (reply, done)
}

/// For a raw SMSC: reads the ESME's bind and returns its encoded acceptance, to be written
/// with whatever the test puts after it.
fn bind_answer(s: &mut TcpStream) -> Vec<u8> {
    let bind = read_one_pdu(s);
    let mut out = Vec::new();
    Pdu::response(
        bind.sequence_number,
        CommandStatus::ESME_ROK,
        smpp_pdu::BindTransceiverResp {
            system_id: "raw".into(),
            ..Default::default()
        },
    )
    .encode(&mut out)
    .unwrap();
    out
}

#[test]
fn the_response_observer_sees_a_response_before_the_request_written_after_it() {
    // A raw SMSC answers the submit_sm and sends a deliver_sm in the same write: the
    // observer has seen the response (with its tag) by the time the deliver_sm is an event,
    // and the response still reaches its reply.
    let raw = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = raw.local_addr().unwrap();
    let smsc = std::thread::spawn(move || {
        let (mut s, _) = raw.accept().unwrap();
        let mut out = bind_answer(&mut s);
        s.write_all(&out).unwrap();
        let sm = read_one_pdu(&mut s);
        out.clear();
        Pdu::response(
            sm.sequence_number,
            CommandStatus::ESME_ROK,
            SubmitSmResp {
                message_id: "42".into(),
                tlvs: vec![],
            },
        )
        .encode(&mut out)
        .unwrap();
        Pdu::new(
            9,
            smpp_pdu::DeliverSm {
                short_message: "receipt".into(),
                ..Default::default()
            },
        )
        .encode(&mut out)
        .unwrap();
        s.write_all(&out).unwrap();
        // Held open until the test is done with the connection.
        let _ = s.read(&mut [0u8; 64]);
    });
    let transport = Transport::spawn(Config::default()).unwrap();
    let conn = transport
        .connect(addr, smpp_session::Config::default())
        .unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    conn.observe_responses(Arc::new(move |tag, pdu: &Pdu<'static>| {
        log.lock().unwrap().push((tag, pdu.command_id()));
    }))
    .unwrap();
    let (reply, done) = bind_transceiver(&conn);
    conn.request(submit("observed"), 7, &reply).unwrap();
    loop {
        match conn.events().recv_timeout(WAIT).expect("the deliver_sm") {
            ConnEvent::Session(Event::Request { pdu, .. }) => {
                assert_eq!(pdu.command_id(), CommandId::DELIVER_SM);
                break;
            }
            _ => continue,
        }
    }
    assert_eq!(
        *seen.lock().unwrap(),
        [(7, CommandId::SUBMIT_SM_RESP)],
        "seen before the request after it"
    );
    let c = done.recv_timeout(WAIT).unwrap();
    assert_eq!(c.tag, 7);
    assert!(
        matches!(c.outcome, Outcome::Response(ref p) if p.command_id() == CommandId::SUBMIT_SM_RESP)
    );
    conn.close();
    transport.shutdown();
    smsc.join().unwrap();
}

#[test]
fn a_batch_of_answers_goes_out_in_order_and_a_refused_one_is_reported() {
    // A raw SMSC sends three deliver_sm in one write; the ESME answers them, and one
    // sequence number that was never asked, in one respond_batch.
    let raw = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = raw.local_addr().unwrap();
    let smsc = std::thread::spawn(move || {
        let (mut s, _) = raw.accept().unwrap();
        let mut out = bind_answer(&mut s);
        for seq in [7, 8, 9] {
            Pdu::new(seq, smpp_pdu::DeliverSm::default())
                .encode(&mut out)
                .unwrap();
        }
        s.write_all(&out).unwrap();
        let answers: Vec<(u32, CommandStatus, CommandId)> = (0..3)
            .map(|_| {
                let p = read_one_pdu(&mut s);
                (p.sequence_number, p.command_status, p.command_id())
            })
            .collect();
        // Held open until the test is done with the connection.
        let _ = s.read(&mut [0u8; 64]);
        answers
    });
    let transport = Transport::spawn(Config::default()).unwrap();
    let conn = transport
        .connect(addr, smpp_session::Config::default())
        .unwrap();
    let _bound = bind_transceiver(&conn);
    let mut asked = Vec::new();
    while asked.len() < 3 {
        if let ConnEvent::Session(Event::Request {
            sequence_number, ..
        }) = conn.events().recv_timeout(WAIT).expect("a deliver_sm")
        {
            asked.push(sequence_number);
        }
    }
    assert_eq!(asked, [7, 8, 9]);
    let answer = || Body::from(smpp_pdu::DeliverSmResp::default());
    conn.respond_batch(vec![
        (7, CommandStatus::ESME_ROK, answer()),
        (99, CommandStatus::ESME_ROK, answer()),
        (8, CommandStatus::ESME_RX_T_APPN, answer()),
        (9, CommandStatus::ESME_ROK, answer()),
    ])
    .unwrap();
    loop {
        match conn.events().recv_timeout(WAIT).expect("the refusal") {
            ConnEvent::ResponseRefused {
                sequence_number, ..
            } => {
                assert_eq!(sequence_number, 99);
                break;
            }
            _ => continue,
        }
    }
    conn.close();
    let answers = smsc.join().unwrap();
    assert_eq!(
        answers,
        [
            (7, CommandStatus::ESME_ROK, CommandId::DELIVER_SM_RESP),
            (8, CommandStatus::ESME_RX_T_APPN, CommandId::DELIVER_SM_RESP),
            (9, CommandStatus::ESME_ROK, CommandId::DELIVER_SM_RESP),
        ]
    );
    transport.shutdown();
}

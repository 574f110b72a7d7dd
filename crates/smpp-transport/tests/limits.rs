//! The transport's resource bounds, each hit on purpose over 127.0.0.1: connections per
//! transport, sessions per listener, and the write buffer of a peer that stops reading (the
//! loop stops reading from it instead of buffering its answers without bound).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use smpp_transport::{Config, Listener, Transport, TransportError};

const WAIT: Duration = Duration::from_secs(10);

fn session() -> smpp_session::Config {
    smpp_session::Config::default().enquire_link_interval(None)
}

fn listen(t: &smpp_transport::TransportHandle) -> Listener {
    t.listen("127.0.0.1:0".parse().unwrap(), session())
        .expect("listen")
}

/// An `enquire_link` with this sequence number.
fn enquire_link(seq: u32) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[..4].copy_from_slice(&16u32.to_be_bytes());
    p[4..8].copy_from_slice(&0x15u32.to_be_bytes());
    p[12..].copy_from_slice(&seq.to_be_bytes());
    p
}

/// Whether the peer closed `s` (EOF or reset) within `WAIT`, reading and dropping anything
/// before.
fn closed_by_peer(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Sends an enquire_link and waits for its response: the connection is served.
fn served(s: &mut TcpStream, seq: u32) -> bool {
    s.set_read_timeout(Some(WAIT)).unwrap();
    if s.write_all(&enquire_link(seq)).is_err() {
        return false;
    }
    let mut r = [0u8; 16];
    s.read_exact(&mut r).is_ok()
        && r[4..8] == 0x8000_0015u32.to_be_bytes()
        && r[12..] == seq.to_be_bytes()
}

#[test]
fn connections_per_transport_are_bounded() {
    let server = Transport::spawn(Config::default()).unwrap();
    let listener = listen(&server);
    let client = Transport::spawn(Config {
        max_connections: 2,
        ..Config::default()
    })
    .unwrap();
    let a = client.connect(listener.local_addr(), session()).unwrap();
    let b = client.connect(listener.local_addr(), session()).unwrap();
    match client.connect(listener.local_addr(), session()) {
        Err(TransportError::TooManyConnections) => {}
        other => panic!("a third connection: {other:?}"),
    }
    drop(a);
    // The slot frees once the loop has dropped the connection.
    let end = Instant::now() + WAIT;
    let c = loop {
        match client.connect(listener.local_addr(), session()) {
            Ok(c) => break c,
            Err(TransportError::TooManyConnections) if Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("after a close: {e}"),
        }
    };
    drop((b, c));
    client.shutdown();
    server.shutdown();
}

#[test]
fn sessions_per_listener_are_bounded_per_listener() {
    let server = Transport::spawn(Config {
        max_sessions_per_listener: 2,
        ..Config::default()
    })
    .unwrap();
    let (l1, l2) = (listen(&server), listen(&server));
    let accept = |l: &Listener| l.accept_timeout(WAIT).unwrap().expect("accepted");
    let mut s1 = TcpStream::connect(l1.local_addr()).unwrap();
    let mut s2 = TcpStream::connect(l1.local_addr()).unwrap();
    let (c1, c2) = (accept(&l1), accept(&l1));
    assert!(served(&mut s1, 1) && served(&mut s2, 2));
    // The third on the same listener is closed unserved and never handed out.
    let mut s3 = TcpStream::connect(l1.local_addr()).unwrap();
    assert!(closed_by_peer(&mut s3), "a third session was served");
    assert!(l1
        .accept_timeout(Duration::from_millis(50))
        .unwrap()
        .is_none());
    // The other listener has its own count.
    let mut t1 = TcpStream::connect(l2.local_addr()).unwrap();
    let d1 = accept(&l2);
    assert!(served(&mut t1, 3));
    // One session of the first listener ends: a new one fits again.
    drop(c1);
    assert!(closed_by_peer(&mut s1));
    let mut s4 = TcpStream::connect(l1.local_addr()).unwrap();
    let c4 = accept(&l1);
    assert!(served(&mut s4, 4) && served(&mut s2, 5));
    drop((c2, c4, d1));
    server.shutdown();
}

/// A peer that sends requests but never reads the answers: once
/// [`Config::max_write_buffer`] octets wait for it, the loop stops reading from it, so its
/// own writes stall (after the kernel's socket buffers fill) instead of our memory growing.
/// When it reads again, the loop resumes.
#[test]
fn a_peer_that_does_not_read_is_not_read_either() {
    let server = Transport::spawn(Config {
        max_write_buffer: 64 * 1024,
        write_high_water: 16 * 1024,
        ..Config::default()
    })
    .unwrap();
    let listener = listen(&server);
    let mut s = TcpStream::connect(listener.local_addr()).unwrap();
    let conn = listener.accept_timeout(WAIT).unwrap().expect("accepted");
    // Flood enquire_links (answered by the session itself) without reading, until writes
    // stall for half a second.
    let chunk: Vec<u8> = (0..4096u32).flat_map(enquire_link).collect();
    s.set_nonblocking(true).unwrap();
    let mut written = 0usize;
    let mut stalled_since: Option<Instant> = None;
    let limit = 256 * 1024 * 1024;
    while written < limit {
        match s.write(&chunk[written % chunk.len()..]) {
            Ok(n) => {
                written += n;
                stalled_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(500) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("write: {e}"),
        }
    }
    assert!(
        written < limit,
        "{written} octets went in without the server pushing back"
    );
    // Read again: the server resumes and answers beyond what it had answered at the stall
    // (at most the kernel's buffers plus the 64 KiB write buffer).
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let want = 8 * 1024 * 1024 / 16; // more answers than 8 MiB of buffers hold
    let want = want.min(written / 16);
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0usize;
    while got < want * 16 {
        match s.read(&mut buf) {
            Ok(0) => panic!("closed after {} answers", got / 16),
            Ok(n) => got += n,
            Err(e) => panic!("read after {} answers: {e}", got / 16),
        }
    }
    drop(conn);
    server.shutdown();
}

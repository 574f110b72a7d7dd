//! 1,000 ESME sessions bound to one test SMSC at once, all on one client transport (so the
//! test's own threads stay bounded): every one submits and gets an id, a peer sending
//! garbage is answered and dropped, and every session keeps being served. Every wait is
//! bounded; phase times are printed (`--nocapture`).

#![allow(clippy::print_stderr)]

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use smpp_pdu::{Body, CommandId, SubmitSm};
use smpp_session::{BindKind, BindRequest};
use smpp_smsc::{Smsc, SmscConfig};
use smpp_transport::{Completed, Connection, Outcome, Transport};

const SESSIONS: usize = 1_000;
/// Upper bound for each phase.
const PHASE: Duration = Duration::from_secs(30);

fn sm(i: usize) -> Body<'static> {
    Body::from(SubmitSm {
        source_addr: "12345".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: format!("4477009{i:05}").into(),
        short_message: format!("message {i}").into_bytes().into(),
        ..Default::default()
    })
}

/// Sends one submit on every connection at once and checks that each gets its own id.
fn submit_on_all(conns: &[Connection], round: usize, ids: &mut HashSet<String>) {
    let (tx, rx) = crossbeam_channel::unbounded::<Completed>();
    for (i, c) in conns.iter().enumerate() {
        c.request(sm(i), i as u64, &tx).expect("request queued");
    }
    let end = Instant::now() + PHASE;
    for _ in 0..conns.len() {
        let left = end.saturating_duration_since(Instant::now());
        let c = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("round {round}: not every submit answered in {PHASE:?}"));
        match c.outcome {
            Outcome::Response(p) => match p.body {
                Body::SubmitSmResp(r) if p.command_status.is_ok() => {
                    let id = r.message_id.to_str_lossy().into_owned();
                    assert!(ids.insert(id.clone()), "duplicate id {id}");
                }
                other => panic!("round {round}, session {}: {other:?}", c.tag),
            },
            other => panic!("round {round}, session {}: {other:?}", c.tag),
        }
    }
}

#[test]
fn a_thousand_concurrent_binds_are_served() {
    // Real sockets: a thousand concurrent TCP connections through the transport.
    let started = Instant::now();
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC starts"); // no users: any bind
    let addr = smsc.local_addr();
    let transport = Transport::spawn(smpp_transport::Config::default()).expect("transport");
    let session = smpp_session::Config::default();

    let t = Instant::now();
    let conns: Vec<Connection> = (0..SESSIONS)
        .map(|i| {
            transport
                .connect(addr, session.clone())
                .unwrap_or_else(|e| {
                    panic!(
                        "connect #{i}: {e} (the test needs about {} file descriptors: \
                     both ends of every session; see `ulimit -n`)",
                        2 * SESSIONS + 100
                    )
                })
        })
        .collect();
    let connect_time = t.elapsed();

    // Every bind in flight at once.
    let t = Instant::now();
    let (tx, rx) = crossbeam_channel::unbounded::<Completed>();
    for (i, c) in conns.iter().enumerate() {
        let req = BindRequest::new(BindKind::Transceiver, format!("esme{i}"), "pw");
        c.bind(req, i as u64, &tx).expect("bind queued");
    }
    let end = Instant::now() + PHASE;
    for _ in 0..SESSIONS {
        let left = end.saturating_duration_since(Instant::now());
        let c = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("not every bind answered in {PHASE:?}"));
        assert!(
            matches!(c.outcome, Outcome::Bound { .. }),
            "session {}: {:?}",
            c.tag,
            c.outcome
        );
    }
    let bind_time = t.elapsed();
    assert!(smsc.wait_for(PHASE, |s| s.bound == SESSIONS as u64));

    let t = Instant::now();
    let mut ids = HashSet::new();
    submit_on_all(&conns, 1, &mut ids);
    let submit_time = t.elapsed();

    // A peer that sends garbage is answered with a generic_nack and dropped...
    let mut garbage = TcpStream::connect(addr).expect("connect");
    garbage
        .write_all(&[0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 1])
        .expect("write");
    garbage
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut buf = Vec::new();
    let _ = garbage.read_to_end(&mut buf);
    assert!(buf.len() >= 16, "a generic_nack before the close: {buf:?}");
    assert_eq!(&buf[4..8], &CommandId::GENERIC_NACK.0.to_be_bytes());

    // ... while the thousand others keep being served.
    let t = Instant::now();
    submit_on_all(&conns, 2, &mut ids);
    let second_time = t.elapsed();
    assert_eq!(ids.len(), 2 * SESSIONS);
    let stats = smsc.stats();
    assert_eq!(stats.binds, SESSIONS as u64);
    assert_eq!(stats.submits, 2 * SESSIONS as u64);
    assert_eq!(stats.bound, SESSIONS as u64);

    eprintln!(
        "{SESSIONS} sessions: connect {connect_time:?}, bind {bind_time:?}, submit {submit_time:?}, \
         submit after the garbage peer {second_time:?}, total {:?}",
        started.elapsed()
    );
    let t = Instant::now();
    for c in &conns {
        c.close();
    }
    transport.shutdown();
    smsc.shutdown();
    eprintln!("shutdown {:?}", t.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

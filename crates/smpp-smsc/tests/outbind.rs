//! Outbind (reference §12.6) both ways over real sockets: the SMSC dials an ESME that
//! listens (`Smsc::outbind`), the ESME (a transport listener in the ESME role) gets the
//! `outbind`, binds as a receiver on the same connection, and gets MO messages.

use std::time::Duration;

use smpp_pdu::{Body, CommandStatus, DeliverSmResp};
use smpp_session::{BindKind, BindRequest, Event};
use smpp_smsc::{Smsc, SmscConfig, User};
use smpp_transport::{ConnEvent, Connection, Outcome, Transport};

const WAIT: Duration = Duration::from_secs(5);

/// The next session event of `conn`, skipping the others.
fn next_session_event(conn: &Connection) -> Event {
    loop {
        match conn.events().recv_timeout(WAIT).expect("an event") {
            ConnEvent::Session(ev) => return ev,
            _ => continue,
        }
    }
}

#[test]
fn the_smsc_dials_sends_outbind_and_the_esme_binds_on_that_connection() {
    // Real sockets: the SMSC dials out a TCP connection for outbind.
    let _ = env_logger::builder().is_test(true).try_init();
    let s =
        Smsc::start(SmscConfig::default().user(User::new("alice", "secret"))).expect("SMSC starts");
    let esme = Transport::spawn(smpp_transport::Config::default()).unwrap();
    let listener = esme
        .listen_as_esme(
            "127.0.0.1:0".parse().unwrap(),
            smpp_session::Config::default(),
        )
        .unwrap();
    let id = s
        .outbind(listener.local_addr(), "smpp-smsc", "ob-pw")
        .expect("dials");
    let conn = listener
        .accept_timeout(WAIT)
        .unwrap()
        .expect("the SMSC's connection");
    match next_session_event(&conn) {
        Event::Outbind {
            system_id,
            password,
        } => {
            assert_eq!(system_id, "smpp-smsc");
            assert_eq!(password.expose(), b"ob-pw");
        }
        other => panic!("{other:?}"),
    }
    let (reply, done) = crossbeam_channel::unbounded();
    conn.bind(
        BindRequest::new(BindKind::Receiver, "alice", "secret"),
        1,
        &reply,
    )
    .unwrap();
    let bound = done.recv_timeout(WAIT).expect("the bind's outcome");
    assert!(matches!(bound.outcome, Outcome::Bound { .. }), "{bound:?}");
    assert!(s.wait_for(WAIT, |st| st.bound == 1 && st.binds == 1));
    // Bound as a receiver of alice: an MO for alice comes on this connection.
    s.inject_mo("alice", "447700900123", "12345", "over outbind")
        .expect("a receiver of alice");
    let (seq, pdu) = loop {
        match next_session_event(&conn) {
            Event::Request {
                sequence_number,
                pdu,
            } => break (sequence_number, pdu),
            _ => continue,
        }
    };
    match &pdu.body {
        Body::DeliverSm(d) => assert_eq!(d.short_message.as_bytes(), b"over outbind"),
        other => panic!("{other:?}"),
    }
    conn.respond(
        seq,
        CommandStatus::ESME_ROK,
        DeliverSmResp::default().into(),
    )
    .unwrap();
    assert!(s.wait_for(WAIT, |st| st.delivers_acked == 1));
    assert_eq!(s.stats().delivers_failed, 0, "the outbind is not a failure");
    assert!(s
        .received()
        .iter()
        .any(|r| r.conn == id && r.command_id == smpp_pdu::CommandId::BIND_RECEIVER));
    s.shutdown();
    esme.shutdown();
}

#[test]
fn outbind_to_nobody_fails_at_once() {
    // Real sockets: dialling an address nobody listens on fails at connect.
    let s = Smsc::start(SmscConfig::default()).expect("SMSC starts");
    // A port nobody listens on: bind one, then let it go.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(s.outbind(addr, "smpp-smsc", "pw").is_err());
    s.shutdown();
}

#[test]
fn a_client_listening_for_outbind_binds_as_a_receiver_and_gets_mo() {
    // Real sockets: a real client listens for the SMSC's outbind.
    use smpp_client::{ClientConfig, OutbindListener};
    let _ = env_logger::builder().is_test(true).try_init();
    let s =
        Smsc::start(SmscConfig::default().user(User::new("alice", "secret"))).expect("SMSC starts");
    let listener = OutbindListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        ClientConfig::new(BindKind::Receiver, "alice", "secret"),
    )
    .unwrap();
    s.outbind(listener.local_addr(), "smpp-smsc", "pw")
        .expect("dials");
    let c = listener.accept(WAIT).expect("bound after the outbind");
    assert!(s.wait_for(WAIT, |st| st.bound == 1));
    s.inject_mo("alice", "447700900123", "12345", "hello receiver")
        .expect("a receiver of alice");
    let inbound = c.inbound().recv_timeout(WAIT).expect("the MO");
    assert_eq!(inbound.text(), Some("hello receiver"));
    drop(inbound);
    assert!(s.wait_for(WAIT, |st| st.delivers_acked == 1));
    c.unbind().unwrap();
    s.shutdown();
}

//! Resource bounds of the transport and session under the test SMSC, each hit on purpose
//! over 127.0.0.1: sessions per listener and the largest `command_length` (the failed-bind
//! lockout is SMSC logic, tested on the virtual clock in `logic.rs`). Hitting a
//! bound gives the spec's status or a close, never growth, and the SMSC keeps serving.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use smpp_client::{Client, ClientConfig, Error};
use smpp_pdu::{CommandId, CommandStatus, SubmitSm};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};

const WAIT: Duration = Duration::from_secs(10);

fn init() {
    let _ = env_logger::builder().is_test(true).try_init();
}

fn pdu(id: CommandId, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [16 + body.len() as u32, id.0, 0, seq] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

fn bind_body(id: &str, pw: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for s in [id, pw, ""] {
        v.extend_from_slice(s.as_bytes());
        v.push(0);
    }
    v.extend_from_slice(&[0x34, 0, 0, 0]);
    v
}

/// The next PDU's `(command_id, command_status, sequence_number)`, or `None` on EOF.
fn read_pdu(s: &mut TcpStream) -> Option<(CommandId, CommandStatus, u32)> {
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut h = [0u8; 16];
    match s.read_exact(&mut h) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
            ) =>
        {
            return None
        }
        Err(e) => panic!("read: {e}"),
    }
    let w = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let mut body = vec![0; w(0) as usize - 16];
    s.read_exact(&mut body).expect("body");
    Some((CommandId(w(4)), CommandStatus(w(8)), w(12)))
}

fn raw_bind(addr: SocketAddr, id: &str, pw: &str) -> (TcpStream, CommandStatus) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&pdu(CommandId::BIND_TRANSCEIVER, 1, &bind_body(id, pw)))
        .unwrap();
    let (cid, status, seq) = read_pdu(&mut s).expect("a bind response");
    assert_eq!((cid, seq), (CommandId::BIND_TRANSCEIVER_RESP, 1));
    (s, status)
}

fn client(addr: SocketAddr, id: &str, pw: &str) -> Result<Client, Error> {
    Client::connect(
        addr,
        ClientConfig::new(BindKind::Transceiver, id, pw)
            // These tests exercise the SMSC: the client passes receipts on untracked.
            .track(false)
            .response_timeout(Duration::from_secs(2)),
    )
}

fn sm() -> SubmitSm<'static> {
    SubmitSm {
        destination_addr: "447700900123".into(),
        short_message: b"hi".as_slice().into(),
        ..Default::default()
    }
}

/// Past `max_sessions_per_listener` open sessions, a new connection is closed before any
/// PDU is read; when one session ends, a new one is accepted again.
#[test]
fn sessions_per_listener_are_bounded() {
    // Real sockets: the transport's per-listener session limit closes TCP connections.
    init();
    let mut cfg = SmscConfig::default();
    cfg.transport.max_sessions_per_listener = 3;
    let smsc = Smsc::start(cfg).unwrap();
    let addr = smsc.local_addr();
    let mut clients: Vec<Client> = (0..3)
        .map(|i| client(addr, &format!("esme{i}"), "pw").expect("within the limit"))
        .collect();
    // The fourth: TCP connects (the kernel accepts), then the SMSC closes it unanswered.
    let mut s = TcpStream::connect(addr).unwrap();
    let _ = s.write_all(&pdu(
        CommandId::BIND_TRANSCEIVER,
        1,
        &bind_body("esme3", "pw"),
    ));
    assert_eq!(read_pdu(&mut s), None, "the fourth session was served");
    assert!(client(addr, "esme3", "pw").is_err());
    assert_eq!(smsc.stats().connections, 3);
    // One leaves; a new one fits.
    clients.pop().unwrap().unbind().unwrap();
    assert!(smsc.wait_for(WAIT, |s| s.open_connections == 2));
    let c = client(addr, "esme3", "pw").expect("a slot is free again");
    c.submit(&sm()).expect("served");
    for c in clients {
        c.submit(&sm()).expect("the others are still served");
    }
    smsc.shutdown();
}

/// `max_command_length` is configurable per session: a PDU longer than it is answered
/// `generic_nack` `ESME_RINVCMDLEN` and the connection closes; one just within it is served.
#[test]
fn max_command_length_is_configurable() {
    // Real socket: the session decoder's command_length limit on real octets, then the close.
    init();
    let mut cfg = SmscConfig::default();
    cfg.session = cfg.session.max_command_length(512);
    let smsc = Smsc::start(cfg).unwrap();
    let addr = smsc.local_addr();
    let submit = |len: usize| {
        // submit_sm with a message_payload TLV padding it to `len` octets.
        let mut body = Vec::new();
        body.extend_from_slice(&[0, 0, 0, b'1', 0, 1, 1]);
        body.extend_from_slice(b"447700900123\0");
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let payload = len - 16 - body.len() - 4;
        body.extend_from_slice(&0x0424u16.to_be_bytes());
        body.extend_from_slice(&(payload as u16).to_be_bytes());
        body.extend(std::iter::repeat_n(b'x', payload));
        let p = pdu(CommandId::SUBMIT_SM, 2, &body);
        assert_eq!(p.len(), len);
        p
    };
    let (mut s, status) = raw_bind(addr, "esme", "pw");
    assert_eq!(status, CommandStatus::ESME_ROK);
    s.write_all(&submit(512)).unwrap();
    assert_eq!(
        read_pdu(&mut s),
        Some((CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK, 2))
    );
    s.write_all(&submit(513)).unwrap();
    assert_eq!(
        read_pdu(&mut s),
        Some((CommandId::GENERIC_NACK, CommandStatus::ESME_RINVCMDLEN, 2))
    );
    assert_eq!(read_pdu(&mut s), None);
    let c = client(addr, "esme", "pw").expect("others are served");
    c.submit(&sm()).unwrap();
    smsc.shutdown();
}

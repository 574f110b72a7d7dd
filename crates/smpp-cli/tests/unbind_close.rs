//! `smpp send --wait-receipt` against a scripted SMSC (a plain socket on 127.0.0.1) that
//! answers the bind and the submit, sends the receipt, and then closes the connection on
//! our `unbind` without an `unbind_resp`, as several real SMSCs do. The work was done and
//! the session ended: the command exits 0.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use smpp_pdu::tlv::Tlv;
use smpp_pdu::{BindTransceiverResp, Body, DeliverSm, Pdu, SubmitSmResp};

/// Upper bound of every wait.
const WAIT: Duration = Duration::from_secs(15);

fn read_pdu(s: &mut TcpStream) -> Pdu<'static> {
    let mut h = [0u8; 16];
    s.read_exact(&mut h).expect("a PDU header");
    let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let mut frame = h.to_vec();
    frame.resize(len, 0);
    s.read_exact(&mut frame[16..]).expect("a PDU body");
    let (pdu, _) = Pdu::decode(&frame).expect("decodes").expect("whole");
    pdu.into_owned()
}

fn write_pdu(s: &mut TcpStream, pdu: Pdu<'_>) {
    let mut out = Vec::new();
    pdu.encode(&mut out).expect("encodes");
    s.write_all(&out).expect("write");
}

#[test]
fn send_exits_zero_when_the_smsc_answers_unbind_by_closing() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let addr = listener.local_addr().expect("addr").to_string();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(WAIT)).expect("timeout");
        let bind = read_pdu(&mut s);
        write_pdu(
            &mut s,
            Pdu::new(
                bind.sequence_number,
                BindTransceiverResp {
                    system_id: "closer".into(),
                    tlvs: vec![],
                },
            ),
        );
        let submit = read_pdu(&mut s);
        assert!(matches!(submit.body, Body::SubmitSm(_)), "{submit:?}");
        write_pdu(
            &mut s,
            Pdu::new(
                submit.sequence_number,
                SubmitSmResp {
                    message_id: "ABC123".into(),
                    tlvs: vec![],
                },
            ),
        );
        let receipt = DeliverSm {
            source_addr: "447700900123".into(),
            esm_class: 0x04,
            short_message: "id:ABC123 sub:001 dlvrd:001 submit date:2501011200 done \
                            date:2501011200 stat:DELIVRD err:000 text:hi"
                .into(),
            tlvs: vec![
                Tlv::ReceiptedMessageId("ABC123".into()),
                Tlv::MessageState(2),
            ],
            ..Default::default()
        };
        write_pdu(&mut s, Pdu::new(77, receipt));
        loop {
            let p = read_pdu(&mut s);
            match p.body {
                Body::DeliverSmResp(_) | Body::EnquireLink(_) => continue,
                Body::Unbind(_) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        // No unbind_resp: close.
        drop(s);
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args([
            "send",
            "--addr",
            &addr,
            "--system-id",
            "esme",
            "--password",
            "pw",
            "--to",
            "447700900123",
            "--text",
            "hi",
            "--wait-receipt",
            "10",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smpp runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > WAIT {
            let _ = child.kill();
            panic!("smpp send did not finish within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().expect("output");
    peer.join().expect("scripted SMSC");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stdout.contains("receipt for message id ABC123: DELIVRD"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
}

//! The order of receipts and responses on a real connection (`receipt_before_response`),
//! seen by a raw ESME over 127.0.0.1. The receipt knobs themselves (id forms, content,
//! final states, intermediate and duplicate receipts) are tested on the virtual clock in
//! `logic.rs`. Every wait is bounded.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use smpp_pdu::receipt::{Receipt, ReceiptState};
use smpp_pdu::{BindTransceiver, Body, CommandId, CommandStatus, DeliverSmResp, Pdu, SubmitSm};
use smpp_smsc::{IntermediateStyle, Smsc, SmscConfig, User};

/// Upper bound for anything a test waits for.
const WAIT: Duration = Duration::from_secs(10);
fn smsc(config: SmscConfig) -> Smsc {
    let _ = env_logger::builder().is_test(true).try_init();
    Smsc::start(config.user(User::new("alice", "secret"))).expect("SMSC starts")
}

fn sm(to: &str, text: &str, registered_delivery: u8) -> SubmitSm<'static> {
    SubmitSm {
        source_addr: "12345".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: to.to_string().into(),
        registered_delivery,
        short_message: text.to_string().into(),
        ..Default::default()
    }
}

// ----- a raw ESME, to see the order of PDUs on the wire -----

/// A transceiver bound over a plain `TcpStream`, reading and writing whole PDUs.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn bind(s: &Smsc) -> Raw {
        let stream = TcpStream::connect(s.local_addr()).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut raw = Raw {
            stream,
            buf: Vec::new(),
        };
        raw.send(Pdu::new(
            1,
            BindTransceiver {
                system_id: "alice".into(),
                password: "secret".into(),
                interface_version: 0x34,
                ..Default::default()
            },
        ));
        let resp = raw.read();
        assert_eq!(resp.command_id(), CommandId::BIND_TRANSCEIVER_RESP);
        assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
        raw
    }

    fn send(&mut self, pdu: Pdu<'_>) {
        let mut wire = Vec::new();
        pdu.encode(&mut wire).expect("encodes");
        self.stream.write_all(&wire).expect("write");
    }

    /// The next PDU, within [`WAIT`].
    fn read(&mut self) -> Pdu<'static> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some((pdu, used)) = Pdu::decode(&self.buf).expect("the SMSC writes valid PDUs") {
                let pdu = pdu.into_owned();
                self.buf.drain(..used);
                return pdu;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no PDU within {WAIT:?}");
            self.stream.set_read_timeout(Some(left)).expect("timeout");
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("the SMSC closed the connection"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Submits `sm` with sequence number `seq` and reads PDUs, answering each `deliver_sm`,
    /// up to and including the `submit_sm_resp`: what came, in order, as `(command_id,
    /// receipt state if a receipt)`, and the message id of the response.
    fn submit_and_watch(
        &mut self,
        seq: u32,
        sm: SubmitSm<'static>,
    ) -> (Vec<(CommandId, Option<Receipt>)>, String) {
        self.send(Pdu::new(seq, sm));
        let mut seen = Vec::new();
        loop {
            let pdu = self.read();
            match &pdu.body {
                Body::DeliverSm(d) => {
                    let receipt = Receipt::from_deliver_sm(d).ok();
                    seen.push((CommandId::DELIVER_SM, receipt));
                    self.send(Pdu::new(pdu.sequence_number, DeliverSmResp::default()));
                }
                Body::SubmitSmResp(r) => {
                    assert_eq!(pdu.sequence_number, seq);
                    assert_eq!(pdu.command_status, CommandStatus::ESME_ROK);
                    seen.push((CommandId::SUBMIT_SM_RESP, None));
                    return (seen, r.message_id.to_str_lossy().into_owned());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn receipts_go_out_before_the_response_when_asked() {
    // Real socket: checks the order in which the PDUs reach the wire (the logic is in logic.rs).
    // Without the knob, even with no delay, the response comes first.
    let s = smsc(SmscConfig::default().receipt_delay(Duration::ZERO));
    let mut raw = Raw::bind(&s);
    let (seen, id) = raw.submit_and_watch(2, sm("447700900123", "normal", 1));
    assert_eq!(seen, [(CommandId::SUBMIT_SM_RESP, None)], "response first");
    let receipt = Receipt::from_deliver_sm(match &raw.read().body {
        Body::DeliverSm(d) => d,
        other => panic!("expected the receipt, got {other:?}"),
    })
    .expect("a receipt");
    assert_eq!(receipt.id, id);
    s.shutdown();

    // With it, the receipt comes first, although receipts are a minute away otherwise.
    let s = smsc(
        SmscConfig::default()
            .receipt_before_response(true)
            .receipt_delay(Duration::from_secs(60)),
    );
    let mut raw = Raw::bind(&s);
    for seq in 2..5 {
        let (seen, id) = raw.submit_and_watch(seq, sm("447700900123", "fast", 1));
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].0, CommandId::DELIVER_SM, "{seen:?}");
        let receipt = seen[0].1.as_ref().expect("the deliver_sm is a receipt");
        assert_eq!(receipt.id, id);
        assert_eq!(receipt.state, ReceiptState::Delivered);
        assert_eq!(seen[1].0, CommandId::SUBMIT_SM_RESP);
    }
    // No receipt asked for: just the response.
    let (seen, _) = raw.submit_and_watch(5, sm("447700900123", "quiet", 0));
    assert_eq!(seen, [(CommandId::SUBMIT_SM_RESP, None)]);
    assert!(s.wait_for(WAIT, |st| st.receipts_sent == 3 && st.delivers_acked == 3));
    s.shutdown();

    // With an intermediate receipt and duplicates, all of them precede the response, in
    // order.
    let s = smsc(
        SmscConfig::default()
            .receipt_before_response(true)
            .intermediate_receipt(ReceiptState::Enroute, IntermediateStyle::AsReceipt)
            .duplicate_receipts(true),
    );
    let mut raw = Raw::bind(&s);
    let (seen, id) = raw.submit_and_watch(2, sm("447700900123", "all of it", 1));
    let states: Vec<Option<ReceiptState>> = seen
        .iter()
        .map(|(_, r)| r.as_ref().map(|r| r.state.clone()))
        .collect();
    assert_eq!(
        states,
        [
            Some(ReceiptState::Enroute),
            Some(ReceiptState::Delivered),
            Some(ReceiptState::Delivered),
            None
        ]
    );
    assert_eq!(seen[3].0, CommandId::SUBMIT_SM_RESP);
    assert!(seen[..3].iter().all(|(_, r)| r.as_ref().unwrap().id == id));
    s.shutdown();
}

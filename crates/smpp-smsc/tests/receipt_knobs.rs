//! The receipt knobs of the test SMSC, over 127.0.0.1: receipts before the response (seen
//! on the wire by a raw ESME), id forms, receipt TLVs, per-message final states,
//! intermediate and duplicate receipts. Every wait is bounded.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig, Inbound, TextOptions};
use smpp_pdu::receipt::{message_ids_match, Receipt, ReceiptState};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    BindTransceiver, Body, CommandId, CommandStatus, DeliverSm, DeliverSmResp, Pdu, QuerySm,
    SubmitSm,
};
use smpp_session::BindKind;
use smpp_smsc::{
    IdFormat, IntermediateStyle, MessageMatch, ReceiptContent, ReceiptIdForm, Smsc, SmscConfig,
    StateRule, User,
};

/// Upper bound for anything a test waits for.
const WAIT: Duration = Duration::from_secs(10);
/// How long a test listens to be sure that nothing more comes.
const QUIET: Duration = Duration::from_millis(400);

fn smsc(config: SmscConfig) -> Smsc {
    let _ = env_logger::builder().is_test(true).try_init();
    Smsc::start(config.user(User::new("alice", "secret"))).expect("SMSC starts")
}

fn connect(s: &Smsc) -> Client {
    let cfg = ClientConfig::new(BindKind::Transceiver, "alice", "secret")
        // These tests exercise the SMSC: the client passes receipts on untracked.
        .track(false)
        .response_timeout(Duration::from_secs(5));
    Client::connect(s.local_addr(), cfg).expect("binds")
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

fn deliver_sm(inbound: &Inbound) -> &DeliverSm<'static> {
    match &inbound.pdu().expect("a PDU").body {
        Body::DeliverSm(d) => d,
        other => panic!("expected a deliver_sm, got {other:?}"),
    }
}

/// The receipt's `short_message` as text.
fn text_of(d: &DeliverSm<'_>) -> String {
    String::from_utf8_lossy(d.short_message.as_bytes()).into_owned()
}

/// The next inbound message, within [`WAIT`].
fn next(c: &Client) -> Inbound {
    c.inbound().recv_timeout(WAIT).expect("an inbound message")
}

/// Asserts that nothing more arrives within [`QUIET`].
fn assert_quiet(c: &Client) {
    if let Ok(extra) = c.inbound().recv_timeout(QUIET) {
        panic!("nothing more expected, got {:?}", extra.kind());
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

#[test]
fn before_the_response_a_transmitter_gets_its_receipt_on_its_receiver() {
    let s = smsc(
        SmscConfig::default()
            .receipt_before_response(true)
            .receipt_delay(Duration::from_secs(60)),
    );
    let tx = Client::connect(
        s.local_addr(),
        ClientConfig::new(BindKind::Transmitter, "alice", "secret")
            // These tests exercise the SMSC: the client passes receipts on untracked.
            .track(false),
    )
    .expect("tx binds");
    let rx = Client::connect(
        s.local_addr(),
        ClientConfig::new(BindKind::Receiver, "alice", "secret")
            // These tests exercise the SMSC: the client passes receipts on untracked.
            .track(false),
    )
    .expect("rx binds");
    let id = tx
        .submit(&sm("447700900123", "to rx", 1))
        .unwrap()
        .message_id;
    let inbound = rx.inbound().recv_timeout(WAIT).expect("the receipt");
    assert_eq!(inbound.receipt().unwrap().id, id.to_str_lossy());
    tx.unbind().unwrap();
    rx.unbind().unwrap();
    s.shutdown();
}

#[test]
fn padded_hex_response_ids_and_decimal_receipt_text_ids() {
    let mut config = SmscConfig::default()
        .id_format(IdFormat::PaddedHex { width: 10 })
        .receipt_text_id(ReceiptIdForm::Format(IdFormat::Decimal))
        .receipt_delay(Duration::from_millis(10));
    config.first_id = 26;
    let s = smsc(config);
    let c = connect(&s);
    let id = c.submit(&sm("447700900123", "ids", 1)).unwrap().message_id;
    let id = id.to_str_lossy().into_owned();
    assert_eq!(id, "000000001A");
    let inbound = next(&c);
    let d = deliver_sm(&inbound);
    let text = text_of(d);
    assert!(text.starts_with("id:26 "), "{text}");
    let from_text = Receipt::parse_text(&text).unwrap().id;
    assert_eq!(from_text, "26");
    assert!(message_ids_match(&from_text, &id));
    // The TLV keeps the response's form, and wins in the parsed receipt.
    assert!(d
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::ReceiptedMessageId(v) if v.to_str_lossy() == id)));
    assert_eq!(inbound.receipt().unwrap().id, id);
    c.unbind().unwrap();
    s.shutdown();

    assert_eq!(IdFormat::PaddedHex { width: 10 }.format(1), "0000000001");
    assert_eq!(IdFormat::PaddedHex { width: 4 }.format(0x12345), "12345");
    assert_eq!(
        IdFormat::PaddedDecimal { width: 10 }.format(1234),
        "0000001234"
    );
}

#[test]
fn receipts_with_text_only_or_tlvs_only() {
    // Text only: no receipt TLVs, the id and state are in the text.
    let s = smsc(
        SmscConfig::default()
            .receipt_content(ReceiptContent::TextOnly)
            .receipt_state(ReceiptState::Expired)
            .receipt_delay(Duration::from_millis(10)),
    );
    let c = connect(&s);
    let id = c.submit(&sm("447700900123", "text", 1)).unwrap().message_id;
    let inbound = next(&c);
    let d = deliver_sm(&inbound);
    assert_eq!(d.esm_class, 0x04);
    assert!(
        !d.tlvs
            .iter()
            .any(|t| matches!(t, Tlv::ReceiptedMessageId(_) | Tlv::MessageState(_))),
        "{:?}",
        d.tlvs
    );
    let text = text_of(d);
    assert!(text.contains("stat:EXPIRED"), "{text}");
    let receipt = inbound.receipt().unwrap();
    assert_eq!(receipt.id, id.to_str_lossy());
    assert_eq!(receipt.state, ReceiptState::Expired);
    c.unbind().unwrap();
    s.shutdown();

    // TLVs only: an empty short_message.
    let s = smsc(
        SmscConfig::default()
            .receipt_content(ReceiptContent::TlvsOnly)
            .receipt_state(ReceiptState::Expired)
            .receipt_delay(Duration::from_millis(10)),
    );
    let c = connect(&s);
    let id = c.submit(&sm("447700900123", "tlvs", 1)).unwrap().message_id;
    let id = id.to_str_lossy().into_owned();
    let inbound = next(&c);
    let d = deliver_sm(&inbound);
    assert!(d.short_message.is_empty());
    assert!(d
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::ReceiptedMessageId(v) if v.to_str_lossy() == id)));
    assert!(d.tlvs.iter().any(|t| matches!(t, Tlv::MessageState(3))));
    let receipt = inbound.receipt().unwrap();
    assert_eq!(receipt.id, id);
    assert_eq!(receipt.state, ReceiptState::Expired);
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn chosen_messages_fail_one_segment_of_a_long_text_included() {
    // One rule through the field, one through the builder; the first match wins.
    let mut config = SmscConfig::default().receipt_delay(Duration::from_millis(10));
    config.final_state_rules.push(StateRule {
        matches: MessageMatch::Destination("447700900999".into()),
        state: ReceiptState::Rejected,
        err: "011".into(),
    });
    let s = smsc(config.final_state_every(2, ReceiptState::Undeliverable, "069"));
    let c = connect(&s);
    // Messages 1, 2 and 3: the second segment fails.
    let ids = c
        .send_text(
            "Brand",
            "447700900123",
            &"A long text in three parts. ".repeat(15),
            &TextOptions::default(),
        )
        .unwrap();
    assert_eq!(ids.len(), 3);
    let mut states = std::collections::HashMap::new();
    for _ in 0..3 {
        let inbound = next(&c);
        let r = inbound.receipt().expect("a receipt").clone();
        let text = text_of(deliver_sm(&inbound));
        let err = if r.state == ReceiptState::Undeliverable {
            "err:069"
        } else {
            "err:000"
        };
        assert!(text.contains(err), "{text}");
        states.insert(r.id, r.state);
    }
    assert_eq!(states[&ids[0]], ReceiptState::Delivered);
    assert_eq!(states[&ids[1]], ReceiptState::Undeliverable);
    assert_eq!(states[&ids[2]], ReceiptState::Delivered);
    // Message 4, a multiple of 2 too, goes to the destination of the first rule.
    let rejected = c.submit(&sm("447700900999", "no", 1)).unwrap().message_id;
    let inbound = next(&c);
    let r = inbound.receipt().unwrap();
    assert_eq!(r.id, rejected.to_str_lossy());
    assert_eq!(r.state, ReceiptState::Rejected);
    assert!(text_of(deliver_sm(&inbound)).contains("err:011"));
    // query_sm tells the same final state.
    let q = c
        .query(&QuerySm {
            message_id: ids[1].clone().into(),
            source_addr: "Brand".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.message_state, 5);
    // Failure-only receipts (registered_delivery 2) follow the per-message state: of
    // messages 5 and 6, only the 6th fails and gets a receipt.
    c.submit(&sm("447700900123", "five", 2)).unwrap();
    let six = c.submit(&sm("447700900123", "six", 2)).unwrap().message_id;
    let inbound = next(&c);
    assert_eq!(inbound.receipt().unwrap().id, six.to_str_lossy());
    assert_quiet(&c);
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn intermediate_notifications_when_asked_for() {
    let s = smsc(
        SmscConfig::default()
            .intermediate_receipt(ReceiptState::Enroute, IntermediateStyle::Notification)
            .receipt_delay(Duration::from_millis(200)),
    );
    let c = connect(&s);
    // registered_delivery 0x11: final receipt and intermediate notification.
    let id = c
        .submit(&sm("447700900123", "both", 0x11))
        .unwrap()
        .message_id;
    let id = id.to_str_lossy().into_owned();
    let first = next(&c);
    assert_eq!(deliver_sm(&first).esm_class, 0x20);
    assert_eq!(first.receipt().unwrap().state, ReceiptState::Enroute);
    assert_eq!(first.receipt().unwrap().id, id);
    assert!(deliver_sm(&first)
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::MessageState(1))));
    let last = next(&c);
    assert_eq!(deliver_sm(&last).esm_class, 0x04);
    assert_eq!(last.receipt().unwrap().state, ReceiptState::Delivered);
    assert_eq!(last.receipt().unwrap().id, id);
    // registered_delivery 1: the final receipt only.
    let id = c
        .submit(&sm("447700900123", "final", 1))
        .unwrap()
        .message_id;
    let only = next(&c);
    assert_eq!(deliver_sm(&only).esm_class, 0x04);
    assert_eq!(only.receipt().unwrap().id, id.to_str_lossy());
    assert_quiet(&c);
    let st = s.stats();
    assert_eq!((st.intermediates_sent, st.receipts_sent), (1, 2));
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn intermediate_receipts_like_final_ones() {
    let s = smsc(
        SmscConfig::default()
            .intermediate_receipt(ReceiptState::Accepted, IntermediateStyle::AsReceipt)
            .receipt_delay(Duration::from_millis(200)),
    );
    let c = connect(&s);
    let id = c
        .submit(&sm("447700900123", "acceptd", 1))
        .unwrap()
        .message_id;
    let first = next(&c);
    assert_eq!(deliver_sm(&first).esm_class, 0x04);
    assert_eq!(first.receipt().unwrap().state, ReceiptState::Accepted);
    assert!(text_of(deliver_sm(&first)).contains("stat:ACCEPTD"));
    let last = next(&c);
    assert_eq!(last.receipt().unwrap().state, ReceiptState::Delivered);
    assert_eq!(last.receipt().unwrap().id, id.to_str_lossy());
    // No receipt asked for: no intermediate one either.
    c.submit(&sm("447700900123", "none", 0)).unwrap();
    assert_quiet(&c);
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn final_receipts_twice() {
    let s = smsc(
        SmscConfig::default()
            .duplicate_receipts(true)
            .receipt_delay(Duration::from_millis(10)),
    );
    let c = connect(&s);
    let id = c
        .submit(&sm("447700900123", "twice", 1))
        .unwrap()
        .message_id;
    let a = next(&c);
    let b = next(&c);
    assert_eq!(a.receipt().unwrap().id, id.to_str_lossy());
    assert_eq!(a.receipt(), b.receipt());
    assert_eq!(deliver_sm(&a).short_message, deliver_sm(&b).short_message);
    assert_ne!(
        a.pdu().expect("a PDU").sequence_number,
        b.pdu().expect("a PDU").sequence_number
    );
    assert_quiet(&c);
    assert!(s.wait_for(WAIT, |st| st.receipts_sent == 2 && st.delivers_acked == 2));
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn held_receipts_keep_their_order_for_a_late_receiver() {
    let s = smsc(
        SmscConfig::default()
            .intermediate_receipt(ReceiptState::Enroute, IntermediateStyle::AsReceipt)
            .duplicate_receipts(true)
            .receipt_delay(Duration::from_millis(10)),
    );
    let tx = Client::connect(
        s.local_addr(),
        ClientConfig::new(BindKind::Transmitter, "alice", "secret")
            // These tests exercise the SMSC: the client passes receipts on untracked.
            .track(false),
    )
    .expect("tx binds");
    let id = tx
        .submit(&sm("447700900123", "held", 1))
        .unwrap()
        .message_id;
    // Both receipts are due before anyone can receive them.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.stats().receipts_sent, 0);
    let rx = Client::connect(
        s.local_addr(),
        ClientConfig::new(BindKind::Receiver, "alice", "secret")
            // These tests exercise the SMSC: the client passes receipts on untracked.
            .track(false),
    )
    .expect("rx binds");
    let states: Vec<ReceiptState> = (0..3)
        .map(|_| {
            let inbound = rx.inbound().recv_timeout(WAIT).expect("a held receipt");
            let r = inbound.receipt().expect("a receipt");
            assert_eq!(r.id, id.to_str_lossy());
            r.state.clone()
        })
        .collect();
    assert_eq!(
        states,
        [
            ReceiptState::Enroute,
            ReceiptState::Delivered,
            ReceiptState::Delivered
        ]
    );
    if let Ok(extra) = rx.inbound().recv_timeout(QUIET) {
        panic!("nothing more expected, got {:?}", extra.kind());
    }
    let st = s.stats();
    assert_eq!((st.intermediates_sent, st.receipts_sent), (1, 2));
    tx.unbind().unwrap();
    rx.unbind().unwrap();
    s.shutdown();
}

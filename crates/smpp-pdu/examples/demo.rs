//! A tour of the codec: encodes a `submit_sm`, a `deliver_sm` delivery receipt with TLVs
//! and an `enquire_link`, prints their octets, decodes them back, then decodes a malformed
//! PDU and shows the answer a peer would send.
//!
//! Run with `cargo run -p smpp-pdu --example demo`.

#![allow(clippy::print_stdout)]

use smpp_pdu::tlv::NetworkErrorCode;
use smpp_pdu::{
    Body, CommandStatus, DeliverSm, EnquireLink, Header, Pdu, SubmitSm, SubmitSmResp, Tlv,
};

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn main() {
    let submit = SubmitSm {
        source_addr_ton: 5,
        source_addr: "ACME".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        registered_delivery: 1,
        short_message: "Hello from smpp-pdu".into(),
        ..Default::default()
    };
    let receipt = DeliverSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "447700900123".into(),
        destination_addr: "ACME".into(),
        esm_class: 0x04, // a delivery receipt
        short_message: "id:7f3a sub:001 dlvrd:001 submit date:2401011200 \
                        done date:2401011201 stat:DELIVRD err:000 text:Hello from"
            .into(),
        tlvs: vec![
            Tlv::ReceiptedMessageId("7f3a".into()),
            Tlv::MessageState(2), // DELIVERED
            Tlv::NetworkErrorCode(NetworkErrorCode {
                network_type: 3, // GSM
                error_code: 0,
            }),
        ],
        ..Default::default()
    };
    let pdus = [
        Pdu::new(1, submit),
        Pdu::new(2, receipt),
        Pdu::new(3, EnquireLink::default()),
    ];

    // All three go into one buffer, as they would on a TCP stream.
    let mut wire = Vec::new();
    for pdu in &pdus {
        let start = wire.len();
        let len = pdu.encode(&mut wire).expect("valid PDU");
        println!(
            "encoded {:?} ({len} octets):\n  {}",
            pdu.command_id(),
            hex(&wire[start..])
        );
    }

    // Frame and decode them one at a time; fields borrow from `wire`.
    println!("\ndecoding {} octets:", wire.len());
    let mut rest = &wire[..];
    while let Some((pdu, used)) = Pdu::decode(rest).expect("well-formed stream") {
        println!("{pdu:#?}");
        if let Body::DeliverSm(d) = &pdu.body {
            if let Some(Tlv::ReceiptedMessageId(id)) = d.tlv(smpp_pdu::Tag::RECEIPTED_MESSAGE_ID) {
                println!("  -> receipt for message {}", id.to_str_lossy());
            }
        }
        rest = &rest[used..];
    }

    // A submit_sm whose source_addr runs past its 21 octets without a NUL.
    let mut bad = Vec::new();
    bad.extend_from_slice(&[0, 0, 0, 0]); // command_length, set below
    bad.extend_from_slice(&[0, 0, 0, 4]); // submit_sm
    bad.extend_from_slice(&[0, 0, 0, 0]); // ESME_ROK
    bad.extend_from_slice(&[0, 0, 0, 9]); // sequence_number 9
    bad.extend_from_slice(b"\0\x05\x00THIS-SENDER-NAME-IS-FAR-TOO-LONG\0");
    let len = bad.len() as u32;
    bad[..4].copy_from_slice(&len.to_be_bytes());
    println!("\nmalformed submit_sm:\n  {}", hex(&bad));
    let header = Header::peek(&bad)
        .expect("framing is fine")
        .expect("a whole PDU");
    let err = Pdu::decode(&bad).expect_err("source_addr is too long");
    println!("decode error: {err}");
    println!("  field: {}", err.field());
    println!("  answer with: {}", err.command_status());

    // The answer: a submit_sm_resp with that status, sent header-only.
    let answer = Pdu::response(
        header.sequence_number,
        err.command_status(),
        SubmitSmResp::default(),
    );
    let answer = answer.to_bytes().expect("valid response");
    println!("  response octets: {}", hex(&answer));
    assert_ne!(err.command_status(), CommandStatus::ESME_ROK);
}

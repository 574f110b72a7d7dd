//! `smpp encode`: `decode` then `encode` gives back the octets, for every PDU type and
//! every TLV; bad JSON gives a JSON error naming the field.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use smpp_pdu::tlv::{
    BillingIdentification, BroadcastAreaIdentifier, BroadcastContentType,
    BroadcastFrequencyInterval, CallbackNum, CallbackNumAtag, ItsSessionInfo, MsValidity,
    NetworkErrorCode, RawTlv, Subaddress,
};
use smpp_pdu::*;

#[path = "../../smpp-smsc/tests/json_check/mod.rs"]
mod json_check;
use json_check::valid_json;

/// Runs `smpp ARGS` with `stdin`; exit status and stdout. Bounded to 30 s.
fn smpp(args: &[&str], stdin: &str) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("smpp runs");
    // Feed stdin and drain stdout on threads, so that neither pipe can fill up and block.
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || {
        input.write_all(text.as_bytes()).expect("write stdin");
    });
    let mut output = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        output.read_to_string(&mut s).expect("UTF-8 stdout");
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("smpp {args:?} did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    writer.join().expect("writer");
    (status.code(), reader.join().expect("reader"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn os(b: &[u8]) -> OctetString<'static> {
    OctetString::new(b.to_vec())
}

/// One TLV of every typed variant (found by trying value shapes on every known tag, and
/// checked to decode typed), plus hand-built structured ones and a vendor tag.
fn every_tlv() -> Vec<Tlv<'static>> {
    let shapes: [&[u8]; 8] = [
        b"\x01",
        b"\x00\x07",
        b"\x00\x00\x00\x2a",
        b"\x01\x00\x05",
        b"250101120000000+\x00",
        b"abc\x00",
        b"\x01\x02\x03\x04\x05\x06",
        b"\x00\x01\x01123",
    ];
    let mut tlvs = Vec::new();
    for &tag in Tag::ALL {
        let tlv = shapes
            .iter()
            .map(|v| Tlv::decode(tag, v).into_owned())
            .find(|t| !matches!(t, Tlv::Other(_)))
            .unwrap_or_else(|| panic!("no sample value fits {tag:?}"));
        tlvs.push(tlv);
    }
    tlvs.extend([
        Tlv::CallbackNum(CallbackNum {
            digit_mode: 1,
            addr_ton: 1,
            addr_npi: 1,
            number_digits: os(b"447700900123"),
        }),
        Tlv::SourceSubaddress(Subaddress {
            kind: 0xa0,
            address: os(b"\x01\x02"),
        }),
        Tlv::CallbackNumAtag(CallbackNumAtag {
            data_coding: 0,
            display_characters: os(b"Shop"),
        }),
        Tlv::NetworkErrorCode(NetworkErrorCode {
            network_type: 3,
            error_code: 0x0101,
        }),
        Tlv::BroadcastContentType(BroadcastContentType {
            network_type: 1,
            content_type: 2,
        }),
        Tlv::BroadcastFrequencyInterval(BroadcastFrequencyInterval {
            time_unit: 9,
            number: 5,
        }),
        Tlv::BroadcastAreaIdentifier(BroadcastAreaIdentifier {
            format: 0,
            details: os(b"London"),
        }),
        Tlv::BillingIdentification(BillingIdentification {
            format: 1,
            data: os(b"\xff\x00"),
        }),
        Tlv::ItsSessionInfo(ItsSessionInfo {
            session_number: 3,
            sequence_number: 5,
            end_of_session: true,
        }),
        Tlv::MsValidity(MsValidity {
            behaviour: 4,
            period: Some((1, 30)),
        }),
        Tlv::AlertOnMessageDelivery(None),
        Tlv::ReceiptedMessageId("id-1".into()),
        Tlv::Other(RawTlv {
            tag: Tag(0x1401),
            value: os(b"\xde\xad\xbe\xef"),
        }),
        // A known tag whose value does not fit: kept raw, sent back byte for byte.
        Tlv::Other(RawTlv {
            tag: Tag(0x000d),
            value: os(b"\x01\x02"),
        }),
    ]);
    // message_payload goes to the data_sm only: elsewhere it conflicts with short_message.
    tlvs.retain(|t| !matches!(t, Tlv::MessagePayload(_)));
    tlvs
}

/// One sample PDU of every type, spreading the TLVs over them.
fn samples() -> Vec<Pdu<'static>> {
    let mut tlvs = every_tlv().into_iter();
    let mut some = |n: usize| -> Vec<Tlv<'static>> { tlvs.by_ref().take(n).collect() };
    let bind = |t: Vec<Tlv<'static>>| {
        (
            COctetString::from("esme"),
            Password::new("secret"),
            COctetString::from("VMA"),
            t,
        )
    };
    let (system_id, password, system_type, t) = bind(some(1));
    let mut v: Vec<Pdu<'static>> = vec![
        Pdu::new(
            1,
            BindTransmitter {
                system_id,
                password,
                system_type,
                interface_version: 0x34,
                addr_ton: 1,
                addr_npi: 1,
                address_range: "^44".into(),
                tlvs: t,
            },
        ),
        Pdu::new(
            2,
            BindReceiver {
                system_id: "r".into(),
                password: Password(COctetString::new(b"\xffpw".to_vec())),
                interface_version: 0x50,
                tlvs: some(1),
                ..Default::default()
            },
        ),
        Pdu::new(
            3,
            BindTransceiver {
                system_id: "trx".into(),
                tlvs: some(1),
                ..Default::default()
            },
        ),
        Pdu::new(
            4,
            BindTransmitterResp {
                system_id: "smsc".into(),
                tlvs: some(1),
            },
        ),
        Pdu::new(
            5,
            BindReceiverResp {
                system_id: "smsc".into(),
                tlvs: some(1),
            },
        ),
        Pdu::new(
            6,
            BindTransceiverResp {
                system_id: "smsc".into(),
                tlvs: some(1),
            },
        ),
        Pdu::new(
            7,
            Outbind {
                system_id: "smsc".into(),
                password: Password::new("pw"),
                tlvs: some(1),
            },
        ),
        Pdu::new(8, Unbind { tlvs: some(1) }),
        Pdu::new(9, UnbindResp { tlvs: some(1) }),
        Pdu::new(10, EnquireLink { tlvs: some(1) }),
        Pdu::new(11, EnquireLinkResp { tlvs: some(1) }),
        Pdu::response(12, CommandStatus::ESME_RINVCMDID, GenericNack::default()),
        Pdu::new(13, CancelSmResp { tlvs: some(1) }),
        Pdu::new(14, ReplaceSmResp { tlvs: some(1) }),
        Pdu::new(15, CancelBroadcastSmResp { tlvs: some(1) }),
        Pdu::new(
            16,
            SubmitSm {
                service_type: "CMT".into(),
                source_addr_ton: 5,
                source_addr_npi: 0,
                source_addr: "Shop \"24\"\\\t".into(),
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "447700900123".into(),
                esm_class: 0x40,
                protocol_id: 0,
                priority_flag: 1,
                schedule_delivery_time: "000001000000000R".into(),
                validity_period: "250101120000000+".into(),
                registered_delivery: 1,
                replace_if_present_flag: 1,
                data_coding: 8,
                sm_default_msg_id: 0,
                short_message: os(b"\x05\x00\x03\x01\x02\x01\x00H\x00i"),
                tlvs: some(6),
            },
        ),
        Pdu::new(
            17,
            DeliverSm {
                source_addr: "447700900123".into(),
                destination_addr: "12345".into(),
                esm_class: 4,
                short_message: "id:1 sub:001 dlvrd:001 stat:DELIVRD".into(),
                tlvs: some(6),
                ..Default::default()
            },
        ),
        Pdu::new(
            18,
            SubmitSmResp {
                message_id: "abc123".into(),
                tlvs: some(1),
            },
        ),
        // A header-only error response: decodes to the default body, encodes header-only.
        Pdu::response(19, CommandStatus::ESME_RINVDSTADR, SubmitSmResp::default()),
        Pdu::new(
            20,
            DeliverSmResp {
                tlvs: some(1),
                ..Default::default()
            },
        ),
        Pdu::new(
            21,
            DataSmResp {
                message_id: "d1".into(),
                tlvs: some(2),
            },
        ),
        Pdu::new(
            22,
            BroadcastSmResp {
                message_id: "b1".into(),
                tlvs: some(2),
            },
        ),
        Pdu::new(
            23,
            QueryBroadcastSmResp {
                message_id: "b1".into(),
                tlvs: some(2),
            },
        ),
        Pdu::new(
            24,
            SubmitMulti {
                source_addr: "12345".into(),
                dest_addresses: vec![
                    DestAddress::SmeAddress {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "447700900123".into(),
                    },
                    DestAddress::DistributionList {
                        dl_name: "friends".into(),
                    },
                ],
                short_message: "hi all".into(),
                tlvs: some(3),
                ..Default::default()
            },
        ),
        Pdu::new(
            25,
            SubmitMultiResp {
                message_id: "m1".into(),
                unsuccess_smes: vec![
                    UnsuccessSme {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "447700900124".into(),
                        error_status_code: CommandStatus::ESME_RINVDSTADR,
                    },
                    UnsuccessSme {
                        dest_addr_ton: 0,
                        dest_addr_npi: 0,
                        destination_addr: "x".into(),
                        error_status_code: CommandStatus(0x0000_0401),
                    },
                ],
                tlvs: some(1),
            },
        ),
        Pdu::new(
            26,
            DataSm {
                service_type: "WAP".into(),
                source_addr: COctetString::new("a".repeat(64).into_bytes()),
                destination_addr: "447700900123".into(),
                registered_delivery: 1,
                data_coding: 4,
                tlvs: [some(8), vec![Tlv::MessagePayload(os(&[0x55; 300]))]].concat(),
                ..Default::default()
            },
        ),
        Pdu::new(
            27,
            QuerySm {
                message_id: "q1".into(),
                source_addr: "12345".into(),
                tlvs: some(1),
                ..Default::default()
            },
        ),
        Pdu::new(
            28,
            QuerySmResp {
                message_id: "q1".into(),
                final_date: "250101120000000+".into(),
                message_state: 2,
                error_code: 0,
                tlvs: some(1),
            },
        ),
        Pdu::new(
            29,
            CancelSm {
                message_id: "c1".into(),
                source_addr: "12345".into(),
                destination_addr: "447700900123".into(),
                tlvs: some(1),
                ..Default::default()
            },
        ),
        Pdu::new(
            30,
            ReplaceSm {
                message_id: "r1".into(),
                source_addr: "12345".into(),
                short_message: "new text".into(),
                tlvs: some(1),
                ..Default::default()
            },
        ),
        Pdu::new(
            31,
            AlertNotification {
                source_addr: "447700900123".into(),
                esme_addr: "12345".into(),
                tlvs: some(2),
                ..Default::default()
            },
        ),
        Pdu::new(
            32,
            BroadcastSm {
                source_addr: "12345".into(),
                message_id: "".into(),
                priority_flag: 1,
                data_coding: 0,
                tlvs: some(6),
                ..Default::default()
            },
        ),
        Pdu::new(
            33,
            QueryBroadcastSm {
                message_id: "b1".into(),
                source_addr: "12345".into(),
                tlvs: some(2),
                ..Default::default()
            },
        ),
        Pdu::new(
            34,
            CancelBroadcastSm {
                message_id: "b1".into(),
                source_addr: "12345".into(),
                tlvs: some(2),
                ..Default::default()
            },
        ),
        // A command_id the codec does not know, with a status that has no name.
        Pdu::response(
            35,
            CommandStatus(0x0000_0400),
            Body::Unknown {
                command_id: CommandId(0x0001_0203),
                body: os(b"\x00\x01vendor\x00"),
            },
        ),
        // A C-octet string that is not UTF-8.
        Pdu::new(
            36,
            SubmitSm {
                source_addr: COctetString::new(b"\xe9t\xe9".to_vec()),
                short_message: os(b"\xe9"),
                ..Default::default()
            },
        ),
    ];
    // Whatever TLVs are left go to one last data_sm.
    v.push(Pdu::new(
        37,
        DataSm {
            tlvs: tlvs.collect(),
            ..Default::default()
        },
    ));
    v
}

#[test]
fn decode_then_encode_gives_back_every_octet() {
    let pdus = samples();
    let mut kinds: Vec<String> = pdus
        .iter()
        .map(|p| format!("{:?}", p.command_id()))
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds.len(),
        34,
        "33 PDU types and an unknown one: {kinds:?}"
    );
    let tags: Vec<Tag> = pdus
        .iter()
        .flat_map(|p| p.body.tlvs())
        .map(|t| t.tag())
        .collect();
    for tag in Tag::ALL.iter().chain(&[Tag(0x1401)]) {
        assert!(tags.contains(tag), "no sample TLV has {tag:?}");
    }

    let wires: Vec<String> = pdus
        .iter()
        .map(|p| hex(&p.to_bytes().expect("sample encodes")))
        .collect();
    let input = wires.join("\n") + "\n";
    let (code, json) = smpp(&["decode", "--reveal-passwords"], &input);
    assert_eq!(code, Some(0), "{json}");
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), wires.len(), "{json}");
    for l in &lines {
        assert!(valid_json(l), "{l}");
    }
    let (code, out) = smpp(&["encode"], &json);
    assert_eq!(code, Some(0), "{out}");
    let back: Vec<&str> = out.lines().collect();
    assert_eq!(back.len(), wires.len(), "{out}");
    for ((want, got), line) in wires.iter().zip(&back).zip(&lines) {
        assert_eq!(got, want, "round trip of {line}");
    }

    // Arguments work as well as stdin.
    let (code, out) = smpp(&["encode", lines[0], lines[9]], "");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out, format!("{}\n{}\n", wires[0], wires[9]));
}

/// Encodes `json`, expects one error line naming `field`, and exit 1.
fn expect_error(json: &str, field: &str, words: &str) {
    let (code, out) = smpp(&["encode"], &format!("{json}\n"));
    assert_eq!(code, Some(1), "{json}: {out}");
    let line = out.trim_end();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(valid_json(line), "{line}");
    assert!(
        line.contains(&format!(r#""field":"{field}""#)),
        "{json}: {line} should name {field}"
    );
    assert!(line.contains(words), "{json}: {line} should say {words}");
}

#[test]
fn bad_json_gives_an_error_naming_the_field() {
    expect_error(
        r#"{"command":"submit_everything","sequence_number":1}"#,
        "command",
        "unknown command",
    );
    expect_error(
        r#"{"command":"query_sm","sequence_number":1,"message_id":"1","source_addr_ton":0,"source_addr":""}"#,
        "source_addr_npi",
        "missing field",
    );
    let long = "9".repeat(22);
    expect_error(
        &format!(
            r#"{{"command":"query_sm","sequence_number":1,"message_id":"1","source_addr_ton":0,"source_addr_npi":0,"source_addr":"{long}"}}"#
        ),
        "source_addr",
        "long",
    );
    expect_error(
        r#"{"command":"deliver_sm_resp","sequence_number":1,"message_id":"","tlvs":[{"tag":"0x0424","value":"0g"}]}"#,
        "tlvs[0].value",
        "invalid hex",
    );
    expect_error(
        r#"{"command":"enquire_link","sequence_number":1,"command_id":"0x00000004"}"#,
        "command_id",
        "does not match",
    );
    expect_error(
        r#"{"command":"bind_transmitter_resp","sequence_number":300,"system_id":7}"#,
        "system_id",
        "expected a string",
    );
    expect_error(
        r#"{"command":"unbind","sequence_number":4294967296}"#,
        "sequence_number",
        "integer",
    );
    expect_error("not json", "", "invalid JSON");
    // A member the PDU type does not have (a typo), at the top and inside a TLV.
    expect_error(
        r#"{"command":"unbind","sequence_number":1,"tlv":[]}"#,
        "tlv",
        "unknown member",
    );
    expect_error(
        r#"{"command":"unbind","sequence_number":1,"tlvs":[{"tag":"0x1401","value":"","vaule":"00"}]}"#,
        "tlvs[0].vaule",
        "unknown member",
    );
    // An octet string with a non-hex digit, among good lines: the good ones still print.
    let (code, out) = smpp(
        &["encode"],
        "{\"command\":\"enquire_link\",\"sequence_number\":1}\n\
         {\"command\":\"0x00010203\",\"command_id\":\"0x00010203\",\"sequence_number\":1,\"body\":\"xx\"}\n",
    );
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, ["00000010000000150000000000000001", lines[1]]);
    assert!(
        lines[1].contains(r#""field":"body""#) && lines[1].contains("invalid hex"),
        "{}",
        lines[1]
    );
}

#[test]
fn decode_redacts_passwords_unless_asked() {
    let bind = smpp_pdu::Pdu::new(
        1,
        smpp_pdu::BindTransmitter {
            system_id: "esme".into(),
            password: "s3cr3t".into(),
            interface_version: 0x34,
            ..Default::default()
        },
    );
    let hex: String = bind
        .to_bytes()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (code, json) = smpp(&["decode", &hex], "");
    assert_eq!(code, Some(0), "{json}");
    assert!(!json.contains("s3cr3t") && json.contains("***"), "{json}");
    let (code, json) = smpp(&["decode", "--reveal-passwords", &hex], "");
    assert_eq!(code, Some(0), "{json}");
    assert!(json.contains("s3cr3t"), "{json}");
}

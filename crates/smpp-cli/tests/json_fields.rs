//! The JSON of `smpp decode` and `smpp encode`, written and read on the codec's field
//! tables: every PDU and TLV the codec knows has a JSON form, values are typed, and
//! `decode | encode` gives back every octet of every test vector.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde_json::Value;
use smpp_pdu::fields::{FieldKind, MESSAGE_STATE};
use smpp_pdu::json::{body_members, Object};
use smpp_pdu::tlv::{NetworkErrorCode, RawTlv};
use smpp_pdu::*;

/// Runs `smpp ARGS` with `stdin`; exit status and stdout.
fn smpp(args: &[&str], stdin: &str) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("smpp runs");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()).expect("stdin"));
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("UTF-8 stdout");
    writer.join().expect("writer");
    (child.wait().expect("wait").code(), out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_one(wire: &[u8]) -> Value {
    let (code, out) = smpp(&["decode", "--reveal-passwords", &hex(wire)], "");
    assert_eq!(code, Some(0), "{out}");
    serde_json::from_str(out.trim()).expect("one JSON object")
}

/// A test fails here when a PDU type or TLV the codec knows has no JSON form: every
/// `command_id` has a field table whose every field is written, and every tag of the
/// TLV table is written typed (not raw) and read back.
#[test]
fn every_known_pdu_and_tlv_has_a_json_form() {
    for &id in CommandId::ALL {
        let specs = Body::field_specs(id).unwrap_or_else(|| panic!("{id:?} has no field table"));
        let body = Body::empty(id).expect("an empty body");
        let mut o = Object::exact();
        body_members(&mut o, &body);
        let json: Value = serde_json::from_str(&o.finish()).expect("JSON");
        for spec in specs {
            assert!(
                json.get(spec.name).is_some(),
                "{id:?}: field {} ({:?}) has no JSON member in {json}",
                spec.name,
                spec.kind
            );
        }
        assert!(json.get("tlvs").is_some(), "{id:?}: no tlvs member");
    }
    for &tag in Tag::ALL {
        let name = Tlv::tag_name(tag).unwrap_or_else(|| panic!("{tag:?} is not in the table"));
        assert!(Tlv::KNOWN.contains(&(tag, name)), "{tag:?}");
    }
    assert_eq!(Tlv::KNOWN.len(), Tag::ALL.len());
    // Kinds with a view of their own in the table.
    assert!(SubmitSm::FIELDS
        .iter()
        .any(|f| f.name == "short_message" && f.kind == FieldKind::ShortMessage));
    assert!(QuerySmResp::FIELDS
        .iter()
        .any(|f| f.name == "message_state" && f.kind == FieldKind::Enum));
}

fn receipt() -> Pdu<'static> {
    let text = "id:0123abc sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Hello";
    Pdu::new(
        3,
        DeliverSm {
            source_addr: "447700900123".into(),
            destination_addr: "12345".into(),
            esm_class: 0x04,
            short_message: OctetString::new(text.as_bytes().to_vec()),
            tlvs: vec![
                Tlv::ReceiptedMessageId("0123abc".into()),
                Tlv::MessageState(2),
                Tlv::NetworkErrorCode(NetworkErrorCode {
                    network_type: 3,
                    error_code: 0x0101,
                }),
                Tlv::UserMessageReference(513),
            ],
            ..Default::default()
        },
    )
}

#[test]
fn decode_shows_typed_tlvs_enum_names_and_a_parsed_receipt() {
    let v = decode_one(&receipt().to_bytes().unwrap());
    let tlvs = v["tlvs"].as_array().expect("tlvs");
    assert_eq!(tlvs[0]["name"], "receipted_message_id");
    assert_eq!(tlvs[0]["value"], "0123abc");
    assert_eq!(tlvs[0]["hex"], "3031323361626300");
    assert_eq!(tlvs[1]["value"], "DELIVERED");
    assert_eq!(tlvs[1]["value_value"], 2);
    assert_eq!(tlvs[2]["value"]["network_type"], 3);
    assert_eq!(tlvs[2]["value"]["error_code"], 257);
    assert_eq!(tlvs[3]["value"], 513);
    let r = &v["receipt"];
    assert_eq!(r["id"], "0123abc");
    assert_eq!(r["stat"], "DELIVRD");
    assert_eq!(r["final"], true);
    assert_eq!(r["err"], "000");
    assert_eq!(r["text"], "Hello");
    assert_eq!(r["network_error_code"]["error_code"], 257);
    assert_eq!(r["fields"]["submit date"], "2501011200");
    assert_eq!(
        v["short_message_text"].as_str().unwrap().get(..10),
        Some("id:0123abc")
    );

    let q = Pdu::new(
        4,
        QuerySmResp {
            message_id: "7".into(),
            message_state: 5,
            ..Default::default()
        },
    );
    let v = decode_one(&q.to_bytes().unwrap());
    assert_eq!(v["message_state"], "UNDELIVERABLE");
    assert_eq!(v["message_state_value"], 5);
    assert_eq!(MESSAGE_STATE.len(), 10);

    // TON, NPI and data_coding by name, with the number beside; a value without a name
    // (a GSM message class coding, a reserved TON) is the number alone.
    let s = Pdu::new(
        5,
        SubmitSm {
            source_addr_ton: 5,
            source_addr_npi: 0,
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            data_coding: 8,
            ..Default::default()
        },
    );
    let v = decode_one(&s.to_bytes().unwrap());
    assert_eq!(v["source_addr_ton"], "ALPHANUMERIC");
    assert_eq!(v["source_addr_ton_value"], 5);
    assert_eq!(v["source_addr_npi"], "UNKNOWN");
    assert_eq!(v["dest_addr_ton"], "INTERNATIONAL");
    assert_eq!(v["dest_addr_npi"], "ISDN");
    assert_eq!(v["data_coding"], "UCS2");
    assert_eq!(v["data_coding_value"], 8);
    let s = Pdu::new(
        6,
        SubmitSm {
            source_addr_ton: 9,
            data_coding: 0xf1,
            ..Default::default()
        },
    );
    let v = decode_one(&s.to_bytes().unwrap());
    assert_eq!(v["source_addr_ton"], 9);
    assert!(v.get("source_addr_ton_value").is_none());
    assert_eq!(v["data_coding"], 0xf1);

    // Each destination of a submit_multi too.
    let m = Pdu::new(
        7,
        SubmitMulti {
            dest_addresses: vec![DestAddress::SmeAddress {
                dest_addr_ton: 2,
                dest_addr_npi: 8,
                destination_addr: "0700900002".into(),
            }],
            ..Default::default()
        },
    );
    let v = decode_one(&m.to_bytes().unwrap());
    assert_eq!(v["dest_addresses"][0]["dest_addr_ton"], "NATIONAL");
    assert_eq!(v["dest_addresses"][0]["dest_addr_npi"], "NATIONAL");
    assert_eq!(v["dest_addresses"][0]["dest_addr_npi_value"], 8);
}

#[test]
fn decode_shows_text_by_data_coding_and_the_udh() {
    // UCS-2 with a concatenation UDH: reference 0x2a, segment 1 of 2.
    let mut sm = vec![0x05, 0x00, 0x03, 0x2a, 0x02, 0x01];
    sm.extend(text::encode("Привет", text::Encoding::Ucs2).unwrap());
    let pdu = Pdu::new(
        9,
        SubmitSm {
            esm_class: 0x40,
            data_coding: 8,
            short_message: OctetString::new(sm.clone()),
            tlvs: vec![Tlv::Other(RawTlv {
                tag: Tag(0x1401),
                value: OctetString::new(vec![0xde, 0xad]),
            })],
            ..Default::default()
        },
    );
    let v = decode_one(&pdu.to_bytes().unwrap());
    assert_eq!(v["short_message"], hex(&sm));
    assert_eq!(v["short_message_text"], "Привет");
    let udh = &v["short_message_udh"];
    assert_eq!(udh["hex"], "0500032a0201");
    assert_eq!(udh["elements"][0]["iei"], 0);
    assert_eq!(udh["elements"][0]["data"], "2a0201");
    assert_eq!(udh["concat"]["reference"], 42);
    assert_eq!(udh["concat"]["total"], 2);
    assert_eq!(udh["concat"]["seq"], 1);
    assert_eq!(v["tlvs"][0]["hex"], "dead");
    assert!(v["tlvs"][0].get("value").is_none());

    // message_payload in data_sm: decoded by the PDU's data_coding (Latin-1).
    let pdu = Pdu::new(
        10,
        DataSm {
            data_coding: 3,
            tlvs: vec![Tlv::MessagePayload(OctetString::new(b"Caf\xe9".to_vec()))],
            ..Default::default()
        },
    );
    let v = decode_one(&pdu.to_bytes().unwrap());
    assert_eq!(v["tlvs"][0]["value"], "436166e9");
    assert_eq!(v["tlvs"][0]["value_text"], "Café");

    // A known tag with a malformed value stays raw and says so.
    let pdu = Pdu::new(
        11,
        SubmitSm {
            tlvs: vec![Tlv::decode(Tag(0x000d), b"\x01\x02").into_owned()],
            ..Default::default()
        },
    );
    let v = decode_one(&pdu.to_bytes().unwrap());
    assert_eq!(v["tlvs"][0]["name"], "source_addr_subunit");
    assert_eq!(v["tlvs"][0]["malformed"], true);
    assert_eq!(v["tlvs"][0]["hex"], "0102");
}

#[test]
fn encode_reads_typed_values_names_and_text() {
    let json = r#"{"command":"submit_sm","sequence_number":5,"service_type":"","source_addr_ton":"alphanumeric","source_addr_npi":0,"source_addr":"Brand","dest_addr_ton":1,"dest_addr_npi":"ISDN","destination_addr":"447700900124","esm_class":0,"protocol_id":0,"priority_flag":0,"schedule_delivery_time":"","validity_period":"","registered_delivery":1,"replace_if_present_flag":0,"data_coding":"UCS2","sm_default_msg_id":0,"short_message_text":"Hé","tlvs":[{"tag":"0x0427","value":"DELIVERED"},{"tag":"0x0423","value":{"network_type":3,"error_code":17}},{"tag":"0x020c","value":7},{"tag":"0x1401","hex":"beef"}]}"#;
    let (code, out) = smpp(&["encode", json], "");
    assert_eq!(code, Some(0), "{out}");
    let bytes: Vec<u8> = (0..out.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&out.trim()[i..i + 2], 16).unwrap())
        .collect();
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    let Body::SubmitSm(s) = pdu.body else {
        panic!("{pdu:?}")
    };
    assert_eq!(s.short_message.as_bytes(), [0x00, 0x48, 0x00, 0xe9]);
    assert_eq!((s.source_addr_ton, s.source_addr_npi), (5, 0));
    assert_eq!((s.dest_addr_ton, s.dest_addr_npi), (1, 1));
    assert_eq!(s.data_coding, 8);
    assert_eq!(s.tlvs[0], Tlv::MessageState(2));
    assert_eq!(
        s.tlvs[1],
        Tlv::NetworkErrorCode(NetworkErrorCode {
            network_type: 3,
            error_code: 17
        })
    );
    assert_eq!(s.tlvs[2], Tlv::SarMsgRefNum(7));
    assert_eq!(s.tlvs[3].tag(), Tag(0x1401));

    // Typed value and hex that disagree are an error naming the TLV.
    let bad = r#"{"command":"generic_nack","sequence_number":1,"tlvs":[{"tag":"0x020c","value":7,"hex":"0008"}]}"#;
    let (code, out) = smpp(&["encode", bad], "");
    assert_eq!(code, Some(1));
    assert!(out.contains(r#""field":"tlvs[0].value""#), "{out}");
    assert!(out.contains("disagree"), "{out}");

    // A name the table does not have is an error naming the field.
    let bad = json.replace(r#""data_coding":"UCS2""#, r#""data_coding":"UTF8""#);
    let (code, out) = smpp(&["encode", &bad], "");
    assert_eq!(code, Some(1));
    assert!(out.contains(r#""field":"data_coding""#), "{out}");
}

/// Every PDU in the fuzz seeds (the test vectors of the codec: every PDU type, tolerated
/// forms, unknown commands, vendor and malformed TLVs), and every TLV the codec knows,
/// goes through `decode | encode` and comes back byte for byte.
#[test]
fn decode_then_encode_is_byte_exact_over_the_vectors() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/decode_pdu");
    let mut inputs = Vec::new();
    let mut expected = Vec::new();
    let mut tolerated = 0;
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("seeds")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    for path in names {
        let bytes = std::fs::read(&path).expect("seed");
        let mut at = 0;
        while let Ok(Some((pdu, used))) = Pdu::decode(&bytes[at..]) {
            let original = &bytes[at..at + used];
            at += used;
            // Forms the codec normalises or refuses to write (a missing NUL, 255
            // destinations, a 255-octet short_message) come back too, through `wire_hex`.
            if pdu.to_bytes().ok().as_deref() != Some(original) {
                tolerated += 1;
            }
            inputs.push(hex(original));
            expected.push(hex(original));
        }
    }
    // Every TLV of the table, typed, in one PDU each.
    for &(tag, _) in Tlv::KNOWN {
        for value in [
            &b"\x01"[..],
            b"\x00\x07",
            b"\x00\x00\x00\x2a",
            b"\x01\x00\x05",
            b"abc\x00",
            b"250101120000000+\x00",
            b"\x01\x02\x03\x04\x05\x06",
        ] {
            let tlv = Tlv::decode(tag, value);
            if !matches!(tlv, Tlv::Other(_)) {
                let wire = Pdu::new(
                    1,
                    GenericNack {
                        tlvs: vec![tlv.into_owned()],
                    },
                )
                .to_bytes()
                .unwrap();
                inputs.push(hex(&wire));
                expected.push(hex(&wire));
                break;
            }
        }
    }
    assert!(inputs.len() > 100, "{} vectors", inputs.len());
    assert!(tolerated >= 5, "{tolerated} tolerated forms");
    let (code, decoded) = smpp(
        &["decode", "--reveal-passwords"],
        &(inputs.join("\n") + "\n"),
    );
    assert_eq!(code, Some(0), "{decoded}");
    let (code, encoded) = smpp(&["encode"], &decoded);
    assert_eq!(code, Some(0), "{encoded}");
    let got: Vec<&str> = encoded.lines().collect();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(
            g,
            e,
            "vector {} ({}):\n{}",
            i,
            inputs[i],
            decoded.lines().nth(i).unwrap()
        );
    }
}

/// `wire_hex` is only given back while the fields still describe it: an edited field is
/// encoded in the strict form.
#[test]
fn wire_hex_gives_way_to_edited_fields() {
    // `submit_sm_resp` whose message_id runs to the end of the body without its NUL.
    let wire = "0000001580000004000000000000000141424344";
    let wire = &wire[..wire.len() - 2];
    let wire = format!("{:08x}{}", wire.len() / 2, &wire[8..]);
    let (code, decoded) = smpp(&["decode", &wire], "");
    assert_eq!(code, Some(0), "{decoded}");
    assert!(decoded.contains(r#""wire_hex""#), "{decoded}");
    let (_, back) = smpp(&["encode"], &decoded);
    assert_eq!(back.trim(), wire);
    let edited = decoded.replace(r#""message_id":"ABC""#, r#""message_id":"XYZ""#);
    assert_ne!(edited, decoded);
    let (code, back) = smpp(&["encode"], &edited);
    assert_eq!(code, Some(0), "{back}");
    assert_eq!(back.trim(), "0000001480000004000000000000000158595a00");
}

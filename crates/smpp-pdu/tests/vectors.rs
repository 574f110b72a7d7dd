//! Hand-assembled byte vectors: every PDU type decoded to its typed value and encoded back
//! to the same octets, plus the framing behaviour of `Header::peek`.
//!
//! Every vector is written field by field from the SMPP 3.4 / 5.0 layouts; none was produced
//! by the encoder under test. Inside a vector, `//` starts a comment, `"text"` stands for the
//! ASCII octets of `text` (no terminator: NULs are always written out as `00`) and the rest
//! is hexadecimal.

use std::collections::BTreeSet;

use smpp_pdu::tlv::{
    BroadcastAreaIdentifier, BroadcastContentType, BroadcastFrequencyInterval, NetworkErrorCode,
    RawTlv,
};
use smpp_pdu::{
    AlertNotification, BindReceiver, BindReceiverResp, BindTransceiver, BindTransceiverResp,
    BindTransmitter, BindTransmitterResp, Body, BroadcastSm, BroadcastSmResp, CancelBroadcastSm,
    CancelBroadcastSmResp, CancelSm, CancelSmResp, CommandId, CommandStatus, DataSm, DataSmResp,
    DecodeErrorKind, DeliverSm, DeliverSmResp, DestAddress, EnquireLink, EnquireLinkResp,
    GenericNack, Header, OctetString, Outbind, Pdu, QueryBroadcastSm, QueryBroadcastSmResp,
    QuerySm, QuerySmResp, ReplaceSm, ReplaceSmResp, SubmitMulti, SubmitMultiResp, SubmitSm,
    SubmitSmResp, Tag, Tlv, Unbind, UnbindResp, UnsuccessSme, DEFAULT_MAX_COMMAND_LENGTH,
};

/// Parses the vector notation described in the file header.
fn hex(src: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in src.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut rest = line.trim_start();
        while !rest.is_empty() {
            if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .expect("unterminated quoted text in vector");
                out.extend_from_slice(&quoted.as_bytes()[..end]);
                rest = quoted[end + 1..].trim_start();
            } else {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(rest.len());
                let token = &rest[..end];
                assert!(
                    token.len() % 2 == 0,
                    "odd number of hex digits in vector token {token:?}"
                );
                for pair in token.as_bytes().chunks(2) {
                    let pair = std::str::from_utf8(pair).expect("ASCII hex");
                    out.push(u8::from_str_radix(pair, 16).expect("hex digit in vector"));
                }
                rest = rest[end..].trim_start();
            }
        }
    }
    out
}

fn dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| {
            c.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks that the vector is self-consistent (its `command_length` is its size).
fn parse_vector(name: &str, src: &str) -> Vec<u8> {
    let bytes = hex(src);
    assert!(bytes.len() >= 16, "{name}: vector shorter than a header");
    let announced = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    assert_eq!(
        announced,
        bytes.len(),
        "{name}: the vector's command_length disagrees with its size"
    );
    bytes
}

/// Both directions: decode(bytes) == expected and expected.encode() == bytes.
fn check_vector(name: &str, src: &str, expected: &Pdu<'_>) {
    let bytes = parse_vector(name, src);

    let header = Header::peek(&bytes)
        .unwrap_or_else(|e| panic!("{name}: peek failed: {e}"))
        .unwrap_or_else(|| panic!("{name}: peek wants more bytes"));
    assert_eq!(header.command_length as usize, bytes.len(), "{name}");
    assert_eq!(header.command_id, expected.command_id(), "{name}");
    assert_eq!(header.command_status, expected.command_status, "{name}");
    assert_eq!(header.sequence_number, expected.sequence_number, "{name}");

    let (pdu, used) = Pdu::decode(&bytes)
        .unwrap_or_else(|e| panic!("{name}: decode failed: {e}"))
        .unwrap_or_else(|| panic!("{name}: decode wants more bytes"));
    assert_eq!(&pdu, expected, "{name}: decoded PDU");
    assert_eq!(used, bytes.len(), "{name}: octets consumed");

    // Decoding stops at command_length even when the next PDU follows in the buffer.
    let mut stream = bytes.clone();
    stream.extend_from_slice(&[0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x15]);
    let (again, used) = Pdu::decode(&stream).unwrap().unwrap();
    assert_eq!(&again, expected, "{name}: decoded PDU with trailing bytes");
    assert_eq!(
        used,
        bytes.len(),
        "{name}: octets consumed with trailing bytes"
    );

    // Encoding appends after whatever the buffer already holds.
    let mut out = vec![0xEE, 0xEF];
    let n = expected
        .encode(&mut out)
        .unwrap_or_else(|e| panic!("{name}: encode failed: {e}"));
    assert_eq!(
        &out[..2],
        &[0xEE, 0xEF],
        "{name}: encode touched earlier bytes"
    );
    assert_eq!(dump(&out[2..]), dump(&bytes), "{name}: encoded octets");
    assert_eq!(n, bytes.len(), "{name}: returned length");
    assert_eq!(expected.to_bytes().unwrap(), bytes, "{name}: to_bytes");
}

/// One direction plus the canonical re-encoding: a tolerated input decodes to `expected`,
/// which the encoder writes in its strict form `canonical`.
fn check_tolerated(name: &str, src: &str, expected: &Pdu<'_>, canonical: &str) {
    let bytes = parse_vector(name, src);
    let (pdu, used) = Pdu::decode(&bytes)
        .unwrap_or_else(|e| panic!("{name}: decode failed: {e}"))
        .unwrap_or_else(|| panic!("{name}: decode wants more bytes"));
    assert_eq!(&pdu, expected, "{name}: decoded PDU");
    assert_eq!(used, bytes.len(), "{name}");
    check_vector(name, canonical, expected);
}

macro_rules! vectors {
    ($( $(#[$attr:meta])* $name:ident: $hex:expr => $pdu:expr; )*) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                check_vector(stringify!($name), $hex, &$pdu);
            }
        )*

        /// Every vector of the table: name, notation and expected PDU.
        fn all_vectors() -> Vec<(&'static str, &'static str, Pdu<'static>)> {
            vec![$((stringify!($name), $hex, $pdu)),*]
        }
    };
}

/// The body of a submit_sm with every field empty or zero (17 octets).
macro_rules! minimal_submit_sm_body {
    () => {
        "
        00          // service_type empty
        00 00 00    // source_addr_ton, source_addr_npi, source_addr empty
        00 00 00    // dest_addr_ton, dest_addr_npi, destination_addr empty
        00 00 00    // esm_class, protocol_id, priority_flag
        00 00       // schedule_delivery_time, validity_period
        00 00 00 00 // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
        00          // sm_length
        "
    };
}

fn minimal_submit_sm_with(tlvs: Vec<Tlv<'static>>) -> Pdu<'static> {
    Pdu::new(
        1,
        SubmitSm {
            tlvs,
            ..Default::default()
        },
    )
}

vectors! {
    generic_nack:
        "00000010 80000000 00000003 00000007 // header only, ESME_RINVCMDID"
        => Pdu::response(7, CommandStatus::ESME_RINVCMDID, GenericNack::default());

    bind_transmitter: r#"
        0000002F 00000002 00000000 00000001 // header
        "SMPP3TEST" 00                      // system_id
        "secret08" 00                       // password
        "SUBMIT1" 00                        // system_type
        34                                  // interface_version 3.4
        01 01                               // addr_ton, addr_npi
        00                                  // address_range ""
    "# => Pdu::new(1, BindTransmitter {
            system_id: "SMPP3TEST".into(),
            password: "secret08".into(),
            system_type: "SUBMIT1".into(),
            interface_version: 0x34,
            addr_ton: 1,
            addr_npi: 1,
            address_range: "".into(),
            tlvs: vec![],
        });

    bind_transmitter_resp: r#"
        0000001A 80000002 00000000 00000001
        "SMSC" 00                           // system_id
        0210 0001 34                        // sc_interface_version = 0x34
    "# => Pdu::new(1, BindTransmitterResp {
            system_id: "SMSC".into(),
            tlvs: vec![Tlv::ScInterfaceVersion(0x34)],
        });

    bind_transmitter_resp_error_with_body: r#"
        00000015 80000002 0000000D 00000001 // ESME_RBINDFAIL
        "SMSC" 00                           // system_id
    "# => Pdu::response(1, CommandStatus::ESME_RBINDFAIL, BindTransmitterResp {
            system_id: "SMSC".into(),
            tlvs: vec![],
        });

    bind_receiver: r#"
        00000022 00000001 00000000 00000002
        "esme" 00                           // system_id
        "pw" 00                             // password
        00                                  // system_type ""
        50                                  // interface_version 5.0
        00 00                               // addr_ton, addr_npi
        "^1234" 00                          // address_range
    "# => Pdu::new(2, BindReceiver {
            system_id: "esme".into(),
            password: "pw".into(),
            interface_version: 0x50,
            address_range: "^1234".into(),
            ..Default::default()
        });

    bind_receiver_resp: r#"
        0000001C 80000001 00000000 00000002
        "SMSC-X" 00                         // system_id
        0210 0001 50                        // sc_interface_version = 0x50
    "# => Pdu::new(2, BindReceiverResp {
            system_id: "SMSC-X".into(),
            tlvs: vec![Tlv::ScInterfaceVersion(0x50)],
        });

    bind_transceiver: r#"
        0000002A 00000009 00000000 00000003
        "smppclient1" 00                    // system_id
        "password" 00                       // password (8 characters, the maximum)
        00                                  // system_type ""
        34 00 00                            // interface_version, addr_ton, addr_npi
        00                                  // address_range ""
    "# => Pdu::new(3, BindTransceiver {
            system_id: "smppclient1".into(),
            password: "password".into(),
            interface_version: 0x34,
            ..Default::default()
        });

    bind_transceiver_resp: r#"
        00000014 80000009 00000000 00000003
        "TRX" 00                            // system_id, no TLVs
    "# => Pdu::new(3, BindTransceiverResp {
            system_id: "TRX".into(),
            tlvs: vec![],
        });

    outbind: r#"
        0000001A 0000000B 00000000 00000004
        "SMSC" 00                           // system_id
        "pass" 00                           // password
    "# => Pdu::new(4, Outbind {
            system_id: "SMSC".into(),
            password: "pass".into(),
            tlvs: vec![],
        });

    unbind: "00000010 00000006 00000000 0000000A" => Pdu::new(10, Unbind::default());
    unbind_resp: "00000010 80000006 00000000 0000000A" => Pdu::new(10, UnbindResp::default());
    enquire_link: "00000010 00000015 00000000 00000003" => Pdu::new(3, EnquireLink::default());
    enquire_link_resp:
        "00000010 80000015 00000000 00000003" => Pdu::new(3, EnquireLinkResp::default());

    enquire_link_resp_congestion_state: r#"
        00000015 80000015 00000000 00000004
        0428 0001 32                        // congestion_state = 50 (SMPP 5.0)
    "# => Pdu::new(4, EnquireLinkResp { tlvs: vec![Tlv::CongestionState(50)] });

    cancel_sm_resp: "00000010 80000008 00000000 00000005" => Pdu::new(5, CancelSmResp::default());
    replace_sm_resp:
        "00000010 80000007 00000000 00000006" => Pdu::new(6, ReplaceSmResp::default());
    cancel_broadcast_sm_resp:
        "00000010 80000113 00000000 00000009" => Pdu::new(9, CancelBroadcastSmResp::default());

    submit_sm: r#"
        00000048 00000004 00000000 00000001
        00                                  // service_type ""
        05 00 "Sender" 00                   // source_addr_ton (alphanumeric), npi, source_addr
        01 01 "447700900123" 00             // dest_addr_ton, npi, destination_addr
        00 00 00                            // esm_class, protocol_id, priority_flag
        00                                  // schedule_delivery_time ""
        "000002000000000R" 00               // validity_period: relative, 2 days
        01 00 00 00                         // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        05 "Hello"                          // sm_length, short_message
    "# => Pdu::new(1, SubmitSm {
            source_addr_ton: 5,
            source_addr: "Sender".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900123".into(),
            validity_period: "000002000000000R".into(),
            registered_delivery: 1,
            short_message: "Hello".into(),
            ..Default::default()
        });

    submit_sm_message_payload_and_sar: r#"
        0000005B 00000004 00000000 00000002
        "CMT" 00                            // service_type
        01 01 "12345" 00                    // source
        01 01 "6789" 00                     // destination
        00 00 01                            // esm_class, protocol_id, priority_flag 1
        "120410101112300+" 00               // schedule_delivery_time, absolute
        00                                  // validity_period ""
        00 00 08 00                         // registered_delivery, replace_if_present, data_coding UCS-2, sm_default_msg_id
        00                                  // sm_length 0: the text is in message_payload
        020C 0002 1234                      // sar_msg_ref_num 0x1234
        020E 0001 02                        // sar_total_segments 2
        020F 0001 01                        // sar_segment_seqnum 1
        0424 000A 0048 0065 006C 006C 006F  // message_payload "Hello" in UCS-2
    "# => Pdu::new(2, SubmitSm {
            service_type: "CMT".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "6789".into(),
            priority_flag: 1,
            schedule_delivery_time: "120410101112300+".into(),
            data_coding: 8,
            tlvs: vec![
                Tlv::SarMsgRefNum(0x1234),
                Tlv::SarTotalSegments(2),
                Tlv::SarSegmentSeqnum(1),
                Tlv::MessagePayload(
                    (&[0x00, 0x48, 0x00, 0x65, 0x00, 0x6C, 0x00, 0x6C, 0x00, 0x6F]).into(),
                ),
            ],
            ..Default::default()
        });

    submit_sm_unknown_vendor_tlv_kept_raw: r#"
        0000001A 80000004 00000000 00000003
        "id" 00                             // message_id
        1401 0003 AABBCC                    // vendor TLV 0x1401, unknown to the codec
    "# => Pdu::new(3, SubmitSmResp {
            message_id: "id".into(),
            tlvs: vec![Tlv::Other(RawTlv { tag: Tag(0x1401), value: (&[0xAA, 0xBB, 0xCC]).into() })],
        });

    submit_sm_source_addr_subunit_two_octets: concat!(
        "00000027 00000004 00000000 00000001",
        minimal_submit_sm_body!(),
        "000D 0002 0001                      // source_addr_subunit with 2 octets (python-smpplib)"
    )
        => minimal_submit_sm_with(vec![Tlv::Other(RawTlv {
            tag: Tag::SOURCE_ADDR_SUBUNIT,
            value: (&[0x00, 0x01]).into(),
        })]);

    submit_sm_alert_on_message_delivery_empty: concat!(
        "00000025 00000004 00000000 00000001",
        minimal_submit_sm_body!(),
        "130C 0000                           // alert_on_message_delivery, SMPP 3.4: no value"
    )
        => minimal_submit_sm_with(vec![Tlv::AlertOnMessageDelivery(None)]);

    submit_sm_alert_on_message_delivery_one_octet: concat!(
        "00000026 00000004 00000000 00000001",
        minimal_submit_sm_body!(),
        "130C 0001 02                        // alert_on_message_delivery, SMPP 5.0: one octet"
    )
        => minimal_submit_sm_with(vec![Tlv::AlertOnMessageDelivery(Some(2))]);

    submit_sm_resp: r#"
        00000019 80000004 00000000 00000001
        "5a1b2c3d" 00                       // message_id
    "# => Pdu::new(1, SubmitSmResp { message_id: "5a1b2c3d".into(), tlvs: vec![] });

    submit_sm_resp_throttled_header_only:
        "00000010 80000004 00000058 00000002 // ESME_RTHROTTLED, body omitted"
        => Pdu::response(2, CommandStatus::ESME_RTHROTTLED, SubmitSmResp::default());

    submit_sm_resp_unknown_status: r#"
        00000012 80000004 00000444 00000001 // vendor-specific status 0x444
        "x" 00                              // message_id
    "# => Pdu::response(1, CommandStatus(0x444), SubmitSmResp { message_id: "x".into(), tlvs: vec![] });

    deliver_sm_delivery_receipt: r#"
        00000068 00000005 00000000 00000011
        00                                  // service_type ""
        01 01 "447700900123" 00             // source: the handset
        05 00 "Sender" 00                   // destination: the original sender
        04 00 00                            // esm_class 0x04 = SMSC delivery receipt
        00 00                               // schedule_delivery_time, validity_period
        00 00 00 00                         // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        1E "id:abc123 stat:DELIVRD err:000" // sm_length 30, receipt text
        001E 0007 "abc123" 00               // receipted_message_id
        0427 0001 02                        // message_state DELIVERED
        0423 0003 03 0000                   // network_error_code: GSM, 0
    "# => Pdu::new(0x11, DeliverSm {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "447700900123".into(),
            dest_addr_ton: 5,
            destination_addr: "Sender".into(),
            esm_class: 0x04,
            short_message: "id:abc123 stat:DELIVRD err:000".into(),
            tlvs: vec![
                Tlv::ReceiptedMessageId("abc123".into()),
                Tlv::MessageState(2),
                Tlv::NetworkErrorCode(NetworkErrorCode { network_type: 3, error_code: 0 }),
            ],
            ..Default::default()
        });

    deliver_sm_resp: r#"
        00000011 80000005 00000000 00000011
        00                                  // message_id "" (unused)
    "# => Pdu::new(0x11, DeliverSmResp::default());

    replace_sm: r#"
        00000036 00000007 00000000 00000006
        "msg-1" 00                          // message_id
        01 01 "12345" 00                    // source
        00                                  // schedule_delivery_time ""
        "000001000000000R" 00               // validity_period: 1 day
        01 00                               // registered_delivery, sm_default_msg_id
        03 "new"                            // sm_length, short_message
    "# => Pdu::new(6, ReplaceSm {
            message_id: "msg-1".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            validity_period: "000001000000000R".into(),
            registered_delivery: 1,
            short_message: "new".into(),
            ..Default::default()
        });

    cancel_sm: r#"
        00000026 00000008 00000000 00000005
        00                                  // service_type ""
        "msg-1" 00                          // message_id
        01 01 "12345" 00                    // source
        01 01 "6789" 00                     // destination
    "# => Pdu::new(5, CancelSm {
            message_id: "msg-1".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "6789".into(),
            ..Default::default()
        });

    query_sm: r#"
        0000001E 00000003 00000000 00000008
        "msg-1" 00                          // message_id
        01 01 "12345" 00                    // source
    "# => Pdu::new(8, QuerySm {
            message_id: "msg-1".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            tlvs: vec![],
        });

    query_sm_resp: r#"
        00000029 80000003 00000000 00000008
        "msg-1" 00                          // message_id
        "240410101112000+" 00               // final_date
        02 00                               // message_state DELIVERED, error_code
    "# => Pdu::new(8, QuerySmResp {
            message_id: "msg-1".into(),
            final_date: "240410101112000+".into(),
            message_state: 2,
            error_code: 0,
            tlvs: vec![],
        });

    submit_multi: r#"
        00000037 00000021 00000000 0000000C
        00                                  // service_type ""
        01 01 "12345" 00                    // source
        02                                  // number_of_dests
        01 01 01 "4477" 00                  // dest_flag 1 (SME): ton, npi, destination_addr
        02 "friends" 00                     // dest_flag 2 (distribution list): dl_name
        00 00 00                            // esm_class, protocol_id, priority_flag
        00 00                               // schedule_delivery_time, validity_period
        00 00 00 00                         // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        02 "Hi"                             // sm_length, short_message
    "# => Pdu::new(12, SubmitMulti {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            dest_addresses: vec![
                DestAddress::SmeAddress {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "4477".into(),
                },
                DestAddress::DistributionList { dl_name: "friends".into() },
            ],
            short_message: "Hi".into(),
            ..Default::default()
        });

    submit_multi_resp_spec_example: r#"
        0000002D 80000021 00000000 0000000C
        41424300                            // message_id "ABC"
        02                                  // no_unsuccess
        01 01 "55555" 00 00000005           // ton, npi, destination_addr, error_status_code
        02 08 "65455" 00 00000015
    "# => Pdu::new(12, SubmitMultiResp {
            message_id: "ABC".into(),
            unsuccess_smes: vec![
                UnsuccessSme {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "55555".into(),
                    error_status_code: CommandStatus(0x05),
                },
                UnsuccessSme {
                    dest_addr_ton: 2,
                    dest_addr_npi: 8,
                    destination_addr: "65455".into(),
                    error_status_code: CommandStatus(0x15),
                },
            ],
            tlvs: vec![],
        });

    submit_multi_resp_all_accepted: r#"
        00000015 80000021 00000000 0000000D
        "ABC" 00                            // message_id
        00                                  // no_unsuccess 0
    "# => Pdu::new(13, SubmitMultiResp { message_id: "ABC".into(), ..Default::default() });

    alert_notification: r#"
        0000002B 00000102 00000000 00000020
        01 01 "447700900123" 00             // source_addr_ton, npi, source_addr (COS(65))
        00 00 "esme" 00                     // esme_addr_ton, npi, esme_addr
        0422 0001 00                        // ms_availability_status: available
    "# => Pdu::new(0x20, AlertNotification {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "447700900123".into(),
            esme_addr: "esme".into(),
            tlvs: vec![Tlv::MsAvailabilityStatus(0)],
            ..Default::default()
        });

    data_sm: r#"
        00000039 00000103 00000000 00000021
        "WAP" 00                            // service_type
        01 01 "12345" 00                    // source (COS(65))
        01 01 "6789" 00                     // destination (COS(65))
        00 00 04                            // esm_class, registered_delivery, data_coding 8-bit
        020A 0002 23F0                      // source_port 9200
        020B 0002 0B84                      // destination_port 2948
        0424 0003 010203                    // message_payload
    "# => Pdu::new(0x21, DataSm {
            service_type: "WAP".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "6789".into(),
            data_coding: 4,
            tlvs: vec![
                Tlv::SourcePort(9200),
                Tlv::DestinationPort(2948),
                Tlv::MessagePayload((&[1, 2, 3]).into()),
            ],
            ..Default::default()
        });

    data_sm_resp: r#"
        00000014 80000103 00000000 00000021
        "d-1" 00                            // message_id
    "# => Pdu::new(0x21, DataSmResp { message_id: "d-1".into(), tlvs: vec![] });

    data_sm_resp_error_with_body: r#"
        00000023 80000103 000000FE 00000022 // ESME_RDELIVERYFAILURE
        00                                  // message_id ""
        0425 0001 01                        // delivery_failure_reason 1
        001D 0009 "no route" 00             // additional_status_info_text
    "# => Pdu::response(0x22, CommandStatus::ESME_RDELIVERYFAILURE, DataSmResp {
            message_id: "".into(),
            tlvs: vec![
                Tlv::DeliveryFailureReason(1),
                Tlv::AdditionalStatusInfoText("no route".into()),
            ],
        });

    broadcast_sm: r#"
        0000004D 00000111 00000000 00000030
        00                                  // service_type ""
        01 01 "12345" 00                    // source
        00                                  // message_id ""
        01                                  // priority_flag
        00                                  // schedule_delivery_time ""
        "000001000000000R" 00               // validity_period
        00 00 00                            // replace_if_present_flag, data_coding, sm_default_msg_id
        0606 0005 00 "Area"                 // broadcast_area_identifier: format 0 (alias), "Area"
        0601 0003 01 0000                   // broadcast_content_type: GSM, type 0
        0604 0002 0001                      // broadcast_rep_num 1
        0605 0003 09 000A                   // broadcast_frequency_interval: 10 minutes
    "# => Pdu::new(0x30, BroadcastSm {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            priority_flag: 1,
            validity_period: "000001000000000R".into(),
            tlvs: vec![
                Tlv::BroadcastAreaIdentifier(BroadcastAreaIdentifier {
                    format: 0,
                    details: "Area".into(),
                }),
                Tlv::BroadcastContentType(BroadcastContentType { network_type: 1, content_type: 0 }),
                Tlv::BroadcastRepNum(1),
                Tlv::BroadcastFrequencyInterval(BroadcastFrequencyInterval { time_unit: 9, number: 10 }),
            ],
            ..Default::default()
        });

    broadcast_sm_resp: r#"
        00000015 80000111 00000000 00000030
        "bc-1" 00                           // message_id
    "# => Pdu::new(0x30, BroadcastSmResp { message_id: "bc-1".into(), tlvs: vec![] });

    query_broadcast_sm: r#"
        0000001D 00000112 00000000 00000031
        "bc-1" 00                           // message_id
        01 01 "12345" 00                    // source
    "# => Pdu::new(0x31, QueryBroadcastSm {
            message_id: "bc-1".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            tlvs: vec![],
        });

    query_broadcast_sm_resp: r#"
        00000028 80000112 00000000 00000031
        "bc-1" 00                           // message_id
        0427 0001 02                        // message_state
        0606 0005 00 "Area"                 // broadcast_area_identifier
        0608 0001 64                        // broadcast_area_success 100 %
    "# => Pdu::new(0x31, QueryBroadcastSmResp {
            message_id: "bc-1".into(),
            tlvs: vec![
                Tlv::MessageState(2),
                Tlv::BroadcastAreaIdentifier(BroadcastAreaIdentifier {
                    format: 0,
                    details: "Area".into(),
                }),
                Tlv::BroadcastAreaSuccess(100),
            ],
        });

    query_broadcast_sm_resp_broadcast_end_time: r#"
        00000027 80000112 00000000 00000032
        "b" 00                              // message_id
        0609 0011 "240410101112000+" 00     // broadcast_end_time with its NUL (17 octets)
    "# => Pdu::new(0x32, QueryBroadcastSmResp {
            message_id: "b".into(),
            tlvs: vec![Tlv::BroadcastEndTime("240410101112000+".into())],
        });

    cancel_broadcast_sm: r#"
        0000001E 00000113 00000000 00000033
        00                                  // service_type ""
        "bc-1" 00                           // message_id
        01 01 "12345" 00                    // source
    "# => Pdu::new(0x33, CancelBroadcastSm {
            message_id: "bc-1".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "12345".into(),
            ..Default::default()
        });

    unknown_command_id: r#"
        00000014 00000099 00000000 00000001 // command_id 0x99 is not defined
        DEADBEEF                            // kept raw
    "# => Pdu::new(1, Body::Unknown {
            command_id: CommandId(0x99),
            body: (&[0xDE, 0xAD, 0xBE, 0xEF]).into(),
        });

    unknown_response_header_only:
        "00000010 80000099 00000003 00000005 // unknown response id with ESME_RINVCMDID"
        => Pdu::response(5, CommandStatus::ESME_RINVCMDID, Body::Unknown {
            command_id: CommandId(0x8000_0099),
            body: OctetString::EMPTY,
        });
}

#[test]
fn vectors_cover_every_command_id_and_unknown() {
    let vectors = all_vectors();
    let covered: BTreeSet<CommandId> = vectors.iter().map(|(_, _, p)| p.command_id()).collect();
    let missing: Vec<CommandId> = CommandId::ALL
        .iter()
        .copied()
        .filter(|c| !covered.contains(c))
        .collect();
    assert!(missing.is_empty(), "no vector for {missing:?}");
    assert!(vectors
        .iter()
        .any(|(_, _, p)| matches!(p.body, Body::Unknown { .. })));
    // 33 known command ids plus Body::Unknown: the 34 body variants.
    assert_eq!(CommandId::ALL.len(), 33);
}

#[test]
fn vector_tlvs_report_their_tags() {
    let (_, src, _) = all_vectors()
        .into_iter()
        .find(|(n, _, _)| *n == "deliver_sm_delivery_receipt")
        .unwrap();
    let bytes = hex(src);
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    let Body::DeliverSm(dsm) = &pdu.body else {
        panic!("not a deliver_sm: {pdu:?}");
    };
    assert_eq!(
        dsm.tlv(Tag::RECEIPTED_MESSAGE_ID),
        Some(&Tlv::ReceiptedMessageId("abc123".into()))
    );
    assert_eq!(dsm.tlv(Tag::MESSAGE_STATE), Some(&Tlv::MessageState(2)));
    assert_eq!(dsm.tlv(Tag::MESSAGE_PAYLOAD), None);
    assert_eq!(pdu.body.tlvs().len(), 3);
}

#[test]
fn malformed_known_tag_is_flagged() {
    let raw = RawTlv {
        tag: Tag::SOURCE_ADDR_SUBUNIT,
        value: (&[0, 1]).into(),
    };
    assert!(raw.is_malformed_known_tag());
    let vendor = RawTlv {
        tag: Tag(0x1401),
        value: (&[0xAA]).into(),
    };
    assert!(!vendor.is_malformed_known_tag());
    assert!(Tag(0x1401).is_vendor_specific());
}

// ---------------------------------------------------------------------------------------
// Tolerated inputs: decoded, then re-encoded in the strict form.
// ---------------------------------------------------------------------------------------

#[test]
fn bind_transmitter_resp_without_final_nul_is_tolerated() {
    check_tolerated(
        "bind_transmitter_resp_without_final_nul",
        r#"
        00000014 80000002 00000000 00000001
        "SMSC"                              // system_id runs to the end of the body, no NUL
        "#,
        &Pdu::new(
            1,
            BindTransmitterResp {
                system_id: "SMSC".into(),
                tlvs: vec![],
            },
        ),
        r#"
        00000015 80000002 00000000 00000001
        "SMSC" 00
        "#,
    );
}

#[test]
fn broadcast_end_time_without_nul_is_tolerated() {
    check_tolerated(
        "broadcast_end_time_without_nul",
        r#"
        00000026 80000112 00000000 00000032
        "b" 00                              // message_id
        0609 0010 "240410101112000+"        // broadcast_end_time, 16 octets, no NUL
        "#,
        &Pdu::new(
            0x32,
            QueryBroadcastSmResp {
                message_id: "b".into(),
                tlvs: vec![Tlv::BroadcastEndTime("240410101112000+".into())],
            },
        ),
        r#"
        00000027 80000112 00000000 00000032
        "b" 00
        0609 0011 "240410101112000+" 00     // written with the NUL
        "#,
    );
}

#[test]
fn receipted_message_id_without_nul_is_tolerated() {
    check_tolerated(
        "receipted_message_id_without_nul",
        r#"
        00000018 80000004 00000000 00000001
        00                                  // message_id ""
        001E 0003 "abc"                     // receipted_message_id without its NUL
        "#,
        &Pdu::new(
            1,
            SubmitSmResp {
                message_id: "".into(),
                tlvs: vec![Tlv::ReceiptedMessageId("abc".into())],
            },
        ),
        r#"
        00000019 80000004 00000000 00000001
        00
        001E 0004 "abc" 00
        "#,
    );
}

#[test]
fn error_response_with_default_body_is_reencoded_header_only() {
    check_tolerated(
        "error_response_with_default_body",
        r#"
        00000011 80000004 00000045 00000001 // ESME_RSUBMITFAIL
        00                                  // message_id "" sent anyway
        "#,
        &Pdu::response(1, CommandStatus::ESME_RSUBMITFAIL, SubmitSmResp::default()),
        "00000010 80000004 00000045 00000001",
    );
}

#[test]
fn ok_response_without_body_is_tolerated() {
    // Some SMSCs send submit_sm_resp with no body at all even on success.
    check_tolerated(
        "ok_response_without_body",
        "00000010 80000004 00000000 00000001",
        &Pdu::new(1, SubmitSmResp::default()),
        "00000011 80000004 00000000 00000001 00",
    );
}

#[test]
fn every_header_only_error_response_decodes_to_its_default_body() {
    for &id in CommandId::ALL.iter().filter(|c| c.is_response()) {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&16u32.to_be_bytes());
        bytes.extend_from_slice(&id.0.to_be_bytes());
        bytes.extend_from_slice(&CommandStatus::ESME_RSYSERR.0.to_be_bytes());
        bytes.extend_from_slice(&42u32.to_be_bytes());
        let (pdu, used) = Pdu::decode(&bytes)
            .unwrap_or_else(|e| panic!("{id:?}: {e}"))
            .unwrap();
        assert_eq!(used, 16);
        assert_eq!(pdu.command_id(), id);
        assert_eq!(pdu.command_status, CommandStatus::ESME_RSYSERR);
        assert_eq!(pdu.sequence_number, 42);
        assert_eq!(Some(pdu.body.clone()), Body::empty(id), "{id:?}");
        assert!(pdu.body.is_empty());
        assert_eq!(pdu.to_bytes().unwrap(), bytes, "{id:?} re-encoded");
    }
}

// ---------------------------------------------------------------------------------------
// Framing: Header::peek.
// ---------------------------------------------------------------------------------------

#[test]
fn peek_returns_none_for_every_strict_prefix_of_every_vector() {
    for (name, src, pdu) in all_vectors() {
        let bytes = hex(src);
        for len in 0..bytes.len() {
            assert_eq!(
                Header::peek(&bytes[..len]),
                Ok(None),
                "{name}: prefix of {len} octets"
            );
            assert_eq!(
                Pdu::decode(&bytes[..len]),
                Ok(None),
                "{name}: decode of a prefix of {len} octets"
            );
        }
        let header = Header::peek(&bytes).unwrap().expect("whole PDU");
        assert_eq!(
            header,
            Header {
                command_length: bytes.len() as u32,
                command_id: pdu.command_id(),
                command_status: pdu.command_status,
                sequence_number: pdu.sequence_number,
            },
            "{name}"
        );
    }
}

fn length_only(command_length: u32) -> [u8; 4] {
    command_length.to_be_bytes()
}

#[test]
fn peek_rejects_command_length_below_16_with_only_four_octets() {
    for len in [0u32, 1, 15] {
        let e = Header::peek(&length_only(len)).unwrap_err();
        assert_eq!(e.field(), "command_length");
        assert_eq!(e.command_status(), CommandStatus::ESME_RINVCMDLEN);
        assert_eq!(
            e.kind(),
            DecodeErrorKind::CommandLength {
                length: len,
                max: DEFAULT_MAX_COMMAND_LENGTH
            }
        );
        assert!(e.is_fatal());
        assert_eq!(Pdu::decode(&length_only(len)), Err(e));
    }
    // Exactly 16 is fine: the header-only PDU is simply not complete yet.
    assert_eq!(Header::peek(&length_only(16)), Ok(None));
}

#[test]
fn peek_rejects_command_length_above_the_default_cap() {
    assert_eq!(DEFAULT_MAX_COMMAND_LENGTH, 65536);
    let e = Header::peek(&length_only(65537)).unwrap_err();
    assert_eq!(e.field(), "command_length");
    assert_eq!(e.command_status(), CommandStatus::ESME_RINVCMDLEN);
    assert_eq!(
        e.kind(),
        DecodeErrorKind::CommandLength {
            length: 65537,
            max: 65536
        }
    );
    assert!(e.is_fatal());
    let e = Header::peek(&length_only(u32::MAX)).unwrap_err();
    assert_eq!(e.command_status(), CommandStatus::ESME_RINVCMDLEN);
    // The cap itself is accepted (and needs more bytes).
    assert_eq!(Header::peek(&length_only(65536)), Ok(None));
}

#[test]
fn peek_waits_for_four_octets_before_judging_the_length() {
    // Three octets of what will be an invalid length: not an error yet.
    assert_eq!(Header::peek(&[0, 0, 0]), Ok(None));
    assert_eq!(Header::peek(&[0xFF, 0xFF, 0xFF]), Ok(None));
    assert_eq!(Header::peek(&[]), Ok(None));
}

#[test]
fn peek_with_max_respects_the_cap() {
    let bytes = hex(r#"
        0000001E 00000003 00000000 00000008
        "msg-1" 00 01 01 "12345" 00
    "#);
    assert_eq!(bytes.len(), 0x1E);
    let e = Header::peek_with_max(&bytes, 0x1D).unwrap_err();
    assert_eq!(e.command_status(), CommandStatus::ESME_RINVCMDLEN);
    assert_eq!(
        e.kind(),
        DecodeErrorKind::CommandLength {
            length: 0x1E,
            max: 0x1D
        }
    );
    // Also with only the length field available.
    assert_eq!(Header::peek_with_max(&bytes[..4], 0x1D), Err(e));
    assert_eq!(Pdu::decode_with_max(&bytes, 0x1D), Err(e));
    assert!(Header::peek_with_max(&bytes, 0x1E).unwrap().is_some());
    assert!(Pdu::decode_with_max(&bytes, 0x1E).unwrap().is_some());
    assert_eq!(Header::peek_with_max(&bytes[..0x1D], 0x1E), Ok(None));
    // A cap above the default is honoured too.
    let big = length_only(100_000);
    assert_eq!(Header::peek_with_max(&big, 100_000), Ok(None));
    assert!(Header::peek(&big).is_err());
}

#[test]
fn salvage_sequence_number_needs_sixteen_octets() {
    let bytes = hex("0000000F 80000004 00000000 0000BEEF");
    assert!(Header::peek(&bytes).is_err());
    assert_eq!(Header::salvage_sequence_number(&bytes), Some(0xBEEF));
    assert_eq!(Header::salvage_sequence_number(&bytes[..15]), None);
}

#[test]
fn header_encode_writes_the_four_fields() {
    let h = Header {
        command_length: 0x10,
        command_id: CommandId::ENQUIRE_LINK,
        command_status: CommandStatus::ESME_ROK,
        sequence_number: 0x0102_0304,
    };
    let mut out = vec![9];
    h.encode(&mut out);
    assert_eq!(out[1..], hex("00000010 00000015 00000000 01020304")[..]);
    assert_eq!(Header::peek(&out[1..]), Ok(Some(h)));
}

#[test]
fn into_owned_outlives_the_input_buffer() {
    let owned = {
        let bytes = hex(r#"
            0000001E 00000003 00000000 00000008
            "msg-1" 00 01 01 "12345" 00
        "#);
        let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
        pdu.into_owned()
    };
    assert_eq!(
        owned,
        Pdu::new(
            8,
            QuerySm {
                message_id: "msg-1".into(),
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: "12345".into(),
                tlvs: vec![],
            }
        )
    );
}

//! Malformed input and invalid values: every decode error names its field and the
//! `command_status` to answer with, every encode error names its field, and nothing panics.
//! Also the code spaces (`CommandId`, `CommandStatus`, `Tag`) and password redaction.

use std::collections::BTreeSet;

use smpp_pdu::tlv::{BroadcastAreaIdentifier, CallbackNum, ItsSessionInfo, RawTlv, Subaddress};
use smpp_pdu::{
    BindReceiver, BindTransceiver, BindTransmitter, Body, CommandId, CommandStatus, DataSm,
    DecodeError, DecodeErrorKind, DeliverSm, DestAddress, EncodeError, Header, OctetString,
    Outbind, Password, Pdu, ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp, Tag,
    Tlv, UnsuccessSme, DEFAULT_MAX_COMMAND_LENGTH, MAX_DESTS,
};

// ---------------------------------------------------------------------------------------
// Helpers: hand-built frames (never the encoder under test).
// ---------------------------------------------------------------------------------------

/// Parses hex with `"ascii"` runs and `//` comments, as in `vectors.rs`.
fn hex(src: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in src.lines() {
        let line = line.find("//").map_or(line, |i| &line[..i]);
        let mut rest = line.trim_start();
        while !rest.is_empty() {
            if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.find('"').expect("unterminated quote");
                out.extend_from_slice(&quoted.as_bytes()[..end]);
                rest = quoted[end + 1..].trim_start();
            } else {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(rest.len());
                let token = &rest[..end];
                assert!(token.len() % 2 == 0, "odd hex token {token:?}");
                for pair in token.as_bytes().chunks(2) {
                    let pair = std::str::from_utf8(pair).unwrap();
                    out.push(u8::from_str_radix(pair, 16).expect("hex digit"));
                }
                rest = rest[end..].trim_start();
            }
        }
    }
    out
}

/// A whole PDU around `body`, with a correct `command_length`.
fn frame(command_id: CommandId, status: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(16 + body.len());
    v.extend_from_slice(&(16 + body.len() as u32).to_be_bytes());
    v.extend_from_slice(&command_id.0.to_be_bytes());
    v.extend_from_slice(&status.to_be_bytes());
    v.extend_from_slice(&1u32.to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn decode_err(bytes: &[u8]) -> DecodeError {
    match Pdu::decode(bytes) {
        Err(e) => e,
        Ok(other) => panic!("expected a decode error, got {other:?}"),
    }
}

/// The valid submit_sm body of `vectors.rs` (56 octets).
const SUBMIT_SM_BODY: &str = r#"
    00                      // [0]      service_type
    05 00 "Sender" 00       // [1] [2]  ton npi, [3..10) source_addr
    01 01 "447700900123" 00 // [10][11] ton npi, [12..25) destination_addr
    00 00 00                // [25] esm_class [26] protocol_id [27] priority_flag
    00                      // [28]     schedule_delivery_time
    "000002000000000R" 00   // [29..46) validity_period
    01 00 00 00             // [46] registered_delivery [47] replace [48] data_coding [49] default id
    05 "Hello"              // [50] sm_length, [51..56) short_message
"#;

/// Builds a submit_sm body from explicit octets for each C-string (terminators included
/// by the caller, so a test can leave them out).
fn submit_sm_body(
    service_type: &str,
    source: &str,
    dest: &str,
    sched: &str,
    validity: &str,
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&hex(service_type));
    b.extend_from_slice(&[1, 1]);
    b.extend_from_slice(&hex(source));
    b.extend_from_slice(&[1, 1]);
    b.extend_from_slice(&hex(dest));
    b.extend_from_slice(&[0, 0, 0]);
    b.extend_from_slice(&hex(sched));
    b.extend_from_slice(&hex(validity));
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&hex(r#"05 "Hello""#));
    b
}

struct Case {
    name: &'static str,
    command_id: CommandId,
    body: Vec<u8>,
    field: &'static str,
    status: CommandStatus,
    kind: DecodeErrorKind,
}

fn too_long(max: usize) -> DecodeErrorKind {
    DecodeErrorKind::TooLong { max }
}

fn malformed_cases() -> Vec<Case> {
    use CommandStatus as S;
    use DecodeErrorKind::{InvalidLength, InvalidValue, TlvStream, Truncated};
    let a20 = "\"12345678901234567890\"";
    let a21 = "\"123456789012345678901\"";
    let a64 = "\"1234567890123456789012345678901234567890123456789012345678901234\"";
    let a65 = "\"12345678901234567890123456789012345678901234567890123456789012345\"";
    let valid_with = |tail: &str| {
        let mut b = hex(SUBMIT_SM_BODY);
        b.extend_from_slice(&hex(tail));
        b
    };
    let bind = |system_id: &str, password: &str, system_type: &str, range: &str| {
        hex(&format!(
            "{system_id} {password} {system_type} 34 00 00 {range}"
        ))
    };
    let submit_multi = |dests: &str| {
        hex(&format!(
            r#"00 01 01 "12345" 00 {dests} 00 00 00 00 00 00 00 00 00 02 "Hi""#
        ))
    };
    vec![
        // Over-long C-octet strings: no NUL within the maximum.
        Case {
            name: "service_type of 6 characters",
            command_id: CommandId::SUBMIT_SM,
            body: submit_sm_body(r#""CMTXYZ" 00"#, r#""1" 00"#, r#""2" 00"#, "00", "00"),
            field: "service_type",
            status: S::ESME_RINVSERTYP,
            kind: too_long(6),
        },
        Case {
            name: "source_addr of 21 characters",
            command_id: CommandId::SUBMIT_SM,
            body: submit_sm_body("00", &format!("{a21} 00"), r#""2" 00"#, "00", "00"),
            field: "source_addr",
            status: S::ESME_RINVSRCADR,
            kind: too_long(21),
        },
        Case {
            name: "destination_addr of 21 characters",
            command_id: CommandId::SUBMIT_SM,
            body: submit_sm_body("00", r#""1" 00"#, &format!("{a21} 00"), "00", "00"),
            field: "destination_addr",
            status: S::ESME_RINVDSTADR,
            kind: too_long(21),
        },
        Case {
            name: "deliver_sm source_addr of 21 characters",
            command_id: CommandId::DELIVER_SM,
            body: submit_sm_body("00", &format!("{a21} 00"), r#""2" 00"#, "00", "00"),
            field: "source_addr",
            status: S::ESME_RINVSRCADR,
            kind: too_long(21),
        },
        Case {
            name: "service_type missing its NUL swallows the next fields",
            command_id: CommandId::SUBMIT_SM,
            body: submit_sm_body(r#""CMT""#, r#""12345" 00"#, r#""2" 00"#, "00", "00"),
            field: "service_type",
            status: S::ESME_RINVSERTYP,
            kind: too_long(6),
        },
        Case {
            name: "source_addr missing its NUL swallows the next fields",
            command_id: CommandId::SUBMIT_SM,
            body: submit_sm_body("00", r#""123456789012345""#, r#""6789" 00"#, "00", "00"),
            field: "source_addr",
            status: S::ESME_RINVSRCADR,
            kind: too_long(21),
        },
        Case {
            name: "query_sm message_id of 65 characters",
            command_id: CommandId::QUERY_SM,
            body: hex(&format!(r#"{a65} 00 01 01 "1" 00"#)),
            field: "message_id",
            status: S::ESME_RINVMSGID,
            kind: too_long(65),
        },
        Case {
            name: "submit_sm_resp message_id of 65 characters",
            command_id: CommandId::SUBMIT_SM_RESP,
            body: hex(&format!("{a65} 00")),
            field: "message_id",
            status: S::ESME_RINVMSGID,
            kind: too_long(65),
        },
        Case {
            name: "bind system_id of 16 characters",
            command_id: CommandId::BIND_TRANSMITTER,
            body: bind(r#""1234567890123456" 00"#, r#""pw" 00"#, "00", "00"),
            field: "system_id",
            status: S::ESME_RINVSYSID,
            kind: too_long(16),
        },
        Case {
            name: "bind password of 9 characters",
            command_id: CommandId::BIND_RECEIVER,
            body: bind(r#""id" 00"#, r#""123456789" 00"#, "00", "00"),
            field: "password",
            status: S::ESME_RINVPASWD,
            kind: too_long(9),
        },
        Case {
            name: "bind system_type of 13 characters",
            command_id: CommandId::BIND_TRANSCEIVER,
            body: bind(r#""id" 00"#, r#""pw" 00"#, r#""1234567890123" 00"#, "00"),
            field: "system_type",
            status: S::ESME_RINVSYSTYP,
            kind: too_long(13),
        },
        Case {
            name: "bind address_range of 41 characters",
            command_id: CommandId::BIND_TRANSMITTER,
            body: bind(
                r#""id" 00"#,
                r#""pw" 00"#,
                "00",
                r#""12345678901234567890123456789012345678901" 00"#,
            ),
            field: "address_range",
            status: S::ESME_RBINDFAIL,
            kind: too_long(41),
        },
        Case {
            name: "outbind password of 9 characters",
            command_id: CommandId::OUTBIND,
            body: hex(r#""smsc" 00 "123456789" 00"#),
            field: "password",
            status: S::ESME_RINVPASWD,
            kind: too_long(9),
        },
        Case {
            name: "bind_transmitter_resp system_id of 16 characters",
            command_id: CommandId::BIND_TRANSMITTER_RESP,
            body: hex(r#""1234567890123456" 00"#),
            field: "system_id",
            status: S::ESME_RINVSYSID,
            kind: too_long(16),
        },
        Case {
            name: "data_sm source_addr of 65 characters",
            command_id: CommandId::DATA_SM,
            body: hex(&format!(r#"00 01 01 {a65} 00 01 01 "2" 00 00 00 00"#)),
            field: "source_addr",
            status: S::ESME_RINVSRCADR,
            kind: too_long(65),
        },
        Case {
            name: "data_sm destination_addr of 65 characters",
            command_id: CommandId::DATA_SM,
            body: hex(&format!(r#"00 01 01 {a64} 00 01 01 {a65} 00 00 00 00"#)),
            field: "destination_addr",
            status: S::ESME_RINVDSTADR,
            kind: too_long(65),
        },
        Case {
            name: "alert_notification esme_addr of 65 characters",
            command_id: CommandId::ALERT_NOTIFICATION,
            body: hex(&format!(r#"01 01 "1" 00 01 01 {a65} 00"#)),
            field: "esme_addr",
            status: S::ESME_RINVDSTADR,
            kind: too_long(65),
        },
        Case {
            name: "cancel_sm destination_addr of 21 characters",
            command_id: CommandId::CANCEL_SM,
            body: hex(&format!(r#"00 "m" 00 01 01 {a20} 00 01 01 {a21} 00"#)),
            field: "destination_addr",
            status: S::ESME_RINVDSTADR,
            kind: too_long(21),
        },
        Case {
            name: "broadcast_sm message_id of 65 characters",
            command_id: CommandId::BROADCAST_SM,
            body: hex(&format!(r#"00 01 01 "1" 00 {a65} 00 00 00 00 00 00 00"#)),
            field: "message_id",
            status: S::ESME_RINVMSGID,
            kind: too_long(65),
        },
        Case {
            name: "cancel_broadcast_sm service_type of 6 characters",
            command_id: CommandId::CANCEL_BROADCAST_SM,
            body: hex(r#""ABCDEF" 00 "m" 00 01 01 "1" 00"#),
            field: "service_type",
            status: S::ESME_RINVSERTYP,
            kind: too_long(6),
        },
        // Time fields.
        Case {
            name: "schedule_delivery_time of 5 characters",
            command_id: CommandId::SUBMIT_SM,
            body: submit_sm_body("00", r#""1" 00"#, r#""2" 00"#, r#""12345" 00"#, "00"),
            field: "schedule_delivery_time",
            status: S::ESME_RINVSCHED,
            kind: InvalidLength,
        },
        Case {
            name: "schedule_delivery_time of 17 characters",
            command_id: CommandId::SUBMIT_SM,
            body: submit_sm_body(
                "00",
                r#""1" 00"#,
                r#""2" 00"#,
                r#""120410101112300+X" 00"#,
                "00",
            ),
            field: "schedule_delivery_time",
            status: S::ESME_RINVSCHED,
            kind: too_long(17),
        },
        Case {
            name: "validity_period of 5 characters",
            command_id: CommandId::SUBMIT_SM,
            body: submit_sm_body("00", r#""1" 00"#, r#""2" 00"#, "00", r#""12345" 00"#),
            field: "validity_period",
            status: S::ESME_RINVEXPIRY,
            kind: InvalidLength,
        },
        Case {
            name: "validity_period of 15 characters",
            command_id: CommandId::DELIVER_SM,
            body: submit_sm_body(
                "00",
                r#""1" 00"#,
                r#""2" 00"#,
                "00",
                r#""000002000000000" 00"#,
            ),
            field: "validity_period",
            status: S::ESME_RINVEXPIRY,
            kind: InvalidLength,
        },
        Case {
            name: "replace_sm schedule_delivery_time of 5 characters",
            command_id: CommandId::REPLACE_SM,
            body: hex(r#""m" 00 01 01 "1" 00 "12345" 00 00 00 00 00"#),
            field: "schedule_delivery_time",
            status: S::ESME_RINVSCHED,
            kind: InvalidLength,
        },
        Case {
            name: "broadcast_sm validity_period of 5 characters",
            command_id: CommandId::BROADCAST_SM,
            body: hex(r#"00 01 01 "1" 00 00 00 00 "12345" 00 00 00 00"#),
            field: "validity_period",
            status: S::ESME_RINVEXPIRY,
            kind: InvalidLength,
        },
        Case {
            name: "query_sm_resp final_date of 5 characters",
            command_id: CommandId::QUERY_SM_RESP,
            body: hex(r#""m" 00 "12345" 00 02 00"#),
            field: "final_date",
            status: S::ESME_RQUERYFAIL,
            kind: InvalidLength,
        },
        // short_message.
        Case {
            name: "sm_length past the end",
            command_id: CommandId::SUBMIT_SM,
            body: {
                let mut b = hex(SUBMIT_SM_BODY);
                b[50] = 10; // announces 10 octets, 5 follow
                b
            },
            field: "short_message",
            status: S::ESME_RINVMSGLEN,
            kind: Truncated,
        },
        Case {
            name: "replace_sm sm_length past the end",
            command_id: CommandId::REPLACE_SM,
            body: hex(r#""m" 00 01 01 "1" 00 00 00 00 00 FF "abc""#),
            field: "short_message",
            status: S::ESME_RINVMSGLEN,
            kind: Truncated,
        },
        Case {
            name: "sm_length missing",
            command_id: CommandId::SUBMIT_SM,
            body: hex(SUBMIT_SM_BODY)[..50].to_vec(),
            field: "sm_length",
            status: S::ESME_RINVCMDLEN,
            kind: Truncated,
        },
        // TLV section.
        Case {
            name: "TLV length past the end",
            command_id: CommandId::SUBMIT_SM,
            body: valid_with("0424 0010 010203"),
            field: "tlv",
            status: S::ESME_RINVOPTPARSTREAM,
            kind: TlvStream,
        },
        Case {
            name: "TLV length one past the end",
            command_id: CommandId::SUBMIT_SM,
            body: valid_with("0427 0002 01"),
            field: "tlv",
            status: S::ESME_RINVOPTPARSTREAM,
            kind: TlvStream,
        },
        Case {
            name: "1 stray octet where a TLV should start",
            command_id: CommandId::SUBMIT_SM,
            body: valid_with("04"),
            field: "tlv",
            status: S::ESME_RINVOPTPARSTREAM,
            kind: TlvStream,
        },
        Case {
            name: "2 stray octets where a TLV should start",
            command_id: CommandId::SUBMIT_SM,
            body: valid_with("0424"),
            field: "tlv",
            status: S::ESME_RINVOPTPARSTREAM,
            kind: TlvStream,
        },
        Case {
            name: "3 stray octets where a TLV should start",
            command_id: CommandId::SUBMIT_SM,
            body: valid_with("0424 00"),
            field: "tlv",
            status: S::ESME_RINVOPTPARSTREAM,
            kind: TlvStream,
        },
        Case {
            name: "3 stray octets after a valid TLV",
            command_id: CommandId::SUBMIT_SM,
            body: valid_with("0427 0001 02 0001 00"),
            field: "tlv",
            status: S::ESME_RINVOPTPARSTREAM,
            kind: TlvStream,
        },
        Case {
            name: "stray octet in a header-only PDU",
            command_id: CommandId::ENQUIRE_LINK,
            body: vec![0],
            field: "tlv",
            status: S::ESME_RINVOPTPARSTREAM,
            kind: TlvStream,
        },
        Case {
            name: "stray octets after a submit_sm_resp message_id",
            command_id: CommandId::SUBMIT_SM_RESP,
            body: hex(r#""id" 00 00 1E"#),
            field: "tlv",
            status: S::ESME_RINVOPTPARSTREAM,
            kind: TlvStream,
        },
        // submit_multi lists.
        Case {
            name: "dest_flag 3",
            command_id: CommandId::SUBMIT_MULTI,
            body: submit_multi(r#"01 03 01 01 "1" 00"#),
            field: "dest_flag",
            status: S::ESME_RINVDESTFLAG,
            kind: InvalidValue,
        },
        Case {
            name: "dest_flag 0 in the second destination",
            command_id: CommandId::SUBMIT_MULTI,
            body: submit_multi(r#"02 01 01 01 "1" 00 00 01 01 "2" 00"#),
            field: "dest_flag",
            status: S::ESME_RINVDESTFLAG,
            kind: InvalidValue,
        },
        Case {
            name: "number_of_dests 0",
            command_id: CommandId::SUBMIT_MULTI,
            body: submit_multi("00"),
            field: "number_of_dests",
            status: S::ESME_RINVNUMDESTS,
            kind: InvalidValue,
        },
        Case {
            name: "submit_multi destination_addr of 21 characters",
            command_id: CommandId::SUBMIT_MULTI,
            body: submit_multi(&format!("01 01 01 01 {a21} 00")),
            field: "destination_addr",
            status: S::ESME_RINVDSTADR,
            kind: too_long(21),
        },
        Case {
            name: "submit_multi dl_name of 21 characters",
            command_id: CommandId::SUBMIT_MULTI,
            body: submit_multi(&format!("01 02 {a21} 00")),
            field: "dl_name",
            status: S::ESME_RINVDLNAME,
            kind: too_long(21),
        },
        Case {
            name: "number_of_dests larger than the list",
            command_id: CommandId::SUBMIT_MULTI,
            body: hex(r#"00 01 01 "12345" 00 02 01 01 01 "1" 00"#),
            field: "dest_flag",
            status: S::ESME_RINVCMDLEN,
            kind: Truncated,
        },
        Case {
            name: "submit_multi_resp truncated inside error_status_code",
            command_id: CommandId::SUBMIT_MULTI_RESP,
            body: hex(r#""ABC" 00 01 01 01 "55555" 00 0000"#),
            field: "error_status_code",
            status: S::ESME_RINVCMDLEN,
            kind: Truncated,
        },
        Case {
            name: "submit_multi_resp destination_addr of 21 characters",
            command_id: CommandId::SUBMIT_MULTI_RESP,
            body: hex(&format!(r#""ABC" 00 01 01 01 {a21} 00 00000005"#)),
            field: "destination_addr",
            status: S::ESME_RINVDSTADR,
            kind: too_long(21),
        },
        // Truncated fixed fields.
        Case {
            name: "bind ends before interface_version",
            command_id: CommandId::BIND_TRANSMITTER,
            body: hex(r#""id" 00 "pw" 00 00"#),
            field: "interface_version",
            status: S::ESME_RINVCMDLEN,
            kind: Truncated,
        },
        Case {
            name: "query_sm_resp ends before error_code",
            command_id: CommandId::QUERY_SM_RESP,
            body: hex(r#""m" 00 00 02"#),
            field: "error_code",
            status: S::ESME_RINVCMDLEN,
            kind: Truncated,
        },
        Case {
            name: "data_sm ends before data_coding",
            command_id: CommandId::DATA_SM,
            body: hex(r#"00 01 01 "1" 00 01 01 "2" 00 00 00"#),
            field: "data_coding",
            status: S::ESME_RINVCMDLEN,
            kind: Truncated,
        },
        Case {
            name: "broadcast_sm ends before sm_default_msg_id",
            command_id: CommandId::BROADCAST_SM,
            body: hex(r#"00 01 01 "1" 00 00 00 00 00 00 00"#),
            field: "sm_default_msg_id",
            status: S::ESME_RINVCMDLEN,
            kind: Truncated,
        },
    ]
}

#[test]
fn malformed_pdus_report_field_status_and_kind() {
    let cases = malformed_cases();
    assert!(cases.len() >= 40);
    for case in cases {
        let bytes = frame(case.command_id, 0, &case.body);
        let e = decode_err(&bytes);
        let name = case.name;
        assert_eq!(e.field(), case.field, "{name}: field ({e})");
        assert_eq!(
            e.command_status(),
            case.status,
            "{name}: command_status ({e})"
        );
        assert_eq!(e.kind(), case.kind, "{name}: kind ({e})");
        assert!(!e.is_fatal(), "{name}: a body error does not lose framing");
        // The message names the field and the status to answer with.
        let text = e.to_string();
        assert!(text.contains(case.field), "{name}: {text}");
        assert!(text.contains(case.status.name().unwrap()), "{name}: {text}");
        // Framing itself is intact: the header is readable.
        let h = Header::peek(&bytes).unwrap().unwrap();
        assert_eq!(h.command_length as usize, bytes.len());
    }
}

#[test]
fn decode_error_display() {
    let bytes = frame(
        CommandId::SUBMIT_SM,
        0,
        &submit_sm_body("00", "\"123456789012345678901\" 00", "00", "00", "00"),
    );
    let e = decode_err(&bytes);
    assert_eq!(
        e.to_string(),
        "field `source_addr` has no NUL within its maximum of 21 octets (answer ESME_RINVSRCADR)"
    );
    let e = Header::peek(&15u32.to_be_bytes()).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("command_length"), "{text}");
    assert!(text.contains("15"), "{text}");
    assert!(text.contains("ESME_RINVCMDLEN"), "{text}");
    // A hand-built error with an unnamed status falls back to hex.
    let e = DecodeError::new(DecodeErrorKind::InvalidValue, "x", CommandStatus(0x4321));
    assert!(e.to_string().contains("0x00004321"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Truncation: every prefix of a valid body.
// ---------------------------------------------------------------------------------------

/// What decoding the first `p` octets of `SUBMIT_SM_BODY` must give.
fn submit_sm_prefix_expectation(
    p: usize,
) -> Option<(&'static str, CommandStatus, DecodeErrorKind)> {
    use CommandStatus as S;
    use DecodeErrorKind::{InvalidLength, Truncated};
    let cut = |field| Some((field, S::ESME_RINVCMDLEN, Truncated));
    match p {
        // An empty or partial C-octet string at the end of the body is tolerated, so the
        // error shows up at the next fixed field.
        0 | 1 => cut("source_addr_ton"),
        2 => cut("source_addr_npi"),
        3..=10 => cut("dest_addr_ton"),
        11 => cut("dest_addr_npi"),
        12..=25 => cut("esm_class"),
        26 => cut("protocol_id"),
        27 => cut("priority_flag"),
        28 | 29 => cut("registered_delivery"),
        // 1 to 15 characters of validity_period: a time of the wrong length.
        30..=44 => Some(("validity_period", S::ESME_RINVEXPIRY, InvalidLength)),
        45 | 46 => cut("registered_delivery"),
        47 => cut("replace_if_present_flag"),
        48 => cut("data_coding"),
        49 => cut("sm_default_msg_id"),
        50 => cut("sm_length"),
        51..=55 => Some(("short_message", S::ESME_RINVMSGLEN, Truncated)),
        56 => None,
        _ => unreachable!(),
    }
}

#[test]
fn every_prefix_of_a_submit_sm_body() {
    let body = hex(SUBMIT_SM_BODY);
    assert_eq!(body.len(), 56);
    for p in 0..=body.len() {
        for id in [CommandId::SUBMIT_SM, CommandId::DELIVER_SM] {
            let bytes = frame(id, 0, &body[..p]);
            let got = Pdu::decode(&bytes);
            match submit_sm_prefix_expectation(p) {
                None => {
                    let (pdu, n) = got.unwrap().unwrap();
                    assert_eq!(n, bytes.len());
                    assert_eq!(pdu.command_id(), id);
                }
                Some((field, status, kind)) => {
                    let e = got.expect_err(&format!("prefix {p} of {id:?}"));
                    assert_eq!(
                        (e.field(), e.command_status(), e.kind()),
                        (field, status, kind),
                        "prefix {p} of {id:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_prefix_of_a_tlv_section() {
    let mut body = hex(SUBMIT_SM_BODY);
    let tlvs = hex(r#"
        001E 0007 "abc123" 00   // [56..67) receipted_message_id
        0427 0001 02            // [67..72) message_state
        0423 0003 03 0000       // [72..79) network_error_code
    "#);
    body.extend_from_slice(&tlvs);
    assert_eq!(body.len(), 79);
    for p in 56..=body.len() {
        let bytes = frame(CommandId::DELIVER_SM, 0, &body[..p]);
        match Pdu::decode(&bytes) {
            Ok(Some((pdu, n))) => {
                assert!([56, 67, 72, 79].contains(&p), "prefix {p} decoded");
                assert_eq!(n, bytes.len());
                let expected = [56, 67, 72, 79].iter().position(|&b| b == p).unwrap();
                assert_eq!(pdu.body.tlvs().len(), expected, "prefix {p}");
            }
            Ok(None) => panic!("prefix {p}: whole frame but Ok(None)"),
            Err(e) => {
                assert!(![56, 67, 72, 79].contains(&p), "prefix {p}: {e}");
                assert_eq!(e.field(), "tlv", "prefix {p}");
                assert_eq!(e.command_status(), CommandStatus::ESME_RINVOPTPARSTREAM);
                assert_eq!(e.kind(), DecodeErrorKind::TlvStream);
            }
        }
    }
}

#[test]
fn every_prefix_of_submit_multi_resp() {
    let body = hex(r#"
        41424300                    // [0..4)   message_id "ABC"
        02                          // [4]      no_unsuccess
        01 01 "55555" 00 00000005   // [5] [6] [7..13) [13..17)
        02 08 "65455" 00 00000015   // [17][18] [19..25) [25..29)
    "#);
    assert_eq!(body.len(), 29);
    for p in 0..=body.len() {
        let bytes = frame(CommandId::SUBMIT_MULTI_RESP, 0, &body[..p]);
        let expected = match p {
            0..=4 => Some("no_unsuccess"),
            5 | 17 => Some("dest_addr_ton"),
            6 | 18 => Some("dest_addr_npi"),
            // Partial destination_addr is tolerated; inside the 4-octet error_status_code
            // the body is simply too short.
            7..=16 | 19..=28 => Some("error_status_code"),
            29 => None,
            _ => unreachable!(),
        };
        match (Pdu::decode(&bytes), expected) {
            (Ok(Some((pdu, _))), None) => {
                let Body::SubmitMultiResp(r) = pdu.body else {
                    panic!("{pdu:?}")
                };
                assert_eq!(r.unsuccess_smes.len(), 2);
            }
            (Err(e), Some(field)) => {
                assert_eq!(e.field(), field, "prefix {p}");
                assert_eq!(
                    e.command_status(),
                    CommandStatus::ESME_RINVCMDLEN,
                    "prefix {p}"
                );
                assert_eq!(e.kind(), DecodeErrorKind::Truncated, "prefix {p}");
            }
            (got, want) => panic!("prefix {p}: got {got:?}, want error in {want:?}"),
        }
    }
}

#[test]
fn every_prefix_of_every_known_body_never_panics() {
    // Bodies long enough to reach every field of every PDU type; each prefix and each
    // known command_id must give Ok or an error, never a panic, and a truncation error
    // must be RINVCMDLEN, RINVMSGLEN, a time/length error or a TLV stream error.
    let bodies = [
        hex(SUBMIT_SM_BODY),
        hex(r#""ABC" 00 02 01 01 "55555" 00 00000005 02 08 "65455" 00 00000015"#),
        hex(
            r#"00 01 01 "12345" 00 02 01 01 01 "4477" 00 02 "friends" 00 00 00 00 00 00 00 00 00 00 02 "Hi" 0427 0001 02"#,
        ),
        hex(r#""SMPP3TEST" 00 "secret08" 00 "SUBMIT1" 00 34 01 01 00 0210 0001 34"#),
    ];
    for body in &bodies {
        for &id in CommandId::ALL {
            for p in 0..=body.len() {
                let bytes = frame(id, 0, &body[..p]);
                if let Err(e) = Pdu::decode(&bytes) {
                    assert!(!e.is_fatal());
                    assert!(!e.field().is_empty());
                    assert!(e.command_status().name().is_some(), "{e}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tolerances at the limits.
// ---------------------------------------------------------------------------------------

#[test]
fn fields_at_their_maximum_decode() {
    let body = submit_sm_body(
        r#""CMTXY" 00"#,
        r#""12345678901234567890" 00"#,
        r#""12345678901234567890" 00"#,
        r#""120410101112300+" 00"#,
        r#""000002000000000R" 00"#,
    );
    let bytes = frame(CommandId::SUBMIT_SM, 0, &body);
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    let Body::SubmitSm(s) = &pdu.body else {
        panic!("{pdu:?}")
    };
    assert_eq!(s.service_type, "CMTXY");
    assert_eq!(s.source_addr.len(), 20);
    assert_eq!(s.destination_addr.len(), 20);
    assert_eq!(pdu.to_bytes().unwrap(), bytes);
}

#[test]
fn short_message_of_255_octets_decodes_but_is_not_encoded() {
    let mut body = hex(SUBMIT_SM_BODY)[..50].to_vec();
    body.push(0xFF);
    body.extend_from_slice(&[b'x'; 255]);
    let bytes = frame(CommandId::SUBMIT_SM, 0, &body);
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    let Body::SubmitSm(s) = &pdu.body else {
        panic!("{pdu:?}")
    };
    assert_eq!(s.short_message.len(), 255);
    let mut out = b"keep".to_vec();
    assert_eq!(
        pdu.encode(&mut out),
        Err(EncodeError::FieldTooLong {
            field: "short_message",
            max: 254
        })
    );
    assert_eq!(out, b"keep");
}

#[test]
fn number_of_dests_255_decodes_but_is_not_encoded() {
    let mut body = hex(r#"00 01 01 "12345" 00 FF"#);
    for _ in 0..255 {
        body.extend_from_slice(&hex(r#"01 01 01 "1" 00"#));
    }
    body.extend_from_slice(&hex("00 00 00 00 00 00 00 00 00 00"));
    let bytes = frame(CommandId::SUBMIT_MULTI, 0, &body);
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    let Body::SubmitMulti(m) = &pdu.body else {
        panic!("{pdu:?}")
    };
    assert_eq!(m.dest_addresses.len(), 255);
    assert_eq!(
        pdu.to_bytes(),
        Err(EncodeError::InvalidCount {
            field: "number_of_dests",
            min: 1,
            max: 254
        })
    );
}

#[test]
fn maximal_message_payload_needs_a_larger_cap_than_the_default() {
    let payload = vec![b'p'; 65535];
    let pdu = Pdu::new(
        1,
        DataSm {
            tlvs: vec![Tlv::MessagePayload(payload.into())],
            ..Default::default()
        },
    );
    let bytes = pdu
        .to_bytes()
        .expect("the encoder accepts a 65535-octet message_payload");
    assert!(bytes.len() > DEFAULT_MAX_COMMAND_LENGTH as usize);
    let err = Pdu::decode(&bytes).expect_err("above the default 64 KiB cap");
    assert_eq!(err.field(), "command_length");
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
    let decoded = Pdu::decode_with_max(&bytes, 70_000);
    assert!(
        matches!(&decoded, Ok(Some((p, n))) if *p == pdu && *n == bytes.len()),
        "a PDU of {} octets with a 70,000 cap: {:?}",
        bytes.len(),
        decoded.map(|o| o.map(|(_, n)| n))
    );
}

// ---------------------------------------------------------------------------------------
// Encode errors.
// ---------------------------------------------------------------------------------------

fn encode_err(pdu: &Pdu<'_>) -> EncodeError {
    let mut out = b"previous PDU".to_vec();
    let e = pdu.encode(&mut out).expect_err("encode should fail");
    assert_eq!(out, b"previous PDU", "a failed encode changed the output");
    e
}

fn s(n: usize) -> String {
    "1234567890".chars().cycle().take(n).collect()
}

#[test]
fn encode_rejects_over_long_fields_with_field_and_max() {
    let long = |field: &'static str, max| EncodeError::FieldTooLong { field, max };
    let submit = |f: &dyn Fn(&mut SubmitSm<'static>)| {
        let mut m = SubmitSm::default();
        f(&mut m);
        Pdu::new(1, m)
    };
    let cases: Vec<(Pdu<'static>, EncodeError)> = vec![
        (
            submit(&|m| m.source_addr = s(21).into()),
            long("source_addr", 21),
        ),
        (
            submit(&|m| m.destination_addr = s(21).into()),
            long("destination_addr", 21),
        ),
        (
            submit(&|m| m.service_type = s(6).into()),
            long("service_type", 6),
        ),
        (
            submit(&|m| m.short_message = vec![0; 255].into()),
            long("short_message", 254),
        ),
        (
            Pdu::new(
                1,
                BindTransmitter {
                    system_id: s(16).into(),
                    ..Default::default()
                },
            ),
            long("system_id", 16),
        ),
        (
            Pdu::new(
                1,
                BindReceiver {
                    password: s(9).into(),
                    ..Default::default()
                },
            ),
            long("password", 9),
        ),
        (
            Pdu::new(
                1,
                BindTransceiver {
                    system_type: s(13).into(),
                    ..Default::default()
                },
            ),
            long("system_type", 13),
        ),
        (
            Pdu::new(
                1,
                BindTransmitter {
                    address_range: s(41).into(),
                    ..Default::default()
                },
            ),
            long("address_range", 41),
        ),
        (
            Pdu::new(
                1,
                Outbind {
                    password: s(9).into(),
                    ..Default::default()
                },
            ),
            long("password", 9),
        ),
        (
            Pdu::new(
                1,
                DataSm {
                    source_addr: s(65).into(),
                    ..Default::default()
                },
            ),
            long("source_addr", 65),
        ),
        (
            Pdu::new(
                1,
                SubmitSmResp {
                    message_id: s(65).into(),
                    tlvs: vec![],
                },
            ),
            long("message_id", 65),
        ),
        (
            Pdu::new(
                1,
                SubmitMulti {
                    dest_addresses: vec![DestAddress::DistributionList {
                        dl_name: s(21).into(),
                    }],
                    ..Default::default()
                },
            ),
            long("dl_name", 21),
        ),
    ];
    for (pdu, expected) in cases {
        let e = encode_err(&pdu);
        assert_eq!(e, expected, "{pdu:?}");
        let text = e.to_string();
        assert!(text.contains(expected.field()), "{text}");
        if let EncodeError::FieldTooLong { max, .. } = expected {
            assert!(text.contains(&max.to_string()), "{text}");
        }
    }
    // One octet less is fine everywhere.
    let ok = [
        submit(&|m| m.source_addr = s(20).into()),
        submit(&|m| m.service_type = s(5).into()),
        submit(&|m| m.short_message = vec![0; 254].into()),
        Pdu::new(
            1,
            BindReceiver {
                password: s(8).into(),
                ..Default::default()
            },
        ),
    ];
    for pdu in ok {
        pdu.to_bytes().unwrap();
    }
}

#[test]
fn encode_rejects_inner_nul() {
    let pdu = Pdu::new(
        1,
        SubmitSm {
            source_addr: (&b"12\x0034"[..]).into(),
            ..Default::default()
        },
    );
    let e = encode_err(&pdu);
    assert_eq!(
        e,
        EncodeError::ContainsNul {
            field: "source_addr"
        }
    );
    assert_eq!(e.field(), "source_addr");
    assert!(e.to_string().contains("source_addr"));
    let pdu = Pdu::new(
        1,
        BindTransmitter {
            password: Password::new(&b"a\0"[..]),
            ..Default::default()
        },
    );
    assert_eq!(
        encode_err(&pdu),
        EncodeError::ContainsNul { field: "password" }
    );
}

#[test]
fn encode_finds_a_nul_at_every_position() {
    // Fillers chosen around the 0x00/0x01/0x80 boundaries, at every length and position.
    for filler in [0x01u8, 0x7F, 0x80, 0x81, 0xFF] {
        for len in 1..=40usize {
            let clean = vec![filler; len];
            let tlv = Tlv::AdditionalStatusInfoText(clean.clone().into());
            tlv.encode(&mut Vec::new()).unwrap();
            for at in 0..len {
                let mut v = clean.clone();
                v[at] = 0;
                let pdu = Pdu::new(
                    1,
                    SubmitSmResp {
                        message_id: v.clone().into(),
                        tlvs: vec![],
                    },
                );
                assert_eq!(
                    encode_err(&pdu),
                    EncodeError::ContainsNul {
                        field: "message_id"
                    },
                    "filler {filler:#04x}, length {len}, NUL at {at}"
                );
                let tlv = Tlv::AdditionalStatusInfoText(v.into());
                assert_eq!(
                    tlv.encode(&mut Vec::new()),
                    Err(EncodeError::ContainsNul {
                        field: "additional_status_info_text"
                    })
                );
            }
        }
    }
}

#[test]
fn encode_rejects_bad_time_lengths() {
    let pdu = Pdu::new(
        1,
        SubmitSm {
            schedule_delivery_time: "12345".into(),
            ..Default::default()
        },
    );
    assert_eq!(
        encode_err(&pdu),
        EncodeError::InvalidLength {
            field: "schedule_delivery_time"
        }
    );
    let pdu = Pdu::new(
        1,
        ReplaceSm {
            validity_period: s(17).into(),
            ..Default::default()
        },
    );
    assert_eq!(
        encode_err(&pdu),
        EncodeError::InvalidLength {
            field: "validity_period"
        }
    );
}

#[test]
fn encode_rejects_short_message_with_message_payload() {
    let payload = || vec![Tlv::MessagePayload((&b"long text"[..]).into())];
    let bodies: Vec<Body<'static>> = vec![
        SubmitSm {
            short_message: "x".into(),
            tlvs: payload(),
            ..Default::default()
        }
        .into(),
        DeliverSm {
            short_message: "x".into(),
            tlvs: payload(),
            ..Default::default()
        }
        .into(),
        ReplaceSm {
            short_message: "x".into(),
            tlvs: payload(),
            ..Default::default()
        }
        .into(),
        SubmitMulti {
            dest_addresses: vec![DestAddress::DistributionList {
                dl_name: "l".into(),
            }],
            short_message: "x".into(),
            tlvs: payload(),
            ..Default::default()
        }
        .into(),
    ];
    for body in bodies {
        let pdu = Pdu::new(1, body);
        let e = encode_err(&pdu);
        assert_eq!(e, EncodeError::PayloadConflict);
        assert_eq!(e.field(), "message_payload");
    }
    // Either one alone is fine, and an empty message_payload does not conflict.
    Pdu::new(
        1,
        SubmitSm {
            tlvs: payload(),
            ..Default::default()
        },
    )
    .to_bytes()
    .unwrap();
    Pdu::new(
        1,
        SubmitSm {
            short_message: "x".into(),
            tlvs: vec![Tlv::MessagePayload(OctetString::EMPTY)],
            ..Default::default()
        },
    )
    .to_bytes()
    .unwrap();
}

#[test]
fn encode_rejects_bad_destination_counts() {
    let dest = DestAddress::SmeAddress {
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "1".into(),
    };
    let count_err = EncodeError::InvalidCount {
        field: "number_of_dests",
        min: 1,
        max: MAX_DESTS,
    };
    assert_eq!(MAX_DESTS, 254);
    for n in [0, 255] {
        let pdu = Pdu::new(
            1,
            SubmitMulti {
                dest_addresses: vec![dest.clone(); n],
                ..Default::default()
            },
        );
        assert_eq!(encode_err(&pdu), count_err, "{n} destinations");
    }
    let pdu = Pdu::new(
        1,
        SubmitMulti {
            dest_addresses: vec![dest.clone(); 254],
            ..Default::default()
        },
    );
    let bytes = pdu.to_bytes().unwrap();
    assert_eq!(Pdu::decode(&bytes).unwrap().unwrap().0, pdu);

    let unsuccess = UnsuccessSme {
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "1".into(),
        error_status_code: CommandStatus::ESME_RINVDSTADR,
    };
    let pdu = Pdu::new(
        1,
        SubmitMultiResp {
            unsuccess_smes: vec![unsuccess.clone(); 256],
            ..Default::default()
        },
    );
    assert_eq!(
        encode_err(&pdu),
        EncodeError::InvalidCount {
            field: "no_unsuccess",
            min: 0,
            max: 255
        }
    );
    let pdu = Pdu::new(
        1,
        SubmitMultiResp {
            unsuccess_smes: vec![unsuccess; 255],
            ..Default::default()
        },
    );
    let bytes = pdu.to_bytes().unwrap();
    assert_eq!(Pdu::decode(&bytes).unwrap().unwrap().0, pdu);
}

#[test]
fn encode_rejects_bad_tlv_values() {
    let short = |field: &'static str, min| EncodeError::FieldTooShort { field, min };
    let long = |field: &'static str, max| EncodeError::FieldTooLong { field, max };
    let cases: Vec<(Tlv<'static>, EncodeError)> = vec![
        (
            Tlv::CallbackNum(CallbackNum {
                number_digits: OctetString::EMPTY,
                ..Default::default()
            }),
            short("callback_num.number_digits", 1),
        ),
        (
            Tlv::CallbackNum(CallbackNum {
                number_digits: vec![b'1'; 17].into(),
                ..Default::default()
            }),
            long("callback_num.number_digits", 16),
        ),
        (
            Tlv::BroadcastEndTime(s(15).into()),
            short("broadcast_end_time", 16),
        ),
        (
            Tlv::BroadcastEndTime(s(17).into()),
            long("broadcast_end_time", 17),
        ),
        (
            Tlv::ReceiptedMessageId(s(65).into()),
            long("receipted_message_id", 65),
        ),
        (
            Tlv::ReceiptedMessageId((&b"a\0b"[..]).into()),
            EncodeError::ContainsNul {
                field: "receipted_message_id",
            },
        ),
        (
            Tlv::SourceNodeId((&b"12345"[..]).into()),
            short("source_node_id", 6),
        ),
        (
            Tlv::DestAddrNpCountry(OctetString::EMPTY),
            short("dest_addr_np_country", 1),
        ),
        (
            Tlv::SourceTelematicsId((&b"123"[..]).into()),
            long("source_telematics_id", 2),
        ),
        (
            Tlv::SourceSubaddress(Subaddress {
                kind: 0x80,
                address: OctetString::EMPTY,
            }),
            short("source_subaddress", 1),
        ),
        (
            Tlv::BroadcastAreaIdentifier(BroadcastAreaIdentifier {
                format: 0,
                details: vec![0; 101].into(),
            }),
            long("broadcast_area_identifier", 100),
        ),
        (
            Tlv::ItsSessionInfo(ItsSessionInfo {
                session_number: 1,
                sequence_number: 128,
                end_of_session: false,
            }),
            EncodeError::InvalidValue {
                field: "its_session_info.sequence_number",
            },
        ),
        (
            Tlv::MessagePayload(vec![0; 65536].into()),
            long("message_payload", 65535),
        ),
        (
            Tlv::Other(RawTlv {
                tag: Tag(0x1401),
                value: vec![0; 65536].into(),
            }),
            long("tlv", 65535),
        ),
    ];
    for (tlv, expected) in cases {
        // Directly: the output is left as it was.
        let mut out = vec![1, 2, 3];
        assert_eq!(tlv.encode(&mut out), Err(expected), "{:?}", tlv.tag());
        assert_eq!(out, [1, 2, 3]);
        // Inside a PDU, after every mandatory field was written.
        let pdu = Pdu::new(
            1,
            SubmitSm {
                source_addr: "12345".into(),
                tlvs: vec![Tlv::MessageState(1), tlv],
                ..Default::default()
            },
        );
        assert_eq!(encode_err(&pdu), expected);
    }
}

#[test]
fn failed_encode_leaves_a_prefilled_buffer_exactly_as_it_was() {
    // The failure comes in the middle of the submit_multi list, after bytes were written.
    let pdu = Pdu::new(
        1,
        SubmitMulti {
            source_addr: "12345".into(),
            dest_addresses: vec![
                DestAddress::DistributionList {
                    dl_name: "ok".into(),
                },
                DestAddress::DistributionList {
                    dl_name: s(30).into(),
                },
            ],
            ..Default::default()
        },
    );
    let mut out = Vec::with_capacity(1024);
    Pdu::new(9, smpp_pdu::EnquireLink::default())
        .encode(&mut out)
        .unwrap();
    let snapshot = out.clone();
    assert_eq!(
        pdu.encode(&mut out),
        Err(EncodeError::FieldTooLong {
            field: "dl_name",
            max: 21
        })
    );
    assert_eq!(out, snapshot);
    // And the buffer is still usable.
    let n = Pdu::new(10, smpp_pdu::EnquireLink::default())
        .encode(&mut out)
        .unwrap();
    assert_eq!(out.len(), snapshot.len() + n);
    assert_eq!(
        Pdu::decode(&out[16..]).unwrap().unwrap().0.sequence_number,
        10
    );
}

#[test]
fn encode_error_display_names_the_field() {
    let cases = [
        (
            EncodeError::FieldTooLong {
                field: "source_addr",
                max: 21,
            },
            "21",
        ),
        (
            EncodeError::FieldTooShort {
                field: "source_node_id",
                min: 6,
            },
            "6",
        ),
        (
            EncodeError::ContainsNul {
                field: "source_addr",
            },
            "NUL",
        ),
        (
            EncodeError::InvalidLength {
                field: "validity_period",
            },
            "length",
        ),
        (EncodeError::InvalidValue { field: "x" }, "value"),
        (
            EncodeError::InvalidCount {
                field: "number_of_dests",
                min: 1,
                max: 254,
            },
            "254",
        ),
    ];
    for (e, word) in cases {
        let text = e.to_string();
        assert!(text.contains(e.field()), "{text}");
        assert!(text.contains(word), "{text}");
    }
    let text = EncodeError::PayloadConflict.to_string();
    assert!(
        text.contains("short_message") && text.contains("message_payload"),
        "{text}"
    );
}

#[test]
fn invalid_count_display_does_not_claim_a_minimum_for_no_unsuccess() {
    let text = EncodeError::InvalidCount {
        field: "no_unsuccess",
        min: 0,
        max: 255,
    }
    .to_string();
    assert!(
        text.contains("no_unsuccess") && text.contains("255"),
        "{text}"
    );
    assert!(!text.contains("between 1 and"), "{text}");
}

// ---------------------------------------------------------------------------------------
// Code spaces.
// ---------------------------------------------------------------------------------------

#[test]
fn display_gives_name_and_meaning_or_hex() {
    assert_eq!(
        CommandId::SUBMIT_SM.to_string(),
        "SUBMIT_SM (submit a short message)"
    );
    assert_eq!(
        CommandStatus::ESME_RINVCMDLEN.to_string(),
        "ESME_RINVCMDLEN (command_length invalid)"
    );
    assert_eq!(
        Tag::MESSAGE_PAYLOAD.to_string(),
        "MESSAGE_PAYLOAD (the message (up to 64K octets) instead of short_message)"
    );
    assert_eq!(CommandId(0x99).to_string(), "0x00000099");
    assert_eq!(CommandStatus(0x444).to_string(), "0x00000444");
    assert_eq!(Tag(0x1401).to_string(), "0x1401");
    assert_eq!(format!("{:?}", CommandId(0x99)), "CommandId(0x00000099)");
    assert_eq!(
        format!("{:?}", CommandStatus(0x444)),
        "CommandStatus(0x00000444)"
    );
    assert_eq!(format!("{:?}", Tag(0x1401)), "Tag(0x1401)");
    assert_eq!(
        format!("{:?}", CommandStatus::ESME_RTHROTTLED),
        "ESME_RTHROTTLED"
    );
}

fn check_code_space<T: Copy + Ord + std::fmt::Display + std::fmt::Debug>(
    what: &str,
    all: &[T],
    name: impl Fn(T) -> Option<&'static str>,
    meaning: impl Fn(T) -> Option<&'static str>,
    from_name: impl Fn(&str) -> Option<T>,
) {
    let mut names = BTreeSet::new();
    let mut values = BTreeSet::new();
    for &c in all {
        let n = name(c).unwrap_or_else(|| panic!("{what} {c:?} has no name"));
        let m = meaning(c).unwrap_or_else(|| panic!("{what} {n} has no meaning"));
        assert!(!m.trim().is_empty(), "{what} {n}: empty meaning");
        assert!(names.insert(n), "{what}: duplicate name {n}");
        assert!(values.insert(c), "{what}: duplicate value {c:?}");
        assert_eq!(c.to_string(), format!("{n} ({m})"));
        assert_eq!(format!("{c:?}"), n);
        assert_eq!(from_name(n), Some(c), "{what}::from_name({n})");
        assert_eq!(
            from_name(&n.to_ascii_lowercase()),
            Some(c),
            "{what} lower case {n}"
        );
    }
    assert_eq!(from_name("NO_SUCH_NAME"), None);
    assert_eq!(from_name(""), None);
}

#[test]
fn every_code_space_constant_has_a_name_and_meaning() {
    check_code_space(
        "CommandId",
        CommandId::ALL,
        CommandId::name,
        CommandId::meaning,
        CommandId::from_name,
    );
    check_code_space(
        "CommandStatus",
        CommandStatus::ALL,
        CommandStatus::name,
        CommandStatus::meaning,
        CommandStatus::from_name,
    );
    check_code_space("Tag", Tag::ALL, Tag::name, Tag::meaning, Tag::from_name);
    assert_eq!(CommandId::ALL.len(), 33);
    assert_eq!(CommandStatus::ALL.len(), 67);
    assert_eq!(Tag::ALL.len(), 64);
}

#[test]
fn command_status_from_name() {
    assert_eq!(
        CommandStatus::from_name("ESME_RTHROTTLED"),
        Some(CommandStatus(0x58))
    );
    assert_eq!(
        CommandStatus::from_name("esme_rinvcmdlen"),
        Some(CommandStatus(0x02))
    );
    assert_eq!(
        CommandStatus::from_name("ESME_RINVDSTADR"),
        Some(CommandStatus(0x0B))
    );
    assert_eq!(
        CommandStatus::from_name("ESME_RINVBCAST_REP"),
        Some(CommandStatus(0x110))
    );
    assert_eq!(CommandStatus::from_name("THROTTLED"), None);
    // The SMPP 5.0 spellings of the TLV codes.
    for (v5, v34) in [
        ("ESME_RINVTLVSTREAM", CommandStatus::ESME_RINVOPTPARSTREAM),
        ("ESME_RTLVNOTALLWD", CommandStatus::ESME_ROPTPARNOTALLWD),
        ("esme_rinvtlvlen", CommandStatus::ESME_RINVPARLEN),
        ("ESME_RMISSINGTLV", CommandStatus::ESME_RMISSINGOPTPARAM),
        ("ESME_RINVTLVVAL", CommandStatus::ESME_RINVOPTPARAMVAL),
    ] {
        assert_eq!(CommandStatus::from_any_name(v5), Some(v34), "{v5}");
    }
    assert_eq!(CommandStatus::ESME_RINVTLVSTREAM, CommandStatus(0xC0));
    assert_eq!(
        CommandStatus::from_any_name("ESME_ROK"),
        Some(CommandStatus::ESME_ROK)
    );
    assert_eq!(CommandStatus::from_any_name("nope"), None);
}

#[test]
fn command_status_classes() {
    assert!(CommandStatus::ESME_ROK.is_ok());
    assert!(!CommandStatus::ESME_RTHROTTLED.is_ok());
    assert!(CommandStatus::ESME_RTHROTTLED.is_transient());
    assert!(CommandStatus::ESME_RMSGQFUL.is_transient());
    assert!(!CommandStatus::ESME_RINVDSTADR.is_transient());
    assert!(CommandStatus(0x400).is_vendor_specific());
    assert!(CommandStatus(0x4FF).is_vendor_specific());
    assert!(!CommandStatus(0x500).is_vendor_specific());
    assert!(!CommandStatus::ESME_RINVBCASTCHANIND.is_vendor_specific());
}

#[test]
fn command_id_request_response_pairs() {
    let all: BTreeSet<CommandId> = CommandId::ALL.iter().copied().collect();
    for &id in CommandId::ALL {
        assert_eq!(
            id.snake_name(),
            id.name().map(|n| n.to_ascii_lowercase()).as_deref()
        );
        if id.is_response() {
            assert_eq!(id.response(), None);
            match id.request() {
                None => assert_eq!(id, CommandId::GENERIC_NACK),
                Some(req) => {
                    assert!(all.contains(&req), "{id:?} has no request");
                    assert_eq!(req.response(), Some(id));
                }
            }
        } else {
            assert_eq!(id.request(), None);
            match id.response() {
                None => assert!(
                    id == CommandId::OUTBIND || id == CommandId::ALERT_NOTIFICATION,
                    "{id:?}"
                ),
                Some(resp) => assert!(all.contains(&resp), "{id:?} has no response constant"),
            }
        }
    }
    assert_eq!(
        CommandId::SUBMIT_SM.response(),
        Some(CommandId::SUBMIT_SM_RESP)
    );
    assert_eq!(CommandId(0x99).response(), Some(CommandId(0x8000_0099)));
    assert_eq!(CommandId(0x99).snake_name(), None);
}

#[test]
fn every_tag_has_a_tlv_name_matching_its_constant() {
    for &tag in Tag::ALL {
        let upper = tag.name().unwrap();
        assert_eq!(
            Tlv::tag_name(tag),
            Some(upper.to_ascii_lowercase().as_str()),
            "{tag:?}"
        );
    }
    assert_eq!(Tlv::tag_name(Tag(0x1401)), None);
    assert_eq!(Tag::DEST_PORT, Tag::DESTINATION_PORT);
    assert!(Tag(0x1400).is_vendor_specific() && Tag(0x3FFF).is_vendor_specific());
    assert!(!Tag(0x4000).is_vendor_specific() && !Tag::ITS_SESSION_INFO.is_vendor_specific());
}

#[test]
fn unknown_values_survive_decode_and_encode() {
    // Unknown command_status in a response, with a body.
    let bytes = frame(CommandId::SUBMIT_SM_RESP, 0x0000_0777, &hex(r#""id" 00"#));
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    assert_eq!(pdu.command_status, CommandStatus(0x777));
    assert_eq!(pdu.command_status.name(), None);
    assert_eq!(pdu.to_bytes().unwrap(), bytes);
    // Unknown command_status, header only.
    let bytes = frame(CommandId::DATA_SM_RESP, 0x0000_0401, &[]);
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    assert_eq!(pdu.command_status, CommandStatus(0x401));
    assert_eq!(pdu.to_bytes().unwrap(), bytes);
    // Unknown command_id, request and response, with unusual status and sequence.
    for id in [0x0000_0099u32, 0x8000_0200, 0x0001_0000, 0xFFFF_FFFF] {
        let bytes = frame(CommandId(id), 0x1234, &hex(r#""anything" 00 01 02"#));
        let (pdu, n) = Pdu::decode(&bytes).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(pdu.command_id(), CommandId(id));
        assert!(matches!(&pdu.body, Body::Unknown { body, .. } if body.len() == 11));
        assert_eq!(pdu.body.tlvs(), &[]);
        assert_eq!(pdu.to_bytes().unwrap(), bytes);
    }
    // Unknown tags inside a known PDU.
    let bytes = frame(
        CommandId::DELIVER_SM_RESP,
        0,
        &hex("00 7777 0000 1401 0002 ABCD"),
    );
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    assert_eq!(pdu.body.tlvs().len(), 2);
    assert_eq!(pdu.body.tlvs()[0].tag(), Tag(0x7777));
    assert_eq!(pdu.body.tlvs()[0].name(), "tlv");
    assert_eq!(pdu.to_bytes().unwrap(), bytes);
}

#[test]
fn malformed_known_tags_are_kept_raw_and_reencoded_byte_for_byte() {
    // Each known tag with a value length its definition does not allow.
    let odd = hex(r#"
        00 // message_id ""
        000D 0002 0001              // source_addr_subunit: 2 octets instead of 1
        0204 0001 07                // user_message_reference: 1 octet instead of 2
        0017 0002 0001              // qos_time_to_live: 2 octets instead of 4
        0423 0002 0300              // network_error_code: 2 octets instead of 3
        0609 0005 "12345"           // broadcast_end_time: 5 characters
        060F 0003 010203            // source_node_id: 3 octets instead of 6
        1204 0002 0101              // ms_validity: 2 octets (1 or 4 allowed)
        130C 0002 0101              // alert_on_message_delivery: 2 octets
        1383 0003 010203            // its_session_info: 3 octets
        0381 0003 000101            // callback_num: no digits
        001E 0003 "a" 00 "b"        // receipted_message_id with an inner NUL
    "#);
    let bytes = frame(CommandId::SUBMIT_SM_RESP, 0, &odd);
    let (pdu, _) = Pdu::decode(&bytes).unwrap().unwrap();
    assert_eq!(pdu.body.tlvs().len(), 11);
    for tlv in pdu.body.tlvs() {
        match tlv {
            Tlv::Other(raw) => assert!(raw.is_malformed_known_tag(), "{raw:?}"),
            other => panic!("decoded as typed: {other:?}"),
        }
    }
    assert_eq!(pdu.to_bytes().unwrap(), bytes);
}

// ---------------------------------------------------------------------------------------
// Passwords never show in Debug output.
// ---------------------------------------------------------------------------------------

#[test]
fn password_never_appears_in_debug_output() {
    const SECRET: &str = "s3cr3tpw";
    let pdus: Vec<Pdu<'static>> = vec![
        Pdu::new(
            1,
            BindTransmitter {
                system_id: "id".into(),
                password: SECRET.into(),
                ..Default::default()
            },
        ),
        Pdu::new(
            1,
            BindReceiver {
                system_id: "id".into(),
                password: SECRET.into(),
                ..Default::default()
            },
        ),
        Pdu::new(
            1,
            BindTransceiver {
                system_id: "id".into(),
                password: SECRET.into(),
                ..Default::default()
            },
        ),
        Pdu::new(
            1,
            Outbind {
                system_id: "id".into(),
                password: SECRET.into(),
                tlvs: vec![],
            },
        ),
    ];
    for pdu in pdus {
        let bytes = pdu.to_bytes().unwrap();
        let (decoded, _) = Pdu::decode(&bytes).unwrap().unwrap();
        for text in [
            format!("{pdu:?}"),
            format!("{pdu:#?}"),
            format!("{decoded:?}"),
            format!("{:?}", decoded.body),
            format!("{:?}", decoded.clone().into_owned()),
        ] {
            assert!(!text.contains(SECRET), "password leaked: {text}");
            assert!(!text.contains("s3cr"), "password prefix leaked: {text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
        // The bytes are still there for whoever really needs them.
        let password = match &decoded.body {
            Body::BindTransmitter(b) => b.password.expose().to_vec(),
            Body::BindReceiver(b) => b.password.expose().to_vec(),
            Body::BindTransceiver(b) => b.password.expose().to_vec(),
            Body::Outbind(b) => b.password.expose().to_vec(),
            other => panic!("{other:?}"),
        };
        assert_eq!(password, SECRET.as_bytes());
    }
}

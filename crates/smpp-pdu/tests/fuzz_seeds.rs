//! Replays the committed fuzz seeds (`fuzz/seeds/<target>/`) through the fuzz oracles, and
//! holds the generator that writes those seeds.
//!
//! The oracles are the same file the fuzz targets use (`fuzz/oracles.rs`), so every seed is
//! checked by the fuzzer's own assertions on each `cargo test`.
//! Regenerate the seeds with `cargo xtask fuzz-seeds` (which runs the ignored
//! `regenerate_seeds` test below) after changing the list.
//!
//! It also writes the `session_input` seeds (scripts for an ESME and an SMSC session,
//! defined in `fuzz/session_script.rs`); their oracle needs smpp-session, so
//! `crates/smpp-session/tests/fuzz_seeds.rs` replays them.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

use smpp_pdu::tlv::{
    BroadcastAreaIdentifier, BroadcastContentType, BroadcastFrequencyInterval, CallbackNum,
    MsValidity, NetworkErrorCode, RawTlv,
};
use smpp_pdu::*;

#[path = "../../../fuzz/oracles.rs"]
mod oracles;

#[path = "../../../fuzz/session_script.rs"]
mod session_script;

/// A fuzz oracle: panics when the codec breaks a promise on these bytes.
type Oracle = fn(&[u8]);

/// The fuzz targets and the oracle each one runs.
const TARGETS: &[(&str, Oracle)] = &[
    ("decode_pdu", oracles::decode_pdu),
    ("peek_header", oracles::peek_header),
    ("text_decode", oracles::text_decode),
    ("reassembly", oracles::reassembly),
    ("receipt_parse", oracles::receipt_parse),
];

/// Targets whose seeds this file writes but whose oracle needs more than smpp-pdu: their
/// seeds are replayed elsewhere (`session_input`: `crates/smpp-session/tests/fuzz_seeds.rs`).
const REPLAYED_ELSEWHERE: &[&str] = &["session_input"];

/// Every target this file writes seeds for.
fn seeded_targets() -> impl Iterator<Item = &'static str> {
    TARGETS
        .iter()
        .map(|&(target, _)| target)
        .chain(REPLAYED_ELSEWHERE.iter().copied())
}

/// Fewest seed files a target may have: a missing or emptied directory fails the replay
/// instead of passing without checking anything.
const MIN_SEEDS: usize = 20;

fn seeds_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target)
}

#[test]
fn committed_seeds_pass_the_fuzz_oracles() {
    let mut failures = Vec::new();
    for &(target, oracle) in TARGETS {
        let dir = seeds_dir(target);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read seed directory {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(
            files.len() >= MIN_SEEDS,
            "{} holds {} seed files, expected at least {MIN_SEEDS}; run `cargo xtask fuzz-seeds`",
            dir.display(),
            files.len()
        );
        for file in files {
            let data = fs::read(&file).expect("readable seed");
            if panic::catch_unwind(AssertUnwindSafe(|| oracle(&data))).is_err() {
                failures.push(format!("{target}: {}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "seeds failing their fuzz oracle (panic messages above):\n  {}",
        failures.join("\n  ")
    );
}

/// What decoding a seed must give; this pins the behaviour `docs/architecture.md`
/// describes under "Codec decisions".
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Decodes, and re-encodes to the same octets.
    Exact,
    /// Decodes (tolerated input); the encoder writes a different, strict form or refuses.
    Tolerated,
    /// `Ok(None)`: more input is needed.
    Incomplete,
    /// Fails with this `command_status`.
    Error(CommandStatus),
}

struct Seed {
    name: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
}

/// A PDU built from raw parts; `command_length` is computed.
fn raw(command_id: u32, status: u32, sequence: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(16 + body.len());
    v.extend_from_slice(&(16 + body.len() as u32).to_be_bytes());
    v.extend_from_slice(&command_id.to_be_bytes());
    v.extend_from_slice(&status.to_be_bytes());
    v.extend_from_slice(&sequence.to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A header announcing `command_length`, followed by `rest`.
fn with_length(command_length: u32, rest: &[u8]) -> Vec<u8> {
    let mut v = command_length.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 9]);
    v.extend_from_slice(rest);
    v
}

fn tlv(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut v = tag.to_be_bytes().to_vec();
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
    v
}

fn encode(pdu: &Pdu<'_>) -> Vec<u8> {
    pdu.to_bytes()
        .unwrap_or_else(|e| panic!("seed {pdu:?} does not encode: {e}"))
}

fn submit_sm() -> SubmitSm<'static> {
    SubmitSm {
        service_type: "CMT".into(),
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "12345".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        registered_delivery: 1,
        validity_period: "000001000000000R".into(),
        short_message: "Hello, world".into(),
        ..Default::default()
    }
}

/// A `submit_sm` body in wire octets, for the hand-broken seeds.
fn submit_sm_body() -> Vec<u8> {
    encode(&Pdu::new(1, submit_sm()))[16..].to_vec()
}

/// One valid PDU of every type.
fn valid_pdus() -> Vec<(&'static str, Pdu<'static>)> {
    let bind = |version| BindTransmitter {
        system_id: "smppclient1".into(),
        password: "password".into(),
        system_type: "VMA".into(),
        interface_version: version,
        addr_ton: 1,
        addr_npi: 1,
        address_range: "^4477".into(),
        tlvs: vec![],
    };
    let bind_resp_tlvs = || vec![Tlv::ScInterfaceVersion(0x50)];
    let receipt = DeliverSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "447700900123".into(),
        destination_addr: "12345".into(),
        esm_class: 0x04,
        short_message: "id:0a1b2c3d sub:001 dlvrd:001 submit date:2401011200 \
                        done date:2401011201 stat:DELIVRD err:000 text:Hello"
            .into(),
        tlvs: vec![
            Tlv::ReceiptedMessageId("0a1b2c3d".into()),
            Tlv::MessageState(2),
            Tlv::NetworkErrorCode(NetworkErrorCode {
                network_type: 3,
                error_code: 0,
            }),
        ],
        ..Default::default()
    };
    let b = bind(0x34);
    vec![
        (
            "generic_nack",
            Pdu::response(1, CommandStatus::ESME_RINVCMDID, GenericNack::default()),
        ),
        ("bind_transmitter", Pdu::new(2, b.clone())),
        (
            "bind_receiver",
            Pdu::new(
                3,
                BindReceiver {
                    system_id: b.system_id.clone(),
                    password: b.password.clone(),
                    interface_version: 0x34,
                    ..Default::default()
                },
            ),
        ),
        (
            "bind_transceiver",
            Pdu::new(
                4,
                BindTransceiver {
                    system_id: b.system_id.clone(),
                    password: b.password.clone(),
                    interface_version: 0x50,
                    ..Default::default()
                },
            ),
        ),
        (
            "bind_transmitter_resp",
            Pdu::new(
                2,
                BindTransmitterResp {
                    system_id: "SMSC".into(),
                    tlvs: bind_resp_tlvs(),
                },
            ),
        ),
        (
            "bind_receiver_resp",
            Pdu::new(
                3,
                BindReceiverResp {
                    system_id: "SMSC".into(),
                    tlvs: vec![],
                },
            ),
        ),
        (
            "bind_transceiver_resp",
            Pdu::new(
                4,
                BindTransceiverResp {
                    system_id: "SMSC".into(),
                    tlvs: bind_resp_tlvs(),
                },
            ),
        ),
        (
            "outbind",
            Pdu::new(
                5,
                Outbind {
                    system_id: "SMSC".into(),
                    password: "secret".into(),
                    tlvs: vec![],
                },
            ),
        ),
        ("unbind", Pdu::new(6, Unbind::default())),
        ("unbind_resp", Pdu::new(6, UnbindResp::default())),
        ("enquire_link", Pdu::new(7, EnquireLink::default())),
        (
            "enquire_link_resp",
            Pdu::new(
                7,
                EnquireLinkResp {
                    tlvs: vec![Tlv::CongestionState(40)],
                },
            ),
        ),
        ("submit_sm", Pdu::new(8, submit_sm())),
        (
            "submit_sm_resp",
            Pdu::new(
                8,
                SubmitSmResp {
                    message_id: "0a1b2c3d".into(),
                    tlvs: vec![],
                },
            ),
        ),
        ("deliver_sm_receipt", Pdu::new(9, receipt)),
        ("deliver_sm_resp", Pdu::new(9, DeliverSmResp::default())),
        (
            "replace_sm",
            Pdu::new(
                10,
                ReplaceSm {
                    message_id: "0a1b2c3d".into(),
                    source_addr: "12345".into(),
                    schedule_delivery_time: "240101120000004+".into(),
                    short_message: "replaced".into(),
                    ..Default::default()
                },
            ),
        ),
        ("replace_sm_resp", Pdu::new(10, ReplaceSmResp::default())),
        (
            "cancel_sm",
            Pdu::new(
                11,
                CancelSm {
                    message_id: "0a1b2c3d".into(),
                    source_addr: "12345".into(),
                    destination_addr: "447700900123".into(),
                    ..Default::default()
                },
            ),
        ),
        ("cancel_sm_resp", Pdu::new(11, CancelSmResp::default())),
        (
            "query_sm",
            Pdu::new(
                12,
                QuerySm {
                    message_id: "0a1b2c3d".into(),
                    source_addr: "12345".into(),
                    ..Default::default()
                },
            ),
        ),
        (
            "query_sm_resp",
            Pdu::new(
                12,
                QuerySmResp {
                    message_id: "0a1b2c3d".into(),
                    final_date: "240101120100000+".into(),
                    message_state: 2,
                    error_code: 0,
                    tlvs: vec![],
                },
            ),
        ),
        (
            "submit_multi",
            Pdu::new(
                13,
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
                    short_message: "to many".into(),
                    ..Default::default()
                },
            ),
        ),
        (
            "submit_multi_resp",
            Pdu::new(
                13,
                SubmitMultiResp {
                    message_id: "0a1b2c3e".into(),
                    unsuccess_smes: vec![UnsuccessSme {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "447700900999".into(),
                        error_status_code: CommandStatus::ESME_RINVDSTADR,
                    }],
                    tlvs: vec![],
                },
            ),
        ),
        (
            "alert_notification",
            Pdu::new(
                14,
                AlertNotification {
                    source_addr_ton: 1,
                    source_addr_npi: 1,
                    source_addr: "447700900123".into(),
                    esme_addr: "12345".into(),
                    tlvs: vec![Tlv::MsAvailabilityStatus(0)],
                    ..Default::default()
                },
            ),
        ),
        (
            "data_sm",
            Pdu::new(
                15,
                DataSm {
                    source_addr: "12345".into(),
                    destination_addr: "447700900123".into(),
                    tlvs: vec![
                        Tlv::MessagePayload(b"a data_sm payload".into()),
                        Tlv::SourcePort(2948),
                        Tlv::DestinationPort(2948),
                    ],
                    ..Default::default()
                },
            ),
        ),
        (
            "data_sm_resp",
            Pdu::new(
                15,
                DataSmResp {
                    message_id: "0a1b2c3f".into(),
                    tlvs: vec![Tlv::AdditionalStatusInfoText("queued".into())],
                },
            ),
        ),
        (
            "broadcast_sm",
            Pdu::new(
                16,
                BroadcastSm {
                    source_addr: "12345".into(),
                    validity_period: "000001000000000R".into(),
                    tlvs: vec![
                        Tlv::BroadcastAreaIdentifier(BroadcastAreaIdentifier {
                            format: 0,
                            details: b"area-51".into(),
                        }),
                        Tlv::BroadcastContentType(BroadcastContentType {
                            network_type: 1,
                            content_type: 0x0012,
                        }),
                        Tlv::BroadcastRepNum(3),
                        Tlv::BroadcastFrequencyInterval(BroadcastFrequencyInterval {
                            time_unit: 0x09,
                            number: 5,
                        }),
                        Tlv::MessagePayload(b"storm warning".into()),
                    ],
                    ..Default::default()
                },
            ),
        ),
        (
            "broadcast_sm_resp",
            Pdu::new(
                16,
                BroadcastSmResp {
                    message_id: "b1".into(),
                    tlvs: vec![],
                },
            ),
        ),
        (
            "query_broadcast_sm",
            Pdu::new(
                17,
                QueryBroadcastSm {
                    message_id: "b1".into(),
                    source_addr: "12345".into(),
                    ..Default::default()
                },
            ),
        ),
        (
            "query_broadcast_sm_resp",
            Pdu::new(
                17,
                QueryBroadcastSmResp {
                    message_id: "b1".into(),
                    tlvs: vec![
                        Tlv::MessageState(1),
                        Tlv::BroadcastAreaIdentifier(BroadcastAreaIdentifier {
                            format: 0,
                            details: b"area-51".into(),
                        }),
                        Tlv::BroadcastAreaSuccess(87),
                        Tlv::BroadcastEndTime("240101130000000+".into()),
                    ],
                },
            ),
        ),
        (
            "cancel_broadcast_sm",
            Pdu::new(
                18,
                CancelBroadcastSm {
                    message_id: "b1".into(),
                    source_addr: "12345".into(),
                    ..Default::default()
                },
            ),
        ),
        (
            "cancel_broadcast_sm_resp",
            Pdu::new(18, CancelBroadcastSmResp::default()),
        ),
    ]
}

/// Every seed with what decoding it must give.
fn seeds() -> Vec<Seed> {
    let mut seeds: Vec<Seed> = valid_pdus()
        .into_iter()
        .map(|(name, pdu)| Seed {
            name,
            bytes: encode(&pdu),
            expect: Expect::Exact,
        })
        .collect();
    let mut add = |name, bytes, expect| {
        seeds.push(Seed {
            name,
            bytes,
            expect,
        })
    };
    use Expect::*;

    // More TLVs and error responses the encoder writes.
    let payload: Vec<u8> = (0..300u16).map(|i| b'a' + (i % 26) as u8).collect();
    let long = SubmitSm {
        short_message: OctetString::EMPTY,
        data_coding: 0,
        tlvs: vec![
            Tlv::MessagePayload(payload.into()),
            Tlv::SarMsgRefNum(0x1234),
            Tlv::SarTotalSegments(2),
            Tlv::SarSegmentSeqnum(1),
            Tlv::UserMessageReference(7),
        ],
        ..submit_sm()
    };
    add("tlv_message_payload", encode(&Pdu::new(20, long)), Exact);
    let vendor = SubmitSm {
        tlvs: vec![
            Tlv::Other(RawTlv {
                tag: Tag(0x1401),
                value: b"\x01\x02vendor".into(),
            }),
            Tlv::CallbackNum(CallbackNum {
                digit_mode: 1,
                addr_ton: 1,
                addr_npi: 1,
                number_digits: b"447700900000".into(),
            }),
            Tlv::MsValidity(MsValidity {
                behaviour: 4,
                period: Some((1, 30)),
            }),
            Tlv::AlertOnMessageDelivery(None),
        ],
        ..submit_sm()
    };
    add("tlv_vendor_0x1401", encode(&Pdu::new(21, vendor)), Exact);
    let throttled = Pdu::response(22, CommandStatus::ESME_RTHROTTLED, SubmitSmResp::default());
    add(
        "error_submit_sm_resp_header_only",
        encode(&throttled),
        Exact,
    );
    let bad_password = Pdu::response(
        23,
        CommandStatus::ESME_RINVPASWD,
        BindTransmitterResp::default(),
    );
    add("error_bind_resp_header_only", encode(&bad_password), Exact);
    add(
        "error_unknown_resp_header_only",
        raw(0x8000_0099, 0x08, 24, &[]),
        Exact,
    );
    add(
        "unknown_command_id_0x99",
        raw(0x99, 0, 25, b"opaque\0body"),
        Exact,
    );

    // Tolerated on decode, written differently (or refused) on encode.
    add(
        "tol_error_resp_with_body",
        raw(0x8000_0004, 0x08, 26, b"\0"),
        Tolerated,
    );
    add(
        "tol_missing_final_nul",
        raw(0x8000_0004, 0, 27, b"0a1b2c3d"),
        Tolerated,
    );
    let mut sm255 = submit_sm_body();
    let cut = sm255.len() - 13; // sm_length and the 12-octet message
    sm255.truncate(cut);
    sm255.push(255);
    sm255.extend_from_slice(&[b'x'; 255]);
    add("tol_short_message_255", raw(4, 0, 28, &sm255), Tolerated);
    let mut dests255 = b"\0\x01\x0112345\0\xff".to_vec();
    for _ in 0..255 {
        dests255.extend_from_slice(b"\x01\x01\x01447700900123\0");
    }
    dests255.extend_from_slice(b"\0\0\0\0\0\x01\0\0\0\x02hi");
    add(
        "tol_number_of_dests_255",
        raw(0x21, 0, 29, &dests255),
        Tolerated,
    );
    let mut odd_tlvs = submit_sm_body();
    odd_tlvs.extend(tlv(0x000D, &[1, 2])); // source_addr_subunit, 2 octets: kept raw
    odd_tlvs.extend(tlv(0x0010, &[0, 1])); // source_telematics_id, 2 octets
    add("tol_known_tlv_wrong_size", raw(4, 0, 30, &odd_tlvs), Exact);
    let mut end_time = b"b1\0".to_vec();
    end_time.extend(tlv(0x0609, b"240101130000000+")); // broadcast_end_time without NUL
    add(
        "tol_broadcast_end_time_no_nul",
        raw(0x8000_0112, 0, 31, &end_time),
        Tolerated,
    );

    // Malformed.
    add(
        "bad_command_length_0",
        with_length(0, &[]),
        Error(CommandStatus::ESME_RINVCMDLEN),
    );
    add(
        "bad_command_length_15",
        with_length(15, &[]),
        Error(CommandStatus::ESME_RINVCMDLEN),
    );
    add(
        "bad_command_length_max",
        with_length(0xFFFF_FFFF, &[]),
        Error(CommandStatus::ESME_RINVCMDLEN),
    );
    add(
        "bad_command_length_65537",
        with_length(65_537, &[]),
        Error(CommandStatus::ESME_RINVCMDLEN),
    );
    add("incomplete_3_octets", vec![0, 0, 0], Incomplete);
    let whole = encode(&Pdu::new(32, submit_sm()));
    add("incomplete_header_only", whole[..16].to_vec(), Incomplete);
    add(
        "incomplete_body",
        whole[..whole.len() - 1].to_vec(),
        Incomplete,
    );
    let body = submit_sm_body();
    add(
        "bad_truncated_body",
        raw(4, 0, 33, &body[..27]), // ends before esm_class
        Error(CommandStatus::ESME_RINVCMDLEN),
    );
    let mut past_end = body.clone();
    let sm_length_at = past_end.len() - 13;
    past_end[sm_length_at] = 200;
    add(
        "bad_sm_length_past_end",
        raw(4, 0, 34, &past_end),
        Error(CommandStatus::ESME_RINVMSGLEN),
    );
    let mut tlv_past_end = body.clone();
    tlv_past_end.extend_from_slice(&[0x04, 0x24, 0x01, 0x00, b'x']);
    add(
        "bad_tlv_length_past_end",
        raw(4, 0, 35, &tlv_past_end),
        Error(CommandStatus::ESME_RINVOPTPARSTREAM),
    );
    let mut tlv_stub = body.clone();
    tlv_stub.extend_from_slice(&[0x04, 0x27]);
    add(
        "bad_tlv_stream_stub",
        raw(4, 0, 36, &tlv_stub),
        Error(CommandStatus::ESME_RINVOPTPARSTREAM),
    );
    let mut no_nul = b"CMT\0\x01\x01".to_vec();
    no_nul.extend_from_slice(&[b'1'; 30]);
    no_nul.extend_from_slice(&body[10..]);
    add(
        "bad_source_addr_no_nul",
        raw(4, 0, 37, &no_nul),
        Error(CommandStatus::ESME_RINVSRCADR),
    );
    let mut dst_no_nul = b"CMT\0\x01\x0112345\0\x01\x01".to_vec();
    dst_no_nul.extend_from_slice(&[b'4'; 25]);
    dst_no_nul.extend_from_slice(&[0; 12]);
    add(
        "bad_destination_addr_no_nul",
        raw(4, 0, 38, &dst_no_nul),
        Error(CommandStatus::ESME_RINVDSTADR),
    );
    add(
        "bad_service_type_no_nul",
        raw(4, 0, 39, b"SERVICE\0\x01\x0112345\0"),
        Error(CommandStatus::ESME_RINVSERTYP),
    );
    let mut id_no_nul = vec![b'f'; 70];
    id_no_nul.push(0);
    add(
        "bad_message_id_no_nul",
        raw(0x8000_0004, 0, 40, &id_no_nul),
        Error(CommandStatus::ESME_RINVMSGID),
    );
    add(
        "bad_system_id_no_nul",
        raw(2, 0, 41, b"a-very-long-system-id\0pw\0\0\x34\0\0\0"),
        Error(CommandStatus::ESME_RINVSYSID),
    );
    add(
        "bad_password_no_nul",
        raw(2, 0, 42, b"client\0password-too-long\0\0\x34\0\0\0"),
        Error(CommandStatus::ESME_RINVPASWD),
    );
    add(
        "bad_schedule_time_length",
        raw(
            4,
            0,
            43,
            b"\0\x01\x0112345\0\x01\x01447700900123\0\0\0\x012401011200\0\0\0\0\0\0\x02hi",
        ),
        Error(CommandStatus::ESME_RINVSCHED),
    );
    add(
        "bad_validity_period_length",
        raw(
            4,
            0,
            44,
            b"\0\x01\x0112345\0\x01\x01447700900123\0\0\0\x01\x002401011200\0\0\0\0\0\x02hi",
        ),
        Error(CommandStatus::ESME_RINVEXPIRY),
    );
    add(
        "bad_dest_flag_3",
        raw(0x21, 0, 45, b"\0\x01\x0112345\0\x01\x03friends\0"),
        Error(CommandStatus::ESME_RINVDESTFLAG),
    );
    add(
        "bad_number_of_dests_0",
        raw(0x21, 0, 46, b"\0\x01\x0112345\0\x00\0\0\0\0\0\0\0\0\0\0"),
        Error(CommandStatus::ESME_RINVNUMDESTS),
    );
    add(
        "bad_request_without_body",
        raw(4, 0, 47, &[]),
        Error(CommandStatus::ESME_RINVCMDLEN),
    );

    // Framing: two PDUs back to back (only the first is decoded).
    let mut two = encode(&Pdu::new(48, EnquireLink::default()));
    two.extend(encode(&Pdu::new(49, submit_sm())));
    add("two_pdus_back_to_back", two, Exact);
    seeds
}

/// Checks one seed against its expectation; `Err` says how it differs.
fn check(seed: &Seed) -> Result<(), String> {
    let decoded = Pdu::decode(&seed.bytes);
    match (seed.expect, decoded) {
        (Expect::Incomplete, Ok(None)) => Ok(()),
        (Expect::Error(status), Err(e)) if e.command_status() == status => Ok(()),
        (Expect::Exact, Ok(Some((pdu, used)))) => {
            let again = pdu
                .to_bytes()
                .map_err(|e| format!("re-encode failed: {e}"))?;
            if again == seed.bytes[..used] {
                Ok(())
            } else {
                Err(format!("re-encodes differently: {again:02x?}"))
            }
        }
        (Expect::Tolerated, Ok(Some((pdu, used)))) => match pdu.to_bytes() {
            Ok(again) if again == seed.bytes[..used] => {
                Err("re-encodes identically; expected the strict form".into())
            }
            _ => Ok(()),
        },
        (expect, got) => Err(format!("expected {expect:?}, got {got:?}")),
    }
}

/// Each seed decodes as documented: tolerated forms are accepted, malformed ones map to
/// the `command_status` listed in `docs/architecture.md`.
#[test]
fn seeds_decode_as_documented() {
    let seeds = seeds();
    let failures: Vec<String> = seeds
        .iter()
        .filter_map(|s| check(s).err().map(|e| format!("{}: {e}", s.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // One valid seed per command_id this codec knows.
    for id in CommandId::ALL {
        let covered = seeds.iter().any(|s| {
            s.expect == Expect::Exact
                && Header::peek(&s.bytes).is_ok_and(|h| h.is_some_and(|h| h.command_id == *id))
        });
        assert!(covered, "no valid seed for {id:?}");
    }
}

/// The seed files of one fuzz target: (file name, octets).
fn seed_files(target: &str) -> Vec<(&'static str, Vec<u8>)> {
    match target {
        "decode_pdu" | "peek_header" => seeds().into_iter().map(|s| (s.name, s.bytes)).collect(),
        "text_decode" => text_seeds(),
        "reassembly" => reassembly_seeds(),
        "receipt_parse" => receipt_seeds(),
        // Scripts for both sessions; the format and the list live with the oracle.
        "session_input" => session_script::seeds()
            .into_iter()
            .map(|s| (s.name, s.bytes))
            .collect(),
        other => panic!("no seed generator for fuzz target `{other}`"),
    }
}

/// `text_decode` seeds: GSM 03.38 (unpacked and packed, escapes included), UCS-2 (surrogate
/// pairs, lone surrogates, odd lengths), Latin-1, ASCII and UTF-8 octets, and packed
/// septets behind a count and fill-bit prefix for `unpack_septets`.
fn text_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let enc = |s: &str, e: text::Encoding| {
        text::encode(s, e).unwrap_or_else(|err| panic!("seed {s:?} in {e:?}: {err}"))
    };
    // count (little-endian) and fill bits, then the septets packed after the fill bits.
    let unpack = |septets: &[u8], fill: u8| {
        let mut v = (septets.len() as u16).to_le_bytes().to_vec();
        v.push(fill);
        text::pack_septets(septets, fill, &mut v);
        v
    };
    use text::Encoding::{Ascii, Gsm7, Gsm7Packed, Latin1, Ucs2};
    vec![
        ("empty", vec![]),
        ("gsm7_hello", enc("Hello, world!", Gsm7)),
        (
            "gsm7_greek_and_accents",
            enc("ΔΦΓΛΩΠΨΣΘΞ àèìòù ÄÖÑÜ§¿¡£¥", Gsm7),
        ),
        ("gsm7_extension_table", enc("{}[]~\\|^€\u{0C}", Gsm7)),
        (
            "gsm7_undefined_escape",
            vec![b'a', 0x1B, 0x41, b'b', 0x1B, 0x00],
        ),
        ("gsm7_double_escape", vec![b'x', 0x1B, 0x1B, 0x65, b'y']),
        ("gsm7_trailing_escape", vec![b'a', b'b', b'c', 0x1B]),
        (
            "gsm7_high_bit_set",
            vec![0xC8, 0xE5, 0xEC, 0xEC, 0xEF, 0x80, 0x9B, 0xE5],
        ),
        ("gsm7_all_septets", (0..128).collect()),
        ("gsm7_packed_hello", enc("hellohello", Gsm7Packed)),
        ("gsm7_packed_7_septets_cr_fill", enc("1234567", Gsm7Packed)),
        ("gsm7_packed_8_septets_at_end", enc("1234567@", Gsm7Packed)),
        ("gsm7_packed_8_septets_cr_end", enc("1234567\r", Gsm7Packed)),
        ("gsm7_packed_escape_at_boundary", enc("123456€", Gsm7Packed)),
        (
            "gsm7_packed_zero_fill",
            vec![0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x00],
        ),
        ("ascii_text", enc("Hello ASCII ~ 0x7F\u{7F}", Ascii)),
        ("ascii_high_octets", vec![b'o', b'k', 0x80, 0xFF, b'!']),
        ("latin1_accents", enc("café ñandú ÿ ß ©®", Latin1)),
        ("latin1_c1_controls", (0x80..0xA0).collect()),
        ("ucs2_hello", enc("Hello", Ucs2)),
        ("ucs2_cyrillic_cjk", enc("Привет 你好", Ucs2)),
        ("ucs2_surrogate_pair", enc("a😀b", Ucs2)),
        ("ucs2_lone_high_surrogate", vec![0xD8, 0x3D, 0x00, 0x41]),
        ("ucs2_lone_low_surrogate", vec![0x00, 0x41, 0xDE, 0x00]),
        ("ucs2_reversed_pair", vec![0xDE, 0x00, 0xD8, 0x3D]),
        ("ucs2_odd_length", vec![0x00, 0x48, 0x00, 0x69, 0x00]),
        (
            "ucs2_bom_and_replacement",
            vec![0xFE, 0xFF, 0xFF, 0xFD, 0x20, 0xAC],
        ),
        ("utf8_mixed", "Grüße € 😀 Привет {x}".as_bytes().to_vec()),
        (
            "utf8_invalid",
            vec![b'a', 0xC3, 0x28, 0xE2, 0x82, b'z', 0xF0, 0x9F],
        ),
        ("unpack_no_fill", unpack(b"\x48\x65\x6C\x6C\x6F", 0)),
        (
            "unpack_one_fill_bit",
            unpack(&[0x41, 0x7F, 0x00, 0x1B, 0x65, 0x0D], 1),
        ),
        (
            "unpack_six_fill_bits",
            unpack(&[0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38], 6),
        ),
        (
            "unpack_count_past_end",
            vec![0xFF, 0xFF, 0x00, 0xC8, 0x32, 0x9B, 0xFD, 0x06],
        ),
        ("all_octets", (0..=255).collect()),
    ]
}

/// A segment's data: an 8-bit-reference concatenation UDH, then `text`.
fn udh8(reference: u8, total: u8, seq: u8, text: &str) -> Vec<u8> {
    let mut v = vec![0x05, 0x00, 0x03, reference, total, seq];
    v.extend_from_slice(text.as_bytes());
    v
}

/// `reassembly` seeds: scripts (see `oracles::script`) that complete a three-part message in
/// and out of order, repeat segments, time out, evict for either limit and restart keys;
/// and User Data Headers on their own for `parse_udh` and `segment_of`.
fn reassembly_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use oracles::script::Script;
    // Source/destination 0, reference 1, three parts.
    let part = |seq: u8| udh8(1, 3, seq, ["one ", "two ", "three"][usize::from(seq) - 1]);
    let three = |order: [u8; 3]| {
        let mut s = Script::new(4, 4096, 60);
        for seq in order {
            s = s.push(0, 1, 3, seq, &part(seq));
        }
        s.drain().into_bytes()
    };
    vec![
        ("complete_in_order", three([1, 2, 3])),
        ("complete_out_of_order", three([3, 1, 2])),
        ("complete_reverse_order", three([3, 2, 1])),
        (
            "duplicate_then_complete",
            Script::new(4, 4096, 60)
                .push(0, 1, 3, 2, &part(2))
                .push(0, 1, 3, 2, b"other data")
                .push(0, 1, 3, 1, &part(1))
                .push(0, 1, 3, 3, &part(3))
                .push(0, 1, 3, 3, &part(3))
                .drain()
                .into_bytes(),
        ),
        (
            "single_segment",
            Script::new(1, 16, 1)
                .push(2, 0, 1, 1, b"whole message")
                .push(2, 0, 1, 1, b"again")
                .into_bytes(),
        ),
        (
            "timeout_partial",
            Script::new(4, 4096, 60)
                .push(0, 1, 3, 1, &part(1))
                .push(0, 1, 3, 2, &part(2))
                .advance(130)
                .handle_timeout()
                .drain()
                .into_bytes(),
        ),
        (
            "timeout_not_yet_then_due",
            Script::new(4, 4096, 60)
                .push(0, 1, 3, 1, &part(1))
                .advance_and_timeout(100)
                .drain()
                .push(0, 1, 3, 2, &part(2))
                .advance_and_timeout(30)
                .drain()
                .into_bytes(),
        ),
        (
            "late_segment_after_timeout",
            Script::new(4, 4096, 10)
                .push(1, 2, 2, 1, b"first half")
                .advance_and_timeout(250)
                .drain()
                .push(1, 2, 2, 2, b"second half")
                .drain()
                .into_bytes(),
        ),
        (
            "evict_max_pending",
            Script::new(1, 4096, 60)
                .push(0, 1, 3, 1, &part(1))
                .push(3, 1, 3, 1, &part(1))
                .drain()
                .push(3, 1, 3, 2, &part(2))
                .push(3, 1, 3, 3, &part(3))
                .into_bytes(),
        ),
        (
            "evict_max_pending_undrained",
            Script::new(2, 4096, 60)
                .push(0, 0, 2, 1, b"a")
                .push(0, 1, 2, 1, b"b")
                .push(0, 2, 2, 1, b"c")
                .push(0, 3, 2, 1, b"d")
                .push(0, 3, 2, 2, b"D")
                .drain()
                .into_bytes(),
        ),
        (
            "evict_max_bytes",
            Script::new(16, 24, 60)
                .push(0, 0, 3, 1, b"twelve octet")
                .push(1, 0, 2, 1, b"sixteen octets!!")
                .drain()
                .push(1, 0, 2, 2, b"8 octets")
                .into_bytes(),
        ),
        (
            "too_large",
            Script::new(4, 8, 60)
                .push(0, 0, 2, 1, b"twelve octet")
                .push(0, 0, 1, 1, b"nine oct.")
                .push(0, 0, 2, 1, b"8 octets")
                .drain()
                .into_bytes(),
        ),
        (
            "invalid_positions",
            Script::new(4, 4096, 60)
                .push(0, 0, 0, 0, b"total 0, seq 0")
                .push(0, 0, 0, 1, b"total 0")
                .push(0, 0, 3, 0, b"seq 0")
                .push(0, 0, 3, 4, b"seq above total")
                .push(0, 0, 7, 7, b"last of seven")
                .into_bytes(),
        ),
        (
            "interleaved_messages",
            Script::new(4, 4096, 60)
                .push(0, 1, 2, 2, b"A2")
                .push(0, 2, 3, 1, b"B1")
                .push(0, 1, 2, 1, b"A1")
                .push(0, 2, 3, 3, b"B3")
                .push(0, 2, 3, 2, b"B2")
                .into_bytes(),
        ),
        (
            "same_reference_other_address",
            Script::new(4, 4096, 60)
                .push(0, 1, 2, 1, b"from 0 to 0")
                .push(1, 1, 2, 1, b"from 1 to 0")
                .push(3, 1, 2, 2, b"from 0 to 1")
                .push(1, 1, 2, 2, b"from 1 to 0, 2")
                .push(0, 1, 2, 2, b"from 0 to 0, 2")
                .drain()
                .into_bytes(),
        ),
        (
            "same_reference_other_total",
            Script::new(4, 4096, 60)
                .push(0, 1, 2, 1, b"of two")
                .push(0, 1, 3, 1, b"of three")
                .push(0, 1, 2, 2, b"of two, 2")
                .drain()
                .into_bytes(),
        ),
        (
            "reference_16bit",
            Script::new(4, 4096, 60)
                .push(0, 0x81, 2, 1, &udh8(0x81, 2, 1, "hi"))
                .push(0, 0x01, 2, 2, &udh8(0x01, 2, 2, "other"))
                .push(0, 0x81, 2, 2, &udh8(0x81, 2, 2, "there"))
                .drain()
                .into_bytes(),
        ),
        (
            "restart_after_complete",
            Script::new(4, 4096, 30)
                .push(0, 0, 2, 1, b"x1")
                .push(0, 0, 2, 2, b"x2")
                .push(0, 0, 2, 1, b"y1")
                .drain()
                .into_bytes(),
        ),
        (
            "evicted_and_restarted_before_drain",
            Script::new(1, 4096, 60)
                .push(0, 0, 3, 1, b"A1")
                .push(0, 1, 2, 1, b"B1")
                .push(0, 0, 3, 1, b"A1 again")
                .push(0, 0, 3, 3, b"A3")
                .push(0, 0, 3, 2, b"A2")
                .drain()
                .into_bytes(),
        ),
        (
            "evict_self_over_max_bytes",
            // The message alone outgrows max_bytes: it is given up, this segment included.
            Script::new(1, 10, 60)
                .push(0, 0, 3, 1, b"12345678")
                .push(0, 0, 3, 2, b"abcdefgh")
                .drain()
                .push(0, 0, 3, 3, b"late")
                .into_bytes(),
        ),
        (
            "empty_segments",
            Script::new(2, 1, 5)
                .push(0, 0, 2, 1, b"")
                .push(0, 0, 2, 2, b"")
                .push(0, 1, 3, 1, b"")
                .advance_and_timeout(20)
                .into_bytes(),
        ),
        ("many_messages", {
            let mut s = Script::new(16, 4096, 100);
            for addr in 0..6 {
                for reference in 0..4 {
                    s = s.push(addr, reference, 4, 1 + reference % 4, &[addr, reference]);
                }
                s = s.advance(20);
            }
            s.drain().advance_and_timeout(190).drain().into_bytes()
        }),
        ("udh8", udh8(0x2A, 3, 2, "user data")),
        ("udh16", {
            let mut v = vec![0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x01];
            v.extend_from_slice(b"user data");
            v
        }),
        (
            "udh_other_element_first",
            vec![
                0x08, 0x24, 0x01, 0x00, 0x00, 0x03, 0x07, 0x02, 0x01, b'h', b'i',
            ],
        ),
        ("udh_truncated", vec![0x05, 0x00, 0x03, 0x2A, 0x03]),
        (
            "udh_ports_only",
            vec![0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, b'w', b'a', b'p'],
        ),
        ("udh_seq_above_total", udh8(0x2A, 2, 3, "x")),
        (
            "udh_element_overruns",
            vec![0x04, 0x00, 0x05, 0x2A, 0x03, 0x01, 0x01],
        ),
    ]
}

/// `receipt_parse` seeds: receipt texts in the forms SMSCs send (standard; 10-, 12-, 14-digit
/// and SMPP absolute dates, all-zero dates; capitalised keys, keys without the space or
/// with `_`; missing, extra and vendor keys; an empty `text:` between keys; hex and
/// decimal ids; every state and vendor spellings), broken ones, and SMPP time values
/// (absolute, relative, invalid).
fn receipt_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let standard = "id:0a1b2c3d sub:001 dlvrd:001 submit date:2401011200 \
                    done date:2401011201 stat:DELIVRD err:000 text:Hello world";
    let mut seeds: Vec<(&'static str, Vec<u8>)> = vec![
        ("standard", standard),
        (
            "dates_12_digits",
            "id:12345 sub:001 dlvrd:000 submit date:240229235959 done date:240301000001 \
             stat:UNDELIV err:0x0B text:Hi",
        ),
        (
            "text_capitalised",
            "id:77 sub:001 dlvrd:001 submit date:2312311159 done date:2312311200 \
             stat:DELIVRD err:000 Text:Merry Christmas to all of you",
        ),
        (
            "keys_upper_case",
            "ID:ABC SUB:001 DLVRD:001 SUBMIT DATE:2401011200 DONE DATE:2401011201 \
             STAT:delivered ERR:000 TEXT:x",
        ),
        (
            "missing_text",
            "id:42 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:EXPIRED err:000",
        ),
        ("minimal", "id:1 stat:ACCEPTD"),
        ("hex_id", "id:4F2A9C1B00E3 sub:001 dlvrd:000 stat:REJECTD err:00B text:"),
        ("decimal_id_leading_zeros", "id:0001234567890 stat:ENROUTE"),
        ("uuid_id", "id:6f1c2a3e-8b4d-4c5e-9f60-7a8b9c0d1e2f stat:UNKNOWN err:000"),
        (
            "extra_keys",
            "id:99 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD \
             err:000 mccmnc:23415 price:0.01 text:Extra keys",
        ),
        (
            "reordered_keys",
            "stat:DELETED err:000 done date:2401011201 id:abc submit date:2401011200 sub:001",
        ),
        ("space_before_colon", "id :5 stat : DELIVRD submit date :2401011200"),
        ("state_scheduled", "id:s1 stat:SCHEDULED"),
        ("state_skipped", "id:s2 stat:SKIPPED err:000"),
        ("state_long_forms", "id:s3 stat:UNDELIVERABLE"),
        ("state_other", "id:s4 stat:WEIRD err:999"),
        ("state_empty", "id:s5 stat: err:000"),
        ("invalid_dates", "id:d1 submit date:2413011200 done date:24010112 stat:DELIVRD"),
        ("missing_id", "sub:001 dlvrd:001 stat:DELIVRD err:000 text:no id"),
        ("missing_stat", "id:nostat sub:001 err:000"),
        ("empty_id", "id: stat:DELIVRD"),
        ("key_inside_text", "id:t1 stat:DELIVRD text:id:9 stat:UNDELIV err:1"),
        ("key_inside_value", "stat:DELIVRD id:a stat:OTHER sub:1 text:x"),
        ("field_with_spaces", "sub:1 id:a b c err:7 stat:DELIVRD"),
        ("non_ascii_text", "id:u1 stat:DELIVRD text:Grüße € 😀 and then some more text here"),
        ("tabs_and_newlines", "id:n1\tsub:001\ndlvrd:001\r\nstat:DELIVRD\ttext:line"),
        ("keys_without_space", "id:k1 submitdate:2401011200 donedate:2401011201 stat:DELIVRD"),
        (
            "keys_with_underscore",
            "ID:k2 SUBMIT_DATE:2401011200 done_date:2401011201 stat:delivered err:000",
        ),
        (
            "dates_14_digits",
            "id:d2 submit date:20240101120000 done date:20240101120105 stat:DELIVRD",
        ),
        (
            "dates_12_digits_four_digit_year",
            "id:d3 submit date:202401011200 done date:199912312359 stat:DELIVRD",
        ),
        (
            "dates_smpp_absolute",
            "id:d4 submit date:240101120000004+ done date:240101120105948- stat:DELIVRD",
        ),
        (
            "done_date_all_zero",
            "id:d5 submit date:2401011200 done date:0000000000 stat:UNDELIV err:001",
        ),
        (
            "empty_text_between_keys",
            "id:e1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 \
             stat:DELIVRD text: err:000",
        ),
        ("empty_text_first", "text: stat:EXPIRED id:e2 err:0x1F"),
        ("text_then_unseen_key", "id:e3 text:Hello there stat:DELIVRD"),
        ("state_vendor_spelling", "id:s6 stat:Rejected"),
        (
            "vendor_keys",
            "network:23410 id:v1 imsi:234100000000001 stat:DELIVRD MCC_MNC:23415 text:x",
        ),
        ("ids_match_hex_decimal", "1234567890|499602d2"),
        ("ids_match_leading_zeros", "000ABC|abc"),
        ("time_absolute", "240101120000004+"),
        ("time_absolute_behind_utc", "991231235959948-"),
        ("time_absolute_zero_offset_behind", "240229120000000-"),
        ("time_relative", "000001000000000R"),
        ("time_relative_max", "999999999999000R"),
        ("time_then_receipt", "240101120000004+ id:1 stat:DELIVRD"),
        ("time_feb_30", "240230120000004+"),
        ("time_month_13", "241301120000004+"),
        ("time_offset_49", "240101120000049+"),
        ("time_relative_bad_tail", "000001000000001R"),
        ("time_bad_direction", "240101120000004X"),
        ("time_short", "24010112000000+"),
    ]
    .into_iter()
    .map(|(name, text)| (name, text.as_bytes().to_vec()))
    .collect();
    seeds.push((
        "invalid_utf8",
        b"id:\xFF\xFE stat:DELIVRD text:\xC3\x28".to_vec(),
    ));
    seeds.push(("latin1_text", b"id:l1 stat:DELIVRD text:caf\xE9".to_vec()));
    seeds
}

#[test]
fn every_target_has_enough_uniquely_named_seeds() {
    for target in seeded_targets() {
        let files = seed_files(target);
        assert!(files.len() >= MIN_SEEDS, "{target}: {} seeds", files.len());
        let mut names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), files.len(), "{target}: duplicate seed names");
    }
}

/// Writes the seeds into `fuzz/seeds/<target>/`, replacing what is there.
/// Run with `cargo xtask fuzz-seeds`.
#[test]
#[ignore = "writes fuzz/seeds/; run with `cargo xtask fuzz-seeds`"]
fn regenerate_seeds() {
    for target in seeded_targets() {
        let dir = seeds_dir(target);
        if dir.is_dir() {
            for entry in fs::read_dir(&dir).expect("readable seed directory") {
                let path = entry.expect("directory entry").path();
                if path.is_file() {
                    fs::remove_file(&path).expect("removable seed");
                }
            }
        }
        fs::create_dir_all(&dir).expect("seed directory");
        for (name, bytes) in seed_files(target) {
            fs::write(dir.join(name), bytes).expect("seed written");
        }
    }
}

//! Replays the committed fuzz seeds (`fuzz/seeds/<target>/`) through the fuzz oracles, and
//! holds the generator that writes those seeds.
//!
//! The oracles are the same file the fuzz targets use (`fuzz/oracles.rs`), so every seed is
//! checked by the fuzzer's own assertions on each `cargo test`.
//! Regenerate the seeds with `cargo xtask fuzz-seeds` (which runs the ignored
//! `regenerate_seeds` test below) after changing the list.

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

/// A fuzz oracle: panics when the codec breaks a promise on these bytes.
type Oracle = fn(&[u8]);

/// The fuzz targets and the oracle each one runs.
const TARGETS: &[(&str, Oracle)] = &[
    ("decode_pdu", oracles::decode_pdu),
    ("peek_header", oracles::peek_header),
];

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

/// Writes the seeds into `fuzz/seeds/<target>/`, replacing what is there.
/// Run with `cargo xtask fuzz-seeds`.
#[test]
#[ignore = "writes fuzz/seeds/; run with `cargo xtask fuzz-seeds`"]
fn regenerate_seeds() {
    let seeds = seeds();
    for (name, _) in TARGETS {
        let dir = seeds_dir(name);
        if dir.is_dir() {
            for entry in fs::read_dir(&dir).expect("readable seed directory") {
                let path = entry.expect("directory entry").path();
                if path.is_file() {
                    fs::remove_file(&path).expect("removable seed");
                }
            }
        }
        fs::create_dir_all(&dir).expect("seed directory");
        for seed in &seeds {
            fs::write(dir.join(seed.name), &seed.bytes).expect("seed written");
        }
    }
}

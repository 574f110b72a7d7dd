//! Property tests: every PDU type and every TLV variant survives encode → decode, random and
//! mutated input never panics, and a byte stream is framed correctly however it is chunked.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::TestRunner;

use smpp_pdu::tlv::{
    BillingIdentification, BroadcastAreaIdentifier, BroadcastContentType,
    BroadcastFrequencyInterval, CallbackNum, CallbackNumAtag, ItsSessionInfo, MsValidity,
    NetworkErrorCode, RawTlv, Subaddress,
};
use smpp_pdu::{
    AlertNotification, BindReceiver, BindReceiverResp, BindTransceiver, BindTransceiverResp,
    BindTransmitter, BindTransmitterResp, Body, BroadcastSm, BroadcastSmResp, COctetString,
    CancelBroadcastSm, CancelBroadcastSmResp, CancelSm, CancelSmResp, CommandId, CommandStatus,
    DataSm, DataSmResp, DeliverSm, DeliverSmResp, DestAddress, EncodeError, EnquireLink,
    EnquireLinkResp, GenericNack, Header, OctetString, Outbind, Password, Pdu, QueryBroadcastSm,
    QueryBroadcastSmResp, QuerySm, QuerySmResp, ReplaceSm, ReplaceSmResp, SubmitMulti,
    SubmitMultiResp, SubmitSm, SubmitSmResp, Tag, Tlv, Unbind, UnbindResp, UnsuccessSme,
    HEADER_LEN,
};

/// Cases per property; the properties that only check for panics and stability on
/// malformed input get more.
const CASES: u32 = 512;
const FUZZ_CASES: u32 = 2048;

// ---------------------------------------------------------------------------------------
// Field strategies, each within its field's limits.
// ---------------------------------------------------------------------------------------

/// A C-octet string for a field of `max` octets, NUL included: up to `max - 1` non-NUL octets.
fn cos(max: usize) -> BoxedStrategy<COctetString<'static>> {
    prop_oneof![
        // Mostly printable, sometimes any non-NUL octet.
        proptest::collection::vec(0x20u8..0x7F, 0..max),
        proptest::collection::vec(1u8..=255, 0..max),
    ]
    .prop_map(COctetString::from)
    .boxed()
}

/// A C-octet string of exactly `len` non-NUL octets.
fn cos_exact(len: usize) -> BoxedStrategy<COctetString<'static>> {
    proptest::collection::vec(1u8..=255, len)
        .prop_map(COctetString::from)
        .boxed()
}

fn octets(min: usize, max: usize) -> BoxedStrategy<OctetString<'static>> {
    proptest::collection::vec(any::<u8>(), min..=max)
        .prop_map(OctetString::from)
        .boxed()
}

/// An SMPP time: empty, or 16 characters (absolute `+`/`-` or relative `R`).
fn time() -> BoxedStrategy<COctetString<'static>> {
    prop_oneof![
        Just(COctetString::EMPTY),
        (
            proptest::collection::vec(b'0'..=b'9', 15),
            select(vec![b'+', b'-', b'R'])
        )
            .prop_map(|(mut digits, suffix)| {
                digits.push(suffix);
                COctetString::from(digits)
            }),
    ]
    .boxed()
}

fn password() -> BoxedStrategy<Password<'static>> {
    cos(9).prop_map(Password).boxed()
}

fn short_message() -> BoxedStrategy<OctetString<'static>> {
    prop_oneof![
        Just(OctetString::EMPTY),
        octets(0, 160),
        octets(254, 254), // the largest the encoder writes
    ]
    .boxed()
}

fn status() -> BoxedStrategy<CommandStatus> {
    prop_oneof![
        3 => Just(CommandStatus::ESME_ROK),
        1 => select(CommandStatus::ALL),
        1 => any::<u32>().prop_map(CommandStatus),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------
// TLV strategies: one per variant of `Tlv`, plus raw ones.
// ---------------------------------------------------------------------------------------

macro_rules! tlv_strategies {
    ($($strategy:expr => $variant:path,)*) => {
        /// One strategy per typed `Tlv` variant.
        fn typed_tlv_strategies() -> Vec<BoxedStrategy<Tlv<'static>>> {
            vec![$(($strategy).prop_map($variant).boxed(),)*]
        }
    };
}

tlv_strategies! {
    any::<u8>() => Tlv::DestAddrSubunit,
    any::<u8>() => Tlv::DestNetworkType,
    any::<u8>() => Tlv::DestBearerType,
    any::<u16>() => Tlv::DestTelematicsId,
    any::<u8>() => Tlv::SourceAddrSubunit,
    any::<u8>() => Tlv::SourceNetworkType,
    any::<u8>() => Tlv::SourceBearerType,
    octets(1, 2) => Tlv::SourceTelematicsId,
    any::<u32>() => Tlv::QosTimeToLive,
    any::<u8>() => Tlv::PayloadType,
    cos(256) => Tlv::AdditionalStatusInfoText,
    cos(65) => Tlv::ReceiptedMessageId,
    any::<u8>() => Tlv::MsMsgWaitFacilities,
    any::<u8>() => Tlv::PrivacyIndicator,
    subaddress() => Tlv::SourceSubaddress,
    subaddress() => Tlv::DestSubaddress,
    any::<u16>() => Tlv::UserMessageReference,
    any::<u8>() => Tlv::UserResponseCode,
    any::<u16>() => Tlv::SourcePort,
    any::<u16>() => Tlv::DestinationPort,
    any::<u16>() => Tlv::SarMsgRefNum,
    any::<u8>() => Tlv::LanguageIndicator,
    any::<u8>() => Tlv::SarTotalSegments,
    any::<u8>() => Tlv::SarSegmentSeqnum,
    any::<u8>() => Tlv::ScInterfaceVersion,
    any::<u8>() => Tlv::CallbackNumPresInd,
    (any::<u8>(), octets(0, 64)).prop_map(|(data_coding, display_characters)| {
        CallbackNumAtag { data_coding, display_characters }
    }) => Tlv::CallbackNumAtag,
    any::<u8>() => Tlv::NumberOfMessages,
    (any::<u8>(), any::<u8>(), any::<u8>(), octets(1, 16)).prop_map(
        |(digit_mode, addr_ton, addr_npi, number_digits)| CallbackNum {
            digit_mode,
            addr_ton,
            addr_npi,
            number_digits,
        }
    ) => Tlv::CallbackNum,
    any::<u8>() => Tlv::DpfResult,
    any::<u8>() => Tlv::SetDpf,
    any::<u8>() => Tlv::MsAvailabilityStatus,
    (any::<u8>(), any::<u16>())
        .prop_map(|(network_type, error_code)| NetworkErrorCode { network_type, error_code })
        => Tlv::NetworkErrorCode,
    octets(0, 300) => Tlv::MessagePayload,
    any::<u8>() => Tlv::DeliveryFailureReason,
    any::<u8>() => Tlv::MoreMessagesToSend,
    any::<u8>() => Tlv::MessageState,
    any::<u8>() => Tlv::CongestionState,
    any::<u8>() => Tlv::UssdServiceOp,
    any::<u8>() => Tlv::BroadcastChannelIndicator,
    (any::<u8>(), any::<u16>())
        .prop_map(|(network_type, content_type)| BroadcastContentType { network_type, content_type })
        => Tlv::BroadcastContentType,
    octets(0, 255) => Tlv::BroadcastContentTypeInfo,
    any::<u8>() => Tlv::BroadcastMessageClass,
    any::<u16>() => Tlv::BroadcastRepNum,
    (any::<u8>(), any::<u16>())
        .prop_map(|(time_unit, number)| BroadcastFrequencyInterval { time_unit, number })
        => Tlv::BroadcastFrequencyInterval,
    (any::<u8>(), octets(0, 100))
        .prop_map(|(format, details)| BroadcastAreaIdentifier { format, details })
        => Tlv::BroadcastAreaIdentifier,
    any::<u32>().prop_map(CommandStatus) => Tlv::BroadcastErrorStatus,
    any::<u8>() => Tlv::BroadcastAreaSuccess,
    cos_exact(16) => Tlv::BroadcastEndTime,
    octets(0, 255) => Tlv::BroadcastServiceGroup,
    (any::<u8>(), octets(0, 1023))
        .prop_map(|(format, data)| BillingIdentification { format, data })
        => Tlv::BillingIdentification,
    cos(65) => Tlv::SourceNetworkId,
    cos(65) => Tlv::DestNetworkId,
    octets(6, 6) => Tlv::SourceNodeId,
    octets(6, 6) => Tlv::DestNodeId,
    any::<u8>() => Tlv::DestAddrNpResolution,
    octets(1, 10) => Tlv::DestAddrNpInformation,
    octets(1, 5) => Tlv::DestAddrNpCountry,
    any::<u8>() => Tlv::DisplayTime,
    any::<u16>() => Tlv::SmsSignal,
    (any::<u8>(), proptest::option::of((any::<u8>(), any::<u16>())))
        .prop_map(|(behaviour, period)| MsValidity { behaviour, period })
        => Tlv::MsValidity,
    proptest::option::of(any::<u8>()) => Tlv::AlertOnMessageDelivery,
    any::<u8>() => Tlv::ItsReplyType,
    (any::<u8>(), 0u8..=0x7F, any::<bool>()).prop_map(
        |(session_number, sequence_number, end_of_session)| ItsSessionInfo {
            session_number,
            sequence_number,
            end_of_session,
        }
    ) => Tlv::ItsSessionInfo,
}

fn subaddress() -> BoxedStrategy<Subaddress<'static>> {
    (select(vec![0x80u8, 0x88, 0xA0]), octets(1, 22))
        .prop_map(|(kind, address)| Subaddress { kind, address })
        .boxed()
}

/// Unknown and vendor tags, and known one-octet tags with a value of another length: all
/// kept raw.
fn raw_tlv_strategies() -> Vec<BoxedStrategy<Tlv<'static>>> {
    let unknown = (
        any::<u16>().prop_filter("unknown tag", |t| Tag(*t).name().is_none()),
        octets(0, 64),
    )
        .prop_map(|(tag, value)| {
            Tlv::Other(RawTlv {
                tag: Tag(tag),
                value,
            })
        })
        .boxed();
    let vendor = (0x1400u16..=0x3FFF, octets(0, 16))
        .prop_map(|(tag, value)| {
            Tlv::Other(RawTlv {
                tag: Tag(tag),
                value,
            })
        })
        .boxed();
    let malformed_known = (
        select(vec![
            Tag::SOURCE_ADDR_SUBUNIT,
            Tag::MESSAGE_STATE,
            Tag::SAR_TOTAL_SEGMENTS,
            Tag::CONGESTION_STATE,
        ]),
        prop_oneof![octets(0, 0), octets(2, 8)],
    )
        .prop_map(|(tag, value)| Tlv::Other(RawTlv { tag, value }))
        .boxed();
    vec![unknown, vendor, malformed_known]
}

fn tlv() -> BoxedStrategy<Tlv<'static>> {
    let mut all = typed_tlv_strategies();
    all.extend(raw_tlv_strategies());
    Union::new(all).boxed()
}

fn tlvs() -> BoxedStrategy<Vec<Tlv<'static>>> {
    proptest::collection::vec(tlv(), 0..4).boxed()
}

/// TLVs that may go with `short_message`: a non-empty `message_payload` only when the
/// short message is empty (the encoder rejects both).
fn compatible(short_message: &OctetString<'_>, mut tlvs: Vec<Tlv<'static>>) -> Vec<Tlv<'static>> {
    if !short_message.is_empty() {
        tlvs.retain(|t| !matches!(t, Tlv::MessagePayload(p) if !p.is_empty()));
    }
    tlvs
}

// ---------------------------------------------------------------------------------------
// Body strategies: one per PDU type.
// ---------------------------------------------------------------------------------------

fn bind_fields() -> impl Strategy<
    Value = (
        COctetString<'static>,
        Password<'static>,
        COctetString<'static>,
        u8,
        u8,
        u8,
        COctetString<'static>,
        Vec<Tlv<'static>>,
    ),
> {
    (
        cos(16),
        password(),
        cos(13),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        cos(41),
        tlvs(),
    )
}

macro_rules! bind_body {
    ($ty:ident) => {
        bind_fields()
            .prop_map(
                |(
                    system_id,
                    password,
                    system_type,
                    interface_version,
                    addr_ton,
                    addr_npi,
                    address_range,
                    tlvs,
                )| {
                    Body::from($ty {
                        system_id,
                        password,
                        system_type,
                        interface_version,
                        addr_ton,
                        addr_npi,
                        address_range,
                        tlvs,
                    })
                },
            )
            .boxed()
    };
}

macro_rules! message_id_body {
    ($ty:ident) => {
        (cos(65), tlvs())
            .prop_map(|(message_id, tlvs)| Body::from($ty { message_id, tlvs }))
            .boxed()
    };
}

macro_rules! system_id_body {
    ($ty:ident) => {
        (cos(16), tlvs())
            .prop_map(|(system_id, tlvs)| Body::from($ty { system_id, tlvs }))
            .boxed()
    };
}

macro_rules! header_only_body {
    ($ty:ident) => {
        tlvs().prop_map(|tlvs| Body::from($ty { tlvs })).boxed()
    };
}

macro_rules! sm_body {
    ($ty:ident) => {
        (
            (
                cos(6),
                any::<u8>(),
                any::<u8>(),
                cos(21),
                any::<u8>(),
                any::<u8>(),
                cos(21),
            ),
            (any::<u8>(), any::<u8>(), any::<u8>(), time(), time()),
            (
                any::<u8>(),
                any::<u8>(),
                any::<u8>(),
                any::<u8>(),
                short_message(),
                tlvs(),
            ),
        )
            .prop_map(
                |(
                    (
                        service_type,
                        source_addr_ton,
                        source_addr_npi,
                        source_addr,
                        dest_addr_ton,
                        dest_addr_npi,
                        destination_addr,
                    ),
                    (
                        esm_class,
                        protocol_id,
                        priority_flag,
                        schedule_delivery_time,
                        validity_period,
                    ),
                    (
                        registered_delivery,
                        replace_if_present_flag,
                        data_coding,
                        sm_default_msg_id,
                        short_message,
                        tlvs,
                    ),
                )| {
                    let tlvs = compatible(&short_message, tlvs);
                    Body::from($ty {
                        service_type,
                        source_addr_ton,
                        source_addr_npi,
                        source_addr,
                        dest_addr_ton,
                        dest_addr_npi,
                        destination_addr,
                        esm_class,
                        protocol_id,
                        priority_flag,
                        schedule_delivery_time,
                        validity_period,
                        registered_delivery,
                        replace_if_present_flag,
                        data_coding,
                        sm_default_msg_id,
                        short_message,
                        tlvs,
                    })
                },
            )
            .boxed()
    };
}

fn dest_address() -> BoxedStrategy<DestAddress<'static>> {
    prop_oneof![
        (any::<u8>(), any::<u8>(), cos(21)).prop_map(
            |(dest_addr_ton, dest_addr_npi, destination_addr)| DestAddress::SmeAddress {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr,
            }
        ),
        cos(21).prop_map(|dl_name| DestAddress::DistributionList { dl_name }),
    ]
    .boxed()
}

fn dest_addresses() -> BoxedStrategy<Vec<DestAddress<'static>>> {
    prop_oneof![
        8 => proptest::collection::vec(dest_address(), 1..6),
        1 => proptest::collection::vec(dest_address(), 254), // the most the encoder writes
    ]
    .boxed()
}

fn submit_multi() -> BoxedStrategy<Body<'static>> {
    (
        (cos(6), any::<u8>(), any::<u8>(), cos(21), dest_addresses()),
        (any::<u8>(), any::<u8>(), any::<u8>(), time(), time()),
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            short_message(),
            tlvs(),
        ),
    )
        .prop_map(
            |(
                (service_type, source_addr_ton, source_addr_npi, source_addr, dest_addresses),
                (esm_class, protocol_id, priority_flag, schedule_delivery_time, validity_period),
                (
                    registered_delivery,
                    replace_if_present_flag,
                    data_coding,
                    sm_default_msg_id,
                    short_message,
                    tlvs,
                ),
            )| {
                let tlvs = compatible(&short_message, tlvs);
                Body::from(SubmitMulti {
                    service_type,
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    dest_addresses,
                    esm_class,
                    protocol_id,
                    priority_flag,
                    schedule_delivery_time,
                    validity_period,
                    registered_delivery,
                    replace_if_present_flag,
                    data_coding,
                    sm_default_msg_id,
                    short_message,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn submit_multi_resp() -> BoxedStrategy<Body<'static>> {
    let unsuccess = (any::<u8>(), any::<u8>(), cos(21), status()).prop_map(
        |(dest_addr_ton, dest_addr_npi, destination_addr, error_status_code)| UnsuccessSme {
            dest_addr_ton,
            dest_addr_npi,
            destination_addr,
            error_status_code,
        },
    );
    (cos(65), proptest::collection::vec(unsuccess, 0..6), tlvs())
        .prop_map(|(message_id, unsuccess_smes, tlvs)| {
            Body::from(SubmitMultiResp {
                message_id,
                unsuccess_smes,
                tlvs,
            })
        })
        .boxed()
}

fn data_sm() -> BoxedStrategy<Body<'static>> {
    (
        (cos(6), any::<u8>(), any::<u8>(), cos(65)),
        (any::<u8>(), any::<u8>(), cos(65)),
        (any::<u8>(), any::<u8>(), any::<u8>(), tlvs()),
    )
        .prop_map(
            |(
                (service_type, source_addr_ton, source_addr_npi, source_addr),
                (dest_addr_ton, dest_addr_npi, destination_addr),
                (esm_class, registered_delivery, data_coding, tlvs),
            )| {
                Body::from(DataSm {
                    service_type,
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    dest_addr_ton,
                    dest_addr_npi,
                    destination_addr,
                    esm_class,
                    registered_delivery,
                    data_coding,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn query_sm() -> BoxedStrategy<Body<'static>> {
    (cos(65), any::<u8>(), any::<u8>(), cos(21), tlvs())
        .prop_map(
            |(message_id, source_addr_ton, source_addr_npi, source_addr, tlvs)| {
                Body::from(QuerySm {
                    message_id,
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn query_sm_resp() -> BoxedStrategy<Body<'static>> {
    (cos(65), time(), any::<u8>(), any::<u8>(), tlvs())
        .prop_map(
            |(message_id, final_date, message_state, error_code, tlvs)| {
                Body::from(QuerySmResp {
                    message_id,
                    final_date,
                    message_state,
                    error_code,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn cancel_sm() -> BoxedStrategy<Body<'static>> {
    (
        (cos(6), cos(65)),
        (any::<u8>(), any::<u8>(), cos(21)),
        (any::<u8>(), any::<u8>(), cos(21), tlvs()),
    )
        .prop_map(
            |(
                (service_type, message_id),
                (source_addr_ton, source_addr_npi, source_addr),
                (dest_addr_ton, dest_addr_npi, destination_addr, tlvs),
            )| {
                Body::from(CancelSm {
                    service_type,
                    message_id,
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    dest_addr_ton,
                    dest_addr_npi,
                    destination_addr,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn replace_sm() -> BoxedStrategy<Body<'static>> {
    (
        (cos(65), any::<u8>(), any::<u8>(), cos(21)),
        (time(), time(), any::<u8>(), any::<u8>()),
        (short_message(), tlvs()),
    )
        .prop_map(
            |(
                (message_id, source_addr_ton, source_addr_npi, source_addr),
                (schedule_delivery_time, validity_period, registered_delivery, sm_default_msg_id),
                (short_message, tlvs),
            )| {
                let tlvs = compatible(&short_message, tlvs);
                Body::from(ReplaceSm {
                    message_id,
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    schedule_delivery_time,
                    validity_period,
                    registered_delivery,
                    sm_default_msg_id,
                    short_message,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn alert_notification() -> BoxedStrategy<Body<'static>> {
    (
        (any::<u8>(), any::<u8>(), cos(65)),
        (any::<u8>(), any::<u8>(), cos(65)),
        tlvs(),
    )
        .prop_map(
            |(
                (source_addr_ton, source_addr_npi, source_addr),
                (esme_addr_ton, esme_addr_npi, esme_addr),
                tlvs,
            )| {
                Body::from(AlertNotification {
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    esme_addr_ton,
                    esme_addr_npi,
                    esme_addr,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn outbind() -> BoxedStrategy<Body<'static>> {
    (cos(16), password(), tlvs())
        .prop_map(|(system_id, password, tlvs)| {
            Body::from(Outbind {
                system_id,
                password,
                tlvs,
            })
        })
        .boxed()
}

fn broadcast_sm() -> BoxedStrategy<Body<'static>> {
    (
        (cos(6), any::<u8>(), any::<u8>(), cos(21), cos(65)),
        (any::<u8>(), time(), time()),
        (any::<u8>(), any::<u8>(), any::<u8>(), tlvs()),
    )
        .prop_map(
            |(
                (service_type, source_addr_ton, source_addr_npi, source_addr, message_id),
                (priority_flag, schedule_delivery_time, validity_period),
                (replace_if_present_flag, data_coding, sm_default_msg_id, tlvs),
            )| {
                Body::from(BroadcastSm {
                    service_type,
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    message_id,
                    priority_flag,
                    schedule_delivery_time,
                    validity_period,
                    replace_if_present_flag,
                    data_coding,
                    sm_default_msg_id,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn query_broadcast_sm() -> BoxedStrategy<Body<'static>> {
    (cos(65), any::<u8>(), any::<u8>(), cos(21), tlvs())
        .prop_map(
            |(message_id, source_addr_ton, source_addr_npi, source_addr, tlvs)| {
                Body::from(QueryBroadcastSm {
                    message_id,
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn cancel_broadcast_sm() -> BoxedStrategy<Body<'static>> {
    (cos(6), cos(65), any::<u8>(), any::<u8>(), cos(21), tlvs())
        .prop_map(
            |(service_type, message_id, source_addr_ton, source_addr_npi, source_addr, tlvs)| {
                Body::from(CancelBroadcastSm {
                    service_type,
                    message_id,
                    source_addr_ton,
                    source_addr_npi,
                    source_addr,
                    tlvs,
                })
            },
        )
        .boxed()
}

fn unknown_body() -> BoxedStrategy<Body<'static>> {
    (
        any::<u32>().prop_filter("unknown command_id", |id| CommandId(*id).name().is_none()),
        octets(0, 64),
    )
        .prop_map(|(id, body)| Body::Unknown {
            command_id: CommandId(id),
            body,
        })
        .boxed()
}

/// One strategy per body variant.
fn body_strategies() -> Vec<BoxedStrategy<Body<'static>>> {
    vec![
        header_only_body!(GenericNack),
        bind_body!(BindReceiver),
        system_id_body!(BindReceiverResp),
        bind_body!(BindTransmitter),
        system_id_body!(BindTransmitterResp),
        query_sm(),
        query_sm_resp(),
        sm_body!(SubmitSm),
        message_id_body!(SubmitSmResp),
        sm_body!(DeliverSm),
        message_id_body!(DeliverSmResp),
        header_only_body!(Unbind),
        header_only_body!(UnbindResp),
        replace_sm(),
        header_only_body!(ReplaceSmResp),
        cancel_sm(),
        header_only_body!(CancelSmResp),
        bind_body!(BindTransceiver),
        system_id_body!(BindTransceiverResp),
        outbind(),
        header_only_body!(EnquireLink),
        header_only_body!(EnquireLinkResp),
        submit_multi(),
        submit_multi_resp(),
        alert_notification(),
        data_sm(),
        message_id_body!(DataSmResp),
        broadcast_sm(),
        message_id_body!(BroadcastSmResp),
        query_broadcast_sm(),
        message_id_body!(QueryBroadcastSmResp),
        cancel_broadcast_sm(),
        header_only_body!(CancelBroadcastSmResp),
        unknown_body(),
    ]
}

fn body() -> BoxedStrategy<Body<'static>> {
    let responses: Vec<CommandId> = CommandId::ALL
        .iter()
        .copied()
        .filter(|c| c.is_response())
        .collect();
    prop_oneof![
        // The all-default body of a response: header-only when the status is an error.
        1 => select(responses).prop_map(|id| Body::empty(id).expect("known id")),
        10 => Union::new(body_strategies()),
    ]
    .boxed()
}

fn pdu() -> BoxedStrategy<Pdu<'static>> {
    (status(), any::<u32>(), body())
        .prop_map(|(command_status, sequence_number, body)| Pdu {
            command_status,
            sequence_number,
            body,
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Checks.
// ---------------------------------------------------------------------------------------

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn check_round_trip(pdu: &Pdu<'_>) -> Result<(), TestCaseError> {
    let mut out = vec![0xAB; 3];
    let n = match pdu.encode(&mut out) {
        Ok(n) => n,
        Err(e) => return Err(TestCaseError::fail(format!("encode failed: {e}"))),
    };
    prop_assert_eq!(&out[..3], &[0xAB; 3][..]);
    let bytes = &out[3..];
    prop_assert_eq!(n, bytes.len());
    prop_assert_eq!(be32(bytes) as usize, n, "command_length");
    prop_assert_eq!(pdu.to_bytes().unwrap(), bytes.to_vec());

    let header = Header::peek(bytes).unwrap().expect("whole PDU");
    prop_assert_eq!(
        header,
        Header {
            command_length: n as u32,
            command_id: pdu.command_id(),
            command_status: pdu.command_status,
            sequence_number: pdu.sequence_number,
        }
    );
    let header_only =
        pdu.command_id().is_response() && !pdu.command_status.is_ok() && pdu.body.is_empty();
    if header_only {
        prop_assert_eq!(n, HEADER_LEN, "error response with a default body");
    }

    let (decoded, used) = Pdu::decode(bytes).unwrap().expect("whole PDU");
    prop_assert_eq!(used, n);
    prop_assert_eq!(&decoded, pdu);
    prop_assert_eq!(&Pdu::decode_frame(header, bytes).unwrap(), pdu);
    prop_assert_eq!(&decoded.clone().into_owned(), pdu);

    // With the start of another PDU behind it, exactly `n` octets are consumed.
    let mut stream = bytes.to_vec();
    stream.extend_from_slice(&[0, 0, 0, 16, 0, 0, 0, 0x15]);
    let (again, used) = Pdu::decode(&stream).unwrap().expect("whole PDU");
    prop_assert_eq!(used, n);
    prop_assert_eq!(&again, pdu);
    Ok(())
}

/// A PDU the decoder accepted is either re-encoded and decoded to the same value, or
/// refused by the encoder for one of the documented tolerances (5.0 limits the encoder does
/// not write, or both `short_message` and `message_payload`).
fn check_reencode(pdu: &Pdu<'_>) -> Result<(), TestCaseError> {
    match pdu.to_bytes() {
        Ok(bytes) => {
            prop_assert_eq!(be32(&bytes) as usize, bytes.len());
            match Pdu::decode(&bytes) {
                Ok(Some((again, n))) => {
                    prop_assert_eq!(n, bytes.len());
                    prop_assert_eq!(&again, pdu);
                }
                other => {
                    return Err(TestCaseError::fail(format!(
                        "re-encoded PDU does not decode: {other:?}"
                    )))
                }
            }
        }
        Err(EncodeError::FieldTooLong {
            field: "short_message",
            max: 254,
        })
        | Err(EncodeError::InvalidCount {
            field: "number_of_dests",
            min: 1,
            max: 254,
        })
        | Err(EncodeError::PayloadConflict) => {}
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "decoded PDU cannot be re-encoded: {e} ({pdu:?})"
            )))
        }
    }
    Ok(())
}

fn check_arbitrary_input(buf: &[u8]) -> Result<(), TestCaseError> {
    let peeked = Header::peek(buf);
    match Pdu::decode(buf) {
        Ok(None) => prop_assert_eq!(peeked, Ok(None)),
        Ok(Some((pdu, n))) => {
            let h = peeked.unwrap().expect("peek agrees with decode");
            prop_assert_eq!(h.command_length as usize, n);
            prop_assert!(n <= buf.len());
            prop_assert_eq!(h.command_id, pdu.command_id());
            check_reencode(&pdu)?;
        }
        Err(e) => {
            // The error is either the framing error of peek or a body error.
            match peeked {
                Err(pe) => prop_assert_eq!(pe, e),
                Ok(Some(_)) => prop_assert!(!e.is_fatal()),
                Ok(None) => return Err(TestCaseError::fail("decode failed where peek waits")),
            }
            prop_assert!(!e.field().is_empty());
        }
    }
    Ok(())
}

/// Octets biased towards the values that make fields parse (NUL, small flags, digits).
fn biased_byte() -> BoxedStrategy<u8> {
    prop_oneof![
        3 => Just(0u8),
        2 => 0u8..4,
        2 => b'0'..=b'9',
        1 => select(vec![0x04u8, 0x24, 0x06, 0x14, 0x02, 0x10, b'R', b'+']),
        3 => any::<u8>(),
    ]
    .boxed()
}

fn framed(command_id: CommandId, status: u32, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_LEN + body.len());
    v.extend_from_slice(&((HEADER_LEN + body.len()) as u32).to_be_bytes());
    v.extend_from_slice(&command_id.0.to_be_bytes());
    v.extend_from_slice(&status.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(body);
    v
}

// ---------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn every_pdu_round_trips(pdu in pdu()) {
        check_round_trip(&pdu)?;
    }

    /// The sized, write-once encoder gives the same octets for a PDU as for its decoded
    /// copy (encode, decode, encode), and the same whether it appends to an empty buffer,
    /// after other octets or into spare capacity.
    #[test]
    fn encoding_is_byte_identical_after_decode(pdu in pdu(), prefix in proptest::collection::vec(any::<u8>(), 0..5)) {
        let first = pdu.to_bytes().unwrap();
        let (decoded, _) = Pdu::decode(&first).unwrap().expect("whole PDU");
        prop_assert_eq!(decoded.to_bytes().unwrap(), first.clone());
        let mut out = Vec::with_capacity(prefix.len() + 4096);
        out.extend_from_slice(&prefix);
        let n = decoded.encode(&mut out).unwrap();
        prop_assert_eq!(&out[..prefix.len()], &prefix[..]);
        prop_assert_eq!(&out[prefix.len()..], &first[..]);
        prop_assert_eq!(n, first.len());
    }

    #[test]
    fn every_tlv_round_trips_alone(tlv in tlv()) {
        let mut out = vec![7];
        tlv.encode(&mut out).unwrap();
        let tag = Tag(u16::from_be_bytes([out[1], out[2]]));
        let len = u16::from_be_bytes([out[3], out[4]]) as usize;
        prop_assert_eq!(tag, tlv.tag());
        prop_assert_eq!(len, out.len() - 5);
        prop_assert_eq!(Tlv::decode(tag, &out[5..]), tlv.clone());
        // And inside a PDU that takes any TLV.
        check_round_trip(&Pdu::new(1, EnquireLinkResp { tlvs: vec![tlv] }))?;
    }

    #[test]
    fn a_stream_is_framed_however_it_is_chunked(
        pdus in proptest::collection::vec(pdu(), 1..5),
        chunks in proptest::collection::vec(1usize..64, 1..200),
    ) {
        let mut stream = Vec::new();
        let mut bounds = Vec::new();
        for p in &pdus {
            let start = stream.len();
            p.encode(&mut stream).unwrap();
            bounds.push((start, stream.len()));
        }
        // Every strict prefix of each PDU is "not yet"; the whole PDU is framed, even with
        // the following PDUs behind it.
        for &(start, end) in &bounds {
            for q in start..end {
                prop_assert_eq!(Header::peek(&stream[start..q]), Ok(None), "prefix {}..{}", start, q);
                prop_assert_eq!(Pdu::decode(&stream[start..q]), Ok(None));
            }
            let h = Header::peek(&stream[start..end]).unwrap().expect("whole PDU");
            prop_assert_eq!(h.command_length as usize, end - start);
            let h2 = Header::peek(&stream[start..]).unwrap().expect("whole PDU");
            prop_assert_eq!(h, h2);
        }
        // A reader that receives the stream in arbitrary chunks gets every PDU back, in order.
        let mut buffer: Vec<u8> = Vec::new();
        let mut decoded: Vec<Pdu<'static>> = Vec::new();
        let mut fed = 0;
        let mut sizes = chunks.iter().cycle();
        while fed < stream.len() {
            let size = (*sizes.next().unwrap()).min(stream.len() - fed);
            buffer.extend_from_slice(&stream[fed..fed + size]);
            fed += size;
            while let Some((pdu, used)) = Pdu::decode(&buffer).unwrap() {
                decoded.push(pdu.into_owned());
                buffer.drain(..used);
            }
        }
        prop_assert!(buffer.is_empty());
        prop_assert_eq!(decoded, pdus);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(FUZZ_CASES))]

    #[test]
    fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_arbitrary_input(&buf)?;
    }

    #[test]
    fn random_bodies_behind_a_plausible_header_never_panic(
        id in select(CommandId::ALL),
        status in status(),
        seq in any::<u32>(),
        body in proptest::collection::vec(biased_byte(), 0..300),
    ) {
        let buf = framed(id, status.0, seq, &body);
        prop_assert!(Header::peek(&buf).unwrap().is_some());
        check_arbitrary_input(&buf)?;
        // A declared length beyond the buffer is "not yet", never an error or a panic.
        let mut longer = buf.clone();
        longer[..4].copy_from_slice(&((buf.len() + 1) as u32).to_be_bytes());
        prop_assert_eq!(Pdu::decode(&longer), Ok(None));
    }

    #[test]
    fn mutated_pdus_never_panic(
        pdu in pdu(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), biased_byte()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = pdu.to_bytes().unwrap();
        // Change octets after command_length so the frame stays whole.
        for (at, value) in &edits {
            let i = 4 + at.index(bytes.len() - 4);
            bytes[i] = *value;
        }
        if truncate && bytes.len() > HEADER_LEN {
            // Cut the body and fix command_length: a shorter but framed PDU.
            let keep = HEADER_LEN + cut.index(bytes.len() - HEADER_LEN);
            bytes.truncate(keep);
            let len = (keep as u32).to_be_bytes();
            bytes[..4].copy_from_slice(&len);
        }
        check_arbitrary_input(&bytes)?;
    }

}

// ---------------------------------------------------------------------------------------
// Exhaustiveness of the strategies.
// ---------------------------------------------------------------------------------------

fn sample<T: std::fmt::Debug>(runner: &mut TestRunner, strategy: &BoxedStrategy<T>) -> T {
    strategy
        .new_tree(runner)
        .expect("strategy produces a value")
        .current()
}

#[test]
fn every_tag_is_produced_by_a_tlv_strategy() {
    let mut runner = TestRunner::deterministic();
    let mut produced = BTreeSet::new();
    for strategy in typed_tlv_strategies() {
        for _ in 0..4 {
            let tlv = sample(&mut runner, &strategy);
            assert!(
                !matches!(tlv, Tlv::Other(_)),
                "a typed strategy produced a raw TLV: {tlv:?}"
            );
            // The value is valid: it encodes and decodes to itself.
            let mut out = Vec::new();
            tlv.encode(&mut out).unwrap();
            assert_eq!(Tlv::decode(tlv.tag(), &out[4..]), tlv);
            produced.insert(tlv.tag());
        }
    }
    let all: BTreeSet<Tag> = Tag::ALL.iter().copied().collect();
    let missing: Vec<&Tag> = all.difference(&produced).collect();
    assert!(missing.is_empty(), "no TLV strategy for {missing:?}");
    let extra: Vec<&Tag> = produced.difference(&all).collect();
    assert!(extra.is_empty(), "tags without a constant: {extra:?}");
    // One strategy per variant, no duplicates.
    assert_eq!(typed_tlv_strategies().len(), Tag::ALL.len());

    for strategy in raw_tlv_strategies() {
        let tlv = sample(&mut runner, &strategy);
        let Tlv::Other(raw) = &tlv else {
            panic!("raw strategy produced {tlv:?}")
        };
        let mut out = Vec::new();
        tlv.encode(&mut out).unwrap();
        assert_eq!(&out[4..], raw.value.as_bytes());
        assert_eq!(Tlv::decode(raw.tag, &out[4..]), tlv);
    }
}

#[test]
fn every_command_id_has_a_body_strategy() {
    let mut runner = TestRunner::deterministic();
    let mut produced = BTreeSet::new();
    let mut unknown = false;
    for strategy in body_strategies() {
        let body = sample(&mut runner, &strategy);
        match &body {
            Body::Unknown { command_id, .. } => {
                assert_eq!(command_id.name(), None);
                unknown = true;
            }
            known => {
                assert!(
                    produced.insert(known.command_id()),
                    "two strategies for {known:?}"
                );
            }
        }
        check_round_trip(&Pdu::new(1, body)).unwrap();
    }
    let all: BTreeSet<CommandId> = CommandId::ALL.iter().copied().collect();
    assert_eq!(produced, all, "body strategies and CommandId::ALL differ");
    assert!(unknown, "no strategy for Body::Unknown");
}

//! Field visitors: the PDU and TLV tables of the codec, walked field by field.
//!
//! The `pdu!` table in `pdu.rs` and the `tlvs!` table in `tlv.rs` generate, besides the
//! codec, a walk over every field of a value in wire order ([`Visit::visit_fields`]) and a
//! builder that asks a [`FieldSource`] for each field by name and kind (`from_fields`).
//! Text forms of PDUs (the JSON of `smpp decode` and `smpp encode`, see
//! [`json`](crate::json) with the `json` feature) are written on these two, so that a field
//! added to a table is shown and read with no other edit.
//!
//! None of this is on the codec's hot path: `decode` and `encode` never call it.

use crate::codec::COctetString;
use crate::ids::{CommandStatus, Tag};
use crate::pdu::{DestAddress, UnsuccessSme};
use crate::tlv::Tlv;

/// A name for each value of an enumerated integer field: `(value, name)`.
pub type EnumNames = &'static [(u8, &'static str)];

/// `message_state` (reference §5.2.28; 5.0 adds `SKIPPED`).
pub const MESSAGE_STATE: EnumNames = &[
    (0, "SCHEDULED"),
    (1, "ENROUTE"),
    (2, "DELIVERED"),
    (3, "EXPIRED"),
    (4, "DELETED"),
    (5, "UNDELIVERABLE"),
    (6, "ACCEPTED"),
    (7, "UNKNOWN"),
    (8, "REJECTED"),
    (9, "SKIPPED"),
];

/// Type of number (`*_ton`, reference §7.1).
pub const TON: EnumNames = &[
    (0, "UNKNOWN"),
    (1, "INTERNATIONAL"),
    (2, "NATIONAL"),
    (3, "NETWORK_SPECIFIC"),
    (4, "SUBSCRIBER"),
    (5, "ALPHANUMERIC"),
    (6, "ABBREVIATED"),
];

/// Numbering plan indicator (`*_npi`, reference §7.2).
pub const NPI: EnumNames = &[
    (0, "UNKNOWN"),
    (1, "ISDN"),
    (3, "DATA"),
    (4, "TELEX"),
    (6, "LAND_MOBILE"),
    (8, "NATIONAL"),
    (9, "PRIVATE"),
    (10, "ERMES"),
    (14, "INTERNET"),
    (18, "WAP"),
];

/// `data_coding` values with an alphabet of their own (reference §7.6). The GSM
/// coding groups (0xC0 and up: message waiting, message class) have no name and show as
/// their number.
pub const DATA_CODING: EnumNames = &[
    (0, "SMSC_DEFAULT"),
    (1, "IA5"),
    (2, "BINARY_02"),
    (3, "LATIN1"),
    (4, "BINARY"),
    (5, "JIS"),
    (6, "CYRILLIC"),
    (7, "HEBREW"),
    (8, "UCS2"),
    (9, "PICTOGRAM"),
    (10, "ISO_2022_JP"),
    (13, "EXTENDED_KANJI"),
    (14, "KS_C_5601"),
];

/// The name of `value` in `names`.
pub fn enum_name(names: EnumNames, value: u8) -> Option<&'static str> {
    names.iter().find(|(v, _)| *v == value).map(|(_, n)| *n)
}

/// The value named `name` in `names` (case-insensitive).
pub fn enum_value(names: EnumNames, name: &str) -> Option<u8> {
    names
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(v, _)| *v)
}

/// What kind of octets a field holds, for a [`FieldSource`] that reads text forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OctetsKind {
    /// A C-octet string (without its NUL), shown as text.
    COctet,
    /// A password (a C-octet string that is not shown by default).
    Password,
    /// An SMPP time (a C-octet string of 0 or 16 characters).
    Time,
    /// Opaque octets, shown as hex.
    Octets,
    /// User data (`short_message`, `message_payload`): octets whose text depends on
    /// `data_coding` and `esm_class`.
    Message,
}

/// One field's value, borrowed from the PDU or TLV being visited.
#[derive(Clone, Copy)]
pub enum FieldValue<'v> {
    /// An integer of one octet.
    U8(u8),
    /// An integer of two octets.
    U16(u16),
    /// An integer of four octets.
    U32(u32),
    /// A flag.
    Bool(bool),
    /// An integer of one octet with a name for each known value.
    Enum(u8, EnumNames),
    /// A `command_status` value.
    Status(CommandStatus),
    /// A TLV tag.
    Tag(Tag),
    /// Octets of the given kind (a C-octet string without its NUL).
    Octets(OctetsKind, &'v [u8]),
    /// A structured value: its own fields.
    Struct(&'v dyn Visit),
    /// `dest_addresses` of `submit_multi`.
    Dests(&'v [DestAddress<'v>]),
    /// `unsuccess_smes` of `submit_multi_resp`.
    Unsuccess(&'v [UnsuccessSme<'v>]),
    /// The TLVs of a PDU, in wire order.
    Tlvs(&'v [Tlv<'v>]),
    /// The raw value of a TLV the codec keeps as octets: an unknown tag, or a known tag
    /// whose value did not fit its definition (`malformed`).
    RawTlv {
        /// Whether the tag is known (its value is then malformed).
        malformed: bool,
        /// The value octets.
        value: &'v [u8],
    },
}

impl std::fmt::Debug for FieldValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::U8(v) => write!(f, "U8({v})"),
            FieldValue::U16(v) => write!(f, "U16({v})"),
            FieldValue::U32(v) => write!(f, "U32({v})"),
            FieldValue::Bool(v) => write!(f, "Bool({v})"),
            FieldValue::Enum(v, _) => write!(f, "Enum({v})"),
            FieldValue::Status(v) => write!(f, "Status({v:?})"),
            FieldValue::Tag(v) => write!(f, "Tag({v:?})"),
            FieldValue::Octets(k, v) => write!(f, "Octets({k:?}, {v:?})"),
            FieldValue::Struct(_) => write!(f, "Struct"),
            FieldValue::Dests(v) => write!(f, "Dests({})", v.len()),
            FieldValue::Unsuccess(v) => write!(f, "Unsuccess({})", v.len()),
            FieldValue::Tlvs(v) => write!(f, "Tlvs({})", v.len()),
            FieldValue::RawTlv { malformed, value } => {
                write!(f, "RawTlv({malformed}, {value:?})")
            }
        }
    }
}

/// Receives the fields of a value in wire order.
pub trait FieldVisitor {
    /// One field under its spec name.
    fn field(&mut self, name: &'static str, value: FieldValue<'_>);
}

/// A value whose fields can be walked: every PDU body, TLV, TLV value of more than one
/// field, destination and unsuccessful SME.
pub trait Visit {
    /// Calls `v.field` for each field, in wire order.
    fn visit_fields(&self, v: &mut dyn FieldVisitor);
}

/// Why a value could not be built from its fields: the field's path and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field (a source may prefix it with where the value sits).
    pub field: String,
    /// What was wrong.
    pub message: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Gives the fields a builder asks for, by name and kind (the reverse of a
/// [`FieldVisitor`]). The builders ask in wire order.
pub trait FieldSource {
    /// Whether the field is present.
    fn has(&mut self, name: &'static str) -> bool;
    /// An unsigned integer from 0 to `max`.
    fn uint(&mut self, name: &'static str, max: u64) -> Result<u64, FieldError>;
    /// An integer of one octet given by value or by one of `names`.
    fn enumerated(&mut self, name: &'static str, names: EnumNames) -> Result<u8, FieldError>;
    /// A flag.
    fn boolean(&mut self, name: &'static str) -> Result<bool, FieldError>;
    /// A `command_status` value.
    fn status(&mut self, name: &'static str) -> Result<CommandStatus, FieldError>;
    /// Octets of the given kind.
    fn octets(&mut self, name: &'static str, kind: OctetsKind) -> Result<Vec<u8>, FieldError>;
    /// A structured value: `f` is called with a source for its fields.
    fn object(
        &mut self,
        name: &'static str,
        f: &mut dyn FnMut(&mut dyn FieldSource) -> Result<(), FieldError>,
    ) -> Result<(), FieldError>;
    /// A list (absent is empty when `optional`): `f` is called once per item with a
    /// source for its fields.
    fn list(
        &mut self,
        name: &'static str,
        optional: bool,
        f: &mut dyn FnMut(&mut dyn FieldSource) -> Result<(), FieldError>,
    ) -> Result<(), FieldError>;
}

/// The kind of one mandatory field in the `pdu!` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// `int`: one octet.
    Int,
    /// `enm`: one octet with names.
    Enum,
    /// `cstr`: a C-octet string of at most `max` octets with its NUL.
    COctet,
    /// `password`.
    Password,
    /// `time`: an SMPP time.
    Time,
    /// `sm`: `short_message` with its `sm_length`.
    ShortMessage,
    /// `dests`: `number_of_dests` and the destinations.
    Dests,
    /// `unsuccess`: `no_unsuccess` and the SMEs.
    Unsuccess,
}

/// One mandatory field in the `pdu!` table: its spec name and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// The spec name.
    pub name: &'static str,
    /// The kind.
    pub kind: FieldKind,
}

impl Visit for DestAddress<'_> {
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        match self {
            DestAddress::SmeAddress {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr,
            } => {
                v.field("dest_flag", FieldValue::U8(1));
                v.field("dest_addr_ton", FieldValue::Enum(*dest_addr_ton, TON));
                v.field("dest_addr_npi", FieldValue::Enum(*dest_addr_npi, NPI));
                v.field(
                    "destination_addr",
                    FieldValue::Octets(OctetsKind::COctet, destination_addr.as_bytes()),
                );
            }
            DestAddress::DistributionList { dl_name } => {
                v.field("dest_flag", FieldValue::U8(2));
                v.field(
                    "dl_name",
                    FieldValue::Octets(OctetsKind::COctet, dl_name.as_bytes()),
                );
            }
        }
    }
}

impl DestAddress<'static> {
    /// Builds a destination from its fields (`dest_flag` 1 or 2).
    pub fn from_fields(src: &mut dyn FieldSource) -> Result<Self, FieldError> {
        match src.uint("dest_flag", 255)? {
            1 => Ok(DestAddress::SmeAddress {
                dest_addr_ton: src.enumerated("dest_addr_ton", TON)?,
                dest_addr_npi: src.enumerated("dest_addr_npi", NPI)?,
                destination_addr: COctetString::new(
                    src.octets("destination_addr", OctetsKind::COctet)?,
                ),
            }),
            2 => Ok(DestAddress::DistributionList {
                dl_name: COctetString::new(src.octets("dl_name", OctetsKind::COctet)?),
            }),
            _ => Err(FieldError::new("dest_flag", "expected 1 (SME) or 2 (list)")),
        }
    }
}

impl Visit for UnsuccessSme<'_> {
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("dest_addr_ton", FieldValue::Enum(self.dest_addr_ton, TON));
        v.field("dest_addr_npi", FieldValue::Enum(self.dest_addr_npi, NPI));
        v.field(
            "destination_addr",
            FieldValue::Octets(OctetsKind::COctet, self.destination_addr.as_bytes()),
        );
        v.field(
            "error_status_code",
            FieldValue::Status(self.error_status_code),
        );
    }
}

impl UnsuccessSme<'static> {
    /// Builds an unsuccessful SME from its fields.
    pub fn from_fields(src: &mut dyn FieldSource) -> Result<Self, FieldError> {
        Ok(UnsuccessSme {
            dest_addr_ton: src.enumerated("dest_addr_ton", TON)?,
            dest_addr_npi: src.enumerated("dest_addr_npi", NPI)?,
            destination_addr: COctetString::new(
                src.octets("destination_addr", OctetsKind::COctet)?,
            ),
            error_status_code: src.status("error_status_code")?,
        })
    }
}

//! TLVs (optional parameters), reference §6.
//!
//! Every tag of SMPP 3.4 and 5.0 decodes to a typed [`Tlv`] variant. Decoding always follows
//! the TLV's own length field: when a known tag arrives with a value that does not fit its
//! definition (python-smpplib sends `source_addr_subunit` with two octets, for example), the
//! TLV is kept as [`Tlv::Other`] with its raw bytes instead of failing the whole PDU, and is
//! re-encoded byte for byte. Unknown and vendor tags are kept the same way.
//! [`RawTlv::is_malformed_known_tag`] lets a strict receiver answer `ESME_RINVPARLEN`.
//!
//! Where sources disagree on a size (reference §14), the decoder accepts every form seen in
//! the wild and the encoder writes the specification's form:
//! `source_telematics_id` is 1 or 2 octets (kept as raw octets), `broadcast_end_time` is read
//! with or without its NUL and written with it, `dest_addr_np_country` is 1 to 5 octets,
//! `alert_on_message_delivery` is empty (3.4) or one octet (5.0), `ms_validity` is 1 or 4
//! octets.

use std::borrow::Cow;

use byteorder::{BigEndian, ByteOrder};

use crate::codec::{put, COctetString, OctetString, Reader};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::fields::{
    FieldError, FieldSource, FieldValue, FieldVisitor, OctetsKind, Visit, MESSAGE_STATE,
};
use crate::ids::{CommandStatus, Tag};
use crate::owned::IntoStatic;

/// How a TLV value type is read from and written to its value octets.
pub(crate) trait TlvValue<'a>: Sized {
    /// Decodes the whole value; `None` when it does not fit the definition.
    fn decode_value(v: &'a [u8], min: usize, max: usize) -> Option<Self>;
    /// Appends the value octets after checking them.
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        field: &'static str,
        min: usize,
        max: usize,
    ) -> Result<(), EncodeError>;
}

impl TlvValue<'_> for u8 {
    fn decode_value(v: &[u8], _: usize, _: usize) -> Option<Self> {
        (v.len() == 1).then(|| v[0])
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        out.push(*self);
        Ok(())
    }
}

impl TlvValue<'_> for u16 {
    fn decode_value(v: &[u8], _: usize, _: usize) -> Option<Self> {
        (v.len() == 2).then(|| BigEndian::read_u16(v))
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        put::u16(out, *self);
        Ok(())
    }
}

impl TlvValue<'_> for u32 {
    fn decode_value(v: &[u8], _: usize, _: usize) -> Option<Self> {
        (v.len() == 4).then(|| BigEndian::read_u32(v))
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        put::u32(out, *self);
        Ok(())
    }
}

impl TlvValue<'_> for CommandStatus {
    fn decode_value(v: &[u8], _: usize, _: usize) -> Option<Self> {
        (v.len() == 4).then(|| CommandStatus(BigEndian::read_u32(v)))
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        put::u32(out, self.0);
        Ok(())
    }
}

/// An empty value (3.4: presence is the flag) or one octet (5.0).
impl TlvValue<'_> for Option<u8> {
    fn decode_value(v: &[u8], _: usize, _: usize) -> Option<Self> {
        match v.len() {
            0 => Some(None),
            1 => Some(Some(v[0])),
            _ => None,
        }
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        if let Some(b) = self {
            out.push(*b);
        }
        Ok(())
    }
}

/// C-octet string TLVs: `max` counts the NUL. The decoder tolerates a missing final NUL
/// (the TLV length already delimits the value); the encoder always writes it.
impl<'a> TlvValue<'a> for COctetString<'a> {
    fn decode_value(v: &'a [u8], min: usize, max: usize) -> Option<Self> {
        let text = match v.split_last() {
            Some((0, text)) => text,
            _ => v,
        };
        if text.len() >= max || text.len() < min || text.contains(&0) {
            return None;
        }
        Some(COctetString(Cow::Borrowed(text)))
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        field: &'static str,
        min: usize,
        max: usize,
    ) -> Result<(), EncodeError> {
        if self.len() < min {
            return Err(EncodeError::FieldTooShort { field, min });
        }
        put::cstr(out, self, field, max)
    }
}

impl<'a> TlvValue<'a> for OctetString<'a> {
    fn decode_value(v: &'a [u8], min: usize, max: usize) -> Option<Self> {
        (v.len() >= min && v.len() <= max).then_some(OctetString(Cow::Borrowed(v)))
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        field: &'static str,
        min: usize,
        max: usize,
    ) -> Result<(), EncodeError> {
        check_len(self.len(), field, min, max)?;
        out.extend_from_slice(self.as_bytes());
        Ok(())
    }
}

fn check_len(len: usize, field: &'static str, min: usize, max: usize) -> Result<(), EncodeError> {
    if len < min {
        Err(EncodeError::FieldTooShort { field, min })
    } else if len > max {
        Err(EncodeError::FieldTooLong { field, max })
    } else {
        Ok(())
    }
}

/// `callback_num` (`0x0381`): digit mode, TON, NPI and up to 16 digits (4 to 19 octets).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct CallbackNum<'a> {
    /// Bit 0: 0 for TBCD/DTMF digits, 1 for ASCII digits.
    pub digit_mode: u8,
    /// Type of number of the callback number.
    pub addr_ton: u8,
    /// Numbering plan of the callback number.
    pub addr_npi: u8,
    /// The digits, 1 to 16 octets.
    pub number_digits: OctetString<'a>,
}

impl<'a> TlvValue<'a> for CallbackNum<'a> {
    fn decode_value(v: &'a [u8], _: usize, _: usize) -> Option<Self> {
        if !(4..=19).contains(&v.len()) {
            return None;
        }
        Some(CallbackNum {
            digit_mode: v[0],
            addr_ton: v[1],
            addr_npi: v[2],
            number_digits: OctetString(Cow::Borrowed(&v[3..])),
        })
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        check_len(
            self.number_digits.len(),
            "callback_num.number_digits",
            1,
            16,
        )?;
        out.extend_from_slice(&[self.digit_mode, self.addr_ton, self.addr_npi]);
        out.extend_from_slice(self.number_digits.as_bytes());
        Ok(())
    }
}

/// `source_subaddress` / `dest_subaddress` (`0x0202` / `0x0203`): a type octet and 1 to 22
/// octets of address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Subaddress<'a> {
    /// `0x80` NSAP (even), `0x88` NSAP (odd), `0xA0` user specified.
    pub kind: u8,
    /// The subaddress, 1 to 22 octets.
    pub address: OctetString<'a>,
}

impl<'a> TlvValue<'a> for Subaddress<'a> {
    fn decode_value(v: &'a [u8], _: usize, _: usize) -> Option<Self> {
        if !(2..=23).contains(&v.len()) {
            return None;
        }
        Some(Subaddress {
            kind: v[0],
            address: OctetString(Cow::Borrowed(&v[1..])),
        })
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        field: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        check_len(self.address.len(), field, 1, 22)?;
        out.push(self.kind);
        out.extend_from_slice(self.address.as_bytes());
        Ok(())
    }
}

/// `callback_num_atag` (`0x0303`): the data coding of the tag and up to 64 display octets.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct CallbackNumAtag<'a> {
    /// data_coding of the display characters.
    pub data_coding: u8,
    /// The alphanumeric tag, up to 64 octets.
    pub display_characters: OctetString<'a>,
}

impl<'a> TlvValue<'a> for CallbackNumAtag<'a> {
    fn decode_value(v: &'a [u8], _: usize, _: usize) -> Option<Self> {
        if !(1..=65).contains(&v.len()) {
            return None;
        }
        Some(CallbackNumAtag {
            data_coding: v[0],
            display_characters: OctetString(Cow::Borrowed(&v[1..])),
        })
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        check_len(
            self.display_characters.len(),
            "callback_num_atag.display_characters",
            0,
            64,
        )?;
        out.push(self.data_coding);
        out.extend_from_slice(self.display_characters.as_bytes());
        Ok(())
    }
}

macro_rules! pair_u8_u16 {
    ($(#[$meta:meta])* $name:ident { $(#[$am:meta])* $a:ident, $(#[$bm:meta])* $b:ident }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
        pub struct $name {
            $(#[$am])*
            pub $a: u8,
            $(#[$bm])*
            pub $b: u16,
        }

        impl TlvValue<'_> for $name {
            fn decode_value(v: &[u8], _: usize, _: usize) -> Option<Self> {
                (v.len() == 3).then(|| $name { $a: v[0], $b: BigEndian::read_u16(&v[1..3]) })
            }
            fn encode_value(&self, out: &mut Vec<u8>, _: &'static str, _: usize, _: usize) -> Result<(), EncodeError> {
                out.push(self.$a);
                put::u16(out, self.$b);
                Ok(())
            }
        }

        impl IntoStatic for $name {
            type Static = $name;
            fn into_static(self) -> $name {
                self
            }
        }
    };
}

pair_u8_u16! {
    /// `network_error_code` (`0x0423`): network type and error code (3 octets).
    NetworkErrorCode {
        /// 1 ANSI-136, 2 IS-95, 3 GSM; 5.0 adds 4 to 8.
        network_type,
        /// The network-specific error code.
        error_code
    }
}

pair_u8_u16! {
    /// `broadcast_content_type` (`0x0601`, SMPP 5.0): network type and service (3 octets).
    BroadcastContentType {
        /// 0 generic, 1 GSM, 2 TDMA, 3 CDMA.
        network_type,
        /// The content type (service) number.
        content_type
    }
}

pair_u8_u16! {
    /// `broadcast_frequency_interval` (`0x0605`, SMPP 5.0): unit and number (3 octets).
    BroadcastFrequencyInterval {
        /// 0x00 as often as possible, 0x08 seconds, 0x09 minutes, ... 0x0E years.
        time_unit,
        /// Number of units.
        number
    }
}

/// `its_session_info` (`0x1383`): session number, sequence number and end-of-session flag
/// (2 octets; the second holds the sequence in bits 7-1 and the flag in bit 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ItsSessionInfo {
    /// Session number.
    pub session_number: u8,
    /// Sequence number within the session, 0 to 127.
    pub sequence_number: u8,
    /// Whether this is the last message of the session.
    pub end_of_session: bool,
}

impl TlvValue<'_> for ItsSessionInfo {
    fn decode_value(v: &[u8], _: usize, _: usize) -> Option<Self> {
        (v.len() == 2).then(|| ItsSessionInfo {
            session_number: v[0],
            sequence_number: v[1] >> 1,
            end_of_session: v[1] & 1 == 1,
        })
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        if self.sequence_number > 0x7F {
            return Err(EncodeError::InvalidValue {
                field: "its_session_info.sequence_number",
            });
        }
        out.push(self.session_number);
        out.push((self.sequence_number << 1) | self.end_of_session as u8);
        Ok(())
    }
}

/// `ms_validity` (`0x1204`): a behaviour octet (3.4), optionally followed in 5.0 by a
/// relative period (time unit and number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MsValidity {
    /// 0 store indefinitely, 1 power down, 2 SID-based registration area, 3 display only,
    /// 4 relative period (5.0).
    pub behaviour: u8,
    /// The 5.0 relative period: time unit (0 s, 1 min, 2 h, 3 d, 4 wk, 5 mo, 6 yr) and number.
    pub period: Option<(u8, u16)>,
}

impl TlvValue<'_> for MsValidity {
    fn decode_value(v: &[u8], _: usize, _: usize) -> Option<Self> {
        match v.len() {
            1 => Some(MsValidity {
                behaviour: v[0],
                period: None,
            }),
            4 => Some(MsValidity {
                behaviour: v[0],
                period: Some((v[1], BigEndian::read_u16(&v[2..4]))),
            }),
            _ => None,
        }
    }
    fn encode_value(
        &self,
        out: &mut Vec<u8>,
        _: &'static str,
        _: usize,
        _: usize,
    ) -> Result<(), EncodeError> {
        out.push(self.behaviour);
        if let Some((unit, number)) = self.period {
            out.push(unit);
            put::u16(out, number);
        }
        Ok(())
    }
}

macro_rules! format_and_octets {
    ($(#[$meta:meta])* $name:ident { $(#[$am:meta])* $a:ident, $(#[$bm:meta])* $b:ident }, $max:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
        pub struct $name<'a> {
            $(#[$am])*
            pub $a: u8,
            $(#[$bm])*
            pub $b: OctetString<'a>,
        }

        impl<'a> TlvValue<'a> for $name<'a> {
            fn decode_value(v: &'a [u8], _: usize, _: usize) -> Option<Self> {
                let (&first, rest) = v.split_first()?;
                (rest.len() <= $max)
                    .then(|| $name { $a: first, $b: OctetString(Cow::Borrowed(rest)) })
            }
            fn encode_value(&self, out: &mut Vec<u8>, field: &'static str, _: usize, _: usize) -> Result<(), EncodeError> {
                check_len(self.$b.len(), field, 0, $max)?;
                out.push(self.$a);
                out.extend_from_slice(self.$b.as_bytes());
                Ok(())
            }
        }

        impl IntoStatic for $name<'_> {
            type Static = $name<'static>;
            fn into_static(self) -> $name<'static> {
                $name { $a: self.$a, $b: self.$b.into_owned() }
            }
        }
    };
}

format_and_octets! {
    /// `broadcast_area_identifier` (`0x0606`, SMPP 5.0): area format and up to 100 octets of
    /// area details. Repeatable.
    BroadcastAreaIdentifier {
        /// 0 alias/name, 1 ellipsoid arc, 2 polygon.
        format,
        /// The area, encoded as the format says.
        details
    }, 100
}

format_and_octets! {
    /// `billing_identification` (`0x060B`, SMPP 5.0): a format octet and up to 1023 octets.
    BillingIdentification {
        /// The format of the billing data.
        format,
        /// The billing data.
        data
    }, 1023
}

impl IntoStatic for CallbackNum<'_> {
    type Static = CallbackNum<'static>;
    fn into_static(self) -> CallbackNum<'static> {
        CallbackNum {
            number_digits: self.number_digits.into_owned(),
            ..self
        }
    }
}

impl IntoStatic for Subaddress<'_> {
    type Static = Subaddress<'static>;
    fn into_static(self) -> Subaddress<'static> {
        Subaddress {
            kind: self.kind,
            address: self.address.into_owned(),
        }
    }
}

impl IntoStatic for CallbackNumAtag<'_> {
    type Static = CallbackNumAtag<'static>;
    fn into_static(self) -> CallbackNumAtag<'static> {
        CallbackNumAtag {
            data_coding: self.data_coding,
            display_characters: self.display_characters.into_owned(),
        }
    }
}

impl IntoStatic for ItsSessionInfo {
    type Static = ItsSessionInfo;
    fn into_static(self) -> ItsSessionInfo {
        self
    }
}

impl IntoStatic for MsValidity {
    type Static = MsValidity;
    fn into_static(self) -> MsValidity {
        self
    }
}

impl IntoStatic for Tlv<'_> {
    type Static = Tlv<'static>;
    fn into_static(self) -> Tlv<'static> {
        self.into_owned()
    }
}

/// A TLV kept as its raw bytes: an unknown or vendor tag, or a known tag whose value did
/// not fit its definition. Re-encoded byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RawTlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value octets.
    pub value: OctetString<'a>,
}

impl RawTlv<'_> {
    /// Whether the tag is one the codec knows, so that keeping it raw means its value was
    /// malformed (a strict receiver answers `ESME_RINVPARLEN` or `ESME_RINVOPTPARAMVAL`).
    pub fn is_malformed_known_tag(&self) -> bool {
        self.tag.name().is_some()
    }
}

/// How a TLV value type is walked and built field by field (for text forms only): a
/// single value is the field `value`; a structured value is `value` holding its fields.
pub(crate) trait TlvFields<'a>: Sized {
    fn visit_value(&self, v: &mut dyn FieldVisitor);
    fn build_value(src: &mut dyn FieldSource) -> Result<Self, FieldError>;
}

macro_rules! scalar_fields {
    ($ty:ty, $x:ident => $value:expr, $src:ident => $build:expr) => {
        impl TlvFields<'_> for $ty {
            fn visit_value(&self, v: &mut dyn FieldVisitor) {
                let $x = self;
                v.field("value", $value);
            }
            fn build_value($src: &mut dyn FieldSource) -> Result<Self, FieldError> {
                Ok($build)
            }
        }
    };
}

scalar_fields!(u8, x => FieldValue::U8(*x), src => src.uint("value", 0xFF)? as u8);
scalar_fields!(u16, x => FieldValue::U16(*x), src => src.uint("value", 0xFFFF)? as u16);
scalar_fields!(u32, x => FieldValue::U32(*x), src => src.uint("value", u64::from(u32::MAX))? as u32);
scalar_fields!(CommandStatus, x => FieldValue::Status(*x), src => src.status("value")?);

/// An empty value has no `value` field.
impl TlvFields<'_> for Option<u8> {
    fn visit_value(&self, v: &mut dyn FieldVisitor) {
        if let Some(x) = self {
            v.field("value", FieldValue::U8(*x));
        }
    }
    fn build_value(src: &mut dyn FieldSource) -> Result<Self, FieldError> {
        if src.has("value") {
            Ok(Some(src.uint("value", 0xFF)? as u8))
        } else {
            Ok(None)
        }
    }
}

impl<'a> TlvFields<'a> for COctetString<'a> {
    fn visit_value(&self, v: &mut dyn FieldVisitor) {
        v.field(
            "value",
            FieldValue::Octets(OctetsKind::COctet, self.as_bytes()),
        );
    }
    fn build_value(src: &mut dyn FieldSource) -> Result<Self, FieldError> {
        Ok(COctetString::new(src.octets("value", OctetsKind::COctet)?))
    }
}

impl<'a> TlvFields<'a> for OctetString<'a> {
    fn visit_value(&self, v: &mut dyn FieldVisitor) {
        v.field(
            "value",
            FieldValue::Octets(OctetsKind::Octets, self.as_bytes()),
        );
    }
    fn build_value(src: &mut dyn FieldSource) -> Result<Self, FieldError> {
        Ok(OctetString::new(src.octets("value", OctetsKind::Octets)?))
    }
}

/// A structured TLV value: `value` is an object of the struct's fields, each given as
/// `name: kind`, where kind is `u8`, `u16`, `bool` or `octets`.
macro_rules! struct_fields {
    (@val u8, $x:expr) => { FieldValue::U8($x) };
    (@val u16, $x:expr) => { FieldValue::U16($x) };
    (@val bool, $x:expr) => { FieldValue::Bool($x) };
    (@val octets, $x:expr) => { FieldValue::Octets(OctetsKind::Octets, $x.as_bytes()) };
    (@get u8, $s:ident, $n:expr) => { $s.uint($n, 0xFF)? as u8 };
    (@get u16, $s:ident, $n:expr) => { $s.uint($n, 0xFFFF)? as u16 };
    (@get bool, $s:ident, $n:expr) => { $s.boolean($n)? };
    (@get octets, $s:ident, $n:expr) => { OctetString::new($s.octets($n, OctetsKind::Octets)?) };
    ($name:ident $(<$lt:lifetime>)? { $($field:ident: $kind:ident),* }) => {
        impl<'a> Visit for $name $(<$lt>)? {
            fn visit_fields(&self, v: &mut dyn FieldVisitor) {
                $( v.field(stringify!($field), struct_fields!(@val $kind, self.$field.clone())); )*
            }
        }
        impl<'a> TlvFields<'a> for $name $(<$lt>)? {
            fn visit_value(&self, v: &mut dyn FieldVisitor) {
                v.field("value", FieldValue::Struct(self));
            }
            fn build_value(src: &mut dyn FieldSource) -> Result<Self, FieldError> {
                let mut out = None;
                src.object("value", &mut |s| {
                    out = Some($name { $($field: struct_fields!(@get $kind, s, stringify!($field)),)* });
                    Ok(())
                })?;
                out.ok_or_else(|| FieldError::new("value", "missing field"))
            }
        }
    };
}

struct_fields!(CallbackNum<'a> { digit_mode: u8, addr_ton: u8, addr_npi: u8, number_digits: octets });
struct_fields!(Subaddress<'a> { kind: u8, address: octets });
struct_fields!(CallbackNumAtag<'a> { data_coding: u8, display_characters: octets });
struct_fields!(NetworkErrorCode {
    network_type: u8,
    error_code: u16
});
struct_fields!(BroadcastContentType {
    network_type: u8,
    content_type: u16
});
struct_fields!(BroadcastFrequencyInterval {
    time_unit: u8,
    number: u16
});
struct_fields!(ItsSessionInfo {
    session_number: u8,
    sequence_number: u8,
    end_of_session: bool
});
struct_fields!(BroadcastAreaIdentifier<'a> { format: u8, details: octets });
struct_fields!(BillingIdentification<'a> { format: u8, data: octets });

/// `behaviour`, then `time_unit` and `number` when the 5.0 period is present.
impl Visit for MsValidity {
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("behaviour", FieldValue::U8(self.behaviour));
        if let Some((unit, number)) = self.period {
            v.field("time_unit", FieldValue::U8(unit));
            v.field("number", FieldValue::U16(number));
        }
    }
}

impl TlvFields<'_> for MsValidity {
    fn visit_value(&self, v: &mut dyn FieldVisitor) {
        v.field("value", FieldValue::Struct(self));
    }
    fn build_value(src: &mut dyn FieldSource) -> Result<Self, FieldError> {
        let mut out = MsValidity::default();
        src.object("value", &mut |s| {
            out.behaviour = s.uint("behaviour", 0xFF)? as u8;
            if s.has("time_unit") || s.has("number") {
                out.period = Some((
                    s.uint("time_unit", 0xFF)? as u8,
                    s.uint("number", 0xFFFF)? as u16,
                ));
            }
            Ok(())
        })?;
        Ok(out)
    }
}

/// The field walk and builder of one TLV variant: by its value type, or by a view named
/// in the table (`=> message`: user data; `=> message_state`: the state names).
macro_rules! tlv_view {
    (visit, $v:ident, $x:ident, ) => {
        TlvFields::visit_value($x, $v)
    };
    (visit, $v:ident, $x:ident, message) => {
        $v.field(
            "value",
            FieldValue::Octets(OctetsKind::Message, $x.as_bytes()),
        )
    };
    (visit, $v:ident, $x:ident, message_state) => {
        $v.field("value", FieldValue::Enum(*$x, MESSAGE_STATE))
    };
    (build, $src:ident, $ty:ty, ) => {
        <$ty as TlvFields>::build_value($src)?
    };
    (build, $src:ident, $ty:ty, message) => {
        OctetString::new($src.octets("value", OctetsKind::Message)?)
    };
    (build, $src:ident, $ty:ty, message_state) => {
        $src.enumerated("value", MESSAGE_STATE)?
    };
}

macro_rules! tlvs {
    ($( $(#[$meta:meta])* $variant:ident($ty:ty) = $konst:ident, $lname:literal, $min:expr, $max:expr $(=> $view:ident)?; )*) => {
        /// One TLV, typed by its tag (reference §6.1). See the module documentation for how
        /// values that do not fit their definition are kept.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Tlv<'a> {
            $(
                $(#[$meta])*
                $variant($ty),
            )*
            /// An unknown or vendor tag, or a known tag with a malformed value, kept raw.
            Other(RawTlv<'a>),
        }

        impl<'a> Tlv<'a> {
            /// The tag of this TLV.
            pub fn tag(&self) -> Tag {
                match self {
                    $(Tlv::$variant(_) => Tag::$konst,)*
                    Tlv::Other(raw) => raw.tag,
                }
            }

            /// Decodes one value by its tag. Never fails: a value that does not fit its
            /// definition is returned as [`Tlv::Other`].
            pub fn decode(tag: Tag, value: &'a [u8]) -> Tlv<'a> {
                match tag {
                    $(Tag::$konst => {
                        if let Some(v) = <$ty as TlvValue<'a>>::decode_value(value, $min, $max) {
                            return Tlv::$variant(v);
                        }
                    })*
                    _ => {}
                }
                Tlv::Other(RawTlv { tag, value: OctetString(Cow::Borrowed(value)) })
            }

            fn visit_value(&self, v: &mut dyn FieldVisitor) {
                match self {
                    $(Tlv::$variant(x) => tlv_view!(visit, v, x, $($view)?),)*
                    Tlv::Other(raw) => v.field("hex", FieldValue::RawTlv {
                        malformed: raw.is_malformed_known_tag(),
                        value: raw.value.as_bytes(),
                    }),
                }
            }

            fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                match self {
                    $(Tlv::$variant(v) => v.encode_value(out, $lname, $min, $max),)*
                    Tlv::Other(raw) => {
                        out.extend_from_slice(raw.value.as_bytes());
                        Ok(())
                    }
                }
            }

            /// The lower-case spec name of a known tag (`message_payload`), or `None`.
            pub fn tag_name(tag: Tag) -> Option<&'static str> {
                match tag {
                    $(Tag::$konst => Some($lname),)*
                    _ => None,
                }
            }

            /// Every tag of the table with its spec name, in table order.
            pub const KNOWN: &'static [(Tag, &'static str)] = &[$((Tag::$konst, $lname),)*];

            /// Builds a TLV from its fields: `tag`, then the typed `value` (a structured
            /// value's fields inside it) or `hex`, the value octets. With both, they must
            /// agree; with `hex` alone the octets are decoded as [`Tlv::decode`] does (a
            /// malformed value of a known tag stays raw). An unknown tag's `value` is hex.
            pub fn from_fields(src: &mut dyn FieldSource) -> Result<Tlv<'a>, FieldError> {
                let tag = Tag(src.uint("tag", u64::from(u16::MAX))? as u16);
                let raw = if src.has("hex") {
                    let raw = src.octets("hex", OctetsKind::Octets)?;
                    if raw.len() > usize::from(u16::MAX) {
                        return Err(FieldError::new("hex", "longer than 65535 octets"));
                    }
                    Some(raw)
                } else {
                    None
                };
                if raw.is_none() || src.has("value") {
                    let typed = match tag {
                        $(Tag::$konst => Some(Tlv::$variant(tlv_view!(build, src, $ty, $($view)?))),)*
                        _ => None,
                    };
                    if let Some(typed) = typed {
                        if let Some(raw) = &raw {
                            let mut out = Vec::new();
                            typed.encode(&mut out).map_err(|e| FieldError::new("value", e.to_string()))?;
                            if out[4..] != raw[..] {
                                return Err(FieldError::new("value", "value and hex disagree"));
                            }
                        }
                        return Ok(typed);
                    }
                }
                let raw = match raw {
                    Some(raw) => raw,
                    None => src.octets("value", OctetsKind::Octets)?,
                };
                Ok(Tlv::decode(tag, &raw).into_owned())
            }

            /// A copy that owns its bytes.
            pub fn into_owned(self) -> Tlv<'static> {
                match self {
                    $(Tlv::$variant(v) => Tlv::$variant(v.into_static()),)*
                    Tlv::Other(raw) => Tlv::Other(RawTlv { tag: raw.tag, value: raw.value.into_owned() }),
                }
            }
        }
    };
}

impl Visit for Tlv<'_> {
    /// `tag`, then `value` (typed, or structured with its own fields), or for a raw
    /// TLV its octets.
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("tag", FieldValue::Tag(self.tag()));
        self.visit_value(v);
    }
}

/// Builds the `tlvs` list of a PDU (absent is none).
pub(crate) fn tlvs_from_fields(src: &mut dyn FieldSource) -> Result<Vec<Tlv<'static>>, FieldError> {
    let mut out = Vec::new();
    src.list("tlvs", true, &mut |item| {
        out.push(Tlv::from_fields(item)?);
        Ok(())
    })?;
    Ok(out)
}

tlvs! {
    /// `dest_addr_subunit` (`0x0005`).
    DestAddrSubunit(u8) = DEST_ADDR_SUBUNIT, "dest_addr_subunit", 1, 1;
    /// `dest_network_type` (`0x0006`).
    DestNetworkType(u8) = DEST_NETWORK_TYPE, "dest_network_type", 1, 1;
    /// `dest_bearer_type` (`0x0007`).
    DestBearerType(u8) = DEST_BEARER_TYPE, "dest_bearer_type", 1, 1;
    /// `dest_telematics_id` (`0x0008`).
    DestTelematicsId(u16) = DEST_TELEMATICS_ID, "dest_telematics_id", 2, 2;
    /// `source_addr_subunit` (`0x000D`).
    SourceAddrSubunit(u8) = SOURCE_ADDR_SUBUNIT, "source_addr_subunit", 1, 1;
    /// `source_network_type` (`0x000E`).
    SourceNetworkType(u8) = SOURCE_NETWORK_TYPE, "source_network_type", 1, 1;
    /// `source_bearer_type` (`0x000F`).
    SourceBearerType(u8) = SOURCE_BEARER_TYPE, "source_bearer_type", 1, 1;
    /// `source_telematics_id` (`0x0010`): 1 octet in the 3.4 reading, 2 in 5.0 libraries,
    /// so kept as its 1 or 2 raw octets.
    SourceTelematicsId(OctetString<'a>) = SOURCE_TELEMATICS_ID, "source_telematics_id", 1, 2;
    /// `qos_time_to_live` (`0x0017`), seconds.
    QosTimeToLive(u32) = QOS_TIME_TO_LIVE, "qos_time_to_live", 4, 4;
    /// `payload_type` (`0x0019`).
    PayloadType(u8) = PAYLOAD_TYPE, "payload_type", 1, 1;
    /// `additional_status_info_text` (`0x001D`), `COS(256)`.
    AdditionalStatusInfoText(COctetString<'a>) = ADDITIONAL_STATUS_INFO_TEXT, "additional_status_info_text", 0, 256;
    /// `receipted_message_id` (`0x001E`), `COS(65)`.
    ReceiptedMessageId(COctetString<'a>) = RECEIPTED_MESSAGE_ID, "receipted_message_id", 0, 65;
    /// `ms_msg_wait_facilities` (`0x0030`).
    MsMsgWaitFacilities(u8) = MS_MSG_WAIT_FACILITIES, "ms_msg_wait_facilities", 1, 1;
    /// `privacy_indicator` (`0x0201`).
    PrivacyIndicator(u8) = PRIVACY_INDICATOR, "privacy_indicator", 1, 1;
    /// `source_subaddress` (`0x0202`).
    SourceSubaddress(Subaddress<'a>) = SOURCE_SUBADDRESS, "source_subaddress", 2, 23;
    /// `dest_subaddress` (`0x0203`).
    DestSubaddress(Subaddress<'a>) = DEST_SUBADDRESS, "dest_subaddress", 2, 23;
    /// `user_message_reference` (`0x0204`).
    UserMessageReference(u16) = USER_MESSAGE_REFERENCE, "user_message_reference", 2, 2;
    /// `user_response_code` (`0x0205`).
    UserResponseCode(u8) = USER_RESPONSE_CODE, "user_response_code", 1, 1;
    /// `source_port` (`0x020A`).
    SourcePort(u16) = SOURCE_PORT, "source_port", 2, 2;
    /// `destination_port` (`0x020B`; `dest_port` in 5.0).
    DestinationPort(u16) = DESTINATION_PORT, "destination_port", 2, 2;
    /// `sar_msg_ref_num` (`0x020C`).
    SarMsgRefNum(u16) = SAR_MSG_REF_NUM, "sar_msg_ref_num", 2, 2;
    /// `language_indicator` (`0x020D`).
    LanguageIndicator(u8) = LANGUAGE_INDICATOR, "language_indicator", 1, 1;
    /// `sar_total_segments` (`0x020E`).
    SarTotalSegments(u8) = SAR_TOTAL_SEGMENTS, "sar_total_segments", 1, 1;
    /// `sar_segment_seqnum` (`0x020F`).
    SarSegmentSeqnum(u8) = SAR_SEGMENT_SEQNUM, "sar_segment_seqnum", 1, 1;
    /// `sc_interface_version` (`0x0210`).
    ScInterfaceVersion(u8) = SC_INTERFACE_VERSION, "sc_interface_version", 1, 1;
    /// `callback_num_pres_ind` (`0x0302`). Repeatable.
    CallbackNumPresInd(u8) = CALLBACK_NUM_PRES_IND, "callback_num_pres_ind", 1, 1;
    /// `callback_num_atag` (`0x0303`). Repeatable.
    CallbackNumAtag(CallbackNumAtag<'a>) = CALLBACK_NUM_ATAG, "callback_num_atag", 1, 65;
    /// `number_of_messages` (`0x0304`).
    NumberOfMessages(u8) = NUMBER_OF_MESSAGES, "number_of_messages", 1, 1;
    /// `callback_num` (`0x0381`). Repeatable.
    CallbackNum(CallbackNum<'a>) = CALLBACK_NUM, "callback_num", 4, 19;
    /// `dpf_result` (`0x0420`).
    DpfResult(u8) = DPF_RESULT, "dpf_result", 1, 1;
    /// `set_dpf` (`0x0421`).
    SetDpf(u8) = SET_DPF, "set_dpf", 1, 1;
    /// `ms_availability_status` (`0x0422`).
    MsAvailabilityStatus(u8) = MS_AVAILABILITY_STATUS, "ms_availability_status", 1, 1;
    /// `network_error_code` (`0x0423`).
    NetworkErrorCode(NetworkErrorCode) = NETWORK_ERROR_CODE, "network_error_code", 3, 3;
    /// `message_payload` (`0x0424`), up to 65535 octets.
    MessagePayload(OctetString<'a>) = MESSAGE_PAYLOAD, "message_payload", 0, 65535 => message;
    /// `delivery_failure_reason` (`0x0425`).
    DeliveryFailureReason(u8) = DELIVERY_FAILURE_REASON, "delivery_failure_reason", 1, 1;
    /// `more_messages_to_send` (`0x0426`).
    MoreMessagesToSend(u8) = MORE_MESSAGES_TO_SEND, "more_messages_to_send", 1, 1;
    /// `message_state` (`0x0427`).
    MessageState(u8) = MESSAGE_STATE, "message_state", 1, 1 => message_state;
    /// `congestion_state` (`0x0428`, SMPP 5.0), 0 to 100.
    CongestionState(u8) = CONGESTION_STATE, "congestion_state", 1, 1;
    /// `ussd_service_op` (`0x0501`).
    UssdServiceOp(u8) = USSD_SERVICE_OP, "ussd_service_op", 1, 1;
    /// `broadcast_channel_indicator` (`0x0600`, SMPP 5.0).
    BroadcastChannelIndicator(u8) = BROADCAST_CHANNEL_INDICATOR, "broadcast_channel_indicator", 1, 1;
    /// `broadcast_content_type` (`0x0601`, SMPP 5.0).
    BroadcastContentType(BroadcastContentType) = BROADCAST_CONTENT_TYPE, "broadcast_content_type", 3, 3;
    /// `broadcast_content_type_info` (`0x0602`, SMPP 5.0), up to 255 octets.
    BroadcastContentTypeInfo(OctetString<'a>) = BROADCAST_CONTENT_TYPE_INFO, "broadcast_content_type_info", 0, 255;
    /// `broadcast_message_class` (`0x0603`, SMPP 5.0).
    BroadcastMessageClass(u8) = BROADCAST_MESSAGE_CLASS, "broadcast_message_class", 1, 1;
    /// `broadcast_rep_num` (`0x0604`, SMPP 5.0), two octets.
    BroadcastRepNum(u16) = BROADCAST_REP_NUM, "broadcast_rep_num", 2, 2;
    /// `broadcast_frequency_interval` (`0x0605`, SMPP 5.0).
    BroadcastFrequencyInterval(BroadcastFrequencyInterval) = BROADCAST_FREQUENCY_INTERVAL, "broadcast_frequency_interval", 3, 3;
    /// `broadcast_area_identifier` (`0x0606`, SMPP 5.0). Repeatable.
    BroadcastAreaIdentifier(BroadcastAreaIdentifier<'a>) = BROADCAST_AREA_IDENTIFIER, "broadcast_area_identifier", 1, 101;
    /// `broadcast_error_status` (`0x0607`, SMPP 5.0). Repeatable.
    BroadcastErrorStatus(CommandStatus) = BROADCAST_ERROR_STATUS, "broadcast_error_status", 4, 4;
    /// `broadcast_area_success` (`0x0608`, SMPP 5.0): percent, 255 = not available.
    BroadcastAreaSuccess(u8) = BROADCAST_AREA_SUCCESS, "broadcast_area_success", 1, 1;
    /// `broadcast_end_time` (`0x0609`, SMPP 5.0): an SMPP time of 16 characters, read with
    /// or without the NUL, written with it.
    BroadcastEndTime(COctetString<'a>) = BROADCAST_END_TIME, "broadcast_end_time", 16, 17;
    /// `broadcast_service_group` (`0x060A`, SMPP 5.0), up to 255 octets.
    BroadcastServiceGroup(OctetString<'a>) = BROADCAST_SERVICE_GROUP, "broadcast_service_group", 0, 255;
    /// `billing_identification` (`0x060B`, SMPP 5.0).
    BillingIdentification(BillingIdentification<'a>) = BILLING_IDENTIFICATION, "billing_identification", 1, 1024;
    /// `source_network_id` (`0x060D`, SMPP 5.0), `COS(65)`.
    SourceNetworkId(COctetString<'a>) = SOURCE_NETWORK_ID, "source_network_id", 0, 65;
    /// `dest_network_id` (`0x060E`, SMPP 5.0), `COS(65)`.
    DestNetworkId(COctetString<'a>) = DEST_NETWORK_ID, "dest_network_id", 0, 65;
    /// `source_node_id` (`0x060F`, SMPP 5.0), 6 octets.
    SourceNodeId(OctetString<'a>) = SOURCE_NODE_ID, "source_node_id", 6, 6;
    /// `dest_node_id` (`0x0610`, SMPP 5.0), 6 octets.
    DestNodeId(OctetString<'a>) = DEST_NODE_ID, "dest_node_id", 6, 6;
    /// `dest_addr_np_resolution` (`0x0611`, SMPP 5.0).
    DestAddrNpResolution(u8) = DEST_ADDR_NP_RESOLUTION, "dest_addr_np_resolution", 1, 1;
    /// `dest_addr_np_information` (`0x0612`, SMPP 5.0), up to 10 octets.
    DestAddrNpInformation(OctetString<'a>) = DEST_ADDR_NP_INFORMATION, "dest_addr_np_information", 1, 10;
    /// `dest_addr_np_country` (`0x0613`, SMPP 5.0): 1 to 5 octets.
    DestAddrNpCountry(OctetString<'a>) = DEST_ADDR_NP_COUNTRY, "dest_addr_np_country", 1, 5;
    /// `display_time` (`0x1201`).
    DisplayTime(u8) = DISPLAY_TIME, "display_time", 1, 1;
    /// `sms_signal` (`0x1203`).
    SmsSignal(u16) = SMS_SIGNAL, "sms_signal", 2, 2;
    /// `ms_validity` (`0x1204`).
    MsValidity(MsValidity) = MS_VALIDITY, "ms_validity", 1, 4;
    /// `alert_on_message_delivery` (`0x130C`): empty in 3.4, one octet in 5.0.
    AlertOnMessageDelivery(Option<u8>) = ALERT_ON_MESSAGE_DELIVERY, "alert_on_message_delivery", 0, 1;
    /// `its_reply_type` (`0x1380`).
    ItsReplyType(u8) = ITS_REPLY_TYPE, "its_reply_type", 1, 1;
    /// `its_session_info` (`0x1383`).
    ItsSessionInfo(ItsSessionInfo) = ITS_SESSION_INFO, "its_session_info", 2, 2;
}

impl<'a> Tlv<'a> {
    /// Appends tag, length and value; fails if the value does not fit its definition or
    /// is longer than 65535 octets. On error `out` is left as it was.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        put::u16(out, self.tag().0);
        put::u16(out, 0);
        if let Err(e) = self.encode_value(out) {
            out.truncate(start);
            return Err(e);
        }
        let len = out.len() - start - 4;
        if len > u16::MAX as usize {
            out.truncate(start);
            return Err(EncodeError::FieldTooLong {
                field: self.name(),
                max: u16::MAX as usize,
            });
        }
        out[start + 2..start + 4].copy_from_slice(&(len as u16).to_be_bytes());
        Ok(())
    }

    /// The lower-case spec name of the tag (`message_payload`), or `"tlv"` for an unknown tag.
    pub fn name(&self) -> &'static str {
        Tlv::tag_name(self.tag()).unwrap_or("tlv")
    }
}

/// Decodes the TLV section that follows the mandatory fields, up to the end of the body.
#[inline]
pub(crate) fn decode_all<'a>(r: &mut Reader<'a>) -> Result<Vec<Tlv<'a>>, DecodeError> {
    let mut tlvs = Vec::new();
    if r.is_empty() {
        return Ok(tlvs);
    }
    while !r.is_empty() {
        if r.remaining() < 4 {
            return Err(stream_error());
        }
        let tag = Tag(r.u16("tlv")?);
        let len = r.u16("tlv")? as usize;
        if r.remaining() < len {
            return Err(stream_error());
        }
        let value = r.take(len, "tlv")?;
        tlvs.push(Tlv::decode(tag, value));
    }
    Ok(tlvs)
}

fn stream_error() -> DecodeError {
    DecodeError::new(
        DecodeErrorKind::TlvStream,
        "tlv",
        CommandStatus::ESME_RINVOPTPARSTREAM,
    )
}

/// Appends every TLV in order.
pub(crate) fn encode_all(tlvs: &[Tlv<'_>], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    for t in tlvs {
        t.encode(out)?;
    }
    Ok(())
}

//! Every PDU of SMPP 3.4 and 5.0 as a typed struct, and the [`Pdu`] frame that holds one.
//!
//! Each struct lists its mandatory fields in wire order under their spec names (reference
//! §4), followed by `tlvs`, the optional parameters in wire order. Length fields that can be
//! derived (`command_length`, `sm_length`, `number_of_dests`, `no_unsuccess`) are computed on
//! encode and never stored.
//!
//! Every PDU accepts a TLV section after its mandatory fields, even where SMPP 3.4 defines
//! none: 5.0 allows `congestion_state` in every response, and a tolerant decoder keeps what
//! a peer sends rather than rejecting the PDU.

use std::borrow::Cow;

#[cfg(test)]
use crate::codec::Writer;
use crate::codec::{check, COctetString, FieldWriter, OctetString, Password, Reader};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::fields::{
    EnumNames, FieldError, FieldSource, FieldSpec, FieldValue, FieldVisitor, Visit, DATA_CODING,
    MESSAGE_STATE, NPI, TON,
};
use crate::header::{Header, DEFAULT_MAX_COMMAND_LENGTH, HEADER_LEN};
use crate::ids::{CommandId, CommandStatus, Tag};
use crate::owned::IntoStatic;
use crate::tlv::{self, Tlv};

/// Field codecs, one module per kind of mandatory field. Each has `decode`, `size` (checks
/// the value for encoding and returns its octets on the wire) and `put` (writes the checked
/// value), taking the same extra arguments, so the `pdu!` macro can call them alike. `len`
/// and `write` are the old appending encoder, kept for tests as the reference.
mod kind {
    use super::*;

    pub(super) mod int {
        use super::*;
        #[inline(always)]
        pub(crate) fn size(_: &u8, _: &'static str) -> Result<usize, EncodeError> {
            Ok(1)
        }
        #[inline(always)]
        pub(crate) fn fast(_: &u8, _: &'static str) -> (usize, bool) {
            (1, true)
        }
        #[inline]
        pub(crate) fn decode(r: &mut Reader<'_>, field: &'static str) -> Result<u8, DecodeError> {
            r.u8(field)
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn len(_: &u8, _: &'static str) -> usize {
            1
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn write(
            w: &mut Writer<'_>,
            v: &u8,
            _: &'static str,
        ) -> Result<(), EncodeError> {
            w.u8(*v);
            Ok(())
        }
    }

    pub(super) mod enm {
        use super::*;
        #[inline(always)]
        pub(crate) fn size(_: &u8, _: &'static str, _: EnumNames) -> Result<usize, EncodeError> {
            Ok(1)
        }
        #[inline(always)]
        pub(crate) fn fast(_: &u8, _: &'static str, _: EnumNames) -> (usize, bool) {
            (1, true)
        }
        #[inline]
        pub(crate) fn decode(
            r: &mut Reader<'_>,
            field: &'static str,
            _: EnumNames,
        ) -> Result<u8, DecodeError> {
            r.u8(field)
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn len(_: &u8, _: &'static str, _: EnumNames) -> usize {
            1
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn write(
            w: &mut Writer<'_>,
            v: &u8,
            _: &'static str,
            _: EnumNames,
        ) -> Result<(), EncodeError> {
            w.u8(*v);
            Ok(())
        }
    }

    pub(super) mod cstr {
        use super::*;
        #[inline(always)]
        pub(crate) fn size(
            v: &COctetString<'_>,
            field: &'static str,
            max: usize,
            _: CommandStatus,
        ) -> Result<usize, EncodeError> {
            check::cstr(v.as_bytes(), field, max)
        }
        #[inline(always)]
        pub(crate) fn fast(
            v: &COctetString<'_>,
            _: &'static str,
            max: usize,
            _: CommandStatus,
        ) -> (usize, bool) {
            check::cstr_len(v.as_bytes(), max)
        }
        #[inline(always)]
        pub(crate) fn put(
            w: &mut FieldWriter<'_>,
            v: &COctetString<'_>,
            _: &'static str,
            _: usize,
            _: CommandStatus,
        ) -> u64 {
            w.cstr(v.as_bytes())
        }
        #[inline]
        pub(crate) fn decode<'a>(
            r: &mut Reader<'a>,
            field: &'static str,
            max: usize,
            status: CommandStatus,
        ) -> Result<COctetString<'a>, DecodeError> {
            r.cstr(field, max, status)
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn len(
            v: &COctetString<'_>,
            _: &'static str,
            _: usize,
            _: CommandStatus,
        ) -> usize {
            v.len() + 1
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn write(
            w: &mut Writer<'_>,
            v: &COctetString<'_>,
            field: &'static str,
            max: usize,
            _: CommandStatus,
        ) -> Result<(), EncodeError> {
            w.cstr(v.as_bytes(), field, max)
        }
    }

    pub(super) mod password {
        use super::*;
        #[inline(always)]
        pub(crate) fn size(v: &Password<'_>, field: &'static str) -> Result<usize, EncodeError> {
            check::cstr(v.expose(), field, 9)
        }
        #[inline(always)]
        pub(crate) fn fast(v: &Password<'_>, _: &'static str) -> (usize, bool) {
            check::cstr_len(v.expose(), 9)
        }
        #[inline(always)]
        pub(crate) fn put(w: &mut FieldWriter<'_>, v: &Password<'_>, _: &'static str) -> u64 {
            w.cstr(v.expose())
        }
        #[inline]
        pub(crate) fn decode<'a>(
            r: &mut Reader<'a>,
            field: &'static str,
        ) -> Result<Password<'a>, DecodeError> {
            Ok(Password(r.cstr(field, 9, CommandStatus::ESME_RINVPASWD)?))
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn len(v: &Password<'_>, _: &'static str) -> usize {
            v.0.len() + 1
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn write(
            w: &mut Writer<'_>,
            v: &Password<'_>,
            field: &'static str,
        ) -> Result<(), EncodeError> {
            w.cstr(v.expose(), field, 9)
        }
    }

    pub(super) mod time {
        use super::*;
        #[inline(always)]
        pub(crate) fn size(
            v: &COctetString<'_>,
            field: &'static str,
            _: CommandStatus,
        ) -> Result<usize, EncodeError> {
            check::time(v.as_bytes(), field)
        }
        #[inline(always)]
        pub(crate) fn fast(
            v: &COctetString<'_>,
            _: &'static str,
            _: CommandStatus,
        ) -> (usize, bool) {
            check::time_len(v.as_bytes())
        }
        #[inline(always)]
        pub(crate) fn put(
            w: &mut FieldWriter<'_>,
            v: &COctetString<'_>,
            _: &'static str,
            _: CommandStatus,
        ) -> u64 {
            w.cstr(v.as_bytes())
        }
        #[inline]
        pub(crate) fn decode<'a>(
            r: &mut Reader<'a>,
            field: &'static str,
            status: CommandStatus,
        ) -> Result<COctetString<'a>, DecodeError> {
            r.time(field, status)
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn len(v: &COctetString<'_>, _: &'static str, _: CommandStatus) -> usize {
            v.len() + 1
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn write(
            w: &mut Writer<'_>,
            v: &COctetString<'_>,
            field: &'static str,
            _: CommandStatus,
        ) -> Result<(), EncodeError> {
            w.time(v.as_bytes(), field)
        }
    }

    pub(super) mod sm {
        use super::*;
        #[inline(always)]
        pub(crate) fn size(v: &OctetString<'_>) -> Result<usize, EncodeError> {
            check::short_message(v.as_bytes())
        }
        #[inline(always)]
        pub(crate) fn fast(v: &OctetString<'_>) -> (usize, bool) {
            check::short_message_len(v.as_bytes())
        }
        #[inline(always)]
        pub(crate) fn put(w: &mut FieldWriter<'_>, v: &OctetString<'_>) -> u64 {
            w.short_message(v.as_bytes());
            0
        }
        #[inline]
        pub(crate) fn decode<'a>(r: &mut Reader<'a>) -> Result<OctetString<'a>, DecodeError> {
            r.short_message()
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn len(v: &OctetString<'_>) -> usize {
            v.len() + 1
        }
        #[cfg(test)]
        #[inline]
        pub(crate) fn write(w: &mut Writer<'_>, v: &OctetString<'_>) -> Result<(), EncodeError> {
            w.short_message(v.as_bytes())
        }
    }

    pub(super) mod dests {
        use super::*;
        /// Checks the count, then each address in order, as `write` did.
        pub(crate) fn size(v: &[DestAddress<'_>]) -> Result<usize, EncodeError> {
            if v.is_empty() || v.len() > MAX_DESTS {
                return Err(EncodeError::InvalidCount {
                    field: "number_of_dests",
                    min: 1,
                    max: MAX_DESTS,
                });
            }
            let mut n = 1;
            for d in v {
                n += match d {
                    DestAddress::SmeAddress {
                        destination_addr, ..
                    } => 3 + check::cstr(destination_addr.as_bytes(), "destination_addr", 21)?,
                    DestAddress::DistributionList { dl_name } => {
                        1 + check::cstr(dl_name.as_bytes(), "dl_name", 21)?
                    }
                };
            }
            Ok(n)
        }
        /// The whole check of [`size`] (lists are rare enough not to need a fast form):
        /// what [`put`] then writes is known to hold no NUL.
        pub(crate) fn fast(v: &[DestAddress<'_>]) -> (usize, bool) {
            match size(v) {
                Ok(n) => (n, true),
                Err(_) => (0, false),
            }
        }
        pub(crate) fn put(w: &mut FieldWriter<'_>, v: &[DestAddress<'_>]) -> u64 {
            w.u8(v.len() as u8);
            for d in v {
                match d {
                    DestAddress::SmeAddress {
                        dest_addr_ton,
                        dest_addr_npi,
                        destination_addr,
                    } => {
                        w.bytes(&[1, *dest_addr_ton, *dest_addr_npi]);
                        w.cstr(destination_addr.as_bytes());
                    }
                    DestAddress::DistributionList { dl_name } => {
                        w.u8(2);
                        w.cstr(dl_name.as_bytes());
                    }
                }
            }
            0
        }
        pub(crate) fn decode<'a>(r: &mut Reader<'a>) -> Result<Vec<DestAddress<'a>>, DecodeError> {
            let n = r.u8("number_of_dests")?;
            if n == 0 {
                return Err(DecodeError::new(
                    DecodeErrorKind::InvalidValue,
                    "number_of_dests",
                    CommandStatus::ESME_RINVNUMDESTS,
                ));
            }
            let mut v = Vec::with_capacity(n as usize);
            for _ in 0..n {
                v.push(match r.u8("dest_flag")? {
                    1 => DestAddress::SmeAddress {
                        dest_addr_ton: r.u8("dest_addr_ton")?,
                        dest_addr_npi: r.u8("dest_addr_npi")?,
                        destination_addr: r.cstr(
                            "destination_addr",
                            21,
                            CommandStatus::ESME_RINVDSTADR,
                        )?,
                    },
                    2 => DestAddress::DistributionList {
                        dl_name: r.cstr("dl_name", 21, CommandStatus::ESME_RINVDLNAME)?,
                    },
                    _ => {
                        return Err(DecodeError::new(
                            DecodeErrorKind::InvalidValue,
                            "dest_flag",
                            CommandStatus::ESME_RINVDESTFLAG,
                        ))
                    }
                });
            }
            Ok(v)
        }
        #[cfg(test)]
        pub(crate) fn len(v: &[DestAddress<'_>]) -> usize {
            1 + v
                .iter()
                .map(|d| match d {
                    DestAddress::SmeAddress {
                        destination_addr, ..
                    } => 4 + destination_addr.len(),
                    DestAddress::DistributionList { dl_name } => 2 + dl_name.len(),
                })
                .sum::<usize>()
        }
        #[cfg(test)]
        pub(crate) fn write(w: &mut Writer<'_>, v: &[DestAddress<'_>]) -> Result<(), EncodeError> {
            if v.is_empty() || v.len() > MAX_DESTS {
                return Err(EncodeError::InvalidCount {
                    field: "number_of_dests",
                    min: 1,
                    max: MAX_DESTS,
                });
            }
            w.u8(v.len() as u8);
            for d in v {
                match d {
                    DestAddress::SmeAddress {
                        dest_addr_ton,
                        dest_addr_npi,
                        destination_addr,
                    } => {
                        w.bytes(&[1, *dest_addr_ton, *dest_addr_npi]);
                        w.cstr(destination_addr.as_bytes(), "destination_addr", 21)?;
                    }
                    DestAddress::DistributionList { dl_name } => {
                        w.u8(2);
                        w.cstr(dl_name.as_bytes(), "dl_name", 21)?;
                    }
                }
            }
            Ok(())
        }
    }

    pub(super) mod unsuccess {
        use super::*;
        /// Checks the count, then each address in order, as `write` did.
        pub(crate) fn size(v: &[UnsuccessSme<'_>]) -> Result<usize, EncodeError> {
            if v.len() > 255 {
                return Err(EncodeError::InvalidCount {
                    field: "no_unsuccess",
                    min: 0,
                    max: 255,
                });
            }
            let mut n = 1;
            for u in v {
                n += 6 + check::cstr(u.destination_addr.as_bytes(), "destination_addr", 21)?;
            }
            Ok(n)
        }
        /// As `dests::fast`: the whole check of [`size`].
        pub(crate) fn fast(v: &[UnsuccessSme<'_>]) -> (usize, bool) {
            match size(v) {
                Ok(n) => (n, true),
                Err(_) => (0, false),
            }
        }
        pub(crate) fn put(w: &mut FieldWriter<'_>, v: &[UnsuccessSme<'_>]) -> u64 {
            w.u8(v.len() as u8);
            for u in v {
                w.bytes(&[u.dest_addr_ton, u.dest_addr_npi]);
                w.cstr(u.destination_addr.as_bytes());
                w.bytes(&u.error_status_code.0.to_be_bytes());
            }
            0
        }
        pub(crate) fn decode<'a>(r: &mut Reader<'a>) -> Result<Vec<UnsuccessSme<'a>>, DecodeError> {
            let n = r.u8("no_unsuccess")?;
            let mut v = Vec::with_capacity(n as usize);
            for _ in 0..n {
                v.push(UnsuccessSme {
                    dest_addr_ton: r.u8("dest_addr_ton")?,
                    dest_addr_npi: r.u8("dest_addr_npi")?,
                    destination_addr: r.cstr(
                        "destination_addr",
                        21,
                        CommandStatus::ESME_RINVDSTADR,
                    )?,
                    error_status_code: CommandStatus(r.u32("error_status_code")?),
                });
            }
            Ok(v)
        }
        #[cfg(test)]
        pub(crate) fn len(v: &[UnsuccessSme<'_>]) -> usize {
            1 + v
                .iter()
                .map(|u| 7 + u.destination_addr.len())
                .sum::<usize>()
        }
        #[cfg(test)]
        pub(crate) fn write(w: &mut Writer<'_>, v: &[UnsuccessSme<'_>]) -> Result<(), EncodeError> {
            if v.len() > 255 {
                return Err(EncodeError::InvalidCount {
                    field: "no_unsuccess",
                    min: 0,
                    max: 255,
                });
            }
            w.u8(v.len() as u8);
            for u in v {
                w.bytes(&[u.dest_addr_ton, u.dest_addr_npi]);
                w.cstr(u.destination_addr.as_bytes(), "destination_addr", 21)?;
                w.u32(u.error_status_code.0);
            }
            Ok(())
        }
    }
}

/// The field visitor and builder of each kind of mandatory field, called by the `pdu!`
/// macro like the codecs in `kind` (same extra arguments). Used by text forms only, never
/// by `decode` or `encode`.
mod fieldkind {
    use super::*;
    use crate::fields::{FieldKind, FieldSource, FieldValue, FieldVisitor, OctetsKind};

    pub(super) mod int {
        use super::*;
        pub(crate) const KIND: FieldKind = FieldKind::Int;
        pub(crate) fn visit(v: &mut dyn FieldVisitor, name: &'static str, x: &u8, _: &'static str) {
            v.field(name, FieldValue::U8(*x));
        }
        pub(crate) fn build(
            src: &mut dyn FieldSource,
            name: &'static str,
            _: &'static str,
        ) -> Result<u8, FieldError> {
            Ok(src.uint(name, 255)? as u8)
        }
    }

    pub(super) mod enm {
        use super::*;
        pub(crate) const KIND: FieldKind = FieldKind::Enum;
        pub(crate) fn visit(
            v: &mut dyn FieldVisitor,
            name: &'static str,
            x: &u8,
            _: &'static str,
            names: EnumNames,
        ) {
            v.field(name, FieldValue::Enum(*x, names));
        }
        pub(crate) fn build(
            src: &mut dyn FieldSource,
            name: &'static str,
            _: &'static str,
            names: EnumNames,
        ) -> Result<u8, FieldError> {
            src.enumerated(name, names)
        }
    }

    pub(super) mod cstr {
        use super::*;
        pub(crate) const KIND: FieldKind = FieldKind::COctet;
        pub(crate) fn visit(
            v: &mut dyn FieldVisitor,
            name: &'static str,
            x: &COctetString<'_>,
            _: &'static str,
            _: usize,
            _: CommandStatus,
        ) {
            v.field(name, FieldValue::Octets(OctetsKind::COctet, x.as_bytes()));
        }
        pub(crate) fn build(
            src: &mut dyn FieldSource,
            name: &'static str,
            _: &'static str,
            _: usize,
            _: CommandStatus,
        ) -> Result<COctetString<'static>, FieldError> {
            Ok(COctetString::new(src.octets(name, OctetsKind::COctet)?))
        }
    }

    pub(super) mod password {
        use super::*;
        pub(crate) const KIND: FieldKind = FieldKind::Password;
        pub(crate) fn visit(
            v: &mut dyn FieldVisitor,
            name: &'static str,
            x: &Password<'_>,
            _: &'static str,
        ) {
            v.field(name, FieldValue::Octets(OctetsKind::Password, x.expose()));
        }
        pub(crate) fn build(
            src: &mut dyn FieldSource,
            name: &'static str,
            _: &'static str,
        ) -> Result<Password<'static>, FieldError> {
            Ok(Password(COctetString::new(
                src.octets(name, OctetsKind::Password)?,
            )))
        }
    }

    pub(super) mod time {
        use super::*;
        pub(crate) const KIND: FieldKind = FieldKind::Time;
        pub(crate) fn visit(
            v: &mut dyn FieldVisitor,
            name: &'static str,
            x: &COctetString<'_>,
            _: &'static str,
            _: CommandStatus,
        ) {
            v.field(name, FieldValue::Octets(OctetsKind::Time, x.as_bytes()));
        }
        pub(crate) fn build(
            src: &mut dyn FieldSource,
            name: &'static str,
            _: &'static str,
            _: CommandStatus,
        ) -> Result<COctetString<'static>, FieldError> {
            Ok(COctetString::new(src.octets(name, OctetsKind::Time)?))
        }
    }

    pub(super) mod sm {
        use super::*;
        pub(crate) const KIND: FieldKind = FieldKind::ShortMessage;
        pub(crate) fn visit(v: &mut dyn FieldVisitor, name: &'static str, x: &OctetString<'_>) {
            v.field(name, FieldValue::Octets(OctetsKind::Message, x.as_bytes()));
        }
        pub(crate) fn build(
            src: &mut dyn FieldSource,
            name: &'static str,
        ) -> Result<OctetString<'static>, FieldError> {
            Ok(OctetString::new(src.octets(name, OctetsKind::Message)?))
        }
    }

    pub(super) mod dests {
        use super::*;
        pub(crate) const KIND: FieldKind = FieldKind::Dests;
        pub(crate) fn visit(v: &mut dyn FieldVisitor, name: &'static str, x: &[DestAddress<'_>]) {
            v.field(name, FieldValue::Dests(x));
        }
        pub(crate) fn build(
            src: &mut dyn FieldSource,
            name: &'static str,
        ) -> Result<Vec<DestAddress<'static>>, FieldError> {
            let mut out = Vec::new();
            src.list(name, false, &mut |item| {
                out.push(DestAddress::from_fields(item)?);
                Ok(())
            })?;
            Ok(out)
        }
    }

    pub(super) mod unsuccess {
        use super::*;
        pub(crate) const KIND: FieldKind = FieldKind::Unsuccess;
        pub(crate) fn visit(v: &mut dyn FieldVisitor, name: &'static str, x: &[UnsuccessSme<'_>]) {
            v.field(name, FieldValue::Unsuccess(x));
        }
        pub(crate) fn build(
            src: &mut dyn FieldSource,
            name: &'static str,
        ) -> Result<Vec<UnsuccessSme<'static>>, FieldError> {
            let mut out = Vec::new();
            src.list(name, false, &mut |item| {
                out.push(UnsuccessSme::from_fields(item)?);
                Ok(())
            })?;
            Ok(out)
        }
    }
}

/// The most destinations the encoder writes in one `submit_multi` (SMPP 3.4 limit; the
/// decoder also accepts 255, the 5.0 limit).
pub const MAX_DESTS: usize = 254;

/// One destination of a `submit_multi` (reference §4.7).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DestAddress<'a> {
    /// `dest_flag` 1: an SME address.
    SmeAddress {
        /// Type of number.
        dest_addr_ton: u8,
        /// Numbering plan.
        dest_addr_npi: u8,
        /// The address, `COS(21)`.
        destination_addr: COctetString<'a>,
    },
    /// `dest_flag` 2: a distribution list defined on the SMSC.
    DistributionList {
        /// The list name, `COS(21)`.
        dl_name: COctetString<'a>,
    },
}

impl IntoStatic for DestAddress<'_> {
    type Static = DestAddress<'static>;
    fn into_static(self) -> DestAddress<'static> {
        match self {
            DestAddress::SmeAddress {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr,
            } => DestAddress::SmeAddress {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr: destination_addr.into_owned(),
            },
            DestAddress::DistributionList { dl_name } => DestAddress::DistributionList {
                dl_name: dl_name.into_owned(),
            },
        }
    }
}

/// One destination a `submit_multi` could not be accepted for (reference §4.8).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnsuccessSme<'a> {
    /// Type of number.
    pub dest_addr_ton: u8,
    /// Numbering plan.
    pub dest_addr_npi: u8,
    /// The address, `COS(21)`.
    pub destination_addr: COctetString<'a>,
    /// Why it failed, as a `command_status` value.
    pub error_status_code: CommandStatus,
}

impl IntoStatic for UnsuccessSme<'_> {
    type Static = UnsuccessSme<'static>;
    fn into_static(self) -> UnsuccessSme<'static> {
        UnsuccessSme {
            destination_addr: self.destination_addr.into_owned(),
            ..self
        }
    }
}

/// The check that spans fields, made first by the encoder of each PDU type with a
/// `short_message`: not both `short_message` and a non-empty `message_payload`.
macro_rules! payload_check {
    ($self:ident, short_message) => {
        check_payload(&$self.short_message, &$self.tlvs)?
    };
    ($self:ident, $other:ident) => {};
}

/// The writes of `put_fixed` in `pdu!`: each field's `put` in wire order, ORing the NUL
/// flags into `$nul`, except that a run of one-octet fields (`int`, `enm`) is written as one
/// array, with one bounds check and a store or two instead of one per octet.
macro_rules! put_fields {
    // The end: write the pending run.
    ($s:ident, $w:ident, $nul:ident, [$($p:ident)*]) => {
        put_fields!(@run $s, $w, [$($p)*]);
    };
    // One-octet fields join the pending run.
    ($s:ident, $w:ident, $nul:ident, [$($p:ident)*] $f:ident => int $a:tt $(, $($rest:tt)*)?) => {
        put_fields!($s, $w, $nul, [$($p)* $f] $($($rest)*)?);
    };
    ($s:ident, $w:ident, $nul:ident, [$($p:ident)*] $f:ident => enm $a:tt $(, $($rest:tt)*)?) => {
        put_fields!($s, $w, $nul, [$($p)* $f] $($($rest)*)?);
    };
    // Any other field: the pending run, then the field.
    ($s:ident, $w:ident, $nul:ident, [$($p:ident)*] $f:ident => $k:ident($($a:expr),*) $(, $($rest:tt)*)?) => {
        put_fields!(@run $s, $w, [$($p)*]);
        $nul |= kind::$k::put($w, &$s.$f, $($a),*);
        put_fields!($s, $w, $nul, [] $($($rest)*)?);
    };
    (@run $s:ident, $w:ident, []) => {};
    (@run $s:ident, $w:ident, [$($p:ident)+]) => {
        $w.array(&[$($s.$p),+]);
    };
}

macro_rules! pdu {
    (@each $attrs:tt [] $fields:tt) => {};
    (@each $attrs:tt [$name:ident = $cid:ident $(, $rn:ident = $rc:ident)*] $fields:tt) => {
        pdu!(@one $attrs $name = $cid $fields);
        pdu!(@each $attrs [$($rn = $rc),*] $fields);
    };
    (@one [$($attr:tt)*] $name:ident = $cid:ident {
        $( $(#[$fmeta:meta])* $field:ident : $fty:ty => $kind:ident($($arg:expr),*) ),* $(,)?
    }) => {
        $($attr)*
        #[doc = ""]
        #[doc = concat!("Wire name `", stringify!($cid), "`; see [`CommandId::", stringify!($cid), "`].")]
        #[derive(Clone, Debug, PartialEq, Eq, Default)]
        pub struct $name<'a> {
            $( $(#[$fmeta])* pub $field: $fty, )*
            /// Optional parameters, in wire order.
            pub tlvs: Vec<Tlv<'a>>,
        }

        impl<'a> $name<'a> {
            /// The `command_id` of this PDU.
            pub const COMMAND_ID: CommandId = CommandId::$cid;

            #[inline(always)]
            fn decode_body(h: &Header, r: &mut Reader<'a>) -> Decoded<'a> {
                $( let $field = kind::$kind::decode(r, $($arg),*)?; )*
                let tlvs = tlv::decode_all(r)?;
                // Built in one expression, straight into the return slot: moving a decoded
                // PDU through nested `Result`s costs more than decoding its fields.
                Ok(Some((
                    Pdu {
                        command_status: h.command_status,
                        sequence_number: h.sequence_number,
                        body: Body::$name($name { $($field,)* tlvs }),
                    },
                    h.command_length as usize,
                )))
            }

            /// Octets of the mandatory fields on the wire.
            #[cfg(test)]
            #[inline]
            fn fixed_len(&self) -> usize {
                0 $( + kind::$kind::len(&self.$field, $($arg),*) )*
            }

            #[cfg(test)]
            #[inline]
            fn write_fixed(&self, _w: &mut Writer<'_>) -> Result<(), EncodeError> {
                $( kind::$kind::write(_w, &self.$field, $($arg),*)?; )*
                Ok(())
            }

            /// Checks every mandatory field, in wire order, and returns their octets on
            /// the wire, or the first field's error: the full check, which the encoder
            /// runs only to name the error once [`Self::size_fast`] or the writer found
            /// one.
            #[inline(always)]
            fn size_fixed(&self) -> Result<usize, EncodeError> {
                Ok(0 $( + kind::$kind::size(&self.$field, $($arg),*)? )*)
            }

            /// The error that [`Self::size_fixed`] finds first. Out of line: only a value
            /// that cannot be sent gets here.
            #[cold]
            #[inline(never)]
            fn first_error(&self) -> EncodeError {
                match self.size_fixed() {
                    Err(e) => e,
                    // The fast pass and the full check disagree: a bug, reported like a
                    // length mismatch rather than sent.
                    Ok(_) => EncodeError::InvalidLength { field: "command_length" },
                }
            }

            /// The fast pass of the encoder: the octets of the mandatory fields on the
            /// wire, and whether every length is within its limit, with no branch per
            /// field. The NUL checks of C-octet strings are left to [`Self::put_fixed`].
            #[inline(always)]
            fn size_fast(&self) -> (usize, bool) {
                let n = 0usize;
                let ok = true;
                $(
                    let (s, fits) = kind::$kind::fast(&self.$field, $($arg),*);
                    let n = n.wrapping_add(s);
                    let ok = ok & fits;
                )*
                (n, ok)
            }

            /// Writes the mandatory fields that [`Self::size_fast`] sized and returns the
            /// NUL flags of the C-octet strings, ORed: non-zero when one holds a NUL.
            #[inline(always)]
            fn put_fixed(&self, _w: &mut FieldWriter<'_>) -> u64 {
                let mut _nul = 0;
                put_fields!(self, _w, _nul, [] $($field => $kind($($arg),*)),*);
                _nul
            }

            /// The whole encoder for this type: header-only check, sizing pass, then the
            /// writes into the sized output. Its own function, so that the writer stays in
            /// registers and every field write is inlined into it.
            #[inline(never)]
            fn encode_body(
                &self,
                command_status: CommandStatus,
                sequence_number: u32,
                out: &mut Vec<u8>,
            ) -> Result<usize, EncodeError> {
                let header_only = Self::COMMAND_ID.is_response()
                    && !command_status.is_ok()
                    && *self == $name::default();
                let (fixed, tlvs) = if header_only {
                    (0, &[][..])
                } else {
                    $( payload_check!(self, $field); )*
                    let (fixed, fits) = self.size_fast();
                    if !fits {
                        return Err(self.first_error());
                    }
                    (fixed, &self.tlvs[..])
                };
                let start = out.len();
                let mut w = frame_start(out, fixed, Self::COMMAND_ID, command_status, sequence_number);
                let nul = if header_only { 0 } else { self.put_fixed(&mut w) };
                let written = w.pos();
                if nul != 0 {
                    out.truncate(start);
                    return Err(self.first_error());
                }
                frame_finish(out, start, fixed, written, tlvs)
            }

            /// A copy that owns all its bytes, independent of the input buffer.
            pub fn into_owned(self) -> $name<'static> {
                $name { $($field: self.$field.into_static(),)* tlvs: self.tlvs.into_static() }
            }

            /// The first TLV with this tag.
            pub fn tlv(&self, tag: Tag) -> Option<&Tlv<'a>> {
                self.tlvs.iter().find(|t| t.tag() == tag)
            }

            /// The mandatory fields of this PDU in wire order: the `pdu!` table.
            pub const FIELDS: &'static [FieldSpec] = &[
                $( FieldSpec { name: stringify!($field), kind: fieldkind::$kind::KIND }, )*
            ];
        }

        impl Visit for $name<'_> {
            /// Every mandatory field in wire order, then `tlvs`.
            fn visit_fields(&self, _v: &mut dyn FieldVisitor) {
                $( fieldkind::$kind::visit(_v, stringify!($field), &self.$field, $($arg),*); )*
                _v.field("tlvs", FieldValue::Tlvs(&self.tlvs));
            }
        }

        impl $name<'static> {
            /// Builds this PDU from its fields, asked for in wire order, then `tlvs`
            /// (absent is none).
            pub fn from_fields(_src: &mut dyn FieldSource) -> Result<Self, FieldError> {
                $( let $field = fieldkind::$kind::build(_src, stringify!($field), $($arg),*)?; )*
                let tlvs = tlv::tlvs_from_fields(_src)?;
                Ok($name { $($field,)* tlvs })
            }
        }

        impl<'a> From<$name<'a>> for Body<'a> {
            fn from(v: $name<'a>) -> Body<'a> {
                Body::$name(v)
            }
        }
    };
    (
        $(#[$meta:meta])*
        [$($name:ident = $cid:ident),+ $(,)?] $fields:tt
    ) => {
        pdu!(@each [$(#[$meta])*] [$($name = $cid),+] $fields);
    };
}

pdu! {
    /// `bind_transmitter`, `bind_receiver`, `bind_transceiver` (reference §4.1).
    [BindTransmitter = BIND_TRANSMITTER, BindReceiver = BIND_RECEIVER, BindTransceiver = BIND_TRANSCEIVER] {
        /// ESME identity (login), `COS(16)`.
        system_id: COctetString<'a> => cstr("system_id", 16, CommandStatus::ESME_RINVSYSID),
        /// Password, `COS(9)`; never shown by `Debug`.
        password: Password<'a> => password("password"),
        /// ESME type, `COS(13)`, often empty.
        system_type: COctetString<'a> => cstr("system_type", 13, CommandStatus::ESME_RINVSYSTYP),
        /// `0x34` for 3.4, `0x50` for 5.0.
        interface_version: u8 => int("interface_version"),
        /// TON of `address_range`.
        addr_ton: u8 => enm("addr_ton", TON),
        /// NPI of `address_range`.
        addr_npi: u8 => enm("addr_npi", NPI),
        /// Addresses served by the ESME, `COS(41)`, usually empty.
        address_range: COctetString<'a> => cstr("address_range", 41, CommandStatus::ESME_RBINDFAIL),
    }
}

pdu! {
    /// `bind_*_resp` (reference §4.2); the body is omitted on error.
    [BindTransmitterResp = BIND_TRANSMITTER_RESP, BindReceiverResp = BIND_RECEIVER_RESP, BindTransceiverResp = BIND_TRANSCEIVER_RESP] {
        /// SMSC identity, `COS(16)`.
        system_id: COctetString<'a> => cstr("system_id", 16, CommandStatus::ESME_RINVSYSID),
    }
}

pdu! {
    /// `outbind` (reference §4.3): the SMSC asks the ESME to bind; there is no response.
    [Outbind = OUTBIND] {
        /// SMSC identity, `COS(16)`.
        system_id: COctetString<'a> => cstr("system_id", 16, CommandStatus::ESME_RINVSYSID),
        /// Password, `COS(9)`; never shown by `Debug`.
        password: Password<'a> => password("password"),
    }
}

pdu! {
    /// Header-only PDUs (reference §4.4). SMPP 5.0 responses may carry `congestion_state`.
    [
        Unbind = UNBIND, UnbindResp = UNBIND_RESP, EnquireLink = ENQUIRE_LINK,
        EnquireLinkResp = ENQUIRE_LINK_RESP, GenericNack = GENERIC_NACK, CancelSmResp = CANCEL_SM_RESP,
        ReplaceSmResp = REPLACE_SM_RESP, CancelBroadcastSmResp = CANCEL_BROADCAST_SM_RESP
    ] {}
}

pdu! {
    /// `submit_sm` and `deliver_sm` (reference §4.5): the same layout.
    [SubmitSm = SUBMIT_SM, DeliverSm = DELIVER_SM] {
        /// `COS(6)`: empty for the default, or CMT, CPT, VMN, VMA, WAP, USSD.
        service_type: COctetString<'a> => cstr("service_type", 6, CommandStatus::ESME_RINVSERTYP),
        /// Type of number of the originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Originator address, `COS(21)`.
        source_addr: COctetString<'a> => cstr("source_addr", 21, CommandStatus::ESME_RINVSRCADR),
        /// Type of number of the destination.
        dest_addr_ton: u8 => enm("dest_addr_ton", TON),
        /// Numbering plan of the destination.
        dest_addr_npi: u8 => enm("dest_addr_npi", NPI),
        /// Destination address, `COS(21)`.
        destination_addr: COctetString<'a> => cstr("destination_addr", 21, CommandStatus::ESME_RINVDSTADR),
        /// Messaging mode, message type (`0x04` receipt) and GSM features (`0x40` UDHI).
        esm_class: u8 => int("esm_class"),
        /// GSM TP-PID.
        protocol_id: u8 => int("protocol_id"),
        /// Priority, 0 to 3 (4 in 5.0 broadcast).
        priority_flag: u8 => int("priority_flag"),
        /// SMPP time (16 characters) or empty for immediate delivery.
        schedule_delivery_time: COctetString<'a> => time("schedule_delivery_time", CommandStatus::ESME_RINVSCHED),
        /// SMPP time (16 characters) or empty for the SMSC default.
        validity_period: COctetString<'a> => time("validity_period", CommandStatus::ESME_RINVEXPIRY),
        /// Receipt and acknowledgement requests.
        registered_delivery: u8 => int("registered_delivery"),
        /// 1 to replace a stored message with the same source, destination and service type.
        replace_if_present_flag: u8 => int("replace_if_present_flag"),
        /// Alphabet of the message (0 SMSC default, 3 Latin-1, 8 UCS-2, ...).
        data_coding: u8 => enm("data_coding", DATA_CODING),
        /// Canned message id, 0 for none.
        sm_default_msg_id: u8 => int("sm_default_msg_id"),
        /// The message, up to 254 octets (255 accepted on decode); `sm_length` is derived.
        short_message: OctetString<'a> => sm(),
    }
}

pdu! {
    /// `submit_sm_resp`, `deliver_sm_resp`, `data_sm_resp`, `broadcast_sm_resp`,
    /// `query_broadcast_sm_resp` (reference §4.6, §4.14, §4.15): a message id and TLVs.
    [
        SubmitSmResp = SUBMIT_SM_RESP, DeliverSmResp = DELIVER_SM_RESP, DataSmResp = DATA_SM_RESP,
        BroadcastSmResp = BROADCAST_SM_RESP, QueryBroadcastSmResp = QUERY_BROADCAST_SM_RESP
    ] {
        /// The SMSC's id for the message, `COS(65)` (empty in `deliver_sm_resp`).
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
    }
}

pdu! {
    /// `submit_multi` (reference §4.7).
    [SubmitMulti = SUBMIT_MULTI] {
        /// `COS(6)`.
        service_type: COctetString<'a> => cstr("service_type", 6, CommandStatus::ESME_RINVSERTYP),
        /// Type of number of the originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Originator address, `COS(21)`.
        source_addr: COctetString<'a> => cstr("source_addr", 21, CommandStatus::ESME_RINVSRCADR),
        /// Destinations, 1 to 254 (`number_of_dests` is derived).
        dest_addresses: Vec<DestAddress<'a>> => dests(),
        /// As in `submit_sm`.
        esm_class: u8 => int("esm_class"),
        /// As in `submit_sm`.
        protocol_id: u8 => int("protocol_id"),
        /// As in `submit_sm`.
        priority_flag: u8 => int("priority_flag"),
        /// As in `submit_sm`.
        schedule_delivery_time: COctetString<'a> => time("schedule_delivery_time", CommandStatus::ESME_RINVSCHED),
        /// As in `submit_sm`.
        validity_period: COctetString<'a> => time("validity_period", CommandStatus::ESME_RINVEXPIRY),
        /// As in `submit_sm`.
        registered_delivery: u8 => int("registered_delivery"),
        /// As in `submit_sm`.
        replace_if_present_flag: u8 => int("replace_if_present_flag"),
        /// As in `submit_sm`.
        data_coding: u8 => enm("data_coding", DATA_CODING),
        /// As in `submit_sm`.
        sm_default_msg_id: u8 => int("sm_default_msg_id"),
        /// As in `submit_sm`.
        short_message: OctetString<'a> => sm(),
    }
}

pdu! {
    /// `submit_multi_resp` (reference §4.8).
    [SubmitMultiResp = SUBMIT_MULTI_RESP] {
        /// The SMSC's id for the message, `COS(65)`.
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
        /// Destinations that were not accepted (`no_unsuccess` is derived).
        unsuccess_smes: Vec<UnsuccessSme<'a>> => unsuccess(),
    }
}

pdu! {
    /// `data_sm` (reference §4.9): user data travels in the `message_payload` TLV.
    [DataSm = DATA_SM] {
        /// `COS(6)`.
        service_type: COctetString<'a> => cstr("service_type", 6, CommandStatus::ESME_RINVSERTYP),
        /// Type of number of the originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Originator address, `COS(65)`.
        source_addr: COctetString<'a> => cstr("source_addr", 65, CommandStatus::ESME_RINVSRCADR),
        /// Type of number of the destination.
        dest_addr_ton: u8 => enm("dest_addr_ton", TON),
        /// Numbering plan of the destination.
        dest_addr_npi: u8 => enm("dest_addr_npi", NPI),
        /// Destination address, `COS(65)`.
        destination_addr: COctetString<'a> => cstr("destination_addr", 65, CommandStatus::ESME_RINVDSTADR),
        /// As in `submit_sm`.
        esm_class: u8 => int("esm_class"),
        /// As in `submit_sm`.
        registered_delivery: u8 => int("registered_delivery"),
        /// As in `submit_sm`.
        data_coding: u8 => enm("data_coding", DATA_CODING),
    }
}

pdu! {
    /// `query_sm` (reference §4.10).
    [QuerySm = QUERY_SM] {
        /// The id returned by `submit_sm_resp`, `COS(65)`.
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
        /// Type of number of the original originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the original originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Original originator address, `COS(21)`.
        source_addr: COctetString<'a> => cstr("source_addr", 21, CommandStatus::ESME_RINVSRCADR),
    }
}

pdu! {
    /// `query_sm_resp` (reference §4.10).
    [QuerySmResp = QUERY_SM_RESP] {
        /// The queried id, `COS(65)`.
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
        /// When the message reached a final state (SMPP time), or empty.
        final_date: COctetString<'a> => time("final_date", CommandStatus::ESME_RQUERYFAIL),
        /// The state (reference §7.7).
        message_state: u8 => enm("message_state", MESSAGE_STATE),
        /// Network error code, 0 if none.
        error_code: u8 => int("error_code"),
    }
}

pdu! {
    /// `cancel_sm` (reference §4.11).
    [CancelSm = CANCEL_SM] {
        /// Cancel every message of this service type (with an empty `message_id`).
        service_type: COctetString<'a> => cstr("service_type", 6, CommandStatus::ESME_RINVSERTYP),
        /// The message to cancel, `COS(65)`, or empty.
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
        /// Type of number of the originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Originator address, `COS(21)`.
        source_addr: COctetString<'a> => cstr("source_addr", 21, CommandStatus::ESME_RINVSRCADR),
        /// Type of number of the destination.
        dest_addr_ton: u8 => enm("dest_addr_ton", TON),
        /// Numbering plan of the destination.
        dest_addr_npi: u8 => enm("dest_addr_npi", NPI),
        /// Destination address, `COS(21)`.
        destination_addr: COctetString<'a> => cstr("destination_addr", 21, CommandStatus::ESME_RINVDSTADR),
    }
}

pdu! {
    /// `replace_sm` (reference §4.12).
    [ReplaceSm = REPLACE_SM] {
        /// The message to replace, `COS(65)`.
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
        /// Type of number of the originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Originator address, `COS(21)`.
        source_addr: COctetString<'a> => cstr("source_addr", 21, CommandStatus::ESME_RINVSRCADR),
        /// New schedule, or empty to keep the original.
        schedule_delivery_time: COctetString<'a> => time("schedule_delivery_time", CommandStatus::ESME_RINVSCHED),
        /// New validity, or empty to keep the original.
        validity_period: COctetString<'a> => time("validity_period", CommandStatus::ESME_RINVEXPIRY),
        /// As in `submit_sm`.
        registered_delivery: u8 => int("registered_delivery"),
        /// As in `submit_sm`.
        sm_default_msg_id: u8 => int("sm_default_msg_id"),
        /// The new message.
        short_message: OctetString<'a> => sm(),
    }
}

pdu! {
    /// `alert_notification` (reference §4.13): no response.
    [AlertNotification = ALERT_NOTIFICATION] {
        /// Type of number of the mobile station.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the mobile station.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// The mobile station that became available, `COS(65)`.
        source_addr: COctetString<'a> => cstr("source_addr", 65, CommandStatus::ESME_RINVSRCADR),
        /// Type of number of the ESME.
        esme_addr_ton: u8 => enm("esme_addr_ton", TON),
        /// Numbering plan of the ESME.
        esme_addr_npi: u8 => enm("esme_addr_npi", NPI),
        /// The ESME that asked to be alerted, `COS(65)`.
        esme_addr: COctetString<'a> => cstr("esme_addr", 65, CommandStatus::ESME_RINVDSTADR),
    }
}

pdu! {
    /// `broadcast_sm` (SMPP 5.0, reference §4.14). Areas, content type, repetition and
    /// frequency travel as TLVs.
    [BroadcastSm = BROADCAST_SM] {
        /// `COS(6)`.
        service_type: COctetString<'a> => cstr("service_type", 6, CommandStatus::ESME_RINVSERTYP),
        /// Type of number of the originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Originator address, `COS(21)`.
        source_addr: COctetString<'a> => cstr("source_addr", 21, CommandStatus::ESME_RINVSRCADR),
        /// Id of a broadcast to replace, `COS(65)`, or empty.
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
        /// Priority.
        priority_flag: u8 => int("priority_flag"),
        /// SMPP time or empty.
        schedule_delivery_time: COctetString<'a> => time("schedule_delivery_time", CommandStatus::ESME_RINVSCHED),
        /// SMPP time or empty.
        validity_period: COctetString<'a> => time("validity_period", CommandStatus::ESME_RINVEXPIRY),
        /// As in `submit_sm`.
        replace_if_present_flag: u8 => int("replace_if_present_flag"),
        /// As in `submit_sm`.
        data_coding: u8 => enm("data_coding", DATA_CODING),
        /// As in `submit_sm`.
        sm_default_msg_id: u8 => int("sm_default_msg_id"),
    }
}

pdu! {
    /// `query_broadcast_sm` (SMPP 5.0, reference §4.15).
    [QueryBroadcastSm = QUERY_BROADCAST_SM] {
        /// The broadcast to query, `COS(65)`.
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
        /// Type of number of the originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Originator address, `COS(21)`.
        source_addr: COctetString<'a> => cstr("source_addr", 21, CommandStatus::ESME_RINVSRCADR),
    }
}

pdu! {
    /// `cancel_broadcast_sm` (SMPP 5.0, reference §4.15).
    [CancelBroadcastSm = CANCEL_BROADCAST_SM] {
        /// `COS(6)`.
        service_type: COctetString<'a> => cstr("service_type", 6, CommandStatus::ESME_RINVSERTYP),
        /// The broadcast to cancel, `COS(65)`.
        message_id: COctetString<'a> => cstr("message_id", 65, CommandStatus::ESME_RINVMSGID),
        /// Type of number of the originator.
        source_addr_ton: u8 => enm("source_addr_ton", TON),
        /// Numbering plan of the originator.
        source_addr_npi: u8 => enm("source_addr_npi", NPI),
        /// Originator address, `COS(21)`.
        source_addr: COctetString<'a> => cstr("source_addr", 21, CommandStatus::ESME_RINVSRCADR),
    }
}

fn check_payload(short_message: &OctetString<'_>, tlvs: &[Tlv<'_>]) -> Result<(), EncodeError> {
    if !short_message.is_empty()
        && tlvs
            .iter()
            .any(|t| matches!(t, Tlv::MessagePayload(p) if !p.is_empty()))
    {
        return Err(EncodeError::PayloadConflict);
    }
    Ok(())
}

/// Starts a PDU whose mandatory fields are sized and take `fixed` octets: grows `out` by
/// the header and `fixed` zero octets and writes the header. The fields are then `put`
/// into the returned writer (the NULs of C-octet strings are the zeros already there), and
/// [`frame_finish`] completes the PDU.
#[inline(always)]
fn frame_start<'o>(
    out: &'o mut Vec<u8>,
    fixed: usize,
    command_id: CommandId,
    command_status: CommandStatus,
    sequence_number: u32,
) -> FieldWriter<'o> {
    let start = out.len();
    let total = HEADER_LEN + fixed;
    let end = start + total;
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&(total as u32).to_be_bytes());
    h[4..8].copy_from_slice(&command_id.0.to_be_bytes());
    h[8..12].copy_from_slice(&command_status.0.to_be_bytes());
    h[12..].copy_from_slice(&sequence_number.to_be_bytes());
    // Room for the fixed part and the zero blocks' overshoot, then the header and zero
    // blocks of a constant size (a few inline stores each, where `resize` calls `memset`),
    // cut back to the fixed part.
    out.reserve(total + ZERO_BLOCK.len());
    out.extend_from_slice(&h);
    while out.len() < end {
        out.extend_from_slice(&ZERO_BLOCK);
    }
    out.truncate(end);
    FieldWriter::at(&mut out[start..], HEADER_LEN)
}

/// What [`frame_start`] grows the output by at a time.
const ZERO_BLOCK: [u8; 64] = [0; 64];

/// Completes a PDU that [`frame_start`] began at `start` and whose fields took `written`
/// octets (header included): appends the TLVs and sets `command_length`. On error `out`
/// is left as it was before [`frame_start`].
#[inline(always)]
fn frame_finish(
    out: &mut Vec<u8>,
    start: usize,
    fixed: usize,
    written: usize,
    tlvs: &[Tlv<'_>],
) -> Result<usize, EncodeError> {
    let total = HEADER_LEN + fixed;
    if written != total {
        // The sizing pass and the writer disagree: a bug, reported rather than sent as a
        // corrupt PDU.
        out.truncate(start);
        return Err(EncodeError::InvalidLength {
            field: "command_length",
        });
    }
    if tlvs.is_empty() {
        return Ok(total);
    }
    append_tlvs(out, start, tlvs)
}

/// The TLV part of [`frame_finish`]: appends the TLVs after the mandatory fields and sets
/// `command_length` to the whole. Out of line, shared by every type.
#[inline(never)]
fn append_tlvs(out: &mut Vec<u8>, start: usize, tlvs: &[Tlv<'_>]) -> Result<usize, EncodeError> {
    if let Err(e) = tlv::encode_all(tlvs, out) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start;
    if len > u32::MAX as usize {
        out.truncate(start);
        return Err(EncodeError::FieldTooLong {
            field: "command_length",
            max: u32::MAX as usize,
        });
    }
    out[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(len)
}

macro_rules! bodies {
    ($($name:ident),* $(,)?) => {
        /// The body of a PDU: one variant per PDU type, plus [`Body::Unknown`].
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Body<'a> {
            $(
                #[doc = concat!("See [`", stringify!($name), "`].")]
                $name($name<'a>),
            )*
            /// A `command_id` this codec does not know: the body is kept raw and re-encoded
            /// byte for byte.
            Unknown {
                /// The `command_id` from the header.
                command_id: CommandId,
                /// The body octets after the header.
                body: OctetString<'a>,
            },
        }

        impl Visit for Body<'_> {
            /// The fields of the PDU type; an unknown body is one octets field `body`.
            fn visit_fields(&self, v: &mut dyn FieldVisitor) {
                match self {
                    $(Body::$name(b) => b.visit_fields(v),)*
                    Body::Unknown { body, .. } => {
                        v.field("body", FieldValue::Octets(crate::fields::OctetsKind::Octets, body.as_bytes()))
                    }
                }
            }
        }

        impl<'a> Body<'a> {
            /// The `command_id` of this body.
            pub fn command_id(&self) -> CommandId {
                match self {
                    $(Body::$name(_) => $name::COMMAND_ID,)*
                    Body::Unknown { command_id, .. } => *command_id,
                }
            }

            #[inline(always)]
            fn decode(h: &Header, r: &mut Reader<'a>) -> Decoded<'a> {
                match h.command_id {
                    $($name::COMMAND_ID => $name::decode_body(h, r),)*
                    command_id => Ok(Some((
                        Pdu {
                            command_status: h.command_status,
                            sequence_number: h.sequence_number,
                            body: Body::Unknown { command_id, body: OctetString(Cow::Borrowed(r.rest())) },
                        },
                        h.command_length as usize,
                    ))),
                }
            }

            /// The mandatory fields of the body type of a known `command_id`, in wire
            /// order (the `pdu!` table); `None` for unknown ids.
            pub fn field_specs(command_id: CommandId) -> Option<&'static [FieldSpec]> {
                Some(match command_id {
                    $($name::COMMAND_ID => $name::FIELDS,)*
                    _ => return None,
                })
            }

            /// Builds the body of `command_id` from its fields ([`Visit`] gives them). An
            /// unknown `command_id` takes its raw body from the octets `body`.
            pub fn from_fields(
                command_id: CommandId,
                src: &mut dyn FieldSource,
            ) -> Result<Body<'static>, FieldError> {
                Ok(match command_id {
                    $($name::COMMAND_ID => Body::$name($name::from_fields(src)?),)*
                    command_id => Body::Unknown {
                        command_id,
                        body: OctetString::new(src.octets("body", crate::fields::OctetsKind::Octets)?),
                    },
                })
            }

            /// An all-default body for a known `command_id` (what a header-only error
            /// response decodes to); `None` for unknown ids.
            pub fn empty(command_id: CommandId) -> Option<Body<'a>> {
                Some(match command_id {
                    $($name::COMMAND_ID => Body::$name($name::default()),)*
                    _ => return None,
                })
            }

            /// Octets of the mandatory part of the body.
            #[cfg(test)]
            #[inline]
            fn fixed_len(&self) -> usize {
                match self {
                    $(Body::$name(b) => b.fixed_len(),)*
                    Body::Unknown { body, .. } => body.len(),
                }
            }

            /// The check that spans fields: not both `short_message` and
            /// `message_payload`. The first check of the reference encoder.
            #[cfg(test)]
            #[inline(always)]
            fn check_payload(&self) -> Result<(), EncodeError> {
                match self {
                    Body::SubmitSm(b) => check_payload(&b.short_message, &b.tlvs),
                    Body::DeliverSm(b) => check_payload(&b.short_message, &b.tlvs),
                    Body::SubmitMulti(b) => check_payload(&b.short_message, &b.tlvs),
                    Body::ReplaceSm(b) => check_payload(&b.short_message, &b.tlvs),
                    _ => Ok(()),
                }
            }

            /// [`Pdu::encode_parts`]: one dispatch on the type, then that type's encoder,
            /// inlined whole.
            #[inline(always)]
            fn encode(
                &self,
                command_status: CommandStatus,
                sequence_number: u32,
                out: &mut Vec<u8>,
            ) -> Result<usize, EncodeError> {
                match self {
                    $(Body::$name(b) => b.encode_body(command_status, sequence_number, out),)*
                    Body::Unknown { command_id, body } => {
                        let body = body.as_bytes();
                        let start = out.len();
                        let mut w = frame_start(out, body.len(), *command_id, command_status, sequence_number);
                        w.bytes(body);
                        let written = w.pos();
                        frame_finish(out, start, body.len(), written, &[])
                    }
                }
            }

            #[cfg(test)]
            #[inline]
            fn write_fixed(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                self.check_payload()?;
                match self {
                    $(Body::$name(b) => b.write_fixed(w),)*
                    Body::Unknown { body, .. } => {
                        w.bytes(body.as_bytes());
                        Ok(())
                    }
                }
            }

            /// Whether every field has its default value and there are no TLVs.
            pub fn is_empty(&self) -> bool {
                match self {
                    $(Body::$name(b) => *b == $name::default(),)*
                    Body::Unknown { body, .. } => body.is_empty(),
                }
            }

            /// The TLVs of the body (empty for [`Body::Unknown`]).
            pub fn tlvs(&self) -> &[Tlv<'a>] {
                match self {
                    $(Body::$name(b) => &b.tlvs,)*
                    Body::Unknown { .. } => &[],
                }
            }

            /// A copy that owns all its bytes.
            pub fn into_owned(self) -> Body<'static> {
                match self {
                    $(Body::$name(b) => Body::$name(b.into_owned()),)*
                    Body::Unknown { command_id, body } => Body::Unknown { command_id, body: body.into_owned() },
                }
            }
        }
    };
}

bodies! {
    GenericNack,
    BindReceiver, BindReceiverResp, BindTransmitter, BindTransmitterResp,
    QuerySm, QuerySmResp, SubmitSm, SubmitSmResp, DeliverSm, DeliverSmResp,
    Unbind, UnbindResp, ReplaceSm, ReplaceSmResp, CancelSm, CancelSmResp,
    BindTransceiver, BindTransceiverResp, Outbind, EnquireLink, EnquireLinkResp,
    SubmitMulti, SubmitMultiResp, AlertNotification, DataSm, DataSmResp,
    BroadcastSm, BroadcastSmResp, QueryBroadcastSm, QueryBroadcastSmResp,
    CancelBroadcastSm, CancelBroadcastSmResp,
}

/// What the decoders return: `None` until a whole PDU is buffered, else the PDU and the
/// number of octets it took.
type Decoded<'a> = Result<Option<(Pdu<'a>, usize)>, DecodeError>;

/// A whole PDU: the header fields that are not derived, and the typed body.
///
/// `command_length` is computed on encode, and `command_id` comes from the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu<'a> {
    /// `ESME_ROK` in requests; the result in responses.
    pub command_status: CommandStatus,
    /// Matches a response to its request.
    pub sequence_number: u32,
    /// The typed body.
    pub body: Body<'a>,
}

impl<'a> Pdu<'a> {
    /// A PDU with status `ESME_ROK`.
    pub fn new(sequence_number: u32, body: impl Into<Body<'a>>) -> Self {
        Pdu {
            command_status: CommandStatus::ESME_ROK,
            sequence_number,
            body: body.into(),
        }
    }

    /// A response PDU with the given status.
    pub fn response(
        sequence_number: u32,
        command_status: CommandStatus,
        body: impl Into<Body<'a>>,
    ) -> Self {
        Pdu {
            command_status,
            sequence_number,
            body: body.into(),
        }
    }

    /// The `command_id` of the body.
    pub fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// Decodes the first PDU in `buf` with the default `command_length` cap.
    ///
    /// Returns `Ok(None)` until the whole PDU is buffered, then the PDU and the number of
    /// octets it took. Fields borrow from `buf`; nothing is allocated unless the PDU carries
    /// TLVs or a `submit_multi` list.
    #[inline]
    pub fn decode(buf: &'a [u8]) -> Result<Option<(Pdu<'a>, usize)>, DecodeError> {
        Pdu::decode_with_max(buf, DEFAULT_MAX_COMMAND_LENGTH)
    }

    /// [`Pdu::decode`] with a caller-chosen cap on `command_length`.
    #[inline(always)]
    pub fn decode_with_max(buf: &'a [u8], max_command_length: u32) -> Decoded<'a> {
        match Header::peek_with_max(buf, max_command_length)? {
            None => Ok(None),
            Some(h) => Pdu::decode_framed(h, buf.get(..h.command_length as usize).unwrap_or(buf)),
        }
    }

    /// Decodes one framed PDU: `frame` holds the whole PDU, header included, and `header`
    /// is what [`Header::peek`] returned for it.
    ///
    /// An error response (non-zero `command_status`) may come without a body; it decodes to
    /// the default body of its type.
    pub fn decode_frame(header: Header, frame: &'a [u8]) -> Result<Pdu<'a>, DecodeError> {
        match Pdu::decode_framed(header, frame)? {
            Some((pdu, _)) => Ok(pdu),
            None => Err(DecodeError::truncated("command_length")),
        }
    }

    #[inline(always)]
    fn decode_framed(header: Header, frame: &'a [u8]) -> Decoded<'a> {
        let body = frame.get(HEADER_LEN..).unwrap_or(&[]);
        if body.is_empty() && header.command_id.is_response() && !header.command_status.is_ok() {
            if let Some(empty) = Body::empty(header.command_id) {
                let pdu = Pdu {
                    command_status: header.command_status,
                    sequence_number: header.sequence_number,
                    body: empty,
                };
                return Ok(Some((pdu, header.command_length as usize)));
            }
        }
        Body::decode(&header, &mut Reader::new(body))
    }

    /// Appends the encoded PDU to `out` and returns its length.
    ///
    /// `command_length`, `sm_length` and the list counts are computed here. An error
    /// response whose body is all defaults is sent header-only, as SMPP 3.4 asks. On error
    /// `out` is left as it was.
    #[inline]
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        Pdu::encode_parts(self.command_status, self.sequence_number, &self.body, out)
    }

    /// [`Pdu::encode`] of the PDU that `command_status`, `sequence_number` and `body` would
    /// make, without building that `Pdu` (so `body` need not be moved or cloned).
    #[inline]
    pub fn encode_parts(
        command_status: CommandStatus,
        sequence_number: u32,
        body: &Body<'_>,
        out: &mut Vec<u8>,
    ) -> Result<usize, EncodeError> {
        body.encode(command_status, sequence_number, out)
    }

    /// The encoder before the sizing pass: appends and checks each field in turn. Kept for
    /// tests, as the reference that [`Pdu::encode_parts`] must match.
    #[cfg(test)]
    pub(crate) fn encode_parts_reference(
        command_status: CommandStatus,
        sequence_number: u32,
        body: &Body<'_>,
        out: &mut Vec<u8>,
    ) -> Result<usize, EncodeError> {
        let start = out.len();
        let command_id = body.command_id();
        let header_only = command_id.is_response() && !command_status.is_ok() && body.is_empty();
        let fixed = HEADER_LEN + if header_only { 0 } else { body.fixed_len() };
        out.reserve(fixed);
        let mut w = Writer::new(out);
        w.u32(fixed as u32);
        w.u32(command_id.0);
        w.u32(command_status.0);
        w.u32(sequence_number);
        let mut result = if header_only {
            Ok(())
        } else {
            body.write_fixed(&mut w)
        };
        if result.is_ok() && w.pos() != fixed {
            // The length computation and the writer disagree: a bug, reported rather than
            // sent as a corrupt PDU.
            result = Err(EncodeError::InvalidLength {
                field: "command_length",
            });
        }
        if result.is_ok() && !header_only {
            result = tlv::encode_all(body.tlvs(), out);
        }
        if let Err(e) = result {
            out.truncate(start);
            return Err(e);
        }
        let len = out.len() - start;
        if len > u32::MAX as usize {
            out.truncate(start);
            return Err(EncodeError::FieldTooLong {
                field: "command_length",
                max: u32::MAX as usize,
            });
        }
        out[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
        Ok(len)
    }

    /// Encodes into a new `Vec`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut v = Vec::with_capacity(64);
        self.encode(&mut v)?;
        Ok(v)
    }

    /// A copy that owns all its bytes, independent of the input buffer.
    pub fn into_owned(self) -> Pdu<'static> {
        Pdu {
            command_status: self.command_status,
            sequence_number: self.sequence_number,
            body: self.body.into_owned(),
        }
    }
}

/// The encoder against the one it replaced: octet for octet, and error for error, on
/// values that are often invalid (NULs inside C-octet strings, values at and past their
/// limits, time fields of the wrong length, too many destinations, payload conflicts).
#[cfg(test)]
mod reference {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// Bytes around a field's limit, with a NUL now and then.
    fn field(max: usize) -> impl Strategy<Value = COctetString<'static>> {
        prop_oneof![
            3 => vec(1u8..=255, 0..=max.min(20)),
            1 => vec(any::<u8>(), 0..=max + 2),
            1 => vec(1u8..=255, max.saturating_sub(2)..=max + 1),
            // A value of allowed length with one NUL anywhere in it: the encoder finds
            // NULs while it copies, in blocks whose size depends on the length.
            1 => (vec(1u8..=255, 1..max.max(2)), any::<prop::sample::Index>()).prop_map(
                |(mut v, i)| {
                    let at = i.index(v.len());
                    v[at] = 0;
                    v
                }
            ),
        ]
        .prop_map(COctetString::from)
    }

    fn time() -> impl Strategy<Value = COctetString<'static>> {
        prop_oneof![
            2 => Just(COctetString::EMPTY),
            2 => Just(COctetString::from("231122120000000+")),
            1 => field(18),
        ]
    }

    fn tlvs() -> impl Strategy<Value = Vec<Tlv<'static>>> {
        vec(
            prop_oneof![
                vec(any::<u8>(), 0..4).prop_map(|v| Tlv::MessagePayload(v.into())),
                field(66).prop_map(Tlv::ReceiptedMessageId),
            ],
            0..3,
        )
    }

    fn submit_sm() -> impl Strategy<Value = Body<'static>> {
        (
            (field(6), field(21), field(21), any::<u8>()),
            (time(), time()),
            vec(any::<u8>(), 0..=256),
            tlvs(),
        )
            .prop_map(|((st, src, dst, esm), (sched, valid), sm, tlvs)| {
                Body::SubmitSm(SubmitSm {
                    service_type: st,
                    source_addr: src,
                    destination_addr: dst,
                    esm_class: esm,
                    schedule_delivery_time: sched,
                    validity_period: valid,
                    short_message: sm.into(),
                    tlvs,
                    ..Default::default()
                })
            })
    }

    fn bind() -> impl Strategy<Value = Body<'static>> {
        (field(16), field(9), field(13), field(41)).prop_map(|(id, pw, ty, range)| {
            Body::BindTransceiver(BindTransceiver {
                system_id: id,
                password: Password(pw),
                system_type: ty,
                address_range: range,
                ..Default::default()
            })
        })
    }

    fn submit_multi() -> impl Strategy<Value = Body<'static>> {
        let dest = prop_oneof![
            field(21).prop_map(|a| DestAddress::SmeAddress {
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: a,
            }),
            field(21).prop_map(|d| DestAddress::DistributionList { dl_name: d }),
        ];
        (
            prop_oneof![3 => vec(dest.clone(), 0..4), 1 => vec(dest, 250..260)],
            field(21),
            vec(any::<u8>(), 0..8),
            tlvs(),
        )
            .prop_map(|(dests, src, sm, tlvs)| {
                Body::SubmitMulti(SubmitMulti {
                    source_addr: src,
                    dest_addresses: dests,
                    short_message: sm.into(),
                    tlvs,
                    ..Default::default()
                })
            })
    }

    fn others() -> impl Strategy<Value = Body<'static>> {
        prop_oneof![
            field(65).prop_map(|id| Body::SubmitSmResp(SubmitSmResp {
                message_id: id,
                ..Default::default()
            })),
            (field(65), vec(field(21), 0..3)).prop_map(|(id, addrs)| Body::SubmitMultiResp(
                SubmitMultiResp {
                    message_id: id,
                    unsuccess_smes: addrs
                        .into_iter()
                        .map(|a| UnsuccessSme {
                            dest_addr_ton: 1,
                            dest_addr_npi: 2,
                            destination_addr: a,
                            error_status_code: CommandStatus(0x0b),
                        })
                        .collect(),
                    ..Default::default()
                }
            )),
            Just(Body::EnquireLink(EnquireLink::default())),
            Just(Body::GenericNack(GenericNack::default())),
            vec(any::<u8>(), 0..40).prop_map(|b| Body::Unknown {
                command_id: CommandId(0x0001_0203),
                body: b.into(),
            }),
        ]
    }

    fn same_as_reference(body: &Body<'_>) {
        for status in [CommandStatus::ESME_ROK, CommandStatus(8)] {
            let mut new = vec![9];
            let mut old = vec![9];
            let a = Pdu::encode_parts(status, 1, body, &mut new);
            let b = Pdu::encode_parts_reference(status, 1, body, &mut old);
            assert_eq!(a, b, "{body:?}");
            assert_eq!(new, old, "{body:?}");
        }
    }

    /// Every length of every C-octet string of `submit_sm`, `submit_sm_resp` and the
    /// binds up to past its limit, clean and with a NUL at each position, alone and with
    /// another field in error before or after it: the same octets or the same (first)
    /// error as the reference.
    #[test]
    fn every_length_and_nul_position_matches_the_reference() {
        fn values(max: usize) -> Vec<COctetString<'static>> {
            let mut out = Vec::new();
            for n in 0..=max + 1 {
                let clean: Vec<u8> = (0..n).map(|i| b'0' + (i % 10) as u8).collect();
                out.push(COctetString::from(clean.clone()));
                for at in 0..n {
                    let mut v = clean.clone();
                    v[at] = 0;
                    out.push(v.into());
                }
            }
            out
        }
        let too_long = COctetString::from(vec![b'x'; 30]);
        let with_nul = COctetString::from(&b"12\x0034"[..]);
        for v in values(21) {
            for (src, dst) in [
                (v.clone(), COctetString::from("447700900123")),
                (COctetString::from("MyBrand"), v.clone()),
                (with_nul.clone(), v.clone()),
                (v.clone(), too_long.clone()),
                (too_long.clone(), v.clone()),
                (v.clone(), with_nul.clone()),
            ] {
                same_as_reference(&Body::SubmitSm(SubmitSm {
                    source_addr: src,
                    destination_addr: dst,
                    short_message: "hi".into(),
                    ..Default::default()
                }));
            }
        }
        for v in values(17) {
            same_as_reference(&Body::DeliverSm(DeliverSm {
                service_type: "CMT".into(),
                schedule_delivery_time: v.clone(),
                validity_period: v,
                ..Default::default()
            }));
        }
        for v in values(6) {
            same_as_reference(&Body::SubmitSm(SubmitSm {
                service_type: v,
                ..Default::default()
            }));
        }
        for v in values(65) {
            same_as_reference(&Body::SubmitSmResp(SubmitSmResp {
                message_id: v,
                ..Default::default()
            }));
        }
        for v in values(41) {
            same_as_reference(&Body::BindTransceiver(BindTransceiver {
                system_id: "esme".into(),
                password: Password(v.clone()),
                address_range: v,
                ..Default::default()
            }));
        }
        for n in 0..=256 {
            same_as_reference(&Body::SubmitSm(SubmitSm {
                destination_addr: "1".into(),
                short_message: vec![0; n].into(),
                ..Default::default()
            }));
        }
    }

    proptest! {
        #[test]
        fn new_encoder_matches_the_reference(
            body in prop_oneof![submit_sm(), bind(), submit_multi(), others()],
            status in prop_oneof![Just(0u32), Just(8u32)],
            seq in any::<u32>(),
            prefix in vec(any::<u8>(), 0..3),
        ) {
            let status = CommandStatus(status);
            let mut new = prefix.clone();
            let mut old = prefix.clone();
            let a = Pdu::encode_parts(status, seq, &body, &mut new);
            let b = Pdu::encode_parts_reference(status, seq, &body, &mut old);
            prop_assert_eq!(a, b);
            prop_assert_eq!(new, old);
        }
    }
}

//! JSON in: one object in the shape [`json`](crate::json) writes (what `smpp decode`
//! prints) back to a PDU, for `smpp encode` and the Python package's `encode`.
//!
//! The reader is a [`FieldSource`] over the JSON object: the codec's own builders
//! (`Body::from_fields`, generated from the `pdu!` and `tlvs!` tables) ask it for each
//! field by name and kind, so a field added to a table is read with no edit here.
//! Derived members (`command_length`, `number_of_dests`, `no_unsuccess`, a TLV's `name`
//! and `malformed`, `receipt`, `<field>_text` and `<field>_udh` beside user data given in
//! hex) and `decode`'s bookkeeping (`input`, `offset`) are ignored; the codec computes
//! them. Any other member the PDU type does not have is an error (a typo would otherwise
//! be dropped silently).
//! `command_status` defaults to `ESME_ROK` and `tlvs` to none; every other field of the
//! PDU's type must be present. A C-octet string is taken from `<field>_hex` when present
//! (what `decode` adds for octets that are not UTF-8), else from the JSON string. An
//! enumerated field is its number in `<field>_value` when present, else its name or
//! number. User data without its hex is `<field>_text` encoded by `data_coding`, after
//! `<field>_udh.hex`. `wire_hex`, which `decode` adds when the codec would not write the
//! PDU's octets back as they came (a tolerated form), is given back instead of the
//! encoding when it still decodes to the PDU the fields describe. A TLV is its typed
//! `value`, its `hex` value octets, or both (which must agree); an unknown tag's `value`
//! is hex.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::fields::{enum_value, EnumNames, FieldError, FieldSource, OctetsKind};
use crate::text::{self, TextConfig};
use crate::{Body, CommandId, CommandStatus, Pdu};

/// Why a JSON object is not a PDU: the member (a path such as `tlvs[0].value`; empty for
/// the object as a whole) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonInError {
    /// The member's path.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for JsonInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for JsonInError {}

type Failure = JsonInError;

fn fail(field: impl Into<String>, error: impl Into<String>) -> Failure {
    JsonInError {
        field: field.into(),
        message: error.into(),
    }
}

type Result<T> = std::result::Result<T, Failure>;

/// The PDU a JSON object (as text) describes.
pub fn pdu_from_json(text: &str) -> Result<Pdu<'static>> {
    let (_, pdu) = parse(text)?;
    Ok(pdu)
}

fn parse(text: &str) -> Result<(Map<String, Value>, Pdu<'static>)> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| fail("", format!("invalid JSON: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(fail("", "expected a JSON object"));
    };
    let pdu = pdu(&mut Fields::new(&obj, ""))?;
    Ok((obj, pdu))
}

/// A JSON object (as text) to the octets of its PDU.
pub fn encode_json(text: &str) -> Result<Vec<u8>> {
    let (obj, pdu) = parse(text)?;
    // `wire_hex` (what `decode` adds for a tolerated form) is given back when it still
    // decodes to the PDU the fields describe; edited fields are encoded in the strict form.
    if let Some(Value::String(wire)) = obj.get("wire_hex") {
        let wire = parse_hex(wire).map_err(|e| fail("wire_hex", e))?;
        if let Ok(Some((same, used))) = Pdu::decode(&wire) {
            if used == wire.len() && same == pdu {
                return Ok(wire);
            }
        }
    }
    pdu.to_bytes().map_err(|e| fail(e.field(), e.to_string()))
}

/// The members of one JSON object, with the path used in error messages.
struct Fields<'v> {
    obj: &'v Map<String, Value>,
    prefix: String,
    /// The members looked at, so that a member nothing reads (a typo) is reported.
    used: RefCell<BTreeSet<String>>,
    /// The `data_coding` read so far (for user data given as text).
    data_coding: Cell<u8>,
}

impl<'v> Fields<'v> {
    fn new(obj: &'v Map<String, Value>, prefix: &str) -> Self {
        Fields {
            obj,
            prefix: prefix.to_string(),
            used: RefCell::new(BTreeSet::new()),
            data_coding: Cell::new(0),
        }
    }

    /// A source for a member object, inheriting what user data needs.
    fn child(&self, obj: &'v Map<String, Value>, prefix: String) -> Fields<'v> {
        let f = Fields::new(obj, &prefix);
        f.data_coding.set(self.data_coding.get());
        f
    }

    fn mark(&self, name: &str) {
        self.used.borrow_mut().insert(name.to_string());
    }

    /// Whether the member is present (and marks it as read).
    fn present(&self, name: &str) -> bool {
        self.mark(name);
        self.obj.contains_key(name)
    }

    /// Fails on the first member that nothing read, unless it is in `ignored`.
    fn all_read(&self, ignored: &[&str]) -> Result<()> {
        let used = self.used.borrow();
        match self
            .obj
            .keys()
            .find(|k| !used.contains(*k) && !ignored.contains(&k.as_str()))
        {
            Some(k) => Err(fail(self.path(k), "unknown member")),
            None => Ok(()),
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn get(&self, name: &str) -> Result<&'v Value> {
        self.mark(name);
        self.obj
            .get(name)
            .ok_or_else(|| fail(self.path(name), "missing field"))
    }

    fn string(&self, name: &str) -> Result<&'v str> {
        self.get(name)?
            .as_str()
            .ok_or_else(|| fail(self.path(name), "expected a string"))
    }

    /// A number, or (for tags and other hex-written values) a `0x` hex string.
    fn uint(&self, name: &str, max: u64) -> Result<u64> {
        let v = self.get(name)?;
        let n = v
            .as_u64()
            .or_else(|| v.as_str().and_then(hex_u32).map(u64::from));
        match n {
            Some(n) if n <= max => {
                if name == "data_coding" {
                    self.data_coding.set(n as u8);
                }
                Ok(n)
            }
            _ => Err(fail(
                self.path(name),
                format!("expected an integer from 0 to {max}"),
            )),
        }
    }

    /// A C-octet string: `<name>_hex` when present, else the string's UTF-8 octets.
    fn cstr(&self, name: &str) -> Result<Vec<u8>> {
        let hex_name = format!("{name}_hex");
        if self.present(&hex_name) {
            // The string member is then the lossy form of the same octets.
            self.mark(name);
            return self.octets_raw(&hex_name);
        }
        Ok(self.string(name)?.as_bytes().to_vec())
    }

    fn octets_raw(&self, name: &str) -> Result<Vec<u8>> {
        parse_hex(self.string(name)?).map_err(|e| fail(self.path(name), e))
    }

    /// User data: hex, or else `<name>_text` encoded by `data_coding` after the octets of
    /// `<name>_udh.hex`, if any. The derived members beside the hex are ignored.
    fn message(&self, name: &str) -> Result<Vec<u8>> {
        let (text_name, udh_name) = (format!("{name}_text"), format!("{name}_udh"));
        let has_text = self.present(&text_name);
        let has_udh = self.present(&udh_name);
        if self.obj.contains_key(name) || !has_text {
            return self.octets_raw(name);
        }
        let mut out = Vec::new();
        if has_udh {
            let udh = self.get(&udh_name)?;
            let hex = udh
                .get("hex")
                .and_then(Value::as_str)
                .ok_or_else(|| fail(self.path(&udh_name), "expected an object with hex"))?;
            out = parse_hex(hex).map_err(|e| fail(self.path(&udh_name), e))?;
        }
        let dc = self.data_coding.get();
        let encoding = match TextConfig::default().encoding_of(dc) {
            Some(text::Encoding::Binary) | None => {
                return Err(fail(
                    self.path(&text_name),
                    format!("data_coding {dc} is not a text encoding; give {name} as hex"),
                ))
            }
            Some(e) => e,
        };
        let text = self.string(&text_name)?;
        text::encode_into(text, encoding, &mut out)
            .map_err(|e| fail(self.path(&text_name), e.to_string()))?;
        Ok(out)
    }

    fn status_of(&self, name: &str) -> Result<CommandStatus> {
        let s = self.string(name)?;
        match hex_u32(s) {
            Some(v) => Ok(CommandStatus(v)),
            None => CommandStatus::from_any_name(s)
                .ok_or_else(|| fail(self.path(name), format!("unknown status {s:?}"))),
        }
    }

    /// Runs `f` on a member source and checks that it read every member; errors from the
    /// codec's builders get the member's path.
    fn run_child(
        &self,
        child: &mut Fields<'v>,
        ignored: &[&str],
        f: &mut dyn FnMut(&mut dyn FieldSource) -> std::result::Result<(), FieldError>,
    ) -> std::result::Result<(), FieldError> {
        let prefix = child.prefix.clone();
        f(child).map_err(|mut e| {
            if !e.field.starts_with(&prefix) {
                e.field = format!("{prefix}{}", e.field);
            }
            e
        })?;
        child.all_read(ignored).map_err(to_field_error)
    }
}

fn to_field_error(f: Failure) -> FieldError {
    FieldError::new(f.field, f.message)
}

fn from_field_error(e: FieldError) -> Failure {
    fail(e.field, e.message)
}

/// The JSON reader on the codec's field builders: each PDU, destination and TLV asks for
/// its fields by name and kind, in wire order.
impl FieldSource for Fields<'_> {
    fn has(&mut self, name: &'static str) -> bool {
        self.present(name)
    }

    fn uint(&mut self, name: &'static str, max: u64) -> std::result::Result<u64, FieldError> {
        Fields::uint(self, name, max).map_err(to_field_error)
    }

    fn enumerated(
        &mut self,
        name: &'static str,
        names: EnumNames,
    ) -> std::result::Result<u8, FieldError> {
        let value_name = format!("{name}_value");
        let value = if self.present(&value_name) {
            self.mark(name);
            Fields::uint(self, &value_name, 255)
                .map(|n| n as u8)
                .map_err(to_field_error)?
        } else {
            match self.get(name).map_err(to_field_error)? {
                Value::String(s) => enum_value(names, s).ok_or_else(|| {
                    FieldError::new(self.path(name), format!("unknown name {s:?}"))
                })?,
                _ => Fields::uint(self, name, 255)
                    .map(|n| n as u8)
                    .map_err(to_field_error)?,
            }
        };
        if name == "data_coding" {
            self.data_coding.set(value);
        }
        Ok(value)
    }

    fn boolean(&mut self, name: &'static str) -> std::result::Result<bool, FieldError> {
        self.get(name)
            .map_err(to_field_error)?
            .as_bool()
            .ok_or_else(|| FieldError::new(self.path(name), "expected true or false"))
    }

    fn status(&mut self, name: &'static str) -> std::result::Result<CommandStatus, FieldError> {
        self.status_of(name).map_err(to_field_error)
    }

    fn octets(
        &mut self,
        name: &'static str,
        kind: OctetsKind,
    ) -> std::result::Result<Vec<u8>, FieldError> {
        match kind {
            OctetsKind::COctet | OctetsKind::Time | OctetsKind::Password => self.cstr(name),
            OctetsKind::Octets => self.octets_raw(name),
            OctetsKind::Message => self.message(name),
        }
        .map_err(to_field_error)
    }

    fn object(
        &mut self,
        name: &'static str,
        f: &mut dyn FnMut(&mut dyn FieldSource) -> std::result::Result<(), FieldError>,
    ) -> std::result::Result<(), FieldError> {
        let Value::Object(obj) = self.get(name).map_err(to_field_error)? else {
            return Err(FieldError::new(self.path(name), "expected an object"));
        };
        let mut child = self.child(obj, format!("{}.", self.path(name)));
        self.run_child(&mut child, &[], f)
    }

    fn list(
        &mut self,
        name: &'static str,
        optional: bool,
        f: &mut dyn FnMut(&mut dyn FieldSource) -> std::result::Result<(), FieldError>,
    ) -> std::result::Result<(), FieldError> {
        if optional && !self.present(name) {
            return Ok(());
        }
        let Value::Array(items) = self.get(name).map_err(to_field_error)? else {
            return Err(FieldError::new(self.path(name), "expected an array"));
        };
        for (i, item) in items.iter().enumerate() {
            let Value::Object(obj) = item else {
                return Err(FieldError::new(
                    format!("{}[{i}]", self.path(name)),
                    "expected an object",
                ));
            };
            let mut child = self.child(obj, format!("{}[{i}].", self.path(name)));
            // A TLV's `name` and `malformed` are derived from its tag and value.
            self.run_child(&mut child, &["name", "malformed"], f)?;
        }
        Ok(())
    }
}

/// `0x`-prefixed hex to a number.
fn hex_u32(s: &str) -> Option<u32> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u32::from_str_radix(digits, 16).ok()
}

/// Strict hex: an even number of hex digits, nothing else.
fn parse_hex(s: &str) -> std::result::Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!("invalid hex: odd number of digits ({})", s.len()));
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .filter(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "invalid hex: not a hex digit in {:?}",
                        String::from_utf8_lossy(pair)
                    )
                })
        })
        .collect()
}

/// The `command_id`: from `command_id` when present (it is always hex), else from
/// `command` (a spec name or hex).
fn command_id(f: &Fields<'_>) -> Result<CommandId> {
    let by_name = |s: &str| {
        hex_u32(s).map(CommandId).or_else(|| {
            CommandId::ALL
                .iter()
                .copied()
                .find(|id| id.snake_name().is_some_and(|n| n.eq_ignore_ascii_case(s)))
        })
    };
    let named = match f.present("command") {
        true => {
            let s = f.string("command")?;
            Some(by_name(s).ok_or_else(|| fail("command", format!("unknown command {s:?}")))?)
        }
        false => None,
    };
    let numbered = match f.present("command_id") {
        true => {
            let s = f.string("command_id")?;
            Some(hex_u32(s).map(CommandId).ok_or_else(|| {
                fail(
                    "command_id",
                    format!("expected a 32-bit hex value, got {s:?}"),
                )
            })?)
        }
        false => None,
    };
    match (named, numbered) {
        (Some(a), Some(b)) if a != b => Err(fail(
            "command_id",
            format!("does not match command ({:#010x})", a.0),
        )),
        (_, Some(id)) | (Some(id), None) => Ok(id),
        (None, None) => Err(fail("command", "missing field")),
    }
}

fn pdu(f: &mut Fields<'_>) -> Result<Pdu<'static>> {
    if f.present("error") {
        return Err(fail(
            "error",
            "this is an error line from `smpp decode`, not a PDU",
        ));
    }
    let id = command_id(f)?;
    let command_status = if f.present("command_status") {
        f.status_of("command_status")?
    } else {
        CommandStatus::ESME_ROK
    };
    let sequence_number = Fields::uint(f, "sequence_number", u64::from(u32::MAX))? as u32;
    if Body::field_specs(id).is_none() && f.present("tlvs") {
        return Err(fail(
            "tlvs",
            "an unknown command carries its TLVs inside `body`",
        ));
    }
    let body = Body::from_fields(id, f).map_err(from_field_error)?;
    f.all_read(&[
        "input",
        "offset",
        "command_length",
        "number_of_dests",
        "no_unsuccess",
        "receipt",
        "wire_hex",
    ])?;
    Ok(Pdu {
        command_status,
        sequence_number,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::{encode_json, parse_hex};

    #[test]
    fn strict_hex() {
        assert_eq!(parse_hex("00ff10").unwrap(), [0, 255, 16]);
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("+1").is_err());
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn minimal_enquire_link() {
        let bytes = encode_json(r#"{"command":"enquire_link","sequence_number":7}"#).unwrap();
        assert_eq!(bytes, [0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7]);
    }
}

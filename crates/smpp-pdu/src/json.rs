//! JSON for PDUs (feature `json`), written on the field visitor of the codec's tables
//! ([`crate::fields`]): one object per PDU, fields under their spec names, in wire order.
//!
//! Values are typed: integers are numbers, C-octet strings and TLV strings are text (lossy
//! UTF-8; for an [`Object::exact`] object followed by `<key>_hex` when the octets are not
//! UTF-8), enumerated values are their names followed by `<key>_value`, the number
//! (`"message_state":"DELIVERED","message_state_value":2`), octet strings are lower-case
//! hex, and `command_id` and `command_status` are their spec names (or hex when unnamed).
//! User data (`short_message`, `message_payload`) is hex, followed by `<key>_text`, the
//! text decoded by `data_coding` (when it is text), and with UDHI set `<key>_udh`, the
//! user data header broken out. A TLV is `{"tag","name","value","hex"}`: `value` typed (an
//! object for a structured value), `hex` its value octets; a TLV the codec keeps raw has
//! only `hex` (and `"malformed":true` for a known tag). A delivery receipt in a
//! `deliver_sm` or `data_sm` is added parsed, as `receipt`. Passwords are never written,
//! except by [`Object::reveal_passwords`] objects.
//!
//! Every member beyond the fields (`*_text`, `*_udh`, `*_value` beside a name, `name` of a
//! TLV, `receipt`, the counts) is derived: a reader rebuilds the PDU from the fields alone.
//!
//! ```
//! use smpp_pdu::{Pdu, SubmitSm};
//!
//! let pdu = Pdu::new(7, SubmitSm { short_message: "Hi".into(), ..Default::default() });
//! let json = smpp_pdu::json::pdu_object(&pdu);
//! assert!(json.starts_with(r#"{"command":"submit_sm","command_id":"0x00000004""#));
//! assert!(json.contains(r#""short_message":"4869","short_message_text":"Hi""#));
//! ```

use std::fmt::Write as _;

use crate::concat;
use crate::fields::{enum_name, FieldValue, FieldVisitor, OctetsKind, Visit};
use crate::receipt::Receipt;
use crate::text::{self, Encoding, TextConfig};
use crate::tlv::Tlv;
use crate::{Body, COctetString, CommandId, CommandStatus, DecodeError, OctetString, Pdu};

/// Appends `s` as a JSON string literal (quotes included) to `out`.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The spec name of a command (`submit_sm`), or its hex value when unknown.
pub fn command_name(id: CommandId) -> String {
    id.snake_name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{:08x}", id.0))
}

/// The spec name of a status (`ESME_ROK`), or its hex value when unnamed.
pub fn status_name(status: CommandStatus) -> String {
    status
        .name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{:08x}", status.0))
}

/// A JSON object under construction: `{"key":value,...}`.
#[derive(Debug)]
pub struct Object {
    out: String,
    exact: bool,
    reveal_passwords: bool,
}

impl Default for Object {
    fn default() -> Self {
        Object::new()
    }
}

impl Object {
    /// An empty object.
    pub fn new() -> Object {
        Object {
            out: String::from("{"),
            exact: false,
            reveal_passwords: false,
        }
    }

    /// An empty object that keeps every octet of the PDU members added to it, so that the
    /// PDU can be rebuilt from the JSON (what `smpp decode` prints for `smpp encode`): a
    /// C-octet string that is not UTF-8 gets a second member `<key>_hex` holding its
    /// octets. Passwords stay redacted unless [`Object::reveal_passwords`] is set.
    pub fn exact() -> Object {
        Object {
            out: String::from("{"),
            exact: true,
            reveal_passwords: false,
        }
    }

    /// Writes bind and outbind passwords in clear (for `smpp decode --reveal-passwords`,
    /// whose output `smpp encode` can turn back into the same octets).
    pub fn reveal_passwords(mut self, reveal: bool) -> Object {
        self.reveal_passwords = reveal;
        self
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        push_str(&mut self.out, key);
        self.out.push(':');
    }

    /// An empty object for a member of this one, exact if this one is.
    fn nested(&self) -> Object {
        let o = if self.exact {
            Object::exact()
        } else {
            Object::new()
        };
        o.reveal_passwords(self.reveal_passwords)
    }

    /// A string member.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        push_str(&mut self.out, value);
        self
    }

    /// A number member.
    pub fn num(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        let _ = write!(self.out, "{value}");
        self
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// A member whose value is already JSON (an object or an array).
    pub fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key);
        self.out.push_str(json);
        self
    }

    /// A C-octet string member (lossy UTF-8; for an [`Object::exact`] object, followed by
    /// `<key>_hex` when the octets are not UTF-8).
    pub fn cstr(&mut self, key: &str, value: &COctetString<'_>) -> &mut Self {
        self.str(key, &value.to_str_lossy());
        if self.exact && value.as_str().is_none() {
            self.str(&format!("{key}_hex"), &hex(value.as_bytes()));
        }
        self
    }

    /// An octet string member, as hex.
    pub fn octets(&mut self, key: &str, value: &OctetString<'_>) -> &mut Self {
        self.str(key, &hex(value.as_bytes()))
    }

    /// The finished object.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// Adds the header members (`command`, `command_id`, `command_status`, `sequence_number`).
pub fn header_members(o: &mut Object, pdu: &Pdu<'_>) {
    let id = pdu.command_id();
    o.str("command", &command_name(id))
        .str("command_id", &format!("0x{:08x}", id.0))
        .str("command_status", &status_name(pdu.command_status))
        .num("sequence_number", u64::from(pdu.sequence_number));
}

/// Adds every body field of `body` under its spec name in wire order, then `tlvs`, then
/// a parsed `receipt` when the body is one. Passwords are written as `"password":"***"`
/// when set, never in clear, unless `o` reveals them ([`Object::reveal_passwords`]).
pub fn body_members(o: &mut Object, body: &Body<'_>) {
    let mut w = Writer::new(o);
    body.visit_fields(&mut w);
    let receipt = match body {
        Body::DeliverSm(b) if Receipt::is_receipt(b.esm_class) => Some(Receipt::from_deliver_sm(b)),
        Body::DataSm(b) if Receipt::is_receipt(b.esm_class) => Some(Receipt::from_data_sm(b)),
        _ => None,
    };
    match receipt {
        Some(Ok(r)) => {
            o.raw("receipt", &receipt_object(&r));
        }
        Some(Err(e)) => {
            let mut e_o = Object::new();
            e_o.str("error", &e.to_string());
            o.raw("receipt", &e_o.finish());
        }
        None => {}
    }
}

/// The TLVs as a JSON array, each as [`body_members`] writes them.
pub fn tlvs_array(tlvs: &[Tlv<'_>]) -> String {
    let o = Object::new();
    tlvs_json(&o, tlvs, Context::default())
}

/// A parsed receipt as a JSON object: `id`, `stat` (normalised), `final`, the optional
/// values when present, and `fields`, every `key:value` pair as written.
pub fn receipt_object(r: &Receipt) -> String {
    let mut o = Object::new();
    o.str("id", &r.id)
        .str("stat", r.state.stat())
        .bool("final", r.state.is_final());
    if let Some(v) = r.state.message_state() {
        o.num("message_state", u64::from(v));
    }
    let opt = [
        ("stat_raw", &r.stat_raw),
        ("sub", &r.sub),
        ("dlvrd", &r.dlvrd),
        ("err", &r.err),
        ("text", &r.text),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            o.str(k, v);
        }
    }
    if let Some(d) = &r.submit_date {
        o.str("submit_date", &d.to_string());
    }
    if let Some(d) = &r.done_date {
        o.str("done_date", &d.to_string());
    }
    if let Some(n) = &r.network_error_code {
        let mut e = Object::new();
        e.num("network_type", u64::from(n.network_type))
            .num("error_code", u64::from(n.error_code));
        o.raw("network_error_code", &e.finish());
    }
    let mut f = Object::new();
    for (k, v) in r.fields.iter() {
        f.str(k, v);
    }
    o.raw("fields", &f.finish());
    o.finish()
}

/// What user data needs from the fields before it: `data_coding` and `esm_class`.
#[derive(Clone, Copy, Debug, Default)]
struct Context {
    data_coding: u8,
    esm_class: u8,
}

/// The [`FieldVisitor`] that writes members into an [`Object`].
struct Writer<'o> {
    o: &'o mut Object,
    cx: Context,
}

impl<'o> Writer<'o> {
    fn new(o: &'o mut Object) -> Self {
        Writer {
            o,
            cx: Context::default(),
        }
    }
}

impl FieldVisitor for Writer<'_> {
    fn field(&mut self, name: &'static str, value: FieldValue<'_>) {
        let o = &mut *self.o;
        match value {
            FieldValue::U8(x) => {
                if name == "esm_class" {
                    self.cx.esm_class = x;
                }
                o.num(name, u64::from(x));
            }
            FieldValue::U16(x) => {
                o.num(name, u64::from(x));
            }
            FieldValue::U32(x) => {
                o.num(name, u64::from(x));
            }
            FieldValue::Bool(x) => {
                o.bool(name, x);
            }
            FieldValue::Enum(x, names) => {
                if name == "data_coding" {
                    self.cx.data_coding = x;
                }
                match enum_name(names, x) {
                    Some(n) => {
                        o.str(name, n).num(&format!("{name}_value"), u64::from(x));
                    }
                    None => {
                        o.num(name, u64::from(x));
                    }
                }
            }
            FieldValue::Status(s) => {
                o.str(name, &status_name(s));
            }
            FieldValue::Tag(t) => {
                o.str(name, &format!("0x{:04x}", t.0))
                    .str("name", Tlv::tag_name(t).unwrap_or("tlv"));
            }
            FieldValue::Octets(OctetsKind::COctet | OctetsKind::Time, b) => {
                o.cstr(name, &COctetString::from(b));
            }
            FieldValue::Octets(OctetsKind::Password, b) => {
                if o.reveal_passwords {
                    o.cstr(name, &COctetString::from(b));
                } else {
                    o.str(name, if b.is_empty() { "" } else { "***" });
                }
            }
            FieldValue::Octets(OctetsKind::Octets, b) => {
                o.str(name, &hex(b));
            }
            FieldValue::Octets(OctetsKind::Message, b) => {
                o.str(name, &hex(b));
                message_members(o, name, b, self.cx);
            }
            FieldValue::Struct(s) => {
                let mut n = o.nested();
                s.visit_fields(&mut Writer {
                    o: &mut n,
                    cx: self.cx,
                });
                o.raw(name, &n.finish());
            }
            FieldValue::Dests(d) => {
                o.num("number_of_dests", d.len() as u64);
                let arr = array(o, d.iter().map(|x| x as &dyn Visit), self.cx);
                o.raw(name, &arr);
            }
            FieldValue::Unsuccess(u) => {
                o.num("no_unsuccess", u.len() as u64);
                let arr = array(o, u.iter().map(|x| x as &dyn Visit), self.cx);
                o.raw(name, &arr);
            }
            FieldValue::Tlvs(t) => {
                let arr = tlvs_json(o, t, self.cx);
                o.raw(name, &arr);
            }
            FieldValue::RawTlv { malformed, value } => {
                if malformed {
                    o.bool("malformed", true);
                }
                o.str(name, &hex(value));
            }
        }
    }
}

fn array<'i>(o: &Object, items: impl Iterator<Item = &'i dyn Visit>, cx: Context) -> String {
    let mut arr = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            arr.push(',');
        }
        let mut e = o.nested();
        item.visit_fields(&mut Writer { o: &mut e, cx });
        arr.push_str(&e.finish());
    }
    arr.push(']');
    arr
}

/// Each TLV as its fields, then (for a typed one) `hex`, its value octets.
fn tlvs_json(o: &Object, tlvs: &[Tlv<'_>], cx: Context) -> String {
    let mut arr = String::from("[");
    for (i, t) in tlvs.iter().enumerate() {
        if i > 0 {
            arr.push(',');
        }
        let mut e = o.nested();
        t.visit_fields(&mut Writer { o: &mut e, cx });
        if !matches!(t, Tlv::Other(_)) {
            let mut value = Vec::new();
            if t.encode(&mut value).is_ok() {
                e.str("hex", &hex(value.get(4..).unwrap_or(&[])));
            }
        }
        arr.push_str(&e.finish());
    }
    arr.push(']');
    arr
}

/// `<key>_udh` (with UDHI set) and `<key>_text` (when `data_coding` names a text
/// encoding) of user data.
fn message_members(o: &mut Object, key: &str, b: &[u8], cx: Context) {
    let mut body = b;
    if cx.esm_class & 0x40 != 0 {
        if let Some((&udhl, rest)) = b.split_first() {
            if let Some(udh) = rest.get(..usize::from(udhl)) {
                o.raw(&format!("{key}_udh"), &udh_object(udh, b));
                body = &rest[usize::from(udhl)..];
            }
        }
    }
    let config = TextConfig::default();
    let encoding = match config.encoding_of(cx.data_coding) {
        Some(Encoding::Binary) | None => return,
        Some(e) => e,
    };
    // Packed GSM after a UDH starts on a septet boundary; other encodings decode as is.
    let text = if encoding == Encoding::Gsm7Packed && body.len() < b.len() {
        let udh_bits = (b.len() - body.len()) * 8;
        let fill = ((7 - udh_bits % 7) % 7) as u8;
        let count = (b.len() * 8 - udh_bits - usize::from(fill)) / 7;
        Ok(text::decode_gsm_unpacked(&text::unpack_septets(
            body, count, fill,
        )))
    } else {
        text::decode(body, encoding)
    };
    if let Ok(t) = text {
        o.str(&format!("{key}_text"), &t);
    }
}

/// A user data header: `hex` (UDHL included), its information `elements` and, when it
/// holds one, the `concat` position.
fn udh_object(udh: &[u8], whole: &[u8]) -> String {
    let mut o = Object::new();
    o.str("hex", &hex(&whole[..=udh.len()]));
    let mut arr = String::from("[");
    let mut i = 0;
    while i + 2 <= udh.len() {
        let (iei, len) = (udh[i], usize::from(udh[i + 1]));
        let Some(data) = udh.get(i + 2..i + 2 + len) else {
            break;
        };
        if i > 0 {
            arr.push(',');
        }
        let mut e = Object::new();
        e.num("iei", u64::from(iei)).str("data", &hex(data));
        arr.push_str(&e.finish());
        i += 2 + len;
    }
    arr.push(']');
    o.raw("elements", &arr);
    if let Some((s, _)) = concat::parse_udh(whole) {
        let mut c = Object::new();
        c.num("reference", u64::from(s.reference))
            .num("total", u64::from(s.total))
            .num("seq", u64::from(s.seq));
        o.raw("concat", &c.finish());
    }
    o.finish()
}

/// One PDU as a JSON object: header members, then every body field and `tlvs`.
pub fn pdu_object(pdu: &Pdu<'_>) -> String {
    let mut o = Object::new();
    header_members(&mut o, pdu);
    body_members(&mut o, &pdu.body);
    o.finish()
}

/// A decode error as a JSON object: `{"error":..., "field":..., "command_status":...}`,
/// with the `command_status` a peer would answer with.
pub fn decode_error_object(e: &DecodeError) -> String {
    let mut o = Object::new();
    o.str("error", &e.to_string())
        .str("field", e.field())
        .str("command_status", &status_name(e.command_status()))
        .str(
            "command_status_value",
            &format!("0x{:08x}", e.command_status().0),
        )
        .bool("fatal", e.is_fatal());
    o.finish()
}

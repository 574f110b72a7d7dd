//! Hand-written JSON for PDUs: one object per PDU, fields under their spec names.
//!
//! C-octet strings are JSON strings (lossy UTF-8), octet strings (`short_message`, TLV
//! values) are lower-case hex, integers are numbers, `command_id` and `command_status` are
//! their spec names (or hex when unnamed). Passwords are never written, except by
//! [`Object::exact`] objects.
//!
//! ```
//! use smpp_pdu::{Pdu, SubmitSm};
//!
//! let pdu = Pdu::new(7, SubmitSm { short_message: "Hi".into(), ..Default::default() });
//! let json = smpp_smsc::json::pdu_object(&pdu);
//! assert!(json.starts_with(r#"{"command":"submit_sm","command_id":"0x00000004""#));
//! assert!(json.contains(r#""short_message":"4869""#));
//! ```

use std::fmt::Write as _;

use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    Body, COctetString, CommandId, CommandStatus, DecodeError, DestAddress, OctetString, Password,
    Pdu,
};

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

/// The TLVs as a JSON array of `{"tag":"0x001e","name":"receipted_message_id","value":"hex"}`.
pub fn tlvs_array(tlvs: &[Tlv<'_>]) -> String {
    let mut out = String::from("[");
    for (i, t) in tlvs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut value = Vec::new();
        let value = match t {
            Tlv::Other(raw) => hex(raw.value.as_bytes()),
            t => match t.encode(&mut value) {
                Ok(()) => hex(value.get(4..).unwrap_or(&[])),
                Err(_) => String::new(),
            },
        };
        let mut o = Object::new();
        o.str("tag", &format!("0x{:04x}", t.tag().0))
            .str("name", t.name())
            .str("value", &value);
        out.push_str(&o.finish());
    }
    out.push(']');
    out
}

macro_rules! put {
    ($o:ident, $b:ident; $($kind:ident $f:ident),* $(,)?) => {
        $( put!(@one $o, $b, $kind $f); )*
        $o.raw("tlvs", &tlvs_array(&$b.tlvs));
    };
    (@one $o:ident, $b:ident, int $f:ident) => { $o.num(stringify!($f), u64::from($b.$f)); };
    (@one $o:ident, $b:ident, cstr $f:ident) => { $o.cstr(stringify!($f), &$b.$f); };
    (@one $o:ident, $b:ident, oct $f:ident) => { $o.octets(stringify!($f), &$b.$f); };
}

/// Adds the header members (`command`, `command_id`, `command_status`, `sequence_number`).
pub fn header_members(o: &mut Object, pdu: &Pdu<'_>) {
    let id = pdu.command_id();
    o.str("command", &command_name(id))
        .str("command_id", &format!("0x{:08x}", id.0))
        .str("command_status", &status_name(pdu.command_status))
        .num("sequence_number", u64::from(pdu.sequence_number));
}

/// Adds every body field of `body` under its spec name, then `tlvs`. Passwords are
/// written as `"password":"***"` when set, never in clear, unless `o` reveals them
/// ([`Object::reveal_passwords`]).
pub fn body_members(o: &mut Object, body: &Body<'_>) {
    match body {
        Body::BindTransmitter(b) => {
            bind_members(o, &b.system_id, &b.password);
            put!(o, b; cstr system_type, int interface_version, int addr_ton, int addr_npi, cstr address_range);
        }
        Body::BindReceiver(b) => {
            bind_members(o, &b.system_id, &b.password);
            put!(o, b; cstr system_type, int interface_version, int addr_ton, int addr_npi, cstr address_range);
        }
        Body::BindTransceiver(b) => {
            bind_members(o, &b.system_id, &b.password);
            put!(o, b; cstr system_type, int interface_version, int addr_ton, int addr_npi, cstr address_range);
        }
        Body::BindTransmitterResp(b) => {
            put!(o, b; cstr system_id);
        }
        Body::BindReceiverResp(b) => {
            put!(o, b; cstr system_id);
        }
        Body::BindTransceiverResp(b) => {
            put!(o, b; cstr system_id);
        }
        Body::Outbind(b) => {
            bind_members(o, &b.system_id, &b.password);
            put!(o, b;);
        }
        Body::Unbind(b) => {
            put!(o, b;);
        }
        Body::UnbindResp(b) => {
            put!(o, b;);
        }
        Body::EnquireLink(b) => {
            put!(o, b;);
        }
        Body::EnquireLinkResp(b) => {
            put!(o, b;);
        }
        Body::GenericNack(b) => {
            put!(o, b;);
        }
        Body::CancelSmResp(b) => {
            put!(o, b;);
        }
        Body::ReplaceSmResp(b) => {
            put!(o, b;);
        }
        Body::CancelBroadcastSmResp(b) => {
            put!(o, b;);
        }
        Body::SubmitSm(b) => {
            put!(o, b; cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
                int dest_addr_ton, int dest_addr_npi, cstr destination_addr, int esm_class,
                int protocol_id, int priority_flag, cstr schedule_delivery_time,
                cstr validity_period, int registered_delivery, int replace_if_present_flag,
                int data_coding, int sm_default_msg_id, oct short_message);
        }
        Body::DeliverSm(b) => {
            put!(o, b; cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
                int dest_addr_ton, int dest_addr_npi, cstr destination_addr, int esm_class,
                int protocol_id, int priority_flag, cstr schedule_delivery_time,
                cstr validity_period, int registered_delivery, int replace_if_present_flag,
                int data_coding, int sm_default_msg_id, oct short_message);
        }
        Body::SubmitSmResp(b) => {
            put!(o, b; cstr message_id);
        }
        Body::DeliverSmResp(b) => {
            put!(o, b; cstr message_id);
        }
        Body::DataSmResp(b) => {
            put!(o, b; cstr message_id);
        }
        Body::BroadcastSmResp(b) => {
            put!(o, b; cstr message_id);
        }
        Body::QueryBroadcastSmResp(b) => {
            put!(o, b; cstr message_id);
        }
        Body::SubmitMulti(b) => {
            let dests = dests_array(o, &b.dest_addresses);
            o.cstr("service_type", &b.service_type)
                .num("source_addr_ton", u64::from(b.source_addr_ton))
                .num("source_addr_npi", u64::from(b.source_addr_npi))
                .cstr("source_addr", &b.source_addr)
                .num("number_of_dests", b.dest_addresses.len() as u64)
                .raw("dest_addresses", &dests);
            put!(o, b; int esm_class, int protocol_id, int priority_flag,
                cstr schedule_delivery_time, cstr validity_period, int registered_delivery,
                int replace_if_present_flag, int data_coding, int sm_default_msg_id,
                oct short_message);
        }
        Body::SubmitMultiResp(b) => {
            o.cstr("message_id", &b.message_id)
                .num("no_unsuccess", b.unsuccess_smes.len() as u64);
            let mut arr = String::from("[");
            for (i, u) in b.unsuccess_smes.iter().enumerate() {
                if i > 0 {
                    arr.push(',');
                }
                let mut e = o.nested();
                e.num("dest_addr_ton", u64::from(u.dest_addr_ton))
                    .num("dest_addr_npi", u64::from(u.dest_addr_npi))
                    .cstr("destination_addr", &u.destination_addr)
                    .str("error_status_code", &status_name(u.error_status_code));
                arr.push_str(&e.finish());
            }
            arr.push(']');
            o.raw("unsuccess_smes", &arr);
            put!(o, b;);
        }
        Body::DataSm(b) => {
            put!(o, b; cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
                int dest_addr_ton, int dest_addr_npi, cstr destination_addr, int esm_class,
                int registered_delivery, int data_coding);
        }
        Body::QuerySm(b) => {
            put!(o, b; cstr message_id, int source_addr_ton, int source_addr_npi, cstr source_addr);
        }
        Body::QuerySmResp(b) => {
            put!(o, b; cstr message_id, cstr final_date, int message_state, int error_code);
        }
        Body::CancelSm(b) => {
            put!(o, b; cstr service_type, cstr message_id, int source_addr_ton, int source_addr_npi,
                cstr source_addr, int dest_addr_ton, int dest_addr_npi, cstr destination_addr);
        }
        Body::ReplaceSm(b) => {
            put!(o, b; cstr message_id, int source_addr_ton, int source_addr_npi, cstr source_addr,
                cstr schedule_delivery_time, cstr validity_period, int registered_delivery,
                int sm_default_msg_id, oct short_message);
        }
        Body::AlertNotification(b) => {
            put!(o, b; int source_addr_ton, int source_addr_npi, cstr source_addr,
                int esme_addr_ton, int esme_addr_npi, cstr esme_addr);
        }
        Body::BroadcastSm(b) => {
            put!(o, b; cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
                cstr message_id, int priority_flag, cstr schedule_delivery_time,
                cstr validity_period, int replace_if_present_flag, int data_coding,
                int sm_default_msg_id);
        }
        Body::QueryBroadcastSm(b) => {
            put!(o, b; cstr message_id, int source_addr_ton, int source_addr_npi, cstr source_addr);
        }
        Body::CancelBroadcastSm(b) => {
            put!(o, b; cstr service_type, cstr message_id, int source_addr_ton, int source_addr_npi,
                cstr source_addr);
        }
        Body::Unknown { body, .. } => {
            o.octets("body", body);
        }
        // `Body` is non-exhaustive: a body type added later is written as its debug form.
        #[allow(unreachable_patterns)]
        other => {
            o.str("debug", &format!("{other:?}"));
        }
    }
}

fn bind_members(o: &mut Object, system_id: &COctetString<'_>, password: &Password<'_>) {
    o.cstr("system_id", system_id);
    if o.reveal_passwords {
        o.cstr("password", &password.0);
    } else {
        o.str(
            "password",
            if password.expose().is_empty() {
                ""
            } else {
                "***"
            },
        );
    }
}

fn dests_array(o: &Object, dests: &[DestAddress<'_>]) -> String {
    let mut arr = String::from("[");
    for (i, d) in dests.iter().enumerate() {
        if i > 0 {
            arr.push(',');
        }
        let mut e = o.nested();
        match d {
            DestAddress::SmeAddress {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr,
            } => {
                e.num("dest_flag", 1)
                    .num("dest_addr_ton", u64::from(*dest_addr_ton))
                    .num("dest_addr_npi", u64::from(*dest_addr_npi))
                    .cstr("destination_addr", destination_addr);
            }
            DestAddress::DistributionList { dl_name } => {
                e.num("dest_flag", 2).cstr("dl_name", dl_name);
            }
        }
        arr.push_str(&e.finish());
    }
    arr.push(']');
    arr
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

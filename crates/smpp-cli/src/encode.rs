//! `smpp encode`: JSON objects in (the format `smpp decode` prints), one hex line per PDU
//! out.
//!
//! Derived members (`command_length`, `number_of_dests`, `no_unsuccess`, a TLV's `name`)
//! and `decode`'s bookkeeping (`input`, `offset`) are ignored; the codec computes them.
//! Any other member the PDU type does not have is an error (a typo would otherwise be
//! dropped silently).
//! `command_status` defaults to `ESME_ROK` and `tlvs` to none; every other field of the
//! PDU's type must be present. A C-octet string is taken from `<field>_hex` when present
//! (what `decode` adds for octets that are not UTF-8), else from the JSON string.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::BufRead;
use std::process::ExitCode;

use crate::out::outln;
use clap::Args;
use serde_json::{Map, Value};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::*;
use smpp_smsc::json::Object;

/// Why one input could not be turned into a PDU.
#[derive(Debug)]
struct Failure {
    field: String,
    error: String,
}

fn fail(field: impl Into<String>, error: impl Into<String>) -> Failure {
    Failure {
        field: field.into(),
        error: error.into(),
    }
}

type Result<T> = std::result::Result<T, Failure>;

/// `smpp encode`: JSON lines (as `smpp decode` prints them) to hex.
#[derive(Args, Debug)]
pub(crate) struct EncodeArgs {
    /// JSON objects, one PDU each. None, or '-': one object per line on stdin (blank
    /// lines and lines starting with # are skipped).
    #[arg(value_name = "JSON")]
    inputs: Vec<String>,
}

/// Encodes every input (arguments, or stdin lines when there are none); exit 1 if any
/// input could not be encoded.
pub(crate) fn run(a: &EncodeArgs) -> ExitCode {
    let args = a.inputs.as_slice();
    let mut ok = true;
    if args.is_empty() || args == ["-"] {
        let stdin = std::io::stdin();
        for (n, line) in stdin.lock().lines().enumerate() {
            match line {
                Ok(line) if line.trim().is_empty() || line.trim_start().starts_with('#') => {}
                Ok(line) => ok &= encode_input(n + 1, &line),
                Err(e) => {
                    let mut o = Object::new();
                    o.str("error", &format!("cannot read stdin: {e}"));
                    outln!("{}", o.finish());
                    return ExitCode::FAILURE;
                }
            }
        }
    } else {
        for (n, arg) in args.iter().enumerate() {
            ok &= encode_input(n + 1, arg);
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Encodes one JSON object and prints its hex, or prints an error object; whether it
/// worked.
fn encode_input(input: usize, text: &str) -> bool {
    match encode_json(text) {
        Ok(bytes) => {
            outln!("{}", smpp_smsc::json::hex(&bytes));
            true
        }
        Err(f) => {
            let mut o = Object::new();
            o.num("input", input as u64)
                .str("error", &f.error)
                .str("field", &f.field);
            outln!("{}", o.finish());
            false
        }
    }
}

/// One JSON object to the PDU's octets.
fn encode_json(text: &str) -> Result<Vec<u8>> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| fail("", format!("invalid JSON: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(fail("", "expected a JSON object"));
    };
    let pdu = pdu(&Fields::new(&obj, ""))?;
    pdu.to_bytes().map_err(|e| fail(e.field(), e.to_string()))
}

/// The members of one JSON object, with the path used in error messages.
struct Fields<'v> {
    obj: &'v Map<String, Value>,
    prefix: String,
    /// The members looked at, so that a member nothing reads (a typo) is reported.
    used: RefCell<BTreeSet<String>>,
}

impl<'v> Fields<'v> {
    fn new(obj: &'v Map<String, Value>, prefix: &str) -> Self {
        Fields {
            obj,
            prefix: prefix.to_string(),
            used: RefCell::new(BTreeSet::new()),
        }
    }

    /// Whether the member is present (and marks it as read).
    fn has(&self, name: &str) -> bool {
        self.used.borrow_mut().insert(name.to_string());
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
        self.used.borrow_mut().insert(name.to_string());
        self.obj
            .get(name)
            .ok_or_else(|| fail(self.path(name), "missing field"))
    }

    fn string(&self, name: &str) -> Result<&'v str> {
        self.get(name)?
            .as_str()
            .ok_or_else(|| fail(self.path(name), "expected a string"))
    }

    fn uint(&self, name: &str, max: u64) -> Result<u64> {
        match self.get(name)?.as_u64() {
            Some(n) if n <= max => Ok(n),
            _ => Err(fail(
                self.path(name),
                format!("expected an integer from 0 to {max}"),
            )),
        }
    }

    fn int(&self, name: &str) -> Result<u8> {
        self.uint(name, 255).map(|n| n as u8)
    }

    /// A C-octet string: `<name>_hex` when present, else the string's UTF-8 octets.
    fn cstr(&self, name: &str) -> Result<COctetString<'static>> {
        let hex_name = format!("{name}_hex");
        if self.has(&hex_name) {
            // The string member is then the lossy form of the same octets.
            self.has(name);
            return Ok(COctetString::new(self.octets_raw(&hex_name)?));
        }
        Ok(COctetString::new(self.string(name)?.as_bytes().to_vec()))
    }

    fn octets_raw(&self, name: &str) -> Result<Vec<u8>> {
        parse_hex(self.string(name)?).map_err(|e| fail(self.path(name), e))
    }

    fn octets(&self, name: &str) -> Result<OctetString<'static>> {
        self.octets_raw(name).map(OctetString::new)
    }

    fn password(&self, name: &str) -> Result<Password<'static>> {
        self.cstr(name).map(Password)
    }

    fn status(&self, name: &str) -> Result<CommandStatus> {
        let s = self.string(name)?;
        match hex_u32(s) {
            Some(v) => Ok(CommandStatus(v)),
            None => CommandStatus::from_any_name(s)
                .ok_or_else(|| fail(self.path(name), format!("unknown status {s:?}"))),
        }
    }

    fn array(&self, name: &str) -> Result<Vec<Fields<'v>>> {
        let Value::Array(items) = self.get(name)? else {
            return Err(fail(self.path(name), "expected an array"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(o) => Ok(Fields::new(o, &format!("{}[{i}].", self.path(name)))),
                _ => Err(fail(
                    format!("{}[{i}]", self.path(name)),
                    "expected an object",
                )),
            })
            .collect()
    }

    /// The `tlvs` array (none when absent): each `{"tag":"0x1401","value":"hex"}`.
    fn tlvs(&self) -> Result<Vec<Tlv<'static>>> {
        if !self.has("tlvs") {
            return Ok(Vec::new());
        }
        self.array("tlvs")?
            .iter()
            .map(|t| {
                let tag_text = t.string("tag")?;
                let tag = hex_u32(tag_text)
                    .and_then(|v| u16::try_from(v).ok())
                    .ok_or_else(|| {
                        fail(
                            t.path("tag"),
                            format!("expected a 16-bit hex tag, got {tag_text:?}"),
                        )
                    })?;
                let value = t.octets_raw("value")?;
                if value.len() > usize::from(u16::MAX) {
                    return Err(fail(t.path("value"), "longer than 65535 octets"));
                }
                t.all_read(&["name"])?;
                // Typed where the value fits the tag's definition, raw otherwise: either way
                // the encoder writes these octets back.
                Ok(Tlv::decode(Tag(tag), &value).into_owned())
            })
            .collect()
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
    let named = match f.has("command") {
        true => {
            let s = f.string("command")?;
            Some(by_name(s).ok_or_else(|| fail("command", format!("unknown command {s:?}")))?)
        }
        false => None,
    };
    let numbered = match f.has("command_id") {
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

/// Builds a PDU struct from `kind field` pairs plus `tlvs`.
macro_rules! build {
    ($f:ident, $ty:ident { $($kind:ident $field:ident),* $(,)? }) => {
        Body::from($ty {
            $($field: build!(@get $f, $kind, $field),)*
            tlvs: $f.tlvs()?,
        })
    };
    (@get $f:ident, int, $field:ident) => { $f.int(stringify!($field))? };
    (@get $f:ident, cstr, $field:ident) => { $f.cstr(stringify!($field))? };
    (@get $f:ident, oct, $field:ident) => { $f.octets(stringify!($field))? };
    (@get $f:ident, pw, $field:ident) => { $f.password(stringify!($field))? };
    (@get $f:ident, dests, $field:ident) => { dests(&$f)? };
    (@get $f:ident, unsuccess, $field:ident) => { unsuccess(&$f)? };
}

fn dests(f: &Fields<'_>) -> Result<Vec<DestAddress<'static>>> {
    f.array("dest_addresses")?
        .iter()
        .map(|d| match d.int("dest_flag")? {
            1 => {
                let dest = DestAddress::SmeAddress {
                    dest_addr_ton: d.int("dest_addr_ton")?,
                    dest_addr_npi: d.int("dest_addr_npi")?,
                    destination_addr: d.cstr("destination_addr")?,
                };
                d.all_read(&[])?;
                Ok(dest)
            }
            2 => {
                let dl_name = d.cstr("dl_name")?;
                d.all_read(&[])?;
                Ok(DestAddress::DistributionList { dl_name })
            }
            _ => Err(fail(d.path("dest_flag"), "expected 1 (SME) or 2 (list)")),
        })
        .collect()
}

fn unsuccess(f: &Fields<'_>) -> Result<Vec<UnsuccessSme<'static>>> {
    f.array("unsuccess_smes")?
        .iter()
        .map(|u| {
            let sme = UnsuccessSme {
                dest_addr_ton: u.int("dest_addr_ton")?,
                dest_addr_npi: u.int("dest_addr_npi")?,
                destination_addr: u.cstr("destination_addr")?,
                error_status_code: u.status("error_status_code")?,
            };
            u.all_read(&[])?;
            Ok(sme)
        })
        .collect()
}

fn pdu(f: &Fields<'_>) -> Result<Pdu<'static>> {
    if f.has("error") {
        return Err(fail(
            "error",
            "this is an error line from `smpp decode`, not a PDU",
        ));
    }
    let id = command_id(f)?;
    let command_status = if f.has("command_status") {
        f.status("command_status")?
    } else {
        CommandStatus::ESME_ROK
    };
    let sequence_number = f.uint("sequence_number", u64::from(u32::MAX))? as u32;
    let body = body(f, id)?;
    f.all_read(&[
        "input",
        "offset",
        "command_length",
        "number_of_dests",
        "no_unsuccess",
    ])?;
    Ok(Pdu {
        command_status,
        sequence_number,
        body,
    })
}

fn body(f: &Fields<'_>, id: CommandId) -> Result<Body<'static>> {
    Ok(match id {
        BindTransmitter::COMMAND_ID => build!(f, BindTransmitter {
            cstr system_id, pw password, cstr system_type, int interface_version,
            int addr_ton, int addr_npi, cstr address_range
        }),
        BindReceiver::COMMAND_ID => build!(f, BindReceiver {
            cstr system_id, pw password, cstr system_type, int interface_version,
            int addr_ton, int addr_npi, cstr address_range
        }),
        BindTransceiver::COMMAND_ID => build!(f, BindTransceiver {
            cstr system_id, pw password, cstr system_type, int interface_version,
            int addr_ton, int addr_npi, cstr address_range
        }),
        BindTransmitterResp::COMMAND_ID => build!(f, BindTransmitterResp { cstr system_id }),
        BindReceiverResp::COMMAND_ID => build!(f, BindReceiverResp { cstr system_id }),
        BindTransceiverResp::COMMAND_ID => build!(f, BindTransceiverResp { cstr system_id }),
        Outbind::COMMAND_ID => build!(f, Outbind { cstr system_id, pw password }),
        Unbind::COMMAND_ID => build!(f, Unbind {}),
        UnbindResp::COMMAND_ID => build!(f, UnbindResp {}),
        EnquireLink::COMMAND_ID => build!(f, EnquireLink {}),
        EnquireLinkResp::COMMAND_ID => build!(f, EnquireLinkResp {}),
        GenericNack::COMMAND_ID => build!(f, GenericNack {}),
        CancelSmResp::COMMAND_ID => build!(f, CancelSmResp {}),
        ReplaceSmResp::COMMAND_ID => build!(f, ReplaceSmResp {}),
        CancelBroadcastSmResp::COMMAND_ID => build!(f, CancelBroadcastSmResp {}),
        SubmitSm::COMMAND_ID => build!(f, SubmitSm {
            cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
            int dest_addr_ton, int dest_addr_npi, cstr destination_addr, int esm_class,
            int protocol_id, int priority_flag, cstr schedule_delivery_time,
            cstr validity_period, int registered_delivery, int replace_if_present_flag,
            int data_coding, int sm_default_msg_id, oct short_message
        }),
        DeliverSm::COMMAND_ID => build!(f, DeliverSm {
            cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
            int dest_addr_ton, int dest_addr_npi, cstr destination_addr, int esm_class,
            int protocol_id, int priority_flag, cstr schedule_delivery_time,
            cstr validity_period, int registered_delivery, int replace_if_present_flag,
            int data_coding, int sm_default_msg_id, oct short_message
        }),
        SubmitSmResp::COMMAND_ID => build!(f, SubmitSmResp { cstr message_id }),
        DeliverSmResp::COMMAND_ID => build!(f, DeliverSmResp { cstr message_id }),
        DataSmResp::COMMAND_ID => build!(f, DataSmResp { cstr message_id }),
        BroadcastSmResp::COMMAND_ID => build!(f, BroadcastSmResp { cstr message_id }),
        QueryBroadcastSmResp::COMMAND_ID => build!(f, QueryBroadcastSmResp { cstr message_id }),
        SubmitMulti::COMMAND_ID => build!(f, SubmitMulti {
            cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
            dests dest_addresses, int esm_class, int protocol_id, int priority_flag,
            cstr schedule_delivery_time, cstr validity_period, int registered_delivery,
            int replace_if_present_flag, int data_coding, int sm_default_msg_id,
            oct short_message
        }),
        SubmitMultiResp::COMMAND_ID => build!(f, SubmitMultiResp {
            cstr message_id, unsuccess unsuccess_smes
        }),
        DataSm::COMMAND_ID => build!(f, DataSm {
            cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
            int dest_addr_ton, int dest_addr_npi, cstr destination_addr, int esm_class,
            int registered_delivery, int data_coding
        }),
        QuerySm::COMMAND_ID => build!(f, QuerySm {
            cstr message_id, int source_addr_ton, int source_addr_npi, cstr source_addr
        }),
        QuerySmResp::COMMAND_ID => build!(f, QuerySmResp {
            cstr message_id, cstr final_date, int message_state, int error_code
        }),
        CancelSm::COMMAND_ID => build!(f, CancelSm {
            cstr service_type, cstr message_id, int source_addr_ton, int source_addr_npi,
            cstr source_addr, int dest_addr_ton, int dest_addr_npi, cstr destination_addr
        }),
        ReplaceSm::COMMAND_ID => build!(f, ReplaceSm {
            cstr message_id, int source_addr_ton, int source_addr_npi, cstr source_addr,
            cstr schedule_delivery_time, cstr validity_period, int registered_delivery,
            int sm_default_msg_id, oct short_message
        }),
        AlertNotification::COMMAND_ID => build!(f, AlertNotification {
            int source_addr_ton, int source_addr_npi, cstr source_addr,
            int esme_addr_ton, int esme_addr_npi, cstr esme_addr
        }),
        BroadcastSm::COMMAND_ID => build!(f, BroadcastSm {
            cstr service_type, int source_addr_ton, int source_addr_npi, cstr source_addr,
            cstr message_id, int priority_flag, cstr schedule_delivery_time,
            cstr validity_period, int replace_if_present_flag, int data_coding,
            int sm_default_msg_id
        }),
        QueryBroadcastSm::COMMAND_ID => build!(f, QueryBroadcastSm {
            cstr message_id, int source_addr_ton, int source_addr_npi, cstr source_addr
        }),
        CancelBroadcastSm::COMMAND_ID => build!(f, CancelBroadcastSm {
            cstr service_type, cstr message_id, int source_addr_ton, int source_addr_npi,
            cstr source_addr
        }),
        command_id => {
            if f.has("tlvs") {
                return Err(fail(
                    "tlvs",
                    "an unknown command carries its TLVs inside `body`",
                ));
            }
            Body::Unknown {
                command_id,
                body: f.octets("body")?,
            }
        }
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

//! The message fields `send`, `submit-multi` and `data-sm` share as flags, and their value
//! parsers: [`PduFields`] for what every message PDU carries, [`StoreFields`] for what
//! only `submit_sm` and `submit_multi` carry.

use clap::Args;
use smpp_pdu::address::{classify, Npi, Ton};
use smpp_pdu::time::{RelativeTime, SmppTime};
use smpp_pdu::{Tag, Tlv};

/// Fields of every message PDU (`submit_sm`, `submit_multi`, `data_sm`).
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Message fields")]
pub(crate) struct PduFields {
    /// service_type (at most 5 characters: CMT, WAP, ...).
    #[arg(long, value_name = "TYPE", value_parser = service_type)]
    pub(crate) service_type: Option<String>,
    /// data_coding to send instead of the one the text's encoding maps to (decimal or
    /// 0x..).
    #[arg(long, value_name = "N", value_parser = byte)]
    pub(crate) data_coding: Option<u8>,
    /// esm_class bits to set (decimal or 0x..).
    #[arg(long, value_name = "N", value_parser = byte)]
    pub(crate) esm_class: Option<u8>,
    /// TON of each --to; with it (or --dest-npi) the address goes exactly as given.
    #[arg(long, value_name = "N", value_parser = byte)]
    pub(crate) dest_ton: Option<u8>,
    /// NPI of each --to (see --dest-ton).
    #[arg(long, value_name = "N", value_parser = byte)]
    pub(crate) dest_npi: Option<u8>,
    /// A TLV to add, TAG=HEX: the tag by name (user_message_reference) or number (0x1401,
    /// 5121), the value in hex. Repeatable.
    #[arg(long = "tlv", value_name = "TAG=HEX", value_parser = tlv)]
    pub(crate) tlvs: Vec<Tlv<'static>>,
}

/// Fields only `submit_sm` and `submit_multi` carry.
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Message fields")]
pub(crate) struct StoreFields {
    /// validity_period: a relative time (30s, 10m, 2h, 3d) or an SMPP time of 16
    /// characters (YYMMDDhhmmsstnnp, e.g. 261231235959000+ or 000001000000000R).
    #[arg(long, value_name = "TIME", value_parser = smpp_time)]
    pub(crate) validity: Option<SmppTime>,
    /// schedule_delivery_time, written as for --validity.
    #[arg(long, value_name = "TIME", value_parser = smpp_time)]
    pub(crate) schedule: Option<SmppTime>,
    /// priority_flag (0 lowest to 3; SMPP 5.0 allows 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    pub(crate) priority: Option<u8>,
    /// protocol_id (GSM TP-PID; decimal or 0x..).
    #[arg(long, value_name = "N", value_parser = byte)]
    pub(crate) protocol_id: Option<u8>,
}

impl StoreFields {
    /// --validity and --schedule as the PDU's octets (empty when not given).
    pub(crate) fn times(&self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let f = |t: &Option<SmppTime>, flag: &str| match t {
            Some(t) => t
                .format()
                .map(|b| b.to_vec())
                .map_err(|e| format!("{flag}: {e}")),
            None => Ok(Vec::new()),
        };
        Ok((
            f(&self.validity, "--validity")?,
            f(&self.schedule, "--schedule")?,
        ))
    }
}

/// An address with its TON/NPI: as given when both are set, else classified (`+` digits
/// as international, letters as alphanumeric, digits as `digits`), a TON or NPI given
/// winning over the classified one.
pub(crate) fn address(
    a: &str,
    ton: Option<u8>,
    npi: Option<u8>,
    digits: (Ton, Npi),
) -> Result<(u8, u8, String), String> {
    if let (Some(t), Some(n)) = (ton, npi) {
        return Ok((t, n, a.to_string()));
    }
    if a.is_empty() {
        return Ok((ton.unwrap_or(0), npi.unwrap_or(0), String::new()));
    }
    let c = classify(a, digits).map_err(|e| e.to_string())?;
    Ok((
        ton.unwrap_or(c.ton.0),
        npi.unwrap_or(c.npi.0),
        c.addr.to_string(),
    ))
}

/// A value parser for --validity and --schedule: `30s`, `10m`, `2h`, `3d` (relative), or
/// a 16-character SMPP time.
pub(crate) fn smpp_time(v: &str) -> Result<SmppTime, String> {
    if v.len() == 16 {
        return match SmppTime::parse(v.as_bytes()) {
            Ok(Some(t)) => Ok(t),
            Ok(None) => Err("an empty time".into()),
            Err(e) => Err(e.to_string()),
        };
    }
    let (num, unit) = v.split_at(v.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len());
    let n: u64 = num
        .parse()
        .map_err(|_| "expected 30s, 10m, 2h, 3d or a 16-character SMPP time".to_string())?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        other => return Err(format!("unknown unit {other:?}: use s, m, h or d")),
    };
    RelativeTime::from_seconds(secs)
        .map(SmppTime::Relative)
        .ok_or_else(|| "longer than a relative SMPP time holds (99 years)".into())
}

/// A value parser for --service-type: at most 5 characters.
pub(crate) fn service_type(v: &str) -> Result<String, String> {
    if v.len() > 5 {
        return Err("at most 5 characters".into());
    }
    Ok(v.to_string())
}

/// A value parser for an octet in decimal or `0x` hexadecimal.
pub(crate) fn byte(v: &str) -> Result<u8, String> {
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u8::from_str_radix(h, 16),
        None => v.parse(),
    };
    parsed.map_err(|e| e.to_string())
}

/// Hex octets (`48656c6c6f`; spaces and a leading 0x allowed).
pub(crate) fn hex(v: &str) -> Result<Vec<u8>, String> {
    let digits: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .unwrap_or(&digits);
    if digits.len() % 2 != 0 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{v:?} is not hex octets"));
    }
    Ok((0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap_or(0))
        .collect())
}

/// Octets given in hex on the command line (a type of its own: clap would take a
/// `Vec<u8>` for a list of numbers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Octets(pub(crate) Vec<u8>);

/// A value parser for --hex: hex octets.
pub(crate) fn octets(v: &str) -> Result<Octets, String> {
    hex(v).map(Octets)
}

/// A value parser for --udh: a user data header in hex, its length octet (UDHL) first
/// and matching the rest (`050003cc0201`).
pub(crate) fn udh(v: &str) -> Result<Octets, String> {
    let octets = hex(v)?;
    match octets.first() {
        None => Err("an empty UDH".into()),
        Some(&l) if usize::from(l) + 1 != octets.len() => Err(format!(
            "the length octet says {l}, but {} octet(s) follow it",
            octets.len() - 1
        )),
        Some(_) => Ok(Octets(octets)),
    }
}

/// A value parser for --tlv TAG=HEX.
pub(crate) fn tlv(v: &str) -> Result<Tlv<'static>, String> {
    let (tag, value) = v
        .split_once('=')
        .ok_or_else(|| "expected TAG=HEX (user_message_reference=002a, 0x1401=ff)".to_string())?;
    let tag = match tag.strip_prefix("0x").or_else(|| tag.strip_prefix("0X")) {
        Some(h) => u16::from_str_radix(h, 16)
            .map(Tag)
            .map_err(|e| e.to_string())?,
        None => match tag.parse::<u16>() {
            Ok(n) => Tag(n),
            Err(_) => Tag::from_name(tag).ok_or_else(|| format!("unknown TLV name {tag:?}"))?,
        },
    };
    if value.len() % 2 != 0 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("the value {value:?} is not hex octets"));
    }
    let value = hex(value)?;
    if value.len() > usize::from(u16::MAX) {
        return Err("the value is longer than a TLV holds".into());
    }
    Ok(Tlv::decode(tag, &value).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_tlvs_bytes_and_hex_parse() {
        assert_eq!(
            smpp_time("10m").unwrap(),
            SmppTime::Relative(RelativeTime::from_seconds(600).unwrap())
        );
        assert!(smpp_time("261231235959000+").is_ok());
        assert!(smpp_time("10y").unwrap_err().contains("unknown unit"));
        assert!(smpp_time("soon").is_err());
        assert_eq!(byte("0x40").unwrap(), 0x40);
        assert_eq!(byte("3").unwrap(), 3);
        assert!(byte("300").is_err());
        assert_eq!(tlv("0x1401=ff").unwrap().tag(), Tag(0x1401));
        assert_eq!(
            tlv("user_message_reference=002a").unwrap(),
            Tlv::UserMessageReference(42)
        );
        assert!(tlv("user_message_reference=2a2").is_err());
        assert!(tlv("nonsense=00").unwrap_err().contains("unknown TLV name"));
        assert!(tlv("0x1401").is_err());
        assert_eq!(hex("0x00ff 10").unwrap(), vec![0, 0xff, 0x10]);
        assert!(hex("abc").is_err());
        assert!(hex("zz").is_err());
        assert_eq!(udh("050003cc0201").unwrap().0.len(), 6);
        assert!(udh("050003cc02").unwrap_err().contains("length octet"));
        assert!(udh("").is_err());
    }

    #[test]
    fn addresses_take_the_given_ton_and_npi() {
        let d = (Ton::UNKNOWN, Npi::ISDN);
        assert_eq!(
            address("+4477", None, None, d).unwrap(),
            (1, 1, "4477".into())
        );
        assert_eq!(
            address("4477", None, None, d).unwrap(),
            (0, 1, "4477".into())
        );
        assert_eq!(
            address("+44", Some(2), Some(8), d).unwrap(),
            (2, 8, "+44".into())
        );
        assert_eq!(address("", None, None, d).unwrap(), (0, 0, String::new()));
    }
}

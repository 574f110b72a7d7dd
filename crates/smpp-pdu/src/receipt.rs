//! Delivery receipts (reference §9): parse the `short_message` text that SMSCs send in a
//! `deliver_sm` (or `data_sm`) with esm_class message type `0x04`, merge the
//! `receipted_message_id`, `message_state` and `network_error_code` TLVs (which win when
//! both exist), format receipts for a test SMSC, and match message ids across the
//! hexadecimal/decimal mismatch many SMSCs have between `submit_sm_resp` and receipts.
//!
//! The text parser is a case-insensitive `key:value` scan, so field order, key case,
//! missing keys, extra keys and free text after `text:` are all accepted.

use std::fmt;

use crate::pdu::{DataSm, DeliverSm};
use crate::tlv::{NetworkErrorCode, Tlv};

/// The final (or intermediate) state a receipt reports (`stat:` and `message_state`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReceiptState {
    /// `SCHEDULED` (5.0 `message_state` 0).
    Scheduled,
    /// `ENROUTE` (1).
    Enroute,
    /// `DELIVRD` (2).
    Delivered,
    /// `EXPIRED` (3).
    Expired,
    /// `DELETED` (4).
    Deleted,
    /// `UNDELIV` (5).
    Undeliverable,
    /// `ACCEPTD` (6).
    Accepted,
    /// `UNKNOWN` (7).
    Unknown,
    /// `REJECTD` (8).
    Rejected,
    /// `SKIPPED` (5.0 `message_state` 9).
    Skipped,
    /// A `stat:` word no specification defines, kept as sent.
    Other(String),
}

impl ReceiptState {
    /// The state of a `message_state` value (reference §7.7).
    pub fn from_message_state(v: u8) -> ReceiptState {
        match v {
            0 => ReceiptState::Scheduled,
            1 => ReceiptState::Enroute,
            2 => ReceiptState::Delivered,
            3 => ReceiptState::Expired,
            4 => ReceiptState::Deleted,
            5 => ReceiptState::Undeliverable,
            6 => ReceiptState::Accepted,
            8 => ReceiptState::Rejected,
            9 => ReceiptState::Skipped,
            _ => ReceiptState::Unknown,
        }
    }

    /// The `message_state` value, `None` for [`ReceiptState::Other`].
    pub fn message_state(&self) -> Option<u8> {
        Some(match self {
            ReceiptState::Scheduled => 0,
            ReceiptState::Enroute => 1,
            ReceiptState::Delivered => 2,
            ReceiptState::Expired => 3,
            ReceiptState::Deleted => 4,
            ReceiptState::Undeliverable => 5,
            ReceiptState::Accepted => 6,
            ReceiptState::Unknown => 7,
            ReceiptState::Rejected => 8,
            ReceiptState::Skipped => 9,
            ReceiptState::Other(_) => return None,
        })
    }

    /// Parses a `stat:` word (case-insensitive; long forms such as `DELIVERED` accepted).
    pub fn from_stat(word: &str) -> ReceiptState {
        let w = word.trim().to_ascii_uppercase();
        match w.as_str() {
            "SCHEDULED" => ReceiptState::Scheduled,
            "ENROUTE" => ReceiptState::Enroute,
            "DELIVRD" | "DELIVERED" => ReceiptState::Delivered,
            "EXPIRED" => ReceiptState::Expired,
            "DELETED" => ReceiptState::Deleted,
            "UNDELIV" | "UNDELIVERABLE" => ReceiptState::Undeliverable,
            "ACCEPTD" | "ACCEPTED" => ReceiptState::Accepted,
            "UNKNOWN" => ReceiptState::Unknown,
            "REJECTD" | "REJECTED" => ReceiptState::Rejected,
            "SKIPPED" => ReceiptState::Skipped,
            _ => ReceiptState::Other(word.trim().to_string()),
        }
    }

    /// The seven-character `stat:` word.
    pub fn stat(&self) -> &str {
        match self {
            ReceiptState::Scheduled => "SCHEDULED",
            ReceiptState::Enroute => "ENROUTE",
            ReceiptState::Delivered => "DELIVRD",
            ReceiptState::Expired => "EXPIRED",
            ReceiptState::Deleted => "DELETED",
            ReceiptState::Undeliverable => "UNDELIV",
            ReceiptState::Accepted => "ACCEPTD",
            ReceiptState::Unknown => "UNKNOWN",
            ReceiptState::Rejected => "REJECTD",
            ReceiptState::Skipped => "SKIPPED",
            ReceiptState::Other(s) => s,
        }
    }

    /// Whether the message reached a final state (everything but scheduled and en route).
    pub fn is_final(&self) -> bool {
        !matches!(self, ReceiptState::Scheduled | ReceiptState::Enroute)
    }
}

impl fmt::Display for ReceiptState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stat())
    }
}

/// A receipt date: `YYMMDDhhmm` or `YYMMDDhhmmss`, in the SMSC's local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReceiptDate {
    /// Four-digit year (2000 + YY).
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59 when the SMSC sent 12 digits.
    pub second: Option<u8>,
}

impl ReceiptDate {
    /// Parses 10 or 12 digits; `None` otherwise or when a part is out of range.
    pub fn parse(s: &str) -> Option<ReceiptDate> {
        let b = s.trim().as_bytes();
        if !(b.len() == 10 || b.len() == 12) || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
        let d = ReceiptDate {
            year: 2000 + n(0) as u16,
            month: n(2),
            day: n(4),
            hour: n(6),
            minute: n(8),
            second: (b.len() == 12).then(|| n(10)),
        };
        let ok = (1..=12).contains(&d.month)
            && (1..=31).contains(&d.day)
            && d.hour < 24
            && d.minute < 60
            && d.second.is_none_or(|s| s < 60);
        ok.then_some(d)
    }
}

impl fmt::Display for ReceiptDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}{:02}{:02}{:02}{:02}",
            self.year % 100,
            self.month,
            self.day,
            self.hour,
            self.minute
        )?;
        if let Some(s) = self.second {
            write!(f, "{s:02}")?;
        }
        Ok(())
    }
}

/// A parsed delivery receipt.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Receipt {
    /// The SMSC message id of the original message (`receipted_message_id` wins over `id:`).
    pub id: String,
    /// `sub:`, the number of messages originally submitted, as sent.
    pub sub: Option<String>,
    /// `dlvrd:`, the number delivered, as sent.
    pub dlvrd: Option<String>,
    /// `submit date:`, when present and well formed.
    pub submit_date: Option<ReceiptDate>,
    /// `done date:`, when present and well formed.
    pub done_date: Option<ReceiptDate>,
    /// The state (`message_state` wins over `stat:`).
    pub state: ReceiptState,
    /// `err:`, as sent (decimal, hexadecimal or alphanumeric depending on the SMSC).
    pub err: Option<String>,
    /// `text:`, the start of the original message.
    pub text: Option<String>,
    /// The `network_error_code` TLV, when present.
    pub network_error_code: Option<NetworkErrorCode>,
}

/// Why a receipt could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Neither an `id:` key nor a `receipted_message_id` TLV was found.
    MissingId,
    /// Neither a `stat:` key nor a `message_state` TLV was found.
    MissingState,
}

impl fmt::Display for ReceiptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiptError::MissingId => {
                f.write_str("receipt has no id: key and no receipted_message_id TLV")
            }
            ReceiptError::MissingState => {
                f.write_str("receipt has no stat: key and no message_state TLV")
            }
        }
    }
}

impl std::error::Error for ReceiptError {}

const KEYS: [&str; 8] = [
    "id",
    "sub",
    "dlvrd",
    "submit date",
    "done date",
    "stat",
    "err",
    "text",
];

/// Finds the known `key:`s at word boundaries (start of text or after whitespace),
/// case-insensitively, stopping at `text:`, whose value is the rest of the text.
/// Returns `(key index, start of key, start of value)`.
fn find_keys(lower: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let boundary = i == 0 || lower[i - 1].is_ascii_whitespace();
        if boundary {
            for (k, key) in KEYS.iter().enumerate() {
                let kb = key.as_bytes();
                if lower[i..].starts_with(kb) {
                    let mut j = i + kb.len();
                    while j < lower.len() && lower[j] == b' ' {
                        j += 1;
                    }
                    if lower.get(j) == Some(&b':') && !found.iter().any(|&(f, _, _)| f == k) {
                        found.push((k, i, j + 1));
                        if *key == "text" {
                            return found;
                        }
                        i = j;
                        break;
                    }
                }
            }
        }
        i += 1;
    }
    found
}

/// Where any `word:` starts after whitespace: a value ends there, so unknown keys between
/// known ones (`imsi:`, `network:`) do not run into the value before them.
fn word_key_starts(lower: &[u8], end: usize) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut i = 1;
    while i < end {
        if lower[i - 1].is_ascii_whitespace() && lower[i].is_ascii_alphabetic() {
            let mut j = i;
            while j < end && (lower[j].is_ascii_alphanumeric() || lower[j] == b'_') {
                j += 1;
            }
            if lower.get(j) == Some(&b':') {
                starts.push(i);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    starts
}

impl Receipt {
    /// Whether a `deliver_sm` or `data_sm` with this esm_class is a delivery receipt or an
    /// intermediate notification (message type `0x04` or `0x20`; other bits ignored).
    pub fn is_receipt(esm_class: u8) -> bool {
        matches!(esm_class & 0x3C, 0x04 | 0x20)
    }

    /// Parses the receipt a `deliver_sm` carries: its `short_message` text (or its
    /// `message_payload` when `short_message` is empty) and its receipt TLVs.
    pub fn from_deliver_sm(pdu: &DeliverSm<'_>) -> Result<Receipt, ReceiptError> {
        Receipt::from_parts(pdu.short_message.as_bytes(), &pdu.tlvs)
    }

    /// Parses the receipt a `data_sm` carries in its `message_payload` and receipt TLVs.
    pub fn from_data_sm(pdu: &DataSm<'_>) -> Result<Receipt, ReceiptError> {
        Receipt::from_parts(&[], &pdu.tlvs)
    }

    /// Parses receipt text given as octets (read as Latin-1, which never fails; receipt
    /// keys and values are ASCII) plus the PDU's TLVs; the `message_payload` TLV is used
    /// when `short_message` is empty.
    pub fn from_parts(short_message: &[u8], tlvs: &[Tlv<'_>]) -> Result<Receipt, ReceiptError> {
        let bytes = if short_message.is_empty() {
            tlvs.iter()
                .find_map(|t| match t {
                    Tlv::MessagePayload(p) => Some(p.as_bytes()),
                    _ => None,
                })
                .unwrap_or(&[])
        } else {
            short_message
        };
        let text: String = bytes.iter().map(|&b| b as char).collect();
        Receipt::parse(&text, tlvs)
    }

    /// Parses receipt text alone.
    pub fn parse_text(text: &str) -> Result<Receipt, ReceiptError> {
        Receipt::parse(text, &[])
    }

    /// Parses receipt text and merges the receipt TLVs of its PDU; TLV values win.
    pub fn parse(text: &str, tlvs: &[Tlv<'_>]) -> Result<Receipt, ReceiptError> {
        let lower = text.to_ascii_lowercase();
        let keys = find_keys(lower.as_bytes());
        // Values end at the next key, known or not; `text:` runs to the end.
        let text_start = keys
            .iter()
            .find(|&&(k, _, _)| KEYS[k] == "text")
            .map_or(text.len(), |&(_, s, _)| s);
        let mut ends: Vec<usize> = keys.iter().map(|&(_, s, _)| s).collect();
        ends.extend(word_key_starts(lower.as_bytes(), text_start));
        let value = |k: usize| -> Option<String> {
            let &(_, _, start) = keys.iter().find(|&&(f, _, _)| f == k)?;
            let end = if KEYS[k] == "text" {
                text.len()
            } else {
                ends.iter()
                    .copied()
                    .filter(|&e| e >= start)
                    .min()
                    .unwrap_or(text.len())
            };
            Some(text.get(start..end)?.trim().to_string())
        };
        let mut id = value(0).filter(|s| !s.is_empty());
        let mut state = value(5).map(|s| ReceiptState::from_stat(&s));
        let mut network_error_code = None;
        for t in tlvs {
            match t {
                Tlv::ReceiptedMessageId(v) if !v.is_empty() => {
                    id = Some(v.to_str_lossy().into_owned())
                }
                Tlv::MessageState(v) => state = Some(ReceiptState::from_message_state(*v)),
                Tlv::NetworkErrorCode(v) => network_error_code = Some(*v),
                _ => {}
            }
        }
        Ok(Receipt {
            id: id.ok_or(ReceiptError::MissingId)?,
            sub: value(1),
            dlvrd: value(2),
            submit_date: value(3).and_then(|s| ReceiptDate::parse(&s)),
            done_date: value(4).and_then(|s| ReceiptDate::parse(&s)),
            state: state.ok_or(ReceiptError::MissingState)?,
            err: value(6),
            text: value(7),
            network_error_code,
        })
    }

    /// The receipt in the usual text form (SMPP 3.4 Appendix B):
    /// `id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:...`.
    /// Missing parts are written as `001`, `000` or left empty; `text` is cut to 20 characters.
    pub fn format(&self) -> String {
        let date = |d: &Option<ReceiptDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let text: String = self
            .text
            .as_deref()
            .unwrap_or("")
            .chars()
            .take(20)
            .collect();
        format!(
            "id:{} sub:{} dlvrd:{} submit date:{} done date:{} stat:{} err:{} text:{}",
            self.id,
            self.sub.as_deref().unwrap_or("001"),
            self.dlvrd
                .as_deref()
                .unwrap_or(if self.state == ReceiptState::Delivered {
                    "001"
                } else {
                    "000"
                }),
            date(&self.submit_date),
            date(&self.done_date),
            self.state.stat(),
            self.err.as_deref().unwrap_or("000"),
            text
        )
    }
}

/// Whether two message ids name the same message, allowing for the usual mismatches:
/// case, leading zeros, and one side in hexadecimal while the other is decimal. An empty
/// id names no message and matches nothing.
pub fn message_ids_match(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let strip = |s: &str| -> String {
        let t = s.trim_start_matches('0');
        if t.is_empty() {
            "0".into()
        } else {
            t.to_ascii_lowercase()
        }
    };
    if strip(a) == strip(b) {
        return true;
    }
    let dec = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse::<u128>().ok())
            .flatten()
    };
    let hex = |s: &str| u128::from_str_radix(s, 16).ok();
    matches!((dec(a), hex(b)), (Some(x), Some(y)) if x == y)
        || matches!((hex(a), dec(b)), (Some(x), Some(y)) if x == y)
}

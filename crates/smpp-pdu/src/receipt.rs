//! Delivery receipts (reference §9): parse the `short_message` text that SMSCs send in a
//! `deliver_sm` (or `data_sm`) with esm_class message type `0x04`, merge the
//! `receipted_message_id`, `message_state` and `network_error_code` TLVs (which win when
//! both exist), format receipts for a test SMSC, and match message ids across the
//! hexadecimal/decimal mismatch many SMSCs have between `submit_sm_resp` and receipts.
//!
//! # What the parser accepts
//!
//! The text parser is a case-insensitive `key:value` scan built for what real SMSCs send:
//!
//! - **Text encoding**: [`Receipt::from_deliver_sm`] and [`Receipt::from_data_sm`] decode
//!   by `data_coding` first: UCS-2 (8) and Latin-1 (3) through [`crate::text`]; 0 and
//!   everything else as Latin-1 octets (ASCII receipts read the same either way).
//! - **Keys**: `id`, `sub`, `dlvrd`, `submit date`, `done date`, `stat`, `err`, `text`,
//!   in any case and order, with optional spaces before the colon; the two-word keys also
//!   without the space or with `_` (`submitdate:`, `done_date:`). A key starts the text
//!   or follows ASCII whitespace, so `valid:` is not `id:`.
//! - **Values** run to the next key, known or not (`imsi:`, `network:`), and are trimmed.
//!   A repeated key keeps its first value.
//! - **`text:`** runs to the end, so the original message may hold colons and key-like
//!   words, except that a known key not seen before `text:` ends it: an empty `text:`
//!   between other keys (`... text: err:000`) leaves those keys readable.
//! - **Dates** ([`ReceiptDate::parse`]): `YYMMDDhhmm`, `YYMMDDhhmmss`, `YYYYMMDDhhmm` (a
//!   12-digit date is read so only when the `YYMMDDhhmmss` reading is invalid),
//!   `YYYYMMDDhhmmss`, and the SMPP absolute form `YYMMDDhhmmsstnnp` with its tenths and
//!   UTC offset. An all-zero or malformed date is `None`, not an error.
//! - **States**: `stat:` words in any case and the long vendor spellings (`DELIVERED`,
//!   `UNDELIVERABLE`, `ACCEPTED`, `REJECTED`, ...) map to a [`ReceiptState`]; the word as
//!   written stays in [`Receipt::stat_raw`], and an unknown word is
//!   [`ReceiptState::Other`].
//! - **Raw pairs**: every `key:value` as written, vendor keys and unparsed values
//!   included, is kept in [`Receipt::fields`] ([`Receipt::field`] looks one up).
//! - **TLVs win**: a non-empty `receipted_message_id`, `message_state` and
//!   `network_error_code` replace what the text says.
//!
//! Only `id` (or `receipted_message_id`) and `stat` (or `message_state`) are required.
//! The parser never panics, reads no clock, and allocates in proportion to its input.
//!
//! ```
//! use smpp_pdu::receipt::{Receipt, ReceiptState};
//!
//! let r = Receipt::parse_text(
//!     "id:7 submit_date:20231122120000 donedate:0000000000 stat:delivered text: err:000 imsi:234",
//! )
//! .unwrap();
//! assert_eq!(r.state, ReceiptState::Delivered);
//! assert_eq!(r.stat_raw.as_deref(), Some("delivered"));
//! assert_eq!(r.submit_date.map(|d| d.year), Some(2023));
//! assert_eq!(r.done_date, None);
//! assert_eq!(r.field("done date"), Some("0000000000"));
//! assert_eq!(r.text.as_deref(), Some(""));
//! assert_eq!(r.err.as_deref(), Some("000"));
//! assert_eq!(r.field("IMSI"), Some("234"));
//! ```

use std::fmt;

use crate::pdu::{DataSm, DeliverSm};
use crate::text::{self, Encoding};
use crate::time::{AbsoluteTime, SmppTime};
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

/// A receipt date, in any of the forms SMSCs write (see the [module docs](self)):
/// `YYMMDDhhmm`, `YYMMDDhhmmss`, `YYYYMMDDhhmm`, `YYYYMMDDhhmmss`, or an SMPP absolute
/// time `YYMMDDhhmmsstnnp`.
///
/// The digit forms are the SMSC's local time and leave `tenths` and
/// `utc_offset_quarters` `None`; only the SMPP absolute form carries them (both `Some`).
/// [`ReceiptDate::parse`] and `Display` are inverse: what one parses, the other writes in
/// a form that parses back to the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReceiptDate {
    /// Four-digit year: 2000 + YY for the two-digit forms, as written (1970 to 2099) for
    /// the four-digit ones.
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31 (31 is accepted in every month, except in the SMPP absolute form, which
    /// [`SmppTime::parse`] checks against the month's length).
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59 when the SMSC sent seconds (`YYMMDDhhmmss`, `YYYYMMDDhhmmss`, the SMPP
    /// absolute form).
    pub second: Option<u8>,
    /// Tenths of a second, 0 to 9, from the SMPP absolute form only.
    pub tenths: Option<u8>,
    /// Offset from UTC in quarter hours, -48 to 48 (positive when the time is ahead of
    /// UTC), from the SMPP absolute form only. `None` means the SMSC's local time, whose
    /// offset the receipt does not say.
    pub utc_offset_quarters: Option<i8>,
}

impl ReceiptDate {
    /// A date in the SMSC's local time, without tenths or offset. Not validated.
    pub const fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: Option<u8>,
    ) -> ReceiptDate {
        ReceiptDate {
            year,
            month,
            day,
            hour,
            minute,
            second,
            tenths: None,
            utc_offset_quarters: None,
        }
    }

    /// Parses a receipt date (surrounding whitespace ignored); `None` for any other
    /// length, a non-digit, a part out of range, an all-zero date, or an SMPP relative
    /// time.
    ///
    /// - 10 digits: `YYMMDDhhmm`.
    /// - 12 digits: `YYMMDDhhmmss` when that reading is a valid date and time, otherwise
    ///   `YYYYMMDDhhmm` with a year from 1970 to 2099 (some gateways write that). So
    ///   `201201011200` is 2020-12-01 01:12:00, while `202312011530` (month 23 in the
    ///   first reading) is 2023-12-01 15:30.
    /// - 14 digits: `YYYYMMDDhhmmss`, year 1970 to 2099.
    /// - 16 characters: an SMPP absolute time `YYMMDDhhmmsstnnp`, read by
    ///   [`SmppTime::parse`]; tenths and UTC offset are kept.
    ///
    /// Two-digit years are 2000 + YY, as in [`crate::time`].
    pub fn parse(s: &str) -> Option<ReceiptDate> {
        let b = s.trim().as_bytes();
        if b.len() == 16 {
            return match SmppTime::parse(b) {
                Ok(Some(SmppTime::Absolute(a))) => Some(ReceiptDate::from(a)),
                _ => None,
            };
        }
        if !matches!(b.len(), 10 | 12 | 14) || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
        let short = |seconds: bool| {
            let year = 2000 + u16::from(n(0));
            ReceiptDate::new(year, n(2), n(4), n(6), n(8), seconds.then(|| n(10))).valid()
        };
        let long = |seconds: bool| {
            let year = u16::from(n(0)) * 100 + u16::from(n(2));
            let d = ReceiptDate::new(year, n(4), n(6), n(8), n(10), seconds.then(|| n(12)));
            (1970..=2099).contains(&year).then_some(d)?.valid()
        };
        match b.len() {
            10 => short(false),
            12 => short(true).or_else(|| long(false)),
            _ => long(true),
        }
    }

    fn valid(self) -> Option<ReceiptDate> {
        let ok = (1..=12).contains(&self.month)
            && (1..=31).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second.is_none_or(|s| s < 60);
        ok.then_some(self)
    }

    /// The date as an SMPP absolute time, when it has a UTC offset (that is, when it was
    /// written in that form); missing seconds and tenths are 0. Use
    /// [`AbsoluteTime::unix_seconds`] on it for an instant.
    pub fn to_absolute(&self) -> Option<AbsoluteTime> {
        Some(AbsoluteTime {
            year: self.year,
            month: self.month,
            day: self.day,
            hour: self.hour,
            minute: self.minute,
            second: self.second.unwrap_or(0),
            tenths: self.tenths.unwrap_or(0),
            utc_offset_quarters: self.utc_offset_quarters?,
        })
    }
}

impl From<AbsoluteTime> for ReceiptDate {
    /// Keeps everything, tenths and UTC offset included.
    fn from(a: AbsoluteTime) -> ReceiptDate {
        ReceiptDate {
            year: a.year,
            month: a.month,
            day: a.day,
            hour: a.hour,
            minute: a.minute,
            second: Some(a.second),
            tenths: Some(a.tenths),
            utc_offset_quarters: Some(a.utc_offset_quarters),
        }
    }
}

impl fmt::Display for ReceiptDate {
    /// The SMPP absolute form `YYMMDDhhmmsstnnp` when the date has a UTC offset;
    /// otherwise `YYMMDDhhmm[ss]` for years 2000 to 2099 and `YYYYMMDDhhmm[ss]` for
    /// others. Each parses back to the same value for the dates [`ReceiptDate::parse`]
    /// gives.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(q) = self.utc_offset_quarters {
            return write!(
                f,
                "{:02}{:02}{:02}{:02}{:02}{:02}{}{:02}{}",
                self.year % 100,
                self.month,
                self.day,
                self.hour,
                self.minute,
                self.second.unwrap_or(0),
                self.tenths.unwrap_or(0),
                q.unsigned_abs(),
                if q < 0 { '-' } else { '+' }
            );
        }
        if (2000..=2099).contains(&self.year) {
            write!(f, "{:02}", self.year - 2000)?;
        } else {
            write!(f, "{:04}", self.year)?;
        }
        write!(
            f,
            "{:02}{:02}{:02}{:02}",
            self.month, self.day, self.hour, self.minute
        )?;
        if let Some(s) = self.second {
            write!(f, "{s:02}")?;
        }
        Ok(())
    }
}

/// A parsed delivery receipt.
///
/// Build one with [`Receipt::new`] and struct update syntax
/// (`Receipt { err: Some("000".into()), ..Receipt::new("1", ReceiptState::Delivered) }`),
/// so code that builds receipts keeps compiling when fields are added.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Receipt {
    /// The SMSC message id of the original message (`receipted_message_id` wins over `id:`).
    pub id: String,
    /// `sub:`, the number of messages originally submitted, as sent.
    pub sub: Option<String>,
    /// `dlvrd:`, the number delivered, as sent.
    pub dlvrd: Option<String>,
    /// `submit date:` (or `submitdate:`, `submit_date:`), when present and well formed;
    /// the value as written stays in [`Receipt::fields`].
    pub submit_date: Option<ReceiptDate>,
    /// `done date:` (or `donedate:`, `done_date:`), when present and well formed; an
    /// all-zero date is `None` here and kept as written in [`Receipt::fields`].
    pub done_date: Option<ReceiptDate>,
    /// The normalised state (`message_state` wins over `stat:`).
    pub state: ReceiptState,
    /// `err:`, as sent (decimal, hexadecimal or alphanumeric depending on the SMSC).
    pub err: Option<String>,
    /// `text:`, the start of the original message.
    pub text: Option<String>,
    /// The `network_error_code` TLV, when present.
    pub network_error_code: Option<NetworkErrorCode>,
    /// The `stat:` word as written (trimmed), when the text has one: a vendor spelling
    /// such as `DELIVERED` or `delivrd` is kept here while [`Receipt::state`] holds the
    /// normalised state. `None` without a `stat:` key, even when `message_state` gave the
    /// state.
    pub stat_raw: Option<String>,
    /// Every `key:value` pair of the text, in the order written: the key as written
    /// (without the colon) and the value, both trimmed. It holds the known keys in
    /// whatever spelling the SMSC used, repeated keys (the typed fields take the first),
    /// values that did not parse (an all-zero date), and unknown vendor keys (`imsi:`,
    /// `network:`). Empty for a receipt built in code or given by TLVs alone. Look a key
    /// up with [`Receipt::field`].
    pub fields: RawFields,
}

/// The `key:value` pairs of a receipt's text, as written: one copy of the text and the
/// places of each key and value in it (two allocations whatever the number of pairs).
#[derive(Clone, Default)]
pub struct RawFields {
    text: String,
    /// Key start, key end, value start, value end, in `text`.
    spans: Vec<[u32; 4]>,
}

impl RawFields {
    /// No pairs.
    pub fn new() -> RawFields {
        RawFields::default()
    }

    /// Adds a pair.
    pub fn push(&mut self, key: &str, value: &str) {
        let k = self.text.len();
        self.text.push_str(key);
        let v = self.text.len();
        self.text.push_str(value);
        let end = self.text.len();
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.spans.push([at(k), at(v), at(v), at(end)]);
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The pairs in the order written: `(key, value)`.
    pub fn iter(&self) -> RawFieldsIter<'_> {
        RawFieldsIter {
            fields: self,
            next: 0,
        }
    }

    fn pair(&self, i: usize) -> Option<(&str, &str)> {
        let [ks, ke, vs, ve] = *self.spans.get(i)?;
        let slice = |a: u32, b: u32| self.text.get(a as usize..b as usize).unwrap_or("");
        Some((slice(ks, ke), slice(vs, ve)))
    }
}

/// Equal when the pairs are, however the text around them was laid out.
impl PartialEq for RawFields {
    fn eq(&self, other: &RawFields) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for RawFields {}

impl std::hash::Hash for RawFields {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for (k, v) in self.iter() {
            k.hash(state);
            v.hash(state);
        }
    }
}

impl fmt::Debug for RawFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The pairs of [`RawFields`], in order.
#[derive(Clone, Debug)]
pub struct RawFieldsIter<'a> {
    fields: &'a RawFields,
    next: usize,
}

impl<'a> Iterator for RawFieldsIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let p = self.fields.pair(self.next)?;
        self.next += 1;
        Some(p)
    }
}

impl<'a> IntoIterator for &'a RawFields {
    type Item = (&'a str, &'a str);
    type IntoIter = RawFieldsIter<'a>;

    fn into_iter(self) -> RawFieldsIter<'a> {
        self.iter()
    }
}

/// `text[a..b]` without its leading and trailing white space, as positions in `text`
/// (`a..a` when that range is not a valid slice).
fn trimmed(text: &str, a: usize, b: usize) -> (usize, usize) {
    let Some(raw) = text.get(a..b) else {
        return (a.min(text.len()), a.min(text.len()));
    };
    let start = a + (raw.len() - raw.trim_start().len());
    let end = b - (raw.len() - raw.trim_end().len());
    (start, end.max(start))
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

/// The keys the parser reads into typed fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

/// Each known key as its (lower-case) words; a two-word key matches with its words
/// joined by nothing, spaces or underscores (`submit date`, `submitdate`, `submit_date`).
const KEYS: [(Key, &str, &str); 8] = [
    (Key::Id, "id", ""),
    (Key::Sub, "sub", ""),
    (Key::Dlvrd, "dlvrd", ""),
    (Key::SubmitDate, "submit", "date"),
    (Key::DoneDate, "done", "date"),
    (Key::Stat, "stat", ""),
    (Key::Err, "err", ""),
    (Key::Text, "text", ""),
];

/// A `key:` found in the text: `known` is `None` for a vendor key. Byte offsets: the key
/// runs from `start` to `key_end`, its value from `value` to the next hit's `start`.
/// Every offset sits next to an ASCII byte, so slicing the text there is safe.
struct Hit {
    known: Option<Key>,
    start: usize,
    key_end: usize,
    value: usize,
}

/// A known key at `i` in the lower-cased text: the key, where its name ends, and where
/// its value starts (after optional spaces and the colon).
fn known_key_at(lower: &[u8], i: usize) -> Option<(Key, usize, usize)> {
    let rest = lower.get(i..)?;
    KEYS.iter().find_map(|&(key, first, second)| {
        let mut j = i + first.len();
        if !rest.starts_with(first.as_bytes()) {
            return None;
        }
        if !second.is_empty() {
            while matches!(lower.get(j), Some(b' ' | b'_')) {
                j += 1;
            }
            if !lower.get(j..)?.starts_with(second.as_bytes()) {
                return None;
            }
            j += second.len();
        }
        let key_end = j;
        while lower.get(j) == Some(&b' ') {
            j += 1;
        }
        (lower.get(j) == Some(&b':')).then_some((key, key_end, j + 1))
    })
}

/// A vendor key at `i`: a letter, then letters, digits or `_`, then the colon at once.
/// Returns where its name ends and where its value starts.
fn word_key_at(lower: &[u8], i: usize) -> Option<(usize, usize)> {
    if !lower.get(i)?.is_ascii_alphabetic() {
        return None;
    }
    let mut j = i;
    while lower
        .get(j)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        j += 1;
    }
    (lower.get(j) == Some(&b':')).then_some((j, j + 1))
}

/// Finds the `key:`s at word boundaries (start of text or after ASCII whitespace).
///
/// `text:` runs to the end of the receipt, except that a known key not seen before it
/// ends it: so `text: err:000` is an empty text followed by `err:`, while in `stat:DELIVRD
/// err:000 text:Re: stat:X err:1` everything after `text:` is text (its keys were seen).
/// Vendor keys after `text:` are text too.
fn scan(lower: &[u8]) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut seen = [false; KEYS.len()];
    let mut in_text = false;
    let mut i = 0;
    while i < lower.len() {
        if i == 0 || lower[i - 1].is_ascii_whitespace() {
            if let Some((key, key_end, value)) = known_key_at(lower, i) {
                let first = !seen[key as usize];
                if !in_text || (first && key != Key::Text) {
                    seen[key as usize] = true;
                    in_text = first && key == Key::Text;
                    hits.push(Hit {
                        known: Some(key),
                        start: i,
                        key_end,
                        value,
                    });
                    i = value;
                    continue;
                }
            } else if !in_text {
                if let Some((key_end, value)) = word_key_at(lower, i) {
                    hits.push(Hit {
                        known: None,
                        start: i,
                        key_end,
                        value,
                    });
                    i = value;
                    continue;
                }
            }
        }
        i += 1;
    }
    hits
}

/// A key with spaces and underscores removed, lower-cased: `Done_Date` → `donedate`.
fn key_eq(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes()
            .filter(|b| !matches!(b, b' ' | b'_'))
            .map(|b| b.to_ascii_lowercase())
    }
    norm(a).eq(norm(b))
}

/// Receipt text from octets by `data_coding`: UCS-2 (8, big-endian) and Latin-1 (3)
/// through [`crate::text`]; everything else, 0 included, read as Latin-1 octets as ever
/// (receipt keys and values are ASCII, and GSM 03.38 would turn `_` into `§`).
fn decode_text(data_coding: u8, bytes: &[u8]) -> String {
    let encoding = match data_coding {
        8 => Encoding::Ucs2,
        _ => Encoding::Latin1,
    };
    // Never fails for these two; an empty text would then fail as MissingId.
    text::decode(bytes, encoding).unwrap_or_default()
}

impl Receipt {
    /// A receipt with this id and state and nothing else: no text fields, no dates, no
    /// TLV values, no raw fields.
    pub fn new(id: impl Into<String>, state: ReceiptState) -> Receipt {
        Receipt {
            id: id.into(),
            sub: None,
            dlvrd: None,
            submit_date: None,
            done_date: None,
            state,
            err: None,
            text: None,
            network_error_code: None,
            stat_raw: None,
            fields: RawFields::new(),
        }
    }

    /// The value of the first `key:` in [`Receipt::fields`], comparing keys without case,
    /// spaces or underscores: `field("done date")` finds `done_date:` and `DONEDATE:`,
    /// `field("imsi")` a vendor's `imsi:`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| key_eq(k, key))
            .map(|(_, v)| v)
    }

    /// Whether a `deliver_sm` or `data_sm` with this esm_class is a delivery receipt or an
    /// intermediate notification (message type `0x04` or `0x20`; other bits ignored).
    pub fn is_receipt(esm_class: u8) -> bool {
        matches!(esm_class & 0x3C, 0x04 | 0x20)
    }

    /// Parses the receipt a `deliver_sm` carries: its `short_message` text (or its
    /// `message_payload` when `short_message` is empty), decoded by its `data_coding`,
    /// and its receipt TLVs.
    pub fn from_deliver_sm(pdu: &DeliverSm<'_>) -> Result<Receipt, ReceiptError> {
        Receipt::from_parts_with_coding(pdu.data_coding, pdu.short_message.as_bytes(), &pdu.tlvs)
    }

    /// Parses the receipt a `data_sm` carries in its `message_payload` (decoded by its
    /// `data_coding`) and receipt TLVs.
    pub fn from_data_sm(pdu: &DataSm<'_>) -> Result<Receipt, ReceiptError> {
        Receipt::from_parts_with_coding(pdu.data_coding, &[], &pdu.tlvs)
    }

    /// Parses receipt text given as octets (read as Latin-1, which never fails; receipt
    /// keys and values are ASCII) plus the PDU's TLVs; the `message_payload` TLV is used
    /// when `short_message` is empty. This is
    /// [`from_parts_with_coding`](Receipt::from_parts_with_coding) with `data_coding` 0.
    pub fn from_parts(short_message: &[u8], tlvs: &[Tlv<'_>]) -> Result<Receipt, ReceiptError> {
        Receipt::from_parts_with_coding(0, short_message, tlvs)
    }

    /// Parses receipt octets in the PDU's `data_coding` plus its TLVs; the
    /// `message_payload` TLV is used when `short_message` is empty. `data_coding` 8 is
    /// UCS-2 (big-endian; a lone surrogate or odd octet becomes U+FFFD), 3 Latin-1, and
    /// every other value, 0 included, is read as Latin-1 octets (which holds ASCII, the
    /// usual receipt text, and never fails).
    pub fn from_parts_with_coding(
        data_coding: u8,
        short_message: &[u8],
        tlvs: &[Tlv<'_>],
    ) -> Result<Receipt, ReceiptError> {
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
        Receipt::parse(&decode_text(data_coding, bytes), tlvs)
    }

    /// Parses receipt text alone.
    pub fn parse_text(text: &str) -> Result<Receipt, ReceiptError> {
        Receipt::parse(text, &[])
    }

    /// Parses receipt text and merges the receipt TLVs of its PDU; TLV values win.
    pub fn parse(text: &str, tlvs: &[Tlv<'_>]) -> Result<Receipt, ReceiptError> {
        let lower = text.to_ascii_lowercase();
        let hits = scan(lower.as_bytes());
        // A value runs to the next key (or the end), trimmed.
        // Where value `k` sits: to the next key (or the end), trimmed.
        let value_span = |k: usize| -> (usize, usize) {
            let end = hits.get(k + 1).map_or(text.len(), |h| h.start);
            trimmed(text, hits[k].value, end)
        };
        let value_of = |k: usize| -> &str {
            let (a, b) = value_span(k);
            text.get(a..b).unwrap_or("")
        };
        // The typed fields take the first occurrence of their key.
        let value_str = |key: Key| -> Option<&str> {
            let k = hits.iter().position(|h| h.known == Some(key))?;
            Some(value_of(k))
        };
        let value = |key: Key| value_str(key).map(str::to_string);
        // One copy of the text, and where each pair sits in it (keys and values trimmed).
        let mut fields = RawFields {
            text: text.to_string(),
            spans: Vec::with_capacity(hits.len()),
        };
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        for (k, h) in hits.iter().enumerate() {
            let (vs, ve) = value_span(k);
            fields
                .spans
                .push([at(h.start), at(h.key_end), at(vs), at(ve)]);
        }
        let stat_raw = value(Key::Stat);
        let mut id = value(Key::Id).filter(|s| !s.is_empty());
        let mut state = stat_raw.as_deref().map(ReceiptState::from_stat);
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
        let date = |key| value_str(key).and_then(ReceiptDate::parse);
        Ok(Receipt {
            id: id.ok_or(ReceiptError::MissingId)?,
            sub: value(Key::Sub),
            dlvrd: value(Key::Dlvrd),
            submit_date: date(Key::SubmitDate),
            done_date: date(Key::DoneDate),
            state: state.ok_or(ReceiptError::MissingState)?,
            err: value(Key::Err),
            text: value(Key::Text),
            network_error_code,
            stat_raw,
            fields,
        })
    }

    /// The receipt in the usual text form (SMPP 3.4 Appendix B):
    /// `id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:...`.
    /// Missing parts are written as `001`, `000` or left empty; `text` is cut to 20
    /// characters; dates are written as their `Display` form; the state as its
    /// normalised word ([`ReceiptState::stat`]). `stat_raw` and `fields` are not used.
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

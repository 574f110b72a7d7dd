//! Canonical message-id keys: the rules of [`smpp_pdu::receipt::message_ids_match`] made
//! into hash keys, so a receipt finds its segment in O(1) whatever form each side wrote
//! the id in.
//!
//! The id from a `submit_sm_resp` is indexed under one key, [`IdKey::of`]: its text,
//! trimmed, lower-cased and without leading zeros (`"0000000A1"` -> `"a1"`, `"000"` ->
//! `"0"`). A receipt's id has up to three [`Candidates`]:
//! 1. its own key (the response wrote the id the same way);
//! 2. when it is all digits, its value written in hexadecimal (a response in hexadecimal,
//!    a receipt in decimal: `"000000001A"` and `id:26`);
//! 3. when it is all hex digits, its value written in decimal (the other way round).
//!
//! Together they say exactly what `message_ids_match` says (a property test checks the
//! agreement). Which of them the tracker may use depends on the link: an all-digit id
//! reads as decimal and as hexadecimal, so the cross forms would match the wrong message
//! on an SMSC that writes both ids the same way; see [`IdForms`](crate::IdForms).

use std::fmt;
use std::hash::{Hash, Hasher};

/// Ids up to this many octets are kept without an allocation.
const INLINE: usize = 22;

/// A normalised message id: the key a segment is indexed under.
#[derive(Clone)]
pub struct IdKey(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<str>),
}

impl IdKey {
    fn from_normalised(s: &str) -> IdKey {
        if s.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            IdKey(Repr::Inline {
                len: s.len() as u8,
                buf,
            })
        } else {
            IdKey(Repr::Heap(s.into()))
        }
    }

    /// The key of `id`; `None` for an empty (or all-blank) id, which names no message.
    pub fn of(id: &str) -> Option<IdKey> {
        let id = id.trim();
        if id.is_empty() {
            return None;
        }
        let stripped = id.trim_start_matches('0');
        let stripped = if stripped.is_empty() { "0" } else { stripped };
        if stripped.bytes().any(|b| b.is_ascii_uppercase()) {
            Some(IdKey::from_normalised(&stripped.to_ascii_lowercase()))
        } else {
            Some(IdKey::from_normalised(stripped))
        }
    }

    /// The keys a receipt with this id may find its segment under (none for an empty id).
    pub fn candidates(id: &str) -> Candidates {
        let mut out = Candidates::default();
        let Some(own) = IdKey::of(id) else {
            return out;
        };
        let digits = own.as_str();
        let decimal = digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse::<u128>().ok())
            .flatten();
        let hex = digits
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| u128::from_str_radix(digits, 16).ok())
            .flatten();
        out.own = Some(own);
        // A response in hexadecimal whose value is this decimal id, and the other way round.
        out.hex_of_decimal = decimal.map(|v| IdKey::number(v, 16));
        out.decimal_of_hex = hex.map(|v| IdKey::number(v, 10));
        out
    }

    /// Whether the id has a letter `a`-`f` (so it can only be hexadecimal or text, not a
    /// decimal number).
    pub fn has_hex_letter(&self) -> bool {
        self.as_bytes().iter().any(|b| matches!(b, b'a'..=b'f'))
    }

    /// `v` written in `radix` (10 or 16, lower case, no leading zeros), without allocating.
    fn number(mut v: u128, radix: u128) -> IdKey {
        // u128::MAX has 39 decimal digits.
        let mut digits = [0u8; 40];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b"0123456789abcdef"[(v % radix) as usize];
            v /= radix;
            if v == 0 {
                break;
            }
        }
        IdKey::from_normalised(std::str::from_utf8(&digits[i..]).unwrap_or("0"))
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Heap(s) => s.as_bytes(),
        }
    }

    /// The normalised id.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, buf } => {
                // Built from a `&str` cut at its own length, so always UTF-8.
                std::str::from_utf8(&buf[..*len as usize]).unwrap_or("")
            }
            Repr::Heap(s) => s,
        }
    }
}

impl PartialEq for IdKey {
    fn eq(&self, other: &IdKey) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for IdKey {}

impl Hash for IdKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
    }
}

impl fmt::Debug for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The keys a receipt's id may match a response's id under.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidates {
    /// The receipt's own key: the response wrote the id the same way.
    pub own: Option<IdKey>,
    /// For an all-digit receipt id: its value in hexadecimal, for a response that wrote
    /// the id in hexadecimal.
    pub hex_of_decimal: Option<IdKey>,
    /// For an all-hex-digit receipt id: its value in decimal, for a response that wrote
    /// the id in decimal.
    pub decimal_of_hex: Option<IdKey>,
}

impl Candidates {
    /// Every key, own first.
    pub fn iter(&self) -> impl Iterator<Item = &IdKey> {
        [&self.own, &self.hex_of_decimal, &self.decimal_of_hex]
            .into_iter()
            .flatten()
    }

    /// Whether the id was empty.
    pub fn is_empty(&self) -> bool {
        self.own.is_none()
    }
}

/// Whether a response's id and a receipt's id name the same message by these rules
/// (the same answer as `message_ids_match`, through the keys).
pub fn ids_match(response_id: &str, receipt_id: &str) -> bool {
    IdKey::of(response_id).is_some_and(|k| IdKey::candidates(receipt_id).iter().any(|c| *c == k))
}

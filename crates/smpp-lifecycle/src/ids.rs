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
//!
//! An SMSC's ids are unique only among its own: two SMSCs (or two accounts of one) may
//! both give out `"1"`. A key therefore belongs to an *account*, the name of the SMSC
//! account that issued the id (none for a client on its own): a receipt read on an
//! account's bind finds only the segments sent on that account ([`IdKey::scoped`]).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Between an account's name and the id in [`IdKey::store_key`]: a control character no
/// SMSC writes in a message id, so a scoped key never reads as an unscoped one.
pub const ACCOUNT_SEPARATOR: char = '\u{1f}';

/// Ids up to this many octets are kept without an allocation.
const INLINE: usize = 22;

/// A normalised message id, with the account that issued it: the key a segment is
/// indexed under.
#[derive(Clone)]
pub struct IdKey {
    account: Option<Arc<str>>,
    id: Repr,
}

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
            IdKey {
                account: None,
                id: Repr::Inline {
                    len: s.len() as u8,
                    buf,
                },
            }
        } else {
            IdKey {
                account: None,
                id: Repr::Heap(s.into()),
            }
        }
    }

    /// The key of `id` issued by `account` (`None`: a client on its own); `None` for an
    /// empty (or all-blank) id.
    pub fn scoped(account: Option<&Arc<str>>, id: &str) -> Option<IdKey> {
        let mut k = IdKey::of(id)?;
        k.account = account.cloned();
        Some(k)
    }

    /// The keys a receipt with this id, read on `account`'s bind, may find its segment
    /// under.
    pub fn candidates_in(account: Option<&Arc<str>>, id: &str) -> Candidates {
        let mut c = IdKey::candidates(id);
        if account.is_some() {
            for k in [&mut c.own, &mut c.hex_of_decimal, &mut c.decimal_of_hex]
                .into_iter()
                .flatten()
            {
                k.account = account.cloned();
            }
        }
        c
    }

    /// The account that issued the id, if one was named.
    pub fn account(&self) -> Option<&Arc<str>> {
        self.account.as_ref()
    }

    /// The key as a store keeps it: the normalised id, after the account's name and
    /// [`ACCOUNT_SEPARATOR`] when there is an account.
    pub fn store_key(&self) -> String {
        match &self.account {
            None => self.as_str().to_string(),
            Some(a) => {
                let mut s = String::with_capacity(a.len() + 1 + self.as_bytes().len());
                s.push_str(a);
                s.push(ACCOUNT_SEPARATOR);
                s.push_str(self.as_str());
                s
            }
        }
    }

    /// The key of `id` with no account; `None` for an empty (or all-blank) id, which names
    /// no message.
    pub fn of(id: &str) -> Option<IdKey> {
        // Ids are ASCII in practice: trimmed octet by octet (no character decoding), of
        // the same characters `str::trim` takes off an ASCII string, and lower-cased as
        // they are copied.
        if id.is_ascii() {
            let b = trim_ascii_space(id).as_bytes();
            if b.is_empty() {
                return None;
            }
            let zeros = b.iter().take_while(|&&c| c == b'0').count();
            let b = if zeros == b.len() { b"0" } else { &b[zeros..] };
            if b.len() <= INLINE {
                let mut buf = [0u8; INLINE];
                for (d, c) in buf.iter_mut().zip(b) {
                    *d = c.to_ascii_lowercase();
                }
                return Some(IdKey {
                    account: None,
                    id: Repr::Inline {
                        len: b.len() as u8,
                        buf,
                    },
                });
            }
        }
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
        match &self.id {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Heap(s) => s.as_bytes(),
        }
    }

    /// The normalised id (without the account).
    pub fn as_str(&self) -> &str {
        match &self.id {
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
        self.as_bytes() == other.as_bytes() && self.account == other.account
    }
}

impl Eq for IdKey {}

impl Hash for IdKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if let Some(a) = &self.account {
            state.write(a.as_bytes());
            state.write_u8(0x1f);
        }
        state.write(self.as_bytes());
    }
}

impl fmt::Debug for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.account {
            None => fmt::Debug::fmt(self.as_str(), f),
            Some(a) => write!(f, "{a}:{:?}", self.as_str()),
        }
    }
}

impl fmt::Display for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = &self.account {
            write!(f, "{a}:")?;
        }
        f.write_str(self.as_str())
    }
}

/// `s` (ASCII) without the white space `str::trim` removes from ASCII: space and U+0009 to
/// U+000D (`trim_ascii` keeps U+000B, the vertical tab).
fn trim_ascii_space(s: &str) -> &str {
    let space = |b: &u8| matches!(b, b' ' | b'\t'..=b'\r');
    let b = s.as_bytes();
    let start = b.iter().position(|c| !space(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !space(c)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or("")
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn white_space_around_an_id_is_not_part_of_its_key() {
        // The vertical tab (U+000B) included, as `str::trim` has it.
        for id in ["\u{0b}42\u{0b}", " \t42\r\n", "\u{0c}0042 ", "\u{a0}42"] {
            assert_eq!(IdKey::of(id), IdKey::of("42"), "{id:?}");
        }
        assert_eq!(IdKey::of(" \u{0b} "), None);
    }

    proptest! {
        #[test]
        fn ascii_ids_trim_as_str_trim_does(id in "[ \\t\\n\\x0b\\x0c\\r0-9a-fA-F]{0,12}") {
            prop_assert_eq!(trim_ascii_space(&id), id.trim());
        }

        /// The one-pass ASCII key is the key as the rules define it: trimmed, without
        /// leading zeros ("0" for all zeros), lower-cased; short and long ids alike.
        #[test]
        fn a_key_is_the_trimmed_id_without_leading_zeros_in_lower_case(
            id in "[ \\t\\x0b0-9a-zA-Z]{0,30}"
        ) {
            let t = id.trim();
            let want = match t.trim_start_matches('0') {
                _ if t.is_empty() => None,
                "" => Some("0".to_string()),
                s => Some(s.to_ascii_lowercase()),
            };
            prop_assert_eq!(IdKey::of(&id).map(|k| k.as_str().to_string()), want);
        }
    }
}

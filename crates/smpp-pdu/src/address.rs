//! Addresses and their type of number (TON) and numbering plan (NPI), reference §7.1 and
//! §7.2, and the one rule that picks them for an address given as text ([`classify`]).
//!
//! The rule lives here, without I/O, so that every face of the toolkit (the blocking
//! client, the command line, bindings) sends the same address the same way:
//!
//! | address as given | sent as | TON / NPI |
//! |---|---|---|
//! | empty | empty (the SMSC's default) | the fallback |
//! | digits only (`447700900123`, `12345`) | as given | the fallback |
//! | `+` then digits (`+447700900123`) | without the `+` | 1 international / 1 ISDN |
//! | anything else (`MyBrand`, `Shop 24`) | as given, at most 11 characters | 5 alphanumeric / 0 unknown |
//!
//! An alphanumeric address longer than 11 characters is an error
//! ([`AddressError::AlphanumericTooLong`]): the GSM network carries at most 11 characters
//! of an alphanumeric originator (TP-OA of 3GPP TS 23.040), so an SMSC refuses or truncates
//! it. A `+` that is not followed by digits only (`+44 7700`, `+`) is an error too
//! ([`AddressError::InvalidInternational`]), rather than a guess.
//!
//! ```
//! use smpp_pdu::address::{classify, Npi, Ton};
//!
//! let fallback = (Ton::UNKNOWN, Npi::UNKNOWN);
//! let a = classify("+447700900123", fallback).unwrap();
//! assert_eq!((a.ton, a.npi, a.addr), (Ton::INTERNATIONAL, Npi::ISDN, "447700900123"));
//! let a = classify("MyBrand", fallback).unwrap();
//! assert_eq!((a.ton, a.npi, a.addr), (Ton::ALPHANUMERIC, Npi::UNKNOWN, "MyBrand"));
//! let a = classify("12345", fallback).unwrap();
//! assert_eq!((a.ton, a.npi, a.addr), (Ton::UNKNOWN, Npi::UNKNOWN, "12345"));
//! assert!(classify("MyVeryLongBrand", fallback).is_err());
//! ```

use std::fmt;

/// Type of number (`*_addr_ton`, reference §7.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ton(pub u8);

impl Ton {
    /// 0: unknown.
    pub const UNKNOWN: Ton = Ton(0);
    /// 1: international (E.164 number with its country code, without `+`).
    pub const INTERNATIONAL: Ton = Ton(1);
    /// 2: national.
    pub const NATIONAL: Ton = Ton(2);
    /// 3: network specific.
    pub const NETWORK_SPECIFIC: Ton = Ton(3);
    /// 4: subscriber number.
    pub const SUBSCRIBER: Ton = Ton(4);
    /// 5: alphanumeric (sender ids such as `MyBrand`).
    pub const ALPHANUMERIC: Ton = Ton(5);
    /// 6: abbreviated (short codes).
    pub const ABBREVIATED: Ton = Ton(6);
}

/// Numbering plan indicator (`*_addr_npi`, reference §7.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Npi(pub u8);

impl Npi {
    /// 0: unknown.
    pub const UNKNOWN: Npi = Npi(0);
    /// 1: ISDN (E.163/E.164).
    pub const ISDN: Npi = Npi(1);
    /// 3: data (X.121).
    pub const DATA: Npi = Npi(3);
    /// 4: telex (F.69).
    pub const TELEX: Npi = Npi(4);
    /// 6: land mobile (E.212).
    pub const LAND_MOBILE: Npi = Npi(6);
    /// 8: national.
    pub const NATIONAL: Npi = Npi(8);
    /// 9: private.
    pub const PRIVATE: Npi = Npi(9);
    /// 10: ERMES.
    pub const ERMES: Npi = Npi(10);
    /// 14: internet (IP).
    pub const INTERNET: Npi = Npi(14);
    /// 18: WAP client id.
    pub const WAP: Npi = Npi(18);
}

impl fmt::Debug for Ton {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ton({})", self.0)
    }
}

impl fmt::Debug for Npi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Npi({})", self.0)
    }
}

impl From<Ton> for u8 {
    fn from(t: Ton) -> u8 {
        t.0
    }
}

impl From<Npi> for u8 {
    fn from(n: Npi) -> u8 {
        n.0
    }
}

/// Most characters of an alphanumeric address (TON 5).
pub const MAX_ALPHANUMERIC_LEN: usize = 11;

/// An address as it goes on the wire: TON, NPI and the address text (a slice of the
/// text given to [`classify`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address<'a> {
    /// Type of number.
    pub ton: Ton,
    /// Numbering plan.
    pub npi: Npi,
    /// The address to send, without a leading `+`.
    pub addr: &'a str,
}

/// Why an address cannot be sent as [`classify`] reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressError {
    /// An alphanumeric address longer than [`MAX_ALPHANUMERIC_LEN`] characters cannot be
    /// sent as TON 5.
    AlphanumericTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// A `+` not followed by digits only (`+`, `+44 7700 900123`).
    InvalidInternational,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::AlphanumericTooLong { len } => write!(
                f,
                "an alphanumeric address has at most {MAX_ALPHANUMERIC_LEN} characters, this one {len}"
            ),
            AddressError::InvalidInternational => {
                f.write_str("an international number is + followed by digits only")
            }
        }
    }
}

impl std::error::Error for AddressError {}

/// Picks the TON and NPI of `addr` by the rule in the [module documentation](self):
/// `+` and digits is international (1/1, the `+` removed), digits only or empty keep
/// `fallback`, anything else is alphanumeric (5/0, at most 11 characters).
pub fn classify(addr: &str, fallback: (Ton, Npi)) -> Result<Address<'_>, AddressError> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = addr.strip_prefix('+') {
        if rest.is_empty() || !digits(rest) {
            return Err(AddressError::InvalidInternational);
        }
        return Ok(Address {
            ton: Ton::INTERNATIONAL,
            npi: Npi::ISDN,
            addr: rest,
        });
    }
    if digits(addr) {
        return Ok(Address {
            ton: fallback.0,
            npi: fallback.1,
            addr,
        });
    }
    let len = addr.chars().count();
    if len > MAX_ALPHANUMERIC_LEN {
        return Err(AddressError::AlphanumericTooLong { len });
    }
    Ok(Address {
        ton: Ton::ALPHANUMERIC,
        npi: Npi::UNKNOWN,
        addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_as_a_table() {
        let fb = (Ton::NATIONAL, Npi::NATIONAL);
        let ok = |ton: Ton, npi: Npi, addr: &'static str| Ok(Address { ton, npi, addr });
        let cases: &[(&str, Result<Address<'static>, AddressError>)] = &[
            ("", ok(fb.0, fb.1, "")),
            ("12345", ok(fb.0, fb.1, "12345")),
            ("447700900123", ok(fb.0, fb.1, "447700900123")),
            ("0", ok(fb.0, fb.1, "0")),
            (
                "+447700900123",
                ok(Ton::INTERNATIONAL, Npi::ISDN, "447700900123"),
            ),
            ("+1", ok(Ton::INTERNATIONAL, Npi::ISDN, "1")),
            ("+", Err(AddressError::InvalidInternational)),
            ("+44 7700 900123", Err(AddressError::InvalidInternational)),
            ("+MyBrand", Err(AddressError::InvalidInternational)),
            ("MyBrand", ok(Ton::ALPHANUMERIC, Npi::UNKNOWN, "MyBrand")),
            ("Shop 24", ok(Ton::ALPHANUMERIC, Npi::UNKNOWN, "Shop 24")),
            ("12345A", ok(Ton::ALPHANUMERIC, Npi::UNKNOWN, "12345A")),
            (
                "ElevenChars",
                ok(Ton::ALPHANUMERIC, Npi::UNKNOWN, "ElevenChars"),
            ),
            ("Café", ok(Ton::ALPHANUMERIC, Npi::UNKNOWN, "Café")),
            (
                "TwelveChars!",
                Err(AddressError::AlphanumericTooLong { len: 12 }),
            ),
            (
                "Ünïcödé-Brånd",
                Err(AddressError::AlphanumericTooLong { len: 13 }),
            ),
        ];
        for (given, want) in cases {
            assert_eq!(&classify(given, fb), want, "classify({given:?})");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = classify("MyVeryLongBrand", (Ton::UNKNOWN, Npi::UNKNOWN)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "an alphanumeric address has at most 11 characters, this one 15"
        );
    }
}

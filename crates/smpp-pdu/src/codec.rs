//! Primitive wire types and the borrowed reader / appending writer they are coded with.

use std::borrow::Cow;
use std::fmt;

use byteorder::{BigEndian, ByteOrder};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::ids::CommandStatus;

macro_rules! byte_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
        pub struct $name<'a>(pub Cow<'a, [u8]>);

        impl<'a> $name<'a> {
            /// An empty value (encoded as the field's NULL form).
            pub const EMPTY: $name<'static> = $name(Cow::Borrowed(&[]));

            /// Wraps borrowed or owned bytes.
            pub fn new(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
                $name(bytes.into())
            }

            /// The bytes of the value.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The value as text, with invalid UTF-8 replaced.
            pub fn to_str_lossy(&self) -> Cow<'_, str> {
                String::from_utf8_lossy(&self.0)
            }

            /// The value as UTF-8 text, if it is valid UTF-8.
            pub fn as_str(&self) -> Option<&str> {
                std::str::from_utf8(&self.0).ok()
            }

            /// Length in octets (without any terminator).
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether the value is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// A copy that owns its bytes, independent of the input buffer.
            pub fn into_owned(self) -> $name<'static> {
                $name(Cow::Owned(self.0.into_owned()))
            }
        }

        impl<'a> From<&'a [u8]> for $name<'a> {
            fn from(v: &'a [u8]) -> Self {
                $name(Cow::Borrowed(v))
            }
        }
        impl<'a, const N: usize> From<&'a [u8; N]> for $name<'a> {
            fn from(v: &'a [u8; N]) -> Self {
                $name(Cow::Borrowed(&v[..]))
            }
        }
        impl<'a> From<&'a str> for $name<'a> {
            fn from(v: &'a str) -> Self {
                $name(Cow::Borrowed(v.as_bytes()))
            }
        }
        impl From<String> for $name<'static> {
            fn from(v: String) -> Self {
                $name(Cow::Owned(v.into_bytes()))
            }
        }
        impl From<Vec<u8>> for $name<'static> {
            fn from(v: Vec<u8>) -> Self {
                $name(Cow::Owned(v))
            }
        }
        impl PartialEq<str> for $name<'_> {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other.as_bytes()
            }
        }
        impl PartialEq<&str> for $name<'_> {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == other.as_bytes()
            }
        }
        impl PartialEq<[u8]> for $name<'_> {
            fn eq(&self, other: &[u8]) -> bool {
                &*self.0 == other
            }
        }
        impl AsRef<[u8]> for $name<'_> {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"")?;
                for &b in self.0.iter() {
                    for c in std::ascii::escape_default(b) {
                        f.write_str(std::str::from_utf8(&[c]).unwrap_or("?"))?;
                    }
                }
                f.write_str("\"")
            }
        }
    };
}

byte_string! {
    /// A C-octet string (reference notation `COS(n)`): ASCII text that is NUL-terminated on
    /// the wire. The value holds the bytes without the terminator.
    ///
    /// SMPP text is not guaranteed to be UTF-8, so this is bytes, not `str`.
    COctetString
}

byte_string! {
    /// An octet string (reference notation `OS`): raw bytes whose length comes from another
    /// field or from the TLV length.
    OctetString
}

/// A password field (`COS(9)`): bytes like [`COctetString`], but its `Debug` output never
/// shows them, so it can be logged safely.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Password<'a>(pub COctetString<'a>);

impl<'a> Password<'a> {
    /// Wraps a password.
    pub fn new(bytes: impl Into<COctetString<'a>>) -> Self {
        Password(bytes.into())
    }

    /// The password bytes. Take care not to log them.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// A copy that owns its bytes.
    pub fn into_owned(self) -> Password<'static> {
        Password(self.0.into_owned())
    }
}

impl fmt::Debug for Password<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl<'a, T: Into<COctetString<'a>>> From<T> for Password<'a> {
    fn from(v: T) -> Self {
        Password(v.into())
    }
}

/// A cursor over a PDU body that hands out sub-slices of the input (no copies).
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let r = &self.buf[self.pos..];
        self.pos = self.buf.len();
        r
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::truncated(field));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(DecodeError::truncated(field)),
        }
    }

    #[inline]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(BigEndian::read_u16(self.take(2, field)?))
    }

    #[inline]
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(BigEndian::read_u32(self.take(4, field)?))
    }

    /// Reads a C-octet string of at most `max` octets including the NUL.
    ///
    /// Tolerance: when the body ends before a NUL (and before `max` octets), the rest of
    /// the body is taken as the value, since some peers omit the final NUL of a body.
    #[inline]
    pub(crate) fn cstr(
        &mut self,
        field: &'static str,
        max: usize,
        status: CommandStatus,
    ) -> Result<COctetString<'a>, DecodeError> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        if rest.first() == Some(&0) {
            // The NULL value, the commonest case for optional fields.
            self.pos += 1;
            return Ok(COctetString(Cow::Borrowed(&[])));
        }
        let window = &rest[..rest.len().min(max)];
        match find_nul(window) {
            Some(i) => {
                self.pos += i + 1;
                Ok(COctetString(Cow::Borrowed(&window[..i])))
            }
            None if rest.len() < max => {
                self.pos = self.buf.len();
                Ok(COctetString(Cow::Borrowed(rest)))
            }
            None => Err(DecodeError::new(
                DecodeErrorKind::TooLong { max },
                field,
                status,
            )),
        }
    }

    /// Reads an SMPP time field: NULL or exactly 16 characters plus the NUL.
    #[inline]
    pub(crate) fn time(
        &mut self,
        field: &'static str,
        status: CommandStatus,
    ) -> Result<COctetString<'a>, DecodeError> {
        let v = self.cstr(field, 17, status)?;
        if v.is_empty() || v.len() == 16 {
            Ok(v)
        } else {
            Err(DecodeError::new(
                DecodeErrorKind::InvalidLength,
                field,
                status,
            ))
        }
    }

    /// Reads `sm_length` and the `short_message` it announces.
    #[inline]
    pub(crate) fn short_message(&mut self) -> Result<OctetString<'a>, DecodeError> {
        let n = self.u8("sm_length")? as usize;
        if self.remaining() < n {
            return Err(DecodeError::new(
                DecodeErrorKind::Truncated,
                "short_message",
                CommandStatus::ESME_RINVMSGLEN,
            ));
        }
        Ok(OctetString(Cow::Borrowed(self.take(n, "short_message")?)))
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The index of the first NUL octet in `v`, checking eight octets at a time.
///
/// `(x - LO) & !x & HI` flags every zero byte of a word; it may also flag a 0x01 byte that
/// follows a zero byte, but the lowest flag is always a true zero, and that is the one used.
#[inline]
pub(crate) fn find_nul(v: &[u8]) -> Option<usize> {
    let mut chunks = v.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        let flags = x.wrapping_sub(LO) & !x & HI;
        if flags != 0 {
            return Some(base + (flags.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|i| base + i)
}

/// Whether the 32-bit word `x` has a zero byte (exact: the false flags of the trick only
/// sit above a true zero).
#[inline(always)]
fn zero_in_u32(x: u32) -> bool {
    x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080 != 0
}

/// Whether the 64-bit word `x` has a zero byte (exact, as [`zero_in_u32`]).
#[inline(always)]
fn zero_in_u64(x: u64) -> bool {
    x.wrapping_sub(LO) & !x & HI != 0
}

#[inline(always)]
fn word32(v: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&v[at..at + 4]);
    u32::from_le_bytes(w)
}

#[inline(always)]
fn word64(v: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&v[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Whether `v` contains a NUL octet.
///
/// Checks eight octets at a time, and the tail (or a whole value of 4 to 8 octets, the
/// usual address) as words that overlap the octets already checked, so no value shorter
/// than the longest field takes a byte-by-byte loop.
#[inline(always)]
pub(crate) fn has_nul(v: &[u8]) -> bool {
    let n = v.len();
    if n < 4 {
        // At most three octets: a plain loop (`contains` would call `memchr`).
        #[allow(clippy::manual_contains)]
        let found = v.iter().any(|&b| b == 0);
        return found;
    }
    if n <= 8 {
        return zero_in_u32(word32(v, 0)) || zero_in_u32(word32(v, n - 4));
    }
    let mut at = 0;
    while at + 8 <= n {
        if zero_in_u64(word64(v, at)) {
            return true;
        }
        at += 8;
    }
    at < n && zero_in_u64(word64(v, n - 8))
}

/// Writes the mandatory fields of a PDU into the part of the output that the encoder has
/// already sized and zero-filled.
///
/// Every field was validated, and the whole length computed, before the first write, so
/// writing cannot fail: each write is a copy into the slice, with no capacity check and no
/// second look at the value. The slice is zero-filled, so the NUL of a C-octet string, and
/// the whole of an empty one, is already in place: writing one only advances the position.
/// A write that would pass the end (a length computation that disagrees with the writer,
/// which is a bug) is dropped rather than panicking; the encoder compares [`FieldWriter::pos`]
/// with the length it computed and reports the mismatch.
pub(crate) struct FieldWriter<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> FieldWriter<'b> {
    #[inline(always)]
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        FieldWriter { buf, pos: 0 }
    }

    /// Octets written so far.
    #[inline(always)]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    pub(crate) fn u8(&mut self, v: u8) {
        if let Some(b) = self.buf.get_mut(self.pos) {
            *b = v;
        }
        self.pos += 1;
    }

    #[inline(always)]
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    #[inline(always)]
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        let end = self.pos + v.len();
        if let Some(d) = self.buf.get_mut(self.pos..end) {
            d.copy_from_slice(v);
        }
        self.pos = end;
    }

    /// A checked C-octet string and its NUL (already in place).
    #[inline(always)]
    pub(crate) fn cstr(&mut self, v: &[u8]) {
        if !v.is_empty() {
            self.bytes(v);
        }
        self.pos += 1;
    }

    /// A checked `short_message` and its `sm_length`.
    #[inline(always)]
    pub(crate) fn short_message(&mut self, v: &[u8]) {
        self.u8(v.len() as u8);
        self.bytes(v);
    }
}

/// Validation of the mandatory fields, done in the sizing pass of the encoder: each
/// function checks one field exactly as the appending writer did and returns its octets on
/// the wire.
pub(crate) mod check {
    use super::*;

    /// A C-octet string: `max` counts the NUL.
    #[inline(always)]
    pub(crate) fn cstr(v: &[u8], field: &'static str, max: usize) -> Result<usize, EncodeError> {
        put::check_cstr(v, field, max)?;
        Ok(v.len() + 1)
    }

    /// An SMPP time field: empty or 16 characters, then the NUL.
    #[inline(always)]
    pub(crate) fn time(v: &[u8], field: &'static str) -> Result<usize, EncodeError> {
        if !(v.is_empty() || v.len() == 16) {
            return Err(EncodeError::InvalidLength { field });
        }
        cstr(v, field, 17)
    }

    /// `sm_length` and `short_message`.
    #[inline(always)]
    pub(crate) fn short_message(v: &[u8]) -> Result<usize, EncodeError> {
        if v.len() > put::SHORT_MESSAGE_MAX {
            return Err(EncodeError::FieldTooLong {
                field: "short_message",
                max: put::SHORT_MESSAGE_MAX,
            });
        }
        Ok(v.len() + 1)
    }
}

/// The encoder before [`FieldWriter`]: appends each field to the output `Vec`, checking it
/// as it goes. Kept for tests, as the reference the new encoder must match octet for octet
/// and error for error.
#[cfg(test)]
pub(crate) struct Writer<'b> {
    out: &'b mut Vec<u8>,
    start: usize,
}

#[cfg(test)]
impl<'b> Writer<'b> {
    pub(crate) fn new(out: &'b mut Vec<u8>) -> Self {
        let start = out.len();
        Writer { out, start }
    }

    /// Octets written so far.
    pub(crate) fn pos(&self) -> usize {
        self.out.len() - self.start
    }

    #[inline]
    pub(crate) fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    #[inline]
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    #[inline]
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.out.extend_from_slice(v);
    }

    /// Writes a C-octet string and its NUL after checking its length (`max` counts the
    /// NUL) and that it holds no NUL.
    #[inline]
    pub(crate) fn cstr(
        &mut self,
        v: &[u8],
        field: &'static str,
        max: usize,
    ) -> Result<(), EncodeError> {
        put::check_cstr(v, field, max)?;
        self.bytes(v);
        self.u8(0);
        Ok(())
    }

    /// Writes an SMPP time field: empty or 16 characters, then the NUL.
    #[inline]
    pub(crate) fn time(&mut self, v: &[u8], field: &'static str) -> Result<(), EncodeError> {
        if !(v.is_empty() || v.len() == 16) {
            return Err(EncodeError::InvalidLength { field });
        }
        self.cstr(v, field, 17)
    }

    /// Writes `sm_length` and `short_message`.
    #[inline]
    pub(crate) fn short_message(&mut self, v: &[u8]) -> Result<(), EncodeError> {
        if v.len() > put::SHORT_MESSAGE_MAX {
            return Err(EncodeError::FieldTooLong {
                field: "short_message",
                max: put::SHORT_MESSAGE_MAX,
            });
        }
        self.u8(v.len() as u8);
        self.bytes(v);
        Ok(())
    }
}

/// Appending writer helpers for variable-length parts (TLVs). Every function validates
/// the field before writing it.
pub(crate) mod put {
    use super::*;

    #[inline]
    pub(crate) fn u16(out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&v.to_be_bytes());
    }

    #[inline]
    pub(crate) fn u32(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_be_bytes());
    }

    /// Checks a C-octet string against its maximum (NUL included) and for inner NULs.
    #[inline]
    pub(crate) fn check_cstr(v: &[u8], field: &'static str, max: usize) -> Result<(), EncodeError> {
        if v.len() >= max {
            return Err(EncodeError::FieldTooLong { field, max });
        }
        if has_nul(v) {
            return Err(EncodeError::ContainsNul { field });
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn cstr(
        out: &mut Vec<u8>,
        v: &COctetString<'_>,
        field: &'static str,
        max: usize,
    ) -> Result<(), EncodeError> {
        check_cstr(&v.0, field, max)?;
        out.extend_from_slice(&v.0);
        out.push(0);
        Ok(())
    }

    /// Largest `short_message` the encoder writes: the SMPP 3.4 limit (5.0 allows 255; the
    /// decoder accepts it).
    pub(crate) const SHORT_MESSAGE_MAX: usize = 254;
}

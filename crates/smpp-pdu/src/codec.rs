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

/// Flags of the zero bytes of `x`: non-zero exactly when `x` has a zero byte (see
/// [`find_nul`] for the trick), so flags can be ORed over many words and tested once.
#[inline(always)]
fn nul_flags64(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// [`nul_flags64`] of a 16-octet block, as two words.
#[inline(always)]
fn nul_flags128(b: &[u8; 16]) -> u64 {
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(&b[..8]);
    hi.copy_from_slice(&b[8..]);
    nul_flags64(u64::from_le_bytes(lo)) | nul_flags64(u64::from_le_bytes(hi))
}

/// Copies `v` to the start of `d` and returns flags that are non-zero exactly when `v`
/// holds a NUL octet, reading each octet of `v` once for both.
///
/// Every field of the fixed part is at most 254 octets, so instead of a call to `memcpy`
/// and a separate scan, a value is moved in fixed-size blocks that may overlap: 1 to 3
/// octets as three single octets (first, middle, last), 4 to 8 as two 4-octet words, 9 to
/// 16 as two 8-octet words, 17 to 32 as two 16-octet blocks, longer values as 32-octet
/// blocks and a last block that ends with the value. Octets written twice get the same
/// value both times. When `d` is too short nothing is written and the flags are zero (the
/// writer's length check reports that case).
#[inline(always)]
pub(crate) fn copy_and_flag_nul(d: &mut [u8], v: &[u8]) -> u64 {
    let n = v.len();
    let Some(d) = d.get_mut(..n) else {
        return 0;
    };
    if n == 0 {
        0
    } else if n < 4 {
        let (a, b, c) = (v[0], v[n / 2], v[n - 1]);
        d[0] = a;
        d[n / 2] = b;
        d[n - 1] = c;
        nul_flags64(u64::from_le_bytes([a, b, c, 1, 1, 1, 1, 1]))
    } else if n <= 8 {
        let mut a = [0u8; 4];
        let mut b = [0u8; 4];
        a.copy_from_slice(&v[..4]);
        b.copy_from_slice(&v[n - 4..]);
        d[..4].copy_from_slice(&a);
        d[n - 4..].copy_from_slice(&b);
        nul_flags64(u64::from(u32::from_le_bytes(a)) | u64::from(u32::from_le_bytes(b)) << 32)
    } else if n <= 16 {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&v[..8]);
        b.copy_from_slice(&v[n - 8..]);
        d[..8].copy_from_slice(&a);
        d[n - 8..].copy_from_slice(&b);
        nul_flags64(u64::from_le_bytes(a)) | nul_flags64(u64::from_le_bytes(b))
    } else if n <= 32 {
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        a.copy_from_slice(&v[..16]);
        b.copy_from_slice(&v[n - 16..]);
        d[..16].copy_from_slice(&a);
        d[n - 16..].copy_from_slice(&b);
        nul_flags128(&a) | nul_flags128(&b)
    } else {
        let mut flags = 0;
        let mut block = [0u8; 32];
        let mut at = 0;
        while at + 32 < n {
            block.copy_from_slice(&v[at..at + 32]);
            d[at..at + 32].copy_from_slice(&block);
            flags |= block_flags(&block);
            at += 32;
        }
        block.copy_from_slice(&v[n - 32..]);
        d[n - 32..].copy_from_slice(&block);
        flags | block_flags(&block)
    }
}

/// [`nul_flags64`] of a 32-octet block.
#[inline(always)]
fn block_flags(b: &[u8; 32]) -> u64 {
    let mut lo = [0u8; 16];
    let mut hi = [0u8; 16];
    lo.copy_from_slice(&b[..16]);
    hi.copy_from_slice(&b[16..]);
    nul_flags128(&lo) | nul_flags128(&hi)
}

/// Writes the mandatory fields of a PDU into the part of the output that the encoder has
/// already sized and zero-filled.
///
/// The lengths of all fields were checked, and the whole length computed, before the first
/// write, so writing cannot fail on length: each write is a copy into the slice, with no
/// capacity check. The slice is zero-filled, so the NUL of a C-octet string, and the whole
/// of an empty one, is already in place: writing one copies only its octets. What is left
/// to check, whether a C-octet string holds a NUL, is done on the octets as they are copied
/// ([`copy_and_flag_nul`]): the writes of C-octet strings return NUL flags, which the
/// encoder ORs together and tests once at the end.
/// A write that would pass the end (a length computation that disagrees with the writer,
/// which is a bug) is dropped rather than panicking; the encoder compares [`FieldWriter::pos`]
/// with the length it computed and reports the mismatch.
pub(crate) struct FieldWriter<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> FieldWriter<'b> {
    /// A writer whose first `pos` octets are already written.
    #[inline(always)]
    pub(crate) fn at(buf: &'b mut [u8], pos: usize) -> Self {
        FieldWriter { buf, pos }
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

    /// Octets of a size known at compile time, such as a run of one-octet fields.
    #[inline(always)]
    pub(crate) fn array<const K: usize>(&mut self, v: &[u8; K]) {
        if let Some(d) = self.buf.get_mut(self.pos..self.pos + K) {
            d.copy_from_slice(v);
        }
        self.pos += K;
    }

    #[inline(always)]
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        let end = self.pos + v.len();
        if let Some(d) = self.buf.get_mut(self.pos..end) {
            d.copy_from_slice(v);
        }
        self.pos = end;
    }

    /// A C-octet string whose length was checked, and its NUL (already in place). Returns
    /// the NUL flags of the value ([`copy_and_flag_nul`]): non-zero when it holds a NUL and
    /// so may not be sent.
    #[inline(always)]
    pub(crate) fn cstr(&mut self, v: &[u8]) -> u64 {
        let n = v.len();
        let mut flags = 0;
        if let Some(d) = self.buf.get_mut(self.pos..self.pos + n) {
            flags = copy_and_flag_nul(d, v);
        }
        self.pos += n + 1;
        flags
    }

    /// A checked `short_message` and its `sm_length`.
    #[inline(always)]
    pub(crate) fn short_message(&mut self, v: &[u8]) {
        let n = v.len();
        let end = self.pos + n + 1;
        if let Some(d) = self.buf.get_mut(self.pos..end) {
            d[0] = n as u8;
            copy_and_flag_nul(&mut d[1..], v);
        }
        self.pos = end;
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

    /// The length part of [`cstr`], for the fast pass of the encoder: the octets on the
    /// wire, and whether the length fits (the NUL check is left to the writer).
    #[inline(always)]
    pub(crate) fn cstr_len(v: &[u8], max: usize) -> (usize, bool) {
        (v.len() + 1, v.len() < max)
    }

    /// The length part of [`time`]: empty or 16 characters.
    #[inline(always)]
    pub(crate) fn time_len(v: &[u8]) -> (usize, bool) {
        (v.len() + 1, v.len() | 16 == 16)
    }

    /// [`short_message`] in the form of [`cstr_len`].
    #[inline(always)]
    pub(crate) fn short_message_len(v: &[u8]) -> (usize, bool) {
        (v.len() + 1, v.len() <= put::SHORT_MESSAGE_MAX)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length a fixed-part field can have, with no NUL and with a NUL at every
    /// position: the copy is exact, the octets after it are untouched, and the flags are
    /// non-zero exactly when there is a NUL (and agree with `has_nul`).
    #[test]
    fn copy_and_flag_nul_copies_every_length_and_finds_every_nul() {
        for n in 0..=300usize {
            let clean: Vec<u8> = (0..n).map(|i| 1 + (i % 255) as u8).collect();
            let mut cases = vec![(clean.clone(), false)];
            for at in 0..n {
                let mut v = clean.clone();
                v[at] = 0;
                cases.push((v, true));
            }
            for (v, nul) in cases {
                let mut d = vec![0xAAu8; n + 40];
                let flags = copy_and_flag_nul(&mut d, &v);
                assert_eq!(&d[..n], &v[..], "length {n}");
                assert!(d[n..].iter().all(|&b| b == 0xAA), "length {n}: wrote past");
                assert_eq!(flags != 0, nul, "length {n}: {v:?}");
                assert_eq!(has_nul(&v), nul, "length {n}");
            }
            // A destination too short for the value: nothing written, no flags.
            if n > 0 {
                let mut d = vec![0xAAu8; n - 1];
                assert_eq!(copy_and_flag_nul(&mut d, &vec![0; n]), 0);
                assert!(d.iter().all(|&b| b == 0xAA));
            }
        }
    }

    /// 0x01 after a NUL, the octets that the word trick may flag falsely, and 0x80 and
    /// 0xFF, the octets with the high bit it tests: flags only for a real NUL.
    #[test]
    fn nul_flags_have_no_false_positives() {
        for n in 1..=64usize {
            for fill in [0x01u8, 0x7F, 0x80, 0x81, 0xFE, 0xFF] {
                let v = vec![fill; n];
                let mut d = vec![0u8; n];
                assert_eq!(copy_and_flag_nul(&mut d, &v), 0, "{n} x {fill:#x}");
                let mut w = v.clone();
                w[n / 2] = 0;
                assert_ne!(copy_and_flag_nul(&mut d, &w), 0, "{n} x {fill:#x}");
            }
        }
    }
}

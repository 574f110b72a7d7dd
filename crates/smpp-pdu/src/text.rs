//! Text encodings for `short_message` and `message_payload` (reference §7.6, §11).
//!
//! Supported `data_coding` values: 0 (the SMSC default alphabet, configurable, usually
//! GSM 03.38), 1 (IA5/ASCII), 3 (Latin-1), 8 (UCS-2, with UTF-16 surrogate pairs for
//! characters beyond the Basic Multilingual Plane) and 2/4 (binary).
//!
//! Encoding never substitutes: a character the alphabet cannot hold is an
//! [`TextError::Unrepresentable`] naming the character and its position.
//! Decoding is tolerant: it never fails on bytes a peer sent, and marks what it cannot map
//! with U+FFFD, except GSM's undefined escapes, which follow 3GPP 23.038 (the basic-table
//! character of the second septet).

use std::fmt;

/// The GSM 03.38 basic table: septet value to character.
const GSM_BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// Carriage return, the 3GPP 23.038 padding for spare bits at the end of packed text.
const GSM_CR: u8 = 0x0D;

/// The escape septet that introduces the extension table.
pub const GSM_ESCAPE: u8 = 0x1B;

/// The GSM 03.38 extension table: (septet after ESC, character).
const GSM_EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Septet of each character below U+0100 in the basic table, `0xFF` where there is none.
const GSM_LOW: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 128 {
        let c = GSM_BASIC[i] as u32;
        if c < 256 && i != GSM_ESCAPE as usize {
            t[c as usize] = i as u8;
        }
        i += 1;
    }
    t
};

/// The septet of `c` in the basic table.
#[inline]
fn gsm_basic(c: char) -> Option<u8> {
    let u = c as u32;
    if u < 256 {
        let s = GSM_LOW[u as usize];
        return (s != 0xFF).then_some(s);
    }
    Some(match c {
        'Δ' => 0x10,
        'Φ' => 0x12,
        'Γ' => 0x13,
        'Λ' => 0x14,
        'Ω' => 0x15,
        'Π' => 0x16,
        'Ψ' => 0x17,
        'Σ' => 0x18,
        'Θ' => 0x19,
        'Ξ' => 0x1A,
        _ => return None,
    })
}

/// The septet after ESC for `c` in the extension table.
#[inline]
fn gsm_extension(c: char) -> Option<u8> {
    GSM_EXTENSION.iter().find(|(_, e)| *e == c).map(|(s, _)| *s)
}

/// How one character is written in GSM 03.38: one septet, or ESC and a septet.
#[inline]
fn gsm_septets_of(c: char) -> Option<(u8, Option<u8>)> {
    match gsm_basic(c) {
        Some(s) => Some((s, None)),
        None => gsm_extension(c).map(|s| (GSM_ESCAPE, Some(s))),
    }
}

/// An alphabet a text can be encoded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GSM 03.38 default alphabet with its extension table, one septet per octet (the
    /// usual form over SMPP; the SMSC packs it for the air interface).
    Gsm7,
    /// GSM 03.38, packed eight septets into seven octets.
    Gsm7Packed,
    /// IA5 / ASCII (`data_coding` 1).
    Ascii,
    /// ISO-8859-1 (`data_coding` 3).
    Latin1,
    /// UCS-2, big-endian, with UTF-16 surrogate pairs beyond the BMP (`data_coding` 8).
    Ucs2,
    /// 8-bit binary (`data_coding` 4 or 2): bytes, not text.
    Binary,
}

impl Encoding {
    /// Bits per character unit on the air interface, for comparing costs.
    pub fn unit_bits(self) -> u32 {
        match self {
            Encoding::Gsm7 | Encoding::Gsm7Packed => 7,
            Encoding::Ascii | Encoding::Latin1 | Encoding::Binary => 8,
            Encoding::Ucs2 => 16,
        }
    }

    /// Whether this is one of the GSM 03.38 forms.
    pub fn is_gsm(self) -> bool {
        matches!(self, Encoding::Gsm7 | Encoding::Gsm7Packed)
    }
}

/// How this link interprets text: what `data_coding` 0 means, and which other alphabets
/// [`choose`] may pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TextConfig {
    /// The alphabet an SMSC means by `data_coding` 0. SMSCs disagree: most use GSM 03.38
    /// unpacked, some Latin-1 or ASCII, a few packed GSM.
    pub smsc_default: Encoding,
    /// Whether [`choose`] may pick Latin-1 (`data_coding` 3) for text that GSM cannot hold
    /// but Latin-1 can. Off by default: not every SMSC supports it.
    pub allow_latin1: bool,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            smsc_default: Encoding::Gsm7,
            allow_latin1: false,
        }
    }
}

impl TextConfig {
    /// Sets what `data_coding` 0 means.
    pub fn smsc_default(mut self, encoding: Encoding) -> Self {
        self.smsc_default = encoding;
        self
    }

    /// Lets [`choose`] pick Latin-1.
    pub fn allow_latin1(mut self, allow: bool) -> Self {
        self.allow_latin1 = allow;
        self
    }

    /// The `data_coding` that announces `encoding` on this link, or `None` when the link
    /// has no value for it (GSM when the SMSC default is something else).
    pub fn data_coding(&self, encoding: Encoding) -> Option<u8> {
        match encoding {
            e if e == self.smsc_default => Some(0),
            Encoding::Gsm7 | Encoding::Gsm7Packed => None,
            Encoding::Ascii => Some(1),
            Encoding::Latin1 => Some(3),
            Encoding::Ucs2 => Some(8),
            Encoding::Binary => Some(4),
        }
    }

    /// The encoding a received `data_coding` announces, or `None` for an alphabet this
    /// crate does not decode (JIS, Cyrillic, ...). The GSM message-class values
    /// `0xF0..=0xFF` map to GSM (bit 2 clear) or binary (bit 2 set).
    pub fn encoding_of(&self, data_coding: u8) -> Option<Encoding> {
        Some(match data_coding {
            0 => self.smsc_default,
            1 => Encoding::Ascii,
            2 | 4 => Encoding::Binary,
            3 => Encoding::Latin1,
            8 => Encoding::Ucs2,
            0xF0..=0xFF if data_coding & 0x04 == 0 => Encoding::Gsm7,
            0xF0..=0xFF => Encoding::Binary,
            _ => return None,
        })
    }
}

/// A text encoding or decoding failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TextError {
    /// The alphabet has no code for this character.
    Unrepresentable {
        /// The character.
        ch: char,
        /// Its position in the text, counted in characters from 0.
        position: usize,
        /// The alphabet that was asked for.
        encoding: Encoding,
    },
    /// Binary is not a text alphabet.
    NotText,
    /// The `data_coding` announces an alphabet this crate does not decode.
    UnsupportedDataCoding(u8),
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Unrepresentable { ch, position, encoding } => write!(
                f,
                "character {ch:?} (U+{:04X}) at position {position} cannot be encoded in {encoding:?}",
                *ch as u32
            ),
            TextError::NotText => f.write_str("binary data_coding does not carry text"),
            TextError::UnsupportedDataCoding(dc) => write!(f, "data_coding {dc:#04x} is not supported"),
        }
    }
}

impl std::error::Error for TextError {}

fn unrepresentable(ch: char, position: usize, encoding: Encoding) -> TextError {
    TextError::Unrepresentable {
        ch,
        position,
        encoding,
    }
}

/// The number of GSM septets `text` takes (extension characters count two), or the first
/// character GSM cannot hold.
pub fn gsm_septet_count(text: &str) -> Result<usize, TextError> {
    let mut n = 0;
    for (i, c) in text.chars().enumerate() {
        match gsm_septets_of(c) {
            Some((_, None)) => n += 1,
            Some((_, Some(_))) => n += 2,
            None => return Err(unrepresentable(c, i, Encoding::Gsm7)),
        }
    }
    Ok(n)
}

/// Whether every character of `text` is in the GSM 03.38 alphabet (with its extension).
pub fn is_gsm(text: &str) -> bool {
    text.chars().all(|c| gsm_septets_of(c).is_some())
}

/// Encodes `text` as GSM septets, one per octet, appending to `out`.
pub fn encode_gsm_unpacked(text: &str, out: &mut Vec<u8>) -> Result<(), TextError> {
    encode_gsm_septets(text, out, Encoding::Gsm7)
}

/// GSM septets of `text`; errors name `encoding`, the form the caller asked for.
fn encode_gsm_septets(text: &str, out: &mut Vec<u8>, encoding: Encoding) -> Result<(), TextError> {
    let start = out.len();
    for (i, c) in text.chars().enumerate() {
        match gsm_septets_of(c) {
            Some((s, None)) => out.push(s),
            Some((esc, Some(s))) => out.extend_from_slice(&[esc, s]),
            None => {
                out.truncate(start);
                return Err(unrepresentable(c, i, encoding));
            }
        }
    }
    Ok(())
}

/// Decodes GSM septets (one per octet; the top bit is ignored).
///
/// An escape followed by a septet the extension table does not define decodes as the
/// basic-table character of that septet, and a double escape as a space, as 3GPP 23.038
/// asks of receivers; a lone escape at the very end introduces nothing and is dropped.
pub fn decode_gsm_unpacked(septets: &[u8]) -> String {
    let mut s = String::with_capacity(septets.len());
    let mut it = septets.iter().map(|b| b & 0x7F);
    while let Some(b) = it.next() {
        if b == GSM_ESCAPE {
            if let Some(e) = it.next() {
                match GSM_EXTENSION.iter().find(|(k, _)| *k == e) {
                    Some((_, c)) => s.push(*c),
                    None if e == GSM_ESCAPE => s.push(' '),
                    None => s.push(GSM_BASIC[e as usize]),
                }
            }
        } else {
            s.push(GSM_BASIC[b as usize]);
        }
    }
    s
}

/// Packs septets LSB-first into octets (3GPP 23.038 §6.1.2.1), after `fill_bits` zero bits
/// (0 to 6: the padding that aligns text after a User Data Header on a septet boundary).
pub fn pack_septets(septets: &[u8], fill_bits: u8, out: &mut Vec<u8>) {
    let start = out.len();
    let total_bits = fill_bits as usize + septets.len() * 7;
    out.resize(start + total_bits.div_ceil(8), 0);
    let buf = &mut out[start..];
    for (i, &s) in septets.iter().enumerate() {
        let bit = fill_bits as usize + i * 7;
        let (byte, shift) = (bit / 8, bit % 8);
        let s = (s & 0x7F) as u16;
        let v = s << shift;
        buf[byte] |= v as u8;
        if shift > 1 {
            buf[byte + 1] |= (v >> 8) as u8;
        }
    }
}

/// Adds the CR padding 3GPP 23.038 §6.1.2.3.1 asks for before packing septets after
/// `fill_bits`: when the last octet would end in seven spare bits (which a receiver that
/// does not know the septet count reads as '@'), and when the text fills its octets exactly
/// and ends in a CR of its own (which a receiver would drop as padding).
pub fn pad_with_cr(septets: &mut Vec<u8>, fill_bits: u8) {
    let bits = fill_bits as usize + 7 * septets.len();
    let spare_septet = bits % 8 == 1;
    let exact_ending_in_cr = bits % 8 == 0 && septets.last() == Some(&GSM_CR);
    if spare_septet || exact_ending_in_cr {
        septets.push(GSM_CR);
    }
}

/// Unpacks `count` septets from packed octets, skipping `fill_bits` leading bits.
/// Stops early (tolerantly) if the octets run out.
pub fn unpack_septets(packed: &[u8], count: usize, fill_bits: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let bit = fill_bits as usize + i * 7;
        let (byte, shift) = (bit / 8, bit % 8);
        let Some(&lo) = packed.get(byte) else { break };
        let hi = packed.get(byte + 1).copied().unwrap_or(0);
        let v = ((lo as u16) | ((hi as u16) << 8)) >> shift;
        if shift > 1 && packed.get(byte + 1).is_none() {
            break;
        }
        out.push((v & 0x7F) as u8);
    }
    out
}

/// The number of septets packed octets hold when the count is not known: `8n/7`, minus a
/// final septet that is only fill (7 zero bits when `7n mod 8 == 1`).
pub fn packed_septet_capacity(octets: usize, fill_bits: u8) -> usize {
    (octets * 8).saturating_sub(fill_bits as usize) / 7
}

/// Encodes `text` in `encoding`, appending to `out`. On error `out` is left as it was.
pub fn encode_into(text: &str, encoding: Encoding, out: &mut Vec<u8>) -> Result<(), TextError> {
    let start = out.len();
    let r = match encoding {
        Encoding::Gsm7 => encode_gsm_unpacked(text, out),
        Encoding::Gsm7Packed => {
            let mut septets = Vec::with_capacity(text.len() + 1);
            encode_gsm_septets(text, &mut septets, Encoding::Gsm7Packed).map(|()| {
                pad_with_cr(&mut septets, 0);
                pack_septets(&septets, 0, out)
            })
        }
        Encoding::Ascii => encode_8bit(text, out, 0x7F, Encoding::Ascii),
        Encoding::Latin1 => encode_8bit(text, out, 0xFF, Encoding::Latin1),
        Encoding::Ucs2 => {
            out.reserve(text.len() * 2);
            for u in text.encode_utf16() {
                out.extend_from_slice(&u.to_be_bytes());
            }
            Ok(())
        }
        Encoding::Binary => Err(TextError::NotText),
    };
    if r.is_err() {
        out.truncate(start);
    }
    r
}

/// Encodes `text` in `encoding` into a new buffer.
pub fn encode(text: &str, encoding: Encoding) -> Result<Vec<u8>, TextError> {
    let mut v = Vec::with_capacity(text.len() * if encoding == Encoding::Ucs2 { 2 } else { 1 });
    encode_into(text, encoding, &mut v)?;
    Ok(v)
}

fn encode_8bit(
    text: &str,
    out: &mut Vec<u8>,
    max: u32,
    encoding: Encoding,
) -> Result<(), TextError> {
    out.reserve(text.len());
    for (i, c) in text.chars().enumerate() {
        if c as u32 > max {
            return Err(unrepresentable(c, i, encoding));
        }
        out.push(c as u8);
    }
    Ok(())
}

/// Decodes bytes in `encoding`. Never fails on peer input: UCS-2 lone surrogates and a
/// trailing odd octet decode as U+FFFD, ASCII octets above 0x7F as U+FFFD. Packed GSM
/// decodes every whole septet the octets hold (a final fill septet, CR or zero, is dropped
/// when the octets hold a multiple of 8 septets);
/// use [`unpack_septets`] when the septet count is known. Binary is an error.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, TextError> {
    Ok(match encoding {
        Encoding::Gsm7 => decode_gsm_unpacked(bytes),
        Encoding::Gsm7Packed => {
            let mut septets = unpack_septets(bytes, packed_septet_capacity(bytes.len(), 0), 0);
            // With 8n-1 septets the last octet ends in seven fill bits: CR as 3GPP 23.038
            // asks, or zeros from some senders (which would read as '@'). Drop either.
            if septets.len() % 8 == 0 && matches!(septets.last(), Some(&0) | Some(&GSM_CR)) {
                septets.pop();
            }
            decode_gsm_unpacked(&septets)
        }
        Encoding::Ascii => bytes
            .iter()
            .map(|&b| if b < 0x80 { b as char } else { '\u{FFFD}' })
            .collect(),
        Encoding::Latin1 => bytes.iter().map(|&b| b as char).collect(),
        Encoding::Ucs2 => {
            let units = bytes.chunks(2).map(|c| {
                if c.len() == 2 {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    0xFFFD
                }
            });
            char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect()
        }
        Encoding::Binary => return Err(TextError::NotText),
    })
}

/// Picks the cheapest encoding that represents `text` exactly on this link: GSM 03.38
/// when the SMSC default is GSM and every character fits, then Latin-1 if allowed, then
/// UCS-2 (which holds every character).
pub fn choose(text: &str, config: &TextConfig) -> Encoding {
    if config.smsc_default.is_gsm() && is_gsm(text) {
        return config.smsc_default;
    }
    if config.smsc_default == Encoding::Ascii && text.is_ascii() {
        return Encoding::Ascii;
    }
    if (config.allow_latin1 || config.smsc_default == Encoding::Latin1)
        && text.chars().all(|c| (c as u32) < 0x100)
    {
        return Encoding::Latin1;
    }
    Encoding::Ucs2
}

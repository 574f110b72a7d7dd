//! The properties the fuzz targets check.
//!
//! This one file is included with `#[path]` by the fuzz targets (`fuzz/fuzz_targets/*.rs`)
//! and by the seed replay test (`crates/smpp-pdu/tests/fuzz_seeds.rs`), so the committed
//! seeds are checked by exactly the assertions the fuzzer uses. Each oracle takes arbitrary
//! bytes and panics when the codec breaks a promise of its public API.

// Each includer calls only some of the oracles.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use smpp_pdu::concat::{
    self, GiveUpReason, MessageKey, Pushed, Reassembler, ReassemblyConfig, SegmentError,
    SegmentInfo,
};
use smpp_pdu::receipt::{self, Receipt, ReceiptDate, ReceiptError, ReceiptState};
use smpp_pdu::text::{self, Encoding, TextConfig, TextError};
use smpp_pdu::time::{AbsoluteTime, SmppTime, TimeError};
use smpp_pdu::{CommandStatus, Header, Pdu, Tlv, DEFAULT_MAX_COMMAND_LENGTH, HEADER_LEN};

/// Bytes put in front of the encoder's output, to check that it appends and that a failed
/// encode leaves the buffer as it was.
const PREFIX: &[u8] = b"\xAA\xBB\xCC";

/// `decode_pdu`: decode, then re-encode and decode again.
///
/// - a decoded PDU used at least a header and at most the input, agrees with
///   [`Header::peek`], and survives `into_owned` unchanged;
/// - encoding it either fails and leaves the output untouched, or appends exactly the
///   length it returns;
/// - the encoded bytes decode to a PDU equal to the first one (the round-trip oracle);
/// - a decode error names a field and a non-zero `command_status`.
pub(crate) fn decode_pdu(data: &[u8]) {
    let (pdu, used) = match Pdu::decode(data) {
        Ok(Some(decoded)) => decoded,
        Ok(None) => {
            assert!(
                matches!(Header::peek(data), Ok(None)),
                "Pdu::decode waits for more input but Header::peek does not"
            );
            return;
        }
        Err(e) => {
            check_decode_error(&e);
            return;
        }
    };
    assert!(used <= data.len(), "used {used} of {} octets", data.len());
    assert!(used >= HEADER_LEN, "used {used} octets, less than a header");

    let header = match Header::peek(data) {
        Ok(Some(h)) => h,
        other => panic!("Pdu::decode framed a PDU but Header::peek says {other:?}"),
    };
    assert_eq!(header.command_length as usize, used);
    assert_eq!(pdu.command_id(), header.command_id);
    assert_eq!(pdu.command_status, header.command_status);
    assert_eq!(pdu.sequence_number, header.sequence_number);
    assert_eq!(pdu.clone().into_owned(), pdu, "into_owned changed the PDU");

    let mut out = PREFIX.to_vec();
    let len = match pdu.encode(&mut out) {
        Ok(len) => len,
        Err(e) => {
            // Tolerated input the encoder will not write (a 255-octet short_message, for
            // example) is fine, but the buffer must be left as it was.
            assert_eq!(out, PREFIX, "failed encode ({e}) changed the output buffer");
            assert!(!e.field().is_empty());
            return;
        }
    };
    assert_eq!(
        out.len(),
        PREFIX.len() + len,
        "encode returned a wrong length"
    );
    assert_eq!(&out[..PREFIX.len()], PREFIX, "encode overwrote the buffer");
    let wire = &out[PREFIX.len()..];

    // The encoder may write a few octets more than it read (NULs the peer left out), so a
    // PDU at the 64 KiB cap may grow past it: decode without a cap.
    let (again, used_again) = match Pdu::decode_with_max(wire, u32::MAX) {
        Ok(Some(decoded)) => decoded,
        Ok(None) => panic!("encoded PDU is incomplete: {wire:02x?}"),
        Err(e) => panic!("encoded PDU does not decode: {e}\n  pdu: {pdu:?}\n  wire: {wire:02x?}"),
    };
    assert_eq!(
        used_again,
        wire.len(),
        "re-decode did not use the whole encoding"
    );
    assert_eq!(
        again, pdu,
        "round trip changed the PDU\n  wire: {wire:02x?}"
    );
}

fn check_decode_error(e: &smpp_pdu::DecodeError) {
    assert_ne!(
        e.command_status(),
        CommandStatus::ESME_ROK,
        "{e:?} answers ESME_ROK"
    );
    assert!(!e.field().is_empty(), "{e:?} names no field");
    if e.is_fatal() {
        assert_eq!(e.command_status(), CommandStatus::ESME_RINVCMDLEN);
    }
    let _ = e.to_string();
}

/// The `command_length` cap `peek_header` tries besides the default and no cap at all:
/// derived from the last header octet (the low octet of `sequence_number`), from 16 to
/// 16336, so the fuzzer steers it together with the input.
pub(crate) fn derived_max(data: &[u8]) -> u32 {
    16 + 64 * u32::from(data.get(HEADER_LEN - 1).copied().unwrap_or(0))
}

/// `peek_header`: framing under three caps (default, derived, none).
///
/// - `Some(h)`: `16 <= h.command_length <= data.len()`, within the cap, and the fields are
///   the first 16 octets read big-endian;
/// - `None`: fewer than 4 octets, or a valid length larger than the input;
/// - `Err`: a length outside `16..=cap`, fatal, answered with `ESME_RINVCMDLEN`;
/// - a header accepted under a cap is accepted unchanged with no cap, and
///   [`Pdu::decode`] frames exactly as [`Header::peek`] does.
pub(crate) fn peek_header(data: &[u8]) {
    let max = derived_max(data);
    let default = check_peek(data, Header::peek(data), DEFAULT_MAX_COMMAND_LENGTH);
    let derived = check_peek(data, Header::peek_with_max(data, max), max);
    let uncapped = check_peek(data, Header::peek_with_max(data, u32::MAX), u32::MAX);
    for capped in [default, derived].into_iter().flatten() {
        assert_eq!(uncapped, Some(capped), "a larger cap changed the header");
    }

    let salvaged = Header::salvage_sequence_number(data);
    if data.len() >= HEADER_LEN {
        assert_eq!(salvaged, Some(be32(data, 12)));
    } else {
        assert_eq!(salvaged, None);
    }

    match Pdu::decode(data) {
        Ok(Some((_, used))) => {
            assert_eq!(Some(used), default.map(|h| h.command_length as usize));
        }
        Ok(None) => assert!(matches!(Header::peek(data), Ok(None))),
        Err(e) => check_decode_error(&e),
    }
}

fn check_peek(
    data: &[u8],
    result: Result<Option<Header>, smpp_pdu::DecodeError>,
    max: u32,
) -> Option<Header> {
    match result {
        Ok(Some(h)) => {
            let len = h.command_length as usize;
            assert!(len >= HEADER_LEN, "header with command_length {len}");
            assert!(
                len <= data.len(),
                "command_length {len} > {} octets",
                data.len()
            );
            assert!(
                h.command_length <= max,
                "command_length {len} above the cap {max}"
            );
            assert_eq!(h.command_length, be32(data, 0));
            assert_eq!(h.command_id.0, be32(data, 4));
            assert_eq!(h.command_status.0, be32(data, 8));
            assert_eq!(h.sequence_number, be32(data, 12));
            Some(h)
        }
        Ok(None) => {
            if data.len() >= 4 {
                let len = be32(data, 0);
                assert!(
                    (HEADER_LEN as u32..=max).contains(&len) && len as usize > data.len(),
                    "waits for more input, but command_length {len} (cap {max}) fits in {} \
                     octets or is invalid",
                    data.len()
                );
            }
            None
        }
        Err(e) => {
            assert!(
                data.len() >= 4,
                "error before command_length is readable: {e}"
            );
            let len = be32(data, 0);
            assert!(
                len < HEADER_LEN as u32 || len > max,
                "rejected a valid command_length {len} (cap {max}): {e}"
            );
            assert!(e.is_fatal(), "framing error {e:?} is not fatal");
            assert_eq!(e.command_status(), CommandStatus::ESME_RINVCMDLEN);
            assert_eq!(e.field(), "command_length");
            None
        }
    }
}

fn be32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

// ---------------------------------------------------------------------------------------
// text_decode
// ---------------------------------------------------------------------------------------

/// The text alphabets `text::decode` reads.
const TEXT_ENCODINGS: [Encoding; 5] = [
    Encoding::Gsm7,
    Encoding::Gsm7Packed,
    Encoding::Ascii,
    Encoding::Latin1,
    Encoding::Ucs2,
];

/// Every [`Encoding`], binary included, for the encoders and `choose`.
const ALL_ENCODINGS: [Encoding; 6] = [
    Encoding::Gsm7,
    Encoding::Gsm7Packed,
    Encoding::Ascii,
    Encoding::Latin1,
    Encoding::Ucs2,
    Encoding::Binary,
];

/// `text_decode`: the decoders, the encoders on what they decode, the septet packer and
/// `choose`.
///
/// - `decode` never fails on text alphabets, and fails with `NotText` on binary;
/// - GSM decodes to GSM characters; Latin-1 gives one character per octet, ASCII too;
/// - what each alphabet decodes (ASCII: without U+FFFD) re-encodes in it and decodes back
///   unchanged; packed GSM up to the ambiguity 3GPP 23.038 leaves at 8n septets ending in
///   `@` or CR (see [`same_text`]);
/// - the input read as UTF-8 encodes in exactly the alphabets that hold all of its
///   characters (packed GSM: its septets first, spare septet bits as CR), and a refusal
///   leaves the buffer alone and names the first character that does not fit, and the
///   alphabet asked for;
/// - `unpack_septets` (count and fill bits from the first three octets) returns
///   `min(count, capacity)` septets, the bits of the input, which pack back the same;
/// - `choose` picks an encoding that encodes the text, GSM whenever the link's default is
///   GSM and the text fits it, and one the link can announce with a `data_coding`.
pub(crate) fn text_decode(data: &[u8]) {
    for encoding in TEXT_ENCODINGS {
        let decoded = text::decode(data, encoding)
            .unwrap_or_else(|e| panic!("decode as {encoding:?} failed: {e}"));
        check_decoded(data, encoding, &decoded);
        // Packed GSM and ASCII read nothing the other readings cannot: `choose` (costly
        // under coverage instrumentation) skips them.
        if matches!(encoding, Encoding::Gsm7 | Encoding::Latin1 | Encoding::Ucs2) {
            check_choose(&decoded);
        }
    }
    assert_eq!(
        text::decode(data, Encoding::Binary),
        Err(TextError::NotText)
    );
    check_unpack(data);

    let utf8 = String::from_utf8_lossy(data);
    check_encode(&utf8);
    check_choose(&utf8);
}

/// What `data` decoded to in `encoding`.
fn check_decoded(data: &[u8], encoding: Encoding, decoded: &str) {
    let chars = decoded.chars().count();
    match encoding {
        Encoding::Gsm7 | Encoding::Gsm7Packed => {
            assert!(
                text::is_gsm(decoded),
                "{encoding:?} decoded {data:02x?} to non-GSM text {decoded:?}"
            );
            assert!(
                chars <= data.len() * 8 / 7,
                "{chars} characters from {data:02x?}"
            );
        }
        Encoding::Ascii | Encoding::Latin1 => assert_eq!(chars, data.len()),
        Encoding::Ucs2 => assert!(chars <= data.len().div_ceil(2)),
        Encoding::Binary => unreachable!("binary is not decoded as text"),
    }
    if encoding == Encoding::Ascii {
        assert_eq!(
            decoded.contains('\u{FFFD}'),
            data.iter().any(|&b| b >= 0x80)
        );
    }
    if decoded.contains('\u{FFFD}') && encoding != Encoding::Ucs2 {
        // Ascii marks octets above 0x7F; the alphabet cannot write U+FFFD back.
        return;
    }
    let encoded = text::encode(decoded, encoding)
        .unwrap_or_else(|e| panic!("{encoding:?} cannot re-encode {decoded:?} it decoded: {e}"));
    let again = text::decode(&encoded, encoding).expect("a text alphabet decodes");
    assert!(
        same_text(decoded, &again, encoding),
        "{encoding:?} round trip changed the text {decoded:?} to {again:?}\n  input:   \
         {data:02x?}\n  encoded: {encoded:02x?}"
    );
}

/// Whether `again`, decoded from the encoding of `text`, is `text`: exactly, or for packed
/// GSM up to the ambiguity 3GPP 23.038 §6.1.2.3.1 leaves a reader who does not know the
/// septet count: a text of 8n septets ending in `@` or CR may lose that character (it reads
/// as fill), and one ending in CR may gain a second CR (the padding the standard asks for,
/// which it defines to mean the same as one CR).
fn same_text(text: &str, again: &str, encoding: Encoding) -> bool {
    if again == text {
        return true;
    }
    if encoding != Encoding::Gsm7Packed {
        return false;
    }
    let n = text::gsm_septet_count(text).expect("GSM text");
    if n == 0 || n % 8 != 0 {
        return false;
    }
    let shorter = || text.get(..text.len() - 1) == Some(again);
    match text.chars().last() {
        Some('@') => shorter(),
        Some('\r') => shorter() || again.strip_prefix(text) == Some("\r"),
        _ => false,
    }
}

/// Encodes `text` in every alphabet: success exactly when the alphabet holds every
/// character, output appended, and decoded back to the same text; a failure leaves the
/// buffer as it was and names the first character that does not fit.
fn check_encode(text: &str) {
    let gsm_septets = text::gsm_septet_count(text);
    assert_eq!(gsm_septets.is_ok(), text::is_gsm(text));
    for encoding in ALL_ENCODINGS {
        let fits = match encoding {
            Encoding::Gsm7 | Encoding::Gsm7Packed => text::is_gsm(text),
            Encoding::Ascii => text.is_ascii(),
            Encoding::Latin1 => text.chars().all(|c| (c as u32) < 0x100),
            Encoding::Ucs2 => true,
            Encoding::Binary => false,
        };
        let mut out = PREFIX.to_vec();
        match text::encode_into(text, encoding, &mut out) {
            Ok(()) => {
                assert!(fits, "{encoding:?} encoded {text:?}, which it cannot hold");
                assert_eq!(&out[..PREFIX.len()], PREFIX, "encode overwrote the buffer");
                let encoded = &out[PREFIX.len()..];
                assert_eq!(text::encode(text, encoding).as_deref(), Ok(encoded));
                let len = match encoding {
                    Encoding::Gsm7 => gsm_septets.expect("GSM text"),
                    Encoding::Gsm7Packed => {
                        // The septets, then at most one CR of padding; the text's septets
                        // come first.
                        let n = gsm_septets.expect("GSM text");
                        assert_eq!(
                            text::unpack_septets(encoded, n, 0),
                            text::encode(text, Encoding::Gsm7).expect("GSM text"),
                            "packed septets of {text:?}"
                        );
                        // Spare bits that could hold a whole septet hold a CR, never '@'.
                        if text::packed_septet_capacity(encoded.len(), 0) > n {
                            assert_eq!(
                                text::unpack_septets(encoded, n + 1, 0).get(n),
                                Some(&0x0D),
                                "the spare septet after {text:?} is not CR"
                            );
                        }
                        let padded = (7 * (n + 1)).div_ceil(8);
                        if encoded.len() == padded {
                            padded
                        } else {
                            (7 * n).div_ceil(8)
                        }
                    }
                    Encoding::Ascii | Encoding::Latin1 => text.chars().count(),
                    Encoding::Ucs2 => 2 * text.encode_utf16().count(),
                    Encoding::Binary => unreachable!("binary never encodes"),
                };
                assert_eq!(encoded.len(), len, "{encoding:?} length of {text:?}");
                let again = text::decode(encoded, encoding).expect("a text alphabet decodes");
                assert!(
                    same_text(text, &again, encoding),
                    "{encoding:?} round trip of {text:?} gave {again:?} via {encoded:02x?}"
                );
            }
            Err(e) => {
                assert_eq!(out, PREFIX, "failed encode ({e}) changed the output buffer");
                let _ = e.to_string();
                match e {
                    TextError::NotText => assert_eq!(encoding, Encoding::Binary),
                    TextError::Unrepresentable {
                        ch,
                        position,
                        encoding: named,
                    } => {
                        assert!(!fits, "{encoding:?} refused {text:?}, which it holds: {e}");
                        assert_eq!(named, encoding, "the error names another alphabet");
                        let (at, c) = text
                            .char_indices()
                            .nth(position)
                            .unwrap_or_else(|| panic!("{e}: no character {position} in {text:?}"));
                        assert_eq!(c, ch, "{e}: character {position} of {text:?} is {c:?}");
                        assert!(
                            text::encode(&text[..at], encoding).is_ok(),
                            "{e}: an earlier character of {text:?} does not fit either"
                        );
                    }
                    other => panic!("encoding {text:?} as {encoding:?} failed with {other:?}"),
                }
            }
        }
    }
}

/// `choose` under every link configuration.
fn check_choose(text: &str) {
    let gsm = text::is_gsm(text);
    // Each alphabet `choose` picks is encoded once: encoding dominates the cost.
    let mut checked: Vec<Encoding> = Vec::new();
    for smsc_default in ALL_ENCODINGS {
        for allow_latin1 in [false, true] {
            let config = TextConfig::default()
                .smsc_default(smsc_default)
                .allow_latin1(allow_latin1);
            let chosen = text::choose(text, &config);
            assert_ne!(
                chosen,
                Encoding::Binary,
                "choose picked binary for {text:?}"
            );
            if !checked.contains(&chosen) {
                if let Err(e) = text::encode(text, chosen) {
                    panic!(
                        "choose picked {chosen:?} under {config:?}, which cannot encode \
                         {text:?}: {e}"
                    );
                }
                checked.push(chosen);
            }
            if smsc_default.is_gsm() && gsm {
                assert_eq!(chosen, smsc_default, "GSM text {text:?} under {config:?}");
            }
            let data_coding = config
                .data_coding(chosen)
                .unwrap_or_else(|| panic!("{config:?} has no data_coding for {chosen:?}"));
            assert_eq!(config.encoding_of(data_coding), Some(chosen));
        }
    }
}

/// `unpack_septets` with the septet count (little-endian) and fill bits of the first three
/// octets, on the octets after them.
fn check_unpack(data: &[u8]) {
    let [c0, c1, fill, ref packed @ ..] = *data else {
        return;
    };
    let count = usize::from(u16::from_le_bytes([c0, c1]));
    let septets = text::unpack_septets(packed, count, fill);
    assert!(
        septets.len() <= count,
        "{} septets, asked for {count}",
        septets.len()
    );
    assert_eq!(
        septets.len(),
        count.min(text::packed_septet_capacity(packed.len(), fill)),
        "septets unpacked from {} octets after {fill} fill bits",
        packed.len()
    );
    // Septet i is bits fill + 7i .. fill + 7i + 7 of the octets, least significant first.
    let bit = |k: usize| (packed[k / 8] >> (k % 8)) & 1;
    for (i, &s) in septets.iter().enumerate() {
        let start = usize::from(fill) + 7 * i;
        let expected = (0..7).fold(0u8, |v, j| v | (bit(start + j) << j));
        assert_eq!(s, expected, "septet {i} after {fill} fill bits");
    }
    let fill = fill % 7;
    let mut repacked = Vec::new();
    text::pack_septets(&septets, fill, &mut repacked);
    assert_eq!(
        repacked.len(),
        (usize::from(fill) + 7 * septets.len()).div_ceil(8)
    );
    assert_eq!(
        text::unpack_septets(&repacked, septets.len(), fill),
        septets,
        "pack/unpack with {fill} fill bits"
    );
}

// ---------------------------------------------------------------------------------------
// reassembly
// ---------------------------------------------------------------------------------------

/// The operations of a `reassembly` script, after its four configuration octets:
///
/// - `config[0]`: `max_pending` = 1 + c % 16;
/// - `config[1..3]`: `max_bytes` = 1 + (big-endian) % 4096;
/// - `config[3]`: `timeout` = 1 + c % 100 seconds.
///
/// Then operations, an opcode octet (taken modulo 8) and its operands, until the input
/// runs out (an operation missing an operand is dropped):
///
/// - 0 to 3, push: `addr` (source `'0' + addr % 3`, destination `'0' + addr / 3 % 2`),
///   `ref` (reference `ref & 3`, plus `0x8000` when bit 7 is set), `pos` (total
///   `pos >> 4 & 7`, seq `pos & 7`: 0 and seq > total are invalid on purpose), `len`
///   (`len % 32`), then that many data octets (fewer if the input ends);
/// - 4, advance the clock by `n` half seconds (`n` the next octet);
/// - 5, `handle_timeout`;
/// - 6, drain `poll_incomplete`;
/// - 7, advance by `n` half seconds, then `handle_timeout`.
pub(crate) mod script {
    /// Opcode of a push.
    pub(crate) const PUSH: u8 = 0;
    /// Opcode of a clock advance.
    pub(crate) const ADVANCE: u8 = 4;
    /// Opcode of `handle_timeout`.
    pub(crate) const HANDLE_TIMEOUT: u8 = 5;
    /// Opcode of draining `poll_incomplete`.
    pub(crate) const DRAIN: u8 = 6;
    /// Opcode of a clock advance followed by `handle_timeout`.
    pub(crate) const ADVANCE_AND_TIMEOUT: u8 = 7;

    /// Builds a script, for the seeds.
    pub(crate) struct Script(Vec<u8>);

    impl Script {
        /// A script for a reassembler with these limits (`max_pending` 1..=16,
        /// `max_bytes` 1..=4096, `timeout_secs` 1..=100).
        pub(crate) fn new(max_pending: u8, max_bytes: u16, timeout_secs: u8) -> Script {
            assert!((1..=16).contains(&max_pending));
            assert!((1..=4096).contains(&max_bytes));
            assert!((1..=100).contains(&timeout_secs));
            let b = (max_bytes - 1).to_be_bytes();
            Script(vec![max_pending - 1, b[0], b[1], timeout_secs - 1])
        }

        /// A segment from source `addr % 3`, destination `addr / 3 % 2`; `reference` as
        /// encoded (0..=3, bit 7 for `0x8000`); `total` and `seq` 0..=7; data up to 31 octets.
        pub(crate) fn push(
            mut self,
            addr: u8,
            reference: u8,
            total: u8,
            seq: u8,
            data: &[u8],
        ) -> Script {
            assert!(total < 8 && seq < 8 && data.len() < 32);
            self.0
                .extend_from_slice(&[PUSH, addr, reference, total << 4 | seq, data.len() as u8]);
            self.0.extend_from_slice(data);
            self
        }

        /// Moves the clock on by `half_seconds` / 2 seconds.
        pub(crate) fn advance(mut self, half_seconds: u8) -> Script {
            self.0.extend_from_slice(&[ADVANCE, half_seconds]);
            self
        }

        /// Calls `handle_timeout`.
        pub(crate) fn handle_timeout(mut self) -> Script {
            self.0.push(HANDLE_TIMEOUT);
            self
        }

        /// Moves the clock on, then calls `handle_timeout`.
        pub(crate) fn advance_and_timeout(mut self, half_seconds: u8) -> Script {
            self.0
                .extend_from_slice(&[ADVANCE_AND_TIMEOUT, half_seconds]);
            self
        }

        /// Drains `poll_incomplete`.
        pub(crate) fn drain(mut self) -> Script {
            self.0.push(DRAIN);
            self
        }

        /// The script's octets.
        pub(crate) fn into_bytes(self) -> Vec<u8> {
            self.0
        }
    }
}

/// `reassembly`: runs the input as a script (see [`script`]) against one `Reassembler`,
/// next to a model of what must come out, and reads the input (and each segment's data)
/// as a User Data Header.
///
/// The model keeps, per message key, the segments accepted and not yet accounted for, in
/// order of acceptance. A message's segments are accepted one after another, and its key
/// is held by one message at a time, so the outcomes must cut that list into runs:
/// - `Complete` of a multi-part message is the last `total` segments accepted for the key,
///   one of each number, and the completing push is one of them;
/// - each `Incomplete` (oldest first) is the first segments still unaccounted for, at
///   least one and fewer than `total`, with distinct numbers in ascending order;
/// - after a drain, what is left is exactly what is pending: as many keys as `pending()`,
///   as many octets as `pending_bytes()`, each with distinct numbers;
/// - at the end, once every deadline has passed, everything has come out timed out.
///
/// Throughout: `pending() <= max_pending`, `pending_bytes() <= max_bytes`, a deadline
/// exactly when something is pending and none at or before `now` after `handle_timeout`;
/// a push is refused exactly for an invalid position (first) or data above `max_bytes`,
/// changing nothing; a duplicate names a number the key holds; `Evicted` (the segment's
/// own message outgrew `max_bytes`) only when the octets held plus the segment's exceed it,
/// and the segment then comes out in that message's `Incomplete`.
pub(crate) fn reassembly(data: &[u8]) {
    check_udh(data);

    let [c0, c1, c2, c3, ref ops @ ..] = *data else {
        return;
    };
    let config = ReassemblyConfig {
        max_pending: 1 + usize::from(c0 % 16),
        max_bytes: 1 + usize::from(u16::from_be_bytes([c1, c2]) % 4096),
        timeout: Duration::from_secs(1 + u64::from(c3 % 100)),
    };
    let mut model = ReassemblyModel {
        reassembler: Reassembler::new(config),
        config,
        unaccounted: BTreeMap::new(),
        start: Instant::now(),
        elapsed: Duration::ZERO,
    };
    let mut ops = ops.iter().copied();
    while let Some(op) = ops.next() {
        match op % 8 {
            0..=3 => {
                let (Some(addr), Some(reference), Some(pos), Some(len)) =
                    (ops.next(), ops.next(), ops.next(), ops.next())
                else {
                    break;
                };
                let segment: Vec<u8> = ops.by_ref().take(usize::from(len % 32)).collect();
                let source = [b'0' + addr % 3];
                let destination = [b'0' + addr / 3 % 2];
                let info = SegmentInfo {
                    reference: u16::from(reference & 3) | (u16::from(reference & 0x80) << 8),
                    total: pos >> 4 & 7,
                    seq: pos & 7,
                };
                check_udh(&segment);
                model.push(&source, &destination, info, &segment);
            }
            4 | 7 => {
                let Some(n) = ops.next() else { break };
                model.elapsed += Duration::from_millis(500 * u64::from(n));
                if op % 8 == 7 {
                    model.handle_timeout();
                }
            }
            5 => model.handle_timeout(),
            _ => {
                model.drain();
            }
        }
        model.check_limits();
    }
    model.drain();
    model.elapsed += config.timeout + Duration::from_secs(1);
    model.handle_timeout();
    assert_eq!(
        model.reassembler.pending(),
        0,
        "pending after every deadline"
    );
    assert_eq!(model.reassembler.pending_bytes(), 0);
    assert_eq!(model.reassembler.poll_timeout(), None);
    let before: usize = model.unaccounted.values().map(Vec::len).sum();
    let reported = model.drain();
    assert!(
        reported.iter().all(|&r| r == GiveUpReason::TimedOut),
        "given up at the end for {reported:?}"
    );
    assert!(
        model.unaccounted.values().all(Vec::is_empty),
        "segments never came out: {:?} (of {before} left before the last timeout)",
        model.unaccounted
    );
}

struct ReassemblyModel {
    reassembler: Reassembler,
    config: ReassemblyConfig,
    /// Per key, the segments accepted and not yet seen in a `Complete` or `Incomplete`:
    /// `(seq, data)` in order of acceptance.
    unaccounted: BTreeMap<MessageKey, Vec<(u8, Vec<u8>)>>,
    start: Instant,
    elapsed: Duration,
}

impl ReassemblyModel {
    fn now(&self) -> Instant {
        self.start + self.elapsed
    }

    fn push(&mut self, source: &[u8], destination: &[u8], info: SegmentInfo, segment: &[u8]) {
        let (pending, bytes) = (self.reassembler.pending(), self.reassembler.pending_bytes());
        let now = self.now();
        let result = self
            .reassembler
            .push(now, source, destination, info, segment);
        let key = MessageKey {
            source: source.to_vec(),
            destination: destination.to_vec(),
            reference: info.reference,
            total: info.total,
        };
        let valid = info.total >= 1 && info.seq >= 1 && info.seq <= info.total;
        let pushed = match result {
            Err(e) => {
                let _ = e.to_string();
                let expected = if !valid {
                    SegmentError::InvalidPosition
                } else {
                    SegmentError::TooLarge
                };
                assert_eq!(e, expected, "{info:?} with {} octets", segment.len());
                assert!(!valid || segment.len() > self.config.max_bytes);
                assert_eq!(
                    (self.reassembler.pending(), self.reassembler.pending_bytes()),
                    (pending, bytes),
                    "a refused segment changed the reassembler"
                );
                return;
            }
            Ok(pushed) => pushed,
        };
        assert!(valid, "accepted {info:?}");
        assert!(
            segment.len() <= self.config.max_bytes,
            "accepted {} octets",
            segment.len()
        );
        match pushed {
            Pushed::Complete(r) => {
                assert_eq!(r.key, key);
                if info.total == 1 {
                    assert_eq!(r.segments, [segment]);
                    assert_eq!(
                        (self.reassembler.pending(), self.reassembler.pending_bytes()),
                        (pending, bytes),
                        "a single-segment message touched the pending messages"
                    );
                    return;
                }
                let held = self.unaccounted.entry(key.clone()).or_default();
                held.push((info.seq, segment.to_vec()));
                let total = usize::from(info.total);
                assert!(
                    held.len() >= total,
                    "{key:?} completed with {} segments accepted",
                    held.len()
                );
                let mut run = held.split_off(held.len() - total);
                run.sort();
                let numbers: Vec<u8> = run.iter().map(|(s, _)| *s).collect();
                assert_eq!(
                    numbers,
                    (1..=info.total).collect::<Vec<_>>(),
                    "{key:?} completed, but its last {total} segments accepted are not one of each"
                );
                let expected: Vec<Vec<u8>> = run.into_iter().map(|(_, d)| d).collect();
                assert_eq!(r.segments, expected, "{key:?} reassembled wrong data");
                assert_eq!(r.data(), expected.concat());
            }
            Pushed::Pending => {
                assert!(info.total > 1, "single-segment message left pending");
                self.unaccounted
                    .entry(key)
                    .or_default()
                    .push((info.seq, segment.to_vec()));
            }
            Pushed::Evicted => {
                // Taken, then given up with the rest of its message, which alone would hold
                // more than max_bytes: it comes out of poll_incomplete.
                assert!(info.total > 1, "single-segment message evicted");
                assert!(
                    bytes + segment.len() > self.config.max_bytes,
                    "{key:?} evicted with {bytes} + {} octets, max_bytes {}",
                    segment.len(),
                    self.config.max_bytes
                );
                self.unaccounted
                    .entry(key)
                    .or_default()
                    .push((info.seq, segment.to_vec()));
            }
            Pushed::Duplicate => {
                assert!(info.total > 1, "single-segment message is a duplicate");
                assert!(
                    self.unaccounted
                        .get(&key)
                        .is_some_and(|h| h.iter().any(|(s, _)| *s == info.seq)),
                    "duplicate of segment {} of {key:?}, which holds none",
                    info.seq
                );
                assert_eq!(
                    (self.reassembler.pending(), self.reassembler.pending_bytes()),
                    (pending, bytes),
                    "a duplicate changed the reassembler"
                );
            }
        }
    }

    fn handle_timeout(&mut self) {
        let now = self.now();
        self.reassembler.handle_timeout(now);
        if let Some(deadline) = self.reassembler.poll_timeout() {
            assert!(
                deadline > now,
                "a deadline at or before now survived handle_timeout"
            );
        }
    }

    /// Drains `poll_incomplete`, matching each report against the model; returns the
    /// reasons, then checks that what is left is what is pending.
    fn drain(&mut self) -> Vec<GiveUpReason> {
        let mut reasons = Vec::new();
        while let Some(inc) = self.reassembler.poll_incomplete() {
            reasons.push(inc.reason);
            let key = &inc.key;
            let k = inc.received.len();
            assert!(k >= 1, "{key:?} given up with no segment");
            assert!(
                k < usize::from(key.total),
                "{key:?} given up with every segment"
            );
            let numbers: Vec<u8> = inc.received.iter().map(|(s, _)| *s).collect();
            assert!(
                numbers.windows(2).all(|w| w[0] < w[1])
                    && numbers.iter().all(|&s| s >= 1 && s <= key.total),
                "{key:?} given up with segments {numbers:?}"
            );
            let held = self.unaccounted.get(key).cloned().unwrap_or_default();
            assert!(
                held.len() >= k,
                "{key:?} given up with {k} segments, {} unaccounted",
                held.len()
            );
            let mut run = held[..k].to_vec();
            run.sort();
            assert_eq!(
                run, inc.received,
                "{key:?} given up ({:?}) with other segments than its oldest unaccounted",
                inc.reason
            );
            self.unaccounted
                .get_mut(key)
                .expect("held above")
                .drain(..k);
        }
        self.unaccounted.retain(|_, h| !h.is_empty());

        // Nothing waits in the queue: what the model holds is what is pending.
        let mut bytes = 0;
        for (key, held) in &self.unaccounted {
            let mut numbers: Vec<u8> = held.iter().map(|(s, _)| *s).collect();
            numbers.sort();
            numbers.dedup();
            assert_eq!(numbers.len(), held.len(), "{key:?} holds a number twice");
            assert!(
                held.len() < usize::from(key.total),
                "{key:?} is complete but pending"
            );
            bytes += held.iter().map(|(_, d)| d.len()).sum::<usize>();
        }
        assert_eq!(
            self.reassembler.pending(),
            self.unaccounted.len(),
            "pending messages after a drain"
        );
        assert_eq!(
            self.reassembler.pending_bytes(),
            bytes,
            "pending octets after a drain"
        );
        reasons
    }

    fn check_limits(&self) {
        let r = &self.reassembler;
        assert!(
            r.pending() <= self.config.max_pending,
            "{} pending, max_pending {}",
            r.pending(),
            self.config.max_pending
        );
        assert!(
            r.pending_bytes() <= self.config.max_bytes,
            "{} octets pending, max_bytes {}",
            r.pending_bytes(),
            self.config.max_bytes
        );
        assert_eq!(r.poll_timeout().is_some(), r.pending() > 0);
        if let Some(deadline) = r.poll_timeout() {
            assert!(
                deadline <= self.now() + self.config.timeout,
                "a deadline beyond now + timeout"
            );
        }
    }
}

/// `parse_udh` and `segment_of` on arbitrary octets: a header found lies inside them and
/// names a valid position; `segment_of` takes the UDH when UDHI is set and one parses,
/// else all three SAR TLVs (with the user data after any UDH that fits), else nothing.
fn check_udh(data: &[u8]) {
    let udh = concat::parse_udh(data);
    if let Some((info, len)) = udh {
        assert!(len <= data.len(), "UDH of {len} octets in {}", data.len());
        assert_eq!(len, 1 + usize::from(data[0]), "UDH length is UDHL + 1");
        assert!(
            info.total >= 1 && info.seq >= 1 && info.seq <= info.total,
            "parse_udh gave {info:?}"
        );
    }
    let sar = match *data {
        [_, r0, r1, total, seq, ..] => Some(SegmentInfo {
            reference: u16::from_be_bytes([r0, r1]),
            total,
            seq,
        }),
        _ => None,
    };
    let sar_tlvs: Vec<Tlv<'static>> = sar.map_or_else(Vec::new, |s| {
        vec![
            Tlv::SarSegmentSeqnum(s.seq),
            Tlv::MessageState(2),
            Tlv::SarMsgRefNum(s.reference),
            Tlv::SarTotalSegments(s.total),
        ]
    });
    for esm_class in [0x00, 0x03, concat::ESM_CLASS_UDHI, 0xC0 | 0x04] {
        let udhi = esm_class & concat::ESM_CLASS_UDHI != 0;
        let from_udh = if udhi {
            udh.map(|(info, len)| (info, &data[len..]))
        } else {
            None
        };
        // With UDHI, a header that fits is skipped even without a concatenation element
        // (ports, say) before the SAR TLVs are read.
        let user_data = match data.first() {
            Some(&udhl) if udhi => data.get(1 + usize::from(udhl)..).unwrap_or(data),
            _ => data,
        };
        assert_eq!(concat::segment_of(esm_class, data, &[]), from_udh);
        assert_eq!(
            concat::segment_of(esm_class, data, &sar_tlvs),
            from_udh.or(sar.map(|s| (s, user_data)))
        );
        // Two of the three SAR TLVs are not a position.
        assert_eq!(
            concat::segment_of(esm_class, data, sar_tlvs.get(1..).unwrap_or(&[])),
            from_udh
        );
    }
}

// ---------------------------------------------------------------------------------------
// receipt_parse
// ---------------------------------------------------------------------------------------

/// `receipt_parse`: receipt text, receipt TLVs, message id matching and SMPP time values.
///
/// - `Receipt::parse_text` on the input read as UTF-8 (lossily) never panics, and what it
///   parses formats to text that parses again with the same id prefix; when no field
///   `format` writes before `text:` holds ASCII whitespace (so none can hide a key), the
///   reparse gives back every typed field, with `format`'s defaults for missing ones and
///   the text cut to 20 characters, and its raw parts are `format`'s eight pairs and stat
///   word; raw pairs are trimmed, and a raw stat word maps to the parsed state;
/// - `from_parts` reads the octets as Latin-1, from `short_message` or, when that is empty,
///   from `message_payload`; `from_parts_with_coding` reads the same for data_coding 3, and
///   for data_coding 8 from those characters in UCS-2; `receipted_message_id` (unless empty) and `message_state`
///   TLVs win, and change nothing else;
/// - `message_ids_match` on the two sides of the first `|` is symmetric, reflexive for a
///   non-blank id, and false against a blank one;
/// - `SmppTime::parse` on the input and on its first 16 octets: a time that parses formats
///   back to the same 16 octets (`-00` offsets come back as `+00`, the same instant), and
///   an absolute time survives a trip through Unix seconds.
pub(crate) fn receipt_parse(data: &[u8]) {
    let utf8 = String::from_utf8_lossy(data);
    let parsed = Receipt::parse_text(&utf8);
    match &parsed {
        Ok(r) => check_receipt(r),
        Err(e) => {
            let _ = e.to_string();
        }
    }

    let latin1: String = data.iter().map(|&b| char::from(b)).collect();
    let from_text = Receipt::parse_text(&latin1);
    if let Ok(r) = &from_text {
        check_receipt(r);
    }
    assert_eq!(Receipt::from_parts(data, &[]), from_text);
    // By data_coding: Latin-1 (3) reads the same; UCS-2 (8) of the same characters too.
    assert_eq!(Receipt::from_parts_with_coding(3, data, &[]), from_text);
    let ucs2: Vec<u8> = latin1.encode_utf16().flat_map(u16::to_be_bytes).collect();
    assert_eq!(Receipt::from_parts_with_coding(8, &ucs2, &[]), from_text);
    let payload = [Tlv::MessagePayload(data.into())];
    assert_eq!(Receipt::from_parts(&[], &payload), from_text);
    if !data.is_empty() {
        assert_eq!(Receipt::from_parts(data, &payload), from_text);
    }

    // TLVs from the input: the id from its first (up to) 8 octets, the state from octet 0.
    let id = &data[..data.len().min(8)];
    let state = data.first().copied().unwrap_or(0);
    let tlvs = [Tlv::ReceiptedMessageId(id.into()), Tlv::MessageState(state)];
    let with_tlvs = match Receipt::parse(&latin1, &tlvs) {
        Ok(r) => r,
        Err(e) => {
            // An empty receipted_message_id names nothing: the text's id is used.
            assert!(id.is_empty(), "{e} with receipted_message_id {id:02x?}");
            assert_eq!(e, ReceiptError::MissingId);
            assert_eq!(from_text.as_ref().err(), Some(&ReceiptError::MissingId));
            return check_ids_and_times(data, &utf8);
        }
    };
    if id.is_empty() {
        assert_eq!(Ok(&with_tlvs.id), from_text.as_ref().map(|r| &r.id));
    } else {
        assert_eq!(with_tlvs.id, String::from_utf8_lossy(id));
    }
    assert_eq!(with_tlvs.state, ReceiptState::from_message_state(state));
    if let Ok(r) = &from_text {
        assert_eq!(
            Receipt {
                id: with_tlvs.id.clone(),
                state: with_tlvs.state.clone(),
                ..r.clone()
            },
            with_tlvs,
            "the TLVs changed more than id and state"
        );
    }

    check_ids_and_times(data, &utf8);
}

/// `message_ids_match` on the two sides of the first `|`, and `SmppTime::parse`.
fn check_ids_and_times(data: &[u8], utf8: &str) {
    let (a, b) = utf8.split_once('|').unwrap_or((utf8, ""));
    assert_eq!(
        receipt::message_ids_match(a, b),
        receipt::message_ids_match(b, a),
        "message_ids_match({a:?}, {b:?}) is not symmetric"
    );
    // An empty id names no message and matches nothing.
    let named = !a.trim().is_empty();
    assert_eq!(
        receipt::message_ids_match(a, a),
        named,
        "{a:?} against itself"
    );
    assert_eq!(
        receipt::message_ids_match(a, &a.to_ascii_uppercase()),
        named
    );
    if b.trim().is_empty() {
        assert!(
            !receipt::message_ids_match(a, b),
            "{a:?} matches empty {b:?}"
        );
    }

    check_time(data);
    check_time(&data[..data.len().min(16)]);
}

/// A parsed receipt, and the parse of its `format`.
fn check_receipt(r: &Receipt) {
    assert!(!r.id.is_empty(), "parsed an empty id");
    assert_eq!(r.id, r.id.trim(), "id not trimmed");
    assert_eq!(
        r.network_error_code, None,
        "text alone gave a network_error_code"
    );
    for date in [r.submit_date, r.done_date].into_iter().flatten() {
        assert_eq!(ReceiptDate::parse(&date.to_string()), Some(date));
    }
    if let Some(v) = r.state.message_state() {
        assert_eq!(ReceiptState::from_message_state(v), r.state);
    }
    assert_eq!(ReceiptState::from_stat(r.state.stat()), r.state);
    // Raw parts: trimmed, non-empty keys, the stat word kept as written.
    for (k, v) in &r.fields {
        assert!(
            !k.is_empty() && k.trim() == k && v.trim() == v,
            "{k:?}:{v:?}"
        );
    }
    if let Some(raw) = &r.stat_raw {
        assert_eq!(ReceiptState::from_stat(raw), r.state);
    }

    let formatted = r.format();
    let again = Receipt::parse_text(&formatted)
        .unwrap_or_else(|e| panic!("format of {r:?} does not parse: {e}\n  {formatted:?}"));
    assert!(
        r.id.starts_with(&again.id),
        "reparsed id {:?} of {:?}",
        again.id,
        r.id
    );

    // Whitespace inside a field can put a key (found after it in the original) in front
    // of that key's own place in the formatted text; without any, every field comes back.
    let plain = |s: &str| !s.bytes().any(|b| b.is_ascii_whitespace());
    let fields_plain = plain(&r.id)
        && [&r.sub, &r.dlvrd, &r.err]
            .into_iter()
            .all(|v| v.as_deref().is_none_or(plain))
        && plain(r.state.stat());
    if fields_plain {
        let text: String = r.text.as_deref().unwrap_or("").chars().take(20).collect();
        let default_dlvrd = if r.state == ReceiptState::Delivered {
            "001"
        } else {
            "000"
        };
        let expected = Receipt {
            sub: Some(r.sub.clone().unwrap_or_else(|| "001".into())),
            dlvrd: Some(r.dlvrd.clone().unwrap_or_else(|| default_dlvrd.into())),
            submit_date: r.submit_date,
            done_date: r.done_date,
            err: Some(r.err.clone().unwrap_or_else(|| "000".into())),
            text: Some(text.trim().to_string()),
            ..Receipt::new(r.id.clone(), r.state.clone())
        };
        // The raw parts are format's own: its stat word and its eight pairs.
        assert_eq!(again.stat_raw.as_deref(), Some(r.state.stat()));
        assert_eq!(again.fields.len(), 8, "{formatted:?}");
        let typed = Receipt {
            stat_raw: None,
            fields: smpp_pdu::receipt::RawFields::new(),
            ..again
        };
        assert_eq!(
            typed, expected,
            "format did not round-trip\n  formatted: {formatted:?}"
        );
    }
}

/// `SmppTime::parse` on `s`.
fn check_time(s: &[u8]) {
    match SmppTime::parse(s) {
        Ok(None) => assert!(s.is_empty(), "{s:02x?} parsed as no time"),
        Ok(Some(t)) => {
            assert_eq!(s.len(), 16);
            let formatted = t
                .format()
                .unwrap_or_else(|e| panic!("{t:?} parsed from {s:02x?} does not format: {e}"));
            let mut expected = s.to_vec();
            if &expected[13..] == b"00-" {
                // A zero offset behind UTC is the zero offset: it formats as "00+".
                expected[15] = b'+';
            }
            assert_eq!(
                formatted[..],
                expected[..],
                "{t:?} formats as {:?}, parsed from {:?}",
                String::from_utf8_lossy(&formatted),
                String::from_utf8_lossy(s)
            );
            assert_eq!(SmppTime::parse(&formatted), Ok(Some(t)));
            match t {
                SmppTime::Absolute(a) => {
                    let back =
                        AbsoluteTime::from_unix_seconds(a.unix_seconds(), a.utc_offset_quarters);
                    assert_eq!(back, Some(AbsoluteTime { tenths: 0, ..a }));
                }
                SmppTime::Relative(r) => {
                    let _ = r.approx_seconds();
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
            match e {
                TimeError::Length(n) => {
                    assert_eq!(n, s.len());
                    assert!(n != 0 && n != 16, "length error for {n} octets");
                }
                _ => assert_eq!(s.len(), 16, "{e:?} for {} octets", s.len()),
            }
        }
    }
}

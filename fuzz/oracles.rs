//! The properties the fuzz targets check.
//!
//! This one file is included with `#[path]` by the fuzz targets (`fuzz/fuzz_targets/*.rs`)
//! and by the seed replay test (`crates/smpp-pdu/tests/fuzz_seeds.rs`), so the committed
//! seeds are checked by exactly the assertions the fuzzer uses. Each oracle takes arbitrary
//! bytes and panics when the codec breaks a promise of its public API.

// Each includer calls only some of the oracles.
#![allow(dead_code)]

use smpp_pdu::{CommandStatus, Header, Pdu, DEFAULT_MAX_COMMAND_LENGTH, HEADER_LEN};

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

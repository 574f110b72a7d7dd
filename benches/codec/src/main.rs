//! Micro-benchmarks of the `smpp-pdu` codec side by side with `rusmpp-core` 0.4, both its
//! borrowed (`no_std`) API and its owned (`alloc`, `bytes`-backed) API.
//!
//! All three are measured in one process, with their samples interleaved, so that the
//! reported ratios hold even on a small, noisy machine. See `docs/benchmarks.md`.
//!
//! Usage: `cargo run --release --manifest-path benches/codec/Cargo.toml -- [--quick] [--json]
//! [--rusmpp-tlv-cap 4|16]`
//! (or `cargo xtask bench codec [ARGS...]`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use smpp_bench_harness::{mb_per_s, measure, median, runner, Config, Runner};
use std::hint::black_box;
use std::process::ExitCode;

use bytes::{Buf, BytesMut};

use rusmpp_core::command::borrowed::Command as TheirCommand;
use rusmpp_core::command::owned::Command as OwnedCommand;
use rusmpp_core::decode::borrowed::DecodeWithLength;
use rusmpp_core::decode::owned::DecodeWithLength as OwnedDecodeWithLength;
use rusmpp_core::encode::Encode;
use rusmpp_core::pdus::borrowed::{
    DeliverSm as TheirDeliverSm, Pdu as TheirPdu, SubmitSm as TheirSubmitSm,
};
use rusmpp_core::pdus::owned::{
    DeliverSm as OwnedDeliverSm, Pdu as OwnedPdu, SubmitSm as OwnedSubmitSm,
};
use rusmpp_core::tlvs::borrowed::MessageDeliveryRequestTlvValue;
use rusmpp_core::tlvs::owned::MessageDeliveryRequestTlvValue as OwnedDeliveryTlv;
use rusmpp_core::types::borrowed::{COctetString as TheirCos, OctetString as TheirOs};
use rusmpp_core::types::owned::{COctetString as OwnedCos, OctetString as OwnedOs};
use rusmpp_core::values::{
    DataCoding, ErrorCodeNetworkType, EsmClass, MessageState, NetworkErrorCode as TheirNec, Npi,
    PriorityFlag, RegisteredDelivery, ReplaceIfPresentFlag, Ton,
};
use rusmpp_core::CommandStatus as TheirStatus;

use smpp_pdu::tlv::NetworkErrorCode;
use smpp_pdu::{DeliverSm, EnquireLink, Pdu, SubmitSm, Tlv};

/// rusmpp-core's borrowed `Command`, whose TLVs live in an inline (heapless) vector of
/// compile-time capacity `N`. The bench runs with `N` = 4 by default (the cases need 3), or
/// 16 (what rusmpp-core's own tests use) with `--rusmpp-tlv-cap 16`.
type Theirs<'a, const N: usize> = TheirCommand<'a, N>;

/// rusmpp-core's owned `Command` (feature `alloc`): fields are `bytes::Bytes`, TLVs a `Vec`.
/// This is the API of their tokio codec and of the rusmppc client.
type Owned = OwnedCommand;

/// Sequence number of every benchmarked PDU.
const SEQ: u32 = 0x0102_0304;

/// Size of the `submit_sm` the project's targets are stated for (header included).
const TARGET_SIZE: usize = 128;
/// Required speed-up of decode over rusmpp-core on the 128-byte `submit_sm`.
const TARGET_DECODE: f64 = 4.0;
/// Required speed-up of encode over rusmpp-core on the 128-byte `submit_sm`.
const TARGET_ENCODE: f64 = 2.0;

/// The delivery receipt text of the `deliver_sm` case.
const RECEIPT_TEXT: &[u8] = b"id:1234567890 sub:001 dlvrd:001 submit date:2311221200 \
done date:2311221201 stat:DELIVRD err:000 text:Hello world";

/// Message text: ASCII letters, as many as asked.
fn letters(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Octets of a `submit_sm` with the addresses below and no TLVs, short message excluded.
const SUBMIT_OVERHEAD: usize = 16 // header
    + 1 // service_type ""
    + 2 + 8 // source ton/npi + "MyBrand\0"
    + 2 + 13 // dest ton/npi + "447700900123\0"
    + 3 // esm_class, protocol_id, priority_flag
    + 1 + 1 // schedule_delivery_time, validity_period (NULL)
    + 4 // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
    + 1; // sm_length

// ---------------------------------------------------------------------------------------
// The PDUs, built once per library from the same content.
// ---------------------------------------------------------------------------------------

fn ours_submit(text: &[u8]) -> Pdu<'_> {
    Pdu::new(
        SEQ,
        SubmitSm {
            service_type: "".into(),
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "MyBrand".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900123".into(),
            registered_delivery: 1,
            data_coding: 0,
            short_message: text.into(),
            ..Default::default()
        },
    )
}

fn theirs_submit<const N: usize>(text: &[u8]) -> Theirs<'_, N> {
    let sm = TheirSubmitSm::<N>::builder()
        .source_addr_ton(Ton::from(5))
        .source_addr_npi(Npi::from(0))
        .source_addr(TheirCos::new(b"MyBrand\0").expect("source_addr"))
        .dest_addr_ton(Ton::from(1))
        .dest_addr_npi(Npi::from(1))
        .destination_addr(TheirCos::new(b"447700900123\0").expect("destination_addr"))
        .esm_class(EsmClass::from(0))
        .protocol_id(0)
        .priority_flag(PriorityFlag::from(0))
        .registered_delivery(RegisteredDelivery::from(1))
        .replace_if_present_flag(ReplaceIfPresentFlag::from(0))
        .data_coding(DataCoding::from(0))
        .sm_default_msg_id(0)
        .short_message(TheirOs::new(text).expect("short_message"))
        .build();
    TheirCommand::new(TheirStatus::EsmeRok, SEQ, sm)
}

fn owned_submit(text: &[u8]) -> Owned {
    let sm = OwnedSubmitSm::builder()
        .source_addr_ton(Ton::from(5))
        .source_addr_npi(Npi::from(0))
        .source_addr(OwnedCos::from_slice(b"MyBrand\0").expect("source_addr"))
        .dest_addr_ton(Ton::from(1))
        .dest_addr_npi(Npi::from(1))
        .destination_addr(OwnedCos::from_slice(b"447700900123\0").expect("destination_addr"))
        .esm_class(EsmClass::from(0))
        .protocol_id(0)
        .priority_flag(PriorityFlag::from(0))
        .registered_delivery(RegisteredDelivery::from(1))
        .replace_if_present_flag(ReplaceIfPresentFlag::from(0))
        .data_coding(DataCoding::from(0))
        .sm_default_msg_id(0)
        .short_message(OwnedOs::from_slice(text).expect("short_message"))
        .build();
    OwnedCommand::new(TheirStatus::EsmeRok, SEQ, sm)
}

fn ours_receipt() -> Pdu<'static> {
    Pdu::new(
        SEQ,
        DeliverSm {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "447700900123".into(),
            dest_addr_ton: 5,
            dest_addr_npi: 0,
            destination_addr: "MyBrand".into(),
            esm_class: 0x04,
            short_message: RECEIPT_TEXT.into(),
            tlvs: vec![
                Tlv::ReceiptedMessageId("1234567890".into()),
                Tlv::MessageState(2),
                Tlv::NetworkErrorCode(NetworkErrorCode {
                    network_type: 3,
                    error_code: 0,
                }),
            ],
            ..Default::default()
        },
    )
}

fn theirs_receipt<const N: usize>() -> Theirs<'static, N> {
    let ds = TheirDeliverSm::<N>::builder()
        .source_addr_ton(Ton::from(1))
        .source_addr_npi(Npi::from(1))
        .source_addr(TheirCos::new(b"447700900123\0").expect("source_addr"))
        .dest_addr_ton(Ton::from(5))
        .dest_addr_npi(Npi::from(0))
        .destination_addr(TheirCos::new(b"MyBrand\0").expect("destination_addr"))
        .esm_class(EsmClass::from(0x04))
        .protocol_id(0)
        .priority_flag(PriorityFlag::from(0))
        .registered_delivery(RegisteredDelivery::from(0))
        .replace_if_present_flag(ReplaceIfPresentFlag::from(0))
        .data_coding(DataCoding::from(0))
        .sm_default_msg_id(0)
        .short_message(TheirOs::new(RECEIPT_TEXT).expect("short_message"))
        .push_tlv(MessageDeliveryRequestTlvValue::ReceiptedMessageId(
            TheirCos::new(b"1234567890\0").expect("receipted_message_id"),
        ))
        .and_then(|b| {
            b.push_tlv(MessageDeliveryRequestTlvValue::MessageState(
                MessageState::from(2),
            ))
        })
        .and_then(|b| {
            b.push_tlv(MessageDeliveryRequestTlvValue::NetworkErrorCode(
                TheirNec::new(ErrorCodeNetworkType::Gsm, 0),
            ))
        })
        .expect("TLV capacity")
        .build();
    TheirCommand::new(TheirStatus::EsmeRok, SEQ, ds)
}

fn owned_receipt() -> Owned {
    let ds = OwnedDeliverSm::builder()
        .source_addr_ton(Ton::from(1))
        .source_addr_npi(Npi::from(1))
        .source_addr(OwnedCos::from_slice(b"447700900123\0").expect("source_addr"))
        .dest_addr_ton(Ton::from(5))
        .dest_addr_npi(Npi::from(0))
        .destination_addr(OwnedCos::from_slice(b"MyBrand\0").expect("destination_addr"))
        .esm_class(EsmClass::from(0x04))
        .protocol_id(0)
        .priority_flag(PriorityFlag::from(0))
        .registered_delivery(RegisteredDelivery::from(0))
        .replace_if_present_flag(ReplaceIfPresentFlag::from(0))
        .data_coding(DataCoding::from(0))
        .sm_default_msg_id(0)
        .short_message(OwnedOs::from_slice(RECEIPT_TEXT).expect("short_message"))
        .push_tlv(OwnedDeliveryTlv::ReceiptedMessageId(
            OwnedCos::from_slice(b"1234567890\0").expect("receipted_message_id"),
        ))
        .push_tlv(OwnedDeliveryTlv::MessageState(MessageState::from(2)))
        .push_tlv(OwnedDeliveryTlv::NetworkErrorCode(TheirNec::new(
            ErrorCodeNetworkType::Gsm,
            0,
        )))
        .build();
    OwnedCommand::new(TheirStatus::EsmeRok, SEQ, ds)
}

fn ours_enquire_link() -> Pdu<'static> {
    Pdu::new(SEQ, EnquireLink::default())
}

fn theirs_enquire_link<const N: usize>() -> Theirs<'static, N> {
    TheirCommand::new(TheirStatus::EsmeRok, SEQ, TheirPdu::<N>::EnquireLink)
}

fn owned_enquire_link() -> Owned {
    OwnedCommand::new(TheirStatus::EsmeRok, SEQ, OwnedPdu::EnquireLink)
}

// ---------------------------------------------------------------------------------------
// The operations, as both libraries are meant to be used.
// ---------------------------------------------------------------------------------------

/// Our decode: frame and decode the first PDU of the buffer.
#[inline(always)]
fn ours_decode(wire: &[u8]) -> Pdu<'_> {
    match Pdu::decode(wire) {
        Ok(Some((pdu, _))) => pdu,
        other => panic!("smpp-pdu failed to decode: {other:?}"),
    }
}

/// The header checks that rusmpp-core's `framez` and tokio codecs make before decoding
/// (those codecs are behind features, so their few lines are repeated here). Returns
/// `command_length`.
#[inline(always)]
fn their_frame_len(src: &[u8]) -> usize {
    assert!(src.len() >= 16, "short header");
    let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
    assert!((16..=src.len()).contains(&len), "bad command_length");
    len
}

/// rusmpp-core's borrowed decode, framed as its own `framez` codec does: check the header,
/// then decode the command after `command_length`.
#[inline(always)]
fn theirs_decode<const N: usize>(src: &[u8]) -> Theirs<'_, N> {
    let len = their_frame_len(src);
    match <Theirs<'_, N> as DecodeWithLength<'_>>::decode(&src[4..len], len - 4) {
        Ok((cmd, _)) => cmd,
        Err(e) => panic!("rusmpp-core failed to decode: {e:?}"),
    }
}

/// rusmpp-core's owned decode, as its tokio codec does it: the PDU's octets sit in a
/// `BytesMut` read buffer, `command_length` is taken off it, and `Command::decode` splits
/// the fields off the buffer as reference-counted `Bytes`. The read buffer is the caller's
/// and is reused, so the octets are first appended to it (one `memcpy` of the PDU, the cost
/// the copy baseline shows); once the decoded value is dropped, the buffer is unique again
/// and `BytesMut` reuses its allocation.
#[inline(always)]
fn owned_decode(src: &[u8], buf: &mut BytesMut) -> Owned {
    let len = their_frame_len(src);
    buf.clear();
    buf.extend_from_slice(&src[..len]);
    buf.advance(4);
    match <Owned as OwnedDecodeWithLength>::decode(buf, len - 4) {
        Ok((cmd, _)) => cmd,
        Err(e) => panic!("rusmpp-core (owned) failed to decode: {e:?}"),
    }
}

/// Our encode: append to a `Vec` (the caller clears it).
#[inline(always)]
fn ours_encode(pdu: &Pdu<'_>, out: &mut Vec<u8>) -> usize {
    pdu.encode(out).expect("smpp-pdu failed to encode")
}

/// rusmpp-core's encode: it writes into a `&mut [u8]` sized by `length()`, as its `framez`
/// encoder does; the caller passes a reused, pre-sized buffer. Both their borrowed and their
/// owned `Command` implement this slice encoder.
#[inline(always)]
fn theirs_encode<C: Encode>(cmd: &C, dst: &mut [u8]) -> usize {
    let len = 4 + cmd.length();
    assert!(dst.len() >= len, "buffer too small");
    dst[..4].copy_from_slice(&(len as u32).to_be_bytes());
    let _ = cmd.encode(&mut dst[4..len]);
    len
}

fn theirs_to_vec<C: Encode>(cmd: &C) -> Vec<u8> {
    let mut buf = vec![0u8; 65_536];
    let n = theirs_encode(cmd, &mut buf);
    buf.truncate(n);
    buf
}

fn ours_to_vec(pdu: &Pdu<'_>) -> Vec<u8> {
    let mut buf = Vec::new();
    ours_encode(pdu, &mut buf);
    buf
}

// ---------------------------------------------------------------------------------------
// Cross-checks.
// ---------------------------------------------------------------------------------------

/// All three encoders give the same octets, and each decoder reads every encoder's octets
/// back to the value it started from. Returns the wire octets, or why the check failed.
fn cross_check<const N: usize>(
    name: &str,
    ours: &Pdu<'_>,
    theirs: &Theirs<'_, N>,
    owned: &Owned,
    want_len: Option<usize>,
) -> Result<Vec<u8>, String> {
    let a = ours_to_vec(ours);
    let b = theirs_to_vec(theirs);
    let c = theirs_to_vec(owned);
    if a != b || a != c {
        return Err(format!(
            "{name}: encoders differ\n smpp-pdu             {a:02x?}\n \
             rusmpp-core borrowed {b:02x?}\n rusmpp-core owned    {c:02x?}"
        ));
    }
    if let Some(n) = want_len {
        if a.len() != n {
            return Err(format!("{name}: encoded {} octets, want {n}", a.len()));
        }
    }
    let encodings = [
        ("smpp-pdu", &a),
        ("rusmpp-core borrowed", &b),
        ("rusmpp-core owned", &c),
    ];
    for (by, wire) in encodings {
        let got = ours_decode(wire);
        if &got != ours {
            return Err(format!(
                "{name}: smpp-pdu decodes {by}'s octets to {got:?}, want {ours:?}"
            ));
        }
        let got = theirs_decode::<N>(wire);
        if &got != theirs {
            return Err(format!(
                "{name}: rusmpp-core borrowed decodes {by}'s octets to {got:?}, want {theirs:?}"
            ));
        }
        let got = owned_decode(wire, &mut BytesMut::new());
        if &got != owned {
            return Err(format!(
                "{name}: rusmpp-core owned decodes {by}'s octets to {got:?}, want {owned:?}"
            ));
        }
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------
// Timing.
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Cases and report.
// ---------------------------------------------------------------------------------------

/// The two rusmpp-core APIs, for the ratios and targets.
#[derive(Clone, Copy)]
enum Api {
    Borrowed,
    Owned,
}

impl Api {
    const ALL: [Api; 2] = [Api::Borrowed, Api::Owned];

    fn name(self) -> &'static str {
        match self {
            Api::Borrowed => "borrowed",
            Api::Owned => "owned",
        }
    }
}

/// rusmpp-core's medians for one operation.
struct TheirNs {
    borrowed_ns: f64,
    owned_ns: f64,
}

struct Row {
    case: &'static str,
    op: &'static str,
    bytes: usize,
    /// Ours, or the copy baseline.
    ours_ns: f64,
    /// `None` for the copy baseline.
    theirs: Option<TheirNs>,
    samples: usize,
}

impl Row {
    /// Their median over ours for one of their APIs (above 1: ours is faster).
    fn ratio(&self, api: Api) -> Option<f64> {
        self.theirs.as_ref().map(|t| match api {
            Api::Borrowed => t.borrowed_ns / self.ours_ns,
            Api::Owned => t.owned_ns / self.ours_ns,
        })
    }

    /// One JSON object. `theirs_*` are rusmpp-core's borrowed API (as before the owned API
    /// was added); `theirs_owned_*` are its owned API.
    fn json(&self, tlv_cap: usize) -> String {
        let mut s = format!(
            "{{\"case\":\"{}\",\"op\":\"{}\",\"pdu_bytes\":{},\"samples\":{},\
             \"rusmpp_tlv_cap\":{}",
            self.case, self.op, self.bytes, self.samples, tlv_cap
        );
        match &self.theirs {
            Some(t) => s.push_str(&format!(
                ",\"ours_ns\":{:.2},\"theirs_ns\":{:.2},\"ratio_theirs_over_ours\":{:.3},\
                 \"ours_mb_s\":{:.1},\"theirs_mb_s\":{:.1},\"theirs_owned_ns\":{:.2},\
                 \"ratio_theirs_owned_over_ours\":{:.3},\"theirs_owned_mb_s\":{:.1}}}",
                self.ours_ns,
                t.borrowed_ns,
                t.borrowed_ns / self.ours_ns,
                mb_per_s(self.bytes, self.ours_ns),
                mb_per_s(self.bytes, t.borrowed_ns),
                t.owned_ns,
                t.owned_ns / self.ours_ns,
                mb_per_s(self.bytes, t.owned_ns),
            )),
            None => s.push_str(&format!(
                ",\"copy_ns\":{:.2},\"copy_mb_s\":{:.1}}}",
                self.ours_ns,
                mb_per_s(self.bytes, self.ours_ns)
            )),
        }
        s
    }

    const HEADER: [&'static str; 11] = [
        "case",
        "bytes",
        "op",
        "ours ns",
        "bor ns",
        "own ns",
        "bor/ours",
        "own/ours",
        "ours MB/s",
        "bor MB/s",
        "own MB/s",
    ];

    fn header() -> String {
        let h = Self::HEADER;
        format!(
            "{:<15} {:>5}  {:<6} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9}",
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10]
        )
    }

    fn text(&self) -> String {
        match &self.theirs {
            Some(t) => format!(
                "{:<15} {:>5}  {:<6} {:>9.1} {:>9.1} {:>9.1} {:>7.2}x {:>7.2}x {:>9.0} {:>9.0} \
                 {:>9.0}",
                self.case,
                self.bytes,
                self.op,
                self.ours_ns,
                t.borrowed_ns,
                t.owned_ns,
                t.borrowed_ns / self.ours_ns,
                t.owned_ns / self.ours_ns,
                mb_per_s(self.bytes, self.ours_ns),
                mb_per_s(self.bytes, t.borrowed_ns),
                mb_per_s(self.bytes, t.owned_ns),
            ),
            None => format!(
                "{:<15} {:>5}  {:<6} {:>9.1} {:>9} {:>9} {:>8} {:>8} {:>9.0} {:>9} {:>9}",
                self.case,
                self.bytes,
                self.op,
                self.ours_ns,
                "-",
                "-",
                "-",
                "-",
                mb_per_s(self.bytes, self.ours_ns),
                "-",
                "-"
            ),
        }
    }
}

/// Benchmarks one case: decode and encode by each of the three, and the copy baseline, all
/// interleaved.
fn bench_case<const N: usize>(
    cfg: &Config,
    case: &'static str,
    wire: &[u8],
    ours: &Pdu<'_>,
    theirs: &Theirs<'_, N>,
    owned: &Owned,
) -> Vec<Row> {
    let bytes = wire.len();
    let mut ours_out: Vec<u8> = Vec::with_capacity(1024);
    // Their two encoders get identical reused, pre-sized buffers.
    let mut theirs_out: Vec<u8> = vec![0u8; 65_536];
    let mut owned_out: Vec<u8> = vec![0u8; 65_536];
    // The read buffer of their owned decoder, reused like a codec's.
    let mut owned_in = BytesMut::with_capacity(65_536);
    let mut copy_out: Vec<u8> = Vec::with_capacity(1024);

    let mut runners: Vec<Runner<'_>> = vec![
        runner(|| {
            let pdu = ours_decode(black_box(wire));
            black_box(pdu);
            bytes
        }),
        runner(|| {
            let cmd = theirs_decode::<N>(black_box(wire));
            black_box(cmd);
            bytes
        }),
        runner(|| {
            let cmd = owned_decode(black_box(wire), &mut owned_in);
            black_box(cmd);
            bytes
        }),
        runner(|| {
            ours_out.clear();
            let n = ours_encode(black_box(ours), &mut ours_out);
            black_box(&mut ours_out);
            n
        }),
        runner(|| {
            let n = theirs_encode(black_box(theirs), &mut theirs_out);
            black_box(&mut theirs_out);
            n
        }),
        runner(|| {
            let n = theirs_encode(black_box(owned), &mut owned_out);
            black_box(&mut owned_out);
            n
        }),
        runner(|| {
            copy_out.clear();
            copy_out.extend_from_slice(black_box(wire));
            black_box(&mut copy_out);
            copy_out.len()
        }),
    ];
    let m = measure(cfg, &mut runners);
    let med: Vec<f64> = m.iter().map(|s| median(s)).collect();
    let row = |op, ours_ns, theirs| Row {
        case,
        op,
        bytes,
        ours_ns,
        theirs,
        samples: cfg.samples,
    };
    vec![
        row(
            "decode",
            med[0],
            Some(TheirNs {
                borrowed_ns: med[1],
                owned_ns: med[2],
            }),
        ),
        row(
            "encode",
            med[3],
            Some(TheirNs {
                borrowed_ns: med[4],
                owned_ns: med[5],
            }),
        ),
        row("copy", med[6], None),
    ]
}

const USAGE: &str = "usage: smpp-codec-bench [--quick] [--json] [--rusmpp-tlv-cap 4|16]";

fn main() -> ExitCode {
    let mut quick = false;
    let mut json = false;
    let mut cap = 4usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--json" => json = true,
            "--rusmpp-tlv-cap" => match args.next().as_deref() {
                Some("4") => cap = 4,
                Some("16") => cap = 16,
                other => {
                    eprintln!("--rusmpp-tlv-cap takes 4 or 16, not {other:?}; {USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}; {USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let cfg = Config::new(quick);
    if cap == 16 {
        run::<16>(&cfg, json)
    } else {
        run::<4>(&cfg, json)
    }
}

fn run<const N: usize>(cfg: &Config, json: bool) -> ExitCode {
    // Human-readable notes go to stderr with --json so that stdout is only JSON lines.
    let note = |s: &str| {
        if json {
            eprintln!("{s}");
        } else {
            println!("{s}");
        }
    };

    let text160 = letters(160);
    let text128 = letters(TARGET_SIZE - SUBMIT_OVERHEAD);
    type Case<'a, const N: usize> = (&'static str, Pdu<'a>, Theirs<'a, N>, Owned, Option<usize>);
    let cases: Vec<Case<'_, N>> = vec![
        (
            "submit_sm_160",
            ours_submit(&text160),
            theirs_submit(&text160),
            owned_submit(&text160),
            Some(SUBMIT_OVERHEAD + 160),
        ),
        (
            "submit_sm_128",
            ours_submit(&text128),
            theirs_submit(&text128),
            owned_submit(&text128),
            Some(TARGET_SIZE),
        ),
        (
            "deliver_receipt",
            ours_receipt(),
            theirs_receipt(),
            owned_receipt(),
            None,
        ),
        (
            "enquire_link",
            ours_enquire_link(),
            theirs_enquire_link(),
            owned_enquire_link(),
            Some(16),
        ),
    ];

    let mut wires = Vec::new();
    for (name, ours, theirs, owned, want) in &cases {
        match cross_check(name, ours, theirs, owned, *want) {
            Ok(w) => wires.push(w),
            Err(e) => {
                eprintln!("CROSS-CHECK FAILED: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    note(&format!(
        "cross-check ok: for all {} cases the three encoders produce identical octets and each \
         decoder decodes every encoder's octets to the original value",
        cases.len()
    ));
    note(&format!(
        "ours = smpp-pdu (Pdu: {} octets); bor = rusmpp-core 0.4.0 borrowed API \
         (Command<'_, {N}>: {} octets); own = rusmpp-core 0.4.0 owned API (Command: {} octets)",
        std::mem::size_of::<Pdu<'_>>(),
        std::mem::size_of::<Theirs<'_, N>>(),
        std::mem::size_of::<Owned>()
    ));
    note(&format!(
        "{} samples of ~{} ms per operation, interleaved in one process; medians; \
         ratio = theirs ns / ours ns (above 1: ours is faster)",
        cfg.samples,
        cfg.batch_time.as_millis()
    ));
    if !json {
        println!("{}", Row::header());
    }

    let mut rows = Vec::new();
    for ((name, ours, theirs, owned, _), wire) in cases.iter().zip(&wires) {
        for row in bench_case(cfg, name, wire, ours, theirs, owned) {
            if json {
                println!("{}", row.json(N));
            } else {
                println!("{}", row.text());
            }
            rows.push(row);
        }
    }

    for api in Api::ALL {
        for (op, want) in [("decode", TARGET_DECODE), ("encode", TARGET_ENCODE)] {
            let got = rows
                .iter()
                .find(|r| r.case == "submit_sm_128" && r.op == op)
                .and_then(|r| r.ratio(api))
                .unwrap_or(0.0);
            let met = got >= want;
            let api = api.name();
            if json {
                println!(
                    "{{\"target\":\"{op}\",\"api\":\"{api}\",\"case\":\"submit_sm_128\",\
                     \"required_ratio\":{want:.1},\"ratio\":{got:.3},\"met\":{met},\
                     \"rusmpp_tlv_cap\":{N}}}"
                );
            } else {
                println!(
                    "target {op} >= {want:.0}x faster than rusmpp-core {api:<8} API on a \
                     {TARGET_SIZE}-byte submit_sm: {:.2}x, {}",
                    got,
                    if met { "MET" } else { "MISSED" }
                );
            }
        }
    }
    ExitCode::SUCCESS
}

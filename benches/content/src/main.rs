//! Micro-benchmarks of `smpp-pdu`'s message content code: text encodings
//! (`smpp_pdu::text`), splitting long messages (`smpp_pdu::concat`) and delivery receipts
//! (`smpp_pdu::receipt`).
//!
//! Every operation is measured in one process with its samples interleaved, like
//! `benches/codec`. See `docs/benchmarks.md`.
//!
//! Usage: `cargo run --release --manifest-path benches/content/Cargo.toml -- [--quick] [--json]`
//! (or `cargo xtask bench content [ARGS...]`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use smpp_bench_harness as harness;

use std::hint::black_box;
use std::process::ExitCode;

use smpp_pdu::concat::{self, SplitMethod};
use smpp_pdu::receipt::{Receipt, ReceiptDate, ReceiptState};
use smpp_pdu::text::{self, Encoding, TextConfig};

use harness::{mb_per_s, measure, median, min, runner, Config, Runner};

/// 160 characters of the GSM 03.38 basic table (two of them, `£` and `é`, outside ASCII),
/// so 160 septets: one whole short message.
const GSM_160: &str =
    "Your code is 482913. It expires in 10 minutes; do not share it with anyone, not \
even our staff. Questions? Call +44 20 7946 0018 or reply HELP. Cost £0.00, café";

/// 70 characters that GSM cannot hold: three emoji (each two UTF-16 units), so 73 UTF-16
/// units and 146 octets of UCS-2. The first character outside GSM is the first emoji.
const UCS2_70: &str = "Hi Anna! Your parcel 4821 has shipped 📦 and arrives tomorrow 🚚 Thanks🙏";

/// The receipt text of SMPP 3.4 Appendix B, as most SMSCs send it.
const RECEIPT_STANDARD: &str = "id:1234567890 sub:001 dlvrd:001 submit date:2311221200 \
done date:2311221201 stat:DELIVRD err:000 text:Hello world";

/// A variant: hexadecimal id, 12-digit dates (with seconds), an extra key the parser does
/// not know (`imsi:`), and a capitalised `Text:`.
const RECEIPT_VARIANT: &str = "id:7F3A9C01B2 sub:001 dlvrd:001 submit date:231122120000 \
done date:231122120105 stat:DELIVRD err:000 imsi:234150123456789 Text:Hello world";

/// Length of the long text for `concat::split`.
const LONG_CHARS: usize = 1000;

/// One benchmarked operation and what its throughput is counted in.
struct Op<'a> {
    name: &'static str,
    /// Octets of input (or, for `Receipt::format`, of output) per operation.
    bytes: usize,
    /// What `bytes` counts.
    unit: &'static str,
    runner: Runner<'a>,
}

fn op<'a, F: FnMut() -> usize + 'a>(
    name: &'static str,
    bytes: usize,
    unit: &'static str,
    f: F,
) -> Op<'a> {
    Op {
        name,
        bytes,
        unit,
        runner: runner(f),
    }
}

/// The inputs, checked before anything is timed.
struct Inputs {
    gsm_unpacked: Vec<u8>,
    gsm_packed: Vec<u8>,
    ucs2: Vec<u8>,
    long: String,
    standard: Receipt,
}

fn date(
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: Option<u8>,
) -> Option<ReceiptDate> {
    Some(ReceiptDate::new(year, month, day, hour, minute, second))
}

/// Checks that the texts are what the docs say, that every encoding decodes back to its
/// text, and that the splits and receipts come out as expected. Returns the inputs of the
/// timed operations, or why a check failed.
fn check(notes: &mut Vec<String>) -> Result<Inputs, String> {
    let ensure = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_string()) };

    // GSM text.
    ensure(
        GSM_160.chars().count() == 160,
        "GSM_160 is not 160 characters",
    )?;
    let septets = text::gsm_septet_count(GSM_160).map_err(|e| e.to_string())?;
    ensure(septets == 160, "GSM_160 is not 160 septets")?;
    let gsm_unpacked = text::encode(GSM_160, Encoding::Gsm7).map_err(|e| e.to_string())?;
    let gsm_packed = text::encode(GSM_160, Encoding::Gsm7Packed).map_err(|e| e.to_string())?;
    ensure(gsm_unpacked.len() == 160, "GSM unpacked is not 160 octets")?;
    ensure(gsm_packed.len() == 140, "GSM packed is not 140 octets")?;
    let back = text::decode(&gsm_unpacked, Encoding::Gsm7).map_err(|e| e.to_string())?;
    ensure(back == GSM_160, "GSM unpacked does not decode back")?;
    let back = text::decode(&gsm_packed, Encoding::Gsm7Packed).map_err(|e| e.to_string())?;
    ensure(back == GSM_160, "GSM packed does not decode back")?;
    notes.push(format!(
        "GSM text: {} characters, {} UTF-8 octets, {} septets; {} octets unpacked, {} packed",
        GSM_160.chars().count(),
        GSM_160.len(),
        septets,
        gsm_unpacked.len(),
        gsm_packed.len()
    ));

    // UCS-2 text.
    let chars = UCS2_70.chars().count();
    let units = UCS2_70.encode_utf16().count();
    let emoji = UCS2_70.chars().filter(|c| c.len_utf16() == 2).count();
    ensure(chars == 70, "UCS2_70 is not 70 characters")?;
    ensure(units == chars + emoji, "UTF-16 unit count")?;
    let ucs2 = text::encode(UCS2_70, Encoding::Ucs2).map_err(|e| e.to_string())?;
    ensure(ucs2.len() == 2 * units, "UCS-2 is not two octets per unit")?;
    let back = text::decode(&ucs2, Encoding::Ucs2).map_err(|e| e.to_string())?;
    ensure(back == UCS2_70, "UCS-2 does not decode back")?;
    let first_non_gsm = UCS2_70
        .chars()
        .position(|c| !text::is_gsm(c.encode_utf8(&mut [0; 4])))
        .unwrap_or(chars);
    notes.push(format!(
        "UCS-2 text: {chars} characters ({emoji} emoji outside the BMP), {units} UTF-16 \
         units, {} UTF-8 octets, {} UCS-2 octets; first character outside GSM at position \
         {first_non_gsm}",
        UCS2_70.len(),
        ucs2.len()
    ));

    // choose.
    let cfg = TextConfig::default();
    ensure(
        text::choose(GSM_160, &cfg) == Encoding::Gsm7,
        "choose(GSM) is not Gsm7",
    )?;
    ensure(
        text::choose(UCS2_70, &cfg) == Encoding::Ucs2,
        "choose(UCS-2 text) is not Ucs2",
    )?;

    // split.
    let long: String = GSM_160.chars().cycle().take(LONG_CHARS).collect();
    let segs =
        concat::split(&long, Encoding::Gsm7, SplitMethod::Udh8, 0x42).map_err(|e| e.to_string())?;
    let want_segs = LONG_CHARS.div_ceil(153);
    ensure(segs.len() == want_segs, "split: segment count")?;
    let mut joined = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        if !(s.udhi && s.data.len() <= 6 + 153) {
            return Err(format!(
                "split: segment {i} shape: udhi {} len {}",
                s.udhi,
                s.data.len()
            ));
        }
        ensure(
            s.data[..6] == [0x05, 0x00, 0x03, 0x42, want_segs as u8, i as u8 + 1],
            "split: UDH",
        )?;
        joined.extend_from_slice(&s.data[6..]);
    }
    let back = text::decode(&joined, Encoding::Gsm7).map_err(|e| e.to_string())?;
    ensure(back == long, "split: segments do not join back to the text")?;
    notes.push(format!(
        "long text: {} characters, {} UTF-8 octets; split with Udh8 into {} segments",
        LONG_CHARS,
        long.len(),
        segs.len()
    ));

    // Receipts.
    let standard = Receipt::parse_text(RECEIPT_STANDARD).map_err(|e| e.to_string())?;
    let want = Receipt {
        sub: Some("001".into()),
        dlvrd: Some("001".into()),
        submit_date: date(2023, 11, 22, 12, 0, None),
        done_date: date(2023, 11, 22, 12, 1, None),
        err: Some("000".into()),
        text: Some("Hello world".into()),
        ..Receipt::new("1234567890", ReceiptState::Delivered)
    };
    // The raw stat word and key:value pairs are checked by the crate's tests.
    let typed = Receipt {
        stat_raw: None,
        fields: smpp_pdu::receipt::RawFields::new(),
        ..standard.clone()
    };
    ensure(typed == want, "standard receipt parse")?;
    ensure(
        standard.format() == RECEIPT_STANDARD,
        "format does not give back the standard receipt text",
    )?;
    let variant = Receipt::parse_text(RECEIPT_VARIANT).map_err(|e| e.to_string())?;
    ensure(
        variant.id == "7F3A9C01B2"
            && variant.submit_date == date(2023, 11, 22, 12, 0, Some(0))
            && variant.done_date == date(2023, 11, 22, 12, 1, Some(5))
            && variant.state == ReceiptState::Delivered
            && variant.text.as_deref() == Some("Hello world"),
        "variant receipt parse",
    )?;
    notes.push(format!(
        "receipts: standard {} octets, variant {} octets; the variant parses to err = {:?}",
        RECEIPT_STANDARD.len(),
        RECEIPT_VARIANT.len(),
        variant.err
    ));

    Ok(Inputs {
        gsm_unpacked,
        gsm_packed,
        ucs2,
        long,
        standard,
    })
}

const USAGE: &str = "usage: smpp-content-bench [--quick] [--json]";

fn main() -> ExitCode {
    let (quick, json) = match harness::parse_args(USAGE) {
        Ok(a) => a,
        Err(code) => return ExitCode::from(code),
    };
    let cfg = Config::new(quick);
    // Human-readable notes go to stderr with --json so that stdout is only JSON lines.
    let note = |s: &str| {
        if json {
            eprintln!("{s}");
        } else {
            println!("{s}");
        }
    };

    let mut notes = Vec::new();
    let inputs = match check(&mut notes) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("CHECK FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    note("check ok: every encoding decodes back to its text; split, parse and format give the expected values");
    for n in &notes {
        note(n);
    }
    note(&format!(
        "{} samples of ~{} ms per operation, interleaved in one process; median and min ns per \
         operation; MB/s = 10^6 octets of input per second (output for format)",
        cfg.samples,
        cfg.batch_time.as_millis()
    ));

    let text_cfg = TextConfig::default();
    let Inputs {
        gsm_unpacked,
        gsm_packed,
        ucs2,
        long,
        standard,
    } = &inputs;
    let format_len = standard.format().len();
    let mut ops: Vec<Op<'_>> = vec![
        op("gsm7_encode", GSM_160.len(), "text", || {
            let v = text::encode(black_box(GSM_160), Encoding::Gsm7).expect("gsm");
            black_box(&v);
            v.len()
        }),
        op("gsm7_packed_encode", GSM_160.len(), "text", || {
            let v = text::encode(black_box(GSM_160), Encoding::Gsm7Packed).expect("gsm");
            black_box(&v);
            v.len()
        }),
        op("ucs2_encode", UCS2_70.len(), "text", || {
            let v = text::encode(black_box(UCS2_70), Encoding::Ucs2).expect("ucs2");
            black_box(&v);
            v.len()
        }),
        op("gsm7_decode", gsm_unpacked.len(), "octets", || {
            let s = text::decode(black_box(gsm_unpacked), Encoding::Gsm7).expect("gsm");
            black_box(&s);
            s.len()
        }),
        op("gsm7_packed_decode", gsm_packed.len(), "octets", || {
            let s = text::decode(black_box(gsm_packed), Encoding::Gsm7Packed).expect("gsm");
            black_box(&s);
            s.len()
        }),
        op("ucs2_decode", ucs2.len(), "octets", || {
            let s = text::decode(black_box(ucs2), Encoding::Ucs2).expect("ucs2");
            black_box(&s);
            s.len()
        }),
        op("choose_gsm", GSM_160.len(), "text", || {
            text::choose(black_box(GSM_160), black_box(&text_cfg)) as usize
        }),
        op("choose_ucs2", UCS2_70.len(), "text", || {
            text::choose(black_box(UCS2_70), black_box(&text_cfg)) as usize
        }),
        op("split_udh8_1000", long.len(), "text", || {
            let v = concat::split(black_box(long), Encoding::Gsm7, SplitMethod::Udh8, 0x42)
                .expect("split");
            black_box(&v);
            v.len()
        }),
        op("receipt_parse_std", RECEIPT_STANDARD.len(), "text", || {
            let r = Receipt::parse_text(black_box(RECEIPT_STANDARD)).expect("receipt");
            black_box(&r);
            r.id.len()
        }),
        op("receipt_parse_var", RECEIPT_VARIANT.len(), "text", || {
            let r = Receipt::parse_text(black_box(RECEIPT_VARIANT)).expect("receipt");
            black_box(&r);
            r.id.len()
        }),
        op("receipt_format", format_len, "output", || {
            let s = black_box(standard).format();
            black_box(&s);
            s.len()
        }),
    ];
    let mut runners: Vec<Runner<'_>> = Vec::new();
    let mut meta = Vec::new();
    for o in ops.drain(..) {
        meta.push((o.name, o.bytes, o.unit));
        runners.push(o.runner);
    }
    let samples = measure(&cfg, &mut runners);

    if !json {
        println!(
            "{:<20} {:>6} {:<7} {:>9} {:>9} {:>9}",
            "op", "bytes", "of", "median ns", "min ns", "MB/s"
        );
    }
    for ((name, bytes, unit), s) in meta.iter().zip(&samples) {
        let (med, lo) = (median(s), min(s));
        let mbs = mb_per_s(*bytes, med);
        if json {
            println!(
                "{{\"op\":\"{name}\",\"bytes\":{bytes},\"bytes_of\":\"{unit}\",\"samples\":{},\
                 \"median_ns\":{med:.2},\"min_ns\":{lo:.2},\"mb_s\":{mbs:.1}}}",
                s.len()
            );
        } else {
            println!("{name:<20} {bytes:>6} {unit:<7} {med:>9.1} {lo:>9.1} {mbs:>9.0}");
        }
    }
    ExitCode::SUCCESS
}

//! What the sans-IO `smpp-session` state machine costs per `submit_sm`/`submit_sm_resp`
//! pair, with an ESME session and an SMSC session in one process and no sockets, against
//! the codec alone (`smpp-pdu`) doing the same encodes and decodes.
//!
//! Time inside the sessions is virtual: a fixed `Instant` taken once, advanced by one
//! nanosecond per pair. The harness times batches with `Instant::now()`; the sessions never
//! read a clock. See `docs/benchmarks.md`.
//!
//! Usage: `cargo run --release --manifest-path benches/session/Cargo.toml -- [--quick] [--json]`
//! (or `cargo xtask bench session [ARGS...]`). With `SMPP_BENCH_STATS=off` in the
//! environment the sessions run with `Config::stats(false)` (no per-PDU counters).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use smpp_bench_harness as harness;

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_pdu::{Body, CommandId, CommandStatus, Pdu, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, BindRequest, Config, Delivery, Event, Session};

use harness::{measure, median, min, runner, Config as BenchConfig, Runner};

/// The project's target for the session's cost per submit_sm/submit_sm_resp pair.
const TARGET_NS: f64 = 150.0;

/// Size of the `submit_sm` (header included), as in `benches/codec`.
const SUBMIT_SIZE: usize = 128;

/// Octets of the `submit_sm` below without its short message (as in `benches/codec`).
const SUBMIT_OVERHEAD: usize = 16 // header
    + 1 // service_type ""
    + 2 + 8 // source ton/npi + "MyBrand\0"
    + 2 + 13 // dest ton/npi + "447700900123\0"
    + 3 // esm_class, protocol_id, priority_flag
    + 1 + 1 // schedule_delivery_time, validity_period (NULL)
    + 4 // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
    + 1; // sm_length

/// The SMSC's message id in every `submit_sm_resp`.
const MESSAGE_ID: &str = "1234567890";

/// Requests in flight per round of the windowed variant.
const WINDOW: usize = 256;

/// How far virtual time moves per pair.
const STEP: Duration = Duration::from_nanos(1);

fn submit_body(text: &[u8]) -> Body<'_> {
    Body::from(SubmitSm {
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
    })
}

fn resp_body() -> Body<'static> {
    Body::from(SubmitSmResp {
        message_id: MESSAGE_ID.into(),
        tlvs: Vec::new(),
    })
}

/// Moves everything `from` wants to send into `wire` (cleared first), then into `to`.
fn transfer(now: Instant, from: &mut Session, to: &mut Session, wire: &mut Vec<u8>) {
    wire.clear();
    while from.poll_transmit(wire).is_some() {}
    to.handle_input(now, wire);
}

/// An ESME session and an SMSC session, bound as a transceiver to each other at `now`,
/// with keep-alives off and room for `window` requests in flight.
fn bound_pair(now: Instant, window: usize) -> Result<(Session, Session), String> {
    // `SMPP_BENCH_STATS=off` measures the sessions without their counters.
    let stats = std::env::var("SMPP_BENCH_STATS").map_or(true, |v| v != "off");
    let cfg = Config::default()
        .enquire_link_interval(None)
        .window(window)
        .stats(stats);
    let mut esme = Session::esme(cfg.clone(), now);
    let mut smsc = Session::smsc(cfg, now);
    let mut wire = Vec::new();
    esme.bind(
        now,
        BindRequest::new(BindKind::Transceiver, "bench", "secret"),
    )
    .map_err(|e| format!("bind: {e}"))?;
    transfer(now, &mut esme, &mut smsc, &mut wire);
    let seq = match smsc.poll_event() {
        Some(Event::BindRequested {
            sequence_number, ..
        }) => sequence_number,
        other => return Err(format!("SMSC: expected BindRequested, got {other:?}")),
    };
    smsc.accept_bind(now, seq, "SMSC")
        .map_err(|e| format!("accept_bind: {e}"))?;
    match smsc.poll_event() {
        Some(Event::Bound { .. }) => {}
        other => return Err(format!("SMSC: expected Bound, got {other:?}")),
    }
    transfer(now, &mut smsc, &mut esme, &mut wire);
    match esme.poll_event() {
        Some(Event::Bound { .. }) => {}
        other => return Err(format!("ESME: expected Bound, got {other:?}")),
    }
    if !esme.is_bound() || !smsc.is_bound() {
        return Err("not bound".into());
    }
    Ok((esme, smsc))
}

/// Two bound sessions, the wire between them, and virtual time.
struct Pair<'a> {
    esme: Session,
    smsc: Session,
    wire: Vec<u8>,
    now: Instant,
    submit: Body<'a>,
    resp: Body<'static>,
    /// Sequence numbers collected by [`Pair::window_borrowed`].
    seqs: Vec<u32>,
}

impl<'a> Pair<'a> {
    fn new(submit: Body<'a>, window: usize) -> Result<Pair<'a>, String> {
        let now = Instant::now();
        let (esme, smsc) = bound_pair(now, window)?;
        Ok(Pair {
            esme,
            smsc,
            wire: Vec::with_capacity(WINDOW * 256),
            now,
            submit,
            resp: resp_body(),
            seqs: Vec::with_capacity(WINDOW),
        })
    }

    /// One submit_sm and its submit_sm_resp through both sessions. Returns the octets
    /// moved (128 + 27).
    #[inline(always)]
    fn one(&mut self) -> usize {
        self.now += STEP;
        let now = self.now;
        let seq = self
            .esme
            .send_request(now, &self.submit)
            .expect("send_request");
        self.wire.clear();
        let a = self
            .esme
            .poll_transmit(&mut self.wire)
            .expect("a submit_sm");
        self.smsc.handle_input(now, &self.wire);
        let in_seq = match self.smsc.poll_event() {
            Some(Event::Request {
                sequence_number,
                pdu,
            }) => {
                black_box(&pdu);
                sequence_number
            }
            other => panic!("SMSC: expected Request, got {other:?}"),
        };
        self.smsc
            .send_response(now, in_seq, CommandStatus::ESME_ROK, self.resp.clone())
            .expect("send_response");
        self.wire.clear();
        let b = self
            .smsc
            .poll_transmit(&mut self.wire)
            .expect("a submit_sm_resp");
        self.esme.handle_input(now, &self.wire);
        match self.esme.poll_event() {
            Some(Event::Response {
                sequence_number,
                pdu,
                ..
            }) if sequence_number == seq => {
                black_box(&pdu);
            }
            other => panic!("ESME: expected Response to {seq}, got {other:?}"),
        }
        a + b
    }

    /// `WINDOW` submit_sm, moved to the SMSC in one chunk, all answered, the answers moved
    /// back in one chunk and drained. Returns the octets moved.
    #[inline(always)]
    fn window(&mut self) -> usize {
        self.now += STEP;
        let now = self.now;
        for _ in 0..WINDOW {
            self.esme
                .send_request(now, &self.submit)
                .expect("send_request");
        }
        self.wire.clear();
        while self.esme.poll_transmit(&mut self.wire).is_some() {}
        let moved = self.wire.len();
        self.smsc.handle_input(now, &self.wire);
        let mut n = 0;
        while let Some(ev) = self.smsc.poll_event() {
            match ev {
                Event::Request {
                    sequence_number,
                    pdu,
                } => {
                    black_box(&pdu);
                    self.smsc
                        .send_response(
                            now,
                            sequence_number,
                            CommandStatus::ESME_ROK,
                            self.resp.clone(),
                        )
                        .expect("send_response");
                    n += 1;
                }
                other => panic!("SMSC: expected Request, got {other:?}"),
            }
        }
        assert_eq!(n, WINDOW, "SMSC: requests");
        self.wire.clear();
        while self.smsc.poll_transmit(&mut self.wire).is_some() {}
        let moved = moved + self.wire.len();
        self.esme.handle_input(now, &self.wire);
        let mut n = 0;
        while let Some(ev) = self.esme.poll_event() {
            match ev {
                Event::Response { pdu, .. } => {
                    black_box(&pdu);
                    n += 1;
                }
                other => panic!("ESME: expected Response, got {other:?}"),
            }
        }
        assert_eq!(n, WINDOW, "ESME: responses");
        moved
    }

    /// [`Pair::one`] through `handle_input_with`: the request and the response reach the
    /// application borrowed from the wire, with no owned copy.
    #[inline(always)]
    fn one_borrowed(&mut self) -> usize {
        self.now += STEP;
        let now = self.now;
        let seq = self
            .esme
            .send_request(now, &self.submit)
            .expect("send_request");
        self.wire.clear();
        let a = self
            .esme
            .poll_transmit(&mut self.wire)
            .expect("a submit_sm");
        let mut in_seq = None;
        self.smsc.handle_input_with(now, &self.wire, |d| match d {
            Delivery::Request {
                sequence_number,
                pdu,
            } => {
                black_box(&pdu);
                in_seq = Some(sequence_number);
            }
            other => panic!("SMSC: expected Request, got {other:?}"),
        });
        let in_seq = in_seq.expect("SMSC: a request");
        self.smsc
            .send_response(now, in_seq, CommandStatus::ESME_ROK, self.resp.clone())
            .expect("send_response");
        self.wire.clear();
        let b = self
            .smsc
            .poll_transmit(&mut self.wire)
            .expect("a submit_sm_resp");
        let mut answered = false;
        self.esme.handle_input_with(now, &self.wire, |d| match d {
            Delivery::Response {
                sequence_number,
                pdu,
                ..
            } if sequence_number == seq => {
                black_box(&pdu);
                answered = true;
            }
            other => panic!("ESME: expected Response to {seq}, got {other:?}"),
        });
        assert!(answered, "ESME: no response");
        a + b
    }

    /// [`Pair::window`] through `handle_input_with`. The SMSC answers after the whole
    /// chunk is delivered (the callback cannot borrow the session), as an application
    /// that collects sequence numbers would.
    #[inline(always)]
    fn window_borrowed(&mut self) -> usize {
        self.now += STEP;
        let now = self.now;
        for _ in 0..WINDOW {
            self.esme
                .send_request(now, &self.submit)
                .expect("send_request");
        }
        self.wire.clear();
        while self.esme.poll_transmit(&mut self.wire).is_some() {}
        let moved = self.wire.len();
        let seqs = &mut self.seqs;
        seqs.clear();
        self.smsc.handle_input_with(now, &self.wire, |d| match d {
            Delivery::Request {
                sequence_number,
                pdu,
            } => {
                black_box(&pdu);
                seqs.push(sequence_number);
            }
            other => panic!("SMSC: expected Request, got {other:?}"),
        });
        assert_eq!(self.seqs.len(), WINDOW, "SMSC: requests");
        for &seq in &self.seqs {
            self.smsc
                .send_response(now, seq, CommandStatus::ESME_ROK, self.resp.clone())
                .expect("send_response");
        }
        self.wire.clear();
        while self.smsc.poll_transmit(&mut self.wire).is_some() {}
        let moved = moved + self.wire.len();
        let mut n = 0;
        self.esme.handle_input_with(now, &self.wire, |d| match d {
            Delivery::Response { pdu, .. } => {
                black_box(&pdu);
                n += 1;
            }
            other => panic!("ESME: expected Response, got {other:?}"),
        });
        assert_eq!(n, WINDOW, "ESME: responses");
        moved
    }

    /// Nothing is left over: no bytes, no events, no request in either direction.
    fn idle(&mut self) -> Result<(), String> {
        let mut buf = Vec::new();
        for (name, s) in [("ESME", &mut self.esme), ("SMSC", &mut self.smsc)] {
            if s.poll_transmit(&mut buf).is_some() {
                return Err(format!("{name} has bytes to send"));
            }
            if let Some(ev) = s.poll_event() {
                return Err(format!("{name} has an event: {ev:?}"));
            }
            if s.in_flight() != 0 || s.inbound_pending() != 0 || !s.is_bound() {
                return Err(format!("{name} is not idle and bound"));
            }
        }
        Ok(())
    }
}

/// The codec alone, doing what the two sessions do with the codec: build and encode the
/// submit_sm, decode it, build and encode the submit_sm_resp, decode it. With `owned`,
/// each decoded PDU is also turned into an owned `Pdu<'static>`, as the sessions do to hand
/// it out in an event.
#[inline(always)]
fn codec_pair(
    seq: u32,
    submit: &Body<'_>,
    resp: &Body<'static>,
    wire: &mut Vec<u8>,
    owned: bool,
) -> usize {
    wire.clear();
    let a = Pdu::new(seq, submit.clone()).encode(wire).expect("encode");
    let (req, _) = Pdu::decode(wire).expect("decode").expect("whole");
    if owned {
        black_box(req.into_owned());
    } else {
        black_box(req);
    }
    wire.clear();
    let b = Pdu::response(seq, CommandStatus::ESME_ROK, resp.clone())
        .encode(wire)
        .expect("encode");
    let (res, _) = Pdu::decode(wire).expect("decode").expect("whole");
    if owned {
        black_box(res.into_owned());
    } else {
        black_box(res);
    }
    a + b
}

fn check(text: &[u8]) -> Result<(usize, usize), String> {
    let mut wire = Vec::new();
    let a = Pdu::new(1, submit_body(text))
        .encode(&mut wire)
        .map_err(|e| e.to_string())?;
    if a != SUBMIT_SIZE {
        return Err(format!("submit_sm is {a} octets, want {SUBMIT_SIZE}"));
    }
    let b = Pdu::response(1, CommandStatus::ESME_ROK, resp_body())
        .encode(&mut wire)
        .map_err(|e| e.to_string())?;
    // The sessions carry exactly these PDUs, in both variants.
    let mut p = Pair::new(submit_body(text), WINDOW)?;
    for _ in 0..1000 {
        if p.one() != a + b {
            return Err("a pair moved an unexpected number of octets".into());
        }
    }
    p.idle()?;
    for _ in 0..4 {
        if p.window() != WINDOW * (a + b) {
            return Err("a window moved an unexpected number of octets".into());
        }
    }
    p.idle()?;
    for _ in 0..1000 {
        if p.one_borrowed() != a + b {
            return Err("a borrowed pair moved an unexpected number of octets".into());
        }
    }
    p.idle()?;
    for _ in 0..4 {
        if p.window_borrowed() != WINDOW * (a + b) {
            return Err("a borrowed window moved an unexpected number of octets".into());
        }
    }
    p.idle()?;
    let req = Pdu::decode(&wire).map_err(|e| e.to_string())?;
    match req {
        Some((pdu, _)) if pdu.command_id() == CommandId::SUBMIT_SM => {}
        other => return Err(format!("codec: {other:?}")),
    }
    Ok((a, b))
}

const USAGE: &str = "usage: smpp-session-bench [--quick] [--json] | --profile VARIANT [PAIRS]";

/// `--profile VARIANT [PAIRS]`: runs one variant for about PAIRS pairs (default 10^6),
/// untimed, for `perf record` or `valgrind --tool=callgrind`.
fn profile(variant: &str, pairs: usize, text: &[u8]) -> ExitCode {
    let submit = submit_body(text);
    let resp = resp_body();
    let mut acc = 0usize;
    match variant {
        "session" => {
            let mut p = Pair::new(submit_body(text), WINDOW).expect("bind");
            for _ in 0..pairs {
                acc += p.one();
            }
        }
        "session_window256" => {
            let mut p = Pair::new(submit_body(text), WINDOW).expect("bind");
            for _ in 0..pairs.div_ceil(WINDOW) {
                acc += p.window();
            }
        }
        "session_borrowed" => {
            let mut p = Pair::new(submit_body(text), WINDOW).expect("bind");
            for _ in 0..pairs {
                acc += p.one_borrowed();
            }
        }
        "session_borrowed_window256" => {
            let mut p = Pair::new(submit_body(text), WINDOW).expect("bind");
            for _ in 0..pairs.div_ceil(WINDOW) {
                acc += p.window_borrowed();
            }
        }
        "codec" | "codec_into_owned" => {
            let mut wire = Vec::with_capacity(256);
            for i in 0..pairs {
                let seq = (i % 0x7FFF_FFFF) as u32 + 1;
                acc += codec_pair(seq, &submit, &resp, &mut wire, variant != "codec");
            }
        }
        other => {
            eprintln!("unknown variant {other:?}; {USAGE}");
            return ExitCode::from(2);
        }
    }
    println!("{variant}: {pairs} pairs, {acc} octets moved");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let text: Vec<u8> = (0..SUBMIT_SIZE - SUBMIT_OVERHEAD)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--profile") {
        let variant = args.get(1).map(String::as_str).unwrap_or("session");
        let pairs = match args.get(2).map(|s| s.parse::<usize>()) {
            None => 1_000_000,
            Some(Ok(n)) => n,
            Some(Err(e)) => {
                eprintln!("PAIRS: {e}; {USAGE}");
                return ExitCode::from(2);
            }
        };
        return profile(variant, pairs, &text);
    }
    let (quick, json) = match harness::parse_args(USAGE) {
        Ok(a) => a,
        Err(code) => return ExitCode::from(code),
    };
    let cfg = BenchConfig::new(quick);
    let note = |s: &str| {
        if json {
            eprintln!("{s}");
        } else {
            println!("{s}");
        }
    };

    let (req_len, resp_len) = match check(&text) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("CHECK FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    note(&format!(
        "check ok: submit_sm {req_len} octets, submit_sm_resp {resp_len} octets; after 1000 \
         pairs and 4 windows of {WINDOW} both sessions are bound and idle"
    ));
    note(&format!(
        "sizes moved by value: Body {} octets, Pdu {} octets, Event {} octets, Session {} octets",
        std::mem::size_of::<Body<'_>>(),
        std::mem::size_of::<Pdu<'_>>(),
        std::mem::size_of::<Event>(),
        std::mem::size_of::<Session>()
    ));
    note(&format!(
        "{} samples of ~{} ms per operation, interleaved in one process; median and min ns \
         per submit_sm/submit_sm_resp pair",
        cfg.samples,
        cfg.batch_time.as_millis()
    ));

    let mut single = Pair::new(submit_body(&text), WINDOW).expect("checked");
    let mut windowed = Pair::new(submit_body(&text), WINDOW).expect("checked");
    let mut single_b = Pair::new(submit_body(&text), WINDOW).expect("checked");
    let mut windowed_b = Pair::new(submit_body(&text), WINDOW).expect("checked");
    let submit = submit_body(&text);
    let resp = resp_body();
    let (mut wire_a, mut wire_b) = (Vec::with_capacity(256), Vec::with_capacity(256));
    let (mut seq_a, mut seq_b) = (0u32, 0u32);

    // (name, pairs per call, runner)
    let mut rows: Vec<(&str, usize, Runner<'_>)> = vec![
        ("session", 1, runner(|| single.one())),
        ("session_window256", WINDOW, runner(|| windowed.window())),
        ("session_borrowed", 1, runner(|| single_b.one_borrowed())),
        (
            "session_borrowed_window256",
            WINDOW,
            runner(|| windowed_b.window_borrowed()),
        ),
        (
            "codec",
            1,
            runner(|| {
                seq_a = seq_a % 0x7FFF_FFFF + 1;
                codec_pair(
                    seq_a,
                    black_box(&submit),
                    black_box(&resp),
                    &mut wire_a,
                    false,
                )
            }),
        ),
        (
            "codec_into_owned",
            1,
            runner(|| {
                seq_b = seq_b % 0x7FFF_FFFF + 1;
                codec_pair(
                    seq_b,
                    black_box(&submit),
                    black_box(&resp),
                    &mut wire_b,
                    true,
                )
            }),
        ),
    ];
    let mut runners: Vec<Runner<'_>> = Vec::new();
    let mut meta = Vec::new();
    for (name, per, r) in rows.drain(..) {
        meta.push((name, per));
        runners.push(r);
    }
    let samples = measure(&cfg, &mut runners);
    let stats: Vec<(f64, f64)> = samples
        .iter()
        .zip(&meta)
        .map(|(s, &(_, per))| (median(s) / per as f64, min(s) / per as f64))
        .collect();
    let codec = stats[4].0;

    if !json {
        println!(
            "{:<27} {:>9} {:>9} {:>15}",
            "variant", "median ns", "min ns", "minus codec ns"
        );
    }
    for (&(name, per), &(med, lo)) in meta.iter().zip(&stats) {
        if json {
            println!(
                "{{\"variant\":\"{name}\",\"pairs_per_call\":{per},\"samples\":{},\
                 \"median_ns_per_pair\":{med:.2},\"min_ns_per_pair\":{lo:.2},\
                 \"minus_codec_ns\":{:.2}}}",
                cfg.samples,
                med - codec
            );
        } else {
            println!("{name:<27} {med:>9.1} {lo:>9.1} {:>15.1}", med - codec);
        }
    }
    // The target is read two ways: the whole pair through both sessions, and the sessions'
    // own part of it (session minus codec).
    for (i, name) in [
        (0, "session"),
        (1, "session_window256"),
        (2, "session_borrowed"),
        (3, "session_borrowed_window256"),
    ] {
        let got = stats[i].0;
        let own = got - codec;
        let (met, own_met) = (got < TARGET_NS, own < TARGET_NS);
        if json {
            println!(
                "{{\"target\":\"ns_per_pair\",\"variant\":\"{name}\",\"required_below_ns\":\
                 {TARGET_NS:.0},\"ns\":{got:.2},\"met\":{met},\"minus_codec_ns\":{own:.2},\
                 \"minus_codec_met\":{own_met}}}"
            );
        } else {
            let verdict = |m: bool| if m { "MET" } else { "MISSED" };
            println!(
                "target < {TARGET_NS:.0} ns per submit_sm/submit_sm_resp pair ({name}): \
                 {got:.1} ns, {}; the sessions' own part (minus codec): {own:.1} ns, {}",
                verdict(met),
                verdict(own_met)
            );
        }
    }
    ExitCode::SUCCESS
}

//! What the lifecycle layer costs per tracked message, at a window of 256, against the
//! same traffic without it.
//!
//! An ESME session and an SMSC session run back to back in one process, no sockets. One
//! round: the ESME submits 256 messages asking for receipts; the SMSC answers each with
//! its own message id and sends a delivery receipt for each (text and TLVs, as the test
//! SMSC does); the ESME acknowledges every receipt. Both variants do all of that and
//! parse every receipt (the client parses receipts either way):
//! - `untracked`: nothing more;
//! - `tracked`: every message is also registered with `smpp_lifecycle::Lifecycle`, each
//!   response recorded, each receipt routed and matched, and every report drained.
//!
//! Time inside the sessions and the layer is virtual. This part measures the layer's own
//! cost per message against the bare protocol work, which is the harshest comparison.
//!
//! The second part is what an application sees: our threaded client sends
//! `E2E_COUNT` texts with `send_many` at a window of 256 to the test SMSC (same process,
//! 127.0.0.1), which sends a receipt for each; a thread drains the inbound channel until
//! every receipt (untracked) or every report (tracked: by default a tracked message's
//! receipts come inside its report, one item per message) came. One SMSC and one client
//! of each variant serve every round (a warm-up batch each first, not timed), as a
//! service keeps its client.
//! `E2E_ROUNDS` rounds each run both, back to back, in alternating order; the ratio is the
//! median of the rounds' ratios. The target is that tracking costs at most 10% of that
//! throughput (tracked at least 0.90x untracked), measured side by side in one run.
//! `SMPP_BENCH_AA=1` runs the same rounds with both clients untracked (an A/A run), which
//! shows what one run can resolve. See `docs/benchmarks.md`.
//!
//! Usage: `cargo run --release --manifest-path benches/lifecycle/Cargo.toml -- [--quick] [--json]`
//! (or `cargo xtask bench lifecycle [ARGS...]`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use smpp_bench_harness as harness;

use std::collections::VecDeque;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_lifecycle::{
    Event as LifeEvent, Lifecycle, LifecycleConfig, NewMessage, Outcome, SubmitResult, TrackId,
};
use smpp_pdu::receipt::{Receipt, ReceiptState};
use smpp_pdu::{
    Body, CommandStatus, DeliverSm, DeliverSmResp, OctetString, SubmitSm, SubmitSmResp, Tlv,
};
use smpp_session::{BindKind, BindRequest, Config, Event, Session};

use harness::{measure, median, min, runner, Config as BenchConfig};

/// Counts allocations, for `SMPP_BENCH_ONLY` runs (the counter costs one relaxed atomic
/// add per allocation, the same for both variants).
struct Counting;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Messages in flight per round.
const WINDOW: usize = 256;

/// The most tracking may cost, as a share of the untracked throughput (end to end).
const TARGET_COST: f64 = 0.10;

/// Texts per end-to-end run.
const E2E_COUNT: usize = 20_000;

/// End-to-end runs of each variant. Single rounds on the 2-core machine scatter widely
/// (tracked/untracked from 0.70 to 1.35 within one run), so the median needs many.
const E2E_ROUNDS: usize = 41;

/// A throw-away `redis-server` on a free loopback port, stopped on drop.
struct RedisServer {
    child: std::process::Child,
    dir: std::path::PathBuf,
    url: String,
}

impl RedisServer {
    fn start() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("smpp-bench-redis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let server = RedisServer {
            child,
            dir,
            url: format!("redis://127.0.0.1:{port}/0"),
        };
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// CPU nanoseconds each live thread of this process has run, by thread name (summed over
/// threads of one name), from `/proc/self/task/*/schedstat` (nanosecond resolution).
fn thread_cpu() -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        let ns = run_ns(&t.path().join("schedstat"));
        *out.entry(comm.trim().to_string()).or_insert(0) += ns;
    }
    out
}

/// CPU nanoseconds the calling thread has run, from `/proc/thread-self/schedstat`.
fn own_cpu() -> u64 {
    run_ns(std::path::Path::new("/proc/thread-self/schedstat"))
}

/// The time on the CPU a `schedstat` file gives (its first field, nanoseconds); 0 when it
/// cannot be read.
fn run_ns(schedstat: &std::path::Path) -> u64 {
    std::fs::read_to_string(schedstat)
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
}

/// CPU time this process has used (user and system, every thread), from /proc.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// [`e2e_run`] with a store (`sqlite:PATH`, `redis://...`), references `{prefix}{i}`: a
/// test SMSC and a client of their own for this one run.
fn e2e_run_with(
    tracked: bool,
    count: usize,
    store: Option<&str>,
    prefix: &str,
) -> Result<(f64, f64), String> {
    let smsc = e2e_smsc()?;
    let client = e2e_client(&smsc, tracked, store)?;
    let out = e2e_batch(&client, tracked, count, prefix);
    let _ = client.unbind();
    smsc.shutdown();
    out
}

/// The test SMSC of the end-to-end runs: a receipt for every message, at once.
fn e2e_smsc() -> Result<smpp_smsc::Smsc, String> {
    let delay = std::env::var("SMPP_BENCH_RECEIPT_DELAY_US")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut smsc_config =
        smpp_smsc::SmscConfig::default().receipt_delay(Duration::from_micros(delay));
    // Receipts go out as fast as submits come in: the SMSC's deliver_sm get the same
    // window as the client's submits, and those the client has not taken yet wait at the
    // SMSC instead of being refused (its transport refuses past 4,096 queued).
    smsc_config.session.window = WINDOW;
    smsc_config.transport.max_queued_requests = 1 << 20;
    smpp_smsc::Smsc::start(smsc_config).map_err(|e| format!("SMSC: {e}"))
}

/// Whether the application also takes every matched receipt as an item of its own
/// (`SMPP_BENCH_RECEIPT_ITEMS=all`, `ReceiptItems::All`), not only inside its report.
fn all_receipts() -> bool {
    std::env::var("SMPP_BENCH_RECEIPT_ITEMS").is_ok_and(|v| v == "all")
}

/// A client of the end-to-end runs, bound to `smsc`, tracking or not, with a store or not.
fn e2e_client(
    smsc: &smpp_smsc::Smsc,
    tracked: bool,
    store: Option<&str>,
) -> Result<smpp_client::Client, String> {
    use smpp_client::{Client, ClientConfig};
    let mut config = ClientConfig::new(BindKind::Transceiver, "bench", "pw")
        .window(WINDOW)
        .enquire_link_interval(None)
        .track(tracked);
    if let Some(url) = store {
        let s = smpp_store::open(url).map_err(|e| format!("{url}: {e}"))?;
        config = config.store(smpp_client::StoreHandle::new(s));
    }
    if let Some(v) = std::env::var("SMPP_BENCH_REMEMBER")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.lifecycle.tracker.remember_finished = v;
    }
    if all_receipts() {
        config = config.receipt_items(smpp_client::ReceiptItems::All);
    }
    Client::connect(smsc.local_addr(), config).map_err(|e| format!("bind: {e}"))
}

/// One timed run on a bound client: `count` texts with `send_many` at window `WINDOW`,
/// references `{prefix}{i}`, while a thread drains the inbound channel until every
/// receipt (untracked) or every report (tracked; and every receipt as well with
/// `SMPP_BENCH_RECEIPT_ITEMS=all`) came. Messages per second and CPU microseconds (the
/// whole process) per message.
fn e2e_batch(
    client: &smpp_client::Client,
    tracked: bool,
    count: usize,
    prefix: &str,
) -> Result<(f64, f64), String> {
    use smpp_client::{OutgoingText, TextOptions};
    let want_receipts = if tracked && !all_receipts() { 0 } else { count };
    let verbose = std::env::var_os("SMPP_BENCH_VERBOSE").is_some();
    let threads_before = if verbose {
        thread_cpu()
    } else {
        Default::default()
    };
    let start = Instant::now();
    let cpu_start = process_cpu();
    let (results, drained, drain_ns) = std::thread::scope(|s| {
        let drain = s.spawn(|| {
            let cpu0 = own_cpu();
            let (mut receipts, mut reports) = (0, 0);
            let want_reports = if tracked { count } else { 0 };
            let end = Instant::now() + Duration::from_secs(120);
            while (receipts < want_receipts || reports < want_reports) && Instant::now() < end {
                match client.inbound().recv_timeout(Duration::from_secs(5)) {
                    Ok(i) if i.receipt().is_some() => receipts += 1,
                    Ok(i) if i.report().is_some() => reports += 1,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            ((receipts, reports), own_cpu() - cpu0)
        });
        let texts = (0..count).map(|i| {
            OutgoingText::new(
                "MyBrand",
                "447700900123",
                "Your code is 123456. It expires in 10 minutes.",
            )
            .options(TextOptions::default().reference(format!("{prefix}{i}")))
        });
        let results = client.send_many(texts, WINDOW);
        let (drained, ns) = drain.join().unwrap_or(((0, 0), 0));
        (results, drained, ns)
    });
    let elapsed = start.elapsed();
    let cpu = match (cpu_start, process_cpu()) {
        (Some(a), Some(b)) => (b - a).as_secs_f64() * 1e6 / count as f64,
        _ => f64::NAN,
    };
    let failed = results.iter().filter(|r| r.is_err()).count();
    let tracker = client.stats().tracker;
    if verbose {
        let after = thread_cpu();
        let per = |ns: u64| ns as f64 / count as f64;
        let mut line = format!(
            "ns CPU per message by thread ({}): drain {:.0}",
            if tracked { "tracked" } else { "untracked" },
            per(drain_ns)
        );
        for (name, ns) in &after {
            let ns = ns.saturating_sub(threads_before.get(name).copied().unwrap_or(0));
            line.push_str(&format!(", {name} {:.0}", per(ns)));
        }
        eprintln!("{line}");
        eprintln!("{elapsed:?} store {:?}", client.stats().store);
        eprintln!("tracker {tracker:?}");
    }
    let want = (want_receipts, if tracked { count } else { 0 });
    if failed > 0 || drained != want {
        return Err(format!(
            "{failed} sends failed; drained {drained:?}, wanted {want:?}; tracker {tracker:?}"
        ));
    }
    Ok((count as f64 / elapsed.as_secs_f64(), cpu))
}

fn transfer(now: Instant, from: &mut Session, to: &mut Session, wire: &mut Vec<u8>) {
    wire.clear();
    while from.poll_transmit(wire).is_some() {}
    to.handle_input(now, wire);
}

fn bound_pair(now: Instant) -> Result<(Session, Session), String> {
    let cfg = Config::default()
        .enquire_link_interval(None)
        .window(WINDOW * 2);
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
    while smsc.poll_event().is_some() {}
    transfer(now, &mut smsc, &mut esme, &mut wire);
    while esme.poll_event().is_some() {}
    if !esme.is_bound() || !smsc.is_bound() {
        return Err("not bound".into());
    }
    Ok((esme, smsc))
}

struct Pair {
    esme: Session,
    smsc: Session,
    wire: Vec<u8>,
    now: Instant,
    submit: Body<'static>,
    next_id: u64,
    /// Sequence numbers of the ESME's submits in flight, with their tracking handles.
    in_flight: VecDeque<(u32, Option<TrackId>)>,
    life: Option<Lifecycle>,
    reports: u64,
    receipts: u64,
    early: bool,
}

impl Pair {
    fn new(tracked: bool) -> Result<Pair, String> {
        let now = Instant::now();
        let (esme, smsc) = bound_pair(now)?;
        Ok(Pair {
            esme,
            smsc,
            wire: Vec::with_capacity(WINDOW * 512),
            now,
            submit: Body::from(SubmitSm {
                source_addr_ton: 5,
                source_addr: "MyBrand".into(),
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "447700900123".into(),
                registered_delivery: 1,
                short_message: OctetString::from(
                    &b"Your code is 123456. It expires in 10 minutes."[..],
                ),
                ..Default::default()
            }),
            next_id: 1,
            in_flight: VecDeque::with_capacity(WINDOW),
            life: tracked.then(|| {
                let mut c = LifecycleConfig::default();
                if let Some(v) = std::env::var("SMPP_BENCH_REMEMBER")
                    .ok()
                    .and_then(|v| v.parse().ok())
                {
                    c.tracker.remember_finished = v;
                }
                Lifecycle::new(c)
            }),
            reports: 0,
            receipts: 0,
            early: std::env::var_os("SMPP_BENCH_EARLY").is_some(),
        })
    }

    /// One round of `WINDOW` tracked (or untracked) messages. Returns the messages done.
    fn round(&mut self) -> usize {
        self.now += Duration::from_micros(1);
        let now = self.now;
        for _ in 0..WINDOW {
            let track = self.life.as_mut().map(|l| {
                l.tracker_mut()
                    .submit(now, NewMessage::new(1))
                    .expect("room to track")
                    .id
            });
            let seq = self
                .esme
                .send_request(now, &self.submit)
                .expect("send_request");
            self.in_flight.push_back((seq, track));
        }
        transfer(now, &mut self.esme, &mut self.smsc, &mut self.wire);
        // The SMSC answers each submit and sends its receipt.
        while let Some(ev) = self.smsc.poll_event() {
            if let Event::Request {
                sequence_number, ..
            } = ev
            {
                let id = self.next_id.to_string();
                self.next_id += 1;
                let response = |smsc: &mut Session| {
                    smsc.send_response(
                        now,
                        sequence_number,
                        CommandStatus::ESME_ROK,
                        Body::from(SubmitSmResp {
                            message_id: id.clone().into(),
                            tlvs: Vec::new(),
                        }),
                    )
                    .expect("send_response");
                };
                if !self.early {
                    response(&mut self.smsc);
                }
                let receipt = Receipt {
                    text: Some("Your code is 123456".into()),
                    ..Receipt::new(id.clone(), ReceiptState::Delivered)
                };
                let deliver = DeliverSm {
                    source_addr: "447700900123".into(),
                    destination_addr: "MyBrand".into(),
                    esm_class: 0x04,
                    short_message: OctetString::from(receipt.format().into_bytes()),
                    tlvs: vec![
                        Tlv::ReceiptedMessageId(id.clone().into()),
                        Tlv::MessageState(2),
                    ],
                    ..Default::default()
                };
                self.smsc
                    .send_request(now, &Body::from(deliver))
                    .expect("deliver_sm");
                if self.early {
                    response(&mut self.smsc);
                }
            }
        }
        transfer(now, &mut self.smsc, &mut self.esme, &mut self.wire);
        while let Some(ev) = self.esme.poll_event() {
            match ev {
                Event::Response {
                    sequence_number,
                    pdu,
                    ..
                } => {
                    let (seq, track) = self.in_flight.pop_front().expect("a submit in flight");
                    assert_eq!(seq, sequence_number);
                    if let (Some(life), Some(track), Body::SubmitSmResp(r)) =
                        (self.life.as_mut(), track, &pdu.body)
                    {
                        life.tracker_mut().on_submit_result(
                            now,
                            track,
                            0,
                            SubmitResult::Accepted {
                                message_id: r.message_id.to_str_lossy().into_owned(),
                            },
                        );
                    }
                }
                Event::Request {
                    sequence_number,
                    pdu,
                } => {
                    match self.life.as_mut() {
                        Some(life) => {
                            black_box(life.on_inbound(now, &pdu.body));
                        }
                        None => {
                            if let Body::DeliverSm(d) = &pdu.body {
                                black_box(Receipt::from_deliver_sm(d).ok());
                            }
                        }
                    }
                    self.receipts += 1;
                    self.esme
                        .send_response(
                            now,
                            sequence_number,
                            CommandStatus::ESME_ROK,
                            Body::from(DeliverSmResp::default()),
                        )
                        .expect("deliver_sm_resp");
                }
                _ => {}
            }
        }
        if let Some(life) = self.life.as_mut() {
            while let Some(e) = life.poll_event() {
                if let LifeEvent::Report(r) = e {
                    assert_eq!(r.outcome, Outcome::Delivered);
                    self.reports += 1;
                }
            }
        }
        transfer(now, &mut self.esme, &mut self.smsc, &mut self.wire);
        while self.smsc.poll_event().is_some() {}
        WINDOW
    }
}

fn main() -> ExitCode {
    let (quick, json) = match harness::parse_args("usage: smpp-lifecycle-bench [--quick] [--json]")
    {
        Ok(a) => a,
        Err(code) => return ExitCode::from(code),
    };
    let cfg = BenchConfig::new(quick);
    // `SMPP_BENCH_ONLY=tracked|untracked ROUNDS`: run one variant a fixed number of rounds
    // and nothing else, for instruction counts (`perf stat`, callgrind);
    // `SMPP_BENCH_ONLY=e2e-tracked|e2e-untracked COUNT`: one end-to-end run.
    // With them: `SMPP_BENCH_EARLY=1` has the core's SMSC send each receipt before its
    // response (every receipt is held, then matched: the path fast SMSCs cause);
    // `SMPP_BENCH_RECEIPT_DELAY_US=N` delays the end-to-end SMSC's receipts (0 by default,
    // where many overtake their response); `SMPP_BENCH_RECEIPT_ITEMS=all` has the
    // client pass every matched receipt as an item too (`ReceiptItems::All`), besides
    // the report that carries it.
    if let Ok(only) = std::env::var("SMPP_BENCH_ONLY") {
        let mut parts = only.split_whitespace();
        let what = parts.next().unwrap_or("");
        let tracked = what.ends_with("tracked") && !what.ends_with("untracked");
        let rounds: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
        if what.starts_with("e2e") {
            let store = std::env::var("SMPP_BENCH_STORE").ok();
            let before = ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed);
            return match e2e_run_with(tracked, rounds, store.as_deref(), "r") {
                Ok((rate, cpu)) => {
                    let allocations =
                        ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) - before;
                    println!(
                        "{rounds} messages end to end, {rate:.0}/s, {cpu:.1} us CPU each, \
                         {:.1} allocations each (both sides)",
                        allocations as f64 / rounds as f64
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            };
        }
        let Ok(mut p) = Pair::new(tracked) else {
            return ExitCode::FAILURE;
        };
        let before = ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed);
        let done: usize = (0..rounds).map(|_| p.round()).sum();
        let allocs = ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) - before;
        println!(
            "{done} messages, {} reports, {:.1} allocations per message",
            p.reports,
            allocs as f64 / done as f64
        );
        return ExitCode::SUCCESS;
    }
    let (mut off, mut on) = match (Pair::new(false), Pair::new(true)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("setup failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let samples = {
        let mut runners = vec![runner(|| off.round()), runner(|| on.round())];
        measure(&cfg, &mut runners)
    };
    // Sanity: every tracked message got its report, every receipt was handled.
    if on.reports * WINDOW as u64 / WINDOW as u64 != on.receipts
        || on.life.as_ref().is_some_and(|l| l.tracker().tracked() != 0)
    {
        eprintln!(
            "tracked run lost messages: {} receipts, {} reports, {} still tracked",
            on.receipts,
            on.reports,
            on.life.as_ref().map_or(0, |l| l.tracker().tracked())
        );
        return ExitCode::FAILURE;
    }
    let per_msg = |v: &[f64]| -> Vec<f64> { v.iter().map(|ns| ns / WINDOW as f64).collect() };
    let (off_ns, on_ns) = (per_msg(&samples[0]), per_msg(&samples[1]));
    let (off_med, on_med) = (median(&off_ns), median(&on_ns));
    let ratio = off_med / on_med;
    let cost = 1.0 - ratio;

    // End to end, alternating the variants.
    let count = std::env::var("SMPP_BENCH_E2E_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { E2E_COUNT / 10 } else { E2E_COUNT });
    // `SMPP_BENCH_E2E_ROUNDS=N` overrides the number of rounds.
    let rounds = if quick {
        1
    } else {
        std::env::var("SMPP_BENCH_E2E_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(E2E_ROUNDS)
    };
    // `SMPP_BENCH_AA=1`: both clients untracked (an A/A run), to see what the measure
    // reads when there is no difference to find: its resolution, and any lean it has.
    let aa = std::env::var_os("SMPP_BENCH_AA").is_some();
    // One SMSC and one client of each variant for every round, as a service keeps its
    // client: what is measured is the cost per message once running, not a client's
    // start (threads, tables growing from empty).
    let setup = e2e_smsc().and_then(|smsc| {
        let off = e2e_client(&smsc, false, None)?;
        let on = e2e_client(&smsc, !aa, None)?;
        Ok((smsc, off, on))
    });
    let (smsc, client_off, client_on) = match setup {
        Ok(s) => s,
        Err(e) => {
            eprintln!("end-to-end setup failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A first batch each, not timed: threads and tables warm.
    for (client, tracked) in [(&client_off, false), (&client_on, !aa)] {
        if let Err(e) = e2e_batch(client, tracked, count, "warm-") {
            eprintln!("end-to-end warm-up (tracked: {tracked}) failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let (mut e2e_off, mut e2e_on) = (Vec::new(), Vec::new());
    let (mut cpu_off, mut cpu_on) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        for tracked in [r % 2 == 1, r % 2 == 0] {
            let client = if tracked { &client_on } else { &client_off };
            match e2e_batch(client, tracked && !aa, count, &format!("r{r}-")) {
                Ok((rate, cpu)) if tracked => {
                    e2e_on.push(rate);
                    cpu_on.push(cpu);
                }
                Ok((rate, cpu)) => {
                    e2e_off.push(rate);
                    cpu_off.push(cpu);
                }
                Err(e) => {
                    eprintln!("end-to-end run (tracked: {tracked}) failed: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let _ = client_off.unbind();
    let _ = client_on.unbind();
    smsc.shutdown();
    let (e2e_off_med, e2e_on_med) = (median(&e2e_off), median(&e2e_on));
    let (cpu_off_med, cpu_on_med) = (median(&cpu_off), median(&cpu_on));
    // The ratio of each round's two runs (back to back, so under the same load), then the
    // median of those: the machine's load moves both runs of a round together, which the
    // ratio of two medians taken over different moments does not cancel.
    let pair_ratios: Vec<f64> = e2e_on
        .iter()
        .zip(&e2e_off)
        .map(|(on, off)| on / off)
        .collect();
    let e2e_ratio = median(&pair_ratios);
    if std::env::var_os("SMPP_BENCH_VERBOSE").is_some() {
        let mut sorted = pair_ratios.clone();
        sorted.sort_by(f64::total_cmp);
        eprintln!("round ratios, sorted: {sorted:.3?}");
    }
    let e2e_cost = 1.0 - e2e_ratio;
    let met = e2e_cost <= TARGET_COST;

    // The stores side by side: tracked runs with memory only, an SQLite file and Redis.
    let redis = RedisServer::start();
    let db = std::env::temp_dir().join(format!("smpp-bench-{}.db", std::process::id()));
    let mut stores: Vec<(&str, Option<String>)> = vec![
        ("memory", None),
        ("sqlite", Some(format!("sqlite:{}", db.display()))),
    ];
    match &redis {
        Some(r) => stores.push(("redis", Some(r.url.clone()))),
        None => eprintln!("redis-server not installed: the Redis store is not measured"),
    }
    let remove_db = || {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    };
    let store_rounds = if quick { 1 } else { 3 };
    let mut store_rates: Vec<Vec<f64>> = vec![Vec::new(); stores.len()];
    for r in 0..store_rounds {
        for k in 0..stores.len() {
            let i = (r + k) % stores.len();
            let (name, url) = &stores[i];
            remove_db();
            match e2e_run_with(true, count, url.as_deref(), &format!("{name}{r}-")) {
                Ok((rate, _)) => store_rates[i].push(rate),
                Err(e) => {
                    eprintln!("end-to-end run with the {name} store failed: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    remove_db();
    drop(redis);
    let store_medians: Vec<f64> = store_rates.iter().map(|v| median(v)).collect();
    if json {
        for (i, (name, _)) in stores.iter().enumerate() {
            println!(
                "{{\"bench\":\"lifecycle_store\",\"store\":\"{name}\",\"per_s\":{:.0},\"vs_memory\":{:.3}}}",
                store_medians[i],
                store_medians[i] / store_medians[0]
            );
        }
    }
    if json {
        println!(
            "{{\"bench\":\"lifecycle\",\"window\":{WINDOW},\"untracked_ns_per_msg\":{off_med:.1},\"tracked_ns_per_msg\":{on_med:.1},\"core_throughput_ratio\":{ratio:.3},\"core_cost\":{cost:.3},\"e2e_count\":{count},\"e2e_untracked_per_s\":{e2e_off_med:.0},\"e2e_tracked_per_s\":{e2e_on_med:.0},\"e2e_ratio\":{e2e_ratio:.3},\"e2e_cpu_us_untracked\":{cpu_off_med:.2},\"e2e_cpu_us_tracked\":{cpu_on_med:.2},\"e2e_cost\":{e2e_cost:.3},\"target_cost\":{TARGET_COST},\"met\":{met},\"aa\":{aa}}}"
        );
    } else {
        println!("lifecycle layer, window {WINDOW}, one segment per message, a receipt each (median of {} samples, min in brackets)", cfg.samples);
        println!(
            "  untracked  {off_med:8.1} ns/msg [{:8.1}]  {:>10.0} msgs/s",
            min(&off_ns),
            1e9 / off_med
        );
        println!(
            "  tracked    {on_med:8.1} ns/msg [{:8.1}]  {:>10.0} msgs/s",
            min(&on_ns),
            1e9 / on_med
        );
        println!(
            "  tracked/untracked {ratio:.3}: the layer's own cost is {:.1}% of the bare protocol work",
            cost * 100.0,
        );
        println!(
            "end to end: our client -> test SMSC over 127.0.0.1, send_many of {count} texts at window {WINDOW}, a receipt each ({rounds} rounds of one run each, in alternating order; medians, min-max in brackets; the ratio is the median of the rounds' own ratios)"
        );
        if aa {
            println!("  A/A run (SMPP_BENCH_AA): the \"tracked\" client below is untracked too; its cost is the measure's noise and lean");
        }
        let spread = |v: &[f64]| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(0.0, f64::max);
            format!("[{lo:.0}-{hi:.0}]")
        };
        println!(
            "  untracked  {e2e_off_med:>10.0} msgs/s {}, {cpu_off_med:.1} us CPU per message",
            spread(&e2e_off)
        );
        println!(
            "  tracked    {e2e_on_med:>10.0} msgs/s {}, {cpu_on_med:.1} us CPU per message",
            spread(&e2e_on)
        );
        println!(
            "  tracked/untracked throughput {e2e_ratio:.3} (cost {:.1}%; target: at most {:.0}%): {}",
            e2e_cost * 100.0,
            TARGET_COST * 100.0,
            if met { "met" } else { "MISSED" }
        );
        println!(
            "stores: the same tracked runs keeping each message in a store (median of {store_rounds}, rotating order; target: SQLite and Redis at least 0.5x memory)"
        );
        for (i, (name, _)) in stores.iter().enumerate() {
            let ratio = store_medians[i] / store_medians[0];
            let verdict = match i {
                0 => "",
                _ if ratio >= 0.5 => " (met)",
                _ => " (MISSED)",
            };
            println!(
                "  {name:<8} {:>10.0} msgs/s  {ratio:.3}x memory{verdict}",
                store_medians[i]
            );
        }
    }
    ExitCode::SUCCESS
}

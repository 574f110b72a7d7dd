//! Soak run (`cargo xtask soak [--seconds N] [--rate R]`): sustained traffic with delivery
//! receipts and MO messages for N seconds at a fixed rate, all over 127.0.0.1 in this
//! process: the test SMSC (`smpp-smsc`) and one `smpp-client` transceiver.
//!
//! The client submits `R` `submit_sm` per second with `registered_delivery` 1; the SMSC
//! answers each with a message id and sends its receipt 50 ms later, and sends an MO
//! message every 20 ms on a schedule. At the end the run reports:
//!
//! - `lost`: submits that got no receipt matched by message id (submitted - receipted,
//!   error responses included); must be 0;
//! - `mo_lost`: MO messages the SMSC sent and had acknowledged minus those the client
//!   received; must be 0;
//! - the process's resident memory (`VmRSS`) after the warm-up and at the end; the end may
//!   exceed the start by at most 20 % + 8 MiB.
//!
//! It exits 1 when any of these fails. The SMSC's PDU record and message memory are
//! bounded to a few thousand entries here so that their (bounded) fill-up does not hide a
//! leak behind the warm-up.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig, Pending};
use smpp_pdu::SubmitSm;
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig, User};

const USAGE: &str = "\
usage: smpp-soak [--seconds N] [--rate R] [--warmup S]

  --seconds N   how long to submit (default 60)
  --rate R      submit_sm per second (default 1000)
  --warmup S    seconds before the first memory sample (default 30, at most N/2)";

struct Args {
    seconds: u64,
    rate: u64,
    warmup: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seconds: 60,
        rate: 1000,
        warmup: 30,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))?
                .parse::<u64>()
                .map_err(|e| format!("{name}: {e}"))
        };
        match arg.as_str() {
            "--seconds" => a.seconds = value("--seconds")?.max(1),
            "--rate" => a.rate = value("--rate")?.max(1),
            "--warmup" => a.warmup = value("--warmup")?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    a.warmup = a.warmup.min(a.seconds / 2);
    Ok(a)
}

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Message ids seen on one side only so far: a receipt may be read before its response.
#[derive(Default)]
struct Matcher {
    /// Ids answered, receipt not yet seen.
    awaiting: HashSet<String>,
    /// Receipts seen before their response.
    early: HashSet<String>,
    receipted: u64,
    duplicate_receipts: u64,
}

impl Matcher {
    fn response(&mut self, id: String) {
        if !self.early.remove(&id) {
            self.awaiting.insert(id);
        } else {
            self.receipted += 1;
        }
    }

    fn receipt(&mut self, id: String) {
        if self.awaiting.remove(&id) {
            self.receipted += 1;
        } else if !self.early.insert(id) {
            self.duplicate_receipts += 1;
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if e.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("smpp-soak: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("smpp-soak: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<bool, String> {
    let mut smsc_cfg = SmscConfig::default()
        .user(User::new("soak", "soakpw"))
        .receipt_delay(Duration::from_millis(50))
        .mo_schedule(
            Duration::from_millis(20),
            "soak",
            "447700900001",
            "12345",
            "soak MO",
        );
    smsc_cfg.max_records = 2_000;
    smsc_cfg.max_messages = 20_000;
    smsc_cfg.session = smsc_cfg.session.max_inbound_pending(100_000);
    let smsc = Smsc::start(smsc_cfg).map_err(|e| format!("SMSC: {e}"))?;
    let window = 512;
    let client = Client::connect(
        smsc.local_addr(),
        ClientConfig::new(BindKind::Transceiver, "soak", "soakpw")
            .window(window)
            .response_timeout(Duration::from_secs(10)),
    )
    .map_err(|e| format!("client: {e}"))?;
    let client = Arc::new(client);

    let matcher = Arc::new(Mutex::new(Matcher::default()));
    let mo_received = Arc::new(AtomicU64::new(0));
    let other_inbound = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop_inbound = Arc::new(AtomicBool::new(false));

    // Inbound: receipts matched by id, MO counted.
    let inbound = {
        let (client, matcher, mo, other, stop) = (
            Arc::clone(&client),
            Arc::clone(&matcher),
            Arc::clone(&mo_received),
            Arc::clone(&other_inbound),
            Arc::clone(&stop_inbound),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok(m) = client.inbound().recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                if let Some(r) = m.receipt() {
                    let id = r.id.clone();
                    if let Ok(mut g) = matcher.lock() {
                        g.receipt(id);
                    }
                } else if m.text() == Some("soak MO") {
                    mo.fetch_add(1, Ordering::Relaxed);
                } else {
                    other.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };

    // Responses: waited for in submit order on their own thread.
    let (pending_tx, pending_rx) = crossbeam_channel::bounded::<Pending>(window * 2);
    let waiter = {
        let (matcher, errors) = (Arc::clone(&matcher), Arc::clone(&errors));
        std::thread::spawn(move || {
            for p in pending_rx {
                match p.wait_submit() {
                    Ok(r) => {
                        let id = r.message_id.to_str_lossy().into_owned();
                        if let Ok(mut g) = matcher.lock() {
                            g.response(id);
                        }
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 10 {
                            eprintln!("submit failed: {e}");
                        }
                    }
                }
            }
        })
    };

    let template = SubmitSm {
        source_addr_ton: 5,
        source_addr: "Soak".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        registered_delivery: 1,
        short_message: b"soak test message".as_slice().into(),
        ..Default::default()
    };
    let started = Instant::now();
    let end = started + Duration::from_secs(args.seconds);
    let warm = started + Duration::from_secs(args.warmup);
    let mut rss_start = None;
    let mut submitted = 0u64;
    let mut submit_errors = 0u64;
    let mut next_report = started + Duration::from_secs(10);
    println!(
        "soak: {} s at {} submit_sm/s (window {window}), receipts after 50 ms, MO every 20 ms",
        args.seconds, args.rate
    );
    while Instant::now() < end {
        // The fixed rate: submit number n is due n / rate after the start, so a late wake-up
        // is caught up (within the window) instead of lowering the rate.
        let due = started + Duration::from_secs_f64(submitted as f64 / args.rate as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        match client.submit_async(template.clone()) {
            Ok(p) => {
                submitted += 1;
                if pending_tx.send(p).is_err() {
                    return Err("the response waiter stopped".into());
                }
            }
            Err(e) => {
                submitted += 1;
                submit_errors += 1;
                if submit_errors <= 10 {
                    eprintln!("submit refused: {e}");
                }
            }
        }
        let now = Instant::now();
        if rss_start.is_none() && now >= warm {
            rss_start = Some(rss_kib());
            println!(
                "soak: after {} s warm-up, RSS {} KiB",
                args.warmup,
                rss_kib()
            );
        }
        if now >= next_report {
            next_report += Duration::from_secs(10);
            let (receipted, awaiting) = matcher
                .lock()
                .map(|g| (g.receipted, g.awaiting.len()))
                .unwrap_or_default();
            println!(
                "soak: t={:>5.0} s submitted {submitted} receipted {receipted} awaiting {awaiting} \
                 MO {} RSS {} KiB",
                now.duration_since(started).as_secs_f64(),
                mo_received.load(Ordering::Relaxed),
                rss_kib()
            );
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_end = rss_kib();
    drop(pending_tx);
    let _ = waiter.join();

    // Drain: every receipt should arrive within its delay; allow a few seconds.
    let settle = Instant::now() + Duration::from_secs(10);
    let answered_ok = submitted - submit_errors - errors.load(Ordering::Relaxed);
    while Instant::now() < settle {
        let receipted = matcher.lock().map(|g| g.receipted).unwrap_or(0);
        if receipted >= answered_ok {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Every MO the SMSC has sent so far must reach the application (MO keep coming on
    // the schedule; later ones do not count).
    let smsc_stats = smsc.stats();
    let mo_deadline = Instant::now() + Duration::from_secs(5);
    while mo_received.load(Ordering::Relaxed) < smsc_stats.mo_sent && Instant::now() < mo_deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mo = mo_received.load(Ordering::Relaxed);
    let mo_lost = smsc_stats.mo_sent.saturating_sub(mo);
    stop_inbound.store(true, Ordering::SeqCst);
    let _ = inbound.join();
    let client = Arc::try_unwrap(client).map_err(|_| "client still shared".to_string())?;
    let unbound = client.unbind();
    smsc.shutdown();

    let g = matcher.lock().map_err(|_| "matcher poisoned".to_string())?;
    let lost = submitted - g.receipted;
    let rss_start = rss_start.unwrap_or(rss_end);
    let limit = rss_start + rss_start / 5 + 8 * 1024;
    println!("soak: done after {elapsed:.1} s");
    println!(
        "  submitted          {submitted} ({:.0}/s)",
        submitted as f64 / elapsed
    );
    println!(
        "  error responses    {}  (refused locally: {submit_errors})",
        errors.load(Ordering::Relaxed)
    );
    println!("  receipts matched   {}", g.receipted);
    println!("  duplicate receipts {}", g.duplicate_receipts);
    println!("  unmatched receipts {}", g.early.len());
    println!("  lost               {lost}");
    println!(
        "  MO sent {} received {mo}  (lost {mo_lost})",
        smsc_stats.mo_sent
    );
    println!(
        "  SMSC: receipts sent {} dropped {}, deliver_sm acked {} failed {}",
        smsc_stats.receipts_sent,
        smsc_stats.receipts_dropped,
        smsc_stats.delivers_acked,
        smsc_stats.delivers_failed
    );
    println!(
        "  other inbound      {}",
        other_inbound.load(Ordering::Relaxed)
    );
    println!(
        "  RSS start {rss_start} KiB  end {rss_end} KiB  (limit {limit} KiB, growth {:+.1} %)",
        (rss_end as f64 - rss_start as f64) * 100.0 / rss_start.max(1) as f64
    );
    println!("  unbind             {unbound:?}");
    let mut ok = true;
    if lost != 0 || g.duplicate_receipts != 0 || !g.early.is_empty() {
        eprintln!(
            "FAIL: {lost} messages lost, {} duplicate receipts, {} receipts matching no response",
            g.duplicate_receipts,
            g.early.len()
        );
        ok = false;
    }
    if mo_lost != 0 || smsc_stats.delivers_failed != 0 || smsc_stats.receipts_dropped != 0 {
        eprintln!(
            "FAIL: {mo_lost} MO messages lost, {} deliver_sm failed, {} receipts dropped",
            smsc_stats.delivers_failed, smsc_stats.receipts_dropped
        );
        ok = false;
    }
    if rss_end > limit {
        eprintln!("FAIL: memory grew from {rss_start} KiB to {rss_end} KiB (limit {limit} KiB)");
        ok = false;
    }
    println!("soak: {}", if ok { "PASS" } else { "FAIL" });
    Ok(ok)
}

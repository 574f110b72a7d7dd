//! `smpp bench`: a load generator. `--connections` clients each keep up to `--window`
//! submits in flight until `--count` messages went out; prints throughput and latency.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use smpp_client::{Client, Pending};
use smpp_pdu::SubmitSm;
use smpp_session::BindKind;
use smpp_smsc::json::Object;

use clap::Args;

use crate::common::{self, Connection};
use crate::out::{errln, outln};
use crate::stats;

/// `smpp bench`: a load generator.
#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// How many submit_sm to send in all (at least 1), spread over the connections.
    #[arg(long, value_name = "N", required = true, value_parser = common::at_least_one)]
    count: u64,
    /// How many submits each connection keeps in flight (at least 1).
    #[arg(long, value_name = "W", required = true, value_parser = common::at_least_one_usize)]
    window: usize,
    /// How many sessions to bind (as transmitters) and drive in parallel.
    #[arg(long, value_name = "C", default_value = "1", value_parser = common::at_least_one_usize)]
    connections: usize,
    /// Also print the clients' counters every SECONDS while running.
    #[arg(long, value_name = "SECONDS", value_parser = common::positive_seconds)]
    stats_every: Option<Duration>,
    /// Print the result and the counters as JSON objects.
    #[arg(long)]
    json: bool,
    /// Where to connect, as whom, and whether over TLS.
    #[command(flatten)]
    conn: Connection,
}

/// Runs `smpp bench`.
pub(crate) fn run(o: &BenchArgs) -> ExitCode {
    if let Err(e) = o.conn.check() {
        crate::usage_error("bench", &e);
    }
    match bench(o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(msg) => {
            errln!("smpp bench: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// What one connection measured.
struct Part {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

fn message(i: u64) -> SubmitSm<'static> {
    SubmitSm {
        source_addr: "bench".to_string().into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: format!("4477{:08}", i % 100_000_000).into(),
        short_message: format!("bench message {i}").into_bytes().into(),
        ..Default::default()
    }
}

fn drive(client: &Client, first: u64, n: u64, window: usize, done: &AtomicU64) -> Part {
    let mut part = Part {
        latencies: Vec::with_capacity(n as usize),
        errors: 0,
        first_error: None,
    };
    let mut in_flight: VecDeque<(Instant, Pending)> = VecDeque::with_capacity(window);
    let fail = |part: &mut Part, e: String| {
        part.errors += 1;
        part.first_error.get_or_insert(e);
    };
    let settle = |part: &mut Part, (start, p): (Instant, Pending)| {
        match p.wait_submit() {
            Ok(_) => part.latencies.push(start.elapsed()),
            Err(e) => fail(part, e.to_string()),
        }
        done.fetch_add(1, Ordering::Relaxed);
    };
    for i in first..first + n {
        if in_flight.len() >= window {
            if let Some(f) = in_flight.pop_front() {
                settle(&mut part, f);
            }
        }
        let start = Instant::now();
        match client.submit_async(message(i)) {
            Ok(p) => in_flight.push_back((start, p)),
            Err(e) => {
                part.errors += 1;
                part.first_error.get_or_insert(e.to_string());
                done.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    while let Some(f) = in_flight.pop_front() {
        settle(&mut part, f);
    }
    part
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn bench(o: &BenchArgs) -> Result<bool, String> {
    let (addr, smsc) = o.conn.resolve(Duration::from_secs(1))?;
    let mut clients = Vec::with_capacity(o.connections);
    for _ in 0..o.connections {
        let config = o.conn.config(BindKind::Transmitter)?.window(o.window);
        clients.push(common::connect(addr, config)?);
    }
    let done = Arc::new(AtomicU64::new(0));
    let total = o.count;
    let per = total / o.connections as u64;
    let extra = total % o.connections as u64;
    let started = Instant::now();
    let parts: Vec<Part> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        let mut first = 0;
        for (k, client) in clients.iter().enumerate() {
            let n = per + u64::from((k as u64) < extra);
            let done = &done;
            let window = o.window;
            handles.push(s.spawn(move || drive(client, first, n, window, done)));
            first += n;
        }
        if let Some(every) = o.stats_every {
            let mut next = Instant::now() + every;
            while handles.iter().any(|h| !h.is_finished()) {
                if Instant::now() >= next {
                    print_stats(&clients, o.json);
                    next += every;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        } else if std::io::stderr().is_terminal() {
            while handles.iter().any(|h| !h.is_finished()) {
                let d = done.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64().max(1e-9);
                crate::out::err(format_args!(
                    "\r{d}/{total} sent, {:.0} msg/s   ",
                    d as f64 / secs
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
            errln!();
        }
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or(Part {
                    latencies: Vec::new(),
                    errors: 0,
                    first_error: Some("a bench thread panicked".into()),
                })
            })
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    let final_stats = client_stats(&clients);
    for c in clients {
        let _ = c.unbind();
    }
    if let Some(s) = smsc {
        s.shutdown();
    }
    let mut latencies: Vec<Duration> = parts.iter().flat_map(|p| p.latencies.clone()).collect();
    latencies.sort_unstable();
    let ok = latencies.len() as u64;
    let errors: u64 = parts.iter().map(|p| p.errors).sum();
    let first_error = parts.iter().find_map(|p| p.first_error.clone());
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    let rate = ok as f64 / elapsed;
    if o.json {
        let mut j = Object::new();
        j.str("event", "bench")
            .str("addr", &addr.to_string())
            .num("count", total)
            .num("ok", ok)
            .num("errors", errors)
            .num("connections", o.connections as u64)
            .num("window", o.window as u64)
            .raw("seconds", &format!("{elapsed:.3}"))
            .raw("throughput", &format!("{rate:.1}"))
            .raw("p50_ms", &format!("{p50:.3}"))
            .raw("p99_ms", &format!("{p99:.3}"));
        if let Some(e) = &first_error {
            j.str("first_error", e);
        }
        outln!("{}", j.finish());
    } else {
        outln!(
            "{ok} of {total} submits ok in {elapsed:.3} s over {} connection(s), window {}: \
             {rate:.1} msg/s, latency p50 {p50:.3} ms, p99 {p99:.3} ms",
            o.connections,
            o.window
        );
        if errors > 0 {
            outln!(
                "{errors} error(s), first: {}",
                first_error.as_deref().unwrap_or("?")
            );
        }
    }
    let (session, extra) = &final_stats;
    outln!("{}", stats::render("bench", session, extra, o.json));
    Ok(errors == 0)
}

/// The clients' counters, summed, and the client-level numbers.
fn client_stats(clients: &[Client]) -> (smpp_session::Stats, [(&'static str, u64); 2]) {
    let mut session = smpp_session::Stats::default();
    let (mut reconnects, mut retries) = (0, 0);
    for c in clients {
        let s = c.stats();
        session.merge(&s.session);
        reconnects += s.reconnects;
        retries += s.throttled_retries;
    }
    (
        session,
        [("reconnects", reconnects), ("throttled_retries", retries)],
    )
}

fn print_stats(clients: &[Client], json: bool) {
    let (session, extra) = client_stats(clients);
    outln!("{}", stats::render("bench", &session, &extra, json));
}

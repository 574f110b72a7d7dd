//! `smpp bench`: a load generator. `--connections` clients each keep up to `--window`
//! submits in flight until `--count` messages went out; prints throughput and latency.
//!
//! Each connection is a [`DirectClient`] driven by a thread of its own: the fast path,
//! with no hand-off between the thread that submits and the one that does the I/O.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smpp_client::blocking::Timeouts;
use smpp_client::direct::{DirectClient, Event};
use smpp_client::{ClientConfig, ClientStats, Error, OutgoingText};
use smpp_pdu::json::Object;
use smpp_pdu::SubmitSm;
use smpp_session::{BindKind, SendError};

use clap::Args;

use crate::batch::{self, Failure};
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
    #[arg(
        long,
        value_name = "W",
        required_unless_present = "config",
        conflicts_with = "config",
        value_parser = common::at_least_one_usize
    )]
    window: Option<usize>,
    /// How many sessions to bind (as transmitters) and drive in parallel.
    #[arg(long, value_name = "C", default_value = "1", value_parser = common::at_least_one_usize)]
    connections: usize,
    /// Send through the pool of accounts a TOML file describes (see README.md), with
    /// `send_many` (each account's binds, windows and caps as the file says), instead of
    /// --connections direct sessions. Its errors exit 2 before any bind.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["addr", "system_id", "system_type", "password_file", "tls", "ca", "server_name", "store", "connections", "stats_every", "interface_version", "response_timeout"]
    )]
    config: Option<PathBuf>,
    /// Use only this account of the configuration file, as a profile (`smpp send --smsc a
    /// --to ... --text ...`). Without --config the file is $SMPP_CONFIG, else
    /// ~/.config/smpp/smpp.toml.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["addr", "system_id", "system_type", "password_file", "tls", "ca", "server_name", "store", "connections", "stats_every", "interface_version", "response_timeout"]
    )]
    smsc: Option<String>,
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
    let profile = batch::config_path(o.config.as_ref(), o.smsc.as_deref());
    if profile.is_none() {
        if let Err(e) = o.conn.check() {
            crate::usage_error("bench", &e);
        }
    }
    let result = match profile {
        Some(path) => bench_pool(o, &path),
        None => bench(o).map_err(Failure::Run),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(Failure::Config(msg)) => {
            errln!("smpp bench: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Run(msg)) => {
            errln!("smpp bench: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `bench --config`: --count generated texts through the pool's `send_many`. Prints the
/// result line (no latency: the pool does not time single submits) and the binds'
/// counters summed.
fn bench_pool(o: &BenchArgs, path: &Path) -> Result<bool, Failure> {
    let config = batch::load_config(path, o.smsc.as_deref(), true, false)?;
    let pool = batch::open_pool(&config)?;
    let total = o.count;
    let texts = (0..total).map(|i| {
        OutgoingText::new(
            "bench",
            format!("4477{:08}", i % 100_000_000),
            format!("bench message {i}"),
        )
    });
    let bar = batch::progress_bar(total, o.json);
    let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None);
    let started = Instant::now();
    pool.send_many(texts, |_, r| {
        if let Some(b) = &bar {
            b.inc(1);
        }
        match r {
            Ok(_) => ok += 1,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
        // Nothing here reads what comes in; keep the channel from filling up.
        while pool.inbound().try_recv().is_ok() {}
    });
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let stats = pool.stats();
    pool.close();
    let binds: usize = stats.accounts.iter().map(|a| a.binds.len()).sum();
    let mut session = smpp_session::Stats::default();
    let (mut reconnects, mut retries) = (0, 0);
    for b in stats.accounts.iter().flat_map(|a| &a.binds) {
        session.merge(&b.stats.session);
        reconnects += b.stats.reconnects;
        retries += b.stats.throttled_retries;
    }
    let rate = ok as f64 / elapsed;
    if o.json {
        let mut j = Object::new();
        j.str("event", "bench")
            .str("config", &path.display().to_string())
            .num("count", total)
            .num("ok", ok)
            .num("errors", errors)
            .num("accounts", stats.accounts.len() as u64)
            .num("binds", binds as u64)
            .raw("seconds", &format!("{elapsed:.3}"))
            .raw("throughput", &format!("{rate:.1}"));
        if let Some(e) = &first_error {
            j.str("first_error", e);
        }
        outln!("{}", j.finish());
    } else {
        outln!(
            "{ok} of {total} submits ok in {elapsed:.3} s over a pool of {} account(s), {binds} \
             bind(s): {rate:.1} msg/s",
            stats.accounts.len()
        );
        if errors > 0 {
            outln!(
                "{errors} error(s), first: {}",
                first_error.as_deref().unwrap_or("?")
            );
        }
    }
    let extra = [("reconnects", reconnects), ("throttled_retries", retries)];
    outln!("{}", stats::render("bench", &session, &extra, o.json));
    Ok(errors == 0)
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

/// How long a connection waits for anything from the SMSC before it gives up on the
/// requests still in flight (each also has the session's response timeout).
const STALL: Duration = Duration::from_secs(15);

/// One connection's share of the run.
struct Job<'a> {
    /// The number of its first message.
    first: u64,
    /// How many it sends.
    n: u64,
    /// How many it keeps in flight.
    window: usize,
    /// Messages answered or failed, over every connection (for the progress line).
    done: &'a AtomicU64,
    /// Where it publishes its counters every so often.
    stats: &'a Mutex<ClientStats>,
}

/// Keeps `job.window` submits in flight on `client` until `job.n` (numbered from
/// `job.first`) are answered or failed.
fn drive<S: Read + Write + Timeouts>(client: &mut DirectClient<S>, job: &Job<'_>) -> Part {
    let Job {
        first,
        n,
        window,
        done,
        stats,
    } = *job;
    let mut part = Part {
        latencies: Vec::with_capacity(n as usize),
        errors: 0,
        first_error: None,
    };
    let fail = |part: &mut Part, e: String| {
        part.errors += 1;
        part.first_error.get_or_insert(e);
        done.fetch_add(1, Ordering::Relaxed);
    };
    // The rest of the run fails, for one reason.
    let give_up = |part: &mut Part, left: u64, why: String| {
        for _ in 0..left {
            fail(part, why.clone());
        }
    };
    let mut sent_at: HashMap<u32, Instant> = HashMap::with_capacity(window);
    let (mut next, end) = (first, first + n);
    let mut resolved = 0;
    while resolved < n {
        while next < end && sent_at.len() < window && client.has_room() {
            let at = Instant::now();
            match client.submit(&message(next)) {
                Ok(id) => {
                    sent_at.insert(id.sequence_number(), at);
                }
                Err(Error::Refused(SendError::WindowFull)) => break,
                Err(e) => {
                    fail(&mut part, e.to_string());
                    resolved += 1;
                }
            }
            next += 1;
        }
        match client.poll(STALL) {
            Ok(Some(Event::Response { id, result })) => {
                let at = sent_at.remove(&id.sequence_number());
                resolved += 1;
                match (result, at) {
                    (Ok(_), Some(at)) => {
                        part.latencies.push(at.elapsed());
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    (Ok(_), None) => fail(&mut part, "a response to no submit".into()),
                    (Err(e), _) => fail(&mut part, e.to_string()),
                }
                if resolved % 4096 == 0 {
                    if let Ok(mut s) = stats.lock() {
                        *s = client.stats();
                    }
                }
            }
            Ok(Some(Event::Closed { reason, error })) => {
                let why = match error {
                    Some(e) => format!("connection closed ({reason:?}): {e}"),
                    None => format!("connection closed ({reason:?})"),
                };
                // Every request was resolved before `Closed`; those never sent fail here.
                give_up(&mut part, n - resolved, why);
                break;
            }
            // Receipts, MO and the like: not what is measured.
            Ok(Some(_)) => {}
            Ok(None) => {
                let why = format!("nothing from the SMSC for {STALL:?}");
                give_up(&mut part, n - resolved, why);
                break;
            }
            Err(e) => {
                give_up(&mut part, n - resolved, e.to_string());
                break;
            }
        }
    }
    if let Ok(mut s) = stats.lock() {
        *s = client.stats();
    }
    part
}

/// One connection's client, over TCP or TLS.
enum Conn {
    Tcp(Box<DirectClient<std::net::TcpStream>>),
    Tls(Box<DirectClient<smpp_client::blocking::TlsStream>>),
}

impl Conn {
    fn open(addr: SocketAddr, config: ClientConfig) -> Result<Conn, String> {
        let kind = config.bind.kind;
        let failed = |e: &dyn std::fmt::Display| format!("bind ({kind:?}) to {addr} failed: {e}");
        match config.tls.clone() {
            None => DirectClient::connect(addr, config)
                .map(|c| Conn::Tcp(Box::new(c)))
                .map_err(|e| failed(&e)),
            Some(tls) => {
                let stream = smpp_client::blocking::connect_tls(
                    addr,
                    &tls,
                    config.transport.connect_timeout,
                )
                .map_err(|e| failed(&e))?;
                DirectClient::bind(stream, config)
                    .map(|c| Conn::Tls(Box::new(c)))
                    .map_err(|e| failed(&e))
            }
        }
    }

    fn drive(&mut self, job: &Job<'_>) -> Part {
        match self {
            Conn::Tcp(c) => drive(c, job),
            Conn::Tls(c) => drive(c, job),
        }
    }

    fn unbind(&mut self) {
        let _ = match self {
            Conn::Tcp(c) => c.unbind(),
            Conn::Tls(c) => c.unbind(),
        };
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn bench(o: &BenchArgs) -> Result<bool, String> {
    let window = o.window.unwrap_or(1);
    let (addr, smsc) = o.conn.resolve(Duration::from_secs(1))?;
    let mut clients = Vec::with_capacity(o.connections);
    for _ in 0..o.connections {
        let config = o.conn.config(BindKind::Transmitter)?.window(window);
        clients.push(Conn::open(addr, config)?);
    }
    // Each connection's counters, as its thread last published them.
    let stats: Vec<Mutex<ClientStats>> = (0..o.connections)
        .map(|_| Mutex::new(ClientStats::default()))
        .collect();
    let done = Arc::new(AtomicU64::new(0));
    let total = o.count;
    let per = total / o.connections as u64;
    let extra = total % o.connections as u64;
    let started = Instant::now();
    let parts: Vec<Part> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        let mut first = 0;
        for (k, client) in clients.iter_mut().enumerate() {
            let n = per + u64::from((k as u64) < extra);
            let job = Job {
                first,
                n,
                window,
                done: &done,
                stats: &stats[k],
            };
            handles.push(s.spawn(move || client.drive(&job)));
            first += n;
        }
        if let Some(every) = o.stats_every {
            let mut next = Instant::now() + every;
            while handles.iter().any(|h| !h.is_finished()) {
                if Instant::now() >= next {
                    print_stats(&stats, o.json);
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
    let final_stats = client_stats(&stats);
    for mut c in clients {
        c.unbind();
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
            .num("window", window as u64)
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
            window
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
fn client_stats(clients: &[Mutex<ClientStats>]) -> (smpp_session::Stats, [(&'static str, u64); 2]) {
    let mut session = smpp_session::Stats::default();
    let (mut reconnects, mut retries) = (0, 0);
    for c in clients {
        let Ok(s) = c.lock().map(|s| s.clone()) else {
            continue;
        };
        session.merge(&s.session);
        reconnects += s.reconnects;
        retries += s.throttled_retries;
    }
    (
        session,
        [("reconnects", reconnects), ("throttled_retries", retries)],
    )
}

fn print_stats(clients: &[Mutex<ClientStats>], json: bool) {
    let (session, extra) = client_stats(clients);
    outln!("{}", stats::render("bench", &session, &extra, json));
}

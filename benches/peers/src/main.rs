//! End-to-end `submit_sm` round trips over 127.0.0.1 against one common server, OUR SMSC
//! (`smpp-smsc`, release build) running as a separate process, for several clients side by
//! side in one run: ours (`smpp-client`), rusmppc 0.4.0, a plain tokio client on rusmpp's own
//! tokio codec, the node `smpp` client and the Python `smpplib` client. A TCP ceiling (a
//! pre-encoded `submit_sm` stream against a responder that answers each with pre-encoded
//! `submit_sm_resp` octets) shows what this machine can move at all.
//!
//! Every measurement starts a fresh server process and a fresh client process, so that
//! every client sees the same SMSC in the same state and pays for its own process. The
//! child processes are this same binary (`smsc`, `echo-server`, `client KIND ...`) or
//! `node`/`python3` with the scripts beside this package; each client prints one JSON line.
//!
//! Usage: `smpp-peers-bench [--quick] [--json] [--seconds S] [--rounds N] [--clients a,b]
//! [--windows 1,256] [--smsc-memory N] [--pin]`. `--pin` runs every server process on CPU 1 and
//! every client process on CPU 0 (through `taskset`). Each row is the median of `--rounds` runs (default
//! 3), the clients interleaved. `--smsc-memory` is how many received PDUs and messages the
//! SMSC keeps (default 1: nobody reads them here; `smpp smsc` keeps 100,000, which costs it
//! more per message). See docs/benchmarks.md, "Against other implementations".

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod clients;
mod echo;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// 76 letters: the 128-octet `submit_sm` of the codec and e2e benches.
pub(crate) const TEXT: &str =
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx";

/// How long one client may go on and how much it may send.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Requests kept in flight.
    pub(crate) window: usize,
    /// Stop sending after this many requests...
    pub(crate) max: u64,
    /// ...or once this long has passed since the first timed request.
    pub(crate) secs: f64,
    /// Untimed requests sent first, at the same window.
    pub(crate) warmup: u64,
}

/// What one timed phase measured.
pub(crate) struct Measured {
    pub(crate) completed: u64,
    pub(crate) elapsed: Duration,
    /// Latency of every completed request, in nanoseconds.
    pub(crate) latencies: Vec<u64>,
}

impl Measured {
    /// The JSON line every client prints (the node and python scripts print the same keys).
    fn json(mut self) -> String {
        self.latencies.sort_unstable();
        let pct = |p: f64| -> f64 {
            if self.latencies.is_empty() {
                return 0.0;
            }
            let i = ((self.latencies.len() as f64 * p) as usize).min(self.latencies.len() - 1);
            self.latencies[i] as f64 / 1e3
        };
        format!(
            "{{\"completed\":{},\"elapsed_s\":{:.6},\"p50_us\":{:.1},\"p99_us\":{:.1}}}",
            self.completed,
            self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99)
        )
    }
}

/// A JSON string with `"` and `\` escaped.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The number after `"key":` in a flat JSON object.
fn json_num(line: &str, key: &str) -> Option<f64> {
    let at = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = line[at..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The string after `"key":` in a flat JSON object (escapes kept as they are).
fn json_text(line: &str, key: &str) -> Option<String> {
    let at = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let rest = &line[at..];
    let mut end = 0;
    let bytes = rest.as_bytes();
    while end < bytes.len() && bytes[end] != b'"' {
        end += if bytes[end] == b'\\' { 2 } else { 1 };
    }
    Some(rest[..end.min(rest.len())].to_string())
}

// ---------------------------------------------------------------------------------------
// Child processes.
// ---------------------------------------------------------------------------------------

/// Blocks until the parent closes our stdin (or dies): the servers' lifetime.
fn wait_for_stdin_eof() {
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
}

/// `smsc MEMORY`: our SMSC as `smpp smsc` runs it, with receipts an hour away (the bench's
/// `submit_sm` asks for none anyway) and at most MEMORY received PDUs and messages kept for
/// inspection and `query_sm` (`smpp smsc` keeps 100,000 of each). Prints its address, then
/// serves until stdin closes.
fn child_smsc(memory: usize) -> ExitCode {
    let config = smpp_smsc::SmscConfig::default()
        .addr("127.0.0.1:0".parse().expect("address"))
        .receipt_delay(Duration::from_secs(3600));
    let mut config = config;
    config.max_records = memory;
    config.max_messages = memory;
    let smsc = match smpp_smsc::Smsc::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("smsc: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", smsc.local_addr());
    let _ = std::io::stdout().flush();
    wait_for_stdin_eof();
    smsc.shutdown();
    ExitCode::SUCCESS
}

/// `client KIND ADDR WINDOW MAX SECS WARMUP TIMEOUT_S`: one measurement, one JSON line.
fn child_client(args: &[String]) -> ExitCode {
    let parsed = (|| -> Result<_, String> {
        let [kind, addr, window, max, secs, warmup, timeout] = args else {
            return Err(format!("client: 7 arguments expected, got {args:?}"));
        };
        let num = |s: &str, what: &str| -> Result<f64, String> {
            s.parse().map_err(|e| format!("client: {what} {s:?}: {e}"))
        };
        let lim = Limits {
            window: num(window, "WINDOW")? as usize,
            max: num(max, "MAX")? as u64,
            secs: num(secs, "SECS")?,
            warmup: num(warmup, "WARMUP")? as u64,
        };
        let addr: std::net::SocketAddr = addr
            .parse()
            .map_err(|e| format!("client: ADDR {addr:?}: {e}"))?;
        Ok((
            kind.clone(),
            addr,
            lim,
            Duration::from_secs_f64(num(timeout, "TIMEOUT")?),
        ))
    })();
    let (kind, addr, lim, timeout) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let cpu_start = process_cpu_ns();
    let result = match kind.as_str() {
        "ours" => clients::ours(addr, lim),
        "ours-batch" => clients::ours_batch(addr, lim),
        "ours-session" => clients::ours_session(addr, lim),
        "ours-direct" => clients::ours_direct(addr, lim),
        "ours-tokio" => clients::ours_tokio(addr, lim),
        "rusmppc" => clients::rusmppc(addr, lim, timeout),
        "tokio-rusmpp" => clients::tokio_rusmpp(addr, lim, timeout),
        "echo" => echo::client(addr, lim),
        other => Err(format!("unknown client kind {other:?}")),
    };
    match result {
        Ok(m) => {
            // The process's CPU time (every thread, the warm-up included) per request.
            let per = cpu_start
                .zip(process_cpu_ns())
                .map(|(a, b)| (b - a) as f64 / (m.completed + lim.warmup).max(1) as f64);
            let line = m.json();
            match per {
                Some(ns) => println!("{},\"cpu_ns\":{ns:.0}}}", &line[..line.len() - 1]),
                None => println!("{line}"),
            }
        }
        Err(e) => println!("{{\"error\":{}}}", json_str(&e)),
    }
    ExitCode::SUCCESS
}

/// CPU time of this process so far (user and system, every thread, the exited ones too),
/// in nanoseconds, from `/proc/self/stat` (in clock ticks of 10 ms); `None` off Linux.
fn process_cpu_ns() -> Option<u64> {
    cpu_ns_of(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// `utime` + `stime` of a `/proc/PID/stat` line, in nanoseconds (ticks of 10 ms).
fn cpu_ns_of(stat: &str) -> Option<u64> {
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut f = rest.split_whitespace();
    let utime: u64 = f.nth(11)?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some((utime + stime) * 10_000_000)
}

// ---------------------------------------------------------------------------------------
// The orchestrating parent.
// ---------------------------------------------------------------------------------------

/// A server child: its address, and its stdin (closing it stops the server).
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(mode: &str, args: &[String], cpu: Option<usize>) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut child = on_cpu(exe.as_os_str(), cpu)
            .arg(mode)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the {mode} process: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        let read = BufReader::new(stdout).read_line(&mut line);
        let addr = line.trim().to_string();
        if let Err(e) = read {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("reading the {mode} address: {e}"));
        }
        if addr.is_empty() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the {mode} process exited without an address"));
        }
        Ok(Server { child, addr })
    }

    fn stop(mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
            }
        }
    }
}

/// A command for `program`, run on CPU `cpu` only (through `taskset`) when one is given.
fn on_cpu(program: &std::ffi::OsStr, cpu: Option<usize>) -> Command {
    match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// Where the installed peers live: `NODE_PATH` and the virtualenv's python, as
/// `cargo xtask bench peers` passes them, or else under `target/peers` of this repository.
struct Peers {
    node_path: PathBuf,
    python: PathBuf,
    scripts: PathBuf,
}

impl Peers {
    fn find() -> Peers {
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let peers = here.join("../../target/peers");
        Peers {
            node_path: std::env::var_os("SMPP_PEERS_NODE_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|| peers.join("node/node_modules")),
            python: std::env::var_os("SMPP_PEERS_PYTHON")
                .map(PathBuf::from)
                .unwrap_or_else(|| peers.join("venv/bin/python3")),
            scripts: here,
        }
    }

    fn check(&self, clients: &[&str]) -> Result<(), String> {
        if clients.contains(&"node") && !self.node_path.join("smpp/package.json").is_file() {
            return Err(format!(
                "node-smpp is not installed in {} (run `cargo xtask peers`)",
                self.node_path.display()
            ));
        }
        if clients.iter().any(|c| c.starts_with("python")) && !self.python.is_file() {
            return Err(format!(
                "smpplib's virtualenv {} is missing (run `cargo xtask peers`)",
                self.python.display()
            ));
        }
        Ok(())
    }
}

/// One row of the table.
struct Row {
    client: &'static str,
    window: usize,
    /// The concurrency actually used (rusmppc may use less than `window`).
    used: usize,
    per_second: f64,
    p50_us: f64,
    p99_us: f64,
    /// The client process's CPU time per request (our Rust clients and the Rust peers).
    cpu_ns: Option<f64>,
    completed: u64,
    /// The slowest and fastest of the runs this row is the median of.
    min: f64,
    max: f64,
    runs: usize,
    note: String,
}

/// Runs one client process against a fresh server process; `Err` carries what went wrong
/// (a stall, a refused bind, a missing tool).
fn measure(
    o: &Options,
    peers: &Peers,
    kind: &str,
    lim: Limits,
) -> Result<(u64, f64, f64, f64, Option<f64>), String> {
    let server = if kind == "echo" {
        Server::start("echo-server", &[], o.pin.then_some(SERVER_CPU))?
    } else {
        Server::start(
            "smsc",
            &[o.smsc_memory.to_string()],
            o.pin.then_some(SERVER_CPU),
        )?
    };
    let cpu = o.pin.then_some(CLIENT_CPU);
    let timeout = lim.secs + 5.0;
    let args = [
        server.addr.clone(),
        lim.window.to_string(),
        lim.max.to_string(),
        lim.secs.to_string(),
        lim.warmup.to_string(),
    ];
    let mut cmd = match kind {
        "node" => {
            let mut c = on_cpu("node".as_ref(), cpu);
            c.arg(peers.scripts.join("node/load.js"))
                .env("NODE_PATH", &peers.node_path);
            c
        }
        "python" => {
            let mut c = on_cpu(peers.python.as_os_str(), cpu);
            c.arg(peers.scripts.join("python/load.py"));
            c
        }
        "python-ours" => {
            let mut c = on_cpu(peers.python.as_os_str(), cpu);
            c.arg(peers.scripts.join("python/ours.py"));
            c
        }
        _ => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut c = on_cpu(exe.as_os_str(), cpu);
            c.args(["client", kind]);
            c
        }
    };
    cmd.args(&args);
    if !matches!(kind, "node" | "python" | "python-ours") {
        cmd.arg(timeout.to_string());
    }
    let result = run_child(cmd, kind, Duration::from_secs_f64(timeout + 10.0));
    server.stop();
    let line = result?;
    if let Some(e) = json_text(&line, "error") {
        return Err(e);
    }
    let completed = json_num(&line, "completed").ok_or(format!("{kind}: no result in {line:?}"))?;
    let elapsed = json_num(&line, "elapsed_s").unwrap_or(0.0);
    if completed <= 0.0 || elapsed <= 0.0 {
        return Err(format!("{kind}: nothing completed ({line})"));
    }
    Ok((
        completed as u64,
        completed / elapsed,
        json_num(&line, "p50_us").unwrap_or(0.0),
        json_num(&line, "p99_us").unwrap_or(0.0),
        json_num(&line, "cpu_ns"),
    ))
}

/// Runs a client process to its end (or kills it after `limit`) and returns its last line.
fn run_child(mut cmd: Command, kind: &str, limit: Duration) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{kind}: cannot start {cmd:?}: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(format!(
            "{kind}: killed after {:.0} s without finishing",
            limit.as_secs_f64()
        ));
    };
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .map(str::to_string);
    match line {
        Some(l) => Ok(l),
        None => Err(format!(
            "{kind}: exited with {status} and printed no result"
        )),
    }
}

/// Display names, in table order. `ours-batch` runs only when named in `--clients`.
const CLIENTS: &[(&str, &str)] = &[
    ("echo", "TCP ceiling (pre-encoded echo)"),
    ("ours", "ours (smpp-client)"),
    ("ours-batch", "ours, submit_batch (no latencies)"),
    ("ours-session", "ours: smpp-session in one thread"),
    ("ours-direct", "ours: direct (caller's thread)"),
    ("ours-tokio", "ours: smpp-tokio"),
    ("tokio-rusmpp", "tokio + rusmpp 0.4 codec"),
    ("rusmppc", "rusmppc 0.4.0"),
    ("node", "node smpp 0.5.1"),
    ("python", "python smpplib 2.2.4"),
    ("python-ours", "python smpp_rs (ours, send_many)"),
];

/// With `--pin`, every server process runs on this CPU and every client process on the other.
const SERVER_CPU: usize = 1;
/// See [`SERVER_CPU`].
const CLIENT_CPU: usize = 0;

/// rusmppc 0.4.0 stalls for good above this many requests in flight.
const RUSMPPC_MAX_CONCURRENCY: usize = 5;

struct Options {
    quick: bool,
    json: bool,
    secs: f64,
    clients: Vec<&'static str>,
    windows: Vec<usize>,
    smsc_memory: usize,
    rounds: usize,
    pin: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        json: false,
        secs: 3.0,
        clients: CLIENTS
            .iter()
            .map(|c| c.0)
            .filter(|c| *c != "ours-batch")
            .collect(),
        windows: vec![1, 256],
        smsc_memory: 1,
        rounds: 0,
        pin: false,
    };
    let mut secs = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--json" => o.json = true,
            "--pin" => o.pin = true,
            "--seconds" => {
                let v = it.next().ok_or("--seconds needs a value")?;
                secs = Some(
                    v.parse::<f64>()
                        .map_err(|e| format!("--seconds {v}: {e}"))?,
                );
            }
            "--clients" => {
                let v = it.next().ok_or("--clients needs a value")?;
                o.clients = v
                    .split(',')
                    .map(|name| {
                        CLIENTS
                            .iter()
                            .find(|c| c.0 == name)
                            .map(|c| c.0)
                            .ok_or(format!("--clients: unknown client {name:?}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--rounds" => {
                let v = it.next().ok_or("--rounds needs a value")?;
                o.rounds = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--rounds: {v:?} is not a count above 0")),
                };
            }
            "--smsc-memory" => {
                let v = it.next().ok_or("--smsc-memory needs a value")?;
                o.smsc_memory = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--smsc-memory: {v:?} is not a count above 0")),
                };
            }
            "--windows" => {
                let v = it.next().ok_or("--windows needs a value")?;
                o.windows = v
                    .split(',')
                    .map(|w| match w.parse::<usize>() {
                        Ok(n) if n > 0 => Ok(n),
                        _ => Err(format!("--windows: {w:?} is not a window")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    o.secs = secs.unwrap_or(if o.quick { 0.3 } else { 2.0 });
    if o.rounds == 0 {
        o.rounds = if o.quick { 1 } else { 3 };
    }
    if !(o.secs > 0.0 && o.secs <= 600.0) {
        return Err("--seconds must be above 0 and at most 600".into());
    }
    Ok(o)
}

/// Each run stops at `--seconds` or at a count no SMPP client here comes near in that time;
/// the echo ceiling can reach its larger cap first (its latencies are kept, 8 octets each).
fn limits(o: &Options, kind: &str, window: usize) -> Limits {
    Limits {
        window,
        max: match (kind, window) {
            ("echo", 1) => 5_000_000,
            ("echo", _) => 30_000_000,
            (_, 1) => 500_000,
            _ => 5_000_000,
        },
        secs: o.secs,
        warmup: if o.quick { 100 } else { 1_000 },
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("smsc") => {
            return match args.get(1).map(|m| m.parse::<usize>()) {
                Some(Ok(m)) if m > 0 => child_smsc(m),
                _ => {
                    eprintln!("usage: smpp-peers-bench smsc MEMORY (at least 1)");
                    ExitCode::from(2)
                }
            }
        }
        Some("echo-server") => return echo::server(),
        Some("client") => return child_client(&args[1..]),
        _ => {}
    }
    let o = match parse_options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}; usage: smpp-peers-bench [--quick] [--json] [--seconds S] \
                 [--clients echo,ours,tokio-rusmpp,rusmppc,node,python] [--windows 1,256] \
                 [--smsc-memory N] [--rounds N] [--pin]"
            );
            return ExitCode::from(2);
        }
    };
    let peers = Peers::find();
    if let Err(e) = peers.check(&o.clients) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    if !o.json {
        println!(
            "submit_sm (128 octets) round trips over 127.0.0.1 against our SMSC in its own \
             process; a fresh SMSC and client process per run of {} s; each row is the median \
             of {} rounds (clients interleaved){}",
            o.secs,
            o.rounds,
            if o.pin {
                "; servers pinned to CPU 1, clients to CPU 0"
            } else {
                ""
            }
        );
        println!(
            "{:<34} {:>6} {:>11} {:>19} {:>10} {:>10} {:>8}  note",
            "client", "window", "submits/s", "min-max", "p50 us", "p99 us", "CPU ns"
        );
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = false;
    for &window in &o.windows {
        // Every client once per round, the starting client rotated from round to round, so
        // that background load spreads over all of them; each row is the median round.
        let mut runs: Vec<(&str, Vec<Row>, Vec<String>)> = o
            .clients
            .iter()
            .map(|&k| (k, Vec::new(), Vec::new()))
            .collect();
        let mut rusmppc_concurrency: Option<usize> = None;
        for round in 0..o.rounds {
            for i in 0..runs.len() {
                let at = (i + round) % runs.len();
                let kind = runs[at].0;
                let r = if kind == "rusmppc" && window > RUSMPPC_MAX_CONCURRENCY {
                    match rusmppc_concurrency {
                        None => probe_rusmppc(&o, &peers, window).inspect(|row| {
                            rusmppc_concurrency = Some(row.used);
                        }),
                        Some(c) => measure_row(&o, &peers, kind, window, c),
                    }
                } else {
                    measure_row(&o, &peers, kind, window, window)
                };
                match r {
                    Ok(row) => runs[at].1.push(row),
                    Err(e) => {
                        if !o.json {
                            eprintln!("{kind} at window {window}, round {}: {e}", round + 1);
                        }
                        runs[at].2.push(e);
                    }
                }
            }
        }
        for (kind, mut done, errors) in runs {
            let name = CLIENTS.iter().find(|c| c.0 == kind).map_or(kind, |c| c.1);
            if !errors.is_empty() {
                failed = true;
            }
            if done.is_empty() {
                let e = errors.first().cloned().unwrap_or_default();
                if o.json {
                    println!(
                        "{{\"bench\":\"peers\",\"client\":{},\"window\":{window},\"error\":{}}}",
                        json_str(kind),
                        json_str(&e)
                    );
                } else {
                    println!("{name:<34} {window:>6}  FAILED: {e}");
                }
                continue;
            }
            done.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
            let (min, max) = (done[0].per_second, done[done.len() - 1].per_second);
            let n = done.len();
            let mut row = done.swap_remove(n / 2);
            row.min = min;
            row.max = max;
            row.runs = n;
            if !errors.is_empty() {
                let sep = if row.note.is_empty() { "" } else { "; " };
                row.note = format!(
                    "{}{sep}{} of {} runs failed: {}",
                    row.note,
                    errors.len(),
                    errors.len() + n,
                    errors[0]
                );
            }
            print_row(&o, name, &row);
            rows.push(row);
        }
    }
    print_ratios(&o, &rows);
    if failed {
        eprintln!("some measurements failed (see above)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// One run of `kind` keeping `used` requests in flight, as a row of window `window`.
fn measure_row(
    o: &Options,
    peers: &Peers,
    kind: &'static str,
    window: usize,
    used: usize,
) -> Result<Row, String> {
    let (completed, per_second, p50_us, p99_us, cpu_ns) =
        measure(o, peers, kind, limits(o, kind, used))?;
    Ok(Row {
        client: kind,
        window,
        used,
        per_second,
        p50_us,
        p99_us,
        cpu_ns,
        completed,
        min: per_second,
        max: per_second,
        runs: 1,
        note: if used == window {
            String::new()
        } else {
            format!("concurrency {used}: it stalls above {RUSMPPC_MAX_CONCURRENCY} in flight")
        },
    })
}

/// rusmppc at a window above what it survives: the highest concurrency from 5 down that
/// completes within its time limit.
fn probe_rusmppc(o: &Options, peers: &Peers, window: usize) -> Result<Row, String> {
    let mut stalled = Vec::new();
    for c in (1..=RUSMPPC_MAX_CONCURRENCY).rev() {
        match measure_row(o, peers, "rusmppc", window, c) {
            Ok(mut row) => {
                if !stalled.is_empty() {
                    row.note
                        .push_str(&format!(" (stalled here at {stalled:?} too)"));
                }
                return Ok(row);
            }
            Err(e) => {
                if !o.json {
                    eprintln!("rusmppc at concurrency {c}: {e}");
                }
                stalled.push(c);
            }
        }
    }
    Err(format!(
        "rusmppc completed at no concurrency from 1 to 5 (stalled at {stalled:?})"
    ))
}

fn print_row(o: &Options, name: &str, r: &Row) {
    if o.json {
        println!(
            "{{\"bench\":\"peers\",\"client\":{},\"window\":{},\"concurrency\":{},\"count\":{},\
             \"per_second\":{:.0},\"min_per_second\":{:.0},\"max_per_second\":{:.0},\
             \"runs\":{},\"p50_us\":{:.1},\"p99_us\":{:.1},\"cpu_ns_per_request\":{},\"note\":{}}}",
            json_str(r.client),
            r.window,
            r.used,
            r.completed,
            r.per_second,
            r.min,
            r.max,
            r.runs,
            r.p50_us,
            r.p99_us,
            r.cpu_ns.map_or("null".to_string(), |c| format!("{c:.0}")),
            json_str(&r.note)
        );
    } else {
        let range = format!("{:.0}-{:.0}", r.min, r.max);
        let cpu = r.cpu_ns.map_or("-".to_string(), |c| format!("{c:.0}"));
        println!(
            "{:<34} {:>6} {:>11.0} {:>19} {:>10.1} {:>10.1} {:>8}  {}",
            name, r.window, r.per_second, range, r.p50_us, r.p99_us, cpu, r.note
        );
    }
}

/// The acceptance ratios, from the rows of this run.
fn print_ratios(o: &Options, rows: &[Row]) {
    let at = |client: &str, window: usize| {
        rows.iter()
            .find(|r| r.client == client && r.window == window)
            .map(|r| r.per_second)
    };
    // rusmppc's best completing run, whatever its window.
    let rusmppc_best = rows
        .iter()
        .filter(|r| r.client == "rusmppc")
        .map(|r| r.per_second)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let targets: [(&str, Option<f64>, f64); 4] = [
        ("rusmppc 0.4.0, its best completing run", rusmppc_best, 3.0),
        (
            "tokio + rusmpp codec at window 256",
            at("tokio-rusmpp", 256),
            1.5,
        ),
        ("node smpp at window 256", at("node", 256), 10.0),
        ("python smpplib at window 256", at("python", 256), 10.0),
    ];
    let p50_at_1 = |client: &str| {
        rows.iter()
            .find(|r| r.client == client && r.window == 1)
            .map(|r| r.p50_us)
    };
    // The client library (two threads), the session core in the caller's thread, and the
    // library's caller-driven client.
    for (client, label) in [
        ("ours", "ours (smpp-client)"),
        ("ours-session", "ours (smpp-session in one thread)"),
        ("ours-direct", "ours (smpp-client direct, caller's thread)"),
        ("ours-tokio", "ours (smpp-tokio)"),
    ] {
        // smpp-tokio's own targets (its issue): 5x rusmppc's best, 1.2x the tokio loop.
        let tokio_targets: [(&str, Option<f64>, f64); 2] = [
            ("rusmppc 0.4.0, its best completing run", rusmppc_best, 5.0),
            (
                "tokio + rusmpp codec at window 256",
                at("tokio-rusmpp", 256),
                1.2,
            ),
        ];
        let targets: &[(&str, Option<f64>, f64)] = if client == "ours-tokio" {
            &tokio_targets
        } else {
            &targets
        };
        // Latency at window 1: p50 no higher than the tokio loop's.
        if let (Some(ours), Some(theirs)) = (p50_at_1(client), p50_at_1("tokio-rusmpp")) {
            let met = ours <= theirs;
            if o.json {
                println!(
                    "{{\"target\":{},\"p50_us\":{ours:.1},\"theirs_p50_us\":{theirs:.1},\"met\":{met}}}",
                    json_str(&format!("{label} p50 at window 1 <= tokio + rusmpp codec"))
                );
            } else {
                println!(
                    "{label} p50 at window 1: {ours:.1} us vs {theirs:.1} us for tokio + rusmpp codec (target <=: {})",
                    if met { "MET" } else { "MISSED" }
                );
            }
        }
        let Some(ours) = at(client, 256) else {
            continue;
        };
        if !o.json {
            println!("{label} at window 256: {ours:.0}/s");
        }
        // What the client itself spends per request, which the SMSC's ceiling does not hide.
        let cpu_at_256 = |c: &str| {
            rows.iter()
                .find(|r| r.client == c && r.window == 256)
                .and_then(|r| r.cpu_ns)
        };
        if let (Some(mine), Some(theirs)) = (cpu_at_256(client), cpu_at_256("tokio-rusmpp")) {
            if o.json {
                println!(
                    "{{\"measure\":{},\"cpu_ns\":{mine:.0},\"theirs_cpu_ns\":{theirs:.0}}}",
                    json_str(&format!("{label} client CPU per request at window 256"))
                );
            } else {
                println!(
                    "  client CPU {mine:.0} ns per request, {:.2}x the tokio + rusmpp loop's {theirs:.0} ns (lower is better)",
                    mine / theirs
                );
            }
        }
        for &(what, theirs, want) in targets {
            let Some(theirs) = theirs else { continue };
            let ratio = ours / theirs;
            let met = ratio >= want;
            if o.json {
                println!(
                    "{{\"target\":{},\"ratio\":{ratio:.2},\"required\":{want},\"met\":{met}}}",
                    json_str(&format!("{label} at window 256 over {what}"))
                );
            } else {
                println!(
                    "  {ratio:>6.2}x {what} (target >= {want}x: {})",
                    if met { "MET" } else { "MISSED" }
                );
            }
        }
    }
    // The Python package (its issue): 10x smpplib at window 256.
    if let (Some(ours), Some(theirs)) = (at("python-ours", 256), at("python", 256)) {
        let ratio = ours / theirs;
        let met = ratio >= 10.0;
        if o.json {
            println!(
                "{{\"target\":{},\"ratio\":{ratio:.2},\"required\":10,\"met\":{met}}}",
                json_str("python smpp_rs at window 256 over python smpplib at window 256")
            );
        } else {
            println!(
                "python smpp_rs (send_many) at window 256: {ours:.0}/s\n  {ratio:>6.2}x python smpplib at window 256 (target >= 10x: {})",
                if met { "MET" } else { "MISSED" }
            );
        }
    }
    let Some(ours) = at("ours", 256).or(at("ours-session", 256)) else {
        return;
    };
    if let Some(ceiling) = at("echo", 256) {
        let share = ours / ceiling;
        if o.json {
            println!("{{\"ceiling_fraction\":{share:.3},\"ceiling_per_second\":{ceiling:.0}}}");
        } else {
            println!(
                "  {:>5.1}% of the TCP ceiling at window 256 ({ceiling:.0} round trips/s)",
                share * 100.0
            );
        }
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load = load
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        if o.json {
            println!("{{\"loadavg\":{}}}", json_str(&load));
        } else {
            println!("load average at the end: {load}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_line_is_read_back() {
        let line = Measured {
            completed: 3,
            elapsed: Duration::from_millis(1500),
            latencies: vec![3_000, 1_000, 2_000],
        }
        .json();
        assert_eq!(json_num(&line, "completed"), Some(3.0));
        assert_eq!(json_num(&line, "elapsed_s"), Some(1.5));
        assert_eq!(json_num(&line, "p50_us"), Some(2.0));
        assert_eq!(json_num(&line, "p99_us"), Some(3.0));
        assert_eq!(json_text(&line, "error"), None);
    }

    #[test]
    fn an_error_line_is_read_back_with_its_quotes() {
        let line = format!("{{\"error\":{}}}", json_str("bind: \"no\" \\ here"));
        assert_eq!(
            json_text(&line, "error").as_deref(),
            Some("bind: \\\"no\\\" \\\\ here")
        );
        assert_eq!(json_num(&line, "completed"), None);
    }

    #[test]
    fn the_node_and_python_lines_are_read_too() {
        // JSON.stringify and json.dumps put no space (node) or one space (python) after ':'.
        let node = r#"{"completed":10,"elapsed_s":0.5,"p50_us":12.5,"p99_us":40}"#;
        assert_eq!(json_num(node, "cpu_ns"), None, "no CPU figure from node");
        let python = r#"{"completed": 10, "elapsed_s": 0.5, "p50_us": 12.5, "p99_us": 40.0}"#;
        for line in [node, python] {
            assert_eq!(json_num(line, "completed"), Some(10.0), "{line}");
            assert_eq!(json_num(line, "p99_us"), Some(40.0), "{line}");
        }
    }

    #[test]
    fn options_default_and_reject_nonsense() {
        let o = parse_options(&[]).unwrap();
        assert_eq!((o.secs, o.rounds, o.smsc_memory, o.pin), (2.0, 3, 1, false));
        assert!(!o.clients.contains(&"ours-batch"));
        let q = parse_options(&["--quick".into()]).unwrap();
        assert_eq!((q.secs, q.rounds), (0.3, 1));
        for bad in [
            vec!["--windows", "0"],
            vec!["--clients", "nobody"],
            vec!["--seconds", "-1"],
            vec!["--rounds", "0"],
            vec!["--smsc-memory", "0"],
            vec!["--frobnicate"],
        ] {
            let args: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            assert!(parse_options(&args).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn cpu_time_is_read_after_a_command_name_with_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime ...
        let line = "4242 (smpp (peers) bench) R 1 2 3 0 -1 4194560 10 0 0 0 150 25 0 0 20 0";
        assert_eq!(cpu_ns_of(line), Some(175 * 10_000_000));
        assert_eq!(cpu_ns_of("garbage"), None);
        assert!(process_cpu_ns().is_some(), "this test runs on Linux");
    }
}

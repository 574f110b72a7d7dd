//! One `smpp smsc` process holding many bound sessions (issue: 10,000 sessions in under
//! 1 GiB of resident memory, a submit on any of them answered within 10 ms).
//!
//! The bench builds `smpp` (release, `cargo build -p smpp-cli --bin smpp`) unless given
//! `--smpp PATH`, starts `smpp smsc` as a child process on 127.0.0.1 with a free port and
//! `--max-connections` above the session count, then, from this process over one
//! `smpp-transport` loop:
//!
//! 1. opens N connections (default 10,000; `--quick` 1,000) and binds them all as
//!    transmitters, a window of binds in flight, timing both (connects/s, binds/s);
//! 2. reads the SMSC's `VmRSS` from `/proc/PID/status` and reports it per session, less the
//!    RSS it had before the first connection;
//! 3. sends `--submits` `submit_sm` (default 2,000) one at a time, each on a session picked
//!    at random, and reports the latency from the request to its response (p50, p99, max);
//! 4. unbinds every session and stops the SMSC (SIGTERM; it prints its counters).
//!
//! Every wait is bounded. This process needs N descriptors for its sockets and the SMSC,
//! which inherits the hard limit, N too: both soft limits are raised to the hard limit,
//! and when that is short N is scaled down to what fits, with a message saying so.
//!
//! Usage: `smpp-scale-bench [--quick] [--json] [--sessions N] [--submits N]
//! [--bind-window N] [--smpp PATH]`. See docs/benchmarks.md, "Many sessions".

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use smpp_pdu::{Body, CommandStatus, SubmitSm};
use smpp_session::{BindKind, BindRequest};
use smpp_transport::{Completed, Connection, Outcome, Transport, TransportHandle};

/// The targets.
const RSS_TARGET_BYTES: u64 = 1 << 30;
const RSS_TARGET_SESSIONS: usize = 10_000;
const P99_TARGET: Duration = Duration::from_millis(10);

/// Descriptors a process needs besides its connections (stdio, epoll, waker, listener,
/// pipes), with room; `smpp smsc` counts the same.
const SPARE_FDS: u64 = 64;

/// Longest waits: one answer, the whole bind or unbind phase, the SMSC's start and stop,
/// the build of `smpp`.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
const PHASE_TIMEOUT: Duration = Duration::from_secs(300);
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);

/// 76 letters: the 128-octet `submit_sm` of the codec and e2e benches.
const TEXT: &str = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx";

struct Options {
    sessions: usize,
    submits: usize,
    bind_window: usize,
    json: bool,
    quick: bool,
    smpp: Option<PathBuf>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        sessions: 0,
        submits: 2_000,
        bind_window: 256,
        json: false,
        quick: false,
        smpp: None,
    };
    let mut sessions = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |name: &str, v: String| -> Result<usize, String> {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} {v}: expected a number above 0"))
        };
        match a.as_str() {
            "--quick" => o.quick = true,
            "--json" => o.json = true,
            "--sessions" => sessions = Some(number(a, value(a)?)?),
            "--submits" => o.submits = number(a, value(a)?)?,
            "--bind-window" => o.bind_window = number(a, value(a)?)?,
            "--smpp" => o.smpp = Some(PathBuf::from(value(a)?)),
            "-h" | "--help" => {
                return Err("usage: smpp-scale-bench [--quick] [--json] [--sessions N] \
                            [--submits N] [--bind-window N] [--smpp PATH]"
                    .into())
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    o.sessions = sessions.unwrap_or(if o.quick { 1_000 } else { 10_000 });
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse_options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("smpp-scale-bench: {e}");
            return ExitCode::from(2);
        }
    };
    match run(o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smpp-scale-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root: this package is `benches/scale`.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds `smpp` in release mode and returns its path, or `--smpp PATH` as it is.
fn smpp_binary(o: &Options) -> Result<PathBuf, String> {
    if let Some(p) = &o.smpp {
        return Ok(p.clone());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = repo_root().join("Cargo.toml");
    eprintln!("building smpp: cargo build --release -p smpp-cli --bin smpp");
    let mut child = Command::new(cargo)
        .args(["build", "--release", "-p", "smpp-cli", "--bin", "smpp"])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--message-format=json-render-diagnostics")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let status = wait_or_kill(&mut child, BUILD_TIMEOUT)
        .ok_or_else(|| format!("cargo build took over {} s", BUILD_TIMEOUT.as_secs()))?;
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("cargo build failed ({status})"));
    }
    // The artifact line of the `smpp` binary names the executable, wherever the target
    // directory is.
    let exe = out
        .lines()
        .filter(|l| l.contains("\"compiler-artifact\"") && l.contains("\"name\":\"smpp\""))
        .find_map(|l| {
            let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let len = l[start..].find('"')?;
            Some(PathBuf::from(&l[start..start + len]))
        })
        .ok_or("cargo build did not name the smpp executable")?;
    Ok(exe)
}

/// Waits for `child` up to `limit`; past it kills it and returns `None`.
fn wait_or_kill(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Raises this process's soft open-files limit to the hard one; (soft, hard) after.
fn raise_nofile() -> Result<(u64, u64), String> {
    let (_, hard) = rlimit::Resource::NOFILE
        .get()
        .map_err(|e| format!("getrlimit(RLIMIT_NOFILE): {e}"))?;
    let soft = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| format!("setrlimit(RLIMIT_NOFILE): {e}"))?;
    Ok((soft, hard))
}

/// Resident and peak resident memory of `pid` in octets (`VmRSS`, `VmHWM`).
fn rss(pid: u32) -> Result<(u64, u64), String> {
    let path = format!("/proc/{pid}/status");
    let s = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let field = |name: &str| -> Option<u64> {
        let line = s.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(r), Some(h)) => Ok((r, h)),
        _ => Err(format!("{path}: no VmRSS/VmHWM")),
    }
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// The `smpp smsc` child: stopped (SIGTERM, then SIGKILL) when dropped, so that no exit
/// path of the bench leaves it running.
struct Smsc {
    child: Child,
    addr: SocketAddr,
    /// Lines of its stdout after the first.
    stdout: mpsc::Receiver<String>,
}

impl Smsc {
    fn start(exe: &Path, max_connections: usize, safety: Duration) -> Result<Smsc, String> {
        let mut child = Command::new(exe)
            .args(["smsc", "--listen", "127.0.0.1:0", "--max-failed-binds", "0"])
            .arg("--max-connections")
            .arg(max_connections.to_string())
            // A last resort: the SMSC stops by itself even if this process is killed.
            .arg("--duration")
            .arg(safety.as_secs().max(1).to_string())
            // What `smpp smsc` did with its open-files limit, and nothing per connection.
            .env("RUST_LOG", "warn,smpp::limits=info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("  smsc| {line}");
            }
        });
        let mut smsc = Smsc {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stdout: rx,
        };
        let first = smsc.stdout.recv_timeout(START_TIMEOUT).map_err(|_| {
            format!(
                "smpp smsc printed no address within {} s",
                START_TIMEOUT.as_secs()
            )
        })?;
        let addr = first.rsplit(' ').next().unwrap_or_default();
        smsc.addr = addr
            .parse()
            .map_err(|_| format!("smpp smsc: unexpected first line {first:?}"))?;
        Ok(smsc)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then the counters it prints on the way out (SIGKILL past the timeout).
    fn stop(&mut self) -> Vec<String> {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) with our own child's pid and a constant signal.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let exited = wait_or_kill(&mut self.child, STOP_TIMEOUT);
        let mut lines = Vec::new();
        while let Ok(l) = self.stdout.recv_timeout(Duration::from_millis(200)) {
            lines.push(l);
        }
        if exited.is_none() {
            lines.push(format!(
                "(killed: no exit within {} s of SIGTERM)",
                STOP_TIMEOUT.as_secs()
            ));
        }
        lines
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn message() -> SubmitSm<'static> {
    SubmitSm {
        source_addr_ton: 5,
        source_addr: "MyBrand".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        short_message: TEXT.as_bytes().into(),
        ..Default::default()
    }
}

/// A small deterministic generator (xorshift64*), for the session each submit goes to.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

/// Starts one operation per connection with `start(conn, tag, reply)`, at most `window` in
/// flight, and counts the outcomes for which `ok` holds. Returns (ok, first other outcome,
/// elapsed). An answer that takes over [`ANSWER_TIMEOUT`] or a phase over
/// [`PHASE_TIMEOUT`] ends it with an error.
fn windowed(
    conns: &[Connection],
    window: usize,
    what: &str,
    start: impl Fn(&Connection, u64, &smpp_transport::Reply) -> Result<(), String>,
    ok: impl Fn(&Outcome) -> bool,
) -> Result<(usize, Option<String>, Duration), String> {
    let (tx, rx) = crossbeam_channel::unbounded::<Completed>();
    let began = Instant::now();
    let deadline = began + PHASE_TIMEOUT;
    let (mut next, mut done, mut good) = (0usize, 0usize, 0usize);
    let mut first_bad = None;
    while done < conns.len() {
        while next < conns.len() && next - done < window {
            start(&conns[next], next as u64, &tx)?;
            next += 1;
        }
        let wait = ANSWER_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
        let c = recv(&rx, wait).ok_or_else(|| {
            format!(
                "{what}: {done} of {} answered, then nothing for {:.1} s",
                conns.len(),
                wait.as_secs_f64()
            )
        })?;
        done += 1;
        if ok(&c.outcome) {
            good += 1;
        } else if first_bad.is_none() {
            first_bad = Some(format!("session {}: {:?}", c.tag, c.outcome));
        }
    }
    Ok((good, first_bad, began.elapsed()))
}

fn recv(rx: &Receiver<Completed>, wait: Duration) -> Option<Completed> {
    rx.recv_timeout(wait).ok()
}

/// Latency percentile of sorted nanoseconds.
fn pct(sorted: &[u64], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    Duration::from_nanos(sorted[i])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(met: bool) -> &'static str {
    if met {
        "MET"
    } else {
        "MISSED"
    }
}

fn run(mut o: Options) -> Result<(), String> {
    let (soft, hard) = raise_nofile()?;
    let wanted = o.sessions as u64 + SPARE_FDS;
    eprintln!(
        "open files: soft limit {soft}, hard {hard}; {} sessions want {wanted} here and as \
         many in the SMSC ({} in all)",
        o.sessions,
        2 * wanted
    );
    if soft < wanted {
        let fit = soft.saturating_sub(SPARE_FDS) as usize;
        if fit == 0 {
            return Err(format!(
                "an open-files limit of {soft} leaves no room for sessions"
            ));
        }
        eprintln!(
            "NOTE: scaling down from {} to {fit} sessions: this process can open only {soft} \
             files (hard limit {hard}); raise `ulimit -Hn` to run the full count",
            o.sessions
        );
        o.sessions = fit;
    }
    let n = o.sessions;
    let exe = smpp_binary(&o)?;
    let safety = PHASE_TIMEOUT * 3 + Duration::from_secs(120);
    // Exactly N: `smpp smsc` wants N plus its own spare descriptors, which fit whenever
    // this process's N did (the child inherits the hard limit).
    let mut smsc = Smsc::start(&exe, n, safety)?;
    let pid = smsc.pid();
    std::thread::sleep(Duration::from_millis(300));
    let (rss_before, _) = rss(pid)?;
    eprintln!(
        "smpp smsc (pid {pid}) on {}; RSS before any connection {:.1} MiB",
        smsc.addr,
        mib(rss_before)
    );

    let config = smpp_transport::Config {
        max_connections: n + SPARE_FDS as usize,
        max_sessions_per_listener: n + SPARE_FDS as usize,
        ..smpp_transport::Config::default()
    };
    let transport = Transport::spawn(config).map_err(|e| format!("client transport: {e}"))?;
    let result = measure(&o, &transport, &mut smsc, rss_before);
    transport.shutdown();
    let last = smsc.stop();
    if let Some(counters) = last.iter().rev().find(|l| !l.is_empty()) {
        eprintln!("smsc final counters: {counters}");
    }
    result
}

fn measure(
    o: &Options,
    transport: &TransportHandle,
    smsc: &mut Smsc,
    rss_before: u64,
) -> Result<(), String> {
    let n = o.sessions;
    let pid = smsc.pid();
    let session = smpp_session::Config::default();

    // Connect, one at a time (each `connect` returns once the socket is established).
    let began = Instant::now();
    let mut conns = Vec::with_capacity(n);
    let mut slowest = Duration::ZERO;
    let mut over_100ms = 0usize;
    for i in 0..n {
        if began.elapsed() > PHASE_TIMEOUT {
            return Err(format!(
                "connect: only {i} of {n} within {} s",
                PHASE_TIMEOUT.as_secs()
            ));
        }
        let t0 = Instant::now();
        let c = transport
            .connect(smsc.addr, session.clone())
            .map_err(|e| format!("connect {i} of {n}: {e}"))?;
        let took = t0.elapsed();
        slowest = slowest.max(took);
        over_100ms += usize::from(took > Duration::from_millis(100));
        conns.push(c);
    }
    let connect_time = began.elapsed();

    // Bind every connection as a transmitter.
    let bind = BindRequest::new(BindKind::Transmitter, "scale", "secret");
    let (bound, bad, bind_time) = windowed(
        &conns,
        o.bind_window,
        "bind",
        |c, tag, reply| {
            c.bind(bind.clone(), tag, reply)
                .map_err(|e| format!("bind {tag}: {e}"))
        },
        |out| matches!(out, Outcome::Bound { .. }),
    )?;
    if bound < n {
        return Err(format!(
            "bind: {bound} of {n} bound; first failure: {}",
            bad.unwrap_or_default()
        ));
    }
    let connect_rate = n as f64 / connect_time.as_secs_f64();
    let bind_rate = n as f64 / bind_time.as_secs_f64();
    row(
        o,
        &format!(
            "connect   {n} connections in {:.2} s ({connect_rate:.0}/s, one at a time; slowest \
             {:.1} ms, {over_100ms} over 100 ms)",
            connect_time.as_secs_f64(),
            ms(slowest)
        ),
        &format!(
            "{{\"phase\":\"connect\",\"sessions\":{n},\"seconds\":{:.4},\"per_second\":{connect_rate:.1},\"slowest_ms\":{:.3},\"over_100_ms\":{over_100ms}}}",
            connect_time.as_secs_f64(),
            ms(slowest)
        ),
    );
    row(
        o,
        &format!(
            "bind      {n} transmitter binds in {:.2} s ({bind_rate:.0}/s, {} in flight)",
            bind_time.as_secs_f64(),
            o.bind_window
        ),
        &format!(
            "{{\"phase\":\"bind\",\"sessions\":{n},\"seconds\":{:.4},\"per_second\":{bind_rate:.1},\"window\":{}}}",
            bind_time.as_secs_f64(),
            o.bind_window
        ),
    );

    // Memory with every session bound, once the SMSC has settled.
    std::thread::sleep(Duration::from_millis(500));
    let (rss_bound, hwm) = rss(pid)?;
    let per_session = rss_bound.saturating_sub(rss_before) as f64 / n as f64;
    let projected = rss_before as f64 + per_session * RSS_TARGET_SESSIONS as f64;
    row(
        o,
        &format!(
            "rss       {:.1} MiB with {n} bound ({:.1} MiB before): {:.2} KiB per session \
             (peak {:.1} MiB)",
            mib(rss_bound),
            mib(rss_before),
            per_session / 1024.0,
            mib(hwm)
        ),
        &format!(
            "{{\"phase\":\"rss\",\"sessions\":{n},\"rss_bytes\":{rss_bound},\"rss_before_bytes\":{rss_before},\"per_session_bytes\":{per_session:.0},\"peak_bytes\":{hwm}}}"
        ),
    );

    // Submits one at a time, each on a random session.
    let (tx, rx) = crossbeam_channel::unbounded::<Completed>();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut lat = Vec::with_capacity(o.submits);
    let mut failed = 0usize;
    let mut first_failure = None;
    let began = Instant::now();
    for k in 0..o.submits {
        if began.elapsed() > PHASE_TIMEOUT {
            return Err(format!(
                "submit: only {k} of {} within {} s",
                o.submits,
                PHASE_TIMEOUT.as_secs()
            ));
        }
        let c = &conns[rng.below(n)];
        let t0 = Instant::now();
        c.request(Body::from(message()), k as u64, &tx)
            .map_err(|e| format!("submit {k}: {e}"))?;
        let done = recv(&rx, ANSWER_TIMEOUT).ok_or_else(|| {
            format!(
                "submit {k}: no answer within {} s",
                ANSWER_TIMEOUT.as_secs()
            )
        })?;
        let elapsed = t0.elapsed();
        match &done.outcome {
            Outcome::Response(p) if p.command_status == CommandStatus::ESME_ROK => {
                lat.push(elapsed.as_nanos() as u64);
            }
            other => {
                failed += 1;
                first_failure.get_or_insert_with(|| format!("{other:?}"));
            }
        }
    }
    lat.sort_unstable();
    let (p50, p99, max) = (pct(&lat, 0.50), pct(&lat, 0.99), pct(&lat, 1.0));
    row(
        o,
        &format!(
            "submit    {} submit_sm one at a time on random sessions of {n}: p50 {:.3} ms, \
             p99 {:.3} ms, max {:.3} ms, {failed} failed",
            lat.len(),
            ms(p50),
            ms(p99),
            ms(max)
        ),
        &format!(
            "{{\"phase\":\"submit\",\"sessions\":{n},\"count\":{},\"failed\":{failed},\"p50_ms\":{:.4},\"p99_ms\":{:.4},\"max_ms\":{:.4}}}",
            lat.len(),
            ms(p50),
            ms(p99),
            ms(max)
        ),
    );
    if let Some(f) = first_failure {
        eprintln!("first failed submit: {f}");
    }

    // Unbind everything.
    let (unbound, bad, unbind_time) = windowed(
        &conns,
        o.bind_window,
        "unbind",
        |c, tag, reply| {
            c.unbind(tag, reply)
                .map_err(|e| format!("unbind {tag}: {e}"))
        },
        |out| matches!(out, Outcome::Unbound),
    )?;
    row(
        o,
        &format!(
            "unbind    {unbound} of {n} in {:.2} s{}",
            unbind_time.as_secs_f64(),
            bad.map_or_else(String::new, |b| format!("; first failure: {b}"))
        ),
        &format!(
            "{{\"phase\":\"unbind\",\"sessions\":{n},\"unbound\":{unbound},\"seconds\":{:.4}}}",
            unbind_time.as_secs_f64()
        ),
    );
    drop(conns);
    std::thread::sleep(Duration::from_millis(500));
    if let Ok((after, _)) = rss(pid) {
        eprintln!("RSS after every session closed: {:.1} MiB", mib(after));
    }

    // Targets.
    let full = n >= RSS_TARGET_SESSIONS;
    let rss_at_target = if full { rss_bound as f64 } else { projected };
    let rss_met = rss_at_target < RSS_TARGET_BYTES as f64;
    let how = if full {
        format!("{:.1} MiB with {n} bound", mib(rss_bound))
    } else {
        format!(
            "{:.1} MiB projected for {RSS_TARGET_SESSIONS} from {n} bound",
            rss_at_target / (1024.0 * 1024.0)
        )
    };
    row(
        o,
        &format!("target    SMSC RSS under 1 GiB at {RSS_TARGET_SESSIONS} sessions: {} ({how})", verdict(rss_met)),
        &format!(
            "{{\"target\":\"rss_under_1_gib_at_10000\",\"met\":{rss_met},\"bytes\":{rss_at_target:.0},\"projected\":{}}}",
            !full
        ),
    );
    let p99_met = failed == 0 && p99 < P99_TARGET;
    row(
        o,
        &format!(
            "target    submit p99 under 10 ms with {n} bound: {} ({:.3} ms, {failed} failed)",
            verdict(p99_met),
            ms(p99)
        ),
        &format!(
            "{{\"target\":\"submit_p99_under_10_ms\",\"met\":{p99_met},\"p99_ms\":{:.4},\"sessions\":{n}}}",
            ms(p99)
        ),
    );
    Ok(())
}

/// Prints a result line: the text, or with `--json` the JSON object.
fn row(o: &Options, text: &str, json: &str) {
    if o.json {
        println!("{json}");
    } else {
        println!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_options, pct, Rng};
    use std::time::Duration;

    #[test]
    fn options_default_and_quick() {
        let o = parse_options(&[]).expect("defaults");
        assert_eq!((o.sessions, o.submits), (10_000, 2_000));
        let o = parse_options(&["--quick".into()]).expect("quick");
        assert_eq!(o.sessions, 1_000);
        let o = parse_options(&["--quick".into(), "--sessions".into(), "50".into()]).expect("n");
        assert_eq!(o.sessions, 50);
        assert!(parse_options(&["--sessions".into(), "0".into()]).is_err());
        assert!(parse_options(&["--bogus".into()]).is_err());
    }

    #[test]
    fn percentiles_and_the_generator_stay_in_range() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(pct(&v, 0.5), Duration::from_nanos(50));
        assert_eq!(pct(&v, 0.99), Duration::from_nanos(99));
        assert_eq!(pct(&v, 1.0), Duration::from_nanos(100));
        let mut r = Rng(1);
        assert!((0..1000).all(|_| r.below(7) < 7));
    }
}

//! `smpp`: the SMPP toolkit's command line.
//!
//! - `smpp demo [--json]` runs an embedded test SMSC on 127.0.0.1, binds a transceiver,
//!   sends a short and a long Unicode message, waits for their receipts and an MO
//!   message, unbinds, and reports each step.
//! - `smpp decode [HEX...]` decodes PDUs from hex (arguments, or one dump per line on
//!   stdin) into one JSON object per PDU.
//! - `smpp encode [JSON...]` is the reverse: JSON objects as `decode` prints them to hex.
//! - `smpp smsc [OPTIONS]` runs the test SMSC until killed.
//! - `smpp send`, `smpp listen` and `smpp bench` submit texts, print inbound messages and
//!   generate load.
//!
//! Logging goes to stderr, controlled by `RUST_LOG`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod common;
mod decode;
mod demo;
mod encode;
mod listen;
mod send;
mod stats;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use smpp_smsc::{IdFormat, Smsc, SmscConfig, User};

const USAGE: &str = "\
usage:
  smpp demo [--json]        run an embedded SMSC and a client against it, report each step
  smpp decode [--reveal-passwords] [HEX...]
                            decode PDUs from hex (arguments, or one hex dump per stdin line)
                            into JSON lines; exit 1 if any input is not a valid PDU;
                            passwords print as *** unless --reveal-passwords
  smpp encode [JSON...]     the reverse: JSON lines as `decode` prints them to hex, one line
                            per PDU; exit 1 (with a JSON error naming the field) if any fails
  smpp smsc [OPTIONS]       run the test SMSC until killed (or --duration)
      --listen ADDR         where to listen (default 127.0.0.1:2775)
      --tls-cert FILE       serve TLS with this certificate chain (PEM, server first)
      --tls-key FILE        and this private key (PEM); both or neither
      --user ID:PASSWORD    an account (repeatable; none: every bind is accepted)
      --receipt-delay-ms N  delay of delivery receipts (default 1000)
      --hex-ids             hexadecimal message ids
      --max-rate N          answer ESME_RTHROTTLED above N submits per second
      --log FILE            write every received PDU as a JSON line to FILE
      --delay-ms MS         fault injection: answer every request MS milliseconds late
      --drop-every N        fault injection: never answer every N-th submit_sm
      --close-after N       fault injection: close each connection after it sent N PDUs
      --garbage-after N     fault injection: write an invalid header to each connection
                            after it sent N PDUs (the ESME loses framing)
      --mo-every-ms MS      send an MO (447700900123 -> 12345) every MS milliseconds to
                            each bound receiver of every --user (or of --mo-system-id ID)
      --mo-text TEXT        the scheduled MO's text (default \"Hello\")
      --max-failed-binds N  after N failed binds from one IP address within the window,
                            refuse its binds (ESME_RBINDFAIL) without checking them
                            (default 10; 0 turns it off)
      --failed-bind-window SECONDS
                            that window (default 60)
      --stats-every SECONDS print the counters (the SMSC's and its sessions': PDUs per
                            command and status, timeouts, latency) every SECONDS
      --duration SECONDS    stop after SECONDS (default: run until SIGINT/SIGTERM); the
                            counters are printed once more on the way out
      --json                print the counters as JSON lines
  smpp send [--addr HOST:PORT --system-id ID --password PW] [--bind tx|trx]
            [--from ADDR] --to ADDR [--to ADDR...] --text TEXT [--encoding auto|gsm7|ucs2|latin1]
            [--split udh|udh16|sar|payload] [--registered-delivery] [--wait-receipt SECONDS] [--json]
            [--tls [--ca FILE] [--server-name NAME]]
                            submit a text (without --addr: to an embedded SMSC), print the
                            message ids and, when waiting, the receipts
  smpp listen --addr HOST:PORT --system-id ID --password PW [--bind rx|trx] [--count N]
            [--timeout SECONDS] [--json] [--tls [--ca FILE] [--server-name NAME]]
                            print MO messages and receipts until N arrived or the timeout
  smpp bench [--addr HOST:PORT --system-id ID --password PW] --count N --window W
            [--connections C] [--stats-every SECONDS] [--json]
            [--tls [--ca FILE] [--server-name NAME]]
                            load generator (without --addr: an embedded SMSC); prints
                            throughput and p50/p99 submit latency, then the client's
                            counters (also every SECONDS with --stats-every)
      --tls                 (send, listen, bench) connect over TLS, trusting the system's
                            root certificates, or only the CA certificates in --ca FILE
                            (PEM); the certificate must name --server-name NAME, else the
                            host of --addr
  smpp help                 this text

RUST_LOG=debug enables logging (to stderr).";

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .target(env_logger::Target::Stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    // `--help` (or `-h`) after any subcommand prints the usage, which covers every one.
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match cmd.as_str() {
        "demo" => {
            let mut json = false;
            for a in rest {
                match a.as_str() {
                    "--json" => json = true,
                    other => return usage_error(&format!("demo: unknown argument {other:?}")),
                }
            }
            demo::run(json)
        }
        "decode" => decode::run(rest),
        "encode" => encode::run(rest),
        "smsc" => run_smsc(rest),
        "send" => send::run(rest),
        "listen" => listen::run(rest),
        "bench" => bench::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => usage_error(&format!("unknown command {other:?}")),
    }
}

/// A non-negative integer option value.
fn number(v: Result<String, String>, name: &str) -> Result<u64, String> {
    v.and_then(|v| v.parse().map_err(|e| format!("smsc: {name} {v}: {e}")))
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("smpp: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

/// A positive number of seconds (fractions allowed).
fn seconds(v: Result<String, String>, name: &str) -> Result<Duration, String> {
    common::positive_seconds("smsc", name, &v?)
}

/// Prints the SMSC's counters and its sessions' counters.
fn print_smsc_stats(smsc: &Smsc, json: bool) {
    let s = smsc.stats();
    let extra = [
        ("connections", s.connections),
        ("open_connections", s.open_connections),
        ("binds", s.binds),
        ("bind_rejects", s.bind_rejects),
        ("submits", s.submits),
        ("throttled", s.throttled),
        ("receipts_sent", s.receipts_sent),
        ("mo_sent", s.mo_sent),
        ("delivers_acked", s.delivers_acked),
        ("delivers_failed", s.delivers_failed),
    ];
    let session = smsc.session_stats().unwrap_or_default();
    println!("{}", stats::render("smsc", &session, &extra, json));
}

/// Serves until `duration` passed, or until SIGINT/SIGTERM (without `duration`, forever);
/// prints the counters every `stats_every` and once at the end.
fn serve(
    smsc: Smsc,
    stats_every: Option<Duration>,
    duration: Option<Duration>,
    json: bool,
) -> ExitCode {
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    }) {
        log::warn!("cannot catch SIGINT/SIGTERM ({e}); final counters print only with --duration");
    }
    let started = std::time::Instant::now();
    let end = duration.map(|d| started + d);
    let mut next_stats = stats_every.map(|d| started + d);
    loop {
        let now = std::time::Instant::now();
        if end.is_some_and(|e| now >= e) {
            break;
        }
        if let (Some(t), Some(every)) = (next_stats, stats_every) {
            if now >= t {
                print_smsc_stats(&smsc, json);
                next_stats = Some(t + every);
            }
        }
        let wake = [end, next_stats]
            .into_iter()
            .flatten()
            .min()
            .map_or(Duration::from_secs(3600), |t| {
                t.saturating_duration_since(now)
            });
        match stop_rx.recv_timeout(wake) {
            Ok(()) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(wake);
            }
        }
    }
    print_smsc_stats(&smsc, json);
    smsc.shutdown();
    ExitCode::SUCCESS
}

fn run_smsc(args: &[String]) -> ExitCode {
    let mut config = SmscConfig::default()
        .addr(SocketAddr::from(([127, 0, 0, 1], 2775)))
        .receipt_delay(Duration::from_secs(1));
    let mut mo_every: Option<u64> = None;
    let mut mo_text = String::from("Hello");
    let mut mo_system_ids: Vec<String> = Vec::new();
    let mut stats_every: Option<Duration> = None;
    let mut duration: Option<Duration> = None;
    let mut json = false;
    let mut tls_cert: Option<String> = None;
    let mut tls_key: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("smsc: {name} needs a value"))
        };
        let r: Result<(), String> = match a.as_str() {
            "--listen" => value("--listen").and_then(|v| {
                v.parse()
                    .map(|addr| config.addr = addr)
                    .map_err(|e| format!("smsc: --listen {v}: {e}"))
            }),
            "--user" => value("--user").and_then(|v| match v.split_once(':') {
                Some((id, pw)) => {
                    config.users.push(User::new(id, pw));
                    Ok(())
                }
                None => Err(format!("smsc: --user {v}: expected ID:PASSWORD")),
            }),
            "--receipt-delay-ms" => value("--receipt-delay-ms").and_then(|v| {
                v.parse()
                    .map(|ms| config.receipt_delay = Duration::from_millis(ms))
                    .map_err(|e| format!("smsc: --receipt-delay-ms {v}: {e}"))
            }),
            "--hex-ids" => {
                config.id_format = IdFormat::Hex;
                Ok(())
            }
            "--max-rate" => value("--max-rate").and_then(|v| {
                v.parse()
                    .map(|n| config.max_submits_per_second = Some(n))
                    .map_err(|e| format!("smsc: --max-rate {v}: {e}"))
            }),
            "--log" => value("--log").map(|v| config.log_path = Some(v.into())),
            "--delay-ms" => number(value("--delay-ms"), "--delay-ms")
                .map(|ms| config.response_delay = Duration::from_millis(ms)),
            "--drop-every" => number(value("--drop-every"), "--drop-every")
                .map(|n| config.drop_every = (n > 0).then_some(n)),
            "--close-after" => number(value("--close-after"), "--close-after")
                .map(|n| config.close_after = Some(n)),
            "--garbage-after" => number(value("--garbage-after"), "--garbage-after")
                .map(|n| config.garbage_after = Some(n)),
            "--mo-every-ms" => {
                number(value("--mo-every-ms"), "--mo-every-ms").map(|ms| mo_every = Some(ms.max(1)))
            }
            "--mo-text" => value("--mo-text").map(|v| mo_text = v),
            "--mo-system-id" => value("--mo-system-id").map(|v| mo_system_ids.push(v)),
            "--max-failed-binds" => number(value("--max-failed-binds"), "--max-failed-binds")
                .and_then(|n| {
                    u32::try_from(n)
                        .map(|n| config.max_failed_binds = n)
                        .map_err(|_| format!("smsc: --max-failed-binds {n}: too large"))
                }),
            "--failed-bind-window" => {
                seconds(value("--failed-bind-window"), "--failed-bind-window")
                    .map(|d| config.failed_bind_window = d)
            }
            "--stats-every" => {
                seconds(value("--stats-every"), "--stats-every").map(|d| stats_every = Some(d))
            }
            "--duration" => seconds(value("--duration"), "--duration").map(|d| duration = Some(d)),
            "--json" => {
                json = true;
                Ok(())
            }
            "--tls-cert" => value("--tls-cert").map(|v| tls_cert = Some(v)),
            "--tls-key" => value("--tls-key").map(|v| tls_key = Some(v)),
            other => Err(format!("smsc: unknown argument {other:?}")),
        };
        if let Err(e) = r {
            return usage_error(&e);
        }
    }
    if let Some(ms) = mo_every {
        if mo_system_ids.is_empty() {
            mo_system_ids = config.users.iter().map(|u| u.system_id.clone()).collect();
        }
        if mo_system_ids.is_empty() {
            return usage_error("smsc: --mo-every-ms needs a --user or --mo-system-id");
        }
        for id in mo_system_ids {
            config = config.mo_schedule(
                Duration::from_millis(ms),
                id,
                "447700900123",
                "12345",
                mo_text.clone(),
            );
        }
    }
    match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => {
            let read = |path: &str| {
                std::fs::read(path).map_err(|e| format!("smpp smsc: cannot read {path}: {e}"))
            };
            let loaded = read(&cert).and_then(|c| Ok((c, read(&key)?)));
            let configured = loaded.and_then(|(c, k)| {
                config
                    .clone()
                    .tls(&c, &k)
                    .map_err(|e| format!("smpp smsc: --tls-cert {cert} --tls-key {key}: {e}"))
            });
            match configured {
                Ok(c) => config = c,
                Err(msg) => {
                    eprintln!("{msg}");
                    return ExitCode::FAILURE;
                }
            }
        }
        (None, None) => {}
        _ => return usage_error("smsc: --tls-cert and --tls-key go together"),
    }
    let tls = if config.tls.is_some() {
        " with TLS"
    } else {
        ""
    };
    match Smsc::start(config) {
        Ok(smsc) => {
            // The address stays the last word (scripts take it from there).
            println!("smpp-smsc listening{tls} on {}", smsc.local_addr());
            serve(smsc, stats_every, duration, json)
        }
        Err(e) => {
            eprintln!("smpp smsc: cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

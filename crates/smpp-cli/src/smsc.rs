//! `smpp smsc`: the test SMSC until it is killed (or `--duration` passed), with fault
//! injection, scheduled MO messages and periodic counters.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use std::ffi::OsStr;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::Args;
use smpp_pdu::receipt::ReceiptState;
use smpp_smsc::{
    IdFormat, IntermediateStyle, ReceiptContent, ReceiptDelay, Smsc, SmscConfig, User,
};

use crate::common::{self, Password};
use crate::metrics;
use crate::out::{self, errln};
use crate::stats;

/// `--user ID:PASSWORD[:MAXBINDS]`: an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UserArg {
    system_id: String,
    password: Password,
    /// Its own bind limit; `None`: `--max-binds`.
    max_binds: Option<usize>,
}

impl UserArg {
    /// The account, with `default_max_binds` unless it has its own limit.
    fn user(&self, default_max_binds: usize) -> User {
        User::new(self.system_id.clone(), self.password.0.clone())
            .max_binds(self.max_binds.unwrap_or(default_max_binds))
    }
}

/// Parses `ID:PASSWORD[:MAXBINDS]`. The ID ends at the first ':'. MAXBINDS is what
/// follows the last ':' when there are at least two and it is all digits; otherwise the
/// rest is the password, ':' included. An error never shows the password.
fn parse_user(v: &str) -> Result<UserArg, String> {
    let Some((id, rest)) = v.split_once(':') else {
        return Err("expected ID:PASSWORD[:MAXBINDS]".into());
    };
    let (password, max_binds) = match rest.rsplit_once(':') {
        Some((pw, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            let n = match n.parse::<usize>() {
                Ok(0) | Err(_) => {
                    return Err(format!(
                        "user {id:?}: MAXBINDS {n} is not a number of binds (1 or more)"
                    ))
                }
                Ok(n) => n,
            };
            (pw, Some(n))
        }
        _ => (rest, None),
    };
    Ok(UserArg {
        system_id: id.to_string(),
        password: Password(password.to_string()),
        max_binds,
    })
}

/// The value parser of `--user`: [`parse_user`], with an error that, unlike clap's
/// usual one, does not repeat the value (it holds a password).
#[derive(Clone, Debug)]
struct UserParser;

impl TypedValueParser for UserParser {
    type Value = UserArg;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<UserArg, clap::Error> {
        let arg = arg.map_or_else(|| "--user".to_string(), ToString::to_string);
        let parsed = value
            .to_str()
            .ok_or_else(|| "not UTF-8".to_string())
            .and_then(parse_user);
        parsed.map_err(|msg| {
            cmd.clone().error(
                ErrorKind::ValueValidation,
                format!("invalid value for '{arg}': {msg}"),
            )
        })
    }
}

/// Parses a duration: a number with a unit (`250ms`, `2s`, `1.5s`, `1m`); a bare number
/// is seconds.
fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60.0)
    } else {
        (v, 1.0)
    };
    match num.trim().parse::<f64>() {
        Ok(x) if x >= 0.0 && (x * scale).is_finite() && x * scale < 1e9 => {
            Ok(Duration::from_secs_f64(x * scale))
        }
        _ => Err(format!(
            "{v:?} is not a duration (a number with ms, s or m: 250ms, 2s, 1.5s)"
        )),
    }
}

/// `--receipt-delay`: `2s` (fixed), `1s..5s` (uniform) or `exp:2s[,cap=20s]` (exponential,
/// capped at ten times the mean unless given).
fn parse_receipt_delay(v: &str) -> Result<ReceiptDelay, String> {
    if let Some(rest) = v.strip_prefix("exp:") {
        let (mean, cap) = match rest.split_once(',') {
            Some((mean, cap)) => {
                let Some(cap) = cap.trim().strip_prefix("cap=") else {
                    return Err(format!("expected exp:MEAN[,cap=MAX], not {v:?}"));
                };
                (parse_duration(mean)?, Some(parse_duration(cap)?))
            }
            None => (parse_duration(rest)?, None),
        };
        if mean.is_zero() {
            return Err("the mean of exp:MEAN must be above 0".into());
        }
        let cap = cap.unwrap_or(mean.saturating_mul(10));
        if cap < mean {
            return Err(format!("cap {cap:?} is below the mean {mean:?}"));
        }
        return Ok(ReceiptDelay::Exponential { mean, cap });
    }
    if let Some((min, max)) = v.split_once("..") {
        let (min, max) = (parse_duration(min)?, parse_duration(max)?);
        if max < min {
            return Err(format!("MIN..MAX with MAX below MIN: {v:?}"));
        }
        return Ok(ReceiptDelay::Uniform { min, max });
    }
    parse_duration(v).map(ReceiptDelay::Fixed)
}

/// A `stat:` word this SMSC can report (the spec's, not an unknown word).
fn parse_state(word: &str) -> Result<ReceiptState, String> {
    match ReceiptState::from_stat(word) {
        ReceiptState::Other(w) => Err(format!(
            "{w:?} is not a receipt state (DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, \
             UNKNOWN, ACCEPTD, ENROUTE, ...)"
        )),
        s => Ok(s),
    }
}

/// The value of `--receipt-mix`: states with their weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MixArg(Vec<(ReceiptState, u32)>);

/// `--receipt-mix DELIVRD=90,UNDELIV=7,EXPIRED=3`: states with weights.
fn parse_mix(v: &str) -> Result<MixArg, String> {
    let mut mix = Vec::new();
    for part in v.split(',') {
        let Some((state, weight)) = part.split_once('=') else {
            return Err(format!(
                "expected STATE=WEIGHT[,STATE=WEIGHT...], not {part:?}"
            ));
        };
        let weight: u32 = weight
            .trim()
            .parse()
            .map_err(|_| format!("weight {weight:?} of {state} is not a whole number"))?;
        mix.push((parse_state(state)?, weight));
    }
    if mix.iter().all(|(_, w)| *w == 0) {
        return Err("the weights add up to 0".into());
    }
    Ok(MixArg(mix))
}

/// `--id-format decimal|hex|uuid|padded-hex:N|padded-decimal:N`.
fn parse_id_format(v: &str) -> Result<IdFormat, String> {
    let width = |n: &str| match n.parse::<usize>() {
        Ok(w) if (1..=64).contains(&w) => Ok(w),
        _ => Err(format!("width {n:?} is not a number from 1 to 64")),
    };
    match v.to_ascii_lowercase().as_str() {
        "decimal" => Ok(IdFormat::Decimal),
        "hex" => Ok(IdFormat::Hex),
        "uuid" => Ok(IdFormat::Uuid),
        other => {
            if let Some(n) = other.strip_prefix("padded-hex:") {
                Ok(IdFormat::PaddedHex { width: width(n)? })
            } else if let Some(n) = other.strip_prefix("padded-decimal:") {
                Ok(IdFormat::PaddedDecimal { width: width(n)? })
            } else {
                Err(format!(
                    "{v:?}: expected decimal, hex, uuid, padded-hex:N or padded-decimal:N"
                ))
            }
        }
    }
}

/// `--receipt-content text|tlvs|both`.
fn parse_content(v: &str) -> Result<ReceiptContent, String> {
    match v.to_ascii_lowercase().as_str() {
        "text" => Ok(ReceiptContent::TextOnly),
        "tlvs" => Ok(ReceiptContent::TlvsOnly),
        "both" => Ok(ReceiptContent::TextAndTlvs),
        _ => Err(format!("{v:?}: expected text, tlvs or both")),
    }
}

/// `--intermediate enroute|acceptd[:receipt|:notification]`.
fn parse_intermediate(v: &str) -> Result<(ReceiptState, IntermediateStyle), String> {
    let (state, style) = match v.split_once(':') {
        Some((s, style)) => (s, style),
        None => (v, "receipt"),
    };
    let state = match state.to_ascii_lowercase().as_str() {
        "enroute" => ReceiptState::Enroute,
        "acceptd" | "accepted" => ReceiptState::Accepted,
        _ => return Err(format!("{state:?}: expected enroute or acceptd")),
    };
    let style = match style.to_ascii_lowercase().as_str() {
        "receipt" => IntermediateStyle::AsReceipt,
        "notification" => IntermediateStyle::Notification,
        _ => return Err(format!("{style:?}: expected receipt or notification")),
    };
    Ok((state, style))
}

/// `smpp smsc`: run the test SMSC.
#[derive(Args, Debug)]
pub(crate) struct SmscArgs {
    /// Where to listen (port 0: a free port). The first line printed ends with the
    /// address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2775")]
    listen: SocketAddr,
    /// Serve TLS with this certificate chain (PEM, server first); needs --tls-key.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// With --tls-cert: require every ESME to present a client certificate issued by a CA
    /// of this PEM file (mutual TLS).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// An account ESMEs bind with (repeatable). Without any, every bind is accepted.
    ///
    /// The ID ends at the first ':'. MAXBINDS, how many sessions of the account may be
    /// bound at once (default: --max-binds), is what follows the last ':' when there are
    /// at least two ':' and it is all digits; otherwise everything after the first ':' is
    /// the password. So esme:secret and esme:se:cret have no MAXBINDS, esme:secret:2 has
    /// 2; a password that itself ends in ':' and digits needs an explicit MAXBINDS
    /// (esme:pw:5:10 is password "pw:5", 10 binds).
    #[arg(
        long = "user",
        value_name = "ID:PASSWORD[:MAXBINDS]",
        value_parser = UserParser,
        allow_hyphen_values = true
    )]
    users: Vec<UserArg>,
    /// How many sessions of each --user may be bound at once, unless it gives its own
    /// MAXBINDS; a bind beyond that is refused with ESME_RBINDFAIL.
    #[arg(long, value_name = "N", default_value_t = User::new("", "").max_binds, value_parser = common::at_least_one_usize)]
    max_binds: usize,
    /// How many connections may be open at once (the transport's max_connections and
    /// max_sessions_per_listener); one past it is closed at once. The open-files limit is
    /// raised to its hard limit at start, with a warning if that is below N and some spare.
    #[arg(long, value_name = "N", default_value_t = smpp_transport_max_connections(), value_parser = common::at_least_one_usize)]
    max_connections: usize,
    /// How long after a submit its delivery receipt goes out, in milliseconds (see also
    /// --receipt-delay).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    receipt_delay_ms: u64,
    /// How long after a submit its final receipt goes out: fixed (2s, 250ms), uniform
    /// between two delays (1s..5s) or exponential with a mean, capped at ten times the
    /// mean or at cap= (exp:2s, exp:2s,cap=30s). Random delays are drawn from --seed.
    #[arg(
        long,
        value_name = "DELAY|MIN..MAX|exp:MEAN[,cap=MAX]",
        value_parser = parse_receipt_delay,
        conflicts_with = "receipt_delay_ms"
    )]
    receipt_delay: Option<ReceiptDelay>,
    /// Final receipt states drawn with these weights (DELIVRD=90,UNDELIV=7,EXPIRED=3:
    /// about 90 % delivered), from --seed. Default: all DELIVRD.
    #[arg(long, value_name = "STATE=WEIGHT,...", value_parser = parse_mix)]
    receipt_mix: Option<MixArg>,
    /// The seed of the random draws (--receipt-mix, --receipt-delay, --id-format uuid):
    /// the same seed and traffic give the same receipts.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Write message ids in hexadecimal (default: decimal; see also --id-format).
    #[arg(long, conflicts_with = "id_format")]
    hex_ids: bool,
    /// How message ids are written: decimal, hex (8 digits at least), uuid (random
    /// version-4 shaped, from --seed), padded-hex:N or padded-decimal:N (N digits at
    /// least).
    #[arg(long, value_name = "FORMAT", value_parser = parse_id_format)]
    id_format: Option<IdFormat>,
    /// Where receipts carry the id and state: text (the id:... stat:... text only), tlvs
    /// (receipted_message_id and message_state only, empty short_message) or both.
    #[arg(long, value_name = "text|tlvs|both", value_parser = parse_content, default_value = "both")]
    receipt_content: ReceiptContent,
    /// Send a submit's receipts at once, before its submit_sm_resp (a transceiver sees
    /// the receipt first); --receipt-delay does not apply.
    #[arg(long)]
    receipt_first: bool,
    /// Send receipts and MO messages as data_sm instead of deliver_sm (the text in
    /// message_payload).
    #[arg(long)]
    deliver_as_data_sm: bool,
    /// A submit_multi destination to refuse (answered in unsuccess_smes with
    /// ESME_RINVDSTADR while the others are served). Repeatable.
    #[arg(long, value_name = "ADDR")]
    refuse_destination: Vec<String>,
    /// Accept requests whose fields a real SMSC refuses (bad times, flags out of range,
    /// short_message with message_payload, ...), as load tests that send anything want.
    #[arg(long)]
    lenient: bool,
    /// Send an intermediate receipt (ENROUTE or ACCEPTD) right after accepting a message,
    /// before the final one: as a receipt (esm_class 0x04, whenever a final receipt is
    /// due; the default) or as a spec notification (:notification, esm_class 0x20, when
    /// registered_delivery asks for intermediate notifications).
    #[arg(long, value_name = "enroute|acceptd[:notification]", value_parser = parse_intermediate)]
    intermediate: Option<(ReceiptState, IntermediateStyle)>,
    /// Answer ESME_RTHROTTLED to submits above N per second, over all sessions.
    #[arg(long, value_name = "N")]
    max_rate: Option<u32>,
    /// Write every received PDU as a JSON line to FILE (bind passwords as ***).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Fault injection: answer every request MS milliseconds late.
    #[arg(long, value_name = "MS")]
    delay_ms: Option<u64>,
    /// Fault injection: never answer every N-th submit_sm (0: off).
    #[arg(long, value_name = "N")]
    drop_every: Option<u64>,
    /// Fault injection: close each connection after it sent N PDUs.
    #[arg(long, value_name = "N")]
    close_after: Option<u64>,
    /// Fault injection: write an invalid header to each connection after it sent N PDUs
    /// (the ESME loses framing).
    #[arg(long, value_name = "N")]
    garbage_after: Option<u64>,
    /// Send an MO (447700900123 -> 12345) every MS milliseconds to each bound receiver of
    /// every --user (or of each --mo-system-id).
    #[arg(long, value_name = "MS")]
    mo_every_ms: Option<u64>,
    /// The scheduled MO's text.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "Hello",
        allow_hyphen_values = true
    )]
    mo_text: String,
    /// Send the scheduled MO to this system_id instead of every --user's (repeatable).
    #[arg(long, value_name = "ID")]
    mo_system_id: Vec<String>,
    /// After N failed binds from one IP address within --failed-bind-window, refuse its
    /// binds (ESME_RBINDFAIL) without checking them (0: off).
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_failed_binds: u32,
    /// The window of --max-failed-binds, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = common::positive_seconds)]
    failed_bind_window: Duration,
    /// Print the counters (the SMSC's and its sessions': PDUs per command and status,
    /// timeouts, latency) every SECONDS.
    #[arg(long, value_name = "SECONDS", value_parser = common::positive_seconds)]
    stats_every: Option<Duration>,
    /// Stop after SECONDS (default: run until SIGINT/SIGTERM); the counters are printed
    /// once more on the way out.
    #[arg(long, value_name = "SECONDS", value_parser = common::positive_seconds)]
    duration: Option<Duration>,
    /// Print the counters as JSON lines.
    #[arg(long)]
    json: bool,
    /// Serve the counters in the Prometheus text format at http://ADDR/metrics until the
    /// SMSC stops (port 0: a free port; the second line printed ends with the URL).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
}

/// The transport's default connection limit, the default of `--max-connections`.
fn smpp_transport_max_connections() -> usize {
    SmscConfig::default().transport.max_connections
}

/// Prints the SMSC's counters and its sessions' counters; the error if stdout failed.
fn print_smsc_stats(smsc: &Smsc, json: bool) -> std::io::Result<()> {
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
    out::try_line(format_args!(
        "{}",
        stats::render("smsc", &session, &extra, json)
    ))
}

/// Shuts the SMSC down (which flushes its PDU log) and ends the process for the failed
/// stdout write `e` (see [`out`]).
fn stop_on(smsc: Smsc, e: &std::io::Error) -> ! {
    smsc.shutdown();
    out::exit_on(e)
}

/// Serves until `duration` passed, or until SIGINT/SIGTERM (without `duration`, forever);
/// prints the counters every `stats_every` and once at the end, and serves them at
/// `metrics` meanwhile. When stdout's reader goes away, shuts down and exits with
/// [`out::BROKEN_PIPE`].
fn serve(
    smsc: Smsc,
    metrics: Option<metrics::Endpoint>,
    stats_every: Option<Duration>,
    duration: Option<Duration>,
    json: bool,
) -> ExitCode {
    let served = std::thread::scope(|scope| {
        let server = metrics.map(|m| m.serve(scope, &smsc));
        let result = serve_until_stopped(&smsc, stats_every, duration, json);
        if let Some(server) = server {
            server.stop();
        }
        result
    });
    if let Err(e) = served {
        stop_on(smsc, &e);
    }
    smsc.shutdown();
    ExitCode::SUCCESS
}

/// The loop of [`serve`]; the error if stdout failed.
fn serve_until_stopped(
    smsc: &Smsc,
    stats_every: Option<Duration>,
    duration: Option<Duration>,
    json: bool,
) -> std::io::Result<()> {
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
                print_smsc_stats(smsc, json)?;
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
    print_smsc_stats(smsc, json)
}

/// Runs `smpp smsc`.
pub(crate) fn run(a: &SmscArgs) -> ExitCode {
    let mut config = SmscConfig::default()
        .addr(a.listen)
        .receipt_delay(Duration::from_millis(a.receipt_delay_ms));
    config.users = a.users.iter().map(|u| u.user(a.max_binds)).collect();
    if a.hex_ids {
        config.id_format = IdFormat::Hex;
    }
    if let Some(f) = a.id_format {
        config.id_format = f;
    }
    match a.receipt_delay {
        Some(ReceiptDelay::Fixed(d)) => config.receipt_delay = d,
        Some(dist) => config.receipt_delay_dist = Some(dist),
        None => {}
    }
    if let Some(mix) = &a.receipt_mix {
        config.state_mix.clone_from(&mix.0);
    }
    config.seed = a.seed;
    config.receipt_content = a.receipt_content;
    config.receipt_before_response = a.receipt_first;
    config.deliver_as_data_sm = a.deliver_as_data_sm;
    config
        .refused_destinations
        .clone_from(&a.refuse_destination);
    config.lenient = a.lenient;
    if let Some((state, style)) = &a.intermediate {
        config = config.intermediate_receipt(state.clone(), *style);
    }
    config.max_submits_per_second = a.max_rate;
    config.log_path.clone_from(&a.log);
    if let Some(ms) = a.delay_ms {
        config.response_delay = Duration::from_millis(ms);
    }
    config.drop_every = a.drop_every.filter(|n| *n > 0);
    config.close_after = a.close_after;
    config.garbage_after = a.garbage_after;
    config.max_failed_binds = a.max_failed_binds;
    config.transport.max_connections = a.max_connections;
    config.transport.max_sessions_per_listener = a.max_connections;
    crate::limits::prepare(a.max_connections);
    config.failed_bind_window = a.failed_bind_window;
    let mut mo_system_ids = a.mo_system_id.clone();
    let (stats_every, duration, json) = (a.stats_every, a.duration, a.json);
    let mo_every = a.mo_every_ms.map(|ms| ms.max(1));
    let mo_text = &a.mo_text;
    let (tls_cert, tls_key) = (&a.tls_cert, &a.tls_key);
    if let Some(ms) = mo_every {
        if mo_system_ids.is_empty() {
            mo_system_ids = config.users.iter().map(|u| u.system_id.clone()).collect();
        }
        if mo_system_ids.is_empty() {
            crate::usage_error("smsc", "--mo-every-ms needs a --user or --mo-system-id");
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
            let read = |path: &PathBuf| {
                std::fs::read(path)
                    .map_err(|e| format!("smpp smsc: cannot read {}: {e}", path.display()))
            };
            let loaded = read(cert).and_then(|c| Ok((c, read(key)?)));
            let configured = loaded.and_then(|(c, k)| {
                config.clone().tls(&c, &k).map_err(|e| {
                    format!(
                        "smpp smsc: --tls-cert {} --tls-key {}: {e}",
                        cert.display(),
                        key.display()
                    )
                })
            });
            let configured = configured.and_then(|mut c| {
                let Some(ca) = &a.tls_client_ca else {
                    return Ok(c);
                };
                let pem = read(ca)?;
                let server = c.tls.take().expect("set just above");
                c.tls =
                    Some(server.require_client_cert(&pem).map_err(|e| {
                        format!("smpp smsc: --tls-client-ca {}: {e}", ca.display())
                    })?);
                Ok(c)
            });
            match configured {
                Ok(c) => config = c,
                Err(msg) => {
                    errln!("{msg}");
                    return ExitCode::FAILURE;
                }
            }
        }
        (None, None) => {}
        _ => crate::usage_error("smsc", "--tls-cert and --tls-key go together"),
    }
    // Bound before the SMSC starts: a bad address fails at once, like a bad flag.
    let metrics = match a.metrics.map(metrics::Endpoint::bind).transpose() {
        Ok(m) => m,
        Err(e) => {
            let addr = a.metrics.map_or_else(String::new, |m| m.to_string());
            errln!("smpp smsc: --metrics {addr}: cannot listen: {e}");
            return ExitCode::from(2);
        }
    };
    let tls = if config.tls.is_some() {
        " with TLS"
    } else {
        ""
    };
    match Smsc::start(config) {
        Ok(smsc) => {
            // The address stays the last word (scripts take it from there).
            let addr = smsc.local_addr();
            if let Err(e) = out::try_line(format_args!("smpp-smsc listening{tls} on {addr}")) {
                stop_on(smsc, &e);
            }
            if let Some(m) = &metrics {
                let url = m
                    .local_addr()
                    .map_or_else(|e| format!("? ({e})"), |a| format!("http://{a}/metrics"));
                if let Err(e) = out::try_line(format_args!("smpp-smsc metrics at {url}")) {
                    stop_on(smsc, &e);
                }
            }
            serve(smsc, metrics, stats_every, duration, json)
        }
        Err(e) => {
            errln!("smpp smsc: cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use smpp_pdu::receipt::ReceiptState;
    use smpp_smsc::{IdFormat, ReceiptDelay};

    use super::{parse_id_format, parse_mix, parse_receipt_delay, parse_user, UserArg};

    #[test]
    fn receipt_flag_values() {
        let s = Duration::from_secs;
        assert_eq!(parse_receipt_delay("2s"), Ok(ReceiptDelay::Fixed(s(2))));
        assert_eq!(
            parse_receipt_delay("250ms"),
            Ok(ReceiptDelay::Fixed(Duration::from_millis(250)))
        );
        assert_eq!(
            parse_receipt_delay("1s..5s"),
            Ok(ReceiptDelay::Uniform {
                min: s(1),
                max: s(5)
            })
        );
        assert_eq!(
            parse_receipt_delay("exp:2s"),
            Ok(ReceiptDelay::Exponential {
                mean: s(2),
                cap: s(20)
            })
        );
        assert_eq!(
            parse_receipt_delay("exp:2s,cap=30s"),
            Ok(ReceiptDelay::Exponential {
                mean: s(2),
                cap: s(30)
            })
        );
        assert!(parse_receipt_delay("exp:2s,max=30s").is_err());
        assert_eq!(
            parse_mix("DELIVRD=90,undeliv=7,EXPIRED=3").map(|m| m.0),
            Ok(vec![
                (ReceiptState::Delivered, 90),
                (ReceiptState::Undeliverable, 7),
                (ReceiptState::Expired, 3)
            ])
        );
        assert_eq!(
            parse_id_format("padded-hex:10"),
            Ok(IdFormat::PaddedHex { width: 10 })
        );
        assert_eq!(parse_id_format("UUID"), Ok(IdFormat::Uuid));
    }
    use crate::common::Password;

    fn user(id: &str, pw: &str, max: Option<usize>) -> UserArg {
        UserArg {
            system_id: id.into(),
            password: Password(pw.into()),
            max_binds: max,
        }
    }

    #[test]
    fn user_splits_maxbinds_only_after_a_second_colon_and_digits() {
        assert_eq!(parse_user("esme:secret"), Ok(user("esme", "secret", None)));
        assert_eq!(parse_user("esme:12"), Ok(user("esme", "12", None)));
        assert_eq!(parse_user("esme:s:2"), Ok(user("esme", "s", Some(2))));
        assert_eq!(parse_user("esme:a:b:30"), Ok(user("esme", "a:b", Some(30))));
        assert_eq!(parse_user("esme:a:b"), Ok(user("esme", "a:b", None)));
        assert_eq!(parse_user("esme:a:"), Ok(user("esme", "a:", None)));
        assert_eq!(parse_user("esme::"), Ok(user("esme", ":", None)));
        assert_eq!(
            parse_user("esme:pw:5:10"),
            Ok(user("esme", "pw:5", Some(10)))
        );
        assert!(parse_user("esme").is_err());
        let e = parse_user("esme:secret:0").expect_err("0 binds");
        assert!(e.contains("MAXBINDS") && !e.contains("secret"), "{e}");
        let e = parse_user("esme:secret:99999999999999999999999").expect_err("too large");
        assert!(!e.contains("secret"), "{e}");
    }
}

//! `smpp send`: binds, submits a text to one or more destinations, prints the message ids
//! and, with `--wait-receipt`, the receipts and one report per message.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_client::{Error, Inbound, InboundKind, Outcome, OutgoingText, Report, Sent, TextOptions};
use smpp_pdu::address::{Npi, Ton};
use smpp_pdu::concat::SplitMethod;
use smpp_pdu::json::Object;
use smpp_pdu::text::Encoding;
use smpp_pdu::time::{RelativeTime, SmppTime};
use smpp_pdu::{Tag, Tlv};
use smpp_session::BindKind;

use clap::{Args, ValueEnum};

use crate::batch::{self, BadRow, Failure, Tally, Target};
use crate::common::{self, Connection};
use crate::out::{errln, outln};

/// How `send` binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SendBind {
    /// Transmitter: submits only, no receipts.
    Tx,
    /// Transceiver: submits, and receipts on the same session.
    Trx,
}

/// The text's encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum EncodingArg {
    /// GSM 7-bit when the text fits it, else UCS-2.
    Auto,
    /// The GSM 03.38 default alphabet.
    Gsm7,
    /// UCS-2 (UTF-16, big endian).
    Ucs2,
    /// ISO 8859-1.
    Latin1,
}

/// How a long text is split into segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SplitArg {
    /// A user data header with an 8-bit reference.
    Udh,
    /// A user data header with a 16-bit reference.
    Udh16,
    /// The sar_* TLVs.
    Sar,
    /// One submit_sm with the whole text in message_payload.
    Payload,
}

/// `smpp send`: submit a text to each --to and print the message ids (and, when
/// waiting, the receipts).
#[derive(Args, Debug)]
pub(crate) struct SendArgs {
    /// How to bind: tx (transmitter) or trx (transceiver, needed for --wait-receipt).
    #[arg(long, value_enum, default_value = "trx", value_name = "KIND")]
    bind: SendBind,
    /// The source address (default: empty, the SMSC's choice).
    #[arg(long, value_name = "ADDR")]
    from: Option<String>,
    /// A destination address (required; repeat it for several destinations, one submit
    /// each).
    #[arg(long, value_name = "ADDR")]
    to: Vec<String>,
    /// The text to send (required); split into segments when it is too long for one.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    text: Option<String>,
    /// The text's encoding; auto takes GSM 7-bit when the text fits it, else UCS-2.
    #[arg(long, value_enum, default_value = "auto", value_name = "ENCODING")]
    encoding: EncodingArg,
    /// How a long text is split: UDH with an 8- or 16-bit reference, SAR TLVs, or one
    /// PDU with message_payload.
    #[arg(long, value_enum, default_value = "udh", value_name = "METHOD")]
    split: SplitArg,
    /// Ask for delivery receipts (registered_delivery 1) without waiting for them.
    #[arg(long)]
    registered_delivery: bool,
    /// Wait up to SECONDS for every message's receipts, print them and one report per
    /// message (delivered, failed, ... with the worst state of its segments); exit 1,
    /// naming the messages, unless every message reached a final state in time. Implies
    /// --registered-delivery; needs --bind trx.
    #[arg(long, value_name = "SECONDS", value_parser = common::seconds)]
    wait_receipt: Option<Duration>,
    /// The message's reference, carried by its report (default: generated). With several
    /// --to, each message gets REF-1, REF-2, ... in --to order.
    #[arg(long = "ref", value_name = "REF")]
    reference: Option<String>,
    /// validity_period: a relative time (30s, 10m, 2h, 3d) or an SMPP time of 16
    /// characters (YYMMDDhhmmsstnnp, e.g. 261231235959000+ or 000001000000000R).
    #[arg(long, value_name = "TIME", value_parser = smpp_time)]
    validity: Option<SmppTime>,
    /// schedule_delivery_time, written as for --validity.
    #[arg(long, value_name = "TIME", value_parser = smpp_time)]
    schedule: Option<SmppTime>,
    /// priority_flag (0 lowest to 3; SMPP 5.0 allows 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=4))]
    priority: Option<u8>,
    /// service_type (at most 5 characters: CMT, WAP, ...).
    #[arg(long, value_name = "TYPE", value_parser = service_type)]
    service_type: Option<String>,
    /// protocol_id (GSM TP-PID).
    #[arg(long, value_name = "N")]
    protocol_id: Option<u8>,
    /// data_coding to send instead of the one --encoding maps to.
    #[arg(long, value_name = "N")]
    data_coding: Option<u8>,
    /// esm_class bits to set on every segment (decimal or 0x..).
    #[arg(long, value_name = "N", value_parser = byte)]
    esm_class: Option<u8>,
    /// Set replace_if_present_flag.
    #[arg(long)]
    replace_if_present: bool,
    /// TON of --from; with it (or --source-npi) the address goes exactly as given.
    /// Without both, the type is picked from the text: alphanumeric 5/0, +digits 1/1.
    #[arg(long, value_name = "N")]
    source_ton: Option<u8>,
    /// NPI of --from (see --source-ton).
    #[arg(long, value_name = "N")]
    source_npi: Option<u8>,
    /// TON of each --to (see --source-ton; digits default to 1/1).
    #[arg(long, value_name = "N")]
    dest_ton: Option<u8>,
    /// NPI of each --to.
    #[arg(long, value_name = "N")]
    dest_npi: Option<u8>,
    /// A TLV to add to every segment, TAG=HEX: the tag by name (user_message_reference)
    /// or number (0x1401, 5121), the value in hex. Repeatable.
    #[arg(long = "tlv", value_name = "TAG=HEX", value_parser = tlv)]
    tlvs: Vec<Tlv<'static>>,
    /// Print one JSON object per event (submitted, receipt, report, row_error, failed,
    /// error, and a closing summary) instead of text.
    #[arg(long)]
    json: bool,
    /// Send the messages of a CSV file instead of --to/--text: a header row naming the
    /// columns `to` and `text` (required) and `from` and `ref` (optional), in any order,
    /// then one message per row. The other options apply to every row; a row that cannot
    /// be sent is reported with its line number and the others go on.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["to", "text"])]
    file: Option<PathBuf>,
    /// Bind the pool of accounts a TOML file describes instead of one connection (see
    /// README.md); its errors exit 2 before any bind.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["addr", "system_id", "system_type", "password_file", "tls", "ca", "server_name", "store", "bind"]
    )]
    config: Option<PathBuf>,
    /// Use only this account of the configuration file, as a profile (`smpp send --smsc a
    /// --to ... --text ...`). Without --config the file is $SMPP_CONFIG, else
    /// ~/.config/smpp/smpp.toml.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["addr", "system_id", "system_type", "password_file", "tls", "ca", "server_name", "store", "bind"]
    )]
    smsc: Option<String>,
    /// Where to connect, as whom, and whether over TLS.
    #[command(flatten)]
    conn: Connection,
}

impl SendArgs {
    /// The configuration file, when --config or --smsc names one.
    fn profile(&self) -> Option<PathBuf> {
        batch::config_path(self.config.as_ref(), self.smsc.as_deref())
    }

    fn check(&self) -> Result<(), String> {
        if self.profile().is_none() {
            self.conn.check()?;
        }
        if self.file.is_none() && self.to.is_empty() {
            return Err("--to is required (or --file)".into());
        }
        if self.file.is_none() && self.text.is_none() {
            return Err("--text is required (or --file)".into());
        }
        if self.profile().is_none() && self.wait_receipt.is_some() && self.bind != SendBind::Trx {
            return Err(
                "--wait-receipt needs --bind trx (receipts come on the same session)".into(),
            );
        }
        Ok(())
    }

    fn kind(&self) -> BindKind {
        match self.bind {
            SendBind::Tx => BindKind::Transmitter,
            SendBind::Trx => BindKind::Transceiver,
        }
    }

    fn text_options(&self) -> TextOptions {
        TextOptions {
            registered_delivery: u8::from(self.registered_delivery || self.wait_receipt.is_some()),
            validity_period: self.validity,
            schedule_delivery_time: self.schedule,
            priority: self.priority.unwrap_or(0),
            service_type: self.service_type.clone().unwrap_or_default(),
            protocol_id: self.protocol_id.unwrap_or(0),
            data_coding: self.data_coding,
            esm_class: self.esm_class.unwrap_or(0),
            replace_if_present: self.replace_if_present,
            source_addr_ton: self.source_ton.map(Ton),
            source_addr_npi: self.source_npi.map(Npi),
            dest_addr_ton: self.dest_ton.map(Ton),
            dest_addr_npi: self.dest_npi.map(Npi),
            tlvs: self.tlvs.clone(),
            // The tracker reports a message expired when its receipts miss the wait.
            report_timeout: self.wait_receipt,
            encoding: match self.encoding {
                EncodingArg::Auto => None,
                EncodingArg::Gsm7 => Some(Encoding::Gsm7),
                EncodingArg::Ucs2 => Some(Encoding::Ucs2),
                EncodingArg::Latin1 => Some(Encoding::Latin1),
            },
            split: match self.split {
                SplitArg::Udh => SplitMethod::Udh8,
                SplitArg::Udh16 => SplitMethod::Udh16,
                SplitArg::Sar => SplitMethod::Sar,
                SplitArg::Payload => SplitMethod::Payload,
            },
            ..TextOptions::default()
        }
    }
}

/// Runs `smpp send`.
pub(crate) fn run(o: &SendArgs) -> ExitCode {
    if let Err(e) = o.check() {
        crate::usage_error("send", &e);
    }
    match send(o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(f) => {
            let (code, msg) = match f {
                Failure::Config(m) => (2, m),
                Failure::Run(m) => (1, m),
            };
            error_event(o, &msg);
            ExitCode::from(code)
        }
    }
}

/// An error: on stderr, and with --json as `{"event":"error",...}`.
fn error_event(o: &SendArgs, msg: &str) {
    if o.json {
        let mut j = Object::new();
        j.str("event", "error").str("message", msg);
        outln!("{}", j.finish());
    }
    errln!("smpp send: {msg}");
}

/// The messages to send, with their --file lines, and the --file rows that cannot be
/// sent.
struct Batch {
    texts: Vec<OutgoingText>,
    /// The --file line of each of `texts` (`None` for --to).
    lines: Vec<Option<u64>>,
    bad: Vec<BadRow>,
}

fn messages(o: &SendArgs) -> Result<Batch, Failure> {
    let from = o.from.clone().unwrap_or_default();
    let (mut texts, mut lines) = (Vec::new(), Vec::new());
    let Some(path) = &o.file else {
        let text = o.text.clone().unwrap_or_default();
        for (n, to) in o.to.iter().enumerate() {
            let mut options = o.text_options();
            options.reference = o.reference.as_ref().map(|r| match o.to.len() {
                1 => r.clone(),
                _ => format!("{r}-{}", n + 1),
            });
            texts.push(OutgoingText::new(from.clone(), to.clone(), text.clone()).options(options));
            lines.push(None);
        }
        return Ok(Batch {
            texts,
            lines,
            bad: Vec::new(),
        });
    };
    let (rows, bad) = batch::read_rows(path)?;
    for row in rows {
        let mut options = o.text_options();
        // A row without its own reference gets REF-LINE from --ref (else a generated one).
        options.reference = row
            .reference
            .or_else(|| o.reference.as_ref().map(|r| format!("{r}-{}", row.line)));
        let from = row.from.unwrap_or_else(|| from.clone());
        texts.push(OutgoingText::new(from, row.to, row.text).options(options));
        lines.push(Some(row.line));
    }
    Ok(Batch { texts, lines, bad })
}

/// Binds: the pool of --config, or one client (to the embedded SMSC without --addr).
fn connect(o: &SendArgs) -> Result<Target, Failure> {
    if let Some(path) = o.profile() {
        let config = batch::load_config(&path, o.smsc.as_deref(), true, o.wait_receipt.is_some())?;
        return Ok(Target::Pool(Box::new(batch::open_pool(&config)?)));
    }
    let (addr, smsc) = o.conn.resolve(Duration::from_millis(200))?;
    let mut config = o.conn.config(o.kind())?;
    if let Some(wait) = o.wait_receipt {
        config = config.report_timeout(wait);
    }
    let window = config.session.window;
    let client = common::connect(addr, config)?;
    Ok(Target::Client {
        client,
        window,
        smsc: smsc.map(Box::new),
    })
}

/// Sends every message, waits for their reports with --wait-receipt, and prints the
/// summary; whether every message was submitted (and reported in time).
fn send(o: &SendArgs) -> Result<bool, Failure> {
    let Batch { texts, lines, bad } = messages(o)?;
    let target = connect(o)?;
    let mut tally = Tally {
        messages: (texts.len() + bad.len()) as u64,
        failed: bad.len() as u64,
        ..Tally::default()
    };
    let bar = batch::progress_bar(tally.messages, o.json);
    for (line, why) in &bad {
        batch::above(&bar, || row_error(o, *line, why));
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    let dests: Vec<String> = texts.iter().map(|t| t.to.clone()).collect();
    // Reference -> destination, of the messages whose report is awaited.
    let mut awaited: BTreeMap<String, String> = BTreeMap::new();
    // What came in while sending, handled once everything went out.
    let mut early: Vec<Inbound> = Vec::new();
    let mut on_result = |k: usize, r: &Result<Sent, Error>| {
        if let Some(b) = &bar {
            b.inc(1);
        }
        let (line, to) = (lines[k], dests[k].as_str());
        let sent = match r {
            Ok(s) => Some(s),
            Err(Error::NotDurable(s, e)) => {
                errln!("smpp send: {to}: {e}");
                Some(&**s)
            }
            Err(_) => None,
        };
        match (sent, r) {
            (Some(sent), _) => {
                tally.submitted += 1;
                batch::above(&bar, || submitted(o, line, to, sent));
                if o.wait_receipt.is_some() {
                    let reference = sent.reference.clone().unwrap_or_default();
                    awaited.insert(reference, to.to_string());
                }
            }
            (None, Err(e)) => match line {
                Some(line) if batch::is_row_error(e) => {
                    tally.failed += 1;
                    batch::above(&bar, || row_error(o, line, &e.to_string()));
                }
                _ => {
                    let unknown = batch::is_unknown(e);
                    if unknown {
                        tally.unknown += 1;
                    } else {
                        tally.failed += 1;
                    }
                    batch::above(&bar, || failed(o, line, to, e, unknown));
                }
            },
            (None, Ok(_)) => {}
        }
        while let Ok(i) = target.inbound().try_recv() {
            early.push(i);
        }
    };
    if o.file.is_some() {
        target.send_many(texts, &mut on_result);
    } else {
        for (k, t) in texts.iter().enumerate() {
            let r = target.send_text(&t.from, &t.to, &t.text, &t.options);
            on_result(k, &r);
        }
    }
    let mut ok = true;
    if let Some(wait) = o.wait_receipt {
        let total = awaited.len();
        let mut unfinished = Vec::new();
        let mut handle =
            |inbound: Inbound, awaited: &mut BTreeMap<String, String>| match inbound.kind() {
                InboundKind::Receipt { receipt: r, .. } => {
                    batch::above(&bar, || receipt(o, r));
                }
                InboundKind::Report(report) => {
                    let Some(to) = awaited.remove(&report.reference) else {
                        return;
                    };
                    if report.outcome == Outcome::Expired {
                        unfinished.push(report.reference.clone());
                    } else if let Some(state) = &report.state {
                        *tally.receipts.entry(state.stat().to_string()).or_default() += 1;
                    }
                    if let Some(b) = &bar {
                        b.set_message(format!("reports {}/{total}", total - awaited.len()));
                    }
                    batch::above(&bar, || {
                        if o.json {
                            outln!("{}", report_json(report, &to));
                        } else {
                            outln!("{}", report_line(report, &to));
                        }
                    });
                }
                _ => {}
            };
        for i in early {
            handle(i, &mut awaited);
        }
        // The tracker reports each message by `wait` (expired if its receipts did not all
        // come); a margin covers the dispatcher's wake-up.
        let end = Instant::now() + wait + Duration::from_secs(2);
        while !awaited.is_empty() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if let Ok(inbound) = target.inbound().recv_timeout(left) {
                handle(inbound, &mut awaited);
            }
        }
        unfinished.extend(awaited.keys().cloned());
        if !unfinished.is_empty() {
            ok = false;
            batch::above(&bar, || {
                error_event(
                    o,
                    &format!(
                        "no final state within {:.1} s for message(s) {}",
                        wait.as_secs_f64(),
                        unfinished.join(", ")
                    ),
                )
            });
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Err(e) = target.finish() {
        ok = false;
        error_event(o, &e);
    }
    if o.json {
        outln!("{}", tally.json());
    } else {
        outln!("{}", tally.line());
    }
    Ok(ok && tally.submitted == tally.messages)
}

/// `submitted to TO: message id(s) ... (reference R)`, or its JSON event.
fn submitted(o: &SendArgs, line: Option<u64>, to: &str, sent: &Sent) {
    let reference = sent.reference.clone().unwrap_or_default();
    if o.json {
        let mut j = Object::new();
        j.str("event", "submitted");
        if let Some(line) = line {
            j.num("line", line);
        }
        j.str("to", to)
            .str("reference", &reference)
            .num("segments", sent.len() as u64)
            .raw("message_ids", &common::str_array(sent));
        outln!("{}", j.finish());
    } else {
        outln!(
            "submitted to {to}: message id(s) {} (reference {reference})",
            sent.join(", ")
        );
    }
}

/// A --file row that cannot be sent: `line 7: destination address: ...` on stderr, and
/// with --json `{"event":"row_error","line":7,"error":"..."}`.
fn row_error(o: &SendArgs, line: u64, why: &str) {
    if o.json {
        let mut j = Object::new();
        j.str("event", "row_error")
            .num("line", line)
            .str("error", why);
        outln!("{}", j.finish());
    }
    errln!("line {line}: {why}");
}

/// A message the SMSC refused, or whose fate is unknown (`unknown`).
fn failed(o: &SendArgs, line: Option<u64>, to: &str, e: &Error, unknown: bool) {
    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    if o.json {
        let mut j = Object::new();
        j.str("event", "failed");
        if let Some(line) = line {
            j.num("line", line);
        }
        j.str("to", to)
            .str("outcome", if unknown { "unknown" } else { "failed" })
            .str("error", &e.to_string());
        outln!("{}", j.finish());
    }
    let what = if unknown { " (outcome unknown)" } else { "" };
    errln!("smpp send: {at}submit to {to} failed{what}: {e}");
}

/// A receipt, as a line or a JSON event.
fn receipt(o: &SendArgs, r: &smpp_pdu::receipt::Receipt) {
    if o.json {
        let mut j = Object::new();
        j.str("event", "receipt")
            .str("message_id", &r.id)
            .str("stat", r.state.stat());
        if let Some(raw) = &r.stat_raw {
            j.str("stat_raw", raw);
        }
        if let Some(err) = &r.err {
            j.str("err", err);
        }
        outln!("{}", j.finish());
    } else {
        outln!("receipt for message id {}: {}", r.id, r.state.stat());
    }
}

/// `report   R to TO: delivered (DELIVRD), 3 segment(s), message id(s) 1, 2, 3`.
pub(crate) fn report_line(r: &Report, to: &str) -> String {
    let ids: Vec<&str> = r.message_ids().collect();
    let mut line = format!(
        "report   {} to {to}: {}{}, {} segment(s), message id(s) {}",
        r.reference,
        r.outcome,
        r.state
            .as_ref()
            .map(|s| format!(" ({})", s.stat()))
            .unwrap_or_default(),
        r.segments.len(),
        ids.join(", ")
    );
    if let Some((i, s)) = r.first_failure() {
        line.push_str(&format!("; segment {} {}", i + 1, segment_state(&s.state)));
    }
    line
}

/// A segment's state as one word or two (`DELIVRD`, `refused ESME_RINVDSTADR`, ...).
fn segment_state(s: &smpp_client::SegmentState) -> String {
    use smpp_client::SegmentState as S;
    match s {
        S::Sending => "unanswered".into(),
        S::Submitted => "without a final receipt".into(),
        S::Refused(status) => format!("refused {status}"),
        S::Unknown(why) => format!("outcome unknown ({})", why.as_str()),
        S::NotSent => "not sent".into(),
        S::Final(state) => state.stat().to_string(),
        _ => "in an unknown state".into(),
    }
}

/// `{"event":"report","reference":...,"outcome":...,"state":...,"message_ids":[...],...}`.
pub(crate) fn report_json(r: &Report, to: &str) -> String {
    let mut j = Object::new();
    j.str("event", "report")
        .str("reference", &r.reference)
        .str("to", to)
        .str("outcome", r.outcome.as_str());
    match &r.state {
        Some(s) => j.str("state", s.stat()),
        None => j.raw("state", "null"),
    };
    let ids: Vec<&str> = r.message_ids().collect();
    j.raw("message_ids", &common::str_array(&ids))
        .num("segments", r.segments.len() as u64);
    let states: Vec<String> = r.segments.iter().map(|s| segment_state(&s.state)).collect();
    j.raw("segment_states", &common::str_array(&states));
    let errs: Vec<String> = r
        .segments
        .iter()
        .map(|s| {
            s.receipt
                .as_ref()
                .and_then(|x| x.err.clone())
                .unwrap_or_default()
        })
        .collect();
    j.raw("segment_errors", &common::str_array(&errs));
    let date = |d: &Option<smpp_pdu::receipt::ReceiptDate>| d.map(|d| d.to_string());
    match date(&r.submit_date) {
        Some(d) => j.str("submit_date", &d),
        None => j.raw("submit_date", "null"),
    };
    match date(&r.done_date) {
        Some(d) => j.str("done_date", &d),
        None => j.raw("done_date", "null"),
    };
    j.num("elapsed_ms", r.elapsed.as_millis() as u64);
    j.finish()
}

/// A value parser for --validity and --schedule: `30s`, `10m`, `2h`, `3d` (relative), or
/// a 16-character SMPP time.
fn smpp_time(v: &str) -> Result<SmppTime, String> {
    if v.len() == 16 {
        return match SmppTime::parse(v.as_bytes()) {
            Ok(Some(t)) => Ok(t),
            Ok(None) => Err("an empty time".into()),
            Err(e) => Err(e.to_string()),
        };
    }
    let (num, unit) = v.split_at(v.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len());
    let n: u64 = num
        .parse()
        .map_err(|_| "expected 30s, 10m, 2h, 3d or a 16-character SMPP time".to_string())?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        other => return Err(format!("unknown unit {other:?}: use s, m, h or d")),
    };
    RelativeTime::from_seconds(secs)
        .map(SmppTime::Relative)
        .ok_or_else(|| "longer than a relative SMPP time holds (99 years)".into())
}

/// A value parser for --service-type: at most 5 characters.
fn service_type(v: &str) -> Result<String, String> {
    if v.len() > 5 {
        return Err("at most 5 characters".into());
    }
    Ok(v.to_string())
}

/// A value parser for an octet in decimal or `0x` hexadecimal.
fn byte(v: &str) -> Result<u8, String> {
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u8::from_str_radix(h, 16),
        None => v.parse(),
    };
    parsed.map_err(|e| e.to_string())
}

/// A value parser for --tlv TAG=HEX.
fn tlv(v: &str) -> Result<Tlv<'static>, String> {
    let (tag, hex) = v
        .split_once('=')
        .ok_or_else(|| "expected TAG=HEX (user_message_reference=002a, 0x1401=ff)".to_string())?;
    let tag = match tag.strip_prefix("0x").or_else(|| tag.strip_prefix("0X")) {
        Some(h) => u16::from_str_radix(h, 16)
            .map(Tag)
            .map_err(|e| e.to_string())?,
        None => match tag.parse::<u16>() {
            Ok(n) => Tag(n),
            Err(_) => Tag::from_name(tag).ok_or_else(|| format!("unknown TLV name {tag:?}"))?,
        },
    };
    if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("the value {hex:?} is not hex octets"));
    }
    let value: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0))
        .collect();
    if value.len() > usize::from(u16::MAX) {
        return Err("the value is longer than a TLV holds".into());
    }
    Ok(Tlv::decode(tag, &value).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_tlvs_and_bytes_parse() {
        assert_eq!(
            smpp_time("10m").unwrap(),
            SmppTime::Relative(RelativeTime::from_seconds(600).unwrap())
        );
        assert!(smpp_time("261231235959000+").is_ok());
        assert!(smpp_time("10y").unwrap_err().contains("unknown unit"));
        assert!(smpp_time("soon").is_err());
        assert_eq!(byte("0x40").unwrap(), 0x40);
        assert_eq!(byte("3").unwrap(), 3);
        assert!(byte("300").is_err());
        assert_eq!(tlv("0x1401=ff").unwrap().tag(), Tag(0x1401));
        assert_eq!(
            tlv("user_message_reference=002a").unwrap(),
            Tlv::UserMessageReference(42)
        );
        assert!(tlv("user_message_reference=2a2").is_err());
        assert!(tlv("nonsense=00").unwrap_err().contains("unknown TLV name"));
        assert!(tlv("0x1401").is_err());
    }
}

//! `smpp listen`: binds as receiver (or transceiver) and prints MO messages and delivery
//! receipts until `--count` arrived or `--timeout` passed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_client::{Inbound, InboundKind, Incomplete, Message, ReceiptMatch};
use smpp_pdu::json::{self, Object};
use smpp_pdu::receipt::Receipt;
use smpp_pdu::{Body, Pdu};
use smpp_session::BindKind;

use clap::{Args, ValueEnum};
use crossbeam_channel::Receiver;

use crate::batch::{self, Failure};
use crate::common::{self, Connection};
use crate::out::{errln, outln, state_tone, tinted, Tone};
use crate::send::report_tone;

/// How `listen` binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListenBind {
    /// Receiver.
    Rx,
    /// Transceiver.
    Trx,
}

/// `smpp listen`: bind and print MO messages and delivery receipts.
#[derive(Args, Debug)]
pub(crate) struct ListenArgs {
    /// How to bind: rx (receiver) or trx (transceiver).
    #[arg(long, value_enum, default_value = "rx", value_name = "KIND")]
    bind: ListenBind,
    /// Stop (exit 0) after N messages: MO messages, reports, and receipts that match no
    /// tracked message (with --store, the receipts of a tracked message count once, as
    /// its report). Default: no limit.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Stop (exit 0) after SECONDS, with what arrived (default: no limit).
    #[arg(long, value_name = "SECONDS", value_parser = common::seconds)]
    timeout: Option<Duration>,
    /// One JSON object per message (the PDU's fields, the decoded text, a receipt
    /// object) instead of a line of text.
    #[arg(long)]
    json: bool,
    /// Bind every bind of the pool of accounts a TOML file describes (see README.md)
    /// instead of one connection, and print what comes in on any of them. Some account
    /// must be able to receive (bind rx, trx or tx+rx); its errors exit 2 before any bind.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["addr", "system_id", "system_type", "password_file", "tls", "ca", "server_name", "store", "bind", "interface_version", "response_timeout"]
    )]
    config: Option<PathBuf>,
    /// Use only this account of the configuration file, as a profile (`smpp send --smsc a
    /// --to ... --text ...`). Without --config the file is $SMPP_CONFIG, else
    /// ~/.config/smpp/smpp.toml.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["addr", "system_id", "system_type", "password_file", "tls", "ca", "server_name", "store", "bind", "interface_version", "response_timeout"]
    )]
    smsc: Option<String>,
    /// Reconnect (with backoff) when the connection drops, and keep listening.
    #[arg(long)]
    reconnect: bool,
    /// Also append one JSON object per message to FILE (the terminal keeps the readable
    /// lines), and print a count of what came on stderr at the end.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Where to connect, as whom, and whether over TLS.
    #[command(flatten)]
    conn: Connection,
}

impl ListenArgs {
    /// The configuration file, when --config or --smsc names one.
    fn profile(&self) -> Option<PathBuf> {
        batch::config_path(self.config.as_ref(), self.smsc.as_deref())
    }

    fn check(&self) -> Result<(), String> {
        if self.profile().is_some() {
            return Ok(());
        }
        if self.conn.addr.is_none() {
            return Err("--addr is required (or --config)".into());
        }
        self.conn.check()
    }

    fn kind(&self) -> BindKind {
        match self.bind {
            ListenBind::Rx => BindKind::Receiver,
            ListenBind::Trx => BindKind::Transceiver,
        }
    }
}

/// Runs `smpp listen`.
pub(crate) fn run(o: &ListenArgs) -> ExitCode {
    if let Err(e) = o.check() {
        crate::usage_error("listen", &e);
    }
    let result = match o.profile() {
        Some(path) => listen_pool(o, &path),
        None => listen(o).map_err(Failure::Run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(msg)) => {
            errln!("smpp listen: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Run(msg)) => {
            errln!("smpp listen: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `listen --config`: every bind of the pool, what comes in on any of them.
fn listen_pool(o: &ListenArgs, path: &Path) -> Result<(), Failure> {
    let config = batch::load_config(path, o.smsc.as_deref(), false, true)?;
    let pool = batch::open_pool(&config)?;
    if !o.json {
        let names: Vec<&str> = config.smsc.iter().map(|a| a.name.as_str()).collect();
        errln!("listening on the pool of {}", names.join(", "));
    }
    let result = print_inbound(o, pool.inbound());
    pool.close();
    result.map_err(Failure::Run)
}

fn listen(o: &ListenArgs) -> Result<(), String> {
    let (addr, _) = o.conn.resolve(Duration::ZERO)?;
    let mut config = o.conn.config(o.kind())?;
    // Nothing is submitted here, so without a store a receipt that matches nothing now
    // never will: say so on its own line at once rather than hold it for a response that
    // cannot come. With a store it is held while the store is asked.
    if config.store.is_none() {
        config.lifecycle.tracker.early_receipt_hold = Duration::ZERO;
    }
    if o.reconnect {
        config = config.reconnect(smpp_client::Backoff::default());
    }
    let client = common::connect(addr, config)?;
    if !o.json {
        errln!("listening on {addr}");
    }
    print_inbound(o, client.inbound())?;
    client
        .unbind()
        .map(|_| ())
        .map_err(|e| format!("unbind failed: {e}"))
}

/// Prints what comes on `inbound` until --count arrived or --timeout passed: readable
/// lines (with the time, in colour on a terminal unless NO_COLOR is set) or JSON, and with
/// --output the JSON to a file as well.
fn print_inbound(o: &ListenArgs, rx: &Receiver<Inbound>) -> Result<(), String> {
    let end = o.timeout.map(|t| Instant::now() + t);
    let mut seen = 0u64;
    let mut file = match &o.output {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("--output {}: {e}", p.display()))?,
        )),
        None => None,
    };
    let mut tally: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let result = loop {
        if o.count.is_some_and(|c| seen >= c) {
            break Ok(());
        }
        let inbound = match end {
            Some(end) => {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break Ok(());
                }
                match rx.recv_timeout(left) {
                    Ok(i) => i,
                    Err(e) if e.is_timeout() => break Ok(()),
                    Err(_) => break Err("the connection closed".to_string()),
                }
            }
            None => match rx.recv() {
                Ok(i) => i,
                Err(_) => break Err("the connection closed".to_string()),
            },
        };
        let Some((line, json, counts)) = render(&inbound) else {
            continue;
        };
        if counts {
            seen += 1;
        }
        *tally.entry(kind_word(&inbound)).or_default() += 1;
        if let Some(f) = file.as_mut() {
            use std::io::Write;
            writeln!(f, "{json}")
                .and_then(|()| f.flush())
                .map_err(|e| format!("--output: {e}"))?;
        }
        if o.json {
            outln!("{json}");
        } else {
            let when = crate::out::clock_utc();
            outln!("{when} {}", tinted(tone(&inbound), line));
        }
    };
    if o.output.is_some() {
        let parts: Vec<String> = tally.iter().map(|(k, n)| format!("{n} {k}")).collect();
        errln!(
            "{} item(s){}{}",
            tally.values().sum::<u64>(),
            if parts.is_empty() { "" } else { ": " },
            parts.join(", ")
        );
    }
    result
}

/// What an inbound item is, in a word (for the --output tally).
fn kind_word(i: &Inbound) -> &'static str {
    match i.kind() {
        InboundKind::Receipt { .. } => "receipt(s)",
        InboundKind::Message { .. } => "MO message(s)",
        InboundKind::Report(_) => "report(s)",
        InboundKind::Incomplete(_) => "incomplete message(s)",
        _ => "other PDU(s)",
    }
}

/// The tone of an inbound item's line: MO incoming, receipts and reports by their state.
fn tone(i: &Inbound) -> Tone {
    match i.kind() {
        InboundKind::Message { .. } => Tone::Incoming,
        InboundKind::Receipt { receipt, .. } => state_tone(&receipt.state),
        InboundKind::Report(r) => report_tone(r),
        _ => Tone::Pending,
    }
}

/// The text line and the JSON object for an inbound item, and whether it counts towards
/// --count: MO messages, reports, and receipts that match no tracked message count; a
/// receipt matched (or held while the store is asked) counts with its message's report;
/// given-up messages do not count. `None`
/// for what listen does not print: an unmatched-receipt note (the receipt's own line says
/// it matched nothing) and intermediate progress (its receipt line shows it).
fn render(i: &Inbound) -> Option<(String, String, bool)> {
    match i.kind() {
        InboundKind::Receipt {
            pdu,
            receipt,
            matched,
        } => Some((
            receipt_line(pdu, receipt, matched),
            receipt_event(pdu, matched),
            // A receipt of a tracked message counts with the message's report.
            !matches!(matched, ReceiptMatch::Held | ReceiptMatch::Matched { .. }),
        )),
        InboundKind::Message { message, pdu } => {
            Some((mo_line(message), mo_json(message, pdu.as_ref()), true))
        }
        InboundKind::Pdu { pdu, text } => Some((
            {
                let (from, to) = addresses(&pdu.body);
                format!(
                    "{:<8} from {from} to {to}: {:?}",
                    pdu.command_id().snake_name().unwrap_or("pdu"),
                    text.as_deref().unwrap_or("")
                )
            },
            {
                let mut o = Object::new();
                o.str("event", "pdu");
                json::header_members(&mut o, pdu);
                json::body_members(&mut o, &pdu.body);
                match text {
                    Some(t) => o.str("text", t),
                    None => o.raw("text", "null"),
                };
                o.finish()
            },
            true,
        )),
        InboundKind::Report(r) => Some((
            crate::send::report_line(r, ""),
            crate::send::report_json(r, ""),
            true,
        )),
        InboundKind::Incomplete(m) => Some((incomplete_line(m), incomplete_json(m), false)),
        _ => None,
    }
}

fn addresses(body: &Body<'static>) -> (String, String) {
    match body {
        Body::DeliverSm(d) => (
            d.source_addr.to_str_lossy().into_owned(),
            d.destination_addr.to_str_lossy().into_owned(),
        ),
        Body::DataSm(d) => (
            d.source_addr.to_str_lossy().into_owned(),
            d.destination_addr.to_str_lossy().into_owned(),
        ),
        _ => (String::new(), String::new()),
    }
}

/// What the tracker made of a receipt, in a word, and the reference it matched.
fn match_of(m: &ReceiptMatch) -> (&'static str, Option<&str>) {
    match m {
        ReceiptMatch::Matched { reference, .. } => ("matched", Some(reference)),
        ReceiptMatch::Held => ("held", None),
        ReceiptMatch::Duplicate => ("duplicate", None),
        ReceiptMatch::Unmatched(_) => ("unmatched", None),
        _ => ("untracked", None),
    }
}

fn receipt_line(pdu: &Pdu<'static>, r: &Receipt, m: &ReceiptMatch) -> String {
    let (from, to) = addresses(&pdu.body);
    let (how, reference) = match_of(m);
    format!(
        "receipt  from {from} to {to}: message id {} is {}{}{}",
        r.id,
        r.state.stat(),
        r.err
            .as_ref()
            .map(|e| format!(" (err {e})"))
            .unwrap_or_default(),
        match reference {
            Some(reference) => format!(", reference {reference}"),
            None => format!(", {how}"),
        }
    )
}

fn mo_line(m: &Message) -> String {
    let segments = match m.segments {
        1 => String::new(),
        n => format!(" ({n} segments)"),
    };
    format!(
        "MO       from {} to {}: {:?}{segments}",
        m.source.addr,
        m.destination.addr,
        m.text.as_deref().unwrap_or("")
    )
}

fn incomplete_line(m: &Incomplete) -> String {
    format!(
        "partial  from {} to {}: {} of {} segments came ({:?}): {:?}",
        m.source.addr,
        m.destination.addr,
        m.received.len(),
        m.total,
        m.reason,
        m.text.as_deref().unwrap_or("")
    )
}

/// A receipt: the PDU's fields, `text`, the parsed `receipt` (the codec's, once), and what
/// the tracker made of it (`matched`: matched, held, duplicate or unmatched; `reference`
/// when matched).
pub(crate) fn receipt_event(pdu: &Pdu<'static>, m: &ReceiptMatch) -> String {
    let mut o = Object::new();
    o.str("event", "receipt");
    json::header_members(&mut o, pdu);
    json::body_members(&mut o, &pdu.body);
    let (how, reference) = match_of(m);
    o.str("matched", how);
    match reference {
        Some(r) => o.str("reference", r),
        None => o.raw("reference", "null"),
    };
    o.finish()
}

/// A whole MO message: addresses, `data_coding`, `text`, `segments`; when one PDU carried
/// it, that PDU's fields too.
fn mo_json(m: &Message, pdu: Option<&Pdu<'static>>) -> String {
    let mut o = Object::new();
    o.str("event", "mo");
    match pdu {
        Some(pdu) => {
            json::header_members(&mut o, pdu);
            json::body_members(&mut o, &pdu.body);
        }
        None => {
            o.num("source_addr_ton", u64::from(m.source.ton))
                .num("source_addr_npi", u64::from(m.source.npi))
                .str("source_addr", &m.source.addr)
                .num("dest_addr_ton", u64::from(m.destination.ton))
                .num("dest_addr_npi", u64::from(m.destination.npi))
                .str("destination_addr", &m.destination.addr)
                .num("data_coding", u64::from(m.data_coding));
        }
    }
    match &m.text {
        Some(t) => o.str("text", t),
        None => o.raw("text", "null"),
    };
    o.num("segments", u64::from(m.segments));
    if let Some(r) = m.concat_reference {
        o.num("concat_reference", u64::from(r));
    }
    o.finish()
}

fn incomplete_json(m: &Incomplete) -> String {
    let mut o = Object::new();
    o.str("event", "incomplete")
        .str("source_addr", &m.source.addr)
        .str("destination_addr", &m.destination.addr)
        .num("total", u64::from(m.total))
        .num("concat_reference", u64::from(m.concat_reference));
    let got: Vec<String> = m.received.iter().map(|(n, _)| n.to_string()).collect();
    o.raw("received", &format!("[{}]", got.join(",")));
    match &m.text {
        Some(t) => o.str("text", t),
        None => o.raw("text", "null"),
    };
    o.str(
        "reason",
        match m.reason {
            smpp_pdu::concat::GiveUpReason::TimedOut => "timed_out",
            smpp_pdu::concat::GiveUpReason::Evicted => "evicted",
        },
    );
    o.finish()
}

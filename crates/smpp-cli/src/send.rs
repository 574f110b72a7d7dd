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
use smpp_pdu::text::{self, TextConfig};
use smpp_pdu::SubmitSm;
use smpp_session::BindKind;

use clap::{Args, ValueEnum};

use crate::batch::{self, BadRow, Failure, Tally, Target};
use crate::common::{self, Connection};
use crate::fields::{self, PduFields, StoreFields};
use crate::out::{errln, outln, state_tone, tinted, Tone};

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
    /// Send these octets (hex) as the message body as is, instead of --text: one
    /// segment, data_coding 4 (binary) unless --data-coding says otherwise.
    #[arg(
        long,
        value_name = "HEX",
        value_parser = fields::octets,
        conflicts_with_all = ["text", "file", "config", "smsc"]
    )]
    hex: Option<fields::Octets>,
    /// A user data header (hex, its length octet first: 050003cc0201) to put in front of
    /// the --text or --hex body; sets esm_class 0x40 (UDHI). The whole must fit in one
    /// segment (140 octets).
    #[arg(
        long,
        value_name = "HEX",
        value_parser = fields::udh,
        conflicts_with_all = ["file", "config", "smsc"]
    )]
    udh: Option<fields::Octets>,
    #[command(flatten)]
    pdu: PduFields,
    #[command(flatten)]
    stored: StoreFields,
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
        if self.udh.is_some() && self.text.is_none() && self.hex.is_none() {
            return Err("--udh needs --text or --hex".into());
        }
        if self.file.is_none() && self.text.is_none() && self.hex.is_none() {
            return Err("--text is required (or --hex, or --file)".into());
        }
        if self.profile().is_none() && self.wait_receipt.is_some() && self.bind != SendBind::Trx {
            return Err(
                "--wait-receipt needs --bind trx (receipts come on the same session)".into(),
            );
        }
        Ok(())
    }

    /// With --hex or --udh: the one segment's short_message, data_coding and esm_class;
    /// an error naming the flag when it does not fit one segment.
    fn raw_body(&self) -> Result<Option<(Vec<u8>, u8, u8)>, String> {
        if self.hex.is_none() && self.udh.is_none() {
            return Ok(None);
        }
        let udh = self.udh.clone().map(|u| u.0).unwrap_or_default();
        let (body, data_coding, septets) = match (&self.hex, &self.text) {
            (Some(hex), _) => (hex.0.clone(), self.pdu.data_coding.unwrap_or(4), false),
            (None, Some(t)) => {
                let config = TextConfig::default();
                let encoding = match self.encoding {
                    EncodingArg::Auto => text::choose(t, &config),
                    EncodingArg::Gsm7 => Encoding::Gsm7,
                    EncodingArg::Ucs2 => Encoding::Ucs2,
                    EncodingArg::Latin1 => Encoding::Latin1,
                };
                let bytes = text::encode(t, encoding).map_err(|e| format!("--text: {e}"))?;
                let dc = config.data_coding(encoding).unwrap_or(match encoding {
                    Encoding::Ucs2 => 8,
                    Encoding::Latin1 => 3,
                    _ => 0,
                });
                (
                    bytes,
                    self.pdu.data_coding.unwrap_or(dc),
                    encoding == Encoding::Gsm7,
                )
            }
            (None, None) => return Err("--udh needs --text or --hex".into()),
        };
        // One segment: 140 octets, or 160 septets (GSM 7-bit, the UDH taking whole
        // septets) .
        let fits = if septets {
            body.len() + (udh.len() * 8).div_ceil(7) <= 160
        } else {
            udh.len() + body.len() <= 140
        };
        if !fits {
            let flag = if udh.is_empty() { "--hex" } else { "--udh" };
            let what = if septets {
                format!("{} septet(s) of text", body.len())
            } else {
                format!("{} octet(s) of body", body.len())
            };
            return Err(format!(
                "{flag}: {} octet(s) of UDH and {what} do not fit in one segment (140 octets)",
                udh.len()
            ));
        }
        let mut esm_class = self.pdu.esm_class.unwrap_or(0);
        if !udh.is_empty() {
            esm_class |= 0x40;
        }
        let mut short_message = udh;
        short_message.extend_from_slice(&body);
        Ok(Some((short_message, data_coding, esm_class)))
    }

    /// The submit_sm of a --hex or --udh message to `to`.
    fn raw_submit(
        &self,
        to: &str,
        (body, data_coding, esm_class): &(Vec<u8>, u8, u8),
    ) -> Result<SubmitSm<'static>, String> {
        let from = self.from.clone().unwrap_or_default();
        let (s_ton, s_npi, from) = fields::address(
            &from,
            self.source_ton,
            self.source_npi,
            (Ton::UNKNOWN, Npi::UNKNOWN),
        )
        .map_err(|e| format!("--from: {e}"))?;
        let (d_ton, d_npi, to) = fields::address(
            to,
            self.pdu.dest_ton,
            self.pdu.dest_npi,
            (Ton::INTERNATIONAL, Npi::ISDN),
        )
        .map_err(|e| format!("--to {to}: {e}"))?;
        let (validity, schedule) = self.stored.times()?;
        Ok(SubmitSm {
            service_type: self.pdu.service_type.clone().unwrap_or_default().into(),
            source_addr_ton: s_ton,
            source_addr_npi: s_npi,
            source_addr: from.into(),
            dest_addr_ton: d_ton,
            dest_addr_npi: d_npi,
            destination_addr: to.into(),
            esm_class: *esm_class,
            protocol_id: self.stored.protocol_id.unwrap_or(0),
            priority_flag: self.stored.priority.unwrap_or(0),
            schedule_delivery_time: schedule.into(),
            validity_period: validity.into(),
            registered_delivery: self.registered_delivery(),
            replace_if_present_flag: u8::from(self.replace_if_present),
            data_coding: *data_coding,
            sm_default_msg_id: 0,
            short_message: body.clone().into(),
            tlvs: self.pdu.tlvs.clone(),
        })
    }

    /// The `registered_delivery` of what is sent: a receipt is asked for with
    /// --registered-delivery, and whenever --wait-receipt waits for one.
    fn registered_delivery(&self) -> u8 {
        u8::from(self.registered_delivery || self.wait_receipt.is_some())
    }

    fn kind(&self) -> BindKind {
        match self.bind {
            SendBind::Tx => BindKind::Transmitter,
            SendBind::Trx => BindKind::Transceiver,
        }
    }

    fn text_options(&self) -> TextOptions {
        TextOptions {
            registered_delivery: self.registered_delivery(),
            validity_period: self.stored.validity,
            schedule_delivery_time: self.stored.schedule,
            priority: self.stored.priority.unwrap_or(0),
            service_type: self.pdu.service_type.clone().unwrap_or_default(),
            protocol_id: self.stored.protocol_id.unwrap_or(0),
            data_coding: self.pdu.data_coding,
            esm_class: self.pdu.esm_class.unwrap_or(0),
            replace_if_present: self.replace_if_present,
            source_addr_ton: self.source_ton.map(Ton),
            source_addr_npi: self.source_npi.map(Npi),
            dest_addr_ton: self.pdu.dest_ton.map(Ton),
            dest_addr_npi: self.pdu.dest_npi.map(Npi),
            tlvs: self.pdu.tlvs.clone(),
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
    if let Err(e) = o.check().and_then(|()| o.raw_body().map(drop)) {
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
    } else if let Some(raw) = o.raw_body()? {
        for (k, t) in texts.iter().enumerate() {
            let sm = o.raw_submit(&t.to, &raw)?;
            let r = target.send_segments(vec![sm], &t.options);
            on_result(k, &r);
        }
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
                    let Some(to) = awaited.remove(report.reference.as_str()) else {
                        return;
                    };
                    if report.outcome == Outcome::Expired {
                        unfinished.push(String::from(&report.reference));
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
                            outln!("{}", tinted(report_tone(report), report_line(report, &to)));
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
        let reference = match &sent.reference {
            Some(r) => format!(" (reference {r})"),
            None => String::new(),
        };
        let line = format!(
            "submitted to {to}: message id(s) {}{reference}",
            sent.join(", ")
        );
        outln!("{}", tinted(Tone::Good, line));
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
        let line = format!("receipt for message id {}: {}", r.id, r.state.stat());
        outln!("{}", tinted(state_tone(&r.state), line));
    }
}

/// The tone of a report's line: delivered or accepted is good, unknown pending, the rest
/// (failed, expired, evicted) bad.
pub(crate) fn report_tone(r: &Report) -> Tone {
    match r.outcome {
        Outcome::Delivered | Outcome::Accepted => Tone::Good,
        Outcome::Unknown => Tone::Pending,
        _ => Tone::Bad,
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

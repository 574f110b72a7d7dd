//! `smpp demo`: an embedded SMSC, a transceiver client, two messages, their receipts, an
//! MO message, and an unbind, reported as readable lines or JSON lines.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::out::{errln, outln};
use clap::Args;
use smpp_client::{Client, ClientConfig, InboundKind, TextOptions};
use smpp_pdu::json::Object;
use smpp_pdu::text::{self, Encoding, TextConfig};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig, User};

/// How long the demo waits for the receipts and the MO message.
const WAIT: Duration = Duration::from_secs(5);

const SYSTEM_ID: &str = "demo";
const PASSWORD: &str = "demo-pw";
const FROM: &str = "SmppDemo";
const TO: &str = "447700900123";
const SHORT: &str = "Hello from smpp-rs!";
const LONG: &str =
    "Grüße aus Köln, привет из Москвы, こんにちは東京 😀 — this message needs UCS-2, \
                    so it is split into segments joined by a user data header (UDH) and \
                    reassembled by the handset.";
const MO_TEXT: &str = "Thanks, got it 👍";

/// Prints events either as text lines or as JSON objects.
struct Report {
    json: bool,
}

impl Report {
    fn line(&self, text: String, json: Object) {
        if self.json {
            outln!("{}", json.finish());
        } else {
            outln!("{text}");
        }
    }
}

fn event(name: &str) -> Object {
    let mut o = Object::new();
    o.str("event", name);
    o
}

fn ids_array(ids: &[String]) -> String {
    let mut s = String::from("[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        smpp_pdu::json::push_str(&mut s, id);
    }
    s.push(']');
    s
}

fn encoding_name(e: Encoding) -> &'static str {
    match e {
        Encoding::Gsm7 | Encoding::Gsm7Packed => "GSM 7-bit",
        Encoding::Ascii => "ASCII",
        Encoding::Latin1 => "Latin-1",
        Encoding::Ucs2 => "UCS-2",
        _ => "binary",
    }
}

/// `smpp demo`: an embedded SMSC and a client against it.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// One JSON object per event instead of readable lines.
    #[arg(long)]
    json: bool,
}

/// Runs the demo; exit 0 when every step worked.
pub(crate) fn run(a: &DemoArgs) -> ExitCode {
    let report = Report { json: a.json };
    match steps(&report) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            let mut o = event("error");
            o.str("message", &msg);
            report.line(format!("error: {msg}"), o);
            errln!("smpp demo failed: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn steps(report: &Report) -> Result<(), String> {
    let smsc = Smsc::start(
        SmscConfig::default()
            .user(User::new(SYSTEM_ID, PASSWORD))
            .receipt_delay(Duration::from_millis(200)),
    )
    .map_err(|e| format!("cannot start the embedded SMSC: {e}"))?;
    let addr = smsc.local_addr();
    let mut o = event("smsc_started");
    o.str("addr", &addr.to_string());
    report.line(
        format!("SMSC     listening on {addr} (embedded test SMSC)"),
        o,
    );

    // Every receipt as an item of its own: the demo shows each, then each report.
    let config = ClientConfig::new(BindKind::Transceiver, SYSTEM_ID, PASSWORD)
        .response_timeout(Duration::from_secs(5))
        .receipt_items(smpp_client::ReceiptItems::All);
    let client =
        Client::connect(addr, config).map_err(|e| format!("bind to {addr} failed: {e}"))?;
    let mut o = event("bound");
    o.str("kind", "transceiver")
        .str("system_id", SYSTEM_ID)
        .str("addr", &addr.to_string());
    report.line(
        format!("bind     transceiver as {SYSTEM_ID:?} to {addr}: ok"),
        o,
    );

    let options = TextOptions::default(); // registered_delivery 1: receipts wanted
    let mut expected = BTreeSet::new();
    // Reference -> which message, for the reports.
    let mut references = std::collections::BTreeMap::new();
    for (label, body) in [("short", SHORT), ("long", LONG)] {
        let ids = client
            .send_text(FROM, TO, body, &options)
            .map_err(|e| format!("submitting the {label} message failed: {e}"))?;
        let encoding = encoding_name(text::choose(body, &TextConfig::default()));
        let mut o = event("submitted");
        o.str("message", label)
            .str("encoding", encoding)
            .num("chars", body.chars().count() as u64)
            .num("segments", ids.len() as u64)
            .raw("message_ids", &ids_array(&ids));
        let how = if ids.len() > 1 {
            ", split with UDH"
        } else {
            ""
        };
        report.line(
            format!(
                "submit   {label} message ({} chars, {encoding}{how}): {} segment(s), message id(s) {}",
                body.chars().count(),
                ids.len(),
                ids.join(", ")
            ),
            o,
        );
        references.insert(ids.reference.clone().unwrap_or_default(), label);
        expected.extend(ids);
    }

    smsc.inject_mo(SYSTEM_ID, TO, FROM, MO_TEXT)
        .map_err(|e| format!("injecting the MO message failed: {e}"))?;

    let mut pending = expected.clone();
    let mut reports_due = references.len();
    let mut mo_seen = false;
    let end = Instant::now() + WAIT;
    while !pending.is_empty() || reports_due > 0 || !mo_seen {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let mut missing = Vec::new();
            if !pending.is_empty() {
                missing.push(format!(
                    "receipts for message id(s) {}",
                    pending.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            if reports_due > 0 {
                missing.push(format!("{reports_due} report(s)"));
            }
            if !mo_seen {
                missing.push("the MO message".to_string());
            }
            return Err(format!(
                "timed out after {} s waiting for {}",
                WAIT.as_secs(),
                missing.join(" and ")
            ));
        }
        let Ok(inbound) = client.inbound().recv_timeout(left) else {
            continue;
        };
        match inbound.kind() {
            InboundKind::Receipt { receipt: r, .. } => {
                let known = pending.remove(&r.id);
                let mut o = event("receipt");
                o.str("message_id", &r.id)
                    .str("state", r.state.stat())
                    .bool("expected", known || expected.contains(&r.id));
                report.line(
                    format!("receipt  message id {} is {}", r.id, r.state.stat()),
                    o,
                );
            }
            InboundKind::Report(r) => {
                let Some(label) = references.get(r.reference.as_str()) else {
                    continue;
                };
                reports_due -= 1;
                let mut o = event("report");
                o.str("message", label)
                    .str("reference", &r.reference)
                    .str("outcome", r.outcome.as_str())
                    .str("state", r.state.as_ref().map_or("", |s| s.stat()))
                    .num("segments", r.segments.len() as u64);
                report.line(
                    format!(
                        "report   {label} message: {} ({}), {} segment(s)",
                        r.outcome,
                        r.state.as_ref().map_or("-", |s| s.stat()),
                        r.segments.len()
                    ),
                    o,
                );
            }
            InboundKind::Message { message, .. } => {
                let text = message.text.clone().unwrap_or_default();
                let (from, to) = (&message.source.addr, &message.destination.addr);
                mo_seen |= text == MO_TEXT;
                let mut o = event("mo");
                o.str("from", from).str("to", to).str("text", &text);
                report.line(format!("MO       from {from} to {to}: {text:?}"), o);
            }
            _ => {}
        }
    }

    client.unbind().map_err(|e| format!("unbind failed: {e}"))?;
    report.line("unbind   ok".to_string(), event("unbound"));

    // The SMSC sees the unbind shortly after the client does.
    smsc.wait_for(Duration::from_secs(2), |s| s.unbinds == 1);
    let stats = smsc.stats();
    smsc.shutdown();
    let mut o = event("done");
    o.num("submits", stats.submits)
        .num("receipts", stats.receipts_sent)
        .num("mo", stats.mo_sent)
        .num("pdus_received_by_smsc", stats.received)
        .bool("ok", true);
    report.line(
        format!(
            "done     SMSC saw {} submits, sent {} receipts and {} MO, received {} PDUs",
            stats.submits, stats.receipts_sent, stats.mo_sent, stats.received
        ),
        o,
    );
    Ok(())
}

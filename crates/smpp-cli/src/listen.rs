//! `smpp listen`: binds as receiver (or transceiver) and prints MO messages and delivery
//! receipts until `--count` arrived or `--timeout` passed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_client::Inbound;
use smpp_pdu::receipt::Receipt;
use smpp_pdu::tlv::Tlv;
use smpp_pdu::Body;
use smpp_session::BindKind;
use smpp_smsc::json::{self, Object};

use clap::{Args, ValueEnum};

use crate::common::{self, Connection};
use crate::out::{errln, outln};

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
    /// Stop (exit 0) after N messages (default: no limit).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Stop (exit 0) after SECONDS, with what arrived (default: no limit).
    #[arg(long, value_name = "SECONDS", value_parser = common::seconds)]
    timeout: Option<Duration>,
    /// One JSON object per message (the PDU's fields, the decoded text, a receipt
    /// object) instead of a line of text.
    #[arg(long)]
    json: bool,
    /// Where to connect, as whom, and whether over TLS.
    #[command(flatten)]
    conn: Connection,
}

impl ListenArgs {
    fn check(&self) -> Result<(), String> {
        if self.conn.addr.is_none() {
            return Err("--addr is required".into());
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
    match listen(o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            errln!("smpp listen: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn listen(o: &ListenArgs) -> Result<(), String> {
    let (addr, _) = o.conn.resolve(Duration::ZERO)?;
    let client = common::connect(addr, o.conn.config(o.kind())?)?;
    if !o.json {
        errln!("listening on {addr}");
    }
    let end = o.timeout.map(|t| Instant::now() + t);
    let mut seen = 0u64;
    while o.count.is_none_or(|c| seen < c) {
        let inbound = match end {
            Some(end) => {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match client.inbound().recv_timeout(left) {
                    Ok(i) => i,
                    Err(e) if e.is_timeout() => break,
                    Err(_) => return Err("the connection closed".into()),
                }
            }
            None => client
                .inbound()
                .recv()
                .map_err(|_| "the connection closed".to_string())?,
        };
        seen += 1;
        if o.json {
            outln!("{}", inbound_json(&inbound));
        } else {
            outln!("{}", inbound_line(&inbound));
        }
    }
    client
        .unbind()
        .map(|_| ())
        .map_err(|e| format!("unbind failed: {e}"))
}

fn tlvs<'a>(body: &'a Body<'static>) -> &'a [Tlv<'static>] {
    match body {
        Body::DeliverSm(d) => &d.tlvs,
        Body::DataSm(d) => &d.tlvs,
        _ => &[],
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

fn inbound_line(i: &Inbound) -> String {
    let (from, to) = addresses(&i.pdu.body);
    match i.receipt() {
        Some(r) => format!(
            "receipt  from {from} to {to}: message id {} is {}{}",
            r.id,
            r.state.stat(),
            r.err
                .as_ref()
                .map(|e| format!(" (err {e})"))
                .unwrap_or_default()
        ),
        None => format!("MO       from {from} to {to}: {:?}", i.text().unwrap_or("")),
    }
}

/// One JSON object: the PDU's fields, `text`, and `receipt` for a delivery receipt.
pub(crate) fn inbound_json(i: &Inbound) -> String {
    let mut o = Object::new();
    o.str(
        "event",
        if i.receipt().is_some() {
            "receipt"
        } else {
            "mo"
        },
    );
    json::header_members(&mut o, &i.pdu);
    json::body_members(&mut o, &i.pdu.body);
    match i.text() {
        Some(t) => o.str("text", t),
        None => o.raw("text", "null"),
    };
    if let Some(r) = i.receipt() {
        o.raw("receipt", &receipt_json(r, tlvs(&i.pdu.body)));
    }
    o.finish()
}

fn receipt_json(r: &Receipt, tlvs: &[Tlv<'static>]) -> String {
    let mut o = Object::new();
    let opt = |o: &mut Object, k: &str, v: Option<String>| {
        match v {
            Some(v) => o.str(k, &v),
            None => o.raw(k, "null"),
        };
    };
    o.str("id", &r.id);
    opt(&mut o, "sub", r.sub.clone());
    opt(&mut o, "dlvrd", r.dlvrd.clone());
    opt(&mut o, "submit_date", r.submit_date.map(|d| d.to_string()));
    opt(&mut o, "done_date", r.done_date.map(|d| d.to_string()));
    o.str("stat", r.state.stat());
    opt(&mut o, "err", r.err.clone());
    opt(&mut o, "text", r.text.clone());
    for t in tlvs {
        match t {
            Tlv::MessageState(s) => {
                o.num("message_state", u64::from(*s));
            }
            Tlv::NetworkErrorCode(n) => {
                let mut e = Object::new();
                e.num("network_type", u64::from(n.network_type))
                    .num("error_code", u64::from(n.error_code));
                o.raw("network_error_code", &e.finish());
            }
            _ => {}
        }
    }
    o.finish()
}

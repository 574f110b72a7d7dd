//! `smpp send`: binds, submits a text to one or more destinations, prints the message ids
//! and, with `--wait-receipt`, the delivery receipts.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_client::TextOptions;
use smpp_pdu::concat::SplitMethod;
use smpp_pdu::text::Encoding;
use smpp_session::BindKind;
use smpp_smsc::json::Object;

use crate::common::{self, Args, Target};

struct Options {
    target: Target,
    kind: BindKind,
    from: Option<String>,
    to: Vec<String>,
    text: Option<String>,
    text_options: TextOptions,
    wait_receipt: Option<Duration>,
    json: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        target: Target::new(),
        kind: BindKind::Transceiver,
        from: None,
        to: Vec::new(),
        text: None,
        text_options: TextOptions {
            registered_delivery: 0,
            ..TextOptions::default()
        },
        wait_receipt: None,
        json: false,
    };
    let mut a = Args::new("send", args);
    while let Some(name) = a.next_name() {
        if o.target.take(name, &mut a)? {
            continue;
        }
        match name {
            "--bind" => {
                o.kind = match a.value(name)?.as_str() {
                    "tx" => BindKind::Transmitter,
                    "trx" => BindKind::Transceiver,
                    v => return Err(format!("send: --bind {v}: expected tx or trx")),
                }
            }
            "--from" => o.from = Some(a.value(name)?),
            "--to" => o.to.push(a.value(name)?),
            "--text" => o.text = Some(a.value(name)?),
            "--encoding" => {
                o.text_options.encoding = match a.value(name)?.as_str() {
                    "auto" => None,
                    "gsm7" => Some(Encoding::Gsm7),
                    "ucs2" => Some(Encoding::Ucs2),
                    "latin1" => Some(Encoding::Latin1),
                    v => {
                        return Err(format!(
                            "send: --encoding {v}: expected auto, gsm7, ucs2 or latin1"
                        ))
                    }
                }
            }
            "--split" => {
                o.text_options.split = match a.value(name)?.as_str() {
                    "udh" => SplitMethod::Udh8,
                    "udh16" => SplitMethod::Udh16,
                    "sar" => SplitMethod::Sar,
                    "payload" => SplitMethod::Payload,
                    v => {
                        return Err(format!(
                            "send: --split {v}: expected udh, udh16, sar or payload"
                        ))
                    }
                }
            }
            "--registered-delivery" => o.text_options.registered_delivery = 1,
            "--wait-receipt" => {
                let s: f64 = a.parsed(name)?;
                if !(s.is_finite() && s >= 0.0) {
                    return Err(format!("send: --wait-receipt {s}: expected seconds"));
                }
                o.wait_receipt = Some(Duration::from_secs_f64(s));
                o.text_options.registered_delivery = 1;
            }
            "--json" => o.json = true,
            other => return Err(a.unknown(other)),
        }
    }
    o.target.check("send")?;
    if o.to.is_empty() {
        return Err("send: --to is required".into());
    }
    if o.text.is_none() {
        return Err("send: --text is required".into());
    }
    if o.wait_receipt.is_some() && o.kind != BindKind::Transceiver {
        return Err(
            "send: --wait-receipt needs --bind trx (receipts come on the same session)".into(),
        );
    }
    Ok(o)
}

/// Runs `smpp send`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) => return crate::usage_error(&e),
    };
    match send(&o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            if o.json {
                let mut j = Object::new();
                j.str("event", "error").str("message", &msg);
                println!("{}", j.finish());
            }
            eprintln!("smpp send: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn send(o: &Options) -> Result<(), String> {
    let (addr, smsc) = o.target.resolve(Duration::from_millis(200))?;
    let client = common::connect(addr, o.target.config(o.kind)?)?;
    let from = o.from.as_deref().unwrap_or("");
    let text = o.text.as_deref().unwrap_or("");
    let mut expected = BTreeSet::new();
    for to in &o.to {
        let ids = client
            .send_text(from, to, text, &o.text_options)
            .map_err(|e| format!("submit to {to} failed: {e}"))?;
        if o.json {
            let mut j = Object::new();
            j.str("event", "submitted")
                .str("to", to)
                .num("segments", ids.len() as u64)
                .raw("message_ids", &common::str_array(&ids));
            println!("{}", j.finish());
        } else {
            println!("submitted to {to}: message id(s) {}", ids.join(", "));
        }
        expected.extend(ids);
    }
    if let Some(wait) = o.wait_receipt {
        let end = Instant::now() + wait;
        while !expected.is_empty() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "timed out after {:.1} s waiting for receipts of message id(s) {}",
                    wait.as_secs_f64(),
                    expected.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            let Ok(inbound) = client.inbound().recv_timeout(left) else {
                continue;
            };
            let Some(r) = inbound.receipt() else { continue };
            if !expected.remove(&r.id) {
                continue;
            }
            if o.json {
                let mut j = Object::new();
                j.str("event", "receipt")
                    .str("message_id", &r.id)
                    .str("stat", r.state.stat());
                if let Some(err) = &r.err {
                    j.str("err", err);
                }
                println!("{}", j.finish());
            } else {
                println!("receipt for message id {}: {}", r.id, r.state.stat());
            }
        }
    }
    client.unbind().map_err(|e| format!("unbind failed: {e}"))?;
    if let Some(s) = smsc {
        s.shutdown();
    }
    Ok(())
}

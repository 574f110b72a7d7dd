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

use clap::{Args, ValueEnum};

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
    /// Wait up to SECONDS for the receipts of every segment and print them (implies
    /// --registered-delivery; needs --bind trx); exit 1 if they do not all come.
    #[arg(long, value_name = "SECONDS", value_parser = common::seconds)]
    wait_receipt: Option<Duration>,
    /// Print one JSON object per event (submitted, receipt, error) instead of text.
    #[arg(long)]
    json: bool,
    /// Where to connect, as whom, and whether over TLS.
    #[command(flatten)]
    conn: Connection,
}

impl SendArgs {
    fn check(&self) -> Result<(), String> {
        self.conn.check()?;
        if self.to.is_empty() {
            return Err("--to is required".into());
        }
        if self.text.is_none() {
            return Err("--text is required".into());
        }
        if self.wait_receipt.is_some() && self.bind != SendBind::Trx {
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
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            if o.json {
                let mut j = Object::new();
                j.str("event", "error").str("message", &msg);
                outln!("{}", j.finish());
            }
            errln!("smpp send: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn send(o: &SendArgs) -> Result<(), String> {
    let (addr, smsc) = o.conn.resolve(Duration::from_millis(200))?;
    let client = common::connect(addr, o.conn.config(o.kind())?)?;
    let text_options = o.text_options();
    let from = o.from.as_deref().unwrap_or("");
    let text = o.text.as_deref().unwrap_or("");
    let mut expected = BTreeSet::new();
    for to in &o.to {
        let ids = client
            .send_text(from, to, text, &text_options)
            .map_err(|e| format!("submit to {to} failed: {e}"))?;
        if o.json {
            let mut j = Object::new();
            j.str("event", "submitted")
                .str("to", to)
                .num("segments", ids.len() as u64)
                .raw("message_ids", &common::str_array(&ids));
            outln!("{}", j.finish());
        } else {
            outln!("submitted to {to}: message id(s) {}", ids.join(", "));
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
                outln!("{}", j.finish());
            } else {
                outln!("receipt for message id {}: {}", r.id, r.state.stat());
            }
        }
    }
    client.unbind().map_err(|e| format!("unbind failed: {e}"))?;
    if let Some(s) = smsc {
        s.shutdown();
    }
    Ok(())
}

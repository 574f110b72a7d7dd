//! Sends a long Unicode text (UCS-2, split with an 8-bit UDH) asking for delivery receipts,
//! then waits for the receipts and prints them.
//!
//! ```text
//! cargo run -p smpp-client --example send_long_unicode -- ADDR SYSTEM_ID PASSWORD FROM TO [TEXT] [--wait SECONDS]
//! ```
//!
//! Binds as a transceiver so that the receipts come back on the same connection. Without
//! TEXT a sample of Cyrillic, Greek, Chinese and emoji is sent. It waits at most 30 s (or
//! `--wait`) for one final receipt per segment.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig, InboundKind, Outcome, TextOptions};
use smpp_pdu::concat::SplitMethod;
use smpp_pdu::text::Encoding;
use smpp_session::BindKind;

const SAMPLE: &str = "Привет, мир! 👋🌍 Γειά σου κόσμε — 你好，世界 🎉 \
    Этот текст длиннее одного сообщения, поэтому он уходит несколькими частями, \
    и телефон соберёт их обратно. 📨✅";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut wait = Duration::from_secs(30);
    if let Some(i) = args.iter().position(|a| a == "--wait") {
        let Some(secs) = args.get(i + 1).and_then(|s| s.parse::<f64>().ok()) else {
            eprintln!("--wait needs a number of seconds");
            return ExitCode::from(2);
        };
        wait = Duration::from_secs_f64(secs);
        args.drain(i..i + 2);
    }
    let (addr, system_id, password, from, to, text) = match args.as_slice() {
        [a, s, p, f, t] => (a, s, p, f, t, SAMPLE),
        [a, s, p, f, t, text] => (a, s, p, f, t, text.as_str()),
        _ => {
            eprintln!(
                "usage: send_long_unicode ADDR SYSTEM_ID PASSWORD FROM TO [TEXT] [--wait SECONDS]"
            );
            return ExitCode::from(2);
        }
    };
    match run(addr, system_id, password, from, to, text, wait) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("send_long_unicode: not every receipt arrived within {wait:?}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("send_long_unicode: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    addr: &str,
    system_id: &str,
    password: &str,
    from: &str,
    to: &str,
    text: &str,
    wait: Duration,
) -> Result<bool, Box<dyn std::error::Error>> {
    let addr = addr
        .to_socket_addrs()?
        .next()
        .ok_or("the address resolves to nothing")?;
    let client = Client::connect(
        addr,
        ClientConfig::new(BindKind::Transceiver, system_id, password),
    )?;
    let options = TextOptions {
        encoding: Some(Encoding::Ucs2),
        split: SplitMethod::Udh8,
        registered_delivery: 1,
        ..TextOptions::default()
    };
    let ids = client.send_text(from, to, text, &options)?;
    println!(
        "sent {} UTF-16 units in {} segment(s):",
        text.encode_utf16().count(),
        ids.len()
    );
    for (i, id) in ids.iter().enumerate() {
        println!("  segment {}: {id}", i + 1);
    }

    // One report for the whole message, once every segment has its final receipt.
    let deadline = Instant::now() + wait;
    let mut outcome = None;
    while outcome.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(inbound) = client.inbound().recv_timeout(left) else {
            break;
        };
        match inbound.kind() {
            InboundKind::Receipt { receipt: r, .. } => println!(
                "receipt for {}: {} (err {}, done {})",
                r.id,
                r.state,
                r.err.as_deref().unwrap_or("-"),
                r.done_date.map(|d| d.to_string()).unwrap_or_default()
            ),
            InboundKind::Report(r) if ids.reference.as_deref() == Some(r.reference.as_str()) => {
                println!(
                    "report {}: {} ({}), {} segment(s)",
                    r.reference,
                    r.outcome,
                    r.state.as_ref().map_or("-", |s| s.stat()),
                    r.segments.len()
                );
                outcome = Some(r.outcome);
            }
            _ => {}
        }
    }
    client.unbind()?;
    Ok(outcome == Some(Outcome::Delivered))
}

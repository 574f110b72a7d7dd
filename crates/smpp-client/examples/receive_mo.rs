//! Binds as a receiver and prints MO messages and delivery receipts until Ctrl-C (which
//! ends the process) or until `--count` of them arrived (then it unbinds).
//!
//! ```text
//! cargo run -p smpp-client --example receive_mo -- ADDR SYSTEM_ID PASSWORD [--count N]
//! ```
//!
//! It reconnects and rebinds after a dropped connection. Every message is acknowledged
//! with `ESME_ROK` as it arrives.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::ToSocketAddrs;
use std::process::ExitCode;

use smpp_client::{Backoff, Client, ClientConfig, InboundKind};
use smpp_session::BindKind;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut count: Option<u64> = None;
    if let Some(i) = args.iter().position(|a| a == "--count") {
        let Some(n) = args.get(i + 1).and_then(|s| s.parse().ok()) else {
            eprintln!("--count needs a number");
            return ExitCode::from(2);
        };
        count = Some(n);
        args.drain(i..i + 2);
    }
    let [addr, system_id, password] = args.as_slice() else {
        eprintln!("usage: receive_mo ADDR SYSTEM_ID PASSWORD [--count N]");
        return ExitCode::from(2);
    };
    match run(addr, system_id, password, count) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("receive_mo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    addr: &str,
    system_id: &str,
    password: &str,
    count: Option<u64>,
) -> Result<(), Box<dyn std::error::Error>> {
    let addr = addr
        .to_socket_addrs()?
        .next()
        .ok_or("the address resolves to nothing")?;
    let config =
        ClientConfig::new(BindKind::Receiver, system_id, password).reconnect(Backoff::default());
    let client = Client::connect(addr, config)?;
    println!("bound as a receiver to {addr}; waiting (Ctrl-C to stop)");
    let mut seen = 0u64;
    while count.is_none_or(|n| seen < n) {
        // The channel ends only if the client stops for good.
        let Ok(inbound) = client.inbound().recv() else {
            break;
        };
        seen += 1;
        match inbound.kind() {
            // A whole message: segments of a long one were reassembled by the client.
            InboundKind::Message { message, .. } => println!(
                "MO {} -> {} ({} segment(s)): {}",
                message.source.addr,
                message.destination.addr,
                message.segments,
                message
                    .text
                    .as_deref()
                    .unwrap_or("<binary or unknown alphabet>")
            ),
            InboundKind::Receipt { receipt: r, .. } => println!(
                "receipt: id {} {} (err {})",
                r.id,
                r.state,
                r.err.as_deref().unwrap_or("-")
            ),
            InboundKind::Incomplete(m) => println!(
                "MO {} -> {}: only {} of {} segments came",
                m.source.addr,
                m.destination.addr,
                m.received.len(),
                m.total
            ),
            _ => {}
        }
    }
    client.unbind()?;
    Ok(())
}

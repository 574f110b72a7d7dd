//! A plain blocking loop on the caller's thread over `std::net::TcpStream`, with the
//! library's caller-driven client, [`smpp_client::direct::DirectClient`]: no transport
//! thread, no async runtime. The client owns the session and its buffers; this loop keeps
//! the window full and acts on what `poll` returns.
//!
//! `cargo run -p smpp-embed-examples --bin blocking -- 127.0.0.1:2775 ID PASSWORD 1000 64`
//! (with `smpp smsc --user ID:PASSWORD --receipt-delay-ms 10` running) submits 1,000
//! messages with up to 64 in flight, gets their receipts (the client answers them),
//! unbinds and prints a JSON report. See `docs/embedding.md`; the same loop written
//! against the bare `Session` is `crates/smpp-session/examples/drive_loop.rs`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_client::direct::{DirectClient, Event};
use smpp_client::{ClientConfig, Error, InboundKind};
use smpp_embed_examples::{message, Args, Report};
use smpp_session::{BindKind, SendError};

/// The whole run may take this long; past it the program gives up.
const LIMIT: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    let args = match Args::from_env() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(report) => {
            println!("{}", report.to_json());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<Report, String> {
    let started = Instant::now();
    // Raw submits: nothing for the tracker to follow, so receipts pass untracked.
    let config = ClientConfig::new(BindKind::Transceiver, &args.system_id, &args.password)
        .window(args.window)
        .track(false);
    let mut client = DirectClient::connect(args.addr.as_str(), config).map_err(|e| match e {
        Error::BindRejected(status) => format!("bind: {status}"),
        e => e.to_string(),
    })?;
    let (mut report, mut next) = (Report::default(), 0);
    while !report.done(args.count) {
        if started.elapsed() > LIMIT {
            return Err(format!("gave up after {LIMIT:?}: {}", report.to_json()));
        }
        // 1. Start work: submit while the window has room (queued; the next poll writes
        // them all in one write).
        while next < args.count && client.has_room() {
            match client.request(message(next)) {
                Ok(_) => next += 1,
                Err(Error::Refused(SendError::WindowFull)) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
        // 2. Drive the client: a queued event at once, else write, read (at most a
        // second), run the timers, and the next event. Receipts were answered already.
        match client
            .poll(Duration::from_secs(1))
            .map_err(|e| e.to_string())?
        {
            Some(Event::Response { result, .. }) => match result {
                Ok(pdu) => report.response(&pdu),
                Err(_) => report.refused += 1,
            },
            Some(Event::Inbound(InboundKind::Receipt { pdu, .. })) => report.deliver(&pdu),
            Some(Event::Closed { reason, error }) => {
                return Err(format!("closed: {reason:?} {error:?}"));
            }
            _ => {}
        }
    }
    // 3. Everything is in: unbind (the client drives the session until it is over).
    client.unbind().map_err(|e| e.to_string())?;
    report.unbound = true;
    Ok(report)
}

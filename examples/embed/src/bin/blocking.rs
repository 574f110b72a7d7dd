//! A plain blocking loop over `std::net::TcpStream` driving an ESME
//! [`smpp_session::Session`]: no transport crate, no threads, no async runtime.
//!
//! `cargo run -p smpp-embed-examples --bin blocking -- 127.0.0.1:2775 ID PASSWORD 1000 64`
//! (with `smpp smsc --user ID:PASSWORD --receipt-delay-ms 10` running) submits 1,000
//! messages with up to 64 in flight, answers their receipts, unbinds and prints a JSON
//! report. See `docs/embedding.md`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_embed_examples::{fill_window, on_event, Args, Next, Report};
use smpp_session::{BindKind, BindRequest, Config, Session};

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

fn fail(e: impl ToString) -> io::Error {
    io::Error::other(e.to_string())
}

fn run(args: &Args) -> io::Result<Report> {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(&args.addr)?;
    tcp.set_nodelay(true)?;
    let mut session = Session::esme(Config::default().window(args.window), Instant::now());
    let bind = BindRequest::new(BindKind::Transceiver, &args.system_id, &args.password);
    session.bind(Instant::now(), bind).map_err(fail)?;
    let (mut report, mut next, mut unbinding) = (Report::default(), 0, false);
    let (mut out, mut buf) = (Vec::new(), vec![0u8; 64 * 1024]);
    loop {
        if started.elapsed() > LIMIT {
            return Err(fail(format!(
                "gave up after {LIMIT:?}: {}",
                report.to_json()
            )));
        }
        // 1. Submit while the window has room (not once the unbind has started).
        if !unbinding {
            fill_window(&mut session, &mut next, args.count).map_err(fail)?;
        }
        // 2. Write everything the session wants to send, in one write.
        while session.poll_transmit(&mut out).is_some() {}
        if !out.is_empty() {
            tcp.write_all(&out)?;
            out.clear();
        }
        // 3. Act on the events.
        while let Some(event) = session.poll_event() {
            if on_event(&mut session, &mut report, event).map_err(fail)? == Next::Finished {
                return Ok(report);
            }
        }
        if !unbinding && report.done(args.count) {
            session.unbind(Instant::now()).map_err(fail)?;
            unbinding = true;
            continue;
        }
        if session.has_transmit() {
            continue; // an answer to a receipt waits to be written
        }
        // 4. Wait for bytes, but no longer than the session's next deadline.
        let wait = session.poll_timeout().map_or(Duration::from_secs(1), |d| {
            d.saturating_duration_since(Instant::now())
        });
        tcp.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match tcp.read(&mut buf) {
            Ok(0) => session.handle_eof(Instant::now()),
            Ok(n) => session.handle_input(Instant::now(), &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        // 5. Let the timers run (enquire_link, response timeouts, ...).
        session.handle_timeout(Instant::now());
    }
}

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
        // 1. Act on the events. Answers to receipts queue in the session; an end (our
        // unbind completed, or an error) stops the handling but not the writing below.
        let mut end = None;
        while let Some(event) = session.poll_event() {
            match on_event(&mut session, &mut report, event) {
                Ok(Next::Continue) => {}
                Ok(Next::Finished) => end = Some(Ok(())),
                Err(e) => {
                    end = Some(Err(fail(e)));
                    break;
                }
            }
        }
        // 2. Start work: submit while the window has room, unbind once everything is in.
        if end.is_none() && !unbinding {
            fill_window(&mut session, &mut next, args.count).map_err(fail)?;
            if report.done(args.count) {
                session.unbind(Instant::now()).map_err(fail)?;
                unbinding = true;
            }
        }
        // 3. Write everything the session holds, in one write: the submits, the answers
        // from step 1, and after `Closed` a final `unbind_resp` or `generic_nack`. Nothing
        // is left queued when the loop waits or returns.
        while session.poll_transmit(&mut out).is_some() {}
        if !out.is_empty() {
            tcp.write_all(&out)?;
            out.clear();
        }
        if let Some(end) = end {
            return end.map(|()| report);
        }
        // 4. Wait for bytes, but no longer than the session's next deadline, and feed them.
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

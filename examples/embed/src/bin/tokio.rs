//! A tokio task driving an ESME [`smpp_session::Session`]: the session's timers come from
//! `poll_timeout` (a read bounded by `tokio::time::timeout_at`), and submits go out with a
//! window. tokio is a dependency of this example only, never of the libraries.
//!
//! `cargo run -p smpp-embed-examples --bin tokio -- 127.0.0.1:2775 ID PASSWORD 1000 64`
//! does what the `blocking` example does. See `docs/embedding.md`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_embed_examples::{fill_window, on_event, Args, Next, Report};
use smpp_session::{BindKind, BindRequest, Config, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The session lives in its own task, as it would inside a larger service.
    let result = runtime.block_on(async move {
        match tokio::spawn(run(args)).await {
            Ok(r) => r,
            Err(e) => Err(fail(format!("task: {e}"))),
        }
    });
    match result {
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

async fn run(args: Args) -> io::Result<Report> {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(&args.addr).await?;
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
            tcp.write_all(&out).await?;
            out.clear();
        }
        if let Some(end) = end {
            return end.map(|()| report);
        }
        // 4. Read, but no longer than the session's next deadline. tokio's clock and the
        // session's are both `Instant`s, so the deadline converts directly.
        let deadline = session
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        let read = tokio::time::timeout_at(deadline.into(), tcp.read(&mut buf)).await;
        match read {
            Ok(Ok(0)) => session.handle_eof(Instant::now()),
            Ok(Ok(n)) => session.handle_input(Instant::now(), &buf[..n]),
            Ok(Err(e)) => return Err(e),
            Err(_elapsed) => {}
        }
        // 5. Let the timers run.
        session.handle_timeout(Instant::now());
    }
}

//! A tokio program with the library's async client, [`smpp_tokio::Client`]: one task owns
//! the connection (the session, its timers, the answers to receipts); this program makes
//! all 1,000 calls at once as tasks of their own and the client keeps `WINDOW` of them in
//! flight, the rest waiting in order. Receipts come on the client's inbound stream.
//!
//! `cargo run -p smpp-embed-examples --bin tokio -- 127.0.0.1:2775 ID PASSWORD 1000 64`
//! does what the `blocking` example does. See `docs/embedding.md`; the same work written
//! against a bare `Session` in a tokio task is what `smpp_tokio` does inside.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

use smpp_embed_examples::{message, Args, Report};
use smpp_session::BindKind;
use smpp_tokio::{Client, ClientConfig, Error, InboundKind};
use tokio::task::JoinSet;

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
    match runtime.block_on(async { tokio::time::timeout(LIMIT, run(args)).await }) {
        Ok(Ok(report)) => {
            println!("{}", report.to_json());
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("error: gave up after {LIMIT:?}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<Report, String> {
    // Raw submits: nothing for the tracker to follow, so receipts pass untracked.
    let config = ClientConfig::new(BindKind::Transceiver, &args.system_id, &args.password)
        .window(args.window)
        .track(false);
    let (client, mut inbound) = Client::connect(args.addr.as_str(), config)
        .await
        .map_err(|e| match e {
            Error::BindRejected(status) => format!("bind: {status}"),
            e => e.to_string(),
        })?;
    // Every call at once: the client keeps the window full and the rest waiting.
    let mut calls = JoinSet::new();
    for n in 0..args.count {
        let client = client.clone();
        calls.spawn(async move { client.request(message(n)).await });
    }
    let mut report = Report::default();
    while !report.done(args.count) {
        tokio::select! {
            Some(done) = calls.join_next() => match done.map_err(|e| e.to_string())? {
                Ok(pdu) => report.response(&pdu),
                Err(_) => report.refused += 1,
            },
            item = inbound.recv() => match item {
                Some(InboundKind::Receipt { pdu, .. }) => report.deliver(&pdu),
                Some(_) => {}
                None => return Err(format!("closed: {}", report.to_json())),
            },
        }
    }
    client.unbind().await.map_err(|e| e.to_string())?;
    report.unbound = true;
    Ok(report)
}

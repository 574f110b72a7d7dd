//! `smpp`: the SMPP toolkit's command line.
//!
//! - `smpp demo [--json]` runs an embedded test SMSC on 127.0.0.1, binds a transceiver,
//!   sends a short and a long Unicode message, waits for their receipts and an MO
//!   message, unbinds, and reports each step.
//! - `smpp decode [HEX...]` decodes PDUs from hex (arguments, or one dump per line on
//!   stdin) into one JSON object per PDU.
//! - `smpp encode [JSON...]` is the reverse: JSON objects as `decode` prints them to hex.
//! - `smpp smsc [OPTIONS]` runs the test SMSC until killed.
//! - `smpp send`, `smpp listen` and `smpp bench` submit texts, print inbound messages and
//!   generate load.
//! - `smpp query`, `cancel`, `replace`, `submit-multi`, `data-sm` and `enquire` perform
//!   one ESME operation each.
//! - `smpp completions SHELL` prints a completion script for bash, zsh, fish, elvish or
//!   PowerShell.
//!
//! Arguments are parsed with clap (derive): each subcommand's options are a struct in its
//! module, and the connection options `send`, `listen` and `bench` share are
//! [`common::Connection`], flattened into each. Usage errors exit 2; `smpp help CMD` and
//! `smpp CMD --help` describe every option.
//!
//! Output goes through [`out`]: when stdout's reader goes away (`smpp ... | head -1`),
//! `smpp` stops quietly with status 141 (128 + SIGPIPE) instead of panicking.
//!
//! Logging goes to stderr, controlled by `RUST_LOG`.

mod batch;
mod bench;
mod common;
mod decode;
mod demo;
mod encode;
mod fields;
mod limits;
mod listen;
mod metrics;
mod ops;
mod out;
mod send;
mod smsc;
mod stats;
mod tls_args;
mod tls_probe;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// The SMPP toolkit's command line: a demo, a PDU decoder and encoder, a test SMSC, and
/// clients that send, listen and generate load.
#[derive(Parser, Debug)]
#[command(
    name = "smpp",
    version,
    arg_required_else_help = true,
    after_help = "RUST_LOG=debug enables logging (to stderr)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run an embedded SMSC and a client against it, and report each step.
    ///
    /// Binds a transceiver, sends a short and a long Unicode message, waits for their
    /// receipts and an MO message, and unbinds. Exit 0 when every step worked.
    Demo(demo::DemoArgs),
    /// Decode PDUs from hex into JSON lines.
    ///
    /// One JSON object per PDU: fields under their spec names, octet strings as hex, TLVs
    /// as tag, name and value. A bad PDU prints an error object naming the field and the
    /// command_status a peer would answer with. Exit 1 if any input is not a valid PDU.
    Decode(decode::DecodeArgs),
    /// Encode JSON lines (as `smpp decode` prints them) into hex, one line per PDU.
    ///
    /// Exit 1, with a JSON error naming the field, if any input is not a PDU.
    Encode(encode::EncodeArgs),
    /// Run the test SMSC until killed (or --duration).
    Smsc(smsc::SmscArgs),
    /// Submit a text and print the message ids and, when waiting, the receipts.
    ///
    /// Without --addr, to an embedded SMSC; with --config, through a pool of accounts;
    /// with --file, the rows of a CSV file. Exit 1 when the bind is rejected, the
    /// connection refused, a message not submitted or a receipt does not come in time; 2
    /// for a usage, configuration file or CSV header error.
    Send(send::SendArgs),
    /// Print MO messages and receipts until --count arrived or --timeout passed.
    Listen(listen::ListenArgs),
    /// Generate load: print throughput, p50/p99 submit latency and the client's counters.
    ///
    /// Each of --connections sessions keeps up to --window submits in flight until
    /// --count went out. Without --addr, against an embedded SMSC. A progress line goes
    /// to stderr when it is a terminal.
    Bench(bench::BenchArgs),
    /// The state of a message (query_sm).
    Query(ops::QueryArgs),
    /// Cancel a message not delivered yet (cancel_sm).
    Cancel(ops::CancelArgs),
    /// Replace the text of a message not delivered yet (replace_sm).
    Replace(ops::ReplaceArgs),
    /// One message to several destinations (submit_multi); exit 1 if any is refused.
    SubmitMulti(ops::SubmitMultiArgs),
    /// A message as data_sm, its text in message_payload.
    DataSm(ops::DataSmArgs),
    /// Bind and send enquire_link --count times, printing each round trip.
    Enquire(ops::EnquireArgs),
    /// Show an SMSC's TLS certificate chain, the negotiated version and cipher, and
    /// whether the certificate would be trusted (with --ca, --pin-cert, ... as given).
    ///
    /// The handshake is completed whatever the certificate, and nothing is sent after it.
    /// Exit 0 when the certificate would be accepted, 1 when not (the reason is printed,
    /// with what to do), 2 for a usage error.
    TlsProbe(tls_probe::TlsProbeArgs),
    /// Print a shell completion script: `smpp completions bash > /etc/bash_completion.d/smpp`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .target(env_logger::Target::Stderr)
        .init();
    match &Cli::parse().command {
        Command::Demo(a) => demo::run(a),
        Command::Decode(a) => decode::run(a),
        Command::Encode(a) => encode::run(a),
        Command::Smsc(a) => smsc::run(a),
        Command::Send(a) => send::run(a),
        Command::Listen(a) => listen::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Query(a) => ops::query(a),
        Command::Cancel(a) => ops::cancel(a),
        Command::Replace(a) => ops::replace(a),
        Command::SubmitMulti(a) => ops::submit_multi(a),
        Command::DataSm(a) => ops::data_sm(a),
        Command::Enquire(a) => ops::enquire(a),
        Command::TlsProbe(a) => tls_probe::run(a),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "smpp", &mut script);
            out::write_bytes(&script)
        }
    }
}

/// Reports a usage error that clap cannot see (options that go together, or one that
/// needs another) as clap does, with subcommand `sub`'s usage, and exits 2.
pub(crate) fn usage_error(sub: &str, msg: &str) -> ! {
    let mut cmd = Cli::command();
    cmd.build();
    match cmd.find_subcommand_mut(sub) {
        Some(sub) => sub.error(clap::error::ErrorKind::ArgumentConflict, msg),
        None => cmd.error(clap::error::ErrorKind::ArgumentConflict, msg),
    }
    .exit()
}

//! Repository automation, reached as `cargo xtask <command>`.
//!
//! Commands:
//! - `ci`: format check, clippy, tests (doc tests, the tidy test and the fuzz-seed replay
//!   included), the interop run and rustdoc, in that order, failing fast.
//! - `fuzz [--seconds N] [TARGET...]`: runs the cargo-fuzz targets under `fuzz/`.
//! - `fuzz-seeds`: regenerates the committed seed files under `fuzz/seeds/`.
//! - `bench [NAME] [ARGS...]`: runs the benchmark binaries under `benches/`.
//! - `soak [--seconds N] [--rate R]`: sustained traffic with receipts and MO; fails on a
//!   lost message or memory growth (`benches/soak`).
//! - `peers`: installs the independent SMPP peers (node-smpp, smpplib) under `target/peers/`.
//! - `interop`: runs our client, SMSC and codec against those peers (docs/interop.md).
//! - `tidy`: runs the architecture checks (`cargo test -p xtask`).
//! - `deps-check [PACKAGE...]`: in a copy of the repository, `cargo update` every lock file
//!   and build every package with warnings denied (not part of `ci`).
//!
//! This crate has no dependencies on purpose: it builds on every CI run.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod ci;
mod deps_check;
mod fuzz;
mod interop;
mod peers;
mod python;
mod soak;
mod tidy;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci                          fmt check, clippy, tests, interop, rustdoc (what CI runs)
  fuzz [--seconds N] [TARGET...]
                              run the fuzz targets (default: all, 600 s each)
  fuzz-seeds                  regenerate fuzz/seeds/ with the smpp-pdu encoder
  bench [NAME] [ARGS...]      run a benchmark (default: all of them; `peers` installs
                              the node and python peers first, as `peers` does)
  soak [--seconds N] [--rate R] [--warmup S]
                              sustained submits with receipts and MO against the
                              test SMSC (default 60 s at 1000/s); fails on loss or
                              memory growth
  peers                       install the independent SMPP peers into target/peers
                              (npm `smpp`, PyPI `smpplib`) and print where they are
  interop                     run our client, SMSC and codec against node-smpp and
                              smpplib on 127.0.0.1 (installs them first)
  python [--release]          the Python package (python/): fmt and clippy, a wheel
                              built with maturin into target/peers/venv, its pytest
  tidy                        run the architecture checks (cargo test -p xtask)
  deps-check [PACKAGE...]     in a copy under target/deps-check: cargo update every
                              lock (workspace, benches/*, fuzz) and build each package
                              with -D warnings; pass/fail per package (not part of ci)
  help                        print this message";

/// The result of a command: `Err` carries the message printed before exiting with 1.
type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        "ci" => no_args("ci", rest).and_then(|()| ci::run()),
        "fuzz" => fuzz::run(rest),
        "fuzz-seeds" => no_args("fuzz-seeds", rest).and_then(|()| fuzz::regenerate_seeds()),
        "bench" => bench::run(rest),
        "soak" => soak::run(rest),
        "peers" => no_args("peers", rest).and_then(|()| {
            let node = peers::ensure_node()?;
            let python = peers::ensure_python()?;
            println!("node-smpp: NODE_PATH={}", node.display());
            println!("smpplib: {}", python.display());
            Ok(())
        }),
        "interop" => no_args("interop", rest).and_then(|()| interop::run()),
        "python" => python::run(rest),
        "tidy" => no_args("tidy", rest).and_then(|()| tidy::run()),
        "deps-check" => deps_check::run(rest),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn no_args(command: &str, rest: &[String]) -> Result {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`cargo xtask {command}` takes no arguments (got {rest:?})"
        ))
    }
}

/// The repository root: the parent of this crate's directory.
pub(crate) fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

/// A `cargo` command (the same cargo that runs xtask, if known) started at the repo root.
pub(crate) fn cargo() -> Command {
    let program = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(repo_root());
    cmd
}

/// Renders a command for logs: program and arguments, with the environment it sets.
pub(crate) fn display(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| v.map(|v| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())))
        .collect();
    let program = Path::new(cmd.get_program());
    let program = program
        .file_name()
        .map_or_else(|| program.to_string_lossy(), |n| n.to_string_lossy());
    parts.push(program.into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs a command with inherited stdio; fails if it cannot start or exits non-zero.
pub(crate) fn run_status(cmd: &mut Command) -> Result {
    let shown = display(cmd);
    println!("$ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed with {status}"))
    }
}

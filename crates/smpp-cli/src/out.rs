//! Standard output and error for every subcommand.
//!
//! `println!` panics when stdout is a pipe whose reader went away (`smpp ... | head -1`):
//! Rust ignores SIGPIPE, so the write fails with `EPIPE`, and `println!` turns that into
//! "failed printing to stdout: Broken pipe" and a backtrace. Every line goes through
//! [`outln!`] instead, which writes to the locked stdout and, when the reader is gone, ends
//! the process at once and quietly with status [`BROKEN_PIPE`] (141 = 128 + SIGPIPE, what a
//! shell reports for a writer that SIGPIPE ended, so `smpp ... | head` behaves in scripts
//! as `cat ... | head` does, `set -o pipefail` included). Ending at once skips destructors,
//! as SIGPIPE would: nothing the process would still do matters to a reader that left.
//! A caller with something to finish first (`smpp smsc` shuts its SMSC down, which flushes
//! its PDU log) uses [`try_line`] and [`exit_broken_pipe`]. Any other stdout error is
//! reported on stderr, exit 1.
//!
//! [`errln!`] writes a line to stderr and ignores errors (with `2>&1 | head` stderr may be
//! the closed pipe; there is nowhere left to report that).
//!
//! The workspace lints warn on `println!`/`eprintln!`, so new output comes through here.

use std::fmt;
use std::io::{self, Write};

/// The exit status when stdout's reader went away: 128 + SIGPIPE (13).
pub(crate) const BROKEN_PIPE: i32 = 141;

/// Writes one line to stdout; the error, if any.
pub(crate) fn try_line(args: fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes `bytes` to stdout as they are; exits as [`line()`] does on an error.
pub(crate) fn write_bytes(bytes: &[u8]) -> std::process::ExitCode {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        exit_on(&e);
    }
    std::process::ExitCode::SUCCESS
}

/// Whether to colour what goes to stdout: a terminal, and `NO_COLOR` not set
/// (<https://no-color.org>).
pub(crate) fn colour_on_stdout() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
}

/// The time of day in UTC, `HH:MM:SS.mmm`, for readable lines.
pub(crate) fn clock_utc() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        d.subsec_millis()
    )
}

/// Writes one line to stdout; exits quietly with [`BROKEN_PIPE`] when the reader is
/// gone, with 1 (after saying so on stderr) on another error.
pub(crate) fn line(args: fmt::Arguments<'_>) {
    if let Err(e) = try_line(args) {
        exit_on(&e);
    }
}

/// Ends the process for a failed stdout write: quietly with [`BROKEN_PIPE`] when the
/// reader is gone, else with 1 after reporting `e` on stderr.
pub(crate) fn exit_on(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        exit_broken_pipe();
    }
    err_line(format_args!("smpp: cannot write to stdout: {e}"));
    std::process::exit(1)
}

/// Ends the process quietly with [`BROKEN_PIPE`].
pub(crate) fn exit_broken_pipe() -> ! {
    log::debug!("stdout's reader went away; exiting with {BROKEN_PIPE}");
    std::process::exit(BROKEN_PIPE)
}

/// Writes to stderr, ignoring errors.
pub(crate) fn err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Writes one line to stderr, ignoring errors.
pub(crate) fn err_line(args: fmt::Arguments<'_>) {
    let mut e = io::stderr().lock();
    let _ = e.write_fmt(args).and_then(|()| e.write_all(b"\n"));
}

/// `println!` that stops the process quietly when stdout's reader went away (see the
/// module docs).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}

/// `eprintln!` that ignores errors.
macro_rules! errln {
    () => {
        $crate::out::err_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::err_line(format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};

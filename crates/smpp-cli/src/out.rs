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

/// Whether to colour what goes to stdout, decided once: `NO_COLOR` set and non-empty
/// turns colour off (<https://no-color.org>); else `CLICOLOR_FORCE` set to anything but
/// `0` turns it on; else stdout must be a terminal.
pub(crate) fn colour_on_stdout() -> bool {
    use std::io::IsTerminal;
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if set("NO_COLOR").is_some() {
            return false;
        }
        if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
            return true;
        }
        io::stdout().is_terminal()
    })
}

/// What a readable line says, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Done as asked (submitted, delivered, answered): green.
    Good,
    /// Failed (refused, undeliverable, expired): red.
    Bad,
    /// Neither yet (enroute, accepted, intermediate): yellow.
    Pending,
    /// Something that came in (an MO message): cyan.
    Incoming,
}

/// `line` with its first word in `tone`'s colour when stdout takes colour (see
/// [`colour_on_stdout`]), else as it is. Only the first word is coloured, so the columns
/// after it stay aligned and readable in any theme.
pub(crate) fn tinted(tone: Tone, line: String) -> String {
    if !colour_on_stdout() {
        return line;
    }
    let code = match tone {
        Tone::Good => "32",
        Tone::Bad => "31",
        Tone::Pending => "33",
        Tone::Incoming => "36",
    };
    match line.split_once(' ') {
        Some((word, rest)) => format!("\x1b[{code}m{word}\x1b[0m {rest}"),
        None => format!("\x1b[{code}m{line}\x1b[0m"),
    }
}

/// The tone of a receipt's or a message's state: delivered is good, another final state
/// bad, the rest pending.
pub(crate) fn state_tone(state: &smpp_pdu::receipt::ReceiptState) -> Tone {
    use smpp_pdu::receipt::ReceiptState;
    if *state == ReceiptState::Delivered {
        Tone::Good
    } else if state.is_final() {
        Tone::Bad
    } else {
        Tone::Pending
    }
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

//! `smpp` whose stdout reader goes away (`smpp ... | head -1`) stops quietly with
//! status 141 (128 + SIGPIPE, what a shell reports for a writer that SIGPIPE ended),
//! without a panic or a "Broken pipe" message.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// What `smpp` exits with when its stdout reader is gone.
const BROKEN_PIPE_STATUS: i32 = 141;

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smpp runs")
}

/// Closes the child's stdout (after reading `lines` lines of it), then waits up to 30 s
/// for it to end; its exit code and stderr.
fn close_stdout_and_wait(mut child: Child, lines: usize) -> (Option<i32>, String) {
    let mut stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    // stderr reaches EOF when the process ends.
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    for _ in 0..lines {
        let mut line = String::new();
        out.read_line(&mut line).expect("a line");
        assert!(line.ends_with('\n'), "a whole line: {line:?}");
    }
    drop(out);
    let err = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(e) => e,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("smpp did not stop within 30 s after its reader went away");
        }
    };
    let status = child.wait().expect("wait");
    (status.code(), err)
}

fn assert_quiet_stop(what: &str, (code, err): (Option<i32>, String)) {
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("failed"),
        "{what}: {err}"
    );
    assert_eq!(code, Some(BROKEN_PIPE_STATUS), "{what}: {err}");
}

/// An enquire_link as hex.
const ENQUIRE_LINK: &str = "00000010000000150000000000000001";

#[test]
fn decode_stops_quietly_when_its_reader_goes_away() {
    let mut child = spawn(&["decode"]);
    let mut stdin = child.stdin.take().expect("stdin");
    // Far more output than a pipe buffers, so decode writes after the reader left.
    let writer = std::thread::spawn(move || {
        let line = format!("{ENQUIRE_LINK}\n");
        for _ in 0..50_000 {
            if stdin.write_all(line.as_bytes()).is_err() {
                break; // decode stopped reading
            }
        }
    });
    assert_quiet_stop("decode", close_stdout_and_wait(child, 1));
    writer.join().expect("writer");
}

#[test]
fn encode_stops_quietly_when_its_reader_goes_away() {
    let mut child = spawn(&["encode"]);
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let line = "{\"command\":\"enquire_link\",\"sequence_number\":1}\n";
        for _ in 0..50_000 {
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    assert_quiet_stop("encode", close_stdout_and_wait(child, 1));
    writer.join().expect("writer");
}

#[test]
fn demo_stops_quietly_when_its_reader_goes_away() {
    // The first line comes at once; the receipts come 200 ms later, after the close.
    let child = spawn(&["demo", "--json"]);
    assert_quiet_stop("demo", close_stdout_and_wait(child, 1));
}

#[test]
fn bench_json_stops_quietly_when_its_reader_goes_away() {
    // bench prints only when the 20000 submits are done, long after the close.
    let child = spawn(&["bench", "--count", "20000", "--window", "64", "--json"]);
    assert_quiet_stop("bench", close_stdout_and_wait(child, 0));
}

#[test]
fn smsc_stats_stop_quietly_when_the_reader_goes_away() {
    // After the listening line, counters every 50 ms: the next ones find no reader.
    let child = spawn(&[
        "smsc",
        "--listen",
        "127.0.0.1:0",
        "--stats-every",
        "0.05",
        "--duration",
        "60",
    ]);
    assert_quiet_stop("smsc", close_stdout_and_wait(child, 1));
}

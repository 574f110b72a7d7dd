//! What the CLI's integration tests share: running the built `smpp` binary as a child
//! process with a bound on how long it may take.

#![allow(dead_code)] // each test file uses its part

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Starts `smpp ARGS` with piped stdout and stderr and no stdin.
pub(crate) fn spawn(args: &[&str]) -> Child {
    spawn_env(args, &[])
}

/// Starts `smpp ARGS` with these environment variables set (and `SMPP_PASSWORD` and
/// `SMPP_CONFIG` removed unless given), piped stdout and stderr and no stdin.
pub(crate) fn spawn_env(args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smpp"));
    cmd.env_remove("SMPP_PASSWORD").env_remove("SMPP_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smpp runs")
}

/// Waits for `child` at most `limit` (then kills it and fails the test, with its output).
/// Its stdout and stderr are read meanwhile, on threads of their own: a child that writes
/// more than a pipe holds (a completion script) would otherwise block and never end.
pub(crate) fn finish(mut child: Child, limit: Duration, what: &str) -> Output {
    use std::io::Read;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not finish within {limit:?}\n{}\n{}",
                String::from_utf8_lossy(&out.join().unwrap_or_default()),
                String::from_utf8_lossy(&err.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

pub(crate) fn smpp(args: &[&str]) -> Output {
    finish(
        spawn(args),
        Duration::from_secs(30),
        &format!("smpp {args:?}"),
    )
}

/// Runs `smpp ARGS` with environment variables to its end (at most 30 s).
pub(crate) fn smpp_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    finish(
        spawn_env(args, env),
        Duration::from_secs(30),
        &format!("smpp {args:?}"),
    )
}

/// Its stdout, as UTF-8.
pub(crate) fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8")
}

/// Its stderr.
pub(crate) fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Starts `smpp smsc --listen 127.0.0.1:PORT ARGS...` on a free port and waits (at most
/// 10 s) until it accepts connections; returns the process and the address.
pub(crate) fn smsc_child(args: &[&str]) -> (Child, String) {
    // A free port (taken back at once; the SMSC binds it right after).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut all = vec!["smsc", "--listen", addr.as_str()];
    all.extend_from_slice(args);
    let server = spawn(&all);
    let up = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(10),
            "the SMSC never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (server, addr)
}

/// Starts `smpp smsc --listen 127.0.0.1:0 ARGS...` (its log discarded) and returns it
/// with the address from the line it prints once it listens.
pub(crate) fn smsc_listening(args: &[&str]) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args(["smsc", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("smpp smsc runs");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut first)
        .expect("the listening line");
    let addr = first
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (child, addr)
}

/// A directory of a test's own under the system's temporary directory, removed when
/// dropped.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl TempDir {
    /// A fresh, empty `smpp-cli-NAME-PID`.
    pub(crate) fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("smpp-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `text` to `name` in it; the path.
    pub(crate) fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

//! A real `redis-server` for tests: on a free loopback port, without persistence, in a
//! directory of its own, always killed (a `Drop` guard) and its directory removed.
//!
//! Self-contained (the standard library only), so other crates' tests can copy or
//! `#[path]`-include it. When `redis-server` is not installed, [`RedisServer::start`]
//! prints "skipped: redis-server not installed" and gives `None`; the test returns.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `redis-server`; killed when dropped.
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: Option<String>,
    dir: PathBuf,
}

/// Whether `redis-server` can be run; prints the skip line when it cannot.
pub(crate) fn available() -> bool {
    let ok = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: redis-server not installed (apt-get install redis-server)");
        }
    }
    ok
}

/// A loopback port nothing listens on now (bound, then released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl RedisServer {
    /// A server on a free port; `None` (after printing why) when `redis-server` is not
    /// installed.
    pub(crate) fn start() -> Option<RedisServer> {
        RedisServer::start_with(None)
    }

    /// A server that requires `password` (`--requirepass`).
    pub(crate) fn start_with(password: Option<&str>) -> Option<RedisServer> {
        if !available() {
            return None;
        }
        // Another process may take the port between probing and binding: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            match RedisServer::spawn(free_port(), password) {
                Ok(s) => return Some(s),
                Err(e) => last = e,
            }
        }
        panic!("redis-server did not start: {last}");
    }

    /// A server on `port` (a port a stopped server used, to play a restart).
    pub(crate) fn start_on(port: u16, password: Option<&str>) -> RedisServer {
        RedisServer::spawn(port, password)
            .unwrap_or_else(|e| panic!("redis-server did not start on {port}: {e}"))
    }

    fn spawn(port: u16, password: Option<&str>) -> Result<RedisServer, String> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "smpp-redis-test-{}-{}-{port}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let log = std::fs::File::create(dir.join("redis.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        if let Some(p) = password {
            cmd.args(["--requirepass", p]);
        }
        let child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
        let mut server = RedisServer {
            child: Some(child),
            port,
            password: password.map(str::to_string),
            dir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if server.answers_ping() {
                return Ok(server);
            }
            if let Some(Ok(Some(status))) = server.child.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(server.dir.join("redis.log")).unwrap_or_default();
                return Err(format!("exited ({status}): {log}"));
            }
            if Instant::now() > deadline {
                return Err(format!("no PING answer within {START_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server answers PING (NOAUTH counts: it is up and wants a password).
    fn answers_ping(&self) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(n) => buf[..n].starts_with(b"+PONG") || buf[..n].starts_with(b"-NOAUTH"),
            Err(_) => false,
        }
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `redis://[:PASSWORD@]127.0.0.1:PORT/DB`.
    pub(crate) fn url(&self, db: u8) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/{db}", self.port),
            None => format!("redis://127.0.0.1:{}/{db}", self.port),
        }
    }

    /// Stops (`SIGSTOP`) or resumes (`SIGCONT`) the server: a Redis that hangs.
    pub(crate) fn pause(&self, paused: bool) {
        let pid = self.child.as_ref().expect("a running server").id();
        let signal = if paused { "-STOP" } else { "-CONT" };
        let ok = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {signal} {pid}");
    }

    /// Kills the server and waits until it is gone (its port released).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A paused server would not die of SIGKILL any later, but resume it anyway so
            // the process is reaped at once.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

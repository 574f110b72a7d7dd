//! `cargo xtask interop`: our stack against implementations nobody on this team wrote.
//!
//! Installs the pinned peers (see [`crate::peers`]), builds the `smpp` CLI and the Rust
//! drivers (`crates/smpp-cli/examples/interop_esme.rs` and `interop_tls.rs`), then runs five
//! scenarios, each a node script under `interop/node/` that prints its failed checks and a
//! count and exits non-zero on any failure:
//!
//! 1. `esme_vs_node_smsc.js`: our client against a node-smpp SMSC, run twice: with the
//!    blocking `smpp-client` and with `smpp-tokio`'s async client (`SMPP_INTEROP_FACE`).
//! 2. `peers_vs_our_smsc.js`: the node-smpp and python-smpplib ESMEs against `smpp smsc`.
//! 3. `codec.js`: PDUs encoded by one side and decoded by the other, field by field.
//! 4. `tls.js`: TLS with a classic-only peer (no post-quantum key exchange), both ways: our
//!    client against node-smpp's TLS server, node-smpp's TLS client against `smpp smsc`.
//!
//! Everything runs on 127.0.0.1 with ports the OS picks, and each scenario is killed after
//! [`SCENARIO_TIMEOUT`]. The logs are kept in `target/interop/` for a look after a failure.
//! A missing tool or peer is an error, never a skip. docs/interop.md has the details.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{cargo, display, peers, repo_root, run_status, Result};

/// Longest a scenario may run before it is killed and counted as failed.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(120);

/// The cargo target directory (`CARGO_TARGET_DIR` or `target/`).
fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// Runs `cmd` with inherited output, killing it after `timeout` (on Unix with everything it
/// started: it runs in a process group of its own, so an `smpp smsc` it started goes too).
fn run_bounded(cmd: &mut Command, timeout: Duration) -> Result {
    let shown = display(cmd);
    println!("$ {shown}");
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    let mut child = cmd
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("`{shown}` failed with {status}")),
            Ok(None) if started.elapsed() > timeout => {
                #[cfg(unix)]
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{shown}` did not finish within {timeout:?}; killed"
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for `{shown}`: {e}")),
        }
    }
}

fn require_node() -> Result {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err(
            "`node` is needed to run the interop scripts and was not found: install \
                  Node.js 20 (Debian: apt-get install nodejs npm)"
                .to_string(),
        ),
    }
}

fn exists(path: &Path) -> Result {
    if path.is_file() {
        Ok(())
    } else {
        Err(format!("{} is missing after the build", path.display()))
    }
}

/// One node script and its arguments.
struct Scenario {
    /// Printed before it runs and in the summary.
    name: &'static str,
    /// File under `interop/node/`.
    script: &'static str,
    /// `--flag value` pairs.
    args: Vec<(&'static str, PathBuf)>,
    /// Environment variables for the script (and the drivers it starts).
    env: Vec<(&'static str, &'static str)>,
}

/// `cargo xtask interop`.
pub(crate) fn run() -> Result {
    let started = Instant::now();
    require_node()?;
    let node_path = peers::ensure_node()?;
    let python = peers::ensure_python()?;
    run_status(cargo().args([
        "build",
        "--quiet",
        "-p",
        "smpp-cli",
        "--bin",
        "smpp",
        "--example",
        "interop_esme",
        "--example",
        "interop_tls",
    ]))?;
    let target = target_dir();
    let exe = env::consts::EXE_SUFFIX;
    let smpp = target.join("debug").join(format!("smpp{exe}"));
    let driver = target
        .join("debug")
        .join("examples")
        .join(format!("interop_esme{exe}"));
    let tls_driver = target
        .join("debug")
        .join("examples")
        .join(format!("interop_tls{exe}"));
    exists(&smpp)?;
    exists(&driver)?;
    exists(&tls_driver)?;
    let logs = target.join("interop");
    std::fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;
    let scripts = repo_root().join("interop").join("node");
    // The tokio face writes its logs apart, so that both runs can be looked at.
    let tokio_logs = logs.join("tokio");
    std::fs::create_dir_all(&tokio_logs)
        .map_err(|e| format!("creating {}: {e}", tokio_logs.display()))?;

    let scenarios = [
        Scenario {
            name: "our client vs the node-smpp SMSC",
            script: "esme_vs_node_smsc.js",
            args: vec![("--driver", driver.clone()), ("--dir", logs.clone())],
            env: vec![],
        },
        Scenario {
            name: "smpp-tokio's client vs the node-smpp SMSC",
            script: "esme_vs_node_smsc.js",
            args: vec![("--driver", driver.clone()), ("--dir", tokio_logs.clone())],
            env: vec![("SMPP_INTEROP_FACE", "tokio")],
        },
        Scenario {
            name: "node-smpp and smpplib ESMEs vs smpp smsc",
            script: "peers_vs_our_smsc.js",
            args: vec![
                ("--smpp", smpp.clone()),
                ("--python", python.clone()),
                ("--dir", logs.clone()),
            ],
            env: vec![],
        },
        Scenario {
            name: "codec cross-check",
            script: "codec.js",
            args: vec![("--smpp", smpp.clone()), ("--python", python.clone())],
            env: vec![],
        },
        Scenario {
            name: "TLS with a classic-only peer, both ways",
            script: "tls.js",
            args: vec![
                ("--driver", tls_driver),
                ("--smpp", smpp.clone()),
                ("--dir", logs.clone()),
            ],
            env: vec![],
        },
    ];
    let mut failed = Vec::new();
    let mut timings = Vec::new();
    for Scenario {
        name,
        script,
        args,
        env,
    } in scenarios
    {
        println!("\n--> interop: {name}");
        let t = Instant::now();
        let mut cmd = Command::new("node");
        cmd.arg(scripts.join(script))
            .env("NODE_PATH", &node_path)
            .current_dir(repo_root());
        for (flag, value) in args {
            cmd.arg(flag).arg(value);
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        if let Err(e) = run_bounded(&mut cmd, SCENARIO_TIMEOUT) {
            println!("interop: {name}: {e}");
            failed.push(name);
        }
        timings.push((name, t.elapsed().as_secs_f64()));
    }
    println!(
        "\ninterop finished in {:.1} s (logs in {}):",
        started.elapsed().as_secs_f64(),
        logs.display()
    );
    for (name, secs) in timings {
        println!("  {name:<42} {secs:>5.1} s");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("interop scenarios failed: {}", failed.join("; ")))
    }
}

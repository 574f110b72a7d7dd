//! `cargo xtask ci`: the checks CI runs, in order, failing fast.

use std::time::Instant;

use crate::{cargo, run_status, Result};

/// One CI step: a name for the log and a `cargo` invocation.
struct Step {
    /// Short name printed before the step and in the failure message.
    name: &'static str,
    /// Arguments to `cargo`.
    args: &'static [&'static str],
    /// Extra environment variables.
    env: &'static [(&'static str, &'static str)],
}

/// The steps, in the order they run.
const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        args: &["fmt", "--all", "--", "--check"],
        env: &[],
    },
    Step {
        name: "clippy",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        // Unit, integration and doc tests; includes the tidy test (xtask) and the
        // fuzz-seed replay test (smpp-pdu).
        name: "test",
        args: &["test", "--workspace"],
        env: &[],
    },
    Step {
        // The library crates without TLS (`default-features = false`), a build the
        // workspace never makes: an item under a TLS feature must not break it.
        name: "no-tls",
        args: &[
            "check",
            "--package",
            "smpp-transport",
            "--package",
            "smpp-client",
            "--package",
            "smpp-tokio",
            "--package",
            "smpp-smsc",
            "--no-default-features",
        ],
        env: &[],
    },
    Step {
        // The transport built with ring as its only TLS provider (`tls-ring`), which the
        // workspace build never compiles: its TLS tests (the key exchange it settles on
        // included) and the certificate checks (pinning, insecure, mutual TLS) with ring's
        // signature algorithms.
        name: "tls-ring",
        args: &[
            "test",
            "--package",
            "smpp-transport",
            "--no-default-features",
            "--features",
            "tls-ring",
            "--test",
            "tls",
            "--test",
            "tls_trust",
        ],
        env: &[],
    },
    Step {
        // Our client, SMSC and codec against node-smpp and python-smpplib
        // (`cargo xtask interop`, docs/interop.md); installs them on first use.
        name: "interop",
        args: &[
            "run",
            "--quiet",
            "--package",
            "xtask",
            "--bin",
            "xtask",
            "--",
            "interop",
        ],
        env: &[],
    },
    Step {
        // The Python package (`cargo xtask python`): fmt and clippy on python/, a wheel
        // built with maturin and installed into the peers' virtualenv, its pytest suite.
        name: "python",
        args: &[
            "run",
            "--quiet",
            "--package",
            "xtask",
            "--bin",
            "xtask",
            "--",
            "python",
        ],
        env: &[],
    },
    Step {
        name: "doc",
        args: &["doc", "--workspace", "--no-deps"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

/// Runs every step; stops at the first failure and names it.
pub(crate) fn run() -> Result {
    let total = Instant::now();
    let mut timings = Vec::new();
    for (i, step) in STEPS.iter().enumerate() {
        println!("\n==> [{}/{}] {}", i + 1, STEPS.len(), step.name);
        let started = Instant::now();
        let mut cmd = cargo();
        cmd.args(step.args);
        for (key, value) in step.env {
            cmd.env(key, value);
        }
        let result = run_status(&mut cmd);
        let secs = started.elapsed().as_secs_f64();
        println!("==> {} took {secs:.1} s", step.name);
        if let Err(e) = result {
            return Err(format!(
                "CI step `{}` failed after {secs:.1} s: {e}",
                step.name
            ));
        }
        timings.push((step.name, secs));
    }
    println!("\nCI passed in {:.1} s:", total.elapsed().as_secs_f64());
    for (name, secs) in timings {
        println!("  {name:<8} {secs:>7.1} s");
    }
    Ok(())
}

//! `cargo xtask soak [--seconds N] [--rate R] [--warmup S]`: runs the soak binary
//! (`benches/soak`) in release mode.
//!
//! It submits at a fixed rate with delivery receipts and scheduled MO messages against the
//! test SMSC for N seconds, and fails when a message is lost or memory grows (see
//! `benches/soak/src/main.rs` and `docs/soak.md`).

use crate::{cargo, repo_root, run_status, Result};

/// Runs the soak with these arguments (passed through).
pub(crate) fn run(args: &[String]) -> Result {
    let args = match args.split_first() {
        Some((first, tail)) if first == "--" => tail,
        _ => args,
    };
    let manifest = repo_root().join("benches").join("soak").join("Cargo.toml");
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--manifest-path"])
        .arg(&manifest)
        .arg("--")
        .args(args);
    run_status(&mut cmd).map_err(|e| format!("soak failed: {e}"))
}

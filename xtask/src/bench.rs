//! `cargo xtask bench [NAME] [ARGS...]`: runs the benchmark binaries under `benches/`.
//!
//! Each benchmark is a standalone crate, excluded from the workspace, run in release mode
//! with `cargo run --release --manifest-path benches/<name>/Cargo.toml -- ARGS`.
//!
//! - `cargo xtask bench [ARGS...]` runs codec, content, session, lifecycle, e2e, peers and scale, in that order,
//!   each with the same ARGS; every bench takes `--quick` and `--json`, so pass only those here.
//! - `cargo xtask bench NAME [ARGS...]` runs one, with options of its own (such as codec's
//!   `--rusmpp-tlv-cap 16`).
//!
//! `peers` runs other SMPP clients (node-smpp, smpplib) too: before it starts, they are
//! installed into `target/peers` as `cargo xtask peers` does, and their locations are passed
//! on in `SMPP_PEERS_NODE_PATH` and `SMPP_PEERS_PYTHON`; the Python package of this
//! repository is built (release) and installed into the same virtualenv.
//!
//! `scale` builds the `smpp` binary (`cargo build --release -p smpp-cli`) and runs
//! `smpp smsc` as a child process holding 10,000 bound sessions (`--quick`: 1,000).

use crate::{cargo, repo_root, run_status, Result};

/// Every benchmark crate under `benches/`, in the order `cargo xtask bench` runs them.
const BENCHES: &[&str] = &[
    "codec",
    "content",
    "session",
    "lifecycle",
    "e2e",
    "peers",
    "scale",
];

/// Runs the named benchmark with the remaining arguments, or every benchmark when the
/// first argument is not a benchmark name.
pub(crate) fn run(args: &[String]) -> Result {
    let (selected, rest): (Vec<&str>, &[String]) = match args.split_first() {
        Some((first, rest)) if BENCHES.contains(&first.as_str()) => (vec![first.as_str()], rest),
        Some((first, _)) if !first.starts_with('-') => {
            return Err(format!(
                "unknown benchmark `{first}`; available: {}",
                BENCHES.join(", ")
            ))
        }
        _ => (BENCHES.to_vec(), args),
    };
    // `cargo xtask bench codec -- --quick` and `cargo xtask bench codec --quick` are alike.
    let rest = match rest.split_first() {
        Some((first, tail)) if first == "--" => tail,
        _ => rest,
    };
    for name in selected {
        let manifest = repo_root().join("benches").join(name).join("Cargo.toml");
        if !manifest.is_file() {
            return Err(format!(
                "benchmark `{name}` not found: {} does not exist",
                manifest.display()
            ));
        }
        println!("==> bench {name}");
        let mut cmd = cargo();
        if name == "peers" {
            let node = crate::peers::ensure_node()?;
            // The Python package too (release build), for the `python-ours` row.
            let python = crate::python::install(true)?;
            cmd.env("SMPP_PEERS_NODE_PATH", node)
                .env("SMPP_PEERS_PYTHON", python);
        }
        cmd.args(["run", "--release", "--manifest-path"])
            .arg(&manifest)
            .arg("--")
            .args(rest);
        run_status(&mut cmd).map_err(|e| format!("benchmark `{name}` failed: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::BENCHES;
    use crate::repo_root;

    /// Every listed bench is a package with a binary under `benches/`.
    #[test]
    fn every_listed_bench_is_a_package_with_a_binary() {
        let benches = repo_root().join("benches");
        for name in BENCHES {
            for file in ["Cargo.toml", "src/main.rs"] {
                let path = benches.join(name).join(file);
                assert!(
                    path.is_file(),
                    "bench `{name}`: {} is missing",
                    path.display()
                );
            }
        }
    }

    /// The peers bench runs these scripts with node and the smpplib virtualenv.
    #[test]
    fn the_peer_load_scripts_exist() {
        let peers = repo_root().join("benches").join("peers");
        for script in ["node/load.js", "python/load.py", "python/ours.py"] {
            assert!(
                peers.join(script).is_file(),
                "benches/peers/{script} is missing"
            );
        }
    }
}

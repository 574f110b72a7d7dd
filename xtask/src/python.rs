//! `cargo xtask python [--release]`: the Python package in `python/` (maturin + PyO3),
//! built, linted and tested the way CI does it.
//!
//! 1. The virtualenv of the peers (`target/peers/venv`, the one with smpplib, made as
//!    `cargo xtask peers` makes it) gets maturin and pytest, pinned.
//! 2. `cargo fmt --check` and `cargo clippy -D warnings` on `python/` (a workspace of its
//!    own: the extension links no libpython, so it stays out of `cargo test --workspace`).
//! 3. `maturin build` (debug, or `--release`) into `target/python-wheels`, and the wheel
//!    installed into the virtualenv.
//! 4. `pytest python/tests` with that interpreter.
//!
//! `cargo xtask bench peers` installs the release wheel through [`install`] so that its
//! `python-ours` row runs the package.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, repo_root, run_status, Result};

const MATURIN_VERSION: &str = "1.16.0";
const PYTEST_VERSION: &str = "9.2.0";

/// Where the package's Rust builds go: the workspace's own target directory, so that the
/// crates and dependencies the workspace built already (python/Cargo.lock started from the
/// workspace's lock) are not built again.
fn target_dir() -> PathBuf {
    repo_root().join("target")
}

/// Runs the whole step: lint, build, install, test.
pub(crate) fn run(args: &[String]) -> Result {
    let release = match args {
        [] => false,
        [flag] if flag == "--release" => true,
        other => {
            return Err(format!(
                "`cargo xtask python` takes only --release (got {other:?})"
            ))
        }
    };
    let manifest = repo_root().join("python").join("Cargo.toml");
    run_status(
        cargo()
            .args(["fmt", "--manifest-path"])
            .arg(&manifest)
            .args(["--", "--check"]),
    )?;
    run_status(
        cargo()
            .env("CARGO_TARGET_DIR", target_dir())
            .args(["clippy", "--manifest-path"])
            .arg(&manifest)
            .args(["--all-targets", "--", "-D", "warnings"]),
    )?;
    let python = install(release)?;
    run_status(
        Command::new(&python)
            .current_dir(repo_root())
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(repo_root().join("python").join("tests")),
    )
    .map_err(|e| format!("the Python package's tests failed: {e}"))
}

/// Builds the wheel and installs it into the peers' virtualenv; that interpreter.
pub(crate) fn install(release: bool) -> Result<PathBuf> {
    let python = crate::peers::ensure_python()?;
    let bin = python
        .parent()
        .map(Path::to_path_buf)
        .ok_or("the virtualenv's python has no directory")?;
    let maturin = bin.join("maturin");
    if !has_version(&maturin, MATURIN_VERSION) || !has_pytest(&python) {
        crate::peers::pip_install(
            &python,
            &[
                format!("maturin=={MATURIN_VERSION}"),
                format!("pytest=={PYTEST_VERSION}"),
            ],
        )
        .map_err(|e| format!("installing maturin and pytest failed (is PyPI reachable?): {e}"))?;
    }
    let wheels = target_dir().join("python-wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    let mut build = Command::new(&maturin);
    build
        .current_dir(repo_root().join("python"))
        .env("CARGO_TARGET_DIR", target_dir())
        .env("VIRTUAL_ENV", bin.parent().unwrap_or(&bin))
        .args(["build", "--quiet", "--interpreter"])
        .arg(&python)
        .arg("--out")
        .arg(&wheels);
    if release {
        build.arg("--release");
    }
    run_status(&mut build).map_err(|e| format!("maturin build failed: {e}"))?;
    let wheel = std::fs::read_dir(&wheels)
        .map_err(|e| format!("{}: {e}", wheels.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("no wheel in {}", wheels.display()))?;
    crate::peers::pip_install(
        &python,
        &[
            "--force-reinstall".into(),
            "--no-deps".into(),
            wheel.display().to_string(),
        ],
    )
    .map_err(|e| format!("installing {} failed: {e}", wheel.display()))?;
    Ok(python)
}

fn has_version(program: &Path, version: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(version))
}

fn has_pytest(python: &Path) -> bool {
    Command::new(python)
        .args([
            "-c",
            "import pytest, sys; sys.exit(pytest.__version__ != sys.argv[1])",
        ])
        .arg(PYTEST_VERSION)
        .output()
        .is_ok_and(|o| o.status.success())
}

//! Independent SMPP peers, installed on demand into `target/peers/`.
//!
//! The interop suite and the peer benchmarks run against implementations nobody on this
//! team wrote: the npm package `smpp` (node-smpp, an SMSC and an ESME) and the PyPI
//! package `smpplib` (a synchronous ESME). They are installed into a folder of the
//! repository's own, never globally, pinned to exact versions, so that a fresh machine
//! reproduces the same peers. A missing tool (node, npm, python3) is an error with a clear
//! message: the callers never skip silently.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{repo_root, run_status, Result};

/// The exact node-smpp version the suite is written against.
pub(crate) const NODE_SMPP_VERSION: &str = "0.5.1";
/// The exact python-smpplib version the suite is written against.
pub(crate) const SMPPLIB_VERSION: &str = "2.2.4";

/// `target/peers`, where every peer lives.
pub(crate) fn peers_dir() -> PathBuf {
    repo_root().join("target").join("peers")
}

/// The npm prefix: `node_modules/smpp` lives below it.
pub(crate) fn node_dir() -> PathBuf {
    peers_dir().join("node")
}

/// The Python virtualenv holding `smpplib`.
pub(crate) fn venv_dir() -> PathBuf {
    peers_dir().join("venv")
}

/// The virtualenv's interpreter.
pub(crate) fn venv_python() -> PathBuf {
    venv_dir().join("bin").join("python3")
}

/// Checks that `program --version` runs, or says what to install.
fn require(program: &str, hint: &str) -> Result {
    match Command::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err(format!(
            "`{program}` is needed for the interop peers and was not found: {hint}"
        )),
    }
}

/// Installs node-smpp into [`node_dir`] unless the pinned version is already there.
/// Returns the directory that `NODE_PATH` should point at (`.../node_modules`).
pub(crate) fn ensure_node() -> Result<PathBuf> {
    let dir = node_dir();
    let modules = dir.join("node_modules");
    let manifest = modules.join("smpp").join("package.json");
    let installed = std::fs::read_to_string(&manifest)
        .map(|s| s.contains(&format!("\"version\": \"{NODE_SMPP_VERSION}\"")))
        .unwrap_or(false);
    if installed {
        return Ok(modules);
    }
    require(
        "node",
        "install Node.js 20 (Debian: apt-get install nodejs npm)",
    )?;
    require("npm", "install npm (Debian: apt-get install npm)")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    println!(
        "installing node-smpp {NODE_SMPP_VERSION} into {}",
        dir.display()
    );
    run_status(
        Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&dir)
            .args([
                "--no-audit",
                "--no-fund",
                "--save-exact",
                "--loglevel=error",
            ])
            .arg(format!("smpp@{NODE_SMPP_VERSION}")),
    )
    .map_err(|e| format!("installing node-smpp failed (is the npm registry reachable?): {e}"))?;
    if !manifest.exists() {
        return Err(format!(
            "npm finished but {} is missing",
            manifest.display()
        ));
    }
    Ok(modules)
}

/// Creates the virtualenv and installs smpplib into it unless already there.
/// Returns the interpreter to run peer scripts with.
pub(crate) fn ensure_python() -> Result<PathBuf> {
    let python = venv_python();
    if python.exists() {
        let probe = Command::new(&python)
            .args([
                "-c",
                "import importlib.metadata as m; print(m.version('smpplib'))",
            ])
            .output();
        if let Ok(out) = probe {
            if out.status.success()
                && String::from_utf8_lossy(&out.stdout).trim() == SMPPLIB_VERSION
            {
                return Ok(python);
            }
        }
    }
    require(
        "python3",
        "install Python 3 with venv (Debian: apt-get install python3-venv)",
    )?;
    let venv = venv_dir();
    std::fs::create_dir_all(peers_dir())
        .map_err(|e| format!("creating {}: {e}", peers_dir().display()))?;
    println!(
        "creating a virtualenv with smpplib {SMPPLIB_VERSION} in {}",
        venv.display()
    );
    run_status(Command::new("python3").args(["-m", "venv"]).arg(&venv))
        .map_err(|e| format!("python3 -m venv failed (Debian needs python3-venv): {e}"))?;
    pip_install(&python, &[format!("smpplib=={SMPPLIB_VERSION}")])
        .map_err(|e| format!("installing smpplib failed (is PyPI reachable?): {e}"))?;
    Ok(python)
}

/// `python -m pip install --quiet` of these requirements (or wheel files) into the
/// interpreter's environment.
pub(crate) fn pip_install(python: &Path, requirements: &[String]) -> Result {
    run_status(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(requirements),
    )
}

//! `cargo xtask deps-check [PACKAGE...]`: would every lock file of the
//! repository still build without warnings on the latest compatible dependencies?
//!
//! The committed lock files pin what CI builds, so a dependency that deprecates something
//! we call (rustls 0.23.48 deprecating `rustls::crypto::ring::default_provider`, issue 23)
//! stays invisible until the first `cargo update` turns it into a CI failure under
//! `-D warnings`. This command finds that ahead of time, without touching the checkout:
//!
//! 1. copies the repository to `target/deps-check/src` (without `target/` folders and
//!    `.git`), replacing an earlier copy;
//! 2. for the workspace and for every standalone package with a lock of its own
//!    (`benches/*`, `fuzz`): runs `cargo update` there, then
//!    `RUSTFLAGS="-D warnings" cargo build --all-targets` (the workspace with
//!    `--workspace`), with one shared target folder, `target/deps-check/target`;
//! 3. prints pass or fail per package, and fails if any failed.
//!
//! Deprecations and other warnings in dependencies do not count (cargo caps their lints);
//! warnings in our code do. It reaches the crates.io index (`cargo update`) and is not part
//! of `cargo xtask ci`, whose builds stay on the committed locks. Name packages
//! (`workspace`, `benches/soak`, `fuzz`, ...) to check only those.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{display, repo_root, Result};

/// One package checked: its name in the report and its folder relative to the copy.
struct Package {
    /// `workspace`, `benches/<name>` or `fuzz`.
    name: String,
    /// Its folder, relative to the repository root (empty for the workspace).
    dir: PathBuf,
}

/// The workspace, then every standalone package with a `Cargo.lock` of its own.
fn packages(root: &Path) -> Result<Vec<Package>> {
    let mut found = vec![Package {
        name: "workspace".into(),
        dir: PathBuf::new(),
    }];
    let benches = root.join("benches");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&benches)
        .map_err(|e| format!("cannot list {}: {e}", benches.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file() && p.join("Cargo.lock").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        found.push(Package {
            name: format!("benches/{name}"),
            dir: Path::new("benches").join(name.as_ref()),
        });
    }
    if root.join("fuzz").join("Cargo.lock").is_file() {
        found.push(Package {
            name: "fuzz".into(),
            dir: PathBuf::from("fuzz"),
        });
    }
    Ok(found)
}

/// Copies `from` into `to`, skipping `target` folders and `.git`. Symbolic links are copied
/// as what they point to.
fn copy_tree(from: &Path, to: &Path) -> io::Result<u64> {
    fs::create_dir_all(to)?;
    let mut files = 0;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let source = entry.path();
        let dest = to.join(&name);
        if source.is_dir() {
            if name == "target" || name == ".git" {
                continue;
            }
            files += copy_tree(&source, &dest)?;
        } else {
            fs::copy(&source, &dest)?;
            files += 1;
        }
    }
    Ok(files)
}

/// Runs a command in `dir`, printing it first; whether it succeeded.
fn run_in(dir: &Path, cmd: &mut Command) -> bool {
    cmd.current_dir(dir);
    println!("$ (in {}) {}", dir.display(), display(cmd));
    match cmd.status() {
        Ok(status) => status.success(),
        Err(e) => {
            println!("could not start it: {e}");
            false
        }
    }
}

/// A `cargo` command with the environment of this check: our target folder, and no
/// `RUSTFLAGS` from the caller.
fn cargo_in(target: &Path) -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    cmd
}

/// The outcome of one package.
enum Verdict {
    Pass,
    UpdateFailed,
    BuildFailed,
}

/// Runs the check (see the module's documentation).
pub(crate) fn run(args: &[String]) -> Result {
    if let Some(flag) = args.iter().find(|a| a.starts_with('-')) {
        return Err(format!(
            "`cargo xtask deps-check` takes package names only (got {flag})"
        ));
    }
    let root = repo_root();
    let all = packages(&root)?;
    let chosen: Vec<&Package> = if args.is_empty() {
        all.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for arg in args {
            let name = arg.trim_end_matches('/');
            match all.iter().find(|p| p.name == name) {
                Some(p) => chosen.push(p),
                None => {
                    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
                    return Err(format!(
                        "no package `{arg}` to check; there are: {}",
                        names.join(", ")
                    ));
                }
            }
        }
        chosen
    };

    let scratch = root.join("target").join("deps-check");
    let copy = scratch.join("src");
    let target = scratch.join("target");
    if copy.exists() {
        fs::remove_dir_all(&copy)
            .map_err(|e| format!("cannot remove the old copy {}: {e}", copy.display()))?;
    }
    let files = copy_tree(&root, &copy)
        .map_err(|e| format!("cannot copy the repository to {}: {e}", copy.display()))?;
    println!(
        "copied the repository ({files} files, without target/ and .git) to {}",
        copy.display()
    );

    let total = Instant::now();
    let mut report = Vec::new();
    for package in chosen {
        let dir = copy.join(&package.dir);
        println!("\n==> {}", package.name);
        let started = Instant::now();
        let mut update = cargo_in(&target);
        update.arg("update");
        let verdict = if !run_in(&dir, &mut update) {
            Verdict::UpdateFailed
        } else {
            let mut build = cargo_in(&target);
            build.env("RUSTFLAGS", "-D warnings").arg("build");
            if package.dir.as_os_str().is_empty() {
                build.arg("--workspace");
            }
            build.arg("--all-targets");
            if run_in(&dir, &mut build) {
                Verdict::Pass
            } else {
                Verdict::BuildFailed
            }
        };
        let secs = started.elapsed().as_secs_f64();
        report.push((package.name.as_str(), verdict, secs));
    }

    println!(
        "\ndeps-check ({:.0} s; latest compatible dependencies, warnings denied):",
        total.elapsed().as_secs_f64()
    );
    let mut failed = Vec::new();
    for (name, verdict, secs) in &report {
        let shown = match verdict {
            Verdict::Pass => "pass",
            Verdict::UpdateFailed => "FAIL (cargo update)",
            Verdict::BuildFailed => "FAIL (build with -D warnings)",
        };
        println!("  {name:<20} {shown:<30} {secs:>6.0} s");
        if !matches!(verdict, Verdict::Pass) {
            failed.push(*name);
        }
    }
    println!("(the updated copy stays in {})", copy.display());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "deps-check: {} of {} failed: {}",
            failed.len(),
            report.len(),
            failed.join(", ")
        ))
    }
}

//! `cargo xtask fuzz [--seconds N] [TARGET...]`: runs the cargo-fuzz targets under `fuzz/`
//! on the stable toolchain, and `cargo xtask fuzz-seeds`, which regenerates the seeds.
//!
//! cargo-fuzz needs nightly-only `-Z` flags; `RUSTC_BOOTSTRAP=1` lets the stable compiler
//! accept them. Each target starts from its committed seeds (`fuzz/seeds/<target>/`, copied
//! into the gitignored `fuzz/corpus/<target>/`); crashes land in `fuzz/artifacts/<target>/`.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{cargo, display, repo_root, run_status, Result};

/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 600;

/// Largest input libFuzzer generates: a little over the 64 KiB `command_length` cap, so
/// inputs just past the cap are tried too.
const MAX_LEN: u32 = 70_000;

/// What one target's run produced, for the summary table.
struct Outcome {
    target: String,
    seconds: f64,
    executions: Option<u64>,
    crashes: usize,
    /// The run failed without leaving an artifact (for example, it did not build).
    failed: bool,
}

/// Parses the arguments, then builds and runs each target in turn.
pub(crate) fn run(args: &[String]) -> Result {
    let (seconds, mut targets) = parse_args(args)?;
    let root = repo_root();
    let fuzz_dir = root.join("fuzz");
    if !fuzz_dir.join("Cargo.toml").is_file() {
        return Err(format!("no fuzz crate at {}", fuzz_dir.display()));
    }
    let available = list_targets(&fuzz_dir.join("fuzz_targets"))?;
    if targets.is_empty() {
        targets = available.clone();
    }
    for t in &targets {
        if !available.contains(t) {
            return Err(format!(
                "unknown fuzz target `{t}`; available: {}",
                available.join(", ")
            ));
        }
    }
    ensure_cargo_fuzz()?;

    let mut sanitizer_none = false;
    let mut outcomes = Vec::new();
    for target in &targets {
        println!("\n==> fuzz {target} for {seconds} s");
        let corpus = prepare_corpus(&fuzz_dir, target)?;
        if !sanitizer_none {
            let mut build = fuzz_command("build", target, false);
            if let Err(e) = run_status(&mut build) {
                eprintln!(
                    "warning: building `{target}` with AddressSanitizer failed ({e}); \
                     retrying with --sanitizer none"
                );
                sanitizer_none = true;
            }
        }
        if sanitizer_none {
            run_status(&mut fuzz_command("build", target, true))
                .map_err(|e| format!("fuzz target `{target}` does not build: {e}"))?;
        }
        outcomes.push(run_target(
            &fuzz_dir,
            target,
            &corpus,
            seconds,
            sanitizer_none,
        )?);
    }

    print_summary(&outcomes);
    let bad: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.crashes > 0 || o.failed)
        .map(|o| o.target.as_str())
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found problems in: {} (inputs in fuzz/artifacts/<target>/; \
             reproduce with `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <artifact>`)",
            bad.join(", ")
        ))
    }
}

/// `--seconds N` (or `--seconds=N`) and target names.
fn parse_args(args: &[String]) -> Result<(u64, Vec<String>)> {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = if arg == "--seconds" {
            Some(it.next().ok_or("`--seconds` needs a value")?.as_str())
        } else {
            arg.strip_prefix("--seconds=")
        };
        match value {
            Some(v) => {
                seconds =
                    v.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                        format!("`--seconds` needs a positive integer, got `{v}`")
                    })?;
            }
            None if arg.starts_with('-') => return Err(format!("unknown option `{arg}`")),
            None => targets.push(arg.clone()),
        }
    }
    Ok((seconds, targets))
}

/// The target names: one per `fuzz/fuzz_targets/<name>.rs`, sorted.
fn list_targets(dir: &Path) -> Result<Vec<String>> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names = BTreeSet::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem() {
                names.insert(stem.to_string_lossy().into_owned());
            }
        }
    }
    if names.is_empty() {
        return Err(format!("no fuzz targets in {}", dir.display()));
    }
    Ok(names.into_iter().collect())
}

/// Installs cargo-fuzz unless `cargo fuzz --version` already works.
fn ensure_cargo_fuzz() -> Result {
    let present = cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    println!("cargo-fuzz not found; installing it");
    run_status(cargo().args(["install", "cargo-fuzz", "--locked"]))
        .map_err(|e| format!("could not install cargo-fuzz: {e}"))
}

/// Copies the committed seeds into the working corpus; returns the corpus path relative
/// to the repository root.
fn prepare_corpus(fuzz_dir: &Path, target: &str) -> Result<String> {
    let seeds = fuzz_dir.join("seeds").join(target);
    let corpus = fuzz_dir.join("corpus").join(target);
    fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut copied = 0;
    if let Ok(entries) = fs::read_dir(&seeds) {
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_file() {
                let name = path.file_name().expect("a file has a name");
                fs::copy(&path, corpus.join(name))
                    .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
                copied += 1;
            }
        }
    }
    if copied == 0 {
        eprintln!(
            "warning: no seeds in {}; starting from an empty corpus",
            seeds.display()
        );
    } else {
        println!("copied {copied} seeds into {}", corpus.display());
    }
    Ok(format!("fuzz/corpus/{target}"))
}

/// `cargo fuzz <sub> [--sanitizer none] <target>` with `RUSTC_BOOTSTRAP=1`.
fn fuzz_command(sub: &str, target: &str, sanitizer_none: bool) -> Command {
    let mut cmd = cargo();
    cmd.env("RUSTC_BOOTSTRAP", "1").args(["fuzz", sub]);
    if sanitizer_none {
        cmd.args(["--sanitizer", "none"]);
    }
    cmd.arg(target);
    cmd
}

/// Runs one target for `seconds`, echoing libFuzzer's output and picking the execution
/// count out of it; counts the artifacts the run left behind.
fn run_target(
    fuzz_dir: &Path,
    target: &str,
    corpus: &str,
    seconds: u64,
    sanitizer_none: bool,
) -> Result<Outcome> {
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let before = artifact_names(&artifacts);

    let mut cmd = fuzz_command("run", target, sanitizer_none);
    cmd.arg(corpus).arg("--").args([
        format!("-max_total_time={seconds}"),
        format!("-max_len={MAX_LEN}"),
        "-print_final_stats=1".to_string(),
    ]);
    let shown = display(&cmd);
    println!("$ {shown}");
    let started = Instant::now();
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;

    let mut executions = None;
    let mut last_status_count = None;
    let mut stats_line = None;
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut reader = BufReader::new(stderr);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("warning: reading libFuzzer output failed: {e}");
                break;
            }
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end();
        eprintln!("{line}");
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            executions = n.trim().parse().ok();
            stats_line = Some(line.to_string());
        } else if let Some(n) = status_line_count(line) {
            last_status_count = Some(n);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{shown}` failed: {e}"))?;
    let secs = started.elapsed().as_secs_f64();

    let crashes = artifact_names(&artifacts).difference(&before).count();
    let executions = executions.or(last_status_count);
    match (&stats_line, executions) {
        (Some(line), _) => println!("==> {target}: {line}"),
        (None, Some(n)) => println!("==> {target}: about {n} executions (last status line)"),
        (None, None) => println!("==> {target}: libFuzzer reported no execution count"),
    }
    let failed = !status.success() && crashes == 0;
    if !status.success() {
        eprintln!("==> {target}: `{shown}` exited with {status}");
    }
    Ok(Outcome {
        target: target.to_string(),
        seconds: secs,
        executions,
        crashes,
        failed,
    })
}

/// The execution count of a libFuzzer status line (`#1234\tpulse ...`), if it is one.
fn status_line_count(line: &str) -> Option<u64> {
    let rest = line.strip_prefix('#')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !rest[digits.len()..].starts_with(['\t', ' ']) {
        return None;
    }
    digits.parse().ok()
}

/// The names of the crash, leak, timeout and out-of-memory inputs in an artifact directory.
fn artifact_names(dir: &Path) -> BTreeSet<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            ["crash-", "leak-", "timeout-", "oom-"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect()
}

fn print_summary(outcomes: &[Outcome]) {
    println!("\nfuzz summary");
    println!(
        "{:<16} {:>9} {:>14} {:>8}",
        "target", "seconds", "executions", "crashes"
    );
    for o in outcomes {
        let executions = o
            .executions
            .map_or_else(|| "?".to_string(), |n| n.to_string());
        let crashes = if o.failed {
            "error".to_string()
        } else {
            o.crashes.to_string()
        };
        println!(
            "{:<16} {:>9.1} {:>14} {:>8}",
            o.target, o.seconds, executions, crashes
        );
    }
}

/// Rewrites `fuzz/seeds/` by running the ignored generator test in smpp-pdu, which encodes
/// the seeds with the codec itself.
pub(crate) fn regenerate_seeds() -> Result {
    run_status(cargo().args([
        "test",
        "-p",
        "smpp-pdu",
        "--test",
        "fuzz_seeds",
        "--",
        "--ignored",
        "--exact",
        "regenerate_seeds",
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seconds_and_targets() {
        let args: Vec<String> = ["--seconds", "20", "decode_pdu", "--seconds=5"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            parse_args(&args).unwrap(),
            (5, vec!["decode_pdu".to_string()])
        );
        assert_eq!(parse_args(&[]).unwrap(), (DEFAULT_SECONDS, vec![]));
        assert!(parse_args(&["--seconds".to_string()]).is_err());
        assert!(parse_args(&["--seconds=0".to_string()]).is_err());
        assert!(parse_args(&["--bogus".to_string()]).is_err());
    }

    #[test]
    fn reads_libfuzzer_status_lines() {
        assert_eq!(
            status_line_count("#4096\tpulse  cov: 12 ft: 30"),
            Some(4096)
        );
        assert_eq!(status_line_count("#123 DONE"), Some(123));
        assert_eq!(status_line_count("#abc"), None);
        assert_eq!(status_line_count("INFO: seed"), None);
    }
}

//! Architecture checks over the source tree, run as ordinary tests (`cargo test -p xtask`,
//! so also by `cargo test --workspace` and `cargo xtask ci`).
//!
//! They hold the invariants written down in `docs/architecture.md`: the codec and the
//! session layer do no I/O, read no clock and spawn nothing; their dependency lists stay
//! minimal; unsafe code is forbidden there; every crate uses the workspace lints.

use crate::{cargo, run_status, Result};

/// `cargo xtask tidy`: runs this crate's tests, which include the checks below.
pub(crate) fn run() -> Result {
    run_status(cargo().args(["test", "-p", "xtask"]))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use crate::repo_root;

    /// Text that must not appear in the code of the I/O-free crates.
    const FORBIDDEN_IN_CORE: &[&str] = &[
        "std::net",
        "std::thread",
        "Instant::now",
        "SystemTime::now",
        "std::fs",
        "std::io::Read",
        "std::io::Write",
        "std::process",
        "mio::",
        "crossbeam",
        "std::sync::mpsc",
        "tokio",
    ];

    /// The I/O-free crates and the dependencies each may have.
    const CORE_CRATES: &[(&str, &[&str])] = &[
        // serde_json only parses text for the optional `json-in` reader (no I/O).
        ("crates/smpp-pdu", &["byteorder", "log", "serde_json"]),
        ("crates/smpp-session", &["smpp-pdu", "log"]),
        ("crates/smpp-lifecycle", &["smpp-pdu", "log"]),
    ];

    /// The core crates that exist in this checkout (smpp-session arrives later).
    fn core_crates() -> Vec<(PathBuf, &'static [&'static str])> {
        let root = repo_root();
        CORE_CRATES
            .iter()
            .map(|&(dir, deps)| (root.join(dir), deps))
            .filter(|(dir, _)| dir.join("Cargo.toml").is_file())
            .collect()
    }

    fn relative(path: &Path) -> String {
        let root = repo_root();
        path.strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// Every `.rs` file under `dir`, sorted.
    fn rust_files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries =
                fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()));
            for entry in entries {
                let path = entry.expect("directory entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    /// Fails with every violation at once, one `file:line: message` per line.
    fn report(what: &str, violations: Vec<String>) {
        assert!(
            violations.is_empty(),
            "{what}:\n  {}\n(see docs/architecture.md)",
            violations.join("\n  ")
        );
    }

    /// Forbidden text in a line of code; comments are skipped, since documentation may
    /// well say what the crate does not use.
    fn forbidden_in_line(line: &str) -> Vec<&'static str> {
        let code = line.trim_start();
        if code.starts_with("//") {
            return Vec::new();
        }
        let mut hits: Vec<&'static str> = FORBIDDEN_IN_CORE
            .iter()
            .copied()
            .filter(|p| code.contains(p))
            .collect();
        // `use std::io::{Read, Write}` spells the traits without the full path.
        if let Some(group) = code.split("std::io::{").nth(1) {
            for name in ["Read", "Write"] {
                if group.split([',', '}', ' ']).any(|item| item.trim() == name) {
                    hits.push(if name == "Read" {
                        "std::io::Read"
                    } else {
                        "std::io::Write"
                    });
                }
            }
        }
        hits
    }

    #[test]
    fn core_crates_do_no_io_read_no_clock_and_spawn_nothing() {
        let mut violations = Vec::new();
        for (dir, _) in core_crates() {
            for file in rust_files(&dir.join("src")) {
                for (i, line) in read(&file).lines().enumerate() {
                    for hit in forbidden_in_line(line) {
                        violations.push(format!("{}:{}: uses `{hit}`", relative(&file), i + 1));
                    }
                }
            }
        }
        report(
            "the codec and session crates must not do I/O, read clocks or spawn",
            violations,
        );
    }

    /// The client's sans-IO core (`smpp_client::core`, under the caller-driven client and
    /// the tokio face) follows the core crates' rule inside a crate that does I/O.
    #[test]
    fn client_core_does_no_io_reads_no_clock_and_spawns_nothing() {
        let root = repo_root();
        let dir = root.join("crates/smpp-client/src");
        let mut files = vec![dir.join("core.rs")];
        files.extend(rust_files(&dir.join("core")));
        let mut violations = Vec::new();
        for file in files.iter().filter(|f| f.is_file()) {
            for (i, line) in read(file).lines().enumerate() {
                for hit in forbidden_in_line(line) {
                    violations.push(format!("{}:{}: uses `{hit}`", relative(file), i + 1));
                }
            }
        }
        report(
            "smpp_client::core must not do I/O, read clocks or spawn: `now` is passed in",
            violations,
        );
    }

    /// Socket code the application crates must leave to the transport.
    const SOCKET_CODE: &[&str] = &["TcpStream", "TcpListener", "UdpSocket", "mio::"];

    /// The caller-driven client owns a stream the caller hands it, so it may name the
    /// `TcpStream` type (`DirectClient<TcpStream>`); opening and configuring sockets
    /// (`TcpStream::...`) stays in the transport (`smpp_transport::blocking`).
    fn socket_code_allowed(file: &Path, line: &str, hit: &str) -> bool {
        hit == "TcpStream"
            && file.ends_with("crates/smpp-client/src/direct.rs")
            && !line.contains("TcpStream::")
    }

    #[test]
    fn client_and_smsc_hold_no_socket_code() {
        let root = repo_root();
        let mut violations = Vec::new();
        for dir in ["crates/smpp-client", "crates/smpp-smsc"] {
            let src = root.join(dir).join("src");
            if !src.is_dir() {
                continue;
            }
            for file in rust_files(&src) {
                for (i, line) in read(&file).lines().enumerate() {
                    if line.trim_start().starts_with("//") {
                        continue;
                    }
                    for hit in SOCKET_CODE
                        .iter()
                        .filter(|p| line.contains(*p))
                        .filter(|p| !socket_code_allowed(&file, line, p))
                    {
                        violations.push(format!("{}:{}: uses `{hit}`", relative(&file), i + 1));
                    }
                }
            }
        }
        report(
            "smpp-client and smpp-smsc talk to the transport; sockets belong to smpp-transport",
            violations,
        );
    }

    /// The dependencies declared in a manifest's `[dependencies]` tables (including
    /// `[dependencies.name]` and target-specific ones), with their line numbers.
    /// Dev- and build-dependencies are not counted.
    fn normal_dependencies(manifest: &str) -> Vec<(String, usize)> {
        let mut deps = Vec::new();
        let mut in_deps = false;
        for (i, raw) in manifest.lines().enumerate() {
            let line = raw.trim();
            if line.starts_with('[') {
                let header = line.trim_start_matches('[').trim_end_matches(']').trim();
                // `target.'cfg(unix)'.dependencies`: drop the target part.
                let header = match header.strip_prefix("target.") {
                    Some(rest) => rest.find(".dependencies").map_or(rest, |i| &rest[i + 1..]),
                    None => header,
                };
                in_deps = header == "dependencies";
                if let Some(name) = header.strip_prefix("dependencies.") {
                    deps.push((name.trim_matches('"').to_string(), i + 1));
                }
                continue;
            }
            if !in_deps || line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((key, _)) = line.split_once('=') {
                // `byteorder = ...` or `byteorder.workspace = true`.
                let name = key
                    .split('.')
                    .next()
                    .unwrap_or(key)
                    .trim()
                    .trim_matches('"');
                deps.push((name.to_string(), i + 1));
            }
        }
        deps
    }

    #[test]
    fn core_crates_have_minimal_dependencies() {
        let mut violations = Vec::new();
        for (dir, allowed) in core_crates() {
            let path = dir.join("Cargo.toml");
            for (name, line) in normal_dependencies(&read(&path)) {
                if !allowed.contains(&name.as_str()) {
                    violations.push(format!(
                        "{}:{line}: dependency `{name}` is not allowed (only {})",
                        relative(&path),
                        allowed.join(", ")
                    ));
                }
            }
        }
        report("core crates depend on too much", violations);
    }

    #[test]
    fn core_crates_forbid_unsafe_code() {
        let mut violations = Vec::new();
        for (dir, _) in core_crates() {
            let lib = dir.join("src/lib.rs");
            let found = read(&lib)
                .lines()
                .any(|l| l.trim() == "#![forbid(unsafe_code)]");
            if !found {
                violations.push(format!(
                    "{}:1: missing `#![forbid(unsafe_code)]`",
                    relative(&lib)
                ));
            }
        }
        report("core crates must forbid unsafe code", violations);
    }

    /// Whether a manifest has a `[lints]` table with `workspace = true`.
    fn uses_workspace_lints(manifest: &str) -> bool {
        let mut in_lints = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_lints = line == "[lints]";
            } else if in_lints && line.replace(' ', "") == "workspace=true" {
                return true;
            }
        }
        manifest
            .lines()
            .any(|l| l.replace(' ', "") == "lints.workspace=true")
    }

    #[test]
    fn every_crate_uses_workspace_lints() {
        let crates = repo_root().join("crates");
        let mut manifests: Vec<PathBuf> = fs::read_dir(&crates)
            .expect("crates/ exists")
            .map(|e| e.expect("directory entry").path().join("Cargo.toml"))
            .filter(|p| p.is_file())
            .collect();
        manifests.sort();
        assert!(!manifests.is_empty(), "no crates found under crates/");
        let violations = manifests
            .iter()
            .filter(|m| !uses_workspace_lints(&read(m)))
            .map(|m| format!("{}:1: missing `[lints] workspace = true`", relative(m)))
            .collect();
        report("every crate must use the workspace lints", violations);
    }

    #[test]
    fn readme_and_ci_script_run_xtask_ci() {
        let root = repo_root();
        let mut violations = Vec::new();
        for file in ["README.md", ".ci/run"] {
            let path = root.join(file);
            match fs::read_to_string(&path) {
                Ok(text) if text.contains("cargo xtask ci") => {}
                Ok(_) => violations.push(format!("{file}:1: does not mention `cargo xtask ci`")),
                Err(e) => violations.push(format!("{file}:1: cannot read: {e}")),
            }
        }
        report("CI entry point must be `cargo xtask ci`", violations);
    }

    // The checkers themselves, on small inputs.

    #[test]
    fn forbidden_text_is_found_outside_comments() {
        assert_eq!(forbidden_in_line("use std::net::TcpStream;"), ["std::net"]);
        assert_eq!(
            forbidden_in_line("    let t = std::time::Instant::now();"),
            ["Instant::now"]
        );
        assert_eq!(
            forbidden_in_line("use std::io::{self, Read, Write};"),
            ["std::io::Read", "std::io::Write"]
        );
        assert!(forbidden_in_line("use std::io::{self, ErrorKind};").is_empty());
        assert!(forbidden_in_line("/// Never uses std::net or threads.").is_empty());
        assert!(forbidden_in_line("use std::borrow::Cow;").is_empty());
    }

    #[test]
    fn dependency_tables_are_parsed() {
        let manifest = r#"
[package]
name = "x"

[dependencies]
byteorder = { workspace = true }
log.workspace = true
# comment
"mio" = "1"

[dependencies.crossbeam-channel]
version = "0.5"

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[dev-dependencies]
proptest = "1"

[lints]
workspace = true
"#;
        let names: Vec<String> = normal_dependencies(manifest)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            ["byteorder", "log", "mio", "crossbeam-channel", "libc"]
        );
        assert_eq!(normal_dependencies(manifest)[0].1, 6);
        assert!(uses_workspace_lints(manifest));
        assert!(!uses_workspace_lints("[package]\nworkspace = true\n"));
        assert!(uses_workspace_lints("lints.workspace = true\n"));
    }
}

//! Replays the committed `session_input` fuzz seeds (`fuzz/seeds/session_input/`) through
//! the fuzz oracle.
//!
//! The oracle is the same file the fuzz target uses (`fuzz/session_oracle.rs`), so every
//! seed is checked by the fuzzer's own assertions on each `cargo test`. The seeds are
//! defined in `fuzz/session_script.rs` and written by `cargo xtask fuzz-seeds` (the
//! generator lives in `crates/smpp-pdu/tests/fuzz_seeds.rs`, next to the codec seeds).

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

#[path = "../../../fuzz/session_oracle.rs"]
mod session_oracle;

use session_oracle::script;

/// Fewest seed files the target may have: a missing or emptied directory fails the replay
/// instead of passing without checking anything.
const MIN_SEEDS: usize = 20;

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/session_input")
}

/// The committed seed files, sorted by name.
fn seed_files() -> Vec<(String, Vec<u8>)> {
    let dir = seeds_dir();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read seed directory {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .expect("a file has a name")
                .to_string_lossy()
                .into_owned();
            (name, fs::read(&p).expect("readable seed"))
        })
        .collect()
}

#[test]
fn committed_seeds_pass_the_session_oracle() {
    let files = seed_files();
    assert!(
        files.len() >= MIN_SEEDS,
        "{} holds {} seed files, expected at least {MIN_SEEDS}; run `cargo xtask fuzz-seeds`",
        seeds_dir().display(),
        files.len()
    );
    let failures: Vec<&str> = files
        .iter()
        .filter(|(_, data)| {
            panic::catch_unwind(AssertUnwindSafe(|| session_oracle::session_input(data))).is_err()
        })
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        failures.is_empty(),
        "seeds failing the session_input oracle (panic messages above):\n  {}",
        failures.join("\n  ")
    );
}

/// The committed files are exactly what the generator writes.
#[test]
fn committed_seeds_are_current() {
    let mut generated: Vec<(String, Vec<u8>)> = script::seeds()
        .into_iter()
        .map(|s| (s.name.to_string(), s.bytes))
        .collect();
    generated.sort();
    let committed = seed_files();
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&generated),
        "seed files differ from fuzz/session_script.rs; run `cargo xtask fuzz-seeds`"
    );
    for ((name, c), (_, g)) in committed.iter().zip(&generated) {
        assert!(c == g, "{name} is stale; run `cargo xtask fuzz-seeds`");
    }
}

/// Whether `want` appears in `got` in order (other labels may come between).
fn in_order(got: &[&str], want: &[&str]) -> bool {
    let mut it = got.iter();
    want.iter().all(|w| it.any(|g| g == w))
}

/// Each seed reaches what it is named for (the labels listed with it).
#[test]
fn seeds_do_what_their_names_say() {
    let seeds = script::seeds();
    assert!(seeds.len() >= MIN_SEEDS, "{} seeds", seeds.len());
    let mut failures = Vec::new();
    for seed in &seeds {
        let trace = session_oracle::session_input(&seed.bytes);
        for (side, want) in [("ESME", seed.esme), ("SMSC", seed.smsc)] {
            let got = &trace.labels[usize::from(side == "SMSC")];
            if !in_order(got, want) {
                failures.push(format!(
                    "{}: {side} reported {got:?}\n    expected in order {want:?}",
                    seed.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! `smpp listen --reconnect` keeps listening across an SMSC restart, and `--output`
//! writes the JSON lines to a file while the terminal gets the readable lines and a tally.

mod common;

use std::time::Duration;

use common::{err, finish, out, spawn};
use smpp_smsc::{Smsc, SmscConfig};

#[test]
fn listen_reconnects_after_a_restart_and_writes_json_lines_to_a_file() {
    let smsc = Smsc::start(SmscConfig::default()).expect("SMSC");
    let addr = smsc.local_addr();
    let a = addr.to_string();
    let dir = std::env::temp_dir().join(format!("smpp-listen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("mo.jsonl");
    let f = file.to_string_lossy().into_owned();
    let child = spawn(&[
        "listen",
        "--addr",
        &a,
        "--system-id",
        "esme",
        "--password",
        "pw",
        "--reconnect",
        "--output",
        &f,
        "--count",
        "2",
        "--timeout",
        "25",
    ]);
    assert!(
        smsc.wait_for(Duration::from_secs(10), |s| s.bound == 1),
        "binds"
    );
    smsc.inject_mo("esme", "447700900001", "12345", "before")
        .expect("MO");
    assert!(
        smsc.wait_for(Duration::from_secs(10), |s| s.delivers_acked == 1),
        "the first MO is acknowledged"
    );
    smsc.shutdown();
    // The same port again: the listener comes back by itself.
    let smsc = Smsc::start(SmscConfig::default().addr(addr)).expect("SMSC again");
    assert!(
        smsc.wait_for(Duration::from_secs(15), |s| s.bound == 1),
        "binds again"
    );
    smsc.inject_mo("esme", "447700900002", "12345", "after")
        .expect("MO");
    let o = finish(child, Duration::from_secs(30), "smpp listen --reconnect");
    let s = out(&o);
    assert!(o.status.success(), "{s}\n{}", err(&o));
    assert!(s.contains("\"before\"") && s.contains("\"after\""), "{s}");
    let json = std::fs::read_to_string(&file).expect("the file");
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), 2, "{json}");
    assert!(
        lines.iter().all(|l| l.starts_with("{\"event\":\"mo\"")),
        "{json}"
    );
    assert!(
        err(&o).contains("2 item(s): 2 MO message(s)"),
        "{}",
        err(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

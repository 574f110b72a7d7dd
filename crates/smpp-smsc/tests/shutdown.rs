//! `Smsc::shutdown` joins the SMSC thread and the transport thread, with ESMEs still
//! connected. Alone in its test binary, so no other test's threads are counted.

use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};

/// Threads of this process with this name (`/proc/self/task/*/comm`).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .map(|c| c.trim_end() == name)
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

/// Polls until `threads_named(name) == n` (a new thread names itself once it runs).
fn settles(name: &str, n: usize) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if threads_named(name) == n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn shutdown_joins_every_thread_with_clients_connected() {
    // Real threads: shutdown must join every thread of a running SMSC.
    if !std::path::Path::new("/proc/self/task").exists() {
        return; // Not Linux: nothing to count.
    }
    let smsc = Smsc::start(SmscConfig::default()).unwrap();
    assert!(settles("smpp-smsc", 1));
    let clients: Vec<Client> = (0..3)
        .map(|_| {
            Client::connect(
                smsc.local_addr(),
                ClientConfig::new(BindKind::Transceiver, "x", "y")
                    // These tests exercise the SMSC: the client passes receipts on untracked.
                    .track(false),
            )
            .unwrap()
        })
        .collect();
    assert!(smsc.wait_for(Duration::from_secs(10), |s| s.bound == 3));
    let transports = threads_named("smpp-transport");
    let started = Instant::now();
    smsc.shutdown();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(threads_named("smpp-smsc"), 0);
    assert_eq!(
        threads_named("smpp-transport"),
        transports - 1,
        "the SMSC's transport thread is joined"
    );
    // The clients see their connections close and can be dropped.
    drop(clients);
}

//! Both embedding examples, run as programs against the test SMSC on 127.0.0.1: each binds,
//! submits 1,000 messages with a window, answers their 1,000 receipts and unbinds.

use std::process::Command;
use std::time::Duration;

use smpp_pdu::{CommandId, CommandStatus};
use smpp_smsc::{Smsc, SmscConfig, User};

const COUNT: usize = 1000;
const WINDOW: usize = 64;

fn run_example(exe: &str, system_id: &str) {
    let smsc = Smsc::start(
        SmscConfig::default()
            .user(User::new(system_id, "pw123"))
            .receipt_delay(Duration::from_millis(5)),
    )
    .expect("SMSC starts");
    let addr = smsc.local_addr().to_string();
    let out = Command::new(exe)
        .args([
            addr.as_str(),
            system_id,
            "pw123",
            &COUNT.to_string(),
            &WINDOW.to_string(),
        ])
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{exe} failed: {stderr}\n{stdout}");
    assert_eq!(
        stdout.trim(),
        format!(
            "{{\"accepted\":{COUNT},\"refused\":0,\"receipts\":{COUNT},\"stray_receipts\":0,\"unbound\":true}}"
        ),
        "{stderr}"
    );
    // The SMSC's side of the story agrees.
    assert!(
        smsc.wait_for(Duration::from_secs(10), |s| s.unbinds == 1
            && s.delivers_acked == COUNT as u64),
        "{:?}",
        smsc.stats()
    );
    let s = smsc.stats();
    assert_eq!(s.binds, 1);
    assert_eq!(s.submits, COUNT as u64);
    assert_eq!(s.receipts_sent, COUNT as u64);
    assert_eq!(s.delivers_failed, 0);
    // The SMSC's session counters say the same, PDU by PDU.
    let st = smsc.session_stats().expect("the SMSC runs");
    let n = COUNT as u64;
    assert_eq!(st.received.count(CommandId::SUBMIT_SM), n);
    assert_eq!(
        st.sent
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK),
        n
    );
    assert_eq!(st.sent.count(CommandId::DELIVER_SM), n);
    assert_eq!(
        st.received
            .count_status(CommandId::DELIVER_SM_RESP, CommandStatus::ESME_ROK),
        n
    );
    assert_eq!(st.received.count(CommandId::UNBIND), 1);
    assert_eq!(
        st.response_latency.count(),
        n,
        "one per deliver_sm answered"
    );
    assert_eq!(st.generic_nacks_sent() + st.generic_nacks_received(), 0);
    // The password never shows up in what the example printed.
    assert!(!stdout.contains("pw123") && !stderr.contains("pw123"));
    smsc.shutdown();
}

#[test]
fn blocking_loop_submits_1000_and_gets_every_receipt() {
    run_example(env!("CARGO_BIN_EXE_blocking"), "blocking");
}

#[test]
fn tokio_task_submits_1000_and_gets_every_receipt() {
    run_example(env!("CARGO_BIN_EXE_tokio"), "tokio");
}

#[test]
fn a_wrong_password_is_a_clear_error() {
    let smsc =
        Smsc::start(SmscConfig::default().user(User::new("esme", "right"))).expect("SMSC starts");
    let addr = smsc.local_addr().to_string();
    for exe in [env!("CARGO_BIN_EXE_blocking"), env!("CARGO_BIN_EXE_tokio")] {
        let out = Command::new(exe)
            .args([addr.as_str(), "esme", "wrong", "10", "4"])
            .output()
            .expect("the example starts");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("bind: ESME_RINVPASWD"), "{exe}: {stderr}");
    }
    smsc.shutdown();
}

//! Fault injection and scheduled MO messages, over 127.0.0.1 with `smpp-client` as the
//! ESME. Every wait is bounded.

use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig, Error};
use smpp_pdu::{CommandId, CommandStatus, SubmitSm};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};

/// Upper bound for anything a test waits for.
const WAIT: Duration = Duration::from_secs(10);

fn smsc(config: SmscConfig) -> Smsc {
    let _ = env_logger::builder().is_test(true).try_init();
    Smsc::start(config).expect("SMSC starts")
}

fn connect(s: &Smsc, kind: BindKind, response_timeout: Duration) -> Client {
    let cfg = ClientConfig::new(kind, "esme", "pw")
        // These tests exercise the SMSC: the client passes receipts on untracked.
        .track(false)
        .response_timeout(response_timeout);
    Client::connect(s.local_addr(), cfg).expect("binds")
}

fn sm(text: &str) -> SubmitSm<'static> {
    SubmitSm {
        source_addr: "12345".into(),
        destination_addr: "447700900123".into(),
        short_message: text.to_string().into(),
        ..Default::default()
    }
}

#[test]
fn responses_are_delayed() {
    let delay = Duration::from_millis(300);
    let s = smsc(SmscConfig::default().response_delay(delay));
    let started = Instant::now();
    let c = connect(&s, BindKind::Transceiver, Duration::from_secs(5));
    assert!(started.elapsed() >= delay, "the bind_resp is delayed too");
    let started = Instant::now();
    let r = c.submit(&sm("slow")).expect("submit answered, late");
    let took = started.elapsed();
    assert!(took >= delay && took < WAIT, "took {took:?}");
    assert_eq!(r.message_id.to_str_lossy(), "1");
    c.unbind()
        .expect("unbinds (the unbind_resp is the session's own)");
    s.shutdown();
}

#[test]
fn every_nth_submit_sm_is_never_answered() {
    let s = smsc(SmscConfig::default().drop_every(3));
    let c = connect(&s, BindKind::Transceiver, Duration::from_millis(300));
    c.submit(&sm("1")).expect("first answered");
    c.submit(&sm("2")).expect("second answered");
    let started = Instant::now();
    match c.submit(&sm("3")) {
        Err(Error::Timeout) => {}
        other => panic!("expected a response timeout, got {other:?}"),
    }
    assert!(started.elapsed() < WAIT);
    let r = c.submit(&sm("4")).expect("fourth answered");
    assert_eq!(
        r.message_id.to_str_lossy(),
        "3",
        "the dropped one got no id"
    );
    assert!(s.wait_for(WAIT, |st| st.dropped == 1 && st.submits == 3));
    // The dropped submit is still recorded.
    let submits = s
        .received()
        .iter()
        .filter(|r| r.command_id == CommandId::SUBMIT_SM)
        .count();
    assert_eq!(submits, 4);
    s.shutdown();
}

#[test]
fn connection_closed_after_n_pdus() {
    // The bind is PDU 1, the two submits PDUs 2 and 3.
    let s = smsc(SmscConfig::default().close_after(3));
    let c = connect(&s, BindKind::Transceiver, Duration::from_secs(2));
    c.submit(&sm("1")).expect("second PDU answered");
    // The third PDU's response is queued before the close, but the close may win the race.
    let _ = c.submit(&sm("2"));
    assert!(s.wait_for(WAIT, |st| st.fault_closes == 1 && st.open_connections == 0));
    assert!(c.submit(&sm("3")).is_err(), "the connection is gone");
    // Other connections are served as before.
    let d = connect(&s, BindKind::Transceiver, Duration::from_secs(2));
    d.submit(&sm("4")).expect("a new connection is served");
    s.shutdown();
}

#[test]
fn garbage_after_n_pdus_breaks_the_esme_framing_only() {
    // The bind is PDU 1, the submit PDU 2: garbage follows its response.
    let s = smsc(SmscConfig::default().garbage_after(2));
    let other = connect(&s, BindKind::Transceiver, Duration::from_secs(2));
    let c = connect(&s, BindKind::Transceiver, Duration::from_secs(2));
    c.submit(&sm("1")).expect("answered before the garbage");
    // The client's session answers the garbage with generic_nack and closes.
    assert!(s.wait_for(WAIT, |st| st.garbage_sent == 1 && st.open_connections == 1));
    assert!(
        c.submit(&sm("2")).is_err(),
        "the client's session is closed"
    );
    let nack = s
        .received()
        .into_iter()
        .find(|r| r.command_id == CommandId::GENERIC_NACK)
        .expect("the generic_nack is recorded");
    assert_eq!(nack.command_status, CommandStatus::ESME_RINVCMDLEN);
    assert_eq!(nack.sequence_number, 0x7FFF_FFFF);
    // The SMSC keeps serving the other connection (whose own second PDU is this submit).
    other
        .submit(&sm("3"))
        .expect("the other connection is served");
    s.shutdown();
}

#[test]
fn mo_messages_on_a_schedule() {
    let s = smsc(SmscConfig::default().mo_schedule(
        Duration::from_millis(50),
        "esme",
        "447700900123",
        "12345",
        "tick",
    ));
    let c = connect(&s, BindKind::Receiver, Duration::from_secs(2));
    let end = Instant::now() + WAIT;
    let mut got = 0;
    while got < 3 {
        let left = end.saturating_duration_since(Instant::now());
        let inbound = c
            .inbound()
            .recv_timeout(left)
            .expect("an MO within the bound");
        assert_eq!(inbound.text(), Some("tick"));
        assert!(inbound.receipt().is_none());
        got += 1;
    }
    assert!(s.wait_for(WAIT, |st| st.mo_sent >= 3 && st.delivers_acked >= 3));
    c.unbind().unwrap();
    s.shutdown();
}

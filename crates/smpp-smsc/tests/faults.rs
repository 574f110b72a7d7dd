//! Fault injection on the wire, over 127.0.0.1 with `smpp-client` as the ESME: what the
//! garbage does to a real ESME session. The fault knobs themselves (`drop_every`,
//! `close_after`, `garbage_after`, `response_delay`) and scheduled MO messages are tested
//! on the virtual clock in `logic.rs` and `core.rs`. Every wait is bounded.

use std::time::Duration;

use smpp_client::{Client, ClientConfig};
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
fn garbage_after_n_pdus_breaks_the_esme_framing_only() {
    // Real socket: raw garbage octets on the wire, and the ESME session's generic_nack to them.
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

//! Receipts and MO messages sent as `data_sm` ([`SmscConfig::deliver_as_data_sm`]) reach a
//! real client as they would as `deliver_sm`: one report per tracked message, whole MOs.

use std::time::Duration;

use smpp_client::{Client, ClientConfig, Outcome, ReceiptItems, TextOptions};
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::{Body, CommandId};
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig, User};

const WAIT: Duration = Duration::from_secs(5);

fn smsc() -> Smsc {
    let _ = env_logger::builder().is_test(true).try_init();
    Smsc::start(
        SmscConfig::default()
            .user(User::new("alice", "secret"))
            .receipt_delay(Duration::from_millis(20))
            .deliver_as_data_sm(true),
    )
    .expect("SMSC starts")
}

#[test]
fn a_receipt_as_data_sm_gives_the_client_one_report() {
    // Real socket: a real client reads the data_sm receipt off the wire.
    let s = smsc();
    let cfg = ClientConfig::new(BindKind::Transceiver, "alice", "secret")
        .receipt_items(ReceiptItems::Unplaced);
    let c = Client::connect(s.local_addr(), cfg).expect("binds");
    let ids = c
        .send_text("Brand", "447700900123", "hello", &TextOptions::default())
        .unwrap();
    assert_eq!(ids.len(), 1);
    let inbound = c.inbound().recv_timeout(WAIT).expect("a report");
    let report = inbound.report().expect("a report").clone();
    assert_eq!(report.outcome, Outcome::Delivered);
    assert_eq!(report.state, Some(ReceiptState::Delivered));
    assert_eq!(report.message_ids().collect::<Vec<_>>(), [ids[0].as_str()]);
    assert!(
        c.inbound()
            .recv_timeout(Duration::from_millis(200))
            .is_err(),
        "one item only"
    );
    // The receipt went out as a data_sm and was answered with a data_sm_resp.
    assert!(s.wait_for(WAIT, |st| st.delivers_acked >= 1));
    let answered = s
        .received()
        .iter()
        .any(|r| r.command_id == CommandId::DATA_SM_RESP && r.command_status.is_ok());
    assert!(answered, "a data_sm_resp from the client");
    c.unbind().unwrap();
    s.shutdown();
}

#[test]
fn an_mo_as_data_sm_reaches_the_client_whole() {
    // Real socket: a real client reassembles the data_sm MO off the wire.
    let s = smsc();
    let cfg = ClientConfig::new(BindKind::Transceiver, "alice", "secret");
    let c = Client::connect(s.local_addr(), cfg).expect("binds");
    s.inject_mo("alice", "447700900123", "12345", "Grüße 😀")
        .expect("injected");
    let inbound = c.inbound().recv_timeout(WAIT).expect("the MO");
    assert!(inbound.receipt().is_none());
    assert_eq!(inbound.text(), Some("Grüße 😀"));
    if let Some(pdu) = inbound.pdu() {
        assert!(matches!(pdu.body, Body::DataSm(_)), "{pdu:?}");
    }
    drop(inbound);
    c.unbind().unwrap();
    s.shutdown();
}

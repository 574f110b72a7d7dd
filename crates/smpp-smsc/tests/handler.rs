//! The handler API through a real client: the crate's example (`examples/custom_smsc.rs`,
//! included here as a module) refuses every third submit with `ESME_RMSGQFUL`, answers the
//! others with its own ids, echoes each text as an MO message, and accepts one account.

#[path = "../examples/custom_smsc.rs"]
mod custom_smsc;

use std::time::Duration;

use smpp_client::{Client, ClientConfig, Error, TextOptions};
use smpp_pdu::CommandStatus;
use smpp_session::BindKind;

#[test]
fn the_example_smsc_refuses_every_third_submit_and_echoes_the_rest() {
    // Real sockets: runs the crate's example program end to end with a real client.
    let smsc = custom_smsc::start("127.0.0.1:0".parse().unwrap()).expect("SMSC");
    let wrong = Client::connect(
        smsc.local_addr(),
        ClientConfig::new(BindKind::Transceiver, "shop", "nope"),
    );
    assert!(matches!(
        wrong,
        Err(Error::BindRejected(CommandStatus::ESME_RINVPASWD))
    ));
    let c = Client::connect(
        smsc.local_addr(),
        ClientConfig::new(BindKind::Transceiver, "shop", "secret").track(false),
    )
    .expect("bind");
    let options = TextOptions::default().registered_delivery(0);
    let results: Vec<Result<String, Error>> = (0..6)
        .map(|i| {
            c.send_text("447700900001", "447700900123", &format!("t{i}"), &options)
                .map(|s| s.message_ids.join(","))
        })
        .collect();
    for (i, r) in results.iter().enumerate() {
        if i % 3 == 2 {
            assert!(
                matches!(r, Err(Error::Status(CommandStatus::ESME_RMSGQFUL))),
                "{i}: {r:?}"
            );
        } else {
            let id = r.as_ref().expect("accepted");
            assert!(id.starts_with("shop-"), "{id}");
        }
    }
    // Four echoes came back as MO messages.
    let echoes: Vec<String> = (0..4)
        .map(|_| {
            let item = c
                .inbound()
                .recv_timeout(Duration::from_secs(10))
                .expect("an echo");
            item.text().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(echoes, ["t0", "t1", "t3", "t4"]);
    c.unbind().expect("unbind");
    assert_eq!(smsc.stats().submits, 4);
}

//! Sends one text and waits for its delivery report.
//!
//! `cargo run -p smpp-tokio --example tokio_send_one [ADDR ID PASSWORD]`: without arguments it
//! starts the test SMSC on 127.0.0.1 for itself.

#![allow(clippy::print_stdout)]

use std::time::Duration;

use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};
use smpp_tokio::{Client, ClientConfig, InboundKind, TextOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (_smsc, addr, id, pw) = match args.as_slice() {
        [addr, id, pw] => (None, addr.clone(), id.clone(), pw.clone()),
        _ => {
            let smsc = Smsc::start(SmscConfig::default().receipt_delay(Duration::from_millis(50)))?;
            let addr = smsc.local_addr().to_string();
            (Some(smsc), addr, "esme".into(), "secret".into())
        }
    };
    let config = ClientConfig::new(BindKind::Transceiver, id, pw);
    let (client, mut inbound) = Client::connect(addr, config).await?;
    let options = TextOptions::default().reference("otp-42");
    let sent = client
        .send_text("MyBrand", "+447700900123", "Your code is 123456", &options)
        .await?;
    println!("submitted: {:?} ({:?})", sent.message_ids, sent.reference);
    while let Some(item) = inbound.recv().await {
        if let InboundKind::Report(report) = item {
            println!("{}: {}", report.reference, report.outcome);
            break;
        }
    }
    client.unbind().await?;
    Ok(())
}

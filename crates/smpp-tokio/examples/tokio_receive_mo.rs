//! Binds as a receiver and prints MO messages (long ones reassembled) as they come.
//!
//! `cargo run -p smpp-tokio --example tokio_receive_mo [ADDR ID PASSWORD]`: without arguments
//! it starts the test SMSC on 127.0.0.1, which sends it three messages, one of them long.

#![allow(clippy::print_stdout)]

use std::time::Duration;

use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig, User};
use smpp_tokio::{Client, ClientConfig, InboundKind};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (smsc, addr, id, pw) = match args.as_slice() {
        [addr, id, pw] => (None, addr.clone(), id.clone(), pw.clone()),
        _ => {
            let smsc = Smsc::start(SmscConfig::default().user(User::new("esme", "secret")))?;
            let addr = smsc.local_addr().to_string();
            (Some(smsc), addr, "esme".into(), "secret".into())
        }
    };
    let config = ClientConfig::new(BindKind::Receiver, id, pw);
    let (client, mut inbound) = Client::connect(addr, config).await?;
    let mut expected = None;
    if let Some(smsc) = &smsc {
        let long = "A long reply, sent in parts and put back together. ".repeat(5);
        for text in ["Hello", "STOP", long.as_str()] {
            smsc.inject_mo("esme", "447700900999", "12345", text)?;
        }
        expected = Some(3);
    }
    let mut seen = 0;
    loop {
        let item = match expected {
            Some(_) => tokio::time::timeout(Duration::from_secs(10), inbound.recv()).await?,
            None => inbound.recv().await,
        };
        let Some(item) = item else { break };
        if let InboundKind::Message { message, .. } = item {
            println!(
                "from {}: {:?} ({} segment(s))",
                message.source.addr,
                message.text.unwrap_or_default(),
                message.segments
            );
            seen += 1;
            if expected == Some(seen) {
                break;
            }
        }
    }
    client.unbind().await?;
    Ok(())
}

//! A tiny SMSC on tokio: a handler that accepts every bind (and says who bound), with the
//! built-in test SMSC answering the requests (message ids, a delivery receipt a second
//! later), and its counters printed every five seconds.
//!
//! `cargo run -p smpp-tokio --example tokio_tiny_smsc [ADDR]` (127.0.0.1:2775 by default); try it
//! with `cargo run -p smpp-cli -- send --addr 127.0.0.1:2775 --system-id me --password x
//! --to 447700900123 --text hi --bind trx --wait-receipt 5`.

#![allow(clippy::print_stdout)]

use std::time::Duration;

use smpp_smsc::core::{BindInfo, Ctx, Handler, Verdict};
use smpp_smsc::SmscConfig;
use smpp_tokio::Server;

/// Every bind accepted; requests left to the built-in test SMSC (the default method).
struct Tiny;

impl Handler for Tiny {
    fn bind(&mut self, bind: &BindInfo<'_>, _: &mut Ctx<'_>) -> Verdict {
        println!(
            "bind from {} as {:?} ({})",
            bind.peer, bind.kind, bind.system_id
        );
        Verdict::Accept
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:2775".into())
        .parse()?;
    let config = SmscConfig::default()
        .addr(addr)
        .receipt_delay(Duration::from_secs(1));
    let server = Server::start_with_handler(config, Tiny).await?;
    println!("tiny SMSC on {}", server.local_addr());
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let s = server.stats();
        println!(
            "{} bound, {} submits, {} receipts sent",
            s.bound, s.submits, s.receipts_sent
        );
    }
}

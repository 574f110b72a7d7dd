//! Sends 10,000 texts with `for_each_concurrent`: every call is a future, the client keeps
//! its window full (the rest wait in order), and one report per message comes on the
//! inbound stream.
//!
//! `cargo run --release -p smpp-tokio --example tokio_send_many [ADDR ID PASSWORD]`: without
//! arguments it starts the test SMSC on 127.0.0.1 for itself.

#![allow(clippy::print_stdout)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use smpp_session::BindKind;
use smpp_smsc::{Smsc, SmscConfig};
use smpp_tokio::{Client, ClientConfig, InboundKind, Outcome, TextOptions};

const COUNT: usize = 10000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (_smsc, addr, id, pw) = match args.as_slice() {
        [addr, id, pw] => (None, addr.clone(), id.clone(), pw.clone()),
        _ => {
            let smsc = Smsc::start(SmscConfig::default().receipt_delay(Duration::from_millis(10)))?;
            let addr = smsc.local_addr().to_string();
            (Some(smsc), addr, "esme".into(), "secret".into())
        }
    };
    let config = ClientConfig::new(BindKind::Transceiver, id, pw).window(256);
    let (client, mut inbound) = Client::connect(addr, config).await?;
    let started = Instant::now();
    let failed = AtomicU64::new(0);
    // Send and read at once: once the inbound stream is full the client stops reading
    // from the SMSC (its answers included), so a program that only sends would stall.
    let send = futures::stream::iter(0..COUNT).for_each_concurrent(1_000, |n| {
        let (client, failed) = (&client, &failed);
        async move {
            let options = TextOptions::default().reference(format!("msg-{n}"));
            let text = format!("Message {n} of {COUNT}");
            if client
                .send_text("MyBrand", "+447700900123", &text, &options)
                .await
                .is_err()
            {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let reports = async {
        let (mut delivered, mut other) = (0u64, 0u64);
        while delivered + other < COUNT as u64 {
            match inbound.recv().await {
                Some(InboundKind::Report(r)) if r.outcome == Outcome::Delivered => delivered += 1,
                Some(InboundKind::Report(_)) => other += 1,
                Some(_) => {}
                None => break,
            }
        }
        (delivered, other, started.elapsed())
    };
    let ((), (delivered, other, reported)) = tokio::join!(send, reports);
    println!(
        "{COUNT} texts, every report in {reported:.2?} ({:.0} messages/s): {delivered} \
         delivered, {other} other; {} failed to submit",
        COUNT as f64 / reported.as_secs_f64(),
        failed.load(Ordering::Relaxed)
    );
    client.unbind().await?;
    Ok(())
}

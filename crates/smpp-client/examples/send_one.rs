//! Sends one message and prints the SMSC's message id.
//!
//! ```text
//! cargo run -p smpp-client --example send_one -- ADDR SYSTEM_ID PASSWORD FROM TO TEXT
//! cargo run -p smpp-client --example send_one -- 127.0.0.1:2775 esme secret MyBrand 447700900123 "Hello €"
//! ```
//!
//! The text is encoded in the cheapest alphabet that holds it (GSM 03.38, else UCS-2) and
//! split if it is long; one id is printed per segment.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::ToSocketAddrs;
use std::process::ExitCode;

use smpp_client::{Client, ClientConfig, TextOptions};
use smpp_session::BindKind;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, system_id, password, from, to, text] = args.as_slice() else {
        eprintln!("usage: send_one ADDR SYSTEM_ID PASSWORD FROM TO TEXT");
        return ExitCode::from(2);
    };
    match run(addr, system_id, password, from, to, text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("send_one: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    addr: &str,
    system_id: &str,
    password: &str,
    from: &str,
    to: &str,
    text: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let addr = addr
        .to_socket_addrs()?
        .next()
        .ok_or("the address resolves to nothing")?;
    let client = Client::connect(
        addr,
        ClientConfig::new(BindKind::Transmitter, system_id, password),
    )?;
    let options = TextOptions {
        registered_delivery: 0,
        ..TextOptions::default()
    };
    let ids = client.send_text(from, to, text, &options)?;
    for id in ids {
        println!("{id}");
    }
    client.unbind()?;
    Ok(())
}

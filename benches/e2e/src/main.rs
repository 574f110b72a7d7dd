//! End-to-end submit_sm round trips over 127.0.0.1: `smpp-client` against an SMSC-role
//! session hosted by `smpp-transport`, both in this process (two event-loop threads, an
//! SMSC responder thread and the client thread share the machine's cores).
//!
//! For each window it reports round trips per second and the p50/p99 latency from
//! `submit_async` to the response.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig};
use smpp_pdu::{Body, CommandStatus, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, Event};
use smpp_transport::{ConnEvent, Transport, TransportHandle};

/// Starts an SMSC that accepts any bind and answers every request with ESME_ROK and a
/// fresh message id.
fn smsc() -> (TransportHandle, SocketAddr, JoinHandle<()>) {
    let t = Transport::spawn(Default::default()).expect("transport");
    let cfg = smpp_session::Config::default()
        .enquire_link_interval(None)
        .max_inbound_pending(100_000);
    let listener = t
        .listen("127.0.0.1:0".parse().unwrap(), cfg)
        .expect("listen");
    let addr = listener.local_addr();
    let h = std::thread::spawn(move || {
        let Ok(conn) = listener.accept() else { return };
        let mut id = 0u64;
        while let Ok(ev) = conn.events().recv() {
            match ev {
                ConnEvent::Session(Event::BindRequested {
                    sequence_number, ..
                }) => {
                    let _ = conn.accept_bind(sequence_number, "bench");
                }
                ConnEvent::Session(Event::Request {
                    sequence_number, ..
                }) => {
                    id += 1;
                    let body = Body::from(SubmitSmResp {
                        message_id: id.to_string().into(),
                        tlvs: vec![],
                    });
                    let _ = conn.respond(sequence_number, CommandStatus::ESME_ROK, body);
                }
                ConnEvent::Closed(_) => return,
                _ => {}
            }
        }
    });
    (t, addr, h)
}

/// 76 letters: the 128-octet submit_sm of the codec bench. Static, so cloning a message
/// for each submit copies no text.
const TEXT: &str = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx";

fn message() -> SubmitSm<'static> {
    SubmitSm {
        source_addr_ton: 5,
        source_addr: "MyBrand".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        registered_delivery: 1,
        short_message: TEXT.as_bytes().into(),
        ..Default::default()
    }
}

struct Run {
    window: usize,
    count: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn run(window: usize, count: usize) -> Run {
    let (smsc_transport, addr, smsc_thread) = smsc();
    let cfg = ClientConfig::new(BindKind::Transmitter, "bench", "pw")
        .window(window)
        .enquire_link_interval(None);
    let client = Client::connect(addr, cfg).expect("bind");
    let sm = message();
    // Warm up.
    for _ in 0..window.min(1000) {
        client.submit(&sm).expect("warm-up submit");
    }
    let mut latencies = Vec::with_capacity(count);
    let mut in_flight = VecDeque::with_capacity(window);
    let start = Instant::now();
    for _ in 0..count {
        if in_flight.len() == window {
            let (t0, p): (Instant, smpp_client::Pending) = in_flight.pop_front().unwrap();
            p.wait_submit().expect("submit");
            latencies.push(t0.elapsed());
        }
        in_flight.push_back((
            Instant::now(),
            client.submit_async(sm.clone()).expect("submit_async"),
        ));
    }
    for (t0, p) in in_flight {
        p.wait_submit().expect("submit");
        latencies.push(t0.elapsed());
    }
    let elapsed = start.elapsed();
    client.unbind().expect("unbind");
    smsc_transport.shutdown();
    let _ = smsc_thread.join();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Run {
        window,
        count,
        per_second: count as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let json = args.iter().any(|a| a == "--json");
    if let Some(a) = args.iter().find(|a| *a != "--quick" && *a != "--json") {
        eprintln!("unknown argument {a:?}; usage: smpp-e2e-bench [--quick] [--json]");
        return ExitCode::from(2);
    }
    let runs = [
        (1, if quick { 2_000 } else { 20_000 }),
        (256, if quick { 20_000 } else { 400_000 }),
    ];
    if !json {
        println!(
            "our client -> our SMSC sessions over 127.0.0.1, one process; submit_sm of 128 octets"
        );
        println!("window      count   submits/s    p50 us    p99 us");
    }
    let mut results = Vec::new();
    for (window, count) in runs {
        let r = run(window, count);
        if json {
            println!(
                "{{\"bench\":\"e2e\",\"window\":{},\"count\":{},\"per_second\":{:.0},\"p50_us\":{:.1},\"p99_us\":{:.1}}}",
                r.window,
                r.count,
                r.per_second,
                r.p50.as_secs_f64() * 1e6,
                r.p99.as_secs_f64() * 1e6
            );
        } else {
            println!(
                "{:>6} {:>10} {:>11.0} {:>9.1} {:>9.1}",
                r.window,
                r.count,
                r.per_second,
                r.p50.as_secs_f64() * 1e6,
                r.p99.as_secs_f64() * 1e6
            );
        }
        results.push(r);
    }
    let w256 = results
        .iter()
        .find(|r| r.window == 256)
        .map_or(0.0, |r| r.per_second);
    let verdict = if w256 >= 400_000.0 { "MET" } else { "MISSED" };
    if json {
        println!(
            "{{\"target\":\"e2e window 256 >= 400000/s\",\"measured\":{w256:.0},\"met\":{}}}",
            w256 >= 400_000.0
        );
    } else {
        println!("target >= 400,000 submit_sm round trips/s at window 256: {w256:.0}/s, {verdict}");
    }
    ExitCode::SUCCESS
}

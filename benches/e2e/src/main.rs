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
fn smsc(stats: bool) -> (TransportHandle, SocketAddr, JoinHandle<()>) {
    let t = Transport::spawn(Default::default()).expect("transport");
    let cfg = smpp_session::Config::default()
        .enquire_link_interval(None)
        .max_inbound_pending(100_000)
        .stats(stats);
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

/// CPU time used by this process so far (every thread), in nanoseconds.
fn process_cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

struct Run {
    window: usize,
    count: usize,
    per_second: f64,
    /// CPU time of the whole process (client, SMSC, both loops) per round trip.
    cpu_ns: f64,
    p50: Duration,
    p99: Duration,
}

/// Submits taken between two `Client::stats()` snapshots in the runs with counters on
/// (what a `--stats-every` reader adds on top of the counting itself).
const SNAPSHOT_EVERY: usize = 10_000;

fn run(window: usize, count: usize, stats: bool) -> Run {
    let (smsc_transport, addr, smsc_thread) = smsc(stats);
    let mut cfg = ClientConfig::new(BindKind::Transmitter, "bench", "pw")
        .window(window)
        .enquire_link_interval(None);
    cfg.session.stats = stats;
    let client = Client::connect(addr, cfg).expect("bind");
    let sm = message();
    // Warm up.
    for _ in 0..window.min(1000) {
        client.submit(&sm).expect("warm-up submit");
    }
    let mut latencies = Vec::with_capacity(count);
    let mut in_flight = VecDeque::with_capacity(window);
    let start = Instant::now();
    let cpu0 = process_cpu_ns();
    let mut snapshots = 0u64;
    for i in 0..count {
        if stats && i % SNAPSHOT_EVERY == 0 {
            snapshots += std::hint::black_box(client.stats()).session.sent.total();
        }
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
    let cpu_ns = (process_cpu_ns() - cpu0) as f64 / count as f64;
    if stats {
        let st = client.stats().session;
        let sent = st.sent.count(smpp_pdu::CommandId::SUBMIT_SM) as usize;
        assert_eq!(
            sent,
            count + window.min(1000),
            "the counters saw every submit"
        );
        assert!(snapshots > 0 || count < SNAPSHOT_EVERY);
    } else {
        assert_eq!(client.stats().session.sent.total(), 0, "counters off");
    }
    client.unbind().expect("unbind");
    smsc_transport.shutdown();
    let _ = smsc_thread.join();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Run {
        window,
        count,
        per_second: count as f64 / elapsed.as_secs_f64(),
        cpu_ns,
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
        let r = run(window, count, true);
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
    // The cost of the counters: window 256 with the session counters (and a snapshot every
    // 10,000 submits) against the same with `Config::stats(false)` on both sides,
    // alternating, the median of each.
    // Wall-clock throughput swings with whatever else the shared machine runs, so the
    // cost is also read as CPU time per round trip (the whole process: both loops, the
    // responder and the client), which other processes disturb much less.
    let pairs = if quick { 1 } else { 15 };
    let n = if quick { 20_000 } else { 200_000 };
    let (mut on, mut off, mut on_cpu, mut off_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..pairs {
        let a = run(256, n, true);
        let b = run(256, n, false);
        on.push(a.per_second);
        on_cpu.push(a.cpu_ns);
        off.push(b.per_second);
        off_cpu.push(b.cpu_ns);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (on_med, off_med) = (median(&mut on), median(&mut off));
    let (on_cpu, off_cpu) = (median(&mut on_cpu), median(&mut off_cpu));
    let cost = (off_med - on_med) / off_med * 100.0;
    let cpu_cost = (on_cpu - off_cpu) / off_cpu * 100.0;
    if json {
        println!(
            "{{\"bench\":\"e2e_stats_cost\",\"window\":256,\"count\":{n},\"pairs\":{pairs},\"with_stats_per_second\":{on_med:.0},\"without_stats_per_second\":{off_med:.0},\"throughput_cost_percent\":{cost:.2},\"with_stats_cpu_ns\":{on_cpu:.1},\"without_stats_cpu_ns\":{off_cpu:.1},\"cpu_cost_percent\":{cpu_cost:.2}}}"
        );
    } else {
        println!(
            "counters on / off at window 256 ({pairs} alternating runs of {n}, medians): \
             {on_med:.0} / {off_med:.0} submits/s (cost {cost:.2}%); CPU {on_cpu:.0} / \
             {off_cpu:.0} ns per round trip (cost {cpu_cost:.2}%); target < 2%"
        );
    }
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

//! `smpp smsc --metrics ADDR`: the counters in the Prometheus text format at `/metrics`,
//! scraped with a plain `TcpStream` while a library client binds and submits.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use smpp_client::{Client, ClientConfig};
use smpp_pdu::SubmitSm;
use smpp_session::BindKind;

mod common;
use common::*;

/// Starts `smpp smsc --listen 127.0.0.1:0 --metrics 127.0.0.1:0 ARGS...`; returns it, the
/// SMPP address and the metrics address, both read from its first two lines.
fn smsc_with_metrics(args: &[&str]) -> (Child, SocketAddr, SocketAddr) {
    let mut all = vec![
        "smsc",
        "--listen",
        "127.0.0.1:0",
        "--metrics",
        "127.0.0.1:0",
    ];
    all.extend_from_slice(args);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args(&all)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("smpp smsc runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut last_word = || {
        let mut line = String::new();
        lines.read_line(&mut line).expect("a line");
        let word = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        (line, word)
    };
    let (line, word) = last_word();
    let smpp: SocketAddr = word.parse().unwrap_or_else(|_| panic!("{line:?}"));
    let (line, word) = last_word();
    let metrics: SocketAddr = word
        .strip_prefix("http://")
        .and_then(|w| w.strip_suffix("/metrics"))
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("{line:?}"));
    // Keep reading, so that the final counters find a reader.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    (child, smpp, metrics)
}

/// `GET path` with a plain TcpStream: the status line and the body.
fn get(addr: SocketAddr, path: &str) -> (String, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics endpoint");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("response (closed)");
    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    let status = head.lines().next().unwrap_or_default().to_string();
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or_default()
        .to_string();
    (status, content_type, body.to_string())
}

/// The value of the sample `name` (with its labels, if any) in `text`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn smsc_serves_prometheus_metrics() {
    let (mut child, smpp, metrics) = smsc_with_metrics(&["--receipt-delay-ms", "10"]);
    let result = std::panic::catch_unwind(move || {
        let (status, content_type, body) = get(metrics, "/metrics");
        assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        assert_eq!(
            sample(&body, "smpp_smsc_submits_total"),
            Some(0.0),
            "{body}"
        );

        // A transceiver: the receipts come back to it and it acknowledges them, so the
        // SMSC's own requests (deliver_sm) get responses and latencies.
        let cfg = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
            .response_timeout(Duration::from_secs(5));
        let c = Client::connect(smpp, cfg).expect("bind");
        for i in 0..3 {
            c.submit(&SubmitSm {
                destination_addr: format!("4477009001{i:02}").as_str().into(),
                short_message: "hi".into(),
                registered_delivery: 1,
                ..Default::default()
            })
            .expect("submit");
        }
        let started = Instant::now();
        let body = loop {
            let (_, _, body) = get(metrics, "/metrics");
            if sample(&body, "smpp_smsc_delivers_acked_total") == Some(3.0) {
                break body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "receipts never acknowledged:\n{body}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        for line in [
            "# HELP smpp_smsc_submits_total",
            "# TYPE smpp_smsc_submits_total counter",
            "# TYPE smpp_smsc_bound_sessions gauge",
            "# TYPE smpp_smsc_pdus_sent_total counter",
            "# TYPE smpp_smsc_response_latency_seconds histogram",
        ] {
            assert!(body.lines().any(|l| l.starts_with(line)), "{line}:\n{body}");
        }
        assert_eq!(
            sample(&body, "smpp_smsc_submits_total"),
            Some(3.0),
            "{body}"
        );
        assert_eq!(sample(&body, "smpp_smsc_binds_total"), Some(1.0), "{body}");
        assert_eq!(
            sample(&body, "smpp_smsc_bound_sessions"),
            Some(1.0),
            "{body}"
        );
        assert_eq!(sample(&body, "smpp_smsc_connections_total"), Some(1.0));
        assert_eq!(sample(&body, "smpp_smsc_open_connections"), Some(1.0));
        assert_eq!(sample(&body, "smpp_smsc_receipts_sent_total"), Some(3.0));
        assert_eq!(
            sample(
                &body,
                r#"smpp_smsc_pdus_sent_total{command="submit_sm_resp",status="ESME_ROK"}"#
            ),
            Some(3.0),
            "{body}"
        );
        assert_eq!(
            sample(
                &body,
                r#"smpp_smsc_pdus_received_total{command="submit_sm",status="ESME_ROK"}"#
            ),
            Some(3.0),
            "{body}"
        );
        let count = sample(&body, "smpp_smsc_response_latency_seconds_count");
        assert!(count.is_some_and(|n| n >= 3.0), "{body}");
        assert_eq!(
            sample(
                &body,
                r#"smpp_smsc_response_latency_seconds_bucket{le="+Inf"}"#
            ),
            count,
            "{body}"
        );

        // Any other path is not found; the server goes on answering afterwards.
        let (status, _, _) = get(metrics, "/");
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        let (status, _, _) = get(metrics, "/metrics/x");
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        // A client that connects and sends nothing does not stop the others for long.
        let _idle = TcpStream::connect(metrics).expect("connect");
        let (status, _, _) = get(metrics, "/metrics");
        assert_eq!(status, "HTTP/1.1 200 OK");

        c.unbind().expect("unbind");
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// With `--duration`, the metrics thread stops with the SMSC and the process exits.
#[test]
fn smsc_with_metrics_exits_after_duration() {
    let (child, _, metrics) = smsc_with_metrics(&["--duration", "1"]);
    let (status, _, _) = get(metrics, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let o = finish(child, Duration::from_secs(20), "smpp smsc --duration 1");
    assert!(o.status.success(), "{}", err(&o));
    assert!(TcpStream::connect(metrics).is_err(), "still listening");
}

#[test]
fn a_bad_metrics_address_is_a_usage_error() {
    let o = smpp(&["smsc", "--listen", "127.0.0.1:0", "--metrics", "nonsense"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("--metrics"), "{}", err(&o));

    // An address that is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("addr").to_string();
    let o = smpp(&["smsc", "--listen", "127.0.0.1:0", "--metrics", &addr]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("--metrics") && e.contains("cannot listen"),
        "{e}"
    );
    assert!(out(&o).is_empty(), "the SMSC did not start: {}", out(&o));
}

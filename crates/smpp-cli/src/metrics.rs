//! `smpp smsc --metrics ADDR`: the SMSC's counters in the Prometheus text exposition format
//! (version 0.0.4) at `GET /metrics`, served on a thread of its own by a minimal HTTP/1.1
//! responder (one request per connection, then close).
//!
//! Each scrape reads [`Smsc::stats`] and [`Smsc::session_stats`] (the public API only) and
//! encodes them with `prometheus-client`: a [`Registry`] per scrape holding one
//! [`Collector`] over the snapshot. The metric names are listed in docs/observability.md.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use smpp_session::stats::{Counters, Histogram, HISTOGRAM_BUCKETS};
use smpp_smsc::Smsc;

use crate::stats::{command_name, status_name};

/// The largest request head (request line and headers) read; a longer one gets 431.
const MAX_HEAD: usize = 8 * 1024;
/// How long a connection may take to send its request head, and to take the response.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the accept loop looks at its stop flag when no connection comes.
const POLL: Duration = Duration::from_millis(50);

/// What one scrape encodes: the SMSC's counters and its sessions' (`None` when the SMSC
/// did not answer for them).
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) smsc: smpp_smsc::Stats,
    pub(crate) session: Option<smpp_session::Stats>,
}

/// The metrics of `smpp_smsc::Stats`: name, help, type, field.
type SmscField = (
    &'static str,
    &'static str,
    MetricType,
    fn(&smpp_smsc::Stats) -> u64,
);

const SMSC_FIELDS: &[SmscField] = &[
    (
        "smpp_smsc_connections",
        "Connections accepted.",
        MetricType::Counter,
        |s| s.connections,
    ),
    (
        "smpp_smsc_open_connections",
        "Connections open now.",
        MetricType::Gauge,
        |s| s.open_connections,
    ),
    (
        "smpp_smsc_binds",
        "Binds accepted.",
        MetricType::Counter,
        |s| s.binds,
    ),
    (
        "smpp_smsc_bind_rejects",
        "Binds refused (locked-out ones included).",
        MetricType::Counter,
        |s| s.bind_rejects,
    ),
    (
        "smpp_smsc_bind_lockouts",
        "Binds refused because their address had too many failed binds.",
        MetricType::Counter,
        |s| s.bind_lockouts,
    ),
    (
        "smpp_smsc_bound_sessions",
        "Sessions bound now.",
        MetricType::Gauge,
        |s| s.bound,
    ),
    (
        "smpp_smsc_submits",
        "Submits (submit_sm, submit_multi, data_sm) accepted with a message id.",
        MetricType::Counter,
        |s| s.submits,
    ),
    (
        "smpp_smsc_throttled",
        "Submits answered ESME_RTHROTTLED.",
        MetricType::Counter,
        |s| s.throttled,
    ),
    (
        "smpp_smsc_dropped_submits",
        "submit_sm left unanswered by fault injection (--drop-every).",
        MetricType::Counter,
        |s| s.dropped,
    ),
    (
        "smpp_smsc_fault_closes",
        "Connections closed by fault injection (--close-after).",
        MetricType::Counter,
        |s| s.fault_closes,
    ),
    (
        "smpp_smsc_garbage_sent",
        "Connections sent an invalid header by fault injection (--garbage-after).",
        MetricType::Counter,
        |s| s.garbage_sent,
    ),
    (
        "smpp_smsc_other_requests",
        "query_sm, cancel_sm and replace_sm answered.",
        MetricType::Counter,
        |s| s.other_requests,
    ),
    (
        "smpp_smsc_receipts_sent",
        "Final delivery receipts sent (each copy of a duplicated one counted).",
        MetricType::Counter,
        |s| s.receipts_sent,
    ),
    (
        "smpp_smsc_intermediate_receipts_sent",
        "Intermediate delivery receipts sent.",
        MetricType::Counter,
        |s| s.intermediates_sent,
    ),
    (
        "smpp_smsc_receipts_dropped",
        "Messages whose receipts were dropped because no session of the submitter was bound to receive in time.",
        MetricType::Counter,
        |s| s.receipts_dropped,
    ),
    (
        "smpp_smsc_mo_sent",
        "MO messages sent.",
        MetricType::Counter,
        |s| s.mo_sent,
    ),
    (
        "smpp_smsc_delivers_acked",
        "deliver_sm_resp received with ESME_ROK.",
        MetricType::Counter,
        |s| s.delivers_acked,
    ),
    (
        "smpp_smsc_delivers_failed",
        "deliver_sm that got an error response or none.",
        MetricType::Counter,
        |s| s.delivers_failed,
    ),
    (
        "smpp_smsc_unbinds",
        "unbind requests received from ESMEs.",
        MetricType::Counter,
        |s| s.unbinds,
    ),
    (
        "smpp_smsc_pdus_recorded",
        "PDUs the SMSC recorded (what --log writes).",
        MetricType::Counter,
        |s| s.received,
    ),
];

/// The scalar metrics of `smpp_session::Stats`, summed over the SMSC's sessions.
type SessionField = (
    &'static str,
    &'static str,
    MetricType,
    fn(&smpp_session::Stats) -> u64,
);

const SESSION_FIELDS: &[SessionField] = &[
    (
        "smpp_smsc_response_timeouts",
        "Requests of the SMSC (deliver_sm, enquire_link, ...) that got no response in time.",
        MetricType::Counter,
        |s| s.response_timeouts,
    ),
    (
        "smpp_smsc_requests_failed",
        "Requests of the SMSC that failed without a response.",
        MetricType::Counter,
        |s| s.requests_failed,
    ),
    (
        "smpp_smsc_unexpected_responses",
        "Responses that matched no request in flight.",
        MetricType::Counter,
        |s| s.unexpected_responses,
    ),
    (
        "smpp_smsc_rejected_requests",
        "Inbound requests the sessions refused by themselves.",
        MetricType::Counter,
        |s| s.rejected_requests,
    ),
    (
        "smpp_smsc_in_flight_requests",
        "Requests of the SMSC awaiting a response now.",
        MetricType::Gauge,
        |s| s.in_flight,
    ),
    (
        "smpp_smsc_inbound_pending_requests",
        "Inbound requests not answered yet.",
        MetricType::Gauge,
        |s| s.inbound_pending,
    ),
];

/// One counter or gauge without labels. A counter's name gets `_total` from the encoder.
fn encode_scalar(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let m = encoder.encode_descriptor(name, help, None, kind)?;
    match kind {
        MetricType::Gauge => ConstGauge::new(value).encode(m),
        _ => ConstCounter::new(value).encode(m),
    }
}

/// PDUs per command and status, as one counter family with `command` and `status` labels.
fn encode_pdus(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    counters: &Counters,
) -> Result<(), std::fmt::Error> {
    let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for c in counters.iter() {
        let labels = [
            ("command", command_name(c.command_id)),
            ("status", status_name(c.command_status)),
        ];
        ConstCounter::new(c.count).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

/// The latency histogram in seconds. Bucket `i` holds durations under 2^i µs (its bound,
/// `le`), the last one everything longer (`+Inf`). `Histogram` does not expose its sum, so
/// `_sum` is its mean (whole microseconds) times its count.
fn encode_latency(
    encoder: &mut DescriptorEncoder<'_>,
    h: &Histogram,
) -> Result<(), std::fmt::Error> {
    let buckets: Vec<(f64, u64)> = h
        .buckets()
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let bound = if i + 1 >= HISTOGRAM_BUCKETS {
                f64::INFINITY
            } else {
                Histogram::bucket_upper_bound(i).as_secs_f64()
            };
            (bound, n)
        })
        .collect();
    let sum = h.mean().map_or(0.0, |m| m.as_secs_f64() * h.count() as f64);
    let mut m = encoder.encode_descriptor(
        "smpp_smsc_response_latency_seconds",
        "Time from sending each request of the SMSC (deliver_sm, enquire_link, ...) to its response.",
        None,
        MetricType::Histogram,
    )?;
    m.encode_histogram::<NoLabelSet>(sum, h.count(), &buckets, None)
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        for (name, help, kind, get) in SMSC_FIELDS {
            encode_scalar(&mut encoder, name, help, *kind, get(&self.smsc))?;
        }
        let Some(s) = &self.session else {
            return Ok(());
        };
        encode_pdus(
            &mut encoder,
            "smpp_smsc_pdus_sent",
            "PDUs the SMSC sent, per command and status.",
            &s.sent,
        )?;
        encode_pdus(
            &mut encoder,
            "smpp_smsc_pdus_received",
            "PDUs the SMSC received with a readable header, per command and status.",
            &s.received,
        )?;
        for (name, help, kind, get) in SESSION_FIELDS {
            encode_scalar(&mut encoder, name, help, *kind, get(s))?;
        }
        encode_latency(&mut encoder, &s.response_latency)
    }
}

/// The exposition of `snapshot` in the Prometheus text format (version 0.0.4).
pub(crate) fn encode(snapshot: Snapshot) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(snapshot));
    let mut text = String::new();
    // Writing to a String does not fail, and the collector only fails when its writer does.
    let _ = prometheus_text::encode(&mut text, &registry);
    text
}

/// Reads the request head (up to the blank line), at most [`MAX_HEAD`] bytes; `None` if it
/// is longer. Errors: the connection failed, closed early or timed out.
fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        // Look for the end again from just before the new bytes (it may straddle reads).
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if head[from..].windows(4).any(|w| w == b"\r\n\r\n")
            || head[from..].windows(2).any(|w| w == b"\n\n")
        {
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

/// The response to a request head: status line, content type and body.
fn respond(head: Option<&[u8]>, scrape: impl FnOnce() -> String) -> (&'static str, String) {
    let Some(head) = head else {
        return (
            "431 Request Header Fields Too Large",
            "request head too large\n".into(),
        );
    };
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return ("400 Bad Request", "bad request line\n".into());
    };
    if !version.starts_with("HTTP/1.") {
        return ("400 Bad Request", "HTTP/1.x only\n".into());
    }
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if path != "/metrics" {
        return (
            "404 Not Found",
            "not found; the metrics are at /metrics\n".into(),
        );
    }
    if method != "GET" && method != "HEAD" {
        return ("405 Method Not Allowed", "GET or HEAD only\n".into());
    }
    ("200 OK", scrape())
}

/// Answers one connection and closes it.
fn handle(mut stream: TcpStream, smsc: &Smsc) -> std::io::Result<()> {
    // Accepted sockets may inherit the listener's non-blocking mode on some platforms.
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let head = read_head(&mut stream)?;
    let is_head = head.as_deref().is_some_and(|h| h.starts_with(b"HEAD "));
    let (status, body) = respond(head.as_deref(), || {
        encode(Snapshot {
            smsc: smsc.stats(),
            session: smsc.session_stats(),
        })
    });
    let content_type = if status.starts_with("200") {
        prometheus_text::CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let allow = if status.starts_with("405") {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !is_head {
        response.extend_from_slice(body.as_bytes());
    }
    stream.write_all(&response)?;
    stream.flush()?;
    // Read what the client may still send before closing, so the close is not a reset
    // that could discard the response; bounded by the read timeout and a small budget.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = std::io::copy(&mut (&mut stream).take(64 * 1024), &mut std::io::sink());
    Ok(())
}

/// The metrics endpoint's listening socket, bound before the SMSC starts so that a bad
/// address fails early.
#[derive(Debug)]
pub(crate) struct Endpoint {
    listener: TcpListener,
}

impl Endpoint {
    /// Listens on `addr`.
    pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<Endpoint> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(Endpoint { listener })
    }

    /// Where it listens.
    pub(crate) fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `smsc`'s metrics on a thread of `scope` until [`Server::stop`].
    pub(crate) fn serve<'scope, 'env>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        smsc: &'scope Smsc,
    ) -> Server<'scope> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("smpp-metrics".into())
            .spawn_scoped(scope, move || self.run(smsc, &flag))
            .expect("spawn the metrics thread");
        Server { stop, thread }
    }

    fn run(self, smsc: &Smsc, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if let Err(e) = handle(stream, smsc) {
                        log::debug!("metrics: {peer}: {e}");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!("metrics: accept failed: {e}");
                    std::thread::sleep(POLL);
                }
            }
        }
    }
}

/// The running metrics thread.
#[derive(Debug)]
pub(crate) struct Server<'scope> {
    stop: Arc<AtomicBool>,
    thread: ScopedJoinHandle<'scope, ()>,
}

impl Server<'_> {
    /// Stops serving (after the scrape in progress, if any) and joins the thread.
    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::{encode, respond, Snapshot};
    use smpp_pdu::{CommandId, CommandStatus};
    use std::time::Duration;

    fn snapshot() -> Snapshot {
        let smsc = smpp_smsc::Stats {
            connections: 3,
            open_connections: 1,
            binds: 2,
            bind_rejects: 1,
            bound: 1,
            submits: 5,
            throttled: 4,
            received: 9,
            ..Default::default()
        };
        let mut session = smpp_session::Stats::default();
        session
            .received
            .add_n(CommandId::SUBMIT_SM, CommandStatus::ESME_ROK, 9);
        session
            .sent
            .add_n(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_ROK, 5);
        session
            .sent
            .add_n(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RTHROTTLED, 4);
        session.response_timeouts = 2;
        session.in_flight = 7;
        session.response_latency.record(Duration::from_micros(3)); // bucket 2 (< 4 µs)
        session.response_latency.record(Duration::from_micros(3));
        session.response_latency.record(Duration::from_millis(1)); // bucket 10 (< 1024 µs)
        Snapshot {
            smsc,
            session: Some(session),
        }
    }

    #[test]
    fn encodes_every_counter_with_help_and_type() {
        let text = encode(snapshot());
        for line in [
            "# HELP smpp_smsc_connections_total Connections accepted.",
            "# TYPE smpp_smsc_connections_total counter",
            "smpp_smsc_connections_total 3",
            "# TYPE smpp_smsc_open_connections gauge",
            "smpp_smsc_open_connections 1",
            "smpp_smsc_binds_total 2",
            "smpp_smsc_bind_rejects_total 1",
            "smpp_smsc_bind_lockouts_total 0",
            "smpp_smsc_bound_sessions 1",
            "smpp_smsc_submits_total 5",
            "smpp_smsc_throttled_total 4",
            "smpp_smsc_pdus_recorded_total 9",
            "smpp_smsc_unbinds_total 0",
            "# TYPE smpp_smsc_pdus_sent_total counter",
            r#"smpp_smsc_pdus_sent_total{command="submit_sm_resp",status="ESME_ROK"} 5"#,
            r#"smpp_smsc_pdus_sent_total{command="submit_sm_resp",status="ESME_RTHROTTLED"} 4"#,
            r#"smpp_smsc_pdus_received_total{command="submit_sm",status="ESME_ROK"} 9"#,
            "smpp_smsc_response_timeouts_total 2",
            "# TYPE smpp_smsc_in_flight_requests gauge",
            "smpp_smsc_in_flight_requests 7",
            "# TYPE smpp_smsc_response_latency_seconds histogram",
            r#"smpp_smsc_response_latency_seconds_bucket{le="1e-06"} 0"#,
            r#"smpp_smsc_response_latency_seconds_bucket{le="4e-06"} 2"#,
            r#"smpp_smsc_response_latency_seconds_bucket{le="0.000512"} 2"#,
            r#"smpp_smsc_response_latency_seconds_bucket{le="0.001024"} 3"#,
            r#"smpp_smsc_response_latency_seconds_bucket{le="+Inf"} 3"#,
            "smpp_smsc_response_latency_seconds_count 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing:\n{text}");
        }
        // (3 + 3 + 1000) / 3 = 335 µs mean, times 3.
        let sum = text
            .lines()
            .find_map(|l| l.strip_prefix("smpp_smsc_response_latency_seconds_sum "))
            .and_then(|v| v.parse::<f64>().ok())
            .expect("a _sum");
        assert!((sum - 0.001005).abs() < 1e-9, "{sum}");
        // Every sample has its HELP and TYPE.
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        assert_eq!(helps, types);
        assert_eq!(helps, 20 + 2 + 6 + 1, "{text}");
    }

    #[test]
    fn without_session_stats_only_the_smsc_counters() {
        let mut s = snapshot();
        s.session = None;
        let text = encode(s);
        assert!(text.contains("smpp_smsc_submits_total 5\n"), "{text}");
        assert!(!text.contains("pdus_sent"), "{text}");
        assert!(!text.contains("latency"), "{text}");
    }

    #[test]
    fn routes_requests() {
        let ok = || "body".to_string();
        let r = |head: &[u8]| respond(Some(head), ok).0;
        assert_eq!(r(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), "200 OK");
        assert_eq!(r(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), "200 OK");
        assert_eq!(r(b"GET / HTTP/1.1\r\n\r\n"), "404 Not Found");
        assert_eq!(r(b"GET /metricsx HTTP/1.1\r\n\r\n"), "404 Not Found");
        assert_eq!(
            r(b"POST /metrics HTTP/1.1\r\n\r\n"),
            "405 Method Not Allowed"
        );
        assert_eq!(r(b"GET /metrics\r\n\r\n"), "400 Bad Request");
        assert_eq!(r(b"GET /metrics SPDY/3\r\n\r\n"), "400 Bad Request");
        assert_eq!(respond(None, ok).0, "431 Request Header Fields Too Large");
    }
}

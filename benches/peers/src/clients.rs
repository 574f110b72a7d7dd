//! The Rust clients: ours, rusmppc and a plain tokio loop on rusmpp's codec. Each binds as a
//! transmitter, sends `Limits::warmup` untimed submits, then keeps `Limits::window` requests
//! in flight until `Limits::max` were sent or `Limits::secs` passed, and waits for the rest.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::{Duration, Instant};

use futures::stream::FuturesUnordered;
use futures::{FutureExt, SinkExt, StreamExt};

use crate::{Limits, Measured, TEXT};

/// Sending goes on while this says so: below `max` and before `deadline` after `start`.
struct Budget {
    start: Instant,
    max: u64,
    deadline: Option<Duration>,
    sent: u64,
}

impl Budget {
    fn new(max: u64, secs: Option<f64>) -> Budget {
        Budget {
            start: Instant::now(),
            max,
            deadline: secs.map(Duration::from_secs_f64),
            sent: 0,
        }
    }

    /// The send time of the next request, or `None` once the budget is spent.
    fn next(&mut self) -> Option<Instant> {
        if self.sent >= self.max {
            return None;
        }
        let now = Instant::now();
        if let Some(d) = self.deadline {
            if now - self.start >= d {
                self.max = self.sent;
                return None;
            }
        }
        self.sent += 1;
        Some(now)
    }
}

// ---------------------------------------------------------------------------------------
// Ours.
// ---------------------------------------------------------------------------------------

/// The 128-octet `submit_sm` every client sends (`registered_delivery` 0), in our types.
pub(crate) fn our_submit() -> smpp_pdu::SubmitSm<'static> {
    smpp_pdu::SubmitSm {
        source_addr_ton: 5,
        source_addr: "MyBrand".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900123".into(),
        short_message: TEXT.as_bytes().into(),
        ..Default::default()
    }
}

/// Our `smpp-client`: `submit_async` handles, waiting on the oldest, as `benches/e2e` does.
pub(crate) fn ours(addr: SocketAddr, lim: Limits) -> Result<Measured, String> {
    use smpp_client::{Client, ClientConfig, Pending};
    use smpp_session::BindKind;

    let cfg = ClientConfig::new(BindKind::Transmitter, "bench", "pw")
        .window(lim.window)
        .enquire_link_interval(None);
    let client = Client::connect(addr, cfg).map_err(|e| format!("ours: bind: {e}"))?;
    let sm = our_submit();
    let phase = |max: u64, secs: Option<f64>| -> Result<Measured, String> {
        let mut budget = Budget::new(max, secs);
        let mut latencies = Vec::with_capacity(max.min(4_000_000) as usize);
        let mut in_flight: VecDeque<(Instant, Pending)> = VecDeque::with_capacity(lim.window);
        loop {
            if in_flight.len() < lim.window {
                if let Some(t0) = budget.next() {
                    let p = client
                        .submit_async(sm.clone())
                        .map_err(|e| format!("ours: submit_async: {e}"))?;
                    in_flight.push_back((t0, p));
                    continue;
                }
            }
            let Some((t0, p)) = in_flight.pop_front() else {
                break;
            };
            p.wait_submit().map_err(|e| format!("ours: submit: {e}"))?;
            latencies.push(t0.elapsed().as_nanos() as u64);
        }
        Ok(Measured {
            completed: latencies.len() as u64,
            elapsed: budget.start.elapsed(),
            latencies,
        })
    };
    phase(lim.warmup, None)?;
    let m = phase(lim.max, Some(lim.secs))?;
    client.unbind().map_err(|e| format!("ours: unbind: {e}"))?;
    Ok(m)
}

/// Our `smpp-client` through `submit_batch` (one completion channel for the whole batch
/// instead of one per request), in batches of `Limits::window * 64` messages with `window`
/// in flight. It reports no latencies: `submit_batch` returns only the results.
pub(crate) fn ours_batch(addr: SocketAddr, lim: Limits) -> Result<Measured, String> {
    use smpp_client::{Client, ClientConfig};
    use smpp_session::BindKind;

    let cfg = ClientConfig::new(BindKind::Transmitter, "bench", "pw")
        .window(lim.window)
        .enquire_link_interval(None);
    let client = Client::connect(addr, cfg).map_err(|e| format!("ours-batch: bind: {e}"))?;
    let sm = our_submit();
    let phase = |max: u64, secs: Option<f64>| -> Result<Measured, String> {
        let mut budget = Budget::new(max, secs);
        let mut completed = 0u64;
        loop {
            let mut n = 0;
            while n < lim.window * 64 && budget.next().is_some() {
                n += 1;
            }
            if n == 0 {
                break;
            }
            for r in client.submit_batch(std::iter::repeat_n(sm.clone(), n), lim.window) {
                r.map_err(|e| format!("ours-batch: submit: {e}"))?;
                completed += 1;
            }
        }
        Ok(Measured {
            completed,
            elapsed: budget.start.elapsed(),
            latencies: Vec::new(),
        })
    };
    phase(lim.warmup, None)?;
    let m = phase(lim.max, Some(lim.secs))?;
    client
        .unbind()
        .map_err(|e| format!("ours-batch: unbind: {e}"))?;
    Ok(m)
}

/// Our sans-IO core driven from the calling thread, as `examples/embed`'s blocking loop
/// does and as the tokio client drives rusmpp's codec: one thread, a blocking `TcpStream`,
/// `Session::send_request` while the window has room, one write for everything queued,
/// and `Session::handle_input_with`, which hands each response over borrowed from the read
/// buffer. No transport thread, no channel, no allocation per message.
pub(crate) fn ours_session(addr: SocketAddr, lim: Limits) -> Result<Measured, String> {
    use std::io::{Read, Write};

    use smpp_pdu::Body;
    use smpp_session::{BindKind, BindRequest, Config, Delivery, Event, Session};

    let fail = |what: &str, e: &dyn std::fmt::Display| format!("ours-session: {what}: {e}");
    let mut tcp = std::net::TcpStream::connect(addr).map_err(|e| fail("connect", &e))?;
    tcp.set_nodelay(true).map_err(|e| fail("nodelay", &e))?;
    // A stalled server fails the run instead of hanging it.
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| fail("read timeout", &e))?;
    let cfg = Config::default()
        .window(lim.window)
        .enquire_link_interval(None)
        .response_timeout(Duration::from_secs(60));
    let mut s = Session::esme(cfg, Instant::now());
    let mut out: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut buf = vec![0u8; 256 * 1024];

    // Writes what the session queued, then reads once into `buf`; returns the length.
    let mut exchange = |s: &mut Session, out: &mut Vec<u8>, buf: &mut [u8]| {
        while s.poll_transmit(out).is_some() {}
        if !out.is_empty() {
            tcp.write_all(out).map_err(|e| fail("write", &e))?;
            out.clear();
        }
        match tcp.read(buf) {
            Ok(0) => Err("ours-session: the server closed the connection".to_string()),
            Ok(n) => Ok(n),
            Err(e) => Err(fail("read", &e)),
        }
    };

    s.bind(
        Instant::now(),
        BindRequest::new(BindKind::Transmitter, "bench", "pw"),
    )
    .map_err(|e| fail("bind", &e))?;
    while !s.is_bound() {
        let n = exchange(&mut s, &mut out, &mut buf)?;
        s.handle_input(Instant::now(), &buf[..n]);
        while let Some(ev) = s.poll_event() {
            match ev {
                Event::BindRejected { status } => return Err(fail("bind", &status)),
                Event::Closed { reason } => {
                    return Err(format!("ours-session: closed: {reason:?}"))
                }
                _ => {}
            }
        }
    }

    let body = Body::from(our_submit());
    // Send time by sequence number, in a ring four windows long (numbers go up by one).
    let ring = (lim.window * 4).next_power_of_two();
    let mut sent_at: Vec<(u32, Instant)> = vec![(0, Instant::now()); ring];

    let mut phase = |s: &mut Session, max: u64, secs: Option<f64>| -> Result<Measured, String> {
        let mut budget = Budget::new(max, secs);
        let mut latencies = Vec::with_capacity(max.min(8_000_000) as usize);
        let mut in_flight = 0usize;
        loop {
            while in_flight < lim.window {
                let Some(t0) = budget.next() else { break };
                let seq = s
                    .send_request(t0, &body)
                    .map_err(|e| fail("send_request", &e))?;
                sent_at[seq as usize & (ring - 1)] = (seq, t0);
                in_flight += 1;
            }
            if in_flight == 0 {
                break;
            }
            let n = exchange(s, &mut out, &mut buf)?;
            let now = Instant::now();
            let mut failure: Option<String> = None;
            s.handle_input_with(now, &buf[..n], |d| match d {
                Delivery::Response {
                    sequence_number,
                    pdu,
                    ..
                } => {
                    in_flight -= 1;
                    let (seq, t0) = sent_at[sequence_number as usize & (ring - 1)];
                    if !pdu.command_status.is_ok() || seq != sequence_number {
                        failure.get_or_insert(format!(
                            "ours-session: response {sequence_number}: {:?}",
                            pdu.command_status
                        ));
                    }
                    latencies.push((now - t0).as_nanos() as u64);
                }
                Delivery::Event(ev) => {
                    failure.get_or_insert(format!("ours-session: unexpected {ev:?}"));
                }
                other => {
                    failure.get_or_insert(format!("ours-session: unexpected {other:?}"));
                }
            });
            if let Some(f) = failure {
                return Err(f);
            }
        }
        Ok(Measured {
            completed: latencies.len() as u64,
            elapsed: budget.start.elapsed(),
            latencies,
        })
    };
    phase(&mut s, lim.warmup, None)?;
    let m = phase(&mut s, lim.max, Some(lim.secs))?;

    s.unbind(Instant::now()).map_err(|e| fail("unbind", &e))?;
    while !s.is_closed() {
        let n = exchange(&mut s, &mut out, &mut buf)?;
        s.handle_input(Instant::now(), &buf[..n]);
    }
    Ok(m)
}

/// Our caller-driven client, `smpp_client::direct::DirectClient` over a `TcpStream`: one
/// thread, `submit` while the window has room (queued; the next `poll` writes them all in
/// one write), `poll` for each response, send times in a ring keyed by sequence number,
/// and the clock read once per read (when `poll` had no event queued).
/// What `ours-session` does by hand, through the library type (owned responses, the
/// lifecycle layer, timers).
pub(crate) fn ours_direct(addr: SocketAddr, lim: Limits) -> Result<Measured, String> {
    use smpp_client::direct::{DirectClient, Event};
    use smpp_client::ClientConfig;
    use smpp_session::BindKind;

    let fail = |what: &str, e: &dyn std::fmt::Display| format!("ours-direct: {what}: {e}");
    let mut cfg = ClientConfig::new(BindKind::Transmitter, "bench", "pw")
        .window(lim.window)
        .enquire_link_interval(None)
        .response_timeout(Duration::from_secs(60));
    // As `ours-session`: no per-PDU counters.
    cfg.session.stats = false;
    let mut c = DirectClient::connect(addr, cfg).map_err(|e| fail("bind", &e))?;
    let sm = our_submit();
    let ring = (lim.window * 4).next_power_of_two();
    let mut sent_at: Vec<(u32, Instant)> = vec![(0, Instant::now()); ring];

    let mut phase = |c: &mut DirectClient<std::net::TcpStream>,
                     max: u64,
                     secs: Option<f64>|
     -> Result<Measured, String> {
        let mut budget = Budget::new(max, secs);
        let mut latencies = Vec::with_capacity(max.min(8_000_000) as usize);
        let mut in_flight = 0usize;
        let mut now = Instant::now();
        loop {
            while in_flight < lim.window {
                let Some(t0) = budget.next() else { break };
                let id = c.submit(&sm).map_err(|e| fail("submit", &e))?;
                let seq = id.sequence_number();
                sent_at[seq as usize & (ring - 1)] = (seq, t0);
                in_flight += 1;
            }
            if in_flight == 0 {
                break;
            }
            // The arrival time of what one read brought, as `ours-session` takes it: the
            // clock is read when `poll` has to do I/O, not for the events it had queued.
            let fresh = c.queued_events() == 0;
            // A stalled server fails the run instead of hanging it.
            match c
                .poll(Duration::from_secs(10))
                .map_err(|e| fail("poll", &e))?
            {
                Some(Event::Response { id, result }) => {
                    if fresh {
                        now = Instant::now();
                    }
                    in_flight -= 1;
                    result.map_err(|e| fail("response", &e))?;
                    let seq = id.sequence_number();
                    let (s, t0) = sent_at[seq as usize & (ring - 1)];
                    if s != seq {
                        return Err(format!("ours-direct: response {seq} not in the ring"));
                    }
                    latencies.push((now - t0).as_nanos() as u64);
                }
                Some(other) => return Err(format!("ours-direct: unexpected {other:?}")),
                None => return Err("ours-direct: no response within 10 s".to_string()),
            }
        }
        Ok(Measured {
            completed: latencies.len() as u64,
            elapsed: budget.start.elapsed(),
            latencies,
        })
    };
    phase(&mut c, lim.warmup, None)?;
    let m = phase(&mut c, lim.max, Some(lim.secs))?;
    c.unbind().map_err(|e| fail("unbind", &e))?;
    Ok(m)
}

// ---------------------------------------------------------------------------------------
// rusmpp's types, shared by rusmppc and the tokio loop.
// ---------------------------------------------------------------------------------------

fn their_submit() -> rusmpp::pdus::SubmitSm {
    use rusmpp::types::{COctetString, OctetString};
    use rusmpp::values::{
        DataCoding, EsmClass, Npi, PriorityFlag, RegisteredDelivery, ReplaceIfPresentFlag, Ton,
    };
    rusmpp::pdus::SubmitSm::builder()
        .source_addr_ton(Ton::from(5))
        .source_addr_npi(Npi::from(0))
        .source_addr(COctetString::from_str("MyBrand").expect("source_addr"))
        .dest_addr_ton(Ton::from(1))
        .dest_addr_npi(Npi::from(1))
        .destination_addr(COctetString::from_str("447700900123").expect("destination_addr"))
        .esm_class(EsmClass::from(0))
        .protocol_id(0)
        .priority_flag(PriorityFlag::from(0))
        .registered_delivery(RegisteredDelivery::from(0))
        .replace_if_present_flag(ReplaceIfPresentFlag::from(0))
        .data_coding(DataCoding::from(0))
        .sm_default_msg_id(0)
        .short_message(OctetString::from_str(TEXT).expect("short_message"))
        .build()
}

fn their_bind() -> rusmpp::pdus::BindTransmitter {
    use rusmpp::types::COctetString;
    use rusmpp::values::{InterfaceVersion, Npi, Ton};
    rusmpp::pdus::BindTransmitter::builder()
        .system_id(COctetString::from_str("bench").expect("system_id"))
        .password(COctetString::from_str("pw").expect("password"))
        .system_type(COctetString::empty())
        .interface_version(InterfaceVersion::Smpp3_4)
        .addr_ton(Ton::Unknown)
        .addr_npi(Npi::Unknown)
        .address_range(COctetString::empty())
        .build()
}

/// One measured phase of a futures-based client: `call()` futures kept `window` at a time
/// in a `FuturesUnordered` until the budget is spent, each response's latency recorded
/// (`done` counts them as they come, for a stall report).
async fn futures_phase<Fut, T, E>(
    window: usize,
    max: u64,
    secs: Option<f64>,
    mut call: impl FnMut() -> Fut,
    done: &std::cell::Cell<u64>,
    what: &str,
) -> Result<Measured, String>
where
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut budget = Budget::new(max, secs);
    let mut latencies = Vec::with_capacity(max.min(4_000_000) as usize);
    let mut in_flight = FuturesUnordered::new();
    loop {
        if in_flight.len() < window {
            if let Some(t0) = budget.next() {
                let f = call();
                in_flight.push(async move { (t0, f.await) });
                continue;
            }
        }
        let Some((t0, r)) = in_flight.next().await else {
            break;
        };
        r.map_err(|e| format!("{what}: {e}"))?;
        latencies.push(t0.elapsed().as_nanos() as u64);
        done.set(done.get() + 1);
    }
    Ok(Measured {
        completed: latencies.len() as u64,
        elapsed: budget.start.elapsed(),
        latencies,
    })
}

/// Our `smpp-tokio` client: `window` `submit` futures at once in a `FuturesUnordered`, in a
/// current-thread runtime (the connection's task and this one share the thread).
pub(crate) fn ours_tokio(addr: SocketAddr, lim: Limits) -> Result<Measured, String> {
    use smpp_session::BindKind;
    use smpp_tokio::{Client, ClientConfig};

    let run = async {
        let cfg = ClientConfig::new(BindKind::Transmitter, "bench", "pw")
            .window(lim.window)
            .enquire_link_interval(None);
        let (client, _inbound) = Client::connect(addr, cfg)
            .await
            .map_err(|e| format!("ours-tokio: bind: {e}"))?;
        let sm = our_submit();
        let done = std::cell::Cell::new(0u64);
        let phase = |max: u64, secs: Option<f64>| {
            let call = || client.submit(sm.clone());
            futures_phase(lim.window, max, secs, call, &done, "ours-tokio: submit")
        };
        phase(lim.warmup, None).await?;
        let m = phase(lim.max, Some(lim.secs)).await?;
        client
            .unbind()
            .await
            .map_err(|e| format!("ours-tokio: unbind: {e}"))?;
        Ok(m)
    };
    runtime()?.block_on(run)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

// ---------------------------------------------------------------------------------------
// rusmppc.
// ---------------------------------------------------------------------------------------

/// rusmppc 0.4.0: `client.submit_sm` futures, `window` of them at once in a
/// `FuturesUnordered`. The whole run is bounded by `timeout`, since past 5 requests in
/// flight it stops making progress and its own response timeout does not fire.
pub(crate) fn rusmppc(
    addr: SocketAddr,
    lim: Limits,
    timeout: Duration,
) -> Result<Measured, String> {
    let completed = std::cell::Cell::new(0u64);
    let run = async {
        // It binds as SMPP 5.0 only unless its interface version check is off; everyone
        // else here binds as 3.4.
        let (client, mut events) = rusmppc::ConnectionBuilder::new()
            .no_enquire_link_interval()
            .disable_interface_version_check()
            .response_timeout(Duration::from_secs(30))
            .connect(format!("smpp://{addr}"))
            .await
            .map_err(|e| format!("rusmppc: connect: {e}"))?;
        tokio::spawn(async move { while events.next().await.is_some() {} });
        client
            .bind_transmitter(their_bind())
            .await
            .map_err(|e| format!("rusmppc: bind: {e}"))?;
        let sm = their_submit();
        let phase = |max: u64, secs: Option<f64>| {
            let call = || client.submit_sm(sm.clone());
            futures_phase(
                lim.window,
                max,
                secs,
                call,
                &completed,
                "rusmppc: submit_sm",
            )
        };
        phase(lim.warmup, None).await?;
        let m = phase(lim.max, Some(lim.secs)).await?;
        let _ = client.unbind().await;
        let _ = client.close().await;
        Ok(m)
    };
    let rt = runtime()?;
    match rt.block_on(async { tokio::time::timeout(timeout, run).await }) {
        Ok(r) => r,
        Err(_) => Err(format!(
            "rusmppc: stalled: no end after {:.0} s at {} in flight ({} responses had arrived)",
            timeout.as_secs_f64(),
            lim.window,
            completed.get()
        )),
    }
}

// ---------------------------------------------------------------------------------------
// A plain tokio client on rusmpp's tokio codec.
// ---------------------------------------------------------------------------------------

/// A sliding window over `Framed<TcpStream, rusmpp::tokio_codec::CommandCodec>` in one task:
/// feed requests while the window has room, flush once, then take every response that is
/// already decoded or readable before waiting again. One `Command` is encoded by reference
/// with a new sequence number each time (their codec encodes `&Command`), so no request is
/// cloned.
pub(crate) fn tokio_rusmpp(
    addr: SocketAddr,
    lim: Limits,
    timeout: Duration,
) -> Result<Measured, String> {
    let run = async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("tokio-rusmpp: connect: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("tokio-rusmpp: nodelay: {e}"))?;
        let mut framed = Framed::new(stream, CommandCodec::new());
        let bind = Command::new(CommandStatus::EsmeRok, 1, their_bind());
        SinkExt::<&Command>::send(&mut framed, &bind)
            .await
            .map_err(|e| format!("tokio-rusmpp: bind: {e}"))?;
        match framed.next().await {
            Some(Ok(c))
                if c.id() == CommandId::BindTransmitterResp
                    && c.status() == CommandStatus::EsmeRok => {}
            other => return Err(format!("tokio-rusmpp: bind answered with {other:?}")),
        }
        let mut w = Window {
            cmd: Command::new(CommandStatus::EsmeRok, 2, their_submit()),
            sent_at: vec![(0, Instant::now()); (lim.window * 4).next_power_of_two()],
        };
        w.phase(&mut framed, lim.window, lim.warmup, None).await?;
        let m = w
            .phase(&mut framed, lim.window, lim.max, Some(lim.secs))
            .await?;
        let unbind = Command::new(CommandStatus::EsmeRok, w.cmd.sequence_number, Pdu::Unbind);
        SinkExt::<&Command>::send(&mut framed, &unbind)
            .await
            .map_err(|e| format!("tokio-rusmpp: unbind: {e}"))?;
        let _ = framed.next().await;
        Ok(m)
    };
    let rt = runtime()?;
    match rt.block_on(async { tokio::time::timeout(timeout, run).await }) {
        Ok(r) => r,
        Err(_) => Err(format!(
            "tokio-rusmpp: no end after {:.0} s",
            timeout.as_secs_f64()
        )),
    }
}

use rusmpp::tokio_codec::CommandCodec;
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio_util::codec::Framed;

type Conn = Framed<tokio::net::TcpStream, CommandCodec>;

/// The tokio client's state across phases: the request it re-sends and when each sequence
/// number in flight was sent (a ring four windows long, checked on every response).
struct Window {
    cmd: Command,
    sent_at: Vec<(u32, Instant)>,
}

impl Window {
    async fn phase(
        &mut self,
        framed: &mut Conn,
        window: usize,
        max: u64,
        secs: Option<f64>,
    ) -> Result<Measured, String> {
        let mask = self.sent_at.len() - 1;
        let mut budget = Budget::new(max, secs);
        let mut latencies = Vec::with_capacity(max.min(4_000_000) as usize);
        let mut in_flight = 0usize;
        loop {
            let mut fed = false;
            while in_flight < window {
                let Some(t0) = budget.next() else { break };
                let seq = self.cmd.sequence_number;
                self.sent_at[seq as usize & mask] = (seq, t0);
                SinkExt::<&Command>::feed(framed, &self.cmd)
                    .await
                    .map_err(|e| format!("tokio-rusmpp: feed: {e}"))?;
                self.cmd.sequence_number = seq.wrapping_add(1).max(1);
                in_flight += 1;
                fed = true;
            }
            if fed {
                SinkExt::<&Command>::flush(framed)
                    .await
                    .map_err(|e| format!("tokio-rusmpp: flush: {e}"))?;
            }
            if in_flight == 0 {
                break;
            }
            let mut next = Some(framed.next().await);
            while let Some(item) = next {
                match item {
                    Some(Ok(c)) => {
                        self.take(&c, &mut latencies)?;
                        in_flight -= 1;
                    }
                    Some(Err(e)) => return Err(format!("tokio-rusmpp: decode: {e}")),
                    None => return Err("tokio-rusmpp: the SMSC closed the connection".into()),
                }
                next = if in_flight > 0 {
                    framed.next().now_or_never()
                } else {
                    None
                };
            }
        }
        Ok(Measured {
            completed: latencies.len() as u64,
            elapsed: budget.start.elapsed(),
            latencies,
        })
    }

    fn take(&self, c: &Command, latencies: &mut Vec<u64>) -> Result<(), String> {
        if c.id() != CommandId::SubmitSmResp || c.status() != CommandStatus::EsmeRok {
            return Err(format!(
                "tokio-rusmpp: unexpected {:?} {:?}",
                c.id(),
                c.status()
            ));
        }
        let seq = c.sequence_number();
        let (s, t0) = self.sent_at[seq as usize & (self.sent_at.len() - 1)];
        if s != seq {
            return Err(format!("tokio-rusmpp: response {seq} is not in flight"));
        }
        latencies.push(t0.elapsed().as_nanos() as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn a_budget_stops_at_its_count() {
        let mut b = Budget::new(3, None);
        assert!(b.next().is_some() && b.next().is_some() && b.next().is_some());
        assert!(b.next().is_none());
        assert_eq!(b.sent, 3);
    }

    #[test]
    fn a_budget_stops_at_its_deadline_and_stays_stopped() {
        let mut b = Budget::new(u64::MAX, Some(0.0));
        assert!(b.next().is_none());
        assert!(b.next().is_none());
        assert_eq!(b.sent, 0);
    }
}

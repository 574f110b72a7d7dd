//! The drive loop of a [`Session`] over a blocking byte stream, following the one rule
//! every embedding owes the session: after any call that takes `&mut self`, drain
//! `poll_transmit` and `poll_event` until both are empty, then wait.
//!
//! `cargo run -p smpp-session --example drive_loop -- 127.0.0.1:2775 ID PASSWORD` binds
//! as a transceiver, answers every `deliver_sm` (receipts included) with `ESME_ROK`, and
//! runs until the SMSC unbinds or closes. The same `drive` function is the `Session`
//! documentation's example and is run by `tests/drive_loop.rs` against an in-memory peer.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use smpp_pdu::{Body, CommandStatus, DeliverSmResp};
use smpp_session::{BindKind, BindRequest, Config, Event, Session};

/// A blocking byte stream whose reads can be bounded in time, such as a `TcpStream`.
pub trait Stream: Read + Write {
    /// Bounds the next reads: past `timeout` they fail with `WouldBlock` or `TimedOut`.
    /// `None` waits without a bound. This is the loop's only wait.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Stream for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

/// Drives `session` over `stream` until the session closes, with `clock` as the source of
/// time. `on_event` is the application: it gets every event (`Closed` last) and may call
/// the session's commands, such as `send_response` to answer a request.
pub fn drive(
    session: &mut Session,
    stream: &mut impl Stream,
    clock: impl Fn() -> Instant,
    mut on_event: impl FnMut(&mut Session, Event),
) -> io::Result<()> {
    let (mut out, mut buf) = (Vec::new(), [0u8; 4096]);
    loop {
        // 1. Hand the events to the application. Its answers queue in the session.
        let mut closed = false;
        while let Some(event) = session.poll_event() {
            closed |= matches!(event, Event::Closed { .. });
            on_event(session, event);
        }
        // 2. Write everything queued: the session's own answers, the application's, and
        // after `Closed` the final `unbind_resp` or `generic_nack`. `poll_transmit` queues
        // no events, so both queues are now empty.
        while session.poll_transmit(&mut out).is_some() {}
        if !out.is_empty() {
            stream.write_all(&out)?;
            out.clear();
        }
        if closed {
            return Ok(());
        }
        // 3. Wait for bytes, but no longer than the next deadline.
        let wait = session
            .poll_timeout()
            .map(|d| d.saturating_duration_since(clock()));
        stream.set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
        match stream.read(&mut buf) {
            Ok(0) => session.handle_eof(clock()),
            Ok(n) => session.handle_input(clock(), &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        // 4. Let the timers run. Back to step 1: this input and these timers may have
        // queued bytes and events.
        session.handle_timeout(clock());
    }
}

/// An application: answers every inbound request it understands with `ESME_ROK`.
pub fn answer_deliveries(session: &mut Session, event: Event) {
    if let Event::Request {
        sequence_number,
        pdu,
    } = event
    {
        if let Body::DeliverSm(_) = pdu.body {
            let ack = Body::from(DeliverSmResp::default());
            // Fails only once the session has closed; `Closed` follows and ends the loop.
            let _ = session.send_response(
                Instant::now(),
                sequence_number,
                CommandStatus::ESME_ROK,
                ack,
            );
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, system_id, password] = &args[..] else {
        return Err("usage: drive_loop ADDR SYSTEM_ID PASSWORD".into());
    };
    let mut tcp = TcpStream::connect(addr)?;
    let mut session = Session::esme(Config::default(), Instant::now());
    session.bind(
        Instant::now(),
        BindRequest::new(BindKind::Transceiver, system_id, password),
    )?;
    drive(&mut session, &mut tcp, Instant::now, answer_deliveries)?;
    Ok(())
}

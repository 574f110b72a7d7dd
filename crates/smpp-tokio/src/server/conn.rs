//! One connection of the [`Server`](super::Server): its SMSC session driven by the socket,
//! its timers and the core's commands; its events and the outcomes of the core's requests
//! go back to the core's task.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use log::debug;
use smpp_pdu::{Body, CommandStatus};
use smpp_session::{Event, Session};
use smpp_transport::{ConnEvent, ConnId, Disconnect, Outcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::FromConn;

/// What the core's task tells a connection.
pub(crate) enum ConnCmd {
    AcceptBind(u32, String),
    RejectBind(u32, CommandStatus),
    Respond(u32, CommandStatus, Body<'static>),
    /// A request of the core's, with the tag its outcome is reported under.
    Request(u64, Body<'static>),
    SendRaw(Vec<u8>),
    Close,
}

/// Octets read per call.
const READ_CHUNK: usize = 64 * 1024;

/// Drives one connection until its session is over.
pub(crate) async fn run(
    id: ConnId,
    stream: TcpStream,
    config: smpp_session::Config,
    mut cmds: mpsc::UnboundedReceiver<ConnCmd>,
    to_core: mpsc::UnboundedSender<FromConn>,
) {
    let (mut rd, mut wr) = stream.into_split();
    let mut session = Session::smsc(config, Instant::now());
    // The core's requests in flight: sequence number -> tag.
    let mut tags: HashMap<u32, u64> = HashMap::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut out: Vec<u8> = Vec::new();
    let sleep = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(sleep);
    let mut io_error: Option<std::io::Error> = None;
    let send = |m: FromConn| {
        let _ = to_core.send(m);
    };
    // Why the session closed, once it has (kept across the passes that still write).
    let mut closed = None;
    loop {
        // Take what the session said, then write what it holds.
        while let Some(ev) = session.poll_event() {
            match ev {
                Event::Response {
                    sequence_number,
                    pdu,
                    ..
                } => match tags.remove(&sequence_number) {
                    Some(tag) => send(FromConn::Completed(tag, Outcome::Response(pdu))),
                    None => debug!("connection {id}: response {sequence_number} for nobody"),
                },
                Event::ResponseTimeout {
                    sequence_number, ..
                } => {
                    if let Some(tag) = tags.remove(&sequence_number) {
                        send(FromConn::Completed(tag, Outcome::Timeout));
                    }
                }
                Event::RequestFailed {
                    sequence_number,
                    reason,
                    ..
                } => {
                    if let Some(tag) = tags.remove(&sequence_number) {
                        send(FromConn::Completed(tag, Outcome::Failed(reason)));
                    }
                }
                Event::Closed { reason } => closed = closed.or(Some(reason)),
                other => send(FromConn::Event(id, ConnEvent::Session(other))),
            }
        }
        while session.poll_transmit(&mut out).is_some() {}
        if !out.is_empty() {
            let r = wr.write_all(&out).await;
            out.clear();
            if let Err(e) = r {
                io_error.get_or_insert(e);
                session.handle_eof(Instant::now());
            }
            continue;
        }
        if let Some(reason) = closed {
            for (_, tag) in tags.drain() {
                send(FromConn::Completed(tag, Outcome::Disconnected));
            }
            let why = match io_error.take() {
                Some(e) => Disconnect::Io(e.kind(), e.to_string()),
                None => Disconnect::Session(reason),
            };
            send(FromConn::Event(id, ConnEvent::Closed(why)));
            let _ = wr.shutdown().await;
            return;
        }
        let deadline = session.poll_timeout();
        if let Some(t) = deadline {
            sleep.as_mut().reset(tokio::time::Instant::from_std(t));
        }
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) => session.handle_eof(Instant::now()),
                Ok(n) => session.handle_input(Instant::now(), &buf[..n]),
                Err(e) => {
                    io_error = Some(e);
                    session.handle_eof(Instant::now());
                }
            },
            c = cmds.recv() => {
                let now = Instant::now();
                match c {
                    Some(c) => command(&mut session, &mut tags, &mut out, &send, id, now, c),
                    None => session.close(now),
                }
                // Every command already waiting, before the next write.
                while let Ok(c) = cmds.try_recv() {
                    command(&mut session, &mut tags, &mut out, &send, id, now, c);
                }
            }
            () = &mut sleep, if deadline.is_some() => session.handle_timeout(Instant::now()),
        }
    }
}

/// One command of the core's, carried out on the session.
fn command(
    session: &mut Session,
    tags: &mut HashMap<u32, u64>,
    out: &mut Vec<u8>,
    send: &impl Fn(FromConn),
    id: ConnId,
    now: Instant,
    c: ConnCmd,
) {
    let refused = |sequence_number, error| {
        send(FromConn::Event(
            id,
            ConnEvent::ResponseRefused {
                sequence_number,
                error,
            },
        ))
    };
    match c {
        ConnCmd::AcceptBind(seq, system_id) => {
            if let Err(e) = session.accept_bind(now, seq, &system_id) {
                refused(seq, e);
            }
        }
        ConnCmd::RejectBind(seq, status) => {
            if let Err(e) = session.reject_bind(now, seq, status) {
                refused(seq, e);
            }
        }
        ConnCmd::Respond(seq, status, body) => {
            if let Err(e) = session.send_response(now, seq, status, body) {
                refused(seq, e);
            }
        }
        ConnCmd::Request(tag, body) => {
            let answered = body.command_id().response().is_some();
            match session.send_request(now, &body) {
                Ok(seq) if answered => {
                    tags.insert(seq, tag);
                }
                Ok(_) => send(FromConn::Completed(tag, Outcome::Sent)),
                Err(e) => send(FromConn::Completed(tag, Outcome::Refused(e))),
            }
        }
        ConnCmd::SendRaw(bytes) => {
            // Fault injection: after what the session already holds.
            while session.poll_transmit(out).is_some() {}
            out.extend_from_slice(&bytes);
        }
        ConnCmd::Close => session.close(now),
    }
}

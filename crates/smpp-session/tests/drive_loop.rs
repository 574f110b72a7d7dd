//! Runs the drive loop of the `Session` documentation (`examples/drive_loop.rs`, the same
//! code) against an in-memory SMSC, and checks the contract it documents: whatever the
//! session holds to send, the application's answers included, is written before the loop
//! waits, and what is left at `Closed` is written before the loop returns.

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/drive_loop.rs"]
mod drive_loop;

use std::cell::Cell;
use std::io::{self, ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use smpp_pdu::{Body, CommandId, DeliverSm, EnquireLink, Pdu};
use smpp_session::{BindKind, BindRequest, Config, Event, Session};

/// What the loop did to the stream, in order.
#[derive(Debug, PartialEq)]
enum Op {
    /// It wrote these PDUs (in one `write_all`, possibly several `write` calls).
    Wrote(Vec<CommandId>),
    /// It bounded the next read: the loop is about to wait.
    Wait,
    /// A read returned these PDUs.
    Read(Vec<CommandId>),
}

/// What the peer sends once the ESME is bound.
#[derive(Clone, Copy)]
enum Script {
    /// A `deliver_sm`, which only the application can answer; unbind once it is answered.
    DeliverSm,
    /// An `enquire_link`, which the session answers itself; unbind once it is answered.
    EnquireLink,
}

/// An in-memory SMSC: an SMSC `Session` on the far end of the stream, on the same virtual
/// clock, which accepts the bind and then plays its script.
struct Peer<'c> {
    smsc: Session,
    now: &'c Cell<Instant>,
    script: Script,
    sent_script: bool,
    log: Vec<Op>,
}

fn command_ids(mut bytes: &[u8]) -> Vec<CommandId> {
    let mut ids = Vec::new();
    while let Ok(Some((pdu, used))) = Pdu::decode(bytes) {
        ids.push(pdu.command_id());
        bytes = &bytes[used..];
    }
    ids
}

impl Peer<'_> {
    fn new(now: &Cell<Instant>, script: Script) -> Peer<'_> {
        Peer {
            smsc: Session::smsc(Config::default(), now.get()),
            now,
            script,
            sent_script: false,
            log: Vec::new(),
        }
    }

    /// The SMSC application: accept binds, play the script once bound, unbind once the
    /// script's request is answered.
    fn act(&mut self) {
        let now = self.now.get();
        while let Some(event) = self.smsc.poll_event() {
            match event {
                Event::BindRequested {
                    sequence_number, ..
                } => self.smsc.accept_bind(now, sequence_number, "SMSC").unwrap(),
                Event::Response { .. } => {
                    self.smsc.unbind(now).unwrap();
                }
                _ => {}
            }
        }
        if self.smsc.is_bound() && !self.sent_script {
            self.sent_script = true;
            let body = match self.script {
                Script::DeliverSm => Body::from(DeliverSm {
                    source_addr: "447700900123".into(),
                    destination_addr: "Embed".into(),
                    esm_class: 0x04,
                    short_message: "id:1 stat:DELIVRD".into(),
                    ..Default::default()
                }),
                Script::EnquireLink => Body::from(EnquireLink::default()),
            };
            self.smsc.send_request(now, &body).unwrap();
        }
    }
}

impl Write for Peer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let ids = command_ids(buf);
        match self.log.last_mut() {
            // write_all may split; one call of the loop's write_all is one entry.
            Some(Op::Wrote(prev)) => prev.extend(ids),
            _ => self.log.push(Op::Wrote(ids)),
        }
        self.smsc.handle_input(self.now.get(), buf);
        self.act();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Peer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut out = Vec::new();
        while self.smsc.poll_transmit(&mut out).is_some() {}
        if out.is_empty() {
            if self.smsc.state() == smpp_session::State::Closed {
                return Ok(0);
            }
            // Nothing to read: the deadline passes.
            self.now.set(self.now.get() + Duration::from_secs(1));
            return Err(ErrorKind::TimedOut.into());
        }
        assert!(out.len() <= buf.len(), "the test's PDUs fit one read");
        buf[..out.len()].copy_from_slice(&out);
        self.log.push(Op::Read(command_ids(&out)));
        Ok(out.len())
    }
}

impl drive_loop::Stream for Peer<'_> {
    fn set_read_timeout(&mut self, _timeout: Option<Duration>) -> io::Result<()> {
        self.log.push(Op::Wait);
        Ok(())
    }
}

/// Runs the documented loop as an ESME against a peer playing `script`, and returns what
/// it did to the stream.
fn run(script: Script) -> Vec<Op> {
    let now = Cell::new(Instant::now());
    let mut peer = Peer::new(&now, script);
    let mut esme = Session::esme(Config::default(), now.get());
    esme.bind(
        now.get(),
        BindRequest::new(BindKind::Transceiver, "esme", "secret"),
    )
    .unwrap();
    let mut events = Vec::new();
    drive_loop::drive(
        &mut esme,
        &mut peer,
        || now.get(),
        |s, e| {
            events.push(format!("{e:?}"));
            drive_loop::answer_deliveries(s, e);
        },
    )
    .unwrap();
    assert!(
        events.last().is_some_and(|e| e.starts_with("Closed")),
        "{events:?}"
    );
    peer.log
}

/// The operations from the read that brought `request` up to the next wait.
fn after_read_of(log: &[Op], request: CommandId) -> &[Op] {
    let read = log
        .iter()
        .position(|op| matches!(op, Op::Read(ids) if ids.contains(&request)))
        .unwrap_or_else(|| panic!("{request:?} was never read: {log:?}"));
    let rest = &log[read + 1..];
    let wait = rest
        .iter()
        .position(|op| *op == Op::Wait)
        .unwrap_or(rest.len());
    &rest[..wait]
}

fn wrote(ops: &[Op], id: CommandId) -> bool {
    ops.iter()
        .any(|op| matches!(op, Op::Wrote(ids) if ids.contains(&id)))
}

#[test]
fn the_applications_answer_is_written_before_the_loop_waits() {
    let log = run(Script::DeliverSm);
    let before_wait = after_read_of(&log, CommandId::DELIVER_SM);
    assert!(wrote(before_wait, CommandId::DELIVER_SM_RESP), "{log:?}");
}

#[test]
fn the_sessions_own_answer_is_written_before_the_loop_waits() {
    let log = run(Script::EnquireLink);
    let before_wait = after_read_of(&log, CommandId::ENQUIRE_LINK);
    assert!(wrote(before_wait, CommandId::ENQUIRE_LINK_RESP), "{log:?}");
}

#[test]
fn the_final_answer_is_written_after_closed() {
    // The peer unbinds once its deliver_sm is answered: the session answers with
    // unbind_resp and closes in the same input, so `Closed` comes out while the
    // unbind_resp still waits in poll_transmit. The loop must write it before returning.
    let log = run(Script::DeliverSm);
    let tail = after_read_of(&log, CommandId::UNBIND);
    assert!(wrote(tail, CommandId::UNBIND_RESP), "{log:?}");
    assert_eq!(
        log.last(),
        Some(&Op::Wrote(vec![CommandId::UNBIND_RESP])),
        "nothing after the final write: {log:?}"
    );
}

#[test]
fn a_bind_is_the_first_write_and_precedes_any_wait() {
    let log = run(Script::EnquireLink);
    assert_eq!(
        log.first(),
        Some(&Op::Wrote(vec![CommandId::BIND_TRANSCEIVER]))
    );
    assert_eq!(log.get(1), Some(&Op::Wait), "{log:?}");
}

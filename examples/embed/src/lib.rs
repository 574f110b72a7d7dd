//! Two small programs that drive the sans-IO core without the transport's event loop, to
//! show (and keep true, with tests) that it embeds in any runtime:
//!
//! - `blocking`: a plain loop on the caller's thread over a `std::net::TcpStream`, with the
//!   library's caller-driven client (`smpp_client::direct::DirectClient`);
//! - `tokio`: a tokio task driving a bare [`smpp_session::Session`], timers through
//!   `poll_timeout`.
//!
//! Both bind as a transceiver, submit N messages asking for receipts with a window, answer
//! every receipt (`deliver_sm_resp`), and unbind once every submit is answered and every
//! receipt is in. This library holds what the two share: arguments, the messages, how a
//! receipt is recognised, the report printed at the end, and the tokio task's handling of
//! session events. See `docs/embedding.md`.

use std::collections::HashSet;

use std::time::Instant;

use smpp_pdu::receipt::Receipt;
use smpp_pdu::{Body, CommandStatus, DeliverSmResp, Pdu, SubmitSm};
use smpp_session::{Event, SendError, Session};

/// What to do: where, as whom, how many, how many at once.
#[derive(Clone, Debug)]
pub struct Args {
    /// `HOST:PORT` of the SMSC.
    pub addr: String,
    /// `system_id` to bind with.
    pub system_id: String,
    /// Password to bind with (never printed).
    pub password: String,
    /// Messages to submit.
    pub count: usize,
    /// Most submits awaiting a response at once.
    pub window: usize,
}

impl Args {
    /// Reads `ADDR SYSTEM_ID PASSWORD [COUNT [WINDOW]]` from the command line (defaults:
    /// 1,000 messages, window 64).
    pub fn from_env() -> Result<Args, String> {
        let v: Vec<String> = std::env::args().skip(1).collect();
        if v.len() < 3 || v.len() > 5 {
            return Err("usage: PROGRAM ADDR SYSTEM_ID PASSWORD [COUNT [WINDOW]]".into());
        }
        let num = |i: usize, default: usize, what: &str| -> Result<usize, String> {
            v.get(i).map_or(Ok(default), |s| {
                s.parse().map_err(|e| format!("{what}: {e}"))
            })
        };
        Ok(Args {
            addr: v[0].clone(),
            system_id: v[1].clone(),
            password: v[2].clone(),
            count: num(3, 1000, "COUNT")?,
            window: num(4, 64, "WINDOW")?.max(1),
        })
    }
}

/// The `i`-th message: a short GSM text to a test number, asking for a receipt.
pub fn message(i: usize) -> Body<'static> {
    Body::from(SubmitSm {
        source_addr: "Embed".into(),
        source_addr_ton: 5,
        destination_addr: "447700900001".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        registered_delivery: 1,
        short_message: format!("message {i}").into_bytes().into(),
        ..Default::default()
    })
}

/// What a run saw; printed as one JSON line.
#[derive(Debug, Default)]
pub struct Report {
    /// `submit_sm_resp` with `ESME_ROK`.
    pub accepted: usize,
    /// `submit_sm_resp` with another status, timeouts and failures.
    pub refused: usize,
    /// Message ids the SMSC gave.
    pub ids: HashSet<String>,
    /// Receipts received whose id is one of ours.
    pub receipts: usize,
    /// Receipts for ids we never got (should stay 0).
    pub stray_receipts: usize,
    /// Whether the unbind completed.
    pub unbound: bool,
}

impl Report {
    /// A `submit_sm_resp` (or other response) arrived.
    pub fn response(&mut self, pdu: &Pdu<'_>) {
        match &pdu.body {
            Body::SubmitSmResp(r) if pdu.command_status.is_ok() => {
                self.accepted += 1;
                self.ids.insert(r.message_id.to_str_lossy().into_owned());
            }
            _ => self.refused += 1,
        }
    }

    /// A `deliver_sm` arrived: counts it if it is a receipt.
    pub fn deliver(&mut self, pdu: &Pdu<'_>) {
        if let Body::DeliverSm(d) = &pdu.body {
            if Receipt::is_receipt(d.esm_class) {
                match Receipt::from_deliver_sm(d) {
                    Ok(r) if self.ids.contains(&r.id) => self.receipts += 1,
                    _ => self.stray_receipts += 1,
                }
            }
        }
    }

    /// Every submit is answered and every accepted one has its receipt.
    pub fn done(&self, count: usize) -> bool {
        self.accepted + self.refused == count
            && self.receipts + self.stray_receipts >= self.accepted
    }

    /// The report as one JSON line.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"accepted\":{},\"refused\":{},\"receipts\":{},\"stray_receipts\":{},\"unbound\":{}}}",
            self.accepted, self.refused, self.receipts, self.stray_receipts, self.unbound
        )
    }
}

/// Step 2 of both drive loops: submits messages `*next..count` while the session is bound
/// and its window has room. A full window is a typed error (`SendError::WindowFull`), not
/// a wait: the loop goes on and submits more once responses free slots.
pub fn fill_window(session: &mut Session, next: &mut usize, count: usize) -> Result<(), String> {
    while session.is_bound() && *next < count {
        match session.send_request(Instant::now(), &message(*next)) {
            Ok(_) => *next += 1,
            Err(SendError::WindowFull) => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

/// What the drive loop does after an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Go on.
    Continue,
    /// The session closed after our unbind completed: the run is over.
    Finished,
}

/// Step 1 of both drive loops: acts on one event. Counts responses and receipts into
/// `report`, answers every inbound `deliver_sm` with `ESME_ROK` (the answer waits in the
/// session until the next `poll_transmit`, which the loops drain before they wait or
/// return), and turns a refused bind or an unexpected close into an error.
pub fn on_event(session: &mut Session, report: &mut Report, event: Event) -> Result<Next, String> {
    match event {
        Event::BindRejected { status } => return Err(format!("bind: {status}")),
        Event::Response { pdu, .. } => report.response(&pdu),
        Event::ResponseTimeout { .. } | Event::RequestFailed { .. } => report.refused += 1,
        Event::Request {
            sequence_number,
            pdu,
        } => {
            report.deliver(&pdu);
            let ack = Body::from(DeliverSmResp::default());
            session
                .send_response(
                    Instant::now(),
                    sequence_number,
                    CommandStatus::ESME_ROK,
                    ack,
                )
                .map_err(|e| e.to_string())?;
        }
        Event::Unbound => report.unbound = true,
        Event::Closed { .. } if report.unbound => return Ok(Next::Finished),
        Event::Closed { reason } => return Err(format!("closed: {reason:?}")),
        _ => {}
    }
    Ok(Next::Continue)
}

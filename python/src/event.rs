//! `Event`: one item of what the SMSC sent, as `Client.next_event` gives it.

use pyo3::prelude::*;
use smpp_client::{Inbound, InboundKind};
use smpp_lifecycle::{ReceiptMatch, SegmentState};
use smpp_pdu::receipt::Receipt;
use smpp_pdu::Pdu;

/// What came from the SMSC: `kind` says which, and the attributes that apply are set
/// (the others are `None`):
///
/// - `"report"`: the one final report of a message sent with `send_text`: `reference`,
///   `outcome` (`delivered`, `failed`, `expired`, ...), `state` (the worst final state,
///   `DELIVRD`, `UNDELIV`, ...), `message_ids`, `segments`, `segment_states`, `error`
///   (the `err:` of the first failed segment).
/// - `"receipt"`: a delivery receipt no tracked message took, as it came: `message_id`,
///   `state`, `error`, `matched` (`unmatched`, `untracked`), `pdu`. A tracked message's
///   receipts come inside its report.
/// - `"progress"`: an intermediate receipt (`ENROUTE`, `ACCEPTD`) of a tracked message.
/// - `"unmatched"`: a receipt held for its response that matched no tracked message.
/// - `"mo"`: a whole incoming message (reassembled): `source`, `destination`, `text`,
///   `segments`, `pdu` when one PDU carried it.
/// - `"incomplete"`: an incoming long message given up before all its parts came.
/// - `"pdu"`: anything else (an `alert_notification`, a receipt that does not parse).
#[pyclass(module = "smpp_rs", get_all, frozen)]
#[derive(Debug, Default)]
pub(crate) struct Event {
    /// What the event is (see the class documentation).
    kind: String,
    /// The caller's reference of the message it is about.
    reference: Option<String>,
    /// A report's outcome.
    outcome: Option<String>,
    /// The receipt state (normalised: `DELIVRD`, `UNDELIV`, `EXPIRED`, ...).
    state: Option<String>,
    /// The receipt state as the SMSC wrote it, when it differed.
    state_raw: Option<String>,
    /// The `err:` code.
    error: Option<String>,
    /// A receipt's message id.
    message_id: Option<String>,
    /// A report's message ids, one per segment.
    message_ids: Option<Vec<String>>,
    /// Segments of the message.
    segments: Option<usize>,
    /// A report's per-segment states.
    segment_states: Option<Vec<String>>,
    /// What the tracker did with a receipt.
    matched: Option<String>,
    /// An MO's text.
    text: Option<String>,
    /// An MO's source address.
    source: Option<String>,
    /// An MO's destination address.
    destination: Option<String>,
    /// The PDU as a dict (the shape of `decode`), when one PDU carried the event.
    pdu: Option<Py<PyAny>>,
}

#[pymethods]
impl Event {
    fn __repr__(&self) -> String {
        let mut parts = vec![format!("kind={:?}", self.kind)];
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k}={v:?}"));
            }
        };
        add("reference", &self.reference);
        add("outcome", &self.outcome);
        add("state", &self.state);
        add("message_id", &self.message_id);
        add("text", &self.text);
        add("source", &self.source);
        format!("Event({})", parts.join(", "))
    }
}

fn pdu_dict(py: Python<'_>, pdu: &Pdu<'_>) -> Option<Py<PyAny>> {
    let text = smpp_pdu::json::pdu_object(pdu);
    py.import("json")
        .and_then(|j| j.call_method1("loads", (text,)))
        .ok()
        .map(Bound::unbind)
}

fn state_text(s: &SegmentState) -> String {
    match s {
        SegmentState::Final(st) => st.stat().to_string(),
        other => smpp_lifecycle::store::state_to_text(other),
    }
}

fn with_receipt(e: &mut Event, r: &Receipt) {
    e.message_id = Some(r.id.clone());
    e.state = Some(r.state.stat().to_string());
    e.state_raw = r.stat_raw.clone().filter(|raw| raw != r.state.stat());
    e.error = r.err.clone();
}

impl Event {
    /// The event an inbound item is.
    pub(crate) fn from_inbound(py: Python<'_>, item: &Inbound) -> Event {
        let mut e = Event::default();
        match item.kind() {
            InboundKind::Report(r) => {
                e.kind = "report".into();
                e.reference = Some(String::from(&r.reference));
                e.outcome = Some(r.outcome.as_str().to_string());
                e.state = r.state.as_ref().map(|s| s.stat().to_string());
                e.message_ids = Some(r.message_ids().map(str::to_string).collect());
                e.segments = Some(r.segments.len());
                e.segment_states = Some(r.segments.iter().map(|s| state_text(&s.state)).collect());
                e.error = r
                    .first_failure()
                    .and_then(|(_, s)| s.receipt.as_ref().and_then(|rc| rc.err.clone()));
            }
            InboundKind::Receipt {
                pdu,
                receipt,
                matched,
            } => {
                e.kind = "receipt".into();
                with_receipt(&mut e, receipt);
                let (how, reference) = match matched {
                    ReceiptMatch::Matched { reference, .. } => {
                        ("matched", Some(reference.to_string()))
                    }
                    ReceiptMatch::Held => ("held", None),
                    ReceiptMatch::Duplicate => ("duplicate", None),
                    ReceiptMatch::Unmatched(_) => ("unmatched", None),
                    _ => ("untracked", None),
                };
                e.matched = Some(how.into());
                e.reference = reference;
                e.pdu = pdu_dict(py, pdu);
            }
            InboundKind::Progress(p) => {
                e.kind = "progress".into();
                e.reference = Some(String::from(&p.reference));
                with_receipt(&mut e, &p.receipt);
            }
            InboundKind::Unmatched(u) => {
                e.kind = "unmatched".into();
                with_receipt(&mut e, &u.receipt);
                e.matched = Some(u.reason.as_str().into());
            }
            InboundKind::Message { message, pdu } => {
                e.kind = "mo".into();
                e.text = message.text.clone();
                e.source = Some(message.source.addr.clone());
                e.destination = Some(message.destination.addr.clone());
                e.segments = Some(usize::from(message.segments));
                e.pdu = pdu.as_ref().and_then(|p| pdu_dict(py, p));
            }
            InboundKind::Incomplete(m) => {
                e.kind = "incomplete".into();
                e.text = m.text.clone();
                e.source = Some(m.source.addr.clone());
                e.destination = Some(m.destination.addr.clone());
                e.segments = Some(m.received.len());
            }
            InboundKind::Pdu { pdu, text } => {
                e.kind = "pdu".into();
                e.text = text.clone();
                e.pdu = pdu_dict(py, pdu);
            }
            _ => e.kind = "other".into(),
        }
        e
    }
}

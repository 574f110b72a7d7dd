//! What the lifecycle layer tells the application: one [`Report`] per tracked message,
//! [`Progress`] on intermediate receipts, and receipts that matched nothing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use smpp_pdu::receipt::{Receipt, ReceiptDate, ReceiptState};
use smpp_pdu::CommandStatus;

use crate::Reference;

/// The coarse outcome of a message: what an application branches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Every segment has a final receipt saying `DELIVRD` (or, when only failures were
    /// to be reported, no failure came before the deadline).
    Delivered,
    /// The SMSC accepted every segment and no receipt was asked for.
    Accepted,
    /// At least one segment failed for sure: refused at submit, never sent, or a final
    /// receipt other than `DELIVRD` (`UNDELIV`, `EXPIRED`, `REJECTD`, `DELETED`, ...).
    Failed,
    /// No segment failed for sure, but the outcome of at least one is unknown: its
    /// `submit_sm` got no answer (timeout, connection lost), so the SMSC may or may not
    /// have it. It was not resent.
    Unknown,
    /// The final receipts did not all come within the report timeout.
    Expired,
    /// The message was dropped from tracking to stay within the tracker's limit.
    Evicted,
}

impl Outcome {
    /// The lower-case name used in JSON (`"delivered"`, `"failed"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Accepted => "accepted",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
            Outcome::Expired => "expired",
            Outcome::Evicted => "evicted",
        }
    }

    /// Whether the message reached the handset for sure.
    pub fn is_delivered(self) -> bool {
        self == Outcome::Delivered
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a segment's outcome is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnknownReason {
    /// No response came within the response timeout.
    Timeout,
    /// The connection closed before the response.
    Disconnected,
    /// The request could not be sent or was answered in a way that says nothing (an
    /// unexpected PDU type, a malformed response).
    Other,
}

impl UnknownReason {
    /// A short name (`"timeout"`, `"disconnected"`, `"other"`).
    pub fn as_str(self) -> &'static str {
        match self {
            UnknownReason::Timeout => "timeout",
            UnknownReason::Disconnected => "disconnected",
            UnknownReason::Other => "other",
        }
    }
}

/// How a segment's `submit_sm` ended, as the driver tells the tracker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitResult {
    /// `submit_sm_resp` with `ESME_ROK` and this message id.
    Accepted {
        /// The SMSC's message id, as written in the response.
        message_id: String,
    },
    /// A response with this error status.
    Refused(CommandStatus),
    /// No usable response.
    Unknown(UnknownReason),
    /// It never went out (no connection, the client closing): the SMSC does not have it.
    NotSent,
}

/// Where one segment stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentState {
    /// Its `submit_sm` has not been answered.
    Sending,
    /// The SMSC accepted it; no final receipt yet (the latest intermediate receipt, if
    /// any, is in [`SegmentReport::receipt`]).
    Submitted,
    /// The SMSC refused it with this status.
    Refused(CommandStatus),
    /// Its `submit_sm` got no usable answer.
    Unknown(UnknownReason),
    /// It never went out.
    NotSent,
    /// A final receipt says this.
    Final(ReceiptState),
}

impl SegmentState {
    /// Whether nothing more is expected for this segment.
    pub fn is_final(&self) -> bool {
        !matches!(self, SegmentState::Sending | SegmentState::Submitted)
    }
}

/// One segment of a [`Report`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentReport {
    /// The SMSC's message id, once the response gave one.
    pub message_id: Option<String>,
    /// Where it stands.
    pub state: SegmentState,
    /// The last receipt for it (final or intermediate), with every raw field.
    pub receipt: Option<Arc<Receipt>>,
    /// The SMSC account that accepted it (a pool's account name), when one was named: its
    /// message id is unique only there.
    pub account: Option<Arc<str>>,
}

/// The one final report of a tracked message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The caller's reference (shared with the tracker's handle on the message).
    pub reference: Reference,
    /// The coarse outcome.
    pub outcome: Outcome,
    /// The worst final receipt state among the segments (`DELIVRD` only when all were
    /// delivered); for an expired message the latest intermediate state seen, if any.
    pub state: Option<ReceiptState>,
    /// Every segment, in order.
    pub segments: Vec<SegmentReport>,
    /// The earliest `submit date` of the segments' receipts.
    pub submit_date: Option<ReceiptDate>,
    /// The latest `done date` of the segments' receipts.
    pub done_date: Option<ReceiptDate>,
    /// From the submission to this report (on the driver's clock).
    pub elapsed: Duration,
}

impl Report {
    /// The message ids of the segments that have one, in segment order.
    pub fn message_ids(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| s.message_id.as_deref())
    }

    /// The first segment that did not end `DELIVRD` or accepted, with its index.
    pub fn first_failure(&self) -> Option<(usize, &SegmentReport)> {
        self.segments.iter().enumerate().find(|(_, s)| {
            !matches!(
                s.state,
                SegmentState::Final(ReceiptState::Delivered) | SegmentState::Submitted
            )
        })
    }
}

/// An intermediate receipt (`ENROUTE`, `ACCEPTD`, `SCHEDULED`) for a tracked message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The caller's reference (shared with the tracker's handle on the message).
    pub reference: Reference,
    /// The segment it is about (0-based).
    pub segment: usize,
    /// The receipt.
    pub receipt: Arc<Receipt>,
}

/// Why a receipt matched no tracked message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnmatchedReason {
    /// No tracked segment has its id, and none got it before the hold for early receipts
    /// ran out.
    UnknownId,
    /// The receipt carries no message id.
    NoId,
    /// It was held as early and evicted to stay within the limit of held receipts.
    Evicted,
}

impl UnmatchedReason {
    /// A short name (`"unknown_id"`, `"no_id"`, `"evicted"`).
    pub fn as_str(self) -> &'static str {
        match self {
            UnmatchedReason::UnknownId => "unknown_id",
            UnmatchedReason::NoId => "no_id",
            UnmatchedReason::Evicted => "evicted",
        }
    }
}

/// A receipt that matched no tracked message: reported, never dropped silently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmatched {
    /// The receipt.
    pub receipt: Arc<Receipt>,
    /// Why.
    pub reason: UnmatchedReason,
}

/// How a worse final state ranks: `DELIVRD` lowest, then the unclear ones, then the
/// failures by how definite they are.
pub(crate) fn severity(s: &ReceiptState) -> u8 {
    match s {
        ReceiptState::Delivered => 0,
        ReceiptState::Scheduled | ReceiptState::Enroute | ReceiptState::Accepted => 1,
        ReceiptState::Unknown | ReceiptState::Other(_) => 2,
        ReceiptState::Skipped => 3,
        ReceiptState::Deleted => 4,
        ReceiptState::Expired => 5,
        ReceiptState::Undeliverable => 6,
        ReceiptState::Rejected => 7,
    }
}

/// Whether a receipt state ends a segment: everything but `SCHEDULED`, `ENROUTE` and
/// `ACCEPTD` (which SMSCs send as intermediate notifications).
pub fn is_final_state(s: &ReceiptState) -> bool {
    !matches!(
        s,
        ReceiptState::Scheduled | ReceiptState::Enroute | ReceiptState::Accepted
    )
}

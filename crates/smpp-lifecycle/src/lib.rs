//! The message lifecycle of an SMPP ESME, sans-IO: every message followed to its fate.
//!
//! - [`Tracker`]: a submission (a caller reference and its segments) is tracked from its
//!   `submit_sm`s to **one final [`Report`]**: the SMSC's message id of each segment from
//!   its response, each delivery receipt matched to its segment through canonical id keys
//!   ([`ids`]: case, leading zeros, hexadecimal in one place and decimal in the other,
//!   `receipted_message_id` or `id:` text), receipts that come before their response held
//!   until it does, intermediate receipts reported as [`Progress`], and receipts that match
//!   nothing reported as [`Unmatched`], never dropped.
//! - [`Inbox`]: incoming long messages reassembled (UDH with 8- or 16-bit reference, SAR,
//!   `message_payload`), bounded, with a timeout after which the parts that came are
//!   reported.
//! - [`Lifecycle`]: both behind one driver interface, with the rule of which inbound PDU
//!   goes where.
//!
//! Like the session, it never touches a socket, a thread or a clock: every call that can
//! change its notion of time takes `now`, and the driver wakes it at
//! [`Lifecycle::poll_timeout`]. After any call that takes `&mut self`, drain
//! [`Lifecycle::poll_event`] until it is empty.
//!
//! A two-segment message whose receipts race their responses, with the ids in two forms
//! (`examples/race.rs`; `cargo run -p smpp-lifecycle --example race`):
//!
//!
//! See `docs/lifecycle.md` in the repository for what a report means, the matching rules,
//! the bounds and expiry.

#![doc = concat!("```\n", include_str!("../examples/race.rs"), "```")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod by_reference;
mod finished;
mod hash;
pub mod ids;
mod inbox;
mod ordered;
mod reference;
mod report;
pub mod store;
mod tracker;

use std::sync::Arc;
use std::time::Instant;

use smpp_pdu::concat::ReassemblyConfig;
use smpp_pdu::receipt::Receipt;
use smpp_pdu::text::TextConfig;
use smpp_pdu::Body;

pub use inbox::{Address, Inbox, Incomplete, Message};
pub use reference::Reference;
pub use report::{
    is_final_state, Outcome, Progress, Report, SegmentReport, SegmentState, SubmitResult,
    UnknownReason, Unmatched, UnmatchedReason,
};
pub use store::{
    MemoryStore, Record, Store, StoreError, StoreErrorKind, StoreOp, StoreRequest, StoredSegment,
};
pub use tracker::{
    IdForms, NewMessage, Overflow, ReceiptMatch, ReceiptPolicy, TrackError, TrackId, Tracked,
    Tracker, TrackerConfig, TrackerStats, MAX_SEGMENTS,
};

/// What the lifecycle layer tells the application.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The one final report of a tracked message.
    Report(Report),
    /// An intermediate receipt for a tracked message.
    Progress(Progress),
    /// A receipt that matched no tracked message.
    Unmatched(Unmatched),
    /// A whole incoming message (reassembled when it came in segments).
    Message(Message),
    /// An incoming segmented message given up before all its parts came.
    Incomplete(Incomplete),
}

/// The configuration of a [`Lifecycle`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleConfig {
    /// The tracker's limits and timers.
    pub tracker: TrackerConfig,
    /// Reassemble incoming segments with these limits; `None` hands each segment on as
    /// it came (the driver passes it to the application raw).
    pub reassembly: Option<ReassemblyConfig>,
    /// How incoming text is decoded.
    pub text: TextConfig,
    /// Give receipts to the tracker (the default). Off, receipts are parsed and passed on
    /// with [`ReceiptMatch::Untracked`], and the tracker says nothing about them: for a
    /// driver that tracks nothing.
    pub tracking: bool,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            tracker: TrackerConfig::default(),
            reassembly: Some(ReassemblyConfig::default()),
            text: TextConfig::default(),
            tracking: true,
        }
    }
}

/// Where [`Lifecycle::on_inbound`] sent an inbound PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routed {
    /// A delivery receipt (parsed, TLVs first), given to the tracker, which matched it as
    /// `matched` says.
    Receipt {
        /// The receipt (shared with the tracker, whose report of the message carries it).
        receipt: Arc<Receipt>,
        /// What the tracker did with it.
        matched: ReceiptMatch,
    },
    /// An MO message or segment, given to the inbox; the whole message comes out as
    /// [`Event::Message`].
    Inbox,
    /// Not for the lifecycle layer: not a `deliver_sm`/`data_sm`, a receipt that does not
    /// parse (no id or no state), or an MO while reassembly is off. The driver hands it
    /// to the application as it came.
    Pass,
}

/// The tracker and the inbox behind one driver interface; see the crate docs.
#[derive(Debug)]
pub struct Lifecycle {
    tracker: Tracker,
    inbox: Option<Inbox>,
    tracking: bool,
}

impl Lifecycle {
    /// A lifecycle layer with this configuration.
    pub fn new(config: LifecycleConfig) -> Lifecycle {
        Lifecycle {
            tracker: Tracker::new(config.tracker),
            inbox: config.reassembly.map(|r| Inbox::new(r, config.text)),
            tracking: config.tracking,
        }
    }

    /// The submissions tracker.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// The submissions tracker, to submit and record responses.
    pub fn tracker_mut(&mut self) -> &mut Tracker {
        &mut self.tracker
    }

    /// The inbox, when reassembly is on.
    pub fn inbox(&self) -> Option<&Inbox> {
        self.inbox.as_ref()
    }

    /// Takes an inbound request body: a receipt (`deliver_sm` or `data_sm` whose
    /// esm_class says so, parsed with TLVs first) goes to the tracker, an MO to the inbox.
    pub fn on_inbound(&mut self, now: Instant, body: &Body<'_>) -> Routed {
        self.on_inbound_in(now, None, body)
    }

    /// [`Lifecycle::on_inbound`] for a PDU read on a bind of `account` (a pool's account
    /// name): a receipt matches only what that account accepted
    /// ([`Tracker::on_receipt_in`]), and an MO segment is put together only with segments
    /// of the same account ([`Inbox::push_deliver_sm_in`]).
    pub fn on_inbound_in(
        &mut self,
        now: Instant,
        account: Option<&Arc<str>>,
        body: &Body<'_>,
    ) -> Routed {
        match body {
            Body::DeliverSm(d) if Receipt::is_receipt(d.esm_class) => {
                match Receipt::from_deliver_sm(d) {
                    Ok(r) => self.receipt(now, account, r),
                    Err(_) => Routed::Pass,
                }
            }
            Body::DataSm(d) if Receipt::is_receipt(d.esm_class) => match Receipt::from_data_sm(d) {
                Ok(r) => self.receipt(now, account, r),
                Err(_) => Routed::Pass,
            },
            Body::DeliverSm(d) => match &mut self.inbox {
                Some(inbox) => {
                    inbox.push_deliver_sm_in(now, account, d);
                    Routed::Inbox
                }
                None => Routed::Pass,
            },
            Body::DataSm(d) => match &mut self.inbox {
                Some(inbox) => {
                    inbox.push_data_sm_in(now, account, d);
                    Routed::Inbox
                }
                None => Routed::Pass,
            },
            _ => Routed::Pass,
        }
    }

    fn receipt(&mut self, now: Instant, account: Option<&Arc<str>>, receipt: Receipt) -> Routed {
        let receipt = Arc::new(receipt);
        let matched = if self.tracking {
            self.tracker.on_receipt_in(now, account, receipt.clone())
        } else {
            ReceiptMatch::Untracked
        };
        Routed::Receipt { receipt, matched }
    }

    /// The earliest deadline of the tracker and the inbox.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = self.tracker.poll_timeout();
        let i = self.inbox.as_ref().and_then(Inbox::poll_timeout);
        match (t, i) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Expires what is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tracker.handle_timeout(now);
        if let Some(i) = &mut self.inbox {
            i.handle_timeout(now);
        }
    }

    /// The next write for the store ([`Tracker::poll_store_op`]).
    pub fn poll_store_op(&mut self) -> Option<StoreOp> {
        self.tracker.poll_store_op()
    }

    /// The next read for the store ([`Tracker::poll_store_request`]).
    pub fn poll_store_request(&mut self) -> Option<StoreRequest> {
        self.tracker.poll_store_request()
    }

    /// Ends everything now, for a driver that stops for good: tracked messages are
    /// reported expired, held receipts unmatched, incomplete incoming messages given up
    /// with the parts that came.
    pub fn expire_all(&mut self, now: Instant) {
        self.tracker.expire_all(now);
        if let Some(i) = &mut self.inbox {
            while let Some(at) = i.poll_timeout() {
                i.handle_timeout(at.max(now));
            }
        }
    }

    /// Whether [`Lifecycle::poll_event`] has something (a driver that forwards events from
    /// another thread wakes that thread only then).
    pub fn has_events(&self) -> bool {
        self.tracker.has_events() || self.inbox.as_ref().is_some_and(Inbox::has_events)
    }

    /// The next event: the tracker's first, then the inbox's.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.tracker
            .poll_event()
            .or_else(|| self.inbox.as_mut().and_then(Inbox::poll_event))
    }
}

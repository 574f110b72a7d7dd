//! The submissions tracker: every message followed from its `submit_sm`s to one final
//! [`Report`].
//!
//! The driver (a client) tells it what happened: [`Tracker::submit`] when a message is
//! about to go out, [`Tracker::on_submit_result`] for each segment's response,
//! [`Tracker::on_receipt`] for each delivery receipt, [`Tracker::handle_timeout`] when
//! [`Tracker::poll_timeout`] is due. It answers through [`Tracker::poll_event`].

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use smpp_pdu::receipt::{Receipt, ReceiptState};

use crate::by_reference::ByReference;
use crate::finished::Finished;
use crate::hash::FastMap;
use crate::ids::{Candidates, IdKey};
use crate::ordered::{Deadlines, Ordered};
use crate::report::{
    is_final_state, severity, Outcome, Progress, Report, SegmentReport, SegmentState, SubmitResult,
    Unmatched, UnmatchedReason,
};
use crate::store::{Record, StoreOp, StoreRequest, StoredSegment};
use crate::{Event, Reference};

/// The most segments one tracked message may have (a concatenated SMS has at most 255).
pub const MAX_SEGMENTS: usize = 255;

/// What to do when [`TrackerConfig::max_tracked`] messages are tracked and one more comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Refuse the new message with [`TrackError::Full`].
    Refuse,
    /// Drop the oldest tracked message, which gets a report with [`Outcome::Evicted`].
    EvictOldest,
}

/// The limits and timers of a [`Tracker`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerConfig {
    /// Messages tracked at once (default 250,000, about 100 MiB at the most).
    pub max_tracked: usize,
    /// What happens past `max_tracked` (default: evict the oldest, with a report).
    pub overflow: Overflow,
    /// How long after its submission a message may wait for its final receipts before
    /// it is reported [`Outcome::Expired`] (default 24 hours).
    pub report_timeout: Duration,
    /// How long a receipt that matches no segment is held, in case its `submit_sm_resp`
    /// is still on the way (fast SMSCs send the receipt first; default 60 s). Zero
    /// reports such a receipt unmatched at once. So does a tracker with no segment
    /// awaiting its response (without [`TrackerConfig::journal`]): no response to come
    /// can match the receipt, so it is not held for nothing (a client that only
    /// receives, or submits without tracking, gets its receipts at once).
    pub early_receipt_hold: Duration,
    /// Receipts held at once; past it the oldest is reported unmatched (default 10,000).
    pub max_held_receipts: usize,
    /// About how many message ids of finished messages are remembered (rounded up to a
    /// power of two: the last that many, as 8-octet fingerprints, where a newer id may take
    /// an older one's place), so that a repeated receipt is counted as a duplicate rather
    /// than reported unmatched (default 65,536: half a mebibyte, and as much again once a
    /// receipt that matches nothing is looked up there).
    pub remember_finished: usize,
    /// Generated references are this prefix followed by a counter (default empty: `1`,
    /// `2`, ...). Processes that share a store should give each a prefix of its own.
    pub reference_prefix: String,
    /// How this link writes a message id in receipts against its responses (default
    /// [`IdForms::Auto`]).
    pub id_forms: IdForms,
    /// Hand out [`StoreOp`]s and [`StoreRequest`]s for a durable [`Store`](crate::Store)
    /// (off by default: memory only). With it, a receipt that matches nothing here is held
    /// while the driver looks it up in the store, a message whose report timeout passes
    /// is first checked there (another process may have finished it), and
    /// [`Tracker::expire_all`] leaves open messages to the store instead of reporting
    /// them.
    pub journal: bool,
    /// With the journal: how long a receipt that matches nothing here waits before it is
    /// looked up in the store (default 1 s). Most such receipts raced their own response
    /// in this process and match it within milliseconds; asking the store for each would
    /// cost a round trip per receipt.
    pub store_lookup_delay: Duration,
}

/// How an SMSC writes a message's id in its receipts compared with its `submit_sm_resp`.
///
/// Case and leading zeros never matter. Beyond that an all-digit id is ambiguous: `16`
/// is sixteen in decimal and twenty-two in hexadecimal, so the tracker must know (or
/// learn) which reading the link uses, or a receipt could be matched to another message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdForms {
    /// Learn it: ids are matched as written until one that can only be hexadecimal (it
    /// has a letter `a`-`f`) shows which way the link goes. A response id with a letter
    /// matched by a decimal receipt id means [`IdForms::HexResponseDecimalReceipt`]; a
    /// receipt id with a letter matched by a decimal response id means
    /// [`IdForms::DecimalResponseHexReceipt`]; an id with a letter written the same on
    /// both sides means [`IdForms::Same`]. Until then an all-digit receipt id is read as
    /// the response wrote it, so on a link that writes hexadecimal responses and decimal
    /// receipts, receipts for the first ids (before the first id with a letter, the 10th
    /// message when ids count from 1) can only match if they read the same both ways (1 to
    /// 9). Set the form when it is known.
    Auto,
    /// The receipt writes the id as the response did.
    Same,
    /// The response writes the id in hexadecimal, the receipt in decimal
    /// (`000000001A` and `id:26`).
    HexResponseDecimalReceipt,
    /// The response writes the id in decimal, the receipt in hexadecimal.
    DecimalResponseHexReceipt,
}

/// How a receipt's id relates to a response's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    Own,
    HexOfDecimal,
    DecimalOfHex,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            max_tracked: 250_000,
            overflow: Overflow::EvictOldest,
            report_timeout: Duration::from_secs(24 * 3600),
            early_receipt_hold: Duration::from_secs(60),
            max_held_receipts: 10_000,
            remember_finished: 65_536,
            reference_prefix: String::new(),
            id_forms: IdForms::Auto,
            journal: false,
            store_lookup_delay: Duration::from_secs(1),
        }
    }
}

/// Which receipts a message asked for (the low two bits of `registered_delivery`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReceiptPolicy {
    /// No receipt: the report comes once every segment is answered ([`Outcome::Accepted`]).
    None,
    /// A receipt on the final outcome, success or failure (`registered_delivery` 1).
    Final,
    /// A receipt on failure only (`registered_delivery` 2): a segment with no failure
    /// receipt by the report timeout counts as delivered.
    FailureOnly,
}

impl ReceiptPolicy {
    /// The policy a `registered_delivery` value asks for (bits 0-1: 1 final, 2 failure,
    /// 3 success only, which is tracked like 1).
    pub fn from_registered_delivery(v: u8) -> ReceiptPolicy {
        match v & 0x03 {
            0 => ReceiptPolicy::None,
            2 => ReceiptPolicy::FailureOnly,
            _ => ReceiptPolicy::Final,
        }
    }
}

/// A message to track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    /// The caller's reference; `None` to have one generated. Shared, not copied: the
    /// tracker, its handle and the report all hold this one string.
    pub reference: Option<Reference>,
    /// How many `submit_sm`s carry it (1 to [`MAX_SEGMENTS`]).
    pub segments: usize,
    /// Which receipts it asked for.
    pub receipts: ReceiptPolicy,
    /// Overrides [`TrackerConfig::report_timeout`] for this message.
    pub report_timeout: Option<Duration>,
    /// The wall-clock time of the submission (ms since the Unix epoch), for the store's
    /// record; the driver's to give (the tracker reads no clock). 0 when nobody needs it.
    pub submitted_unix_ms: u64,
}

impl NewMessage {
    /// A message of `segments` parts asking for final receipts, with a generated reference.
    pub fn new(segments: usize) -> NewMessage {
        NewMessage {
            reference: None,
            segments,
            receipts: ReceiptPolicy::Final,
            report_timeout: None,
            submitted_unix_ms: 0,
        }
    }

    /// Sets the caller's reference.
    pub fn reference(mut self, reference: impl Into<Reference>) -> NewMessage {
        self.reference = Some(reference.into());
        self
    }

    /// Sets the receipts asked for.
    pub fn receipts(mut self, policy: ReceiptPolicy) -> NewMessage {
        self.receipts = policy;
        self
    }

    /// Sets this message's report timeout.
    pub fn report_timeout(mut self, timeout: Duration) -> NewMessage {
        self.report_timeout = Some(timeout);
        self
    }
}

/// The tracker's handle on a message: pass it back with each segment's response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackId(u64);

/// A message now tracked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracked {
    /// The handle for [`Tracker::on_submit_result`].
    pub id: TrackId,
    /// The reference (the caller's or a generated one).
    pub reference: Reference,
}

/// Why a message cannot be tracked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackError {
    /// A tracked message already has this reference.
    DuplicateReference(String),
    /// [`TrackerConfig::max_tracked`] messages are tracked and the overflow policy is
    /// [`Overflow::Refuse`].
    Full {
        /// The limit.
        limit: usize,
    },
    /// The segment count is 0 or above [`MAX_SEGMENTS`].
    BadSegmentCount(usize),
}

impl fmt::Display for TrackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackError::DuplicateReference(r) => {
                write!(f, "a tracked message already has the reference {r:?}")
            }
            TrackError::Full { limit } => {
                write!(
                    f,
                    "{limit} messages are tracked already (the tracker's limit)"
                )
            }
            TrackError::BadSegmentCount(n) => {
                write!(f, "a message has 1 to {MAX_SEGMENTS} segments, not {n}")
            }
        }
    }
}

impl std::error::Error for TrackError {}

/// What [`Tracker::on_receipt`] did with a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptMatch {
    /// It belongs to this segment of this message.
    Matched {
        /// The message's reference.
        reference: Reference,
        /// The segment (0-based).
        segment: usize,
    },
    /// No segment has its id yet; it is held for [`TrackerConfig::early_receipt_hold`].
    Held,
    /// Its segment already had a final state (a repeated receipt); counted, not reported.
    Duplicate,
    /// It matches nothing and was reported as [`Event::Unmatched`].
    Unmatched(UnmatchedReason),
    /// Tracking is off ([`LifecycleConfig::tracking`](crate::LifecycleConfig::tracking)):
    /// the receipt was parsed but not matched.
    Untracked,
}

/// What a tracker counted (see [`Tracker::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackerStats {
    /// Messages accepted for tracking.
    pub submitted: u64,
    /// Reports by outcome.
    pub delivered: u64,
    /// Reports with [`Outcome::Accepted`].
    pub accepted: u64,
    /// Reports with [`Outcome::Failed`].
    pub failed: u64,
    /// Reports with [`Outcome::Unknown`].
    pub unknown: u64,
    /// Reports with [`Outcome::Expired`].
    pub expired: u64,
    /// Reports with [`Outcome::Evicted`].
    pub evicted: u64,
    /// Receipts matched to a segment (directly or after being held).
    pub receipts_matched: u64,
    /// Receipts that came before their segment's response and were held.
    pub receipts_held: u64,
    /// Receipts for a segment that already had its final state.
    pub receipts_duplicate: u64,
    /// Receipts reported unmatched.
    pub receipts_unmatched: u64,
    /// Intermediate receipts reported as progress.
    pub progress: u64,
    /// Messages taken over from the store ([`Tracker::adopt`]).
    pub adopted: u64,
    /// Messages another process finished (the store no longer had them at their report
    /// timeout): dropped here without a report.
    pub finished_elsewhere: u64,
    /// Receipts looked up in the store.
    pub lookups: u64,
    /// Messages tracked now.
    pub tracked: u64,
    /// Receipts held now.
    pub held: u64,
}

#[derive(Debug)]
struct Message {
    reference: Reference,
    /// The reference's hash, which indexes it ([`ByReference`]).
    reference_hash: u64,
    /// Kept as the report gives them, so that the report takes them as they are. A
    /// segment's index key is worked out again from its id when needed ([`IdKey::of`]).
    segments: Vec<SegmentReport>,
    open: usize,
    receipts: ReceiptPolicy,
    submitted: Instant,
    deadline: Instant,
    /// Its report timeout passed and the store is asked whether it is still open.
    checking: bool,
}

#[derive(Debug)]
struct Held {
    receipt: Arc<Receipt>,
    keys: Candidates,
    /// When it is looked up in the store, if it still matches nothing here.
    lookup_at: Option<Instant>,
    deadline: Instant,
}

/// The held receipts under one key, oldest first: nearly always one, kept without an
/// allocation.
#[derive(Debug)]
enum HeldIds {
    One(u64),
    Many(Vec<u64>),
}

impl HeldIds {
    fn push(&mut self, h: u64) {
        match self {
            HeldIds::One(x) if *x == h => {}
            HeldIds::One(x) => *self = HeldIds::Many(vec![*x, h]),
            HeldIds::Many(v) => {
                if !v.contains(&h) {
                    v.push(h);
                }
            }
        }
    }

    /// Takes `h` out; whether none is left.
    fn remove(&mut self, h: u64) -> bool {
        match self {
            HeldIds::One(x) => *x == h,
            HeldIds::Many(v) => {
                v.retain(|&x| x != h);
                v.is_empty()
            }
        }
    }

    fn as_slice(&self) -> &[u64] {
        match self {
            HeldIds::One(x) => std::slice::from_ref(x),
            HeldIds::Many(v) => v,
        }
    }
}

/// What a deadline belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Message(u64),
    Held(u64),
    /// A held receipt is looked up in the store (with the journal).
    Lookup(u64),
}

/// Tracks submissions to their final reports; see the module docs.
#[derive(Debug)]
pub struct Tracker {
    config: TrackerConfig,
    /// By id, which grows with each submission.
    messages: Ordered<Message>,
    references: ByReference,
    /// Canonical id key -> (message, segment).
    index: FastMap<IdKey, (u64, u16)>,
    /// Receipts that came before their response, by arrival.
    held: Ordered<Held>,
    /// Every candidate key of each held receipt -> the held receipts (oldest first).
    held_index: FastMap<IdKey, HeldIds>,
    /// The id forms in use for ids with no account: the configured ones, or what
    /// [`IdForms::Auto`] learnt.
    forms: IdForms,
    /// The same for each named account (SMSCs write ids each in their own way).
    account_forms: Vec<(Arc<str>, IdForms)>,
    deadlines: Deadlines<Due>,
    /// Fingerprints of finished messages' ids, for duplicate detection.
    finished: Finished,
    next_id: u64,
    next_held: u64,
    /// Segments of tracked messages still awaiting their response
    /// ([`SegmentState::Sending`]): while there are none, a receipt that matches nothing
    /// cannot be early, and is not held.
    awaiting: usize,
    next_reference: u64,
    /// Reused to build generated references.
    scratch: String,
    events: VecDeque<Event>,
    /// Writes and reads for the store (with [`TrackerConfig::journal`]).
    store_ops: VecDeque<StoreOp>,
    store_requests: VecDeque<StoreRequest>,
    stats: TrackerStats,
}

impl Tracker {
    /// A tracker with these limits.
    pub fn new(config: TrackerConfig) -> Tracker {
        let forms = config.id_forms;
        let remember = config.remember_finished;
        Tracker {
            config,
            messages: Ordered::default(),
            references: ByReference::default(),
            index: FastMap::default(),
            held: Ordered::default(),
            held_index: FastMap::default(),
            forms,
            account_forms: Vec::new(),
            deadlines: Deadlines::default(),
            finished: Finished::new(remember),
            next_id: 1,
            next_held: 1,
            awaiting: 0,
            next_reference: 1,
            scratch: String::new(),
            events: VecDeque::new(),
            store_ops: VecDeque::new(),
            store_requests: VecDeque::new(),
            stats: TrackerStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Messages tracked now.
    pub fn tracked(&self) -> usize {
        self.messages.len()
    }

    /// Receipts held now, waiting for their response.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// What the tracker counted.
    pub fn stats(&self) -> TrackerStats {
        let mut s = self.stats.clone();
        s.tracked = self.messages.len() as u64;
        s.held = self.held.len() as u64;
        s
    }

    /// The reference of a tracked message.
    pub fn reference(&self, id: TrackId) -> Option<&str> {
        self.messages.get(id.0).map(|m| &*m.reference)
    }

    /// Starts tracking a message about to be submitted. Call it before the first
    /// `submit_sm` goes out, so that a receipt racing its response finds the message.
    pub fn submit(&mut self, now: Instant, message: NewMessage) -> Result<Tracked, TrackError> {
        if message.segments == 0 || message.segments > MAX_SEGMENTS {
            return Err(TrackError::BadSegmentCount(message.segments));
        }
        let given = message
            .reference
            .as_ref()
            .map(|r| (ByReference::hash(r), r));
        if let Some((h, r)) = given {
            if self.by_reference(h, r).is_some() {
                return Err(TrackError::DuplicateReference(String::from(&**r)));
            }
        }
        let given_hash = given.map(|(h, _)| h);
        while self.messages.len() >= self.config.max_tracked.max(1) {
            match self.config.overflow {
                Overflow::Refuse => {
                    return Err(TrackError::Full {
                        limit: self.config.max_tracked,
                    })
                }
                Overflow::EvictOldest => {
                    let Some(oldest) = self.messages.oldest() else {
                        break;
                    };
                    warn!("tracker full: evicting the oldest message");
                    self.finish(now, oldest, Some(Outcome::Evicted));
                }
            }
        }
        let (reference, reference_hash) = match (message.reference, given_hash) {
            (Some(r), Some(h)) => (r, h),
            _ => self.generate_reference(),
        };
        let timeout = message.report_timeout.unwrap_or(self.config.report_timeout);
        let deadline = now + timeout;
        let expires_unix_ms = message
            .submitted_unix_ms
            .saturating_add(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        let segments = (0..message.segments)
            .map(|_| SegmentReport {
                message_id: None,
                state: SegmentState::Sending,
                receipt: None,
                account: None,
            })
            .collect();
        let id = self.begin(Message {
            reference: reference.clone(),
            reference_hash,
            segments,
            open: message.segments,
            receipts: message.receipts,
            submitted: now,
            deadline,
            checking: false,
        });
        self.stats.submitted += 1;
        if self.config.journal {
            self.store_ops.push_back(StoreOp::Put(Record {
                reference: String::from(&*reference),
                receipts: message.receipts,
                submitted_unix_ms: message.submitted_unix_ms,
                expires_unix_ms,
                segments: (0..message.segments)
                    .map(|_| StoredSegment {
                        message_id: None,
                        state: SegmentState::Sending,
                        err: None,
                        account: None,
                    })
                    .collect(),
            }));
        }
        Ok(Tracked {
            id: TrackId(id),
            reference,
        })
    }

    /// A message enters tracking: its id, its entry, its reference and its deadline.
    fn begin(&mut self, message: Message) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.awaiting += sending(&message);
        self.references.insert(message.reference_hash, id);
        self.deadlines.push(message.deadline, Due::Message(id));
        self.messages.insert(id, message);
        id
    }

    /// A reference no tracked message has, with its hash.
    fn generate_reference(&mut self) -> (Reference, u64) {
        let mut r = std::mem::take(&mut self.scratch);
        loop {
            r.clear();
            r.push_str(&self.config.reference_prefix);
            push_decimal(&mut r, self.next_reference);
            self.next_reference += 1;
            let h = ByReference::hash(&r);
            if self.by_reference(h, &r).is_none() {
                let out = Reference::from(r.as_str());
                self.scratch = r;
                return (out, h);
            }
        }
    }

    /// The tracked message with this reference (`h`: its hash).
    fn by_reference(&self, h: u64, reference: &str) -> Option<u64> {
        self.references.candidates(h).find(|&id| {
            self.messages
                .get(id)
                .is_some_and(|m| &*m.reference == reference)
        })
    }

    /// Records how segment `segment` (0-based) of message `id` was answered. A message
    /// no longer tracked (reported already), a segment out of range or answered before
    /// is ignored (and logged; the same acceptance told again is ignored quietly).
    pub fn on_submit_result(
        &mut self,
        now: Instant,
        id: TrackId,
        segment: usize,
        result: SubmitResult,
    ) {
        self.on_submit_result_in(now, None, id, segment, result);
    }

    /// [`Tracker::on_submit_result`] for a segment sent on a bind of `account` (a pool's
    /// account name): its message id is unique only among that account's, so only a
    /// receipt read on the same account's binds ([`Tracker::on_receipt_in`]) matches it.
    pub fn on_submit_result_in(
        &mut self,
        now: Instant,
        account: Option<&Arc<str>>,
        id: TrackId,
        segment: usize,
        result: SubmitResult,
    ) {
        let Some(m) = self.messages.get_mut(id.0) else {
            debug!("response for a message no longer tracked ({id:?})");
            return;
        };
        let Some(seg) = m.segments.get_mut(segment) else {
            warn!(
                "response for segment {segment} of a {}-segment message",
                m.segments.len()
            );
            return;
        };
        if seg.state != SegmentState::Sending {
            // The same acceptance told twice (a driver that records responses as they
            // arrive and again when it settles them) is the same response.
            let repeat = matches!(&result, SubmitResult::Accepted { message_id }
                if seg.message_id.as_deref() == Some(message_id.as_str()));
            if !repeat {
                warn!("second response for segment {segment} of {:?}", m.reference);
            }
            return;
        }
        let mut key = None;
        self.awaiting = self.awaiting.saturating_sub(1);
        seg.state = match result {
            SubmitResult::Accepted { message_id } => {
                key = IdKey::scoped(account, &message_id);
                seg.message_id = Some(message_id);
                seg.account = account.cloned();
                if key.is_none() && m.receipts != ReceiptPolicy::None {
                    warn!("{:?}: the SMSC gave segment {segment} an empty message id; no receipt can match it", m.reference);
                }
                SegmentState::Submitted
            }
            SubmitResult::Refused(status) => SegmentState::Refused(status),
            SubmitResult::Unknown(why) => SegmentState::Unknown(why),
            SubmitResult::NotSent => SegmentState::NotSent,
        };
        let closed = is_closed(seg, m.receipts);
        if closed {
            m.open -= 1;
        }
        let open = m.open;
        if self.config.journal {
            let reference = String::from(&*m.reference);
            let op = match (&seg.message_id, &key) {
                (Some(message_id), Some(key)) if seg.state == SegmentState::Submitted => {
                    StoreOp::SetId {
                        reference,
                        segment: segment as u16,
                        message_id: message_id.clone(),
                        account: account.map(|a| String::from(&**a)),
                        key: key.store_key(),
                    }
                }
                _ => StoreOp::SetState {
                    reference,
                    segment: segment as u16,
                    state: seg.state.clone(),
                    err: None,
                },
            };
            self.store_ops.push_back(op);
        }
        if let (Some(key), false) = (key, closed) {
            // Receipts that came first wait under this key.
            if !self.held.is_empty() {
                self.index.insert(key.clone(), (id.0, segment as u16));
                self.match_held(now, id.0, segment, &key);
            } else {
                self.index.insert(key, (id.0, segment as u16));
            }
            return;
        }
        if open == 0 {
            self.finish(now, id.0, None);
        }
    }

    /// Matches a delivery receipt to its segment: through the canonical id keys, so
    /// hexadecimal, decimal, zero-padded and differently cased forms of one id meet.
    /// The receipt is shared (`Arc`) with whoever else holds it: the report of its
    /// message carries it, and a driver can hand the same receipt to its application.
    pub fn on_receipt(&mut self, now: Instant, receipt: impl Into<Arc<Receipt>>) -> ReceiptMatch {
        self.on_receipt_in(now, None, receipt)
    }

    /// [`Tracker::on_receipt`] for a receipt read on a bind of `account` (a pool's account
    /// name): it matches only segments that account accepted
    /// ([`Tracker::on_submit_result_in`]).
    pub fn on_receipt_in(
        &mut self,
        now: Instant,
        account: Option<&Arc<str>>,
        receipt: impl Into<Arc<Receipt>>,
    ) -> ReceiptMatch {
        let receipt: Arc<Receipt> = receipt.into();
        // The usual case first: the id as written finds its segment, and the other
        // readings are not worked out at all.
        if matches!(self.forms_of(account), IdForms::Same | IdForms::Auto) {
            if let Some(own) = IdKey::scoped(account, &receipt.id) {
                if let Some(&(id, seg)) = self.index.get(&own) {
                    let c = Candidates {
                        own: Some(own.clone()),
                        ..Candidates::default()
                    };
                    if self.accept(Relation::Own, &c, &own) {
                        return self.apply(now, id, seg as usize, receipt, Some(&own));
                    }
                }
            }
        }
        let keys = IdKey::candidates_in(account, &receipt.id);
        if keys.is_empty() {
            return self.unmatched(receipt, UnmatchedReason::NoId);
        }
        if let Some((k, (id, seg))) = self.find(&keys) {
            return self.apply(now, id, seg as usize, receipt, Some(&k));
        }
        // A repeat of a finished message's receipt: only a reading the forms trust counts
        // (under Auto, the id as written), or another message's receipt would be lost.
        self.finished.catch_up();
        let repeat = match self.forms_of(account) {
            IdForms::Auto => keys.own.as_ref().is_some_and(|k| self.was_finished(k)),
            _ => self.lookup_keys(&keys).any(|(k, _)| self.was_finished(k)),
        };
        if repeat {
            self.stats.receipts_duplicate += 1;
            return ReceiptMatch::Duplicate;
        }
        // Held only while a response to come could still match it: some segment awaits
        // one, or (with a store) another process may have sent the message.
        if self.config.early_receipt_hold.is_zero() || (self.awaiting == 0 && !self.config.journal)
        {
            return self.unmatched(receipt, UnmatchedReason::UnknownId);
        }
        while self.held.len() >= self.config.max_held_receipts.max(1) {
            let Some(oldest) = self.held.oldest() else {
                break;
            };
            if let Some(h) = self.take_held(oldest) {
                self.unmatched(h.receipt, UnmatchedReason::Evicted);
            }
        }
        let h = self.next_held;
        self.next_held += 1;
        for k in keys.iter() {
            self.held_index
                .entry(k.clone())
                .and_modify(|ids| ids.push(h))
                .or_insert(HeldIds::One(h));
        }
        let deadline = now + self.config.early_receipt_hold;
        self.deadlines.push(deadline, Due::Held(h));
        // With a store: another process (or this one before a restart) may have sent it.
        // Asked after a moment, when this process's own responses had time to come.
        let lookup_at = self
            .config
            .journal
            .then(|| now + self.config.store_lookup_delay);
        if let Some(at) = lookup_at {
            self.deadlines.push(at, Due::Lookup(h));
        }
        self.held.insert(
            h,
            Held {
                receipt,
                keys,
                lookup_at,
                deadline,
            },
        );
        self.stats.receipts_held += 1;
        ReceiptMatch::Held
    }

    fn unmatched(&mut self, receipt: Arc<Receipt>, reason: UnmatchedReason) -> ReceiptMatch {
        debug!(
            "receipt for {:?} matched nothing ({})",
            receipt.id,
            reason.as_str()
        );
        self.stats.receipts_unmatched += 1;
        self.events
            .push_back(Event::Unmatched(Unmatched { receipt, reason }));
        ReceiptMatch::Unmatched(reason)
    }

    fn take_held(&mut self, h: u64) -> Option<Held> {
        let held = self.held.remove(h)?;
        for k in held.keys.iter() {
            if self.held_index.get_mut(k).is_some_and(|ids| ids.remove(h)) {
                self.held_index.remove(k);
            }
        }
        self.clean_deadlines();
        Some(held)
    }

    /// The keys a receipt may be looked up under with the forms in use, in order, with
    /// how each relates the receipt to the response.
    fn lookup_keys<'k>(&self, c: &'k Candidates) -> impl Iterator<Item = (&'k IdKey, Relation)> {
        let own = c.own.as_ref().map(|k| (k, Relation::Own));
        let hod = c
            .hex_of_decimal
            .as_ref()
            .map(|k| (k, Relation::HexOfDecimal));
        let doh = c
            .decimal_of_hex
            .as_ref()
            .map(|k| (k, Relation::DecimalOfHex));
        let order = match self.forms_of(c.own.as_ref().and_then(IdKey::account)) {
            IdForms::Same => [own, None, None],
            // A receipt id that is not all digits can only be read as written.
            IdForms::HexResponseDecimalReceipt => [hod.or(own), None, None],
            IdForms::DecimalResponseHexReceipt => [doh.or(own), None, None],
            IdForms::Auto => [own, hod, doh],
        };
        order.into_iter().flatten()
    }

    /// Whether a match through `relation` of a receipt (keys `c`) to a response (key `k`)
    /// may be trusted with the forms in use; under [`IdForms::Auto`] a trusted cross match
    /// settles the forms.
    fn accept(&mut self, relation: Relation, c: &Candidates, k: &IdKey) -> bool {
        if self.forms_of(k.account()) != IdForms::Auto {
            return true;
        }
        let learnt = match relation {
            Relation::Own if k.has_hex_letter() => Some(IdForms::Same),
            Relation::Own => None,
            // Only an id that cannot be decimal shows the response wrote hexadecimal.
            Relation::HexOfDecimal if k.has_hex_letter() => {
                Some(IdForms::HexResponseDecimalReceipt)
            }
            Relation::DecimalOfHex if c.own.as_ref().is_some_and(IdKey::has_hex_letter) => {
                Some(IdForms::DecimalResponseHexReceipt)
            }
            Relation::HexOfDecimal | Relation::DecimalOfHex => return false,
        };
        if let Some(f) = learnt {
            match k.account() {
                None => {
                    info!("message ids: this link writes them as {f:?}");
                    self.forms = f;
                }
                Some(a) => {
                    info!("message ids: account {a} writes them as {f:?}");
                    match self.account_forms.iter_mut().find(|(n, _)| n == a) {
                        Some((_, forms)) => *forms = f,
                        None => self.account_forms.push((a.clone(), f)),
                    }
                }
            }
        }
        true
    }

    /// The id forms in use for `account`'s ids.
    fn forms_of(&self, account: Option<&Arc<str>>) -> IdForms {
        match account {
            None => self.forms,
            Some(a) => self
                .account_forms
                .iter()
                .find(|(n, _)| n == a)
                .map_or(self.config.id_forms, |(_, f)| *f),
        }
    }

    /// The tracked segment a receipt with these keys belongs to.
    fn find(&mut self, c: &Candidates) -> Option<(IdKey, (u64, u16))> {
        let hit = self
            .lookup_keys(c)
            .find_map(|(k, rel)| self.index.get(k).map(|&at| (k.clone(), rel, at)));
        let (k, rel, at) = hit?;
        self.accept(rel, c, &k).then_some((k, at))
    }

    /// The oldest held receipt that belongs to a response with key `k`.
    fn held_for(&mut self, k: &IdKey) -> Option<u64> {
        // Receipts that wrote the id as the response did first.
        let mut best: Option<(u64, Relation)> = None;
        for &h in self.held_index.get(k)?.as_slice() {
            let Some(held) = self.held.get(h) else {
                continue;
            };
            let rel = if held.keys.own.as_ref() == Some(k) {
                Relation::Own
            } else if held.keys.hex_of_decimal.as_ref() == Some(k) {
                Relation::HexOfDecimal
            } else {
                Relation::DecimalOfHex
            };
            let allowed = self.lookup_keys(&held.keys).any(|(_, r)| r == rel);
            if allowed && best.is_none_or(|(_, r)| r != Relation::Own && rel == Relation::Own) {
                best = Some((h, rel));
            }
        }
        let (h, rel) = best?;
        let keys = self.held.get(h)?.keys.clone();
        self.accept(rel, &keys, k).then_some(h)
    }

    /// Applies the receipts held for segment `seg` of message `id` (key `k`), oldest first,
    /// while it is open: an intermediate receipt and the final one may both have come
    /// before the response.
    fn match_held(&mut self, now: Instant, id: u64, seg: usize, k: &IdKey) {
        loop {
            let open = self.messages.get(id).is_some_and(|m| {
                m.segments
                    .get(seg)
                    .is_some_and(|s| !is_closed(s, m.receipts))
            });
            if !open {
                return;
            }
            let Some(held) = self.held_for(k).and_then(|h| self.take_held(h)) else {
                return;
            };
            self.apply(now, id, seg, held.receipt, Some(k));
        }
    }

    /// A receipt for segment `seg` of message `id`, which is indexed under `key` (when the
    /// caller has it at hand: then the report need not work it out again).
    fn apply(
        &mut self,
        now: Instant,
        id: u64,
        seg: usize,
        receipt: Arc<Receipt>,
        key: Option<&IdKey>,
    ) -> ReceiptMatch {
        let Some(m) = self.messages.get_mut(id) else {
            return self.unmatched(receipt, UnmatchedReason::UnknownId);
        };
        let reference = m.reference.clone();
        let receipts = m.receipts;
        let s = &mut m.segments[seg];
        if is_closed(s, receipts) {
            self.stats.receipts_duplicate += 1;
            return ReceiptMatch::Duplicate;
        }
        self.stats.receipts_matched += 1;
        if !is_final_state(&receipt.state) {
            s.receipt = Some(receipt.clone());
            self.stats.progress += 1;
            self.events.push_back(Event::Progress(Progress {
                reference: reference.clone(),
                segment: seg,
                receipt,
            }));
            return ReceiptMatch::Matched {
                reference,
                segment: seg,
            };
        }
        if s.state == SegmentState::Sending {
            // Only a segment restored from a store with its id but not its answer: its
            // response is not awaited any more.
            self.awaiting = self.awaiting.saturating_sub(1);
        }
        s.state = SegmentState::Final(receipt.state.clone());
        if self.config.journal {
            self.store_ops.push_back(StoreOp::SetState {
                reference: String::from(&*reference),
                segment: seg as u16,
                state: s.state.clone(),
                err: receipt.err.clone(),
            });
        }
        s.receipt = Some(receipt);
        m.open -= 1;
        if m.open == 0 {
            self.finish_with(now, id, None, key.map(|k| (seg, k)));
        }
        ReceiptMatch::Matched {
            reference,
            segment: seg,
        }
    }

    /// Ends message `id` with one report: the outcome computed from its segments, or
    /// `forced` (expired, evicted).
    fn finish(&mut self, now: Instant, id: u64, forced: Option<Outcome>) {
        self.finish_with(now, id, forced, None);
    }

    /// [`Tracker::finish`], with the index key of one segment already at hand (`known`:
    /// the segment and its key).
    fn finish_with(
        &mut self,
        now: Instant,
        id: u64,
        forced: Option<Outcome>,
        known: Option<(usize, &IdKey)>,
    ) {
        let Some(m) = self.take_out(id, known, true) else {
            return;
        };
        if self.config.journal {
            let keys = m
                .segments
                .iter()
                .filter_map(|s| key_of(s).map(|k| k.store_key()))
                .collect();
            self.store_ops.push_back(StoreOp::Remove {
                reference: String::from(&*m.reference),
                keys,
            });
        }
        let outcome = forced.unwrap_or_else(|| outcome_of(&m));
        let state = m
            .segments
            .iter()
            .filter_map(|s| match &s.state {
                SegmentState::Final(st) => Some(st),
                _ => None,
            })
            .max_by_key(|st| severity(st))
            .cloned()
            .or_else(|| {
                m.segments
                    .iter()
                    .filter_map(|s| s.receipt.as_ref().map(|r| r.state.clone()))
                    .next_back()
            });
        match outcome {
            Outcome::Delivered => self.stats.delivered += 1,
            Outcome::Accepted => self.stats.accepted += 1,
            Outcome::Failed => self.stats.failed += 1,
            Outcome::Unknown => self.stats.unknown += 1,
            Outcome::Expired => self.stats.expired += 1,
            Outcome::Evicted => self.stats.evicted += 1,
        }
        let submit_date = m
            .segments
            .iter()
            .find_map(|s| s.receipt.as_ref().and_then(|r| r.submit_date));
        let done_date = m
            .segments
            .iter()
            .rev()
            .find_map(|s| s.receipt.as_ref().and_then(|r| r.done_date));
        self.events.push_back(Event::Report(Report {
            reference: m.reference,
            outcome,
            state,
            segments: m.segments,
            submit_date,
            done_date,
            elapsed: now.saturating_duration_since(m.submitted),
        }));
    }

    fn remember(&mut self, key: &IdKey) {
        self.finished.remember(fingerprint(key));
    }

    /// Whether a finished message's id had this key (as far as the table remembers, as of
    /// its last catch-up).
    fn was_finished(&self, key: &IdKey) -> bool {
        self.finished.contains(fingerprint(key))
    }

    /// When the next message expires or held receipt runs out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.peek().map(|(at, _)| at)
    }

    /// Expires every message and held receipt whose time has come at `now`. Calling it
    /// early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, due)) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            if !self.is_live(at, due) {
                continue;
            }
            match due {
                Due::Message(id) if self.config.journal => {
                    // Another process may have finished it: ask the store first.
                    if let Some(m) = self.messages.get_mut(id) {
                        if !m.checking {
                            m.checking = true;
                            self.store_requests.push_back(StoreRequest::StillOpen {
                                reference: String::from(&*m.reference),
                            });
                        }
                    }
                }
                Due::Message(id) => {
                    let Some(m) = self.messages.get(id) else {
                        continue;
                    };
                    let forced = Some(outcome_at_timeout(m));
                    self.finish(now, id, forced);
                }
                Due::Held(h) => {
                    if let Some(held) = self.take_held(h) {
                        self.unmatched(held.receipt, UnmatchedReason::UnknownId);
                    }
                }
                Due::Lookup(h) => {
                    let keys = match self.held.get(h) {
                        Some(held) => self
                            .lookup_keys(&held.keys)
                            .map(|(k, _)| k.store_key())
                            .collect(),
                        None => continue,
                    };
                    self.store_requests.push_back(StoreRequest::Find { keys });
                    self.stats.lookups += 1;
                }
            }
        }
    }

    /// Whether a deadline entry still belongs to a tracked message or held receipt.
    fn is_live(&self, at: Instant, due: Due) -> bool {
        deadline_is_live(&self.messages, &self.held, at, due)
    }

    /// Keeps the earliest deadline a live one, and the dead ones bounded.
    fn clean_deadlines(&mut self) {
        let live = self.messages.len() + self.held.len();
        let (messages, held) = (&self.messages, &self.held);
        self.deadlines
            .clean(live, |at, due| deadline_is_live(messages, held, at, due));
    }

    /// Ends everything now: every tracked message is reported [`Outcome::Expired`] and
    /// every held receipt unmatched. For a driver that stops for good (its connection
    /// lost with no reconnect, the application closing): no receipt can come any more.
    ///
    /// With [`TrackerConfig::journal`], open messages are left to the store instead: they
    /// are dropped here without a report (and without a store write), so that a restart
    /// or another process that gets their receipts reports them.
    pub fn expire_all(&mut self, now: Instant) {
        if self.config.journal {
            while let Some(id) = self.messages.oldest() {
                self.drop_local(id);
            }
        }
        while let Some(id) = self.messages.oldest() {
            self.finish(now, id, Some(Outcome::Expired));
        }
        while let Some(h) = self.held.oldest() {
            if let Some(held) = self.take_held(h) {
                self.unmatched(held.receipt, UnmatchedReason::UnknownId);
            }
        }
    }

    /// Forgets a message here without a report or a store write.
    fn drop_local(&mut self, id: u64) {
        self.take_out(id, None, false);
    }

    /// Takes message `id` out of tracking (its entry, its count of awaited responses, its
    /// reference, its segments' index entries, its deadline) and returns it; `None` when
    /// it is not tracked. `known`: one segment's index key already at hand; `remember`:
    /// its ids go to the finished ones, so that a repeated receipt counts as a duplicate.
    fn take_out(
        &mut self,
        id: u64,
        known: Option<(usize, &IdKey)>,
        remember: bool,
    ) -> Option<Message> {
        let m = self.messages.remove(id)?;
        self.awaiting = self.awaiting.saturating_sub(sending(&m));
        self.references.remove(m.reference_hash, id);
        self.clean_deadlines();
        for (i, s) in m.segments.iter().enumerate() {
            let worked_out;
            let k = match known {
                Some((j, k)) if j == i => k,
                _ => match key_of(s) {
                    Some(k) => {
                        worked_out = k;
                        &worked_out
                    }
                    None => continue,
                },
            };
            // Another message may own the key since (an id the SMSC used again).
            if let Some(other) = self.index.remove(k) {
                if other.0 != id {
                    self.index.insert(k.clone(), other);
                }
            }
            if remember {
                self.remember(k);
            }
        }
        Some(m)
    }

    /// Takes a message from the store into tracking here: after a restart
    /// ([`Store::load_open`](crate::Store::load_open)), or because a receipt arrived here for a
    /// message another process sent ([`StoreRequest::Find`]). Receipts held for its
    /// segments are matched at once. `now_unix_ms` is the wall-clock time that goes with
    /// `now`, to place the record's expiry on the tracker's clock. Returns `false` (and
    /// changes nothing) when the message is tracked here already or the record has no
    /// segment.
    pub fn adopt(&mut self, now: Instant, now_unix_ms: u64, record: Record) -> bool {
        if record.segments.is_empty() || record.segments.len() > MAX_SEGMENTS {
            return false;
        }
        let reference_hash = ByReference::hash(&record.reference);
        if self
            .by_reference(reference_hash, &record.reference)
            .is_some()
        {
            return false;
        }
        let left = Duration::from_millis(record.expires_unix_ms.saturating_sub(now_unix_ms));
        let deadline = now + left;
        let policy = record.receipts;
        let mut open = 0;
        let segments: Vec<SegmentReport> = record
            .segments
            .into_iter()
            .map(|s| {
                let s = SegmentReport {
                    message_id: s.message_id,
                    state: s.state,
                    receipt: None,
                    account: s.account.map(Arc::from),
                };
                if !is_closed(&s, policy) {
                    open += 1;
                }
                s
            })
            .collect();
        let keys: Vec<(usize, IdKey)> = segments
            .iter()
            .enumerate()
            .filter(|(_, s)| !is_closed(s, policy))
            .filter_map(|(i, s)| key_of(s).map(|k| (i, k)))
            .collect();
        let id = self.begin(Message {
            reference: record.reference.into(),
            reference_hash,
            segments,
            open,
            receipts: policy,
            submitted: now,
            deadline,
            checking: false,
        });
        self.stats.adopted += 1;
        for (i, k) in &keys {
            self.index.insert(k.clone(), (id, *i as u16));
        }
        if open == 0 {
            self.finish(now, id, None);
            return true;
        }
        for (i, k) in keys {
            if self.held.is_empty() {
                break;
            }
            self.match_held(now, id, i, &k);
        }
        true
    }

    /// The store's answer to [`StoreRequest::StillOpen`]: an open message is reported
    /// expired now; one the store no longer has was finished by another process, so it is
    /// dropped here without a report (counted in [`TrackerStats::finished_elsewhere`]).
    /// A driver that cannot reach the store answers `true`: the report is then given
    /// here.
    pub fn on_still_open(&mut self, now: Instant, reference: &str, open: bool) {
        let Some(id) = self.by_reference(ByReference::hash(reference), reference) else {
            return;
        };
        if !self.messages.get(id).is_some_and(|m| m.checking) {
            return;
        }
        if open {
            let forced = self.messages.get(id).map(outcome_at_timeout);
            self.finish(now, id, forced);
        } else {
            self.stats.finished_elsewhere += 1;
            self.drop_local(id);
        }
    }

    /// The next write for the store (with [`TrackerConfig::journal`]), oldest first.
    pub fn poll_store_op(&mut self) -> Option<StoreOp> {
        self.store_ops.pop_front()
    }

    /// The next read for the store (with [`TrackerConfig::journal`]), oldest first.
    pub fn poll_store_request(&mut self) -> Option<StoreRequest> {
        self.store_requests.pop_front()
    }

    /// Whether [`Tracker::poll_event`] has something.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// The next report, progress note or unmatched receipt, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

/// Appends `n` in decimal (the formatting machinery of `write!` was a tenth of
/// [`Tracker::submit`]).
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// A key's fingerprint for the finished table: never 0 (an empty slot).
fn fingerprint(key: &IdKey) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<crate::hash::FxHasher>::default().hash_one(key) | 1
}

/// Whether nothing more is awaited for a segment: it has a final state, or it was
/// accepted and no receipt was asked.
fn is_closed(s: &SegmentReport, receipts: ReceiptPolicy) -> bool {
    match s.state {
        SegmentState::Sending => false,
        SegmentState::Submitted => receipts == ReceiptPolicy::None,
        _ => true,
    }
}

/// How many of a message's segments await their response.
fn sending(m: &Message) -> usize {
    m.segments
        .iter()
        .filter(|s| s.state == SegmentState::Sending)
        .count()
}

/// The index key of a segment (none before its response, or for an empty id).
fn key_of(s: &SegmentReport) -> Option<IdKey> {
    s.message_id
        .as_deref()
        .and_then(|id| IdKey::scoped(s.account.as_ref(), id))
}

/// The outcome of a message whose segments are all closed.
fn outcome_of(m: &Message) -> Outcome {
    let mut unknown = false;
    let mut all_delivered = true;
    for s in &m.segments {
        match &s.state {
            SegmentState::Refused(_) | SegmentState::NotSent => return Outcome::Failed,
            SegmentState::Final(ReceiptState::Delivered) => {}
            SegmentState::Final(_) => return Outcome::Failed,
            SegmentState::Unknown(_) => unknown = true,
            SegmentState::Sending | SegmentState::Submitted => all_delivered = false,
        }
    }
    if unknown {
        Outcome::Unknown
    } else if all_delivered {
        Outcome::Delivered
    } else {
        Outcome::Accepted
    }
}

/// Whether a deadline entry still belongs to a tracked message or held receipt (entries
/// are removed lazily).
fn deadline_is_live(
    messages: &Ordered<Message>,
    held: &Ordered<Held>,
    at: Instant,
    due: Due,
) -> bool {
    match due {
        Due::Message(id) => messages.get(id).is_some_and(|m| m.deadline == at),
        Due::Held(h) => held.get(h).is_some_and(|x| x.deadline == at),
        Due::Lookup(h) => held.get(h).is_some_and(|x| x.lookup_at == Some(at)),
    }
}

/// How a message still open at its report timeout ends: expired, or for a failure-only
/// message with no failure receipt in time, delivered (what was accepted counts as
/// delivered, what was never answered stays unknown).
fn outcome_at_timeout(m: &Message) -> Outcome {
    match m.receipts {
        ReceiptPolicy::FailureOnly => outcome_assuming_delivered(m),
        _ => Outcome::Expired,
    }
}

/// For a failure-only message at its deadline: accepted segments count as delivered.
fn outcome_assuming_delivered(m: &Message) -> Outcome {
    let mut unknown = false;
    for s in &m.segments {
        match &s.state {
            SegmentState::Refused(_) | SegmentState::NotSent => return Outcome::Failed,
            SegmentState::Final(ReceiptState::Delivered) | SegmentState::Submitted => {}
            SegmentState::Final(_) => return Outcome::Failed,
            SegmentState::Unknown(_) | SegmentState::Sending => unknown = true,
        }
    }
    if unknown {
        Outcome::Unknown
    } else {
        Outcome::Delivered
    }
}

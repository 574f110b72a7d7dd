//! What a durable store keeps of tracked messages, and the interface a store implements.
//!
//! The tracker never does I/O. With [`TrackerConfig::journal`](crate::TrackerConfig::journal)
//! on, it hands out what must be written as [`StoreOp`]s ([`Tracker::poll_store_op`](crate::Tracker::poll_store_op))
//! and what must be read as [`StoreRequest`]s ([`Tracker::poll_store_request`](crate::Tracker::poll_store_request)),
//! the way the session hands out bytes; the driver applies them to its [`Store`] (on a
//! thread of its own, or as futures) and answers the requests. So a receipt that reaches
//! another process, or this one after a restart, still finds its message: the driver
//! looks its id up in the store and the tracker adopts the record
//! ([`Tracker::adopt`](crate::Tracker::adopt)).
//!
//! Times in records are wall-clock milliseconds since the Unix epoch, given by the driver
//! (the tracker reads no clock).

use std::collections::HashMap;
use std::fmt;

use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::CommandStatus;

use crate::report::{SegmentState, UnknownReason};
use crate::tracker::ReceiptPolicy;

/// One segment of a stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSegment {
    /// The SMSC's message id, once the response gave one.
    pub message_id: Option<String>,
    /// Where it stands.
    pub state: SegmentState,
    /// The `err:` of its final receipt, when it had one.
    pub err: Option<String>,
    /// The SMSC account that gave the message id, when one was named.
    pub account: Option<String>,
}

/// A tracked message as a store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The caller's reference (the record's key).
    pub reference: String,
    /// Which receipts the message asked for.
    pub receipts: ReceiptPolicy,
    /// When it was submitted (ms since the Unix epoch).
    pub submitted_unix_ms: u64,
    /// When its report is due at the latest (ms since the Unix epoch): a store may forget
    /// the record some time after this.
    pub expires_unix_ms: u64,
    /// Its segments, in order.
    pub segments: Vec<StoredSegment>,
}

/// A write the tracker asks of the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreOp {
    /// A new message, before its first `submit_sm` goes out.
    Put(Record),
    /// A segment's `submit_sm_resp` gave it a message id; the store indexes `key` (the
    /// normalised id with its account, [`IdKey::store_key`](crate::ids::IdKey::store_key))
    /// to the message.
    SetId {
        /// The message.
        reference: String,
        /// The segment (0-based).
        segment: u16,
        /// The id as the SMSC wrote it.
        message_id: String,
        /// The SMSC account that gave it, when one was named.
        account: Option<String>,
        /// The normalised id, with its account.
        key: String,
    },
    /// A segment reached a final state.
    SetState {
        /// The message.
        reference: String,
        /// The segment (0-based).
        segment: u16,
        /// Its state.
        state: SegmentState,
        /// The `err:` of the receipt that said so.
        err: Option<String>,
    },
    /// The message was reported (or evicted): forget it and its id keys.
    Remove {
        /// The message.
        reference: String,
        /// The normalised ids of its segments.
        keys: Vec<String>,
    },
}

impl StoreOp {
    /// The message the operation is about.
    pub fn reference(&self) -> &str {
        match self {
            StoreOp::Put(r) => &r.reference,
            StoreOp::SetId { reference, .. }
            | StoreOp::SetState { reference, .. }
            | StoreOp::Remove { reference, .. } => reference,
        }
    }
}

/// A read the tracker asks of the store; answer it with the tracker's matching call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreRequest {
    /// A receipt matched nothing tracked here: find the open message one of whose
    /// segments has one of these normalised ids (tried in order), and give it to
    /// [`Tracker::adopt`](crate::Tracker::adopt) (nothing to do when there is none).
    Find {
        /// The normalised ids to look up, in order.
        keys: Vec<String>,
    },
    /// A message's report timeout passed here: is it still open in the store (another
    /// process may have finished it)? Answer with
    /// [`Tracker::on_still_open`](crate::Tracker::on_still_open).
    StillOpen {
        /// The message.
        reference: String,
    },
}

/// What kind of failure a store met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store cannot be reached now (a server down, a connection lost): worth retrying.
    Unavailable,
    /// The store refused the write (disk full, read-only file, quota).
    Refused,
    /// The stored data is not what this version writes (a foreign file, a bad record).
    Corrupt,
    /// Anything else.
    Other,
}

/// A store's failure, with what it was doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    /// The kind.
    pub kind: StoreErrorKind,
    /// What failed, in words (never a password).
    pub message: String,
}

impl StoreError {
    /// An error of this kind.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> StoreError {
        StoreError {
            kind,
            message: message.into(),
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        self.kind == StoreErrorKind::Unavailable
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            StoreErrorKind::Unavailable => "store unavailable",
            StoreErrorKind::Refused => "store refused the write",
            StoreErrorKind::Corrupt => "store data not understood",
            StoreErrorKind::Other => "store failed",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for StoreError {}

/// Where tracked messages live beyond one process's memory. Implementations do I/O; the
/// driver calls them (from a thread of its own: none of these calls may be made while
/// holding the tracker).
pub trait Store: Send {
    /// Applies `ops` in order, as one unit where the store can (a transaction, a
    /// pipeline). When it returns `Ok`, the operations survive a crash of this process.
    fn apply(&mut self, ops: &[StoreOp]) -> Result<(), StoreError>;

    /// The open message one of whose segments has the normalised id `key`.
    fn find(&mut self, key: &str) -> Result<Option<Record>, StoreError>;

    /// Whether the message `reference` is still open.
    fn contains(&mut self, reference: &str) -> Result<bool, StoreError>;

    /// Every open message, to adopt after a restart (at most `limit`, oldest first).
    fn load_open(&mut self, limit: usize) -> Result<Vec<Record>, StoreError>;

    /// Forgets records whose `expires_unix_ms` is more than `grace_ms` before `now_unix_ms`
    /// (their processes are gone); returns how many. Stores that expire by themselves
    /// (Redis keys) may do nothing.
    fn purge_expired(&mut self, now_unix_ms: u64, grace_ms: u64) -> Result<usize, StoreError>;
}

/// The store of one process's memory: what the tracker already knows, kept again. It
/// serves tests and drivers that want the [`Store`] interface without durability.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: HashMap<String, Record>,
    keys: HashMap<String, String>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Open messages held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl Store for MemoryStore {
    fn apply(&mut self, ops: &[StoreOp]) -> Result<(), StoreError> {
        for op in ops {
            match op {
                StoreOp::Put(r) => {
                    self.records.insert(r.reference.clone(), r.clone());
                }
                StoreOp::SetId {
                    reference,
                    segment,
                    message_id,
                    account,
                    key,
                } => {
                    if let Some(s) = self
                        .records
                        .get_mut(reference)
                        .and_then(|r| r.segments.get_mut(usize::from(*segment)))
                    {
                        s.message_id = Some(message_id.clone());
                        s.account = account.clone();
                        s.state = SegmentState::Submitted;
                        self.keys.insert(key.clone(), reference.clone());
                    }
                }
                StoreOp::SetState {
                    reference,
                    segment,
                    state,
                    err,
                } => {
                    if let Some(s) = self
                        .records
                        .get_mut(reference)
                        .and_then(|r| r.segments.get_mut(usize::from(*segment)))
                    {
                        s.state = state.clone();
                        s.err = err.clone();
                    }
                }
                StoreOp::Remove { reference, keys } => {
                    self.records.remove(reference);
                    for k in keys {
                        if self.keys.get(k) == Some(reference) {
                            self.keys.remove(k);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn find(&mut self, key: &str) -> Result<Option<Record>, StoreError> {
        Ok(self
            .keys
            .get(key)
            .and_then(|r| self.records.get(r))
            .cloned())
    }

    fn contains(&mut self, reference: &str) -> Result<bool, StoreError> {
        Ok(self.records.contains_key(reference))
    }

    fn load_open(&mut self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let mut all: Vec<Record> = self.records.values().cloned().collect();
        all.sort_by_key(|r| r.submitted_unix_ms);
        all.truncate(limit);
        Ok(all)
    }

    fn purge_expired(&mut self, now_unix_ms: u64, grace_ms: u64) -> Result<usize, StoreError> {
        let old: Vec<String> = self
            .records
            .values()
            .filter(|r| r.expires_unix_ms.saturating_add(grace_ms) < now_unix_ms)
            .map(|r| r.reference.clone())
            .collect();
        for r in &old {
            self.records.remove(r);
        }
        self.keys.retain(|_, r| !old.contains(r));
        Ok(old.len())
    }
}

/// A segment state as text, for stores that keep text: `sending`, `submitted`,
/// `refused:<status in hex>`, `unknown:<timeout|disconnected|other>`, `not_sent`,
/// `final:<stat word>`.
pub fn state_to_text(s: &SegmentState) -> String {
    match s {
        SegmentState::Sending => "sending".into(),
        SegmentState::Submitted => "submitted".into(),
        SegmentState::Refused(st) => format!("refused:{:08x}", st.0),
        SegmentState::Unknown(why) => format!("unknown:{}", why.as_str()),
        SegmentState::NotSent => "not_sent".into(),
        SegmentState::Final(state) => format!("final:{}", state.stat()),
    }
}

/// The state [`state_to_text`] wrote; `None` for text it never writes.
pub fn state_from_text(t: &str) -> Option<SegmentState> {
    Some(match t.split_once(':') {
        None => match t {
            "sending" => SegmentState::Sending,
            "submitted" => SegmentState::Submitted,
            "not_sent" => SegmentState::NotSent,
            _ => return None,
        },
        Some(("refused", hex)) => {
            SegmentState::Refused(CommandStatus(u32::from_str_radix(hex, 16).ok()?))
        }
        Some(("unknown", why)) => SegmentState::Unknown(match why {
            "timeout" => UnknownReason::Timeout,
            "disconnected" => UnknownReason::Disconnected,
            "other" => UnknownReason::Other,
            _ => return None,
        }),
        Some(("final", word)) => SegmentState::Final(ReceiptState::from_stat(word)),
        _ => return None,
    })
}

/// A receipt policy as text (`none`, `final`, `failure`), and back.
pub fn policy_to_text(p: ReceiptPolicy) -> &'static str {
    match p {
        ReceiptPolicy::None => "none",
        ReceiptPolicy::Final => "final",
        ReceiptPolicy::FailureOnly => "failure",
    }
}

/// The policy [`policy_to_text`] wrote.
pub fn policy_from_text(t: &str) -> Option<ReceiptPolicy> {
    Some(match t {
        "none" => ReceiptPolicy::None,
        "final" => ReceiptPolicy::Final,
        "failure" => ReceiptPolicy::FailureOnly,
        _ => return None,
    })
}

/// The behaviour every [`Store`] must have, as one check a store's own test suite runs
/// against a fresh, empty store (`smpp-store` runs it on SQLite and Redis, this crate on
/// [`MemoryStore`]). It panics, naming the step, at the first difference.
pub fn conformance(store: &mut dyn Store) {
    use smpp_pdu::receipt::ReceiptState;
    let seg = |id: Option<&str>, state: SegmentState| StoredSegment {
        message_id: id.map(str::to_string),
        state,
        err: None,
        account: None,
    };
    let record = |reference: &str, submitted: u64, n: usize| Record {
        reference: reference.into(),
        receipts: ReceiptPolicy::Final,
        submitted_unix_ms: submitted,
        expires_unix_ms: submitted + 60_000,
        segments: (0..n).map(|_| seg(None, SegmentState::Sending)).collect(),
    };
    let step = |what: &str, r: Result<(), StoreError>| {
        if let Err(e) = r {
            panic!("{what}: {e}");
        }
    };
    assert_eq!(
        store.load_open(10).expect("load_open on an empty store"),
        vec![],
        "a fresh store is empty"
    );
    // A message of two segments, answered one after the other.
    step("put", store.apply(&[StoreOp::Put(record("r1", 1_000, 2))]));
    assert!(
        store.contains("r1").expect("contains"),
        "a put message is open"
    );
    assert!(
        !store.contains("r2").expect("contains"),
        "an unknown reference is not"
    );
    step(
        "set ids",
        store.apply(&[
            StoreOp::SetId {
                reference: "r1".into(),
                segment: 0,
                message_id: "000000001A".into(),
                account: None,
                key: "1a".into(),
            },
            StoreOp::SetId {
                reference: "r1".into(),
                segment: 1,
                message_id: "000000001B".into(),
                account: None,
                key: "1b".into(),
            },
        ]),
    );
    let found = store
        .find("1b")
        .expect("find")
        .expect("a segment's id finds its message");
    assert_eq!(found.reference, "r1");
    assert_eq!(found.segments.len(), 2);
    assert_eq!(found.segments[1].message_id.as_deref(), Some("000000001B"));
    assert_eq!(
        found.segments[0].state,
        SegmentState::Submitted,
        "an id means submitted"
    );
    assert_eq!(found.receipts, ReceiptPolicy::Final);
    assert_eq!(
        (found.submitted_unix_ms, found.expires_unix_ms),
        (1_000, 61_000)
    );
    assert_eq!(
        store.find("1c").expect("find"),
        None,
        "an unknown id finds nothing"
    );
    // A final state with its error code, then another message, then the first one's end.
    step(
        "set state",
        store.apply(&[StoreOp::SetState {
            reference: "r1".into(),
            segment: 0,
            state: SegmentState::Final(ReceiptState::Undeliverable),
            err: Some("034".into()),
        }]),
    );
    let found = store.find("1a").expect("find").expect("still open");
    assert_eq!(
        found.segments[0].state,
        SegmentState::Final(ReceiptState::Undeliverable)
    );
    assert_eq!(found.segments[0].err.as_deref(), Some("034"));
    step(
        "states of every kind",
        store.apply(&[
            StoreOp::Put(record("r2", 2_000, 4)),
            StoreOp::SetState {
                reference: "r2".into(),
                segment: 0,
                state: SegmentState::Refused(CommandStatus::ESME_RINVDSTADR),
                err: None,
            },
            StoreOp::SetState {
                reference: "r2".into(),
                segment: 1,
                state: SegmentState::Unknown(UnknownReason::Timeout),
                err: None,
            },
            StoreOp::SetState {
                reference: "r2".into(),
                segment: 2,
                state: SegmentState::NotSent,
                err: None,
            },
        ]),
    );
    let open = store.load_open(10).expect("load_open");
    assert_eq!(
        open.iter()
            .map(|r| r.reference.as_str())
            .collect::<Vec<_>>(),
        ["r1", "r2"],
        "open messages, oldest first"
    );
    let r2 = &open[1];
    assert_eq!(
        r2.segments[0].state,
        SegmentState::Refused(CommandStatus::ESME_RINVDSTADR)
    );
    assert_eq!(
        r2.segments[1].state,
        SegmentState::Unknown(UnknownReason::Timeout)
    );
    assert_eq!(r2.segments[2].state, SegmentState::NotSent);
    assert_eq!(r2.segments[3].state, SegmentState::Sending);
    assert_eq!(
        store.load_open(1).expect("load_open").len(),
        1,
        "the limit holds"
    );
    step(
        "remove",
        store.apply(&[StoreOp::Remove {
            reference: "r1".into(),
            keys: vec!["1a".into(), "1b".into()],
        }]),
    );
    assert!(
        !store.contains("r1").expect("contains"),
        "a removed message is gone"
    );
    assert_eq!(store.find("1a").expect("find"), None, "and so are its ids");
    // Expired records are purged after the grace period, not before.
    assert_eq!(
        store.purge_expired(62_000 + 1_000, 5_000).expect("purge"),
        0
    );
    let purged = store.purge_expired(62_000 + 10_000, 5_000).expect("purge");
    assert!(
        purged == 1 || purged == 0,
        "r2 expired at 62,000 ({purged})"
    );
    if purged == 1 {
        assert!(!store.contains("r2").expect("contains"));
    }
    // A reference may be used again once its message was removed.
    step(
        "put again",
        store.apply(&[StoreOp::Put(record("r1", 3_000, 1))]),
    );
    assert_eq!(
        store.find("1a").expect("find"),
        None,
        "a new message has no old ids"
    );
    step(
        "remove again",
        store.apply(&[StoreOp::Remove {
            reference: "r1".into(),
            keys: vec![],
        }]),
    );
    // Two accounts that gave out the same id: each key finds its own message, with the
    // account kept on the segment.
    let sep = crate::ids::ACCOUNT_SEPARATOR;
    let (ka, kb) = (format!("a{sep}7"), format!("b{sep}7"));
    step(
        "ids of two accounts",
        store.apply(&[
            StoreOp::Put(record("ra", 4_000, 1)),
            StoreOp::Put(record("rb", 4_001, 1)),
            StoreOp::SetId {
                reference: "ra".into(),
                segment: 0,
                message_id: "7".into(),
                account: Some("a".into()),
                key: ka.clone(),
            },
            StoreOp::SetId {
                reference: "rb".into(),
                segment: 0,
                message_id: "7".into(),
                account: Some("b".into()),
                key: kb.clone(),
            },
        ]),
    );
    for (key, reference, account) in [(&ka, "ra", "a"), (&kb, "rb", "b")] {
        let found = store.find(key).expect("find").expect("an account's id");
        assert_eq!(found.reference, reference, "{key:?} finds its own message");
        assert_eq!(found.segments[0].account.as_deref(), Some(account));
    }
    assert_eq!(
        store.find("7").expect("find"),
        None,
        "an id without its account finds neither"
    );
    step(
        "remove both",
        store.apply(&[
            StoreOp::Remove {
                reference: "ra".into(),
                keys: vec![ka.clone()],
            },
            StoreOp::Remove {
                reference: "rb".into(),
                keys: vec![kb.clone()],
            },
        ]),
    );
    assert_eq!(store.find(&kb).expect("find"), None);
    // Text round trips.
    for s in [
        SegmentState::Sending,
        SegmentState::Submitted,
        SegmentState::Refused(CommandStatus::ESME_RTHROTTLED),
        SegmentState::Unknown(UnknownReason::Disconnected),
        SegmentState::NotSent,
        SegmentState::Final(ReceiptState::Delivered),
        SegmentState::Final(ReceiptState::Other("VENDOR".into())),
    ] {
        assert_eq!(state_from_text(&state_to_text(&s)), Some(s));
    }
}

//! The client's store thread: it writes the lifecycle's store operations in batches (one
//! transaction or pipeline per batch), answers the tracker's lookups, and tells the
//! sending threads when their writes are durable. Store I/O never happens on the sending
//! threads or the dispatcher, and never while the lifecycle lock is held.
//!
//! Every face uses it: the threaded client and its pool, and `smpp-tokio` (through
//! [`open_tracking`], [`StoreLink`] and a [`StoreWake`] of its own). A store's I/O is
//! blocking (SQLite, a Redis connection), so it runs on a thread of its own whatever the
//! face.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use log::{info, warn};
use smpp_lifecycle::{Lifecycle, Store, StoreError, StoreErrorKind, StoreOp, StoreRequest};

use crate::texts::unix_ms;

/// A store shared by clients (and the pool): the [`smpp_lifecycle::Store`] behind a lock.
/// Build it from any store: `StoreHandle::new(smpp_store::open("sqlite:track.db")?)`.
#[derive(Clone)]
pub struct StoreHandle(pub(crate) Arc<Mutex<Box<dyn Store>>>);

impl StoreHandle {
    /// Wraps a store.
    pub fn new(store: Box<dyn Store>) -> StoreHandle {
        StoreHandle(Arc::new(Mutex::new(store)))
    }
}

impl fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreHandle")
    }
}

/// What the store thread counted (see [`ClientStats::store`](crate::ClientStats::store)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStats {
    /// Operations written.
    pub written: u64,
    /// Batches written (each one transaction or pipeline).
    pub batches: u64,
    /// Operations waiting to be written (a store that is down holds them here).
    pub pending: u64,
    /// Operations never written because the same batch also removed their message (it
    /// was sent and reported before the store thread got to it).
    pub compacted: u64,
    /// Failed attempts to write a batch (each retried).
    pub write_errors: u64,
    /// Lookups for receipts that matched nothing here.
    pub lookups: u64,
    /// Messages found in the store and taken over.
    pub adopted: u64,
    /// Failed lookups.
    pub read_errors: u64,
    /// The last failure, in words.
    pub last_error: Option<String>,
}

enum Work {
    Ops(u64, Vec<StoreOp>),
    Requests(Vec<StoreRequest>),
    Stop,
}

/// How the store thread tells the face that drives the lifecycle that something changed.
pub trait StoreWake: Send + Sync + 'static {
    /// A read was answered (a message taken over from the store, a report decided): the
    /// lifecycle may have events to hand out.
    fn answered(&self);
    /// The writes up to `seq` (see [`StoreLink::take`]) are in the store.
    fn durable(&self, seq: u64) {
        let _ = seq;
    }
}

/// The threaded client's dispatcher: woken through its channel (durability is waited for
/// with [`StoreLink::wait_durable`]).
impl StoreWake for Sender<()> {
    fn answered(&self) {
        let _ = self.try_send(());
    }
}

/// What [`open_tracking`] gives: the lifecycle behind its lock, and the store thread when
/// there is a store.
pub type Opened = (Arc<Mutex<Lifecycle>>, Option<Arc<StoreLink>>);

/// The lifecycle layer a client with `config` tracks its messages in, shared behind a lock
/// with its store's thread: with [`ClientConfig::store`](crate::ClientConfig::store), every
/// change is journaled, generated references get a per-process prefix (processes sharing a
/// store must not make the same ones), the messages still open in the store are tracked
/// again (a restart), and the store thread is started; it calls `wake` as
/// [`StoreWake`] says.
pub fn open_tracking(
    config: &crate::ClientConfig,
    wake: Arc<dyn StoreWake>,
) -> Result<Opened, crate::Error> {
    let mut lifecycle = config.lifecycle.clone();
    if config.store.is_some() {
        lifecycle.tracker.journal = true;
        if lifecycle.tracker.reference_prefix.is_empty() {
            lifecycle.tracker.reference_prefix =
                format!("{:x}-{:x}-", std::process::id(), unix_ms());
        }
    }
    let life = Arc::new(Mutex::new(Lifecycle::new(
        smpp_lifecycle::LifecycleConfig {
            text: config.text,
            ..lifecycle
        },
    )));
    let Some(store) = &config.store else {
        return Ok((life, None));
    };
    let open = store
        .0
        .lock()
        .map_err(|_| {
            crate::Error::Store(StoreError::new(
                StoreErrorKind::Other,
                "the store's lock is poisoned",
            ))
        })?
        .load_open(config.lifecycle.tracker.max_tracked)
        .map_err(crate::Error::Store)?;
    if !open.is_empty() {
        info!(
            "tracking {} open message(s) from the store again",
            open.len()
        );
    }
    if let Ok(mut l) = life.lock() {
        let (now, wall) = (Instant::now(), unix_ms());
        for r in open {
            l.tracker_mut().adopt(now, wall, r);
        }
    }
    let link = StoreLink::start(store.clone(), Arc::clone(&life), wake)
        .map_err(|e| crate::Error::Connect(smpp_transport::TransportError::Io(e)))?;
    Ok((life, Some(link)))
}

/// The store thread, seen from the face: hand it the lifecycle's writes and reads
/// ([`StoreLink::take`]), learn when they are durable, stop it.
pub struct StoreLink {
    tx: Sender<Work>,
    next_seq: AtomicU64,
    /// The sequence number of the last batch written, and its waiters.
    durable: Mutex<u64>,
    written: Condvar,
    stats: Mutex<StoreStats>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// The most operations held while the store cannot take them; past it the oldest batch
/// is given up (counted as a write error, logged).
const MAX_PENDING: u64 = 1 << 20;

impl StoreLink {
    /// Starts the store thread; `life` is the lifecycle it answers for, `wake` is told
    /// when an answer produced events and when writes are durable.
    pub fn start(
        store: StoreHandle,
        life: Arc<Mutex<Lifecycle>>,
        wake: Arc<dyn StoreWake>,
    ) -> std::io::Result<Arc<StoreLink>> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let link = Arc::new(StoreLink {
            tx,
            next_seq: AtomicU64::new(1),
            durable: Mutex::new(0),
            written: Condvar::new(),
            stats: Mutex::new(StoreStats::default()),
            thread: Mutex::new(None),
        });
        let l = Arc::clone(&link);
        let handle = std::thread::Builder::new()
            .name("smpp-store".into())
            .spawn(move || run(&l, &store, &life, &*wake, &rx))?;
        if let Ok(mut t) = link.thread.lock() {
            *t = Some(handle);
        }
        Ok(link)
    }

    /// Moves what the lifecycle has for the store to the store thread (call it with the
    /// lifecycle lock held, right after changing it). Returns the sequence number that
    /// [`StoreLink::wait_durable`] waits for, when there were writes.
    pub fn take(&self, life: &mut Lifecycle) -> Option<u64> {
        let ops: Vec<StoreOp> = std::iter::from_fn(|| life.poll_store_op()).collect();
        let requests: Vec<StoreRequest> =
            std::iter::from_fn(|| life.poll_store_request()).collect();
        if !requests.is_empty() {
            let _ = self.tx.send(Work::Requests(requests));
        }
        if ops.is_empty() {
            return None;
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut s) = self.stats.lock() {
            s.pending += ops.len() as u64;
        }
        let _ = self.tx.send(Work::Ops(seq, ops));
        Some(seq)
    }

    /// The sequence number of the last writes handed to the store thread, by any caller of
    /// [`StoreLink::take`]: whatever the lifecycle held when a `take` returned is at or
    /// below it (another thread's `take` may have moved this caller's writes), so a send is
    /// durable once [`StoreLink::durable`] reaches it.
    pub fn last_taken(&self) -> u64 {
        self.next_seq.load(Ordering::Relaxed).saturating_sub(1)
    }

    /// The sequence number of the last writes in the store: every [`StoreLink::take`]
    /// up to it is durable.
    pub fn durable(&self) -> u64 {
        self.durable.lock().map(|d| *d).unwrap_or(0)
    }

    /// The error to give a send whose writes were not durable in time (`limit`).
    pub fn not_durable(&self, limit: Duration) -> StoreError {
        let last = self
            .stats
            .lock()
            .ok()
            .and_then(|s| s.last_error.clone())
            .unwrap_or_else(|| "no answer".into());
        StoreError::new(
            StoreErrorKind::Unavailable,
            format!("not written within {limit:?} (the store keeps trying): {last}"),
        )
    }

    /// Waits (blocking the thread) until the writes up to `seq` are durable, at most
    /// `limit`.
    pub fn wait_durable(&self, seq: u64, limit: Duration) -> Result<(), StoreError> {
        let end = Instant::now() + limit;
        let Ok(mut done) = self.durable.lock() else {
            return Err(StoreError::new(StoreErrorKind::Other, "store thread gone"));
        };
        while *done < seq {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.not_durable(limit));
            }
            done = match self.written.wait_timeout(done, left) {
                Ok((d, _)) => d,
                Err(_) => return Err(StoreError::new(StoreErrorKind::Other, "store thread gone")),
            };
        }
        Ok(())
    }

    /// What the store thread counted.
    pub fn stats(&self) -> StoreStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Tells the thread to write what is left and stop, without waiting for it (for a
    /// `Drop` that cannot block).
    pub fn stop_soon(&self) {
        let _ = self.tx.send(Work::Stop);
    }

    /// Writes what is left (trying for at most `limit`) and stops the thread (blocking the
    /// caller meanwhile).
    pub fn stop(&self, limit: Duration) {
        let last = self.next_seq.load(Ordering::Relaxed).saturating_sub(1);
        if let Err(e) = self.wait_durable(last, limit) {
            warn!("store: stopping with writes not done: {e}");
        }
        let _ = self.tx.send(Work::Stop);
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

fn error_text(e: &StoreError) -> String {
    e.to_string()
}

/// The store thread.
fn run(
    link: &StoreLink,
    store: &StoreHandle,
    life: &Mutex<Lifecycle>,
    wake: &dyn StoreWake,
    rx: &Receiver<Work>,
) {
    let mut batch: Vec<StoreOp> = Vec::new();
    let mut batch_seq = 0u64;
    let mut failures = 0u32;
    let mut next_purge = Instant::now() + Duration::from_secs(60);
    let mut stopping = false;
    loop {
        // Gather: wait for work when there is nothing to write, else take what is there.
        let first = if batch.is_empty() && !stopping {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(w) => Some(w),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        } else {
            None
        };
        let mut requests = Vec::new();
        for w in first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
        {
            match w {
                Work::Ops(seq, ops) => {
                    batch.extend(ops);
                    batch_seq = batch_seq.max(seq);
                }
                Work::Requests(r) => requests.extend(r),
                Work::Stop => stopping = true,
            }
        }
        if !batch.is_empty() {
            let before = batch.len();
            compact(&mut batch);
            if batch.is_empty() {
                if let Ok(mut s) = link.stats.lock() {
                    s.pending = s.pending.saturating_sub(before as u64);
                    s.compacted += before as u64;
                }
                if let Ok(mut d) = link.durable.lock() {
                    *d = (*d).max(batch_seq);
                }
                link.written.notify_all();
                wake.durable(batch_seq);
                continue;
            }
            if let Ok(mut s) = link.stats.lock() {
                s.compacted += (before - batch.len()) as u64;
                s.pending = s.pending.saturating_sub((before - batch.len()) as u64);
            }
            let r = store.0.lock().map_err(|_| {
                StoreError::new(StoreErrorKind::Other, "the store's lock is poisoned")
            });
            let r = r.and_then(|mut s| s.apply(&batch));
            match r {
                Ok(()) => {
                    if failures > 0 {
                        info!("store: writing again after {failures} failed attempt(s)");
                    }
                    failures = 0;
                    if let Ok(mut s) = link.stats.lock() {
                        s.written += batch.len() as u64;
                        s.batches += 1;
                        s.pending = s.pending.saturating_sub(batch.len() as u64);
                    }
                    batch.clear();
                    if let Ok(mut d) = link.durable.lock() {
                        *d = (*d).max(batch_seq);
                    }
                    link.written.notify_all();
                    wake.durable(batch_seq);
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    if failures == 1 {
                        warn!("store: cannot write ({} operations wait): {e}", batch.len());
                    }
                    let give_up = batch.len() as u64 > MAX_PENDING;
                    if let Ok(mut s) = link.stats.lock() {
                        s.write_errors += 1;
                        s.last_error = Some(error_text(&e));
                        if give_up {
                            s.pending = s.pending.saturating_sub(batch.len() as u64);
                        }
                    }
                    if give_up {
                        warn!("store: giving up {} operations: {e}", batch.len());
                        batch.clear();
                    }
                    if stopping && failures > 3 {
                        return;
                    }
                    // Back off (up to 2 s), still taking new work meanwhile.
                    let pause =
                        Duration::from_millis(50u64 << failures.min(5)).min(Duration::from_secs(2));
                    std::thread::sleep(pause);
                }
            }
        }
        for r in requests {
            answer(link, store, life, wake, r);
        }
        if stopping && batch.is_empty() && rx.is_empty() {
            return;
        }
        if Instant::now() >= next_purge {
            next_purge = Instant::now() + Duration::from_secs(60);
            if let Ok(mut s) = store.0.lock() {
                // Records of processes that died an hour past their expiry.
                match s.purge_expired(unix_ms(), 3_600_000) {
                    Ok(n) if n > 0 => info!("store: forgot {n} expired record(s)"),
                    Ok(_) => {}
                    Err(e) => warn!("store: purge failed: {e}"),
                }
            }
        }
    }
}

/// Drops from a batch every message that it both puts and removes: sent and reported
/// before the batch was written, it needs no record (its `Put` .. `Remove`, and every
/// write in between, cancel out). A reference put again after its removal keeps its
/// later writes.
fn compact(batch: &mut Vec<StoreOp>) {
    use std::collections::HashMap;
    // One pass: each write belongs to the open run of its reference, if any (a `Put`
    // opens one, a `Remove` closes it); the writes of closed runs go. (The earlier
    // version scanned each run's span of the batch again: quadratic in the window.)
    let mut open: HashMap<&str, usize> = HashMap::new();
    // Each run (a message's writes from its `Put` in this batch on): whether its `Remove`
    // came in the batch too.
    let mut closed: Vec<bool> = Vec::new();
    let mut run_of: Vec<Option<usize>> = Vec::with_capacity(batch.len());
    for op in batch.iter() {
        let run = match op {
            StoreOp::Put(r) => {
                closed.push(false);
                open.insert(&r.reference, closed.len() - 1);
                Some(closed.len() - 1)
            }
            StoreOp::Remove { reference, .. } => {
                let run = open.remove(reference.as_str());
                if let Some(r) = run {
                    closed[r] = true;
                }
                run
            }
            other => open.get(other.reference()).copied(),
        };
        run_of.push(run);
    }
    if !closed.contains(&true) {
        return;
    }
    let mut i = 0;
    batch.retain(|_| {
        let keep = !run_of[i].is_some_and(|r| closed[r]);
        i += 1;
        keep
    });
}

/// Answers one of the tracker's reads, then hands what that changed back.
fn answer(
    link: &StoreLink,
    store: &StoreHandle,
    life: &Mutex<Lifecycle>,
    wake: &dyn StoreWake,
    request: StoreRequest,
) {
    match request {
        StoreRequest::Find { keys } => {
            if let Ok(mut s) = link.stats.lock() {
                s.lookups += 1;
            }
            let mut found = None;
            for k in &keys {
                let r = store.0.lock().map_err(|_| {
                    StoreError::new(StoreErrorKind::Other, "the store's lock is poisoned")
                });
                match r.and_then(|mut s| s.find(k)) {
                    Ok(Some(rec)) => {
                        found = Some(rec);
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        warn!("store: lookup failed: {e}");
                        if let Ok(mut s) = link.stats.lock() {
                            s.read_errors += 1;
                            s.last_error = Some(error_text(&e));
                        }
                        break;
                    }
                }
            }
            let Some(record) = found else { return };
            if let Ok(mut l) = life.lock() {
                if l.tracker_mut().adopt(Instant::now(), unix_ms(), record) {
                    if let Ok(mut s) = link.stats.lock() {
                        s.adopted += 1;
                    }
                }
                link.take(&mut l);
            }
            wake.answered();
        }
        StoreRequest::StillOpen { reference } => {
            let r = store.0.lock().map_err(|_| {
                StoreError::new(StoreErrorKind::Other, "the store's lock is poisoned")
            });
            // When the store cannot say, the report is given here.
            let open = r
                .and_then(|mut s| s.contains(&reference))
                .unwrap_or_else(|e| {
                    warn!("store: cannot check {reference:?}: {e}");
                    true
                });
            if let Ok(mut l) = life.lock() {
                l.tracker_mut()
                    .on_still_open(Instant::now(), &reference, open);
                link.take(&mut l);
            }
            wake.answered();
        }
        other => warn!("store: request not understood: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp_lifecycle::{Record, SegmentState};

    fn put(r: &str) -> StoreOp {
        StoreOp::Put(Record {
            reference: r.into(),
            receipts: smpp_lifecycle::ReceiptPolicy::Final,
            submitted_unix_ms: 0,
            expires_unix_ms: 0,
            segments: vec![],
        })
    }

    fn set(r: &str) -> StoreOp {
        StoreOp::SetState {
            reference: r.into(),
            segment: 0,
            state: SegmentState::NotSent,
            err: None,
        }
    }

    fn remove(r: &str) -> StoreOp {
        StoreOp::Remove {
            reference: r.into(),
            keys: vec![],
        }
    }

    #[test]
    fn a_message_put_and_removed_in_one_batch_is_not_written() {
        let mut b = vec![
            set("old"),
            put("a"),
            put("b"),
            set("a"),
            remove("a"),
            remove("old"),
            put("a"),
            set("a"),
        ];
        compact(&mut b);
        let kept: Vec<(&str, &str)> = b
            .iter()
            .map(|op| {
                let kind = match op {
                    StoreOp::Put(_) => "put",
                    StoreOp::SetState { .. } => "set",
                    StoreOp::Remove { .. } => "remove",
                    _ => "other",
                };
                (op.reference(), kind)
            })
            .collect();
        // "a" was put, set and removed in the batch: gone; its second life stays, as do
        // "old" (put in an earlier batch) and "b" (still open).
        assert_eq!(
            kept,
            [
                ("old", "set"),
                ("b", "put"),
                ("old", "remove"),
                ("a", "put"),
                ("a", "set")
            ]
        );
    }

    /// The compaction in one pass drops exactly what the plain rule drops (every write of
    /// a reference from its `Put` to its `Remove`, both in the batch), over many random
    /// batches of a few references (puts again, removes without a put, writes in between).
    #[test]
    fn compaction_drops_exactly_the_runs_put_and_removed_in_the_batch() {
        // The rule as first written: for each closed run, every write of its reference
        // within the run's span.
        fn model(batch: &[StoreOp]) -> Vec<bool> {
            let mut open: std::collections::HashMap<&str, usize> = Default::default();
            let mut keep = vec![true; batch.len()];
            for (i, op) in batch.iter().enumerate() {
                match op {
                    StoreOp::Put(r) => {
                        open.insert(&r.reference, i);
                    }
                    StoreOp::Remove { reference, .. } => {
                        if let Some(start) = open.remove(reference.as_str()) {
                            for (j, o) in batch.iter().enumerate().take(i + 1).skip(start) {
                                if o.reference() == reference {
                                    keep[j] = false;
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            keep
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let names = ["a", "b", "c", "d"];
        for _ in 0..2_000 {
            let len = next(24) as usize;
            let batch: Vec<StoreOp> = (0..len)
                .map(|_| {
                    let r = names[next(4) as usize];
                    match next(3) {
                        0 => put(r),
                        1 => set(r),
                        _ => remove(r),
                    }
                })
                .collect();
            let want: Vec<String> = batch
                .iter()
                .zip(model(&batch))
                .filter(|(_, k)| *k)
                .map(|(op, _)| format!("{op:?}"))
                .collect();
            let mut got = batch;
            compact(&mut got);
            let got: Vec<String> = got.iter().map(|op| format!("{op:?}")).collect();
            assert_eq!(got, want);
        }
    }
}

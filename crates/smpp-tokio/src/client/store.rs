//! A connection task's side of the store: the lifecycle's writes handed to the store
//! thread after every pass, sends answered once their records are durable, and the store
//! thread's answers taken in. The thread itself, and what it does, are `smpp-client`'s
//! ([`StoreLink`]): a store's I/O is blocking, so it never runs on the runtime.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smpp_client::core::{open_tracking, StoreLink, StoreWake};
use smpp_client::{ClientConfig, Error, Sent};
use smpp_lifecycle::Lifecycle;
use tokio::sync::watch;

use super::task::Reply;

/// The store thread's signal: a counter bumped whenever a read was answered or writes
/// became durable. Every task watching it wakes ([`watch`] never loses a change).
struct Signal(watch::Sender<u64>);

impl StoreWake for Signal {
    fn answered(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn durable(&self, _seq: u64) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Tracking shared by the clients of a pool, or held by one client: the lifecycle, and
/// the store thread when there is a store.
#[derive(Clone)]
pub(crate) struct Tracking {
    pub(crate) life: Arc<Mutex<Lifecycle>>,
    pub(crate) link: Option<Arc<StoreLink>>,
    signal: Option<watch::Receiver<u64>>,
}

impl Tracking {
    /// A lifecycle (with `config`'s store, its open messages taken back) and the store
    /// thread. Reading the store is blocking I/O, so it runs off the runtime.
    pub(crate) async fn open(config: &ClientConfig) -> Result<Tracking, Error> {
        let config = config.clone();
        let (tx, rx) = watch::channel(0u64);
        let wake: Arc<dyn StoreWake> = Arc::new(Signal(tx));
        let (life, link) = tokio::task::spawn_blocking(move || open_tracking(&config, wake))
            .await
            .map_err(|e| Error::Store(other(format!("opening the store failed: {e}"))))??;
        let signal = link.is_some().then_some(rx);
        Ok(Tracking { life, link, signal })
    }

    /// Reports what is still open, now that no bind will read its receipts: with a store,
    /// open messages are left to it (another process, or this one after a restart, may
    /// still get their receipts) and the writes are finished, waiting at most `limit`
    /// off the runtime. The items the lifecycle then has to say.
    pub(crate) async fn finish(&self, limit: Duration) -> Vec<smpp_client::InboundKind> {
        let items = {
            let mut life = self.life.lock().unwrap_or_else(|e| e.into_inner());
            life.expire_all(Instant::now());
            if let Some(link) = &self.link {
                link.take(&mut life);
            }
            smpp_client::core::lifecycle_items(&mut life)
        };
        if let Some(link) = self.link.clone() {
            let _ = tokio::task::spawn_blocking(move || link.stop(limit)).await;
        }
        items
    }
}

/// A send answered by the SMSC whose records are not durable yet.
struct Wait {
    seq: u64,
    deadline: Instant,
    reply: Reply<Sent>,
    result: Result<Sent, Error>,
}

/// What a connection task keeps of its store.
pub(crate) struct TaskStore {
    tracking: Tracking,
    /// How long a send waits for its records ([`ClientConfig::store_timeout`]).
    timeout: Duration,
    /// Sends waiting for their records, oldest first (their deadlines in order too).
    waits: VecDeque<Wait>,
    /// Whether this task ends the tracking when it ends (a client alone; a pool's binds
    /// leave it to the pool).
    pub(crate) owner: bool,
}

impl TaskStore {
    /// A task's side of `tracking`, when it has a store.
    pub(crate) fn new(tracking: &Tracking, timeout: Duration, owner: bool) -> Option<TaskStore> {
        tracking.link.as_ref()?;
        Some(TaskStore {
            tracking: tracking.clone(),
            timeout,
            waits: VecDeque::new(),
            owner,
        })
    }

    /// The store thread's signal, for the task to wait on.
    pub(crate) fn signal(&self) -> Option<watch::Receiver<u64>> {
        self.tracking.signal.clone()
    }

    /// The tracking it writes for.
    pub(crate) fn tracking(&self) -> &Tracking {
        &self.tracking
    }

    /// Hands the lifecycle's writes and reads to the store thread.
    pub(crate) fn take(&mut self) {
        let Some(link) = &self.tracking.link else {
            return;
        };
        let mut life = self.tracking.life.lock().unwrap_or_else(|e| e.into_inner());
        link.take(&mut life);
    }

    /// A send's outcome: answered now when what was written so far is durable (or it
    /// failed: a failed send has nothing to wait for), else once it is. The mark waited
    /// for is the last writes anyone handed over: the store thread's answers, or another
    /// bind of a pool, may have taken this send's writes before this task did.
    pub(crate) fn answer(
        &mut self,
        reply: Reply<Sent>,
        result: Result<Sent, Error>,
    ) -> Option<(Reply<Sent>, Result<Sent, Error>)> {
        self.take();
        let Some(link) = &self.tracking.link else {
            return Some((reply, result));
        };
        let seq = link.last_taken();
        if result.is_err() || link.durable() >= seq {
            return Some((reply, result));
        }
        self.waits.push_back(Wait {
            seq,
            deadline: Instant::now() + self.timeout,
            reply,
            result,
        });
        None
    }

    /// The sends whose records are now durable, or whose wait ran out
    /// ([`Error::NotDurable`], holding what was sent).
    pub(crate) fn ready(&mut self, now: Instant) -> Vec<(Reply<Sent>, Result<Sent, Error>)> {
        let Some(link) = &self.tracking.link else {
            return Vec::new();
        };
        let durable = link.durable();
        let mut out = Vec::new();
        while let Some(w) = self.waits.front() {
            if w.seq <= durable {
                let w = self.waits.pop_front().expect("checked");
                out.push((w.reply, w.result));
            } else if w.deadline <= now {
                let w = self.waits.pop_front().expect("checked");
                let e = link.not_durable(self.timeout);
                let result = w
                    .result
                    .and_then(|sent| Err(Error::NotDurable(Box::new(sent), e)));
                out.push((w.reply, result));
            } else {
                break;
            }
        }
        out
    }

    /// When the oldest waiting send runs out of time.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.waits.front().map(|w| w.deadline)
    }

    /// The store thread's counters.
    pub(crate) fn stats(&self) -> Option<smpp_client::StoreStats> {
        self.tracking.link.as_ref().map(|l| l.stats())
    }
}

fn other(message: String) -> smpp_lifecycle::StoreError {
    smpp_lifecycle::StoreError::new(smpp_lifecycle::StoreErrorKind::Other, message)
}

//! Small collections tuned for sequence numbers: a fast keyed hasher and a deadline queue.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

/// Hashes `u32` sequence numbers with one multiply, keyed per session so that a peer
/// cannot pick numbers that collide (sequence numbers of inbound requests come from it).
#[derive(Clone, Debug)]
pub(crate) struct SeqState {
    key: u64,
}

impl Default for SeqState {
    fn default() -> Self {
        // A random key from the standard library's per-process seed; no clock involved.
        SeqState {
            key: RandomState::new().hash_one(0x5EED_u64) | 1,
        }
    }
}

impl BuildHasher for SeqState {
    type Hasher = SeqHasher;
    fn build_hasher(&self) -> SeqHasher {
        SeqHasher {
            key: self.key,
            state: 0,
        }
    }
}

/// See [`SeqState`].
#[derive(Clone, Debug)]
pub(crate) struct SeqHasher {
    key: u64,
    state: u64,
}

impl Hasher for SeqHasher {
    fn finish(&self) -> u64 {
        self.state
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(b as u32);
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        let x = (self.state ^ n as u64 ^ self.key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // Fold the high half down: the low bits pick the bucket, and the product's low
        // bits depend only on the key's low bits.
        self.state = x ^ (x >> 29);
    }
}

pub(crate) type SeqMap<V> = HashMap<u32, V, SeqState>;
pub(crate) type SeqSet = HashSet<u32, SeqState>;

/// Response deadlines. Requests usually start in time order with the same timeout, so
/// deadlines mostly arrive in order and sit in a queue (O(1) to add; removing an answered
/// request searches from the front, where in-order responses find it at once). The rare
/// deadline earlier than the last queued one goes to a small ordered set.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    queue: VecDeque<(Instant, u32)>,
    others: BTreeSet<(Instant, u32)>,
}

impl Deadlines {
    pub(crate) fn insert(&mut self, deadline: Instant, seq: u32) {
        match self.queue.back() {
            Some(&(last, _)) if deadline < last => {
                self.others.insert((deadline, seq));
            }
            _ => self.queue.push_back((deadline, seq)),
        }
    }

    pub(crate) fn remove(&mut self, deadline: Instant, seq: u32) {
        // In-order responses: the oldest entry, without a search.
        if self.queue.front() == Some(&(deadline, seq)) {
            self.queue.pop_front();
            return;
        }
        match self.queue.iter().position(|e| *e == (deadline, seq)) {
            Some(i) => {
                self.queue.remove(i);
            }
            None => {
                self.others.remove(&(deadline, seq));
            }
        }
    }

    /// The earliest deadline.
    pub(crate) fn first(&self) -> Option<(Instant, u32)> {
        match (self.queue.front(), self.others.first()) {
            (Some(a), Some(b)) => Some(*a.min(b)),
            (Some(a), None) => Some(*a),
            (None, b) => b.copied(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.queue.clear();
        self.others.clear();
    }
}

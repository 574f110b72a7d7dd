//! The tracker's containers: entries by an increasing id with the oldest at hand, and
//! deadlines, both without a node allocation per entry (the B-tree versions allocated and
//! freed nodes all the time, which slowed every other allocation of the process).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

use crate::hash::FastMap;

/// Entries keyed by ids handed out in increasing order.
#[derive(Debug)]
pub(crate) struct Ordered<T> {
    map: FastMap<u64, T>,
    /// Ids in insertion order; may hold ids already removed (skipped lazily).
    order: VecDeque<u64>,
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered {
            map: FastMap::default(),
            order: VecDeque::new(),
        }
    }
}

impl<T> Ordered<T> {
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Adds an entry; `id` must be larger than every id added before.
    pub(crate) fn insert(&mut self, id: u64, value: T) {
        self.map.insert(id, value);
        self.order.push_back(id);
    }

    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        self.map.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        self.map.get_mut(&id)
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<T> {
        let v = self.map.remove(&id)?;
        self.trim();
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order.retain(|i| map.contains_key(i));
        }
        Some(v)
    }

    /// The oldest entry's id.
    pub(crate) fn oldest(&self) -> Option<u64> {
        self.order.front().copied()
    }

    /// Drops removed ids from the front, so that the front is live.
    fn trim(&mut self) {
        while let Some(f) = self.order.front() {
            if self.map.contains_key(f) {
                break;
            }
            self.order.pop_front();
        }
    }
}

/// Deadlines, earliest first. Removal is lazy: the owner says which entries are still
/// live, and the heap is rebuilt when dead ones outnumber the live.
#[derive(Debug)]
pub(crate) struct Deadlines<K> {
    heap: BinaryHeap<Reverse<(Instant, K)>>,
}

impl<K: Ord + Copy> Default for Deadlines<K> {
    fn default() -> Self {
        Deadlines {
            heap: BinaryHeap::new(),
        }
    }
}

impl<K: Ord + Copy> Deadlines<K> {
    pub(crate) fn push(&mut self, at: Instant, key: K) {
        self.heap.push(Reverse((at, key)));
    }

    pub(crate) fn peek(&self) -> Option<(Instant, K)> {
        self.heap.peek().map(|r| r.0)
    }

    pub(crate) fn pop(&mut self) -> Option<(Instant, K)> {
        self.heap.pop().map(|r| r.0)
    }

    /// Drops dead entries from the top, and rebuilds the heap when it holds more than
    /// twice `live` entries.
    pub(crate) fn clean(&mut self, live: usize, is_live: impl Fn(Instant, K) -> bool) {
        while let Some(Reverse((at, k))) = self.heap.peek() {
            if is_live(*at, *k) {
                break;
            }
            self.heap.pop();
        }
        if self.heap.len() > 2 * live + 64 {
            let old = std::mem::take(&mut self.heap).into_vec();
            self.heap = old
                .into_iter()
                .filter(|Reverse((at, k))| is_live(*at, *k))
                .collect();
        }
    }
}

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
        // The front stays live unless it is the one removed (the front is always live:
        // this keeps it so without a lookup in the usual case).
        if self.order.front() == Some(&id) {
            self.order.pop_front();
            self.trim();
        }
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
/// live, and the entries are rebuilt when dead ones outnumber the live.
///
/// Deadlines nearly always come in time order (one report timeout for every message), so
/// those go to a queue, where adding and taking are O(1); one earlier than the last added
/// goes to a heap. The earliest is the earlier of the two fronts.
#[derive(Debug)]
pub(crate) struct Deadlines<K, T = Instant> {
    queue: VecDeque<(T, K)>,
    heap: BinaryHeap<Reverse<(T, K)>>,
}

impl<K: Ord + Copy, T: Ord + Copy> Default for Deadlines<K, T> {
    fn default() -> Self {
        Deadlines {
            queue: VecDeque::new(),
            heap: BinaryHeap::new(),
        }
    }
}

impl<K: Ord + Copy, T: Ord + Copy> Deadlines<K, T> {
    pub(crate) fn push(&mut self, at: T, key: K) {
        match self.queue.back() {
            Some(&(last, _)) if at < last => self.heap.push(Reverse((at, key))),
            _ => self.queue.push_back((at, key)),
        }
    }

    /// Whether the queue's front is the earliest entry (`None`: there is none).
    fn queue_first(&self) -> Option<bool> {
        match (self.queue.front(), self.heap.peek()) {
            (Some(q), Some(Reverse(h))) => Some(q <= h),
            (Some(_), None) => Some(true),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        }
    }

    pub(crate) fn peek(&self) -> Option<(T, K)> {
        match self.queue_first()? {
            true => self.queue.front().copied(),
            false => self.heap.peek().map(|r| r.0),
        }
    }

    pub(crate) fn pop(&mut self) -> Option<(T, K)> {
        match self.queue_first()? {
            true => self.queue.pop_front(),
            false => self.heap.pop().map(|r| r.0),
        }
    }

    fn len(&self) -> usize {
        self.queue.len() + self.heap.len()
    }

    /// Drops dead entries from the front, and rebuilds when more than twice `live`
    /// entries are held.
    pub(crate) fn clean(&mut self, live: usize, is_live: impl Fn(T, K) -> bool) {
        while let Some((at, k)) = self.peek() {
            if is_live(at, k) {
                break;
            }
            self.pop();
        }
        if self.len() > 2 * live + 64 {
            self.queue.retain(|&(at, k)| is_live(at, k));
            let old = std::mem::take(&mut self.heap).into_vec();
            self.heap = old
                .into_iter()
                .filter(|Reverse((at, k))| is_live(*at, *k))
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The oldest entry is always the smallest id still there, whatever order entries
        /// are removed in (and ids removed twice or never added change nothing).
        #[test]
        fn the_oldest_is_the_smallest_id_left(
            n in 0u64..300,
            removals in proptest::collection::vec(0u64..320, 0..400),
        ) {
            let mut o = Ordered::default();
            for id in 1..=n {
                o.insert(id, id * 10);
            }
            let mut left: std::collections::BTreeSet<u64> = (1..=n).collect();
            for r in removals {
                prop_assert_eq!(o.remove(r), left.take(&r).map(|id| id * 10));
                prop_assert_eq!(o.oldest(), left.first().copied());
                prop_assert_eq!(o.len(), left.len());
            }
        }

        /// Deadlines come out in time order, whatever order they went in, and the clean-up
        /// keeps exactly the live ones.
        #[test]
        fn deadlines_come_out_earliest_first(
            offsets in proptest::collection::vec(0u64..50, 0..200),
            dead in proptest::collection::vec(any::<bool>(), 200),
        ) {
            // Times as plain numbers: the order is all that matters here.
            let mut d = Deadlines::<usize, u64>::default();
            for (k, &o) in offsets.iter().enumerate() {
                d.push(o, k);
            }
            let is_live = |_: u64, k: usize| !dead[k];
            d.clean(0, is_live);
            let mut out = Vec::new();
            while let Some((at, k)) = d.pop() {
                if is_live(at, k) {
                    out.push((at, k));
                }
            }
            let mut want: Vec<(u64, usize)> = offsets
                .iter()
                .enumerate()
                .filter(|&(k, _)| !dead[k])
                .map(|(k, &o)| (o, k))
                .collect();
            want.sort_by_key(|&(at, _)| at);
            let times = |v: &[(u64, usize)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
            prop_assert_eq!(times(&out), times(&want));
            let mut got_keys: Vec<usize> = out.iter().map(|p| p.1).collect();
            let mut want_keys: Vec<usize> = want.iter().map(|p| p.1).collect();
            got_keys.sort_unstable();
            want_keys.sort_unstable();
            prop_assert_eq!(got_keys, want_keys);
        }
    }
}

//! The tracker's containers: entries by an increasing id with the oldest at hand, and
//! deadlines, both without a node allocation per entry in the usual case (B-tree versions
//! allocated and freed nodes all the time, which slowed every other allocation of the
//! process; only entries that outlive many newer ones go to a B-tree now).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::time::Instant;

/// Entries keyed by ids handed out in increasing order (one apart, nearly always).
///
/// Recent entries sit in a window indexed by id, so a lookup is an index, not a hash, and
/// entries made one after the other lie one after the other in memory (the tracker looks
/// them up in about the order they came, often on another thread than the one that made
/// them). The window is kept dense: when it holds more than twice as many slots as live
/// entries (plus a margin), its oldest entries move to an ordered map, where an entry that
/// outlives many newer ones (a message whose receipt never comes) waits out its time.
#[derive(Debug)]
pub(crate) struct Ordered<T> {
    /// Slot `i` holds id `base + i`, `None` once removed; the front slot is live.
    recent: VecDeque<Option<T>>,
    base: u64,
    /// Live entries in `recent`.
    recent_live: usize,
    /// Entries older than `base`, moved out of the window.
    old: BTreeMap<u64, T>,
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered {
            recent: VecDeque::new(),
            base: 0,
            recent_live: 0,
            old: BTreeMap::new(),
        }
    }
}

/// Free slots the window may hold beyond as many as its live entries.
const SLACK: usize = 64;

impl<T> Ordered<T> {
    pub(crate) fn len(&self) -> usize {
        self.recent_live + self.old.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an entry (or replaces the entry of `id`). Fast when `id` is larger than every
    /// id added before, as the tracker's are; any other id is kept correctly all the same.
    pub(crate) fn insert(&mut self, id: u64, value: T) {
        let end = self.base + self.recent.len() as u64;
        if self.recent.is_empty() && self.old.last_key_value().is_none_or(|(&l, _)| l < id) {
            self.base = id;
        } else if id < self.base {
            self.old.insert(id, value);
            return;
        } else if id < end {
            // Inside the window (never its front, which is live).
            let slot = &mut self.recent[(id - self.base) as usize];
            if slot.is_none() {
                self.recent_live += 1;
            }
            *slot = Some(value);
            return;
        } else if id - end > (self.recent_live + SLACK) as u64 {
            // A gap wider than the window may waste: the live entries move out first.
            self.move_out(self.recent.len());
            self.base = id;
        } else {
            for _ in end..id {
                self.recent.push_back(None);
            }
        }
        self.recent.push_back(Some(value));
        self.recent_live += 1;
        self.compact();
    }

    /// The slot of `id` in the window, if the window covers it.
    fn slot(&self, id: u64) -> Option<usize> {
        let i = usize::try_from(id.checked_sub(self.base)?).ok()?;
        (i < self.recent.len()).then_some(i)
    }

    pub(crate) fn get(&self, id: u64) -> Option<&T> {
        match self.slot(id) {
            Some(i) => self.recent[i].as_ref(),
            None => self.old.get(&id),
        }
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        match self.slot(id) {
            Some(i) => self.recent[i].as_mut(),
            None => self.old.get_mut(&id),
        }
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<T> {
        let Some(i) = self.slot(id) else {
            return self.old.remove(&id);
        };
        let v = self.recent[i].take()?;
        self.recent_live -= 1;
        if i == 0 {
            self.trim();
        }
        self.compact();
        Some(v)
    }

    /// Keeps the window at most twice as long as its live entries, plus [`SLACK`].
    fn compact(&mut self) {
        let most = 2 * self.recent_live + SLACK;
        if self.recent.len() > most {
            self.move_out(self.recent.len() - most);
        }
    }

    /// The oldest entry's id.
    pub(crate) fn oldest(&self) -> Option<u64> {
        match self.old.first_key_value() {
            Some((&id, _)) => Some(id),
            None => (!self.recent.is_empty()).then_some(self.base),
        }
    }

    /// Moves the window's first `n` slots out (their live entries to the ordered map).
    fn move_out(&mut self, n: usize) {
        for _ in 0..n {
            let Some(slot) = self.recent.pop_front() else {
                break;
            };
            if let Some(v) = slot {
                self.old.insert(self.base, v);
                self.recent_live -= 1;
            }
            self.base += 1;
        }
        self.trim();
    }

    /// Drops removed slots from the front, so that the front is live.
    fn trim(&mut self) {
        while let Some(None) = self.recent.front() {
            self.recent.pop_front();
            self.base += 1;
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

        /// Entries added and removed in any mix (some living long, ids sometimes skipped)
        /// are found exactly as a plain ordered map finds them, and the window stays
        /// bounded by the live entries.
        #[test]
        fn entries_are_found_as_in_an_ordered_map(
            ops in proptest::collection::vec((0u8..10, 0u64..1_000, 0u64..200), 0..1_500),
        ) {
            let mut o = Ordered::default();
            let mut model = std::collections::BTreeMap::new();
            let mut next = 1u64;
            for (op, pick, skip) in ops {
                if op < 5 {
                    // Nearly always the next id; now and then a gap, small or wide, and
                    // now and then an id seen before or skipped (the tracker never does
                    // that, but the container must stay right).
                    let id = match skip {
                        0..=2 => next.saturating_sub(1 + pick % 100),
                        191.. => next + skip * 10,
                        _ => next + skip / 150,
                    };
                    let v = id * 3 + pick;
                    o.insert(id, v);
                    model.insert(id, v);
                    next = next.max(id + 1);
                } else {
                    // The oldest, a recent one, or any id at all.
                    let id = match op {
                        5 => model.keys().next().copied().unwrap_or(0),
                        6..=8 => next.saturating_sub(1 + pick % 64),
                        _ => pick * next / 1_000,
                    };
                    prop_assert_eq!(o.remove(id), model.remove(&id));
                }
                prop_assert_eq!(o.len(), model.len());
                prop_assert_eq!(o.oldest(), model.keys().next().copied());
                let probe = next.saturating_sub(1 + pick % 300);
                prop_assert_eq!(o.get(probe), model.get(&probe));
                prop_assert!(o.recent.len() <= 2 * o.recent_live + SLACK);
                prop_assert!(o.recent.front().is_none_or(Option::is_some));
            }
            for (id, v) in &model {
                prop_assert_eq!(o.get_mut(*id), Some(&mut v.clone()));
            }
            // Emptied oldest first, as the tracker's expiry does, it gives every entry.
            while let Some(id) = o.oldest() {
                prop_assert_eq!(o.remove(id), model.remove(&id));
            }
            prop_assert!(model.is_empty() && o.is_empty());
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

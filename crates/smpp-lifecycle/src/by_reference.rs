//! Tracked messages by reference, keyed by the reference's hash.
//!
//! The string is hashed once, when the message is submitted; the message keeps the hash,
//! and taking it out of the index at its report needs neither the string nor its octets
//! (they were written by the submitting thread, and reading them on the thread that gets
//! the receipts cost a cache miss). A lookup compares the reference only with the
//! messages under its hash, which the caller checks.

use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, BuildHasherDefault};

use crate::hash::{FastMap, FxHasher};

/// Message ids by their reference's hash.
#[derive(Debug, Default)]
pub(crate) struct ByReference {
    /// A hash -> the first message whose reference has it.
    first: FastMap<u64, u64>,
    /// A hash -> the other messages whose references have it (two references with one
    /// 64-bit hash: almost never).
    more: FastMap<u64, Vec<u64>>,
}

impl ByReference {
    /// The hash a reference is indexed under.
    pub(crate) fn hash(reference: &str) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(reference)
    }

    /// The messages whose references have hash `h`: candidates, for the caller to
    /// compare.
    pub(crate) fn candidates(&self, h: u64) -> impl Iterator<Item = u64> + '_ {
        let more = self.more.get(&h).map_or(&[][..], Vec::as_slice);
        self.first
            .get(&h)
            .copied()
            .into_iter()
            .chain(more.iter().copied())
    }

    pub(crate) fn insert(&mut self, h: u64, id: u64) {
        match self.first.entry(h) {
            Entry::Vacant(v) => {
                v.insert(id);
            }
            Entry::Occupied(_) => {
                self.more.entry(h).or_default().push(id);
            }
        }
    }

    pub(crate) fn remove(&mut self, h: u64, id: u64) {
        if self.more.is_empty() {
            // The usual case: one message per hash, one probe.
            if let Entry::Occupied(e) = self.first.entry(h) {
                if *e.get() == id {
                    e.remove();
                }
            }
            return;
        }
        if self.first.get(&h) == Some(&id) {
            // One of the others under this hash (if any) comes first now.
            let next = self.more.get_mut(&h).and_then(Vec::pop);
            if self.more.get(&h).is_some_and(Vec::is_empty) {
                self.more.remove(&h);
            }
            match next {
                Some(n) => {
                    self.first.insert(h, n);
                }
                None => {
                    self.first.remove(&h);
                }
            }
        } else if let Some(v) = self.more.get_mut(&h) {
            v.retain(|&x| x != id);
            if v.is_empty() {
                self.more.remove(&h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_sharing_a_hash_are_all_found_and_removed_one_by_one() {
        let mut b = ByReference::default();
        // Three messages under one hash (as if their references collided), one under another.
        for id in [1, 2, 3] {
            b.insert(7, id);
        }
        b.insert(8, 4);
        let ids = |b: &ByReference, h| {
            let mut v: Vec<u64> = b.candidates(h).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(ids(&b, 7), [1, 2, 3]);
        assert_eq!(ids(&b, 8), [4]);
        b.remove(7, 1);
        assert_eq!(ids(&b, 7), [2, 3]);
        b.remove(7, 3);
        assert_eq!(ids(&b, 7), [2]);
        b.remove(7, 9);
        assert_eq!(ids(&b, 7), [2]);
        b.remove(7, 2);
        assert!(ids(&b, 7).is_empty());
        assert!(b.first.len() == 1 && b.more.is_empty());
        // With no shared hash left: the usual path takes out only the message named.
        b.remove(8, 5);
        assert_eq!(ids(&b, 8), [4]);
        b.remove(8, 4);
        assert!(ids(&b, 8).is_empty() && b.first.is_empty());
    }
}

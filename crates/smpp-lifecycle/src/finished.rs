//! Fingerprints of finished messages' ids, so that a repeated receipt is told from an
//! unknown one.
//!
//! Every finished segment writes one fingerprint and most trackers never look one up (a
//! lookup is for a receipt that matched nothing). So writing is an append to a ring, one
//! after the other in memory; the direct-mapped table that answers lookups is brought up
//! to date from the ring only when a lookup comes. A table written at each finish cost a
//! cache miss per message (a random slot in half a mebibyte).

/// The last fingerprints written, and a table of them for lookups.
#[derive(Debug, Default)]
pub(crate) struct Finished {
    /// Slots in the ring and in the table: a power of two, 0 when nothing is remembered.
    slots: usize,
    /// The ring: fingerprint `i` (counting from 0) is at `i % slots`.
    log: Vec<u64>,
    /// Fingerprints written so far.
    written: u64,
    /// The table, by a fingerprint's low bits (a newer one takes an older one's place);
    /// 0 for an empty slot.
    table: Vec<u64>,
    /// Fingerprints of the ring in the table (the first `indexed` written).
    indexed: u64,
}

impl Finished {
    /// Remembers about `n` fingerprints (rounded up to a power of two; 0: none).
    pub(crate) fn new(n: usize) -> Finished {
        Finished {
            slots: if n == 0 { 0 } else { n.next_power_of_two() },
            ..Finished::default()
        }
    }

    /// Remembers a fingerprint (never 0).
    pub(crate) fn remember(&mut self, fp: u64) {
        if self.slots == 0 {
            return;
        }
        if self.log.is_empty() {
            self.log = vec![0; self.slots];
        }
        let i = (self.written as usize) & (self.slots - 1);
        self.log[i] = fp;
        self.written += 1;
    }

    /// Brings the table up to date with the ring: call it before [`Finished::contains`].
    pub(crate) fn catch_up(&mut self) {
        if self.written == self.indexed {
            return;
        }
        if self.table.is_empty() {
            self.table = vec![0; self.slots];
        }
        let mask = self.slots - 1;
        // What the ring still holds of what was written since the last catch-up.
        let from = self
            .indexed
            .max(self.written.saturating_sub(self.slots as u64));
        for i in from..self.written {
            let f = self.log[(i as usize) & mask];
            self.table[(f as usize) & mask] = f;
        }
        self.indexed = self.written;
    }

    /// Whether a fingerprint was remembered, as of the last [`Finished::catch_up`] (as far
    /// as the table keeps them: the last `slots` written, less those a newer one pushed out
    /// of their slot).
    pub(crate) fn contains(&self, fp: u64) -> bool {
        !self.table.is_empty() && self.table[(fp as usize) & (self.slots - 1)] == fp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Looks up after a catch-up, as the tracker does.
    fn has(f: &mut Finished, fp: u64) -> bool {
        f.catch_up();
        f.contains(fp)
    }

    #[test]
    fn the_last_fingerprints_written_are_found_and_older_ones_make_room() {
        let mut f = Finished::new(8);
        assert!(!has(&mut f, 3));
        // Fingerprints with distinct low bits, so no two share a slot.
        for fp in [1, 2, 3] {
            f.remember(fp);
        }
        assert!(has(&mut f, 1) && has(&mut f, 3));
        assert!(!has(&mut f, 4));
        // Written after a lookup: found at the next one.
        f.remember(4);
        assert!(has(&mut f, 4));
        // 17 shares 1's slot: the newer takes it.
        f.remember(17);
        assert!(has(&mut f, 17) && !has(&mut f, 1));
        // Twenty more: only what the ring still holds is taken in (the last 8).
        for fp in 100..120 {
            f.remember(fp);
        }
        assert!((112..120).all(|fp| has(&mut f, fp)));
        assert!(!has(&mut f, 100), "not among the last 8 written");
    }

    #[test]
    fn nothing_is_remembered_with_no_slots() {
        let mut f = Finished::new(0);
        f.remember(5);
        assert!(!has(&mut f, 5));
    }
}

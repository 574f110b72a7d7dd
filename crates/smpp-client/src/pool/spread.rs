//! Which account takes the next message: smooth weighted round robin over the accounts
//! that can take one now. No clock, no I/O; tested alone. Public so that every pool (this
//! crate's, `smpp-tokio`'s) picks by the same rule.

/// Smooth weighted round robin: over any run of picks among the same candidates, each
/// takes a share of picks proportional to its weight, interleaved rather than in blocks
/// (weights 2 and 1 give A, B, A, A, B, A, ...), and an account that cannot take a message
/// (down, or its queue full) is skipped without losing its place.
#[derive(Clone, Debug)]
pub struct Spread {
    weights: Vec<i64>,
    current: Vec<i64>,
}

impl Spread {
    /// Accounts with these weights (a weight of 0 counts as 1).
    pub fn new(weights: impl IntoIterator<Item = u32>) -> Spread {
        let weights: Vec<i64> = weights.into_iter().map(|w| i64::from(w.max(1))).collect();
        let current = vec![0; weights.len()];
        Spread { weights, current }
    }

    /// The next account among those `can_take` says yes to, or `None` when none can.
    pub fn pick(&mut self, can_take: impl Fn(usize) -> bool) -> Option<usize> {
        let mut total = 0;
        let mut best: Option<usize> = None;
        for i in 0..self.weights.len() {
            if !can_take(i) {
                continue;
            }
            self.current[i] += self.weights[i];
            total += self.weights[i];
            if best.is_none_or(|b| self.current[i] > self.current[b]) {
                best = Some(i);
            }
        }
        let b = best?;
        self.current[b] -= total;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_follow_the_weights_interleaved() {
        let mut s = Spread::new([2, 1]);
        let picks: Vec<usize> = (0..6).filter_map(|_| s.pick(|_| true)).collect();
        assert_eq!(picks, [0, 1, 0, 0, 1, 0]);
        let mut s = Spread::new([5, 3, 2]);
        let mut n = [0; 3];
        for _ in 0..1000 {
            n[s.pick(|_| true).unwrap_or(9)] += 1;
        }
        assert_eq!(n, [500, 300, 200]);
    }

    #[test]
    fn an_account_that_cannot_take_is_skipped_and_the_rest_keep_their_shares() {
        let mut s = Spread::new([1, 1, 2]);
        let mut n = [0i32; 3];
        for k in 0..400 {
            // Account 1 is down for the second half.
            let i = s.pick(|i| i != 1 || k < 200).unwrap_or(9);
            n[i] += 1;
        }
        assert_eq!(n[1], 50);
        assert_eq!(n[0] + n[2], 350);
        assert!((n[2] - 2 * n[0]).abs() <= 2, "{n:?}");
        assert_eq!(s.pick(|_| false), None);
        assert_eq!(Spread::new([]).pick(|_| true), None);
    }
}

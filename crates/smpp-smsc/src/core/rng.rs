//! The SMSC's pseudo-random numbers: a splitmix64 seeded by [`crate::SmscConfig::seed`],
//! so every draw (final states, receipt delays, UUID message ids) is reproducible. No
//! wall-clock or OS randomness.

use std::time::Duration;

use crate::ReceiptDelay;

/// The splitmix64 increment (an odd number: `n * GAMMA` is a bijection of `n`).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// Keeps the UUID stream apart from the generator's stream of the same seed.
const UUID_KEY: u64 = 0x5EED_0F1D_5EED_0F1D;

/// The splitmix64 finaliser, a bijection of `u64`.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A splitmix64 generator.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// A number in `0..n` (`n` > 0; the bias, `n / 2^64`, is negligible).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// One of `items` with probability proportional to its weight; `None` when the weights
    /// add up to 0.
    pub(crate) fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> Option<&'a T> {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        if total == 0 {
            return None;
        }
        let mut r = self.below(total);
        for (item, w) in items {
            let w = u64::from(*w);
            if r < w {
                return Some(item);
            }
            r -= w;
        }
        None
    }

    /// A delay drawn from `dist`.
    pub(crate) fn delay(&mut self, dist: ReceiptDelay) -> Duration {
        match dist {
            ReceiptDelay::Fixed(d) => d,
            ReceiptDelay::Uniform { min, max } => {
                let (lo, hi) = if max < min { (max, min) } else { (min, max) };
                let span = u64::try_from((hi - lo).as_nanos()).unwrap_or(u64::MAX);
                lo + Duration::from_nanos(self.below(span.saturating_add(1)))
            }
            ReceiptDelay::Exponential { mean, cap } => {
                let secs = -mean.as_secs_f64() * self.unit().ln();
                if secs.is_finite() && secs < cap.as_secs_f64() {
                    Duration::from_secs_f64(secs.max(0.0)).min(cap)
                } else {
                    cap
                }
            }
        }
    }
}

/// The version-4-shaped UUID of message number `n` under `seed` (see
/// [`crate::IdFormat::Uuid`]): 64 of its 122 free bits are a bijection of `n`, so ids of
/// distinct numbers differ.
pub(crate) fn uuid(seed: u64, n: u64) -> String {
    let a = mix((seed ^ UUID_KEY).wrapping_add(n.wrapping_mul(GAMMA)));
    let b = mix(a ^ seed.rotate_left(29) ^ GAMMA);
    // The 122 free bits: all of `a`, then the top 58 bits of `b`.
    let v = (u128::from(a) << 58) | u128::from(b >> 6);
    let high = v >> 74; // 48 bits
    let mid = (v >> 62) & 0xFFF; // 12 bits
    let low = v & ((1u128 << 62) - 1); // 62 bits
    let u = (high << 80) | (0x4 << 76) | (mid << 64) | (0b10 << 62) | low;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (u >> 96) as u32,
        (u >> 80) as u16,
        (u >> 64) as u16,
        (u >> 48) as u16,
        u & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape_and_bijection() {
        let a = uuid(7, 1);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_ne!(uuid(7, 1), uuid(7, 2));
        assert_ne!(uuid(7, 1), uuid(8, 1));
        assert_eq!(uuid(7, 1), a);
    }

    #[test]
    fn uniform_bounds_and_weights() {
        let mut r = SplitMix64::new(1);
        for _ in 0..1000 {
            let d = r.delay(ReceiptDelay::Uniform {
                min: Duration::from_millis(10),
                max: Duration::from_millis(20),
            });
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
        }
        assert_eq!(r.weighted::<u8>(&[(1, 0), (2, 0)]), None);
        assert_eq!(r.weighted(&[(1u8, 0), (2, 5)]), Some(&2));
    }
}

//! The rate cap: evenly spaced sends at most `cap` per second, shared by every bind of an
//! account, lowered for a while when the SMSC says it is throttling. No clock of its own:
//! `now` is passed in, so the rules are tested on a virtual clock.

use std::time::{Duration, Instant};

/// The lowest the rate goes under throttling, as a share of the cap.
const FLOOR: f64 = 1.0 / 16.0;
/// After a cut, how long before the rate climbs again, and between steps up.
const CALM: Duration = Duration::from_secs(1);
/// Each step up (a second without a throttling answer) multiplies the rate by this.
const STEP_UP: f64 = 1.25;

/// Evenly spaced sends: each one reserves the next slot, `1 / rate` after the previous
/// one, so no second (whatever its start) holds more than `rate + 1` sends.
///
/// A throttling answer (`ESME_RTHROTTLED`, `ESME_RMSGQFUL`) halves the rate (at most once
/// per second, so that a window's worth of throttled answers to one burst counts once, and
/// never below a sixteenth of the cap); each second without one raises it by a quarter,
/// back up to the cap.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    cap: f64,
    current: f64,
    next: Instant,
    /// When the rate was last cut.
    cut: Option<Instant>,
    /// While below the cap: when it last changed (the next step up is a calm second later).
    stepped: Option<Instant>,
}

impl RateLimiter {
    pub(crate) fn new(per_second: f64, now: Instant) -> RateLimiter {
        let cap = if per_second.is_finite() && per_second > 0.0 {
            per_second
        } else {
            1e-9
        };
        RateLimiter {
            cap,
            current: cap,
            next: now,
            cut: None,
            stepped: None,
        }
    }

    /// Reserves the next slot: how long to wait from `now` before sending.
    pub(crate) fn reserve(&mut self, now: Instant) -> Duration {
        self.recover(now);
        let start = self.next.max(now);
        self.next = start + Duration::from_secs_f64(1.0 / self.current);
        start - now
    }

    /// When the next send may go (the next free slot; in the past when one may go now).
    pub(crate) fn next_slot(&self) -> Instant {
        self.next
    }

    /// The SMSC answered a throttling status at `now`.
    pub(crate) fn throttled(&mut self, now: Instant) {
        if self
            .cut
            .is_some_and(|c| now.saturating_duration_since(c) < CALM)
        {
            return;
        }
        self.recover(now);
        self.current = (self.current / 2.0).max(self.cap * FLOOR);
        self.cut = Some(now);
        self.stepped = Some(now);
        log::warn!(
            "throttled: rate lowered to {:.1}/s (cap {:.1}/s)",
            self.current,
            self.cap
        );
    }

    /// The rate allowed now (sends per second).
    pub(crate) fn current(&mut self, now: Instant) -> f64 {
        self.recover(now);
        self.current
    }

    /// The rate allowed at `now`, without recording the recovery (for counters read
    /// through a shared reference).
    pub(crate) fn current_at(&self, now: Instant) -> f64 {
        let mut copy = RateLimiter {
            cap: self.cap,
            current: self.current,
            next: self.next,
            cut: self.cut,
            stepped: self.stepped,
        };
        copy.current(now)
    }

    /// The configured cap.
    pub(crate) fn cap(&self) -> f64 {
        self.cap
    }

    fn recover(&mut self, now: Instant) {
        let Some(mut at) = self.stepped else {
            return;
        };
        while self.current < self.cap && now.saturating_duration_since(at) >= CALM {
            at += CALM;
            self.current = (self.current * STEP_UP).min(self.cap);
        }
        self.stepped = (self.current < self.cap).then_some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends as fast as allowed from `t0` for `secs`, returning each send's time.
    fn run(r: &mut RateLimiter, t0: Instant, secs: f64) -> Vec<Instant> {
        let mut now = t0;
        let mut sent = Vec::new();
        while now < t0 + Duration::from_secs_f64(secs) {
            now += r.reserve(now);
            sent.push(now);
        }
        sent
    }

    #[test]
    fn no_second_holds_more_than_the_cap_and_one() {
        let t0 = Instant::now();
        let mut r = RateLimiter::new(100.0, t0);
        let sent = run(&mut r, t0, 5.0);
        for (i, a) in sent.iter().enumerate() {
            let in_second = sent[i..]
                .iter()
                .take_while(|b| b.duration_since(*a) < Duration::from_secs(1))
                .count();
            assert!(
                in_second <= 101,
                "{in_second} sends in the second from #{i}"
            );
        }
        assert!(sent.len() >= 499 && sent.len() <= 501, "{}", sent.len());
    }

    #[test]
    fn throttling_halves_once_per_second_then_climbs_back_to_the_cap() {
        let t0 = Instant::now();
        let mut r = RateLimiter::new(400.0, t0);
        r.throttled(t0);
        // A window's worth of throttled answers to the same burst counts once.
        for i in 0..50 {
            r.throttled(t0 + Duration::from_millis(i));
        }
        assert_eq!(r.current(t0), 200.0);
        // A calm second (one step up, to 250), then a cut.
        r.throttled(t0 + Duration::from_millis(1500));
        assert_eq!(r.current(t0 + Duration::from_millis(1500)), 125.0);
        // Never below a sixteenth of the cap.
        for s in 3..20 {
            r.throttled(t0 + Duration::from_secs(s * 2));
        }
        let low = t0 + Duration::from_secs(38);
        assert_eq!(r.current(low), 25.0);
        // A quarter more per calm second, up to the cap and no further.
        assert_eq!(r.current(low + Duration::from_secs(1)), 31.25);
        assert_eq!(r.current(low + Duration::from_secs(60)), 400.0);
        let sent = run(&mut r, low + Duration::from_secs(60), 1.0);
        assert!(sent.len() <= 401, "{}", sent.len());
    }

    #[test]
    fn a_bad_cap_does_not_panic() {
        let t0 = Instant::now();
        for cap in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut r = RateLimiter::new(cap, t0);
            let _ = r.reserve(t0);
            r.throttled(t0);
            let _ = r.reserve(t0);
        }
    }
}

//! Counters a session keeps about its own traffic: PDUs per command and status in each
//! direction, timeouts, failures, unexpected responses, requests it refused by itself, and
//! a histogram of response latencies. Cheap enough to stay on: a few additions per PDU.

use std::time::Duration;

use smpp_pdu::{CommandId, CommandStatus};

/// How many PDUs of one `command_id` with one `command_status` went one way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    /// The PDUs' `command_id`.
    pub command_id: CommandId,
    /// Their `command_status` (always `ESME_ROK` for requests).
    pub command_status: CommandStatus,
    /// How many.
    pub count: u64,
}

/// Counters of PDUs per (`command_id`, `command_status`), in the order first seen.
///
/// A session sees a handful of distinct pairs, so this is a short list searched linearly,
/// starting with the pair counted last (traffic comes in runs of the same kind).
#[derive(Debug, Default, Eq)]
pub struct Counters {
    entries: Vec<Counter>,
    /// Index of the entry counted last.
    last: usize,
}

impl PartialEq for Counters {
    /// Equal when they hold the same counters in the same order.
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Clone for Counters {
    fn clone(&self) -> Self {
        Counters {
            entries: self.entries.clone(),
            last: self.last,
        }
    }

    /// Reuses this value's allocation.
    fn clone_from(&mut self, source: &Self) {
        self.entries.clone_from(&source.entries);
        self.last = source.last;
    }
}

impl Counters {
    /// Counts one PDU.
    #[inline]
    pub fn add(&mut self, command_id: CommandId, command_status: CommandStatus) {
        self.add_n(command_id, command_status, 1);
    }

    /// Counts `n` PDUs.
    #[inline]
    pub fn add_n(&mut self, command_id: CommandId, command_status: CommandStatus, n: u64) {
        if let Some(e) = self.entries.get_mut(self.last) {
            if e.command_id == command_id && e.command_status == command_status {
                e.count += n;
                return;
            }
        }
        self.add_slow(command_id, command_status, n);
    }

    fn add_slow(&mut self, command_id: CommandId, command_status: CommandStatus, n: u64) {
        for (i, e) in self.entries.iter_mut().enumerate() {
            if e.command_id == command_id && e.command_status == command_status {
                e.count += n;
                self.last = i;
                return;
            }
        }
        self.last = self.entries.len();
        self.entries.push(Counter {
            command_id,
            command_status,
            count: n,
        });
    }

    /// Every counter, in the order first seen.
    pub fn iter(&self) -> impl Iterator<Item = &Counter> + '_ {
        self.entries.iter()
    }

    /// PDUs of `command_id`, whatever their status.
    pub fn count(&self, command_id: CommandId) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.command_id == command_id)
            .map(|e| e.count)
            .sum()
    }

    /// PDUs of `command_id` with `command_status`.
    pub fn count_status(&self, command_id: CommandId, command_status: CommandStatus) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.command_id == command_id && e.command_status == command_status)
            .map(|e| e.count)
            .sum()
    }

    /// All PDUs counted.
    pub fn total(&self) -> u64 {
        self.entries.iter().map(|e| e.count).sum()
    }

    /// Adds every counter of `other` to this one.
    pub fn merge(&mut self, other: &Counters) {
        for e in &other.entries {
            self.add_n(e.command_id, e.command_status, e.count);
        }
    }
}

/// Number of buckets of a [`Histogram`].
pub const HISTOGRAM_BUCKETS: usize = 40;

/// A histogram of durations in power-of-two buckets of microseconds: bucket 0 holds
/// durations under 1 µs, bucket `i` (1..39) those from 2^(i-1) µs up to (not including)
/// 2^i µs, the last one everything longer. Quantiles are read as the upper bound of the
/// bucket they fall in, so they overstate by at most a factor of two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    buckets: [u64; HISTOGRAM_BUCKETS],
    count: u64,
    sum_micros: u64,
    max_micros: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: [0; HISTOGRAM_BUCKETS],
            count: 0,
            sum_micros: 0,
            max_micros: 0,
        }
    }
}

impl Histogram {
    /// Records one duration.
    #[inline]
    pub fn record(&mut self, d: Duration) {
        // Not `as_micros`: its u128 arithmetic costs a division call per record.
        let us = d
            .as_secs()
            .saturating_mul(1_000_000)
            .saturating_add(u64::from(d.subsec_micros()));
        let i = (64 - us.leading_zeros() as usize).min(HISTOGRAM_BUCKETS - 1);
        self.buckets[i] += 1;
        self.count += 1;
        self.sum_micros = self.sum_micros.saturating_add(us);
        self.max_micros = self.max_micros.max(us);
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The buckets' counts (see the type's documentation for their bounds).
    pub fn buckets(&self) -> &[u64; HISTOGRAM_BUCKETS] {
        &self.buckets
    }

    /// The upper bound of bucket `i`.
    pub fn bucket_upper_bound(i: usize) -> Duration {
        if i >= HISTOGRAM_BUCKETS - 1 {
            Duration::MAX
        } else {
            Duration::from_micros(1u64 << i)
        }
    }

    /// The mean, or `None` if nothing was recorded.
    pub fn mean(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_micros(self.sum_micros / self.count))
    }

    /// The longest duration recorded (to the microsecond), or `None`.
    pub fn max(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_micros(self.max_micros))
    }

    /// The `q` quantile (0.0 to 1.0) as the upper bound of its bucket, capped at the
    /// maximum recorded; `None` if nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let max = Duration::from_micros(self.max_micros);
                return Some(Self::bucket_upper_bound(i).min(max));
            }
        }
        self.max()
    }

    /// Adds every recording of `other` to this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.count += other.count;
        self.sum_micros = self.sum_micros.saturating_add(other.sum_micros);
        self.max_micros = self.max_micros.max(other.max_micros);
    }
}

/// What a session counted about its traffic; read with [`crate::Session::stats`].
///
/// `sent` and `received` count PDUs by `command_id` and `command_status` (a response's
/// status, `ESME_ROK` for requests), the session's own ones included (`enquire_link`, its
/// answers to wrong-state or malformed requests, `generic_nack`). The other counters count
/// resolutions and refusals as the events report them.
#[derive(Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// PDUs written, per command and status.
    pub sent: Counters,
    /// PDUs received with a readable header, per command and status.
    pub received: Counters,
    /// Our requests that got no response in time ([`crate::Event::ResponseTimeout`]).
    pub response_timeouts: u64,
    /// Our requests that failed without a response ([`crate::Event::RequestFailed`]).
    pub requests_failed: u64,
    /// Responses that matched no request in flight ([`crate::Event::UnexpectedResponse`]).
    pub unexpected_responses: u64,
    /// Inbound requests the session refused by itself ([`crate::Event::Rejected`]).
    pub rejected_requests: u64,
    /// Application requests in flight when the snapshot was taken (what the window counts).
    pub in_flight: u64,
    /// Inbound requests waiting for the application's response at the snapshot.
    pub inbound_pending: u64,
    /// Time from sending each request of ours to its response, for every request that got
    /// one (keep-alives and binds included).
    pub response_latency: Histogram,
}

impl Clone for Stats {
    fn clone(&self) -> Self {
        let mut s = Stats::default();
        s.clone_from(self);
        s
    }

    /// Reuses this value's allocations.
    fn clone_from(&mut self, source: &Self) {
        self.sent.clone_from(&source.sent);
        self.received.clone_from(&source.received);
        self.response_timeouts = source.response_timeouts;
        self.requests_failed = source.requests_failed;
        self.unexpected_responses = source.unexpected_responses;
        self.rejected_requests = source.rejected_requests;
        self.in_flight = source.in_flight;
        self.inbound_pending = source.inbound_pending;
        self.response_latency.clone_from(&source.response_latency);
    }
}

impl Stats {
    /// `generic_nack`s we sent.
    pub fn generic_nacks_sent(&self) -> u64 {
        self.sent.count(CommandId::GENERIC_NACK)
    }

    /// `generic_nack`s we received.
    pub fn generic_nacks_received(&self) -> u64 {
        self.received.count(CommandId::GENERIC_NACK)
    }

    /// Adds `other`'s counters to these (gauges add up too), to total several sessions.
    pub fn merge(&mut self, other: &Stats) {
        self.sent.merge(&other.sent);
        self.received.merge(&other.received);
        self.response_timeouts += other.response_timeouts;
        self.requests_failed += other.requests_failed;
        self.unexpected_responses += other.unexpected_responses;
        self.rejected_requests += other.rejected_requests;
        self.in_flight += other.in_flight;
        self.inbound_pending += other.inbound_pending;
        self.response_latency.merge(&other.response_latency);
    }
}

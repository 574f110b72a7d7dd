//! How a client connects, binds and behaves: [`ClientConfig`], [`Backoff`],
//! [`ThrottlePolicy`].

use std::time::Duration;

use smpp_lifecycle::LifecycleConfig;

use crate::store::StoreHandle;
use smpp_pdu::address::{Npi, Ton};
use smpp_pdu::text::TextConfig;
use smpp_session::{BindKind, BindRequest};

#[cfg(feature = "tls-core")]
use crate::TlsClientConfig;

/// Exponential backoff: `initial`, then times `factor` up to `max`, each delay shortened
/// by a random part of up to `jitter` of it, so that many clients cut off at once do not
/// come back in step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Growth per attempt.
    pub factor: f64,
    /// Fraction of each delay that is random, 0 to 1 (0.2 by default): a delay `d` becomes
    /// one between `d × (1 − jitter)` and `d`, never longer.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The delay before attempt `n` (0-based), without jitter.
    pub fn delay(&self, n: u32) -> Duration {
        let d = self.initial.as_secs_f64() * self.factor.powi(n.min(64) as i32);
        Duration::from_secs_f64(d.min(self.max.as_secs_f64()).max(0.0))
    }

    /// The delay before attempt `n` with jitter, for a random `unit` in `[0, 1)`: the
    /// plain [`Backoff::delay`] shortened by `unit × jitter` of it. Deterministic in its
    /// arguments; the client draws `unit` itself.
    pub fn delay_with_jitter(&self, n: u32, unit: f64) -> Duration {
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.delay(n).mul_f64(1.0 - jitter * unit)
    }
}

/// A small xorshift generator for backoff jitter: not for anything that needs real
/// randomness, and no dependency for it.
#[derive(Debug)]
pub(crate) struct Jitter(std::sync::atomic::AtomicU64);

impl Jitter {
    /// Seeded from the standard library's per-process random hash keys and the clock, so
    /// clients in different processes (and in one process) draw differently.
    pub(crate) fn new() -> Jitter {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(t.as_nanos());
        }
        Jitter::seeded(h.finish())
    }

    pub(crate) fn seeded(seed: u64) -> Jitter {
        // Xorshift never leaves 0.
        Jitter(std::sync::atomic::AtomicU64::new(seed.max(1)))
    }

    /// The next number in `[0, 1)`.
    pub(crate) fn unit(&self) -> f64 {
        use std::sync::atomic::Ordering;
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Two threads drawing at once may draw the same number: harmless for jitter.
        self.0.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What to do when the SMSC answers `ESME_RTHROTTLED` or `ESME_RMSGQFUL`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ThrottlePolicy {
    /// Return the status to the caller.
    Report,
    /// Wait and resubmit the same request, at most `attempts` more times.
    Retry {
        /// Resubmissions allowed.
        attempts: u32,
        /// Delays between them.
        backoff: Backoff,
    },
}

/// How [`Client::send_text`](crate::Client::send_text) picks the TON and NPI of addresses its
/// [`TextOptions`](crate::TextOptions) leave unset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addressing {
    /// Pick them by [`smpp_pdu::address::classify`] (on by default): alphanumeric text is
    /// TON 5 / NPI 0 (at most 11 characters), `+` and digits TON 1 / NPI 1 without the
    /// `+`, digits the fallback below. Off: every address goes as given with the
    /// fallback.
    pub auto: bool,
    /// TON and NPI of a digits-only source address: 0 / 0 (unknown) by default, so the
    /// SMSC reads a short code or a national number its own way.
    pub source: (Ton, Npi),
    /// TON and NPI of a digits-only destination: 1 / 1 (international, E.164) by
    /// default, the form `447700900123` is in.
    pub dest: (Ton, Npi),
}

impl Default for Addressing {
    fn default() -> Self {
        Addressing {
            auto: true,
            source: (Ton::UNKNOWN, Npi::UNKNOWN),
            dest: (Ton::INTERNATIONAL, Npi::ISDN),
        }
    }
}

/// How to connect, bind and behave.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Bind type and credentials.
    pub bind: BindRequest,
    /// Window, response timeout, enquire_link interval, inactivity timeout, ...
    pub session: smpp_session::Config,
    /// Socket buffers and limits of the client's own transport.
    pub transport: smpp_transport::Config,
    /// Reconnect and rebind after the connection drops; `None` to stay disconnected. With
    /// it, the first connect is retried too (see [`ClientConfig::connect_attempts`]).
    pub reconnect: Option<Backoff>,
    /// With [`ClientConfig::reconnect`] set: how many rounds over the addresses the first
    /// connect makes, waiting the reconnect backoff between them, before
    /// [`Client::connect`](crate::Client::connect) gives up (5 by default; 1 for no retry).
    /// A refused bind ends it at once: retrying the same credentials does not help. Without
    /// reconnect the first connect makes one round.
    pub connect_attempts: u32,
    /// Most messages per second [`Client::submit`](crate::Client::submit) and friends send; `None` for no cap.
    pub max_rate: Option<f64>,
    /// What to do on `ESME_RTHROTTLED` / `ESME_RMSGQFUL`.
    pub throttle: ThrottlePolicy,
    /// Let the application acknowledge inbound messages (see [`Inbound::ack`](crate::Inbound::ack)).
    pub manual_ack: bool,
    /// Alphabets of this link, for [`Client::send_text`](crate::Client::send_text).
    pub text: TextConfig,
    /// How [`Client::send_text`](crate::Client::send_text) picks addresses' TON and NPI.
    pub addressing: Addressing,
    /// Capacity of the inbound channel; when full, reading from the SMSC pauses, and new
    /// messages to send wait for the application to read (at most the response timeout,
    /// then [`Error::InboundFull`](crate::Error::InboundFull)).
    pub inbound_capacity: usize,
    /// Which delivery receipts reach the application as items of their own
    /// ([`ReceiptItems::Unplaced`] by default: a tracked message's receipts come inside
    /// its report).
    pub receipt_items: ReceiptItems,
    /// The message lifecycle: the tracker's limits and timers (how many messages are
    /// followed at once, how long a report may wait for its receipts, how long an early
    /// receipt is held) and the reassembly of incoming segments (on by default; `None`
    /// hands every segment to the application as it came). Its `text` is replaced by
    /// [`ClientConfig::text`].
    /// With `lifecycle.tracking` (on by default), every message
    /// [`Client::send_text`](crate::Client::send_text) sends is followed to one
    /// [`Report`](smpp_lifecycle::Report) on [`Client::inbound`](crate::Client::inbound).
    pub lifecycle: LifecycleConfig,
    /// Keep tracked messages in this store too (`None`, the default: memory only): they
    /// survive a restart and can be finished by another process that gets their receipts
    /// (`smpp_store::open("sqlite:track.db")`, `"redis://127.0.0.1:6379"`). The client
    /// writes in batches on a thread of its own, and
    /// [`Client::send_text`](crate::Client::send_text) returns once its message's records
    /// are written (at most [`ClientConfig::store_timeout`]).
    pub store: Option<StoreHandle>,
    /// How long a send waits for its records to be written before it returns
    /// [`Error::NotDurable`](crate::Error::NotDurable) (5 s by default).
    pub store_timeout: Duration,
    /// The name of the SMSC account this client binds to, when it shares its tracking with
    /// clients of other SMSCs (one store, a pool): an SMSC's message ids are unique only
    /// among its own, so a receipt this client reads matches only messages it (or another
    /// client of the same account) sent. `None` by default (a client on its own); a
    /// [`Pool`](crate::pool::Pool) sets each account's name. A sender and a receiver in
    /// two processes sharing a store must give the same name, or none.
    pub account: Option<String>,
    /// Connect over TLS with these roots and server name; `None` for plaintext.
    #[cfg(feature = "tls-core")]
    pub tls: Option<TlsClientConfig>,
}

impl ClientConfig {
    /// A configuration with these credentials and defaults for everything else.
    pub fn new(kind: BindKind, system_id: impl Into<String>, password: impl Into<String>) -> Self {
        ClientConfig {
            bind: BindRequest::new(kind, system_id, password),
            session: smpp_session::Config::default(),
            transport: smpp_transport::Config::default(),
            reconnect: None,
            connect_attempts: 5,
            max_rate: None,
            throttle: ThrottlePolicy::Report,
            manual_ack: false,
            text: TextConfig::default(),
            addressing: Addressing::default(),
            inbound_capacity: 65_536,
            receipt_items: ReceiptItems::Unplaced,
            lifecycle: LifecycleConfig::default(),
            store: None,
            store_timeout: Duration::from_secs(5),
            account: None,
            #[cfg(feature = "tls-core")]
            tls: None,
        }
    }

    /// Names the SMSC account its message ids belong to (see [`ClientConfig::account`]).
    pub fn account(mut self, name: impl Into<String>) -> Self {
        self.account = Some(name.into());
        self
    }

    /// Connects over TLS (see [`TlsClientConfig`]).
    #[cfg(feature = "tls-core")]
    pub fn tls(mut self, tls: TlsClientConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets the window (requests in flight at once).
    pub fn window(mut self, window: usize) -> Self {
        self.session.window = window;
        self
    }

    /// Sets the response timeout.
    pub fn response_timeout(mut self, t: Duration) -> Self {
        self.session.response_timeout = t;
        self
    }

    /// Sets the enquire_link interval (`None` to disable).
    pub fn enquire_link_interval(mut self, t: Option<Duration>) -> Self {
        self.session.enquire_link_interval = t;
        self
    }

    /// Sets the inactivity timeout (`None` to disable).
    pub fn inactivity_timeout(mut self, t: Option<Duration>) -> Self {
        self.session.inactivity_timeout = t;
        self
    }

    /// Reconnects with this backoff after a drop.
    pub fn reconnect(mut self, backoff: Backoff) -> Self {
        self.reconnect = Some(backoff);
        self
    }

    /// Sets how many rounds the first connect makes under reconnect (see
    /// [`ClientConfig::connect_attempts`]).
    pub fn connect_attempts(mut self, rounds: u32) -> Self {
        self.connect_attempts = rounds;
        self
    }

    /// Caps the send rate.
    pub fn max_rate(mut self, per_second: f64) -> Self {
        self.max_rate = Some(per_second);
        self
    }

    /// Sets the throttling policy.
    pub fn throttle(mut self, policy: ThrottlePolicy) -> Self {
        self.throttle = policy;
        self
    }

    /// Sets how [`Client::send_text`](crate::Client::send_text) picks addresses' TON and NPI.
    pub fn addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = addressing;
        self
    }

    /// Lets the application acknowledge inbound messages.
    pub fn manual_ack(mut self, manual: bool) -> Self {
        self.manual_ack = manual;
        self
    }

    /// Which delivery receipts reach the application as items of their own (see
    /// [`ReceiptItems`]).
    pub fn receipt_items(mut self, items: ReceiptItems) -> Self {
        self.receipt_items = items;
        self
    }

    /// Turns tracking of [`Client::send_text`](crate::Client::send_text)'s messages to one
    /// report each on or off.
    pub fn track(mut self, on: bool) -> Self {
        self.lifecycle.tracking = on;
        self
    }

    /// Keeps tracked messages in this store (see [`ClientConfig::store`]).
    pub fn store(mut self, store: StoreHandle) -> Self {
        self.store = Some(store);
        self
    }

    /// Reassembles incoming segmented messages (the default), or hands each segment to the
    /// application as it came.
    pub fn reassemble(mut self, on: bool) -> Self {
        let limits = self.lifecycle.reassembly.unwrap_or_default();
        self.lifecycle.reassembly = on.then_some(limits);
        self
    }

    /// Sets how long a tracked message may wait for its final receipts before it is
    /// reported expired (24 hours by default; [`TextOptions::report_timeout`](crate::TextOptions::report_timeout) sets it per message).
    pub fn report_timeout(mut self, t: Duration) -> Self {
        self.lifecycle.tracker.report_timeout = t;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_shortens_within_its_fraction() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            factor: 2.0,
            jitter: 0.25,
        };
        for n in 0..8 {
            let d = b.delay(n);
            assert_eq!(b.delay_with_jitter(n, 0.0), d);
            for unit in [0.1, 0.5, 0.999_999, 1.0, 7.0, -3.0, f64::NAN] {
                let j = b.delay_with_jitter(n, unit);
                assert!(j <= d, "{n} {unit}: {j:?} > {d:?}");
                assert!(j >= d.mul_f64(0.75), "{n} {unit}: {j:?} < 75% of {d:?}");
            }
        }
        assert_eq!(b.delay_with_jitter(1, 0.5), Duration::from_millis(175));
        let none = Backoff { jitter: 0.0, ..b };
        assert_eq!(none.delay_with_jitter(3, 0.9), none.delay(3));
        let wild = Backoff { jitter: 5.0, ..b };
        assert_eq!(
            wild.delay_with_jitter(0, 1.0),
            Duration::ZERO,
            "capped at 1"
        );
    }

    #[test]
    fn the_generator_stays_in_the_unit_interval_and_spreads() {
        let j = Jitter::seeded(42);
        let draws: Vec<f64> = (0..10_000).map(|_| j.unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let low = draws.iter().filter(|u| **u < 0.5).count();
        assert!((4_500..5_500).contains(&low), "{low} of 10,000 below 0.5");
        let zero = Jitter::seeded(0);
        assert_ne!(zero.unit(), zero.unit(), "a zero seed does not stick");
    }
}

/// Which delivery receipts reach the application as inbound items of their own
/// ([`InboundKind::Receipt`](crate::InboundKind::Receipt)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiptItems {
    /// Every receipt, with what the tracker made of it: an application that follows its
    /// messages gets each receipt and, in the end, the message's report. For tools that
    /// show the traffic as it comes (`smpp listen`), and applications that also submit
    /// without tracking while tracked messages are in flight (their receipts are held
    /// meanwhile, and would otherwise come only as
    /// [`InboundKind::Unmatched`](crate::InboundKind::Unmatched) once the hold ends).
    All,
    /// Only receipts the tracker could not place (the default): those that match no
    /// tracked message (also reported as
    /// [`InboundKind::Unmatched`](crate::InboundKind::Unmatched)), and every receipt when
    /// tracking is off. A receipt that matched reaches the application inside its
    /// message's [`Progress`](smpp_lifecycle::Progress) or
    /// [`Report`](smpp_lifecycle::Report) (which carry the parsed receipt with every raw
    /// field), one held for its response inside the report that follows, and a repeated
    /// one only in the counters: one item per message. Such a receipt is acknowledged
    /// with `ESME_ROK` by the client, with or without [`ClientConfig::manual_ack`].
    ///
    /// A client that tracks nothing at the moment (it only receives, or submits without
    /// tracking) holds no receipt: one that matches nothing comes at once.
    #[default]
    Unplaced,
}

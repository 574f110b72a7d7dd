//! How a client connects, binds and behaves: [`ClientConfig`], [`Backoff`],
//! [`ThrottlePolicy`].

use std::time::Duration;

use smpp_pdu::address::{Npi, Ton};
use smpp_pdu::text::TextConfig;
use smpp_session::{BindKind, BindRequest};

#[cfg(feature = "tls")]
use crate::TlsClientConfig;

/// Exponential backoff: `initial`, then times `factor` up to `max`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Growth per attempt.
    pub factor: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
            factor: 2.0,
        }
    }
}

impl Backoff {
    /// The delay before attempt `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        let d = self.initial.as_secs_f64() * self.factor.powi(n.min(64) as i32);
        Duration::from_secs_f64(d.min(self.max.as_secs_f64()))
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
    /// Reconnect and rebind after the connection drops; `None` to stay disconnected.
    pub reconnect: Option<Backoff>,
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
    /// Capacity of the inbound channel; when full, reading from the SMSC pauses.
    pub inbound_capacity: usize,
    /// Connect over TLS with these roots and server name; `None` for plaintext.
    #[cfg(feature = "tls")]
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
            max_rate: None,
            throttle: ThrottlePolicy::Report,
            manual_ack: false,
            text: TextConfig::default(),
            addressing: Addressing::default(),
            inbound_capacity: 65_536,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Connects over TLS (see [`TlsClientConfig`]).
    #[cfg(feature = "tls")]
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
}

//! Session configuration.

use std::fmt;
use std::time::Duration;

use smpp_pdu::{CommandId, DEFAULT_MAX_COMMAND_LENGTH};

/// Timers, window and limits of a session. Every timer is driven by the `now` values the
/// caller passes in; none reads a clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Most application requests awaiting a response at once; past it `send_request`
    /// returns [`crate::SendError::WindowFull`].
    pub window: usize,
    /// How long a request waits for its response before it is reported as timed out.
    pub response_timeout: Duration,
    /// Session-init timer: how long after the connection a bind must complete (ESME) or
    /// arrive (SMSC); on expiry the session closes.
    pub bind_timeout: Duration,
    /// Send an enquire_link after this long without any PDU in either direction; `None`
    /// disables it.
    pub enquire_link_interval: Option<Duration>,
    /// How long an enquire_link may wait for its response before the link is declared dead
    /// and the session closes.
    pub enquire_link_timeout: Duration,
    /// Unbind (and close) after this long without message traffic (enquire_link does not
    /// count); `None` disables it.
    pub inactivity_timeout: Option<Duration>,
    /// How long an unbind waits for its response before the session closes anyway.
    pub unbind_timeout: Duration,
    /// Largest `command_length` accepted; a larger one is a framing error.
    pub max_command_length: u32,
    /// Most inbound requests the application may hold unanswered at once; past it the
    /// session answers new ones with `ESME_RTHROTTLED` (submits) or `ESME_RX_T_APPN`
    /// (deliveries) by itself, so memory stays bounded.
    pub max_inbound_pending: usize,
    /// How many timed-out sequence numbers to remember, to tell a late response from an
    /// unknown one.
    pub late_response_memory: usize,
    /// The first sequence number this side uses (1 by default; 1..=0x7FFF_FFFF, anything
    /// else means 1). Numbering wraps from 0x7FFF_FFFF back to 1.
    pub first_sequence_number: u32,
    /// Whether the session keeps the per-command counters and the latency histogram of
    /// [`crate::Session::stats`] (on by default; they cost a few nanoseconds per PDU).
    /// Off, those stay empty; the counts of timeouts, failures, unexpected responses and
    /// refusals, and the gauges, are kept either way.
    pub stats: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window: 10,
            response_timeout: Duration::from_secs(30),
            bind_timeout: Duration::from_secs(30),
            enquire_link_interval: Some(Duration::from_secs(30)),
            enquire_link_timeout: Duration::from_secs(10),
            inactivity_timeout: None,
            unbind_timeout: Duration::from_secs(5),
            max_command_length: DEFAULT_MAX_COMMAND_LENGTH,
            max_inbound_pending: 10_000,
            late_response_memory: 4096,
            first_sequence_number: 1,
            stats: true,
        }
    }
}

macro_rules! setters {
    ($($(#[$m:meta])* $name:ident: $ty:ty;)*) => {
        impl Config {
            $(
                $(#[$m])*
                pub fn $name(mut self, v: $ty) -> Self {
                    self.$name = v;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Sets [`Config::window`].
    window: usize;
    /// Sets [`Config::response_timeout`].
    response_timeout: Duration;
    /// Sets [`Config::bind_timeout`].
    bind_timeout: Duration;
    /// Sets [`Config::enquire_link_interval`].
    enquire_link_interval: Option<Duration>;
    /// Sets [`Config::enquire_link_timeout`].
    enquire_link_timeout: Duration;
    /// Sets [`Config::inactivity_timeout`].
    inactivity_timeout: Option<Duration>;
    /// Sets [`Config::unbind_timeout`].
    unbind_timeout: Duration;
    /// Sets [`Config::max_command_length`].
    max_command_length: u32;
    /// Sets [`Config::max_inbound_pending`].
    max_inbound_pending: usize;
    /// Sets [`Config::late_response_memory`].
    late_response_memory: usize;
    /// Sets [`Config::first_sequence_number`].
    first_sequence_number: u32;
    /// Sets [`Config::stats`].
    stats: bool;
}

/// The three ways to bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BindKind {
    /// `bind_transmitter`: send only.
    Transmitter,
    /// `bind_receiver`: receive only.
    Receiver,
    /// `bind_transceiver`: both.
    Transceiver,
}

impl BindKind {
    /// The bind request's `command_id`.
    pub fn command_id(self) -> CommandId {
        match self {
            BindKind::Transmitter => CommandId::BIND_TRANSMITTER,
            BindKind::Receiver => CommandId::BIND_RECEIVER,
            BindKind::Transceiver => CommandId::BIND_TRANSCEIVER,
        }
    }

    /// The kind of a bind request or response `command_id`.
    pub fn from_command_id(id: CommandId) -> Option<BindKind> {
        match id {
            CommandId::BIND_TRANSMITTER | CommandId::BIND_TRANSMITTER_RESP => {
                Some(BindKind::Transmitter)
            }
            CommandId::BIND_RECEIVER | CommandId::BIND_RECEIVER_RESP => Some(BindKind::Receiver),
            CommandId::BIND_TRANSCEIVER | CommandId::BIND_TRANSCEIVER_RESP => {
                Some(BindKind::Transceiver)
            }
            _ => None,
        }
    }
}

/// What an ESME binds with.
#[derive(Clone, PartialEq, Eq)]
pub struct BindRequest {
    /// Transmitter, receiver or transceiver.
    pub kind: BindKind,
    /// Login, at most 15 characters.
    pub system_id: String,
    /// Password, at most 8 characters. Never shown by `Debug`.
    pub password: String,
    /// ESME type, often empty.
    pub system_type: String,
    /// `0x34` (SMPP 3.4, the default) or `0x50` (5.0).
    pub interface_version: u8,
    /// TON of `address_range`.
    pub addr_ton: u8,
    /// NPI of `address_range`.
    pub addr_npi: u8,
    /// Addresses served, usually empty.
    pub address_range: String,
}

impl BindRequest {
    /// A bind of this kind with these credentials, SMPP 3.4, no address range.
    pub fn new(kind: BindKind, system_id: impl Into<String>, password: impl Into<String>) -> Self {
        BindRequest {
            kind,
            system_id: system_id.into(),
            password: password.into(),
            system_type: String::new(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
        }
    }

    /// Sets the system type.
    pub fn system_type(mut self, v: impl Into<String>) -> Self {
        self.system_type = v.into();
        self
    }

    /// Sets the interface version.
    pub fn interface_version(mut self, v: u8) -> Self {
        self.interface_version = v;
        self
    }
}

impl fmt::Debug for BindRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindRequest")
            .field("kind", &self.kind)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("system_type", &self.system_type)
            .field(
                "interface_version",
                &format_args!("{:#04x}", self.interface_version),
            )
            .field("addr_ton", &self.addr_ton)
            .field("addr_npi", &self.addr_npi)
            .field("address_range", &self.address_range)
            .finish()
    }
}

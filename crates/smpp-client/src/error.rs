//! Client errors.

use std::fmt;

use smpp_lifecycle::{StoreError, TrackError};
use smpp_pdu::address::AddressError;
use smpp_pdu::concat::SplitError;
use smpp_pdu::time::TimeError;
use smpp_pdu::{CommandStatus, EncodeError};
use smpp_session::{FailReason, SendError};
use smpp_transport::TransportError;

/// Why a client call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Connecting failed (refused, unreachable, timed out).
    Connect(TransportError),
    /// The SMSC refused the bind.
    BindRejected(CommandStatus),
    /// The SMSC answered with a non-zero `command_status`.
    Status(CommandStatus),
    /// No response came within the response timeout.
    Timeout,
    /// The connection dropped before the request resolved. It may or may not have been
    /// processed by the SMSC; it is not resent.
    Disconnected,
    /// The session refused the request (not bound, window full and queue full, ...).
    Refused(SendError),
    /// The session gave up on the request (malformed or mismatched response).
    Failed(FailReason),
    /// The PDU could not be encoded.
    Encode(EncodeError),
    /// The text could not be encoded or split.
    Text(SplitError),
    /// The source address cannot be sent as read (an alphanumeric sender longer than 11
    /// characters, a `+` not followed by digits only).
    SourceAddress(AddressError),
    /// The destination address cannot be sent as read.
    DestAddress(AddressError),
    /// A validity period or scheduled delivery time out of range.
    Time(TimeError),
    /// The message cannot be tracked (its reference is in use, or the tracker is full and
    /// refuses more).
    Track(TrackError),
    /// The message was not sent: the application has this many inbound items unread
    /// ([`ClientConfig::inbound_capacity`](crate::ClientConfig::inbound_capacity) or more),
    /// and did not read any within the response timeout. Each tracked message ends in a
    /// report there, so sending more would grow them without bound: read
    /// [`Client::inbound`](crate::Client::inbound) (from another thread while sending), or
    /// turn tracking off.
    InboundFull(usize),
    /// The store failed (opening it, or reading the open messages at connect).
    Store(StoreError),
    /// The message was submitted (its ids are here) but its records were not written to
    /// the store in time: a crash now could lose its tracking. The store keeps trying.
    NotDurable(Box<crate::Sent>, StoreError),
    /// The message was not sent: there was no bound connection to write it to when its
    /// turn came, so the SMSC cannot have it, and sending it again is safe (a pool deals
    /// it to another bind).
    NotSent,
    /// The client is closed.
    Closed,
    /// No bind of the pool could take the message (none was up, for longer than the
    /// pool's failover wait): it was not sent.
    NoBind,
    /// The pool's configuration file is wrong (the error names the line and the key).
    Config(crate::ConfigError),
    /// The SMSC answered with an unexpected PDU type.
    UnexpectedResponse,
    /// A message given as its segments
    /// ([`Client::send_segments`](crate::Client::send_segments)) has none, or more than
    /// 255 (the most a concatenated message can have): nothing was sent.
    Segments(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect(e) => write!(f, "connect failed: {e}"),
            Error::BindRejected(s) => write!(f, "bind rejected: {s}"),
            Error::Status(s) => write!(f, "request failed: {s}"),
            Error::Timeout => f.write_str("no response within the response timeout"),
            Error::Disconnected => f.write_str("the connection dropped before the response"),
            Error::Refused(e) => write!(f, "request refused: {e}"),
            Error::Failed(r) => write!(f, "request failed: {r:?}"),
            Error::Encode(e) => write!(f, "cannot encode: {e}"),
            Error::Text(e) => write!(f, "cannot encode text: {e}"),
            Error::SourceAddress(e) => write!(f, "source address: {e}"),
            Error::DestAddress(e) => write!(f, "destination address: {e}"),
            Error::Time(e) => write!(f, "invalid time: {e}"),
            Error::Track(e) => write!(f, "cannot track the message: {e}"),
            Error::InboundFull(n) => write!(
                f,
                "not sent: {n} inbound items (reports, receipts, MO) are waiting to be read; \
                 read Client::inbound, or turn tracking off"
            ),
            Error::Store(e) => write!(f, "{e}"),
            Error::NotDurable(sent, e) => write!(
                f,
                "submitted as {} but not yet written to the store: {e}",
                sent.message_ids.join(", ")
            ),
            Error::NotSent => f.write_str("not sent: no bound connection took it"),
            Error::Closed => f.write_str("the client is closed"),
            Error::NoBind => f.write_str("no bind of the pool could take the message: not sent"),
            Error::Config(e) => write!(f, "{e}"),
            Error::UnexpectedResponse => f.write_str("unexpected response type"),
            Error::Segments(n) => {
                write!(f, "a message of {n} segments cannot be sent (1 to 255)")
            }
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Whether a retry later may succeed (throttling, a full queue, a timeout, a dropped
    /// connection, inbound items not read yet).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Status(s) => s.is_transient(),
            Error::Timeout
            | Error::Disconnected
            | Error::NotSent
            | Error::NoBind
            | Error::InboundFull(_) => true,
            _ => false,
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        match e {
            Error::Connect(t) => t.into(),
            Error::Timeout => std::io::Error::new(std::io::ErrorKind::TimedOut, "response timeout"),
            Error::Disconnected | Error::NotSent | Error::Closed => {
                std::io::Error::new(std::io::ErrorKind::NotConnected, e.to_string())
            }
            other => std::io::Error::other(other.to_string()),
        }
    }
}

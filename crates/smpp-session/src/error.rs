//! Errors of local commands (the application misusing the session). Faults of the peer are
//! handled by the protocol and reported as events.

use std::fmt;

use smpp_pdu::{CommandId, EncodeError};

use crate::state::State;

/// Why a command was refused. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The session is closed.
    Closed,
    /// This PDU may not be sent by this role in this state (for example submit_sm before
    /// the bind completed, or deliver_sm by an ESME).
    InvalidState {
        /// The PDU.
        command_id: CommandId,
        /// The state the session was in.
        state: State,
    },
    /// An unbind is in progress; no new requests are started.
    Unbinding,
    /// A bind is already in progress.
    BindInProgress,
    /// The window is full: as many requests as [`crate::Config::window`] await responses.
    WindowFull,
    /// The PDU is a response, or `send_response` was given a request.
    NotARequest(CommandId),
    /// `send_response` for a sequence number with no inbound request awaiting an answer.
    UnknownRequest(u32),
    /// The response does not match the request it answers.
    ResponseMismatch {
        /// The response the request needs.
        expected: CommandId,
        /// The response given.
        got: CommandId,
    },
    /// The PDU could not be encoded.
    Encode(EncodeError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed => f.write_str("the session is closed"),
            SendError::InvalidState { command_id, state } => {
                write!(f, "{command_id:?} may not be sent in state {state:?}")
            }
            SendError::Unbinding => f.write_str("the session is unbinding"),
            SendError::BindInProgress => f.write_str("a bind is already in progress"),
            SendError::WindowFull => f.write_str("the window is full"),
            SendError::NotARequest(id) => write!(f, "{id:?} is not a request"),
            SendError::UnknownRequest(seq) => write!(
                f,
                "no inbound request with sequence number {seq} awaits a response"
            ),
            SendError::ResponseMismatch { expected, got } => {
                write!(f, "expected {expected:?}, got {got:?}")
            }
            SendError::Encode(e) => write!(f, "cannot encode: {e}"),
        }
    }
}

impl std::error::Error for SendError {}

impl From<EncodeError> for SendError {
    fn from(e: EncodeError) -> Self {
        SendError::Encode(e)
    }
}

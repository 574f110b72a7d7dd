//! What a session reports to its application.

use smpp_pdu::{CommandId, CommandStatus, DecodeError, Password, Pdu};

use crate::config::BindKind;

/// A sequence number: `1..=0x7FFF_FFFF` (reference §1).
pub type SequenceNumber = u32;

/// Something the application must know or act on. Drain with
/// [`crate::Session::poll_event`] until `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The session is bound (ESME: the bind response was `ESME_ROK`; SMSC: the application
    /// accepted the bind).
    Bound {
        /// How it is bound.
        kind: BindKind,
        /// The peer's `system_id` (SMSC's from the response on the ESME side; ESME's from
        /// the request on the SMSC side).
        peer_system_id: String,
        /// ESME side: `sc_interface_version` from the response, if the SMSC sent it.
        interface_version: Option<u8>,
    },
    /// (ESME) The SMSC refused the bind. The session stays open; the application usually
    /// closes and retries later.
    BindRejected {
        /// The status the SMSC answered with.
        status: CommandStatus,
    },
    /// (SMSC) An ESME asks to bind: answer with [`crate::Session::accept_bind`] or
    /// [`crate::Session::reject_bind`].
    BindRequested {
        /// The bind's sequence number.
        sequence_number: SequenceNumber,
        /// The whole bind PDU (its password is redacted in `Debug`).
        pdu: Pdu<'static>,
    },
    /// (ESME) The SMSC sent outbind: bind on this connection with
    /// [`crate::Session::bind`] (usually as a receiver).
    Outbind {
        /// The SMSC's `system_id`.
        system_id: String,
        /// The password it presented, to check against the expected one (redacted in
        /// `Debug`; read it with [`Password::expose`]).
        password: Password<'static>,
    },
    /// An inbound request for the application (deliver_sm, submit_sm on the SMSC side,
    /// data_sm, query_sm, ...). Answer it with [`crate::Session::send_response`].
    Request {
        /// The request's sequence number, to answer with.
        sequence_number: SequenceNumber,
        /// The request.
        pdu: Pdu<'static>,
    },
    /// An inbound PDU that needs no response (alert_notification).
    Notification {
        /// The PDU.
        pdu: Pdu<'static>,
    },
    /// The response to one of our requests (possibly a `generic_nack`). Resolves it.
    Response {
        /// The request's sequence number.
        sequence_number: SequenceNumber,
        /// The request's `command_id`.
        request: CommandId,
        /// The response.
        pdu: Pdu<'static>,
    },
    /// No response came within the response timeout. Resolves the request.
    ResponseTimeout {
        /// The request's sequence number.
        sequence_number: SequenceNumber,
        /// The request's `command_id`.
        request: CommandId,
    },
    /// The request can no longer get a response. Resolves it.
    RequestFailed {
        /// The request's sequence number.
        sequence_number: SequenceNumber,
        /// The request's `command_id`.
        request: CommandId,
        /// Why.
        reason: FailReason,
    },
    /// A response that matches no request awaiting one. Logged and ignored by the protocol.
    UnexpectedResponse {
        /// Its sequence number.
        sequence_number: SequenceNumber,
        /// Its `command_id`.
        command_id: CommandId,
        /// Its status.
        status: CommandStatus,
        /// Why it matched nothing.
        reason: UnexpectedReason,
    },
    /// The session answered an inbound PDU by itself with an error (wrong state, malformed
    /// PDU, unknown command, inbound limit reached).
    Rejected {
        /// The PDU's sequence number (0 if unreadable).
        sequence_number: SequenceNumber,
        /// The PDU's `command_id`.
        command_id: CommandId,
        /// The status it was answered with.
        status: CommandStatus,
    },
    /// Unbind and its response were exchanged.
    Unbound,
    /// The session is closed; always the last event. Every request was resolved before it.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a request failed without a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailReason {
    /// The session closed first.
    Closed(CloseReason),
    /// The response arrived but could not be decoded.
    MalformedResponse(DecodeError),
    /// The response's `command_id` does not answer this request.
    MismatchedResponse(CommandId),
}

/// Why a response matched nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnexpectedReason {
    /// Its request had already timed out.
    Late,
    /// No request with this sequence number was sent (or it was answered already).
    Unknown,
}

/// Why a session closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The application called [`crate::Session::close`].
    Local,
    /// The peer closed the connection.
    PeerClosed,
    /// The unbind exchange completed (either side started it).
    Unbound,
    /// The unbind response did not come in time.
    UnbindTimeout,
    /// The bind did not complete within the session-init timer.
    BindTimeout,
    /// An enquire_link got no response in time: the link is dead.
    EnquireLinkTimeout,
    /// No message traffic for the inactivity timeout (after the unbind exchange).
    Inactivity,
    /// The byte stream could not be framed (impossible `command_length`).
    Framing(DecodeError),
    /// The peer answered a bind, unbind or enquire_link with a malformed or mismatched
    /// response.
    ProtocolError,
}

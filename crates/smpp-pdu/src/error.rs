//! Decode and encode errors.

use core::fmt;

use crate::ids::CommandStatus;

/// What went wrong while decoding; see [`DecodeError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// `command_length` is below 16 or above the configured cap.
    CommandLength {
        /// The length the header announced.
        length: u32,
        /// The largest length accepted.
        max: u32,
    },
    /// The body ended before the field was complete.
    Truncated,
    /// A C-octet string had no NUL within its maximum size (the maximum counts the NUL).
    TooLong {
        /// The maximum size of the field in octets, NUL included.
        max: usize,
    },
    /// A field has a length its definition does not allow (a time field that is not
    /// empty or 16 characters, for example).
    InvalidLength,
    /// A field holds a value its definition does not allow (for example a `dest_flag`
    /// other than 1 or 2).
    InvalidValue,
    /// The TLV section is malformed: fewer than four octets left where a TLV should start,
    /// or a TLV whose length runs past the end of the PDU.
    TlvStream,
}

/// A decode failure: which field, what was wrong, and the `command_status` a peer should
/// answer with.
///
/// Small and `Copy`, so it can be returned on hot paths without cost.
/// "Not enough bytes yet" is never an error: framing functions return `Ok(None)` instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    field: &'static str,
    status: CommandStatus,
}

impl DecodeError {
    /// Builds an error; `field` is the spec name of the offending field.
    pub const fn new(kind: DecodeErrorKind, field: &'static str, status: CommandStatus) -> Self {
        DecodeError {
            kind,
            field,
            status,
        }
    }

    pub(crate) const fn truncated(field: &'static str) -> Self {
        DecodeError::new(
            DecodeErrorKind::Truncated,
            field,
            CommandStatus::ESME_RINVCMDLEN,
        )
    }

    /// What was wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// The spec name of the field that could not be decoded (`command_length`,
    /// `source_addr`, `tlv`, ...).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The `command_status` to answer with: in the matching response for a malformed
    /// request, or in a `generic_nack` when the PDU could not be framed.
    pub fn command_status(&self) -> CommandStatus {
        self.status
    }

    /// Whether framing is lost (bad `command_length`): the byte stream cannot be trusted
    /// any more and the connection should be closed after the `generic_nack`.
    pub fn is_fatal(&self) -> bool {
        matches!(self.kind, DecodeErrorKind::CommandLength { .. })
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field;
        match self.kind {
            DecodeErrorKind::CommandLength { length, max } => {
                write!(f, "command_length {length} is outside 16..={max}")?
            }
            DecodeErrorKind::Truncated => write!(f, "PDU body ends inside field `{field}`")?,
            DecodeErrorKind::TooLong { max } => write!(
                f,
                "field `{field}` has no NUL within its maximum of {max} octets"
            )?,
            DecodeErrorKind::InvalidLength => write!(f, "field `{field}` has an invalid length")?,
            DecodeErrorKind::InvalidValue => write!(f, "field `{field}` has an invalid value")?,
            DecodeErrorKind::TlvStream => write!(f, "malformed TLV section at `{field}`")?,
        }
        match self.status.name() {
            Some(name) => write!(f, " (answer {name})"),
            None => write!(f, " (answer {})", self.status),
        }
    }
}

impl std::error::Error for DecodeError {}

/// An encode failure: a value that does not fit its field's definition.
///
/// The encoder never writes a partial PDU: on error the output buffer is restored to the
/// length it had before the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// A value is longer than its field allows.
    FieldTooLong {
        /// The spec name of the field.
        field: &'static str,
        /// The maximum size in octets (for C-octet strings, the NUL included, as the
        /// specification counts it).
        max: usize,
    },
    /// A value is shorter than its field requires.
    FieldTooShort {
        /// The spec name of the field.
        field: &'static str,
        /// The minimum size in octets.
        min: usize,
    },
    /// A C-octet string contains a NUL octet, which would end it early on the wire.
    ContainsNul {
        /// The spec name of the field.
        field: &'static str,
    },
    /// A field has a length its definition does not allow (a time field that is neither
    /// empty nor 16 characters).
    InvalidLength {
        /// The spec name of the field.
        field: &'static str,
    },
    /// A field holds a value its definition does not allow.
    InvalidValue {
        /// The spec name of the field.
        field: &'static str,
    },
    /// Both `short_message` and the `message_payload` TLV carry data; the specification
    /// allows only one of them.
    PayloadConflict,
    /// A list has more entries than its count field allows, or fewer than required.
    InvalidCount {
        /// The spec name of the count field.
        field: &'static str,
        /// The smallest count allowed.
        min: usize,
        /// The largest count allowed.
        max: usize,
    },
}

impl EncodeError {
    /// The spec name of the offending field.
    pub fn field(&self) -> &'static str {
        match *self {
            EncodeError::FieldTooLong { field, .. }
            | EncodeError::FieldTooShort { field, .. }
            | EncodeError::ContainsNul { field }
            | EncodeError::InvalidLength { field }
            | EncodeError::InvalidValue { field }
            | EncodeError::InvalidCount { field, .. } => field,
            EncodeError::PayloadConflict => "message_payload",
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EncodeError::FieldTooLong { field, max } => {
                write!(
                    f,
                    "field `{field}` is longer than its maximum of {max} octets"
                )
            }
            EncodeError::FieldTooShort { field, min } => {
                write!(
                    f,
                    "field `{field}` is shorter than its minimum of {min} octets"
                )
            }
            EncodeError::ContainsNul { field } => {
                write!(f, "C-octet string field `{field}` contains a NUL octet")
            }
            EncodeError::InvalidLength { field } => {
                write!(f, "field `{field}` has an invalid length")
            }
            EncodeError::InvalidValue { field } => {
                write!(f, "field `{field}` has an invalid value")
            }
            EncodeError::PayloadConflict => {
                write!(
                    f,
                    "short_message and message_payload must not both carry data"
                )
            }
            EncodeError::InvalidCount { field, min, max } => {
                write!(
                    f,
                    "field `{field}` must count between {min} and {max} entries"
                )
            }
        }
    }
}

impl std::error::Error for EncodeError {}

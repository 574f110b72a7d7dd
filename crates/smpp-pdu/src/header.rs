//! The 16-octet PDU header and stream framing.

use byteorder::{BigEndian, ByteOrder};

use crate::error::{DecodeError, DecodeErrorKind};
use crate::ids::{CommandId, CommandStatus};

/// Size of the PDU header in octets (`command_length`, `command_id`, `command_status`,
/// `sequence_number`).
pub const HEADER_LEN: usize = 16;

/// Default cap on `command_length`: 64 KiB.
///
/// This holds every PDU with a `short_message` and a `message_payload` of up to about
/// 65,400 octets. A peer that sends a `message_payload` near its 65,535-octet maximum
/// needs a larger cap ([`Header::peek_with_max`], [`crate::Pdu::decode_with_max`]);
/// SMSCs usually cap payloads far lower (a few kilobytes).
pub const DEFAULT_MAX_COMMAND_LENGTH: u32 = 64 * 1024;

/// The PDU header (reference §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// Total PDU length in octets, header included.
    pub command_length: u32,
    /// What the PDU is.
    pub command_id: CommandId,
    /// The result code of a response; `ESME_ROK` in requests.
    pub command_status: CommandStatus,
    /// Matches a response to its request.
    pub sequence_number: u32,
}

impl Header {
    /// Frames the next PDU in a byte stream with the default `command_length` cap
    /// ([`DEFAULT_MAX_COMMAND_LENGTH`]).
    ///
    /// Returns `Ok(None)` until the whole PDU (`command_length` octets) is in `buf`, then
    /// the header. A `command_length` below 16 or above the cap is an error as soon as its
    /// four octets are readable; it maps to `ESME_RINVCMDLEN` and means framing is lost.
    pub fn peek(buf: &[u8]) -> Result<Option<Header>, DecodeError> {
        Header::peek_with_max(buf, DEFAULT_MAX_COMMAND_LENGTH)
    }

    /// [`Header::peek`] with a caller-chosen cap on `command_length` (at least 16).
    #[inline]
    pub fn peek_with_max(
        buf: &[u8],
        max_command_length: u32,
    ) -> Result<Option<Header>, DecodeError> {
        if buf.len() < 4 {
            return Ok(None);
        }
        let command_length = BigEndian::read_u32(&buf[0..4]);
        if command_length < HEADER_LEN as u32 || command_length > max_command_length {
            return Err(DecodeError::new(
                DecodeErrorKind::CommandLength {
                    length: command_length,
                    max: max_command_length,
                },
                "command_length",
                CommandStatus::ESME_RINVCMDLEN,
            ));
        }
        if buf.len() < command_length as usize {
            return Ok(None);
        }
        Ok(Some(Header::read(buf)))
    }

    /// Reads the four header fields from the first 16 octets without any check.
    /// `buf` must hold at least 16 octets.
    fn read(buf: &[u8]) -> Header {
        Header {
            command_length: BigEndian::read_u32(&buf[0..4]),
            command_id: CommandId(BigEndian::read_u32(&buf[4..8])),
            command_status: CommandStatus(BigEndian::read_u32(&buf[8..12])),
            sequence_number: BigEndian::read_u32(&buf[12..16]),
        }
    }

    /// Reads whatever header fields are present in a possibly short or malformed buffer,
    /// for building a `generic_nack` after a framing error: the `sequence_number` if the
    /// first 16 octets are present, else `None`.
    pub fn salvage_sequence_number(buf: &[u8]) -> Option<u32> {
        (buf.len() >= HEADER_LEN).then(|| BigEndian::read_u32(&buf[12..16]))
    }

    /// Appends the 16 header octets.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.command_length.to_be_bytes());
        out.extend_from_slice(&self.command_id.0.to_be_bytes());
        out.extend_from_slice(&self.command_status.0.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
    }
}

//! The SMPP 3.4 and 5.0 PDU codec.
//!
//! This crate turns bytes into typed PDUs and back. It frames a TCP byte stream
//! ([`Header::peek`]), decodes every PDU of SMPP 3.4 and 5.0 ([`Pdu::decode`]) with fields
//! that borrow from the input buffer, and encodes into a caller-owned `Vec<u8>`
//! ([`Pdu::encode`]).
//!
//! It also handles addresses ([`address`]: TON, NPI and the rule that picks them) and
//! message content: text encodings ([`text`]), long messages
//! ([`concat`](mod@concat)), delivery receipts ([`receipt`]) and SMPP time values ([`time`]).
//!
//! What it never does: no I/O, no clock reads, no threads. Its only dependency is
//! `byteorder`.
//!
//! # Example
//!
//! ```
//! use smpp_pdu::{Body, CommandStatus, Pdu, SubmitSm};
//!
//! let submit = SubmitSm {
//!     source_addr: "12345".into(),
//!     destination_addr: "447700900123".into(),
//!     short_message: "Hello".into(),
//!     ..Default::default()
//! };
//! let mut wire = Vec::new();
//! Pdu::new(7, submit).encode(&mut wire).unwrap();
//!
//! let (pdu, used) = Pdu::decode(&wire).unwrap().expect("a whole PDU");
//! assert_eq!(used, wire.len());
//! assert_eq!(pdu.sequence_number, 7);
//! assert_eq!(pdu.command_status, CommandStatus::ESME_ROK);
//! match pdu.body {
//!     Body::SubmitSm(s) => assert_eq!(s.short_message, "Hello"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```
//!
//! # Tolerance
//!
//! Where real peers deviate from the specification, the decoder accepts what they send and
//! the encoder writes the specification's strict form:
//! - a C-octet string that runs to the very end of the body without its NUL is accepted;
//! - an error response may come with or without a body;
//! - a TLV is decoded by its length field; a known tag whose value does not fit its
//!   definition is kept raw (see [`tlv`]);
//! - `short_message` may be 255 octets (5.0) on decode; the encoder writes at most 254 (3.4);
//! - `number_of_dests` may be 255 on decode; the encoder writes at most 254.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
mod codec;
pub mod concat;
mod error;
pub mod fields;
mod header;
mod ids;
#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "json-in")]
pub mod json_in;
mod owned;
mod pdu;
pub mod receipt;
pub mod text;
pub mod time;
pub mod tlv;

pub use codec::{COctetString, OctetString, Password};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use header::{Header, DEFAULT_MAX_COMMAND_LENGTH, HEADER_LEN};
pub use ids::{CommandId, CommandStatus, Tag};
pub use pdu::*;
pub use tlv::Tlv;

//! Per-call options of [`Client::send_text`](crate::Client::send_text) ([`TextOptions`]),
//! what it returns ([`Sent`]), and how an address gets its TON and NPI.

use std::time::Duration;

use smpp_pdu::address::{self, Npi, Ton};
use smpp_pdu::concat::SplitMethod;
use smpp_pdu::text::Encoding;
use smpp_pdu::time::{RelativeTime, SmppTime};
use smpp_pdu::tlv::Tlv;

use crate::config::Addressing;
use crate::Error;

/// Options of [`Client::send_text`](crate::Client::send_text): everything a campaign sets
/// on its `submit_sm`s. Build with the methods (`TextOptions::default().priority(1)...`)
/// or a struct literal ending in `..TextOptions::default()`.
///
/// Addresses: unless a TON or NPI is set here, `send_text` picks them by
/// [`smpp_pdu::address::classify`] (when [`Addressing::auto`] is on, the default):
/// `MyBrand` goes as TON 5 / NPI 0 (at most 11 characters, else
/// [`Error::SourceAddress`]), `+447700900123` as TON 1 / NPI 1 `447700900123`, digits as
/// given with the configuration's TON and NPI ([`Addressing::source`],
/// [`Addressing::dest`]). A TON or NPI set here always wins: the address then goes exactly
/// as given, its other half from the configuration.
#[derive(Clone, Debug)]
pub struct TextOptions {
    /// The alphabet; `None` picks the cheapest that holds the text
    /// ([`smpp_pdu::text::choose`]).
    pub encoding: Option<Encoding>,
    /// How a long text is split.
    pub split: SplitMethod,
    /// `registered_delivery` (1 asks for a receipt on the final outcome).
    pub registered_delivery: u8,
    /// TON of the source address; `None` for the automatic choice.
    pub source_addr_ton: Option<Ton>,
    /// NPI of the source address; `None` for the automatic choice.
    pub source_addr_npi: Option<Npi>,
    /// TON of the destination address; `None` for the automatic choice.
    pub dest_addr_ton: Option<Ton>,
    /// NPI of the destination address; `None` for the automatic choice.
    pub dest_addr_npi: Option<Npi>,
    /// `validity_period`: when the SMSC gives up delivering; `None` for its default.
    pub validity_period: Option<SmppTime>,
    /// `schedule_delivery_time`: when the SMSC first tries to deliver; `None` for now.
    pub schedule_delivery_time: Option<SmppTime>,
    /// `priority_flag`, 0 (lowest, the default) to 3.
    pub priority: u8,
    /// `service_type` (at most 5 characters: `CMT`, `WAP`, ...); empty for the default.
    pub service_type: String,
    /// `protocol_id` (GSM TP-PID), 0 by default.
    pub protocol_id: u8,
    /// `data_coding` to send instead of the one the encoding maps to (see
    /// [`smpp_pdu::text::TextConfig::data_coding`]); the text is still encoded with
    /// [`TextOptions::encoding`] (or the cheapest alphabet).
    pub data_coding: Option<u8>,
    /// `esm_class` bits to set on every segment (messaging mode, message type, reply
    /// path, ...); UDHI (`0x40`) is added by the split when segments carry a UDH.
    pub esm_class: u8,
    /// `replace_if_present_flag`: replace a stored message with the same source,
    /// destination and service type.
    pub replace_if_present: bool,
    /// TLVs to add to every segment (after the ones the split adds).
    pub tlvs: Vec<Tlv<'static>>,
    /// The caller's own reference for this message: its [`Report`](smpp_lifecycle::Report)
    /// carries it, and [`Sent::reference`] returns it. `None` has the tracker generate one.
    /// Not sent to the SMSC. A reference still in use by a tracked message is refused
    /// ([`Error::Track`]).
    pub reference: Option<String>,
    /// How long this message may wait for its final receipts before its report says
    /// [`Outcome::Expired`](smpp_lifecycle::Outcome::Expired), instead of the
    /// configuration's ([`ClientConfig::report_timeout`](crate::ClientConfig::report_timeout)).
    pub report_timeout: Option<Duration>,
    /// How long to wait for each segment's response, instead of the session's response
    /// timeout plus a margin. On expiry the call returns [`Error::Timeout`], but on the
    /// wire the request stays in the session's window until the session's own response
    /// timeout: a late response is then counted and dropped, never delivered to anyone.
    pub timeout: Option<Duration>,
}

impl Default for TextOptions {
    /// A receipt requested, the cheapest alphabet, UDH split, automatic addresses, and
    /// every other field at the SMSC's default.
    fn default() -> Self {
        TextOptions {
            encoding: None,
            split: SplitMethod::Udh8,
            registered_delivery: 1,
            source_addr_ton: None,
            source_addr_npi: None,
            dest_addr_ton: None,
            dest_addr_npi: None,
            validity_period: None,
            schedule_delivery_time: None,
            priority: 0,
            service_type: String::new(),
            protocol_id: 0,
            data_coding: None,
            esm_class: 0,
            replace_if_present: false,
            tlvs: Vec::new(),
            reference: None,
            report_timeout: None,
            timeout: None,
        }
    }
}

impl TextOptions {
    /// Encodes with this alphabet.
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = Some(encoding);
        self
    }

    /// Splits a long text this way.
    pub fn split(mut self, split: SplitMethod) -> Self {
        self.split = split;
        self
    }

    /// Sets `registered_delivery` (0 for no receipt).
    pub fn registered_delivery(mut self, value: u8) -> Self {
        self.registered_delivery = value;
        self
    }

    /// Sends the source address as given with this TON and NPI.
    pub fn source_ton_npi(mut self, ton: Ton, npi: Npi) -> Self {
        self.source_addr_ton = Some(ton);
        self.source_addr_npi = Some(npi);
        self
    }

    /// Sends the destination address as given with this TON and NPI.
    pub fn dest_ton_npi(mut self, ton: Ton, npi: Npi) -> Self {
        self.dest_addr_ton = Some(ton);
        self.dest_addr_npi = Some(npi);
        self
    }

    /// Sets the validity period: an [`AbsoluteTime`](smpp_pdu::time::AbsoluteTime) or a
    /// [`RelativeTime`] as an [`SmppTime`].
    pub fn validity_period(mut self, t: SmppTime) -> Self {
        self.validity_period = Some(t);
        self
    }

    /// Sets a relative validity period of `d` (whole seconds, at most 99 days; longer
    /// is capped at 99 days 23:59:59).
    pub fn valid_for(self, d: Duration) -> Self {
        self.validity_period(SmppTime::Relative(relative(d)))
    }

    /// Sets the scheduled delivery time (absolute or relative).
    pub fn schedule_delivery_time(mut self, t: SmppTime) -> Self {
        self.schedule_delivery_time = Some(t);
        self
    }

    /// Schedules delivery `d` from the SMSC's now (relative time, as
    /// [`TextOptions::valid_for`]).
    pub fn deliver_in(self, d: Duration) -> Self {
        self.schedule_delivery_time(SmppTime::Relative(relative(d)))
    }

    /// Sets `priority_flag`.
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// Sets `service_type`.
    pub fn service_type(mut self, service_type: impl Into<String>) -> Self {
        self.service_type = service_type.into();
        self
    }

    /// Sets `protocol_id`.
    pub fn protocol_id(mut self, protocol_id: u8) -> Self {
        self.protocol_id = protocol_id;
        self
    }

    /// Sends this `data_coding` instead of the encoding's.
    pub fn data_coding(mut self, data_coding: u8) -> Self {
        self.data_coding = Some(data_coding);
        self
    }

    /// Sets these `esm_class` bits on every segment.
    pub fn esm_class(mut self, esm_class: u8) -> Self {
        self.esm_class = esm_class;
        self
    }

    /// Sets `replace_if_present_flag`.
    pub fn replace_if_present(mut self, replace: bool) -> Self {
        self.replace_if_present = replace;
        self
    }

    /// Adds a TLV to every segment.
    pub fn tlv(mut self, tlv: Tlv<'static>) -> Self {
        self.tlvs.push(tlv);
        self
    }

    /// Sets the caller's reference, returned in [`Sent::reference`].
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Reports the message expired when its receipts have not all come within `t` (see
    /// [`TextOptions::report_timeout`]).
    pub fn report_timeout(mut self, t: Duration) -> Self {
        self.report_timeout = Some(t);
        self
    }

    /// Waits at most `timeout` for each response (see [`TextOptions::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

fn relative(d: Duration) -> RelativeTime {
    const MAX: u64 = 99 * 86_400 + 86_399;
    RelativeTime::from_seconds(d.as_secs().min(MAX)).unwrap_or_default()
}

/// What [`Client::send_text`](crate::Client::send_text) sent: the message ids in segment
/// order and the message's reference (the caller's [`TextOptions::reference`] or a
/// generated one; `None` only with tracking off). Derefs to the ids, so
/// `sent.len()`, `sent[0]`, `sent.join(", ")` and `for id in sent` read as on a
/// `Vec<String>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// The SMSC's message id of each segment, in segment order.
    pub message_ids: Vec<String>,
    /// The reference its [`Report`](smpp_lifecycle::Report) will carry.
    pub reference: Option<String>,
}

impl std::ops::Deref for Sent {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.message_ids
    }
}

impl IntoIterator for Sent {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;

    fn into_iter(self) -> Self::IntoIter {
        self.message_ids.into_iter()
    }
}

impl<'a> IntoIterator for &'a Sent {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.message_ids.iter()
    }
}

/// Which address of a message.
#[derive(Clone, Copy)]
pub(crate) enum Side {
    Source,
    Dest,
}

/// TON, NPI and the text to send for `addr`: explicit values win (the address then goes as
/// given), else [`address::classify`] when automatic, else the configuration's.
pub(crate) fn resolve_address<'a>(
    addr: &'a str,
    side: Side,
    ton: Option<Ton>,
    npi: Option<Npi>,
    addressing: &Addressing,
) -> Result<(Ton, Npi, &'a str), Error> {
    let fallback = match side {
        Side::Source => addressing.source,
        Side::Dest => addressing.dest,
    };
    if ton.is_some() || npi.is_some() || !addressing.auto {
        return Ok((ton.unwrap_or(fallback.0), npi.unwrap_or(fallback.1), addr));
    }
    match address::classify(addr, fallback) {
        Ok(a) => Ok((a.ton, a.npi, a.addr)),
        Err(e) => Err(match side {
            Side::Source => Error::SourceAddress(e),
            Side::Dest => Error::DestAddress(e),
        }),
    }
}

//! Per-call options of [`Client::send_text`](crate::Client::send_text).

use smpp_pdu::concat::SplitMethod;
use smpp_pdu::text::Encoding;

/// Options of [`Client::send_text`].
#[derive(Clone, Debug)]
pub struct TextOptions {
    /// The alphabet; `None` picks the cheapest that holds the text ([`text::choose`]).
    pub encoding: Option<Encoding>,
    /// How a long text is split.
    pub split: SplitMethod,
    /// `registered_delivery` (1 asks for a receipt on the final outcome).
    pub registered_delivery: u8,
    /// TON of the source address (5 alphanumeric, 1 international, ...).
    pub source_addr_ton: u8,
    /// NPI of the source address.
    pub source_addr_npi: u8,
    /// TON of the destination address.
    pub dest_addr_ton: u8,
    /// NPI of the destination address.
    pub dest_addr_npi: u8,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            encoding: None,
            split: SplitMethod::Udh8,
            registered_delivery: 1,
            source_addr_ton: 0,
            source_addr_npi: 0,
            dest_addr_ton: 1,
            dest_addr_npi: 1,
        }
    }
}

//! Delivery receipts: what is scheduled when a message is accepted, when and where each
//! receipt goes out, and the `deliver_sm` that carries it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::warn;
use smpp_pdu::receipt::{Receipt, ReceiptDate, ReceiptState};
use smpp_pdu::text::{self, Encoding, TextConfig};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::DeliverSm;
use smpp_transport::ConnId;

use super::{Engine, Message, Sent};

/// A receipt waiting for its time.
pub(super) struct DueReceipt {
    pub(super) at: Instant,
    /// Number of the message (its id is formatted from it).
    pub(super) id: String,
    /// The connection the submit came on (preferred for the receipt).
    pub(super) conn: ConnId,
    pub(super) system_id: Option<String>,
    /// Addresses and `esm_class` of the receipt.
    pub(super) template: DeliverSm<'static>,
    pub(super) submit_date: Option<ReceiptDate>,
    /// The start of the message's text.
    pub(super) text: String,
    pub(super) state: ReceiptState,
    /// Dropped if no receiving session shows up by then.
    pub(super) give_up: Instant,
}

/// `ReceiptDate` of a wall-clock time (UTC).
pub(super) fn receipt_date(t: SystemTime) -> Option<ReceiptDate> {
    let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let a = smpp_pdu::time::AbsoluteTime::from_unix_seconds(secs as i64, 0)?;
    Some(ReceiptDate {
        year: a.year,
        month: a.month,
        day: a.day,
        hour: a.hour,
        minute: a.minute,
        second: None,
    })
}

/// The start of the message's text for a receipt's `text:` part (UDH skipped).
pub(super) fn original_text(short_message: &[u8], esm_class: u8, data_coding: u8) -> String {
    let body = if esm_class & 0x40 != 0 {
        let udhl = short_message.first().map_or(0, |&l| l as usize + 1);
        short_message.get(udhl..).unwrap_or(&[])
    } else {
        short_message
    };
    let encoding = TextConfig::default()
        .encoding_of(data_coding)
        .unwrap_or(Encoding::Binary);
    let text = match encoding {
        Encoding::Binary => String::new(),
        enc => text::decode(body, enc).unwrap_or_default(),
    };
    text.chars()
        .filter(|c| !c.is_control())
        .take(20)
        .map(|c| if same_in_ascii_and_gsm(c) { c } else { '?' })
        .collect()
}

/// Whether `c` has the same code in ASCII and in the GSM 03.38 default alphabet. The
/// receipt's octets are labelled `data_coding` 0 (the SMSC default, GSM here) and read as
/// ASCII by most ESMEs (our own receipt parser included), so its `text:` part keeps only
/// these characters and writes `?` for the others: UTF-8 octets there were not GSM at all.
pub(super) fn same_in_ascii_and_gsm(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '!' | '"' | '#' | '%'..='/' | ':'..='?')
}

impl Engine {
    /// Remembers an accepted message and schedules its receipt if asked for.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn accepted(
        &mut self,
        id: &str,
        conn: ConnId,
        system_id: Option<String>,
        registered_delivery: u8,
        source: (u8, u8, String),
        dest: (u8, u8, String),
        text: String,
    ) {
        let state = self.config.receipt_state.clone();
        let wanted = match registered_delivery & 0x03 {
            1 => true,
            2 => state != ReceiptState::Delivered,
            3 => state == ReceiptState::Delivered,
            _ => false,
        };
        self.remember(
            id,
            Message {
                system_id: system_id.clone(),
                final_state: None,
                source_addr: source.2.clone(),
                destination_addr: dest.2.clone(),
            },
        );
        if !wanted {
            // No receipt: the message is final at once (as far as queries can tell).
            if let Some(m) = self.messages.get_mut(id) {
                m.final_state = Some(state);
            }
            return;
        }
        let template = DeliverSm {
            source_addr_ton: dest.0,
            source_addr_npi: dest.1,
            source_addr: dest.2.into(),
            dest_addr_ton: source.0,
            dest_addr_npi: source.1,
            destination_addr: source.2.into(),
            esm_class: 0x04,
            ..Default::default()
        };
        let at = Instant::now() + self.config.receipt_delay;
        self.receipts.push(DueReceipt {
            at,
            give_up: at + self.config.receipt_hold,
            id: id.to_string(),
            conn,
            system_id,
            template,
            submit_date: receipt_date(SystemTime::now()),
            text,
            state,
        });
    }

    /// Sends every receipt whose time has come.
    pub(super) fn fire_due_receipts(&mut self) {
        let now = Instant::now();
        if !self.receipts.iter().any(|r| r.at <= now) {
            return;
        }
        let (due, later): (Vec<DueReceipt>, Vec<DueReceipt>) =
            self.receipts.drain(..).partition(|r| r.at <= now);
        self.receipts = later;
        for mut r in due {
            if let Some(m) = self.messages.get_mut(&r.id) {
                m.final_state = Some(r.state.clone());
            }
            let target = self
                .conns
                .iter()
                .position(|c| c.conn.id() == r.conn && c.can_receive())
                .or_else(|| {
                    self.conns
                        .iter()
                        .position(|c| c.can_receive() && c.system_id == r.system_id)
                });
            match target {
                Some(k) => {
                    let d = receipt_pdu(&r);
                    self.send_deliver(k, d, Sent::Receipt);
                }
                None if now < r.give_up => {
                    // Nobody to deliver to yet (a receiver may bind soon): retry later.
                    r.at = (now + Duration::from_millis(100)).min(r.give_up);
                    self.receipts.push(r);
                }
                None => {
                    warn!(
                        "receipt for {} dropped: no receiver of {:?}",
                        r.id, r.system_id
                    );
                    self.shared.update(|s| s.receipts_dropped += 1);
                }
            }
        }
    }
}

/// The receipt `deliver_sm` of a due receipt: `Receipt::format` text, with the
/// `receipted_message_id` and `message_state` TLVs.
pub(super) fn receipt_pdu(r: &DueReceipt) -> DeliverSm<'static> {
    let receipt = Receipt {
        id: r.id.clone(),
        sub: Some("001".into()),
        dlvrd: None,
        submit_date: r.submit_date,
        done_date: receipt_date(SystemTime::now()),
        state: r.state.clone(),
        err: Some("000".into()),
        text: Some(r.text.clone()),
        network_error_code: None,
    };
    let mut tlvs = vec![Tlv::ReceiptedMessageId(r.id.clone().into())];
    if let Some(s) = r.state.message_state() {
        tlvs.push(Tlv::MessageState(s));
    }
    DeliverSm {
        short_message: receipt.format().into_bytes().into(),
        tlvs,
        ..r.template.clone()
    }
}

//! Inbound messages: what the dispatcher hands the application, and their
//! acknowledgement.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Sender;
use log::warn;
use smpp_pdu::concat;
use smpp_pdu::receipt::Receipt;
use smpp_pdu::text::{self, TextConfig};
use smpp_pdu::{Body, CommandId, CommandStatus, DataSmResp, DeliverSm, DeliverSmResp, Pdu};
use smpp_transport::Connection;

use crate::Inner;

/// An inbound message: an MO `deliver_sm`, a delivery receipt, a `data_sm` or an
/// `alert_notification`.
#[derive(Debug)]
pub struct Inbound {
    /// The PDU as received.
    pub pdu: Pdu<'static>,
    receipt: Option<Receipt>,
    text: Option<String>,
    ack: Option<Ack>,
}

impl Inbound {
    /// The delivery receipt, if this is one (esm_class message type 0x04 or 0x20).
    pub fn receipt(&self) -> Option<&Receipt> {
        self.receipt.as_ref()
    }

    /// The message text decoded with the link's alphabets, when it is text.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// With [`ClientConfig::manual_ack`](crate::ClientConfig::manual_ack): answers the SMSC with `status` (`ESME_ROK`, or
    /// `ESME_RX_T_APPN` to have it retried later, ...). Without it, does nothing (the
    /// message was acknowledged on arrival).
    pub fn ack(mut self, status: CommandStatus) {
        if let Some(a) = self.ack.take() {
            a.send(status);
        }
    }
}

/// The pending acknowledgement of an inbound request.
#[derive(Debug)]
pub(crate) struct Ack {
    pub(crate) conn: Arc<Connection>,
    pub(crate) sequence_number: u32,
    pub(crate) command_id: CommandId,
}

impl Ack {
    pub(crate) fn send(self, status: CommandStatus) {
        let body = if self.command_id == CommandId::DATA_SM {
            Body::from(DataSmResp::default())
        } else {
            Body::from(DeliverSmResp::default())
        };
        if let Err(e) = self.conn.respond(self.sequence_number, status, body) {
            warn!("cannot acknowledge seq {}: {e}", self.sequence_number);
        }
    }
}

impl Drop for Inbound {
    fn drop(&mut self) {
        // Never leave a message unanswered: an unacknowledged one is retried by the SMSC.
        if let Some(a) = self.ack.take() {
            a.send(CommandStatus::ESME_RX_T_APPN);
        }
    }
}

pub(crate) fn forward(inner: &Inner, tx: &Sender<Inbound>, item: Inbound) {
    // Waits while the application is behind (which pauses reading from the SMSC), but
    // gives up when the client closes. (An application that dropped its receiver emptied
    // the channel, so the send below reports it.)
    let capacity = inner.config.inbound_capacity.max(1);
    while tx.len() >= capacity {
        if inner.closing.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = tx.send(item);
}

pub(crate) fn inbound_of(pdu: Pdu<'static>, text_config: &TextConfig, ack: Option<Ack>) -> Inbound {
    let (receipt, text) = match &pdu.body {
        Body::DeliverSm(d) => (
            Receipt::is_receipt(d.esm_class)
                .then(|| Receipt::from_deliver_sm(d).ok())
                .flatten(),
            message_text(d, text_config),
        ),
        Body::DataSm(d) => (
            Receipt::is_receipt(d.esm_class)
                .then(|| Receipt::from_data_sm(d).ok())
                .flatten(),
            None,
        ),
        _ => (None, None),
    };
    Inbound {
        pdu,
        receipt,
        text,
        ack,
    }
}

fn message_text(d: &DeliverSm<'_>, text_config: &TextConfig) -> Option<String> {
    let encoding = text_config.encoding_of(d.data_coding)?;
    let user_data = if d.short_message.is_empty() {
        d.tlvs.iter().find_map(|t| match t {
            smpp_pdu::Tlv::MessagePayload(p) => Some(p.as_bytes()),
            _ => None,
        })?
    } else {
        d.short_message.as_bytes()
    };
    let body = concat::segment_of(d.esm_class, user_data, &d.tlvs)
        .map(|(_, b)| b)
        .unwrap_or(user_data);
    text::decode(body, encoding).ok()
}

//! What the client hands the application on [`Client::inbound`](crate::Client::inbound):
//! inbound PDUs as they came (receipts, MO, notifications) and what the lifecycle layer
//! made of them (one report per tracked message, whole MO messages, unmatched receipts),
//! with the acknowledgement of the PDUs that still need one.

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use log::warn;
use smpp_lifecycle::{
    Event, Incomplete, Lifecycle, Message, Progress, ReceiptMatch, Report, Routed, Unmatched,
};
use smpp_pdu::concat;
use smpp_pdu::receipt::Receipt;
use smpp_pdu::text::{self, TextConfig};
use smpp_pdu::{Body, CommandId, CommandStatus, DataSmResp, DeliverSm, DeliverSmResp, Pdu};
use smpp_transport::Connection;

use crate::{Inner, ReceiptItems};

/// What an [`Inbound`] is.
#[derive(Debug)]
#[non_exhaustive]
pub enum InboundKind {
    /// A delivery receipt as it came, parsed (TLVs first). The tracker matched it as
    /// `matched` says; the message's one [`Report`] comes separately, once every segment
    /// has its final state.
    Receipt {
        /// The `deliver_sm` or `data_sm`.
        pdu: Pdu<'static>,
        /// The parsed receipt (shared with the report of its message).
        receipt: Arc<Receipt>,
        /// What the tracker did with it (matched to a segment, held until its response,
        /// a duplicate, or unmatched).
        matched: ReceiptMatch,
    },
    /// A whole MO message, reassembled when it came in segments.
    Message {
        /// The message.
        message: Message,
        /// The PDU, when one PDU carried the whole message.
        pdu: Option<Pdu<'static>>,
    },
    /// The one final report of a message sent with
    /// [`Client::send_text`](crate::Client::send_text).
    Report(Report),
    /// An intermediate receipt (`ENROUTE`, `ACCEPTD`) for a tracked message.
    Progress(Progress),
    /// A receipt that matched no tracked message after being held for its response (or
    /// pushed out of the held ones). One that matched nothing on arrival comes only as
    /// [`InboundKind::Receipt`], with [`ReceiptMatch::Unmatched`].
    Unmatched(Unmatched),
    /// An incoming segmented message given up before all its parts came, with the parts.
    Incomplete(Incomplete),
    /// Any other inbound PDU: an `alert_notification`, a receipt that does not parse, or an
    /// MO segment when reassembly is off.
    Pdu {
        /// The PDU as received.
        pdu: Pdu<'static>,
        /// Its text decoded with the link's alphabets, when it is text.
        text: Option<String>,
    },
}

/// An item on [`Client::inbound`](crate::Client::inbound): see [`InboundKind`].
#[derive(Debug)]
pub struct Inbound {
    kind: InboundKind,
    ack: Option<Ack>,
}

impl Inbound {
    pub(crate) fn new(kind: InboundKind, ack: Option<Ack>) -> Inbound {
        Inbound { kind, ack }
    }

    /// What this is.
    pub fn kind(&self) -> &InboundKind {
        &self.kind
    }

    /// The PDU, for a receipt, a message carried by one PDU, or another PDU.
    pub fn pdu(&self) -> Option<&Pdu<'static>> {
        match &self.kind {
            InboundKind::Receipt { pdu, .. } | InboundKind::Pdu { pdu, .. } => Some(pdu),
            InboundKind::Message { pdu, .. } => pdu.as_ref(),
            _ => None,
        }
    }

    /// The delivery receipt, if this is one.
    pub fn receipt(&self) -> Option<&Receipt> {
        match &self.kind {
            InboundKind::Receipt { receipt, .. } => Some(receipt),
            _ => None,
        }
    }

    /// The report, if this is one.
    pub fn report(&self) -> Option<&Report> {
        match &self.kind {
            InboundKind::Report(r) => Some(r),
            _ => None,
        }
    }

    /// The MO message, if this is one.
    pub fn message(&self) -> Option<&Message> {
        match &self.kind {
            InboundKind::Message { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The text: of an MO message (all its segments), or of another PDU when it is text.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            InboundKind::Message { message, .. } => message.text.as_deref(),
            InboundKind::Pdu { text, .. } => text.as_deref(),
            _ => None,
        }
    }

    /// With [`ClientConfig::manual_ack`](crate::ClientConfig::manual_ack): answers the SMSC
    /// with `status` (`ESME_ROK`, or `ESME_RX_T_APPN` to have it retried later, ...).
    /// Without it, or for an item that is not a PDU awaiting its answer (a report, a
    /// reassembled message whose segments were answered as they came), does nothing.
    pub fn ack(mut self, status: CommandStatus) {
        if let Some(a) = self.ack.take() {
            a.send(status);
        }
    }
}

/// What the application gets for a lifecycle event.
fn kind_of(e: Event) -> Option<InboundKind> {
    Some(match e {
        Event::Report(r) => InboundKind::Report(r),
        Event::Progress(p) => InboundKind::Progress(p),
        Event::Unmatched(u) => InboundKind::Unmatched(u),
        Event::Message(message) => InboundKind::Message { message, pdu: None },
        Event::Incomplete(i) => InboundKind::Incomplete(i),
        // A kind this client does not know yet is logged rather than passed on
        // half-understood.
        other => {
            warn!("lifecycle event not handed on: {other:?}");
            return None;
        }
    })
}

/// What an inbound `deliver_sm` or `data_sm` becomes for the application once the
/// lifecycle layer has seen it (the one rule every face of this crate follows): a receipt
/// goes to the tracker and on with what the tracker made of it; an MO goes to the
/// reassembly, and the application gets the whole message (with the PDU when the PDU held
/// all of it); anything else passes as it came, with its text. Then whatever else the
/// lifecycle has to say (reports, progress, unmatched receipts, incomplete messages).
///
/// Returns the items in order, each with whether it carries the PDU, and so takes its
/// acknowledgement; when none does (a segment of a message not whole yet), the PDU is to
/// be acknowledged at once.
pub(crate) fn route_inbound(
    life: &mut Lifecycle,
    now: Instant,
    account: Option<&Arc<str>>,
    pdu: Pdu<'static>,
    text_config: &TextConfig,
    receipts: ReceiptItems,
) -> Vec<(InboundKind, bool)> {
    let routed = life.on_inbound_in(now, account, &pdu.body);
    // A receipt that matched nothing at once is said to be so by its own item; the
    // tracker's note of it would say it again.
    let said = match &routed {
        Routed::Receipt {
            receipt,
            matched: ReceiptMatch::Unmatched(_),
        } => Some(Arc::clone(receipt)),
        _ => None,
    };
    let mut pdu = Some(pdu);
    // Room for the usual two (a receipt and its report) without a vector's default first
    // capacity, four of these, which is past the allocator's small sizes.
    let mut items = Vec::with_capacity(2);
    match routed {
        Routed::Receipt { matched, .. }
            if receipts == ReceiptItems::Unplaced
                && matches!(
                    matched,
                    ReceiptMatch::Matched { .. } | ReceiptMatch::Held | ReceiptMatch::Duplicate
                ) =>
        {
            // Placed: its message's progress note or report carries it.
        }
        Routed::Receipt { receipt, matched } => {
            if let Some(pdu) = pdu.take() {
                let kind = InboundKind::Receipt {
                    pdu,
                    receipt,
                    matched,
                };
                items.push((kind, true));
            }
        }
        Routed::Inbox => {}
        Routed::Pass => {
            if let Some(pdu) = pdu.take() {
                let text = match &pdu.body {
                    Body::DeliverSm(d) => message_text(d, text_config),
                    _ => None,
                };
                items.push((InboundKind::Pdu { pdu, text }, true));
            }
        }
    }
    for mut kind in lifecycle_events(life) {
        if let (InboundKind::Unmatched(u), Some(r)) = (&kind, &said) {
            if Arc::ptr_eq(&u.receipt, r) {
                continue;
            }
        }
        let mut carries = false;
        if let InboundKind::Message { message, pdu: slot } = &mut kind {
            // A message this one PDU carried whole: the application gets the PDU.
            if message.segments == 1 && pdu.is_some() {
                *slot = pdu.take();
                carries = true;
            }
        }
        items.push((kind, carries));
    }
    items
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
        let body = answer_body(self.command_id);
        if let Err(e) = self.conn.respond(self.sequence_number, status, body) {
            warn!("cannot acknowledge seq {}: {e}", self.sequence_number);
        }
    }
}

/// The body that answers an inbound `deliver_sm` or `data_sm` (`command_id`).
pub(crate) fn answer_body(command_id: CommandId) -> Body<'static> {
    if command_id == CommandId::DATA_SM {
        Body::from(DataSmResp::default())
    } else {
        Body::from(DeliverSmResp::default())
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

/// How a wait for room in the inbound channel ended.
pub(crate) enum Room {
    /// Fewer than `inbound_capacity` items are unread.
    Free,
    /// The client is closing.
    Closing,
    /// Still this many unread when the wait's end came.
    Full(usize),
}

/// Waits while the application has `inbound_capacity` items or more unread, until `end`
/// (`None`: as long as it takes). (An application that dropped its receiver emptied the
/// channel, so this does not wait for it.)
pub(crate) fn room(inner: &Inner, tx: &Sender<Inbound>, end: Option<Instant>) -> Room {
    let capacity = inner.config.inbound_capacity.max(1);
    loop {
        let n = tx.len();
        if n < capacity {
            return Room::Free;
        }
        if inner.closing.load(Ordering::SeqCst) {
            return Room::Closing;
        }
        if end.is_some_and(|e| Instant::now() >= e) {
            return Room::Full(n);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits while the application is behind (which pauses reading from the SMSC); `false`
/// when the client closes meanwhile.
pub(crate) fn wait_for_room(inner: &Inner, tx: &Sender<Inbound>) -> bool {
    !matches!(room(inner, tx, None), Room::Closing)
}

/// Passes an item to the application once there is room (dropped when the client closes
/// meanwhile).
pub(crate) fn forward(inner: &Inner, tx: &Sender<Inbound>, item: Inbound) {
    if wait_for_room(inner, tx) {
        let _ = tx.send(item);
    }
}

/// The lifecycle's events, oldest first, as the application gets them (every face's way
/// of draining it).
pub(crate) fn lifecycle_events(life: &mut Lifecycle) -> impl Iterator<Item = InboundKind> + '_ {
    std::iter::from_fn(|| life.poll_event()).filter_map(kind_of)
}

impl Inner {
    /// Hands `items` (what the lifecycle said while `life` was held, in its order), then
    /// the lifecycle's own events, to the application. Any thread that changed the
    /// lifecycle does this itself, rather than waking the dispatcher for it (a context
    /// switch per report), and the order holds across threads: the outbox is taken before
    /// the lifecycle is let go. It does not wait for room: what the lifecycle says is
    /// bounded by what it tracks, new messages wait for room before they are tracked, and
    /// the dispatcher waits for room before it reads more from the SMSC. `items` is left
    /// empty, with its capacity, for the caller's next use.
    pub(crate) fn hand_over(&self, mut life: MutexGuard<'_, Lifecycle>, items: &mut Vec<Inbound>) {
        if items.is_empty() && !life.has_events() {
            return;
        }
        // Sized for the usual report or two: a vector's first growth (four items) is past
        // the allocator's small sizes, and each such allocation made it sweep its caches.
        if life.has_events() {
            items.reserve_exact(2);
            items.extend(lifecycle_events(&mut life).map(|kind| Inbound::new(kind, None)));
        }
        let Ok(out) = self.out.lock() else {
            items.clear();
            return;
        };
        drop(life);
        // Without an outbox (the dispatcher stopped) nobody reads any more: the items are
        // dropped, and an item with a pending acknowledgement answers for itself.
        match out.as_ref() {
            Some(tx) => {
                for item in items.drain(..) {
                    let _ = tx.send(item);
                }
            }
            None => items.clear(),
        }
    }
}

/// The text of a `deliver_sm` passed on as it came (an MO segment when reassembly is off):
/// its user data without the UDH, decoded with the link's alphabets.
pub(crate) fn message_text(d: &DeliverSm<'_>, text_config: &TextConfig) -> Option<String> {
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

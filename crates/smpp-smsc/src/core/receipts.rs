//! Delivery receipts: what is scheduled when a message is accepted (its final state, an
//! intermediate receipt, the final one), when and where each goes out, and the
//! `deliver_sm` that carries it.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{debug, warn};
use smpp_pdu::receipt::{Receipt, ReceiptDate, ReceiptState};
use smpp_pdu::text::{self, Encoding, TextConfig};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{Body, DeliverSm};
use smpp_transport::ConnId;

use super::{Core, Message, Sent};
use crate::{IntermediateStyle, MessageMatch, ReceiptContent, ReceiptIdForm};

/// `esm_class` of a final delivery receipt (reference §7.3).
const ESM_RECEIPT: u8 = 0x04;
/// `esm_class` of an intermediate delivery notification (reference §7.3).
const ESM_INTERMEDIATE: u8 = 0x20;
/// `registered_delivery` bit asking for intermediate notifications (reference §7.4).
const RD_INTERMEDIATE: u8 = 0x10;

/// One receipt of a message still to send.
#[derive(Clone, Debug)]
enum Step {
    /// An intermediate receipt in this state, with this `esm_class`.
    Intermediate(ReceiptState, u8),
    /// The final receipt (twice with [`crate::SmscConfig::duplicate_receipts`]).
    Final,
}

/// The receipts of one message waiting for their time.
pub(crate) struct DueReceipt {
    /// When the next step is due (or retried, while no receiving session is bound).
    pub(crate) at: Instant,
    /// The message id, as the response gave it (the `receipted_message_id` TLV).
    pub(crate) id: String,
    /// The id for the receipt text's `id:` field.
    text_id: String,
    /// The connection the submit came on (preferred for the receipt).
    conn: ConnId,
    system_id: Option<String>,
    /// Addresses and `esm_class` of the receipt.
    template: DeliverSm<'static>,
    submit_date: Option<ReceiptDate>,
    /// The start of the message's text.
    pub(crate) text: String,
    /// The final state and the `err:` code of the final receipt.
    state: ReceiptState,
    err: String,
    /// What is left to send, in order, with the time each is due.
    steps: VecDeque<(Instant, Step)>,
    /// Dropped if no receiving session shows up by then.
    give_up: Instant,
}

/// Where a message came from and went to, and what it said: the inputs of its receipts.
pub(crate) struct Accepted {
    /// Message number (its ids are formatted from it).
    pub(crate) number: u64,
    /// Its id, as the response gives it.
    pub(crate) id: String,
    pub(crate) conn: ConnId,
    pub(crate) system_id: Option<String>,
    pub(crate) registered_delivery: u8,
    /// `source_addr` ton, npi and address.
    pub(crate) source: (u8, u8, String),
    /// `destination_addr` ton, npi and address.
    pub(crate) dest: (u8, u8, String),
    /// The start of its text, for the receipt's `text:` field.
    pub(crate) text: String,
}

/// `ReceiptDate` of a wall-clock time (UTC).
pub(crate) fn receipt_date(t: SystemTime) -> Option<ReceiptDate> {
    let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let a = smpp_pdu::time::AbsoluteTime::from_unix_seconds(secs as i64, 0)?;
    Some(ReceiptDate::new(
        a.year, a.month, a.day, a.hour, a.minute, None,
    ))
}

/// The start of the message's text for a receipt's `text:` part (UDH skipped).
pub(crate) fn original_text(short_message: &[u8], esm_class: u8, data_coding: u8) -> String {
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
pub(crate) fn same_in_ascii_and_gsm(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '!' | '"' | '#' | '%'..='/' | ':'..='?')
}

impl Core {
    /// The final state and `err:` code of the message just accepted (counted here for
    /// [`MessageMatch::Every`]): the first matching rule's, else one drawn from
    /// [`crate::SmscConfig::state_mix`], else [`crate::SmscConfig::receipt_state`]. With a
    /// mix, every message draws (a rule's too), so a rule does not shift the others' draws.
    fn final_state_of(&mut self, destination_addr: &str) -> (ReceiptState, String) {
        self.accepted_messages += 1;
        let n = self.accepted_messages;
        let drawn = if self.config.state_mix.is_empty() {
            None
        } else {
            self.rng.weighted(&self.config.state_mix).cloned()
        };
        self.config
            .final_state_rules
            .iter()
            .find(|rule| match &rule.matches {
                MessageMatch::Every(every) => *every > 0 && n % every == 0,
                MessageMatch::Destination(d) => d == destination_addr,
            })
            .map(|rule| (rule.state.clone(), rule.err.clone()))
            .unwrap_or_else(|| {
                (
                    drawn.unwrap_or_else(|| self.config.receipt_state.clone()),
                    "000".into(),
                )
            })
    }

    /// The delay of the final receipt of the message just accepted:
    /// [`crate::SmscConfig::receipt_delay_dist`] drawn once per message when set, else
    /// [`crate::SmscConfig::receipt_delay`].
    fn receipt_delay_of(&mut self) -> Duration {
        match self.config.receipt_delay_dist {
            Some(dist) => self.rng.delay(dist),
            None => self.config.receipt_delay,
        }
    }

    /// Whether a message with this `registered_delivery` may get a receipt here (a final
    /// one, or an intermediate notification): its text is kept for the receipt only then.
    pub(crate) fn may_receipt(&self, rd: u8) -> bool {
        rd & 0x03 != 0 || (rd & RD_INTERMEDIATE != 0 && self.config.intermediate_receipt.is_some())
    }

    /// Remembers an accepted message and schedules its receipts if asked for: an
    /// intermediate one at once (when configured and asked for), the final one after
    /// [`crate::SmscConfig::receipt_delay`] (or a delay drawn from
    /// [`crate::SmscConfig::receipt_delay_dist`]).
    pub(crate) fn accepted(&mut self, m: Accepted) {
        let (state, err) = self.final_state_of(&m.dest.2);
        let delay = self.receipt_delay_of();
        let rd = m.registered_delivery;
        let final_wanted = match rd & 0x03 {
            1 => true,
            2 => state != ReceiptState::Delivered,
            3 => state == ReceiptState::Delivered,
            _ => false,
        };
        let intermediate = self
            .config
            .intermediate_receipt
            .as_ref()
            .and_then(|i| match i.style {
                IntermediateStyle::Notification if rd & RD_INTERMEDIATE != 0 => {
                    Some(Step::Intermediate(i.state.clone(), ESM_INTERMEDIATE))
                }
                IntermediateStyle::AsReceipt if final_wanted => {
                    Some(Step::Intermediate(i.state.clone(), ESM_RECEIPT))
                }
                _ => None,
            });
        // No final receipt: the message is final at once (as far as queries can tell).
        let final_state = (!final_wanted).then(|| state.clone());
        if intermediate.is_none() && !final_wanted {
            // Nothing to schedule: the message's fields move into the store.
            let message = Message {
                system_id: m.system_id,
                final_state,
                source_addr: m.source.2,
                destination_addr: m.dest.2,
            };
            return self.remember(&m.id, message);
        }
        self.remember(
            &m.id,
            Message {
                system_id: m.system_id.clone(),
                final_state,
                source_addr: m.source.2.clone(),
                destination_addr: m.dest.2.clone(),
            },
        );
        let now = self.now;
        let final_at = now + delay;
        let mut steps = VecDeque::new();
        if let Some(step) = intermediate {
            steps.push_back((now, step));
        }
        if final_wanted {
            steps.push_back((final_at, Step::Final));
        }
        let Some(&(at, _)) = steps.front() else {
            return;
        };
        let text_id = match self.config.receipt_text_id {
            ReceiptIdForm::SameAsResponse => m.id.clone(),
            ReceiptIdForm::Format(f) => f.format_seeded(m.number, self.config.seed),
        };
        let template = DeliverSm {
            source_addr_ton: m.dest.0,
            source_addr_npi: m.dest.1,
            source_addr: m.dest.2.into(),
            dest_addr_ton: m.source.0,
            dest_addr_npi: m.source.1,
            destination_addr: m.source.2.into(),
            esm_class: ESM_RECEIPT,
            ..Default::default()
        };
        let last = steps.back().map_or(at, |&(t, _)| t);
        let submit_date = receipt_date(self.wall_now());
        self.schedule_receipt(DueReceipt {
            at,
            give_up: last + self.config.receipt_hold,
            id: m.id,
            text_id,
            conn: m.conn,
            system_id: m.system_id,
            template,
            submit_date,
            text: m.text,
            state,
            err,
            steps,
        });
    }

    /// The connection a message's receipts go to: the one it was submitted on if that one
    /// receives, else a receiving session of the same `system_id`.
    fn receipt_target(&self, r: &DueReceipt) -> Option<ConnId> {
        match &r.system_id {
            Some(sys) => self.receiver_of(sys, Some(r.conn)),
            None => self
                .conns
                .get(&r.conn)
                .filter(|c| c.can_receive())
                .map(|c| c.id),
        }
    }

    /// Sends the steps of `r` due by `until` (all of them when `None`) to `conn`.
    fn send_steps(&mut self, conn: ConnId, r: &mut DueReceipt, until: Option<Instant>) {
        let done_date = receipt_date(self.wall_now());
        while let Some((at, step)) = r.steps.front().cloned() {
            if until.is_some_and(|t| at > t) {
                break;
            }
            r.steps.pop_front();
            match step {
                Step::Intermediate(state, esm_class) => {
                    let d = receipt_pdu(
                        r,
                        &state,
                        "000",
                        esm_class,
                        self.config.receipt_content,
                        done_date,
                    );
                    self.send_request(conn, Body::from(d), Sent::Intermediate);
                }
                Step::Final => {
                    if let Some(m) = self.messages.get_mut(&r.id) {
                        m.final_state = Some(r.state.clone());
                    }
                    let d = receipt_pdu(
                        r,
                        &r.state,
                        &r.err,
                        ESM_RECEIPT,
                        self.config.receipt_content,
                        done_date,
                    );
                    if self.config.duplicate_receipts {
                        self.send_request(conn, Body::from(d.clone()), Sent::Receipt);
                    }
                    self.send_request(conn, Body::from(d), Sent::Receipt);
                }
            }
        }
    }

    /// With [`crate::SmscConfig::receipt_before_response`]: sends every receipt of message
    /// `id` now, before its response is queued. Without a receiving session they stay
    /// scheduled.
    pub(crate) fn send_receipts_now(&mut self, id: &str) {
        let Some(key) = self
            .receipts
            .iter()
            .rev()
            .find(|(_, r)| r.id == id)
            .map(|(k, _)| *k)
        else {
            return;
        };
        let Some(target) = self.receipts.get(&key).and_then(|r| self.receipt_target(r)) else {
            debug!("receipt for {id}: no receiver yet, held");
            return;
        };
        if let Some(mut r) = self.receipts.remove(&key) {
            self.send_steps(target, &mut r, None);
        }
    }

    /// Sends every receipt whose time has come.
    pub(crate) fn fire_due_receipts(&mut self) {
        let now = self.now;
        while let Some(entry) = self.receipts.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let mut r = entry.remove();
            // Final as soon as its time has come, even while its receipt waits for a
            // receiving session.
            if r.steps
                .iter()
                .any(|(at, s)| *at <= now && matches!(s, Step::Final))
            {
                if let Some(m) = self.messages.get_mut(&r.id) {
                    m.final_state = Some(r.state.clone());
                }
            }
            match self.receipt_target(&r) {
                Some(conn) => {
                    self.send_steps(conn, &mut r, Some(now));
                    if let Some(&(at, _)) = r.steps.front() {
                        r.at = at;
                        self.schedule_receipt(r);
                    }
                }
                None if now < r.give_up => {
                    // Nobody to deliver to yet (a receiver may bind soon): retry later.
                    r.at = (now + Duration::from_millis(100)).min(r.give_up);
                    self.schedule_receipt(r);
                }
                None => {
                    warn!(
                        "receipt for {} dropped: no receiver of {:?}",
                        r.id, r.system_id
                    );
                    self.count(|s| s.receipts_dropped += 1);
                }
            }
        }
    }
}

/// A receipt `deliver_sm` of `r` in `state`: `Receipt::format` text and/or the
/// `receipted_message_id` and `message_state` TLVs, as `content` says.
fn receipt_pdu(
    r: &DueReceipt,
    state: &ReceiptState,
    err: &str,
    esm_class: u8,
    content: ReceiptContent,
    done_date: Option<ReceiptDate>,
) -> DeliverSm<'static> {
    let short_message = if content == ReceiptContent::TlvsOnly {
        Vec::new()
    } else {
        Receipt {
            sub: Some("001".into()),
            submit_date: r.submit_date,
            done_date,
            err: Some(err.into()),
            text: Some(r.text.clone()),
            ..Receipt::new(r.text_id.clone(), state.clone())
        }
        .format()
        .into_bytes()
    };
    let mut tlvs = Vec::new();
    if content != ReceiptContent::TextOnly {
        tlvs.push(Tlv::ReceiptedMessageId(r.id.clone().into()));
        if let Some(s) = state.message_state() {
            tlvs.push(Tlv::MessageState(s));
        }
    }
    DeliverSm {
        esm_class,
        short_message: short_message.into(),
        tlvs,
        ..r.template.clone()
    }
}

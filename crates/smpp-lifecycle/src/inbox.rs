//! Incoming messages (MO) made whole: segments of a long message (8-bit or 16-bit UDH
//! reference, or SAR TLVs) reassembled by [`smpp_pdu::concat::Reassembler`], with bounded
//! memory and a timeout after which the parts that came are reported; a message in one
//! `short_message` or one `message_payload` passes straight through.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use log::debug;
use smpp_pdu::concat::{self, GiveUpReason, MessageKey, Pushed, Reassembler, ReassemblyConfig};
use smpp_pdu::text::{self, Encoding, TextConfig};
use smpp_pdu::{DataSm, DeliverSm, Tlv};

use crate::Event;

/// An address as received: TON, NPI and the digits or name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Address {
    /// Type of number.
    pub ton: u8,
    /// Numbering plan indicator.
    pub npi: u8,
    /// The address (octets read as Latin-1, which never fails).
    pub addr: String,
}

impl Address {
    fn new(ton: u8, npi: u8, octets: &[u8]) -> Address {
        Address {
            ton,
            npi,
            addr: octets.iter().map(|&b| b as char).collect(),
        }
    }
}

/// A whole incoming message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Who sent it.
    pub source: Address,
    /// To whom.
    pub destination: Address,
    /// Its `data_coding`.
    pub data_coding: u8,
    /// The user data of every segment in order, headers removed.
    pub data: Vec<u8>,
    /// The text, when `data_coding` names an alphabet this crate decodes.
    pub text: Option<String>,
    /// How many segments carried it (1 for a short message or a `message_payload`).
    pub segments: u8,
    /// The concatenation reference, for a segmented message.
    pub concat_reference: Option<u16>,
}

/// A segmented message given up before all its parts came: reported with what came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// Who sent it.
    pub source: Address,
    /// To whom.
    pub destination: Address,
    /// Its `data_coding` (of the first segment that came).
    pub data_coding: u8,
    /// The segment count the message announced.
    pub total: u8,
    /// The concatenation reference.
    pub concat_reference: u16,
    /// The segments that came: `(number, user data)`, in order.
    pub received: Vec<(u8, Vec<u8>)>,
    /// The text of the parts that came, joined, when decodable.
    pub text: Option<String>,
    /// Why it was given up (timed out, or evicted to stay within the limits).
    pub reason: GiveUpReason,
}

/// What was known of a message's first segment, for its report.
#[derive(Clone, Copy, Debug)]
struct Meta {
    source_ton: u8,
    source_npi: u8,
    dest_ton: u8,
    dest_npi: u8,
    data_coding: u8,
    /// How many octets of the reassembly key's destination are the account's prefix
    /// (its name and a 0x1f), not the address.
    scope: usize,
}

/// Makes incoming segments whole; see the module docs.
#[derive(Debug)]
pub struct Inbox {
    reassembler: Reassembler,
    meta: HashMap<MessageKey, Meta>,
    text: TextConfig,
    events: VecDeque<Event>,
}

/// The fields of a `deliver_sm` or `data_sm` an inbox needs.
struct Mo<'a> {
    source: (u8, u8, &'a [u8]),
    destination: (u8, u8, &'a [u8]),
    esm_class: u8,
    data_coding: u8,
    short_message: &'a [u8],
    tlvs: &'a [Tlv<'a>],
}

impl Inbox {
    /// An inbox with these reassembly limits, decoding text with `text`.
    pub fn new(config: ReassemblyConfig, text: TextConfig) -> Inbox {
        Inbox {
            reassembler: Reassembler::new(config),
            meta: HashMap::new(),
            text,
            events: VecDeque::new(),
        }
    }

    /// Incomplete messages held.
    pub fn pending(&self) -> usize {
        self.reassembler.pending()
    }

    /// Takes an MO `deliver_sm` (not a receipt). The whole message, now or once its last
    /// segment comes, is an [`Event::Message`].
    pub fn push_deliver_sm(&mut self, now: Instant, d: &DeliverSm<'_>) {
        self.push_deliver_sm_in(now, None, d);
    }

    /// [`Inbox::push_deliver_sm`] for a PDU read on a bind of `account` (a pool's account
    /// name): its segments are put together only with segments read on the same
    /// account's binds (two SMSCs may deliver parts of different messages with the same
    /// addresses and reference).
    pub fn push_deliver_sm_in(
        &mut self,
        now: Instant,
        account: Option<&Arc<str>>,
        d: &DeliverSm<'_>,
    ) {
        self.push(
            now,
            account,
            Mo {
                source: (
                    d.source_addr_ton,
                    d.source_addr_npi,
                    d.source_addr.as_bytes(),
                ),
                destination: (
                    d.dest_addr_ton,
                    d.dest_addr_npi,
                    d.destination_addr.as_bytes(),
                ),
                esm_class: d.esm_class,
                data_coding: d.data_coding,
                short_message: d.short_message.as_bytes(),
                tlvs: &d.tlvs,
            },
        );
    }

    /// Takes an MO `data_sm` (not a receipt), like [`Inbox::push_deliver_sm`].
    pub fn push_data_sm(&mut self, now: Instant, d: &DataSm<'_>) {
        self.push_data_sm_in(now, None, d);
    }

    /// [`Inbox::push_data_sm`] for a PDU read on a bind of `account`, like
    /// [`Inbox::push_deliver_sm_in`].
    pub fn push_data_sm_in(&mut self, now: Instant, account: Option<&Arc<str>>, d: &DataSm<'_>) {
        self.push(
            now,
            account,
            Mo {
                source: (
                    d.source_addr_ton,
                    d.source_addr_npi,
                    d.source_addr.as_bytes(),
                ),
                destination: (
                    d.dest_addr_ton,
                    d.dest_addr_npi,
                    d.destination_addr.as_bytes(),
                ),
                esm_class: d.esm_class,
                data_coding: d.data_coding,
                short_message: &[],
                tlvs: &d.tlvs,
            },
        );
    }

    fn push(&mut self, now: Instant, account: Option<&Arc<str>>, mo: Mo<'_>) {
        let user_data = if mo.short_message.is_empty() {
            mo.tlvs
                .iter()
                .find_map(|t| match t {
                    Tlv::MessagePayload(p) => Some(p.as_bytes()),
                    _ => None,
                })
                .unwrap_or(&[])
        } else {
            mo.short_message
        };
        let meta = Meta {
            source_ton: mo.source.0,
            source_npi: mo.source.1,
            dest_ton: mo.destination.0,
            dest_npi: mo.destination.1,
            data_coding: mo.data_coding,
            scope: account.map_or(0, |a| a.len() + 1),
        };
        let Some((info, body)) = concat::segment_of(mo.esm_class, user_data, mo.tlvs) else {
            // Not a segment: the message is whole (a header without concatenation, ports
            // say, is dropped from the data as `segment_of` would).
            let data = strip_udh(mo.esm_class, user_data);
            self.whole(
                meta,
                mo.source.2,
                mo.destination.2,
                vec![data.to_vec()],
                None,
            );
            return;
        };
        // The destination as the reassembler keys it: after the account's name, so that
        // segments of two accounts never meet.
        let scoped: Vec<u8>;
        let keyed_destination = match account {
            None => mo.destination.2,
            Some(a) => {
                scoped = [a.as_bytes(), &[0x1f], mo.destination.2].concat();
                &scoped
            }
        };
        let key = key_of(mo.source.2, keyed_destination, info);
        let fresh = !self.meta.contains_key(&key);
        if fresh {
            self.meta.insert(key.clone(), meta);
        }
        match self
            .reassembler
            .push(now, mo.source.2, keyed_destination, info, body)
        {
            Ok(Pushed::Complete(r)) => {
                let meta = self.meta.remove(&r.key).unwrap_or(meta);
                let reference = (r.segments.len() > 1).then_some(r.key.reference);
                self.whole(
                    meta,
                    &r.key.source,
                    address_of(&r.key.destination, meta.scope),
                    r.segments,
                    reference,
                );
            }
            Ok(Pushed::Pending) | Ok(Pushed::Evicted) => {}
            Ok(Pushed::Duplicate) => {
                debug!("duplicate MO segment {}/{} ignored", info.seq, info.total);
            }
            Err(e) => {
                // A segment that cannot be placed (number 0 or above the count, larger
                // than the byte limit) is passed on alone rather than lost.
                debug!("MO segment not reassembled ({e}); passed on as it is");
                if fresh {
                    self.meta.remove(&key);
                }
                self.whole(
                    meta,
                    mo.source.2,
                    mo.destination.2,
                    vec![body.to_vec()],
                    None,
                );
            }
        }
        self.drain_incomplete();
    }

    fn whole(
        &mut self,
        meta: Meta,
        source: &[u8],
        destination: &[u8],
        segments: Vec<Vec<u8>>,
        concat_reference: Option<u16>,
    ) {
        let text = self.decode(meta.data_coding, &segments);
        let count = segments.len().min(255) as u8;
        self.events.push_back(Event::Message(Message {
            source: Address::new(meta.source_ton, meta.source_npi, source),
            destination: Address::new(meta.dest_ton, meta.dest_npi, destination),
            data_coding: meta.data_coding,
            data: segments.concat(),
            text,
            segments: count,
            concat_reference,
        }));
    }

    /// The text of `segments`: packed GSM is unpacked segment by segment (each starts on
    /// a septet boundary of its own), everything else decoded as one run of octets.
    fn decode(&self, data_coding: u8, segments: &[Vec<u8>]) -> Option<String> {
        let encoding = self.text.encoding_of(data_coding)?;
        if encoding == Encoding::Binary {
            return None;
        }
        if encoding == Encoding::Gsm7Packed {
            let mut out = String::new();
            for s in segments {
                out.push_str(&text::decode(s, encoding).ok()?);
            }
            return Some(out);
        }
        text::decode(&segments.concat(), encoding).ok()
    }

    fn drain_incomplete(&mut self) {
        while let Some(i) = self.reassembler.poll_incomplete() {
            let meta = self.meta.remove(&i.key).unwrap_or(Meta {
                source_ton: 0,
                source_npi: 0,
                dest_ton: 0,
                dest_npi: 0,
                data_coding: 0,
                scope: 0,
            });
            let parts: Vec<Vec<u8>> = i.received.iter().map(|(_, d)| d.clone()).collect();
            let text = self.decode(meta.data_coding, &parts);
            self.events.push_back(Event::Incomplete(Incomplete {
                source: Address::new(meta.source_ton, meta.source_npi, &i.key.source),
                destination: Address::new(
                    meta.dest_ton,
                    meta.dest_npi,
                    address_of(&i.key.destination, meta.scope),
                ),
                data_coding: meta.data_coding,
                total: i.key.total,
                concat_reference: i.key.reference,
                received: i.received,
                text,
                reason: i.reason,
            }));
        }
    }

    /// When the oldest incomplete message times out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.reassembler.poll_timeout()
    }

    /// Gives up the incomplete messages whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.reassembler.handle_timeout(now);
        self.drain_incomplete();
    }

    /// Whether [`Inbox::poll_event`] has something.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// The next whole or given-up message.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

/// The address in a reassembly key's destination, after `scope` octets of account prefix.
fn address_of(keyed: &[u8], scope: usize) -> &[u8] {
    keyed.get(scope..).unwrap_or(keyed)
}

fn key_of(source: &[u8], destination: &[u8], info: concat::SegmentInfo) -> MessageKey {
    MessageKey {
        source: source.to_vec(),
        destination: destination.to_vec(),
        reference: info.reference,
        total: info.total,
    }
}

/// The user data without its header, when esm_class says there is one.
fn strip_udh(esm_class: u8, user_data: &[u8]) -> &[u8] {
    if esm_class & concat::ESM_CLASS_UDHI == 0 {
        return user_data;
    }
    match user_data.first() {
        Some(&udhl) => user_data.get(1 + udhl as usize..).unwrap_or(&[]),
        None => user_data,
    }
}

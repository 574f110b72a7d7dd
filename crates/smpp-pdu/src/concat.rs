//! Long messages (reference §10): split text into segments with a User Data Header
//! (8-bit or 16-bit reference), with SAR TLVs, or into one `message_payload`; and
//! reassemble incoming segments.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::codec::OctetString;
use crate::pdu::{DeliverSm, SubmitSm};
use crate::text::{self, Encoding, TextError};
use crate::tlv::Tlv;

/// How a long message is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SplitMethod {
    /// A User Data Header with an 8-bit reference (IEI `0x00`, 6 octets); sets UDHI.
    Udh8,
    /// A User Data Header with a 16-bit reference (IEI `0x08`, 7 octets); sets UDHI.
    Udh16,
    /// The `sar_msg_ref_num`, `sar_total_segments` and `sar_segment_seqnum` TLVs; the SMSC
    /// builds the header. Segments are sized as for an 8-bit UDH.
    Sar,
    /// The whole message in one `message_payload` TLV; the SMSC segments it.
    Payload,
}

/// The most segments one message can have.
pub const MAX_SEGMENTS: usize = 255;

/// The largest `message_payload`.
pub const MAX_PAYLOAD: usize = 65_535;

/// Where a segment sits in its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SegmentInfo {
    /// The reference shared by every segment of the message.
    pub reference: u16,
    /// Number of segments, 1 to 255.
    pub total: u8,
    /// This segment's number, 1 to `total`.
    pub seq: u8,
}

/// One segment, ready to go into a `submit_sm` (or `deliver_sm`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    /// The octets for `short_message` (UDH included when `udhi` is set), or for
    /// `message_payload` when `in_payload` is set.
    pub data: Vec<u8>,
    /// Whether `data` starts with a User Data Header (set esm_class bit `0x40`).
    pub udhi: bool,
    /// For [`SplitMethod::Sar`]: the values of the three SAR TLVs.
    pub sar: Option<SegmentInfo>,
    /// Whether `data` belongs in `message_payload` rather than `short_message`.
    pub in_payload: bool,
}

/// Why a text could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SplitError {
    /// The text has a character the encoding cannot hold.
    Text(TextError),
    /// The text needs more than 255 segments.
    TooManySegments(usize),
    /// The encoded text is longer than a `message_payload` can carry.
    PayloadTooLong(usize),
}

impl From<TextError> for SplitError {
    fn from(e: TextError) -> Self {
        SplitError::Text(e)
    }
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::Text(e) => e.fmt(f),
            SplitError::TooManySegments(n) => write!(
                f,
                "the message needs {n} segments; at most 255 are possible"
            ),
            SplitError::PayloadTooLong(n) => {
                write!(
                    f,
                    "the message is {n} octets; message_payload holds at most 65535"
                )
            }
        }
    }
}

impl std::error::Error for SplitError {}

/// Capacity of one short message and of one segment, in the encoding's units (septets,
/// octets or UTF-16 units).
fn limits(encoding: Encoding, method: SplitMethod) -> (usize, usize) {
    let udh16 = method == SplitMethod::Udh16;
    match encoding {
        Encoding::Gsm7 | Encoding::Gsm7Packed => (160, if udh16 { 152 } else { 153 }),
        Encoding::Ucs2 => (70, if udh16 { 66 } else { 67 }),
        Encoding::Ascii | Encoding::Latin1 | Encoding::Binary => {
            (140, if udh16 { 133 } else { 134 })
        }
    }
}

/// Cost of one character in the encoding's units.
fn char_units(c: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 | Encoding::Gsm7Packed => {
            text::gsm_septet_count(c.encode_utf8(&mut [0; 4])).unwrap_or(1)
        }
        Encoding::Ucs2 => c.len_utf16(),
        _ => 1,
    }
}

/// Splits `text` into segments. A text that fits in one short message gives one segment
/// without header or TLVs (for [`SplitMethod::Payload`], always one payload segment).
///
/// Segments never split a GSM escape sequence or a UTF-16 surrogate pair. With
/// [`Encoding::Gsm7Packed`] and a UDH, the text septets start after the fill bits that
/// align them on a septet boundary.
pub fn split(
    text: &str,
    encoding: Encoding,
    method: SplitMethod,
    reference: u16,
) -> Result<Vec<Segment>, SplitError> {
    if method == SplitMethod::Payload {
        let data = text::encode(text, encoding)?;
        if data.len() > MAX_PAYLOAD {
            return Err(SplitError::PayloadTooLong(data.len()));
        }
        return Ok(vec![Segment {
            data,
            udhi: false,
            sar: None,
            in_payload: true,
        }]);
    }
    let (single, per_segment) = limits(encoding, method);
    // Validate once so that errors name the position in the whole text.
    let total_units: usize = match encoding {
        Encoding::Gsm7 | Encoding::Gsm7Packed => {
            text::gsm_septet_count(text).map_err(|e| match e {
                TextError::Unrepresentable { ch, position, .. } => TextError::Unrepresentable {
                    ch,
                    position,
                    encoding,
                },
                other => other,
            })?
        }
        Encoding::Ucs2 => text.encode_utf16().count(),
        _ => {
            text::encode(text, encoding)?;
            text.chars().count()
        }
    };
    if total_units <= single {
        return Ok(vec![Segment {
            data: text::encode(text, encoding)?,
            udhi: false,
            sar: None,
            in_payload: false,
        }]);
    }
    // Cut the text at character boundaries so that no part exceeds `per_segment` units.
    let mut parts: Vec<&str> = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, c) in text.char_indices() {
        let u = char_units(c, encoding);
        if used + u > per_segment {
            parts.push(&text[start..i]);
            start = i;
            used = 0;
        }
        used += u;
    }
    parts.push(&text[start..]);
    if parts.len() > MAX_SEGMENTS {
        return Err(SplitError::TooManySegments(parts.len()));
    }
    let total = parts.len() as u8;
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let info = SegmentInfo {
                reference,
                total,
                seq: i as u8 + 1,
            };
            let (udh, sar) = match method {
                SplitMethod::Udh8 => (
                    vec![0x05, 0x00, 0x03, reference as u8, total, info.seq],
                    None,
                ),
                SplitMethod::Udh16 => {
                    let r = reference.to_be_bytes();
                    (vec![0x06, 0x08, 0x04, r[0], r[1], total, info.seq], None)
                }
                _ => (Vec::new(), Some(info)),
            };
            let mut data = udh.clone();
            if encoding == Encoding::Gsm7Packed && !udh.is_empty() {
                let mut septets = Vec::with_capacity(part.len() + 1);
                text::encode_gsm_unpacked(part, &mut septets)?;
                let fill = ((7 - (udh.len() * 8) % 7) % 7) as u8;
                text::pad_with_cr(&mut septets, fill);
                text::pack_septets(&septets, fill, &mut data);
            } else {
                text::encode_into(part, encoding, &mut data)?;
            }
            Ok(Segment {
                data,
                udhi: !udh.is_empty(),
                sar,
                in_payload: false,
            })
        })
        .collect()
}

/// Reads a concatenation header from the start of a `short_message` that has UDHI set:
/// the segment position and the length of the whole UDH (to skip). Other information
/// elements in the header are skipped; `None` when there is no concatenation element or
/// the header is malformed.
pub fn parse_udh(short_message: &[u8]) -> Option<(SegmentInfo, usize)> {
    let udhl = *short_message.first()? as usize;
    let udh = short_message.get(1..1 + udhl)?;
    let mut i = 0;
    let mut found = None;
    while i + 2 <= udh.len() {
        let (iei, len) = (udh[i], udh[i + 1] as usize);
        let ie = udh.get(i + 2..i + 2 + len)?;
        match (iei, len) {
            (0x00, 3) => {
                found = Some(SegmentInfo {
                    reference: ie[0] as u16,
                    total: ie[1],
                    seq: ie[2],
                })
            }
            (0x08, 4) => {
                found = Some(SegmentInfo {
                    reference: u16::from_be_bytes([ie[0], ie[1]]),
                    total: ie[2],
                    seq: ie[3],
                })
            }
            _ => {}
        }
        i += 2 + len;
    }
    found
        .filter(|s| s.total >= 1 && s.seq >= 1 && s.seq <= s.total)
        .map(|s| (s, 1 + udhl))
}

/// Limits of a [`Reassembler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Incomplete messages kept at once; past it the oldest is evicted and reported.
    pub max_pending: usize,
    /// Octets of segment data kept at once; past it the oldest messages are evicted and
    /// reported.
    pub max_bytes: usize,
    /// How long after its first segment an incomplete message is given up and reported.
    pub timeout: Duration,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_pending: 1024,
            max_bytes: 4 << 20,
            timeout: Duration::from_secs(300),
        }
    }
}

/// What identifies the segments of one message: originator, recipient, reference and
/// segment count (the count guards against a reused reference).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageKey {
    /// `source_addr` of the segments.
    pub source: Vec<u8>,
    /// `destination_addr` of the segments.
    pub destination: Vec<u8>,
    /// The concatenation reference.
    pub reference: u16,
    /// The number of segments.
    pub total: u8,
}

/// A reassembled message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled {
    /// Whose segments these were.
    pub key: MessageKey,
    /// The user data of each segment in order, headers removed.
    pub segments: Vec<Vec<u8>>,
}

impl Reassembled {
    /// The user data of all segments, concatenated. For packed GSM text decode each segment
    /// on its own instead ([`text::unpack_septets`] with the fill bits of its header).
    pub fn data(&self) -> Vec<u8> {
        self.segments.concat()
    }
}

/// Why an incomplete message was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GiveUpReason {
    /// Its timeout passed.
    TimedOut,
    /// It was evicted to stay within [`ReassemblyConfig::max_pending`] or
    /// [`ReassemblyConfig::max_bytes`].
    Evicted,
}

/// An incomplete message that was given up: reported, never dropped silently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// Whose segments these were.
    pub key: MessageKey,
    /// The segments that did arrive: `(seq, data)`, in order.
    pub received: Vec<(u8, Vec<u8>)>,
    /// Why it was given up.
    pub reason: GiveUpReason,
}

/// What [`Reassembler::push`] did with a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The segment completed its message.
    Complete(Reassembled),
    /// The segment was stored; more are awaited.
    Pending,
    /// A segment with this number was already stored; this copy was ignored.
    Duplicate,
    /// The segment did not fit within [`ReassemblyConfig::max_bytes`] even after evicting
    /// every other message, so its message was given up (this segment included) and is
    /// reported by [`Reassembler::poll_incomplete`].
    Evicted,
}

/// Why a segment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SegmentError {
    /// `total` is 0, or `seq` is 0 or above `total`.
    InvalidPosition,
    /// The segment alone is larger than [`ReassemblyConfig::max_bytes`].
    TooLarge,
}

impl std::fmt::Display for SegmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SegmentError::InvalidPosition => {
                f.write_str("segment number is 0 or above the segment count")
            }
            SegmentError::TooLarge => {
                f.write_str("segment is larger than the reassembly byte limit")
            }
        }
    }
}

impl std::error::Error for SegmentError {}

#[derive(Debug)]
struct Partial {
    parts: Vec<Option<Vec<u8>>>,
    received: usize,
    bytes: usize,
    deadline: Instant,
    order: u64,
}

/// Reassembles segmented messages (UDH or SAR) with bounded memory.
///
/// Time comes from the caller: pass `now` to [`Reassembler::push`] and
/// [`Reassembler::handle_timeout`], and wake up at [`Reassembler::poll_timeout`]. Messages
/// given up (timed out or evicted to respect the limits) come out of
/// [`Reassembler::poll_incomplete`].
#[derive(Debug, Default)]
pub struct Reassembler {
    config: ReassemblyConfig,
    pending: HashMap<MessageKey, Partial>,
    bytes: usize,
    next_order: u64,
    given_up: VecDeque<Incomplete>,
}

impl Reassembler {
    /// A reassembler with these limits.
    pub fn new(config: ReassemblyConfig) -> Self {
        Reassembler {
            config,
            ..Reassembler::default()
        }
    }

    /// Incomplete messages held.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Octets of segment data held.
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Adds one segment. Segments may come in any order and more than once.
    pub fn push(
        &mut self,
        now: Instant,
        source: &[u8],
        destination: &[u8],
        info: SegmentInfo,
        data: &[u8],
    ) -> Result<Pushed, SegmentError> {
        if info.total == 0 || info.seq == 0 || info.seq > info.total {
            return Err(SegmentError::InvalidPosition);
        }
        if data.len() > self.config.max_bytes {
            return Err(SegmentError::TooLarge);
        }
        let key = MessageKey {
            source: source.to_vec(),
            destination: destination.to_vec(),
            reference: info.reference,
            total: info.total,
        };
        if info.total == 1 {
            return Ok(Pushed::Complete(Reassembled {
                key,
                segments: vec![data.to_vec()],
            }));
        }
        if let Some(p) = self.pending.get(&key) {
            if p.parts[info.seq as usize - 1].is_some() {
                return Ok(Pushed::Duplicate);
            }
        } else {
            while self.pending.len() >= self.config.max_pending.max(1) {
                // `key` is not pending yet, so this evicts the oldest message.
                self.evict_oldest_except(&key);
            }
            let order = self.next_order;
            self.next_order += 1;
            self.pending.insert(
                key.clone(),
                Partial {
                    parts: vec![None; info.total as usize],
                    received: 0,
                    bytes: 0,
                    deadline: now + self.config.timeout,
                    order,
                },
            );
        }
        while self.bytes + data.len() > self.config.max_bytes {
            // Evict others first; the message being added goes last.
            if !self.evict_oldest_except(&key) {
                break;
            }
        }
        let over_limit = self.bytes + data.len() > self.config.max_bytes;
        let Some(p) = self.pending.get_mut(&key) else {
            return Ok(Pushed::Pending);
        };
        p.parts[info.seq as usize - 1] = Some(data.to_vec());
        p.received += 1;
        p.bytes += data.len();
        self.bytes += data.len();
        if p.received == p.parts.len() {
            let bytes = p.bytes;
            let parts = std::mem::take(&mut p.parts);
            self.pending.remove(&key);
            self.bytes -= bytes;
            let segments = parts.into_iter().map(Option::unwrap_or_default).collect();
            return Ok(Pushed::Complete(Reassembled { key, segments }));
        }
        if over_limit {
            // Even alone this message holds more than the limit allows: give it up too,
            // this segment included, and report it.
            self.give_up(&key, GiveUpReason::Evicted);
            return Ok(Pushed::Evicted);
        }
        Ok(Pushed::Pending)
    }

    /// Gives up the oldest pending message other than `keep`; `false` if there is none.
    fn evict_oldest_except(&mut self, keep: &MessageKey) -> bool {
        let oldest = self
            .pending
            .iter()
            .filter(|(k, _)| *k != keep)
            .min_by_key(|(_, p)| p.order)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => {
                self.give_up(&k, GiveUpReason::Evicted);
                true
            }
            None => false,
        }
    }

    fn give_up(&mut self, key: &MessageKey, reason: GiveUpReason) {
        if let Some(p) = self.pending.remove(key) {
            self.bytes -= p.bytes;
            let received = p
                .parts
                .into_iter()
                .enumerate()
                .filter_map(|(i, d)| d.map(|d| (i as u8 + 1, d)))
                .collect();
            self.given_up.push_back(Incomplete {
                key: key.clone(),
                received,
                reason,
            });
        }
    }

    /// Gives up every message whose timeout has passed at `now`. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due: Vec<(u64, MessageKey)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, p)| (p.order, k.clone()))
            .collect();
        due.sort();
        for (_, k) in due {
            self.give_up(&k, GiveUpReason::TimedOut);
        }
    }

    /// When the next incomplete message times out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.deadline).min()
    }

    /// The next message that was given up, oldest first.
    pub fn poll_incomplete(&mut self) -> Option<Incomplete> {
        self.given_up.pop_front()
    }
}

/// Where a received `submit_sm`, `deliver_sm` or `data_sm` sits in a segmented message:
/// from a concatenation UDH when esm_class has UDHI (`0x40`) set, else from the SAR TLVs.
/// Returns the position and the user data without the UDH; `None` for a message that is
/// not a segment.
pub fn segment_of<'m>(
    esm_class: u8,
    user_data: &'m [u8],
    tlvs: &[Tlv<'_>],
) -> Option<(SegmentInfo, &'m [u8])> {
    let mut user_data = user_data;
    if esm_class & ESM_CLASS_UDHI != 0 {
        if let Some((info, udh_len)) = parse_udh(user_data) {
            return Some((info, &user_data[udh_len..]));
        }
        // A header without a concatenation element (ports, say): skip it, then look for SAR.
        if let Some(&udhl) = user_data.first() {
            if let Some(rest) = user_data.get(1 + udhl as usize..) {
                user_data = rest;
            }
        }
    }
    let (mut reference, mut total, mut seq) = (None, None, None);
    for t in tlvs {
        match t {
            Tlv::SarMsgRefNum(v) => reference = Some(*v),
            Tlv::SarTotalSegments(v) => total = Some(*v),
            Tlv::SarSegmentSeqnum(v) => seq = Some(*v),
            _ => {}
        }
    }
    Some((
        SegmentInfo {
            reference: reference?,
            total: total?,
            seq: seq?,
        },
        user_data,
    ))
}

/// The esm_class bit that says the user data starts with a User Data Header.
pub const ESM_CLASS_UDHI: u8 = 0x40;

impl Segment {
    /// Puts this segment into the fields of a `submit_sm` or `deliver_sm`: the data into
    /// `short_message` (or a `message_payload` TLV), UDHI into `esm_class`, and the SAR TLVs.
    pub fn apply(
        &self,
        esm_class: &mut u8,
        short_message: &mut OctetString<'static>,
        tlvs: &mut Vec<Tlv<'static>>,
    ) {
        if self.udhi {
            *esm_class |= ESM_CLASS_UDHI;
        }
        if self.in_payload {
            *short_message = OctetString::EMPTY;
            tlvs.push(Tlv::MessagePayload(OctetString::from(self.data.clone())));
        } else {
            *short_message = OctetString::from(self.data.clone());
        }
        if let Some(s) = self.sar {
            tlvs.push(Tlv::SarMsgRefNum(s.reference));
            tlvs.push(Tlv::SarTotalSegments(s.total));
            tlvs.push(Tlv::SarSegmentSeqnum(s.seq));
        }
    }

    /// A `submit_sm` for this segment: `template` with this segment's data, UDHI and SAR
    /// TLVs; set the template's `data_coding` to match the encoding used to split.
    pub fn to_submit_sm(&self, template: &SubmitSm<'_>) -> SubmitSm<'static> {
        let mut sm = template.clone().into_owned();
        self.apply(&mut sm.esm_class, &mut sm.short_message, &mut sm.tlvs);
        sm
    }

    /// A `deliver_sm` for this segment, like [`Segment::to_submit_sm`].
    pub fn to_deliver_sm(&self, template: &DeliverSm<'_>) -> DeliverSm<'static> {
        let mut sm = template.clone().into_owned();
        self.apply(&mut sm.esm_class, &mut sm.short_message, &mut sm.tlvs);
        sm
    }
}

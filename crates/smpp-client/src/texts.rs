//! Texts: [`Client::send_text`], [`Client::send_many`] and [`Client::send_segments`]. A text is encoded, split into
//! `submit_sm`s, tracked (one report per message on the inbound channel), sent with its
//! segments pipelined, and each segment's outcome recorded with the tracker.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use smpp_lifecycle::{NewMessage, ReceiptPolicy, Reference, SubmitResult, Tracked, UnknownReason};
use smpp_pdu::concat;
use smpp_pdu::text::{self, Encoding};
use smpp_pdu::{Body, SubmitSm};

use crate::inbound::{room, Room};
use crate::options::{resolve_address, Side};
use crate::pending::Completions;
use crate::send::{Record, OBSERVED};
use crate::{Client, ClientConfig, Error, Inner, Pending, Sent, TextOptions};

/// One message for [`Client::send_many`].
#[derive(Clone, Debug)]
pub struct OutgoingText {
    /// The source address (TON/NPI picked as [`TextOptions`] says).
    pub from: String,
    /// The destination address.
    pub to: String,
    /// The text.
    pub text: String,
    /// Its options (reference, receipts, validity, ...).
    pub options: TextOptions,
}

impl OutgoingText {
    /// A text with default options.
    pub fn new(from: impl Into<String>, to: impl Into<String>, text: impl Into<String>) -> Self {
        OutgoingText {
            from: from.into(),
            to: to.into(),
            text: text.into(),
            options: TextOptions::default(),
        }
    }

    /// Sets its options.
    pub fn options(mut self, options: TextOptions) -> Self {
        self.options = options;
        self
    }
}

/// A message ready to go: its `submit_sm`s and what the tracker is to know.
pub(crate) struct Prepared {
    /// Its segments, in order.
    pub(crate) segments: Vec<SubmitSm<'static>>,
    /// What the tracker is to know of it.
    pub(crate) message: NewMessage,
    /// The per-call timeout ([`TextOptions::timeout`]).
    pub(crate) timeout: Option<Duration>,
}

/// Encodes, addresses and splits a text into its `submit_sm`s, with `concat_ref` as the
/// reference that ties its segments together (every face that sends texts goes through
/// here).
pub(crate) fn prepare(
    config: &ClientConfig,
    concat_ref: u16,
    from: &str,
    to: &str,
    text: &str,
    options: &TextOptions,
) -> Result<Prepared, Error> {
    let (source_ton, source_npi, source) = resolve_address(
        from,
        Side::Source,
        options.source_addr_ton,
        options.source_addr_npi,
        &config.addressing,
    )?;
    let (dest_ton, dest_npi, dest) = resolve_address(
        to,
        Side::Dest,
        options.dest_addr_ton,
        options.dest_addr_npi,
        &config.addressing,
    )?;
    let time = |t: &Option<smpp_pdu::time::SmppTime>| match t {
        Some(t) => t.format().map(|f| f.to_vec().into()).map_err(Error::Time),
        None => Ok(Default::default()),
    };
    let encoding = options
        .encoding
        .unwrap_or_else(|| text::choose(text, &config.text));
    let data_coding = options.data_coding.unwrap_or_else(|| {
        config.text.data_coding(encoding).unwrap_or(match encoding {
            Encoding::Ucs2 => 8,
            Encoding::Latin1 => 3,
            _ => 0,
        })
    });
    let template = SubmitSm {
        service_type: options.service_type.clone().into(),
        source_addr_ton: source_ton.0,
        source_addr_npi: source_npi.0,
        source_addr: source.to_string().into(),
        dest_addr_ton: dest_ton.0,
        dest_addr_npi: dest_npi.0,
        destination_addr: dest.to_string().into(),
        esm_class: options.esm_class,
        protocol_id: options.protocol_id,
        priority_flag: options.priority,
        schedule_delivery_time: time(&options.schedule_delivery_time)?,
        validity_period: time(&options.validity_period)?,
        registered_delivery: options.registered_delivery,
        replace_if_present_flag: u8::from(options.replace_if_present),
        data_coding,
        sm_default_msg_id: 0,
        short_message: Default::default(),
        tlvs: options.tlvs.clone(),
    };
    let segments: Vec<SubmitSm<'static>> = concat::split(text, encoding, options.split, concat_ref)
        .map_err(Error::Text)?
        .iter()
        .map(|s| s.to_submit_sm(&template))
        .collect();
    Ok(Prepared::new(
        segments,
        options.registered_delivery,
        options,
    ))
}

impl Prepared {
    /// `segments` to go as one tracked message, with the reference and timeouts of
    /// `options` and receipts as `registered_delivery` asks.
    fn new(
        segments: Vec<SubmitSm<'static>>,
        registered_delivery: u8,
        options: &TextOptions,
    ) -> Prepared {
        let message = NewMessage {
            reference: options.reference.as_deref().map(Reference::from),
            segments: segments.len(),
            receipts: ReceiptPolicy::from_registered_delivery(registered_delivery),
            report_timeout: options.report_timeout,
            submitted_unix_ms: unix_ms(),
        };
        Prepared {
            segments,
            message,
            timeout: options.timeout,
        }
    }
}

/// A message the caller built as its `submit_sm`s, ready to go: tracked with the
/// reference and timeouts of `options`, receipts as the first segment's
/// `registered_delivery` asks. No segment, or more than 255, is [`Error::Segments`].
pub(crate) fn prepare_segments(
    segments: Vec<SubmitSm<'static>>,
    options: &TextOptions,
) -> Result<Prepared, Error> {
    let registered_delivery = match segments.first() {
        Some(first) if segments.len() <= 255 => first.registered_delivery,
        _ => return Err(Error::Segments(segments.len())),
    };
    Ok(Prepared::new(segments, registered_delivery, options))
}

impl Inner {
    /// [`prepare`] with the client's configuration and its next concatenation reference.
    fn prepare(
        &self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<Prepared, Error> {
        let concat_ref = self.next_reference.fetch_add(1, Ordering::Relaxed) as u16;
        prepare(&self.config, concat_ref, from, to, text, options)
    }

    /// Starts tracking messages (each one's report comes on the inbound channel), under
    /// one hold of the lifecycle's lock for all of them.
    ///
    /// New messages wait (at most `wait`) while the application has
    /// [`ClientConfig::inbound_capacity`](crate::ClientConfig::inbound_capacity) items
    /// unread, and fail with [`Error::InboundFull`] after that: every tracked message ends
    /// in a report there, so this is what keeps an application that sends and never reads
    /// from growing without bound.
    fn track_many(&self, messages: Vec<NewMessage>, wait: Duration) -> Vec<Result<Tracked, Error>> {
        if let Err(unread) = self.wait_for_reader(wait) {
            return messages
                .iter()
                .map(|_| Err(Error::InboundFull(unread)))
                .collect();
        }
        let Ok(mut life) = self.life.lock() else {
            return messages.iter().map(|_| Err(Error::Closed)).collect();
        };
        let before = life.poll_timeout();
        let now = Instant::now();
        let r = messages
            .into_iter()
            .map(|m| life.tracker_mut().submit(now, m).map_err(Error::Track))
            .collect();
        self.to_store(&mut life);
        let earlier = match (before, life.poll_timeout()) {
            (Some(b), Some(a)) => a < b,
            (None, a) => a.is_some(),
            (Some(_), None) => false,
        };
        // Tracking may have evicted older messages: their reports go out now.
        self.hand_over(life, &mut Vec::new());
        // The dispatcher sleeps until the deadline it knew: told only when one of these is
        // earlier (a wake-up per message would cost it a context switch each).
        if earlier {
            self.nudge();
        }
        r
    }

    /// Waits at most `wait` while the inbound channel holds
    /// [`ClientConfig::inbound_capacity`](crate::ClientConfig::inbound_capacity) items or
    /// more; `Err` with the count when it still does (the application is not reading).
    fn wait_for_reader(&self, wait: Duration) -> Result<(), usize> {
        // No outbox: nobody reads any more, and nothing waits for room.
        let Some(tx) = self.out.lock().ok().and_then(|o| o.clone()) else {
            return Ok(());
        };
        // A wait past the clock's range is a wait without end.
        match room(self, &tx, Instant::now().checked_add(wait)) {
            Room::Full(n) => Err(n),
            Room::Free | Room::Closing => Ok(()),
        }
    }

    /// Records segments' outcomes with the tracker (under one hold of its lock), and hands
    /// on the reports they complete (receipts came first, or none was asked).
    pub(crate) fn record_many(&self, records: &mut Vec<Record>) {
        if records.is_empty() && !self.has_accepted() {
            return;
        }
        let Ok(mut life) = self.life.lock() else {
            records.clear();
            return;
        };
        // The observer's acceptances first (also so that its queue does not grow when no
        // receipts come to have the dispatcher take them).
        let now = Instant::now();
        self.take_accepted(now, &mut life);
        for (id, segment, result) in records.drain(..) {
            life.tracker_mut()
                .on_submit_result_in(now, self.account.as_ref(), id, segment, result);
        }
        self.to_store(&mut life);
        self.hand_over(life, &mut Vec::new());
    }
}

/// Now, in milliseconds since the Unix epoch (0 on a clock before it).
pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What the tracker is told about a segment's `submit_sm` (`NotSent`: it never went out).
pub(crate) fn submit_result(r: &Result<String, Error>) -> SubmitResult {
    match r {
        Ok(id) => SubmitResult::Accepted {
            message_id: id.clone(),
        },
        Err(Error::Status(s)) => SubmitResult::Refused(*s),
        Err(Error::NotSent) => SubmitResult::NotSent,
        Err(Error::Timeout) => SubmitResult::Unknown(UnknownReason::Timeout),
        Err(Error::Disconnected) => SubmitResult::Unknown(UnknownReason::Disconnected),
        Err(_) => SubmitResult::Unknown(UnknownReason::Other),
    }
}

/// The most segments handed to the connection in one go by [`Client::send_many`].
const MAX_GROUP: usize = 64;

/// Segments waiting to be handed to the connection together: (message, segment, body,
/// per-call timeout).
type Batch = Vec<(usize, usize, Body<'static>, Option<Duration>)>;

/// One message on its way through [`Client::send_many`].
struct InFlight {
    tracked: Option<Tracked>,
    reference: Option<String>,
    ids: Vec<Option<Result<String, Error>>>,
    remaining: usize,
}

impl Client {
    /// Encodes `text` (choosing the cheapest alphabet unless told), splits it if long,
    /// submits every segment (all in flight at once) and returns the message ids in segment
    /// order with the message's reference.
    ///
    /// The message is tracked (unless [`ClientConfig::track`](crate::ClientConfig::track)
    /// turned it off) from before its first segment goes out: its one
    /// [`Report`](smpp_lifecycle::Report) comes on [`Client::inbound`] once every segment
    /// has a final state (or the report timeout passed), whatever this call returns: a
    /// refused segment makes this call fail and the report say
    /// [`Outcome::Failed`](smpp_lifecycle::Outcome::Failed).
    ///
    /// The addresses get their TON and NPI as [`TextOptions`] says (automatic by default:
    /// `MyBrand` as 5/0, `+447700900123` as 1/1 `447700900123`); every other field of the
    /// `submit_sm`s comes from `options`. A throttled segment is resent as
    /// [`ClientConfig::throttle`](crate::ClientConfig::throttle) allows, the others staying
    /// in flight.
    pub fn send_text(
        &self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<Sent, Error> {
        let prepared = self.inner.prepare(from, to, text, options)?;
        let window = prepared.segments.len();
        self.send_prepared(std::iter::once(Ok(prepared)), window)
            .pop()
            .unwrap_or(Err(Error::Closed))
    }

    /// Sends one message the caller built as its `submit_sm`s (binary octets, a user data
    /// header of its own, a coding this client does not write), tracked as
    /// [`Client::send_text`] says: all segments in flight at once, one
    /// [`Report`](smpp_lifecycle::Report) on [`Client::inbound`] when every segment has a
    /// final state. The segments go as given (no address rule, no splitting); receipts
    /// are expected as the first segment's `registered_delivery` asks. From `options` only
    /// the reference, the report timeout and the per-call timeout apply.
    ///
    /// No segment, or more than 255, is [`Error::Segments`] and sends nothing.
    pub fn send_segments(
        &self,
        segments: Vec<SubmitSm<'static>>,
        options: &TextOptions,
    ) -> Result<Sent, Error> {
        let window = segments.len();
        let prepared = prepare_segments(segments, options)?;
        self.send_prepared(std::iter::once(Ok(prepared)), window)
            .pop()
            .unwrap_or(Err(Error::Closed))
    }

    /// Sends many texts, keeping up to `window` segments in flight across messages, and
    /// returns each message's result in input order. Every message is tracked as
    /// [`Client::send_text`] says (one report each on [`Client::inbound`]); a message that
    /// cannot be prepared (an address, a text that does not encode) or tracked (its
    /// reference in use) gets its error and the others go on.
    ///
    /// Read [`Client::inbound`] while this runs when many reports are due: it holds
    /// [`ClientConfig::inbound_capacity`](crate::ClientConfig::inbound_capacity) items,
    /// and once it is full the client stops reading from the SMSC.
    ///
    /// Segments go to the connection in groups (the window's free room, at most 64), one
    /// hand-over each, while the iterator says more messages are there (its `size_hint`,
    /// as a collection's does); from an iterator that may wait for its next message (a
    /// channel's), each message goes out as soon as it is taken.
    pub fn send_many(
        &self,
        texts: impl IntoIterator<Item = OutgoingText>,
        window: usize,
    ) -> Vec<Result<Sent, Error>> {
        let prepared = texts
            .into_iter()
            .map(|t| self.inner.prepare(&t.from, &t.to, &t.text, &t.options));
        self.send_prepared(prepared, window)
    }

    fn send_prepared(
        &self,
        messages: impl Iterator<Item = Result<Prepared, Error>>,
        window: usize,
    ) -> Vec<Result<Sent, Error>> {
        let window = window.max(1);
        let tracking = self.inner.config.lifecycle.tracking;
        // Segments handed to the connection together: the window's free room at a time,
        // so that the loop gets one command (and writes once) for them instead of one per
        // segment. A rate cap paces each segment, so there is nothing to group then.
        let group = if self.inner.rate.is_some() {
            1
        } else {
            window.min(MAX_GROUP)
        };
        let mut f = Flight::new(window);
        let mut messages = messages.enumerate();
        while let Some((i, prepared)) = messages.next() {
            f.results.push(None);
            f.states.push(None);
            let prepared = match prepared {
                Ok(p) => p,
                Err(e) => {
                    f.results[i] = Some(Err(e));
                    continue;
                }
            };
            let n = prepared.segments.len();
            f.states[i] = Some(InFlight {
                tracked: None,
                // A tracked message's reference comes back from the tracker.
                reference: if tracking {
                    None
                } else {
                    prepared.message.reference.as_deref().map(String::from)
                },
                ids: (0..n).map(|_| None).collect(),
                remaining: n,
            });
            // Tracked (with the others of its group) before its first segment goes out,
            // so that a receipt racing its response finds the message.
            if tracking {
                f.untracked.push((i, prepared.message));
            }
            for (j, sm) in prepared.segments.into_iter().enumerate() {
                while f.queue.len() + f.batch.len() >= window {
                    if !f.batch.is_empty() {
                        self.hand_over(&mut f);
                        continue;
                    }
                    self.complete_oldest(&mut f);
                    // And every response already there, so their room is filled together.
                    while f.queue.front().is_some_and(|(_, _, p)| p.is_ready()) {
                        self.complete_oldest(&mut f);
                    }
                }
                // Its tracking was refused (in a hand-over above): none of it goes out.
                if f.states[i].is_none() {
                    break;
                }
                f.batch.push((i, j, Body::from(sm), prepared.timeout));
                if f.batch.len() >= group {
                    self.hand_over(&mut f);
                }
            }
            // Only an iterator that says more messages are there (a collection's) is waited
            // on to fill a group: one that may block for its next message (a channel's)
            // gets this message's segments handed over now.
            if messages.size_hint().0 == 0 {
                self.hand_over(&mut f);
            }
        }
        self.hand_over(&mut f);
        // Nothing more is handed over: with the sender gone, the channel ends once every
        // reply the transport holds is sent or dropped, so no wait outlasts a lost reply.
        f.reply = None;
        while !f.queue.is_empty() {
            self.complete_oldest(&mut f);
        }
        self.record(&mut f);
        let results = f
            .results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::Closed)));
        // With a store, what this returns as sent is written there first.
        let Some(link) = &self.inner.store else {
            return results.collect();
        };
        if let Ok(mut l) = self.inner.life.lock() {
            self.inner.to_store(&mut l);
        }
        let seq = self.inner.store_seq.load(Ordering::Relaxed);
        let durable = link.wait_durable(seq, self.inner.config.store_timeout);
        match durable {
            Ok(()) => results.collect(),
            Err(e) => results
                .map(|r| r.and_then(|sent| Err(Error::NotDurable(Box::new(sent), e.clone()))))
                .collect(),
        }
    }

    /// Tracks the messages not tracked yet (a message whose tracking fails gets its error,
    /// and its segments stay here), then hands the grouped segments to the connection at
    /// once; a segment that could not be handed over (no connection) is settled as not
    /// sent.
    fn hand_over(&self, f: &mut Flight) {
        if !f.untracked.is_empty() {
            let (at, messages): (Vec<usize>, Vec<NewMessage>) = f.untracked.drain(..).unzip();
            let mut refused = Vec::new();
            // Once the application was waited for in vain, the rest fail at once.
            // As long as the calls' own timeouts allow (the response timeout by default).
            let wait = if f.reader_behind {
                Duration::ZERO
            } else {
                f.batch
                    .iter()
                    .filter_map(|b| b.3)
                    .min()
                    .unwrap_or(self.inner.config.session.response_timeout)
            };
            for (i, r) in at.into_iter().zip(self.inner.track_many(messages, wait)) {
                if matches!(r, Err(Error::InboundFull(_))) {
                    f.reader_behind = true;
                }
                match (r, f.states[i].as_mut()) {
                    (Ok(t), Some(state)) => state.tracked = Some(t),
                    (Ok(_), None) => {}
                    (Err(e), _) => {
                        f.states[i] = None;
                        f.results[i] = Some(Err(e));
                        refused.push(i);
                    }
                }
            }
            if !refused.is_empty() {
                f.batch.retain(|(i, ..)| !refused.contains(i));
            }
        }
        if f.batch.is_empty() {
            return;
        }
        let states = &f.states;
        let (at, bodies): (Vec<(usize, usize)>, Vec<_>) = f
            .batch
            .drain(..)
            .map(|(i, j, body, timeout)| {
                let tracked = states[i].as_ref().and_then(|s| s.tracked.as_ref());
                ((i, j), (body, timeout, tracked.map(|t| (t.id, j))))
            })
            .unzip();
        // The reply's sender is let go only after the last hand-over (see `send_many`).
        let sent = match f.reply.as_ref() {
            Some(reply) => self.inner.pending_batch(bodies, &f.completions, reply),
            None => bodies.iter().map(|_| Err(Error::NotSent)).collect(),
        };
        for ((i, j), p) in at.into_iter().zip(sent) {
            match p {
                Ok(p) => f.queue.push_back((i, j, p)),
                // Nothing was written: the SMSC cannot have it.
                Err(e) => {
                    let e = match e {
                        Error::Disconnected => Error::NotSent,
                        e => e,
                    };
                    f.settle(i, j, Err(e), true);
                }
            }
        }
    }

    /// Records the outcomes collected so far with the tracker (and the observer's queue).
    fn record(&self, f: &mut Flight) {
        self.inner.record_many(&mut f.records);
    }

    /// Waits for the oldest segment in flight and settles it. Outcomes are recorded with
    /// the tracker in groups: those collected so far, before this blocks.
    fn complete_oldest(&self, f: &mut Flight) {
        let Some((i, j, mut p)) = f.queue.pop_front() else {
            return;
        };
        if !p.is_ready() {
            self.record(f);
        }
        let r = p
            .wait_submit_mut()
            .map(|r| r.message_id.to_str_lossy().into_owned());
        // What this thread records with the tracker itself. An acceptance under an observed
        // tag is not: the connection's observer queued it before the response reached this
        // thread, and the tracker takes it from that queue ([`Inner::take_accepted`]).
        // A segment that failed here (an error, or a timeout of its own shorter than the
        // session's) leaves the observer's map at once, so that an acceptance arriving late
        // is not recorded and the tracker keeps the outcome the caller was given; unless
        // the acceptance was taken from the queue already (the response came just as the
        // wait ended): then the tracker has it, and this failure is not recorded over it.
        let observed = p.tag & OBSERVED != 0;
        let record = match &r {
            Ok(_) => !observed,
            Err(_) => !observed || self.inner.forget_observed([p.tag]) == 1,
        };
        f.settle(i, j, r, record);
    }
}

/// The state of one [`Client::send_many`] call.
struct Flight {
    /// Each message's result, in input order, once known.
    results: Vec<Option<Result<Sent, Error>>>,
    /// Each message on its way.
    states: Vec<Option<InFlight>>,
    /// Segments in flight, oldest first: (message, segment, its request).
    queue: VecDeque<(usize, usize, Pending)>,
    /// Segments to hand to the connection together.
    batch: Batch,
    /// Messages to track before their segments are handed over.
    untracked: Vec<(usize, NewMessage)>,
    /// Segment outcomes to record with the tracker.
    records: Vec<Record>,
    /// A message failed because the application did not read its inbound items in time.
    reader_behind: bool,
    /// Where the outcomes of all its requests arrive.
    completions: Arc<Completions>,
    /// The sender the requests' replies are cloned from, until the last hand-over.
    reply: Option<crossbeam_channel::Sender<smpp_transport::Completed>>,
}

impl Flight {
    fn new(window: usize) -> Self {
        let (completions, reply) = Completions::new();
        Flight {
            results: Vec::new(),
            states: Vec::new(),
            queue: VecDeque::with_capacity(window),
            batch: Batch::new(),
            untracked: Vec::new(),
            records: Vec::new(),
            reader_behind: false,
            completions,
            reply: Some(reply),
        }
    }

    /// Settles segment `j` of message `i`; once all its segments are settled, fills in the
    /// message's result. A tracked segment's outcome is kept to be recorded with the
    /// tracker when `record` says this thread records it (see `complete_oldest`); no copy
    /// of an id is made otherwise.
    fn settle(&mut self, i: usize, j: usize, r: Result<String, Error>, record: bool) {
        let Some(state) = self.states[i].as_mut() else {
            return;
        };
        if let (Some(t), true) = (&state.tracked, record) {
            self.records.push((t.id, j, submit_result(&r)));
        }
        state.ids[j] = Some(r);
        state.remaining -= 1;
        if state.remaining > 0 {
            return;
        }
        let Some(state) = self.states[i].take() else {
            return;
        };
        let reference = state
            .tracked
            .map(|t| String::from(&*t.reference))
            .or(state.reference);
        // Not sent only when no segment went out: a message partly sent is unknown.
        let none_sent = state
            .ids
            .iter()
            .all(|r| matches!(r, Some(Err(Error::NotSent))));
        let message_ids = state
            .ids
            .into_iter()
            .map(|r| match r {
                Some(Err(Error::NotSent)) if !none_sent => Err(Error::Disconnected),
                r => r.unwrap_or(Err(Error::Closed)),
            })
            .collect::<Result<Vec<String>, Error>>();
        self.results[i] = Some(message_ids.map(|message_ids| Sent {
            message_ids,
            reference,
        }));
    }
}

//! What the session and the lifecycle layer said, as [`Event`]s: responses resolved once
//! each, a text's segments settled into its one outcome, inbound PDUs routed and answered,
//! the close, and the backlog of segments waiting for room in the window.

use super::*;

impl Core {
    /// Moves segments waiting for room into the window.
    pub(super) fn feed_backlog(&mut self, now: Instant) {
        while !self.backlog.is_empty()
            && self.session.in_flight() < self.session.config().window
            && self.rate_ready()
        {
            let Some((id, j, sm)) = self.backlog.pop_front() else {
                break;
            };
            let body = Body::from(sm);
            match self.session.send_request(now, &body) {
                Ok(seq) => {
                    self.take_slot();
                    self.segments.insert(seq, (id, j));
                    self.keep_for_retry(seq, Origin::Segment(id, j), &body);
                }
                Err(SendError::WindowFull) => {
                    // Not expected (the window was checked); it waits for the next room.
                    if let Body::SubmitSm(sm) = body {
                        self.backlog.push_front((id, j, sm));
                    }
                    break;
                }
                Err(e) => {
                    self.segment_done(now, id, j, Err(refused(e)), SubmitResult::NotSent);
                }
            }
        }
    }

    /// Turns what the session said into events, answering inbound requests, then what the
    /// lifecycle layer said.
    pub(super) fn translate(&mut self, now: Instant) {
        while let Some(ev) = self.session.poll_event() {
            self.on_session_event(now, ev);
        }
        self.drain_lifecycle();
    }

    /// One thing the session said, as events (answering an inbound request).
    pub(super) fn on_session_event(&mut self, now: Instant, ev: smpp_session::Event) {
        {
            use smpp_session::Event as S;
            match ev {
                S::Response {
                    sequence_number,
                    pdu,
                    ..
                } => self.resolve(
                    now,
                    sequence_number,
                    outcome_to_result(Outcome::Response(pdu)),
                ),
                S::ResponseTimeout {
                    sequence_number, ..
                } => self.resolve(now, sequence_number, Err(Error::Timeout)),
                S::RequestFailed {
                    sequence_number,
                    reason,
                    ..
                } => self.resolve(
                    now,
                    sequence_number,
                    outcome_to_result(Outcome::Failed(reason)),
                ),
                S::Request {
                    sequence_number,
                    pdu,
                } => self.inbound(now, sequence_number, pdu),
                S::Notification { pdu } => self
                    .events
                    .push_back(Event::Inbound(InboundKind::Pdu { pdu, text: None })),
                S::BindRejected { status } => {
                    warn!("bind rejected: {status:?}");
                    self.bind_rejected = Some(status);
                }
                S::Closed { reason } => self.on_closed(now, reason),
                S::Bound { .. } | S::Unbound => {}
                other => debug!("session: {other:?}"),
            }
        }
    }

    /// A request resolved: a segment of a text, the bind or unbind, or the caller's.
    pub(super) fn resolve(&mut self, now: Instant, seq: u32, result: Result<Pdu<'static>, Error>) {
        if let (Err(Error::Status(s)), Some(rate)) = (&result, self.rate.as_mut()) {
            if crate::pending::is_throttled(*s) {
                // The SMSC asks for less: the cap comes down for a while.
                rate.throttled(now);
            }
        }
        if !self.keep.is_empty() && self.held_for_retry(now, seq, &result) {
            return;
        }
        if self.bind_seq == Some(seq) || self.unbind_seq == Some(seq) {
            // The session reports the bind and the unbind by their own events.
            return;
        }
        // (Raw submits, the common case under load, skip the lookup while no text is out.)
        let segment = if self.segments.is_empty() {
            None
        } else {
            self.segments.remove(&seq)
        };
        if let Some((id, j)) = segment {
            let r = result.and_then(|p| match p.body {
                Body::SubmitSmResp(r) => Ok(r.message_id.to_str_lossy().into_owned()),
                _ => Err(Error::UnexpectedResponse),
            });
            let outcome = submit_result(&r);
            self.segment_done(now, id, j, r, outcome);
            return;
        }
        let id = self.aliases.remove(&seq).unwrap_or(seq);
        self.events.push_back(Event::Response {
            id: RequestId(id),
            result,
        });
    }

    /// Records segment `j` of text `id`: with the tracker at once, and once every segment
    /// is settled, as the text's [`Event::Sent`].
    pub(super) fn segment_done(
        &mut self,
        now: Instant,
        id: u64,
        j: usize,
        r: Result<String, Error>,
        outcome: SubmitResult,
    ) {
        let Some(t) = self.texts.get_mut(&id) else {
            return;
        };
        let Some(slot) = t.ids.get_mut(j) else {
            return;
        };
        if slot.is_some() {
            return;
        }
        *slot = Some(r);
        t.remaining -= 1;
        if let Some(track) = t.tracked {
            self.life.lock().tracker_mut().on_submit_result_in(
                now,
                self.account.as_ref(),
                track,
                j,
                outcome,
            );
        }
        if t.remaining > 0 {
            return;
        }
        let Some(t) = self.texts.remove(&id) else {
            return;
        };
        let message_ids = t
            .ids
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::Closed)))
            .collect::<Result<Vec<String>, Error>>();
        let reference = t.reference;
        self.events.push_back(Event::Sent {
            id: TextId(id),
            result: message_ids.map(|message_ids| Sent {
                message_ids,
                reference,
            }),
        });
    }

    /// An inbound request: a `deliver_sm`/`data_sm` goes through the lifecycle layer and is
    /// answered `ESME_ROK`; anything else is answered `generic_nack` (`ESME_RINVCMDID`).
    pub(super) fn inbound(&mut self, now: Instant, seq: u32, pdu: Pdu<'static>) {
        let command_id = pdu.command_id();
        let (status, body) = match command_id {
            CommandId::DELIVER_SM => (
                CommandStatus::ESME_ROK,
                Body::from(DeliverSmResp::default()),
            ),
            CommandId::DATA_SM => (CommandStatus::ESME_ROK, Body::from(DataSmResp::default())),
            other => {
                warn!("answering an unexpected {other:?} with generic_nack");
                (
                    CommandStatus::ESME_RINVCMDID,
                    Body::from(GenericNack::default()),
                )
            }
        };
        if status == CommandStatus::ESME_ROK {
            let mut life = self.life.lock();
            if life.poll_timeout().is_some_and(|t| t <= now) {
                life.handle_timeout(now);
            }
            for (kind, _) in route_inbound(
                &mut life,
                now,
                self.account.as_ref(),
                pdu,
                &self.config.text,
                self.config.receipt_items,
            ) {
                self.events.push_back(Event::Inbound(kind));
            }
        }
        if let Err(e) = self.session.send_response(now, seq, status, body) {
            warn!("cannot answer seq {seq}: {e}");
        }
    }

    /// The session closed: segments never sent fail, every tracked message gets its report
    /// (no receipt can come any more), then [`Event::Closed`].
    pub(super) fn on_closed(&mut self, now: Instant, reason: CloseReason) {
        info!("session closed: {reason:?}");
        // Throttled requests waiting for their turn never went again.
        for (_, r) in std::mem::take(&mut self.due) {
            self.give_up_retry(now, r, Error::NotSent);
        }
        self.keep.clear();
        self.aliases.clear();
        while let Some((id, j, _)) = self.backlog.pop_front() {
            self.segment_done(now, id, j, Err(Error::Disconnected), SubmitResult::NotSent);
        }
        // The session failed every request in flight before `Closed`; whatever is left
        // (nothing, unless a rule changed) is failed here rather than left open.
        let left: Vec<(u32, (u64, usize))> = self.segments.drain().collect();
        for (_, (id, j)) in left {
            self.segment_done(
                now,
                id,
                j,
                Err(Error::Disconnected),
                SubmitResult::Unknown(UnknownReason::Disconnected),
            );
        }
        if !self.keep_tracking {
            self.life.lock().expire_all(now);
        }
        self.drain_lifecycle();
        if reason == CloseReason::PeerClosed && self.unbind_seq.is_some() {
            info!("the SMSC closed the connection on our unbind; the session is over");
            self.unbind_closed_by_peer += 1;
        }
        self.closed = Some(reason);
        self.events.push_back(Event::Closed {
            reason,
            error: self.io_error.take(),
        });
    }

    pub(super) fn drain_lifecycle(&mut self) {
        self.events
            .extend(lifecycle_events(&mut self.life.lock()).map(Event::Inbound));
    }
}

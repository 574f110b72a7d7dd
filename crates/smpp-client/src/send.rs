//! The request paths of [`Client`]: one request, submits (one, pipelined, a batch),
//! texts with their options, and the other ESME operations.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::debug;
use smpp_lifecycle::{Lifecycle, SubmitResult, TrackId};
use smpp_pdu::{
    Body, CancelSm, DataSm, DataSmResp, Pdu, QuerySm, QuerySmResp, ReplaceSm, SubmitMulti,
    SubmitMultiResp, SubmitSm, SubmitSmResp,
};
use smpp_transport::{Completed, Connection, ResponseObserver};

use crate::pending::{is_throttled, outcome_to_result, Completions, Resend, Source};

/// The bit of a request's tag that marks a tracked segment, whose acceptance the
/// connection's observer queues ([`Inner::observe`]).
pub(crate) const OBSERVED: u64 = 1 << 63;

/// A segment's outcome for the tracker, as the sending thread settled it: the message, the
/// segment, the outcome.
pub(crate) type Record = (TrackId, usize, SubmitResult);

/// A request of [`Inner::pending_batch`]: its body, its per-call timeout, and the tracked
/// segment it carries (message and segment index), if any.
pub(crate) type BatchRequest = (Body<'static>, Option<Duration>, Option<(TrackId, usize)>);
use crate::{Client, Error, Inner, Pending, ThrottlePolicy};

impl Inner {
    /// Sends `body` now and returns where its outcome arrives.
    pub(crate) fn start(
        &self,
        body: Body<'static>,
    ) -> Result<crossbeam_channel::Receiver<Completed>, Error> {
        self.pace();
        let conn = self.connection()?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        conn.request(body, tag, &tx)
            .map_err(|_| Error::Disconnected)?;
        Ok(rx)
    }

    /// A new request's tag, the sender its outcome goes to, and its [`Pending`], which
    /// waits `timeout` (or the session's response timeout and a margin) for each response
    /// and keeps the body for a resend only when the throttling policy may resend it.
    ///
    /// With `shared` (the channel of a `send_many` call and its sender), the outcome goes
    /// there instead of to a channel of the request's own.
    fn new_pending(
        self: &Arc<Self>,
        body: &Body<'static>,
        timeout: Option<Duration>,
        observed: bool,
        shared: Option<(&Arc<Completions>, &crossbeam_channel::Sender<Completed>)>,
    ) -> (u64, crossbeam_channel::Sender<Completed>, Pending) {
        let keep =
            matches!(self.config.throttle, ThrottlePolicy::Retry { attempts, .. } if attempts > 0);
        let (tx, rx) = match shared {
            Some((c, tx)) => (tx.clone(), Source::Shared(Arc::clone(c))),
            None => {
                let (tx, rx) = crossbeam_channel::bounded(1);
                (tx, Source::Own(rx))
            }
        };
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        let tag = if observed { tag | OBSERVED } else { tag };
        let pending = Pending {
            rx,
            tag,
            deadline: timeout.unwrap_or_else(|| self.wait_limit()),
            resend: keep.then(|| Resend {
                inner: Arc::clone(self),
                body: body.clone(),
                attempt: 0,
            }),
            capped: self.rate.is_some().then(|| Arc::clone(self)),
        };
        (tag, tx, pending)
    }

    /// Sends `body` and returns its [`Pending`] (see [`Inner::new_pending`]), which
    /// resends on throttling as the policy allows.
    pub(crate) fn pending(
        self: &Arc<Self>,
        body: Body<'static>,
        timeout: Option<Duration>,
    ) -> Result<Pending, Error> {
        self.pace();
        let conn = self.connection()?;
        let (tag, tx, pending) = self.new_pending(&body, timeout, false, None);
        conn.request(body, tag, &tx)
            .map_err(|_| Error::Disconnected)?;
        Ok(pending)
    }

    /// Sends several requests as one hand-over to the connection (one command, one
    /// wake-up of the loop, their octets written together) and returns a [`Pending`] for
    /// each, in order, as [`Inner::pending`] does for one.
    ///
    /// A request given with its tracked segment (`Some((message, segment))`) has its
    /// response recorded by the connection's observer ([`Inner::observe`]) as it arrives.
    ///
    /// Their outcomes arrive on `completions`, the caller's channel for all its requests,
    /// through clones of its sender `reply`.
    pub(crate) fn pending_batch(
        self: &Arc<Self>,
        requests: Vec<BatchRequest>,
        completions: &Arc<Completions>,
        reply: &crossbeam_channel::Sender<Completed>,
    ) -> Vec<Result<Pending, Error>> {
        let conn = match self.connection() {
            Ok(c) => c,
            Err(e) => {
                let closed = matches!(e, Error::Closed);
                return requests
                    .into_iter()
                    .map(|_| {
                        Err(if closed {
                            Error::Closed
                        } else {
                            Error::Disconnected
                        })
                    })
                    .collect();
            }
        };
        let mut batch = Vec::with_capacity(requests.len());
        let mut pendings = Vec::with_capacity(requests.len());
        let mut observed = Vec::new();
        let n = requests.len();
        for (body, timeout, segment) in requests {
            self.pace();
            let (tag, tx, pending) = self.new_pending(
                &body,
                timeout,
                segment.is_some(),
                Some((completions, reply)),
            );
            if let Some(s) = segment {
                // Sized once: growing it step by step cost five allocations per batch.
                if observed.capacity() == 0 {
                    observed.reserve_exact(n);
                }
                observed.push((tag, s));
            }
            batch.push((body, tag, tx));
            pendings.push(pending);
        }
        if !observed.is_empty() {
            if let Ok(mut m) = self.observed.lock() {
                m.extend(observed);
            }
        }
        // Nothing was written when the hand-over fails: every request is not sent.
        if conn.request_batch(batch).is_err() {
            self.forget_observed(pendings.iter().map(|p| p.tag));
            return pendings
                .into_iter()
                .map(|_| Err(Error::Disconnected))
                .collect();
        }
        pendings.into_iter().map(Ok).collect()
    }

    /// Has `conn` pass the ids of accepted `submit_sm_resp`s, with their tags, to
    /// [`Inner::take_accepted`] as they arrive: on the transport's thread, in the order of
    /// the wire, so before any receipt the SMSC wrote after them reaches the dispatcher.
    ///
    /// A fast SMSC writes a message's receipt right after its response. The sending thread
    /// records responses with the tracker when it gets round to them, in groups, so most
    /// such receipts came first and were held, then matched later at several times the
    /// cost. The dispatcher takes these acceptances before each receipt it reads, and the
    /// receipt finds its segment. The transport's thread only queues them (one short lock
    /// of the queue: it serves every connection). Every acceptance of an observed request
    /// is recorded from this queue only, by whichever thread takes it first under the
    /// lifecycle's lock (the dispatcher before a receipt, the sending thread when it
    /// records its group); the sending thread records every other outcome itself (a
    /// failure, a timeout, a throttled request resent under a new tag).
    pub(crate) fn observe(self: &Arc<Self>, conn: &Connection) {
        if !self.config.lifecycle.tracking {
            return;
        }
        let accepted = Arc::clone(&self.accepted);
        let observer: ResponseObserver = Arc::new(move |tag, pdu| {
            // Only tracked segments' tags are queued, so the queue holds no more than what
            // `send_many` and `send_text` have in flight (they take it when they record).
            if tag & OBSERVED == 0 {
                return;
            }
            if let (true, Body::SubmitSmResp(r)) = (pdu.command_status.is_ok(), &pdu.body) {
                let id = r.message_id.to_str_lossy().into_owned();
                if let Ok(mut q) = accepted.queue.lock() {
                    q.push((tag, id));
                    accepted.len.store(q.len(), Ordering::Release);
                }
            }
        });
        if conn.observe_responses(observer).is_err() {
            debug!("the connection closed before its observer was set");
        }
    }

    /// Records with the tracker the acceptances the observer queued for tracked segments
    /// still in flight ([`Inner::observe`]); the caller holds the lifecycle's lock.
    pub(crate) fn take_accepted(&self, now: Instant, life: &mut Lifecycle) {
        if !self.has_accepted() {
            return;
        }
        let q = &self.accepted;
        let Ok(mut segments) = self.observed.lock() else {
            return;
        };
        // Callers hold the lifecycle's lock, so one of them at a time is here.
        let Ok(mut batch) = q.spare.lock() else {
            return;
        };
        if let Ok(mut queued) = q.queue.lock() {
            std::mem::swap(&mut *queued, &mut *batch);
            q.len.store(0, Ordering::Release);
        }
        for (tag, message_id) in batch.drain(..) {
            if let Some((id, j)) = segments.remove(&tag) {
                let result = SubmitResult::Accepted { message_id };
                life.tracker_mut()
                    .on_submit_result_in(now, self.account.as_ref(), id, j, result);
            }
        }
    }

    /// Takes `tags` out of the map of segments in flight.
    ///
    /// Returns how many were still there (an acceptance already taken from the observer's
    /// queue took its tag out, and was recorded).
    pub(crate) fn forget_observed(&self, tags: impl IntoIterator<Item = u64>) -> usize {
        let Ok(mut m) = self.observed.lock() else {
            return 0;
        };
        tags.into_iter().filter(|t| m.remove(t).is_some()).count()
    }

    /// Whether the observer queued acceptances [`Inner::take_accepted`] has not taken yet.
    pub(crate) fn has_accepted(&self) -> bool {
        self.accepted.len.load(Ordering::Acquire) != 0
    }
}

impl Client {
    /// Starts a request and returns a handle to wait on; the wait resends a throttled
    /// request as [`ClientConfig::throttle`](crate::ClientConfig::throttle) allows.
    pub fn request_async(&self, body: Body<'static>) -> Result<Pending, Error> {
        self.inner.pending(body, None)
    }

    /// Sends a request and waits for its response, retrying on throttling as configured.
    pub fn request(&self, body: Body<'static>) -> Result<Pdu<'static>, Error> {
        self.request_async(body)?.wait()
    }

    /// Submits one message and waits for its `submit_sm_resp`, retrying on throttling as
    /// configured.
    pub fn submit(&self, sm: &SubmitSm<'_>) -> Result<SubmitSmResp<'static>, Error> {
        match self.request(Body::from(sm.clone().into_owned()))?.body {
            Body::SubmitSmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Starts a submit and returns a handle; keep up to the window's worth in flight.
    /// [`Pending::wait`] retries on throttling as configured.
    pub fn submit_async(&self, sm: SubmitSm<'static>) -> Result<Pending, Error> {
        self.request_async(Body::from(sm))
    }

    /// Submits many messages, keeping up to `window` in flight, and returns each result in
    /// input order. Throttled responses are retried as configured.
    pub fn submit_batch(
        &self,
        messages: impl IntoIterator<Item = SubmitSm<'static>>,
        window: usize,
    ) -> Vec<Result<SubmitSmResp<'static>, Error>> {
        let messages: Vec<SubmitSm<'static>> = messages.into_iter().collect();
        let mut results: Vec<Option<Result<SubmitSmResp<'static>, Error>>> =
            (0..messages.len()).map(|_| None).collect();
        let (tx, rx) = crossbeam_channel::unbounded::<Completed>();
        let window = window.max(1);
        let mut attempts = vec![0u32; messages.len()];
        let mut next = 0;
        let mut in_flight = 0;
        let mut retry: Vec<usize> = Vec::new();
        let mut remaining = messages.len();
        while remaining > 0 {
            while in_flight < window && (next < messages.len() || !retry.is_empty()) {
                let i = retry.pop().unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                self.inner.pace();
                match self.inner.connection() {
                    Ok(conn) => {
                        if conn
                            .request(Body::from(messages[i].clone()), i as u64, &tx)
                            .is_ok()
                        {
                            in_flight += 1;
                        } else {
                            results[i] = Some(Err(Error::Disconnected));
                            remaining -= 1;
                        }
                    }
                    Err(e) => {
                        results[i] = Some(Err(e));
                        remaining -= 1;
                    }
                }
            }
            if in_flight == 0 {
                continue;
            }
            let Ok(c) = rx.recv_timeout(self.inner.wait_limit()) else {
                for r in results.iter_mut().filter(|r| r.is_none()) {
                    *r = Some(Err(Error::Timeout));
                }
                break;
            };
            in_flight -= 1;
            let i = c.tag as usize;
            let r = outcome_to_result(c.outcome).and_then(|p| match p.body {
                Body::SubmitSmResp(r) => Ok(r),
                _ => Err(Error::UnexpectedResponse),
            });
            match (&r, self.inner.config.throttle) {
                (
                    Err(Error::Status(s)),
                    ThrottlePolicy::Retry {
                        attempts: max,
                        backoff,
                    },
                ) if is_throttled(*s) && attempts[i] < max => {
                    self.inner.throttled();
                    self.inner.throttled_retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(self.inner.jittered(&backoff, attempts[i]));
                    attempts[i] += 1;
                    retry.push(i);
                }
                _ => {
                    if matches!(&r, Err(Error::Status(s)) if is_throttled(*s)) {
                        self.inner.throttled();
                    }
                    results[i] = Some(r);
                    remaining -= 1;
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::Timeout)))
            .collect()
    }

    /// `query_sm`.
    pub fn query(&self, q: &QuerySm<'_>) -> Result<QuerySmResp<'static>, Error> {
        match self.request(Body::from(q.clone().into_owned()))?.body {
            Body::QuerySmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// `cancel_sm`.
    pub fn cancel(&self, c: &CancelSm<'_>) -> Result<(), Error> {
        self.request(Body::from(c.clone().into_owned())).map(|_| ())
    }

    /// `replace_sm`.
    pub fn replace(&self, r: &ReplaceSm<'_>) -> Result<(), Error> {
        self.request(Body::from(r.clone().into_owned())).map(|_| ())
    }

    /// `submit_multi`.
    pub fn submit_multi(&self, m: &SubmitMulti<'_>) -> Result<SubmitMultiResp<'static>, Error> {
        match self.request(Body::from(m.clone().into_owned()))?.body {
            Body::SubmitMultiResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// `data_sm`.
    pub fn data_sm(&self, d: &DataSm<'_>) -> Result<DataSmResp<'static>, Error> {
        match self.request(Body::from(d.clone().into_owned()))?.body {
            Body::DataSmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }
}

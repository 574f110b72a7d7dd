//! The request paths of [`Client`]: one request, submits (one, pipelined, a batch),
//! texts with their options, and the other ESME operations.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use smpp_lifecycle::{NewMessage, ReceiptPolicy, SubmitResult, TrackId, Tracked, UnknownReason};
use smpp_pdu::concat;
use smpp_pdu::text::{self, Encoding};
use smpp_pdu::{
    Body, CancelSm, DataSm, DataSmResp, Pdu, QuerySm, QuerySmResp, ReplaceSm, SubmitMulti,
    SubmitMultiResp, SubmitSm, SubmitSmResp,
};
use smpp_transport::Completed;

use crate::options::{resolve_address, Side};
use crate::pending::{is_throttled, outcome_to_result, Resend};
use crate::{Client, Error, Inner, Pending, Sent, TextOptions, ThrottlePolicy};

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

    /// Sends `body` and returns its [`Pending`], which waits `timeout` (or the session's
    /// response timeout and a margin) for each response and resends on throttling as the
    /// policy allows.
    pub(crate) fn pending(
        self: &Arc<Self>,
        body: Body<'static>,
        timeout: Option<Duration>,
    ) -> Result<Pending, Error> {
        // The body is kept for a resend only when the policy may resend it.
        let keep =
            matches!(self.config.throttle, ThrottlePolicy::Retry { attempts, .. } if attempts > 0);
        let resend = keep.then(|| Resend {
            inner: Arc::clone(self),
            body: body.clone(),
            attempt: 0,
        });
        let rx = self.start(body)?;
        Ok(Pending {
            rx,
            deadline: timeout.unwrap_or_else(|| self.wait_limit()),
            resend,
        })
    }
}

impl Inner {
    /// Starts tracking a message (its report comes on the inbound channel).
    pub(crate) fn track(&self, message: NewMessage) -> Result<Tracked, Error> {
        let r = self
            .life
            .lock()
            .map_err(|_| Error::Closed)?
            .tracker_mut()
            .submit(Instant::now(), message)
            .map_err(Error::Track);
        // Tracking may have evicted an older message: its report is to be forwarded.
        self.nudge();
        r
    }

    /// Records each segment's outcome with the tracker.
    pub(crate) fn record(&self, id: TrackId, results: Vec<SubmitResult>) {
        if let Ok(mut life) = self.life.lock() {
            let now = Instant::now();
            for (i, r) in results.into_iter().enumerate() {
                life.tracker_mut().on_submit_result(now, id, i, r);
            }
        }
        self.nudge();
    }
}

/// What the tracker is told about a segment's `submit_sm`.
fn submit_result(r: &Result<String, Error>) -> SubmitResult {
    match r {
        Ok(id) => SubmitResult::Accepted {
            message_id: id.clone(),
        },
        Err(Error::Status(s)) => SubmitResult::Refused(*s),
        Err(Error::Timeout) => SubmitResult::Unknown(UnknownReason::Timeout),
        Err(Error::Disconnected) => SubmitResult::Unknown(UnknownReason::Disconnected),
        Err(_) => SubmitResult::Unknown(UnknownReason::Other),
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
                    self.inner.throttled_retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(self.inner.jittered(&backoff, attempts[i]));
                    attempts[i] += 1;
                    retry.push(i);
                }
                _ => {
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

    /// Encodes `text` (choosing the cheapest alphabet unless told), splits it if long,
    /// submits every segment (all in flight at once) and returns the message ids in segment
    /// order with the caller's reference.
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
        let config = &self.inner.config;
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
        let concat_ref = self.inner.next_reference.fetch_add(1, Ordering::Relaxed) as u16;
        let segments =
            concat::split(text, encoding, options.split, concat_ref).map_err(Error::Text)?;
        // Tracked before the first segment goes out, so that a receipt racing its
        // response finds the message.
        let tracked = if config.lifecycle.tracking {
            let message = NewMessage {
                reference: options.reference.clone(),
                segments: segments.len(),
                receipts: ReceiptPolicy::from_registered_delivery(options.registered_delivery),
                report_timeout: options.report_timeout,
            };
            let t = self.inner.track(message)?;
            Some(t)
        } else {
            None
        };
        let pendings: Vec<Result<Pending, Error>> = segments
            .iter()
            .map(|s| {
                let sm = s.to_submit_sm(&template);
                self.inner.pending(Body::from(sm), options.timeout)
            })
            .collect();
        let mut results: Vec<Result<String, Error>> = Vec::with_capacity(pendings.len());
        let mut outcomes: Vec<SubmitResult> = Vec::with_capacity(pendings.len());
        for p in pendings {
            match p {
                Ok(p) => {
                    let r = p
                        .wait_submit()
                        .map(|r| r.message_id.to_str_lossy().into_owned());
                    outcomes.push(submit_result(&r));
                    results.push(r);
                }
                // `start` fails before anything is written: the SMSC cannot have it.
                Err(e) => {
                    outcomes.push(SubmitResult::NotSent);
                    results.push(Err(e));
                }
            }
        }
        if let Some(t) = &tracked {
            self.inner.record(t.id, outcomes);
        }
        let message_ids = results
            .into_iter()
            .collect::<Result<Vec<String>, Error>>()?;
        Ok(Sent {
            message_ids,
            reference: tracked
                .map(|t| t.reference)
                .or_else(|| options.reference.clone()),
        })
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

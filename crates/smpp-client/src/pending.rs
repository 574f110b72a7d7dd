//! A request in flight ([`Pending`]), the throttling retry every send path shares, and how
//! a transport outcome becomes a result.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use log::warn;
use smpp_pdu::{Body, CommandId, CommandStatus, Pdu, SubmitSmResp};
use smpp_session::FailReason;
use smpp_transport::{Completed, Outcome};

use crate::send::OBSERVED;
use crate::{Error, Inner, ThrottlePolicy};

/// A request in flight; [`Pending::wait`] blocks for its outcome.
///
/// Under [`ThrottlePolicy::Retry`], the wait also resends the request when the SMSC
/// answers `ESME_RTHROTTLED` or `ESME_RMSGQFUL`, after the policy's backoff, as often as
/// it allows: every send path ([`Client::request`](crate::Client::request),
/// [`Client::submit_async`](crate::Client::submit_async),
/// [`Client::send_text`](crate::Client::send_text), ...) retries the same way.
pub struct Pending {
    pub(crate) rx: Source,
    /// The request's tag on its connection.
    pub(crate) tag: u64,
    /// How long each wait for a response lasts.
    pub(crate) deadline: Duration,
    /// What a throttled request needs to be sent again (only under a retry policy).
    pub(crate) resend: Option<Resend>,
    /// The client, when it has a rate cap that a throttling answer lowers.
    pub(crate) capped: Option<Arc<Inner>>,
}

/// Where a request's outcome arrives.
pub(crate) enum Source {
    /// A channel of its own.
    Own(Receiver<Completed>),
    /// The channel of one [`Client::send_many`](crate::Client::send_many) call, shared by
    /// all its requests and read by its one thread.
    Shared(Arc<Completions>),
}

/// The outcomes of the requests of one `send_many` call: one channel for all of them (the
/// transport sends each under its tag) instead of one per request, and the outcomes read
/// while waiting for another one, kept until their own wait.
///
/// It holds no sender: the call keeps the one its requests' replies are cloned from and
/// lets it go before its last waits, so a transport that drops replies ends those waits at
/// once instead of at each one's timeout.
pub(crate) struct Completions {
    rx: Receiver<Completed>,
    /// Read only by the call's thread (the lock is never contended).
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// Outcomes that came before the one waited for, by tag.
    early: HashMap<u64, Completed, foldhash::fast::RandomState>,
    /// Requests whose wait ended without their outcome (a per-call timeout): the outcome,
    /// when it comes, is dropped instead of kept.
    abandoned: HashSet<u64, foldhash::fast::RandomState>,
}

impl Seen {
    fn keep(&mut self, c: Completed) {
        if !self.abandoned.remove(&c.tag) {
            self.early.insert(c.tag, c);
        }
    }
}

impl Completions {
    /// The channel, and the sender its requests' replies are cloned from.
    pub(crate) fn new() -> (Arc<Completions>, Sender<Completed>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let c = Completions {
            rx,
            seen: Mutex::default(),
        };
        (Arc::new(c), tx)
    }

    /// The outcome of the request tagged `tag`, waiting at most `timeout` for it; `None`
    /// when the wait ends without it (the request is then abandoned: its outcome is
    /// dropped when it comes) or every reply was dropped.
    fn take(&self, tag: u64, timeout: Duration) -> Option<Completed> {
        let Ok(mut seen) = self.seen.lock() else {
            return None;
        };
        if let Some(c) = seen.early.remove(&tag) {
            return Some(c);
        }
        // Usually the next one in the channel: responses come in the order of the
        // requests. The clock is read only when a wait is needed.
        while let Ok(c) = self.rx.try_recv() {
            if c.tag == tag {
                return Some(c);
            }
            seen.keep(c);
        }
        let end = Instant::now().checked_add(timeout);
        loop {
            let got = match end {
                Some(end) => self.rx.recv_deadline(end).ok(),
                None => self.rx.recv().ok(),
            };
            match got {
                Some(c) if c.tag == tag => return Some(c),
                Some(c) => seen.keep(c),
                None => {
                    seen.abandoned.insert(tag);
                    return None;
                }
            }
        }
    }

    /// Whether the outcome of the request tagged `tag` is there.
    fn has(&self, tag: u64) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        while let Ok(c) = self.rx.try_recv() {
            seen.keep(c);
        }
        seen.early.contains_key(&tag)
    }
}

/// The client and the request, kept to send it again.
pub(crate) struct Resend {
    pub(crate) inner: Arc<Inner>,
    pub(crate) body: Body<'static>,
    pub(crate) attempt: u32,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("deadline", &self.deadline)
            .field("retries", &self.resend.as_ref().map(|r| r.attempt))
            .finish_non_exhaustive()
    }
}

/// The statuses [`ThrottlePolicy::Retry`] resends on.
pub(crate) fn is_throttled(s: CommandStatus) -> bool {
    matches!(
        s,
        CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RMSGQFUL
    )
}

impl Pending {
    /// Waits for the response (each attempt at most the call's timeout), resending a
    /// throttled request as the [`ThrottlePolicy`] allows.
    pub fn wait(mut self) -> Result<Pdu<'static>, Error> {
        self.wait_mut()
    }

    /// [`Pending::wait`] in place, so that the caller can see [`Pending::tag`] afterwards:
    /// a resent request leaves the response observer's map (its new request is not
    /// observed) and its tag becomes 0, and the caller records its outcome itself.
    pub(crate) fn wait_mut(&mut self) -> Result<Pdu<'static>, Error> {
        loop {
            let c = match &self.rx {
                Source::Own(rx) => rx.recv_timeout(self.deadline).ok(),
                Source::Shared(s) => s.take(self.tag, self.deadline),
            };
            let r = match c {
                Some(c) => outcome_to_result(c.outcome),
                None => Err(Error::Timeout),
            };
            let status = match r {
                Err(Error::Status(s)) if is_throttled(s) => s,
                other => return other,
            };
            if let Some(inner) = &self.capped {
                inner.throttled();
            }
            let Some(mut resend) = self.resend.take() else {
                return Err(Error::Status(status));
            };
            let ThrottlePolicy::Retry { attempts, backoff } = resend.inner.config.throttle else {
                return Err(Error::Status(status));
            };
            if resend.attempt >= attempts {
                return Err(Error::Status(status));
            }
            if self.tag & OBSERVED != 0 {
                resend.inner.forget_observed([self.tag]);
                self.tag = 0;
            }
            let d = resend.inner.jittered(&backoff, resend.attempt);
            warn!("{status:?}; resending in {d:?}");
            resend
                .inner
                .throttled_retries
                .fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(d);
            resend.attempt += 1;
            let again = resend.inner.start(resend.body.clone())?;
            self.rx = Source::Own(again);
            self.resend = Some(resend);
        }
    }

    /// Whether its outcome is there (so [`Pending::wait`] returns without blocking, unless
    /// it is a throttling answer to resend).
    pub fn is_ready(&self) -> bool {
        match &self.rx {
            Source::Own(rx) => !rx.is_empty(),
            Source::Shared(s) => s.has(self.tag),
        }
    }

    /// Waits for a `submit_sm_resp`.
    pub fn wait_submit(mut self) -> Result<SubmitSmResp<'static>, Error> {
        self.wait_submit_mut()
    }

    /// [`Pending::wait_submit`] in place (see [`Pending::wait_mut`]).
    pub(crate) fn wait_submit_mut(&mut self) -> Result<SubmitSmResp<'static>, Error> {
        match self.wait_mut()?.body {
            Body::SubmitSmResp(r) => Ok(r),
            _ => Err(Error::UnexpectedResponse),
        }
    }
}

pub(crate) fn outcome_to_result(o: Outcome) -> Result<Pdu<'static>, Error> {
    match o {
        Outcome::Response(p)
            if p.command_status.is_ok() && p.command_id() != CommandId::GENERIC_NACK =>
        {
            Ok(p)
        }
        Outcome::Response(p) if p.command_status.is_ok() => Err(Error::UnexpectedResponse),
        Outcome::Response(p) => Err(Error::Status(p.command_status)),
        Outcome::Timeout => Err(Error::Timeout),
        // The connection closed under the request (peer close, unbind, local close): that
        // is `Disconnected` (transient), as for a request the transport itself resolves.
        Outcome::Failed(FailReason::Closed(_)) => Err(Error::Disconnected),
        Outcome::Failed(r) => Err(Error::Failed(r)),
        Outcome::Refused(e) => Err(Error::Refused(e)),
        Outcome::BindRejected(s) => Err(Error::BindRejected(s)),
        Outcome::Disconnected => Err(Error::Disconnected),
        _ => Err(Error::UnexpectedResponse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(tag: u64) -> Completed {
        Completed {
            tag,
            outcome: Outcome::Timeout,
        }
    }

    #[test]
    fn each_wait_gets_its_own_outcome_and_an_abandoned_one_is_not_kept() {
        let (c, tx) = Completions::new();
        // Out of order: 2 and 3 come before 1.
        for tag in [2, 3, 1] {
            tx.send(done(tag)).unwrap();
        }
        assert_eq!(c.take(1, Duration::ZERO).map(|c| c.tag), Some(1));
        assert!(c.has(3));
        assert_eq!(c.take(2, Duration::ZERO).map(|c| c.tag), Some(2));
        assert_eq!(c.take(3, Duration::ZERO).map(|c| c.tag), Some(3));
        // 4's wait ends without it; when it comes late it is dropped, not kept.
        assert!(c.take(4, Duration::ZERO).is_none());
        tx.send(done(4)).unwrap();
        tx.send(done(5)).unwrap();
        assert!(c.has(5));
        assert!(!c.has(4));
        let seen = c.seen.lock().unwrap();
        assert_eq!(seen.early.len(), 1);
        assert!(seen.abandoned.is_empty());
    }

    #[test]
    fn a_wait_ends_at_once_when_every_reply_is_gone() {
        let (c, tx) = Completions::new();
        let reply = tx.clone();
        drop(tx);
        drop(reply);
        // A day's timeout: the wait must end because the channel ended, not the clock.
        let started = Instant::now();
        assert!(c.take(7, Duration::from_secs(86_400)).is_none());
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

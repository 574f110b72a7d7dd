//! Ending a client: [`Client::unbind`](crate::Client::unbind) and what it found
//! ([`UnbindOutcome`]), and the stop on drop.

use std::sync::atomic::Ordering;
use std::time::Duration;

use log::{info, warn};
use smpp_session::FailReason;
use smpp_transport::Outcome;

use crate::pending::outcome_to_result;
use crate::{Client, Error};

/// How the session ended on [`Client::unbind`]. Every variant is a success: the session is
/// over and nothing was left unanswered by the unbind itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnbindOutcome {
    /// The SMSC answered `unbind_resp`.
    Acknowledged,
    /// The SMSC closed the connection after our `unbind` instead of answering it (several
    /// real SMSCs do). The session is over all the same; counted in
    /// [`ClientStats::unbind_closed_by_peer`](crate::ClientStats::unbind_closed_by_peer).
    ClosedByPeer,
    /// There was no connection to unbind: it had dropped before (see
    /// [`Client::is_connected`]), and a request in flight then failed with
    /// [`Error::Disconnected`].
    NotConnected,
}

impl Client {
    /// Unbinds (waiting for `unbind_resp`, bounded by the unbind timeout), closes the
    /// connection and stops the client's threads (and its transport, unless shared through
    /// [`Client::connect_with`]). Calls after it fail with [`Error::Closed`];
    /// [`Client::stats`] still answers. What is left (a handle on a shared transport, the
    /// counters) goes when the client is dropped.
    ///
    /// An SMSC that closes the connection after our `unbind` instead of answering it has
    /// ended the session as asked: that is `Ok(`[`UnbindOutcome::ClosedByPeer`]`)`. No
    /// answer within the unbind timeout is [`Error::Timeout`]; a second call is
    /// [`Error::Closed`].
    pub fn unbind(&self) -> Result<UnbindOutcome, Error> {
        let r = self.unbind_inner();
        self.stop();
        r
    }

    fn unbind_inner(&self) -> Result<UnbindOutcome, Error> {
        if self.inner.closing.swap(true, Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        let conn = self.inner.conn.write().ok().and_then(|mut c| c.take());
        let Some(conn) = conn else {
            return Ok(UnbindOutcome::NotConnected);
        };
        let peer = self.inner.peer();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let r = match conn.unbind(0, &tx) {
            // Closed (or closing) before our unbind could go: not an answer to it.
            Err(_) => Err(Error::Disconnected),
            Ok(()) => {
                let wait = self.inner.config.session.unbind_timeout + Duration::from_secs(1);
                match rx.recv_timeout(wait).map(|c| c.outcome) {
                    Ok(Outcome::Unbound) => {
                        info!("unbound from {peer}");
                        Ok(UnbindOutcome::Acknowledged)
                    }
                    Ok(Outcome::Disconnected | Outcome::Failed(FailReason::Closed(_))) => {
                        info!(
                            "{peer} closed the connection on our unbind instead of answering \
                             it; the session is over"
                        );
                        self.inner
                            .unbind_closed_by_peer
                            .fetch_add(1, Ordering::Relaxed);
                        Ok(UnbindOutcome::ClosedByPeer)
                    }
                    Ok(o) => outcome_to_result(o).map(|_| UnbindOutcome::Acknowledged),
                    Err(_) => Err(Error::Timeout),
                }
            }
        };
        if let Err(e) = &r {
            warn!("unbind from {peer} failed: {e}");
        }
        conn.close();
        // Out of the slot, so the dispatcher will not count this connection: count it here.
        if let Ok(mut f) = self.inner.finished.lock() {
            f.merge(&conn.stats());
        }
        r
    }

    fn stop(&self) {
        self.inner.closing.store(true, Ordering::SeqCst);
        let _ = self.inner.wake.try_send(());
        if let Ok(mut c) = self.inner.conn.write() {
            if let Some(c) = c.take() {
                c.close();
            }
        }
        let dispatcher = self.dispatcher.lock().ok().and_then(|mut d| d.take());
        if let Some(d) = dispatcher {
            let _ = d.join();
        }
        if self.owns_transport {
            self.inner.transport.shutdown();
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let running = self
            .dispatcher
            .get_mut()
            .map(|d| d.is_some())
            .unwrap_or(false);
        if running {
            let _ = self.unbind_inner();
            self.stop();
        }
    }
}

//! A request in flight ([`Pending`]) and how a transport outcome becomes a result.

use crossbeam_channel::Receiver;
use smpp_pdu::{Body, CommandId, Pdu, SubmitSmResp};
use smpp_session::FailReason;
use smpp_transport::{Completed, Outcome};
use std::time::Duration;

use crate::Error;

/// A request in flight; [`Pending::wait`] blocks for its outcome.
#[derive(Debug)]
pub struct Pending {
    pub(crate) rx: Receiver<Completed>,
    pub(crate) deadline: Duration,
}

impl Pending {
    /// Waits for the response.
    pub fn wait(self) -> Result<Pdu<'static>, Error> {
        match self.rx.recv_timeout(self.deadline) {
            Ok(c) => outcome_to_result(c.outcome),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// Waits for a `submit_sm_resp`.
    pub fn wait_submit(self) -> Result<SubmitSmResp<'static>, Error> {
        match self.wait()?.body {
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

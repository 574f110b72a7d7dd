//! The handler API: a user's code decides binds and requests; what it leaves to the core
//! gets the built-in test SMSC's behaviour.

use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use smpp_pdu::{Body, CommandStatus, DeliverSm, Pdu};
use smpp_session::BindKind;
use smpp_transport::ConnId;

use super::{Core, Sent};
use crate::{Result, SmscError};

/// What a [`Handler`] decided.
#[derive(Debug)]
#[non_exhaustive]
pub enum Verdict {
    /// Let the built-in test SMSC decide (user accounts, message ids, receipts, ...).
    Builtin,
    /// Accept (a bind).
    Accept,
    /// Refuse with this status (a bind, or a request: the response carries an empty body
    /// of the right type).
    Reject(CommandStatus),
    /// Answer a request with this status and body (for a `submit_sm`: a `SubmitSmResp`
    /// with the message id; build one with [`Ctx::new_message_id`]).
    Respond(CommandStatus, Body<'static>),
    /// Leave the request unanswered (the ESME's response timer will run out).
    Ignore,
}

/// A bind to decide.
#[derive(Debug)]
#[non_exhaustive]
pub struct BindInfo<'a> {
    /// The connection.
    pub conn: ConnId,
    /// Where it comes from.
    pub peer: SocketAddr,
    /// Transmitter, receiver or transceiver.
    pub kind: BindKind,
    /// The `system_id` it binds as.
    pub system_id: &'a str,
    /// The password as sent.
    pub password: &'a [u8],
    /// Its `interface_version` (0x34, 0x50, ...).
    pub interface_version: u8,
}

/// A request to answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The connection it came on.
    pub conn: ConnId,
    /// The `system_id` of that connection's bind.
    pub system_id: String,
    /// Its sequence number.
    pub sequence_number: u32,
    /// The request.
    pub pdu: &'a Pdu<'static>,
}

/// What a [`Handler`] can do besides deciding: read the time, make message ids, send
/// `deliver_sm` (or any request) to bound ESMEs, answer a request later.
pub struct Ctx<'a> {
    core: &'a mut Core,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").finish_non_exhaustive()
    }
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(core: &'a mut Core) -> Ctx<'a> {
        Ctx { core }
    }

    /// The time the core was driven with.
    pub fn now(&self) -> Instant {
        self.core.now
    }

    /// The wall-clock time at [`Ctx::now`].
    pub fn wall_now(&self) -> SystemTime {
        self.core.wall_now()
    }

    /// The next message id, in the configured format ([`crate::SmscConfig::id_format`]).
    pub fn new_message_id(&mut self) -> String {
        self.core.new_id().1
    }

    /// Sends `d` to a receiving session of `system_id` (the one with the lowest id);
    /// [`SmscError::NoReceiver`] when none is bound.
    pub fn deliver(&mut self, system_id: &str, d: DeliverSm<'static>) -> Result<()> {
        let conn = self
            .core
            .receiver_of(system_id, None)
            .ok_or_else(|| SmscError::NoReceiver(system_id.to_string()))?;
        self.core.send_request(conn, Body::from(d), Sent::Handler);
        Ok(())
    }

    /// Sends any request (`deliver_sm`, `data_sm`, `alert_notification`) on `conn`; its
    /// outcome is counted and recorded like the built-in `deliver_sm`s.
    pub fn send(&mut self, conn: ConnId, body: Body<'static>) {
        self.core.send_request(conn, body, Sent::Handler);
    }

    /// Answers request `sequence_number` on `conn` now (for a request the handler
    /// answered [`Verdict::Ignore`] at first).
    pub fn respond(
        &mut self,
        conn: ConnId,
        sequence_number: u32,
        status: CommandStatus,
        body: Body<'static>,
    ) {
        self.core.respond(conn, sequence_number, status, body);
    }

    /// The sessions bound now: connection, `system_id` and kind.
    pub fn bound(&self) -> Vec<(ConnId, String, BindKind)> {
        let mut v: Vec<(ConnId, String, BindKind)> = self
            .core
            .conns
            .values()
            .filter_map(|c| Some((c.id, c.system_id.clone()?, c.kind?)))
            .collect();
        v.sort_by_key(|(id, ..)| *id);
        v
    }
}

/// A program's own SMSC behaviour. Every method has a default that leaves the decision to
/// the built-in test SMSC ([`Verdict::Builtin`]), so a handler implements only what it
/// changes.
///
/// ```
/// use smpp_pdu::{Body, CommandStatus};
/// use smpp_smsc::core::{Ctx, Handler, Request, Verdict};
///
/// /// Refuses every third submit with ESME_RMSGQFUL; the rest as the test SMSC does.
/// struct EveryThirdFull(u64);
///
/// impl Handler for EveryThirdFull {
///     fn request(&mut self, req: &Request<'_>, _ctx: &mut Ctx<'_>) -> Verdict {
///         if !matches!(req.pdu.body, Body::SubmitSm(_)) {
///             return Verdict::Builtin;
///         }
///         self.0 += 1;
///         if self.0 % 3 == 0 {
///             Verdict::Reject(CommandStatus::ESME_RMSGQFUL)
///         } else {
///             Verdict::Builtin
///         }
///     }
/// }
/// ```
pub trait Handler: Send + 'static {
    /// A bind: [`Verdict::Accept`], [`Verdict::Reject`] with a status, or
    /// [`Verdict::Builtin`] (the configured users; every bind when there are none).
    fn bind(&mut self, bind: &BindInfo<'_>, ctx: &mut Ctx<'_>) -> Verdict {
        let _ = (bind, ctx);
        Verdict::Builtin
    }

    /// A request from a bound ESME (`submit_sm`, `submit_multi`, `data_sm`, `query_sm`,
    /// `cancel_sm`, `replace_sm`, the `broadcast_sm` family, ...).
    fn request(&mut self, req: &Request<'_>, ctx: &mut Ctx<'_>) -> Verdict {
        let _ = (req, ctx);
        Verdict::Builtin
    }
}

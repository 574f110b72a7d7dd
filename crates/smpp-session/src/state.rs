//! Session states and the one table that says which PDU each side may send or receive in
//! each state (reference §2, §3). All state rules live here.

use smpp_pdu::{CommandId, CommandStatus};

/// Which end of the link a session plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The application side: binds, submits, receives deliveries.
    Esme,
    /// The message centre side: accepts binds, answers submits, delivers.
    Smsc,
}

/// The session states of SMPP 3.4 and 5.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Connected, not bound (a bind may be in progress).
    Open,
    /// (5.0) The SMSC opened the connection and sent outbind; the ESME's bind is awaited.
    Outbound,
    /// Bound as a transmitter: the ESME submits, the SMSC does not deliver.
    BoundTx,
    /// Bound as a receiver: the SMSC delivers, the ESME does not submit.
    BoundRx,
    /// Bound as a transceiver: both directions.
    BoundTrx,
    /// Unbind and its response were exchanged; only closing remains.
    Unbound,
    /// The connection is closed.
    Closed,
}

impl State {
    /// Whether this is one of the three bound states.
    pub fn is_bound(self) -> bool {
        matches!(self, State::BoundTx | State::BoundRx | State::BoundTrx)
    }

    /// Whether the ESME may submit in this state (bound as transmitter or transceiver).
    pub fn esme_may_submit(self) -> bool {
        matches!(self, State::BoundTx | State::BoundTrx)
    }

    /// Whether the SMSC may deliver in this state (bound as receiver or transceiver).
    pub fn smsc_may_deliver(self) -> bool {
        matches!(self, State::BoundRx | State::BoundTrx)
    }
}

/// Whether a request with this `command_id` may be *sent by* `sender` when the session is
/// in `state` (reference §2). Responses follow their requests and are not checked here.
pub fn may_send_request(sender: Role, state: State, id: CommandId) -> bool {
    use Role::*;
    match id {
        CommandId::BIND_TRANSMITTER | CommandId::BIND_RECEIVER | CommandId::BIND_TRANSCEIVER => {
            sender == Esme && matches!(state, State::Open | State::Outbound)
        }
        CommandId::OUTBIND => sender == Smsc && state == State::Open,
        CommandId::SUBMIT_SM
        | CommandId::SUBMIT_MULTI
        | CommandId::QUERY_SM
        | CommandId::CANCEL_SM
        | CommandId::REPLACE_SM
        | CommandId::BROADCAST_SM
        | CommandId::QUERY_BROADCAST_SM
        | CommandId::CANCEL_BROADCAST_SM => sender == Esme && state.esme_may_submit(),
        CommandId::DELIVER_SM | CommandId::ALERT_NOTIFICATION => {
            sender == Smsc && state.smsc_may_deliver()
        }
        CommandId::DATA_SM => match sender {
            Esme => state.esme_may_submit(),
            Smsc => state.smsc_may_deliver(),
        },
        CommandId::UNBIND | CommandId::ENQUIRE_LINK => state.is_bound(),
        _ => false,
    }
}

/// What the receiver does with a request the peer sent in this state: `Ok(())` to accept
/// it, or the status to answer with (reference §12.4): `ESME_RALYBND` for a bind on a bound
/// session, `ESME_RINVBNDSTS` for anything else the state does not allow.
///
/// Receiving is more tolerant than sending: enquire_link is accepted in every open state,
/// as SMPP 5.0 allows.
pub fn may_receive_request(
    receiver: Role,
    state: State,
    id: CommandId,
) -> Result<(), CommandStatus> {
    let sender = match receiver {
        Role::Esme => Role::Smsc,
        Role::Smsc => Role::Esme,
    };
    let is_bind = matches!(
        id,
        CommandId::BIND_TRANSMITTER | CommandId::BIND_RECEIVER | CommandId::BIND_TRANSCEIVER
    );
    if is_bind && receiver == Role::Smsc && (state.is_bound() || state == State::Unbound) {
        return Err(CommandStatus::ESME_RALYBND);
    }
    if id == CommandId::ENQUIRE_LINK && state != State::Closed {
        return Ok(());
    }
    if id == CommandId::OUTBIND && receiver == Role::Esme && state.is_bound() {
        return Err(CommandStatus::ESME_RALYBND);
    }
    if may_send_request(sender, state, id) {
        Ok(())
    } else {
        Err(CommandStatus::ESME_RINVBNDSTS)
    }
}

/// The bound state a successful bind of this `command_id` leads to.
pub fn bound_state(bind: CommandId) -> Option<State> {
    match bind {
        CommandId::BIND_TRANSMITTER | CommandId::BIND_TRANSMITTER_RESP => Some(State::BoundTx),
        CommandId::BIND_RECEIVER | CommandId::BIND_RECEIVER_RESP => Some(State::BoundRx),
        CommandId::BIND_TRANSCEIVER | CommandId::BIND_TRANSCEIVER_RESP => Some(State::BoundTrx),
        _ => None,
    }
}

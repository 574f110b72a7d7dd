//! The SMPP 5.0 `broadcast_sm` family, built in: a `broadcast_sm` is stored with a message
//! id (from the same numbering as other messages) and its areas, and is `ENROUTE` (1)
//! until `cancel_broadcast_sm` makes it `DELETED` (3); `query_broadcast_sm` answers its
//! `message_state`, its `broadcast_area_identifier`s and a `broadcast_area_success` of 100
//! (a test SMSC reaches every area at once; 0 once cancelled). No cell broadcast is sent
//! anywhere. A `broadcast_sm` with a `message_id` replaces that broadcast (same id). At
//! most [`crate::SmscConfig::max_messages`] broadcasts are kept.

use log::debug;
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    BroadcastSm, BroadcastSmResp, CancelBroadcastSm, CancelBroadcastSmResp, CommandStatus,
    QueryBroadcastSm, QueryBroadcastSmResp,
};
use smpp_transport::ConnId;

use super::Core;

/// `message_state` ENROUTE (reference §7.7).
const ENROUTE: u8 = 1;
/// `message_state` DELETED.
const DELETED: u8 = 3;

/// A broadcast the SMSC accepted.
pub(crate) struct Broadcast {
    system_id: Option<String>,
    source_addr: String,
    /// Its `broadcast_area_identifier` TLVs, as they came.
    areas: Vec<Tlv<'static>>,
    state: u8,
}

impl Core {
    pub(super) fn broadcast_sm(
        &mut self,
        conn: ConnId,
        seq: u32,
        system_id: Option<String>,
        b: &BroadcastSm<'static>,
    ) {
        let areas: Vec<Tlv<'static>> = b
            .tlvs
            .iter()
            .filter(|t| matches!(t, Tlv::BroadcastAreaIdentifier(_)))
            .cloned()
            .collect();
        if areas.is_empty() {
            debug!("connection {conn}: broadcast_sm without broadcast_area_identifier");
            return self.respond(
                conn,
                seq,
                CommandStatus::ESME_RMISSINGTLV,
                BroadcastSmResp::default(),
            );
        }
        if self.throttled() {
            self.count(|s| s.throttled += 1);
            return self.respond(
                conn,
                seq,
                CommandStatus::ESME_RTHROTTLED,
                BroadcastSmResp::default(),
            );
        }
        let replaced = b.message_id.to_str_lossy().into_owned();
        let id = if replaced.is_empty() {
            self.new_id().1
        } else if self
            .broadcasts
            .get(&replaced)
            .is_some_and(|old| old.system_id == system_id && old.state == ENROUTE)
        {
            replaced
        } else {
            debug!("connection {conn}: broadcast_sm replaces unknown broadcast {replaced:?}");
            return self.respond(
                conn,
                seq,
                CommandStatus::ESME_RBCASTFAIL,
                BroadcastSmResp::default(),
            );
        };
        // At most `max_messages` are kept: a cancelled one goes first, else any other.
        if !self.broadcasts.contains_key(&id)
            && self.broadcasts.len() >= self.config.max_messages.max(1)
        {
            let old = self
                .broadcasts
                .iter()
                .find(|(_, b)| b.state == DELETED)
                .or_else(|| self.broadcasts.iter().next())
                .map(|(k, _)| k.clone());
            if let Some(old) = old {
                self.broadcasts.remove(&old);
            }
        }
        self.broadcasts.insert(
            id.clone(),
            Broadcast {
                system_id,
                source_addr: b.source_addr.to_str_lossy().into_owned(),
                areas,
                state: ENROUTE,
            },
        );
        self.count(|s| s.submits += 1);
        self.respond(
            conn,
            seq,
            CommandStatus::ESME_ROK,
            BroadcastSmResp {
                message_id: id.into(),
                tlvs: vec![],
            },
        );
    }

    pub(super) fn query_broadcast_sm(
        &mut self,
        conn: ConnId,
        seq: u32,
        system_id: Option<String>,
        q: &QueryBroadcastSm<'static>,
    ) {
        self.count(|s| s.other_requests += 1);
        let id = q.message_id.to_str_lossy().into_owned();
        let Some(b) = self
            .broadcasts
            .get(&id)
            .filter(|b| b.system_id == system_id)
        else {
            return self.respond(
                conn,
                seq,
                CommandStatus::ESME_RBCASTQUERYFAIL,
                QueryBroadcastSmResp::default(),
            );
        };
        let success = if b.state == ENROUTE { 100 } else { 0 };
        let mut tlvs = vec![Tlv::MessageState(b.state)];
        tlvs.extend(b.areas.iter().cloned());
        tlvs.push(Tlv::BroadcastAreaSuccess(success));
        self.respond(
            conn,
            seq,
            CommandStatus::ESME_ROK,
            QueryBroadcastSmResp {
                message_id: q.message_id.clone(),
                tlvs,
            },
        );
    }

    pub(super) fn cancel_broadcast_sm(
        &mut self,
        conn: ConnId,
        seq: u32,
        system_id: Option<String>,
        c: &CancelBroadcastSm<'static>,
    ) {
        self.count(|s| s.other_requests += 1);
        let id = c.message_id.to_str_lossy().into_owned();
        let source = c.source_addr.to_str_lossy();
        let cancelled = match self.broadcasts.get_mut(&id) {
            Some(b)
                if b.system_id == system_id
                    && b.state == ENROUTE
                    && (source.is_empty() || b.source_addr == source) =>
            {
                b.state = DELETED;
                true
            }
            _ => false,
        };
        let status = if cancelled {
            CommandStatus::ESME_ROK
        } else {
            CommandStatus::ESME_RBCASTCANCELFAIL
        };
        self.respond(conn, seq, status, CancelBroadcastSmResp::default());
    }
}

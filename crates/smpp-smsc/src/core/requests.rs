//! The built-in answers to ESME requests: `submit_sm`, `data_sm`, `submit_multi` (accepted
//! with a message id, receipts scheduled), `query_sm`, `cancel_sm` and `replace_sm` on the
//! stored messages, `ESME_RINVCMDID` for the rest.

use log::debug;
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::{
    Body, CancelSmResp, CommandStatus, DataSmResp, Pdu, QuerySmResp, ReplaceSmResp,
    SubmitMultiResp, SubmitSmResp,
};
use smpp_transport::ConnId;

use super::receipts::{original_text, Accepted};
use super::{Core, Message};
use crate::checks;

impl Core {
    pub(super) fn builtin_request(&mut self, conn: ConnId, seq: u32, pdu: Pdu<'static>) {
        let system_id = self.conns.get(&conn).and_then(|c| c.system_id.clone());
        if !self.config.lenient {
            let version = self.conns.get(&conn).map_or(0x34, |c| c.version);
            let checked = match &pdu.body {
                Body::SubmitSm(sm) => checks::check_submit_sm(sm, version),
                Body::DataSm(d) => checks::check_data_sm(d, version),
                Body::SubmitMulti(m) => checks::check_submit_multi(m, version),
                Body::ReplaceSm(r) => checks::check_replace_sm(r),
                _ => Ok(()),
            };
            if let Err(status) = checked {
                debug!(
                    "connection {conn}: {:?} refused: {status:?}",
                    pdu.command_id()
                );
                self.count(|s| s.refused += 1);
                let body = pdu
                    .command_id()
                    .response()
                    .and_then(Body::empty)
                    .unwrap_or_else(|| smpp_pdu::GenericNack::default().into());
                return self.respond(conn, seq, status, body);
            }
        }
        match pdu.body {
            Body::SubmitSm(sm) => {
                self.submit_sms += 1;
                if self
                    .config
                    .drop_every
                    .is_some_and(|n| n > 0 && self.submit_sms % n == 0)
                {
                    debug!("connection {conn}: fault injection: submit_sm {seq} unanswered");
                    self.count(|s| s.dropped += 1);
                    return;
                }
                if self.throttled() {
                    self.count(|s| s.throttled += 1);
                    return self.respond(
                        conn,
                        seq,
                        CommandStatus::ESME_RTHROTTLED,
                        SubmitSmResp::default(),
                    );
                }
                let (number, id) = self.new_id();
                let text = original_text(sm.short_message.as_bytes(), sm.esm_class, sm.data_coding);
                let m = Accepted {
                    number,
                    id: id.clone(),
                    conn,
                    system_id,
                    registered_delivery: sm.registered_delivery,
                    source: (
                        sm.source_addr_ton,
                        sm.source_addr_npi,
                        sm.source_addr.to_str_lossy().into_owned(),
                    ),
                    dest: (
                        sm.dest_addr_ton,
                        sm.dest_addr_npi,
                        sm.destination_addr.to_str_lossy().into_owned(),
                    ),
                    text,
                };
                let resp = SubmitSmResp {
                    message_id: id.into(),
                    tlvs: vec![],
                };
                self.accept_message(conn, seq, m, resp.into());
            }
            Body::DataSm(d) => {
                if self.throttled() {
                    self.count(|s| s.throttled += 1);
                    return self.respond(
                        conn,
                        seq,
                        CommandStatus::ESME_RTHROTTLED,
                        DataSmResp::default(),
                    );
                }
                let (number, id) = self.new_id();
                let m = Accepted {
                    number,
                    id: id.clone(),
                    conn,
                    system_id,
                    registered_delivery: d.registered_delivery,
                    source: (
                        d.source_addr_ton,
                        d.source_addr_npi,
                        d.source_addr.to_str_lossy().into_owned(),
                    ),
                    dest: (
                        d.dest_addr_ton,
                        d.dest_addr_npi,
                        d.destination_addr.to_str_lossy().into_owned(),
                    ),
                    text: String::new(),
                };
                let resp = DataSmResp {
                    message_id: id.into(),
                    tlvs: vec![],
                };
                self.accept_message(conn, seq, m, resp.into());
            }
            Body::SubmitMulti(m) => {
                if self.throttled() {
                    self.count(|s| s.throttled += 1);
                    return self.respond(
                        conn,
                        seq,
                        CommandStatus::ESME_RTHROTTLED,
                        SubmitMultiResp::default(),
                    );
                }
                let (_, id) = self.new_id();
                self.count(|s| s.submits += 1);
                self.respond(
                    conn,
                    seq,
                    CommandStatus::ESME_ROK,
                    SubmitMultiResp {
                        message_id: id.clone().into(),
                        unsuccess_smes: vec![],
                        tlvs: vec![],
                    },
                );
                let state = self.config.receipt_state.clone();
                self.remember(
                    &id,
                    Message {
                        system_id,
                        final_state: Some(state),
                        source_addr: m.source_addr.to_str_lossy().into_owned(),
                        destination_addr: String::new(),
                    },
                );
            }
            Body::QuerySm(q) => {
                self.count(|s| s.other_requests += 1);
                let id = q.message_id.to_str_lossy().into_owned();
                match self.messages.get(&id) {
                    Some(m) if m.system_id == system_id => {
                        let state = m
                            .final_state
                            .as_ref()
                            .map_or(Some(1), ReceiptState::message_state);
                        self.respond(
                            conn,
                            seq,
                            CommandStatus::ESME_ROK,
                            QuerySmResp {
                                message_id: q.message_id,
                                final_date: "".into(),
                                message_state: state.unwrap_or(7),
                                error_code: 0,
                                tlvs: vec![],
                            },
                        );
                    }
                    _ => self.respond(
                        conn,
                        seq,
                        CommandStatus::ESME_RQUERYFAIL,
                        QuerySmResp::default(),
                    ),
                }
            }
            Body::CancelSm(c) => {
                self.count(|s| s.other_requests += 1);
                let id = c.message_id.to_str_lossy().into_owned();
                let ids: Vec<String> = if id.is_empty() {
                    let (src, dst) = (
                        c.source_addr.to_str_lossy(),
                        c.destination_addr.to_str_lossy(),
                    );
                    self.messages
                        .iter()
                        .filter(|(_, m)| {
                            m.final_state.is_none()
                                && m.system_id == system_id
                                && m.source_addr == src
                                && m.destination_addr == dst
                        })
                        .map(|(id, _)| id.clone())
                        .collect()
                } else {
                    match self.messages.get(&id) {
                        Some(m) if m.final_state.is_none() && m.system_id == system_id => vec![id],
                        _ => vec![],
                    }
                };
                if ids.is_empty() {
                    return self.respond(
                        conn,
                        seq,
                        CommandStatus::ESME_RCANCELFAIL,
                        CancelSmResp::default(),
                    );
                }
                for id in &ids {
                    if let Some(m) = self.messages.get_mut(id) {
                        m.final_state = Some(ReceiptState::Deleted);
                    }
                    self.receipts.retain(|_, r| &r.id != id);
                }
                self.respond(conn, seq, CommandStatus::ESME_ROK, CancelSmResp::default());
            }
            Body::ReplaceSm(r) => {
                self.count(|s| s.other_requests += 1);
                let id = r.message_id.to_str_lossy().into_owned();
                let ok = self
                    .messages
                    .get(&id)
                    .is_some_and(|m| m.final_state.is_none() && m.system_id == system_id);
                if ok {
                    let text = original_text(r.short_message.as_bytes(), 0, 0);
                    for due in self.receipts.values_mut().filter(|d| d.id == id) {
                        due.text = text.clone();
                    }
                    self.respond(conn, seq, CommandStatus::ESME_ROK, ReplaceSmResp::default());
                } else {
                    self.respond(
                        conn,
                        seq,
                        CommandStatus::ESME_RREPLACEFAIL,
                        ReplaceSmResp::default(),
                    );
                }
            }
            other => self.unsupported(conn, seq, other.command_id()),
        }
    }

    /// Remembers an accepted `submit_sm` or `data_sm`, schedules its receipts (and sends
    /// them now with [`crate::SmscConfig::receipt_before_response`]), then answers it with
    /// `resp`.
    fn accept_message(&mut self, conn: ConnId, seq: u32, m: Accepted, resp: Body<'static>) {
        let id = m.id.clone();
        self.accepted(m);
        if self.config.receipt_before_response {
            self.send_receipts_now(&id);
        }
        // Counted before the answer leaves, so that a client that has its response sees
        // the count.
        self.count(|s| s.submits += 1);
        self.respond(conn, seq, CommandStatus::ESME_ROK, resp);
    }
}

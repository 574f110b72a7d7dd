//! The built-in answers to ESME requests: `submit_sm`, `data_sm`, `submit_multi` (accepted
//! with a message id, receipts scheduled; `submit_multi` destination by destination), `query_sm`, `cancel_sm` and `replace_sm` on the
//! stored messages, the `broadcast_sm` family (see `broadcast.rs`), `ESME_RINVCMDID` for
//! the rest.

use log::debug;
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::{
    Body, CancelSmResp, CommandId, CommandStatus, DataSmResp, DestAddress, Pdu, QuerySmResp,
    ReplaceSmResp, SubmitMulti, SubmitMultiResp, SubmitSmResp, UnsuccessSme,
};
use smpp_transport::ConnId;

use super::receipts::{original_text, Accepted};
use super::Core;
use crate::checks;

impl Core {
    pub(super) fn builtin_request(&mut self, conn: ConnId, seq: u32, pdu: &Pdu<'static>) {
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
        let id = pdu.command_id();
        if id == CommandId::SUBMIT_SM {
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
        }
        // One rate cap for every request that carries a message.
        if matches!(
            id,
            CommandId::SUBMIT_SM | CommandId::DATA_SM | CommandId::SUBMIT_MULTI
        ) && self.throttled()
        {
            self.count(|s| s.throttled += 1);
            let body = id
                .response()
                .and_then(Body::empty)
                .unwrap_or_else(|| smpp_pdu::GenericNack::default().into());
            return self.respond(conn, seq, CommandStatus::ESME_RTHROTTLED, body);
        }
        match &pdu.body {
            Body::SubmitSm(sm) => {
                let text = if self.may_receipt(sm.registered_delivery) {
                    original_text(sm.short_message.as_bytes(), sm.esm_class, sm.data_coding)
                } else {
                    String::new()
                };
                let source = party(sm.source_addr_ton, sm.source_addr_npi, &sm.source_addr);
                let dest = party(sm.dest_addr_ton, sm.dest_addr_npi, &sm.destination_addr);
                let rd = sm.registered_delivery;
                self.accept_one(conn, seq, system_id, rd, (source, dest), text, |id| {
                    SubmitSmResp {
                        message_id: id.into(),
                        tlvs: vec![],
                    }
                    .into()
                });
            }
            Body::DataSm(d) => {
                let source = party(d.source_addr_ton, d.source_addr_npi, &d.source_addr);
                let dest = party(d.dest_addr_ton, d.dest_addr_npi, &d.destination_addr);
                let rd = d.registered_delivery;
                self.accept_one(
                    conn,
                    seq,
                    system_id,
                    rd,
                    (source, dest),
                    String::new(),
                    |id| {
                        DataSmResp {
                            message_id: id.into(),
                            tlvs: vec![],
                        }
                        .into()
                    },
                );
            }
            Body::SubmitMulti(m) => self.submit_multi(conn, seq, system_id, m),
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
                                message_id: q.message_id.clone(),
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
                        .map(|(id, _)| id.to_owned())
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
            Body::BroadcastSm(b) => self.broadcast_sm(conn, seq, system_id, b),
            Body::QueryBroadcastSm(q) => self.query_broadcast_sm(conn, seq, system_id, q),
            Body::CancelBroadcastSm(c) => self.cancel_broadcast_sm(conn, seq, system_id, c),
            other => self.unsupported(conn, seq, other.command_id()),
        }
    }

    /// Serves a `submit_multi` destination by destination. The response carries one id
    /// `S` for the submission; each accepted destination is a message of its own, with id
    /// `S-k` (`k` = 1, 2, ... in the order of the destinations, a distribution list's
    /// members in its place, refused destinations skipped), stored for `query_sm`,
    /// `cancel_sm` and `replace_sm` and receipted on its own: its receipts carry `S-k` in
    /// `receipted_message_id` and the text's `id:` (with
    /// [`crate::ReceiptIdForm::Format`], the text carries `S`'s number in that format) and
    /// the destination as `source_addr`. A refused destination (a bad address, one of
    /// [`crate::SmscConfig::refused_destinations`], a list that is not one of
    /// [`crate::SmscConfig::distribution_lists`]) goes into `unsuccess_smes` with its
    /// status.
    fn submit_multi(
        &mut self,
        conn: ConnId,
        seq: u32,
        system_id: Option<String>,
        m: &SubmitMulti<'static>,
    ) {
        let (number, id) = self.new_id();
        let text = if self.may_receipt(m.registered_delivery) {
            original_text(m.short_message.as_bytes(), m.esm_class, m.data_coding)
        } else {
            String::new()
        };
        let source = (
            m.source_addr_ton,
            m.source_addr_npi,
            m.source_addr.to_str_lossy().into_owned(),
        );
        let mut unsuccess = Vec::new();
        let mut targets: Vec<(u8, u8, String)> = Vec::new();
        for d in &m.dest_addresses {
            let refused = match checks::check_destination(d) {
                Err(status) => Err(status),
                Ok(()) => match d {
                    DestAddress::SmeAddress {
                        dest_addr_ton,
                        dest_addr_npi,
                        destination_addr,
                    } => {
                        let addr = destination_addr.to_str_lossy().into_owned();
                        if self.config.refused_destinations.contains(&addr) {
                            Err(CommandStatus::ESME_RINVDSTADR)
                        } else {
                            targets.push((*dest_addr_ton, *dest_addr_npi, addr));
                            Ok(())
                        }
                    }
                    DestAddress::DistributionList { dl_name } => {
                        let name = dl_name.to_str_lossy();
                        match self
                            .config
                            .distribution_lists
                            .iter()
                            .find(|(n, _)| *n == name)
                        {
                            Some((_, members)) => {
                                targets.extend(members.iter().map(|a| (1, 1, a.clone())));
                                Ok(())
                            }
                            None => Err(CommandStatus::ESME_RINVDLNAME),
                        }
                    }
                },
            };
            if let Err(status) = refused {
                debug!("connection {conn}: submit_multi {id}: {d:?} refused: {status:?}");
                let (ton, npi, addr) = match d {
                    DestAddress::SmeAddress {
                        dest_addr_ton,
                        dest_addr_npi,
                        destination_addr,
                    } => (*dest_addr_ton, *dest_addr_npi, destination_addr.clone()),
                    DestAddress::DistributionList { dl_name } => (0, 0, dl_name.clone()),
                };
                unsuccess.push(UnsuccessSme {
                    dest_addr_ton: ton,
                    dest_addr_npi: npi,
                    destination_addr: addr,
                    error_status_code: status,
                });
            }
        }
        let mut ids = Vec::with_capacity(targets.len());
        for (k, dest) in targets.into_iter().enumerate() {
            let one = format!("{id}-{}", k + 1);
            ids.push(one.clone());
            self.accepted(Accepted {
                number,
                id: one,
                conn,
                system_id: system_id.clone(),
                registered_delivery: m.registered_delivery,
                source: source.clone(),
                dest,
                text: text.clone(),
            });
        }
        if self.config.receipt_before_response {
            for one in &ids {
                self.send_receipts_now(one);
            }
        }
        self.count(|s| s.submits += 1);
        self.respond(
            conn,
            seq,
            CommandStatus::ESME_ROK,
            SubmitMultiResp {
                message_id: id.into(),
                unsuccess_smes: unsuccess,
                tlvs: vec![],
            },
        );
    }

    /// Accepts a `submit_sm` or `data_sm` (`resp` makes its response from the new id):
    /// remembers it, schedules its receipts, answers.
    #[allow(clippy::too_many_arguments)]
    fn accept_one(
        &mut self,
        conn: ConnId,
        seq: u32,
        system_id: Option<String>,
        registered_delivery: u8,
        (source, dest): ((u8, u8, String), (u8, u8, String)),
        text: String,
        resp: impl FnOnce(String) -> Body<'static>,
    ) {
        let (number, id) = self.new_id();
        let m = Accepted {
            number,
            id: id.clone(),
            conn,
            system_id,
            registered_delivery,
            source,
            dest,
            text,
        };
        self.accept_message(conn, seq, m, resp(id));
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

/// An address with its TON and NPI, owned.
fn party(ton: u8, npi: u8, addr: &smpp_pdu::COctetString<'_>) -> (u8, u8, String) {
    (ton, npi, addr.to_str_lossy().into_owned())
}

//! The SMSC's operations beyond `submit_sm` on a virtual clock: `submit_multi` served per
//! destination, receipts and MO as `data_sm`, the `broadcast_sm` family, outbind.

use std::net::SocketAddr;
use std::time::Duration;

use smpp_pdu::receipt::Receipt;
use smpp_pdu::tlv::{BroadcastAreaIdentifier, Tlv};
use smpp_pdu::{
    Body, BroadcastSm, CancelBroadcastSm, CommandStatus, DestAddress, Pdu, QueryBroadcastSm,
    QuerySm, SubmitMulti,
};
use smpp_session::Event;
use smpp_smsc::core::Output;
use smpp_smsc::SmscConfig;
use smpp_transport::ConnEvent;

mod common;
use common::rig::{status_of, submit, Rig, PEER};

fn sme(addr: &str) -> DestAddress<'static> {
    DestAddress::SmeAddress {
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: addr.to_string().into(),
    }
}

fn multi(dests: Vec<DestAddress<'static>>) -> SubmitMulti<'static> {
    SubmitMulti {
        source_addr: "12345".into(),
        dest_addresses: dests,
        registered_delivery: 1,
        short_message: "hello all".into(),
        ..Default::default()
    }
}

/// The receipt in a `deliver_sm` request output, and its `source_addr`.
fn deliver_receipt(o: &Output) -> (String, Receipt) {
    match o {
        Output::Request {
            body: Body::DeliverSm(d),
            ..
        } => (
            d.source_addr.to_str_lossy().into_owned(),
            Receipt::parse(
                &String::from_utf8_lossy(d.short_message.as_bytes()),
                &d.tlvs,
            )
            .expect("receipt"),
        ),
        other => panic!("not a deliver_sm: {other:?}"),
    }
}

fn query_state(r: &mut Rig, ms: u64, id: &str) -> (CommandStatus, u8) {
    let out = r.request(
        1,
        ms,
        QuerySm {
            message_id: id.to_string().into(),
            source_addr: "12345".into(),
            ..Default::default()
        },
    );
    match &out[..] {
        [Output::Respond {
            status,
            body: Body::QuerySmResp(q),
            ..
        }] => (*status, q.message_state),
        other => panic!("{other:?}"),
    }
}

#[test]
fn submit_multi_serves_each_destination_with_its_own_message_and_receipt() {
    let mut r = Rig::new(
        SmscConfig::default()
            .receipt_delay(Duration::from_secs(2))
            .refuse_destination("447700900666"),
    );
    r.bound(1);
    let out = r.request(
        1,
        10,
        multi(vec![
            sme("447700900111"),
            sme("447700900666"),
            sme("447700900222"),
        ]),
    );
    let [Output::Respond {
        status,
        body: Body::SubmitMultiResp(resp),
        ..
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(*status, CommandStatus::ESME_ROK);
    assert_eq!(resp.message_id.to_str_lossy(), "1");
    assert_eq!(resp.unsuccess_smes.len(), 1, "{resp:?}");
    let u = &resp.unsuccess_smes[0];
    assert_eq!(u.destination_addr.to_str_lossy(), "447700900666");
    assert_eq!(u.error_status_code, CommandStatus::ESME_RINVDSTADR);
    // Each accepted destination is a message of its own, enroute until its receipt.
    assert_eq!(query_state(&mut r, 20, "1-1"), (CommandStatus::ESME_ROK, 1));
    assert_eq!(query_state(&mut r, 20, "1-2"), (CommandStatus::ESME_ROK, 1));
    assert_eq!(
        query_state(&mut r, 20, "1-3").0,
        CommandStatus::ESME_RQUERYFAIL
    );
    assert!(r.tick(2009).is_empty(), "not yet");
    let out = r.tick(2010);
    assert_eq!(out.len(), 2, "{out:?}");
    let mut got: Vec<(String, String)> = out
        .iter()
        .map(deliver_receipt)
        .map(|(from, rec)| (from, rec.id))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("447700900111".to_string(), "1-1".to_string()),
            ("447700900222".to_string(), "1-2".to_string()),
        ]
    );
    assert_eq!(
        query_state(&mut r, 2020, "1-1"),
        (CommandStatus::ESME_ROK, 2)
    );
    assert_eq!(r.core.stats().submits, 1);
}

#[test]
fn submit_multi_answers_bad_destinations_and_unknown_lists_in_unsuccess_smes() {
    let mut r = Rig::new(SmscConfig::default().distribution_list("team", ["111", "222"]));
    r.bound(1);
    let out = r.request(
        1,
        0,
        multi(vec![
            sme(""),
            DestAddress::DistributionList {
                dl_name: "nobody".into(),
            },
            DestAddress::DistributionList {
                dl_name: "team".into(),
            },
        ]),
    );
    let [Output::Respond {
        status,
        body: Body::SubmitMultiResp(resp),
        ..
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(*status, CommandStatus::ESME_ROK);
    let refused: Vec<(String, CommandStatus)> = resp
        .unsuccess_smes
        .iter()
        .map(|u| {
            (
                u.destination_addr.to_str_lossy().into_owned(),
                u.error_status_code,
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            (String::new(), CommandStatus::ESME_RINVDSTADR),
            ("nobody".to_string(), CommandStatus::ESME_RINVDLNAME),
        ]
    );
    // The list's two members are messages 1-1 and 1-2, receipted to their addresses.
    let out = r.tick(100);
    let mut from: Vec<String> = out.iter().map(|o| deliver_receipt(o).0).collect();
    from.sort();
    assert_eq!(from, ["111", "222"]);
}

fn tlv_state(tlvs: &[Tlv<'_>]) -> Option<u8> {
    tlvs.iter().find_map(|t| match t {
        Tlv::MessageState(s) => Some(*s),
        _ => None,
    })
}

#[test]
fn receipts_and_mo_go_out_as_data_sm_when_asked() {
    let mut r = Rig::new(
        SmscConfig::default()
            .receipt_delay(Duration::from_secs(1))
            .deliver_as_data_sm(true),
    );
    r.bound(1);
    let out = r.request(1, 0, submit(1));
    assert!(matches!(out[..], [Output::Respond { .. }]), "{out:?}");
    let out = r.tick(1000);
    let [Output::Request {
        body: Body::DataSm(d),
        ..
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(d.esm_class, 0x04);
    assert_eq!(d.source_addr.to_str_lossy(), "447700900123");
    assert_eq!(d.destination_addr.to_str_lossy(), "12345");
    assert_eq!(tlv_state(&d.tlvs), Some(2));
    assert!(d
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::ReceiptedMessageId(id) if id.to_str_lossy() == "1")));
    let text = d
        .tlvs
        .iter()
        .find_map(|t| match t {
            Tlv::MessagePayload(p) => Some(String::from_utf8_lossy(p.as_bytes()).into_owned()),
            _ => None,
        })
        .expect("the text in message_payload");
    assert!(text.starts_with("id:1 sub:001"), "{text}");
    let rec = Receipt::from_data_sm(d).expect("a receipt");
    assert_eq!(rec.id, "1");
    // An MO too.
    r.core
        .inject_mo(r.at(1001), "esme", "447700900123", "12345", "hi")
        .unwrap();
    let out = r.outputs();
    let [Output::Request {
        body: Body::DataSm(d),
        ..
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(d.esm_class, 0);
    assert!(d
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::MessagePayload(p) if p.as_bytes() == b"hi")));
}

fn area(name: &str) -> Tlv<'static> {
    Tlv::BroadcastAreaIdentifier(BroadcastAreaIdentifier {
        format: 0,
        details: name.as_bytes().to_vec().into(),
    })
}

fn query_broadcast(r: &mut Rig, id: &str) -> (CommandStatus, Vec<Tlv<'static>>) {
    let out = r.request(
        1,
        0,
        QueryBroadcastSm {
            message_id: id.to_string().into(),
            source_addr: "12345".into(),
            ..Default::default()
        },
    );
    match &out[..] {
        [Output::Respond {
            status,
            body: Body::QueryBroadcastSmResp(q),
            ..
        }] => {
            if status.is_ok() {
                assert_eq!(q.message_id.to_str_lossy(), id);
            }
            (*status, q.tlvs.clone())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn broadcasts_are_stored_queried_and_cancelled() {
    let mut r = Rig::new(SmscConfig::default());
    r.bound(1);
    // Without an area it is refused.
    let out = r.request(
        1,
        0,
        BroadcastSm {
            source_addr: "12345".into(),
            ..Default::default()
        },
    );
    assert_eq!(status_of(&out), CommandStatus::ESME_RMISSINGTLV);
    let out = r.request(
        1,
        0,
        BroadcastSm {
            source_addr: "12345".into(),
            tlvs: vec![
                area("London"),
                area("Leeds"),
                Tlv::MessagePayload(b"storm warning".to_vec().into()),
            ],
            ..Default::default()
        },
    );
    let id = match &out[..] {
        [Output::Respond {
            status: CommandStatus::ESME_ROK,
            body: Body::BroadcastSmResp(b),
            ..
        }] => b.message_id.to_str_lossy().into_owned(),
        other => panic!("{other:?}"),
    };
    assert_eq!(id, "1");
    let (status, tlvs) = query_broadcast(&mut r, &id);
    assert_eq!(status, CommandStatus::ESME_ROK);
    assert_eq!(
        tlvs,
        [
            Tlv::MessageState(1),
            area("London"),
            area("Leeds"),
            Tlv::BroadcastAreaSuccess(100)
        ]
    );
    assert_eq!(
        query_broadcast(&mut r, "99").0,
        CommandStatus::ESME_RBCASTQUERYFAIL
    );
    let cancel = |id: &str| CancelBroadcastSm {
        message_id: id.to_string().into(),
        source_addr: "12345".into(),
        ..Default::default()
    };
    let out = r.request(1, 0, cancel(&id));
    assert_eq!(status_of(&out), CommandStatus::ESME_ROK);
    let (_, tlvs) = query_broadcast(&mut r, &id);
    assert_eq!(tlvs[0], Tlv::MessageState(3));
    assert_eq!(tlvs.last(), Some(&Tlv::BroadcastAreaSuccess(0)));
    // Cancelled once only; an unknown id cannot be cancelled.
    let out = r.request(1, 0, cancel(&id));
    assert_eq!(status_of(&out), CommandStatus::ESME_RBCASTCANCELFAIL);
    let out = r.request(1, 0, cancel("42"));
    assert_eq!(status_of(&out), CommandStatus::ESME_RBCASTCANCELFAIL);
}

#[test]
fn outbind_then_the_esme_binds_as_a_receiver_and_gets_mo() {
    use smpp_pdu::{BindReceiver, Outbind};
    use smpp_transport::Outcome;
    let mut r = Rig::new(SmscConfig::default());
    let peer: SocketAddr = PEER.parse().unwrap();
    r.core.outbind(r.at(0), 7, peer, "smpp-smsc", "pw");
    let out = r.outputs();
    let [Output::Request {
        conn: 7,
        tag,
        body:
            Body::Outbind(Outbind {
                system_id,
                password,
                ..
            }),
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(system_id.to_str_lossy(), "smpp-smsc");
    assert_eq!(password.expose(), b"pw");
    r.core.on_completed(r.at(1), *tag, Outcome::Sent);
    assert_eq!(r.core.stats().delivers_failed, 0);
    assert_eq!(r.core.connections(), 1);
    let pdu = Pdu::new(
        1,
        BindReceiver {
            system_id: "esme".into(),
            password: "x".into(),
            interface_version: 0x34,
            ..Default::default()
        },
    );
    r.core.on_event(
        r.at(2),
        7,
        ConnEvent::Session(Event::BindRequested {
            sequence_number: 1,
            pdu,
        }),
    );
    let out = r.outputs();
    assert!(
        matches!(out[..], [Output::AcceptBind { conn: 7, .. }]),
        "{out:?}"
    );
    r.core
        .inject_mo(r.at(3), "esme", "447700900123", "12345", "hi")
        .unwrap();
    let out = r.outputs();
    assert!(
        matches!(
            out[..],
            [Output::Request {
                conn: 7,
                body: Body::DeliverSm(_),
                ..
            }]
        ),
        "{out:?}"
    );
}

//! Outbind (SMPP 3.4 §2.2.1 / 5.0): the SMSC opens the connection and asks the ESME to bind.

use smpp_pdu::CommandId;
use smpp_session::{BindKind, BindRequest, Config, Event, State};

use crate::pair::{headers, Pair};

#[test]
fn outbind_then_bind_as_receiver() {
    let mut p = Pair::new(Config::default(), Config::default());
    p.auto_accept_bind = true;
    let now = p.now;
    p.smsc.outbind(now, "smsc", "pw").unwrap();
    assert_eq!(p.smsc.state(), State::Outbound);
    p.drive();
    match &p.esme_events[..] {
        [Event::Outbind {
            system_id,
            password,
        }] => {
            assert_eq!(system_id, "smsc");
            assert_eq!(password.expose(), b"pw");
        }
        other => panic!("{other:#?}"),
    }
    assert_eq!(p.esme.state(), State::Outbound);
    // outbind has no response.
    assert!(p.esme_tx.is_empty());
    assert_eq!(headers(&p.smsc_tx)[0].0, CommandId::OUTBIND);

    p.esme_bind(BindRequest::new(BindKind::Receiver, "esme", "secret"))
        .unwrap();
    p.drive();
    assert_eq!(
        p.esme_events[1..],
        [Event::Bound {
            kind: BindKind::Receiver,
            peer_system_id: "smsc".into(),
            interface_version: Some(0x34),
        }]
    );
    assert_eq!(p.esme.state(), State::BoundRx);
    assert_eq!(p.smsc.state(), State::BoundRx);
    p.check_accounting(true);
}

#[test]
fn outbind_is_refused_locally_on_a_bound_smsc_and_on_an_esme() {
    let mut p = Pair::bound(BindKind::Transceiver, Config::default(), Config::default());
    let now = p.now;
    assert!(p.smsc.outbind(now, "smsc", "pw").is_err());
    assert!(p.esme.outbind(now, "esme", "pw").is_err());
    assert!(!p.smsc.has_transmit());
}

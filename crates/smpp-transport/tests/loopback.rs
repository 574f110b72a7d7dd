//! ESME and SMSC sessions hosted by one transport, over 127.0.0.1.

use std::time::Duration;

use smpp_pdu::{Body, CommandStatus, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, BindRequest, Event};
use smpp_transport::{Completed, Config, ConnEvent, Connection, Outcome, Transport};

const WAIT: Duration = Duration::from_secs(10);

/// Answers binds and submits on an accepted connection until it closes.
fn serve(conn: Connection) -> usize {
    let mut answered = 0;
    while let Ok(ev) = conn.events().recv_timeout(WAIT) {
        match ev {
            ConnEvent::Session(Event::BindRequested {
                sequence_number, ..
            }) => {
                conn.accept_bind(sequence_number, "smsc").unwrap();
            }
            ConnEvent::Session(Event::Request {
                sequence_number, ..
            }) => {
                let id = format!("m{sequence_number}");
                conn.respond(
                    sequence_number,
                    CommandStatus::ESME_ROK,
                    Body::from(SubmitSmResp {
                        message_id: id.into(),
                        tlvs: vec![],
                    }),
                )
                .unwrap();
                answered += 1;
            }
            ConnEvent::Closed(_) => break,
            _ => {}
        }
    }
    answered
}

#[test]
fn bind_and_windowed_submits_over_loopback() {
    let t = Transport::spawn(Config::default()).unwrap();
    let listener = t
        .listen(
            "127.0.0.1:0".parse().unwrap(),
            smpp_session::Config::default(),
        )
        .unwrap();
    let addr = listener.local_addr();
    let server = std::thread::spawn(move || {
        let conn = listener
            .accept_timeout(WAIT)
            .unwrap()
            .expect("a connection");
        serve(conn)
    });
    let conn = t
        .connect(addr, smpp_session::Config::default().window(64))
        .unwrap();
    let (reply, done) = crossbeam_channel::unbounded::<Completed>();
    conn.bind(
        BindRequest::new(BindKind::Transceiver, "esme", "pw"),
        0,
        &reply,
    )
    .unwrap();
    let bound = done.recv_timeout(WAIT).unwrap();
    assert!(
        matches!(
            bound.outcome,
            Outcome::Bound {
                kind: BindKind::Transceiver,
                ..
            }
        ),
        "{bound:?}"
    );

    const N: u64 = 2000;
    for tag in 1..=N {
        let sm = SubmitSm {
            source_addr: "1".into(),
            destination_addr: "2".into(),
            short_message: "hi".into(),
            ..Default::default()
        };
        conn.request(Body::from(sm).into_owned(), tag, &reply)
            .unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    for _ in 0..N {
        let c = done.recv_timeout(WAIT).unwrap();
        assert!(
            matches!(c.outcome, Outcome::Response(ref p) if p.command_status == CommandStatus::ESME_ROK),
            "{c:?}"
        );
        assert!(seen.insert(c.tag), "tag {} resolved twice", c.tag);
    }
    conn.unbind(N + 1, &reply).unwrap();
    let c = done.recv_timeout(WAIT).unwrap();
    assert_eq!(
        c,
        Completed {
            tag: N + 1,
            outcome: Outcome::Unbound
        }
    );
    assert_eq!(server.join().unwrap(), N as usize);
    assert!(done.try_recv().is_err(), "nothing resolves twice");
    t.shutdown();
}

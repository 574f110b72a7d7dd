//! An ESME session and an SMSC session wired back to back in memory, on a clock that only
//! moves when we say so: bind, one submit_sm and its response, a response timeout, the
//! counters. This is application code: its one clock read is the application's; the
//! sessions only ever see the `Instant`s passed to them.
//!
//! `cargo run -p smpp-session --example back_to_back`; it is also the crate's front-page
//! example, run as a doc test.

use std::time::{Duration, Instant};

use smpp_pdu::{Body, CommandId, CommandStatus, SubmitSm, SubmitSmResp};
use smpp_session::{BindKind, BindRequest, Config, Event, Session};

/// Moves everything `from` wants to send into `to`.
fn wire(now: Instant, from: &mut Session, to: &mut Session) {
    let mut bytes = Vec::new();
    while from.poll_transmit(&mut bytes).is_some() {}
    to.handle_input(now, &bytes);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut now = Instant::now();
    let config = Config::default().response_timeout(Duration::from_secs(5));
    let mut esme = Session::esme(config.clone(), now);
    let mut smsc = Session::smsc(config, now);

    esme.bind(
        now,
        BindRequest::new(BindKind::Transceiver, "esme", "secret"),
    )?;
    wire(now, &mut esme, &mut smsc);
    let Some(Event::BindRequested {
        sequence_number, ..
    }) = smsc.poll_event()
    else {
        return Err("the SMSC saw no bind".into());
    };
    smsc.accept_bind(now, sequence_number, "SMSC")?;
    wire(now, &mut smsc, &mut esme);
    assert!(matches!(esme.poll_event(), Some(Event::Bound { .. })));

    let sm = SubmitSm {
        destination_addr: "447700900123".into(),
        short_message: "Hi".into(),
        ..Default::default()
    };
    let seq = esme.send_request(now, &Body::from(sm.clone()))?;
    wire(now, &mut esme, &mut smsc);
    while let Some(ev) = smsc.poll_event() {
        if let Event::Request {
            sequence_number, ..
        } = ev
        {
            let resp = SubmitSmResp {
                message_id: "1".into(),
                tlvs: vec![],
            };
            smsc.send_response(
                now,
                sequence_number,
                CommandStatus::ESME_ROK,
                Body::from(resp),
            )?;
        }
    }
    wire(now, &mut smsc, &mut esme);
    assert!(matches!(
        esme.poll_event(),
        Some(Event::Response { sequence_number, .. }) if sequence_number == seq
    ));

    // A request nobody answers resolves by itself once its deadline passes.
    let lost = esme.send_request(now, &Body::from(sm))?;
    now = esme.poll_timeout().ok_or("no deadline")?;
    esme.handle_timeout(now);
    assert!(matches!(
        esme.poll_event(),
        Some(Event::ResponseTimeout { sequence_number, .. }) if sequence_number == lost
    ));
    let stats = esme.stats();
    assert_eq!(stats.sent.count(CommandId::SUBMIT_SM), 2);
    assert_eq!(stats.response_timeouts, 1);
    Ok(())
}

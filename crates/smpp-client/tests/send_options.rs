//! `send_text` and the submit paths with everything a campaign sets, against the in-test
//! SMSC (tests/common) on 127.0.0.1: automatic and explicit TON/NPI, the `submit_sm`
//! fields and TLVs as they reach the SMSC, throttling retried on every path, and the
//! per-call response timeout.

mod common;

use std::time::{Duration, Instant};

use common::{sm, Knobs, Smsc};
use smpp_client::{Backoff, Client, ClientConfig, Error, TextOptions, ThrottlePolicy};
use smpp_pdu::address::{AddressError, Npi, Ton};
use smpp_pdu::time::{AbsoluteTime, RelativeTime, SmppTime};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{CommandId, CommandStatus};
use smpp_session::BindKind;

/// A configuration with short timeouts, so that a failing test ends quickly.
fn cfg() -> ClientConfig {
    let mut c = ClientConfig::new(BindKind::Transmitter, "esme", "pw")
        .response_timeout(Duration::from_secs(3));
    c.session.unbind_timeout = Duration::from_secs(1);
    c.transport.connect_timeout = Duration::from_secs(3);
    c
}

fn retrying() -> ClientConfig {
    cfg().throttle(ThrottlePolicy::Retry {
        attempts: 3,
        backoff: Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(2),
            ..Backoff::default()
        },
    })
}

fn no_receipt() -> TextOptions {
    TextOptions::default().registered_delivery(0)
}

#[test]
fn alphanumeric_sender_and_plus_destination_get_their_ton_and_npi() {
    let smsc = Smsc::start(Knobs::default());
    let c = Client::connect(smsc.addr, cfg()).expect("binds");
    let sent = c
        .send_text("MyBrand", "+447700900123", "hello", &no_receipt())
        .expect("sent");
    assert_eq!(sent.len(), 1);
    let s = smsc.stats();
    let got = &s.submitted[0];
    assert_eq!(
        (got.source_addr_ton, got.source_addr_npi),
        (5, 0),
        "alphanumeric"
    );
    assert_eq!(got.source_addr, "MyBrand");
    assert_eq!(
        (got.dest_addr_ton, got.dest_addr_npi),
        (1, 1),
        "international"
    );
    assert_eq!(got.destination_addr, "447700900123", "the + removed");
    c.unbind().unwrap();
}

#[test]
fn digits_keep_the_configured_ton_and_npi() {
    let smsc = Smsc::start(Knobs::default());
    let c = Client::connect(smsc.addr, cfg()).expect("binds");
    c.send_text("12345", "447700900123", "hello", &no_receipt())
        .expect("sent");
    let s = smsc.stats();
    let got = &s.submitted[0];
    assert_eq!((got.source_addr_ton, got.source_addr_npi), (0, 0));
    assert_eq!(got.source_addr, "12345");
    assert_eq!((got.dest_addr_ton, got.dest_addr_npi), (1, 1));
    assert_eq!(got.destination_addr, "447700900123");
    c.unbind().unwrap();
}

#[test]
fn explicit_ton_and_npi_win_and_the_address_goes_as_given() {
    let smsc = Smsc::start(Knobs::default());
    let c = Client::connect(smsc.addr, cfg()).expect("binds");
    let opts = no_receipt()
        .source_ton_npi(Ton::UNKNOWN, Npi::UNKNOWN)
        .dest_ton_npi(Ton::NATIONAL, Npi::NATIONAL);
    c.send_text("MyBrand", "+07700900123", "hello", &opts)
        .expect("sent");
    let s = smsc.stats();
    let got = &s.submitted[0];
    assert_eq!((got.source_addr_ton, got.source_addr_npi), (0, 0));
    assert_eq!(got.source_addr, "MyBrand");
    assert_eq!((got.dest_addr_ton, got.dest_addr_npi), (2, 8));
    assert_eq!(got.destination_addr, "+07700900123");
    c.unbind().unwrap();
}

#[test]
fn an_alphanumeric_sender_over_eleven_characters_is_a_typed_error() {
    let smsc = Smsc::start(Knobs::default());
    let c = Client::connect(smsc.addr, cfg()).expect("binds");
    match c.send_text("MyVeryLongBrand", "447700900123", "hello", &no_receipt()) {
        Err(Error::SourceAddress(AddressError::AlphanumericTooLong { len: 15 })) => {}
        other => panic!("expected a source address error, got {other:?}"),
    }
    assert!(smsc.stats().submitted.is_empty(), "nothing was sent");
    c.unbind().unwrap();
}

#[test]
fn every_option_reaches_the_wire() {
    let smsc = Smsc::start(Knobs::default());
    let c = Client::connect(smsc.addr, cfg()).expect("binds");
    let at = AbsoluteTime {
        year: 2030,
        month: 6,
        day: 15,
        hour: 12,
        minute: 30,
        second: 0,
        tenths: 0,
        utc_offset_quarters: 4,
    };
    let opts = TextOptions::default()
        .registered_delivery(0)
        .valid_for(Duration::from_secs(2 * 3600 + 30 * 60))
        .schedule_delivery_time(SmppTime::Absolute(at))
        .priority(2)
        .service_type("CMT")
        .protocol_id(0x41)
        .esm_class(0x03)
        .data_coding(0xF0)
        .replace_if_present(true)
        .tlv(Tlv::UserMessageReference(4242))
        .tlv(Tlv::SourcePort(9200))
        .reference("campaign-7/row-12");
    let sent = c
        .send_text("MyBrand", "447700900123", "options", &opts)
        .expect("sent");
    assert_eq!(sent.reference.as_deref(), Some("campaign-7/row-12"));
    let s = smsc.stats();
    let got = &s.submitted[0];
    let relative = RelativeTime {
        hours: 2,
        minutes: 30,
        ..RelativeTime::default()
    };
    assert_eq!(
        SmppTime::parse(got.validity_period.as_bytes()).unwrap(),
        Some(SmppTime::Relative(relative))
    );
    assert_eq!(got.validity_period, "000000023000000R");
    assert_eq!(
        SmppTime::parse(got.schedule_delivery_time.as_bytes()).unwrap(),
        Some(SmppTime::Absolute(at))
    );
    assert_eq!(got.priority_flag, 2);
    assert_eq!(got.service_type, "CMT");
    assert_eq!(got.protocol_id, 0x41);
    assert_eq!(got.esm_class, 0x03);
    assert_eq!(got.data_coding, 0xF0);
    assert_eq!(got.replace_if_present_flag, 1);
    assert_eq!(
        got.tlvs,
        vec![Tlv::UserMessageReference(4242), Tlv::SourcePort(9200)]
    );
    assert_eq!(got.short_message, "options");
    c.unbind().unwrap();
}

#[test]
fn segments_of_a_long_text_carry_the_options_and_their_udh() {
    let smsc = Smsc::start(Knobs::default());
    let c = Client::connect(smsc.addr, cfg()).expect("binds");
    let opts = no_receipt()
        .esm_class(0x03)
        .tlv(Tlv::UserMessageReference(7));
    let sent = c
        .send_text("MyBrand", "447700900123", &"long ".repeat(60), &opts)
        .expect("sent");
    assert!(sent.len() > 1);
    for got in &smsc.stats().submitted {
        assert_eq!(got.esm_class, 0x43, "UDHI added to the caller's bits");
        assert_eq!(got.tlvs, vec![Tlv::UserMessageReference(7)]);
        assert_eq!(got.source_addr_ton, 5);
    }
    c.unbind().unwrap();
}

/// Every segment of a long text is throttled once: send_text resends each (its other
/// segments still in flight) and succeeds.
#[test]
fn send_text_retries_throttled_segments() {
    let smsc = Smsc::start(Knobs {
        throttle_every_message: Some(1),
        ..Knobs::default()
    });
    let c = Client::connect(smsc.addr, retrying()).expect("binds");
    let text = "segmented ".repeat(40);
    let sent = c
        .send_text("MyBrand", "447700900123", &text, &no_receipt())
        .expect("throttled segments resent");
    let n = sent.len() as u64;
    assert!(n > 1);
    assert_eq!(smsc.stats().throttled, n);
    assert_eq!(smsc.stats().submitted.len() as u64, 2 * n);
    let cs = c.stats();
    assert_eq!(cs.throttled_retries, n);
    assert_eq!(
        cs.session
            .received
            .count_status(CommandId::SUBMIT_SM_RESP, CommandStatus::ESME_RTHROTTLED),
        n
    );
    // The resent segments' acceptances reach the tracker too (recorded by the sending
    // thread, their first tags having been answered with the throttle): one report, every
    // segment accepted under the id that was returned.
    let item = c
        .inbound()
        .recv_timeout(Duration::from_secs(5))
        .expect("the report");
    let report = item.report().expect("a report");
    assert_eq!(report.outcome, smpp_client::Outcome::Accepted);
    assert_eq!(report.message_ids().collect::<Vec<_>>(), sent.message_ids);
    c.unbind().unwrap();
}

#[test]
fn submit_async_retries_a_throttled_submit() {
    let smsc = Smsc::start(Knobs {
        throttle_every_message: Some(1),
        ..Knobs::default()
    });
    let c = Client::connect(smsc.addr, retrying()).expect("binds");
    let pendings: Vec<_> = (0..5)
        .map(|i| c.submit_async(sm(&format!("async {i}"))).expect("sent"))
        .collect();
    for p in pendings {
        p.wait_submit().expect("resent after the throttle");
    }
    assert_eq!(smsc.stats().throttled, 5);
    assert_eq!(c.stats().throttled_retries, 5);
    c.unbind().unwrap();
}

#[test]
fn without_a_retry_policy_the_throttle_is_reported() {
    let smsc = Smsc::start(Knobs {
        throttle_every_message: Some(1),
        ..Knobs::default()
    });
    let c = Client::connect(smsc.addr, cfg()).expect("binds");
    match c.send_text("MyBrand", "447700900123", "once", &no_receipt()) {
        Err(Error::Status(CommandStatus::ESME_RTHROTTLED)) => {}
        other => panic!("expected the throttle, got {other:?}"),
    }
    assert_eq!(c.stats().throttled_retries, 0);
    c.unbind().unwrap();
}

/// The per-call timeout bounds the client's wait, not the session's: the call returns
/// `Timeout` after it while the session's own response timeout (3 s) is far away. Needs the
/// wall clock: what is checked is how long the call waited.
#[test]
fn per_call_timeout_bounds_the_wait() {
    let smsc = Smsc::start(Knobs {
        delay: Duration::from_millis(2500),
        ..Knobs::default()
    });
    let c = Client::connect(smsc.addr, cfg()).expect("binds");
    let started = Instant::now();
    let r = c.send_text(
        "MyBrand",
        "447700900123",
        "slow",
        &no_receipt().timeout(Duration::from_millis(200)),
    );
    let waited = started.elapsed();
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_millis(2000),
        "waited {waited:?}"
    );
    drop(c);
}

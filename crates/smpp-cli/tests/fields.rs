//! The field flags: --interface-version, --response-timeout, `send --hex/--udh`, and the
//! message fields `submit-multi` and `data-sm` share with `send`: each reaches the PDU, and
//! a bad value exits 2 naming the flag.

mod common;

use std::time::Duration;

use common::{err, out, smpp};
use smpp_pdu::{Body, Tlv};
use smpp_smsc::core::{Ctx, Handler, Request, Verdict};
use smpp_smsc::{Smsc, SmscConfig, User};

fn smsc() -> Smsc {
    smsc_with(SmscConfig::default())
}

fn smsc_with(config: SmscConfig) -> Smsc {
    Smsc::start(
        config
            .user(User::new("alice", "pw"))
            .receipt_delay(Duration::from_secs(600)),
    )
    .expect("SMSC")
}

fn with<'a>(addr: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend_from_slice(&["--addr", addr, "--system-id", "alice", "--password", "pw"]);
    v
}

/// The bodies of the PDUs the SMSC received.
fn bodies(smsc: &Smsc) -> Vec<Body<'static>> {
    smsc.received()
        .into_iter()
        .filter_map(|r| r.pdu.map(|p| p.body))
        .collect()
}

/// The submit_sms the SMSC received, in order.
fn submits(smsc: &Smsc) -> Vec<smpp_pdu::SubmitSm<'static>> {
    bodies(smsc)
        .into_iter()
        .filter_map(|b| match b {
            Body::SubmitSm(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Runs `smpp ARGS`, expecting exit 2 and stderr naming `flag`.
fn refused(args: &[&str], flag: &str) {
    let o = smpp(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
    assert!(err(&o).contains(flag), "{args:?}: {}", err(&o));
}

#[test]
fn interface_version_sets_the_binds_version() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    for (v, want) in [("5.0", 0x50), ("3.4", 0x34)] {
        let o = smpp(&with(
            &addr,
            &["enquire", "--count", "1", "--interface-version", v],
        ));
        assert!(o.status.success(), "{}", err(&o));
        let got = bodies(&smsc)
            .into_iter()
            .filter_map(|b| match b {
                Body::BindTransceiver(b) => Some(b.interface_version),
                _ => None,
            })
            .next_back();
        assert_eq!(got, Some(want), "{v}");
    }
    refused(
        &with(&addr, &["enquire", "--interface-version", "4"]),
        "--interface-version",
    );
    refused(
        &with(&addr, &["enquire", "--response-timeout", "0"]),
        "--response-timeout",
    );
}

/// Binds, then leaves every request unanswered.
struct Silent;

impl Handler for Silent {
    fn request(&mut self, _: &Request<'_>, _: &mut Ctx<'_>) -> Verdict {
        Verdict::Ignore
    }
}

#[test]
fn an_smsc_that_does_not_answer_times_out() {
    let smsc =
        Smsc::start_with_handler(SmscConfig::default().user(User::new("alice", "pw")), Silent)
            .expect("SMSC");
    let addr = smsc.local_addr().to_string();
    // Every subcommand that sends a request, all at once (each waits its one second).
    let started = std::time::Instant::now();
    let runs: Vec<_> = [
        &["query", "--id", "1"][..],
        &["cancel", "--id", "1"][..],
        &["replace", "--id", "1", "--text", "x"][..],
        &["submit-multi", "--to", "447700900001", "--text", "x"][..],
        &["data-sm", "--to", "447700900001", "--text", "x"][..],
        &["send", "--to", "447700900001", "--text", "x"][..],
    ]
    .into_iter()
    .map(|args| {
        let mut args = args.to_vec();
        args.extend_from_slice(&["--response-timeout", "1"]);
        let child = common::spawn(&with(&addr, &args));
        (args[0], child)
    })
    .collect();
    for (sub, child) in runs {
        let o = common::finish(child, Duration::from_secs(20), sub);
        assert_eq!(o.status.code(), Some(1), "{sub}: {}", err(&o));
        let e = err(&o);
        assert!(
            e.contains("timed out") || e.contains("no response within the response timeout"),
            "{sub}: {e}"
        );
        assert!(!e.contains("bind"), "{sub}: {e}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    // Responses later than the timeout, the bind's included: the bind times out.
    let slow = smsc_with(SmscConfig::default().response_delay(Duration::from_secs(5)));
    let addr = slow.local_addr().to_string();
    let o = smpp(&with(&addr, &["enquire", "--response-timeout", "0.5"]));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("bind"), "{}", err(&o));
}

#[test]
fn send_hex_goes_as_is_with_data_coding_4() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let o = smpp(&with(
        &addr,
        &["send", "--to", "447700900001", "--hex", "00ff10", "--json"],
    ));
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("\"event\":\"submitted\""), "{}", out(&o));
    let sm = submits(&smsc).into_iter().next().expect("a submit_sm");
    assert_eq!(sm.short_message.as_bytes(), &[0x00, 0xff, 0x10]);
    assert_eq!(sm.data_coding, 4);
    assert_eq!(sm.esm_class, 0);
}

/// A --hex message is tracked like a text: with --wait-receipt it asks for a receipt and
/// ends with one report under its reference.
#[test]
fn send_hex_with_wait_receipt_is_reported() {
    let smsc = Smsc::start(
        SmscConfig::default()
            .user(User::new("alice", "pw"))
            .receipt_delay(Duration::from_millis(50)),
    )
    .expect("SMSC");
    let addr = smsc.local_addr().to_string();
    let o = smpp(&with(
        &addr,
        &[
            "send",
            "--to",
            "447700900001",
            "--udh",
            "0504158200f0",
            "--hex",
            "cafe",
            "--bind",
            "trx",
            "--ref",
            "bin-1",
            "--wait-receipt",
            "5",
            "--json",
        ],
    ));
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    let report = out(&o)
        .lines()
        .find(|l| l.contains("\"event\":\"report\""))
        .unwrap_or_else(|| panic!("no report: {}", out(&o)))
        .to_string();
    assert!(report.contains("\"reference\":\"bin-1\""), "{report}");
    assert!(report.contains("\"outcome\":\"delivered\""), "{report}");
    let sm = submits(&smsc).into_iter().next().expect("a submit_sm");
    assert_eq!(sm.registered_delivery, 1);
    assert_eq!(
        sm.short_message.as_bytes(),
        &[5, 4, 0x15, 0x82, 0, 0xf0, 0xca, 0xfe]
    );
}

#[test]
fn send_udh_goes_in_front_with_udhi() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let o = smpp(&with(
        &addr,
        &[
            "send",
            "--to",
            "447700900001",
            "--udh",
            "0504158200f0",
            "--text",
            "hi",
            "--service-type",
            "WAP",
            "--tlv",
            "user_message_reference=002a",
        ],
    ));
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).starts_with("submitted to 447700900001"),
        "{}",
        out(&o)
    );
    let o = smpp(&with(
        &addr,
        &[
            "send",
            "--to",
            "447700900001",
            "--udh",
            "0504158200f0",
            "--hex",
            "cafe",
            "--data-coding",
            "0xf5",
        ],
    ));
    assert!(o.status.success(), "{}", err(&o));
    let sms = submits(&smsc);
    assert_eq!(sms.len(), 2);
    assert_eq!(
        sms[0].short_message.as_bytes(),
        &[5, 4, 0x15, 0x82, 0, 0xf0, b'h', b'i']
    );
    assert_eq!(sms[0].esm_class, 0x40);
    assert_eq!(sms[0].data_coding, 0);
    assert_eq!(sms[0].service_type.to_str_lossy(), "WAP");
    assert!(sms[0].tlvs.contains(&Tlv::UserMessageReference(42)));
    assert_eq!(
        sms[1].short_message.as_bytes(),
        &[5, 4, 0x15, 0x82, 0, 0xf0, 0xca, 0xfe]
    );
    assert_eq!(sms[1].data_coding, 0xf5);
}

#[test]
fn bad_hex_and_udh_name_their_flag() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    refused(
        &with(&addr, &["send", "--to", "1", "--hex", "abc"]),
        "--hex",
    );
    refused(&with(&addr, &["send", "--to", "1", "--hex", "zz"]), "--hex");
    refused(
        &with(&addr, &["send", "--to", "1", "--hex", "00", "--text", "x"]),
        "--hex",
    );
    refused(
        &with(
            &addr,
            &["send", "--to", "1", "--udh", "0500", "--text", "x"],
        ),
        "--udh",
    );
    let big = "00".repeat(141);
    refused(&with(&addr, &["send", "--to", "1", "--hex", &big]), "--hex");
    let body = "00".repeat(135);
    refused(
        &with(
            &addr,
            &["send", "--to", "1", "--udh", "0504158200f0", "--hex", &body],
        ),
        "--udh",
    );
    let text = "a".repeat(155);
    refused(
        &with(
            &addr,
            &[
                "send",
                "--to",
                "1",
                "--udh",
                "0504158200f0",
                "--text",
                &text,
            ],
        ),
        "--udh",
    );
    refused(
        &with(&addr, &["send", "--to", "1", "--udh", "0504158200f0"]),
        "--udh",
    );
    assert_eq!(smsc.stats().submits, 0);
}

#[test]
fn submit_multi_and_data_sm_carry_the_message_fields() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let o = smpp(&with(
        &addr,
        &[
            "submit-multi",
            "--to",
            "447700900001",
            "--to",
            "447700900002",
            "--text",
            "hi",
            "--service-type",
            "CMT",
            "--protocol-id",
            "0x7f",
            "--priority",
            "2",
            "--validity",
            "1h",
            "--schedule",
            "10m",
            "--data-coding",
            "0xf0",
            "--esm-class",
            "0x03",
            "--dest-ton",
            "2",
            "--dest-npi",
            "8",
            "--source-ton",
            "5",
            "--source-npi",
            "0",
            "--from",
            "Brand",
            "--tlv",
            "0x1401=ff",
        ],
    ));
    assert!(o.status.success(), "{}", err(&o));
    let o = smpp(&with(
        &addr,
        &[
            "data-sm",
            "--to",
            "447700900003",
            "--text",
            "x",
            "--service-type",
            "WAP",
            "--esm-class",
            "3",
            "--data-coding",
            "8",
            "--dest-ton",
            "1",
            "--dest-npi",
            "1",
            "--tlv",
            "user_message_reference=0007",
        ],
    ));
    assert!(o.status.success(), "{}", err(&o));
    let (mut multi, mut data) = (None, None);
    for b in bodies(&smsc) {
        match b {
            Body::SubmitMulti(m) => multi = Some(m),
            Body::DataSm(d) => data = Some(d),
            _ => {}
        }
    }
    let m = multi.expect("a submit_multi");
    assert_eq!(m.service_type.to_str_lossy(), "CMT");
    assert_eq!(
        (m.protocol_id, m.priority_flag, m.data_coding, m.esm_class),
        (0x7f, 2, 0xf0, 3)
    );
    assert_eq!(m.validity_period.to_str_lossy(), "000000010000000R");
    assert_eq!(m.schedule_delivery_time.to_str_lossy(), "000000001000000R");
    assert_eq!((m.source_addr_ton, m.source_addr_npi), (5, 0));
    assert_eq!(m.source_addr.to_str_lossy(), "Brand");
    for d in &m.dest_addresses {
        match d {
            smpp_pdu::DestAddress::SmeAddress {
                dest_addr_ton,
                dest_addr_npi,
                ..
            } => assert_eq!((*dest_addr_ton, *dest_addr_npi), (2, 8)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(m.tlvs.len(), 1);
    let d = data.expect("a data_sm");
    assert_eq!(d.service_type.to_str_lossy(), "WAP");
    assert_eq!((d.esm_class, d.data_coding), (3, 8));
    assert_eq!((d.dest_addr_ton, d.dest_addr_npi), (1, 1));
    assert!(d.tlvs.contains(&Tlv::UserMessageReference(7)));
}

#[test]
fn bad_message_field_values_name_their_flag() {
    let smsc = smsc();
    let addr = smsc.local_addr().to_string();
    let multi = ["submit-multi", "--to", "1", "--text", "x"];
    let data = ["data-sm", "--to", "1", "--text", "x"];
    for (flag, value) in [
        ("--service-type", "TOOLONG"),
        ("--data-coding", "256"),
        ("--esm-class", "0xfff"),
        ("--dest-ton", "x"),
        ("--dest-npi", "256"),
        ("--tlv", "nonsense=00"),
        ("--tlv", "0x1401=f"),
    ] {
        for base in [&multi[..], &data[..]] {
            let mut args = base.to_vec();
            args.extend_from_slice(&[flag, value]);
            refused(&with(&addr, &args), flag);
        }
    }
    for (flag, value) in [
        ("--protocol-id", "300"),
        ("--priority", "5"),
        ("--validity", "10y"),
        ("--schedule", "soon"),
        ("--source-ton", "x"),
    ] {
        let mut args = multi.to_vec();
        args.extend_from_slice(&[flag, value]);
        refused(&with(&addr, &args), flag);
    }
    // data_sm has no validity_period: the flag is not offered.
    refused(
        &with(&addr, &[&data[..], &["--validity", "1h"]].concat()),
        "--validity",
    );
    assert_eq!(smsc.stats().submits, 0);
}

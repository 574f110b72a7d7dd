//! Delivery receipts: the real-world text variants, TLV-only receipts, TLV-over-text
//! precedence, exact `format` output, `message_ids_match`, `is_receipt`, errors, and
//! properties (format → parse round trip, no panic on arbitrary input).

use proptest::prelude::*;
use proptest::sample::select;

use smpp_pdu::receipt::{
    message_ids_match, RawFields, Receipt, ReceiptDate, ReceiptError, ReceiptState,
};
use smpp_pdu::tlv::NetworkErrorCode;
use smpp_pdu::{Body, COctetString, DataSm, DeliverSm, OctetString, Pdu, Tlv};

fn date(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: Option<u8>) -> ReceiptDate {
    ReceiptDate::new(year, month, day, hour, minute, second)
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// `key:value` pairs as `Receipt::fields` holds them.
fn pairs(p: &[(&str, &str)]) -> RawFields {
    let mut f = RawFields::new();
    for &(k, v) in p {
        f.push(k, v);
    }
    f
}

/// The receipt without what only parsing fills in (the raw `stat:` word and pairs).
fn without_raw(r: Receipt) -> Receipt {
    Receipt {
        stat_raw: None,
        fields: RawFields::new(),
        ..r
    }
}

const STANDARD: &str = "id:0123456789 sub:001 dlvrd:001 submit date:1204101011 done date:1204101012 stat:DELIVRD err:000 text:Hello world";

fn standard() -> Receipt {
    Receipt {
        id: "0123456789".into(),
        sub: s("001"),
        dlvrd: s("001"),
        submit_date: Some(date(2012, 4, 10, 10, 11, None)),
        done_date: Some(date(2012, 4, 10, 10, 12, None)),
        state: ReceiptState::Delivered,
        err: s("000"),
        text: s("Hello world"),
        network_error_code: None,
        stat_raw: s("DELIVRD"),
        fields: pairs(&[
            ("id", "0123456789"),
            ("sub", "001"),
            ("dlvrd", "001"),
            ("submit date", "1204101011"),
            ("done date", "1204101012"),
            ("stat", "DELIVRD"),
            ("err", "000"),
            ("text", "Hello world"),
        ]),
    }
}

fn receipt_deliver_sm(short_message: &[u8], tlvs: Vec<Tlv<'static>>) -> DeliverSm<'static> {
    DeliverSm {
        source_addr: "447700900123".into(),
        destination_addr: "12345".into(),
        esm_class: 0x04,
        short_message: OctetString::from(short_message.to_vec()),
        tlvs,
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------
// Text variants.
// ---------------------------------------------------------------------------------------

#[test]
fn standard_receipt() {
    assert_eq!(Receipt::parse_text(STANDARD), Ok(standard()));
    assert_eq!(Receipt::parse(STANDARD, &[]), Ok(standard()));
    let pdu = receipt_deliver_sm(STANDARD.as_bytes(), vec![]);
    assert!(Receipt::is_receipt(pdu.esm_class));
    assert_eq!(Receipt::from_deliver_sm(&pdu), Ok(standard()));
    // Through the wire and back.
    let mut wire = Vec::new();
    Pdu::new(3, pdu).encode(&mut wire).unwrap();
    let (decoded, _) = Pdu::decode(&wire).unwrap().unwrap();
    let Body::DeliverSm(d) = decoded.body else {
        panic!()
    };
    assert_eq!(Receipt::from_deliver_sm(&d), Ok(standard()));
}

#[test]
fn twelve_digit_dates() {
    let r = Receipt::parse_text(
        "id:42 sub:001 dlvrd:001 submit date:120410101112 done date:120410101259 stat:DELIVRD err:000 text:",
    )
    .unwrap();
    assert_eq!(r.submit_date, Some(date(2012, 4, 10, 10, 11, Some(12))));
    assert_eq!(r.done_date, Some(date(2012, 4, 10, 10, 12, Some(59))));
    assert_eq!(r.text, s(""));
}

#[test]
fn malformed_dates_are_none() {
    for bad in [
        "",
        "12041010",
        "12041010111",
        "1204101011123",
        "1213101011",
        "1200101011",
        "1204321011",
        "1204002411",
        "1204102460",
        "120410101160",
        "12041O1011",
        "2012-04-10",
    ] {
        let t = format!("id:1 submit date:{bad} done date:1204101011 stat:DELIVRD");
        let r = Receipt::parse_text(&t).unwrap();
        assert_eq!(r.submit_date, None, "{bad:?}");
        assert_eq!(
            r.done_date,
            Some(date(2012, 4, 10, 10, 11, None)),
            "{bad:?}"
        );
        assert_eq!(ReceiptDate::parse(bad), None, "{bad:?}");
    }
    assert_eq!(
        ReceiptDate::parse(" 9912312359 "),
        Some(date(2099, 12, 31, 23, 59, None))
    );
    assert_eq!(
        ReceiptDate::parse("000101000000"),
        Some(date(2000, 1, 1, 0, 0, Some(0)))
    );
}

#[test]
fn id_decimal_in_text_hex_in_tlv() {
    // Many SMSCs return a hex id in submit_sm_resp and a decimal id in the text (or the
    // other way round); the TLV wins, and message_ids_match links them.
    let text = "id:1234567890 sub:001 dlvrd:001 submit date:1204101011 done date:1204101012 stat:DELIVRD err:000 text:x";
    let pdu = receipt_deliver_sm(
        text.as_bytes(),
        vec![Tlv::ReceiptedMessageId(COctetString::from("499602D2"))],
    );
    let r = Receipt::from_deliver_sm(&pdu).unwrap();
    assert_eq!(r.id, "499602D2");
    assert!(message_ids_match(&r.id, "1234567890"));
    assert!(message_ids_match("1234567890", &r.id));
    let plain = Receipt::parse_text(text).unwrap();
    assert_eq!(plain.id, "1234567890");
    assert!(message_ids_match(&plain.id, "499602d2"));
}

#[test]
fn leading_zeros_are_kept_and_match() {
    let r = Receipt::parse_text("id:0000012345 stat:DELIVRD").unwrap();
    assert_eq!(r.id, "0000012345");
    assert!(message_ids_match(&r.id, "12345"));
    assert_eq!(r.sub, None);
    assert_eq!(r.dlvrd, None);
    assert_eq!(r.err, None);
    assert_eq!(r.text, None);
    assert_eq!(r.submit_date, None);
}

#[test]
fn text_key_missing() {
    let r = Receipt::parse_text(
        "id:7 sub:001 dlvrd:000 submit date:1204101011 done date:1204101012 stat:UNDELIV err:034",
    )
    .unwrap();
    assert_eq!(r.text, None);
    assert_eq!(r.err, s("034"));
    assert_eq!(r.state, ReceiptState::Undeliverable);
}

#[test]
fn key_case_does_not_matter() {
    let r = Receipt::parse_text(
        "id:7 sub:001 dlvrd:001 submit date:1204101011 done date:1204101012 stat:DELIVRD err:000 Text:Hello",
    )
    .unwrap();
    assert_eq!(r.text, s("Hello"));
    let r = Receipt::parse_text(
        "ID:7 SUB:001 DLVRD:001 SUBMIT DATE:1204101011 DONE DATE:1204101012 STAT:delivrd ERR:000 TEXT:Hello",
    )
    .unwrap();
    assert_eq!(r.id, "7");
    assert_eq!(r.sub, s("001"));
    assert_eq!(r.submit_date, Some(date(2012, 4, 10, 10, 11, None)));
    assert_eq!(r.state, ReceiptState::Delivered);
    assert_eq!(r.text, s("Hello"));
}

#[test]
fn text_none_and_text_with_colons() {
    let r = Receipt::parse_text("id:1 stat:DELIVRD err:000 text:none").unwrap();
    assert_eq!(r.text, s("none"));
    let r = Receipt::parse_text(
        "id:1 sub:001 dlvrd:001 submit date:1204101011 done date:1204101012 stat:DELIVRD err:000 text:Re: meet at 10:30 id:99 stat:REJECTD",
    )
    .unwrap();
    // Everything after text: is text, even what looks like keys.
    assert_eq!(r.text, s("Re: meet at 10:30 id:99 stat:REJECTD"));
    assert_eq!(r.id, "1");
    assert_eq!(r.state, ReceiptState::Delivered);
    // Spaces before the colon of a key are accepted.
    let r = Receipt::parse_text("id : 5 stat : ENROUTE").unwrap();
    assert_eq!((r.id.as_str(), r.state), ("5", ReceiptState::Enroute));
}

#[test]
fn extra_keys_at_the_start_or_in_the_text() {
    let r = Receipt::parse_text(
        "network:23410 id:1 sub:001 dlvrd:001 submit date:1204101011 done date:1204101012 stat:DELIVRD err:000 text:hi network:x",
    )
    .unwrap();
    assert_eq!(r.id, "1");
    assert_eq!(r.state, ReceiptState::Delivered);
    assert_eq!(r.err, s("000"));
    assert_eq!(r.text, s("hi network:x"));
}

#[test]
fn extra_keys_between_fields() {
    let r = Receipt::parse_text(
        "id:1 sub:001 dlvrd:001 submit date:1204101011 network:23410 done date:1204101012 stat:DELIVRD imsi:234100000000001 err:000 mcc:234 text:hi",
    )
    .unwrap();
    assert_eq!(r.submit_date, Some(date(2012, 4, 10, 10, 11, None)));
    assert_eq!(r.done_date, Some(date(2012, 4, 10, 10, 12, None)));
    assert_eq!(r.state, ReceiptState::Delivered);
    assert_eq!(r.err, s("000"));
    assert_eq!(r.text, s("hi"));
}

#[test]
fn different_key_order() {
    let r = Receipt::parse_text(
        "stat:EXPIRED err:0x1F dlvrd:000 sub:001 done date:1204111011 submit date:1204101011 id:AbC-123 text:later",
    )
    .unwrap();
    assert_eq!(
        r,
        Receipt {
            id: "AbC-123".into(),
            sub: s("001"),
            dlvrd: s("000"),
            submit_date: Some(date(2012, 4, 10, 10, 11, None)),
            done_date: Some(date(2012, 4, 11, 10, 11, None)),
            state: ReceiptState::Expired,
            err: s("0x1F"),
            text: s("later"),
            network_error_code: None,
            stat_raw: s("EXPIRED"),
            fields: pairs(&[
                ("stat", "EXPIRED"),
                ("err", "0x1F"),
                ("dlvrd", "000"),
                ("sub", "001"),
                ("done date", "1204111011"),
                ("submit date", "1204101011"),
                ("id", "AbC-123"),
                ("text", "later"),
            ]),
        }
    );
}

#[test]
fn err_values_kept_as_sent() {
    for err in ["000", "001", "0x0B", "1F", "E123", "REJ-17"] {
        let r = Receipt::parse_text(&format!("id:1 stat:UNDELIV err:{err} text:x")).unwrap();
        assert_eq!(r.err, s(err), "{err}");
    }
}

#[test]
fn every_stat_word() {
    let table = [
        ("DELIVRD", ReceiptState::Delivered, 2),
        ("EXPIRED", ReceiptState::Expired, 3),
        ("DELETED", ReceiptState::Deleted, 4),
        ("UNDELIV", ReceiptState::Undeliverable, 5),
        ("ACCEPTD", ReceiptState::Accepted, 6),
        ("UNKNOWN", ReceiptState::Unknown, 7),
        ("REJECTD", ReceiptState::Rejected, 8),
        ("ENROUTE", ReceiptState::Enroute, 1),
    ];
    for (word, state, ms) in table {
        let r = Receipt::parse_text(&format!("id:1 stat:{word} err:000")).unwrap();
        assert_eq!(r.state, state, "{word}");
        let lower =
            Receipt::parse_text(&format!("id:1 stat:{} err:000", word.to_lowercase())).unwrap();
        assert_eq!(lower.state, state, "{word}");
        assert_eq!(state.message_state(), Some(ms), "{word}");
        assert_eq!(ReceiptState::from_message_state(ms), state, "{ms}");
        assert_eq!(state.stat(), word);
        assert_eq!(state.to_string(), word);
        assert_eq!(state.is_final(), state != ReceiptState::Enroute, "{word}");
    }
    // Long forms and 5.0 states.
    assert_eq!(
        ReceiptState::from_stat("delivered"),
        ReceiptState::Delivered
    );
    assert_eq!(
        ReceiptState::from_stat("UNDELIVERABLE"),
        ReceiptState::Undeliverable
    );
    assert_eq!(
        ReceiptState::from_stat(" Rejected "),
        ReceiptState::Rejected
    );
    assert_eq!(ReceiptState::from_stat("ACCEPTED"), ReceiptState::Accepted);
    assert_eq!(ReceiptState::from_message_state(0), ReceiptState::Scheduled);
    assert_eq!(ReceiptState::from_message_state(9), ReceiptState::Skipped);
    assert_eq!(ReceiptState::from_message_state(200), ReceiptState::Unknown);
    assert!(!ReceiptState::Scheduled.is_final());
    // Unknown words are kept.
    let r = Receipt::parse_text("id:1 stat:FAILED err:000").unwrap();
    assert_eq!(r.state, ReceiptState::Other("FAILED".into()));
    assert_eq!(r.state.message_state(), None);
    assert_eq!(r.state.stat(), "FAILED");
}

// ---------------------------------------------------------------------------------------
// Real-world forms: one row per form (reference §9.3).
// ---------------------------------------------------------------------------------------

/// A date from an SMPP absolute time: tenths and UTC offset (quarter hours) kept.
fn abs_date(
    (year, month, day): (u16, u8, u8),
    (hour, minute, second): (u8, u8, u8),
    tenths: u8,
    utc_offset_quarters: i8,
) -> ReceiptDate {
    ReceiptDate {
        tenths: Some(tenths),
        utc_offset_quarters: Some(utc_offset_quarters),
        ..date(year, month, day, hour, minute, Some(second))
    }
}

#[test]
fn receipt_date_forms() {
    let table: [(&str, &str, Option<ReceiptDate>); 25] = [
        (
            "10 digits",
            "2311221201",
            Some(date(2023, 11, 22, 12, 1, None)),
        ),
        (
            "12 digits, YYMMDDhhmmss",
            "231122120105",
            Some(date(2023, 11, 22, 12, 1, Some(5))),
        ),
        (
            "12 digits, YYYYMMDDhhmm (month 23 rules out YYMMDDhhmmss)",
            "202311221201",
            Some(date(2023, 11, 22, 12, 1, None)),
        ),
        (
            "12 digits, YYYYMMDDhhmm in the 1990s",
            "199912312359",
            Some(date(1999, 12, 31, 23, 59, None)),
        ),
        (
            "12 digits valid both ways: YYMMDDhhmmss wins",
            "201201011200",
            Some(date(2020, 12, 1, 1, 12, Some(0))),
        ),
        (
            "12 digits, YYYYMMDDhhmm (hour 25 rules out YYMMDDhhmmss)",
            "201201251530",
            Some(date(2012, 1, 25, 15, 30, None)),
        ),
        ("12 digits, neither reading valid", "202401011260", None),
        (
            "12 digits, YYYYMMDDhhmm, year before 1970",
            "196912312359",
            None,
        ),
        (
            "14 digits, YYYYMMDDhhmmss",
            "20231122120105",
            Some(date(2023, 11, 22, 12, 1, Some(5))),
        ),
        (
            "14 digits in the 1970s",
            "19700101000000",
            Some(date(1970, 1, 1, 0, 0, Some(0))),
        ),
        ("14 digits, year 2100", "21000101000000", None),
        ("14 digits, month 13", "20231322120105", None),
        (
            "SMPP absolute, ahead of UTC",
            "231122120105304+",
            Some(abs_date((2023, 11, 22), (12, 1, 5), 3, 4)),
        ),
        (
            "SMPP absolute, behind UTC",
            "231122120105948-",
            Some(abs_date((2023, 11, 22), (12, 1, 5), 9, -48)),
        ),
        (
            "SMPP absolute, UTC",
            "240229000000000+",
            Some(abs_date((2024, 2, 29), (0, 0, 0), 0, 0)),
        ),
        ("SMPP absolute, 30 February", "240230000000000+", None),
        ("SMPP absolute, offset 49", "231122120105049+", None),
        ("SMPP relative time", "000001000000000R", None),
        ("all zero, 10 digits", "0000000000", None),
        ("all zero, 12 digits", "000000000000", None),
        ("all zero, 14 digits", "00000000000000", None),
        ("all zero, SMPP absolute", "000000000000000+", None),
        ("13 digits", "2311221201051", None),
        ("16 digits", "2311221201050000", None),
        ("non-ASCII", "23112212010é", None),
    ];
    for (name, written, want) in table {
        assert_eq!(ReceiptDate::parse(written), want, "{name}: {written}");
        assert_eq!(
            ReceiptDate::parse(&format!(" {written}\t")),
            want,
            "{name}: padded"
        );
        // Inside a receipt: the typed date, and the value as written among the pairs.
        let r = Receipt::parse_text(&format!("id:1 done date:{written} stat:DELIVRD")).unwrap();
        assert_eq!(r.done_date, want, "{name}: in a receipt");
        assert_eq!(r.field("done date"), Some(written), "{name}: raw value");
        if let Some(d) = want {
            // Display writes a form that parses back to the same value.
            assert_eq!(ReceiptDate::parse(&d.to_string()), Some(d), "{name}: {d}");
            assert_eq!(
                d.to_absolute().is_some(),
                d.utc_offset_quarters.is_some(),
                "{name}"
            );
        }
    }
    // What Display writes for each kind.
    assert_eq!(date(2023, 11, 22, 12, 1, None).to_string(), "2311221201");
    assert_eq!(date(1999, 12, 31, 23, 59, None).to_string(), "199912312359");
    assert_eq!(
        date(1999, 12, 31, 23, 59, Some(58)).to_string(),
        "19991231235958"
    );
    let a = abs_date((2023, 11, 22), (12, 1, 5), 9, -48);
    assert_eq!(a.to_string(), "231122120105948-");
    // The offset makes it an instant: 12:01:05 at UTC-12 is 00:01:05 UTC the next day.
    let t = a.to_absolute().unwrap();
    assert_eq!(t.unix_seconds(), 1_700_697_665);
    assert_eq!(ReceiptDate::from(t), a);
    assert_eq!(date(2023, 11, 22, 12, 1, None).to_absolute(), None);
}

/// A receipt as the table expects it: id, state, the `stat:` word and every pair.
fn want(id: &str, state: ReceiptState, stat_raw: &str, fields: &[(&str, &str)]) -> Receipt {
    Receipt {
        stat_raw: s(stat_raw),
        fields: pairs(fields),
        ..Receipt::new(id, state)
    }
}

/// The octets of `text` in `data_coding`: UCS-2 big-endian for 8, Latin-1 otherwise.
fn encode(data_coding: u8, text: &str) -> Vec<u8> {
    match data_coding {
        8 => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        _ => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
            .collect(),
    }
}

#[test]
fn real_world_receipts() {
    use ReceiptState::*;
    let d = |y, mo, da, h, mi| Some(date(y, mo, da, h, mi, None));
    let table: Vec<(&str, u8, &str, Vec<Tlv<'static>>, Receipt)> = vec![
        // Keys written without the space or with `_`, in any case.
        (
            "submitdate / donedate",
            0,
            "id:1 submitdate:2311221200 donedate:2311221201 stat:DELIVRD",
            vec![],
            Receipt {
                submit_date: d(2023, 11, 22, 12, 0),
                done_date: d(2023, 11, 22, 12, 1),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("submitdate", "2311221200"),
                        ("donedate", "2311221201"),
                        ("stat", "DELIVRD"),
                    ],
                )
            },
        ),
        (
            "submit_date / done_date",
            0,
            "id:1 submit_date:2311221200 done_date:2311221201 stat:DELIVRD",
            vec![],
            Receipt {
                submit_date: d(2023, 11, 22, 12, 0),
                done_date: d(2023, 11, 22, 12, 1),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("submit_date", "2311221200"),
                        ("done_date", "2311221201"),
                        ("stat", "DELIVRD"),
                    ],
                )
            },
        ),
        (
            "SUBMIT_DATE / DoneDate / Done  Date with spaces before the colon",
            0,
            "ID:1 SUBMIT_DATE:2311221200 DoneDate :2311221201 STAT:DELIVRD",
            vec![],
            Receipt {
                submit_date: d(2023, 11, 22, 12, 0),
                done_date: d(2023, 11, 22, 12, 1),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("ID", "1"),
                        ("SUBMIT_DATE", "2311221200"),
                        ("DoneDate", "2311221201"),
                        ("STAT", "DELIVRD"),
                    ],
                )
            },
        ),
        // Date forms inside a full receipt.
        (
            "14-digit and 12-digit YYYYMMDDhhmm dates",
            0,
            "id:1 submit date:20231122120000 done date:202311221201 stat:DELIVRD",
            vec![],
            Receipt {
                submit_date: Some(date(2023, 11, 22, 12, 0, Some(0))),
                done_date: d(2023, 11, 22, 12, 1),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("submit date", "20231122120000"),
                        ("done date", "202311221201"),
                        ("stat", "DELIVRD"),
                    ],
                )
            },
        ),
        (
            "SMPP absolute dates",
            0,
            "id:1 submit date:231122120000004+ done date:231122120105304+ stat:DELIVRD",
            vec![],
            Receipt {
                submit_date: Some(abs_date((2023, 11, 22), (12, 0, 0), 0, 4)),
                done_date: Some(abs_date((2023, 11, 22), (12, 1, 5), 3, 4)),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("submit date", "231122120000004+"),
                        ("done date", "231122120105304+"),
                        ("stat", "DELIVRD"),
                    ],
                )
            },
        ),
        (
            "all-zero done date: None, not an error, raw kept",
            0,
            "id:1 sub:001 dlvrd:000 submit date:2311221200 done date:0000000000 stat:UNDELIV err:001",
            vec![],
            Receipt {
                sub: s("001"),
                dlvrd: s("000"),
                submit_date: d(2023, 11, 22, 12, 0),
                err: s("001"),
                ..want(
                    "1",
                    Undeliverable,
                    "UNDELIV",
                    &[
                        ("id", "1"),
                        ("sub", "001"),
                        ("dlvrd", "000"),
                        ("submit date", "2311221200"),
                        ("done date", "0000000000"),
                        ("stat", "UNDELIV"),
                        ("err", "001"),
                    ],
                )
            },
        ),
        // An empty text: between other keys.
        (
            "empty text: last, with a trailing space",
            0,
            "id:1 sub:001 dlvrd:001 submit date:2311221200 done date:2311221201 stat:DELIVRD err:000 text: ",
            vec![],
            Receipt {
                sub: s("001"),
                dlvrd: s("001"),
                submit_date: d(2023, 11, 22, 12, 0),
                done_date: d(2023, 11, 22, 12, 1),
                err: s("000"),
                text: s(""),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("sub", "001"),
                        ("dlvrd", "001"),
                        ("submit date", "2311221200"),
                        ("done date", "2311221201"),
                        ("stat", "DELIVRD"),
                        ("err", "000"),
                        ("text", ""),
                    ],
                )
            },
        ),
        (
            "empty text: before err:",
            0,
            "id:1 sub:001 dlvrd:001 submit date:2311221200 done date:2311221201 stat:DELIVRD text: err:000",
            vec![],
            Receipt {
                sub: s("001"),
                dlvrd: s("001"),
                submit_date: d(2023, 11, 22, 12, 0),
                done_date: d(2023, 11, 22, 12, 1),
                err: s("000"),
                text: s(""),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("sub", "001"),
                        ("dlvrd", "001"),
                        ("submit date", "2311221200"),
                        ("done date", "2311221201"),
                        ("stat", "DELIVRD"),
                        ("text", ""),
                        ("err", "000"),
                    ],
                )
            },
        ),
        (
            "empty text: first, every key after it",
            0,
            "text: stat:EXPIRED err:0x1F id:AB-7 done_date:2311221201",
            vec![],
            Receipt {
                done_date: d(2023, 11, 22, 12, 1),
                err: s("0x1F"),
                text: s(""),
                ..want(
                    "AB-7",
                    Expired,
                    "EXPIRED",
                    &[
                        ("text", ""),
                        ("stat", "EXPIRED"),
                        ("err", "0x1F"),
                        ("id", "AB-7"),
                        ("done_date", "2311221201"),
                    ],
                )
            },
        ),
        (
            "text: then a key not seen before it: the key ends the text",
            0,
            "id:1 text:Hello, world stat:DELIVRD",
            vec![],
            Receipt {
                text: s("Hello, world"),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[("id", "1"), ("text", "Hello, world"), ("stat", "DELIVRD")],
                )
            },
        ),
        (
            "text: then keys already seen: they are text",
            0,
            "id:1 stat:DELIVRD text:Re: id:9 stat:UNDELIV imsi:1",
            vec![],
            Receipt {
                text: s("Re: id:9 stat:UNDELIV imsi:1"),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("stat", "DELIVRD"),
                        ("text", "Re: id:9 stat:UNDELIV imsi:1"),
                    ],
                )
            },
        ),
        // Vendor spellings of the state: kept as written, mapped to the state.
        (
            "stat:DELIVERED",
            0,
            "id:1 stat:DELIVERED",
            vec![],
            want("1", Delivered, "DELIVERED", &[("id", "1"), ("stat", "DELIVERED")]),
        ),
        (
            "stat:UNDELIVERABLE",
            0,
            "id:1 stat:UNDELIVERABLE",
            vec![],
            want(
                "1",
                Undeliverable,
                "UNDELIVERABLE",
                &[("id", "1"), ("stat", "UNDELIVERABLE")],
            ),
        ),
        (
            "stat:ACCEPTED",
            0,
            "id:1 stat:ACCEPTED",
            vec![],
            want("1", Accepted, "ACCEPTED", &[("id", "1"), ("stat", "ACCEPTED")]),
        ),
        (
            "stat:REJECTED",
            0,
            "id:1 stat:REJECTED",
            vec![],
            want("1", Rejected, "REJECTED", &[("id", "1"), ("stat", "REJECTED")]),
        ),
        (
            "stat:Expired",
            0,
            "id:1 stat:Expired",
            vec![],
            want("1", Expired, "Expired", &[("id", "1"), ("stat", "Expired")]),
        ),
        (
            "stat:delivrd",
            0,
            "id:1 stat:delivrd",
            vec![],
            want("1", Delivered, "delivrd", &[("id", "1"), ("stat", "delivrd")]),
        ),
        (
            "stat:undeliv",
            0,
            "id:1 stat:undeliv",
            vec![],
            want("1", Undeliverable, "undeliv", &[("id", "1"), ("stat", "undeliv")]),
        ),
        (
            "stat:enroute",
            0,
            "id:1 stat:enroute",
            vec![],
            want("1", Enroute, "enroute", &[("id", "1"), ("stat", "enroute")]),
        ),
        (
            "an unknown stat word",
            0,
            "id:1 stat:Failed",
            vec![],
            want(
                "1",
                Other("Failed".into()),
                "Failed",
                &[("id", "1"), ("stat", "Failed")],
            ),
        ),
        // Vendor keys kept as written.
        (
            "vendor keys before, between and after the known ones",
            0,
            "network:23410 id:1 imsi:234100000000001 stat:DELIVRD err:000 MCC_MNC:23415 text:hi",
            vec![],
            Receipt {
                err: s("000"),
                text: s("hi"),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("network", "23410"),
                        ("id", "1"),
                        ("imsi", "234100000000001"),
                        ("stat", "DELIVRD"),
                        ("err", "000"),
                        ("MCC_MNC", "23415"),
                        ("text", "hi"),
                    ],
                )
            },
        ),
        (
            "a repeated key: the typed field takes the first, the pairs keep both",
            0,
            "id:1 stat:DELIVRD id:2",
            vec![],
            want(
                "1",
                Delivered,
                "DELIVRD",
                &[("id", "1"), ("stat", "DELIVRD"), ("id", "2")],
            ),
        ),
        // Text encodings.
        (
            "UCS-2 (data_coding 8)",
            8,
            "id:1 stat:DELIVRD err:000 text:Привет 😀",
            vec![],
            Receipt {
                err: s("000"),
                text: s("Привет 😀"),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("stat", "DELIVRD"),
                        ("err", "000"),
                        ("text", "Привет 😀"),
                    ],
                )
            },
        ),
        (
            "Latin-1 (data_coding 3)",
            3,
            "id:1 stat:DELIVRD text:café über",
            vec![],
            Receipt {
                text: s("café über"),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[("id", "1"), ("stat", "DELIVRD"), ("text", "café über")],
                )
            },
        ),
        (
            "data_coding 0: octets read as Latin-1, as ever",
            0,
            "id:1 done_date:2311221201 stat:DELIVRD text:naïve",
            vec![],
            Receipt {
                done_date: d(2023, 11, 22, 12, 1),
                text: s("naïve"),
                ..want(
                    "1",
                    Delivered,
                    "DELIVRD",
                    &[
                        ("id", "1"),
                        ("done_date", "2311221201"),
                        ("stat", "DELIVRD"),
                        ("text", "naïve"),
                    ],
                )
            },
        ),
        // TLVs first, over any text form.
        (
            "UCS-2 text, TLVs win",
            8,
            "id:1 stat:UNDELIVERABLE text: err:000",
            vec![
                Tlv::ReceiptedMessageId("1F".into()),
                Tlv::MessageState(2),
                Tlv::NetworkErrorCode(NetworkErrorCode {
                    network_type: 3,
                    error_code: 0,
                }),
            ],
            Receipt {
                err: s("000"),
                text: s(""),
                network_error_code: Some(NetworkErrorCode {
                    network_type: 3,
                    error_code: 0,
                }),
                ..want(
                    "1F",
                    Delivered,
                    "UNDELIVERABLE",
                    &[
                        ("id", "1"),
                        ("stat", "UNDELIVERABLE"),
                        ("text", ""),
                        ("err", "000"),
                    ],
                )
            },
        ),
    ];
    for (name, data_coding, text, tlvs, want) in table {
        assert_eq!(Receipt::parse(text, &tlvs), Ok(want.clone()), "{name}");
        // As a deliver_sm in that data_coding, through the wire and back.
        let pdu = DeliverSm {
            data_coding,
            ..receipt_deliver_sm(&encode(data_coding, text), tlvs.clone())
        };
        assert_eq!(Receipt::from_deliver_sm(&pdu), Ok(want.clone()), "{name}");
        let mut wire = Vec::new();
        Pdu::new(1, pdu).encode(&mut wire).unwrap();
        let (decoded, _) = Pdu::decode(&wire).unwrap().unwrap();
        let Body::DeliverSm(d) = decoded.body else {
            panic!("{name}")
        };
        assert_eq!(Receipt::from_deliver_sm(&d), Ok(want.clone()), "{name}");
        // In message_payload, and in a data_sm, the same.
        let mut with_payload = tlvs.clone();
        with_payload.push(Tlv::MessagePayload(OctetString::from(encode(
            data_coding,
            text,
        ))));
        let pdu = DeliverSm {
            data_coding,
            ..receipt_deliver_sm(b"", with_payload.clone())
        };
        assert_eq!(Receipt::from_deliver_sm(&pdu), Ok(want.clone()), "{name}");
        let data = DataSm {
            data_coding,
            esm_class: 0x04,
            tlvs: with_payload,
            ..Default::default()
        };
        assert_eq!(Receipt::from_data_sm(&data), Ok(want.clone()), "{name}");
        // Every pair can be looked up by its key in another spelling.
        for (k, v) in &want.fields {
            let other = k.to_ascii_uppercase().replace(' ', "_");
            assert!(want.field(&other).is_some(), "{name}: {other} ({v})");
        }
    }
}

#[test]
fn ucs2_receipt_without_decoding_is_not_a_receipt() {
    // The same UCS-2 octets read as data_coding 0 hold NULs between the letters: no key.
    let octets = encode(8, "id:1 stat:DELIVRD");
    assert_eq!(
        Receipt::from_parts(&octets, &[]),
        Err(ReceiptError::MissingId)
    );
    assert_eq!(
        Receipt::from_parts_with_coding(8, &octets, &[]).map(|r| r.id),
        Ok("1".to_string())
    );
    // An odd trailing octet or a lone surrogate decodes as U+FFFD, not a panic.
    let mut odd = octets.clone();
    odd.push(0x41);
    let r = Receipt::from_parts_with_coding(8, &odd, &[]).unwrap();
    assert_eq!(r.stat_raw.as_deref(), Some("DELIVRD\u{FFFD}"));
    let mut lone = encode(8, "id:1 stat:DELIVRD text:");
    lone.extend([0xD8, 0x00]);
    let r = Receipt::from_parts_with_coding(8, &lone, &[]).unwrap();
    assert_eq!(r.text.as_deref(), Some("\u{FFFD}"));
}

#[test]
fn field_lookup_ignores_case_spaces_and_underscores() {
    let r = Receipt::parse_text("id:1 Done_Date:0000000000 stat:DELIVRD x_vendor_id:abc").unwrap();
    for key in ["done date", "done_date", "DONEDATE", "Done Date"] {
        assert_eq!(r.field(key), Some("0000000000"), "{key}");
    }
    assert_eq!(r.field("x vendor id"), Some("abc"));
    assert_eq!(r.field("xvendorid"), Some("abc"));
    assert_eq!(r.field("submit date"), None);
    assert_eq!(r.field(""), None);
    // Built in code: no pairs.
    assert!(Receipt::new("1", ReceiptState::Delivered).fields.is_empty());
    assert_eq!(Receipt::new("1", ReceiptState::Delivered).field("id"), None);
}

// ---------------------------------------------------------------------------------------
// TLVs.
// ---------------------------------------------------------------------------------------

#[test]
fn tlv_only_receipt_in_deliver_sm() {
    let nec = NetworkErrorCode {
        network_type: 3,
        error_code: 0x0001,
    };
    let pdu = receipt_deliver_sm(
        b"",
        vec![
            Tlv::ReceiptedMessageId(COctetString::from("abc123")),
            Tlv::MessageState(5),
            Tlv::NetworkErrorCode(nec),
        ],
    );
    let want = Receipt {
        network_error_code: Some(nec),
        ..Receipt::new("abc123", ReceiptState::Undeliverable)
    };
    assert_eq!(Receipt::from_deliver_sm(&pdu), Ok(want.clone()));
    // The same through the wire.
    let mut wire = Vec::new();
    Pdu::new(9, pdu).encode(&mut wire).unwrap();
    let (decoded, _) = Pdu::decode(&wire).unwrap().unwrap();
    let Body::DeliverSm(d) = decoded.body else {
        panic!()
    };
    assert!(Receipt::is_receipt(d.esm_class));
    assert_eq!(Receipt::from_deliver_sm(&d), Ok(want));
    // Every message_state value.
    for ms in 0u8..=9 {
        let pdu = receipt_deliver_sm(
            b"",
            vec![
                Tlv::MessageState(ms),
                Tlv::ReceiptedMessageId(COctetString::from("1")),
            ],
        );
        let r = Receipt::from_deliver_sm(&pdu).unwrap();
        assert_eq!(r.state, ReceiptState::from_message_state(ms));
        assert_eq!(r.state.message_state(), Some(ms));
    }
}

#[test]
fn tlvs_win_over_text() {
    let pdu = receipt_deliver_sm(
        STANDARD.replace("DELIVRD", "UNDELIV").as_bytes(),
        vec![
            Tlv::MessageState(2),
            Tlv::ReceiptedMessageId(COctetString::from("75BCD15")),
            Tlv::NetworkErrorCode(NetworkErrorCode {
                network_type: 3,
                error_code: 0,
            }),
        ],
    );
    let r = Receipt::from_deliver_sm(&pdu).unwrap();
    assert_eq!(r.id, "75BCD15");
    assert_eq!(r.state, ReceiptState::Delivered);
    // The text still provides everything the TLVs do not.
    assert_eq!(r.sub, s("001"));
    assert_eq!(r.submit_date, standard().submit_date);
    assert_eq!(r.text, s("Hello world"));
    assert!(r.network_error_code.is_some());
    // The TLVs can supply what the text lacks.
    let r = Receipt::parse(
        "sub:001 text:x",
        &[Tlv::ReceiptedMessageId("9".into()), Tlv::MessageState(3)],
    )
    .unwrap();
    assert_eq!((r.id.as_str(), r.state), ("9", ReceiptState::Expired));
    // Other TLVs are ignored.
    let r = Receipt::parse(
        STANDARD,
        &[Tlv::UserMessageReference(1), Tlv::SarMsgRefNum(2)],
    )
    .unwrap();
    assert_eq!(r, standard());
}

#[test]
fn empty_receipted_message_id_tlv_does_not_erase_the_text_id() {
    let r = Receipt::parse(
        "id:12345 stat:DELIVRD",
        &[Tlv::ReceiptedMessageId(COctetString::from(""))],
    );
    assert_eq!(r.map(|r| r.id), Ok("12345".to_string()));
    // With nothing else, an empty TLV is no id at all.
    assert_eq!(
        Receipt::parse("stat:DELIVRD", &[Tlv::ReceiptedMessageId("".into())]),
        Err(ReceiptError::MissingId)
    );
}

#[test]
fn receipt_in_message_payload() {
    let pdu = receipt_deliver_sm(
        b"",
        vec![Tlv::MessagePayload(OctetString::from(STANDARD.as_bytes()))],
    );
    assert_eq!(Receipt::from_deliver_sm(&pdu), Ok(standard()));
    // short_message wins when both are present.
    let other = STANDARD.replace("0123456789", "999");
    let pdu = receipt_deliver_sm(
        other.as_bytes(),
        vec![Tlv::MessagePayload(OctetString::from(STANDARD.as_bytes()))],
    );
    assert_eq!(Receipt::from_deliver_sm(&pdu).unwrap().id, "999");
    // data_sm: payload and TLVs.
    let data = DataSm {
        source_addr: "447700900123".into(),
        destination_addr: "12345".into(),
        esm_class: 0x04,
        tlvs: vec![
            Tlv::MessagePayload(OctetString::from(STANDARD.as_bytes())),
            Tlv::MessageState(8),
        ],
        ..Default::default()
    };
    let r = Receipt::from_data_sm(&data).unwrap();
    assert_eq!(r.id, "0123456789");
    assert_eq!(r.state, ReceiptState::Rejected);
    let data = DataSm {
        tlvs: vec![Tlv::ReceiptedMessageId("x1".into()), Tlv::MessageState(2)],
        ..Default::default()
    };
    assert_eq!(Receipt::from_data_sm(&data).unwrap().id, "x1");
}

#[test]
fn latin1_octets_in_text() {
    let mut sm = b"id:1 stat:DELIVRD text:caf".to_vec();
    sm.push(0xE9);
    let r = Receipt::from_parts(&sm, &[]).unwrap();
    assert_eq!(r.text, s("café"));
}

// ---------------------------------------------------------------------------------------
// Errors and is_receipt.
// ---------------------------------------------------------------------------------------

#[test]
fn missing_id_or_state() {
    assert_eq!(
        Receipt::parse_text("sub:001 dlvrd:001 stat:DELIVRD err:000 text:x"),
        Err(ReceiptError::MissingId)
    );
    assert_eq!(
        Receipt::parse_text("id: stat:DELIVRD"),
        Err(ReceiptError::MissingId)
    );
    assert_eq!(
        Receipt::parse_text("id:123 sub:001 dlvrd:001 err:000 text:x"),
        Err(ReceiptError::MissingState)
    );
    assert_eq!(Receipt::parse_text(""), Err(ReceiptError::MissingId));
    assert_eq!(
        Receipt::parse_text("Hello, this is not a receipt"),
        Err(ReceiptError::MissingId)
    );
    // "valid:" or "paid:" are not "id:" (word boundary).
    assert_eq!(
        Receipt::parse_text("valid:1 stat:DELIVRD"),
        Err(ReceiptError::MissingId)
    );
    // A key inside text: is text.
    assert_eq!(
        Receipt::parse_text("text:id:1 stat:DELIVRD"),
        Err(ReceiptError::MissingId)
    );
    let pdu = receipt_deliver_sm(b"", vec![]);
    assert_eq!(Receipt::from_deliver_sm(&pdu), Err(ReceiptError::MissingId));
    let pdu = receipt_deliver_sm(b"", vec![Tlv::ReceiptedMessageId("1".into())]);
    assert_eq!(
        Receipt::from_deliver_sm(&pdu),
        Err(ReceiptError::MissingState)
    );
    assert!(ReceiptError::MissingId.to_string().contains("id"));
    assert!(ReceiptError::MissingState.to_string().contains("stat"));
}

#[test]
fn is_receipt_by_message_type() {
    for esm in 0u8..=255 {
        let want = esm & 0x3C == 0x04 || esm & 0x3C == 0x20;
        assert_eq!(Receipt::is_receipt(esm), want, "{esm:#04x}");
    }
    assert!(Receipt::is_receipt(0x04));
    assert!(Receipt::is_receipt(0x20));
    assert!(Receipt::is_receipt(0x44)); // with UDHI
    assert!(Receipt::is_receipt(0x07)); // with a messaging mode
    assert!(!Receipt::is_receipt(0x00));
    assert!(!Receipt::is_receipt(0x08)); // SME delivery acknowledgement
    assert!(!Receipt::is_receipt(0x10)); // manual/user acknowledgement
    assert!(!Receipt::is_receipt(0x40));
}

// ---------------------------------------------------------------------------------------
// format.
// ---------------------------------------------------------------------------------------

#[test]
fn format_full_receipt_exactly() {
    assert_eq!(standard().format(), STANDARD);
    let r = Receipt {
        id: "7A2F".into(),
        sub: s("001"),
        dlvrd: s("000"),
        submit_date: Some(date(2099, 12, 31, 23, 59, Some(58))),
        done_date: Some(date(2000, 1, 2, 3, 4, Some(5))),
        state: ReceiptState::Rejected,
        err: s("0x0B"),
        text: s("a text longer than twenty characters"),
        network_error_code: None,
        stat_raw: s("ignored by format"),
        fields: pairs(&[("ignored", "by format")]),
    };
    assert_eq!(
        r.format(),
        "id:7A2F sub:001 dlvrd:000 submit date:991231235958 done date:000102030405 stat:REJECTD err:0x0B text:a text longer than t"
    );
}

#[test]
fn format_defaults() {
    let minimal = |state| Receipt::new("1", state);
    assert_eq!(
        minimal(ReceiptState::Delivered).format(),
        "id:1 sub:001 dlvrd:001 submit date: done date: stat:DELIVRD err:000 text:"
    );
    assert_eq!(
        minimal(ReceiptState::Undeliverable).format(),
        "id:1 sub:001 dlvrd:000 submit date: done date: stat:UNDELIV err:000 text:"
    );
    // What format writes parses back.
    let back = Receipt::parse_text(&minimal(ReceiptState::Expired).format()).unwrap();
    assert_eq!(back.id, "1");
    assert_eq!(back.state, ReceiptState::Expired);
    assert_eq!(back.submit_date, None);
    assert_eq!(back.text, s(""));
}

// ---------------------------------------------------------------------------------------
// message_ids_match.
// ---------------------------------------------------------------------------------------

#[test]
fn message_id_matching() {
    let yes = [
        ("12345", "12345"),
        ("abcdef", "ABCDEF"),
        (" 12345 ", "12345"),
        ("0012345", "12345"),
        ("12345", "000012345"),
        ("000", "0"),
        ("00ab", "AB"),
        // hex one side, decimal the other, both ways
        ("499602D2", "1234567890"),
        ("1234567890", "499602d2"),
        ("FF", "255"),
        ("255", "ff"),
        ("00FF", "000255"),
        // a 64-bit id
        ("FFFFFFFFFFFFFFFF", "18446744073709551615"),
        // UUIDs: same, differently cased
        (
            "550e8400-e29b-41d4-a716-446655440000",
            "550E8400-E29B-41D4-A716-446655440000",
        ),
    ];
    for (a, b) in yes {
        assert!(message_ids_match(a, b), "{a:?} ~ {b:?}");
        assert!(message_ids_match(b, a), "{b:?} ~ {a:?}");
    }
    let no = [
        ("12345", "12346"),
        ("abc", "abd"),
        ("499602D3", "1234567890"),
        ("FF", "256"),
        ("1", ""),
        ("abc", "ab c"),
        (
            "550e8400-e29b-41d4-a716-446655440000",
            "550e8400-e29b-41d4-a716-446655440001",
        ),
        (
            "550e8400-e29b-41d4-a716-446655440000",
            "550e8400e29b41d4a716446655440000",
        ),
        ("G1", "G01x"),
        ("12", "1 2"),
    ];
    for (a, b) in no {
        assert!(!message_ids_match(a, b), "{a:?} !~ {b:?}");
        assert!(!message_ids_match(b, a), "{b:?} !~ {a:?}");
    }
}

#[test]
fn empty_id_matches_nothing() {
    assert!(!message_ids_match("", "0"));
    assert!(!message_ids_match("000", ""));
    assert!(!message_ids_match(" ", "0"));
}

// ---------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------

fn id_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..u64::MAX).prop_map(|n| n.to_string()),
        (0u64..u64::MAX).prop_map(|n| format!("{n:X}")),
        (0u64..u64::MAX).prop_map(|n| format!("{n:010}")),
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "[A-Za-z0-9_.-]{1,40}",
    ]
}

/// Dates of every form `ReceiptDate::parse` gives: two-digit years (2000 to 2099), the
/// four-digit years only the long forms reach (1970 to 1999), with or without seconds,
/// and SMPP absolute times with tenths and offset (days up to 28: that form checks the
/// month's length).
fn date_strategy() -> impl Strategy<Value = Option<ReceiptDate>> {
    let local = (
        prop_oneof![2000u16..2100, 1970u16..2000],
        1u8..=12,
        1u8..=31,
        0u8..24,
        0u8..60,
        proptest::option::of(0u8..60),
    )
        .prop_map(|(y, mo, d, h, mi, sec)| date(y, mo, d, h, mi, sec));
    let absolute = (
        2000u16..2100,
        1u8..=12,
        1u8..=28,
        (0u8..24, 0u8..60, 0u8..60),
        0u8..10,
        -48i8..=48,
    )
        .prop_map(|(y, mo, d, hms, t, q)| abs_date((y, mo, d), hms, t, q));
    proptest::option::of(prop_oneof![3 => local, 1 => absolute])
}

fn state_strategy() -> impl Strategy<Value = ReceiptState> {
    prop_oneof![
        (0u8..=9).prop_map(ReceiptState::from_message_state),
        // An unknown word that is not a receipt key.
        "[A-Z]{3,9}"
            .prop_filter("a known word", |w| ReceiptState::from_stat(w)
                .message_state()
                .is_none())
            .prop_map(ReceiptState::Other),
    ]
}

/// Text as format writes it: at most 20 characters, no surrounding whitespace.
fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 .,:!?'-]{0,20}",
        proptest::collection::vec(any::<char>(), 0..20).prop_map(|v| v.into_iter().collect()),
    ]
    .prop_map(|t: String| t.trim().to_string())
}

fn receipt_strategy() -> impl Strategy<Value = Receipt> {
    (
        id_strategy(),
        "[0-9]{1,3}",
        "[0-9]{1,3}",
        date_strategy(),
        date_strategy(),
        state_strategy(),
        prop_oneof!["[0-9]{3}", "0x[0-9A-F]{2}", "[A-Z][0-9]{1,4}"],
        text_strategy(),
    )
        .prop_map(
            |(id, sub, dlvrd, submit_date, done_date, state, err, text)| Receipt {
                sub: Some(sub),
                dlvrd: Some(dlvrd),
                submit_date,
                done_date,
                err: Some(err),
                text: Some(text),
                ..Receipt::new(id, state)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_of_format_is_identity(r in receipt_strategy()) {
        let text = r.format();
        let parsed = Receipt::parse_text(&text);
        prop_assert_eq!(parsed.clone().map(without_raw), Ok(r.clone()), "{}", text);
        let parsed = parsed.unwrap();
        // The raw parts are what format wrote: the stat word and the eight pairs in order.
        prop_assert_eq!(parsed.stat_raw.as_deref(), Some(r.state.stat()));
        let keys: Vec<&str> = parsed.fields.iter().map(|(k, _)| k).collect();
        prop_assert_eq!(
            keys,
            ["id", "sub", "dlvrd", "submit date", "done date", "stat", "err", "text"]
        );
        let date = |d: Option<ReceiptDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let (submit, done) = (date(r.submit_date), date(r.done_date));
        prop_assert_eq!(parsed.field("submit date"), Some(submit.as_str()));
        prop_assert_eq!(parsed.field("done_date"), Some(done.as_str()));
        // Formatting the parse gives the same text again.
        prop_assert_eq!(parsed.format(), text.clone());
        // And as a deliver_sm short_message (Latin-1 read), when the text is Latin-1, and
        // as UCS-2 (data_coding 8), which holds any text.
        if text.chars().all(|c| (c as u32) < 0x100) {
            let sm: Vec<u8> = text.chars().map(|c| c as u8).collect();
            prop_assert_eq!(Receipt::from_parts(&sm, &[]), Ok(parsed.clone()));
            prop_assert_eq!(Receipt::from_parts_with_coding(3, &sm, &[]), Ok(parsed.clone()));
        }
        let ucs2: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        prop_assert_eq!(Receipt::from_parts_with_coding(8, &ucs2, &[]), Ok(parsed));
    }

    #[test]
    fn tlvs_always_win(
        r in receipt_strategy(),
        tlv_id in "[0-9A-F]{1,20}",
        ms in 0u8..=9,
    ) {
        let tlvs = [
            Tlv::ReceiptedMessageId(COctetString::from(tlv_id.clone())),
            Tlv::MessageState(ms),
        ];
        let got = Receipt::parse(&r.format(), &tlvs).unwrap();
        prop_assert_eq!(&got.id, &tlv_id);
        prop_assert_eq!(got.state, ReceiptState::from_message_state(ms));
        prop_assert_eq!(got.text, r.text);
    }

    #[test]
    fn parse_never_panics(t in any::<String>()) {
        let _ = ReceiptDate::parse(&t);
        let _ = Receipt::parse_text(&t);
        let _ = Receipt::from_parts(t.as_bytes(), &[]);
    }

    #[test]
    fn parse_never_panics_on_receipt_like_text(
        parts in proptest::collection::vec(
            prop_oneof![
                select(vec!["id:", "sub:", "dlvrd:", "submit date:", "done date:", "stat:", "err:", "text:", "Text:", " ", ":", "  ", "ID :", "submitdate:", "done_date:", "DONE__DATE :", "text: ", "imsi:", "_", "0000000000", "231122120105304+", "202311221201"]).prop_map(String::from),
                any::<String>(),
                "[0-9]{0,12}",
            ],
            0..12,
        ),
    ) {
        let t: String = parts.concat();
        if let Ok(r) = Receipt::parse_text(&t) {
            prop_assert!(!r.id.is_empty());
            prop_assert_eq!(r.id.trim(), r.id.as_str());
            // The raw pairs are trimmed slices of the input: never more than it holds.
            let raw: usize = r.fields.iter().map(|(k, v)| k.len() + v.len()).sum();
            prop_assert!(raw <= t.len());
            for (k, v) in &r.fields {
                prop_assert!(!k.is_empty() && t.contains(k) && t.contains(v));
            }
            if let Some(raw) = &r.stat_raw {
                prop_assert_eq!(&ReceiptState::from_stat(raw), &r.state);
            }
            for d in [r.submit_date, r.done_date].into_iter().flatten() {
                prop_assert_eq!(ReceiptDate::parse(&d.to_string()), Some(d));
            }
        }
    }

    #[test]
    fn parse_never_panics_on_octets(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Receipt::from_parts(&b, &[]);
        let _ = Receipt::from_parts(&[], &[Tlv::MessagePayload(OctetString::from(b.clone()))]);
        for data_coding in [3, 8, 0xF0] {
            let _ = Receipt::from_parts_with_coding(data_coding, &b, &[]);
        }
    }

    #[test]
    fn ids_match_themselves_and_their_other_forms(n in any::<u64>(), zeros in 0usize..5) {
        let dec = n.to_string();
        let hex = format!("{n:x}");
        let padded = format!("{}{}", "0".repeat(zeros), dec);
        prop_assert!(message_ids_match(&dec, &dec));
        prop_assert!(message_ids_match(&dec, &hex));
        prop_assert!(message_ids_match(&hex.to_uppercase(), &dec));
        prop_assert!(message_ids_match(&padded, &dec));
        prop_assert!(message_ids_match(&dec, &padded));
    }

    #[test]
    fn ids_match_never_panics(a in any::<String>(), b in any::<String>()) {
        prop_assert_eq!(message_ids_match(&a, &b), message_ids_match(&b, &a));
        // An empty id names no message, so it matches nothing, not even itself.
        prop_assert_eq!(message_ids_match(&a, &a), !a.trim().is_empty());
    }
}

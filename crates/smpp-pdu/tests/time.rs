//! SMPP time values: absolute and relative forms, offsets in both directions, a typed error
//! for every invalid field, Unix timestamps of known instants, and round-trip properties.

use proptest::prelude::*;

use smpp_pdu::time::{AbsoluteTime, RelativeTime, SmppTime, TimeError};

fn parse(s: &str) -> Result<Option<SmppTime>, TimeError> {
    SmppTime::parse(s.as_bytes())
}

fn absolute(s: &str) -> AbsoluteTime {
    match parse(s) {
        Ok(Some(SmppTime::Absolute(a))) => a,
        other => panic!("{s}: {other:?}"),
    }
}

fn relative(s: &str) -> RelativeTime {
    match parse(s) {
        Ok(Some(SmppTime::Relative(r))) => r,
        other => panic!("{s}: {other:?}"),
    }
}

#[allow(clippy::too_many_arguments)]
fn abs(
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    tenths: u8,
    q: i8,
) -> AbsoluteTime {
    AbsoluteTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        tenths,
        utc_offset_quarters: q,
    }
}

fn rel(years: u8, months: u8, days: u8, hours: u8, minutes: u8, seconds: u8) -> RelativeTime {
    RelativeTime {
        years,
        months,
        days,
        hours,
        minutes,
        seconds,
    }
}

fn wire(t: &SmppTime) -> String {
    String::from_utf8(t.format().unwrap().to_vec()).unwrap()
}

// ---------------------------------------------------------------------------------------
// Absolute times.
// ---------------------------------------------------------------------------------------

#[test]
fn reference_example() {
    let a = absolute("120410101112300+");
    assert_eq!(a, abs(2012, 4, 10, 10, 11, 12, 3, 0));
    assert_eq!(a.unix_seconds(), 1_334_052_672);
    assert_eq!(wire(&SmppTime::Absolute(a)), "120410101112300+");
}

#[test]
fn offsets_both_directions() {
    // '+': local time is ahead of UTC; UTC = local - nn * 15 min.
    let a = absolute("000101010000004+");
    assert_eq!(a.utc_offset_quarters, 4);
    assert_eq!(a.unix_seconds(), 946_684_800);
    // '-': behind UTC; UTC = local + nn * 15 min.
    let b = absolute("991231190000020-");
    assert_eq!(b.utc_offset_quarters, -20);
    // 2099-12-31 19:00 at UTC-5 = 2100-01-01 00:00 UTC.
    assert_eq!(b.unix_seconds(), 4_102_444_800);
    // The extremes, ±48 quarters (±12 h).
    let plus = absolute("000101000000048+");
    assert_eq!(plus.utc_offset_quarters, 48);
    assert_eq!(plus.unix_seconds(), 946_684_800 - 12 * 3600);
    let minus = absolute("000101000000048-");
    assert_eq!(minus.utc_offset_quarters, -48);
    assert_eq!(minus.unix_seconds(), 946_684_800 + 12 * 3600);
    // Quarter-hour offsets: +05:45 (Nepal) is 23 quarters, -03:30 is 14.
    assert_eq!(absolute("000101054500023+").unix_seconds(), 946_684_800);
    assert_eq!(absolute("991231203000014-").unix_seconds(), 4_102_444_800);
    // Tenths are dropped by unix_seconds.
    assert_eq!(absolute("000101000000900+").unix_seconds(), 946_684_800);
}

#[test]
fn known_instants() {
    let table = [
        ("000101000000000+", 946_684_800),
        ("000229000000000+", 951_782_400),   // 2000 is a leap year
        ("010301000000000+", 983_404_800),   // 2001-03-01, not leap
        ("240229123456000+", 1_709_210_096), // 2024-02-29T12:34:56Z
        ("380119031408000+", 2_147_483_648), // 2^31
        ("991231235959000+", 4_102_444_799), // the last second
        ("991231235959948-", 4_102_487_999), // ...at UTC-12: 2100-01-01T11:59:59Z
        ("000101000000048+", 946_641_600),   // 1999-12-31T12:00:00Z
        ("120410101112300+", 1_334_052_672),
        ("120410121112308+", 1_334_052_672), // same instant at UTC+2
        ("120410051112320-", 1_334_052_672), // same instant at UTC-5
    ];
    for (s, want) in table {
        assert_eq!(absolute(s).unix_seconds(), want, "{s}");
    }
}

#[test]
fn leap_years() {
    for (s, ok) in [
        ("000229000000000+", true),
        ("040229000000000+", true),
        ("960229000000000+", true),
        ("010229000000000+", false),
        ("230229000000000+", false),
        ("990229000000000+", false),
        ("000230000000000+", false),
        ("000431000000000+", false),
        ("000631000000000+", false),
        ("000931000000000+", false),
        ("001131000000000+", false),
        ("000131000000000+", true),
        ("000331000000000+", true),
        ("001231000000000+", true),
    ] {
        let got = parse(s);
        if ok {
            assert!(
                matches!(got, Ok(Some(SmppTime::Absolute(_)))),
                "{s}: {got:?}"
            );
        } else {
            assert_eq!(got, Err(TimeError::Field("day")), "{s}");
        }
    }
}

#[test]
fn zero_offset_with_minus() {
    // "00-" is a valid (if odd) way to write UTC; it reads as offset 0 and is written '+'.
    let a = absolute("120410101112300-");
    assert_eq!(a.utc_offset_quarters, 0);
    assert_eq!(a.unix_seconds(), 1_334_052_672);
    assert_eq!(wire(&SmppTime::Absolute(a)), "120410101112300+");
}

// ---------------------------------------------------------------------------------------
// Relative times.
// ---------------------------------------------------------------------------------------

#[test]
fn relative_periods() {
    assert_eq!(relative("000002000000000R"), rel(0, 0, 2, 0, 0, 0));
    assert_eq!(relative("000002000000000R").approx_seconds(), 2 * 86_400);
    assert_eq!(relative("000000013000000R"), rel(0, 0, 0, 1, 30, 0));
    assert_eq!(relative("000000013000000R").approx_seconds(), 5400);
    assert_eq!(relative("010203040506000R"), rel(1, 2, 3, 4, 5, 6));
    assert_eq!(
        relative("010203040506000R").approx_seconds(),
        (365 + 60 + 3) * 86_400 + 4 * 3600 + 5 * 60 + 6
    );
    // Every field up to 99, with no calendar limits.
    assert_eq!(relative("999999999999000R"), rel(99, 99, 99, 99, 99, 99));
    assert_eq!(relative("000000000000000R"), RelativeTime::default());
    for s in ["000002000000000R", "999999999999000R", "000000000001000R"] {
        assert_eq!(wire(&parse(s).unwrap().unwrap()), s);
    }
    assert_eq!(
        RelativeTime::from_seconds(2 * 86_400),
        Some(rel(0, 0, 2, 0, 0, 0))
    );
    assert_eq!(RelativeTime::from_seconds(0), Some(RelativeTime::default()));
    assert_eq!(
        RelativeTime::from_seconds(90_061),
        Some(rel(0, 0, 1, 1, 1, 1))
    );
    assert_eq!(
        RelativeTime::from_seconds(100 * 86_400 - 1),
        Some(rel(0, 0, 99, 23, 59, 59))
    );
    assert_eq!(RelativeTime::from_seconds(100 * 86_400), None);
    assert_eq!(RelativeTime::from_seconds(u64::MAX), None);
}

// ---------------------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------------------

#[test]
fn empty_is_not_specified() {
    assert_eq!(SmppTime::parse(b""), Ok(None));
}

#[test]
fn every_invalid_field_is_named() {
    let f = TimeError::Field;
    let table: &[(&str, TimeError)] = &[
        // lengths
        ("1", TimeError::Length(1)),
        ("120410101112300", TimeError::Length(15)),
        ("120410101112300+0", TimeError::Length(17)),
        ("120410101112300+\0", TimeError::Length(17)),
        // direction
        ("120410101112300x", TimeError::Direction(b'x')),
        ("120410101112300 ", TimeError::Direction(b' ')),
        ("120410101112300r", TimeError::Direction(b'r')),
        ("1204101011123000", TimeError::Direction(b'0')),
        // absolute fields
        ("A20410101112300+", f("year")),
        ("120010101112300+", f("month")),
        ("121310101112300+", f("month")),
        ("12-410101112300+", f("month")),
        ("120400101112300+", f("day")),
        ("120432101112300+", f("day")),
        ("130229101112300+", f("day")), // 2013 is not a leap year
        ("120431101112300+", f("day")),
        ("120410241112300+", f("hour")),
        ("120410991112300+", f("hour")),
        ("120410106012300+", f("minute")),
        ("120410101160300+", f("second")),
        ("12041010111 300+", f("second")),
        ("120410101112x00+", f("tenths")),
        ("120410101112 00+", f("tenths")),
        ("120410101112349+", f("UTC offset")),
        ("120410101112399-", f("UTC offset")),
        ("1204101011123a0+", f("UTC offset")),
        // relative fields
        ("000002000000001R", f("relative tail (must be 000)")),
        ("000002000000100R", f("relative tail (must be 000)")),
        ("000002000000x00R", f("relative tail (must be 000)")),
        ("0a0002000000000R", f("years")),
        ("00 002000000000R", f("months")),
        ("0000-2000000000R", f("days")),
        ("000002x0000000R0", TimeError::Direction(b'0')),
        ("00000200x000000R", f("minutes")),
        ("0000020000+0000R", f("seconds")),
    ];
    for (s, want) in table {
        assert_eq!(parse(s), Err(*want), "{s:?}");
        let shown = want.to_string();
        assert!(!shown.is_empty());
        if let TimeError::Field(name) = want {
            assert!(shown.contains(name), "{shown}");
        }
    }
    assert_eq!(parse("000002x000000000R"), Err(TimeError::Length(17)));
    assert_eq!(parse("00000200x0000000R"), Err(TimeError::Length(17)));
    assert_eq!(parse("000002x00000000R"), Err(TimeError::Field("hours")));
    // Non-ASCII input of the right byte length.
    assert!(SmppTime::parse("1204101011123é+".as_bytes()).is_err());
    assert!(SmppTime::parse(&[0xFF; 16]).is_err());
    assert!(TimeError::Direction(b'x').to_string().contains('x'));
    assert!(TimeError::Length(3).to_string().contains('3'));
}

#[test]
fn format_rejects_out_of_range_values() {
    let good = abs(2012, 4, 10, 10, 11, 12, 3, 0);
    let f = TimeError::Field;
    let table = [
        (AbsoluteTime { year: 1999, ..good }, f("year")),
        (AbsoluteTime { year: 2100, ..good }, f("year")),
        (AbsoluteTime { month: 0, ..good }, f("month")),
        (AbsoluteTime { month: 13, ..good }, f("month")),
        (AbsoluteTime { day: 0, ..good }, f("day")),
        (AbsoluteTime { day: 31, ..good }, f("day")),
        (
            AbsoluteTime {
                year: 2013,
                month: 2,
                day: 29,
                ..good
            },
            f("day"),
        ),
        (AbsoluteTime { hour: 24, ..good }, f("hour")),
        (AbsoluteTime { minute: 60, ..good }, f("minute")),
        (AbsoluteTime { second: 60, ..good }, f("second")),
        (AbsoluteTime { tenths: 10, ..good }, f("tenths")),
        (
            AbsoluteTime {
                utc_offset_quarters: 49,
                ..good
            },
            f("UTC offset"),
        ),
        (
            AbsoluteTime {
                utc_offset_quarters: -49,
                ..good
            },
            f("UTC offset"),
        ),
        (
            AbsoluteTime {
                utc_offset_quarters: i8::MIN,
                ..good
            },
            f("UTC offset"),
        ),
    ];
    for (t, want) in table {
        assert_eq!(t.format(), Err(want), "{t:?}");
        assert_eq!(SmppTime::Absolute(t).format(), Err(want), "{t:?}");
    }
    assert!(good.format().is_ok());
    let r = rel(0, 0, 0, 0, 0, 0);
    for (t, name) in [
        (RelativeTime { years: 100, ..r }, "years"),
        (RelativeTime { months: 100, ..r }, "months"),
        (RelativeTime { days: 255, ..r }, "days"),
        (RelativeTime { hours: 100, ..r }, "hours"),
        (RelativeTime { minutes: 100, ..r }, "minutes"),
        (RelativeTime { seconds: 100, ..r }, "seconds"),
    ] {
        assert_eq!(t.format(), Err(TimeError::Field(name)), "{t:?}");
    }
}

#[test]
fn from_unix_seconds_limits() {
    assert_eq!(
        AbsoluteTime::from_unix_seconds(946_684_800, 0),
        Some(abs(2000, 1, 1, 0, 0, 0, 0, 0))
    );
    // The second before 2000 in UTC is outside, but inside at an offset ahead of UTC.
    assert_eq!(AbsoluteTime::from_unix_seconds(946_684_799, 0), None);
    assert_eq!(
        AbsoluteTime::from_unix_seconds(946_684_799, 4),
        Some(abs(2000, 1, 1, 0, 59, 59, 0, 4))
    );
    assert_eq!(
        AbsoluteTime::from_unix_seconds(4_102_444_799, 0),
        Some(abs(2099, 12, 31, 23, 59, 59, 0, 0))
    );
    assert_eq!(AbsoluteTime::from_unix_seconds(4_102_444_800, 0), None);
    assert_eq!(
        AbsoluteTime::from_unix_seconds(4_102_444_800, -4),
        Some(abs(2099, 12, 31, 23, 0, 0, 0, -4))
    );
    assert_eq!(AbsoluteTime::from_unix_seconds(1_334_052_672, 49), None);
    assert_eq!(AbsoluteTime::from_unix_seconds(1_334_052_672, -49), None);
    assert_eq!(AbsoluteTime::from_unix_seconds(0, 0), None);
    assert_eq!(AbsoluteTime::from_unix_seconds(i64::MIN / 2, 0), None);
    assert_eq!(AbsoluteTime::from_unix_seconds(i64::MAX / 2, 0), None);
    assert_eq!(
        AbsoluteTime::from_unix_seconds(1_334_052_672, 8),
        Some(abs(2012, 4, 10, 12, 11, 12, 0, 8))
    );
    assert_eq!(
        AbsoluteTime::from_unix_seconds(1_709_210_096, -48),
        Some(abs(2024, 2, 29, 0, 34, 56, 0, -48))
    );
}

// ---------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------

fn days_in(year: u16, month: u8) -> u8 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month as usize - 1]
}

fn absolute_time() -> impl Strategy<Value = AbsoluteTime> {
    (2000u16..=2099, 1u8..=12)
        .prop_flat_map(|(y, m)| {
            (
                Just(y),
                Just(m),
                1..=days_in(y, m),
                0u8..24,
                0u8..60,
                0u8..60,
                0u8..10,
                -48i8..=48,
            )
        })
        .prop_map(|(y, mo, d, h, mi, s, t, q)| abs(y, mo, d, h, mi, s, t, q))
}

/// Independent reference: days since 1970-01-01 by counting.
fn ref_unix(a: &AbsoluteTime) -> i64 {
    let mut days = 0i64;
    for y in 1970..a.year {
        days += if days_in(y, 2) == 29 { 366 } else { 365 };
    }
    for m in 1..a.month {
        days += days_in(a.year, m) as i64;
    }
    days += a.day as i64 - 1;
    days * 86_400 + a.hour as i64 * 3600 + a.minute as i64 * 60 + a.second as i64
        - a.utc_offset_quarters as i64 * 900
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn format_then_parse(a in absolute_time()) {
        let w = a.format().unwrap();
        let back = SmppTime::parse(&w).unwrap();
        prop_assert_eq!(back, Some(SmppTime::Absolute(a)));
    }

    #[test]
    fn parse_then_format(a in absolute_time()) {
        // Build the string by hand; '-' only with a non-zero offset (see zero_offset_with_minus).
        let q = a.utc_offset_quarters.unsigned_abs();
        let dir = if a.utc_offset_quarters < 0 { '-' } else { '+' };
        let s = format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}{}{:02}{}",
            a.year % 100, a.month, a.day, a.hour, a.minute, a.second, a.tenths, q, dir
        );
        let t = parse(&s).unwrap().unwrap();
        prop_assert_eq!(t, SmppTime::Absolute(a));
        prop_assert_eq!(wire(&t), s);
    }

    #[test]
    fn relative_parse_then_format(v in proptest::array::uniform6(0u8..100)) {
        let s = format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}000R",
            v[0], v[1], v[2], v[3], v[4], v[5]
        );
        let t = parse(&s).unwrap().unwrap();
        prop_assert_eq!(t, SmppTime::Relative(rel(v[0], v[1], v[2], v[3], v[4], v[5])));
        prop_assert_eq!(wire(&t), s);
    }

    #[test]
    fn unix_seconds_matches_reference(a in absolute_time()) {
        prop_assert_eq!(a.unix_seconds(), ref_unix(&a));
    }

    #[test]
    fn from_unix_seconds_round_trip(
        // 2000-01-01T00:00:00Z ..= 2099-12-31T23:59:59Z
        u in 946_684_800i64..4_102_444_800,
        q in -48i8..=48,
    ) {
        match AbsoluteTime::from_unix_seconds(u, q) {
            Some(a) => {
                prop_assert_eq!(a.utc_offset_quarters, q);
                prop_assert_eq!(a.tenths, 0);
                prop_assert_eq!(a.unix_seconds(), u);
                prop_assert_eq!(ref_unix(&a), u);
                // And through the wire form.
                let w = a.format().unwrap();
                prop_assert_eq!(SmppTime::parse(&w).unwrap(), Some(SmppTime::Absolute(a)));
            }
            None => {
                // Only when the local time falls outside 2000..=2099.
                let local = u + q as i64 * 900;
                prop_assert!(!(946_684_800..4_102_444_800).contains(&local), "{} {}", u, q);
            }
        }
    }

    #[test]
    fn relative_from_seconds_round_trip(secs in 0u64..100 * 86_400) {
        let r = RelativeTime::from_seconds(secs).unwrap();
        prop_assert_eq!(r.approx_seconds(), secs);
        prop_assert_eq!((r.years, r.months), (0, 0));
        prop_assert!(r.hours < 24 && r.minutes < 60 && r.seconds < 60);
        let w = r.format().unwrap();
        prop_assert_eq!(SmppTime::parse(&w).unwrap(), Some(SmppTime::Relative(r)));
    }

    #[test]
    fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..20)) {
        let _ = SmppTime::parse(&b);
    }

    #[test]
    fn parse_never_panics_on_near_valid(
        digits in proptest::collection::vec(prop_oneof![
            8 => b'0'..=b'9',
            1 => any::<u8>(),
        ], 15),
        last in proptest::sample::select(vec![b'+', b'-', b'R', b'x']),
    ) {
        let mut s = digits;
        s.push(last);
        if let Ok(Some(t)) = SmppTime::parse(&s) {
            // What parses formats back to a valid value that parses to the same.
            let w = t.format().unwrap();
            prop_assert_eq!(SmppTime::parse(&w).unwrap(), Some(t));
        }
    }
}

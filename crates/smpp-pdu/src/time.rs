//! SMPP time values (reference §8): absolute `YYMMDDhhmmsstnnp` and relative
//! `YYMMDDhhmmss000R`.
//!
//! Plain values: nothing here reads the system clock or a time zone database. An absolute
//! time carries its own UTC offset in quarter hours, so it converts to a Unix timestamp
//! exactly. Two-digit years are read as 2000 + YY (SMPP 3.4 predates 2000, but every time
//! a link carries today is after it).

use std::fmt;

/// An SMPP time field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmppTime {
    /// A point in time with its UTC offset.
    Absolute(AbsoluteTime),
    /// A period relative to the SMSC's current time.
    Relative(RelativeTime),
}

/// An absolute SMPP time: a local date and time and its offset from UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AbsoluteTime {
    /// Four-digit year, 2000 to 2099.
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to the month's length.
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59.
    pub second: u8,
    /// Tenths of a second, 0 to 9.
    pub tenths: u8,
    /// Offset of the local time from UTC in quarter hours, -48 to 48 (positive when the
    /// local time is ahead of UTC).
    pub utc_offset_quarters: i8,
}

/// A relative SMPP time: a period added to the SMSC's current time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RelativeTime {
    /// 0 to 99.
    pub years: u8,
    /// 0 to 99.
    pub months: u8,
    /// 0 to 99.
    pub days: u8,
    /// 0 to 99.
    pub hours: u8,
    /// 0 to 99.
    pub minutes: u8,
    /// 0 to 99.
    pub seconds: u8,
}

/// Why a time field could not be parsed or formatted; names the part at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeError {
    /// The value is neither empty nor 16 characters.
    Length(usize),
    /// A part is not decimal digits, or is outside its range.
    Field(&'static str),
    /// The last character is not `+`, `-` or `R`.
    Direction(u8),
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::Length(n) => write!(f, "SMPP time must be empty or 16 characters, not {n}"),
            TimeError::Field(name) => write!(f, "SMPP time has an invalid {name}"),
            TimeError::Direction(b) => {
                write!(
                    f,
                    "SMPP time must end in '+', '-' or 'R', not {:?}",
                    *b as char
                )
            }
        }
    }
}

impl std::error::Error for TimeError {}

fn two(s: &[u8], at: usize, name: &'static str, min: u8, max: u8) -> Result<u8, TimeError> {
    let (a, b) = (s[at], s[at + 1]);
    if !a.is_ascii_digit() || !b.is_ascii_digit() {
        return Err(TimeError::Field(name));
    }
    let v = (a - b'0') * 10 + (b - b'0');
    if v < min || v > max {
        return Err(TimeError::Field(name));
    }
    Ok(v)
}

impl SmppTime {
    /// Parses a time field value (without its NUL). An empty value is `Ok(None)`:
    /// "not specified".
    pub fn parse(s: &[u8]) -> Result<Option<SmppTime>, TimeError> {
        if s.is_empty() {
            return Ok(None);
        }
        if s.len() != 16 {
            return Err(TimeError::Length(s.len()));
        }
        match s[15] {
            b'R' => {
                if &s[12..15] != b"000" {
                    return Err(TimeError::Field("relative tail (must be 000)"));
                }
                Ok(Some(SmppTime::Relative(RelativeTime {
                    years: two(s, 0, "years", 0, 99)?,
                    months: two(s, 2, "months", 0, 99)?,
                    days: two(s, 4, "days", 0, 99)?,
                    hours: two(s, 6, "hours", 0, 99)?,
                    minutes: two(s, 8, "minutes", 0, 99)?,
                    seconds: two(s, 10, "seconds", 0, 99)?,
                })))
            }
            d @ (b'+' | b'-') => {
                let year = 2000 + two(s, 0, "year", 0, 99)? as u16;
                let month = two(s, 2, "month", 1, 12)?;
                let day = two(s, 4, "day", 1, 31)?;
                if day > days_in_month(year, month) {
                    return Err(TimeError::Field("day"));
                }
                if !s[12].is_ascii_digit() {
                    return Err(TimeError::Field("tenths"));
                }
                let nn = two(s, 13, "UTC offset", 0, 48)? as i8;
                Ok(Some(SmppTime::Absolute(AbsoluteTime {
                    year,
                    month,
                    day,
                    hour: two(s, 6, "hour", 0, 23)?,
                    minute: two(s, 8, "minute", 0, 59)?,
                    second: two(s, 10, "second", 0, 59)?,
                    tenths: s[12] - b'0',
                    utc_offset_quarters: if d == b'-' { -nn } else { nn },
                })))
            }
            other => Err(TimeError::Direction(other)),
        }
    }

    /// The 16-character wire form.
    pub fn format(&self) -> Result<[u8; 16], TimeError> {
        match self {
            SmppTime::Absolute(a) => a.format(),
            SmppTime::Relative(r) => r.format(),
        }
    }
}

fn put2(out: &mut [u8], at: usize, v: u8, name: &'static str) -> Result<(), TimeError> {
    if v > 99 {
        return Err(TimeError::Field(name));
    }
    out[at] = b'0' + v / 10;
    out[at + 1] = b'0' + v % 10;
    Ok(())
}

impl RelativeTime {
    /// The 16-character wire form (`YYMMDDhhmmss000R`).
    pub fn format(&self) -> Result<[u8; 16], TimeError> {
        let mut o = *b"000000000000000R";
        put2(&mut o, 0, self.years, "years")?;
        put2(&mut o, 2, self.months, "months")?;
        put2(&mut o, 4, self.days, "days")?;
        put2(&mut o, 6, self.hours, "hours")?;
        put2(&mut o, 8, self.minutes, "minutes")?;
        put2(&mut o, 10, self.seconds, "seconds")?;
        Ok(o)
    }

    /// A relative time of whole seconds, spread into days, hours, minutes and seconds
    /// (each at most 99); `None` if it does not fit.
    pub fn from_seconds(total: u64) -> Option<RelativeTime> {
        let days = total / 86_400;
        if days > 99 {
            return None;
        }
        let rem = total % 86_400;
        Some(RelativeTime {
            days: days as u8,
            hours: (rem / 3600) as u8,
            minutes: (rem % 3600 / 60) as u8,
            seconds: (rem % 60) as u8,
            ..RelativeTime::default()
        })
    }

    /// The period in seconds, counting a month as 30 days and a year as 365 (the
    /// specification leaves calendar arithmetic to the SMSC).
    pub fn approx_seconds(&self) -> u64 {
        let days = self.years as u64 * 365 + self.months as u64 * 30 + self.days as u64;
        days * 86_400 + self.hours as u64 * 3600 + self.minutes as u64 * 60 + self.seconds as u64
    }
}

impl AbsoluteTime {
    /// The 16-character wire form (`YYMMDDhhmmsstnnp`).
    pub fn format(&self) -> Result<[u8; 16], TimeError> {
        if !(2000..=2099).contains(&self.year) {
            return Err(TimeError::Field("year"));
        }
        if !(1..=12).contains(&self.month) {
            return Err(TimeError::Field("month"));
        }
        if self.day == 0 || self.day > days_in_month(self.year, self.month) {
            return Err(TimeError::Field("day"));
        }
        if self.hour > 23 {
            return Err(TimeError::Field("hour"));
        }
        if self.minute > 59 {
            return Err(TimeError::Field("minute"));
        }
        if self.second > 59 {
            return Err(TimeError::Field("second"));
        }
        if self.tenths > 9 {
            return Err(TimeError::Field("tenths"));
        }
        if !(-48..=48).contains(&self.utc_offset_quarters) {
            return Err(TimeError::Field("UTC offset"));
        }
        let mut o = [b'0'; 16];
        put2(&mut o, 0, (self.year - 2000) as u8, "year")?;
        put2(&mut o, 2, self.month, "month")?;
        put2(&mut o, 4, self.day, "day")?;
        put2(&mut o, 6, self.hour, "hour")?;
        put2(&mut o, 8, self.minute, "minute")?;
        put2(&mut o, 10, self.second, "second")?;
        o[12] = b'0' + self.tenths;
        put2(
            &mut o,
            13,
            self.utc_offset_quarters.unsigned_abs(),
            "UTC offset",
        )?;
        o[15] = if self.utc_offset_quarters < 0 {
            b'-'
        } else {
            b'+'
        };
        Ok(o)
    }

    /// Seconds since 1970-01-01T00:00:00 UTC (tenths dropped).
    pub fn unix_seconds(&self) -> i64 {
        let days = days_from_civil(self.year as i64, self.month as i64, self.day as i64);
        let local =
            days * 86_400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64;
        local - self.utc_offset_quarters as i64 * 900
    }

    /// The time `unix_seconds` after the epoch, expressed in the local time of the given
    /// offset (quarter hours); `None` outside 2000 to 2099 or for an offset beyond ±48.
    pub fn from_unix_seconds(unix_seconds: i64, utc_offset_quarters: i8) -> Option<AbsoluteTime> {
        if !(-48..=48).contains(&utc_offset_quarters) {
            return None;
        }
        let local = unix_seconds + utc_offset_quarters as i64 * 900;
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        if !(2000..=2099).contains(&y) {
            return None;
        }
        Some(AbsoluteTime {
            year: y as u16,
            month: m as u8,
            day: d as u8,
            hour: (secs / 3600) as u8,
            minute: (secs % 3600 / 60) as u8,
            second: (secs % 60) as u8,
            tenths: 0,
            utc_offset_quarters,
        })
    }
}

fn is_leap(y: u16) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

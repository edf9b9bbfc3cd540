//! ISO-8601 timestamps, for plugins that read an event's own time.
//!
//! Plugins have no clock and no time-zone database, and need none: an event's
//! time is in the event, and the host lends each event's arrival time. This
//! module parses `YYYY-MM-DDTHH:MM[:SS[.fff…]][Z|±HH:MM]` (a space may stand
//! for the `T`; no offset means UTC) and converts to UTC civil fields.

use std::fmt;

/// Dashes that producers write for `-` when a word processor or a phone got to
/// the text first: hyphen, non-breaking hyphen, figure dash, en dash, em dash,
/// minus sign.
pub const TYPOGRAPHIC_DASHES: [char; 6] = [
    '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2212}',
];

/// `text` with every typographic dash replaced by `-`, or `None` when it holds
/// none.
pub fn normalise_dashes(text: &str) -> Option<String> {
    if !text.contains(TYPOGRAPHIC_DASHES) {
        return None;
    }
    Some(text.replace(TYPOGRAPHIC_DASHES, "-"))
}

/// Why a timestamp did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeError(String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimeError {}

fn error(text: &str, what: &str) -> TimeError {
    TimeError(format!("`{text}` is not an ISO-8601 date-time: {what}"))
}

/// The days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Result<i64, TimeError> {
    let mut cursor = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let bad = |what| TimeError(format!("`{text}` is not a date (YYYY-MM-DD): {what}"));
    let year = cursor
        .digits(4)
        .ok_or_else(|| bad("expected a 4-digit year"))?;
    cursor
        .expect(b'-')
        .ok_or_else(|| bad("expected `-` after the year"))?;
    let month = cursor
        .digits(2)
        .ok_or_else(|| bad("expected a 2-digit month"))?;
    cursor
        .expect(b'-')
        .ok_or_else(|| bad("expected `-` after the month"))?;
    let day = cursor
        .digits(2)
        .ok_or_else(|| bad("expected a 2-digit day"))?;
    if cursor.at != text.len() {
        return Err(bad("unexpected text after the day"));
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year as i32, month) {
        return Err(bad("out of range"));
    }
    Ok(days_from_civil(year as i32, month, day))
}

/// A point in time, with its UTC calendar fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    /// Microseconds since the Unix epoch.
    pub unix_micros: i64,
    /// The UTC year, proleptic Gregorian: 0 or negative for times before
    /// the year 1.
    pub year: i32,
    /// The UTC month, 1 to 12.
    pub month: u32,
    /// The UTC day of the month, 1 to 31.
    pub day: u32,
    /// The UTC hour, 0 to 23.
    pub hour: u32,
    /// The UTC minute, 0 to 59.
    pub minute: u32,
    /// The UTC second, 0 to 59 (leap seconds are not accepted); the fraction
    /// is only in `unix_micros`.
    pub second: u32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method: count
/// in 400-year eras of 146,097 days, with years starting in March so the leap
/// day is last).
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// Parse an ISO-8601 date-time and convert it to UTC.
    pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
        let mut cursor = Cursor {
            bytes: text.as_bytes(),
            at: 0,
        };
        let (year, month, day) = cursor.date(text)?;
        match cursor.next() {
            Some(b'T' | b't' | b' ') => {}
            _ => return Err(error(text, "expected `T` and a time after the date")),
        }
        let (hour, minute, second, micros) = cursor.time_of_day(text)?;
        let offset_seconds = cursor.utc_offset(text)?;
        if cursor.at != text.len() {
            return Err(error(text, "unexpected text after the UTC offset"));
        }
        let days = days_from_civil(year as i32, month, day);
        let seconds =
            days * SECONDS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
        let unix_micros = seconds * MICROS_PER_SECOND + i64::from(micros);
        if offset_seconds != 0 {
            // The UTC calendar fields differ from the written ones.
            return Ok(Timestamp::from_unix_micros(unix_micros));
        }
        Ok(Timestamp {
            unix_micros,
            year: year as i32,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// The UTC calendar fields of a count of microseconds since the epoch.
    pub fn from_unix_micros(unix_micros: i64) -> Timestamp {
        let seconds = unix_micros.div_euclid(MICROS_PER_SECOND);
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        Timestamp {
            unix_micros,
            year,
            month,
            day,
            hour: second_of_day / 3600,
            minute: second_of_day / 60 % 60,
            second: second_of_day % 60,
        }
    }

    /// The UTC date as `YYYY-MM-DD`.
    pub fn date_string(&self) -> String {
        let mut date = String::with_capacity(10);
        push_digits(&mut date, self.year.max(0) as u32, 4);
        date.push('-');
        push_digits(&mut date, self.month, 2);
        date.push('-');
        push_digits(&mut date, self.day, 2);
        date
    }

    /// The UTC year as 4 digits (years before 1 read as `0000`).
    pub fn year_string(&self) -> String {
        let mut year = String::with_capacity(4);
        push_digits(&mut year, self.year.max(0) as u32, 4);
        year
    }

    /// The UTC day of the week, `Monday` to `Sunday`.
    pub fn weekday(&self) -> &'static str {
        let days = self
            .unix_micros
            .div_euclid(MICROS_PER_SECOND * SECONDS_PER_DAY);
        // 1970-01-01 was a Thursday, index 3 from Monday.
        WEEKDAYS[(days + 3).rem_euclid(7) as usize]
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    pub fn to_rfc3339(&self) -> String {
        format!(
            "{}T{:02}:{:02}:{:02}.{:06}Z",
            self.date_string(),
            self.hour,
            self.minute,
            self.second,
            self.unix_micros.rem_euclid(MICROS_PER_SECOND)
        )
    }
}

/// Append the last `width` decimal digits of `value`, zero-padded: a date
/// formatted per event must not go through `format!`'s machinery.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// `YYYY-MM-DD` of a date-time, checked to be a day of the calendar:
    /// (year, month, day). `text` is the whole date-time, for messages.
    fn date(&mut self, text: &str) -> Result<(u32, u32, u32), TimeError> {
        let year = self
            .digits(4)
            .ok_or_else(|| error(text, "expected a 4-digit year"))?;
        self.expect(b'-')
            .ok_or_else(|| error(text, "expected `-` after the year"))?;
        let month = self
            .digits(2)
            .ok_or_else(|| error(text, "expected a 2-digit month"))?;
        self.expect(b'-')
            .ok_or_else(|| error(text, "expected `-` after the month"))?;
        let day = self
            .digits(2)
            .ok_or_else(|| error(text, "expected a 2-digit day"))?;
        if !(1..=12).contains(&month) {
            return Err(error(text, "month out of range"));
        }
        if day == 0 || day > days_in_month(year as i32, month) {
            return Err(error(text, "day out of range"));
        }
        Ok((year, month, day))
    }

    /// `HH:MM[:SS[.fff…]]`, checked to be a time of day: (hour, minute,
    /// second, microseconds).
    fn time_of_day(&mut self, text: &str) -> Result<(u32, u32, u32, u32), TimeError> {
        let hour = self
            .digits(2)
            .ok_or_else(|| error(text, "expected a 2-digit hour"))?;
        self.expect(b':')
            .ok_or_else(|| error(text, "expected `:` after the hour"))?;
        let minute = self
            .digits(2)
            .ok_or_else(|| error(text, "expected 2-digit minutes"))?;
        let mut second = 0;
        let mut micros = 0;
        if self.peek() == Some(b':') {
            self.at += 1;
            second = self
                .digits(2)
                .ok_or_else(|| error(text, "expected 2-digit seconds"))?;
            if matches!(self.peek(), Some(b'.' | b',')) {
                self.at += 1;
                micros = self.fraction_micros(text)?;
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(error(text, "time out of range"));
        }
        Ok((hour, minute, second, micros))
    }

    /// The digits after a decimal point, as microseconds (digits past the
    /// sixth are read and dropped).
    fn fraction_micros(&mut self, text: &str) -> Result<u32, TimeError> {
        let start = self.at;
        let mut micros = 0;
        let mut scale = 100_000;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            micros += u32::from(digit - b'0') * scale;
            scale /= 10;
            self.at += 1;
        }
        if self.at == start {
            return Err(error(text, "expected digits after the decimal point"));
        }
        Ok(micros)
    }

    /// The UTC offset after a time, in seconds east of UTC: `Z`, `±HH[:MM]`
    /// or nothing (UTC).
    fn utc_offset(&mut self, text: &str) -> Result<i64, TimeError> {
        match self.next() {
            None => Ok(0),
            Some(b'Z' | b'z') => Ok(0),
            Some(sign @ (b'+' | b'-')) => {
                let hours = self
                    .digits(2)
                    .ok_or_else(|| error(text, "bad UTC offset"))?;
                if self.peek() == Some(b':') {
                    self.at += 1;
                }
                let minutes = if self.at < self.bytes.len() {
                    self.digits(2)
                        .ok_or_else(|| error(text, "bad UTC offset"))?
                } else {
                    0
                };
                if hours > 23 || minutes > 59 {
                    return Err(error(text, "UTC offset out of range"));
                }
                let seconds = i64::from(hours * 3600 + minutes * 60);
                Ok(if sign == b'-' { -seconds } else { seconds })
            }
            Some(_) => Err(error(text, "unexpected character after the time")),
        }
    }

    #[inline(always)]
    fn digits(&mut self, count: usize) -> Option<u32> {
        let digit = |at: usize| {
            let byte = *self.bytes.get(self.at + at)?;
            byte.is_ascii_digit().then(|| u32::from(byte - b'0'))
        };
        // Unrolled for the two widths dates use: a loop in a plugin pays for
        // the host's deadline check on every iteration.
        let value = match count {
            2 => digit(0)? * 10 + digit(1)?,
            4 => digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?,
            _ => (0..count).try_fold(0, |value, at| Some(value * 10 + digit(at)?))?,
        };
        self.at += count;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_offsets() {
        let t = Timestamp::parse("2026-02-19T11:05:00Z").unwrap();
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute),
            (2026, 2, 19, 11, 5)
        );
        assert_eq!(t.unix_micros, 1_771_499_100_000_000);
        assert_eq!(t.weekday(), "Thursday");
        let shifted = Timestamp::parse("2026-02-19T23:30:00-02:00").unwrap();
        assert_eq!(shifted.date_string(), "2026-02-20");
        assert_eq!(shifted.hour, 1);
        let fraction = Timestamp::parse("2026-02-19 11:05:00.25").unwrap();
        assert_eq!(fraction.unix_micros % 1_000_000, 250_000);
        assert_eq!(fraction.to_rfc3339(), "2026-02-19T11:05:00.250000Z");
    }

    #[test]
    fn written_fields_match_the_computed_ones() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59",
            "2026-12-31T12:00:00.5Z",
            "1969-07-20T20:17:40Z",
        ] {
            let parsed = Timestamp::parse(text).unwrap();
            assert_eq!(
                parsed,
                Timestamp::from_unix_micros(parsed.unix_micros),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_date_time() {
        for bad in [
            "",
            "2026-02-19",
            "2026-02-30T00:00:00",
            "2026-13-01T00:00:00",
            "2026-02-19T24:00:00",
            "2026/02/19T11:05:00",
            "2026–02–19T11:05:00",
            "2026-02-19T11:05:00Zjunk",
            "yesterday",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn normalises_typographic_dashes() {
        assert_eq!(
            normalise_dashes("2026\u{2013}02\u{2014}19T11:05:00").as_deref(),
            Some("2026-02-19T11:05:00")
        );
        assert_eq!(normalise_dashes("2026-02-19T11:05:00"), None);
    }

    #[test]
    fn parses_dates() {
        assert_eq!(parse_date("2026-02-19"), Ok(20_503));
        assert_eq!(parse_date("2000-02-29"), Ok(11_016));
        for bad in [
            "2026-02-30",
            "2026-2-19",
            "2026-02-19T00:00:00",
            "",
            "2026/02/19",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 59, 365, 11_016, 20_503, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
    }
}

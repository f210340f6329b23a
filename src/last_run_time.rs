//! The LastRunTime logic of RSA's Qualys feed, made exact: which date the `<LastRunTime>`
//! placeholder in the URL parameter becomes.
//!
//! The seed's rules ("Logic" under kbUrl/hostsUrl/detectionUrl):
//! - use the LastRunTime token if a valid date is supplied and the URL asks for it;
//! - if the token is not supplied, use 1970-01-10;
//! - add `lastRunTimeOffset` days (default -1) to the date.
//!
//! In scope: the token as text whatever type the host passed ([`token_text`]: a Date, a number of
//! seconds or milliseconds), reading the token in the formats a host may send ([`parse_token`]), choosing the date
//! and the warnings to log ([`resolve`]), printing it the way Qualys filters want it ([`format`]) and
//! putting it into the URL template ([`substitute`]). Out of scope: reading the clock (the caller
//! passes `now`), deciding whether the URL uses the placeholder (the caller checks
//! `template.contains(PLACEHOLDER)`), validating the offset range (that is [`crate::params`]), and
//! the token written back at the end of a run (Archer advances LastRunTime itself).
//!
//! Interpretations, all documented on the items below: a token without a time zone is UTC; an
//! unreadable token is treated like a missing one (full load) but logged; a token in the future is
//! used as given but logged; the result is never earlier than 1970-01-01T00:00:00Z.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};

use crate::secret::Redactor;
use crate::value::Value;

/// The placeholder the URL parameters use, exactly as RSA's script spelt it (case-sensitive).
pub const PLACEHOLDER: &str = "<LastRunTime>";

/// The date used when there is no usable token (the seed's "default LastRunTime = 1970-01-10"),
/// before the offset is added.
pub const FIRST_RUN_DEFAULT: &str = "1970-01-10T00:00:00Z";

/// Where the resolved date came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The token held a date this module reads.
    FromToken,
    /// No token (missing, empty or blank): the first run of the feed.
    FirstRun,
    /// A token was there but is not a date this module reads; the first-run default was used.
    InvalidToken,
}

/// The outcome of [`resolve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The date to put in the URL (offset already applied).
    pub value: DateTime<Utc>,
    /// Where the value came from.
    pub source: Source,
    /// Lines to log as warnings (the token is quoted unless it is long or holds a secret).
    pub warnings: Vec<String>,
}

/// The first-run default as a date.
pub fn first_run_default() -> DateTime<Utc> {
    // 1970-01-10T00:00:00Z is 9 days after the epoch.
    DateTime::from_timestamp(9 * 86_400, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// Reads a LastRunTime token. Surrounding whitespace is ignored. Accepted:
/// - ISO 8601 / RFC 3339: `2018-06-13T18:31:41Z`, with an offset (`+02:00`, `-0500`, `+02`), with
///   fractional seconds (`.1234567`, any number of digits, nanoseconds kept), without seconds
///   (`2018-06-13T18:31Z`), with a space or lower-case `t` instead of `T`, and `z` for `Z`;
/// - a date alone, `2018-06-13`, meaning midnight UTC;
/// - US style as .NET prints it: `6/13/2018 6:31:41 PM` (hour 1-12, AM/PM in any case, seconds
///   optional) and `06/13/2018 18:31:41` (24-hour), or the date alone `6/13/2018`.
///
/// **Assumption:** a date-time without a zone (ISO without `Z`/offset, and every US-style form) is
/// UTC. Archer stores LastRunTime in UTC and RSA's own stubs send `...Z`; if a host sends local
/// time, the resulting window is off by the host's UTC offset, which the default -1 day offset
/// absorbs.
///
/// Anything else (other separators, two-digit years, out-of-range fields such as month 13 or
/// 25:00, trailing text) gives `None`.
pub fn parse_token(token: &str) -> Option<DateTime<Utc>> {
    let s = token.trim();
    if s.is_empty() || !s.is_ascii() {
        return None;
    }
    parse_iso(s).or_else(|| parse_us(s))
}

/// Numbers from this value up are milliseconds since 1970 (1e11 ms is 1973-03-03); below it,
/// seconds (1e11 s is in the year 5138). So every plausible timestamp reads one way only.
pub const EPOCH_MILLIS_FROM: f64 = 1e11;

/// The LastRunTime token as text for [`resolve`], from whatever type the host passed:
/// - a string: as it is; `null`/`undefined`: none (the first run);
/// - a Date (of any realm): its ISO time;
/// - a number (or bigint): time since 1970-01-01T00:00:00Z, in milliseconds when its magnitude is
///   at least [`EPOCH_MILLIS_FROM`], else in seconds; the note says how it was read;
/// - anything else (boolean, object, array, function, symbol), an invalid Date, NaN or Infinity:
///   `Err` (a configuration error: never a silent full load).
///
/// Returns the text and an informational note for the log.
pub fn token_text(token: &Value) -> Result<(Option<String>, Option<String>), String> {
    let from_number = |n: f64, shown: &str| -> Result<(Option<String>, Option<String>), String> {
        if !n.is_finite() {
            return Err("is a number that is not finite (NaN or Infinity), not a date".to_string());
        }
        let (ms, unit) = if n.abs() >= EPOCH_MILLIS_FROM { (n, "milliseconds") } else { (n * 1000.0, "seconds") };
        let iso = crate::value::date_text(ms)
            .map_err(|_| format!("is the number {shown}, too far from 1970 to be a date"))?;
        let note =
            format!("LastRunTime token is the number {shown}: read as {unit} since 1970-01-01T00:00:00Z, i.e. {iso}");
        Ok((Some(iso), Some(note)))
    };
    match token {
        Value::Missing => Ok((None, None)),
        Value::Text(s) => Ok((Some(s.clone()), None)),
        Value::Date(ms) => {
            let iso = crate::value::date_text(*ms)?;
            Ok((Some(iso.clone()), Some(format!("LastRunTime token is a Date: read as {iso}"))))
        }
        Value::Number(n) => from_number(*n, &crate::value::number_text(*n).unwrap_or_else(|_| n.to_string())),
        // Integer parsing (no float parser in the wasm build for this); a bigint beyond i64 is no date.
        Value::BigInt(digits) => match digits.parse::<i64>() {
            Ok(n) => from_number(n as f64, digits),
            Err(_) => Err(format!("is a bigint of {} digits, too far from 1970 to be a date", digits.len())),
        },
        Value::Bool(_) | Value::Other(_) => Err(format!(
            "is {}, not a date; the host must pass a date (text such as 2018-06-13T18:31:41Z, a Date, or a number of seconds or milliseconds since 1970); the run stops rather than fetch everything since 1970",
            token.type_name()
        )),
    }
}

/// Chooses the date for `<LastRunTime>`:
/// - `token` missing, empty or blank (or the strings `null`/`undefined` a host may pass for a
///   missing value) -> [`FIRST_RUN_DEFAULT`], [`Source::FirstRun`], no warning;
/// - `token` readable by [`parse_token`] -> that date, [`Source::FromToken`]; if it is later than
///   `now` it is still used, with a warning (clock skew between Archer and the feed);
/// - otherwise -> [`FIRST_RUN_DEFAULT`], [`Source::InvalidToken`], with a warning quoting the token;
/// - then `offset_days` days are added (the caller passes `lastRunTimeOffset`, default -1).
///
/// The result is clamped to 1970-01-01T00:00:00Z at the earliest (Qualys holds nothing older,
/// and a pre-1970 filter date is not something to send it); clamping is logged.
pub fn resolve(token: Option<&str>, offset_days: i64, now: DateTime<Utc>) -> Resolved {
    resolve_with(token, offset_days, now, &Redactor::default())
}

/// [`resolve`], quoting the token in a warning only when it holds none of `redactor`'s secrets (an
/// admin may paste the password into the wrong field) and is short.
pub fn resolve_with(token: Option<&str>, offset_days: i64, now: DateTime<Utc>, redactor: &Redactor) -> Resolved {
    let quote = |t: &str| quote(t, redactor);
    let mut warnings = Vec::new();
    let trimmed = token.map(str::trim).unwrap_or("");
    let missing =
        trimmed.is_empty() || trimmed.eq_ignore_ascii_case("null") || trimmed.eq_ignore_ascii_case("undefined");
    let (base, source) = if missing {
        (first_run_default(), Source::FirstRun)
    } else if let Some(dt) = parse_token(trimmed) {
        if dt > now {
            warnings.push(format!(
                "LastRunTime token {} ({}) is later than the current time ({}); it is used as given, so this run may select little or nothing. Check the clocks of the Archer server and of this machine.",
                quote(trimmed),
                format(dt),
                format(now)
            ));
        }
        (dt, Source::FromToken)
    } else {
        warnings.push(format!(
            "LastRunTime token {} is not a date this feed can read (expected e.g. 2018-06-13T18:31:41Z); using the first-run default {FIRST_RUN_DEFAULT} instead, so this run fetches everything since then.",
            quote(trimmed)
        ));
        (first_run_default(), Source::InvalidToken)
    };
    let shifted = TimeDelta::try_days(offset_days).and_then(|d| base.checked_add_signed(d));
    let mut value = match shifted {
        Some(v) => v,
        None => {
            warnings.push(format!(
                "lastRunTimeOffset {offset_days} days cannot be applied to {}; the date is used without the offset.",
                format(base)
            ));
            base
        }
    };
    if value < DateTime::UNIX_EPOCH {
        warnings.push(format!(
            "LastRunTime {} plus lastRunTimeOffset {offset_days} days is before 1970; using 1970-01-01T00:00:00Z.",
            format(base)
        ));
        value = DateTime::UNIX_EPOCH;
    }
    Resolved { value, source, warnings }
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC (fractions of a second are dropped), the form Qualys filters take.
pub fn format(dt: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Replaces every [`PLACEHOLDER`] in `template` with `value`. A template without the placeholder
/// comes back unchanged. `value` is normally a [`format`] result, which needs no encoding in a
/// query; any byte other than digits, `-`, `:`, `T` and `Z` is percent-encoded anyway, so an odd
/// value can never add or split a query parameter.
pub fn substitute(template: &str, value: &str) -> String {
    if !template.contains(PLACEHOLDER) {
        return template.to_string();
    }
    let mut encoded = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_digit() || matches!(b, b'-' | b':' | b'T' | b'Z') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    template.replace(PLACEHOLDER, &encoded)
}

/// A token quoted for a log line, escaped; a long one, or one that holds a secret, is not shown.
fn quote(token: &str, redactor: &Redactor) -> String {
    const MAX: usize = 80;
    if token.chars().count() > MAX {
        format!("(not shown: {} characters long)", token.chars().count())
    } else if redactor.reveals(token) {
        "(not shown: it may hold a password)".to_string()
    } else {
        format!("{token:?}")
    }
}

/// A cursor over ASCII bytes.
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Cur { s: s.as_bytes(), i: 0 }
    }
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    /// Between `min` and `max` digits, as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut n: u32 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    n = n * 10 + u32::from(b - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        if self.i - start < min {
            None
        } else {
            Some(n)
        }
    }
    fn skip_spaces(&mut self) -> usize {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        self.i - start
    }
}

fn date(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

fn midnight_utc(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// `YYYY-MM-DD[(T|t| )HH:MM[:SS[(.|,)frac]][Z|z|(+|-)HH[[:]MM]]]`
fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let mut c = Cur::new(s);
    let y = c.digits(4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let mo = c.digits(2, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let d = c.digits(2, 2)?;
    let day = date(y, mo, d)?;
    if c.done() {
        return Some(midnight_utc(day));
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let h = c.digits(2, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let mi = c.digits(2, 2)?;
    let mut sec = 0;
    let mut nanos = 0;
    if c.eat(b':') {
        sec = c.digits(2, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            let start = c.i;
            let mut scale = 100_000_000u32;
            while let Some(b @ b'0'..=b'9') = c.peek() {
                nanos += u32::from(b - b'0') * scale;
                scale /= 10;
                c.i += 1;
            }
            if c.i == start {
                return None;
            }
        }
    }
    let time = NaiveTime::from_hms_nano_opt(h, mi, sec, nanos)?;
    let local = day.and_time(time);
    let offset_secs: i64 = if c.done() || c.eat(b'Z') || c.eat(b'z') {
        0
    } else {
        let sign = match c.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return None,
        };
        c.i += 1;
        let oh = c.digits(2, 2)?;
        let om = if c.done() {
            0
        } else {
            c.eat(b':');
            c.digits(2, 2)?
        };
        if oh > 23 || om > 59 {
            return None;
        }
        sign * i64::from(oh * 3600 + om * 60)
    };
    if !c.done() {
        return None;
    }
    let utc = local.checked_sub_signed(TimeDelta::try_seconds(offset_secs)?)?;
    Some(utc.and_utc())
}

/// `M/D/YYYY[ h:mm[:ss][ AM|PM]]` (US order, as .NET prints dates).
fn parse_us(s: &str) -> Option<DateTime<Utc>> {
    let mut c = Cur::new(s);
    let mo = c.digits(1, 2)?;
    if !c.eat(b'/') {
        return None;
    }
    let d = c.digits(1, 2)?;
    if !c.eat(b'/') {
        return None;
    }
    let y = c.digits(4, 4)?;
    let day = date(y, mo, d)?;
    if c.done() {
        return Some(midnight_utc(day));
    }
    if c.skip_spaces() == 0 {
        return None;
    }
    let mut h = c.digits(1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let mi = c.digits(2, 2)?;
    let sec = if c.eat(b':') { c.digits(2, 2)? } else { 0 };
    c.skip_spaces();
    if !c.done() {
        let rest = &s[c.i..];
        let pm = if rest.eq_ignore_ascii_case("PM") {
            true
        } else if rest.eq_ignore_ascii_case("AM") {
            false
        } else {
            return None;
        };
        if !(1..=12).contains(&h) {
            return None;
        }
        h = match (pm, h) {
            (false, 12) => 0,
            (false, h) => h,
            (true, 12) => 12,
            (true, h) => h + 12,
        };
    }
    let time = NaiveTime::from_hms_opt(h, mi, sec)?;
    Some(day.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        match DateTime::parse_from_rfc3339(s) {
            Ok(d) => d.with_timezone(&Utc),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn now() -> DateTime<Utc> {
        utc("2024-06-01T12:00:00Z")
    }

    #[test]
    fn parses_iso_forms() {
        let cases = [
            ("2018-06-13T18:31:41Z", "2018-06-13T18:31:41Z"),
            ("2018-06-13t18:31:41z", "2018-06-13T18:31:41Z"),
            ("2018-06-13 18:31:41Z", "2018-06-13T18:31:41Z"),
            ("  2018-06-13T18:31:41Z \n", "2018-06-13T18:31:41Z"),
            ("2018-06-13T18:31:41", "2018-06-13T18:31:41Z"),
            ("2018-06-13T20:31:41+02:00", "2018-06-13T18:31:41Z"),
            ("2018-06-13T13:31:41-0500", "2018-06-13T18:31:41Z"),
            ("2018-06-13T20:31:41+02", "2018-06-13T18:31:41Z"),
            ("2018-06-13T18:31:41-00:00", "2018-06-13T18:31:41Z"),
            ("2018-06-13T18:31Z", "2018-06-13T18:31:00Z"),
            ("2018-06-13T18:31", "2018-06-13T18:31:00Z"),
            ("2018-06-13T18:31+01:00", "2018-06-13T17:31:00Z"),
            ("2018-06-13", "2018-06-13T00:00:00Z"),
            ("2018-06-13T23:30:00-01:00", "2018-06-14T00:30:00Z"),
        ];
        for (input, want) in cases {
            assert_eq!(parse_token(input), Some(utc(want)), "{input}");
        }
    }

    #[test]
    fn parses_fractional_seconds() {
        assert_eq!(parse_token("2018-06-13T18:31:41.5Z"), Some(utc("2018-06-13T18:31:41.5Z")));
        assert_eq!(parse_token("2018-06-13T18:31:41.123Z"), Some(utc("2018-06-13T18:31:41.123Z")));
        assert_eq!(parse_token("2018-06-13T18:31:41.1234567Z"), Some(utc("2018-06-13T18:31:41.1234567Z")));
        assert_eq!(parse_token("2018-06-13T18:31:41,25+01:00"), Some(utc("2018-06-13T17:31:41.25Z")));
        assert_eq!(parse_token("2018-06-13T18:31:41.123456789123Z"), Some(utc("2018-06-13T18:31:41.123456789Z")));
        assert_eq!(parse_token("2018-06-13T18:31:41.Z"), None);
        assert_eq!(parse_token("2018-06-13T18:31:41.999Z").map(format).as_deref(), Some("2018-06-13T18:31:41Z"));
    }

    #[test]
    fn parses_us_forms_as_utc() {
        let cases = [
            ("6/13/2018 6:31:41 PM", "2018-06-13T18:31:41Z"),
            ("6/13/2018 6:31:41 pm", "2018-06-13T18:31:41Z"),
            ("06/13/2018 06:31:41 AM", "2018-06-13T06:31:41Z"),
            ("6/13/2018 12:05:00 AM", "2018-06-13T00:05:00Z"),
            ("6/13/2018 12:05:00 PM", "2018-06-13T12:05:00Z"),
            ("6/13/2018 6:31 PM", "2018-06-13T18:31:00Z"),
            ("6/13/2018 6:31:41PM", "2018-06-13T18:31:41Z"),
            ("06/13/2018 18:31:41", "2018-06-13T18:31:41Z"),
            ("06/13/2018 00:00:00", "2018-06-13T00:00:00Z"),
            ("1/2/2024 9:05", "2024-01-02T09:05:00Z"),
            ("6/13/2018", "2018-06-13T00:00:00Z"),
            (" 6/13/2018 6:31:41 PM ", "2018-06-13T18:31:41Z"),
        ];
        for (input, want) in cases {
            assert_eq!(parse_token(input), Some(utc(want)), "{input}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "   ",
            "yesterday",
            "2018-13-01",
            "2018-02-30",
            "2018-06-13T24:00:00Z",
            "2018-06-13T18:60:00Z",
            "2018-06-13T18:31:61Z",
            "2018-06-13T18:31:41+24:00",
            "2018-06-13T18:31:41Zjunk",
            "2018-06-13T18:31:41 Z",
            "2018-6-13",
            "18-06-13",
            "2018/06/13",
            "13/06/2018",
            "6/13/18",
            "6/13/2018 13:00:00 PM",
            "6/13/2018 0:30:00 AM",
            "6/13/2018 6:31:41 XM",
            "6/13/2018T06:31:41",
            "2018-06-13T",
            "2018-06-13T18",
            "1528914701",
            "2018-06-13T18:31:41Z 2018-06-14",
            "２０１８-06-13",
        ] {
            assert_eq!(parse_token(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn first_run_uses_the_default_with_offset_and_no_warning() {
        for token in [None, Some(""), Some("   "), Some("null"), Some("undefined")] {
            let r = resolve(token, -1, now());
            assert_eq!(r.source, Source::FirstRun, "{token:?}");
            assert_eq!(format(r.value), "1970-01-09T00:00:00Z");
            assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        }
        assert_eq!(format(first_run_default()), FIRST_RUN_DEFAULT);
        assert_eq!(format(resolve(None, 0, now()).value), "1970-01-10T00:00:00Z");
    }

    #[test]
    fn invalid_token_warns_quoting_it_and_uses_the_default() {
        let r = resolve(Some("last tuesday"), -1, now());
        assert_eq!(r.source, Source::InvalidToken);
        assert_eq!(format(r.value), "1970-01-09T00:00:00Z");
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("\"last tuesday\""), "{}", r.warnings[0]);
        assert!(r.warnings[0].contains(FIRST_RUN_DEFAULT));
        let long = "x".repeat(500);
        let r = resolve(Some(&long), -1, now());
        assert!(r.warnings[0].len() < 400 && r.warnings[0].contains("500 characters"));
    }

    #[test]
    fn tokens_of_other_types() {
        let text = |v: Value| token_text(&v).map(|(t, _)| t);
        assert_eq!(text(Value::Missing), Ok(None));
        assert_eq!(text(Value::from("2024-01-02T03:04:05Z")), Ok(Some("2024-01-02T03:04:05Z".into())));
        assert_eq!(text(Value::Date(1_718_000_000_000.0)), Ok(Some("2024-06-10T06:13:20.000Z".into())));
        // Seconds below 1e11, milliseconds from 1e11 up.
        assert_eq!(text(Value::Number(1_718_000_000.0)), Ok(Some("2024-06-10T06:13:20.000Z".into())));
        assert_eq!(text(Value::Number(1_718_000_000_000.0)), Ok(Some("2024-06-10T06:13:20.000Z".into())));
        assert_eq!(text(Value::Number(99_999_999_999.0)), Ok(Some("5138-11-16T09:46:39.000Z".into())));
        assert_eq!(text(Value::Number(100_000_000_000.0)), Ok(Some("1973-03-03T09:46:40.000Z".into())));
        assert_eq!(text(Value::Number(0.0)), Ok(Some("1970-01-01T00:00:00.000Z".into())));
        assert_eq!(text(Value::BigInt("1718000000".into())), Ok(Some("2024-06-10T06:13:20.000Z".into())));
        let (_, note) = token_text(&Value::Number(1_718_000_000.0)).expect("ok");
        assert!(note.is_some_and(|n| n.contains("read as seconds") && n.contains("1718000000")));
        for bad in [
            Value::Bool(true),
            Value::Other("object"),
            Value::Other("array"),
            Value::Date(f64::NAN),
            Value::Number(f64::NAN),
            Value::Number(1e300),
            Value::BigInt("99999999999999999999999999999".into()),
        ] {
            assert!(token_text(&bad).is_err(), "{bad:?}");
        }
        let e = token_text(&Value::Other("object")).expect_err("refused");
        assert!(e.starts_with("is an object, not a date"), "{e}");
        // Every accepted form reads back as a date.
        for v in [Value::Date(0.0), Value::Number(1.5e9), Value::Number(1.5e12)] {
            let t = text(v).ok().flatten().unwrap_or_default();
            assert!(parse_token(&t).is_some(), "{t}");
        }
    }

    #[test]
    fn a_token_holding_the_password_is_not_quoted() {
        let pw = "Tok-\"pw\\\tz";
        let mut red = Redactor::default();
        red.add(pw);
        for token in [pw.to_string(), format!("2024-{pw}"), format!("{pw:?}")] {
            let r = resolve_with(Some(&token), -1, now(), &red);
            assert_eq!(r.source, Source::InvalidToken);
            let w = r.warnings.concat();
            assert!(w.contains("not shown") && !w.contains("Tok-"), "{w}");
        }
    }

    #[test]
    fn offsets_are_whole_days() {
        let token = Some("2018-06-13T18:31:41Z");
        let cases = [
            (-1, "2018-06-12T18:31:41Z"),
            (0, "2018-06-13T18:31:41Z"),
            (-7, "2018-06-06T18:31:41Z"),
            (1, "2018-06-14T18:31:41Z"),
            (-3650, "2008-06-15T18:31:41Z"),
        ];
        for (off, want) in cases {
            let r = resolve(token, off, now());
            assert_eq!(r.source, Source::FromToken);
            assert_eq!(format(r.value), want, "offset {off}");
            assert!(r.warnings.is_empty());
        }
        assert_eq!(format(resolve(None, -7, now()).value), "1970-01-03T00:00:00Z");
        assert_eq!(format(resolve(None, 1, now()).value), "1970-01-11T00:00:00Z");
        // Across a month and a leap day.
        assert_eq!(format(resolve(Some("2024-03-01"), -1, now()).value), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn never_before_1970() {
        let r = resolve(None, -30, now());
        assert_eq!(format(r.value), "1970-01-01T00:00:00Z");
        assert_eq!(r.source, Source::FirstRun);
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(format(resolve(None, -9, now()).value), "1970-01-01T00:00:00Z");
        let r = resolve(None, i64::MIN, now());
        assert_eq!(r.value, first_run_default());
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn future_token_is_used_but_warns() {
        let r = resolve(Some("2024-06-03T00:00:00Z"), -1, now());
        assert_eq!(r.source, Source::FromToken);
        assert_eq!(format(r.value), "2024-06-02T00:00:00Z");
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("later than the current time"));
        assert!(r.warnings[0].contains("2024-06-03T00:00:00Z"));
        // Exactly now is not in the future.
        assert!(resolve(Some("2024-06-01T12:00:00Z"), -1, now()).warnings.is_empty());
    }

    #[test]
    fn format_is_utc_seconds() {
        assert_eq!(format(utc("2024-01-02T03:04:05.678+01:00")), "2024-01-02T02:04:05Z");
        assert_eq!(format(DateTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn substitute_replaces_every_placeholder() {
        let t = "https://q.example/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>";
        assert_eq!(
            substitute(t, "2024-01-02T00:00:00Z"),
            "https://q.example/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=2024-01-02T00:00:00Z"
        );
        let two = "https://q.example/?a=<LastRunTime>&b=<LastRunTime>";
        assert_eq!(
            substitute(two, "1970-01-09T00:00:00Z"),
            "https://q.example/?a=1970-01-09T00:00:00Z&b=1970-01-09T00:00:00Z"
        );
        let none = "https://q.example/?action=list&vm_scan_since=2024-01-01";
        assert_eq!(substitute(none, "2024-01-02T00:00:00Z"), none);
        // Case-sensitive and exact.
        let odd = "https://q.example/?a=<lastruntime>&b=<LastRunTime >&c=LastRunTime";
        assert_eq!(substitute(odd, "2024-01-02T00:00:00Z"), odd);
        // Defensive encoding.
        assert_eq!(
            substitute("?a=<LastRunTime>", "2024-01-02 00:00:00+01&x=y"),
            "?a=2024-01-02%2000:00:00%2B01%26%78%3D%79"
        );
    }

    #[test]
    fn end_to_end_with_the_seed_default() {
        let t = "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&status=Active,New,Fixed,Re-Opened&vm_scan_since=<LastRunTime>";
        let r = resolve(Some("2018-06-13T18:31:41Z"), -1, now());
        assert_eq!(
            substitute(t, &format(r.value)),
            "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&status=Active,New,Fixed,Re-Opened&vm_scan_since=2018-06-12T18:31:41Z"
        );
    }
}

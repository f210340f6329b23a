//! Values as a JavaScript host hands them over (a Custom Parameter or a token that is not a
//! string), and the one place that turns them into the text the feed reads.
//!
//! In scope: the types a host can pass ([`Value`]), and converting a Custom Parameter value to its
//! text unambiguously ([`Value::param_text`]): a number to its decimal digits (integers without an
//! exponent or `.0`; NaN and Infinity refused), a boolean to `true`/`false`, a bigint to its digits,
//! a Date to its ISO time, `null`/`undefined` to "not given"; anything else (object, array,
//! function, symbol) is refused with a message that names the type, never the value. Reading the
//! LastRunTime token is [`crate::last_run_time::token_text`]. Out of scope: reading JavaScript
//! values (the wasm boundary only tells the types apart, in `crate::wasm`) and validating the text
//! (`crate::params`).

use std::fmt;

use chrono::{DateTime, Datelike, Timelike};

/// A value as the host passed it. `Debug` shows only the type: a value may be the password.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// `null` or `undefined`: not given.
    Missing,
    /// A string.
    Text(String),
    /// A number (any f64, NaN and the infinities included).
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A bigint, as its decimal digits (a leading `-` when negative).
    BigInt(String),
    /// A Date (of any realm), as milliseconds since 1970-01-01T00:00:00Z; NaN for an invalid Date.
    Date(f64),
    /// Anything else, by type: `"object"`, `"array"`, `"function"`, `"symbol"`, ...
    Other(&'static str),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value({})", self.type_name())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Self {
        s.map_or(Value::Missing, Value::from)
    }
}

impl Value {
    /// The type in an admin's words, with its article: "a number", "an object", ...
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Missing => "not given",
            Value::Text(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::BigInt(_) => "a bigint",
            Value::Date(_) => "a Date",
            Value::Other("object") => "an object",
            Value::Other("array") => "an array",
            Value::Other("function") => "a function",
            Value::Other("symbol") => "a symbol",
            Value::Other(_) => "a value that could not be read",
        }
    }

    /// The text of a Custom Parameter value: `Ok(None)` when not given, `Err` (what is wrong, never
    /// the value) for a type that has no unambiguous text.
    pub fn param_text(&self) -> Result<Option<String>, String> {
        match self {
            Value::Missing => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            Value::BigInt(digits) => Ok(Some(digits.clone())),
            Value::Number(n) => number_text(*n).map(Some),
            Value::Date(ms) => date_text(*ms).map(Some),
            Value::Other(_) => Err(format!(
                "is {}, which has no value as text; give the value as text (numbers and true/false are accepted too)",
                self.type_name()
            )),
        }
    }
}

/// A number's decimal text: `500`, `-1`, `0.5`; never an exponent, never `500.0`, `-0` is `0`.
pub fn number_text(n: f64) -> Result<String, String> {
    if !n.is_finite() {
        return Err("is a number that is not finite (NaN or Infinity); give a plain number".to_string());
    }
    if n == 0.0 {
        return Ok("0".to_string());
    }
    // Rust's Display of f64 is the shortest text that reads back as the same number, with no
    // exponent and no ".0" for integers.
    Ok(format!("{n}"))
}

/// A Date's ISO time, `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub fn date_text(ms: f64) -> Result<String, String> {
    if !ms.is_finite() {
        return Err("is an invalid Date".to_string());
    }
    // An f64 of milliseconds outside the i64 range saturates, and chrono then refuses it.
    let d = DateTime::from_timestamp_millis(ms.round() as i64)
        .ok_or_else(|| "is a Date out of the range this feed handles".to_string())?;
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.timestamp_subsec_millis()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_convert_unambiguously() {
        for (n, text) in [
            (500.0, "500"),
            (-1.0, "-1"),
            (0.0, "0"),
            (-0.0, "0"),
            (0.5, "0.5"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (9007199254740993.0, "9007199254740992"),
            (64.0, "64"),
        ] {
            assert_eq!(Value::Number(n).param_text(), Ok(Some(text.to_string())), "{n}");
        }
        for n in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let e = Value::Number(n).param_text().expect_err("refused");
            assert!(e.contains("not finite"), "{e}");
        }
    }

    #[test]
    fn booleans_bigints_dates_and_missing() {
        assert_eq!(Value::Bool(true).param_text(), Ok(Some("true".into())));
        assert_eq!(Value::Bool(false).param_text(), Ok(Some("false".into())));
        assert_eq!(
            Value::BigInt("-12345678901234567890".into()).param_text(),
            Ok(Some("-12345678901234567890".into()))
        );
        assert_eq!(Value::Date(1_718_000_000_123.0).param_text(), Ok(Some("2024-06-10T06:13:20.123Z".into())));
        assert!(Value::Date(f64::NAN).param_text().is_err());
        assert!(Value::Date(1e300).param_text().is_err());
        assert_eq!(Value::Missing.param_text(), Ok(None));
        assert_eq!(Value::from(Some("x")).param_text(), Ok(Some("x".into())));
        assert_eq!(Value::from(None).param_text(), Ok(None));
    }

    #[test]
    fn other_types_name_the_type_never_the_value() {
        for (v, name) in [
            (Value::Other("object"), "an object"),
            (Value::Other("array"), "an array"),
            (Value::Other("function"), "a function"),
            (Value::Other("symbol"), "a symbol"),
            (Value::Other("unreadable"), "a value that could not be read"),
        ] {
            let e = v.param_text().expect_err("refused");
            assert!(e.starts_with(&format!("is {name},")), "{e}");
        }
        assert_eq!(format!("{:?}", Value::Text("Secret-Pw".into())), "Value(a string)");
    }
}

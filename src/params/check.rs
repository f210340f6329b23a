//! The checks behind the Custom Parameters' validation: quoting values safely, "missing" and
//! unknown-key messages, whole numbers in range, the proxy URL and XML names.
//!
//! In scope: one rule per function, each returning the admin-facing text of a problem. Out of
//! scope: which parameter gets which check (the table, `super::table`) and collecting the problems
//! into one error (`super::validate`).

use std::collections::BTreeMap;

use super::table::PARAMS;
use super::Proxy;
use crate::secret::Redactor;
use crate::url::Url;

/// Collects `<key>: <message>` lines.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<String>);

impl Problems {
    pub(super) fn add(&mut self, key: &str, message: impl AsRef<str>) {
        self.0.push(format!("{key}: {}", message.as_ref()));
    }
}

/// An integer parameter's default and inclusive range (from the table).
pub(super) struct IntSpec {
    pub(super) default: i64,
    pub(super) min: i64,
    pub(super) max: i64,
}

/// "missing" or "empty", noting a key that differs only in case.
pub(super) fn missing(map: &BTreeMap<&str, &str>, key: &str, red: &Redactor) -> String {
    let base = if map.contains_key(key) { "is empty" } else { "missing" };
    match map.keys().find(|k| **k != key && k.trim().eq_ignore_ascii_case(key)) {
        Some(other) => format!(
            "{base} (a key {} was given: keys are case-sensitive and cannot include spaces; rename it to {key})",
            shown_key(other, red)
        ),
        None => base.to_string(),
    }
}

pub(super) fn unknown_key_warning(key: &str, red: &Redactor) -> String {
    let shown = shown_key(key, red);
    let trimmed = key.trim();
    let known = || PARAMS.iter().map(|p| p.key);
    if let Some(k) = known().find(|k| *k == trimmed) {
        return format!("{shown}: unknown parameter, ignored; remove the extra spaces around the key to get {k}");
    }
    if let Some(k) = known().find(|k| k.eq_ignore_ascii_case(trimmed)) {
        return format!("{shown}: unknown parameter, ignored; did you mean {k}? keys are case-sensitive");
    }
    let lower = trimmed.to_ascii_lowercase();
    let close = known()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), k))
        .filter(|(d, k)| *d <= 2 && k.len() > 4)
        .min_by_key(|(d, _)| *d);
    match close {
        Some((_, k)) => format!("{shown}: unknown parameter, ignored; did you mean {k}?"),
        None => format!("{shown}: unknown parameter, ignored"),
    }
}

/// Levenshtein distance over chars (keys are short).
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Values longer than this are never quoted in a message.
const MAX_SHOWN_CHARS: usize = 40;

/// A value (or key) quoted for a message, escaped, when it cannot hold a secret: it is short and
/// holds neither password in any form, nor is a piece of one. Otherwise a phrase saying it is not
/// shown (the message still names the key).
pub(super) fn shown(v: &str, red: &Redactor) -> String {
    shown_as(v, red, "the value")
}

/// Like [`shown`], for a key name.
pub(super) fn shown_key(k: &str, red: &Redactor) -> String {
    shown_as(k, red, "a key")
}

fn shown_as(v: &str, red: &Redactor, what: &str) -> String {
    if v.chars().count() > MAX_SHOWN_CHARS || red.reveals(v) {
        format!("{what} (not shown: it is long or may hold a password)")
    } else {
        format!("{v:?}")
    }
}

fn range_text(spec: &IntSpec) -> String {
    format!("use a whole number from {} to {} (default {})", spec.min, spec.max, spec.default)
}

/// A plain decimal integer within the spec's range. A leading `-` only where the range allows
/// negatives; no `+`, spaces, decimals, exponents or thousands separators.
pub(super) fn parse_int(v: &str, spec: &IntSpec, red: &Redactor) -> Result<i64, String> {
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) if spec.min < 0 => (true, rest),
        _ => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{} is not a whole number; {}", shown(v, red), range_text(spec)));
    }
    let significant = digits.trim_start_matches('0');
    let out_of_range = || format!("{} is out of range; {}", shown(v, red), range_text(spec));
    if significant.len() > 18 {
        return Err(out_of_range());
    }
    let magnitude: i64 = if significant.is_empty() { 0 } else { significant.parse().map_err(|_| out_of_range())? };
    let n = if negative { -magnitude } else { magnitude };
    if n < spec.min || n > spec.max {
        return Err(out_of_range());
    }
    Ok(n)
}

pub(super) fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

pub(super) fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

const PROXY_FORM: &str = "write it as http://host:port or http://user:password@host:port";

/// Parses the `proxy` value. Messages never quote it (it may hold a password).
pub(super) fn parse_proxy(v: &str) -> Result<Proxy, String> {
    let (url, username, password) = Url::parse_proxy(v).map_err(|why| format!("{why}; {PROXY_FORM}"))?;
    if url.is_https() {
        return Err(format!("only http:// proxies are supported (the connection to Qualys through the proxy is still encrypted end to end); {PROXY_FORM}"));
    }
    if url.explicit_port().is_none() {
        return Err(format!("the proxy port is missing; {PROXY_FORM} (e.g. http://proxy.example.com:8080)"));
    }
    if url.path() != "/" || url.has_query() {
        return Err(format!("a proxy URL has no path or query; {PROXY_FORM}"));
    }
    Ok(Proxy { url, username, password })
}

/// An XML element name without a namespace prefix, not in the reserved `xml...` space.
pub(super) fn check_xml_name(name: &str) -> Result<(), &'static str> {
    if name.chars().count() > 200 {
        return Err("is longer than 200 characters");
    }
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("is empty");
    };
    if !(first.is_ascii_alphabetic() || first == '_' || (!first.is_ascii() && first.is_alphabetic())) {
        return Err("is not a valid XML element name (it must start with a letter or '_')");
    }
    if name.contains(':') {
        return Err("is not a valid XML element name here (no ':' namespace prefixes)");
    }
    if !chars
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || (!c.is_ascii() && c.is_alphanumeric()))
    {
        return Err("is not a valid XML element name (it contains a character not allowed in names)");
    }
    if name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml")) {
        return Err("is not allowed: names starting with 'xml' are reserved by XML");
    }
    Ok(())
}

//! A string that must never be printed: the Qualys password and the proxy password.
//!
//! In scope: holding the value, handing it out explicitly with [`Secret::expose`] at the one place
//! that needs it (building the `Authorization` header), and printing `***` from both `Debug` and
//! `Display`, so a `{:?}` of a whole configuration can never leak it; and the last line of
//! defence, [`Redactor`]: every written form of the secrets (raw, escaped as Rust `Debug` or JSON
//! or by [`crate::text`], percent-encoded in upper or lower hex or form style, base64 of the
//! password and of `user:password`), masked in any text the core emits, and the test "may this
//! value be echoed" ([`Redactor::reveals`]) that keeps messages from quoting them in the first
//! place. Out of scope: encryption, zeroing memory on drop (the value also lives in the host's
//! JavaScript strings, so wiping our copy would promise more than it gives), and serialisation
//! (there is deliberately no serde impl).
//!
//! **Short secrets.** A secret shorter than [`MIN_SCRUB_CHARS`] characters is not searched for in
//! free text (masking every `0` of a log because the password is `0` would only garble it); such a
//! value is kept out of messages structurally: nothing that contains it is ever echoed.

use std::fmt;

/// A secret string. `Debug` and `Display` print `***`, never the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself. Call this only where the value is really sent (the auth header), never to
    /// build a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is the empty string (safe to ask: reveals nothing else).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Secrets shorter than this many characters are not masked inside free text (see the module doc).
pub const MIN_SCRUB_CHARS: usize = 4;

/// The written forms of a run's secrets, for keeping them out of log lines, errors and summaries.
/// `Debug` shows only how many secrets it holds.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// Every form of every secret (any length), for [`Redactor::reveals`].
    all: Vec<String>,
    /// The forms of secrets at least [`MIN_SCRUB_CHARS`] long, longest first, for [`Redactor::scrub`].
    long: Vec<String>,
    /// The raw secrets (at least 4 characters), to spot a value that is part of one.
    raw: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.all.len())
    }
}

impl Redactor {
    /// Adds a secret (and, when it has surrounding spaces, its trimmed form).
    pub fn add(&mut self, secret: &str) {
        for v in [secret, secret.trim()] {
            if v.is_empty() {
                continue;
            }
            let long = v.chars().count() >= MIN_SCRUB_CHARS;
            if v.chars().count() >= 4 && !self.raw.iter().any(|r| r == v) {
                self.raw.push(v.to_string());
            }
            for form in forms(v) {
                self.push_form(form, long);
            }
        }
    }

    /// Adds the Basic-authentication forms of `user:password` (base64, with and without padding).
    pub fn add_basic(&mut self, user: &str, password: &str) {
        if password.is_empty() {
            return;
        }
        let long = password.chars().count() >= MIN_SCRUB_CHARS;
        let pair = format!("{user}:{password}");
        for form in base64_forms(pair.as_bytes()) {
            self.push_form(form, long);
        }
    }

    fn push_form(&mut self, form: String, long: bool) {
        if form.is_empty() {
            return;
        }
        if long && !self.long.contains(&form) {
            // Longest first, so a form containing another is masked whole. (Inserted in place: a
            // sort would pull tens of kB of sorting code into the wasm build.)
            let at = self.long.iter().position(|f| f.len() < form.len()).unwrap_or(self.long.len());
            self.long.insert(at, form.clone());
        }
        if !self.all.contains(&form) {
            self.all.push(form);
        }
    }

    /// Whether `text` may not be echoed: it contains a secret in any form (however short the
    /// secret), or is itself a piece (4 characters or more) of a secret.
    pub fn reveals(&self, text: &str) -> bool {
        if text.is_empty() {
            return false;
        }
        self.all.iter().any(|f| text.contains(f.as_str()))
            || (text.chars().count() >= 4 && self.raw.iter().any(|r| r.contains(text)))
    }

    /// Whether `text` holds a form of a secret of [`MIN_SCRUB_CHARS`] characters or more (what
    /// [`Redactor::scrub`] would mask): used where text is masked, not merely kept from being echoed.
    pub fn contains_long(&self, text: &str) -> bool {
        self.long.iter().any(|f| text.contains(f.as_str()))
    }

    /// `text` with every form of every secret of [`MIN_SCRUB_CHARS`] characters or more replaced
    /// by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out: Option<String> = None;
        for f in &self.long {
            let cur = out.as_deref().unwrap_or(text);
            if cur.contains(f.as_str()) {
                out = Some(cur.replace(f.as_str(), "***"));
            }
        }
        out.unwrap_or_else(|| text.to_string())
    }
}

/// The forms a secret may take in text (see the module doc).
fn forms(secret: &str) -> Vec<String> {
    let debug = format!("{secret:?}");
    let mut out = vec![
        secret.to_string(),
        debug.get(1..debug.len().saturating_sub(1)).unwrap_or("").to_string(),
        json_escape(secret),
        crate::text::render(secret, usize::MAX),
    ];
    // Percent-encodings: which characters stay literal differs between encoders (only letters and
    // digits, RFC 3986 unreserved, JavaScript's encodeURIComponent, this crate's query encoder,
    // only non-ASCII).
    let sets: [fn(u8) -> bool; 5] = [
        |b| b.is_ascii_alphanumeric(),
        |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'),
        |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'!' | b'\'' | b'(' | b')' | b'*'),
        |b| b.is_ascii_alphanumeric() || matches!(b, b',' | b':' | b'-' | b'.' | b'_' | b'~'),
        |b| b.is_ascii(),
    ];
    for keep in sets {
        for upper in [true, false] {
            for plus in [false, true] {
                out.push(percent(secret, keep, upper, plus));
            }
        }
    }
    // base64 of a very short value is two or three letters that occur everywhere.
    if secret.chars().count() >= 4 {
        out.extend(base64_forms(secret.as_bytes()));
    }
    // Duplicates are dropped by `push_form`.
    out
}

fn percent(s: &str, keep: fn(u8) -> bool, upper: bool, plus_for_space: bool) -> String {
    let hex: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if plus_for_space && b == b' ' {
            out.push('+');
        } else if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(hex[usize::from(b >> 4)]));
            out.push(char::from(hex[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// JSON string escaping as `JSON.stringify` writes it (without the quotes).
fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Standard and URL-safe base64, with and without padding.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    let std = crate::request::base64(bytes);
    let unpadded = std.trim_end_matches('=').to_string();
    let url_safe = std.replace('+', "-").replace('/', "_");
    let url_unpadded = url_safe.trim_end_matches('=').to_string();
    vec![std, unpadded, url_safe, url_unpadded]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expose_returns_the_value() {
        let s = Secret::new("Hunter2!");
        assert_eq!(s.expose(), "Hunter2!");
        assert!(!s.is_empty());
        assert!(Secret::new("").is_empty());
        assert_eq!(Secret::from("x".to_string()), Secret::from("x"));
    }

    /// Forms written independently of `forms()`, as other code would produce them.
    fn written_forms(pw: &str, user: &str) -> Vec<String> {
        let b64 = |s: &str| crate::request::base64(s.as_bytes());
        vec![
            pw.to_string(),
            format!("{pw:?}").trim_matches('"').to_string(),
            pw.replace('\\', "\\\\").replace('"', "\\\"").replace('\t', "\\t"),
            crate::url::encode_query_component(pw),
            b64(pw),
            b64(&format!("{user}:{pw}")),
        ]
    }

    #[test]
    fn the_redactor_masks_every_form_and_leaves_the_rest() {
        let pw = "Pw-\"q\\\tx%!+ é€Z9";
        let mut red = Redactor::default();
        red.add(pw);
        red.add_basic("alice", pw);
        for form in written_forms(pw, "alice") {
            let text = format!("before {form} after");
            let masked = red.scrub(&text);
            assert_eq!(masked, "before *** after", "{form:?}");
            assert!(red.reveals(&text));
        }
        // Lower-case hex and form style (space as +) too.
        let lower = "Pw-%22q%5c%09x%25%21%2b+%c3%a9%e2%82%acZ9";
        assert_eq!(red.scrub(lower), "***");
        assert_eq!(
            red.scrub("nothing to see: 2024-01-01T00:00:00Z records=30"),
            "nothing to see: 2024-01-01T00:00:00Z records=30"
        );
        assert!(!red.reveals("500"));
        assert!(red.reveals("Pw-\"q"), "a piece of the password is not echoed either");
        assert!(!format!("{red:?}").contains("Pw"));
    }

    #[test]
    fn short_secrets_are_not_scrubbed_but_never_echoed() {
        let mut red = Redactor::default();
        red.add("0");
        assert_eq!(red.scrub("records=300 pages=10"), "records=300 pages=10", "no mangled numbers");
        assert!(red.reveals("500"), "a value containing it is not echoed");
        assert!(!red.reveals("abc"));
        let mut red = Redactor::default();
        red.add("abc");
        assert_eq!(red.scrub("abc"), "abc");
        assert!(red.reveals("xxabcxx"));
        red.add("abcd");
        assert_eq!(red.scrub("xabcdx"), "x***x");
    }

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("Hunter2!");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s:#?}"), "***");
        #[allow(dead_code)]
        #[derive(Debug)]
        struct Holder {
            password: Secret,
        }
        let shown = format!("{:?}", Holder { password: s.clone() });
        assert!(!shown.contains("Hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }
}

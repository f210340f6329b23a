//! Log-safe text: the one way text the core did not write itself is shown in a log line or an
//! error message.
//!
//! In scope: rendering a piece of outside text (a Qualys `SIMPLE_RETURN`/`GENERIC_RETURN` TEXT, a
//! `WARNING` CODE/TEXT, a parser notice quoting the document, a transport error message the shim
//! passes in, a header value) with [`server_text`]: control characters are shown escaped (`\n`,
//! `\r`, `\t`, `\u{1b}`: never a raw line break, so a server cannot forge a log line), and the
//! piece is capped at [`MAX_PIECE_CHARS`] characters with `... (N more characters)`. The whole log
//! line or error message is bounded too ([`line`], [`MAX_LINE_CHARS`]; multi-line configuration
//! reports with [`lines`]). Masking secret-bearing query values of a URL for a log line
//! ([`mask_url`]).
//!
//! Out of scope: finding the password in text (see [`crate::secret::Redactor`], applied after the
//! rendering here), and the XML output (records are escaped by `crate::xml::escape`).
//!
//! Rendering does not escape a backslash, so it is idempotent: rendering a rendered piece again
//! changes nothing (the feed renders every line once more as a last guard).

use crate::secret::Redactor;

/// At most this many characters of one piece of outside text are shown.
pub const MAX_PIECE_CHARS: usize = 300;

/// At most this many characters of one log line or one error message (one line of it).
pub const MAX_LINE_CHARS: usize = 2000;

/// At most this many lines of a multi-line message (the configuration report).
pub const MAX_LINES: usize = 60;

/// A piece of outside text for a log line or an error message: control characters escaped,
/// at most [`MAX_PIECE_CHARS`] characters (plus the `... (N more characters)` note).
pub fn server_text(s: &str) -> String {
    render(s, MAX_PIECE_CHARS)
}

/// A whole log line or one-line error message: control characters escaped, at most
/// [`MAX_LINE_CHARS`] characters (plus the note).
pub fn line(s: &str) -> String {
    render(s, MAX_LINE_CHARS)
}

/// A multi-line message (one problem per line): each line as [`line`], at most [`MAX_LINES`]
/// lines (then `... and N more lines`). Only `\n` separates lines; a `\r` is shown escaped.
pub fn lines(s: &str) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    for (i, l) in s.split('\n').enumerate() {
        if i < MAX_LINES {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&line(l));
        }
        count = i + 1;
    }
    if count > MAX_LINES {
        out.push_str(&format!("\n... and {} more lines", count - MAX_LINES));
    }
    out
}

/// Whether `c` is shown escaped: C0 and C1 controls, DEL, and the Unicode line and paragraph
/// separators (some log viewers break lines at them).
fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Escapes control characters and cuts the result at `max_chars` characters (of the output).
pub fn render(s: &str, max_chars: usize) -> String {
    // Fast path: short and clean (nearly every call).
    if s.len() <= max_chars && !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_add(40)));
    let mut shown = 0usize;
    let mut consumed_bytes = 0usize;
    for c in s.chars() {
        let piece_len = match c {
            '\n' | '\r' | '\t' => 2,
            c if needs_escape(c) => format!("\\u{{{:x}}}", u32::from(c)).len(),
            _ => 1,
        };
        if shown.saturating_add(piece_len) > max_chars {
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
        shown += piece_len;
        consumed_bytes += c.len_utf8();
    }
    let rest = s.get(consumed_bytes..).unwrap_or("");
    if !rest.is_empty() {
        out.push_str(&format!("... ({} more characters)", rest.chars().count()));
    }
    out
}

/// Query keys whose values are never shown in a log line, whatever they hold.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "authorization",
];

/// A URL (or URL template) for a log line: the value of every query parameter that is
/// secret-bearing (a key such as `password` or `token`, or a value holding one of `redactor`'s
/// secrets of `MIN_SCRUB_CHARS` characters or more, in any form) becomes `***`. Works on the text, so a template with `<LastRunTime>`
/// needs no parsing. The rest is kept as written.
pub fn mask_url(url: &str, redactor: &Redactor) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let Some(query) = query else { return url.to_string() };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(head);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((k, v)) => {
                let key = crate::url::decode_component(k).to_ascii_lowercase();
                let value = crate::url::decode_component(v);
                // By key, or by a value holding a secret long enough to search for: a short password
                // (under MIN_SCRUB_CHARS) must not mask every `0` or `1` of the URL.
                let secret =
                    SECRET_KEYS.contains(&key.as_str()) || redactor.contains_long(v) || redactor.contains_long(&value);
                out.push_str(k);
                out.push('=');
                out.push_str(if secret && !v.is_empty() { "***" } else { v });
            }
            None => out.push_str(pair),
        }
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_never_raw() {
        let forged = "oops\n2024-01-01T00:00:00Z :: INFO :: done: records=999999\r\tx\u{1b}[31m\u{85}\u{2028}";
        let r = server_text(forged);
        assert!(!r.chars().any(needs_escape), "{r}");
        assert_eq!(r, "oops\\n2024-01-01T00:00:00Z :: INFO :: done: records=999999\\r\\tx\\u{1b}[31m\\u{85}\\u{2028}");
        // Unrelated text is kept as it is, backslashes included.
        assert_eq!(server_text("C:\\path é ✓"), "C:\\path é ✓");
    }

    #[test]
    fn pieces_and_lines_are_capped_with_a_count() {
        let big = "x".repeat(50 * 1024 * 1024);
        let r = server_text(&big);
        assert!(r.starts_with(&"x".repeat(MAX_PIECE_CHARS)), "keeps the start");
        assert!(r.ends_with(&format!("... ({} more characters)", big.len() - MAX_PIECE_CHARS)), "{}", &r[290..]);
        assert!(r.chars().count() < MAX_PIECE_CHARS + 40);
        let l = line(&big);
        assert!(l.chars().count() < MAX_LINE_CHARS + 40);
        // Escapes count towards the cap; a multi-byte character is never cut.
        let r = render(&"\n".repeat(10), 5);
        assert_eq!(r, "\\n\\n... (8 more characters)");
        let r = render("ééééé", 3);
        assert_eq!(r, "ééé... (2 more characters)");
    }

    #[test]
    fn rendering_is_idempotent() {
        for s in ["plain", "a\nb\\n", &"y\t".repeat(400), "\u{7f}\u{9f}"] {
            let once = line(s);
            assert_eq!(line(&once), once, "{s:?}");
            let piece = server_text(s);
            assert_eq!(line(&piece), piece);
        }
    }

    #[test]
    fn multi_line_messages_keep_their_lines_but_are_bounded() {
        assert_eq!(lines("a\nb\rc"), "a\nb\\rc");
        let many: Vec<String> = (0..100).map(|i| format!("k{i}: bad")).collect();
        let r = lines(&many.join("\n"));
        assert_eq!(r.lines().count(), MAX_LINES + 1);
        assert!(r.ends_with("... and 40 more lines"), "{r}");
    }

    #[test]
    fn urls_lose_secret_query_values_only() {
        let mut red = Redactor::default();
        red.add("Hunter2-secret");
        let u = "https://q.example/api/5.0/fo/asset/host/?action=list&password=x&vm_scan_since=<LastRunTime>&note=Hunter2-secret&n2=Hunter2%2Dsecret&Token=t#frag";
        assert_eq!(
            mask_url(u, &red),
            "https://q.example/api/5.0/fo/asset/host/?action=list&password=***&vm_scan_since=<LastRunTime>&note=***&n2=***&Token=***#frag"
        );
        assert_eq!(mask_url("https://q.example/", &red), "https://q.example/");
    }
}

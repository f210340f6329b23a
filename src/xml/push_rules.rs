//! The rules of [`super::PushReader`] that need no reader state: UTF-8 tails, where a cut token
//! waits, which text may be committed, entity references, attribute decoding, XML whitespace and
//! names, and the texts of its errors and notices.
//!
//! In scope: pure functions over bytes and text. Out of scope: the reader's state (`super`).

use super::*;

/// How many bytes at the end of `b` are the start of a UTF-8 sequence that the next chunk may
/// complete (0 when the end is complete, or invalid in a way no later byte fixes).
pub(super) fn incomplete_utf8_tail(b: &[u8]) -> usize {
    for back in 1..=b.len().min(3) {
        let Some(&c) = b.get(b.len() - back) else { return 0 };
        if c & 0xC0 == 0x80 {
            continue;
        }
        let need = match c {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return 0,
        };
        return if need > back { back } else { 0 };
    }
    0
}

/// What [`PushReader::process`] does after a token.
pub(super) enum Step {
    /// Go on at this buffer position.
    Next(usize),
    /// Stop: this many bytes of the buffer are committed.
    Done(usize),
}

/// Where a cut token can still end; `None` when no safe shortcut exists (then each push reparses).
pub(super) fn wait_for(tail: &[u8]) -> Option<Wait> {
    // A token ending in '>' may be complete but malformed: let the next push reparse it.
    if tail.len() <= 2 || tail.ends_with(b">") {
        return None;
    }
    let (terminator, from): (&'static [u8], usize) = if tail.starts_with(b"<![CDATA[") {
        (b"]]>", 9)
    } else if tail.starts_with(b"<!--") {
        (b"-->", 4)
    } else {
        (b">", 1)
    };
    Some(Wait { terminator, from, scanned: tail.len() })
}

pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    match needle {
        [] => true,
        [b] => haystack.contains(b),
        _ => haystack.windows(needle.len()).any(|w| w == needle),
    }
}

/// How much of a text event cut by the buffer end can be committed now.
pub(super) fn committable_tail_text(raw: &str) -> usize {
    if let Some(name) = raw.strip_prefix('&') {
        // `&name` may still become `&name;`: wait, unless it can no longer be a reference.
        if name.len() <= MAX_REF_NAME && name.bytes().all(is_reference_byte) {
            return 0;
        }
    }
    if raw.ends_with('\r') {
        raw.len() - 1
    } else {
        raw.len()
    }
}

pub(super) fn is_reference_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'#' | b'_' | b'-' | b'.' | b':')
}

/// Whether `name` (between `&` and `;`) looks like a reference at all. Anything else is a stray `&`.
pub(super) fn is_reference_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_REF_NAME && name.bytes().all(is_reference_byte)
}

/// The character a reference stands for: the five predefined entities and numeric references.
pub(super) fn resolve_reference(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#')?;
            let (digits, radix) = match number.strip_prefix('x') {
                Some(hex) => (hex, 16),
                None => (number, 10),
            };
            if digits.is_empty() || digits.len() > 10 || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            let code = u32::from_str_radix(digits, radix).ok()?;
            if code == 0 {
                return None;
            }
            char::from_u32(code)
        }
    }
}

/// Decodes an attribute value into `out`: references resolved, whitespace characters normalised to
/// spaces (XML attribute-value normalisation; a `\r\n` pair becomes one space).
pub(super) fn decode_attribute_into(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '\r', '\n', '\t']) {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i..).unwrap_or("");
        if let Some(tail) = after.strip_prefix("\r\n") {
            out.push(' ');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('&') {
            let end = tail.find(';').filter(|&e| e <= MAX_REF_NAME + 1);
            match end.and_then(|e| tail.get(..e).map(|name| (e, name))) {
                Some((e, name)) => match resolve_reference(name) {
                    Some(c) => {
                        out.push(c);
                        rest = tail.get(e + 1..).unwrap_or("");
                    }
                    None => {
                        out.push('&');
                        rest = tail;
                    }
                },
                None => {
                    out.push('&');
                    rest = tail;
                }
            }
        } else {
            out.push(' ');
            rest = after.get(1..).unwrap_or("");
        }
    }
    out.push_str(rest);
}

/// Appends a text piece with XML 1.0 line-end normalisation (`\r\n` and lone `\r` become `\n`).
/// Leading whitespace of an element's text (`at_start`: nothing appended yet) is dropped as it
/// arrives (it is trimmed at close anyway). Returns whether the appended text is verbatim (needs
/// no escaping; a normalised piece is counted as not verbatim, which only means it is escaped
/// when written).
#[inline]
pub(super) fn append_text(dst: &mut String, piece: &str, at_start: bool) -> bool {
    let piece = if at_start { trim_xml_start(piece) } else { piece };
    let scan = escape::scan_text(piece);
    if !scan.has_cr {
        dst.push_str(piece);
        return scan.verbatim;
    }
    let mut chars = piece.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            dst.push('\n');
        } else {
            dst.push(c);
        }
    }
    false
}

pub(super) fn is_xml_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub(super) fn is_blank(s: &str) -> bool {
    s.bytes().all(is_xml_whitespace_byte)
}

pub(super) fn trim_xml_start(s: &str) -> &str {
    // Whitespace bytes are ASCII, so the first other byte starts a character.
    let start = s.bytes().position(|b| !is_xml_whitespace_byte(b)).unwrap_or(s.len());
    s.get(start..).unwrap_or_default()
}

/// An element's text as stored: without surrounding whitespace. (Leading whitespace of a text
/// piece is dropped as it arrives, see [`append_text`], but a reference such as `&#10;` may
/// still start the text.)
pub(super) fn trim_xml(s: &str) -> &str {
    s.trim_matches(is_xml_whitespace)
}

/// `Some(is_ascii)` for a valid element name, `None` for an invalid one. All-ASCII names (every
/// name Qualys uses) are checked with the tokenizer's table; others go through [`is_valid_name`].
#[inline]
pub(super) fn name_kind(name: &str) -> Option<bool> {
    if is_ascii_name(name.as_bytes()) {
        return Some(true);
    }
    is_valid_name(name).then_some(name.is_ascii())
}

/// Element names must start with a letter, `_` or `:` and hold no markup characters.
pub(super) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.') || (!c.is_ascii() && !c.is_whitespace()))
}

pub(super) fn not_xml(snippet: &str) -> Error {
    Error::server(
        ErrorCode::NotXml,
        false,
        format!(
            "the response is not XML: it starts with text instead of an element: \"{}\"",
            snippet.chars().take(SNIPPET_CHARS).collect::<String>()
        ),
    )
}

pub(super) fn invalid_utf8_notice() -> String {
    "the response contained bytes that are not valid UTF-8; they were replaced with U+FFFD (\u{FFFD})".to_string()
}

/// A name for a message, cut to a sane length.
pub(super) fn shorten(name: &str) -> String {
    const MAX: usize = 64;
    if name.chars().count() <= MAX {
        name.to_string()
    } else {
        let mut s: String = name.chars().take(MAX).collect();
        s.push_str("...");
        s
    }
}

pub(super) fn describe_bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

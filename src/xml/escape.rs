//! Escaping text and attribute values for XML output, and telling text that needs none.
//!
//! In scope: the one escaping policy of the project's output: `&`, `<`, `>` (and `"` plus tab, LF
//! and CR in attribute values) as references, characters above U+007F as numeric character
//! references (output is ASCII), characters XML 1.0 forbids as `&#65533;` (counted). Out of scope:
//! where escaped text goes (see `crate::output`) and decoding (see `push_reader`).
//!
//! [`is_verbatim`] says whether [`escape_into`] would copy a text unchanged: the parse tree uses it
//! to keep leaves whose text needs no escaping in their final serialised form (see
//! `crate::xml::tree`), so that writing them is a copy.

use super::words::{self, HIGH, LOW};

/// Whether XML 1.0 allows this character in content.
pub fn xml_char_ok(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Bytes copied as they are: printable ASCII except `&`, `<`, `>`, plus tab/LF/CR in text (in
/// attribute values those three and `"` are escaped).
const fn plain_table(attr: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x80 {
        t[b] = true;
        b += 1;
    }
    t[b'&' as usize] = false;
    t[b'<' as usize] = false;
    t[b'>' as usize] = false;
    if attr {
        t[b'"' as usize] = false;
    } else {
        t[b'\t' as usize] = true;
        t[b'\n' as usize] = true;
        t[b'\r' as usize] = true;
    }
    t
}
const PLAIN_TEXT: [bool; 256] = plain_table(false);
const PLAIN_ATTR: [bool; 256] = plain_table(true);

/// Escapes in one pass, copying runs of plain bytes whole. The output is pure ASCII: characters
/// above U+007F become numeric references (`&#233;`), which is the same XML to any parser and lets
/// JavaScript hosts build compact one-byte strings (see bench/PROFILE.md). Characters XML 1.0
/// forbids become `&#65533;` (U+FFFD) and are counted.
pub fn escape_into(s: &str, attr: bool, out: &mut String) -> u64 {
    let table = if attr { &PLAIN_ATTR } else { &PLAIN_TEXT };
    let bytes = s.as_bytes();
    let mut replaced = 0;
    let mut run = 0;
    let mut i = 0;
    loop {
        // A word that may hold a byte needing care is walked byte by byte (to its end, so it is
        // not tested twice).
        i = skip_plain_words(bytes, i, attr);
        let stop = (i + 8).min(bytes.len());
        if i >= stop {
            break;
        }
        while let Some(&b) = bytes.get(i).filter(|_| i < stop) {
            if table[usize::from(b)] {
                i += 1;
                continue;
            }
            // `i` is a character boundary: plain bytes are ASCII and multi-byte characters are
            // skipped whole below.
            out.push_str(s.get(run..i).unwrap_or_default());
            i += match b {
                b'&' => push(out, "&amp;"),
                b'<' => push(out, "&lt;"),
                b'>' => push(out, "&gt;"),
                b'"' => push(out, "&quot;"),
                b'\t' => push(out, "&#9;"),
                b'\n' => push(out, "&#10;"),
                b'\r' => push(out, "&#13;"),
                0x80.. => match s.get(i..).and_then(|rest| rest.chars().next()) {
                    Some(c) if xml_char_ok(c) => {
                        push_char_ref(out, c);
                        c.len_utf8()
                    }
                    Some(c) => {
                        replaced += 1;
                        push(out, "&#65533;");
                        c.len_utf8()
                    }
                    None => 1,
                },
                _ => {
                    replaced += 1;
                    push(out, "&#65533;")
                }
            };
            run = i;
        }
    }
    out.push_str(s.get(run..).unwrap_or_default());
    replaced
}

/// From `i` on, skips whole eight-byte words that need no escaping; returns where the first word
/// that may need some starts (or the last, shorter-than-eight-bytes stretch).
#[inline]
fn skip_plain_words(bytes: &[u8], mut i: usize, attr: bool) -> usize {
    while let Some(word) = bytes.get(i..i + 8).and_then(words::word) {
        if may_need_escaping(word, attr) {
            break;
        }
        i += 8;
    }
    i
}

/// Whether some byte of `word` is zero (exact: no false positives or negatives).
#[inline]
fn has_zero_byte(word: u64) -> bool {
    words::zero_bytes(word) != 0
}

/// Whether one of the eight bytes in `word` may need escaping: a byte above 0x7F, below 0x20
/// (tab, LF and CR included, though text keeps them: the byte walk sorts that out), `&`, `<`,
/// `>`, and in attribute values `"`. Never false when such a byte is there.
#[inline]
fn may_need_escaping(word: u64, attr: bool) -> bool {
    let high = word & HIGH;
    // A byte below 0x20 borrows when 0x20 is subtracted from it (exact for the any-byte question
    // once bytes with the high bit set are already counted above).
    let low = word.wrapping_sub(0x20 * LOW) & !word & HIGH;
    let special = has_zero_byte(word ^ (u64::from(b'&') * LOW))
        || has_zero_byte(word ^ (u64::from(b'<') * LOW))
        || has_zero_byte(word ^ (u64::from(b'>') * LOW));
    high != 0 || low != 0 || special || (attr && has_zero_byte(word ^ (u64::from(b'"') * LOW)))
}

/// Appends `text`; returns 1 (the one input byte it stands for).
fn push(out: &mut String, text: &str) -> usize {
    out.push_str(text);
    1
}

/// Appends `&#N;` for `c` without going through `fmt`.
fn push_char_ref(out: &mut String, c: char) {
    let mut digits = [0u8; 10];
    let mut n = c as u32;
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str("&#");
    for d in &digits[k..] {
        out.push(char::from(*d));
    }
    out.push(';');
}

/// Whether `text` is element content that [`escape_into`] copies unchanged: only printable ASCII
/// other than `&`, `<`, `>`, plus tab, LF and CR.
pub fn is_verbatim(text: &str) -> bool {
    scan_text(text).verbatim
}

/// What one pass over a piece of text found (see [`scan_text`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextScan {
    /// [`is_verbatim`].
    pub verbatim: bool,
    /// Whether the text holds a CR (which XML line-end normalisation changes).
    pub has_cr: bool,
}

/// [`is_verbatim`] and whether there is a CR, in one pass (eight bytes at a time over plain text).
pub fn scan_text(text: &str) -> TextScan {
    let bytes = text.as_bytes();
    let mut has_cr = false;
    let mut i = 0;
    loop {
        i = skip_plain_words(bytes, i, false);
        let stop = (i + 8).min(bytes.len());
        let Some(word) = bytes.get(i..stop) else { break };
        if word.is_empty() {
            break;
        }
        for &b in word {
            has_cr |= b == b'\r';
            if !PLAIN_TEXT[usize::from(b)] {
                has_cr |= bytes.get(i..).unwrap_or_default().contains(&b'\r');
                return TextScan { verbatim: false, has_cr };
            }
        }
        i = stop;
    }
    TextScan { verbatim: true, has_cr }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time definition of the escaping, to check the word-at-a-time one against.
    fn escape_reference(s: &str, attr: bool) -> (String, u64) {
        let mut out = String::new();
        let mut replaced = 0;
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' if attr => out.push_str("&quot;"),
                '\t' | '\n' | '\r' if attr => out.push_str(&format!("&#{};", c as u32)),
                '\t' | '\n' | '\r' | '\u{20}'..='\u{7F}' => out.push(c),
                c if xml_char_ok(c) => out.push_str(&format!("&#{};", c as u32)),
                _ => {
                    replaced += 1;
                    out.push_str("&#65533;");
                }
            }
        }
        (out, replaced)
    }

    #[test]
    fn word_at_a_time_escaping_matches_the_definition_at_every_offset() {
        let specials = [
            "&",
            "<",
            ">",
            "\"",
            "\t",
            "\n",
            "\r",
            "\u{1}",
            "\u{7F}",
            "\u{e9}",
            "\u{2013}",
            "\u{FFFE}",
            "\u{1F600}",
            " ",
            "'",
        ];
        let mut cases = Vec::new();
        for sp in specials {
            for pos in 0..20 {
                for len in [pos + 1, 20, 33] {
                    let mut t = "a".repeat(pos);
                    t.push_str(sp);
                    while t.len() < len {
                        t.push('z');
                    }
                    cases.push(t);
                }
            }
        }
        // Pseudo-random mixes of plain and special characters.
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let mut t = String::new();
            for _ in 0..(x % 40) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let k = (x >> 16) as usize;
                if k.is_multiple_of(3) {
                    t.push_str(specials[k % specials.len()]);
                } else {
                    t.push(char::from(b'0' + (k % 75) as u8));
                }
            }
            cases.push(t);
        }
        for t in &cases {
            for attr in [false, true] {
                let mut out = String::new();
                let replaced = escape_into(t, attr, &mut out);
                assert_eq!((out, replaced), escape_reference(t, attr), "{t:?} attr={attr}");
            }
        }
    }

    #[test]
    fn text_scan_finds_every_cr() {
        for t in ["", "abc", "\r", "12345678\r", "a\rb&c", "a&b\r", "a&b", "x\u{e9}yyyyyyyyyyy\rz", "\r\n\r\n"] {
            assert_eq!(scan_text(t), TextScan { verbatim: is_verbatim(t), has_cr: t.contains('\r') }, "{t:?}");
        }
    }

    #[test]
    fn verbatim_text_is_exactly_text_that_escaping_leaves_alone() {
        for t in [
            "",
            "abc",
            "a\tb\nc\rd",
            "0123456789abcdefXYZ %/\\'",
            "a&b",
            "a<b",
            "x>",
            "caf\u{e9}",
            "\u{1}",
            "\u{7F}",
            "12345678&",
            "12345678\u{e9}",
        ] {
            let mut out = String::new();
            escape_into(t, false, &mut out);
            assert_eq!(is_verbatim(t), out == t, "{t:?}");
        }
    }
}

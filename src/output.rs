//! Archer output: records serialised to XML fragments, grouped into chunks for `writeItem`.
//!
//! In scope: escaping (text and attribute values), replacing characters XML 1.0 forbids, and the
//! chunk policy (a chunk closes when it holds `max_records` records or reaches `max_bytes`), so
//! the shim makes one `writeItem` call per chunk. Out of scope: the root node (Archer's
//! OutputWriter adds it) and writing (the shim does that).
//!
//! Serialisation is compact (no indentation): Archer parses the fragments, people rarely read
//! them, and whitespace would cost bytes on every record. It is also pure ASCII: characters above
//! U+007F are written as numeric character references.

use std::collections::VecDeque;

use crate::xml::Element;

/// One `writeItem` worth of sibling record fragments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub xml: String,
    pub records: u32,
}

/// Collects serialised records and closes a chunk when a limit is reached; closed chunks wait in
/// order until taken.
#[derive(Debug)]
pub struct Chunker {
    max_records: u32,
    max_bytes: usize,
    buf: String,
    records: u32,
    ready: VecDeque<Chunk>,
    /// Characters replaced because XML 1.0 forbids them (reported as a warning by the feed).
    pub replaced_chars: u64,
}

impl Chunker {
    pub fn new(max_records: u32, max_bytes: usize) -> Self {
        Chunker { max_records: max_records.max(1), max_bytes: max_bytes.max(1), buf: String::new(), records: 0, ready: VecDeque::new(), replaced_chars: 0 }
    }

    /// Adds one record.
    pub fn push(&mut self, record: &Element) {
        self.push_with(|out| write_element(record, out));
    }

    /// Adds one record written by `write` (which returns how many characters it replaced).
    pub fn push_with(&mut self, write: impl FnOnce(&mut String) -> u64) {
        self.replaced_chars += write(&mut self.buf);
        self.records += 1;
        if self.records >= self.max_records || self.buf.len() >= self.max_bytes {
            self.flush();
        }
    }

    /// Closes the current chunk if it holds anything.
    pub fn flush(&mut self) {
        if self.records == 0 {
            return;
        }
        let xml = std::mem::take(&mut self.buf);
        let records = std::mem::replace(&mut self.records, 0);
        self.ready.push_back(Chunk { xml, records });
    }

    /// The next closed chunk, in order.
    pub fn take_ready(&mut self) -> Option<Chunk> {
        self.ready.pop_front()
    }
}

/// Writes `<NAME attr="...">` (or, with `empty`, `<NAME .../>`); returns replaced characters.
pub fn write_start(name: &str, attrs: &[(String, String)], empty: bool, out: &mut String) -> u64 {
    let mut replaced = 0;
    out.push('<');
    out.push_str(name);
    for (k, v) in attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        replaced += escape_into(v, true, out);
        out.push('"');
    }
    out.push_str(if empty { "/>" } else { ">" });
    replaced
}

/// Writes a leaf element with escaped text.
pub fn write_leaf(name: &str, text: &str, out: &mut String) -> u64 {
    if text.is_empty() {
        return write_start(name, &[], true, out);
    }
    write_start(name, &[], false, out);
    let replaced = escape_into(text, false, out);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
    replaced
}

/// Serialises one element (and its subtree) to `out`; returns how many characters were replaced.
pub fn write_element(el: &Element, out: &mut String) -> u64 {
    let empty = el.text.is_empty() && el.children.is_empty();
    let mut replaced = write_start(&el.name, &el.attrs, empty, out);
    if empty {
        return replaced;
    }
    replaced += escape_into(&el.text, false, out);
    for c in &el.children {
        replaced += write_element(c, out);
    }
    out.push_str("</");
    out.push_str(&el.name);
    out.push('>');
    replaced
}

/// Whether XML 1.0 allows this character in content.
fn xml_char_ok(c: char) -> bool {
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
fn escape_into(s: &str, attr: bool, out: &mut String) -> u64 {
    let table = if attr { &PLAIN_ATTR } else { &PLAIN_TEXT };
    let bytes = s.as_bytes();
    let mut replaced = 0;
    let mut run = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
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
    out.push_str(s.get(run..).unwrap_or_default());
    replaced
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let mut el = Element::leaf("RESULTS", "a < b && c > \"d\"");
        el.attrs.push(("k".into(), "x\"y<z\n".into()));
        let mut out = String::new();
        assert_eq!(write_element(&el, &mut out), 0);
        assert_eq!(out, "<RESULTS k=\"x&quot;y&lt;z&#10;\">a &lt; b &amp;&amp; c &gt; \"d\"</RESULTS>");
    }

    #[test]
    fn forbidden_characters_are_replaced_and_counted() {
        let el = Element::leaf("T", "a\u{1}b\u{FFFE}c\u{1F600}d\u{7F}");
        let mut out = String::new();
        assert_eq!(write_element(&el, &mut out), 2);
        assert_eq!(out, "<T>a&#65533;b&#65533;c&#128512;d\u{7F}</T>");
    }

    #[test]
    fn output_is_ascii_with_character_references() {
        let el = Element::leaf("RESULTS", "caf\u{e9} \u{2013} \u{fc}ber\ttab\r\nline");
        let mut out = String::new();
        assert_eq!(write_element(&el, &mut out), 0);
        assert_eq!(out, "<RESULTS>caf&#233; &#8211; &#252;ber\ttab\r\nline</RESULTS>");
        assert!(out.is_ascii());
    }

    #[test]
    fn empty_elements_are_self_closed_and_nesting_kept() {
        let mut el = Element::new("HOST");
        el.children.push(Element::leaf("ID", "1"));
        el.children.push(Element::new("DNS"));
        let mut out = String::new();
        write_element(&el, &mut out);
        assert_eq!(out, "<HOST><ID>1</ID><DNS/></HOST>");
    }

    #[test]
    fn chunks_close_on_record_count_and_on_bytes() {
        let rec = Element::leaf("R", "x".repeat(10));
        let mut by_count = Chunker::new(3, 1 << 20);
        by_count.push(&rec);
        by_count.push(&rec);
        assert!(by_count.take_ready().is_none());
        by_count.push(&rec);
        let c = by_count.take_ready().expect("third record closes the chunk");
        assert_eq!(c.records, 3);
        assert_eq!(c.xml.matches("<R>").count(), 3);
        by_count.flush();
        assert!(by_count.take_ready().is_none());

        let mut by_bytes = Chunker::new(1000, 30);
        by_bytes.push(&rec); // 18 bytes
        assert!(by_bytes.take_ready().is_none());
        by_bytes.push(&rec);
        assert_eq!(by_bytes.take_ready().map(|c| c.records), Some(2), "36 bytes >= 30 closes the chunk");
        by_bytes.push(&rec);
        by_bytes.push_with(|out| write_leaf("S", "a<b", out));
        assert!(by_bytes.take_ready().is_some());
        by_bytes.flush();
        assert!(by_bytes.take_ready().is_none());
    }
}

//! Archer output: records serialised to XML fragments, grouped into chunks for `writeItem`.
//!
//! In scope: escaping (text and attribute values), replacing characters XML 1.0 forbids, and the
//! chunk policy (a chunk closes when it holds `max_records` records or reaches `max_bytes`), so
//! the shim makes one `writeItem` call per chunk. Out of scope: the root node (Archer's
//! OutputWriter adds it) and writing (the shim does that).
//!
//! Serialisation is compact (no indentation): Archer parses the fragments, people rarely read
//! them, and whitespace would cost bytes on every record.

use crate::xml::Element;

/// One `writeItem` worth of sibling record fragments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub xml: String,
    pub records: u32,
}

/// Collects serialised records and closes a chunk when a limit is reached.
#[derive(Debug)]
pub struct Chunker {
    max_records: u32,
    max_bytes: usize,
    buf: String,
    records: u32,
    /// Characters replaced because XML 1.0 forbids them (reported as a warning by the feed).
    pub replaced_chars: u64,
}

impl Chunker {
    pub fn new(max_records: u32, max_bytes: usize) -> Self {
        Chunker { max_records: max_records.max(1), max_bytes: max_bytes.max(1), buf: String::new(), records: 0, replaced_chars: 0 }
    }

    /// Adds one record; returns a chunk when this record filled one.
    pub fn push(&mut self, record: &Element) -> Option<Chunk> {
        self.replaced_chars += write_element(record, &mut self.buf);
        self.records += 1;
        if self.records >= self.max_records || self.buf.len() >= self.max_bytes {
            self.flush()
        } else {
            None
        }
    }

    /// Closes the current chunk if it holds anything.
    pub fn flush(&mut self) -> Option<Chunk> {
        if self.records == 0 {
            return None;
        }
        let xml = std::mem::take(&mut self.buf);
        let records = std::mem::replace(&mut self.records, 0);
        Some(Chunk { xml, records })
    }

    /// Records waiting in the open chunk.
    pub fn pending_records(&self) -> u32 {
        self.records
    }
}

/// Serialises one element (and its subtree) to `out`; returns how many characters were replaced.
pub fn write_element(el: &Element, out: &mut String) -> u64 {
    let mut replaced = 0;
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        replaced += escape_into(v, true, out);
        out.push('"');
    }
    if el.text.is_empty() && el.children.is_empty() {
        out.push_str("/>");
        return replaced;
    }
    out.push('>');
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

/// Escapes `&`, `<`, `>` (and `"` in attributes); forbidden characters become U+FFFD.
fn escape_into(s: &str, attr: bool, out: &mut String) -> u64 {
    // Bytes outside 0x20..0xEF cover control characters and the UTF-8 lead byte of U+FFFE/U+FFFF.
    let needs = |b: u8| matches!(b, b'&' | b'<' | b'>') || (attr && b == b'"') || !(0x20..0xEF).contains(&b);
    if !s.bytes().any(needs) {
        out.push_str(s);
        return 0;
    }
    let mut replaced = 0;
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\t' | '\n' | '\r' if attr => {
                out.push_str(match c {
                    '\t' => "&#9;",
                    '\n' => "&#10;",
                    _ => "&#13;",
                });
            }
            c if xml_char_ok(c) => out.push(c),
            _ => {
                replaced += 1;
                out.push('\u{FFFD}');
            }
        }
    }
    replaced
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
        let el = Element::leaf("T", "a\u{1}b\u{FFFE}c\u{1F600}");
        let mut out = String::new();
        assert_eq!(write_element(&el, &mut out), 2);
        assert_eq!(out, "<T>a\u{FFFD}b\u{FFFD}c\u{1F600}</T>");
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
        assert!(by_count.push(&rec).is_none());
        assert!(by_count.push(&rec).is_none());
        let c = by_count.push(&rec).expect("third record closes the chunk");
        assert_eq!(c.records, 3);
        assert_eq!(c.xml.matches("<R>").count(), 3);
        assert!(by_count.flush().is_none());

        let mut by_bytes = Chunker::new(1000, 30);
        assert!(by_bytes.push(&rec).is_none()); // 18 bytes
        let c = by_bytes.push(&rec).expect("36 bytes >= 30 closes the chunk");
        assert_eq!(c.records, 2);
        assert!(by_bytes.push(&rec).is_none());
        assert_eq!(by_bytes.flush().map(|c| c.records), Some(1));
    }
}

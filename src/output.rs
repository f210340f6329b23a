//! Archer output: records serialised to XML fragments, grouped into chunks for `writeItem`.
//!
//! In scope: escaping (text and attribute values), replacing characters XML 1.0 forbids, and the
//! chunk policy (a chunk closes when it holds `max_records` records or reaches `max_bytes`), so
//! the shim makes one `writeItem` call per chunk. Out of scope: the root node (Archer's
//! OutputWriter adds it) and writing (the shim does that).
//!
//! Serialisation is compact (no indentation): Archer parses the fragments, people rarely read
//! them, and whitespace would cost bytes on every record. Text and attribute values are pure
//! ASCII: characters above U+007F are written as numeric character references. Element and
//! attribute names are copied as they came, so a chunk is ASCII unless a name was not; each
//! [`Chunk`] says which (JavaScript hosts decode ASCII chunks several times faster).

use std::collections::VecDeque;

use crate::xml::escape::escape_into;
use crate::xml::{Element, Node};

/// One `writeItem` worth of sibling record fragments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Sibling record fragments (UTF-8; ASCII when `ascii` is true).
    pub xml: String,
    /// How many records the chunk holds.
    pub records: u32,
    /// Whether `xml` is pure ASCII (it is unless an element or attribute name was not).
    pub ascii: bool,
}

/// Collects serialised records and closes a chunk when a limit is reached; closed chunks wait in
/// order until taken.
#[derive(Debug)]
pub struct Chunker {
    max_records: u32,
    max_bytes: usize,
    buf: String,
    records: u32,
    /// Whether a record of the current chunk has a non-ASCII name.
    non_ascii: bool,
    ready: VecDeque<Chunk>,
    /// Characters replaced because XML 1.0 forbids them (reported as a warning by the feed).
    pub replaced_chars: u64,
}

impl Chunker {
    /// A chunker closing a chunk at `max_records` records or about `max_bytes` bytes.
    pub fn new(max_records: u32, max_bytes: usize) -> Self {
        Chunker {
            max_records: max_records.max(1),
            max_bytes: max_bytes.max(1),
            buf: String::new(),
            records: 0,
            non_ascii: false,
            ready: VecDeque::new(),
            replaced_chars: 0,
        }
    }

    /// Adds one record written by `write` (which returns how many characters it replaced).
    /// `ascii_names`: whether every element and attribute name it writes is ASCII (its text is
    /// always escaped to ASCII), so that the chunk it lands in can say whether it is ASCII.
    pub fn push_with(&mut self, ascii_names: bool, write: impl FnOnce(&mut String) -> u64) {
        self.non_ascii |= !ascii_names;
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
        let ascii = !std::mem::replace(&mut self.non_ascii, false);
        self.ready.push_back(Chunk { xml, records, ascii });
    }

    /// The next closed chunk, in order.
    pub fn take_ready(&mut self) -> Option<Chunk> {
        self.ready.pop_front()
    }
}

/// Writes `<NAME attr="...">` (or, with `empty`, `<NAME .../>`); returns replaced characters.
pub fn write_start<'a>(
    name: &str,
    attrs: impl IntoIterator<Item = (&'a str, &'a str)>,
    empty: bool,
    out: &mut String,
) -> u64 {
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
        return write_start(name, [], true, out);
    }
    write_start(name, [], false, out);
    let replaced = escape_into(text, false, out);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
    replaced
}

/// Writes `text` escaped (element content); returns how many characters were replaced.
pub fn write_text(text: &str, out: &mut String) -> u64 {
    escape_into(text, false, out)
}

/// Writes `</NAME>`.
pub fn write_end(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Serialises one element of a [`crate::xml::Tree`] (and its subtree) to `out`, exactly as
/// [`write_element`] serialises the same element as an [`Element`]; returns how many characters
/// were replaced.
pub fn write_node(node: Node<'_>, out: &mut String) -> u64 {
    if let Some(xml) = node.verbatim() {
        out.push_str(xml);
        return 0;
    }
    let text = node.text();
    let empty = text.is_empty() && !node.has_children();
    let mut replaced = write_start(node.name(), node.attrs(), empty, out);
    if empty {
        return replaced;
    }
    replaced += escape_into(text, false, out);
    for c in node.children() {
        replaced += write_node(c, out);
    }
    write_end(node.name(), out);
    replaced
}

/// Serialises one element (and its subtree) to `out`; returns how many characters were replaced.
pub fn write_element(el: &Element, out: &mut String) -> u64 {
    let empty = el.text.is_empty() && el.children.is_empty();
    let mut replaced = write_start(&el.name, el.attrs.iter().map(|(k, v)| (k.as_str(), v.as_str())), empty, out);
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
        by_count.push_with(true, |out| write_element(&rec, out));
        by_count.push_with(true, |out| write_element(&rec, out));
        assert!(by_count.take_ready().is_none());
        by_count.push_with(true, |out| write_element(&rec, out));
        let c = by_count.take_ready().expect("third record closes the chunk");
        assert_eq!(c.records, 3);
        assert_eq!(c.xml.matches("<R>").count(), 3);
        by_count.flush();
        assert!(by_count.take_ready().is_none());

        let mut by_bytes = Chunker::new(1000, 30);
        by_bytes.push_with(true, |out| write_element(&rec, out)); // 18 bytes
        assert!(by_bytes.take_ready().is_none());
        by_bytes.push_with(true, |out| write_element(&rec, out));
        assert_eq!(by_bytes.take_ready().map(|c| c.records), Some(2), "36 bytes >= 30 closes the chunk");
        by_bytes.push_with(true, |out| write_element(&rec, out));
        by_bytes.push_with(true, |out| write_leaf("S", "a<b", out));
        assert!(by_bytes.take_ready().is_some());
        by_bytes.flush();
        assert!(by_bytes.take_ready().is_none());
    }
}

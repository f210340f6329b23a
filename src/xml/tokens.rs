//! The reader's tokenizer: finds the tokens of a buffer of XML, over input it validated as UTF-8
//! once, with quick-xml's own pieces.
//!
//! In scope: the common tokens of Qualys documents (text, start / empty / end tags, CDATA),
//! found by [`scan`] with memchr and quick-xml's [`ElementParser`] (the one that finds a tag's end,
//! skipping quoted `>`); every other token (references, comments, processing instructions, the XML
//! declaration, DOCTYPE), and any token cut by the end of the buffer or by invalid UTF-8, read by a
//! quick-xml [`Reader`] started at that token for one event ([`read_with_quick_xml`]). Both give
//! what one quick-xml reader run over the whole buffer gives, token for token (tested below
//! against it, on real documents and generated edge cases); the split is for speed: quick-xml's
//! reader re-validates UTF-8 and goes through its state machine for every event, which was a third
//! of the core's time on a detection document (bench/PROFILE.md).
//!
//! Out of scope: what tokens mean (the [`super::push_reader`] decides, and handles quick-xml's
//! errors), buffering across chunks, entities.

use quick_xml::errors::Error as XmlError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::parser::{ElementParser, Parser};
use quick_xml::Reader;

use super::words;

pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A quick-xml reader over `input` configured as this module needs it: our own stack checks end
/// names (each push restarts the reader), a stray `&` is text, nothing is trimmed or expanded.
/// Public so benchmarks can measure the tokenizer exactly as the core runs it.
pub fn quick_xml_reader(input: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(input);
    let config = reader.config_mut();
    config.allow_unmatched_ends = true;
    config.check_end_names = false;
    config.allow_dangling_amp = true;
    config.check_comments = false;
    config.expand_empty_elements = false;
    config.trim_markup_names_in_closing_tags = true;
    config.trim_text(false);
    reader
}

/// One token of the input.
pub(super) enum Token<'a> {
    /// Text without references (a `&` that starts none may be in it).
    Text(&'a str),
    /// `&name;`: the name.
    Reference(&'a str),
    CData(&'a str),
    /// A start tag, and whether its name is known to be a valid all-ASCII name (checked while
    /// scanning; `false` only means "not checked").
    Start(BytesStart<'a>, bool),
    /// An empty-element tag (`<a/>`), as `Start`.
    Empty(BytesStart<'a>, bool),
    /// An end tag's name.
    End(&'a str),
    /// Comment, processing instruction, XML declaration or DOCTYPE.
    OtherMarkup,
}

/// How the token at a position was read.
pub(super) enum Read<'a> {
    /// By [`scan`]: the token and where it ends.
    Scanned(Token<'a>, usize),
    /// By a quick-xml reader started there: its event or error, and where it stopped reading.
    QuickXml(Result<Event<'a>, XmlError>, usize),
}

/// Reads the token at `pos` of `input`, whose first `valid.len()` bytes are the valid UTF-8
/// `valid`: with [`scan`] when it can, else with a quick-xml reader started at `pos` that reads
/// one event exactly as a reader run over all of `input` would read it there (nothing in the
/// configured reader's state carries from one event to the next but its position; text starting
/// with U+FEFF, which a fresh reader would drop as a byte order mark, is read here the way the
/// running reader reads it).
pub(super) fn read_token<'a>(input: &'a [u8], valid: &'a str, pos: usize) -> Read<'a> {
    if let Some((token, end)) = scan(valid, pos, valid.len() == input.len()) {
        return Read::Scanned(token, end);
    }
    read_with_quick_xml(input, pos)
}

/// How many tokens a whole document has, as the reader finds them, up to its first error: for
/// benchmarks (the tokenizer's floor), not used by the core.
pub fn count_tokens(input: &[u8]) -> u64 {
    let valid = valid_utf8_prefix(input);
    let (mut pos, mut n) = (0, 0);
    while pos < input.len() {
        pos = match read_token(input, valid, pos) {
            Read::Scanned(_, end) | Read::QuickXml(Ok(_), end) => end,
            Read::QuickXml(Err(_), _) => break,
        };
        n += 1;
    }
    n
}

/// The token at `pos`, read by a quick-xml reader started there (see [`read_token`]). Not inlined:
/// it is the rare path, and keeping it out keeps the scanning loop small.
#[inline(never)]
pub(super) fn read_with_quick_xml(input: &[u8], pos: usize) -> Read<'_> {
    let rest = input.get(pos..).unwrap_or(&[]);
    if rest.starts_with(BOM) {
        // A reader started here would drop this U+FEFF as a byte order mark: read the text as
        // quick-xml reads text (up to `<` or `&`, one UTF-8 check) instead.
        let end = find_markup(rest).unwrap_or(rest.len());
        return match std::str::from_utf8(rest.get(..end).unwrap_or(&[])) {
            Ok(text) => Read::Scanned(Token::Text(text), pos + end),
            Err(e) => Read::QuickXml(Err(XmlError::Encoding(e.into())), pos + end),
        };
    }
    let mut reader = quick_xml_reader(rest);
    let event = reader.read_event();
    Read::QuickXml(event, pos + reader.buffer_position() as usize)
}

/// The token a quick-xml event stands for; `None` for `Eof` and event kinds this reader does not
/// know (quick-xml adds some in new versions: skipped like other markup).
pub(super) fn token_of<'e>(event: &'e Event<'_>) -> Option<Token<'e>> {
    Some(match event {
        Event::Text(text) => Token::Text(text),
        Event::GeneralRef(reference) => Token::Reference(reference),
        Event::CData(cdata) => Token::CData(cdata),
        Event::Start(tag) => Token::Start(tag.borrow(), false),
        Event::Empty(tag) => Token::Empty(tag.borrow(), false),
        Event::End(tag) => Token::End(tag.name().0),
        Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => Token::OtherMarkup,
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// The longest prefix of `input` that is valid UTF-8 (all of it, normally): what
/// `std::str::from_utf8(input)` accepts, up to its `valid_up_to`.
#[inline]
pub(super) fn valid_utf8_prefix(input: &[u8]) -> &str {
    if cfg!(target_arch = "wasm32") {
        valid_utf8_prefix_by_runs(input)
    } else {
        match std::str::from_utf8(input) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(input.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or_default(),
        }
    }
}

/// [`valid_utf8_prefix`] for wasm: runs of ASCII (nearly all of a Qualys document) are checked
/// 16 bytes at a time ([`words::ascii_run`]); anything else goes through `std::str::from_utf8` in
/// short windows that begin where an ASCII run ends and end before a byte that starts a character
/// (or at the end of `input`).
fn valid_utf8_prefix_by_runs(input: &[u8]) -> &str {
    const WINDOW: usize = 64;
    let mut pos = 0;
    let valid = loop {
        pos += words::ascii_run(input.get(pos..).unwrap_or_default());
        if pos >= input.len() {
            break input.len();
        }
        let end = next_char_start(input, pos.saturating_add(WINDOW));
        match std::str::from_utf8(input.get(pos..end).unwrap_or_default()) {
            Ok(_) => pos = end,
            Err(e) => break pos + e.valid_up_to(),
        }
    };
    let checked = input.get(..valid).unwrap_or_default();
    // SAFETY: `checked` is a sequence of ASCII runs (every byte < 0x80, tested by `ascii_run`) and
    // windows that `std::str::from_utf8` accepted whole, each starting where the previous piece
    // ended. A window ends at the end of `input` or just before a byte that is not a continuation
    // byte, so it never cuts a character: the pieces are whole characters and so is their
    // concatenation. (`prefix_by_runs_is_what_std_accepts` compares with std on generated input.)
    #[allow(unsafe_code)]
    unsafe {
        std::str::from_utf8_unchecked(checked)
    }
}

/// The first position at or after `from` whose byte is not a UTF-8 continuation byte, or the
/// length of `bytes`.
fn next_char_start(bytes: &[u8], from: usize) -> usize {
    let from = from.min(bytes.len());
    let tail = bytes.get(from..).unwrap_or_default();
    from + tail.iter().position(|&b| b & 0xC0 != 0x80).unwrap_or(tail.len())
}

/// The position of the first `<` or `&` (where a text ends).
#[inline(always)]
fn find_markup(bytes: &[u8]) -> Option<usize> {
    if cfg!(target_arch = "wasm32") {
        words::find_lt_or_amp(bytes)
    } else {
        memchr::memchr2(b'<', b'&', bytes)
    }
}

/// The token at `pos` of `text` and where it ends, when it is one of the common ones (text, start,
/// empty and end tags, CDATA) and lies wholly inside `text` (`whole`: `text` is the whole buffer,
/// so text may run to its end). `None` leaves the token to quick-xml's reader, which reads it
/// the same way: tags are delimited by quick-xml's own [`ElementParser`] (quoted `>` allowed in
/// attribute values), end-tag names lose trailing whitespace, `<a/>` is empty, CDATA ends at the
/// first `]]>`. Tags that are just a name of ASCII name characters (`<QID>`, `<QID/>`, `</QID>`:
/// nearly all of Qualys's) are found in one pass over the name, which for start tags also checks
/// that the name is valid (saving the reader its own check).
#[inline(always)]
pub(super) fn scan(text: &str, pos: usize, whole: bool) -> Option<(Token<'_>, usize)> {
    let rest = text.as_bytes().get(pos..)?;
    match *rest.first()? {
        b'<' => match *rest.get(1)? {
            b'/' => {
                // `</NAME>` with an all-ASCII name: one pass; anything else as quick-xml does.
                let after = name_bytes_end(rest, 2);
                if rest.get(after) == Some(&b'>') {
                    return Some((Token::End(text.get(pos + 2..pos + after)?), pos + after + 1));
                }
                let gt = pos + ElementParser::Outside.feed(rest)?;
                let name = text.get(pos + 2..gt)?;
                Some((Token::End(end_tag_name(name)), gt + 1))
            }
            b'!' => {
                if !rest.starts_with(b"<![CDATA[") {
                    return None;
                }
                let gt = memchr::memchr_iter(b'>', rest).find(|&i| rest[..i].ends_with(b"]]"))?;
                Some((Token::CData(text.get(pos + 9..(pos + gt).saturating_sub(2))?), pos + gt + 1))
            }
            b'?' => None,
            first => {
                // `<NAME>` or `<NAME/>` with a valid all-ASCII name: one pass that checks the name.
                let after = name_bytes_end(rest, 1);
                let valid_name = starts_ascii_name(first);
                match rest.get(after..after + 2) {
                    Some([b'>', ..]) if valid_name => {
                        let name = text.get(pos + 1..pos + after)?;
                        return Some((Token::Start(BytesStart::from_content(name, name.len()), true), pos + after + 1));
                    }
                    Some(b"/>") if valid_name => {
                        let name = text.get(pos + 1..pos + after)?;
                        return Some((Token::Empty(BytesStart::from_content(name, name.len()), true), pos + after + 2));
                    }
                    _ => {}
                }
                let gt = pos + ElementParser::Outside.feed(rest)?;
                let content = text.get(pos + 1..gt)?;
                let (content, empty) = match content.strip_suffix('/') {
                    Some(content) => (content, true),
                    None => (content, false),
                };
                let name_len = content.bytes().position(is_xml_whitespace_byte).unwrap_or(content.len());
                let tag = BytesStart::from_content(content, name_len);
                Some((if empty { Token::Empty(tag, false) } else { Token::Start(tag, false) }, gt + 1))
            }
        },
        b'&' => None,
        _ => match find_markup(rest) {
            Some(i) => Some((Token::Text(text.get(pos..pos + i)?), pos + i)),
            None if whole => Some((Token::Text(text.get(pos..)?), text.len())),
            None => None,
        },
    }
}

/// Whether `b` may start an all-ASCII element name (a letter, `_` or `:`).
#[inline(always)]
fn starts_ascii_name(b: u8) -> bool {
    NAME_BYTES.get(usize::from(b)) == Some(&1)
}

/// Whether `name` is a valid element name made of ASCII characters only.
#[inline]
pub(super) fn is_ascii_name(name: &[u8]) -> bool {
    name.first().is_some_and(|&b| starts_ascii_name(b)) && name_bytes_end(name, 0) == name.len()
}

/// Where the run of all-ASCII name bytes starting at `from` of `bytes` ends.
#[inline(always)]
fn name_bytes_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        if b >= 128 || NAME_BYTES[usize::from(b)] == 0 {
            break;
        }
        i += 1;
    }
    i
}

/// An end tag's name as quick-xml gives it: without trailing whitespace, unless it is all
/// whitespace (then as it is).
fn end_tag_name(s: &str) -> &str {
    match s.bytes().rposition(|b| !is_xml_whitespace_byte(b)) {
        Some(last) => s.get(..=last).unwrap_or(s),
        None => s,
    }
}

/// Bytes an all-ASCII element name may start with (1) and continue with (1 or 2).
const NAME_BYTES: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            t[b] = 1;
        } else if c.is_ascii_digit() || c == b'-' || c == b'.' {
            t[b] = 2;
        }
        b += 1;
    }
    t
};

pub(crate) fn is_xml_whitespace_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token as a comparable row: kind, content, span. `!` is an error (its message), `?` an
    /// event kind this module does not know.
    type Row = (char, String, usize, usize);

    fn row(token: Option<Token<'_>>, start: usize, end: usize) -> Row {
        let (kind, content) = match token {
            Some(Token::Text(t)) => ('T', t.to_string()),
            Some(Token::Reference(r)) => ('R', r.to_string()),
            Some(Token::CData(c)) => ('C', c.to_string()),
            Some(Token::Start(tag, ascii_name)) => ('S', start_row(&tag, ascii_name)),
            Some(Token::Empty(tag, ascii_name)) => ('E', start_row(&tag, ascii_name)),
            Some(Token::End(name)) => ('/', name.to_string()),
            Some(Token::OtherMarkup) => ('O', String::new()),
            None => ('?', String::new()),
        };
        (kind, content, start, end)
    }

    /// A start tag's name and attributes. A name the scanner says it checked must be a valid
    /// all-ASCII name (quick-xml never checks: its tags say "not checked").
    fn start_row(tag: &BytesStart<'_>, ascii_name: bool) -> String {
        let name = tag.name().0;
        if ascii_name {
            let mut bytes = name.bytes();
            let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':');
            assert!(
                first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b"_:-.".contains(&b)),
                "{name:?} is no valid name"
            );
        }
        format!("{name}|{}", tag.attributes_raw())
    }

    /// Adjacent text pieces are one text to the reader (it concatenates them): merge them.
    fn push_row(rows: &mut Vec<Row>, r: Row) {
        if let Some(last) = rows.last_mut() {
            if last.0 == 'T' && r.0 == 'T' && last.3 == r.2 {
                last.1.push_str(&r.1);
                last.3 = r.3;
                return;
            }
        }
        rows.push(r);
    }

    /// What one quick-xml reader over all of `input` reads, up to and including its first error.
    fn by_quick_xml(input: &[u8]) -> Vec<Row> {
        let mut reader = quick_xml_reader(input);
        let mut rows = Vec::new();
        loop {
            let start = reader.buffer_position() as usize;
            let event = reader.read_event();
            let end = reader.buffer_position() as usize;
            match event {
                Ok(Event::Eof) => return rows,
                Ok(event) => push_row(&mut rows, row(token_of(&event), start, end)),
                Err(err) => {
                    rows.push(('!', err.to_string(), start, end));
                    return rows;
                }
            }
        }
    }

    /// What this module reads, token by token, as the push reader drives it.
    fn by_this_module(input: &[u8]) -> Vec<Row> {
        let valid = valid_utf8_prefix(input);
        let mut rows = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            match read_token(input, valid, pos) {
                Read::Scanned(token, end) => {
                    assert!(end > pos, "no progress at {pos} of {:?}", String::from_utf8_lossy(input));
                    push_row(&mut rows, row(Some(token), pos, end));
                    pos = end;
                }
                Read::QuickXml(Ok(Event::Eof), _) => return rows,
                Read::QuickXml(Ok(event), end) => {
                    push_row(&mut rows, row(token_of(&event), pos, end));
                    pos = end;
                }
                Read::QuickXml(Err(err), end) => {
                    rows.push(('!', err.to_string(), pos, end));
                    return rows;
                }
            }
        }
        rows
    }

    /// Every prefix of `doc` (the push reader tokenizes buffers cut anywhere) reads the same.
    fn assert_same_on_every_prefix(doc: &[u8]) {
        // Byte order marks at the very start are the push reader's business, not the tokenizer's.
        let mut doc = doc;
        while let Some(rest) = doc.strip_prefix(BOM) {
            doc = rest;
        }
        for cut in (0..=doc.len()).rev() {
            let input = &doc[..cut];
            assert_eq!(by_this_module(input), by_quick_xml(input), "input {:?}", String::from_utf8_lossy(input));
        }
    }

    /// The wasm build's UTF-8 check accepts exactly what std accepts: generated byte strings of
    /// ASCII runs (of lengths around its 16-byte blocks), valid characters of every length, and
    /// invalid sequences (stray continuation bytes, truncated and overlong forms, surrogates,
    /// > U+10FFFF).
    #[test]
    fn prefix_by_runs_is_what_std_accepts() {
        const PIECES: &[&[u8]] = &[
            b"a",
            b"<QID>",
            b"0123456789abcdef",
            b"\xC3\xA9",
            b"\xE2\x80\x93",
            b"\xF0\x9F\x98\x80",
            b"\xEF\xBB\xBF",
            b"\x80",
            b"\xBF",
            b"\xC3",
            b"\xE2\x80",
            b"\xF0\x9F\x98",
            b"\xC0\xAF",
            b"\xE0\x80\xAF",
            b"\xED\xA0\x80",
            b"\xF4\x90\x80\x80",
            b"\xFF",
            b"\xFE",
            b"\x7F",
            b"\x00",
        ];
        let mut rng = crate::test_rng::TestRng::new(0x2545_F491_4F6C_DD1D);
        let std_prefix = |b: &[u8]| std::str::from_utf8(b).map_or_else(|e| e.valid_up_to(), str::len);
        for _ in 0..50_000 {
            let mut doc = Vec::new();
            for _ in 0..rng.below(12) {
                match rng.next() % 3 {
                    0 => doc.extend(std::iter::repeat_n(b'x', rng.below(40))),
                    _ => doc.extend_from_slice(PIECES[rng.below(PIECES.len())]),
                }
            }
            assert_eq!(valid_utf8_prefix_by_runs(&doc).len(), std_prefix(&doc), "{doc:?}");
        }
        // Long non-ASCII runs: window ends inside them.
        let long = "é–😀x".repeat(100);
        assert_eq!(valid_utf8_prefix_by_runs(long.as_bytes()), long);
        for at in [0, 1, 63, 64, 65, 301] {
            let mut bad = long.clone().into_bytes();
            bad[at] = 0xFF;
            assert_eq!(valid_utf8_prefix_by_runs(&bad).len(), std_prefix(&bad), "0xFF at {at}");
        }
    }

    #[test]
    fn reads_edge_cases_as_quick_xml_does() {
        let cases: &[&[u8]] = &[
            b"<a>text</a>",
            b"<a b='>' c=\"/>\">x</a >",
            b"<a/><a /><a/ ><a b='/'/></a\t\r\n></ ></>",
            b"<><  ><a\tb='1'\n>",
            b"<1a><-a/><.a><a.b-c:d_e></a.b-c:d_e><_x/><:y></:y><QID>1</QID>",
            b"<a\xC3\xA9>x</a\xC3\xA9><\xC3\xA9/></\xC3\xA9 >",
            // U+00F0: bytes C3 B0, which are 'C' and '0' with the high bit cleared.
            b"<a\xC3\xB0>x</a\xC3\xB0><\xC3\xB0/>",
            b"<a\x01></a\x01><a=b></a=b><a'b'>",
            b"<x><![CDATA[]]><![CDATA[a]]]]><![CDATA[>]]]><![CDATA[ <&> ]]></x>",
            b"<![CDATA[x]>y]]>",
            b"<![CDAT[x]]><![cdata[x]]>",
            b"a&amp;b&#10;c&#x41;&unknown;d&e f&;g&&h&",
            b"AT&T <b>x&y</b> & ; &<c/>",
            b"<?xml version='1.0'?><!-- c -- c --><?pi x?><!DOCTYPE r [<!ENTITY e 'v'>]><r/>",
            b"<!DOCTYPE r SYSTEM \"x.dtd\"><r>\r\n</r>",
            b"<!-><!--><!-- -->",
            b"<a>\xEF\xBB\xBFkeep</a>\xEF\xBB\xBF",
            b"<a>caf\xC3\xA9 \xE2\x80\x93 \xF0\x9F\x98\x80</a>",
            b"<a>ok\xFFbad</a>",
            b"<a\xFF>x</a>",
            b"<a>x</a\xFE>",
            b"<![CDATA[\xC3\x28]]>",
            b"text \xC3",
            b"<!-- \xFF --><?p \xFF?>&\xFF;",
            b"<a b=\"x",
            b"</a b='>'>",
            b"<<a>>",
            b"]]>",
        ];
        for doc in cases {
            assert_same_on_every_prefix(doc);
        }
    }

    #[test]
    fn reads_the_real_qualys_documents_as_quick_xml_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("fixtures directory") {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|e| e == "xml") {
                let doc = std::fs::read(&path).expect("fixture");
                let doc = doc.strip_prefix(BOM).unwrap_or(&doc);
                let rows = by_this_module(doc);
                assert_eq!(rows, by_quick_xml(doc), "{}", path.display());
                assert!(rows.iter().all(|r| r.0 != '!'), "{} reads without error", path.display());
                // Cut inside: a few hundred prefixes each, not all (the documents are big).
                for cut in (0..doc.len()).step_by(doc.len() / 200 + 1) {
                    assert_eq!(
                        by_this_module(&doc[..cut]),
                        by_quick_xml(&doc[..cut]),
                        "{} cut at {cut}",
                        path.display()
                    );
                }
                seen += 1;
            }
        }
        assert!(seen >= 10, "expected the real fixtures, found {seen}");
    }

    /// Documents made of random pieces of markup, text, references and bad bytes.
    #[test]
    fn reads_generated_soups_as_quick_xml_does() {
        const PIECES: &[&[u8]] = &[
            b"<a>",
            b"</a>",
            b"</a >",
            b"<b c='>'>",
            b"<b c=\"'\">",
            b"<e/>",
            b"<e x='/'/>",
            b"<",
            b">",
            b"/",
            b"/>",
            b"'",
            b"\"",
            b"<!",
            b"<![CDATA[",
            b"]]>",
            b"]",
            b"]]",
            b"<!--",
            b"-->",
            b"-",
            b"<?",
            b"?>",
            b"<!DOCTYPE d [<!ENTITY x 'y'>]>",
            b"&",
            b"&amp;",
            b"&#13;",
            b";",
            b"&x",
            b"text",
            b" ",
            b"\r\n",
            b"\t",
            b"\xC3\xA9",
            b"\xE2\x80",
            b"\x93",
            b"\xFF",
            b"\xEF\xBB\xBF",
            b"=",
            b"QID",
            b"\n  ",
        ];
        let mut rng = crate::test_rng::TestRng::new(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let n = rng.below(24);
            let mut doc = Vec::new();
            for _ in 0..n {
                doc.extend_from_slice(PIECES[rng.below(PIECES.len())]);
            }
            assert_same_on_every_prefix(&doc);
        }
    }
}

//! Tests of `xml::push_reader`.

use super::*;
use crate::xml::Element;

fn decode_attribute(raw: &str) -> String {
    let mut out = String::new();
    decode_attribute_into(raw, &mut out);
    out
}

/// Records every sink call so that whole and split parses can be compared.
#[derive(Debug, Default, Clone, PartialEq)]
struct Log {
    calls: Vec<String>,
    trees: Vec<Element>,
    capture: Vec<&'static str>,
}

impl Sink for Log {
    fn open(&mut self, path: &[String], name: &str) -> Result<Capture, Error> {
        self.calls.push(format!("open {}/{name}", path.join("/")));
        Ok(if self.capture.contains(&name) { Capture::Tree } else { Capture::Skip })
    }
    fn captured(&mut self, path: &[String], tree: Tree) -> Result<(), Error> {
        let element = tree.to_element();
        self.calls.push(format!("captured {}/{}", path.join("/"), element.name));
        self.trees.push(element);
        Ok(())
    }
    fn close(&mut self, path: &[String], name: &str) -> Result<(), Error> {
        self.calls.push(format!("close {}/{name}", path.join("/")));
        Ok(())
    }
    fn notice(&mut self, text: String) {
        self.calls.push(format!("notice {text}"));
    }
}

type Outcome = (Log, Result<(), String>);

fn parse_chunks(chunks: &[&[u8]], capture: &[&'static str], cap: usize) -> Outcome {
    let mut log = Log { capture: capture.to_vec(), ..Log::default() };
    let mut reader = PushReader::new(cap);
    for chunk in chunks {
        if let Err(e) = reader.push(chunk, &mut log) {
            return (log, Err(e.code().to_string()));
        }
    }
    let result = reader.finish(&mut log).map_err(|e| e.code().to_string());
    (log, result)
}

fn parse(doc: &[u8], capture: &[&'static str]) -> Outcome {
    parse_chunks(&[doc], capture, DEFAULT_MAX_RECORD_BYTES)
}

/// Parses whole, then at every 2-piece split and in 1-byte chunks, and asserts identical outcomes.
fn parse_all_splits(doc: &[u8], capture: &[&'static str], cap: usize) -> Outcome {
    let whole = parse_chunks(&[doc], capture, cap);
    for i in 0..=doc.len() {
        let (a, b) = doc.split_at(i);
        let split = parse_chunks(&[a, b], capture, cap);
        assert_eq!(split, whole, "split at {i} of {:?}", String::from_utf8_lossy(doc));
    }
    let bytes: Vec<&[u8]> = doc.chunks(1).collect();
    assert_eq!(parse_chunks(&bytes, capture, cap), whole, "1-byte chunks");
    // three pieces for short documents
    if doc.len() <= 120 {
        for i in 0..=doc.len() {
            for j in i..=doc.len() {
                let parts = [&doc[..i], &doc[i..j], &doc[j..]];
                assert_eq!(parse_chunks(&parts, capture, cap), whole, "split at {i},{j}");
            }
        }
    }
    whole
}

fn tree(outcome: &Outcome, i: usize) -> &Element {
    &outcome.0.trees[i]
}

#[test]
fn captures_tree_with_attributes_text_and_children_across_all_splits() {
    let doc = br#"<?xml version="1.0"?><R><L><X id="1" k='a &amp; b'><A>one</A><B/><C>  two  </C></X></L></R>"#;
    let out = parse_all_splits(doc, &["X"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(out.1, Ok(()));
    let x = tree(&out, 0);
    assert_eq!(x.attr("id"), Some("1"));
    assert_eq!(x.attr("k"), Some("a & b"));
    assert_eq!(x.child_text("A"), Some("one"));
    assert_eq!(x.child("B").map(|b| b.text.as_str()), Some(""));
    assert_eq!(x.child_text("C"), Some("two"));
    assert_eq!(out.0.calls, vec!["open /R", "open R/L", "open R/L/X", "captured R/L/X", "close R/L", "close /R"]);
}

#[test]
fn cdata_text_and_references_concatenate_then_trim() {
    let doc = b"<R><X>\n  a<![CDATA[ &quot;b&quot; ]]>c&lt;&#65;&#x42;<!-- no --><?pi x?>d  \n</X></R>";
    let out = parse_all_splits(doc, &["X"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(out.1, Ok(()));
    assert_eq!(tree(&out, 0).text, "a &quot;b&quot; c<ABd");
}

#[test]
fn mixed_content_and_whitespace_references_concatenate_then_trim() {
    // Text before a child goes straight into the tree, text after it waits until the element
    // closes; a reference can put whitespace first, which the close trims like any other.
    let doc = b"<R><A> x <B>1</B> y &#32;<C/>z&#10;</A><D>&#10; q &#32;</D><E><F/> tail\r\n</E></R>";
    let out = parse_all_splits(doc, &["A", "D", "E"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(out.1, Ok(()));
    let a = tree(&out, 0);
    assert_eq!(a.text, "x  y  z");
    assert_eq!(a.children, [Element::leaf("B", "1"), Element::new("C")]);
    assert_eq!(tree(&out, 1).text, "q");
    assert_eq!(tree(&out, 2).text, "tail");
}

#[test]
fn cdata_keeps_entities_literal_and_multiline() {
    let doc = b"<R><X><![CDATA[line1\r\nline2\rline3 &amp; <tag> ]] >]]></X></R>";
    let out = parse_all_splits(doc, &["X"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(tree(&out, 0).text, "line1\nline2\nline3 &amp; <tag> ]] >");
}

#[test]
fn line_ends_in_text_are_normalised_across_splits() {
    let out = parse_all_splits(b"<R><X>a\r\nb\rc\r&amp;\r<![CDATA[\nd]]>\r\n</X></R>", &["X"], 1 << 20);
    assert_eq!(tree(&out, 0).text, "a\nb\nc\n&\n\nd");
}

#[test]
fn whitespace_only_and_empty_text_trim_to_empty() {
    let out = parse_all_splits(b"<R><X>  \n\t </X><X><![CDATA[]]></X><X><![CDATA[  ]]></X></R>", &["X"], 1 << 20);
    assert!(out.0.trees.iter().all(|t| t.text.is_empty()));
    assert_eq!(out.0.trees.len(), 3);
}

#[test]
fn multibyte_utf8_survives_every_split() {
    let doc = "<R><X a=\"é€\">Grüße 😀 €</X></R>".as_bytes();
    let out = parse_all_splits(doc, &["X"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(tree(&out, 0).text, "Grüße 😀 €");
    assert_eq!(tree(&out, 0).attr("a"), Some("é€"));
    assert!(!out.0.calls.iter().any(|c| c.starts_with("notice")));
}

#[test]
fn doctype_with_external_dtd_and_internal_subset_is_skipped() {
    let doc = br#"<?xml version="1.0"?>
<!DOCTYPE R SYSTEM "https://example.invalid/x.dtd" [ <!ENTITY e "expanded"> <!ELEMENT R ANY> ]>
<!-- c --><R><X>&e;</X></R>"#;
    let out = parse_all_splits(doc, &["X"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(out.1, Ok(()));
    assert_eq!(tree(&out, 0).text, "&e;");
    let notices: Vec<_> = out.0.calls.iter().filter(|c| c.starts_with("notice")).collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].contains("&e;"));
}

#[test]
fn unknown_entities_give_one_notice_and_stray_ampersands_stay() {
    let doc = b"<R><X>AT&T &foo; &bar; a & b &#xZZ; &#0; &#9731;</X></R>";
    let out = parse_all_splits(doc, &["X"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(out.1, Ok(()));
    assert_eq!(tree(&out, 0).text, "AT&T &foo; &bar; a & b &#xZZ; &#0; \u{2603}");
    let notices = out.0.calls.iter().filter(|c| c.starts_with("notice")).count();
    assert_eq!(notices, 1);
}

#[test]
fn comments_and_pis_are_skipped_anywhere() {
    let doc = b"<!--a--><?pi?><R><!--b--><X>1<!--x-->2</X><?p q?></R><!--c--><?z?>\n";
    let out = parse_all_splits(doc, &["X"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(out.1, Ok(()));
    assert_eq!(tree(&out, 0).text, "12");
}

#[test]
fn truncated_document_is_truncated_page() {
    let doc = b"<R><X>1</X><X>2</X></R>";
    for cut in 1..doc.len() - 1 {
        let out = parse_all_splits(&doc[..cut], &["X"], DEFAULT_MAX_RECORD_BYTES);
        assert_eq!(out.1, Err("TRUNCATED_PAGE".to_string()), "cut at {cut}");
    }
    // The record that was complete is delivered; the cut one never is.
    let out = parse(&doc[..15], &["X"]);
    assert_eq!(out.0.trees.len(), 1);
}

#[test]
fn empty_body_and_prolog_only() {
    assert_eq!(parse(b"", &[]).1, Err("EMPTY_RESPONSE".to_string()));
    assert_eq!(parse(b"  \r\n ", &[]).1, Err("EMPTY_RESPONSE".to_string()));
    assert_eq!(parse(b"<?xml version=\"1.0\"?>\n<!-- x -->", &[]).1, Err("TRUNCATED_PAGE".to_string()));
    assert_eq!(parse(b"<?xml version=\"1.0\"?>\n<!-- x", &[]).1, Err("TRUNCATED_PAGE".to_string()));
}

#[test]
fn text_instead_of_xml() {
    let out = parse_all_splits(b"Bad Login/Password", &[], 1 << 20);
    assert_eq!(out.1, Err("NOT_XML".to_string()));
    let out = parse_all_splits(b"{\"error\": 1}<x/>", &[], 1 << 20);
    assert_eq!(out.1, Err("NOT_XML".to_string()));
}

#[test]
fn malformed_markup_is_an_error_not_a_wait() {
    for doc in [
        &b"<R><X>1</Y></R>"[..],
        b"<R><!x></R>",
        b"<R>< X/></R>",
        b"<R><1/></R>",
        b"</R>",
        b"<R><![FOO[x]]></R>",
        b"<R><X a=\"1></X></R> trailing",
    ] {
        let out = parse_all_splits(doc, &["X"], 1 << 20);
        assert!(
            matches!(out.1.as_ref().map_err(String::as_str), Err("MALFORMED_XML") | Err("TRUNCATED_PAGE")),
            "{:?} gave {:?}",
            String::from_utf8_lossy(doc),
            out.1
        );
    }
    assert_eq!(parse(b"<R><X>1</Y></R>", &["X"]).1, Err("MALFORMED_XML".to_string()));
    assert_eq!(parse(b"<R><A>1</B></R>", &[]).1, Err("MALFORMED_XML".to_string()));
    assert_eq!(parse(b"<R><!x></R>", &[]).1, Err("MALFORMED_XML".to_string()));
}

#[test]
fn content_after_root_is_ignored_with_a_notice() {
    let out = parse_all_splits(b"<R><X>1</X></R><!-- ok -->\n<junk/>more", &["X"], 1 << 20);
    assert_eq!(out.1, Ok(()));
    assert_eq!(out.0.trees.len(), 1);
    assert_eq!(out.0.calls.iter().filter(|c| c.starts_with("notice")).count(), 1);
    let out = parse_all_splits(b"<R/>\n<!-- cut", &[], 1 << 20);
    assert_eq!(out.1, Ok(()));
}

#[test]
fn invalid_utf8_is_replaced_with_one_notice() {
    let doc = b"<R><X>a\xFFb\xC3</X><X>\xE2\x82c\xF0\x9F\x98</X></R>";
    let out = parse_all_splits(doc, &["X"], 1 << 20);
    assert_eq!(out.1, Ok(()));
    assert_eq!(tree(&out, 0).text, "a\u{FFFD}b\u{FFFD}");
    assert_eq!(tree(&out, 1).text, "\u{FFFD}c\u{FFFD}");
    assert_eq!(out.0.calls.iter().filter(|c| c.starts_with("notice")).count(), 1);
    // cut inside a multi-byte character at the very end
    let out = parse(b"<R/>\xE2\x82", &[]);
    assert_eq!(out.1, Ok(()));
}

#[test]
fn invalid_utf8_anywhere_is_replaced_the_same_way_whatever_the_split() {
    // Valid input is validated once, by quick-xml, event by event; the first invalid byte
    // switches the reader to sanitising, whichever kind of token holds it.
    let doc = b"<R a=\"\xFF\"><!-- \xFF --><X k=\"v\xFE\">t&amp;\xC0u<![CDATA[\xFF]]></X><?pi \xFF?><X>\xE2\x82\xAC ok</X></R>\n<!-- \xFF -->";
    let out = parse_all_splits(doc, &["X"], 1 << 20);
    assert_eq!(out.1, Ok(()));
    let x = tree(&out, 0);
    assert_eq!(x.attrs, [("k".to_string(), "v\u{FFFD}".to_string())]);
    assert_eq!(x.text, "t&\u{FFFD}u\u{FFFD}");
    assert_eq!(tree(&out, 1).text, "\u{20AC} ok");
    assert_eq!(out.0.calls.iter().filter(|c| c.starts_with("notice")).count(), 1);
    // An invalid byte in a comment after the root (which is read, not dropped) is noticed too.
    let out = parse_all_splits(b"<R><X>a</X></R><!-- \xFF -->", &["X"], 1 << 20);
    assert_eq!(out.1, Ok(()));
    assert_eq!(out.0.calls.iter().filter(|c| c.starts_with("notice")).count(), 1);
    // Invalid bytes in an element name are still a malformed document.
    assert_eq!(parse(b"<R><\xFFX/></R>", &[]).1, Err("MALFORMED_XML".to_string()));
}

#[test]
fn bom_at_start_is_dropped_and_inside_text_is_kept() {
    let doc = "\u{FEFF}<R><X>\u{FEFF}a</X></R>".as_bytes();
    let out = parse_all_splits(doc, &["X"], 1 << 20);
    assert_eq!(out.1, Ok(()));
    assert_eq!(tree(&out, 0).text, "\u{FEFF}a");
}

#[test]
fn record_cap_names_element_and_parameter() {
    let doc = b"<R><X><A>0123456789</A><A>0123456789</A></X></R>";
    let out = parse_all_splits(doc, &["X"], 30);
    assert_eq!(out.1, Err("RECORD_TOO_LARGE".to_string()));
    let mut reader = PushReader::new(30);
    let mut log = Log { capture: vec!["X"], ..Log::default() };
    let err = reader.push(doc, &mut log).err().map(|e| e.message().to_string()).unwrap_or_default();
    assert!(err.contains("<X>") && err.contains("maxRecordMB") && err.contains("30 bytes"), "{err}");
    // fits exactly
    assert_eq!(parse_chunks(&[doc], &["X"], 41).1, Ok(()));
    // uncaptured content of any size is fine
    assert_eq!(parse_chunks(&[doc], &[], 30).1, Ok(()));
}

#[test]
fn token_cap_bounds_the_carry_over_buffer() {
    let mut doc = b"<R><!--".to_vec();
    doc.extend(std::iter::repeat_n(b'x', 200));
    doc.extend(b"--></R>");
    let whole = parse_chunks(&[&doc], &[], 100);
    assert_eq!(whole.1, Err("RECORD_TOO_LARGE".to_string()));
    let small: Vec<&[u8]> = doc.chunks(7).collect();
    assert_eq!(parse_chunks(&small, &[], 100), whole);
    // a huge text run outside captures is not a token
    let mut doc = b"<R>".to_vec();
    doc.extend(std::iter::repeat_n(b'y', 500));
    doc.extend(b"</R>");
    let small: Vec<&[u8]> = doc.chunks(3).collect();
    assert_eq!(parse_chunks(&small, &[], 100).1, Ok(()));
    // and the buffer stays small while it streams
    let mut reader = PushReader::new(100);
    let mut log = Log::default();
    for c in doc.chunks(3) {
        assert!(reader.push(c, &mut log).is_ok());
        assert!(reader.buffered() < 10);
    }
}

#[test]
fn big_cdata_in_small_chunks_is_linear_and_exact() {
    let mut body = String::new();
    for i in 0..20_000 {
        body.push_str(&format!("line {i} -> ]] > value\r\n"));
    }
    let doc = format!("<R><X><![CDATA[{body}]]></X></R>");
    let whole = parse(doc.as_bytes(), &["X"]);
    let chunks: Vec<&[u8]> = doc.as_bytes().chunks(5).collect();
    let started = std::time::Instant::now();
    let split = parse_chunks(&chunks, &["X"], DEFAULT_MAX_RECORD_BYTES);
    assert_eq!(split, whole);
    assert_eq!(tree(&whole, 0).text, body.replace("\r\n", "\n").trim_end());
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn too_deep_is_refused_without_recursion_trouble() {
    let mut doc = String::new();
    for _ in 0..(MAX_DEPTH + 10) {
        doc.push_str("<a>");
    }
    assert_eq!(parse(doc.as_bytes(), &["a"]).1, Err("XML_TOO_DEEP".to_string()));
}

#[test]
fn root_capture_and_empty_root() {
    let out = parse_all_splits(b"<R a='1'><X>1</X></R>", &["R"], 1 << 20);
    assert_eq!(out.1, Ok(()));
    assert_eq!(out.0.calls, vec!["open /R", "captured /R"]);
    let out = parse_all_splits(b"<R/>", &[], 1 << 20);
    assert_eq!(out.0.calls, vec!["open /R", "close /R"]);
    assert_eq!(out.1, Ok(()));
}

#[test]
fn errors_are_sticky_and_misuse_is_a_caller_error() {
    let mut reader = PushReader::default();
    let mut log = Log::default();
    assert!(reader.push(b"<R></X>", &mut log).is_err());
    assert_eq!(reader.push(b"<R/>", &mut log).map_err(|e| e.code()), Err(ErrorCode::MalformedXml));
    let mut reader = PushReader::default();
    assert!(reader.push(b"<R/>", &mut log).is_ok());
    assert!(reader.finish(&mut log).is_ok());
    assert_eq!(reader.push(b"x", &mut log).map_err(|e| e.code()), Err(ErrorCode::PushAfterFinish));
}

#[test]
fn attribute_values_are_decoded_and_normalised() {
    assert_eq!(decode_attribute("a&lt;b&#x41;&unknown;c\r\nd\te&"), "a<bA&unknown;c d e&");
    assert_eq!(decode_attribute("&amp"), "&amp");
}

#[test]
fn sink_errors_stop_the_reader() {
    struct Refuse;
    impl Sink for Refuse {
        fn open(&mut self, _: &[String], name: &str) -> Result<Capture, Error> {
            Err(Error::server(ErrorCode::UnexpectedDocument, false, name.to_string()))
        }
        fn captured(&mut self, _: &[String], _: Tree) -> Result<(), Error> {
            Ok(())
        }
        fn close(&mut self, _: &[String], _: &str) -> Result<(), Error> {
            Ok(())
        }
        fn notice(&mut self, _: String) {}
    }
    let mut reader = PushReader::default();
    assert_eq!(reader.push(b"<R>", &mut Refuse).map_err(|e| e.code()), Err(ErrorCode::UnexpectedDocument));
    assert_eq!(reader.finish(&mut Refuse).map_err(|e| e.code()), Err(ErrorCode::UnexpectedDocument));
}

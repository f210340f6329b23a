//! Archer output parsed back gives exactly the records the seed's shapes call for, for every real
//! fixture and every data source it feeds, in both output shapes (`outputShape`: `records`, and
//! `qualys`, each Qualys element whole): escaping, CDATA unwrapping, entities and nesting survive
//! the trip.
//!
//! The expected records come from [`reference`], a deliberately plain model of the record shapes
//! on owned [`Element`] trees (the core writes records straight from its flat parse tree instead;
//! see src/records/mod.rs for the shapes in words).

mod common;
use std::fs;
use std::path::Path;

use qualys_vm_transporter::output::write_element;
use qualys_vm_transporter::params::DataSource;
use qualys_vm_transporter::records::{self, Shape};
use qualys_vm_transporter::response::{DocKind, Item, Limits, ResponseParser};
use qualys_vm_transporter::transform::Transform;
use qualys_vm_transporter::xml::push_reader::PushReader;
use qualys_vm_transporter::xml::Element;

/// The record shapes, written the obvious way on owned trees.
mod reference {
    use qualys_vm_transporter::params::DataSource;
    use qualys_vm_transporter::records::keys::{DETECTION_KEY, DEVICE_LINK, VULN_LINK};
    use qualys_vm_transporter::records::Shape;
    use qualys_vm_transporter::xml::Element;

    fn text<'a>(el: &'a Element, name: &str) -> &'a str {
        el.child_text(name).unwrap_or("")
    }

    fn device_link(host: &Element) -> String {
        host.child_text("ID").or_else(|| host.child_text("DNS")).unwrap_or("").to_string()
    }

    fn with_key_first(mut el: Element, key: &str, value: String) -> Element {
        el.children.insert(0, Element::leaf(key, value));
        el
    }

    /// The records one captured Qualys element gives in `shape`, as Archer reads them back:
    /// characters XML 1.0 forbids come back as U+FFFD (the output replaces them and counts them).
    /// The qualys shape is the element itself, whatever the data source.
    pub fn shape(source: DataSource, shape: Shape, element: Element) -> Vec<Element> {
        let mut records = match shape {
            Shape::Records => shape_raw(source, element),
            Shape::Qualys => vec![element],
        };
        records.iter_mut().for_each(replace_forbidden);
        records
    }

    fn replace_forbidden(el: &mut Element) {
        let ok = |c: char| matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        let fix = |s: &mut String| *s = s.chars().map(|c| if ok(c) { c } else { '\u{FFFD}' }).collect();
        fix(&mut el.text);
        el.attrs.iter_mut().for_each(|(_, v)| fix(v));
        el.children.iter_mut().for_each(replace_forbidden);
    }

    fn shape_raw(source: DataSource, element: Element) -> Vec<Element> {
        match source {
            DataSource::Kb => {
                let qid = text(&element, "QID").to_string();
                vec![with_key_first(element, VULN_LINK, qid)]
            }
            DataSource::Hosts => {
                let link = device_link(&element);
                vec![with_key_first(element, DEVICE_LINK, link)]
            }
            DataSource::HostDetections => {
                let mut host = element;
                host.children.retain(|c| c.name != "DETECTION_LIST");
                let link = device_link(&host);
                vec![with_key_first(host, DEVICE_LINK, link)]
            }
            DataSource::Detections => detections_of(element),
        }
    }

    fn detections_of(mut host: Element) -> Vec<Element> {
        let Some(pos) = host.children.iter().position(|c| c.name == "DETECTION_LIST") else { return Vec::new() };
        let list = host.children.remove(pos);
        let identity = Element {
            name: "HOST".to_string(),
            attrs: Vec::new(),
            text: String::new(),
            children: host.children.into_iter().filter(|c| c.children.is_empty() || c.name == "DNS_DATA").collect(),
        };
        list.children
            .into_iter()
            .filter(|d| d.name == "DETECTION")
            .map(|d| {
                let (qid, port, protocol) = (text(&d, "QID"), text(&d, "PORT"), text(&d, "PROTOCOL"));
                let key = match identity.child_text("DNS") {
                    Some(dns) => format!("{dns}|{qid}|{port}|{protocol}"),
                    None => format!(
                        "{}|{qid}|{port}|{protocol}|{}",
                        text(&identity, "ID"),
                        text(&d, "FIRST_FOUND_DATETIME")
                    ),
                };
                let mut children = vec![
                    Element::leaf(DETECTION_KEY, key),
                    Element::leaf(DEVICE_LINK, device_link(&identity)),
                    Element::leaf(VULN_LINK, qid),
                    identity.clone(),
                ];
                children.extend(d.children);
                Element { name: "DETECTION".to_string(), attrs: d.attrs, text: String::new(), children }
            })
            .collect()
    }
}

fn sources_for(doc: &str) -> &'static [DataSource] {
    if doc.contains("<KNOWLEDGE_BASE_VULN_LIST_OUTPUT") {
        &[DataSource::Kb]
    } else if doc.contains("<HOST_LIST_VM_DETECTION_OUTPUT") {
        &[DataSource::HostDetections, DataSource::Detections]
    } else if doc.contains("<HOST_LIST_OUTPUT") {
        &[DataSource::Hosts]
    } else {
        &[]
    }
}

fn kind(source: DataSource) -> DocKind {
    match source {
        DataSource::Kb => DocKind::KnowledgeBase,
        DataSource::Hosts => DocKind::HostList,
        _ => DocKind::Detections,
    }
}

/// Pushes `bytes` through a [`Transform`] for `source` in pieces of `piece` bytes, with output
/// chunks of 3 records, and checks the output against the reference shapes: parsed back it gives
/// exactly the reference records, serialised again it gives exactly the same bytes, and each
/// chunk's `ascii` flag is true. Both shapes; returns how many records were checked.
fn round_trip(what: &str, bytes: &[u8], source: DataSource, piece: usize) -> usize {
    Shape::ALL.into_iter().map(|shape| round_trip_in(what, bytes, source, shape, piece)).sum()
}

/// [`round_trip`] in one shape.
fn round_trip_in(what: &str, bytes: &[u8], source: DataSource, shape: Shape, piece: usize) -> usize {
    let what = &format!("{what} {shape:?}");
    // What the seed's shapes give for the parser's records.
    let mut parser = ResponseParser::new(kind(source), Limits::default());
    let mut items = Vec::new();
    parser.push(bytes, &mut items).expect("parse");
    parser.finish(&mut items).expect("finish");
    let shaped: Vec<Element> = items
        .into_iter()
        .filter_map(|i| if let Item::Record(el) = i { Some(el.to_element()) } else { None })
        .flat_map(|el| reference::shape(source, shape, el))
        .collect();

    // What Archer receives, through the same Transform the CLI and benchmarks use, with small
    // chunks so records span several writeItem calls.
    let mut t = Transform::with_shape(source, shape, 3, 1 << 20, Limits::default());
    for p in bytes.chunks(piece) {
        t.push(p).expect("push");
    }
    let summary = t.finish().expect("transform");
    let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ROOT>");
    let mut chunks = 0;
    let mut ascii_chunks = 0;
    while let Some(c) = t.take_output() {
        chunks += 1;
        assert!(c.records <= 3);
        // `ascii` may be false for an ASCII chunk (a record with a non-ASCII name wrote nothing
        // to it), never true for a non-ASCII one.
        assert!(!c.ascii || c.xml.is_ascii(), "{what} {source:?}: chunk {chunks} is not ASCII");
        ascii_chunks += usize::from(c.ascii);
        doc.push_str(&c.xml);
    }
    doc.push_str("</ROOT>");
    assert_eq!(summary.records as usize, shaped.len(), "{what} {source:?}");
    assert_eq!(chunks, shaped.len().div_ceil(3), "{what} {source:?}");

    let mut back = common::Records::default();
    let mut reader = PushReader::new(64 << 20);
    reader.push(doc.as_bytes(), &mut back).expect("output is well-formed XML");
    reader.finish(&mut back).expect("output closes");
    assert_eq!(back.0, shaped, "{what} {source:?}");
    // And serialising the parsed-back records gives the same bytes.
    let mut again = String::new();
    for el in &back.0 {
        write_element(el, &mut again);
    }
    assert_eq!(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ROOT>{again}</ROOT>"), doc, "{what} {source:?}");
    if !doc.contains("N\u{c4}ME") {
        assert_eq!(
            ascii_chunks, chunks,
            "{what} {source:?}: every chunk of an all-ASCII-names document is flagged ascii"
        );
    }
    shaped.len()
}

#[test]
fn every_fixture_round_trips_through_the_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
    let mut checked = 0;
    let mut records_checked = 0;
    let mut names: Vec<_> = fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    names.sort();
    for path in names {
        let bytes = fs::read(&path).expect("fixture");
        let text = String::from_utf8_lossy(&bytes);
        for &source in sources_for(&text) {
            records_checked += round_trip(&format!("{path:?}"), &bytes, source, 977);
            checked += 1;
        }
    }
    // kb: 4 documents (2 + 42 + 1 + 0 VULNs); hosts: 2 (ID_SET and empty, no HOST);
    // detection output: 2 documents x (hostDetections, detections) = 2 HOSTs + 8 DETECTIONs;
    // in the qualys shape the same VULNs, and 2 HOSTs for each detection source.
    assert_eq!(checked, 10, "fixture/source pairs checked");
    assert_eq!(records_checked, (45 + 2 + 8) + (45 + 2 + 2), "records checked");
}

#[test]
fn every_complete_response_round_trips_through_the_output() {
    // tests/fixtures/complete: every element a record can hold (docs/OUTPUT.md is generated from them).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/complete");
    let mut records_checked = 0;
    for name in ["kb.xml", "hosts.xml", "detections.xml"] {
        let bytes = fs::read(dir.join(name)).expect("complete response");
        let text = String::from_utf8_lossy(&bytes);
        for &source in sources_for(&text) {
            for piece in [7, 1 << 20] {
                records_checked += round_trip(name, &bytes, source, piece);
            }
        }
    }
    // kb 2 VULNs, hosts 3 HOSTs, hostDetections 2 HOSTs, detections 4 DETECTIONs (records shape);
    // the qualys shape: 2 + 3 + 2 + 2; each at two piece sizes.
    assert_eq!(records_checked, 2 * ((2 + 3 + 2 + 4) + (2 + 3 + 2 + 2)));
}

#[test]
fn key_fields_on_the_real_detection_fixture() {
    let bytes = include_bytes!("fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let mut t = Transform::new(DataSource::Detections, 1000, 1 << 20, Limits::default());
    t.push(bytes).expect("push");
    t.finish().expect("finish");
    let out = t.take_output().expect("one chunk").xml;
    let mut back = common::Records::default();
    let mut reader = PushReader::new(1 << 20);
    reader.push(format!("<R>{out}</R>").as_bytes(), &mut back).expect("xml");
    reader.finish(&mut back).expect("closed");
    assert_eq!(back.0.len(), 8);
    for d in &back.0 {
        let host = d.child("HOST").expect("host identity");
        let qid = d.child_text("QID").expect("qid");
        assert_eq!(d.child_text(records::keys::VULN_LINK), Some(qid));
        assert_eq!(d.child_text(records::keys::DEVICE_LINK), host.child_text("ID"));
        let key = d.child_text(records::keys::DETECTION_KEY).expect("key");
        let port = d.child_text("PORT").unwrap_or("");
        let proto = d.child_text("PROTOCOL").unwrap_or("");
        let expected = match host.child_text("DNS") {
            Some(dns) => format!("{dns}|{qid}|{port}|{proto}"),
            None => format!(
                "{}|{qid}|{port}|{proto}|{}",
                host.child_text("ID").unwrap_or(""),
                d.child_text("FIRST_FOUND_DATETIME").unwrap_or("")
            ),
        };
        assert_eq!(key, expected);
    }
}

/// Leaf texts that take every path of the parse tree and the writer: verbatim text, text needing
/// escaping, references, CDATA, surrounding and reference-made whitespace, CR LF, non-ASCII,
/// forbidden characters, mixed content, attributes, empty elements.
const PIECES: &[&str] = &[
    "plain value",
    "12345",
    "a &amp; b &lt;c&gt;",
    "<![CDATA[x < y & z]]>",
    "<![CDATA[%windir%\\System32\\ntoskrnl.exe  Version is  10.0\n%windir%\\win32k.sys]]>",
    "  padded  ",
    "\n      indented\n    ",
    "line1\r\nline2\rline3",
    "caf\u{e9} \u{2013} Windows",
    "&#32;starts with a space reference",
    "ends with a newline reference&#10;",
    "tab\there",
    "&#x1F600;",
    "AT&T",
    "&unknown; entity",
    "",
    "text<B>1</B>more",
    "<![CDATA[]]>",
    "a]]&gt;b",
    "&#1;",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as usize
    }
    fn piece(&mut self) -> &'static str {
        PIECES[self.next() % PIECES.len()]
    }
    /// A leaf (sometimes with an attribute, sometimes self-closed).
    fn leaf(&mut self, name: &str) -> String {
        match self.next() % 10 {
            0 => format!("<{name}/>"),
            1 => format!("<{name} kind=\"x&amp;y\">{}</{name}>", self.piece()),
            2 => format!("<{name} >{}</{name} >", self.piece()),
            _ => format!("<{name}>{}</{name}>", self.piece()),
        }
    }
}

fn generated(kind: DocKind, seed: u64, records: usize) -> String {
    let mut r = Rng(seed);
    let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
    let (root, list) = match kind {
        DocKind::KnowledgeBase => ("KNOWLEDGE_BASE_VULN_LIST_OUTPUT", "VULN_LIST"),
        DocKind::HostList => ("HOST_LIST_OUTPUT", "HOST_LIST"),
        DocKind::Detections => ("HOST_LIST_VM_DETECTION_OUTPUT", "HOST_LIST"),
    };
    doc.push_str(&format!("<{root}>\n  <RESPONSE>\n    <{list}>\n"));
    for i in 0..records {
        let fields: String = (0..r.next() % 6).map(|k| format!("\n        {}", r.leaf(&format!("F{k}")))).collect();
        let odd = if r.next().is_multiple_of(7) { "<N\u{c4}ME>v</N\u{c4}ME>" } else { "" };
        match kind {
            DocKind::KnowledgeBase => {
                doc.push_str(&format!(
                    "      <VULN>\n        <QID>{}</QID>{fields}{odd}\n        <TITLE>{}</TITLE>\n      </VULN>\n",
                    1000 + i,
                    r.piece()
                ));
            }
            DocKind::HostList => {
                let dns = if r.next().is_multiple_of(2) { format!("<DNS>{}</DNS>", r.piece()) } else { String::new() };
                doc.push_str(&format!("      <HOST>\n        <ID>{}</ID>{dns}{fields}{odd}\n        <TAGS><TAG>{}</TAG></TAGS>\n      </HOST>\n", 5000 + i, r.piece()));
            }
            DocKind::Detections => {
                let dns = if r.next().is_multiple_of(2) {
                    format!("<DNS><![CDATA[h{i}.example]]></DNS>")
                } else {
                    String::new()
                };
                let dets: String = (0..r.next() % 4)
                    .map(|d| {
                        let port = if r.next().is_multiple_of(3) { String::new() } else { format!("<PORT>{}</PORT><PROTOCOL>tcp</PROTOCOL>", 20 + d) };
                        format!("\n          <DETECTION>\n            <QID>{}</QID>{port}\n            {}\n            <FIRST_FOUND_DATETIME>2024-01-0{}T00:00:00Z</FIRST_FOUND_DATETIME>\n          </DETECTION>", 90 + d, r.leaf("RESULTS"), 1 + d)
                    })
                    .collect();
                doc.push_str(&format!(
                    "      <HOST>\n        <ID>{}</ID>{dns}<DNS_DATA><HOSTNAME>{}</HOSTNAME></DNS_DATA>{fields}{odd}\n        <DETECTION_LIST>{dets}\n        </DETECTION_LIST>\n      </HOST>\n",
                    7000 + i,
                    r.piece()
                ));
            }
        }
    }
    doc.push_str(&format!("    </{list}>\n  </RESPONSE>\n</{root}>\n"));
    doc
}

/// Generated documents full of edge cases give exactly the reference output too, whatever the
/// input pieces, and every chunk's ascii flag is right (some records have a non-ASCII name).
#[test]
fn generated_edge_cases_round_trip_through_the_output() {
    let mut records = 0;
    for seed in 1..=12u64 {
        for (kind, sources) in [
            (DocKind::KnowledgeBase, &[DataSource::Kb][..]),
            (DocKind::HostList, &[DataSource::Hosts][..]),
            (DocKind::Detections, &[DataSource::HostDetections, DataSource::Detections][..]),
        ] {
            let doc = generated(kind, seed * 7919, 40);
            for &source in sources {
                for piece in [5, 64, 1 << 20] {
                    records += round_trip(&format!("seed {seed} piece {piece}"), doc.as_bytes(), source, piece);
                }
            }
        }
    }
    assert!(records > 2 * 3 * 12 * 4 * 40, "records checked: {records}");
}

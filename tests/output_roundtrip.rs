//! Archer output parsed back gives exactly the records the core shaped, for every real fixture and
//! every data source it feeds: escaping, CDATA unwrapping, entities and nesting survive the trip.

use std::fs;
use std::path::Path;

use qualys_vm_transporter::output::write_element;
use qualys_vm_transporter::params::DataSource;
use qualys_vm_transporter::records;
use qualys_vm_transporter::response::{DocKind, Item, Limits, ResponseParser};
use qualys_vm_transporter::transform::Transform;
use qualys_vm_transporter::xml::push_reader::{Capture, PushReader, Sink};
use qualys_vm_transporter::xml::Element;
use qualys_vm_transporter::Error;

/// Captures every child of the root element (the records under Archer's root node).
#[derive(Default)]
struct Records(Vec<Element>);

impl Sink for Records {
    fn open(&mut self, path: &[String], _name: &str) -> Result<Capture, Error> {
        Ok(if path.len() == 1 { Capture::Tree } else { Capture::Skip })
    }
    fn captured(&mut self, _path: &[String], element: Element) -> Result<(), Error> {
        self.0.push(element);
        Ok(())
    }
    fn close(&mut self, _path: &[String], _name: &str) -> Result<(), Error> {
        Ok(())
    }
    fn notice(&mut self, text: String) {
        panic!("output produced a parser notice: {text}");
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

#[test]
fn every_fixture_round_trips_through_the_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
    let mut checked = 0;
    let mut records_checked = 0;
    let mut names: Vec<_> = fs::read_dir(&dir).expect("fixtures dir").filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "xml")).collect();
    names.sort();
    for path in names {
        let bytes = fs::read(&path).expect("fixture");
        let text = String::from_utf8_lossy(&bytes);
        for &source in sources_for(&text) {
            // What the core shapes, straight from the parser.
            let mut parser = ResponseParser::new(kind(source), Limits::default());
            let mut items = Vec::new();
            parser.push(&bytes, &mut items).expect("parse");
            parser.finish(&mut items).expect("finish");
            let shaped: Vec<Element> = items.into_iter().filter_map(|i| if let Item::Record(el) = i { Some(el) } else { None }).flat_map(|el| records::shape(source, el).records).collect();

            // What Archer receives, through the same Transform the CLI and benchmarks use, with
            // small chunks so records span several writeItem calls.
            let mut t = Transform::new(source, 3, 1 << 20, Limits::default());
            for piece in bytes.chunks(977) {
                t.push(piece).expect("push");
            }
            let summary = t.finish().expect("transform");
            let mut doc = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ROOT>");
            let mut chunks = 0;
            while let Some(c) = t.take_output() {
                chunks += 1;
                assert!(c.records <= 3);
                doc.push_str(&c.xml);
            }
            doc.push_str("</ROOT>");
            assert_eq!(summary.records as usize, shaped.len(), "{path:?} {source:?}");
            assert_eq!(chunks, shaped.len().div_ceil(3), "{path:?} {source:?}");

            let mut back = Records::default();
            let mut reader = PushReader::new(64 << 20);
            reader.push(doc.as_bytes(), &mut back).expect("output is well-formed XML");
            reader.finish(&mut back).expect("output closes");
            assert_eq!(back.0, shaped, "{path:?} {source:?}");
            // And serialising the parsed-back records gives the same bytes.
            let mut again = String::new();
            for el in &back.0 {
                write_element(el, &mut again);
            }
            assert_eq!(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ROOT>{again}</ROOT>"), doc);
            checked += 1;
            records_checked += shaped.len();
        }
    }
    // kb: 4 documents (2 + 42 + 1 + 0 VULNs); hosts: 2 (ID_SET and empty, no HOST);
    // detection output: 2 documents x (hostDetections, detections) = 2 HOSTs + 8 DETECTIONs.
    assert_eq!(checked, 10, "fixture/source pairs checked");
    assert_eq!(records_checked, 45 + 2 + 8, "records checked");
}

#[test]
fn key_fields_on_the_real_detection_fixture() {
    let bytes = include_bytes!("fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let mut t = Transform::new(DataSource::Detections, 1000, 1 << 20, Limits::default());
    t.push(bytes).expect("push");
    t.finish().expect("finish");
    let out = t.take_output().expect("one chunk").xml;
    let mut back = Records::default();
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
            None => format!("{}|{qid}|{port}|{proto}|{}", host.child_text("ID").unwrap_or(""), d.child_text("FIRST_FOUND_DATETIME").unwrap_or("")),
        };
        assert_eq!(key, expected);
    }
}

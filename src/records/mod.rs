//! Turning captured Qualys elements into Archer records, one data source at a time.
//!
//! In scope: which element becomes which record (`kb` -> `VULN`, `hosts` -> `HOST`,
//! `hostDetections` -> `HOST` without its `DETECTION_LIST`, `detections` -> one `DETECTION` per
//! detection carrying its host's identity), the unique-key fields of the seed (see [`keys`]), and
//! the record ID the paging plan uses as its checkpoint. Out of scope: parsing (see
//! `crate::response`) and serialising (see `crate::output`).
//!
//! Qualys's own element names and nesting are kept; elements we do not know pass through.

pub mod keys;

use crate::output::{self, Chunker};
use crate::params::DataSource;
use crate::xml::Element;

/// The records one captured Qualys element yields, and the ID that orders it.
#[derive(Debug, Default)]
pub struct Shaped {
    /// The record ID (host ID or QID) when the element has a numeric one.
    pub id: Option<u64>,
    pub records: Vec<Element>,
}

/// The default Archer root node for each data source's output.
pub fn default_root_node(source: DataSource) -> &'static str {
    match source {
        DataSource::Kb => "QUALYS_KB_VULNS",
        DataSource::Hosts => "QUALYS_HOSTS",
        DataSource::HostDetections => "QUALYS_DETECTION_HOSTS",
        DataSource::Detections => "QUALYS_DETECTIONS",
    }
}

/// The element name each data source's records carry in the output.
pub fn record_name(source: DataSource) -> &'static str {
    match source {
        DataSource::Kb => "VULN",
        DataSource::Hosts | DataSource::HostDetections => "HOST",
        DataSource::Detections => "DETECTION",
    }
}

/// The ID that orders a captured element (host ID or QID), for exactly-once bookkeeping.
pub fn id_of(source: DataSource, element: &Element) -> Option<u64> {
    let key = if source == DataSource::Kb { "QID" } else { "ID" };
    parse_id(element.child_text(key))
}

/// Writes the records of one captured element into `chunker`; returns how many. The output is
/// exactly what [`shape`] + `output::write_element` give (tests/output_roundtrip.rs checks it),
/// but a detection host's identity is serialised once for all its detections instead of being
/// copied into each record.
pub fn write(source: DataSource, element: Element, chunker: &mut Chunker) -> u64 {
    if source != DataSource::Detections {
        let shaped = shape(source, element);
        for rec in &shaped.records {
            chunker.push(rec);
        }
        return shaped.records.len() as u64;
    }
    let mut host = element;
    let Some(pos) = host.children.iter().position(|c| c.name == "DETECTION_LIST") else { return 0 };
    let list = host.children.remove(pos);
    let identity = host_identity(host);
    let mut identity_xml = String::new();
    let identity_replaced = output::write_element(&identity, &mut identity_xml);
    let device = keys::device_link(&identity);
    let mut written = 0;
    for d in list.children.into_iter().filter(|d| d.name == "DETECTION") {
        let key = keys::detection_key(&identity, &d);
        chunker.push_with(|out| {
            let mut replaced = identity_replaced;
            replaced += output::write_start("DETECTION", &d.attrs, false, out);
            replaced += output::write_leaf(keys::DETECTION_KEY, &key, out);
            replaced += output::write_leaf(keys::DEVICE_LINK, &device, out);
            replaced += output::write_leaf(keys::VULN_LINK, d.child_text("QID").unwrap_or(""), out);
            out.push_str(&identity_xml);
            for c in &d.children {
                replaced += output::write_element(c, out);
            }
            out.push_str("</DETECTION>");
            replaced
        });
        written += 1;
    }
    written
}

/// Shapes one captured element (a KB `VULN`, or a `HOST` of the host list or detection output).
pub fn shape(source: DataSource, element: Element) -> Shaped {
    match source {
        DataSource::Kb => {
            let id = parse_id(element.child_text("QID"));
            Shaped { id, records: vec![keys::with_vuln_key(element)] }
        }
        DataSource::Hosts => {
            let id = parse_id(element.child_text("ID"));
            Shaped { id, records: vec![keys::with_device_link(element)] }
        }
        DataSource::HostDetections => {
            let id = parse_id(element.child_text("ID"));
            let mut host = element;
            host.children.retain(|c| c.name != "DETECTION_LIST");
            Shaped { id, records: vec![keys::with_device_link(host)] }
        }
        DataSource::Detections => {
            let id = parse_id(element.child_text("ID"));
            Shaped { id, records: detections_of(element) }
        }
    }
}

/// One `DETECTION` record per detection of a detection-output `HOST`.
///
/// Each record starts with the three key fields, then a `HOST` element carrying the host's
/// identity (its leaf fields and `DNS_DATA`; host-level lists such as `TAGS` or `METADATA` stay in
/// the `hostDetections` feed), then the detection's own fields in Qualys's order.
fn detections_of(mut host: Element) -> Vec<Element> {
    let list_pos = host.children.iter().position(|c| c.name == "DETECTION_LIST");
    let Some(pos) = list_pos else { return Vec::new() };
    let list = host.children.remove(pos);
    let identity = host_identity(host);
    list.children
        .into_iter()
        .filter(|d| d.name == "DETECTION")
        .map(|d| keys::detection_record(&identity, d))
        .collect()
}

/// The `HOST` element a detection carries: the host's leaf fields and `DNS_DATA`.
fn host_identity(host: Element) -> Element {
    Element {
        name: "HOST".to_string(),
        attrs: Vec::new(),
        text: String::new(),
        children: host.children.into_iter().filter(|c| c.children.is_empty() || c.name == "DNS_DATA").collect(),
    }
}

fn parse_id(text: Option<&str>) -> Option<u64> {
    text.and_then(|t| t.trim().parse::<u64>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(id: &str, dns: Option<&str>, detections: &[(&str, Option<&str>, Option<&str>)]) -> Element {
        let mut h = Element::new("HOST");
        h.children.push(Element::leaf("ID", id));
        h.children.push(Element::leaf("IP", "10.0.0.1"));
        if let Some(d) = dns {
            h.children.push(Element::leaf("DNS", d));
        }
        let mut tags = Element::new("TAGS");
        tags.children.push(Element::leaf("TAG", "x"));
        h.children.push(tags);
        let mut list = Element::new("DETECTION_LIST");
        for (qid, port, proto) in detections {
            let mut d = Element::new("DETECTION");
            d.children.push(Element::leaf("QID", *qid));
            if let Some(p) = port {
                d.children.push(Element::leaf("PORT", *p));
            }
            if let Some(p) = proto {
                d.children.push(Element::leaf("PROTOCOL", *p));
            }
            d.children.push(Element::leaf("FIRST_FOUND_DATETIME", "2020-01-02T03:04:05Z"));
            list.children.push(d);
        }
        h.children.push(list);
        h
    }

    #[test]
    fn detections_carry_host_identity_and_keys() {
        let shaped = shape(DataSource::Detections, host("42", Some("web.example.com"), &[("100", Some("443"), Some("tcp")), ("200", None, None)]));
        assert_eq!(shaped.id, Some(42));
        assert_eq!(shaped.records.len(), 2);
        let first = &shaped.records[0];
        assert_eq!(first.name, "DETECTION");
        assert_eq!(first.child_text(keys::DETECTION_KEY), Some("web.example.com|100|443|tcp"));
        assert_eq!(first.child_text(keys::DEVICE_LINK), Some("42"));
        assert_eq!(first.child_text(keys::VULN_LINK), Some("100"));
        let h = first.child("HOST").expect("host identity");
        assert_eq!(h.child_text("ID"), Some("42"));
        assert!(h.child("TAGS").is_none(), "lists stay in the hostDetections feed");
        assert!(h.child("DETECTION_LIST").is_none());
        assert_eq!(shaped.records[1].child_text(keys::DETECTION_KEY), Some("web.example.com|200||"));
    }

    #[test]
    fn detection_key_without_dns_uses_host_id_and_first_found() {
        let shaped = shape(DataSource::Detections, host("7", None, &[("100", Some("22"), Some("tcp"))]));
        assert_eq!(shaped.records[0].child_text(keys::DETECTION_KEY), Some("7|100|22|tcp|2020-01-02T03:04:05Z"));
    }

    #[test]
    fn host_detections_drop_the_detection_list_only() {
        let shaped = shape(DataSource::HostDetections, host("9", Some("a.b"), &[("1", None, None)]));
        let h = &shaped.records[0];
        assert!(h.child("DETECTION_LIST").is_none());
        assert!(h.child("TAGS").is_some());
        assert_eq!(h.child_text(keys::DEVICE_LINK), Some("9"));
    }

    #[test]
    fn a_host_without_detections_yields_no_detection_records() {
        let mut h = Element::new("HOST");
        h.children.push(Element::leaf("ID", "5"));
        let shaped = shape(DataSource::Detections, h);
        assert_eq!(shaped.id, Some(5));
        assert!(shaped.records.is_empty());
    }
}

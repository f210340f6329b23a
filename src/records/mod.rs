//! Turning captured Qualys elements into Archer records, one data source at a time.
//!
//! In scope: the two output shapes ([`Shape`], the `outputShape` parameter), which element becomes
//! which record (`kb` -> `VULN`, `hosts` -> `HOST`,
//! `hostDetections` -> `HOST` without its `DETECTION_LIST`, `detections` -> one `DETECTION` per
//! detection carrying its host's identity), the unique-key fields (see [`keys`]: the seed's, or the
//! detection key `detectionKey` chooses), the check for keys written twice (see [`collisions`]),
//! the record ID the paging plan uses as its checkpoint, and writing the records straight from the
//! parser's [`Tree`] into the output chunks. Out of scope: parsing (see `crate::response`) and
//! escaping and chunking (see `crate::output`).
//!
//! Qualys's own element names and nesting are kept; elements we do not know pass through.
//!
//! The record shapes, element by element:
//! - `VULN`: its attributes, then `ARCHER_VULN_LINK` (the QID), then its children as they came.
//! - `HOST` (hosts): `ARCHER_DEVICE_LINK` (ID, else DNS), then its children.
//! - `HOST` (hostDetections): the same without any `DETECTION_LIST` child.
//! - `DETECTION`: the detection's attributes; `ARCHER_DETECTION_KEY`, `ARCHER_DEVICE_LINK`,
//!   `ARCHER_VULN_LINK`; a `HOST` element carrying the host's identity (its leaf children and
//!   `DNS_DATA`, in order; host-level lists such as `TAGS` or `METADATA` stay in the
//!   `hostDetections` feed); then the detection's children. Only the host's first
//!   `DETECTION_LIST` is read, and only its `DETECTION` children.
//!
//! An element's own text (Qualys records have none) is written before its children.
//! tests/output_roundtrip.rs checks these shapes against an independent model on owned trees.
//!
//! With `outputShape=qualys` ([`Shape::Qualys`]) each captured element is written whole, as Qualys
//! sent it (text unwrapped from CDATA, trimmed and escaped, as in the records shape), without the
//! added key fields: `VULN` (kb), `HOST` (hosts), `HOST` with its `DETECTION_LIST` (hostDetections
//! and detections: one record per host). Which elements are admitted is the same in both shapes.
//! docs/OUTPUT.md lists every element of every shape, generated from what this module writes
//! (tests/output_reference.rs).

pub mod collisions;
pub mod keys;

use self::collisions::Collisions;
use crate::output::{self, Chunker};
use crate::params::DataSource;
use crate::xml::{Node, Tree};

/// The shape of the output records (`outputShape`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Archer records with the seed's key fields (the default; the shapes listed above).
    #[default]
    Records,
    /// Each top-level Qualys element whole, as Qualys sent it, without key fields.
    Qualys,
}

impl Shape {
    /// Both shapes, the default first (the order of the `outputShape` values).
    pub const ALL: [Shape; 2] = [Shape::Records, Shape::Qualys];

    /// `"records"` or `"qualys"` (the `outputShape` value).
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Records => "records",
            Shape::Qualys => "qualys",
        }
    }

    /// The `outputShape` value (exact spelling) -> the shape.
    pub fn from_param(value: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// The default Archer root node for each data source's output.
pub fn default_root_node(source: DataSource) -> &'static str {
    source.default_root_node()
}

/// The ID that orders a captured element (host ID or QID), for exactly-once bookkeeping.
pub fn id_of(source: DataSource, tree: &Tree) -> Option<u64> {
    tree.root().child_text(source.info().id_element).and_then(|t| t.trim().parse::<u64>().ok())
}

/// Writes the records of one captured element into `chunker` in `shape`; returns how many.
/// `checks` sees every key written (see [`collisions`]; the `qualys` shape writes no keys).
pub fn write(source: DataSource, shape: Shape, tree: &Tree, chunker: &mut Chunker, checks: &mut Collisions) -> u64 {
    let root = tree.root();
    let ascii = !tree.has_non_ascii_names();
    if shape == Shape::Qualys {
        chunker.push_with(ascii, |out| output::write_node(root, out));
        return 1;
    }
    match source {
        DataSource::Kb => {
            chunker.push_with(ascii, |out| write_keyed(root, keys::VULN_LINK, keys::vuln_link(root), None, out));
            1
        }
        DataSource::Hosts | DataSource::HostDetections => {
            let skip = (source == DataSource::HostDetections).then_some("DETECTION_LIST");
            let link = match root.child_text("ID") {
                Some(id) => id,
                None => {
                    // No ID: the link is the DNS name, which another host may have too.
                    let dns = root.child_text("DNS");
                    let host = keys::HostKey { id: "", dns };
                    checks.host_record(host, root.child_text("IP").unwrap_or(""));
                    dns.unwrap_or("")
                }
            };
            chunker.push_with(ascii, |out| write_keyed(root, keys::DEVICE_LINK, link, skip, out));
            1
        }
        DataSource::Detections => write_detections(root, ascii, chunker, checks),
    }
}
/// `<NAME attrs>text<KEY>value</KEY>children</NAME>`, leaving out children named `skip`.
fn write_keyed(el: Node<'_>, key: &str, value: &str, skip: Option<&str>, out: &mut String) -> u64 {
    let mut replaced = output::write_start(el.name(), el.attrs(), false, out);
    replaced += output::write_text(el.text(), out);
    replaced += output::write_leaf(key, value, out);
    for c in el.children() {
        if skip != Some(c.name()) {
            replaced += output::write_node(c, out);
        }
    }
    output::write_end(el.name(), out);
    replaced
}

/// One `DETECTION` record per detection of a detection-output `HOST`. The host's identity is
/// serialised once and copied into each record.
fn write_detections(host: Node<'_>, ascii: bool, chunker: &mut Chunker, checks: &mut Collisions) -> u64 {
    // The identity: the host's leaf children and DNS_DATA, except the (first) DETECTION_LIST.
    // Walked twice (it is ~15 children) rather than collected, and serialised into one buffer
    // sized for a typical host: no allocation per child, no regrowth (both showed in the wasm
    // profile: ~20,000 hosts per 100 MB).
    let Some(list) = host.children().find(|c| c.name() == "DETECTION_LIST") else { return 0 };
    let identity = || host.children().filter(move |c| !c.is(list) && (!c.has_children() || c.name() == "DNS_DATA"));
    let first_text = |name: &str| identity().find(|c| c.name() == name).map(|c| c.text()).filter(|t| !t.is_empty());
    let host_key = keys::HostKey { id: first_text("ID").unwrap_or(""), dns: first_text("DNS") };
    let device = host_key.device_link();
    let kind = checks.kind();
    let mut identity_xml = String::with_capacity(1024);
    let no_identity = identity().next().is_none();
    let mut identity_replaced = output::write_start("HOST", [], no_identity, &mut identity_xml);
    if !no_identity {
        for c in identity() {
            identity_replaced += output::write_node(c, &mut identity_xml);
        }
        output::write_end("HOST", &mut identity_xml);
    }
    let mut seen = None;
    let mut written = 0;
    for (index, d) in list.children().filter(|d| d.name() == "DETECTION").enumerate() {
        let fields = keys::DetectionFields::of(d, kind);
        let host_seen = *seen.get_or_insert_with(|| checks.host(host_key, first_text("IP").unwrap_or("")));
        let mut hit = None;
        chunker.push_with(ascii, |out| {
            let mut replaced = identity_replaced;
            replaced += output::write_start("DETECTION", d.attrs(), false, out);
            let (key_replaced, key, basis) = keys::write_detection_key(kind, host_key, &fields, out);
            replaced += key_replaced;
            hit = checks.detection(out.get(key).unwrap_or(""), basis, host_seen, host_key, fields.qid);
            replaced += output::write_leaf(keys::DEVICE_LINK, device, out);
            replaced += output::write_leaf(keys::VULN_LINK, fields.qid, out);
            out.push_str(&identity_xml);
            for c in d.children() {
                replaced += output::write_node(c, out);
            }
            output::write_end("DETECTION", out);
            replaced
        });
        if let Some(hit) = hit {
            // Rare (the first few collisions of a run): name the other side.
            let mut key = String::new();
            let (_, range, _) = keys::write_detection_key(kind, host_key, &fields, &mut key);
            let earlier = earlier_in_host(list, index, kind, host_key, checks.seed(), hit.hash());
            checks.name_key_collision(hit, key.get(range).unwrap_or(""), host_key, fields.qid, earlier);
        }
        written += 1;
    }
    written
}

/// The QID of the first of the host's first `upto` detections whose key hashes to `hash`.
fn earlier_in_host<'a>(
    list: Node<'a>,
    upto: usize,
    kind: keys::DetectionKey,
    host_key: keys::HostKey<'_>,
    seed: u64,
    hash: u64,
) -> Option<&'a str> {
    let mut scratch = String::new();
    for d in list.children().filter(|d| d.name() == "DETECTION").take(upto) {
        scratch.clear();
        let fields = keys::DetectionFields::of(d, kind);
        let (_, range, _) = keys::write_detection_key(kind, host_key, &fields, &mut scratch);
        if collisions::hash_key(seed, scratch.get(range).unwrap_or("").as_bytes()) == hash {
            return Some(fields.qid);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::Limits;
    use crate::transform::Transform;

    /// The Archer output of `doc` (one chunk) for `source`, and the record count.
    fn output_of(source: DataSource, doc: &str) -> (String, u64) {
        let mut t = Transform::new(source, 1000, 1 << 20, Limits::default());
        t.push(doc.as_bytes()).expect("push");
        let summary = t.finish().expect("finish");
        let mut out = String::new();
        while let Some(c) = t.take_output() {
            out.push_str(&c.xml);
        }
        (out, summary.records)
    }

    const DETECTIONS: &str = "<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE><HOST_LIST>\
        <HOST><ID>42</ID><IP>10.0.0.1</IP><DNS>web.example.com</DNS><TAGS><TAG>x</TAG></TAGS>\
        <DNS_DATA><HOSTNAME>web</HOSTNAME></DNS_DATA>\
        <DETECTION_LIST><DETECTION><QID>100</QID><PORT>443</PORT><PROTOCOL>tcp</PROTOCOL><RESULTS>a &lt; b</RESULTS></DETECTION>\
        <DETECTION><QID>200</QID></DETECTION></DETECTION_LIST></HOST>\
        <HOST><ID>7</ID><DETECTION_LIST><DETECTION><QID>100</QID><PORT>22</PORT><PROTOCOL>tcp</PROTOCOL>\
        <FIRST_FOUND_DATETIME>2020-01-02T03:04:05Z</FIRST_FOUND_DATETIME></DETECTION></DETECTION_LIST></HOST>\
        <HOST><ID>5</ID></HOST>\
        </HOST_LIST></RESPONSE></HOST_LIST_VM_DETECTION_OUTPUT>";

    #[test]
    fn detections_carry_keys_then_host_identity_then_their_fields() {
        let (out, n) = output_of(DataSource::Detections, DETECTIONS);
        assert_eq!(n, 3, "a host without a DETECTION_LIST yields no detection records");
        let host42 = "<HOST><ID>42</ID><IP>10.0.0.1</IP><DNS>web.example.com</DNS><DNS_DATA><HOSTNAME>web</HOSTNAME></DNS_DATA></HOST>";
        assert_eq!(
            out,
            format!(
                "<DETECTION><ARCHER_DETECTION_KEY>web.example.com|100|443|tcp</ARCHER_DETECTION_KEY><ARCHER_DEVICE_LINK>42</ARCHER_DEVICE_LINK>\
                 <ARCHER_VULN_LINK>100</ARCHER_VULN_LINK>{host42}<QID>100</QID><PORT>443</PORT><PROTOCOL>tcp</PROTOCOL><RESULTS>a &lt; b</RESULTS></DETECTION>\
                 <DETECTION><ARCHER_DETECTION_KEY>web.example.com|200||</ARCHER_DETECTION_KEY><ARCHER_DEVICE_LINK>42</ARCHER_DEVICE_LINK>\
                 <ARCHER_VULN_LINK>200</ARCHER_VULN_LINK>{host42}<QID>200</QID></DETECTION>\
                 <DETECTION><ARCHER_DETECTION_KEY>7|100|22|tcp|2020-01-02T03:04:05Z</ARCHER_DETECTION_KEY><ARCHER_DEVICE_LINK>7</ARCHER_DEVICE_LINK>\
                 <ARCHER_VULN_LINK>100</ARCHER_VULN_LINK><HOST><ID>7</ID></HOST><QID>100</QID><PORT>22</PORT><PROTOCOL>tcp</PROTOCOL>\
                 <FIRST_FOUND_DATETIME>2020-01-02T03:04:05Z</FIRST_FOUND_DATETIME></DETECTION>"
            )
        );
    }

    #[test]
    fn the_offline_transform_writes_the_chosen_key_and_names_collisions() {
        // Host 42 has QID 100 on port 443 twice (another INSTANCE): one seed key, two hostQid keys.
        let doc = DETECTIONS.replace(
            "<DETECTION><QID>200</QID></DETECTION>",
            "<DETECTION><QID>100</QID><PORT>443</PORT><PROTOCOL>tcp</PROTOCOL><INSTANCE>b</INSTANCE></DETECTION>",
        );
        let run = |key: keys::DetectionKey| {
            let mut t =
                Transform::new(DataSource::Detections, 1000, 1 << 20, Limits::default()).with_detection_key(key);
            t.push(doc.as_bytes()).expect("push");
            let s = t.finish().expect("finish");
            let mut out = String::new();
            while let Some(c) = t.take_output() {
                out.push_str(&c.xml);
            }
            (out, s)
        };
        let (out, s) = run(keys::DetectionKey::Seed);
        assert_eq!(out.matches("<ARCHER_DETECTION_KEY>web.example.com|100|443|tcp</ARCHER_DETECTION_KEY>").count(), 2);
        assert_eq!((s.records, s.key_collisions, s.device_link_collisions), (3, 1, 0));
        assert!(
            s.notices.iter().any(|n| n.contains("detection QID 100 of host 42") && n.contains("of the same host")),
            "{:?}",
            s.notices
        );
        assert!(s.notices.iter().any(|n| n.contains("key_collisions=1")), "{:?}", s.notices);
        let (out, s) = run(keys::DetectionKey::HostQid);
        assert!(out.contains("<ARCHER_DETECTION_KEY>42|100|443|tcp||</ARCHER_DETECTION_KEY>"), "{out}");
        assert!(out.contains("<ARCHER_DETECTION_KEY>42|100|443|tcp||b</ARCHER_DETECTION_KEY>"), "{out}");
        assert!(out.contains("<ARCHER_DETECTION_KEY>7|100|22|tcp||</ARCHER_DETECTION_KEY>"), "{out}");
        assert_eq!(s.key_collisions, 0);
        assert!(s.notices.is_empty(), "{:?}", s.notices);
    }

    #[test]
    fn host_detections_drop_the_detection_list_only() {
        let (out, n) = output_of(DataSource::HostDetections, DETECTIONS);
        assert_eq!(n, 3);
        assert!(out.starts_with(
            "<HOST><ARCHER_DEVICE_LINK>42</ARCHER_DEVICE_LINK><ID>42</ID><IP>10.0.0.1</IP><DNS>web.example.com</DNS><TAGS><TAG>x</TAG></TAGS>\
             <DNS_DATA><HOSTNAME>web</HOSTNAME></DNS_DATA></HOST>"
        ), "{out}");
        assert!(!out.contains("DETECTION_LIST") && !out.contains("<DETECTION>"));
        assert!(out.ends_with("<HOST><ARCHER_DEVICE_LINK>5</ARCHER_DEVICE_LINK><ID>5</ID></HOST>"));
    }

    #[test]
    fn device_link_falls_back_to_dns_and_kb_gets_the_vuln_link() {
        let doc = "<HOST_LIST_OUTPUT><RESPONSE><HOST_LIST><HOST><ID></ID><DNS>a.b</DNS></HOST></HOST_LIST></RESPONSE></HOST_LIST_OUTPUT>";
        assert_eq!(
            output_of(DataSource::Hosts, doc).0,
            "<HOST><ARCHER_DEVICE_LINK>a.b</ARCHER_DEVICE_LINK><ID/><DNS>a.b</DNS></HOST>"
        );
        let kb = "<KNOWLEDGE_BASE_VULN_LIST_OUTPUT><RESPONSE><VULN_LIST><VULN k=\"v\"><QID>9</QID><TITLE><![CDATA[x & y]]></TITLE></VULN>\
            </VULN_LIST></RESPONSE></KNOWLEDGE_BASE_VULN_LIST_OUTPUT>";
        assert_eq!(
            output_of(DataSource::Kb, kb).0,
            "<VULN k=\"v\"><ARCHER_VULN_LINK>9</ARCHER_VULN_LINK><QID>9</QID><TITLE>x &amp; y</TITLE></VULN>"
        );
    }

    #[test]
    fn ids_order_records() {
        let mut t = Tree::default();
        let v = t.open("VULN", true);
        let q = t.open("QID", true);
        t.set_text(q, " 123 ");
        t.close(q, "QID");
        t.close(v, "VULN");
        assert_eq!(id_of(DataSource::Kb, &t), Some(123));
        assert_eq!(id_of(DataSource::Hosts, &t), None);
    }
}

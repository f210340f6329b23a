//! The seed's unique keys, as fields added to each record.
//!
//! In scope: the detection key, the device link and the vulnerability link that the original
//! Archer feed computed, and their exact text format. Out of scope: how Archer matches on them
//! (that is the data feed's key-field mapping, which admins may change).
//!
//! Format (parts joined with `|`, a missing part is the empty string, values trimmed):
//! - `ARCHER_DETECTION_KEY`: `DNS|QID|PORT|PROTOCOL` when the host has a DNS name, else
//!   `HOST_ID|QID|PORT|PROTOCOL|FIRST_FOUND_DATETIME`. The seed says "concatenate"; the separator
//!   keeps e.g. host 12 + QID 345 apart from host 1 + QID 2345.
//! - `ARCHER_DEVICE_LINK`: the Qualys host `ID` when present, else its `DNS`.
//! - `ARCHER_VULN_LINK`: the `QID`.
//!
//! Key fields come first in each record so they are easy to find in the output. "Present" means
//! the first child of that name exists and has non-empty text ([`Node::child_text`]).

use crate::output;
use crate::qualys::DataSource;
use crate::xml::Node;

/// The detection's unique key element.
pub const DETECTION_KEY: &str = "ARCHER_DETECTION_KEY";
/// The host (device) link element.
pub const DEVICE_LINK: &str = "ARCHER_DEVICE_LINK";
/// The QID (vulnerability) link element.
pub const VULN_LINK: &str = "ARCHER_VULN_LINK";

/// A field the `records` shape adds to each record (docs/OUTPUT.md lists them from here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddedField {
    /// The element name.
    pub name: &'static str,
    /// What it holds, in an admin's words (Markdown).
    pub holds: &'static str,
    /// The data sources whose records it identifies: their key field. In the others it links a
    /// record to theirs.
    pub key_of: &'static [DataSource],
}

/// The fields this feed adds, in the order they come first in a record.
pub const ADDED_FIELDS: &[AddedField] = &[
    AddedField {
        name: DETECTION_KEY,
        holds: "`DNS|QID|PORT|PROTOCOL` when the host has a DNS name, else `HOST_ID|QID|PORT|PROTOCOL|FIRST_FOUND_DATETIME` (a missing part is empty)",
        key_of: &[DataSource::Detections],
    },
    AddedField { name: DEVICE_LINK, holds: "the host's `ID`, else its `DNS`", key_of: &[DataSource::Hosts, DataSource::HostDetections] },
    AddedField { name: VULN_LINK, holds: "the `QID`", key_of: &[DataSource::Kb] },
];

/// `ID` when present, else `DNS` (empty when neither is).
pub fn device_link(host: Node<'_>) -> &str {
    host.child_text("ID").or_else(|| host.child_text("DNS")).unwrap_or("")
}

/// The `QID` of a KB `VULN` or of a `DETECTION` (empty when absent).
pub fn vuln_link(node: Node<'_>) -> &str {
    node.child_text("QID").unwrap_or("")
}

/// The parts of a host's identity the keys use.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostKey<'a> {
    /// The host ID ("" when absent).
    pub id: &'a str,
    /// The host's DNS name, if any.
    pub dns: Option<&'a str>,
}

impl<'a> HostKey<'a> {
    /// `ID` when present, else `DNS` (the rule of [`device_link`]).
    pub fn device_link(&self) -> &'a str {
        if self.id.is_empty() {
            self.dns.unwrap_or("")
        } else {
            self.id
        }
    }
}

/// The fields of a `DETECTION` the keys use, each the text of the first child of that name
/// (empty when absent or empty, as [`Node::child_text`]), found in one pass over its children.
#[derive(Clone, Copy, Debug, Default)]
pub struct DetectionFields<'a> {
    /// The detection's QID.
    pub qid: &'a str,
    /// The detection's port.
    pub port: &'a str,
    /// The detection's protocol.
    pub protocol: &'a str,
    /// When the detection was first found.
    pub first_found: &'a str,
}

impl<'a> DetectionFields<'a> {
    /// Reads the key fields of a `DETECTION` element.
    pub fn of(detection: Node<'a>) -> Self {
        let (mut qid, mut port, mut protocol, mut first_found) = (None, None, None, None);
        for c in detection.children() {
            let slot = match c.name() {
                "QID" => &mut qid,
                "PORT" => &mut port,
                "PROTOCOL" => &mut protocol,
                "FIRST_FOUND_DATETIME" => &mut first_found,
                _ => continue,
            };
            slot.get_or_insert(c.text());
        }
        DetectionFields {
            qid: qid.unwrap_or(""),
            port: port.unwrap_or(""),
            protocol: protocol.unwrap_or(""),
            first_found: first_found.unwrap_or(""),
        }
    }
}

/// Writes `<ARCHER_DETECTION_KEY>...</ARCHER_DETECTION_KEY>` for a detection on `host`, escaping
/// each part as it goes (the same bytes as escaping the joined key: `|` needs no escaping).
/// Returns how many characters were replaced.
pub fn write_detection_key(host: HostKey<'_>, detection: &DetectionFields<'_>, out: &mut String) -> u64 {
    let (first, last) = match host.dns {
        Some(dns) => (dns, None),
        None => (host.id, Some(detection.first_found)),
    };
    output::write_start(DETECTION_KEY, [], false, out);
    let mut replaced = output::write_text(first, out);
    for part in [detection.qid, detection.port, detection.protocol].into_iter().chain(last) {
        out.push('|');
        replaced += output::write_text(part, out);
    }
    output::write_end(DETECTION_KEY, out);
    replaced
}

//! The unique keys, as fields added to each record.
//!
//! In scope: the detection key (the seed's, or the one `detectionKey` chooses), the device link and
//! the vulnerability link, and their exact text format. Out of scope: how Archer matches on them
//! (that is the data feed's key-field mapping, which admins may change) and finding keys written
//! twice (`super::collisions`).
//!
//! Format (parts joined with `|`, a missing part is the empty string, values trimmed):
//! - `ARCHER_DETECTION_KEY`, by `detectionKey` ([`DetectionKey`]):
//!   - `seed` (the default, the seed's key): `DNS|QID|PORT|PROTOCOL` when the host has a DNS name,
//!     else `HOST_ID|QID|PORT|PROTOCOL|FIRST_FOUND_DATETIME`. The seed says "concatenate"; the
//!     separator keeps e.g. host 12 + QID 345 apart from host 1 + QID 2345.
//!   - `uniqueVulnId`: Qualys's `UNIQUE_VULN_ID` of the detection when it has one (API 3.0 and
//!     later send it), else the seed's key.
//!   - `hostQid`: `HOST_ID|QID|PORT|PROTOCOL|SSL|INSTANCE`.
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
        holds: "by default (`detectionKey=seed`) `DNS|QID|PORT|PROTOCOL` when the host has a DNS name, else `HOST_ID|QID|PORT|PROTOCOL|FIRST_FOUND_DATETIME`; with `detectionKey=uniqueVulnId` the `UNIQUE_VULN_ID` (else the seed's key); with `detectionKey=hostQid` `HOST_ID|QID|PORT|PROTOCOL|SSL|INSTANCE` (a missing part is empty)",
        key_of: &[DataSource::Detections],
    },
    AddedField { name: DEVICE_LINK, holds: "the host's `ID`, else its `DNS`", key_of: &[DataSource::Hosts, DataSource::HostDetections] },
    AddedField { name: VULN_LINK, holds: "the `QID`", key_of: &[DataSource::Kb] },
];

/// Which `ARCHER_DETECTION_KEY` a run writes (the Custom Parameter `detectionKey`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DetectionKey {
    /// `seed`: the seed's key (`DNS|QID|PORT|PROTOCOL`, else
    /// `HOST_ID|QID|PORT|PROTOCOL|FIRST_FOUND_DATETIME`); the default, a drop-in.
    #[default]
    Seed,
    /// `uniqueVulnId`: Qualys's `UNIQUE_VULN_ID` when present, else the seed's key.
    UniqueVulnId,
    /// `hostQid`: `HOST_ID|QID|PORT|PROTOCOL|SSL|INSTANCE`.
    HostQid,
}

impl DetectionKey {
    /// The three, in the order the parameter lists them (the first is the default).
    pub const ALL: [DetectionKey; 3] = [DetectionKey::Seed, DetectionKey::UniqueVulnId, DetectionKey::HostQid];

    /// `"seed"`, `"uniqueVulnId"` or `"hostQid"` (the parameter's values, case-sensitive).
    pub fn as_str(self) -> &'static str {
        match self {
            DetectionKey::Seed => "seed",
            DetectionKey::UniqueVulnId => "uniqueVulnId",
            DetectionKey::HostQid => "hostQid",
        }
    }

    /// The parameter's value (exact spelling) -> the key.
    pub fn from_param(value: &str) -> Option<DetectionKey> {
        match value {
            "seed" => Some(DetectionKey::Seed),
            "uniqueVulnId" => Some(DetectionKey::UniqueVulnId),
            "hostQid" => Some(DetectionKey::HostQid),
            _ => None,
        }
    }

    /// The other two, as advice names them: `hostQid or uniqueVulnId` (for `seed`), ...
    pub fn alternatives(self) -> &'static str {
        match self {
            DetectionKey::Seed => "hostQid (or uniqueVulnId, which needs API 3.0 or later)",
            DetectionKey::UniqueVulnId => "hostQid",
            DetectionKey::HostQid => "uniqueVulnId (API 3.0 or later)",
        }
    }
}

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
    /// Whether the detection was found over SSL/TLS (`SSL`, `0` or `1`).
    pub ssl: &'a str,
    /// The instance of the detection (`INSTANCE`, e.g. one of several Oracle databases).
    pub instance: &'a str,
    /// Qualys's ID of this detection (`UNIQUE_VULN_ID`, API 3.0 and later).
    pub unique_vuln_id: &'a str,
}

impl<'a> DetectionFields<'a> {
    /// Reads the fields of a `DETECTION` element that `kind` keys need (the seed's four, or all).
    pub fn of(detection: Node<'a>, kind: DetectionKey) -> Self {
        match kind {
            DetectionKey::Seed => Self::read::<false>(detection),
            DetectionKey::UniqueVulnId | DetectionKey::HostQid => Self::read::<true>(detection),
        }
    }

    /// One pass over the children; `ALL`: also `SSL`, `INSTANCE` and `UNIQUE_VULN_ID` (the
    /// seed's key, in its own copy, compares no other name than before).
    fn read<const ALL: bool>(detection: Node<'a>) -> Self {
        let (mut qid, mut port, mut protocol, mut first_found) = (None, None, None, None);
        let (mut ssl, mut instance, mut unique_vuln_id) = (None, None, None);
        for c in detection.children() {
            let slot = match c.name() {
                "QID" => &mut qid,
                "PORT" => &mut port,
                "PROTOCOL" => &mut protocol,
                "FIRST_FOUND_DATETIME" => &mut first_found,
                other if ALL => match other {
                    "SSL" => &mut ssl,
                    "INSTANCE" => &mut instance,
                    "UNIQUE_VULN_ID" => &mut unique_vuln_id,
                    _ => continue,
                },
                _ => continue,
            };
            slot.get_or_insert(c.text());
        }
        DetectionFields {
            qid: qid.unwrap_or(""),
            port: port.unwrap_or(""),
            protocol: protocol.unwrap_or(""),
            first_found: first_found.unwrap_or(""),
            ssl: ssl.unwrap_or(""),
            instance: instance.unwrap_or(""),
            unique_vuln_id: unique_vuln_id.unwrap_or(""),
        }
    }
}

/// What a detection key was made of (for the collision check's messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyBasis {
    /// The seed's key with the host's DNS name first: hosts sharing a DNS name share these keys.
    Dns,
    /// A key that starts with the host ID (the seed's key without DNS, `hostQid`).
    HostId,
    /// Qualys's `UNIQUE_VULN_ID`.
    UniqueVulnId,
    /// `uniqueVulnId` asked, but the detection has none: the seed's key with the DNS name first.
    SeedFallbackDns,
    /// `uniqueVulnId` asked, but the detection has none: the seed's key with the host ID first.
    SeedFallbackHostId,
}

impl KeyBasis {
    /// Whether `uniqueVulnId` was asked but the detection had no `UNIQUE_VULN_ID`.
    pub fn is_fallback(self) -> bool {
        matches!(self, KeyBasis::SeedFallbackDns | KeyBasis::SeedFallbackHostId)
    }

    /// Whether the key starts with the host's DNS name.
    pub fn is_dns(self) -> bool {
        matches!(self, KeyBasis::Dns | KeyBasis::SeedFallbackDns)
    }
}

/// Writes `<ARCHER_DETECTION_KEY>...</ARCHER_DETECTION_KEY>` for a detection on `host`, escaping
/// each part as it goes (the same bytes as escaping the joined key: `|` needs no escaping).
/// Returns how many characters were replaced, the byte range of the key's text in `out` (for
/// the collision check) and what the key was made of.
pub fn write_detection_key(
    kind: DetectionKey,
    host: HostKey<'_>,
    detection: &DetectionFields<'_>,
    out: &mut String,
) -> (u64, std::ops::Range<usize>, KeyBasis) {
    output::write_start(DETECTION_KEY, [], false, out);
    let start = out.len();
    let (replaced, basis) = match kind {
        DetectionKey::UniqueVulnId if !detection.unique_vuln_id.is_empty() => {
            (output::write_text(detection.unique_vuln_id, out), KeyBasis::UniqueVulnId)
        }
        DetectionKey::HostQid => {
            let d = detection;
            (write_parts(host.id, [d.qid, d.port, d.protocol, d.ssl, d.instance], out), KeyBasis::HostId)
        }
        DetectionKey::Seed | DetectionKey::UniqueVulnId => {
            let replaced = write_seed_key(host, detection, out);
            let basis = match (kind, host.dns.is_some()) {
                (DetectionKey::Seed, true) => KeyBasis::Dns,
                (DetectionKey::Seed, false) => KeyBasis::HostId,
                (_, true) => KeyBasis::SeedFallbackDns,
                (_, false) => KeyBasis::SeedFallbackHostId,
            };
            (replaced, basis)
        }
    };
    let end = out.len();
    output::write_end(DETECTION_KEY, out);
    (replaced, start..end, basis)
}

/// The seed's key text: `DNS|QID|PORT|PROTOCOL`, else `HOST_ID|QID|PORT|PROTOCOL|FIRST_FOUND`.
fn write_seed_key(host: HostKey<'_>, detection: &DetectionFields<'_>, out: &mut String) -> u64 {
    let (first, last) = match host.dns {
        Some(dns) => (dns, None),
        None => (host.id, Some(detection.first_found)),
    };
    let mut replaced = output::write_text(first, out);
    for part in [detection.qid, detection.port, detection.protocol].into_iter().chain(last) {
        out.push('|');
        replaced += output::write_text(part, out);
    }
    replaced
}

/// `first|rest[0]|rest[1]|...`, each part escaped.
fn write_parts<const N: usize>(first: &str, rest: [&str; N], out: &mut String) -> u64 {
    let mut replaced = output::write_text(first, out);
    for part in rest {
        out.push('|');
        replaced += output::write_text(part, out);
    }
    replaced
}

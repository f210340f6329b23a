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
//! Key fields come first in each record so they are easy to find in the output.

use crate::xml::Element;

pub const DETECTION_KEY: &str = "ARCHER_DETECTION_KEY";
pub const DEVICE_LINK: &str = "ARCHER_DEVICE_LINK";
pub const VULN_LINK: &str = "ARCHER_VULN_LINK";

fn text<'a>(el: &'a Element, name: &str) -> &'a str {
    el.child_text(name).unwrap_or("")
}

/// `ID` when present, else `DNS` (empty when neither is).
pub fn device_link(host: &Element) -> String {
    host.child_text("ID").or_else(|| host.child_text("DNS")).unwrap_or("").to_string()
}

/// A `HOST` record with `ARCHER_DEVICE_LINK` prepended.
pub fn with_device_link(mut host: Element) -> Element {
    let link = device_link(&host);
    host.children.insert(0, Element::leaf(DEVICE_LINK, link));
    host
}

/// A KB `VULN` record with `ARCHER_VULN_LINK` prepended.
pub fn with_vuln_key(mut vuln: Element) -> Element {
    let qid = text(&vuln, "QID").to_string();
    vuln.children.insert(0, Element::leaf(VULN_LINK, qid));
    vuln
}

/// The seed's detection key for `detection` on the host whose identity is `host`.
pub fn detection_key(host: &Element, detection: &Element) -> String {
    let qid = text(detection, "QID");
    let port = text(detection, "PORT");
    let protocol = text(detection, "PROTOCOL");
    match host.child_text("DNS") {
        Some(dns) => format!("{dns}|{qid}|{port}|{protocol}"),
        None => format!("{}|{qid}|{port}|{protocol}|{}", text(host, "ID"), text(detection, "FIRST_FOUND_DATETIME")),
    }
}

/// A `DETECTION` record: key fields, the host identity, then the detection's own fields.
pub fn detection_record(host_identity: &Element, detection: Element) -> Element {
    let key = detection_key(host_identity, &detection);
    let qid = text(&detection, "QID").to_string();
    let mut children = Vec::with_capacity(detection.children.len() + 4);
    children.push(Element::leaf(DETECTION_KEY, key));
    children.push(Element::leaf(DEVICE_LINK, device_link(host_identity)));
    children.push(Element::leaf(VULN_LINK, qid));
    children.push(host_identity.clone());
    children.extend(detection.children);
    Element { name: "DETECTION".to_string(), attrs: detection.attrs, text: String::new(), children }
}

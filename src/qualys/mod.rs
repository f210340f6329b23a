//! The Qualys API facts, in one place: the data sources a feed can extract, the Custom Parameter
//! holding each one's URL, the path that URL normally has, example URLs for messages, the document
//! each returns ([`DocKind`]: root element, record list and record element), the Archer root node
//! and record element of each output, and (in [`urls`]) every rule that builds a URL: the page URL
//! (`truncation_limit`), ID windows (`id_min`/`id_max`), the host-ID discovery request, resumed runs,
//! and (in [`versions`]) which API versions are active or retired and the path to use instead.
//!
//! In scope: facts about the Qualys VM API and how this feed addresses it. Out of scope: parsing
//! (`crate::response`), record shapes (`crate::records`), paging decisions (`crate::plan`),
//! validation of parameters (`crate::params`).
//!
//! Adding a data source: a [`DataSource`] variant with its row in [`DataSource::info`] (and a
//! [`DocKind`] if it returns a new document), its record shape in `crate::records`; the wasm export
//! `dataSources()` hands the JavaScript side everything it needs.

pub mod urls;
pub mod versions;

/// Which Qualys data the feed extracts (`dataSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataSource {
    /// The knowledge base (`kbUrl`).
    Kb,
    /// The host list (`hostsUrl`).
    Hosts,
    /// Hosts as found in the detection list (`detectionUrl`).
    HostDetections,
    /// Detections (`detectionUrl`).
    Detections,
}

/// The facts about one data source (see [`DataSource::info`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// The `dataSource` value (exact spelling, case-sensitive).
    pub name: &'static str,
    /// The Custom Parameter holding this data source's URL.
    pub url_key: &'static str,
    /// A path fragment the URL is expected to contain (whatever the API version).
    pub expected_path: &'static str,
    /// A typical URL, for messages (the active API version, with the `<LastRunTime>` placeholder).
    pub example_url: &'static str,
    /// The document the URL returns.
    pub doc: DocKind,
    /// The default Archer root node of the output (`rootNode`).
    pub default_root_node: &'static str,
    /// The element name of each output record.
    pub record_element: &'static str,
    /// The child element holding a record's ID (the paging and exactly-once key).
    pub id_element: &'static str,
}

impl SourceInfo {
    /// How messages name a record's ID: `QID` or `host ID`.
    pub fn id_label(&self) -> &'static str {
        if self.id_element == "QID" {
            "QID"
        } else {
            "host ID"
        }
    }
}

const KB_EXAMPLE: &str =
    "https://qualysapi.qualys.com/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>";
const HOSTS_EXAMPLE: &str =
    "https://qualysapi.qualys.com/api/5.0/fo/asset/host/?action=list&details=All&show_tags=1&vm_scan_since=<LastRunTime>";
const DETECTION_EXAMPLE: &str = "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&status=Active,New,Fixed,Re-Opened&vm_scan_since=<LastRunTime>";

const KB: SourceInfo = SourceInfo {
    name: "kb",
    url_key: "kbUrl",
    expected_path: "/knowledge_base/vuln",
    example_url: KB_EXAMPLE,
    doc: DocKind::KnowledgeBase,
    default_root_node: "QUALYS_KB_VULNS",
    record_element: "VULN",
    id_element: "QID",
};
const HOSTS: SourceInfo = SourceInfo {
    name: "hosts",
    url_key: "hostsUrl",
    expected_path: "/asset/host",
    example_url: HOSTS_EXAMPLE,
    doc: DocKind::HostList,
    default_root_node: "QUALYS_HOSTS",
    record_element: "HOST",
    id_element: "ID",
};
const HOST_DETECTIONS: SourceInfo = SourceInfo {
    name: "hostDetections",
    url_key: "detectionUrl",
    expected_path: "/asset/host/vm/detection",
    example_url: DETECTION_EXAMPLE,
    doc: DocKind::Detections,
    default_root_node: "QUALYS_DETECTION_HOSTS",
    record_element: "HOST",
    id_element: "ID",
};
const DETECTIONS: SourceInfo = SourceInfo {
    name: "detections",
    url_key: "detectionUrl",
    expected_path: "/asset/host/vm/detection",
    example_url: DETECTION_EXAMPLE,
    doc: DocKind::Detections,
    default_root_node: "QUALYS_DETECTIONS",
    record_element: "DETECTION",
    id_element: "ID",
};

impl DataSource {
    /// All four, in the order the guide lists them.
    pub const ALL: [DataSource; 4] =
        [DataSource::Kb, DataSource::Hosts, DataSource::HostDetections, DataSource::Detections];

    /// Everything this feed knows about the data source.
    pub fn info(self) -> &'static SourceInfo {
        match self {
            DataSource::Kb => &KB,
            DataSource::Hosts => &HOSTS,
            DataSource::HostDetections => &HOST_DETECTIONS,
            DataSource::Detections => &DETECTIONS,
        }
    }

    /// The `dataSource` value (exact spelling, case-sensitive) -> the data source.
    pub fn from_param(value: &str) -> Option<DataSource> {
        DataSource::ALL.into_iter().find(|d| d.as_str() == value)
    }

    /// `"kb"`, `"hosts"`, `"hostDetections"` or `"detections"`.
    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    /// The parameter holding this data source's URL: `"kbUrl"`, `"hostsUrl"` or `"detectionUrl"`.
    pub fn url_key(self) -> &'static str {
        self.info().url_key
    }

    /// A path fragment the URL is expected to contain (whatever the API version).
    pub fn expected_path(self) -> &'static str {
        self.info().expected_path
    }

    /// A typical URL of this data source, for messages.
    pub fn example_url(self) -> &'static str {
        self.info().example_url
    }

    /// The document this data source's URL returns.
    pub fn doc_kind(self) -> DocKind {
        self.info().doc
    }

    /// The default Archer root node of this data source's output.
    pub fn default_root_node(self) -> &'static str {
        self.info().default_root_node
    }

    /// The element name of each output record.
    pub fn record_element(self) -> &'static str {
        self.info().record_element
    }

    /// The document a discovery request of this data source returns: the KB lists QIDs itself;
    /// the host-based sources list host IDs with the host list API.
    pub fn discovery_doc_kind(self) -> DocKind {
        match self {
            DataSource::Kb => DocKind::KnowledgeBase,
            _ => DocKind::HostList,
        }
    }
}

/// The `dataSource` values as messages list them: `kb, hosts, hostDetections, detections`.
pub const DATA_SOURCE_VALUES: &str = "kb, hosts, hostDetections, detections";

const KB_ROOT: &str = "KNOWLEDGE_BASE_VULN_LIST_OUTPUT";
const HOST_LIST_ROOT: &str = "HOST_LIST_OUTPUT";
const DETECTION_ROOT: &str = "HOST_LIST_VM_DETECTION_OUTPUT";

/// Which Qualys output the feed expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// `KNOWLEDGE_BASE_VULN_LIST_OUTPUT`: records are `RESPONSE/VULN_LIST/VULN`.
    KnowledgeBase,
    /// `HOST_LIST_OUTPUT`: records are `RESPONSE/HOST_LIST/HOST`.
    HostList,
    /// `HOST_LIST_VM_DETECTION_OUTPUT`: records are `RESPONSE/HOST_LIST/HOST`, each with its
    /// `DETECTION_LIST`.
    Detections,
}

impl DocKind {
    /// The document a data source's URL returns.
    pub fn of(source: DataSource) -> DocKind {
        source.doc_kind()
    }

    /// The root element of this output.
    pub fn root_element(self) -> &'static str {
        match self {
            DocKind::KnowledgeBase => KB_ROOT,
            DocKind::HostList => HOST_LIST_ROOT,
            DocKind::Detections => DETECTION_ROOT,
        }
    }

    /// The Custom Parameter holding this API's URL.
    pub fn url_parameter(self) -> &'static str {
        match self {
            DocKind::KnowledgeBase => DataSource::Kb.url_key(),
            DocKind::HostList => DataSource::Hosts.url_key(),
            DocKind::Detections => DataSource::Detections.url_key(),
        }
    }

    /// A short description for messages.
    pub fn describe(self) -> &'static str {
        match self {
            DocKind::KnowledgeBase => "KnowledgeBase vulnerability list",
            DocKind::HostList => "host list",
            DocKind::Detections => "host detection list",
        }
    }

    /// The output whose root element is `name`, if it is one of the three.
    pub fn from_root(name: &str) -> Option<DocKind> {
        match name {
            KB_ROOT => Some(DocKind::KnowledgeBase),
            HOST_LIST_ROOT => Some(DocKind::HostList),
            DETECTION_ROOT => Some(DocKind::Detections),
            _ => None,
        }
    }

    /// The record list element under `RESPONSE` and the record element in it.
    pub fn record_list(self) -> (&'static str, &'static str) {
        match self {
            DocKind::KnowledgeBase => ("VULN_LIST", "VULN"),
            DocKind::HostList | DocKind::Detections => ("HOST_LIST", "HOST"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_is_named_and_addressed_consistently() {
        let names: Vec<&str> = DataSource::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(names.join(", "), DATA_SOURCE_VALUES);
        for d in DataSource::ALL {
            assert_eq!(DataSource::from_param(d.as_str()), Some(d));
            assert_eq!(d.doc_kind().url_parameter(), d.url_key(), "{d:?}");
            assert!(d.example_url().contains(d.expected_path()), "{d:?}");
            assert!(d.example_url().contains("<LastRunTime>"), "{d:?}");
            assert_eq!(DocKind::from_root(d.doc_kind().root_element()), Some(d.doc_kind()));
        }
        assert_eq!(DataSource::from_param("Detections"), None);
    }
}

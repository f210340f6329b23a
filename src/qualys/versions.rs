//! The Qualys API versions: which version of each API is active, which are retired, and the path
//! to suggest instead of a retired one.
//!
//! In scope: the version facts of the three APIs the feed calls (host list, host detection,
//! KnowledgeBase; docs/QUALYS-API.md "Endpoints"), recognising the version in a URL's path
//! (`/api/<major>.<minor>/...`) and the advice an admin needs. Out of scope: parsing responses
//! (version-agnostic: every version's pages parse the same, `crate::response`), what a failed
//! request means (`crate::feed::classify` asks [`retired`]), validating parameters
//! (`crate::params` warns with [`retired`] at the start of a run).
//!
//! Qualys retired `/api/2.0/` (its notice of August 2025: twelve months from end of support to end
//! of life); the KnowledgeBase API 2.0/3.0 reached end of life in June 2026. The host list and host
//! detection are at 5.0, the KnowledgeBase at 4.0. A version neither active nor retired here (e.g.
//! host list 3.0) is used as given, without a warning.

use super::DataSource;

/// The version facts of one Qualys API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiFacts {
    /// The API's name in messages ("host detection").
    pub name: &'static str,
    /// The path after `/api/<version>/` (with its trailing `/`).
    pub path: &'static str,
    /// The active version (`"5.0"`).
    pub active: &'static str,
    /// The retired versions, as `(major, minor)`.
    pub retired: &'static [(u32, u32)],
    /// When the retired versions stopped, for messages.
    pub retired_note: &'static str,
}

impl ApiFacts {
    /// The active path: `/api/5.0/fo/asset/host/vm/detection/`.
    pub fn active_path(&self) -> String {
        format!("/api/{}/{}", self.active, self.path)
    }
}

const DETECTION: ApiFacts = ApiFacts {
    name: "host detection",
    path: "fo/asset/host/vm/detection/",
    active: "5.0",
    retired: &[(2, 0)],
    retired_note: "end of life in 2026",
};
const HOST_LIST: ApiFacts = ApiFacts {
    name: "host list",
    path: "fo/asset/host/",
    active: "5.0",
    retired: &[(2, 0)],
    retired_note: "end of life in 2026",
};
const KNOWLEDGE_BASE: ApiFacts = ApiFacts {
    name: "KnowledgeBase",
    path: "fo/knowledge_base/vuln/",
    active: "4.0",
    retired: &[(2, 0), (3, 0)],
    retired_note: "end of life in June 2026",
};

/// The three APIs, the most specific path first (the detection path starts with the host list's).
pub const APIS: [&ApiFacts; 3] = [&DETECTION, &HOST_LIST, &KNOWLEDGE_BASE];

/// The API a data source's URL calls.
pub fn api_of(source: DataSource) -> &'static ApiFacts {
    match source {
        DataSource::Kb => &KNOWLEDGE_BASE,
        DataSource::Hosts => &HOST_LIST,
        DataSource::HostDetections | DataSource::Detections => &DETECTION,
    }
}

/// A URL on a retired version of a Qualys API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retired {
    /// The API the URL calls.
    pub api: &'static ApiFacts,
    /// The version as the URL writes it (digits and one dot, at most 9 characters).
    pub version: String,
}

/// The API and version of a URL (or a path): `/api/<version>/<API path>...` before any `?`.
/// `None` when the path names no version or no API this feed calls.
pub fn api_version(url: &str) -> Option<(&'static ApiFacts, (u32, u32), &str)> {
    let before_query = url.split(['?', '#']).next().unwrap_or("");
    let at = before_query.find("/api/")?;
    let rest = before_query.get(at + 5..)?;
    let (version, path) = rest.split_once('/')?;
    let parsed = parse_version(version)?;
    let path = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
    let api = APIS.into_iter().find(|a| path.starts_with(a.path))?;
    Some((api, parsed, version))
}

/// `"2.0"` or `"2"` -> `(2, 0)`; anything else (letters, more dots, over 9 characters) -> `None`.
fn parse_version(v: &str) -> Option<(u32, u32)> {
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The retired version a URL (or path) uses, if it does.
pub fn retired(url: &str) -> Option<Retired> {
    let (api, parsed, version) = api_version(url)?;
    api.retired.contains(&parsed).then(|| Retired { api, version: version.to_string() })
}

/// The warning for a data source's URL parameter on a retired version (logged once, at the start).
pub fn retired_warning(url_key: &str, source: DataSource, r: &Retired) -> String {
    let api = api_of(source);
    format!(
        "{url_key}: the URL uses the Qualys {} API {}, which Qualys no longer supports ({}): change its path to {} (keep the host and the query), e.g. {}. This run tries the URL as given.",
        r.api.name,
        r.version,
        r.api.retired_note,
        api.active_path(),
        source.example_url()
    )
}

/// The failure when Qualys refused a retired version (404, 410, or an error saying so).
pub fn retired_failure(what: &str, url_key: &str, source: DataSource, r: &Retired) -> String {
    let api = api_of(source);
    format!(
        "{what}: the Qualys {} API {} is retired ({}). Change the {url_key} parameter's path to {} (keep the host and the query), e.g. {}, and run the feed again.",
        r.api.name,
        r.version,
        r.api.retired_note,
        api.active_path(),
        source.example_url()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_and_api_of_a_url() {
        let (api, v, text) =
            api_version("https://q.example/api/5.0/fo/asset/host/vm/detection/?action=list&x=/api/2.0/").expect("api");
        assert_eq!((api.name, v, text), ("host detection", (5, 0), "5.0"));
        let (api, v, _) = api_version("/api/2/fo/asset/host?action=list").expect("api");
        assert_eq!((api.name, v), ("host list", (2, 0)));
        assert_eq!(
            api_version("https://q.example/api/4.0/fo/knowledge_base/vuln/").map(|a| a.0.name),
            Some("KnowledgeBase")
        );
        for not in [
            "https://q.example/fo/asset/host/",
            "https://q.example/api/x.0/fo/asset/host/",
            "https://q.example/api/2.0.1/fo/asset/host/",
            "https://q.example/api/2.0/fo/scan/",
            "https://q.example/api/99999999999/fo/asset/host/",
            "https://q.example/api/",
            "",
        ] {
            assert_eq!(api_version(not).map(|a| a.1), None, "{not}");
        }
    }

    #[test]
    fn retired_versions_per_api() {
        for (url, retired_version) in [
            ("https://q.example/api/2.0/fo/asset/host/vm/detection/?action=list", Some("2.0")),
            ("https://q.example/api/2.0/fo/asset/host/?action=list", Some("2.0")),
            ("https://q.example/api/3.0/fo/knowledge_base/vuln/?action=list", Some("3.0")),
            ("https://q.example/api/2.0/fo/knowledge_base/vuln/", Some("2.0")),
            ("https://q.example/api/3.0/fo/asset/host/?action=list", None),
            ("https://q.example/api/4.0/fo/knowledge_base/vuln/", None),
            ("https://q.example/api/5.0/fo/asset/host/vm/detection/", None),
            ("https://q.example/api/5.0/fo/asset/host/", None),
        ] {
            assert_eq!(retired(url).map(|r| r.version), retired_version.map(str::to_string), "{url}");
        }
    }

    #[test]
    fn every_data_source_example_is_on_its_active_version() {
        for ds in DataSource::ALL {
            let (api, _, version) = api_version(ds.example_url()).expect("example");
            assert_eq!(api, api_of(ds), "{ds:?}");
            assert_eq!(version, api.active, "{ds:?}");
            assert!(ds.example_url().contains(&api.active_path()), "{ds:?}");
            assert!(retired(ds.example_url()).is_none());
        }
    }

    #[test]
    fn the_advice_names_the_active_path_for_the_parameter() {
        let r = retired("https://q.example/api/2.0/fo/asset/host/?action=list&details=None").expect("retired");
        // The detection feeds' discovery calls the host list, but the parameter to fix is theirs.
        let m = retired_failure("Qualys answered HTTP 404", "detectionUrl", DataSource::Detections, &r);
        assert!(m.contains("host list API 2.0 is retired"), "{m}");
        assert!(m.contains("detectionUrl parameter's path to /api/5.0/fo/asset/host/vm/detection/"), "{m}");
        let r = retired("https://q.example/api/3.0/fo/knowledge_base/vuln/?action=list").expect("retired");
        let w = retired_warning("kbUrl", DataSource::Kb, &r);
        assert!(w.contains("KnowledgeBase API 3.0") && w.contains("/api/4.0/fo/knowledge_base/vuln/"), "{w}");
    }
}

//! How this feed builds Qualys URLs: the page URL of a segment (`truncation_limit`), an ID window
//! (`id_min`/`id_max`), the discovery request that lists the matching IDs first, and the URLs of a
//! resumed run (start after a watermark; the catch-up window up to it).
//!
//! In scope: query parameters this feed adds, replaces or removes, and which URL a rule starts
//! from. Out of scope: the `<LastRunTime>` substitution (`crate::last_run_time`), URL syntax
//! (`crate::url`), when a rule applies (`crate::plan`, `crate::feed`).

use super::DataSource;
use crate::url::Url;

/// The longest request URL (scheme, host, path and query, in bytes) that `httpMethod=auto` sends as
/// a GET; a longer one goes as a POST with the query as an `application/x-www-form-urlencoded` body.
///
/// Why 2,000: it is the common safe bound for a URL anywhere on the way. HTTP itself sets none
/// (RFC 9110 only recommends accepting at least 8,000 octets), but what sits in between does:
/// Apache's default `LimitRequestLine` is 8,190 bytes and nginx's header buffer 8 KiB, some API
/// gateways, TLS-inspecting proxies and load balancers cut at 4 KiB or less, and clients and
/// sitemaps have long used ~2,000 (2,083 in old browsers, 2,048 in the sitemap protocol); Qualys's
/// own front end answered 414 to long GETs (elastic issue 12731). The old script's URLs are
/// 100-400 bytes, so a normal run never switches; a POST costs nothing extra, so switching early
/// is safe.
pub const MAX_GET_URL_BYTES: usize = 2000;

/// Query parameters that select an explicit ID set: a URL carrying one is used as given.
pub const ID_SELECTORS: [&str; 3] = ["ids", "id_min", "id_max"];

/// Host-list filters that may be carried from a detection URL to the host-ID discovery request.
/// Detection-only parameters (status, show_results, qids, ...) are not valid on the host list.
pub const HOST_FILTERS: &[&str] = &[
    "ids",
    "id_min",
    "id_max",
    "ips",
    "ipv6",
    "ag_ids",
    "ag_titles",
    "network_ids",
    "os_pattern",
    "os_hostname",
    "vm_scan_since",
    "no_vm_scan_since",
    "vm_scan_date_before",
    "vm_scan_date_after",
    "vm_processed_before",
    "vm_processed_after",
    "vm_auth_scan_date_before",
    "vm_auth_scan_date_after",
    "compliance_enabled",
    "use_tags",
    "tag_set_by",
    "tag_include_selector",
    "tag_exclude_selector",
    "tag_set_include",
    "tag_set_exclude",
    "host_metadata",
    "host_metadata_fields",
];

/// Whether `url` selects explicit IDs (`ids`, `id_min`, `id_max`), so it must be used as given.
pub fn has_id_selector(url: &Url) -> bool {
    ID_SELECTORS.iter().any(|k| url.query_get(k).is_some())
}

/// The URL a segment's first page is fetched with: `truncation_limit=<batch_size>` added for the
/// paged sources (host list, detections) unless the URL sets it already.
pub fn page_url(source: DataSource, mut url: Url, batch_size: u32) -> Url {
    if source != DataSource::Kb && url.query_get("truncation_limit").is_none() {
        url.set_query("truncation_limit", &batch_size.to_string());
    }
    url
}

/// `id_min` of a URL as a number (`None` when missing or not a number).
pub fn id_min(url: &Url) -> Option<u64> {
    url.query_get("id_min").and_then(|v| v.parse().ok())
}

/// `id_max` of a URL as a number (`None` when missing or not a number).
pub fn id_max(url: &Url) -> Option<u64> {
    url.query_get("id_max").and_then(|v| v.parse().ok())
}

/// Sets `id_min` and/or `id_max` (each only when given).
pub fn set_window(url: &mut Url, lo: Option<u64>, hi: Option<u64>) {
    if let Some(lo) = lo {
        url.set_query("id_min", &lo.to_string());
    }
    if let Some(hi) = hi {
        url.set_query("id_max", &hi.to_string());
    }
}

/// Makes `url` start at `from` at the earliest (keeps a later `id_min` it already has).
pub fn raise_id_min(url: &mut Url, from: u64) {
    if id_min(url).is_none_or(|m| m < from) {
        url.set_query("id_min", &from.to_string());
    }
}

/// The KnowledgeBase discovery: the same URL with `details=None` (QIDs only).
pub fn kb_discovery_url(url: &Url) -> Url {
    let mut discovery = url.clone();
    discovery.set_query("details", "None");
    discovery
}

/// The host-ID discovery for the host-based sources: the host list API (a detection URL's path
/// without `/vm/detection/`, keeping only [`HOST_FILTERS`] and `action`; a host list URL without
/// its `show_*` options), with `details=None` and `truncation_limit=0`.
pub fn host_discovery_url(source: DataSource, url: &Url) -> Url {
    let mut discovery = url.clone();
    if source != DataSource::Hosts {
        // The host IDs come from the host list API, with the filters it understands.
        let path = url.path().replace("/vm/detection/", "/");
        discovery = url.with_path(&path);
        for (k, _) in url.query_pairs() {
            if k != "action" && !HOST_FILTERS.contains(&k.as_str()) {
                discovery.remove_query(&k);
            }
        }
    } else {
        for (k, _) in url.query_pairs() {
            if k.starts_with("show_") {
                discovery.remove_query(&k);
            }
        }
    }
    discovery.set_query("details", "None");
    discovery.set_query("truncation_limit", "0");
    discovery
}

/// The host-list request naming the first host a page of `url` would hold from `from` (up to
/// `hi`): the host discovery URL ([`host_discovery_url`]: the host list API with the URL's host
/// filters, `details=None`) with `truncation_limit=1`, `id_min=from` (when above 0) and `id_max=hi`
/// (when bounded).
pub fn host_lookup_url(source: DataSource, url: &Url, from: u64, hi: u64) -> Url {
    let mut lookup = host_discovery_url(source, url);
    lookup.set_query("truncation_limit", "1");
    if from > 0 {
        lookup.set_query("id_min", &from.to_string());
    } else {
        lookup.remove_query("id_min");
    }
    if hi < u64::MAX {
        lookup.set_query("id_max", &hi.to_string());
    }
    lookup
}

/// The connection test's one light request (`testConnection`): for the host-based sources the
/// run's URL with `truncation_limit=1` (one host; the host list also with `details=Basic`); for the
/// KnowledgeBase the QID listing (`details=None`) of QIDs modified in the day before `since_day`
/// (`YYYY-MM-DDTHH:MM:SSZ`), unless the URL selects IDs itself.
pub fn check_url(source: DataSource, url: &Url, since_day: &str) -> Url {
    let mut probe = url.clone();
    match source {
        DataSource::Kb => {
            probe.set_query("details", "None");
            if !has_id_selector(url) {
                probe.set_query("last_modified_after", since_day);
                probe.remove_query("published_after");
            }
        }
        DataSource::Hosts => {
            probe.set_query("truncation_limit", "1");
            probe.set_query("details", "Basic");
        }
        DataSource::HostDetections | DataSource::Detections => {
            probe.set_query("truncation_limit", "1");
        }
    }
    probe
}

/// A resumed run's catch-up window: the records up to `watermark` changed since the failed run
/// started are fetched with `since_url` (the URL with that time substituted) up to `id_max`.
pub fn catch_up_url(mut since_url: Url, watermark: u64) -> Url {
    since_url.set_query("id_max", &watermark.to_string());
    since_url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test url")
    }

    #[test]
    fn detection_discovery_asks_the_host_list_with_host_filters_only() {
        let u = url("https://q.example/api/5.0/fo/asset/host/vm/detection/?action=list&status=New&vm_scan_since=2024-01-01&show_results=1&ips=10.0.0.1");
        assert_eq!(
            host_discovery_url(DataSource::Detections, &u).to_string(),
            "https://q.example/api/5.0/fo/asset/host/?action=list&vm_scan_since=2024-01-01&ips=10.0.0.1&details=None&truncation_limit=0"
        );
        let h = url("https://q.example/api/5.0/fo/asset/host/?action=list&show_tags=1&details=All");
        assert_eq!(
            host_discovery_url(DataSource::Hosts, &h).to_string(),
            "https://q.example/api/5.0/fo/asset/host/?action=list&details=None&truncation_limit=0"
        );
    }

    #[test]
    fn a_host_lookup_asks_the_host_list_for_one_host_id_from_where_the_page_started() {
        let u = url("https://q.example/api/5.0/fo/asset/host/vm/detection/?action=list&status=New&ips=10.0.0.1&truncation_limit=1&id_min=40&show_results=1");
        assert_eq!(
            host_lookup_url(DataSource::Detections, &u, 57, u64::MAX).to_string(),
            "https://q.example/api/5.0/fo/asset/host/?action=list&ips=10.0.0.1&id_min=57&details=None&truncation_limit=1"
        );
        let h = url("https://q.example/api/5.0/fo/asset/host/?action=list&show_tags=1&details=All&truncation_limit=3");
        assert_eq!(
            host_lookup_url(DataSource::Hosts, &h, 0, 99).to_string(),
            "https://q.example/api/5.0/fo/asset/host/?action=list&details=None&truncation_limit=1&id_max=99"
        );
    }

    #[test]
    fn windows_and_resume_rules() {
        let mut u = url("https://q.example/x/?action=list&id_min=5");
        raise_id_min(&mut u, 3);
        assert_eq!(id_min(&u), Some(5));
        raise_id_min(&mut u, 9);
        assert_eq!(id_min(&u), Some(9));
        set_window(&mut u, None, Some(20));
        assert_eq!((id_min(&u), id_max(&u)), (Some(9), Some(20)));
        assert!(has_id_selector(&u));
        assert_eq!(catch_up_url(url("https://q.example/x/?a=1"), 7).to_string(), "https://q.example/x/?a=1&id_max=7");
        assert_eq!(page_url(DataSource::Kb, url("https://q.example/x/"), 5).to_string(), "https://q.example/x/");
        assert_eq!(
            page_url(DataSource::Hosts, url("https://q.example/x/"), 5).to_string(),
            "https://q.example/x/?truncation_limit=5"
        );
    }
}

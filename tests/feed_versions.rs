//! The active Qualys API versions, driven through whole feed runs against a fake Qualys: a URL on
//! a retired version (`/api/2.0/`, KnowledgeBase `/api/3.0/`) logs one warning naming the path to
//! use and still runs (real v2-era pages parse as before); a 404, a 410 or a Qualys error saying
//! the API is not available on a retired version fails at once with `API_VERSION_RETIRED` and that
//! advice (configuration, not retryable); on an active version a 404 stays `URL_NOT_FOUND`; newer
//! responses' attributes (`QDS severity=`, `QDS_FACTOR name=`) are kept in the output.

mod common;
use qualys_vm_transporter::error::Blame;
use qualys_vm_transporter::feed::{Feed, Summary, Tokens};
use qualys_vm_transporter::transform::Transform;
use qualys_vm_transporter::ErrorCode;

const HOST: &str = "https://qualysapi.example.com";
const DETECTIONS_REAL: &str = include_str!("fixtures/real/demisto_hld_host_list_detections_raw.xml");
const HOSTS_REAL: &str = include_str!("fixtures/real/j1_host_list_empty_real.xml");
const KB_REAL: &str = include_str!("fixtures/real/j1_kb_qid316760_real.xml");
const NOT_FOUND_HTML: &str = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n";

/// A data source, its URL path after `/api/<version>/`, the path to advise and a real page.
struct Source {
    name: &'static str,
    key: &'static str,
    path: &'static str,
    active: &'static str,
    page: &'static str,
}

const SOURCES: [Source; 4] = [
    Source {
        name: "kb",
        key: "kbUrl",
        path: "fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>",
        active: "/api/4.0/fo/knowledge_base/vuln/",
        page: KB_REAL,
    },
    Source {
        name: "hosts",
        key: "hostsUrl",
        path: "fo/asset/host/?action=list&details=All&vm_scan_since=<LastRunTime>",
        active: "/api/5.0/fo/asset/host/",
        page: HOSTS_REAL,
    },
    Source {
        name: "hostDetections",
        key: "detectionUrl",
        path: "fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>",
        active: "/api/5.0/fo/asset/host/vm/detection/",
        page: DETECTIONS_REAL,
    },
    Source {
        name: "detections",
        key: "detectionUrl",
        path: "fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>",
        active: "/api/5.0/fo/asset/host/vm/detection/",
        page: DETECTIONS_REAL,
    },
];

struct Run {
    outcome: Option<Result<Summary, qualys_vm_transporter::Error>>,
    output: String,
    warns: Vec<String>,
    requests: Vec<String>,
}

/// Runs one feed; `serve` answers each request (its URL) with a status and a body.
fn run(source: &Source, version: &str, extra: &[(&str, &str)], mut serve: impl FnMut(&str) -> (u16, String)) -> Run {
    let url = format!("{HOST}/api/{version}/{}", source.path);
    // One request per page (kb: no QID listing first), two retries allowed.
    let mut base = vec![("maxRetry", "2"), ("kbChunkSize", "0")];
    base.extend_from_slice(extra);
    let params = common::feed_params(source.name, &url, "pw-123456", &base);
    let now = 1_767_225_600_000;
    let mut feed = Feed::new(&params, &Tokens::default(), now).expect("valid parameters");
    let mut requests = Vec::new();
    let d = common::drive(&mut feed, now, |feed, req, now| {
        requests.push(req.url.clone());
        let (status, body) = serve(&req.url);
        feed.handle_response_head(req.id, now, status, &[]);
        for piece in body.as_bytes().chunks(113) {
            if !feed.handle_body(req.id, piece) {
                break;
            }
        }
        feed.handle_response_end(req.id, now);
    });
    Run { outcome: Some(d.outcome), output: d.output, warns: d.warns, requests }
}

fn version_warnings(run: &Run) -> Vec<&String> {
    run.warns.iter().filter(|w| w.contains("no longer supports")).collect()
}

#[test]
fn a_retired_version_warns_once_with_the_active_path_and_still_runs_the_real_v2_pages() {
    for s in &SOURCES {
        for version in ["2.0", "3.0", "4.0", "5.0"] {
            let retired = version == "2.0" || (s.name == "kb" && version == "3.0");
            let run = run(s, version, &[], |_| (200, s.page.to_string()));
            let summary = run.outcome.as_ref().expect("ended").as_ref().expect("a retired version still runs");
            let warned = version_warnings(&run);
            if retired {
                assert_eq!(warned.len(), 1, "{} {version}: one warning: {:?}", s.name, run.warns);
                let w = warned[0];
                assert!(w.starts_with(&format!("{}: ", s.key)), "{w}");
                assert!(w.contains(&format!("API {version}")), "{w}");
                assert!(w.contains(&format!("change its path to {} ", s.active)), "{w}");
            } else {
                assert!(warned.is_empty(), "{} {version}: {:?}", s.name, run.warns);
            }
            // The page parses the same whatever the version in the URL.
            let same = self::run(s, "5.0", &[], |_| (200, s.page.to_string()));
            assert_eq!(run.output, same.output, "{} {version}", s.name);
            assert_eq!(summary.records, same.outcome.expect("ended").expect("runs").records);
        }
    }
}

#[test]
fn a_404_or_410_on_a_retired_version_fails_at_once_with_the_active_path() {
    for s in &SOURCES {
        let versions: &[&str] = if s.name == "kb" { &["2.0", "3.0"] } else { &["2.0"] };
        for version in versions {
            for status in [404u16, 410] {
                let run = run(s, version, &[], |_| (status, NOT_FOUND_HTML.to_string()));
                let e = run.outcome.expect("ended").expect_err("fails");
                assert_eq!(e.code(), ErrorCode::ApiVersionRetired, "{} {version} {status}: {e}", s.name);
                assert_eq!(e.blame(), Blame::Configuration);
                assert!(!e.is_retryable());
                let m = e.message();
                assert!(m.contains(&format!("HTTP {status}")), "{m}");
                assert!(m.contains(&format!("{} parameter's path to {} ", s.key, s.active)), "{m}");
                assert!(m.contains(&format!("API {version} is retired")), "{m}");
                assert_eq!(run.requests.len(), 1, "{} {version} {status}: no retry", s.name);
                assert!(run.output.is_empty());
            }
        }
    }
}

#[test]
fn a_404_on_an_active_version_stays_url_not_found() {
    for s in &SOURCES {
        let run = run(s, if s.name == "kb" { "4.0" } else { "5.0" }, &[], |_| (404, NOT_FOUND_HTML.to_string()));
        assert!(version_warnings(&run).is_empty());
        let e = run.outcome.expect("ended").expect_err("fails");
        assert_eq!(e.code(), ErrorCode::UrlNotFound, "{}: {e}", s.name);
    }
    // A version neither active nor retired: used as given, a 404 is the URL's.
    let run = run(&SOURCES[1], "3.0", &[], |_| (404, NOT_FOUND_HTML.to_string()));
    assert_eq!(run.outcome.expect("ended").expect_err("fails").code(), ErrorCode::UrlNotFound);
}

fn simple_return(code: &str, text: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<SIMPLE_RETURN>\n  <RESPONSE>\n    <DATETIME>2026-07-01T10:00:00Z</DATETIME>\n    <CODE>{code}</CODE>\n    <TEXT>{text}</TEXT>\n  </RESPONSE>\n</SIMPLE_RETURN>\n")
}

#[test]
fn a_qualys_error_saying_the_api_is_not_available_on_a_retired_version_fails_with_the_advice() {
    let s = &SOURCES[3];
    for (status, code, text) in [
        (200, "1920", "This API version is no longer supported. Please use the latest version."),
        (400, "1903", "API v2.0 has been deprecated"),
        (404, "2001", "This account has expired."),
        (410, "999", "Gone"),
        (200, "", "The requested API is not available."),
    ] {
        let run = run(s, "2.0", &[], |_| (status, simple_return(code, text)));
        let e = run.outcome.expect("ended").expect_err("fails");
        assert_eq!(e.code(), ErrorCode::ApiVersionRetired, "{status} {code} {text}: {e}");
        assert!(e.message().contains("/api/5.0/fo/asset/host/vm/detection/"), "{e}");
        assert_eq!(run.requests.len(), 1);
    }
    // Other Qualys answers on a retired version mean what they always meant.
    for (status, code, text, want) in [
        (200, "2001", "This account has expired.", ErrorCode::QualysCredentials),
        (401, "", "Bad Login/Password", ErrorCode::QualysCredentials),
        (400, "1905", "parameter truncation_limit has invalid value", ErrorCode::QualysBadRequest),
    ] {
        let run = run(s, "2.0", &[], |_| (status, simple_return(code, text)));
        assert_eq!(run.outcome.expect("ended").expect_err("fails").code(), want, "{text}");
    }
    // The same words on an active version are a Qualys error, not a retired version.
    let run = run(s, "5.0", &[], |_| (200, simple_return("1920", "This API version is no longer supported.")));
    assert_ne!(run.outcome.expect("ended").expect_err("fails").code(), ErrorCode::ApiVersionRetired);
}

#[test]
fn a_detection_feeds_host_discovery_on_a_retired_version_advises_the_detection_path() {
    // concurrency > 1 lists the host IDs with the host list API first, on the URL's version.
    let run = run(&SOURCES[3], "2.0", &[("concurrency", "2")], |url| {
        assert!(url.contains("/api/2.0/fo/asset/host/?"), "{url}");
        (404, NOT_FOUND_HTML.to_string())
    });
    let e = run.outcome.expect("ended").expect_err("fails");
    assert_eq!(e.code(), ErrorCode::ApiVersionRetired);
    assert!(e.message().contains("host list API 2.0 is retired"), "{e}");
    assert!(e.message().contains("detectionUrl parameter's path to /api/5.0/fo/asset/host/vm/detection/"), "{e}");
}

#[test]
fn newer_responses_attributes_are_kept_in_every_detection_output() {
    let doc = include_bytes!("fixtures/complete/detections.xml");
    let text = std::str::from_utf8(doc).expect("utf-8");
    // The fixture holds the attributes of newer responses.
    for attr in ["<QDS severity=\"MEDIUM\">", "<QDS_FACTOR name=\"CVSS\">"] {
        assert!(text.contains(attr), "{attr}");
    }
    for source in [
        qualys_vm_transporter::qualys::DataSource::Detections,
        qualys_vm_transporter::qualys::DataSource::HostDetections,
    ] {
        let mut t = Transform::new(source, 1000, 1 << 20, Default::default());
        t.push(doc).expect("push");
        t.finish().expect("finish");
        let mut out = String::new();
        while let Some(c) = t.take_output() {
            out.push_str(&c.xml);
        }
        if source == qualys_vm_transporter::qualys::DataSource::Detections {
            assert!(out.contains("<QDS severity=\"MEDIUM\">54</QDS>"), "{out}");
            assert!(out.contains("<QDS_FACTOR name=\"CVSS\">5.9</QDS_FACTOR>"), "{out}");
            assert!(out.contains("<QDS_FACTOR name=\"epss\">0.01</QDS_FACTOR>"), "{out}");
        } else {
            // hostDetections writes the HOST without its DETECTION_LIST: no detection attribute.
            assert!(!out.contains("QDS_FACTOR"), "{out}");
        }
    }
    let mut t = Transform::with_shape(
        qualys_vm_transporter::qualys::DataSource::Detections,
        qualys_vm_transporter::records::Shape::Qualys,
        1000,
        1 << 20,
        Default::default(),
    );
    t.push(doc).expect("push");
    t.finish().expect("finish");
    let mut out = String::new();
    while let Some(c) = t.take_output() {
        out.push_str(&c.xml);
    }
    assert!(
        out.contains("<QDS severity=\"MEDIUM\">54</QDS>")
            && out.contains("<QDS_FACTOR name=\"CVSS_version\">v3.x</QDS_FACTOR>")
    );
}

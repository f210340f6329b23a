//! Tests of the Custom Parameters' validation.

use super::check::edit_distance;
use super::*;
use crate::error::ErrorCode;

const DET: &str = "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&status=Active,New,Fixed,Re-Opened&vm_scan_since=<LastRunTime>";
const KB: &str = "https://qualysapi.qualys.com/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>";
const HOSTS: &str = "https://qualysapi.qualys.com/api/5.0/fo/asset/host/?action=list&details=All&show_tags=1&vm_scan_since=<LastRunTime>";
const PW: &str = "Zq9-Marker-Pw!";
const PROXY_PW: &str = "Px7-Proxy-Secret";

fn base() -> Vec<(String, String)> {
    vec![
        ("dataSource".into(), "detections".into()),
        ("detectionUrl".into(), DET.into()),
        ("username".into(), "acme_ab12".into()),
        ("password".into(), PW.into()),
    ]
}

fn with(mut params: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != key);
    params.push((key.into(), value.into()));
    params
}

fn without(mut params: Vec<(String, String)>, key: &str) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != key);
    params
}

fn ok(params: &[(String, String)]) -> Parsed {
    match parse(params) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn err(params: &[(String, String)]) -> String {
    match parse(params) {
        Ok(p) => panic!("accepted: {:?}", p.config),
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::ConfigInvalid);
            assert_eq!(e.blame(), crate::error::Blame::Configuration);
            assert!(!e.is_retryable());
            e.message().to_string()
        }
    }
}

/// The problem lines of an error message (after the header line).
fn lines(msg: &str) -> Vec<&str> {
    msg.lines().skip(1).collect()
}

#[test]
fn minimal_config_gets_every_default() {
    let p = ok(&base());
    let c = &p.config;
    assert_eq!(c.data_source, DataSource::Detections);
    assert_eq!(c.url_template, DET);
    assert_eq!(c.url_key(), "detectionUrl");
    assert_eq!(c.username, "acme_ab12");
    assert_eq!(c.password.expose(), PW);
    assert_eq!(c.batch_size, 500);
    assert_eq!(c.requests_per_min, 60);
    assert_eq!(c.socket_limit, 10);
    assert_eq!(c.max_retry, 1);
    assert_eq!(c.retry_delay_sec, 5);
    assert!(c.proxy.is_none());
    assert!(c.verify_certs);
    assert!(c.ca_cert.is_none());
    assert_eq!(c.last_run_time_offset_days, -1);
    assert!(c.root_node.is_none());
    assert_eq!(c.request_timeout_sec, 300);
    assert_eq!(c.wait_budget_sec, 7200);
    assert_eq!(c.max_record_bytes, 64 * MIB);
    assert_eq!(c.output_chunk_records, 1000);
    assert_eq!(c.output_chunk_bytes, 4 * MIB);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn accepts_str_pairs_too() {
    let p = parse(&[("dataSource", "kb"), ("kbUrl", KB), ("username", "u"), ("password", "p")]);
    assert!(p.is_ok());
}

#[test]
fn every_data_source_uses_its_url_key() {
    for (ds, key, url) in [
        ("kb", "kbUrl", KB),
        ("hosts", "hostsUrl", HOSTS),
        ("hostDetections", "detectionUrl", DET),
        ("detections", "detectionUrl", DET),
    ] {
        let params = with(with(without(base(), "detectionUrl"), "dataSource", ds), key, url);
        let p = ok(&params);
        assert_eq!(p.config.data_source.as_str(), ds);
        assert_eq!(p.config.data_source.url_key(), key);
        assert_eq!(p.config.url_template, url);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(DataSource::from_param(ds), Some(p.config.data_source));
    }
    // The other data sources' URL keys are known: no warning, not validated.
    let params = with(with(with(base(), "kbUrl", KB), "hostsUrl", "not a url"), "dataSource", "hostDetections");
    assert!(ok(&params).warnings.is_empty());
}

#[test]
fn all_optional_values_are_read() {
    let mut params = base();
    for (k, v) in [
        ("batchSize", "1000"),
        ("requestsPerMin", "30"),
        ("socketLimit", "25"),
        ("maxRetry", "0"),
        ("retryDelaySec", "0"),
        ("proxy", "http://proxy.corp.example:3128"),
        ("verifyCerts", "TRUE"),
        ("caCert", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
        ("lastRunTimeOffset", "-7"),
        ("rootNode", "QUALYS_DETECTIONS"),
        ("requestTimeoutSec", "3600"),
        ("waitBudgetSec", "0"),
        ("maxRecordMB", "1024"),
        ("outputChunkRecords", "1"),
        ("outputChunkMB", "256"),
    ] {
        params.push((k.into(), v.into()));
    }
    let c = ok(&params).config;
    assert_eq!(
        (c.batch_size, c.requests_per_min, c.socket_limit, c.max_retry, c.retry_delay_sec),
        (1000, 30, 25, 0, 0)
    );
    let proxy = c.proxy.as_ref().map(|p| p.url.to_string());
    assert_eq!(proxy.as_deref(), Some("http://proxy.corp.example:3128/"));
    assert!(c.verify_certs);
    assert_eq!(c.ca_cert.as_deref(), Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"));
    assert_eq!(c.last_run_time_offset_days, -7);
    assert_eq!(c.root_node.as_deref(), Some("QUALYS_DETECTIONS"));
    assert_eq!((c.request_timeout_sec, c.wait_budget_sec), (3600, 0));
    assert_eq!(c.max_record_bytes, 1024 * MIB);
    assert_eq!(c.output_chunk_records, 1);
    assert_eq!(c.output_chunk_bytes, 256 * MIB);
}

#[test]
fn empty_optional_values_mean_default() {
    let mut params = base();
    for k in [
        "batchSize",
        "requestsPerMin",
        "socketLimit",
        "maxRetry",
        "proxy",
        "verifyCerts",
        "caCert",
        "lastRunTimeOffset",
        "rootNode",
        "waitBudgetSec",
        "maxRecordMB",
    ] {
        params.push((k.into(), String::new()));
    }
    let c = ok(&params).config;
    assert_eq!(c, ok(&base()).config);
}

#[test]
fn verify_certs_values() {
    for (v, want) in
        [("true", true), ("True", true), ("TRUE", true), ("false", false), ("False", false), ("FALSE", false)]
    {
        let p = ok(&with(base(), "verifyCerts", v));
        assert_eq!(p.config.verify_certs, want, "{v}");
        assert_eq!(p.warnings.iter().any(|w| w.starts_with("verifyCerts:")), !want);
    }
    for v in ["yes", "1", "0", "on", "tru"] {
        let m = err(&with(base(), "verifyCerts", v));
        assert!(m.contains("verifyCerts: ") && m.contains("true or false"), "{m}");
    }
    let p = ok(&with(
        with(base(), "verifyCerts", "false"),
        "caCert",
        "-----BEGIN CERTIFICATE-----x-----END CERTIFICATE-----",
    ));
    assert!(p.warnings.iter().any(|w| w.starts_with("caCert: ignored")));
}

#[test]
fn numbers_must_be_plain_integers_in_range() {
    let bad = [
        ("batchSize", "12abc", "not a whole number"),
        ("batchSize", "1.5", "not a whole number"),
        ("batchSize", "1e3", "not a whole number"),
        ("batchSize", "+5", "not a whole number"),
        ("batchSize", "-5", "not a whole number"),
        ("batchSize", "1,000", "not a whole number"),
        ("batchSize", "0", "out of range"),
        ("batchSize", "1000001", "out of range"),
        ("batchSize", "99999999999999999999999", "out of range"),
        ("requestsPerMin", "0", "out of range"),
        ("requestsPerMin", "10001", "out of range"),
        ("socketLimit", "26", "out of range"),
        ("socketLimit", "0", "out of range"),
        ("maxRetry", "3", "out of range"),
        ("retryDelaySec", "301", "out of range"),
        ("lastRunTimeOffset", "1", "out of range"),
        ("lastRunTimeOffset", "-3651", "out of range"),
        ("lastRunTimeOffset", "+1", "not a whole number"),
        ("lastRunTimeOffset", "-", "not a whole number"),
        ("lastRunTimeOffset", "--1", "not a whole number"),
        ("lastRunTimeOffset", "-1.5", "not a whole number"),
        ("requestTimeoutSec", "4", "out of range"),
        ("requestTimeoutSec", "3601", "out of range"),
        ("waitBudgetSec", "86401", "out of range"),
        ("maxRecordMB", "0", "out of range"),
        ("maxRecordMB", "1025", "out of range"),
        ("outputChunkRecords", "100001", "out of range"),
        ("outputChunkMB", "257", "out of range"),
    ];
    for (k, v, what) in bad {
        let m = err(&with(base(), k, v));
        let ls = lines(&m);
        assert_eq!(ls.len(), 1, "{m}");
        assert!(ls[0].starts_with(&format!("{k}: ")), "{m}");
        assert!(ls[0].contains(what), "{k}={v}: {m}");
        assert!(ls[0].contains("use a whole number from"), "{m}");
    }
    let m = err(&with(base(), "socketLimit", "26"));
    assert!(m.contains("from 1 to 25 (default 10)"), "{m}");
    // Boundaries and leading zeros are fine; -0 is 0.
    let c =
        ok(&with(with(with(base(), "batchSize", "1000000"), "lastRunTimeOffset", "-3650"), "maxRetry", "02")).config;
    assert_eq!((c.batch_size, c.last_run_time_offset_days, c.max_retry), (1_000_000, -3650, 2));
    assert_eq!(ok(&with(base(), "lastRunTimeOffset", "0")).config.last_run_time_offset_days, 0);
    assert_eq!(ok(&with(base(), "lastRunTimeOffset", "-0")).config.last_run_time_offset_days, 0);
}

#[test]
fn whitespace_around_values_is_an_error() {
    for (k, v) in [
        ("batchSize", " 500"),
        ("batchSize", "500 "),
        ("dataSource", "detections "),
        ("username", " acme"),
        ("verifyCerts", "true\n"),
        ("detectionUrl", " https://x.example/"),
        ("batchSize", "   "),
    ] {
        let m = err(&with(base(), k, v));
        let ls = lines(&m);
        assert_eq!(ls.len(), 1, "{k}={v:?}: {m}");
        assert!(ls[0].starts_with(&format!("{k}: ")) && ls[0].contains("leading or trailing spaces"), "{m}");
    }
}

#[test]
fn missing_required_keys() {
    let m = err(&[] as &[(String, String)]);
    let ls = lines(&m);
    assert!(ls.iter().any(|l| l.starts_with("dataSource: missing")), "{m}");
    assert!(ls.iter().any(|l| l.starts_with("username: missing")), "{m}");
    assert!(ls.iter().any(|l| l.starts_with("password: missing")), "{m}");
    assert!(m.starts_with("3 problems"), "{m}");

    let m = err(&without(base(), "detectionUrl"));
    assert_eq!(lines(&m).len(), 1, "{m}");
    assert!(m.contains("detectionUrl: missing; dataSource=detections needs it"), "{m}");

    let m = err(&with(base(), "username", ""));
    assert!(m.contains("username: is empty"), "{m}");
    let m = err(&with(base(), "password", ""));
    assert!(m.contains("password: is empty"), "{m}");
    let m = err(&with(base(), "dataSource", ""));
    assert!(m.contains("dataSource: is empty"), "{m}");

    // A key that differs only by case is pointed at.
    let params = with(without(base(), "password"), "Password", PW);
    let parse_result = parse(&params);
    let m = match parse_result {
        Err(e) => e.message().to_string(),
        Ok(_) => panic!("accepted"),
    };
    assert!(m.contains("password: missing (a key \"Password\" was given"), "{m}");
}

#[test]
fn unknown_data_source_lists_the_four_values() {
    let m = err(&with(base(), "dataSource", "detectors"));
    assert!(
        m.contains("dataSource: \"detectors\" is not a data source; use one of kb, hosts, hostDetections, detections"),
        "{m}"
    );
    let m = err(&with(base(), "dataSource", "HostDetections"));
    assert!(m.contains("did you mean hostDetections?"), "{m}");
}

#[test]
fn url_checks() {
    // Plain http to a remote host.
    let m = err(&with(
        base(),
        "detectionUrl",
        "http://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list",
    ));
    assert!(m.contains("detectionUrl: uses plain http://"), "{m}");
    // Plain http to loopback is fine (a local test server).
    for u in [
        "http://127.0.0.1:8080/api/5.0/fo/asset/host/vm/detection/?action=list",
        "http://localhost/api/5.0/fo/asset/host/vm/detection/",
        "http://[::1]:9/api/5.0/fo/asset/host/vm/detection/",
    ] {
        assert_eq!(ok(&with(base(), "detectionUrl", u)).config.url_template, u);
    }
    // Unparseable.
    for u in ["qualysapi.qualys.com/api", "https://", "https://q.example:99999/", "ftp://q.example/"] {
        let m = err(&with(base(), "detectionUrl", u));
        assert_eq!(lines(&m).len(), 1, "{m}");
        assert!(lines(&m)[0].starts_with("detectionUrl: "), "{m}");
        assert!(m.contains("expected e.g. https://"), "{m}");
    }
    // Without the placeholder: fine, used as given.
    let fixed = "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=2024-01-01";
    let p = ok(&with(base(), "detectionUrl", fixed));
    assert_eq!(p.config.url_template, fixed);
    assert!(p.warnings.is_empty());
    // Newer API versions are fine.
    assert!(ok(&with(base(), "detectionUrl", "https://qualysapi.qg3.apps.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>")).warnings.is_empty());
    // A URL for another endpoint runs but warns.
    let p = ok(&with(base(), "detectionUrl", KB));
    assert!(
        p.warnings.iter().any(|w| w.starts_with("detectionUrl: the path does not contain /asset/host/vm/detection")),
        "{:?}",
        p.warnings
    );
    let hosts_with_det = with(with(without(base(), "detectionUrl"), "dataSource", "hosts"), "hostsUrl", DET);
    assert!(ok(&hosts_with_det).warnings.iter().any(|w| w.starts_with("hostsUrl: the URL is a detection URL")));
}

#[test]
fn batch_size_with_truncation_limit_in_url_warns() {
    let url = "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&truncation_limit=100";
    let p = ok(&with(with(base(), "detectionUrl", url), "batchSize", "200"));
    assert!(p.warnings.iter().any(|w| w.starts_with("batchSize: ignored")), "{:?}", p.warnings);
    assert!(ok(&with(base(), "detectionUrl", url)).warnings.is_empty());
}

#[test]
fn unknown_keys_warn_with_suggestions() {
    let params = with(
        with(with(with(with(base(), "BatchSize", "100"), "requestPerMin", "5"), "colour", "blue"), "socketLimit ", "3"),
        "Password",
        "x",
    );
    let p = ok(&params);
    let w = &p.warnings;
    assert!(
        w.contains(
            &"\"BatchSize\": unknown parameter, ignored; did you mean batchSize? keys are case-sensitive".to_string()
        ),
        "{w:?}"
    );
    assert!(
        w.contains(&"\"requestPerMin\": unknown parameter, ignored; did you mean requestsPerMin?".to_string()),
        "{w:?}"
    );
    assert!(w.contains(&"\"colour\": unknown parameter, ignored".to_string()), "{w:?}");
    assert!(
        w.iter().any(|x| x.starts_with("\"socketLimit \": unknown parameter, ignored; remove the extra spaces")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|x| x.starts_with("\"Password\": unknown parameter, ignored; did you mean password?")),
        "{w:?}"
    );
    assert_eq!(p.config.batch_size, 500);
}

#[test]
fn proxy_forms() {
    let c = ok(&with(base(), "proxy", &format!("http://svc:{PROXY_PW}@proxy.corp.example:8080"))).config;
    let proxy = c
        .proxy
        .as_ref()
        .map(|p| (p.url.to_string(), p.username.clone(), p.password.as_ref().map(|s| s.expose().to_string())));
    assert_eq!(
        proxy,
        Some(("http://proxy.corp.example:8080/".to_string(), Some("svc".to_string()), Some(PROXY_PW.to_string())))
    );
    assert!(!format!("{c:?}").contains(PROXY_PW));
    for (v, what) in [
        ("https://proxy.corp.example:8443", "only http:// proxies"),
        ("http://proxy.corp.example", "port is missing"),
        ("http://proxy.corp.example:8080/path", "no path or query"),
        ("proxy.corp.example:8080", "http://"),
        ("socks5://proxy:1080", "http://"),
    ] {
        let m = err(&with(base(), "proxy", v));
        assert!(m.contains("proxy: ") && m.contains(what), "{v}: {m}");
    }
}

#[test]
fn ca_cert_and_root_node() {
    let m = err(&with(base(), "caCert", "MIIBxyz"));
    assert!(m.contains("caCert: is not a PEM certificate"), "{m}");
    for good in ["QUALYS", "_x", "a-b.c_1", "Détections"] {
        assert_eq!(ok(&with(base(), "rootNode", good)).config.root_node.as_deref(), Some(good));
    }
    for bad in ["1abc", "-a", "a b", "a:b", "a<b", "xmlRoot", "XML_X", ".a"] {
        let m = err(&with(base(), "rootNode", bad));
        assert!(lines(&m).len() == 1 && lines(&m)[0].starts_with("rootNode: "), "{bad}: {m}");
    }
}

#[test]
fn all_problems_are_collected_one_per_line() {
    let params = vec![
        ("dataSource".to_string(), "detections".to_string()),
        ("detectionUrl".to_string(), "http://qualysapi.qualys.com/x".to_string()),
        ("username".to_string(), String::new()),
        ("password".to_string(), PW.to_string()),
        ("batchSize".to_string(), "abc".to_string()),
        ("maxRetry".to_string(), "5".to_string()),
        ("verifyCerts".to_string(), "maybe".to_string()),
        ("rootNode".to_string(), "1x".to_string()),
    ];
    let m = err(&params);
    let ls = lines(&m);
    assert!(m.starts_with("6 problems in the feed's Custom Parameters"), "{m}");
    assert_eq!(ls.len(), 6, "{m}");
    for key in ["detectionUrl", "username", "batchSize", "maxRetry", "verifyCerts", "rootNode"] {
        assert!(ls.iter().any(|l| l.starts_with(&format!("{key}: "))), "{key}: {m}");
    }
    let one = err(&with(base(), "maxRetry", "9"));
    assert!(one.starts_with("1 problem in"), "{one}");
    assert!(!one.contains("also worth checking"), "{one}");
}

#[test]
fn a_failing_configuration_also_shows_the_warnings() {
    let m = err(&with(with(base(), "maxRetry", "9"), "BatchSize", "5"));
    let (problems, hints) = m.split_once("\nalso worth checking:\n").expect("warnings section");
    assert!(problems.contains("maxRetry: "), "{m}");
    assert!(hints.starts_with("\"BatchSize\": unknown parameter") && hints.contains("did you mean batchSize?"), "{m}");
}

#[test]
fn duplicate_keys_are_an_error() {
    let mut params = base();
    params.push(("batchSize".into(), "1".into()));
    params.push(("batchSize".into(), "2".into()));
    assert!(err(&params).contains("batchSize: given more than once"));
}

#[test]
fn username_with_colon_is_an_error() {
    assert!(err(&with(base(), "username", "a:b")).contains("username: contains ':'"));
}

#[test]
fn debug_never_shows_secrets() {
    let c = ok(&with(base(), "proxy", &format!("http://svc:{PROXY_PW}@proxy:3128"))).config;
    let d = format!("{c:?} {c:#?}");
    assert!(!d.contains(PW) && !d.contains(PROXY_PW), "{d}");
    assert!(d.contains("***"));
}

/// Every error path, with recognisable passwords: neither ever shows up in a message.
#[test]
fn passwords_never_appear_in_errors_or_warnings() {
    let proxy_with_pw = |tail: &str| format!("http://svc:{PROXY_PW}@{tail}");
    let scenarios: Vec<Vec<(String, String)>> = vec![
        with(base(), "password", &format!("  {PW}")),
        with(base(), "password", &format!("{PW}\n")),
        with(base(), "proxy", &proxy_with_pw("proxy:80x")),
        with(base(), "proxy", &proxy_with_pw("proxy")),
        with(base(), "proxy", &format!("https://svc:{PROXY_PW}@proxy:8443")),
        with(base(), "proxy", &format!("http://svc:{PROXY_PW}/x@proxy:8080")),
        with(base(), "proxy", &format!("http://:{PROXY_PW}@proxy:8080")),
        with(base(), "proxy", &format!(" http://svc:{PROXY_PW}@proxy:8080")),
        with(base(), "proxy", &format!("http://svc:{PROXY_PW}@proxy:8080/p?q")),
        with(base(), "proxy", &format!("http://svc:{PROXY_PW} @proxy:8080")),
        with(
            base(),
            "detectionUrl",
            &format!("https://acme_ab12:{PW}@qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/"),
        ),
        with(base(), "detectionUrl", &format!("http://qualysapi.qualys.com/?password={PW}")),
        with(base(), "detectionUrl", &format!("https://q.example/{PW} x")),
        with(base(), "username", ""),
        with(base(), "username", &format!("acme:{PW}")),
        with(base(), "dataSource", PW),
        with(base(), "batchSize", PW),
        with(base(), "lastRunTimeOffset", PW),
        with(base(), "verifyCerts", PW),
        with(base(), "rootNode", PW),
        with(base(), "caCert", PW),
        with(base(), PW, PW),
        with(without(base(), "password"), "Password", PW),
        with(with(base(), "password", PW), "password2", PW),
        without(base(), "dataSource"),
        with(with(base(), "verifyCerts", "false"), "proxy", &proxy_with_pw("proxy:8080")),
    ];
    for (i, params) in scenarios.iter().enumerate() {
        let mut texts = Vec::new();
        match parse(params) {
            Ok(p) => {
                texts.extend(p.warnings.clone());
                texts.push(format!("{:?}", p.config));
            }
            Err(e) => {
                texts.push(e.to_string());
                texts.push(format!("{e:?}"));
            }
        }
        for t in texts {
            assert!(
                !t.contains(PW) && !t.contains(PROXY_PW) && !t.contains("Marker-Pw") && !t.contains("Proxy-Secret"),
                "scenario {i}: {t}"
            );
        }
    }
    // The password with leading spaces is an error (it is not silently trimmed).
    let m = err(&with(base(), "password", &format!("  {PW}")));
    assert!(m.contains("password: the value has leading or trailing spaces"), "{m}");
}

/// A password with characters that escaping changes (`"`, `\`, a tab), pasted into other keys:
/// neither it nor its escaped forms are echoed; short harmless values still are.
#[test]
fn escaped_forms_of_the_password_are_not_echoed_either() {
    let pw = "Esc-\"q\\\tx%!+ é€";
    let debug = format!("{pw:?}");
    let forms = [pw.to_string(), debug.trim_matches('"').to_string(), pw.replace('\t', "\\t")];
    for key in ["batchSize", "verifyCerts", "dataSource", "rootNode", "maxRetry", "lastRunTimeOffset"] {
        for value in [pw.to_string(), format!("1{pw}"), pw[..6].to_string()] {
            let params = with(with(base(), "password", pw), key, &value);
            let m = err(&params);
            assert!(m.contains(&format!("{key}: ")), "{m}");
            assert!(m.contains("not shown"), "{key}={value:?}: {m}");
            for f in &forms {
                assert!(!m.contains(f.as_str()), "{key}: {f:?} in {m}");
            }
            assert!(!m.contains("Esc-"), "{m}");
        }
    }
    // An unrelated bad value is still shown.
    let m = err(&with(with(base(), "password", pw), "batchSize", "12abc"));
    assert!(m.contains("batchSize: \"12abc\" is not a whole number"), "{m}");
    // The key itself.
    let p = ok(&with(with(base(), "password", pw), &format!("x{pw}"), "1"));
    assert!(p.warnings.iter().any(|w| w.starts_with("a key (not shown")), "{:?}", p.warnings);
    assert!(!p.warnings.concat().contains("Esc-"));
}

#[test]
fn configuration_reports_are_bounded() {
    let mut params = base();
    for i in 0..500 {
        params.push((format!("unknown{i}"), "x".repeat(10_000)));
    }
    params.push(("batchSize".into(), "x".repeat(100_000)));
    let m = err(&params);
    assert!(m.len() < 200_000, "{} bytes", m.len());
    assert!(m.lines().count() <= crate::text::MAX_LINES + 1, "{} lines", m.lines().count());
    assert!(m.ends_with("more lines"), "{}", &m[m.len() - 100..]);
}

#[test]
fn known_keys_cover_the_seed_and_ours() {
    let k = known_keys();
    for key in table::RSA_KEYS.into_iter().chain(["detectionKey", "outputShape"]) {
        assert!(k.contains(&key), "{key}");
    }
    assert_eq!(k.len(), 28);
}

#[test]
fn test_connection_is_a_boolean_that_defaults_to_false() {
    assert!(!parse(&base()).expect("valid").config.test_connection);
    assert!(ok(&with(base(), "testConnection", "True")).config.test_connection);
    assert!(!ok(&with(base(), "testConnection", "false")).config.test_connection);
    assert!(err(&with(base(), "testConnection", "yes")).contains("testConnection:"));
}

#[test]
fn kb_chunk_size_and_concurrency_defaults_and_ranges() {
    let c = parse(&base()).expect("valid").config;
    assert_eq!((c.kb_chunk_size, c.concurrency), (1000, 1));
    let c = parse(&with(with(base(), "kbChunkSize", "0"), "concurrency", "4")).expect("valid").config;
    assert_eq!((c.kb_chunk_size, c.concurrency), (0, 4));
    let m = err(&with(with(base(), "kbChunkSize", "100001"), "concurrency", "0"));
    assert!(m.contains("kbChunkSize") && m.contains("concurrency"), "{m}");
}

#[test]
fn detection_key_is_one_of_three_exact_values_default_seed() {
    use crate::records::keys::DetectionKey;
    assert_eq!(parse(&base()).expect("valid").config.detection_key, DetectionKey::Seed);
    for (v, want) in
        [("seed", DetectionKey::Seed), ("uniqueVulnId", DetectionKey::UniqueVulnId), ("hostQid", DetectionKey::HostQid)]
    {
        assert_eq!(parse(&with(base(), "detectionKey", v)).expect("valid").config.detection_key, want, "{v}");
    }
    let m = err(&with(base(), "detectionKey", "uniquevulnid"));
    assert!(m.contains("detectionKey") && m.contains("did you mean uniqueVulnId?"), "{m}");
    let m = err(&with(base(), "detectionKey", "dns"));
    assert!(m.contains("seed, uniqueVulnId, hostQid") && !m.contains("did you mean"), "{m}");
    let m = err(&with(base(), "detectionKey", " seed"));
    assert!(m.contains("leading or trailing spaces"), "{m}");
}

#[test]
fn edit_distance_basics() {
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("requestpermin", "requestspermin"), 1);
}

#[test]
fn http_method_and_skip_stalled_hosts() {
    let c = ok(&base()).config;
    assert_eq!(c.http_method, HttpMethod::Auto);
    assert!(!c.skip_stalled_hosts);
    for (v, want) in [("auto", HttpMethod::Auto), ("GET", HttpMethod::Get), ("POST", HttpMethod::Post)] {
        assert_eq!(ok(&with(base(), "httpMethod", v)).config.http_method, want, "{v}");
    }
    assert_eq!(ok(&with(base(), "httpMethod", "")).config.http_method, HttpMethod::Auto);
    let m = err(&with(base(), "httpMethod", "post"));
    assert!(
        m.contains("httpMethod: \"post\" is not one of auto, GET, POST (did you mean POST? values are case-sensitive)"),
        "{m}"
    );
    let m = err(&with(base(), "httpMethod", "PUT"));
    assert!(m.contains("httpMethod: \"PUT\" is not one of auto, GET, POST"), "{m}");
    assert!(ok(&with(base(), "skipStalledHosts", "True")).config.skip_stalled_hosts);
    assert!(!ok(&with(base(), "skipStalledHosts", "false")).config.skip_stalled_hosts);
    assert!(err(&with(base(), "skipStalledHosts", "yes")).contains("skipStalledHosts:"));
}

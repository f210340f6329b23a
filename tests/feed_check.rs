//! The connection test (`testConnection=True`) driven through the feed's protocol against scripted
//! answers: what it requests (one light request), what each answer means (one finding per check),
//! and how it ends (always a failure: `CONNECTION_TEST_PASSED`, or the first failure's code), with
//! no record written and the incoming PreviousRunContext handed back unchanged.

mod common;
use common::query;
use qualys_vm_transporter::feed::{Action, Feed, Outcome, Summary, Tokens};
use qualys_vm_transporter::{Error, ErrorCode};

const PASSWORD: &str = "Ch3ck-Pa55word!";
const NOW: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const HOSTS_URL: &str =
    "https://qualysapi.example.com/api/5.0/fo/asset/host/?action=list&details=All&show_tags=1&vm_scan_since=<LastRunTime>";
const DET_URL: &str =
    "https://qualysapi.example.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>";
const KB_URL: &str = "https://qualysapi.example.com/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>";

const HOSTS_DOC: &str = r#"<?xml version="1.0" encoding="UTF-8" ?><HOST_LIST_OUTPUT><RESPONSE><DATETIME>2026-01-01T00:00:00Z</DATETIME><HOST_LIST><HOST><ID>101</ID><IP>10.0.0.1</IP></HOST></HOST_LIST><WARNING><CODE>1980</CODE><TEXT>1 record limit exceeded. Use URL to get next batch of results.</TEXT><URL><![CDATA[https://qualysapi.example.com/api/5.0/fo/asset/host/?action=list&id_min=102]]></URL></WARNING></RESPONSE></HOST_LIST_OUTPUT>"#;
const KB_DOC: &str = r#"<?xml version="1.0" encoding="UTF-8" ?><KNOWLEDGE_BASE_VULN_LIST_OUTPUT><RESPONSE><DATETIME>2026-01-01T00:00:00Z</DATETIME><VULN_LIST><VULN><QID>38170</QID></VULN></VULN_LIST></RESPONSE></KNOWLEDGE_BASE_VULN_LIST_OUTPUT>"#;
const BAD_LOGIN: &str = r#"<?xml version="1.0" encoding="UTF-8" ?><SIMPLE_RETURN><RESPONSE><DATETIME>2026-01-01T00:00:00Z</DATETIME><CODE>2000</CODE><TEXT>Bad Login/Password</TEXT></RESPONSE></SIMPLE_RETURN>"#;

fn limit_headers(remaining: u64) -> Vec<(String, String)> {
    [
        ("X-RateLimit-Limit", "300".to_string()),
        ("X-RateLimit-Window-Sec", "3600".to_string()),
        ("X-RateLimit-Remaining", remaining.to_string()),
        ("X-RateLimit-ToWait-Sec", "0".to_string()),
        ("X-Concurrency-Limit-Limit", "2".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// What the scripted server does with the one request.
enum Answer {
    Http { status: u16, headers: Vec<(String, String)>, body: &'static str },
    Transport { code: &'static str, message: &'static str },
}

struct Ended {
    error: Error,
    summary: Summary,
    urls: Vec<String>,
    logs: Vec<String>,
    output_chunks: usize,
}

fn check(source: &str, url: &str, extra: &[(&str, &str)], tokens: Tokens, answer: Answer) -> Ended {
    let mut p = vec![("testConnection", "True")];
    p.extend_from_slice(extra);
    let params = common::feed_params(source, url, PASSWORD, &p);
    let mut feed = Feed::new(&params, &tokens, NOW).expect("valid parameters");
    let mut urls = Vec::new();
    let mut logs = Vec::new();
    let mut output_chunks = 0;
    let mut answer = Some(answer);
    for _ in 0..20 {
        let action = feed.poll(NOW);
        while let Some(l) = feed.take_log() {
            logs.push(l.text);
        }
        match action {
            Action::Send(req) => {
                urls.push(req.url.clone());
                match answer.take().expect("only one request") {
                    Answer::Http { status, headers, body } => {
                        feed.handle_response_head(req.id, NOW, status, &headers);
                        // Whether or not the body is worth reading on, the response then ends.
                        let _ = feed.handle_body(req.id, body.as_bytes());
                        feed.handle_response_end(req.id, NOW);
                    }
                    Answer::Transport { code, message } => feed.handle_transport_error(req.id, NOW, code, message),
                }
            }
            Action::Fail(error) => {
                while feed.take_output().is_some() {
                    output_chunks += 1;
                }
                while let Some(l) = feed.take_log() {
                    logs.push(l.text);
                }
                let summary = feed.summary().clone();
                for line in &logs {
                    assert!(!line.contains(PASSWORD), "{line}");
                }
                assert!(!error.message().contains(PASSWORD));
                return Ended { error, summary, urls, logs, output_chunks };
            }
            Action::Done(_) => panic!("a connection test must never end in success"),
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("the connection test did not end")
}

fn outcome(e: &Ended, name: &str) -> (Outcome, String) {
    let f = e
        .summary
        .check
        .iter()
        .find(|f| f.check == name)
        .unwrap_or_else(|| panic!("no {name} finding: {:?}", e.summary.check));
    (f.outcome, f.text.clone())
}

fn tokens(prc: Option<&str>) -> Tokens {
    Tokens { last_run_time: Some("2025-12-01T00:00:00Z".into()), previous_run_context: prc.map(String::from) }
}

#[test]
fn a_passing_test_makes_one_light_request_writes_nothing_and_still_fails_on_purpose() {
    let e = check(
        "hosts",
        HOSTS_URL,
        &[],
        tokens(Some("some-token-archer-holds")),
        Answer::Http { status: 200, headers: limit_headers(287), body: HOSTS_DOC },
    );
    assert_eq!(e.urls.len(), 1, "one request: {:?}", e.urls);
    assert_eq!(query(&e.urls[0], "truncation_limit").as_deref(), Some("1"));
    assert_eq!(query(&e.urls[0], "details").as_deref(), Some("Basic"));
    assert_eq!(e.error.code(), ErrorCode::ConnectionTestPassed);
    assert!(e
        .error
        .message()
        .contains("connection test passed; reported as failed on purpose so Archer keeps LastRunTime"));
    assert_eq!(e.output_chunks, 0);
    assert_eq!(e.summary.records, 0);
    assert_eq!(e.summary.previous_run_context, "some-token-archer-holds");
    assert!(!e.summary.check.iter().any(|f| f.outcome == Outcome::Fail), "{:?}", e.summary.check);
    for name in ["DNS/TCP", "credentials", "endpoint", "API version", "limits"] {
        assert_eq!(outcome(&e, name).0, Outcome::Pass, "{name}");
    }
    let (o, text) = outcome(&e, "TLS");
    assert_eq!(o, Outcome::Pass);
    assert!(text.contains("default root CAs"), "{text}");
    assert!(outcome(&e, "endpoint").1.contains("<HOST_LIST_OUTPUT>"));
    assert_eq!(outcome(&e, "limits").1, "Qualys API limits: 300 calls / 3600 s, 2 concurrent; 287 left");
    let (_, lrt) = outcome(&e, "LastRunTime");
    assert!(
        lrt.contains("LastRunTime=2025-11-30T00:00:00Z") && lrt.contains("vm_scan_since=2025-11-30T00:00:00Z"),
        "{lrt}"
    );
    assert!(e.logs.iter().any(|l| l.starts_with("connection test: PASS credentials:")), "{:?}", e.logs);
}

#[test]
fn without_a_token_to_keep_the_test_hands_back_nothing_and_says_a_real_run_would_be_a_first_run() {
    let e = check(
        "detections",
        DET_URL,
        &[],
        Tokens::default(),
        Answer::Http {
            status: 200,
            headers: limit_headers(5),
            body: HOSTS_DOC.replace("HOST_LIST_OUTPUT", "HOST_LIST_VM_DETECTION_OUTPUT").leak(),
        },
    );
    assert_eq!(e.error.code(), ErrorCode::ConnectionTestPassed, "{:?}", e.summary.check);
    assert_eq!(query(&e.urls[0], "truncation_limit").as_deref(), Some("1"));
    assert_eq!(e.summary.previous_run_context, "");
    assert!(outcome(&e, "LastRunTime").1.contains("no LastRunTime token: full load since 1970-01-10 minus the offset"));
}

#[test]
fn kb_asks_only_the_qid_listing_of_the_last_day() {
    let e =
        check("kb", KB_URL, &[], tokens(None), Answer::Http { status: 200, headers: limit_headers(9), body: KB_DOC });
    assert_eq!(e.error.code(), ErrorCode::ConnectionTestPassed, "{:?}", e.summary.check);
    assert_eq!(query(&e.urls[0], "details").as_deref(), Some("None"));
    assert_eq!(query(&e.urls[0], "last_modified_after").as_deref(), Some("2025-12-31T00:00:00Z"));
    assert_eq!(e.output_chunks, 0);
}

#[test]
fn wrong_password_fails_the_credentials_check() {
    let e = check(
        "hosts",
        HOSTS_URL,
        &[],
        tokens(Some("keep")),
        Answer::Http { status: 401, headers: limit_headers(3), body: BAD_LOGIN },
    );
    assert_eq!(e.error.code(), ErrorCode::QualysCredentials);
    assert!(e.error.message().starts_with("connection test FAILED"), "{}", e.error.message());
    assert_eq!(outcome(&e, "credentials").0, Outcome::Fail);
    assert_eq!(outcome(&e, "DNS/TCP").0, Outcome::Pass);
    assert_eq!(e.summary.previous_run_context, "keep");
}

#[test]
fn the_kb_url_given_for_hosts_fails_the_endpoint_check_naming_the_root_that_came_back() {
    let url = "https://qualysapi.example.com/api/4.0/fo/knowledge_base/vuln/?action=list&vm_scan_since=<LastRunTime>";
    let e =
        check("hosts", url, &[], tokens(None), Answer::Http { status: 200, headers: limit_headers(3), body: KB_DOC });
    assert_eq!(e.error.code(), ErrorCode::WrongEndpoint);
    let (o, text) = outcome(&e, "endpoint");
    assert_eq!(o, Outcome::Fail);
    assert!(text.contains("<KNOWLEDGE_BASE_VULN_LIST_OUTPUT>") && text.contains("hostsUrl"), "{text}");
    assert_eq!(outcome(&e, "credentials").0, Outcome::Pass);
}

#[test]
fn transport_failures_name_what_failed_and_where() {
    type Case<'a> = (&'a str, &'a str, &'a str, ErrorCode, &'a [(&'a str, &'a str)]);
    let cases: [Case; 5] = [
        ("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:9", "DNS/TCP", ErrorCode::Network, &[]),
        ("ENOTFOUND", "getaddrinfo ENOTFOUND qualysapi.example.com", "DNS/TCP", ErrorCode::Network, &[]),
        ("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate", "TLS", ErrorCode::TlsCertificate, &[]),
        (
            "EPROXYAUTH",
            "the proxy answered 407",
            "proxy",
            ErrorCode::ProxyAuthRequired,
            &[("proxy", "http://proxy.example:3128")],
        ),
        (
            "EPROXYCONNECT",
            "the proxy answered 502",
            "proxy",
            ErrorCode::Network,
            &[("proxy", "http://proxy.example:3128")],
        ),
    ];
    for (code, message, failed, want, extra) in cases {
        let e = check("hosts", HOSTS_URL, extra, tokens(Some("keep")), Answer::Transport { code, message });
        assert_eq!(e.error.code(), want, "{code}");
        let (o, text) = outcome(&e, failed);
        assert_eq!(o, Outcome::Fail, "{code}: {text}");
        assert!(text.contains(code), "{code}: {text}");
        if failed != "TLS" {
            let host = if extra.is_empty() { "qualysapi.example.com:443" } else { "proxy.example:3128" };
            assert!(text.contains(host), "{code}: {text}");
        } else {
            assert!(text.contains("caCert") && text.contains("default root CAs"), "{text}");
        }
        assert_eq!(outcome(&e, "credentials").0, Outcome::Skip, "{code}");
        assert_eq!(e.summary.previous_run_context, "keep");
        assert_eq!(e.summary.requests, 1);
    }
}

#[test]
fn a_proxy_refusing_credentials_over_plain_http_fails_the_proxy_check() {
    let url = "http://127.0.0.1:8080/api/5.0/fo/asset/host/?action=list&vm_scan_since=<LastRunTime>";
    let e = check(
        "hosts",
        url,
        &[("proxy", "http://u:wrong@127.0.0.1:3128")],
        tokens(None),
        Answer::Http { status: 407, headers: vec![], body: "proxy authentication required" },
    );
    assert_eq!(e.error.code(), ErrorCode::ProxyAuthRequired);
    assert_eq!(outcome(&e, "proxy").0, Outcome::Fail);
    assert_eq!(outcome(&e, "credentials").0, Outcome::Skip);
    assert!(e.logs.iter().all(|l| !l.contains("wrong")), "{:?}", e.logs);
}

#[test]
fn a_retired_api_version_is_a_warning_naming_the_active_one() {
    let url = HOSTS_URL.replace("/api/5.0/", "/api/2.0/");
    let e = check(
        "hosts",
        &url,
        &[],
        tokens(None),
        Answer::Http { status: 200, headers: limit_headers(3), body: HOSTS_DOC },
    );
    assert_eq!(e.error.code(), ErrorCode::ConnectionTestPassed);
    let (o, text) = outcome(&e, "API version");
    assert_eq!(o, Outcome::Warn);
    assert!(text.contains("retired") && text.contains("/api/5.0/"), "{text}");
}

#[test]
fn no_calls_left_is_a_warning_and_missing_headers_are_said() {
    let e = check(
        "hosts",
        HOSTS_URL,
        &[],
        tokens(None),
        Answer::Http { status: 200, headers: limit_headers(0), body: HOSTS_DOC },
    );
    assert_eq!(outcome(&e, "limits").0, Outcome::Warn);
    let e =
        check("hosts", HOSTS_URL, &[], tokens(None), Answer::Http { status: 200, headers: vec![], body: HOSTS_DOC });
    let (o, text) = outcome(&e, "limits");
    assert_eq!(o, Outcome::Warn);
    assert!(text.contains("no X-RateLimit headers"), "{text}");
}

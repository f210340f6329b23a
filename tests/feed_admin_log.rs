//! The log an Archer admin reads (issue #12 points 2 and 5), driven through the feed's protocol
//! against scripted answers: the subscription's limits logged once near the start and in the
//! summary, the first run named on the start line, a failed run's summary, network errors with
//! what to do.

mod common;
use qualys_vm_transporter::feed::{Action, Feed, Summary, Tokens};
use qualys_vm_transporter::{Error, ErrorCode};

const PASSWORD: &str = "Adm1n-Log-Pa55!";
const NOW: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const HOSTS_URL: &str = "https://qualysapi.example.com/api/5.0/fo/asset/host/?action=list&vm_scan_since=<LastRunTime>";

fn host_page(ids: &[u64], next: Option<u64>) -> String {
    let hosts: String =
        ids.iter().map(|id| format!("<HOST><ID>{id}</ID><IP>10.0.0.{}</IP></HOST>", id % 250)).collect();
    let warning = next.map_or_else(String::new, |n| format!("<WARNING><CODE>1980</CODE><TEXT>limit exceeded</TEXT><URL><![CDATA[https://qualysapi.example.com/api/5.0/fo/asset/host/?action=list&id_min={n}]]></URL></WARNING>"));
    format!("<?xml version=\"1.0\"?><HOST_LIST_OUTPUT><RESPONSE><DATETIME>2026-01-01T00:00:00Z</DATETIME><HOST_LIST>{hosts}</HOST_LIST>{warning}</RESPONSE></HOST_LIST_OUTPUT>")
}

fn limits(remaining: u64) -> Vec<(String, String)> {
    vec![
        ("X-RateLimit-Limit".into(), "300".into()),
        ("X-RateLimit-Window-Sec".into(), "3600".into()),
        ("X-RateLimit-Remaining".into(), remaining.to_string()),
        ("X-Concurrency-Limit-Limit".into(), "2".into()),
    ]
}

enum Answer {
    Http(u16, Vec<(String, String)>, String),
    Bytes(u16, Vec<(String, String)>, Vec<u8>),
    Transport(&'static str, &'static str),
}

struct Ended {
    result: Result<Summary, Error>,
    summary: Summary,
    logs: Vec<String>,
}

/// Runs a hosts feed; `answer(n)` answers the n-th request (0-based).
fn run(extra: &[(&str, &str)], tokens: Tokens, answer: impl Fn(usize) -> Answer) -> Ended {
    let mut p = vec![("retryDelaySec", "0"), ("batchSize", "2")];
    p.extend_from_slice(extra);
    let params = common::feed_params("hosts", HOSTS_URL, PASSWORD, &p);
    let mut feed = Feed::new(&params, &tokens, NOW).expect("valid parameters");
    let mut logs = Vec::new();
    let mut now = NOW;
    let mut n = 0;
    for _ in 0..100 {
        let action = feed.poll(now);
        while let Some(l) = feed.take_log() {
            logs.push(l.text);
        }
        while feed.take_output().is_some() {}
        match action {
            Action::Send(req) => {
                match answer(n) {
                    Answer::Http(status, headers, body) => {
                        feed.handle_response_head(req.id, now, status, &headers);
                        let _ = feed.handle_body(req.id, body.as_bytes());
                        feed.handle_response_end(req.id, now);
                    }
                    Answer::Bytes(status, headers, body) => {
                        feed.handle_response_head(req.id, now, status, &headers);
                        let _ = feed.handle_body(req.id, &body);
                        feed.handle_response_end(req.id, now);
                    }
                    Answer::Transport(code, message) => feed.handle_transport_error(req.id, now, code, message),
                }
                n += 1;
            }
            Action::Wait { ms, .. } => now += i64::try_from(ms).unwrap_or(0),
            Action::Pending => panic!("nothing in flight"),
            Action::Done(s) => return finish(&mut feed, Ok(s), logs),
            Action::Fail(e) => return finish(&mut feed, Err(e), logs),
        }
    }
    panic!("the feed did not end")
}

fn finish(feed: &mut Feed, result: Result<Summary, Error>, mut logs: Vec<String>) -> Ended {
    while let Some(l) = feed.take_log() {
        logs.push(l.text);
    }
    for l in &logs {
        assert!(!l.contains(PASSWORD), "{l}");
    }
    Ended { result, summary: feed.summary().clone(), logs }
}

#[test]
fn the_subscription_limits_are_logged_once_near_the_start_and_summed_up_at_the_end() {
    let e = run(&[], Tokens::default(), |n| match n {
        0 => Answer::Http(200, limits(287), host_page(&[1, 2], Some(3))),
        1 => Answer::Http(200, limits(286), host_page(&[3, 4], Some(5))),
        _ => Answer::Http(200, limits(285), host_page(&[5], None)),
    });
    let s = e.result.expect("success");
    let lines: Vec<&String> = e.logs.iter().filter(|l| l.starts_with("Qualys API limits:")).collect();
    assert_eq!(lines, vec!["Qualys API limits: 300 calls / 3600 s, 2 concurrent; 287 left"], "{:?}", e.logs);
    let at = e.logs.iter().position(|l| l.starts_with("Qualys API limits:")).unwrap_or(usize::MAX);
    let first_page = e.logs.iter().position(|l| l.starts_with("page 1 done")).unwrap_or(0);
    assert!(at < first_page, "logged before the first page's line: {:?}", e.logs);
    assert_eq!(
        (s.rate_limit, s.rate_window_sec, s.calls_left, s.concurrency_limit),
        (Some(300), Some(3600), Some(285), Some(2))
    );
    assert_eq!(s.requests, 3);
    let done = e.logs.iter().find(|l| l.starts_with("done:")).expect("done line");
    assert!(done.contains("Qualys API calls: 3 used, 285 left of 300 / 3600 s"), "{done}");
}

#[test]
fn without_limit_headers_nothing_is_claimed() {
    let e = run(&[], Tokens::default(), |_| Answer::Http(200, vec![], host_page(&[1], None)));
    let s = e.result.expect("success");
    assert_eq!((s.rate_limit, s.calls_left), (None, None));
    assert!(!e.logs.iter().any(|l| l.contains("Qualys API limits") || l.contains("Qualys API calls")), "{:?}", e.logs);
}

#[test]
fn the_start_line_says_when_this_is_a_first_run() {
    let e = run(&[], Tokens::default(), |_| Answer::Http(200, limits(9), host_page(&[1], None)));
    let start = e.logs.iter().find(|l| l.starts_with("starting ")).expect("start line");
    assert!(start.contains("(no LastRunTime token: full load since 1970-01-10 minus the offset"), "{start}");
    let tokens = Tokens { last_run_time: Some("2025-12-01T00:00:00Z".into()), previous_run_context: None };
    let e = run(&[], tokens, |_| Answer::Http(200, limits(9), host_page(&[1], None)));
    let start = e.logs.iter().find(|l| l.starts_with("starting ")).expect("start line");
    assert!(!start.contains("first") && !start.contains("full load"), "{start}");
}

#[test]
fn network_errors_say_what_to_do_naming_host_and_port() {
    for (code, words) in [("ECONNREFUSED", "refused the connection"), ("ENOTFOUND", "DNS"), ("ECONNRESET", "cut")] {
        let e = run(&[("maxRetry", "0")], Tokens::default(), |_| Answer::Transport(code, "x"));
        let err = e.result.expect_err("fails");
        assert_eq!(err.code(), ErrorCode::Network, "{code}");
        assert!(
            err.message().contains(words) && err.message().contains("qualysapi.example.com:443"),
            "{code}: {}",
            err.message()
        );
        assert!(err.message().contains("hostsUrl"), "{code}: {}", err.message());
    }
    let e = run(&[("maxRetry", "0"), ("proxy", "http://proxy.example:3128")], Tokens::default(), |_| {
        Answer::Transport("EPROXYAUTH", "407")
    });
    let err = e.result.expect_err("fails");
    assert!(
        err.message().contains("proxy.example:3128") && err.message().contains("proxy parameter"),
        "{}",
        err.message()
    );
    let _ = e.summary;
}

#[test]
fn a_failed_run_sums_up_what_it_wrote_what_it_cost_and_what_the_next_run_does() {
    let e = run(&[("maxRetry", "0")], Tokens::default(), |n| match n {
        0 => Answer::Http(200, limits(50), host_page(&[1, 2], Some(3))),
        _ => Answer::Http(503, limits(49), "<html>busy</html>".to_string()),
    });
    let err = e.result.expect_err("fails");
    assert_eq!(err.code(), ErrorCode::Http5xx);
    let line = e.logs.iter().find(|l| l.starts_with("failed run:")).unwrap_or_else(|| panic!("{:?}", e.logs));
    assert!(line.contains("records=2 (written before the failure) pages=1 requests=2"), "{line}");
    assert!(line.contains("Qualys API calls: 2 used, 49 left"), "{line}");
    assert!(line.contains("checkpoint kept in PreviousRunContext"), "{line}");
    assert!(!e.summary.previous_run_context.is_empty());
    assert!(line.contains("up to Archer"), "{line}");
}

#[test]
fn a_data_warning_names_the_record_and_the_element() {
    let page = host_page(&[7], None).replace("<IP>10.0.0.7</IP>", "<IP>10.0.0.7</IP><DNS>bad?name &nbsp; here</DNS>");
    let mut body = page.into_bytes();
    // An invalid UTF-8 byte inside <DNS> of host 7.
    let at = body.windows(4).position(|w| w == b"bad?").expect("marker") + 3;
    body[at] = 0xFF;
    let e = run(&[], Tokens::default(), move |_| Answer::Bytes(200, limits(9), body.clone()));
    assert!(e.result.is_ok(), "{:?}", e.logs);
    let utf8 = e.logs.iter().find(|l| l.contains("not valid UTF-8")).unwrap_or_else(|| panic!("{:?}", e.logs));
    // Given at the next tag: the record for sure, the element when it is still open.
    assert!(utf8.contains("<HOST> record): host ID 7"), "{utf8}");
    let entity =
        e.logs.iter().find(|l| l.contains("unknown entity reference &nbsp;")).unwrap_or_else(|| panic!("{:?}", e.logs));
    assert!(entity.contains("(in <DNS> of a <HOST> record): host ID 7"), "{entity}");
    assert_eq!(e.summary.warnings.get("invalidUtf8"), Some(&1));
    assert_eq!(e.summary.warnings.get("unknownEntity"), Some(&1));
}

#[test]
fn replaced_characters_name_the_first_record_and_element() {
    // Characters XML 1.0 forbids (U+0001, U+0008) in <DNS> of host 8 and <OS> of host 9: the
    // output replaces them by U+FFFD; the warning counts them and names where the first was.
    let page = host_page(&[7, 8, 9], None)
        .replace("<IP>10.0.0.8</IP>", "<IP>10.0.0.8</IP><DNS>a\u{1}b\u{8}c</DNS>")
        .replace("<IP>10.0.0.9</IP>", "<IP>10.0.0.9</IP><OS>x\u{1}y</OS>");
    let e = run(&[("batchSize", "5")], Tokens::default(), move |_| Answer::Http(200, limits(9), page.clone()));
    assert!(e.result.is_ok(), "{:?}", e.logs);
    let line = e.logs.iter().find(|l| l.contains("replaced by U+FFFD")).unwrap_or_else(|| panic!("{:?}", e.logs));
    assert!(line.starts_with("3 character(s)"), "{line}");
    assert!(line.contains("(the first in <DNS> of a <HOST> record): host ID 8"), "{line}");
    assert_eq!(e.summary.warnings.get("replacedCharacters"), Some(&3));
}

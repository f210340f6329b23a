//! The feed driven end to end against a fake Qualys written here: paging, retries after faults in
//! the middle of a page (exactly-once output), Qualys 409 waits, fatal errors, pacing, secrets.
//! Time is simulated: a `Wait` advances the fake clock instead of sleeping.

use qualys_vm_transporter::feed::{Action, Feed, Level, Summary, Tokens};
use qualys_vm_transporter::request::Request;

const PASSWORD: &str = "S3cr3t-Pa55w0rd-XYZ";

fn params(source: &str, url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let key = match source {
        "kb" => "kbUrl",
        "hosts" => "hostsUrl",
        _ => "detectionUrl",
    };
    let mut p = vec![
        ("dataSource".to_string(), source.to_string()),
        (key.to_string(), url.to_string()),
        ("username".to_string(), "alice".to_string()),
        ("password".to_string(), PASSWORD.to_string()),
    ];
    for (k, v) in extra {
        p.push((k.to_string(), v.to_string()));
    }
    p
}

fn query(url: &str, key: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v.to_string()))
}

/// Host IDs of the fake subscription: ascending with gaps.
fn host_ids(n: u64) -> Vec<u64> {
    (0..n).map(|i| 1000 + i * 7 + (i % 3)).collect()
}

fn detection_page(url: &str, ids: &[u64], per_host: u64) -> String {
    let limit: usize = query(url, "truncation_limit").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let id_min: u64 = query(url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(0);
    let remaining: Vec<u64> = ids.iter().copied().filter(|id| *id >= id_min).collect();
    let page = &remaining[..remaining.len().min(limit)];
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE HOST_LIST_VM_DETECTION_OUTPUT SYSTEM \"https://qualysapi.qualys.com/api/2.0/fo/asset/host/vm/detection/host_list_vm_detection_output.dtd\">\n<HOST_LIST_VM_DETECTION_OUTPUT>\n  <RESPONSE>\n    <DATETIME>2024-01-01T00:00:00Z</DATETIME>\n    <HOST_LIST>\n");
    for id in page {
        s.push_str(&format!("      <HOST>\n        <ID>{id}</ID>\n        <IP>10.0.{}.{}</IP>\n        <TRACKING_METHOD>IP</TRACKING_METHOD>\n", id / 256 % 256, id % 256));
        if id % 2 == 0 {
            s.push_str(&format!("        <DNS><![CDATA[host{id}.example.com]]></DNS>\n"));
        }
        s.push_str("        <DETECTION_LIST>\n");
        for q in 0..per_host {
            s.push_str(&format!(
                "          <DETECTION>\n            <QID>{}</QID>\n            <TYPE>Confirmed</TYPE>\n            <PORT>{}</PORT>\n            <PROTOCOL>tcp</PROTOCOL>\n            <RESULTS><![CDATA[line one &quot;quoted&quot;\n\tcol2]]></RESULTS>\n            <FIRST_FOUND_DATETIME>2023-05-0{}T00:00:00Z</FIRST_FOUND_DATETIME>\n          </DETECTION>\n",
                38000 + q,
                400 + q,
                1 + q % 9
            ));
        }
        s.push_str("        </DETECTION_LIST>\n      </HOST>\n      <!-- keep-alive -->\n");
    }
    s.push_str("    </HOST_LIST>\n");
    if remaining.len() > page.len() {
        let next = remaining[page.len()];
        let base = url.split("&id_min=").next().unwrap_or(url);
        s.push_str(&format!("    <WARNING>\n      <CODE>1980</CODE>\n      <TEXT>{limit} record limit exceeded. Use URL to get next batch of results.</TEXT>\n      <URL><![CDATA[{base}&id_min={next}]]></URL>\n    </WARNING>\n"));
    }
    s.push_str("  </RESPONSE>\n</HOST_LIST_VM_DETECTION_OUTPUT>\n");
    s
}

const RATE_409: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<SIMPLE_RETURN>\n <RESPONSE>\n  <DATETIME>2024-01-01T00:00:00Z</DATETIME>\n  <CODE>1965</CODE>\n  <TEXT>This API cannot be run again for another 30 seconds.</TEXT>\n  <ITEM_LIST>\n   <ITEM>\n    <KEY>SECONDS_TO_WAIT</KEY>\n    <VALUE>30</VALUE>\n   </ITEM>\n  </ITEM_LIST>\n </RESPONSE>\n</SIMPLE_RETURN>\n";

/// What the fake server does to one request.
#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    /// Connection reset after this fraction of the body.
    ResetAt(f64),
    /// Body ends cleanly after this fraction (before </RESPONSE>).
    TruncateAt(f64),
    Status503,
    Rate409,
}

struct Run {
    outcome: Result<Summary, qualys_vm_transporter::Error>,
    output: String,
    logs: Vec<(Level, String)>,
    requests: Vec<(i64, String)>,
    waits: Vec<u64>,
}

fn drive(params: &[(String, String)], tokens: &Tokens, mut serve: impl FnMut(&Request, usize) -> (u16, Vec<(String, String)>, String, Fault), chunk: usize) -> Run {
    let mut now: i64 = 1_700_000_000_000;
    let mut feed = Feed::new(params, tokens, now).expect("valid parameters");
    let mut run = Run { outcome: Err(qualys_vm_transporter::Error::caller("NOT_RUN", "")), output: String::new(), logs: Vec::new(), requests: Vec::new(), waits: Vec::new() };
    for step in 0..10_000 {
        let action = feed.poll(now);
        match action {
            Action::Send(req) => {
                run.requests.push((now, req.url.clone()));
                let (status, headers, body, fault) = serve(&req, run.requests.len());
                let (status, body) = match fault {
                    Fault::Status503 => (503, "<html><body>Service Unavailable</body></html>".to_string()),
                    Fault::Rate409 => (409, RATE_409.to_string()),
                    _ => (status, body),
                };
                feed.handle_response_head(now, status, &headers);
                let bytes = body.as_bytes();
                let cut = match fault {
                    Fault::ResetAt(f) | Fault::TruncateAt(f) => (bytes.len() as f64 * f) as usize,
                    _ => bytes.len(),
                };
                let mut aborted = false;
                for piece in bytes[..cut].chunks(chunk) {
                    if !feed.handle_body(piece) {
                        aborted = true;
                        break;
                    }
                }
                now += 50;
                match fault {
                    Fault::ResetAt(_) if !aborted => feed.handle_transport_error(now, "ECONNRESET", "socket hang up"),
                    _ => feed.handle_response_end(now),
                }
            }
            Action::Wait { ms, .. } => {
                run.waits.push(ms);
                now += ms as i64;
            }
            Action::Done(s) => run.outcome = Ok(s),
            Action::Fail(e) => run.outcome = Err(e),
        }
        while let Some(c) = feed.take_output() {
            run.output.push_str(&c.xml);
        }
        while let Some(l) = feed.take_log() {
            run.logs.push((l.level, l.text));
        }
        if run.outcome.is_ok() || matches!(&run.outcome, Err(e) if e.code() != "NOT_RUN") {
            return run;
        }
        assert!(step < 9_999, "feed did not finish");
    }
    run
}

/// (host id, qid) pairs in output order, read back from the output fragments.
fn detections_in(output: &str) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for rec in output.split("<DETECTION>").skip(1) {
        let host = rec.split("<HOST><ID>").nth(1).and_then(|s| s.split('<').next()).and_then(|s| s.parse().ok()).expect("host id");
        let qid = rec.split("<QID>").nth(1).and_then(|s| s.split('<').next()).and_then(|s| s.parse().ok()).expect("qid");
        out.push((host, qid));
    }
    out
}

fn expected(ids: &[u64], per_host: u64) -> Vec<(u64, u64)> {
    ids.iter().flat_map(|h| (0..per_host).map(move |q| (*h, 38000 + q))).collect()
}

const URL: &str = "https://qualysapi.example.com/api/2.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>";

#[test]
fn pages_through_everything_exactly_once() {
    let ids = host_ids(23);
    for batch in ["5", "23", "7", "100"] {
        let run = drive(&params("detections", URL, &[("batchSize", batch)]), &Tokens::default(), |req, _| (200, vec![], detection_page(&req.url, &ids, 3), Fault::None), 333);
        let s = run.outcome.expect("success");
        assert_eq!(detections_in(&run.output), expected(&ids, 3), "batchSize {batch}");
        assert_eq!(s.records, 69);
        let pages = 23_u64.div_ceil(batch.parse::<u64>().expect("number"));
        assert_eq!(u64::from(s.pages), pages, "batchSize {batch}");
        assert_eq!(s.highest_id, ids.last().copied());
        assert!(run.requests[0].1.contains(&format!("truncation_limit={batch}")));
        assert!(run.requests[0].1.contains("vm_scan_since=1970-01-09T00:00:00Z"), "{}", run.requests[0].1);
    }
}

#[test]
fn a_reset_or_truncation_mid_page_is_retried_without_duplicates_or_gaps() {
    let ids = host_ids(20);
    for fault in [Fault::ResetAt(0.5), Fault::TruncateAt(0.6), Fault::ResetAt(0.02), Fault::TruncateAt(0.999), Fault::Status503] {
        let run = drive(
            &params("detections", URL, &[("batchSize", "6"), ("maxRetry", "2")]),
            &Tokens::default(),
            |req, n| (200, vec![], detection_page(&req.url, &ids, 2), if n == 2 { fault } else { Fault::None }),
            97,
        );
        let s = run.outcome.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(detections_in(&run.output), expected(&ids, 2), "{fault:?}");
        assert_eq!(s.retries, 1, "{fault:?}");
        assert_eq!(s.records, 40);
        // the retry of page 2 starts after the last host written before the fault
        let retry_url = &run.requests[2].1;
        if let Fault::ResetAt(f) | Fault::TruncateAt(f) = fault {
            if f > 0.3 {
                assert!(retry_url.contains("&id_min="), "{fault:?}: {retry_url}");
            }
        }
        assert!(run.logs.iter().any(|(l, t)| *l == Level::Warn && t.contains("retry 1 of 2")), "{fault:?}");
    }
}

#[test]
fn retries_are_bounded_by_max_retry_and_the_run_fails() {
    let ids = host_ids(10);
    for max in [0u32, 1, 2] {
        let run = drive(&params("detections", URL, &[("batchSize", "4"), ("maxRetry", &max.to_string())]), &Tokens::default(), |req, n| (200, vec![], detection_page(&req.url, &ids, 1), if n >= 2 { Fault::ResetAt(0.5) } else { Fault::None }), 64);
        let e = run.outcome.expect_err("must fail");
        assert_eq!(e.code(), "NETWORK");
        assert!(e.is_retryable());
        assert_eq!(run.requests.len() as u32, 2 + max, "maxRetry {max}");
        // what was written is a prefix of the full set, with no duplicates
        let got = detections_in(&run.output);
        assert_eq!(got, expected(&ids, 1)[..got.len()].to_vec());
    }
}

#[test]
fn qualys_409_waits_the_seconds_it_asks_and_does_not_use_a_retry() {
    let ids = host_ids(9);
    let run = drive(&params("detections", URL, &[("batchSize", "3"), ("maxRetry", "0")]), &Tokens::default(), |req, n| (200, vec![], detection_page(&req.url, &ids, 1), if n == 2 || n == 3 { Fault::Rate409 } else { Fault::None }), 500);
    let s = run.outcome.expect("success");
    assert_eq!(detections_in(&run.output), expected(&ids, 1));
    assert_eq!(s.retries, 0);
    assert!(run.waits.iter().filter(|w| **w == 31_000).count() == 2, "{:?}", run.waits);
}

#[test]
fn the_wait_budget_ends_an_endless_409() {
    let ids = host_ids(3);
    let run = drive(&params("detections", URL, &[("waitBudgetSec", "100")]), &Tokens::default(), |req, _| (200, vec![], detection_page(&req.url, &ids, 1), Fault::Rate409), 500);
    let e = run.outcome.expect_err("must fail");
    assert_eq!(e.code(), "WAIT_BUDGET_EXHAUSTED");
    assert_eq!(run.requests.len(), 4, "three waits of 31 s fit in 100 s, the fourth does not");
}

#[test]
fn requests_per_min_is_never_exceeded() {
    let ids = host_ids(30);
    let run = drive(&params("detections", URL, &[("batchSize", "2"), ("requestsPerMin", "4")]), &Tokens::default(), |req, _| (200, vec![], detection_page(&req.url, &ids, 1), Fault::None), 4096);
    run.outcome.expect("success");
    let starts: Vec<i64> = run.requests.iter().map(|(t, _)| *t).collect();
    assert_eq!(starts.len(), 15);
    for s in &starts {
        let in_window = starts.iter().filter(|t| **t > s - 60_000 && **t <= *s).count();
        assert!(in_window <= 4, "{in_window} requests in the minute up to {s}");
    }
}

#[test]
fn rate_limit_headers_hold_the_next_request() {
    let ids = host_ids(4);
    let run = drive(
        &params("detections", URL, &[("batchSize", "2")]),
        &Tokens::default(),
        |req, _| (200, vec![("X-RateLimit-Remaining".into(), "0".into()), ("X-RateLimit-ToWait-Sec".into(), "20".into())], detection_page(&req.url, &ids, 1), Fault::None),
        4096,
    );
    run.outcome.expect("success");
    assert!(run.requests[1].0 - run.requests[0].0 >= 21_000, "{:?}", run.requests);
}

#[test]
fn fatal_qualys_answers_fail_without_retry() {
    let cases = [
        (200, include_str!("fixtures/real/j1_simple_return_2001_account_expired_real.xml"), "QUALYS_CREDENTIALS"),
        (400, include_str!("fixtures/real/j1_simple_return_1905_http400_real.xml"), "QUALYS_BAD_REQUEST"),
        (401, "<html>Unauthorized</html>", "QUALYS_CREDENTIALS"),
    ];
    for (status, body, code) in cases {
        let run = drive(&params("detections", URL, &[("maxRetry", "2")]), &Tokens::default(), |_, _| (status, vec![], body.to_string(), Fault::None), 50);
        let e = run.outcome.expect_err(code);
        assert_eq!(e.code(), code);
        assert_eq!(run.requests.len(), 1, "{code}: no retry");
        assert!(run.output.is_empty());
    }
}

#[test]
fn the_password_never_appears_in_logs_errors_or_debug() {
    let ids = host_ids(5);
    let run = drive(&params("detections", URL, &[("batchSize", "2")]), &Tokens::default(), |req, n| (200, vec![], detection_page(&req.url, &ids, 1), if n == 2 { Fault::ResetAt(0.3) } else { Fault::None }), 64);
    let e = drive(&params("detections", URL, &[]), &Tokens::default(), |_, _| (401, vec![], String::new(), Fault::None), 64).outcome.expect_err("401");
    let mut all = format!("{e}{e:?}");
    for (_, t) in &run.logs {
        all.push_str(t);
    }
    all.push_str(&run.output);
    for (_, u) in &run.requests {
        all.push_str(u);
    }
    assert!(!all.contains(PASSWORD));
    let feed = Feed::new(&params("detections", URL, &[]), &Tokens::default(), 0).expect("feed");
    assert!(!format!("{feed:?}").contains(PASSWORD));
}

#[test]
fn last_run_time_token_and_offset_reach_the_url() {
    let ids = host_ids(1);
    let tokens = Tokens { last_run_time: Some("2024-03-15T10:20:30Z".into()), previous_run_context: None };
    let run = drive(&params("detections", URL, &[]), &tokens, |req, _| (200, vec![], detection_page(&req.url, &ids, 1), Fault::None), 4096);
    assert_eq!(run.outcome.expect("ok").last_run_time_used.as_deref(), Some("2024-03-14T10:20:30Z"));
    assert!(run.requests[0].1.contains("vm_scan_since=2024-03-14T10:20:30Z"));
}

#[test]
fn host_detections_write_one_host_per_host_and_no_detections() {
    let ids = host_ids(7);
    let run = drive(&params("hostDetections", URL, &[("batchSize", "3")]), &Tokens::default(), |req, _| (200, vec![], detection_page(&req.url, &ids, 4), Fault::None), 200);
    let s = run.outcome.expect("ok");
    assert_eq!(s.records, 7);
    assert_eq!(run.output.matches("<HOST>").count(), 7);
    assert!(!run.output.contains("DETECTION"));
}

#[test]
fn a_truncation_warning_without_a_next_url_is_never_a_finished_run() {
    let ids = host_ids(4);
    // Qualys says "limit exceeded" but the URL element is missing.
    let strip_url = |page: String| match (page.find("<URL>"), page.find("</URL>")) {
        (Some(start), Some(end)) => format!("{}{}", &page[..start], &page[end + "</URL>".len()..]),
        _ => page,
    };
    let run = drive(&params("detections", URL, &[("batchSize", "2"), ("maxRetry", "0")]), &Tokens::default(), |req, _| (200, vec![], strip_url(detection_page(&req.url, &ids, 1)), Fault::None), 4096);
    let e = run.outcome.expect_err("must not finish after page 1");
    assert_eq!(e.code(), "NEXT_PAGE_URL_MISSING");
    // With a retry allowed, the retry starts after the last host written and so reaches the
    // next page anyway: every record, once.
    let run = drive(&params("detections", URL, &[("batchSize", "2"), ("maxRetry", "1")]), &Tokens::default(), |req, _| (200, vec![], strip_url(detection_page(&req.url, &ids, 1)), Fault::None), 4096);
    run.outcome.expect("recovered");
    assert_eq!(detections_in(&run.output), expected(&ids, 1));
}

//! The feed driven end to end against a fake Qualys written here: paging, retries after faults in
//! the middle of a page (exactly-once output), Qualys 409 waits, fatal errors, pacing, secrets.
//! Time is simulated: a `Wait` advances the fake clock instead of sleeping.

mod common;
use common::query;
use qualys_vm_transporter::feed::{Action, Feed, Level, Summary, Tokens};
use qualys_vm_transporter::request::Request;
use qualys_vm_transporter::ErrorCode;

const PASSWORD: &str = "S3cr3t-Pa55w0rd-XYZ";

fn params(source: &str, url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    common::feed_params(source, url, PASSWORD, extra)
}

/// Host IDs of the fake subscription: ascending with gaps.
fn host_ids(n: u64) -> Vec<u64> {
    (0..n).map(|i| 1000 + i * 7 + (i % 3)).collect()
}

fn detection_page(url: &str, ids: &[u64], per_host: u64) -> String {
    let limit: usize = query(url, "truncation_limit").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let id_min: u64 = query(url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(0);
    let id_max: u64 = query(url, "id_max").and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    let remaining: Vec<u64> = ids.iter().copied().filter(|id| *id >= id_min && *id <= id_max).collect();
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

const GENERIC_999: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<GENERIC_RETURN>\n  <API name=\"index.php\" username=\"alice\" at=\"2024-01-01T00:00:00Z\" />\n  <RETURN status=\"FAILED\" number=\"999\">Internal error. Please contact customer support.</RETURN>\n</GENERIC_RETURN>\n";

const CONCURRENCY_409: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<SIMPLE_RETURN>\n <RESPONSE>\n  <DATETIME>2024-01-01T00:00:00Z</DATETIME>\n  <CODE>1960</CODE>\n  <TEXT>Concurrency Limit of 2 calls reached.</TEXT>\n  <ITEM_LIST>\n   <ITEM>\n    <KEY>CALLS_TO_FINISH</KEY>\n    <VALUE>1</VALUE>\n   </ITEM>\n  </ITEM_LIST>\n </RESPONSE>\n</SIMPLE_RETURN>\n";

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
    /// The transport fails before any response head (timeout, refused, DNS).
    TransportBeforeHead,
    /// Qualys GENERIC_RETURN 999 (internal error), HTTP 500.
    Generic999,
    /// HTTP 202 Accepted with a whole page (the result is not ready yet).
    Accepted202,
    /// 409 with SIMPLE_RETURN 1960 (concurrency limit).
    Concurrency409,
    /// HTTP 429 with Retry-After: 2.
    Status429,
}

struct Run {
    outcome: Result<Summary, qualys_vm_transporter::Error>,
    /// The feed's summary when the run ended (also after a failure: previous_run_context).
    summary: Summary,
    output: String,
    logs: Vec<(Level, String)>,
    requests: Vec<(i64, String)>,
    waits: Vec<u64>,
}

fn drive(
    params: &[(String, String)],
    tokens: &Tokens,
    serve: impl FnMut(&Request, usize) -> (u16, Vec<(String, String)>, String, Fault),
    chunk: usize,
) -> Run {
    drive_with(params, tokens, serve, chunk).0
}

/// Runs a feed to its end. Requests the feed starts are queued and answered one at a time when
/// the feed says `Pending` or `Wait`, oldest first, so several can be in flight. Also returns the
/// largest number of requests that were in flight at once.
fn drive_with(
    params: &[(String, String)],
    tokens: &Tokens,
    mut serve: impl FnMut(&Request, usize) -> (u16, Vec<(String, String)>, String, Fault),
    chunk: usize,
) -> (Run, usize) {
    let mut now: i64 = 1_700_000_000_000;
    let mut feed = Feed::new(params, tokens, now).expect("valid parameters");
    let mut run = Run {
        outcome: Err(qualys_vm_transporter::Error::caller(ErrorCode::Internal, "NOT_RUN")),
        summary: Summary::default(),
        output: String::new(),
        logs: Vec::new(),
        requests: Vec::new(),
        waits: Vec::new(),
    };
    let mut queue: std::collections::VecDeque<(Request, usize)> = std::collections::VecDeque::new();
    let mut max_in_flight = 0;
    let mut answer = |feed: &mut Feed, (req, n): (Request, usize), now: &mut i64| {
        let (status, headers, body, fault) = serve(&req, n);
        let (status, body) = match fault {
            Fault::Status503 => (503, "<html><body>Service Unavailable</body></html>".to_string()),
            Fault::Rate409 => (409, RATE_409.to_string()),
            Fault::Generic999 => (500, GENERIC_999.to_string()),
            Fault::Accepted202 => (202, body),
            Fault::Concurrency409 => (409, CONCURRENCY_409.to_string()),
            Fault::Status429 => (429, "Too Many Requests".to_string()),
            _ => (status, body),
        };
        let mut headers = headers;
        if let Fault::Status429 = fault {
            headers.push(("Retry-After".to_string(), "2".to_string()));
        }
        if let Fault::TransportBeforeHead = fault {
            *now += 50;
            feed.handle_transport_error(req.id, *now, "ETIMEDOUT", "no response within requestTimeoutSec");
            return;
        }
        feed.handle_response_head(req.id, *now, status, &headers);
        let bytes = body.as_bytes();
        let cut = match fault {
            Fault::ResetAt(f) | Fault::TruncateAt(f) => (bytes.len() as f64 * f) as usize,
            _ => bytes.len(),
        };
        let mut aborted = false;
        for piece in bytes[..cut].chunks(chunk) {
            if !feed.handle_body(req.id, piece) {
                aborted = true;
                break;
            }
        }
        *now += 50;
        match fault {
            Fault::ResetAt(_) if !aborted => feed.handle_transport_error(req.id, *now, "ECONNRESET", "socket hang up"),
            _ => feed.handle_response_end(req.id, *now),
        }
    };
    for step in 0..100_000 {
        let action = feed.poll(now);
        match action {
            Action::Send(req) => {
                run.requests.push((now, req.url.clone()));
                queue.push_back((req, run.requests.len()));
                max_in_flight = max_in_flight.max(queue.len());
            }
            Action::Pending => {
                let req = queue.pop_front().expect("Pending with nothing in flight");
                answer(&mut feed, req, &mut now);
            }
            Action::Wait { ms, .. } => match queue.pop_front() {
                Some(req) => answer(&mut feed, req, &mut now),
                None => {
                    run.waits.push(ms);
                    now = now.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
                }
            },
            Action::Done(s) => run.outcome = Ok(s),
            Action::Fail(e) => run.outcome = Err(e),
        }
        while let Some(c) = feed.take_output() {
            run.output.push_str(&c.xml);
        }
        while let Some(l) = feed.take_log() {
            run.logs.push((l.level, l.text));
        }
        if run.outcome.is_ok() || matches!(&run.outcome, Err(e) if e.message() != "NOT_RUN") {
            run.summary = feed.summary().clone();
            return (run, max_in_flight);
        }
        assert!(step < 99_999, "feed did not finish");
    }
    (run, max_in_flight)
}

/// (host id, qid) pairs in output order, read back from the output fragments.
fn detections_in(output: &str) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for rec in output.split("<DETECTION>").skip(1) {
        let host = rec
            .split("<HOST><ID>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .and_then(|s| s.parse().ok())
            .expect("host id");
        let qid =
            rec.split("<QID>").nth(1).and_then(|s| s.split('<').next()).and_then(|s| s.parse().ok()).expect("qid");
        out.push((host, qid));
    }
    out
}

fn expected(ids: &[u64], per_host: u64) -> Vec<(u64, u64)> {
    ids.iter().flat_map(|h| (0..per_host).map(move |q| (*h, 38000 + q))).collect()
}

const URL: &str =
    "https://qualysapi.example.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>";

#[test]
fn pages_through_everything_exactly_once() {
    let ids = host_ids(23);
    for batch in ["5", "23", "7", "100"] {
        let run = drive(
            &params("detections", URL, &[("batchSize", batch)]),
            &Tokens::default(),
            |req, _| (200, vec![], detection_page(&req.url, &ids, 3), Fault::None),
            333,
        );
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
    for fault in
        [Fault::ResetAt(0.5), Fault::TruncateAt(0.6), Fault::ResetAt(0.02), Fault::TruncateAt(0.999), Fault::Status503]
    {
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
        let run = drive(
            &params("detections", URL, &[("batchSize", "4"), ("maxRetry", &max.to_string())]),
            &Tokens::default(),
            |req, n| {
                (200, vec![], detection_page(&req.url, &ids, 1), if n >= 2 { Fault::ResetAt(0.5) } else { Fault::None })
            },
            64,
        );
        let e = run.outcome.expect_err("must fail");
        assert_eq!(e.code(), ErrorCode::Network);
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
    let run = drive(
        &params("detections", URL, &[("batchSize", "3"), ("maxRetry", "0")]),
        &Tokens::default(),
        |req, n| {
            (
                200,
                vec![],
                detection_page(&req.url, &ids, 1),
                if n == 2 || n == 3 { Fault::Rate409 } else { Fault::None },
            )
        },
        500,
    );
    let s = run.outcome.expect("success");
    assert_eq!(detections_in(&run.output), expected(&ids, 1));
    assert_eq!(s.retries, 0);
    assert!(run.waits.iter().filter(|w| **w == 31_000).count() == 2, "{:?}", run.waits);
}

#[test]
fn the_wait_budget_ends_an_endless_409() {
    let ids = host_ids(3);
    let run = drive(
        &params("detections", URL, &[("waitBudgetSec", "100")]),
        &Tokens::default(),
        |req, _| (200, vec![], detection_page(&req.url, &ids, 1), Fault::Rate409),
        500,
    );
    let e = run.outcome.expect_err("must fail");
    assert_eq!(e.code(), ErrorCode::WaitBudgetExhausted);
    assert_eq!(run.requests.len(), 4, "three waits of 31 s fit in 100 s, the fourth does not");
}

#[test]
fn requests_per_min_is_never_exceeded() {
    let ids = host_ids(30);
    let run = drive(
        &params("detections", URL, &[("batchSize", "2"), ("requestsPerMin", "4")]),
        &Tokens::default(),
        |req, _| (200, vec![], detection_page(&req.url, &ids, 1), Fault::None),
        4096,
    );
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
        |req, _| {
            (
                200,
                vec![("X-RateLimit-Remaining".into(), "0".into()), ("X-RateLimit-ToWait-Sec".into(), "20".into())],
                detection_page(&req.url, &ids, 1),
                Fault::None,
            )
        },
        4096,
    );
    run.outcome.expect("success");
    assert!(run.requests[1].0 - run.requests[0].0 >= 21_000, "{:?}", run.requests);
}

#[test]
fn fatal_qualys_answers_fail_without_retry() {
    let cases = [
        (
            200,
            include_str!("fixtures/real/j1_simple_return_2001_account_expired_real.xml"),
            ErrorCode::QualysCredentials,
        ),
        (400, include_str!("fixtures/real/j1_simple_return_1905_http400_real.xml"), ErrorCode::QualysBadRequest),
        (401, "<html>Unauthorized</html>", ErrorCode::QualysCredentials),
    ];
    for (status, body, code) in cases {
        let run = drive(
            &params("detections", URL, &[("maxRetry", "2")]),
            &Tokens::default(),
            |_, _| (status, vec![], body.to_string(), Fault::None),
            50,
        );
        let e = run.outcome.expect_err(code.as_str());
        assert_eq!(e.code(), code);
        assert_eq!(run.requests.len(), 1, "{code}: no retry");
        assert!(run.output.is_empty());
    }
}

#[test]
fn the_password_never_appears_in_logs_errors_or_debug() {
    let ids = host_ids(5);
    let run = drive(
        &params("detections", URL, &[("batchSize", "2")]),
        &Tokens::default(),
        |req, n| {
            (200, vec![], detection_page(&req.url, &ids, 1), if n == 2 { Fault::ResetAt(0.3) } else { Fault::None })
        },
        64,
    );
    let e = drive(
        &params("detections", URL, &[]),
        &Tokens::default(),
        |_, _| (401, vec![], String::new(), Fault::None),
        64,
    )
    .outcome
    .expect_err("401");
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
    let run = drive(
        &params("detections", URL, &[]),
        &tokens,
        |req, _| (200, vec![], detection_page(&req.url, &ids, 1), Fault::None),
        4096,
    );
    assert_eq!(run.outcome.expect("ok").last_run_time_used.as_deref(), Some("2024-03-14T10:20:30Z"));
    assert!(run.requests[0].1.contains("vm_scan_since=2024-03-14T10:20:30Z"));
}

#[test]
fn host_detections_write_one_host_per_host_and_no_detections() {
    let ids = host_ids(7);
    let run = drive(
        &params("hostDetections", URL, &[("batchSize", "3")]),
        &Tokens::default(),
        |req, _| (200, vec![], detection_page(&req.url, &ids, 4), Fault::None),
        200,
    );
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
    let run = drive(
        &params("detections", URL, &[("batchSize", "2"), ("maxRetry", "0")]),
        &Tokens::default(),
        |req, _| (200, vec![], strip_url(detection_page(&req.url, &ids, 1)), Fault::None),
        4096,
    );
    let e = run.outcome.expect_err("must not finish after page 1");
    assert_eq!(e.code(), ErrorCode::NextPageUrlMissing);
    // With a retry allowed, the retry starts after the last host written and so reaches the
    // next page anyway: every record, once.
    let run = drive(
        &params("detections", URL, &[("batchSize", "2"), ("maxRetry", "1")]),
        &Tokens::default(),
        |req, _| (200, vec![], strip_url(detection_page(&req.url, &ids, 1)), Fault::None),
        4096,
    );
    run.outcome.expect("recovered");
    assert_eq!(detections_in(&run.output), expected(&ids, 1));
}

/// A `details=None` answer: the IDs as ID / ID_RANGE elements (consecutive IDs folded).
fn id_set_page(url: &str, ids: &[u64], root: &str) -> String {
    let id_min: u64 = query(url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(0);
    let id_max: u64 = query(url, "id_max").and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    let sel: Vec<u64> = ids.iter().copied().filter(|id| *id >= id_min && *id <= id_max).collect();
    let mut s = format!("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<{root}><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME><ID_SET>");
    let mut i = 0;
    while i < sel.len() {
        let mut j = i;
        while j + 1 < sel.len() && sel[j + 1] == sel[j] + 1 {
            j += 1;
        }
        if j > i {
            s.push_str(&format!("<ID_RANGE>{}-{}</ID_RANGE>", sel[i], sel[j]));
        } else {
            s.push_str(&format!("<ID>{}</ID>", sel[i]));
        }
        i = j + 1;
    }
    s.push_str(&format!("</ID_SET></RESPONSE></{root}>\n"));
    s
}

fn kb_page(url: &str, qids: &[u64]) -> String {
    if query(url, "details").as_deref() == Some("None") {
        return id_set_page(url, qids, "KNOWLEDGE_BASE_VULN_LIST_OUTPUT");
    }
    let id_min: u64 = query(url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(0);
    let id_max: u64 = query(url, "id_max").and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<KNOWLEDGE_BASE_VULN_LIST_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME><VULN_LIST>");
    for q in qids.iter().filter(|q| **q >= id_min && **q <= id_max) {
        s.push_str(&format!("<VULN><QID>{q}</QID><VULN_TYPE>Vulnerability</VULN_TYPE><TITLE><![CDATA[Title {q} <b>html</b>]]></TITLE></VULN>"));
    }
    s.push_str("</VULN_LIST></RESPONSE></KNOWLEDGE_BASE_VULN_LIST_OUTPUT>\n");
    s
}

fn qids_in(output: &str) -> Vec<u64> {
    output.split("<VULN><ARCHER_VULN_LINK>").skip(1).filter_map(|s| s.split('<').next()?.parse().ok()).collect()
}

const KB_URL: &str = "https://qualysapi.example.com/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>";

#[test]
fn the_kb_base_load_runs_in_qid_windows_in_one_run() {
    // 2,345 QIDs with gaps and runs, 500 per window -> 5 windows after one discovery request.
    let qids: Vec<u64> = (0..2345u64).map(|i| 10_000 + i * 3 / 2 + (i / 100) * 50).collect();
    for (chunk, fault_at) in [("500", None), ("500", Some(3)), ("0", None)] {
        let (run, _) = drive_with(
            &params("kb", KB_URL, &[("kbChunkSize", chunk), ("retryDelaySec", "0")]),
            &Tokens::default(),
            |req, n| {
                (
                    200,
                    vec![],
                    kb_page(&req.url, &qids),
                    if Some(n) == fault_at { Fault::ResetAt(0.5) } else { Fault::None },
                )
            },
            8192,
        );
        let s = run.outcome.unwrap_or_else(|e| panic!("kbChunkSize={chunk}: {e}"));
        assert_eq!(qids_in(&run.output), qids, "kbChunkSize={chunk}: every QID once, in order");
        assert_eq!(s.records, 2345);
        let urls: Vec<&str> = run.requests.iter().map(|(_, u)| u.as_str()).collect();
        if chunk == "0" {
            assert_eq!(urls.len(), 1, "one request, as the old script");
            assert_eq!((s.windows, s.windows_done), (0, 0), "no listing: no windows to show");
            continue;
        }
        assert_eq!((s.windows, s.windows_done), (5, 5), "the windows the listing made, all done");
        assert!(urls[0].contains("details=None"), "{}", urls[0]);
        let windows = urls.iter().filter(|u| u.contains("details=All")).count();
        assert_eq!(windows, 5 + usize::from(fault_at.is_some()), "{urls:?}");
        assert_eq!(s.retries, u32::from(fault_at.is_some()));
    }
    // A kbUrl that selects QIDs itself is used as given.
    let run = drive(
        &params("kb", "https://q.example/api/4.0/fo/knowledge_base/vuln/?action=list&ids=10000-10100", &[]),
        &Tokens::default(),
        |req, _| (200, vec![], kb_page(&req.url, &qids), Fault::None),
        8192,
    );
    run.outcome.expect("ok");
    assert_eq!(run.requests.len(), 1);
}

#[test]
fn parallel_ranges_stay_exactly_once_and_within_the_qualys_concurrency_limit() {
    let ids = host_ids(60);
    for (concurrency, limit, expect_parallel) in [("4", "3", 2usize), ("4", "10", 4), ("1", "10", 1)] {
        let (run, max_in_flight) = drive_with(
            &params(
                "detections",
                URL,
                &[("batchSize", "5"), ("concurrency", concurrency), ("retryDelaySec", "0"), ("maxRetry", "1")],
            ),
            &Tokens::default(),
            |req, n| {
                let headers = vec![("X-Concurrency-Limit-Limit".to_string(), limit.to_string())];
                if req.url.contains("/fo/asset/host/?") {
                    assert!(req.url.contains("details=None") && req.url.contains("vm_scan_since="), "{}", req.url);
                    assert!(
                        !req.url.contains("status="),
                        "detection-only parameters are not sent to the host list: {}",
                        req.url
                    );
                    return (200, headers, id_set_page(&req.url, &ids, "HOST_LIST_OUTPUT"), Fault::None);
                }
                (
                    200,
                    headers,
                    detection_page(&req.url, &ids, 2),
                    if n == 4 { Fault::TruncateAt(0.5) } else { Fault::None },
                )
            },
            300,
        );
        let s = run.outcome.unwrap_or_else(|e| panic!("concurrency {concurrency}: {e}"));
        let mut got = detections_in(&run.output);
        got.sort_unstable();
        assert_eq!(got, expected(&ids, 2), "concurrency {concurrency}/limit {limit}: every detection once");
        assert_eq!(s.records, 120);
        assert_eq!(max_in_flight, expect_parallel, "concurrency {concurrency}, Qualys limit {limit}");
    }
}

#[test]
fn a_failed_run_leaves_a_checkpoint_and_the_next_run_resumes_from_it() {
    let ids = host_ids(30);
    let url = "https://qualysapi.example.com/api/5.0/fo/asset/host/vm/detection/?action=list&status=New,Active&vm_scan_since=<LastRunTime>";
    let tokens = Tokens { last_run_time: Some("2024-03-15T00:00:00Z".into()), previous_run_context: None };
    // Run 1 dies on page 4 (no retries allowed).
    let run1 = drive(
        &params("detections", url, &[("batchSize", "4"), ("maxRetry", "0")]),
        &tokens,
        |req, n| {
            (200, vec![], detection_page(&req.url, &ids, 1), if n == 4 { Fault::ResetAt(0.6) } else { Fault::None })
        },
        256,
    );
    let e = run1.outcome.as_ref().expect_err("run 1 fails");
    assert_eq!(e.code(), ErrorCode::Network);
    let written1 = detections_in(&run1.output);
    assert!(written1.len() > 12 && written1.len() < 16, "3 pages and part of the 4th: {}", written1.len());
    // The checkpoint (what the shim hands back as previousRunContext) is also logged.
    let checkpoint = run1
        .logs
        .iter()
        .find_map(|(_, t)| t.strip_prefix("the next run resumes from this checkpoint: ").map(str::to_string))
        .expect("checkpoint logged");
    assert!(
        checkpoint.starts_with("qvt2;ds=detections;c=")
            && checkpoint.contains(";lrt=2024-03-14T00:00:00Z;t=2023-11-14T22:13:20Z;w="),
        "{checkpoint}"
    );
    assert!(checkpoint.len() <= 256);
    let last_written = written1.last().map(|(h, _)| *h).expect("something written");
    assert!(checkpoint.ends_with(&format!("w={last_written}")), "{checkpoint}");

    // Run 2: LastRunTime has not moved (run 1 failed), the checkpoint resumes it.
    let tokens2 =
        Tokens { last_run_time: tokens.last_run_time.clone(), previous_run_context: Some(checkpoint.clone()) };
    let run2 = drive(
        &params("detections", url, &[("batchSize", "4")]),
        &tokens2,
        |req, _| {
            if req.url.contains("id_max=") {
                // the catch-up window: IDs up to the watermark changed since run 1 started: none here
                assert!(req.url.contains("vm_scan_since=2023-11-13T22:13:20Z"), "{}", req.url);
                return (200, vec![], detection_page(&req.url, &[], 1), Fault::None);
            }
            (200, vec![], detection_page(&req.url, &ids, 1), Fault::None)
        },
        256,
    );
    let s2 = run2.outcome.expect("run 2 succeeds");
    assert_eq!(s2.previous_run_context, "", "a successful run clears the checkpoint");
    assert_eq!(s2.last_run_time_used.as_deref(), Some("2024-03-14T00:00:00Z"), "the window of the failed run");
    let written2 = detections_in(&run2.output);
    let mut union = written1.clone();
    union.extend(written2.iter().copied());
    assert_eq!(union, expected(&ids, 1), "the union is exactly the full set, nothing twice");
    assert!(run2.requests.iter().any(|(_, u)| u.contains(&format!("id_min={}", last_written + 1))));

    // A checkpoint from another data source, or garbage, is ignored with a warning.
    for (ctx, why) in
        [(checkpoint.replace("ds=detections", "ds=kb"), "kb feed"), ("hello".to_string(), "could not be used")]
    {
        let tokens3 = Tokens { last_run_time: None, previous_run_context: Some(ctx) };
        let run3 = drive(
            &params("detections", url, &[("batchSize", "10")]),
            &tokens3,
            |req, _| (200, vec![], detection_page(&req.url, &ids, 1), Fault::None),
            4096,
        );
        run3.outcome.expect("ok");
        assert_eq!(detections_in(&run3.output), expected(&ids, 1));
        assert!(run3.logs.iter().any(|(l, t)| *l == Level::Warn && t.contains(why)), "{why}");
    }
}

#[test]
fn a_rate_limit_hold_longer_than_the_wait_budget_fails_instead_of_sleeping() {
    let ids = host_ids(4);
    let run = drive(
        &params("detections", URL, &[("batchSize", "2"), ("waitBudgetSec", "600")]),
        &Tokens::default(),
        |req, _| {
            (
                200,
                vec![("X-RateLimit-Remaining".into(), "0".into()), ("X-RateLimit-ToWait-Sec".into(), "3600".into())],
                detection_page(&req.url, &ids, 1),
                Fault::None,
            )
        },
        4096,
    );
    let e = run.outcome.expect_err("must fail rather than sleep an hour");
    assert_eq!(e.code(), ErrorCode::WaitBudgetExhausted);
    assert!(run.waits.iter().all(|w| *w < 600_000), "{:?}", run.waits);
    assert_eq!(run.requests.len(), 1);
}

// -------------------------------------------------------------------------------------------------
// Hostile and broken servers (issue #11): paging must advance, every record exactly once, what the
// server says is bounded.

const D_BASE: &str = "https://qualysapi.example.com/api/5.0/fo/asset/host/vm/detection/";

/// One host of a hand-made page: with an ID, or without one (`NoId(k)`: IP 10.9.0.k, so two
/// `NoId` with the same k are the same content).
#[derive(Clone, Copy, Debug)]
enum H {
    Id(u64),
    NoId(u8),
}

/// A detection-output page holding these hosts in this order, one detection each, and a WARNING
/// (CODE when given, URL) padded with whitespace around the CDATA as real Qualys pages are.
fn hosts_doc(hosts: &[H], warning: Option<(Option<&str>, &str)>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<HOST_LIST_VM_DETECTION_OUTPUT>\n  <RESPONSE>\n    <DATETIME>2024-01-01T00:00:00Z</DATETIME>\n    <HOST_LIST>\n");
    for h in hosts {
        s.push_str("      <HOST>\n");
        match h {
            H::Id(id) => {
                s.push_str(&format!("        <ID>{id}</ID>\n        <IP>10.1.{}.{}</IP>\n", id / 256 % 256, id % 256))
            }
            H::NoId(k) => s.push_str(&format!("        <IP>10.9.0.{k}</IP>\n")),
        }
        s.push_str("        <TRACKING_METHOD>IP</TRACKING_METHOD>\n        <DETECTION_LIST>\n          <DETECTION>\n            <QID>38001</QID>\n            <TYPE>Confirmed</TYPE>\n          </DETECTION>\n        </DETECTION_LIST>\n      </HOST>\n");
    }
    s.push_str("    </HOST_LIST>\n");
    if let Some((code, url)) = warning {
        s.push_str("    <WARNING>\n");
        if let Some(c) = code {
            s.push_str(&format!("      <CODE>{c}</CODE>\n"));
        }
        s.push_str(&format!("      <TEXT>1000 record limit exceeded. Use URL to get next batch of results.</TEXT>\n      <URL>\n        <![CDATA[{url}]]>\n      </URL>\n    </WARNING>\n"));
    }
    s.push_str("  </RESPONSE>\n</HOST_LIST_VM_DETECTION_OUTPUT>\n");
    s
}

/// For each DETECTION record in output order: its host's ID, or `ip <IP>` for a host without one.
fn record_keys(output: &str) -> Vec<String> {
    output
        .split("<DETECTION>")
        .skip(1)
        .map(|rec| {
            let host = rec.split("<HOST>").nth(1).unwrap_or("");
            match host.strip_prefix("<ID>") {
                Some(r) => r.split('<').next().unwrap_or("").to_string(),
                None => format!("ip {}", host.split("<IP>").nth(1).and_then(|s| s.split('<').next()).unwrap_or("")),
            }
        })
        .collect()
}

fn keys(ids: &[u64]) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

fn error_lines(run: &Run) -> usize {
    run.logs.iter().filter(|(l, _)| *l == Level::Error).count()
}

/// The checks every run that ended in NEXT_PAGE_LOOP shares: one clear server-blamed failure,
/// a checkpoint of what was written.
fn assert_loop_failure(run: &Run, what: &str) {
    let e = run.outcome.as_ref().expect_err(what);
    assert_eq!(e.code(), ErrorCode::NextPageLoop, "{what}: {e}");
    assert_eq!(e.blame(), qualys_vm_transporter::Blame::Server, "{what}");
    assert!(!e.is_retryable(), "{what}");
    assert!(e.message().contains("next-page") || e.message().contains("next page"), "{what}: {e}");
    assert_eq!(error_lines(run), 1, "{what}: one error line: {:?}", run.logs);
    assert!(!run.summary.previous_run_context.is_empty(), "{what}: a failure leaves a checkpoint of what was written");
}

#[test]
fn a_next_page_cycling_back_to_page_one_ends_the_run_with_one_clear_error() {
    // Page 1 (no id_min) links to page 2; page 2 links back to page 1 with a query that changes
    // every time (no id_min, a lower one, or the same one).
    for back in ["&nonce={n}", "&id_min=1&nonce={n}", "&nonce={n}&id_min=4"] {
        let run = drive(
            &params("detections", &format!("{D_BASE}?action=list"), &[("batchSize", "3")]),
            &Tokens::default(),
            |req, n| {
                let body = match query(&req.url, "id_min").as_deref() {
                    None | Some("1") => hosts_doc(
                        &[H::Id(1), H::Id(2), H::Id(3)],
                        Some((Some("1980"), &format!("{D_BASE}?action=list&truncation_limit=3&id_min=4"))),
                    ),
                    Some(_) => hosts_doc(
                        &[H::Id(4), H::Id(5), H::Id(6)],
                        Some((
                            Some("1980"),
                            &format!("{D_BASE}?action=list&truncation_limit=3{}", back.replace("{n}", &n.to_string())),
                        )),
                    ),
                };
                (200, vec![], body, Fault::None)
            },
            4096,
        );
        assert_loop_failure(&run, back);
        assert_eq!(record_keys(&run.output), keys(&[1, 2, 3, 4, 5, 6]), "{back}: each record once");
        assert_eq!(run.requests.len(), 2, "{back}: {:?}", run.requests);
        assert!(run.summary.previous_run_context.contains("w=6"), "{}", run.summary.previous_run_context);
    }
}

#[test]
fn a_next_page_url_fetched_before_ends_the_run() {
    // No id_min anywhere: pages advance by another parameter, then page 3 links to page 2 again,
    // written differently (parameters reordered, whitespace around it).
    let run = drive(
        &params("detections", &format!("{D_BASE}?action=list"), &[("batchSize", "3")]),
        &Tokens::default(),
        |req, _| {
            let (hosts, next) = match query(&req.url, "page").as_deref() {
                None => ([1, 2, 3], format!("{D_BASE}?action=list&truncation_limit=3&page=2")),
                Some("2") => ([4, 5, 6], format!("{D_BASE}?action=list&truncation_limit=3&page=3")),
                _ => ([7, 8, 9], format!("  {D_BASE}?page=2&truncation_limit=3&action=list \n")),
            };
            (200, vec![], hosts_doc(&hosts.map(H::Id), Some((Some("1980"), &next))), Fault::None)
        },
        4096,
    );
    assert_loop_failure(&run, "page 2 again");
    assert_eq!(record_keys(&run.output), keys(&[1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert_eq!(run.requests.len(), 3);
    // The very URL of the page itself.
    let run = drive(
        &params("detections", &format!("{D_BASE}?action=list"), &[("batchSize", "3")]),
        &Tokens::default(),
        |req, _| (200, vec![], hosts_doc(&[H::Id(1)], Some((None, &req.url))), Fault::None),
        4096,
    );
    assert_loop_failure(&run, "the same URL");
    assert_eq!(run.requests.len(), 1);
}

#[test]
fn a_next_page_whose_id_min_does_not_increase_ends_the_run() {
    // Pages with new records each time, but the next page's id_min goes down (or stays), or
    // disappears after a page that had one.
    for (second, third) in [("id_min=40", "id_min=39"), ("id_min=40", "id_min=40&x=1"), ("id_min=40", "x=1")] {
        let run = drive(
            &params("detections", &format!("{D_BASE}?action=list"), &[("batchSize", "2")]),
            &Tokens::default(),
            |req, n| {
                let next = if n == 1 { second } else { third };
                let at: u64 = query(&req.url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(10);
                let hosts = [H::Id(at + 1), H::Id(at + 2)];
                (
                    200,
                    vec![],
                    hosts_doc(&hosts, Some((Some("1980"), &format!("{D_BASE}?action=list&{next}")))),
                    Fault::None,
                )
            },
            4096,
        );
        assert_loop_failure(&run, third);
        assert!(run.outcome.as_ref().err().is_some_and(|e| e.message().contains("id_min")), "{third}");
        assert_eq!(record_keys(&run.output), keys(&[11, 12, 41, 42]), "{third}");
        assert_eq!(run.requests.len(), 2, "{third}");
    }
}

#[test]
fn endless_empty_warning_pages_end_the_run() {
    // After a first page with records, pages of 0 records, each with a WARNING (CODE 1980 or no
    // CODE at all) to a new URL with a higher id_min, forever.
    for code in [Some("1980"), None] {
        let run = drive(
            &params("detections", &format!("{D_BASE}?action=list"), &[("batchSize", "3")]),
            &Tokens::default(),
            |req, _| {
                let at: u64 = query(&req.url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(0);
                let hosts: Vec<H> = if at == 0 { vec![H::Id(1), H::Id(2), H::Id(3)] } else { vec![] };
                let next = format!("{D_BASE}?action=list&truncation_limit=3&id_min={}", at + 1000);
                (200, vec![], hosts_doc(&hosts, Some((code, &next))), Fault::None)
            },
            4096,
        );
        assert_loop_failure(&run, "empty pages");
        assert_eq!(record_keys(&run.output), keys(&[1, 2, 3]));
        assert!(run.requests.len() <= 5, "{code:?}: {} requests", run.requests.len());
        assert!(run.outcome.as_ref().err().is_some_and(|e| e.message().contains("no new record")), "{code:?}");
    }
}

#[test]
fn overlapping_pages_write_each_host_once_and_say_so_once() {
    // Page 1 holds 1,2,3 and page 2 holds 2,3,4. With id_min=4 on page 2's URL, 2 and 3 lie
    // outside the range it asked for; without an id_min they are plain duplicates.
    for (next, dup, oow) in [("id_min=4", 0u64, 2u64), ("page=2", 2, 0)] {
        let run = drive(
            &params("detections", &format!("{D_BASE}?action=list"), &[("batchSize", "3")]),
            &Tokens::default(),
            |req, _| {
                let body = if req.url.contains(next) {
                    hosts_doc(&[H::Id(2), H::Id(3), H::Id(4), H::Id(4)], None)
                } else {
                    hosts_doc(
                        &[H::Id(1), H::Id(2), H::Id(3)],
                        Some((Some("1980"), &format!("{D_BASE}?action=list&truncation_limit=3&{next}"))),
                    )
                };
                (200, vec![], body, Fault::None)
            },
            4096,
        );
        let s = run.outcome.as_ref().unwrap_or_else(|e| panic!("{next}: {e}"));
        assert_eq!(record_keys(&run.output), keys(&[1, 2, 3, 4]), "{next}");
        // page 2 also repeats host 4 itself: always a duplicate
        assert_eq!((s.duplicates_skipped, s.out_of_window_skipped), (dup + 1, oow), "{next}");
        let warns: Vec<&String> = run
            .logs
            .iter()
            .filter(|(l, t)| *l == Level::Warn && (t.contains("already written") || t.contains("outside")))
            .map(|(_, t)| t)
            .collect();
        assert_eq!(warns.len(), if oow > 0 { 2 } else { 1 }, "{next}: one warning per kind: {warns:?}");
        assert!(warns.iter().all(|t| t.contains("only counted")), "{warns:?}");
        let done = run.logs.iter().rev().find(|(_, t)| t.starts_with("done:")).expect("done line");
        assert!(done.1.contains(&format!("duplicates_skipped={}", dup + 1)), "{}", done.1);
        assert!(done.1.contains(&format!("out_of_window_skipped={oow}")), "{}", done.1);
    }
}

#[test]
fn a_server_ignoring_id_windows_still_writes_each_host_once() {
    let ids = [101u64, 102, 205, 206, 310, 311];
    let (run, _) = drive_with(
        &params("detections", URL, &[("batchSize", "2"), ("concurrency", "3")]),
        &Tokens::default(),
        |req, _| {
            if req.url.contains("/fo/asset/host/?") {
                return (200, vec![], id_set_page(&req.url, &ids, "HOST_LIST_OUTPUT"), Fault::None);
            }
            // every range gets every host
            (200, vec![], hosts_doc(&ids.map(H::Id), None), Fault::None)
        },
        4096,
    );
    let s = run.outcome.as_ref().expect("success");
    let mut got = record_keys(&run.output);
    got.sort();
    assert_eq!(got, keys(&ids), "exactly 6 records for 6 hosts");
    assert_eq!(s.records, 6);
    assert_eq!(s.out_of_window_skipped, 12);
    assert_eq!(run.requests.len(), 4, "discovery + 3 ranges");
}

/// The real detection page (hosts 143111841 then 10112200: not sorted) without the hosts below
/// `id_min`, as Qualys would answer a retry that starts there.
fn real_unsorted_page(id_min: u64) -> String {
    let doc = include_str!("fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let mut out = String::new();
    let mut rest = doc;
    while let Some(start) = rest.find("<HOST>") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("</HOST>").map_or(rest.len(), |e| start + e + "</HOST>".len());
        let host = &rest[start..end];
        let id: u64 =
            host.split("<ID>").nth(1).and_then(|s| s.split('<').next()).and_then(|s| s.parse().ok()).unwrap_or(0);
        if id >= id_min {
            out.push_str(host);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn an_unsorted_real_page_cut_after_its_first_host_is_retried_without_losing_the_second() {
    let whole = real_unsorted_page(0);
    let cut = whole.find("</HOST>").map(|p| (p + 10) as f64 / whole.len() as f64).expect("a host");
    for fault in [Fault::ResetAt(cut), Fault::TruncateAt(cut), Fault::None] {
        let run = drive(
            &params("detections", &format!("{D_BASE}?action=list"), &[("retryDelaySec", "0")]),
            &Tokens::default(),
            |req, n| {
                let at = query(&req.url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(0);
                (200, vec![], real_unsorted_page(at), if n == 1 { fault } else { Fault::None })
            },
            512,
        );
        let s = run.outcome.as_ref().unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        let mut got = detections_in(&run.output);
        let n = got.len();
        got.sort_unstable();
        got.dedup();
        assert_eq!(got.len(), n, "{fault:?}: nothing twice");
        assert_eq!(n, 8, "{fault:?}: all 8 detections of both hosts");
        assert_eq!(s.records, 8);
        assert!(got.iter().any(|(h, _)| *h == 10112200) && got.iter().any(|(h, _)| *h == 143111841));
    }
}

#[test]
fn records_without_an_id_on_a_retried_page_are_written_once() {
    // Two identical ID-less hosts (both must be written: the server sent two), two distinct ones.
    let page = [H::Id(1), H::NoId(7), H::Id(2), H::NoId(8), H::NoId(8), H::Id(3), H::NoId(9)];
    let doc = hosts_doc(&page, None);
    let expected: Vec<String> =
        ["1", "ip 10.9.0.7", "2", "ip 10.9.0.8", "ip 10.9.0.8", "3", "ip 10.9.0.9"].map(str::to_string).to_vec();
    for cut in [0.3, 0.55, 0.7, 0.9, 0.99] {
        for fault in [Fault::ResetAt(cut), Fault::TruncateAt(cut)] {
            let run = drive(
                &params("detections", &format!("{D_BASE}?action=list"), &[("retryDelaySec", "0")]),
                &Tokens::default(),
                |_, n| (200, vec![], doc.clone(), if n == 1 { fault } else { Fault::None }),
                97,
            );
            let s = run.outcome.as_ref().unwrap_or_else(|e| panic!("{fault:?}: {e}"));
            let mut got = record_keys(&run.output);
            got.sort();
            let mut want = expected.clone();
            want.sort();
            assert_eq!(got, want, "{fault:?}: each record once, the two identical ones twice");
            assert_eq!(s.records, 7, "{fault:?}");
            assert_eq!(run.requests.len(), 2, "{fault:?}");
        }
    }
}

/// A hosts page (HOST_LIST_OUTPUT) over `ids`, paged like Qualys (truncation_limit, id_min).
fn host_list_page(url: &str, ids: &[u64]) -> String {
    let limit: usize = query(url, "truncation_limit").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let id_min: u64 = query(url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(0);
    let id_max: u64 = query(url, "id_max").and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    let remaining: Vec<u64> = ids.iter().copied().filter(|id| *id >= id_min && *id <= id_max).collect();
    let page = &remaining[..remaining.len().min(limit)];
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<HOST_LIST_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME><HOST_LIST>");
    for id in page {
        s.push_str(&format!(
            "<HOST><ID>{id}</ID><IP>10.0.{}.{}</IP><TRACKING_METHOD>IP</TRACKING_METHOD></HOST>",
            id / 256 % 256,
            id % 256
        ));
    }
    s.push_str("</HOST_LIST>");
    if remaining.len() > page.len() {
        let base = url.split("&id_min=").next().unwrap_or(url);
        s.push_str(&format!("<WARNING><CODE>1980</CODE><TEXT>{limit} record limit exceeded.</TEXT><URL><![CDATA[{base}&id_min={}]]></URL></WARNING>", remaining[page.len()]));
    }
    s.push_str("</RESPONSE></HOST_LIST_OUTPUT>\n");
    s
}

fn hosts_in(output: &str) -> Vec<u64> {
    output.split("<HOST><ARCHER_DEVICE_LINK>").skip(1).filter_map(|s| s.split('<').next()?.parse().ok()).collect()
}

/// The catch-up window of a resumed run asks for changes since run 1 started (the fake clock's
/// start minus the one-day offset): nothing changed in these tests.
const CATCH_UP_SINCE: &str = "2023-11-13T22:13:20Z";

/// The fake Qualys over one subscription: KB, host list (with details=None discovery) and
/// detections; a catch-up request selects nothing.
fn world(url: &str, ids: &[u64], qids: &[u64]) -> String {
    let none: &[u64] = &[];
    let (ids, qids) = if url.contains(CATCH_UP_SINCE) { (none, none) } else { (ids, qids) };
    if url.contains("/knowledge_base/") {
        kb_page(url, qids)
    } else if url.contains("/fo/asset/host/?") {
        if query(url, "details").as_deref() == Some("None") {
            id_set_page(url, ids, "HOST_LIST_OUTPUT")
        } else {
            host_list_page(url, ids)
        }
    } else {
        detection_page(url, ids, 1)
    }
}

/// The record IDs of one run's output (host IDs, or QIDs for the KB), in output order.
fn written_ids(source: &str, output: &str) -> Vec<u64> {
    match source {
        "kb" => qids_in(output),
        "hosts" => hosts_in(output),
        _ => detections_in(output).into_iter().map(|(h, _)| h).collect(),
    }
}

const HOSTS_URL: &str = "https://qualysapi.example.com/api/5.0/fo/asset/host/?action=list&vm_scan_since=<LastRunTime>";

#[test]
fn every_request_kind_survives_every_retryable_failure() {
    let ids = host_ids(20);
    let qids: Vec<u64> = (0..40u64).map(|i| 20_000 + i * 3 + i % 2).collect();
    let faults = [
        Fault::ResetAt(0.5),
        Fault::TransportBeforeHead,
        Fault::TruncateAt(0.5),
        Fault::Status503,
        Fault::Generic999,
        Fault::Accepted202,
        Fault::Concurrency409,
        Fault::Rate409,
        Fault::Status429,
    ];
    // (kind, dataSource, URL, parameters, resumed from a failed run, request to fault)
    type Kind<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, bool, usize);
    let kinds: Vec<Kind> = vec![
        ("chain first page", "detections", URL, vec![("batchSize", "4")], false, 1),
        ("chain next page", "detections", URL, vec![("batchSize", "4")], false, 3),
        ("kb single request", "kb", KB_URL, vec![("kbChunkSize", "0")], false, 1),
        ("kb discovery (QID listing)", "kb", KB_URL, vec![("kbChunkSize", "7")], false, 1),
        ("kb window", "kb", KB_URL, vec![("kbChunkSize", "7")], false, 3),
        ("host-ID discovery (hosts)", "hosts", HOSTS_URL, vec![("batchSize", "4"), ("concurrency", "3")], false, 1),
        ("host-ID discovery (detections)", "detections", URL, vec![("batchSize", "4"), ("concurrency", "3")], false, 1),
        ("window segment", "detections", URL, vec![("batchSize", "4"), ("concurrency", "3")], false, 3),
        ("hosts chain next page", "hosts", HOSTS_URL, vec![("batchSize", "4")], false, 2),
        ("resume catch-up segment", "detections", URL, vec![("batchSize", "4")], true, 1),
        ("resumed chain after catch-up", "detections", URL, vec![("batchSize", "4")], true, 2),
        ("resumed kb discovery", "kb", KB_URL, vec![("kbChunkSize", "7")], true, 1),
        ("resumed kb catch-up", "kb", KB_URL, vec![("kbChunkSize", "7")], true, 2),
        ("resumed host-ID discovery", "detections", URL, vec![("batchSize", "4"), ("concurrency", "3")], true, 1),
    ];
    let tokens = Tokens { last_run_time: Some("2024-03-15T00:00:00Z".into()), previous_run_context: None };
    for (kind, source, url, extra, resumed, at) in &kinds {
        let all: &[u64] = if *source == "kb" { &qids } else { &ids };
        let mut p: Vec<(&str, &str)> = extra.clone();
        // A retry waits (1 s): a plan that reports something ready that it will not hand out
        // shows up as STALLED.
        p.push(("retryDelaySec", "1"));
        // A resumed run needs a checkpoint: take it from a real failed run (no retries, reset on
        // its fourth request), whatever its format.
        let (tokens2, before) = if *resumed {
            let mut p1 = p.clone();
            p1.push(("maxRetry", "0"));
            let run1 = drive(
                &params(source, url, &p1),
                &tokens,
                |req, n| {
                    (200, vec![], world(&req.url, &ids, &qids), if n == 4 { Fault::ResetAt(0.6) } else { Fault::None })
                },
                256,
            );
            assert!(run1.outcome.is_err(), "{kind}: run 1 must fail");
            let ctx = run1.summary.previous_run_context.clone();
            assert!(!ctx.is_empty(), "{kind}: run 1 wrote records and must leave a checkpoint");
            (Tokens { previous_run_context: Some(ctx), ..tokens.clone() }, written_ids(source, &run1.output))
        } else {
            (tokens.clone(), Vec::new())
        };
        for fault in faults {
            let run = drive(
                &params(source, url, &p),
                &tokens2,
                |req, n| (200, vec![], world(&req.url, &ids, &qids), if n == *at { fault } else { Fault::None }),
                300,
            );
            let what = format!("{kind} x {fault:?}");
            let s = run.outcome.as_ref().unwrap_or_else(|e| panic!("{what}: {e}"));
            let mut got = before.clone();
            got.extend(written_ids(source, &run.output));
            got.sort_unstable();
            assert_eq!(got, all, "{what}: every record exactly once (across the failed run and this one)");
            assert!(s.retries + s.waits >= 1, "{what}: the fault was met");
            assert!(run.requests.len() < 40, "{what}: {} requests", run.requests.len());
        }
    }
}

#[test]
fn a_resumed_kb_run_whose_discovery_fails_once_retries_it() {
    let qids: Vec<u64> = (0..2345u64).map(|i| 10_000 + i * 3 / 2 + (i / 100) * 50).collect();
    let tokens = Tokens { last_run_time: Some("2024-03-15T00:00:00Z".into()), previous_run_context: None };
    let p = [("kbChunkSize", "500"), ("maxRetry", "0")];
    let run1 = drive(
        &params("kb", KB_URL, &p),
        &tokens,
        |req, n| (200, vec![], world(&req.url, &[], &qids), if n == 3 { Fault::ResetAt(0.5) } else { Fault::None }),
        8192,
    );
    assert!(run1.outcome.is_err());
    let ctx = run1.summary.previous_run_context.clone();
    assert!(!ctx.is_empty());
    let tokens2 = Tokens { previous_run_context: Some(ctx), ..tokens };
    let run2 = drive(
        &params("kb", KB_URL, &[("kbChunkSize", "500"), ("maxRetry", "1")]),
        &tokens2,
        |req, n| (200, vec![], world(&req.url, &[], &qids), if n == 1 { Fault::Status503 } else { Fault::None }),
        8192,
    );
    let s = run2.outcome.as_ref().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.retries, 1);
    let mut all = qids_in(&run1.output);
    all.extend(qids_in(&run2.output));
    all.sort_unstable();
    assert_eq!(all, qids);
    assert!(run2.requests[1].1.contains("details=None"), "the discovery is retried first: {:?}", run2.requests);
}

#[test]
fn a_discovery_claiming_every_possible_id_fails_cleanly_without_allocating() {
    for (source, url, extra) in [
        ("kb", KB_URL, vec![("kbChunkSize", "1000")]),
        ("detections", URL, vec![("concurrency", "3"), ("batchSize", "1000")]),
        ("hosts", HOSTS_URL, vec![("concurrency", "2"), ("batchSize", "1")]),
    ] {
        let run = drive(
            &params(source, url, &extra),
            &Tokens::default(),
            |req, _| {
                let root = if source == "kb" { "KNOWLEDGE_BASE_VULN_LIST_OUTPUT" } else { "HOST_LIST_OUTPUT" };
                let _ = req;
                (200, vec![], format!("<{root}><RESPONSE><ID_SET><ID_RANGE>0-18446744073709551615</ID_RANGE></ID_SET></RESPONSE></{root}>"), Fault::None)
            },
            4096,
        );
        let e = run.outcome.as_ref().expect_err(source);
        assert_eq!(e.code(), ErrorCode::DiscoveryTooLarge, "{source}: {e}");
        assert_eq!(e.blame(), qualys_vm_transporter::Blame::Server);
        assert!(e.message().contains("concurrency=1") || e.message().contains("kbChunkSize=0"), "{e}");
        assert_eq!(run.requests.len(), 1, "{source}");
        assert_eq!(error_lines(&run), 1);
    }
}

#[test]
fn huge_waits_qualys_asks_for_fail_at_once_within_the_wait_budget() {
    let ids = host_ids(4);
    let huge = ["9223372036854775807", "18446744073709551615", "9200000000000000", "86401"];
    for value in huge {
        // X-RateLimit-ToWait-Sec with X-RateLimit-Remaining: 0 on page 1 of 2
        let run = drive(
            &params("detections", URL, &[("batchSize", "2"), ("waitBudgetSec", "600")]),
            &Tokens::default(),
            |req, _| {
                (
                    200,
                    vec![("X-RateLimit-Remaining".into(), "0".into()), ("X-RateLimit-ToWait-Sec".into(), value.into())],
                    detection_page(&req.url, &ids, 1),
                    Fault::None,
                )
            },
            4096,
        );
        let e = run.outcome.as_ref().expect_err(value);
        assert_eq!(e.code(), ErrorCode::WaitBudgetExhausted, "{value}: {e}");
        assert!(run.waits.is_empty(), "{value}: failed before waiting: {:?}", run.waits);
        assert_eq!(run.requests.len(), 1, "{value}");
        assert_eq!(detections_in(&run.output), expected(&ids[..2], 1));
        assert!(!run.summary.previous_run_context.is_empty(), "{value}: checkpoint");
        // the same from a 409's SECONDS_TO_WAIT and a 429's Retry-After
        for (status, body, headers) in [
            (409, RATE_409.replace("<VALUE>30</VALUE>", &format!("<VALUE>{value}</VALUE>")), vec![]),
            (429, String::new(), vec![("Retry-After".to_string(), value.to_string())]),
        ] {
            let run = drive(
                &params("detections", URL, &[("batchSize", "2"), ("waitBudgetSec", "600")]),
                &Tokens::default(),
                |req, n| {
                    if n == 2 {
                        (status, headers.clone(), body.clone(), Fault::None)
                    } else {
                        (200, vec![], detection_page(&req.url, &ids, 1), Fault::None)
                    }
                },
                4096,
            );
            let e = run.outcome.as_ref().expect_err(value);
            assert_eq!(e.code(), ErrorCode::WaitBudgetExhausted, "{status} {value}: {e}");
            assert!(run.waits.is_empty(), "{status} {value}: {:?}", run.waits);
            assert_eq!(run.requests.len(), 2);
        }
    }
}

#[test]
fn an_unusable_http_status_is_a_retryable_network_failure() {
    let ids = host_ids(4);
    for status in [101u16, 100, 0, 99, 600, 65535] {
        let run = drive(
            &params("detections", URL, &[("batchSize", "2"), ("retryDelaySec", "0")]),
            &Tokens::default(),
            |req, n| (if n == 2 { status } else { 200 }, vec![], detection_page(&req.url, &ids, 1), Fault::None),
            4096,
        );
        let s = run.outcome.as_ref().unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(s.retries, 1, "{status}");
        assert_eq!(detections_in(&run.output), expected(&ids, 1), "{status}");
        assert!(run.logs.iter().any(|(_, t)| t.contains("HTTP_UNUSABLE_STATUS")), "{status}: {:?}", run.logs);
        let run = drive(
            &params("detections", URL, &[("batchSize", "2"), ("maxRetry", "0")]),
            &Tokens::default(),
            |req, n| (if n == 2 { status } else { 200 }, vec![], detection_page(&req.url, &ids, 1), Fault::None),
            4096,
        );
        let e = run.outcome.as_ref().expect_err("no retry left");
        assert_eq!(
            (e.code(), e.blame(), e.is_retryable()),
            (ErrorCode::HttpUnusableStatus, qualys_vm_transporter::Blame::Network, true)
        );
    }
}

#[test]
fn warnings_a_server_floods_are_logged_a_bounded_number_of_times_and_lengths() {
    let flood: String = (0..500)
        .map(|i| format!("<WARNING><CODE>{}</CODE><TEXT>{}</TEXT></WARNING>", 2000 + i, "x".repeat(5000)))
        .collect();
    let page = hosts_doc(&[H::Id(1), H::Id(2)], None).replace("</HOST_LIST>", &format!("</HOST_LIST>{flood}"));
    let run = drive(
        &params("detections", &format!("{D_BASE}?action=list"), &[]),
        &Tokens::default(),
        |_, _| (200, vec![], page.clone(), Fault::None),
        4096,
    );
    run.outcome.as_ref().expect("the warnings do not stop the run");
    assert_eq!(record_keys(&run.output), keys(&[1, 2]));
    let warnings: Vec<&String> =
        run.logs.iter().filter(|(_, t)| t.contains("Qualys warning")).map(|(_, t)| t).collect();
    assert!((1..=21).contains(&warnings.len()), "{} warning lines", warnings.len());
    assert!(warnings.iter().all(|t| t.len() < 1_000), "each line is short");
}

/// A host of `detection_page` as `outputShape=qualys` writes it: the whole `HOST` with its
/// `DETECTION_LIST`, text unwrapped from CDATA and escaped, whitespace between elements gone, no
/// key field (written here from the page's recipe, not from the core's writer).
fn qualys_host(id: u64, per_host: u64) -> String {
    let mut s = format!(
        "<HOST><ID>{id}</ID><IP>10.0.{}.{}</IP><TRACKING_METHOD>IP</TRACKING_METHOD>",
        id / 256 % 256,
        id % 256
    );
    if id.is_multiple_of(2) {
        s.push_str(&format!("<DNS>host{id}.example.com</DNS>"));
    }
    s.push_str("<DETECTION_LIST>");
    for q in 0..per_host {
        s.push_str(&format!(
            "<DETECTION><QID>{}</QID><TYPE>Confirmed</TYPE><PORT>{}</PORT><PROTOCOL>tcp</PROTOCOL><RESULTS>line one &amp;quot;quoted&amp;quot;\n\tcol2</RESULTS><FIRST_FOUND_DATETIME>2023-05-0{}T00:00:00Z</FIRST_FOUND_DATETIME></DETECTION>",
            38000 + q,
            400 + q,
            1 + q % 9
        ));
    }
    s.push_str("</DETECTION_LIST></HOST>");
    s
}

#[test]
fn output_shape_qualys_writes_each_host_whole_page_by_page_and_exactly_once_through_a_retry() {
    let ids = host_ids(20);
    let want: String = ids.iter().map(|id| qualys_host(*id, 2)).collect();
    for source in ["detections", "hostDetections"] {
        for fault in [Fault::None, Fault::ResetAt(0.5), Fault::TruncateAt(0.7)] {
            let run = drive(
                &params(source, URL, &[("batchSize", "6"), ("maxRetry", "1"), ("outputShape", "qualys")]),
                &Tokens::default(),
                |req, n| (200, vec![], detection_page(&req.url, &ids, 2), if n == 2 { fault } else { Fault::None }),
                97,
            );
            let s = run.outcome.unwrap_or_else(|e| panic!("{source} {fault:?}: {e}"));
            assert_eq!(run.output, want, "{source} {fault:?}: each HOST once, whole, in order");
            assert_eq!(s.records, 20, "{source} {fault:?}: one record per host");
            if let Fault::None = fault {
                assert_eq!(s.pages, 4, "{source}");
            }
            assert_eq!(s.retries, u32::from(!matches!(fault, Fault::None)), "{source} {fault:?}");
            assert!(!run.output.contains("ARCHER_"), "{source}: no key fields in the qualys shape");
            assert!(run.logs.iter().any(|(_, t)| t.starts_with("starting ") && t.ends_with(" outputShape=qualys")));
            assert!(!run.logs.iter().any(|(l, _)| *l == Level::Warn && matches!(fault, Fault::None)), "{:?}", run.logs);
        }
    }
}

#[test]
fn output_shape_is_checked_and_the_default_is_records() {
    let ids = host_ids(3);
    let serve = |req: &Request, _: usize| (200, vec![], detection_page(&req.url, &ids, 1), Fault::None);
    let default = drive(&params("detections", URL, &[]), &Tokens::default(), serve, 4096);
    let records = drive(&params("detections", URL, &[("outputShape", "records")]), &Tokens::default(), serve, 4096);
    let empty = drive(&params("detections", URL, &[("outputShape", "")]), &Tokens::default(), serve, 4096);
    assert_eq!(detections_in(&default.output), expected(&ids, 1));
    assert_eq!(records.output, default.output);
    assert_eq!(empty.output, default.output);
    for (bad, hint) in [("Qualys", "did you mean qualys?"), ("xml", "")] {
        let e = Feed::new(&params("detections", URL, &[("outputShape", bad)]), &Tokens::default(), 0)
            .expect_err("a wrong outputShape is a configuration error");
        assert_eq!(e.code(), ErrorCode::ConfigInvalid);
        assert!(
            e.message().contains(&format!("outputShape: \"{bad}\" is not one of records, qualys")),
            "{}",
            e.message()
        );
        assert!(e.message().contains(hint), "{}", e.message());
    }
}

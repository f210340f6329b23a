//! The feed's decisions about how it talks to Qualys, driven end to end against a fake Qualys
//! written here, time simulated (a request takes the milliseconds its reply says; a `Wait` advances
//! the clock instead of sleeping):
//! - POST when a GET would be too long (`httpMethod`: the URL length limit, a 414, GET/POST forced);
//! - adaptive page size (a page that times out, or fails with 5xx / GENERIC_RETURN twice, is asked
//!   again for half as many hosts from the same place; later pages grow back to `batchSize`);
//! - hosts Qualys cannot deliver even alone (`skipStalledHosts`), with the host found from the
//!   discovery, a host-list lookup, or a narrowed page for the detection APIs.

mod common;
use common::query;
use qualys_vm_transporter::feed::{Action, Feed, Level, Summary, Tokens};
use qualys_vm_transporter::request::{Method, Request};
use qualys_vm_transporter::ErrorCode;

const PASSWORD: &str = "Tr4nsp0rt-Pa55word!";
const DET_URL: &str =
    "https://qualysapi.example.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>";
const HOSTS_URL: &str = "https://qualysapi.example.com/api/5.0/fo/asset/host/?action=list&vm_scan_since=<LastRunTime>";
const KB_URL: &str = "https://qualysapi.example.com/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>";

fn params(source: &str, url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p = vec![("retryDelaySec", "0")];
    p.extend_from_slice(extra);
    common::feed_params(source, url, PASSWORD, &p)
}

/// One request as the fake server sees it.
#[derive(Clone, Debug)]
struct Sent {
    n: usize,
    #[allow(dead_code)] // when it was sent, for debugging a failing test
    at: i64,
    method: Method,
    /// The URL on the request line.
    url: String,
    body: Option<String>,
    headers: Vec<(String, String)>,
    /// What the server reads: the URL, plus the POST body as its query.
    target: String,
}

impl Sent {
    fn of(req: &Request, n: usize, at: i64) -> Sent {
        let target = match &req.body {
            Some(b) if !b.is_empty() => format!("{}?{b}", req.url),
            _ => req.url.clone(),
        };
        Sent {
            n,
            at,
            method: req.method,
            url: req.url.clone(),
            body: req.body.clone(),
            headers: req.all_headers(),
            target,
        }
    }
    fn q(&self, key: &str) -> Option<String> {
        query(&self.target, key)
    }
    fn num(&self, key: &str) -> Option<u64> {
        self.q(key).and_then(|v| v.parse().ok())
    }
}

/// What the fake server does with one request.
enum Reply {
    /// A whole response after `ms`.
    Whole { status: u16, body: String, ms: i64 },
    /// The transport's idle or whole-response limit fires (`ETIMEDOUT`) after `ms`, having
    /// received the head and the first `bytes` of `body` (none: before the head).
    Timeout { body: Option<String>, bytes: usize, ms: i64 },
}

fn ok(body: String) -> Reply {
    Reply::Whole { status: 200, body, ms: 50 }
}

struct Run {
    outcome: Result<Summary, qualys_vm_transporter::Error>,
    summary: Summary,
    output: String,
    logs: Vec<(Level, String)>,
    sent: Vec<Sent>,
    checkpoint: String,
}

impl Run {
    fn warns(&self, needle: &str) -> usize {
        self.logs.iter().filter(|(l, t)| *l == Level::Warn && t.contains(needle)).count()
    }
    fn log_has(&self, needle: &str) -> bool {
        self.logs.iter().any(|(_, t)| t.contains(needle))
    }
}

/// Runs a feed to its end against `serve`, one request at a time in the order sent.
fn drive(params: &[(String, String)], tokens: &Tokens, mut serve: impl FnMut(&Sent) -> Reply) -> Run {
    let mut now: i64 = 1_700_000_000_000;
    let mut feed = Feed::new(params, tokens, now).expect("valid parameters");
    let mut run = Run {
        outcome: Err(qualys_vm_transporter::Error::caller(ErrorCode::Internal, "NOT_RUN")),
        summary: Summary::default(),
        output: String::new(),
        logs: Vec::new(),
        sent: Vec::new(),
        checkpoint: String::new(),
    };
    let mut queue: std::collections::VecDeque<Sent> = std::collections::VecDeque::new();
    let answer = |feed: &mut Feed, sent: &Sent, now: &mut i64, serve: &mut dyn FnMut(&Sent) -> Reply| {
        let id = u64::try_from(sent.n).expect("id");
        match serve(sent) {
            Reply::Whole { status, body, ms } => {
                feed.handle_response_head(id, *now, status, &[]);
                for piece in body.as_bytes().chunks(211) {
                    if !feed.handle_body(id, piece) {
                        break;
                    }
                }
                *now += ms;
                feed.handle_response_end(id, *now);
            }
            Reply::Timeout { body, bytes, ms } => {
                if let Some(body) = body {
                    feed.handle_response_head(id, *now, 200, &[]);
                    let b = body.as_bytes();
                    for piece in b[..bytes.min(b.len())].chunks(211) {
                        if !feed.handle_body(id, piece) {
                            break;
                        }
                    }
                }
                *now += ms;
                feed.handle_transport_error(id, *now, "ETIMEDOUT", "no data from the server for 300 s");
            }
        }
    };
    for step in 0..20_000 {
        match feed.poll(now) {
            Action::Send(req) => {
                assert_eq!(req.id as usize, run.sent.len() + 1, "request ids count up from 1");
                let s = Sent::of(&req, run.sent.len() + 1, now);
                run.sent.push(s.clone());
                queue.push_back(s);
            }
            Action::Pending => {
                let s = queue.pop_front().expect("Pending with nothing in flight");
                answer(&mut feed, &s, &mut now, &mut serve);
            }
            Action::Wait { ms, .. } => match queue.pop_front() {
                Some(s) => answer(&mut feed, &s, &mut now, &mut serve),
                None => now = now.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
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
        if !matches!(&run.outcome, Err(e) if e.message() == "NOT_RUN") {
            run.summary = feed.summary().clone();
            run.checkpoint = run.summary.previous_run_context.clone();
            return run;
        }
        assert!(step < 19_999, "feed did not finish");
    }
    run
}

/// The fake subscription: hosts with ascending IDs (gaps), each with `per_host` detections.
struct Qualys {
    hosts: Vec<u64>,
    per_host: u64,
    /// Hosts the host list has but the detection API leaves out (no matching detection).
    bare: Vec<u64>,
}

impl Qualys {
    fn new(n: u64, per_host: u64) -> Qualys {
        Qualys { hosts: (0..n).map(|i| 1000 + i * 7 + (i % 3)).collect(), per_host, bare: Vec::new() }
    }

    /// The hosts the detection API lists.
    fn detection_hosts(&self) -> Vec<u64> {
        self.hosts.iter().copied().filter(|h| !self.bare.contains(h)).collect()
    }

    /// The hosts a request selects: `ids`, `id_min`, `id_max` (in ID order). The catch-up
    /// window of a resumed run (changes since the failed run started, a day before the fake
    /// clock's start) selects nothing: nothing changed.
    fn selected(&self, s: &Sent) -> Vec<u64> {
        if s.q("vm_scan_since").is_some_and(|v| v.starts_with("2023-11-13")) {
            return Vec::new();
        }
        let lo = s.num("id_min").unwrap_or(0);
        let hi = s.num("id_max").unwrap_or(u64::MAX);
        let ids: Option<Vec<u64>> = s
            .q("ids")
            .map(|v| v.split("%2C").flat_map(|x| x.split(',')).filter_map(|x| x.trim().parse().ok()).collect());
        let detections = s.target.split('?').next().unwrap_or("").ends_with("/vm/detection/");
        self.hosts
            .iter()
            .copied()
            .filter(|h| *h >= lo && *h <= hi && ids.as_ref().is_none_or(|l| l.contains(h)))
            .filter(|h| !detections || !self.bare.contains(h))
            .collect()
    }

    /// The page a request asks for, and the next-page URL (all parameters, `id_min` replaced).
    fn page(&self, s: &Sent) -> (Vec<u64>, Option<String>) {
        let limit = s.num("truncation_limit").map_or(1000, |l| if l == 0 { usize::MAX } else { l as usize });
        let sel = self.selected(s);
        let page: Vec<u64> = sel.iter().copied().take(limit).collect();
        let next = sel.get(page.len()).map(|n| {
            let (base, q) = s.target.split_once('?').unwrap_or((&s.target, ""));
            let kept: Vec<&str> = q.split('&').filter(|kv| !kv.starts_with("id_min=")).collect();
            format!("{base}?{}&id_min={n}", kept.join("&"))
        });
        (page, next)
    }

    /// The answer of the API the request names (host list, its `details=None`, detections, KB).
    fn answer(&self, s: &Sent) -> String {
        let path = s.target.split('?').next().unwrap_or("");
        if path.ends_with("/vm/detection/") {
            let (page, next) = self.page(s);
            detections_doc(&page, self.per_host, next.as_deref())
        } else if path.ends_with("/knowledge_base/vuln/") {
            kb_doc(s)
        } else if s.q("details").as_deref() == Some("None") {
            let (page, next) = self.page(s);
            id_set_doc(&page, next.as_deref())
        } else {
            let (page, next) = self.page(s);
            hosts_doc(&page, next.as_deref())
        }
    }
}

fn warning(next: Option<&str>) -> String {
    next.map_or_else(String::new, |u| {
        format!("<WARNING><CODE>1980</CODE><TEXT>record limit exceeded.</TEXT><URL><![CDATA[{u}]]></URL></WARNING>")
    })
}

fn detections_doc(hosts: &[u64], per_host: u64, next: Option<&str>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME>");
    if !hosts.is_empty() {
        s.push_str("<HOST_LIST>");
        for id in hosts {
            s.push_str(&format!(
                "<HOST><ID>{id}</ID><IP>10.0.{}.{}</IP><TRACKING_METHOD>IP</TRACKING_METHOD><DETECTION_LIST>",
                id / 256 % 256,
                id % 256
            ));
            for q in 0..per_host {
                s.push_str(&format!("<DETECTION><QID>{}</QID><TYPE>Confirmed</TYPE><PORT>{}</PORT><PROTOCOL>tcp</PROTOCOL><RESULTS><![CDATA[result {id} {q}]]></RESULTS><FIRST_FOUND_DATETIME>2023-05-01T00:00:00Z</FIRST_FOUND_DATETIME></DETECTION>", 38000 + q, 400 + q));
            }
            s.push_str("</DETECTION_LIST></HOST>");
        }
        s.push_str("</HOST_LIST>");
    }
    s.push_str(&warning(next));
    s.push_str("</RESPONSE></HOST_LIST_VM_DETECTION_OUTPUT>\n");
    s
}

fn hosts_doc(hosts: &[u64], next: Option<&str>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<HOST_LIST_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME>");
    if !hosts.is_empty() {
        s.push_str("<HOST_LIST>");
        for id in hosts {
            s.push_str(&format!(
                "<HOST><ID>{id}</ID><IP>10.0.{}.{}</IP><TRACKING_METHOD>IP</TRACKING_METHOD></HOST>",
                id / 256 % 256,
                id % 256
            ));
        }
        s.push_str("</HOST_LIST>");
    }
    s.push_str(&warning(next));
    s.push_str("</RESPONSE></HOST_LIST_OUTPUT>\n");
    s
}

fn id_set_doc(ids: &[u64], next: Option<&str>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<HOST_LIST_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME>");
    if !ids.is_empty() {
        s.push_str("<ID_SET>");
        for id in ids {
            s.push_str(&format!("<ID>{id}</ID>"));
        }
        s.push_str("</ID_SET>");
    }
    s.push_str(&warning(next));
    s.push_str("</RESPONSE></HOST_LIST_OUTPUT>\n");
    s
}

const QIDS: std::ops::Range<u64> = 20_000..20_040;

fn kb_doc(s: &Sent) -> String {
    let lo = s.num("id_min").unwrap_or(0);
    let hi = s.num("id_max").unwrap_or(u64::MAX);
    let sel = QIDS.filter(|q| *q >= lo && *q <= hi);
    if s.q("details").as_deref() == Some("None") {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<KNOWLEDGE_BASE_VULN_LIST_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME><ID_SET>");
        for q in sel {
            out.push_str(&format!("<ID>{q}</ID>"));
        }
        out.push_str("</ID_SET></RESPONSE></KNOWLEDGE_BASE_VULN_LIST_OUTPUT>\n");
        return out;
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<KNOWLEDGE_BASE_VULN_LIST_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME><VULN_LIST>");
    for q in sel {
        out.push_str(&format!("<VULN><QID>{q}</QID><VULN_TYPE>Vulnerability</VULN_TYPE><TITLE>T {q}</TITLE></VULN>"));
    }
    out.push_str("</VULN_LIST></RESPONSE></KNOWLEDGE_BASE_VULN_LIST_OUTPUT>\n");
    out
}

/// The record IDs of an output (host IDs; QIDs for the KB), in output order.
fn written(source: &str, output: &str) -> Vec<u64> {
    let (open, id) = match source {
        "kb" => ("<VULN>", "<QID>"),
        "detections" => ("<DETECTION>", "<HOST><ID>"),
        _ => ("<HOST>", "<ID>"),
    };
    output
        .split(open)
        .skip(1)
        .filter(|r| !r.starts_with('<') || source != "hosts" || r.starts_with("<ARCHER_DEVICE_LINK>"))
        .filter_map(|r| r.split(id).nth(1)?.split('<').next()?.parse().ok())
        .collect()
}

/// The host IDs of an output for the host-based sources (one per host; each detection of the
/// `detections` source is also checked by [`detection_pairs`]), QIDs for the KB.
fn hosts_of(source: &str, output: &str) -> Vec<u64> {
    let mut ids = written(source, output);
    if source == "detections" {
        let pairs = detection_pairs(output);
        let mut hosts: Vec<u64> = pairs.iter().map(|p| p.0).collect();
        hosts.dedup();
        let per_host = pairs.len() / hosts.len().max(1);
        let want: Vec<(u64, u64)> =
            hosts.iter().flat_map(|h| (0..per_host as u64).map(move |q| (*h, 38000 + q))).collect();
        assert_eq!(pairs, want, "every detection of every host once, in order");
        ids = hosts;
    }
    ids
}

/// Detections as (host, QID) pairs in output order.
fn detection_pairs(output: &str) -> Vec<(u64, u64)> {
    output
        .split("<DETECTION>")
        .skip(1)
        .filter_map(|r| {
            let h = r.split("<HOST><ID>").nth(1)?.split('<').next()?.parse().ok()?;
            let q = r.split("<QID>").nth(1)?.split('<').next()?.parse().ok()?;
            Some((h, q))
        })
        .collect()
}

/// A long filter list: every other host of the subscription as `ids`, padded with IDs that match
/// nothing, so the URL is about `bytes` long.
fn long_ids(q: &Qualys, bytes: usize) -> (String, Vec<u64>) {
    let chosen: Vec<u64> = q.hosts.iter().copied().step_by(2).collect();
    let mut list: Vec<String> = chosen.iter().map(u64::to_string).collect();
    let mut filler = 900_000u64;
    while list.join(",").len() < bytes {
        list.push(filler.to_string());
        filler += 3;
    }
    (list.join(","), chosen)
}

// ---- POST when a GET would be too long ---------------------------------------------------------

#[test]
fn a_url_over_the_limit_goes_as_post_with_its_query_as_the_form_body() {
    let q = Qualys::new(60, 2);
    let (ids, chosen) = long_ids(&q, 2600);
    for source in ["detections", "hosts"] {
        let url = if source == "hosts" { HOSTS_URL } else { DET_URL };
        let run = drive(&params(source, &format!("{url}&ids={ids}"), &[("batchSize", "7")]), &Tokens::default(), |s| {
            ok(q.answer(s))
        });
        let summary = run.outcome.clone().unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(hosts_of(source, &run.output), chosen, "{source}: exactly the chosen hosts, each once, in order");
        assert_eq!(u64::from(summary.pages), (chosen.len() as u64).div_ceil(7), "{source}");
        for s in &run.sent {
            assert_eq!(s.method, Method::Post, "{source} request {}", s.n);
            assert!(!s.url.contains('?'), "{source}: the POST URL carries no query: {}", s.url);
            let body = s.body.as_deref().expect("a form body");
            assert!(body.starts_with("action=list&vm_scan_since=1970-01-09T00:00:00Z&ids="), "{source}: {body:.80}");
            assert!(body.contains("truncation_limit=7"), "{source}");
            assert!(
                s.headers.iter().any(|(k, v)| k == "Content-Type" && v == "application/x-www-form-urlencoded"),
                "{source}: {:?}",
                s.headers
            );
            assert!(!body.contains(PASSWORD) && !body.contains("alice"), "{source}: no credentials in the body");
            assert!(s.headers.iter().any(|(k, v)| k == "Authorization" && v.starts_with("Basic ")));
        }
        // The next pages' queries (from the WARNING URLs) travel in the body too.
        assert!(run.sent.iter().skip(1).all(|s| s.body.as_deref().is_some_and(|b| b.contains("&id_min="))));
        assert_eq!(run.logs.iter().filter(|(_, t)| t.contains("httpMethod=auto: a request URL is")).count(), 1);
    }
}

#[test]
fn short_urls_stay_get_as_the_old_script_sent_them() {
    let q = Qualys::new(20, 1);
    let run = drive(&params("detections", DET_URL, &[("batchSize", "6")]), &Tokens::default(), |s| ok(q.answer(s)));
    run.outcome.clone().expect("success");
    assert!(run.sent.iter().all(|s| s.method == Method::Get && s.body.is_none() && s.url.contains('?')));
    assert!(run.sent.iter().all(|s| !s.headers.iter().any(|(k, _)| k == "Content-Type")));
    assert_eq!(hosts_of("detections", &run.output), q.hosts);
}

#[test]
fn a_414_switches_an_auto_run_to_post_for_the_page_and_the_rest_without_a_retry() {
    let q = Qualys::new(20, 1);
    for max_retry in ["0", "1"] {
        let run = drive(
            &params("detections", DET_URL, &[("batchSize", "6"), ("maxRetry", max_retry)]),
            &Tokens::default(),
            |s| {
                if s.method == Method::Get {
                    Reply::Whole {
                        status: 414,
                        body: "<html><body>414 Request-URI Too Long</body></html>".into(),
                        ms: 5,
                    }
                } else {
                    ok(q.answer(s))
                }
            },
        );
        let summary = run.outcome.clone().unwrap_or_else(|e| panic!("maxRetry={max_retry}: {e}"));
        assert_eq!(hosts_of("detections", &run.output), q.hosts);
        assert_eq!(summary.retries, 0, "a switch to POST is not a retry");
        assert_eq!(run.sent[0].method, Method::Get);
        assert!(run.sent[1..].iter().all(|s| s.method == Method::Post), "the page again, then every later one, POST");
        assert_eq!(run.sent[1].body.as_deref(), run.sent[0].url.split_once('?').map(|(_, q)| q), "same query");
        assert_eq!(run.sent.len(), 1 + 4, "one refused GET, then 4 pages");
        assert_eq!(run.warns("HTTP 414"), 1);
    }
}

#[test]
fn http_method_get_fails_clearly_after_a_414_and_post_always_posts() {
    let q = Qualys::new(10, 1);
    let (ids, chosen) = long_ids(&q, 3000);
    let url = format!("{DET_URL}&ids={ids}");
    let run = drive(&params("detections", &url, &[("httpMethod", "GET")]), &Tokens::default(), |s| {
        if s.url.len() > 2048 {
            Reply::Whole { status: 414, body: "<html>URI Too Long</html>".into(), ms: 5 }
        } else {
            ok(q.answer(s))
        }
    });
    let e = run.outcome.clone().expect_err("must fail");
    assert_eq!(e.code(), ErrorCode::UrlTooLong);
    assert_eq!(e.blame(), qualys_vm_transporter::Blame::Configuration);
    assert!(!e.is_retryable());
    assert!(e.message().contains("httpMethod"), "{e}");
    assert!(e.message().contains("414"), "{e}");
    assert_eq!(run.sent.len(), 1, "no retry");
    assert!(run.warns("httpMethod=GET: the detectionUrl URL is") == 1, "{:?}", run.logs);
    // httpMethod=GET with a server that accepts long URLs: GET all the way.
    let run = drive(&params("detections", &url, &[("httpMethod", "GET")]), &Tokens::default(), |s| ok(q.answer(s)));
    run.outcome.clone().expect("success");
    assert!(run.sent.iter().all(|s| s.method == Method::Get));
    assert_eq!(hosts_of("detections", &run.output), chosen);
    // httpMethod=POST: every request, also a short one, also the discovery of parallel ranges.
    for source in ["detections", "hosts", "kb"] {
        let url = match source {
            "hosts" => HOSTS_URL,
            "kb" => KB_URL,
            _ => DET_URL,
        };
        let extra: &[(&str, &str)] =
            &[("httpMethod", "POST"), ("batchSize", "3"), ("concurrency", "2"), ("kbChunkSize", "9")];
        let run = drive(&params(source, url, extra), &Tokens::default(), |s| ok(q.answer(s)));
        run.outcome.clone().unwrap_or_else(|e| panic!("{source}: {e}"));
        assert!(run.sent.iter().all(|s| s.method == Method::Post && !s.url.contains('?')), "{source}");
        assert!(run.sent[0].body.as_deref().is_some_and(|b| b.contains("details=None")), "{source}: discovery as POST");
        let want: Vec<u64> = if source == "kb" { QIDS.collect() } else { q.hosts.clone() };
        let mut got = hosts_of(source, &run.output);
        got.sort_unstable();
        assert_eq!(got, want, "{source}");
    }
}

#[test]
fn a_post_run_resumes_from_its_checkpoint_like_a_get_run() {
    let q = Qualys::new(30, 1);
    let (ids, chosen) = long_ids(&q, 2500);
    let url = format!("{DET_URL}&ids={ids}");
    let tokens = Tokens { last_run_time: Some("2024-03-15T00:00:00Z".into()), previous_run_context: None };
    let p = params("detections", &url, &[("batchSize", "4"), ("maxRetry", "0")]);
    let run1 = drive(&p, &tokens, |s| {
        if s.n == 3 {
            Reply::Whole { status: 503, body: "down".into(), ms: 5 }
        } else {
            ok(q.answer(s))
        }
    });
    assert_eq!(run1.outcome.expect_err("fails").code(), ErrorCode::Http5xx);
    assert!(!run1.checkpoint.is_empty());
    let tokens2 = Tokens { previous_run_context: Some(run1.checkpoint.clone()), ..tokens };
    let run2 = drive(&p, &tokens2, |s| ok(q.answer(s)));
    run2.outcome.expect("resumed run succeeds");
    assert!(run2.sent.iter().all(|s| s.method == Method::Post));
    let mut all = hosts_of("detections", &run1.output);
    all.extend(hosts_of("detections", &run2.output));
    assert_eq!(all, chosen, "each chosen host once across both runs");
}

// ---- adaptive page size ------------------------------------------------------------------------

/// Where a host's record starts in a document (a server stalling there has sent what precedes it).
fn record_start(doc: &str, host: u64) -> Option<usize> {
    doc.find(&format!("<HOST><ID>{host}</ID>"))
}

/// The `truncation_limit` and `id_min` of each request of a page fetch (not a lookup).
fn sizes(run: &Run) -> Vec<(u64, Option<u64>)> {
    run.sent
        .iter()
        .filter(|s| s.q("details").as_deref() != Some("None"))
        .map(|s| (s.num("truncation_limit").unwrap_or(0), s.num("id_min")))
        .collect()
}

#[test]
fn a_page_that_times_out_is_asked_again_for_half_as_many_hosts_and_later_pages_grow_back() {
    let q = Qualys::new(40, 2);
    // Slow in proportion to the page: 70 s per host, the idle limit 300 s: 4 hosts fit, 8 do not.
    for source in ["detections", "hosts"] {
        let url = if source == "hosts" { HOSTS_URL } else { DET_URL };
        let run = drive(&params(source, url, &[("batchSize", "8"), ("maxRetry", "0")]), &Tokens::default(), |s| {
            let n = q.page(s).0.len() as i64;
            if n * 70_000 > 300_000 {
                Reply::Timeout { body: None, bytes: 0, ms: 300_000 }
            } else {
                Reply::Whole { status: 200, body: q.answer(s), ms: n * 70_000 }
            }
        });
        let summary = run.outcome.clone().unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(hosts_of(source, &run.output), q.hosts, "{source}: every host once, in order");
        let sz = sizes(&run);
        // 8 times out, the same place asked for 4; the next page asks for 8 again (doubled), ...
        for w in sz.windows(2) {
            if w[0].0 == 8 {
                assert_eq!(w[1], (4, w[0].1), "{source}: half as many hosts from the same id_min: {sz:?}");
            }
        }
        assert_eq!(sz.iter().filter(|x| x.0 == 8).count(), 10, "{source}: every page first tried at batchSize: {sz:?}");
        // The last page holds only 4 hosts: it needs no smaller retry.
        assert_eq!(sz.iter().filter(|x| x.0 == 4).count(), 9, "{source}: {sz:?}");
        assert_eq!(summary.retries, 9, "{source}: each smaller page is a retry, none counted against maxRetry=0");
        assert_eq!(run.warns("asking again for 4 hosts instead of 8"), 9, "{source}");
    }
    // One slow page: the run is back at batchSize right after it.
    let run = drive(&params("detections", DET_URL, &[("batchSize", "8")]), &Tokens::default(), |s| {
        if s.n == 2 || s.n == 3 {
            Reply::Timeout { body: None, bytes: 0, ms: 300_000 }
        } else {
            ok(q.answer(s))
        }
    });
    run.outcome.clone().expect("success");
    assert_eq!(hosts_of("detections", &run.output), q.hosts);
    let sz = sizes(&run);
    let p2 = sz[1].1;
    assert_eq!(&sz[..6], &[(8, None), (8, p2), (4, p2), (2, p2), (4, sz[4].1), (8, sz[5].1)], "{sz:?}");
    assert!(sz[6..].iter().all(|x| x.0 == 8), "{sz:?}");
    assert!(run.log_has("the next pages ask for 8 again"));
}

#[test]
fn server_errors_shrink_the_page_from_the_second_in_a_row_and_max_retry_zero_still_fails_on_the_first() {
    let q = Qualys::new(30, 1);
    // Qualys answers 503 for any page of more than 2 hosts.
    let serve = |s: &Sent| {
        if q.page(s).0.len() > 2 {
            Reply::Whole { status: 503, body: "<html>Service Unavailable</html>".into(), ms: 10 }
        } else {
            ok(q.answer(s))
        }
    };
    let run = drive(&params("hosts", HOSTS_URL, &[("batchSize", "8"), ("maxRetry", "1")]), &Tokens::default(), serve);
    run.outcome.clone().expect("success");
    assert_eq!(hosts_of("hosts", &run.output), q.hosts);
    let sz = sizes(&run);
    // page 1: 8 (503, retry 1 of 1), 8 (503 again: shrink), 4 (503: shrink), 2 (done); page 2 asks for 4 ...
    assert_eq!(&sz[..5], &[(8, None), (8, None), (4, None), (2, None), (4, sz[4].1)], "{sz:?}");
    assert_eq!(
        run.warns("failed again with a server error"),
        run.sent.len() - 1 - run.warns("retry 1 of 1") - 14,
        "{sz:?}"
    );
    // maxRetry=0: the first 503 fails the run, as before.
    let run = drive(&params("hosts", HOSTS_URL, &[("batchSize", "8"), ("maxRetry", "0")]), &Tokens::default(), serve);
    assert_eq!(run.outcome.clone().expect_err("fails").code(), ErrorCode::Http5xx);
    assert_eq!(run.sent.len(), 1);
    // A reset connection is no matter of size: never a smaller page.
    let run = drive(&params("hosts", HOSTS_URL, &[("batchSize", "8"), ("maxRetry", "2")]), &Tokens::default(), |s| {
        if s.n <= 2 {
            Reply::Whole { status: 200, body: q.answer(s)[..200].to_string(), ms: 10 }
        } else {
            ok(q.answer(s))
        }
    });
    run.outcome.clone().expect("success");
    assert!(sizes(&run).iter().all(|x| x.0 == 8), "{:?}", sizes(&run));
}

/// A server on which `stalled` hosts never arrive: a page holding one sends what precedes it, then
/// nothing until the idle limit (300 s).
fn stalling<'a>(q: &'a Qualys, stalled: &'a [u64]) -> impl FnMut(&Sent) -> Reply + 'a {
    move |s: &Sent| {
        let doc = q.answer(s);
        let (page, _) = q.page(s);
        let lookup = s.q("details").as_deref() == Some("None");
        match stalled.iter().find(|h| page.contains(h)).filter(|_| !lookup) {
            Some(h) => Reply::Timeout { bytes: record_start(&doc, *h).unwrap_or(0), body: Some(doc), ms: 300_000 },
            None => ok(doc),
        }
    }
}

#[test]
fn a_host_that_cannot_be_delivered_even_alone_fails_the_run_naming_it_with_the_checkpoint_kept() {
    let q = Qualys::new(30, 2);
    let bad = q.hosts[13];
    for (source, extra) in [
        ("hosts", vec![]),
        ("detections", vec![]),
        ("hosts", vec![("concurrency", "2")]),
        ("detections", vec![("concurrency", "2")]),
    ] {
        let url = if source == "hosts" { HOSTS_URL } else { DET_URL };
        let mut p = vec![("batchSize", "8"), ("maxRetry", "1")];
        p.extend(extra.iter().copied());
        let label = format!("{source} {extra:?}");
        let run = drive(&params(source, url, &p), &Tokens::default(), stalling(&q, &[bad]));
        let e = run.outcome.clone().expect_err("fails");
        assert_eq!(e.code(), ErrorCode::HostStalled, "{label}: {e}");
        assert_eq!(e.blame(), qualys_vm_transporter::Blame::Server);
        assert!(e.message().contains(&format!("host ID {bad}")), "{label}: {e}");
        assert!(e.message().contains("skipStalledHosts=True"), "{label}: {e}");
        let before: Vec<u64> = q.hosts.iter().copied().filter(|h| *h < bad).collect();
        let got = hosts_of(source, &run.output);
        if extra.is_empty() {
            assert_eq!(got, before, "{label}: every host before it, once");
        } else {
            // Parallel ranges: the other windows went on meanwhile.
            let mut sorted = got.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), got.len(), "{label}: no host twice");
            assert!(before.iter().all(|h| got.contains(h)) && !got.contains(&bad), "{label}: {got:?}");
        }
        assert!(!run.checkpoint.is_empty(), "{label}: the checkpoint is kept");
        let lookups: Vec<&Sent> = run
            .sent
            .iter()
            .filter(|s| s.q("truncation_limit").as_deref() == Some("1") && s.q("details").as_deref() == Some("None"))
            .collect();
        if extra.is_empty() {
            assert_eq!(lookups.len(), 1, "{label}: one host-list lookup");
            assert!(lookups[0].target.contains("/fo/asset/host/?"), "{label}: {}", lookups[0].target);
            // The retries of the stalled page start after the last host written (q.hosts[12]).
            assert_eq!(
                lookups[0].num("id_min"),
                Some(q.hosts[12] + 1),
                "{label}: from where the page of one host started"
            );
        } else {
            assert!(lookups.is_empty(), "{label}: the discovery named it");
        }
        // The detection APIs confirm with a page narrowed to the host; the host list needs not.
        let probes = run.sent.iter().filter(|s| s.num("id_max") == Some(bad)).count();
        assert_eq!(probes, usize::from(source == "detections"), "{label}");
        // Bounded: batchSize 8 -> 4 -> 2 -> 1 (3 smaller pages), then maxRetry=1 at 1, the lookup
        // or probe; plus the pages before.
        assert!(run.sent.len() <= 2 + 1 + 3 + 2 + 2 + 2, "{label}: {} requests", run.sent.len());
        // The next run resumes before the host: once Qualys delivers it, nothing is missing.
        let tokens = Tokens { previous_run_context: Some(run.checkpoint.clone()), ..Tokens::default() };
        let run2 = drive(&params(source, url, &p), &tokens, |s| ok(q.answer(s)));
        run2.outcome.clone().unwrap_or_else(|e| panic!("{label}: resumed: {e}"));
        let mut all = hosts_of(source, &run.output);
        all.extend(hosts_of(source, &run2.output));
        all.sort_unstable();
        all.dedup();
        assert_eq!(all, q.hosts, "{label}: across both runs");
    }
}

#[test]
fn skip_stalled_hosts_skips_them_warns_lists_them_and_never_counts_them_as_written() {
    let q = Qualys::new(30, 2);
    let bad = [q.hosts[5], q.hosts[6], q.hosts[20]];
    for (source, extra) in [("hosts", vec![]), ("detections", vec![]), ("detections", vec![("concurrency", "3")])] {
        let url = if source == "hosts" { HOSTS_URL } else { DET_URL };
        let mut p = vec![("batchSize", "8"), ("maxRetry", "0"), ("skipStalledHosts", "True")];
        p.extend(extra.iter().copied());
        let label = format!("{source} {extra:?}");
        let run = drive(&params(source, url, &p), &Tokens::default(), stalling(&q, &bad));
        let summary = run.outcome.clone().unwrap_or_else(|e| panic!("{label}: {e}"));
        let want: Vec<u64> = q.hosts.iter().copied().filter(|h| !bad.contains(h)).collect();
        let mut got = hosts_of(source, &run.output);
        got.sort_unstable();
        assert_eq!(got, want, "{label}: every other host once");
        let mut skipped = summary.stalled_hosts_skipped.clone();
        skipped.sort_unstable();
        assert_eq!(skipped, bad, "{label}: listed in the summary");
        assert_eq!(summary.warnings.get("stalledHost"), Some(&3), "{label}");
        for h in bad {
            assert_eq!(run.warns(&format!("host ID {h} even in a page of its own")), 1, "{label}: one WARN for {h}");
        }
        assert!(
            run.log_has(&format!("stalled hosts skipped (not written): {}", bad[0])) || extra.len() == 1,
            "{label}: in the done line"
        );
    }
    // A run that fails after skipping a host leaves a checkpoint before that host: a resumed run
    // tries it again (and gets it once Qualys delivers it).
    let p = params("hosts", HOSTS_URL, &[("batchSize", "8"), ("maxRetry", "0"), ("skipStalledHosts", "True")]);
    let mut stall = stalling(&q, &bad[..1]);
    let run = drive(&p, &Tokens::default(), |s| {
        if s.num("id_min").is_some_and(|m| m > q.hosts[15]) {
            Reply::Whole { status: 200, body: q.answer(s)[..300].to_string(), ms: 10 }
        } else {
            stall(s)
        }
    });
    assert_eq!(run.outcome.clone().expect_err("fails later").code(), ErrorCode::TruncatedPage);
    let written = hosts_of("hosts", &run.output);
    assert!(written.contains(&q.hosts[10]) && !written.contains(&bad[0]), "{written:?}");
    let tokens = Tokens { previous_run_context: Some(run.checkpoint.clone()), ..Tokens::default() };
    let run2 = drive(&p, &tokens, |s| ok(q.answer(s)));
    run2.outcome.clone().expect("resumed");
    let again = hosts_of("hosts", &run2.output);
    assert_eq!(again.first(), Some(&bad[0]), "the resumed run starts at the skipped host: {again:?}");
    let mut all = written.clone();
    all.extend(again);
    all.sort_unstable();
    all.dedup();
    assert_eq!(all, q.hosts);
}

#[test]
fn a_lookup_naming_a_host_without_detections_is_checked_before_any_host_is_blamed() {
    let mut q = Qualys::new(20, 1);
    let (bare, bad) = (q.hosts[8], q.hosts[9]);
    q.bare = vec![bare];
    // Pages of 3 detection hosts: the third holds q.hosts[6], [7] and the stalled [9] (8 has no
    // detection): its retries start after [7], where the host list names [8] first.
    let p = params("detections", DET_URL, &[("batchSize", "3"), ("maxRetry", "0"), ("skipStalledHosts", "True")]);
    let run = drive(&p, &Tokens::default(), stalling(&q, &[bad]));
    let summary = run.outcome.clone().expect("success");
    assert_eq!(summary.stalled_hosts_skipped, [bad], "the stalled host, not the one without detections");
    let want: Vec<u64> = q.detection_hosts().into_iter().filter(|h| *h != bad).collect();
    assert_eq!(hosts_of("detections", &run.output), want);
    // The lookup named the bare host first; the page narrowed to it completed (empty), so the run
    // went on after it and looked again.
    let narrowed: Vec<u64> = run.sent.iter().filter_map(|s| s.num("id_max")).collect();
    assert_eq!(narrowed, [bare, bad], "{:?}", run.sent.iter().map(|s| &s.target).collect::<Vec<_>>());
}

#[test]
fn a_lookup_that_fails_too_ends_the_run_with_the_page_failure_and_no_host_blamed() {
    let q = Qualys::new(12, 1);
    let p = params("hosts", HOSTS_URL, &[("batchSize", "4"), ("maxRetry", "1"), ("skipStalledHosts", "True")]);
    // Nothing answers any more after the first page (a dead proxy): every request times out.
    let run = drive(&p, &Tokens::default(), |s| {
        if s.n == 1 {
            ok(q.answer(s))
        } else {
            Reply::Timeout { body: None, bytes: 0, ms: 300_000 }
        }
    });
    let e = run.outcome.clone().expect_err("fails");
    assert_eq!(e.code(), ErrorCode::Network, "{e}");
    assert!(e.message().contains("host-list request to name its host failed too"), "{e}");
    assert!(run.summary.stalled_hosts_skipped.is_empty());
    // page 2: 4, 2, 1, 1 (maxRetry=1), then the lookup and its retry.
    assert_eq!(run.sent.len(), 1 + 4 + 2, "{:?}", sizes(&run));
    assert!(!run.checkpoint.is_empty());
}

#[test]
fn every_skipped_host_is_named_in_a_warning_and_the_summary_list_is_bounded() {
    let q = Qualys::new(90, 1);
    let bad: Vec<u64> = q.hosts[5..75].to_vec();
    let p = params("hosts", HOSTS_URL, &[("batchSize", "4"), ("maxRetry", "0"), ("skipStalledHosts", "True")]);
    let run = drive(&p, &Tokens::default(), stalling(&q, &bad));
    let summary = run.outcome.clone().expect("success");
    let want: Vec<u64> = q.hosts.iter().copied().filter(|h| !bad.contains(h)).collect();
    assert_eq!(hosts_of("hosts", &run.output), want);
    assert_eq!(summary.stalled_hosts_skipped, bad[..64].to_vec(), "the first 64, in order");
    assert_eq!(summary.warnings.get("stalledHost"), Some(&70));
    for h in &bad {
        assert_eq!(run.warns(&format!("host ID {h} even in a page of its own")), 1, "{h} named");
    }
    assert!(run.log_has("and 50 more (see the summary)"), "the done line lists 20");
}

#[test]
fn a_timeout_before_anything_answered_is_checked_with_one_small_request_before_any_page_shrinks() {
    let q = Qualys::new(20, 1);
    // Qualys answers, slowly: the first page times out, the check answers, the page shrinks.
    let run = drive(&params("hosts", HOSTS_URL, &[("batchSize", "8"), ("maxRetry", "0")]), &Tokens::default(), |s| {
        if q.page(s).0.len() > 4 && s.q("details").is_none() {
            Reply::Timeout { body: None, bytes: 0, ms: 300_000 }
        } else {
            ok(q.answer(s))
        }
    });
    run.outcome.clone().expect("success");
    assert_eq!(hosts_of("hosts", &run.output), q.hosts);
    let first: Vec<String> = run.sent.iter().take(3).map(|s| s.target.clone()).collect();
    assert!(first[0].ends_with("truncation_limit=8"), "{first:?}");
    assert!(first[1].contains("truncation_limit=1&details=None"), "the check: {first:?}");
    assert!(first[2].ends_with("truncation_limit=4"), "{first:?}");
    assert_eq!(
        run.sent.iter().filter(|s| s.q("details").is_some()).count(),
        1,
        "checked once: later timeouts shrink at once"
    );
    // Nothing answers at all (a dead proxy): the page and the check, then the run fails, with the
    // page's code, as fast as two attempts did before.
    for max_retry in ["0", "2"] {
        let run = drive(
            &params("detections", DET_URL, &[("batchSize", "8"), ("maxRetry", max_retry)]),
            &Tokens::default(),
            |_| Reply::Timeout { body: None, bytes: 0, ms: 300_000 },
        );
        let e = run.outcome.clone().expect_err("fails");
        assert_eq!(e.code(), ErrorCode::Network, "{e}");
        assert!(e.message().contains("nothing answers"), "{e}");
        assert_eq!(
            run.sent.len(),
            2,
            "maxRetry={max_retry}: {:?}",
            run.sent.iter().map(|s| &s.target).collect::<Vec<_>>()
        );
        assert!(run.sent[1].target.contains("/fo/asset/host/?") && run.sent[1].q("details").as_deref() == Some("None"));
        assert!(run.summary.stalled_hosts_skipped.is_empty());
    }
}

// ---- compressed answers --------------------------------------------------------------------------

/// Runs one page whose answer the HTTP layer decoded: the head carries `encoding`, the body the
/// decoded bytes, and the layer reports `wire` compressed bytes (when it can).
fn one_compressed_page(encoding: Option<&str>, wire: Option<u64>) -> (Feed, Vec<(Level, String)>, Summary) {
    let q = Qualys::new(3, 1);
    let now = 1_700_000_000_000;
    let mut feed = Feed::new(&params("hosts", HOSTS_URL, &[]), &Tokens::default(), now).expect("valid");
    let Action::Send(req) = feed.poll(now) else { panic!("a request") };
    let body = q.answer(&Sent::of(&req, 1, now));
    let headers: Vec<(String, String)> =
        encoding.iter().map(|e| ("Content-Encoding".to_string(), e.to_string())).collect();
    feed.handle_response_head(req.id, now, 200, &headers);
    assert!(feed.handle_body(req.id, body.as_bytes()));
    if let Some(w) = wire {
        feed.handle_wire_bytes(req.id, w);
    }
    feed.handle_response_end(req.id, now + 10);
    let Action::Done(s) = feed.poll(now + 10) else { panic!("done") };
    let mut logs = vec![];
    while let Some(l) = feed.take_log() {
        logs.push((l.level, l.text));
    }
    (feed, logs, s)
}

#[test]
fn byte_counts_say_which_side_they_measure_and_a_compressed_answer_is_said_once() {
    // Uncompressed: what the parser read is what came over the wire; the log lines as before.
    let (_, logs, s) = one_compressed_page(None, None);
    assert!(s.bytes_in > 300);
    assert_eq!(s.bytes_wire, Some(s.bytes_in));
    assert!(logs.iter().any(|(_, t)| t.contains("Qualys answered uncompressed")), "{logs:?}");
    let done = &logs.iter().find(|(_, t)| t.starts_with("done: ")).expect("done line").1;
    assert!(!done.contains("wire"), "{done}");
    // gzip, decoded by the client, which reports the compressed size.
    let (_, logs, s) = one_compressed_page(Some("gzip"), Some(123));
    assert_eq!(s.bytes_wire, Some(123));
    assert_eq!(
        logs.iter().filter(|(_, t)| t.contains("Qualys answered compressed (Content-Encoding: gzip")).count(),
        1
    );
    let done = &logs.iter().find(|(_, t)| t.starts_with("done: ")).expect("done line").1;
    assert!(done.contains("MB decoded (0.0 MB on the wire)"), "{done}");
    // A client that decodes inside and cannot tell the compressed size (fetch without a length).
    let (_, logs, s) = one_compressed_page(Some("GZIP"), None);
    assert_eq!(s.bytes_wire, None);
    let done = &logs.iter().find(|(_, t)| t.starts_with("done: ")).expect("done line").1;
    assert!(done.contains("wire size unknown"), "{done}");
    // "identity" is no compression.
    let (_, _, s) = one_compressed_page(Some("identity"), None);
    assert_eq!(s.bytes_wire, Some(s.bytes_in));
}

#[test]
fn a_decompression_bomb_reported_by_the_http_layer_fails_the_run_without_a_retry() {
    let q = Qualys::new(12, 1);
    let now = 1_700_000_000_000;
    let mut feed =
        Feed::new(&params("hosts", HOSTS_URL, &[("batchSize", "4"), ("maxRetry", "2")]), &Tokens::default(), now)
            .expect("valid");
    let mut sent = 0;
    loop {
        match feed.poll(now) {
            Action::Send(req) => {
                sent += 1;
                if sent == 2 {
                    feed.handle_response_head(req.id, now, 200, &[("Content-Encoding".into(), "gzip".into())]);
                    feed.handle_transport_error(
                        req.id,
                        now,
                        "DECOMPRESSED_TOO_LARGE",
                        "decoded to more than 100 times its compressed size",
                    );
                } else {
                    feed.handle_response_head(req.id, now, 200, &[]);
                    feed.handle_body(req.id, q.answer(&Sent::of(&req, sent, now)).as_bytes());
                    feed.handle_response_end(req.id, now);
                }
            }
            Action::Fail(e) => {
                assert_eq!(e.code(), ErrorCode::DecompressedTooLarge);
                assert_eq!(e.blame(), qualys_vm_transporter::Blame::Server);
                assert!(!e.is_retryable());
                assert!(e.message().contains("100 times"), "{e}");
                assert_eq!(sent, 2, "no retry");
                assert!(
                    feed.checkpoint_now().starts_with("qvt2;ds=hosts;"),
                    "the checkpoint is kept: {}",
                    feed.checkpoint_now()
                );
                return;
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn wire_and_decoded_bytes_add_up_over_compressed_and_plain_pages_and_a_damaged_stream_is_retried() {
    let q = Qualys::new(12, 1);
    let now = 1_700_000_000_000;
    let mut feed =
        Feed::new(&params("hosts", HOSTS_URL, &[("batchSize", "4"), ("maxRetry", "1")]), &Tokens::default(), now)
            .expect("valid");
    let (mut sent, mut decoded, mut wire) = (0usize, 0u64, 0u64);
    let mut polls = 0;
    let mut now = now;
    let summary = loop {
        polls += 1;
        assert!(polls < 200, "bounded");
        match feed.poll(now) {
            Action::Send(req) => {
                sent += 1;
                let body = q.answer(&Sent::of(&req, sent, now));
                match sent {
                    // Page 2's gzip stream is damaged half-way: the HTTP layer reports EDECOMPRESS.
                    2 => {
                        feed.handle_response_head(req.id, now, 200, &[("Content-Encoding".into(), "gzip".into())]);
                        let half = &body.as_bytes()[..body.len() / 2];
                        feed.handle_wire_bytes(req.id, 40);
                        assert!(feed.handle_body(req.id, half));
                        decoded += half.len() as u64;
                        wire += 40;
                        feed.handle_transport_error(
                            req.id,
                            now,
                            "EDECOMPRESS",
                            "the compressed answer could not be decoded (invalid block type): it is cut off or damaged",
                        );
                    }
                    // Odd requests come compressed, reported in two wire pieces; the others plain.
                    n if n % 2 == 1 => {
                        feed.handle_response_head(req.id, now, 200, &[("content-encoding".into(), " gzip ".into())]);
                        feed.handle_wire_bytes(req.id, 100);
                        assert!(feed.handle_body(req.id, body.as_bytes()));
                        feed.handle_wire_bytes(req.id, 23);
                        feed.handle_response_end(req.id, now);
                        decoded += body.len() as u64;
                        wire += 123;
                    }
                    _ => {
                        feed.handle_response_head(req.id, now, 200, &[]);
                        assert!(feed.handle_body(req.id, body.as_bytes()));
                        feed.handle_response_end(req.id, now);
                        decoded += body.len() as u64;
                        wire += body.len() as u64;
                    }
                }
            }
            Action::Wait { ms, .. } => now += i64::try_from(ms).expect("small"),
            Action::Pending => panic!("nothing is in flight"),
            Action::Done(s) => break s,
            Action::Fail(e) => panic!("{e}"),
        }
    };
    assert_eq!(summary.records, 12);
    assert_eq!(summary.retries, 1, "the damaged page was fetched again");
    assert_eq!(summary.bytes_in, decoded, "what the parser read, decoded");
    assert_eq!(summary.bytes_wire, Some(wire), "what came over the wire");
    let mut logs = vec![];
    while let Some(l) = feed.take_log() {
        logs.push(l.text);
    }
    assert!(
        logs.iter().any(
            |t| t.contains("failed (NETWORK (network problem): a compressed answer arrived damaged (EDECOMPRESS: ")
        ),
        "{logs:?}"
    );
    assert_eq!(logs.iter().filter(|t| t.starts_with("Qualys answered ")).count(), 1, "{logs:?}");
    let done = logs.iter().find(|t| t.starts_with("done: ")).expect("done line");
    assert!(done.contains(&format!(" MB decoded ({:.1} MB on the wire) out=", wire as f64 / 1_048_576.0)), "{done}");
}

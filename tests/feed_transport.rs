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
    #[allow(dead_code)] // read by the adaptive page size tests
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
    #[allow(dead_code)] // used by the adaptive page size tests
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
    #[allow(dead_code)] // used by the adaptive page size tests
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
}

impl Qualys {
    fn new(n: u64, per_host: u64) -> Qualys {
        Qualys { hosts: (0..n).map(|i| 1000 + i * 7 + (i % 3)).collect(), per_host }
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
        self.hosts
            .iter()
            .copied()
            .filter(|h| *h >= lo && *h <= hi && ids.as_ref().is_none_or(|l| l.contains(h)))
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

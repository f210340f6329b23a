//! Bounded, deterministic fuzzing on stable Rust: mutations of `ResponseParser` inputs, and the
//! whole `Feed` driven by a hostile server.
//!
//! Parser: each real fixture (and a few hand-made edge documents) mutated with seeded random
//! operations (bit flips, inserted `<`, `&`, `]]>`, `<!--`, CDATA openers, references, bytes above
//! 0x7F, truncation, duplicated and deleted ranges), then parsed whole and in random chunks, with a
//! random record cap now and then. The only properties checked: nothing panics, and the chunked
//! parse gives the same items and the same result (error code and message) as the whole parse.
//! Out of scope: what the items are (tests/response_fixtures.rs checks that on unmutated inputs).
//!
//! 3,000 iterations by default (a few seconds in a debug build); set `FUZZ_ITERATIONS` to run more,
//! and `FUZZ_SEED` to start from another seed. A failure prints the seed and the mutated input.
//! The same property runs under libFuzzer in fuzz/fuzz_targets/response_parser.rs (nightly).
//!
//! Feed: a random configuration (data source, batchSize, concurrency, kbChunkSize, retries, wait
//! budget, a resume checkpoint) against a server whose every answer is random: statuses (1xx, 0,
//! 65535, 202, 409 with any SECONDS_TO_WAIT, 429, 5xx, ...), headers (X-RateLimit-ToWait-Sec,
//! Retry-After, X-Concurrency-Limit-Limit up to u64::MAX and beyond), discoveries (ID_RANGE
//! 0-u64::MAX, reversed ranges, junk), records (repeated, unsorted, out of range, without ID) and
//! WARNING URLs (lower, equal, missing, junk `id_min`, repeats, foreign hosts, whitespace). For its
//! first requests the server may make progress; then it only repeats itself. Checked: nothing
//! panics, the run ends (one Done or Fail) within a bounded number of requests, and no record ID
//! is written twice. 300 runs by default (`FEED_FUZZ_ITERATIONS`, `FUZZ_SEED`).

use std::panic::{catch_unwind, AssertUnwindSafe};

mod common;

use common::{random_chunks, run, XorShift};
use qualys_vm_transporter::response::{DocKind, Limits};

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real/");

const INSERTS: &[&[u8]] = &[
    b"<",
    b"&",
    b"]]>",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"</",
    b">",
    b"<!",
    b"<?",
    b"?>",
    b"&amp;",
    b"&#x41;",
    b"&foo;",
    b"&#0;",
    b"\r",
    b"\r\n",
    b"/>",
    b"\"",
    b"<X>",
    b"</X>",
    b"<!DOCTYPE x [",
    b"\xEF\xBB\xBF",
];

fn mutate(doc: &[u8], rng: &mut XorShift) -> Vec<u8> {
    let mut d = doc.to_vec();
    let ops = 1 + rng.below(4);
    for _ in 0..ops {
        let len = d.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 => {
                if at < len {
                    d[at] ^= 1 << rng.below(8);
                }
            }
            1 | 2 => {
                let ins = INSERTS[rng.below(INSERTS.len())];
                d.splice(at..at, ins.iter().copied());
            }
            3 => {
                let n = 1 + rng.below(4);
                let bytes: Vec<u8> = (0..n).map(|_| 0x80 | rng.below(0x80) as u8).collect();
                d.splice(at..at, bytes);
            }
            4 => d.truncate(at),
            5 => {
                let end = (at + 1 + rng.below(200)).min(len);
                if at < end {
                    let copy = d[at..end].to_vec();
                    let to = rng.below(d.len() + 1);
                    d.splice(to..to, copy);
                }
            }
            6 => {
                let end = (at + 1 + rng.below(50)).min(len);
                if at < end {
                    d.drain(at..end);
                }
            }
            7 => {
                if at < len {
                    d[at] = rng.below(256) as u8;
                }
            }
            _ => {
                // Replace one byte with a markup character.
                if at < len {
                    const MARKUP: &[u8] = b"<>&;![]-?/\"'=";
                    d[at] = MARKUP[rng.below(MARKUP.len())];
                }
            }
        }
    }
    d
}

fn corpus() -> Vec<(String, DocKind, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(REAL)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".xml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut corpus: Vec<(String, DocKind, Vec<u8>)> = names
        .into_iter()
        .filter_map(|name| {
            let kind = if name.contains("_kb_") {
                DocKind::KnowledgeBase
            } else if name.contains("host_list_") && !name.contains("detections") {
                DocKind::HostList
            } else {
                DocKind::Detections
            };
            std::fs::read(format!("{REAL}{name}")).ok().map(|doc| (name, kind, doc))
        })
        .collect();
    assert!(corpus.len() >= 14, "fixtures missing: {}", corpus.len());
    let extra: [(&str, DocKind, &[u8]); 3] = [
        (
            "paging",
            DocKind::HostList,
            b"<?xml version=\"1.0\"?><HOST_LIST_OUTPUT><RESPONSE><ID_SET><ID>1</ID><ID_RANGE>3-9</ID_RANGE></ID_SET><HOST_LIST><HOST><ID>1</ID><T a=\"x&amp;y\">&lt;&#233;</T></HOST></HOST_LIST><WARNING><CODE>1980</CODE><TEXT>more</TEXT><URL><![CDATA[https://q/?a=1&id_min=2]]></URL></WARNING></RESPONSE></HOST_LIST_OUTPUT>",
        ),
        (
            "generic",
            DocKind::KnowledgeBase,
            b"<GENERIC_RETURN><API name=\"x\" at=\"2020\"/><RETURN status=\"FAILED\" number=\"999\">Internal error</RETURN></GENERIC_RETURN><!-- sig -->",
        ),
        ("html", DocKind::Detections, b"<!DOCTYPE html><html><head><title>502</title></head><body>Bad gateway</body></html>"),
    ];
    corpus.extend(extra.into_iter().map(|(n, k, d)| (n.to_string(), k, d.to_vec())));
    corpus
}

#[test]
fn mutated_fixtures_never_panic_and_chunking_never_changes_the_result() {
    let iterations: usize = std::env::var("FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let base_seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED);
    let corpus = corpus();
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for iteration in 0..iterations {
        let seed = base_seed.wrapping_add(iteration as u64);
        let mut rng = XorShift::new(seed);
        // The large KB fixture is 82 kB: pick it less often to keep the run short.
        let mut pick = rng.below(corpus.len());
        if corpus[pick].2.len() > 50_000 && rng.below(4) != 0 {
            pick = rng.below(corpus.len());
        }
        let (name, kind, doc) = &corpus[pick];
        let input = mutate(doc, &mut rng);
        let limits =
            if rng.below(5) == 0 { Limits { max_record_bytes: 64 + rng.below(4000) } } else { Limits::default() };
        let max_chunk = [1, 2, 7, 64, 1000, 100_000][rng.below(6)];
        let checked = catch_unwind(AssertUnwindSafe(|| {
            let want = run(*kind, limits, [&input[..]]);
            let got = run(*kind, limits, random_chunks(&input, &mut rng, max_chunk));
            (want, got)
        }));
        let show = || {
            let text = String::from_utf8_lossy(&input);
            let shown: String = text.chars().take(3000).collect();
            format!("iteration {iteration} (FUZZ_SEED={base_seed}), fixture {name}, cap {limits:?}, chunks <= {max_chunk}, input:\n{shown}")
        };
        match checked {
            Err(_) => panic!("parser panicked: {}", show()),
            Ok((want, got)) => {
                if want != got {
                    panic!(
                        "chunked parse differs from whole parse: whole {:?} / chunked {:?}; {}",
                        want.result,
                        got.result,
                        show()
                    );
                }
                let code = want.result.as_ref().err().map_or("ok".to_string(), |(c, _)| c.clone());
                *codes.entry(code).or_default() += 1;
            }
        }
    }
    println!("outcomes over {iterations} mutated inputs: {codes:?}");
}

// -------------------------------------------------------------------------------------------------
// The feed against a hostile server.

use qualys_vm_transporter::feed::{Action, Feed, Tokens};
use qualys_vm_transporter::request::Request;

/// Requests a hostile server may answer with progress (new IDs, advancing pages) before it only
/// repeats itself; the feed must then end within [`REQUEST_BOUND`] requests in all.
const PROGRESS_REQUESTS: usize = 40;
const REQUEST_BOUND: usize = 3_000;

struct Hostile {
    rng: XorShift,
    source: &'static str,
    served: usize,
    next_id: u64,
    /// IDs already sent (a non-progressing server only repeats these).
    pool: Vec<u64>,
    /// Mostly well-behaved (long runs that reach the repeating phase) rather than hostile at
    /// every turn.
    mild: bool,
}

enum Delivery {
    Whole,
    /// Connection reset after this many bytes.
    Reset(usize),
    /// Clean end after this many bytes.
    Cut(usize),
    /// Transport failure before the head.
    NoHead,
}

impl Hostile {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.rng.below(100) < percent
    }

    fn number_text(&mut self) -> String {
        match self.rng.below(10) {
            0 => "18446744073709551615".to_string(),
            1 => "18446744073709551616".to_string(),
            2 => "9223372036854775807".to_string(),
            3 => "-1".to_string(),
            4 => "abc".to_string(),
            5 => String::new(),
            6 => "0".to_string(),
            _ => self.rng.below(100).to_string(),
        }
    }

    fn headers(&mut self) -> Vec<(String, String)> {
        let mut h = Vec::new();
        for name in ["X-RateLimit-Remaining", "X-RateLimit-ToWait-Sec", "Retry-After", "X-Concurrency-Limit-Limit"] {
            if self.chance(25) {
                let v = if name == "X-RateLimit-Remaining" && self.chance(50) {
                    "0".to_string()
                } else {
                    self.number_text()
                };
                h.push((name.to_string(), v));
            }
        }
        h
    }

    fn id(&mut self, progress: bool) -> Option<u64> {
        if progress && self.chance(8) {
            return None; // a record without an ID
        }
        if !progress || (!self.pool.is_empty() && self.chance(30)) {
            return Some(if self.pool.is_empty() { 1 } else { *self.pick(&self.pool.clone()) });
        }
        let id = if self.chance(3) {
            u64::MAX - self.rng.below(3) as u64
        } else {
            self.next_id += 1 + self.rng.below(50) as u64;
            self.next_id
        };
        self.pool.push(id);
        Some(id)
    }

    fn discovery(&mut self, kb: bool) -> String {
        let root = if kb { "KNOWLEDGE_BASE_VULN_LIST_OUTPUT" } else { "HOST_LIST_OUTPUT" };
        let mut s = format!("<{root}><RESPONSE><ID_SET>");
        match self.rng.below(25) {
            0 | 1 => s.push_str("<ID_RANGE>0-18446744073709551615</ID_RANGE>"),
            2 => s.push_str(&format!("<ID_RANGE>{}-{}</ID_RANGE>", 1u64 << 41, u64::MAX)),
            3 => s.push_str("<ID>abc</ID><ID_RANGE>5-</ID_RANGE><ID_RANGE>-</ID_RANGE><ID>99999999999999999999</ID>"),
            _ => {
                // a plausible set: at most ~300 IDs, any order, overlapping, reversed ranges
                for _ in 0..self.rng.below(12) {
                    let a = self.rng.below(5000) as u64;
                    let b = a + self.rng.below(25) as u64;
                    if self.chance(50) {
                        s.push_str(&format!("<ID>{a}</ID>"));
                    } else if self.chance(97) {
                        s.push_str(&format!("<ID_RANGE>{a}-{b}</ID_RANGE>"));
                    } else {
                        s.push_str(&format!("<ID_RANGE>{}-{a}</ID_RANGE>", b + 1));
                    }
                }
            }
        }
        s.push_str(&format!("</ID_SET></RESPONSE></{root}>"));
        s
    }

    fn warning(&mut self, req: &Request) -> String {
        let base = req.url.split('?').next().unwrap_or(&req.url).to_string();
        let query = req.url.split_once('?').map_or("", |(_, q)| q).to_string();
        let cur: u64 =
            query.split('&').find_map(|kv| kv.strip_prefix("id_min=")).and_then(|v| v.parse().ok()).unwrap_or(0);
        let kept: Vec<&str> = query.split('&').filter(|kv| !kv.starts_with("id_min=")).collect();
        let id_min = match self.rng.below(if self.mild { 300 } else { 30 }) {
            0 => None,
            1 => Some(cur.to_string()),
            2 => Some(cur.saturating_sub(self.rng.below(10) as u64).to_string()),
            3 => Some(self.number_text()),
            4 => Some(u64::MAX.to_string()),
            // a coherent server: the next page starts after the IDs it served
            _ => Some(self.next_id.max(cur).saturating_add(1).to_string()),
        };
        let mut url = match self.rng.below(if self.mild { 600 } else { 60 }) {
            0 => "https://evil.example/api/2.0/fo/x/?action=list".to_string(),
            1 => "not a url at all".to_string(),
            2 | 3 => req.url.clone(),
            _ => format!("{base}?{}", kept.join("&")),
        };
        if let Some(v) = id_min {
            url.push_str(&format!("&id_min={v}"));
        }
        if self.chance(30) {
            url.push_str(&format!("&nonce={}", self.rng.next()));
        }
        let code = if self.chance(80) { "<CODE>1980</CODE>" } else { "" };
        if self.chance(5) {
            return format!("<WARNING>{code}<TEXT>limit</TEXT></WARNING>");
        }
        format!("<WARNING>{code}<TEXT>1000 record limit exceeded.</TEXT><URL>\n  <![CDATA[{url}]]>  \n</URL></WARNING>")
    }

    fn page(&mut self, req: &Request, progress: bool) -> String {
        let (root, record) = match self.source {
            "kb" => ("KNOWLEDGE_BASE_VULN_LIST_OUTPUT", "VULN"),
            "hosts" => ("HOST_LIST_OUTPUT", "HOST"),
            _ => ("HOST_LIST_VM_DETECTION_OUTPUT", "HOST"),
        };
        let list = if record == "VULN" { "VULN_LIST" } else { "HOST_LIST" };
        let mut s = format!("<{root}><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME><{list}>");
        for k in 0..self.rng.below(6) {
            let key = if record == "VULN" { "QID" } else { "ID" };
            let id = match self.id(progress) {
                Some(id) => format!("<{key}>{id}</{key}>"),
                None if self.chance(50) => format!("<{key}>x{k}</{key}>"),
                None => String::new(),
            };
            let dets = if self.source == "kb" || self.source == "hosts" {
                String::new()
            } else {
                "<DETECTION_LIST><DETECTION><QID>1</QID><PORT>80</PORT></DETECTION></DETECTION_LIST>".to_string()
            };
            s.push_str(&format!("<{record}>{id}<IP>10.0.0.{k}</IP>{dets}</{record}>"));
        }
        s.push_str(&format!("</{list}>"));
        if self.chance(if progress { 92 } else { 85 }) {
            s.push_str(&self.warning(req));
        }
        s.push_str(&format!("</RESPONSE></{root}>"));
        s
    }

    fn respond(&mut self, req: &Request) -> (u16, Vec<(String, String)>, String, Delivery) {
        self.served += 1;
        let progress = self.served <= PROGRESS_REQUESTS;
        let headers = self.headers();
        let body = if req.url.contains("details=None") {
            let kb = req.url.contains("knowledge_base");
            self.discovery(kb)
        } else {
            self.page(req, progress)
        };
        let (status, body) = if self.chance(if self.mild { 97 } else { 88 }) {
            (200, body)
        } else {
            match self.rng.below(12) {
                0 => (202, body),
                1 => {
                    let code = if self.chance(50) { 1960 } else { 1965 };
                    let wait = self.number_text();
                    (409, format!("<SIMPLE_RETURN><RESPONSE><CODE>{code}</CODE><TEXT>limit</TEXT><ITEM_LIST><ITEM><KEY>SECONDS_TO_WAIT</KEY><VALUE>{wait}</VALUE></ITEM></ITEM_LIST></RESPONSE></SIMPLE_RETURN>"))
                }
                2 => (429, String::new()),
                3 => (
                    500,
                    "<GENERIC_RETURN><RETURN status=\"FAILED\" number=\"999\">Internal error</RETURN></GENERIC_RETURN>"
                        .to_string(),
                ),
                4 => (503, "<html>busy</html>".to_string()),
                5 => (101, body),
                6 => (0, body),
                7 => (65535, body),
                8 => (302, String::new()),
                9 => (
                    200,
                    "<SIMPLE_RETURN><RESPONSE><CODE>2001</CODE><TEXT>expired</TEXT></RESPONSE></SIMPLE_RETURN>"
                        .to_string(),
                ),
                _ => (200, body),
            }
        };
        let len = body.len();
        let delivery = match self.rng.below(30) {
            0 => Delivery::NoHead,
            1 => Delivery::Reset(self.rng.below(len + 1)),
            2 => Delivery::Cut(self.rng.below(len + 1)),
            _ => Delivery::Whole,
        };
        (status, headers, body, delivery)
    }
}

/// IDs (as the plan reads them) of the records in the output, for sources with one record per ID.
fn output_ids(source: &str, output: &str) -> Vec<u64> {
    let marker = match source {
        "kb" => "<VULN><ARCHER_VULN_LINK>",
        "hosts" | "hostDetections" => "<HOST><ARCHER_DEVICE_LINK>",
        _ => return Vec::new(),
    };
    output.split(marker).skip(1).filter_map(|s| s.split('<').next()?.trim().parse().ok()).collect()
}

#[test]
fn a_hostile_server_never_panics_the_feed_nor_keeps_it_running() {
    let iterations: usize = std::env::var("FEED_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let base_seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED);
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    let mut most_requests = 0;
    for iteration in 0..iterations {
        let seed = base_seed.wrapping_add(iteration as u64);
        let mut rng = XorShift::new(seed ^ 0xFEED);
        let source = ["kb", "hosts", "hostDetections", "detections"][rng.below(4)];
        let (key, url) = match source {
            "kb" => ("kbUrl", "https://q.example/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>"),
            "hosts" => ("hostsUrl", "https://q.example/api/5.0/fo/asset/host/?action=list&vm_scan_since=<LastRunTime>"),
            _ => ("detectionUrl", "https://q.example/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>"),
        };
        let num = |rng: &mut XorShift, v: &[&str]| v[rng.below(v.len())].to_string();
        let params: Vec<(String, String)> = vec![
            ("dataSource".into(), source.into()),
            (key.into(), url.into()),
            ("username".into(), "alice".into()),
            ("password".into(), "pw".into()),
            ("batchSize".into(), num(&mut rng, &["1", "2", "5"])),
            ("concurrency".into(), num(&mut rng, &["1", "1", "2", "4"])),
            ("kbChunkSize".into(), num(&mut rng, &["0", "1", "3", "1000"])),
            ("maxRetry".into(), num(&mut rng, &["0", "1", "2"])),
            ("retryDelaySec".into(), num(&mut rng, &["0", "1"])),
            ("waitBudgetSec".into(), num(&mut rng, &["0", "30", "600"])),
            ("requestsPerMin".into(), num(&mut rng, &["10000", "60"])),
            ("maxRecordMB".into(), "1".into()),
        ];
        let context = match rng.below(4) {
            0 => {
                Some(format!("qvt1;ds={source};lrt=2024-01-01T00:00:00Z;t=2024-01-02T00:00:00Z;w={}", rng.below(3000)))
            }
            1 => Some(format!(
                "qvt1;ds={source};lrt=-;t=2024-01-02T00:00:00Z;w={};d={}-{},18446744073709551614-18446744073709551615",
                rng.below(100),
                200 + rng.below(100),
                400 + rng.below(2000)
            )),
            _ => None,
        };
        let tokens = Tokens { last_run_time: None, previous_run_context: context };
        let mild = rng.below(3) == 0;
        let mut server = Hostile { rng: XorShift::new(seed), source, served: 0, next_id: 0, pool: Vec::new(), mild };
        let checked = catch_unwind(AssertUnwindSafe(|| {
            let mut now: i64 = 1_700_000_000_000;
            let mut feed = Feed::new(&params, &tokens, now).expect("valid parameters");
            let mut queue: std::collections::VecDeque<Request> = std::collections::VecDeque::new();
            let mut output = String::new();
            let mut requests = 0usize;
            for _ in 0..200_000 {
                let action = feed.poll(now);
                let answer = match action {
                    Action::Send(req) => {
                        requests += 1;
                        queue.push_back(req);
                        false
                    }
                    Action::Pending => true,
                    Action::Wait { ms, .. } if queue.is_empty() => {
                        now = now.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
                        false
                    }
                    Action::Wait { .. } => true,
                    Action::Done(_) | Action::Fail(_) => {
                        while let Some(c) = feed.take_output() {
                            output.push_str(&c.xml);
                        }
                        let code = match action {
                            Action::Fail(e) => e.code().to_string(),
                            _ => "done".to_string(),
                        };
                        return (code, requests, output);
                    }
                };
                if answer {
                    let Some(req) = queue.pop_front() else { panic!("Pending with nothing in flight") };
                    let (status, headers, body, delivery) = server.respond(&req);
                    now += 7;
                    let bytes = body.as_bytes();
                    let cut = match delivery {
                        Delivery::Reset(n) | Delivery::Cut(n) => n,
                        _ => bytes.len(),
                    };
                    if let Delivery::NoHead = delivery {
                        feed.handle_transport_error(req.id, now, "ETIMEDOUT", "timeout");
                    } else {
                        feed.handle_response_head(req.id, now, status, &headers);
                        let mut at = 0;
                        let mut aborted = false;
                        while at < cut {
                            let end = (at + 1 + server.rng.below(700)).min(cut);
                            if !feed.handle_body(req.id, &bytes[at..end]) {
                                aborted = true;
                                break;
                            }
                            at = end;
                        }
                        match delivery {
                            Delivery::Reset(_) if !aborted => {
                                feed.handle_transport_error(req.id, now, "ECONNRESET", "reset")
                            }
                            _ => feed.handle_response_end(req.id, now),
                        }
                    }
                }
                while let Some(c) = feed.take_output() {
                    output.push_str(&c.xml);
                }
                while feed.take_log().is_some() {}
                assert!(requests <= REQUEST_BOUND, "more than {REQUEST_BOUND} requests");
            }
            panic!("the run did not end");
        }));
        match checked {
            Err(_) => panic!("feed panicked or did not end: iteration {iteration} (FUZZ_SEED={base_seed}), {source}, {params:?}, tokens {tokens:?}"),
            Ok((code, requests, output)) => {
                let mut ids = output_ids(source, &output);
                let n = ids.len();
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(ids.len(), n, "iteration {iteration} (FUZZ_SEED={base_seed}): a record ID written twice");
                most_requests = most_requests.max(requests);
                *outcomes.entry(code).or_default() += 1;
            }
        }
    }
    println!("feed outcomes over {iterations} hostile runs (at most {most_requests} requests): {outcomes:?}");
}

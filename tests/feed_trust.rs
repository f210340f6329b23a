//! The feed against hostile or broken inputs, end to end against a small fake Qualys of its own
//! (parameters and query helpers shared with feed_scenarios.rs in tests/common): resume checkpoints that must not be trusted blindly (issue #11 class 6),
//! secrets in every form (class 7), server text that must not forge or flood the log (class 8),
//! non-string parameters and tokens (class 10).

#![allow(dead_code)] // helpers for the scenarios of later commits

mod common;
use common::query;
use qualys_vm_transporter::feed::{Action, Feed, Level, Summary, Tokens};
use qualys_vm_transporter::request::Request;
use qualys_vm_transporter::ErrorCode;

const PASSWORD: &str = "S3cr3t-Pa55w0rd-XYZ";
const NOW: i64 = 1_700_000_000_000;

fn params(source: &str, url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    common::feed_params(source, url, PASSWORD, extra)
}

const HOSTS_URL: &str =
    "https://qualysapi.example.com/api/5.0/fo/asset/host/?action=list&details=All&vm_scan_since=<LastRunTime>";

/// A fake host: ID and last scan time (seconds since the epoch).
#[derive(Clone, Copy)]
struct Host {
    id: u64,
    scanned: i64,
}

/// `n` hosts, ascending IDs with gaps; every third host was last scanned in May 2020, the rest on
/// 2023-11-03 (before `NOW`, 2023-11-14T22:13:20Z).
fn hosts(n: u64) -> Vec<Host> {
    (0..n)
        .map(|i| Host { id: 1000 + i * 7 + (i % 3), scanned: if i % 3 == 0 { 1_590_000_000 } else { 1_699_000_000 } })
        .collect()
}

/// A host list page: hosts scanned since `vm_scan_since`, between id_min and id_max,
/// `truncation_limit` of them, with the paging WARNING when more follow.
fn host_page(url: &str, all: &[Host]) -> String {
    let limit: usize = query(url, "truncation_limit").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let id_min: u64 = query(url, "id_min").and_then(|v| v.parse().ok()).unwrap_or(0);
    let id_max: u64 = query(url, "id_max").and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    let since = query(url, "vm_scan_since")
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(&v).ok())
        .map_or(i64::MIN, |d| d.timestamp());
    let remaining: Vec<&Host> = all.iter().filter(|h| h.id >= id_min && h.id <= id_max && h.scanned >= since).collect();
    let page = &remaining[..remaining.len().min(limit)];
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<HOST_LIST_OUTPUT>\n  <RESPONSE>\n    <DATETIME>2024-01-01T00:00:00Z</DATETIME>\n    <HOST_LIST>\n");
    for h in page {
        s.push_str(&format!(
            "      <HOST><ID>{}</ID><IP>10.0.{}.{}</IP><TRACKING_METHOD>IP</TRACKING_METHOD><OS>Linux</OS></HOST>\n",
            h.id,
            h.id / 256 % 256,
            h.id % 256
        ));
    }
    s.push_str("    </HOST_LIST>\n");
    if remaining.len() > page.len() {
        let next = remaining[page.len()].id;
        let base = url.split("&id_min=").next().unwrap_or(url);
        s.push_str(&format!("    <WARNING>\n      <CODE>1980</CODE>\n      <TEXT>{limit} record limit exceeded. Use URL to get next batch of results.</TEXT>\n      <URL><![CDATA[{base}&id_min={next}]]></URL>\n    </WARNING>\n"));
    }
    s.push_str("  </RESPONSE>\n</HOST_LIST_OUTPUT>\n");
    s
}

/// IDs of the hosts a page selects (what a complete run must write).
fn selected(all: &[Host], since: i64) -> Vec<u64> {
    all.iter().filter(|h| h.scanned >= since).map(|h| h.id).collect()
}

fn simple_return(code: &str, text: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<SIMPLE_RETURN>\n <RESPONSE>\n  <DATETIME>2024-01-01T00:00:00Z</DATETIME>\n  <CODE>{code}</CODE>\n  <TEXT>{text}</TEXT>\n </RESPONSE>\n</SIMPLE_RETURN>\n")
}

/// What the fake server answers to one request.
enum Answer {
    Body(u16, String),
    /// The connection fails after this many bytes of the body, with this transport error.
    Reset(u16, String, usize, String),
}

struct Run {
    outcome: Result<Summary, qualys_vm_transporter::Error>,
    output: String,
    logs: Vec<(Level, String)>,
    requests: Vec<String>,
    /// `Feed::checkpoint_now()` after each action.
    checkpoints: Vec<String>,
}

impl Run {
    fn ids(&self) -> Vec<u64> {
        self.output
            .split("<HOST><ARCHER_DEVICE_LINK>")
            .skip(1)
            .filter_map(|s| s.split('<').next().and_then(|v| v.parse().ok()))
            .collect()
    }
    fn warnings(&self) -> Vec<&str> {
        self.logs.iter().filter(|(l, _)| *l == Level::Warn).map(|(_, t)| t.as_str()).collect()
    }
    fn all_text(&self) -> String {
        let mut t: Vec<String> = self.logs.iter().map(|(_, l)| l.clone()).collect();
        match &self.outcome {
            Ok(s) => t.push(format!("{s:?}")),
            Err(e) => t.push(format!("{e} {e:?}")),
        }
        t.extend(self.checkpoints.iter().cloned());
        t.join("\n")
    }
    fn checkpoint(&self) -> String {
        match &self.outcome {
            Ok(s) => s.previous_run_context.clone(),
            Err(_) => self
                .logs
                .iter()
                .find_map(|(_, t)| t.strip_prefix("the next run resumes from this checkpoint: ").map(str::to_string))
                .unwrap_or_default(),
        }
    }
}

/// Runs a feed to its end, one request at a time; `Wait`s advance the fake clock.
fn drive(feed: Feed, mut serve: impl FnMut(&Request, usize) -> Answer) -> Run {
    let mut feed = feed;
    let mut now = NOW;
    let mut run = Run {
        outcome: Err(qualys_vm_transporter::Error::caller(ErrorCode::Internal, "NOT_RUN")),
        output: String::new(),
        logs: Vec::new(),
        requests: Vec::new(),
        checkpoints: Vec::new(),
    };
    let take = |feed: &mut Feed, run: &mut Run| {
        while let Some(c) = feed.take_output() {
            run.output.push_str(&c.xml);
        }
        while let Some(l) = feed.take_log() {
            run.logs.push((l.level, l.text));
        }
        run.checkpoints.push(feed.checkpoint_now());
    };
    take(&mut feed, &mut run);
    for _ in 0..20_000 {
        match feed.poll(now) {
            Action::Send(req) => {
                run.requests.push(req.url.clone());
                let n = run.requests.len();
                match serve(&req, n) {
                    Answer::Body(status, body) => {
                        feed.handle_response_head(req.id, now, status, &[]);
                        for piece in body.as_bytes().chunks(64 * 1024) {
                            if !feed.handle_body(req.id, piece) {
                                break;
                            }
                        }
                        now += 50;
                        feed.handle_response_end(req.id, now);
                    }
                    Answer::Reset(status, body, cut, message) => {
                        feed.handle_response_head(req.id, now, status, &[]);
                        let cut = cut.min(body.len());
                        let _ = feed.handle_body(req.id, &body.as_bytes()[..cut]);
                        now += 50;
                        feed.handle_transport_error(req.id, now, "ECONNRESET", &message);
                    }
                }
            }
            Action::Wait { ms, .. } => now += ms as i64,
            Action::Pending => panic!("Pending with nothing in flight"),
            Action::Done(s) => {
                run.outcome = Ok(s);
                take(&mut feed, &mut run);
                return run;
            }
            Action::Fail(e) => {
                run.outcome = Err(e);
                take(&mut feed, &mut run);
                return run;
            }
        }
        take(&mut feed, &mut run);
    }
    panic!("the feed did not finish");
}

fn new_feed(params: &[(String, String)], tokens: &Tokens) -> Feed {
    Feed::new(params, tokens, NOW).expect("valid parameters")
}

fn tokens(lrt: Option<&str>, prc: Option<&str>) -> Tokens {
    Tokens { last_run_time: lrt.map(str::to_string), previous_run_context: prc.map(str::to_string) }
}

/// Serves the host list of `all`.
fn hosts_server(all: &[Host]) -> impl FnMut(&Request, usize) -> Answer + '_ {
    move |req, _| Answer::Body(200, host_page(&req.url, all))
}

// ---------------------------------------------------------------------------------------------
// Class 8: server text cannot forge or flood the log.

fn assert_bounded(run: &Run, max_line: usize) {
    for (_, l) in &run.logs {
        assert!(!l.contains('\n') && !l.contains('\r'), "a raw line break in a log line: {l:?}");
        assert!(l.chars().count() <= max_line, "a log line of {} characters", l.chars().count());
    }
    if let Err(e) = &run.outcome {
        assert!(!e.message().contains('\n') && !e.message().contains('\r'), "{:?}", e.message());
        assert!(e.message().chars().count() <= max_line, "an error message of {} characters", e.message().len());
    }
}

#[test]
fn server_text_cannot_forge_a_log_line() {
    let forged = "bad value\n2024-01-01T00:00:00.000Z :: INFO :: done: dataSource=hosts records=999999\r\nmore";
    // A fatal SIMPLE_RETURN (1905: bad parameter) whose TEXT holds line breaks.
    let run = drive(new_feed(&params("hosts", HOSTS_URL, &[]), &Tokens::default()), |_, _| {
        Answer::Body(400, simple_return("1905", forged))
    });
    let e = run.outcome.as_ref().expect_err("fails");
    assert_eq!(e.code(), ErrorCode::QualysBadRequest);
    assert_bounded(&run, 2100);
    assert!(e.message().contains("bad value\\n2024-01-01T00:00:00.000Z :: INFO :: done:"), "{}", e.message());
    assert!(!run.logs.iter().any(|(_, l)| l.starts_with("2024-01-01") || l.starts_with("done:")), "{:?}", run.logs);

    // A WARNING TEXT and CODE, and a transport error message, with line breaks.
    let all = hosts(4);
    let run = drive(
        new_feed(&params("hosts", HOSTS_URL, &[("maxRetry", "1"), ("retryDelaySec", "0")]), &Tokens::default()),
        |req, n| {
            if n == 1 {
                return Answer::Reset(200, host_page(&req.url, &all), 10, format!("socket hang up\n{forged}"));
            }
            let page = host_page(&req.url, &all).replace(
                "</HOST_LIST>",
                &format!("</HOST_LIST><WARNING><CODE>12\n34</CODE><TEXT>{forged}</TEXT></WARNING>"),
            );
            Answer::Body(200, page)
        },
    );
    run.outcome.as_ref().expect("succeeds");
    assert_bounded(&run, 2100);
    assert_eq!(run.ids().len(), 4);
    assert!(run.warnings().iter().any(|w| w.contains("12\\n34") && w.contains("bad value\\n2024")), "{:?}", run.logs);
    assert!(run.warnings().iter().any(|w| w.contains("socket hang up\\n")), "{:?}", run.logs);
}

#[test]
fn a_50_mb_text_gives_bounded_log_lines_and_error_messages() {
    let huge = format!("start{}end", "x".repeat(50 * 1024 * 1024));
    let body = simple_return("2001", &huge);
    let run =
        drive(new_feed(&params("hosts", HOSTS_URL, &[]), &Tokens::default()), |_, _| Answer::Body(200, body.clone()));
    let e = run.outcome.as_ref().expect_err("fails");
    assert_eq!(e.code(), ErrorCode::QualysCredentials);
    assert_bounded(&run, 2100);
    assert!(e.message().contains("more characters)"), "{}", &e.message()[..200]);
    let total: usize = run.logs.iter().map(|(_, l)| l.len()).sum();
    assert!(total < 20_000, "{total} bytes of log");

    // With maxRecordMB=1 the parser does not even keep it: bounded like a record.
    let run = drive(new_feed(&params("hosts", HOSTS_URL, &[("maxRecordMB", "1")]), &Tokens::default()), |_, _| {
        Answer::Body(200, body.clone())
    });
    let e = run.outcome.as_ref().expect_err("fails");
    assert_eq!(e.code(), ErrorCode::RecordTooLarge);
    assert_bounded(&run, 2100);

    // A transport error message of 50 MB.
    let all = hosts(3);
    let run = drive(new_feed(&params("hosts", HOSTS_URL, &[("maxRetry", "0")]), &Tokens::default()), |req, _| {
        Answer::Reset(200, host_page(&req.url, &all), 10, huge.clone())
    });
    assert_eq!(run.outcome.as_ref().map_err(|e| e.code()).err(), Some(ErrorCode::Network));
    assert_bounded(&run, 2100);
}

#[test]
fn twenty_thousand_warnings_give_a_handful_of_lines_and_a_count() {
    let all = hosts(6);
    let warnings: String =
        (0..20_000).map(|i| format!("<WARNING><CODE>1234</CODE><TEXT>odd thing {i}</TEXT></WARNING>")).collect();
    let run = drive(new_feed(&params("hosts", HOSTS_URL, &[]), &Tokens::default()), |req, _| {
        Answer::Body(200, host_page(&req.url, &all).replace("</HOST_LIST>", &format!("</HOST_LIST>{warnings}")))
    });
    let s = run.outcome.as_ref().expect("succeeds");
    assert_eq!(run.ids().len(), 6, "the records are all there");
    let qualys = run.warnings().iter().filter(|w| w.contains("odd thing")).count();
    assert!(qualys > 0 && qualys <= 5, "{qualys} warning lines");
    assert!(run.logs.len() < 20, "{} log lines", run.logs.len());
    let done = run.logs.iter().find(|(_, l)| l.starts_with("done:")).map(|(_, l)| l.as_str()).unwrap_or("");
    assert!(done.contains("qualysWarning=20000"), "{done}");
    assert_eq!(s.warnings.get("qualysWarning"), Some(&20_000));
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
}

#[test]
fn a_parser_notice_on_every_page_is_logged_five_times_and_counted() {
    let all = hosts(40);
    let run = drive(new_feed(&params("hosts", HOSTS_URL, &[("batchSize", "2")]), &Tokens::default()), |req, _| {
        Answer::Body(200, host_page(&req.url, &all).replace("<OS>Linux</OS>", "<OS>Linux &nbsp;</OS>"))
    });
    let s = run.outcome.as_ref().expect("succeeds");
    assert_eq!(run.ids().len(), 40);
    assert_eq!(s.warnings.get("unknownEntity"), Some(&20), "one per page: {:?}", s.warnings);
    let logged = run.warnings().iter().filter(|w| w.contains("unknown entity")).count();
    assert_eq!(logged, 5, "{:?}", run.warnings());
    assert!(run.warnings().iter().any(|w| w.contains("further unknownEntity warnings are counted")));
}

// ---------------------------------------------------------------------------------------------
// Class 7: the password and the proxy password never appear, in any form.

/// A recognisable password with `"`, `\`, a tab, `%`, `!`, `+`, a space and non-ASCII.
const SWEEP_PW: &str = "Sw33p-\"q\\\tx%!+ é€Z9";
const PROXY_PW: &str = "Pr0xy-\"p\\\t%!+ ü€Q7";

fn b64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for g in bytes.chunks(3) {
        let n =
            (u32::from(g[0]) << 16) | (u32::from(*g.get(1).unwrap_or(&0)) << 8) | u32::from(*g.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= g.len() { char::from(A[((n >> (18 - 6 * i)) & 63) as usize]) } else { '=' });
        }
    }
    out
}

/// The forms a secret may take in text, computed here independently of the crate.
fn secret_forms(pw: &str, user: &str) -> Vec<String> {
    let pct = |lower: bool, form: bool| -> String {
        let mut o = String::new();
        for b in pw.bytes() {
            if form && b == b' ' {
                o.push('+');
            } else if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                o.push(char::from(b));
            } else if lower {
                o.push_str(&format!("%{b:02x}"));
            } else {
                o.push_str(&format!("%{b:02X}"));
            }
        }
        o
    };
    let json: String = pw
        .chars()
        .map(|c| match c {
            '"' => "\\\"".to_string(),
            '\\' => "\\\\".to_string(),
            '\t' => "\\t".to_string(),
            c => c.to_string(),
        })
        .collect();
    vec![
        pw.to_string(),
        format!("{pw:?}").trim_matches('"').to_string(),
        json,
        pw.replace('\t', "\\t"),
        pct(false, false),
        pct(true, false),
        pct(false, true),
        pct(true, true),
        b64(pw),
        b64(pw).trim_end_matches('=').to_string(),
        b64(&format!("{user}:{pw}")),
    ]
}

fn assert_no_secret(label: &str, text: &str) {
    for (pw, user) in [(SWEEP_PW, "alice"), (PROXY_PW, "svc")] {
        for form in secret_forms(pw, user) {
            assert!(!text.contains(&form), "{label}: the secret appears as {form:?} in:\n{text}");
        }
    }
    // Recognisable pieces too.
    assert!(!text.contains("Sw33p") && !text.contains("Pr0xy"), "{label}: a piece of a secret in:\n{text}");
}

fn pct_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Every key of the feed (and an unknown one, and the tokens, and a URL query value) holding the
/// password: neither password shows up in any form in logs, errors, summaries or checkpoints.
#[test]
fn a_password_pasted_into_any_parameter_or_token_never_shows() {
    let all = hosts(9);
    let proxy = format!("http://svc:{}@proxy.example.com:8080", pct_encode(PROXY_PW));
    let base = params("hosts", HOSTS_URL, &[("password", SWEEP_PW), ("proxy", &proxy), ("batchSize", "4")]);
    let keys = qualys_vm_transporter::params::known_keys();
    type Scenario = (String, Vec<(String, String)>, Tokens);
    let mut scenarios: Vec<Scenario> = Vec::new();
    for secret in [SWEEP_PW, PROXY_PW] {
        for key in keys.iter().filter(|k| !["password", "proxy"].contains(k)) {
            for value in [secret.to_string(), format!("x{secret}"), format!("{secret} 1")] {
                let mut p = base.clone();
                p.retain(|(k, _)| k != key);
                p.push((key.to_string(), value.clone()));
                scenarios.push((format!("{key}={value:?}"), p, Tokens::default()));
            }
        }
        let mut p = base.clone();
        p.push((secret.to_string(), "1".to_string()));
        scenarios.push(("an unknown key named like the password".into(), p, Tokens::default()));
        for (k, v) in [("LastRunTime", secret.to_string()), ("PreviousRunContext", secret.to_string())] {
            let t = if k == "LastRunTime" { tokens(Some(&v), None) } else { tokens(None, Some(&v)) };
            scenarios.push((format!("token {k}"), base.clone(), t));
        }
        scenarios.push((
            "PreviousRunContext with the password inside".into(),
            base.clone(),
            tokens(None, Some(&format!("qvt2;ds=hosts;w={secret}"))),
        ));
        for enc in [pct_encode(secret), pct_encode(secret).to_lowercase(), secret.replace(' ', "+")] {
            let url = format!("{HOSTS_URL}&note={enc}");
            let mut p = base.clone();
            p.retain(|(k, _)| k != "hostsUrl");
            p.push(("hostsUrl".into(), url));
            scenarios.push((format!("a URL query value {enc}"), p, Tokens::default()));
        }
    }
    let mut ran = 0;
    for (label, p, t) in &scenarios {
        match Feed::new(p, t, NOW) {
            Err(e) => assert_no_secret(label, &format!("{e}\n{e:?}\n{}", e.message())),
            Ok(feed) => {
                ran += 1;
                // The server echoes both passwords back (raw and encoded), in an error on page 2.
                let run = drive(feed, |req, n| {
                    if n >= 2 {
                        let echo = format!("{SWEEP_PW} {} {PROXY_PW}", pct_encode(SWEEP_PW)).replace('&', "&amp;");
                        return Answer::Body(200, simple_return("999", &echo.replace('<', "&lt;")));
                    }
                    Answer::Body(200, host_page(&req.url, &all))
                });
                assert_no_secret(label, &run.all_text());
                assert!(run.outcome.is_err(), "{label}");
            }
        }
    }
    assert!(ran > 10, "only {ran} scenarios ran a feed");

    // A transport error message and a WARNING quoting them.
    let run = drive(new_feed(&base, &Tokens::default()), |req, n| match n {
        1 => Answer::Reset(
            200,
            host_page(&req.url, &all),
            5,
            format!("proxy said {} {}", pct_encode(PROXY_PW).to_lowercase(), b64(&format!("svc:{PROXY_PW}"))),
        ),
        _ => Answer::Body(
            200,
            host_page(&req.url, &all).replace(
                "</HOST_LIST>",
                &format!(
                    "</HOST_LIST><WARNING><CODE>5</CODE><TEXT>{}</TEXT></WARNING>",
                    format!("{SWEEP_PW:?}").replace('&', "&amp;")
                ),
            ),
        ),
    });
    assert_no_secret("transport error and warning", &run.all_text());
    assert!(run.outcome.is_err() || run.ids().len() == 9);
}

/// A one-character password is not scrubbed out of every number in the log, and values holding
/// it are not echoed.
#[test]
fn a_very_short_password_does_not_mangle_the_log() {
    let all = hosts(30);
    let p = params("hosts", HOSTS_URL, &[("password", "0"), ("batchSize", "10")]);
    let run = drive(new_feed(&p, &Tokens::default()), hosts_server(&all));
    run.outcome.as_ref().expect("succeeds");
    let done = run.logs.iter().find(|(_, l)| l.starts_with("done:")).map(|(_, l)| l.clone()).unwrap_or_default();
    assert!(done.contains("records=30 pages=3"), "{done}");
    let start = &run.logs.iter().find(|(_, l)| l.starts_with("starting")).expect("start line").1;
    assert!(start.contains("batchSize=10 requestsPerMin=60"), "{start}");

    let e = Feed::new(
        &params("hosts", HOSTS_URL, &[("password", "0"), ("batchSize", "10000000")]),
        &Tokens::default(),
        NOW,
    )
    .expect_err("out of range");
    assert!(e.message().contains("batchSize: ") && !e.message().contains("10000000"), "{}", e.message());
    assert!(e.message().contains("not shown"), "{}", e.message());
}

// ---------------------------------------------------------------------------------------------
// Class 10: parameters and tokens that are not strings (as a JavaScript host may pass them).

use qualys_vm_transporter::feed::TokenValues;
use qualys_vm_transporter::value::Value;

fn values(extra: &[(&str, Value)]) -> Vec<(String, Value)> {
    let mut p: Vec<(String, Value)> =
        params("hosts", HOSTS_URL, &[]).into_iter().map(|(k, v)| (k, Value::Text(v))).collect();
    for (k, v) in extra {
        p.retain(|(pk, _)| pk != k);
        p.push((k.to_string(), v.clone()));
    }
    p
}

fn lrt(v: Value) -> TokenValues {
    TokenValues { last_run_time: v, ..TokenValues::default() }
}

#[test]
fn numbers_and_booleans_are_their_text_and_null_is_not_given() {
    let all = hosts(12);
    let p = values(&[
        ("batchSize", Value::Number(5.0)),
        ("verifyCerts", Value::Bool(false)),
        ("requestsPerMin", Value::BigInt("30".into())),
        ("rootNode", Value::Missing),
    ]);
    let feed = Feed::with_values(&p, &TokenValues::default(), NOW).expect("valid");
    assert!(!feed.transport().verify_certs);
    assert_eq!(feed.transport().root_node, "QUALYS_HOSTS");
    let run = drive(feed, hosts_server(&all));
    run.outcome.as_ref().expect("succeeds");
    assert!(run.requests[0].contains("truncation_limit=5"), "{}", run.requests[0]);
    assert_eq!(run.ids().len(), 12);
}

#[test]
fn unusable_types_are_one_configuration_error_naming_keys_and_types() {
    let p = values(&[
        ("batchSize", Value::Other("object")),
        ("socketLimit", Value::Other("array")),
        ("maxRecordMB", Value::Number(f64::NAN)),
        ("dataSource", Value::Other("function")),
    ]);
    let e = Feed::with_values(&p, &lrt(Value::Bool(true)), NOW).expect_err("refused");
    assert_eq!(e.code(), ErrorCode::ConfigInvalid);
    let m = e.message();
    for (key, what) in [
        ("batchSize", "is an object"),
        ("socketLimit", "is an array"),
        ("maxRecordMB", "not finite"),
        ("dataSource", "is a function"),
        ("LastRunTime token", "is a boolean, not a date"),
    ] {
        assert!(m.lines().any(|l| l.starts_with(&format!("{key}: ")) && l.contains(what)), "{key}: {m}");
    }
    assert!(m.starts_with("5 problems") && !m.contains("dataSource: missing"), "{m}");
}

#[test]
fn a_date_or_a_number_as_last_run_time_is_never_a_silent_full_load() {
    let all = hosts(30);
    let since = 1_698_000_000; // 2023-10-22T18:40:00Z: only the hosts scanned in November 2023.
    for token in [
        Value::Date(since as f64 * 1000.0),
        Value::Number(since as f64),
        Value::Number(since as f64 * 1000.0),
        Value::Text("2023-10-22T18:40:00Z".into()),
    ] {
        let p = values(&[("lastRunTimeOffset", Value::Number(0.0))]);
        let run = drive(Feed::with_values(&p, &lrt(token.clone()), NOW).expect("valid"), hosts_server(&all));
        run.outcome.as_ref().expect("succeeds");
        assert!(run.requests[0].contains("vm_scan_since=2023-10-22T18:40:00Z"), "{token:?}: {}", run.requests[0]);
        assert_eq!(run.ids(), selected(&all, since), "{token:?}");
        if !matches!(token, Value::Text(_)) {
            assert!(
                run.logs
                    .iter()
                    .any(|(l, t)| *l == Level::Info && t.contains("LastRunTime token is ") && t.contains("read as")),
                "{:?}",
                run.logs
            );
        }
    }
    for token in [Value::Bool(false), Value::Other("object"), Value::Date(f64::NAN), Value::Number(f64::INFINITY)] {
        let e = Feed::with_values(&values(&[]), &lrt(token.clone()), NOW).expect_err("refused");
        assert_eq!(e.code(), ErrorCode::ConfigInvalid, "{token:?}");
        assert!(e.message().contains("LastRunTime token: "), "{}", e.message());
    }
}

#[test]
fn a_previous_run_context_that_is_not_text_is_ignored_with_a_warning() {
    let all = hosts(6);
    let t = TokenValues { previous_run_context: Value::Number(7.0), ..TokenValues::default() };
    let run = drive(Feed::with_values(&values(&[]), &t, NOW).expect("valid"), hosts_server(&all));
    let s = run.outcome.as_ref().expect("succeeds");
    assert_eq!(run.ids().len(), 6);
    assert!(run.warnings().iter().any(|w| w.starts_with("PreviousRunContext is a number")), "{:?}", run.logs);
    assert_eq!(s.warnings.get("checkpoint"), Some(&1));
}

// ---------------------------------------------------------------------------------------------
// Class 6: a checkpoint is validated, never trusted blindly.

use qualys_vm_transporter::feed::Checkpoint;

/// A hosts run that fails (connection reset, no retries) on request `fail_at`, with this token.
fn failed_run(all: &[Host], lrt: Option<&str>, fail_at: usize, batch: &str) -> Run {
    let p = params("hosts", HOSTS_URL, &[("batchSize", batch), ("maxRetry", "0")]);
    let run = drive(new_feed(&p, &tokens(lrt, None)), |req, n| {
        let page = host_page(&req.url, all);
        if n == fail_at {
            let cut = page.find("<HOST>").unwrap_or(0) + 200;
            return Answer::Reset(200, page, cut, "socket hang up".into());
        }
        Answer::Body(200, page)
    });
    assert_eq!(run.outcome.as_ref().map_err(|e| e.code()).err(), Some(ErrorCode::Network));
    run
}

fn checkpoint_warnings(run: &Run) -> Vec<&str> {
    run.warnings().into_iter().filter(|w| w.starts_with("PreviousRunContext")).collect()
}

#[test]
fn hostile_checkpoints_are_ignored_with_one_warning_and_the_run_is_a_normal_full_run() {
    let all = hosts(120);
    let first = failed_run(&all, None, 3, "10");
    let genuine = first.checkpoint();
    assert!(genuine.starts_with("qvt2;ds=hosts;"), "{genuine}");
    let decoded = Checkpoint::decode(&genuine).expect("genuine");
    let future = Checkpoint { started: "2030-01-01T00:00:00Z".into(), ..decoded.clone() }.encode();
    let long = format!("{genuine};d={}", "1-2,".repeat(700))[..2864].to_string();
    let hostile: Vec<(String, &str)> = vec![
        ("qvt1;ds=hosts;lrt=1970-01-09T00:00:00Z;t=2023-11-14T22:13:20Z;w=999999999".into(), "older version"),
        (genuine.replace(&format!("w={}", decoded.watermark.unwrap_or(0)), "w=999999999"), "checksum"),
        (format!("{genuine};d=0-18446744073709551615"), "checksum"),
        (genuine.replace(";lrt=", ";d=0-18446744073709551615;lrt="), "fields are not the ones"),
        (long, "2864 characters long"),
        (future, "later than now"),
        (genuine.replace("ds=hosts", "ds=kb"), "kb feed"),
        ("hello".into(), "not a checkpoint written by this feed"),
        ("qvt2;".into(), "not key=value"),
    ];
    for (token, why) in hostile {
        let run = drive(
            new_feed(&params("hosts", HOSTS_URL, &[("batchSize", "10")]), &tokens(None, Some(&token))),
            hosts_server(&all),
        );
        run.outcome.as_ref().unwrap_or_else(|e| panic!("{why}: {e}"));
        assert_eq!(run.ids(), selected(&all, i64::MIN), "{why}: a normal full run writes every record");
        let w = checkpoint_warnings(&run);
        assert_eq!(w.len(), 1, "{why}: {:?}", run.logs);
        assert!(w[0].contains(why) && w[0].contains("normal run"), "{why}: {}", w[0]);
        assert!(!run.requests[0].contains("id_min"), "{why}: {}", run.requests[0]);
        assert!(!run.logs.iter().any(|(_, l)| l.contains("resuming")), "{why}");
        // Only the token's own text is quoted? Never: the warning holds no part of it.
        assert!(!w[0].contains("999999999") && !w[0].contains("18446744073709551615"), "{}", w[0]);
    }

    // A changed URL filter invalidates it too.
    let narrower = format!("{HOSTS_URL}&os_pattern=Linux");
    let run = drive(
        new_feed(&params("hosts", &narrower, &[("batchSize", "10")]), &tokens(None, Some(&genuine))),
        hosts_server(&all),
    );
    run.outcome.as_ref().expect("succeeds");
    assert_eq!(run.ids().len(), 120);
    assert!(checkpoint_warnings(&run)[0].contains("hostsUrl parameter has changed"), "{:?}", run.logs);

    // The genuine one, in its situation, resumes exactly as before.
    let run = drive(
        new_feed(&params("hosts", HOSTS_URL, &[("batchSize", "10")]), &tokens(None, Some(&genuine))),
        hosts_server(&all),
    );
    run.outcome.as_ref().expect("succeeds");
    assert!(checkpoint_warnings(&run).is_empty(), "{:?}", run.logs);
    let mut union = first.ids();
    union.extend(run.ids());
    assert_eq!(union, selected(&all, i64::MIN), "first run + resumed run: every record once");
}

/// The case: a failed run under one LastRunTime, then the admin resets LastRunTime (to
/// empty: a full load). The stale checkpoint must not cut the full load short.
#[test]
fn an_admin_who_resets_last_run_time_after_a_failed_run_loses_nothing() {
    let all = hosts(300);
    let october = "2023-10-01T00:00:00Z";
    let since_october = 1_696_032_000; // the token minus the one-day offset: 2023-09-30T00:00:00Z
    let first = failed_run(&all, Some(october), 3, "50");
    let checkpoint = first.checkpoint();
    assert!(!first.ids().is_empty() && !checkpoint.is_empty());

    // Reset to empty: every one of the 300 hosts.
    let reset = drive(
        new_feed(&params("hosts", HOSTS_URL, &[("batchSize", "50")]), &tokens(Some(""), Some(&checkpoint))),
        hosts_server(&all),
    );
    let s = reset.outcome.as_ref().expect("succeeds");
    assert_eq!(reset.ids().len(), 300, "all 300 of 300 records");
    assert_eq!(reset.ids(), selected(&all, i64::MIN));
    assert_eq!(s.last_run_time_used.as_deref(), Some("1970-01-09T00:00:00Z"));
    assert!(checkpoint_warnings(&reset)[0].contains("LastRunTime token is not the one"), "{:?}", reset.logs);
    // Missing instead of empty: the same.
    let missing = drive(
        new_feed(&params("hosts", HOSTS_URL, &[("batchSize", "50")]), &tokens(None, Some(&checkpoint))),
        hosts_server(&all),
    );
    assert_eq!(missing.ids().len(), 300);

    // Reset to another date: a normal run for that date.
    let other = drive(
        new_feed(
            &params("hosts", HOSTS_URL, &[("batchSize", "50")]),
            &tokens(Some("2020-01-01T00:00:00Z"), Some(&checkpoint)),
        ),
        hosts_server(&all),
    );
    assert_eq!(other.ids(), selected(&all, 1_577_750_400));

    // Control: with the token the failed run had, the checkpoint resumes it (nothing twice).
    let resumed = drive(
        new_feed(&params("hosts", HOSTS_URL, &[("batchSize", "50")]), &tokens(Some(october), Some(&checkpoint))),
        hosts_server(&all),
    );
    resumed.outcome.as_ref().expect("succeeds");
    assert!(checkpoint_warnings(&resumed).is_empty(), "{:?}", resumed.logs);
    let mut union = first.ids();
    union.extend(resumed.ids());
    assert_eq!(union, selected(&all, since_october));
}

/// `checkpoint_now` is the token a failure at that moment would leave: a host that keeps the last
/// one can resume exactly even when the core stops without failing cleanly.
#[test]
fn checkpoint_now_is_what_a_failure_at_that_moment_would_leave() {
    let all = hosts(40);
    let first = failed_run(&all, None, 4, "5");
    assert_eq!(first.checkpoints.first().map(String::as_str), Some(""), "nothing to resume before any record");
    assert_eq!(first.checkpoints.last(), Some(&first.checkpoint()), "after the failure: the token it left");
    // Pretend the core died right after page 2 (records of pages 1-2 written): resume from the
    // checkpoint it reported then.
    let after_page_2 =
        first.checkpoints.iter().filter(|c| !c.is_empty()).nth(1).cloned().expect("a checkpoint after page 2");
    let w = Checkpoint::decode(&after_page_2).expect("valid").watermark.expect("a watermark");
    let written: Vec<u64> = first.ids().into_iter().filter(|id| *id <= w).collect();
    assert_eq!(written.len(), 10);
    let run = drive(
        new_feed(&params("hosts", HOSTS_URL, &[("batchSize", "5")]), &tokens(None, Some(&after_page_2))),
        hosts_server(&all),
    );
    run.outcome.as_ref().expect("succeeds");
    let mut union = written;
    union.extend(run.ids());
    assert_eq!(union, selected(&all, i64::MIN));
    assert_eq!(run.checkpoints.last().map(String::as_str), Some(""), "a finished run leaves nothing to resume");
}

/// Server text reaches the host in the Wait reason too (a 409's TEXT): scrubbed there as well.
#[test]
fn a_password_echoed_in_a_qualys_wait_never_reaches_the_wait_reason() {
    let mut feed = new_feed(&params("hosts", HOSTS_URL, &[("password", SWEEP_PW)]), &Tokens::default());
    let Action::Send(req) = feed.poll(NOW) else { panic!("a request first") };
    let echo = format!("busy for {SWEEP_PW}").replace('&', "&amp;").replace('<', "&lt;");
    let body = simple_return("1960", &echo);
    feed.handle_response_head(req.id, NOW, 409, &[]);
    assert!(feed.handle_body(req.id, body.as_bytes()));
    feed.handle_response_end(req.id, NOW);
    let Action::Wait { reason, .. } = feed.poll(NOW) else { panic!("a wait") };
    assert!(reason.contains("busy for ***"), "{reason}");
    assert_no_secret("the wait reason", &reason);
}

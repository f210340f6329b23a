//! The connection test (`testConnection=True`; the CLI's `check`): one light request instead of the
//! run, read for what it proves, reported as one PASS/WARN/FAIL/INFO/SKIP line per check.
//!
//! In scope: what the test requests (`crate::qualys::urls::check_url`: one host, or the QID listing
//! over a day), what each answer means (DNS/TCP reach, proxy, TLS and which CA, credentials and API
//! access, whether the URL is the dataSource's endpoint, the API version, the LastRunTime a real run
//! would use and what it would fetch, the subscription's limits), and how the run ends: always as a
//! failure (`CONNECTION_TEST_PASSED` when every check passed, else the first failure's code), with
//! the incoming PreviousRunContext kept as it was, so Archer neither moves LastRunTime nor loses a
//! checkpoint. No record is written. Out of scope: HTTP (the shim), the certificate's issuer (only
//! an HTTP client can see it and passes it with `Feed::note_tls_issuer`: the shim's Node https and
//! `request` clients do; fetch does not expose it).

use super::transport::{self, Endpoint, Failure};
use super::{Attempt, Feed, Level, Settlement};
use crate::error::{Error, ErrorCode};
use crate::plan::{Assignment, Target};
use crate::qualys::versions;
use crate::text;
use crate::url::Url;

/// How one check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It works.
    Pass,
    /// It works, but deserves a look (a retired API version, no calls left, unverified TLS).
    Warn,
    /// It does not work: a real run would fail here.
    Fail,
    /// Information, nothing to test (LastRunTime, no proxy configured, plain http).
    Info,
    /// Not tested: an earlier step failed.
    Skip,
}

impl Outcome {
    /// `PASS`, `WARN`, `FAIL`, `INFO` or `SKIP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
            Outcome::Info => "INFO",
            Outcome::Skip => "SKIP",
        }
    }
}

/// One line of the connection test's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked: `DNS/TCP`, `proxy`, `TLS`, `credentials`, `endpoint`, `API version`,
    /// `LastRunTime` or `limits`.
    pub check: &'static str,
    /// How it came out.
    pub outcome: Outcome,
    /// What was found and, for a failure, what to do (no secret in it).
    pub text: String,
}

/// The test's state inside the feed.
#[derive(Debug)]
pub(super) struct Check {
    /// The one request.
    pub url: Url,
    pub sent: bool,
    /// The transport failure of the request (code, message), if it failed so.
    pub transport: Option<(String, String)>,
    /// The server certificate's issuer, when the shim's client exposes it.
    pub tls_issuer: Option<String>,
    /// How LastRunTime was resolved (for the LastRunTime line).
    pub last_run_time_note: String,
    /// The PreviousRunContext the run was given: handed back unchanged.
    pub incoming_context: String,
}

impl Feed {
    /// Whether this run is a connection test.
    pub fn is_connection_test(&self) -> bool {
        self.check.is_some()
    }

    /// The issuer of the server's TLS certificate (e.g. `CN=DigiCert Global G2 TLS RSA SHA256 2020
    /// CA1, O=DigiCert Inc, C=US`), when the HTTP client exposes it: shown in the connection test's
    /// TLS line. Ignored outside a connection test.
    pub fn note_tls_issuer(&mut self, issuer: &str) {
        let issuer = text::server_text(issuer);
        if let Some(c) = self.check.as_mut() {
            if !issuer.trim().is_empty() {
                c.tls_issuer = Some(issuer.chars().take(200).collect());
            }
        }
    }

    /// The test's poll: its one request, then wait for it.
    #[inline(never)]
    pub(super) fn check_poll(&mut self, now_ms: i64) -> super::Action {
        let Some(c) = self.check.as_mut() else { return super::Action::Pending };
        if !c.sent {
            c.sent = true;
            let url = c.url.to_string();
            return self.send(now_ms, Assignment { target: Target::Segment(0), url, page: 1, attempt: 0 });
        }
        if self.in_flight.is_empty() {
            return self.fail(Error::caller(
                ErrorCode::Stalled,
                "the connection test has nothing to do but is not finished; this is a bug, please report it",
            ));
        }
        super::Action::Pending
    }

    /// Where the feed connects first: the proxy when there is one, else the URL's host.
    #[inline(never)]
    pub(super) fn connects_to(&self) -> (String, bool) {
        match &self.config.proxy {
            Some(p) => (format!("{}:{}", p.url.host(), p.url.port()), true),
            None => {
                let u = self.plan.first_url();
                (format!("{}:{}", u.host(), u.port()), false)
            }
        }
    }

    /// The findings of the request's outcome, then the run's end (always a failure).
    #[inline(never)]
    pub(super) fn check_settle(&mut self, attempt: Attempt, settlement: Settlement) {
        let Some(mut c) = self.check.take() else { return };
        let mut report = Report { found: Vec::new(), failure: None };
        let answered = self.check_reach(&mut c, &attempt, &mut report);
        self.check_answer(&attempt, settlement, answered, &mut report);
        self.check_setup(&c, &attempt, answered, &mut report);
        self.check_end(c, report);
    }

    /// DNS/TCP reach, the proxy and TLS (and which CA); whether the request got an answer through.
    #[inline(never)]
    fn check_reach(&mut self, c: &mut Check, attempt: &Attempt, r: &mut Report) -> bool {
        use Outcome::{Fail, Info, Pass, Skip, Warn};
        let (host_port, via_proxy) = self.connects_to();
        let at = Endpoint { host_port: &host_port, via_proxy, url_key: self.config.url_key() };
        let https = self.plan.first_url().scheme() == "https";
        let connected =
            if via_proxy { format!("connected to the proxy {host_port}") } else { format!("connected to {host_port}") };
        let ca = match (self.config.verify_certs, self.config.ca_cert.is_some()) {
            (false, _) => "NOT verified (verifyCerts=False)",
            (true, true) => "verified against the caCert parameter's CA",
            (true, false) => "verified against the runtime's default root CAs (no caCert)",
        };
        match (c.transport.take(), attempt.status) {
            (Some((code, message)), _) => {
                let kind = transport::classify(&code, &message);
                let advice = format!(
                    "{} ({}: {})",
                    transport::advice(kind, at),
                    text::server_text(&code),
                    text::server_text(&message)
                );
                let (reach, proxy, tls) = match kind {
                    Failure::ProxyAuth | Failure::Proxy => (Pass, Fail, Skip),
                    Failure::Tls => (Pass, if via_proxy { Pass } else { Info }, Fail),
                    _ => (Fail, if via_proxy { Skip } else { Info }, Skip),
                };
                r.add("DNS/TCP", reach, if reach == Pass { &connected } else { &advice });
                let proxy_text = match proxy {
                    Fail => &advice,
                    Pass => "the proxy opened a tunnel",
                    _ if via_proxy => SKIP,
                    _ => DIRECT,
                };
                r.add("proxy", proxy, proxy_text);
                let tls_text = format!("{advice}; the certificate was to be {ca}");
                r.add("TLS", tls, if tls == Fail { &tls_text } else { SKIP });
                r.failure = Some(match kind {
                    Failure::ProxyAuth => Error::config(ErrorCode::ProxyAuthRequired, advice),
                    Failure::Tls => Error::config(ErrorCode::TlsCertificate, tls_text),
                    _ => Error::network(ErrorCode::Network, advice),
                });
                false
            }
            (None, None) => {
                r.add("DNS/TCP", Skip, "no answer and no transport error");
                false
            }
            (None, Some(status)) => {
                let answered = status != 407 || !via_proxy;
                r.add("DNS/TCP", Pass, &connected);
                if !via_proxy {
                    r.add("proxy", Info, DIRECT);
                } else if !answered {
                    let advice = transport::advice(Failure::ProxyAuth, at);
                    r.add("proxy", Fail, &advice);
                    r.failure = Some(Error::config(ErrorCode::ProxyAuthRequired, advice));
                } else {
                    r.add("proxy", Pass, "the proxy forwarded the request");
                }
                let issuer = c.tls_issuer.as_deref().map(|i| format!("; issued by {i}")).unwrap_or_default();
                match (https, self.config.verify_certs) {
                    (false, _) => r.add("TLS", Info, "not used: plain http (local machine only)"),
                    (true, false) => r.add("TLS", Warn, &format!("certificate {ca}{issuer}")),
                    (true, true) => r.add("TLS", Pass, &format!("certificate accepted, {ca}{issuer}")),
                }
                answered
            }
        }
    }

    /// Credentials and API access, and whether the URL is the data source's endpoint: only from an
    /// answer.
    #[inline(never)]
    fn check_answer(&mut self, attempt: &Attempt, settlement: Settlement, answered: bool, r: &mut Report) {
        use Outcome::{Fail, Pass, Skip};
        if !answered {
            r.add("credentials", Skip, SKIP);
            r.add("endpoint", Skip, SKIP);
            return;
        }
        let url_key = self.config.url_key();
        let root = attempt.parser.root().map(|r| text::server_text(r).chars().take(64).collect::<String>());
        let came_back = match root {
            Some(r) => format!("the document root that came back: <{r}>"),
            None => "no XML document came back".to_string(),
        };
        let source = self.config.data_source;
        let accepted =
            format!("Qualys accepted the user {} and its API access", text::server_text(&self.config.username));
        let error = match settlement {
            Settlement::PageDone => None,
            Settlement::Retry(e) | Settlement::Fail(e) => Some(e),
            Settlement::UrlTooLong => Some(Error::config(ErrorCode::UrlTooLong, "HTTP 414 URI Too Long")),
            Settlement::WaitAndRetry { reason, .. } => Some(Error::server(
                ErrorCode::WaitBudgetExhausted,
                false,
                format!("{reason}: Qualys refused the call for the subscription's limits"),
            )),
        };
        let Some(e) = error else {
            r.add("credentials", Pass, &accepted);
            r.add(
                "endpoint",
                Pass,
                &format!(
                    "{url_key} is the {} API dataSource={} reads ({came_back}; {} record(s), none written)",
                    source.doc_kind().describe(),
                    source.as_str(),
                    attempt.records
                ),
            );
            return;
        };
        let code = e.code();
        let login = matches!(code, ErrorCode::QualysCredentials | ErrorCode::AccessDenied);
        let qualys_doc = attempt.qualys.is_some() || code == ErrorCode::WrongEndpoint;
        match (login, qualys_doc) {
            (true, _) => r.add("credentials", Fail, e.message()),
            (false, true) => r.add("credentials", Pass, &accepted),
            (false, false) => r.add("credentials", Skip, "not known: no Qualys document came back"),
        }
        let e = if login {
            r.add("endpoint", Skip, SKIP);
            e
        } else {
            // A URL of another API is refused for options of this one (truncation_limit, ...)
            // before Qualys says which document it serves: the path tells.
            let foreign = !self.plan.first_url().path().contains(source.expected_path());
            let hint = if foreign || code == ErrorCode::WrongEndpoint {
                format!(
                    "; the {url_key} path is not the {} API's ({}): it should look like {}",
                    source.doc_kind().describe(),
                    source.expected_path(),
                    source.example_url()
                )
            } else {
                String::new()
            };
            let text = format!("{} (HTTP {}, {came_back}){hint}", e.message(), attempt.status.unwrap_or(0));
            r.add("endpoint", Fail, &text);
            if foreign {
                Error::config(ErrorCode::WrongEndpoint, text)
            } else {
                e.map_message(|_| text)
            }
        };
        r.failure.get_or_insert(e);
    }

    /// What the URL and the answer's headers say whatever the answer: the API version, the
    /// LastRunTime a real run would use and what it would fetch, the subscription's limits.
    #[inline(never)]
    fn check_setup(&self, c: &Check, attempt: &Attempt, answered: bool, r: &mut Report) {
        use Outcome::{Info, Pass, Skip, Warn};
        let url_key = self.config.url_key();
        let first = self.plan.first_url();
        let api = versions::api_of(self.config.data_source);
        let (outcome, text) = match (versions::retired(first.path()), versions::api_version(first.path())) {
            (Some(ret), _) => (
                Warn,
                format!(
                    "API {}, retired by Qualys ({}): move {url_key} to {} (docs/UPGRADE-FROM-RSA.md)",
                    ret.version,
                    ret.api.retired_note,
                    api.active_path()
                ),
            ),
            (None, Some((_, _, v))) if v == api.active => (Pass, format!("API {v}, the active version")),
            (None, Some((_, _, v))) => (Warn, format!("API {v}; the active version is {}", api.active)),
            (None, None) => (Warn, format!("{url_key} names no API version (like {})", api.active_path())),
        };
        r.add("API version", outcome, &text);

        let fetch = text::mask_url(&first.to_string(), &self.redactor);
        let lrt = match &self.summary.last_run_time_used {
            Some(v) => format!("a real run would use LastRunTime={v} ({}) and fetch {fetch}", c.last_run_time_note),
            None => format!("a real run would fetch {fetch} (no <LastRunTime> in the URL)"),
        };
        r.add("LastRunTime", Info, &lrt);

        let h = attempt.headers;
        let limits = limits_text(&h);
        match (h.limit.or(h.remaining).or(h.concurrency_limit).is_some(), h.remaining == Some(0), answered) {
            (true, true, _) => r.add(
                "limits",
                Warn,
                &format!("{limits}: none left in this rate-limit window; a real run now would wait"),
            ),
            (true, false, _) => r.add("limits", Pass, &limits),
            (false, _, true) => {
                r.add("limits", Warn, "no X-RateLimit headers in the answer (not Qualys's API server?)")
            }
            (false, _, false) => r.add("limits", Skip, SKIP),
        }
    }

    /// Logs the findings and ends the run: always a failure, the incoming checkpoint kept.
    #[inline(never)]
    fn check_end(&mut self, c: Check, report: Report) {
        let Report { found, failure } = report;
        for f in &found {
            let level = match f.outcome {
                Outcome::Fail => Level::Error,
                Outcome::Warn => Level::Warn,
                _ => Level::Info,
            };
            self.log(level, format!("connection test: {} {}: {}", f.outcome.as_str(), f.check, f.text));
        }
        let failed = found.iter().filter(|f| f.outcome == Outcome::Fail).count();
        self.summary.check = found;
        let end = match failure {
            Some(e) => e.map_message(|m| format!("connection test FAILED ({failed} check(s)): {m}")),
            None => Error::config(ErrorCode::ConnectionTestPassed, "connection test passed; reported as failed on purpose so Archer keeps LastRunTime (set testConnection to False to run the feed)"),
        };
        // The run ends here; `fail` keeps the incoming PreviousRunContext (see `Feed::fail`).
        self.check = Some(c);
        self.fail(end);
    }
}

/// A check not made because an earlier one failed.
const SKIP: &str = "not tested: an earlier check failed";
/// The proxy line without a proxy.
const DIRECT: &str = "none: direct connection";

/// The findings so far, and the error the run ends with when something failed (the first failure's).
struct Report {
    found: Vec<Finding>,
    failure: Option<Error>,
}

impl Report {
    fn add(&mut self, check: &'static str, outcome: Outcome, text: &str) {
        push(&mut self.found, check, outcome, text);
    }
}

/// One finding (not inlined: the report adds a dozen).
#[inline(never)]
fn push(found: &mut Vec<Finding>, check: &'static str, outcome: Outcome, text: &str) {
    found.push(Finding { check, outcome, text: text.to_string() });
}

/// `Qualys API limits: 300 calls / 3600 s, 2 concurrent; 287 left` (the parts the headers gave).
#[inline(never)]
pub fn limits_text(h: &super::RateHeaders) -> String {
    let mut parts = Vec::new();
    match (h.limit, h.window_sec) {
        (Some(l), Some(w)) => parts.push(format!("{l} calls / {w} s")),
        (Some(l), None) => parts.push(format!("{l} calls per rate-limit window")),
        _ => {}
    }
    if let Some(c) = h.concurrency_limit {
        parts.push(format!("{c} concurrent"));
    }
    let mut text =
        format!("Qualys API limits: {}", if parts.is_empty() { "not reported".to_string() } else { parts.join(", ") });
    if let Some(r) = h.remaining {
        text.push_str(&format!("; {r} left"));
    }
    text
}

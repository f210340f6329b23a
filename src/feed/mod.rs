//! The feed: a sans-IO state machine that runs one data-feed execution.
//!
//! In scope: turning Custom Parameters + tokens + the current time into requests; taking response
//! heads, body chunks and transport failures (per request id); writing records exactly once into
//! output chunks; deciding when to wait, retry, finish or fail; the resume checkpoint; log lines
//! for the admin (each one bounded line with no secret in it, see `log`; warnings collapsed by kind,
//! see `notes.rs`). Out of scope: HTTP, sleeping, clocks, and the host's output writer: the caller
//! does those (see `js-shim/`).
//!
//! Driving it (the shim's loop):
//! ```text
//! feed = Feed::new(params, tokens, now)
//! loop { match feed.poll(now) {
//!     Send(req)   => start req (don't wait for it): head -> handle_response_head(req.id, ..),
//!                    each body chunk -> handle_body(req.id, chunk) (false = abort it),
//!                    end -> handle_response_end(req.id, ..) | failure -> handle_transport_error(req.id, ..)
//!     Wait{ms}    => sleep up to ms (or until an in-flight response settles), then poll
//!     Pending     => wait until an in-flight response settles, then poll
//!     Done(s)     => success, Fail(e) => failure (abort whatever is still in flight) }
//!   after every call: write every take_output() chunk, log every take_log() line }
//! ```
//! With `concurrency=1` (the default) there is never more than one request in flight.
//! Invariants: records are written only when their element closed; no record ID is written twice
//! in a run, and none from outside the ID range its request asked for (see `crate::plan`; skips
//! are counted in the summary and warned about once each); a chain of pages that does not
//! advance, and every wait or claim of the server, is bounded; a failed run never ends in `Done`.

mod check;
mod classify;
mod notes;
mod pacer;
mod start;
mod transport;
mod types;

use std::collections::{BTreeMap, VecDeque};

pub use self::check::{limits_text, Finding, Outcome};
pub use self::classify::{RateHeaders, Settlement};
pub use self::notes::{WarningKind, LOGGED_PER_KIND};
pub use self::types::{Action, Level, LogLine, ProxySettings, Summary, TokenValues, Tokens, TransportSettings};
use crate::error::{Error, ErrorCode};
use crate::output::Chunk;
use crate::params::HttpMethod;
use crate::params::{Config, DataSource};
use crate::pipeline::Pipeline;
use crate::plan::{Adapted, Admit, FailureKind, Isolation, Plan, Target};
use crate::qualys::urls::MAX_GET_URL_BYTES;
use crate::qualys::versions::{self, Retired};
use crate::records;
use crate::request::{base64, Method, Request};
use crate::response::{Item, Limits, QualysReturn, ResponseParser};
use crate::resume;
pub use crate::resume::{Checkpoint, Situation};
use crate::secret::{Redactor, Secret};
use crate::text;

use self::notes::{Notes, Verdict};
use self::pacer::Pacer;

/// One request in flight and what its response has shown so far.
#[derive(Debug)]
struct Attempt {
    target: Target,
    page: u32,
    /// How it was sent, and the length of the page URL (query included) in bytes.
    method: Method,
    url_len: usize,
    status: Option<u16>,
    headers: RateHeaders,
    parser: ResponseParser,
    next_url: Option<String>,
    qualys: Option<QualysReturn>,
    error: Option<Error>,
    records: u64,
    /// The record list of this response closed (a WARNING followed it): its order is known.
    list_closed: bool,
    /// The transport gave up on it (`ETIMEDOUT`: the idle or whole-response limit).
    timed_out: bool,
    /// Data warnings raised inside a record, logged once the record (and so its ID) is complete.
    pending_notes: Vec<(WarningKind, String)>,
    /// The answer came compressed (`Content-Encoding` other than identity): the HTTP layer decodes
    /// it, the body chunks are the decoded bytes, and `wire` the compressed bytes it reported.
    compressed: bool,
    wire: u64,
    /// Decoded body bytes read.
    body_bytes: u64,
    /// The request's URL is on a retired Qualys API version (`crate::qualys::versions`).
    retired: Option<Retired>,
}

#[derive(Debug)]
enum State {
    Running,
    Finished,
    Failed(Error),
}

/// One data-feed run: the state machine (see the module documentation for the protocol).
pub struct Feed {
    /// The connection test (`testConnection=True`), when this run is one.
    check: Option<check::Check>,
    /// Some response holds data warnings waiting for their record's ID (keeps the per-record path
    /// free of any lookup otherwise).
    notes_pending: bool,
    config: Config,
    plan: Plan,
    state: State,
    in_flight: BTreeMap<u64, Attempt>,
    next_request_id: u64,
    pacer: Pacer,
    /// Admitted records -> Archer records -> chunks -> the output queue.
    pipeline: Pipeline,
    items: Vec<Item>,
    logs: VecDeque<LogLine>,
    summary: Summary,
    started_at: i64,
    /// The checkpoint this run resumed from, if any (kept if the run fails before progressing).
    resumed: Option<Checkpoint>,
    /// Start of the run (ISO) written into a checkpoint.
    started_iso: String,
    /// The hashes of the URL parameter and the LastRunTime token a checkpoint of this run holds.
    url_hash: String,
    token_hash: String,
    /// Qualys's `X-Concurrency-Limit-Limit`, once seen.
    concurrency_limit: Option<u64>,
    /// Whether the first duplicate / out-of-window record was logged (later ones are only counted).
    duplicate_logged: bool,
    out_of_window_logged: bool,
    /// Warnings by kind: the first few are logged, the rest counted (`Summary.warnings`).
    notes: Notes,
    /// The run's secrets in every form, masked in every line and message the feed emits.
    redactor: Redactor,
    /// Delay before the first retry of a page (`retryDelaySec`); later retries wait 3x longer each.
    retry_base_ms: u64,
    /// Why the last failed page waits before it is fetched again (for `Action::Wait`).
    retry_reason: String,
    /// Whether the first answer's compression was logged (once per run), and whether any answer
    /// came compressed (the done line then says which side each byte count measures).
    encoding_logged: bool,
    compressed_seen: bool,
    /// Some response with a usable status arrived in this run: from then on a timeout may mean a
    /// page too large (before, it means nothing answers: a dead proxy or network).
    answered: bool,
    /// `httpMethod=auto` switched to POST (a URL over [`MAX_GET_URL_BYTES`], or a 414): every
    /// later request of the run is a POST.
    post: bool,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("config", &self.config)
            .field("state", &self.state)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl Feed {
    /// The run's data source.
    pub fn data_source(&self) -> DataSource {
        self.config.data_source
    }

    /// How the HTTP layer must make requests (sockets, timeout, TLS, proxy) and the output root.
    pub fn transport(&self) -> TransportSettings {
        // 6 x requestTimeoutSec (30 min at the default 300 s): a 1,000-host detection page with
        // results fits even at ~200 KB/s; a server dripping a byte now and then is cut off.
        const RESPONSE_TIMEOUT_FACTOR: u64 = 6;
        TransportSettings {
            socket_limit: self.config.socket_limit,
            request_timeout_ms: u64::from(self.config.request_timeout_sec) * 1000,
            response_timeout_ms: u64::from(self.config.request_timeout_sec) * 1000 * RESPONSE_TIMEOUT_FACTOR,
            verify_certs: self.config.verify_certs,
            ca_cert: self.config.ca_cert.clone(),
            proxy: self.config.proxy.as_ref().map(|p| ProxySettings {
                url: p.url.to_string(),
                authorization: p.username.as_ref().map(|u| {
                    let pw = p.password.as_ref().map(Secret::expose).unwrap_or("");
                    Secret::new(format!("Basic {}", base64(format!("{u}:{pw}").as_bytes())))
                }),
            }),
            root_node: self
                .config
                .root_node
                .clone()
                .unwrap_or_else(|| self.config.data_source.default_root_node().to_string()),
        }
    }

    /// The counters so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Next output chunk to hand to the host's writer, in order.
    pub fn take_output(&mut self) -> Option<Chunk> {
        self.pipeline.take_output()
    }

    /// Next log line, in order.
    pub fn take_log(&mut self) -> Option<LogLine> {
        self.logs.pop_front()
    }

    /// Logs a line. Every line the feed emits goes through here: one bounded line (control
    /// characters escaped, see `crate::text`), with the run's secrets masked in any form.
    #[inline(never)]
    fn log(&mut self, level: Level, text: impl Into<String>) {
        let text = self.safe(&text.into());
        self.logs.push_back(LogLine { level, text });
    }

    /// `text` as the feed may emit it in a log line or an error message.
    fn safe(&self, text: &str) -> String {
        self.redactor.scrub(&text::line(&self.redactor.scrub(text)))
    }

    /// A Qualys return document with the run's secrets masked in every text it holds.
    fn scrub_return(&self, mut q: QualysReturn) -> QualysReturn {
        let r = &self.redactor;
        q.text = r.scrub(&q.text);
        q.code = q.code.map(|c| r.scrub(&c));
        q.datetime = q.datetime.map(|d| r.scrub(&d));
        for (k, v) in &mut q.items {
            *k = r.scrub(k);
            *v = r.scrub(v);
        }
        q
    }

    /// A warning of a kind (`n` occurrences): counted in `Summary.warnings`; logged only for the
    /// first [`LOGGED_PER_KIND`] warnings of its kind.
    #[inline(never)]
    fn warn(&mut self, kind: WarningKind, n: u64, text: impl Into<String>) {
        let verdict = self.notes.note(kind, n);
        match self.summary.warnings.get_mut(kind.as_str()) {
            Some(count) => *count = count.saturating_add(n.max(1)),
            None => {
                self.summary.warnings.insert(kind.as_str().to_string(), n.max(1));
            }
        }
        match verdict {
            Verdict::Log => self.log(Level::Warn, text),
            Verdict::LogLast => {
                let text = text.into();
                self.log(
                    Level::Warn,
                    format!("{text} (further {} warnings are counted, not logged: see the summary)", kind.as_str()),
                );
            }
            Verdict::Count => {}
        }
    }

    /// The id of the only request in flight, if exactly one is (callers that never run more than
    /// one request at a time may use it instead of tracking ids).
    pub fn sole_request_id(&self) -> Option<u64> {
        let mut ids = self.in_flight.keys();
        match (ids.next(), ids.next()) {
            (Some(id), None) => Some(*id),
            _ => None,
        }
    }

    /// Requests allowed in flight at once: `concurrency`, never above Qualys's limit minus one.
    fn capacity(&self) -> usize {
        let limit = self.concurrency_limit.map_or(u64::MAX, |l| l.saturating_sub(1).max(1));
        (u64::from(self.config.concurrency).min(limit)).max(1) as usize
    }

    /// What to do next. Call it after starting a request and whenever a response settles.
    pub fn poll(&mut self, now_ms: i64) -> Action {
        match &self.state {
            State::Finished => return Action::Done(self.summary.clone()),
            State::Failed(e) => return Action::Fail(e.clone()),
            State::Running => {}
        }
        if self.check.is_some() {
            return self.check_poll(now_ms);
        }
        if self.plan.is_done() && self.in_flight.is_empty() {
            return self.finish(now_ms);
        }
        if self.in_flight.len() < self.capacity() {
            let (delay, why, from_qualys) = self.pacer.delay(now_ms);
            if delay == 0 {
                if let Some(a) = self.plan.next_request(now_ms) {
                    return self.send(now_ms, a);
                }
                // The windows left may all have been finished by an earlier run.
                if self.plan.is_done() && self.in_flight.is_empty() {
                    return self.finish(now_ms);
                }
            } else if self.plan.next_ready_time().is_some_and(|t| t <= now_ms) {
                if self.in_flight.is_empty() {
                    if from_qualys
                        && self.summary.wait_ms.saturating_add(delay) > u64::from(self.config.wait_budget_sec) * 1000
                    {
                        return self.fail(self.budget_error(why, delay));
                    }
                    self.summary.waits = self.summary.waits.saturating_add(1);
                    self.summary.wait_ms = self.summary.wait_ms.saturating_add(delay);
                }
                let reason = format!("waiting {:.1} s before the next request ({why})", delay as f64 / 1000.0);
                if self.in_flight.is_empty() {
                    self.log(Level::Info, reason.clone());
                }
                return Action::Wait { ms: delay, reason };
            }
            if let Some(t) = self.plan.next_ready_time().filter(|t| *t > now_ms) {
                let ms = u64::try_from(t.saturating_sub(now_ms)).unwrap_or(u64::MAX);
                return Action::Wait { ms, reason: self.retry_reason.clone() };
            }
        }
        if self.in_flight.is_empty() {
            // Nothing in flight, nothing ready, plan not done: cannot happen; fail loudly.
            return self.fail(Error::caller(
                ErrorCode::Stalled,
                "the feed has nothing to do but is not finished; this is a bug, please report it",
            ));
        }
        Action::Pending
    }

    /// Whether a request to `url` goes as a POST (`httpMethod`; see [`MAX_GET_URL_BYTES`]).
    fn post_for(&mut self, url: &str) -> bool {
        match self.config.http_method {
            HttpMethod::Get => false,
            HttpMethod::Post => true,
            HttpMethod::Auto => {
                if !self.post && url.len() > MAX_GET_URL_BYTES {
                    self.post = true;
                    self.log(Level::Info, format!("httpMethod=auto: a request URL is {} bytes, longer than the {MAX_GET_URL_BYTES} bytes servers and proxies reliably accept in a GET; this request and every later one of the run is sent as POST, its query as an application/x-www-form-urlencoded body (pages, exactly-once and resume work the same)", url.len()));
                }
                self.post
            }
        }
    }

    #[inline(never)]
    fn send(&mut self, now_ms: i64, a: crate::plan::Assignment) -> Action {
        let id = self.next_request_id;
        self.next_request_id += 1;
        let retired = versions::retired(&a.url);
        let url_len = a.url.len();
        let post = self.post_for(&a.url);
        let (user, pw) = (&self.config.username, &self.config.password);
        let request = match crate::url::Url::parse(&a.url) {
            Ok(url) if post => Request::post(id, &url, user, pw, a.page, a.attempt),
            // The plan's URLs always parse; a GET is the safe fallback.
            _ => Request::get(id, a.url, user, pw, a.page, a.attempt),
        };
        let method = request.method;
        self.pacer.started(now_ms);
        self.summary.requests = self.summary.requests.saturating_add(1);
        // Host-ID discovery (and the lookup of a stalled host) for the detection feeds asks the
        // host list API.
        let kind = if matches!(a.target, Target::Discovery | Target::Lookup(_)) {
            self.config.data_source.discovery_doc_kind()
        } else {
            self.config.data_source.doc_kind()
        };
        let parser = ResponseParser::new(kind, Limits { max_record_bytes: self.config.max_record_bytes });
        self.in_flight.insert(
            id,
            Attempt {
                target: a.target,
                page: a.page,
                method,
                url_len,
                status: None,
                headers: RateHeaders::default(),
                parser,
                next_url: None,
                qualys: None,
                error: None,
                records: 0,
                list_closed: false,
                timed_out: false,
                pending_notes: Vec::new(),
                compressed: false,
                wire: 0,
                body_bytes: 0,
                retired,
            },
        );
        Action::Send(request)
    }

    /// The response's status line and headers arrived.
    pub fn handle_response_head(&mut self, request_id: u64, now_ms: i64, status: u16, headers: &[(String, String)]) {
        let Some(attempt) = self.in_flight.get_mut(&request_id) else {
            self.misuse("handle_response_head", request_id);
            return;
        };
        attempt.status = Some(status);
        attempt.headers = RateHeaders::read(headers);
        if (200..=599).contains(&status) {
            self.answered = true;
        }
        let encoding = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Encoding"))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("identity"));
        attempt.compressed = encoding.is_some();
        if let Some(e) = classify::unusable_status(status) {
            // The body of such a response is not a page: not read at all.
            attempt.error.get_or_insert(e);
        }
        let h = attempt.headers;
        self.note_limits(&h);
        if encoding.is_some() {
            self.compressed_seen = true;
        }
        if (200..=299).contains(&status) && !self.encoding_logged {
            self.encoding_logged = true;
            let text = match encoding {
                Some(e) => format!("Qualys answered compressed (Content-Encoding: {}), decoded by the HTTP client as it streams in: byte counts say which side they measure (decoded, what the parser read; on the wire, as received)", text::server_text(e)),
                None => "Qualys answered uncompressed: bytes read = bytes received".to_string(),
            };
            self.log(Level::Info, text);
        }
        if let Some(limit) = h.concurrency_limit {
            if self.concurrency_limit != Some(limit)
                && u64::from(self.config.concurrency) > limit.saturating_sub(1).max(1)
            {
                self.log(Level::Info, format!("Qualys allows {limit} concurrent API calls for this subscription: using {} at a time (concurrency={} asked)", limit.saturating_sub(1).max(1), self.config.concurrency));
            }
            self.concurrency_limit = Some(limit);
        }
        if h.remaining == Some(0) {
            if let Some(secs) = h.to_wait_sec.filter(|s| *s > 0) {
                // Capped (a day and a second: more than any waitBudgetSec): the next poll then
                // fails the run with WAIT_BUDGET_EXHAUSTED instead of waiting.
                let ms = classify::wait_ms(secs);
                self.pacer.hold_until(now_ms.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)));
            }
        }
    }

    /// A piece of the response body. Returns `false` when reading further is pointless (the
    /// response is already known to be bad): abort the request and call `handle_response_end`.
    pub fn handle_body(&mut self, request_id: u64, chunk: &[u8]) -> bool {
        let Some(attempt) = self.in_flight.get_mut(&request_id) else {
            self.misuse("handle_body", request_id);
            return false;
        };
        if attempt.status.is_none() {
            self.misuse("handle_body before handle_response_head", request_id);
            return false;
        }
        if attempt.error.is_some() {
            return false;
        }
        self.summary.bytes_in += chunk.len() as u64;
        attempt.body_bytes += chunk.len() as u64;
        if !attempt.compressed {
            self.summary.bytes_wire = self.summary.bytes_wire.map(|w| w.saturating_add(chunk.len() as u64));
        }
        let mut items = std::mem::take(&mut self.items);
        let pushed = attempt.parser.push(chunk, &mut items);
        self.absorb(request_id, &mut items);
        self.items = items;
        let Some(attempt) = self.in_flight.get_mut(&request_id) else { return false };
        if let Err(e) = pushed {
            attempt.error.get_or_insert(e);
        }
        attempt.error.is_none()
    }

    /// Bytes of a compressed answer as received on the wire (the HTTP layer decodes it and hands
    /// the decoded bytes to [`Feed::handle_body`]); may be called several times per response.
    pub fn handle_wire_bytes(&mut self, request_id: u64, bytes: u64) {
        let Some(attempt) = self.in_flight.get_mut(&request_id) else {
            self.misuse("handle_wire_bytes", request_id);
            return;
        };
        attempt.wire = attempt.wire.saturating_add(bytes);
        self.summary.bytes_wire = self.summary.bytes_wire.map(|w| w.saturating_add(bytes));
    }

    /// A compressed answer whose HTTP layer did not say how large it was on the wire.
    fn settle_wire(&mut self, attempt: &Attempt) {
        if attempt.compressed && attempt.wire == 0 && attempt.body_bytes > 0 {
            self.summary.bytes_wire = None;
        }
    }

    /// The response body ended (cleanly from the transport's point of view).
    pub fn handle_response_end(&mut self, request_id: u64, now_ms: i64) {
        let Some(attempt) = self.in_flight.get_mut(&request_id) else {
            self.misuse("handle_response_end", request_id);
            return;
        };
        let mut items = std::mem::take(&mut self.items);
        let finished = match attempt.error.take() {
            Some(e) => Err(e),
            None => attempt.parser.finish(&mut items),
        };
        self.absorb(request_id, &mut items);
        self.items = items;
        let Some(attempt) = self.in_flight.remove(&request_id) else { return };
        self.settle_wire(&attempt);
        let status = attempt.status.unwrap_or(0);
        let retired = attempt.retired.as_ref().and_then(|r| {
            classify::retired_version(
                status,
                attempt.qualys.as_ref(),
                r,
                self.config.data_source,
                self.config.url_key(),
            )
        });
        let settlement = match retired {
            Some(e) => Settlement::Fail(e),
            None => classify::settle(status, attempt.headers, finished, attempt.qualys.as_ref(), self.config.url_key()),
        };
        self.settle(now_ms, attempt, settlement);
    }

    /// The request failed in transport (connection reset, timeout, DNS, TLS, proxy).
    /// `code` is the platform's error code (e.g. `ECONNRESET`), `message` its text.
    pub fn handle_transport_error(&mut self, request_id: u64, now_ms: i64, code: &str, message: &str) {
        let Some(mut attempt) = self.in_flight.remove(&request_id) else {
            self.misuse("handle_transport_error", request_id);
            return;
        };
        if let Some(c) = self.check.as_mut() {
            c.transport = Some((code.to_string(), message.to_string()));
        }
        let c = code.trim();
        attempt.timed_out = c.eq_ignore_ascii_case("ETIMEDOUT") || c.eq_ignore_ascii_case("ESOCKETTIMEDOUT");
        self.settle_wire(&attempt);
        if c == ErrorCode::DecompressedTooLarge.as_str() {
            // The HTTP layer stopped decoding a compressed answer that grew beyond its cap: a
            // decompression bomb or a broken proxy. Fetching it again would do the same.
            let e = Error::server(ErrorCode::DecompressedTooLarge, false, format!("{}. The answer was not read further; if it persists, check whatever sits between the feed and Qualys (a proxy rewriting answers).", text::server_text(message)));
            self.settle(now_ms, attempt, Settlement::Fail(e));
            return;
        }
        let failure = transport::classify(code, message);
        // The host's words: outside text, shown rendered and capped.
        let (code, message) = (text::server_text(code), text::server_text(message));
        let settlement = if failure == transport::Failure::Tls {
            Settlement::Fail(Error::config(
                ErrorCode::TlsCertificate,
                format!("The server's TLS certificate was not accepted ({code}: {message}). If Qualys is reached through a TLS-inspecting proxy or a private CA, put that CA's PEM in the caCert parameter; as a last resort set verifyCerts to False (credentials then travel over an unverified connection)."),
            ))
        } else {
            // Records completed before the failure are already written; the retry skips them.
            let what = if c == "EDECOMPRESS" { "a compressed answer arrived damaged" } else { "the connection failed" };
            let (host_port, via_proxy) = self.connects_to();
            let at = transport::Endpoint { host_port: &host_port, via_proxy, url_key: self.config.url_key() };
            let advice = transport::advice(failure, at);
            Settlement::Retry(Error::network(ErrorCode::Network, format!("{what} ({code}: {message}). {advice}")))
        };
        self.settle(now_ms, attempt, settlement);
    }

    /// Turns parser items of one response into output and page facts.
    fn absorb(&mut self, request_id: u64, items: &mut Vec<Item>) {
        let Some(target) = self.in_flight.get(&request_id).map(|a| a.target) else {
            items.clear();
            return;
        };
        for item in items.drain(..) {
            match item {
                Item::Record(tree) => {
                    if self.notes_pending {
                        self.name_pending_notes(request_id, Some(&tree));
                    }
                    self.absorb_record(request_id, target, &tree);
                    // Give the tree back to the parser that built it, for the next records.
                    if let Some(a) = self.in_flight.get_mut(&request_id) {
                        a.parser.recycle(tree);
                    }
                }
                Item::NextPage { url } => {
                    if let Some(a) = self.in_flight.get_mut(&request_id) {
                        a.next_url = Some(url);
                        a.list_closed = true;
                    }
                }
                Item::Warning { code, text } => {
                    let code = code.unwrap_or_default();
                    if code.trim() == "1980" {
                        // "record limit exceeded" with no URL to continue from: finishing here
                        // would silently drop every later page.
                        let e = Error::server(ErrorCode::NextPageUrlMissing, true, format!("Qualys said the page was truncated (WARNING 1980: {text}) but sent no URL for the next page; the page will be fetched again"));
                        if let Some(a) = self.in_flight.get_mut(&request_id) {
                            a.error.get_or_insert(e);
                            a.list_closed = true;
                        }
                    } else {
                        // Bounded: collapsed per kind after a few (notes), each rendered and capped.
                        self.warn(WarningKind::QualysWarning, 1, format!("Qualys warning {code}: {text}"));
                    }
                }
                Item::IdRange { min, .. } if matches!(target, Target::Lookup(_)) => self.plan.looked_up(target, min),
                Item::IdRange { min, max } => {
                    if target == Target::Discovery {
                        if let Err(e) = self.plan.discovered(min, max) {
                            if let Some(a) = self.in_flight.get_mut(&request_id) {
                                a.error.get_or_insert(e);
                            }
                        }
                    }
                }
                Item::QualysReturn(q) => {
                    // Its text ends up in errors and wait reasons: no secret in it from here on.
                    let q = self.scrub_return(q);
                    if let Some(a) = self.in_flight.get_mut(&request_id) {
                        a.qualys = Some(q);
                    }
                }
                Item::Notice(text) => {
                    let (kind, text) = (WarningKind::of_notice(&text), text::server_text(&text));
                    match self.in_flight.get_mut(&request_id) {
                        // Inside a record: named with the record's ID once it is complete.
                        Some(a) if text.ends_with(" record)") && a.pending_notes.len() < 8 => {
                            a.pending_notes.push((kind, text));
                            self.notes_pending = true;
                        }
                        _ => self.warn(kind, 1, text),
                    }
                }
            }
        }
    }

    /// The subscription's limits, from every answer; logged once, from the first that has them.
    #[inline(never)]
    fn note_limits(&mut self, h: &RateHeaders) {
        let s = &mut self.summary;
        let first = s.rate_limit.or(s.calls_left).or(s.concurrency_limit).is_none();
        s.rate_limit = h.limit.or(s.rate_limit);
        s.rate_window_sec = h.window_sec.or(s.rate_window_sec);
        s.calls_left = h.remaining.or(s.calls_left);
        s.concurrency_limit = h.concurrency_limit.or(s.concurrency_limit);
        if first && self.check.is_none() && h.limit.or(h.remaining).or(h.concurrency_limit).is_some() {
            self.log(Level::Info, limits_text(h));
        }
    }

    /// Logs the data warnings raised inside a record, naming it by its ID (host ID or QID).
    #[inline(never)]
    fn name_pending_notes(&mut self, request_id: u64, tree: Option<&crate::xml::Tree>) {
        let Some(a) = self.in_flight.get_mut(&request_id) else { return };
        if a.pending_notes.is_empty() {
            return;
        }
        let notes = std::mem::take(&mut a.pending_notes);
        let source = self.config.data_source;
        let which = source.info().id_label();
        let id =
            tree.and_then(|t| records::id_of(source, t)).map_or_else(|| "unknown".to_string(), |id| id.to_string());
        for (kind, text) in notes {
            self.warn(kind, 1, format!("{text}: {which} {id}"));
        }
    }

    /// One record of a response: its ID for a discovery, else written unless already written in
    /// this run or outside the IDs its request asked for (see `crate::plan`).
    fn absorb_record(&mut self, request_id: u64, target: Target, tree: &crate::xml::Tree) {
        if self.check.is_some() {
            // A connection test writes nothing: the record is only counted.
            if let Some(a) = self.in_flight.get_mut(&request_id) {
                a.records = a.records.saturating_add(1);
            }
            return;
        }
        if matches!(target, Target::Lookup(_)) {
            // A lookup answered with host records: their IDs name the host.
            if let Some(id) = tree.root().child_text("ID").and_then(|t| t.trim().parse::<u64>().ok()) {
                self.plan.looked_up(target, id);
            }
            return;
        }
        let id = records::id_of(self.config.data_source, tree);
        if target == Target::Discovery {
            // A discovery answered with records (e.g. KB details=None): take their IDs.
            if let Some(id) = id {
                if let Err(e) = self.plan.discovered(id, id) {
                    if let Some(a) = self.in_flight.get_mut(&request_id) {
                        a.error.get_or_insert(e);
                    }
                }
            }
            return;
        }
        let admit = match id {
            Some(id) => self.plan.admit(target, id),
            None => self.plan.admit_idless(target, crate::plan::content_hash(tree)),
        };
        match admit {
            Admit::Write => {}
            // A retry reads again what its failed attempt wrote: skipped, nothing to warn about.
            Admit::Reread => return,
            Admit::AlreadyWritten => {
                self.summary.duplicates_skipped += 1;
                if !std::mem::replace(&mut self.duplicate_logged, true) {
                    let what = self.in_flight.get(&request_id).map(|a| self.what(a)).unwrap_or_default();
                    let id = id.unwrap_or_default();
                    self.log(Level::Warn, format!("{what}: Qualys sent record ID {id}, already written in this run by another page, again; it is skipped, not written twice. Later duplicates are only counted (duplicates_skipped in the final summary line)."));
                }
                return;
            }
            Admit::OutOfWindow => {
                self.summary.out_of_window_skipped += 1;
                if !std::mem::replace(&mut self.out_of_window_logged, true) {
                    let what = self.in_flight.get(&request_id).map(|a| self.what(a)).unwrap_or_default();
                    let range =
                        self.plan.page_window(target).map_or_else(String::new, |(lo, hi)| format!(" ({lo} to {hi})"));
                    self.log(Level::Warn, format!("{what}: Qualys sent record ID {} outside the IDs the request asked for{range} (it ignored id_min/id_max); it is not written from this page: an ID is written only by the request whose range holds it. Later ones are only counted (out_of_window_skipped in the final summary line).", id.unwrap_or_default()));
                }
                return;
            }
        }
        let n = self.pipeline.write(tree);
        self.summary.records += n;
        if let Some(a) = self.in_flight.get_mut(&request_id) {
            a.records += n;
        }
        self.sync_output_counts();
    }

    /// The summary's output counters, from the pipeline; what the key check has to say, logged.
    fn sync_output_counts(&mut self) {
        self.summary.chunks = self.pipeline.chunks;
        self.summary.bytes_out = self.pipeline.bytes_out;
        self.summary.key_collisions = self.pipeline.keys.key_collisions;
        self.summary.device_link_collisions = self.pipeline.keys.device_link_collisions;
        // At most a few of each (records::collisions::NAMED) and two one-time notes.
        for note in self.pipeline.keys.take_notes() {
            self.log(Level::Warn, note);
        }
    }

    /// The collision counts with the advice, once at the end of a run (success or failure).
    fn log_collisions(&mut self) {
        if let Some(text) = self.pipeline.keys.summary_text() {
            self.log(Level::Warn, text);
        }
    }

    fn flush_output(&mut self) {
        let n = self.pipeline.flush();
        let first = self.pipeline.take_first_replaced();
        self.sync_output_counts();
        if n > 0 {
            // Named like the parser's data warnings: the element, then the record's ID.
            let which = self.config.data_source.info().id_label();
            let place = first.map_or_else(String::new, |f| {
                let id = f.id.map_or_else(|| "unknown".to_string(), |id| id.to_string());
                format!(
                    " (the first in <{}> of a <{}> record): {which} {id}",
                    text::server_text(&f.element),
                    self.config.data_source.info().record_element
                )
            });
            self.warn(
                WarningKind::ReplacedCharacters,
                n,
                format!("{n} character(s) that XML 1.0 does not allow were replaced by U+FFFD in the output{place}"),
            );
        }
    }

    fn what(&self, attempt: &Attempt) -> String {
        self.describe(attempt.target, attempt.page)
    }

    fn describe(&self, target: Target, page: u32) -> String {
        match target {
            Target::Discovery => "listing the matching IDs".to_string(),
            Target::Segment(_) if self.plan.segment_count() > 1 => {
                format!("range {} page {}", segment_no(target), page)
            }
            Target::Segment(_) => format!("page {page}"),
            Target::Lookup(no) => format!("{} (naming its host)", self.describe(Target::Segment(no), page)),
        }
    }

    #[inline(never)]
    fn settle(&mut self, now_ms: i64, mut attempt: Attempt, settlement: Settlement) {
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        // Data warnings of a record that never completed.
        for (kind, text) in std::mem::take(&mut attempt.pending_notes) {
            self.warn(kind, 1, text);
        }
        if self.check.is_some() {
            self.check_settle(attempt, settlement);
            return;
        }
        let what = self.what(&attempt);
        if attempt.list_closed {
            self.plan.listing_complete(attempt.target);
        }
        if !self.plan.page_ascending(attempt.target) {
            self.log(Level::Warn, format!("{what}: record IDs were not in ascending order; exactly-once writing still holds, but a retried page is fetched from its start"));
        }
        match settlement {
            Settlement::PageDone if matches!(attempt.target, Target::Lookup(_)) => {
                self.lookup_done(&attempt);
            }
            Settlement::PageDone => {
                let smaller = self.plan.page_size(attempt.target).filter(|(now, base)| now < base);
                let finished = match self.plan.page_complete(attempt.target, attempt.next_url.as_deref()) {
                    Ok(f) => f,
                    Err(e) => {
                        self.fail(e.context(format!("{what}: ")));
                        return;
                    }
                };
                if attempt.target == Target::Discovery {
                    self.summary.windows = u64::try_from(self.plan.segment_count()).unwrap_or(u64::MAX);
                    self.log(
                        Level::Info,
                        format!("listed the matching IDs: {} ID range(s) to fetch", self.plan.segment_count()),
                    );
                    return;
                }
                self.flush_output();
                self.summary.pages = self.summary.pages.saturating_add(1);
                if finished && self.summary.windows > 0 {
                    self.summary.windows_done = self.summary.windows_done.saturating_add(1);
                }
                if let Some((was, base)) = smaller {
                    let next = if finished { None } else { self.plan.page_size(attempt.target).map(|p| p.0) };
                    if next == Some(base) {
                        self.log(
                            Level::Info,
                            format!("{what} completed with {was} hosts: the next pages ask for {base} again"),
                        );
                    }
                }
                let elapsed = now_ms.saturating_sub(self.started_at).max(1) as f64 / 1000.0;
                self.log(
                    Level::Info,
                    format!(
                        "{what} done: {} records in page, {} so far, {:.1} MB in{}, {:.1} s elapsed, {:.0} records/s{}",
                        attempt.records,
                        self.summary.records,
                        self.summary.bytes_in as f64 / 1_048_576.0,
                        if self.compressed_seen { " (decoded)" } else { "" },
                        elapsed,
                        self.summary.records as f64 / elapsed,
                        if self.plan.is_done() {
                            "; all pages fetched"
                        } else if finished {
                            ""
                        } else {
                            "; next page follows"
                        }
                    ),
                );
            }
            Settlement::Retry(e) => {
                let kind = if attempt.timed_out {
                    FailureKind::Timeout
                } else if matches!(e.code(), ErrorCode::Http5xx | ErrorCode::QualysInternalError) {
                    FailureKind::ServerError
                } else {
                    FailureKind::Other
                };
                if self.plan.is_check(attempt.target) {
                    // Nothing answers at all: smaller pages would not help.
                    let cause = self.plan.lookup_cause(attempt.target).cloned().unwrap_or_else(|| e.clone());
                    self.fail(cause.context(format!("{what}: the page timed out before Qualys had answered anything in this run, and a small request to the same server failed too ({}: {}); nothing answers: check the network, the proxy parameter and the URL's host. The page's failure: ", e.code(), e.message())));
                    return;
                }
                if matches!(attempt.target, Target::Segment(_)) {
                    // A timeout before anything answered in this run may be a proxy or network that
                    // never answers: a small request tells (see `crate::plan` adapt.rs).
                    if kind == FailureKind::Timeout && !self.answered {
                        if let Some(url) = self.plan.check(attempt.target, e.clone()) {
                            self.plan.attempt_failed(attempt.target, now_ms, false);
                            let url = text::mask_url(&url, &self.redactor);
                            self.log(Level::Warn, format!("{what} timed out ({e}) before Qualys answered anything in this run: asking the host list for one host ID first, to tell a page too large from a server or proxy that does not answer at all: {url}"));
                            return;
                        }
                    }
                    if let Some(host) = self.plan.probing(attempt.target).filter(|_| kind.adaptive()) {
                        self.stalled(attempt.target, host, &what, &e);
                        return;
                    }
                    if let Adapted::Shrunk { from, to } = self.plan.adapt(attempt.target, kind) {
                        self.summary.retries = self.summary.retries.saturating_add(1);
                        let delay = self.retry_base_ms;
                        let not_before = now_ms.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
                        self.plan.attempt_failed(attempt.target, not_before, false);
                        let why =
                            if kind == FailureKind::Timeout { "timed out" } else { "failed again with a server error" };
                        self.retry_reason =
                            format!("{what} {why} ({}); asking for {to} hosts instead of {from}", e.code());
                        self.log(Level::Warn, format!("{what} {why} ({e}); asking again for {to} hosts instead of {from}, from the same place, in {:.1} s (a smaller page: does not count against maxRetry); later pages grow back", delay as f64 / 1000.0));
                        return;
                    }
                }
                let used = self.plan.retries(attempt.target);
                if !self.plan.may_retry(attempt.target) {
                    self.fail(e.context(format!("{what} failed and cannot be fetched again: it held more records without an ID than the feed can remember, so a retry could write some twice: ")));
                    return;
                }
                if used >= self.config.max_retry {
                    // Only once Qualys has answered in the run: before, nothing answers at all.
                    if kind.adaptive() && self.answered && self.plan.can_isolate(attempt.target) {
                        self.isolate(now_ms, attempt.target, &what, e, used + 1);
                        return;
                    }
                    if let Some(cause) = self.plan.lookup_cause(attempt.target).cloned() {
                        self.fail(cause.context(format!("{what}: the page of one host failed and the host-list request to name its host failed too after {} attempt(s) ({e}); the page's failure: ", used + 1)));
                        return;
                    }
                    self.fail(e.context(format!(
                        "{what} failed after {} attempt(s) (maxRetry={}): ",
                        used + 1,
                        self.config.max_retry
                    )));
                    return;
                }
                self.summary.retries = self.summary.retries.saturating_add(1);
                let delay = self.retry_base_ms.saturating_mul(3u64.saturating_pow(used));
                let not_before = now_ms.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
                self.plan.attempt_failed(attempt.target, not_before, true);
                self.retry_reason =
                    format!("{what} failed ({}); retry {} of {}", e.code(), used + 1, self.config.max_retry);
                self.log(
                    Level::Warn,
                    format!(
                        "{what} failed ({e}); retry {} of {} in {:.1} s; records already written are not written again",
                        used + 1,
                        self.config.max_retry,
                        delay as f64 / 1000.0
                    ),
                );
            }
            Settlement::WaitAndRetry { ms, reason } => {
                let budget_ms = u64::from(self.config.wait_budget_sec) * 1000;
                if self.summary.wait_ms.saturating_add(ms) > budget_ms {
                    let e = self.budget_error(&reason, ms);
                    self.fail(e);
                    return;
                }
                self.summary.waits = self.summary.waits.saturating_add(1);
                self.summary.wait_ms = self.summary.wait_ms.saturating_add(ms);
                // A Qualys limit holds every request, not just this one.
                let until = now_ms.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
                self.pacer.hold_until(until);
                self.plan.attempt_failed(attempt.target, until, false);
                self.retry_reason = format!("{what}: {reason}");
                self.log(
                    Level::Warn,
                    format!(
                        "{what}: {reason}; waiting {:.1} s, then retrying (does not count against maxRetry)",
                        ms as f64 / 1000.0
                    ),
                );
            }
            Settlement::UrlTooLong => {
                if attempt.method == Method::Get && self.config.http_method == HttpMethod::Auto {
                    self.post = true;
                    self.plan.attempt_failed(attempt.target, now_ms, false);
                    self.retry_reason = format!("{what}: switching to POST after HTTP 414");
                    self.log(Level::Warn, format!("{what}: Qualys (or a proxy on the way) answered HTTP 414 URI Too Long to a GET of {} bytes; httpMethod=auto: fetching it again as POST (does not count against maxRetry), and every later request of the run too", attempt.url_len));
                } else {
                    let e = if attempt.method == Method::Get {
                        format!("Qualys (or a proxy on the way) answered HTTP 414 URI Too Long: the request URL is {} bytes, more than it accepts in a GET, and httpMethod=GET forbids sending it another way. Set httpMethod to auto (the default: POST once a URL is too long) or POST, which send the query in the request body; or shorten the filters of the {} parameter.", attempt.url_len, self.config.url_key())
                    } else {
                        format!("Qualys (or a proxy on the way) answered HTTP 414 URI Too Long to a POST, whose URL holds only the path; check the {} parameter (host and path) and whatever sits between the feed and Qualys.", self.config.url_key())
                    };
                    self.fail(Error::config(ErrorCode::UrlTooLong, e).context(format!("{what}: ")));
                }
            }
            Settlement::Fail(e) => {
                self.fail(e.context(format!("{what}: ")));
            }
        }
    }

    /// A page of one host failed `attempts` times with `e` (timeouts or 5xx): find its host.
    fn isolate(&mut self, now_ms: i64, target: Target, what: &str, e: Error, attempts: u32) {
        match self.plan.isolate(target, e.clone()) {
            Isolation::Stalled(host) => self.stalled(target, host, what, &e),
            Isolation::Probe(host) => {
                self.plan.attempt_failed(target, now_ms, false);
                self.log(Level::Warn, format!("{what}: a page of one host still failed after {attempts} attempt(s) ({e}); host ID {host} is the first the discovery lists there: asking once more for a page that can hold only that host, to tell whether it is the one"));
            }
            Isolation::Lookup(url) => {
                self.plan.attempt_failed(target, now_ms, false);
                let url = text::mask_url(&url, &self.redactor);
                self.log(Level::Warn, format!("{what}: a page of one host still failed after {attempts} attempt(s) ({e}); asking the host list which host that is: {url}"));
            }
            Isolation::Nothing => {
                self.fail(e.context(format!(
                    "{what} failed after {attempts} attempt(s) (maxRetry={}): ",
                    self.config.max_retry
                )));
            }
        }
    }

    /// The host-list lookup of a stalled page completed.
    fn lookup_done(&mut self, attempt: &Attempt) {
        let Target::Lookup(no) = attempt.target else { return };
        let page = Target::Segment(no);
        let what = self.describe(page, attempt.page);
        let cause = self.plan.lookup_cause(attempt.target).cloned();
        if self.plan.is_check(attempt.target) {
            // Qualys answers: the page's timeout was its size.
            let _ = self.plan.lookup_done(attempt.target);
            if let Adapted::Shrunk { from, to } = self.plan.adapt(page, FailureKind::Timeout) {
                self.summary.retries = self.summary.retries.saturating_add(1);
                let e = cause.map_or_else(String::new, |c| format!(" ({c})"));
                self.log(Level::Warn, format!("{what} timed out{e} but Qualys answers: asking again for {to} hosts instead of {from}, from the same place (a smaller page: does not count against maxRetry); later pages grow back"));
            }
            return;
        }
        match self.plan.lookup_done(attempt.target) {
            Ok(Isolation::Stalled(host)) => {
                let e = cause.unwrap_or_else(|| Error::network(ErrorCode::Network, "the page of one host failed"));
                self.stalled(page, host, &what, &e);
            }
            Ok(Isolation::Probe(host)) => {
                self.log(Level::Warn, format!("{what}: the host list names host ID {host} as the first there; the detection list leaves out hosts without a matching detection, so the page is asked once more, narrowed to end at that host, to tell whether it is the one"));
            }
            Ok(_) => {}
            Err(cause) => {
                self.fail(cause.context(format!("{what}: the host list names no host from where the page starts, so its failure cannot be put down to one host: ")));
            }
        }
    }

    /// `host` cannot be delivered even alone (`e` the last failure): skipped with
    /// `skipStalledHosts`, else the run fails naming it.
    fn stalled(&mut self, target: Target, host: u64, what: &str, e: &Error) {
        if !self.config.skip_stalled_hosts {
            let err = Error::server(
                ErrorCode::HostStalled,
                true,
                format!("Qualys could not deliver host ID {host} even in a page of its own (the last attempt: {}: {}). The run stops with a checkpoint before this host: the next run resumes there. Set skipStalledHosts=True to skip such hosts (each is named in a warning and listed in the summary as stalledHostsSkipped), raise requestTimeoutSec if Qualys is only slow for it, or ask Qualys support about host ID {host}.", e.code(), e.message()),
            );
            self.fail(err.context(format!("{what}: ")));
            return;
        }
        self.plan.skip_host(target, host);
        if self.summary.stalled_hosts_skipped.len() < MAX_LISTED_STALLED {
            self.summary.stalled_hosts_skipped.push(host);
        }
        // Every skipped host is named in its own warning (never collapsed: each one cost several
        // timed-out attempts, so there are few), and counted in `warnings.stalledHost`.
        self.notes.note(WarningKind::StalledHost, 1);
        let count = self.summary.warnings.entry(WarningKind::StalledHost.as_str().to_string()).or_insert(0);
        *count = count.saturating_add(1);
        self.log(Level::Warn, format!("{what}: Qualys could not deliver host ID {host} even in a page of its own ({}: {}); skipStalledHosts=True: the host is skipped, not written (listed in the summary as stalledHostsSkipped; a resumed run would try it again), and the run goes on after it", e.code(), e.message()));
    }

    fn budget_error(&self, reason: &str, more_ms: u64) -> Error {
        Error::server(
            ErrorCode::WaitBudgetExhausted,
            false,
            format!("{reason}; the feed has already waited {:.0} s for Qualys limits and waiting {:.0} s more would exceed waitBudgetSec={}. Lower requestsPerMin or concurrency, run the feed when other API users are idle, or raise waitBudgetSec.", self.summary.wait_ms as f64 / 1000.0, more_ms as f64 / 1000.0, self.config.wait_budget_sec),
        )
    }

    #[inline(never)]
    fn finish(&mut self, now_ms: i64) -> Action {
        self.flush_output();
        self.log_collisions();
        self.summary.highest_id = self.plan.highest_id();
        self.summary.elapsed_ms = u64::try_from(now_ms.saturating_sub(self.started_at)).unwrap_or(0);
        self.summary.previous_run_context = String::new();
        let s = &self.summary;
        // Which side the byte count measures, when some answer came compressed (runs without
        // compression log as before: what the parser read is what came over the wire).
        let wire = match (self.compressed_seen, s.bytes_wire) {
            (false, _) => String::new(),
            (true, Some(w)) => format!(" decoded ({:.1} MB on the wire)", w as f64 / 1_048_576.0),
            (true, None) => {
                " decoded (wire size unknown: the HTTP client decodes compressed answers itself)".to_string()
            }
        };
        let mut text = format!(
            "done: dataSource={} records={} pages={} requests={} retries={} waits={} ({:.1} s) in={:.1} MB{wire} out={:.1} MB duplicates_skipped={} out_of_window_skipped={} elapsed={:.1} s",
            s.data_source, s.records, s.pages, s.requests, s.retries, s.waits, s.wait_ms as f64 / 1000.0, s.bytes_in as f64 / 1_048_576.0, s.bytes_out as f64 / 1_048_576.0, s.duplicates_skipped, s.out_of_window_skipped, s.elapsed_ms as f64 / 1000.0
        );
        if !s.stalled_hosts_skipped.is_empty() {
            let ids: Vec<String> = s.stalled_hosts_skipped.iter().take(20).map(u64::to_string).collect();
            let total = s.warnings.get(WarningKind::StalledHost.as_str()).copied().unwrap_or(0);
            let more = total.saturating_sub(ids.len() as u64);
            text.push_str(&format!(
                "; stalled hosts skipped (not written): {}{}",
                ids.join(", "),
                if more > 0 { format!(" and {more} more (see the summary)") } else { String::new() }
            ));
        }
        if let Some(left) = s.calls_left {
            text.push_str(&format!("; Qualys API calls: {} used, {left} left", s.requests));
            if let (Some(l), Some(w)) = (s.rate_limit, s.rate_window_sec) {
                text.push_str(&format!(" of {l} / {w} s"));
            }
        }
        let totals = self.notes.totals();
        if !totals.is_empty() {
            text.push_str(&format!("; warnings: {totals}"));
        }
        self.log(Level::Info, text);
        self.state = State::Finished;
        Action::Done(self.summary.clone())
    }

    /// The token a failure at this moment would leave in `previousRunContext` ("" when there is
    /// nothing to resume: no progress yet, or the run finished). A host may keep the latest one so
    /// that it can still hand Archer a checkpoint if the core itself stops working.
    pub fn checkpoint_now(&self) -> String {
        if let Some(c) = &self.check {
            return c.incoming_context.clone();
        }
        match &self.state {
            State::Running => self.checkpoint().map(|c| c.encode()).unwrap_or_default(),
            State::Failed(_) => self.summary.previous_run_context.clone(),
            State::Finished => String::new(),
        }
    }

    /// The checkpoint a failed run leaves for the next one.
    fn checkpoint(&self) -> Option<Checkpoint> {
        let run = resume::RunIdentity {
            data_source: self.config.data_source,
            url_hash: self.url_hash.clone(),
            token_hash: self.token_hash.clone(),
            last_run_time: self.summary.last_run_time_used.clone(),
            started: self.started_iso.clone(),
        };
        resume::leave(&self.plan, self.resumed.as_ref(), &run)
    }

    #[inline(never)]
    fn fail(&mut self, e: Error) -> Action {
        // The message may quote server text or a URL: one bounded line, no secret.
        let e = e.map_message(|m| self.safe(m));
        self.flush_output();
        let s = &self.summary;
        if s.duplicates_skipped > 0 || s.out_of_window_skipped > 0 {
            let text = format!(
                "records skipped before the failure: duplicates_skipped={} out_of_window_skipped={}",
                s.duplicates_skipped, s.out_of_window_skipped
            );
            self.log(Level::Info, text);
        }
        self.log_collisions();
        self.summary.highest_id = self.plan.highest_id();
        // A connection test hands back the PreviousRunContext it was given, unchanged.
        self.summary.previous_run_context = match &self.check {
            Some(c) => c.incoming_context.clone(),
            None => self.checkpoint().map(|c| c.encode()).unwrap_or_default(),
        };
        self.log(Level::Error, e.to_string());
        if self.check.is_none() {
            // A failed run sums up too: what reached the writer, what it cost, what the next run does.
            let s = &self.summary;
            let mut text = format!(
                "failed run: dataSource={} records={} (written before the failure) pages={} requests={} retries={} waits={} ({:.1} s)",
                s.data_source, s.records, s.pages, s.requests, s.retries, s.waits, s.wait_ms as f64 / 1000.0
            );
            if let Some(left) = s.calls_left {
                text.push_str(&format!("; Qualys API calls: {} used, {left} left", s.requests));
            }
            text.push_str(if s.previous_run_context.is_empty() {
                "; no checkpoint: the next run starts again from LastRunTime"
            } else {
                "; checkpoint kept in PreviousRunContext: the next run resumes from it"
            });
            text.push_str(". Whether Archer keeps or discards the items a failed run wrote is up to Archer; the next run writes what it fetches again, each record once.");
            self.log(Level::Info, text);
        }
        let totals = self.notes.totals();
        if !totals.is_empty() {
            self.log(Level::Info, format!("warnings during this run: {totals}"));
        }
        if !self.summary.previous_run_context.is_empty() && self.check.is_none() {
            self.log(
                Level::Info,
                format!("the next run resumes from this checkpoint: {}", self.summary.previous_run_context),
            );
        }
        self.state = State::Failed(e.clone());
        Action::Fail(e)
    }

    fn misuse(&mut self, what: &str, request_id: u64) {
        if !matches!(self.state, State::Failed(_)) {
            self.fail(Error::caller(ErrorCode::OutOfOrderCall, format!("{what} was called for request {request_id}, which is not in flight; the caller must follow poll() -> Send -> head -> body -> end")));
        }
    }
}

fn segment_no(target: Target) -> usize {
    match target {
        Target::Segment(i) | Target::Lookup(i) => i + 1,
        Target::Discovery => 0,
    }
}

/// Most stalled host IDs listed in `Summary.stalled_hosts_skipped`, so the JSON summary line stays
/// within a log line (all are named in a warning each and counted in `warnings.stalledHost`).
pub const MAX_LISTED_STALLED: usize = 64;

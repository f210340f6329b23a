//! The feed: a sans-IO state machine that runs one data-feed execution.
//!
//! In scope: turning Custom Parameters + tokens + the current time into requests; taking response
//! heads, body chunks and transport failures; writing records exactly once into output chunks;
//! deciding when to wait, retry, finish or fail; log lines for the admin. Out of scope: HTTP,
//! sleeping, clocks, and the host's output writer: the caller does those (see `js-shim/`).
//!
//! Driving it (the shim's loop):
//! ```text
//! feed = Feed::new(params, tokens, now)
//! loop { match feed.poll(now) {
//!     Send(req)  => { feed.handle_response_head(now, status, headers);
//!                     for chunk in body { if !feed.handle_body(chunk) { abort; break } }
//!                     feed.handle_response_end(now)   // or handle_transport_error(now, ..)
//!                   }
//!     Wait{ms}   => sleep(ms),
//!     Done(s)    => break success, Fail(e) => break failure }
//!   write every feed.take_output(); log every feed.take_log() }
//! ```
//! Invariants: records are written only when their element closed; a retried page never writes a
//! record twice (see `crate::plan`); a failed run never ends in `Done`.

mod classify;
mod pacer;
mod types;

use std::collections::VecDeque;

use chrono::DateTime;

pub use self::classify::{RateHeaders, Settlement};
pub use self::types::{Action, Level, LogLine, ProxySettings, Summary, Tokens, TransportSettings};
use crate::error::{Error, Result};
use crate::last_run_time;
use crate::output::{Chunk, Chunker};
use crate::params::{self, Config, DataSource};
use crate::plan::{Admit, Plan};
use crate::records;
use crate::request::{base64, Request};
use crate::response::{DocKind, Item, Limits, QualysReturn, ResponseParser};
use crate::secret::Secret;
use crate::url::Url;

use self::pacer::Pacer;

#[derive(Debug)]
enum State {
    Ready,
    Waiting { until: i64, reason: String },
    InFlight(Box<Attempt>),
    Finished,
    Failed(Error),
}

/// One request in flight and what its response has shown so far.
#[derive(Debug)]
struct Attempt {
    page: u32,
    status: Option<u16>,
    headers: RateHeaders,
    parser: ResponseParser,
    next_url: Option<String>,
    qualys: Option<QualysReturn>,
    error: Option<Error>,
    records: u64,
    bytes: u64,
}

pub struct Feed {
    config: Config,
    plan: Plan,
    state: State,
    pacer: Pacer,
    chunker: Chunker,
    items: Vec<Item>,
    outputs: VecDeque<Chunk>,
    logs: VecDeque<LogLine>,
    summary: Summary,
    started_at: i64,
    /// Retries used by the current page.
    page_retries: u32,
    notices_logged: u32,
    /// Delay before the first retry of a page (`retryDelaySec`); later retries wait 3x longer each.
    retry_base_ms: u64,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").field("config", &self.config).field("state", &self.state).field("summary", &self.summary).finish_non_exhaustive()
    }
}

impl Feed {
    /// Validates the parameters, resolves LastRunTime against `now_ms` (milliseconds since the
    /// Unix epoch), and plans the first page. Fails only on configuration errors.
    pub fn new(params: &[(String, String)], tokens: &Tokens, now_ms: i64) -> Result<Feed> {
        let parsed = params::parse(params)?;
        let config = parsed.config;
        let now = DateTime::from_timestamp_millis(now_ms).ok_or_else(|| Error::caller("BAD_TIME", format!("the current time {now_ms} ms is out of range")))?;
        let mut logs = VecDeque::new();
        let mut log = |level, text: String| logs.push_back(LogLine { level, text });
        for w in parsed.warnings {
            log(Level::Warn, w);
        }
        let mut summary = Summary { data_source: config.data_source.as_str().to_string(), ..Default::default() };
        let url_text = if config.url_template.contains(last_run_time::PLACEHOLDER) {
            let resolved = last_run_time::resolve(tokens.last_run_time.as_deref(), config.last_run_time_offset_days, now);
            for w in resolved.warnings {
                log(Level::Warn, w);
            }
            let value = last_run_time::format(resolved.value);
            summary.last_run_time_used = Some(value.clone());
            last_run_time::substitute(&config.url_template, &value)
        } else {
            log(Level::Info, format!("{} has no <LastRunTime> placeholder: the URL is used as given and every run fetches all it selects", config.url_key()));
            config.url_template.clone()
        };
        let url = Url::parse(&url_text).map_err(|why| Error::config("CONFIG_INVALID", format!("{}: {why}", config.url_key())))?;
        let plan = Plan::new(config.data_source, url, config.batch_size);
        log(
            Level::Info,
            format!(
                "starting dataSource={} url={} LastRunTime={} batchSize={} requestsPerMin={} maxRetry={} verifyCerts={}",
                config.data_source.as_str(),
                plan.first_url(),
                summary.last_run_time_used.as_deref().unwrap_or("(not used)"),
                config.batch_size,
                config.requests_per_min,
                config.max_retry,
                config.verify_certs
            ),
        );
        Ok(Feed {
            pacer: Pacer::new(config.requests_per_min),
            chunker: Chunker::new(config.output_chunk_records, config.output_chunk_bytes),
            retry_base_ms: u64::from(config.retry_delay_sec) * 1000,
            config,
            plan,
            state: State::Ready,
            items: Vec::new(),
            outputs: VecDeque::new(),
            logs,
            summary,
            started_at: now_ms,
            page_retries: 0,
            notices_logged: 0,
        })
    }

    pub fn data_source(&self) -> DataSource {
        self.config.data_source
    }

    /// How the HTTP layer must make requests (sockets, timeout, TLS, proxy) and the output root.
    pub fn transport(&self) -> TransportSettings {
        TransportSettings {
            socket_limit: self.config.socket_limit,
            request_timeout_ms: u64::from(self.config.request_timeout_sec) * 1000,
            verify_certs: self.config.verify_certs,
            ca_cert: self.config.ca_cert.clone(),
            proxy: self.config.proxy.as_ref().map(|p| ProxySettings {
                url: p.url.to_string(),
                authorization: p.username.as_ref().map(|u| {
                    let pw = p.password.as_ref().map(Secret::expose).unwrap_or("");
                    Secret::new(format!("Basic {}", base64(format!("{u}:{pw}").as_bytes())))
                }),
            }),
            root_node: self.config.root_node.clone().unwrap_or_else(|| records::default_root_node(self.config.data_source).to_string()),
        }
    }

    /// The counters so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Next output chunk to hand to the host's writer, in order.
    pub fn take_output(&mut self) -> Option<Chunk> {
        self.outputs.pop_front()
    }

    /// Next log line, in order.
    pub fn take_log(&mut self) -> Option<LogLine> {
        self.logs.pop_front()
    }

    fn log(&mut self, level: Level, text: impl Into<String>) {
        self.logs.push_back(LogLine { level, text: text.into() });
    }

    /// What to do next. Call it whenever no response is in flight.
    pub fn poll(&mut self, now_ms: i64) -> Action {
        loop {
            match &self.state {
                State::Finished => return Action::Done(self.summary.clone()),
                State::Failed(e) => return Action::Fail(e.clone()),
                State::InFlight(_) => {
                    return self.fail(Error::caller("POLL_DURING_RESPONSE", "poll() was called while a response was still being read; finish it with handle_response_end or handle_transport_error first"));
                }
                State::Waiting { until, reason } => {
                    if now_ms < *until {
                        return Action::Wait { ms: (*until - now_ms) as u64, reason: reason.clone() };
                    }
                    self.state = State::Ready;
                }
                State::Ready => {
                    if self.plan.is_done() {
                        return self.finish(now_ms);
                    }
                    let (delay, why) = self.pacer.delay(now_ms);
                    if delay > 0 {
                        self.summary.waits += 1;
                        self.summary.wait_ms += delay;
                        let reason = format!("waiting {:.1} s before the next request ({why})", delay as f64 / 1000.0);
                        self.log(Level::Info, reason.clone());
                        self.state = State::Waiting { until: now_ms + delay as i64, reason };
                        continue;
                    }
                    return self.send(now_ms);
                }
            }
        }
    }

    fn send(&mut self, now_ms: i64) -> Action {
        let Some(url) = self.plan.current_url() else {
            return self.finish(now_ms);
        };
        let page = self.plan.pages_done() + 1;
        let request = Request::get(url, &self.config.username, &self.config.password, page, self.page_retries);
        self.pacer.started(now_ms);
        self.summary.requests += 1;
        let kind = match self.config.data_source {
            DataSource::Kb => DocKind::KnowledgeBase,
            DataSource::Hosts => DocKind::HostList,
            DataSource::HostDetections | DataSource::Detections => DocKind::Detections,
        };
        let parser = ResponseParser::new(kind, Limits { max_record_bytes: self.config.max_record_bytes });
        self.state = State::InFlight(Box::new(Attempt { page, status: None, headers: RateHeaders::default(), parser, next_url: None, qualys: None, error: None, records: 0, bytes: 0 }));
        Action::Send(request)
    }

    /// The response's status line and headers arrived.
    pub fn handle_response_head(&mut self, now_ms: i64, status: u16, headers: &[(String, String)]) {
        let State::InFlight(attempt) = &mut self.state else {
            self.misuse("handle_response_head");
            return;
        };
        attempt.status = Some(status);
        attempt.headers = RateHeaders::read(headers);
        if attempt.headers.remaining == Some(0) {
            if let Some(secs) = attempt.headers.to_wait_sec.filter(|s| *s > 0) {
                self.pacer.hold_until(now_ms + (secs as i64 + 1) * 1000);
            }
        }
    }

    /// A piece of the response body. Returns `false` when reading further is pointless (the
    /// response is already known to be bad): abort the request and call `handle_response_end`.
    pub fn handle_body(&mut self, chunk: &[u8]) -> bool {
        let State::InFlight(attempt) = &mut self.state else {
            self.misuse("handle_body");
            return false;
        };
        if attempt.status.is_none() {
            self.misuse("handle_body before handle_response_head");
            return false;
        }
        if attempt.error.is_some() {
            return false;
        }
        attempt.bytes += chunk.len() as u64;
        self.summary.bytes_in += chunk.len() as u64;
        let mut items = std::mem::take(&mut self.items);
        let pushed = attempt.parser.push(chunk, &mut items);
        self.absorb(&mut items);
        self.items = items;
        if let Err(e) = pushed {
            if let State::InFlight(attempt) = &mut self.state {
                attempt.error = Some(e);
            }
            return false;
        }
        true
    }

    /// The response body ended (cleanly from the transport's point of view).
    pub fn handle_response_end(&mut self, now_ms: i64) {
        let State::InFlight(attempt) = &mut self.state else {
            self.misuse("handle_response_end");
            return;
        };
        let mut items = std::mem::take(&mut self.items);
        let finished = match attempt.error.take() {
            Some(e) => Err(e),
            None => attempt.parser.finish(&mut items),
        };
        self.absorb(&mut items);
        self.items = items;
        self.settle_attempt(now_ms, finished);
    }

    /// The request failed in transport (connection reset, timeout, DNS, TLS, proxy).
    /// `code` is the platform's error code (e.g. `ECONNRESET`), `message` its text.
    pub fn handle_transport_error(&mut self, now_ms: i64, code: &str, message: &str) {
        if !matches!(self.state, State::InFlight(_)) {
            self.misuse("handle_transport_error");
            return;
        }
        let tls = code.contains("CERT") || code.contains("SELF_SIGNED") || code.starts_with("ERR_TLS") || message.contains("certificate");
        let err = if tls {
            Error::config(
                "TLS_CERTIFICATE",
                format!("The server's TLS certificate was not accepted ({code}: {message}). If Qualys is reached through a TLS-inspecting proxy or a private CA, put that CA's PEM in the caCert parameter; as a last resort set verifyCerts to False (credentials then travel over an unverified connection)."),
            )
        } else {
            Error::network("NETWORK", format!("the connection failed ({code}: {message})"))
        };
        if let State::InFlight(attempt) = &mut self.state {
            // Records completed before the failure are already written; the retry skips them.
            attempt.status.get_or_insert(0);
        }
        self.settle_with(now_ms, if err.is_retryable() { Settlement::Retry(err) } else { Settlement::Fail(err) });
    }

    /// Turns parser items into output and page facts.
    fn absorb(&mut self, items: &mut Vec<Item>) {
        for item in items.drain(..) {
            match item {
                Item::Record(el) => {
                    let shaped = records::shape(self.config.data_source, el);
                    if self.plan.admit(shaped.id) == Admit::AlreadyWritten {
                        self.summary.duplicates_skipped += 1;
                        continue;
                    }
                    if let State::InFlight(a) = &mut self.state {
                        a.records += shaped.records.len() as u64;
                    }
                    for rec in &shaped.records {
                        self.summary.records += 1;
                        if let Some(chunk) = self.chunker.push(rec) {
                            self.emit(chunk);
                        }
                    }
                }
                Item::NextPage { url } => {
                    if let State::InFlight(a) = &mut self.state {
                        a.next_url = Some(url);
                    }
                }
                Item::Warning { code, text } => {
                    let code = code.unwrap_or_default();
                    if code.trim() == "1980" {
                        // "record limit exceeded" with no URL to continue from: finishing here
                        // would silently drop every later page.
                        let e = Error::server("NEXT_PAGE_URL_MISSING", true, format!("Qualys said the page was truncated (WARNING 1980: {text}) but sent no URL for the next page; the page will be fetched again"));
                        if let State::InFlight(a) = &mut self.state {
                            a.error.get_or_insert(e);
                        }
                    } else {
                        self.log(Level::Warn, format!("Qualys warning {code}: {text}"));
                    }
                }
                Item::IdRange { .. } => {}
                Item::QualysReturn(q) => {
                    if let State::InFlight(a) = &mut self.state {
                        a.qualys = Some(q);
                    }
                }
                Item::Notice(text) => {
                    if self.notices_logged < 20 {
                        self.notices_logged += 1;
                        self.log(Level::Warn, text);
                    }
                }
            }
        }
    }

    fn emit(&mut self, chunk: Chunk) {
        self.summary.chunks += 1;
        self.summary.bytes_out += chunk.xml.len() as u64;
        self.outputs.push_back(chunk);
    }

    fn flush_output(&mut self) {
        if let Some(chunk) = self.chunker.flush() {
            self.emit(chunk);
        }
        if self.chunker.replaced_chars > 0 {
            let n = std::mem::take(&mut self.chunker.replaced_chars);
            self.log(Level::Warn, format!("{n} character(s) that XML 1.0 does not allow were replaced by U+FFFD in the output"));
        }
    }

    fn settle_attempt(&mut self, now_ms: i64, parsed: Result<()>) {
        let State::InFlight(attempt) = &self.state else { return };
        let settlement = classify::settle(attempt.status.unwrap_or(0), attempt.headers, parsed, attempt.qualys.as_ref(), self.config.url_key());
        self.settle_with(now_ms, settlement);
    }

    fn settle_with(&mut self, now_ms: i64, settlement: Settlement) {
        let State::InFlight(attempt) = std::mem::replace(&mut self.state, State::Ready) else { return };
        if !self.plan.page_ascending() {
            self.log(Level::Warn, format!("page {}: record IDs were not in ascending order; exactly-once writing still holds, but a retried page is fetched from its start", attempt.page));
        }
        match settlement {
            Settlement::PageDone => {
                if let Err(e) = self.plan.page_complete(attempt.next_url.as_deref()) {
                    self.fail(e);
                    return;
                }
                self.flush_output();
                self.summary.pages += 1;
                self.page_retries = 0;
                let elapsed = (now_ms - self.started_at).max(1) as f64 / 1000.0;
                self.log(
                    Level::Info,
                    format!(
                        "page {} done: {} records in page, {} so far, {:.1} MB in, {:.1} s elapsed, {:.0} records/s{}",
                        attempt.page,
                        attempt.records,
                        self.summary.records,
                        self.summary.bytes_in as f64 / 1_048_576.0,
                        elapsed,
                        self.summary.records as f64 / elapsed,
                        if self.plan.is_done() { "; last page" } else { "; next page follows" }
                    ),
                );
            }
            Settlement::Retry(e) => {
                if self.page_retries >= self.config.max_retry {
                    let tries = self.page_retries + 1;
                    self.fail(e.context(format!("page {} failed after {tries} attempt(s) (maxRetry={}): ", attempt.page, self.config.max_retry)));
                    return;
                }
                self.page_retries += 1;
                self.summary.retries += 1;
                let delay = self.retry_base_ms.saturating_mul(3u64.saturating_pow(self.page_retries - 1));
                let reason = format!("page {} failed ({e}); retry {} of {} in {:.1} s; records already written are not written again", attempt.page, self.page_retries, self.config.max_retry, delay as f64 / 1000.0);
                self.log(Level::Warn, reason.clone());
                self.state = State::Waiting { until: now_ms + delay as i64, reason };
            }
            Settlement::WaitAndRetry { ms, reason } => {
                let budget_ms = u64::from(self.config.wait_budget_sec) * 1000;
                if self.summary.wait_ms.saturating_add(ms) > budget_ms {
                    self.fail(Error::server(
                        "WAIT_BUDGET_EXHAUSTED",
                        false,
                        format!("{reason}; the feed has already waited {:.0} s for Qualys limits and waiting {:.0} s more would exceed waitBudgetSec={}. Lower requestsPerMin, run the feed when other API users are idle, or raise waitBudgetSec.", self.summary.wait_ms as f64 / 1000.0, ms as f64 / 1000.0, self.config.wait_budget_sec),
                    ));
                    return;
                }
                self.summary.waits += 1;
                self.summary.wait_ms += ms;
                let reason = format!("page {}: {reason}; waiting {:.1} s, then retrying (does not count against maxRetry)", attempt.page, ms as f64 / 1000.0);
                self.log(Level::Warn, reason.clone());
                self.state = State::Waiting { until: now_ms + ms as i64, reason };
            }
            Settlement::Fail(e) => {
                self.fail(e.context(format!("page {}: ", attempt.page)));
            }
        }
    }

    fn finish(&mut self, now_ms: i64) -> Action {
        self.flush_output();
        self.summary.highest_id = self.plan.highest_id();
        self.summary.elapsed_ms = (now_ms - self.started_at).max(0) as u64;
        let s = &self.summary;
        let text = format!(
            "done: dataSource={} records={} pages={} requests={} retries={} waits={} ({:.1} s) in={:.1} MB out={:.1} MB duplicates_skipped={} elapsed={:.1} s",
            s.data_source, s.records, s.pages, s.requests, s.retries, s.waits, s.wait_ms as f64 / 1000.0, s.bytes_in as f64 / 1_048_576.0, s.bytes_out as f64 / 1_048_576.0, s.duplicates_skipped, s.elapsed_ms as f64 / 1000.0
        );
        self.log(Level::Info, text);
        self.state = State::Finished;
        Action::Done(self.summary.clone())
    }

    fn fail(&mut self, e: Error) -> Action {
        self.flush_output();
        self.summary.highest_id = self.plan.highest_id();
        self.log(Level::Error, e.to_string());
        self.state = State::Failed(e.clone());
        Action::Fail(e)
    }

    fn misuse(&mut self, what: &str) {
        if !matches!(self.state, State::Failed(_)) {
            self.fail(Error::caller("OUT_OF_ORDER_CALL", format!("{what} was called when no request was in flight; the caller must follow poll() -> Send -> head -> body -> end")));
        }
    }
}

//! Values the feed exchanges with its caller: tokens in; actions, log lines, transport settings
//! and the run summary out. Plain data, no behaviour.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::request::Request;
use crate::secret::Secret;
use crate::value::Value;

/// Archer's data-feed tokens as the host passes them (`context.Tokens`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    /// The LastRunTime token, as text.
    pub last_run_time: Option<String>,
    /// The checkpoint a failed run left (`PreviousRunContext`).
    pub previous_run_context: Option<String>,
}

/// The tokens as a JavaScript host may pass them, of any type (see `Feed::with_values`).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenValues {
    /// A string, a Date, a number of seconds or milliseconds since 1970, or missing
    /// (see `crate::last_run_time::token_text`).
    pub last_run_time: Value,
    /// The checkpoint text; any other type is ignored with a warning.
    pub previous_run_context: Value,
}

impl Default for TokenValues {
    fn default() -> Self {
        TokenValues { last_run_time: Value::Missing, previous_run_context: Value::Missing }
    }
}

impl From<&Tokens> for TokenValues {
    fn from(t: &Tokens) -> Self {
        TokenValues {
            last_run_time: Value::from(t.last_run_time.as_deref()),
            previous_run_context: Value::from(t.previous_run_context.as_deref()),
        }
    }
}

/// What the caller must do next.
// `Done` carries the whole Summary, once per run: not worth a Box on every `Send`/`Wait`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Action {
    /// Start this request now (without waiting for it), then report its response
    /// (`handle_response_head`, `handle_body`, `handle_response_end`) or its failure
    /// (`handle_transport_error`) under `request.id`, and poll again.
    Send(Request),
    /// Wait this long (or until an in-flight response settles), then poll again.
    /// `reason` is for the log.
    Wait {
        /// How long.
        ms: u64,
        /// Why, for the log.
        reason: String,
    },
    /// Nothing to start now: wait until an in-flight response settles, then poll again.
    Pending,
    /// The run succeeded. Take the remaining output first.
    Done(Summary),
    /// The run failed; never report success. Take the remaining output and log lines first.
    Fail(Error),
}

/// The level of a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Details.
    Debug,
    /// Progress.
    Info,
    /// Something that deserves a look.
    Warn,
    /// The run failed.
    Error,
}

impl Level {
    /// `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// One log line; the shim adds the timestamp (`<ISO> :: <LEVEL> :: <text>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// How important the line is.
    pub level: Level,
    /// The text (one bounded line, no secret).
    pub text: String,
}

/// Proxy settings for the HTTP layer. `authorization` is a ready `Basic ...` value.
#[derive(Clone, Debug)]
pub struct ProxySettings {
    /// `http://host:port`, without credentials (safe to log).
    pub url: String,
    /// The `Proxy-Authorization` value, when the proxy has credentials.
    pub authorization: Option<Secret>,
}

/// How the HTTP layer must make requests. Validated by the core from the Custom Parameters.
#[derive(Clone, Debug)]
pub struct TransportSettings {
    /// Most open sockets to Qualys (`socketLimit`).
    pub socket_limit: u32,
    /// Idle limit: the longest the server may send nothing (before the head, between body chunks).
    pub request_timeout_ms: u64,
    /// Whole-response limit: the longest one request may take from send to the body's end
    /// (`RESPONSE_TIMEOUT_FACTOR` x the idle limit), so a server dripping bytes is cut off.
    pub response_timeout_ms: u64,
    /// Whether Qualys's TLS certificate is checked (`verifyCerts`).
    pub verify_certs: bool,
    /// Extra CA certificate to trust, PEM (`caCert`).
    pub ca_cert: Option<String>,
    /// The HTTP proxy, if any (`proxy`).
    pub proxy: Option<ProxySettings>,
    /// The output's root element (`rootNode`, else the data source's default).
    pub root_node: String,
}

/// Counters of one run, reported at the end (and readable at any time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// The `dataSource` value.
    pub data_source: String,
    /// Records written.
    pub records: u64,
    /// Pages completed.
    pub pages: u32,
    /// Requests started (retries and discovery included).
    pub requests: u32,
    /// Retries of failed pages.
    pub retries: u32,
    /// Waits for Qualys limits or the request pacing.
    pub waits: u32,
    /// Milliseconds spent in those waits.
    pub wait_ms: u64,
    /// Response body bytes the parser read: decoded bytes when an answer came compressed.
    pub bytes_in: u64,
    /// Response body bytes as received on the wire (compressed where the answer was); `None` when
    /// the HTTP client decoded a compressed answer without saying its size (fetch without a
    /// Content-Length). `bytesWire` (`null`) in JavaScript.
    pub bytes_wire: Option<u64>,
    /// Output bytes written.
    pub bytes_out: u64,
    /// Output chunks written.
    pub chunks: u32,
    /// Records skipped because their ID was already written in this run (overlapping pages,
    /// a server repeating itself, a retried page).
    pub duplicates_skipped: u64,
    /// Records skipped because their ID lies outside the ID range their request asked for
    /// (`id_min`/`id_max`: a server ignoring the range); `outOfWindowSkipped` in JavaScript.
    pub out_of_window_skipped: u64,
    /// Detection records whose `ARCHER_DETECTION_KEY` an earlier record of the run already had:
    /// Archer would merge them (`keyCollisions` in JavaScript; choose another `detectionKey`).
    pub key_collisions: u64,
    /// Host records (or detection hosts) without a Qualys ID whose `ARCHER_DEVICE_LINK` (their
    /// DNS name) an earlier such host already had (`deviceLinkCollisions` in JavaScript).
    pub device_link_collisions: u64,
    /// The highest record ID seen.
    pub highest_id: Option<u64>,
    /// The LastRunTime value substituted into the URL (`YYYY-MM-DDTHH:MM:SSZ`), if any.
    pub last_run_time_used: Option<String>,
    /// The token to hand back to Archer (at most 256 characters; empty = clear it).
    pub previous_run_context: String,
    /// Milliseconds from the start of the run to its end.
    pub elapsed_ms: u64,
    /// ID windows the run fetches, known once it has listed the matching IDs first (a discovery,
    /// e.g. the KnowledgeBase's QIDs); 0 when it does not list them (or not yet). For progress
    /// displays: `windows_done` of `windows`.
    pub windows: u64,
    /// Of those windows, how many are finished (`windowsDone` in JavaScript).
    pub windows_done: u64,
    /// Hosts skipped because Qualys could not deliver them even in a page of their own
    /// (`skipStalledHosts=True`), in the order skipped: the first `MAX_LISTED_STALLED` (64; each
    /// is also named in a warning of its own, and `warnings.stalledHost` counts them all).
    /// `stalledHostsSkipped` in JavaScript.
    pub stalled_hosts_skipped: Vec<u64>,
    /// Warnings by kind (see `WarningKind`): occurrences, logged or not, e.g.
    /// `{"qualysWarning": 20000, "invalidUtf8": 3}`. Empty when there were none.
    pub warnings: BTreeMap<String, u64>,
    /// `X-RateLimit-Limit`: the API calls the subscription allows per window, once Qualys said it.
    pub rate_limit: Option<u64>,
    /// `X-RateLimit-Window-Sec`: that window's length in seconds.
    pub rate_window_sec: Option<u64>,
    /// `X-RateLimit-Remaining` of the last answer: the calls left in the window when the run ended.
    pub calls_left: Option<u64>,
    /// `X-Concurrency-Limit-Limit`: the API calls the subscription allows at once.
    pub concurrency_limit: Option<u64>,
    /// The connection test's report (`testConnection=True`), one finding per check; empty for a
    /// normal run.
    pub check: Vec<super::Finding>,
}

//! Archer Custom Parameters -> a typed, validated [`Config`].
//!
//! In scope: every key the feed reads (see [`known_keys`]), its default and allowed range, the
//! checks that keep a misconfigured feed from running at all (one error listing every problem,
//! each as `<key>: <what is wrong and what to do>`), and warnings for things that run but deserve
//! a look (unknown keys, certificate checks off, ...). Out of scope: the LastRunTime token and the
//! placeholder substitution ([`crate::last_run_time`]), paging parameters added to the URL
//! ([`crate::plan`]), and the HTTP layer that uses the proxy, timeout and certificate settings.
//!
//! Secrets: the password and the proxy password are wrapped in [`Secret`] as soon as they are read,
//! no message quotes the value of `password`, `proxy` or a URL key, any other value or key is
//! quoted only when it is short and holds neither password in any form (else the message names the
//! key and says the value is not shown), and as a last line of defence every message is scrubbed of
//! both passwords in every form ([`Redactor`]) before it leaves this module. Reports are bounded
//! (`crate::text::lines`).
//!
//! Interpretations of RSA's guide: `verifyCerts` defaults to **true** (RSA's script defaulted to
//! False, which sends Basic-auth credentials over unverified TLS); values with leading or trailing
//! spaces are rejected rather than trimmed ("cannot include extra spaces"), except `caCert`, whose
//! PEM text normally ends with a line break; `dataSource=detectors` (a typo in one table of the
//! guide) is not accepted: the four values are `kb`, `hosts`, `hostDetections`, `detections`.

mod check;
pub mod table;
mod validate;

use crate::error::Error;
use crate::records::Shape;
use crate::secret::Secret;
use crate::url::Url;
use crate::value::Value;

pub use crate::qualys::DataSource;
pub use crate::records::keys::DetectionKey;

/// An HTTP proxy (`proxy`). The URL holds no credentials; they are split off into the fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// `http://host:port/` (http only).
    pub url: Url,
    /// The proxy user, if any.
    pub username: Option<String>,
    /// The proxy password, if any.
    pub password: Option<Secret>,
}

/// The validated configuration of one feed run. `Debug` shows `***` for the secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `dataSource`.
    pub data_source: DataSource,
    /// The URL parameter for this data source, as given (may contain `<LastRunTime>`).
    pub url_template: String,
    /// `username`: the Qualys API user.
    pub username: String,
    /// `password`: the Qualys API password.
    pub password: Secret,
    /// `batchSize`: records per page (`truncation_limit`), default 500, 1..=1_000_000.
    pub batch_size: u32,
    /// `requestsPerMin`: default 60, 1..=10_000.
    pub requests_per_min: u32,
    /// `socketLimit`: default 10, 1..=25.
    pub socket_limit: u32,
    /// `maxRetry`: retries of a failed page, default 1, 0..=2.
    pub max_retry: u32,
    /// `retryDelaySec`: seconds before the first retry of a failed page (later retries wait 3x
    /// longer each), default 5, 0..=300.
    pub retry_delay_sec: u32,
    /// `proxy`: optional, `http://[user:pass@]host:port`.
    pub proxy: Option<Proxy>,
    /// `verifyCerts`: default true.
    pub verify_certs: bool,
    /// `caCert`: optional PEM text of a CA to trust (trimmed).
    pub ca_cert: Option<String>,
    /// `lastRunTimeOffset`: days added to LastRunTime, default -1, -3650..=0.
    pub last_run_time_offset_days: i64,
    /// `rootNode`: optional root element name of the output.
    pub root_node: Option<String>,
    /// `requestTimeoutSec`: default 300, 5..=3600.
    pub request_timeout_sec: u32,
    /// `waitBudgetSec`: total seconds the run may spend waiting on Qualys 409 rate/concurrency
    /// limits, default 7200 (two standard 3600 s rate windows), 0..=86_400.
    pub wait_budget_sec: u32,
    /// `maxRecordMB` in bytes: default 64 MiB, 1..=1024 MiB.
    pub max_record_bytes: usize,
    /// `outputChunkRecords`: records per output write, default 1000, 1..=100_000.
    pub output_chunk_records: u32,
    /// `outputChunkMB` in bytes: default 4 MiB, 1..=256 MiB.
    pub output_chunk_bytes: usize,
    /// `kbChunkSize`: QIDs per KnowledgeBase request when the base load is split into QID
    /// windows, default 1000, 0..=100_000 (0 = one request, as the old script did).
    pub kb_chunk_size: u32,
    /// `concurrency`: host-ID ranges (or KB windows) fetched in parallel, default 1 (sequential,
    /// like the old script), 1..=10; never above Qualys's concurrency limit minus one.
    pub concurrency: u32,
    /// `outputShape`: Archer records with key fields (default) or each Qualys element as sent.
    pub output_shape: Shape,
    /// `httpMethod`: how requests are sent (default `auto`).
    pub http_method: HttpMethod,
    /// `skipStalledHosts`: skip (and report) a host Qualys cannot deliver even alone, instead of
    /// failing the run; default false.
    pub skip_stalled_hosts: bool,
    /// `detectionKey`: what `ARCHER_DETECTION_KEY` is made of, default the seed's key.
    pub detection_key: DetectionKey,
    /// `testConnection`: run the connection test (one light request, no record written, always
    /// ends as a failure) instead of the feed; default false.
    pub test_connection: bool,
}

/// `httpMethod`: the HTTP method of the requests to Qualys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET as the old script did; POST for the rest of the run once a request URL is longer than
    /// [`crate::qualys::urls::MAX_GET_URL_BYTES`] or Qualys answered 414 (the default).
    Auto,
    /// Always GET (a 414 then fails the run with `URL_TOO_LONG`).
    Get,
    /// Always POST, the query as an `application/x-www-form-urlencoded` body.
    Post,
}

impl HttpMethod {
    /// The parameter value: `auto`, `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Auto => "auto",
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

impl Config {
    /// The parameter holding the URL for this run's data source.
    pub fn url_key(&self) -> &'static str {
        self.data_source.url_key()
    }
}

/// The result of [`parse`]: the configuration and warnings to log before the run starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The validated configuration.
    pub config: Config,
    /// Warnings to log before the run starts (one bounded line each, no secret).
    pub warnings: Vec<String>,
}

const MIB: usize = 1024 * 1024;

/// Every key of the table, in its order.
const KNOWN_KEYS: [&str; table::PARAMS.len()] = {
    let mut keys = [""; table::PARAMS.len()];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = table::PARAMS[i].key;
        i += 1;
    }
    keys
};

/// Every key this feed reads (the URL keys of all data sources included), in the table's order.
pub fn known_keys() -> &'static [&'static str] {
    &KNOWN_KEYS
}

/// Validates the Custom Parameters (keys case-sensitive, values strings, as Archer passes them).
///
/// Returns every problem at once in one `CONFIG_INVALID` configuration error, one line per problem.
pub fn parse<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Result<Parsed, Error> {
    let texts: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    validate::parse_texts(&texts, &[], &[])
}

/// [`parse`] for values of any type, as a JavaScript host may pass them (see
/// [`Value::param_text`]): numbers, booleans, bigints and Dates become their text, `null` and
/// `undefined` mean "not given", and any other type is a problem naming the key and the type.
/// `token_problems` (`(what, message)`, e.g. a LastRunTime token of an unusable type) are reported
/// in the same error, after the parameters' problems.
pub fn parse_values(params: &[(String, Value)], token_problems: &[(&str, String)]) -> Result<Parsed, Error> {
    let mut texts: Vec<(&str, String)> = Vec::with_capacity(params.len());
    let mut typed: Vec<(&str, String)> = Vec::new();
    for (k, v) in params {
        match v.param_text() {
            Ok(Some(text)) => texts.push((k.as_str(), text)),
            Ok(None) => {}
            Err(why) => typed.push((k.as_str(), why)),
        }
    }
    let refs: Vec<(&str, &str)> = texts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    validate::parse_texts(&refs, &typed, token_problems)
}

#[cfg(test)]
mod tests;

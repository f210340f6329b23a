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

use std::collections::BTreeMap;

use crate::error::{Error, ErrorCode};
use crate::last_run_time;
use crate::secret::{Redactor, Secret};
use crate::text;
use crate::url::Url;
use crate::value::Value;

pub use crate::qualys::DataSource;

/// An HTTP proxy (`proxy`). The URL holds no credentials; they are split off into the fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// `http://host:port/` (http only).
    pub url: Url,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// The validated configuration of one feed run. `Debug` shows `***` for the secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub data_source: DataSource,
    /// The URL parameter for this data source, as given (may contain `<LastRunTime>`).
    pub url_template: String,
    pub username: String,
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
    pub config: Config,
    pub warnings: Vec<String>,
}

const MIB: usize = 1024 * 1024;

/// An integer parameter: key, default, inclusive range.
struct IntSpec {
    key: &'static str,
    default: i64,
    min: i64,
    max: i64,
}

const BATCH_SIZE: IntSpec = IntSpec { key: "batchSize", default: 500, min: 1, max: 1_000_000 };
const REQUESTS_PER_MIN: IntSpec = IntSpec { key: "requestsPerMin", default: 60, min: 1, max: 10_000 };
const SOCKET_LIMIT: IntSpec = IntSpec { key: "socketLimit", default: 10, min: 1, max: 25 };
const MAX_RETRY: IntSpec = IntSpec { key: "maxRetry", default: 1, min: 0, max: 2 };
const RETRY_DELAY_SEC: IntSpec = IntSpec { key: "retryDelaySec", default: 5, min: 0, max: 300 };
const LAST_RUN_TIME_OFFSET: IntSpec = IntSpec { key: "lastRunTimeOffset", default: -1, min: -3650, max: 0 };
const REQUEST_TIMEOUT_SEC: IntSpec = IntSpec { key: "requestTimeoutSec", default: 300, min: 5, max: 3600 };
const WAIT_BUDGET_SEC: IntSpec = IntSpec { key: "waitBudgetSec", default: 7200, min: 0, max: 86_400 };
const MAX_RECORD_MB: IntSpec = IntSpec { key: "maxRecordMB", default: 64, min: 1, max: 1024 };
const OUTPUT_CHUNK_RECORDS: IntSpec = IntSpec { key: "outputChunkRecords", default: 1000, min: 1, max: 100_000 };
const OUTPUT_CHUNK_MB: IntSpec = IntSpec { key: "outputChunkMB", default: 4, min: 1, max: 256 };
const KB_CHUNK_SIZE: IntSpec = IntSpec { key: "kbChunkSize", default: 1000, min: 0, max: 100_000 };
const CONCURRENCY: IntSpec = IntSpec { key: "concurrency", default: 1, min: 1, max: 10 };

const KNOWN_KEYS: &[&str] = &[
    "dataSource",
    "kbUrl",
    "hostsUrl",
    "detectionUrl",
    "username",
    "password",
    "batchSize",
    "requestsPerMin",
    "socketLimit",
    "maxRetry",
    "retryDelaySec",
    "proxy",
    "verifyCerts",
    "caCert",
    "lastRunTimeOffset",
    "rootNode",
    "requestTimeoutSec",
    "waitBudgetSec",
    "maxRecordMB",
    "outputChunkRecords",
    "outputChunkMB",
    "kbChunkSize",
    "concurrency",
];

/// Every key this feed reads (the URL keys of all data sources included).
pub fn known_keys() -> &'static [&'static str] {
    KNOWN_KEYS
}

/// Collects `<key>: <message>` lines.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, key: &str, message: impl AsRef<str>) {
        self.0.push(format!("{key}: {}", message.as_ref()));
    }
}

/// Validates the Custom Parameters (keys case-sensitive, values strings, as Archer passes them).
///
/// Returns every problem at once in one `CONFIG_INVALID` configuration error, one line per problem.
pub fn parse<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Result<Parsed, Error> {
    let texts: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    parse_texts(&texts, &[], &[])
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
    parse_texts(&refs, &typed, token_problems)
}

/// The validation: `typed` are keys whose value had an unusable type (with why), `extra` problems
/// outside the parameters.
fn parse_texts(params: &[(&str, &str)], typed: &[(&str, String)], extra: &[(&str, String)]) -> Result<Parsed, Error> {
    let mut problems = Problems::default();
    let mut warnings = Vec::new();

    // Secrets in every form: never echoed (see `shown`), and scrubbed from every message at the
    // end, whatever path produced it.
    let mut red = Redactor::default();

    let mut map: BTreeMap<&str, &str> = BTreeMap::new();
    for &(k, v) in params {
        if k == "password" || k == "proxy" {
            red.add(v);
        }
        if map.insert(k, v).is_some() {
            problems.add(k, "given more than once; keep one");
        }
    }
    if let Some(proxy) = map.get("proxy") {
        if let Ok((_, user, Some(pw))) = Url::parse_proxy(proxy.trim()) {
            red.add(pw.expose());
            red.add_basic(user.as_deref().unwrap_or(""), pw.expose());
        }
    }
    if let Some(pw) = map.get("password") {
        red.add_basic(map.get("username").copied().unwrap_or(""), pw);
    }
    let red = &red;

    for k in map.keys().chain(typed.iter().map(|(k, _)| k)) {
        if !KNOWN_KEYS.contains(k) {
            warnings.push(unknown_key_warning(k, red));
        }
    }
    // A known key whose value has an unusable type: one problem, and no "missing" for it below.
    for (k, why) in typed.iter().filter(|(k, _)| KNOWN_KEYS.contains(k)) {
        problems.add(k, why);
    }
    let given = |key: &str| map.get(key).is_some_and(|v| !v.is_empty()) || typed.iter().any(|(k, _)| *k == key);

    // The value of a known key, `None` when missing or empty. A value with surrounding whitespace
    // is a problem (reported here, once) and also `None`, so no second message follows for it.
    let value_of = |problems: &mut Problems, key: &'static str| -> Option<&str> {
        let v = *map.get(key)?;
        if v.is_empty() {
            return None;
        }
        if key != "caCert" && v.trim() != v {
            problems.add(key, "the value has leading or trailing spaces or line breaks; remove them (keys and values cannot include extra spaces)");
            return None;
        }
        Some(v)
    };

    // dataSource
    let data_source_present = given("dataSource");
    let data_source = match value_of(&mut problems, "dataSource") {
        Some(v) => match DataSource::from_param(v) {
            Some(d) => Some(d),
            None => {
                let hint = DataSource::ALL
                    .into_iter()
                    .find(|d| d.as_str().eq_ignore_ascii_case(v))
                    .map(|d| format!(" (did you mean {}? values are case-sensitive)", d.as_str()))
                    .unwrap_or_default();
                problems.add(
                    "dataSource",
                    format!(
                        "{} is not a data source{hint}; use one of kb, hosts, hostDetections, detections",
                        shown(v, red)
                    ),
                );
                None
            }
        },
        None => {
            if !data_source_present {
                problems.add(
                    "dataSource",
                    format!(
                        "{}; set it to one of kb, hosts, hostDetections, detections",
                        missing(&map, "dataSource", red)
                    ),
                );
            }
            None
        }
    };

    // The URL of the chosen data source.
    let mut url_template = String::new();
    let mut parsed_url: Option<Url> = None;
    if let Some(ds) = data_source {
        let key = ds.url_key();
        let present = given(key);
        match value_of(&mut problems, key) {
            Some(v) => {
                // Validate the URL as it will be sent: with the placeholder filled in.
                let sample = last_run_time::substitute(v, last_run_time::FIRST_RUN_DEFAULT);
                match Url::parse(&sample) {
                    Ok(u) => {
                        if !u.is_https() && !u.is_loopback() {
                            problems.add(key, "uses plain http:// to a non-local server, which would send the Qualys user name and password unencrypted; use https://");
                        } else {
                            if !u.path().contains(ds.expected_path()) {
                                warnings.push(format!(
                                    "{key}: the path does not contain {} as a dataSource={} URL normally does (e.g. {}); check that the URL matches the data source",
                                    ds.expected_path(),
                                    ds.as_str(),
                                    ds.example_url()
                                ));
                            } else if ds == DataSource::Hosts && u.path().contains("/vm/detection") {
                                warnings.push(format!("{key}: the URL is a detection URL but dataSource=hosts expects the host list, e.g. {}", ds.example_url()));
                            }
                            url_template = v.to_string();
                            parsed_url = Some(u);
                        }
                    }
                    Err(why) => problems.add(key, format!("{why} (expected e.g. {})", ds.example_url())),
                }
            }
            None => {
                if !present {
                    problems.add(
                        key,
                        format!(
                            "{}; dataSource={} needs it, e.g. {}",
                            missing(&map, key, red),
                            ds.as_str(),
                            ds.example_url()
                        ),
                    );
                }
            }
        }
    }

    // Credentials.
    let username_present = given("username");
    let username = match value_of(&mut problems, "username") {
        Some(v) => {
            if v.contains(':') {
                problems.add(
                    "username",
                    "contains ':', which HTTP Basic authentication cannot carry; check the Qualys API user name",
                );
            } else if v.chars().any(char::is_control) {
                problems.add("username", "contains a control character; check the Qualys API user name");
            }
            v.to_string()
        }
        None => {
            if !username_present {
                problems
                    .add("username", format!("{}; set it to the Qualys API user name", missing(&map, "username", red)));
            }
            String::new()
        }
    };
    let password_present = given("password");
    let password = match value_of(&mut problems, "password") {
        Some(v) => Secret::new(v),
        None => {
            if !password_present {
                problems.add(
                    "password",
                    format!(
                        "{}; set it to the Qualys API password (and mark the parameter Protected)",
                        missing(&map, "password", red)
                    ),
                );
            }
            Secret::new("")
        }
    };

    // Numbers.
    let int = |problems: &mut Problems, spec: &IntSpec| -> i64 {
        match value_of(problems, spec.key) {
            None => spec.default,
            Some(v) => parse_int(v, spec, red).unwrap_or_else(|msg| {
                problems.add(spec.key, msg);
                spec.default
            }),
        }
    };
    let batch_size = to_u32(int(&mut problems, &BATCH_SIZE));
    let requests_per_min = to_u32(int(&mut problems, &REQUESTS_PER_MIN));
    let socket_limit = to_u32(int(&mut problems, &SOCKET_LIMIT));
    let max_retry = to_u32(int(&mut problems, &MAX_RETRY));
    let retry_delay_sec = to_u32(int(&mut problems, &RETRY_DELAY_SEC));
    let last_run_time_offset_days = int(&mut problems, &LAST_RUN_TIME_OFFSET);
    let request_timeout_sec = to_u32(int(&mut problems, &REQUEST_TIMEOUT_SEC));
    let wait_budget_sec = to_u32(int(&mut problems, &WAIT_BUDGET_SEC));
    let max_record_bytes = to_usize(int(&mut problems, &MAX_RECORD_MB)).saturating_mul(MIB);
    let output_chunk_records = to_u32(int(&mut problems, &OUTPUT_CHUNK_RECORDS));
    let output_chunk_bytes = to_usize(int(&mut problems, &OUTPUT_CHUNK_MB)).saturating_mul(MIB);
    let kb_chunk_size = to_u32(int(&mut problems, &KB_CHUNK_SIZE));
    let concurrency = to_u32(int(&mut problems, &CONCURRENCY));

    // verifyCerts
    let verify_certs = match value_of(&mut problems, "verifyCerts") {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            problems.add(
                "verifyCerts",
                format!("{} is not true or false; use true (the default, recommended) or false", shown(v, red)),
            );
            true
        }
    };

    // caCert (trimmed: PEM text usually ends with a line break).
    let ca_cert = match value_of(&mut problems, "caCert").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => {
            if v.contains("-----BEGIN CERTIFICATE-----") && v.contains("-----END CERTIFICATE-----") {
                Some(v.to_string())
            } else {
                problems.add("caCert", "is not a PEM certificate; paste the CA certificate text including its -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines");
                None
            }
        }
    };

    // proxy
    let proxy = match value_of(&mut problems, "proxy") {
        None => None,
        Some(v) => match parse_proxy(v) {
            Ok(p) => Some(p),
            Err(msg) => {
                problems.add("proxy", msg);
                None
            }
        },
    };

    // rootNode
    let root_node = match value_of(&mut problems, "rootNode") {
        None => None,
        Some(v) => match check_xml_name(v) {
            Ok(()) => Some(v.to_string()),
            Err(why) => {
                problems.add("rootNode", format!("{} {why}; use letters, digits, '_', '-' and '.', starting with a letter or '_' (e.g. QUALYS_DETECTIONS)", shown(v, red)));
                None
            }
        },
    };

    // Warnings about settings that run but deserve a look.
    if !verify_certs {
        warnings.push("verifyCerts: false: the Qualys server's TLS certificate is not checked, so the user name and password could be intercepted; set verifyCerts to true (and caCert for a private CA) unless this is a test".to_string());
        if ca_cert.is_some() {
            warnings.push("caCert: ignored because verifyCerts is false".to_string());
        }
    }
    if let (Some(u), Some(ds)) = (&parsed_url, data_source) {
        let batch_given = map.get("batchSize").is_some_and(|v| !v.is_empty());
        if batch_given && ds != DataSource::Kb && u.query_get("truncation_limit").is_some() {
            warnings.push(format!("batchSize: ignored because {} already sets truncation_limit", ds.url_key()));
        }
    }

    for (what, why) in extra {
        problems.add(what, why);
    }
    if !problems.0.is_empty() {
        let n = problems.0.len();
        let mut message = format!(
            "{n} problem{} in the feed's Custom Parameters (Transport tab){}; fix {} and run the feed again:",
            if n == 1 { "" } else { "s" },
            if extra.is_empty() { "" } else { " and tokens" },
            if n == 1 { "it" } else { "them" }
        );
        for line in &problems.0 {
            message.push('\n');
            message.push_str(line);
        }
        // Warnings may explain a problem (a mistyped key leaves its value at the default).
        if !warnings.is_empty() {
            message.push_str("\nalso worth checking:");
            for w in &warnings {
                message.push('\n');
                message.push_str(w);
            }
        }
        return Err(Error::config(ErrorCode::ConfigInvalid, red.scrub(&text::lines(&red.scrub(&message)))));
    }

    let warnings = warnings.iter().map(|w| red.scrub(&text::line(&red.scrub(w)))).collect();
    let data_source = match data_source {
        Some(d) => d,
        // Unreachable: a missing data source is a problem above. Kept total without panicking.
        None => {
            return Err(Error::config(
                ErrorCode::ConfigInvalid,
                "dataSource: missing; set it to one of kb, hosts, hostDetections, detections",
            ))
        }
    };
    Ok(Parsed {
        config: Config {
            data_source,
            url_template,
            username,
            password,
            batch_size,
            requests_per_min,
            socket_limit,
            max_retry,
            retry_delay_sec,
            proxy,
            verify_certs,
            ca_cert,
            last_run_time_offset_days,
            root_node,
            request_timeout_sec,
            wait_budget_sec,
            max_record_bytes,
            output_chunk_records,
            output_chunk_bytes,
            kb_chunk_size,
            concurrency,
        },
        warnings,
    })
}

/// "missing" or "empty", noting a key that differs only in case.
fn missing(map: &BTreeMap<&str, &str>, key: &str, red: &Redactor) -> String {
    let base = if map.contains_key(key) { "is empty" } else { "missing" };
    match map.keys().find(|k| **k != key && k.trim().eq_ignore_ascii_case(key)) {
        Some(other) => format!(
            "{base} (a key {} was given: keys are case-sensitive and cannot include spaces; rename it to {key})",
            shown_key(other, red)
        ),
        None => base.to_string(),
    }
}

fn unknown_key_warning(key: &str, red: &Redactor) -> String {
    let shown = shown_key(key, red);
    let trimmed = key.trim();
    if let Some(k) = KNOWN_KEYS.iter().find(|k| **k == trimmed) {
        return format!("{shown}: unknown parameter, ignored; remove the extra spaces around the key to get {k}");
    }
    if let Some(k) = KNOWN_KEYS.iter().find(|k| k.eq_ignore_ascii_case(trimmed)) {
        return format!("{shown}: unknown parameter, ignored; did you mean {k}? keys are case-sensitive");
    }
    let lower = trimmed.to_ascii_lowercase();
    let close = KNOWN_KEYS
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 2 && k.len() > 4)
        .min_by_key(|(d, _)| *d);
    match close {
        Some((_, k)) => format!("{shown}: unknown parameter, ignored; did you mean {k}?"),
        None => format!("{shown}: unknown parameter, ignored"),
    }
}

/// Levenshtein distance over chars (keys are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Values longer than this are never quoted in a message.
const MAX_SHOWN_CHARS: usize = 40;

/// A value (or key) quoted for a message, escaped, when it cannot hold a secret: it is short and
/// holds neither password in any form, nor is a piece of one. Otherwise a phrase saying it is not
/// shown (the message still names the key).
fn shown(v: &str, red: &Redactor) -> String {
    shown_as(v, red, "the value")
}

/// Like [`shown`], for a key name.
fn shown_key(k: &str, red: &Redactor) -> String {
    shown_as(k, red, "a key")
}

fn shown_as(v: &str, red: &Redactor, what: &str) -> String {
    if v.chars().count() > MAX_SHOWN_CHARS || red.reveals(v) {
        format!("{what} (not shown: it is long or may hold a password)")
    } else {
        format!("{v:?}")
    }
}

fn range_text(spec: &IntSpec) -> String {
    format!("use a whole number from {} to {} (default {})", spec.min, spec.max, spec.default)
}

/// A plain decimal integer within the spec's range. A leading `-` only where the range allows
/// negatives; no `+`, spaces, decimals, exponents or thousands separators.
fn parse_int(v: &str, spec: &IntSpec, red: &Redactor) -> Result<i64, String> {
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) if spec.min < 0 => (true, rest),
        _ => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{} is not a whole number; {}", shown(v, red), range_text(spec)));
    }
    let significant = digits.trim_start_matches('0');
    let out_of_range = || format!("{} is out of range; {}", shown(v, red), range_text(spec));
    if significant.len() > 18 {
        return Err(out_of_range());
    }
    let magnitude: i64 = if significant.is_empty() { 0 } else { significant.parse().map_err(|_| out_of_range())? };
    let n = if negative { -magnitude } else { magnitude };
    if n < spec.min || n > spec.max {
        return Err(out_of_range());
    }
    Ok(n)
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

const PROXY_FORM: &str = "write it as http://host:port or http://user:password@host:port";

/// Parses the `proxy` value. Messages never quote it (it may hold a password).
fn parse_proxy(v: &str) -> Result<Proxy, String> {
    let (url, username, password) = Url::parse_proxy(v).map_err(|why| format!("{why}; {PROXY_FORM}"))?;
    if url.is_https() {
        return Err(format!("only http:// proxies are supported (the connection to Qualys through the proxy is still encrypted end to end); {PROXY_FORM}"));
    }
    if url.explicit_port().is_none() {
        return Err(format!("the proxy port is missing; {PROXY_FORM} (e.g. http://proxy.example.com:8080)"));
    }
    if url.path() != "/" || url.has_query() {
        return Err(format!("a proxy URL has no path or query; {PROXY_FORM}"));
    }
    Ok(Proxy { url, username, password })
}

/// An XML element name without a namespace prefix, not in the reserved `xml...` space.
fn check_xml_name(name: &str) -> Result<(), &'static str> {
    if name.chars().count() > 200 {
        return Err("is longer than 200 characters");
    }
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("is empty");
    };
    if !(first.is_ascii_alphabetic() || first == '_' || (!first.is_ascii() && first.is_alphabetic())) {
        return Err("is not a valid XML element name (it must start with a letter or '_')");
    }
    if name.contains(':') {
        return Err("is not a valid XML element name here (no ':' namespace prefixes)");
    }
    if !chars
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || (!c.is_ascii() && c.is_alphanumeric()))
    {
        return Err("is not a valid XML element name (it contains a character not allowed in names)");
    }
    if name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml")) {
        return Err("is not allowed: names starting with 'xml' are reserved by XML");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DET: &str = "https://qualysapi.qualys.com/api/2.0/fo/asset/host/vm/detection/?action=list&status=Active,New,Fixed,Re-Opened&vm_scan_since=<LastRunTime>";
    const KB: &str = "https://qualysapi.qualys.com/api/2.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>";
    const HOSTS: &str = "https://qualysapi.qualys.com/api/2.0/fo/asset/host/?action=list&details=All&show_tags=1&vm_scan_since=<LastRunTime>";
    const PW: &str = "Zq9-Marker-Pw!";
    const PROXY_PW: &str = "Px7-Proxy-Secret";

    fn base() -> Vec<(String, String)> {
        vec![
            ("dataSource".into(), "detections".into()),
            ("detectionUrl".into(), DET.into()),
            ("username".into(), "acme_ab12".into()),
            ("password".into(), PW.into()),
        ]
    }

    fn with(mut params: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
        params.retain(|(k, _)| k != key);
        params.push((key.into(), value.into()));
        params
    }

    fn without(mut params: Vec<(String, String)>, key: &str) -> Vec<(String, String)> {
        params.retain(|(k, _)| k != key);
        params
    }

    fn ok(params: &[(String, String)]) -> Parsed {
        match parse(params) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    fn err(params: &[(String, String)]) -> String {
        match parse(params) {
            Ok(p) => panic!("accepted: {:?}", p.config),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::ConfigInvalid);
                assert_eq!(e.blame(), crate::error::Blame::Configuration);
                assert!(!e.is_retryable());
                e.message().to_string()
            }
        }
    }

    /// The problem lines of an error message (after the header line).
    fn lines(msg: &str) -> Vec<&str> {
        msg.lines().skip(1).collect()
    }

    #[test]
    fn minimal_config_gets_every_default() {
        let p = ok(&base());
        let c = &p.config;
        assert_eq!(c.data_source, DataSource::Detections);
        assert_eq!(c.url_template, DET);
        assert_eq!(c.url_key(), "detectionUrl");
        assert_eq!(c.username, "acme_ab12");
        assert_eq!(c.password.expose(), PW);
        assert_eq!(c.batch_size, 500);
        assert_eq!(c.requests_per_min, 60);
        assert_eq!(c.socket_limit, 10);
        assert_eq!(c.max_retry, 1);
        assert_eq!(c.retry_delay_sec, 5);
        assert!(c.proxy.is_none());
        assert!(c.verify_certs);
        assert!(c.ca_cert.is_none());
        assert_eq!(c.last_run_time_offset_days, -1);
        assert!(c.root_node.is_none());
        assert_eq!(c.request_timeout_sec, 300);
        assert_eq!(c.wait_budget_sec, 7200);
        assert_eq!(c.max_record_bytes, 64 * MIB);
        assert_eq!(c.output_chunk_records, 1000);
        assert_eq!(c.output_chunk_bytes, 4 * MIB);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn accepts_str_pairs_too() {
        let p = parse(&[("dataSource", "kb"), ("kbUrl", KB), ("username", "u"), ("password", "p")]);
        assert!(p.is_ok());
    }

    #[test]
    fn every_data_source_uses_its_url_key() {
        for (ds, key, url) in [
            ("kb", "kbUrl", KB),
            ("hosts", "hostsUrl", HOSTS),
            ("hostDetections", "detectionUrl", DET),
            ("detections", "detectionUrl", DET),
        ] {
            let params = with(with(without(base(), "detectionUrl"), "dataSource", ds), key, url);
            let p = ok(&params);
            assert_eq!(p.config.data_source.as_str(), ds);
            assert_eq!(p.config.data_source.url_key(), key);
            assert_eq!(p.config.url_template, url);
            assert!(p.warnings.is_empty(), "{:?}", p.warnings);
            assert_eq!(DataSource::from_param(ds), Some(p.config.data_source));
        }
        // The other data sources' URL keys are known: no warning, not validated.
        let params = with(with(with(base(), "kbUrl", KB), "hostsUrl", "not a url"), "dataSource", "hostDetections");
        assert!(ok(&params).warnings.is_empty());
    }

    #[test]
    fn all_optional_values_are_read() {
        let mut params = base();
        for (k, v) in [
            ("batchSize", "1000"),
            ("requestsPerMin", "30"),
            ("socketLimit", "25"),
            ("maxRetry", "0"),
            ("retryDelaySec", "0"),
            ("proxy", "http://proxy.corp.example:3128"),
            ("verifyCerts", "TRUE"),
            ("caCert", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
            ("lastRunTimeOffset", "-7"),
            ("rootNode", "QUALYS_DETECTIONS"),
            ("requestTimeoutSec", "3600"),
            ("waitBudgetSec", "0"),
            ("maxRecordMB", "1024"),
            ("outputChunkRecords", "1"),
            ("outputChunkMB", "256"),
        ] {
            params.push((k.into(), v.into()));
        }
        let c = ok(&params).config;
        assert_eq!(
            (c.batch_size, c.requests_per_min, c.socket_limit, c.max_retry, c.retry_delay_sec),
            (1000, 30, 25, 0, 0)
        );
        let proxy = c.proxy.as_ref().map(|p| p.url.to_string());
        assert_eq!(proxy.as_deref(), Some("http://proxy.corp.example:3128/"));
        assert!(c.verify_certs);
        assert_eq!(c.ca_cert.as_deref(), Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"));
        assert_eq!(c.last_run_time_offset_days, -7);
        assert_eq!(c.root_node.as_deref(), Some("QUALYS_DETECTIONS"));
        assert_eq!((c.request_timeout_sec, c.wait_budget_sec), (3600, 0));
        assert_eq!(c.max_record_bytes, 1024 * MIB);
        assert_eq!(c.output_chunk_records, 1);
        assert_eq!(c.output_chunk_bytes, 256 * MIB);
    }

    #[test]
    fn empty_optional_values_mean_default() {
        let mut params = base();
        for k in [
            "batchSize",
            "requestsPerMin",
            "socketLimit",
            "maxRetry",
            "proxy",
            "verifyCerts",
            "caCert",
            "lastRunTimeOffset",
            "rootNode",
            "waitBudgetSec",
            "maxRecordMB",
        ] {
            params.push((k.into(), String::new()));
        }
        let c = ok(&params).config;
        assert_eq!(c, ok(&base()).config);
    }

    #[test]
    fn verify_certs_values() {
        for (v, want) in
            [("true", true), ("True", true), ("TRUE", true), ("false", false), ("False", false), ("FALSE", false)]
        {
            let p = ok(&with(base(), "verifyCerts", v));
            assert_eq!(p.config.verify_certs, want, "{v}");
            assert_eq!(p.warnings.iter().any(|w| w.starts_with("verifyCerts:")), !want);
        }
        for v in ["yes", "1", "0", "on", "tru"] {
            let m = err(&with(base(), "verifyCerts", v));
            assert!(m.contains("verifyCerts: ") && m.contains("true or false"), "{m}");
        }
        let p = ok(&with(
            with(base(), "verifyCerts", "false"),
            "caCert",
            "-----BEGIN CERTIFICATE-----x-----END CERTIFICATE-----",
        ));
        assert!(p.warnings.iter().any(|w| w.starts_with("caCert: ignored")));
    }

    #[test]
    fn numbers_must_be_plain_integers_in_range() {
        let bad = [
            ("batchSize", "12abc", "not a whole number"),
            ("batchSize", "1.5", "not a whole number"),
            ("batchSize", "1e3", "not a whole number"),
            ("batchSize", "+5", "not a whole number"),
            ("batchSize", "-5", "not a whole number"),
            ("batchSize", "1,000", "not a whole number"),
            ("batchSize", "0", "out of range"),
            ("batchSize", "1000001", "out of range"),
            ("batchSize", "99999999999999999999999", "out of range"),
            ("requestsPerMin", "0", "out of range"),
            ("requestsPerMin", "10001", "out of range"),
            ("socketLimit", "26", "out of range"),
            ("socketLimit", "0", "out of range"),
            ("maxRetry", "3", "out of range"),
            ("retryDelaySec", "301", "out of range"),
            ("lastRunTimeOffset", "1", "out of range"),
            ("lastRunTimeOffset", "-3651", "out of range"),
            ("lastRunTimeOffset", "+1", "not a whole number"),
            ("lastRunTimeOffset", "-", "not a whole number"),
            ("lastRunTimeOffset", "--1", "not a whole number"),
            ("lastRunTimeOffset", "-1.5", "not a whole number"),
            ("requestTimeoutSec", "4", "out of range"),
            ("requestTimeoutSec", "3601", "out of range"),
            ("waitBudgetSec", "86401", "out of range"),
            ("maxRecordMB", "0", "out of range"),
            ("maxRecordMB", "1025", "out of range"),
            ("outputChunkRecords", "100001", "out of range"),
            ("outputChunkMB", "257", "out of range"),
        ];
        for (k, v, what) in bad {
            let m = err(&with(base(), k, v));
            let ls = lines(&m);
            assert_eq!(ls.len(), 1, "{m}");
            assert!(ls[0].starts_with(&format!("{k}: ")), "{m}");
            assert!(ls[0].contains(what), "{k}={v}: {m}");
            assert!(ls[0].contains("use a whole number from"), "{m}");
        }
        let m = err(&with(base(), "socketLimit", "26"));
        assert!(m.contains("from 1 to 25 (default 10)"), "{m}");
        // Boundaries and leading zeros are fine; -0 is 0.
        let c = ok(&with(with(with(base(), "batchSize", "1000000"), "lastRunTimeOffset", "-3650"), "maxRetry", "02"))
            .config;
        assert_eq!((c.batch_size, c.last_run_time_offset_days, c.max_retry), (1_000_000, -3650, 2));
        assert_eq!(ok(&with(base(), "lastRunTimeOffset", "0")).config.last_run_time_offset_days, 0);
        assert_eq!(ok(&with(base(), "lastRunTimeOffset", "-0")).config.last_run_time_offset_days, 0);
    }

    #[test]
    fn whitespace_around_values_is_an_error() {
        for (k, v) in [
            ("batchSize", " 500"),
            ("batchSize", "500 "),
            ("dataSource", "detections "),
            ("username", " acme"),
            ("verifyCerts", "true\n"),
            ("detectionUrl", " https://x.example/"),
            ("batchSize", "   "),
        ] {
            let m = err(&with(base(), k, v));
            let ls = lines(&m);
            assert_eq!(ls.len(), 1, "{k}={v:?}: {m}");
            assert!(ls[0].starts_with(&format!("{k}: ")) && ls[0].contains("leading or trailing spaces"), "{m}");
        }
    }

    #[test]
    fn missing_required_keys() {
        let m = err(&[] as &[(String, String)]);
        let ls = lines(&m);
        assert!(ls.iter().any(|l| l.starts_with("dataSource: missing")), "{m}");
        assert!(ls.iter().any(|l| l.starts_with("username: missing")), "{m}");
        assert!(ls.iter().any(|l| l.starts_with("password: missing")), "{m}");
        assert!(m.starts_with("3 problems"), "{m}");

        let m = err(&without(base(), "detectionUrl"));
        assert_eq!(lines(&m).len(), 1, "{m}");
        assert!(m.contains("detectionUrl: missing; dataSource=detections needs it"), "{m}");

        let m = err(&with(base(), "username", ""));
        assert!(m.contains("username: is empty"), "{m}");
        let m = err(&with(base(), "password", ""));
        assert!(m.contains("password: is empty"), "{m}");
        let m = err(&with(base(), "dataSource", ""));
        assert!(m.contains("dataSource: is empty"), "{m}");

        // A key that differs only by case is pointed at.
        let params = with(without(base(), "password"), "Password", PW);
        let parse_result = parse(&params);
        let m = match parse_result {
            Err(e) => e.message().to_string(),
            Ok(_) => panic!("accepted"),
        };
        assert!(m.contains("password: missing (a key \"Password\" was given"), "{m}");
    }

    #[test]
    fn unknown_data_source_lists_the_four_values() {
        let m = err(&with(base(), "dataSource", "detectors"));
        assert!(
            m.contains(
                "dataSource: \"detectors\" is not a data source; use one of kb, hosts, hostDetections, detections"
            ),
            "{m}"
        );
        let m = err(&with(base(), "dataSource", "HostDetections"));
        assert!(m.contains("did you mean hostDetections?"), "{m}");
    }

    #[test]
    fn url_checks() {
        // Plain http to a remote host.
        let m = err(&with(
            base(),
            "detectionUrl",
            "http://qualysapi.qualys.com/api/2.0/fo/asset/host/vm/detection/?action=list",
        ));
        assert!(m.contains("detectionUrl: uses plain http://"), "{m}");
        // Plain http to loopback is fine (a local test server).
        for u in [
            "http://127.0.0.1:8080/api/2.0/fo/asset/host/vm/detection/?action=list",
            "http://localhost/api/2.0/fo/asset/host/vm/detection/",
            "http://[::1]:9/api/5.0/fo/asset/host/vm/detection/",
        ] {
            assert_eq!(ok(&with(base(), "detectionUrl", u)).config.url_template, u);
        }
        // Unparseable.
        for u in ["qualysapi.qualys.com/api", "https://", "https://q.example:99999/", "ftp://q.example/"] {
            let m = err(&with(base(), "detectionUrl", u));
            assert_eq!(lines(&m).len(), 1, "{m}");
            assert!(lines(&m)[0].starts_with("detectionUrl: "), "{m}");
            assert!(m.contains("expected e.g. https://"), "{m}");
        }
        // Without the placeholder: fine, used as given.
        let fixed =
            "https://qualysapi.qualys.com/api/2.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=2024-01-01";
        let p = ok(&with(base(), "detectionUrl", fixed));
        assert_eq!(p.config.url_template, fixed);
        assert!(p.warnings.is_empty());
        // Newer API versions are fine.
        assert!(ok(&with(base(), "detectionUrl", "https://qualysapi.qg3.apps.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>")).warnings.is_empty());
        // A URL for another endpoint runs but warns.
        let p = ok(&with(base(), "detectionUrl", KB));
        assert!(
            p.warnings
                .iter()
                .any(|w| w.starts_with("detectionUrl: the path does not contain /asset/host/vm/detection")),
            "{:?}",
            p.warnings
        );
        let hosts_with_det = with(with(without(base(), "detectionUrl"), "dataSource", "hosts"), "hostsUrl", DET);
        assert!(ok(&hosts_with_det).warnings.iter().any(|w| w.starts_with("hostsUrl: the URL is a detection URL")));
    }

    #[test]
    fn batch_size_with_truncation_limit_in_url_warns() {
        let url = "https://qualysapi.qualys.com/api/2.0/fo/asset/host/vm/detection/?action=list&truncation_limit=100";
        let p = ok(&with(with(base(), "detectionUrl", url), "batchSize", "200"));
        assert!(p.warnings.iter().any(|w| w.starts_with("batchSize: ignored")), "{:?}", p.warnings);
        assert!(ok(&with(base(), "detectionUrl", url)).warnings.is_empty());
    }

    #[test]
    fn unknown_keys_warn_with_suggestions() {
        let params = with(
            with(
                with(with(with(base(), "BatchSize", "100"), "requestPerMin", "5"), "colour", "blue"),
                "socketLimit ",
                "3",
            ),
            "Password",
            "x",
        );
        let p = ok(&params);
        let w = &p.warnings;
        assert!(
            w.contains(
                &"\"BatchSize\": unknown parameter, ignored; did you mean batchSize? keys are case-sensitive"
                    .to_string()
            ),
            "{w:?}"
        );
        assert!(
            w.contains(&"\"requestPerMin\": unknown parameter, ignored; did you mean requestsPerMin?".to_string()),
            "{w:?}"
        );
        assert!(w.contains(&"\"colour\": unknown parameter, ignored".to_string()), "{w:?}");
        assert!(
            w.iter().any(|x| x.starts_with("\"socketLimit \": unknown parameter, ignored; remove the extra spaces")),
            "{w:?}"
        );
        assert!(
            w.iter().any(|x| x.starts_with("\"Password\": unknown parameter, ignored; did you mean password?")),
            "{w:?}"
        );
        assert_eq!(p.config.batch_size, 500);
    }

    #[test]
    fn proxy_forms() {
        let c = ok(&with(base(), "proxy", &format!("http://svc:{PROXY_PW}@proxy.corp.example:8080"))).config;
        let proxy = c
            .proxy
            .as_ref()
            .map(|p| (p.url.to_string(), p.username.clone(), p.password.as_ref().map(|s| s.expose().to_string())));
        assert_eq!(
            proxy,
            Some(("http://proxy.corp.example:8080/".to_string(), Some("svc".to_string()), Some(PROXY_PW.to_string())))
        );
        assert!(!format!("{c:?}").contains(PROXY_PW));
        for (v, what) in [
            ("https://proxy.corp.example:8443", "only http:// proxies"),
            ("http://proxy.corp.example", "port is missing"),
            ("http://proxy.corp.example:8080/path", "no path or query"),
            ("proxy.corp.example:8080", "http://"),
            ("socks5://proxy:1080", "http://"),
        ] {
            let m = err(&with(base(), "proxy", v));
            assert!(m.contains("proxy: ") && m.contains(what), "{v}: {m}");
        }
    }

    #[test]
    fn ca_cert_and_root_node() {
        let m = err(&with(base(), "caCert", "MIIBxyz"));
        assert!(m.contains("caCert: is not a PEM certificate"), "{m}");
        for good in ["QUALYS", "_x", "a-b.c_1", "Détections"] {
            assert_eq!(ok(&with(base(), "rootNode", good)).config.root_node.as_deref(), Some(good));
        }
        for bad in ["1abc", "-a", "a b", "a:b", "a<b", "xmlRoot", "XML_X", ".a"] {
            let m = err(&with(base(), "rootNode", bad));
            assert!(lines(&m).len() == 1 && lines(&m)[0].starts_with("rootNode: "), "{bad}: {m}");
        }
    }

    #[test]
    fn all_problems_are_collected_one_per_line() {
        let params = vec![
            ("dataSource".to_string(), "detections".to_string()),
            ("detectionUrl".to_string(), "http://qualysapi.qualys.com/x".to_string()),
            ("username".to_string(), String::new()),
            ("password".to_string(), PW.to_string()),
            ("batchSize".to_string(), "abc".to_string()),
            ("maxRetry".to_string(), "5".to_string()),
            ("verifyCerts".to_string(), "maybe".to_string()),
            ("rootNode".to_string(), "1x".to_string()),
        ];
        let m = err(&params);
        let ls = lines(&m);
        assert!(m.starts_with("6 problems in the feed's Custom Parameters"), "{m}");
        assert_eq!(ls.len(), 6, "{m}");
        for key in ["detectionUrl", "username", "batchSize", "maxRetry", "verifyCerts", "rootNode"] {
            assert!(ls.iter().any(|l| l.starts_with(&format!("{key}: "))), "{key}: {m}");
        }
        let one = err(&with(base(), "maxRetry", "9"));
        assert!(one.starts_with("1 problem in"), "{one}");
        assert!(!one.contains("also worth checking"), "{one}");
    }

    #[test]
    fn a_failing_configuration_also_shows_the_warnings() {
        let m = err(&with(with(base(), "maxRetry", "9"), "BatchSize", "5"));
        let (problems, hints) = m.split_once("\nalso worth checking:\n").expect("warnings section");
        assert!(problems.contains("maxRetry: "), "{m}");
        assert!(
            hints.starts_with("\"BatchSize\": unknown parameter") && hints.contains("did you mean batchSize?"),
            "{m}"
        );
    }

    #[test]
    fn duplicate_keys_are_an_error() {
        let mut params = base();
        params.push(("batchSize".into(), "1".into()));
        params.push(("batchSize".into(), "2".into()));
        assert!(err(&params).contains("batchSize: given more than once"));
    }

    #[test]
    fn username_with_colon_is_an_error() {
        assert!(err(&with(base(), "username", "a:b")).contains("username: contains ':'"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = ok(&with(base(), "proxy", &format!("http://svc:{PROXY_PW}@proxy:3128"))).config;
        let d = format!("{c:?} {c:#?}");
        assert!(!d.contains(PW) && !d.contains(PROXY_PW), "{d}");
        assert!(d.contains("***"));
    }

    /// Every error path, with recognisable passwords: neither ever shows up in a message.
    #[test]
    fn passwords_never_appear_in_errors_or_warnings() {
        let proxy_with_pw = |tail: &str| format!("http://svc:{PROXY_PW}@{tail}");
        let scenarios: Vec<Vec<(String, String)>> = vec![
            with(base(), "password", &format!("  {PW}")),
            with(base(), "password", &format!("{PW}\n")),
            with(base(), "proxy", &proxy_with_pw("proxy:80x")),
            with(base(), "proxy", &proxy_with_pw("proxy")),
            with(base(), "proxy", &format!("https://svc:{PROXY_PW}@proxy:8443")),
            with(base(), "proxy", &format!("http://svc:{PROXY_PW}/x@proxy:8080")),
            with(base(), "proxy", &format!("http://:{PROXY_PW}@proxy:8080")),
            with(base(), "proxy", &format!(" http://svc:{PROXY_PW}@proxy:8080")),
            with(base(), "proxy", &format!("http://svc:{PROXY_PW}@proxy:8080/p?q")),
            with(base(), "proxy", &format!("http://svc:{PROXY_PW} @proxy:8080")),
            with(
                base(),
                "detectionUrl",
                &format!("https://acme_ab12:{PW}@qualysapi.qualys.com/api/2.0/fo/asset/host/vm/detection/"),
            ),
            with(base(), "detectionUrl", &format!("http://qualysapi.qualys.com/?password={PW}")),
            with(base(), "detectionUrl", &format!("https://q.example/{PW} x")),
            with(base(), "username", ""),
            with(base(), "username", &format!("acme:{PW}")),
            with(base(), "dataSource", PW),
            with(base(), "batchSize", PW),
            with(base(), "lastRunTimeOffset", PW),
            with(base(), "verifyCerts", PW),
            with(base(), "rootNode", PW),
            with(base(), "caCert", PW),
            with(base(), PW, PW),
            with(without(base(), "password"), "Password", PW),
            with(with(base(), "password", PW), "password2", PW),
            without(base(), "dataSource"),
            with(with(base(), "verifyCerts", "false"), "proxy", &proxy_with_pw("proxy:8080")),
        ];
        for (i, params) in scenarios.iter().enumerate() {
            let mut texts = Vec::new();
            match parse(params) {
                Ok(p) => {
                    texts.extend(p.warnings.clone());
                    texts.push(format!("{:?}", p.config));
                }
                Err(e) => {
                    texts.push(e.to_string());
                    texts.push(format!("{e:?}"));
                }
            }
            for t in texts {
                assert!(
                    !t.contains(PW) && !t.contains(PROXY_PW) && !t.contains("Marker-Pw") && !t.contains("Proxy-Secret"),
                    "scenario {i}: {t}"
                );
            }
        }
        // The password with leading spaces is an error (it is not silently trimmed).
        let m = err(&with(base(), "password", &format!("  {PW}")));
        assert!(m.contains("password: the value has leading or trailing spaces"), "{m}");
    }

    /// A password with characters that escaping changes (`"`, `\`, a tab), pasted into other keys:
    /// neither it nor its escaped forms are echoed; short harmless values still are.
    #[test]
    fn escaped_forms_of_the_password_are_not_echoed_either() {
        let pw = "Esc-\"q\\\tx%!+ é€";
        let debug = format!("{pw:?}");
        let forms = [pw.to_string(), debug.trim_matches('"').to_string(), pw.replace('\t', "\\t")];
        for key in ["batchSize", "verifyCerts", "dataSource", "rootNode", "maxRetry", "lastRunTimeOffset"] {
            for value in [pw.to_string(), format!("1{pw}"), pw[..6].to_string()] {
                let params = with(with(base(), "password", pw), key, &value);
                let m = err(&params);
                assert!(m.contains(&format!("{key}: ")), "{m}");
                assert!(m.contains("not shown"), "{key}={value:?}: {m}");
                for f in &forms {
                    assert!(!m.contains(f.as_str()), "{key}: {f:?} in {m}");
                }
                assert!(!m.contains("Esc-"), "{m}");
            }
        }
        // An unrelated bad value is still shown.
        let m = err(&with(with(base(), "password", pw), "batchSize", "12abc"));
        assert!(m.contains("batchSize: \"12abc\" is not a whole number"), "{m}");
        // The key itself.
        let p = ok(&with(with(base(), "password", pw), &format!("x{pw}"), "1"));
        assert!(p.warnings.iter().any(|w| w.starts_with("a key (not shown")), "{:?}", p.warnings);
        assert!(!p.warnings.concat().contains("Esc-"));
    }

    #[test]
    fn configuration_reports_are_bounded() {
        let mut params = base();
        for i in 0..500 {
            params.push((format!("unknown{i}"), "x".repeat(10_000)));
        }
        params.push(("batchSize".into(), "x".repeat(100_000)));
        let m = err(&params);
        assert!(m.len() < 200_000, "{} bytes", m.len());
        assert!(m.lines().count() <= crate::text::MAX_LINES + 1, "{} lines", m.lines().count());
        assert!(m.ends_with("more lines"), "{}", &m[m.len() - 100..]);
    }

    #[test]
    fn known_keys_cover_the_seed_and_ours() {
        let k = known_keys();
        for key in [
            "dataSource",
            "kbUrl",
            "hostsUrl",
            "detectionUrl",
            "username",
            "password",
            "batchSize",
            "requestsPerMin",
            "socketLimit",
            "maxRetry",
            "proxy",
            "verifyCerts",
        ] {
            assert!(k.contains(&key), "{key}");
        }
        assert_eq!(k.len(), 23);
    }

    #[test]
    fn kb_chunk_size_and_concurrency_defaults_and_ranges() {
        let c = parse(&base()).expect("valid").config;
        assert_eq!((c.kb_chunk_size, c.concurrency), (1000, 1));
        let c = parse(&with(with(base(), "kbChunkSize", "0"), "concurrency", "4")).expect("valid").config;
        assert_eq!((c.kb_chunk_size, c.concurrency), (0, 4));
        let m = err(&with(with(base(), "kbChunkSize", "100001"), "concurrency", "0"));
        assert!(m.contains("kbChunkSize") && m.contains("concurrency"), "{m}");
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("requestpermin", "requestspermin"), 1);
    }
}

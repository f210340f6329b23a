//! What a finished (or failed) response means: page done, retry, wait and retry, or fail.
//!
//! In scope: the mapping from HTTP status, Qualys `SIMPLE_RETURN`/`GENERIC_RETURN` codes, rate
//! headers and parse outcomes to a [`Settlement`], with admin-facing messages (for a request on a
//! retired API version first [`retired_version`]: the answers that say the version is gone); the cap on how long
//! any wait the server asks for may be ([`MAX_WAIT_SEC`]: every wait is computed saturating, so a
//! huge header value neither overflows nor skips the wait). Out of scope: counting retries and
//! waits against their budgets (the feed does that).

use crate::error::{Error, ErrorCode};
use crate::qualys::versions::{self, Retired};
use crate::qualys::DataSource;
use crate::response::QualysReturn;

/// Qualys headers that matter for pacing, read from one response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `X-RateLimit-Limit`: calls the subscription allows per window.
    pub limit: Option<u64>,
    /// `X-RateLimit-Window-Sec`: the length of that window.
    pub window_sec: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-ToWait-Sec`.
    pub to_wait_sec: Option<u64>,
    /// `Retry-After` (seconds).
    pub retry_after_sec: Option<u64>,
    /// `X-Concurrency-Limit-Limit`.
    pub concurrency_limit: Option<u64>,
}

impl RateHeaders {
    /// Reads the headers (names in any case; values that are not whole numbers are ignored).
    pub fn read(headers: &[(String, String)]) -> Self {
        let get = |name: &str| {
            headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.trim().parse::<u64>().ok())
        };
        RateHeaders {
            limit: get("X-RateLimit-Limit"),
            window_sec: get("X-RateLimit-Window-Sec"),
            remaining: get("X-RateLimit-Remaining"),
            to_wait_sec: get("X-RateLimit-ToWait-Sec"),
            retry_after_sec: get("Retry-After"),
            concurrency_limit: get("X-Concurrency-Limit-Limit"),
        }
    }
}

/// What a settled response means for its page.
#[derive(Debug, PartialEq, Eq)]
pub enum Settlement {
    /// The page is complete.
    PageDone,
    /// A transient failure: retry the page if `maxRetry` allows.
    Retry(Error),
    /// Qualys asked us to wait (409 rate/concurrency limit, 429): wait, then retry without
    /// counting against `maxRetry`, within the wait budget.
    WaitAndRetry {
        /// How long to wait.
        ms: u64,
        /// Why, for the log.
        reason: String,
    },
    /// HTTP 414 URI Too Long: the feed decides (POST instead, or fail with `URL_TOO_LONG`:
    /// `httpMethod`).
    UrlTooLong,
    /// Retrying cannot help.
    Fail(Error),
}

/// The longest wait taken from what the server says (`SECONDS_TO_WAIT`, `X-RateLimit-ToWait-Sec`,
/// `Retry-After`): a day and a second, more than the largest `waitBudgetSec` (86,400), so a longer
/// ask always ends the run with `WAIT_BUDGET_EXHAUSTED` at once, before any waiting.
pub const MAX_WAIT_SEC: u64 = 86_401;

/// Default waits when Qualys says "wait" without saying how long.
const RATE_WAIT_DEFAULT_SEC: u64 = 60;
/// A concurrency refusal clears when another call finishes: a short wait, repeated if needed.
const CONCURRENCY_WAIT_DEFAULT_SEC: u64 = 5;

/// Decides what a response means. `parsed` is the parser's verdict on the body (Ok = the root
/// element closed); `qualys` is the SIMPLE_RETURN/GENERIC_RETURN the body held, if any.
pub fn settle(
    status: u16,
    headers: RateHeaders,
    parsed: Result<(), Error>,
    qualys: Option<&QualysReturn>,
    url_key: &str,
) -> Settlement {
    if let Some(e) = unusable_status(status) {
        return Settlement::Retry(e);
    }
    if status == 414 {
        // Whatever the body (a proxy's or Qualys's front end's HTML page).
        return Settlement::UrlTooLong;
    }
    if let Some(q) = qualys {
        return settle_qualys_return(status, headers, q, url_key);
    }
    match (status, parsed) {
        (200..=299, Ok(())) => {
            if status == 202 {
                Settlement::Retry(Error::server(ErrorCode::Http202, true, "Qualys answered 202 Accepted (the result is not ready yet)"))
            } else {
                Settlement::PageDone
            }
        }
        (200..=299, Err(e)) => {
            if e.is_retryable() {
                Settlement::Retry(e)
            } else {
                Settlement::Fail(e)
            }
        }
        (401, _) => Settlement::Fail(credentials_error("HTTP 401: Qualys refused the username/password")),
        (403, _) => Settlement::Fail(Error::config(ErrorCode::AccessDenied, "Qualys answered HTTP 403 Forbidden: the account is not allowed to use this API. Ask the Qualys administrator to enable API access for the user, or check the URL parameter.")),
        (404, _) => Settlement::Fail(Error::config(ErrorCode::UrlNotFound, format!("Qualys answered HTTP 404 Not Found: check the {url_key} parameter (host name and path, e.g. https://qualysapi.qualys.com/api/5.0/fo/...)."))),
        (407, _) => Settlement::Fail(Error::config(ErrorCode::ProxyAuthRequired, "The proxy answered 407 Proxy Authentication Required: put the proxy credentials in the proxy parameter as http://user:password@host:port.")),
        (409, _) => rate_wait(headers, None, "Qualys answered 409 (API limit reached)"),
        (429, _) => rate_wait(headers, None, "HTTP 429 Too Many Requests"),
        (500..=599, _) => Settlement::Retry(Error::server(ErrorCode::Http5xx, true, format!("Qualys answered HTTP {status} (a server-side problem)"))),
        (_, _) => Settlement::Fail(Error::server(ErrorCode::HttpStatus, false, format!("Qualys answered HTTP {status} with no Qualys error message; check the {url_key} parameter."))),
    }
}

/// The error for an HTTP status no page can come with: 1xx (e.g. 101 Switching Protocols) or
/// anything outside 100-599. Its body is not read.
pub fn unusable_status(status: u16) -> Option<Error> {
    (!(200..=599).contains(&status)).then(|| {
        Error::network(
            ErrorCode::HttpUnusableStatus,
            format!("the response had HTTP status {status}, which no page comes with (a proxy or the connection switched protocols or broke); the page will be fetched again. If it persists, check the proxy parameter and whatever sits between the feed and Qualys."),
        )
    })
}

fn settle_qualys_return(status: u16, headers: RateHeaders, q: &QualysReturn, url_key: &str) -> Settlement {
    let code_text = q.code.as_deref().unwrap_or("");
    let code: Option<u32> = code_text.trim().parse().ok();
    let said = if code_text.is_empty() { q.text.clone() } else { format!("{} (code {code_text})", q.text) };
    if q.root == "GENERIC_RETURN" {
        return Settlement::Retry(Error::server(
            ErrorCode::QualysInternalError,
            true,
            format!("Qualys reported an internal error: {said}"),
        ));
    }
    let bad_login = q.text.to_ascii_lowercase().contains("bad login");
    match code {
        Some(1960) => {
            let secs = item(q, "SECONDS_TO_WAIT").or(headers.to_wait_sec.filter(|s| *s > 0)).unwrap_or(CONCURRENCY_WAIT_DEFAULT_SEC);
            Settlement::WaitAndRetry { ms: wait_ms(secs), reason: format!("Qualys concurrency limit: {said}") }
        }
        Some(1965) => rate_wait(headers, item(q, "SECONDS_TO_WAIT"), &format!("Qualys rate limit: {said}")),
        Some(1901..=1922) => Settlement::Fail(Error::config(
            ErrorCode::QualysBadRequest,
            format!("Qualys rejected the request: {said}. Fix the {url_key} parameter (its query parameters), or batchSize."),
        )),
        Some(2000..=2099) => Settlement::Fail(credentials_error(&said)),
        Some(999) => Settlement::Retry(Error::server(ErrorCode::QualysInternalError, true, format!("Qualys reported an internal error: {said}"))),
        _ if bad_login || status == 401 => Settlement::Fail(credentials_error(&said)),
        _ => Settlement::Fail(Error::server(ErrorCode::QualysError, false, format!("Qualys answered with an error (HTTP {status}): {said}"))),
    }
}

/// A response that says the request's retired API version is gone: HTTP 404 or 410 (whatever the
/// body), or a Qualys error whose text says the API or its version is not available (except the
/// answers that mean what they always mean: waits, credentials). `None` for anything else, which
/// [`settle`] then classifies as on any version. Only asked for a request on a retired version
/// (`crate::qualys::versions::retired`); the advice names the data source's active path.
pub fn retired_version(
    status: u16,
    qualys: Option<&QualysReturn>,
    retired: &Retired,
    source: DataSource,
    url_key: &str,
) -> Option<Error> {
    let what = if matches!(status, 404 | 410) {
        format!("Qualys answered HTTP {status} {}", if status == 404 { "Not Found" } else { "Gone" })
    } else {
        let q = qualys?;
        let code: Option<u32> = q.code.as_deref().and_then(|c| c.trim().parse().ok());
        let lower = q.text.to_ascii_lowercase();
        let waits_or_credentials = matches!(code, Some(1960 | 1965 | 2000..=2099)) || lower.contains("bad login");
        if waits_or_credentials || !RETIRED_WORDS.iter().any(|w| lower.contains(w)) {
            return None;
        }
        format!("Qualys answered (HTTP {status}): {}", q.text)
    };
    Some(Error::config(ErrorCode::ApiVersionRetired, versions::retired_failure(&what, url_key, source, retired)))
}

/// Words of a Qualys error saying an API or a version is gone (lower case).
const RETIRED_WORDS: &[&str] = &[
    "version",
    "deprecated",
    "retired",
    "no longer",
    "not available",
    "not supported",
    "unsupported",
    "end of life",
    "decommission",
];

fn credentials_error(said: &str) -> Error {
    Error::config(
        ErrorCode::QualysCredentials,
        format!("Qualys did not accept the account: {said}. Check the username and password parameters, that the account is active and has API access (Qualys: Users > Edit > API access), and that the URL is your subscription's API server."),
    )
}

fn item(q: &QualysReturn, key: &str) -> Option<u64> {
    q.items.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.trim().parse().ok())
}

fn rate_wait(headers: RateHeaders, from_body: Option<u64>, reason: &str) -> Settlement {
    let secs = from_body
        .or(headers.to_wait_sec.filter(|s| *s > 0))
        .or(headers.retry_after_sec)
        .unwrap_or(RATE_WAIT_DEFAULT_SEC);
    Settlement::WaitAndRetry { ms: wait_ms(secs), reason: reason.to_string() }
}

/// Seconds Qualys asked for (at most [`MAX_WAIT_SEC`]), plus one second of margin for clock
/// granularity, in milliseconds.
pub fn wait_ms(secs: u64) -> u64 {
    secs.min(MAX_WAIT_SEC).saturating_add(1).saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ret(root: &str, code: &str, text: &str, items: &[(&str, &str)]) -> QualysReturn {
        QualysReturn {
            root: root.to_string(),
            datetime: None,
            code: Some(code.to_string()),
            text: text.to_string(),
            items: items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn ok_page_and_transient_statuses() {
        assert_eq!(settle(200, RateHeaders::default(), Ok(()), None, "hostsUrl"), Settlement::PageDone);
        assert!(matches!(
            settle(
                503,
                RateHeaders::default(),
                Err(Error::server(ErrorCode::UnexpectedDocument, false, "html")),
                None,
                "hostsUrl"
            ),
            Settlement::Retry(_)
        ));
        assert!(
            matches!(settle(200, RateHeaders::default(), Err(Error::server(ErrorCode::TruncatedPage, true, "cut")), None, "hostsUrl"), Settlement::Retry(e) if e.code() == ErrorCode::TruncatedPage)
        );
        assert!(matches!(
            settle(
                200,
                RateHeaders::default(),
                Err(Error::server(ErrorCode::RecordTooLarge, false, "big")),
                None,
                "hostsUrl"
            ),
            Settlement::Fail(_)
        ));
    }

    #[test]
    fn qualys_limits_wait_for_what_qualys_says() {
        let h = RateHeaders { to_wait_sec: Some(7), ..Default::default() };
        let r = ret("SIMPLE_RETURN", "1965", "rate exceeded", &[("SECONDS_TO_WAIT", "42")]);
        assert!(matches!(settle(409, h, Ok(()), Some(&r), "kbUrl"), Settlement::WaitAndRetry { ms: 43_000, .. }));
        let r = ret("SIMPLE_RETURN", "1965", "rate exceeded", &[]);
        assert!(matches!(settle(409, h, Ok(()), Some(&r), "kbUrl"), Settlement::WaitAndRetry { ms: 8_000, .. }));
        let r = ret("SIMPLE_RETURN", "1960", "concurrency", &[("CALLS_TO_FINISH", "2")]);
        assert!(matches!(
            settle(409, RateHeaders::default(), Ok(()), Some(&r), "kbUrl"),
            Settlement::WaitAndRetry { ms: 6_000, .. }
        ));
        // Qualys sends X-RateLimit-ToWait-Sec: 0 on every response: that is not "wait 0 s".
        let zero = RateHeaders { to_wait_sec: Some(0), ..Default::default() };
        assert!(matches!(settle(409, zero, Ok(()), Some(&r), "kbUrl"), Settlement::WaitAndRetry { ms: 6_000, .. }));
    }

    #[test]
    fn bad_parameters_and_credentials_are_configuration_errors() {
        let r = ret("SIMPLE_RETURN", "1905", "parameter ids has invalid value", &[]);
        match settle(400, RateHeaders::default(), Ok(()), Some(&r), "detectionUrl") {
            Settlement::Fail(e) => {
                assert_eq!(e.code(), ErrorCode::QualysBadRequest);
                assert!(e.message().contains("detectionUrl"));
            }
            other => panic!("{other:?}"),
        }
        let r = ret("SIMPLE_RETURN", "2001", "Your account has expired.", &[]);
        assert!(
            matches!(settle(200, RateHeaders::default(), Ok(()), Some(&r), "kbUrl"), Settlement::Fail(e) if e.code() == ErrorCode::QualysCredentials && e.blame() == crate::Blame::Configuration)
        );
        assert!(
            matches!(settle(401, RateHeaders::default(), Err(Error::server(ErrorCode::UnexpectedDocument, false, "x")), None, "kbUrl"), Settlement::Fail(e) if e.code() == ErrorCode::QualysCredentials)
        );
        let r = ret("GENERIC_RETURN", "", "Internal error", &[]);
        assert!(matches!(settle(500, RateHeaders::default(), Ok(()), Some(&r), "kbUrl"), Settlement::Retry(_)));
    }

    #[test]
    fn a_414_is_for_the_feed_to_decide_whatever_the_body() {
        let r = ret("SIMPLE_RETURN", "1905", "parameter too long", &[]);
        for qualys in [None, Some(&r)] {
            let parsed = Err(Error::server(ErrorCode::NotXml, false, "html"));
            assert_eq!(settle(414, RateHeaders::default(), parsed, qualys, "hostsUrl"), Settlement::UrlTooLong);
        }
        assert!(matches!(settle(413, RateHeaders::default(), Ok(()), None, "hostsUrl"), Settlement::Fail(_)));
    }

    #[test]
    fn reads_rate_headers_case_insensitively() {
        let h = RateHeaders::read(&[
            ("x-ratelimit-remaining".into(), "0".into()),
            ("X-RateLimit-ToWait-Sec".into(), " 12 ".into()),
            ("X-Concurrency-Limit-Limit".into(), "2".into()),
        ]);
        assert_eq!(
            h,
            RateHeaders {
                limit: None,
                window_sec: None,
                remaining: Some(0),
                to_wait_sec: Some(12),
                retry_after_sec: None,
                concurrency_limit: Some(2)
            }
        );
    }

    #[test]
    fn unusable_statuses_are_retryable_network_failures_whatever_the_body() {
        for status in [0u16, 99, 100, 101, 199, 600, 999, 65535] {
            let r = ret("SIMPLE_RETURN", "2001", "expired", &[]);
            for qualys in [None, Some(&r)] {
                match settle(status, RateHeaders::default(), Ok(()), qualys, "kbUrl") {
                    Settlement::Retry(e) => {
                        assert_eq!(
                            (e.code(), e.blame(), e.is_retryable()),
                            (ErrorCode::HttpUnusableStatus, crate::Blame::Network, true)
                        );
                        assert!(e.message().contains(&status.to_string()));
                    }
                    other => panic!("{status}: {other:?}"),
                }
            }
        }
        for status in [200u16, 202, 302, 404, 409, 503, 599] {
            assert!(unusable_status(status).is_none(), "{status}");
        }
    }

    #[test]
    fn waits_the_server_asks_for_are_capped_and_never_overflow() {
        assert_eq!(wait_ms(0), 1_000);
        assert_eq!(wait_ms(30), 31_000);
        for huge in [MAX_WAIT_SEC, MAX_WAIT_SEC + 1, 9_200_000_000_000_000, u64::MAX] {
            assert_eq!(wait_ms(huge), (MAX_WAIT_SEC + 1) * 1000, "{huge}");
        }
        let r = ret("SIMPLE_RETURN", "1965", "rate", &[("SECONDS_TO_WAIT", "18446744073709551615")]);
        assert!(matches!(
            settle(409, RateHeaders::default(), Ok(()), Some(&r), "kbUrl"),
            Settlement::WaitAndRetry { ms, .. } if ms == (MAX_WAIT_SEC + 1) * 1000
        ));
        let h = RateHeaders { retry_after_sec: Some(u64::MAX), ..Default::default() };
        assert!(matches!(
            settle(429, h, Ok(()), None, "kbUrl"),
            Settlement::WaitAndRetry { ms, .. } if ms == (MAX_WAIT_SEC + 1) * 1000
        ));
    }
}

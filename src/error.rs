//! Errors, classified by whose fault they are.
//!
//! In scope: the one error type every fallible core function returns, its blame kinds, stable codes
//! and the retryable flag the feed's retry logic reads. Out of scope: logging and formatting for a
//! particular host (the shim prefixes lines; the wasm boundary turns an [`Error`] into a JS `Error`).
//!
//! Messages are written for an Archer administrator: they say what went wrong and what to do, and
//! they never contain a password (callers build messages from key names and redacted values only).

use std::fmt;

/// Whose fault an error is. The shim reports this as `blame` on the JS error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blame {
    /// The feed's Custom Parameters, credentials or Qualys account need fixing by the admin.
    Configuration,
    /// Qualys (or whatever answered) sent something wrong, unexpected, or an error of its own.
    Server,
    /// The connection failed: reset, timeout, DNS, TLS handshake, proxy.
    Network,
    /// The core was driven wrongly by its caller (a bug in the shim or in an integration).
    Caller,
}

impl Blame {
    /// Stable lowercase name, used on the JS side.
    pub fn as_str(self) -> &'static str {
        match self {
            Blame::Configuration => "configuration",
            Blame::Server => "server",
            Blame::Network => "network",
            Blame::Caller => "caller",
        }
    }
}

/// Every stable error code, in one list: those the core raises and those only the JavaScript shim
/// raises (the shim reads them from the wasm export `errorCodes()`). Each code has a default blame
/// and retryable flag ([`ErrorCode::blame`], [`ErrorCode::retryable`]) and a one-line meaning; the
/// string ([`ErrorCode::as_str`]) never changes once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// `CONFIG_INVALID`: One or more Custom Parameters (or tokens) are missing or invalid; the message lists every problem.
    ConfigInvalid,
    /// `TLS_CERTIFICATE`: The server's TLS certificate was not accepted (private CA or TLS-inspecting proxy: set caCert).
    TlsCertificate,
    /// `QUALYS_CREDENTIALS`: Qualys refused the user name or password, or the account is locked.
    QualysCredentials,
    /// `ACCESS_DENIED`: Qualys answered 403: the account may not use this API.
    AccessDenied,
    /// `URL_NOT_FOUND`: Qualys answered 404: the URL parameter's host or path is wrong.
    UrlNotFound,
    /// `API_VERSION_RETIRED`: The URL's Qualys API version is retired and Qualys no longer answers it: use the active version.
    ApiVersionRetired,
    /// `PROXY_AUTH_REQUIRED`: The proxy answered 407: the proxy parameter needs credentials.
    ProxyAuthRequired,
    /// `WRONG_ENDPOINT`: The URL returned another Qualys output than the data source expects.
    WrongEndpoint,
    /// `QUALYS_BAD_REQUEST`: Qualys rejected the request's parameters (a SIMPLE_RETURN error about the URL).
    QualysBadRequest,
    /// `URL_TOO_LONG`: The request URL was refused as too long (HTTP 414) and the run may not switch to POST (httpMethod=GET).
    UrlTooLong,
    /// `CONNECTION_TEST_PASSED`: testConnection=True: every check passed; reported as failed on purpose so Archer keeps LastRunTime.
    ConnectionTestPassed,
    /// `QUALYS_ERROR`: Qualys answered with an error document (SIMPLE_RETURN) that retrying does not fix.
    QualysError,
    /// `QUALYS_INTERNAL_ERROR`: Qualys reported an internal error (GENERIC_RETURN or its internal-error codes); the page is fetched again.
    QualysInternalError,
    /// `HTTP_202`: Qualys answered 202 Accepted (the result is not ready yet); the page is fetched again.
    Http202,
    /// `HTTP_5XX`: Qualys answered a 5xx status; the page is fetched again.
    Http5xx,
    /// `HTTP_STATUS`: Qualys answered an HTTP status with no Qualys error message.
    HttpStatus,
    /// `HTTP_UNUSABLE_STATUS`: The response had a status no page comes with (1xx, outside 100-599); the page is fetched again.
    HttpUnusableStatus,
    /// `NETWORK`: The connection failed (reset, timeout, DNS, proxy); the page is fetched again.
    Network,
    /// `TRUNCATED_PAGE`: The response ended before its document closed; the page is fetched again.
    TruncatedPage,
    /// `EMPTY_RESPONSE`: The response body was empty; the page is fetched again.
    EmptyResponse,
    /// `NOT_XML`: The response body is not XML (e.g. an HTML error page of a proxy).
    NotXml,
    /// `MALFORMED_XML`: The response is not well-formed XML.
    MalformedXml,
    /// `XML_TOO_DEEP`: The response nests elements deeper than the reader allows.
    XmlTooDeep,
    /// `RECORD_TOO_LARGE`: One record (or one XML token) is larger than maxRecordMB.
    RecordTooLarge,
    /// `UNEXPECTED_DOCUMENT`: The response is XML but not a Qualys document the feed knows.
    UnexpectedDocument,
    /// `INVALID_ID_SET`: A listing of IDs (ID_SET) holds something that is not an ID or ID range.
    InvalidIdSet,
    /// `NEXT_PAGE_URL_MISSING`: Qualys said the page was truncated (WARNING 1980) but sent no next-page URL; the page is fetched again.
    NextPageUrlMissing,
    /// `BAD_NEXT_PAGE_URL`: Qualys sent a next-page URL that does not parse.
    BadNextPageUrl,
    /// `FOREIGN_NEXT_PAGE_URL`: Qualys sent a next-page URL on another scheme, host or port; credentials are never sent there.
    ForeignNextPageUrl,
    /// `NEXT_PAGE_LOOP`: Paging does not advance (a next-page URL already fetched, id_min not rising, or pages without new records).
    NextPageLoop,
    /// `TOO_MANY_PAGES`: Qualys kept returning pages beyond the run's page limit.
    TooManyPages,
    /// `DISCOVERY_TOO_LARGE`: The listing of matching IDs is larger than the feed keeps or may fetch in one run.
    DiscoveryTooLarge,
    /// `WAIT_BUDGET_EXHAUSTED`: Waiting for Qualys rate or concurrency limits would exceed waitBudgetSec.
    WaitBudgetExhausted,
    /// `HOST_STALLED`: Qualys could not deliver one host even in a page of its own (timeouts or 5xx); the message names it (skipStalledHosts=True skips such hosts).
    HostStalled,
    /// `DECOMPRESSED_TOO_LARGE`: A compressed answer decoded to more bytes than a page may (a decompression bomb or a broken proxy).
    DecompressedTooLarge,
    /// `BAD_TIME`: The caller passed a current time out of range.
    BadTime,
    /// `OUT_OF_ORDER_CALL`: The caller reported a response for a request that is not in flight.
    OutOfOrderCall,
    /// `STALLED`: The feed had nothing to do but was not finished (a bug).
    Stalled,
    /// `PUSH_AFTER_FINISH`: Bytes were pushed into a reader after the document was finished.
    PushAfterFinish,
    /// `FINISH_TWICE`: A reader was finished twice.
    FinishTwice,
    /// `BAD_ARGUMENT`: A function of the wasm boundary or the shim was called with an argument of the wrong type.
    BadArgument,
    /// `SHIM_ERROR`: The JavaScript shim failed (a hook, the HTTP adapter, or an unknown action).
    ShimError,
    /// `INTERNAL`: The transporter failed unexpectedly (a trap or exception in the core or shim: a bug); the run was stopped.
    Internal,
    /// `OUTPUT_WRITE_FAILED`: The host's output writer (writeItem) failed.
    OutputWriteFailed,
    /// `NO_HTTP_CLIENT`: No HTTP client (Node https, request, global fetch) could be loaded, or the one asked for cannot be.
    NoHttpClient,
    /// `HTTP_OPTION_UNSUPPORTED`: The only HTTP client available (global fetch) cannot honour a parameter (proxy, caCert, verifyCerts=false).
    HttpOptionUnsupported,
    /// `TLS_VERIFY_DISABLED_IN_PROCESS`: verifyCerts is true but NODE_TLS_REJECT_UNAUTHORIZED=0 switches certificate checks off for the whole process.
    TlsVerifyDisabledInProcess,
    /// `RUNTIME_UNSUPPORTED`: This Node.js cannot load the WebAssembly core.
    RuntimeUnsupported,
    /// `NOT_INITIALIZED`: The web build's WebAssembly module is not loaded: init() (or initSync()) was not called first, or failed.
    NotInitialized,
    /// `ABORTED`: The caller stopped the run (an AbortSignal, Ctrl-C or SIGTERM in the CLI); what it wrote stays and the resume checkpoint comes with the error.
    Aborted,
}

impl ErrorCode {
    /// Every code, in the order of this list (configuration, server, network, caller, shim).
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::ConfigInvalid,
        ErrorCode::TlsCertificate,
        ErrorCode::QualysCredentials,
        ErrorCode::AccessDenied,
        ErrorCode::UrlNotFound,
        ErrorCode::ApiVersionRetired,
        ErrorCode::ProxyAuthRequired,
        ErrorCode::WrongEndpoint,
        ErrorCode::QualysBadRequest,
        ErrorCode::UrlTooLong,
        ErrorCode::ConnectionTestPassed,
        ErrorCode::QualysError,
        ErrorCode::QualysInternalError,
        ErrorCode::Http202,
        ErrorCode::Http5xx,
        ErrorCode::HttpStatus,
        ErrorCode::HttpUnusableStatus,
        ErrorCode::Network,
        ErrorCode::TruncatedPage,
        ErrorCode::EmptyResponse,
        ErrorCode::NotXml,
        ErrorCode::MalformedXml,
        ErrorCode::XmlTooDeep,
        ErrorCode::RecordTooLarge,
        ErrorCode::UnexpectedDocument,
        ErrorCode::InvalidIdSet,
        ErrorCode::NextPageUrlMissing,
        ErrorCode::BadNextPageUrl,
        ErrorCode::ForeignNextPageUrl,
        ErrorCode::NextPageLoop,
        ErrorCode::TooManyPages,
        ErrorCode::DiscoveryTooLarge,
        ErrorCode::WaitBudgetExhausted,
        ErrorCode::HostStalled,
        ErrorCode::DecompressedTooLarge,
        ErrorCode::BadTime,
        ErrorCode::OutOfOrderCall,
        ErrorCode::Stalled,
        ErrorCode::PushAfterFinish,
        ErrorCode::FinishTwice,
        ErrorCode::BadArgument,
        ErrorCode::ShimError,
        ErrorCode::Internal,
        ErrorCode::OutputWriteFailed,
        ErrorCode::NoHttpClient,
        ErrorCode::HttpOptionUnsupported,
        ErrorCode::TlsVerifyDisabledInProcess,
        ErrorCode::RuntimeUnsupported,
        ErrorCode::NotInitialized,
        ErrorCode::Aborted,
    ];

    /// The stable SCREAMING_SNAKE string, e.g. `"CONFIG_INVALID"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ConfigInvalid => "CONFIG_INVALID",
            ErrorCode::TlsCertificate => "TLS_CERTIFICATE",
            ErrorCode::QualysCredentials => "QUALYS_CREDENTIALS",
            ErrorCode::AccessDenied => "ACCESS_DENIED",
            ErrorCode::UrlNotFound => "URL_NOT_FOUND",
            ErrorCode::ApiVersionRetired => "API_VERSION_RETIRED",
            ErrorCode::ProxyAuthRequired => "PROXY_AUTH_REQUIRED",
            ErrorCode::WrongEndpoint => "WRONG_ENDPOINT",
            ErrorCode::QualysBadRequest => "QUALYS_BAD_REQUEST",
            ErrorCode::UrlTooLong => "URL_TOO_LONG",
            ErrorCode::ConnectionTestPassed => "CONNECTION_TEST_PASSED",
            ErrorCode::QualysError => "QUALYS_ERROR",
            ErrorCode::QualysInternalError => "QUALYS_INTERNAL_ERROR",
            ErrorCode::Http202 => "HTTP_202",
            ErrorCode::Http5xx => "HTTP_5XX",
            ErrorCode::HttpStatus => "HTTP_STATUS",
            ErrorCode::HttpUnusableStatus => "HTTP_UNUSABLE_STATUS",
            ErrorCode::Network => "NETWORK",
            ErrorCode::TruncatedPage => "TRUNCATED_PAGE",
            ErrorCode::EmptyResponse => "EMPTY_RESPONSE",
            ErrorCode::NotXml => "NOT_XML",
            ErrorCode::MalformedXml => "MALFORMED_XML",
            ErrorCode::XmlTooDeep => "XML_TOO_DEEP",
            ErrorCode::RecordTooLarge => "RECORD_TOO_LARGE",
            ErrorCode::UnexpectedDocument => "UNEXPECTED_DOCUMENT",
            ErrorCode::InvalidIdSet => "INVALID_ID_SET",
            ErrorCode::NextPageUrlMissing => "NEXT_PAGE_URL_MISSING",
            ErrorCode::BadNextPageUrl => "BAD_NEXT_PAGE_URL",
            ErrorCode::ForeignNextPageUrl => "FOREIGN_NEXT_PAGE_URL",
            ErrorCode::NextPageLoop => "NEXT_PAGE_LOOP",
            ErrorCode::TooManyPages => "TOO_MANY_PAGES",
            ErrorCode::DiscoveryTooLarge => "DISCOVERY_TOO_LARGE",
            ErrorCode::WaitBudgetExhausted => "WAIT_BUDGET_EXHAUSTED",
            ErrorCode::HostStalled => "HOST_STALLED",
            ErrorCode::DecompressedTooLarge => "DECOMPRESSED_TOO_LARGE",
            ErrorCode::BadTime => "BAD_TIME",
            ErrorCode::OutOfOrderCall => "OUT_OF_ORDER_CALL",
            ErrorCode::Stalled => "STALLED",
            ErrorCode::PushAfterFinish => "PUSH_AFTER_FINISH",
            ErrorCode::FinishTwice => "FINISH_TWICE",
            ErrorCode::BadArgument => "BAD_ARGUMENT",
            ErrorCode::ShimError => "SHIM_ERROR",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::OutputWriteFailed => "OUTPUT_WRITE_FAILED",
            ErrorCode::NoHttpClient => "NO_HTTP_CLIENT",
            ErrorCode::HttpOptionUnsupported => "HTTP_OPTION_UNSUPPORTED",
            ErrorCode::TlsVerifyDisabledInProcess => "TLS_VERIFY_DISABLED_IN_PROCESS",
            ErrorCode::RuntimeUnsupported => "RUNTIME_UNSUPPORTED",
            ErrorCode::NotInitialized => "NOT_INITIALIZED",
            ErrorCode::Aborted => "ABORTED",
        }
    }

    /// The code named by `text`, if it is one of [`ErrorCode::ALL`].
    pub fn from_str_opt(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == text)
    }

    /// Whose fault an error with this code normally is.
    pub fn blame(self) -> Blame {
        match self {
            ErrorCode::ConfigInvalid => Blame::Configuration,
            ErrorCode::TlsCertificate => Blame::Configuration,
            ErrorCode::QualysCredentials => Blame::Configuration,
            ErrorCode::AccessDenied => Blame::Configuration,
            ErrorCode::UrlNotFound => Blame::Configuration,
            ErrorCode::ApiVersionRetired => Blame::Configuration,
            ErrorCode::ProxyAuthRequired => Blame::Configuration,
            ErrorCode::WrongEndpoint => Blame::Configuration,
            ErrorCode::QualysBadRequest => Blame::Configuration,
            ErrorCode::UrlTooLong => Blame::Configuration,
            ErrorCode::ConnectionTestPassed => Blame::Configuration,
            ErrorCode::QualysError => Blame::Server,
            ErrorCode::QualysInternalError => Blame::Server,
            ErrorCode::Http202 => Blame::Server,
            ErrorCode::Http5xx => Blame::Server,
            ErrorCode::HttpStatus => Blame::Server,
            ErrorCode::HttpUnusableStatus => Blame::Network,
            ErrorCode::Network => Blame::Network,
            ErrorCode::TruncatedPage => Blame::Server,
            ErrorCode::EmptyResponse => Blame::Server,
            ErrorCode::NotXml => Blame::Server,
            ErrorCode::MalformedXml => Blame::Server,
            ErrorCode::XmlTooDeep => Blame::Server,
            ErrorCode::RecordTooLarge => Blame::Server,
            ErrorCode::UnexpectedDocument => Blame::Server,
            ErrorCode::InvalidIdSet => Blame::Server,
            ErrorCode::NextPageUrlMissing => Blame::Server,
            ErrorCode::BadNextPageUrl => Blame::Server,
            ErrorCode::ForeignNextPageUrl => Blame::Server,
            ErrorCode::NextPageLoop => Blame::Server,
            ErrorCode::TooManyPages => Blame::Server,
            ErrorCode::DiscoveryTooLarge => Blame::Server,
            ErrorCode::WaitBudgetExhausted => Blame::Server,
            ErrorCode::HostStalled => Blame::Server,
            ErrorCode::DecompressedTooLarge => Blame::Server,
            ErrorCode::BadTime => Blame::Caller,
            ErrorCode::OutOfOrderCall => Blame::Caller,
            ErrorCode::Stalled => Blame::Caller,
            ErrorCode::PushAfterFinish => Blame::Caller,
            ErrorCode::FinishTwice => Blame::Caller,
            ErrorCode::BadArgument => Blame::Caller,
            ErrorCode::ShimError => Blame::Caller,
            ErrorCode::Internal => Blame::Caller,
            ErrorCode::OutputWriteFailed => Blame::Configuration,
            ErrorCode::NoHttpClient => Blame::Configuration,
            ErrorCode::HttpOptionUnsupported => Blame::Configuration,
            ErrorCode::TlsVerifyDisabledInProcess => Blame::Configuration,
            ErrorCode::RuntimeUnsupported => Blame::Configuration,
            ErrorCode::NotInitialized => Blame::Caller,
            ErrorCode::Aborted => Blame::Caller,
        }
    }

    /// Whether an error with this code is normally worth retrying (a few codes are retryable in
    /// some situations only: the error itself says, see [`Error::is_retryable`]).
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::QualysInternalError
                | ErrorCode::Http202
                | ErrorCode::Http5xx
                | ErrorCode::HttpUnusableStatus
                | ErrorCode::Network
                | ErrorCode::TruncatedPage
                | ErrorCode::EmptyResponse
                | ErrorCode::NextPageUrlMissing
                | ErrorCode::HostStalled
        )
    }

    /// One line saying what the code means, for documentation and tools.
    pub fn meaning(self) -> &'static str {
        match self {
            ErrorCode::ConfigInvalid => "One or more Custom Parameters (or tokens) are missing or invalid; the message lists every problem.",
            ErrorCode::TlsCertificate => "The server's TLS certificate was not accepted (private CA or TLS-inspecting proxy: set caCert).",
            ErrorCode::QualysCredentials => "Qualys refused the user name or password, or the account is locked.",
            ErrorCode::AccessDenied => "Qualys answered 403: the account may not use this API.",
            ErrorCode::UrlNotFound => "Qualys answered 404: the URL parameter's host or path is wrong.",
            ErrorCode::ApiVersionRetired => "The URL's Qualys API version is retired and Qualys no longer answers it: use the active version.",
            ErrorCode::ProxyAuthRequired => "The proxy answered 407: the proxy parameter needs credentials.",
            ErrorCode::WrongEndpoint => "The URL returned another Qualys output than the data source expects.",
            ErrorCode::QualysBadRequest => "Qualys rejected the request's parameters (a SIMPLE_RETURN error about the URL).",
            ErrorCode::UrlTooLong => "The request URL was refused as too long (HTTP 414) and the run may not switch to POST (httpMethod=GET).",
            ErrorCode::ConnectionTestPassed => "testConnection=True: every check passed; reported as failed on purpose so Archer keeps LastRunTime.",
            ErrorCode::QualysError => "Qualys answered with an error document (SIMPLE_RETURN) that retrying does not fix.",
            ErrorCode::QualysInternalError => "Qualys reported an internal error (GENERIC_RETURN or its internal-error codes); the page is fetched again.",
            ErrorCode::Http202 => "Qualys answered 202 Accepted (the result is not ready yet); the page is fetched again.",
            ErrorCode::Http5xx => "Qualys answered a 5xx status; the page is fetched again.",
            ErrorCode::HttpStatus => "Qualys answered an HTTP status with no Qualys error message.",
            ErrorCode::HttpUnusableStatus => "The response had a status no page comes with (1xx, outside 100-599); the page is fetched again.",
            ErrorCode::Network => "The connection failed (reset, timeout, DNS, proxy); the page is fetched again.",
            ErrorCode::TruncatedPage => "The response ended before its document closed; the page is fetched again.",
            ErrorCode::EmptyResponse => "The response body was empty; the page is fetched again.",
            ErrorCode::NotXml => "The response body is not XML (e.g. an HTML error page of a proxy).",
            ErrorCode::MalformedXml => "The response is not well-formed XML.",
            ErrorCode::XmlTooDeep => "The response nests elements deeper than the reader allows.",
            ErrorCode::RecordTooLarge => "One record (or one XML token) is larger than maxRecordMB.",
            ErrorCode::UnexpectedDocument => "The response is XML but not a Qualys document the feed knows.",
            ErrorCode::InvalidIdSet => "A listing of IDs (ID_SET) holds something that is not an ID or ID range.",
            ErrorCode::NextPageUrlMissing => "Qualys said the page was truncated (WARNING 1980) but sent no next-page URL; the page is fetched again.",
            ErrorCode::BadNextPageUrl => "Qualys sent a next-page URL that does not parse.",
            ErrorCode::ForeignNextPageUrl => "Qualys sent a next-page URL on another scheme, host or port; credentials are never sent there.",
            ErrorCode::NextPageLoop => "Paging does not advance (a next-page URL already fetched, id_min not rising, or pages without new records).",
            ErrorCode::TooManyPages => "Qualys kept returning pages beyond the run's page limit.",
            ErrorCode::DiscoveryTooLarge => "The listing of matching IDs is larger than the feed keeps or may fetch in one run.",
            ErrorCode::WaitBudgetExhausted => "Waiting for Qualys rate or concurrency limits would exceed waitBudgetSec.",
            ErrorCode::HostStalled => "Qualys could not deliver one host even in a page of its own (timeouts or 5xx); the message names it (skipStalledHosts=True skips such hosts).",
            ErrorCode::DecompressedTooLarge => "A compressed answer decoded to more bytes than a page may (a decompression bomb or a broken proxy).",
            ErrorCode::BadTime => "The caller passed a current time out of range.",
            ErrorCode::OutOfOrderCall => "The caller reported a response for a request that is not in flight.",
            ErrorCode::Stalled => "The feed had nothing to do but was not finished (a bug).",
            ErrorCode::PushAfterFinish => "Bytes were pushed into a reader after the document was finished.",
            ErrorCode::FinishTwice => "A reader was finished twice.",
            ErrorCode::BadArgument => "A function of the wasm boundary or the shim was called with an argument of the wrong type.",
            ErrorCode::ShimError => "The JavaScript shim failed (a hook, the HTTP adapter, or an unknown action).",
            ErrorCode::Internal => "The transporter failed unexpectedly (a trap or exception in the core or shim: a bug); the run was stopped.",
            ErrorCode::OutputWriteFailed => "The host's output writer (writeItem) failed.",
            ErrorCode::NoHttpClient => "No HTTP client (Node https, request, global fetch) could be loaded, or the one asked for cannot be.",
            ErrorCode::HttpOptionUnsupported => "The only HTTP client available (global fetch) cannot honour a parameter (proxy, caCert, verifyCerts=false).",
            ErrorCode::TlsVerifyDisabledInProcess => "verifyCerts is true but NODE_TLS_REJECT_UNAUTHORIZED=0 switches certificate checks off for the whole process.",
            ErrorCode::RuntimeUnsupported => "This Node.js cannot load the WebAssembly core.",
            ErrorCode::NotInitialized => "The web build's WebAssembly module is not loaded: init() (or initSync()) was not called first, or failed.",
            ErrorCode::Aborted => "The caller stopped the run (an AbortSignal; Ctrl-C or SIGTERM in the CLI); the error carries the resume checkpoint.",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable machine-readable `code`, its blame, and advice in plain words.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    blame: Blame,
    retryable: bool,
    message: String,
}

impl Error {
    /// A configuration error (never retryable). `message` must say which key and what to do.
    pub fn config(code: ErrorCode, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.blame(), Blame::Configuration, "{code}: blame differs from the code's");
        Error { code, blame: Blame::Configuration, retryable: false, message: message.into() }
    }
    /// A server-data error; `retryable` says whether fetching the same page again may help.
    pub fn server(code: ErrorCode, retryable: bool, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.blame(), Blame::Server, "{code}: blame differs from the code's");
        Error { code, blame: Blame::Server, retryable, message: message.into() }
    }
    /// A network error; always retryable (within maxRetry).
    pub fn network(code: ErrorCode, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.blame(), Blame::Network, "{code}: blame differs from the code's");
        Error { code, blame: Blame::Network, retryable: true, message: message.into() }
    }
    /// Misuse of the core's API by its caller.
    pub fn caller(code: ErrorCode, message: impl Into<String>) -> Self {
        debug_assert_eq!(code.blame(), Blame::Caller, "{code}: blame differs from the code's");
        Error { code, blame: Blame::Caller, retryable: false, message: message.into() }
    }

    /// Stable code such as `CONFIG_INVALID` or `TRUNCATED_PAGE`; safe to match on.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
    /// Whose fault the error is.
    pub fn blame(&self) -> Blame {
        self.blame
    }
    /// Whether the same request may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
    /// The message for the admin: what happened and what to do.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The same error with its message rewritten (the feed bounds and scrubs every message it emits).
    pub fn map_message(mut self, f: impl FnOnce(&str) -> String) -> Self {
        self.message = f(&self.message);
        self
    }
    /// The same error with extra context prepended, e.g. "page 3: ".
    pub fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}{}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} problem): {}", self.code, self.blame.as_str(), self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// Short alias used across the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_screaming_snake_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} listed twice");
            assert!(s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'), "{s}");
            assert_eq!(ErrorCode::from_str_opt(s), Some(code));
            assert_eq!(code.to_string(), s);
            assert!(!code.meaning().is_empty() && !code.meaning().contains('\n'), "{s}");
        }
        assert_eq!(ErrorCode::from_str_opt("NOT_A_CODE"), None);
    }

    #[test]
    fn display_keeps_the_code_blame_and_message() {
        let e = Error::server(ErrorCode::TruncatedPage, true, "cut");
        assert_eq!(e.to_string(), "TRUNCATED_PAGE (server problem): cut");
        assert_eq!(e.code(), ErrorCode::TruncatedPage);
        assert!(e.is_retryable());
    }
}

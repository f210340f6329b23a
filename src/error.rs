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

/// An error with a stable machine-readable `code`, its blame, and advice in plain words.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: &'static str,
    blame: Blame,
    retryable: bool,
    message: String,
}

impl Error {
    /// A configuration error (never retryable). `message` must say which key and what to do.
    pub fn config(code: &'static str, message: impl Into<String>) -> Self {
        Error { code, blame: Blame::Configuration, retryable: false, message: message.into() }
    }
    /// A server-data error; `retryable` says whether fetching the same page again may help.
    pub fn server(code: &'static str, retryable: bool, message: impl Into<String>) -> Self {
        Error { code, blame: Blame::Server, retryable, message: message.into() }
    }
    /// A network error; always retryable (within maxRetry).
    pub fn network(code: &'static str, message: impl Into<String>) -> Self {
        Error { code, blame: Blame::Network, retryable: true, message: message.into() }
    }
    /// Misuse of the core's API by its caller.
    pub fn caller(code: &'static str, message: impl Into<String>) -> Self {
        Error { code, blame: Blame::Caller, retryable: false, message: message.into() }
    }

    /// Stable code such as `CONFIG_INVALID` or `TRUNCATED_PAGE`; safe to match on.
    pub fn code(&self) -> &'static str {
        self.code
    }
    pub fn blame(&self) -> Blame {
        self.blame
    }
    /// Whether the same request may succeed if made again.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
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

//! HTTP requests the core hands to its caller.
//!
//! In scope: the request value (method, URL, headers, the form body of a POST), Basic-auth header
//! construction, and redaction: the password appears only inside the `Authorization` header value
//! and never in `Debug` output (nor in a POST body: the body is the page URL's query, credentials
//! are never added to it). Out of scope: sending anything (the shim does HTTP), proxies and TLS settings
//! (see [`crate::feed::TransportSettings`]).

use std::fmt;

use crate::secret::Secret;

/// Value of the mandatory `X-Requested-With` header (Qualys rejects requests without one).
pub const REQUESTED_WITH: &str = concat!("qualys-vm-transporter/", env!("CARGO_PKG_VERSION"));

/// The HTTP method of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// The `Content-Type` of a POST body.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// One request to make. `Debug` shows `Authorization: Basic ***`.
#[derive(Clone)]
pub struct Request {
    /// Identifies the request in `handle_*` calls (several may be in flight).
    pub id: u64,
    /// The HTTP method.
    pub method: Method,
    /// The URL to send the request to: the page URL for a GET; for a POST the page URL without its
    /// query (the query is the body).
    pub url: String,
    /// The body of a POST: the page URL's query as it is (`application/x-www-form-urlencoded`,
    /// percent-encoded, so ASCII); `None` for a GET.
    pub body: Option<String>,
    /// Non-secret headers, in order.
    pub headers: Vec<(String, String)>,
    authorization: Secret,
    /// 1-based page number within the run (a retried page keeps its number).
    pub page: u32,
    /// 0 for the first attempt at this page, 1.. for retries.
    pub attempt: u32,
}

impl Request {
    pub(crate) fn get(id: u64, url: String, username: &str, password: &Secret, page: u32, attempt: u32) -> Self {
        Request {
            id,
            method: Method::Get,
            url,
            body: None,
            headers: vec![("X-Requested-With".to_string(), REQUESTED_WITH.to_string())],
            authorization: basic_auth(username, password),
            page,
            attempt,
        }
    }

    /// The same page as a POST: `url` without its query, the query as the form body (a server
    /// reads a form body exactly as it reads a query string: same names, same percent-decoding,
    /// `+` as a space), `Content-Type: application/x-www-form-urlencoded`. The HTTP layer adds
    /// `Content-Length`.
    pub(crate) fn post(
        id: u64,
        url: &crate::url::Url,
        username: &str,
        password: &Secret,
        page: u32,
        attempt: u32,
    ) -> Self {
        let mut r = Request::get(id, url.without_query().to_string(), username, password, page, attempt);
        r.method = Method::Post;
        r.body = Some(url.query_string());
        r.headers.push(("Content-Type".to_string(), FORM_CONTENT_TYPE.to_string()));
        r
    }

    /// The `Authorization` header value (`Basic <base64>`). Only the HTTP layer should read this.
    pub fn authorization(&self) -> &str {
        self.authorization.expose()
    }

    /// All headers including `Authorization`, for the HTTP layer.
    pub fn all_headers(&self) -> Vec<(String, String)> {
        let mut all = self.headers.clone();
        all.push(("Authorization".to_string(), self.authorization.expose().to_string()));
        all
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body", &self.body)
            .field("headers", &self.headers)
            .field("authorization", &"Basic ***")
            .field("page", &self.page)
            .field("attempt", &self.attempt)
            .finish()
    }
}

fn basic_auth(username: &str, password: &Secret) -> Secret {
    let mut raw = Vec::with_capacity(username.len() + password.expose().len() + 1);
    raw.extend_from_slice(username.as_bytes());
    raw.push(b':');
    raw.extend_from_slice(password.expose().as_bytes());
    Secret::new(format!("Basic {}", base64(&raw)))
}

/// Standard base64 with padding (RFC 4648), enough for one header; not worth a dependency.
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for group in input.chunks(3) {
        let b = [group[0], *group.get(1).unwrap_or(&0), *group.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn authorization_is_basic_and_debug_hides_it() {
        let pw = Secret::new("Pa55-w0rd!".to_string());
        let r = Request::get(1, "https://q.example/api/5.0/fo/asset/host/?action=list".into(), "alice", &pw, 1, 0);
        assert_eq!(r.authorization(), format!("Basic {}", base64(b"alice:Pa55-w0rd!")));
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("Pa55"), "{dbg}");
        assert!(!dbg.contains(&base64(b"alice:Pa55-w0rd!")), "{dbg}");
        assert!(r.headers.iter().any(|(k, v)| k == "X-Requested-With" && v.starts_with("qualys-vm-transporter/")));
        assert!(r.all_headers().iter().any(|(k, _)| k == "Authorization"));
        assert_eq!(r.body, None);
    }

    #[test]
    fn a_post_carries_the_query_as_a_form_body_and_no_credentials() {
        let pw = Secret::new("Pa55-w0rd!".to_string());
        let url = crate::url::Url::parse(
            "https://q.example/api/5.0/fo/asset/host/?action=list&ips=10.0.0.1,10.0.0.2&os_pattern=a%2Bb+c",
        )
        .expect("url");
        let r = Request::post(7, &url, "alice", &pw, 2, 1);
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url, "https://q.example/api/5.0/fo/asset/host/");
        assert_eq!(r.body.as_deref(), Some("action=list&ips=10.0.0.1,10.0.0.2&os_pattern=a%2Bb+c"));
        assert!(r.headers.iter().any(|(k, v)| k == "Content-Type" && v == FORM_CONTENT_TYPE));
        assert_eq!(r.authorization(), format!("Basic {}", base64(b"alice:Pa55-w0rd!")));
        assert!(!r.body.as_deref().unwrap_or("").contains("Pa55"));
        assert_eq!((r.id, r.page, r.attempt), (7, 2, 1));
    }
}

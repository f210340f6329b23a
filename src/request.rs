//! HTTP requests the core hands to its caller.
//!
//! In scope: the request value (method, URL, headers), Basic-auth header construction, and
//! redaction: the password appears only inside the `Authorization` header value and never in
//! `Debug` output. Out of scope: sending anything (the shim does HTTP), proxies and TLS settings
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

/// One request to make. `Debug` shows `Authorization: Basic ***`.
#[derive(Clone)]
pub struct Request {
    /// Identifies the request in `handle_*` calls (several may be in flight).
    pub id: u64,
    /// The HTTP method.
    pub method: Method,
    /// The full URL.
    pub url: String,
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
            headers: vec![("X-Requested-With".to_string(), REQUESTED_WITH.to_string())],
            authorization: basic_auth(username, password),
            page,
            attempt,
        }
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
    }
}

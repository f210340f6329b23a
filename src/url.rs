//! A small URL type for the http/https URLs the feed talks to: Qualys API URLs and the proxy.
//!
//! In scope: parsing `scheme://host[:port][/path][?query][#fragment]` for the `http` and `https`
//! schemes (DNS name, IPv4 or `[IPv6]` host), keeping the query as ordered raw pairs so an unchanged
//! URL re-serialises to the same string, reading/replacing/removing query parameters (the paging
//! logic rewrites `id_min`, `truncation_limit`, ...), comparing origins (a Qualys WARNING URL must
//! point back to the same server), spotting loopback hosts, and splitting `user:pass@` off a proxy
//! URL (the password becomes a [`Secret`]).
//!
//! Out of scope: other schemes, relative references, IDNA (a non-ASCII host is rejected: write its
//! `xn--` form), IPv4 shorthands such as `127.1` or `0x7f.0.0.1` (rejected rather than guessed, so
//! this parser never disagrees with the host's HTTP client about which machine a URL names), path
//! normalisation (`.`/`..` are kept as written), and DNS resolution (`is_loopback` only looks at the
//! text of the host).
//!
//! Error messages never quote the input: a malformed URL may hold a password (`user:pass@` typed
//! where it does not belong), so they only say what is wrong.
//!
//! Normalisations on parse (the only ways `to_string()` differs from the input): the scheme is
//! lower-cased, an empty path becomes `/`, a fragment is dropped and non-ASCII characters in the
//! path or query are percent-encoded as UTF-8.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::secret::Secret;

/// The two schemes this type handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`.
    Http,
    /// `https://`.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// What kind of host a URL names; decided once at parse time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HostKind {
    Domain,
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

/// One `key[=value]` query segment, both parts exactly as written (still percent-encoded).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pair {
    key: String,
    value: Option<String>,
}

impl Pair {
    fn decoded_key(&self) -> String {
        decode_component(&self.key)
    }
}

/// A parsed http/https URL. Never holds user info (see [`Url::parse_proxy`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    scheme: Scheme,
    /// As written (original case); IPv6 keeps its brackets.
    host: String,
    kind: HostKind,
    /// The port written in the URL, if any.
    explicit_port: Option<u16>,
    /// Starts with `/`.
    path: String,
    /// `None`: no `?` at all. `Some(vec![])`: a bare `?`.
    query: Option<Vec<Pair>>,
}

/// The result of [`Url::parse_proxy`]: the proxy URL without its user info, the user name, and the
/// password (both percent-decoded).
pub type ProxyParts = (Url, Option<String>, Option<Secret>);

impl Url {
    /// Parses a Qualys API URL. User info (`user:pass@`) is rejected: credentials belong in the
    /// `username`/`password` parameters, where they are kept out of logs.
    pub fn parse(input: &str) -> Result<Url, String> {
        let (url, userinfo) = parse_inner(input, false)?;
        debug_assert!(userinfo.is_none());
        Ok(url)
    }

    /// Parses the URL Qualys puts in a paging `<WARNING><URL>`: surrounding whitespace is ignored
    /// and HTML-escaped ampersands (`&amp;`, `&#38;`, `&#x26;`) are turned back into `&`, so the
    /// text works whether or not the XML layer already decoded entities (inside CDATA it does not).
    pub fn parse_next_page(input: &str) -> Result<Url, String> {
        let trimmed = input.trim();
        if trimmed.contains("&amp;") || trimmed.contains("&#38;") || trimmed.to_ascii_lowercase().contains("&#x26;") {
            let unescaped =
                replace_ascii_case_insensitive(&trimmed.replace("&amp;", "&").replace("&#38;", "&"), "&#x26;", "&");
            Url::parse(&unescaped)
        } else {
            Url::parse(trimmed)
        }
    }

    /// Parses a proxy URL, which may carry `user:password@`. Returns the URL without the user info,
    /// the user name (if any) and the password (if any), both percent-decoded. The scheme check
    /// (only `http://` proxies) is the caller's: this accepts both.
    pub fn parse_proxy(input: &str) -> Result<ProxyParts, String> {
        let (url, userinfo) = parse_inner(input, true)?;
        let Some(userinfo) = userinfo else {
            return Ok((url, None, None));
        };
        let (user_raw, pass_raw) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo.as_str(), None),
        };
        let user = decode_component_plain(user_raw);
        let pass = pass_raw.map(decode_component_plain).filter(|p| !p.is_empty());
        if user.is_empty() {
            if pass.is_some() {
                return Err(
                    "the proxy URL has a password but no user name before it (write http://user:password@host:port)"
                        .to_string(),
                );
            }
            return Ok((url, None, None));
        }
        Ok((url, Some(user), pass.map(Secret::new)))
    }

    /// `"http"` or `"https"`.
    pub fn scheme(&self) -> &'static str {
        self.scheme.as_str()
    }

    /// The scheme as an enum.
    pub fn scheme_kind(&self) -> Scheme {
        self.scheme
    }

    /// Whether the scheme is https.
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::Https
    }

    /// The host as written in the URL (original case; an IPv6 address keeps its brackets, as in a
    /// `Host` header).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host as a connect API wants it: an IPv6 address without its brackets, anything else as
    /// [`Url::host`].
    pub fn connect_host(&self) -> &str {
        match self.kind {
            HostKind::V6(_) => self.host.trim_start_matches('[').trim_end_matches(']'),
            _ => &self.host,
        }
    }

    /// The effective port: the one written, else 80 for http and 443 for https.
    pub fn port(&self) -> u16 {
        self.explicit_port.unwrap_or(self.scheme.default_port())
    }

    /// The port written in the URL, if any.
    pub fn explicit_port(&self) -> Option<u16> {
        self.explicit_port
    }

    /// `host` or `host:port` when the port is not the scheme's default: the `Host` header value.
    pub fn authority(&self) -> String {
        let port = self.port();
        if port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, port)
        }
    }

    /// The path, always starting with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query without the `?` (empty when there is none), e.g. for a POST form body.
    pub fn query_string(&self) -> String {
        match &self.query {
            None => String::new(),
            Some(pairs) => join_pairs(pairs),
        }
    }

    /// Whether the URL has a `?` part.
    pub fn has_query(&self) -> bool {
        self.query.is_some()
    }

    /// The path plus `?query` if there is one: what goes on an HTTP request line.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            None => self.path.clone(),
            Some(pairs) => format!("{}?{}", self.path, join_pairs(pairs)),
        }
    }

    /// The same URL without its query (for a POST whose body carries the parameters).
    pub fn without_query(&self) -> Url {
        Url { query: None, ..self.clone() }
    }

    /// The same URL with another path (query kept). `path` must start with `/`; characters that
    /// need it are percent-encoded as in [`Url::parse`].
    pub fn with_path(&self, path: &str) -> Url {
        let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
        let query = if self.has_query() { format!("?{}", self.query_string()) } else { String::new() };
        let text = format!("{}://{}{}{}", self.scheme(), self.authority(), path, query);
        Url::parse(&text).unwrap_or_else(|_| self.clone())
    }

    /// The percent-decoded value of the first parameter named `key` (`+` reads as a space, as a
    /// form-decoding server reads it). A parameter written without `=` has the value `""`.
    pub fn query_get(&self, key: &str) -> Option<String> {
        self.query
            .as_ref()?
            .iter()
            .find(|p| p.decoded_key() == key)
            .map(|p| p.value.as_deref().map(decode_component).unwrap_or_default())
    }

    /// All parameters, percent-decoded, in order (duplicates kept).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        match &self.query {
            None => Vec::new(),
            Some(pairs) => pairs
                .iter()
                .filter(|p| !(p.key.is_empty() && p.value.is_none()))
                .map(|p| (p.decoded_key(), p.value.as_deref().map(decode_component).unwrap_or_default()))
                .collect(),
        }
    }

    /// Sets parameter `key` to `value`: the first occurrence is replaced in place (later duplicates
    /// are left alone), else `key=value` is appended. Both are percent-encoded with
    /// [`encode_query_component`].
    pub fn set_query(&mut self, key: &str, value: &str) {
        let encoded_value = encode_query_component(value);
        let pairs = self.query.get_or_insert_with(Vec::new);
        if let Some(pair) = pairs.iter_mut().find(|p| p.decoded_key() == key) {
            pair.value = Some(encoded_value);
        } else {
            pairs.push(Pair { key: encode_query_component(key), value: Some(encoded_value) });
        }
    }

    /// Removes every parameter named `key`; returns whether any was there. When the last
    /// parameter goes, the `?` goes too.
    pub fn remove_query(&mut self, key: &str) -> bool {
        let Some(pairs) = self.query.as_mut() else {
            return false;
        };
        let before = pairs.len();
        pairs.retain(|p| p.decoded_key() != key);
        let removed = pairs.len() != before;
        if removed && pairs.iter().all(|p| p.key.is_empty() && p.value.is_none()) {
            self.query = None;
        }
        removed
    }

    /// Same scheme, same host (ASCII case-insensitive; IP addresses compared as addresses) and same
    /// effective port.
    pub fn same_origin(&self, other: &Url) -> bool {
        if self.scheme != other.scheme || self.port() != other.port() {
            return false;
        }
        match (self.kind, other.kind) {
            (HostKind::V4(a), HostKind::V4(b)) => a == b,
            (HostKind::V6(a), HostKind::V6(b)) => a == b,
            (HostKind::Domain, HostKind::Domain) => self.host.eq_ignore_ascii_case(&other.host),
            _ => false,
        }
    }

    /// Whether the host is `localhost`, an address in 127.0.0.0/8 or `::1` (judged from the text;
    /// no DNS lookup).
    pub fn is_loopback(&self) -> bool {
        match self.kind {
            HostKind::Domain => {
                let h = self.host.strip_suffix('.').unwrap_or(&self.host);
                h.eq_ignore_ascii_case("localhost")
            }
            HostKind::V4(a) => a.is_loopback(),
            HostKind::V6(a) => a.is_loopback(),
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if let Some(port) = self.explicit_port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)?;
        if let Some(pairs) = &self.query {
            write!(f, "?{}", join_pairs(pairs))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({:?})", self.to_string())
    }
}

/// Percent-encodes a query key or value: ASCII letters, digits and `,` `:` `-` `.` `_` `~` stay
/// literal, every other byte (of the UTF-8 form) becomes `%XX` (upper-case hex).
pub fn encode_query_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b',' | b':' | b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            push_pct(&mut out, b);
        }
    }
    out
}

/// Decodes a query component: `%XX` becomes its byte, `+` a space; a `%` not followed by two hex
/// digits stays literal; bytes that are not UTF-8 become U+FFFD.
pub fn decode_component(s: &str) -> String {
    decode(s, true)
}

/// Like [`decode_component`] but `+` stays `+` (user info, paths).
fn decode_component_plain(s: &str) -> String {
    decode(s, false)
}

fn decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn push_pct(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

fn join_pairs(pairs: &[Pair]) -> String {
    let mut out = String::new();
    for (i, p) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&p.key);
        if let Some(v) = &p.value {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

fn replace_ascii_case_insensitive(haystack: &str, needle: &str, with: &str) -> String {
    let lower = haystack.to_ascii_lowercase();
    let mut out = String::with_capacity(haystack.len());
    let mut last = 0;
    for (idx, _) in lower.match_indices(needle) {
        out.push_str(&haystack[last..idx]);
        out.push_str(with);
        last = idx + needle.len();
    }
    out.push_str(&haystack[last..]);
    out
}

/// Percent-encodes non-ASCII characters (as UTF-8); ASCII is kept as written.
fn encode_non_ascii(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                push_pct(&mut out, b);
            }
        }
    }
    out
}

/// The parser shared by [`Url::parse`] and [`Url::parse_proxy`]; returns the raw user info when
/// `allow_userinfo` (otherwise user info is an error).
fn parse_inner(input: &str, allow_userinfo: bool) -> Result<(Url, Option<String>), String> {
    if input.is_empty() {
        return Err("the URL is empty".to_string());
    }
    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL contains a space, tab, line break or other control character; remove it (a space inside a value is written %20)".to_string());
    }
    let Some((scheme_text, rest)) = input.split_once("://") else {
        return Err("the URL must start with https:// (or http:// for a test server on this machine)".to_string());
    };
    let scheme = if scheme_text.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else if scheme_text.eq_ignore_ascii_case("http") {
        Scheme::Http
    } else {
        return Err("only http:// and https:// URLs are supported".to_string());
    };

    // Drop the fragment; it is never sent.
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let auth_end = rest.find(['/', '?', '\\']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(auth_end);
    let (path_raw, query_raw) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    if path_raw.contains('\\') {
        return Err("the URL has a backslash before its query; use / in paths".to_string());
    }
    if path_raw.contains('@') || fragment.is_some_and(|f| f.contains('@')) {
        return Err(userinfo_message(allow_userinfo));
    }

    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => {
            if !allow_userinfo {
                return Err(userinfo_message(false));
            }
            (Some(authority[..at].to_string()), &authority[at + 1..])
        }
        None => (None, authority),
    };

    let (host, kind, port_text) = split_host_port(hostport)?;
    let explicit_port = match port_text {
        None => None,
        Some(p) => Some(parse_port(p)?),
    };

    let path = if path_raw.is_empty() { "/".to_string() } else { encode_non_ascii(path_raw) };
    let query = query_raw.map(|q| {
        let q = encode_non_ascii(q);
        if q.is_empty() {
            return Vec::new();
        }
        q.split('&')
            .map(|seg| match seg.split_once('=') {
                Some((k, v)) => Pair { key: k.to_string(), value: Some(v.to_string()) },
                None => Pair { key: seg.to_string(), value: None },
            })
            .collect()
    });

    Ok((Url { scheme, host: host.to_string(), kind, explicit_port, path, query }, userinfo))
}

fn userinfo_message(is_proxy: bool) -> String {
    if is_proxy {
        "the proxy URL has an '@' in an unexpected place; write http://user:password@host:port and percent-encode an '@', ':' or '/' inside the user name or password (%40, %3A, %2F)".to_string()
    } else {
        "the URL contains a user name or password (user:password@host); remove it and use the username and password parameters instead".to_string()
    }
}

/// Splits `host[:port]` / `[v6][:port]`, validating the host.
fn split_host_port(hostport: &str) -> Result<(&str, HostKind, Option<&str>), String> {
    if hostport.is_empty() {
        return Err("the URL has no host name (expected e.g. https://qualysapi.qualys.com/...)".to_string());
    }
    if let Some(after_bracket) = hostport.strip_prefix('[') {
        let Some(close) = after_bracket.find(']') else {
            return Err("the IPv6 address in the URL has no closing ']'".to_string());
        };
        let inner = &after_bracket[..close];
        let addr: Ipv6Addr =
            inner.parse().map_err(|_| "the host in [brackets] is not a valid IPv6 address".to_string())?;
        let host = &hostport[..close + 2];
        let tail = &after_bracket[close + 1..];
        let port = if tail.is_empty() {
            None
        } else if let Some(p) = tail.strip_prefix(':') {
            Some(p)
        } else {
            return Err("unexpected text after the IPv6 address; only :port may follow ']'".to_string());
        };
        return Ok((host, HostKind::V6(addr), port));
    }
    let (host, port) = match hostport.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hostport, None),
    };
    let kind = validate_host(host)?;
    Ok((host, kind, port))
}

fn parse_port(text: &str) -> Result<u16, String> {
    const MSG: &str = "the port must be a number from 1 to 65535 (or left out for the default)";
    if text.is_empty() {
        return Err("the URL has ':' after the host but no port number; remove the ':' or add the port".to_string());
    }
    if text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MSG.to_string());
    }
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(MSG.to_string()),
    }
}

/// Validates a DNS name or dotted-quad IPv4 address (no brackets).
fn validate_host(host: &str) -> Result<HostKind, String> {
    if host.is_empty() {
        return Err("the URL has no host name (expected e.g. https://qualysapi.qualys.com/...)".to_string());
    }
    if !host.is_ascii() {
        return Err("the host name has non-ASCII characters; write its xn-- (punycode) form".to_string());
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() {
        return Err("the URL has no host name".to_string());
    }
    let labels: Vec<&str> = name.split('.').collect();
    let last = labels.last().copied().unwrap_or("");
    let numeric_last = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit()) || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x")));
    if numeric_last {
        return name.parse::<Ipv4Addr>().map(HostKind::V4).map_err(|_| {
            "the host looks like an IPv4 address but is not four numbers from 0 to 255 without leading zeros"
                .to_string()
        });
    }
    if name.len() > 253 {
        return Err("the host name is longer than 253 characters".to_string());
    }
    for label in labels {
        if label.is_empty() {
            return Err("the host name has an empty part (two dots in a row, or a leading dot)".to_string());
        }
        if label.len() > 63 {
            return Err("a part of the host name between dots is longer than 63 characters".to_string());
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err("the host name may only contain letters, digits, '-', '_' and dots".to_string());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a part of the host name starts or ends with '-'".to_string());
        }
    }
    Ok(HostKind::Domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DETECTION: &str = "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&status=Active,New,Fixed,Re-Opened&vm_scan_since=2024-01-02T00:00:00Z&truncation_limit=500&id_min=5641289";

    fn p(s: &str) -> Url {
        match Url::parse(s) {
            Ok(u) => u,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn err(s: &str) -> String {
        match Url::parse(s) {
            Ok(u) => panic!("{s} parsed as {u}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_a_realistic_detection_url_and_round_trips() {
        let u = p(DETECTION);
        assert_eq!(u.scheme(), "https");
        assert!(u.is_https());
        assert_eq!(u.host(), "qualysapi.qualys.com");
        assert_eq!(u.port(), 443);
        assert_eq!(u.explicit_port(), None);
        assert_eq!(u.path(), "/api/5.0/fo/asset/host/vm/detection/");
        assert_eq!(u.query_get("action").as_deref(), Some("list"));
        assert_eq!(u.query_get("status").as_deref(), Some("Active,New,Fixed,Re-Opened"));
        assert_eq!(u.query_get("vm_scan_since").as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(u.query_get("id_min").as_deref(), Some("5641289"));
        assert_eq!(u.query_get("missing"), None);
        assert_eq!(u.to_string(), DETECTION);
        assert_eq!(format!("{u:?}"), format!("Url({DETECTION:?})"));
    }

    #[test]
    fn round_trips_other_qualys_urls_unchanged() {
        for s in [
            "https://qualysapi.qualys.com/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=2024-01-01T00:00:00Z",
            "https://qualysapi.qg2.apps.qualys.com/api/5.0/fo/asset/host/?action=list&details=All&show_tags=1&vm_scan_since=2024-01-02",
            "https://qualysapi.qualys.eu:443/api/4.0/fo/knowledge_base/vuln/?action=list&ids=1,2,3",
            "https://qualysapi.qualys.com/api/5.0/fo/asset/host/?action=list&flag&=x&&a=b=c",
            "https://qualysapi.qualys.com/api/5.0/fo/asset/host/?action=list&q=%20a%2Bb+c",
            "https://qualysapi.qualys.com/path?",
            "http://127.0.0.1:8080/api/5.0/fo/asset/host/?action=list",
            "https://[2001:db8::1]:8443/api/?a=1",
            "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
    }

    #[test]
    fn normalisations() {
        assert_eq!(p("HTTPS://QualysAPI.qualys.com").to_string(), "https://QualysAPI.qualys.com/");
        assert_eq!(p("https://h.example?x=1").to_string(), "https://h.example/?x=1");
        assert_eq!(p("https://h.example/a?x=1#frag").to_string(), "https://h.example/a?x=1");
        assert_eq!(p("https://h.example/a#frag?x=1").to_string(), "https://h.example/a");
        assert_eq!(p("https://h.example/é?tag=Café").to_string(), "https://h.example/%C3%A9?tag=Caf%C3%A9");
        assert_eq!(p("https://h.example/?tag=Café").query_get("tag").as_deref(), Some("Café"));
    }

    #[test]
    fn rewrites_id_min_in_place() {
        let mut u = p(DETECTION);
        u.set_query("id_min", "5700000");
        assert_eq!(u.to_string(), DETECTION.replace("5641289", "5700000"));
        u.set_query("truncation_limit", "1000");
        assert!(u.to_string().contains("&truncation_limit=1000&id_min=5700000"));
        u.set_query("id_max", "6000000");
        assert!(u.to_string().ends_with("&id_min=5700000&id_max=6000000"));
        assert!(u.remove_query("id_max"));
        assert!(!u.remove_query("id_max"));
        assert!(u.to_string().ends_with("&id_min=5700000"));
    }

    #[test]
    fn set_query_encodes_values() {
        let mut u = p("https://h.example/x");
        u.set_query("status", "Active,New,Re-Opened");
        u.set_query("since", "2024-01-02T00:00:00Z");
        u.set_query("q", "a b&c=d/é+%~._");
        u.set_query("my key", "v");
        assert_eq!(
            u.to_string(),
            "https://h.example/x?status=Active,New,Re-Opened&since=2024-01-02T00:00:00Z&q=a%20b%26c%3Dd%2F%C3%A9%2B%25~._&my%20key=v"
        );
        assert_eq!(u.query_get("q").as_deref(), Some("a b&c=d/é+%~._"));
        assert_eq!(u.query_get("my key").as_deref(), Some("v"));
        // Replacing the first of duplicates only.
        let mut d = p("https://h.example/?a=1&b=2&a=3");
        d.set_query("a", "9");
        assert_eq!(d.to_string(), "https://h.example/?a=9&b=2&a=3");
        assert_eq!(d.query_pairs(), vec![("a".into(), "9".into()), ("b".into(), "2".into()), ("a".into(), "3".into())]);
        // A parameter without '=' gets one.
        let mut f = p("https://h.example/?flag&x=1");
        assert_eq!(f.query_get("flag").as_deref(), Some(""));
        f.set_query("flag", "1");
        assert_eq!(f.to_string(), "https://h.example/?flag=1&x=1");
    }

    #[test]
    fn remove_query_removes_all_and_drops_question_mark() {
        let mut u = p("https://h.example/p?a=1&b=2&a=3");
        assert!(u.remove_query("a"));
        assert_eq!(u.to_string(), "https://h.example/p?b=2");
        assert!(u.remove_query("b"));
        assert_eq!(u.to_string(), "https://h.example/p");
        assert!(!u.has_query());
        assert!(!u.remove_query("b"));
    }

    #[test]
    fn query_decoding() {
        let u = p("https://h.example/?a=%41%2c+x&b=%zz&c=%4&%64=k&e=%FF");
        assert_eq!(u.query_get("a").as_deref(), Some("A, x"));
        assert_eq!(u.query_get("b").as_deref(), Some("%zz"));
        assert_eq!(u.query_get("c").as_deref(), Some("%4"));
        assert_eq!(u.query_get("d").as_deref(), Some("k"));
        assert_eq!(u.query_get("e").as_deref(), Some("\u{FFFD}"));
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%"), "%");
        assert_eq!(decode_component("%4"), "%4");
    }

    #[test]
    fn accessors() {
        let u = p("https://qualysapi.qualys.com:8443/api/2.0/fo/?a=1&b=2");
        assert_eq!(u.port(), 8443);
        assert_eq!(u.explicit_port(), Some(8443));
        assert_eq!(u.authority(), "qualysapi.qualys.com:8443");
        assert_eq!(u.path_and_query(), "/api/2.0/fo/?a=1&b=2");
        assert_eq!(u.query_string(), "a=1&b=2");
        assert_eq!(u.without_query().to_string(), "https://qualysapi.qualys.com:8443/api/2.0/fo/");
        assert_eq!(u.scheme_kind(), Scheme::Https);
        let h = p("http://localhost/x");
        assert_eq!(h.port(), 80);
        assert_eq!(h.authority(), "localhost");
        assert_eq!(h.query_string(), "");
        assert_eq!(h.path_and_query(), "/x");
        assert_eq!(p("https://h.example:443/").authority(), "h.example");
        let v6 = p("https://[::1]:9443/");
        assert_eq!(v6.host(), "[::1]");
        assert_eq!(v6.connect_host(), "::1");
        assert_eq!(v6.authority(), "[::1]:9443");
        assert_eq!(p("https://[::1]/").port(), 443);
        assert_eq!(u.connect_host(), "qualysapi.qualys.com");
    }

    #[test]
    fn same_origin_rules() {
        let a = p(DETECTION);
        assert!(a.same_origin(&p("https://QUALYSAPI.Qualys.com:443/other?x=1")));
        assert!(!a.same_origin(&p("http://qualysapi.qualys.com/")));
        assert!(!a.same_origin(&p("https://qualysapi.qualys.com:8443/")));
        assert!(!a.same_origin(&p("https://qualysapi.qualys.com.evil.example/")));
        assert!(!a.same_origin(&p("https://evil.example/api/5.0/fo/asset/host/vm/detection/")));
        assert!(p("https://[::1]/").same_origin(&p("https://[0:0:0:0:0:0:0:1]:443/")));
        assert!(p("http://127.0.0.1/").same_origin(&p("http://127.0.0.1:80/x")));
        assert!(!p("http://127.0.0.1/").same_origin(&p("http://localhost/")));
    }

    #[test]
    fn loopback_detection() {
        for s in [
            "http://localhost/",
            "http://LocalHost:8080/",
            "http://localhost./",
            "http://127.0.0.1/",
            "http://127.5.6.7:1/",
            "http://[::1]:8080/",
        ] {
            assert!(p(s).is_loopback(), "{s}");
        }
        for s in [
            "http://localhost.example.com/",
            "http://mylocalhost/",
            "http://128.0.0.1/",
            "http://10.0.0.1/",
            "http://[::2]/",
            "http://[::ffff:8.8.8.8]/",
            "https://qualysapi.qualys.com/",
        ] {
            assert!(!p(s).is_loopback(), "{s}");
        }
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(err("").contains("empty"));
        assert!(err("ftp://h.example/").contains("http"));
        assert!(err("qualysapi.qualys.com/api").contains("https://"));
        assert!(err("https:/qualysapi.qualys.com/").contains("https://"));
        assert!(err("https://").contains("no host"));
        assert!(err("https:///path").contains("no host"));
        assert!(err("https://:443/").contains("no host"));
        assert!(err("https://h.example:/").contains("port"));
        assert!(err("https://h.example:0/").contains("port"));
        assert!(err("https://h.example:65536/").contains("port"));
        assert!(err("https://h.example:80a/").contains("port"));
        assert!(err("https://h.example:-1/").contains("port"));
        assert!(err("https://h.example:1:2/").contains("port"));
        assert!(err("https://h.example/a b").contains("space"));
        assert!(err(" https://h.example/").contains("space"));
        assert!(err("https://h.example/\n").contains("control"));
        assert!(err("https://h.example/?a=\tb").contains("control"));
        assert!(err("https://h\u{7f}.example/").contains("control"));
        assert!(err("https://h..example/").contains("empty part"));
        assert!(err("https://-h.example/").contains("'-'"));
        assert!(err("https://h!.example/").contains("letters"));
        assert!(err("https://exämple.com/").contains("xn--"));
        assert!(err("https://999.1.1.1/").contains("IPv4"));
        assert!(err("https://127.1/").contains("IPv4"));
        assert!(err("https://127.000.0.1/").contains("IPv4"));
        assert!(err("https://0x7f.0.0.1/").contains("IPv4"));
        assert!(err("https://[::1/").contains("']'"));
        assert!(err("https://[zz::1]/").contains("IPv6"));
        assert!(err("https://[::1]x/").contains("port"));
        assert!(err("https://h.example\\@evil.example/").contains("backslash"));
        assert!(err("https://h.example/a\\b").contains("backslash"));
        let long_label = format!("https://{}.example/", "a".repeat(64));
        assert!(err(&long_label).contains("63"));
        let long_name = format!("https://{}example/", "abcdefghi.".repeat(26));
        assert!(err(&long_name).contains("253"));
        // '@' allowed in the query.
        assert_eq!(p("https://h.example/?email=a@b.example").query_get("email").as_deref(), Some("a@b.example"));
        assert!(p("https://under_score.example/").host() == "under_score.example");
    }

    #[test]
    fn rejects_userinfo_without_echoing_it() {
        for s in [
            "https://admin:S3cr3tPw@qualysapi.qualys.com/api/2.0/fo/",
            "https://admin@qualysapi.qualys.com/",
            "https://admin:S3cr3tPw/x@qualysapi.qualys.com/",
            "https://admin:12345/S3cr3tPw@qualysapi.qualys.com/",
            "https://h.example/#x:S3cr3tPw@y",
            "https://admin:S3cr3t Pw@qualysapi.qualys.com/",
        ] {
            let e = err(s);
            assert!(!e.contains("S3cr3t") && !e.contains("admin"), "{s}: {e}");
        }
        assert!(err("https://admin:S3cr3tPw@qualysapi.qualys.com/").contains("username and password parameters"));
    }

    #[test]
    fn parse_next_page_accepts_escaped_or_unescaped_ampersands() {
        let escaped = "\n  https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&amp;status=Active,New,Fixed,Re-Opened&amp;vm_scan_since=2024-01-02T00:00:00Z&amp;truncation_limit=500&amp;id_min=5641289  \n";
        let a = Url::parse_next_page(escaped).unwrap_or_else(|e| panic!("{e}"));
        let b = Url::parse_next_page(DETECTION).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b);
        assert_eq!(a.to_string(), DETECTION);
        assert_eq!(a.query_get("id_min").as_deref(), Some("5641289"));
        let numeric = DETECTION.replace('&', "&#38;");
        assert_eq!(Url::parse_next_page(&numeric).map(|u| u.to_string()), Ok(DETECTION.to_string()));
        let hex = DETECTION.replace('&', "&#X26;");
        assert_eq!(Url::parse_next_page(&hex).map(|u| u.to_string()), Ok(DETECTION.to_string()));
        let original =
            p("https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&truncation_limit=500");
        assert!(original.same_origin(&a));
    }

    #[test]
    fn proxy_userinfo_is_split_off() {
        let (u, user, pass) =
            Url::parse_proxy("http://svc_feed:S3cr%40t:pw@proxy.corp.example:3128").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.to_string(), "http://proxy.corp.example:3128/");
        assert_eq!(u.port(), 3128);
        assert_eq!(user.as_deref(), Some("svc_feed"));
        assert_eq!(pass.as_ref().map(Secret::expose), Some("S3cr@t:pw"));
        assert_eq!(format!("{pass:?}"), "Some(***)");

        let (u, user, pass) = Url::parse_proxy("http://proxy.corp.example:8080").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.host(), "proxy.corp.example");
        assert!(user.is_none() && pass.is_none());

        let (_, user, pass) = Url::parse_proxy("http://bob@proxy:8080").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(user.as_deref(), Some("bob"));
        assert!(pass.is_none());

        let (_, user, pass) = Url::parse_proxy("http://p%40ss@w@proxy:8080/").unwrap_or_else(|e| panic!("{e}"));
        // The last '@' ends the user info (as browsers and Node read it).
        assert_eq!(user.as_deref(), Some("p@ss@w"));
        assert!(pass.is_none());

        let e = Url::parse_proxy("http://:S3cr3tPw@proxy:8080").err().unwrap_or_default();
        assert!(e.contains("no user name") && !e.contains("S3cr3t"), "{e}");
        let e = Url::parse_proxy("http://bob:S3cr3tPw@proxy:80x").err().unwrap_or_default();
        assert!(e.contains("port") && !e.contains("S3cr3t"), "{e}");
        let e = Url::parse_proxy("http://bob:S3cr/3tPw@proxy:8080").err().unwrap_or_default();
        assert!(!e.contains("S3cr") && !e.contains("bob"), "{e}");
    }

    #[test]
    fn encode_query_component_set() {
        assert_eq!(encode_query_component("AZaz09,:-._~"), "AZaz09,:-._~");
        assert_eq!(
            encode_query_component(" !\"#$%&'()*+/;<=>?@[\\]^`{|}"),
            "%20%21%22%23%24%25%26%27%28%29%2A%2B%2F%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D"
        );
        assert_eq!(encode_query_component("é"), "%C3%A9");
    }

    #[test]
    fn with_path_keeps_origin_and_query() {
        let u =
            Url::parse("https://qualysapi.example.com:8443/api/5.0/fo/asset/host/vm/detection/?action=list&ids=1-5")
                .expect("url");
        let h = u.with_path("/api/5.0/fo/asset/host/");
        assert_eq!(h.to_string(), "https://qualysapi.example.com:8443/api/5.0/fo/asset/host/?action=list&ids=1-5");
        assert!(h.same_origin(&u));
    }
}

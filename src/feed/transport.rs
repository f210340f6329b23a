//! What a transport failure means, in an Archer admin's words: the platform's error code (Node's
//! `ENOTFOUND`, `ECONNREFUSED`, `ETIMEDOUT`, `ECONNRESET`, the shim's `EPROXY...`, TLS codes) mapped
//! to what failed (DNS, TCP, proxy, TLS, ...) and what to do about it, naming the host and port the
//! feed connects to (the proxy's when there is one) and the parameter to check.
//!
//! In scope: classifying a code (and its message) and the advice text, for the feed's retry
//! messages and the connection test (`super::check`). Out of scope: whether to retry (the feed
//! decides: TLS failures fail at once, the rest are retried).

/// What a transport failure is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The host name does not resolve (`ENOTFOUND`, `EAI_AGAIN`).
    Dns,
    /// Nothing accepts connections on the host and port (`ECONNREFUSED`).
    Refused,
    /// No answer within the limits, or the host is unreachable (`ETIMEDOUT`, `EHOSTUNREACH`, ...).
    NoAnswer,
    /// The connection was cut (`ECONNRESET`, `EPIPE`, a socket hang up).
    Reset,
    /// The proxy refused its credentials (`EPROXYAUTH`: 407 to CONNECT).
    ProxyAuth,
    /// The proxy could not open a tunnel or failed otherwise (`EPROXY`, `EPROXYCONNECT`).
    Proxy,
    /// The TLS handshake or the certificate check failed.
    Tls,
    /// Anything else.
    Other,
}

/// Classifies a transport failure by its code (and, for TLS, its message).
#[inline(never)]
pub fn classify(code: &str, message: &str) -> Failure {
    let c = code.trim().to_ascii_uppercase();
    let m = message.to_ascii_lowercase();
    if c.contains("CERT")
        || c.contains("SELF_SIGNED")
        || c.starts_with("ERR_TLS")
        || c.starts_with("ERR_SSL")
        || c.starts_with("UNABLE_TO_")
        || m.contains("certificate")
    {
        return Failure::Tls;
    }
    match c.as_str() {
        "EPROXYAUTH" => Failure::ProxyAuth,
        _ if c.starts_with("EPROXY") => Failure::Proxy,
        "ENOTFOUND" | "EAI_AGAIN" | "EAI_NONAME" | "EAI_FAIL" => Failure::Dns,
        "ECONNREFUSED" => Failure::Refused,
        "ETIMEDOUT" | "ESOCKETTIMEDOUT" | "ECONNABORTED" | "EHOSTUNREACH" | "ENETUNREACH" | "EHOSTDOWN"
        | "ENETDOWN" => Failure::NoAnswer,
        "ECONNRESET" | "EPIPE" | "ERR_STREAM_PREMATURE_CLOSE" | "UND_ERR_SOCKET" => Failure::Reset,
        _ => Failure::Other,
    }
}

/// Where the feed connects: `host:port` of the URL, or of the proxy when there is one.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint<'a> {
    /// `host:port` the feed connects to first (the proxy's when `via_proxy`).
    pub host_port: &'a str,
    /// Whether that is the proxy.
    pub via_proxy: bool,
    /// The Custom Parameter holding the URL (`kbUrl`, `hostsUrl`, `detectionUrl`).
    pub url_key: &'a str,
}

impl Endpoint<'_> {
    fn what(&self) -> String {
        if self.via_proxy {
            format!("the proxy {} (the proxy parameter)", self.host_port)
        } else {
            format!("{} (host and port of the {} parameter)", self.host_port, self.url_key)
        }
    }
}

/// What failed and what to do, for a log line or an error message (one sentence or two).
#[inline(never)]
pub fn advice(failure: Failure, at: Endpoint<'_>) -> String {
    let what = at.what();
    let more = if at.via_proxy { "the proxy's logs" } else { "the proxy parameter" };
    match failure {
        Failure::Dns => format!("DNS: the name of {what} does not resolve here: check it and the Archer server's DNS."),
        Failure::Refused => format!("TCP: {what} refused the connection: check the port, the firewall from the Archer server and {more}."),
        Failure::NoAnswer => format!("No answer from {what} in time: check the firewall from the Archer server, {more}, and requestTimeoutSec."),
        Failure::Reset => format!("The connection to {what} was cut (a firewall, proxy or load balancer?): if it persists check them and {more}."),
        Failure::ProxyAuth => format!("Proxy: {what} refused the credentials (407): set them in the proxy parameter, http://user:password@host:port."),
        Failure::Proxy => format!("Proxy: {what} could not connect to Qualys (CONNECT failed): check that it allows the host of {}.", at.url_key),
        Failure::Tls => "TLS: the server's certificate was not accepted: behind a TLS-inspecting proxy or a private CA, put that CA's PEM in caCert (last resort: verifyCerts=False).".to_string(),
        Failure::Other => format!("Check host and port of {what}, DNS, the firewall and {more}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_code_gets_its_advice_naming_where_the_feed_connects() {
        let direct = Endpoint { host_port: "qualysapi.qualys.com:443", via_proxy: false, url_key: "hostsUrl" };
        let proxy = Endpoint { host_port: "proxy.example:3128", via_proxy: true, url_key: "hostsUrl" };
        let cases = [
            ("ENOTFOUND", Failure::Dns, "DNS"),
            ("EAI_AGAIN", Failure::Dns, "DNS"),
            ("ECONNREFUSED", Failure::Refused, "refused the connection"),
            ("ETIMEDOUT", Failure::NoAnswer, "No answer"),
            ("EHOSTUNREACH", Failure::NoAnswer, "No answer"),
            ("ECONNRESET", Failure::Reset, "cut"),
            ("EPROXYAUTH", Failure::ProxyAuth, "407"),
            ("EPROXYCONNECT", Failure::Proxy, "CONNECT"),
            ("EPROXY", Failure::Proxy, "CONNECT"),
            ("DEPTH_ZERO_SELF_SIGNED_CERT", Failure::Tls, "caCert"),
            ("UNABLE_TO_VERIFY_LEAF_SIGNATURE", Failure::Tls, "caCert"),
            ("ERR_TLS_CERT_ALTNAME_INVALID", Failure::Tls, "caCert"),
            ("EWHATEVER", Failure::Other, "firewall"),
        ];
        for (code, kind, words) in cases {
            assert_eq!(classify(code, "x"), kind, "{code}");
            for at in [direct, proxy] {
                let text = advice(kind, at);
                assert!(text.contains(words), "{code}: {text}");
                if kind != Failure::Tls {
                    assert!(text.contains(at.host_port), "{code}: {text}");
                    assert!(text.contains(if at.via_proxy { "proxy parameter" } else { "hostsUrl" }), "{code}: {text}");
                }
            }
        }
        assert_eq!(classify("ECONNRESET", "unable to verify the first certificate"), Failure::Tls);
        assert_eq!(classify(" enotfound ", ""), Failure::Dns);
    }
}

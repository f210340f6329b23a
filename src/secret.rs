//! A string that must never be printed: the Qualys password and the proxy password.
//!
//! In scope: holding the value, handing it out explicitly with [`Secret::expose`] at the one place
//! that needs it (building the `Authorization` header), and printing `***` from both `Debug` and
//! `Display`, so a `{:?}` of a whole configuration can never leak it. Out of scope: encryption,
//! zeroing memory on drop (the value also lives in the host's JavaScript strings, so wiping our copy
//! would promise more than it gives), and serialisation (there is deliberately no serde impl).

use std::fmt;

/// A secret string. `Debug` and `Display` print `***`, never the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself. Call this only where the value is really sent (the auth header), never to
    /// build a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is the empty string (safe to ask: reveals nothing else).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expose_returns_the_value() {
        let s = Secret::new("Hunter2!");
        assert_eq!(s.expose(), "Hunter2!");
        assert!(!s.is_empty());
        assert!(Secret::new("").is_empty());
        assert_eq!(Secret::from("x".to_string()), Secret::from("x"));
    }

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("Hunter2!");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s:#?}"), "***");
        #[allow(dead_code)]
        #[derive(Debug)]
        struct Holder {
            password: Secret,
        }
        let shown = format!("{:?}", Holder { password: s.clone() });
        assert!(!shown.contains("Hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }
}

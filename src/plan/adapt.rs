//! Adaptive page size: a page of hosts Qualys cannot deliver in time is asked again for fewer
//! hosts, and a host it cannot deliver even alone is found and named.
//!
//! In scope (host list and detection segments; the KnowledgeBase and the ID listings are not paged
//! by a number of hosts):
//! - **Shrink.** A page attempt that timed out (the shim's idle or whole-response limit:
//!   `ETIMEDOUT`), or that failed with a 5xx or a Qualys internal error (GENERIC_RETURN) right
//!   after an attempt at the same page that failed the same way, is asked again from the same place
//!   (the same `id_min`, or after the last host it wrote when that is safe, as for any retry) for
//!   half as many hosts: `truncation_limit` halved, rounded down, never below 1. Such a retry does
//!   not use `maxRetry`, and the page's retry count starts again at each new size. Bound: a page
//!   shrinks at most floor(log2(size)) times (19 from the largest batchSize, 8 from the default
//!   500), so a page is attempted at most 1 (a first 5xx, counted) + floor(log2(size)) + (maxRetry
//!   + 1) at size 1 times before its host is isolated.
//! - **Grow.** Every page completed below the base size (`batchSize`, or the URL's own
//!   `truncation_limit`) doubles the size of the next page, up to the base: after a slow stretch
//!   the run is back at full pages within log2(base) pages. (A stretch that stays slow costs a
//!   timeout about every second page; the log shows it, and a smaller `batchSize` avoids it.)
//! - **Check.** A timeout before anything answered in the run (the feed says) may as well be a
//!   proxy or network that never answers, where smaller pages only cost time: the page's host-list
//!   lookup (below) is sent first, once, as a check; if it answers, the page shrinks; if it fails,
//!   the run fails at once (so a dead proxy fails after two attempts, as without this).
//! - **Isolate.** A page of one host that still fails that way once `maxRetry` is used up names its
//!   host: from the discovery's IDs when the run listed them (parallel ranges), else with a
//!   host-list request `details=None&truncation_limit=1&id_min=<where the page started>` carrying the
//!   URL's host filters. For the host list that is the host; for the detection APIs, which leave out
//!   hosts without a matching detection, the page is then asked once more narrowed to end at that
//!   host (`id_max`): if that fails too, the host is the one; if it completes, the page moves on
//!   after it.
//!
//! Out of scope: whether a timeout may be a matter of size at all (the feed counts one only once
//! Qualys has answered in the run: before that nothing answers, a dead proxy or network), what is
//! done with a stalled host (skipped or the run fails: the feed decides with
//! `skipStalledHosts`), the query rules (`crate::qualys::urls`), the log lines.

use crate::error::Error;
use crate::url::Url;

/// Why a page attempt failed, as far as the page size is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The transport's idle or whole-response limit (`ETIMEDOUT`).
    Timeout,
    /// HTTP 5xx or a Qualys internal error (GENERIC_RETURN).
    ServerError,
    /// Anything else (a reset connection, a cut-off page, ...): not a matter of size.
    Other,
}

impl FailureKind {
    /// Whether this kind of failure can be a matter of page size (shrink, isolate).
    pub fn adaptive(self) -> bool {
        self != FailureKind::Other
    }
}

/// What a failure did to a page's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adapted {
    /// The page is asked again at once for fewer hosts, without using `maxRetry`.
    Shrunk {
        /// The size of the failed attempt.
        from: u32,
        /// The size of the next one.
        to: u32,
    },
    /// An ordinary retry (within `maxRetry`).
    Same,
}

/// What to do about a page of one host that cannot be delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// This host cannot be delivered even alone.
    Stalled(u64),
    /// The page is asked once more, narrowed to end at this host, to confirm it (detection APIs).
    Probe(u64),
    /// A host-list request names the first host of the page first (its URL).
    Lookup(String),
    /// Nothing to isolate: the segment is not adaptive or gone.
    Nothing,
}

/// The page size of one segment.
#[derive(Debug)]
pub(super) struct Size {
    /// The size asked for without trouble (0: not adaptive).
    pub(super) base: u32,
    /// The size of the next attempt.
    pub(super) now: u32,
    /// The last attempt at the current page failed with a 5xx or a Qualys internal error.
    server_error_before: bool,
}

impl Size {
    /// The size of a segment fetched with `url`: its `truncation_limit` when `adaptive` and
    /// positive (0 = "all hosts" cannot be halved).
    pub(super) fn of(url: &Url, adaptive: bool) -> Size {
        let base = if adaptive {
            url.query_get("truncation_limit").and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(0)
        } else {
            0
        };
        Size { base, now: base, server_error_before: false }
    }

    pub(super) fn adaptive(&self) -> bool {
        self.base > 0
    }

    /// A failed attempt: shrink when it was a timeout or a second 5xx in a row, and the page can.
    pub(super) fn failed(&mut self, kind: FailureKind) -> Adapted {
        if !self.adaptive() {
            return Adapted::Same;
        }
        let second = kind == FailureKind::ServerError && self.server_error_before;
        self.server_error_before = kind == FailureKind::ServerError;
        if (kind == FailureKind::Timeout || second) && self.now > 1 {
            let from = self.now;
            self.now = (self.now / 2).max(1);
            return Adapted::Shrunk { from, to: self.now };
        }
        Adapted::Same
    }

    /// A page completed: the next one may be twice as large, up to the base. Returns the new
    /// size when it grew.
    pub(super) fn completed(&mut self) -> Option<u32> {
        self.server_error_before = false;
        if self.now >= self.base {
            return None;
        }
        self.now = self.now.saturating_mul(2).min(self.base);
        Some(self.now)
    }
}

/// A segment looking for the host it cannot deliver.
#[derive(Debug)]
pub(super) enum Hunt {
    /// The host-list request naming the first host from `from` (`url`); `found` once answered.
    /// `cause` is the page's last failure (the run fails with it when no host is found). With
    /// `check`, it only tells whether Qualys answers at all after a first timeout (see
    /// [`super::Plan::check`]).
    Lookup { url: Url, cause: Error, found: Option<u64>, check: bool },
    /// The page is narrowed to end at this host, to confirm it stalls (detection APIs).
    Probe(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(base: u32) -> Size {
        let url = Url::parse(&format!("https://q.example/api/5.0/fo/asset/host/?action=list&truncation_limit={base}"))
            .expect("url");
        Size::of(&url, true)
    }

    #[test]
    fn timeouts_halve_down_to_one_and_completed_pages_double_back() {
        let mut s = size(500);
        let mut seen = vec![];
        while let Adapted::Shrunk { to, .. } = s.failed(FailureKind::Timeout) {
            seen.push(to);
        }
        assert_eq!(seen, [250, 125, 62, 31, 15, 7, 3, 1], "floor(log2(500)) = 8 halvings");
        assert_eq!(s.failed(FailureKind::Timeout), Adapted::Same, "at 1: maxRetry applies");
        let mut grown = vec![];
        while let Some(n) = s.completed() {
            grown.push(n);
        }
        assert_eq!(grown, [2, 4, 8, 16, 32, 64, 128, 256, 500]);
        assert_eq!(s.now, 500);
        let mut s = size(1_000_000);
        let mut n = 0;
        while s.failed(FailureKind::Timeout) != Adapted::Same {
            n += 1;
        }
        assert_eq!(n, 19);
    }

    #[test]
    fn server_errors_shrink_from_the_second_in_a_row_others_never() {
        let mut s = size(8);
        assert_eq!(s.failed(FailureKind::ServerError), Adapted::Same, "the first: an ordinary retry");
        assert_eq!(s.failed(FailureKind::ServerError), Adapted::Shrunk { from: 8, to: 4 });
        assert_eq!(s.failed(FailureKind::ServerError), Adapted::Shrunk { from: 4, to: 2 });
        assert_eq!(s.failed(FailureKind::Other), Adapted::Same);
        assert_eq!(s.failed(FailureKind::ServerError), Adapted::Same, "not in a row");
        assert_eq!(s.completed(), Some(4));
        assert_eq!(s.failed(FailureKind::ServerError), Adapted::Same, "a completed page starts over");
        for _ in 0..5 {
            assert_eq!(s.failed(FailureKind::Other), Adapted::Same);
        }
        assert_eq!(s.now, 4);
    }

    #[test]
    fn fixed_sizes_are_not_adaptive() {
        let url = Url::parse("https://q.example/x/?action=list&truncation_limit=0").expect("url");
        let mut s = Size::of(&url, true);
        assert!(!s.adaptive());
        assert_eq!(s.failed(FailureKind::Timeout), Adapted::Same);
        let url = Url::parse("https://q.example/x/?action=list&truncation_limit=50").expect("url");
        let mut s = Size::of(&url, false);
        assert_eq!(s.failed(FailureKind::Timeout), Adapted::Same);
        assert_eq!(s.completed(), None);
        let mut one = size(1);
        assert!(one.adaptive());
        assert_eq!(one.failed(FailureKind::Timeout), Adapted::Same);
    }
}

//! Paging must make progress: the checks a next-page URL passes before it is followed.
//!
//! In scope: the general "does not advance" guard. A next-page URL (the WARNING's `URL`) is refused
//! with `NEXT_PAGE_LOOP` when
//! - (a) this run already fetched it (any segment, any page): URLs are compared normalised (scheme,
//!   host case, default port, percent-decoding, parameter order) as 64-bit hashes, one per page
//!   fetched, so the set is bounded by the page cap;
//! - (b) its `id_min` does not go past the current page's `id_min` (a page without `id_min` has no
//!   lower bound), or it has no usable `id_min` after a page that had one. Qualys pages by
//!   `id_min` (its URL ends in `id_min=<next ID>`), so a next page that does not raise it asks for
//!   records already served. This applies to the KnowledgeBase too: its windows are
//!   `id_min`/`id_max` on QIDs, and a KB next page (Qualys does not page the KB today) that did not
//!   raise `id_min` would re-read the same QIDs;
//! - (c) more than [`MAX_IDLE_PAGES`] pages in a row of one segment wrote no new record (none, or
//!   only already-written or out-of-window ones) and still carried a next-page URL.
//!
//! Everything else about the URL is tolerated: whitespace around it, parameters the request never
//! sent, the versioned path, a WARNING without `CODE`.
//!
//! Out of scope: parsing the URL and the origin check (`crate::url`, `crate::plan`), what the feed
//! does with the error (it fails the run with a checkpoint of what was written).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::error::{Error, ErrorCode};
use crate::url::Url;

/// Pages in a row without a new record, still with a next page, that a segment may have before
/// its chain counts as not advancing (a short run of such pages is tolerated, e.g. a server
/// re-sending part of a page).
pub const MAX_IDLE_PAGES: u32 = 3;

/// Longest URL text quoted in a message.
const QUOTE_MAX: usize = 200;

/// A 64-bit hash of a URL in a normal form: equal for URLs a server would read as the same request.
pub fn url_hash(url: &Url) -> u64 {
    let mut h = DefaultHasher::new();
    url.scheme().hash(&mut h);
    url.host().to_ascii_lowercase().hash(&mut h);
    url.port().hash(&mut h);
    url.path().hash(&mut h);
    let mut pairs = url.query_pairs();
    pairs.sort();
    pairs.hash(&mut h);
    h.finish()
}

/// The pages this run fetched (their normalised URLs), across every segment.
#[derive(Debug, Default)]
pub struct Fetched(HashSet<u64>);

impl Fetched {
    pub fn insert(&mut self, url: &Url) {
        self.0.insert(url_hash(url));
    }

    pub fn contains(&self, url: &Url) -> bool {
        self.0.contains(&url_hash(url))
    }
}

/// The `id_min` of a URL: `None` when absent, `Some(None)` when present but not a number.
pub fn id_min(url: &Url) -> Option<Option<u64>> {
    url.query_get("id_min").map(|v| v.trim().parse::<u64>().ok())
}

fn quote(url: &Url) -> String {
    let text = url.to_string();
    if text.len() <= QUOTE_MAX {
        return text;
    }
    let mut end = QUOTE_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", text.get(..end).unwrap_or(""))
}

fn looping(what: String) -> Error {
    Error::server(
        ErrorCode::NextPageLoop,
        false,
        format!("{what}. Following it would fetch the same records again without end, so the feed stops here; every record written so far was written once, and the next run resumes after them. Check that nothing between the feed and Qualys (a proxy or API gateway) rewrites responses, and that the URL parameter does not set id_min itself; if it persists, report it to Qualys support with this message."),
    )
}

/// Checks the next-page URL `next` of a page fetched from `current` (a, b). `idle` is how many
/// pages in a row of this segment, this one included, wrote no new record (c).
pub fn check(current: &Url, next: &Url, fetched: &Fetched, idle: u32) -> Result<(), Error> {
    if idle > MAX_IDLE_PAGES {
        return Err(looping(format!(
            "Qualys sent {idle} pages in a row with no new record but still a next-page URL (WARNING 1980), the last one {}",
            quote(next)
        )));
    }
    match (id_min(current), id_min(next)) {
        (Some(Some(cur)), Some(Some(n))) if n <= cur => {
            return Err(looping(format!(
                "Qualys sent a next-page URL whose id_min ({n}) does not go past the current page's id_min ({cur}): {}",
                quote(next)
            )));
        }
        (Some(Some(cur)), None | Some(None)) => {
            return Err(looping(format!(
                "Qualys sent a next-page URL without a usable id_min after a page that started at id_min={cur}: {}",
                quote(next)
            )));
        }
        _ => {}
    }
    if fetched.contains(next) {
        return Err(looping(format!("Qualys sent a next-page URL this run already fetched: {}", quote(next))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse_next_page(s).expect("test url")
    }

    #[test]
    fn urls_the_server_reads_alike_hash_alike() {
        let a = url("https://q.example/api/2.0/fo/x/?action=list&truncation_limit=3&id_min=4");
        for same in [
            "  https://Q.EXAMPLE:443/api/2.0/fo/x/?id_min=4&action=list&truncation_limit=3\n",
            "https://q.example/api/2.0/fo/x/?action=list&amp;truncation_limit=3&amp;id_min=4",
            "https://q.example/api/2.0/fo/x/?action=%6Cist&truncation_limit=3&id_min=4",
        ] {
            assert_eq!(url_hash(&a), url_hash(&url(same)), "{same}");
        }
        for other in [
            "https://q.example/api/2.0/fo/x/?action=list&truncation_limit=3&id_min=5",
            "https://q.example/api/3.0/fo/x/?action=list&truncation_limit=3&id_min=4",
            "https://q.example/api/2.0/fo/x/?action=list&truncation_limit=3&id_min=4&x=1",
        ] {
            assert_ne!(url_hash(&a), url_hash(&url(other)), "{other}");
        }
    }

    #[test]
    fn next_pages_must_raise_id_min_and_be_new() {
        let mut fetched = Fetched::default();
        let p1 = url("https://q.example/d/?action=list");
        let p2 = url("https://q.example/d/?action=list&id_min=40");
        fetched.insert(&p1);
        assert!(check(&p1, &p2, &fetched, 0).is_ok(), "no lower bound on the first page");
        fetched.insert(&p2);
        for bad in ["id_min=40&x=1", "id_min=39", "x=1", "id_min=abc", "id_min="] {
            let next = url(&format!("https://q.example/d/?action=list&{bad}"));
            let e = check(&p2, &next, &fetched, 0).expect_err(bad);
            assert_eq!(e.code(), ErrorCode::NextPageLoop, "{bad}");
            assert!(e.message().contains("id_min"), "{bad}: {e}");
        }
        // without id_min anywhere, only a repeat is refused
        let q2 = url("https://q.example/d/?action=list&page=2");
        assert!(check(&p1, &q2, &fetched, 0).is_ok());
        assert_eq!(check(&q2, &p1, &fetched, 0).map_err(|e| e.code()), Err(ErrorCode::NextPageLoop));
        // idle pages
        let p3 = url("https://q.example/d/?action=list&id_min=41");
        assert!(check(&p2, &p3, &fetched, MAX_IDLE_PAGES).is_ok());
        let e = check(&p2, &p3, &fetched, MAX_IDLE_PAGES + 1).expect_err("idle");
        assert!(e.message().contains("no new record"), "{e}");
    }
}

//! The paging plan: which URL to fetch next, and which records are already written.
//!
//! In scope: the first URL (the configured one, with `truncation_limit=<batchSize>` added for
//! host list and detections when absent), following the WARNING 1980 `URL` to the next page,
//! refusing a next-page URL on another origin, exactly-once bookkeeping across retries (IDs
//! written from the current page are skipped when the page is fetched again; the retry URL starts
//! after the highest completed ID), and the queue of independent segments that later work (KB QID
//! windows, parallel ID ranges) fills. Out of scope: HTTP, parsing, waiting.
//!
//! Invariant: a record ID is written at most once per page, and a page is complete only when its
//! document closed; the highest completed ID only grows.

use std::collections::{HashSet, VecDeque};

use crate::error::{Error, Result};
use crate::params::DataSource;
use crate::url::Url;

/// Upper bound on pages in one run: a guard against a server that pages forever.
pub const MAX_PAGES: u32 = 1_000_000;

/// What to do with a record the parser completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Write it.
    Write,
    /// Already written by an earlier attempt at this page: skip it.
    AlreadyWritten,
}

#[derive(Debug)]
pub struct Plan {
    source: DataSource,
    /// The configured URL (after LastRunTime substitution), the origin every page must share.
    origin: Url,
    /// The page to fetch next; `None` when the current segment is finished.
    current: Option<Url>,
    /// Further independent segments (e.g. KB QID windows) to fetch after the current one.
    pending: VecDeque<Url>,
    pages_done: u32,
    /// Highest record ID completed so far (the checkpoint).
    highest_id: Option<u64>,
    /// IDs written from the current page, so a retried page writes none of them again.
    page_ids: HashSet<u64>,
    /// Whether the current page's IDs came in ascending order (then a retry may start after them).
    page_ascending: bool,
    page_last_id: Option<u64>,
}

impl Plan {
    /// Plans a run over `url` (already substituted). Adds `truncation_limit` where paging applies.
    pub fn new(source: DataSource, mut url: Url, batch_size: u32) -> Plan {
        if source != DataSource::Kb && url.query_get("truncation_limit").is_none() {
            url.set_query("truncation_limit", &batch_size.to_string());
        }
        Plan {
            source,
            origin: url.clone(),
            current: Some(url),
            pending: VecDeque::new(),
            pages_done: 0,
            highest_id: None,
            page_ids: HashSet::new(),
            page_ascending: true,
            page_last_id: None,
        }
    }

    pub fn is_done(&self) -> bool {
        self.current.is_none() && self.pending.is_empty()
    }

    pub fn pages_done(&self) -> u32 {
        self.pages_done
    }

    pub fn highest_id(&self) -> Option<u64> {
        self.highest_id
    }

    /// The first URL of the run, as configured plus paging parameters (for the start log line).
    pub fn first_url(&self) -> &Url {
        &self.origin
    }

    /// URL for the current page. On a retry after some records of this page were written, and
    /// when the endpoint pages by host ID, the URL starts after the last written ID (`id_min`).
    pub fn current_url(&mut self) -> Option<String> {
        if self.current.is_none() {
            self.current = self.pending.pop_front();
        }
        let url = self.current.as_ref()?;
        let restart_after = if self.page_ascending && self.source != DataSource::Kb { self.page_last_id } else { None };
        match restart_after {
            Some(last) => {
                let mut u = url.clone();
                let from = last.saturating_add(1);
                let keep_existing = u.query_get("id_min").and_then(|v| v.parse::<u64>().ok()).is_some_and(|m| m > from);
                if !keep_existing {
                    u.set_query("id_min", &from.to_string());
                }
                Some(u.to_string())
            }
            None => Some(url.to_string()),
        }
    }

    /// Decides whether a completed record is written; updates the checkpoint when it is.
    pub fn admit(&mut self, id: Option<u64>) -> Admit {
        let Some(id) = id else { return Admit::Write };
        if !self.page_ids.insert(id) {
            return Admit::AlreadyWritten;
        }
        if self.page_last_id.is_some_and(|last| id <= last) {
            self.page_ascending = false;
        }
        self.page_last_id = Some(self.page_last_id.map_or(id, |l| l.max(id)));
        self.highest_id = Some(self.highest_id.map_or(id, |h| h.max(id)));
        Admit::Write
    }

    /// Whether the current page's IDs have been ascending so far (a warning otherwise).
    pub fn page_ascending(&self) -> bool {
        self.page_ascending
    }

    /// Marks the current page complete; `next` is the WARNING 1980 URL, if the page had one.
    pub fn page_complete(&mut self, next: Option<&str>) -> Result<()> {
        self.pages_done += 1;
        self.page_ids.clear();
        self.page_ascending = true;
        self.page_last_id = None;
        let Some(next) = next else {
            self.current = None;
            return Ok(());
        };
        if self.pages_done >= MAX_PAGES {
            return Err(Error::server("TOO_MANY_PAGES", false, format!("Qualys kept returning next-page URLs after {MAX_PAGES} pages; stopping so the feed does not run forever. Raise batchSize or narrow the URL's filters.")));
        }
        let next_url = Url::parse_next_page(next).map_err(|why| Error::server("BAD_NEXT_PAGE_URL", false, format!("Qualys sent a next-page URL that does not parse ({why}); the feed cannot continue past page {}.", self.pages_done)))?;
        if !next_url.same_origin(&self.origin) {
            return Err(Error::server(
                "FOREIGN_NEXT_PAGE_URL",
                false,
                format!(
                    "Qualys sent a next-page URL on {}://{}:{}, but the feed is configured for {}://{}:{}; credentials are never sent to another host, so the feed stops. Check the URL parameter and any proxy rewriting responses.",
                    next_url.scheme(), next_url.host(), next_url.port(), self.origin.scheme(), self.origin.host(), self.origin.port()
                ),
            ));
        }
        if self.current.as_ref().is_some_and(|cur| cur.to_string() == next_url.to_string()) {
            return Err(Error::server("NEXT_PAGE_LOOP", false, format!("Qualys sent the same URL as the next page of page {}; stopping to avoid an endless loop.", self.pages_done)));
        }
        self.current = Some(next_url);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test url")
    }

    #[test]
    fn adds_truncation_limit_for_paged_sources_only() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/api/2.0/fo/asset/host/?action=list"), 250);
        assert_eq!(p.current_url().as_deref(), Some("https://q.example/api/2.0/fo/asset/host/?action=list&truncation_limit=250"));
        let mut p = Plan::new(DataSource::Detections, url("https://q.example/d/?action=list&truncation_limit=10"), 250);
        assert_eq!(p.current_url().as_deref(), Some("https://q.example/d/?action=list&truncation_limit=10"));
        let mut p = Plan::new(DataSource::Kb, url("https://q.example/kb/?action=list"), 250);
        assert_eq!(p.current_url().as_deref(), Some("https://q.example/kb/?action=list"));
    }

    #[test]
    fn follows_next_pages_and_finishes_without_one() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list"), 2);
        p.page_complete(Some("https://q.example/h/?action=list&truncation_limit=2&id_min=30")).expect("same origin");
        assert_eq!(p.current_url().as_deref(), Some("https://q.example/h/?action=list&truncation_limit=2&id_min=30"));
        assert!(!p.is_done());
        p.page_complete(None).expect("last page");
        assert!(p.is_done());
        assert_eq!(p.current_url(), None);
        assert_eq!(p.pages_done(), 2);
    }

    #[test]
    fn refuses_next_page_on_another_origin() {
        for foreign in ["https://evil.example/h/?id_min=3", "http://q.example/h/?id_min=3", "https://q.example:8443/h/?id_min=3"] {
            let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list"), 2);
            let err = p.page_complete(Some(foreign)).expect_err(foreign);
            assert_eq!(err.code(), "FOREIGN_NEXT_PAGE_URL");
        }
        let mut p = Plan::new(DataSource::Hosts, url("https://Q.EXAMPLE:443/h/?action=list"), 2);
        p.page_complete(Some("https://q.example/h/?action=list&id_min=3")).expect("same origin, default port");
    }

    #[test]
    fn retry_skips_written_ids_and_restarts_after_them() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
        assert_eq!(p.admit(Some(10)), Admit::Write);
        assert_eq!(p.admit(Some(11)), Admit::Write);
        // the page failed here; the retry starts after 11 and skips 10/11 if the server repeats them
        assert_eq!(p.current_url().as_deref(), Some("https://q.example/h/?action=list&truncation_limit=3&id_min=12"));
        assert_eq!(p.admit(Some(11)), Admit::AlreadyWritten);
        assert_eq!(p.admit(Some(12)), Admit::Write);
        assert_eq!(p.highest_id(), Some(12));
        p.page_complete(None).expect("done");
        assert_eq!(p.highest_id(), Some(12));
    }

    #[test]
    fn kb_retry_keeps_the_url_and_filters_by_id() {
        let mut p = Plan::new(DataSource::Kb, url("https://q.example/kb/?action=list"), 3);
        p.admit(Some(5));
        assert_eq!(p.current_url().as_deref(), Some("https://q.example/kb/?action=list"));
        assert_eq!(p.admit(Some(5)), Admit::AlreadyWritten);
    }

    #[test]
    fn descending_ids_disable_the_restart_shortcut_but_not_dedupe() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
        p.admit(Some(20));
        p.admit(Some(15));
        assert!(!p.page_ascending());
        assert_eq!(p.current_url().as_deref(), Some("https://q.example/h/?action=list&truncation_limit=3"));
        assert_eq!(p.admit(Some(20)), Admit::AlreadyWritten);
        assert_eq!(p.admit(Some(16)), Admit::Write);
    }

    #[test]
    fn same_url_twice_is_a_loop() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
        let err = p.page_complete(Some("https://q.example/h/?action=list&truncation_limit=3")).expect_err("loop");
        assert_eq!(err.code(), "NEXT_PAGE_LOOP");
    }
}

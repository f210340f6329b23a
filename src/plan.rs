//! The paging plan: which URLs to fetch, in which segments, and which records are already written.
//!
//! In scope:
//! - **Segments.** A segment is a chain of pages over one ID window: its first URL, then each
//!   page's WARNING 1980 `URL`; no WARNING ends it. A plain run is one open segment (the
//!   configured URL plus `truncation_limit=<batchSize>` for host list and detections).
//! - **Discovery.** Optionally a first request (`details=None`) whose `ID_SET` lists the matching
//!   IDs; they are cut into contiguous windows of N IDs (`id_min`/`id_max`), each a segment. The
//!   windows cover the whole ID space (the first starts where the URL starts, the last is open), so
//!   an ID that appears between discovery and fetch is still fetched.
//! - **Exactly once.** IDs written from a page are remembered until the page completes, so a retried
//!   page writes none of them again; a retry URL starts after the last written ID.
//! - **Origin.** A next-page URL on another scheme/host/port is refused.
//! - **Progress.** The watermark (every ID up to it is written) and completed windows above it,
//!   for the resume checkpoint.
//!
//! Out of scope: HTTP, parsing, time-based decisions other than a segment's retry time, building
//! URLs from the LastRunTime template (the feed does that), the checkpoint's text format
//! (`crate::feed::checkpoint`).
//!
//! Invariant: a record ID is written at most once per page; a page is complete only when its
//! document closed; a segment's written IDs only grow (Qualys returns IDs ascending).

use std::collections::HashSet;

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

/// What a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The `details=None` request listing the matching IDs.
    Discovery,
    /// A page of the segment with this index.
    Segment(usize),
}

/// A request the plan wants made now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub target: Target,
    pub url: String,
    /// 1-based page number within the segment.
    pub page: u32,
    /// Retries already used by this page.
    pub attempt: u32,
}

#[derive(Debug)]
struct Segment {
    /// Inclusive ID window; `None` = open on that side.
    lo: Option<u64>,
    hi: Option<u64>,
    /// The page to fetch next; `None` once the segment is finished.
    next: Option<Url>,
    pages_done: u32,
    /// Highest ID written from this segment.
    last_written: Option<u64>,
    page_ids: HashSet<u64>,
    page_ascending: bool,
    page_last_id: Option<u64>,
    busy: bool,
    retries: u32,
    /// Not before this time (ms), after a failed attempt.
    not_before: i64,
}

impl Segment {
    fn new(url: Url, lo: Option<u64>, hi: Option<u64>) -> Self {
        Segment {
            lo,
            hi,
            next: Some(url),
            pages_done: 0,
            last_written: None,
            page_ids: HashSet::new(),
            page_ascending: true,
            page_last_id: None,
            busy: false,
            retries: 0,
            not_before: i64::MIN,
        }
    }

    fn done(&self) -> bool {
        self.next.is_none()
    }
}

#[derive(Debug)]
struct Discovery {
    url: Url,
    /// Template for the window segments (the fetch URL with paging parameters).
    fetch: Url,
    ids_per_window: u64,
    ranges: Vec<(u64, u64)>,
    busy: bool,
    retries: u32,
    not_before: i64,
    done: bool,
}

#[derive(Debug)]
pub struct Plan {
    source: DataSource,
    /// The configured URL (after substitution): the origin every page must share.
    origin: Url,
    discovery: Option<Discovery>,
    segments: Vec<Segment>,
    pages_done: u32,
    highest_id: Option<u64>,
    /// ID windows finished by an earlier run: never fetched again.
    excluded: Vec<(u64, u64)>,
}

/// Query parameters that select an explicit ID set: a URL carrying one is used as given.
const ID_SELECTORS: [&str; 3] = ["ids", "id_min", "id_max"];

impl Plan {
    /// A plan with one open segment over `url`. Adds `truncation_limit` where paging applies.
    pub fn new(source: DataSource, url: Url, batch_size: u32) -> Plan {
        let fetch = Self::fetch_url(source, url.clone(), batch_size);
        let lo = url.query_get("id_min").and_then(|v| v.parse().ok());
        let hi = url.query_get("id_max").and_then(|v| v.parse().ok());
        Plan {
            source,
            origin: url,
            discovery: None,
            segments: vec![Segment::new(fetch, lo, hi)],
            pages_done: 0,
            highest_id: None,
            excluded: Vec::new(),
        }
    }

    /// A plan that first lists the matching IDs with `discovery_url`, then fetches `url` in
    /// contiguous windows of `ids_per_window` IDs.
    pub fn with_discovery(
        source: DataSource,
        url: Url,
        batch_size: u32,
        discovery_url: Url,
        ids_per_window: u32,
    ) -> Plan {
        let fetch = Self::fetch_url(source, url.clone(), batch_size);
        let discovery = Discovery {
            url: discovery_url,
            fetch,
            ids_per_window: u64::from(ids_per_window.max(1)),
            ranges: Vec::new(),
            busy: false,
            retries: 0,
            not_before: i64::MIN,
            done: false,
        };
        Plan {
            source,
            origin: url,
            discovery: Some(discovery),
            segments: Vec::new(),
            pages_done: 0,
            highest_id: None,
            excluded: Vec::new(),
        }
    }

    /// Whether `url` selects explicit IDs (`ids`, `id_min`, `id_max`), so it must be used as given.
    pub fn has_id_selector(url: &Url) -> bool {
        ID_SELECTORS.iter().any(|k| url.query_get(k).is_some())
    }

    fn fetch_url(source: DataSource, mut url: Url, batch_size: u32) -> Url {
        if source != DataSource::Kb && url.query_get("truncation_limit").is_none() {
            url.set_query("truncation_limit", &batch_size.to_string());
        }
        url
    }

    /// Adds a segment fetched before the others (used for a resumed run's catch-up window).
    pub fn prepend_segment(&mut self, url: Url, batch_size: u32, lo: Option<u64>, hi: Option<u64>) {
        let fetch = Self::fetch_url(self.source, url, batch_size);
        self.segments.insert(0, Segment::new(fetch, lo, hi));
    }

    /// Never fetches these ID windows (finished by an earlier run): segments not yet started are
    /// cut around them, now and when discovery builds its windows.
    pub fn exclude(&mut self, windows: &[(u64, u64)]) {
        self.excluded.extend_from_slice(windows);
        self.excluded.sort_unstable();
        let segments = std::mem::take(&mut self.segments);
        for seg in segments {
            self.push_cut(seg);
        }
    }

    /// Adds a segment, cut around the excluded windows when it has not started yet.
    fn push_cut(&mut self, seg: Segment) {
        let untouched = seg.pages_done == 0 && !seg.busy && seg.last_written.is_none();
        let Some(template) = seg.next.clone().filter(|_| untouched && !self.excluded.is_empty()) else {
            self.segments.push(seg);
            return;
        };
        let (lo, hi) = (seg.lo.unwrap_or(0), seg.hi.unwrap_or(u64::MAX));
        let mut cursor = lo;
        let mut open = true;
        let mut pieces = Vec::new();
        for &(a, b) in &self.excluded {
            if b < cursor || a > hi {
                continue;
            }
            if a > cursor {
                pieces.push((cursor, a - 1));
            }
            match b.checked_add(1) {
                Some(c) if c <= hi => cursor = c,
                _ => {
                    open = false;
                    break;
                }
            }
        }
        if open {
            pieces.push((cursor, hi));
        }
        for (a, b) in pieces {
            let (plo, phi) =
                ((a != 0 || seg.lo.is_some()).then_some(a), (b != u64::MAX || seg.hi.is_some()).then_some(b));
            let mut url = template.clone();
            if let Some(v) = plo {
                url.set_query("id_min", &v.to_string());
            }
            if let Some(v) = phi {
                url.set_query("id_max", &v.to_string());
            }
            self.segments.push(Segment::new(url, plo, phi));
        }
    }

    /// Restricts every segment (and the discovery) to IDs from `from` on (a resumed run).
    pub fn start_after(&mut self, last_done: u64) {
        let from = last_done.saturating_add(1);
        if let Some(d) = &mut self.discovery {
            raise_id_min(&mut d.url, from);
            raise_id_min(&mut d.fetch, from);
        }
        for s in &mut self.segments {
            if s.hi.is_some_and(|hi| hi < from) {
                continue;
            }
            if let Some(u) = &mut s.next {
                raise_id_min(u, from);
            }
            s.lo = Some(s.lo.map_or(from, |lo| lo.max(from)));
        }
    }

    pub fn is_done(&self) -> bool {
        self.discovery.as_ref().is_none_or(|d| d.done) && self.segments.iter().all(Segment::done)
    }

    pub fn pages_done(&self) -> u32 {
        self.pages_done
    }

    pub fn highest_id(&self) -> Option<u64> {
        self.highest_id
    }

    /// Number of segments (0 until discovery completes).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The configured URL (for the start log line).
    pub fn first_url(&self) -> &Url {
        &self.origin
    }

    /// The next request to make at `now`, if any segment (or the discovery) is ready.
    pub fn next_request(&mut self, now: i64) -> Option<Assignment> {
        if let Some(d) = &mut self.discovery {
            if !d.done {
                if d.busy || d.not_before > now {
                    return None;
                }
                d.busy = true;
                return Some(Assignment {
                    target: Target::Discovery,
                    url: d.url.to_string(),
                    page: 1,
                    attempt: d.retries,
                });
            }
        }
        let source = self.source;
        let (idx, seg) =
            self.segments.iter_mut().enumerate().find(|(_, s)| !s.done() && !s.busy && s.not_before <= now)?;
        let url = seg.next.as_ref()?;
        // A retry after some records of this page were written starts after the last of them.
        let restart_after = if seg.page_ascending && source != DataSource::Kb { seg.page_last_id } else { None };
        let url = match restart_after {
            Some(last) => {
                let mut u = url.clone();
                raise_id_min(&mut u, last.saturating_add(1));
                u.to_string()
            }
            None => url.to_string(),
        };
        seg.busy = true;
        Some(Assignment { target: Target::Segment(idx), url, page: seg.pages_done + 1, attempt: seg.retries })
    }

    /// The earliest time a currently waiting (retry back-off) target becomes ready.
    pub fn next_ready_time(&self) -> Option<i64> {
        let disc = self.discovery.as_ref().filter(|d| !d.done && !d.busy).map(|d| d.not_before);
        let segs = self.segments.iter().filter(|s| !s.done() && !s.busy).map(|s| s.not_before);
        disc.into_iter().chain(segs).min()
    }

    /// Decides whether a completed record from `target` is written; updates progress when it is.
    pub fn admit(&mut self, target: Target, id: Option<u64>) -> Admit {
        let Target::Segment(i) = target else { return Admit::Write };
        let Some(seg) = self.segments.get_mut(i) else { return Admit::Write };
        let Some(id) = id else { return Admit::Write };
        if !seg.page_ids.insert(id) {
            return Admit::AlreadyWritten;
        }
        if seg.page_last_id.is_some_and(|last| id <= last) {
            seg.page_ascending = false;
        }
        seg.page_last_id = Some(seg.page_last_id.map_or(id, |l| l.max(id)));
        seg.last_written = Some(seg.last_written.map_or(id, |l| l.max(id)));
        self.highest_id = Some(self.highest_id.map_or(id, |h| h.max(id)));
        Admit::Write
    }

    /// IDs the discovery request listed (`ID` / `ID_RANGE`).
    pub fn discovered(&mut self, min: u64, max: u64) {
        if let Some(d) = &mut self.discovery {
            d.ranges.push((min.min(max), min.max(max)));
        }
    }

    /// Whether the target's current page came in ascending ID order so far.
    pub fn page_ascending(&self, target: Target) -> bool {
        match target {
            Target::Segment(i) => self.segments.get(i).is_none_or(|s| s.page_ascending),
            Target::Discovery => true,
        }
    }

    /// The target's request failed; it may be retried from `not_before` on.
    pub fn attempt_failed(&mut self, target: Target, not_before: i64, counts_as_retry: bool) {
        match target {
            Target::Discovery => {
                if let Some(d) = &mut self.discovery {
                    d.busy = false;
                    d.not_before = not_before;
                    d.retries += u32::from(counts_as_retry);
                }
            }
            Target::Segment(i) => {
                if let Some(s) = self.segments.get_mut(i) {
                    s.busy = false;
                    s.not_before = not_before;
                    s.retries += u32::from(counts_as_retry);
                }
            }
        }
    }

    /// Retries used so far by the target's current page.
    pub fn retries(&self, target: Target) -> u32 {
        match target {
            Target::Discovery => self.discovery.as_ref().map_or(0, |d| d.retries),
            Target::Segment(i) => self.segments.get(i).map_or(0, |s| s.retries),
        }
    }

    /// The target's current page completed; `next` is its WARNING 1980 URL, if it had one.
    /// Returns whether the target is now finished.
    pub fn page_complete(&mut self, target: Target, next: Option<&str>) -> Result<bool> {
        self.pages_done += 1;
        if self.pages_done >= MAX_PAGES {
            return Err(Error::server("TOO_MANY_PAGES", false, format!("Qualys kept returning pages after {MAX_PAGES}; stopping so the feed does not run forever. Raise batchSize or narrow the URL's filters.")));
        }
        match target {
            Target::Discovery => {
                self.finish_discovery();
                Ok(true)
            }
            Target::Segment(i) => {
                let origin = self.origin.clone();
                let Some(seg) = self.segments.get_mut(i) else { return Ok(true) };
                seg.busy = false;
                seg.retries = 0;
                seg.not_before = i64::MIN;
                seg.pages_done += 1;
                seg.page_ids.clear();
                seg.page_ascending = true;
                seg.page_last_id = None;
                let Some(next) = next else {
                    seg.next = None;
                    return Ok(true);
                };
                let next_url = Url::parse_next_page(next).map_err(|why| {
                    Error::server(
                        "BAD_NEXT_PAGE_URL",
                        false,
                        format!("Qualys sent a next-page URL that does not parse ({why}); the feed cannot continue."),
                    )
                })?;
                if !next_url.same_origin(&origin) {
                    return Err(Error::server(
                        "FOREIGN_NEXT_PAGE_URL",
                        false,
                        format!(
                            "Qualys sent a next-page URL on {}://{}:{}, but the feed is configured for {}://{}:{}; credentials are never sent to another host, so the feed stops. Check the URL parameter and any proxy rewriting responses.",
                            next_url.scheme(), next_url.host(), next_url.port(), origin.scheme(), origin.host(), origin.port()
                        ),
                    ));
                }
                if seg.next.as_ref().is_some_and(|cur| cur.to_string() == next_url.to_string()) {
                    return Err(Error::server(
                        "NEXT_PAGE_LOOP",
                        false,
                        "Qualys sent the same URL as the next page; stopping to avoid an endless loop.",
                    ));
                }
                seg.next = Some(next_url);
                Ok(false)
            }
        }
    }

    /// Cuts the discovered IDs into contiguous windows covering the whole ID space.
    fn finish_discovery(&mut self) {
        let Some(d) = &mut self.discovery else { return };
        d.busy = false;
        d.done = true;
        let mut ranges = std::mem::take(&mut d.ranges);
        ranges.sort_unstable();
        // Window starts: every `ids_per_window`-th discovered ID.
        let mut starts: Vec<u64> = Vec::new();
        let mut count: u64 = 0;
        let mut prev_end: Option<u64> = None;
        for (a, b) in ranges {
            let a = match prev_end {
                Some(p) if a <= p => p.saturating_add(1),
                _ => a,
            };
            if a > b {
                continue;
            }
            prev_end = Some(b);
            let mut id = a;
            loop {
                if count.is_multiple_of(d.ids_per_window) {
                    starts.push(id);
                }
                let step = (d.ids_per_window - count % d.ids_per_window).min(b - id + 1);
                count += step;
                match id.checked_add(step) {
                    Some(n) if n <= b => id = n,
                    _ => break,
                }
            }
        }
        let lo0 = d.fetch.query_get("id_min").and_then(|v| v.parse::<u64>().ok());
        let hi_last = d.fetch.query_get("id_max").and_then(|v| v.parse::<u64>().ok());
        let fetch = d.fetch.clone();
        let mut segments = Vec::with_capacity(starts.len().max(1));
        if starts.is_empty() {
            segments.push(Segment::new(fetch, lo0, hi_last));
        } else {
            for (k, start) in starts.iter().enumerate() {
                let lo = if k == 0 { lo0 } else { Some(*start) };
                let hi = starts.get(k + 1).map(|n| n - 1).or(hi_last);
                let mut url = fetch.clone();
                if let Some(lo) = lo {
                    url.set_query("id_min", &lo.to_string());
                }
                if let Some(hi) = hi {
                    url.set_query("id_max", &hi.to_string());
                }
                segments.push(Segment::new(url, lo, hi));
            }
        }
        for seg in segments {
            self.push_cut(seg);
        }
    }

    /// Progress for a resume checkpoint: the highest ID such that every ID up to it is written
    /// (None when nothing contiguous is done yet), and the finished windows above it.
    pub fn progress(&self) -> (Option<u64>, Vec<(u64, u64)>) {
        if self.discovery.as_ref().is_some_and(|d| !d.done) {
            return (None, Vec::new());
        }
        let mut order: Vec<&Segment> = self.segments.iter().collect();
        order.sort_by_key(|s| s.lo.unwrap_or(0));
        let mut watermark: Option<u64> = None;
        let mut i = 0;
        while let Some(s) = order.get(i) {
            if s.done() {
                match s.hi {
                    Some(hi) => watermark = Some(watermark.map_or(hi, |w| w.max(hi))),
                    None => return (None, Vec::new()), // everything done
                }
                i += 1;
            } else {
                if s.page_ascending {
                    if let Some(l) = s.last_written {
                        watermark = Some(watermark.map_or(l, |w| w.max(l)));
                    }
                }
                i += 1;
                break;
            }
        }
        let done_above: Vec<(u64, u64)> =
            order[i.min(order.len())..].iter().filter(|s| s.done()).filter_map(|s| Some((s.lo?, s.hi?))).collect();
        (watermark, done_above)
    }
}

/// Makes `url` start at `from` at the earliest (keeps a later `id_min` it already has).
fn raise_id_min(url: &mut Url, from: u64) {
    if url.query_get("id_min").and_then(|v| v.parse::<u64>().ok()).is_none_or(|m| m < from) {
        url.set_query("id_min", &from.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test url")
    }

    fn take(p: &mut Plan) -> Assignment {
        p.next_request(0).expect("a request is ready")
    }

    #[test]
    fn adds_truncation_limit_for_paged_sources_only() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/api/2.0/fo/asset/host/?action=list"), 250);
        assert_eq!(take(&mut p).url, "https://q.example/api/2.0/fo/asset/host/?action=list&truncation_limit=250");
        let mut p = Plan::new(DataSource::Detections, url("https://q.example/d/?action=list&truncation_limit=10"), 250);
        assert_eq!(take(&mut p).url, "https://q.example/d/?action=list&truncation_limit=10");
        let mut p = Plan::new(DataSource::Kb, url("https://q.example/kb/?action=list"), 250);
        assert_eq!(take(&mut p).url, "https://q.example/kb/?action=list");
    }

    #[test]
    fn follows_next_pages_and_finishes_without_one() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list"), 2);
        let a = take(&mut p);
        assert!(p.next_request(0).is_none(), "one request per segment at a time");
        assert!(!p
            .page_complete(a.target, Some("https://q.example/h/?action=list&truncation_limit=2&id_min=30"))
            .expect("same origin"));
        let a = take(&mut p);
        assert_eq!((a.url.as_str(), a.page), ("https://q.example/h/?action=list&truncation_limit=2&id_min=30", 2));
        assert!(p.page_complete(a.target, None).expect("last page"));
        assert!(p.is_done());
        assert_eq!(p.next_request(0), None);
        assert_eq!(p.pages_done(), 2);
    }

    #[test]
    fn refuses_next_page_on_another_origin() {
        for foreign in
            ["https://evil.example/h/?id_min=3", "http://q.example/h/?id_min=3", "https://q.example:8443/h/?id_min=3"]
        {
            let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list"), 2);
            let a = take(&mut p);
            let err = p.page_complete(a.target, Some(foreign)).expect_err(foreign);
            assert_eq!(err.code(), "FOREIGN_NEXT_PAGE_URL");
        }
        let mut p = Plan::new(DataSource::Hosts, url("https://Q.EXAMPLE:443/h/?action=list"), 2);
        let a = take(&mut p);
        p.page_complete(a.target, Some("https://q.example/h/?action=list&id_min=3"))
            .expect("same origin, default port");
    }

    #[test]
    fn retry_skips_written_ids_and_restarts_after_them() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
        let a = take(&mut p);
        assert_eq!(p.admit(a.target, Some(10)), Admit::Write);
        assert_eq!(p.admit(a.target, Some(11)), Admit::Write);
        p.attempt_failed(a.target, 500, true);
        assert!(p.next_request(499).is_none(), "back-off");
        assert_eq!(p.next_ready_time(), Some(500));
        let a = p.next_request(500).expect("retry");
        assert_eq!((a.url.as_str(), a.attempt), ("https://q.example/h/?action=list&truncation_limit=3&id_min=12", 1));
        assert_eq!(p.admit(a.target, Some(11)), Admit::AlreadyWritten);
        assert_eq!(p.admit(a.target, Some(12)), Admit::Write);
        assert_eq!(p.highest_id(), Some(12));
        p.page_complete(a.target, None).expect("done");
        assert_eq!(p.retries(a.target), 0);
    }

    #[test]
    fn kb_retry_keeps_the_url_and_filters_by_id() {
        let mut p = Plan::new(DataSource::Kb, url("https://q.example/kb/?action=list"), 3);
        let a = take(&mut p);
        p.admit(a.target, Some(5));
        p.attempt_failed(a.target, 0, true);
        let a = take(&mut p);
        assert_eq!(a.url, "https://q.example/kb/?action=list");
        assert_eq!(p.admit(a.target, Some(5)), Admit::AlreadyWritten);
    }

    #[test]
    fn descending_ids_disable_the_restart_shortcut_but_not_dedupe() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
        let a = take(&mut p);
        p.admit(a.target, Some(20));
        p.admit(a.target, Some(15));
        assert!(!p.page_ascending(a.target));
        p.attempt_failed(a.target, 0, true);
        let a = take(&mut p);
        assert_eq!(a.url, "https://q.example/h/?action=list&truncation_limit=3");
        assert_eq!(p.admit(a.target, Some(20)), Admit::AlreadyWritten);
        assert_eq!(p.admit(a.target, Some(16)), Admit::Write);
    }

    #[test]
    fn same_url_twice_is_a_loop() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
        let a = take(&mut p);
        let err =
            p.page_complete(a.target, Some("https://q.example/h/?action=list&truncation_limit=3")).expect_err("loop");
        assert_eq!(err.code(), "NEXT_PAGE_LOOP");
    }

    #[test]
    fn discovery_cuts_contiguous_windows_covering_everything() {
        let base = url("https://q.example/kb/?action=list&details=All");
        let mut p = Plan::with_discovery(
            DataSource::Kb,
            base.clone(),
            10,
            url("https://q.example/kb/?action=list&details=None"),
            3,
        );
        let a = take(&mut p);
        assert_eq!(a.target, Target::Discovery);
        assert!(p.next_request(0).is_none(), "nothing else until discovery is done");
        // IDs: 5, 10-13, 20, 21 (overlapping range given twice) -> 7 IDs -> windows start at 5, 12, 21
        p.discovered(10, 13);
        p.discovered(5, 5);
        p.discovered(20, 21);
        p.discovered(12, 13);
        assert!(p.page_complete(a.target, None).expect("discovered"));
        assert_eq!(p.segment_count(), 3);
        let urls: Vec<String> = (0..3).map(|_| take(&mut p).url).collect();
        assert_eq!(
            urls,
            [
                "https://q.example/kb/?action=list&details=All&id_max=11",
                "https://q.example/kb/?action=list&details=All&id_min=12&id_max=20",
                "https://q.example/kb/?action=list&details=All&id_min=21",
            ]
        );
        assert!(p.next_request(0).is_none(), "all three in flight");
    }

    #[test]
    fn an_empty_discovery_still_fetches_once() {
        let mut p = Plan::with_discovery(
            DataSource::Hosts,
            url("https://q.example/h/?action=list"),
            10,
            url("https://q.example/h/?action=list&details=None"),
            100,
        );
        let a = take(&mut p);
        p.page_complete(a.target, None).expect("none found");
        assert_eq!(take(&mut p).url, "https://q.example/h/?action=list&truncation_limit=10");
    }

    #[test]
    fn progress_is_the_contiguous_watermark_and_finished_windows_above_it() {
        let mut p = Plan::with_discovery(
            DataSource::Hosts,
            url("https://q.example/h/?action=list"),
            10,
            url("https://q.example/h/?details=None"),
            2,
        );
        assert_eq!(p.progress(), (None, vec![]));
        let d = take(&mut p);
        for id in [1, 2, 3, 4, 5, 6, 7] {
            p.discovered(id, id);
        }
        p.page_complete(d.target, None).expect("ok");
        // windows: [..=2], [3..=4], [5..=6], [7..]
        let w: Vec<Assignment> = (0..4).map(|_| take(&mut p)).collect();
        p.admit(w[0].target, Some(1));
        p.admit(w[0].target, Some(2));
        p.page_complete(w[0].target, None).expect("ok");
        p.admit(w[1].target, Some(3));
        p.admit(w[2].target, Some(5));
        p.admit(w[2].target, Some(6));
        p.page_complete(w[2].target, None).expect("ok");
        assert_eq!(p.progress(), (Some(3), vec![(5, 6)]));
        p.page_complete(w[1].target, None).expect("ok");
        assert_eq!(p.progress(), (Some(6), vec![]));
        p.page_complete(w[3].target, None).expect("ok");
        assert!(p.is_done());
        assert_eq!(p.progress(), (None, vec![]), "finished: nothing to resume");
    }

    #[test]
    fn excluded_windows_are_never_fetched_again() {
        let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list"), 5);
        p.start_after(10);
        p.exclude(&[(20, 29), (40, 49)]);
        let urls: Vec<String> = std::iter::from_fn(|| p.next_request(0)).map(|a| a.url).collect();
        assert_eq!(
            urls,
            [
                "https://q.example/h/?action=list&truncation_limit=5&id_min=11&id_max=19",
                "https://q.example/h/?action=list&truncation_limit=5&id_min=30&id_max=39",
                "https://q.example/h/?action=list&truncation_limit=5&id_min=50",
            ]
        );
    }

    #[test]
    fn a_resumed_plan_starts_after_the_checkpoint() {
        let mut p = Plan::new(
            DataSource::Detections,
            url("https://q.example/d/?action=list&vm_scan_since=2024-01-01T00:00:00Z"),
            5,
        );
        p.start_after(41);
        p.prepend_segment(
            url("https://q.example/d/?action=list&vm_scan_since=2024-02-01T00:00:00Z&id_max=41"),
            5,
            None,
            Some(41),
        );
        let a = take(&mut p);
        assert_eq!(
            a.url,
            "https://q.example/d/?action=list&vm_scan_since=2024-02-01T00:00:00Z&id_max=41&truncation_limit=5"
        );
        let b = take(&mut p);
        assert_eq!(
            b.url,
            "https://q.example/d/?action=list&vm_scan_since=2024-01-01T00:00:00Z&truncation_limit=5&id_min=42"
        );
    }
}

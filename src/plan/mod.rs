//! The paging plan: which URLs to fetch, in which segments, and which records are already written.
//!
//! In scope:
//! - **Segments.** A segment is a chain of pages over one ID window: its first URL, then each
//!   page's WARNING 1980 `URL`; no WARNING ends it. A plain run is one open segment (the
//!   configured URL plus `truncation_limit=<batchSize>` for host list and detections).
//! - **Discovery.** Optionally a first request (`details=None`) whose `ID_SET` lists the matching
//!   IDs; they are cut into contiguous windows of N IDs (`id_min`/`id_max`), each a segment, one
//!   at a time when a segment is needed (`windows.rs`: memory does not depend on the claimed ID
//!   span; the stored ranges are capped: `DISCOVERY_TOO_LARGE`). The windows cover the whole ID
//!   space (the first starts where the URL starts, the last is open), so an ID that appears
//!   between discovery and fetch is still fetched.
//! - **Paging makes progress.** A next-page URL already fetched, one that does not raise `id_min`,
//!   or a run of pages writing nothing new ends the run with `NEXT_PAGE_LOOP` (`advance.rs`).
//! - **Exactly once, run-wide.** Every record ID written in this run is kept in a compact set
//!   (`written.rs`, about 2 bytes per ID): an ID is written at most once per run, whatever the
//!   pages, windows or retries; a record whose ID lies outside the window its request asked for
//!   (the segment's window and the page's `id_min`) is not written (a server ignoring the window
//!   would otherwise make every window write every record). Records without an ID: `idless.rs`.
//! - **Retries.** A retried page starts after the last ID it wrote (`id_min`) only when that is
//!   safe: its records came in ascending order in every attempt, it holds no ID-less record, and
//!   this server has already delivered a whole page in ascending order and never one out of order
//!   (real pages are not always sorted; a page cut after a high ID may still hold lower ones).
//!   Otherwise it starts from its beginning and the set skips what was written.
//! - **Adaptive page size** (`adapt.rs`). A page of hosts that times out, or fails with 5xx /
//!   GENERIC_RETURN twice in a row, is asked again for half as many hosts; later pages grow back;
//!   a host that cannot be delivered even alone is named (from the discovery, a host-list lookup
//!   [`Target::Lookup`], and for the detection APIs a page narrowed to end at it), then skipped
//!   ([`Plan::skip_host`]) or the run fails (the feed decides). A skipped host is never counted as
//!   written: the resume watermark stays below it and no finished window holding it is claimed.
//! - **Origin.** A next-page URL on another scheme/host/port is refused.
//! - **Progress.** The watermark (every ID up to it is written) and completed windows above it,
//!   for the resume checkpoint. Finished windows are merged as they finish, so what is kept stays
//!   bounded by the windows in progress.
//!
//! Out of scope: HTTP, parsing, time-based decisions other than a segment's retry time, building
//! URLs from the LastRunTime template (the feed does that), the query rules of page, window and
//! discovery URLs (`crate::qualys::urls`), the checkpoint's text format and applying one
//! (`crate::resume`).
//!
//! Invariants: a record ID is written at most once per run; a page is complete only when its
//! document closed; a segment's pages raise `id_min`; memory is bounded whatever the server claims.

mod adapt;
mod advance;
mod idless;
mod windows;
mod written;

pub use self::adapt::{Adapted, FailureKind, Isolation};
pub use self::advance::{url_hash, MAX_IDLE_PAGES};
pub use self::idless::content_hash;
pub use self::windows::MAX_RANGES as MAX_DISCOVERED_RANGES;
pub use self::written::IdSet;

use crate::error::{Error, ErrorCode, Result};
use crate::params::DataSource;
use crate::qualys::urls;
use crate::url::Url;

use self::adapt::{Hunt, Size};
use self::advance::Fetched;
use self::windows::{Discovered, Windows};

/// Upper bound on pages in one run: a guard against a server that pages forever.
pub const MAX_PAGES: u32 = 1_000_000;

/// What to do with a record the parser completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Write it.
    Write,
    /// Already written in this run by another page or window (the server sent it again): skip it.
    AlreadyWritten,
    /// Written by an earlier attempt at this same page, read again by its retry: skip it (an
    /// expected consequence of retrying, not something the server did wrong).
    Reread,
    /// Its ID lies outside the ID window the request asked for: skip it.
    OutOfWindow,
}

/// What a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The `details=None` request listing the matching IDs.
    Discovery,
    /// A page of the segment with this number (0-based, in the order segments were made).
    Segment(usize),
    /// The host-list request that names the first host of this segment's page, which Qualys
    /// cannot deliver even alone (see `adapt.rs`).
    Lookup(usize),
}

/// A request the plan wants made now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// What the request is for (the discovery or a segment).
    pub target: Target,
    /// The URL to fetch.
    pub url: String,
    /// 1-based page number within the segment.
    pub page: u32,
    /// Retries already used by this page.
    pub attempt: u32,
}

/// The page a segment fetches now, across its attempts.
#[derive(Debug)]
struct Page {
    url: Url,
    /// The IDs this page asked for (inclusive): the segment's window narrowed by the page URL's
    /// `id_min`/`id_max`.
    lo: u64,
    hi: u64,
    /// Highest in-window ID handled (written or skipped as already written) in any attempt.
    max: Option<u64>,
    /// The last in-window ID of the current attempt.
    attempt_last: Option<u64>,
    /// Where the current attempt started (its `id_min`, or the page's lower end).
    attempt_lo: u64,
    /// Every attempt so far listed its in-window IDs in ascending order.
    sorted: bool,
    /// Records newly written from this page.
    fresh: u64,
    /// Content hashes of the ID-less records written, once the page has any.
    idless: Option<Box<idless::Ledger>>,
    /// The IDs the current attempt at this page wrote, and those its failed attempts wrote (so a
    /// retry's re-read is told from a duplicate the server sent).
    written_now: IdSet,
    written_before: IdSet,
    /// Whether the URL went into the run's fetched set (on its first request).
    recorded: bool,
}

impl Page {
    fn new(url: Url, seg_lo: Option<u64>, seg_hi: Option<u64>) -> Page {
        let num = |k: &str| url.query_get(k).and_then(|v| v.trim().parse::<u64>().ok());
        let lo = seg_lo.unwrap_or(0).max(num("id_min").unwrap_or(0));
        let hi = seg_hi.unwrap_or(u64::MAX).min(num("id_max").unwrap_or(u64::MAX));
        Page {
            url,
            lo,
            hi,
            max: None,
            attempt_last: None,
            attempt_lo: lo,
            sorted: true,
            fresh: 0,
            idless: None,
            written_now: IdSet::new(),
            written_before: IdSet::new(),
            recorded: false,
        }
    }
}

#[derive(Debug)]
struct Segment {
    no: usize,
    /// Inclusive ID window; `None` = open on that side.
    lo: Option<u64>,
    hi: Option<u64>,
    /// The page to fetch next.
    page: Page,
    pages_done: u32,
    /// Every ID of the window up to this one is written (from completed pages).
    covered: Option<u64>,
    /// Pages in a row that wrote no new record and had a next page.
    idle: u32,
    busy: bool,
    retries: u32,
    /// Not before this time (ms), after a failed attempt.
    not_before: i64,
    /// The page size (`truncation_limit`) of the next attempt: see `adapt.rs`.
    size: Size,
    /// Looking for the host this segment's page cannot deliver.
    hunt: Option<Hunt>,
}

impl Segment {
    fn new(no: usize, url: Url, lo: Option<u64>, hi: Option<u64>, adaptive: bool) -> Self {
        Segment {
            no,
            lo,
            hi,
            size: Size::of(&url, adaptive),
            hunt: None,
            page: Page::new(url, lo, hi),
            pages_done: 0,
            covered: None,
            idle: 0,
            busy: false,
            retries: 0,
            not_before: i64::MIN,
        }
    }

    fn untouched(&self) -> bool {
        self.pages_done == 0 && !self.busy && !self.page.recorded
    }

    /// Every ID of the window up to this one is written, counting the current page only when its
    /// listing can be trusted to be in order (see [`Plan::trusts_order`]).
    fn progress(&self, trust_order: bool) -> Option<u64> {
        let current = self.page.max.filter(|_| trust_order && self.page.sorted);
        match (self.covered, current) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

#[derive(Debug)]
struct Discovery {
    url: Url,
    /// Template for the window segments (the fetch URL with paging parameters).
    fetch: Url,
    ids_per_window: u64,
    ids: Discovered,
    busy: bool,
    retries: u32,
    not_before: i64,
    done: bool,
}

/// The paging plan of one run (see the module documentation).
#[derive(Debug)]
pub struct Plan {
    source: DataSource,
    /// The configured URL (after substitution): the origin every page must share.
    origin: Url,
    discovery: Option<Discovery>,
    /// Windows still to cut from the discovery (after it completed).
    windows: Option<Windows>,
    /// Segments not finished yet, ordered by `no`.
    segments: Vec<Segment>,
    /// Finished windows `(lo, hi)` (inclusive, `u64::MAX` = open above), sorted and merged.
    finished: Vec<(u64, u64)>,
    next_no: usize,
    /// New windows are started only while fewer segments than this are unfinished.
    max_active: usize,
    pages_done: u32,
    highest_id: Option<u64>,
    /// ID windows finished by an earlier run: never fetched again.
    excluded: Vec<(u64, u64)>,
    /// Every record ID written in this run.
    written: IdSet,
    /// Every page URL fetched in this run.
    fetched: Fetched,
    /// This server delivered a whole page in ascending ID order.
    seen_sorted: bool,
    /// This server listed a page out of ID order.
    seen_unsorted: bool,
    /// Hosts skipped because Qualys could not deliver them even alone, ascending.
    skipped: Vec<u64>,
}

/// Unfinished segments at most when no concurrency was given (twice the largest `concurrency`).
const DEFAULT_MAX_ACTIVE: usize = 20;

impl Plan {
    fn empty(source: DataSource, origin: Url) -> Plan {
        Plan {
            source,
            origin,
            discovery: None,
            windows: None,
            segments: Vec::new(),
            finished: Vec::new(),
            next_no: 0,
            max_active: DEFAULT_MAX_ACTIVE,
            pages_done: 0,
            highest_id: None,
            excluded: Vec::new(),
            written: IdSet::new(),
            fetched: Fetched::default(),
            seen_sorted: false,
            seen_unsorted: false,
            skipped: Vec::new(),
        }
    }

    /// Whether this source's pages are sized by a number of hosts (`truncation_limit`).
    fn adaptive(&self) -> bool {
        self.source != DataSource::Kb
    }

    /// A plan with one open segment over `url`. Adds `truncation_limit` where paging applies.
    pub fn new(source: DataSource, url: Url, batch_size: u32) -> Plan {
        let fetch = urls::page_url(source, url.clone(), batch_size);
        let (lo, hi) = (urls::id_min(&url), urls::id_max(&url));
        let mut plan = Plan::empty(source, url);
        let adaptive = plan.adaptive();
        plan.segments.push(Segment::new(0, fetch, lo, hi, adaptive));
        plan.next_no = 1;
        plan
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
        let fetch = urls::page_url(source, url.clone(), batch_size);
        let mut plan = Plan::empty(source, url);
        plan.discovery = Some(Discovery {
            url: discovery_url,
            fetch,
            ids_per_window: u64::from(ids_per_window.max(1)),
            ids: Discovered::default(),
            busy: false,
            retries: 0,
            not_before: i64::MIN,
            done: false,
        });
        plan
    }

    /// Windows are started only while fewer than `2 * concurrency` segments are unfinished (so a
    /// window waiting to be retried does not hold the others up, and what is kept stays bounded).
    pub fn with_concurrency(mut self, concurrency: u32) -> Plan {
        self.max_active = usize::try_from(concurrency).unwrap_or(usize::MAX).saturating_mul(2).max(2);
        self
    }

    /// Numbers the segments in order again (only before the first request).
    fn renumber(&mut self) {
        for (i, s) in self.segments.iter_mut().enumerate() {
            s.no = i;
        }
        self.next_no = self.segments.len();
    }

    /// Adds a segment fetched before the others (used for a resumed run's catch-up window).
    pub fn prepend_segment(&mut self, url: Url, batch_size: u32, lo: Option<u64>, hi: Option<u64>) {
        let fetch = urls::page_url(self.source, url, batch_size);
        let adaptive = self.adaptive();
        self.segments.insert(0, Segment::new(0, fetch, lo, hi, adaptive));
        self.renumber();
    }

    /// Never fetches these ID windows (finished by an earlier run): segments not yet started are
    /// cut around them, now and when discovery builds its windows.
    pub fn exclude(&mut self, windows: &[(u64, u64)]) {
        self.excluded.extend(windows.iter().map(|&(a, b)| (a.min(b), a.max(b))));
        self.excluded.sort_unstable();
        let segments = std::mem::take(&mut self.segments);
        for seg in segments {
            if seg.untouched() {
                self.push_cut(seg.page.url, seg.lo, seg.hi);
            } else {
                self.segments.push(seg);
            }
        }
        self.renumber();
    }

    /// Adds the segment(s) of window `lo..=hi` over `template`, cut around the excluded windows.
    fn push_cut(&mut self, template: Url, lo: Option<u64>, hi: Option<u64>) {
        let (a0, b0) = (lo.unwrap_or(0), hi.unwrap_or(u64::MAX));
        let mut cursor = a0;
        let mut open = true;
        let mut pieces = Vec::new();
        for &(a, b) in &self.excluded {
            if b < cursor || a > b0 {
                continue;
            }
            if a > cursor {
                pieces.push((cursor, a - 1));
            }
            match b.checked_add(1) {
                Some(c) if c <= b0 => cursor = c,
                _ => {
                    open = false;
                    break;
                }
            }
        }
        if open {
            pieces.push((cursor, b0));
        }
        let untouched_by_cuts = pieces == [(a0, b0)];
        for (a, b) in pieces {
            let plo = (a != 0 || lo.is_some()).then_some(a);
            let phi = (b != u64::MAX || hi.is_some()).then_some(b);
            let mut url = template.clone();
            if !untouched_by_cuts || plo != lo {
                if let Some(v) = plo {
                    url.set_query("id_min", &v.to_string());
                }
            }
            if !untouched_by_cuts || phi != hi {
                if let Some(v) = phi {
                    url.set_query("id_max", &v.to_string());
                }
            }
            let no = self.next_no;
            self.next_no += 1;
            let adaptive = self.adaptive();
            self.segments.push(Segment::new(no, url, plo, phi, adaptive));
        }
    }

    /// Restricts every segment (and the discovery) to IDs from `from` on (a resumed run).
    pub fn start_after(&mut self, last_done: u64) {
        let from = last_done.saturating_add(1);
        if let Some(d) = &mut self.discovery {
            urls::raise_id_min(&mut d.url, from);
            urls::raise_id_min(&mut d.fetch, from);
        }
        for s in &mut self.segments {
            if s.hi.is_some_and(|hi| hi < from) {
                continue;
            }
            urls::raise_id_min(&mut s.page.url, from);
            s.lo = Some(s.lo.map_or(from, |lo| lo.max(from)));
            s.page.lo = s.page.lo.max(from);
        }
    }

    /// Whether everything is fetched (discovery done, no segment or window left).
    pub fn is_done(&self) -> bool {
        self.discovery.as_ref().is_none_or(|d| d.done)
            && self.segments.is_empty()
            && self.windows.as_ref().is_none_or(Windows::is_exhausted)
    }

    /// Pages completed so far.
    pub fn pages_done(&self) -> u32 {
        self.pages_done
    }

    /// The highest record ID written so far.
    pub fn highest_id(&self) -> Option<u64> {
        self.highest_id
    }

    /// Number of segments: those made so far plus the windows still to cut (0 until discovery
    /// completes).
    pub fn segment_count(&self) -> usize {
        let pending = self.windows.as_ref().map_or(0, |w| usize::try_from(w.remaining()).unwrap_or(usize::MAX));
        self.next_no.saturating_add(pending)
    }

    /// The configured URL (for the start log line).
    pub fn first_url(&self) -> &Url {
        &self.origin
    }

    fn segment(&self, target: Target) -> Option<&Segment> {
        let Target::Segment(no) = target else { return None };
        let i = self.segments.binary_search_by_key(&no, |s| s.no).ok()?;
        self.segments.get(i)
    }

    fn segment_mut(&mut self, target: Target) -> Option<&mut Segment> {
        find_mut(&mut self.segments, target)
    }

    /// Whether this server's listing order may be relied on for the current page of a segment:
    /// a whole page came in ascending order and no page out of order.
    fn trusts_order(&self) -> bool {
        self.seen_sorted && !self.seen_unsorted
    }

    /// Whether a new window may start now.
    fn may_cut(&self) -> bool {
        self.segments.len() < self.max_active && self.windows.as_ref().is_some_and(|w| !w.is_exhausted())
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
        let ready = |s: &Segment| !s.busy && s.not_before <= now;
        // A window inside windows an earlier run finished yields no segment: cut the next one
        // (at most one per window, and there are at most MAX_PAGES windows).
        while !self.segments.iter().any(ready) && self.may_cut() {
            self.cut_window();
        }
        let trust = self.trusts_order();
        let source = self.source;
        let seg = self.segments.iter_mut().find(|s| ready(s))?;
        if let Some(Hunt::Lookup { url, .. }) = &seg.hunt {
            let url = url.to_string();
            seg.busy = true;
            return Some(Assignment {
                target: Target::Lookup(seg.no),
                url,
                page: seg.pages_done.saturating_add(1),
                attempt: seg.retries,
            });
        }
        let page = &mut seg.page;
        if !page.recorded {
            self.fetched.insert(&page.url);
            page.recorded = true;
        }
        page.attempt_last = None;
        if let Some(l) = page.idless.as_mut() {
            l.new_attempt();
        }
        // A retry after some records of this page were written starts after the last of them,
        // when that cannot skip one (see the module documentation).
        let restart = trust && page.sorted && page.idless.is_none() && source != DataSource::Kb;
        let mut u = page.url.clone();
        page.attempt_lo = page.lo;
        if let Some(last) = page.max.filter(|_| restart) {
            let from = last.saturating_add(1).min(page.hi);
            urls::raise_id_min(&mut u, from);
            page.attempt_lo = from.max(page.lo);
        }
        // The page's identity stays its URL; the request asks for the adaptive size, and a probe
        // ends at the host it confirms (see `adapt.rs`).
        let asked = u.query_get("truncation_limit").and_then(|v| v.trim().parse::<u32>().ok());
        let (now, base) = (seg.size.now, seg.size.base);
        if seg.size.adaptive() && (asked.is_some_and(|a| a != now) || (asked.is_none() && now != base)) {
            u.set_query("truncation_limit", &now.to_string());
        }
        if let Some(Hunt::Probe(host)) = seg.hunt {
            if host < page.hi {
                u.set_query("id_max", &host.to_string());
            }
        }
        let url = u.to_string();
        seg.busy = true;
        Some(Assignment {
            target: Target::Segment(seg.no),
            url,
            page: seg.pages_done.saturating_add(1),
            attempt: seg.retries,
        })
    }

    /// Makes the segment(s) of the next discovered window.
    fn cut_window(&mut self) {
        let Some((lo, hi)) = self.windows.as_mut().and_then(Windows::next_window) else { return };
        let Some(template) = self.discovery.as_ref().map(|d| d.fetch.clone()) else { return };
        let mut url = template;
        urls::set_window(&mut url, lo, hi);
        self.push_cut(url, lo, hi);
    }

    /// The earliest time a target becomes ready, if one is waiting (retry back-off) or ready now;
    /// `None` when everything left is in flight. Agrees with [`Plan::next_request`]: while the
    /// discovery is not done, only the discovery counts.
    pub fn next_ready_time(&self) -> Option<i64> {
        if let Some(d) = self.discovery.as_ref().filter(|d| !d.done) {
            return (!d.busy).then_some(d.not_before);
        }
        let segs = self.segments.iter().filter(|s| !s.busy).map(|s| s.not_before);
        let new_window = self.may_cut().then_some(i64::MIN);
        segs.chain(new_window).min()
    }

    /// Decides whether a completed record with ID `id` from `target` is written; updates
    /// progress when it is. Once per record: a window check, a set insert.
    pub fn admit(&mut self, target: Target, id: u64) -> Admit {
        let Some(seg) = find_mut(&mut self.segments, target) else { return Admit::Write };
        let page = &mut seg.page;
        if id < page.lo || id > page.hi {
            return Admit::OutOfWindow;
        }
        if page.attempt_last.is_some_and(|last| id < last) {
            page.sorted = false;
            self.seen_unsorted = true;
        }
        page.attempt_last = Some(id);
        page.max = Some(page.max.map_or(id, |m| m.max(id)));
        if !self.written.insert(id) {
            return if page.written_before.contains(id) { Admit::Reread } else { Admit::AlreadyWritten };
        }
        page.written_now.insert(id);
        page.fresh += 1;
        self.highest_id = Some(self.highest_id.map_or(id, |h| h.max(id)));
        Admit::Write
    }

    /// The same for a record without a usable ID, identified by a hash of its content
    /// ([`content_hash`]): written unless an earlier attempt at this page wrote it.
    pub fn admit_idless(&mut self, target: Target, content_hash: u64) -> Admit {
        let Some(seg) = self.segment_mut(target) else { return Admit::Write };
        let ledger = seg.page.idless.get_or_insert_with(Box::default);
        if ledger.admit(content_hash) {
            seg.page.fresh += 1;
            Admit::Write
        } else {
            // The ledger only refuses what an earlier attempt at this page wrote.
            Admit::Reread
        }
    }

    /// Whether a failed attempt at the target's page may be retried without writing a record
    /// twice (false only when the page held more ID-less records than can be remembered).
    pub fn may_retry(&self, target: Target) -> bool {
        self.segment(target).and_then(|s| s.page.idless.as_ref()).is_none_or(|l| !l.overflowed)
    }

    /// The current attempt at the target's page has shown its whole record list (the list closed:
    /// a WARNING or the document end followed it): evidence of the server's listing order.
    pub fn listing_complete(&mut self, target: Target) {
        let Some(sorted) = self.segment(target).map(|s| s.page.sorted) else { return };
        if sorted {
            self.seen_sorted = true;
        } else {
            self.seen_unsorted = true;
        }
    }

    /// IDs the discovery request listed (`ID` / `ID_RANGE`). Fails once more ranges than
    /// [`MAX_DISCOVERED_RANGES`] would have to be kept.
    pub fn discovered(&mut self, min: u64, max: u64) -> Result<()> {
        let Some(d) = &mut self.discovery else { return Ok(()) };
        d.ids.add(min, max).map_err(|()| {
            Error::server(
                ErrorCode::DiscoveryTooLarge,
                false,
                format!("Qualys listed more than {MAX_DISCOVERED_RANGES} separate IDs or ID ranges to fetch in parallel ID ranges; the feed does not keep more, so memory stays bounded. {}", Self::discovery_advice(self.source)),
            )
        })
    }

    fn discovery_advice(source: DataSource) -> &'static str {
        if source == DataSource::Kb {
            "Set kbChunkSize=0 (one request, as the old script did), or narrow the kbUrl filters."
        } else {
            "Set concurrency=1 (one sequential chain of pages, as the old script did), or narrow the URL's filters."
        }
    }

    /// The IDs the target's current page asked for (inclusive), for messages.
    pub fn page_window(&self, target: Target) -> Option<(u64, u64)> {
        self.segment(target).map(|s| (s.page.lo, s.page.hi))
    }

    /// Whether the target's current page came in ascending ID order so far.
    pub fn page_ascending(&self, target: Target) -> bool {
        self.segment(target).is_none_or(|s| s.page.sorted)
    }

    /// The target's request failed; it may be retried from `not_before` on.
    pub fn attempt_failed(&mut self, target: Target, not_before: i64, counts_as_retry: bool) {
        match target {
            Target::Discovery => {
                if let Some(d) = &mut self.discovery {
                    d.busy = false;
                    d.not_before = not_before;
                    d.retries = d.retries.saturating_add(u32::from(counts_as_retry));
                }
            }
            Target::Lookup(no) => {
                if let Some(s) = find_mut(&mut self.segments, Target::Segment(no)) {
                    s.busy = false;
                    s.not_before = not_before;
                    s.retries = s.retries.saturating_add(u32::from(counts_as_retry));
                }
            }
            Target::Segment(_) => {
                if let Some(s) = self.segment_mut(target) {
                    s.busy = false;
                    s.not_before = not_before;
                    s.retries = s.retries.saturating_add(u32::from(counts_as_retry));
                    // What this attempt wrote, its retry will read again.
                    let now = std::mem::take(&mut s.page.written_now);
                    if s.page.written_before.is_empty() {
                        s.page.written_before = now;
                    } else {
                        for id in now.iter() {
                            s.page.written_before.insert(id);
                        }
                    }
                }
            }
        }
    }

    /// Retries used so far by the target's current page.
    pub fn retries(&self, target: Target) -> u32 {
        match target {
            Target::Discovery => self.discovery.as_ref().map_or(0, |d| d.retries),
            Target::Segment(_) => self.segment(target).map_or(0, |s| s.retries),
            Target::Lookup(no) => self.segment(Target::Segment(no)).map_or(0, |s| s.retries),
        }
    }

    /// The target's current page completed; `next` is its WARNING 1980 URL, if it had one.
    /// Returns whether the target is now finished. An error (a next page that cannot be followed,
    /// too many pages, too large a discovery) ends the run; the page's records stay counted.
    pub fn page_complete(&mut self, target: Target, next: Option<&str>) -> Result<bool> {
        self.pages_done = self.pages_done.saturating_add(1);
        if self.pages_done >= MAX_PAGES {
            return Err(Error::server(ErrorCode::TooManyPages, false, format!("Qualys kept returning pages after {MAX_PAGES}; stopping so the feed does not run forever. Raise batchSize or narrow the URL's filters.")));
        }
        if target == Target::Discovery {
            self.finish_discovery()?;
            return Ok(true);
        }
        self.listing_complete(target);
        let origin = self.origin.clone();
        let Some(seg) = find_mut(&mut self.segments, target) else { return Ok(true) };
        seg.busy = false;
        seg.retries = 0;
        seg.not_before = i64::MIN;
        seg.pages_done = seg.pages_done.saturating_add(1);
        seg.size.completed();
        // A page narrowed to end at a host it confirms (see `adapt.rs`) completed: the host was
        // delivered after all; the segment goes on after it.
        let probe = match seg.hunt {
            Some(Hunt::Probe(host)) => Some(host),
            _ => None,
        };
        seg.hunt = None;
        if let (None, Some(host)) = (next, probe) {
            if host < seg.page.hi {
                let covered = seg.page.max.map(|m| m.min(host));
                seg.covered = seg.covered.max(covered);
                let url = continuation(&seg.page.url, host, seg.hi);
                seg.page = Page::new(url, seg.lo, seg.hi);
                return Ok(false);
            }
        }
        let Some(next) = next else {
            self.finish_segment(target);
            return Ok(true);
        };
        // The page is complete: all its in-window IDs are written, up to the next page's start.
        let next_url = Url::parse_next_page(next).map_err(|why| {
            Error::server(
                ErrorCode::BadNextPageUrl,
                false,
                format!("Qualys sent a next-page URL that does not parse ({why}); the feed cannot continue."),
            )
        });
        let next_start = next_url.as_ref().ok().and_then(advance::id_min).flatten();
        let page_covered = seg.page.max.map(|m| next_start.map_or(m, |n| m.min(n.saturating_sub(1))));
        seg.covered = match (seg.covered, page_covered) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        seg.idle = if seg.page.fresh == 0 { seg.idle.saturating_add(1) } else { 0 };
        let next_url = next_url?;
        if !next_url.same_origin(&origin) {
            return Err(Error::server(
                ErrorCode::ForeignNextPageUrl,
                false,
                format!(
                    "Qualys sent a next-page URL on {}://{}:{}, but the feed is configured for {}://{}:{}; credentials are never sent to another host, so the feed stops. Check the URL parameter and any proxy rewriting responses.",
                    next_url.scheme(), next_url.host(), next_url.port(), origin.scheme(), origin.host(), origin.port()
                ),
            ));
        }
        let (idle, lo, hi) = (seg.idle, seg.lo, seg.hi);
        advance::check(&seg.page.url, &next_url, &self.fetched, idle)?;
        seg.page = Page::new(next_url, lo, hi);
        Ok(false)
    }

    /// A failed attempt at the target's page, as far as its size goes: shrink it (a retry that does
    /// not use `maxRetry`), or not (see `adapt.rs`).
    pub fn adapt(&mut self, target: Target, kind: FailureKind) -> Adapted {
        let Some(seg) = self.segment_mut(target) else { return Adapted::Same };
        if seg.hunt.is_some() {
            return Adapted::Same;
        }
        let adapted = seg.size.failed(kind);
        if let Adapted::Shrunk { .. } = adapted {
            seg.retries = 0;
        }
        adapted
    }

    /// The page size the target's segment asks for next (`None`: not adaptive).
    pub fn page_size(&self, target: Target) -> Option<(u32, u32)> {
        self.segment(target).filter(|s| s.size.adaptive()).map(|s| (s.size.now, s.size.base))
    }

    /// Whether the target's page holds one host and is sized adaptively, so a failure there may
    /// be that host's (see [`Plan::isolate`]).
    pub fn can_isolate(&self, target: Target) -> bool {
        self.segment(target)
            .is_some_and(|s| s.size.adaptive() && s.size.now <= 1 && !matches!(s.hunt, Some(Hunt::Lookup { .. })))
    }

    /// The host the target's page is narrowed to, to confirm it stalls, if it is.
    pub fn probing(&self, target: Target) -> Option<u64> {
        match self.segment(target)?.hunt {
            Some(Hunt::Probe(host)) => Some(host),
            _ => None,
        }
    }

    /// The target's page of one host failed with `cause` and `maxRetry` is used up: find its host.
    pub fn isolate(&mut self, target: Target, cause: Error) -> Isolation {
        if let Some(host) = self.probing(target) {
            return Isolation::Stalled(host);
        }
        if !self.can_isolate(target) {
            return Isolation::Nothing;
        }
        let source = self.source;
        let Some((from, hi)) = self.segment(target).map(|s| (s.page.attempt_lo, s.page.hi)) else {
            return Isolation::Nothing;
        };
        let known = self.windows.as_ref().and_then(|w| w.first_at_or_after(from)).filter(|id| *id <= hi);
        let Some(seg) = self.segment_mut(target) else { return Isolation::Nothing };
        seg.retries = 0;
        match known {
            Some(host) if source == DataSource::Hosts => Isolation::Stalled(host),
            Some(host) => {
                seg.hunt = Some(Hunt::Probe(host));
                Isolation::Probe(host)
            }
            None => {
                let url = urls::host_lookup_url(source, &seg.page.url, from, hi);
                let text = url.to_string();
                seg.hunt = Some(Hunt::Lookup { url, cause, found: None, check: false });
                Isolation::Lookup(text)
            }
        }
    }

    /// The target's page timed out before anything answered in the run: its host-list lookup is
    /// sent once first, to tell a page too large (it answers) from nothing answering (see
    /// `adapt.rs`). Returns the lookup's URL, or `None` when the page cannot shrink anyway.
    pub fn check(&mut self, target: Target, cause: Error) -> Option<String> {
        let source = self.source;
        let seg = self.segment_mut(target).filter(|s| s.size.adaptive() && s.size.now > 1 && s.hunt.is_none())?;
        let url = urls::host_lookup_url(source, &seg.page.url, seg.page.attempt_lo, seg.page.hi);
        let text = url.to_string();
        seg.hunt = Some(Hunt::Lookup { url, cause, found: None, check: true });
        Some(text)
    }

    /// Whether the target (a lookup) is the check after a first timeout.
    pub fn is_check(&self, target: Target) -> bool {
        let Target::Lookup(no) = target else { return false };
        matches!(
            self.segment(Target::Segment(no)).and_then(|s| s.hunt.as_ref()),
            Some(Hunt::Lookup { check: true, .. })
        )
    }

    /// An ID the target's host-list lookup listed.
    pub fn looked_up(&mut self, target: Target, id: u64) {
        let Target::Lookup(no) = target else { return };
        if let Some(Some(Hunt::Lookup { found, .. })) = self.segment_mut(Target::Segment(no)).map(|s| &mut s.hunt) {
            *found = Some(found.map_or(id, |f| f.min(id)));
        }
    }

    /// The target's host-list lookup completed: the host it names (stalled for the host list, to
    /// be confirmed for the detection APIs), or the page's failure when it names none.
    pub fn lookup_done(&mut self, target: Target) -> Result<Isolation> {
        let Target::Lookup(no) = target else { return Ok(Isolation::Nothing) };
        let source = self.source;
        let Some(seg) = self.segment_mut(Target::Segment(no)) else { return Ok(Isolation::Nothing) };
        seg.busy = false;
        seg.retries = 0;
        seg.not_before = i64::MIN;
        match seg.hunt.take() {
            // The check answered: the page's timeout was its size.
            Some(Hunt::Lookup { check: true, .. }) => Ok(Isolation::Nothing),
            Some(Hunt::Lookup { found: Some(host), .. }) if source == DataSource::Hosts => Ok(Isolation::Stalled(host)),
            Some(Hunt::Lookup { found: Some(host), .. }) => {
                seg.hunt = Some(Hunt::Probe(host));
                Ok(Isolation::Probe(host))
            }
            Some(Hunt::Lookup { cause, found: None, .. }) => Err(cause),
            other => {
                seg.hunt = other;
                Ok(Isolation::Nothing)
            }
        }
    }

    /// The page failure a host-list lookup of the target is looking into, if any.
    pub fn lookup_cause(&self, target: Target) -> Option<&Error> {
        let Target::Lookup(no) = target else { return None };
        match &self.segment(Target::Segment(no))?.hunt {
            Some(Hunt::Lookup { cause, .. }) => Some(cause),
            _ => None,
        }
    }

    /// Skips `host`, which Qualys cannot deliver even alone: the target's segment goes on after
    /// it. The host is never counted as written (the resume watermark stays below it). Returns
    /// whether the segment is finished.
    pub fn skip_host(&mut self, target: Target, host: u64) -> bool {
        if let Err(at) = self.skipped.binary_search(&host) {
            self.skipped.insert(at, host);
        }
        let Some(seg) = self.segment_mut(target) else { return true };
        seg.busy = false;
        seg.retries = 0;
        seg.not_before = i64::MIN;
        seg.hunt = None;
        if host >= seg.page.hi {
            self.finish_segment(target);
            return true;
        }
        let url = continuation(&seg.page.url, host, seg.hi);
        seg.page = Page::new(url, seg.lo, seg.hi);
        false
    }

    /// The hosts skipped so far (ascending).
    pub fn skipped(&self) -> &[u64] {
        &self.skipped
    }

    /// Moves a finished segment to the finished windows (merged with its neighbours).
    fn finish_segment(&mut self, target: Target) {
        let Target::Segment(no) = target else { return };
        let Ok(i) = self.segments.binary_search_by_key(&no, |s| s.no) else { return };
        let seg = self.segments.remove(i);
        let (a, b) = (seg.lo.unwrap_or(0), seg.hi.unwrap_or(u64::MAX));
        let at = self.finished.partition_point(|&(x, _)| x < a);
        self.finished.insert(at, (a, b));
        // Merge with the window after, then with the one before, when they touch or overlap.
        if let (Some(&(_, b0)), Some(&(a1, b1))) = (self.finished.get(at), self.finished.get(at + 1)) {
            if b0.checked_add(1).is_none_or(|n| n >= a1) {
                if let Some(w) = self.finished.get_mut(at) {
                    w.1 = b0.max(b1);
                }
                self.finished.remove(at + 1);
            }
        }
        if let Some(prev) = at.checked_sub(1) {
            if let (Some(&(_, bp)), Some(&(a0, b0))) = (self.finished.get(prev), self.finished.get(at)) {
                if bp.checked_add(1).is_none_or(|n| n >= a0) {
                    if let Some(w) = self.finished.get_mut(prev) {
                        w.1 = bp.max(b0);
                    }
                    self.finished.remove(at);
                }
            }
        }
    }

    /// The discovery completed: its IDs become windows, cut one at a time from now on.
    fn finish_discovery(&mut self) -> Result<()> {
        let Some(d) = &mut self.discovery else { return Ok(()) };
        d.busy = false;
        d.done = true;
        let ids = std::mem::take(&mut d.ids).into_ranges();
        let (lo0, hi_last) = (urls::id_min(&d.fetch), urls::id_max(&d.fetch));
        let windows = Windows::new(ids, d.ids_per_window, lo0, hi_last);
        if windows.count() > u64::from(MAX_PAGES) {
            return Err(Error::server(
                ErrorCode::DiscoveryTooLarge,
                false,
                format!(
                    "Qualys listed IDs that make {} ID ranges of {} IDs, more than the {MAX_PAGES} requests one run may make; a listing that large is not plausible, so the feed stops before fetching. {}",
                    windows.count(),
                    d.ids_per_window,
                    Self::discovery_advice(self.source)
                ),
            ));
        }
        self.windows = Some(windows);
        Ok(())
    }

    /// Progress for a resume checkpoint: the highest ID such that every ID up to it is written
    /// (None when nothing contiguous is done yet), and the finished windows above it.
    pub fn progress(&self) -> (Option<u64>, Vec<(u64, u64)>) {
        if self.discovery.as_ref().is_some_and(|d| !d.done) {
            return (None, Vec::new());
        }
        enum Entry<'a> {
            Done(u64),
            Active(&'a Segment),
            Pending,
        }
        let mut order: Vec<(u64, Entry)> = self.finished.iter().map(|&(a, b)| (a, Entry::Done(b))).collect();
        order.extend(self.segments.iter().map(|s| (s.lo.unwrap_or(0), Entry::Active(s))));
        if let Some(lo) = self.windows.as_ref().and_then(Windows::next_lo) {
            order.push((lo.unwrap_or(0), Entry::Pending));
        }
        order.sort_by_key(|(lo, _)| *lo);
        let trust = self.trusts_order();
        let mut watermark: Option<u64> = None;
        let mut i = 0;
        while let Some((_, entry)) = order.get(i) {
            i += 1;
            match entry {
                Entry::Done(u64::MAX) if self.skipped.is_empty() => return (None, Vec::new()), // everything done
                Entry::Done(hi) => watermark = Some(watermark.map_or(*hi, |w| w.max(*hi))),
                Entry::Active(s) => {
                    if let Some(l) = s.progress(trust) {
                        watermark = Some(watermark.map_or(l, |w| w.max(l)));
                    }
                    break;
                }
                Entry::Pending => break,
            }
        }
        // A skipped host was never written: nothing at or above it counts as done up to it, and no
        // finished window holding it is claimed (a resumed run fetches them again).
        let skipped = &self.skipped;
        let holds_skipped = |lo: u64, hi: u64| {
            let at = skipped.partition_point(|s| *s < lo);
            skipped.get(at).is_some_and(|s| *s <= hi)
        };
        if let Some(&first) = skipped.first() {
            watermark =
                watermark.filter(|w| *w < first).or_else(|| first.checked_sub(1).filter(|_| watermark.is_some()));
        }
        let done_above = order
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .filter_map(|(lo, e)| match e {
                Entry::Done(hi) if *hi != u64::MAX && !holds_skipped(*lo, *hi) => Some((*lo, *hi)),
                _ => None,
            })
            .collect();
        (watermark, done_above)
    }
}

/// The page after `host`: `url` with `id_min=host+1` and the segment's own upper end (`hi`).
fn continuation(url: &Url, host: u64, hi: Option<u64>) -> Url {
    let mut next = url.clone();
    next.set_query("id_min", &host.saturating_add(1).to_string());
    match hi {
        Some(h) => next.set_query("id_max", &h.to_string()),
        None => {
            next.remove_query("id_max");
        }
    }
    next
}

/// The unfinished segment a target names (segments are ordered by number).
fn find_mut(segments: &mut [Segment], target: Target) -> Option<&mut Segment> {
    let Target::Segment(no) = target else { return None };
    let i = segments.binary_search_by_key(&no, |s| s.no).ok()?;
    segments.get_mut(i)
}

#[cfg(test)]
mod tests;

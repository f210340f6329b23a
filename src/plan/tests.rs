//! Tests of `plan`.

use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).expect("test url")
}

fn take(p: &mut Plan) -> Assignment {
    p.next_request(0).expect("a request is ready")
}

#[test]
fn adds_truncation_limit_for_paged_sources_only() {
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/api/5.0/fo/asset/host/?action=list"), 250);
    assert_eq!(take(&mut p).url, "https://q.example/api/5.0/fo/asset/host/?action=list&truncation_limit=250");
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
        assert_eq!(err.code(), ErrorCode::ForeignNextPageUrl);
    }
    let mut p = Plan::new(DataSource::Hosts, url("https://Q.EXAMPLE:443/h/?action=list"), 2);
    let a = take(&mut p);
    p.page_complete(a.target, Some("https://q.example/h/?action=list&id_min=3")).expect("same origin, default port");
}

#[test]
fn retry_skips_written_ids_and_restarts_after_them() {
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
    let a = take(&mut p);
    assert_eq!(p.admit(a.target, 10), Admit::Write);
    assert_eq!(p.admit(a.target, 11), Admit::Write);
    // The attempt showed its whole record list (e.g. a WARNING without a URL followed it), in
    // order: the server's listing order is known, so the retry may start after 11.
    p.listing_complete(a.target);
    p.attempt_failed(a.target, 500, true);
    assert!(p.next_request(499).is_none(), "back-off");
    assert_eq!(p.next_ready_time(), Some(500));
    let a = p.next_request(500).expect("retry");
    assert_eq!((a.url.as_str(), a.attempt), ("https://q.example/h/?action=list&truncation_limit=3&id_min=12", 1));
    assert_eq!(p.admit(a.target, 11), Admit::Reread);
    assert_eq!(p.admit(a.target, 12), Admit::Write);
    assert_eq!(p.highest_id(), Some(12));
    p.page_complete(a.target, None).expect("done");
    assert_eq!(p.retries(a.target), 0);
}

#[test]
fn kb_retry_keeps_the_url_and_filters_by_id() {
    let mut p = Plan::new(DataSource::Kb, url("https://q.example/kb/?action=list"), 3);
    let a = take(&mut p);
    p.admit(a.target, 5);
    p.attempt_failed(a.target, 0, true);
    let a = take(&mut p);
    assert_eq!(a.url, "https://q.example/kb/?action=list");
    assert_eq!(p.admit(a.target, 5), Admit::Reread);
}

#[test]
fn descending_ids_disable_the_restart_shortcut_but_not_dedupe() {
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
    let a = take(&mut p);
    p.admit(a.target, 20);
    p.admit(a.target, 15);
    assert!(!p.page_ascending(a.target));
    p.attempt_failed(a.target, 0, true);
    let a = take(&mut p);
    assert_eq!(a.url, "https://q.example/h/?action=list&truncation_limit=3");
    assert_eq!(p.admit(a.target, 20), Admit::Reread);
    assert_eq!(p.admit(a.target, 16), Admit::Write);
}

#[test]
fn same_url_twice_is_a_loop() {
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
    let a = take(&mut p);
    let err = p.page_complete(a.target, Some("https://q.example/h/?action=list&truncation_limit=3")).expect_err("loop");
    assert_eq!(err.code(), ErrorCode::NextPageLoop);
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
    p.discovered(10, 13).expect("few IDs");
    p.discovered(5, 5).expect("few IDs");
    p.discovered(20, 21).expect("few IDs");
    p.discovered(12, 13).expect("few IDs");
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
        p.discovered(id, id).expect("few IDs");
    }
    p.page_complete(d.target, None).expect("ok");
    // windows: [..=2], [3..=4], [5..=6], [7..]
    let w: Vec<Assignment> = (0..4).map(|_| take(&mut p)).collect();
    p.admit(w[0].target, 1);
    p.admit(w[0].target, 2);
    p.page_complete(w[0].target, None).expect("ok");
    p.admit(w[1].target, 3);
    p.admit(w[2].target, 5);
    p.admit(w[2].target, 6);
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

#[test]
fn a_retry_starts_from_the_page_start_until_the_server_showed_its_order() {
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
    let a = take(&mut p);
    p.admit(a.target, 143_111_841);
    p.attempt_failed(a.target, 0, true);
    // Cut after one (high) ID of the first page: a lower ID may still follow (real pages are
    // not always sorted), so the retry asks for the whole page again.
    let a = take(&mut p);
    assert_eq!(a.url, "https://q.example/h/?action=list&truncation_limit=3");
    assert_eq!(p.admit(a.target, 143_111_841), Admit::Reread);
    assert_eq!(p.admit(a.target, 143_111_900), Admit::Write);
    assert!(!p
        .page_complete(a.target, Some("https://q.example/h/?action=list&truncation_limit=3&id_min=143111901"))
        .expect("next"));
    // A whole page came in order: from now on a retry starts after the last ID written.
    let a = take(&mut p);
    p.admit(a.target, 143_111_950);
    p.attempt_failed(a.target, 0, true);
    assert_eq!(take(&mut p).url, "https://q.example/h/?action=list&truncation_limit=3&id_min=143111951");
    // Once a page is seen out of order, never again.
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list"), 3);
    let a = take(&mut p);
    p.admit(a.target, 20);
    p.admit(a.target, 10);
    assert!(!p.page_complete(a.target, Some("https://q.example/h/?action=list&id_min=21")).expect("next"));
    let a = take(&mut p);
    p.admit(a.target, 30);
    p.attempt_failed(a.target, 0, true);
    assert_eq!(take(&mut p).url, "https://q.example/h/?action=list&id_min=21");
}

#[test]
fn a_restart_never_goes_past_the_window() {
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&id_min=1&id_max=10"), 5);
    let a = take(&mut p);
    p.admit(a.target, 9);
    p.admit(a.target, 10);
    p.listing_complete(a.target);
    p.attempt_failed(a.target, 0, true);
    // id_min=11 with id_max=10 is a Qualys error (1905): ask from 10, which is then skipped.
    assert_eq!(take(&mut p).url, "https://q.example/h/?action=list&id_min=10&id_max=10&truncation_limit=5");
}

#[test]
fn each_id_is_written_once_per_run_and_only_from_its_window() {
    let mut p = Plan::new(DataSource::Detections, url("https://q.example/d/?action=list&id_max=100"), 3);
    let a = take(&mut p);
    for id in [1, 2, 3] {
        assert_eq!(p.admit(a.target, id), Admit::Write);
    }
    assert_eq!(p.admit(a.target, 101), Admit::OutOfWindow, "above the URL's id_max");
    p.page_complete(a.target, Some("https://q.example/d/?action=list&id_max=100&id_min=4")).expect("next");
    let a = take(&mut p);
    assert_eq!(p.admit(a.target, 2), Admit::OutOfWindow, "below the page's id_min");
    assert_eq!(p.admit(a.target, 4), Admit::Write);
    assert_eq!(p.admit(a.target, 4), Admit::AlreadyWritten);
    assert_eq!(p.page_window(a.target), Some((4, 100)));
    assert_eq!(p.highest_id(), Some(4));
}

#[test]
fn pages_that_write_nothing_new_end_the_chain() {
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list"), 3);
    let a = take(&mut p);
    p.admit(a.target, 1);
    let mut next = 10;
    p.page_complete(a.target, Some(&format!("https://q.example/h/?action=list&id_min={next}"))).expect("page 1");
    for k in 1..=MAX_IDLE_PAGES {
        let a = take(&mut p);
        next += 10;
        p.page_complete(a.target, Some(&format!("https://q.example/h/?action=list&id_min={next}")))
            .unwrap_or_else(|e| panic!("idle page {k}: {e}"));
    }
    let a = take(&mut p);
    let e = p.page_complete(a.target, Some("https://q.example/h/?action=list&id_min=999")).expect_err("idle");
    assert_eq!(e.code(), ErrorCode::NextPageLoop);
    assert_eq!(p.progress().0, Some(1), "the checkpoint keeps what was written");
}

#[test]
fn a_discovery_making_more_windows_than_a_run_may_fetch_is_refused() {
    let mut p = Plan::with_discovery(
        DataSource::Kb,
        url("https://q.example/kb/?action=list"),
        1,
        url("https://q.example/kb/?action=list&details=None"),
        10,
    );
    let d = take(&mut p);
    p.discovered(1, 1_000_000_000).expect("one range");
    let e = p.page_complete(d.target, None).expect_err("10^8 windows");
    assert_eq!(e.code(), ErrorCode::DiscoveryTooLarge);
    assert!(e.message().contains("kbChunkSize=0"), "{e}");
}

/// The STALLED bug of issue #11: what `next_ready_time` reports as ready must be what
/// `next_request` hands out, in every state (discovery pending with a catch-up segment,
/// back-offs, windows left to cut, exclusions).
#[test]
fn next_ready_time_agrees_with_next_request_in_every_state() {
    use crate::test_rng::TestRng;
    for seed in 1..=60u64 {
        let mut rng = TestRng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut p = Plan::with_discovery(
            DataSource::Detections,
            url("https://q.example/d/?action=list"),
            5,
            url("https://q.example/h/?action=list&details=None"),
            1 + (seed % 4) as u32,
        )
        .with_concurrency(1 + (seed / 4 % 3) as u32);
        if seed % 2 == 0 {
            // a resumed run: a catch-up segment waits behind the discovery
            p.start_after(40);
            p.prepend_segment(url("https://q.example/d/?action=list&id_max=40"), 5, None, Some(40));
        }
        if seed % 3 == 0 {
            p.exclude(&[(50, 55), (70, 200)]);
        }
        let mut now = 0i64;
        let mut in_flight: Vec<Target> = Vec::new();
        let mut discovered = false;
        for step in 0..400 {
            let ready = p.next_ready_time();
            let got = if in_flight.len() < 3 { p.next_request(now) } else { None };
            if in_flight.len() < 3 {
                assert_eq!(
                    ready.is_some_and(|t| t <= now),
                    got.is_some(),
                    "seed {seed} step {step}: {ready:?} {got:?}"
                );
            }
            if let Some(a) = got {
                in_flight.push(a.target);
                continue;
            }
            if in_flight.is_empty() {
                if p.is_done() {
                    break;
                }
                let t = ready
                    .unwrap_or_else(|| panic!("seed {seed} step {step}: nothing in flight, nothing ready, not done"));
                now = now.max(t);
                continue;
            }
            let target = in_flight.swap_remove(rng.below(in_flight.len()));
            match rng.below(4) {
                0 => p.attempt_failed(target, now + 1 + rng.below(1000) as i64, rng.below(2) == 0),
                _ if target == Target::Discovery => {
                    if !discovered {
                        for id in (40..300).step_by(3) {
                            p.discovered(id, id).expect("few");
                        }
                        discovered = true;
                    }
                    p.page_complete(target, None).expect("discovery");
                }
                _ => {
                    let id = 41 + rng.next() % 300;
                    p.admit(target, id);
                    let next = (rng.below(3) == 0)
                        .then(|| format!("https://q.example/d/?action=list&id_min={}&n={step}", 1_000 + step));
                    let _ = p.page_complete(target, next.as_deref());
                }
            }
            now += 1;
        }
        // what is kept stays bounded by the windows in progress
        assert!(p.segments.len() <= p.max_active.max(4) + 4, "seed {seed}: {} segments", p.segments.len());
    }
}

#[test]
fn finished_windows_are_merged_so_what_is_kept_stays_small() {
    let mut p = Plan::with_discovery(
        DataSource::Hosts,
        url("https://q.example/h/?action=list"),
        10,
        url("https://q.example/h/?details=None"),
        10,
    )
    .with_concurrency(3);
    let d = take(&mut p);
    p.discovered(1, 100_000).expect("one range");
    p.page_complete(d.target, None).expect("10,000 windows");
    assert_eq!(p.segment_count(), 10_000);
    let first = take(&mut p);
    assert_eq!(p.segment_count(), 10_000, "one made, 9,999 to cut");
    let mut rng = crate::test_rng::TestRng::new(5);
    let mut in_flight: Vec<Target> = vec![first.target];
    let mut kept = 0;
    while !p.is_done() {
        while in_flight.len() < 3 {
            match p.next_request(0) {
                Some(a) => in_flight.push(a.target),
                None => break,
            }
        }
        let t = in_flight.swap_remove(rng.below(in_flight.len()));
        p.page_complete(t, None).expect("window done");
        kept = kept.max(p.segments.len() + p.finished.len());
        let (w, above) = p.progress();
        assert!(above.len() <= 6, "{above:?}");
        if let (Some(w), Some(&(a, _))) = (w, above.first()) {
            assert!(a > w + 1, "a finished window right above the watermark would be part of it");
        }
    }
    assert!(kept <= 12, "at most {kept} windows kept at once");
    assert_eq!(p.finished.len(), 1, "all merged: {:?}", p.finished);
    assert_eq!(p.progress(), (None, vec![]));
}

#[test]
fn a_retry_rereading_its_own_records_is_told_from_a_server_duplicate() {
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list&truncation_limit=3"), 3);
    let a = take(&mut p);
    assert_eq!(p.admit(a.target, 10), Admit::Write);
    assert_eq!(p.admit(a.target, 10), Admit::AlreadyWritten, "the same attempt sent it twice: the server's doing");
    p.attempt_failed(a.target, 0, true);
    let a = take(&mut p);
    assert_eq!(p.admit(a.target, 10), Admit::Reread, "the retry reads again what the failed attempt wrote");
    assert_eq!(p.admit(a.target, 11), Admit::Write);
    p.attempt_failed(a.target, 0, true);
    let a = take(&mut p);
    assert_eq!(p.admit(a.target, 11), Admit::Reread, "every earlier attempt counts");
    assert_eq!(p.admit(a.target, 12), Admit::Write);
    p.page_complete(a.target, Some("https://q.example/h/?action=list&truncation_limit=3&id_min=13")).expect("next");
    let a = take(&mut p);
    assert_eq!(p.admit(a.target, 13), Admit::Write);
    assert_eq!(p.admit(a.target, 12), Admit::OutOfWindow, "below the page's id_min");
}

#[test]
fn a_skipped_host_is_never_counted_as_written() {
    // One chain: 10, 11 | 12, (13 skipped) | 14, 15.
    let mut p = Plan::new(DataSource::Hosts, url("https://q.example/h/?action=list"), 2);
    let a = take(&mut p);
    p.admit(a.target, 10);
    p.admit(a.target, 11);
    assert!(!p
        .page_complete(a.target, Some("https://q.example/h/?action=list&truncation_limit=2&id_min=12"))
        .expect("next"));
    let a = take(&mut p);
    p.admit(a.target, 12);
    assert_eq!(p.adapt(a.target, FailureKind::Timeout), Adapted::Shrunk { from: 2, to: 1 });
    p.attempt_failed(a.target, 0, false);
    let a = take(&mut p);
    assert_eq!(
        a.url, "https://q.example/h/?action=list&truncation_limit=1&id_min=13",
        "one host, after the last written"
    );
    assert!(p.can_isolate(a.target));
    p.attempt_failed(a.target, 0, true);
    let e = Error::network(ErrorCode::Network, "timed out");
    match p.isolate(a.target, e.clone()) {
        Isolation::Lookup(u) => {
            assert_eq!(u, "https://q.example/h/?action=list&truncation_limit=1&id_min=13&details=None")
        }
        other => panic!("{other:?}"),
    }
    let l = take(&mut p);
    assert_eq!(l.target, Target::Lookup(0));
    p.looked_up(l.target, 13);
    assert_eq!(p.lookup_done(l.target).expect("found"), Isolation::Stalled(13));
    assert_eq!(p.progress(), (Some(12), vec![]));
    assert!(!p.skip_host(Target::Segment(0), 13));
    let a = take(&mut p);
    assert_eq!(a.url, "https://q.example/h/?action=list&truncation_limit=1&id_min=14", "on after it, still small");
    p.admit(a.target, 14);
    assert!(!p
        .page_complete(a.target, Some("https://q.example/h/?action=list&truncation_limit=1&id_min=15"))
        .expect("next"));
    let a = take(&mut p);
    assert_eq!(a.url, "https://q.example/h/?action=list&truncation_limit=2&id_min=15", "grows back");
    p.admit(a.target, 15);
    assert!(p.page_complete(a.target, None).expect("done"));
    assert!(p.is_done());
    // Everything after 13 is done, but the watermark stays below it.
    assert_eq!(p.progress(), (Some(12), vec![]));
    assert_eq!(p.skipped(), [13]);
}

#[test]
fn a_finished_window_holding_a_skipped_host_is_not_claimed() {
    let mut p = Plan::with_discovery(
        DataSource::Hosts,
        url("https://q.example/h/?action=list"),
        5,
        url("https://q.example/h/?action=list&details=None"),
        5,
    )
    .with_concurrency(1);
    let d = take(&mut p);
    p.discovered(1, 20).expect("few");
    p.page_complete(d.target, None).expect("windows");
    let mut windows = vec![];
    for _ in 0..4 {
        let a = take(&mut p);
        windows.push(a.target);
        let lo = crate::qualys::urls::id_min(&url(&a.url)).unwrap_or(1);
        for id in lo..lo + 5 {
            if id != 7 {
                p.admit(a.target, id);
            }
        }
        if lo == 6 {
            // The second window's host 7 was skipped (found from the discovery's IDs).
            p.skip_host(a.target, 7);
            let b = take(&mut p);
            assert!(b.url.contains("id_min=8"), "{}", b.url);
            assert!(p.page_complete(b.target, None).expect("done"));
        } else {
            assert!(p.page_complete(a.target, None).expect("done"));
        }
        if lo == 11 {
            // Windows 1 to 3 finished (merged into one), 2 with a skipped host: nothing at or
            // above it is claimed (a resumed run fetches from 7 again).
            assert_eq!(p.progress(), (Some(6), vec![]));
        }
    }
    assert!(p.is_done());
    assert_eq!(p.progress(), (Some(6), vec![]));
    // With a discovery, a page of one host finds its host among the listed IDs.
    let mut p = Plan::with_discovery(
        DataSource::Detections,
        url("https://q.example/api/5.0/fo/asset/host/vm/detection/?action=list"),
        2,
        url("https://q.example/api/5.0/fo/asset/host/?action=list&details=None"),
        2,
    );
    let d = take(&mut p);
    p.discovered(30, 31).expect("few");
    p.discovered(40, 41).expect("few");
    p.page_complete(d.target, None).expect("windows");
    let a = take(&mut p);
    p.adapt(a.target, FailureKind::Timeout);
    p.attempt_failed(a.target, 0, false);
    let a = take(&mut p);
    p.attempt_failed(a.target, 0, true);
    assert_eq!(p.isolate(a.target, Error::network(ErrorCode::Network, "x")), Isolation::Probe(30));
    let a = take(&mut p);
    assert!(a.url.contains("truncation_limit=1") && a.url.contains("id_max=30"), "{}", a.url);
    assert_eq!(p.probing(a.target), Some(30));
}

//! The IDs a discovery listed, kept bounded, and the ID windows cut from them one at a time.
//!
//! In scope: [`Discovered`], the merged ranges of a `details=None` answer (`ID` / `ID_RANGE`, in
//! any order, overlapping or repeated), capped at [`MAX_RANGES`] ranges so memory does not depend
//! on what the server claims; [`Windows`], which cuts contiguous windows of N IDs from them only
//! when a window is needed (a claimed range of 2^64 IDs costs 16 bytes, not a list of windows).
//! The first window starts where the fetch URL starts (its `id_min`, or open), each window ends
//! just before the next one's first ID, the last one ends where the URL ends (its `id_max`, or
//! open): together they cover the whole ID space, so an ID created between discovery and fetch is
//! still fetched. All arithmetic is checked at `u64::MAX`.
//!
//! Out of scope: URLs and requests (`crate::plan`), the caps' error messages.

/// Most merged ranges a discovery may list (32 MiB of ranges). Sparse host IDs are one range
/// each: about two million hosts.
pub const MAX_RANGES: usize = 1 << 21;

/// Merged, sorted ranges of discovered IDs (inclusive).
#[derive(Debug, Default)]
pub struct Discovered {
    ranges: Vec<(u64, u64)>,
    /// `ranges[..sorted]` is sorted and merged; the rest came out of order.
    sorted: usize,
}

impl Discovered {
    /// Adds the IDs `a..=b` (either order). `Err(())` once more than [`MAX_RANGES`] distinct
    /// ranges would have to be kept.
    pub fn add(&mut self, a: u64, b: u64) -> Result<(), ()> {
        let (a, b) = (a.min(b), a.max(b));
        if self.sorted == self.ranges.len() {
            if let Some(last) = self.ranges.last_mut() {
                // Ascending input (the usual case): extend or append, nothing to sort later.
                if a >= last.0 && a <= last.1.saturating_add(1) {
                    last.1 = last.1.max(b);
                    return Ok(());
                }
            }
        }
        if self.ranges.len() >= MAX_RANGES {
            self.compact();
            if self.ranges.len() >= MAX_RANGES {
                return Err(());
            }
        }
        let ascending = self.sorted == self.ranges.len() && self.ranges.last().is_none_or(|l| a > l.1);
        self.ranges.push((a, b));
        if ascending {
            self.sorted += 1;
        } else if self.ranges.len() >= self.sorted.saturating_mul(2).max(4096) {
            self.compact();
        }
        Ok(())
    }

    /// Sorts and merges everything (overlapping and adjacent ranges become one).
    fn compact(&mut self) {
        self.ranges.sort_unstable();
        let mut merged: usize = 0;
        for i in 0..self.ranges.len() {
            let Some(&(a, b)) = self.ranges.get(i) else { break };
            match merged.checked_sub(1).and_then(|m| self.ranges.get_mut(m)) {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => {
                    if let Some(slot) = self.ranges.get_mut(merged) {
                        *slot = (a, b);
                    }
                    merged += 1;
                }
            }
        }
        self.ranges.truncate(merged);
        self.sorted = merged;
    }

    /// The merged ranges, ascending.
    pub fn into_ranges(mut self) -> Vec<(u64, u64)> {
        self.compact();
        self.ranges.shrink_to_fit();
        self.ranges
    }
}

/// Windows of `per` discovered IDs each, handed out in ascending order.
#[derive(Debug)]
pub struct Windows {
    ranges: Vec<(u64, u64)>,
    per: u64,
    lo0: Option<u64>,
    hi_last: Option<u64>,
    /// The next ID not yet in a window: `ranges[idx]` from `pos` on.
    idx: usize,
    pos: u64,
    first: bool,
    exhausted: bool,
    ids: u128,
    /// Windows handed out so far.
    cut: u64,
}

impl Windows {
    /// Windows over `ranges` (merged, ascending) clipped to the fetch URL's `[lo0, hi_last]`.
    pub fn new(ranges: Vec<(u64, u64)>, per: u64, lo0: Option<u64>, hi_last: Option<u64>) -> Windows {
        let (lo, hi) = (lo0.unwrap_or(0), hi_last.unwrap_or(u64::MAX));
        let ranges: Vec<(u64, u64)> =
            ranges.into_iter().filter(|&(a, b)| b >= lo && a <= hi).map(|(a, b)| (a.max(lo), b.min(hi))).collect();
        let ids = ranges.iter().map(|&(a, b)| u128::from(b - a) + 1).sum();
        let pos = ranges.first().map_or(0, |r| r.0);
        Windows { ranges, per: per.max(1), lo0, hi_last, idx: 0, pos, first: true, exhausted: false, ids, cut: 0 }
    }

    /// How many windows there are in all (at least one: an empty discovery still fetches once).
    pub fn count(&self) -> u64 {
        u64::try_from(self.ids.div_ceil(u128::from(self.per))).unwrap_or(u64::MAX).max(1)
    }

    /// How many windows are still to be handed out.
    pub fn remaining(&self) -> u64 {
        if self.exhausted {
            0
        } else {
            self.count().saturating_sub(self.cut).max(1)
        }
    }

    /// The first discovered ID at or after `id`, if any (a binary search over the ranges).
    pub fn first_at_or_after(&self, id: u64) -> Option<u64> {
        let at = self.ranges.partition_point(|&(_, b)| b < id);
        self.ranges.get(at).map(|&(a, _)| a.max(id))
    }

    /// Whether every window was handed out.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted
    }

    /// The lower end of the next window (`None` = open below), if any is left.
    pub fn next_lo(&self) -> Option<Option<u64>> {
        if self.exhausted {
            None
        } else if self.first {
            Some(self.lo0)
        } else {
            Some(Some(self.pos))
        }
    }

    /// The next window `(lo, hi)`; `None` on either side = open.
    pub fn next_window(&mut self) -> Option<(Option<u64>, Option<u64>)> {
        let lo = self.next_lo()?;
        self.first = false;
        self.cut = self.cut.saturating_add(1);
        let mut left = self.per;
        loop {
            let Some(&(_, b)) = self.ranges.get(self.idx) else {
                self.exhausted = true;
                return Some((lo, self.hi_last));
            };
            // IDs left in this range: (b - pos) + 1, which may be 2^64: compare without the +1.
            let rest = b.saturating_sub(self.pos);
            if rest >= left {
                // The next window starts inside this range (pos + left <= b).
                self.pos = self.pos.saturating_add(left);
                return Some((lo, Some(self.pos.saturating_sub(1))));
            }
            left -= rest + 1;
            self.idx += 1;
            match self.ranges.get(self.idx) {
                None => {
                    self.exhausted = true;
                    return Some((lo, self.hi_last));
                }
                Some(&(a, _)) => {
                    self.pos = a;
                    if left == 0 {
                        return Some((lo, Some(a.saturating_sub(1))));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::TestRng;

    fn all(mut w: Windows) -> Vec<(Option<u64>, Option<u64>)> {
        std::iter::from_fn(|| w.next_window()).take(10_000).collect()
    }

    #[test]
    fn the_first_discovered_id_from_anywhere() {
        let w = Windows::new(vec![(5, 5), (10, 13), (20, 21)], 3, None, None);
        let got: Vec<Option<u64>> =
            [0, 5, 6, 11, 13, 14, 21, 22, u64::MAX].iter().map(|&x| w.first_at_or_after(x)).collect();
        assert_eq!(got, [Some(5), Some(5), Some(10), Some(11), Some(13), Some(20), Some(21), None, None]);
    }

    #[test]
    fn windows_start_at_every_nth_id_and_cover_everything() {
        // IDs 5, 10-13, 20, 21 in windows of 3: starts at 5, 12, 21
        let mut w = Windows::new(vec![(5, 5), (10, 13), (20, 21)], 3, None, None);
        assert_eq!((w.count(), w.remaining()), (3, 3));
        assert_eq!(w.next_window(), Some((None, Some(11))));
        assert_eq!((w.count(), w.remaining()), (3, 2));
        assert_eq!(all(w), [(Some(12), Some(20)), (Some(21), None)]);
        // clipped to the URL's own window, which the first and last windows keep
        let w = Windows::new(vec![(1, 3), (10, 13), (20, 21)], 2, Some(11), Some(20));
        assert_eq!(all(w), [(Some(11), Some(12)), (Some(13), Some(20))]);
        // nothing discovered: one window over the URL's range
        assert_eq!(all(Windows::new(vec![], 5, Some(7), None)), [(Some(7), None)]);
        // a window ending exactly at a range's end
        assert_eq!(all(Windows::new(vec![(5, 5), (9, 9)], 1, None, None)), [(None, Some(8)), (Some(9), None)]);
    }

    #[test]
    fn the_whole_u64_range_is_one_range_and_cut_lazily() {
        let mut d = Discovered::default();
        d.add(u64::MAX, 0).expect("one range");
        d.add(5, 9).expect("inside");
        let ranges = d.into_ranges();
        assert_eq!(ranges, [(0, u64::MAX)]);
        let mut w = Windows::new(ranges, 1000, None, None);
        assert_eq!(w.count(), u64::MAX / 1000 + 1);
        assert_eq!(w.next_window(), Some((None, Some(999))));
        assert_eq!(w.next_window(), Some((Some(1000), Some(1999))));
        // windows of the largest size at the top end
        let mut w = Windows::new(vec![(u64::MAX - 10, u64::MAX)], u64::MAX, None, None);
        assert_eq!(w.next_window(), Some((None, None)));
        assert_eq!(w.next_window(), None);
        let mut w = Windows::new(vec![(0, u64::MAX)], u64::MAX, None, None);
        assert_eq!(w.next_window(), Some((None, Some(u64::MAX - 1))));
        assert_eq!(w.next_window(), Some((Some(u64::MAX), None)));
        assert_eq!(w.next_window(), None);
    }

    #[test]
    fn ranges_in_any_order_merge_like_a_sorted_union() {
        let mut rng = TestRng::new(3);
        for _ in 0..50 {
            let mut d = Discovered::default();
            let mut ids = std::collections::BTreeSet::new();
            for _ in 0..300 {
                let a = rng.next() % 2000;
                let b = a + rng.next() % 5;
                d.add(b, a).expect("few ranges");
                ids.extend(a..=b);
            }
            let ranges = d.into_ranges();
            assert!(ranges.windows(2).all(|w| w[0].1.saturating_add(1) < w[1].0), "merged: {ranges:?}");
            let back: Vec<u64> = ranges.iter().flat_map(|&(a, b)| a..=b).collect();
            assert!(back.iter().copied().eq(ids.iter().copied()));
            // windows of 7 IDs: each holds 7 discovered IDs (the last fewer)
            let mut w = Windows::new(ranges, 7, None, None);
            let wins: Vec<_> = std::iter::from_fn(|| w.next_window()).collect();
            for (k, (lo, hi)) in wins.iter().enumerate() {
                let n = ids.iter().filter(|i| lo.is_none_or(|l| **i >= l) && hi.is_none_or(|h| **i <= h)).count();
                assert!(n == 7 || (k + 1 == wins.len() && n <= 7), "window {k}: {n}");
            }
        }
    }

    #[test]
    fn too_many_ranges_is_an_error_not_a_memory_blow_up() {
        let mut d = Discovered::default();
        let mut failed_at = None;
        // descending sparse IDs: nothing merges, everything goes through compaction
        for i in 0..(MAX_RANGES as u64 + 10) {
            if d.add(u64::MAX - 2 * i, u64::MAX - 2 * i).is_err() {
                failed_at = Some(i);
                break;
            }
        }
        assert_eq!(failed_at, Some(MAX_RANGES as u64));
        assert!(d.ranges.capacity() <= MAX_RANGES);
    }
}

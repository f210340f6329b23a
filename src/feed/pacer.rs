//! Request pacing: `requestsPerMin` as a sliding 60-second window, plus the waits Qualys asks for.
//!
//! In scope: when the next request may start, given the start times of earlier ones and the
//! `X-RateLimit-*` headers. Out of scope: the clock (time is passed in, in milliseconds since the
//! Unix epoch) and sleeping (the caller waits when told to). Time arithmetic saturates: no time
//! the caller or the server gives can overflow it.

use std::collections::VecDeque;

pub const WINDOW_MS: i64 = 60_000;
/// Added to the window: the core sees when it hands a request out, Qualys when it arrives (a new
/// connection takes a few ms), and `requestsPerMin` must hold as Qualys counts.
pub const MARGIN_MS: i64 = 1_000;

#[derive(Debug)]
pub struct Pacer {
    per_window: usize,
    /// Start times of the most recent `per_window` requests, oldest first.
    starts: VecDeque<i64>,
    /// Qualys said (X-RateLimit-Remaining: 0 + X-RateLimit-ToWait-Sec) not to start before this.
    not_before: i64,
}

impl Pacer {
    pub fn new(requests_per_min: u32) -> Self {
        let per_window = requests_per_min.max(1) as usize;
        Pacer { per_window, starts: VecDeque::with_capacity(per_window.min(4096)), not_before: i64::MIN }
    }

    /// Milliseconds to wait before the next request may start (0 = now), why, and whether Qualys
    /// asked for it (true: counts against `waitBudgetSec`) or `requestsPerMin` did (false).
    pub fn delay(&self, now: i64) -> (u64, &'static str, bool) {
        let window = match self.starts.front() {
            Some(oldest) if self.starts.len() >= self.per_window => {
                oldest.saturating_add(WINDOW_MS + MARGIN_MS).saturating_sub(now).max(0)
            }
            _ => 0,
        };
        let server = (self.not_before.saturating_sub(now)).max(0);
        let ms = |t: i64| u64::try_from(t).unwrap_or(0);
        if server >= window && server > 0 {
            (ms(server), "Qualys rate limit (X-RateLimit-Remaining is 0)", true)
        } else {
            (ms(window), "requestsPerMin", false)
        }
    }

    /// Records that a request started now.
    pub fn started(&mut self, now: i64) {
        self.starts.push_back(now);
        while self.starts.len() > self.per_window {
            self.starts.pop_front();
        }
    }

    /// Qualys asked the client not to start another request before `until`.
    pub fn hold_until(&mut self, until: i64) {
        self.not_before = self.not_before.max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_n_starts_in_any_window() {
        let mut p = Pacer::new(3);
        let mut now = 1_000_000;
        let mut starts = Vec::new();
        for _ in 0..10 {
            let (wait, _, _) = p.delay(now);
            now += wait as i64;
            p.started(now);
            starts.push(now);
            now += 5; // the request itself takes 5 ms
        }
        for (i, s) in starts.iter().enumerate() {
            // Even if each request reached the server up to MARGIN_MS later than it started here.
            let in_window = starts.iter().filter(|t| **t > s - WINDOW_MS - MARGIN_MS && *t <= s).count();
            assert!(in_window <= 3, "start {i} at {s} sees {in_window} starts in its window");
        }
        // 10 requests at 3/min: the 10th starts 3 full windows (plus the margin) after the first
        assert_eq!(starts[9] - starts[0], 3 * (WINDOW_MS + MARGIN_MS));
    }

    #[test]
    fn server_hold_wins_when_longer() {
        let mut p = Pacer::new(100);
        p.started(0);
        p.hold_until(30_000);
        assert_eq!(p.delay(10_000), (20_000, "Qualys rate limit (X-RateLimit-Remaining is 0)", true));
        assert_eq!(p.delay(30_000).0, 0);
    }

    #[test]
    fn extreme_times_never_overflow() {
        let mut p = Pacer::new(1);
        p.started(i64::MAX);
        assert_eq!(p.delay(i64::MIN).0, u64::try_from(i64::MAX).unwrap_or(0));
        assert_eq!(p.delay(i64::MAX).0, 0);
        p.hold_until(i64::MAX);
        assert!(p.delay(i64::MIN).2, "the server's hold, saturated");
        let mut p = Pacer::new(1);
        p.started(i64::MIN);
        assert_eq!(p.delay(i64::MAX).0, 0);
    }
}

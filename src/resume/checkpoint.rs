//! The resume checkpoint carried in Archer's `PreviousRunContext` token (at most 256 characters),
//! and the rules that decide whether a token may be applied at all.
//!
//! In scope: its text format, writing it within [`MAX_LEN`], and checking a token before it is
//! trusted ([`Checkpoint::accept`]). Format (`;`-separated `key=value` after a version tag, in this
//! order):
//! `qvt2;ds=<dataSource>;c=<checksum>;u=<URL hash>;k=<token hash>;lrt=<LastRunTime used or ->;t=<start>[;w=<watermark>][;d=a-b,c-d]`
//! - `c`: FNV-1a (32 bits, 8 hex digits) of the token without its `;c=...` field: a hand-edited or
//!   damaged token is refused. It is an integrity check, not a signature.
//! - `u`: hash of the URL parameter as configured (the template with its `<LastRunTime>`
//!   placeholder; secret-bearing query values masked first): a changed filter invalidates it.
//! - `k`: hash of the raw LastRunTime token the failed run was given (empty or missing included).
//!   Archer does not advance LastRunTime after a failed run, so a different token means the admin
//!   reset it: the checkpoint no longer applies.
//! - `lrt`: the LastRunTime value the failed run substituted: the resumed run keeps that window.
//! - `t`: when the first failed run started (`YYYY-MM-DDTHH:MM:SSZ`, never later than now): IDs up
//!   to `w` are fetched again for changes since then.
//! - `w`: every ID up to this one was written (at most [`MAX_ID`]).
//! - `d`: finished ID windows above `w` (parallel runs): `a<=b`, sorted, disjoint, above `w`, at
//!   most [`MAX_ID`], at most [`MAX_WINDOWS`]; dropped first (from the end) when space runs out.
//!
//! A token that breaks any rule is ignored with one reason, in an admin's words; the run is then a
//! normal run. An older version's token (`qvt1`) is ignored the same way.
//!
//! Out of scope: what a run does with an accepted checkpoint (`super`, the resume module).

use chrono::{DateTime, Utc};

use crate::last_run_time;
use crate::params::DataSource;

/// The longest token this feed writes or reads (checked before anything is parsed).
pub const MAX_LEN: usize = 256;
/// The largest ID a checkpoint may name: 2^53 - 1, the largest integer JavaScript holds exactly.
pub const MAX_ID: u64 = (1 << 53) - 1;
/// The most finished windows a checkpoint may list.
pub const MAX_WINDOWS: usize = 32;
const TAG: &str = "qvt2";
/// Tags of earlier versions, refused with their own reason.
const OLD_TAGS: &[&str] = &["qvt1"];

/// A resume checkpoint: what a failed run finished, for the next run to skip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The data source of the failed run.
    pub data_source: DataSource,
    /// [`Checkpoint::hash`] of the URL parameter as configured (see the module doc).
    pub url_hash: String,
    /// [`Checkpoint::hash`] of the LastRunTime token the failed run was given.
    pub token_hash: String,
    /// The LastRunTime the failed run used (its window), if the URL has the placeholder.
    pub last_run_time: Option<String>,
    /// When the failed run (or the first run of the chain) started, ISO.
    pub started: String,
    /// Every ID up to this one was written.
    pub watermark: Option<u64>,
    /// Finished ID windows above the watermark.
    pub done: Vec<(u64, u64)>,
}

/// What a checkpoint must match to be applied: this run's data source, URL and token hashes, and
/// the current time.
#[derive(Clone, Debug)]
pub struct Situation<'a> {
    /// This run's data source.
    pub data_source: DataSource,
    /// The hash of this run's URL parameter (secret query values masked).
    pub url_hash: &'a str,
    /// The hash of this run's LastRunTime token.
    pub token_hash: &'a str,
    /// The current time.
    pub now: DateTime<Utc>,
}

/// FNV-1a, 32 bits: every single-character change alters it (each step is a bijection).
fn fnv1a(text: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn hex8(h: u32) -> String {
    format!("{h:08x}")
}

/// Whether `text` is exactly 8 lower-case hex digits.
fn is_hex8(text: &str) -> bool {
    text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A date exactly as [`last_run_time::format`] writes it.
fn canonical_date(text: &str) -> Option<DateTime<Utc>> {
    let d = last_run_time::parse_token(text)?;
    (last_run_time::format(d) == text).then_some(d)
}

/// A decimal ID without sign or leading zeros, at most [`MAX_ID`].
fn parse_id(text: &str, what: &str) -> Result<u64, String> {
    let ok = !text.is_empty()
        && text.len() <= 16
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    let n = if ok { text.parse::<u64>().ok() } else { None };
    match n {
        Some(n) if n <= MAX_ID => Ok(n),
        _ => Err(format!("its {what} is not an ID from 0 to {MAX_ID}")),
    }
}

impl Checkpoint {
    /// The short hash the checkpoint stores for a URL or a token: 8 hex digits.
    pub fn hash(text: &str) -> String {
        hex8(fnv1a(text))
    }

    /// The finished windows as the token holds them: above the watermark, within [`MAX_ID`],
    /// sorted, overlapping or adjacent ones merged, at most [`MAX_WINDOWS`].
    fn normalised_windows(&self) -> Vec<(u64, u64)> {
        let floor = self.watermark.map_or(0, |w| w.saturating_add(1));
        let mut windows: Vec<(u64, u64)> = self
            .done
            .iter()
            .map(|&(a, b)| (a.min(b).max(floor), a.max(b)))
            .filter(|&(a, b)| a <= b && b <= MAX_ID && self.watermark.is_none_or(|w| b > w))
            .collect();
        windows.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(windows.len());
        for (a, b) in windows {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        out.truncate(MAX_WINDOWS);
        out
    }

    /// The token text, never longer than [`MAX_LEN`] (finished windows are dropped to fit).
    pub fn encode(&self) -> String {
        let head = format!("{TAG};ds={}", self.data_source.as_str());
        let mut rest = format!(
            ";u={};k={};lrt={};t={}",
            self.url_hash,
            self.token_hash,
            self.last_run_time.as_deref().unwrap_or("-"),
            self.started
        );
        if let Some(w) = self.watermark {
            rest.push_str(&format!(";w={w}"));
        }
        // ";c=" and 8 hex digits.
        let budget = MAX_LEN.saturating_sub(head.len() + 11);
        let mut first = true;
        for (a, b) in self.normalised_windows() {
            let part = if first { format!(";d={a}-{b}") } else { format!(",{a}-{b}") };
            if rest.len() + part.len() > budget {
                break;
            }
            rest.push_str(&part);
            first = false;
        }
        let checksum = hex8(fnv1a(&format!("{head}{rest}")));
        format!("{head};c={checksum}{rest}")
    }

    /// Reads a token this feed wrote: its length (before anything else), version, checksum, fields
    /// and bounds. `Err` says why it cannot be used, in an admin's words; it never quotes the token.
    pub fn decode(text: &str) -> Result<Checkpoint, String> {
        let fields = Self::fields(text)?;
        Self::check_and_read(text.trim(), &fields)
    }

    /// [`Checkpoint::decode`], then the situation: the same data source (checked first, so a
    /// checkpoint of another feed says so), URL parameter and LastRunTime token, and a start time
    /// that is not in the future.
    pub fn accept(text: &str, situation: &Situation<'_>) -> Result<Checkpoint, String> {
        let fields = Self::fields(text)?;
        if let Some(ds) = fields.iter().find(|(k, _)| *k == "ds").and_then(|(_, v)| DataSource::from_param(v)) {
            if ds != situation.data_source {
                return Err(format!(
                    "it is a checkpoint of the {} feed, not of this {} feed",
                    ds.as_str(),
                    situation.data_source.as_str()
                ));
            }
        }
        let c = Self::check_and_read(text.trim(), &fields)?;
        if c.url_hash != situation.url_hash {
            return Err(format!(
                "the {} parameter has changed since the failed run, so its progress does not apply to the new filters",
                situation.data_source.url_key()
            ));
        }
        if c.token_hash != situation.token_hash {
            return Err("the LastRunTime token is not the one the failed run had (it was reset or changed since), so the run follows the new token".to_string());
        }
        if let Some(started) = canonical_date(&c.started) {
            if started > situation.now {
                return Err(format!(
                    "its start time {} is later than now ({})",
                    c.started,
                    last_run_time::format(situation.now)
                ));
            }
        }
        Ok(c)
    }

    /// The length, the version tag and the `key=value` fields (not yet checked).
    fn fields(text: &str) -> Result<Vec<(&str, &str)>, String> {
        // The length comes first: nothing longer is even looked at.
        if text.len() > MAX_LEN {
            let chars = text.chars().count();
            if chars > MAX_LEN {
                return Err(format!(
                    "it is {chars} characters long, but a checkpoint of this feed is at most {MAX_LEN}"
                ));
            }
            return Err("it holds characters this feed never writes in a checkpoint".to_string());
        }
        let text = text.trim();
        let mut parts = text.split(';');
        let tag = parts.next().unwrap_or("");
        if OLD_TAGS.contains(&tag) {
            return Err(format!(
                "it was written by an older version of this feed ({tag}), whose checkpoints are not used any more"
            ));
        }
        if tag != TAG {
            return Err("it is not a checkpoint written by this feed".to_string());
        }
        parts.map(|p| p.split_once('=').ok_or_else(|| "it is damaged (a field is not key=value)".to_string())).collect()
    }

    /// Checksum, field order and every bound.
    fn check_and_read(text: &str, fields: &[(&str, &str)]) -> Result<Checkpoint, String> {
        let damaged = || "it is damaged or was edited (its checksum does not match)".to_string();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        let layout_ok = matches!(
            keys.as_slice(),
            ["ds", "c", "u", "k", "lrt", "t"]
                | ["ds", "c", "u", "k", "lrt", "t", "w"]
                | ["ds", "c", "u", "k", "lrt", "t", "d"]
                | ["ds", "c", "u", "k", "lrt", "t", "w", "d"]
        );
        if !layout_ok {
            return Err("it is damaged (its fields are not the ones this feed writes)".to_string());
        }
        let get = |key: &str| fields.iter().find(|(k, _)| *k == key).map_or("", |(_, v)| *v);
        let checksum = get("c");
        let unsealed = text.replacen(&format!(";c={checksum}"), "", 1);
        if !is_hex8(checksum) || hex8(fnv1a(&unsealed)) != checksum {
            return Err(damaged());
        }
        let data_source =
            DataSource::from_param(get("ds")).ok_or_else(|| "it names no known data source".to_string())?;
        let (url_hash, token_hash) = (get("u"), get("k"));
        if !is_hex8(url_hash) || !is_hex8(token_hash) {
            return Err("it is damaged (a hash is not 8 hex digits)".to_string());
        }
        let lrt = get("lrt");
        let last_run_time = match lrt {
            "-" => None,
            _ if canonical_date(lrt).is_some() => Some(lrt.to_string()),
            _ => return Err("its LastRunTime window is not a date".to_string()),
        };
        let started = get("t");
        if canonical_date(started).is_none() {
            return Err("its start time is not a date".to_string());
        }
        let watermark = match fields.iter().find(|(k, _)| *k == "w") {
            Some((_, v)) => Some(parse_id(v, "watermark")?),
            None => None,
        };
        let mut done = Vec::new();
        if let Some((_, list)) = fields.iter().find(|(k, _)| *k == "d") {
            let mut above = watermark;
            for r in list.split(',') {
                if done.len() >= MAX_WINDOWS {
                    return Err(format!("it lists more than {MAX_WINDOWS} finished windows"));
                }
                let (a, b) = r.split_once('-').ok_or_else(|| "a finished window is not a-b".to_string())?;
                let (a, b) = (parse_id(a, "finished window")?, parse_id(b, "finished window")?);
                if a > b {
                    return Err("a finished window ends before it starts".to_string());
                }
                if above.is_some_and(|x| a <= x) {
                    return Err("its finished windows are not sorted, disjoint and above the watermark".to_string());
                }
                above = Some(b);
                done.push((a, b));
            }
        }
        Ok(Checkpoint {
            data_source,
            url_hash: url_hash.to_string(),
            token_hash: token_hash.to_string(),
            last_run_time,
            started: started.to_string(),
            watermark,
            done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            data_source: DataSource::Detections,
            url_hash: Checkpoint::hash("https://q.example/?vm_scan_since=<LastRunTime>"),
            token_hash: Checkpoint::hash("2024-03-15T00:00:00Z"),
            last_run_time: Some("2024-03-14T10:20:30Z".into()),
            started: "2024-03-20T01:02:03Z".into(),
            watermark: Some(123456789),
            done: vec![(200_000_000, 300_000_000), (400_000_000, 500_000_000)],
        }
    }

    fn situation(c: &Checkpoint) -> Situation<'_> {
        Situation {
            data_source: c.data_source,
            url_hash: &c.url_hash,
            token_hash: &c.token_hash,
            now: DateTime::from_timestamp(1_720_000_000, 0).unwrap_or_default(),
        }
    }

    /// A token with its checksum recomputed: to test each rule behind the checksum.
    fn sealed(body_without_c: &str) -> String {
        let (head, rest) = body_without_c.split_at(body_without_c.find(";u=").unwrap_or(body_without_c.len()));
        format!("{head};c={}{rest}", hex8(fnv1a(body_without_c)))
    }

    #[test]
    fn round_trips_and_stays_within_256_characters() {
        let c = sample();
        let text = c.encode();
        assert_eq!(
            text,
            format!(
                "qvt2;ds=detections;c={};u={};k={};lrt=2024-03-14T10:20:30Z;t=2024-03-20T01:02:03Z;w=123456789;d=200000000-300000000,400000000-500000000",
                hex8(fnv1a(&text.replacen(&text[18..29], "", 1))),
                c.url_hash,
                c.token_hash
            )
        );
        assert_eq!(Checkpoint::decode(&text), Ok(c.clone()));
        assert_eq!(Checkpoint::accept(&text, &situation(&c)), Ok(c));
        let many = Checkpoint {
            data_source: DataSource::Kb,
            last_run_time: None,
            watermark: None,
            done: (0..100).map(|i| (i * 1_000_000_000 + 1, i * 1_000_000_000 + 999)).collect(),
            ..sample()
        };
        let text = many.encode();
        assert!(text.len() <= MAX_LEN, "{}", text.len());
        let back = Checkpoint::decode(&text).expect("parses");
        assert!(!back.done.is_empty() && back.done.len() < 100);
        assert_eq!(back.done[..], many.done[..back.done.len()]);
        // The largest fields still fit with the checksum.
        let big =
            Checkpoint { data_source: DataSource::HostDetections, watermark: Some(MAX_ID), done: vec![], ..sample() };
        assert!(Checkpoint::decode(&big.encode()).is_ok(), "{}", big.encode());
    }

    #[test]
    fn windows_are_written_normalised() {
        let c = Checkpoint {
            watermark: Some(100),
            done: vec![(500, 600), (50, 90), (90, 150), (601, 700), (650, 680), (900, MAX_ID + 5), (800, 810)],
            ..sample()
        };
        let back = Checkpoint::decode(&c.encode()).expect("parses");
        assert_eq!(back.done, vec![(101, 150), (500, 700), (800, 810)]);
    }

    #[test]
    fn rejects_what_it_did_not_write() {
        for (bad, why) in [
            ("", "not a checkpoint written by this feed"),
            ("hello", "not a checkpoint written by this feed"),
            ("qvt0;ds=kb;t=x", "not a checkpoint written by this feed"),
            ("qvt1;ds=kb;lrt=-;t=2024-01-01T00:00:00Z;w=5", "older version of this feed (qvt1)"),
            ("qvt1;ds=hosts;lrt=1970-01-09T00:00:00Z;t=2024-06-01T00:00:00Z;w=99999999", "older version"),
            ("qvt2;ds=kb", "fields are not the ones"),
            ("qvt2;ds=kb;x", "not key=value"),
        ] {
            let e = Checkpoint::decode(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_long_token_is_refused_before_it_is_parsed() {
        let long = format!("{};{}", sample().encode(), "d=1-2,".repeat(500));
        let e = Checkpoint::decode(&long).expect_err("too long");
        assert!(e.contains(&format!("{} characters long", long.len())) && e.contains("at most 256"), "{e}");
        let e = Checkpoint::decode(&"x".repeat(2864)).expect_err("too long");
        assert!(e.contains("2864 characters"), "{e}");
        let e = Checkpoint::decode(&"é".repeat(200)).expect_err("not ours");
        assert!(e.contains("characters this feed never writes"), "{e}");
    }

    #[test]
    fn every_edited_character_breaks_the_checksum() {
        let text = sample().encode();
        for i in 0..text.len() {
            for replacement in ["0", "9", "a", "-", ";"] {
                let mut edited = text.clone();
                if edited.get(i..=i) == Some(replacement) {
                    continue;
                }
                edited.replace_range(i..=i, replacement);
                assert!(Checkpoint::decode(&edited).is_err(), "{edited}");
            }
        }
        // The examples of the issue.
        for hostile in [
            text.replace("w=123456789", "w=999999999"),
            text.replace(";d=200000000-300000000,400000000-500000000", ";d=0-18446744073709551615"),
        ] {
            let e = Checkpoint::decode(&hostile).expect_err("edited");
            assert!(e.contains("checksum"), "{e}");
        }
    }

    #[test]
    fn bounds_hold_even_with_a_valid_checksum() {
        let c = sample();
        let base = format!(
            "qvt2;ds=detections;u={};k={};lrt=2024-03-14T10:20:30Z;t=2024-03-20T01:02:03Z",
            c.url_hash, c.token_hash
        );
        assert!(Checkpoint::decode(&sealed(&format!("{base};w=5"))).is_ok(), "the sealing helper works");
        for (tail, why) in [
            (";w=9007199254740992", "watermark is not an ID"),
            (";w=18446744073709551615", "watermark is not an ID"),
            (";w=-1", "watermark is not an ID"),
            (";w=007", "watermark is not an ID"),
            (";d=0-18446744073709551615", "finished window is not an ID"),
            (";d=10-5", "ends before it starts"),
            (";w=100;d=50-200", "above the watermark"),
            (";d=10-20,15-30", "sorted, disjoint"),
            (";d=30-40,10-20", "sorted, disjoint"),
            (";d=10-20,20-30", "sorted, disjoint"),
            (";d=1-", "not an ID"),
        ] {
            let e = Checkpoint::decode(&sealed(&format!("{base}{tail}"))).expect_err(tail);
            assert!(e.contains(why), "{tail}: {e}");
        }
        let windows: Vec<String> = (0..33).map(|i| format!("{i}-{i}")).collect();
        let short = format!("qvt2;ds=kb;u={};k={};lrt=-;t=2024-03-20T01:02:03Z", c.url_hash, c.token_hash);
        let token = sealed(&format!("{short};d={}", windows.join(",")));
        assert!(token.len() <= MAX_LEN, "{}", token.len());
        let e = Checkpoint::decode(&token).expect_err("too many");
        assert!(e.contains("more than 32 finished windows"), "{e}");
        for (field, bad, why) in [
            ("lrt=2024-03-14T10:20:30Z", "lrt=yesterday", "window is not a date"),
            ("lrt=2024-03-14T10:20:30Z", "lrt=2024-03-14", "window is not a date"),
            ("t=2024-03-20T01:02:03Z", "t=2024-03-20T01:02:03+01:00", "start time is not a date"),
            ("t=2024-03-20T01:02:03Z", "t=", "start time is not a date"),
        ] {
            let e = Checkpoint::decode(&sealed(&format!("{};w=5", base.replace(field, bad)))).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn it_applies_only_to_the_situation_it_was_written_in() {
        let c = sample();
        let text = c.encode();
        let ok = situation(&c);
        assert!(Checkpoint::accept(&text, &ok).is_ok());
        let other_url = Checkpoint::hash("https://q.example/?vm_scan_since=<LastRunTime>&status=Fixed");
        let reset = Checkpoint::hash("");
        let e = Checkpoint::accept(&text, &Situation { data_source: DataSource::Kb, ..ok.clone() }).expect_err("ds");
        assert!(e.contains("checkpoint of the detections feed, not of this kb feed"), "{e}");
        let e = Checkpoint::accept(&text, &Situation { url_hash: &other_url, ..ok.clone() }).expect_err("url");
        assert!(e.contains("detectionUrl parameter has changed"), "{e}");
        let e = Checkpoint::accept(&text, &Situation { token_hash: &reset, ..ok.clone() }).expect_err("token");
        assert!(e.contains("LastRunTime token is not the one the failed run had"), "{e}");
        let past = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let e = Checkpoint::accept(&text, &Situation { now: past, ..ok.clone() }).expect_err("future");
        assert!(e.contains("start time 2024-03-20T01:02:03Z is later than now (2023-11-14T22:13:20Z)"), "{e}");
        // Another feed's checkpoint says so even when edited.
        let e = Checkpoint::accept(&text.replace("ds=detections", "ds=kb"), &ok).expect_err("ds");
        assert!(e.contains("of the kb feed"), "{e}");
        // Surrounding spaces are not an edit.
        assert!(Checkpoint::accept(&format!(" {text}\n"), &ok).is_ok());
    }
}

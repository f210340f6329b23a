//! The resume checkpoint carried in Archer's `PreviousRunContext` token (at most 256 characters).
//!
//! In scope: its text format and parsing. Format (`;`-separated `key=value` after a version tag):
//! `qvt1;ds=<dataSource>;lrt=<LastRunTime used or ->;t=<start of the failed run>;w=<watermark>[;d=a-b,c-d]`
//! - `lrt`: the LastRunTime value the failed run substituted: the resumed run keeps that window.
//! - `t`: when the first failed run started: IDs up to `w` are fetched again for changes since then.
//! - `w`: every ID up to this one was written.
//! - `d`: finished ID windows above `w` (parallel runs), dropped first when space runs out.
//!
//! Out of scope: what the feed does with it (`feed/mod.rs`).

use crate::params::DataSource;

pub const MAX_LEN: usize = 256;
const TAG: &str = "qvt1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub data_source: DataSource,
    pub last_run_time: Option<String>,
    pub started: String,
    pub watermark: Option<u64>,
    pub done: Vec<(u64, u64)>,
}

impl Checkpoint {
    /// The token text, never longer than [`MAX_LEN`] (finished windows are dropped to fit).
    pub fn encode(&self) -> String {
        let mut s = format!(
            "{TAG};ds={};lrt={};t={}",
            self.data_source.as_str(),
            self.last_run_time.as_deref().unwrap_or("-"),
            self.started
        );
        if let Some(w) = self.watermark {
            s.push_str(&format!(";w={w}"));
        }
        let mut first = true;
        for (a, b) in &self.done {
            let part = if first { format!(";d={a}-{b}") } else { format!(",{a}-{b}") };
            if s.len() + part.len() > MAX_LEN {
                break;
            }
            s.push_str(&part);
            first = false;
        }
        s
    }

    /// Parses a token; `Err` says why it cannot be used (for a warning).
    pub fn decode(text: &str) -> Result<Checkpoint, String> {
        let mut parts = text.trim().split(';');
        if parts.next() != Some(TAG) {
            return Err("it was not written by this feed (or by another version of it)".into());
        }
        let (mut ds, mut lrt, mut started, mut watermark, mut done) = (None, None, None, None, Vec::new());
        for part in parts {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("`{part}` is not key=value"))?;
            match k {
                "ds" => ds = Some(DataSource::from_param(v).ok_or_else(|| format!("unknown data source `{v}`"))?),
                "lrt" => lrt = (v != "-").then(|| v.to_string()),
                "t" => started = Some(v.to_string()),
                "w" => watermark = Some(v.parse::<u64>().map_err(|_| format!("watermark `{v}` is not a number"))?),
                "d" => {
                    for r in v.split(',') {
                        let (a, b) = r.split_once('-').ok_or_else(|| format!("range `{r}` is not a-b"))?;
                        let a = a.parse::<u64>().map_err(|_| format!("range `{r}` is not numeric"))?;
                        let b = b.parse::<u64>().map_err(|_| format!("range `{r}` is not numeric"))?;
                        done.push((a.min(b), a.max(b)));
                    }
                }
                _ => {}
            }
        }
        Ok(Checkpoint {
            data_source: ds.ok_or("no data source")?,
            last_run_time: lrt,
            started: started.ok_or("no start time")?,
            watermark,
            done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_stays_within_256_characters() {
        let c = Checkpoint {
            data_source: DataSource::Detections,
            last_run_time: Some("2024-03-14T10:20:30Z".into()),
            started: "2024-03-20T01:02:03Z".into(),
            watermark: Some(123456789),
            done: vec![(200, 300), (400, 500)],
        };
        let text = c.encode();
        assert_eq!(
            text,
            "qvt1;ds=detections;lrt=2024-03-14T10:20:30Z;t=2024-03-20T01:02:03Z;w=123456789;d=200-300,400-500"
        );
        assert_eq!(Checkpoint::decode(&text), Ok(c));
        let many = Checkpoint {
            data_source: DataSource::Kb,
            last_run_time: None,
            started: "x".into(),
            watermark: None,
            done: (0..100).map(|i| (i * 1_000_000_000, i * 1_000_000_000 + 999)).collect(),
        };
        let text = many.encode();
        assert!(text.len() <= MAX_LEN, "{}", text.len());
        let back = Checkpoint::decode(&text).expect("parses");
        assert!(!back.done.is_empty() && back.done.len() < 100);
        assert_eq!(back.done[..], many.done[..back.done.len()]);
    }

    #[test]
    fn rejects_what_it_did_not_write() {
        for bad in [
            "",
            "hello",
            "qvt0;ds=kb;t=x",
            "qvt1;ds=nope;t=x",
            "qvt1;ds=kb",
            "qvt1;ds=kb;t=x;w=abc",
            "qvt1;ds=kb;t=x;d=1-",
        ] {
            assert!(Checkpoint::decode(bad).is_err(), "{bad}");
        }
    }
}

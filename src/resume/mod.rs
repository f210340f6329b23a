//! Resuming a failed run: the checkpoint a failed run leaves in Archer's `PreviousRunContext`
//! ([`checkpoint`]: its text format and the rules that decide whether a token applies), applying
//! an accepted checkpoint to the paging plan ([`apply`]), and the checkpoint a run would leave now
//! ([`leave`]).
//!
//! In scope: which IDs a resumed run skips or fetches again, and what a failed run records of its
//! progress. Out of scope: the paging itself (`crate::plan`), the URL rules (`crate::qualys::urls`),
//! when a checkpoint is taken or logged (`crate::feed`).

pub mod checkpoint;

pub use self::checkpoint::{Checkpoint, Situation};

use crate::error::Result;
use crate::last_run_time;
use crate::params::{Config, DataSource};
use crate::plan::Plan;
use crate::qualys::urls;
use crate::url::Url;

/// Applies an accepted checkpoint to a fresh plan: start after its watermark (and, when the URL
/// has the LastRunTime placeholder, fetch the IDs up to the watermark changed since the failed run
/// started, with `substitute` building that URL), and never fetch its finished windows. `url` is
/// the run's URL. Returns how, for the log line (`"after ID 5, skipping 2 finished window(s)"`).
pub fn apply(
    c: &Checkpoint,
    plan: &mut Plan,
    config: &Config,
    url: &Url,
    has_placeholder: bool,
    substitute: impl Fn(&str) -> Result<Url>,
) -> Result<String> {
    let mut how = String::new();
    if let Some(w) = c.watermark {
        plan.start_after(w);
        how.push_str(&format!("after ID {w}"));
        // Records up to the watermark were written by the failed run; fetch those that changed
        // since it started (with the usual offset), so nothing is missed when LastRunTime moves on.
        if has_placeholder {
            if let Some(started) = last_run_time::parse_token(&c.started) {
                let since = last_run_time::format(started + chrono::Duration::days(config.last_run_time_offset_days));
                let catch_up = urls::catch_up_url(substitute(&since)?, w);
                plan.prepend_segment(catch_up, config.batch_size, urls::id_min(url), Some(w));
                how.push_str(&format!(", and IDs up to {w} changed since {since}"));
            }
        }
    }
    if !c.done.is_empty() {
        plan.exclude(&c.done);
        how.push_str(&format!(", skipping {} finished window(s)", c.done.len()));
    }
    Ok(how)
}

/// What a checkpoint of this run holds besides its progress.
#[derive(Clone, Debug)]
pub struct RunIdentity {
    /// The data source.
    pub data_source: DataSource,
    /// The hash of the URL parameter (secret query values masked).
    pub url_hash: String,
    /// The hash of the LastRunTime token.
    pub token_hash: String,
    /// The LastRunTime substituted into the URL, if any.
    pub last_run_time: Option<String>,
    /// When the run (or the first run it resumes) started, ISO.
    pub started: String,
}

/// The checkpoint a failure at this moment would leave: the plan's progress merged with the
/// checkpoint this run resumed from (`prior`). `None` when there is nothing to resume, or the
/// watermark is beyond what a checkpoint can name (the next run is then a normal run; nothing is
/// lost).
pub fn leave(plan: &Plan, prior: Option<&Checkpoint>, run: &RunIdentity) -> Option<Checkpoint> {
    let (watermark, done) = plan.progress();
    let watermark = match (watermark, prior.and_then(|c| c.watermark)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let mut done_all = done;
    if let Some(c) = prior {
        done_all.extend(c.done.iter().copied().filter(|(_, b)| watermark.is_none_or(|w| *b > w)));
    }
    if watermark.is_none() && done_all.is_empty() {
        return None;
    }
    if watermark.is_some_and(|w| w > checkpoint::MAX_ID) {
        return None;
    }
    Some(Checkpoint {
        data_source: run.data_source,
        url_hash: run.url_hash.clone(),
        token_hash: run.token_hash.clone(),
        last_run_time: run.last_run_time.clone(),
        started: run.started.clone(),
        watermark,
        done: done_all,
    })
}

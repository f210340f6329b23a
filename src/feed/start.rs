//! Starting a run: the parameters validated, the tokens read, LastRunTime resolved, a resume
//! checkpoint accepted and applied (`crate::resume`), the paging plan chosen (one chain, or a
//! discovery then ID windows), and the first log lines.
//!
//! In scope: everything `Feed::new` decides before the first request. Out of scope: the run
//! itself (`super`), the rules it applies (`crate::params`, `crate::last_run_time`,
//! `crate::resume`, `crate::qualys::urls`).

use std::collections::{BTreeMap, VecDeque};

use chrono::DateTime;

use super::check::Check;
use super::notes::Notes;
use super::pacer::Pacer;
use super::{Feed, Level, State, Summary, TokenValues, Tokens, WarningKind};
use crate::error::{Error, ErrorCode, Result};
use crate::last_run_time;
use crate::params::{self, Config, DataSource};
use crate::pipeline::Pipeline;
use crate::plan::Plan;
use crate::qualys::urls;
use crate::records::Shape;
use crate::resume::{self, Checkpoint, Situation};
use crate::secret::Redactor;
use crate::text;
use crate::url::Url;
use crate::value::Value;

impl Feed {
    /// Validates the parameters, resolves LastRunTime against `now_ms` (milliseconds since the
    /// Unix epoch), applies a resume checkpoint, and plans the run. Fails only on configuration
    /// errors.
    pub fn new(params: &[(String, String)], tokens: &Tokens, now_ms: i64) -> Result<Feed> {
        let values: Vec<(String, Value)> = params.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
        Feed::with_values(&values, &TokenValues::from(tokens), now_ms)
    }

    /// [`Feed::new`] for parameters and tokens of any type, as a JavaScript host may pass them:
    /// parameter values convert as [`crate::params::parse_values`] says, the LastRunTime token as
    /// [`last_run_time::token_text`] says (an unusable type is a `CONFIG_INVALID` naming the token,
    /// with the parameters' problems), and a PreviousRunContext that is not a string is ignored with
    /// a warning.
    pub fn with_values(params: &[(String, Value)], tokens: &TokenValues, now_ms: i64) -> Result<Feed> {
        // Lines logged before the feed exists; replayed through `log`/`warn` at the end.
        let mut early: Vec<(Level, Option<WarningKind>, String)> = Vec::new();
        let mut token_problems: Vec<(&str, String)> = Vec::new();
        let last_run_time_token = match last_run_time::token_text(&tokens.last_run_time) {
            Ok((text, note)) => {
                if let Some(note) = note {
                    early.push((Level::Info, None, note));
                }
                text
            }
            Err(why) => {
                token_problems.push(("LastRunTime token", why));
                None
            }
        };
        let previous_run_context = match &tokens.previous_run_context {
            Value::Missing => None,
            Value::Text(t) => Some(t.as_str()),
            other => {
                early.push((
                    Level::Warn,
                    Some(WarningKind::Checkpoint),
                    format!(
                        "PreviousRunContext is {}, not the text this feed writes: ignored, starting from the beginning",
                        other.type_name()
                    ),
                ));
                None
            }
        };
        let parsed = params::parse_values(params, &token_problems)?;
        let config = parsed.config;
        let now = DateTime::from_timestamp_millis(now_ms).ok_or_else(|| {
            Error::caller(ErrorCode::BadTime, format!("the current time {now_ms} ms is out of range"))
        })?;
        for w in parsed.warnings {
            early.push((Level::Warn, Some(WarningKind::Parameter), w));
        }
        let url_key = config.url_key();
        let has_placeholder = config.url_template.contains(last_run_time::PLACEHOLDER);
        let redactor = Self::redactor_for(&config);

        // A checkpoint left by a failed run of this data source.
        // What a checkpoint must match: the URL parameter as configured (secret query values
        // masked, so no hash of a password is written) and the raw LastRunTime token.
        let url_hash = Checkpoint::hash(&text::mask_url(&config.url_template, &redactor));
        let raw_token = last_run_time_token.as_deref().unwrap_or("");
        let token_hash = if redactor.reveals(raw_token) {
            Checkpoint::hash("\u{0}a token holding a secret")
        } else {
            Checkpoint::hash(raw_token)
        };
        let resumed = match previous_run_context.filter(|t| !t.trim().is_empty()) {
            None => None,
            Some(text) => {
                let situation =
                    Situation { data_source: config.data_source, url_hash: &url_hash, token_hash: &token_hash, now };
                match Checkpoint::accept(text, &situation) {
                    Ok(c) => Some(c),
                    Err(why) => {
                        early.push((Level::Warn, Some(WarningKind::Checkpoint), format!("PreviousRunContext could not be used to resume ({why}): ignored, starting from the beginning with a normal run")));
                        None
                    }
                }
            }
        };

        let mut summary =
            Summary { data_source: config.data_source.as_str().to_string(), bytes_wire: Some(0), ..Default::default() };
        let parse_url = |text: &str| {
            Url::parse(text).map_err(|why| Error::config(ErrorCode::ConfigInvalid, format!("{url_key}: {why}")))
        };
        let substitute = |value: &str| parse_url(&last_run_time::substitute(&config.url_template, value));
        // How LastRunTime was found, for the start line (a first run says so) and the connection test.
        let mut last_run_time_note = String::new();
        let mut first_run = false;
        let url = if has_placeholder {
            let value = match resumed.as_ref().and_then(|c| c.last_run_time.clone()) {
                Some(window) => {
                    last_run_time_note =
                        "the LastRunTime window of the failed run this one resumes (PreviousRunContext)".to_string();
                    window
                }
                None => {
                    let resolved = last_run_time::resolve_with(
                        last_run_time_token.as_deref(),
                        config.last_run_time_offset_days,
                        now,
                        &redactor,
                    );
                    for w in resolved.warnings {
                        early.push((Level::Warn, Some(WarningKind::LastRunTime), w));
                    }
                    let offset = config.last_run_time_offset_days;
                    last_run_time_note = match resolved.source {
                        last_run_time::Source::FromToken => {
                            format!("the LastRunTime token plus lastRunTimeOffset={offset} day(s)")
                        }
                        last_run_time::Source::FirstRun => {
                            first_run = true;
                            format!(
                                "no LastRunTime token: full load since {} minus the offset, lastRunTimeOffset={offset}",
                                last_run_time::FIRST_RUN_DEFAULT.get(..10).unwrap_or_default()
                            )
                        }
                        last_run_time::Source::InvalidToken => {
                            first_run = true;
                            format!("the LastRunTime token is not a date: full load since {} minus the offset, lastRunTimeOffset={offset}", last_run_time::FIRST_RUN_DEFAULT.get(..10).unwrap_or_default())
                        }
                    };
                    last_run_time::format(resolved.value)
                }
            };
            summary.last_run_time_used = Some(value.clone());
            substitute(&value)?
        } else {
            early.push((Level::Info, None, format!("{url_key} has no <LastRunTime> placeholder: the URL is used as given and every run fetches all it selects")));
            parse_url(&config.url_template)?
        };

        let mut plan = Self::plan_for(&config, url.clone(), &mut |level, text| early.push((level, None, text)));
        if let Some(c) = &resumed {
            let how = resume::apply(c, &mut plan, &config, &url, has_placeholder, substitute)?;
            early.push((
                Level::Info,
                None,
                format!(
                    "resuming a failed run (LastRunTime window {}): fetching {how}",
                    c.last_run_time.as_deref().unwrap_or("not used")
                ),
            ));
        }
        let first_len = plan.first_url().to_string().len();
        if config.http_method == params::HttpMethod::Get && first_len > urls::MAX_GET_URL_BYTES {
            early.push((Level::Warn, Some(WarningKind::Parameter), format!("httpMethod=GET: the {url_key} URL is {first_len} bytes, longer than the {} bytes servers and proxies reliably accept in a GET; if Qualys answers 414 the run fails. httpMethod=auto (the default) would send such requests as POST.", urls::MAX_GET_URL_BYTES)));
        }
        early.push((
            Level::Info,
            None,
            format!(
                "starting dataSource={} url={} LastRunTime={}{} batchSize={} requestsPerMin={} maxRetry={} concurrency={} verifyCerts={}{}",
                config.data_source.as_str(),
                text::mask_url(&plan.first_url().to_string(), &redactor),
                summary.last_run_time_used.as_deref().unwrap_or("(not used)"),
                if first_run { format!(" ({last_run_time_note})") } else { String::new() },
                config.batch_size,
                config.requests_per_min,
                config.max_retry,
                config.concurrency,
                config.verify_certs,
                match config.output_shape {
                    Shape::Records => "",
                    Shape::Qualys => " outputShape=qualys",
                }
            ) + &if config.data_source == DataSource::Detections && config.output_shape == Shape::Records {
                format!(" detectionKey={}", config.detection_key.as_str())
            } else {
                String::new()
            },
        ));
        let check = config.test_connection.then(|| {
            let since = last_run_time::format(now.checked_sub_signed(chrono::TimeDelta::days(1)).unwrap_or(now));
            let url = urls::check_url(config.data_source, plan.first_url(), &since);
            early.push((
                Level::Info,
                None,
                format!(
                    "connection test (testConnection=True): one light request to {}, nothing written",
                    text::mask_url(&url.to_string(), &redactor)
                ),
            ));
            Check {
                url,
                sent: false,
                transport: None,
                tls_issuer: None,
                last_run_time_note: last_run_time_note.clone(),
                incoming_context: previous_run_context.unwrap_or("").to_string(),
            }
        });
        if check.is_some() {
            summary.previous_run_context = previous_run_context.unwrap_or("").to_string();
        }
        let mut feed = Feed {
            check,
            notes_pending: false,
            pacer: Pacer::new(config.requests_per_min),
            // The collision check's hash seed: the start time, which a server cannot know ahead.
            pipeline: Pipeline::new(
                config.data_source,
                config.output_shape,
                config.output_chunk_records,
                config.output_chunk_bytes,
            )
            .with_detection_key(config.detection_key, (now_ms as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            retry_base_ms: u64::from(config.retry_delay_sec) * 1000,
            started_iso: resumed.as_ref().map_or_else(|| last_run_time::format(now), |c| c.started.clone()),
            resumed,
            url_hash,
            token_hash,
            config,
            plan,
            state: State::Running,
            in_flight: BTreeMap::new(),
            next_request_id: 1,
            items: Vec::new(),
            logs: VecDeque::new(),
            summary,
            started_at: now_ms,
            concurrency_limit: None,
            duplicate_logged: false,
            out_of_window_logged: false,
            notes: Notes::default(),
            redactor,
            retry_reason: String::new(),
            post: false,
            answered: false,
            encoding_logged: false,
            compressed_seen: false,
        };
        for (level, kind, text) in early {
            match kind {
                Some(kind) => feed.warn(kind, 1, text),
                None => feed.log(level, text),
            }
        }
        Ok(feed)
    }

    /// Every form of the run's secrets: the password, the proxy password, and both as Basic
    /// authentication of their users.
    fn redactor_for(config: &Config) -> Redactor {
        let mut r = Redactor::default();
        r.add(config.password.expose());
        r.add_basic(&config.username, config.password.expose());
        if let Some(p) = &config.proxy {
            if let Some(pw) = &p.password {
                r.add(pw.expose());
                r.add_basic(p.username.as_deref().unwrap_or(""), pw.expose());
            }
        }
        r
    }

    /// One sequential chain like the old script, or a discovery request then ID windows.
    fn plan_for(config: &Config, url: Url, log: &mut impl FnMut(Level, String)) -> Plan {
        let explicit_ids = urls::has_id_selector(&url);
        match config.data_source {
            DataSource::Kb if config.kb_chunk_size > 0 && !explicit_ids => {
                let discovery = urls::kb_discovery_url(&url);
                log(Level::Info, format!("KnowledgeBase: listing the matching QIDs first, then fetching them in ID ranges of {} QIDs (kbChunkSize)", config.kb_chunk_size));
                Plan::with_discovery(config.data_source, url, config.batch_size, discovery, config.kb_chunk_size)
                    .with_concurrency(config.concurrency)
            }
            DataSource::Kb => Plan::new(config.data_source, url, config.batch_size),
            _ if config.concurrency > 1 && url.query_get("ids").is_none() => {
                let discovery = urls::host_discovery_url(config.data_source, &url);
                log(
                    Level::Info,
                    format!(
                        "listing the matching host IDs first, then fetching ranges of {} hosts, up to {} at a time",
                        config.batch_size, config.concurrency
                    ),
                );
                Plan::with_discovery(config.data_source, url, config.batch_size, discovery, config.batch_size)
                    .with_concurrency(config.concurrency)
            }
            _ => Plan::new(config.data_source, url, config.batch_size),
        }
    }
}

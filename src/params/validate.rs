//! The validation of the Custom Parameters, driven by the table: each row of
//! [`super::table::PARAMS`] is checked in order by the check of its kind, every problem collected,
//! then the [`Config`] is built from what was read and the table's defaults.
//!
//! In scope: reading each value once (whitespace, duplicates, values of an unusable type), the
//! per-kind checks, warnings about settings that run but deserve a look, and the one
//! `CONFIG_INVALID` error listing every problem (scrubbed of both passwords in every form). Out of
//! scope: the individual rules (`super::check`), what each key means (`super::table`).

use std::collections::BTreeMap;

use super::check::{
    check_xml_name, missing, parse_int, parse_proxy, shown, to_u32, to_usize, unknown_key_warning, IntSpec, Problems,
};
use super::table::{self, Kind, PARAMS};
use super::{Config, DataSource, HttpMethod, Parsed, Proxy, MIB};
use crate::error::{Error, ErrorCode};
use crate::last_run_time;
use crate::qualys::{versions, DATA_SOURCE_VALUES};
use crate::records::keys::DetectionKey;
use crate::records::Shape;
use crate::secret::{Redactor, Secret};
use crate::text;
use crate::url::Url;

/// The validation: `typed` are keys whose value had an unusable type (with why), `extra` problems
/// outside the parameters.
pub(super) fn parse_texts(
    params: &[(&str, &str)],
    typed: &[(&str, String)],
    extra: &[(&str, String)],
) -> Result<Parsed, Error> {
    let mut v = Validation::new(params, typed);
    for p in PARAMS {
        v.check(p);
    }
    v.cross_checks();
    v.finish(extra)
}

/// What the validation has read so far.
struct Validation<'a> {
    map: BTreeMap<&'a str, &'a str>,
    typed: &'a [(&'a str, String)],
    /// Secrets in every form: never echoed (see `shown`), and scrubbed from every message at the
    /// end, whatever path produced it.
    red: Redactor,
    problems: Problems,
    warnings: Vec<String>,
    data_source: Option<DataSource>,
    url_template: String,
    parsed_url: Option<Url>,
    username: String,
    password: Secret,
    ints: BTreeMap<&'static str, i64>,
    bools: BTreeMap<&'static str, bool>,
    ca_cert: Option<String>,
    proxy: Option<Proxy>,
    root_node: Option<String>,
    /// The value of each optional choice parameter given a valid value.
    choices: BTreeMap<&'static str, &'a str>,
}

impl<'a> Validation<'a> {
    /// Reads the pairs: duplicates and known keys of an unusable type are problems, unknown keys
    /// warnings; both passwords (and the proxy's) go into the redactor.
    fn new(params: &[(&'a str, &'a str)], typed: &'a [(&'a str, String)]) -> Self {
        let mut problems = Problems::default();
        let mut warnings = Vec::new();
        let mut red = Redactor::default();
        let mut map: BTreeMap<&str, &str> = BTreeMap::new();
        for &(k, v) in params {
            if k == "password" || k == "proxy" {
                red.add(v);
            }
            if map.insert(k, v).is_some() {
                problems.add(k, "given more than once; keep one");
            }
        }
        if let Some(proxy) = map.get("proxy") {
            if let Ok((_, user, Some(pw))) = Url::parse_proxy(proxy.trim()) {
                red.add(pw.expose());
                red.add_basic(user.as_deref().unwrap_or(""), pw.expose());
            }
        }
        if let Some(pw) = map.get("password") {
            red.add_basic(map.get("username").copied().unwrap_or(""), pw);
        }
        let known = |k: &str| table::find(k).is_some();
        for k in map.keys().chain(typed.iter().map(|(k, _)| k)) {
            if !known(k) {
                warnings.push(unknown_key_warning(k, &red));
            }
        }
        // A known key whose value has an unusable type: one problem, and no "missing" for it below.
        for (k, why) in typed.iter().filter(|(k, _)| known(k)) {
            problems.add(k, why);
        }
        Validation {
            map,
            typed,
            red,
            problems,
            warnings,
            data_source: None,
            url_template: String::new(),
            parsed_url: None,
            username: String::new(),
            password: Secret::new(""),
            ints: BTreeMap::new(),
            bools: BTreeMap::new(),
            ca_cert: None,
            proxy: None,
            root_node: None,
            choices: BTreeMap::new(),
        }
    }

    /// Whether `key` was given a value (a non-empty text, or a value of an unusable type).
    fn given(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_empty()) || self.typed.iter().any(|(k, _)| *k == key)
    }

    /// The value of a known key, `None` when missing or empty. A value with surrounding whitespace
    /// is a problem (reported here, once) and also `None`, so no second message follows for it.
    fn value_of(&mut self, key: &'static str) -> Option<&'a str> {
        let v = *self.map.get(key)?;
        if v.is_empty() {
            return None;
        }
        if table::find(key).is_some_and(|p| p.kind != Kind::Pem) && v.trim() != v {
            self.problems.add(key, "the value has leading or trailing spaces or line breaks; remove them (keys and values cannot include extra spaces)");
            return None;
        }
        Some(v)
    }

    /// "missing" or "empty" for `key`, as [`missing`] words it.
    fn missing(&self, key: &str) -> String {
        missing(&self.map, key, &self.red)
    }

    /// Checks one parameter by its kind.
    fn check(&mut self, p: &'static table::Param) {
        match p.kind {
            Kind::Choice(_) if p.required != table::Required::No => self.check_data_source(p.key),
            Kind::Choice(values) => self.check_choice(p.key, values),
            Kind::Url => {
                if let Some(ds) = self.data_source.filter(|d| d.url_key() == p.key) {
                    self.check_url(ds);
                }
            }
            Kind::Text => self.check_username(p.key),
            Kind::Secret => self.check_password(p.key),
            Kind::Integer { min, max, default } => {
                let spec = IntSpec { default, min, max };
                let n = match self.value_of(p.key) {
                    None => default,
                    Some(v) => parse_int(v, &spec, &self.red).unwrap_or_else(|msg| {
                        self.problems.add(p.key, msg);
                        default
                    }),
                };
                self.ints.insert(p.key, n);
            }
            Kind::Boolean { default } => {
                let b = match self.value_of(p.key) {
                    None => default,
                    Some(v) if v.eq_ignore_ascii_case("true") => true,
                    Some(v) if v.eq_ignore_ascii_case("false") => false,
                    Some(v) => {
                        let msg = format!(
                            "{} is not true or false; use true (the default, recommended) or false",
                            shown(v, &self.red)
                        );
                        self.problems.add(p.key, msg);
                        default
                    }
                };
                self.bools.insert(p.key, b);
            }
            Kind::Pem => self.check_ca_cert(p.key),
            Kind::Proxy => {
                if let Some(v) = self.value_of(p.key) {
                    match parse_proxy(v) {
                        Ok(proxy) => self.proxy = Some(proxy),
                        Err(msg) => self.problems.add(p.key, msg),
                    }
                }
            }
            Kind::XmlName => {
                if let Some(v) = self.value_of(p.key) {
                    match check_xml_name(v) {
                        Ok(()) => self.root_node = Some(v.to_string()),
                        Err(why) => {
                            let msg = format!("{} {why}; use letters, digits, '_', '-' and '.', starting with a letter or '_' (e.g. QUALYS_DETECTIONS)", shown(v, &self.red));
                            self.problems.add(p.key, msg);
                        }
                    }
                }
            }
        }
    }

    fn check_data_source(&mut self, key: &'static str) {
        let present = self.given(key);
        match self.value_of(key) {
            Some(v) => match DataSource::from_param(v) {
                Some(d) => self.data_source = Some(d),
                None => {
                    let hint = DataSource::ALL
                        .into_iter()
                        .find(|d| d.as_str().eq_ignore_ascii_case(v))
                        .map(|d| format!(" (did you mean {}? values are case-sensitive)", d.as_str()))
                        .unwrap_or_default();
                    let msg =
                        format!("{} is not a data source{hint}; use one of {DATA_SOURCE_VALUES}", shown(v, &self.red));
                    self.problems.add(key, msg);
                }
            },
            None => {
                if !present {
                    let msg = format!("{}; set it to one of {DATA_SOURCE_VALUES}", self.missing(key));
                    self.problems.add(key, msg);
                }
            }
        }
    }

    /// An optional choice: one of `values`, exactly (a value that differs only by case gets a hint).
    fn check_choice(&mut self, key: &'static str, values: &'static [&'static str]) {
        let Some(v) = self.value_of(key) else { return };
        if values.contains(&v) {
            self.choices.insert(key, v);
            return;
        }
        let hint = values
            .iter()
            .find(|c| c.eq_ignore_ascii_case(v))
            .map(|c| format!(" (did you mean {c}? values are case-sensitive)"))
            .unwrap_or_default();
        let msg = format!(
            "{} is not one of {}{hint}; use one of them, or leave it empty for {}",
            shown(v, &self.red),
            values.join(", "),
            table::choice_default(key)
        );
        self.problems.add(key, msg);
    }

    /// The URL of the chosen data source.
    fn check_url(&mut self, ds: DataSource) {
        let key = ds.url_key();
        let present = self.given(key);
        let Some(v) = self.value_of(key) else {
            if !present {
                let msg =
                    format!("{}; dataSource={} needs it, e.g. {}", self.missing(key), ds.as_str(), ds.example_url());
                self.problems.add(key, msg);
            }
            return;
        };
        // Validate the URL as it will be sent: with the placeholder filled in.
        let sample = last_run_time::substitute(v, last_run_time::FIRST_RUN_DEFAULT);
        match Url::parse(&sample) {
            Ok(u) => {
                if !u.is_https() && !u.is_loopback() {
                    self.problems.add(key, "uses plain http:// to a non-local server, which would send the Qualys user name and password unencrypted; use https://");
                    return;
                }
                if !u.path().contains(ds.expected_path()) {
                    self.warnings.push(format!(
                        "{key}: the path does not contain {} as a dataSource={} URL normally does (e.g. {}); check that the URL matches the data source",
                        ds.expected_path(),
                        ds.as_str(),
                        ds.example_url()
                    ));
                } else if ds == DataSource::Hosts && u.path().contains("/vm/detection") {
                    self.warnings.push(format!(
                        "{key}: the URL is a detection URL but dataSource=hosts expects the host list, e.g. {}",
                        ds.example_url()
                    ));
                }
                if let Some(r) = versions::retired(u.path()) {
                    self.warnings.push(versions::retired_warning(key, ds, &r));
                }
                self.url_template = v.to_string();
                self.parsed_url = Some(u);
            }
            Err(why) => self.problems.add(key, format!("{why} (expected e.g. {})", ds.example_url())),
        }
    }

    fn check_username(&mut self, key: &'static str) {
        let present = self.given(key);
        match self.value_of(key) {
            Some(v) => {
                if v.contains(':') {
                    self.problems.add(
                        key,
                        "contains ':', which HTTP Basic authentication cannot carry; check the Qualys API user name",
                    );
                } else if v.chars().any(char::is_control) {
                    self.problems.add(key, "contains a control character; check the Qualys API user name");
                }
                self.username = v.to_string();
            }
            None => {
                if !present {
                    let msg = format!("{}; set it to the Qualys API user name", self.missing(key));
                    self.problems.add(key, msg);
                }
            }
        }
    }

    fn check_password(&mut self, key: &'static str) {
        let present = self.given(key);
        match self.value_of(key) {
            Some(v) => self.password = Secret::new(v),
            None => {
                if !present {
                    let msg = format!(
                        "{}; set it to the Qualys API password (and mark the parameter Protected)",
                        self.missing(key)
                    );
                    self.problems.add(key, msg);
                }
            }
        }
    }

    /// caCert (trimmed: PEM text usually ends with a line break).
    fn check_ca_cert(&mut self, key: &'static str) {
        let Some(v) = self.value_of(key).map(str::trim).filter(|v| !v.is_empty()) else { return };
        if v.contains("-----BEGIN CERTIFICATE-----") && v.contains("-----END CERTIFICATE-----") {
            self.ca_cert = Some(v.to_string());
        } else {
            self.problems.add(key, "is not a PEM certificate; paste the CA certificate text including its -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines");
        }
    }

    /// Warnings about settings that run but deserve a look.
    fn cross_checks(&mut self) {
        if !self.bool("verifyCerts") {
            self.warnings.push("verifyCerts: false: the Qualys server's TLS certificate is not checked, so the user name and password could be intercepted; set verifyCerts to true (and caCert for a private CA) unless this is a test".to_string());
            if self.ca_cert.is_some() {
                self.warnings.push("caCert: ignored because verifyCerts is false".to_string());
            }
        }
        if let (Some(u), Some(ds)) = (&self.parsed_url, self.data_source) {
            let batch_given = self.map.get("batchSize").is_some_and(|v| !v.is_empty());
            if batch_given && ds != DataSource::Kb && u.query_get("truncation_limit").is_some() {
                self.warnings
                    .push(format!("batchSize: ignored because {} already sets truncation_limit", ds.url_key()));
            }
        }
    }

    /// An integer parameter as read (its table default when missing or invalid).
    fn int(&self, key: &str) -> i64 {
        self.ints.get(key).copied().unwrap_or_else(|| table::int_spec(key).2)
    }

    /// An optional choice parameter as read (its table default when missing or invalid).
    fn choice(&self, key: &str) -> &str {
        self.choices.get(key).copied().unwrap_or_else(|| table::choice_default(key))
    }

    /// A boolean parameter as read (its table default when missing or invalid).
    fn bool(&self, key: &str) -> bool {
        self.bools.get(key).copied().unwrap_or_else(|| table::bool_default(key))
    }

    /// The configuration, or one `CONFIG_INVALID` listing every problem (with the warnings).
    fn finish(mut self, extra: &[(&str, String)]) -> Result<Parsed, Error> {
        for (what, why) in extra {
            self.problems.add(what, why);
        }
        let red = &self.red;
        if !self.problems.0.is_empty() {
            let n = self.problems.0.len();
            let mut message = format!(
                "{n} problem{} in the feed's Custom Parameters (Transport tab){}; fix {} and run the feed again:",
                if n == 1 { "" } else { "s" },
                if extra.is_empty() { "" } else { " and tokens" },
                if n == 1 { "it" } else { "them" }
            );
            for line in &self.problems.0 {
                message.push('\n');
                message.push_str(line);
            }
            // Warnings may explain a problem (a mistyped key leaves its value at the default).
            if !self.warnings.is_empty() {
                message.push_str("\nalso worth checking:");
                for w in &self.warnings {
                    message.push('\n');
                    message.push_str(w);
                }
            }
            return Err(Error::config(ErrorCode::ConfigInvalid, red.scrub(&text::lines(&red.scrub(&message)))));
        }
        let warnings = self.warnings.iter().map(|w| red.scrub(&text::line(&red.scrub(w)))).collect();
        let Some(data_source) = self.data_source else {
            // Unreachable: a missing data source is a problem above. Kept total without panicking.
            return Err(Error::config(
                ErrorCode::ConfigInvalid,
                format!("dataSource: missing; set it to one of {DATA_SOURCE_VALUES}"),
            ));
        };
        let config = Config {
            data_source,
            url_template: std::mem::take(&mut self.url_template),
            username: std::mem::take(&mut self.username),
            password: std::mem::replace(&mut self.password, Secret::new("")),
            batch_size: to_u32(self.int("batchSize")),
            requests_per_min: to_u32(self.int("requestsPerMin")),
            socket_limit: to_u32(self.int("socketLimit")),
            max_retry: to_u32(self.int("maxRetry")),
            retry_delay_sec: to_u32(self.int("retryDelaySec")),
            proxy: self.proxy.take(),
            verify_certs: self.bool("verifyCerts"),
            ca_cert: self.ca_cert.take(),
            last_run_time_offset_days: self.int("lastRunTimeOffset"),
            root_node: self.root_node.take(),
            request_timeout_sec: to_u32(self.int("requestTimeoutSec")),
            wait_budget_sec: to_u32(self.int("waitBudgetSec")),
            max_record_bytes: to_usize(self.int("maxRecordMB")).saturating_mul(MIB),
            output_chunk_records: to_u32(self.int("outputChunkRecords")),
            output_chunk_bytes: to_usize(self.int("outputChunkMB")).saturating_mul(MIB),
            kb_chunk_size: to_u32(self.int("kbChunkSize")),
            concurrency: to_u32(self.int("concurrency")),
            output_shape: Shape::from_param(self.choice("outputShape")).unwrap_or_default(),
            http_method: match self.choice("httpMethod") {
                "GET" => HttpMethod::Get,
                "POST" => HttpMethod::Post,
                _ => HttpMethod::Auto,
            },
            skip_stalled_hosts: self.bool("skipStalledHosts"),
            detection_key: DetectionKey::from_param(self.choice("detectionKey")).unwrap_or_default(),
            test_connection: self.bool("testConnection"),
        };
        Ok(Parsed { config, warnings })
    }
}

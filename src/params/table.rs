//! The Custom Parameters, one row each: key, kind (with range or values), default, whether it is
//! required, a one-line summary and the README's "Meaning" text. Validation (`super::check`), the
//! defaults of [`super::Config`], the wasm export `parameters()` (the CLI's help), README.md's
//! "## Custom Parameters" table and `pkg-template/index.d.ts`'s `CustomParameters` all come from
//! [`PARAMS`] (tests/params_doc.rs fails when the README or the typings disagree with it).
//!
//! The order of the rows is the order in which parameters are checked (and so the order of the
//! problems in a `CONFIG_INVALID` message) and documented.
//!
//! Adding a parameter: one row here, a [`super::Config`] field read from it in `super::parse`, and
//! the README and typings lines the test prints.

/// What a parameter's value is and how it is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A plain decimal whole number in `min..=max` (a leading `-` only where `min < 0`).
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
        /// The value when the parameter is missing or empty.
        default: i64,
    },
    /// `true` or `false`, any case.
    Boolean {
        /// The value when the parameter is missing or empty.
        default: bool,
    },
    /// One of these exact (case-sensitive) values; when the parameter is optional, the first value
    /// is its default.
    Choice(&'static [&'static str]),
    /// An http(s) URL (https except to the local machine), `<LastRunTime>` allowed.
    Url,
    /// A secret: never echoed, masked wherever it could appear.
    Secret,
    /// PEM certificate text.
    Pem,
    /// `http://[user:password@]host:port`.
    Proxy,
    /// An XML element name.
    XmlName,
    /// Free text (checked by its own rule, e.g. the user name).
    Text,
}

impl Kind {
    /// `"integer"`, `"boolean"`, `"choice"`, `"url"`, `"secret"`, `"pem"`, `"proxy"`, `"xmlName"`
    /// or `"text"` (the `kind` of the wasm export `parameters()`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Integer { .. } => "integer",
            Kind::Boolean { .. } => "boolean",
            Kind::Choice(_) => "choice",
            Kind::Url => "url",
            Kind::Secret => "secret",
            Kind::Pem => "pem",
            Kind::Proxy => "proxy",
            Kind::XmlName => "xmlName",
            Kind::Text => "text",
        }
    }
}

/// Whether a parameter must be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Required {
    /// Every run needs it.
    Always,
    /// Needed when the data source uses it (the URL keys).
    ForItsDataSource,
    /// Optional: missing or empty means the default.
    No,
}

impl Required {
    /// `"always"`, `"forItsDataSource"` or `"no"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Required::Always => "always",
            Required::ForItsDataSource => "forItsDataSource",
            Required::No => "no",
        }
    }
}

/// One Custom Parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// The key, case-sensitive, exactly as in Archer's Transport tab.
    pub key: &'static str,
    /// What the value is (range, values, default for numbers and booleans).
    pub kind: Kind,
    /// Whether it must be given.
    pub required: Required,
    /// The README's "Default" cell for kinds without a typed default (`(required)`, `(none)`, ...).
    pub default_text: &'static str,
    /// The README's "Range / values" cell for kinds other than [`Kind::Integer`] (whose range is
    /// written from `min` and `max`).
    pub values_text: &'static str,
    /// One line for the CLI's help.
    pub summary: &'static str,
    /// The README's "Meaning" cell.
    pub doc: &'static str,
}

impl Param {
    /// The README's "Default" cell: the number, `**True**`/`False`, or [`Param::default_text`].
    pub fn readme_default(&self) -> String {
        match self.kind {
            Kind::Integer { default, .. } => default.to_string(),
            Kind::Boolean { default: true } => "**True**".to_string(),
            Kind::Boolean { default: false } => "False".to_string(),
            _ => self.default_text.to_string(),
        }
    }

    /// The README's "Range / values" cell (`1-1,000,000` for a number, else [`Param::values_text`]).
    pub fn readme_values(&self) -> String {
        match self.kind {
            Kind::Integer { min, max, .. } => format!("{}-{}", grouped(min), grouped(max)),
            _ => self.values_text.to_string(),
        }
    }

    /// The README table row of this parameter.
    pub fn readme_row(&self) -> String {
        let mut row = String::from("|");
        for cell in [format!("`{}`", self.key), self.readme_default(), self.readme_values(), self.doc.to_string()] {
            if !cell.is_empty() {
                row.push(' ');
                row.push_str(&cell);
            }
            row.push_str(" |");
        }
        row
    }
}

/// A number as the README writes it: thousands separated by `,` from 10,000 on.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    if n.unsigned_abs() < 10_000 {
        return format!("{sign}{digits}");
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

const URL_VALUES: &str = "https URL (plain http only to localhost/127.x/::1)";
const URL_DOC: &str =
    "Qualys API URL; each `<LastRunTime>` is replaced by the resolved date; no placeholder = used as given";
const REQUIRED_FOR_SOURCE: &str = "(required for its data source)";

const fn int(key: &'static str, min: i64, max: i64, default: i64, summary: &'static str, doc: &'static str) -> Param {
    Param {
        key,
        kind: Kind::Integer { min, max, default },
        required: Required::No,
        default_text: "",
        values_text: "",
        summary,
        doc,
    }
}

const fn url(key: &'static str, summary: &'static str) -> Param {
    Param {
        key,
        kind: Kind::Url,
        required: Required::ForItsDataSource,
        default_text: REQUIRED_FOR_SOURCE,
        values_text: URL_VALUES,
        summary,
        doc: URL_DOC,
    }
}

/// The Custom Parameters of RSA's `Signed-QualysAPI_V1_0_8.js`: each keeps its meaning here (the
/// drop-in promise; docs/UPGRADE-FROM-RSA.md lists them under "What stays the same").
pub const RSA_KEYS: [&str; 12] = [
    "dataSource",
    "kbUrl",
    "hostsUrl",
    "detectionUrl",
    "username",
    "password",
    "batchSize",
    "requestsPerMin",
    "socketLimit",
    "maxRetry",
    "proxy",
    "verifyCerts",
];

/// Every Custom Parameter, in the order they are checked and documented.
pub const PARAMS: &[Param] = &[
    Param {
        key: "dataSource",
        kind: Kind::Choice(&["kb", "hosts", "hostDetections", "detections"]),
        required: Required::Always,
        default_text: "(required)",
        values_text: "`kb`, `hosts`, `hostDetections`, `detections` (exact)",
        summary: "Which Qualys data to extract: kb, hosts, hostDetections or detections.",
        doc: "Which Qualys data to extract",
    },
    url("kbUrl", "Qualys KnowledgeBase API URL (dataSource=kb); <LastRunTime> is replaced by the resolved date."),
    url("hostsUrl", "Qualys host list API URL (dataSource=hosts); <LastRunTime> is replaced by the resolved date."),
    url(
        "detectionUrl",
        "Qualys host detection API URL (dataSource=hostDetections or detections); <LastRunTime> is replaced by the resolved date.",
    ),
    Param {
        key: "username",
        kind: Kind::Text,
        required: Required::Always,
        default_text: "(required)",
        values_text: "no `:`",
        summary: "Qualys API user name.",
        doc: "Qualys API user",
    },
    Param {
        key: "password",
        kind: Kind::Secret,
        required: Required::Always,
        default_text: "(required)",
        values_text: "",
        summary: "Qualys API password (mark it Protected); never logged.",
        doc: "Qualys API password (mark it Protected); never logged",
    },
    int("batchSize", 1, 1_000_000, 500, "Records per page (truncation_limit) for hosts and detections.", "`truncation_limit` (hosts per page) for hosts/detections; ignored when the URL sets `truncation_limit`"),
    int("requestsPerMin", 1, 10_000, 60, "Most requests started in any 60-second window.", "No more than this many requests start in any 60-second window"),
    int("socketLimit", 1, 25, 10, "Most open sockets to Qualys.", "Max open sockets to Qualys"),
    int("maxRetry", 0, 2, 1, "Retries of a failed page.", "Retries of a failed page (reset connection, timeout, cut-off page, 5xx, Qualys internal error)"),
    int("retryDelaySec", 0, 300, 5, "Seconds before the first retry; each further retry waits 3x longer.", "Wait before the first retry; each further retry waits 3x longer"),
    int("lastRunTimeOffset", -3650, 0, -1, "Days added to LastRunTime.", "Days added to LastRunTime (the seed's one-day overlap)"),
    int("requestTimeoutSec", 5, 3600, 300, "Seconds a request may receive nothing; a whole response may take 6x this.", "Idle limit of a request: the longest Qualys (or the proxy) may send nothing, before the answer or between body chunks; a whole response may take at most 6 x this (30 min at 300 s)"),
    int("waitBudgetSec", 0, 86_400, 7200, "Total seconds a run may wait on Qualys rate/concurrency limits.", "Total seconds a run may wait on Qualys rate/concurrency limits (409, 429, `X-RateLimit-Remaining: 0` holds) before failing; the default covers a full standard 3600 s window"),
    int("maxRecordMB", 1, 1024, 64, "Largest single record in MiB; bounds memory.", "Largest single record (MiB); bounds memory"),
    int("outputChunkRecords", 1, 100_000, 1000, "Records per writeItem call.", "Records per `writeItem` call"),
    int("outputChunkMB", 1, 256, 4, "MiB per writeItem call.", "Bytes per `writeItem` call (MiB)"),
    int("kbChunkSize", 0, 100_000, 1000, "kb: QIDs per request after listing them first; 0 = one request.", "kb: list the matching QIDs first (`details=None`), then fetch them in ID ranges of this many QIDs, each retried on its own; `0` = one request as the old script did; a `kbUrl` with `ids`/`id_min`/`id_max` is used as given"),
    int("concurrency", 1, 10, 1, "ID ranges fetched in parallel after listing the matching IDs.", "hosts/detections (and the KB's ID ranges): fetch this many ID ranges in parallel after listing the matching host IDs; never above Qualys's `X-Concurrency-Limit-Limit` minus one; `requestsPerMin` still counts all of them together"),
    Param {
        key: "httpMethod",
        kind: Kind::Choice(&["auto", "GET", "POST"]),
        required: Required::No,
        default_text: "`auto`",
        values_text: "`auto`, `GET`, `POST` (exact)",
        summary: "auto (GET, or POST once a URL is over 2,000 bytes or Qualys answers 414), GET or POST.",
        doc: "`auto`: GET as the old script did, switching to POST (the query as an `application/x-www-form-urlencoded` body) for the rest of the run once a request URL is longer than 2,000 bytes or Qualys answers 414; `GET` / `POST`: always that method",
    },
    Param {
        key: "skipStalledHosts",
        kind: Kind::Boolean { default: false },
        required: Required::No,
        default_text: "",
        values_text: "True/False (any case)",
        summary: "Skip a host Qualys cannot deliver even alone (listed in a WARN and the summary) instead of failing.",
        doc: "hosts/detections: a host that Qualys cannot deliver even in a page of its own (timeouts, 5xx) is skipped, named in a WARN and listed in the summary (`stalledHostsSkipped`), instead of failing the run",
    },
    Param {
        key: "verifyCerts",
        kind: Kind::Boolean { default: true },
        required: Required::No,
        default_text: "",
        values_text: "True/False (any case)",
        summary: "Check Qualys's TLS certificate (default true).",
        doc: "Check Qualys's TLS certificate",
    },
    Param {
        key: "caCert",
        kind: Kind::Pem,
        required: Required::No,
        default_text: "(none)",
        values_text: "PEM text",
        summary: "Extra CA certificate (PEM) to trust.",
        doc: "Extra CA to trust (private CA or TLS-inspecting proxy)",
    },
    Param {
        key: "proxy",
        kind: Kind::Proxy,
        required: Required::No,
        default_text: "(none)",
        values_text: "`http://[user:password@]host:port`",
        summary: "HTTP proxy, http://[user:password@]host:port.",
        doc: "HTTP proxy; encode `@ : /` in credentials as `%40 %3A %2F`",
    },
    Param {
        key: "rootNode",
        kind: Kind::XmlName,
        required: Required::No,
        default_text: "per data source (below)",
        values_text: "XML name",
        summary: "Root element of the output (default per data source).",
        doc: "Root element of the output",
    },
    Param {
        key: "outputShape",
        kind: Kind::Choice(&["records", "qualys"]),
        required: Required::No,
        default_text: "`records`",
        values_text: "`records`, `qualys` (exact)",
        summary: "records (default): Archer records with the ARCHER_* key fields; qualys: each VULN / HOST as Qualys sent it.",
        doc: "Shape of each output record: `records` = one `VULN` / `HOST` / `DETECTION` record with the `ARCHER_*` key fields (Output schema); `qualys` = each `VULN` / `HOST` (with its `DETECTION_LIST` for the detection sources) as Qualys sent it, for a feed whose XSLT reads Qualys's own XML",
    },
    Param {
        key: "detectionKey",
        kind: Kind::Choice(&["seed", "uniqueVulnId", "hostQid"]),
        required: Required::No,
        default_text: "`seed`",
        values_text: "`seed`, `uniqueVulnId`, `hostQid` (exact)",
        summary: "detections: what ARCHER_DETECTION_KEY is made of: seed (the old script's key), uniqueVulnId or hostQid.",
        doc: "detections: what `ARCHER_DETECTION_KEY` is made of: `seed` the old script's key, `uniqueVulnId` Qualys's `UNIQUE_VULN_ID` (API 3.0 and later; else the seed's key, said once in the log), `hostQid` `HOST_ID\\|QID\\|PORT\\|PROTOCOL\\|SSL\\|INSTANCE`; see \"Detection keys\" below",
    },
    Param {
        key: "testConnection",
        kind: Kind::Boolean { default: false },
        required: Required::No,
        default_text: "",
        values_text: "True/False (any case)",
        summary: "Only test the connection (one light request); always ends as failed so LastRunTime stays.",
        doc: "Test the connection instead of running: one light request, no record written, a PASS/FAIL line per check (DNS/TCP, proxy, TLS, credentials, endpoint, API version, LastRunTime, limits); always ends as failed on purpose so Archer keeps LastRunTime and PreviousRunContext",
    },
];

/// The row of `key`, if it is a Custom Parameter.
pub fn find(key: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.key == key)
}

/// The `(min, max, default)` of an integer parameter; `(0, 0, 0)` for any other key (a test checks
/// that every integer the configuration reads is in the table).
pub fn int_spec(key: &str) -> (i64, i64, i64) {
    match find(key).map(|p| p.kind) {
        Some(Kind::Integer { min, max, default }) => (min, max, default),
        _ => (0, 0, 0),
    }
}

/// The value of an optional choice parameter when it is missing or empty: its first value (`""` for
/// any other key).
pub fn choice_default(key: &str) -> &'static str {
    match find(key).map(|p| (p.kind, p.required)) {
        Some((Kind::Choice(values), Required::No)) => values.first().copied().unwrap_or(""),
        _ => "",
    }
}

/// The default of a boolean parameter (`false` for any other key).
pub fn bool_default(key: &str) -> bool {
    matches!(find(key).map(|p| p.kind), Some(Kind::Boolean { default: true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_ranges_hold_their_defaults() {
        for (i, p) in PARAMS.iter().enumerate() {
            assert!(PARAMS.iter().skip(i + 1).all(|q| q.key != p.key), "{} twice", p.key);
            if let Kind::Integer { min, max, default } = p.kind {
                assert!(min <= default && default <= max, "{}", p.key);
            }
            assert!(!p.summary.is_empty() && !p.doc.is_empty(), "{}", p.key);
        }
        assert_eq!(choice_default("outputShape"), "records");
        assert_eq!(choice_default("dataSource"), "", "a required choice has no default");
        let shapes: Vec<&str> = crate::records::Shape::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(find("outputShape").map(|p| p.kind), Some(Kind::Choice(&["records", "qualys"])));
        assert_eq!(shapes, ["records", "qualys"], "the outputShape values are the shapes, default first");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(-3650), "-3650");
        assert_eq!(grouped(86_400), "86,400");
    }
}

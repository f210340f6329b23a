//! Test support shared by the parser tests (tests/response_fixtures.rs, tests/fuzz_smoke.rs), the
//! feed scenarios (tests/feed_scenarios.rs, tests/feed_trust.rs) and the cargo-fuzz target
//! (fuzz/fuzz_targets/response_parser.rs, which includes this file by path): running the response
//! parser over a sequence of chunks, a deterministic PRNG for chunkings, and the Custom Parameters
//! and URL queries of the fake Qualys the feed scenarios talk to, one loop that drives a feed to
//! its end (tests/feed_keys.rs, tests/feed_versions.rs), and the sink that reads an output document
//! back into records (tests/output_reference.rs, tests/output_roundtrip.rs).
#![allow(dead_code)]

use qualys_vm_transporter::response::{DocKind, Item, Limits, ResponseParser};

/// What one parse produced: the items, and `Ok` or the error's (code, message).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub items: Vec<Item>,
    pub result: Result<(), (String, String)>,
}

/// Parses a document pushed as `chunks`, stopping at the first error like the feed does.
pub fn run<'a>(kind: DocKind, limits: Limits, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut parser = ResponseParser::new(kind, limits);
    let mut items = Vec::new();
    for chunk in chunks {
        if let Err(e) = parser.push(chunk, &mut items) {
            return Outcome { items, result: Err((e.code().to_string(), e.message().to_string())) };
        }
    }
    let result = parser.finish(&mut items).map_err(|e| (e.code().to_string(), e.message().to_string()));
    Outcome { items, result }
}

/// A tiny deterministic PRNG (xorshift64*), so that failures reproduce.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Cuts `doc` into chunks whose sizes come from the PRNG, between 1 and `max`.
pub fn random_chunks<'a>(doc: &'a [u8], rng: &mut XorShift, max: usize) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < doc.len() {
        let end = (at + 1 + rng.below(max)).min(doc.len());
        chunks.push(&doc[at..end]);
        at = end;
    }
    chunks
}

/// Custom Parameters for `source` at `url` (user `alice`, password `password`), then `extra`, each
/// replacing a parameter of the same key.
pub fn feed_params(source: &str, url: &str, password: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let key = match source {
        "kb" => "kbUrl",
        "hosts" => "hostsUrl",
        _ => "detectionUrl",
    };
    let mut p = vec![
        ("dataSource".to_string(), source.to_string()),
        (key.to_string(), url.to_string()),
        ("username".to_string(), "alice".to_string()),
        ("password".to_string(), password.to_string()),
    ];
    for (k, v) in extra {
        p.retain(|(pk, _)| pk != k);
        p.push((k.to_string(), v.to_string()));
    }
    p
}

/// The value of query parameter `key` in `url` (as written, not decoded).
pub fn query(url: &str, key: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v.to_string()))
}

/// What a feed driven to its end left: how it ended, its output, its WARN lines.
pub struct Driven {
    pub outcome: Result<qualys_vm_transporter::feed::Summary, qualys_vm_transporter::Error>,
    pub output: String,
    pub warns: Vec<String>,
}

/// Drives `feed` from `now` until it ends (at most 1,000 polls, else a panic): `send` answers each
/// request through the feed's `handle_*` methods; a wait moves the clock on by its length.
pub fn drive(
    feed: &mut qualys_vm_transporter::feed::Feed,
    mut now: i64,
    mut send: impl FnMut(&mut qualys_vm_transporter::feed::Feed, &qualys_vm_transporter::request::Request, i64),
) -> Driven {
    use qualys_vm_transporter::feed::{Action, Level};
    let (mut output, mut warns) = (String::new(), Vec::new());
    for _ in 0..1000 {
        let outcome = match feed.poll(now) {
            Action::Send(req) => {
                send(feed, &req, now);
                None
            }
            Action::Wait { ms, .. } => {
                now += i64::try_from(ms).unwrap_or(0);
                None
            }
            Action::Pending => panic!("nothing in flight"),
            Action::Done(s) => Some(Ok(s)),
            Action::Fail(e) => Some(Err(e)),
        };
        while let Some(c) = feed.take_output() {
            output.push_str(&c.xml);
        }
        while let Some(l) = feed.take_log() {
            if l.level == Level::Warn {
                warns.push(l.text);
            }
        }
        if let Some(outcome) = outcome {
            return Driven { outcome, output, warns };
        }
        now += 10;
    }
    panic!("the feed did not end");
}

/// A push-reader sink capturing every child of the root element (the records under Archer's root
/// node) as owned elements; a parser notice fails the test (the output must be clean XML).
#[derive(Default)]
pub struct Records(pub Vec<qualys_vm_transporter::xml::Element>);

impl qualys_vm_transporter::xml::push_reader::Sink for Records {
    fn open(
        &mut self,
        path: &[String],
        _name: &str,
    ) -> Result<qualys_vm_transporter::xml::push_reader::Capture, qualys_vm_transporter::Error> {
        use qualys_vm_transporter::xml::push_reader::Capture;
        Ok(if path.len() == 1 { Capture::Tree } else { Capture::Skip })
    }
    fn captured(
        &mut self,
        _path: &[String],
        tree: qualys_vm_transporter::xml::Tree,
    ) -> Result<(), qualys_vm_transporter::Error> {
        self.0.push(tree.to_element());
        Ok(())
    }
    fn close(&mut self, _path: &[String], _name: &str) -> Result<(), qualys_vm_transporter::Error> {
        Ok(())
    }
    fn notice(&mut self, text: String) {
        panic!("the output produced a parser notice: {text}");
    }
}

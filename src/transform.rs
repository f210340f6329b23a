//! Offline transform: one saved Qualys response in, Archer output chunks out.
//!
//! In scope: the same parsing, record shaping and chunking the feed uses, for a single document
//! with no paging, retries or HTTP (the CLI's `transform` command, the benchmarks, and the
//! offline main job). Out of scope: following next-page URLs (reported, not fetched).
//!
//! Keys written twice are checked here as in a feed (`crate::records::collisions`): a saved
//! response is often how an admin tries a `detectionKey` before changing the feed, and the check
//! costs about 1% of the transform (bench/KEYS.md). The counts are in the summary; the first few
//! collisions, named, are among the notices.

use crate::error::{Error, ErrorCode, Result};
use crate::output::Chunk;
use crate::params::DataSource;
use crate::pipeline::{Pipeline, DEFAULT_SEED};
use crate::records::collisions::Collisions;
use crate::records::keys::DetectionKey;
use crate::records::Shape;
use crate::response::{DocKind, Item, Limits, QualysReturn, ResponseParser};

/// Defaults for chunking when the caller has no parameters (match the feed's defaults).
pub const DEFAULT_CHUNK_RECORDS: u32 = 1000;
/// Default bytes per output chunk (4 MiB, the feed's default).
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// What an offline transform produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TransformSummary {
    /// Records written.
    pub records: u64,
    /// Input bytes.
    pub bytes_in: u64,
    /// Output bytes.
    pub bytes_out: u64,
    /// Output chunks.
    pub chunks: u32,
    /// The WARNING 1980 URL, when the document was one page of several.
    pub next_page: Option<String>,
    /// Parser notices (invalid UTF-8 replaced, unknown entities, ...) and the first few key
    /// collisions, named.
    pub notices: Vec<String>,
    /// Detection records whose `ARCHER_DETECTION_KEY` an earlier record already had.
    pub key_collisions: u64,
    /// Host records without an ID whose `ARCHER_DEVICE_LINK` an earlier such host already had.
    pub device_link_collisions: u64,
}

/// An offline transform of one saved Qualys response.
#[derive(Debug)]
pub struct Transform {
    parser: ResponseParser,
    /// Every record -> Archer records -> chunks -> the output queue (the feed's pipeline).
    pipeline: Pipeline,
    items: Vec<Item>,
    summary: TransformSummary,
    qualys: Option<QualysReturn>,
}

impl Transform {
    /// A transform of a `source` document into chunks of `chunk_records` records / `chunk_bytes` bytes.
    pub fn new(source: DataSource, chunk_records: u32, chunk_bytes: usize, limits: Limits) -> Self {
        Transform::with_shape(source, Shape::Records, chunk_records, chunk_bytes, limits)
    }

    /// [`Transform::new`] writing records in `shape` (`outputShape`).
    pub fn with_shape(
        source: DataSource,
        shape: Shape,
        chunk_records: u32,
        chunk_bytes: usize,
        limits: Limits,
    ) -> Self {
        Transform {
            parser: ResponseParser::new(DocKind::of(source), limits),
            pipeline: Pipeline::new(source, shape, chunk_records, chunk_bytes),
            items: Vec::new(),
            summary: TransformSummary::default(),
            qualys: None,
        }
    }

    /// The same transform writing `kind` detection keys (`detectionKey`; the seed's by default).
    pub fn with_detection_key(mut self, kind: DetectionKey) -> Self {
        self.pipeline.keys = Collisions::new(kind, DEFAULT_SEED);
        self
    }

    /// Pushes the next piece of the document; complete records become output right away.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        self.summary.bytes_in += chunk.len() as u64;
        let mut items = std::mem::take(&mut self.items);
        let r = self.parser.push(chunk, &mut items);
        self.absorb(&mut items);
        self.items = items;
        r
    }

    /// Ends the document. Fails on a truncated document or when Qualys answered with an error.
    pub fn finish(&mut self) -> Result<TransformSummary> {
        let mut items = std::mem::take(&mut self.items);
        let r = self.parser.finish(&mut items);
        self.absorb(&mut items);
        self.pipeline.flush();
        self.sync_output_counts();
        if let Some(advice) = self.pipeline.keys.summary_text() {
            self.summary.notices.push(advice);
        }
        r?;
        if let Some(q) = &self.qualys {
            return Err(Error::server(
                ErrorCode::QualysError,
                false,
                format!(
                    "the document is a Qualys {} (code {}): {}",
                    q.root,
                    q.code.as_deref().unwrap_or("none"),
                    q.text
                ),
            ));
        }
        Ok(self.summary.clone())
    }

    /// The next output chunk, in order.
    pub fn take_output(&mut self) -> Option<Chunk> {
        self.pipeline.take_output()
    }

    /// The counters so far.
    pub fn summary(&self) -> &TransformSummary {
        &self.summary
    }

    /// The summary's output counters, from the pipeline.
    fn sync_output_counts(&mut self) {
        self.summary.records = self.pipeline.records;
        self.summary.chunks = self.pipeline.chunks;
        self.summary.bytes_out = self.pipeline.bytes_out;
        self.summary.key_collisions = self.pipeline.keys.key_collisions;
        self.summary.device_link_collisions = self.pipeline.keys.device_link_collisions;
        self.summary.notices.extend(self.pipeline.keys.take_notes());
    }

    fn absorb(&mut self, items: &mut Vec<Item>) {
        for item in items.drain(..) {
            match item {
                Item::Record(tree) => {
                    self.pipeline.write(&tree);
                    self.parser.recycle(tree);
                    self.sync_output_counts();
                }
                Item::NextPage { url } => self.summary.next_page = Some(url),
                Item::QualysReturn(q) => self.qualys = Some(q),
                Item::Notice(n) => self.summary.notices.push(n),
                Item::Warning { .. } | Item::IdRange { .. } => {}
            }
        }
    }
}

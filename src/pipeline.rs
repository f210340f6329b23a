//! The one page-writing pipeline the feed and the offline transform share: an admitted record
//! (a captured [`Tree`]) is shaped into Archer records (`crate::records`), chunked
//! (`crate::output::Chunker`) and queued for the host's writer, with the counters of what left.
//!
//! In scope: shaping (in the run's [`Shape`]), chunking, the output queue and its counters (records,
//! chunks, bytes), the replaced-character count of the chunks written, the check for keys written
//! twice (`crate::records::collisions`, one per run). Out of scope: parsing (`crate::response`),
//! which records are admitted (`crate::plan`: the feed decides; the transform admits all), logging.

use std::collections::VecDeque;

use crate::output::{Chunk, Chunker};
use crate::qualys::DataSource;
use crate::records::collisions::Collisions;
use crate::records::keys::DetectionKey;
use crate::records::{self, Shape};
use crate::xml::escape::xml_char_ok;
use crate::xml::{Node, Tree};

/// The hash seed of the collision check when none is given (the offline transform).
pub const DEFAULT_SEED: u64 = 0x5152_5654_2D6B_6579;

/// Records of one data source on their way to the host's writer.
#[derive(Debug)]
pub struct Pipeline {
    source: DataSource,
    shape: Shape,
    chunker: Chunker,
    outputs: VecDeque<Chunk>,
    /// Records written.
    pub records: u64,
    /// Chunks completed (queued or taken).
    pub chunks: u32,
    /// Bytes of the completed chunks.
    pub bytes_out: u64,
    /// Every key written, checked for collisions.
    pub keys: Collisions,
    first_replaced: Option<FirstReplaced>,
}

/// Where characters XML 1.0 forbids were first met since the last report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstReplaced {
    /// The record's ID (host ID or QID), when it has one.
    pub id: Option<u64>,
    /// The element whose text or attribute held them (server text: render it with
    /// `crate::text::server_text`).
    pub element: String,
}

/// The first element (depth first) whose text or an attribute value holds a character XML 1.0
/// forbids.
fn forbidden_element(node: Node<'_>) -> Option<&str> {
    let bad = |t: &str| t.chars().any(|c| !xml_char_ok(c));
    if bad(node.text()) || node.attrs().any(|(_, v)| bad(v)) {
        return Some(node.name());
    }
    node.children().find_map(forbidden_element)
}

impl Pipeline {
    /// A pipeline writing `shape` records, closing a chunk at `chunk_records` records or about
    /// `chunk_bytes` bytes.
    pub fn new(source: DataSource, shape: Shape, chunk_records: u32, chunk_bytes: usize) -> Self {
        Pipeline {
            source,
            shape,
            chunker: Chunker::new(chunk_records, chunk_bytes),
            outputs: VecDeque::new(),
            records: 0,
            chunks: 0,
            bytes_out: 0,
            keys: Collisions::new(DetectionKey::Seed, DEFAULT_SEED),
            first_replaced: None,
        }
    }

    /// The same pipeline writing `kind` detection keys, hashing them with `seed` (for the
    /// collision check; a feed takes it from its start time, so a server cannot aim at it).
    pub fn with_detection_key(mut self, kind: DetectionKey, seed: u64) -> Self {
        self.keys = Collisions::new(kind, seed);
        self
    }

    /// Writes the records of one admitted element; returns how many.
    pub fn write(&mut self, tree: &Tree) -> u64 {
        let before = self.chunker.replaced_chars;
        let n = records::write(self.source, self.shape, tree, &mut self.chunker, &mut self.keys);
        if self.chunker.replaced_chars != before && self.first_replaced.is_none() {
            // Rare (a server sent characters XML 1.0 forbids): name where, once per flush.
            self.first_replaced = Some(FirstReplaced {
                id: records::id_of(self.source, tree),
                element: forbidden_element(tree.root()).unwrap_or_default().to_string(),
            });
        }
        self.records += n;
        self.drain();
        n
    }

    /// The first record since the last call whose text held characters XML 1.0 forbids (replaced
    /// by U+FFFD in the output): its ID and the element, for the warning that counts them.
    pub fn take_first_replaced(&mut self) -> Option<FirstReplaced> {
        self.first_replaced.take()
    }

    /// Closes the chunk in progress (end of a page or of the run) and returns how many characters
    /// XML 1.0 does not allow were replaced by U+FFFD since the last flush.
    pub fn flush(&mut self) -> u64 {
        self.chunker.flush();
        self.drain();
        std::mem::take(&mut self.chunker.replaced_chars)
    }

    /// The next output chunk, in order.
    pub fn take_output(&mut self) -> Option<Chunk> {
        self.outputs.pop_front()
    }

    fn drain(&mut self) {
        while let Some(chunk) = self.chunker.take_ready() {
            self.chunks += 1;
            self.bytes_out += chunk.xml.len() as u64;
            self.outputs.push_back(chunk);
        }
    }
}

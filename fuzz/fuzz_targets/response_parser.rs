//! libFuzzer target: the response parser never panics, and pushing the input in chunks gives the
//! same items and the same result (code and message) as pushing it whole.
//!
//! In scope: the same property as tests/fuzz_smoke.rs, driven by libFuzzer's coverage-guided inputs.
//! The first three bytes choose the expected document kind, an optional small record cap and the
//! chunking; the rest is the response body. Out of scope: checking what the items mean.
//!
//! Run with nightly: `cargo +nightly fuzz run response_parser` (from the crate root, with cargo-fuzz
//! installed); seed the corpus with tests/fixtures/real/*.xml.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qualys_vm_transporter::response::{DocKind, Limits};

#[path = "../../tests/common/mod.rs"]
mod common;
use common::run;

fuzz_target!(|data: &[u8]| {
    let (head, doc) = match data {
        [a, b, c, rest @ ..] => ([*a, *b, *c], rest),
        _ => return,
    };
    let kind = match head[0] % 3 {
        0 => DocKind::KnowledgeBase,
        1 => DocKind::HostList,
        _ => DocKind::Detections,
    };
    let limits =
        if head[1] & 1 == 1 { Limits { max_record_bytes: 16 + usize::from(head[1]) * 8 } } else { Limits::default() };
    // Chunk sizes from a small xorshift seeded by the third byte.
    let mut state = (u64::from(head[2]) * 0x9E37_79B9_7F4A_7C15) | 1;
    let max = 1 + usize::from(head[0] / 3) % 64;
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < doc.len() {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let size = 1 + (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % max as u64) as usize;
        let end = (at + size).min(doc.len());
        chunks.push(&doc[at..end]);
        at = end;
    }
    let whole = run(kind, limits, [doc]);
    let split = run(kind, limits, chunks);
    assert_eq!(whole, split, "chunked parse differs from the whole parse");
});

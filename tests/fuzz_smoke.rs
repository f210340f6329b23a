//! Bounded, deterministic mutation fuzzing of `ResponseParser` on stable Rust.
//!
//! In scope: each real fixture (and a few hand-made edge documents) mutated with seeded random
//! operations (bit flips, inserted `<`, `&`, `]]>`, `<!--`, CDATA openers, references, bytes above
//! 0x7F, truncation, duplicated and deleted ranges), then parsed whole and in random chunks, with a
//! random record cap now and then. The only properties checked: nothing panics, and the chunked
//! parse gives the same items and the same result (error code and message) as the whole parse.
//! Out of scope: what the items are (tests/response_fixtures.rs checks that on unmutated inputs).
//!
//! 3,000 iterations by default (a few seconds in a debug build); set `FUZZ_ITERATIONS` to run more,
//! and `FUZZ_SEED` to start from another seed. A failure prints the seed and the mutated input.
//! The same property runs under libFuzzer in fuzz/fuzz_targets/response_parser.rs (nightly).

use std::panic::{catch_unwind, AssertUnwindSafe};

mod common;

use common::{random_chunks, run, XorShift};
use qualys_vm_transporter::response::{DocKind, Limits};

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real/");

const INSERTS: &[&[u8]] = &[
    b"<",
    b"&",
    b"]]>",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"</",
    b">",
    b"<!",
    b"<?",
    b"?>",
    b"&amp;",
    b"&#x41;",
    b"&foo;",
    b"&#0;",
    b"\r",
    b"\r\n",
    b"/>",
    b"\"",
    b"<X>",
    b"</X>",
    b"<!DOCTYPE x [",
    b"\xEF\xBB\xBF",
];

fn mutate(doc: &[u8], rng: &mut XorShift) -> Vec<u8> {
    let mut d = doc.to_vec();
    let ops = 1 + rng.below(4);
    for _ in 0..ops {
        let len = d.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 => {
                if at < len {
                    d[at] ^= 1 << rng.below(8);
                }
            }
            1 | 2 => {
                let ins = INSERTS[rng.below(INSERTS.len())];
                d.splice(at..at, ins.iter().copied());
            }
            3 => {
                let n = 1 + rng.below(4);
                let bytes: Vec<u8> = (0..n).map(|_| 0x80 | rng.below(0x80) as u8).collect();
                d.splice(at..at, bytes);
            }
            4 => d.truncate(at),
            5 => {
                let end = (at + 1 + rng.below(200)).min(len);
                if at < end {
                    let copy = d[at..end].to_vec();
                    let to = rng.below(d.len() + 1);
                    d.splice(to..to, copy);
                }
            }
            6 => {
                let end = (at + 1 + rng.below(50)).min(len);
                if at < end {
                    d.drain(at..end);
                }
            }
            7 => {
                if at < len {
                    d[at] = rng.below(256) as u8;
                }
            }
            _ => {
                // Replace one byte with a markup character.
                if at < len {
                    const MARKUP: &[u8] = b"<>&;![]-?/\"'=";
                    d[at] = MARKUP[rng.below(MARKUP.len())];
                }
            }
        }
    }
    d
}

fn corpus() -> Vec<(String, DocKind, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(REAL)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".xml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut corpus: Vec<(String, DocKind, Vec<u8>)> = names
        .into_iter()
        .filter_map(|name| {
            let kind = if name.contains("_kb_") {
                DocKind::KnowledgeBase
            } else if name.contains("host_list_") && !name.contains("detections") {
                DocKind::HostList
            } else {
                DocKind::Detections
            };
            std::fs::read(format!("{REAL}{name}")).ok().map(|doc| (name, kind, doc))
        })
        .collect();
    assert!(corpus.len() >= 14, "fixtures missing: {}", corpus.len());
    let extra: [(&str, DocKind, &[u8]); 3] = [
        (
            "paging",
            DocKind::HostList,
            b"<?xml version=\"1.0\"?><HOST_LIST_OUTPUT><RESPONSE><ID_SET><ID>1</ID><ID_RANGE>3-9</ID_RANGE></ID_SET><HOST_LIST><HOST><ID>1</ID><T a=\"x&amp;y\">&lt;&#233;</T></HOST></HOST_LIST><WARNING><CODE>1980</CODE><TEXT>more</TEXT><URL><![CDATA[https://q/?a=1&id_min=2]]></URL></WARNING></RESPONSE></HOST_LIST_OUTPUT>",
        ),
        (
            "generic",
            DocKind::KnowledgeBase,
            b"<GENERIC_RETURN><API name=\"x\" at=\"2020\"/><RETURN status=\"FAILED\" number=\"999\">Internal error</RETURN></GENERIC_RETURN><!-- sig -->",
        ),
        ("html", DocKind::Detections, b"<!DOCTYPE html><html><head><title>502</title></head><body>Bad gateway</body></html>"),
    ];
    corpus.extend(extra.into_iter().map(|(n, k, d)| (n.to_string(), k, d.to_vec())));
    corpus
}

#[test]
fn mutated_fixtures_never_panic_and_chunking_never_changes_the_result() {
    let iterations: usize = std::env::var("FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let base_seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED);
    let corpus = corpus();
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for iteration in 0..iterations {
        let seed = base_seed.wrapping_add(iteration as u64);
        let mut rng = XorShift::new(seed);
        // The large KB fixture is 82 kB: pick it less often to keep the run short.
        let mut pick = rng.below(corpus.len());
        if corpus[pick].2.len() > 50_000 && rng.below(4) != 0 {
            pick = rng.below(corpus.len());
        }
        let (name, kind, doc) = &corpus[pick];
        let input = mutate(doc, &mut rng);
        let limits =
            if rng.below(5) == 0 { Limits { max_record_bytes: 64 + rng.below(4000) } } else { Limits::default() };
        let max_chunk = [1, 2, 7, 64, 1000, 100_000][rng.below(6)];
        let checked = catch_unwind(AssertUnwindSafe(|| {
            let want = run(*kind, limits, [&input[..]]);
            let got = run(*kind, limits, random_chunks(&input, &mut rng, max_chunk));
            (want, got)
        }));
        let show = || {
            let text = String::from_utf8_lossy(&input);
            let shown: String = text.chars().take(3000).collect();
            format!("iteration {iteration} (FUZZ_SEED={base_seed}), fixture {name}, cap {limits:?}, chunks <= {max_chunk}, input:\n{shown}")
        };
        match checked {
            Err(_) => panic!("parser panicked: {}", show()),
            Ok((want, got)) => {
                if want != got {
                    panic!(
                        "chunked parse differs from whole parse: whole {:?} / chunked {:?}; {}",
                        want.result,
                        got.result,
                        show()
                    );
                }
                let code = want.result.as_ref().err().map_or("ok".to_string(), |(c, _)| c.clone());
                *codes.entry(code).or_default() += 1;
            }
        }
    }
    println!("outcomes over {iterations} mutated inputs: {codes:?}");
}

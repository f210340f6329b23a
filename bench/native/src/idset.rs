//! Memory and speed of the run-wide written-ID set (`qualys_vm_transporter::plan::IdSet`) at
//! 1,000,000 IDs, the numbers behind bench/IDSET.md.
//!
//! usage: cargo run --release --manifest-path bench/native/Cargo.toml --bin qvt-bench-idset [n]
//! Memory is measured with a counting global allocator (bytes live after building the set, the
//! allocator's own headers not included) and cross-checked with `IdSet::heap_bytes`. Time is the
//! best of 5 builds (inserts), and of 5 passes of lookups. BTreeSet<u64> and HashSet<u64> are shown
//! for scale.

use std::collections::{BTreeSet, HashSet};
use std::hint::black_box;
use std::time::Instant;

use qualys_vm_transporter::plan::IdSet;

mod support;
use support::Rng;

#[global_allocator]
static GLOBAL: support::Counting = support::Counting;

/// `n` IDs ascending with random gaps from 10^7 to about 1.5*10^8 (Qualys-like host IDs).
fn sparse(n: usize) -> Vec<u64> {
    let mut rng = Rng(0x1D5E7);
    let span = 140_000_000u64;
    let max_gap = (2 * span / n as u64).max(2);
    let mut id = 10_000_000u64;
    (0..n)
        .map(|_| {
            id += 1 + rng.next() % (max_gap - 1);
            id
        })
        .collect()
}

/// The same IDs in pages of 500, each page shuffled (real pages are not always sorted).
fn pages_unsorted(ids: &[u64]) -> Vec<u64> {
    let mut rng = Rng(0xBEEF);
    let mut out = ids.to_vec();
    for page in out.chunks_mut(500) {
        for i in (1..page.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            page.swap(i, j);
        }
    }
    out
}

/// The same IDs in a random order over the whole run (e.g. windows finishing out of order).
fn shuffled(ids: &[u64]) -> Vec<u64> {
    let mut rng = Rng(0xF00D);
    let mut out = ids.to_vec();
    for i in (1..out.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

fn measure<S>(ids: &[u64], build: impl Fn(&[u64]) -> S, has: impl Fn(&S, u64) -> bool) -> (usize, f64, f64) {
    let before = support::live();
    let set = build(ids);
    let bytes = support::live().saturating_sub(before);
    let mut best_insert = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        black_box(build(black_box(ids)));
        best_insert = best_insert.min(t.elapsed().as_secs_f64());
    }
    let mut best_lookup = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let mut found = 0usize;
        for &id in ids {
            found += usize::from(has(&set, black_box(id)));
        }
        assert_eq!(found, ids.len());
        best_lookup = best_lookup.min(t.elapsed().as_secs_f64());
    }
    let n = ids.len() as f64;
    (bytes, best_insert * 1e9 / n, best_lookup * 1e9 / n)
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let sparse_ids = sparse(n);
    let cases: Vec<(&str, Vec<u64>)> = vec![
        ("sparse, ascending (10^7..1.5*10^8, random gaps)", sparse_ids.clone()),
        ("sparse, pages of 500 each shuffled", pages_unsorted(&sparse_ids)),
        ("sparse, whole run shuffled", shuffled(&sparse_ids)),
        ("dense, consecutive from 10^7", (10_000_000..10_000_000 + n as u64).collect()),
        ("worst case: one ID per 65,536-ID block", (0..n as u64).map(|i| i << 16).collect()),
    ];
    println!("{n} IDs; bytes live after building the set (allocator headers not included); best of 5 runs");
    println!();
    println!("| IDs | set | bytes | bytes/ID | insert ns/ID | lookup ns/ID |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, ids) in &cases {
        let (bytes, ins, look) = measure(
            ids,
            |ids| {
                let mut s = IdSet::new();
                for &id in ids {
                    s.insert(id);
                }
                s
            },
            |s, id| s.contains(id),
        );
        let mut check = IdSet::new();
        ids.iter().for_each(|&id| {
            check.insert(id);
        });
        assert_eq!(check.len(), ids.len());
        let (blocks, bitmaps) = check.blocks();
        println!(
            "| {name} | IdSet ({blocks} blocks, {bitmaps} bitmaps; heap_bytes {}) | {bytes} | {:.2} | {ins:.1} | {look:.1} |",
            check.heap_bytes(),
            bytes as f64 / ids.len() as f64
        );
        if name.starts_with("sparse, ascending") {
            let (b, i, l) = measure(ids, |ids| ids.iter().copied().collect::<BTreeSet<u64>>(), |s, id| s.contains(&id));
            println!("| {name} | BTreeSet<u64> | {b} | {:.2} | {i:.1} | {l:.1} |", b as f64 / ids.len() as f64);
            let (b, i, l) = measure(ids, |ids| ids.iter().copied().collect::<HashSet<u64>>(), |s, id| s.contains(&id));
            println!("| {name} | HashSet<u64> | {b} | {:.2} | {i:.1} | {l:.1} |", b as f64 / ids.len() as f64);
        }
    }
}

//! Memory and speed of the check for keys written twice
//! (`qualys_vm_transporter::records::collisions`) at 1,000,000 detections, the numbers behind
//! bench/KEYS.md.
//!
//! usage: cargo run --release --manifest-path bench/native/Cargo.toml --bin qvt-bench-keys [n]
//! The subscription: n detections on n/20 hosts (host IDs ascending with gaps, 85% with a DNS
//! name, like the simulator's), keys as each `detectionKey` writes them, prepared before timing.
//! Memory: bytes live after the run (counting global allocator, the allocator's own headers not
//! included) and the peak while it ran (the table doubles: old and new briefly coexist), cross-
//! checked with `KeyTable::heap_bytes`. Time: best of 5 runs, per detection (hash + table).

use std::hint::black_box;
use std::time::Instant;

use qualys_vm_transporter::records::collisions::Collisions;
use qualys_vm_transporter::records::keys::{DetectionKey, HostKey, KeyBasis};

mod support;
use support::Rng;

#[global_allocator]
static GLOBAL: support::Counting = support::Counting;

struct Host {
    id: String,
    dns: Option<String>,
    /// The host's keys one after the other (as the pipeline hashes a key right after writing it
    /// into the output chunk: in cache).
    keys: String,
    /// (end of the key in `keys`, QID, basis) of each detection.
    detections: Vec<(usize, String, KeyBasis)>,
}

/// `n` detections, 20 per host, with their keys as `kind` writes them.
fn subscription(n: usize, kind: DetectionKey) -> Vec<Host> {
    let mut rng = Rng(0x6B_6579);
    let mut id = 10_000_000u64;
    let mut hosts = Vec::new();
    let mut left = n;
    while left > 0 {
        id += 1 + rng.next() % 5_000;
        let dns = (rng.next() % 100 < 85).then(|| format!("web-{}.corp{}.example.com", id % 100_000, rng.next() % 40));
        let per = left.min(20);
        let mut qid = 10_000 + rng.next() % 1000;
        let mut keys = String::new();
        let detections = (0..per)
            .map(|_| {
                qid += 1 + rng.next() % 2_000;
                let port = [22, 80, 443, 8443, 3389][(rng.next() % 5) as usize];
                let uvid = id * 4_194_304 + qid;
                let (key, basis) = match (kind, &dns) {
                    (DetectionKey::UniqueVulnId, _) => (uvid.to_string(), KeyBasis::UniqueVulnId),
                    (DetectionKey::HostQid, _) => (format!("{id}|{qid}|{port}|tcp|0|"), KeyBasis::HostId),
                    (DetectionKey::Seed, Some(d)) => (format!("{d}|{qid}|{port}|tcp"), KeyBasis::Dns),
                    (DetectionKey::Seed, None) => {
                        (format!("{id}|{qid}|{port}|tcp|2025-01-02T03:04:05Z"), KeyBasis::HostId)
                    }
                };
                keys.push_str(&key);
                (keys.len(), qid.to_string(), basis)
            })
            .collect();
        hosts.push(Host { id: id.to_string(), dns, keys, detections });
        left -= per;
    }
    hosts
}

fn run(hosts: &[Host], kind: DetectionKey) -> Collisions {
    let mut c = Collisions::new(kind, 0x5EED);
    for h in hosts {
        let host_key = HostKey { id: &h.id, dns: h.dns.as_deref() };
        let seen = c.host(host_key, "10.0.0.1");
        let mut start = 0;
        for (end, qid, basis) in &h.detections {
            let key = h.keys.get(start..*end).unwrap_or("");
            start = *end;
            black_box(c.detection(key, *basis, seen, host_key, qid));
        }
    }
    c
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    println!("| detectionKey | detections | hosts | collisions | bytes live | bytes/detection | peak bytes | table bytes | ns/detection |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for kind in DetectionKey::ALL {
        let hosts = subscription(n, kind);
        let before = support::reset_peak();
        let c = run(&hosts, kind);
        let live = support::live().saturating_sub(before);
        let peak = support::peak().saturating_sub(before);
        let table = c.table().heap_bytes();
        let collisions = c.key_collisions;
        drop(c);
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            black_box(run(black_box(&hosts), kind));
            best = best.min(t.elapsed().as_secs_f64());
        }
        let group = |x: usize| {
            let s = x.to_string();
            let mut out = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(ch);
            }
            out
        };
        println!(
            "| {} | {} | {} | {} | {} | {:.2} | {} | {} | {:.1} |",
            kind.as_str(),
            group(n),
            group(hosts.len()),
            collisions,
            group(live),
            live as f64 / n as f64,
            group(peak),
            group(table),
            best * 1e9 / n as f64
        );
    }
}

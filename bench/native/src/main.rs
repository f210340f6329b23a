//! Native contender of the benchmark: the same `Transform` the wasm `Transformer` wraps, fed
//! 64 KiB chunks read from the file, output chunks drained and counted (never kept).
//!
//! usage: qvt-bench-native <kb|hosts|hostDetections|detections> <file> [chunkKiB]
//!        qvt-bench-native --floor <file>   (tokenizer floors, see src/floor.rs)
//! prints one JSON line: {"records","bytesIn","bytesOut","chunks","ms","hwmKiB"}

use std::fs::File;
use std::io::Read;
use std::time::Instant;

use qualys_vm_transporter::params::DataSource;
use qualys_vm_transporter::response::Limits;
use qualys_vm_transporter::transform::{Transform, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_RECORDS};

fn hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `--floor <file>`: the floors of src/floor.rs on the whole document in memory, natively.
fn floor(file: &str) {
    let input = std::fs::read(file).unwrap_or_else(|e| {
        eprintln!("cannot read {file}: {e}");
        std::process::exit(2);
    });
    let mut parts = Vec::new();
    for (name, f) in [
        ("validate", qvt_bench_floor::validate as fn(&[u8]) -> u64),
        ("tokenize", qvt_bench_floor::tokenize),
        ("tokens", qvt_bench_floor::tokens),
        ("stream_copy", qvt_bench_floor::stream_copy),
    ] {
        let mut best = f64::MAX;
        let mut result = 0;
        for _ in 0..3 {
            let t = Instant::now();
            result = f(&input);
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        parts.push(format!("\"{name}\":{{\"ms\":{best:.3},\"result\":{result}}}"));
    }
    println!("{{\"bytes\":{},{}}}", input.len(), parts.join(","));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--floor" {
        floor(&args[2]);
        return;
    }
    if args.len() < 3 {
        eprintln!("usage: {} <kb|hosts|hostDetections|detections> <file> [chunkKiB]", args[0]);
        std::process::exit(2);
    }
    let source = DataSource::from_param(&args[1]).unwrap_or_else(|| {
        eprintln!("unknown data source {:?}", args[1]);
        std::process::exit(2);
    });
    let chunk_kib: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(64);
    let mut file = File::open(&args[2]).unwrap_or_else(|e| {
        eprintln!("cannot open {}: {e}", args[2]);
        std::process::exit(2);
    });
    let mut buf = vec![0u8; chunk_kib * 1024];
    let start = Instant::now();
    let mut t = Transform::new(source, DEFAULT_CHUNK_RECORDS, DEFAULT_CHUNK_BYTES, Limits::default());
    let mut out_bytes: u64 = 0;
    let mut out_chunks: u64 = 0;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("read error: {e}");
                std::process::exit(1);
            }
        };
        if let Err(e) = t.push(&buf[..n]) {
            eprintln!("transform failed: {e:?}");
            std::process::exit(1);
        }
        while let Some(c) = t.take_output() {
            out_bytes += c.xml.len() as u64;
            out_chunks += 1;
        }
    }
    let summary = match t.finish() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("transform failed at the end: {e:?}");
            std::process::exit(1);
        }
    };
    while let Some(c) = t.take_output() {
        out_bytes += c.xml.len() as u64;
        out_chunks += 1;
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{{\"records\":{},\"bytesIn\":{},\"bytesOut\":{},\"chunks\":{},\"ms\":{:.3},\"hwmKiB\":{}}}",
        summary.records,
        summary.bytes_in,
        out_bytes,
        out_chunks,
        ms,
        hwm_kib()
    );
}

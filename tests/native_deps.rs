//! The native build must not depend on wasm-bindgen or any of its JS-binding crates: those live
//! under `[target.'cfg(target_arch = "wasm32")']` in Cargo.toml so that plain `cargo test` compiles
//! the core as ordinary Rust. This asks `cargo tree` for the host's normal + build dependency graph
//! and fails if any of them shows up. As a control it also checks that the wasm32 graph DOES have
//! wasm-bindgen, so an empty or unreadable `cargo tree` output cannot make the test pass vacuously.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

/// Package names that must never be in the native graph (substring match, so this also covers
/// serde-wasm-bindgen, wasm-bindgen-macro, wasm-bindgen-test, ...).
const WASM_ONLY: &[&str] = &["wasm-bindgen", "js-sys", "web-sys"];

fn host_triple() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = Command::new(rustc).arg("-vV").output().ok()?;
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| l.strip_prefix("host: ").map(|h| h.trim().to_string()))
}

/// `cargo tree -e normal,build --target TARGET` for this package, or None (with a note) when
/// `cargo tree` cannot run here.
fn cargo_tree(target: &str) -> Option<String> {
    let out = match Command::new(env!("CARGO"))
        .args([
            "tree",
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--target",
            target,
        ])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!("note: skipping the dependency check: cannot run cargo ({e})");
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("no such command") || stderr.contains("no such subcommand") {
            println!("note: skipping the dependency check: `cargo tree` is not available");
            return None;
        }
        panic!("cargo tree --target {target} failed ({}):\n{stderr}", out.status);
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn native_build_does_not_depend_on_wasm_bindgen() {
    let host = host_triple().unwrap_or_else(|| "x86_64-unknown-linux-gnu".to_string());
    let Some(tree) = cargo_tree(&host) else { return };
    assert!(tree.contains(env!("CARGO_PKG_NAME")), "cargo tree output does not even list this package:\n{tree}");
    let offending: Vec<&str> = tree.lines().filter(|l| WASM_ONLY.iter().any(|w| l.contains(w))).collect();
    assert!(
        offending.is_empty(),
        "the native ({host}) dependency graph pulls in wasm-only crates; keep them under \
         [target.'cfg(target_arch = \"wasm32\")'.dependencies]:\n{}",
        offending.join("\n")
    );
}

#[test]
fn wasm_build_does_depend_on_wasm_bindgen() {
    // Control for the test above: the same query for wasm32 must find wasm-bindgen.
    let Some(tree) = cargo_tree("wasm32-unknown-unknown") else { return };
    assert!(
        tree.lines().any(|l| l.starts_with("wasm-bindgen v")),
        "expected wasm-bindgen in the wasm32 dependency graph:\n{tree}"
    );
}

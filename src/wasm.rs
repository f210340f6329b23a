//! The wasm-bindgen boundary: the only module that knows about JavaScript.
use wasm_bindgen::prelude::*;

/// The crate version, for logs and the CLI's `--version`.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

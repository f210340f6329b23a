//! qualys-vm-transporter: the sans-IO core of a streaming Qualys VM -> Archer data feed.
//!
//! The core never does I/O and never reads a clock. Its caller (the JavaScript shim inside
//! Archer's JavaScript Transporter, the CLI, or a native test) pushes in parameters, tokens, the
//! current time and HTTP response bytes; the core hands back requests to make, output chunks to
//! write, and decisions (wait, retry, done, fail). See ARCHITECTURE.md for the map.
//!
//! This crate is plain Rust with no wasm-bindgen or js-sys types, so the whole core builds and
//! tests natively with `cargo test`; the JavaScript boundary is the workspace member `wasm/`.

#![warn(missing_docs)]
// One argued `unsafe` block exists (a `from_utf8_unchecked` in `xml/tokens.rs`), allowed at the
// spot; nothing else may use unsafe code. (The output view lives in the `wasm/` crate.)
#![deny(unsafe_code)]

pub mod error;
pub mod feed;
pub mod last_run_time;
pub mod output;
pub mod params;
pub mod pipeline;
pub mod plan;
pub mod qualys;
pub mod records;
pub mod request;
pub mod response;
pub mod resume;
pub mod secret;
pub mod text;
pub mod transform;
pub mod url;
pub mod value;
pub mod xml;

#[cfg(test)]
mod test_rng;

pub use error::{Blame, Error, ErrorCode, Result};

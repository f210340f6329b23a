//! XML plumbing that knows nothing about Qualys: a push (chunk-fed) reader that builds a flat
//! [`Tree`] for each element its caller asks to capture, its tokenizer (the common tokens scanned
//! directly, the rest read by quick-xml), and the owned [`Element`] tree type (for tests and the
//! rare documents that are not records).

pub mod element;
pub mod escape;
pub mod push_reader;
pub mod tokens;
pub mod tree;
mod words;

pub use element::Element;
pub use tree::{Node, Tree};

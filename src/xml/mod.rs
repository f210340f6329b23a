//! XML plumbing that knows nothing about Qualys: a push (chunk-fed) reader over quick-xml that
//! builds a flat [`Tree`] for each element its caller asks to capture, and the owned [`Element`]
//! tree type (for tests and the rare documents that are not records).

pub mod element;
pub mod escape;
pub mod push_reader;
pub mod tokens;
pub mod tree;
mod words;

pub use element::Element;
pub use tree::{Node, Tree};

//! XML plumbing that knows nothing about Qualys: a push (chunk-fed) reader over quick-xml that
//! builds element trees for the elements its caller asks to capture, and the [`Element`] tree type.

pub mod element;
pub mod push_reader;

pub use element::Element;

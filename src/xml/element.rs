//! The in-memory shape of one record: a small element tree.
//!
//! In scope: the tree a streaming parser builds for one captured element (a HOST, a VULN, ...),
//! lookups by child name, and its size estimate for the per-record memory cap. Out of scope: parsing
//! (see `push_reader`) and serialising to Archer output (see `crate::output`).
//!
//! Text is stored decoded (entities resolved, CDATA unwrapped) and trimmed of surrounding
//! whitespace. Element order and unknown elements are kept as they came.

/// One XML element with its attributes, its (trimmed) text and its child elements, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// The element name.
    pub name: String,
    /// Attributes in document order, values decoded.
    pub attrs: Vec<(String, String)>,
    /// Concatenated, decoded, trimmed character data directly inside this element.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// An element with no attribute, text or child.
    pub fn new(name: impl Into<String>) -> Self {
        Element { name: name.into(), ..Default::default() }
    }

    /// A leaf element with text.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Element { name: name.into(), text: text.into(), ..Default::default() }
    }

    /// First child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Text of the first child with this name, if that child exists and its text is not empty.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str()).filter(|t| !t.is_empty())
    }

    /// Follows a path of child names, e.g. `["DNS_DATA", "HOSTNAME"]`.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        let mut cur = self;
        for n in names {
            cur = cur.child(n)?;
        }
        Some(cur)
    }

    /// Value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Rough number of bytes this tree holds (used for the per-record memory cap and chunk sizing).
    pub fn approx_size(&self) -> usize {
        let own = self.name.len() + self.text.len() + self.attrs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        own + 32 + self.children.iter().map(Element::approx_size).sum::<usize>()
    }
}

//! The flat, reusable tree the push reader builds for one captured element (one record).
//!
//! In scope: storing a captured element and its descendants without one allocation per element
//! (all names, texts and attribute strings in one `String`, nodes in document order in one `Vec`,
//! both kept and reused from record to record); read access through [`Node`] handles (name, text,
//! attributes, children, first child by name); conversion to the owned [`Element`] for tests and
//! for the rare documents that are not records. Out of scope: parsing (see `push_reader`, which is
//! the only builder) and serialising (see `crate::output::write_node`).
//!
//! Layout: nodes are stored in pre-order (a node's descendants follow it), and each node records
//! the index just past its last descendant, so its first child is the next node and the next
//! sibling of a child `c` is `c.end`. Text is stored decoded and trimmed, exactly as
//! [`Element::text`]; whitespace-only text between children never reaches the tree.
//!
//! Verbatim leaves: a name is stored as `<NAME>`, and a leaf without attributes whose text follows
//! it directly and needs no escaping ([`super::escape::is_verbatim`]) gets `</NAME>` appended at close,
//! so the storage then holds its final serialised form `<NAME>text</NAME>` ([`Node::verbatim`]).
//! Nearly all Qualys leaves qualify, and writing them is then one copy.

use super::element::Element;

/// A range of [`Tree::strings`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NodeData {
    /// The name (stored right after a `<` and before a `>`).
    name: Span,
    text: Span,
    /// `<NAME>text</NAME>` for a verbatim leaf, else empty.
    xml: Span,
    /// Whether the node can still become a verbatim leaf (no attribute, text so far verbatim).
    verbatim: bool,
    /// Range of [`Tree::attrs`].
    attrs: (u32, u32),
    /// Index just past this node's last descendant (set when the node closes).
    end: u32,
}

/// One captured element and its descendants. Build with [`Tree::open`], [`Tree::append_text`] /
/// [`Tree::set_text`], [`Tree::close`]; read with [`Tree::root`]. Two trees are equal when they
/// hold the same elements (whatever their storage layout).
#[derive(Clone, Debug, Default)]
pub struct Tree {
    strings: String,
    nodes: Vec<NodeData>,
    attrs: Vec<(Span, Span)>,
    /// Whether some element or attribute name holds a non-ASCII character (text never makes
    /// output non-ASCII: it is escaped; names are copied as they are).
    non_ascii_names: bool,
}

impl Tree {
    /// Empties the tree, keeping its allocations.
    pub fn clear(&mut self) {
        self.strings.clear();
        self.nodes.clear();
        self.attrs.clear();
        self.non_ascii_names = false;
    }

    /// Whether the tree holds no element.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Bytes of memory this tree keeps allocated (to decide whether it is worth reusing).
    pub fn capacity_bytes(&self) -> usize {
        self.strings.capacity()
            + self.nodes.capacity() * std::mem::size_of::<NodeData>()
            + self.attrs.capacity() * std::mem::size_of::<(Span, Span)>()
    }

    /// Whether an element or attribute name holds a character above U+007F.
    pub fn has_non_ascii_names(&self) -> bool {
        self.non_ascii_names
    }

    /// The captured element. Panics never: an empty tree yields an unnamed, empty node.
    pub fn root(&self) -> Node<'_> {
        Node { tree: self, index: 0 }
    }

    fn push_str(&mut self, s: &str) -> Span {
        let start = self.strings.len() as u32;
        self.strings.push_str(s);
        Span { start, end: self.strings.len() as u32 }
    }

    fn str(&self, span: Span) -> &str {
        self.strings.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    /// Starts a new element as the next node in document order; returns its index. Its parent is
    /// whichever node the builder has open. `name_is_ascii` saves re-checking a name the caller
    /// already classified.
    pub fn open(&mut self, name: &str, name_is_ascii: bool) -> u32 {
        let index = self.nodes.len() as u32;
        self.strings.push('<');
        let name = self.push_str(name);
        self.strings.push('>');
        self.non_ascii_names |= !name_is_ascii;
        let a = self.attrs.len() as u32;
        self.nodes.push(NodeData {
            name,
            text: Span::default(),
            xml: Span::default(),
            verbatim: true,
            attrs: (a, a),
            end: index + 1,
        });
        index
    }

    /// Adds an attribute to the node opened last. `value` is written by `decode` into the tree's
    /// string storage.
    pub fn push_attr(&mut self, key: &str, decode: impl FnOnce(&mut String)) {
        self.non_ascii_names |= !key.is_ascii();
        let key = self.push_str(key);
        let start = self.strings.len() as u32;
        decode(&mut self.strings);
        let value = Span { start, end: self.strings.len() as u32 };
        self.attrs.push((key, value));
        if let Some(last) = self.nodes.last_mut() {
            last.attrs.1 = self.attrs.len() as u32;
            last.verbatim = false;
        }
    }

    /// Whether node `index` is the last node added (no child yet), so text appended to the
    /// string storage now is contiguous with its text so far: the condition for [`Tree::append_text`].
    pub fn is_last(&self, index: u32) -> bool {
        self.nodes.len() == index as usize + 1
    }

    /// Appends to the text of node `index`, which must be [`Tree::is_last`] (otherwise nothing is
    /// appended). `write` gets the string storage and whether the node's text is still empty, and
    /// returns whether what it appended is verbatim ([`super::escape::is_verbatim`]).
    pub fn append_text(&mut self, index: u32, write: impl FnOnce(&mut String, bool) -> bool) {
        if !self.is_last(index) {
            return;
        }
        let len = self.strings.len() as u32;
        let Some(node) = self.nodes.get_mut(index as usize) else { return };
        let empty = node.text.start == node.text.end;
        if empty {
            node.text = Span { start: len, end: len };
        }
        let verbatim = write(&mut self.strings, empty);
        node.text.end = self.strings.len() as u32;
        node.verbatim &= verbatim;
    }

    /// The text of node `index` as stored so far.
    pub fn text_of(&self, index: u32) -> &str {
        self.nodes.get(index as usize).map_or("", |n| self.str(n.text))
    }

    /// Narrows the text of node `index` to the part `trim` keeps (a sub-slice of it).
    pub fn trim_text(&mut self, index: u32, trim: impl FnOnce(&str) -> &str) {
        let Some(node) = self.nodes.get(index as usize) else { return };
        let text = self.str(node.text);
        let kept = trim(text);
        // `kept` lies inside `text` (trim returns a sub-slice); anything else leaves the text alone.
        let offset = (kept.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
        if offset > text.len() || offset + kept.len() > text.len() {
            return;
        }
        let start = node.text.start + offset as u32;
        let span = Span { start, end: start + kept.len() as u32 };
        if let Some(node) = self.nodes.get_mut(index as usize) {
            node.text = span;
        }
    }

    /// Sets the (final, trimmed) text of node `index`.
    pub fn set_text(&mut self, index: u32, text: &str) {
        if text.is_empty() {
            return;
        }
        let span = self.push_str(text);
        if let Some(node) = self.nodes.get_mut(index as usize) {
            node.text = span;
            node.verbatim = false;
        }
    }

    /// Closes node `index`, named `name`: every node added since it opened is its descendant. A
    /// leaf whose storage reads `<NAME>text` with verbatim text becomes a verbatim leaf.
    pub fn close(&mut self, index: u32, name: &str) {
        let end = self.nodes.len() as u32;
        let len = self.strings.len() as u32;
        let Some(node) = self.nodes.get_mut(index as usize) else { return };
        node.end = end;
        let t = node.text;
        if node.verbatim && end == index + 1 && t.start < t.end && t.start == node.name.end + 1 && t.end == len {
            self.strings.push_str("</");
            self.strings.push_str(name);
            self.strings.push('>');
            node.xml = Span { start: node.name.start.saturating_sub(1), end: self.strings.len() as u32 };
        }
    }

    /// The name of node `index` (for end-tag matching while building).
    pub fn name_of(&self, index: u32) -> &str {
        self.nodes.get(index as usize).map_or("", |n| self.str(n.name))
    }

    /// The owned tree of the captured element.
    pub fn to_element(&self) -> Element {
        self.root().to_element()
    }
}

impl PartialEq for Tree {
    fn eq(&self, other: &Tree) -> bool {
        self.non_ascii_names == other.non_ascii_names && self.to_element() == other.to_element()
    }
}

impl Eq for Tree {}

/// A read-only handle on one element of a [`Tree`].
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    tree: &'a Tree,
    index: u32,
}

impl<'a> Node<'a> {
    /// Whether both handles are the same element of the same tree.
    pub fn is(&self, other: Node<'_>) -> bool {
        std::ptr::eq(self.tree, other.tree) && self.index == other.index
    }

    fn data(&self) -> Option<&'a NodeData> {
        self.tree.nodes.get(self.index as usize)
    }

    /// The element name.
    pub fn name(&self) -> &'a str {
        self.data().map_or("", |n| self.tree.str(n.name))
    }

    /// The element's decoded, trimmed text (its own, not its children's).
    pub fn text(&self) -> &'a str {
        self.data().map_or("", |n| self.tree.str(n.text))
    }

    /// The element's final serialised form `<NAME>text</NAME>`, when it is a verbatim leaf (see
    /// the module documentation); `None` otherwise.
    pub fn verbatim(&self) -> Option<&'a str> {
        self.data().filter(|n| n.xml.start < n.xml.end).map(|n| self.tree.str(n.xml))
    }

    /// Whether the element has child elements.
    pub fn has_children(&self) -> bool {
        self.data().is_some_and(|n| n.end > self.index + 1)
    }

    /// Attribute names and values, in document order.
    pub fn attrs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let tree = self.tree;
        let (a, b) = self.data().map_or((0, 0), |n| n.attrs);
        tree.attrs.get(a as usize..b as usize).unwrap_or(&[]).iter().map(move |&(k, v)| (tree.str(k), tree.str(v)))
    }

    /// Value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&'a str> {
        self.attrs().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The child elements, in document order.
    pub fn children(&self) -> Children<'a> {
        let end = self.data().map_or(0, |n| n.end);
        Children { tree: self.tree, next: self.index + 1, end }
    }

    /// First child with this name.
    pub fn child(&self, name: &str) -> Option<Node<'a>> {
        self.children().find(|c| c.name() == name)
    }

    /// Text of the first child with this name, if that child exists and its text is not empty
    /// (the same rule as [`Element::child_text`]).
    pub fn child_text(&self, name: &str) -> Option<&'a str> {
        self.child(name).map(|c| c.text()).filter(|t| !t.is_empty())
    }

    /// Follows a path of child names, e.g. `["DNS_DATA", "HOSTNAME"]`.
    pub fn path(&self, names: &[&str]) -> Option<Node<'a>> {
        let mut cur = *self;
        for n in names {
            cur = cur.child(n)?;
        }
        Some(cur)
    }

    /// The owned copy of this element and its descendants.
    pub fn to_element(&self) -> Element {
        Element {
            name: self.name().to_string(),
            attrs: self.attrs().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            text: self.text().to_string(),
            children: self.children().map(|c| c.to_element()).collect(),
        }
    }
}

/// Iterator over the children of a [`Node`].
#[derive(Clone, Debug)]
pub struct Children<'a> {
    tree: &'a Tree,
    next: u32,
    end: u32,
}

impl<'a> Iterator for Children<'a> {
    type Item = Node<'a>;

    fn next(&mut self) -> Option<Node<'a>> {
        if self.next >= self.end {
            return None;
        }
        let node = Node { tree: self.tree, index: self.next };
        // A node always ends after itself; `max` guards the loop against a malformed tree.
        self.next = node.data().map_or(self.end, |n| n.end.max(self.next + 1));
        Some(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `<HOST a="1"><ID>7</ID><DNS_DATA><HOSTNAME>h</HOSTNAME></DNS_DATA><EMPTY/>text</HOST>`
    fn sample() -> Tree {
        let mut t = Tree::default();
        let host = t.open("HOST", true);
        t.push_attr("a", |s| s.push('1'));
        let id = t.open("ID", true);
        t.append_text(id, |s, at_start| {
            assert!(at_start);
            s.push('7');
            true
        });
        t.close(id, "ID");
        let dns = t.open("DNS_DATA", true);
        let hn = t.open("HOSTNAME", true);
        t.set_text(hn, "h");
        t.close(hn, "HOSTNAME");
        t.close(dns, "DNS_DATA");
        let empty = t.open("EMPTY", true);
        t.close(empty, "EMPTY");
        t.set_text(host, "text");
        t.close(host, "HOST");
        t
    }

    #[test]
    fn nodes_children_and_lookups() {
        let t = sample();
        let root = t.root();
        assert_eq!(root.name(), "HOST");
        assert_eq!(root.text(), "text");
        assert_eq!(root.attr("a"), Some("1"));
        let names: Vec<_> = root.children().map(|c| c.name()).collect();
        assert_eq!(names, ["ID", "DNS_DATA", "EMPTY"]);
        assert_eq!(root.child_text("ID"), Some("7"));
        assert_eq!(root.child_text("EMPTY"), None);
        assert_eq!(root.path(&["DNS_DATA", "HOSTNAME"]).map(|n| n.text()), Some("h"));
        assert!(root.child("DNS_DATA").is_some_and(|n| n.has_children()));
        assert!(!root.child("ID").is_some_and(|n| n.has_children()));
        assert_eq!(root.child("ID").and_then(|n| n.verbatim()), Some("<ID>7</ID>"));
        assert_eq!(root.child("EMPTY").and_then(|n| n.verbatim()), None, "an empty leaf is written <EMPTY/>");
        assert_eq!(root.verbatim(), None, "not a leaf, and has an attribute");
    }

    #[test]
    fn to_element_matches_the_tree_and_clear_reuses() {
        let mut t = sample();
        let mut want = Element::new("HOST");
        want.attrs.push(("a".into(), "1".into()));
        want.text = "text".into();
        want.children.push(Element::leaf("ID", "7"));
        let mut dns = Element::new("DNS_DATA");
        dns.children.push(Element::leaf("HOSTNAME", "h"));
        want.children.push(dns);
        want.children.push(Element::new("EMPTY"));
        assert_eq!(t.to_element(), want);
        assert!(!t.has_non_ascii_names());
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.root().name(), "");
        assert_eq!(t.root().children().count(), 0);
        let n = t.open("N\u{e9}", false);
        t.close(n, "N\u{e9}");
        assert!(t.has_non_ascii_names());
    }
}

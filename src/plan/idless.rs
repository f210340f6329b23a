//! Records without a usable ID: how a retried page avoids writing them twice.
//!
//! In scope: the rule for records that carry no usable ID (a `HOST` without `ID`, a `VULN` without
//! `QID`, or one that is not a number). They cannot be in the run-wide ID set, so within one page
//! (across its attempts) each is identified by a 64-bit hash of its whole content (names,
//! attributes, texts, nesting). A retry of the page skips as many records of a given content as
//! earlier attempts already wrote, and writes the rest: two identical ID-less records the server
//! sent are both written once, and nothing is written twice. Skipped ones count as duplicates. A
//! page holding an ID-less record is always retried from its start (the restart after the last
//! written ID cannot place a record without an ID). Across pages ID-less records are not compared:
//! with no ID there is nothing that says two pages hold the same record.
//!
//! Bounded: at most [`MAX_PER_PAGE`] distinct contents are remembered per page; past that the
//! page is still written but no longer retried (a failure then fails the run instead of risking
//! a duplicate).
//!
//! Out of scope: records with IDs (`written.rs`), what a record's ID is (`crate::records`).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::xml::tree::Children;
use crate::xml::{Node, Tree};

/// Distinct ID-less contents remembered per page (about 2 MB).
pub const MAX_PER_PAGE: usize = 100_000;

/// A 64-bit hash of a record's whole content. Deterministic (fixed keys), walked without recursion.
pub fn content_hash(tree: &Tree) -> u64 {
    fn node(n: Node<'_>, h: &mut DefaultHasher) {
        1u8.hash(h);
        n.name().hash(h);
        for (k, v) in n.attrs() {
            k.hash(h);
            v.hash(h);
        }
        n.text().hash(h);
    }
    let mut h = DefaultHasher::new();
    let root = tree.root();
    node(root, &mut h);
    let mut stack: Vec<Children<'_>> = vec![root.children()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            Some(c) => {
                node(c, &mut h);
                stack.push(c.children());
            }
            None => {
                2u8.hash(&mut h);
                stack.pop();
            }
        }
    }
    h.finish()
}

/// What a page wrote of its ID-less records, by content.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Content hash -> how many were written (by the attempt that got furthest).
    written: HashMap<u64, u32>,
    /// Content hash -> how many the current attempt has seen.
    seen: HashMap<u64, u32>,
    /// More distinct contents than [`MAX_PER_PAGE`]: a retry could write some twice.
    pub overflowed: bool,
}

impl Ledger {
    /// A new attempt at the page starts.
    pub fn new_attempt(&mut self) {
        self.seen.clear();
    }

    /// Whether the current attempt should write this record (false: an earlier attempt did).
    pub fn admit(&mut self, hash: u64) -> bool {
        if !self.written.contains_key(&hash) && self.written.len() >= MAX_PER_PAGE {
            self.overflowed = true;
            return true;
        }
        let seen = self.seen.entry(hash).or_insert(0);
        *seen = seen.saturating_add(1);
        let written = self.written.entry(hash).or_insert(0);
        if *seen <= *written {
            return false;
        }
        *written = *seen;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_skips_what_an_earlier_attempt_wrote_and_keeps_true_repeats() {
        let mut l = Ledger::default();
        // attempt 1: A, B, B (the server sent two identical records), then the page failed
        assert!(l.admit(1) && l.admit(2) && l.admit(2));
        l.new_attempt();
        // attempt 2 sees the whole page: A, B, B, C
        assert!(!l.admit(1) && !l.admit(2) && !l.admit(2));
        assert!(l.admit(3));
        l.new_attempt();
        // attempt 3 (another failure later) lists them in another order and one more B
        assert!(!l.admit(2) && !l.admit(3) && !l.admit(1) && !l.admit(2));
        assert!(l.admit(2));
    }

    #[test]
    fn the_hash_sees_names_attributes_texts_and_nesting() {
        use crate::response::{DocKind, Item, Limits, ResponseParser};
        let tree = |host: &str| {
            let mut p = ResponseParser::new(DocKind::HostList, Limits::default());
            let mut items = Vec::new();
            let doc =
                format!("<HOST_LIST_OUTPUT><RESPONSE><HOST_LIST>{host}</HOST_LIST></RESPONSE></HOST_LIST_OUTPUT>");
            p.push(doc.as_bytes(), &mut items).expect("parses");
            p.finish(&mut items).expect("complete");
            items
                .into_iter()
                .find_map(|i| match i {
                    Item::Record(t) => Some(t),
                    _ => None,
                })
                .expect("one record")
        };
        let base = content_hash(&tree("<HOST><IP>1.2.3.4</IP><OS>x</OS></HOST>"));
        assert_eq!(base, content_hash(&tree("<HOST><IP>1.2.3.4</IP><OS>x</OS></HOST>")));
        for other in [
            "<HOST><IP>1.2.3.5</IP><OS>x</OS></HOST>",
            "<HOST><IP>1.2.3.4</IP><OS a=\"1\">x</OS></HOST>",
            "<HOST><IP>1.2.3.4<OS>x</OS></IP></HOST>",
            "<HOST><OS>x</OS><IP>1.2.3.4</IP></HOST>",
            "<HOST><IP>1.2.3.4</IP><OS>x</OS><OS/></HOST>",
        ] {
            assert_ne!(base, content_hash(&tree(other)), "{other}");
        }
    }
}

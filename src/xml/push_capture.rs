//! The capture builder of [`super::PushReader`]: the stack of open elements and the tree of the
//! element the sink captures (start tags with their attributes, text pieces concatenated and
//! trimmed at close, end tags checked against the stack, the finished tree handed to the sink).
//!
//! In scope: building trees and the open-element stack. Out of scope: tokenizing and input
//! buffering (`super`), the text and entity rules (`super::rules`).

use super::*;

impl PushReader {
    pub(super) fn on_start<S: Sink + ?Sized>(
        &mut self,
        tag: &BytesStart<'_>,
        empty: bool,
        ascii_name: bool,
        ev_start: usize,
        ev_end: usize,
        sink: &mut S,
    ) -> Result<Flow, Error> {
        let name = tag.name().0;
        // `Some(is_ascii)` for a valid name; the tokenizer already checked the ASCII ones it flags.
        let kind = if ascii_name { Some(true) } else { name_kind(name) };
        let name_is_ascii = match self.phase {
            Phase::BeforeRoot => {
                if let Some(snippet) = self.prolog_text.take() {
                    return Err(not_xml(&snippet));
                }
                let Some(ascii) = kind else {
                    return Err(
                        self.malformed(ev_start, &format!("invalid element name in start tag <{}>", shorten(name)))
                    );
                };
                self.saw_content = true;
                self.phase = Phase::InRoot;
                self.root = Some(name.to_string());
                ascii
            }
            Phase::InRoot => {
                let Some(ascii) = kind else {
                    return Err(
                        self.malformed(ev_start, &format!("invalid element name in start tag <{}>", shorten(name)))
                    );
                };
                ascii
            }
            Phase::AfterRoot => {
                self.discard(ev_start, sink);
                return Ok(Flow::Stop);
            }
            Phase::Discard => return Ok(Flow::Stop),
        };
        if self.stack.len() + self.open.len() >= MAX_DEPTH {
            return Err(Error::server(
                ErrorCode::XmlTooDeep,
                false,
                format!(
                    "the response nests elements more than {MAX_DEPTH} deep (at <{}>): refusing to parse it",
                    shorten(name)
                ),
            ));
        }
        if !self.open.is_empty() {
            let index = self.new_node(tag, name, name_is_ascii, ev_start)?;
            if empty {
                self.tree.close(index, name);
            } else {
                self.push_open(index);
            }
            self.check_record(ev_end)?;
            return Ok(Flow::Continue);
        }
        self.notice_invalid_before(ev_start, sink);
        match sink.open(&self.stack, name)? {
            Capture::Tree => {
                self.capture_start = self.consumed + ev_start as u64;
                self.tree.clear();
                let index = self.new_node(tag, name, name_is_ascii, ev_start)?;
                self.push_open(index);
                self.check_record(ev_end)?;
                if empty {
                    return self.close_capture(name, ev_start, sink);
                }
            }
            Capture::Skip => {
                if empty {
                    sink.close(&self.stack, name)?;
                    if self.stack.is_empty() {
                        self.phase = Phase::AfterRoot;
                    }
                } else {
                    self.stack.push(name.to_string());
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// Adds a node for `tag` (with its attributes) to the capture's tree; returns its index.
    pub(super) fn new_node(
        &mut self,
        tag: &BytesStart<'_>,
        name: &str,
        name_is_ascii: bool,
        ev_start: usize,
    ) -> Result<u32, Error> {
        let index = self.tree.open(name, name_is_ascii);
        // Most tags have no attributes: skip the attribute iterator unless the tag has more than
        // its name.
        if tag.len() > name.len() {
            let mut attributes = tag.html_attributes();
            attributes.with_checks(false);
            for attribute in attributes {
                match attribute {
                    Ok(a) => self.tree.push_attr(a.key.0, |out| decode_attribute_into(&a.value, out)),
                    Err(e) => {
                        return Err(self.malformed(ev_start, &format!("bad attribute in <{}>: {e}", shorten(name))));
                    }
                }
            }
        }
        Ok(index)
    }

    /// Makes node `index` the innermost open element of the capture, with empty text.
    pub(super) fn push_open(&mut self, index: u32) {
        let depth = self.open.len();
        self.open.push(index);
        match self.texts.get_mut(depth) {
            Some(text) => text.clear(),
            None => self.texts.push(String::new()),
        }
    }

    /// Adds text to the innermost open element of the capture. `write` gets the string to append
    /// to and whether the element's text is still empty, and says whether what it appended is
    /// verbatim (see `Tree::append_text`). While the element has no child (always,
    /// for the leaves that hold nearly all text) the text goes straight into the tree; text after
    /// a child (mixed content) waits in `texts` until the element closes.
    #[inline]
    pub(super) fn add_text(&mut self, write: impl FnOnce(&mut String, bool) -> bool) {
        let Some(depth) = self.open.len().checked_sub(1) else { return };
        let Some(&index) = self.open.get(depth) else { return };
        if self.tree.is_last(index) {
            self.tree.append_text(index, write);
            return;
        }
        let at_start = self.open_text_is_empty();
        if let Some(text) = self.texts.get_mut(depth) {
            write(text, at_start);
        }
    }

    /// Whether no text has been collected yet for the innermost open element of the capture.
    #[inline]
    pub(super) fn open_text_is_empty(&self) -> bool {
        let depth = self.open.len().wrapping_sub(1);
        let (Some(&index), Some(text)) = (self.open.get(depth), self.texts.get(depth)) else { return true };
        text.is_empty() && self.tree.text_of(index).is_empty()
    }

    /// Closes the innermost open element of the capture, named `name`: its text is trimmed in the
    /// tree.
    pub(super) fn pop_open(&mut self, name: &str) {
        let Some(index) = self.open.pop() else { return };
        let depth = self.open.len();
        match self.texts.get(depth) {
            Some(after_children) if !after_children.is_empty() => {
                let mut text = self.tree.text_of(index).to_string();
                text.push_str(after_children);
                self.tree.set_text(index, trim_xml(&text));
            }
            _ => self.tree.trim_text(index, trim_xml),
        }
        self.tree.close(index, name);
    }

    pub(super) fn on_end<S: Sink + ?Sized>(
        &mut self,
        name: &str,
        ev_start: usize,
        ev_end: usize,
        sink: &mut S,
    ) -> Result<Flow, Error> {
        match self.phase {
            Phase::BeforeRoot => {
                if let Some(snippet) = self.prolog_text.take() {
                    return Err(not_xml(&snippet));
                }
                return Err(self.malformed(ev_start, &format!("end tag </{}> before any start tag", shorten(name))));
            }
            Phase::AfterRoot => {
                self.discard(ev_start, sink);
                return Ok(Flow::Stop);
            }
            Phase::Discard => return Ok(Flow::Stop),
            Phase::InRoot => {}
        }
        if let Some(&top) = self.open.last() {
            let open_name = self.tree.name_of(top);
            if open_name != name {
                return Err(self.malformed(
                    ev_start,
                    &format!("end tag </{}> does not match the open <{}>", shorten(name), shorten(open_name)),
                ));
            }
            self.check_record(ev_end)?;
            if self.open.len() > 1 {
                self.pop_open(name);
                return Ok(Flow::Continue);
            }
            return self.close_capture(name, ev_start, sink);
        }
        match self.stack.last() {
            Some(top) if top == name => {}
            Some(top) => {
                return Err(self.malformed(
                    ev_start,
                    &format!("end tag </{}> does not match the open <{}>", shorten(name), shorten(top)),
                ))
            }
            None => return Err(self.malformed(ev_start, &format!("unexpected end tag </{}>", shorten(name)))),
        }
        self.stack.pop();
        self.notice_invalid_before(ev_start, sink);
        sink.close(&self.stack, name)?;
        if self.stack.is_empty() {
            self.phase = Phase::AfterRoot;
        }
        Ok(Flow::Continue)
    }

    /// The captured element (the only frame left) closed: deliver it.
    pub(super) fn close_capture<S: Sink + ?Sized>(
        &mut self,
        name: &str,
        ev_start: usize,
        sink: &mut S,
    ) -> Result<Flow, Error> {
        self.notice_invalid_before(ev_start, sink);
        self.pop_open(name);
        self.open.clear();
        let next = self.spares.pop().unwrap_or_default();
        let tree = std::mem::replace(&mut self.tree, next);
        sink.captured(&self.stack, tree)?;
        if self.stack.is_empty() {
            self.phase = Phase::AfterRoot;
        }
        Ok(Flow::Continue)
    }
}

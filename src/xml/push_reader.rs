//! A push (chunk-fed) XML reader that builds a [`Tree`] for each element its caller captures.
//!
//! In scope: feeding a document in chunks of any size (a split anywhere, even inside a tag, an
//! attribute value, a CDATA section, an entity reference or a multi-byte UTF-8 character, gives
//! exactly the same calls on the [`Sink`] as the whole document in one chunk); tracking the stack of
//! open elements; building the tree of each element the [`Sink`] asks to capture (text decoded, CDATA
//! unwrapped, line ends normalised, pieces concatenated and trimmed at element close); the memory caps
//! (one captured tree, one token, nesting depth); lossy decoding of non-UTF-8 bytes; telling a cut-off
//! document (`TRUNCATED_PAGE`, retryable) from a malformed one (`MALFORMED_XML`) and an empty body
//! (`EMPTY_RESPONSE`). Nothing here panics on any input.
//!
//! Out of scope: anything about Qualys (which elements are records, what a root means: see
//! `crate::response`), namespaces, DTDs (a DOCTYPE is skipped, never fetched, and its entity
//! declarations are ignored), encodings other than UTF-8 (bytes are read as UTF-8, invalid ones become
//! U+FFFD with one notice), attribute syntax outside captured elements (not even parsed there).
//!
//! Entities: only `&amp; &lt; &gt; &quot; &apos;` and numeric character references are resolved. An
//! unknown entity stays literal (`&name;`) and the first one in a document gives one notice. A `&`
//! that cannot start a reference (e.g. `AT&T`) is kept as it is. Nothing is resolved inside CDATA.
//!
//! UTF-8: each push validates the buffer once, before tokenizing (the tokens of the valid part
//! need no further check; a multi-byte character cut by a chunk end waits for the next chunk).
//! When the tokenizer meets invalid UTF-8, the reader re-parses from that token with the rest of
//! the document sanitised (invalid sequences become U+FFFD, one notice), and sanitises every later
//! chunk as it arrives.
//!
//! How chunks are handled: the reader keeps a carry-over buffer holding only the uncommitted tail of
//! the input. Each push appends the chunk and tokenizes the buffer from its start
//! ([`super::tokens`]: the common tokens scanned directly, the rest by quick-xml), commits every
//! complete token, and stops at a markup token cut by the end of the buffer (quick-xml reports it
//! as an "unclosed" syntax error; we roll back to the token start and wait for more bytes). Text
//! touching the end of the buffer is committed at once (text pieces are concatenated anyway) except
//! a final `\r` (it may be the first half of `\r\n`) and a short `&name` that may still become a
//! reference. While a long token (e.g. a 1 MB CDATA section) is incomplete, later pushes only scan
//! the new bytes for its terminator, so small chunks stay linear.

use std::borrow::Cow;

use quick_xml::errors::{Error as XmlError, SyntaxError};
use quick_xml::events::{BytesStart, Event};

use super::escape;
use super::tokens::{
    is_ascii_name, is_xml_whitespace_byte, read_with_quick_xml, scan, token_of, valid_utf8_prefix, Read, Token, BOM,
};
use super::tree::Tree;
use crate::error::{Error, ErrorCode};

/// Default cap on one captured element and on one XML token: 64 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// Maximum element nesting depth. Qualys documents nest about 8 deep; a deeper document is refused
/// rather than risk deep recursion when a tree is dropped or compared.
pub const MAX_DEPTH: usize = 256;

/// Longest entity name (after `&`, before `;`) that is treated as a reference at all.
const MAX_REF_NAME: usize = 64;

/// How many characters of stray text before the root element are quoted in a `NOT_XML` error.
const SNIPPET_CHARS: usize = 80;

/// How many given-back trees a reader keeps for reuse: more than the records one 64 KiB input
/// chunk holds, since the caller recycles them only after the push that produced them.
pub const MAX_SPARES: usize = 256;

/// A given-back tree holding more memory than this is freed instead of kept.
pub const MAX_SPARE_BYTES: usize = 256 * 1024;

/// What the reader should do with an element whose start tag it has just read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// Build no tree; keep calling [`Sink::open`] / [`Sink::close`] for it and its descendants.
    Skip,
    /// Build the element's whole tree and hand it to [`Sink::captured`] when it closes. No sink
    /// calls are made for its descendants.
    Tree,
}

/// The caller's side of a [`PushReader`]: decides what to capture and receives what was captured.
///
/// `path` is always the stack of names of the open elements *above* the element concerned
/// (empty for the root element). An error returned by the sink stops the reader and is returned
/// from `push` / `finish` as it is.
pub trait Sink {
    /// A start tag (or empty-element tag) outside any capture.
    fn open(&mut self, path: &[String], name: &str) -> Result<Capture, Error>;
    /// A captured element closed; `tree` is its whole tree. A sink that keeps trees can give them
    /// back with [`PushReader::recycle`] once done, so that their memory is reused.
    fn captured(&mut self, path: &[String], tree: Tree) -> Result<(), Error>;
    /// An element opened with [`Capture::Skip`] closed.
    fn close(&mut self, path: &[String], name: &str) -> Result<(), Error>;
    /// Something worth a log line that is not an error (invalid UTF-8 replaced, unknown entity
    /// kept literal, content after the root ignored). Each kind is reported at most once per document.
    fn notice(&mut self, text: String);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    BeforeRoot,
    InRoot,
    AfterRoot,
    /// Unexpected content after the root: everything from there on is dropped unparsed.
    Discard,
}

/// Whether processing goes on after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    /// The reader switched to [`Phase::Discard`]: drop the rest of the buffer.
    Stop,
}

/// An incomplete token at the start of the buffer, and where its terminator can still appear.
#[derive(Clone, Copy, Debug)]
struct Wait {
    terminator: &'static [u8],
    /// The terminator cannot start before this index (e.g. 9 for `<![CDATA[`).
    from: usize,
    /// Buffer length at the last full scan: the terminator is not in `buf[..scanned]`.
    scanned: usize,
}

/// A chunk-fed XML reader. See the module documentation.
#[derive(Debug)]
pub struct PushReader {
    max_record_bytes: usize,
    /// Uncommitted tail of the input. Until `lenient`, bytes as received (`process` validates
    /// them once per push); after, sanitised: valid UTF-8.
    buf: Vec<u8>,
    /// Set once invalid UTF-8 was met: from then on every chunk is sanitised (invalid sequences
    /// replaced with U+FFFD) as it is appended.
    lenient: bool,
    /// Set by `process` when the tokenizer met invalid UTF-8 in the token starting where it
    /// stopped.
    invalid_utf8_met: bool,
    /// Up to 3 bytes of a UTF-8 sequence cut by the end of the last chunk.
    utf8_pending: Vec<u8>,
    /// Absolute offset (in the sanitised stream) of `buf[0]`.
    consumed: u64,
    /// Raw bytes pushed so far.
    raw_bytes: u64,
    phase: Phase,
    /// Names of the open elements outside captures.
    stack: Vec<String>,
    /// The tree of the current capture (empty outside captures).
    tree: Tree,
    /// Open elements of the current capture, as node indices of `tree` (`open[0]` is the captured
    /// element, node 0).
    open: Vec<u32>,
    /// Text collected so far for each open element of the capture (`texts[i]` for `open[i]`);
    /// kept between records so that no text allocates once the reader is warm.
    texts: Vec<String>,
    /// Trees given back by the caller, reused for the next captures.
    spares: Vec<Tree>,
    /// Absolute offset of the captured element's `<`.
    capture_start: u64,
    root: Option<String>,
    /// Non-whitespace text seen before the root element (the document is not XML).
    prolog_text: Option<String>,
    saw_content: bool,
    /// Absolute offset of the first U+FFFD we substituted, until its notice is given.
    invalid_utf8_at: Option<u64>,
    utf8_recorded: bool,
    entity_noticed: bool,
    wait: Option<Wait>,
    failed: Option<Error>,
    finished: bool,
}

impl Default for PushReader {
    fn default() -> Self {
        PushReader::new(DEFAULT_MAX_RECORD_BYTES)
    }
}

impl PushReader {
    /// A reader for one document. `max_record_bytes` caps one captured element (counted in input
    /// bytes from its `<` to the end of its end tag) and one token of the carry-over buffer.
    pub fn new(max_record_bytes: usize) -> Self {
        PushReader {
            max_record_bytes: max_record_bytes.max(1),
            buf: Vec::new(),
            lenient: false,
            invalid_utf8_met: false,
            utf8_pending: Vec::new(),
            consumed: 0,
            raw_bytes: 0,
            phase: Phase::BeforeRoot,
            stack: Vec::new(),
            tree: Tree::default(),
            open: Vec::new(),
            texts: Vec::new(),
            spares: Vec::new(),
            capture_start: 0,
            root: None,
            prolog_text: None,
            saw_content: false,
            invalid_utf8_at: None,
            utf8_recorded: false,
            entity_noticed: false,
            wait: None,
            failed: None,
            finished: false,
        }
    }

    /// Gives back a tree handed to [`Sink::captured`], so that the next captures reuse its memory.
    /// Small trees are kept (up to [`MAX_SPARES`]); larger ones are freed.
    pub fn recycle(&mut self, mut tree: Tree) {
        if self.spares.len() < MAX_SPARES && tree.capacity_bytes() <= MAX_SPARE_BYTES {
            tree.clear();
            self.spares.push(tree);
        }
    }

    /// Raw bytes pushed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.raw_bytes
    }

    /// Name of the root element, once its start tag has been read.
    pub fn root(&self) -> Option<&str> {
        self.root.as_deref()
    }

    /// Whether the root element has closed (the document is complete).
    pub fn root_closed(&self) -> bool {
        matches!(self.phase, Phase::AfterRoot | Phase::Discard)
    }

    /// Bytes currently held in the carry-over buffer (the uncommitted tail).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.utf8_pending.len()
    }

    /// Feeds the next chunk. Complete events are delivered to `sink`; an incomplete tail is kept
    /// for the next call. After an error every later call returns the same error.
    pub fn push<S: Sink + ?Sized>(&mut self, chunk: &[u8], sink: &mut S) -> Result<(), Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Err(Error::caller(
                ErrorCode::PushAfterFinish,
                "push() was called after finish() on the same XML reader",
            ));
        }
        self.raw_bytes += chunk.len() as u64;
        if self.phase == Phase::Discard {
            return Ok(());
        }
        self.append(chunk, false);
        let result = self.run(sink, false);
        self.remember(result)
    }

    /// Ends the document: parses what is left as final, then checks that the root element closed.
    pub fn finish<S: Sink + ?Sized>(&mut self, sink: &mut S) -> Result<(), Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Err(Error::caller(ErrorCode::FinishTwice, "finish() was called twice on the same XML reader"));
        }
        self.finished = true;
        let result = self.finish_inner(sink);
        self.remember(result)
    }

    fn remember(&mut self, result: Result<(), Error>) -> Result<(), Error> {
        if let Err(e) = &result {
            self.failed = Some(e.clone());
            self.buf = Vec::new();
            self.tree = Tree::default();
            self.open = Vec::new();
            self.texts = Vec::new();
            self.spares = Vec::new();
        }
        result
    }

    fn finish_inner<S: Sink + ?Sized>(&mut self, sink: &mut S) -> Result<(), Error> {
        if self.phase != Phase::Discard {
            self.append(&[], true);
            self.run(sink, true)?;
        }
        // Every byte has been read now (or dropped after the root, which cleared this).
        if self.invalid_utf8_at.take().is_some() {
            let at = self.place();
            sink.notice(invalid_utf8_notice() + &at);
        }
        if let Some(snippet) = self.prolog_text.take() {
            return Err(not_xml(&snippet));
        }
        match self.phase {
            Phase::AfterRoot | Phase::Discard => Ok(()),
            Phase::InRoot => {
                let root = self.root.clone().unwrap_or_default();
                Err(Error::server(
                    ErrorCode::TruncatedPage,
                    true,
                    format!(
                        "the response ended before </{root}> (after {} bytes): the connection was probably cut; the page will be retried",
                        self.raw_bytes
                    ),
                ))
            }
            Phase::BeforeRoot if !self.saw_content => Err(Error::server(
                ErrorCode::EmptyResponse,
                true,
                "the response body was empty (no XML at all): the page will be retried",
            )),
            Phase::BeforeRoot => Err(Error::server(
                ErrorCode::TruncatedPage,
                true,
                format!(
                    "the response ended before its root element began (after {} bytes): the connection was probably cut; the page will be retried",
                    self.raw_bytes
                ),
            )),
        }
    }

    /// Appends `chunk` to the buffer: as it is until invalid UTF-8 has been met (a multi-byte
    /// sequence cut by the chunk end waits in `utf8_pending`, unless `finishing`), sanitised after.
    fn append(&mut self, chunk: &[u8], finishing: bool) {
        if self.lenient {
            return self.append_sanitized(chunk, finishing);
        }
        let joined = self.after_pending(chunk);
        let keep = if finishing { 0 } else { incomplete_utf8_tail(&joined) };
        let (complete, cut) = joined.split_at(joined.len() - keep);
        self.buf.extend_from_slice(complete);
        // `after_pending` took whatever was pending: what is left is only this chunk's cut end.
        self.utf8_pending.extend_from_slice(cut);
    }

    /// `chunk` after the bytes of a character cut by the end of the previous chunk, if any.
    fn after_pending<'c>(&mut self, chunk: &'c [u8]) -> Cow<'c, [u8]> {
        if self.utf8_pending.is_empty() {
            return Cow::Borrowed(chunk);
        }
        let mut v = std::mem::take(&mut self.utf8_pending);
        v.extend_from_slice(chunk);
        Cow::Owned(v)
    }

    /// The tokenizer met invalid UTF-8 at the start of the buffer (everything before it was committed):
    /// sanitise what is left, and every later chunk.
    fn start_sanitising(&mut self, finishing: bool) {
        self.lenient = true;
        let mut raw = std::mem::take(&mut self.buf);
        raw.append(&mut self.utf8_pending);
        self.append_sanitized(&raw, finishing);
    }

    /// Appends `chunk` to the buffer as valid UTF-8, replacing invalid sequences with U+FFFD. A
    /// sequence cut by the chunk end waits in `utf8_pending` unless `finishing`.
    fn append_sanitized(&mut self, chunk: &[u8], finishing: bool) {
        let joined = self.after_pending(chunk);
        let mut rest: &[u8] = &joined;
        loop {
            match std::str::from_utf8(rest) {
                Ok(_) => {
                    self.buf.extend_from_slice(rest);
                    return;
                }
                Err(e) => {
                    let (good, after) = rest.split_at(e.valid_up_to().min(rest.len()));
                    self.buf.extend_from_slice(good);
                    match e.error_len() {
                        Some(n) => {
                            self.push_replacement();
                            rest = after.get(n..).unwrap_or(&[]);
                        }
                        None if finishing => {
                            self.push_replacement();
                            return;
                        }
                        None => {
                            self.utf8_pending = after.to_vec();
                            return;
                        }
                    }
                }
            }
        }
    }

    fn push_replacement(&mut self) {
        if !self.utf8_recorded {
            self.utf8_recorded = true;
            self.invalid_utf8_at = Some(self.consumed + self.buf.len() as u64);
        }
        self.buf.extend_from_slice("\u{FFFD}".as_bytes());
    }

    /// Parses the buffer, drains what was committed, and checks the carry-over cap.
    fn run<S: Sink + ?Sized>(&mut self, sink: &mut S, finishing: bool) -> Result<(), Error> {
        if !finishing {
            if let Some(w) = self.wait.as_mut() {
                let back = w.terminator.len().saturating_sub(1);
                let from = w.scanned.saturating_sub(back).max(w.from);
                let found = self.buf.get(from..).is_some_and(|region| contains(region, w.terminator));
                if !found {
                    w.scanned = self.buf.len();
                    return self.check_carry_over(sink);
                }
            }
        }
        self.wait = None;
        loop {
            let buf = std::mem::take(&mut self.buf);
            let outcome = self.process(&buf, sink, finishing);
            self.buf = buf;
            let committed = outcome?.min(self.buf.len());
            self.buf.drain(..committed);
            self.consumed += committed as u64;
            if self.phase == Phase::Discard {
                self.buf = Vec::new();
                self.utf8_pending = Vec::new();
                self.wait = None;
                return Ok(());
            }
            if !std::mem::take(&mut self.invalid_utf8_met) {
                return self.check_carry_over(sink);
            }
            // Parse the rest again, sanitised, from the event that held the invalid bytes.
            self.start_sanitising(finishing);
        }
    }

    /// The uncommitted tail is (a prefix of) one token: it must fit in the cap too.
    fn check_carry_over<S: Sink + ?Sized>(&mut self, sink: &mut S) -> Result<(), Error> {
        let held = self.buffered();
        if self.check_token(0, held, sink)? == Flow::Stop {
            self.buf = Vec::new();
            self.utf8_pending = Vec::new();
        }
        Ok(())
    }

    /// Tokenizes `buf` and returns how many bytes were committed.
    ///
    /// The buffer is validated as UTF-8 once; the common tokens of the validated part (text,
    /// start, empty and end tags, CDATA) are found by [`scan`] with quick-xml's own tag parser.
    /// Everything else (references, comments, processing instructions, the XML declaration,
    /// DOCTYPE) and any token cut by the end of the buffer or by invalid bytes is read by a
    /// quick-xml reader started at that token, one event, exactly as a reader run over the whole
    /// buffer would read it there (each push restarts the reader anyway, so no reader state is
    /// carried between tokens); its errors are handled as before.
    fn process<S: Sink + ?Sized>(&mut self, buf: &[u8], sink: &mut S, finishing: bool) -> Result<usize, Error> {
        let len = buf.len();
        // A byte order mark at the document start is not content. Anywhere else U+FEFF is a
        // character of text, which the tokenizer reads as such.
        let start = if self.consumed == 0 && buf.starts_with(BOM) { BOM.len() } else { 0 };
        let input = buf.get(start..).unwrap_or(&[]);
        let valid = valid_utf8_prefix(input);
        let whole = valid.len() == input.len();
        let mut pos = 0usize;
        while pos < input.len() {
            // What `read_token` does, with the common case kept small (no `Read` to move around).
            let step = match scan(valid, pos, whole) {
                Some((token, end)) => self.on_token(token, start + pos, start + end, len, finishing, sink)?,
                None => match read_with_quick_xml(input, pos) {
                    Read::Scanned(token, end) => {
                        self.on_token(token, start + pos, start + end, len, finishing, sink)?
                    }
                    Read::QuickXml(event, end) => {
                        self.on_event(event, buf, start + pos, start + end, finishing, sink)?
                    }
                },
            };
            match step {
                Step::Next(end) => pos = end - start,
                Step::Done(committed) => return Ok(committed),
            }
        }
        Ok(len)
    }

    /// Handles what quick-xml read at `ev_start` of `buf` (see [`read_token`]).
    #[inline(never)]
    fn on_event<S: Sink + ?Sized>(
        &mut self,
        event: Result<Event<'_>, XmlError>,
        buf: &[u8],
        ev_start: usize,
        ev_end: usize,
        finishing: bool,
        sink: &mut S,
    ) -> Result<Step, Error> {
        let len = buf.len();
        let ev_end = ev_end.min(len);
        let event = match event {
            Ok(Event::Eof) => return Ok(Step::Done(len)),
            Ok(event) => event,
            Err(XmlError::Encoding(_)) if !self.lenient => {
                self.invalid_utf8_met = true;
                return Ok(Step::Done(ev_start));
            }
            Err(err) => return self.on_syntax_error(buf, &err, ev_start, ev_end, sink, finishing).map(Step::Done),
        };
        match token_of(&event) {
            Some(token) => self.on_token(token, ev_start, ev_end, len, finishing, sink),
            None => Ok(Step::Next(ev_end)),
        }
    }

    /// Handles one complete token spanning `ev_start..ev_end` of a buffer of `len` bytes.
    #[inline(always)]
    fn on_token<S: Sink + ?Sized>(
        &mut self,
        token: Token<'_>,
        ev_start: usize,
        ev_end: usize,
        len: usize,
        finishing: bool,
        sink: &mut S,
    ) -> Result<Step, Error> {
        let flow = match token {
            Token::Text(raw) => {
                if ev_end >= len && !finishing {
                    // Text cut by the end of the buffer: commit what cannot change.
                    let keep = committable_tail_text(raw);
                    let piece = raw.get(..keep).unwrap_or("");
                    let end = ev_start + piece.len();
                    if !piece.is_empty() && self.on_text(piece, ev_start, end, sink)? == Flow::Stop {
                        return Ok(Step::Done(len));
                    }
                    return Ok(Step::Done(end));
                }
                self.on_text(raw, ev_start, ev_end, sink)?
            }
            Token::Reference(name) => self.on_reference(name, ev_start, ev_end, sink)?,
            Token::CData(content) => {
                if self.check_token(ev_start, ev_end, sink)? == Flow::Stop {
                    return Ok(Step::Done(len));
                }
                self.on_cdata(content, ev_start, ev_end, sink)?
            }
            Token::Start(ref tag, ascii_name) | Token::Empty(ref tag, ascii_name) => {
                if self.check_token(ev_start, ev_end, sink)? == Flow::Stop {
                    return Ok(Step::Done(len));
                }
                self.on_start(tag, matches!(token, Token::Empty(..)), ascii_name, ev_start, ev_end, sink)?
            }
            Token::End(name) => {
                if self.check_token(ev_start, ev_end, sink)? == Flow::Stop {
                    return Ok(Step::Done(len));
                }
                self.on_end(name, ev_start, ev_end, sink)?
            }
            Token::OtherMarkup => {
                if self.check_token(ev_start, ev_end, sink)? == Flow::Stop {
                    return Ok(Step::Done(len));
                }
                self.on_other_markup()?;
                Flow::Continue
            }
        };
        Ok(match flow {
            Flow::Continue => Step::Next(ev_end),
            Flow::Stop => Step::Done(len),
        })
    }

    fn on_syntax_error<S: Sink + ?Sized>(
        &mut self,
        buf: &[u8],
        err: &XmlError,
        ev_start: usize,
        ev_end: usize,
        sink: &mut S,
        finishing: bool,
    ) -> Result<usize, Error> {
        let len = buf.len();
        let tail = buf.get(ev_start..).unwrap_or(&[]);
        self.saw_content = true;
        let incomplete = match err {
            // `<` or `<!` at the very end: more bytes decide what it is.
            XmlError::Syntax(SyntaxError::UnclosedTag | SyntaxError::InvalidBangMarkup) if tail.len() <= 2 => true,
            // quick-xml scanned to the end of the input without finding the token's end.
            XmlError::Syntax(_) => ev_end >= len,
            _ => false,
        };
        if incomplete && !finishing {
            self.wait = wait_for(tail);
            return Ok(ev_start);
        }
        if matches!(self.phase, Phase::AfterRoot) {
            self.discard(ev_start, sink);
            return Ok(len);
        }
        // A complete but malformed token: the cap comes first, as it would have if the token had
        // arrived in pieces and sat in the carry-over buffer.
        if self.check_token(ev_start, ev_end, sink)? == Flow::Stop {
            return Ok(len);
        }
        if incomplete {
            // finish() turns this into TRUNCATED_PAGE (or NOT_XML) with the right message.
            return Ok(len);
        }
        Err(self.malformed(ev_start, &err.to_string()))
    }

    /// Gives the invalid-UTF-8 notice, if the first U+FFFD lies before `rel_pos`. Called only just
    /// before structural sink calls (open, close, captured) and when content after the root is
    /// dropped, at the start of the token concerned: those positions do not depend on how the input
    /// was split, so neither does the order of notices and items.
    fn notice_invalid_before<S: Sink + ?Sized>(&mut self, rel_pos: usize, sink: &mut S) {
        if let Some(at) = self.invalid_utf8_at {
            if at < self.consumed + rel_pos as u64 {
                self.invalid_utf8_at = None;
                let at = self.place();
                sink.notice(invalid_utf8_notice() + &at);
            }
        }
    }

    /// A token (complete, or cut but already longer than the cap) must fit in the cap. After the
    /// root element it is merely dropped, like any other content there.
    #[inline]
    fn check_token<S: Sink + ?Sized>(&mut self, ev_start: usize, ev_end: usize, sink: &mut S) -> Result<Flow, Error> {
        if ev_end.saturating_sub(ev_start) <= self.max_record_bytes {
            return Ok(Flow::Continue);
        }
        self.oversized_token(ev_start, sink)
    }

    #[cold]
    fn oversized_token<S: Sink + ?Sized>(&mut self, ev_start: usize, sink: &mut S) -> Result<Flow, Error> {
        if self.phase == Phase::AfterRoot {
            self.discard(ev_start, sink);
            return Ok(Flow::Stop);
        }
        Err(self.token_too_large())
    }

    #[inline]
    fn check_record(&self, rel_end: usize) -> Result<(), Error> {
        if !self.open.is_empty() {
            let size = (self.consumed + rel_end as u64).saturating_sub(self.capture_start);
            if size > self.max_record_bytes as u64 {
                return Err(self.record_too_large());
            }
        }
        Ok(())
    }

    #[cold]
    fn record_too_large(&self) -> Error {
        Error::server(
            ErrorCode::RecordTooLarge,
            false,
            format!(
                "the <{}> element starting at byte {} is larger than the per-record cap of {}; raise the cap with the maxRecordMB parameter if records this large are expected",
                shorten(self.tree.name_of(0)),
                self.capture_start,
                describe_bytes(self.max_record_bytes)
            ),
        )
    }

    /// Where the reader is, for a data notice: ` (in <DNS> of a <HOST> record)` inside a captured
    /// record (` (in a <HOST> record)` between its children: the invalid-UTF-8 notice comes at the
    /// next tag, so it may name the record only), ` (in <HOST_LIST>)` outside one, `""` before the
    /// root.
    fn place(&self) -> String {
        match (self.open.last(), self.open.first()) {
            (Some(&inner), Some(&outer)) if inner == outer => {
                format!(" (in a <{}> record)", shorten(self.tree.name_of(outer)))
            }
            (Some(&inner), Some(&outer)) => format!(
                " (in <{}> of a <{}> record)",
                shorten(self.tree.name_of(inner)),
                shorten(self.tree.name_of(outer))
            ),
            _ => self.stack.last().map(|n| format!(" (in <{}>)", shorten(n))).unwrap_or_default(),
        }
    }

    fn token_too_large(&self) -> Error {
        let inside = match self.open.first().map(|&i| self.tree.name_of(i)).or(self.stack.last().map(String::as_str)) {
            Some(name) => format!(" inside <{}>", shorten(name)),
            None => String::new(),
        };
        Error::server(
            ErrorCode::RecordTooLarge,
            false,
            format!(
                "a single XML token (tag, comment, CDATA section or DOCTYPE){inside} is larger than the cap of {}; raise the cap with the maxRecordMB parameter if records this large are expected",
                describe_bytes(self.max_record_bytes)
            ),
        )
    }

    fn malformed(&self, rel_pos: usize, what: &str) -> Error {
        let inside = match self.open.last().map(|&i| self.tree.name_of(i)).or(self.stack.last().map(String::as_str)) {
            Some(name) => format!(" inside <{}>", shorten(name)),
            None => String::new(),
        };
        Error::server(
            ErrorCode::MalformedXml,
            false,
            format!("the response is not well-formed XML at byte {}{inside}: {what}", self.consumed + rel_pos as u64),
        )
    }

    fn discard<S: Sink + ?Sized>(&mut self, rel_pos: usize, sink: &mut S) {
        self.notice_invalid_before(rel_pos, sink);
        let root = self.root.clone().unwrap_or_default();
        sink.notice(format!("unexpected content after </{}> was ignored (the document was complete)", shorten(&root)));
        self.phase = Phase::Discard;
        self.wait = None;
        // A U+FFFD further on is in discarded content: no notice for it.
        self.invalid_utf8_at = None;
    }

    /// Any markup other than elements, text and CDATA (comment, PI, declaration, DOCTYPE).
    fn on_other_markup(&mut self) -> Result<(), Error> {
        self.saw_content = true;
        if self.phase == Phase::BeforeRoot {
            if let Some(snippet) = self.prolog_text.take() {
                return Err(not_xml(&snippet));
            }
        }
        Ok(())
    }

    /// A piece of text (raw: no references inside; a literal `&` may be).
    fn on_text<S: Sink + ?Sized>(
        &mut self,
        raw: &str,
        rel_start: usize,
        rel_end: usize,
        sink: &mut S,
    ) -> Result<Flow, Error> {
        match self.phase {
            Phase::InRoot => {
                if !self.open.is_empty() {
                    // Indentation between elements: whitespace before any text is dropped anyway.
                    if !(is_blank(raw) && self.open_text_is_empty()) {
                        self.add_text(|dst, at_start| append_text(dst, raw, at_start));
                    }
                    self.check_record(rel_end)?;
                }
                Ok(Flow::Continue)
            }
            Phase::BeforeRoot => {
                self.prolog(raw)?;
                Ok(Flow::Continue)
            }
            Phase::AfterRoot => {
                if is_blank(raw) {
                    Ok(Flow::Continue)
                } else {
                    self.discard(rel_start, sink);
                    Ok(Flow::Stop)
                }
            }
            Phase::Discard => Ok(Flow::Stop),
        }
    }

    fn on_cdata<S: Sink + ?Sized>(
        &mut self,
        content: &str,
        rel_start: usize,
        rel_end: usize,
        sink: &mut S,
    ) -> Result<Flow, Error> {
        match self.phase {
            Phase::InRoot => {
                if !self.open.is_empty() {
                    self.add_text(|dst, at_start| append_text(dst, content, at_start));
                    self.check_record(rel_end)?;
                }
                Ok(Flow::Continue)
            }
            Phase::BeforeRoot => {
                self.saw_content = true;
                self.prolog(&format!("<![CDATA[{content}]]>"))?;
                Ok(Flow::Continue)
            }
            Phase::AfterRoot => {
                self.discard(rel_start, sink);
                Ok(Flow::Stop)
            }
            Phase::Discard => Ok(Flow::Stop),
        }
    }

    fn on_reference<S: Sink + ?Sized>(
        &mut self,
        name: &str,
        rel_start: usize,
        rel_end: usize,
        sink: &mut S,
    ) -> Result<Flow, Error> {
        match self.phase {
            Phase::InRoot => {
                if self.open.is_empty() {
                    return Ok(Flow::Continue);
                }
                let resolved = resolve_reference(name);
                if resolved.is_none() && is_reference_name(name) && !self.entity_noticed {
                    self.entity_noticed = true;
                    sink.notice(format!(
                        "unknown entity reference &{}; kept as literal text (only the five predefined XML entities and numeric character references are resolved; later unknown references get no further notice){}",
                        shorten(name),
                        self.place()
                    ));
                }
                self.add_text(|text, _| match resolved {
                    Some(c) => {
                        text.push(c);
                        escape::is_verbatim(c.encode_utf8(&mut [0; 4]))
                    }
                    None => {
                        text.push('&');
                        text.push_str(name);
                        text.push(';');
                        false
                    }
                });
                self.check_record(rel_end)?;
                Ok(Flow::Continue)
            }
            Phase::BeforeRoot => {
                self.prolog(&format!("&{name};"))?;
                Ok(Flow::Continue)
            }
            Phase::AfterRoot => {
                self.discard(rel_start, sink);
                Ok(Flow::Stop)
            }
            Phase::Discard => Ok(Flow::Stop),
        }
    }

    /// Text before the root element: whitespace is fine; anything else means the body is not XML.
    fn prolog(&mut self, raw: &str) -> Result<(), Error> {
        if self.prolog_text.is_none() && is_blank(raw) {
            return Ok(());
        }
        self.saw_content = true;
        let snippet = self.prolog_text.get_or_insert_with(String::new);
        let piece = if snippet.is_empty() { trim_xml_start(raw) } else { raw };
        let have = snippet.chars().count();
        snippet.extend(piece.chars().take(SNIPPET_CHARS.saturating_sub(have)));
        if snippet.chars().count() >= SNIPPET_CHARS {
            let snippet = self.prolog_text.take().unwrap_or_default();
            return Err(not_xml(&snippet));
        }
        Ok(())
    }
}

#[path = "push_capture.rs"]
mod capture;
#[path = "push_rules.rs"]
mod rules;
use self::rules::*;

#[cfg(test)]
#[path = "push_reader_tests.rs"]
mod tests;

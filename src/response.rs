//! The Qualys document layer: turns the bytes of one Qualys VM API response into [`Item`]s.
//!
//! In scope: recognising the root element whatever the HTTP status (the three data outputs,
//! `SIMPLE_RETURN`, `GENERIC_RETURN`, anything else); checking that a data output is the one the feed
//! expects ([`DocKind`]); cutting the document into records (`VULN`, `HOST`, each delivered whole as
//! a [`Tree`] as soon as it closes); the paging `WARNING` (code 1980 with its `URL`), other
//! warnings, `ID_SET` entries, and whole `SIMPLE_RETURN`/`GENERIC_RETURN` documents; passing parser
//! notices through. Unknown elements inside records stay in the tree; unknown elements elsewhere are
//! ignored. The API version in the URL does not matter (same roots for /api/2.0 ... /api/5.0).
//!
//! Out of scope: XML tokenising, caps and truncation detection (see [`crate::xml::push_reader`]);
//! what a Qualys return code means and whether to retry (the caller classifies [`QualysReturn`]);
//! mapping records to Archer fields (see `crate::output`); HTTP.

use crate::error::{Error, ErrorCode};
use crate::text::server_text;
use crate::xml::push_reader::{Capture, PushReader, Sink, DEFAULT_MAX_RECORD_BYTES};
use crate::xml::{Node, Tree};

const SIMPLE_RETURN: &str = "SIMPLE_RETURN";
const GENERIC_RETURN: &str = "GENERIC_RETURN";

pub use crate::qualys::DocKind;

/// Memory limits for one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Cap on one record (and on one XML token), in bytes of input. Default 64 MiB.
    pub max_record_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_record_bytes: DEFAULT_MAX_RECORD_BYTES }
    }
}

/// One thing found in a response, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A whole record: a KB `VULN`, or a `HOST` (with its `DETECTION_LIST` for detections). Give
    /// the tree back with [`ResponseParser::recycle`] when done with it.
    Record(Tree),
    /// `RESPONSE/WARNING` with code 1980 (or any warning with a non-empty `URL`): the next page.
    NextPage {
        /// The next page's URL, as Qualys sent it.
        url: String,
    },
    /// Any other `RESPONSE/WARNING` (including a 1980 without a URL).
    Warning {
        /// The warning's code.
        code: Option<String>,
        /// Its text.
        text: String,
    },
    /// `RESPONSE/ID_SET/ID` (min == max) or `RESPONSE/ID_SET/ID_RANGE` ("a-b").
    IdRange {
        /// The first ID.
        min: u64,
        /// The last ID (inclusive).
        max: u64,
    },
    /// A `SIMPLE_RETURN` or `GENERIC_RETURN` document, whole (the caller decides what it means).
    QualysReturn(QualysReturn),
    /// A parser notice for the log (non-UTF-8 bytes replaced, unknown entity kept, ...).
    Notice(String),
}

/// The content of a `SIMPLE_RETURN` or `GENERIC_RETURN` document.
///
/// `SIMPLE_RETURN/RESPONSE/{DATETIME, CODE, TEXT, ITEM_LIST/ITEM/{KEY, VALUE}}` map directly.
/// For `GENERIC_RETURN` (`<API ... at="..."/>` and `<RETURN status=".." number="..">text</RETURN>`):
/// `datetime` is `API@at`, `code` is `RETURN@number`, `text` is the `RETURN` text (or its `MESSAGE`
/// or `TEXT` child), and `items` holds `("STATUS", RETURN@status)` when present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QualysReturn {
    /// `SIMPLE_RETURN` or `GENERIC_RETURN`.
    pub root: String,
    /// When Qualys answered, as it says.
    pub datetime: Option<String>,
    /// The Qualys return code, if any.
    pub code: Option<String>,
    /// The Qualys message.
    pub text: String,
    /// `ITEM_LIST` entries as (key, value).
    pub items: Vec<(String, String)>,
}

/// At most this many `ITEM_LIST` entries of a `SIMPLE_RETURN` are kept (Qualys sends one or two).
const MAX_RETURN_ITEMS: usize = 50;

impl QualysReturn {
    /// Value of an `ITEM_LIST` entry, e.g. `SECONDS_TO_WAIT`.
    pub fn item(&self, key: &str) -> Option<&str> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Reads the document from its tree. Every text is server text: it is kept only as
    /// [`crate::text::server_text`] renders it (control characters escaped, capped), so whatever
    /// message quotes it stays one bounded line.
    fn from_tree(root: Node<'_>) -> QualysReturn {
        if root.name() == GENERIC_RETURN {
            return QualysReturn::from_generic(root);
        }
        let response = root.child("RESPONSE");
        let text_of = |name: &str| response.and_then(|r| r.child_text(name)).map(server_text);
        let items = response
            .and_then(|r| r.child("ITEM_LIST"))
            .map(|list| {
                list.children()
                    .filter(|item| item.name() == "ITEM")
                    .take(MAX_RETURN_ITEMS)
                    .map(|item| {
                        (
                            server_text(item.child_text("KEY").unwrap_or_default()),
                            server_text(item.child_text("VALUE").unwrap_or_default()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        QualysReturn {
            datetime: text_of("DATETIME"),
            code: text_of("CODE"),
            text: text_of("TEXT").unwrap_or_default(),
            items,
            root: root.name().to_string(),
        }
    }

    fn from_generic(root: Node<'_>) -> QualysReturn {
        let api = find(root, "API");
        let ret = find(root, "RETURN");
        let mut text = ret.map(|r| r.text()).unwrap_or_default();
        if text.is_empty() {
            if let Some(r) = ret {
                text = r.child_text("MESSAGE").or_else(|| r.child_text("TEXT")).unwrap_or_default();
            }
        }
        let non_empty = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(server_text);
        let mut items = Vec::new();
        if let Some(status) = non_empty(ret.and_then(|r| r.attr("status"))) {
            items.push(("STATUS".to_string(), status));
        }
        QualysReturn {
            datetime: non_empty(api.and_then(|a| a.attr("at"))),
            code: non_empty(ret.and_then(|r| r.attr("number"))),
            text: server_text(text),
            items,
            root: root.name().to_string(),
        }
    }
}

/// First element with this name, depth first (iterative: no recursion on untrusted trees).
fn find<'a>(root: Node<'a>, name: &str) -> Option<Node<'a>> {
    let mut todo = vec![root];
    while let Some(el) = todo.pop() {
        if el.name() == name {
            return Some(el);
        }
        let children: Vec<Node<'a>> = el.children().collect();
        todo.extend(children.into_iter().rev());
    }
    None
}

/// Streams one Qualys response into [`Item`]s. Push the body in chunks of any size; the items are
/// the same whatever the split.
#[derive(Debug)]
pub struct ResponseParser {
    kind: DocKind,
    reader: PushReader,
}

impl ResponseParser {
    /// A parser for one response expected to be a `kind` document.
    pub fn new(kind: DocKind, limits: Limits) -> Self {
        ResponseParser { kind, reader: PushReader::new(limits.max_record_bytes) }
    }

    /// Feeds the next chunk; items are appended to `out` as their elements close.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Item>) -> Result<(), Error> {
        let mut sink = DocSink { kind: self.kind, out };
        self.reader.push(chunk, &mut sink)
    }

    /// Ends the response. `Ok` only if the root element closed; a cut document is
    /// `TRUNCATED_PAGE` (retryable), an empty body `EMPTY_RESPONSE`.
    pub fn finish(&mut self, out: &mut Vec<Item>) -> Result<(), Error> {
        let mut sink = DocSink { kind: self.kind, out };
        self.reader.finish(&mut sink)
    }

    /// Gives back the tree of an [`Item::Record`] once it has been written, so that later records
    /// reuse its memory instead of allocating.
    pub fn recycle(&mut self, tree: Tree) {
        self.reader.recycle(tree);
    }

    /// Raw bytes pushed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.reader.bytes_seen()
    }

    /// The root element's name, once seen.
    pub fn root(&self) -> Option<&str> {
        self.reader.root()
    }
}

struct DocSink<'a> {
    kind: DocKind,
    out: &'a mut Vec<Item>,
}

impl DocSink<'_> {
    fn open_root(&self, name: &str) -> Result<Capture, Error> {
        if name == SIMPLE_RETURN || name == GENERIC_RETURN {
            return Ok(Capture::Tree);
        }
        match DocKind::from_root(name) {
            Some(kind) if kind == self.kind => Ok(Capture::Skip),
            Some(kind) => Err(Error::config(
                ErrorCode::WrongEndpoint,
                format!(
                    "the response is a {} ({}) but this feed expects a {} ({}): the {} parameter probably points at the wrong Qualys API",
                    kind.describe(),
                    kind.root_element(),
                    self.kind.describe(),
                    self.kind.root_element(),
                    self.kind.url_parameter()
                ),
            )),
            None => {
                let shown: String = name.chars().take(64).collect();
                Err(Error::server(
                    ErrorCode::UnexpectedDocument,
                    false,
                    format!(
                        "the response is a <{shown}> document, not a Qualys {} ({}) or SIMPLE_RETURN: something other than the Qualys API (a proxy, a login or error page) probably answered; check the {} parameter and any proxy",
                        self.kind.describe(),
                        self.kind.root_element(),
                        self.kind.url_parameter()
                    ),
                ))
            }
        }
    }
}

impl Sink for DocSink<'_> {
    fn open(&mut self, path: &[String], name: &str) -> Result<Capture, Error> {
        let (list, record) = self.kind.record_list();
        Ok(match path {
            [] => return self.open_root(name),
            [_, response] if response == "RESPONSE" && name == "WARNING" => Capture::Tree,
            [_, response, parent] if response == "RESPONSE" => {
                if (parent == list && name == record) || (parent == "ID_SET" && (name == "ID" || name == "ID_RANGE")) {
                    Capture::Tree
                } else {
                    Capture::Skip
                }
            }
            _ => Capture::Skip,
        })
    }

    fn captured(&mut self, path: &[String], tree: Tree) -> Result<(), Error> {
        let root = tree.root();
        let item = match (path, root.name()) {
            ([], _) => Item::QualysReturn(QualysReturn::from_tree(root)),
            ([_, _], "WARNING") => warning(root),
            ([_, _, _], "ID") => {
                let id = parse_id(root.text())?;
                Item::IdRange { min: id, max: id }
            }
            ([_, _, _], "ID_RANGE") => id_range(root.text())?,
            _ => Item::Record(tree),
        };
        self.out.push(item);
        Ok(())
    }

    fn close(&mut self, _path: &[String], _name: &str) -> Result<(), Error> {
        Ok(())
    }

    fn notice(&mut self, text: String) {
        self.out.push(Item::Notice(text));
    }
}

/// A `WARNING`: the paging URL is kept as sent (it is the next request); the code and text of any
/// other warning are server text, kept rendered (see [`QualysReturn::from_tree`]).
fn warning(element: Node<'_>) -> Item {
    let code = element.child_text("CODE").map(server_text);
    let url = element.child_text("URL");
    match url {
        Some(url) => Item::NextPage { url: url.to_string() },
        None => Item::Warning { code, text: server_text(element.child_text("TEXT").unwrap_or_default()) },
    }
}

fn parse_id(text: &str) -> Result<u64, Error> {
    text.trim().parse::<u64>().map_err(|_| bad_id_set(text))
}

fn id_range(text: &str) -> Result<Item, Error> {
    let (a, b) = text.split_once('-').ok_or_else(|| bad_id_set(text))?;
    let (min, max) = (parse_id(a)?, parse_id(b)?);
    if min > max {
        return Err(bad_id_set(text));
    }
    Ok(Item::IdRange { min, max })
}

fn bad_id_set(text: &str) -> Error {
    let shown: String = text.chars().take(64).collect();
    Error::server(
        ErrorCode::InvalidIdSet,
        false,
        format!("the response's ID_SET holds \"{shown}\", which is neither a host ID nor an ID range \"a-b\""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(kind: DocKind, doc: &str) -> (Vec<Item>, Result<(), Error>) {
        let mut parser = ResponseParser::new(kind, Limits::default());
        let mut out = Vec::new();
        let r = parser.push(doc.as_bytes(), &mut out).and_then(|_| parser.finish(&mut out));
        (out, r)
    }

    #[test]
    fn paging_warning_gives_next_page_url() {
        let doc = "<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE><DATETIME>x</DATETIME><HOST_LIST><HOST><ID>1</ID></HOST></HOST_LIST>\
            <WARNING><CODE>1980</CODE><TEXT>1 record limit exceeded. Use URL to get next batch of results.</TEXT>\
            <URL><![CDATA[ https://qualysapi.example/api/5.0/fo/asset/host/vm/detection/?action=list&truncation_limit=1&id_min=2 ]]></URL></WARNING>\
            </RESPONSE></HOST_LIST_VM_DETECTION_OUTPUT>";
        let (items, r) = parse(DocKind::Detections, doc);
        assert!(r.is_ok());
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[0], Item::Record(h) if h.root().child_text("ID") == Some("1")));
        assert_eq!(
            items[1],
            Item::NextPage {
                url: "https://qualysapi.example/api/5.0/fo/asset/host/vm/detection/?action=list&truncation_limit=1&id_min=2".into()
            }
        );
    }

    #[test]
    fn other_warnings_and_1980_without_url() {
        let doc = "<HOST_LIST_OUTPUT><RESPONSE><WARNING><CODE>1234</CODE><TEXT> odd </TEXT></WARNING>\
            <WARNING><CODE>1980</CODE><TEXT>limit</TEXT></WARNING></RESPONSE></HOST_LIST_OUTPUT>";
        let (items, r) = parse(DocKind::HostList, doc);
        assert!(r.is_ok());
        assert_eq!(
            items,
            vec![
                Item::Warning { code: Some("1234".into()), text: "odd".into() },
                Item::Warning { code: Some("1980".into()), text: "limit".into() },
            ]
        );
    }

    #[test]
    fn id_set_entries() {
        let doc = "<HOST_LIST_OUTPUT><RESPONSE><ID_SET><ID>5</ID><ID_RANGE> 7 - 9 </ID_RANGE></ID_SET></RESPONSE></HOST_LIST_OUTPUT>";
        let (items, r) = parse(DocKind::HostList, doc);
        assert!(r.is_ok());
        assert_eq!(items, vec![Item::IdRange { min: 5, max: 5 }, Item::IdRange { min: 7, max: 9 }]);
        let bad = "<HOST_LIST_OUTPUT><RESPONSE><ID_SET><ID_RANGE>9-7</ID_RANGE></ID_SET></RESPONSE></HOST_LIST_OUTPUT>";
        assert_eq!(parse(DocKind::HostList, bad).1.map_err(|e| e.code()), Err(ErrorCode::InvalidIdSet));
    }

    #[test]
    fn wrong_endpoint_and_unexpected_documents() {
        let (_, r) = parse(DocKind::KnowledgeBase, "<HOST_LIST_OUTPUT><RESPONSE/></HOST_LIST_OUTPUT>");
        let e = r.err().unwrap_or_else(|| Error::caller(ErrorCode::Internal, ""));
        assert_eq!(e.code(), ErrorCode::WrongEndpoint);
        assert_eq!(e.blame(), crate::error::Blame::Configuration);
        assert!(e.message().contains("kbUrl") && e.message().contains("HOST_LIST_OUTPUT"), "{}", e.message());

        let (_, r) = parse(DocKind::Detections, "<!DOCTYPE html>\n<html><body>Proxy error</body></html>");
        let e = r.err().unwrap_or_else(|| Error::caller(ErrorCode::Internal, ""));
        assert_eq!(e.code(), ErrorCode::UnexpectedDocument);
        assert!(e.message().contains("<html>"));
        // names are matched exactly
        let (_, r) = parse(DocKind::HostList, "<host_list_output/>");
        assert_eq!(r.map_err(|e| e.code()), Err(ErrorCode::UnexpectedDocument));
    }

    #[test]
    fn generic_return() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE GENERIC_RETURN SYSTEM \"https://qualysapi.qualys.com/generic_return.dtd\">\n\
            <GENERIC_RETURN>\n <API name=\"index.php\" username=\"u\" at=\"2018-02-13T06:09:27Z\"/>\n\
            <RETURN status=\"FAILED\" number=\"999\">Internal error. Please contact customer support.</RETURN>\n</GENERIC_RETURN>\n\
            <!-- Incident signature: 123a //-->";
        let (items, r) = parse(DocKind::KnowledgeBase, doc);
        assert!(r.is_ok());
        assert_eq!(
            items,
            vec![Item::QualysReturn(QualysReturn {
                root: "GENERIC_RETURN".into(),
                datetime: Some("2018-02-13T06:09:27Z".into()),
                code: Some("999".into()),
                text: "Internal error. Please contact customer support.".into(),
                items: vec![("STATUS".into(), "FAILED".into())],
            })]
        );
        let nested = "<GENERIC_RETURN><API name=\"x\"><RETURN status=\"FAILED\" number=\"1960\"><MESSAGE>busy</MESSAGE></RETURN></API></GENERIC_RETURN>";
        let (items, _) = parse(DocKind::HostList, nested);
        assert!(matches!(&items[0], Item::QualysReturn(q) if q.code.as_deref() == Some("1960") && q.text == "busy"));
    }

    #[test]
    fn unknown_elements_kept_in_records_and_ignored_elsewhere() {
        let doc = "<KNOWLEDGE_BASE_VULN_LIST_OUTPUT><NEW_THING>x</NEW_THING><RESPONSE><GLOSSARY><VULN><QID>0</QID></VULN></GLOSSARY>\
            <VULN_LIST><VULN><QID>1</QID><CVSS_V4><BASE>9.3</BASE></CVSS_V4></VULN></VULN_LIST></RESPONSE></KNOWLEDGE_BASE_VULN_LIST_OUTPUT>";
        let (items, r) = parse(DocKind::KnowledgeBase, doc);
        assert!(r.is_ok());
        assert_eq!(items.len(), 1);
        match &items[0] {
            Item::Record(v) => {
                assert_eq!(v.root().child_text("QID"), Some("1"));
                assert_eq!(v.root().path(&["CVSS_V4", "BASE"]).map(|e| e.text()), Some("9.3"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn truncation_and_empty() {
        let (items, r) =
            parse(DocKind::HostList, "<HOST_LIST_OUTPUT><RESPONSE><HOST_LIST><HOST><ID>1</ID></HOST><HOST><ID>2");
        assert_eq!(items.len(), 1);
        let e = r.err().unwrap_or_else(|| Error::caller(ErrorCode::Internal, ""));
        assert_eq!(e.code(), ErrorCode::TruncatedPage);
        assert!(e.is_retryable());
        assert!(e.message().contains("</HOST_LIST_OUTPUT>"));
        assert_eq!(parse(DocKind::HostList, "").1.map_err(|e| e.code()), Err(ErrorCode::EmptyResponse));
    }

    #[test]
    fn bytes_seen_counts_raw_bytes() {
        let mut parser = ResponseParser::new(DocKind::HostList, Limits::default());
        let mut out = Vec::new();
        assert!(parser.push(b"<HOST_LIST_OUTPUT>", &mut out).is_ok());
        assert!(parser.push(b"\xFF</HOST_LIST_OUTPUT>", &mut out).is_ok());
        assert_eq!(parser.bytes_seen(), 38);
    }
}

//! Warnings by kind: the first few of each kind are logged, the rest only counted.
//!
//! In scope: the stable kind names ([`WarningKind::as_str`], reported in `Summary.warnings` and in
//! the final log line), which parser notice is which kind, and the per-kind log budget
//! ([`LOGGED_PER_KIND`]). Out of scope: the wording of each warning (its caller) and rendering
//! outside text (`crate::text`).
//!
//! Counts are occurrences: Qualys `WARNING` elements, responses that held bytes that are not UTF-8,
//! characters replaced in the output, ignored Custom Parameters, ...

/// How many warnings of one kind are logged; later ones are counted only.
pub const LOGGED_PER_KIND: u64 = 5;

/// What a warning is about. The names ([`WarningKind::as_str`]) are stable: scripts may read them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum WarningKind {
    /// `parameter`: a Custom Parameter that runs but deserves a look (unknown key, certificate
    /// checks off, ignored batchSize, URL path that does not match the data source).
    Parameter,
    /// `lastRunTime`: the LastRunTime token is unreadable, in the future, or before 1970 with the
    /// offset.
    LastRunTime,
    /// `checkpoint`: the PreviousRunContext checkpoint was ignored (see the warning for why).
    Checkpoint,
    /// `qualysWarning`: a Qualys `WARNING` element other than the paging one (code 1980).
    QualysWarning,
    /// `invalidUtf8`: a response held bytes that are not UTF-8 (replaced with U+FFFD).
    InvalidUtf8,
    /// `unknownEntity`: a response used an entity reference XML does not define (kept literally).
    UnknownEntity,
    /// `contentAfterRoot`: a response had content after its document ended (ignored).
    ContentAfterRoot,
    /// `parserNotice`: any other notice of the XML reader.
    ParserNotice,
    /// `replacedCharacters`: characters XML 1.0 does not allow, replaced by U+FFFD in the output.
    ReplacedCharacters,
    /// `stalledHost`: a host Qualys could not deliver even alone, skipped (`skipStalledHosts`);
    /// each is logged, none collapsed.
    StalledHost,
}

impl WarningKind {
    /// Every kind, in the order the totals list them.
    pub const ALL: [WarningKind; 10] = [
        WarningKind::Parameter,
        WarningKind::LastRunTime,
        WarningKind::Checkpoint,
        WarningKind::QualysWarning,
        WarningKind::InvalidUtf8,
        WarningKind::UnknownEntity,
        WarningKind::ContentAfterRoot,
        WarningKind::ParserNotice,
        WarningKind::ReplacedCharacters,
        WarningKind::StalledHost,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The stable name used in `Summary.warnings` and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::Parameter => "parameter",
            WarningKind::LastRunTime => "lastRunTime",
            WarningKind::Checkpoint => "checkpoint",
            WarningKind::QualysWarning => "qualysWarning",
            WarningKind::InvalidUtf8 => "invalidUtf8",
            WarningKind::UnknownEntity => "unknownEntity",
            WarningKind::ContentAfterRoot => "contentAfterRoot",
            WarningKind::ParserNotice => "parserNotice",
            WarningKind::ReplacedCharacters => "replacedCharacters",
            WarningKind::StalledHost => "stalledHost",
        }
    }

    /// The kind of a notice of the XML reader (`crate::xml::push_reader`), by its wording.
    pub fn of_notice(text: &str) -> WarningKind {
        if text.contains("not valid UTF-8") {
            WarningKind::InvalidUtf8
        } else if text.starts_with("unknown entity reference") {
            WarningKind::UnknownEntity
        } else if text.starts_with("unexpected content after") {
            WarningKind::ContentAfterRoot
        } else {
            WarningKind::ParserNotice
        }
    }
}

/// Counts per kind and whether the next one is still logged.
#[derive(Clone, Debug, Default)]
pub struct Notes {
    /// Occurrences per kind (indexed by [`WarningKind::index`]).
    counts: [u64; WarningKind::ALL.len()],
    /// Warnings per kind (one warning may stand for several occurrences).
    warnings: [u64; WarningKind::ALL.len()],
}

/// What to do with one warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Log it.
    Log,
    /// Log it and say that later ones of its kind are only counted.
    LogLast,
    /// Count it only.
    Count,
}

impl Notes {
    /// Counts `n` occurrences of `kind` (one warning); says whether to log it.
    pub fn note(&mut self, kind: WarningKind, n: u64) -> Verdict {
        let i = kind.index();
        if let Some(c) = self.counts.get_mut(i) {
            *c = c.saturating_add(n.max(1));
        }
        // The log budget counts warnings, not occurrences: a warning about n characters is one line.
        let Some(w) = self.warnings.get_mut(i) else { return Verdict::Count };
        *w = w.saturating_add(1);
        match (*w).cmp(&LOGGED_PER_KIND) {
            std::cmp::Ordering::Less => Verdict::Log,
            std::cmp::Ordering::Equal => Verdict::LogLast,
            std::cmp::Ordering::Greater => Verdict::Count,
        }
    }

    /// `kind=count` pairs, e.g. `qualysWarning=20000 invalidUtf8=3`, or "" when there were none.
    pub fn totals(&self) -> String {
        let parts: Vec<String> = WarningKind::ALL
            .iter()
            .zip(self.counts.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{}={n}", k.as_str()))
            .collect();
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{DocKind, Item, Limits, ResponseParser};

    #[test]
    fn the_first_few_of_a_kind_are_logged_then_counted() {
        let mut n = Notes::default();
        let verdicts: Vec<Verdict> = (0..7).map(|_| n.note(WarningKind::QualysWarning, 1)).collect();
        assert_eq!(&verdicts[..4], &[Verdict::Log; 4]);
        assert_eq!(verdicts[4], Verdict::LogLast);
        assert_eq!(&verdicts[5..], &[Verdict::Count; 2]);
        assert_eq!(n.note(WarningKind::InvalidUtf8, 1), Verdict::Log, "another kind has its own budget");
        assert_eq!(n.note(WarningKind::ReplacedCharacters, 12), Verdict::Log);
        assert_eq!(n.totals(), "qualysWarning=7 invalidUtf8=1 replacedCharacters=12");
        assert_eq!(Notes::default().totals(), "");
    }

    /// The reader's real notices map to their kinds.
    #[test]
    fn parser_notices_have_their_kinds() {
        let doc = b"<HOST_LIST_OUTPUT><RESPONSE><HOST_LIST><HOST><ID>1</ID><OS>a\xFF &nbsp; b</OS></HOST></HOST_LIST></RESPONSE></HOST_LIST_OUTPUT><x/>";
        let mut parser = ResponseParser::new(DocKind::HostList, Limits::default());
        let mut items = Vec::new();
        let _ = parser.push(doc, &mut items);
        let _ = parser.finish(&mut items);
        let kinds: Vec<WarningKind> = items
            .iter()
            .filter_map(|i| match i {
                Item::Notice(t) => Some(WarningKind::of_notice(t)),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, [WarningKind::UnknownEntity, WarningKind::InvalidUtf8, WarningKind::ContentAfterRoot]);
    }
}

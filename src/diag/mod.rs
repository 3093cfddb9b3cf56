//! Diagnostics as plain data: what went wrong, where, and how to fix it.
//!
//! Every stage of the pipeline pushes [`Diagnostic`]s into one [`Diagnostics`]
//! list; rendering (human text, JSON) happens once, at the edge, in
//! [`render`] and [`sarif`]. A diagnostic always names its check (a stable code from
//! [`crate::diag::codes`]) so users can look it up and re-level it.

pub mod codes;
pub mod render;
pub mod sarif;
pub mod style;

use codes::Check;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How bad a finding is. `Allow` means the user silenced the check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Allow,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Allow => "allow",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in a text input, with the 1-based line and column of its
/// first byte (columns count bytes, as Xen reads bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    /// Byte offset of the first byte in the file.
    pub offset: usize,
    /// Length in bytes (0 marks a position, e.g. "end of file").
    pub len: usize,
    pub line: u32,
    pub col: u32,
}

/// Where a diagnostic points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// Bytes of a cfg (text) file.
    Text(Span),
    /// A node (and optionally one of its properties) of a device tree file.
    Tree {
        file: PathBuf,
        node: String,
        property: Option<String>,
    },
    /// A whole file (missing, unreadable, wrong format...).
    File(PathBuf),
    /// Nothing more specific than the run itself.
    Nowhere,
}

/// One finding.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub check: &'static Check,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    /// Secondary locations with a short label ("first defined here").
    pub related: Vec<(Location, String)>,
    /// What Xen does with this input, or other context; rendered as `= note:`.
    pub notes: Vec<String>,
    /// The fix; rendered as `= help:`.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(check: &'static Check, location: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            check,
            severity: check.severity,
            message: message.into(),
            location,
            related: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn at(check: &'static Check, span: Span, message: impl Into<String>) -> Self {
        Self::new(check, Location::Text(span), message)
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Raise this finding with another severity than its check's default
    /// (e.g. a hazard that is an error only for some Xen versions).
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn related(mut self, location: Location, label: impl Into<String>) -> Self {
        self.related.push((location, label.into()));
        self
    }
}

/// The span of `text[start..start + len]`, where `text` is the value that
/// begins where `span` does. Values are decoded byte per char (Latin-1), so
/// an offset into the file counts chars, not the UTF-8 bytes of `text`.
pub fn sub_span(span: Span, text: &str, start: usize, len: usize) -> Span {
    let raw_start = text[..start].chars().count();
    let raw_len = text[start..start + len].chars().count();
    raw_sub_span(span, raw_start, raw_len)
}

/// A span covering `len` file bytes (value chars) at char `start` of a
/// single-line span. For loops that count chars themselves: calling
/// [`sub_span`] per item of a long list would be quadratic.
pub fn raw_sub_span(span: Span, start: usize, len: usize) -> Span {
    Span {
        offset: span.offset + start,
        len,
        col: span.col + start as u32,
        ..span
    }
}

/// The files that text spans point into, kept for rendering snippets.
#[derive(Default, Debug)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it (used in `file:line:col`).
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Offset of the first byte of every line (lines end at LF), so that
    /// rendering a diagnostic costs one line, not a scan of the file.
    line_starts: Vec<usize>,
}

impl SourceMap {
    pub fn add(&mut self, path: impl Into<PathBuf>, bytes: Vec<u8>) -> FileId {
        let id = FileId(self.files.len() as u32);
        let line_starts = std::iter::once(0).chain(after_each_lf(&bytes)).collect();
        self.files.push(SourceFile {
            path: path.into(),
            bytes,
            line_starts,
        });
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every file added, in order: the cfg and the chained cfgs read.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.path.as_path())
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.get(id).path
    }

    /// The bytes of the (1-based) line `line` of a file, without its end.
    pub fn line_text(&self, id: FileId, line: u32) -> &[u8] {
        let file = self.get(id);
        let index = (line as usize).saturating_sub(1);
        let Some(&start) = file.line_starts.get(index) else {
            return &[];
        };
        let end = file
            .line_starts
            .get(index + 1)
            .map_or(file.bytes.len(), |&next| next - 1);
        let l = file.bytes.get(start..end).unwrap_or(&[]);
        l.strip_suffix(b"\r").unwrap_or(l)
    }
}

/// The offsets just after each LF.
fn after_each_lf(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Per-check severity overrides from `-W/-A/-D` and `--deny-warnings`.
#[derive(Clone, Debug, Default)]
pub struct Levels {
    overrides: Vec<(&'static str, Severity)>,
    pub deny_warnings: bool,
}

impl Levels {
    /// Set the level of one check, named by code or name. Later calls win.
    pub fn set(&mut self, check: &'static Check, severity: Severity) {
        self.overrides.push((check.code, severity));
    }

    /// The severity a diagnostic ends up with: the user's override for its
    /// check if any, else the severity it was raised with.
    pub fn severity_of(&self, check: &Check, raised: Severity) -> Severity {
        let level = self
            .overrides
            .iter()
            .rev()
            .find(|(code, _)| *code == check.code)
            .map(|(_, s)| *s)
            .unwrap_or(raised);
        if self.deny_warnings && level == Severity::Warning {
            Severity::Error
        } else {
            level
        }
    }
}

/// Findings of one check kept in full; the rest are counted. A hostile
/// cfg can repeat one mistake a hundred thousand times: reading that many
/// diagnostics helps nobody, and holding them costs memory without bound.
pub const MAX_PER_CHECK: usize = 100;

/// The findings of one run, in the order they were found.
#[derive(Default, Debug)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
    /// Findings past [`MAX_PER_CHECK`] of their check, counted by check
    /// and severity.
    hidden: Vec<(&'static Check, Severity, usize)>,
    /// Findings kept per check code.
    kept: HashMap<&'static str, usize>,
    /// Every finding pushed, kept or not.
    pushed: usize,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.pushed += 1;
        let kept = self.kept.entry(diagnostic.check.code).or_insert(0);
        if *kept < MAX_PER_CHECK {
            *kept += 1;
            self.list.push(diagnostic);
            return;
        }
        let key = (diagnostic.check, diagnostic.severity);
        match self
            .hidden
            .iter_mut()
            .find(|(c, s, _)| std::ptr::eq(*c, key.0) && *s == key.1)
        {
            Some((_, _, n)) => *n += 1,
            None => self.hidden.push((key.0, key.1, 1)),
        }
    }

    /// Add what another run of findings holds, as if each had been pushed
    /// here (those it counted past the cap stay counted).
    pub fn extend_from(&mut self, other: &Diagnostics) {
        for d in &other.list {
            self.push(d.clone());
        }
        for &(check, severity, count) in &other.hidden {
            self.pushed += count;
            match self
                .hidden
                .iter_mut()
                .find(|(c, s, _)| std::ptr::eq(*c, check) && *s == severity)
            {
                Some((_, _, n)) => *n += count,
                None => self.hidden.push((check, severity, count)),
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }

    /// Every finding pushed, also those past the cap: callers compare it
    /// before and after a step to see whether the step reported anything.
    pub fn len(&self) -> usize {
        self.pushed
    }

    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// Apply the user's levels: re-level every diagnostic and drop the
    /// allowed ones.
    pub fn apply_levels(&mut self, levels: &Levels) {
        for d in &mut self.list {
            d.severity = levels.severity_of(d.check, d.severity);
        }
        self.list.retain(|d| d.severity != Severity::Allow);
        for (check, severity, _) in &mut self.hidden {
            *severity = levels.severity_of(check, *severity);
        }
        self.hidden.retain(|(_, s, _)| *s != Severity::Allow);
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
            || self.hidden.iter().any(|(_, s, _)| *s == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.list.iter().filter(|d| d.severity == severity).count()
    }

    /// Stable order for output: by file, then position, then code.
    /// Identical findings (a guest section shared by two boot sections is
    /// checked twice) are reported once.
    /// Findings past the cap become one finding per check, last.
    pub fn sort(&mut self) {
        self.list.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        self.list.dedup_by(|a, b| {
            a.check.code == b.check.code && a.location == b.location && a.message == b.message
        });
        for (check, severity, count) in self.hidden.drain(..) {
            self.list.push(
                Diagnostic::new(
                    check,
                    Location::Nowhere,
                    format!(
                        "{count} more `{}` finding{} not shown",
                        check.name,
                        if count == 1 { " is" } else { "s are" }
                    ),
                )
                .severity(severity)
                .note(format!(
                    "xencfg shows the first {MAX_PER_CHECK} findings of each check"
                ))
                .help("fix those shown and check again"),
            );
        }
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }
}

fn sort_key(d: &Diagnostic) -> (u8, u32, usize, String, &'static str) {
    match &d.location {
        Location::Text(s) => (0, s.file.0, s.offset, String::new(), d.check.code),
        Location::Tree { file, node, .. } => (
            1,
            0,
            0,
            format!("{}:{}", file.display(), node),
            d.check.code,
        ),
        Location::File(p) => (2, 0, 0, p.display().to_string(), d.check.code),
        Location::Nowhere => (3, 0, 0, String::new(), d.check.code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_text_finds_each_line() {
        let mut sources = SourceMap::default();
        let id = sources.add("x.cfg", b"[xen]\r\noptions=a\n\nlast".to_vec());
        assert_eq!(sources.line_text(id, 1), b"[xen]");
        assert_eq!(sources.line_text(id, 2), b"options=a");
        assert_eq!(sources.line_text(id, 3), b"");
        assert_eq!(sources.line_text(id, 4), b"last");
        assert_eq!(sources.line_text(id, 5), b"");
        assert_eq!(sources.line_text(id, 0), b"[xen]");
        let empty = sources.add("e.cfg", Vec::new());
        assert_eq!(sources.line_text(empty, 1), b"");
    }
}

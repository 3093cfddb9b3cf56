//! The Xen EFI cfg front end: bytes in, sections and entries with spans out.
//!
//! [`lexer`] reproduces Xen's `pre_parse()` byte for byte (reference §1.4)
//! and reports every place where Xen's reading differs from what the author
//! evidently meant. [`Document`] is the result: the sections in file order
//! with their `key=value` entries exactly as Xen's `get_value()` would
//! return them (reference §1.5), plus [`Document::xen_lookup`], which
//! answers a lookup the way Xen does.

pub mod lexer;

use crate::diag::{Diagnostics, FileId, Span};

/// A parsed cfg file.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: FileId,
    /// Entries before the first section header (never found by Xen once a
    /// section is selected).
    pub preamble: Vec<Entry>,
    /// Sections in file order, duplicates included (see [`Section::shadowed`]).
    pub sections: Vec<Section>,
    /// Bare words (lines without `=` that are not headers or comments), with
    /// the index of the section they are in (`None` before the first).
    /// Xen ignores them; xencfg reads them as flag properties in guest sections.
    pub bare_words: Vec<(Option<usize>, Word)>,
}

#[derive(Debug, Clone)]
pub struct Section {
    /// The bytes between `[` and `]`, as text.
    pub name: String,
    /// The span of the name inside the header.
    pub name_span: Span,
    /// The span of the whole header line.
    pub header_span: Span,
    /// Every byte of the header after `[`, up to the end of the line as Xen
    /// sees it (before a `#` comment or control byte): what Xen's
    /// `get_value` compares a section name against. Usually `name` + `]`;
    /// see [`Section::matches`].
    pub header_text: String,
    /// `key=value` entries in order, duplicates included.
    pub entries: Vec<Entry>,
    /// True when Xen never selects this section: an earlier section has the
    /// same name, or the header can never match a name (no `]`, or `[]`).
    /// A lookup without a section (no `default=`) still reads its entries.
    pub shadowed: bool,
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// The key exactly as written (bytes before the first `=`). Like every
    /// text in a [`Document`], bytes are widened one to one into chars
    /// U+0000..=U+00FF (Latin-1), as Xen's `s2w()` widens them.
    pub key: String,
    pub key_span: Span,
    /// The value as Xen's `get_value` returns it: leading blanks skipped,
    /// trailing blanks kept, cut at `#` or any control byte.
    pub value: String,
    pub value_span: Span,
    /// True when an earlier entry of the same section has the same key:
    /// Xen reads only the first.
    pub shadowed: bool,
}

#[derive(Debug, Clone)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

impl Document {
    /// Lex and parse `bytes`, pushing quirk diagnostics (XC01xx) into `diags`.
    pub fn parse(file: FileId, bytes: &[u8], diags: &mut Diagnostics) -> Document {
        lexer::parse(file, bytes, diags)
    }

    /// The section Xen would search for `name`: the first one whose header
    /// matches it (see [`Section::matches`]).
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.matches(name))
    }

    /// Exactly Xen's `get_value(cfg, section, key)`: with a section, the
    /// first `key=` of the first section of that name; with `None` (or an
    /// empty name), the first `key=` anywhere in the file.
    pub fn xen_lookup(&self, section: Option<&str>, key: &str) -> Option<&Entry> {
        match section.filter(|s| !s.is_empty()) {
            Some(name) => self.section(name)?.get(key),
            None => self
                .preamble
                .iter()
                .chain(self.sections.iter().flat_map(|s| s.entries.iter()))
                .find(|e| e.key == key),
        }
    }
}

impl Section {
    /// Xen's header test: the bytes after `[` start with `name` and the
    /// next byte is `]`. So `[xen] junk` matches `xen`, while `[xen`,
    /// `[ xen ]` and `[Xen]` do not, and an empty name matches nothing
    /// (Xen treats it as "no section").
    pub fn matches(&self, name: &str) -> bool {
        !name.is_empty()
            && self
                .header_text
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(']'))
    }

    /// The entry Xen reads for `key` in this section (the first).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// Every entry for `key`, for xencfg's repeatable keys.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.key == key)
    }
}

/// Keys that xencfg reads repeatedly (each occurrence counts), so a
/// repetition is not a "first one wins" mistake.
pub fn is_repeatable_key(key: &str) -> bool {
    matches!(
        key,
        "dtbo" | "property" | "evtchn" | "shared-mem" | "passthrough"
    ) || (key.starts_with("domu") && key.ends_with("_property"))
}

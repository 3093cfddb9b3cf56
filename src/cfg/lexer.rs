//! Xen's `pre_parse()` and `get_value()` reading, byte for byte, with spans.
//!
//! Xen's EFI loader reads its cfg in two steps (reference §1.4–§1.5):
//! `pre_parse()` rewrites the buffer in place, turning every control byte,
//! every leading blank and every comment into NUL; `get_value()` then walks
//! the NUL-separated *segments* that remain. This module walks the bytes
//! once in the same way and turns each segment into a [`Section`] header,
//! an [`Entry`] (`key=value`) or a bare [`Word`], so that
//! [`Document::xen_lookup`] answers every lookup exactly as Xen does.
//!
//! Along the way it reports (checks XC0101–XC0117) every place where Xen's
//! reading differs from what the author evidently meant.
//!
//! Decisions worth knowing:
//! - **Text**: bytes become chars one to one (U+0000..=U+00FF, Latin-1).
//!   Xen's `s2w()` widens each byte the same way, the mapping is a
//!   bijection (comparing two strings compares the original bytes, so
//!   `default=` against a header is byte-exact), and it never fails on
//!   invalid UTF-8. Non-ASCII bytes are reported (XC0107) anyway.
//! - **Physical lines** (for spans) end at LF only: CRLF is one line end
//!   (the CR sits at the end of its line), and a lone CR does *not* start
//!   a new line number, as in [`crate::diag::SourceMap::line_text`]. Xen
//!   still ends a *logical* line at that CR, so it is reported like a TAB
//!   (XC0102). Columns count bytes from 1.
//! - **Garbage** (UTF-16, or a file dense with NUL/control bytes) gives one
//!   XC0116 error and an empty document: Xen finds no usable key in it, and
//!   reading millions of one-byte segments would only flood the user.
//! - **No flooding**: each check reports at most [`CAP`] findings per file,
//!   then one summary; all work is linear in the input size.

use std::collections::HashMap;
use std::ops::Range;

use super::{Document, Entry, Section, Word, is_repeatable_key};
use crate::diag::codes::{self as checks, Check};
use crate::diag::{Diagnostic, Diagnostics, FileId, Location, Span};

/// Findings reported per check and file before the rest are summarised.
pub const CAP: usize = 20;

/// The UTF-8 byte order mark.
const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Xen's `iscntrl()` (xen/lib/ctype.c): 0x00–0x1F and DEL.
fn is_cntrl(b: u8) -> bool {
    b < 0x20 || b == 0x7F
}

/// Xen's `isspace()` minus the control bytes, which never reach the
/// places where Xen tests for space: 0x20 and the no-break space 0xA0.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == 0xA0
}

/// Widen bytes to chars one to one (Latin-1), as Xen's `s2w()` does.
fn text(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Bytes for a message: printable ASCII as is, anything else escaped, long
/// runs shortened, so a message is always one readable line.
fn show(bytes: &[u8]) -> String {
    const MAX: usize = 48;
    let mut out = String::new();
    for &b in bytes.iter().take(MAX) {
        match b {
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            0x20..=0x7E => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02X}")),
        }
    }
    if bytes.len() > MAX {
        out.push('…');
    }
    out
}

/// `bytes` without leading and trailing blanks.
fn trim_blanks(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().take_while(|&&b| is_blank(b)).count();
    let end = bytes
        .iter()
        .rposition(|&b| !is_blank(b))
        .map_or(start, |p| p + 1);
    bytes.get(start..end).unwrap_or(&[])
}

/// "the trailing blank is" / "its 3 trailing blanks are".
fn trailing_blanks_are(n: usize) -> String {
    if n == 1 {
        "the trailing blank is".to_string()
    } else {
        format!("its {n} trailing blanks are")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Lex and parse a cfg the way Xen reads it. Never panics; linear time.
pub fn parse(file: FileId, bytes: &[u8], diags: &mut Diagnostics) -> Document {
    let mut lexer = Lexer::new(file, bytes, diags);
    if !lexer.reject_garbage() {
        lexer.run();
        lexer.report_preamble();
        lexer.check_default();
        lexer.report_bom();
    }
    lexer.finish()
}

/// Byte offset → 1-based line and column. Lines end at LF only.
struct LineIndex {
    /// Offset of the first byte of every line; `starts[0] == 0`.
    starts: Vec<usize>,
    /// The (0-based) line of the last lookup: spans are made in file
    /// order, so the next one is nearly always on the same line.
    last: std::cell::Cell<usize>,
}

impl LineIndex {
    fn new(bytes: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            starts,
            last: std::cell::Cell::new(0),
        }
    }

    fn line_col(&self, offset: usize) -> (u32, u32) {
        let last = self.last.get();
        let on_last = self.starts.get(last).is_some_and(|&s| s <= offset)
            && self.starts.get(last + 1).is_none_or(|&next| offset < next);
        // 1-based line. `starts[0] == 0 <= offset`, so the search gives at
        // least 1.
        let line = if on_last {
            last + 1
        } else {
            self.starts.partition_point(|&s| s <= offset).max(1)
        };
        self.last.set(line - 1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let col = offset.saturating_sub(start) + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        )
    }
}

/// Per-check tally behind the [`CAP`].
struct Tally {
    check: &'static Check,
    seen: usize,
    first_hidden: Option<Span>,
}

/// Pushes diagnostics, at most [`CAP`] per check; the closure that builds a
/// message only runs for findings that are shown, so a huge file costs no
/// formatting for the hidden ones.
struct Sink<'d> {
    diags: &'d mut Diagnostics,
    tallies: Vec<Tally>,
}

impl Sink<'_> {
    fn emit(&mut self, check: &'static Check, span: Span, make: impl FnOnce() -> Diagnostic) {
        let index = match self.tallies.iter().position(|t| t.check.code == check.code) {
            Some(i) => i,
            None => {
                self.tallies.push(Tally {
                    check,
                    seen: 0,
                    first_hidden: None,
                });
                self.tallies.len() - 1
            }
        };
        let Some(tally) = self.tallies.get_mut(index) else {
            return;
        };
        tally.seen += 1;
        if tally.seen <= CAP {
            self.diags.push(make());
        } else if tally.first_hidden.is_none() {
            tally.first_hidden = Some(span);
        }
    }

    fn finish(self) {
        for tally in self.tallies {
            if let Some(span) = tally.first_hidden {
                let hidden = tally.seen - CAP;
                self.diags.push(
                    Diagnostic::at(
                        tally.check,
                        span,
                        format!(
                            "{} more `{}` findings in this file, from here on, are not shown",
                            hidden, tally.check.name
                        ),
                    )
                    .note(format!(
                        "xencfg shows the first {CAP} findings of each check per file"
                    ))
                    .help("fix the ones shown and run again"),
                );
            }
        }
    }
}

/// One logical line as Xen's `pre_parse()` leaves it.
struct Logical {
    /// The bytes of the logical line (its terminating control byte excluded).
    line: Range<usize>,
    /// The bytes that survive `pre_parse()`: Xen's segment (may be empty).
    seg: Range<usize>,
    /// Where a comment starts, and with which byte (`#` or `;`).
    comment: Option<(usize, u8)>,
    /// The control byte that ended the previous logical line, unless that
    /// was a LF or this is the first line of the file.
    opened_by: Option<usize>,
}

/// Where the preamble came from, to avoid blaming every key for a BOM.
#[derive(PartialEq)]
enum FirstLine {
    Unseen,
    Seen,
    /// The first segment was `<BOM>[name]`: a header that Xen no longer sees.
    BomHeader,
}

struct Lexer<'a, 'd> {
    file: FileId,
    bytes: &'a [u8],
    lines: LineIndex,
    sink: Sink<'d>,
    doc: Document,
    bom: bool,
    first_line: FirstLine,
    /// Keys of the current section (or of the preamble), to the index of
    /// their first entry.
    keys: HashMap<&'a [u8], usize>,
    /// Names of the selectable sections so far, to their index.
    section_names: HashMap<&'a [u8], usize>,
    /// The physical line so far holds a non-blank byte (text or comment).
    phys_content: bool,
    /// The last logical line on this physical line ended in a comment.
    phys_comment: bool,
    /// XC0107 was reported on this physical line.
    phys_non_ascii: bool,
    /// Trailing blanks of `default=` values: reported after `default=`
    /// itself is checked, so one mistake gives one diagnostic.
    default_blanks: Vec<(usize, Span)>,
}

impl<'a, 'd> Lexer<'a, 'd> {
    fn new(file: FileId, bytes: &'a [u8], diags: &'d mut Diagnostics) -> Self {
        Lexer {
            file,
            bytes,
            lines: LineIndex::new(bytes),
            sink: Sink {
                diags,
                tallies: Vec::new(),
            },
            doc: Document {
                file,
                preamble: Vec::new(),
                sections: Vec::new(),
                bare_words: Vec::new(),
            },
            bom: bytes.starts_with(BOM),
            first_line: FirstLine::Unseen,
            keys: HashMap::new(),
            section_names: HashMap::new(),
            phys_content: false,
            phys_comment: false,
            phys_non_ascii: false,
            default_blanks: Vec::new(),
        }
    }

    fn finish(self) -> Document {
        self.sink.finish();
        self.doc
    }

    fn span(&self, range: Range<usize>) -> Span {
        let (line, col) = self.lines.line_col(range.start);
        Span {
            file: self.file,
            offset: range.start,
            len: range.end.saturating_sub(range.start),
            line,
            col,
        }
    }

    fn at(&self, range: Range<usize>) -> &'a [u8] {
        self.bytes.get(range).unwrap_or(&[])
    }

    /// XC0116: a UTF-16 or binary file. Returns true when the file was
    /// rejected (and the document stays empty).
    fn reject_garbage(&mut self) -> bool {
        let bytes = self.bytes;
        let len = bytes.len();
        let nul = bytes.iter().filter(|&&b| b == 0).count();
        // Control bytes that no text editor writes on its own: TAB, LF and
        // CR are ordinary; a few VT/FF/NUL in text are reported as XC0102.
        let odd = bytes
            .iter()
            .filter(|&&b| is_cntrl(b) && !matches!(b, b'\t' | b'\n' | b'\r'))
            .count();
        let what = if bytes.starts_with(&[0xFF, 0xFE]) {
            "UTF-16 (little-endian byte order mark FF FE)".to_string()
        } else if bytes.starts_with(&[0xFE, 0xFF]) {
            "UTF-16 (big-endian byte order mark FE FF)".to_string()
        } else if nul >= 2 && nul * 4 >= len {
            let odd_nul = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
            if odd_nul * 10 >= nul * 9 || (nul - odd_nul) * 10 >= nul * 9 {
                format!("UTF-16 without a byte order mark ({nul} NUL bytes, every other byte)")
            } else {
                format!("binary ({nul} NUL bytes in {len})")
            }
        } else if odd >= 8 && odd * 16 >= len {
            format!("binary ({odd} control bytes in {len})")
        } else {
            return false;
        };
        let span = self.span(0..len.min(2));
        self.sink.emit(&checks::UTF16, span, || {
            Diagnostic::at(
                &checks::UTF16,
                span,
                format!("this cfg is {what}, not text"),
            )
            .note(
                "Xen reads the cfg as bytes and ends a line at every NUL or control \
                     byte, so it finds no usable `[section]` or `key=value` in this file",
            )
            .note("xencfg reads nothing from it either")
            .help("save the file as plain ASCII text with LF line ends")
        });
        true
    }

    /// Walk the file once, splitting it into logical lines like
    /// `pre_parse()`.
    fn run(&mut self) {
        let bytes = self.bytes;
        let mut start = 0;
        let mut opened_by = None;
        for (i, &b) in bytes.iter().enumerate() {
            if !is_cntrl(b) {
                continue;
            }
            self.logical(start..i, opened_by);
            if b == b'\n' {
                self.phys_content = false;
                self.phys_comment = false;
                self.phys_non_ascii = false;
                opened_by = None;
            } else {
                opened_by = Some(i);
            }
            start = i + 1;
        }
        let last = self.logical(start..bytes.len(), opened_by);
        self.report_no_final_newline(last);
    }

    /// Reproduce `pre_parse()` on one logical line: drop leading blanks,
    /// then `;` at the start or `#` anywhere starts a comment.
    fn split(&self, line: Range<usize>, opened_by: Option<usize>) -> Logical {
        let bytes = self.at(line.clone());
        let lead = bytes.iter().take_while(|&&b| is_blank(b)).count();
        let first = line.start + lead;
        let (seg, comment) = match bytes.get(lead) {
            None => (first..first, None),
            Some(&c @ (b'#' | b';')) => (first..first, Some((first, c))),
            Some(_) => {
                let hash = bytes[lead..].iter().position(|&b| b == b'#');
                match hash {
                    Some(h) => (first..first + h, Some((first + h, b'#'))),
                    None => (first..line.end, None),
                }
            }
        };
        Logical {
            line,
            seg,
            comment,
            opened_by,
        }
    }

    /// Handle one logical line; returns it for the end-of-file check.
    fn logical(&mut self, line: Range<usize>, opened_by: Option<usize>) -> Logical {
        let l = self.split(line, opened_by);
        self.report_control(&l);
        self.report_non_ascii(&l);
        if !l.seg.is_empty() || l.comment.is_some() {
            self.phys_content = true;
        }
        self.phys_comment = l.comment.is_some();
        if !l.seg.is_empty() {
            self.segment(&l);
        }
        l
    }

    /// XC0102: a control byte that ends a line in the middle of a physical
    /// line, so Xen reads what follows as a line of its own. Reported only
    /// when both sides hold something: a TAB used as indentation, or one
    /// before a `#` comment, changes nothing.
    fn report_control(&mut self, l: &Logical) {
        let Some(c) = l.opened_by else { return };
        let next_is_read = !l.seg.is_empty() || matches!(l.comment, Some((_, b';')));
        if !self.phys_content || !next_is_read {
            return;
        }
        let byte = self.bytes.get(c).copied().unwrap_or(0);
        let (next, what) = match l.comment {
            Some((p, b';')) if l.seg.is_empty() => (p..l.line.end, "a comment line"),
            _ => (l.seg.clone(), "a new line"),
        };
        let in_comment = self.phys_comment;
        let next = self.at(next);
        let span = self.span(c..c + 1);
        self.sink.emit(&checks::CONTROL_BYTE, span, || {
            let name = match byte {
                b'\t' => "a TAB".to_string(),
                b'\r' => "a carriage return (CR without LF)".to_string(),
                0x0B => "a vertical tab (VT)".to_string(),
                0x0C => "a form feed (FF)".to_string(),
                0x00 => "a NUL byte".to_string(),
                0x7F => "a DEL byte".to_string(),
                _ => format!("the control byte 0x{byte:02X}"),
            };
            let next_text = show(next);
            let mut d = Diagnostic::at(
                &checks::CONTROL_BYTE,
                span,
                format!("{name} ends the line for Xen: it reads `{next_text}` as {what}"),
            )
            .note("Xen turns every control byte (TAB, CR, VT, FF, DEL, NUL, ...) into a line end");
            if in_comment {
                d = d.note(
                    "the comment before it ends here, so the text after it is not commented out",
                );
            }
            match byte {
                b'\t' if in_comment => d.help("use spaces instead of the TAB inside the comment"),
                b'\t' => d.help(
                    "replace the TAB with a space, or put the text after it on a line of its own",
                ),
                b'\r' => d.help("use LF (or CRLF) line ends"),
                _ => d.help(format!("remove the byte 0x{byte:02X}")),
            }
        });
    }

    /// XC0107: the first non-ASCII byte of a physical line outside comments
    /// (comments never reach Xen). The BOM has its own check.
    fn report_non_ascii(&mut self, l: &Logical) {
        if self.phys_non_ascii {
            return;
        }
        let end = l.comment.map_or(l.line.end, |(p, _)| p);
        let from = if self.bom {
            l.line.start.max(BOM.len())
        } else {
            l.line.start
        };
        let Some(rel) = self.at(from..end).iter().position(|&b| b >= 0x80) else {
            return;
        };
        self.phys_non_ascii = true;
        let pos = from + rel;
        let rest = self.at(pos..end);
        // Name the character if it is valid UTF-8, since that is what the
        // author typed; then say what Xen sees instead.
        let lead_width = match rest.first() {
            Some(0xC0..=0xDF) => 2,
            Some(0xE0..=0xEF) => 3,
            Some(0xF0..=0xF7) => 4,
            _ => 1,
        };
        // A lone Latin-1 byte (0xE9 `é` in a Latin-1 file) looks like a UTF-8
        // lead byte; only a complete, valid sequence counts as one character.
        let valid_utf8 = rest
            .get(..lead_width)
            .is_some_and(|s| std::str::from_utf8(s).is_ok());
        let width = if valid_utf8 { lead_width } else { 1 };
        let utf8 = rest
            .get(..width)
            .and_then(|s| std::str::from_utf8(s).ok())
            .filter(|_| width > 1)
            .map(str::to_owned);
        let seq = rest.get(..width).unwrap_or(&[]);
        // Worth a note when the 0xA0 hides inside a character.
        let has_a0 = seq.len() > 1 && seq.contains(&0xA0);
        let span = self.span(pos..pos + seq.len().max(1));
        let byte = rest.first().copied().unwrap_or(0);
        self.sink.emit(&checks::NON_ASCII, span, || {
            let msg = match &utf8 {
                _ if byte == 0xA0 => "a no-break space (byte 0xA0): Xen reads it as a blank".to_string(),
                Some(ch) => format!(
                    "non-ASCII character `{ch}`: Xen reads its UTF-8 bytes {} as {} Latin-1 characters `{}`",
                    seq.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" "),
                    seq.len(),
                    text(seq)
                ),
                None => format!("non-ASCII byte 0x{byte:02X}: Xen reads it as the Latin-1 character `{}`", text(seq)),
            };
            let mut d = Diagnostic::at(&checks::NON_ASCII, span, msg)
                .note("Xen widens each byte to one UCS-2 unit, so file names and command lines are not what was written");
            if has_a0 {
                d = d.note("its byte 0xA0 is a blank to Xen: it splits `kernel=` and `dtb=` values there");
            }
            d.help("use plain ASCII in the cfg (file names, section names and values)")
        });
    }

    /// Classify a segment the way `get_value()` does.
    fn segment(&mut self, l: &Logical) {
        let seg = self.at(l.seg.clone());
        let bom_glued = self.first_line == FirstLine::Unseen && self.bom && l.seg.start == 0;
        if self.first_line == FirstLine::Unseen {
            self.first_line = if bom_glued && seg.get(BOM.len()) == Some(&b'[') {
                FirstLine::BomHeader
            } else {
                FirstLine::Seen
            };
        }
        match seg.iter().position(|&b| b == b'=') {
            _ if seg.first() == Some(&b'[') => self.header(l),
            Some(0) => self.junk(l, None),
            Some(eq) => self.entry(l, l.seg.start + eq),
            None => self.word(l),
        }
    }

    /// A segment starting with `[`. Xen compares the bytes after `[` with
    /// the wanted name and requires `]` right after it.
    fn header(&mut self, l: &Logical) {
        let seg = l.seg.clone();
        let inner = seg.start + 1..seg.end;
        let close = self
            .at(inner.clone())
            .iter()
            .position(|&b| b == b']')
            .map(|p| inner.start + p);
        let name_range = inner.start..close.unwrap_or(inner.end);
        let name_bytes = self.at(name_range.clone());
        let name = text(name_bytes);
        let header_span = self.span(seg.clone());
        let name_span = self.span(name_range.clone());
        let selectable = close.is_some() && !name_bytes.is_empty();
        let index = self.doc.sections.len();
        let first = if selectable {
            self.section_names.get(name_bytes).copied()
        } else {
            None
        };

        if close.is_none() {
            let cut_by_hash = matches!(l.comment, Some((p, b'#')) if p == seg.end)
                && self.at(seg.end..l.line.end).contains(&b']');
            let shown = show(self.at(seg.clone()));
            self.sink.emit(&checks::MALFORMED_HEADER, header_span, || {
                let mut d = Diagnostic::at(
                    &checks::MALFORMED_HEADER,
                    header_span,
                    format!("section header `{shown}` has no `]`: Xen never selects it"),
                )
                .note("it still ends the section above it; the keys below it belong to no section Xen can select");
                if cut_by_hash {
                    d = d.note("`#` starts a comment even inside a header, so Xen's header ends before it");
                }
                d.help("close the header with `]` right after the name (and keep `#` out of section names)")
            });
        } else if name_bytes.is_empty() {
            self.sink.emit(&checks::MALFORMED_HEADER, header_span, || {
                Diagnostic::at(
                    &checks::MALFORMED_HEADER,
                    header_span,
                    "empty section name `[]`: Xen never selects it",
                )
                .note("an empty section name means \"no section\" to Xen")
                .help("give the section a name")
            });
        } else if name_bytes.first().copied().is_some_and(is_blank)
            || name_bytes.last().copied().is_some_and(is_blank)
        {
            let trimmed = show(trim_blanks(name_bytes));
            let shown = show(name_bytes);
            self.sink.emit(&checks::MALFORMED_HEADER, name_span, || {
                Diagnostic::at(
                    &checks::MALFORMED_HEADER,
                    name_span,
                    format!("blanks inside the brackets are part of the name: Xen matches this header only for `{shown}`"),
                )
                .note(format!("`default={trimmed}` or a `{trimmed}` section argument does not select it"))
                .help(format!("write `[{trimmed}]`"))
            });
        }
        if let Some(c) = close {
            let after = self.at(c + 1..seg.end);
            let lead = after.iter().take_while(|&&b| is_blank(b)).count();
            let junk_len = after
                .iter()
                .rposition(|&b| !is_blank(b))
                .map_or(0, |p| p + 1);
            if junk_len > lead {
                let junk = c + 1 + lead..c + 1 + junk_len;
                let span = self.span(junk.clone());
                let shown = show(self.at(junk));
                let name_shown = show(name_bytes);
                self.sink.emit(&checks::MALFORMED_HEADER, span, || {
                    Diagnostic::at(
                        &checks::MALFORMED_HEADER,
                        span,
                        format!("Xen ignores `{shown}` after `[{name_shown}]`"),
                    )
                    .help("remove it, or make it a comment with `#`")
                });
            }
        }
        if let Some(first) = first {
            let earlier = self.doc.sections.get(first).map(|s| s.header_span);
            let shown = show(name_bytes);
            if let Some(earlier) = earlier {
                self.sink.emit(&checks::DUPLICATE_SECTION, header_span, || {
                    Diagnostic::at(
                        &checks::DUPLICATE_SECTION,
                        header_span,
                        format!("section `[{shown}]` appears again: Xen only ever reads the first one"),
                    )
                    .related(Location::Text(earlier), "the section Xen reads")
                    .note("Xen stops searching a section at the next header of any name, so it never reaches this one")
                    .help("merge the two sections into one")
                });
            }
        } else if selectable {
            let key = self.at(name_range);
            self.section_names.insert(key, index);
        }

        self.doc.sections.push(Section {
            name,
            name_span,
            header_span,
            header_text: text(self.at(inner)),
            entries: Vec::new(),
            shadowed: !selectable || first.is_some(),
        });
        // A fresh map, not `clear()`: clearing costs the old capacity at
        // every header, which a huge section followed by many headers
        // would turn quadratic.
        self.keys = HashMap::new();
    }

    /// A `key=value` segment. The key is every byte before the first `=`;
    /// Xen matches a key only when `=` follows it immediately.
    fn entry(&mut self, l: &Logical, eq: usize) {
        let seg = l.seg.clone();
        let key_range = seg.start..eq;
        let key_bytes = self.at(key_range.clone());
        let value_start = eq
            + 1
            + self
                .at(eq + 1..seg.end)
                .iter()
                .take_while(|&&b| is_blank(b))
                .count();
        let value_range = value_start..seg.end;
        let value_bytes = self.at(value_range.clone());
        let key_span = self.span(key_range.clone());
        let value_span = self.span(value_range.clone());
        let trailing = value_bytes
            .iter()
            .rev()
            .take_while(|&&b| is_blank(b))
            .count();
        let blanks = seg.end - trailing..seg.end;
        let hash = matches!(l.comment, Some((p, b'#')) if p == seg.end);

        // XC0101: `kernel =x` is the key `kernel `, which no lookup matches.
        let key_blanks = key_bytes.iter().rev().take_while(|&&b| is_blank(b)).count();
        if key_blanks > 0 {
            let span = self.span(eq - key_blanks..eq);
            let trimmed = key_bytes.get(..key_bytes.len() - key_blanks).unwrap_or(&[]);
            self.sink.emit(&checks::BLANK_BEFORE_EQUALS, span, || {
                let (trimmed, key_shown) = (show(trimmed), show(key_bytes));
                Diagnostic::at(
                    &checks::BLANK_BEFORE_EQUALS,
                    span,
                    format!("blank between `{trimmed}` and `=`: Xen reads the key `{key_shown}`, so it never finds `{trimmed}` here"),
                )
                .note("Xen matches a key only when `=` follows it immediately; this line is ignored")
                .help(format!("remove the blank: `{trimmed}=`"))
            });
        }

        // XC0103. The `#` always ends the value Xen reads, so it is always
        // reported, with a message for each way an author gets there:
        // - `key=abc#def`: `#` glued to the value, meant as part of it;
        //   Xen cuts the value to `abc`.
        // - `key=#abc` (or `key= #abc`): the value Xen reads is empty
        //   (present, so it still counts; e.g. `property=#address-cells`).
        // - `key=abc # note`: an inline comment, which Xen does honour, but
        //   the blanks before `#` stay in the value. That is the same fault
        //   as XC0104, so XC0104 is not reported again for those blanks.
        if let Some((p, _)) = l.comment.filter(|_| hash) {
            let range = if value_bytes.is_empty() || trailing == 0 {
                p..p + 1
            } else {
                blanks.start..p + 1
            };
            let span = self.span(range);
            self.sink.emit(&checks::HASH_IN_VALUE, span, || {
                let (key_shown, value_shown) = (show(key_bytes), show(value_bytes));
                let (msg, help) = if value_bytes.is_empty() {
                    (
                        format!("`#` starts a comment even right after `=`: Xen reads `{key_shown}` with an empty value"),
                        if key_bytes.ends_with(b"property") {
                            "write the property name without its `#` (`address-cells`): xencfg adds it"
                        } else {
                            "Xen has no escape for `#`: leave it out of values"
                        },
                    )
                } else if trailing > 0 {
                    (
                        format!(
                            "inline comment: Xen keeps the {} before `#` in the value, reading `{key_shown}` as `{value_shown}`",
                            plural(trailing, "blank", "blanks")
                        ),
                        "put the comment on a line of its own, or remove the blanks before `#`",
                    )
                } else {
                    (
                        format!("`#` starts a comment inside the value: Xen cuts `{key_shown}` to `{value_shown}`"),
                        "Xen has no escape for `#`: leave it out of values",
                    )
                };
                Diagnostic::at(&checks::HASH_IN_VALUE, span, msg)
                    .note("Xen treats `#` anywhere as the start of a comment")
                    .help(help)
            });
        } else if trailing > 0 {
            let span = self.span(blanks.clone());
            if key_bytes == b"default" {
                // Decided once `default=` has been checked (XC0111).
                self.default_blanks.push((key_range.start, span));
            } else {
                self.report_trailing(span, key_bytes, value_bytes, trailing);
            }
        }

        // XC0117: `key=a ;b` keeps `;b`: `;` is a comment only at line start.
        let semi = value_bytes
            .windows(2)
            .position(|w| is_blank(w[0]) && w[1] == b';')
            .map(|p| value_start + p + 1);
        if let Some(s) = semi {
            let span = self.span(s..seg.end);
            self.sink.emit(&checks::SEMICOLON_IN_VALUE, span, || {
                let (key_shown, value_shown) = (show(key_bytes), show(value_bytes));
                Diagnostic::at(
                    &checks::SEMICOLON_IN_VALUE,
                    span,
                    format!("`;` is not a comment inside a line: Xen reads `{key_shown}` as `{value_shown}`"),
                )
                .note("Xen treats `;` as a comment only as the first non-blank byte of a line")
                .help("put the comment on a line of its own")
            });
        }

        let mut entry = Entry {
            key: text(key_bytes),
            key_span,
            value: text(value_bytes),
            value_span,
            shadowed: false,
        };
        let section = self.doc.sections.len().checked_sub(1);
        let list_len = match section.and_then(|i| self.doc.sections.get(i)) {
            Some(s) => s.entries.len(),
            None => self.doc.preamble.len(),
        };

        // XC0105: first one wins. Repeatable keys are read one by one by
        // xencfg, so they are marked shadowed (Xen itself reads only the
        // first) but not reported.
        if let Some(&first) = self.keys.get(key_bytes) {
            entry.shadowed = true;
            if !is_repeatable_key(&entry.key) {
                let earlier = match section.and_then(|i| self.doc.sections.get(i)) {
                    Some(s) => s.entries.get(first),
                    None => self.doc.preamble.get(first),
                }
                .map(|e| (e.key_span, e.value_span));
                let where_ = section
                    .and_then(|i| self.doc.sections.get(i))
                    .map(|s| self.at(name_range_of(s)));
                if let Some((first_span, first_value)) = earlier {
                    let first_value =
                        self.at(first_value.offset..first_value.offset + first_value.len);
                    self.sink.emit(&checks::DUPLICATE_KEY, key_span, || {
                        let key_shown = show(key_bytes);
                        let first_value = show(first_value);
                        let where_ = match where_ {
                            Some(name) => format!("in `[{}]`", show(name)),
                            None => "before the first section".to_string(),
                        };
                        Diagnostic::at(
                            &checks::DUPLICATE_KEY,
                            key_span,
                            format!(
                                "`{key_shown}` appears again {where_}: Xen reads only the first one (`{key_shown}={first_value}`)"
                            ),
                        )
                        .related(Location::Text(first_span), "the one Xen reads")
                        .help("remove one of them")
                    });
                }
            }
        } else {
            self.keys.insert(key_bytes, list_len);
        }

        match section.and_then(|i| self.doc.sections.get_mut(i)) {
            Some(s) => s.entries.push(entry),
            None => self.doc.preamble.push(entry),
        }
    }

    /// XC0104: trailing blanks are part of the value.
    fn report_trailing(&mut self, span: Span, key: &[u8], value: &[u8], n: usize) {
        let key_shown = show(key);
        let value_shown = show(value);
        self.sink.emit(&checks::TRAILING_BLANKS, span, || {
            Diagnostic::at(
                &checks::TRAILING_BLANKS,
                span,
                format!(
                    "{} at the end of the value: Xen reads `{key_shown}` as `{value_shown}`",
                    plural(n, "trailing blank", "trailing blanks")
                ),
            )
            .note("Xen keeps trailing blanks: a file name or section name with them names something else")
            .help("remove the trailing blanks")
        });
    }

    /// XC0112 for keys before the first header, once the whole file is
    /// known. Not for `default=` (XC0110 says more), not in a file without
    /// any header (sectionless, which lowering reports as "no boot
    /// section"), and not when a BOM hid the first header (XC0108 says so).
    fn report_preamble(&mut self) {
        if self.doc.sections.is_empty() || self.first_line == FirstLine::BomHeader {
            return;
        }
        let spans: Vec<Span> = self
            .doc
            .preamble
            .iter()
            .filter(|e| e.key != "default")
            .map(|e| e.key_span)
            .collect();
        for span in spans {
            self.sink.emit(&checks::KEY_BEFORE_SECTION, span, || {
                Diagnostic::at(
                    &checks::KEY_BEFORE_SECTION,
                    span,
                    "key before the first section header: Xen never finds it once a section is selected",
                )
                .note("only a lookup without any section (no `default=`, no section argument) searches here")
                .help("move it into the section that uses it")
            });
        }
    }

    /// A segment without `=`: a bare word (xencfg's flag properties), or a
    /// line nobody reads.
    fn word(&mut self, l: &Logical) {
        let seg = self.at(l.seg.clone());
        let len = seg.iter().rposition(|&b| !is_blank(b)).map_or(0, |p| p + 1);
        let word = &seg[..len];
        if word.iter().any(|&b| is_blank(b)) {
            // The common mistake is `key value` for `key=value`.
            let first_len = word.iter().position(|&b| is_blank(b)).unwrap_or(len);
            let first = word.get(..first_len).unwrap_or(&[]);
            self.junk(l, Some(first.strip_suffix(b":").unwrap_or(first)));
            return;
        }
        let range = l.seg.start..l.seg.start + len;
        let section = self.doc.sections.len().checked_sub(1);
        self.doc.bare_words.push((
            section,
            Word {
                text: text(word),
                span: self.span(range),
            },
        ));
    }

    /// XC0115: a line Xen ignores and xencfg cannot read as a flag:
    /// several words without `=` (`first` is the first word, the likely
    /// key) or a line that starts with `=` (`None`).
    fn junk(&mut self, l: &Logical, first: Option<&[u8]>) {
        if self.first_line == FirstLine::BomHeader && l.seg.start == 0 {
            return; // the BOM diagnostic explains this line
        }
        let span = self.span(l.seg.clone());
        let seg = self.at(l.seg.clone());
        self.sink.emit(&checks::LINE_WITHOUT_KEY, span, || {
            let shown = show(seg);
            let why = match first {
                Some(first) => format!("it has no `=` (did you mean `{}=...`?)", show(first)),
                None => "it starts with `=`, so there is no key".to_string(),
            };
            Diagnostic::at(
                &checks::LINE_WITHOUT_KEY,
                span,
                format!("Xen ignores `{shown}`: {why}"),
            )
            .note("a line is read only as a `[section]` header or as `key=value` with `=` right after the key")
            .help("write it as `key=value`, or make it a comment with `#`")
        });
    }

    /// XC0109, exactly when Xen 4.15–4.21 complain: `pre_parse()` leaves
    /// the last byte non-NUL (it is text, not a line end, leading blank or
    /// comment).
    fn report_no_final_newline(&mut self, last: Logical) {
        let len = self.bytes.len();
        if last.seg.is_empty() || last.seg.end != len {
            return;
        }
        let is_key = self.at(last.seg.clone()).contains(&b'=')
            && self.at(last.seg.clone()).first() != Some(&b'[');
        let span = self.span(len..len);
        self.sink.emit(&checks::NO_FINAL_NEWLINE, span, || {
            let mut d = Diagnostic::at(
                &checks::NO_FINAL_NEWLINE,
                span,
                "the file does not end with a newline",
            )
            .note(
                "Xen 4.15-4.21 print \"No newline at end of config file, last line will be ignored.\" \
                 and then read past the end of the file while scanning this line (4.22 reads it correctly)",
            );
            if is_key {
                d = d.note("the value of this last key may pick up whatever follows the file in memory");
            }
            d.help("end the file with a newline")
        });
    }

    /// XC0110 and XC0111: where `default=` is and what it names.
    fn check_default(&mut self) {
        let global = self.doc.sections.iter().position(|s| s.matches("global"));
        // XC0110 for every `default=` that Xen's `[global]` lookup misses.
        let mut misplaced = Vec::new();
        // After a BOM-hidden `[global]` header, XC0108 explains the
        // preamble, `default=` included.
        let bom_preamble = self.first_line == FirstLine::BomHeader;
        for e in self
            .doc
            .preamble
            .iter()
            .filter(|e| e.key == "default" && !bom_preamble)
        {
            misplaced.push((e.key_span, "before the first section".to_string(), false));
        }
        for (i, s) in self.doc.sections.iter().enumerate() {
            for e in s.entries.iter().filter(|e| e.key == "default") {
                if Some(i) == global {
                    continue; // the first is read; repeats are XC0105
                }
                let repeat = s.matches("global");
                let where_ = if repeat {
                    "in a repeated `[global]`, which Xen never reads".to_string()
                } else {
                    format!("in `[{}]`", show_text(&s.name))
                };
                misplaced.push((e.key_span, where_, repeat));
            }
        }
        let has_global = global.is_some();
        for (span, where_, repeat) in misplaced {
            self.sink.emit(&checks::DEFAULT_OUTSIDE_GLOBAL, span, || {
                Diagnostic::at(
                    &checks::DEFAULT_OUTSIDE_GLOBAL,
                    span,
                    format!("`default=` {where_}: Xen looks it up only in the first `[global]`"),
                )
                .note("without a `[global] default=`, Xen selects no section and takes every key from its first occurrence anywhere in the file")
                .help(if repeat || has_global {
                    "move it into the first `[global]` section"
                } else {
                    "put it in a `[global]` section"
                })
            });
        }

        let Some(entry) = global
            .and_then(|g| self.doc.sections.get(g))
            .and_then(|s| s.get("default"))
        else {
            return self.flush_default_blanks(None);
        };
        let value = entry.value.clone();
        let span = entry.value_span;
        let key_offset = entry.key_span.offset;
        if value.is_empty() {
            let suggestion = self
                .doc
                .sections
                .iter()
                .find(|s| !s.shadowed && s.name != "global")
                .map(|s| {
                    format!(
                        "name the section to boot, e.g. `default={}`",
                        show_text(&s.name)
                    )
                })
                .unwrap_or_else(|| "name the section to boot".to_string());
            self.sink.emit(&checks::DEFAULT_UNKNOWN_SECTION, span, || {
                Diagnostic::at(
                    &checks::DEFAULT_UNKNOWN_SECTION,
                    span,
                    "`default=` is empty: Xen selects no section",
                )
                .note("an empty section name makes Xen take every key from its first occurrence anywhere in the file")
                .help(suggestion)
            });
            return self.flush_default_blanks(None);
        }
        if self.doc.section(&value).is_some() {
            return self.flush_default_blanks(None);
        }
        let shown = show_text(&value);
        let trimmed = value.trim_end_matches([' ', '\u{A0}']);
        let (msg, help, at) = if trimmed.len() != value.len() && self.doc.section(trimmed).is_some()
        {
            let blanks = value.chars().count() - trimmed.chars().count();
            (
                format!(
                    "`default={shown}` names no section: {} part of the name",
                    trailing_blanks_are(blanks)
                ),
                format!(
                    "remove the trailing blanks: `default={}`",
                    show_text(trimmed)
                ),
                Some(key_offset),
            )
        } else {
            let help = match self
                .closest_section(&value)
                .and_then(|i| self.doc.sections.get(i))
            {
                Some(s) if s.header_text.starts_with(&format!("{}]", s.name)) => {
                    let case = if s.name.to_lowercase() == value.to_lowercase() {
                        " (Xen compares section names case-sensitively)"
                    } else {
                        ""
                    };
                    format!("did you mean `default={}`?{case}", show_text(&s.name))
                }
                Some(s) => format!(
                    "did you mean `{}`? its header on line {} is malformed: write `[{}]`",
                    show_text(&s.name),
                    s.header_span.line,
                    show_text(s.name.trim_matches([' ', '\u{A0}']))
                ),
                None => "name one of the sections of this file".to_string(),
            };
            // Trailing blanks are part of the same mistake: say so here
            // rather than in a second diagnostic (XC0104).
            let n = value.chars().count() - trimmed.chars().count();
            if n > 0 {
                (
                    format!(
                        "`default={shown}` names no section ({} part of the name)",
                        trailing_blanks_are(n)
                    ),
                    help,
                    Some(key_offset),
                )
            } else {
                (format!("`default={shown}` names no section"), help, None)
            }
        };
        let names = self.section_list();
        self.sink.emit(&checks::DEFAULT_UNKNOWN_SECTION, span, || {
            Diagnostic::at(&checks::DEFAULT_UNKNOWN_SECTION, span, msg)
                .note("Xen compares it byte for byte with the headers; every section-scoped key (`options=`, `kernel=`, `dtb=`, ...) is then silently not found")
                .note(names)
                .help(help)
        });
        self.flush_default_blanks(at);
    }

    /// Report the trailing blanks of `default=` values, except those that
    /// XC0111 already explained (`explained` = offset of that key).
    fn flush_default_blanks(&mut self, explained: Option<usize>) {
        for (key_offset, span) in std::mem::take(&mut self.default_blanks) {
            if Some(key_offset) == explained {
                continue;
            }
            let value_start = span.offset;
            let value_end = span.offset + span.len;
            // The value ends at the blanks; its start is after `default=`.
            let value_from = key_offset + "default=".len();
            let raw = self.at(value_from..value_end);
            let lead = raw.iter().take_while(|&&b| is_blank(b)).count();
            let value = self.at(value_from + lead..value_end);
            let n = value_end - value_start;
            self.report_trailing(span, b"default", value, n);
        }
    }

    /// The index of the section whose name is closest to `wanted`: equal
    /// but for case or blanks around it, else the smallest edit distance
    /// within a third of the length. Bounded work: at most 512 names of at
    /// most 64 chars.
    fn closest_section(&self, wanted: &str) -> Option<usize> {
        let blanks: &[char] = &[' ', '\u{A0}'];
        let wanted_norm = wanted.trim_matches(blanks).to_lowercase();
        let mut best: Option<(usize, usize)> = None;
        for (i, s) in self.doc.sections.iter().enumerate().take(512) {
            let name = s.name.as_str();
            if name.is_empty() || name.len() > 64 {
                continue;
            }
            if name.trim_matches(blanks).to_lowercase() == wanted_norm {
                return Some(i);
            }
            let wanted = wanted.trim_matches(blanks);
            if wanted.len() > 64 {
                continue;
            }
            let d = edit_distance(wanted, name);
            if d <= (wanted.chars().count() / 3).max(1) && best.is_none_or(|(b, _)| d < b) {
                best = Some((d, i));
            }
        }
        best.map(|(_, i)| i)
    }

    fn section_list(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        for s in self.doc.sections.iter().filter(|s| !s.shadowed) {
            if names.len() == 8 {
                names.push("...".to_string());
                break;
            }
            names.push(format!("`[{}]`", show_text(&s.name)));
        }
        if names.is_empty() {
            "this file has no section Xen can select".to_string()
        } else {
            format!("the sections are {}", names.join(", "))
        }
    }

    /// XC0108: the BOM glues itself to the first line.
    fn report_bom(&mut self) {
        if !self.bom {
            return;
        }
        let span = self.span(0..BOM.len());
        let first = self
            .doc
            .preamble
            .first()
            .filter(|e| e.key_span.offset == 0)
            .map(|e| show_text(&e.key));
        let header = self.first_line == FirstLine::BomHeader;
        let keys = self.doc.preamble.len();
        let last_line = self.doc.preamble.last().map_or(0, |e| e.key_span.line);
        let first_word = self
            .doc
            .bare_words
            .first()
            .filter(|(_, w)| w.span.offset == 0)
            .map(|(_, w)| show_text(&w.text));
        self.sink.emit(&checks::BOM, span, || {
            let msg = match (&first_word, &first) {
                (Some(w), _) if header => format!(
                    "a UTF-8 byte order mark starts the file: Xen reads the first line as `{w}`, not as a section header"
                ),
                (_, Some(k)) => format!(
                    "a UTF-8 byte order mark starts the file: Xen reads the first key as `{k}`, which no lookup matches"
                ),
                _ => "a UTF-8 byte order mark starts the file: Xen reads its bytes as part of the first line".to_string(),
            };
            let mut d = Diagnostic::at(&checks::BOM, span, msg)
                .note("Xen does not skip a byte order mark (bytes EF BB BF)");
            if header && keys > 0 {
                let which = if keys == 1 {
                    format!("the key on line {last_line} is")
                } else {
                    format!("the {keys} keys up to line {last_line} are")
                };
                d = d.note(format!(
                    "so {which} before the first section for Xen, never found once a section is selected"
                ));
            }
            d.help("save the file without a byte order mark (as ASCII or UTF-8 without BOM)")
        });
    }
}

/// The bytes of a section's name in the file.
fn name_range_of(s: &Section) -> Range<usize> {
    s.name_span.offset..s.name_span.offset + s.name_span.len
}

/// A document string (Latin-1 chars) shown as its original bytes.
fn show_text(s: &str) -> String {
    let bytes: Vec<u8> = s
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    show(&bytes)
}

/// Edit distance over chars where swapping two neighbours counts as one
/// edit (optimal string alignment), so `xne` is one edit from `xen`.
/// Callers bound the lengths.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back (for swaps), one back, and the current one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let cost = usize::from(a[i] != b[j]);
            let mut d = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                d = d.min(before[j - 1] + 1);
            }
            cur[j + 1] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_lf_only() {
        let idx = LineIndex::new(b"a\r\nb\rc\nd");
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(3), (2, 1));
        assert_eq!(idx.line_col(5), (2, 3)); // after the lone CR: same line
        assert_eq!(idx.line_col(7), (3, 1));
        assert_eq!(idx.line_col(8), (3, 2)); // end of file
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("xen", "xen"), 0);
        assert_eq!(edit_distance("xne", "xen"), 1);
        assert_eq!(edit_distance("abc", "ca"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("guest1", "guest2"), 1);
    }

    #[test]
    fn show_escapes() {
        assert_eq!(show(b"a\tb\xA0"), "a\\tb\\xA0");
    }
}

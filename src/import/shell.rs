//! Reading a bash-style variable file as data, never running it.
//!
//! ImageBuilder's config is sourced by bash; xencfg only reads it. The
//! subset understood is what such configs contain: `NAME=value`,
//! `NAME[index]=value`, `NAME=(word word …)`, an optional `export` or
//! `declare`/`typeset` prefix, single and double quotes, backslash escapes
//! and line continuations, `#` comments at the start of a word, and `$NAME`
//! / `${NAME}` / `${NAME[index]}` expanded from assignments made earlier in
//! the same file. Anything that would run something (a command, `$(…)`,
//! backquotes, `$((…))`, `${NAME:-…}` and other operators, control flow)
//! is reported (XC1101) and skipped, never evaluated.

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, FileId, Severity, Span};
use std::collections::{BTreeMap, BTreeSet};

/// One assignment, with where its name and value are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    /// The text between `[` and `]`, if any (`0`, `1,0`).
    pub index: Option<String>,
    pub value: String,
    /// `NAME` or `NAME[index]`.
    pub name_span: Span,
    pub value_span: Span,
}

/// What a file holds: its assignments in file order (later ones win, as
/// in bash) and the names its `$NAME` expansions use.
#[derive(Debug, Default)]
pub struct Parsed {
    pub assignments: Vec<Assignment>,
    pub referenced: BTreeSet<String>,
}

pub fn parse(file: FileId, text: &[u8], diags: &mut Diagnostics) -> Parsed {
    let mut p = Parser {
        file,
        text,
        at: 0,
        line_starts: std::iter::once(0)
            .chain(
                text.iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect(),
        vars: BTreeMap::new(),
        values_len: 0,
        out: Parsed::default(),
        diags,
    };
    p.statements();
    p.out
}

struct Parser<'a, 'd> {
    file: FileId,
    text: &'a [u8],
    at: usize,
    line_starts: Vec<usize>,
    /// Values assigned so far, for `$NAME` expansion: (name, index) → value.
    vars: BTreeMap<(String, Option<String>), String>,
    /// Bytes of every value recorded so far.
    values_len: usize,
    out: Parsed,
    diags: &'d mut Diagnostics,
}

/// A word failed to read as data; the statement is skipped.
struct NotData;

/// The longest value an expansion may build. `A=$B$B` doubles per line, so
/// a few KiB of config would otherwise expand to gigabytes; no real
/// ImageBuilder value (a path, a command line) comes near this.
const MAX_VALUE_LEN: usize = 64 << 10;

/// All values together: the cfg they become is at most 1 MiB
/// (`load::cfg::MAX_CFG_SIZE`).
const MAX_VALUES_LEN: usize = 1 << 20;

const WORD_END: &[u8] = b" \t\r\n;&|<>()";

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.text.get(self.at + n).copied()
    }

    fn span(&self, start: usize, end: usize) -> Span {
        let line = self.line_starts.partition_point(|&s| s <= start).max(1);
        let line_start = self.line_starts[line - 1];
        Span {
            file: self.file,
            offset: start,
            len: end.saturating_sub(start),
            line: line as u32,
            col: (start - line_start + 1) as u32,
        }
    }

    fn report(&mut self, start: usize, end: usize, message: String, help: &str) {
        let span = self.span(start, end.max(start + 1).min(self.text.len().max(start)));
        self.diags.push(
            Diagnostic::at(&c::IMPORT_NOT_DATA, span, message)
                .note("xencfg reads the config as data and never runs it")
                .help(help.to_string()),
        );
    }

    /// Skip blanks and line continuations (not newlines).
    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r') => self.at += 1,
                Some(b'\\') if self.peek_at(1) == Some(b'\n') => self.at += 2,
                _ => return,
            }
        }
    }

    fn skip_to_line_end(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'\n' {
                return;
            }
            self.at += 1;
        }
    }

    fn statements(&mut self) {
        while self.at < self.text.len() {
            let before = self.at;
            self.statement_or_separator();
            // Every step consumes input, so reading always ends.
            if self.at == before {
                self.at += 1;
            }
        }
    }

    fn statement_or_separator(&mut self) {
        self.skip_blanks();
        match self.peek() {
            None => {}
            Some(b'\n' | b';') => self.at += 1,
            Some(b'#') => self.skip_to_line_end(),
            Some(_) if self.statement().is_err() => self.skip_statement(),
            Some(_) => {}
        }
    }

    /// After an error: skip to the end of the line, outside quotes.
    fn skip_statement(&mut self) {
        let mut quote = None;
        while let Some(b) = self.peek() {
            match (quote, b) {
                (None, b'\n') => return,
                (None, b'\'' | b'"') => quote = Some(b),
                (Some(q), _) if b == q => quote = None,
                (Some(b'"') | None, b'\\') => self.at += 1,
                _ => {}
            }
            self.at += 1;
        }
    }

    /// One simple statement: optional declaration keyword, then
    /// assignments only.
    fn statement(&mut self) -> Result<(), NotData> {
        let start = self.at;
        let first = self.bare_word();
        let declaration = matches!(
            first.as_str(),
            "export" | "declare" | "typeset" | "readonly" | "local"
        );
        if declaration {
            self.skip_blanks();
            // Options such as -a, -A, -x, -g.
            while self.peek() == Some(b'-') {
                self.at += 1;
                self.bare_word();
                self.skip_blanks();
            }
        } else {
            self.at = start;
        }
        let mut any = false;
        loop {
            self.skip_blanks();
            match self.peek() {
                None | Some(b'\n' | b';') => break,
                Some(b'#') if any || declaration => {
                    self.skip_to_line_end();
                    break;
                }
                _ => {}
            }
            let word_start = self.at;
            let name = self.bare_word();
            let valid_name =
                name.bytes().next().is_some_and(is_name_start) && name.bytes().all(is_name);
            match self.peek() {
                Some(b'[') if valid_name => self.assignment(word_start, name)?,
                Some(b'=') if valid_name => self.assignment(word_start, name)?,
                Some(b'+') if valid_name && self.peek_at(1) == Some(b'=') => {
                    self.report(
                        word_start,
                        self.at + 2,
                        format!("`{name}+=` appends; xencfg reads only plain assignments"),
                        "write the whole value with `=`",
                    );
                    return Err(NotData);
                }
                _ if declaration && valid_name && self.at_word_end() => {
                    // `declare -A NAME`: no value, nothing to record.
                }
                _ => {
                    let end = self.word_end_from(word_start);
                    let text = String::from_utf8_lossy(&self.text[word_start..end]).into_owned();
                    self.report(
                        word_start,
                        end,
                        format!("`{text}` is a command, not an assignment"),
                        "keep only `NAME=value` lines in the config; compute values before writing it",
                    );
                    return Err(NotData);
                }
            }
            any = true;
        }
        Ok(())
    }

    fn at_word_end(&self) -> bool {
        self.peek().is_none_or(|b| WORD_END.contains(&b))
    }

    /// The end of the unquoted-or-quoted word starting at `start`.
    fn word_end_from(&self, start: usize) -> usize {
        let mut i = start;
        let mut quote = None;
        while let Some(&b) = self.text.get(i) {
            match (quote, b) {
                (None, _) if WORD_END.contains(&b) => break,
                (None, b'\'' | b'"') => quote = Some(b),
                (Some(q), _) if b == q => quote = None,
                _ => {}
            }
            i += 1;
        }
        i.max(start + 1).min(self.text.len())
    }

    /// Letters, digits and `_` at the cursor.
    fn bare_word(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(is_name) {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.at]).into_owned()
    }

    fn assignment(&mut self, start: usize, name: String) -> Result<(), NotData> {
        let index = if self.peek() == Some(b'[') {
            let open = self.at;
            self.at += 1;
            let index_start = self.at;
            while self
                .peek()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b',' || b == b'_')
            {
                self.at += 1;
            }
            let index = String::from_utf8_lossy(&self.text[index_start..self.at]).into_owned();
            if self.peek() != Some(b']') || index.is_empty() {
                self.report(
                    open,
                    self.at + 1,
                    format!("the index of `{name}[…]` is not a plain number or key"),
                    "write the index as digits, e.g. `DOMU_KERNEL[0]=`",
                );
                return Err(NotData);
            }
            self.at += 1;
            Some(index)
        } else {
            None
        };
        let name_span = self.span(start, self.at);
        if self.peek() != Some(b'=') {
            self.report(
                start,
                self.at,
                format!("`{name}[…]` without `=`"),
                "write `NAME[index]=value`",
            );
            return Err(NotData);
        }
        self.at += 1;
        if self.peek() == Some(b'(') && index.is_none() {
            return self.array(name, name_span);
        }
        let value_start = self.at;
        let value = self.value()?;
        let value_span = self.span(value_start, self.at);
        self.record(Assignment {
            name,
            index,
            value,
            name_span,
            value_span,
        });
        Ok(())
    }

    /// `NAME=(a b c)` or `NAME=([0]=a [2]=c)`.
    fn array(&mut self, name: String, name_span: Span) -> Result<(), NotData> {
        self.at += 1;
        let mut next = 0usize;
        // Recorded only once the whole array has been read.
        let mut items = Vec::new();
        let mut last = usize::MAX;
        loop {
            if self.at == last {
                // Defensive: an item that consumed nothing ends the array.
                self.report(
                    self.at,
                    self.at + 1,
                    format!("unexpected byte in `{name}=(…)`"),
                    "write items as words",
                );
                return Err(NotData);
            }
            last = self.at;
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                self.at += 1;
            }
            match self.peek() {
                Some(b')') => {
                    self.at += 1;
                    for item in items {
                        self.record(item);
                    }
                    return Ok(());
                }
                Some(b'#') => self.skip_to_line_end(),
                Some(b) if b"(;&|<>".contains(&b) => {
                    self.report(
                        self.at,
                        self.at + 1,
                        format!("`{}` inside the array `{name}=(…)`", char::from(b)),
                        "write items as words, or as `[n]=word`",
                    );
                    return Err(NotData);
                }
                None => {
                    self.report(
                        name_span.offset,
                        name_span.offset + name_span.len,
                        format!("the array `{name}=(` is not closed"),
                        "close it with `)`",
                    );
                    return Err(NotData);
                }
                Some(_) => {
                    let mut index = next.to_string();
                    if self.peek() == Some(b'[') {
                        let open = self.at;
                        self.at += 1;
                        let digits = self.bare_word();
                        if self.peek() != Some(b']')
                            || self.peek_at(1) != Some(b'=')
                            || digits.parse::<usize>().is_err()
                        {
                            self.report(
                                open,
                                self.at,
                                format!("an item of `{name}=(…)` has a bad index"),
                                "write items as words, or as `[n]=word`",
                            );
                            return Err(NotData);
                        }
                        self.at += 2;
                        index = digits;
                    }
                    let value_start = self.at;
                    let value = self.value()?;
                    next = index.parse::<usize>().unwrap_or(next) + 1;
                    let value_span = self.span(value_start, self.at);
                    items.push(Assignment {
                        name: name.clone(),
                        index: Some(index),
                        value,
                        name_span,
                        value_span,
                    });
                }
            }
        }
    }

    fn record(&mut self, a: Assignment) {
        self.values_len += a.value.len();
        if self.values_len > MAX_VALUES_LEN {
            self.diags.push(
                Diagnostic::at(
                    &c::IMPORT_NOT_DATA,
                    a.value_span,
                    format!(
                        "the values so far expand to more than {} MiB; `{}` and what follows are skipped",
                        MAX_VALUES_LEN >> 20,
                        a.name
                    ),
                )
                .note("the cfg they would become is at most 1 MiB")
                .help("write the values themselves instead of expanding variables into each other"),
            );
            // Nothing after this is recorded: each skip would say the same.
            self.at = self.text.len();
            return;
        }
        self.vars
            .insert((a.name.clone(), a.index.clone()), a.value.clone());
        self.out.assignments.push(a);
    }

    /// One word's value: quoted and unquoted pieces up to an unquoted
    /// word end.
    fn value(&mut self) -> Result<String, NotData> {
        let mut out = String::new();
        while let Some(b) = self.peek() {
            match b {
                _ if WORD_END.contains(&b) => break,
                b'\'' => {
                    let open = self.at;
                    self.at += 1;
                    let start = self.at;
                    while self.peek().is_some_and(|b| b != b'\'') {
                        self.at += 1;
                    }
                    if self.peek().is_none() {
                        self.report(
                            open,
                            open + 1,
                            "this `'` is never closed".into(),
                            "close the quote",
                        );
                        return Err(NotData);
                    }
                    out.push_str(&latin1(&self.text[start..self.at]));
                    self.at += 1;
                }
                b'"' => {
                    let open = self.at;
                    self.at += 1;
                    loop {
                        match self.peek() {
                            None => {
                                self.report(
                                    open,
                                    open + 1,
                                    "this `\"` is never closed".into(),
                                    "close the quote",
                                );
                                return Err(NotData);
                            }
                            Some(b'"') => {
                                self.at += 1;
                                break;
                            }
                            Some(b'\\') => {
                                match self.peek_at(1) {
                                    Some(b'\n') => {}
                                    Some(e @ (b'"' | b'\\' | b'$' | b'`')) => {
                                        out.push(char::from(e))
                                    }
                                    Some(e) => {
                                        out.push('\\');
                                        out.push(char::from(e));
                                    }
                                    None => out.push('\\'),
                                }
                                self.at = (self.at + 2).min(self.text.len());
                            }
                            Some(b'$') => self.expansion(&mut out)?,
                            Some(b'`') => return Err(self.substitution()),
                            Some(b) => {
                                out.push(char::from(b));
                                self.at += 1;
                            }
                        }
                    }
                }
                b'\\' => {
                    match self.peek_at(1) {
                        Some(b'\n') | None => {}
                        Some(e) => out.push(char::from(e)),
                    }
                    self.at = (self.at + 2).min(self.text.len());
                }
                b'$' => self.expansion(&mut out)?,
                b'`' => return Err(self.substitution()),
                _ => {
                    out.push(char::from(b));
                    self.at += 1;
                }
            }
        }
        Ok(out)
    }

    fn substitution(&mut self) -> NotData {
        let end = self.substitution_end(self.at);
        let text =
            String::from_utf8_lossy(&self.text[self.at..end.min(self.text.len())]).into_owned();
        self.report(
            self.at,
            end,
            format!("`{text}` would run a command"),
            "write the value itself, not a command that prints it",
        );
        NotData
    }

    /// `$NAME`, `${NAME}`, `${NAME[i]}`; anything else is refused.
    fn expansion(&mut self, out: &mut String) -> Result<(), NotData> {
        let start = self.at;
        self.at += 1;
        let (name, index) = match self.peek() {
            Some(b'(') => return Err(self.substitution_at(start)),
            Some(b'{') => {
                self.at += 1;
                let name = self.bare_word();
                let mut index = None;
                if self.peek() == Some(b'[') {
                    self.at += 1;
                    let i = self.bare_word();
                    if self.peek() == Some(b']') {
                        self.at += 1;
                        index = Some(i);
                    }
                }
                if self.peek() != Some(b'}') || name.is_empty() {
                    let end = self.word_end_from(start);
                    self.report(
                        start,
                        end,
                        "a parameter expansion with an operator".into(),
                        "use plain `${NAME}`, or write the value itself",
                    );
                    return Err(NotData);
                }
                self.at += 1;
                (name, index)
            }
            Some(b) if is_name_start(b) => (self.bare_word(), None),
            _ => {
                // A lone `$` is literal in bash.
                out.push('$');
                return Ok(());
            }
        };
        self.out.referenced.insert(name.clone());
        match self.vars.get(&(name.clone(), index.clone())) {
            Some(v) if out.len() + v.len() > MAX_VALUE_LEN => {
                self.report(
                    start,
                    self.at,
                    format!(
                        "`{name}` makes this value longer than {} KiB",
                        MAX_VALUE_LEN >> 10
                    ),
                    "write the value itself instead of expanding variables into each other",
                );
                return Err(NotData);
            }
            Some(v) => out.push_str(v),
            None => {
                let span = self.span(start, self.at);
                self.diags.push(
                    Diagnostic::at(
                        &c::IMPORT_NOT_DATA,
                        span,
                        format!(
                            "`{name}` is not set earlier in this file; it expands to nothing here"
                        ),
                    )
                    .severity(Severity::Warning)
                    .note("bash would take it from the environment; xencfg reads only the file")
                    .help("set it above, or write the value itself"),
                );
            }
        }
        Ok(())
    }

    /// The end of `$(…)`, `$((…))` or `` `…` `` starting at `start`.
    fn substitution_end(&self, start: usize) -> usize {
        let rest = &self.text[start..];
        let len = if rest.starts_with(b"`") {
            rest[1..]
                .iter()
                .position(|&b| b == b'`')
                .map_or(rest.len(), |p| p + 2)
        } else {
            let mut depth = 0usize;
            let mut end = rest.len();
            for (i, &b) in rest.iter().enumerate() {
                match b {
                    b'(' => depth += 1,
                    b')' if depth <= 1 => {
                        end = i + 1;
                        break;
                    }
                    b')' => depth -= 1,
                    b'\n' => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            end
        };
        start + len.max(1)
    }

    fn substitution_at(&mut self, start: usize) -> NotData {
        self.at = start;
        self.substitution()
    }
}

/// Bytes as chars one to one (the cfg is read the same way).
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Item = (String, Option<String>, String);

    fn read(text: &str) -> (Vec<Item>, Vec<String>) {
        let mut diags = Diagnostics::default();
        let list = parse(FileId(0), text.as_bytes(), &mut diags)
            .assignments
            .into_iter()
            .map(|a| (a.name, a.index, a.value))
            .collect();
        let messages = diags
            .iter()
            .map(|d| format!("{}:{} {}", d.check.code, d.severity.as_str(), d.message))
            .collect();
        (list, messages)
    }

    fn one(name: &str, index: Option<&str>, value: &str) -> Item {
        (name.into(), index.map(Into::into), value.into())
    }

    #[test]
    fn reads_plain_indexed_and_quoted_values() {
        let (list, diags) = read(
            "# comment\nMEMORY_START=0x0\nDOMU_KERNEL[0]=\"Image domu\"\nDOMU_CMD[0]='console=ttyAMA0 a=\"b\"'  # trailing\nexport XEN=xen\nA=a\\ b\"c\"'d'\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            list,
            [
                one("MEMORY_START", None, "0x0"),
                one("DOMU_KERNEL", Some("0"), "Image domu"),
                one("DOMU_CMD", Some("0"), "console=ttyAMA0 a=\"b\""),
                one("XEN", None, "xen"),
                one("A", None, "a bcd"),
            ]
        );
    }

    #[test]
    fn expands_earlier_assignments_only() {
        let (list, diags) =
            read("DIR=images\nK=\"$DIR/Image\"\nR=${DIR}/${NOPE}x\nL[1]=a\nM=${L[1]}\n");
        assert_eq!(list[1].2, "images/Image");
        assert_eq!(list[2].2, "images/x");
        assert_eq!(list[4].2, "a");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].starts_with("XC1101:warning `NOPE` is not set"),
            "{diags:?}"
        );
    }

    #[test]
    fn never_runs_anything() {
        for text in [
            "A=$(cat /etc/passwd)\n",
            "A=`id`\n",
            "A=$((1+2))\n",
            "A=${B:-x}\n",
            "rm -rf /\n",
            "source other.cfg\n",
            "if true; then A=1; fi\n",
            "A+=x\n",
            "A=\"open\n",
        ] {
            let (list, diags) = read(text);
            assert!(
                diags.iter().any(|d| d.starts_with("XC1101:error")),
                "{text:?}: {diags:?}"
            );
            assert!(
                !list
                    .iter()
                    .any(|(_, _, v)| v.contains("passwd") || v == "3"),
                "{text:?}"
            );
        }
        // Reading goes on after a bad line.
        let (list, _) = read("A=$(x)\nB=2\n");
        assert_eq!(list, [one("B", None, "2")]);
    }

    #[test]
    fn arrays_continuations_and_declarations() {
        let (list, diags) = read("declare -a DOMU_MEM\nDOMU_MEM=(512 ([skip]\n");
        assert!(!diags.is_empty());
        assert!(list.is_empty(), "{list:?}");
        let (list, diags) =
            read("declare -A AFF\nDOMU_MEM=(512\n 256 [5]=64)\nCMD=\"a \\\nb\"\nX=1 Y=2; Z=3\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            list,
            [
                one("DOMU_MEM", Some("0"), "512"),
                one("DOMU_MEM", Some("1"), "256"),
                one("DOMU_MEM", Some("5"), "64"),
                one("CMD", None, "a b"),
                one("X", None, "1"),
                one("Y", None, "2"),
                one("Z", None, "3"),
            ]
        );
    }

    proptest::proptest! {
        /// Any bytes, shell-heavy ones above all: reading ends, never
        /// panics, and spans stay inside the text.
        #[test]
        fn reading_always_ends(text in proptest::collection::vec(
            proptest::sample::select(b"AB_[]0=\"'$(){}`\\#;\n -+,:x\t\r|&<>".to_vec()), 0..120)
        ) {
            let mut diags = Diagnostics::default();
            for a in parse(FileId(0), &text, &mut diags).assignments {
                proptest::prop_assert!(a.value_span.offset + a.value_span.len <= text.len());
            }
            for d in diags.iter() {
                if let crate::diag::Location::Text(s) = d.location {
                    proptest::prop_assert!(s.offset <= text.len());
                }
            }
        }
    }

    #[test]
    fn spans_point_at_names_and_values() {
        let mut diags = Diagnostics::default();
        let list = parse(FileId(0), b"A=1\n  DOMU_MEM[2]=\"64\"\n", &mut diags).assignments;
        let a = &list[1];
        assert_eq!(
            (a.name_span.line, a.name_span.col, a.name_span.len),
            (2, 3, 11)
        );
        assert_eq!(
            (a.value_span.line, a.value_span.col, a.value_span.len),
            (2, 15, 4)
        );
    }
}

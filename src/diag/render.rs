//! Rendering diagnostics: rustc-style text for people, JSON lines for tools.

use super::style::{Role, Style};
use super::{Diagnostic, Location, Severity, SourceMap};
use serde::Serialize;

/// rustc-style text: header, `-->` location, the source line with a caret
/// under the exact bytes, then notes and help.
pub fn human(d: &Diagnostic, sources: &SourceMap) -> String {
    human_styled(d, sources, Style::PLAIN)
}

/// [`human`] with colour when `style` says so (see [`super::style`]).
pub fn human_styled(d: &Diagnostic, sources: &SourceMap, style: Style) -> String {
    let severity = Role::Severity(d.severity);
    let gutter = |text: &str| style.paint(Role::Gutter, text);
    let mut out = format!(
        "{}{}\n",
        style.paint(
            severity,
            &format!("{}[{}]", d.severity.as_str(), d.check.code)
        ),
        style.paint(Role::Emphasis, &format!(": {}", d.message))
    );
    match &d.location {
        Location::Text(span) => {
            let path = sources.path(span.file).display();
            let number = span.line.to_string();
            let pad = " ".repeat(number.len());
            out.push_str(&format!(
                "{pad}{} {path}:{}:{}\n",
                gutter("-->"),
                span.line,
                span.col
            ));
            let line = sources.line_text(span.file, span.line);
            let start = (span.col as usize).saturating_sub(1).min(line.len());
            let width = span.len.clamp(1, line.len().saturating_sub(start).max(1));
            let (shown, caret_at, caret_width) = window(line, start, width);
            out.push_str(&format!(
                "{}\n{} {shown}\n{} {}{}\n",
                gutter(&format!("{pad} |")),
                gutter(&format!("{number} |")),
                gutter(&format!("{pad} |")),
                " ".repeat(caret_at),
                style.paint(severity, &"^".repeat(caret_width))
            ));
        }
        location => out.push_str(&format!(
            "  {} {}\n",
            gutter("-->"),
            describe(location, sources)
        )),
    }
    let note = style.paint(Role::Label, "= note:");
    for (location, label) in &d.related {
        out.push_str(&format!(
            "  {note} {label}: {}\n",
            describe(location, sources)
        ));
    }
    for text in &d.notes {
        out.push_str(&format!("  {note} {text}\n"));
    }
    if let Some(help) = &d.help {
        out.push_str(&format!(
            "  {} {help}\n",
            style.paint(Role::Label, "= help:")
        ));
    }
    out
}

/// Long lines are cut to a window around the caret so a diagnostic stays
/// readable; `…` marks what was cut.
const MAX_SHOWN: usize = 100;
const CONTEXT: usize = 40;

/// The part of `line` to show, made printable, with the caret's column
/// and width in it. Only the shown bytes are converted: a megabyte line
/// costs no more than a short one.
fn window(line: &[u8], start: usize, width: usize) -> (String, usize, usize) {
    if line.len() <= MAX_SHOWN {
        return (printable(line), start, width);
    }
    let width = width.min(MAX_SHOWN - 2 * CONTEXT);
    let from = start.saturating_sub(CONTEXT);
    let to = (start + width + CONTEXT).min(line.len());
    let mut shown = String::new();
    let mut caret_at = start - from;
    if from > 0 {
        shown.push('…');
        caret_at += 1;
    }
    shown.push_str(&printable(line.get(from..to).unwrap_or(&[])));
    if to < line.len() {
        shown.push('…');
    }
    (shown, caret_at, width)
}

/// Bytes as one display column each, so carets line up with byte columns.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x20..=0x7e => b as char,
            0x00..=0x1f | 0x7f => ' ',
            _ => '?',
        })
        .collect()
}

/// A location on one line: `file:line:col`, `file: /node (property p)`.
pub fn describe(location: &Location, sources: &SourceMap) -> String {
    match location {
        Location::Text(s) => format!("{}:{}:{}", sources.path(s.file).display(), s.line, s.col),
        Location::Tree {
            file,
            node,
            property,
        } => match property {
            Some(p) => format!("{}: {node}: property `{p}`", file.display()),
            None => format!("{}: {node}", file.display()),
        },
        Location::File(p) => p.display().to_string(),
        Location::Nowhere => "(command line)".to_string(),
    }
}

/// The closing summary line, e.g. `2 errors, 1 warning`.
pub fn summary(errors: usize, warnings: usize) -> String {
    summary_styled(errors, warnings, Style::PLAIN)
}

/// [`summary`], the counts coloured by severity when they are not zero.
pub fn summary_styled(errors: usize, warnings: usize, style: Style) -> String {
    let plural = |n: usize, word: &str, severity: Severity| {
        let text = format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        if n == 0 {
            text
        } else {
            style.paint(Role::Severity(severity), &text)
        }
    };
    format!(
        "{}, {}",
        plural(errors, "error", Severity::Error),
        plural(warnings, "warning", Severity::Warning)
    )
}

/// One diagnostic as a JSON object (one per line with `--format json`).
/// Field names are stable: see README "Machine-readable output".
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub severity: Severity,
    pub code: &'static str,
    pub check: &'static str,
    pub message: &'a str,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub length: Option<usize>,
    pub node: Option<&'a str>,
    pub property: Option<&'a str>,
    pub notes: &'a [String],
    pub help: Option<&'a str>,
    pub related: Vec<JsonRelated>,
}

#[derive(Serialize)]
pub struct JsonRelated {
    pub location: String,
    pub label: String,
}

pub fn json(d: &Diagnostic, sources: &SourceMap) -> String {
    let (mut file, mut line, mut column, mut length, mut node, mut property) =
        (None, None, None, None, None, None);
    match &d.location {
        Location::Text(s) => {
            file = Some(sources.path(s.file).display().to_string());
            line = Some(s.line);
            column = Some(s.col);
            length = Some(s.len);
        }
        Location::Tree {
            file: f,
            node: n,
            property: p,
        } => {
            file = Some(f.display().to_string());
            node = Some(n.as_str());
            property = p.as_deref();
        }
        Location::File(p) => file = Some(p.display().to_string()),
        Location::Nowhere => {}
    }
    let record = JsonDiagnostic {
        severity: d.severity,
        code: d.check.code,
        check: d.check.name,
        message: &d.message,
        file,
        line,
        column,
        length,
        node,
        property,
        notes: &d.notes,
        help: d.help.as_deref(),
        related: d
            .related
            .iter()
            .map(|(l, label)| JsonRelated {
                location: describe(l, sources),
                label: label.clone(),
            })
            .collect(),
    };
    serde_json::to_string(&record).unwrap_or_default()
}

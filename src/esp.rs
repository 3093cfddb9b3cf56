//! Paths on the EFI system partition, as Xen's EFI loader opens them.
//!
//! Cfg values and `xen,uefi-binary` strings are paths relative to the
//! directory of the Xen EFI binary (reference §1.8). Users may write `/` or
//! `\`; [`EspPath`] keeps the components and always emits `\` (EDK2's FAT
//! driver rejects `/`). Parsing enforces the FAT naming rules (XC05xx).
//!
//! Xen hands the path to the firmware verbatim, so xencfg does not
//! normalise it: `.` and `..` components are rejected rather than resolved,
//! because what the firmware makes of them is not what xencfg would stage.
//! Whether `/` deserves the XC0506 warning depends on whether Xen reads the
//! text as written, which only the caller knows; [`EspPath::parse`] accepts
//! it silently.

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, Location, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The longest FAT long name, in UCS-2 units (Xen widens one byte to one
/// unit, so bytes count here).
const MAX_COMPONENT_LEN: usize = 255;

/// Bytes FAT long names may not contain, besides control bytes and the
/// separators (EDK2 `FatFileNameIsValid`).
const FAT_RESERVED: &[u8] = b"\"*:<>?|";

/// A validated relative path on the ESP.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EspPath {
    components: Vec<String>,
}

impl EspPath {
    /// Parse a path as written in the cfg. Reports FAT rule violations at
    /// `span` and returns `None` when the path is unusable.
    ///
    /// "Unusable" means it cannot be written as plain names below the Xen
    /// directory: empty, absolute, with `.`/`..` or an empty component.
    /// Names FAT or Xen would mangle (reserved or non-ASCII characters, too
    /// long, trailing dot or blank) are reported but still returned, so the
    /// file checks that follow can run and report everything in one pass.
    ///
    /// When `span` covers exactly the bytes of `raw` (a cfg value), each
    /// diagnostic points at the offending bytes; otherwise at all of `span`.
    pub fn parse(raw: &str, span: Span, diags: &mut Diagnostics) -> Option<EspPath> {
        let at = SubSpan { span, raw };
        if raw.is_empty() {
            diags.push(
                Diagnostic::at(&codes::ESP_BAD_NAME, span, "empty path")
                    .help("name a file relative to the directory of the Xen EFI binary"),
            );
            return None;
        }

        // A leading separator is reported once, as an absolute path, and
        // not again as an empty first component.
        let body = raw.trim_start_matches(['/', '\\']);
        let body_start = raw.len() - body.len();
        let mut usable = true;
        if body_start > 0 {
            usable = false;
            diags.push(
                Diagnostic::at(
                    &codes::ESP_ESCAPE,
                    at.range(0, 1),
                    format!("absolute path `{raw}`"),
                )
                .note("a leading separator means the root of the ESP volume to the firmware, while xencfg stages files next to the Xen EFI binary")
                .help(format!(
                    "write the path relative to the directory of the Xen EFI binary: `{body}`"
                )),
            );
        }
        check_characters(raw, at, diags);

        let mut components = Vec::new();
        let mut offset = body_start;
        for component in body.split(['/', '\\']) {
            if !check_component(component, offset, raw, at, diags) {
                usable = false;
            }
            // Separators are one byte each.
            offset += component.len() + 1;
            components.push(component.to_string());
        }
        usable.then_some(EspPath { components })
    }

    /// Build from components already known to be valid (tests, generated names).
    pub fn from_components(components: Vec<String>) -> EspPath {
        EspPath { components }
    }

    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// The string Xen gets: components joined with `\`.
    pub fn to_efi_string(&self) -> String {
        self.components.join("\\")
    }

    /// Where the file is on the build host, below `root`.
    pub fn host_path(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        p.extend(&self.components);
        p
    }

    /// The name FAT compares, for clash detection: case-folded, and with
    /// the leading blanks and trailing blanks and dots EDK2 strips from
    /// each component removed, so every spelling of one FAT file has the
    /// same key.
    pub fn fat_key(&self) -> String {
        self.components
            .iter()
            .map(|c| c.trim_start_matches(' ').trim_end_matches([' ', '.']))
            .collect::<Vec<_>>()
            .join("\\")
            .to_ascii_lowercase()
    }
}

impl std::fmt::Display for EspPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_efi_string())
    }
}

/// Check a name xencfg makes one file of on the ESP, `name` + `suffix`
/// (a boot section's `<name>.dtb`, `--efi-name`'s `<name>.efi`): the FAT
/// rules of every ESP path, and no separator, since it names a file in
/// Xen's directory, not a path. Reports at `span` (the name as written);
/// returns whether the name is usable.
pub fn check_file_name(name: &str, suffix: &str, span: Span, diags: &mut Diagnostics) -> bool {
    let at = SubSpan { span, raw: name };
    let file = format!("{name}{suffix}");
    if let Some(separator) = name.find(['/', '\\']) {
        diags.push(
            Diagnostic::at(
                &codes::ESP_BAD_NAME,
                at.range(separator, 1),
                format!("`{name}` holds a path separator"),
            )
            .note(format!(
                "xencfg names a file `{file}` after it in Xen's directory; a separator makes that a path Xen's loader cannot open as written"
            ))
            .help("rename it without `/` and `\\`"),
        );
        return false;
    }
    let before = diags.len();
    check_characters(name, at, diags);
    let usable = check_component(&file, 0, &file, SubSpan { span, raw: &file }, diags);
    usable && diags.len() == before
}

/// Find paths that are spelt differently but name the same FAT file
/// (XC0503). Each occurrence whose spelling differs from the first one
/// seen for that file gets a diagnostic at its span, with the first
/// occurrence as a related location. Repeating the same spelling is fine:
/// Xen loads one file per distinct string.
pub fn case_clashes<'a>(paths: impl IntoIterator<Item = (&'a EspPath, Span)>) -> Vec<Diagnostic> {
    let mut first_by_key: HashMap<String, (&'a EspPath, Span)> = HashMap::new();
    let mut found = Vec::new();
    for (path, span) in paths {
        let Some(&(first, first_span)) = first_by_key.get(&path.fat_key()) else {
            first_by_key.insert(path.fat_key(), (path, span));
            continue;
        };
        if first.components == path.components {
            continue;
        }
        found.push(
            Diagnostic::at(
                &codes::ESP_CASE_CLASH,
                span,
                format!("`{path}` and `{first}` are the same file on FAT"),
            )
            .related(Location::Text(first_span), format!("first spelt `{first}` here"))
            .note("FAT finds one file under both names, while Xen compares the strings byte for byte and loads it twice")
            .help(format!("spell every reference to this file the same way: `{first}`")),
        );
    }
    found
}

/// Narrows a diagnostic to part of `raw` when the span is exactly `raw`.
/// `raw` was decoded from the cfg byte per char (Latin-1), so the span's
/// file bytes are `raw`'s chars, not its UTF-8 bytes.
#[derive(Clone, Copy)]
struct SubSpan<'a> {
    span: Span,
    raw: &'a str,
}

impl SubSpan<'_> {
    /// The span of `raw[offset..offset + len]` (UTF-8 byte offsets). A
    /// value never holds a line end, so the column advances with the offset.
    fn range(self, offset: usize, len: usize) -> Span {
        let part = offset
            .checked_add(len)
            .and_then(|end| Some((self.raw.get(..offset)?, self.raw.get(offset..end)?)));
        let whole = self.raw.chars().count();
        match part {
            Some((before, part)) if self.span.len == whole => {
                let (start, len) = (before.chars().count(), part.chars().count());
                Span {
                    offset: self.span.offset.saturating_add(start),
                    len,
                    col: self
                        .span
                        .col
                        .saturating_add(u32::try_from(start).unwrap_or(u32::MAX)),
                    ..self.span
                }
            }
            _ => self.span,
        }
    }
}

/// XC0501 (reserved and control characters) and XC0504 (non-ASCII), one
/// diagnostic per rule for the whole path, pointing at the first offender.
fn check_characters(raw: &str, at: SubSpan<'_>, diags: &mut Diagnostics) {
    let reserved: Vec<(usize, char)> = raw
        .char_indices()
        .filter(|&(_, c)| {
            c.is_ascii_control() || (c.is_ascii() && FAT_RESERVED.contains(&(c as u8)))
        })
        .collect();
    if let Some(&(first, c)) = reserved.first() {
        diags.push(
            Diagnostic::at(
                &codes::ESP_RESERVED_CHAR,
                at.range(first, c.len_utf8()),
                format!("{} not allowed in a FAT name", list_chars(&reserved)),
            )
            .help("rename the file without `\" * : < > ? |` and control characters"),
        );
    }

    let non_ascii: Vec<(usize, char)> = raw.char_indices().filter(|(_, c)| !c.is_ascii()).collect();
    if let Some(&(first, c)) = non_ascii.first() {
        diags.push(
            Diagnostic::at(
                &codes::ESP_NON_ASCII,
                at.range(first, c.len_utf8()),
                format!("{} not ASCII", list_chars(&non_ascii)),
            )
            .note("Xen widens each byte to one UCS-2 unit, so the name it asks the firmware for is not the file's name")
            .help("rename the file using ASCII characters only"),
        );
    }
}

/// "`:` is", "`:`, `?` are": distinct characters in order of appearance.
fn list_chars(found: &[(usize, char)]) -> String {
    let mut distinct: Vec<char> = Vec::new();
    for &(_, c) in found {
        if !distinct.contains(&c) {
            distinct.push(c);
        }
    }
    let shown: Vec<String> = distinct
        .iter()
        .map(|&c| format!("`{}`", show_char(c)))
        .collect();
    let verb = if shown.len() == 1 { "is" } else { "are" };
    format!("{} {verb}", shown.join(", "))
}

/// A character as the user can read it: control bytes escaped.
fn show_char(c: char) -> String {
    if c.is_ascii_control() {
        format!("\\x{:02x}", u32::from(c))
    } else if c.is_control() {
        c.escape_default().to_string()
    } else {
        c.to_string()
    }
}

/// The XC0502/XC0505 rules for one component starting at byte `offset` of
/// `raw`. Returns whether the component can be staged as it is.
fn check_component(
    component: &str,
    offset: usize,
    raw: &str,
    at: SubSpan<'_>,
    diags: &mut Diagnostics,
) -> bool {
    let here = at.range(offset, component.len());
    match component {
        "" => {
            let trailing = offset == raw.len();
            let (message, help) = if trailing {
                (
                    "path ends with a separator",
                    "a file path names a file, not a directory: drop the final separator",
                )
            } else {
                (
                    "empty path component (doubled separator)",
                    "write a single separator between names",
                )
            };
            // Point at the separators around the empty name: the doubled
            // pair, or the final one.
            let sep_len = if trailing { 1 } else { 2 };
            let sep = at.range(offset.saturating_sub(1), sep_len);
            diags.push(
                Diagnostic::at(&codes::ESP_BAD_NAME, sep, format!("{message} in `{raw}`"))
                    .note(
                        "the firmware is given the path as written and EDK2 rejects an empty name",
                    )
                    .help(help),
            );
            false
        }
        "." => {
            diags.push(
                Diagnostic::at(&codes::ESP_BAD_NAME, here, format!("`.` component in `{raw}`"))
                    .note("Xen passes the path to the firmware verbatim; xencfg does not resolve `.` so that what it stages is exactly what Xen opens")
                    .help("drop the `./`: paths are already relative to the directory of the Xen EFI binary"),
            );
            false
        }
        ".." => {
            diags.push(
                Diagnostic::at(&codes::ESP_ESCAPE, here, format!("`..` component in `{raw}`"))
                    .note("Xen passes the path to the firmware verbatim; xencfg stages files below the directory of the Xen EFI binary and does not resolve `..`")
                    .help("put the file in the directory of the Xen EFI binary or below it, and name it from there"),
            );
            false
        }
        _ => {
            if component.len() > MAX_COMPONENT_LEN {
                diags.push(
                    Diagnostic::at(
                        &codes::ESP_BAD_NAME,
                        here,
                        format!(
                            "name of {} characters is longer than FAT's {MAX_COMPONENT_LEN}",
                            component.len()
                        ),
                    )
                    .help(format!(
                        "shorten the name to at most {MAX_COMPONENT_LEN} characters"
                    )),
                );
            }
            let stripped = component
                .trim_start_matches(' ')
                .trim_end_matches([' ', '.']);
            if stripped.len() != component.len() {
                let what = match (
                    component.starts_with(' '),
                    component.ends_with(' '),
                    component.ends_with('.'),
                ) {
                    (true, _, _) => "a leading blank",
                    (_, true, _) => "a trailing blank",
                    _ => "a trailing dot",
                };
                diags.push(
                    Diagnostic::at(&codes::ESP_BAD_NAME, here, format!("`{component}` has {what}"))
                        .note("EDK2 strips leading blanks and trailing blanks and dots from a name, so the firmware opens a different name than Xen was given")
                        .help(if stripped.is_empty() {
                            "name the file with letters or digits".to_string()
                        } else {
                            format!("name the file `{stripped}`")
                        }),
                );
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use proptest::prelude::*;

    /// A span covering `raw` written at column 8 of line 3 (after `kernel=`),
    /// one file byte per char as the lexer decodes it.
    fn span_of(raw: &str) -> Span {
        Span {
            file: FileId(0),
            offset: 100,
            len: raw.chars().count(),
            line: 3,
            col: 8,
        }
    }

    fn parse(raw: &str) -> (Option<EspPath>, Vec<Diagnostic>) {
        let mut diags = Diagnostics::default();
        let path = EspPath::parse(raw, span_of(raw), &mut diags);
        (path, diags.into_vec())
    }

    fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
        diags.iter().map(|d| d.check.code).collect()
    }

    fn text_span(d: &Diagnostic) -> Span {
        match d.location {
            Location::Text(s) => s,
            ref other => panic!("not a text location: {other:?}"),
        }
    }

    #[test]
    fn plain_paths_emit_backslashes() {
        for (raw, efi) in [
            ("Image", "Image"),
            ("domu/Image-1.bin", "domu\\Image-1.bin"),
            ("a\\b/c", "a\\b\\c"),
            (".hidden/x", ".hidden\\x"),
            ("a b/c", "a b\\c"),
        ] {
            let (path, diags) = parse(raw);
            assert!(diags.is_empty(), "{raw}: {diags:?}");
            let path = path.expect(raw);
            assert_eq!(path.to_efi_string(), efi);
            assert_eq!(path.to_string(), efi);
        }
        let (path, _) = parse("domu/Image");
        assert_eq!(
            path.map(|p| p.host_path(Path::new("/esp"))),
            Some(PathBuf::from("/esp/domu/Image"))
        );
    }

    #[test]
    fn reserved_and_control_characters() {
        let (path, diags) = parse("dom:u/Im?age|x");
        assert_eq!(codes(&diags), ["XC0501"]);
        assert_eq!(
            diags[0].message,
            "`:`, `?`, `|` are not allowed in a FAT name"
        );
        // Points at the first `:`.
        let s = text_span(&diags[0]);
        assert_eq!((s.offset, s.len, s.col), (103, 1, 11));
        assert!(diags[0].help.is_some());
        // Still a path: the name is wrong, not its structure.
        assert!(path.is_some());

        for raw in ["a\"b", "a*b", "a<b", "a>b", "a\u{1}b", "a\u{7f}b", "a\tb"] {
            assert_eq!(codes(&parse(raw).1), ["XC0501"], "{raw:?}");
        }
        assert_eq!(
            parse("a\tb").1[0].message,
            "`\\x09` is not allowed in a FAT name"
        );
    }

    #[test]
    fn absolute_paths_escape() {
        for raw in ["/Image", "\\EFI\\xen\\Image", "//x"] {
            let (path, diags) = parse(raw);
            assert_eq!(path, None, "{raw}");
            assert_eq!(codes(&diags).first(), Some(&"XC0502"), "{raw}");
        }
        let (_, diags) = parse("\\EFI\\xen\\Image");
        assert_eq!(codes(&diags), ["XC0502"]);
        assert_eq!(
            diags[0].help.as_deref(),
            Some(
                "write the path relative to the directory of the Xen EFI binary: `EFI\\xen\\Image`"
            )
        );
    }

    #[test]
    fn dot_and_dotdot_are_rejected() {
        let (path, diags) = parse("../Image");
        assert_eq!((path, codes(&diags)), (None, vec!["XC0502"]));
        let s = text_span(&diags[0]);
        assert_eq!((s.offset, s.len), (100, 2));

        // Even when it stays inside: Xen gives it to the firmware verbatim.
        let (path, diags) = parse("a/../b");
        assert_eq!((path, codes(&diags)), (None, vec!["XC0502"]));
        assert_eq!(text_span(&diags[0]).offset, 102);

        let (path, diags) = parse("./Image");
        assert_eq!((path, codes(&diags)), (None, vec!["XC0505"]));
    }

    #[test]
    fn non_ascii() {
        let (path, diags) = parse("dómu/Imäge");
        assert_eq!(codes(&diags), ["XC0504"]);
        assert_eq!(diags[0].message, "`ó`, `ä` are not ASCII");
        let s = text_span(&diags[0]);
        // `ó` is the file byte 0xF3: one byte wide.
        assert_eq!((s.offset, s.len, s.col), (101, 1, 9));
        assert!(path.is_some());
    }

    #[test]
    fn empty_path_and_components() {
        let (path, diags) = parse("");
        assert_eq!((path, codes(&diags)), (None, vec!["XC0505"]));
        assert_eq!(diags[0].message, "empty path");

        let (path, diags) = parse("a//b");
        assert_eq!((path, codes(&diags)), (None, vec!["XC0505"]));
        let s = text_span(&diags[0]);
        assert_eq!((s.offset, s.len), (101, 2));

        let (path, diags) = parse("a/b/");
        assert_eq!((path, codes(&diags)), (None, vec!["XC0505"]));
        assert!(diags[0].message.starts_with("path ends with a separator"));
        assert_eq!(text_span(&diags[0]).offset, 103);
    }

    #[test]
    fn long_names() {
        let ok = "x".repeat(255);
        assert!(parse(&ok).1.is_empty());
        let long = format!("dir/{}", "x".repeat(256));
        let (path, diags) = parse(&long);
        assert_eq!(codes(&diags), ["XC0505"]);
        assert_eq!(text_span(&diags[0]).offset, 104);
        assert!(path.is_some());
    }

    #[test]
    fn names_edk2_strips() {
        for (raw, what, fixed) in [
            ("initrd.img ", "a trailing blank", "initrd.img"),
            ("Image.", "a trailing dot", "Image"),
            (" Image", "a leading blank", "Image"),
            ("dir./Image", "a trailing dot", "dir"),
        ] {
            let (path, diags) = parse(raw);
            assert_eq!(codes(&diags), ["XC0505"], "{raw}");
            assert!(
                diags[0].message.ends_with(what),
                "{raw}: {}",
                diags[0].message
            );
            assert_eq!(
                diags[0].help.as_deref(),
                Some(&*format!("name the file `{fixed}`"))
            );
            assert!(path.is_some());
        }
        assert_eq!(
            parse("...").1[0].help.as_deref(),
            Some("name the file with letters or digits")
        );
    }

    #[test]
    fn several_problems_reported_together() {
        let (path, diags) = parse("/a:b/../ü.");
        assert_eq!(path, None);
        let mut found = codes(&diags);
        found.sort();
        assert_eq!(found, ["XC0501", "XC0502", "XC0502", "XC0504", "XC0505"]);
    }

    #[test]
    fn span_not_matching_raw_is_kept_whole() {
        // A DT string: the span is not the raw text, so no narrowing.
        let whole = Span {
            file: FileId(1),
            offset: 7,
            len: 3,
            line: 1,
            col: 1,
        };
        let mut diags = Diagnostics::default();
        EspPath::parse("a/../b", whole, &mut diags);
        assert_eq!(diags.iter().map(text_span).collect::<Vec<_>>(), [whole]);
    }

    #[test]
    fn fat_key_folds_case_and_stripped_ends() {
        let a = EspPath::from_components(vec!["Domu".into(), "Image".into()]);
        let b = EspPath::from_components(vec!["domu".into(), "IMAGE. ".into()]);
        assert_eq!(a.fat_key(), "domu\\image");
        assert_eq!(a.fat_key(), b.fat_key());
    }

    #[test]
    fn clashes_point_at_later_spellings() {
        let image = EspPath::from_components(vec!["Image".into()]);
        let image_lower = EspPath::from_components(vec!["image".into()]);
        let initrd = EspPath::from_components(vec!["initrd".into()]);
        let span = |line| Span {
            file: FileId(0),
            offset: line as usize * 10,
            len: 5,
            line,
            col: 8,
        };
        let found = case_clashes([
            (&image, span(1)),
            (&initrd, span(2)),
            (&image, span(3)),
            (&image_lower, span(4)),
            (&image_lower, span(5)),
        ]);
        assert_eq!(codes(&found), ["XC0503", "XC0503"]);
        assert_eq!(text_span(&found[0]).line, 4);
        assert_eq!(text_span(&found[1]).line, 5);
        assert_eq!(
            found[0].message,
            "`image` and `Image` are the same file on FAT"
        );
        assert_eq!(
            found[0].related,
            [(
                Location::Text(span(1)),
                "first spelt `Image` here".to_string()
            )]
        );
        assert!(case_clashes([(&image, span(1)), (&image, span(2))]).is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(raw in "\\PC{0,40}|[a-zA-Z./\\\\ :]{0,20}", len in 0usize..50) {
            let span = Span { file: FileId(0), offset: usize::MAX - 3, len, line: 1, col: u32::MAX - 2 };
            let mut diags = Diagnostics::default();
            if let Some(path) = EspPath::parse(&raw, span, &mut diags) {
                // Every accepted path round-trips through its EFI string.
                let mut again = Diagnostics::default();
                let reparsed = EspPath::parse(&path.to_efi_string(), span, &mut again);
                prop_assert_eq!(reparsed, Some(path));
            } else {
                prop_assert!(diags.has_errors());
            }
        }
    }
}

//! Colour for human-readable output, rustc's palette: errors red, warnings
//! yellow, locations and gutters blue, notes and help bold.
//!
//! Whether to colour is decided once, at the edge ([`use_color`]): only on a
//! terminal, never when `NO_COLOR` is set (no-color.org) or `TERM=dumb`,
//! unless the user asked for `--color always`. Everything else renders
//! plain text, so golden files and pipes never see escape codes.

use super::Severity;

/// What a piece of text is, which decides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Severity(Severity),
    /// The message line of a diagnostic, a heading.
    Emphasis,
    /// `-->`, the line-number gutter.
    Gutter,
    /// `= note:` and `= help:` labels.
    Label,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };
    pub const COLOR: Style = Style { color: true };

    /// `text` wrapped in the ANSI codes of `role` (unchanged when plain).
    pub fn paint(self, role: Role, text: &str) -> String {
        if !self.color || text.is_empty() {
            return text.to_string();
        }
        let code = match role {
            Role::Severity(Severity::Error) => "1;31",
            Role::Severity(Severity::Warning) => "1;33",
            Role::Severity(Severity::Allow) => "1",
            Role::Emphasis | Role::Label => "1",
            Role::Gutter => "1;34",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// The user's `--color` choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Whether to colour a stream: `auto` colours a terminal unless `NO_COLOR`
/// is set to a non-empty value or `TERM` is `dumb`.
pub fn use_color(
    choice: ColorChoice,
    is_terminal: bool,
    no_color: Option<&str>,
    term: Option<&str>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && no_color.is_none_or(str::is_empty) && term != Some("dumb")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_terminals_only() {
        assert!(use_color(ColorChoice::Auto, true, None, Some("xterm")));
        assert!(!use_color(ColorChoice::Auto, false, None, Some("xterm")));
        assert!(!use_color(ColorChoice::Auto, true, Some("1"), None));
        assert!(use_color(ColorChoice::Auto, true, Some(""), None));
        assert!(!use_color(ColorChoice::Auto, true, None, Some("dumb")));
        assert!(use_color(ColorChoice::Always, false, Some("1"), None));
        assert!(!use_color(ColorChoice::Never, true, None, None));
    }

    #[test]
    fn plain_text_has_no_escapes() {
        let role = Role::Severity(Severity::Error);
        assert_eq!(Style::PLAIN.paint(role, "error"), "error");
        assert_eq!(Style::COLOR.paint(role, "error"), "\x1b[1;31merror\x1b[0m");
        assert_eq!(Style::COLOR.paint(role, ""), "");
    }
}

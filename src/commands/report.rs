//! Diagnostics as the user asked for them: rustc-style text on stderr, or
//! JSON lines or SARIF on the stream the command reserves for them.

use super::Compilation;
use super::terminal;
use crate::cli::Format;
use crate::diag::style::{Role, Style};
use crate::diag::{Diagnostics, Severity, SourceMap, render, sarif};
use crate::error::Error;
use crate::target::{Target, VersionSource, XenVersion};
use std::io::Write;

/// Where machine-readable diagnostics go (human text is always stderr).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What `check` and `build` report: on a terminal, the target assumed
/// when no option names one; then the diagnostics, machine formats on
/// stdout (they write nothing else there).
pub fn findings(compilation: &Compilation, format: Format, style: Style) -> Result<(), Error> {
    let target = &compilation.target;
    if terminal::stderr_is_terminal() && target.version_source == VersionSource::Default {
        eprintln!("{}", assumed_target_note(target, style));
    }
    diagnostics(
        &compilation.diags,
        &compilation.sources,
        format,
        Stream::Stdout,
        style,
    )
}

/// Said once, on a terminal, when no option names the target Xen.
fn assumed_target_note(target: &Target, style: Style) -> String {
    format!(
        "{} no target Xen given (`--xen-version`, `--xen` or `--xen-config`): checking for Xen {} and warning where Xen {} to {} differ",
        style.paint(Role::Label, "note:"),
        target.version,
        XenVersion::OLDEST,
        XenVersion::NEWEST
    )
}

/// Diagnostics in `format`: human text on stderr, machine formats on
/// `machine`. Failing to write a machine report loses it: an error.
pub fn diagnostics(
    diags: &Diagnostics,
    sources: &SourceMap,
    format: Format,
    machine: Stream,
    style: Style,
) -> Result<(), Error> {
    let mut text = String::new();
    match format {
        Format::Human => {
            for d in diags.iter() {
                text.push_str(&render::human_styled(d, sources, style));
                text.push('\n');
            }
            let (errors, warnings) = (diags.count(Severity::Error), diags.count(Severity::Warning));
            if errors + warnings > 0 {
                text.push_str(&render::summary_styled(errors, warnings, style));
                text.push('\n');
            }
            // Where stderr itself fails there is nowhere left to say so.
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            return Ok(());
        }
        Format::Sarif => {
            text = sarif::log(diags.iter(), sources).to_string();
            text.push('\n');
        }
        Format::Json => {
            for d in diags.iter() {
                text.push_str(&render::json(d, sources).to_string());
                text.push('\n');
            }
        }
    }
    match machine {
        Stream::Stdout => crate::stdout::write(text.as_bytes()),
        Stream::Stderr => crate::stdout::write_to(&mut std::io::stderr().lock(), text.as_bytes()),
    }
}

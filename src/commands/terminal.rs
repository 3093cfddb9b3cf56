//! What depends on whether someone watches stderr: colour and the
//! progress line.

use crate::cli::ColorWhen;
use crate::diag::style::{ColorChoice, Style, use_color};
use crate::progress::{Meter, Progress};
use std::io::IsTerminal;
use std::sync::Arc;

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Colour for what goes to stderr (see `diag::style`).
pub fn stderr_style(choice: ColorWhen) -> Style {
    let choice = match choice {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    };
    let no_color = std::env::var("NO_COLOR").ok();
    let term = std::env::var("TERM").ok();
    Style {
        color: use_color(
            choice,
            stderr_is_terminal(),
            no_color.as_deref(),
            term.as_deref(),
        ),
    }
}

/// A progress line for hashing, only where someone watches it; the
/// line is erased when the [`Meter`] is dropped.
pub fn progress_meter() -> (Option<Arc<Progress>>, Option<Meter>) {
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    if dumb || !stderr_is_terminal() {
        return (None, None);
    }
    let progress = Arc::new(Progress::new());
    let meter = Meter::start(Arc::clone(&progress));
    (Some(progress), Some(meter))
}

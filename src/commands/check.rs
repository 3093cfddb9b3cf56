//! `xencfg check`: every check `build` runs; nothing written.

use crate::cli::CheckArgs;
use crate::diag::style::Style;
use crate::error::{Error, Outcome};

pub fn run(args: &CheckArgs, style: Style) -> Result<Outcome, Error> {
    let compilation = super::compile(&args.common)?;
    super::report::findings(&compilation, args.format, style)?;
    Ok(compilation.outcome())
}

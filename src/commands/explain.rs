//! `xencfg explain`: what Xen will read, per boot section.

use super::report::{self, Stream};
use crate::cli::{ExplainArgs, ExplainFormat};
use crate::diag::style::Style;
use crate::error::{Error, Outcome};
use crate::explain::{self, ExplainOptions};

/// The explanation is the command's result, on stdout, so its
/// diagnostics, in any format, go to stderr.
pub fn run(args: &ExplainArgs, style: Style) -> Result<Outcome, Error> {
    let common = &args.common;
    let svg = args.format == ExplainFormat::Svg;
    if svg && !args.memory {
        return Err(Error::BadArgument(
            "`--format svg` draws the memory map: give it with `--memory`".into(),
        ));
    }
    let compilation = super::compile(common)?;
    report::diagnostics(
        &compilation.diags,
        &compilation.sources,
        args.format.diagnostics(),
        Stream::Stderr,
        style,
    )?;
    let opts = ExplainOptions {
        target: &compilation.target,
        efi_name: &common.efi_name,
        section: common.section.as_deref(),
        memory: args.memory,
    };
    let text = if svg {
        explain::memory_svg(&compilation.plan, &opts)
    } else {
        explain::explain(
            &compilation.plan,
            &compilation.sources,
            &compilation.diags,
            &opts,
        )
    };
    crate::stdout::write(text.as_bytes())?;
    Ok(compilation.outcome())
}

//! `xencfg explain`: what Xen will read, per boot section.

use super::report::{self, Stream};
use crate::cli::ExplainArgs;
use crate::diag::style::Style;
use crate::error::{Error, Outcome};
use crate::explain::{self, ExplainOptions};

/// The explanation is the command's result, on stdout, so its
/// diagnostics, in any format, go to stderr.
pub fn run(args: &ExplainArgs, style: Style) -> Result<Outcome, Error> {
    let common = &args.common;
    let compilation = super::compile(common)?;
    report::diagnostics(
        &compilation.diags,
        &compilation.sources,
        common.format,
        Stream::Stderr,
        style,
    )?;
    let text = explain::explain(
        &compilation.plan,
        &compilation.sources,
        &compilation.diags,
        &ExplainOptions {
            target: &compilation.target,
            efi_name: &common.efi_name,
            section: common.section.as_deref(),
            memory: args.memory,
        },
    );
    crate::stdout::write(text.as_bytes())?;
    Ok(compilation.outcome())
}

//! `xencfg import imagebuilder`: an ImageBuilder config as a xen.cfg.

use super::atomic_file;
use super::report::{self, Stream};
use crate::cli::{Format, ImportArgs};
use crate::diag::style::Style;
use crate::diag::{Diagnostics, SourceMap};
use crate::error::{Error, Outcome};
use crate::import::imagebuilder;
use crate::load;

/// The cfg on stdout or in `--out`, diagnostics on stderr; nothing is
/// written when there are errors.
pub fn run(args: &ImportArgs, style: Style) -> Result<Outcome, Error> {
    let bytes = load::cfg::read_cfg(&args.config)?;
    let mut sources = SourceMap::default();
    let file = sources.add(&args.config, bytes);
    let mut diags = Diagnostics::default();
    let name = args
        .config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cfg = imagebuilder::import(file, &name, &sources.get(file).bytes, &mut diags);
    diags.sort();
    report::diagnostics(&diags, &sources, Format::Human, Stream::Stderr, style)?;
    let Some(cfg) = cfg else {
        return Ok(Outcome::ConfigErrors);
    };
    // The importer holds the bytes it read as chars one to one
    // (`import::shell`); these are the same bytes back.
    let bytes: Vec<u8> = cfg
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    match &args.out {
        None => crate::stdout::write(&bytes)?,
        Some(path) => atomic_file::write(path, &args.config, &bytes, "the cfg")?,
    }
    Ok(Outcome::Success)
}

//! `xencfg dts`: a DTB decompiled to DTS.

use super::atomic_file;
use crate::diag::codes;
use crate::error::{Error, Outcome};
use crate::fdt::{Fdt, dts};
use std::path::Path;

/// Real blobs are at most a few MiB; the cap keeps `dts /dev/zero` or a
/// disk image named by mistake from filling memory.
const MAX_DTS_INPUT: u64 = 64 << 20;

/// The DTS on stdout or in `out`; a blob that does not parse is a finding
/// about the input (exit status 1), said on stderr.
pub fn run(file: &Path, out: Option<&Path>) -> Result<Outcome, Error> {
    let bytes = crate::load::input::read_capped(file, MAX_DTS_INPUT).map_err(|error| {
        Error::InputUnreadable {
            path: file.to_path_buf(),
            error,
        }
    })?;
    match Fdt::from_bytes(&bytes) {
        Ok(fdt) => {
            let text = dts::to_dts(&fdt);
            match out {
                None => crate::stdout::write(text.as_bytes())?,
                Some(path) => atomic_file::write(path, file, text.as_bytes(), "the DTS")?,
            }
            Ok(Outcome::Success)
        }
        Err(e) => {
            eprintln!(
                "error[{}]: {} is not a valid device tree blob: {e}",
                codes::BAD_HOST_DTB.code,
                file.display()
            );
            Ok(Outcome::ConfigErrors)
        }
    }
}

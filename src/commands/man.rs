//! `xencfg man DIR`: the pages that `man/` of the source holds, for users
//! of `cargo install`, who get no share/man.

use crate::error::{Error, Outcome};
use std::path::Path;

pub fn run(dir: &Path) -> Result<Outcome, Error> {
    let fail = |error| Error::ManPagesUnwritable {
        dir: dir.to_path_buf(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    for (name, bytes) in crate::manual::pages() {
        std::fs::write(dir.join(name), bytes).map_err(fail)?;
    }
    Ok(Outcome::Success)
}

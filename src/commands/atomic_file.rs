//! Writing one file of a command's result (`import -o`, `dts -o`).

use crate::error::Error;
use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` through a temporary file in the same directory,
/// so a reader never sees half a file; never over the input.
pub fn write(path: &Path, input: &Path, bytes: &[u8], what: &'static str) -> Result<(), Error> {
    let same = |a: &Path, b: &Path| matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y);
    if same(path, input) {
        return Err(Error::OverwritesInput {
            what,
            input: input.to_path_buf(),
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |error| Error::WriteFailed {
        path: path.to_path_buf(),
        error,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    // NamedTempFile is private (0600); a cfg is an ordinary file.
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

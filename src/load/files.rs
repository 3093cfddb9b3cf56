//! The files a cfg references: each distinct file looked up once, its
//! size and format sniffed from its first bytes. A file that cannot be
//! read is reported here; what its content means for its role is judged
//! by [`crate::checks::files`]. `build` hashes the files only once every
//! check has passed (`Plan::hash_inputs`), so a mistake is reported at
//! once however large the files it names.

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics};
use crate::load::hash::{self, FileFacts};
use crate::model::{Module, System};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::PathBuf;

/// Sniff every distinct referenced file once: size and format from its
/// first bytes.
pub fn inspect(system: &System, diags: &mut Diagnostics) -> BTreeMap<PathBuf, FileFacts> {
    let modules: Vec<&Module> = system.modules().map(|(_, m)| m).collect();
    inspect_modules(&modules, diags)
}

/// [`inspect`] for some modules (those of the host DTB's own domains,
/// known once the host tree is read).
pub fn inspect_modules(
    modules: &[&Module],
    diags: &mut Diagnostics,
) -> BTreeMap<PathBuf, FileFacts> {
    // First reference of each file, for the diagnostic location.
    let mut first: BTreeMap<PathBuf, &Module> = BTreeMap::new();
    for m in modules {
        first.entry(m.source.clone()).or_insert(m);
    }

    let mut readable: Vec<(PathBuf, &Module)> = Vec::new();
    for (path, module) in &first {
        match fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut d = Diagnostic::at(
                    &c::FILE_MISSING,
                    module.span,
                    format!(
                        "`{}` does not exist (looked for {})",
                        module.path,
                        path.display()
                    ),
                )
                .note("Xen's EFI loader stops: \"Open failed for ...\"");
                d = d.help(match fs::symlink_metadata(path) {
                    Ok(_) => {
                        "the path is a dangling symbolic link; point it at the file".to_string()
                    }
                    Err(_) => format!(
                        "paths are relative to the cfg's directory (or --root): put the file at {}",
                        path.display()
                    ),
                });
                diags.push(d);
            }
            Err(e) => diags.push(
                Diagnostic::at(
                    &c::FILE_UNREADABLE,
                    module.span,
                    format!("cannot read `{}`: {e}", module.path),
                )
                .help("check the file's permissions, or for a symbolic link loop, its target"),
            ),
            Ok(meta) if !meta.is_file() => diags.push(
                Diagnostic::at(
                    &c::FILE_NOT_REGULAR,
                    module.span,
                    format!(
                        "`{}` is {}, not a regular file",
                        module.path,
                        crate::load::input::kind_of(&meta)
                    ),
                )
                .help("name the file itself"),
            ),
            Ok(_) => readable.push((path.clone(), module)),
        }
    }

    let results: Vec<io::Result<FileFacts>> =
        readable.iter().map(|(p, _)| hash::sniff_file(p)).collect();

    let mut facts = BTreeMap::new();
    for ((path, module), result) in readable.into_iter().zip(results) {
        match result {
            Ok(f) => {
                facts.insert(path, f);
            }
            // Regular by its type, but not a file: its size lies.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => diags.push(
                Diagnostic::at(&c::FILE_NOT_REGULAR, module.span, e.to_string())
                    .help("name the file itself, not a view of the running system"),
            ),
            Err(e) => diags.push(
                Diagnostic::at(
                    &c::FILE_UNREADABLE,
                    module.span,
                    format!("cannot read `{}`: {e}", module.path),
                )
                .help("check the file's permissions"),
            ),
        }
    }

    facts
}

//! The generated files committed in the source tree: the man pages in
//! `man/` ([`xencfg::manual`]) and the shell completions in `completions/`
//! ([`xencfg::commands::completions`]). `cargo xtask docs` rewrites them;
//! `tests/docs_current.rs` fails when they are stale. The generators live
//! in the library because `xencfg man` and `xencfg completions` print the
//! same bytes; only writing the tree is here, outside what is shipped.

use clap::CommandFactory;
use clap_complete::Shell;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use xencfg::cli::Cli;

/// The directory of the man pages, relative to the repository root.
pub const MAN_DIR: &str = "man";
/// The directory of the shell completions, relative to the repository root.
pub const COMPLETIONS_DIR: &str = "completions";

/// Shells we ship completions for; file names are clap_complete's own
/// (`xencfg.bash`, `_xencfg`, `xencfg.fish`, `xencfg.elv`, `_xencfg.ps1`).
const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::Elvish,
    Shell::PowerShell,
];

/// The repository root (xtask's parent), whichever directory cargo was
/// run from.
pub fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lies in the repository")
}

/// Every generated file: its path relative to the repository root and its
/// bytes, in a stable order.
pub fn files() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = xencfg::manual::pages()
        .into_iter()
        .map(|(name, bytes)| (Path::new(MAN_DIR).join(name), bytes))
        .collect();
    out.extend(completions());
    out
}

fn completions() -> Vec<(PathBuf, Vec<u8>)> {
    let name = Cli::command().get_name().to_string();
    SHELLS
        .iter()
        .map(|&shell| {
            let file = clap_complete::Generator::file_name(&shell, &name);
            (
                Path::new(COMPLETIONS_DIR).join(file),
                xencfg::commands::completions::script(shell),
            )
        })
        .collect()
}

/// Write every generated file below `dir` (the repository root), creating
/// `man/` and `completions/` as needed.
///
/// Files in those directories whose names look generated (`xencfg*`,
/// `_xencfg*`) but that this run did not produce are removed, so a page for
/// a subcommand that no longer exists does not linger. Other files are
/// left alone.
pub fn generate(dir: &Path) -> io::Result<()> {
    let files = files();
    for sub in [MAN_DIR, COMPLETIONS_DIR] {
        fs::create_dir_all(dir.join(sub))?;
    }
    for (path, bytes) in &files {
        fs::write(dir.join(path), bytes)?;
    }
    let wanted: BTreeSet<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    for sub in [MAN_DIR, COMPLETIONS_DIR] {
        for entry in fs::read_dir(dir.join(sub))? {
            let entry = entry?;
            let name = entry.file_name();
            let looks_generated = name
                .to_str()
                .is_some_and(|n| n.starts_with("xencfg") || n.starts_with("_xencfg"));
            let relative = Path::new(sub).join(&name);
            if looks_generated
                && entry.file_type()?.is_file()
                && !wanted.contains(relative.as_path())
            {
                fs::remove_file(entry.path())?;
            }
        }
    }
    Ok(())
}

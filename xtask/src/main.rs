//! xencfg's developer tasks, run as `cargo xtask TASK` (an alias in
//! `.cargo/config.toml`); none of this is part of what xencfg ships.
//!
//! - `docs`: regenerate the committed man pages (`man/`) and shell
//!   completions (`completions/`) from the CLI definition and the binding
//!   table. `tests/docs_current.rs` fails until this has been run after a
//!   change to either.

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask docs";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["docs"] => docs(),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn docs() -> ExitCode {
    let root = xtask::repository_root();
    if let Err(e) = xtask::generate(root) {
        eprintln!("xtask docs: cannot write into {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {}/man and {}/completions",
        root.display(),
        root.display()
    );
    ExitCode::SUCCESS
}

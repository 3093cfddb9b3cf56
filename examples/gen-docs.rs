//! Regenerates the committed man pages (`man/`) and shell completions
//! (`completions/`) from the CLI definition and the binding table:
//! `cargo run --example gen-docs`. `tests/docs_current.rs` fails until
//! this has been run after a change to either.

use std::path::Path;

fn main() -> std::io::Result<()> {
    // Relative to the crate, not the caller's working directory, so the
    // files land in the tree whichever directory cargo was run from.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    xencfg::docs::generate(root)?;
    println!(
        "wrote {}/man and {}/completions",
        root.display(),
        root.display()
    );
    Ok(())
}

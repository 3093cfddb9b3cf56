//! `xencfg completions SHELL`: the completion script, as `completions/`
//! of the source holds it.

use crate::cli::Cli;
use crate::error::{Error, Outcome};
use clap::CommandFactory;
use clap_complete::Shell;

pub fn run(shell: Shell) -> Result<Outcome, Error> {
    crate::stdout::write(&script(shell))?;
    Ok(Outcome::Success)
}

/// The completion script for `shell`, generated from the clap definitions
/// (`completions/` of the source holds the output of `cargo xtask docs`).
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    let mut bytes = Vec::new();
    clap_complete::generate(shell, &mut cmd, &name, &mut bytes);
    bytes
}

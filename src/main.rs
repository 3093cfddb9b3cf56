//! xencfg's entry point: arguments in, exit status out. The commands live
//! in the library ([`xencfg::commands`]); a failure to run one is said
//! here, once, on stderr.

use clap::Parser;
use std::process::ExitCode;
use xencfg::cli::Cli;
use xencfg::commands;
use xencfg::diag::Severity;
use xencfg::diag::style::Role;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = commands::stderr_style(cli.color);
    let status = match commands::run(cli.command, style) {
        Ok(outcome) => outcome.exit_status(),
        Err(error) => {
            eprintln!(
                "{} {error}",
                style.paint(Role::Severity(Severity::Error), "error:")
            );
            error.exit_status()
        }
    };
    ExitCode::from(status)
}

//! The subcommands, one function each (`check::run`, `build::run`, …),
//! called by `main` with the parsed command line; each ends in an
//! [`Outcome`] or an [`Error`], which `main` turns into the exit status.
//!
//! What `check`, `build` and `explain` share is here: compiling the cfg
//! for the target the options name, at the levels `-W`/`-A`/`-D` set.

pub mod build;
pub mod check;
pub mod checks;
pub mod completions;
pub mod dts;
pub mod explain;
pub mod import;
pub mod man;

mod atomic_file;
mod report;
mod terminal;

pub use terminal::stderr_style;

use crate::analyze::{Options, Plan};
use crate::cli::{Command, CommonArgs, ImportCommand};
use crate::diag::codes;
use crate::diag::style::Style;
use crate::diag::{Diagnostics, Levels, Severity, SourceMap};
use crate::error::{Error, Outcome};
use crate::pipeline;
use crate::target::Target;
use crate::target::resolve::{self, TargetArgs};

/// Run `command`; `style` colours what goes to stderr.
pub fn run(command: Command, style: Style) -> Result<Outcome, Error> {
    match command {
        Command::Check(args) => check::run(&args, style),
        Command::Build(args) => build::run(&args, style),
        Command::Explain(args) => explain::run(&args, style),
        Command::Import(ImportCommand::Imagebuilder(args)) => import::run(&args, style),
        Command::Dts { file, out } => dts::run(&file, out.as_deref()),
        Command::Checks { code } => checks::run(code.as_deref()),
        Command::Completions { shell } => completions::run(shell),
        Command::Man { dir } => man::run(&dir),
    }
}

/// A plan cfg with what it was plan against and what was found.
struct Compilation {
    plan: Plan,
    sources: SourceMap,
    /// At the user's levels, sorted.
    diags: Diagnostics,
    target: Target,
}

impl Compilation {
    fn outcome(&self) -> Outcome {
        if self.diags.has_errors() {
            Outcome::ConfigErrors
        } else {
            Outcome::Success
        }
    }
}

/// Compile as `check` does and apply the user's levels.
fn compile(args: &CommonArgs) -> Result<Compilation, Error> {
    let levels = levels(args)?;
    let mut diags = Diagnostics::default();
    let target = target(args, &mut diags)?;
    let options = Options {
        cfg: args.cfg.clone(),
        root: args.root.clone(),
        section: args.section.clone(),
        target: target.clone(),
        efi_name: args.efi_name.clone(),
        host_ram: args
            .host_ram
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(Error::BadArgument)?,
    };
    let mut sources = SourceMap::default();
    let plan = pipeline::run(&options, &mut sources, &mut diags)?;
    diags.apply_levels(&levels);
    diags.sort();
    Ok(Compilation {
        plan,
        sources,
        diags,
        target,
    })
}

/// The levels of `-W`, `-A`, `-D` and `--deny-warnings`.
fn levels(args: &CommonArgs) -> Result<Levels, Error> {
    let mut levels = Levels::default();
    levels.deny_warnings = args.deny_warnings;
    for (names, severity) in [
        (&args.warn, Severity::Warning),
        (&args.allow, Severity::Allow),
        (&args.deny, Severity::Error),
    ] {
        for name in names {
            let check = codes::find(name).ok_or_else(|| Error::UnknownCheck {
                name: name.clone(),
                from_option: true,
            })?;
            levels.set(check, severity);
        }
    }
    Ok(levels)
}

/// The target Xen of `--xen-version`, `--xen` and `--xen-config`.
fn target(args: &CommonArgs, diags: &mut Diagnostics) -> Result<Target, Error> {
    let inputs = TargetArgs {
        version: args.xen_version.as_deref(),
        xen: args.xen.as_deref(),
        config: args.xen_config.as_deref(),
    };
    resolve::resolve(&inputs, diags).map_err(Error::BadTarget)
}

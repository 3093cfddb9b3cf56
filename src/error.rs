//! Why a command could not run to its end, as typed data with its exit
//! status, rendered in one place ([`fmt::Display`]).
//!
//! Findings about the configuration are not errors: they are diagnostics
//! (`diag`), and a command that reports some ends with
//! [`Outcome::ConfigErrors`]. An [`Error`] is a failure to do the work at
//! all: an input that cannot be read, an output that cannot or must not be
//! written, an argument that names nothing.

use crate::emit::output::OutputError;
use crate::load::input::ReadError;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// The exit statuses of spec §3.
const EXIT_SUCCESS: u8 = 0;
const EXIT_CONFIG_ERRORS: u8 = 1;
const EXIT_FAILURE: u8 = 2;

/// How a command that ran to its end ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done; warnings, if any, were reported.
    Success,
    /// The configuration has errors (reported as diagnostics).
    ConfigErrors,
}

impl Outcome {
    pub fn exit_status(self) -> u8 {
        match self {
            Outcome::Success => EXIT_SUCCESS,
            Outcome::ConfigErrors => EXIT_CONFIG_ERRORS,
        }
    }
}

/// A failure to run a command, by what failed.
#[derive(Debug)]
pub enum Error {
    /// `-W`, `-A`, `-D` or `xencfg checks` name no check. `-W` and the
    /// others point to the list; `xencfg checks NAME` is that list.
    UnknownCheck { name: String, from_option: bool },
    /// An option's value is not one it accepts (`--host-ram`).
    BadArgument(String),
    /// The target Xen cannot be determined: a bad `--xen-version`, an
    /// unreadable `--xen` or `--xen-config`.
    BadTarget(String),
    /// The cfg cannot be read, or is too large to be one.
    CfgUnreadable { path: PathBuf, error: ReadError },
    /// An input named on the command line cannot be read.
    InputUnreadable { path: PathBuf, error: ReadError },
    /// An input could not be read again to hash it for the build (the
    /// error names the file).
    HashFailed(io::Error),
    /// An input's size or format changed between checking and hashing.
    InputChanged(PathBuf),
    /// An input to stage has no sha256: a file the checks did not inspect.
    NotHashed(PathBuf),
    /// `-o` would overwrite the command's own input.
    OverwritesInput { what: &'static str, input: PathBuf },
    /// The build's output directory holds some of its inputs: replacing it
    /// would destroy them.
    OutputHoldsInputs { out: PathBuf, inputs: Vec<String> },
    /// A file of the command's output cannot be written.
    WriteFailed { path: PathBuf, error: io::Error },
    /// The build's output directory cannot be written (or is not xencfg's
    /// to replace).
    OutputFailed(OutputError),
    /// `xencfg man DIR` cannot write into DIR.
    ManPagesUnwritable { dir: PathBuf, error: io::Error },
    /// Standard output failed (other than a reader going away).
    Stdout(io::Error),
}

impl Error {
    /// Every failure is exit status 2 (spec §3); the match makes a new
    /// variant decide.
    pub fn exit_status(&self) -> u8 {
        match self {
            Error::UnknownCheck { .. }
            | Error::BadArgument(_)
            | Error::BadTarget(_)
            | Error::CfgUnreadable { .. }
            | Error::InputUnreadable { .. }
            | Error::HashFailed(_)
            | Error::InputChanged(_)
            | Error::NotHashed(_)
            | Error::OverwritesInput { .. }
            | Error::OutputHoldsInputs { .. }
            | Error::WriteFailed { .. }
            | Error::OutputFailed(_)
            | Error::ManPagesUnwritable { .. }
            | Error::Stdout(_) => EXIT_FAILURE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownCheck {
                name,
                from_option: true,
            } => write!(f, "no check named `{name}` (see `xencfg checks`)"),
            Error::UnknownCheck {
                name,
                from_option: false,
            } => write!(f, "no check named `{name}`"),
            Error::BadArgument(message) | Error::BadTarget(message) => f.write_str(message),
            Error::CfgUnreadable {
                path,
                error: ReadError::TooLarge { size, .. },
            } => write!(
                f,
                "{} is {size} bytes; a cfg is a small text file and xencfg reads at most 1 MiB (is this the right file?)",
                path.display()
            ),
            Error::CfgUnreadable { path, error } | Error::InputUnreadable { path, error } => {
                f.write_str(&error.message(path))
            }
            Error::HashFailed(e) => write!(f, "cannot read {e}"),
            Error::InputChanged(path) => write!(
                f,
                "{} changed while xencfg was building (its size or format is no longer the one checked); build again",
                path.display()
            ),
            Error::NotHashed(path) => {
                write!(f, "{} was not hashed; cannot stage it", path.display())
            }
            Error::OverwritesInput { what, input } => {
                write!(
                    f,
                    "refusing to write {what} over its input {}",
                    input.display()
                )
            }
            Error::OutputHoldsInputs { out, inputs } => {
                let one = inputs.len() == 1;
                write!(
                    f,
                    "the output directory {} contains the input{} {}; replacing it would destroy {}; choose another -o",
                    out.display(),
                    if one { "" } else { "s" },
                    inputs.join(", "),
                    if one { "it" } else { "them" },
                )
            }
            Error::WriteFailed { path, error } => {
                write!(f, "cannot write {}: {error}", path.display())
            }
            Error::OutputFailed(e) => e.fmt(f),
            Error::ManPagesUnwritable { dir, error } => {
                write!(f, "cannot write man pages into {}: {error}", dir.display())
            }
            Error::Stdout(e) => write!(f, "cannot write to standard output: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::HashFailed(e)
            | Error::WriteFailed { error: e, .. }
            | Error::ManPagesUnwritable { error: e, .. }
            | Error::Stdout(e) => Some(e),
            Error::OutputFailed(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_are_those_of_the_spec() {
        assert_eq!(Outcome::Success.exit_status(), 0);
        assert_eq!(Outcome::ConfigErrors.exit_status(), 1);
        let failures = [
            Error::BadArgument("bad".into()),
            Error::InputChanged(PathBuf::from("Image")),
            Error::Stdout(io::Error::from(io::ErrorKind::StorageFull)),
        ];
        for e in failures {
            assert_eq!(e.exit_status(), 2, "{e}");
        }
    }

    #[test]
    fn an_unknown_check_in_an_option_points_to_the_list() {
        let named = |from_option| {
            Error::UnknownCheck {
                name: "typo".into(),
                from_option,
            }
            .to_string()
        };
        assert_eq!(named(true), "no check named `typo` (see `xencfg checks`)");
        assert_eq!(named(false), "no check named `typo`");
    }
}

//! xencfg: a compiler for Xen on Arm64 EFI boot configurations.
//!
//! The pipeline runs in one direction (`ARCHITECTURE.md`): [`load`] (every
//! input read once, bounded) → [`cfg`](mod@cfg) (Xen's lexical rules, spans) →
//! [`lower`] (a typed [`model::System`]) → [`analyze`] (the [`analyze::Plan`]:
//! host trees, domids, fragments, merged trees) → [`checks`] (one table of
//! rules) → [`emit`] (manifest, output directory). [`pipeline`] runs the
//! stages `check`, `build` and `explain` share. Diagnostics are plain data
//! ([`diag`]) rendered once, at the edge. [`commands`] holds the
//! subcommands that `main` calls, each ending in an outcome or an
//! [`error::Error`] with its exit status.

pub mod analyze;
pub mod binding;
pub mod cfg;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod emit;
pub mod error;
pub mod esp;
pub mod explain;
pub mod fdt;
pub mod host;
pub mod import;
pub mod load;
pub mod lower;
pub mod manual;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod range;
pub mod stdout;
pub mod target;

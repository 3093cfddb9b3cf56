//! xencfg: a compiler for Xen on Arm64 EFI boot configurations.
//!
//! The pipeline runs in one direction (see `style.md`):
//! cfg bytes → [`cfg`] (Xen's lexical rules, spans) → [`lower`] (a typed
//! [`model::System`]) → [`checks`] (against the host tree, the files and
//! the target) → [`emit`] (merged DTB, trimmed cfg, manifest, staging).
//! Diagnostics are plain data ([`diag`]) rendered once, at the edge.

pub mod binding;
pub mod build;
pub mod cache;
pub mod cfg;
pub mod checks;
pub mod cli;
pub mod compile;
pub mod diag;
pub mod docs;
pub mod emit;
pub mod esp;
pub mod explain;
pub mod fdt;
pub mod hash;
pub mod host;
pub mod image;
pub mod import;
pub mod input;
pub mod lower;
pub mod model;
pub mod progress;
pub mod stdout;
pub mod structures;
pub mod target;

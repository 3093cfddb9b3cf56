//! The checks: the code that finds each [`crate::diag::codes`] entry,
//! grouped by what they look at.

pub mod binding;
pub mod cmdline;
pub mod domains;
pub mod files;
pub mod guests;
pub mod host;
pub mod links;
pub mod memory;
pub mod passthrough;
pub mod resources;
pub mod sections;
pub mod target;

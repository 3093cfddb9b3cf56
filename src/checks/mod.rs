//! The checks: a registry of codes ([`registry`]) and the code that finds
//! them, grouped by what they look at.

pub mod cmdline;
pub mod domains;
pub mod files;
pub mod guests;
pub mod host;
pub mod links;
pub mod memory;
pub mod passthrough;
pub mod registry;
pub mod resources;
pub mod sections;
pub mod target;

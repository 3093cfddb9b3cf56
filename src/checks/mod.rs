//! The checks: a registry of codes ([`registry`]) and the code that finds
//! them, grouped by what they look at.

pub mod files;
pub mod guests;
pub mod host;
pub mod passthrough;
pub mod registry;
pub mod sections;

//! The checks: a registry of codes ([`registry`]) and the code that finds them.
pub mod registry;

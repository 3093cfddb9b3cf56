//! The typed system model.

//! Emitters: the writers of what `xencfg build` produces from a
//! [`crate::analyze::Plan`] — [`manifest`] the JSON inventory and
//! [`output`] the output directory, put in place atomically (with
//! `--stage`, together with every referenced file). The merged trees and
//! the trimmed cfg are the plan's; emitters only write them.

pub mod manifest;
pub mod output;

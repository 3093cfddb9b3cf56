//! Emitters: everything `xencfg build` writes.
//!
//! [`dtb`] merges guests into the host tree, [`cfg`] writes the trimmed cfg
//! Xen reads, [`manifest`] the JSON inventory, and [`output`] puts it all in
//! place atomically (with `--stage`, together with every referenced file).

pub mod cfg;
pub mod dtb;
pub mod fragment;
pub mod manifest;
pub mod output;
pub mod passthrough;
pub mod structures;

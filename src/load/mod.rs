//! The load stage: every input read once and bounded — the cfg and its
//! chain ([`cfg`]), the referenced files' size and format ([`files`]), the
//! host trees with their overlays ([`trees`]). What cannot be read is
//! reported here; what the inputs mean is left to the later stages.

pub mod cfg;
pub mod files;
pub mod trees;

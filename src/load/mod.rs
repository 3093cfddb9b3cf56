//! The load stage: every input read once and bounded — the cfg and its
//! chain ([`cfg`](mod@cfg)), the referenced files' size and format ([`files`],
//! sniffed by [`image`]), the host trees with their overlays ([`trees`]);
//! for `build`, each file's sha256 in one streaming pass ([`hash`]), reused
//! from the last build when its stamp says it did not change ([`cache`]).
//! [`input`] holds the bounded, non-blocking reads they all use. What
//! cannot be read is reported here; what the inputs mean is left to the
//! later stages.

pub mod cache;
pub mod cfg;
pub mod files;
pub mod hash;
pub mod image;
pub mod input;
pub mod trees;

//! Reading each referenced file once: size, format and sha256 in one pass.
//!
//! Files are streamed in fixed-size chunks (memory does not grow with image
//! size) and several files are processed in parallel across cores.

use crate::image::ImageFormat;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFacts {
    pub size: u64,
    pub format: ImageFormat,
    /// Lower-case hex sha256; `None` when only sniffed.
    pub sha256: Option<String>,
}

/// Size and format, reading only the first bytes (for `check`).
pub fn sniff_file(path: &Path) -> io::Result<FileFacts> {
    let _ = path;
    todo!("sniff_file")
}

/// Size, format and sha256 in one streaming pass.
pub fn hash_file(path: &Path) -> io::Result<FileFacts> {
    let _ = path;
    todo!("hash_file")
}

/// [`hash_file`] for many files, in parallel; results in input order.
pub fn hash_files(paths: &[PathBuf]) -> Vec<io::Result<FileFacts>> {
    let _ = paths;
    todo!("hash_files")
}

//! Paths on the EFI system partition, as Xen's EFI loader opens them.
//!
//! Cfg values and `xen,uefi-binary` strings are paths relative to the
//! directory of the Xen EFI binary (reference §1.8). Users may write `/` or
//! `\`; [`EspPath`] keeps the components and always emits `\` (EDK2's FAT
//! driver rejects `/`). Parsing enforces the FAT naming rules (XC05xx).

use crate::diag::{Diagnostics, Span};
use std::path::{Path, PathBuf};

/// A validated relative path on the ESP.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EspPath {
    components: Vec<String>,
}

impl EspPath {
    /// Parse a path as written in the cfg. Reports FAT rule violations at
    /// `span` and returns `None` when the path is unusable.
    pub fn parse(raw: &str, span: Span, diags: &mut Diagnostics) -> Option<EspPath> {
        let _ = (raw, span, diags);
        todo!("esp path")
    }

    /// Build from components already known to be valid (tests, generated names).
    pub fn from_components(components: Vec<String>) -> EspPath {
        EspPath { components }
    }

    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// The string Xen gets: components joined with `\`.
    pub fn to_efi_string(&self) -> String {
        self.components.join("\\")
    }

    /// Where the file is on the build host, below `root`.
    pub fn host_path(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        p.extend(&self.components);
        p
    }

    /// The name FAT compares (case-folded), for clash detection.
    pub fn fat_key(&self) -> String {
        self.to_efi_string().to_ascii_lowercase()
    }
}

impl std::fmt::Display for EspPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_efi_string())
    }
}

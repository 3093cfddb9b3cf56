//! Recognising what a file is from its first bytes (reference §3.2).
//!
//! Xen's kernel probe accepts an arm64 Image, gzip, uImage and an arm32
//! zImage; everything else panics at boot. Sniffing also tells ramdisks
//! (cpio), device trees and XSM policies apart, so swapped files are caught.

use serde::Serialize;

/// How many leading bytes [`sniff`] needs to decide.
pub const SNIFF_LEN: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// arm64 `Image` (branch instruction at 0 or "ARM\x64" magic at 0x38).
    Arm64Image,
    /// arm32 `zImage` (magic 0x016F2818 at 0x24).
    ZImage,
    /// U-Boot legacy image (0x27051956).
    UImage,
    /// gzip stream (1F 8B or 1F 9E); Xen decompresses a gzip kernel.
    Gzip,
    /// newc/odc cpio archive (uncompressed).
    Cpio,
    /// Flattened device tree (D0 0D FE ED).
    Fdt,
    /// FLASK policy (8C FF 7C F9).
    XsmPolicy,
    /// Formats Xen cannot boot as a kernel.
    Xz,
    Lz4,
    Zstd,
    Bzip2,
    Lzma,
    /// arm64 EFI zboot (PE with "zimg" at 4).
    EfiZboot,
    Elf,
    Unknown,
}

impl ImageFormat {
    /// Whether Xen's kernel probe accepts this as a domU/dom0 kernel.
    pub fn is_bootable_kernel(self) -> bool {
        matches!(
            self,
            ImageFormat::Arm64Image | ImageFormat::ZImage | ImageFormat::UImage | ImageFormat::Gzip
        )
    }

    /// A short human name ("arm64 Image", "xz").
    pub fn describe(self) -> &'static str {
        todo!("describe")
    }
}

/// Classify a file from its first bytes (`head`, up to [`SNIFF_LEN`]) and
/// its total size.
pub fn sniff(head: &[u8], size: u64) -> ImageFormat {
    let _ = (head, size);
    todo!("sniff")
}

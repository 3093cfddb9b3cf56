//! Recognising what a file is from its first bytes (reference §3.2).
//!
//! Xen's kernel probe accepts an arm64 Image, gzip, uImage and an arm32
//! zImage; everything else panics at boot. Sniffing also tells ramdisks
//! (cpio), device trees and XSM policies apart, so swapped files are caught.
//!
//! [`sniff`] never panics and never reads past the bytes it is given: every
//! header field is read through a bounds-checked helper, so a short or
//! truncated head simply fails to match.

use serde::{Deserialize, Serialize};

/// How many leading bytes [`sniff`] needs to decide.
pub const SNIFF_LEN: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
        match self {
            ImageFormat::Arm64Image => "arm64 Image",
            ImageFormat::ZImage => "arm32 zImage",
            ImageFormat::UImage => "U-Boot uImage",
            ImageFormat::Gzip => "gzip",
            ImageFormat::Cpio => "cpio archive",
            ImageFormat::Fdt => "device tree blob",
            ImageFormat::XsmPolicy => "XSM/FLASK policy",
            ImageFormat::Xz => "xz",
            ImageFormat::Lz4 => "lz4",
            ImageFormat::Zstd => "zstd",
            ImageFormat::Bzip2 => "bzip2",
            ImageFormat::Lzma => "lzma",
            ImageFormat::EfiZboot => "arm64 EFI zboot image",
            ImageFormat::Elf => "ELF",
            ImageFormat::Unknown => "unknown format",
        }
    }
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

// Magic numbers, named after the Xen / Linux constants they mirror.
/// arm64 Image: `b #0x20` at offset 0 (Xen's ZIMAGE64_MAGIC_V0).
const ARM64_BRANCH_MAGIC: u32 = 0x1400_0008;
/// arm64 Image: "ARM\x64" at offset 0x38 (ZIMAGE64_MAGIC_V1).
const ARM64_MAGIC: u32 = 0x644D_5241;
const ARM64_MAGIC_OFFSET: usize = 0x38;
/// Xen refuses an arm64 Image shorter than its 64-byte header.
const ARM64_HEADER_LEN: u64 = 64;
/// arm32 zImage: magic at 0x24 (ZIMAGE32_MAGIC), header up to 0x30.
const ZIMAGE32_MAGIC: u32 = 0x016F_2818;
const ZIMAGE32_MAGIC_OFFSET: usize = 0x24;
const ZIMAGE32_HEADER_LEN: u64 = 0x30;
/// U-Boot legacy image (IH_MAGIC), big-endian, 64-byte header.
const UIMAGE_MAGIC: u32 = 0x2705_1956;
const UIMAGE_HEADER_LEN: usize = 64;
/// Xen reads the FLASK magic in host byte order; arm64 is little-endian.
const XSM_MAGIC_BYTES: [u8; 4] = [0x8C, 0xFF, 0x7C, 0xF9];
const FDT_MAGIC_BYTES: [u8; 4] = [0xD0, 0x0D, 0xFE, 0xED];
/// lzma "alone" header: properties byte, u32 dictionary size, u64 size.
const LZMA_HEADER_LEN: usize = 13;

/// Classify a file from its first bytes (`head`, up to [`SNIFF_LEN`]) and
/// its total size.
///
/// The kernel formats are tried in the order Xen 4.18+ probes them
/// (uImage → gzip → arm64 Image → zImage32), so a file matching two of them
/// is named the way Xen would load it. Xen 4.15–4.17 try gzip → Image →
/// uImage instead; the magics only overlap for contrived files (a uImage
/// whose name field holds "ARMd" at 0x38), which is why one order suffices.
///
/// EFI zboot is checked before the arm64 Image: both start with the PE
/// "MZ", and a zboot image must never be taken for a bootable Image. A
/// plain Image with an EFI stub (Debian's arm64 `vmlinuz`) also starts with
/// "MZ" but carries "ARM\x64" at 0x38 and no "zimg" at 4.
///
/// The remaining formats have disjoint magics at offset 0; binary cpio
/// (a 2-byte magic) and lzma (no real magic) are the weakest and go last.
pub fn sniff(head: &[u8], size: u64) -> ImageFormat {
    if is_uimage(head, size) {
        return ImageFormat::UImage;
    }
    if head.starts_with(&[0x1F, 0x8B]) || head.starts_with(&[0x1F, 0x9E]) {
        return ImageFormat::Gzip;
    }
    if head.starts_with(b"MZ") && head.get(4..8) == Some(b"zimg") {
        return ImageFormat::EfiZboot;
    }
    if is_arm64_image(head, size) {
        return ImageFormat::Arm64Image;
    }
    if size >= ZIMAGE32_HEADER_LEN && le32_at(head, ZIMAGE32_MAGIC_OFFSET) == Some(ZIMAGE32_MAGIC) {
        return ImageFormat::ZImage;
    }
    if head.starts_with(&FDT_MAGIC_BYTES) {
        return ImageFormat::Fdt;
    }
    if head.starts_with(&XSM_MAGIC_BYTES) {
        return ImageFormat::XsmPolicy;
    }
    if head.starts_with(b"070701") || head.starts_with(b"070702") || head.starts_with(b"070707") {
        return ImageFormat::Cpio;
    }
    if head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        return ImageFormat::Xz;
    }
    // Frame format, and the legacy format the kernel's own lz4 uses.
    if head.starts_with(&[0x04, 0x22, 0x4D, 0x18]) || head.starts_with(&[0x02, 0x21, 0x4C, 0x18]) {
        return ImageFormat::Lz4;
    }
    if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        return ImageFormat::Zstd;
    }
    // "BZh" plus the block size digit; the digit keeps text starting with
    // "BZh" from matching.
    if head.starts_with(b"BZh") && matches!(head.get(3), Some(b'1'..=b'9')) {
        return ImageFormat::Bzip2;
    }
    if head.starts_with(&[0x7F, b'E', b'L', b'F']) {
        return ImageFormat::Elf;
    }
    // Binary cpio: octal 070707 as a u16 in either byte order.
    if head.starts_with(&[0xC7, 0x71]) || head.starts_with(&[0x71, 0xC7]) {
        return ImageFormat::Cpio;
    }
    // lzma "alone" has no magic. The properties byte 0x5D (lc=3 lp=0 pb=2)
    // and a dictionary size that is a multiple of 64 KiB is what every
    // lzma encoder writes by default (`file` uses the same heuristic).
    if head.len() >= LZMA_HEADER_LEN && head.starts_with(&[0x5D, 0x00, 0x00]) {
        return ImageFormat::Lzma;
    }
    ImageFormat::Unknown
}

fn is_uimage(head: &[u8], size: u64) -> bool {
    size >= UIMAGE_HEADER_LEN as u64 && be32_at(head, 0) == Some(UIMAGE_MAGIC)
}

fn is_arm64_image(head: &[u8], size: u64) -> bool {
    size >= ARM64_HEADER_LEN
        && (le32_at(head, 0) == Some(ARM64_BRANCH_MAGIC)
            || le32_at(head, ARM64_MAGIC_OFFSET) == Some(ARM64_MAGIC))
}

/// The fields of a U-Boot legacy image header that decide whether Xen
/// boots it (reference §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UImageHeader {
    /// `ih_size`: payload length; Xen requires it ≤ file size − 64.
    pub data_size: u32,
    /// `ih_load`: 4.18+ honour it (0 = relocatable).
    pub load: u32,
    /// `ih_ep`: 4.18+ reject load 0 with a non-zero entry.
    pub entry: u32,
    /// `ih_os` (5 = Linux).
    pub os: u8,
    /// `ih_arch`: 2 = arm (32-bit), 22 = arm64; 4.18+ reject others.
    pub arch: u8,
    /// `ih_type` (2 = kernel).
    pub image_type: u8,
    /// `ih_comp`: 0 none, 1 gzip; 4.18+ reject others, 4.15–4.17 ignore it.
    pub compression: u8,
    /// `ih_name`, up to the first NUL.
    pub name: Vec<u8>,
}

impl UImageHeader {
    pub const ARCH_ARM: u8 = 2;
    pub const ARCH_ARM64: u8 = 22;
    pub const COMP_NONE: u8 = 0;
    pub const COMP_GZIP: u8 = 1;

    /// Whether the payload fits in a file of `size` bytes, as Xen checks.
    pub fn payload_fits(&self, size: u64) -> bool {
        size.checked_sub(UIMAGE_HEADER_LEN as u64)
            .is_some_and(|room| u64::from(self.data_size) <= room)
    }
}

/// Decode the uImage header when `head` starts with one.
pub fn uimage_header(head: &[u8]) -> Option<UImageHeader> {
    let header = head.get(..UIMAGE_HEADER_LEN)?;
    if be32_at(header, 0)? != UIMAGE_MAGIC {
        return None;
    }
    // Layout (include/image.h): magic, hcrc, time, size, load, ep, dcrc,
    // os, arch, type, comp, name[32].
    let name_field = header.get(32..64)?;
    let name_len = name_field
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(name_field.len());
    Some(UImageHeader {
        data_size: be32_at(header, 12)?,
        load: be32_at(header, 16)?,
        entry: be32_at(header, 20)?,
        os: *header.get(28)?,
        arch: *header.get(29)?,
        image_type: *header.get(30)?,
        compression: *header.get(31)?,
        name: name_field.get(..name_len)?.to_vec(),
    })
}

/// The payload compression an EFI zboot image names at 0x18 ("gzip",
/// "zstd", ...), when `head` is one.
pub fn zboot_compression(head: &[u8]) -> Option<&str> {
    if !(head.starts_with(b"MZ") && head.get(4..8) == Some(b"zimg")) {
        return None;
    }
    // A NUL-terminated string in the 32 bytes before the PE header offset.
    let field = head.get(0x18..0x38)?;
    let len = field.iter().position(|&b| b == 0)?;
    std::str::from_utf8(field.get(..len)?)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
}

fn le32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let word: [u8; 4] = bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(word))
}

fn be32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let word: [u8; 4] = bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A zero-filled header of `len` bytes with `bytes` written at `offset`.
    fn header(len: usize, patches: &[(usize, &[u8])]) -> Vec<u8> {
        let mut h = vec![0u8; len];
        for (offset, bytes) in patches {
            h[*offset..*offset + bytes.len()].copy_from_slice(bytes);
        }
        h
    }

    fn sniff_all(h: &[u8]) -> ImageFormat {
        sniff(h, h.len() as u64)
    }

    /// Debian's arm64 `vmlinuz`: EFI stub ("MZ" as the first instruction),
    /// branch at 4, "ARM\x64" at 0x38.
    fn debian_vmlinuz_head() -> Vec<u8> {
        header(
            256,
            &[
                (0, &[0x4D, 0x5A, 0x40, 0xFA]),
                (4, &[0xFF, 0x3F, 0x5E, 0x14]),
                (0x38, b"ARM\x64"),
                (0x3C, &[0x40, 0, 0, 0]),
                (0x40, b"PE\0\0"),
            ],
        )
    }

    #[test]
    fn arm64_image_by_branch_or_magic() {
        assert_eq!(
            sniff_all(&header(64, &[(0, &[0x08, 0, 0, 0x14])])),
            ImageFormat::Arm64Image
        );
        assert_eq!(
            sniff_all(&header(64, &[(0x38, b"ARM\x64")])),
            ImageFormat::Arm64Image
        );
        assert_eq!(sniff_all(&debian_vmlinuz_head()), ImageFormat::Arm64Image);
    }

    #[test]
    fn arm64_image_needs_64_bytes() {
        // Xen checks the module size, not how much the caller handed us.
        let h = header(64, &[(0, &[0x08, 0, 0, 0x14])]);
        assert_eq!(sniff(&h[..60], 60), ImageFormat::Unknown);
        assert_eq!(sniff(&h[..8], 1 << 20), ImageFormat::Arm64Image);
    }

    #[test]
    fn zboot_wins_over_image() {
        // Linux's zboot-header.S: "MZ", "zimg", payload offset and size,
        // compression name at 0x18, LINUX_PE_MAGIC at 0x38.
        let zboot = header(
            256,
            &[
                (0, b"MZ\0\0zimg"),
                (0x18, b"gzip\0"),
                (0x38, &[0xCD, 0x23, 0x82, 0x81]),
            ],
        );
        assert_eq!(sniff_all(&zboot), ImageFormat::EfiZboot);
        assert_eq!(zboot_compression(&zboot), Some("gzip"));
        // Even one that also carried the Image magic must stay zboot: Xen
        // would load the PE decompressor as the kernel.
        let zboot = header(
            256,
            &[(0, b"MZ\0\0zimg"), (0x18, b"zstd\0"), (0x38, b"ARM\x64")],
        );
        assert_eq!(sniff_all(&zboot), ImageFormat::EfiZboot);
        assert_eq!(zboot_compression(&zboot), Some("zstd"));
        assert!(!ImageFormat::EfiZboot.is_bootable_kernel());
        assert_eq!(zboot_compression(&debian_vmlinuz_head()), None);
    }

    #[test]
    fn zimage32() {
        let h = header(0x30, &[(0x24, &[0x18, 0x28, 0x6F, 0x01])]);
        assert_eq!(sniff_all(&h), ImageFormat::ZImage);
        assert_eq!(sniff(&h[..0x2F], 0x2F), ImageFormat::Unknown);
    }

    #[test]
    fn uimage_and_its_header() {
        let mut h = header(
            64,
            &[
                (0, &[0x27, 0x05, 0x19, 0x56]),
                (12, &[0, 0, 0x10, 0]),
                (16, &[0x80, 0, 0, 0]),
                (20, &[0x80, 0, 0, 0x40]),
                (28, &[5, 22, 2, 1]),
                (32, b"Linux-6.1"),
            ],
        );
        assert_eq!(sniff_all(&h), ImageFormat::UImage);
        let parsed = uimage_header(&h).expect("uImage header");
        assert_eq!(parsed.data_size, 0x1000);
        assert_eq!(parsed.load, 0x8000_0000);
        assert_eq!(parsed.entry, 0x8000_0040);
        assert_eq!(
            (parsed.os, parsed.arch, parsed.image_type),
            (5, UImageHeader::ARCH_ARM64, 2)
        );
        assert_eq!(parsed.compression, UImageHeader::COMP_GZIP);
        assert_eq!(parsed.name, b"Linux-6.1");
        assert!(parsed.payload_fits(64 + 0x1000));
        assert!(!parsed.payload_fits(64 + 0xFFF));
        assert!(!parsed.payload_fits(10));
        // A full 32-byte name without NUL.
        h[32..64].copy_from_slice(&[b'n'; 32]);
        assert_eq!(uimage_header(&h).map(|u| u.name.len()), Some(32));
        // Too short to be a uImage at all.
        assert_eq!(sniff(&h[..63], 63), ImageFormat::Unknown);
        assert_eq!(uimage_header(&h[..63]), None);
    }

    #[test]
    fn uimage_wins_over_image_like_xen_4_18() {
        let h = header(128, &[(0, &[0x27, 0x05, 0x19, 0x56]), (0x38, b"ARM\x64")]);
        assert_eq!(sniff_all(&h), ImageFormat::UImage);
    }

    #[test]
    fn gzip_wins_over_image_magic() {
        let h = header(128, &[(0, &[0x1F, 0x8B, 0x08]), (0x38, b"ARM\x64")]);
        assert_eq!(sniff_all(&h), ImageFormat::Gzip);
        assert_eq!(sniff(&[0x1F, 0x9E], 2), ImageFormat::Gzip);
    }

    #[test]
    fn every_other_format() {
        let cases: &[(&[u8], ImageFormat)] = &[
            (&[0xD0, 0x0D, 0xFE, 0xED, 0, 0, 0x10, 0], ImageFormat::Fdt),
            (
                &[0x8C, 0xFF, 0x7C, 0xF9, 1, 0, 0, 0],
                ImageFormat::XsmPolicy,
            ),
            (b"07070100000001", ImageFormat::Cpio),
            (b"07070200000001", ImageFormat::Cpio),
            (b"070707000001", ImageFormat::Cpio),
            (&[0xC7, 0x71, 0, 0], ImageFormat::Cpio),
            (&[0x71, 0xC7, 0, 0], ImageFormat::Cpio),
            (&[0xFD, b'7', b'z', b'X', b'Z', 0, 0, 4], ImageFormat::Xz),
            (&[0x04, 0x22, 0x4D, 0x18, 0x64], ImageFormat::Lz4),
            (&[0x02, 0x21, 0x4C, 0x18, 0], ImageFormat::Lz4),
            (&[0x28, 0xB5, 0x2F, 0xFD, 0], ImageFormat::Zstd),
            (b"BZh91AY&SY", ImageFormat::Bzip2),
            (
                &[
                    0x5D, 0, 0, 0x80, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                ],
                ImageFormat::Lzma,
            ),
            (&[0x7F, b'E', b'L', b'F', 2, 1, 1], ImageFormat::Elf),
            (b"hello world", ImageFormat::Unknown),
            (b"BZh is not bzip2", ImageFormat::Unknown),
            (&[0x5D, 0, 0], ImageFormat::Unknown),
            (b"0707", ImageFormat::Unknown),
            (b"", ImageFormat::Unknown),
        ];
        for (head, expected) in cases {
            assert_eq!(sniff_all(head), *expected, "{head:02x?}");
        }
    }

    #[test]
    fn bootable_kernels_are_exactly_xens() {
        use ImageFormat::*;
        let all = [
            Arm64Image, ZImage, UImage, Gzip, Cpio, Fdt, XsmPolicy, Xz, Lz4, Zstd, Bzip2, Lzma,
            EfiZboot, Elf, Unknown,
        ];
        let bootable: Vec<_> = all.iter().filter(|f| f.is_bootable_kernel()).collect();
        assert_eq!(bootable, [&Arm64Image, &ZImage, &UImage, &Gzip]);
        for f in all {
            assert!(!f.describe().is_empty());
        }
        assert_eq!(Arm64Image.to_string(), "arm64 Image");
        assert_eq!(
            serde_json::to_string(&EfiZboot).ok().as_deref(),
            Some("\"efi-zboot\"")
        );
    }

    proptest! {
        #[test]
        fn never_panics(head in proptest::collection::vec(any::<u8>(), 0..200), size in any::<u64>()) {
            let _ = sniff(&head, size);
            let _ = uimage_header(&head);
            let _ = zboot_compression(&head);
        }
    }
}

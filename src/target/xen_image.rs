//! Reading the Xen release out of a Xen binary (`--xen FILE`).
//!
//! Every Arm Xen carries the compatible it gives dom0's hypervisor node,
//! `"xen,xen-<major>.<minor>\0xen,xen\0"` (domain_build.c, all releases),
//! as one constant string: that names the release reliably. The full
//! version (`4.17.7+13-g2445b30a44-0+deb12u1` in Debian's build) is the
//! NUL-delimited string that starts with `<major>.<minor>.`; the linker
//! merges `xen_extra_version()`'s string into its tail, so it is present
//! whenever the build has a patch level.
//!
//! A Xen built with CONFIG_HYPFS_CONFIG (on by default wherever HYPFS is,
//! as in Debian's builds) also carries the `.config` it was built from,
//! gzip'd into the image (xen/common/Makefile: `config.gz`, `.incbin`'d
//! between `xen_config_data` and `xen_config_data_end`, served as
//! `/buildinfo/config` in hypfs): [`find_build_config`] digs it out, so
//! `--xen` alone tells which build options the target has.

use super::XenVersion;
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

/// What a Xen binary says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageVersion {
    pub version: XenVersion,
    /// The full version string, when found.
    pub full: Option<String>,
}

const COMPAT_PREFIX: &[u8] = b"xen,xen-";
const COMPAT_SUFFIX: &[u8] = b"\0xen,xen\0";

/// Find the release in the bytes of a Xen image. `None` when the image does
/// not carry the compatible (not Xen, or compressed).
pub fn find_version(image: &[u8]) -> Option<ImageVersion> {
    let mut from = 0;
    while let Some(i) = find(&image[from..], COMPAT_PREFIX) {
        let start = from + i + COMPAT_PREFIX.len();
        from = start;
        let rest = &image[start..];
        let Some(end) = rest.iter().position(|&b| b == 0) else {
            break;
        };
        if !rest[end..].starts_with(COMPAT_SUFFIX) {
            continue;
        }
        let Some(version) = parse_major_minor(&rest[..end]) else {
            continue;
        };
        return Some(ImageVersion {
            version,
            full: full_version(image, version),
        });
    }
    None
}

fn parse_major_minor(text: &[u8]) -> Option<XenVersion> {
    let text = std::str::from_utf8(text).ok()?;
    let (major, minor) = text.split_once('.')?;
    Some(XenVersion::new(major.parse().ok()?, minor.parse().ok()?))
}

/// The first NUL-delimited string `<major>.<minor>.<more>` made only of
/// version characters.
fn full_version(image: &[u8], version: XenVersion) -> Option<String> {
    let prefix = format!("\0{}.{}.", version.major, version.minor);
    let mut from = 0;
    while let Some(i) = find(&image[from..], prefix.as_bytes()) {
        let start = from + i + 1;
        from = start;
        let rest = &image[start..];
        let end = rest.iter().position(|&b| b == 0)?;
        let candidate = &rest[..end];
        let versionish = candidate.len() <= 64
            && candidate
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"._+~-".contains(&b));
        if versionish && candidate.len() > prefix.len() - 1 {
            return String::from_utf8(candidate.to_vec()).ok();
        }
    }
    None
}

/// A `.config` is a few KiB (4.22's arm64 defconfig: under 5 KiB); more
/// than this is not one.
const MAX_EMBEDDED_CONFIG: usize = 256 << 10;

/// The text of the Kconfig `.config` built into a Xen image, if it has one:
/// the first gzip member in the image that inflates, with a matching CRC
/// and length, to text starting like a Xen `.config` header.
pub fn find_build_config(image: &[u8]) -> Option<String> {
    const GZIP_DEFLATE: &[u8] = &[0x1f, 0x8b, 0x08];
    let mut out = vec![0u8; MAX_EMBEDDED_CONFIG];
    let mut inflater = Box::<DecompressorOxide>::default();
    let mut from = 0;
    while let Some(i) = find(&image[from..], GZIP_DEFLATE) {
        let start = from + i;
        from = start + 1;
        let Some(text) = gunzip_member(&image[start..], &mut inflater, &mut out) else {
            continue;
        };
        if looks_like_xen_config(text) {
            return String::from_utf8(text.to_vec()).ok();
        }
    }
    None
}

/// Kconfig writes `#`, `# Automatically generated file; DO NOT EDIT.`,
/// `# Xen/<arch> <release> Configuration` at the top of every `.config`.
fn looks_like_xen_config(text: &[u8]) -> bool {
    let head = &text[..text.len().min(256)];
    find(head, b"\n# Xen/").is_some() && find(text, b"\nCONFIG_").is_some()
}

/// Inflate the gzip member (RFC 1952) at the start of `bytes` into `out`;
/// the inflated bytes when the header is well-formed, the deflate stream
/// ends, and the trailer's CRC-32 and length match.
fn gunzip_member<'o>(
    bytes: &[u8],
    inflater: &mut DecompressorOxide,
    out: &'o mut [u8],
) -> Option<&'o [u8]> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    const RESERVED: u8 = 0xe0;
    let flags = *bytes.get(3)?;
    if flags & RESERVED != 0 {
        return None;
    }
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let len = u16::from_le_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]);
        at += 2 + usize::from(len);
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            at += bytes.get(at..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    let deflate = bytes.get(at..)?;
    inflater.init();
    let (status, consumed, written) = decompress(
        inflater,
        deflate,
        out,
        0,
        inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
    );
    if status != TINFLStatus::Done {
        return None;
    }
    let trailer = deflate.get(consumed..consumed + 8)?;
    let crc = u32::from_le_bytes(trailer[..4].try_into().ok()?);
    let size = u32::from_le_bytes(trailer[4..].try_into().ok()?);
    let text = &out[..written];
    (u32::try_from(written).ok()? == size && crc32(text) == crc).then_some(text)
}

/// CRC-32 (IEEE 802.3, reflected), as gzip's trailer has it. Bitwise: it
/// runs once over a few KiB.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_release_and_full_version() {
        let mut image = vec![0x4d, 0x5a, 0, 0];
        image.extend(b"\0Debian\0lists.example.org\x004.17.7+13-g2445b30a44-0+deb12u1\0gcc\0");
        image.extend(b"arm,psci\0xen,xen-4.17\0xen,xen\0\0\0");
        let found = find_version(&image).unwrap();
        assert_eq!(found.version, XenVersion::new(4, 17));
        assert_eq!(
            found.full.as_deref(),
            Some("4.17.7+13-g2445b30a44-0+deb12u1")
        );
    }

    #[test]
    fn needs_the_whole_compatible() {
        // A lone "xen,xen-4.19" (e.g. in a message) is not the compatible.
        assert_eq!(find_version(b"see xen,xen-4.19 docs\0"), None);
        assert_eq!(find_version(b"xen,xen-4.x\0xen,xen\0"), None);
        assert_eq!(find_version(b""), None);
        assert_eq!(find_version(b"xen,xen-"), None);
        let found = find_version(b"xen,xen-4.x\0xen,xen\0 xen,xen-4.20\0xen,xen\0").unwrap();
        assert_eq!(found.version, XenVersion::new(4, 20));
        assert_eq!(found.full, None);
    }

    /// A gzip member as `gzip -n` writes it (no name, no time).
    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3];
        out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
        out.extend(crc32(data).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out
    }

    const CONFIG: &str = "#\n# Automatically generated file; DO NOT EDIT.\n# Xen/arm 4.17.7 Configuration\n#\nCONFIG_ARM_64=y\n# CONFIG_STATIC_MEMORY is not set\n";

    #[test]
    fn finds_the_embedded_build_config() {
        let mut image = b"MZ\0\0\x1f\x8b\x08 not gzip \x1f\x8b".to_vec();
        image.extend(gzip(b"# not a config\n"));
        image.extend(gzip(CONFIG.as_bytes()));
        image.extend(b"xen,xen-4.17\0xen,xen\0");
        assert_eq!(find_build_config(&image).as_deref(), Some(CONFIG));
    }

    #[test]
    fn a_damaged_member_is_not_a_config() {
        assert_eq!(find_build_config(b""), None);
        assert_eq!(find_build_config(b"\x1f\x8b\x08"), None);
        let good = gzip(CONFIG.as_bytes());
        let mut bad_crc = good.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert_eq!(find_build_config(&bad_crc), None);
        for cut in 0..good.len() {
            assert_eq!(find_build_config(&good[..cut]), None, "cut at {cut}");
        }
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn ignores_non_version_strings_for_the_full_version() {
        let image = b"\x004.18.a b\0\x004.18.2-pre\0xen,xen-4.18\0xen,xen\0";
        assert_eq!(
            find_version(image).unwrap().full.as_deref(),
            Some("4.18.2-pre")
        );
    }
}

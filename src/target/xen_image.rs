//! Reading the Xen release out of a Xen binary (`--xen FILE`).
//!
//! Every Arm Xen carries the compatible it gives dom0's hypervisor node,
//! `"xen,xen-<major>.<minor>\0xen,xen\0"` (domain_build.c, all releases),
//! as one constant string: that names the release reliably. The full
//! version (`4.17.7+13-g2445b30a44-0+deb12u1` in Debian's build) is the
//! NUL-delimited string that starts with `<major>.<minor>.`; the linker
//! merges `xen_extra_version()`'s string into its tail, so it is present
//! whenever the build has a patch level.

use super::XenVersion;

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

    #[test]
    fn ignores_non_version_strings_for_the_full_version() {
        let image = b"\x004.18.a b\0\x004.18.2-pre\0xen,xen-4.18\0xen,xen\0";
        assert_eq!(
            find_version(image).unwrap().full.as_deref(),
            Some("4.18.2-pre")
        );
    }
}

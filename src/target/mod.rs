//! The Xen being targeted: its release (`--xen-version`, or read from
//! `--xen` / `--xen-config`) and, when known, its build options.
//!
//! Properties, limits and behaviours differ between releases (reference §5);
//! 4.16 is the oldest release whose EFI loader can boot dom0less guests
//! (`xen,uefi-binary`), and the newest known one is the default. Build
//! options ([`kconfig`]) decide whether optional parts of the binding exist;
//! without `--xen-config`, or a `--xen` binary that carries its own
//! `.config`, they are not judged.

pub mod kconfig;
pub mod resolve;
pub mod xen_image;

use kconfig::BuildConfig;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct XenVersion {
    pub major: u8,
    pub minor: u8,
}

impl XenVersion {
    pub const fn new(major: u8, minor: u8) -> Self {
        XenVersion { major, minor }
    }
    /// The oldest release that boots dom0less guests from EFI.
    pub const OLDEST: XenVersion = XenVersion::new(4, 16);
    /// The newest release this xencfg knows.
    pub const NEWEST: XenVersion = XenVersion::new(4, 22);
}

impl fmt::Display for XenVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for XenVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for XenVersion {
    type Err = String;

    /// Accepts `4.17` and `4.17.7` (the patch level changes nothing here).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.trim().split('.');
        let num = |p: Option<&str>| p.and_then(|p| p.parse::<u8>().ok());
        let (Some(major), Some(minor)) = (num(parts.next()), num(parts.next())) else {
            return Err(format!("`{s}` is not a Xen version (expected e.g. 4.17)"));
        };
        if parts.next().is_some_and(|p| p.parse::<u32>().is_err()) {
            return Err(format!("`{s}` is not a Xen version (expected e.g. 4.17)"));
        }
        let v = XenVersion { major, minor };
        if v > XenVersion::NEWEST {
            return Err(format!(
                "Xen {v} is newer than xencfg knows (up to {0}): say `--xen-version {0}` to check against {0}, or update xencfg",
                XenVersion::NEWEST
            ));
        }
        if v < XenVersion::OLDEST {
            return Err(format!(
                "Xen {v} is not supported: xencfg targets {} to {} ({} is the first release whose EFI loader boots dom0less guests)",
                XenVersion::OLDEST,
                XenVersion::NEWEST,
                XenVersion::OLDEST
            ));
        }
        Ok(v)
    }
}

/// Everything about the Xen build that changes what is valid.
#[derive(Clone, Debug)]
pub struct Target {
    pub version: XenVersion,
    /// Where `version` came from.
    pub version_source: VersionSource,
    /// The full version string read from the Xen binary (`4.17.7+13-…`).
    pub full_version: Option<String>,
    /// The patch level of the release (`7` of 4.17.7), when known: from
    /// `--xen-version 4.16.3`, the binary or the configuration's header.
    /// Stable releases took a few features of the next one (backports).
    pub patch: Option<u16>,
    /// The `.config` Xen was built with (`--xen-config`, else the one inside
    /// `--xen`); `None`: build options are not judged.
    pub config: Option<BuildConfig>,
}

impl Default for Target {
    fn default() -> Self {
        Target::release(XenVersion::NEWEST, VersionSource::Default)
    }
}

/// Where the target release was taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionSource {
    /// `--xen-version`.
    Option,
    /// The Xen binary given with `--xen`.
    XenBinary,
    /// The header of the `--xen-config` file.
    XenConfig,
    /// Nothing said: the newest release xencfg knows.
    Default,
}

/// Whether the target Xen has a build option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Built {
    Yes,
    No,
    /// No build configuration: not judged.
    Unknown,
}

impl Target {
    pub fn release(version: XenVersion, version_source: VersionSource) -> Target {
        Target {
            version,
            version_source,
            full_version: None,
            patch: None,
            config: None,
        }
    }

    /// Whether this Xen is at least `version` (`4.16`) patch level `patch`;
    /// `None` when the patch level decides and is not known.
    pub fn at_least(&self, version: XenVersion, patch: u16) -> Option<bool> {
        match self.version.cmp(&version) {
            std::cmp::Ordering::Less => Some(false),
            std::cmp::Ordering::Greater => Some(true),
            std::cmp::Ordering::Equal => self.patch.map(|p| p >= patch),
        }
    }

    /// The release as precisely as known: `4.16.3`, else `4.16`.
    pub fn release_name(&self) -> String {
        match self.patch {
            Some(p) => format!("{}.{p}", self.version),
            None => self.version.to_string(),
        }
    }

    /// Whether this Xen is built with `symbol` (`CONFIG_STATIC_MEMORY`).
    pub fn builds(&self, symbol: &str) -> Built {
        let option = kconfig::option(symbol);
        if let Some(known) = option.and_then(|o| o.efi_builds) {
            return if known { Built::Yes } else { Built::No };
        }
        if let Some(o) = option {
            if self.version < o.since {
                return if o.built_before {
                    Built::Yes
                } else {
                    Built::No
                };
            }
        }
        match &self.config {
            None => Built::Unknown,
            Some(c) if c.is_set(symbol) => Built::Yes,
            // Another architecture's .config (XC0904) says nothing of arm64's.
            Some(c) if !c.is_set("CONFIG_ARM_64") => Built::Unknown,
            Some(_) => Built::No,
        }
    }
}

/// The patch level of a release string: `7` of `4.17.7`, `4.17.7+13-g…`
/// or `4.17.7-pre`; `None` for `4.17` or `4.23-unstable`.
pub fn patch_level(release: &str) -> Option<u16> {
    let third = release.trim().split('.').nth(2)?;
    let digits = third
        .find(|c: char| !c.is_ascii_digit())
        .map_or(third, |end| &third[..end]);
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_patch_levels() {
        assert_eq!(patch_level("4.16.3"), Some(3));
        assert_eq!(patch_level("4.17.7+13-g2445b30a44-0+deb12u1"), Some(7));
        assert_eq!(patch_level("4.18.2-pre"), Some(2));
        assert_eq!(patch_level("4.17"), None);
        assert_eq!(patch_level("4.23-unstable"), None);
        let mut t = Target::release(XenVersion::new(4, 16), VersionSource::Option);
        assert_eq!(t.at_least(XenVersion::new(4, 16), 3), None);
        t.patch = Some(3);
        assert_eq!(t.at_least(XenVersion::new(4, 16), 3), Some(true));
        t.patch = Some(2);
        assert_eq!(t.at_least(XenVersion::new(4, 16), 3), Some(false));
        assert_eq!(t.at_least(XenVersion::new(4, 17), 0), Some(false));
    }

    #[test]
    fn parses_versions_in_range() {
        assert_eq!("4.17".parse(), Ok(XenVersion::new(4, 17)));
        assert_eq!("4.17.7".parse(), Ok(XenVersion::new(4, 17)));
        assert!("4.15".parse::<XenVersion>().unwrap_err().contains("4.16"));
        assert!(
            "4.23"
                .parse::<XenVersion>()
                .unwrap_err()
                .contains("--xen-version 4.22")
        );
        assert!("four".parse::<XenVersion>().is_err());
        assert!("4.17.x".parse::<XenVersion>().is_err());
    }
}

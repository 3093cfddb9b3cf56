//! The Xen being targeted: its release (`--xen-version`, or read from
//! `--xen` / `--xen-config`) and, when known, its build options.
//!
//! Properties, limits and behaviours differ between releases (reference §5);
//! 4.16 is the oldest release whose EFI loader can boot dom0less guests
//! (`xen,uefi-binary`), and the newest known one is the default. Build
//! options ([`kconfig`]) decide whether optional parts of the binding exist;
//! without `--xen-config` they are not judged.

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
        if v < XenVersion::OLDEST || v > XenVersion::NEWEST {
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
    /// The `.config` Xen was built with; `None`: build options are not judged.
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
    /// No `--xen-config`: not judged.
    Unknown,
}

impl Target {
    pub fn release(version: XenVersion, version_source: VersionSource) -> Target {
        Target {
            version,
            version_source,
            full_version: None,
            config: None,
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
            Some(_) => Built::No,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_in_range() {
        assert_eq!("4.17".parse(), Ok(XenVersion::new(4, 17)));
        assert_eq!("4.17.7".parse(), Ok(XenVersion::new(4, 17)));
        assert!("4.15".parse::<XenVersion>().unwrap_err().contains("4.16"));
        assert!("4.23".parse::<XenVersion>().is_err());
        assert!("four".parse::<XenVersion>().is_err());
        assert!("4.17.x".parse::<XenVersion>().is_err());
    }
}

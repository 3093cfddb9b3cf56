//! The Xen release being targeted (`--xen-version`).
//!
//! Properties, limits and behaviours differ between releases (reference §5);
//! 4.16 is the oldest release whose EFI loader can boot dom0less guests
//! (`xen,uefi-binary`), and the newest known one is the default.

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
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub version: XenVersion,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            version: XenVersion::NEWEST,
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

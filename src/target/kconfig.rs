//! The Xen build configuration (`--xen-config`, the `.config` Xen was built
//! with) and the build options that decide whether a binding feature exists.
//!
//! Several parts of the dom0less binding are compiled in only on request
//! (reference §5, "Build options silently required"): a Xen built without
//! them ignores the property or structure, or panics on it. [`OPTIONS`] says,
//! per option, since when Kconfig has it and what older releases do, so the
//! question "does this Xen build have X" has one answer per target.

use super::XenVersion;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One build option xencfg judges.
#[derive(Debug)]
pub struct BuildOption {
    /// The Kconfig symbol with its `CONFIG_` prefix.
    pub symbol: &'static str,
    /// The first release whose Kconfig has the symbol.
    pub since: XenVersion,
    /// Whether releases before `since` behave as if it were set (the
    /// feature was built unconditionally before it became optional).
    pub built_before: bool,
    /// Known for every Xen that has an EFI loader, whatever `.config` says
    /// (`ARM_EFI` depends on `!MPU`).
    pub efi_builds: Option<bool>,
    /// What the option gives, for messages.
    pub what: &'static str,
}

const fn v(minor: u8) -> XenVersion {
    XenVersion::new(4, minor)
}

/// The build options the binding depends on.
pub static OPTIONS: &[BuildOption] = &[
    BuildOption {
        symbol: "CONFIG_ARM_EFI",
        since: v(17),
        built_before: true,
        efi_builds: None,
        what: "the EFI loader that reads xen.cfg",
    },
    BuildOption {
        symbol: "CONFIG_STATIC_MEMORY",
        since: v(16),
        built_before: false,
        efi_builds: None,
        what: "static memory (`xen,static-mem`, `direct-map`); UNSUPPORTED, off by default",
    },
    BuildOption {
        symbol: "CONFIG_STATIC_SHM",
        since: v(17),
        built_before: false,
        efi_builds: None,
        what: "static shared memory (`xen,domain-shared-memory-v1`); UNSUPPORTED, off by default",
    },
    BuildOption {
        symbol: "CONFIG_BOOT_TIME_CPUPOOLS",
        since: v(17),
        built_before: false,
        efi_builds: None,
        what: "boot-time cpupools (`xen,cpupool`); off by default, without it every guest runs in pool 0",
    },
    BuildOption {
        symbol: "CONFIG_LLC_COLORING",
        since: v(20),
        built_before: false,
        efi_builds: None,
        what: "last-level cache coloring (`llc-colors`); EXPERT, off by default",
    },
    BuildOption {
        symbol: "CONFIG_ARM64_SVE",
        since: v(18),
        built_before: false,
        efi_builds: None,
        what: "SVE for guests (`sve`); UNSUPPORTED, off by default",
    },
    BuildOption {
        symbol: "CONFIG_STATIC_EVTCHN",
        since: v(19),
        built_before: true,
        efi_builds: None,
        what: "static event channels (`xen,evtchn-v1`); on by default",
    },
    BuildOption {
        symbol: "CONFIG_SBSA_VUART_CONSOLE",
        since: v(15),
        built_before: true,
        efi_builds: None,
        what: "the emulated PL011 (`vpl011`); on by default, without it Xen panics creating the guest",
    },
    BuildOption {
        symbol: "CONFIG_DOM0LESS_BOOT",
        since: v(19),
        built_before: true,
        efi_builds: None,
        what: "dom0less guests (`xen,domain` nodes); on by default, without it Xen ignores every guest",
    },
    BuildOption {
        symbol: "CONFIG_SCMI_SMC",
        since: v(21),
        built_before: false,
        efi_builds: None,
        what: "SCMI over SMC for guests (`xen,sci_type=scmi_smc`); 4.21 ignores the value without it, 4.22 panics",
    },
    BuildOption {
        symbol: "CONFIG_GICV3_ESPI",
        since: v(22),
        built_before: false,
        efi_builds: None,
        what: "extended SPIs (`nr_spis` from 4033 to 5088)",
    },
    BuildOption {
        symbol: "CONFIG_MPU",
        since: v(22),
        built_before: false,
        efi_builds: Some(false),
        what: "Armv8-R MPU support (`v8r_el1_msa`); Xen's EFI loader exists only in MMU builds",
    },
    BuildOption {
        symbol: "CONFIG_SCHED_CREDIT",
        since: v(15),
        built_before: true,
        efi_builds: None,
        what: "the `credit` scheduler",
    },
    BuildOption {
        symbol: "CONFIG_SCHED_CREDIT2",
        since: v(15),
        built_before: true,
        efi_builds: None,
        what: "the `credit2` scheduler",
    },
    BuildOption {
        symbol: "CONFIG_SCHED_RTDS",
        since: v(15),
        built_before: false,
        efi_builds: None,
        what: "the `rtds` scheduler",
    },
    BuildOption {
        symbol: "CONFIG_SCHED_ARINC653",
        since: v(15),
        built_before: false,
        efi_builds: None,
        what: "the `arinc653` scheduler",
    },
    BuildOption {
        symbol: "CONFIG_SCHED_NULL",
        since: v(15),
        built_before: false,
        efi_builds: None,
        what: "the `null` scheduler",
    },
];

pub fn option(symbol: &str) -> Option<&'static BuildOption> {
    OPTIONS.iter().find(|o| o.symbol == symbol)
}

/// A parsed `.config`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildConfig {
    /// The `--xen-config` file, or the Xen binary that carries it.
    pub path: PathBuf,
    /// Read from inside the Xen binary at `path` (CONFIG_HYPFS_CONFIG).
    pub embedded: bool,
    /// Every `CONFIG_X=value` line (value as written: `y`, `"credit2"`, `128`).
    pub values: BTreeMap<String, String>,
    /// From the `# Xen/arm 4.17.7 Configuration` header.
    pub header: Option<ConfigHeader>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigHeader {
    /// `arm`, `x86`, ...
    pub arch: String,
    /// The release as written (`4.17.7`).
    pub release: String,
}

impl BuildConfig {
    /// Parse the text of a Kconfig `.config`. `CONFIG_X=value` sets X;
    /// `# CONFIG_X is not set` and absence both mean "not set".
    pub fn parse(path: &Path, text: &str) -> Result<BuildConfig, String> {
        if text.contains('\0') {
            return Err(format!(
                "{} is not a Kconfig file: it holds binary data (a .config is text; Xen's build leaves it as xen/.config)",
                path.display()
            ));
        }
        let mut values = BTreeMap::new();
        let mut header = None;
        let mut unset = 0usize;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if let Some(comment) = line.strip_prefix('#') {
                let comment = comment.trim();
                if comment.starts_with("CONFIG_") && comment.ends_with(" is not set") {
                    unset += 1;
                } else if header.is_none() {
                    header = parse_header(comment);
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            let parsed = line
                .split_once('=')
                .filter(|(k, _)| k.starts_with("CONFIG_") && is_symbol(k));
            let Some((key, value)) = parsed else {
                // Quoted short and escaped: the file may be anything.
                let shown: String = line.chars().take(60).flat_map(char::escape_debug).collect();
                let cut = if line.chars().count() > 60 { "…" } else { "" };
                return Err(format!(
                    "{}:{}: `{shown}{cut}` is not a Kconfig line (`CONFIG_X=y` or `# CONFIG_X is not set`)",
                    path.display(),
                    number + 1
                ));
            };
            values.insert(key.to_string(), value.to_string());
        }
        if values.is_empty() && unset == 0 {
            return Err(format!(
                "{} has no CONFIG_ lines: it is not a Kconfig .config",
                path.display()
            ));
        }
        Ok(BuildConfig {
            path: path.to_path_buf(),
            embedded: false,
            values,
            header,
        })
    }

    /// What it is, for messages: the file, or the configuration inside it.
    pub fn describe(&self) -> String {
        if self.embedded {
            format!("the build configuration inside {}", self.path.display())
        } else {
            self.path.display().to_string()
        }
    }

    /// Whether `CONFIG_X=y` (or `=m`) is in the file.
    pub fn is_set(&self, symbol: &str) -> bool {
        matches!(self.values.get(symbol).map(String::as_str), Some("y" | "m"))
    }

    /// The release the header names, as a version xencfg knows (`4.17`).
    pub fn version(&self) -> Option<XenVersion> {
        let header = self.header.as_ref()?;
        let mut parts = header.release.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(XenVersion::new(major, minor))
    }
}

fn is_symbol(key: &str) -> bool {
    key.bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `Xen/arm 4.17.7 Configuration` → arch `arm`, release `4.17.7`.
fn parse_header(comment: &str) -> Option<ConfigHeader> {
    let rest = comment.strip_prefix("Xen/")?;
    let (arch, rest) = rest.split_once(' ')?;
    let release = rest.strip_suffix(" Configuration")?.trim();
    if release.is_empty() || !release.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(ConfigHeader {
        arch: arch.to_string(),
        release: release.to_string(),
    })
}

/// The Kconfig option that builds the scheduler Xen calls `name`.
pub fn scheduler_option(name: &str) -> Option<&'static str> {
    Some(match name {
        "credit" => "CONFIG_SCHED_CREDIT",
        "credit2" => "CONFIG_SCHED_CREDIT2",
        "rtds" => "CONFIG_SCHED_RTDS",
        "arinc653" => "CONFIG_SCHED_ARINC653",
        "null" => "CONFIG_SCHED_NULL",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN_417: &str = "#\n# Automatically generated file; DO NOT EDIT.\n# Xen/arm 4.17.7 Configuration\n#\nCONFIG_ARM_64=y\nCONFIG_SCHED_DEFAULT=\"credit2\"\n# CONFIG_BOOT_TIME_CPUPOOLS is not set\nCONFIG_SCHED_CREDIT2=y\n\n# end of Common Features\n";

    #[test]
    fn reads_values_header_and_unset_lines() {
        let c = BuildConfig::parse(Path::new("x/.config"), DEBIAN_417).unwrap();
        assert!(c.is_set("CONFIG_ARM_64"));
        assert!(c.is_set("CONFIG_SCHED_CREDIT2"));
        assert!(!c.is_set("CONFIG_BOOT_TIME_CPUPOOLS"));
        assert!(!c.is_set("CONFIG_SCHED_DEFAULT"));
        assert_eq!(c.values["CONFIG_SCHED_DEFAULT"], "\"credit2\"");
        let h = c.header.clone().unwrap();
        assert_eq!((h.arch.as_str(), h.release.as_str()), ("arm", "4.17.7"));
        assert_eq!(c.version(), Some(XenVersion::new(4, 17)));
    }

    #[test]
    fn rejects_what_is_not_a_config() {
        let e = BuildConfig::parse(Path::new("xen.cfg"), "[xen]\noptions=x\n").unwrap_err();
        assert!(e.contains("xen.cfg:1"), "{e}");
        let e = BuildConfig::parse(Path::new("empty"), "# nothing\n").unwrap_err();
        assert!(e.contains("no CONFIG_"), "{e}");
        assert!(BuildConfig::parse(Path::new("c"), "config_x=y\n").is_err());
    }

    #[test]
    fn every_option_is_a_config_symbol() {
        for o in OPTIONS {
            assert!(o.symbol.starts_with("CONFIG_") && is_symbol(o.symbol));
        }
    }
}

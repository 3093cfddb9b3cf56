//! The `xen,domain` binding as data (reference §2.4).
//!
//! One table says, for every property a guest may carry, its DT name, how
//! its cfg value is read and encoded, and the first Xen release that reads
//! it. Lowering, checks and documentation all walk this table, so nothing
//! about a property is written in two places.

pub mod value;

use crate::target::XenVersion;

/// How a property's cfg value is read and written into the DT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// Presence only (`vpl011`, `direct-map`): bare key or yes/no.
    Flag,
    /// One cell, within an inclusive range.
    U32 { min: u32, max: u32 },
    /// A size in KiB written as a 64-bit value (two cells), as Xen's
    /// `dt_property_read_u64` reads `memory`. Bare numbers are KiB.
    MemoryKib,
    /// A size in MiB written as one cell. Bare numbers are MiB.
    Mib,
    /// A string; when `allowed` is not empty, one of those values.
    Str { allowed: &'static [&'static str] },
}

#[derive(Debug)]
pub struct PropertySpec {
    /// The property's name in the DT (`#address-cells`, `xen,enhanced`).
    pub dt_name: &'static str,
    pub kind: ValueKind,
    /// The first Xen release that reads the property.
    pub since: XenVersion,
    /// Xen refuses to create the domain without it.
    pub required: bool,
    pub summary: &'static str,
}

impl PropertySpec {
    /// The key used in the cfg: the DT name without a leading `#`.
    pub fn cfg_key(&self) -> &'static str {
        self.dt_name.trim_start_matches('#')
    }
}

const fn v(minor: u8) -> XenVersion {
    XenVersion::new(4, minor)
}

/// Every property of a `xen,domain` node that xencfg writes from a typed value.
pub static PROPERTIES: &[PropertySpec] = &[
    PropertySpec {
        dt_name: "cpus",
        kind: ValueKind::U32 { min: 1, max: 128 },
        since: v(15),
        required: true,
        summary: "number of vCPUs (1..128 on arm64)",
    },
    PropertySpec {
        dt_name: "memory",
        kind: ValueKind::MemoryKib,
        since: v(15),
        required: true,
        summary: "guest RAM; a bare number is KiB, units K/M/G/T allowed; a multiple of 4 KiB",
    },
    PropertySpec {
        dt_name: "vpl011",
        kind: ValueKind::Flag,
        since: v(15),
        required: false,
        summary: "emulated PL011 UART at 0x22000000 (SPI 0); its output appears on Xen's console as `(XEN) DOM<id>:`",
    },
    PropertySpec {
        dt_name: "nr_spis",
        kind: ValueKind::U32 { min: 0, max: 960 },
        since: v(15),
        required: false,
        summary: "number of SPIs of the guest's vGIC (default: the host's)",
    },
    PropertySpec {
        dt_name: "#address-cells",
        kind: ValueKind::U32 { min: 2, max: 2 },
        since: v(15),
        required: false,
        summary: "cells of module addresses; xencfg always writes 2 (the EFI loader places modules above 4 GiB)",
    },
    PropertySpec {
        dt_name: "#size-cells",
        kind: ValueKind::U32 { min: 1, max: 2 },
        since: v(15),
        required: false,
        summary: "cells of module sizes; xencfg writes 2 unless told otherwise",
    },
    PropertySpec {
        dt_name: "direct-map",
        kind: ValueKind::Flag,
        since: v(17),
        required: false,
        summary: "map guest RAM 1:1 to host addresses (needs static memory)",
    },
    PropertySpec {
        dt_name: "xen,enhanced",
        kind: ValueKind::Str {
            allowed: &["enabled", "no-xenstore", "legacy"],
        },
        since: v(17),
        required: false,
        summary: "PV interfaces: `enabled` (grant table + xenstore), `no-xenstore`, `legacy` (4.21+)",
    },
    PropertySpec {
        dt_name: "xen,domain-p2m-mem-mb",
        kind: ValueKind::Mib,
        since: v(17),
        required: false,
        summary: "P2M pool size in MiB",
    },
    PropertySpec {
        dt_name: "max_grant_version",
        kind: ValueKind::U32 { min: 1, max: 2 },
        since: v(18),
        required: false,
        summary: "highest grant table version (1 on Arm unless Xen runs with gnttab=max-ver:2)",
    },
    PropertySpec {
        dt_name: "max_grant_frames",
        kind: ValueKind::U32 {
            min: 1,
            max: i32::MAX as u32,
        },
        since: v(18),
        required: false,
        summary: "grant table frames (default 64)",
    },
    PropertySpec {
        dt_name: "max_maptrack_frames",
        kind: ValueKind::U32 {
            min: 0,
            max: i32::MAX as u32,
        },
        since: v(18),
        required: false,
        summary: "maptrack frames (default 1024)",
    },
    PropertySpec {
        dt_name: "passthrough",
        kind: ValueKind::Str {
            allowed: &["enabled"],
        },
        since: v(19),
        required: false,
        summary: "`enabled` gives the guest an IOMMU context even without a passthrough DTB",
    },
    PropertySpec {
        dt_name: "llc-colors",
        kind: ValueKind::Str { allowed: &[] },
        since: v(20),
        required: false,
        summary: "LLC colors, e.g. `0-3,8`",
    },
    PropertySpec {
        dt_name: "capabilities",
        kind: ValueKind::U32 { min: 0, max: 7 },
        since: v(21),
        required: false,
        summary: "bitmask: 0x1 control, 0x2 hardware, 0x4 xenstore",
    },
    PropertySpec {
        dt_name: "trap-unmapped-accesses",
        kind: ValueKind::U32 { min: 0, max: 1 },
        since: v(21),
        required: false,
        summary: "1 (default) traps accesses to unmapped MMIO, 0 reads as zero",
    },
    PropertySpec {
        dt_name: "xen,sci_type",
        kind: ValueKind::Str {
            allowed: &["none", "scmi_smc"],
        },
        since: v(21),
        required: false,
        summary: "firmware interface (`none`, `scmi_smc`)",
    },
];

/// The property whose cfg key (or DT name) is `key`.
pub fn lookup(key: &str) -> Option<&'static PropertySpec> {
    PROPERTIES
        .iter()
        .find(|p| p.cfg_key() == key || p.dt_name == key)
}

/// The closest known property name to `key`, for "did you mean".
pub fn suggest(key: &str) -> Option<&'static str> {
    closest(key, PROPERTIES.iter().map(|p| p.cfg_key()))
}

/// The candidate within a small edit distance of `word` (case-insensitive).
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    // Suggestions fix typos in names. Longer strings are not mistyped
    // names, and comparing them costs the product of their lengths.
    const LONGEST_NAME: usize = 64;
    if word.len() > LONGEST_NAME {
        return None;
    }
    let word = word.to_ascii_lowercase();
    candidates
        .filter(|c| c.len() <= LONGEST_NAME)
        .map(|c| (edit_distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1) || c.contains(word.as_str()) && word.len() >= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_properties_by_cfg_key_and_dt_name() {
        assert_eq!(lookup("address-cells").unwrap().dt_name, "#address-cells");
        assert_eq!(lookup("#size-cells").unwrap().dt_name, "#size-cells");
        assert!(lookup("cpu").is_none());
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(suggest("cpu"), Some("cpus"));
        assert_eq!(suggest("memroy"), Some("memory"));
        assert_eq!(suggest("vpl01l"), Some("vpl011"));
        assert_eq!(suggest("enhanced"), Some("xen,enhanced"));
        assert_eq!(suggest("zzzzzz"), None);
    }
}

//! The `xen,domain` binding as data (reference §2.4).
//!
//! One table says, for every property a guest may carry, its DT name, how
//! its cfg value is read and encoded, the first Xen release that reads it
//! and the build option it needs. A second table does the same for the
//! structures xencfg writes with phandles (cpupools, event channels, shared
//! and static memory, vCPU affinity). Lowering, checks and documentation all
//! walk these tables, so nothing about a property is written in two places.

pub mod rules;
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
    Str { allowed: &'static [Choice] },
    /// `sve`: empty (the hardware's largest vector length) or a length in
    /// bits (0, or a multiple of 128 up to 2048), one cell.
    SveBits,
    /// `capabilities`: names (`control`, `hardware`, `xenstore`) or a
    /// number, written as one cell.
    Capabilities,
}

/// One accepted value of a string property, and the first release that
/// knows it (a newer value on an older Xen reads as "no property").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: &'static str,
    pub since: XenVersion,
    /// The build option this value needs beyond the property's own.
    pub requires: Option<&'static str>,
}

const fn choice(value: &'static str, minor: u8) -> Choice {
    Choice {
        value,
        since: v(minor),
        requires: None,
    }
}

/// A choice that needs a build option of its own.
const fn choice_needing(value: &'static str, minor: u8, symbol: &'static str) -> Choice {
    Choice {
        value,
        since: v(minor),
        requires: Some(symbol),
    }
}

/// A property a stable line took from the next release: the line and the
/// first patch level of it that reads the property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backport {
    pub line: XenVersion,
    pub patch: u16,
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
    /// The build option (`CONFIG_…`) without which Xen ignores or rejects it.
    pub requires: Option<&'static str>,
    /// The stable line that reads it before `since`, if any.
    pub backport: Option<Backport>,
    /// The value a bare key (no value) stands for, as the binding
    /// documents it; written as that value.
    pub bare: Option<&'static str>,
    pub summary: &'static str,
}

/// A property is its DT name: the table holds each name once.
impl PartialEq for PropertySpec {
    fn eq(&self, other: &PropertySpec) -> bool {
        self.dt_name == other.dt_name
    }
}

impl Eq for PropertySpec {}

impl PropertySpec {
    /// The build option the string value `value` needs beyond the
    /// property's own, if any.
    pub fn value_requires(&self, value: &str) -> Option<&'static str> {
        match self.kind {
            ValueKind::Str { allowed } => allowed.iter().find(|c| c.value == value)?.requires,
            _ => None,
        }
    }

    /// The key used in the cfg: the DT name without a leading `#`.
    pub fn cfg_key(&self) -> &'static str {
        self.dt_name.trim_start_matches('#')
    }
}

const fn v(minor: u8) -> XenVersion {
    XenVersion::new(4, minor)
}

/// Every property of a `xen,domain` node that xencfg writes from a typed
/// value, in the order the documentation lists them. Each is also a named
/// static, so code that needs one property names it (`binding::CPUS`) and a
/// misspelt name does not compile.
pub static PROPERTIES: &[&PropertySpec] = &[
    &CPUS,
    &MEMORY,
    &VPL011,
    &NR_SPIS,
    &ADDRESS_CELLS,
    &SIZE_CELLS,
    &DIRECT_MAP,
    &XEN_ENHANCED,
    &XEN_DOMAIN_P2M_MEM_MB,
    &MAX_GRANT_VERSION,
    &MAX_GRANT_FRAMES,
    &MAX_MAPTRACK_FRAMES,
    &PASSTHROUGH,
    &LLC_COLORS,
    &CAPABILITIES,
    &TRAP_UNMAPPED_ACCESSES,
    &XEN_SCI_TYPE,
    &SVE,
    &V8R_EL1_MSA,
];

/// `cpus`.
pub static CPUS: PropertySpec = PropertySpec {
    dt_name: "cpus",
    kind: ValueKind::U32 { min: 1, max: 128 },
    since: v(15),
    required: true,
    requires: None,
    backport: None,
    bare: None,
    summary: "number of vCPUs (1..128 on arm64)",
};

/// `memory`.
pub static MEMORY: PropertySpec = PropertySpec {
    dt_name: "memory",
    kind: ValueKind::MemoryKib,
    since: v(15),
    required: true,
    requires: None,
    backport: None,
    bare: None,
    summary: "guest RAM; a bare number is KiB, units K/M/G/T allowed; a multiple of 4 KiB",
};

/// `vpl011`.
pub static VPL011: PropertySpec = PropertySpec {
    dt_name: "vpl011",
    kind: ValueKind::Flag,
    since: v(15),
    required: false,
    requires: Some("CONFIG_SBSA_VUART_CONSOLE"),
    backport: None,
    bare: None,
    summary: "emulated PL011 UART at 0x22000000 (SPI 0); its output appears on Xen's console as `(XEN) DOM<id>:`",
};

/// `nr_spis`.
pub static NR_SPIS: PropertySpec = PropertySpec {
    dt_name: "nr_spis",
    // 960 rounds up to 988 - 32; 4.22 with CONFIG_GICV3_ESPI also
    // takes 4033 to 5088 (extended SPIs), checked in lowering.
    kind: ValueKind::U32 {
        min: 0,
        max: ESPI_NR_SPIS_MAX,
    },
    since: v(15),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "number of SPIs of the guest's vGIC (default: the host's); up to 960, or 4033 to 5088 (extended SPIs) on Xen 4.22 with CONFIG_GICV3_ESPI",
};

/// `#address-cells`.
pub static ADDRESS_CELLS: PropertySpec = PropertySpec {
    dt_name: "#address-cells",
    kind: ValueKind::U32 { min: 2, max: 2 },
    since: v(15),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "cells of module addresses; xencfg always writes 2 (the EFI loader places modules above 4 GiB)",
};

/// `#size-cells`.
pub static SIZE_CELLS: PropertySpec = PropertySpec {
    dt_name: "#size-cells",
    kind: ValueKind::U32 { min: 1, max: 2 },
    since: v(15),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "cells of module sizes; xencfg writes 2 unless told otherwise",
};

/// `direct-map`.
pub static DIRECT_MAP: PropertySpec = PropertySpec {
    dt_name: "direct-map",
    kind: ValueKind::Flag,
    since: v(17),
    required: false,
    requires: Some("CONFIG_STATIC_MEMORY"),
    backport: None,
    bare: None,
    summary: "map guest RAM 1:1 to host addresses (needs `static-mem`)",
};

/// `xen,enhanced`.
pub static XEN_ENHANCED: PropertySpec = PropertySpec {
    dt_name: "xen,enhanced",
    kind: ValueKind::Str {
        allowed: &[
            choice("enabled", 17),
            choice("disabled", 17),
            choice("no-xenstore", 17),
            choice("legacy", 21),
        ],
    },
    since: v(17),
    required: false,
    requires: None,
    backport: None,
    // Xen reads an empty `xen,enhanced` as `enabled`
    // (docs/misc/arm/device-tree/booting.txt; dom0less-build.c treats
    // -ENODATA like "enabled").
    bare: Some("enabled"),
    summary: "PV interfaces: `enabled` (grant table + xenstore; also the bare key), `disabled` (as if absent), `no-xenstore`, `legacy` (4.21+)",
};

/// `xen,domain-p2m-mem-mb`.
pub static XEN_DOMAIN_P2M_MEM_MB: PropertySpec = PropertySpec {
    dt_name: "xen,domain-p2m-mem-mb",
    kind: ValueKind::Mib,
    since: v(17),
    required: false,
    requires: None,
    // XSA-409 brought the P2M pool, and with it this property, to 4.16.3
    // (44e9dcc48b "xen/arm: Allocate and free P2M pages from the P2M pool").
    backport: Some(Backport {
        line: v(16),
        patch: 3,
    }),
    bare: None,
    summary: "P2M pool size in MiB",
};

/// `max_grant_version`.
pub static MAX_GRANT_VERSION: PropertySpec = PropertySpec {
    dt_name: "max_grant_version",
    kind: ValueKind::U32 { min: 1, max: 2 },
    since: v(18),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "highest grant table version (1 on Arm unless Xen runs with gnttab=max-ver:2)",
};

/// `max_grant_frames`.
pub static MAX_GRANT_FRAMES: PropertySpec = PropertySpec {
    dt_name: "max_grant_frames",
    kind: ValueKind::U32 {
        min: 1,
        max: i32::MAX as u32,
    },
    since: v(18),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "grant table frames (default 64)",
};

/// `max_maptrack_frames`.
pub static MAX_MAPTRACK_FRAMES: PropertySpec = PropertySpec {
    dt_name: "max_maptrack_frames",
    kind: ValueKind::U32 {
        min: 0,
        max: i32::MAX as u32,
    },
    since: v(18),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "maptrack frames (default 1024)",
};

/// `passthrough`.
pub static PASSTHROUGH: PropertySpec = PropertySpec {
    dt_name: "passthrough",
    kind: ValueKind::Str {
        allowed: &[choice("enabled", 19), choice("disabled", 19)],
    },
    since: v(19),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "`enabled` gives the guest an IOMMU context even without a passthrough DTB; `disabled` (the default without one) does not",
};

/// `llc-colors`.
pub static LLC_COLORS: PropertySpec = PropertySpec {
    dt_name: "llc-colors",
    kind: ValueKind::Str { allowed: &[] },
    since: v(20),
    required: false,
    requires: Some("CONFIG_LLC_COLORING"),
    backport: None,
    bare: None,
    summary: "LLC colors, e.g. `0-3,8`",
};

/// `capabilities`.
pub static CAPABILITIES: PropertySpec = PropertySpec {
    dt_name: "capabilities",
    kind: ValueKind::Capabilities,
    since: v(21),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "`control`, `hardware`, `xenstore` (joined by `,`), or the bitmask 0x1, 0x2, 0x4",
};

/// `trap-unmapped-accesses`.
pub static TRAP_UNMAPPED_ACCESSES: PropertySpec = PropertySpec {
    dt_name: "trap-unmapped-accesses",
    kind: ValueKind::U32 { min: 0, max: 1 },
    since: v(21),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "1 (default) traps accesses to unmapped MMIO (the guest gets a data abort); 0 lets them through: reads return all ones, writes are ignored",
};

/// `xen,sci_type`.
pub static XEN_SCI_TYPE: PropertySpec = PropertySpec {
    dt_name: "xen,sci_type",
    kind: ValueKind::Str {
        // 4.22 dom0less-build.c:domu_dt_sci_parse fails the domain
        // without CONFIG_SCMI_SMC; 4.21 ignores the property unless
        // CONFIG_ARM_SCI, which only SCMI_SMC selects.
        allowed: &[
            choice("none", 21),
            choice_needing("scmi_smc", 21, "CONFIG_SCMI_SMC"),
        ],
    },
    since: v(21),
    required: false,
    requires: None,
    backport: None,
    bare: None,
    summary: "firmware interface (`none`, `scmi_smc`)",
};

/// `sve`.
pub static SVE: PropertySpec = PropertySpec {
    dt_name: "sve",
    kind: ValueKind::SveBits,
    since: v(18),
    required: false,
    requires: Some("CONFIG_ARM64_SVE"),
    backport: None,
    bare: None,
    summary: "SVE vector length in bits (a multiple of 128 up to 2048, 0 disables); bare `sve` or `sve=max` asks for the hardware's largest",
};

/// `v8r_el1_msa`.
pub static V8R_EL1_MSA: PropertySpec = PropertySpec {
    dt_name: "v8r_el1_msa",
    kind: ValueKind::Str {
        allowed: &[choice("mpu", 22), choice("mmu", 22)],
    },
    since: v(22),
    required: false,
    requires: Some("CONFIG_MPU"),
    backport: None,
    bare: None,
    summary: "EL1 memory system of an Armv8-R guest; only MPU builds of Xen read it, and those have no EFI loader",
};

/// A cfg key that xencfg turns into linked DT structures (spec §1.4).
#[derive(Debug)]
pub struct StructureSpec {
    /// The key as written; `vcpu<N>-affinity` stands for `vcpu0-affinity`, …
    pub cfg_key: &'static str,
    /// What xencfg writes for it.
    pub writes: &'static str,
    pub since: XenVersion,
    pub requires: Option<&'static str>,
    /// The key may be given several times per guest.
    pub repeatable: bool,
    pub syntax: &'static str,
    pub summary: &'static str,
}

/// The structure keys of a guest.
pub static STRUCTURES: &[StructureSpec] = &[
    StructureSpec {
        cfg_key: "cpupool",
        writes: "`domain-cpupool` and a `/chosen` `xen,cpupool` node",
        since: v(17),
        requires: Some("CONFIG_BOOT_TIME_CPUPOOLS"),
        repeatable: false,
        syntax: "cpupool=NAME",
        summary: "run the guest in the boot-time cpupool described by the section `[NAME]` (`cpus=` host CPU node paths or MPIDR values, optional `sched=`)",
    },
    StructureSpec {
        cfg_key: "evtchn",
        writes: "a pair of `xen,evtchn-v1` nodes that reference each other",
        since: v(17),
        requires: Some("CONFIG_STATIC_EVTCHN"),
        repeatable: true,
        syntax: "evtchn=LOCAL-PORT PEER:PEER-PORT",
        summary: "a static event channel to another guest of the boot section, or to `dom0`",
    },
    StructureSpec {
        cfg_key: "shared-mem",
        writes: "a `xen,domain-shared-memory-v1` node",
        since: v(17),
        requires: Some("CONFIG_STATIC_SHM"),
        repeatable: true,
        syntax: "shared-mem=ID [host=ADDR] [guest=ADDR] size=SIZE [role=owner|borrower]",
        summary: "static shared memory with the other domains naming the same ID; an address left out is placed by xencfg (XC1032); in a boot section with dom0 (`kernel=`), dom0's side, written directly under `/chosen` (dom0 is mapped 1:1: its guest address is the host address)",
    },
    StructureSpec {
        cfg_key: "static-mem",
        writes: "`xen,static-mem` in `/chosen`'s cells (and `memory` when absent)",
        since: v(16),
        requires: Some("CONFIG_STATIC_MEMORY"),
        repeatable: false,
        syntax: "static-mem=[ADDR:]SIZE[,[ADDR:]SIZE...]",
        summary: "give the guest these host RAM ranges instead of heap memory; a size alone is placed by xencfg (XC1032)",
    },
    StructureSpec {
        cfg_key: "vcpu<N>-affinity",
        writes: "a `xen,vcpu` node with `id` and `hard-affinity`",
        since: v(21),
        requires: None,
        repeatable: false,
        syntax: "vcpu<N>-affinity=CPU-LIST",
        summary: "pin vCPU N to these physical CPUs (numbers and ranges, e.g. `0-3,6`)",
    },
];

/// The structure a cfg key describes (`vcpu2-affinity` →
/// `vcpu<N>-affinity`).
pub fn structure(key: &str) -> Option<&'static StructureSpec> {
    let key = if vcpu_affinity_index(key).is_some() {
        "vcpu<N>-affinity"
    } else {
        key
    };
    STRUCTURES.iter().find(|s| s.cfg_key == key)
}

/// N of a `vcpu<N>-affinity` key.
pub fn vcpu_affinity_index(key: &str) -> Option<u32> {
    let digits = key.strip_prefix("vcpu")?.strip_suffix("-affinity")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The largest `nr_spis` without extended SPIs: vgic.c:domain_vgic_init
/// rounds up to 32 and refuses more than 1020 - 32.
pub const NR_SPIS_MAX: u32 = 960;
/// With CONFIG_GICV3_ESPI (4.22), a rounded `nr_spis` + 32 from 4096 to
/// 5120 (ESPI_BASE_INTID + NR_ESPI_IRQS) asks for extended SPIs.
pub const ESPI_NR_SPIS_MIN: u32 = 4096 - 32 - 31;
pub const ESPI_NR_SPIS_MAX: u32 = 4096 + 1024 - 32;

/// The build option `dt_name = value` needs, if any.
pub fn value_requires(dt_name: &str, value: &str) -> Option<&'static str> {
    lookup(dt_name)?.value_requires(value)
}

/// The backport of `dt_name` to an older line, if any.
pub fn backport(dt_name: &str) -> Option<(XenVersion, u16)> {
    lookup(dt_name)?.backport.map(|b| (b.line, b.patch))
}

/// Whether `target` reads `spec`: `Some(false)` when it does not, `None`
/// when only a patch level xencfg does not know would tell.
pub fn reads(spec: &PropertySpec, target: &crate::target::Target) -> Option<bool> {
    if spec.since <= target.version {
        return Some(true);
    }
    match spec.backport {
        Some(b) if b.line <= target.version => target.at_least(b.line, b.patch),
        _ => Some(false),
    }
}

/// The property whose cfg key (or DT name) is `key`.
pub fn lookup(key: &str) -> Option<&'static PropertySpec> {
    PROPERTIES
        .iter()
        .find(|p| p.cfg_key() == key || p.dt_name == key)
        .copied()
}

/// The closest known property or structure key to `key`, for "did you
/// mean". The DT names of what structures write point to their cfg key.
pub fn suggest(key: &str) -> Option<&'static str> {
    match key {
        "xen,static-mem" => return Some("static-mem"),
        "domain-cpupool" => return Some("cpupool"),
        _ => {}
    }
    let structure_keys = STRUCTURES
        .iter()
        .map(|s| s.cfg_key)
        .filter(|k| !k.contains('<'));
    closest(
        key,
        PROPERTIES.iter().map(|p| p.cfg_key()).chain(structure_keys),
    )
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

    /// io.c:unmapped_read (4.21+) sets every bit of the access size.
    #[test]
    fn unmapped_reads_return_all_ones() {
        let summary = lookup("trap-unmapped-accesses").unwrap().summary;
        assert!(summary.contains("all ones"), "{summary}");
        assert!(!summary.contains("zero"), "{summary}");
    }

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
        assert_eq!(suggest("xen,static-mem"), Some("static-mem"));
        assert_eq!(suggest("evtchns"), Some("evtchn"));
    }

    #[test]
    fn finds_structure_keys() {
        assert_eq!(structure("evtchn").unwrap().cfg_key, "evtchn");
        assert_eq!(structure("vcpu12-affinity").unwrap().since, v(21));
        assert_eq!(vcpu_affinity_index("vcpu12-affinity"), Some(12));
        assert!(structure("vcpu-affinity").is_none());
        assert!(structure("vcpux-affinity").is_none());
        assert!(structure("vcpu99999999999-affinity").is_none());
    }

    #[test]
    fn requirements_name_known_build_options() {
        let choices = PROPERTIES.iter().flat_map(|p| match p.kind {
            ValueKind::Str { allowed } => allowed,
            _ => &[],
        });
        let requires = PROPERTIES
            .iter()
            .filter_map(|p| p.requires)
            .chain(choices.filter_map(|c| c.requires))
            .chain(STRUCTURES.iter().filter_map(|s| s.requires));
        for symbol in requires {
            assert!(
                crate::target::kconfig::option(symbol).is_some(),
                "{symbol} is not in target::kconfig::OPTIONS"
            );
        }
    }

    #[test]
    fn each_property_is_in_the_table_once() {
        for (i, p) in PROPERTIES.iter().enumerate() {
            assert!(
                PROPERTIES[..i].iter().all(|q| q.dt_name != p.dt_name),
                "{} is listed twice",
                p.dt_name
            );
        }
        assert_eq!(lookup("direct-map"), Some(&DIRECT_MAP));
        assert_eq!(
            value_requires("xen,sci_type", "scmi_smc"),
            Some("CONFIG_SCMI_SMC")
        );
        assert_eq!(value_requires("xen,sci_type", "none"), None);
        assert_eq!(backport("xen,domain-p2m-mem-mb"), Some((v(16), 3)));
    }

    #[test]
    fn values_are_never_older_than_their_property() {
        for p in PROPERTIES {
            if let ValueKind::Str { allowed } = p.kind {
                for c in allowed {
                    assert!(c.since >= p.since, "{}={}", p.dt_name, c.value);
                }
            }
        }
    }
}

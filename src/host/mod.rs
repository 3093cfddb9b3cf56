//! Facts about the host read from its device tree: RAM, the ranges Xen
//! keeps for itself, and the CPUs with the logical numbers Xen gives them.
//!
//! Under EFI Xen takes RAM from the firmware's memory map, never from the
//! DT memory nodes (reference §1.10.2). Those nodes are the best
//! description available before boot unless the user states the board's
//! RAM (`--host-ram`, [`HostRam`]); a node the bootloader fills in at boot
//! (size 0, or smaller than the modules) is a placeholder, and every
//! message says which figure it used ([`HostFacts::ram_source`]).

use crate::fdt::cells::{self, Cells, read_number};
use crate::fdt::{Fdt, Node};
use crate::range::{self, Range};

/// A range of host memory Xen keeps out of its heap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reserved {
    pub range: Range,
    /// What reserves it (`/reserved-memory/foo@…`, `/memreserve/`, …).
    pub what: String,
}

/// A CPU node of the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCpu {
    /// Its node path (`/cpus/cpu@1`).
    pub path: String,
    /// Its `reg`: the MPIDR affinity bits.
    pub mpidr: u64,
    /// The number Xen gives it: the boot CPU is 0, the others follow in DT
    /// order (smpboot.c:dt_smp_init_cpus).
    pub logical: u32,
}

/// The board's RAM as the user states it (`--host-ram`): its total, or
/// its ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostRam {
    /// `--host-ram 4G`: the total; where it lies is not said.
    Total(u64),
    /// `--host-ram 0x40000000:2G,0x880000000:2G`.
    Ranges(Vec<Range>),
}

impl std::str::FromStr for HostRam {
    type Err = String;

    fn from_str(text: &str) -> Result<HostRam, String> {
        use crate::binding::value::{parse_size, parse_u64};
        let bad = |e: String| {
            format!(
                "--host-ram `{text}`: {e} (expected a size, `4G`, or ADDR:SIZE ranges, `0x40000000:2G,0x880000000:2G`)"
            )
        };
        if !text.contains(':') {
            let size = parse_size(text, 0).map_err(bad)?;
            if size == 0 {
                return Err(bad("no RAM".to_string()));
            }
            return Ok(HostRam::Total(size));
        }
        let mut ranges = Vec::new();
        for part in text.split(',') {
            let (start, size) = part
                .split_once(':')
                .ok_or_else(|| bad(format!("`{part}` is not ADDR:SIZE")))?;
            let start = parse_u64(start.trim()).map_err(bad)?;
            let size = parse_size(size, 0).map_err(bad)?;
            if size == 0 || start.checked_add(size).is_none() {
                return Err(bad(format!("`{part}` is not a range")));
            }
            ranges.push(Range { start, size });
        }
        Ok(HostRam::Ranges(ranges))
    }
}

/// Where the RAM figures of [`HostFacts`] come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RamSource {
    /// The host DTB's memory nodes.
    #[default]
    MemoryNodes,
    /// `--host-ram`.
    Stated,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// `reg` of every `device_type = "memory"` node under the root (or the
    /// ranges of `--host-ram`).
    pub ram: Vec<Range>,
    /// `--host-ram SIZE`: the total, when only that is stated.
    pub stated_total: Option<u64>,
    pub ram_source: RamSource,
    /// Memory nodes whose `reg` has a zero size: placeholders the
    /// bootloader fills in at boot.
    pub empty_memory_nodes: Vec<String>,
    pub reserved: Vec<Reserved>,
    pub cpus: Vec<HostCpu>,
}

impl HostFacts {
    pub fn read(fdt: &Fdt) -> HostFacts {
        let root = &fdt.root;
        let root_cells = Cells::of(root);
        let mut facts = HostFacts::default();
        for node in &root.children {
            // Firmware fills in placeholder (zero-size) memory nodes at
            // boot; they say nothing about RAM.
            if node.property_strings("device_type").contains(&"memory") {
                let ranges = reg(node, root_cells);
                if ranges.iter().all(|r| r.size == 0) {
                    facts.empty_memory_nodes.push(format!("/{}", node.name));
                }
                facts.ram.extend(ranges.into_iter().filter(|r| r.size > 0));
            }
        }
        for r in &fdt.reservations {
            facts.reserved.push(Reserved {
                range: Range {
                    start: r.address,
                    size: r.size,
                },
                what: "/memreserve/".to_string(),
            });
        }
        if let Some(rm) = root.child("reserved-memory") {
            let rm_cells = Cells::of(rm);
            for child in &rm.children {
                for range in reg(child, rm_cells) {
                    facts.reserved.push(Reserved {
                        range,
                        what: format!("/reserved-memory/{}", child.name),
                    });
                }
            }
        }
        if let Some(chosen) = root.child("chosen") {
            // `xen,static-heap` is decoded with the root's cells (§2.3).
            let heap = chosen
                .property("xen,static-heap")
                .and_then(|p| cells::ranges(&p.value, root_cells))
                .unwrap_or_default();
            for range in heap {
                facts.reserved.push(Reserved {
                    range,
                    what: "/chosen xen,static-heap".to_string(),
                });
            }
        }
        facts.cpus = cpus(fdt);
        facts
    }

    /// The facts with the board's RAM as the user states it.
    pub fn with_stated_ram(mut self, stated: &HostRam) -> HostFacts {
        self.ram_source = RamSource::Stated;
        self.empty_memory_nodes.clear();
        match stated {
            HostRam::Total(size) => {
                self.ram.clear();
                self.stated_total = Some(*size);
            }
            HostRam::Ranges(ranges) => self.ram = ranges.clone(),
        }
        self
    }

    /// RAM in bytes (saturating).
    pub fn ram_total(&self) -> u64 {
        self.stated_total
            .unwrap_or_else(|| self.ram.iter().fold(0u64, |s, r| s.saturating_add(r.size)))
    }

    /// Whether the total RAM is known.
    pub fn knows_ram_total(&self) -> bool {
        self.stated_total.is_some() || !self.ram.is_empty()
    }

    /// Where the RAM figures come from, for messages.
    pub fn ram_source_note(&self) -> &'static str {
        match self.ram_source {
            RamSource::MemoryNodes => {
                "host RAM as the host DTB's memory nodes give it; Xen takes it from the EFI memory map instead, so state the board's with `--host-ram SIZE` if they differ"
            }
            RamSource::Stated => "host RAM as `--host-ram` states it",
        }
    }

    /// Bytes of RAM covered by reserved ranges (overlaps counted once).
    pub fn reserved_in_ram(&self) -> u64 {
        let pieces: Vec<Range> = self
            .reserved
            .iter()
            .flat_map(|r| self.ram.iter().filter_map(|ram| r.range.intersection(*ram)))
            .collect();
        range::union_size(&pieces)
    }

    /// Whether `range` lies in RAM; with only a stated total, not judged
    /// (true).
    /// The RAM ranges for messages: `0x40000000-0xc0000000, …`.
    pub fn ram_list(&self) -> String {
        let ranges: Vec<String> = self
            .ram
            .iter()
            .map(|r| format!("{:#x}-{:#x}", r.start, r.end()))
            .collect();
        ranges.join(", ")
    }

    pub fn in_ram(&self, range: Range) -> bool {
        if self.stated_total.is_some() {
            return true;
        }
        self.ram.iter().any(|r| r.contains(range))
    }

    pub fn cpu_by_path(&self, path: &str) -> Option<&HostCpu> {
        let path = path.trim_end_matches('/');
        self.cpus.iter().find(|c| c.path == path)
    }

    pub fn cpu_by_mpidr(&self, mpidr: u64) -> Option<&HostCpu> {
        self.cpus.iter().find(|c| c.mpidr == mpidr)
    }
}

/// A node's `reg`, decoded with its parent's cells.
fn reg(node: &Node, parent_cells: Cells) -> Vec<Range> {
    node.property("reg")
        .and_then(|p| cells::ranges(&p.value, parent_cells))
        .unwrap_or_default()
}

fn cpus(fdt: &Fdt) -> Vec<HostCpu> {
    let Some(cpus_node) = fdt.root.child("cpus") else {
        return Vec::new();
    };
    let ac = cpus_node.property_u32("#address-cells").unwrap_or(1);
    let mut out: Vec<HostCpu> = Vec::new();
    for node in &cpus_node.children {
        let is_cpu = node.property_strings("device_type").contains(&"cpu");
        let Some(reg) = node.property("reg") else {
            continue;
        };
        if !is_cpu || !(1..=2).contains(&ac) || reg.value.len() < 4 * ac as usize {
            continue;
        }
        out.push(HostCpu {
            path: format!("/cpus/{}", node.name),
            mpidr: read_number(&reg.value, 0, ac).unwrap_or(0),
            logical: 0,
        });
    }
    let boot = out
        .iter()
        .position(|c| c.mpidr == u64::from(fdt.boot_cpuid_phys))
        .unwrap_or(0);
    let mut next = 1;
    for (i, cpu) in out.iter_mut().enumerate() {
        if i == boot {
            cpu.logical = 0;
        } else {
            cpu.logical = next;
            next += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::{Reservation, value};

    fn host() -> Fdt {
        let mut root = Node::new("");
        root.set_property("#address-cells", value::u32(2));
        root.set_property("#size-cells", value::u32(2));
        let mut mem = Node::new("memory@40000000");
        mem.set_property("device_type", value::string("memory"));
        mem.set_property("reg", value::cells(&[0, 0x4000_0000, 0, 0x8000_0000]));
        root.children.push(mem);
        let mut cpus = Node::new("cpus");
        cpus.set_property("#address-cells", value::u32(1));
        cpus.set_property("#size-cells", value::u32(0));
        for id in [0x100u32, 0x0, 0x1] {
            let mut cpu = Node::new(format!("cpu@{id:x}"));
            cpu.set_property("device_type", value::string("cpu"));
            cpu.set_property("reg", value::u32(id));
            cpus.children.push(cpu);
        }
        root.children.push(cpus);
        let mut rm = Node::new("reserved-memory");
        rm.set_property("#address-cells", value::u32(2));
        rm.set_property("#size-cells", value::u32(2));
        let mut fw = Node::new("fw@50000000");
        fw.set_property("reg", value::cells(&[0, 0x5000_0000, 0, 0x10_0000]));
        rm.children.push(fw);
        root.children.push(rm);
        Fdt {
            boot_cpuid_phys: 0,
            reservations: vec![Reservation {
                address: 0x5000_0000,
                size: 0x20_0000,
            }],
            root,
        }
    }

    #[test]
    fn reads_ram_reserved_and_cpus() {
        let facts = HostFacts::read(&host());
        assert_eq!(
            facts.ram,
            [Range {
                start: 0x4000_0000,
                size: 0x8000_0000
            }]
        );
        assert_eq!(facts.reserved.len(), 2);
        // The two reservations overlap: counted once.
        assert_eq!(facts.reserved_in_ram(), 0x20_0000);
        let logical: Vec<(u64, u32)> = facts.cpus.iter().map(|c| (c.mpidr, c.logical)).collect();
        assert_eq!(logical, [(0x100, 1), (0, 0), (1, 2)]);
        assert_eq!(facts.cpu_by_path("/cpus/cpu@1").unwrap().mpidr, 1);
        assert!(facts.in_ram(Range {
            start: 0x4000_0000,
            size: 0x1000
        }));
        assert!(!facts.in_ram(Range {
            start: 0x3fff_f000,
            size: 0x2000
        }));
    }
}

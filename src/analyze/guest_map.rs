//! A dom0less guest's own physical address space as Xen lays it out on Arm
//! (xen/include/public/arch-arm.h, the same 4.16–4.22): its RAM in the two
//! guest RAM windows, and the devices Xen emulates below them. Placing a
//! guest's side of shared memory and checking it read the same layout.

use crate::binding;
use crate::fdt::Fdt;
use crate::model::Guest;
use crate::range::Range;

/// GUEST_RAM0: 3 GiB at 1 GiB.
pub const RAM0: Range = Range {
    start: 0x4000_0000,
    size: 3 << 30,
};
/// GUEST_RAM1: 1016 GiB at 8 GiB.
pub const RAM1: Range = Range {
    start: 0x2_0000_0000,
    size: 1016 << 30,
};

/// The guest's RAM in its own address space: the host ranges of a
/// direct-mapped guest, else its memory from the start of RAM0, the rest
/// in RAM1.
pub fn ram(guest: &Guest) -> Vec<Range> {
    if guest.property(&binding::DIRECT_MAP).is_some() {
        return guest
            .structures
            .static_mem
            .iter()
            .flat_map(|m| m.ranges().into_iter().map(|r| r.value))
            .collect();
    }
    let total = match &guest.structures.static_mem {
        Some(m) => m.total(),
        None => guest.memory_kib().unwrap_or(0).saturating_mul(1024),
    };
    let mut ram = vec![Range {
        start: RAM0.start,
        size: total.min(RAM0.size),
    }];
    if total > RAM0.size {
        ram.push(Range {
            start: RAM1.start,
            size: (total - RAM0.size).min(RAM1.size),
        });
    }
    ram
}

/// The devices Xen emulates for a guest that is not direct-mapped, named
/// for messages. A direct-mapped guest sees the host's layout instead.
pub fn devices(host_tree: Option<&Fdt>, guest: &Guest) -> Vec<(&'static str, Range)> {
    if guest.property(&binding::DIRECT_MAP).is_some() {
        return Vec::new();
    }
    let gic_v3 = host_tree.is_some_and(|t| has_compatible(&t.root, "arm,gic-v3"));
    let mut devices = vec![
        // GICD at 0x03001000; GICv3 redistributors up to 0x04020000.
        (
            "the vGIC",
            Range {
                start: 0x0300_1000,
                size: if gic_v3 { 0x0101_F000 } else { 0x3000 },
            },
        ),
        (
            "the grant table",
            Range {
                start: 0x3800_0000,
                size: 0x0100_0000,
            },
        ),
        (
            "the magic pages",
            Range {
                start: 0x3900_0000,
                size: 0x0100_0000,
            },
        ),
    ];
    if guest.property(&binding::VPL011).is_some() {
        devices.push((
            "the vPL011",
            Range {
                start: 0x2200_0000,
                size: 0x1000,
            },
        ));
    }
    devices
}

fn has_compatible(node: &crate::fdt::Node, compatible: &str) -> bool {
    node.is_compatible(compatible) || node.children.iter().any(|c| has_compatible(c, compatible))
}

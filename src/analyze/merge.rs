//! The merged host DTB of one boot section (spec §2).
//!
//! The host tree is kept whole (every node, property, reservation and
//! `boot_cpuid_phys`); xencfg only adds to `/chosen`: explicit cells, and one
//! `xen,domain` node per guest in domid order with its module children.
//! Modules carry `xen,uefi-binary` so Xen's EFI stub loads them and writes
//! their `reg` itself: no load address is ever computed here.

use super::resolve::Links;
use crate::fdt::{Fdt, Node, Property, value};
use crate::host::HostFacts;
use crate::model::structures::CpuPool;
use crate::model::{BootSection, Guest, Module};
use crate::target::Target;

/// Room left in the blob for the EFI stub's in-place edits (reference
/// §1.10.2): `xen,xen-bootargs` (up to 4 KiB), the cfg module nodes, a `reg`
/// per module and the longer `module@<addr>` names. Xen itself adds the cfg
/// size plus 4 KiB; this is on top, so a long command line never runs out.
pub fn padding_for(section: &BootSection) -> usize {
    let modules = section.modules().count();
    8192 + 128 * modules
}

/// Add the section's guests (and the cpupools, event channels and other
/// structures they link to) to a copy of the host tree.
/// `facts` are the host tree's (its CPUs, for the cpupools).
pub fn merge(
    host: &Fdt,
    facts: &HostFacts,
    links: &Links,
    section: &BootSection,
    pools: &[CpuPool],
    target: &Target,
) -> Fdt {
    let mut fdt = host.clone();
    let root = &mut fdt.root;
    if root.child("chosen").is_none() {
        root.children.push(Node::new("chosen"));
    }
    let Some(chosen) = root.child_mut("chosen") else {
        unreachable!("/chosen was just ensured");
    };
    // Explicit cells: the EFI stub would default them to 2/2 anyway, and
    // module `reg`s above 4 GiB need 2 address cells (reference §1.10.4).
    // What the host's own children say in other cells is re-encoded, so
    // that it keeps its meaning.
    reencode_children(chosen);
    chosen.set_property("#address-cells", value::u32(2));
    chosen.set_property("#size-cells", value::u32(2));
    // The stub adds an empty `ranges` itself; writing it here too keeps the
    // blob as Xen will see it and tells dtc the cells are meant.
    if chosen.property("ranges").is_none() {
        chosen.set_property("ranges", Vec::new());
    }
    for guest in &section.guests {
        chosen.children.push(domain_node(guest));
    }
    super::structures_dt::add(&mut fdt, section, pools, facts, links, target);
    fdt
}

/// Properties of `/chosen`'s children that Xen decodes with `/chosen`'s
/// cells, as (name, layout): `reg` of any child (a dom0 module, a
/// framebuffer), `xen,static-mem` of a domain node (4.17+, reference
/// §2.2). `A` is an address, `S` a size.
const CHOSEN_CELL_PROPERTIES: &[(&str, &[Cell])] = &[
    ("reg", &[Cell::A, Cell::S]),
    ("xen,static-mem", &[Cell::A, Cell::S]),
];

#[derive(Clone, Copy)]
enum Cell {
    A,
    S,
}

/// Re-encode what `/chosen`'s children say in `/chosen`'s own cells into
/// 2/2, the cells xencfg writes. A host `/chosen` with
/// `#address-cells = <1>` and a `framebuffer@…` child with `reg` would
/// otherwise have that `reg` read with the wrong cells. The stub gives a
/// `/chosen` without cells 2/2 itself, so only explicit other values
/// change anything. A value that is not whole entries is left as it is.
fn reencode_children(chosen: &mut Node) {
    let cells = |name: &str| chosen.property_u32(name).unwrap_or(2);
    let from = (cells("#address-cells"), cells("#size-cells"));
    if from == (2, 2) || !(1..=2).contains(&from.0) || !(1..=2).contains(&from.1) {
        return;
    }
    for child in &mut chosen.children {
        for (name, layout) in CHOSEN_CELL_PROPERTIES {
            let Some(p) = child.properties.iter_mut().find(|p| p.name == *name) else {
                continue;
            };
            if let Some(bytes) = reencode(&p.value, layout, from) {
                p.value = bytes;
            }
        }
    }
}

fn reencode(value: &[u8], layout: &[Cell], (address, size): (u32, u32)) -> Option<Vec<u8>> {
    let width = |c: &Cell| match c {
        Cell::A => address as usize * 4,
        Cell::S => size as usize * 4,
    };
    let entry: usize = layout.iter().map(width).sum();
    let entries = value.chunks_exact(entry);
    if value.is_empty() || !entries.remainder().is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(value.len() / entry * 16);
    for mut rest in entries {
        for cell in layout {
            let (number, tail) = rest.split_at(width(cell));
            let n = number.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
            out.extend(n.to_be_bytes());
            rest = tail;
        }
    }
    Some(out)
}

fn domain_node(guest: &Guest) -> Node {
    let mut node = Node::new(guest.name.clone());
    node.set_property("compatible", value::string("xen,domain"));
    node.set_property("#address-cells", value::u32(2));
    node.set_property("#size-cells", value::u32(2));
    // Module `reg`s appear only once the stub has loaded them; an empty
    // `ranges` says the cells are deliberate (Xen ignores it on domain nodes).
    node.set_property("ranges", Vec::new());
    // A user-given `#address-cells`/`#size-cells` replaces the default in
    // place, keeping the cell properties first. Guest properties are
    // unique, so only the defaults need a lookup (thousands of properties
    // must not cost a scan each).
    let defaults = node.properties.len();
    for p in &guest.properties {
        let default = node.properties[..defaults]
            .iter_mut()
            .find(|q| q.name == p.dt_name);
        match default {
            Some(q) => q.value = p.value.encode(),
            None => node.properties.push(Property {
                name: p.dt_name.clone(),
                value: p.value.encode(),
            }),
        }
    }
    let modules = [
        ("kernel", &guest.kernel),
        ("ramdisk", &guest.ramdisk),
        ("device-tree", &guest.dtb),
    ];
    for (name, module) in modules {
        if let Some(m) = module {
            node.children.push(module_node(name, m));
        }
    }
    node
}

fn module_node(name: &str, module: &Module) -> Node {
    let mut node = Node::new(name);
    node.set_property(
        "compatible",
        value::strings(&[module.role.dt_compatible(), "multiboot,module"]),
    );
    node.set_property(
        "xen,uefi-binary",
        value::string(&module.path.to_efi_string()),
    );
    if let Some(args) = module.bootargs.as_deref().filter(|a| !a.is_empty()) {
        node.set_property("bootargs", value::string(args));
    }
    node
}

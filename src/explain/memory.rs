//! The host memory map `xencfg explain --memory` prints: every address
//! range the host DTB and the guests claim, labelled with its owner, with
//! overlaps marked.
//!
//! Ranges come from the merged tree of a boot section (what Xen reads) and
//! the guests' passthrough fragments:
//! - RAM: depth-1 nodes with `device_type = "memory"` (root cells);
//! - `/memreserve/` entries;
//! - `/reserved-memory` children with a `reg` (that node's cells); children
//!   with only a `size` are dynamic and listed apart;
//! - `/chosen` `xen,static-heap` (root cells);
//! - each domain's `xen,static-mem` (`/chosen`'s cells, 4.17+; the domain's
//!   `#xen,static-mem-*-cells` on 4.16), reference §2.4;
//! - static shared memory nodes (`xen,shared-mem`, the parent's cells);
//! - MMIO passed through to guests (`xen,reg` host ranges in `/passthrough`
//!   of each guest's fragment, `/passthrough`'s cells, reference §3.6).
//!
//! Modules loaded by the EFI stub are placed by the firmware and have no
//! address before boot: the map shows the areas where the firmware will
//! likely put them (`analyze::placement`), added by the caller.

use crate::fdt::cells::whole_number;
use crate::fdt::{Fdt, Node};
use crate::range::Range;
use crate::target::XenVersion;
use std::fmt::Write;

/// What a range is, which decides how an overlap is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Ram,
    MemReserve,
    Reserved,
    StaticHeap,
    StaticMem,
    SharedMem,
    Mmio,
    /// Where the firmware will likely load Xen and its modules, or keep
    /// its own data (`analyze::placement`): a prediction, not a claim in
    /// the tree.
    Firmware,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ram => "RAM",
            Kind::MemReserve => "/memreserve/",
            Kind::Reserved => "reserved-memory",
            Kind::StaticHeap => "Xen static heap",
            Kind::StaticMem => "static memory",
            Kind::SharedMem => "shared memory",
            Kind::Mmio => "passthrough MMIO",
            Kind::Firmware => "firmware (likely)",
        }
    }

    /// Ranges that must lie in RAM to work (reference §2.7, §3.7).
    fn needs_ram(self) -> bool {
        matches!(self, Kind::StaticHeap | Kind::StaticMem | Kind::SharedMem)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub size: u64,
    pub kind: Kind,
    /// Who claims it: a node path, a guest, a `/memreserve/` entry.
    pub owner: String,
    /// The `xen,shm-id` of a shared-memory range: every domain sharing a
    /// region lists the same range under the same id, which is no overlap.
    pub shm_id: Option<String>,
    /// The domain whose address space the range also appears in (static
    /// memory, shared memory, passthrough MMIO), and where, when known.
    pub domain: Option<String>,
    pub guest_address: Option<u64>,
}

impl Region {
    /// One past the last byte, saturating at the top of the address space.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }

    fn range(&self) -> Range {
        Range::new(self.start, self.size)
    }

    fn overlaps(&self, other: &Region) -> bool {
        self.range().overlaps(other.range())
    }

    fn contained_in(&self, other: &Region) -> bool {
        other.range().contains(self.range())
    }
}

/// A guest's passthrough DTB fragment, parsed.
pub struct Fragment<'a> {
    pub guest: &'a str,
    pub tree: &'a Fdt,
}

/// Everything the map shows for one boot section.
#[derive(Default)]
pub struct MemoryMap {
    pub regions: Vec<Region>,
    /// Ranges with a size but no fixed address (dynamic reserved memory,
    /// shared memory whose host address Xen picks).
    pub unplaced: Vec<String>,
    /// Properties whose value could not be decoded.
    pub undecodable: Vec<String>,
}

/// Collect the map from a merged tree and the guests' fragments.
pub fn collect(tree: &Fdt, fragments: &[Fragment], version: XenVersion) -> MemoryMap {
    let mut map = MemoryMap::default();
    let (root_ac, root_sc) = cells(&tree.root, (2, 1));

    for child in &tree.root.children {
        if child.property_strings("device_type").contains(&"memory") {
            map.add_reg(
                child,
                &format!("/{}", child.name),
                "reg",
                (root_ac, root_sc),
                Kind::Ram,
                "",
            );
        }
    }
    for (i, r) in tree.reservations.iter().enumerate() {
        map.regions.push(Region {
            start: r.address,
            size: r.size,
            kind: Kind::MemReserve,
            owner: format!("entry {i} (Xen's EFI stub deletes /memreserve/ entries)"),
            shm_id: None,
            domain: None,
            guest_address: None,
        });
    }
    if let Some(reserved) = tree.root.child("reserved-memory") {
        let own = cells(reserved, (root_ac, root_sc));
        for child in &reserved.children {
            let path = format!("/reserved-memory/{}", child.name);
            let no_map = if child.property("no-map").is_some() {
                " (no-map)"
            } else {
                ""
            };
            if child.property("reg").is_some() {
                map.add_reg(child, &path, "reg", own, Kind::Reserved, no_map);
            } else if let Some(size) = child.property("size") {
                let size = whole_number(&size.value, own.1)
                    .map(format_size)
                    .unwrap_or_else(|| "an undecodable size".into());
                map.unplaced
                    .push(format!("{path}: {size} placed by the OS at boot{no_map}"));
            }
        }
    }
    if let Some(chosen) = tree.root.child("chosen") {
        map.add_reg(
            chosen,
            "/chosen",
            "xen,static-heap",
            (root_ac, root_sc),
            Kind::StaticHeap,
            "",
        );
        let chosen_cells = cells(chosen, (root_ac, root_sc));
        map.shared_memory(chosen, "/chosen", "dom0", chosen_cells);
        for domain in chosen
            .children
            .iter()
            .filter(|n| n.is_compatible("xen,domain"))
        {
            let path = format!("/chosen/{}", domain.name);
            let static_cells = if version >= XenVersion::new(4, 17) {
                chosen_cells
            } else {
                (
                    domain
                        .property_u32("#xen,static-mem-address-cells")
                        .unwrap_or(0),
                    domain
                        .property_u32("#xen,static-mem-size-cells")
                        .unwrap_or(0),
                )
            };
            let owner = format!("guest {}", domain.name);
            let first = map.regions.len();
            map.add_reg_owned(
                domain,
                &path,
                "xen,static-mem",
                static_cells,
                Kind::StaticMem,
                &owner,
            );
            // A direct-mapped guest sees its static memory at the host
            // address; otherwise Xen maps it into the guest's RAM banks.
            let direct = domain.property("direct-map").is_some();
            for r in &mut map.regions[first..] {
                r.domain = Some(domain.name.clone());
                r.guest_address = direct.then_some(r.start);
            }
            let domain_cells = cells(domain, chosen_cells);
            map.shared_memory(domain, &path, &domain.name, domain_cells);
        }
    }
    for fragment in fragments {
        map.passthrough(fragment);
    }
    map.regions.sort_by_key(|r| (r.start, r.kind, r.end()));
    map
}

/// A node's `#address-cells`/`#size-cells`, else `inherited`.
fn cells(node: &Node, inherited: (u32, u32)) -> (u32, u32) {
    (
        node.property_u32("#address-cells").unwrap_or(inherited.0),
        node.property_u32("#size-cells").unwrap_or(inherited.1),
    )
}

/// A property of tuples of numbers, each of the given cell counts.
fn tuples(bytes: &[u8], counts: &[u32]) -> Option<Vec<Vec<u64>>> {
    if counts.iter().any(|c| !(1..=2).contains(c)) {
        return None;
    }
    let width: usize = counts.iter().map(|c| *c as usize * 4).sum();
    if bytes.is_empty() || width == 0 || bytes.len() % width != 0 {
        return None;
    }
    bytes
        .chunks(width)
        .map(|tuple| {
            let mut at = 0;
            counts
                .iter()
                .map(|&c| {
                    let n = c as usize * 4;
                    let v = whole_number(tuple.get(at..at + n)?, c);
                    at += n;
                    v
                })
                .collect()
        })
        .collect()
}

impl MemoryMap {
    fn add_reg(
        &mut self,
        node: &Node,
        path: &str,
        property: &str,
        (ac, sc): (u32, u32),
        kind: Kind,
        suffix: &str,
    ) {
        let owner = if property == "reg" {
            format!("{path}{suffix}")
        } else {
            format!("{path} {property}{suffix}")
        };
        self.add_reg_owned(node, path, property, (ac, sc), kind, &owner);
    }

    fn add_reg_owned(
        &mut self,
        node: &Node,
        path: &str,
        property: &str,
        (ac, sc): (u32, u32),
        kind: Kind,
        owner: &str,
    ) {
        let Some(p) = node.property(property) else {
            return;
        };
        match tuples(&p.value, &[ac, sc]) {
            Some(list) => {
                for t in list {
                    self.regions.push(Region {
                        start: t[0],
                        size: t[1],
                        kind,
                        owner: owner.to_string(),
                        shm_id: None,
                        domain: None,
                        guest_address: None,
                    });
                }
            }
            None => self.undecodable.push(format!(
                "{path}: `{property}` ({} bytes) is not a list of <{ac} address cells, {sc} size cells>",
                p.value.len()
            )),
        }
    }

    /// `xen,domain-shared-memory-v1` children of `parent` (reference §2.7):
    /// `xen,shared-mem = <host guest size>` or, 4.19+, `<guest size>`.
    fn shared_memory(&mut self, parent: &Node, path: &str, domain: &str, (ac, sc): (u32, u32)) {
        for shm in parent
            .children
            .iter()
            .filter(|n| n.is_compatible("xen,domain-shared-memory-v1"))
        {
            let Some(p) = shm.property("xen,shared-mem") else {
                continue;
            };
            let id = shm
                .property_strings("xen,shm-id")
                .first()
                .map(|s| format!("`{s}`"))
                .unwrap_or_else(|| "without id".into());
            let role = shm
                .property_strings("role")
                .first()
                .map(|r| format!(", {r}"))
                .unwrap_or_default();
            let node_path = format!("{path}/{}", shm.name);
            if let Some(list) = tuples(&p.value, &[ac, ac, sc]) {
                for t in list {
                    self.regions.push(Region {
                        start: t[0],
                        size: t[2],
                        kind: Kind::SharedMem,
                        owner: format!(
                            "{id} of {domain}{role}, guest address {:#x} ({node_path})",
                            t[1]
                        ),
                        shm_id: shm
                            .property_strings("xen,shm-id")
                            .first()
                            .map(|s| s.to_string()),
                        domain: Some(domain.to_string()),
                        guest_address: Some(t[1]),
                    });
                }
            } else if let Some(list) = tuples(&p.value, &[ac, sc]) {
                for t in list {
                    self.unplaced.push(format!(
                        "{node_path}: shared memory {id} of {domain}{role}, {} at guest address {:#x}, host address chosen by Xen",
                        format_size(t[1]),
                        t[0]
                    ));
                }
            } else {
                self.undecodable.push(format!(
                    "{node_path}: `xen,shared-mem` ({} bytes) does not match <{ac} {ac} {sc}> cells",
                    p.value.len()
                ));
            }
        }
    }

    /// Host ranges of `xen,reg` under a fragment's `/passthrough`.
    fn passthrough(&mut self, fragment: &Fragment) {
        let Some(pt) = fragment.tree.root.child("passthrough") else {
            return;
        };
        let (ac, sc) = cells(pt, (2, 1));
        let mut stack: Vec<(String, &Node)> = pt
            .children
            .iter()
            .rev()
            .map(|c| (format!("/passthrough/{}", c.name), c))
            .collect();
        while let Some((path, node)) = stack.pop() {
            if let Some(p) = node.property("xen,reg") {
                match tuples(&p.value, &[ac, sc, ac]) {
                    Some(list) => {
                        for t in list {
                            self.regions.push(Region {
                                start: t[0],
                                size: t[1],
                                kind: Kind::Mmio,
                                owner: format!(
                                    "guest {}: {path}, guest address {:#x}",
                                    fragment.guest, t[2]
                                ),
                                shm_id: None,
                                domain: Some(fragment.guest.to_string()),
                                guest_address: Some(t[2]),
                            });
                        }
                    }
                    None => self.undecodable.push(format!(
                        "guest {}: {path}: `xen,reg` ({} bytes) is not a list of <{ac} {sc} {ac}> cells",
                        fragment.guest,
                        p.value.len()
                    )),
                }
            }
            stack.extend(
                node.children
                    .iter()
                    .rev()
                    .map(|c| (format!("{path}/{}", c.name), c)),
            );
        }
    }

    /// What is wrong with region `i`: overlaps with other claims, ranges
    /// that must be RAM but are not, MMIO that is RAM.
    pub fn findings(&self, i: usize) -> Vec<String> {
        let r = &self.regions[i];
        let mut out = Vec::new();
        let ram = self.regions.iter().filter(|x| x.kind == Kind::Ram);
        // Past a few, more overlaps are counted, not listed: 4000 copies of
        // one /memreserve/ would otherwise print 16 million lines.
        let mut unlisted = 0usize;
        for (j, other) in self.regions.iter().enumerate() {
            if i == j || !r.overlaps(other) {
                continue;
            }
            let reportable = self.conflict(i, j);
            if reportable && out.len() < MAX_OVERLAPS_LISTED {
                out.push(format!("overlaps {} {}", other.kind.label(), other.owner));
            } else if reportable {
                unlisted += 1;
            }
        }
        if unlisted > 0 {
            out.push(format!("and overlaps {unlisted} more claims"));
        }
        if r.kind.needs_ram() && !ram.clone().any(|m| r.contained_in(m)) {
            out.push("not inside the RAM of the host DTB".into());
        }
        if r.kind == Kind::Mmio && ram.clone().any(|m| r.overlaps(m)) {
            out.push("lies in RAM, not device memory".into());
        }
        out
    }

    /// Whether regions `i` and `j` overlap in a way that is a problem
    /// (RAM holds the other claims; a shared region is named by each
    /// domain that shares it).
    pub fn conflict(&self, i: usize, j: usize) -> bool {
        let (r, other) = (&self.regions[i], &self.regions[j]);
        if i == j || !r.overlaps(other) {
            return false;
        }
        match (r.kind, other.kind) {
            (Kind::Ram, Kind::Ram) => true,
            (Kind::Ram, _) | (_, Kind::Ram) => false,
            // A /memreserve/ and a reserved-memory node commonly
            // describe the same firmware range.
            (Kind::MemReserve, Kind::Reserved) | (Kind::Reserved, Kind::MemReserve) => {
                !(r.contained_in(other) || other.contained_in(r))
            }
            // The firmware's own reservations are what it keeps there.
            (Kind::Firmware, Kind::MemReserve | Kind::Reserved | Kind::Firmware)
            | (Kind::MemReserve | Kind::Reserved, Kind::Firmware) => false,
            // Domains sharing one region each name the same range.
            (Kind::SharedMem, Kind::SharedMem) => {
                r.shm_id.is_none()
                    || r.shm_id != other.shm_id
                    || (r.start, r.size) != (other.start, other.size)
            }
            _ => true,
        }
    }

    /// The number of regions with a finding.
    pub fn problem_count(&self) -> usize {
        (0..self.regions.len())
            .filter(|&i| !self.findings(i).is_empty())
            .count()
    }

    /// The map as text, each line starting with `indent`.
    pub fn render(&self, indent: &str) -> String {
        let mut out = String::new();
        if self.regions.is_empty() {
            let _ = writeln!(out, "{indent}no address ranges");
        }
        for (i, r) in self.regions.iter().enumerate() {
            let findings = self.findings(i);
            let last = r.end().saturating_sub(1).max(r.start);
            let _ = writeln!(
                out,
                "{indent}{} {:#018x}-{:#018x} {:>9}  {:<17} {}",
                if findings.is_empty() { ' ' } else { '!' },
                r.start,
                last,
                format_size(r.size),
                r.kind.label(),
                r.owner
            );
            for f in findings {
                let _ = writeln!(out, "{indent}    ^ {f}");
            }
        }
        for u in &self.unplaced {
            let _ = writeln!(out, "{indent}  (no fixed address) {u}");
        }
        for u in &self.undecodable {
            let _ = writeln!(out, "{indent}  (cannot decode) {u}");
        }
        out
    }
}

/// Overlaps listed under one region; the rest are counted.
const MAX_OVERLAPS_LISTED: usize = 5;

/// A byte count in the largest binary unit that divides it exactly.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u32); 5] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10), ("B", 0)];
    if bytes == 0 {
        return "0 B".into();
    }
    for (unit, shift) in UNITS {
        if bytes.trailing_zeros() >= shift && bytes >> shift > 0 {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::{Fdt, Node, Reservation, value};

    fn node(name: &str, props: &[(&str, Vec<u8>)], children: Vec<Node>) -> Node {
        let mut n = Node::new(name);
        for (k, v) in props {
            n.set_property(k, v.clone());
        }
        n.children = children;
        n
    }

    fn tree(children: Vec<Node>, reservations: Vec<Reservation>) -> Fdt {
        Fdt {
            boot_cpuid_phys: 0,
            reservations,
            root: node(
                "",
                &[
                    ("#address-cells", value::u32(2)),
                    ("#size-cells", value::u32(2)),
                ],
                children,
            ),
        }
    }

    fn memory() -> Node {
        node(
            "memory@40000000",
            &[
                ("device_type", value::string("memory")),
                ("reg", value::cells(&[0, 0x4000_0000, 0, 0x8000_0000])),
            ],
            vec![],
        )
    }

    #[test]
    fn sizes_use_the_largest_exact_unit() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1 << 30), "1 GiB");
        assert_eq!(format_size(768 << 20), "768 MiB");
        assert_eq!(format_size(0x10000), "64 KiB");
        assert_eq!(format_size(1536), "1536 B");
        assert_eq!(format_size(4097), "4097 B");
    }

    #[test]
    fn reads_ram_reservations_and_reserved_memory() {
        let reserved = node(
            "reserved-memory",
            &[
                ("#address-cells", value::u32(2)),
                ("#size-cells", value::u32(2)),
                ("ranges", vec![]),
            ],
            vec![
                node(
                    "fw@40400000",
                    &[
                        ("reg", value::cells(&[0, 0x4040_0000, 0, 0x100_0000])),
                        ("no-map", vec![]),
                    ],
                    vec![],
                ),
                node("cma", &[("size", value::cells(&[0, 0x400_0000]))], vec![]),
            ],
        );
        let t = tree(
            vec![memory(), reserved],
            vec![Reservation {
                address: 0x4800_0000,
                size: 0x1_0000,
            }],
        );
        let map = collect(&t, &[], XenVersion::NEWEST);
        let kinds: Vec<Kind> = map.regions.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [Kind::Ram, Kind::Reserved, Kind::MemReserve]);
        assert_eq!(
            map.regions[1].owner,
            "/reserved-memory/fw@40400000 (no-map)"
        );
        assert_eq!(map.unplaced.len(), 1, "{:?}", map.unplaced);
        assert!(map.unplaced[0].contains("64 MiB"));
        assert_eq!(map.problem_count(), 0, "{}", map.render(""));
    }

    #[test]
    fn marks_static_memory_overlapping_a_reservation_and_outside_ram() {
        let guest = node(
            "vm1",
            &[
                ("compatible", value::string("xen,domain")),
                (
                    "xen,static-mem",
                    value::cells(&[0, 0x4040_0000, 0, 0x1000_0000, 0x1, 0, 0, 0x1000_0000]),
                ),
            ],
            vec![],
        );
        let chosen = node(
            "chosen",
            &[
                ("#address-cells", value::u32(2)),
                ("#size-cells", value::u32(2)),
            ],
            vec![guest],
        );
        let reserved = node(
            "reserved-memory",
            &[],
            vec![node(
                "fw@40400000",
                &[("reg", value::cells(&[0, 0x4040_0000, 0, 0x100_0000]))],
                vec![],
            )],
        );
        let map = collect(
            &tree(vec![memory(), reserved, chosen], vec![]),
            &[],
            XenVersion::NEWEST,
        );
        let text = map.render("");
        assert_eq!(map.problem_count(), 3, "{text}");
        assert!(
            text.contains("^ overlaps static memory guest vm1"),
            "{text}"
        );
        assert!(
            text.contains("^ overlaps reserved-memory /reserved-memory/fw@40400000"),
            "{text}"
        );
        assert!(
            text.contains("^ not inside the RAM of the host DTB"),
            "{text}"
        );
    }

    #[test]
    fn domains_sharing_one_region_do_not_overlap() {
        let shm = |id: &str, host: u32, role: &str| {
            node(
                "shared-mem-0",
                &[
                    ("compatible", value::string("xen,domain-shared-memory-v1")),
                    ("role", value::string(role)),
                    ("xen,shm-id", value::string(id)),
                    (
                        "xen,shared-mem",
                        value::cells(&[0, host, 0, 0x6000_0000, 0, 0x10_0000]),
                    ),
                ],
                vec![],
            )
        };
        let guest = |name: &str, child: Node| {
            node(
                name,
                &[
                    ("compatible", value::string("xen,domain")),
                    ("#address-cells", value::u32(2)),
                    ("#size-cells", value::u32(2)),
                ],
                vec![child],
            )
        };
        let chosen = node(
            "chosen",
            &[
                ("#address-cells", value::u32(2)),
                ("#size-cells", value::u32(2)),
            ],
            vec![
                guest("a", shm("buf", 0x7000_0000, "owner")),
                guest("b", shm("buf", 0x7000_0000, "borrower")),
                guest("c", shm("other", 0x7008_0000, "owner")),
            ],
        );
        let map = collect(
            &tree(vec![memory(), chosen], vec![]),
            &[],
            XenVersion::NEWEST,
        );
        let text = map.render("");
        // `buf` twice is one region; `other` overlaps both of its entries.
        assert_eq!(map.problem_count(), 3, "{text}");
        // Only `other` overlaps `buf`'s two entries (and is overlapped by them).
        assert_eq!(
            text.matches("^ overlaps shared memory `buf`").count(),
            2,
            "{text}"
        );
        assert_eq!(
            text.matches("^ overlaps shared memory `other`").count(),
            2,
            "{text}"
        );
    }

    #[test]
    fn static_memory_on_4_16_uses_the_domain_cells() {
        let guest = node(
            "vm1",
            &[
                ("compatible", value::string("xen,domain")),
                ("#xen,static-mem-address-cells", value::u32(1)),
                ("#xen,static-mem-size-cells", value::u32(1)),
                ("xen,static-mem", value::cells(&[0x5000_0000, 0x1000_0000])),
            ],
            vec![],
        );
        let chosen = node("chosen", &[], vec![guest]);
        let t = tree(vec![memory(), chosen], vec![]);
        let old = collect(&t, &[], XenVersion::new(4, 16));
        assert_eq!(old.regions.len(), 2);
        assert_eq!(old.regions[1].start, 0x5000_0000);
        // 4.17+ reads it with /chosen's cells (2/2 inherited): undecodable.
        let new = collect(&t, &[], XenVersion::new(4, 17));
        assert_eq!(new.regions.len(), 1);
        assert_eq!(new.undecodable.len(), 1, "{:?}", new.undecodable);
    }

    #[test]
    fn passthrough_mmio_in_ram_is_marked() {
        let fragment_tree = tree(
            vec![node(
                "passthrough",
                &[
                    ("#address-cells", value::u32(2)),
                    ("#size-cells", value::u32(2)),
                ],
                vec![node(
                    "rtc@9010000",
                    &[(
                        "xen,reg",
                        value::cells(&[0, 0x4000_0000, 0, 0x1000, 0, 0x9010000]),
                    )],
                    vec![],
                )],
            )],
            vec![],
        );
        let fragments = [Fragment {
            guest: "g",
            tree: &fragment_tree,
        }];
        let map = collect(
            &tree(vec![memory()], vec![]),
            &fragments,
            XenVersion::NEWEST,
        );
        let text = map.render("");
        assert!(
            text.contains("guest g: /passthrough/rtc@9010000, guest address 0x9010000"),
            "{text}"
        );
        assert!(text.contains("^ lies in RAM"), "{text}");
    }
}

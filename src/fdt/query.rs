//! Reading a tree the way a kernel (or Xen) does: paths, cell counts,
//! `reg` decoded and translated to CPU addresses through the parents'
//! `ranges`, phandles and interrupt parents.
//!
//! [`super::Node`] has no parent links, so every query that needs the
//! parents walks down from the root and works on the [`Ancestry`] of a node.

use super::cells::{Cells, cells_of, read_number};
use super::{Fdt, Node, string_list};
use crate::range::Range;
use std::collections::BTreeMap;

/// The size of a page as Xen maps MMIO (4 KiB).
pub const PAGE_SIZE: u64 = 4096;

/// A node with every node above it, root first.
#[derive(Clone, Debug)]
pub struct Ancestry<'a> {
    /// `chain[0]` is the root, the last entry the node itself.
    pub chain: Vec<&'a Node>,
    /// The node's absolute path as the names are spelt in the tree.
    pub path: String,
}

impl<'a> Ancestry<'a> {
    pub fn node(&self) -> &'a Node {
        self.chain[self.chain.len() - 1]
    }

    /// The parent, or `None` for the root.
    pub fn parent(&self) -> Option<&'a Node> {
        self.chain.len().checked_sub(2).map(|i| self.chain[i])
    }
}

/// Find a node by absolute path. With `ignore_case`, names compare
/// case-insensitively, as Xen's `dt_find_node_by_path` compares them.
pub fn find<'a>(fdt: &'a Fdt, path: &str, ignore_case: bool) -> Option<Ancestry<'a>> {
    if !path.starts_with('/') {
        return None;
    }
    let mut chain = vec![&fdt.root];
    let mut spelt = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let node = chain[chain.len() - 1];
        let child = node.children.iter().find(|c| c.name == part).or_else(|| {
            ignore_case
                .then(|| {
                    node.children
                        .iter()
                        .find(|c| c.name.eq_ignore_ascii_case(part))
                })
                .flatten()
        })?;
        spelt.push('/');
        spelt.push_str(&child.name);
        chain.push(child);
    }
    if spelt.is_empty() {
        spelt.push('/');
    }
    Some(Ancestry { chain, path: spelt })
}

/// Every node in depth-first order with its absolute path.
pub fn walk(fdt: &Fdt) -> Vec<(String, &Node)> {
    fn visit<'a>(node: &'a Node, path: String, out: &mut Vec<(String, &'a Node)>) {
        for child in &node.children {
            let child_path = if path == "/" {
                format!("/{}", child.name)
            } else {
                format!("{path}/{}", child.name)
            };
            out.push((child_path.clone(), child));
            visit(child, child_path, out);
        }
    }
    let mut out = vec![("/".to_string(), &fdt.root)];
    visit(&fdt.root, "/".to_string(), &mut out);
    out
}

/// The pages `ranges` touch, as sorted ranges with overlapping or
/// touching ones merged (Xen maps whole pages, each once).
pub fn page_union(ranges: &[Range]) -> Vec<Range> {
    let mut pages: Vec<Range> = ranges.iter().map(|r| r.aligned_out(PAGE_SIZE)).collect();
    pages.sort();
    let mut out: Vec<Range> = Vec::new();
    for r in pages {
        match out.last_mut() {
            Some(last) if u128::from(r.start) <= last.end() => {
                let end = last.end().max(r.end());
                last.size = u64::try_from(end - u128::from(last.start)).unwrap_or(u64::MAX);
            }
            _ => out.push(r),
        }
    }
    out
}

/// The `reg` of a node, decoded with its parent's cells and translated to
/// CPU physical addresses through every bus above it, as a kernel maps the
/// device. Errors say why the device is not memory-mapped.
pub fn mmio_ranges(node: &Ancestry) -> Result<Vec<Range>, String> {
    let Some(parent) = node.parent() else {
        return Err("the root node has no `reg`".into());
    };
    let Some(reg) = node.node().property("reg") else {
        return Err(format!("`{}` has no `reg`", node.path));
    };
    let cells = Cells::of(parent);
    let Some(entries) = super::cells::ranges(&reg.value, cells) else {
        return Err(format!(
            "`{}` is on a bus with {} address and {} size cells, not a memory-mapped bus",
            node.path, cells.address, cells.size
        ));
    };
    if entries.is_empty() || reg.value.len() != entries.len() * cells.per_entry() * 4 {
        return Err(format!(
            "the `reg` of `{}` is not a whole number of ({} + {})-cell entries",
            node.path, cells.address, cells.size
        ));
    }
    entries.into_iter().map(|r| translate(node, r)).collect()
}

/// Translate a range from the node's parent bus up to the root.
fn translate(node: &Ancestry, mut range: Range) -> Result<Range, String> {
    // chain[k] is a bus whose children's addresses are `range`; walk up
    // until the bus is the root, whose children use CPU addresses.
    let mut k = node.chain.len() - 2;
    while k > 0 {
        let bus = node.chain[k];
        let above = node.chain[k - 1];
        let Some(ranges) = bus.property("ranges") else {
            return Err(format!(
                "`{}` has no `ranges`, so its children are not memory-mapped",
                bus_path(node, k)
            ));
        };
        if !ranges.value.is_empty() {
            let child = Cells::of(bus);
            let parent = Cells::of(above);
            let stride = (child.address + parent.address + child.size) as usize;
            if child.address > 2 || parent.address > 2 || child.size > 2 || stride == 0 {
                return Err(format!(
                    "the `ranges` of `{}` use more than 2 cells",
                    bus_path(node, k)
                ));
            }
            let entries = ranges.value.len() / 4 / stride;
            let window = (0..entries).find_map(|e| {
                let base = e * stride;
                let child_base = read_number(&ranges.value, base, child.address)?;
                let parent_base =
                    read_number(&ranges.value, base + child.address as usize, parent.address)?;
                let size = read_number(
                    &ranges.value,
                    base + (child.address + parent.address) as usize,
                    child.size,
                )?;
                let window = Range {
                    start: child_base,
                    size,
                };
                window
                    .contains(range)
                    .then(|| parent_base.checked_add(range.start - child_base))
                    .flatten()
            });
            let Some(start) = window else {
                return Err(format!(
                    "{range} is outside every `ranges` window of `{}`",
                    bus_path(node, k)
                ));
            };
            range.start = start;
        }
        k -= 1;
    }
    Ok(range)
}

fn bus_path(node: &Ancestry, k: usize) -> String {
    let names: Vec<&str> = node.chain[1..=k].iter().map(|n| n.name.as_str()).collect();
    format!("/{}", names.join("/"))
}

/// A node's phandle (`phandle`, else `linux,phandle`).
pub fn phandle(node: &Node) -> Option<u32> {
    node.property_u32("phandle")
        .or_else(|| node.property_u32("linux,phandle"))
}

/// Every phandle in the tree with the path of its node.
pub fn phandles(fdt: &Fdt) -> BTreeMap<u32, String> {
    walk(fdt)
        .into_iter()
        .filter_map(|(path, node)| Some((phandle(node)?, path)))
        .collect()
}

/// The phandle named by the node's `interrupt-parent`, or that of its
/// nearest ancestor that has one.
pub fn interrupt_parent(node: &Ancestry) -> Option<u32> {
    node.chain
        .iter()
        .rev()
        .find_map(|n| n.property_u32("interrupt-parent"))
}

/// Is this node a GIC (what Xen calls the primary interrupt controller)?
pub fn is_gic(node: &Node) -> bool {
    node.property("interrupt-controller").is_some()
        && node.property_strings("compatible").iter().any(|c| {
            c.starts_with("arm,gic")
                || (c.starts_with("arm,cortex-a") && c.ends_with("-gic"))
                || *c == "qcom,msm-qgic2"
        })
}

/// The host's GIC: its path and phandle (0 when it has none).
pub fn find_gic(fdt: &Fdt) -> Option<(String, u32)> {
    walk(fdt)
        .into_iter()
        .find(|(_, n)| is_gic(n))
        .map(|(path, n)| (path, phandle(n).unwrap_or(0)))
}

/// An interrupt as the GIC binding describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GicIrq {
    /// 0 SPI, 1 PPI (GIC binding's first cell).
    pub kind: u32,
    pub number: u32,
    pub flags: u32,
}

impl GicIrq {
    /// The interrupt ID Xen and the GIC use: SPIs from 32, PPIs from 16.
    pub fn id(&self) -> u32 {
        match self.kind {
            0 => self.number.saturating_add(32),
            _ => self.number.saturating_add(16),
        }
    }
}

/// Decode an `interrupts` value of a GIC with `cells` interrupt cells
/// (3, or 4 with PPI partitions). `None` when it does not fit.
pub fn gic_interrupts(value: &[u8], cells: u32) -> Option<Vec<GicIrq>> {
    let all = cells_of(value)?;
    if cells < 3 || all.is_empty() || all.len() % cells as usize != 0 {
        return None;
    }
    Some(
        all.chunks(cells as usize)
            .map(|c| GicIrq {
                kind: c[0],
                number: c[1],
                flags: c[2],
            })
            .collect(),
    )
}

/// A node's interrupts when its interrupt parent is `gic` (the GIC node),
/// as Xen routes them; `Ok(None)` when the node has no `interrupts`,
/// `Err` naming the controller when they go elsewhere.
pub fn gic_irqs_of(
    fdt: &Fdt,
    node: &Ancestry,
    gic: Option<&(String, u32)>,
) -> Result<Option<Vec<GicIrq>>, String> {
    let Some(value) = node.node().property("interrupts") else {
        return Ok(None);
    };
    let parent = interrupt_parent(node);
    let Some((gic_path, gic_phandle)) = gic else {
        return Err("the host tree has no GIC".into());
    };
    if parent != Some(*gic_phandle) || *gic_phandle == 0 {
        let target = parent.and_then(|p| phandles(fdt).get(&p).cloned());
        return Err(match target {
            Some(path) => format!("its interrupts go to `{path}`, not to the GIC"),
            None => "its interrupt parent is not the GIC".to_string(),
        });
    }
    let cells = find(fdt, gic_path, false)
        .and_then(|g| g.node().property_u32("#interrupt-cells"))
        .unwrap_or(3);
    gic_interrupts(&value.value, cells)
        .map(Some)
        .ok_or_else(|| format!("its `interrupts` are not {cells}-cell GIC interrupts"))
}

/// The string value of a property, if it is one NUL-terminated string.
pub fn string_value(node: &Node, name: &str) -> Option<String> {
    let value = &node.property(name)?.value;
    let list = string_list(value);
    (value.ends_with(&[0]) && list.len() == 1).then(|| list[0].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::{Property, value};

    fn node(name: &str, props: &[(&str, Vec<u8>)], children: Vec<Node>) -> Node {
        Node {
            name: name.into(),
            properties: props
                .iter()
                .map(|(n, v)| Property {
                    name: n.to_string(),
                    value: v.clone(),
                })
                .collect(),
            children,
        }
    }

    fn tree(root: Node) -> Fdt {
        Fdt {
            boot_cpuid_phys: 0,
            reservations: vec![],
            root,
        }
    }

    #[test]
    fn translates_reg_through_nested_buses() {
        let dev = node("dev@100", &[("reg", value::cells(&[0x100, 0x20]))], vec![]);
        let inner = node(
            "inner",
            &[
                ("#address-cells", value::u32(1)),
                ("#size-cells", value::u32(1)),
                ("ranges", value::cells(&[0, 0x1000, 0x1000])),
            ],
            vec![dev],
        );
        let outer = node(
            "soc",
            &[
                ("#address-cells", value::u32(1)),
                ("#size-cells", value::u32(1)),
                ("ranges", value::cells(&[0, 0, 0x8000_0000, 0x1000_0000])),
            ],
            vec![inner],
        );
        let fdt = tree(node(
            "",
            &[
                ("#address-cells", value::u32(2)),
                ("#size-cells", value::u32(2)),
            ],
            vec![outer],
        ));
        let dev = find(&fdt, "/soc/inner/dev@100", false).unwrap();
        assert_eq!(
            mmio_ranges(&dev).unwrap(),
            vec![Range {
                start: 0x8000_1100,
                size: 0x20
            }]
        );
    }

    #[test]
    fn reports_buses_that_are_not_memory_mapped() {
        let dev = node("eeprom@50", &[("reg", value::cells(&[0x50]))], vec![]);
        let i2c = node(
            "i2c@1000",
            &[
                ("#address-cells", value::u32(1)),
                ("#size-cells", value::u32(0)),
                ("reg", value::cells(&[0, 0x1000, 0x100])),
            ],
            vec![dev],
        );
        // The root without cells: the DT defaults, 2 address and 1 size.
        let fdt = tree(node("", &[], vec![i2c]));
        let dev = find(&fdt, "/i2c@1000/eeprom@50", false).unwrap();
        assert!(mmio_ranges(&dev).unwrap_err().contains("no `ranges`"));
        let bus = find(&fdt, "/i2c@1000", false).unwrap();
        assert_eq!(
            mmio_ranges(&bus).unwrap(),
            vec![Range {
                start: 0x1000,
                size: 0x100
            }]
        );
    }

    #[test]
    fn finds_paths_ignoring_case_only_when_asked() {
        let fdt = tree(node("", &[], vec![node("PL031@9010000", &[], vec![])]));
        assert!(find(&fdt, "/pl031@9010000", false).is_none());
        assert_eq!(
            find(&fdt, "/pl031@9010000", true).unwrap().path,
            "/PL031@9010000"
        );
        assert_eq!(find(&fdt, "/", false).unwrap().path, "/");
        assert!(find(&fdt, "pl031", true).is_none());
    }

    #[test]
    fn merges_ranges_into_whole_pages() {
        let r = |start, size| Range { start, size };
        assert_eq!(
            page_union(&[r(0x1010, 0x10), r(0x1800, 0x900), r(0x5000, 0x1000)]),
            vec![r(0x1000, 0x2000), r(0x5000, 0x1000)]
        );
    }

    #[test]
    fn decodes_gic_interrupts() {
        let irqs = gic_interrupts(&value::cells(&[0, 2, 4, 1, 9, 4]), 3).unwrap();
        assert_eq!(irqs[0].id(), 34);
        assert_eq!(irqs[1].id(), 25);
        assert!(gic_interrupts(&value::cells(&[0, 2]), 3).is_none());
        let four = gic_interrupts(&value::cells(&[0, 2, 4, 0]), 4).unwrap();
        assert_eq!(four.len(), 1);
    }
}

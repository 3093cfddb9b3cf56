//! The rules for one passthrough fragment (reference §3.6), as Xen's
//! `domain_handle_dtb_bootmodule` and `scan_pfdt_node` read it: which root
//! nodes count, the `/passthrough` bus, interrupt parents, phandles,
//! references to nodes the guest lacks, and each device's `xen,reg`,
//! `xen,path` and `xen,force-assign-without-iommu` against its host node.

use super::{Device, Fragment};
use crate::analyze::fragments::GUEST_GIC_PHANDLE;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::fdt::cells::{Cells, read_number};
use crate::fdt::query::{self, Ancestry, GicIrq, PAGE_SIZE};
use crate::fdt::references::{self, Reference};
use crate::fdt::{Fdt, Node};
use crate::range::Range;
use crate::target::{Target, XenVersion};
use std::collections::BTreeMap;

/// The root nodes Xen reads, compared with the full node name,
/// case-insensitively (`dt_node_cmp`).
const USED_ROOT_NODES: &[&str] = &["gic", "aliases", "passthrough"];

/// The host tree with what every device check needs from it.
struct Host<'a> {
    tree: &'a Fdt,
    gic: Option<(String, u32)>,
}

/// What the walk over `/passthrough` knows about the fragment.
struct Walk<'a> {
    frag: &'a Fragment,
    target: &'a Target,
    host: Option<Host<'a>>,
    /// The guest GIC's phandle; `None` when it is broken (reported).
    gic: Option<u32>,
    /// The fragment's own phandles.
    phandles: BTreeMap<u32, &'a Node>,
    devices: Vec<Device>,
}

/// Check a fragment; returns the devices it passes through.
pub fn check(
    frag: &Fragment,
    host: Option<&Fdt>,
    target: &Target,
    diags: &mut Diagnostics,
) -> Vec<Device> {
    let root = &frag.tree.root;
    root_items(frag, diags);
    let buses: Vec<&Node> = root
        .children
        .iter()
        .filter(|n| n.name.eq_ignore_ascii_case("passthrough"))
        .collect();
    if buses.is_empty() {
        diags.push(
            Diagnostic::new(
                &c::FRAGMENT_BUS,
                frag.at("/", None),
                format!("{} has no `/passthrough` node", frag.describe()),
            )
            .note("Xen passes through only what is under `/passthrough`")
            .help("put the devices under `/passthrough { compatible = \"simple-bus\"; ranges; #address-cells = <2>; #size-cells = <2>; ... };`"),
        );
    }
    let mut walk = Walk {
        frag,
        target,
        host: host.map(|tree| Host {
            tree,
            gic: query::find_gic(tree),
        }),
        gic: guest_gic(frag, target, diags),
        phandles: query::walk(&frag.tree)
            .into_iter()
            .filter_map(|(_, n)| Some((query::phandle(n)?, n)))
            .collect(),
        devices: Vec::new(),
    };
    phandle_limits(frag, target, diags);
    for bus in buses {
        let path = format!("/{}", bus.name);
        bus_properties(frag, bus, &path, diags);
        // Xen scans `/passthrough` itself with the default cells 2/1.
        let defaults = Cells {
            address: 2,
            size: 1,
        };
        walk.visit(bus, &path, defaults, None, diags);
    }
    if let Some(host) = &walk.host {
        iommu_on_416(frag, host.tree, target, diags);
    }
    walk.devices
}

/// Root properties and root nodes Xen never reads (XC0801). The root's
/// cell counts are left alone: dtc wants them and they change nothing.
fn root_items(frag: &Fragment, diags: &mut Diagnostics) {
    let root = &frag.tree.root;
    for p in &root.properties {
        if matches!(p.name.as_str(), "#address-cells" | "#size-cells") {
            continue;
        }
        diags.push(
            Diagnostic::new(
                &c::FRAGMENT_IGNORED_NODE,
                frag.at("/", Some(&p.name)),
                format!(
                    "Xen ignores the root property `{}` of {}",
                    p.name,
                    frag.describe()
                ),
            )
            .help(
                "remove it: only the nodes `/gic`, `/aliases` and `/passthrough` reach the guest",
            ),
        );
    }
    for n in &root.children {
        let used = USED_ROOT_NODES
            .iter()
            .any(|u| n.name.eq_ignore_ascii_case(u));
        if used || n.name == "__symbols__" {
            continue;
        }
        let path = format!("/{}", n.name);
        let help = match USED_ROOT_NODES
            .iter()
            .find(|u| n.base_name().eq_ignore_ascii_case(u))
        {
            Some(u) => {
                format!("rename it `{u}`: Xen compares the whole name, unit address included")
            }
            None => "move the device under `/passthrough`".to_string(),
        };
        diags.push(
            Diagnostic::new(
                &c::FRAGMENT_IGNORED_NODE,
                frag.at(&path, None),
                format!("Xen ignores the root node `{path}` of {}", frag.describe()),
            )
            .note("Xen copies only `/gic`, `/aliases` and `/passthrough` into the guest")
            .help(help),
        );
    }
}

/// What the guest kernel needs to see `/passthrough` as a bus (XC0802).
fn bus_properties(frag: &Fragment, bus: &Node, path: &str, diags: &mut Diagnostics) {
    let mut missing = Vec::new();
    if !bus.is_compatible("simple-bus") {
        missing.push("`compatible = \"simple-bus\"`");
    }
    for p in ["ranges", "#address-cells", "#size-cells"] {
        if bus.property(p).is_none() {
            missing.push(match p {
                "ranges" => "`ranges`",
                "#address-cells" => "`#address-cells`",
                _ => "`#size-cells`",
            });
        }
    }
    if missing.is_empty() {
        return;
    }
    diags.push(
        Diagnostic::new(
            &c::FRAGMENT_BUS,
            frag.at(path, None),
            format!("`{path}` lacks {}", missing.join(", ")),
        )
        .note("Xen copies `/passthrough` as it is; the guest kernel probes the devices of a bus it knows, with explicit cells")
        .help("write `compatible = \"simple-bus\"; ranges; #address-cells = <2>; #size-cells = <2>;`"),
    );
}

/// The guest GIC's phandle as Xen chooses it: the `/gic` node's (4.20+:
/// only a non-zero one), else 65000. `None` when Xen would use 0.
fn guest_gic(frag: &Fragment, target: &Target, diags: &mut Diagnostics) -> Option<u32> {
    let gics: Vec<&Node> = frag
        .tree
        .root
        .children
        .iter()
        .filter(|n| n.name.eq_ignore_ascii_case("gic"))
        .collect();
    if target.version >= XenVersion::new(4, 20) {
        return Some(
            gics.iter()
                .filter_map(|g| query::phandle(g).filter(|&p| p != 0))
                .next_back()
                .unwrap_or(GUEST_GIC_PHANDLE),
        );
    }
    let Some(last) = gics.last() else {
        return Some(GUEST_GIC_PHANDLE);
    };
    match query::phandle(last).unwrap_or(0) {
        0 => {
            diags.push(
                Diagnostic::new(
                    &c::FRAGMENT_PHANDLE,
                    frag.at(&format!("/{}", last.name), None),
                    format!("`/{}` has no phandle", last.name),
                )
                .note(format!(
                    "Xen {} takes the guest GIC's phandle from `/gic` even when it has none: the guest GIC gets phandle 0 and no interrupt reaches the guest",
                    target.version
                ))
                .help("label it (`gic: gic { };`) and refer to it (`interrupt-parent = <&gic>;`), or remove `/gic` and write `interrupt-parent = <65000>;`"),
            );
            None
        }
        p => Some(p),
    }
}

/// Phandle 65000 is Xen's GIC; 4.22 refuses anything from 65000 (XC0810).
fn phandle_limits(frag: &Fragment, target: &Target, diags: &mut Diagnostics) {
    for (path, node) in query::walk(&frag.tree) {
        let (name, value) = match (
            node.property_u32("phandle"),
            node.property_u32("linux,phandle"),
        ) {
            (Some(p), _) => ("phandle", p),
            (None, Some(p)) => ("linux,phandle", p),
            (None, None) => continue,
        };
        let is_gic = path
            .strip_prefix('/')
            .is_some_and(|n| n.eq_ignore_ascii_case("gic"));
        let why = if value == GUEST_GIC_PHANDLE && !is_gic {
            "it is the phandle Xen gives the guest GIC: `interrupt-parent = <65000>` would name this node"
                .to_string()
        } else if value >= GUEST_GIC_PHANDLE && target.version >= XenVersion::new(4, 22) {
            format!(
                "Xen {} refuses fragment phandles of 65000 or more and panics building the guest",
                target.version
            )
        } else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                &c::FRAGMENT_PHANDLE,
                frag.at(&path, Some(name)),
                format!("`{path}` has phandle {value}"),
            )
            .note(why)
            .help("renumber it below 65000 (dtc numbers labelled nodes from 1)"),
        );
    }
}

/// Xen 4.16 gives every guest with a fragment an IOMMU context, which
/// fails on a host without an IOMMU, whatever the fragment says.
fn iommu_on_416(frag: &Fragment, host: &Fdt, target: &Target, diags: &mut Diagnostics) {
    if target.version != XenVersion::new(4, 16) {
        return;
    }
    let has_iommu = query::walk(host).iter().any(|(_, n)| {
        n.property("#iommu-cells").is_some()
            && query::string_value(n, "status").is_none_or(|s| s == "okay" || s == "ok")
    });
    if !has_iommu {
        diags.push(
            Diagnostic::at(
                &c::PASSTHROUGH_WITHOUT_IOMMU,
                frag.span,
                "Xen 4.16 needs an IOMMU for a guest with a passthrough fragment, and the host DTB has none",
            )
            .note("Xen 4.16 requests an IOMMU context for every guest with a `multiboot,device-tree` module, even with `xen,force-assign-without-iommu`: creating the guest fails and Xen panics")
            .help("target Xen 4.17 or later (`--xen-version`), where only IOMMU-protected devices need one"),
        );
    }
}

impl Walk<'_> {
    /// Check `node` (at `path`, its `xen,reg` read with `cells`, the
    /// interrupt parent `inherited` from above) and its subtree.
    fn visit(
        &mut self,
        node: &Node,
        path: &str,
        cells: Cells,
        inherited: Option<u32>,
        diags: &mut Diagnostics,
    ) {
        let interrupt_parent = node.property_u32("interrupt-parent").or(inherited);
        if node.property("interrupts").is_some() {
            self.interrupt_parent(path, node, interrupt_parent, diags);
        }
        self.references(path, node, diags);
        if let Some(device) = self.device(node, path, cells, interrupt_parent, diags) {
            self.devices.push(device);
        }
        // Xen reads each node's children with that node's own cells, or
        // the defaults 2/1: cells are not inherited.
        let child_cells = Cells::of(node);
        for child in &node.children {
            let child_path = format!("{path}/{}", child.name);
            self.visit(child, &child_path, child_cells, interrupt_parent, diags);
        }
    }

    /// Is `phandle` an interrupt controller the guest has?
    fn is_guest_controller(&self, phandle: u32) -> bool {
        Some(phandle) == self.gic
            || self.phandles.get(&phandle).is_some_and(|n| {
                n.property("interrupt-controller").is_some()
                    || n.property("interrupt-map").is_some()
            })
    }

    fn interrupt_parent(
        &self,
        path: &str,
        node: &Node,
        parent: Option<u32>,
        diags: &mut Diagnostics,
    ) {
        let Some(gic) = self.gic else {
            return; // the broken `/gic` is reported
        };
        let help = if gic == GUEST_GIC_PHANDLE {
            "add `interrupt-parent = <65000>;` (Xen's phandle for the guest GIC)".to_string()
        } else {
            format!("add `interrupt-parent = <{gic:#x}>;` (the phandle of the fragment's `/gic`)")
        };
        let message = match parent {
            None => format!("`{path}` has `interrupts` but no `interrupt-parent`"),
            Some(p) if !self.is_guest_controller(p) => format!(
                "the `interrupt-parent` of `{path}` is {p:#x}, which is not an interrupt controller of the guest"
            ),
            Some(_) => return,
        };
        let property = node
            .property("interrupt-parent")
            .map_or("interrupts", |_| "interrupt-parent");
        diags.push(
            Diagnostic::new(
                &c::FRAGMENT_INTERRUPT_PARENT,
                self.frag.at(path, Some(property)),
                message,
            )
            .note("Xen adds no `interrupt-parent` to the guest's root: the guest kernel finds no controller for these interrupts")
            .help(help),
        );
    }

    /// Phandle references to nodes the fragment does not have (XC0811).
    fn references(&self, path: &str, node: &Node, diags: &mut Diagnostics) {
        // The guest GIC is a valid provider of `interrupts-extended`.
        let mut guest_gic = Node::new("gic");
        guest_gic.set_property("#interrupt-cells", crate::fdt::value::u32(3));
        for p in &node.properties {
            let Some(kind) = references::reference(&p.name) else {
                continue;
            };
            let provider = |ph: u32| {
                if Some(ph) == self.gic && kind == Reference::Specifiers("#interrupt-cells") {
                    Some(&guest_gic)
                } else {
                    self.phandles.get(&ph).copied()
                }
            };
            let (_, stuck) = references::targets(&p.value, kind, provider);
            let Some(phandle) = stuck else { continue };
            let help = if p.name == "iommus" {
                "remove it: Xen sets up the IOMMU from the host node named by `xen,path`"
                    .to_string()
            } else {
                format!(
                    "describe what `{}` names inside `/passthrough` (for a clock, a `fixed-clock` node), or remove it",
                    p.name
                )
            };
            diags.push(
                Diagnostic::new(
                    &c::DANGLING_PHANDLE,
                    self.frag.at(path, Some(&p.name)),
                    format!(
                        "`{}` of `{path}` refers to phandle {phandle:#x}, which is not in the fragment",
                        p.name
                    ),
                )
                .note("Xen copies the fragment as it is; the guest has no such node and its driver may fail to probe")
                .help(help),
            );
        }
    }

    /// A node with `xen,reg`/`xen,path`: the device Xen maps and routes.
    fn device(
        &self,
        node: &Node,
        path: &str,
        cells: Cells,
        interrupt_parent: Option<u32>,
        diags: &mut Diagnostics,
    ) -> Option<Device> {
        let xen_reg = node.property("xen,reg");
        let xen_path = node.property("xen,path");
        let force = node.property("xen,force-assign-without-iommu").is_some();
        let at = |p: Option<&str>| self.frag.at(path, p);
        match (xen_reg, xen_path) {
            (None, None) => return None,
            (None, Some(_)) => {
                diags.push(
                    Diagnostic::new(&c::PASSTHROUGH_INCOMPLETE, at(Some("xen,path")), format!("`{path}` has `xen,path` but no `xen,reg`"))
                        .note("Xen panics: \"xen,reg or xen,path missing\"")
                        .help("add `xen,reg = <host-address size guest-address>;` for the device's registers"),
                );
                return None;
            }
            (Some(_), None) if !force => {
                diags.push(
                    Diagnostic::new(&c::PASSTHROUGH_INCOMPLETE, at(Some("xen,reg")), format!("`{path}` has `xen,reg` but no `xen,path`"))
                        .note("Xen panics: \"xen,reg or xen,path missing\"")
                        .help("add `xen,path = \"/host/node\";` naming the host device, or `xen,force-assign-without-iommu;` to map the range without one"),
                );
                return None;
            }
            _ => {}
        }
        let mappings = xen_reg
            .map(|p| self.xen_reg(&p.value, path, cells, diags))
            .unwrap_or_default();
        let mut device = Device {
            node: path.to_string(),
            host_path: None,
            mappings,
            irqs: Vec::new(),
            location: at(None),
        };
        let Some(wanted) = xen_path.map(|_| query::string_value(node, "xen,path")) else {
            return Some(device); // force-assigned MMIO without a host node
        };
        let Some(wanted) = wanted else {
            diags.push(
                Diagnostic::new(
                    &c::XEN_PATH_NOT_FOUND,
                    at(Some("xen,path")),
                    format!("`xen,path` of `{path}` is not a string"),
                )
                .note("Xen reads it as a C string and looks up whatever it finds")
                .help("write `xen,path = \"/host/node@address\";`"),
            );
            return Some(device);
        };
        let Some(host) = &self.host else {
            return Some(device);
        };
        let Some(host_node) = query::find(host.tree, &wanted, true) else {
            diags.push(not_found(host.tree, &wanted, at(Some("xen,path"))));
            return Some(device);
        };
        device.host_path = Some(host_node.path.clone());
        self.mmio_inside_device(&device, &host_node, at(Some("xen,reg")), diags);
        device.irqs = self.irqs(node, path, interrupt_parent, host, &host_node, diags);
        if host_node.node().property("clocks").is_some() && node.property("clocks").is_none() {
            diags.push(
                Diagnostic::new(
                    &c::FRAGMENT_MISSING_CLOCKS,
                    at(None),
                    format!("`{}` has `clocks` on the host, `{path}` has none", host_node.path),
                )
                .note("the guest driver may not probe the device: AMBA devices need their `apb_pclk` (seen with a PL031 on Xen 4.17)")
                .help("describe the clock inside `/passthrough` (a `fixed-clock` node) and refer to it with `clocks`, or let `passthrough=` build the fragment"),
            );
        }
        if !force && host_node.node().property("iommus").is_none() {
            diags.push(
                Diagnostic::new(
                    &c::PASSTHROUGH_WITHOUT_IOMMU,
                    at(None),
                    format!(
                        "`{}` is not behind an IOMMU (no `iommus`), and `{path}` has no `xen,force-assign-without-iommu`",
                        host_node.path
                    ),
                )
                .note("Xen assigns the device through the IOMMU, which fails: Xen panics")
                .help(format!("add `xen,force-assign-without-iommu;` to `{path}` if the device does no DMA")),
            );
        }
        Some(device)
    }

    /// Decode `xen,reg` as Xen does (XC0804); returns the whole, aligned
    /// tuples.
    fn xen_reg(
        &self,
        value: &[u8],
        path: &str,
        cells: Cells,
        diags: &mut Diagnostics,
    ) -> Vec<(Range, u64)> {
        let at = self.frag.at(path, Some("xen,reg"));
        let parent = path.rsplit_once('/').map_or("/", |(p, _)| p);
        let v = self.target.version;
        if !(1..=2).contains(&cells.address) || !(1..=2).contains(&cells.size) {
            let note = if v >= XenVersion::new(4, 22) {
                format!("Xen {v} refuses cell counts other than 1 and 2 and panics")
            } else {
                format!("Xen {v} divides by zero or misreads the tuples")
            };
            diags.push(
                Diagnostic::new(
                    &c::BAD_XEN_REG,
                    at,
                    format!(
                        "`xen,reg` of `{path}` is read with {} address and {} size cells (`{parent}`'s)",
                        cells.address, cells.size
                    ),
                )
                .note(note)
                .help(format!("give `{parent}` `#address-cells = <2>; #size-cells = <2>;`")),
            );
            return Vec::new();
        }
        let tuple = ((2 * cells.address + cells.size) * 4) as usize;
        let whole = value.len() / tuple;
        let example = "`xen,reg = <host-address size guest-address>;`";
        if whole == 0 || value.len() % tuple != 0 {
            let (message, note) = if value.is_empty() {
                (
                    format!("`xen,reg` of `{path}` is empty"),
                    "Xen maps nothing".to_string(),
                )
            } else {
                (
                    format!(
                        "`xen,reg` of `{path}` is {} bytes, not a whole number of ({}+{}+{})-cell tuples",
                        value.len(),
                        cells.address,
                        cells.size,
                        cells.address
                    ),
                    format!(
                        "Xen silently ignores the last {} bytes, so that range is not mapped",
                        value.len() % tuple
                    ),
                )
            };
            diags.push(
                Diagnostic::new(&c::BAD_XEN_REG, at.clone(), message)
                    .note(format!("{note}; cells come from `{parent}`"))
                    .help(format!("write whole tuples: {example}")),
            );
        }
        let mut out = Vec::new();
        for i in 0..whole {
            let base = i * tuple / 4;
            let read = |index: usize, n: u32| read_number(value, index, n).unwrap_or(0);
            let host = read(base, cells.address);
            let size = read(base + cells.address as usize, cells.size);
            let guest = read(base + (cells.address + cells.size) as usize, cells.address);
            let range = Range { start: host, size };
            let aligned = [host, size, guest].iter().all(|n| n % PAGE_SIZE == 0);
            let fits = host.checked_add(size).is_some() && guest.checked_add(size).is_some();
            if !aligned || size == 0 || !fits {
                let page = range.aligned_out(PAGE_SIZE);
                let what = if size == 0 {
                    "its size is 0".to_string()
                } else if !fits {
                    "it runs past the end of the address space".to_string()
                } else {
                    "it is not page-aligned".to_string()
                };
                diags.push(
                    Diagnostic::new(
                        &c::BAD_XEN_REG,
                        at.clone(),
                        format!(
                            "entry {} of `xen,reg` of `{path}` (host {host:#x}, size {size:#x}, guest {guest:#x}): {what}",
                            i + 1
                        ),
                    )
                    .note("Xen maps whole 4 KiB pages and panics: \"DomU passthrough config has not page aligned addresses/sizes\"")
                    .help(format!(
                        "map the pages that hold it: host {:#x}, size {:#x}, guest {:#x}",
                        page.start,
                        page.size,
                        guest & !(PAGE_SIZE - 1)
                    )),
                );
                continue;
            }
            out.push((range, guest));
        }
        out
    }

    /// `xen,reg` host ranges must lie in the host node's own pages (XC0807).
    fn mmio_inside_device(
        &self,
        device: &Device,
        host_node: &Ancestry,
        at: Location,
        diags: &mut Diagnostics,
    ) {
        let own = match query::mmio_ranges(host_node) {
            Ok(ranges) => query::page_union(&ranges),
            Err(_) if host_node.node().property("reg").is_none() => Vec::new(),
            Err(_) => return, // not decodable: nothing to compare with
        };
        let listed = if own.is_empty() {
            "it has no `reg`".to_string()
        } else {
            own.iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (range, _) in &device.mappings {
            if own.iter().any(|r| r.contains(*range)) {
                continue;
            }
            diags.push(
                Diagnostic::new(
                    &c::XEN_REG_OUTSIDE_DEVICE,
                    at.clone(),
                    format!(
                        "`{}` maps host {range}, outside the registers of `{}` ({listed})",
                        device.node, host_node.path
                    ),
                )
                .note("Xen maps it anyway: the guest gets whatever lives there")
                .help(match own.as_slice() {
                    [] => "check `xen,path`: a device without registers has nothing to map"
                        .to_string(),
                    pages => format!(
                        "map only the host node's pages: {}",
                        pages
                            .iter()
                            .map(|r| format!("host {:#x}, size {:#x}", r.start, r.size))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                }),
            );
        }
    }

    /// The interrupts Xen routes (the host node's GIC interrupts), checked
    /// against what the fragment tells the guest (XC0808).
    fn irqs(
        &self,
        node: &Node,
        path: &str,
        interrupt_parent: Option<u32>,
        host: &Host,
        host_node: &Ancestry,
        diags: &mut Diagnostics,
    ) -> Vec<u32> {
        let routed = query::gic_irqs_of(host.tree, host_node, host.gic.as_ref());
        let routed_list = match &routed {
            Ok(Some(list)) => list.clone(),
            _ => Vec::new(),
        };
        let ids: Vec<u32> = routed_list.iter().map(GicIrq::id).collect();
        let told = node.property("interrupts");
        let to_gic = interrupt_parent.is_some() && interrupt_parent == self.gic;
        let at = self.frag.at(path, Some("interrupts"));
        let host_cells = || {
            routed_list
                .iter()
                .map(|i| format!("{} {} {}", i.kind, i.number, i.flags))
                .collect::<Vec<_>>()
                .join(" ")
        };
        match (&routed, told) {
            (Ok(Some(_)), None) => diags.push(
                Diagnostic::new(
                    &c::FRAGMENT_INTERRUPTS_MISMATCH,
                    self.frag.at(path, None),
                    format!(
                        "`{path}` has no `interrupts`, but Xen routes IRQ {} of `{}` to the guest",
                        list(&ids),
                        host_node.path
                    ),
                )
                .severity(Severity::Warning)
                .note("the guest driver does not know the device's interrupts")
                .help(format!(
                    "add `interrupts = <{}>;` and `interrupt-parent`",
                    host_cells()
                )),
            ),
            (Ok(Some(_)), Some(p)) if to_gic => {
                let fragment = query::gic_interrupts(&p.value, 3);
                let same = fragment.as_ref().is_some_and(|f| {
                    f.len() == routed_list.len()
                        && f.iter()
                            .zip(&routed_list)
                            .all(|(a, b)| a.kind == b.kind && a.number == b.number)
                });
                if !same {
                    let said = fragment.map_or_else(
                        || "not 3-cell GIC interrupts".to_string(),
                        |f| {
                            format!(
                                "IRQ {}",
                                list(&f.iter().map(GicIrq::id).collect::<Vec<_>>())
                            )
                        },
                    );
                    diags.push(
                        Diagnostic::new(&c::FRAGMENT_INTERRUPTS_MISMATCH, at, format!("the `interrupts` of `{path}` are {said}, but Xen routes IRQ {} of `{}`", list(&ids), host_node.path))
                            .note("Xen routes the host node's interrupts one to one; the guest driver would wait for others")
                            .help(format!("copy the host node's: `interrupts = <{}>;`", host_cells())),
                    );
                }
            }
            (Ok(None), Some(_)) if to_gic => diags.push(
                Diagnostic::new(
                    &c::FRAGMENT_INTERRUPTS_MISMATCH,
                    at,
                    format!(
                        "`{path}` has `interrupts`, but `{}` has none for Xen to route",
                        host_node.path
                    ),
                )
                .note("no interrupt reaches the guest")
                .help("remove `interrupts`, or check `xen,path`"),
            ),
            (Err(why), Some(_)) if to_gic => diags.push(
                Diagnostic::new(
                    &c::FRAGMENT_INTERRUPTS_MISMATCH,
                    at,
                    format!(
                        "`{path}` has `interrupts`, but Xen routes none of `{}`: {why}",
                        host_node.path
                    ),
                )
                .note("Xen routes only interrupts wired to the GIC")
                .help("remove `interrupts`; the guest must poll the device"),
            ),
            _ => {}
        }
        ids
    }
}

/// `xen,path` names no host node (XC0805), with likely meant ones.
fn not_found(host: &Fdt, wanted: &str, at: Location) -> Diagnostic {
    let leaf = wanted.rsplit('/').next().unwrap_or("");
    let base = leaf.split('@').next().unwrap_or("");
    let similar: Vec<String> = query::walk(host)
        .into_iter()
        .filter(|(_, n)| !base.is_empty() && n.base_name().eq_ignore_ascii_case(base))
        .map(|(p, _)| format!("`{p}`"))
        .take(3)
        .collect();
    let d = Diagnostic::new(
        &c::XEN_PATH_NOT_FOUND,
        at,
        format!("`xen,path = \"{wanted}\"` names no node of the host DTB"),
    )
    .note(format!(
        "Xen prints \"Couldn't find node {wanted} in host_dt!\" and \"Failed to assign device\": the guest boots without the device's interrupts (real Xen 4.17), or Xen panics when the device needs the IOMMU"
    ));
    if similar.is_empty() {
        d.help("write the host node's full path with its unit address, as `dtc -I dtb -O dts` shows it")
    } else {
        d.help(format!("did you mean {}?", similar.join(" or ")))
    }
}

fn list(ids: &[u32]) -> String {
    ids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

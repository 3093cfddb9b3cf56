//! Building a guest's passthrough fragment from host nodes
//! (`passthrough=/path`, reference §3.6 and real-xen-boot.md item 10).
//!
//! Each named host node is copied under the fragment's `/passthrough` bus
//! (`simple-bus`, empty `ranges`, 2/2 cells) with what Xen and the guest
//! kernel need: `reg` translated to CPU addresses, `xen,reg` mapping those
//! pages 1:1, `xen,path`, the host node's GIC `interrupts` with
//! `interrupt-parent = <65000>` (Xen's GIC phandle; the fragment has no
//! `/gic`), and `xen,force-assign-without-iommu` when the host node has no
//! `iommus`. Properties that refer to other host nodes cannot work in the
//! guest and are left out with a warning, except clocks from `fixed-clock`
//! nodes: those are constants, so a copy of the clock goes into the
//! fragment too (AMBA devices such as the PL031 do not probe without
//! their `apb_pclk`). The fragment is written as `<guest>-passthrough.dtb`
//! and becomes the guest's `multiboot,device-tree` module.

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Span};
use crate::esp::EspPath;
use crate::fdt::query::{self, Ancestry};
use crate::fdt::references::{self, Reference};
use crate::fdt::{Fdt, Node, value};
use crate::load::hash::FileFacts;
use crate::load::image::ImageFormat;
use crate::model::{Module, ModuleRole, Spanned, System};
use crate::range::Range;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The phandle Xen gives the guest GIC when the fragment has no `/gic`
/// (GUEST_PHANDLE_GIC).
pub const GUEST_GIC_PHANDLE: u32 = 65000;

/// A fragment xencfg wrote, shared by every guest it is identical for.
#[derive(Clone, Debug)]
pub struct GeneratedFragment {
    /// Its name next to the merged DTB (relative to Xen's directory).
    pub esp_path: EspPath,
    pub tree: Fdt,
    pub bytes: Vec<u8>,
    /// (boot section, guest) indices whose `dtb` this is.
    pub users: Vec<(usize, usize)>,
    /// Each device node of the fragment with the `passthrough=` value it
    /// comes from, for diagnostics.
    pub node_spans: Vec<(String, Span)>,
}

/// Where generated files are keyed in the file facts: a path no cfg can
/// name (`<` is not allowed on FAT), so it never meets an input file.
fn facts_key(name: &str) -> PathBuf {
    PathBuf::from("<generated>").join(name)
}

/// Build the fragment of every guest with `passthrough=` from its boot
/// section's host tree, and make it the guest's device-tree module.
pub fn generate_all(
    system: &mut System,
    hosts: &[Option<std::sync::Arc<Fdt>>],
    facts: &mut BTreeMap<PathBuf, FileFacts>,
    diags: &mut Diagnostics,
) -> Vec<GeneratedFragment> {
    let inputs: Vec<(EspPath, Span)> = system
        .modules()
        .map(|(_, m)| (m.path.clone(), m.span))
        .collect();
    let mut out: Vec<GeneratedFragment> = Vec::new();
    for (si, section) in system.sections.iter_mut().enumerate() {
        let Some(host) = hosts.get(si).and_then(Option::as_deref) else {
            continue; // no host tree: already reported
        };
        let section_name = section.name.clone();
        for (gi, guest) in section.guests.iter_mut().enumerate() {
            let Some(first) = guest.passthrough.first() else {
                continue;
            };
            let span = first.span;
            if let Some(dtb) = &guest.dtb {
                diags.push(
                    Diagnostic::at(
                        &c::PASSTHROUGH_WITH_DTB,
                        span,
                        format!("guest `{}` has both `passthrough=` and `dtb=`", guest.name),
                    )
                    .related(Location::Text(dtb.span), "its fragment is named here")
                    .note("a guest has one passthrough fragment: xencfg builds it from `passthrough=`, or `dtb=` names a hand-written one")
                    .help("keep one: add the device to the hand-written fragment, or remove `dtb=`"),
                );
                continue;
            }
            let Some((tree, node_spans)) = build(host, &guest.passthrough, diags) else {
                continue;
            };
            let bytes = tree.to_bytes();
            let plain = format!("{}-passthrough.dtb", guest.name);
            let name = match out.iter_mut().find(|f| f.esp_path.to_efi_string() == plain) {
                Some(f) if f.bytes == bytes => {
                    f.users.push((si, gi));
                    guest.dtb = Some(module(&plain, span));
                    continue;
                }
                // The same guest name with other devices (another boot
                // section's host tree, or a flat guest of another section).
                Some(_) => format!("{section_name}-{plain}"),
                None => plain,
            };
            let esp_path = EspPath::from_components(vec![name.clone()]);
            if let Some((_, other)) = inputs
                .iter()
                .find(|(p, _)| p.fat_key() == esp_path.fat_key())
            {
                diags.push(
                    Diagnostic::at(
                        &c::FRAGMENT_NAME_CLASH,
                        span,
                        format!("the fragment built for `{}` would be written as `{name}`, which the cfg already names", guest.name),
                    )
                    .related(Location::Text(*other), "named here")
                    .help(format!("rename the file `{name}`")),
                );
                continue;
            }
            facts.insert(
                facts_key(&name),
                FileFacts {
                    size: bytes.len() as u64,
                    format: ImageFormat::Fdt,
                    // A few KiB in memory: hashed for check and build alike.
                    sha256: Some(
                        Sha256::digest(&bytes)
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect(),
                    ),
                },
            );
            guest.dtb = Some(module(&name, span));
            out.push(GeneratedFragment {
                esp_path,
                tree,
                bytes,
                users: vec![(si, gi)],
                node_spans,
            });
        }
    }
    out
}

fn module(name: &str, span: Span) -> Module {
    Module {
        role: ModuleRole::DeviceTree,
        path: EspPath::from_components(vec![name.to_string()]),
        source: facts_key(name),
        span,
        bootargs: None,
        generated: true,
    }
}

/// What is being assembled for one fragment.
struct Builder<'h> {
    host: &'h Fdt,
    gic: Option<(String, u32)>,
    host_phandles: BTreeMap<u32, String>,
    /// Copied `fixed-clock` nodes: host path, copy (with its new phandle).
    clocks: Vec<(String, Node)>,
    devices: Vec<Node>,
    node_spans: Vec<(String, Span)>,
}

/// The fragment for `requests` (host node paths), or `None` when one of
/// them cannot be passed through (reported).
pub fn build(
    host: &Fdt,
    requests: &[Spanned<String>],
    diags: &mut Diagnostics,
) -> Option<(Fdt, Vec<(String, Span)>)> {
    let mut b = Builder {
        host,
        gic: query::find_gic(host),
        host_phandles: query::phandles(host),
        clocks: Vec::new(),
        devices: Vec::new(),
        node_spans: Vec::new(),
    };
    let mut ok = true;
    let mut seen: Vec<(String, Span)> = Vec::new();
    for request in requests {
        let Some(node) = query::find(host, &request.value, true) else {
            diags.push(not_found(host, request));
            ok = false;
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(p, _)| *p == node.path) {
            diags.push(
                Diagnostic::at(
                    &c::GUEST_KEY_REPEATED,
                    request.span,
                    format!("`{}` is passed through twice", node.path),
                )
                .related(Location::Text(*first), "first named here")
                .help("name each host device once"),
            );
            continue;
        }
        seen.push((node.path.clone(), request.span));
        ok &= b.device(&node, request, diags);
    }
    if !ok {
        return None;
    }
    let mut bus = Node::new("passthrough");
    bus.set_property("compatible", value::string("simple-bus"));
    bus.set_property("ranges", Vec::new());
    bus.set_property("#address-cells", value::u32(2));
    bus.set_property("#size-cells", value::u32(2));
    bus.children
        .extend(b.clocks.into_iter().map(|(_, node)| node));
    bus.children.extend(b.devices);
    // The guest's root has 2/2 cells (Xen ignores the fragment root's);
    // saying so keeps dtc from assuming 2/1 when it reads the fragment.
    let mut root = Node::new("");
    root.set_property("#address-cells", value::u32(2));
    root.set_property("#size-cells", value::u32(2));
    root.children.push(bus);
    Some((
        Fdt {
            boot_cpuid_phys: 0,
            reservations: Vec::new(),
            root,
        },
        b.node_spans,
    ))
}

fn not_found(host: &Fdt, request: &Spanned<String>) -> Diagnostic {
    let wanted = request.value.rsplit('/').next().unwrap_or("");
    let wanted_base = wanted.split('@').next().unwrap_or("");
    let candidates: Vec<String> = query::walk(host)
        .into_iter()
        .filter(|(_, n)| !wanted_base.is_empty() && n.base_name() == wanted_base)
        .map(|(p, _)| format!("`{p}`"))
        .take(3)
        .collect();
    let d = Diagnostic::at(
        &c::PASSTHROUGH_NODE,
        request.span,
        format!("the host DTB has no node `{}`", request.value),
    );
    if candidates.is_empty() {
        d.help("write the node's full path with its unit address, as `dtc -I dtb -O dts` shows it")
    } else {
        d.help(format!("did you mean {}?", candidates.join(" or ")))
    }
}

impl Builder<'_> {
    /// Copy one host device into the fragment. False when it cannot be
    /// passed through (reported).
    fn device(
        &mut self,
        host: &Ancestry,
        request: &Spanned<String>,
        diags: &mut Diagnostics,
    ) -> bool {
        let node = host.node();
        let refuse = |why: String| {
            Diagnostic::at(
                &c::PASSTHROUGH_NODE,
                request.span,
                format!("`{}` cannot be passed through: {why}", host.path),
            )
        };
        let unsuitable = if host.parent().is_none() {
            Some("it is the root node".to_string())
        } else if query::is_gic(node) {
            Some("it is the GIC, which Xen keeps for itself".to_string())
        } else if query::string_value(node, "device_type").as_deref() == Some("memory") {
            Some("it is a memory node".to_string())
        } else if host.parent().is_some_and(|p| p.name == "reserved-memory") {
            Some("it is reserved memory, not a device".to_string())
        } else {
            None
        };
        if let Some(why) = unsuitable {
            diags.push(refuse(why).help("name a device node"));
            return false;
        }
        let ranges = match query::mmio_ranges(host) {
            Ok(r) if r.iter().all(|r| r.size == 0) => {
                diags.push(
                    refuse("its `reg` sizes are all 0: it has no registers to map".into())
                        .help("pass through a device with registers"),
                );
                return false;
            }
            Ok(r) => r.into_iter().filter(|r| r.size > 0).collect::<Vec<_>>(),
            Err(why) => {
                diags.push(refuse(why).note("Xen maps a passed-through device's registers from `xen,reg`, which xencfg derives from the node's `reg`").help("pass through a memory-mapped device (or its bus controller)"));
                return false;
            }
        };
        let name = format!("{}@{:x}", node.base_name(), ranges[0].start);
        if self.devices.iter().any(|d| d.name == name) {
            diags.push(
                refuse(format!("another device in this guest is also `{name}`"))
                    .help("pass through one of them"),
            );
            return false;
        }

        let mut dev = Node::new(name);
        let mut dropped: Vec<String> = Vec::new();
        for prop in &node.properties {
            match prop.name.as_str() {
                // Local to the host tree, or rewritten below.
                "phandle" | "linux,phandle" | "interrupt-parent" => {}
                // Xen assigns the device through the IOMMU from the host node.
                "iommus" => {}
                "reg" => dev.set_property("reg", encode_ranges(&ranges, false)),
                "interrupts" => match query::gic_irqs_of(self.host, host, self.gic.as_ref()) {
                    Ok(Some(irqs)) => {
                        let cells: Vec<u32> = irqs
                            .iter()
                            .flat_map(|i| [i.kind, i.number, i.flags])
                            .collect();
                        dev.set_property("interrupts", value::cells(&cells));
                    }
                    Ok(None) => {}
                    Err(why) => dropped.push(format!("`interrupts` ({why})")),
                },
                "clocks" => match self.fixed_clocks(&prop.value) {
                    Some(v) => dev.set_property("clocks", v),
                    None => dropped.push("`clocks`".into()),
                },
                name if references::reference(name).is_some() => dropped.push(format!("`{name}`")),
                name => dev.set_property(name, prop.value.clone()),
            }
        }
        // A `-names` list describes the property it names; alone it lies.
        for (prop, names) in [("clocks", "clock-names"), ("interrupts", "interrupt-names")]
            .into_iter()
            .map(|(p, n)| (p.to_string(), n.to_string()))
            .chain(
                node.properties
                    .iter()
                    .filter_map(|p| Some((p.name.clone(), references::names_property(&p.name)?))),
            )
        {
            if dev.property(&prop).is_none() {
                dev.remove_property(&names);
            }
        }
        if node
            .properties
            .iter()
            .any(|p| p.name.starts_with("pinctrl-") && references::reference(&p.name).is_some())
        {
            dev.remove_property("pinctrl-names");
        }
        let mut left_out = LeftOut {
            dropped,
            unrouted: Vec::new(),
        };
        for child in &node.children {
            dev.children.push(copy_child(
                child,
                &format!("{}/{}", host.path, child.name),
                &mut left_out,
            ));
        }
        let LeftOut { dropped, unrouted } = left_out;
        if !unrouted.is_empty() {
            diags.push(
                Diagnostic::at(
                    &c::PASSTHROUGH_NODE,
                    request.span,
                    format!(
                        "`{}`: xencfg leaves out the interrupts of {}",
                        host.path,
                        unrouted.join(", ")
                    ),
                )
                .severity(crate::diag::Severity::Warning)
                .note("Xen routes only the interrupts of the node named by `xen,path`, not those of its children")
                .help("to give a child device its interrupts, pass that child through instead"),
            );
        }
        if dev.property("interrupts").is_some() {
            dev.set_property("interrupt-parent", value::u32(GUEST_GIC_PHANDLE));
        }
        dev.set_property("xen,reg", encode_ranges(&query::page_union(&ranges), true));
        dev.set_property("xen,path", value::string(&host.path));
        if node.property("iommus").is_none() {
            dev.set_property("xen,force-assign-without-iommu", Vec::new());
        }
        if !dropped.is_empty() {
            diags.push(
                Diagnostic::at(
                    &c::DANGLING_PHANDLE,
                    request.span,
                    format!(
                        "`{}`: xencfg leaves out {}: {} to host nodes the guest does not have",
                        host.path,
                        dropped.join(", "),
                        if dropped.len() == 1 { "it refers" } else { "they refer" }
                    ),
                )
                .note("the guest driver may fail to probe without them")
                .help("if the device needs them, write its fragment by hand (`dtb=`) and describe them inside `/passthrough`"),
            );
        }
        self.node_spans
            .push((format!("/passthrough/{}", dev.name), request.span));
        self.devices.push(dev);
        true
    }

    /// `clocks` rewritten to copies of its providers, when every provider
    /// is a `fixed-clock` that depends on nothing else; else `None`.
    fn fixed_clocks(&mut self, value: &[u8]) -> Option<Vec<u8>> {
        let provider = |p: u32| {
            self.host_phandles
                .get(&p)
                .and_then(|path| self.host.node(path))
        };
        let (targets, stuck) =
            references::targets(value, Reference::Specifiers("#clock-cells"), provider);
        if stuck.is_some() || targets.is_empty() || value.len() != targets.len() * 4 {
            return None; // unknown providers, or providers with arguments
        }
        let mut cells = Vec::new();
        let mut copies = Vec::new();
        for t in &targets {
            let path = self.host_phandles.get(&t.phandle)?.clone();
            let clock = self.host.node(&path)?;
            let standalone = clock.is_compatible("fixed-clock")
                && clock.property_u32("#clock-cells").unwrap_or(0) == 0
                && clock.children.is_empty()
                && !clock
                    .properties
                    .iter()
                    .any(|p| references::reference(&p.name).is_some());
            if !standalone {
                return None;
            }
            copies.push((path, clock.clone()));
        }
        for (path, clock) in copies {
            let phandle = match self.clocks.iter().position(|(p, _)| *p == path) {
                Some(i) => query::phandle(&self.clocks[i].1).unwrap_or(0),
                None => {
                    let phandle = self.clocks.len() as u32 + 1;
                    let mut copy = Node::new(clock.name.clone());
                    for p in clock
                        .properties
                        .iter()
                        .filter(|p| !matches!(p.name.as_str(), "phandle" | "linux,phandle"))
                    {
                        copy.set_property(&p.name, p.value.clone());
                    }
                    copy.set_property("phandle", value::u32(phandle));
                    if self.clocks.iter().any(|(_, n)| n.name == copy.name) {
                        copy.name = format!("{}-{phandle}", copy.name);
                    }
                    self.clocks.push((path, copy));
                    phandle
                }
            };
            cells.push(phandle);
        }
        Some(value::cells(&cells))
    }
}

/// A child of a passed-through node, verbatim except its phandles and its
/// references to other host nodes (collected in `dropped`).
/// A child of a passed-through node, verbatim except its phandles, its
/// references to other host nodes (collected in `dropped`) and its
/// interrupts, which Xen does not route (collected in `unrouted`).
fn copy_child(node: &Node, path: &str, left_out: &mut LeftOut) -> Node {
    let mut copy = Node::new(node.name.clone());
    for p in &node.properties {
        match p.name.as_str() {
            "phandle" | "linux,phandle" => {}
            "interrupts" | "interrupts-extended" => left_out.unrouted.push(format!("`{path}`")),
            "interrupt-parent" | "interrupt-names" => {}
            name if references::reference(name).is_some() => {
                left_out.dropped.push(format!("`{path}:{name}`"))
            }
            name => copy.set_property(name, p.value.clone()),
        }
    }
    for child in &node.children {
        copy.children.push(copy_child(
            child,
            &format!("{path}/{}", child.name),
            left_out,
        ));
    }
    copy
}

/// What a copy leaves out, for the warnings.
#[derive(Default)]
struct LeftOut {
    /// Properties referring to host nodes.
    dropped: Vec<String>,
    /// Descendants whose interrupts Xen would not route.
    unrouted: Vec<String>,
}

/// `<address size>` pairs in 2/2 cells; with `guest`, Xen's
/// `<host size guest>` triples mapping each range to the same address.
fn encode_ranges(ranges: &[Range], guest: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for r in ranges {
        out.extend(value::u64(r.start));
        out.extend(value::u64(r.size));
        if guest {
            out.extend(value::u64(r.start));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn span() -> Span {
        Span {
            file: FileId(0),
            offset: 0,
            len: 1,
            line: 1,
            col: 1,
        }
    }

    fn host() -> Fdt {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/passthrough/host.dtb");
        Fdt::from_bytes(&std::fs::read(path).unwrap()).unwrap()
    }

    fn request(path: &str) -> Vec<Spanned<String>> {
        vec![Spanned::new(path.to_string(), span())]
    }

    #[test]
    fn copies_a_device_with_what_xen_needs() {
        let mut diags = Diagnostics::default();
        let (tree, spans) = build(&host(), &request("/pl031@9010000"), &mut diags).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        let dev = tree.node("/passthrough/pl031@9010000").unwrap();
        assert_eq!(
            dev.property("xen,reg").unwrap().value,
            value::cells(&[0, 0x9010000, 0, 0x1000, 0, 0x9010000])
        );
        assert_eq!(dev.property("xen,path").unwrap().value, b"/pl031@9010000\0");
        assert_eq!(
            dev.property_u32("interrupt-parent"),
            Some(GUEST_GIC_PHANDLE)
        );
        assert!(dev.property("xen,force-assign-without-iommu").is_some());
        // The fixed clock comes along, renumbered.
        let clock = tree.node("/passthrough/apb-pclk").unwrap();
        assert_eq!(query::phandle(clock), Some(1));
        assert_eq!(dev.property_u32("clocks"), Some(1));
        assert_eq!(spans[0].0, "/passthrough/pl031@9010000");
    }

    #[test]
    fn leaves_out_references_to_host_nodes() {
        let mut diags = Diagnostics::default();
        let (tree, _) = build(&host(), &request("/pl061@9030000"), &mut diags).unwrap();
        let dev = tree.node("/passthrough/pl061@9030000").unwrap();
        assert!(dev.property("resets").is_none());
        assert!(dev.property("reset-names").is_none());
        let d: Vec<_> = diags.iter().collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].check.code, c::DANGLING_PHANDLE.code);
        assert!(d[0].message.contains("`resets`"), "{}", d[0].message);
    }

    #[test]
    fn leaves_out_the_interrupts_of_children() {
        let mut diags = Diagnostics::default();
        let (tree, _) = build(&host(), &request("/i2c@9080000"), &mut diags).unwrap();
        let sensor = tree.node("/passthrough/i2c@9080000/sensor@48").unwrap();
        assert!(sensor.property("interrupts").is_none());
        assert_eq!(sensor.property_u32("reg"), Some(0x48));
        let dev = tree.node("/passthrough/i2c@9080000").unwrap();
        assert!(dev.property("interrupts").is_some());
        let d: Vec<_> = diags.iter().collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].check.code, c::PASSTHROUGH_NODE.code);
        assert_eq!(d[0].severity, crate::diag::Severity::Warning);
        assert!(d[0].message.contains("sensor@48"), "{}", d[0].message);
    }

    #[test]
    fn refuses_reserved_memory_and_empty_registers() {
        let mut host = host();
        let mut reserved = Node::new("reserved-memory");
        let mut region = Node::new("buffer@50000000");
        region.set_property("reg", value::cells(&[0, 0x5000_0000, 0, 0x10000]));
        reserved.children.push(region);
        host.root.children.push(reserved);
        host.node_mut("/pl031@9010000")
            .unwrap()
            .set_property("reg", value::cells(&[0, 0x9010000, 0, 0]));
        for (path, expect) in [
            ("/reserved-memory/buffer@50000000", "reserved memory"),
            ("/pl031@9010000", "sizes are all 0"),
        ] {
            let mut diags = Diagnostics::default();
            assert!(build(&host, &request(path), &mut diags).is_none(), "{path}");
            assert!(
                diags.iter().any(|d| d.message.contains(expect)),
                "{path}: {:?}",
                diags.iter().map(|d| &d.message).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn refuses_what_cannot_be_passed_through() {
        for (path, expect) in [
            ("/pl031", "did you mean `/pl031@9010000`"),
            ("/intc@8000000", "the GIC"),
            ("/memory@40000000", "memory node"),
            ("/", "root node"),
        ] {
            let mut diags = Diagnostics::default();
            assert!(
                build(&host(), &request(path), &mut diags).is_none(),
                "{path}"
            );
            let text = diags
                .iter()
                .map(|d| format!("{} {}", d.message, d.help.clone().unwrap_or_default()))
                .collect::<String>();
            assert!(text.contains(expect), "{path}: {text}");
        }
    }
}

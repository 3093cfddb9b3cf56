//! Writing the linked structures into a merged tree (spec §1.4): cpupool
//! nodes with phandles to the host's CPU nodes, `domain-cpupool`,
//! `xen,static-mem`, pairs of `xen,evtchn-v1` nodes, shared-memory nodes
//! (dom0's side directly under `/chosen`), `xen,vcpu` nodes and `/chosen`
//! `xen,static-heap`.
//!
//! Phandles are allocated upwards from the highest one the tree already
//! uses, in a fixed order (pool CPUs, pools, then event channels), so the
//! same input always gives the same blob. What cannot be written at all (an
//! unknown CPU, a peer that is no domain of the section) is left out; the
//! checks report it. Everything else the checks reject but the user demoted
//! (a port bound twice, a channel to a dom0 the section lacks) is written as
//! the cfg says, so that Xen judges what the user asked for rather than a
//! silently different system.

use super::resolve::{Domain, Links};
use crate::fdt::{Fdt, Node, cells, value};
use crate::host::HostFacts;
use crate::model::structures::{CpuPool, PoolCpu, SharedMemKey};
use crate::model::{BootSection, Guest};
use crate::target::{Target, XenVersion};

/// Hands out phandles above every one in use.
struct Phandles {
    next: u32,
}

impl Phandles {
    fn take(&mut self) -> u32 {
        let p = self.next;
        // A host using phandles up to 0xffffffff (itself invalid) is the
        // only way to get here; never wrap around to 0.
        self.next = self.next.saturating_add(1);
        p
    }
}

/// Add the structures of `section`'s guests to `fdt`, whose `/chosen`
/// already holds the guests' domain nodes.
pub fn add(
    fdt: &mut Fdt,
    section: &BootSection,
    pools: &[CpuPool],
    host: &HostFacts,
    links: &Links,
    target: &Target,
) {
    let mut phandles = Phandles {
        next: fdt.max_phandle().saturating_add(1).max(1),
    };
    let pool_phandles = add_pools(fdt, section, pools, host, &mut phandles);
    for guest in &section.guests {
        let Some(node) = domain_node(fdt, &guest.name) else {
            continue;
        };
        if let Some(p) = guest
            .structures
            .cpupool
            .as_ref()
            .and_then(|name| pool_phandles.iter().find(|(n, _)| *n == name.value))
        {
            node.set_property("domain-cpupool", value::u32(p.1));
        }
        static_mem(node, guest, target.version);
        for (i, key) in guest.structures.shared_mem.iter().enumerate() {
            node.children.push(shared_mem_node(i, key));
        }
        for a in &guest.structures.affinity {
            let mut vcpu = Node::new(format!("vcpu{}", a.vcpu));
            vcpu.set_property("compatible", value::string("xen,vcpu"));
            vcpu.set_property("id", value::u32(a.vcpu));
            vcpu.set_property("hard-affinity", value::string(&a.hard_affinity()));
            node.children.push(vcpu);
        }
    }
    if let Some(chosen) = fdt.root.child_mut("chosen") {
        for (i, key) in section.dom0_structures.shared_mem.iter().enumerate() {
            let mut node = shared_mem_node(i, key);
            node.name = format!("dom0-{}", node.name);
            chosen.children.push(node);
        }
    }
    add_channels(fdt, section, links, &mut phandles);
    static_heap(fdt, section);
}

/// `/chosen` `xen,static-heap` from `static-heap=`, in the ROOT node's
/// cells: Xen's process_chosen_node decodes it with the cells of
/// `/chosen`'s parent (reference §2.3), not the 2/2 the merge gives
/// `/chosen`. It replaces a host tree's own (two sources are reported by
/// the checks, XC1039). Banks without an address (placing failed, and
/// reported) and cells that cannot hold the ranges (XC1040) leave the
/// property out.
fn static_heap(fdt: &mut Fdt, section: &BootSection) {
    let Some(heap) = &section.static_heap else {
        return;
    };
    if heap.banks.iter().any(|b| b.value.start.is_none()) {
        return;
    }
    let ranges: Vec<_> = heap.ranges().iter().map(|r| r.value).collect();
    let Some(bytes) = cells::encode_ranges(&ranges, cells::Cells::of(&fdt.root)) else {
        return;
    };
    if let Some(chosen) = fdt.root.child_mut("chosen") {
        chosen.set_property("xen,static-heap", bytes);
    }
}

/// The guest's domain node (the last `/chosen` child of that name: xencfg
/// appends its guests after whatever the host tree had).
fn domain_node<'t>(fdt: &'t mut Fdt, name: &str) -> Option<&'t mut Node> {
    fdt.root
        .child_mut("chosen")?
        .children
        .iter_mut()
        .rev()
        .find(|c| c.name == name)
}

/// Pool nodes under `/chosen`, with phandles added to the CPU nodes they
/// list. Returns each written pool's name and phandle.
fn add_pools(
    fdt: &mut Fdt,
    section: &BootSection,
    pools: &[CpuPool],
    facts: &HostFacts,
    phandles: &mut Phandles,
) -> Vec<(String, u32)> {
    let mut written = Vec::new();
    let mut used: Vec<&CpuPool> = Vec::new();
    for guest in &section.guests {
        if let Some(name) = &guest.structures.cpupool {
            if let Some(pool) = pools.iter().find(|p| p.name == name.value) {
                if !used.iter().any(|p| p.name == pool.name) {
                    used.push(pool);
                }
            }
        }
    }
    for pool in used {
        let taken = fdt
            .root
            .child("chosen")
            .is_some_and(|c| c.child(&pool.name).is_some());
        let paths: Option<Vec<String>> = pool
            .cpus
            .iter()
            .map(|cpu| {
                let host_cpu = match &cpu.value {
                    PoolCpu::Path(p) => facts.cpu_by_path(p),
                    PoolCpu::Mpidr(m) => facts.cpu_by_mpidr(*m),
                };
                host_cpu.map(|c| c.path.clone())
            })
            .collect();
        // An unknown CPU or a name another node has cannot be written
        // (reported by the checks); an empty pool (XC1018 demoted) is
        // written as it is, for Xen to judge.
        let Some(paths) = paths.filter(|_| !taken) else {
            continue;
        };
        let cpu_phandles: Vec<u32> = paths
            .iter()
            .filter_map(|path| {
                let node = fdt.node_mut(path)?;
                Some(match existing_phandle(node) {
                    Some(p) => p,
                    None => {
                        let p = phandles.take();
                        node.set_property("phandle", value::u32(p));
                        p
                    }
                })
            })
            .collect();
        let phandle = phandles.take();
        let mut node = Node::new(pool.name.clone());
        node.set_property("compatible", value::string("xen,cpupool"));
        node.set_property("cpupool-cpus", value::cells(&cpu_phandles));
        if let Some(sched) = &pool.sched {
            node.set_property("cpupool-sched", value::string(&sched.value));
        }
        node.set_property("phandle", value::u32(phandle));
        if let Some(chosen) = fdt.root.child_mut("chosen") {
            chosen.children.push(node);
            written.push((pool.name.clone(), phandle));
        }
    }
    written
}

fn existing_phandle(node: &Node) -> Option<u32> {
    node.property_u32("phandle")
        .or_else(|| node.property_u32("linux,phandle"))
}

/// `xen,static-mem` in `/chosen`'s cells (2/2, written by the merge); Xen
/// 4.16 reads the cells from the domain node's own properties instead.
fn static_mem(node: &mut Node, guest: &Guest, version: XenVersion) {
    let Some(mem) = &guest.structures.static_mem else {
        return;
    };
    if version < XenVersion::new(4, 17) {
        node.set_property("#xen,static-mem-address-cells", value::u32(2));
        node.set_property("#xen,static-mem-size-cells", value::u32(2));
    }
    let bytes = mem
        .ranges()
        .iter()
        .flat_map(|r| [value::u64(r.value.start), value::u64(r.value.size)])
        .flatten()
        .collect();
    node.set_property("xen,static-mem", bytes);
}

/// A shared-memory node, decoded by Xen with its parent's cells (the
/// domain node's, or `/chosen`'s for dom0's side: 2/2 either way):
/// `<host guest size>`. The analysis placed every address the cfg left
/// out; one still missing means placing failed (reported, nothing built).
fn shared_mem_node(index: usize, key: &SharedMemKey) -> Node {
    let mut node = Node::new(format!("shared-mem-{index}"));
    node.set_property("compatible", value::string("xen,domain-shared-memory-v1"));
    if let Some(role) = key.role {
        node.set_property("role", value::string(role.as_str()));
    }
    node.set_property("xen,shm-id", value::string(&key.id));
    let (Some(host), Some(guest)) = (key.host, key.guest) else {
        return node;
    };
    let mut cells = Vec::new();
    cells.extend(value::u64(host));
    cells.extend(value::u64(guest));
    cells.extend(value::u64(key.size));
    node.set_property("xen,shared-mem", cells);
    node
}

/// Both nodes of every event channel, each naming the other's phandle. A
/// port bound twice (XC1016, demoted) gets both channels, the second node
/// named `evtchn-PORT-2` (Xen finds the nodes by `compatible`, not name).
fn add_channels(fdt: &mut Fdt, section: &BootSection, links: &Links, phandles: &mut Phandles) {
    for channel in &links.channels {
        let [a, b] = channel.ends;
        let (pa, pb) = (phandles.take(), phandles.take());
        for (end, own, peer) in [(a, pa, pb), (b, pb, pa)] {
            let parent = match end.domain {
                Domain::Dom0 => fdt.root.child_mut("chosen"),
                Domain::Guest(i) => section
                    .guests
                    .get(i)
                    .and_then(|g| domain_node(fdt, &g.name)),
            };
            let Some(parent) = parent else { continue };
            let base = match end.domain {
                Domain::Dom0 => format!("dom0-evtchn-{}", end.port),
                Domain::Guest(_) => format!("evtchn-{}", end.port),
            };
            let mut name = base.clone();
            let mut n = 1;
            while parent.child(&name).is_some() {
                n += 1;
                name = format!("{base}-{n}");
            }
            let mut node = Node::new(name);
            node.set_property("compatible", value::string("xen,evtchn-v1"));
            node.set_property("xen,evtchn", value::cells(&[end.port, peer]));
            node.set_property("phandle", value::u32(own));
            parent.children.push(node);
        }
    }
}

//! Checks of what a boot section's domains use together (XC10xx): memory,
//! static and shared memory, event channels, cpupools, vCPU affinity and
//! the xenstore/capability rules. One entry point runs them all with what
//! they need: the section, the host tree's facts, the files and the target.

use crate::checks::{domains, links, memory};
use crate::diag::Diagnostics;
use crate::fdt::Fdt;
use crate::hash::FileFacts;
use crate::host::{HostFacts, HostRam};
use crate::model::{BootSection, Guest, System};
use crate::target::Target;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything the resource checks of one boot section look at.
pub struct SectionContext<'a> {
    pub system: &'a System,
    pub section: &'a BootSection,
    /// The host tree (after overlays), when it could be read.
    pub host_tree: Option<&'a Fdt>,
    pub host: Option<HostFacts>,
    pub facts: &'a BTreeMap<PathBuf, FileFacts>,
    pub target: &'a Target,
}

impl SectionContext<'_> {
    pub fn has_dom0(&self) -> bool {
        self.section.dom0_kernel.is_some()
    }

    pub fn guest(&self, index: usize) -> Option<&Guest> {
        self.section.guests.get(index)
    }
}

pub fn check_section(
    system: &System,
    section: &BootSection,
    host_tree: Option<&Fdt>,
    host_ram: Option<&HostRam>,
    facts: &BTreeMap<PathBuf, FileFacts>,
    target: &Target,
    diags: &mut Diagnostics,
) {
    let host = host_tree.map(|tree| {
        let read = HostFacts::read(tree);
        match host_ram {
            Some(stated) => read.with_stated_ram(stated),
            None => read,
        }
    });
    let cx = SectionContext {
        system,
        section,
        host_tree,
        host,
        facts,
        target,
    };
    links::check(&cx, diags);
    memory::check(&cx, diags);
    domains::check(&cx, diags);
}

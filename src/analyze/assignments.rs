//! `xen,passthrough` on the host devices that guests get (reference §2.11,
//! §3.6): with a dom0, Xen gives dom0 every host device not so marked,
//! routing its interrupts to dom0 first, and the guest's assignment then
//! fails ("already used"). Without a dom0 the marker changes nothing, so
//! the host tree is left as it is.

use crate::fdt::{Fdt, query};

/// The host devices each guest of one boot section gets.
#[derive(Clone, Debug, Default)]
pub struct Assignments {
    /// Guest name and the host node paths (as spelt in the host tree).
    pub guests: Vec<(String, Vec<String>)>,
    /// The section has a dom0, so the devices are marked.
    pub marked: bool,
}

impl Assignments {
    /// The host nodes the merged tree marks, sorted, each once.
    pub fn marked_nodes(&self) -> Vec<String> {
        if !self.marked {
            return Vec::new();
        }
        let mut nodes: Vec<String> = self
            .guests
            .iter()
            .flat_map(|(_, nodes)| nodes.iter().cloned())
            .collect();
        nodes.sort();
        nodes.dedup();
        nodes
    }

    /// The host nodes one guest gets.
    pub fn of(&self, guest: &str) -> &[String] {
        self.guests
            .iter()
            .find(|(g, _)| g == guest)
            .map_or(&[], |(_, nodes)| nodes.as_slice())
    }
}

/// Add `xen,passthrough` (empty) to every marked host node that lacks it.
pub fn mark(fdt: &mut Fdt, assignments: &Assignments) {
    for path in assignments.marked_nodes() {
        let Some(spelt) = query::find(fdt, &path, true).map(|a| a.path) else {
            continue;
        };
        if let Some(node) = fdt.node_mut(&spelt) {
            if node.property("xen,passthrough").is_none() {
                node.set_property("xen,passthrough", Vec::new());
            }
        }
    }
}

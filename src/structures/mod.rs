//! The structures xencfg writes with phandles (spec §1.4): cpupools, static
//! event channels, static shared memory, static memory and vCPU affinity.
//!
//! [`crate::lower::structures`] reads the cfg keys into the typed
//! [`crate::model::structures`] during lowering; [`resolve`] ties them
//! together per boot section (which guest an event channel reaches, which
//! guests share a region, which pools a section uses), for the checks and
//! for [`crate::analyze::structures_dt`], which writes the nodes.

use crate::binding;
use crate::binding::value::{Kib, PropertyValue};
use crate::model::{GuestProperty, System};

/// Give every guest with `static-mem` and no `memory` the sum of its ranges
/// (spec §1.4). A sum that is not whole pages is left underived: the
/// alignment check reports it, and the missing `memory` is not reported
/// again.
pub fn derive_memory(system: &mut System) {
    for guest in system.sections.iter_mut().flat_map(|s| s.guests.iter_mut()) {
        if guest.property(&binding::MEMORY).is_some()
            || guest.rejected.iter().any(|r| r == binding::MEMORY.dt_name)
        {
            continue;
        }
        let structures = &guest.structures;
        match &structures.static_mem {
            Some(mem) if mem.total() % 4096 == 0 => {
                let span = mem.span;
                let kib = Kib(mem.total() / 1024);
                guest.properties.push(GuestProperty {
                    dt_name: binding::MEMORY.dt_name.to_string(),
                    value: PropertyValue::Memory(kib),
                    span,
                });
            }
            Some(_) => guest.rejected.push(binding::MEMORY.dt_name.to_string()),
            None if structures.static_mem_rejected => {
                guest.rejected.push(binding::MEMORY.dt_name.to_string())
            }
            None => {}
        }
    }
}

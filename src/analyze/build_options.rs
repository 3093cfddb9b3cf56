//! The build options a boot section relies on, by what its guests use:
//! listed in the manifest and judged against the target by the checks.

use crate::binding;
use crate::model::{BootSection, System};
use crate::target::kconfig::scheduler_option;
use std::collections::BTreeSet;

/// The build options a boot section relies on, by what its guests use
/// (schedulers of its cpupools included).
pub fn required_options(
    system: &System,
    section: &BootSection,
    links: &super::resolve::Links,
) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    if !section.guests.is_empty() {
        out.insert("CONFIG_DOM0LESS_BOOT");
    }
    for pool in links.pools(system) {
        if let Some(o) = pool.sched.as_ref().and_then(|s| scheduler_option(&s.value)) {
            out.insert(o);
        }
    }
    for guest in &section.guests {
        for p in &guest.properties {
            if let Some(symbol) = binding::lookup(&p.dt_name).and_then(|s| s.requires) {
                out.insert(symbol);
            }
            if let crate::binding::value::PropertyValue::Str(value) = &p.value {
                if let Some(symbol) = binding::value_requires(&p.dt_name, value) {
                    out.insert(symbol);
                }
            }
        }
        for key in guest.structures.keys_used() {
            if let Some(symbol) = binding::structure(key).and_then(|s| s.requires) {
                out.insert(symbol);
            }
        }
    }
    out
}

//! The merged tree of each boot section as Xen will get it: its size after
//! the EFI stub's enlargement and its phandles (XC0713, XC0720).

use crate::analyze::Plan;
use crate::diag::Diagnostics;
use std::collections::HashSet;

pub fn check(plan: &Plan, diags: &mut Diagnostics) {
    // Sections naming one host DTB share its problems: said once.
    let mut said = HashSet::new();
    for (index, section) in plan.system.sections.iter().enumerate() {
        let (Some(dtb), Some(merged)) = (&section.dtb, plan.merged(index)) else {
            continue;
        };
        let len = merged.blob.len();
        super::host::check_size(len, plan.cfg_bytes.len(), dtb.span, &section.name, diags);
        let mut found = Diagnostics::default();
        super::host::check_phandles(&merged.tree, &dtb.source, &mut found);
        for d in found.into_vec() {
            if said.insert((format!("{:?}", d.location), d.message.clone())) {
                diags.push(d);
            }
        }
    }
}

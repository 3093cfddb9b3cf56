//! What the host tree itself brings to a boot section: the domains it
//! already describes under `/chosen` take the first domids, and the
//! modules they load by `xen,uefi-binary` are loaded by Xen's EFI stub as
//! ours are, so they are checked, hashed, staged and listed like ours.

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics};
use crate::fdt::Fdt;
use crate::model::System;
use std::path::Path;
use std::sync::Arc;

/// Domain nodes already in a section's host tree take the first domids:
/// ours are numbered after them.
pub fn number_after_host_domains(system: &mut System, hosts: &[Option<Arc<Fdt>>]) {
    for (section, host) in system.sections.iter_mut().zip(hosts) {
        if let Some(host) = host {
            let offset = existing_domains(host);
            for g in &mut section.guests {
                g.domid += offset;
            }
        }
    }
}

/// Record in each section the modules its host tree's domains load.
pub fn attach_domain_modules(
    system: &mut System,
    hosts: &[Option<Arc<Fdt>>],
    diags: &mut Diagnostics,
) {
    let root = system.root.clone();
    for (section, host) in system.sections.iter_mut().zip(hosts) {
        if let (Some(host), Some(dtb)) = (host, &section.dtb) {
            section.host_domain_modules = domain_modules(host, &dtb.source, dtb.span, &root, diags);
        }
    }
}

/// The modules the host tree's own domains load by `xen,uefi-binary`.
/// Xen's EFI stub loads them as it loads ours, so each must be a path in
/// Xen's directory that exists; they are hashed, staged and listed like
/// ours. Findings point at the cfg's `dtb=` (the line that brings them in)
/// and name the node.
fn domain_modules(
    host: &Fdt,
    dtb_file: &Path,
    dtb_span: crate::diag::Span,
    root: &Path,
    diags: &mut Diagnostics,
) -> Vec<crate::model::Module> {
    let Some(chosen) = host.node("/chosen") else {
        return Vec::new();
    };
    let mut modules = Vec::new();
    for domain in chosen
        .children
        .iter()
        .filter(|n| n.is_compatible("xen,domain"))
    {
        for module in &domain.children {
            if module.property("xen,uefi-binary").is_none() {
                continue; // loaded by address (`reg`), not by the EFI stub
            }
            let node = format!("/chosen/{}/{}", domain.name, module.name);
            let Some(text) = crate::fdt::query::string_value(module, "xen,uefi-binary") else {
                diags.push(
                    Diagnostic::at(
                        &c::ESP_BAD_NAME,
                        dtb_span,
                        format!(
                            "`{node}` in {} has a `xen,uefi-binary` that is not one string",
                            dtb_file.display()
                        ),
                    )
                    .help("give it the module's path relative to Xen's directory, as one string"),
                );
                continue;
            };
            let mut found = Diagnostics::default();
            let path = crate::esp::EspPath::parse(&text, dtb_span, &mut found);
            for mut d in found.into_vec() {
                d.message = format!("`{node}` in {}: {}", dtb_file.display(), d.message);
                diags.push(d);
            }
            if let Some(path) = path {
                modules.push(crate::model::Module {
                    role: crate::model::ModuleRole::HostDomain,
                    source: path.host_path(root),
                    path,
                    span: dtb_span,
                    bootargs: None,
                    generated: false,
                });
            }
        }
    }
    modules
}

/// Domain nodes already in the host tree take the first domids.
fn existing_domains(host: &Fdt) -> u32 {
    host.node("/chosen")
        .map(|c| {
            c.children
                .iter()
                .filter(|n| n.is_compatible("xen,domain"))
                .count() as u32
        })
        .unwrap_or(0)
}

//! Checks of the host DTB's `/chosen` against the boot section (XC07xx):
//! what the EFI stub will add there and what it refuses.

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::fdt::Fdt;
use crate::load::trees::MAX_FDT_SIZE;
use crate::model::BootSection;
use std::path::Path;

fn at(file: &Path, node: &str, property: Option<&str>) -> Location {
    Location::Tree {
        file: file.to_path_buf(),
        node: node.to_string(),
        property: property.map(str::to_string),
    }
}

/// The host tree's `/chosen` against the section.
pub fn check(view: &crate::analyze::SectionView, diags: &mut Diagnostics) {
    if let (Some(host), Some(dtb)) = (view.host_tree, &view.section.dtb) {
        check_chosen(host, &dtb.source, view.section, diags);
    }
}

/// `dtb_file` is the host DTB as named for the user (for locations).
fn check_chosen(host: &Fdt, dtb_file: &Path, section: &BootSection, diags: &mut Diagnostics) {
    let Some(chosen) = host.node("/chosen") else {
        return; // xencfg creates it
    };
    if chosen
        .property("ranges")
        .is_some_and(|r| !r.value.is_empty())
    {
        diags.push(
            Diagnostic::new(
                &c::CHOSEN_RANGES,
                at(dtb_file, "/chosen", Some("ranges")),
                "`/chosen` has a non-empty `ranges`",
            )
            .note("Xen's EFI stub stops: \"Unable to setup chosen node\"")
            .help("remove `ranges` from `/chosen` in the host DTS"),
        );
    }
    if chosen.property("linux,initrd-start").is_some() {
        diags.push(
            Diagnostic::new(&c::CHOSEN_INITRD, at(dtb_file, "/chosen", Some("linux,initrd-start")), "`/chosen` has `linux,initrd-start`")
                .note("Xen registers it as dom0's ramdisk before any cfg module, with addresses that are stale under EFI")
                .help("remove `linux,initrd-start` and `linux,initrd-end` from the host DTS"),
        );
    }
    let cfg_modules = [
        ("kernel", section.dom0_kernel.as_ref(), "multiboot,kernel"),
        (
            "ramdisk",
            section.dom0_ramdisk.as_ref(),
            "multiboot,ramdisk",
        ),
        ("xsm", section.xsm.as_ref(), "xen,xsm-policy"),
    ];
    for child in &chosen.children {
        let path = format!("/chosen/{}", child.name);
        if child.property("compatible").is_none() {
            diags.push(
                Diagnostic::new(
                    &c::CHOSEN_NO_COMPATIBLE,
                    at(dtb_file, &path, None),
                    format!("`{path}` has no `compatible`"),
                )
                .note("Xen's EFI stub stops: \"Error processing boot modules on DT.\"")
                .help("add a `compatible` (an empty one is enough) or remove the node"),
            );
        }
        for (key, module, compatible) in cfg_modules {
            let Some(module) = module else { continue };
            let same_name = child.base_name() == key;
            let loaded_module =
                child.is_compatible(compatible) && child.property("xen,uefi-binary").is_some();
            if same_name || loaded_module {
                let why = if same_name {
                    format!(
                        "the EFI stub adds `/chosen/{key}` for `{key}=` and cannot: \"Unable to add dom0 FDT node\""
                    )
                } else {
                    format!(
                        "the DTB already loads a dom0 `{compatible}`: \"already found in cfg file\""
                    )
                };
                diags.push(
                    Diagnostic::at(
                        &c::CHOSEN_MODULE_CLASH,
                        module.span,
                        format!("`{key}=` clashes with `{path}` in the host DTB"),
                    )
                    .related(at(dtb_file, &path, None), "already in the host DTB")
                    .note(format!("{why}; Xen never starts"))
                    .help(format!(
                        "remove `{path}` from the host DTS, or drop `{key}=` from the cfg"
                    )),
                );
            }
        }
        forward_slashes(dtb_file, &path, child, diags);
        if child.is_compatible("xen,domain") {
            diags.push(
                Diagnostic::new(
                    &c::CHOSEN_EXISTING_DOMAIN,
                    at(dtb_file, &path, None),
                    format!("the host DTB already describes the domain `{path}`"),
                )
                .note("xencfg keeps it; it takes a domid before the cfg's guests")
                .help("describe every guest in the cfg and remove it from the host DTS"),
            );
        }
        // Any node: the guest's would be a second node of that name.
        if let Some(g) = section.guests.iter().find(|g| g.name == child.name) {
            diags.push(
                Diagnostic::at(
                    &c::GUEST_NAME_DUP,
                    g.name_span,
                    format!("the host DTB already has `/chosen/{}`", g.name),
                )
                .related(at(dtb_file, &path, None), "already in the host DTB")
                .note("a second node of one name makes the DTB invalid (dtc: \"Duplicate node name\")")
                .help("rename the guest"),
            );
        }
    }
}

/// The phandles of a merged tree: each is neither 0 nor 0xffffffff and
/// names one node (XC0720). `linux,phandle` is the old spelling and may
/// repeat its node's `phandle`.
pub fn check_phandles(tree: &Fdt, dtb_file: &Path, diags: &mut Diagnostics) {
    use std::collections::HashMap;
    let mut owners: HashMap<u32, String> = HashMap::new();
    let mut pending = vec![(String::new(), &tree.root)];
    while let Some((path, node)) = pending.pop() {
        let shown = if path.is_empty() { "/" } else { path.as_str() };
        let mut own: Option<u32> = None;
        for property in ["phandle", "linux,phandle"] {
            let Some(value) = node.property(property) else {
                continue;
            };
            let phandle = <[u8; 4]>::try_from(value.value.as_slice()).map(u32::from_be_bytes);
            let problem = match phandle {
                Err(_) => Some(format!("`{shown}` has a `{property}` that is not one cell")),
                Ok(p @ (0 | 0xffff_ffff)) => Some(format!(
                    "`{shown}` has `{property} = <{p:#x}>`, which no phandle may be"
                )),
                Ok(p) if own == Some(p) => None,
                Ok(p) => match owners.get(&p) {
                    Some(first) => {
                        Some(format!("`{shown}` and `{first}` both have phandle {p:#x}"))
                    }
                    None => {
                        owners.insert(p, shown.to_string());
                        own = Some(p);
                        None
                    }
                },
            };
            if let Some(message) = problem {
                diags.push(
                    Diagnostic::new(&c::BAD_PHANDLE, at(dtb_file, shown, Some(property)), message)
                        .note("a reference to it resolves to no node or to the wrong one; dtc refuses the tree")
                        .help("give each node a phandle of its own between 1 and 0xfffffffe in the host DTS, or drop a raw `property=phandle=`"),
                );
            }
        }
        for child in node.children.iter().rev() {
            pending.push((format!("{path}/{}", child.name), child));
        }
    }
}

/// The merged blob must fit Xen's limit after the EFI stub enlarges it by
/// the cfg size plus 4 KiB, rounded up to pages (reference §1.10.2).
pub fn check_size(
    blob_len: usize,
    cfg_len: usize,
    dtb_span: crate::diag::Span,
    section: &str,
    diags: &mut Diagnostics,
) {
    let enlarged = (blob_len + cfg_len + 4096).div_ceil(4096) * 4096;
    if enlarged > MAX_FDT_SIZE {
        diags.push(
            Diagnostic::at(
                &c::DTB_TOO_BIG,
                dtb_span,
                format!("the merged DTB of `[{section}]` would be {enlarged} bytes in Xen"),
            )
            .note("Xen refuses a device tree larger than 2 MiB")
            .help("remove unused nodes from the host DTS"),
        );
    }
}

/// `xen,uefi-binary` strings already in the host DTB (dom0 modules, or the
/// modules of domains it describes) reach the firmware as written; EDK2
/// rejects `/` (real-xen-boot.md item 1).
fn forward_slashes(dtb_file: &Path, path: &str, node: &crate::fdt::Node, diags: &mut Diagnostics) {
    let nodes = std::iter::once((path.to_string(), node)).chain(
        node.children
            .iter()
            .map(|c| (format!("{path}/{}", c.name), c)),
    );
    for (node_path, n) in nodes {
        let Some(p) = n.property("xen,uefi-binary") else {
            continue;
        };
        let value =
            String::from_utf8_lossy(p.value.strip_suffix(&[0]).unwrap_or(&p.value)).into_owned();
        if value.contains('/') {
            diags.push(
                Diagnostic::new(
                    &c::ESP_SLASH,
                    at(dtb_file, &node_path, Some("xen,uefi-binary")),
                    format!("`xen,uefi-binary = \"{value}\"` uses `/`"),
                )
                .note("EDK2's FAT driver rejects `/`: Xen stops with \"Open failed for ...\"")
                .help(format!(
                    "write \"{}\" (in DTS source: `\\\\`)",
                    value.replace('/', "\\")
                )),
            );
        }
    }
}

//! Host device trees: each distinct `dtb=` + `dtbo=` list read, bounded,
//! and its overlays applied once, shared by the sections naming it — a cfg
//! may name one large host DTB in thousands of sections. Problems reading
//! them are reported once, at the first section naming them.

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::fdt::Fdt;
use crate::load::hash::FileFacts;
use crate::load::input::{ReadError, read_capped};
use crate::model::{Module, System};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Xen refuses a device tree larger than this (MAX_FDT_SIZE).
pub const MAX_FDT_SIZE: usize = 2 << 20;

/// Per boot section (in order): its host tree with overlays applied, or
/// `None` without `dtb=` or when it could not be read (reported).
pub fn host_trees(
    system: &System,
    facts: &BTreeMap<PathBuf, FileFacts>,
    diags: &mut Diagnostics,
) -> Vec<Option<Arc<Fdt>>> {
    let mut read: HashMap<(PathBuf, Vec<PathBuf>), Option<Arc<Fdt>>> = HashMap::new();
    system
        .sections
        .iter()
        .map(|section| {
            let dtb = section.dtb.as_ref()?;
            let overlays = section.dtbos.iter().map(|o| o.source.clone()).collect();
            read.entry((dtb.source.clone(), overlays))
                .or_insert_with(|| {
                    facts.get(&dtb.source)?; // missing or unreadable: already reported
                    let mut tree = read_tree(&dtb.source, dtb.span, diags)?;
                    for overlay in &section.dtbos {
                        apply_overlay(&mut tree, overlay, facts, diags);
                    }
                    Some(Arc::new(tree))
                })
                .clone()
        })
        .collect()
}

fn read_tree(path: &Path, span: Span, diags: &mut Diagnostics) -> Option<Fdt> {
    // A tree larger than Xen accepts can never boot; refusing it before
    // reading keeps memory bounded whatever the file is.
    let bytes = match read_capped(path, MAX_FDT_SIZE as u64) {
        Ok(b) => b,
        Err(ReadError::TooLarge { size, .. }) => {
            diags.push(
                Diagnostic::at(
                    &c::DTB_TOO_BIG,
                    span,
                    format!("{} is {size} bytes", path.display()),
                )
                .note("Xen refuses a device tree larger than 2 MiB")
                .help("name the device tree blob itself, or remove unused nodes from its source"),
            );
            return None;
        }
        Err(e) => {
            diags.push(Diagnostic::at(&c::FILE_UNREADABLE, span, e.message(path)));
            return None;
        }
    };
    match Fdt::from_bytes(&bytes) {
        Ok(fdt) => Some(fdt),
        Err(e) => {
            diags.push(
                Diagnostic::at(
                    &c::BAD_HOST_DTB,
                    span,
                    format!("{} is not a valid device tree blob: {e}", path.display()),
                )
                .note("Xen's EFI stub stops: \"Unable to create new FDT\"")
                .help("rebuild it with `dtc -I dts -O dtb`"),
            );
            None
        }
    }
}

/// Apply one `dtbo=` overlay to the host tree, as fdtoverlay does.
fn apply_overlay(
    tree: &mut Fdt,
    overlay: &Module,
    facts: &BTreeMap<PathBuf, FileFacts>,
    diags: &mut Diagnostics,
) {
    if !facts.contains_key(&overlay.source) {
        return; // missing or unreadable: already reported
    }
    let Some(dtbo) = read_tree(&overlay.source, overlay.span, diags) else {
        return;
    };
    if let Err(e) = crate::fdt::overlay::apply(tree, &dtbo) {
        diags.push(
            Diagnostic::at(
                &c::DTBO_FAILED,
                overlay.span,
                format!("cannot apply the overlay `{}`: {e}", overlay.path),
            )
            .help("check the overlay's targets against the host DTB (fdtoverlay reports the same)"),
        );
    }
}

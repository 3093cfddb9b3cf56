//! Checks on the referenced files themselves (XC04xx): each is non-empty
//! and what its role needs (a kernel Xen can probe, a ramdisk that is not
//! a kernel), judged from the facts [`crate::load::files`] gathered.

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::esp::EspPath;
use crate::load::hash::FileFacts;
use crate::load::image::ImageFormat;
use crate::model::{Module, ModuleRole, System};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Every file against the role each reference gives it.
pub fn check(plan: &crate::analyze::Plan, diags: &mut Diagnostics) {
    let system = &plan.system;
    // A host tree's domain module naming a file the cfg names too was
    // judged as the cfg's.
    let named: std::collections::HashSet<&PathBuf> = system
        .modules()
        .filter(|(_, m)| m.role != ModuleRole::HostDomain)
        .map(|(_, m)| &m.source)
        .collect();
    let modules: Vec<&Module> = system
        .modules()
        .map(|(_, m)| m)
        .filter(|m| !m.generated)
        .filter(|m| m.role != ModuleRole::HostDomain || !named.contains(&m.source))
        .collect();
    check_content(&modules, &plan.facts, diags);
    shared_compressed_kernels(system, &plan.facts, diags);
}

/// Content rules for every reference of a file (each reference may have
/// another role, so this runs per reference, not per file).
fn check_content(
    modules: &[&Module],
    facts: &BTreeMap<PathBuf, FileFacts>,
    diags: &mut Diagnostics,
) {
    for m in modules {
        if let Some(f) = facts.get(&m.source) {
            check_reference(m, f, diags);
        }
    }
}

fn check_reference(m: &Module, f: &FileFacts, diags: &mut Diagnostics) {
    if f.size == 0 {
        diags.push(
            Diagnostic::at(&c::FILE_EMPTY, m.span, format!("`{}` is empty", m.path))
                .note("Xen rejects a zero-size module (\"Missing kernel boot module?\")")
                .help("point at the real file; was the build step that makes it skipped?"),
        );
        return;
    }
    match m.role {
        ModuleRole::Kernel | ModuleRole::Dom0Kernel if !f.format.is_bootable_kernel() => {
            let what = f.format.describe();
            let mut d = Diagnostic::at(
                &c::KERNEL_FORMAT,
                m.span,
                format!("`{}` is {what}, which Xen cannot boot as a kernel", m.path),
            )
            .note("Xen's kernel probe accepts an arm64 Image, gzip, uImage or arm32 zImage; anything else panics at boot");
            d = d.help(match f.format {
                ImageFormat::Xz
                | ImageFormat::Lz4
                | ImageFormat::Zstd
                | ImageFormat::Bzip2
                | ImageFormat::Lzma => {
                    "use the uncompressed Image, or compress it with gzip".to_string()
                }
                ImageFormat::EfiZboot => {
                    "use the plain arm64 Image (CONFIG_EFI_ZBOOT=n), not the zboot vmlinuz"
                        .to_string()
                }
                ImageFormat::Elf => "use arch/arm64/boot/Image, not vmlinux".to_string(),
                _ => "point at the kernel image (arch/arm64/boot/Image)".to_string(),
            });
            diags.push(d);
        }
        ModuleRole::Ramdisk | ModuleRole::Dom0Ramdisk
            if matches!(
                f.format,
                ImageFormat::Arm64Image
                    | ImageFormat::ZImage
                    | ImageFormat::UImage
                    | ImageFormat::Fdt
            ) =>
        {
            diags.push(
                Diagnostic::at(
                    &c::RAMDISK_LOOKS_WRONG,
                    m.span,
                    format!(
                        "the ramdisk `{}` looks like {}",
                        m.path,
                        f.format.describe()
                    ),
                )
                .note("Xen does not inspect ramdisks; the guest kernel will fail to unpack it")
                .help("check that the kernel and ramdisk are not swapped"),
            );
        }
        ModuleRole::HostDtb | ModuleRole::Overlay | ModuleRole::DeviceTree
            if f.format != ImageFormat::Fdt =>
        {
            diags.push(
                Diagnostic::at(
                    &c::BAD_HOST_DTB,
                    m.span,
                    format!(
                        "`{}` is {}, not a device tree blob",
                        m.path,
                        f.format.describe()
                    ),
                )
                .help("compile the source with `dtc -I dts -O dtb`"),
            );
        }
        ModuleRole::Xsm if f.format != ImageFormat::XsmPolicy => diags.push(
            Diagnostic::at(
                &c::RAMDISK_LOOKS_WRONG,
                m.span,
                format!("`{}` does not start with the FLASK policy magic", m.path),
            )
            .severity(Severity::Warning)
            .help("point `xsm=` at the compiled policy (xenpolicy-*)"),
        ),
        _ => {}
    }
}

/// Guests of one boot section sharing a gzip kernel by the same ESP string:
/// Xen decompresses it in place of the shared module and the second guest
/// panics (reference §3.1, real-xen-boot.md item 5).
fn shared_compressed_kernels(
    system: &System,
    facts: &BTreeMap<PathBuf, FileFacts>,
    diags: &mut Diagnostics,
) {
    for section in &system.sections {
        let kernels: Vec<(&str, &Module)> = section
            .guests
            .iter()
            .filter_map(|g| g.kernel.as_ref().map(|k| (g.name.as_str(), k)))
            .collect();
        // The first guest using each gzip kernel, by its ESP string.
        let mut first_user: HashMap<&EspPath, (&str, &Module)> = HashMap::new();
        for &(name, k) in &kernels {
            let compressed = facts
                .get(&k.source)
                .is_some_and(|f| f.format == ImageFormat::Gzip);
            if !compressed {
                continue;
            }
            if let Some(&(first_name, first)) = first_user.get(&k.path) {
                diags.push(
                    Diagnostic::at(
                        &c::SHARED_COMPRESSED_KERNEL,
                        k.span,
                        format!("guests `{first_name}` and `{name}` share the gzip-compressed kernel `{}`", k.path),
                    )
                    .related(Location::Text(first.span), format!("`{first_name}` uses it here"))
                    .note("Xen loads the file once and replaces it with the decompressed copy for the first guest; the second panics \"Missing kernel boot module?\"")
                    .help(format!("give `{name}` its own copy under another name, or use the uncompressed Image")),
                );
            } else {
                first_user.insert(&k.path, (name, k));
            }
        }
    }
}

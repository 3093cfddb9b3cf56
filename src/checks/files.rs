//! Checks on the referenced files themselves (XC04xx): they exist, are
//! regular and non-empty, and are what their role needs (a kernel Xen can
//! probe, a ramdisk that is not a kernel). Also gathers each file's facts
//! (size and format) from its first bytes; `build` hashes the files only
//! once every check has passed (`Compiled::hash_inputs`), so a mistake is
//! reported at once however large the files it names.

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::esp::EspPath;
use crate::hash::{self, FileFacts};
use crate::image::ImageFormat;
use crate::model::{Module, ModuleRole, System};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::PathBuf;

/// Sniff every distinct referenced file once: size and format from its
/// first bytes.
pub fn inspect(system: &System, diags: &mut Diagnostics) -> BTreeMap<PathBuf, FileFacts> {
    let modules: Vec<&Module> = system.modules().map(|(_, m)| m).collect();
    inspect_modules(&modules, diags)
}

/// [`inspect`] for some modules (those of the host DTB's own domains,
/// known once the host tree is read).
pub fn inspect_modules(
    modules: &[&Module],
    diags: &mut Diagnostics,
) -> BTreeMap<PathBuf, FileFacts> {
    // First reference of each file, for the diagnostic location.
    let mut first: BTreeMap<PathBuf, &Module> = BTreeMap::new();
    for m in modules {
        first.entry(m.source.clone()).or_insert(m);
    }

    let mut readable: Vec<(PathBuf, &Module)> = Vec::new();
    for (path, module) in &first {
        match fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut d = Diagnostic::at(
                    &c::FILE_MISSING,
                    module.span,
                    format!(
                        "`{}` does not exist (looked for {})",
                        module.path,
                        path.display()
                    ),
                )
                .note("Xen's EFI loader stops: \"Open failed for ...\"");
                d = d.help(match fs::symlink_metadata(path) {
                    Ok(_) => {
                        "the path is a dangling symbolic link; point it at the file".to_string()
                    }
                    Err(_) => format!(
                        "paths are relative to the cfg's directory (or --root): put the file at {}",
                        path.display()
                    ),
                });
                diags.push(d);
            }
            Err(e) => diags.push(
                Diagnostic::at(
                    &c::FILE_UNREADABLE,
                    module.span,
                    format!("cannot read `{}`: {e}", module.path),
                )
                .help("check the file's permissions, or for a symbolic link loop, its target"),
            ),
            Ok(meta) if !meta.is_file() => diags.push(
                Diagnostic::at(
                    &c::FILE_NOT_REGULAR,
                    module.span,
                    format!(
                        "`{}` is {}, not a regular file",
                        module.path,
                        crate::input::kind_of(&meta)
                    ),
                )
                .help("name the file itself"),
            ),
            Ok(_) => readable.push((path.clone(), module)),
        }
    }

    let results: Vec<io::Result<FileFacts>> =
        readable.iter().map(|(p, _)| hash::sniff_file(p)).collect();

    let mut facts = BTreeMap::new();
    for ((path, module), result) in readable.into_iter().zip(results) {
        match result {
            Ok(f) => {
                facts.insert(path, f);
            }
            // Regular by its type, but not a file: its size lies.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => diags.push(
                Diagnostic::at(&c::FILE_NOT_REGULAR, module.span, e.to_string())
                    .help("name the file itself, not a view of the running system"),
            ),
            Err(e) => diags.push(
                Diagnostic::at(
                    &c::FILE_UNREADABLE,
                    module.span,
                    format!("cannot read `{}`: {e}", module.path),
                )
                .help("check the file's permissions"),
            ),
        }
    }

    for m in modules {
        if let Some(f) = facts.get(&m.source) {
            check_content(m, f, diags);
        }
    }
    facts
}

/// Content rules for one reference of a file (each reference may have
/// another role, so this runs per reference, not per file).
fn check_content(m: &Module, f: &FileFacts, diags: &mut Diagnostics) {
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
pub fn shared_compressed_kernels(
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

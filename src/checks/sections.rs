//! Checks on a boot section as a whole: what the EFI loader loads, the Xen
//! command line, and the ESP paths across the whole cfg.

use crate::analyze::{Plan, SectionView};
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::model::{BootSection, ModuleRole, System};
use crate::target::{Target, XenVersion};

/// MAX_UEFI_MODULES: 32 boot modules minus Xen and the DTB (reference §1.10.5).
pub const MAX_EFI_FILES: usize = 30;
/// The EFI stub builds the Xen command line in 4096 bytes, NUL included.
pub const MAX_XEN_CMDLINE: usize = 4095;

/// A boot section as a whole.
pub fn check(view: &SectionView, diags: &mut Diagnostics) {
    let host_bootargs = view
        .host_tree
        .and_then(|h| h.node("/chosen"))
        .is_some_and(|c| c.property("xen,xen-bootargs").is_some());
    check_section(
        view.section,
        view.target,
        &view.plan.options.efi_name,
        host_bootargs,
        diags,
    );
}

/// A section with guests or overlays needs a host DTB to put them in.
pub fn host_dtb_named(view: &SectionView, diags: &mut Diagnostics) {
    let section = view.section;
    if let (None, Some(overlay)) = (&section.dtb, section.dtbos.first()) {
        diags.push(
            Diagnostic::at(
                &c::MISSING_HOST_DTB,
                overlay.span,
                format!(
                    "section `[{}]` has `dtbo=` but no `dtb=` to apply it to",
                    section.name
                ),
            )
            .note("xencfg applies overlays to the host DTB at build time")
            .help("add `dtb=<host DTB>` to the section, or remove the `dtbo=`"),
        );
    }
    if section.dtb.is_none() && !section.guests.is_empty() {
        diags.push(
            Diagnostic::at(
                &c::MISSING_HOST_DTB,
                section.header,
                format!("section `[{}]` has guests but no `dtb=`", section.name),
            )
            .help("add `dtb=<host DTB>` to the section"),
        );
    }
}

/// The section the emitted cfg boots by default: `--section` must name a
/// boot section, and so should `[global] default=`.
pub fn default_section(plan: &Plan, diags: &mut Diagnostics) {
    let system = &plan.system;
    let first = system
        .sections
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    if let Some(name) = &plan.options.section {
        if system.section(name).is_none() {
            let names: Vec<String> = system
                .sections
                .iter()
                .map(|s| format!("`{}`", s.name))
                .collect();
            let mut d = Diagnostic::new(
                &c::UNKNOWN_SECTION_ARG,
                Location::File(plan.options.cfg.clone()),
                format!("`--section {name}` names no boot section"),
            );
            if plan.doc.section(name).is_some() {
                d = d.note(format!(
                    "`[{name}]` is a guest section: Xen boots it as a guest, never as dom0"
                ));
            }
            diags.push(d.help(format!("the boot sections are {}", names.join(", "))));
        }
        return;
    }
    match &system.default_section {
        Some(d) if system.section(&d.value).is_some() => {}
        Some(d) => {
            // A default naming no section at all is reported by the lexer;
            // here: it names a guest section.
            if plan.doc.section(&d.value).is_some() {
                diags.push(
                    Diagnostic::at(
                        &c::DEFAULT_UNKNOWN_SECTION,
                        d.span,
                        format!(
                            "`default={}` names a guest section, not a boot section",
                            d.value
                        ),
                    )
                    .help(format!("use `default={first}`")),
                );
            }
        }
        None => {
            if !system.sections.is_empty() {
                diags.push(
                    Diagnostic::new(
                        &c::NO_DEFAULT_SECTION,
                        Location::File(plan.options.cfg.clone()),
                        "the cfg has no `[global] default=`",
                    )
                    .note(format!("xencfg emits `default={first}`"))
                    .help(format!("add `[global]` with `default={first}`")),
                );
            }
        }
    }
}

/// The ESP names: paths FAT confuses, and the names xencfg writes.
pub fn names(plan: &Plan, diags: &mut Diagnostics) {
    case_clashes(&plan.system, diags);
    output_names(&plan.system, &plan.options.efi_name, diags);
}

fn check_section(
    section: &BootSection,
    target: &Target,
    efi_name: &str,
    host_bootargs: bool,
    diags: &mut Diagnostics,
) {
    let files = section.efi_loaded_files();
    if files.len() > MAX_EFI_FILES {
        diags.push(
            Diagnostic::at(
                &c::TOO_MANY_EFI_FILES,
                section.header,
                format!("section `[{}]` makes Xen's EFI loader load {} files", section.name, files.len()),
            )
            .note("Xen loads at most 30 (cfg kernel/ramdisk/xsm plus each distinct xen,uefi-binary); then \"No space left for modules\"")
            .help("share identical ramdisks and uncompressed kernels between guests (same file name), or boot fewer guests"),
        );
    }
    if section.dom0_kernel.is_none() && section.guests.is_empty() {
        diags.push(
            Diagnostic::at(
                &c::NOTHING_TO_BOOT,
                section.header,
                format!(
                    "section `[{}]` has neither `kernel=` nor guests",
                    section.name
                ),
            )
            .note("Xen stops: \"No initial domain kernel specified.\"")
            .help("add dom0's `kernel=` or dom0less guests (`domains=` or `domu1_kernel=`)"),
        );
    }
    // With guests, a missing `dtb=` is an error (XC0211) instead.
    if section.dtb.is_none() && section.dom0_kernel.is_some() && section.guests.is_empty() {
        diags.push(
            Diagnostic::at(
                &c::FIRMWARE_DEVICE_TREE,
                section.header,
                format!(
                    "section `[{}]` has no `dtb=`: Xen boots it on the firmware's device tree",
                    section.name
                ),
            )
            .note("firmware that installs ACPI tables and no device tree leaves Xen without a console or devices: it stops silently")
            .help("add `dtb=<the board's DTB>`, or `--allow firmware-device-tree` when the firmware provides one"),
        );
    }
    check_options(section, target, efi_name, host_bootargs, diags);
}

fn check_options(
    section: &BootSection,
    target: &Target,
    efi_name: &str,
    host_bootargs: bool,
    diags: &mut Diagnostics,
) {
    let v = target.version;
    match &section.options {
        None if v >= XenVersion::new(4, 19) && !host_bootargs => diags.push(
            Diagnostic::at(&c::EMPTY_OPTIONS, section.header, format!("section `[{}]` has no `options=`", section.name))
                .note(format!("Xen {v} then builds its command line from an uninitialised buffer and may boot with garbage options"))
                .help("add `options=` with Xen's command line, e.g. `options=console=dtuart`"),
        ),
        Some(o) if o.value.is_empty() && host_bootargs => diags.push(
            Diagnostic::at(&c::EMPTY_OPTIONS, o.span, "an empty `options=` discards the host DTB's `xen,xen-bootargs`")
                .severity(Severity::Warning)
                .help("remove the empty `options=` to keep the DTB's command line, or write the options here"),
        ),
        Some(o) => {
            // 4.15-4.18 prefix the image name; 4.19+ a single blank.
            let prefix = if v >= XenVersion::new(4, 19) { 1 } else { efi_name.len() + 5 };
            let total = prefix + o.value.len();
            if total > MAX_XEN_CMDLINE {
                diags.push(
                    Diagnostic::at(&c::OPTIONS_TOO_LONG, o.span, format!("the Xen command line is {total} bytes long"))
                        .note("the EFI stub stops with \"FDT string overflow\" past 4095 bytes")
                        .help("shorten `options=`"),
                );
            }
        }
        None => {}
    }
}

/// Paths that FAT sees as one file but Xen as two (case differs). The
/// fragments xencfg names itself are checked when they are named.
fn case_clashes(system: &System, diags: &mut Diagnostics) {
    let paths = system
        .modules()
        .filter(|(_, m)| !m.generated)
        .map(|(_, m)| (&m.path, m.span));
    for d in crate::esp::case_clashes(paths) {
        diags.push(d);
    }
}

/// The names xencfg writes into Xen's directory, checked like every ESP
/// path and against each other and every module, case aside (FAT): a
/// boot section's `<name>.dtb` and `.dts`, `<efi-name>.cfg` and `.efi`,
/// `manifest.json`. Whatever `build` could not write, `check` reports.
fn output_names(system: &System, efi_name: &str, diags: &mut Diagnostics) {
    use crate::esp::check_file_name;
    use std::collections::HashMap;

    let mut efi_findings = Diagnostics::default();
    // Relocated to the command line below; the span is never rendered.
    let nowhere = crate::diag::Span {
        file: crate::diag::FileId(0),
        offset: 0,
        len: 0,
        line: 1,
        col: 1,
    };
    let efi_usable = check_file_name(efi_name, ".efi", nowhere, &mut efi_findings);
    for mut d in efi_findings.into_vec() {
        d.location = Location::Nowhere;
        d.message = format!("`--efi-name {efi_name}`: {}", d.message);
        diags.push(d);
    }

    // FAT key → the name, what writes it, and where that is said.
    let mut written: HashMap<String, (String, String, Location)> = HashMap::new();
    const MODULE: &str = "a module";
    // Whether `name` was free (else the clash is reported).
    let mut claim = |name: String, what: String, at: Location, diags: &mut Diagnostics| {
        let key = crate::esp::EspPath::from_components(vec![name.clone()]).fat_key();
        let Some((first_name, first, first_at)) = written.get(&key) else {
            written.insert(key, (name, what, at));
            return true;
        };
        if first == MODULE && what == MODULE {
            return false; // two spellings of one module: XC0503's
        }
        let mut d = Diagnostic::new(
            &c::ESP_OUTPUT_CLASH,
            at,
            format!("`{name}` ({what}) is the same file on FAT as `{first_name}` ({first})"),
        )
        .note("FAT compares names without case: one would overwrite the other on the ESP")
        .help("rename one of them");
        if *first_at != Location::Nowhere {
            d = d.related(first_at.clone(), format!("`{first_name}` comes from here"));
        }
        diags.push(d);
        false
    };
    if efi_usable {
        for ext in ["cfg", "efi"] {
            let what = format!("Xen's {}", if ext == "cfg" { "cfg" } else { "binary" });
            claim(format!("{efi_name}.{ext}"), what, Location::Nowhere, diags);
        }
    }
    claim(
        crate::analyze::MANIFEST_NAME.to_string(),
        "the manifest".into(),
        Location::Nowhere,
        diags,
    );
    for section in system.sections.iter().filter(|s| s.dtb.is_some()) {
        if !check_file_name(&section.name, ".dtb", section.header, diags) {
            continue;
        }
        // The review's clash follows from the DTB's: reported once.
        for (ext, what) in [("dtb", "merged DTB"), ("dts", "DTS review (`--emit-dts`)")] {
            let free = claim(
                format!("{}.{ext}", section.name),
                format!("the {what} of section `[{}]`", section.name),
                Location::Text(section.header),
                diags,
            );
            if !free {
                break;
            }
        }
    }
    // Modules in Xen's directory itself; deeper ones cannot meet these
    // names, and their clashes with each other are XC0503's.
    let mut seen = std::collections::HashSet::new();
    for (_, m) in system.modules().filter(|(_, m)| !m.generated) {
        if matches!(m.role, ModuleRole::HostDtb | ModuleRole::Overlay) {
            continue; // consumed by xencfg, never installed
        }
        if let [name] = m.path.components() {
            if seen.insert(name.clone()) {
                claim(name.clone(), MODULE.into(), Location::Text(m.span), diags);
            }
        }
    }
}

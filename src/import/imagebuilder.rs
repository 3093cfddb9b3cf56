//! `xencfg import imagebuilder CONFIG`: an ImageBuilder config as a
//! xen.cfg in section form.
//!
//! ImageBuilder (the bash tool that writes U-Boot scripts for dom0less) is
//! configured by a file of bash variables; [`super::shell`] reads it
//! as data. Each variable is either translated (the Xen command line, dom0,
//! the host DTB and overlays, and per guest its kernel, ramdisk, passthrough
//! DTB, memory in MB, vCPUs, command line, static memory, direct map,
//! `xen,enhanced`, grant limits, SPIs, capabilities, the P2M pool
//! (`DOMU_P2M_MEM_MB`), `passthrough` (`DOMU_PASSTHROUGH_PROP`), and the linked
//! structures: cpupools, static shared memory, static event channels and
//! vCPU affinity), or reported:
//! - XC1102: what ImageBuilder itself silently ignores (guest indices at or
//!   past `NUM_DOMUS`, `DOMU_CPUPOOL` without pools, overlays past
//!   `NUM_DT_OVERLAY`);
//! - XC1103: U-Boot settings with no EFI equivalent (`MEMORY_START`,
//!   `LOAD_CMD`, `BOOT_CMD`, `UBOOT_*`, FIT, …), dropped;
//! - XC1104: settings xencfg's cfg language has no key for (Xilinx's
//!   downstream `colors`, `viommu`, `DOMU_DOMID`), written as comments,
//!   never as invented keys;
//! - XC1105: values ImageBuilder would turn into a broken script (`512M`
//!   where MB are expected, a missing `DOMU_KERNEL`);
//! - XC1106: variables ImageBuilder does not know;
//! - XC1107: where the cfg deliberately differs from what ImageBuilder
//!   would have produced.
//!
//! Guests keep ImageBuilder's node names (`domU0`, `domU1`, …) and order,
//! so their domids are the same. Errors mean no output at all.

use super::shell::{self, Assignment};
use crate::binding;
use crate::diag::codes::{self as c, Check};
use crate::diag::{Diagnostic, Diagnostics, FileId, Location, Severity, Span};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What becomes of a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Treatment {
    /// Translated into the cfg.
    Used,
    /// Only meaningful to U-Boot's boot flow.
    NoEfi,
    /// Meaningful to Xen, but the cfg language has no key for it yet.
    Unsupported,
    /// Not a boot setting (disk images, DTS repositories, bare-metal Linux).
    NotBoot,
}

use Treatment::*;

/// Every ImageBuilder variable (reference: imagebuilder-config.md §1.3),
/// whether it is indexed, and what the importer does with it.
const VARIABLES: &[(&str, bool, Treatment)] = &[
    ("NUM_DOMUS", false, Used),
    ("XEN", false, Used),
    ("XEN_CMD", false, Used),
    ("XEN_COLORS", false, Used),
    ("XEN_POLICY", false, Used),
    ("XEN_STATIC_HEAP", false, Used),
    ("DEVICE_TREE", false, Used),
    ("NUM_DT_OVERLAY", false, Used),
    ("DT_OVERLAY", true, Used),
    ("DOM0_KERNEL", false, Used),
    ("DOM0_RAMDISK", false, Used),
    ("DOM0_CMD", false, Used),
    ("DOM0_MEM", false, Used),
    ("DOM0_VCPUS", false, Used),
    ("DOM0_COLORS", false, Used),
    ("DOM0_VIOMMU", false, Used),
    ("NUM_CPUPOOLS", false, Used),
    ("DOMU_KERNEL", true, Used),
    ("DOMU_RAMDISK", true, Used),
    ("DOMU_CMD", true, Used),
    ("DOMU_MEM", true, Used),
    ("DOMU_VCPUS", true, Used),
    ("DOMU_PASSTHROUGH_DTB", true, Used),
    ("DOMU_STATIC_MEM", true, Used),
    ("DOMU_DIRECT_MAP", true, Used),
    ("DOMU_ENHANCED", true, Used),
    ("DOMU_VPL011", true, Used),
    ("DOMU_VUART_PL011", true, Used),
    ("DOMU_NR_SPIS", true, Used),
    ("DOMU_GRANT_VER", true, Used),
    ("DOMU_GRANT_FRAMES", true, Used),
    ("DOMU_MAPTRACK_FRAMES", true, Used),
    ("DOMU_CAPS", true, Used),
    ("DOMU_NOBOOT", true, Used),
    ("DOMU_ROOTFS", true, Used),
    ("CPUPOOL", true, Used),
    ("DOMU_CPUPOOL", true, Used),
    ("DOMU_SHARED_MEM", true, Used),
    ("DOMU_STATIC_EVTCHNS", true, Used),
    ("DOMU_VCPU_HARD_AFFINITY", true, Used),
    ("DOMU_PASSTHROUGH_PATHS", true, Used),
    // 2025-12 and 2026-01 (Oleksandr Tyshchenko's patches on xen-devel).
    ("DOMU_PASSTHROUGH_PROP", true, Used),
    ("DOMU_P2M_MEM_MB", true, Used),
    ("DOMU_COLORS", true, Unsupported),
    ("DOMU_VIOMMU", true, Unsupported),
    // 2025: Xen's `domid` property; xencfg numbers guests itself.
    ("DOMU_DOMID", true, Unsupported),
    ("MEMORY_START", false, NoEfi),
    ("MEMORY_END", false, NoEfi),
    ("LOAD_CMD", false, NoEfi),
    ("BOOT_CMD", false, NoEfi),
    ("EFI", false, NoEfi),
    ("UBOOT_SOURCE", false, NoEfi),
    ("UBOOT_SCRIPT", false, NoEfi),
    ("UBOOT_DIR", false, NoEfi),
    ("FIT", false, NoEfi),
    ("FIT_ENC_KEY_DIR", false, NoEfi),
    ("FIT_ENC_UB_DTB", false, NoEfi),
    ("FDTEDIT", false, NoEfi),
    ("APPEND_EXTRA_CMDS", false, NoEfi),
    ("BITSTREAM", false, NoEfi),
    ("DBG_FDT_PRINT_CHOSEN", false, NoEfi),
    ("GPT", false, NotBoot),
    ("NUM_BOOT_AUX_FILE", false, NotBoot),
    ("BOOT_AUX_FILE", true, NotBoot),
    ("DOM0_ROOTFS", false, Used),
    ("DOMU_DRIVER_DOMAIN", true, NotBoot),
    ("PASSTHROUGH_DTS_REPO", false, NotBoot),
    ("LOPPER_PATH", false, NotBoot),
    ("LOPPER_CMD", false, NotBoot),
    ("XEN_PASSTHROUGH_PATHS", false, NotBoot),
    ("LINUX", false, NotBoot),
    ("LINUX_CMD", false, NotBoot),
    ("LINUX_RAMDISK", false, NotBoot),
    ("LINUX_ROOTFS", false, NotBoot),
];

/// ImageBuilder's defaults (imagebuilder-config.md §1.3).
const DEFAULT_DOM0_MEM_MB: u64 = 1500;
const DEFAULT_DOM0_VCPUS: u64 = 1;
const DEFAULT_DOM0_CMD: &str = "console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused";
const DEFAULT_DOMU_MEM_MB: u64 = 512;
const DEFAULT_DOMU_VCPUS: u64 = 1;
const DEFAULT_DOMU_CMD: &str = "console=ttyAMA0";

/// The config's assignments, last one winning per (name, index) as in
/// bash; `NAME=v` is `NAME[0]=v`.
struct Vars {
    by_key: BTreeMap<(String, String), Assignment>,
}

impl Vars {
    fn get(&self, name: &str) -> Option<&Assignment> {
        self.at(name, 0)
    }

    fn at(&self, name: &str, index: usize) -> Option<&Assignment> {
        self.by_key.get(&(name.to_string(), index.to_string()))
    }

    /// Indexed assignments of `name` with a numeric index, by index.
    fn indexed(&self, name: &str) -> Vec<(usize, &Assignment)> {
        self.by_key
            .iter()
            .filter(|((n, _), _)| n == name)
            .filter_map(|((_, i), a)| Some((i.parse().ok()?, a)))
            .collect()
    }
}

struct Importer<'d> {
    vars: Vars,
    counts: Counts,
    /// Variables the config expands itself (`IMAGES=…` used as `$IMAGES`):
    /// helpers, not unknown ImageBuilder variables.
    helpers: std::collections::BTreeSet<String>,
    diags: &'d mut Diagnostics,
}

/// The loop bounds: `NUM_DOMUS`, `NUM_DT_OVERLAY`, `NUM_CPUPOOLS`.
#[derive(Default)]
struct Counts {
    domus: usize,
    overlays: usize,
    pools: usize,
}

/// Translate `text` (the config, file `file`, named `source_name` in the
/// header comment). `None` when there are errors (all reported).
pub fn import(
    file: FileId,
    source_name: &str,
    text: &[u8],
    diags: &mut Diagnostics,
) -> Option<String> {
    let errors_before = diags.count(Severity::Error);
    let parsed = shell::parse(file, text, diags);
    let mut by_key = BTreeMap::new();
    for a in parsed.assignments {
        let index = a.index.clone().unwrap_or_else(|| "0".to_string());
        by_key.insert((a.name.clone(), index), a);
    }
    let mut importer = Importer {
        vars: Vars { by_key },
        counts: Counts::default(),
        helpers: parsed.referenced,
        diags,
    };
    importer.counts = Counts {
        domus: importer.count("NUM_DOMUS"),
        overlays: importer.count("NUM_DT_OVERLAY"),
        pools: importer.count("NUM_CPUPOOLS"),
    };
    importer.classify();
    let cfg = importer.cfg(source_name);
    (importer.diags.count(Severity::Error) == errors_before).then_some(cfg)
}

fn variable(name: &str) -> Option<(bool, Treatment)> {
    VARIABLES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, indexed, t)| (*indexed, *t))
}

impl Importer<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn warn(&mut self, check: &'static Check, span: Span, message: String, note: &str, help: &str) {
        let mut d = Diagnostic::at(check, span, message);
        if !note.is_empty() {
            d = d.note(note.to_string());
        }
        if !help.is_empty() {
            d = d.help(help.to_string());
        }
        self.push(d);
    }

    /// One XC1103 for variables dropped for the same reason: at the first
    /// one, naming them all, with the others as related locations.
    fn dropped(&mut self, mut vars: Vec<(String, Span)>, what: &str, note: &str) {
        vars.sort_by_key(|(_, span)| span.offset);
        let Some((_, first)) = vars.first().cloned() else {
            return;
        };
        let names: Vec<String> = vars.iter().map(|(n, _)| format!("`{n}`")).collect();
        let (message, help) = match names.as_slice() {
            [one] => (
                format!("{one} {}", singular(what)),
                "nothing to do: it is dropped",
            ),
            many => (
                format!("{} {what}", many.join(", ")),
                "nothing to do: they are dropped",
            ),
        };
        let mut d = Diagnostic::at(&c::IMPORT_NO_EFI, first, message)
            .note(note.to_string())
            .help(help);
        for (name, span) in vars.into_iter().skip(1) {
            d = d.related(Location::Text(span), format!("`{name}`"));
        }
        self.push(d);
    }

    /// Report variables the importer does not translate, and indices that
    /// ImageBuilder never reads.
    fn classify(&mut self) {
        let num_domus = self.counts.domus;
        let num_overlays = self.counts.overlays;
        let num_pools = self.counts.pools;
        let entries: Vec<((String, String), Assignment)> = self
            .vars
            .by_key
            .iter()
            .map(|(k, a)| (k.clone(), a.clone()))
            .collect();
        let mut boot_flow: Vec<(String, Span)> = Vec::new();
        let mut not_boot: Vec<(String, Span)> = Vec::new();
        for ((name, index), a) in entries {
            let Some((indexed, treatment)) = variable(&name) else {
                if self.helpers.contains(&name) {
                    continue;
                }
                let known = VARIABLES.iter().map(|(n, _, _)| *n);
                let help = match binding::closest(&name, known) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "remove it, or check the ImageBuilder version it is meant for".into(),
                };
                self.warn(
                    &c::IMPORT_UNKNOWN_VARIABLE,
                    a.name_span,
                    format!("ImageBuilder has no variable `{name}`"),
                    "it is not imported",
                    &help,
                );
                continue;
            };
            if !indexed && index != "0" {
                self.warn(
                    &c::IMPORT_IGNORED,
                    a.name_span,
                    format!("`{name}` is not an array: ImageBuilder reads only `{name}` itself"),
                    "",
                    &format!("write `{name}=…`"),
                );
                continue;
            }
            let number: Option<usize> = index.parse().ok();
            let affinity_key = name == "DOMU_VCPU_HARD_AFFINITY"
                && index.split(',').all(|p| p.parse::<usize>().is_ok());
            if indexed && number.is_none() && !affinity_key {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        a.name_span,
                        format!("`{name}[{index}]`: the index must be a number"),
                    )
                    .help("ImageBuilder indexes guests from 0: `DOMU_KERNEL[0]=`"),
                );
                continue;
            }
            let guest = if affinity_key {
                index.split(',').next().and_then(|i| i.parse().ok())
            } else {
                number
            };
            let limit = match name.as_str() {
                n if n.starts_with("DOMU_") => Some((num_domus, "NUM_DOMUS")),
                "DT_OVERLAY" => Some((num_overlays, "NUM_DT_OVERLAY")),
                "CPUPOOL" => Some((num_pools, "NUM_CPUPOOLS")),
                _ => None,
            };
            if let (Some((count, counter)), Some(i)) = (limit, guest) {
                if i >= count {
                    let why = if count == 0 {
                        format!("`{counter}` is not set")
                    } else {
                        format!("`{counter}={count}` counts indices 0 to {}", count - 1)
                    };
                    self.warn(
                        &c::IMPORT_IGNORED,
                        a.name_span,
                        format!("ImageBuilder silently ignores `{name}[{index}]`: {why}"),
                        "it is not imported",
                        &format!("raise `{counter}`, or remove `{name}[{index}]`"),
                    );
                    continue;
                }
            }
            match treatment {
                Used | Unsupported => {}
                NoEfi => boot_flow.push((name.clone(), a.name_span)),
                NotBoot => not_boot.push((name.clone(), a.name_span)),
            }
        }
        // One warning per group of dropped variables, not one per variable:
        // they all say the same.
        self.dropped(
            boot_flow,
            "configure U-Boot's boot flow, which EFI boot does not have",
            "Xen's EFI loader loads every file itself, wherever the firmware allocates; there is no load address, load command or boot command",
        );
        self.dropped(
            not_boot,
            "are not part of the boot configuration",
            "they configure ImageBuilder's disk image, device tree sources or bare-metal Linux mode",
        );
        let ignored_pools: Vec<Assignment> = self
            .vars
            .indexed("DOMU_CPUPOOL")
            .into_iter()
            .filter(|(i, _)| *i < num_domus && num_pools == 0)
            .map(|(_, a)| a.clone())
            .collect();
        for a in ignored_pools {
            self.warn(
                &c::IMPORT_IGNORED,
                a.name_span,
                format!(
                    "ImageBuilder silently ignores `DOMU_CPUPOOL[{}]` without `NUM_CPUPOOLS`",
                    a.index.as_deref().unwrap_or("0")
                ),
                "the guest runs in the default pool",
                "define the pools with `NUM_CPUPOOLS` and `CPUPOOL[n]`, or remove `DOMU_CPUPOOL`",
            );
        }
    }

    /// A count variable (`NUM_DOMUS`); 0 when absent or bad (reported).
    fn count(&mut self, name: &str) -> usize {
        let Some(a) = self.vars.get(name).cloned() else {
            return 0;
        };
        match number(&a.value) {
            Some(n) if n <= 1024 => n as usize,
            _ => {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        a.value_span,
                        format!("`{name}={}` is not a count", a.value),
                    )
                    .note("ImageBuilder's loop `i < $NUM_DOMUS` then fails or runs a nonsense number of times")
                    .help(format!("write a small number, e.g. `{name}=2`")),
                );
                0
            }
        }
    }

    /// A number from a variable, or the default; reports a bad one.
    fn number_or(&mut self, a: Option<&Assignment>, default: u64, what: &str) -> u64 {
        let Some(a) = a else { return default };
        match number(&a.value) {
            Some(n) => n,
            None => {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        a.value_span,
                        format!("`{}` is not a number ({what})", a.value),
                    )
                    .note("ImageBuilder pastes it into `fdt set` unchanged, which writes a broken property, and still succeeds")
                    .help(format!("write a plain number ({what})")),
                );
                default
            }
        }
    }

    /// A value for one line of the cfg: no control bytes, no `#`.
    fn cfg_text(&mut self, a: &Assignment, command_line: bool) -> String {
        let mut v = a.value.trim().to_string();
        if command_line {
            v = v.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        if v.bytes().any(|b| b < 0x20 || b == 0x7f) {
            self.push(
                Diagnostic::at(
                    &c::IMPORT_BAD_VALUE,
                    a.value_span,
                    format!("`{}` contains a control byte", a.name),
                )
                .note("Xen's cfg reader ends a line at any control byte")
                .help("remove it"),
            );
        }
        if v.contains('#') {
            self.push(
                Diagnostic::at(
                    &c::IMPORT_BAD_VALUE,
                    a.value_span,
                    format!("`{}` contains `#`", a.name),
                )
                .note("Xen's cfg reader starts a comment at `#` anywhere, with no escape")
                .help("remove the `#` from the value"),
            );
        }
        v
    }

    /// A file path for the cfg: ImageBuilder's paths are relative to its
    /// `-d` directory; an absolute one keeps only its file name.
    fn path(&mut self, a: &Assignment) -> String {
        let v = self.cfg_text(a, false);
        if v.is_empty() {
            self.push(
                Diagnostic::at(
                    &c::IMPORT_BAD_VALUE,
                    a.value_span,
                    format!("`{}` is empty", a.name),
                )
                .help("name the file, or remove the variable"),
            );
            return v;
        }
        if let Some(name) = v
            .strip_prefix('/')
            .map(|rest| rest.rsplit('/').next().unwrap_or(rest))
        {
            let name = name.to_string();
            self.warn(
                &c::IMPORT_DIFFERS,
                a.value_span,
                format!("`{}` is an absolute path; the cfg names `{name}`", a.name),
                "paths in the cfg are relative to Xen's directory on the ESP (and, for xencfg, to the cfg or --root)",
                &format!("put `{name}` next to the cfg, or build with `--root` pointing at its directory"),
            );
            return name;
        }
        v
    }

    fn cfg(&mut self, source_name: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Imported by xencfg {} from {}, an ImageBuilder config.",
            env!("CARGO_PKG_VERSION"),
            comment_text(source_name)
        );
        out.push_str("# Paths are as ImageBuilder had them (relative to its -d directory):\n");
        out.push_str("# run xencfg from there, or give it --root DIR.\n");
        out.push_str("[global]\ndefault=xen\n\n[xen]\n");
        out.push_str(&self.options());
        let dom0 = self.dom0();
        let has_dom0 = !dom0.is_empty();
        out.push_str(&dom0);
        if let Some(a) = self.vars.get("XEN_POLICY").cloned() {
            let p = self.path(&a);
            let _ = writeln!(out, "xsm={p}");
        }
        if let Some(a) = self.vars.get("DEVICE_TREE").cloned() {
            let p = self.path(&a);
            let _ = writeln!(out, "dtb={p}");
        }
        let overlays = self.counts.overlays;
        for i in 0..overlays {
            match self.vars.at("DT_OVERLAY", i).cloned() {
                Some(a) => {
                    let p = self.path(&a);
                    let _ = writeln!(out, "dtbo={p}");
                }
                None => {
                    let counter = self.vars.get("NUM_DT_OVERLAY").cloned();
                    if let Some(counter) = counter {
                        self.push(
                            Diagnostic::at(
                                &c::IMPORT_BAD_VALUE,
                                counter.value_span,
                                format!("`DT_OVERLAY[{i}]` is not defined"),
                            )
                            .help("define every overlay below NUM_DT_OVERLAY"),
                        );
                    }
                }
            }
        }
        let num_domus = self.counts.domus;
        let mut listed = Vec::new();
        let mut sections = String::new();
        for i in 0..num_domus {
            let (section, boots) = self.guest(i, has_dom0);
            if boots {
                listed.push(format!("domU{i}"));
            }
            sections.push('\n');
            sections.push_str(&section);
        }
        if !listed.is_empty() {
            let _ = writeln!(out, "domains={}", listed.join(","));
        }
        let pools = self.pools();
        if let Some(a) = self.vars.get("XEN").cloned() {
            let p = self.cfg_text(&a, false);
            let _ = writeln!(
                out,
                "# The Xen binary (XEN): stage it with `xencfg build --stage --xen {}`.",
                comment_text(&p)
            );
        }
        if let Some(a) = self.vars.get("XEN_STATIC_HEAP").cloned() {
            out.push_str(&self.static_heap(&a));
        }
        out.push_str(&sections);
        out.push_str(&pools);
        out
    }

    /// `options=`: XEN_CMD, or ImageBuilder's default built from DOM0_MEM,
    /// DOM0_VCPUS and the colouring options.
    fn options(&mut self) -> String {
        let defaults = [
            "DOM0_MEM",
            "DOM0_VCPUS",
            "DOM0_COLORS",
            "XEN_COLORS",
            "DOM0_VIOMMU",
        ];
        if let Some(a) = self.vars.get("XEN_CMD").cloned() {
            for name in defaults {
                if let Some(d) = self.vars.get(name).cloned() {
                    self.warn(
                        &c::IMPORT_DIFFERS,
                        d.name_span,
                        format!("`{name}` is only used when `XEN_CMD` is not set"),
                        "ImageBuilder refuses DOM0_MEM or DOM0_VCPUS together with XEN_CMD; the cfg takes XEN_CMD as it is",
                        &format!("put the setting into XEN_CMD (e.g. `dom0_mem=`), or remove `{name}`"),
                    );
                }
            }
            let v = self.cfg_text(&a, true);
            return format!("options={v}\n");
        }
        let mem = self.vars.get("DOM0_MEM").cloned();
        let mem = self.number_or(mem.as_ref(), DEFAULT_DOM0_MEM_MB, "MB");
        let vcpus = self.vars.get("DOM0_VCPUS").cloned();
        let vcpus = self.number_or(vcpus.as_ref(), DEFAULT_DOM0_VCPUS, "vCPUs");
        // ImageBuilder adds `dtuart=serial0`, which needs a `serial0` alias
        // in the host DTB (QEMU's virt machine has no /aliases: Xen then
        // runs without a console). Without `dtuart=`, Xen takes the UART
        // from /chosen/stdout-path, which boards set; XC0611 checks either.
        let mut line = format!(
            "console=dtuart dom0_mem={mem}M dom0_max_vcpus={vcpus} bootscrub=0 vwfi=native sched=null"
        );
        for (name, option) in [("XEN_COLORS", "xen_colors"), ("DOM0_COLORS", "dom0_colors")] {
            if let Some(a) = self.vars.get(name).cloned() {
                let v = self.cfg_text(&a, true);
                let _ = write!(line, " {option}={v}");
            }
        }
        if self
            .vars
            .get("DOM0_VIOMMU")
            .is_some_and(|a| a.value.trim() != "0" && !a.value.trim().is_empty())
        {
            line.push_str(" dom0_viommu=1");
        }
        format!(
            "# XEN_CMD is not set: ImageBuilder's default Xen command line, without its\n# `dtuart=serial0` (Xen takes the UART from /chosen/stdout-path instead).\noptions={line}\n"
        )
    }

    /// dom0's `kernel=` and `ramdisk=`.
    fn dom0(&mut self) -> String {
        let mut out = String::new();
        let Some(kernel) = self.vars.get("DOM0_KERNEL").cloned() else {
            for name in ["DOM0_RAMDISK", "DOM0_CMD"] {
                if let Some(a) = self.vars.get(name).cloned() {
                    self.push(
                        Diagnostic::at(
                            &c::IMPORT_BAD_VALUE,
                            a.name_span,
                            format!("`{name}` without `DOM0_KERNEL`"),
                        )
                        .note("ImageBuilder refuses DOM0_* settings in a dom0less configuration without dom0")
                        .help("set `DOM0_KERNEL`, or remove the DOM0_* settings"),
                    );
                }
            }
            return out;
        };
        let file = self.path(&kernel);
        let mut cmd = match self.vars.get("DOM0_CMD").cloned() {
            Some(a) => self.cfg_text(&a, true),
            None => DEFAULT_DOM0_CMD.to_string(),
        };
        if !cmd.split_whitespace().any(|w| w.starts_with("root=")) {
            match self.vars.get("DOM0_ROOTFS").cloned() {
                Some(rootfs) => self.warn(
                    &c::IMPORT_DIFFERS,
                    rootfs.name_span,
                    "dom0's `root=` comes from ImageBuilder's disk image layout".into(),
                    "ImageBuilder derives root= from LOAD_CMD for its own disk image; the cfg has no root=",
                    "add dom0's `root=` to DOM0_CMD",
                ),
                None => cmd.push_str(" root=/dev/ram0"),
            }
        }
        let _ = writeln!(out, "kernel={file} {cmd}");
        if let Some(a) = self.vars.get("DOM0_RAMDISK").cloned() {
            let p = self.path(&a);
            let _ = writeln!(out, "ramdisk={p}");
        }
        out
    }

    /// Comments for cpupools, which the cfg cannot express yet.
    fn pools(&mut self) -> String {
        let mut out = String::new();
        for i in 0..self.counts.pools {
            let Some(a) = self.vars.at("CPUPOOL", i).cloned() else {
                let counter = self.vars.get("NUM_CPUPOOLS").cloned();
                if let Some(counter) = counter {
                    self.push(
                        Diagnostic::at(
                            &c::IMPORT_BAD_VALUE,
                            counter.value_span,
                            format!("`CPUPOOL[{i}]` is not defined"),
                        )
                        .help("define every pool below NUM_CPUPOOLS"),
                    );
                }
                continue;
            };
            let Some(section) = self.pool_section(i, &a) else {
                continue;
            };
            let used = (0..self.counts.domus).any(|g| {
                self.vars
                    .at("DOMU_CPUPOOL", g)
                    .and_then(|p| number(&p.value))
                    == Some(i as u64)
            });
            if used {
                out.push('\n');
                out.push_str(&section);
            } else {
                self.warn(
                    &c::IMPORT_DIFFERS,
                    a.name_span,
                    format!("`CPUPOOL[{i}]` is named by no guest; the cfg keeps it as a comment"),
                    "ImageBuilder creates every pool; xencfg writes a pool only for the guests that name it, so its CPUs stay in pool 0",
                    &format!("give a guest `DOMU_CPUPOOL[n]={i}`, or remove the pool"),
                );
                out.push('\n');
                for line in section.lines() {
                    let _ = writeln!(out, "# {line}");
                }
            }
        }
        out
    }

    /// `CPUPOOL[i]="cpu@1,cpu@2 [scheduler]"` as a pool section: CPU node
    /// names are taken below `/cpus`, as ImageBuilder looks them up.
    fn pool_section(&mut self, i: usize, a: &Assignment) -> Option<String> {
        let words: Vec<&str> = a.value.split_whitespace().collect();
        let (cpus, sched) = match words.as_slice() {
            [cpus] => (*cpus, None),
            [cpus, sched] => (*cpus, Some(*sched)),
            _ => {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        a.value_span,
                        format!("`CPUPOOL[{i}]` is not \"CPU,CPU… [scheduler]\""),
                    )
                    .help("write e.g. `CPUPOOL[0]=\"cpu@2,cpu@3 null\"`"),
                );
                return None;
            }
        };
        let paths: Vec<String> = cpus
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| {
                if c.starts_with('/') {
                    c.to_string()
                } else {
                    format!("/cpus/{c}")
                }
            })
            .collect();
        if paths.is_empty() || cpus.contains('#') || sched.is_some_and(|s| s.contains('#')) {
            self.push(
                Diagnostic::at(
                    &c::IMPORT_BAD_VALUE,
                    a.value_span,
                    format!("`CPUPOOL[{i}]` names no CPU"),
                )
                .help("list CPU node names, e.g. `cpu@2,cpu@3`"),
            );
            return None;
        }
        let mut section = format!("[cpupool_{i}]\ncpus={}\n", paths.join(","));
        if let Some(sched) = sched {
            let _ = writeln!(section, "sched={sched}");
        }
        Some(section)
    }

    /// `DOMU_CPUPOOL[i]=n` as `cpupool=cpupool_n`.
    fn cpupool(&mut self, a: &Assignment) -> Vec<String> {
        if self.counts.pools == 0 {
            return Vec::new(); // ImageBuilder ignores it: reported as such
        }
        match number(&a.value) {
            Some(n) if (n as usize) < self.counts.pools => vec![format!("cpupool=cpupool_{n}")],
            _ => {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        a.value_span,
                        format!(
                            "`{}` is not a pool index below NUM_CPUPOOLS ({})",
                            a.value, self.counts.pools
                        ),
                    )
                    .note("ImageBuilder would write a phandle to a pool that does not exist")
                    .help("write the index of a CPUPOOL[n]"),
                );
                Vec::new()
            }
        }
    }

    /// `DOMU_SHARED_MEM[i]="ID [HPA] GPA SIZE"` as `shared-mem=`.
    fn shared_memory(&mut self, a: &Assignment) -> Vec<String> {
        let words: Vec<&str> = a.value.split_whitespace().collect();
        let numbers: Option<Vec<u64>> = words.iter().skip(1).map(|w| number(w)).collect();
        let id_ok = words.first().is_some_and(|id| !id.contains(['#', '=']));
        match (words.first(), numbers.as_deref()) {
            (Some(id), Some([host, guest, size])) if id_ok => vec![format!(
                "shared-mem={id} host={host:#x} guest={guest:#x} size={}",
                size_bytes_text(*size)
            )],
            (Some(id), Some([guest, size])) if id_ok => vec![format!(
                "shared-mem={id} guest={guest:#x} size={}",
                size_bytes_text(*size)
            )],
            _ => {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        a.value_span,
                        format!(
                            "`{}` is not \"ID [HOST-ADDR] GUEST-ADDR SIZE\"",
                            a.value.trim()
                        ),
                    )
                    .help(
                        "write e.g. `DOMU_SHARED_MEM[0]=\"my-shm 0x7fe00000 0x7fe00000 0x200000\"`",
                    ),
                );
                Vec::new()
            }
        }
    }

    /// `DOMU_STATIC_EVTCHNS[i]="LOCAL PEER-INDEX PEER-PORT; …"` as `evtchn=`
    /// lines; the peer index is a guest's (`domU<n>`).
    fn event_channels(&mut self, a: &Assignment) -> Vec<String> {
        let mut lines = Vec::new();
        for entry in a.value.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let numbers: Option<Vec<u64>> = entry.split_whitespace().map(number).collect();
            match numbers.as_deref() {
                Some([local, peer, peer_port]) => {
                    lines.push(format!("evtchn={local} domU{peer}:{peer_port}"))
                }
                _ => {
                    self.push(
                        Diagnostic::at(
                            &c::IMPORT_BAD_VALUE,
                            a.value_span,
                            format!("`{entry}` is not \"LOCAL-PORT PEER-INDEX PEER-PORT\""),
                        )
                        .help("separate channels with `;`, e.g. \"10 1 20; 11 1 21\""),
                    );
                    return Vec::new();
                }
            }
        }
        lines
    }

    /// `DOMU_VCPU_HARD_AFFINITY[i,v]="LIST"` as `vcpu<v>-affinity=LIST`.
    fn affinity(&mut self, a: &Assignment) -> Vec<String> {
        let vcpu = a
            .index
            .as_deref()
            .and_then(|i| i.split(',').nth(1))
            .and_then(|v| v.parse::<u32>().ok());
        let list: String = a.value.split_whitespace().collect();
        match vcpu {
            Some(v) if !list.is_empty() && !list.contains('#') => {
                vec![format!("vcpu{v}-affinity={list}")]
            }
            _ => {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        a.name_span,
                        "vCPU affinity is `DOMU_VCPU_HARD_AFFINITY[GUEST,VCPU]=\"CPU-LIST\"`"
                            .to_string(),
                    )
                    .help("write e.g. `DOMU_VCPU_HARD_AFFINITY[0,1]=\"2-3\"`"),
                );
                Vec::new()
            }
        }
    }

    /// A comment line for a setting the cfg cannot express, and XC1104.
    fn unsupported(&mut self, a: &Assignment, why: &str, help: &str) -> String {
        let name = match &a.index {
            Some(i) => format!("{}[{i}]", a.name),
            None => a.name.clone(),
        };
        self.warn(
            &c::IMPORT_UNSUPPORTED,
            a.name_span,
            format!("`{name}` has no key in xencfg's cfg yet; it is written as a comment"),
            why,
            help,
        );
        format!(
            "# Not imported ({}): {name}=\"{}\"\n",
            comment_text(why),
            comment_text(&a.value)
        )
    }

    /// One guest section; false when ImageBuilder does not boot it.
    fn guest(&mut self, i: usize, has_dom0: bool) -> (String, bool) {
        let get = |v: &Vars, name: &str| v.at(name, i).cloned();
        let mut lines: Vec<String> = vec![format!("[domU{i}]")];
        let vpl011 = !["DOMU_VPL011", "DOMU_VUART_PL011"]
            .iter()
            .any(|n| get(&self.vars, n).is_some_and(|a| a.value.trim() == "0"));
        match get(&self.vars, "DOMU_KERNEL") {
            Some(a) => {
                let file = self.path(&a);
                let cmd = match get(&self.vars, "DOMU_CMD") {
                    Some(a) => self.cfg_text(&a, true),
                    None if vpl011 => DEFAULT_DOMU_CMD.to_string(),
                    None => String::new(),
                };
                lines.push(format!("kernel={file} {cmd}").trim_end().to_string());
            }
            None => {
                let counter = self.vars.get("NUM_DOMUS").cloned();
                if let Some(counter) = counter {
                    self.push(
                        Diagnostic::at(
                            &c::IMPORT_BAD_VALUE,
                            counter.value_span,
                            format!("`DOMU_KERNEL[{i}]` is not defined"),
                        )
                        .note("ImageBuilder stops: \"DOMU_KERNEL[$i] is not defined\" (guests are numbered from 0)")
                        .help(format!("add `DOMU_KERNEL[{i}]=`, or lower NUM_DOMUS")),
                    );
                }
            }
        }
        // The rest is read (and checked) even without a kernel, so one run
        // reports every mistake.
        if let Some(a) = get(&self.vars, "DOMU_RAMDISK") {
            lines.push(format!("ramdisk={}", self.path(&a)));
        }
        let fragment = get(&self.vars, "DOMU_PASSTHROUGH_DTB");
        if let Some(a) = &fragment {
            lines.push(format!("dtb={}", self.path(a)));
        }
        if let Some(a) = get(&self.vars, "DOMU_PASSTHROUGH_PATHS") {
            lines.extend(self.passthrough_paths(&a, fragment.is_some()));
        }
        let vcpus = get(&self.vars, "DOMU_VCPUS");
        let vcpus = self.number_or(vcpus.as_ref(), DEFAULT_DOMU_VCPUS, "vCPUs");
        lines.push(format!("cpus={vcpus}"));
        lines.extend(self.memory(i));
        if vpl011 {
            lines.push("vpl011".into());
        }
        lines.extend(self.enhanced(i, has_dom0));
        for (name, key) in [
            ("DOMU_NR_SPIS", "nr_spis"),
            ("DOMU_GRANT_VER", "max_grant_version"),
            ("DOMU_GRANT_FRAMES", "max_grant_frames"),
            ("DOMU_MAPTRACK_FRAMES", "max_maptrack_frames"),
        ] {
            if let Some(a) = get(&self.vars, name) {
                let n = self.number_or(Some(&a), 0, "a count");
                lines.push(format!("{key}={n}"));
            }
        }
        // ImageBuilder writes the number as the property's MiB.
        if let Some(a) = get(&self.vars, "DOMU_P2M_MEM_MB") {
            let n = self.number_or(Some(&a), 0, "MB");
            lines.push(format!("xen,domain-p2m-mem-mb={n}"));
        }
        if let Some(a) = get(&self.vars, "DOMU_PASSTHROUGH_PROP") {
            lines.extend(self.passthrough_prop(&a));
        }
        if let Some(a) = get(&self.vars, "DOMU_CAPS") {
            lines.extend(self.capabilities(&a));
        }
        if let Some(a) = get(&self.vars, "DOMU_CPUPOOL") {
            lines.extend(self.cpupool(&a));
        }
        if let Some(a) = get(&self.vars, "DOMU_SHARED_MEM") {
            lines.extend(self.shared_memory(&a));
        }
        if let Some(a) = get(&self.vars, "DOMU_STATIC_EVTCHNS") {
            lines.extend(self.event_channels(&a));
        }
        for a in self.keyed("DOMU_VCPU_HARD_AFFINITY", i) {
            lines.extend(self.affinity(&a));
        }
        let unsupported: [(&str, &str, &str); 3] = [
            (
                "DOMU_COLORS",
                "`colors` is Xilinx's downstream binding; upstream Xen reads the `llc-colors` string",
                "write `llc-colors=` with the colour ranges",
            ),
            (
                "DOMU_VIOMMU",
                "`viommu` is not a property xencfg knows",
                "pass it as a raw value if your Xen reads it: `property=viommu=<1>`",
            ),
            (
                "DOMU_DOMID",
                "xencfg numbers the guests from domid 1 in the order of `domains=`, and has no key for Xen's `domid` property",
                "order `domains=` so that each guest gets the domid it needs",
            ),
        ];
        for (name, why, help) in unsupported {
            for a in self.keyed(name, i) {
                let line = self.unsupported(&a, why, help);
                lines.push(line.trim_end().to_string());
            }
        }
        let skip = ["DOMU_NOBOOT", "DOMU_ROOTFS"]
            .into_iter()
            .find_map(|n| get(&self.vars, n).map(|a| (n, a)))
            .filter(|(n, a)| *n == "DOMU_ROOTFS" || a.value.trim() != "0");
        if let Some((name, a)) = skip {
            self.warn(
                &c::IMPORT_DIFFERS,
                a.name_span,
                format!("domU{i} is not booted: `{name}[{i}]` is set"),
                "ImageBuilder leaves the guest out of the boot script; the cfg keeps it, commented out",
                "uncomment the section and add it to `domains=` to boot it",
            );
            let mut out =
                format!("# domU{i} is not booted ({name}[{i}] is set in ImageBuilder's config).\n");
            for line in lines {
                let line = line.trim_start_matches("# ");
                let _ = writeln!(out, "# {line}");
            }
            return (out, false);
        }
        (lines.join("\n") + "\n", true)
    }

    /// DOMU_PASSTHROUGH_PATHS: host nodes to pass through. Without a
    /// fragment, `passthrough=/path` makes xencfg build one from the host
    /// node (ImageBuilder took it from PASSTHROUGH_DTS_REPO or Lopper);
    /// with one, xencfg marks the fragment's `xen,path` nodes itself.
    fn passthrough_paths(&mut self, a: &Assignment, has_fragment: bool) -> Vec<String> {
        let paths: Vec<String> = a.value.split_whitespace().map(str::to_string).collect();
        if let Some(bad) = paths
            .iter()
            .find(|p| !p.starts_with('/') || p.contains('#'))
        {
            self.push(
                Diagnostic::at(
                    &c::IMPORT_BAD_VALUE,
                    a.value_span,
                    format!("`{bad}` is not a host device tree path"),
                )
                .help("list full node paths separated by blanks, e.g. \"/amba/ethernet@ff0e0000\""),
            );
            return Vec::new();
        }
        let (imported_as, why, lines) = if has_fragment {
            (
                "the passthrough DTB alone",
                "the passthrough DTB names the devices (`xen,path`); xencfg marks them `xen,passthrough` itself when there is a dom0",
                Vec::new(),
            )
        } else {
            (
                "`passthrough=` keys",
                "xencfg builds the guest's fragment from these host nodes, where ImageBuilder took it from PASSTHROUGH_DTS_REPO or Lopper",
                paths.iter().map(|p| format!("passthrough={p}")).collect(),
            )
        };
        self.warn(
            &c::IMPORT_DIFFERS,
            a.name_span,
            format!("`{}` is imported as {imported_as}", a.name),
            why,
            "review the guest's devices with `xencfg explain --memory`",
        );
        lines
    }

    /// Assignments of `name` for guest `i`, including affinity keys `i,v`.
    fn keyed(&self, name: &str, i: usize) -> Vec<Assignment> {
        self.vars
            .by_key
            .iter()
            .filter(|((n, index), _)| {
                n == name && index.split(',').next().and_then(|x| x.parse().ok()) == Some(i)
            })
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// `memory=` from DOMU_MEM (MB), or `static-mem=` from the static
    /// memory ranges (xencfg derives `memory`, as ImageBuilder sums it).
    fn memory(&mut self, i: usize) -> Vec<String> {
        let mem_var = self.vars.at("DOMU_MEM", i).cloned();
        let Some(static_mem) = self.vars.at("DOMU_STATIC_MEM", i).cloned() else {
            let mb = self.number_or(mem_var.as_ref(), DEFAULT_DOMU_MEM_MB, "MB");
            return vec![format!("memory={mb}M")];
        };
        let words: Vec<&str> = static_mem.value.split_whitespace().collect();
        if let [word] = words[..] {
            if let Some(size) = size_word(word).filter(|s| *s > 0 && s % 4096 == 0) {
                return self.static_size_only(i, mem_var.as_ref(), size);
            }
        }
        let numbers: Option<Vec<u64>> = words.iter().map(|w| number(w)).collect();
        let pairs = match numbers {
            Some(n) if !n.is_empty() && n.len() % 2 == 0 => n,
            _ => {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        static_mem.value_span,
                        "`DOMU_STATIC_MEM` must be pairs of numbers: \"base size [base size …]\""
                            .to_string(),
                    )
                    .help("write e.g. `DOMU_STATIC_MEM[0]=\"0x50000000 0x10000000\"`"),
                );
                return Vec::new();
            }
        };
        let total: u64 = pairs
            .chunks(2)
            .map(|p| p[1])
            .fold(0u64, u64::saturating_add);
        if total % 4096 != 0 || pairs.iter().any(|n| n % 4096 != 0) {
            self.push(
                Diagnostic::at(
                    &c::IMPORT_BAD_VALUE,
                    static_mem.value_span,
                    "static memory ranges must be 4 KiB aligned".to_string(),
                )
                .note("Xen assigns whole pages; release builds truncate and then the sizes do not add up")
                .help("align every base and size to 0x1000"),
            );
            return Vec::new();
        }
        self.static_mem_total(i, mem_var.as_ref(), total);
        let ranges: Vec<String> = pairs
            .chunks(2)
            .map(|p| format!("{:#x}:{}", p[0], size_text(p[1])))
            .collect();
        // memory= is derived from the ranges, as ImageBuilder does.
        let mut out = vec![format!("static-mem={}", ranges.join(","))];
        let direct = self.vars.at("DOMU_DIRECT_MAP", i).cloned();
        if direct.is_none_or(|a| a.value.trim() != "0") {
            out.push("direct-map".into());
        }
        out
    }

    /// DOMU_PASSTHROUGH_PROP: ImageBuilder writes `passthrough = "enabled"`
    /// for the exact value `enabled` and ignores every other value.
    fn passthrough_prop(&mut self, a: &Assignment) -> Vec<String> {
        if a.value == "enabled" {
            return vec!["passthrough=enabled".into()];
        }
        let name = match &a.index {
            Some(i) => format!("DOMU_PASSTHROUGH_PROP[{i}]"),
            None => "DOMU_PASSTHROUGH_PROP".into(),
        };
        self.warn(
            &c::IMPORT_IGNORED,
            a.value_span,
            format!("ImageBuilder ignores `{name}=\"{}\"`", a.value),
            "ImageBuilder writes `passthrough = \"enabled\"` only for the value `enabled`; the guest gets Xen's default",
            "write `enabled`, or remove the variable",
        );
        Vec::new()
    }

    /// DOMU_MEM beside static memory: ImageBuilder uses the static total.
    fn static_mem_total(&mut self, i: usize, mem_var: Option<&Assignment>, total: u64) {
        if let Some(m) = mem_var {
            if number(&m.value).is_none_or(|mb| mb.saturating_mul(1 << 20) != total) {
                self.warn(
                    &c::IMPORT_DIFFERS,
                    m.value_span,
                    format!(
                        "`DOMU_MEM[{i}]` does not match the static memory ({} KiB)",
                        total / 1024
                    ),
                    "ImageBuilder prints \"Ignoring DOMU_MEM\" and uses the static memory's total",
                    "remove DOMU_MEM, or make it the total of DOMU_STATIC_MEM",
                );
            }
        }
    }

    /// DOMU_STATIC_MEM given as one size, without a base address:
    /// `static-mem=SIZE`, which xencfg places in host RAM; direct-mapped
    /// unless DOMU_DIRECT_MAP is 0, as with addresses.
    fn static_size_only(
        &mut self,
        i: usize,
        mem_var: Option<&Assignment>,
        size: u64,
    ) -> Vec<String> {
        self.static_mem_total(i, mem_var, size);
        let mut out = vec![format!("static-mem={}", size_text(size))];
        let direct = self.vars.at("DOMU_DIRECT_MAP", i).cloned();
        if direct.is_none_or(|a| a.value.trim() != "0") {
            out.push("direct-map".into());
        }
        out
    }

    /// `static-heap=` from XEN_STATIC_HEAP's "base size …" pairs (in the
    /// boot section: ImageBuilder writes them to `/chosen`
    /// `xen,static-heap`).
    fn static_heap(&mut self, a: &Assignment) -> String {
        let numbers: Option<Vec<u64>> = a.value.split_whitespace().map(number).collect();
        let pairs = numbers.filter(|n| {
            !n.is_empty()
                && n.len() % 2 == 0
                && n.chunks(2)
                    .all(|p| p[1] > 0 && p[0].checked_add(p[1]).is_some())
        });
        let Some(pairs) = pairs else {
            self.push(
                Diagnostic::at(
                    &c::IMPORT_BAD_VALUE,
                    a.value_span,
                    "`XEN_STATIC_HEAP` must be pairs of numbers: \"base size [base size …]\""
                        .to_string(),
                )
                .help("write e.g. `XEN_STATIC_HEAP=\"0x60000000 0x10000000\"`"),
            );
            return String::new();
        };
        let ranges: Vec<String> = pairs
            .chunks(2)
            .map(|p| {
                let size = if p[1] % 1024 == 0 {
                    size_text(p[1])
                } else {
                    format!("{:#x}", p[1])
                };
                format!("{:#x}:{size}", p[0])
            })
            .collect();
        format!("static-heap={}\n", ranges.join(","))
    }

    /// `xen,enhanced`: DOMU_ENHANCED 1 → enabled, 2 → no-xenstore, 0 → none;
    /// unset → enabled when there is a dom0.
    fn enhanced(&mut self, i: usize, has_dom0: bool) -> Vec<String> {
        let value = match self.vars.at("DOMU_ENHANCED", i).cloned() {
            None if has_dom0 => Some("enabled"),
            None => None,
            Some(a) => match a.value.trim() {
                "0" => None,
                "1" => Some("enabled"),
                "2" => {
                    if has_dom0 {
                        self.warn(
                            &c::IMPORT_DIFFERS,
                            a.value_span,
                            format!("`DOMU_ENHANCED[{i}]=2` is imported as `no-xenstore`"),
                            "ImageBuilder checks for dom0 first and writes \"enabled\" whenever dom0 exists",
                            "write `DOMU_ENHANCED=1` if you want xenstore",
                        );
                    }
                    Some("no-xenstore")
                }
                _ => {
                    self.push(
                        Diagnostic::at(
                            &c::IMPORT_BAD_VALUE,
                            a.value_span,
                            format!("`DOMU_ENHANCED[{i}]` must be 0, 1 or 2"),
                        )
                        .help("0: none, 1: enabled (grant table + xenstore), 2: no-xenstore"),
                    );
                    None
                }
            },
        };
        value
            .map(|v| vec![format!("xen,enhanced={v}")])
            .unwrap_or_default()
    }

    /// DOMU_CAPS: a number or names joined by `|` (`control|xenstore`).
    fn capabilities(&mut self, a: &Assignment) -> Vec<String> {
        let text = a.value.trim();
        let parsed = number(text).or_else(|| {
            text.split(['|', ',', ' '])
                .filter(|w| !w.is_empty())
                .map(|w| match w {
                    "control" => Some(1),
                    "hardware" => Some(2),
                    "xenstore" => Some(4),
                    "dom0" => Some(7),
                    _ => None,
                })
                .try_fold(0u64, |acc, bit| Some(acc | bit?))
        });
        match parsed {
            Some(n) if n <= 7 => vec![format!("capabilities={n:#x}")],
            _ => {
                self.push(
                    Diagnostic::at(
                        &c::IMPORT_BAD_VALUE,
                        a.value_span,
                        format!("`{text}` is not a capability set"),
                    )
                    .help("write `control`, `hardware`, `xenstore` joined by `|`, or a number up to 7"),
                );
                Vec::new()
            }
        }
    }
}

/// A decimal or `0x` number, as bash arithmetic reads one.
fn number(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() => u64::from_str_radix(hex, 16).ok(),
        _ if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => t.parse().ok(),
        _ => None,
    }
}

/// A size as ImageBuilder's users write it: bytes (`0x10000000`) or with
/// a binary unit (`256M`, `1G`, `512K`).
fn size_word(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, shift) = match t.as_bytes().last()?.to_ascii_uppercase() {
        b'K' => (&t[..t.len() - 1], 10),
        b'M' => (&t[..t.len() - 1], 20),
        b'G' => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n = number(digits)?;
    n.checked_mul(1u64 << shift)
}

/// A byte count with the largest unit that divides it (`256M`), as the
/// cfg's `memory=` reads it; `total` is a multiple of 1 KiB.
fn size_text(total: u64) -> String {
    for (unit, shift) in [("G", 30), ("M", 20)] {
        if total.trailing_zeros() >= shift {
            return format!("{}{unit}", total >> shift);
        }
    }
    format!("{}K", total >> 10)
}

/// A size in bytes for the cfg's structure keys: the largest exact unit.
fn size_bytes_text(bytes: u64) -> String {
    if bytes != 0 && bytes % 1024 == 0 {
        size_text(bytes)
    } else {
        bytes.to_string()
    }
}

/// Text safe inside a cfg comment: one line, printable.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// "configure …" / "are not …" for one variable.
fn singular(what: &str) -> String {
    match what.strip_prefix("are ") {
        Some(rest) => format!("is {rest}"),
        None => what.replacen("configure ", "configures ", 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import_text(text: &str) -> (Option<String>, Vec<String>) {
        let mut diags = Diagnostics::default();
        let out = import(FileId(0), "ib.cfg", text.as_bytes(), &mut diags);
        let codes = diags
            .iter()
            .map(|d| format!("{} {}", d.check.code, d.message))
            .collect();
        (out, codes)
    }

    /// Assignments a config may hold, mostly valid (so that most generated
    /// configs import), some not.
    const LINES: &[&str] = &[
        "DOMU_MEM[0]=256",
        "DOMU_MEM[1]=64",
        "DOMU_VCPUS[1]=2",
        "DOMU_CMD[0]=\"console=ttyAMA0  rw\"",
        "DOMU_RAMDISK[0]=r.cpio.gz",
        "DOMU_RAMDISK[1]=r.cpio.gz",
        "DOMU_PASSTHROUGH_DTB[0]=p.dtb",
        "DOMU_PASSTHROUGH_PATHS[1]=\"/a@0 /b@1\"",
        "DOMU_STATIC_MEM[0]=\"0x50000000 0x10000000\"",
        "DOMU_STATIC_MEM[1]=\"0x60000000 0x1000000 0x70000000 0x1000000\"",
        "DOMU_DIRECT_MAP[0]=0",
        "DOMU_ENHANCED[0]=2",
        "DOMU_ENHANCED[1]=0",
        "DOMU_VPL011[1]=0",
        "DOMU_NR_SPIS[0]=32",
        "DOMU_GRANT_FRAMES[1]=8",
        "DOMU_CAPS[1]=control",
        "DOMU_SHARED_MEM[0]=\"s 0x7fe00000 0x7fe00000 0x200000\"",
        "DOMU_SHARED_MEM[1]=\"s 0x40000000 0x200000\"",
        "DOMU_STATIC_EVTCHNS[0]=\"10 1 20; 11 1 21\"",
        "DOMU_VCPU_HARD_AFFINITY[1,0]=\"0-1\"",
        "DOMU_NOBOOT[1]=1",
        "DOMU_COLORS[0]=0-3",
        "DOMU_VIOMMU[1]=1",
        "NUM_CPUPOOLS=1",
        "CPUPOOL[0]=\"cpu@1,cpu@2 null\"",
        "DOMU_CPUPOOL[1]=0",
        "XEN_CMD=\"console=dtuart bootscrub=0\"",
        "DOM0_KERNEL=Image",
        "DOM0_RAMDISK=r0.cpio.gz",
        "DOM0_CMD=\"console=hvc0\"",
        "DOM0_MEM=1024",
        "DEVICE_TREE=/boot/host.dtb",
        "NUM_DT_OVERLAY=1",
        "DT_OVERLAY[0]=o.dtbo",
        "XEN=xen",
        "XEN_POLICY=policy",
        "XEN_STATIC_HEAP=\"0x80000000 0x1000000\"",
        "MEMORY_START=0x0",
        "LOAD_CMD=\"tftpb\"",
        "IMAGES=img",
        "DOMU_KERNEL[1]=\"$IMAGES/k1\"",
        "DOMU_KERNEL[3]=ignored",
        "FOO=bar",
        "declare -A DOMU_VCPU_HARD_AFFINITY",
        // Invalid ones.
        "DOMU_MEM[0]=512M",
        "DOMU_KERNEL[0]=$(ls)",
        "DOMU_CMD[1]=\"a # b\"",
        "NUM_DOMUS=x",
    ];

    proptest::proptest! {
        /// Configs of ImageBuilder assignments: importing never panics, and
        /// what it writes is a cfg Xen reads as written (ASCII lines, no
        /// control bytes, no cfg-text quirk, newline at the end).
        #[test]
        fn imported_cfgs_read_as_written(
            picks in proptest::collection::vec(proptest::sample::select(LINES), 0..16)
        ) {
            let mut text = String::from("NUM_DOMUS=2\nDOMU_KERNEL[0]=k0\nDOMU_KERNEL[1]=k1\n");
            for line in picks {
                text.push_str(line);
                text.push('\n');
            }
            let mut diags = Diagnostics::default();
            if let Some(cfg) = import(FileId(0), "p", text.as_bytes(), &mut diags) {
                proptest::prop_assert!(cfg.ends_with('\n'));
                proptest::prop_assert!(!cfg.chars().any(|c| c.is_control() && c != '\n'), "{}", cfg);
                let bytes: Vec<u8> = cfg.chars().map(|c| c as u32 as u8).collect();
                let mut quirks = Diagnostics::default();
                crate::cfg::Document::parse(FileId(1), &bytes, &mut quirks);
                let codes: Vec<&str> = quirks.iter().map(|d| d.check.code).collect();
                proptest::prop_assert!(codes.is_empty(), "{:?} in\n{}", codes, cfg);
            } else {
                proptest::prop_assert!(diags.has_errors(), "no cfg, but no error either");
            }
        }
    }

    #[test]
    fn numbers_are_decimal_or_hex() {
        assert_eq!(number("512"), Some(512));
        assert_eq!(number("0x200"), Some(512));
        assert_eq!(number("512M"), None);
        assert_eq!(number("two"), None);
        assert_eq!(number(""), None);
    }

    #[test]
    fn minimal_dom0less_config() {
        let (cfg, diags) = import_text(
            "MEMORY_START=0x0\nMEMORY_END=0x80000000\nDEVICE_TREE=virt.dtb\nXEN=xen\nXEN_CMD=\"console=dtuart bootscrub=0\"\nNUM_DOMUS=1\nDOMU_KERNEL[0]=Image\nDOMU_MEM[0]=256\n",
        );
        let cfg = cfg.expect("imported");
        assert!(
            cfg.contains("options=console=dtuart bootscrub=0\n"),
            "{cfg}"
        );
        assert!(cfg.contains("dtb=virt.dtb\ndomains=domU0\n"), "{cfg}");
        assert!(
            cfg.contains("[domU0]\nkernel=Image console=ttyAMA0\ncpus=1\nmemory=256M\nvpl011\n"),
            "{cfg}"
        );
        assert!(!cfg.contains("xen,enhanced"), "no dom0, no xenstore: {cfg}");
        // MEMORY_START and MEMORY_END: one warning for the group.
        assert_eq!(
            diags,
            [
                "XC1103 `MEMORY_START`, `MEMORY_END` configure U-Boot's boot flow, which EFI boot does not have"
            ]
        );
    }

    #[test]
    fn errors_give_no_output() {
        let (cfg, diags) = import_text("NUM_DOMUS=2\nDOMU_KERNEL[0]=Image\n");
        assert!(cfg.is_none());
        assert!(
            diags
                .iter()
                .any(|d| d.contains("`DOMU_KERNEL[1]` is not defined")),
            "{diags:?}"
        );
        let (cfg, _) = import_text("NUM_DOMUS=1\nDOMU_KERNEL[0]=Image\nDOMU_MEM[0]=512M\n");
        assert!(cfg.is_none());
    }

    #[test]
    fn capabilities_by_name_or_number() {
        let (cfg, _) =
            import_text("NUM_DOMUS=1\nDOMU_KERNEL[0]=I\nDOMU_CAPS[0]=\"control|xenstore\"\n");
        assert!(cfg.unwrap().contains("capabilities=0x5\n"));
        let (cfg, _) = import_text("NUM_DOMUS=1\nDOMU_KERNEL[0]=I\nDOMU_CAPS[0]=2\n");
        assert!(cfg.unwrap().contains("capabilities=0x2\n"));
        let (cfg, diags) = import_text("NUM_DOMUS=1\nDOMU_KERNEL[0]=I\nDOMU_CAPS[0]=root\n");
        assert!(cfg.is_none(), "{diags:?}");
    }
}

//! `xencfg explain`: what Xen will read, per boot section.
//!
//! It runs after the same [`pipeline`](crate::pipeline::run) as `check`
//! and describes the result in Xen's terms: the command line Xen gets (and
//! what the target version does when `options=` is absent), dom0's modules,
//! the guests with their domids, the files the EFI loader loads against its
//! limit of 30, the cfg lines Xen ignores or reads differently (from the
//! XC01xx diagnostics and the ignored-key checks), and the `/chosen`
//! subtree `build` writes, as DTS. With `--memory`, a map of the host's
//! address ranges ([`memory`]).
//!
//! The text is for people; it is deterministic so it can be diffed and
//! tested as a golden file, but it is not a stable interface (the manifest
//! and `--format json` are).

pub mod memory;
pub mod svg;

use crate::analyze::Plan;
use crate::binding::value::PropertyValue;
use crate::checks::sections::MAX_EFI_FILES;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, FileId, Location, SourceMap, Span, render};
use crate::fdt::{Fdt, Node, dts};
use crate::load::image::ImageFormat;
use crate::model::{BootSection, Guest, Module, ModuleRole};
use crate::target::{Target, XenVersion};
use std::fmt::Write;

pub struct ExplainOptions<'a> {
    pub target: &'a Target,
    /// The EFI binary's base name: `<NAME>.efi` reads `<NAME>.cfg`.
    pub efi_name: &'a str,
    /// Explain only this boot section (`--section`).
    pub section: Option<&'a str>,
    /// Add the host memory map (`--memory`).
    pub memory: bool,
}

/// The explanation of a plan cfg. `diags` are the findings of the
/// compile, after the user's levels were applied.
pub fn explain(
    plan: &Plan,
    sources: &SourceMap,
    diags: &Diagnostics,
    opts: &ExplainOptions,
) -> String {
    let system = &plan.system;
    let mut out = String::new();
    let cfg_name = system.cfg_path.display();
    let _ = writeln!(
        out,
        "What Xen {} reads when it boots `xencfg build {cfg_name}` ({}.efi reads {}.cfg)",
        opts.target.version, opts.efi_name, opts.efi_name
    );
    let names: Vec<String> = system
        .sections
        .iter()
        .map(|s| format!("[{}]", s.name))
        .collect();
    if names.is_empty() {
        let _ = writeln!(out, "No boot section: Xen has nothing to boot.");
    } else {
        let _ = writeln!(
            out,
            "Boot sections: {}. Xen boots [{}] ({}); another one is chosen on the loader's command line: `{}.efi <section>`.",
            names.join(", "),
            plan.default_section,
            default_reason(plan, opts),
            opts.efi_name
        );
    }

    let layout = Layout::new(plan);
    let ignored: Vec<&Diagnostic> = diags.iter().filter(|d| is_reading_quirk(d)).collect();
    let mut claimed = vec![false; ignored.len()];
    let mut body = String::new();
    for (index, section) in system.sections.iter().enumerate() {
        let owned = layout.sections_of(section);
        let mine: Vec<&Diagnostic> = ignored
            .iter()
            .enumerate()
            .filter(|(_, d)| layout.belongs(d, &owned))
            .map(|(i, d)| {
                claimed[i] = true;
                *d
            })
            .collect();
        if opts.section.is_some_and(|s| s != section.name) {
            continue;
        }
        let merged = plan.merged(index);
        let context = SectionContext {
            plan,
            sources,
            opts,
            index,
            section,
            merged: merged.as_ref().map(|m| &m.tree),
        };
        body.push('\n');
        body.push_str(&context.render(&mine));
    }
    let elsewhere: Vec<&Diagnostic> = ignored
        .iter()
        .zip(&claimed)
        .filter(|(_, claimed)| !**claimed)
        .map(|(d, _)| *d)
        .collect();
    if !elsewhere.is_empty() && opts.section.is_none() {
        let _ = writeln!(
            out,
            "\nOutside the boot sections, lines Xen ignores or reads differently:"
        );
        out.push_str(&quirk_lines(&elsewhere, sources, "  "));
    }
    out.push_str(&body);
    out
}

/// The memory map of one boot section as an SVG picture
/// (`explain --memory --format svg`): `--section`'s, else the default one.
pub fn memory_svg(plan: &Plan, opts: &ExplainOptions) -> String {
    let system = &plan.system;
    let wanted = opts.section.unwrap_or(&plan.default_section);
    let found = system
        .sections
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == wanted);
    let Some((index, section)) = found else {
        return svg::render(&svg::Picture {
            title: format!("Memory map: no boot section [{wanted}]"),
            map: None,
        });
    };
    let sources = SourceMap::default();
    let merged = plan.merged(index);
    let context = SectionContext {
        plan,
        sources: &sources,
        opts,
        index,
        section,
        merged: merged.as_ref().map(|m| &m.tree),
    };
    svg::render(&svg::Picture {
        title: format!(
            "Memory map of [{}] for Xen {}",
            section.name, opts.target.version
        ),
        map: context.collect_memory().as_ref(),
    })
}

fn default_reason(plan: &Plan, opts: &ExplainOptions) -> String {
    let system = &plan.system;
    if let Some(name) = opts.section {
        return format!("`--section {name}` makes it the emitted `default=`");
    }
    match &system.default_section {
        Some(d) if d.value == plan.default_section => format!("[global] default={}", d.value),
        Some(d) => format!(
            "`default={}` names no boot section, so xencfg emits the first",
            d.value
        ),
        None => "no [global] default=, so xencfg emits the first section".to_string(),
    }
}

/// Diagnostics about cfg text Xen ignores or reads otherwise than it looks.
fn is_reading_quirk(d: &Diagnostic) -> bool {
    d.check.code.starts_with("XC01")
        || std::ptr::eq(d.check, &c::SECTION_BOTH_KINDS)
        || std::ptr::eq(d.check, &c::CHAIN_USED)
}

/// Where the sections of the main cfg start, to tell which section a
/// diagnostic's line is in.
struct Layout {
    file: Option<FileId>,
    /// Byte offset of each section header, in file order.
    starts: Vec<usize>,
}

impl Layout {
    fn new(plan: &Plan) -> Layout {
        // The main cfg, as the pipeline parsed it.
        let file = plan.system.sections.first().map(|s| s.header.file);
        let starts = plan
            .doc
            .sections
            .iter()
            .map(|s| s.header_span.offset)
            .collect();
        Layout { file, starts }
    }

    /// The index of the section containing `offset` (`None`: before the first).
    fn section_at(&self, offset: usize) -> Option<usize> {
        self.starts.iter().rposition(|&start| start <= offset)
    }

    /// The sections a boot section reads: its own, and its guest sections.
    fn sections_of(&self, section: &BootSection) -> Vec<Option<usize>> {
        std::iter::once(section.header)
            .chain(section.guests.iter().map(|g| g.name_span))
            .filter(|span| Some(span.file) == self.file)
            .map(|span| self.section_at(span.offset))
            .collect()
    }

    fn belongs(&self, d: &Diagnostic, sections: &[Option<usize>]) -> bool {
        match &d.location {
            Location::Text(span) if Some(span.file) == self.file => {
                sections.contains(&self.section_at(span.offset))
            }
            _ => false,
        }
    }
}

fn quirk_lines(diags: &[&Diagnostic], sources: &SourceMap, indent: &str) -> String {
    let mut out = String::new();
    for d in diags {
        let _ = writeln!(
            out,
            "{indent}{}  {}[{}] {}: {}",
            render::describe(&d.location, sources),
            d.severity.as_str(),
            d.check.code,
            d.check.name,
            d.message
        );
    }
    out
}

struct SectionContext<'a> {
    plan: &'a Plan,
    sources: &'a SourceMap,
    opts: &'a ExplainOptions<'a>,
    /// The section's index in `plan.system.sections`.
    index: usize,
    section: &'a BootSection,
    merged: Option<&'a Fdt>,
}

impl SectionContext<'_> {
    fn render(&self, quirks: &[&Diagnostic]) -> String {
        let s = self.section;
        let mut out = format!("[{}]  ({})\n", s.name, self.at(s.header));
        out.push_str("  Xen command line\n");
        for line in self.command_line() {
            let _ = writeln!(out, "    {line}");
        }
        out.push_str("  dom0\n");
        out.push_str(&self.dom0());
        out.push_str("  Device tree\n");
        out.push_str(&self.device_tree());
        if let Some(heap) = &s.static_heap {
            out.push_str("  Xen's heap\n");
            for line in static_heap_lines(heap) {
                let _ = writeln!(out, "    {line}");
            }
        }
        if !s.passthrough_keys.is_empty() {
            out.push_str("  Other keys Xen reads\n");
            for (key, value) in &s.passthrough_keys {
                let note = if key == "ucode" {
                    "  (x86 only: Xen on Arm ignores it)"
                } else {
                    ""
                };
                let _ = writeln!(out, "    {key}={}{note}", value.value);
            }
        }
        out.push_str("  Guests, in domid order\n");
        out.push_str(&self.guests());
        out.push_str(&self.efi_files());
        out.push_str("  Lines Xen ignores or reads differently\n");
        if quirks.is_empty() {
            out.push_str("    none\n");
        } else {
            out.push_str(&quirk_lines(quirks, self.sources, "    "));
        }
        out.push_str(&self.chosen_dts());
        if self.opts.memory {
            out.push_str(&self.memory_map());
        }
        out
    }

    fn at(&self, span: Span) -> String {
        render::describe(&Location::Text(span), self.sources)
    }

    fn host_bootargs(&self) -> Option<String> {
        let chosen = self.merged?.node("/chosen")?;
        let p = chosen.property("xen,xen-bootargs")?;
        Some(String::from_utf8_lossy(p.value.strip_suffix(&[0]).unwrap_or(&p.value)).into_owned())
    }

    /// The Xen command line the emitted cfg gives, by target version
    /// (reference §1.10.3).
    fn command_line(&self) -> Vec<String> {
        let v = self.opts.target.version;
        let name_prefixed = v < XenVersion::new(4, 19);
        let host = self.host_bootargs();
        let mut lines = Vec::new();
        let image_note = format!(
            "Xen {v} puts the EFI image's name first (as typed in the EFI shell; `xen` from a boot entry), an option Xen ignores"
        );
        match crate::analyze::trimmed_cfg::effective_options(self.section, self.opts.target) {
            Some(o) => {
                let span = self.section.options.as_ref().map(|o| o.span);
                let from = span
                    .map(|s| format!("  ({})", self.at(s)))
                    .unwrap_or_default();
                if o.is_empty() {
                    lines.push(format!("options= (empty){from}"));
                    lines.push("Xen boots with a blank command line".into());
                } else {
                    lines.push(format!("options={o}{from}"));
                }
                if name_prefixed {
                    lines.push(image_note);
                }
                if let Some(h) = host {
                    let what = if v < XenVersion::new(4, 17) {
                        "discards"
                    } else {
                        "replaces"
                    };
                    lines.push(format!(
                        "it {what} the host DTB's /chosen/xen,xen-bootargs: `{h}`"
                    ));
                }
            }
            None => {
                lines.push("no options= in the emitted cfg".into());
                match host {
                    _ if v < XenVersion::new(4, 17) => lines.push(format!(
                        "Xen {v}'s command line is then only the EFI image name; it discards the host DTB's xen,xen-bootargs"
                    )),
                    Some(h) => {
                        lines.push(format!(
                            "Xen {v} uses the host DTB's /chosen/xen,xen-bootargs: `{h}`"
                        ));
                        if name_prefixed {
                            lines.push(image_note);
                        }
                    }
                    None if name_prefixed => lines.push(format!(
                        "Xen {v}'s command line is then only the EFI image name"
                    )),
                    None => lines.push(format!(
                        "Xen {v} then builds its command line from an uninitialised buffer ({})",
                        c::EMPTY_OPTIONS.code
                    )),
                }
            }
        }
        lines
    }

    fn dom0(&self) -> String {
        let s = self.section;
        let mut out = String::new();
        let modules = [
            ("kernel", &s.dom0_kernel),
            ("ramdisk", &s.dom0_ramdisk),
            ("xsm", &s.xsm),
        ];
        if s.dom0_kernel.is_none() {
            let _ = writeln!(
                out,
                "    no kernel=: Xen starts no dom0, only the guests below (true dom0less)"
            );
        }
        for (key, module) in modules {
            if let Some(m) = module {
                let _ = writeln!(out, "    {key:<8} {}", self.module_line(m));
            }
        }
        for m in &s.dom0_structures.shared_mem {
            let _ = writeln!(out, "    {}", shared_mem_line(m));
        }
        out
    }

    fn module_line(&self, m: &Module) -> String {
        let mut line = format!("{}  ({})", m.path, self.file_facts(m));
        if let Some(args) = m.bootargs.as_deref().filter(|a| !a.is_empty()) {
            let _ = write!(line, "  bootargs: {args}");
        }
        line
    }

    fn file_facts(&self, m: &Module) -> String {
        match self.plan.facts.get(&m.source) {
            Some(f) if f.format == ImageFormat::Unknown => crate::progress::approx(f.size),
            Some(f) => format!(
                "{}, {}",
                f.format.describe(),
                crate::progress::approx(f.size)
            ),
            None => "not readable".to_string(),
        }
    }

    fn device_tree(&self) -> String {
        let s = self.section;
        let mut out = String::new();
        let Some(dtb) = &s.dtb else {
            let _ = writeln!(
                out,
                "    no dtb=: Xen uses the firmware's device tree, and xencfg has none to add guests to"
            );
            return out;
        };
        let overlays: Vec<String> = s.dtbos.iter().map(|m| m.path.to_string()).collect();
        let plus = if overlays.is_empty() {
            String::new()
        } else {
            format!(" with the overlays {} applied", overlays.join(", "))
        };
        let state = if self.merged.is_some() {
            ""
        } else {
            " (not available: the host DTB could not be read or merged)"
        };
        let _ = writeln!(
            out,
            "    dtb={}: {}{plus}, with the guests added under /chosen{state}",
            crate::analyze::trimmed_cfg::dtb_name(s).unwrap_or_default(),
            dtb.path
        );
        out
    }

    fn guests(&self) -> String {
        let mut out = String::new();
        let existing = self.host_domains();
        for (i, name) in existing.iter().enumerate() {
            let _ = writeln!(
                out,
                "    domid {}  {name}  (already in the host DTB)",
                i + 1
            );
        }
        if self.section.guests.is_empty() && existing.is_empty() {
            out.push_str("    none\n");
        }
        for g in &self.section.guests {
            let _ = writeln!(
                out,
                "    domid {}  {}  ({})",
                g.domid,
                g.name,
                self.at(g.name_span)
            );
            let props: Vec<String> = g.properties.iter().map(property_text).collect();
            if !props.is_empty() {
                let _ = writeln!(out, "      {}", props.join("  "));
            }
            for line in structure_lines(g) {
                let _ = writeln!(out, "      {line}");
            }
            for (role, module) in [
                ("kernel", &g.kernel),
                ("ramdisk", &g.ramdisk),
                ("dtb", &g.dtb),
            ] {
                if let Some(m) = module {
                    let _ = writeln!(out, "      {role:<8} {}", self.module_line(m));
                }
            }
        }
        out
    }

    /// `xen,domain` nodes the host DTB already has: they come first.
    fn host_domains(&self) -> Vec<String> {
        let Some(chosen) = self.merged.and_then(|m| m.node("/chosen")) else {
            return Vec::new();
        };
        chosen
            .children
            .iter()
            .filter(|n| n.is_compatible("xen,domain"))
            .map(|n| n.name.clone())
            .filter(|n| !self.section.guests.iter().any(|g| &g.name == n))
            .collect()
    }

    fn efi_files(&self) -> String {
        let s = self.section;
        let files = s.efi_loaded_files();
        let mut out = format!(
            "  Files Xen's EFI loader loads: {} of at most {MAX_EFI_FILES}{}\n",
            files.len(),
            if files.len() > MAX_EFI_FILES {
                " (too many: Xen stops with \"No space left for modules\")"
            } else {
                ""
            }
        );
        for m in &files {
            let users = self.users_of(m);
            let _ = writeln!(
                out,
                "    {:<28} {}  ({})",
                m.path.to_string(),
                users.join(", "),
                self.file_facts(m)
            );
        }
        match crate::analyze::trimmed_cfg::dtb_name(s) {
            Some(dtb) => {
                let _ = writeln!(
                    out,
                    "    not counted: {dtb} (the device tree) and {}.cfg",
                    self.opts.efi_name
                );
            }
            None => {
                let _ = writeln!(out, "    not counted: {}.cfg", self.opts.efi_name);
            }
        }
        out
    }

    /// Who uses a loaded file: dom0's modules are loaded per key, guest
    /// modules once per distinct `xen,uefi-binary` string.
    fn users_of(&self, m: &Module) -> Vec<String> {
        if m.role.is_dom0() {
            return vec![role_name(m.role).to_string()];
        }
        let mut users = Vec::new();
        for g in &self.section.guests {
            for other in g.modules() {
                if other.path == m.path {
                    users.push(format!("{} of {}", role_name(other.role), g.name));
                }
            }
        }
        users
    }

    fn chosen_dts(&self) -> String {
        let Some(dtb) = crate::analyze::trimmed_cfg::dtb_name(self.section) else {
            return "  /chosen: no dtb=, so xencfg writes no device tree for this section\n".into();
        };
        let mut out = format!("  /chosen as `xencfg build` writes it into {dtb}\n");
        let Some(chosen) = self.merged.and_then(|m| m.node("/chosen")) else {
            out.push_str("    not available: the host DTB could not be read\n");
            return out;
        };
        let mut root = Node::new("");
        root.children.push(chosen.clone());
        let tree = Fdt {
            boot_cpuid_phys: 0,
            reservations: Vec::new(),
            root,
        };
        for line in dts::to_dts(&tree).lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                // Spaces, not dtc's tabs, so the block lines up with the rest.
                let depth = line.len() - line.trim_start_matches('\t').len();
                let _ = writeln!(out, "    {}{}", "    ".repeat(depth), &line[depth..]);
            }
        }
        out
    }

    fn memory_map(&self) -> String {
        let mut out =
            String::from("  Host memory map (end addresses inclusive; ! marks a problem)\n");
        let Some(map) = self.collect_memory() else {
            out.push_str("    not available: the host DTB could not be read\n");
            return out;
        };
        out.push_str(&map.render("  "));
        out.push_str(
            "    Under EFI, Xen takes RAM from the firmware's memory map, not from /memory nodes;\n    \
             the firmware places Xen and the modules at boot, most likely in the areas shown.\n    \
             xencfg places what the cfg gives as a size alone, lowest first, clear of them.\n",
        );
        out
    }

    /// The section's memory map, `None` without a merged host tree.
    fn collect_memory(&self) -> Option<memory::MemoryMap> {
        let merged = self.merged?;
        // A fragment xencfg builds (`passthrough=`) exists only in memory
        // until `build` writes it; a hand-written one is read from its file.
        let trees: Vec<(&Guest, Fdt)> = self
            .section
            .guests
            .iter()
            .enumerate()
            .filter_map(|(guest_index, g)| {
                let generated = self
                    .plan
                    .fragments
                    .iter()
                    .find(|f| f.users.contains(&(self.index, guest_index)));
                if let Some(f) = generated {
                    return Some((g, f.tree.clone()));
                }
                let m = g.dtb.as_ref()?;
                self.plan.facts.get(&m.source)?;
                let bytes = crate::analyze::passthrough::read_fragment(&m.source).ok()?;
                Some((g, Fdt::from_bytes(&bytes).ok()?))
            })
            .collect();
        let fragments: Vec<memory::Fragment> = trees
            .iter()
            .map(|(g, tree)| memory::Fragment {
                guest: &g.name,
                tree,
            })
            .collect();
        let mut map = memory::collect(merged, &fragments, self.opts.target.version);
        let placement = &self.plan.sections[self.index].placement;
        for region in &mut map.regions {
            let placed = placement.placed.iter().any(|p| {
                p.guest.is_none() && (p.range.start, p.range.size) == (region.start, region.size)
            });
            if placed && region.kind != memory::Kind::Ram {
                region.owner.push_str(", placed by xencfg");
            }
        }
        for area in &placement.firmware {
            map.regions.push(memory::Region {
                start: area.range.start,
                size: area.range.size,
                kind: memory::Kind::Firmware,
                owner: area.why.clone(),
                shm_id: None,
                domain: None,
                guest_address: None,
            });
        }
        map.regions.sort_by_key(|r| (r.start, r.kind));
        Some(map)
    }
}

/// An address as the explanation shows it: `(placed)` when xencfg chose it.
fn address(value: Option<u64>, placed: bool) -> String {
    match value {
        Some(a) if placed => format!("{a:#x} (placed)"),
        Some(a) => format!("{a:#x}"),
        None => "not placed".to_string(),
    }
}

/// One `shared-mem=` of a domain: the region, where the domain sees it.
fn shared_mem_line(m: &crate::model::structures::SharedMemKey) -> String {
    let role = m
        .role
        .map(|r| format!(", {}", r.as_str()))
        .unwrap_or_default();
    format!(
        "shared-mem  `{}` host {} at guest {}, {}{role}",
        m.id,
        address(m.host, m.placed.host),
        address(m.guest, m.placed.guest),
        memory::format_size(m.size)
    )
}

/// Host ranges as the explanation lists them: `ADDR (placed) + SIZE, …`.
fn banks_text(ranges: &crate::model::structures::HostRanges) -> String {
    let banks: Vec<String> = ranges
        .banks
        .iter()
        .map(|b| {
            format!(
                "{} + {}",
                address(b.value.start, b.value.placed),
                memory::format_size(b.value.size)
            )
        })
        .collect();
    banks.join(", ")
}

/// `static-heap=`: its ranges, and what it means for Xen's allocations
/// (populate_boot_allocator, discard_initial_modules).
fn static_heap_lines(heap: &crate::model::structures::HostRanges) -> Vec<String> {
    vec![
        format!(
            "static-heap {} ({} in all, /chosen xen,static-heap in the root's cells)",
            banks_text(heap),
            memory::format_size(heap.total())
        ),
        "Xen allocates only from these ranges: dom0, guests without static-mem, every P2M pool and Xen itself".to_string(),
        "the boot modules' memory is not given back to Xen after boot".to_string(),
    ]
}

/// A guest's linked structures, one line each: what Xen will set up.
fn structure_lines(g: &Guest) -> Vec<String> {
    let st = &g.structures;
    let mut lines = Vec::new();
    if let Some(m) = &st.static_mem {
        lines.push(format!(
            "static-mem  {} (host RAM, not from Xen's heap)",
            banks_text(m)
        ));
    }
    if let Some(pool) = &st.cpupool {
        lines.push(format!("cpupool     {}", pool.value));
    }
    for e in &st.evtchns {
        lines.push(format!(
            "evtchn      port {} <-> {} port {}",
            e.local_port, e.peer, e.peer_port
        ));
    }
    lines.extend(st.shared_mem.iter().map(shared_mem_line));
    for a in &st.affinity {
        lines.push(format!(
            "vcpu{}      on physical CPUs {}",
            a.vcpu,
            a.hard_affinity()
        ));
    }
    for p in &g.passthrough {
        lines.push(format!(
            "passthrough {} (xencfg builds the fragment)",
            p.value
        ));
    }
    lines
}

fn role_name(role: ModuleRole) -> &'static str {
    match role {
        ModuleRole::Dom0Kernel => "dom0 kernel",
        ModuleRole::Dom0Ramdisk => "dom0 ramdisk",
        ModuleRole::Xsm => "XSM policy",
        ModuleRole::HostDtb => "host DTB",
        ModuleRole::Overlay => "overlay",
        ModuleRole::Kernel => "kernel",
        ModuleRole::Ramdisk => "ramdisk",
        ModuleRole::DeviceTree => "passthrough DTB",
        ModuleRole::HostDomain => "module of a host DTB domain",
    }
}

/// A guest property as a short `name=value`.
fn property_text(p: &crate::model::GuestProperty) -> String {
    match &p.value {
        PropertyValue::Flag => p.dt_name.clone(),
        PropertyValue::U32(n) => format!("{}={n}", p.dt_name),
        PropertyValue::Memory(k) => format!("{}={}", p.dt_name, memory::format_size(k.bytes())),
        PropertyValue::Mib(n) => format!("{}={n} MiB", p.dt_name),
        PropertyValue::Str(s) => format!("{}=\"{s}\"", p.dt_name),
        PropertyValue::Raw(bytes) if bytes.len() % 4 == 0 && !bytes.is_empty() => {
            let cells: Vec<String> = bytes
                .chunks(4)
                .map(|c| format!("{:#x}", u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect();
            format!("{}=<{}> (raw)", p.dt_name, cells.join(" "))
        }
        PropertyValue::Raw(bytes) => {
            let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}=[{}] (raw)", p.dt_name, hex.join(" "))
        }
    }
}

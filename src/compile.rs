//! The whole pipeline for `check` and `build`: read the cfg (and its
//! chain), lower it, inspect every file, read each host DTB, run the checks
//! and merge the guests into each boot section's tree. Writing outputs is
//! left to [`crate::build`], so `check` shares every step but the last.

use crate::cfg::Document;
use crate::checks;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, SourceMap};
use crate::emit;
use crate::fdt::Fdt;
use crate::hash::FileFacts;
use crate::lower::{self, LowerInput};
use crate::model::System;
use crate::target::{Target, VersionSource, XenVersion};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct CompileOptions {
    pub cfg: PathBuf,
    pub root: Option<PathBuf>,
    /// `--section`: the section the emitted cfg boots by default.
    pub section: Option<String>,
    pub target: Target,
    /// The EFI binary's base name (`xen`, `BOOTAA64`).
    pub efi_name: String,
    /// `--host-ram`: the board's RAM instead of the DT memory nodes'.
    pub host_ram: Option<crate::host::HostRam>,
}

/// A compiled system, ready to emit.
pub struct Compiled {
    pub system: System,
    pub default_section: String,
    pub facts: BTreeMap<PathBuf, FileFacts>,
    /// Per boot section (same order as `system.sections`): the host tree,
    /// overlays applied, shared by the sections naming the same files.
    /// `None` without `dtb=` or when it could not be read.
    pub hosts: Vec<Option<Arc<Fdt>>>,
    /// What the trees were judged for (the merge depends on it).
    pub target: Target,
    /// The trimmed cfg's bytes.
    pub cfg_bytes: Vec<u8>,
    /// Passthrough fragments xencfg built (`passthrough=`), to write.
    pub fragments: Vec<emit::fragment::GeneratedFragment>,
    /// Per boot section: the host devices each guest gets.
    pub passthrough: Vec<emit::passthrough::Assignments>,
    /// Every file read to compile the system, as named: the cfg, the
    /// chained cfgs, each module's source (DTBs, overlays, images,
    /// fragments) and `--xen-config`. `build` refuses an output directory
    /// that holds any of them.
    pub inputs: Vec<PathBuf>,
}

impl Compiled {
    /// Hash every input file (for `build`, once its checks have passed):
    /// sha256 added to the facts the checks judged. A file whose size or
    /// format is no longer what was checked changed in between: an error.
    pub fn hash_inputs(
        &mut self,
        progress: Option<&crate::progress::Progress>,
    ) -> Result<(), FatalError> {
        self.hash_inputs_with(progress, &crate::cache::Cache::disabled())
    }

    /// [`Compiled::hash_inputs`], reusing what `cache` knows of unchanged
    /// files (and recording what it hashes, for the next build).
    pub fn hash_inputs_with(
        &mut self,
        progress: Option<&crate::progress::Progress>,
        cache: &crate::cache::Cache,
    ) -> Result<(), FatalError> {
        let paths: Vec<PathBuf> = self
            .facts
            .iter()
            .filter(|(_, f)| f.sha256.is_none())
            .map(|(p, _)| p.clone())
            .collect();
        if let Some(p) = progress {
            p.set_total(
                paths
                    .iter()
                    .filter_map(|p| self.facts.get(p))
                    .map(|f| f.size)
                    .sum(),
            );
        }
        let results = cache.hash_files(&paths, progress);
        for (path, result) in paths.iter().zip(results) {
            let hashed = result.map_err(|e| FatalError(format!("cannot read {e}")))?;
            let checked = self.facts.get_mut(path);
            let Some(checked) =
                checked.filter(|c| (c.size, c.format) == (hashed.size, hashed.format))
            else {
                return Err(FatalError(format!(
                    "{} changed while xencfg was building (its size or format is no longer the one checked); build again",
                    path.display()
                )));
            };
            checked.sha256 = hashed.sha256;
        }
        Ok(())
    }

    /// Boot section `index`'s merged tree: the host tree with the guests
    /// under `/chosen` and the passed-through devices marked. Built when
    /// asked rather than kept, so a cfg naming a large host DTB in thousands
    /// of sections never holds thousands of trees.
    pub fn merged(&self, index: usize) -> Option<Fdt> {
        let host = self.hosts.get(index)?.as_deref()?;
        Some(merge_section(
            host,
            &self.system.sections[index],
            &self.system,
            self.passthrough.get(index),
            &self.target,
        ))
    }
}

fn merge_section(
    host: &Fdt,
    section: &crate::model::BootSection,
    system: &System,
    assignments: Option<&emit::passthrough::Assignments>,
    target: &Target,
) -> Fdt {
    let mut fdt = emit::dtb::merge(host, section, &system.pools, target);
    if let Some(assignments) = assignments {
        emit::passthrough::mark(&mut fdt, assignments);
    }
    fdt
}

/// A failure to run at all (exit status 2), as opposed to findings.
#[derive(Debug)]
pub struct FatalError(pub String);

impl fmt::Display for FatalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FatalError {}

/// Upper bound on a cfg file. Xen's own reader has none, but a real cfg is
/// a few KiB: a file this large is not a cfg (an image named by mistake, a
/// runaway generator), and reading it must cost neither much memory nor
/// much time. Larger files are refused before any byte is read.
pub const MAX_CFG_SIZE: u64 = 1 << 20;

pub fn read_cfg(path: &Path) -> Result<Vec<u8>, FatalError> {
    use crate::input::{ReadError, read_capped};
    read_capped(path, MAX_CFG_SIZE).map_err(|e| {
        FatalError(match e {
            ReadError::TooLarge { size, .. } => format!(
                "{} is {size} bytes; a cfg is a small text file and xencfg reads at most 1 MiB (is this the right file?)",
                path.display()
            ),
            other => other.message(path),
        })
    })
}

pub fn compile(
    opts: &CompileOptions,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Compiled, FatalError> {
    let bytes = read_cfg(&opts.cfg)?;
    let file = sources.add(&opts.cfg, bytes);
    let doc = Document::parse(file, &sources.get(file).bytes.clone(), diags);
    let root = opts
        .root
        .clone()
        .unwrap_or_else(|| lower::default_root(&opts.cfg));
    follow_chain(&doc, &opts.cfg, &root, sources, diags);

    let input = LowerInput {
        doc: &doc,
        cfg_path: &opts.cfg,
        root: &root,
        target: &opts.target,
    };
    let mut system = lower::lower(&input, diags);
    crate::structures::derive_memory(&mut system);
    let default_section = choose_default(&doc, &system, opts, diags);

    let mut facts = checks::files::inspect(&system, diags);
    checks::files::shared_compressed_kernels(&system, &facts, diags);

    // Each distinct `dtb=` + `dtbo=` list is read and applied once, and
    // its problems reported once (at the first section naming it): a cfg
    // may name one large host DTB in thousands of sections.
    let mut read_hosts: HashMap<(PathBuf, Vec<PathBuf>), Option<Arc<Fdt>>> = HashMap::new();
    let mut hosts: Vec<Option<Arc<Fdt>>> = Vec::new();
    for section in &mut system.sections {
        let host = section.dtb.as_ref().and_then(|dtb| {
            let overlays = section.dtbos.iter().map(|o| o.source.clone()).collect();
            read_hosts
                .entry((dtb.source.clone(), overlays))
                .or_insert_with(|| {
                    facts.get(&dtb.source)?; // missing or unreadable: already reported
                    let mut tree = read_tree(&dtb.source, dtb.span, diags)?;
                    for overlay in &section.dtbos {
                        apply_overlay(&mut tree, overlay, &facts, diags);
                    }
                    Some(Arc::new(tree))
                })
                .clone()
        });
        if let Some(host) = &host {
            let offset = checks::host::existing_domains(host);
            for g in &mut section.guests {
                g.domid += offset;
            }
        }
        hosts.push(host);
    }
    // The host DTB's own domains load their modules as ours do: checked,
    // hashed, staged and listed like ours.
    for (section, host) in system.sections.iter_mut().zip(&hosts) {
        if let (Some(host), Some(dtb)) = (host, &section.dtb) {
            section.host_domain_modules =
                checks::host::domain_modules(host, &dtb.source, dtb.span, &system.root, diags);
        }
    }
    let host_domain_modules: Vec<&crate::model::Module> = system
        .sections
        .iter()
        .flat_map(|s| &s.host_domain_modules)
        .filter(|m| !facts.contains_key(&m.source))
        .collect();
    let more = checks::files::inspect_modules(&host_domain_modules, diags);
    facts.extend(more);
    checks::sections::case_clashes(&system, diags);
    checks::sections::output_names(&system, &opts.efi_name, diags);
    let fragments = emit::fragment::generate_all(&mut system, &hosts, &mut facts, diags);
    let mut passthrough = Vec::new();

    for (section, host) in system.sections.iter().zip(&hosts) {
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
        let host_bootargs = host
            .as_ref()
            .and_then(|h| h.node("/chosen"))
            .is_some_and(|c| c.property("xen,xen-bootargs").is_some());
        checks::sections::check_section(
            section,
            &opts.target,
            &opts.efi_name,
            host_bootargs,
            diags,
        );
        checks::cmdline::check_section(section, host.as_deref(), &opts.target, diags);
        checks::guests::check_section(section, diags);
        checks::target::dom0less_boot(section, &opts.target, diags);
        passthrough.push(checks::passthrough::check_section(
            section,
            host.as_deref(),
            &facts,
            &fragments,
            &opts.target,
            diags,
        ));
        checks::resources::check_section(
            &system,
            section,
            host.as_deref(),
            opts.host_ram.as_ref(),
            &facts,
            &opts.target,
            diags,
        );
        if let (Some(host), Some(dtb)) = (host, &section.dtb) {
            checks::host::check_chosen(host, &dtb.source, section, diags);
        }
    }

    let cfg_bytes = emit::cfg::render(&emit::cfg::CfgInput {
        system: &system,
        default_section: &default_section,
        source_name: &opts
            .cfg
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        target: &opts.target,
    });
    let mut phandle_findings = std::collections::HashSet::new();
    // Only the size of each merged tree is judged here; build and explain
    // merge again when they need the tree.
    for ((section, host), assignments) in system.sections.iter().zip(&hosts).zip(&passthrough) {
        if let (Some(host), Some(dtb)) = (host, &section.dtb) {
            let fdt = merge_section(host, section, &system, Some(assignments), &opts.target);
            let len = fdt.to_bytes_padded(emit::dtb::padding_for(section)).len();
            checks::host::check_size(len, cfg_bytes.len(), dtb.span, &section.name, diags);
            // Sections naming one host DTB share its problems: said once.
            let mut found = Diagnostics::default();
            checks::host::check_phandles(&fdt, &dtb.source, &mut found);
            for d in found.into_vec() {
                if phandle_findings.insert((format!("{:?}", d.location), d.message.clone())) {
                    diags.push(d);
                }
            }
        }
    }

    // A cfg with errors for the target is fixed first; what older
    // releases would say on top is noise until then.
    if opts.target.version_source == VersionSource::Default && !diags.has_errors() {
        judge_every_release(opts, diags);
    }

    let inputs = sources
        .paths()
        .map(Path::to_path_buf)
        .chain(
            system
                .modules()
                .filter(|(_, m)| !m.generated)
                .map(|(_, m)| m.source.clone()),
        )
        .chain(opts.target.config.as_ref().map(|c| c.path.clone()))
        .collect();
    Ok(Compiled {
        inputs,
        system,
        default_section,
        facts,
        hosts,
        target: opts.target.clone(),
        cfg_bytes,
        fragments,
        passthrough,
    })
}

fn read_tree(path: &Path, span: crate::diag::Span, diags: &mut Diagnostics) -> Option<Fdt> {
    use crate::input::{ReadError, read_capped};
    // A tree larger than Xen accepts can never boot; refusing it before
    // reading keeps memory bounded whatever the file is.
    let cap = checks::host::MAX_FDT_SIZE as u64;
    let bytes = match read_capped(path, cap) {
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
    overlay: &crate::model::Module,
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

/// The section the emitted cfg names in `default=`.
fn choose_default(
    doc: &Document,
    system: &System,
    opts: &CompileOptions,
    diags: &mut Diagnostics,
) -> String {
    let first = system
        .sections
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    if let Some(name) = &opts.section {
        if system.section(name).is_none() {
            let names: Vec<String> = system
                .sections
                .iter()
                .map(|s| format!("`{}`", s.name))
                .collect();
            let mut d = Diagnostic::new(
                &c::UNKNOWN_SECTION_ARG,
                Location::File(opts.cfg.clone()),
                format!("`--section {name}` names no boot section"),
            );
            if doc.section(name).is_some() {
                d = d.note(format!(
                    "`[{name}]` is a guest section: Xen boots it as a guest, never as dom0"
                ));
            }
            diags.push(d.help(format!("the boot sections are {}", names.join(", "))));
        }
        return name.clone();
    }
    match &system.default_section {
        Some(d) if system.section(&d.value).is_some() => d.value.clone(),
        Some(d) => {
            // A default naming no section at all is reported by the lexer;
            // here: it names a guest section.
            if doc.section(&d.value).is_some() {
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
            first
        }
        None => {
            if !system.sections.is_empty() {
                diags.push(
                    Diagnostic::new(
                        &c::NO_DEFAULT_SECTION,
                        Location::File(opts.cfg.clone()),
                        "the cfg has no `[global] default=`",
                    )
                    .note(format!("xencfg emits `default={first}`"))
                    .help(format!("add `[global]` with `default={first}`")),
                );
            }
            first
        }
    }
}

/// Follow `[global] chain=` for checking: every chained file must exist and
/// parse, and the chain must not loop (XC0206/XC0207).
fn follow_chain(
    doc: &Document,
    cfg: &Path,
    root: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) {
    let mut visited = vec![std::fs::canonicalize(cfg).unwrap_or_else(|_| cfg.to_path_buf())];
    let mut current = doc.clone();
    while let Some(entry) = current
        .section("global")
        .and_then(|g| g.get("chain"))
        .cloned()
    {
        diags.push(
            Diagnostic::at(&c::CHAIN_USED, entry.key_span, "`chain=` is checked but not emitted")
                .note("Xen frees the current cfg before it reads the chained one; xencfg emits one self-contained cfg")
                .help("merge the chained file into this one"),
        );
        let mut scratch = Diagnostics::default();
        let Some(path) =
            crate::esp::EspPath::parse(entry.value.trim_end(), entry.value_span, &mut scratch)
        else {
            scratch.into_vec().into_iter().for_each(|d| diags.push(d));
            return;
        };
        let host = path.host_path(root);
        let canonical = std::fs::canonicalize(&host).unwrap_or_else(|_| host.clone());
        if visited.contains(&canonical) {
            diags.push(
                Diagnostic::at(
                    &c::CHAIN_CYCLE,
                    entry.value_span,
                    format!(
                        "`chain={}` leads back to a file already in the chain",
                        entry.value
                    ),
                )
                .note("Xen follows the chain forever at boot when no file has `kernel=`")
                .help("remove the `chain=` that closes the loop"),
            );
            return;
        }
        visited.push(canonical);
        let bytes = match crate::input::read_capped(&host, MAX_CFG_SIZE) {
            Ok(b) => b,
            Err(e) => {
                use crate::input::ReadError;
                let check = match &e {
                    ReadError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                        &c::FILE_MISSING
                    }
                    ReadError::Io(io) if io.kind() == std::io::ErrorKind::InvalidInput => {
                        &c::FILE_NOT_REGULAR
                    }
                    _ => &c::FILE_UNREADABLE,
                };
                diags.push(
                    Diagnostic::at(check, entry.value_span, e.message(&host))
                        .note("Xen stops: \"Chained configuration file ... not found\""),
                );
                return;
            }
        };
        let id = sources.add(&host, bytes);
        current = Document::parse(id, &sources.get(id).bytes.clone(), diags);
    }
}

/// Without a target, the cfg is checked for the newest release and judged
/// for every other supported one too: each finding of an older release
/// that the checks for the target do not make is reported once, as a
/// warning naming the releases (XC0906), so a cfg that only works on
/// newer Xen does not pass silently. Only for a cfg without errors.
fn judge_every_release(opts: &CompileOptions, diags: &mut Diagnostics) {
    let releases: Vec<XenVersion> = (XenVersion::OLDEST.minor..=XenVersion::NEWEST.minor)
        .map(|minor| XenVersion::new(XenVersion::OLDEST.major, minor))
        .filter(|v| *v != opts.target.version)
        .collect();
    // Each release is a check run of its own (files sniffed, not hashed),
    // one after the other: a run holds its host trees, and runs side by
    // side would multiply the memory of a large cfg.
    let findings = releases.iter().map(|&version| {
        let release = CompileOptions {
            cfg: opts.cfg.clone(),
            root: opts.root.clone(),
            section: opts.section.clone(),
            target: Target {
                version,
                // Not `Default`: these runs judge no other release.
                version_source: VersionSource::Option,
                full_version: None,
                patch: None,
                config: opts.target.config.clone(),
            },
            efi_name: opts.efi_name.clone(),
            host_ram: opts.host_ram.clone(),
        };
        let mut sources = SourceMap::default();
        let mut found = Diagnostics::default();
        // A cfg that cannot be read was reported by the main run.
        let _ = compile(&release, &mut sources, &mut found);
        (version, found.into_vec())
    });

    // The same check at the same place is the same finding, whatever
    // version its message names. (Hashed: a cfg may have thousands.)
    let key = |d: &Diagnostic| (d.check.code, format!("{:?}", d.location));
    let reported: HashSet<_> = diags.iter().map(key).collect();
    let mut differing: Vec<(Vec<XenVersion>, Diagnostic)> = Vec::new();
    let mut index: HashMap<(&str, String), usize> = HashMap::new();
    for (version, found) in findings {
        for d in found {
            let k = key(&d);
            if reported.contains(&k) {
                continue;
            }
            match index.get(&k) {
                Some(&i) => differing[i].0.push(version),
                None => {
                    index.insert(k, differing.len());
                    differing.push((vec![version], d));
                }
            }
        }
    }
    for (versions, d) in differing {
        let on = release_list(&versions);
        // The message of the oldest release; "the target is Xen 4.16" would
        // read as if the user had chosen it.
        let target_is = format!("; the target is Xen {}", versions[0]);
        let message = d.message.strip_suffix(&target_is).unwrap_or(&d.message);
        let mut warning = Diagnostic::new(
            &c::RELEASES_DIFFER,
            d.location.clone(),
            format!("on Xen {on}: {message}"),
        )
        .note(format!(
            "no target Xen was given: xencfg checks for Xen {} and judges every release from {} on; Xen {on} would report {}[{}] here",
            opts.target.version,
            XenVersion::OLDEST,
            d.severity.as_str(),
            d.check.code
        ));
        for note in d.notes {
            warning = warning.note(note);
        }
        for (location, label) in d.related {
            warning = warning.related(location, label);
        }
        let pin = "pin the target with `--xen-version X.Y`, `--xen FILE` or `--xen-config FILE`";
        diags.push(warning.help(match d.help {
            Some(help) => format!("{pin}; for Xen {on}: {help}"),
            None => pin.to_string(),
        }));
    }
}

/// `4.16 to 4.18`, `4.16, 4.18`: releases in ascending order, runs joined.
fn release_list(versions: &[XenVersion]) -> String {
    let mut runs: Vec<(XenVersion, XenVersion)> = Vec::new();
    for &v in versions {
        match runs.last_mut() {
            Some((_, last)) if last.major == v.major && last.minor + 1 == v.minor => *last = v,
            _ => runs.push((v, v)),
        }
    }
    runs.iter()
        .map(|(first, last)| match first == last {
            true => first.to_string(),
            false => format!("{first} to {last}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

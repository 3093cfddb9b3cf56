//! The analysis stage: everything the checks, `explain` and the emitters
//! consume, computed once from the lowered [`System`] and what [`load`]
//! read — the [`Plan`].
//!
//! Per boot section: the host tree with its overlays (shared by sections
//! naming the same files), the host's facts (RAM, CPUs, reserved ranges),
//! the domids after the host tree's own domains, the modules those domains
//! load, and the passthrough fragments xencfg builds. The merged tree of a
//! section ([`Plan::merged`]) is built when first asked (by the size check)
//! and kept for `build` and `explain` while the kept blobs stay under
//! [`MERGED_CACHE_BUDGET`]; past it, trees are built again when asked, so a
//! cfg naming a large host DTB in thousands of sections never holds
//! thousands of trees.
//!
//! [`load`]: crate::load

pub mod assignments;
pub mod build_options;
pub mod fragments;
pub mod guest_map;
pub mod host;
pub mod merge;
pub mod passthrough;
pub mod placement;
pub mod resolve;
pub mod structures_dt;
pub mod trimmed_cfg;

use crate::cfg::Document;
use crate::diag::{Diagnostics, SourceMap};
use crate::error::Error;
use crate::fdt::Fdt;
use crate::host::{HostFacts, HostRam};
use crate::load::cfg::ChainLink;
use crate::load::hash::FileFacts;
use crate::model::{BootSection, System};
use crate::target::Target;
use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Memory a [`Plan`] spends on keeping merged trees, counted as twice each
/// blob (the tree in memory is about the blob's size): the systems people
/// boot fit many times over; a cfg of thousands of sections on a large host
/// DTB builds the rest again when asked, keeping memory bounded.
pub const MERGED_CACHE_BUDGET: usize = 8 << 20;

/// The manifest's file name in the output (the checks make sure no module
/// takes it).
pub const MANIFEST_NAME: &str = "manifest.json";

/// What a run is asked to do: the cfg, where its files are, the target.
#[derive(Clone)]
pub struct Options {
    pub cfg: PathBuf,
    pub root: Option<PathBuf>,
    /// `--section`: the section the emitted cfg boots by default.
    pub section: Option<String>,
    pub target: Target,
    /// The EFI binary's base name (`xen`, `BOOTAA64`).
    pub efi_name: String,
    /// `--host-ram`: the board's RAM instead of the DT memory nodes'.
    pub host_ram: Option<HostRam>,
}

/// A system analysed, ready to check, explain and emit.
pub struct Plan {
    pub options: Options,
    /// The cfg as parsed (its chain's documents are not kept: only the
    /// links matter once read).
    pub doc: Document,
    pub chain: Vec<ChainLink>,
    pub system: System,
    /// The section the emitted cfg names in `default=`.
    pub default_section: String,
    pub facts: BTreeMap<PathBuf, FileFacts>,
    /// Per boot section, same order as `system.sections`.
    pub sections: Vec<SectionPlan>,
    /// The trimmed cfg's bytes.
    pub cfg_bytes: Vec<u8>,
    /// Passthrough fragments xencfg built (`passthrough=`), to write.
    pub fragments: Vec<fragments::GeneratedFragment>,
    /// What building them found (a host node that cannot be passed
    /// through, a name taken): reported by the check table.
    pub fragment_findings: Diagnostics,
    /// Every file read to compile the system, as named: the cfg, the
    /// chained cfgs, each module's source (DTBs, overlays, images,
    /// fragments) and `--xen-config`. `build` refuses an output directory
    /// that holds any of them.
    pub inputs: Vec<PathBuf>,
    /// Bytes of merged blobs kept so far (see [`MERGED_CACHE_BUDGET`]).
    merged_kept: Cell<usize>,
}

/// A boot section's merged tree and the blob `build` writes.
pub struct Merged {
    pub tree: Fdt,
    /// The tree with room for the EFI stub's edits ([`merge::padding_for`]).
    pub blob: Vec<u8>,
}

/// What the analysis knows of one boot section.
#[derive(Default)]
pub struct SectionPlan {
    /// The host tree, overlays applied; `None` without `dtb=` or when it
    /// could not be read (reported).
    pub host: Option<Arc<Fdt>>,
    /// The host's RAM, CPUs and reserved ranges (`--host-ram` applied).
    pub host_facts: Option<HostFacts>,
    /// Where memory given as a size alone went, and the firmware's areas.
    pub placement: placement::Placement,
    /// What links its domains: event channels, shared memory, cpupools.
    pub links: resolve::Links,
    /// The host devices each guest gets.
    pub passthrough: assignments::Assignments,
    /// What reading the fragments found (the passthrough rules run while
    /// the devices are derived): reported by the check table.
    pub passthrough_findings: Diagnostics,
    /// The merged tree, once built (if the budget allowed keeping it).
    merged: OnceCell<Arc<Merged>>,
}

/// One boot section with what the analysis knows of it: what each check
/// of a section looks at.
pub struct SectionView<'p> {
    pub plan: &'p Plan,
    pub index: usize,
    pub system: &'p System,
    pub section: &'p BootSection,
    /// The host tree (after overlays), when it could be read.
    pub host_tree: Option<&'p Fdt>,
    pub host: Option<&'p HostFacts>,
    pub facts: &'p BTreeMap<PathBuf, FileFacts>,
    pub target: &'p Target,
}

impl<'p> SectionView<'p> {
    pub fn has_dom0(&self) -> bool {
        self.section.dom0_kernel.is_some()
    }

    pub fn guest(&self, index: usize) -> Option<&'p crate::model::Guest> {
        self.section.guests.get(index)
    }

    pub fn analysis(&self) -> &'p SectionPlan {
        &self.plan.sections[self.index]
    }
}

impl Plan {
    pub fn target(&self) -> &Target {
        &self.options.target
    }

    /// Boot section `index` with what the analysis knows of it.
    pub fn section(&self, index: usize) -> SectionView<'_> {
        let plan = &self.sections[index];
        SectionView {
            plan: self,
            index,
            system: &self.system,
            section: &self.system.sections[index],
            host_tree: plan.host.as_deref(),
            host: plan.host_facts.as_ref(),
            facts: &self.facts,
            target: &self.options.target,
        }
    }

    /// Every boot section, in order.
    pub fn section_views(&self) -> impl Iterator<Item = SectionView<'_>> {
        (0..self.sections.len()).map(|i| self.section(i))
    }

    /// Hash every input file (for `build`, once its checks have passed):
    /// sha256 added to the facts the checks judged, reusing what `cache`
    /// knows of unchanged files (and recording what it hashes, for the next
    /// build). A file whose size or format is no longer what was checked
    /// changed in between: an error.
    pub fn hash_inputs(
        &mut self,
        progress: Option<&crate::progress::Progress>,
        cache: &crate::load::cache::Cache,
    ) -> Result<(), Error> {
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
            let hashed = result.map_err(Error::HashFailed)?;
            let checked = self.facts.get_mut(path);
            let Some(checked) =
                checked.filter(|c| (c.size, c.format) == (hashed.size, hashed.format))
            else {
                return Err(Error::InputChanged(path.clone()));
            };
            checked.sha256 = hashed.sha256;
        }
        Ok(())
    }

    /// Boot section `index`'s merged tree: the host tree with the guests
    /// under `/chosen` and the passed-through devices marked. `None` when
    /// the section has no host tree.
    pub fn merged(&self, index: usize) -> Option<Arc<Merged>> {
        let plan = self.sections.get(index)?;
        if let Some(kept) = plan.merged.get() {
            return Some(kept.clone());
        }
        let tree = self.merge(index)?;
        let blob = tree.to_bytes_padded(merge::padding_for(&self.system.sections[index]));
        let merged = Arc::new(Merged { tree, blob });
        let kept = self.merged_kept.get() + 2 * merged.blob.len();
        if kept <= MERGED_CACHE_BUDGET {
            self.merged_kept.set(kept);
            let _ = plan.merged.set(merged.clone());
        }
        Some(merged)
    }

    fn merge(&self, index: usize) -> Option<Fdt> {
        let plan = self.sections.get(index)?;
        let (host, facts) = (plan.host.as_deref()?, plan.host_facts.as_ref()?);
        let mut fdt = merge::merge(
            host,
            facts,
            &plan.links,
            &self.system.sections[index],
            &self.system.pools,
            self.target(),
        );
        assignments::mark(&mut fdt, &self.sections[index].passthrough);
        Some(fdt)
    }
}

/// Analyse a cfg: read it and everything it names, lower it and work out
/// what the checks and the emitters need. Syntax and unreadable inputs are
/// reported here; every rule is left to [`crate::checks`].
pub fn analyze(
    options: &Options,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Plan, Error> {
    let root = options
        .root
        .clone()
        .unwrap_or_else(|| crate::lower::default_root(&options.cfg));
    let loaded = crate::load::cfg::load(&options.cfg, &root, sources, diags)?;
    let input = crate::lower::LowerInput {
        doc: &loaded.doc,
        cfg_path: &options.cfg,
        root: &root,
        target: &options.target,
    };
    let mut system = crate::lower::lower(&input, diags);
    let default_section = default_section(&system, options);

    let mut facts = crate::load::files::inspect(&system, diags);
    let hosts = crate::load::trees::host_trees(&system, &facts, diags);
    host::number_after_host_domains(&mut system, &hosts);
    host::attach_domain_modules(&mut system, &hosts, diags);
    let host_domain_modules: Vec<&crate::model::Module> = system
        .sections
        .iter()
        .flat_map(|s| &s.host_domain_modules)
        .filter(|m| !facts.contains_key(&m.source))
        .collect();
    let more = crate::load::files::inspect_modules(&host_domain_modules, diags);
    facts.extend(more);
    let mut fragment_findings = Diagnostics::default();
    let fragments =
        fragments::generate_all(&mut system, &hosts, &mut facts, &mut fragment_findings);

    let mut sections = Vec::with_capacity(hosts.len());
    let mut placements = Vec::with_capacity(hosts.len());
    let mut host_facts_of = Vec::with_capacity(hosts.len());
    for (section, host) in system.sections.iter_mut().zip(&hosts) {
        let host_facts = host.as_deref().map(|tree| {
            let read = HostFacts::read(tree);
            match &options.host_ram {
                Some(stated) => read.with_stated_ram(stated),
                None => read,
            }
        });
        placements.push(placement::place(
            section,
            host_facts.as_ref(),
            host.as_deref(),
            &facts,
        ));
        host_facts_of.push(host_facts);
    }
    for (((section, host), host_facts), placement) in system
        .sections
        .iter()
        .zip(hosts)
        .zip(host_facts_of)
        .zip(placements)
    {
        let mut passthrough_findings = Diagnostics::default();
        let passthrough = passthrough::derive(
            section,
            host.as_deref(),
            &facts,
            &fragments,
            &options.target,
            &mut passthrough_findings,
        );
        sections.push(SectionPlan {
            placement,
            links: resolve::Links::resolve(&system, section),
            host,
            host_facts,
            passthrough,
            passthrough_findings,
            merged: OnceCell::new(),
        });
    }

    let cfg_bytes = trimmed_cfg::render(&trimmed_cfg::CfgInput {
        system: &system,
        default_section: &default_section,
        source_name: &options
            .cfg
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        target: &options.target,
    });
    let inputs = sources
        .paths()
        .map(Path::to_path_buf)
        .chain(
            system
                .modules()
                .filter(|(_, m)| !m.generated)
                .map(|(_, m)| m.source.clone()),
        )
        .chain(options.target.config.as_ref().map(|c| c.path.clone()))
        .collect();
    Ok(Plan {
        options: options.clone(),
        doc: loaded.doc,
        chain: loaded.chain,
        system,
        default_section,
        facts,
        sections,
        cfg_bytes,
        fragments,
        fragment_findings,
        inputs,
        merged_kept: Cell::new(0),
    })
}

/// The section the emitted cfg names in `default=`: `--section`, else
/// `[global] default=` when it names a boot section, else the first. What
/// is wrong with the choice is judged by `checks::sections`.
fn default_section(system: &System, options: &Options) -> String {
    let first = system
        .sections
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    if let Some(name) = &options.section {
        return name.clone();
    }
    match &system.default_section {
        Some(d) if system.section(&d.value).is_some() => d.value.clone(),
        _ => first,
    }
}

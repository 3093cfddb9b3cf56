//! `manifest.json`: everything to install, with sizes and sha256 (spec §2).
//!
//! The schema is versioned (`"schema": 1`); field names are stable. Paths
//! on the ESP use `\` as Xen sees them. Source paths are relative to the
//! directory ESP paths are resolved from (the cfg's, or `--root`), with
//! `/`, so the manifest depends on the inputs' content and names only: the
//! same tree built under another directory (every Yocto `TMPDIR`), or with
//! the same root spelt `D/./`, gives the same bytes.

use crate::load::hash::FileFacts;
use crate::load::image::ImageFormat;
use crate::model::{Module, ModuleRole, System};
use crate::target::{Built, Target, VersionSource, XenVersion, kconfig};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `source` of a file xencfg writes itself.
const GENERATED: &str = "generated";

#[derive(Serialize)]
pub struct Manifest {
    pub schema: u32,
    pub generator: &'static str,
    pub xencfg_version: &'static str,
    pub target: TargetInfo,
    pub cfg: String,
    pub default_section: String,
    pub sections: Vec<SectionInfo>,
    /// Every distinct file to install, sorted by ESP path.
    pub files: Vec<FileInfo>,
}

#[derive(Serialize)]
pub struct TargetInfo {
    pub xen_version: XenVersion,
    /// Where the version came from (`option`, `xen-binary`, `xen-config`,
    /// `default`).
    pub version_source: VersionSource,
    /// The full version string read from `--xen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xen_full_version: Option<String>,
    /// The `--xen-config` file, or the `--xen` binary whose own `.config`
    /// was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xen_config: Option<String>,
    /// `xen_config` is the Xen binary: the `.config` came from inside it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub xen_config_embedded: bool,
    /// The build options xencfg judged, with whether the target has them
    /// (only with a build configuration).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub build_options: BTreeMap<&'static str, bool>,
    /// The build options this configuration relies on.
    pub required_options: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct SectionInfo {
    pub name: String,
    /// The merged DTB's ESP name; null for a section without `dtb=`.
    pub dtb: Option<String>,
    pub options: Option<String>,
    pub dom0: Vec<ModuleInfo>,
    pub guests: Vec<GuestInfo>,
    pub efi_modules: EfiModules,
    /// Host device nodes given `xen,passthrough` in this section's DTB
    /// (only with a dom0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub xen_passthrough: Vec<String>,
}

#[derive(Serialize)]
pub struct EfiModules {
    pub count: usize,
    pub limit: usize,
}

#[derive(Serialize)]
pub struct GuestInfo {
    pub name: String,
    pub domid: u32,
    pub cpus: Option<u32>,
    pub memory_kib: Option<u64>,
    pub modules: Vec<ModuleInfo>,
    /// Host device nodes passed through to the guest (its fragment's
    /// `xen,path`s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passthrough: Vec<String>,
}

#[derive(Serialize)]
pub struct ModuleInfo {
    pub role: ModuleRole,
    pub esp_path: String,
    pub source: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub format: ImageFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootargs: Option<String>,
}

#[derive(Serialize, Clone)]
pub struct FileInfo {
    pub esp_path: String,
    pub size: u64,
    pub sha256: String,
    /// Where the file comes from: a source path, or `generated`.
    pub source: String,
}

/// What the manifest needs beyond the model.
pub struct ManifestInput<'a> {
    pub system: &'a System,
    pub target: &'a Target,
    pub cfg_name: &'a str,
    pub default_section: &'a str,
    /// Facts of every source file, by host path.
    pub facts: &'a BTreeMap<PathBuf, FileFacts>,
    /// Generated files (cfg, DTBs, staged Xen) with their ESP path and facts.
    pub generated: Vec<FileInfo>,
    pub limit: usize,
    pub efi_counts: Vec<usize>,
    pub options: Vec<Option<String>>,
    /// Per section, the host devices each guest gets.
    /// Per boot section, what the analysis found (the passthrough).
    pub sections: &'a [crate::analyze::SectionPlan],
}

pub fn build(input: ManifestInput) -> Manifest {
    let module = |m: &Module| -> ModuleInfo {
        let facts = input.facts.get(&m.source);
        ModuleInfo {
            role: m.role,
            esp_path: m.path.to_efi_string(),
            source: if m.generated {
                PathBuf::from(GENERATED)
            } else {
                PathBuf::from(source_name(&input.system.root, &m.source))
            },
            size: facts.map_or(0, |f| f.size),
            sha256: facts.and_then(|f| f.sha256.clone()).unwrap_or_default(),
            format: facts.map_or(ImageFormat::Unknown, |f| f.format),
            bootargs: m.bootargs.clone().filter(|_| m.role.is_kernel()),
        }
    };
    let sections = input
        .system
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| SectionInfo {
            name: s.name.clone(),
            dtb: crate::analyze::trimmed_cfg::dtb_name(s),
            options: input.options.get(i).cloned().flatten(),
            dom0: s
                .dom0_kernel
                .iter()
                .chain(&s.dom0_ramdisk)
                .chain(&s.xsm)
                .map(module)
                .collect(),
            guests: s
                .guests
                .iter()
                .map(|g| GuestInfo {
                    name: g.name.clone(),
                    domid: g.domid,
                    cpus: g.cpus(),
                    memory_kib: g.memory_kib(),
                    modules: g.modules().map(module).collect(),
                    passthrough: input
                        .sections
                        .get(i)
                        .map(|a| a.passthrough.of(&g.name).to_vec())
                        .unwrap_or_default(),
                })
                .collect(),
            efi_modules: EfiModules {
                count: input.efi_counts.get(i).copied().unwrap_or(0),
                limit: input.limit,
            },
            xen_passthrough: input
                .sections
                .get(i)
                .map(|a| a.passthrough.marked_nodes())
                .unwrap_or_default(),
        })
        .collect();

    let mut files: BTreeMap<String, FileInfo> = BTreeMap::new();
    for (_, m) in input.system.modules() {
        if matches!(m.role, ModuleRole::HostDtb | ModuleRole::Overlay) {
            continue; // consumed by xencfg, not installed
        }
        let info = module(m);
        files.entry(info.esp_path.clone()).or_insert(FileInfo {
            esp_path: info.esp_path,
            size: info.size,
            sha256: info.sha256,
            source: if m.generated {
                GENERATED.to_string()
            } else {
                source_name(&input.system.root, &m.source)
            },
        });
    }
    for g in input.generated {
        files.insert(g.esp_path.clone(), g);
    }

    Manifest {
        schema: 1,
        generator: "xencfg",
        xencfg_version: env!("CARGO_PKG_VERSION"),
        target: target_info(input.system, input.sections, input.target),
        cfg: input.cfg_name.to_string(),
        default_section: input.default_section.to_string(),
        sections,
        files: files.into_values().collect(),
    }
}

fn target_info(
    system: &System,
    sections: &[crate::analyze::SectionPlan],
    target: &Target,
) -> TargetInfo {
    let build_options = match &target.config {
        Some(_) => kconfig::OPTIONS
            .iter()
            .filter_map(|o| match target.builds(o.symbol) {
                Built::Yes => Some((o.symbol, true)),
                Built::No => Some((o.symbol, false)),
                Built::Unknown => None,
            })
            .collect(),
        None => BTreeMap::new(),
    };
    let required: std::collections::BTreeSet<&'static str> = system
        .sections
        .iter()
        .zip(sections)
        .flat_map(|(s, plan)| {
            crate::analyze::build_options::required_options(system, s, &plan.links)
        })
        // An option older releases build unconditionally is not one to ask for.
        .filter(|symbol| kconfig::option(symbol).is_none_or(|o| o.since <= target.version))
        .collect();
    TargetInfo {
        xen_version: target.version,
        version_source: target.version_source,
        xen_full_version: target.full_version.clone(),
        xen_config: target
            .config
            .as_ref()
            .map(|c| source_name(&system.root, &c.path)),
        xen_config_embedded: target.config.as_ref().is_some_and(|c| c.embedded),
        build_options,
        required_options: required.into_iter().collect(),
    }
}

/// `source` as the manifest records it: relative to `root`, both taken
/// lexically from the working directory (`.` dropped, `..` taken back),
/// joined with `/`. Lexical, not canonical, so that a symlinked build tree
/// records the names the user gave.
pub fn source_name(root: &Path, source: &Path) -> String {
    use std::path::Component;
    let Ok(cwd) = std::env::current_dir() else {
        return source.display().to_string();
    };
    let absolute = |p: &Path| -> Vec<std::ffi::OsString> {
        let mut parts: Vec<std::ffi::OsString> = Vec::new();
        for c in cwd.join(p).components() {
            match c {
                Component::Normal(n) => parts.push(n.to_os_string()),
                Component::ParentDir => {
                    parts.pop();
                }
                Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
            }
        }
        parts
    };
    let (root, source) = (absolute(root), absolute(source));
    let common = root.iter().zip(&source).take_while(|(a, b)| a == b).count();
    let up = std::iter::repeat_n(std::ffi::OsStr::new(".."), root.len() - common);
    let down = source[common..].iter().map(|s| s.as_os_str());
    up.chain(down)
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

impl Manifest {
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::source_name;
    use std::path::Path;

    #[test]
    fn sources_are_relative_to_the_root_however_it_is_spelt() {
        for root in ["/b/d", "/b/d/", "/b/./d/.", "/b/x/../d"] {
            assert_eq!(
                source_name(Path::new(root), Path::new("/b/d/Image")),
                "Image"
            );
            assert_eq!(
                source_name(Path::new(root), Path::new("/b/d/./g/initrd")),
                "g/initrd"
            );
            assert_eq!(
                source_name(Path::new(root), Path::new("/b/xen.efi")),
                "../xen.efi"
            );
            assert_eq!(
                source_name(Path::new(root), Path::new("/other/x")),
                "../../other/x"
            );
        }
    }
}

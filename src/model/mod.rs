//! The typed system a cfg describes, independent of how it was written.
//!
//! Lowering ([`crate::lower`]) builds a [`System`] from either seed form;
//! checks and emitters only ever see this model. Every item keeps the span
//! of the cfg text it came from, for diagnostics.

pub mod structures;

use crate::binding::value::PropertyValue;
use crate::binding::{self, PropertySpec};
use crate::diag::Span;
use crate::esp::EspPath;
use serde::Serialize;
use std::path::PathBuf;

/// A value with the span of the cfg text it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// The whole configuration: every boot section of the cfg.
#[derive(Debug)]
pub struct System {
    /// The cfg as given on the command line.
    pub cfg_path: PathBuf,
    /// Where ESP paths are resolved on the build host.
    pub root: PathBuf,
    /// `[global] default=`, if present.
    pub default_section: Option<Spanned<String>>,
    /// `[global] video=`: Xen falls back to it for sections without one.
    pub global_video: Option<Spanned<String>>,
    pub sections: Vec<BootSection>,
    /// Cpupool sections (named by some guest's `cpupool=`).
    pub pools: Vec<structures::CpuPool>,
}

impl System {
    pub fn section(&self, name: &str) -> Option<&BootSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Every module of every section, with its section.
    pub fn modules(&self) -> impl Iterator<Item = (&BootSection, &Module)> {
        self.sections
            .iter()
            .flat_map(|s| s.modules().map(move |m| (s, m)))
    }
}

/// One section Xen can boot: its Xen options, dom0 and dom0less guests.
#[derive(Debug)]
pub struct BootSection {
    pub name: String,
    pub header: Span,
    /// `options=` (the Xen command line).
    pub options: Option<Spanned<String>>,
    /// dom0's kernel (`kernel=`), its command line in `bootargs`.
    pub dom0_kernel: Option<Module>,
    pub dom0_ramdisk: Option<Module>,
    pub xsm: Option<Module>,
    /// The host DTB (`dtb=`).
    pub dtb: Option<Module>,
    /// Overlays applied to the host DTB (`dtbo=`), in order.
    pub dtbos: Vec<Module>,
    /// dom0's side of the structure keys given in the boot section: only
    /// `shared-mem=` (reference §2.7, `xen,domain-shared-memory-v1` nodes
    /// directly under `/chosen`) and the refusals of it.
    pub dom0_structures: structures::GuestStructures,
    /// `static-heap=`: host RAM that is Xen's whole heap (`/chosen`
    /// `xen,static-heap`, reference §2.3); sizes alone are placed by the
    /// analysis.
    pub static_heap: Option<structures::HostRanges>,
    /// Keys passed through to the emitted cfg unchanged (`video=`, `ucode=`).
    pub passthrough_keys: Vec<(String, Spanned<String>)>,
    /// dom0less guests in domid order (domid = index + first_domid).
    pub guests: Vec<Guest>,
    /// The modules of domains the host DTB (with its overlays) already
    /// describes: Xen loads them like ours, so they are checked, staged and
    /// listed like ours. Filled in once the host tree is read.
    pub host_domain_modules: Vec<Module>,
}

impl BootSection {
    /// Every file this section references, in a stable order.
    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.dom0_kernel
            .iter()
            .chain(&self.dom0_ramdisk)
            .chain(&self.xsm)
            .chain(&self.dtb)
            .chain(&self.dtbos)
            .chain(self.guests.iter().flat_map(|g| g.modules()))
            .chain(&self.host_domain_modules)
    }

    /// Files the EFI loader loads as modules (everything but the DTB and
    /// overlays, which xencfg consumes), de-duplicated as Xen does: by the
    /// exact path string.
    pub fn efi_loaded_files(&self) -> Vec<&Module> {
        let mut loaded: Vec<&Module> = Vec::new();
        let mut dt_paths: std::collections::HashSet<&EspPath> = Default::default();
        let candidates = self
            .dom0_kernel
            .iter()
            .chain(&self.dom0_ramdisk)
            .chain(&self.xsm)
            .chain(self.guests.iter().flat_map(|g| g.modules()))
            .chain(&self.host_domain_modules);
        for m in candidates {
            // cfg modules are loaded once each; DT modules once per distinct string.
            if m.role.is_dom0() || dt_paths.insert(&m.path) {
                loaded.push(m);
            }
        }
        loaded
    }
}

/// What a referenced file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleRole {
    Dom0Kernel,
    Dom0Ramdisk,
    Xsm,
    HostDtb,
    Overlay,
    Kernel,
    Ramdisk,
    /// A guest's passthrough DTB fragment (`multiboot,device-tree`).
    DeviceTree,
    /// A module of a domain the host DTB (or an overlay) already describes,
    /// loaded by its `xen,uefi-binary`.
    HostDomain,
}

impl ModuleRole {
    pub fn is_dom0(self) -> bool {
        matches!(
            self,
            ModuleRole::Dom0Kernel | ModuleRole::Dom0Ramdisk | ModuleRole::Xsm
        )
    }

    pub fn is_kernel(self) -> bool {
        matches!(self, ModuleRole::Dom0Kernel | ModuleRole::Kernel)
    }

    /// The specific `compatible` of a guest module node.
    pub fn dt_compatible(self) -> &'static str {
        match self {
            ModuleRole::Kernel | ModuleRole::Dom0Kernel => "multiboot,kernel",
            ModuleRole::Ramdisk | ModuleRole::Dom0Ramdisk => "multiboot,ramdisk",
            ModuleRole::DeviceTree => "multiboot,device-tree",
            ModuleRole::Xsm => "xen,xsm-policy",
            ModuleRole::HostDtb | ModuleRole::Overlay | ModuleRole::HostDomain => "",
        }
    }
}

/// A file referenced by the cfg.
#[derive(Clone, Debug)]
pub struct Module {
    pub role: ModuleRole,
    /// The path on the ESP (relative to the Xen binary's directory).
    pub path: EspPath,
    /// The file on the build host.
    pub source: PathBuf,
    /// The cfg text that names it.
    pub span: Span,
    /// The kernel command line (kernels only).
    pub bootargs: Option<String>,
    /// xencfg writes this file itself (a passthrough fragment built from
    /// `passthrough=`): `source` is then its path in the output directory,
    /// not an input to read or stage.
    pub generated: bool,
}

/// A dom0less guest: one `xen,domain` node.
#[derive(Debug)]
pub struct Guest {
    /// The node name under `/chosen`.
    pub name: String,
    /// Where the guest is named (its section header, `domains=` entry or
    /// first `domu#_` key).
    pub name_span: Span,
    pub domid: u32,
    pub kernel: Option<Module>,
    pub ramdisk: Option<Module>,
    pub dtb: Option<Module>,
    /// Host device nodes to pass through (`passthrough=/path`, repeatable),
    /// in cfg order: xencfg builds the guest's fragment from them.
    pub passthrough: Vec<Spanned<String>>,
    /// Properties in cfg order, each at most once.
    pub properties: Vec<GuestProperty>,
    /// Known properties given but not kept: their value could not be read
    /// (reported by lowering) or is refused (in `refused`, reported by
    /// `checks::binding`). Not to be reported again as missing.
    pub rejected: Vec<String>,
    /// Properties read whose values the target does not take
    /// ([`crate::binding::rules`]); `checks::binding` reports them, and
    /// their names are in `rejected`.
    pub refused: Vec<RefusedProperty>,
    /// Cpupool, event channels, shared and static memory, vCPU affinity.
    pub structures: structures::GuestStructures,
}

impl Guest {
    /// Its `capabilities` bits, when given and valid.
    pub fn capabilities(&self) -> Option<u32> {
        match self.property(&crate::binding::CAPABILITIES)?.value {
            crate::binding::value::PropertyValue::U32(n) => Some(n),
            _ => None,
        }
    }

    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.kernel.iter().chain(&self.ramdisk).chain(&self.dtb)
    }

    /// The property of the binding table entry `spec`, if given.
    pub fn property(&self, spec: &PropertySpec) -> Option<&GuestProperty> {
        self.properties.iter().find(|p| p.dt_name == spec.dt_name)
    }

    pub fn cpus(&self) -> Option<u32> {
        match self.property(&binding::CPUS)?.value {
            PropertyValue::U32(n) => Some(n),
            _ => None,
        }
    }

    pub fn memory_kib(&self) -> Option<u64> {
        match self.property(&binding::MEMORY)?.value {
            PropertyValue::Memory(k) => Some(k.0),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct GuestProperty {
    pub dt_name: String,
    pub value: PropertyValue,
    pub span: Span,
}

/// A property whose value was read but is not one its binding entry
/// accepts for the target.
#[derive(Clone, Debug)]
pub struct RefusedProperty {
    pub spec: &'static PropertySpec,
    /// The key as written in the cfg.
    pub key: String,
    /// `None` when the target does not read the property at all (its
    /// value is then not read either).
    pub value: Option<PropertyValue>,
    pub name_span: Span,
    pub value_span: Span,
}

//! Lowering a cfg [`Document`] into the typed [`System`] model.
//!
//! Both seed forms land here: flat `domu#_kernel/_ramdisk/_dtb/_property`
//! keys in a boot section (the RFC form) and guest sections named by
//! `domains=`/`guests=` (the section form), mixed freely. Guests get their
//! domids in the order they first appear in their boot section. Keys are
//! classified against what Xen reads and what xencfg reads; everything else
//! is reported, never silently dropped. [`structures`] reads the keys of
//! the linked structures (cpupools, event channels, shared and static
//! memory, vCPU affinity).
//!
//! Lowering reports only what cannot be read (syntax, unknown keys, …). A
//! property or structure key the binding table refuses for the target
//! (its release, build option, range or choices: [`binding::rules`]) is
//! kept aside in the guest's `refused` lists, out of the model the checks
//! and emitters use, and `checks::binding` reports it.

pub mod structures;

use crate::binding::value::{self, Kib, PropertyValue};
use crate::binding::{self, PropertySpec, ValueKind};
use crate::cfg::{Document, Entry, Section, Word};
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Span};
use crate::diag::{raw_sub_span, sub_span};
use crate::esp::EspPath;
use crate::model::structures::GuestStructures;
use crate::model::{
    BootSection, Guest, GuestProperty, Module, ModuleRole, RefusedProperty, Spanned, System,
};
use crate::target::Target;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Keys Xen reads in a boot section (reference §1.7), plus the ones xencfg adds.
const XEN_SECTION_KEYS: &[&str] = &[
    "options", "kernel", "ramdisk", "xsm", "dtb", "video", "ucode",
];
const XENCFG_SECTION_KEYS: &[&str] = &["dtbo", "domains", "guests", DOM0_SHARED_MEM, STATIC_HEAP];
/// The structure key a boot section takes for dom0 (its side of static
/// shared memory, reference §2.7).
const DOM0_SHARED_MEM: &str = "shared-mem";
/// Xen's static heap (`/chosen` `xen,static-heap`): a boot-section key,
/// the heap being the whole system's.
const STATIC_HEAP: &str = "static-heap";
const GLOBAL_KEYS: &[&str] = &["default", "chain", "video"];
/// The key that is both Xen's `passthrough` property (`enabled`) and
/// xencfg's host-device key (`passthrough=/path`).
const PASSTHROUGH_KEY: &str = "passthrough";
/// Keys of a guest section that are not binding properties.
const GUEST_MODULE_KEYS: &[&str] = &["kernel", "ramdisk", "dtb", "property", "properties"];

pub struct LowerInput<'a> {
    pub doc: &'a Document,
    pub cfg_path: &'a Path,
    /// Directory ESP paths are resolved against on the build host.
    pub root: &'a Path,
    pub target: &'a Target,
}

/// Properties xencfg writes on every domain node itself: a guest may not
/// set them (XC0220).
const WRITTEN_BY_XENCFG: &[&str] = &[
    "compatible",
    "#address-cells",
    "#size-cells",
    "phandle",
    "linux,phandle",
];

pub fn lower(input: &LowerInput, diags: &mut Diagnostics) -> System {
    let doc = input.doc;
    let guest_refs = guest_section_names(doc);
    let pool_refs = structures::pool_section_names(doc);
    let mut lowerer = Lowerer {
        input,
        diags,
        templates: BTreeMap::new(),
        pending_rejected: Vec::new(),
        pending_refused: Vec::new(),
        pending_passthrough: Vec::new(),
        pending_structures: Vec::new(),
        section_by_name: first_section_by_name(doc),
        bare_words: bare_words_by_section(doc),
        unknown_guest_sections: 0,
    };
    let mut pools = Vec::new();
    let mut unlisted_guests = Vec::new();

    let mut default_section = None;
    let mut global_video = None;
    let mut sections = Vec::new();
    for (index, section) in doc.sections.iter().enumerate() {
        if section.shadowed {
            continue;
        }
        if section.name == "global" {
            default_section = section
                .get("default")
                .map(|e| Spanned::new(e.value.clone(), e.value_span));
            global_video = section
                .get("video")
                .map(|e| Spanned::new(e.value.trim_end().to_string(), e.value_span));
            lowerer.check_keys(section, index, GLOBAL_KEYS, &[]);
            continue;
        }
        if guest_refs.contains_key(section.name.as_str())
            || unlistable_parts(&section.name).any(|part| guest_refs.contains_key(part))
        {
            // A guest section, or one meant as a guest that `domains=`
            // cannot name (reported there): not a boot section either way.
            continue;
        }
        if let Some(why) = unlisted_guest(section, lowerer.bare_words.get(&index)) {
            // Lowered as a boot section, it would draw XC0215, XC0608 and
            // XC0113 on its guest keys, every one pointing the wrong way.
            unlisted_guests.push((section, why));
            continue;
        }
        let named_pool = pool_refs.contains_key(&section.name);
        if structures::is_pool_section(section, named_pool) {
            if !named_pool {
                structures::report_unused_pool(section, lowerer.diags);
            }
            lowerer.check_keys(section, index, &[], structures::POOL_KEYS);
            pools.push(structures::lower_pool(section, lowerer.diags));
            continue;
        }
        sections.push(lowerer.boot_section(section, index));
    }

    for (section, why) in unlisted_guests {
        let boot: Vec<String> = sections.iter().map(|s| format!("`[{}]`", s.name)).collect();
        let help = match boot.as_slice() {
            [] => format!(
                "add a boot section such as `[xen]` with `options=`, `dtb=` and `domains={}`",
                section.name
            ),
            [one] => format!("add `{}` to `domains=` of {one}", section.name),
            many => format!(
                "add `{}` to `domains=` of the boot section that boots it ({})",
                section.name,
                many.join(", ")
            ),
        };
        lowerer.diags.push(
            Diagnostic::at(
                &c::UNLISTED_GUEST_SECTION,
                section.name_span,
                format!(
                    "section `[{}]` looks like a guest but no boot section lists it",
                    section.name
                ),
            )
            .note(why)
            .note("Xen boots only the guests a boot section's `domains=` (or `guests=`) names; this section is not booted")
            .help(help),
        );
    }

    if sections.is_empty() {
        lowerer.diags.push(
            Diagnostic::new(
                &c::NO_BOOT_SECTION,
                Location::File(input.cfg_path.to_path_buf()),
                "the cfg has no boot section",
            )
            .help("add a section such as `[xen]` with `options=`, `dtb=` and the guests, and `[global]` `default=xen`"),
        );
    }

    let mut system = System {
        cfg_path: input.cfg_path.to_path_buf(),
        root: input.root.to_path_buf(),
        default_section,
        global_video,
        sections,
        pools,
    };
    structures::derive_memory(&mut system);
    system
}

/// Why a section that no `domains=`/`guests=` names is meant as a guest,
/// if it is: it carries the guest marker (an empty `property=` or
/// `properties=`), or it has `kernel=` with guest properties (`cpus`,
/// `memory`, `vpl011`, ...) and none of the keys only a boot section uses.
/// (Without `kernel=`, `cpus=` alone is a cpupool section's key.)
fn unlisted_guest(section: &Section, bare_words: Option<&Vec<&Word>>) -> Option<String> {
    const BOOT_ONLY_KEYS: &[&str] = &["options", "xsm", "dtbo", "domains", "guests", "ucode"];
    let entries = || section.entries.iter().filter(|e| !e.shadowed);
    if let Some(marker) = entries().find(|e| is_guest_marker(e)) {
        return Some(format!(
            "an empty `{}=` marks `[{}]` as a guest section",
            marker.key, section.name
        ));
    }
    if !entries().any(|e| e.key == "kernel")
        || entries()
            .any(|e| BOOT_ONLY_KEYS.contains(&e.key.as_str()) || parse_flat_key(&e.key).is_some())
    {
        return None;
    }
    let keys = entries().map(|e| e.key.as_str());
    let words = bare_words.into_iter().flatten().map(|w| w.text.as_str());
    let guest_keys: Vec<&str> = keys
        .chain(words)
        .filter(|k| !GUEST_MODULE_KEYS.contains(k) && binding::lookup(k).is_some())
        .collect();
    if guest_keys.is_empty() {
        return None;
    }
    Some(format!(
        "it has the guest propert{} {}",
        if guest_keys.len() == 1 { "y" } else { "ies" },
        guest_keys
            .iter()
            .take(3)
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// An empty `property=` or `properties=`: the design discussion's marker of
/// a guest section, so that it is never booted as dom0 by mistake.
fn is_guest_marker(entry: &Entry) -> bool {
    (entry.key == "property" || entry.key == "properties") && entry.value.trim().is_empty()
}

/// The index of the first section of each name (what a guest list names).
fn first_section_by_name(doc: &Document) -> HashMap<&str, usize> {
    let mut first = HashMap::new();
    for (index, section) in doc.sections.iter().enumerate() {
        first.entry(section.name.as_str()).or_insert(index);
    }
    first
}

/// The bare words of each section, by section index, so that lowering a
/// section does not scan the words of the whole file.
fn bare_words_by_section(doc: &Document) -> HashMap<usize, Vec<&Word>> {
    let mut words: HashMap<usize, Vec<&Word>> = HashMap::new();
    for (section, word) in &doc.bare_words {
        if let Some(index) = section {
            words.entry(*index).or_default().push(word);
        }
    }
    words
}

/// For a section name `domains=` cannot list because it holds a comma or a
/// blank (`[web,1]`), the items a list naming it would split into; nothing
/// for any other name.
fn unlistable_parts(name: &str) -> impl Iterator<Item = &str> {
    let is_separator = |ch: char| ch == ',' || ch.is_ascii_whitespace();
    let parts = name
        .contains(is_separator)
        .then(|| name.split(is_separator));
    parts.into_iter().flatten().filter(|part| !part.is_empty())
}

/// Names listed by any `domains=`/`guests=`, with where they are first listed.
fn guest_section_names(doc: &Document) -> BTreeMap<&str, Span> {
    let mut names = BTreeMap::new();
    for section in doc.sections.iter().filter(|s| !s.shadowed) {
        for entry in section.entries.iter().filter(|e| !e.shadowed) {
            if entry.key == "domains" || entry.key == "guests" {
                for (name, span) in list_items(entry) {
                    names.entry(name).or_insert(span);
                }
            }
        }
    }
    names
}

/// The comma- or blank-separated items of a value (`domains=a,b`), with
/// their spans.
fn list_items(entry: &Entry) -> Vec<(&str, Span)> {
    split_items(entry, |ch| ch == ',' || ch.is_ascii_whitespace())
}

/// The blank-separated items of a value (`properties=`, whose values such as
/// `xen,enhanced=enabled` or `llc-colors=0-3,8` contain commas).
fn blank_items(entry: &Entry) -> Vec<(&str, Span)> {
    split_items(entry, |ch| ch.is_ascii_whitespace())
}

fn split_items(entry: &Entry, is_separator: impl Fn(char) -> bool) -> Vec<(&str, Span)> {
    let mut items = Vec::new();
    let mut start = None;
    let text = entry.value.as_str();
    // (byte index, char index) of the current item's start.
    let ends = text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')));
    for (chars, (i, ch)) in ends.enumerate() {
        match (is_separator(ch), start) {
            (true, Some((s, first))) => {
                let span = raw_sub_span(entry.value_span, first, chars - first);
                items.push((&text[s..i], span));
                start = None;
            }
            (false, None) => start = Some((i, chars)),
            _ => {}
        }
    }
    items
}

/// A guest section lowered once, shared by every boot section naming it.
struct GuestTemplate {
    header: Span,
    parts: GuestParts,
}

/// What a guest is made of, gathered from either form before it gets its
/// name and domid.
#[derive(Clone, Default)]
struct GuestParts {
    kernel: Option<Module>,
    ramdisk: Option<Module>,
    dtb: Option<Module>,
    passthrough: Vec<Spanned<String>>,
    properties: Properties,
    rejected: Vec<String>,
    refused: Vec<RefusedProperty>,
    structures: GuestStructures,
    /// A kernel key was given (its path may have been rejected).
    kernel_named: bool,
}

impl GuestParts {
    fn into_guest(self, name: String, name_span: Span, domid: u32) -> Guest {
        Guest {
            name,
            name_span,
            domid,
            kernel: self.kernel,
            ramdisk: self.ramdisk,
            dtb: self.dtb,
            passthrough: self.passthrough,
            properties: self.properties.list,
            rejected: self.rejected,
            refused: self.refused,
            structures: self.structures,
        }
    }
}

struct Lowerer<'a, 'd> {
    input: &'a LowerInput<'a>,
    diags: &'d mut Diagnostics,
    templates: BTreeMap<String, Option<GuestTemplate>>,
    /// Known properties whose values were rejected since the last take.
    pending_rejected: Vec<String>,
    /// Properties whose values the target does not take, since the last take.
    pending_refused: Vec<RefusedProperty>,
    /// `passthrough=/host/path` values read since the last take.
    pending_passthrough: Vec<Spanned<String>>,
    /// Structure keys read since the last take.
    pending_structures: Vec<structures::Item>,
    /// See [`first_section_by_name`].
    section_by_name: HashMap<&'a str, usize>,
    /// See [`bare_words_by_section`].
    bare_words: HashMap<usize, Vec<&'a Word>>,
    /// Guests listed without a section so far.
    unknown_guest_sections: usize,
}

/// Unknown guest sections that get a "did you mean" among the sections.
const MAX_SECTION_SUGGESTIONS: usize = 20;

/// Which guest module key a flat `domu#_…` key is.
enum FlatKey {
    Kernel,
    Ramdisk,
    Dtb,
    Property,
}

fn parse_flat_key(key: &str) -> Option<(&str, FlatKey)> {
    let rest = key.strip_prefix("domu")?;
    let digits_end = rest.find(|c: char| !c.is_ascii_digit())?;
    if digits_end == 0 {
        return None;
    }
    let kind = match &rest[digits_end..] {
        "_kernel" => FlatKey::Kernel,
        "_ramdisk" => FlatKey::Ramdisk,
        "_dtb" => FlatKey::Dtb,
        "_property" => FlatKey::Property,
        _ => return None,
    };
    Some((&rest[..digits_end], kind))
}

/// A guest being assembled from flat keys.
struct FlatGuest {
    name: String,
    name_span: Span,
    parts: GuestParts,
}

enum GuestSlot {
    Flat(Box<FlatGuest>),
    Section(String, Span),
}

/// A boot section's guests in domid order, with indexes so that each key
/// finds its guest in constant time (cfgs may name thousands).
#[derive(Default)]
struct GuestSlots {
    slots: Vec<GuestSlot>,
    /// Flat guest name (`domU3`) → index in `slots`.
    flat: HashMap<String, usize>,
    /// Guest sections already listed.
    listed: HashSet<String>,
}

/// A guest's properties in cfg order, each at most once.
#[derive(Clone, Default)]
struct Properties {
    list: Vec<GuestProperty>,
    /// DT name → index in `list`.
    index: HashMap<String, usize>,
}

impl Lowerer<'_, '_> {
    fn boot_section(&mut self, section: &Section, index: usize) -> BootSection {
        self.check_keys(section, index, XEN_SECTION_KEYS, XENCFG_SECTION_KEYS);
        let mut boot = BootSection {
            name: section.name.clone(),
            header: section.header_span,
            options: None,
            dom0_kernel: None,
            dom0_ramdisk: None,
            xsm: None,
            dtb: None,
            dtbos: Vec::new(),
            dom0_structures: Default::default(),
            static_heap: None,
            passthrough_keys: Vec::new(),
            guests: Vec::new(),
            host_domain_modules: Vec::new(),
        };
        let mut slots = GuestSlots::default();
        for entry in &section.entries {
            let first = !entry.shadowed;
            match entry.key.as_str() {
                "options" if first => {
                    boot.options = Some(Spanned::new(
                        entry.value.trim_end().to_string(),
                        entry.value_span,
                    ))
                }
                "kernel" if first => {
                    let (file, args) = split_kernel(entry);
                    boot.dom0_kernel = self.module(ModuleRole::Dom0Kernel, file, args);
                }
                "ramdisk" if first => {
                    boot.dom0_ramdisk = self.module(ModuleRole::Dom0Ramdisk, trimmed(entry), None)
                }
                "xsm" if first => boot.xsm = self.module(ModuleRole::Xsm, trimmed(entry), None),
                "dtb" if first => {
                    let (file, rest) = split_kernel(entry);
                    if let Some(rest) = rest.filter(|r| !r.0.trim().is_empty()) {
                        self.diags.push(
                            Diagnostic::at(
                                &c::IGNORED_KEY,
                                rest.1,
                                "Xen ignores the text after the DTB file name",
                            )
                            .help("remove it"),
                        );
                    }
                    boot.dtb = self.module(ModuleRole::HostDtb, file, None);
                }
                "dtbo" => {
                    if let Some(m) = self.module(ModuleRole::Overlay, trimmed(entry), None) {
                        boot.dtbos.push(m);
                    }
                }
                DOM0_SHARED_MEM => {
                    let item = structures::lower_key(
                        DOM0_SHARED_MEM,
                        entry.key_span,
                        &entry.value,
                        entry.value_span,
                        self.input.target,
                        self.diags,
                    );
                    structures::attach(&mut boot.dom0_structures, item, self.diags);
                }
                STATIC_HEAP => match structures::static_heap(&entry.value, entry.value_span) {
                    Ok(heap) => match &boot.static_heap {
                        None => boot.static_heap = Some(heap),
                        Some(first) => self.diags.push(
                            Diagnostic::at(
                                &c::BAD_STRUCTURE,
                                heap.span,
                                "`static-heap=` is given twice",
                            )
                            .related(Location::Text(first.span), "first given here")
                            .help("give every range of the heap in one `static-heap=ADDR:SIZE,…`"),
                        ),
                    },
                    Err((span, message)) => {
                        self.diags
                            .push(Diagnostic::at(&c::BAD_STRUCTURE, span, message).help(
                                "write `static-heap=SIZE` or `static-heap=ADDR:SIZE[,ADDR:SIZE…]`",
                            ))
                    }
                },
                "video" | "ucode" if first => boot.passthrough_keys.push((
                    entry.key.clone(),
                    Spanned::new(entry.value.trim_end().to_string(), entry.value_span),
                )),
                "domains" | "guests" if first => {
                    for (name, span) in list_items(entry) {
                        if !slots.listed.insert(name.to_string()) {
                            self.diags.push(
                                Diagnostic::at(
                                    &c::DUPLICATE_GUEST,
                                    span,
                                    format!("guest `{name}` is listed twice"),
                                )
                                .help("list each guest once"),
                            );
                        } else {
                            slots.slots.push(GuestSlot::Section(name.to_string(), span));
                        }
                    }
                }
                key => {
                    if let Some((number, kind)) = parse_flat_key(key) {
                        self.flat_entry(&mut slots, number, kind, entry);
                    }
                }
            }
        }
        for (domid, slot) in (1u32..).zip(slots.slots) {
            if let Some(guest) = self.guest(slot, domid) {
                boot.guests.push(guest);
            }
        }
        boot
    }

    fn flat_entry(&mut self, slots: &mut GuestSlots, number: &str, kind: FlatKey, entry: &Entry) {
        let name = format!("domU{number}");
        let index = match slots.flat.get(&name) {
            Some(&i) => i,
            None => {
                slots.flat.insert(name.clone(), slots.slots.len());
                slots.slots.push(GuestSlot::Flat(Box::new(FlatGuest {
                    name,
                    name_span: entry.key_span,
                    parts: GuestParts::default(),
                })));
                slots.slots.len() - 1
            }
        };
        let slots = &mut slots.slots;
        let (role, is_property) = match kind {
            FlatKey::Kernel => (ModuleRole::Kernel, false),
            FlatKey::Ramdisk => (ModuleRole::Ramdisk, false),
            FlatKey::Dtb => (ModuleRole::DeviceTree, false),
            FlatKey::Property => (ModuleRole::Kernel, true),
        };
        if is_property {
            let property = self.property_assignment(&entry.value, entry.value_span);
            if let Some(GuestSlot::Flat(guest)) = slots.get_mut(index) {
                guest.parts.rejected.append(&mut self.pending_rejected);
                guest.parts.refused.append(&mut self.pending_refused);
                guest
                    .parts
                    .passthrough
                    .append(&mut self.pending_passthrough);
                let items = self.pending_structures.drain(..);
                structures::attach(&mut guest.parts.structures, items, self.diags);
                if let Some(p) = property {
                    push_property(self.diags, &mut guest.parts.properties, p);
                }
            }
            return;
        }
        // The lexer already reports a repeated key; Xen-like "first wins"
        // would silently pick one of two kernels, so a repeat is an error.
        if entry.shadowed {
            self.diags.push(
                Diagnostic::at(
                    &c::GUEST_KEY_REPEATED,
                    entry.key_span,
                    format!("`{}` is given twice", entry.key),
                )
                .help("give each guest one kernel, one ramdisk and one dtb"),
            );
            return;
        }
        let module = match role {
            ModuleRole::Kernel => {
                let (file, args) = split_kernel(entry);
                self.module(role, file, args)
            }
            _ => self.module(role, trimmed(entry), None),
        };
        if let Some(GuestSlot::Flat(guest)) = slots.get_mut(index) {
            match role {
                ModuleRole::Kernel => {
                    guest.parts.kernel_named = true;
                    guest.parts.kernel = module;
                }
                ModuleRole::Ramdisk => guest.parts.ramdisk = module,
                _ => guest.parts.dtb = module,
            }
        }
    }

    fn guest(&mut self, slot: GuestSlot, domid: u32) -> Option<Guest> {
        let (guest, kernel_named) = match slot {
            GuestSlot::Flat(g) => {
                let kernel_named = g.parts.kernel_named;
                (g.parts.into_guest(g.name, g.name_span, domid), kernel_named)
            }
            GuestSlot::Section(name, listed_at) => {
                let template = self.template(&name, listed_at)?;
                let parts = template.parts.clone();
                let kernel_named = parts.kernel_named;
                (parts.into_guest(name, template.header, domid), kernel_named)
            }
        };
        // A kernel whose path was rejected is already reported.
        if !kernel_named {
            self.report_missing_kernel(&guest);
        }
        Some(guest)
    }

    fn report_missing_kernel(&mut self, guest: &Guest) {
        {
            self.diags.push(
                Diagnostic::at(
                    &c::GUEST_WITHOUT_KERNEL,
                    guest.name_span,
                    format!("guest `{}` has no kernel", guest.name),
                )
                .note("Xen panics at boot: \"Missing kernel boot module?\"")
                .help("add `kernel=<file> [command line]` (or `domu#_kernel=` in the flat form)"),
            );
        }
    }

    /// Lower a guest section once; later boot sections reuse the result.
    fn template(&mut self, name: &str, listed_at: Span) -> Option<&GuestTemplate> {
        if !self.templates.contains_key(name) {
            let doc = self.input.doc;
            let lowered = match self.section_by_name.get(name).copied() {
                Some(index) => Some(self.guest_section(&doc.sections[index], index)),
                None => {
                    // Each suggestion compares the name with every section:
                    // only the first few unknown names get one, so a cfg
                    // listing thousands stays linear.
                    self.unknown_guest_sections += 1;
                    let known = doc
                        .sections
                        .iter()
                        .map(|s| s.name.as_str())
                        .take_while(|_| self.unknown_guest_sections <= MAX_SECTION_SUGGESTIONS);
                    let mut d = Diagnostic::at(
                        &c::UNKNOWN_GUEST_SECTION,
                        listed_at,
                        format!("there is no section `[{name}]` for this guest"),
                    );
                    // `[web,1]` can never be listed: the list splits at
                    // commas and blanks, so `domains=web,1` asks for `web`
                    // and `1`.
                    let unlistable = doc
                        .sections
                        .iter()
                        .find(|s| unlistable_parts(&s.name).any(|part| part == name));
                    d = match (unlistable, binding::closest(name, known)) {
                        (Some(s), _) => d
                            .note(format!(
                                "`domains=` and `guests=` split at commas and blanks, so the section `[{}]` cannot be listed",
                                s.name
                            ))
                            .help(format!(
                                "rename the section without commas or blanks, e.g. `[{}]`, and list that name",
                                unlistable_parts(&s.name).collect::<Vec<_>>().join("-")
                            )),
                        (None, Some(s)) => d.help(format!("did you mean `{s}`?")),
                        (None, None) => d.help(format!("add a section `[{name}]` with the guest's `kernel=`, `cpus=` and `memory=`")),
                    };
                    self.diags.push(d);
                    None
                }
            };
            self.templates.insert(name.to_string(), lowered);
        }
        self.templates.get(name).and_then(|t| t.as_ref())
    }

    fn guest_section(&mut self, section: &Section, index: usize) -> GuestTemplate {
        let mut t = GuestTemplate {
            header: section.name_span,
            parts: GuestParts::default(),
        };
        for entry in &section.entries {
            let key = entry.key.as_str();
            if entry.shadowed && !crate::cfg::is_repeatable_key(key) {
                continue; // reported by the lexer (first wins)
            }
            match key {
                "kernel" => {
                    let (file, args) = split_kernel(entry);
                    t.parts.kernel_named = true;
                    t.parts.kernel = self.module(ModuleRole::Kernel, file, args);
                }
                "ramdisk" => {
                    t.parts.ramdisk = self.module(ModuleRole::Ramdisk, trimmed(entry), None)
                }
                "dtb" => t.parts.dtb = self.module(ModuleRole::DeviceTree, trimmed(entry), None),
                // The guest marker: nothing to lower.
                _ if is_guest_marker(entry) => {}
                "property" => {
                    if let Some(p) = self.property_assignment(&entry.value, entry.value_span) {
                        push_property(self.diags, &mut t.parts.properties, p);
                    }
                }
                "properties" => {
                    for (item, span) in blank_items(entry) {
                        if let Some(p) = self.property_assignment(item, span) {
                            push_property(self.diags, &mut t.parts.properties, p);
                        }
                    }
                }
                "options" | "xsm" | "domains" | "guests" | "dtbo" | "video" | "ucode" => {
                    self.diags.push(
                        Diagnostic::at(
                            &c::SECTION_BOTH_KINDS,
                            entry.key_span,
                            format!(
                                "`{key}=` has no effect in the guest section `[{}]`",
                                section.name
                            ),
                        )
                        .help("move it to the boot section that lists this guest"),
                    );
                }
                _ => {
                    let value = entry.value.trim_end();
                    if let Some(p) = self.property(key, entry.key_span, value, entry.value_span) {
                        push_property(self.diags, &mut t.parts.properties, p);
                    }
                }
            }
        }
        let words = self.bare_words.get(&index).cloned().unwrap_or_default();
        for word in words {
            if let Some(p) = self.property(&word.text, word.span, "", word.span) {
                push_property(self.diags, &mut t.parts.properties, p);
            }
        }
        t.parts.properties.sort_by_span();
        t.parts.rejected.append(&mut self.pending_rejected);
        t.parts.refused.append(&mut self.pending_refused);
        t.parts.passthrough.append(&mut self.pending_passthrough);
        let items = self.pending_structures.drain(..);
        structures::attach(&mut t.parts.structures, items, self.diags);
        t
    }

    /// `NAME[=VALUE]` as in `property=` and `domu#_property=`.
    fn property_assignment(&mut self, text: &str, span: Span) -> Option<GuestProperty> {
        let text = text.trim_end();
        let (name, value, value_span) = match text.find('=') {
            Some(i) => (
                &text[..i],
                &text[i + 1..],
                sub_span(span, text, i + 1, text.len() - i - 1),
            ),
            None => (text, "", sub_span(span, text, text.len(), 0)),
        };
        self.property(name, sub_span(span, text, 0, name.len()), value, value_span)
    }

    /// One property of a guest, from its cfg name and value text. A known
    /// property whose value cannot be read, or is refused, is remembered in
    /// `pending_rejected`, so the guest is not also reported as lacking it.
    fn property(
        &mut self,
        name: &str,
        name_span: Span,
        text: &str,
        value_span: Span,
    ) -> Option<GuestProperty> {
        let reported = self.diags.len();
        let result = self.typed_property(name, name_span, text, value_span);
        if result.is_none() && self.diags.len() > reported {
            if let Some(spec) = binding::lookup(name) {
                self.pending_rejected.push(spec.dt_name.to_string());
            }
        }
        result
    }

    fn typed_property(
        &mut self,
        name: &str,
        name_span: Span,
        text: &str,
        value_span: Span,
    ) -> Option<GuestProperty> {
        // Xen's own `passthrough` takes `enabled` or `disabled`; any other
        // value names host nodes (xencfg's `passthrough=/path`).
        if name == PASSTHROUGH_KEY && !matches!(text.trim(), "" | "enabled" | "disabled") {
            self.host_passthrough(text, value_span);
            return None;
        }
        if WRITTEN_BY_XENCFG.contains(&name) {
            self.diags.push(
                Diagnostic::at(
                    &c::PROPERTY_XENCFG_WRITES,
                    name_span,
                    format!("xencfg writes `{name}` on every domain node itself"),
                )
                .note(if name == "compatible" {
                    "Xen finds guests by `compatible = \"xen,domain\"`; another value makes it skip this guest silently"
                } else {
                    "a value of your own would change what xencfg links and encodes in this node"
                })
                .help(format!("remove `{name}` from the guest")),
            );
            return None;
        }
        let dt_name_of = |n: &str| binding::lookup(n).map(|s| s.dt_name.to_string());
        if let Some(raw) = value::parse_raw(text) {
            return match raw {
                Ok(bytes) => {
                    let dt_name = dt_name_of(name).unwrap_or_else(|| name.to_string());
                    self.diags.push(
                        Diagnostic::at(
                            &c::RAW_PROPERTY,
                            name_span,
                            format!("`{dt_name}` is written as a raw DT value"),
                        )
                        .note("xencfg passes it through unchecked")
                        .help(match binding::lookup(name) {
                            Some(_) => {
                                format!("write `{name}` with a typed value so xencfg can check it")
                            }
                            None => "make sure Xen reads this property; xencfg cannot check it"
                                .to_string(),
                        }),
                    );
                    Some(GuestProperty {
                        dt_name,
                        value: PropertyValue::Raw(bytes),
                        span: name_span,
                    })
                }
                Err(msg) => {
                    self.diags
                        .push(Diagnostic::at(&c::BAD_RAW_VALUE, value_span, msg));
                    None
                }
            };
        }
        let target = self.input.target;
        if let Some(item) =
            structures::lower_key(name, name_span, text, value_span, target, self.diags)
        {
            self.pending_structures.push(item);
            return None;
        }
        let Some(spec) = binding::lookup(name) else {
            let mut d = Diagnostic::at(
                &c::UNKNOWN_PROPERTY,
                name_span,
                format!("unknown property `{name}`"),
            )
            .note("Xen ignores properties it does not know, so this setting would be lost");
            d = match binding::suggest(name).or_else(|| binding::closest(name, GUEST_MODULE_KEYS.iter().copied())) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "to pass it through on purpose, give a raw value: `property={name}=<1>` or `property={name}=\"text\"`"
                )),
            };
            self.diags.push(d);
            return None;
        };
        // A property the target does not read (or lacks the build for) is
        // not read here either: `checks::binding` says why.
        let value = if binding::rules::property_refusal(spec, target).is_some() {
            None
        } else {
            Some(self.read_value(spec, name, text, value_span)?)
        };
        let refused = binding::rules::refusal(spec, value.as_ref(), target).is_some();
        let value = match value {
            Some(value) if !refused => value,
            value => {
                self.pending_refused.push(RefusedProperty {
                    spec,
                    key: name.to_string(),
                    value,
                    name_span,
                    value_span,
                });
                self.pending_rejected.push(spec.dt_name.to_string());
                return None;
            }
        };
        Some(GuestProperty {
            dt_name: spec.dt_name.to_string(),
            value,
            span: name_span,
        })
    }

    /// The value of a property as its entry's kind reads it; what cannot
    /// be read is reported here, what is read but refused is not.
    fn read_value(
        &mut self,
        spec: &PropertySpec,
        name: &str,
        text: &str,
        value_span: Span,
    ) -> Option<PropertyValue> {
        let bad = |diags: &mut Diagnostics, check, msg: String, help: String| {
            diags.push(Diagnostic::at(check, value_span, msg).help(help));
        };
        let value = match spec.kind {
            ValueKind::Flag => match value::parse_flag(text) {
                Ok(true) => PropertyValue::Flag,
                Ok(false) => return None,
                Err(msg) => {
                    bad(
                        self.diags,
                        &c::BAD_FLAG,
                        msg,
                        format!("write `{name}` alone, or `{name}=no`"),
                    );
                    return None;
                }
            },
            ValueKind::U32 { min, .. } => match value::parse_u32(text) {
                Ok(n) => PropertyValue::U32(n),
                Err(msg) => {
                    bad(
                        self.diags,
                        &c::BAD_NUMBER,
                        msg,
                        format!("`{name}` takes a number, e.g. `{name}={min}`"),
                    );
                    return None;
                }
            },
            ValueKind::MemoryKib => match value::parse_size(text, 10) {
                Ok(kib) => PropertyValue::Memory(Kib(kib)),
                Err(msg) => {
                    bad(
                        self.diags,
                        &c::BAD_NUMBER,
                        msg,
                        "write e.g. `memory=256M` or `memory=0x40000` (KiB)".into(),
                    );
                    return None;
                }
            },
            ValueKind::Mib => match value::parse_size(text, 20).map(u32::try_from) {
                Ok(Ok(mib)) => PropertyValue::Mib(mib),
                Ok(Err(_)) => {
                    bad(
                        self.diags,
                        &c::BAD_NUMBER,
                        format!("`{text}` MiB does not fit in 32 bits"),
                        "use a smaller size".into(),
                    );
                    return None;
                }
                Err(msg) => {
                    bad(
                        self.diags,
                        &c::BAD_NUMBER,
                        msg,
                        format!("write e.g. `{name}=64` (MiB) or `{name}=1G`"),
                    );
                    return None;
                }
            },
            ValueKind::Str { .. } => {
                let s = match text.trim() {
                    "" => spec.bare.unwrap_or(""),
                    s => s,
                };
                if *spec == binding::LLC_COLORS {
                    // Written back canonically: Xen reads `010` as octal.
                    return match structures::color_list(s, value_span) {
                        Ok(colors) => Some(PropertyValue::Str(
                            crate::model::structures::list_text(&colors),
                        )),
                        Err((at, msg)) => {
                            self.diags.push(
                                Diagnostic::at(&c::BAD_LLC_COLORS, at, msg)
                                    .note("Xen panics at boot: \"parse error\" in `llc-colors`")
                                    .help("write colors and ranges, e.g. `llc-colors=0-3,8`"),
                            );
                            None
                        }
                    };
                }
                PropertyValue::Str(s.to_string())
            }
            ValueKind::SveBits => match value::parse_sve(text) {
                Ok(None) => PropertyValue::Flag,
                Ok(Some(bits)) => PropertyValue::U32(bits),
                Err(msg) => {
                    self.diags.push(
                        Diagnostic::at(&c::BAD_SVE, value_span, msg)
                            .note("Xen panics at boot on an SVE vector length it cannot give")
                            .help("write `sve` (the hardware's largest), `sve=0`, or a multiple of 128 up to 2048, e.g. `sve=256`"),
                    );
                    return None;
                }
            },
            ValueKind::Capabilities => match value::parse_capabilities(text) {
                Ok(mask) => PropertyValue::U32(mask),
                Err(msg) => {
                    self.diags.push(
                        Diagnostic::at(&c::BAD_CAPABILITIES, value_span, msg)
                            .note("Xen panics at boot on unknown capability bits")
                            .help("write names joined by `,` (`control,xenstore`) or a number from 0 to 7"),
                    );
                    return None;
                }
            },
        };
        Some(value)
    }

    /// `passthrough=` with a value other than `enabled` is xencfg's own key:
    /// a host device node to pass through. Xen's `passthrough` property
    /// (4.19+) only knows `enabled`, so a value starting with `/` is
    /// unambiguous; anything else is reported with both meanings.
    fn host_passthrough(&mut self, text: &str, span: Span) {
        let path = text.trim();
        let leading = text.len() - text.trim_start().len();
        let span = sub_span(span, text, leading, path.len());
        if path.starts_with('/') && !path.contains(char::is_whitespace) {
            self.pending_passthrough
                .push(Spanned::new(path.to_string(), span));
            return;
        }
        self.diags.push(
            Diagnostic::at(
                &c::BAD_STRING,
                span,
                format!("`passthrough={path}` is neither `enabled` nor a host node path"),
            )
            .note("`passthrough=enabled` is Xen's property (4.19+); `passthrough=/path` names a host device node for xencfg to pass through")
            .help("write the host node's full path, e.g. `passthrough=/pl031@9010000`, or `passthrough=enabled`"),
        );
    }

    fn module(
        &mut self,
        role: ModuleRole,
        file: (&str, Span),
        args: Option<(&str, Span)>,
    ) -> Option<Module> {
        let (raw, span) = file;
        let path = EspPath::parse(raw, span, self.diags)?;
        let source = path.host_path(self.input.root);
        Some(Module {
            role,
            path,
            source,
            span,
            bootargs: args.map(|(a, _)| a.trim().to_string()),
            generated: false,
        })
    }

    /// Report keys that neither Xen nor xencfg reads in this section.
    fn check_keys(
        &mut self,
        section: &Section,
        index: usize,
        xen_keys: &[&str],
        xencfg_keys: &[&str],
    ) {
        for entry in &section.entries {
            let key = entry.key.as_str();
            // `key =` (XC0101) and a misplaced `default=` (XC0110) are
            // already reported by the lexer with the precise reason.
            let lexer_reported = key.ends_with([' ', '\u{a0}']) || key == "default";
            if xen_keys.contains(&key)
                || xencfg_keys.contains(&key)
                || parse_flat_key(key).is_some()
                || lexer_reported
            {
                continue;
            }
            let candidates = xen_keys.iter().chain(xencfg_keys).copied();
            let mut d = Diagnostic::at(
                &c::IGNORED_KEY,
                entry.key_span,
                format!("Xen ignores the key `{key}` in `[{}]`", section.name),
            );
            d = match binding::closest(key, candidates) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None if binding::lookup(key).is_some() => d.help(format!(
                    "`{key}` is a guest property: put it in a guest section, or write `domu1_property={key}=…`"
                )),
                None => d.help("remove it"),
            };
            self.diags.push(d);
        }
        for word in self.bare_words.get(&index).into_iter().flatten() {
            self.diags.push(
                Diagnostic::at(
                    &c::LINE_WITHOUT_KEY,
                    word.span,
                    format!("Xen ignores the line `{}`", word.text),
                )
                .help("write `key=value`; bare flags are only read in guest sections"),
            );
        }
    }
}

impl Properties {
    /// Put the properties in cfg order (bare words are read after keys).
    fn sort_by_span(&mut self) {
        self.list.sort_by_key(|p| p.span.offset);
        self.index = (self.list.iter().enumerate())
            .map(|(i, p)| (p.dt_name.clone(), i))
            .collect();
    }
}

/// Add a property unless the guest already has it.
fn push_property(diags: &mut Diagnostics, props: &mut Properties, p: GuestProperty) {
    let first = props.index.get(&p.dt_name).and_then(|&i| props.list.get(i));
    if let Some(first) = first {
        diags.push(
            Diagnostic::at(
                &c::GUEST_KEY_REPEATED,
                p.span,
                format!("property `{}` is given twice", p.dt_name),
            )
            .related(Location::Text(first.span), "first given here")
            .help("keep one"),
        );
        return;
    }
    props.index.insert(p.dt_name.clone(), props.list.len());
    props.list.push(p);
}

/// The whole value without trailing blanks (reported by the lexer).
fn trimmed(entry: &Entry) -> (&str, Span) {
    let v = entry.value.trim_end();
    (v, sub_span(entry.value_span, v, 0, v.len()))
}

/// Split like Xen's `split_string`: the file name ends at the first blank;
/// the rest (if any) is the command line.
fn split_kernel(entry: &Entry) -> ((&str, Span), Option<(&str, Span)>) {
    let v = entry.value.trim_end();
    match v.find([' ', '\u{a0}']) {
        Some(i) => {
            let rest_start = i + v[i..].chars().next().map_or(1, |c| c.len_utf8());
            let rest = &v[rest_start..];
            (
                (&v[..i], sub_span(entry.value_span, v, 0, i)),
                Some((rest, sub_span(entry.value_span, v, rest_start, rest.len()))),
            )
        }
        None => ((v, sub_span(entry.value_span, v, 0, v.len())), None),
    }
}

/// The directory paths in `cfg` are resolved against by default.
pub fn default_root(cfg_path: &Path) -> PathBuf {
    cfg_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

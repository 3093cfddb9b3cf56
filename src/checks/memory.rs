//! Checks of guest memory (XC1002–XC1008, XC1024, XC1025, XC1030): static memory
//! against the host's RAM and reservations, the first RAM bank against the
//! kernel, DTB and initrd placed in it, the generated guest DTB against
//! Xen's buffer, and the sum of all domains against the host (reference
//! §3.3, §3.7, §3.8, §3.13).

use crate::analyze::SectionView;
use crate::binding;
use crate::binding::value::PropertyValue;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Span};
use crate::load::image::ImageFormat;
use crate::model::{Guest, Module};
use crate::range::Range;
use crate::target::XenVersion;
use std::io::{Read, Seek, SeekFrom};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// GUEST_RAM0: the first guest bank holds up to 3 GiB.
pub const GUEST_RAM0_SIZE: u64 = 3 * GIB;
/// GUEST_RAM1 adds up to 1016 GiB.
pub const GUEST_RAM1_SIZE: u64 = 1016 * GIB;
/// Xen's default dom0 memory on Arm when `dom0_mem=` is absent.
pub const DOM0_DEFAULT_MEM: u64 = 512 * MIB;
/// Guest DTB buffer of Xen 4.15–4.21 (prepare_dtb_domU).
pub const GUEST_DTB_BUFFER: u64 = 4096;
/// A guest DTB besides its `bootargs` (1160 bytes at 31 vCPUs on 4.21.2,
/// with 8 bytes to spare), what `xen,enhanced` adds, and what each vCPU adds.
const DTB_FIXED: u64 = 1168;
const DTB_HYPERVISOR_NODE: u64 = 160;
const DTB_PER_VCPU: u64 = 96;

pub fn check(cx: &SectionView, diags: &mut Diagnostics) {
    for guest in &cx.section.guests {
        static_memory(cx, guest, diags);
        first_bank(cx, guest, diags);
        dtb_budget(cx, guest, diags);
    }
    static_overlaps(cx, diags);
    firmware_load_area(cx, diags);
    host_total(cx, diags);
    llc_colored_heap(cx, diags);
}

/// A size for messages: exact in the largest binary unit that divides it,
/// else MiB with two decimals.
pub(crate) fn mib(bytes: u64) -> String {
    match bytes {
        0 => "0 bytes".to_string(),
        b if b % GIB == 0 => format!("{} GiB", b / GIB),
        b if b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b < MIB => format!("{} KiB", b.div_ceil(1024)),
        b => {
            let text = format!("{:.2}", b as f64 / MIB as f64);
            format!("{} MiB", text.trim_end_matches('0').trim_end_matches('.'))
        }
    }
}

fn memory_span(guest: &Guest) -> Span {
    guest
        .property(&binding::MEMORY)
        .map_or(guest.name_span, |p| p.span)
}

fn static_memory(cx: &SectionView, guest: &Guest, diags: &mut Diagnostics) {
    let direct_map = guest.property(&binding::DIRECT_MAP);
    let Some(mem) = &guest.structures.static_mem else {
        if let Some(dm) = direct_map {
            if !guest.structures.static_mem_rejected {
                diags.push(
                Diagnostic::at(&c::DIRECT_MAP_NEEDS_STATIC, dm.span, format!("`{}` is direct-mapped but has no `static-mem`", guest.name))
                    .note("Xen panics at boot: \"direct-map is not valid for domain without static allocation\"")
                    .help("give the guest host RAM with `static-mem=ADDR:SIZE`, or remove `direct-map`"),
            );
            }
        }
        return;
    };
    for r in &mem.ranges() {
        if r.value.start % 4096 != 0 || r.value.size % 4096 != 0 {
            diags.push(
                Diagnostic::at(&c::STATIC_MEM_UNALIGNED, r.span, format!("static range {:#x} (+{:#x}) is not whole 4 KiB pages", r.value.start, r.value.size))
                    .note("Xen truncates it to pages, then the size no longer matches `memory` and Xen panics")
                    .help("align the address and the size to 4 KiB (0x1000)"),
            );
        }
        if let Some(facts) = cx.host.as_ref().filter(|f| !f.ram.is_empty()) {
            if !facts.in_ram(r.value) {
                diags.push(
                Diagnostic::at(&c::STATIC_MEM_OUTSIDE_RAM, r.span, format!("static range {:#x}-{:#x} is not inside host RAM", r.value.start, r.value.end()))
                    .note("Xen takes static memory page by page from host RAM and stops at early boot, before its console is up: nothing is printed after the EFI loader's lines")
                    .note(facts.ram_source_note())
                    .help(format!("use a range inside the host's RAM: {}", facts.ram_list())),
            );
            }
        }
    }
    let total = mem.total();
    if let Some(p) = guest.property(&binding::MEMORY) {
        if let PropertyValue::Memory(kib) = p.value {
            if p.span != mem.span && kib.bytes() != total {
                diags.push(
                    Diagnostic::at(
                        &c::STATIC_MEM_SIZE,
                        p.span,
                        format!(
                            "`memory` is {} but the static ranges add up to {}",
                            mib(kib.bytes()),
                            mib(total)
                        ),
                    )
                    .related(Location::Text(mem.span), "the static ranges")
                    .note("Xen panics at boot: the sizes \"doesn't match up\"")
                    .help(
                        "remove `memory` (xencfg derives it from `static-mem`) or make them agree",
                    ),
                );
            }
        }
    }
    if direct_map.is_none() && total > GUEST_RAM0_SIZE + GUEST_RAM1_SIZE {
        diags.push(
            Diagnostic::at(&c::STATIC_MEM_BANKS, mem.span, format!("{} of static memory does not fit the guest's two RAM banks", mib(total)))
                .note("Xen maps static ranges into 3 GiB at 0x40000000 and 1016 GiB at 0x200000000, then panics \"Exhausted all possible guest banks\"")
                .help("give the guest less memory"),
        );
    }
    let max_banks = if cx.target.version >= XenVersion::new(4, 17) {
        256
    } else {
        128
    };
    if direct_map.is_some() && mem.banks.len() > max_banks {
        diags.push(
            Diagnostic::at(&c::STATIC_MEM_BANKS, mem.span, format!("{} static ranges for a direct-mapped guest", mem.banks.len()))
                .note(format!("each range is one guest bank; Xen {} has room for {max_banks} and panics past that", cx.target.version))
                .help("use fewer, larger ranges"),
        );
    }
    if let Some(llc) = guest.property(&binding::LLC_COLORS) {
        diags.push(
            Diagnostic::at(
                &c::STATIC_MEM_BANKS,
                llc.span,
                format!("`{}` has both `llc-colors` and `static-mem`", guest.name),
            )
            .related(Location::Text(mem.span), "static memory")
            .note("cache coloring chooses the guest's pages, static memory fixes them: Xen panics")
            .help("remove one of them"),
        );
    }
}

/// Static ranges of every guest against each other, the host's reserved
/// ranges and the shared-memory host ranges.
fn static_overlaps(cx: &SectionView, diags: &mut Diagnostics) {
    let mut ranges: Vec<(Range, Span, String)> = Vec::new();
    for guest in &cx.section.guests {
        let Some(mem) = &guest.structures.static_mem else {
            continue;
        };
        for r in &mem.ranges() {
            ranges.push((
                r.value,
                r.span,
                format!("static memory of `{}`", guest.name),
            ));
        }
    }
    for (n, (range, span, _)) in ranges.iter().enumerate() {
        if let Some((_, first, what)) = ranges[..n].iter().find(|(r, _, _)| r.overlaps(*range)) {
            diags.push(
                Diagnostic::at(
                    &c::STATIC_MEM_OVERLAP,
                    *span,
                    format!(
                        "static range {:#x}-{:#x} overlaps {what}",
                        range.start,
                        range.end()
                    ),
                )
                .related(Location::Text(*first), "the other range")
                .note(overlap_note(cx))
                .help("give each guest its own host RAM"),
            );
            continue;
        }
        if let Some(facts) = &cx.host {
            if let Some(reserved) = facts.reserved.iter().find(|r| r.range.overlaps(*range)) {
                diags.push(
                    Diagnostic::at(
                        &c::STATIC_MEM_OVERLAP,
                        *span,
                        format!(
                            "static range {:#x}-{:#x} overlaps {} ({:#x}-{:#x})",
                            range.start,
                            range.end(),
                            reserved.what,
                            reserved.range.start,
                            reserved.range.end()
                        ),
                    )
                    .note(overlap_note(cx))
                    .help("move the static range clear of the host's reserved memory"),
                );
                continue;
            }
        }
        let shm = cx
            .section
            .dom0_structures
            .shared_mem
            .iter()
            .chain(
                cx.section
                    .guests
                    .iter()
                    .flat_map(|g| &g.structures.shared_mem),
            )
            .find(|k| {
                k.host.is_some_and(|h| {
                    Range {
                        start: h,
                        size: k.size,
                    }
                    .overlaps(*range)
                })
            });
        if let Some(k) = shm {
            diags.push(
                Diagnostic::at(
                    &c::STATIC_MEM_OVERLAP,
                    *span,
                    format!(
                        "static range {:#x}-{:#x} overlaps shared memory `{}`",
                        range.start,
                        range.end(),
                        k.id
                    ),
                )
                .related(Location::Text(k.span), "the shared memory")
                .note(overlap_note(cx))
                .help("keep static memory and shared memory apart"),
            );
        }
    }
}

/// XC1033: static, shared and heap ranges (given or placed) against the
/// areas the firmware will likely use (`analyze::placement`).
fn firmware_load_area(cx: &SectionView, diags: &mut Diagnostics) {
    let areas = &cx.analysis().placement.firmware;
    if areas.is_empty() {
        return;
    }
    let section = cx.section;
    let mut ranges: Vec<(Range, Span, String)> = Vec::new();
    for r in section.static_heap.iter().flat_map(|h| h.ranges()) {
        ranges.push((r.value, r.span, "the static heap".to_string()));
    }
    for guest in &section.guests {
        for r in guest.structures.static_mem.iter().flat_map(|m| m.ranges()) {
            ranges.push((
                r.value,
                r.span,
                format!("static memory of `{}`", guest.name),
            ));
        }
    }
    for region in cx.analysis().links.regions(section) {
        let Some((key, host)) = region
            .members
            .iter()
            .find_map(|(_, k)| k.host.map(|h| (k, h)))
        else {
            continue;
        };
        ranges.push((
            Range::new(host, key.size),
            key.span,
            format!("shared memory `{}`", region.id),
        ));
    }
    for (range, span, what) in ranges {
        let hit = areas
            .iter()
            .find(|a| a.loads_modules && a.range.overlaps(range));
        let Some(area) = hit else {
            continue;
        };
        diags.push(
            Diagnostic::at(
                &c::FIRMWARE_LOAD_AREA,
                span,
                format!(
                    "{what} at {:#x}-{:#x} lies where the firmware will likely load Xen and its modules",
                    range.start,
                    range.end()
                ),
            )
            .note(format!(
                "{:#x}-{:#x} is {}",
                area.range.start,
                area.range.end(),
                area.why
            ))
            .note("a module loaded there makes Xen stop at early boot or drop the module; the firmware hands out the highest free RAM first")
            .help("move it lower in RAM, or leave the address out and let xencfg place it (`xencfg explain --memory` shows the areas)"),
        );
    }
}

pub(crate) fn overlap_note(cx: &SectionView) -> String {
    if cx.target.version >= XenVersion::new(4, 18) {
        "Xen stops at early boot (\"Early FDT parsing failed\"), before its console is up: nothing is printed after the EFI loader's lines".to_string()
    } else {
        format!(
            "Xen {} panics when the second user acquires the pages",
            cx.target.version
        )
    }
}

/// The guest's first RAM bank in bytes.
fn first_bank_size(guest: &Guest) -> Option<u64> {
    match &guest.structures.static_mem {
        Some(mem) if guest.property(&binding::DIRECT_MAP).is_some() => {
            mem.ranges().first().map(|r| r.value.size)
        }
        Some(mem) => Some(mem.total().min(GUEST_RAM0_SIZE)),
        None => guest
            .memory_kib()
            .map(|k| k.saturating_mul(1024).min(GUEST_RAM0_SIZE)),
    }
}

/// How many bytes of the first bank a kernel occupies from the bank's
/// start: `text_offset` plus the image (the decompressed image for gzip),
/// as Xen's place_modules counts it.
fn kernel_extent(module: &Module, cx: &SectionView) -> Option<u64> {
    let facts = cx.facts.get(&module.source)?;
    Some(match facts.format {
        ImageFormat::Arm64Image => arm64_text_offset(module)
            .unwrap_or(0)
            .saturating_add(facts.size),
        ImageFormat::Gzip => gzip_isize(module).map_or(facts.size, u64::from),
        ImageFormat::UImage => facts.size.saturating_sub(64),
        _ => facts.size,
    })
}

fn read_at(module: &Module, from: SeekFrom, buf: &mut [u8]) -> Option<()> {
    // Not File::open: the path may have become a FIFO since it was hashed.
    let mut f = crate::load::input::open_regular(&module.source).ok()?;
    f.seek(from).ok()?;
    f.read_exact(buf).ok()
}

/// The arm64 Image header's `text_offset` (u64 LE at byte 8).
fn arm64_text_offset(module: &Module) -> Option<u64> {
    let mut b = [0u8; 8];
    read_at(module, SeekFrom::Start(8), &mut b)?;
    Some(u64::from_le_bytes(b))
}

/// gzip's ISIZE (u32 LE in the last 4 bytes): the decompressed size, which
/// is what Xen takes.
fn gzip_isize(module: &Module) -> Option<u32> {
    let mut b = [0u8; 4];
    read_at(module, SeekFrom::End(-4), &mut b)?;
    Some(u32::from_le_bytes(b))
}

fn round_2m(n: u64) -> u64 {
    n.div_ceil(2 * MIB).saturating_mul(2 * MIB)
}

fn first_bank(cx: &SectionView, guest: &Guest, diags: &mut Diagnostics) {
    let (Some(kernel), Some(bank)) = (&guest.kernel, first_bank_size(guest)) else {
        return;
    };
    let Some(kernel_end) = kernel_extent(kernel, cx) else {
        return;
    };
    let initrd = guest
        .ramdisk
        .as_ref()
        .and_then(|r| cx.facts.get(&r.source))
        .map_or(0, |f| f.size);
    // The guest DTB is always below 2 MiB: one 2 MiB slot.
    let modules = round_2m(initrd).saturating_add(2 * MIB);
    let kernel_size = round_2m(kernel_end);
    let below_128m = bank >= 128 * MIB + modules && kernel_end <= 128 * MIB;
    let after_kernel = bank.saturating_sub(modules) > kernel_size && kernel_size + modules <= bank;
    if below_128m || after_kernel {
        return;
    }
    let what = if initrd > 0 {
        format!(
            "its kernel ({}), device tree (2 MiB) and initrd ({})",
            mib(kernel_size),
            mib(round_2m(initrd))
        )
    } else {
        format!("its kernel ({}) and device tree (2 MiB)", mib(kernel_size))
    };
    let needed = kernel_size + modules + 2 * MIB;
    diags.push(
        Diagnostic::at(&c::FIRST_BANK_TOO_SMALL, memory_span(guest), format!("`{}`'s first RAM bank ({}) cannot hold {what}", guest.name, mib(bank)))
            .note("Xen places each in 2 MiB steps and panics: \"Not enough memory in the first bank for the kernel+dtb+initrd\"")
            .help(format!("give the guest at least {} of memory", mib(needed))),
    );
}

/// Xen 4.16–4.21 build the guest DTB in 4 KiB (plus the passthrough
/// fragment from 4.18); estimate what goes in (reference §3.13). Measured
/// on 4.16.7 and 4.21.2 with `vpl011` (`/sys/firmware/fdt` in the guest,
/// and the DTB Xen loads): 1160–1189 bytes besides the `bootargs`
/// property, +156 for the `/hypervisor` node of `xen,enhanced`, +96 per
/// extra vCPU; with a 29-byte command line a guest of 31 vCPUs (a 4084-byte
/// DTB) boots on 4.21.2 and one of 32 panics (tests/boot_predictions.rs).
fn dtb_budget(cx: &SectionView, guest: &Guest, diags: &mut Diagnostics) {
    let v = cx.target.version;
    if v >= XenVersion::new(4, 22) {
        return;
    }
    let Some(cpus) = guest.cpus() else { return };
    let bootargs = guest
        .kernel
        .as_ref()
        .and_then(|k| k.bootargs.as_ref())
        .map_or(0, |a| 12 + (a.len() as u64 + 1).next_multiple_of(4));
    let fixed = if guest.property(&binding::XEN_ENHANCED).is_some() {
        DTB_FIXED + DTB_HYPERVISOR_NODE
    } else {
        DTB_FIXED
    };
    let fragment = match &guest.dtb {
        Some(dtb) if v < XenVersion::new(4, 18) => cx.facts.get(&dtb.source).map_or(0, |f| f.size),
        _ => 0,
    };
    let shm = 160 * guest.structures.shared_mem.len() as u64;
    let rest = fixed + bootargs + shm + fragment;
    let estimate = rest + DTB_PER_VCPU * u64::from(cpus.saturating_sub(1));
    if estimate <= GUEST_DTB_BUFFER {
        return;
    }
    let span = guest
        .property(&binding::CPUS)
        .map_or(guest.name_span, |p| p.span);
    let mut d = Diagnostic::at(
        &c::GUEST_DTB_BUDGET,
        span,
        format!(
            "`{}`'s generated device tree would be about {estimate} bytes",
            guest.name
        ),
    )
    .note(format!(
        "Xen {v} builds it in a 4096-byte buffer and panics \"Device tree generation failed\""
    ))
    .note(format!(
        "estimate: {fixed} fixed + {DTB_PER_VCPU} per extra vCPU ({cpus} vCPUs) + {bootargs} of bootargs{}{}",
        if shm > 0 {
            format!(" + {shm} of shared memory")
        } else {
            String::new()
        },
        if fragment > 0 {
            format!(" + {fragment} of passthrough fragment")
        } else {
            String::new()
        }
    ));
    let fit = 1 + GUEST_DTB_BUFFER.saturating_sub(rest) / DTB_PER_VCPU;
    d = d.help(if rest <= GUEST_DTB_BUFFER && u64::from(cpus) > fit {
        format!("give the guest fewer vCPUs (about {fit} fit), or target Xen 4.22, which sizes the buffer for 128")
    } else {
        "shorten the command line or the passthrough fragment".to_string()
    });
    diags.push(d);
}

/// `dom0_mem=` in Xen's command line: a size whose bare number is KiB
/// (parse_size_and_unit).
/// dom0's memory when the section has dom0: `dom0_mem=` in `options=`,
/// else Xen's default.
pub(crate) fn dom0_memory(cx: &SectionView) -> Option<u64> {
    if !cx.has_dom0() {
        return None;
    }
    let options = cx.section.options.as_ref().map_or("", |o| o.value.as_str());
    Some(dom0_mem(options).unwrap_or(DOM0_DEFAULT_MEM))
}

pub fn dom0_mem(options: &str) -> Option<u64> {
    size_option(options, "dom0_mem")
}

/// The last `NAME=` of Xen's command line read as a size whose bare
/// number is KiB (parse_size_and_unit, as `dom0_mem=` and size_param).
fn size_option(options: &str, name: &str) -> Option<u64> {
    let value = options
        .split_ascii_whitespace()
        .filter_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        .next_back()?; // Xen applies options in order: the last one wins
    let digits_end = value
        .find(|c: char| !c.is_ascii_alphanumeric() || c == ',')
        .unwrap_or(value.len());
    let size = &value[..digits_end];
    let (number, shift) = match size.chars().last()? {
        'T' | 't' => (&size[..size.len() - 1], 40),
        'G' | 'g' => (&size[..size.len() - 1], 30),
        'M' | 'm' => (&size[..size.len() - 1], 20),
        'K' | 'k' => (&size[..size.len() - 1], 10),
        'B' | 'b' => (&size[..size.len() - 1], 0),
        _ => (size, 10),
    };
    let n = crate::binding::value::parse_u64(number).ok()?;
    n.checked_mul(1u64 << shift)
}

/// DT memory nodes that a bootloader fills in at boot: a node of size 0,
/// or less RAM than the boot modules take. Warns (XC0708) and returns
/// true: their figure says nothing about the board.
fn placeholder_ram(
    cx: &SectionView,
    facts: &crate::host::HostFacts,
    diags: &mut Diagnostics,
) -> bool {
    if facts.ram_source != crate::host::RamSource::MemoryNodes {
        return false;
    }
    let Some(dtb) = &cx.section.dtb else {
        return false;
    };
    let modules: u64 = cx
        .section
        .efi_loaded_files()
        .iter()
        .filter_map(|m| cx.facts.get(&m.source))
        .map(|f| f.size)
        .sum();
    let (node, why) = if let Some(node) = facts.empty_memory_nodes.first() {
        (node.clone(), format!("`{node}` has size 0"))
    } else if !facts.ram.is_empty() && facts.ram_total() < modules {
        (
            "/memory".to_string(),
            format!(
                "they give {} of RAM, less than the {} of boot modules",
                mib(facts.ram_total()),
                mib(modules)
            ),
        )
    } else {
        return false;
    };
    diags.push(
        Diagnostic::new(
            &c::HOST_RAM_PLACEHOLDER,
            Location::Tree {
                file: dtb.source.clone(),
                node,
                property: Some("reg".to_string()),
            },
            format!("the host DTB's memory nodes look like a placeholder: {why}"),
        )
        .note("bootloaders fill memory nodes in at boot, and Xen takes RAM from the EFI memory map anyway: xencfg cannot check memory against the host's RAM")
        .help("state the board's RAM: `--host-ram 4G` (or ADDR:SIZE ranges, `--host-ram 0x40000000:4G`)"),
    );
    true
}

/// P2M pool Xen 4.17+ gives a guest by default, in bytes
/// (dom0less-build.c:domain_p2m_pages).
pub(crate) fn p2m_pool(guest: &Guest) -> u64 {
    if let Some(p) = guest.property(&binding::XEN_DOMAIN_P2M_MEM_MB) {
        if let PropertyValue::Mib(mb) = p.value {
            return u64::from(mb) * MIB;
        }
    }
    let vcpus = u64::from(guest.cpus().unwrap_or(1));
    let mem_mib = guest.memory_kib().unwrap_or(0) / 1024;
    let kib = 4 * (256 * vcpus + mem_mib + 128);
    kib.div_ceil(1024) * MIB
}

fn host_total(cx: &SectionView, diags: &mut Diagnostics) {
    let Some(facts) = cx.host.as_ref() else {
        return;
    };
    if placeholder_ram(cx, facts, diags) || !facts.knows_ram_total() {
        return;
    }
    // With a static heap (4.17+) the domains' memory comes from the heap
    // alone: its size is the budget (checks::heap, XC1038).
    if cx.section.static_heap.is_some() && cx.target.version >= XenVersion::new(4, 17) {
        return;
    }
    let available = facts.ram_total().saturating_sub(facts.reserved_in_ram());
    let modules: u64 = cx
        .section
        .efi_loaded_files()
        .iter()
        .filter_map(|m| cx.facts.get(&m.source))
        .map(|f| f.size)
        .sum();
    let mut used = modules;
    let mut parts = vec![format!("{} of boot modules", mib(modules))];
    if let Some(dom0) = dom0_memory(cx) {
        used = used.saturating_add(dom0);
        parts.push(format!("dom0 {}", mib(dom0)));
    }
    for guest in &cx.section.guests {
        let memory = match &guest.structures.static_mem {
            Some(mem) => mem.total(),
            None => guest.memory_kib().unwrap_or(0).saturating_mul(1024),
        };
        // The P2M pool came with 4.17, and to 4.16.3 with XSA-409.
        let pool = if cx.target.at_least(XenVersion::new(4, 16), 3) == Some(true) {
            p2m_pool(guest)
        } else {
            0
        };
        used = used.saturating_add(memory).saturating_add(pool);
        parts.push(if pool > 0 {
            format!("`{}` {} + {} P2M pool", guest.name, mib(memory), mib(pool))
        } else {
            format!("`{}` {}", guest.name, mib(memory))
        });
        if used > available {
            diags.push(
                Diagnostic::at(
                    &c::MEMORY_EXCEEDS_HOST,
                    memory_span(guest),
                    format!(
                        "the domains need {} but the host has {} of RAM",
                        mib(used),
                        mib(available)
                    ),
                )
                .note(format!("counted so far: {}", parts.join(", ")))
                .note("Xen panics at boot: \"Failed to allocate requested domain memory\"")
                .note(facts.ram_source_note())
                .help(format!(
                    "give `{}` {} less memory, or boot on a host with more RAM",
                    guest.name,
                    mib(used - available)
                )),
            );
            return;
        }
    }
    if used > available {
        if let Some(k) = &cx.section.dom0_kernel {
            diags.push(
                Diagnostic::at(
                    &c::MEMORY_EXCEEDS_HOST,
                    k.span,
                    format!(
                        "dom0 and the boot modules need {} but the host has {} of RAM",
                        mib(used),
                        mib(available)
                    ),
                )
                .note("Xen panics at boot while allocating dom0's memory")
                .note(facts.ram_source_note())
                .help("lower `dom0_mem=` in `options=`"),
            );
        }
    }
}

/// Whether Xen's command line turns LLC colouring on (Xen 4.20+
/// llc-coloring.c): `llc-coloring` as a boolean, else on when both
/// `llc-size=` and `llc-nr-ways=` are given.
fn llc_coloring_on(options: &str) -> bool {
    let words: Vec<&str> = options.split_ascii_whitespace().collect();
    let last = |name: &str| {
        words.iter().rev().find_map(|w| {
            let rest = w.strip_prefix(name)?;
            if rest.is_empty() {
                Some("")
            } else {
                rest.strip_prefix('=')
            }
        })
    };
    match last("llc-coloring") {
        Some("" | "1" | "on" | "yes" | "true" | "enable") => true,
        Some("0" | "off" | "no" | "false" | "disable") => false,
        _ => last("llc-size").is_some() && last("llc-nr-ways").is_some(),
    }
}

/// XC1030: with LLC colouring on, every domain's memory and P2M pool come
/// from the coloured heap, which Xen fills at boot (end_boot_allocator)
/// with what its buddy allocator leaves: the buddy takes the lowest free
/// RAM region whole, then `buddy-alloc-size` of the others. The EFI loader
/// puts Xen and the modules at the top of RAM, so a single RAM bank with no
/// reservation low in it leaves the coloured heap (nearly) empty. Seen on
/// Xen 4.22 under QEMU: "Failed to allocate P2M pages" for every guest,
/// and a boot once a page at 0x40200000 was reserved.
fn llc_colored_heap(cx: &SectionView, diags: &mut Diagnostics) {
    let Some(options) = cx.section.options.as_ref() else {
        return;
    };
    if cx.target.version < XenVersion::new(4, 20) || !llc_coloring_on(&options.value) {
        return;
    }
    if cx
        .target
        .config
        .as_ref()
        .is_some_and(|config| !config.is_set("CONFIG_LLC_COLORING"))
    {
        return; // Xen ignores the options it does not know
    }
    let Some(facts) = cx.host.as_ref().filter(|f| !f.ram.is_empty()) else {
        return;
    };
    // Free RAM: the banks without the reserved and static ranges (Xen's
    // EFI stub deletes the /memreserve/ entries).
    let mut taken: Vec<Range> = facts
        .reserved
        .iter()
        .filter(|r| r.what != "/memreserve/")
        .map(|r| r.range)
        .collect();
    for guest in &cx.section.guests {
        if let Some(mem) = &guest.structures.static_mem {
            taken.extend(mem.ranges().iter().map(|r| r.value));
        }
    }
    let mut free: Vec<Range> = Vec::new();
    let mut banks = facts.ram.clone();
    banks.sort_by_key(|r| r.start);
    for bank in banks {
        free.extend(bank.minus(&taken));
    }
    let Some(lowest) = free.first().copied() else {
        return;
    };
    let rest: u64 = free[1..].iter().map(|r| r.size).sum();
    let buddy = size_option(&options.value, "buddy-alloc-size")
        .or_else(|| {
            let config = cx.target.config.as_ref()?;
            let mib_text = config.values.get("CONFIG_BUDDY_ALLOCATOR_SIZE")?;
            Some(mib_text.parse::<u64>().ok()? * MIB)
        })
        .unwrap_or(64 * MIB);
    let modules: u64 = cx
        .section
        .efi_loaded_files()
        .iter()
        .filter_map(|m| cx.facts.get(&m.source))
        .map(|f| f.size)
        .sum();
    let colored = rest.saturating_sub(buddy).saturating_sub(modules);
    let mut need = 0u64;
    if cx.has_dom0() {
        need += dom0_mem(&options.value).unwrap_or(DOM0_DEFAULT_MEM);
    }
    for guest in &cx.section.guests {
        if guest.structures.static_mem.is_none() {
            let memory = guest.memory_kib().unwrap_or(0).saturating_mul(1024);
            need = need.saturating_add(memory).saturating_add(p2m_pool(guest));
        }
    }
    if need == 0 || need <= colored {
        return;
    }
    diags.push(
        Diagnostic::at(
            &c::LLC_COLORED_HEAP,
            options.span,
            format!(
                "LLC colouring leaves Xen about {} of coloured memory; the domains need {}",
                mib(colored),
                mib(need)
            ),
        )
        .note(format!(
            "with colouring on, every domain's memory and P2M pool come from the coloured heap; Xen's buddy allocator first takes the lowest free RAM region whole ({} at {:#x}) and {} of the rest, and the EFI loader puts the {} of boot modules at the top",
            mib(lowest.size),
            lowest.start,
            mib(buddy),
            mib(modules)
        ))
        .note("Xen panics at boot: \"Failed to allocate P2M pages\", then \"Could not set up domain\"")
        .help(format!(
            "reserve a page low in RAM in the host DTB (a `/reserved-memory` node, e.g. through `dtbo=`, at {:#x}), so that the lowest region ends there",
            lowest.start + 2 * MIB
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_llc_coloring_as_xen_does() {
        assert!(llc_coloring_on("llc-coloring=on"));
        assert!(llc_coloring_on("console=dtuart llc-coloring"));
        assert!(llc_coloring_on("llc-size=2M llc-nr-ways=16"));
        assert!(!llc_coloring_on("llc-size=2M"));
        assert!(!llc_coloring_on(
            "llc-coloring=off llc-size=2M llc-nr-ways=16"
        ));
        assert!(!llc_coloring_on("llc-coloring=on llc-coloring=0"));
        assert!(!llc_coloring_on("llc-coloringx=on"));
        assert_eq!(
            size_option("buddy-alloc-size=128M", "buddy-alloc-size"),
            Some(128 * MIB)
        );
    }

    #[test]
    fn reads_dom0_mem_as_xen_does() {
        assert_eq!(dom0_mem("console=dtuart dom0_mem=512M"), Some(512 * MIB));
        assert_eq!(dom0_mem("dom0_mem=1G,max:1G"), Some(GIB));
        assert_eq!(dom0_mem("dom0_mem=1024"), Some(1024 * 1024));
        assert_eq!(dom0_mem("dom0_mem=2g dom0_mem=1G"), Some(GIB));
        assert_eq!(dom0_mem("console=dtuart"), None);
        assert_eq!(dom0_mem("dom0_mem=xyzM"), None);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(mib(2 * GIB), "2 GiB");
        assert_eq!(mib(768 * MIB), "768 MiB");
        assert_eq!(mib(614), "1 KiB");
        assert_eq!(mib(2 * GIB - 64 * 1024), "2047.94 MiB");
    }

    #[test]
    fn rounds_to_2_mib() {
        assert_eq!(round_2m(0), 0);
        assert_eq!(round_2m(1), 2 * MIB);
        assert_eq!(round_2m(2 * MIB), 2 * MIB);
    }
}

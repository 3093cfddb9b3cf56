//! Addresses for memory the cfg gives as a size alone: the static heap
//! (`static-heap=SIZE`), static memory (`static-mem=SIZE[,SIZE…]`) and
//! shared memory without `host=` or `guest=`. Chosen once per boot section,
//! before any check runs, and written into the model: the checks, the
//! merged tree and `explain` then see addresses as if the cfg had given
//! them, and judge placed ones exactly like given ones.
//!
//! **Where.** Host ranges go, lowest first, into host RAM minus:
//! - the host's reserved ranges (`/memreserve/`, `/reserved-memory`);
//! - every range the cfg gives (static memory, shared memory, the heap);
//! - where the firmware puts things ([`firmware_areas`]). Xen's EFI loader
//!   asks for every file with `AllocateMaxAddress` far above RAM (reference
//!   §1.9), and both EDK2 and U-Boot's UEFI hand out the highest free pages
//!   first, below their own allocations at the very top: on QEMU with 2 GiB
//!   at 0x40000000, Xen 4.22 printed its image and modules from 0xbc42ffff
//!   down under EDK2 (the firmware keeping the top 61 MiB) and from
//!   0xbdd9cfff down under U-Boot (34 MiB). U-Boot also copies the DTB
//!   just below RAM start + 128 MiB (it kept 0x47dfd000–0x48002fff back
//!   from Xen's RAM). So the top of RAM, as large as every file the loader
//!   reads plus [`FIRMWARE_TOP_MARGIN`], and the first
//!   [`FIRMWARE_LOW_WINDOW`] of RAM are left alone.
//!
//! **How.** First fit, in a fixed order (the heap's banks, each guest's
//! static banks in guest order, then each shared region in the order its
//! id first appears, dom0's first), so the same inputs give the same
//! addresses. Static memory and the heap are 2 MiB aligned (a direct-mapped
//! guest then gets superpages; the heap needs 64 KiB); shared memory too
//! when its size is whole 2 MiB, else 4 KiB (Xen maps pages).
//!
//! **Guest side of shared memory.** A domain Xen maps 1:1 (dom0, a
//! direct-mapped guest) sees the host address. Any other guest gets the
//! lowest free address in its guest RAM windows after its own RAM, clear
//! of the devices Xen emulates and its other shared regions
//! ([`super::guest_map`]).
//!
//! What cannot be placed is reported (XC1032, naming the free space) and
//! left out of the model, so no later rule judges a made-up address.

use super::guest_map;
use super::resolve::{self, Domain};
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::host::HostFacts;
use crate::load::hash::FileFacts;
use crate::model::BootSection;
use crate::model::structures::{HostRanges, SharedMemKey};
use crate::range::Range;
use std::collections::BTreeMap;
use std::path::PathBuf;

const KIB4: u64 = 4 << 10;
const MIB: u64 = 1 << 20;
const MIB2: u64 = 2 << 20;

/// The start of RAM left to the firmware: U-Boot copies the DTB below
/// RAM start + 128 MiB (Linux's arm64 rule) and keeps it from Xen.
pub const FIRMWARE_LOW_WINDOW: u64 = 128 * MIB;
/// What the firmware keeps at the very top of RAM, above the files it
/// loads for Xen: 61 MiB under EDK2 and 34 MiB under U-Boot on QEMU,
/// doubled for boards with more runtime services.
pub const FIRMWARE_TOP_MARGIN: u64 = 128 * MIB;
/// Xen's own EFI image as the firmware loads it (the 4.22 build with every
/// dom0less option is 1.5 MiB; its BSS and stack come on top).
pub const XEN_IMAGE_ESTIMATE: u64 = 4 * MIB;

/// Where the firmware will likely put things.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmwareArea {
    pub range: Range,
    pub why: String,
    /// Xen and its modules will likely be loaded here (XC1033 warns for a
    /// given range in it); else only the firmware's own data, which Xen
    /// does not need once it runs (placement still keeps clear).
    pub loads_modules: bool,
}

/// An address xencfg chose, for `explain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// What it is for (`static memory of `g1``, `shared memory `s``).
    pub what: String,
    pub range: Range,
    /// `Some(domain)` for a guest address, `None` for a host one.
    pub guest: Option<String>,
    pub span: Span,
}

/// What placing a section's memory did.
#[derive(Debug, Default)]
pub struct Placement {
    /// The firmware's likely areas (empty without host RAM).
    pub firmware: Vec<FirmwareArea>,
    pub placed: Vec<Placed>,
    /// Requests that did not fit (XC1032), reported by the check table.
    pub findings: Diagnostics,
}

/// The areas of `ram` the firmware will likely use when it loads
/// `loaded_bytes` of files for Xen: the first [`FIRMWARE_LOW_WINDOW`] of
/// the lowest bank and the top `loaded_bytes + FIRMWARE_TOP_MARGIN` of RAM,
/// highest bank first.
pub fn firmware_areas(ram: &[Range], loaded_bytes: u64) -> Vec<FirmwareArea> {
    let mut banks: Vec<Range> = ram.iter().copied().filter(|r| !r.is_empty()).collect();
    banks.sort();
    let mut areas = Vec::new();
    if let Some(first) = banks.first() {
        areas.push(FirmwareArea {
            range: Range::new(first.start, first.size.min(FIRMWARE_LOW_WINDOW)),
            why: "the first 128 MiB of RAM (U-Boot copies the DTB there)".to_string(),
            loads_modules: false,
        });
    }
    // Whole MiB: the areas stay aligned like what is placed around them.
    let loaded_bytes = loaded_bytes.div_ceil(MIB).saturating_mul(MIB);
    let mut left = loaded_bytes.saturating_add(FIRMWARE_TOP_MARGIN);
    for bank in banks.iter().rev() {
        if left == 0 {
            break;
        }
        let take = bank.size.min(left);
        left -= take;
        areas.push(FirmwareArea {
            range: Range::new(bank.start + (bank.size - take), take),
            why: format!(
                "the top of RAM: Xen and the files it loads ({}) and the firmware's own {}",
                size_text(loaded_bytes),
                size_text(FIRMWARE_TOP_MARGIN)
            ),
            loads_modules: true,
        });
    }
    areas
}

/// Bytes the EFI loader will load for `section`: Xen, the DTB, every
/// module, each rounded up to pages.
pub fn loaded_bytes(section: &BootSection, facts: &BTreeMap<PathBuf, FileFacts>) -> u64 {
    let size_of = |source: &PathBuf| facts.get(source).map_or(0, |f| f.size);
    let dtb = section
        .dtb
        .iter()
        .chain(&section.dtbos)
        .map(|m| size_of(&m.source))
        .sum::<u64>()
        // The merged tree's guests and the stub's own edits.
        .saturating_add(MIB);
    section
        .efi_loaded_files()
        .iter()
        .map(|m| size_of(&m.source).div_ceil(KIB4).saturating_mul(KIB4))
        .fold(XEN_IMAGE_ESTIMATE.saturating_add(dtb), u64::saturating_add)
}

/// Place every size-only request of `section` (see the module doc).
pub fn place(
    section: &mut BootSection,
    host: Option<&HostFacts>,
    host_tree: Option<&crate::fdt::Fdt>,
    facts: &BTreeMap<PathBuf, FileFacts>,
) -> Placement {
    let mut placement = Placement::default();
    let Some(host) = host.filter(|h| !h.ram.is_empty()) else {
        // Without the host's RAM ranges no host range can be placed: say
        // so for what needed one (a missing host DTB is reported on its
        // own), and leave it out.
        if host.is_some() {
            unplaceable_ranges(section, &mut placement.findings);
        }
        drop_unplaced(section);
        place_shared(section, None, host_tree, &mut placement, host.is_some());
        return placement;
    };
    placement.firmware = firmware_areas(&host.ram, loaded_bytes(section, facts));
    let mut space = HostSpace::new(host, section, &placement.firmware);

    if let Some(heap) = section.static_heap.as_mut() {
        if !space.place_ranges(heap, "Xen's static heap", &mut placement) {
            section.static_heap = None;
        }
    }
    for guest in &mut section.guests {
        let Some(mem) = guest.structures.static_mem.as_mut() else {
            continue;
        };
        if !space.place_ranges(
            mem,
            &format!("static memory of `{}`", guest.name),
            &mut placement,
        ) {
            guest.structures.static_mem = None;
            guest.structures.static_mem_rejected = true;
        }
    }
    place_shared(section, Some(&mut space), host_tree, &mut placement, true);
    placement
}

/// Host RAM still free for placement.
struct HostSpace<'a> {
    free: Vec<Range>,
    host: &'a HostFacts,
    /// What was taken out of RAM, for the message when a request fails.
    excluded: String,
}

impl<'a> HostSpace<'a> {
    fn new(host: &'a HostFacts, section: &BootSection, firmware: &[FirmwareArea]) -> Self {
        let mut taken: Vec<Range> = host.reserved.iter().map(|r| r.range).collect();
        taken.extend(given_host_ranges(section));
        taken.extend(firmware.iter().map(|f| f.range));
        let free = host
            .ram
            .iter()
            .flat_map(|bank| bank.minus(&taken))
            .collect();
        let top: u64 = firmware.iter().skip(1).map(|f| f.range.size).sum();
        let excluded = format!(
            "host RAM less its reserved ranges, the ranges the cfg gives, the first {} of RAM and the top {} (the firmware, Xen and the files it loads)",
            size_text(FIRMWARE_LOW_WINDOW),
            size_text(top)
        );
        HostSpace {
            free,
            host,
            excluded,
        }
    }

    /// The lowest `size` bytes at a multiple of `align` that are free.
    fn take(&mut self, size: u64, align: u64) -> Option<Range> {
        let (index, range) = first_fit(&self.free, size, align)?;
        let block = self.free.remove(index);
        for (n, piece) in block.minus(&[range]).into_iter().enumerate() {
            self.free.insert(index + n, piece);
        }
        Some(range)
    }

    /// Give every bank of `ranges` without a start one; `false` (reported)
    /// when one does not fit.
    fn place_ranges(
        &mut self,
        ranges: &mut HostRanges,
        what: &str,
        placement: &mut Placement,
    ) -> bool {
        for bank in &mut ranges.banks {
            if bank.value.start.is_some() {
                continue;
            }
            match self.take(bank.value.size, MIB2) {
                Some(range) => {
                    bank.value.start = Some(range.start);
                    bank.value.placed = true;
                    placement.placed.push(Placed {
                        what: what.to_string(),
                        range,
                        guest: None,
                        span: bank.span,
                    });
                }
                None => {
                    placement
                        .findings
                        .push(self.no_room(bank.span, bank.value.size, what));
                    return false;
                }
            }
        }
        true
    }

    fn no_room(&self, span: Span, size: u64, what: &str) -> Diagnostic {
        let total: u64 = self.free.iter().map(|r| r.size).sum();
        let largest = self.free.iter().max_by_key(|r| r.size);
        let free_text = match largest {
            Some(l) => format!(
                "{} is free in {} block(s), the largest {} at {:#x}",
                size_text(total),
                self.free.len(),
                size_text(l.size),
                l.start
            ),
            None => "nothing is free".to_string(),
        };
        Diagnostic::at(
            &c::PLACEMENT_NO_ROOM,
            span,
            format!("no room in host RAM for {} of {what}", size_text(size)),
        )
        .note(format!("{free_text}: {}", self.excluded))
        .note(self.host.ram_source_note())
        .help(match largest {
            Some(l) => format!(
                "ask for at most {} here, split it into smaller banks, or give it an address",
                size_text(l.size)
            ),
            None => "give it an address, or free host RAM".to_string(),
        })
    }
}

/// Host ranges the cfg gives: static memory, the heap, shared memory with
/// `host=` (or a 1:1-mapped domain's `guest=`, which is its host address).
fn given_host_ranges(section: &BootSection) -> Vec<Range> {
    let mut given: Vec<Range> = section
        .static_heap
        .iter()
        .chain(
            section
                .guests
                .iter()
                .filter_map(|g| g.structures.static_mem.as_ref()),
        )
        .flat_map(HostRanges::ranges)
        .map(|r| r.value)
        .collect();
    for members in resolve::region_members(section) {
        if let Some(host) = given_host(section, &members) {
            given.push(Range::new(host, region_size(section, &members)));
        }
    }
    given
}

/// One `shared-mem=` of the section: its domain and the key's index there
/// (as [`resolve::region_members`] lists a region's members).
type Member = (Domain, usize);

fn key(section: &BootSection, (domain, index): Member) -> &SharedMemKey {
    &resolve::shared_mem_of(section, domain)[index]
}

fn key_mut(section: &mut BootSection, (domain, index): Member) -> &mut SharedMemKey {
    resolve::shared_mem_of_mut(section, domain, index)
        .expect("region members index the section's keys")
}

/// The first member's size (a mismatch is the checks' to report).
fn region_size(section: &BootSection, members: &[Member]) -> u64 {
    key(section, members[0]).size
}

/// The host address the cfg gives a region: a `host=`, else a 1:1
/// domain's `guest=`.
fn given_host(section: &BootSection, members: &[Member]) -> Option<u64> {
    let keys = || members.iter().map(|&m| (m, key(section, m)));
    keys().find_map(|(_, k)| k.host).or_else(|| {
        keys()
            .filter(|((domain, _), _)| resolve::one_to_one(section, *domain))
            .find_map(|(_, k)| k.guest)
    })
}

/// The lowest `size` bytes at a multiple of `align` inside one of `blocks`
/// (ascending), and that block's index.
fn first_fit(blocks: &[Range], size: u64, align: u64) -> Option<(usize, Range)> {
    blocks.iter().enumerate().find_map(|(i, block)| {
        let start = block.start.checked_next_multiple_of(align)?;
        let range = Range::new(start, size);
        block.contains(range).then_some((i, range))
    })
}

fn shm_align(size: u64) -> u64 {
    if size % MIB2 == 0 { MIB2 } else { KIB4 }
}

/// Shared memory: each region's host range (given, implied by a 1:1
/// domain's `guest=`, or placed in `space`), then each member's guest
/// address. Without `space` (host RAM unknown) a region that needs a host
/// range is reported when `report` and left unplaced.
fn place_shared(
    section: &mut BootSection,
    mut space: Option<&mut HostSpace>,
    host_tree: Option<&crate::fdt::Fdt>,
    placement: &mut Placement,
    report: bool,
) {
    for members in resolve::region_members(section) {
        let first = key(section, members[0]);
        let (id, size, span) = (first.id.clone(), first.size, first.span);
        let what = format!("shared memory `{id}`");
        let found = match (given_host(section, &members), space.as_deref_mut()) {
            (Some(host), _) => Some((host, false)),
            (None, Some(space)) => match space.take(size, shm_align(size)) {
                Some(range) => {
                    placement.placed.push(Placed {
                        what: what.clone(),
                        range,
                        guest: None,
                        span,
                    });
                    Some((range.start, true))
                }
                None => {
                    placement.findings.push(space.no_room(span, size, &what));
                    None
                }
            },
            (None, None) => {
                if report {
                    placement.findings.push(unknown_ram(span, &what));
                }
                None
            }
        };
        let Some((host, host_placed)) = found else {
            continue;
        };
        for &member in &members {
            let direct = resolve::one_to_one(section, member.0);
            let k = key_mut(section, member);
            if k.host.is_none() {
                k.host = Some(host);
                k.placed.host = host_placed;
            }
            if k.guest.is_some() {
                continue;
            }
            if direct {
                k.guest = k.host;
                k.placed.guest = true;
                continue;
            }
            let (Domain::Guest(g), _) = member else {
                continue;
            };
            let guest = &section.guests[g];
            let mut taken = guest_map::ram(guest);
            taken.extend(
                guest_map::devices(host_tree, guest)
                    .into_iter()
                    .map(|(_, r)| r),
            );
            taken.extend(
                guest
                    .structures
                    .shared_mem
                    .iter()
                    .filter_map(|k| k.guest.map(|start| Range::new(start, k.size))),
            );
            let free: Vec<Range> = [guest_map::RAM0, guest_map::RAM1]
                .iter()
                .flat_map(|window| window.minus(&taken))
                .collect();
            let found = first_fit(&free, size, shm_align(size)).map(|(_, range)| range);
            let name = guest.name.clone();
            let key = key_mut(section, member);
            match found {
                Some(range) => {
                    key.guest = Some(range.start);
                    key.placed.guest = true;
                    placement.placed.push(Placed {
                        what: what.clone(),
                        range,
                        guest: Some(name),
                        span: key.span,
                    });
                }
                None => placement.findings.push(
                    Diagnostic::at(
                        &c::PLACEMENT_NO_ROOM,
                        key.span,
                        format!(
                            "no room in `{name}`'s address space for {} of {what}",
                            size_text(size)
                        ),
                    )
                    .note("the guest's RAM windows (3 GiB at 0x40000000, 1016 GiB at 0x200000000) are taken by its RAM and its other shared memory")
                    .help("give `guest=` an address, or share less"),
                ),
            }
        }
    }
}

/// Host RAM is unknown (placeholder memory nodes, `--host-ram SIZE`):
/// every static range given as a size alone is reported.
fn unplaceable_ranges(section: &BootSection, findings: &mut Diagnostics) {
    let heap = section
        .static_heap
        .iter()
        .map(|h| (h, "Xen's static heap".to_string()));
    let mems = section.guests.iter().filter_map(|g| {
        g.structures
            .static_mem
            .as_ref()
            .map(|m| (m, format!("static memory of `{}`", g.name)))
    });
    for (ranges, what) in heap.chain(mems).filter(|(r, _)| r.unplaced()) {
        findings.push(unknown_ram(ranges.span, &what));
    }
}

fn unknown_ram(span: Span, what: &str) -> Diagnostic {
    Diagnostic::at(&c::PLACEMENT_NO_ROOM, span, format!("xencfg cannot place {what}: the host's RAM ranges are unknown"))
        .note("the host DTB's memory nodes give no ranges (placeholders the bootloader fills in), or `--host-ram` states only a size")
        .help("state the board's RAM with `--host-ram ADDR:SIZE[,ADDR:SIZE…]`, or give the address")
}

/// Leave nothing unplaced in the model (see the module doc).
fn drop_unplaced(section: &mut BootSection) {
    if section
        .static_heap
        .as_ref()
        .is_some_and(HostRanges::unplaced)
    {
        section.static_heap = None;
    }
    for guest in &mut section.guests {
        if guest
            .structures
            .static_mem
            .as_ref()
            .is_some_and(HostRanges::unplaced)
        {
            guest.structures.static_mem = None;
            guest.structures.static_mem_rejected = true;
        }
    }
}

/// A size for messages: exact in the largest binary unit that divides it,
/// else MiB with two decimals.
fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b >> 20),
        b if b < MIB && b % 1024 == 0 => format!("{} KiB", b >> 10),
        b => format!("{:.2} MiB", b as f64 / MIB as f64),
    }
}

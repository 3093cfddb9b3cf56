//! Checks of Xen's static heap, `static-heap=` in a boot section
//! (XC1034–XC1040; reference §2.3): the target reads it, the host tree does
//! not give one already, the root's cells hold it, each range is aligned,
//! in RAM and nobody else's, and the heap holds what the domains take from
//! it (with a static heap Xen's boot allocator and heap get only these
//! ranges: populate_boot_allocator).

use super::memory::{dom0_memory, mib, overlap_note, p2m_pool};
use crate::analyze::SectionView;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Span};
use crate::fdt::cells::{self, Cells};
use crate::model::structures::HostRanges;
use crate::range::Range;
use crate::target::XenVersion;

/// The alignment booting.txt asks of `xen,static-heap`.
const HEAP_ALIGN: u64 = 64 * 1024;
/// What `/chosen` `xen,static-heap` of the host tree is called in `HostFacts`.
const HOST_HEAP: &str = "/chosen xen,static-heap";

pub fn check(cx: &SectionView, diags: &mut Diagnostics) {
    let Some(heap) = &cx.section.static_heap else {
        return;
    };
    // process_chosen_node reads `xen,static-heap` from 4.17 on.
    if cx.target.version < XenVersion::new(4, 17) {
        diags.push(
            Diagnostic::at(
                &c::STATIC_HEAP_TOO_OLD,
                heap.span,
                format!(
                    "`static-heap` is read by Xen 4.17 and later; the target is Xen {}",
                    cx.target.version
                ),
            )
            .note(format!(
                "Xen {} ignores `/chosen` `xen,static-heap` silently: its heap stays all of RAM",
                cx.target.version
            ))
            .help("target Xen 4.17 or newer, or remove `static-heap=`"),
        );
        return;
    }
    two_sources(cx, heap, diags);
    root_cells(cx, heap, diags);
    ranges(cx, heap, diags);
    overlaps(cx, heap, diags);
    size(cx, heap, diags);
}

/// XC1039: the host tree (after its overlays) has a heap of its own.
fn two_sources(cx: &SectionView, heap: &HostRanges, diags: &mut Diagnostics) {
    let has_own = cx
        .host_tree
        .and_then(|t| t.root.child("chosen"))
        .is_some_and(|c| c.property("xen,static-heap").is_some());
    if !has_own {
        return;
    }
    let mut d = Diagnostic::at(
        &c::STATIC_HEAP_TWICE,
        heap.span,
        "the host tree already has `/chosen` `xen,static-heap`, and `static-heap=` gives another",
    );
    if let Some(dtb) = &cx.section.dtb {
        let from = if cx.section.dtbos.is_empty() {
            "the host DTB's static heap"
        } else {
            "the static heap of the host DTB or its overlays"
        };
        d = d.related(
            Location::Tree {
                file: dtb.source.clone(),
                node: "/chosen".to_string(),
                property: Some("xen,static-heap".to_string()),
            },
            from,
        );
    }
    diags.push(
        d.note("Xen reads one `xen,static-heap`: xencfg would replace the tree's, and the heap it describes would be lost")
            .help("give the heap in one place: remove `static-heap=`, or the property from the host DTB (or overlay)"),
    );
}

/// XC1040: the ranges in the root's cells, as Xen decodes them.
fn root_cells(cx: &SectionView, heap: &HostRanges, diags: &mut Diagnostics) {
    let Some(tree) = cx.host_tree else {
        return;
    };
    let root = Cells::of(&tree.root);
    if root.address < 1 || root.size < 1 {
        diags.push(
            Diagnostic::at(
                &c::STATIC_HEAP_CELLS,
                heap.span,
                format!(
                    "the host DTB's root has #address-cells = <{}> and #size-cells = <{}>: Xen cannot read `xen,static-heap` with them",
                    root.address, root.size
                ),
            )
            .note("Xen decodes `xen,static-heap` with the root's cells; with fewer than 1 it prints \"invalid #address-cells or #size-cells\" and panics \"Early FDT parsing failed\"")
            .help("give the host DTB's root `#address-cells = <2>` and `#size-cells = <2>`"),
        );
        return;
    }
    for r in heap.ranges() {
        if cells::encode_ranges(&[r.value], root).is_some() {
            continue;
        }
        diags.push(
            Diagnostic::at(
                &c::STATIC_HEAP_CELLS,
                r.span,
                format!(
                    "static-heap range {:#x} (+{:#x}) does not fit the host DTB's root cells (#address-cells = <{}>, #size-cells = <{}>)",
                    r.value.start, r.value.size, root.address, root.size
                ),
            )
            .note("Xen decodes `xen,static-heap` with the root's cells, not `/chosen`'s: xencfg cannot write this range")
            .help(if root.address == 1 || root.size == 1 {
                "use ranges below 4 GiB, each smaller than 4 GiB, or a host DTB whose root has 2 address and size cells"
            } else {
                "use ranges the root's cells can hold"
            }),
        );
    }
}

/// XC1035 and XC1036, range by range.
fn ranges(cx: &SectionView, heap: &HostRanges, diags: &mut Diagnostics) {
    for r in heap.ranges() {
        let Range { start, size } = r.value;
        if start % HEAP_ALIGN != 0 || size % HEAP_ALIGN != 0 {
            let note = if start % 4096 != 0 || size % 4096 != 0 {
                "Xen does not check it: it rounds the range inward to whole 4 KiB pages (init_boot_pages) and the partial pages are lost"
            } else {
                "Xen does not check it (init_boot_pages takes whole 4 KiB pages), but booting.txt requires 64 KiB"
            };
            diags.push(
                Diagnostic::at(
                    &c::STATIC_HEAP_UNALIGNED,
                    r.span,
                    format!("static-heap range {start:#x} (+{size:#x}) is not 64 KiB-aligned"),
                )
                .note(note)
                .help("align the address and the size to 64 KiB (0x10000)"),
            );
        }
        let Some(facts) = cx.host.as_ref().filter(|f| !f.ram.is_empty()) else {
            continue;
        };
        if facts.in_ram(r.value) {
            continue;
        }
        diags.push(
            Diagnostic::at(
                &c::STATIC_HEAP_OUTSIDE_RAM,
                r.span,
                format!(
                    "static-heap range {:#x}-{:#x} is not inside host RAM",
                    start,
                    r.value.end()
                ),
            )
            .note("Xen gives the static heap to its allocator as RAM without checking it; Xen maps only the RAM banks, so pages outside them break Xen once it hands them out")
            .note(facts.ram_source_note())
            .help(format!("use a range inside the host's RAM: {}", facts.ram_list())),
        );
    }
}

/// XC1037: each heap range against the host's reserved ranges, every
/// guest's static memory, the shared-memory host ranges and the heap's
/// earlier ranges.
fn overlaps(cx: &SectionView, heap: &HostRanges, diags: &mut Diagnostics) {
    let mut others: Vec<(Range, Option<Span>, String)> = Vec::new();
    if let Some(facts) = cx.host {
        // Xen's EFI stub deletes /memreserve/ entries (and Xen accepts a
        // range inside one); the tree's own heap is XC1039's.
        for r in &facts.reserved {
            if r.what != "/memreserve/" && r.what != HOST_HEAP {
                others.push((r.range, None, r.what.clone()));
            }
        }
    }
    for guest in &cx.section.guests {
        if let Some(mem) = &guest.structures.static_mem {
            for r in mem.ranges() {
                others.push((
                    r.value,
                    Some(r.span),
                    format!("static memory of `{}`", guest.name),
                ));
            }
        }
    }
    let keys = cx.section.dom0_structures.shared_mem.iter().chain(
        cx.section
            .guests
            .iter()
            .flat_map(|g| &g.structures.shared_mem),
    );
    for k in keys {
        if let Some(host) = k.host {
            others.push((
                Range {
                    start: host,
                    size: k.size,
                },
                Some(k.span),
                format!("shared memory `{}`", k.id),
            ));
        }
    }
    let note = if cx.target.version >= XenVersion::new(4, 18) {
        overlap_note(cx)
    } else {
        format!(
            "Xen {} does not check: the overlapping pages go to its heap and to the other user both",
            cx.target.version
        )
    };
    let banks = heap.ranges();
    for (n, r) in banks.iter().enumerate() {
        let earlier = banks[..n].iter().find(|b| b.value.overlaps(r.value));
        let (what, related) = match earlier {
            Some(b) => ("another static-heap range".to_string(), Some(b.span)),
            None => match others.iter().find(|(o, _, _)| o.overlaps(r.value)) {
                Some((o, span, what)) => {
                    let what = if span.is_none() {
                        format!("{what} ({:#x}-{:#x})", o.start, o.end())
                    } else {
                        what.clone()
                    };
                    (what, *span)
                }
                None => continue,
            },
        };
        let mut d = Diagnostic::at(
            &c::STATIC_HEAP_OVERLAP,
            r.span,
            format!(
                "static-heap range {:#x}-{:#x} overlaps {what}",
                r.value.start,
                r.value.end()
            ),
        );
        if let Some(span) = related {
            d = d.related(Location::Text(span), "the other range");
        }
        diags.push(
            d.note(note.clone())
                .help("give the heap RAM of its own, clear of reserved, static and shared memory"),
        );
    }
}

/// XC1038: what the domains take from the heap against its size.
fn size(cx: &SectionView, heap: &HostRanges, diags: &mut Diagnostics) {
    if heap.banks.iter().any(|b| b.value.start.is_none()) {
        return; // not placed: reported by the placement
    }
    let total = heap.total();
    let mut need = 0u64;
    let mut parts = Vec::new();
    if let Some(dom0) = dom0_memory(cx) {
        need = need.saturating_add(dom0);
        parts.push(format!("dom0 {}", mib(dom0)));
    }
    for guest in &cx.section.guests {
        let pool = p2m_pool(guest);
        need = need.saturating_add(pool);
        if guest.structures.static_mem.is_some() {
            parts.push(format!(
                "`{}` {} P2M pool (its static memory is not from the heap)",
                guest.name,
                mib(pool)
            ));
        } else {
            let memory = guest.memory_kib().unwrap_or(0).saturating_mul(1024);
            need = need.saturating_add(memory);
            parts.push(format!(
                "`{}` {} + {} P2M pool",
                guest.name,
                mib(memory),
                mib(pool)
            ));
        }
    }
    if need <= total {
        return;
    }
    diags.push(
        Diagnostic::at(
            &c::STATIC_HEAP_TOO_SMALL,
            heap.span,
            format!(
                "the domains need {} from the static heap, which has {}",
                mib(need),
                mib(total)
            ),
        )
        .note(format!("counted: {}", parts.join(", ")))
        .note("with a static heap Xen allocates only from it (populate_boot_allocator); it panics building the domains: \"Failed to allocate requested domain memory\"")
        .note("Xen's own allocations (frame table, per-CPU data, domain structures) come from the heap too and are not counted")
        .help(format!(
            "give the heap at least {} more, and room for Xen itself",
            mib(need - total)
        )),
    );
}

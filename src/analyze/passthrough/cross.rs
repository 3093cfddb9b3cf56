//! Passthrough across a boot section (reference §3.5, §3.6): each guest's
//! devices against its vGIC and its memory map, and the guests against
//! each other (a device, an MMIO page or an interrupt belongs to one).

use super::Device;
use crate::binding;
use crate::binding::value::PropertyValue;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::fdt::Fdt;
use crate::fdt::query;
use crate::model::Guest;
use crate::range::Range;

/// The vPL011's interrupt in every guest (GUEST_VPL011_SPI).
const VPL011_IRQ: u32 = 32;

pub fn check(guests: &[(&Guest, Vec<Device>)], host: Option<&Fdt>, diags: &mut Diagnostics) {
    let gic_v3 = host
        .and_then(|h| {
            let (path, _) = query::find_gic(h)?;
            Some(h.node(&path)?.is_compatible("arm,gic-v3"))
        })
        // Unknown: the v3 layout covers the v2 one.
        .unwrap_or(true);
    for (guest, devices) in guests {
        for device in devices {
            irqs(guest, device, diags);
            if guest.property(&binding::DIRECT_MAP).is_none() {
                guest_map(guest, device, gic_v3, diags);
            }
        }
    }
    for (i, (first, first_devices)) in guests.iter().enumerate() {
        for (second, second_devices) in &guests[i + 1..] {
            for a in first_devices {
                for b in second_devices {
                    if let Some(what) = shared(a, b) {
                        diags.push(
                            Diagnostic::new(
                                &c::DEVICE_IN_TWO_GUESTS,
                                b.location.clone(),
                                format!("guests `{}` and `{}` both get {what}", first.name, second.name),
                            )
                            .related(a.location.clone(), format!("`{}` gets it here", first.name))
                            .note("Xen panics routing an interrupt a second time (\"already used\"); two guests driving one device corrupt it")
                            .help("give the device to one guest"),
                        );
                    }
                }
            }
        }
    }
}

/// What two devices of different guests have in common, if anything.
fn shared(a: &Device, b: &Device) -> Option<String> {
    if let (Some(x), Some(y)) = (&a.host_path, &b.host_path) {
        if x.eq_ignore_ascii_case(y) {
            return Some(format!("the host device `{x}`"));
        }
    }
    for (ra, _) in &a.mappings {
        if let Some((rb, _)) = b.mappings.iter().find(|(rb, _)| ra.overlaps(*rb)) {
            return Some(format!(
                "host MMIO {} (`{}`, `{}`)",
                overlap(ra, rb),
                a.node,
                b.node
            ));
        }
    }
    a.irqs
        .iter()
        .find(|irq| b.irqs.contains(irq))
        .map(|irq| format!("IRQ {irq} (`{}`, `{}`)", a.node, b.node))
}

fn overlap(a: &Range, b: &Range) -> Range {
    let start = a.start.max(b.start);
    let end = a.end().min(b.end());
    Range {
        start,
        size: u64::try_from(end - u128::from(start)).unwrap_or(u64::MAX),
    }
}

/// The last SPI ID of GICv2 and GICv3 (1020–1023 are special IDs).
const MAX_SPI_ID: u32 = 1019;

/// Routed interrupts must exist in the guest's vGIC and not be the
/// vPL011's (XC0813, XC0814).
fn irqs(guest: &Guest, device: &Device, diags: &mut Diagnostics) {
    let nr_spis = guest
        .property(&binding::NR_SPIS)
        .and_then(|p| match p.value {
            PropertyValue::U32(n) => Some((n, p.span)),
            _ => None,
        });
    let vpl011 = guest.property(&binding::VPL011);
    for &irq in &device.irqs {
        if irq > MAX_SPI_ID {
            diags.push(
                Diagnostic::new(
                    &c::IRQ_NOT_ROUTABLE,
                    device.location.clone(),
                    format!(
                        "`{}` of guest `{}` has IRQ {irq}, beyond every GIC's interrupt IDs (SPIs end at {MAX_SPI_ID})",
                        device.node, guest.name
                    ),
                )
                .note("no GIC has this interrupt; Xen panics \"Unable to map IRQ\"")
                .help("fix the `interrupts` of the host node"),
            );
            continue;
        }
        if irq < 32 {
            diags.push(
                Diagnostic::new(
                    &c::IRQ_NOT_ROUTABLE,
                    device.location.clone(),
                    format!("`{}` of guest `{}` has IRQ {irq}, a per-CPU interrupt", device.node, guest.name),
                )
                .note("Xen routes only shared peripheral interrupts (32 and up) to a guest; it panics \"Unable to map IRQ\"")
                .help("do not pass this device through"),
            );
            continue;
        }
        if let Some((n, span)) = nr_spis {
            let limit = 32 + n.div_ceil(32) * 32;
            if irq >= limit {
                let range = if limit == 32 {
                    "no SPIs".to_string()
                } else {
                    format!("IRQs 32 to {}", limit - 1)
                };
                diags.push(
                    Diagnostic::new(
                        &c::IRQ_NOT_ROUTABLE,
                        device.location.clone(),
                        format!(
                            "`{}` of guest `{}` has IRQ {irq}, but `nr_spis = {n}` gives the guest {range}",
                            device.node, guest.name
                        ),
                    )
                    .related(Location::Text(span), "`nr_spis` is set here")
                    .note("passthrough IRQs are mapped one to one; Xen panics \"Unable to map IRQ\"")
                    .help(format!(
                        "raise `nr_spis` to at least {}, or remove it (the default covers every host interrupt)",
                        irq - 31
                    )),
                );
            }
        }
        if irq == VPL011_IRQ {
            if let Some(p) = vpl011 {
                diags.push(
                Diagnostic::new(
                    &c::IRQ_VPL011_CLASH,
                    device.location.clone(),
                    format!("`{}` of guest `{}` has IRQ 32, the guest's vPL011 interrupt", device.node, guest.name),
                )
                .related(Location::Text(p.span), "`vpl011` is set here")
                .note("Xen 4.16 panics; 4.17 and later let the device and the vPL011 share the interrupt silently")
                .help("drop `vpl011` for this guest, or pass the device to a guest without it"),
            );
            }
        }
    }
}

/// The guest's own address map (xen/include/public/arch-arm.h).
fn regions(guest: &Guest, gic_v3: bool) -> Vec<(&'static str, Range)> {
    const GIB: u64 = 1 << 30;
    let r = |start, size| Range { start, size };
    // Without a usable `memory` (reported elsewhere), the whole banks.
    let memory = guest
        .memory_kib()
        .map_or(u64::MAX, |k| k.saturating_mul(1024));
    let bank0 = memory.min(3 * GIB);
    let bank1 = (memory - bank0).min(1016 * GIB);
    let mut out = vec![("RAM", r(0x4000_0000, bank0))];
    if bank1 > 0 {
        out.push(("RAM", r(0x2_0000_0000, bank1)));
    }
    if gic_v3 {
        out.push(("vGIC distributor", r(0x0300_1000, 0x1_0000)));
        out.push(("vGIC redistributors", r(0x0302_0000, 0x100_0000)));
    } else {
        out.push(("vGIC distributor", r(0x0300_1000, 0x1000)));
        out.push(("vGIC CPU interface", r(0x0300_2000, 0x2000)));
    }
    if guest.property(&binding::VPL011).is_some() {
        out.push(("vPL011", r(0x2200_0000, 0x1000)));
    }
    out.push(("grant table", r(0x3800_0000, 0x100_0000)));
    out.push(("magic pages", r(0x3900_0000, 0x100_0000)));
    out
}

/// Guest addresses of `xen,reg` against the guest's map (XC0815).
fn guest_map(guest: &Guest, device: &Device, gic_v3: bool, diags: &mut Diagnostics) {
    let map = regions(guest, gic_v3);
    for (host, guest_start) in &device.mappings {
        let at = Range {
            start: *guest_start,
            size: host.size,
        };
        for (name, region) in map.iter().filter(|(_, r)| r.overlaps(at)) {
            diags.push(
                Diagnostic::new(
                    &c::GUEST_MMIO_OVERLAP,
                    device.location.clone(),
                    format!(
                        "`{}` of guest `{}` is mapped at guest {at}, over the guest's {name} ({region})",
                        device.node, guest.name
                    ),
                )
                .note("Xen does not check guest addresses: the mapping silently replaces what the guest expects there")
                .help("map the device at another guest address (the last cells of each `xen,reg` tuple)"),
            );
        }
    }
}

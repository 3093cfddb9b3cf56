//! Checks of properties that depend on each other or on the rest of the
//! system (XC0311–XC0313, XC1022, XC1023): `xen,enhanced` against the
//! xenstore domain, `capabilities`, `nr_spis` with `vpl011`,
//! `max_grant_version` against Xen's command line, and `sve` with a 32-bit
//! kernel (reference §2.4, §3.5, §3.12).

use crate::analyze::SectionView;
use crate::binding::value::PropertyValue;
use crate::binding::{self, PropertySpec};
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location, Severity, Span};
use crate::load::image::ImageFormat;
use crate::model::Guest;
use crate::target::XenVersion;

const CAP_HARDWARE: u32 = 0x2;
const CAP_XENSTORE: u32 = 0x4;

pub fn check(cx: &SectionView, diags: &mut Diagnostics) {
    xenstore(cx, diags);
    hardware_domain(cx, diags);
    let redistributors = host_redistributors(cx);
    if let Some(capacity) = redistributors {
        dom0_vcpus(cx, capacity, diags);
    }
    for guest in &cx.section.guests {
        if let Some(capacity) = redistributors {
            host_layout_vcpus(cx, guest, capacity, diags);
        }
        nr_spis(guest, diags);
        grant_version(cx, guest, diags);
        sve(cx, guest, diags);
    }
}

/// The size of one vCPU's redistributor (GICV3_GICR_SIZE: RD and SGI
/// frames of 64 KiB).
const GICR_SIZE: u64 = 2 * 64 * 1024;

/// How many vCPUs the host GICv3's redistributor regions cover, as Xen
/// counts them for a domain using the host layout
/// (vgic-v3.c:vgic_v3_domain_init: the sum of size / 128 KiB over the
/// `#redistributor-regions` ranges after the distributor's).
fn host_redistributors(cx: &SectionView) -> Option<u64> {
    let tree = cx.host_tree?;
    let (path, _) = crate::fdt::query::find_gic(tree)?;
    let gic = crate::fdt::query::find(tree, &path, false)?;
    if !gic.node().is_compatible("arm,gic-v3") {
        return None;
    }
    let regions = gic
        .node()
        .property_u32("#redistributor-regions")
        .unwrap_or(1) as usize;
    let ranges = crate::fdt::query::mmio_ranges(&gic).ok()?;
    let rdist = ranges.get(1..1 + regions)?;
    Some(rdist.iter().map(|r| r.size / GICR_SIZE).sum())
}

/// A domain with the host's layout (direct-map, or the hardware domain
/// of 4.21+) gets the host's redistributors: a vCPU beyond them has none.
/// Xen 4.16–4.21 create it anyway, broken (the guest hangs bringing it
/// up); 4.22 (961cc8cc0f) stops creating vCPUs there and the domain runs
/// with fewer.
fn host_layout_vcpus(cx: &SectionView, guest: &Guest, capacity: u64, diags: &mut Diagnostics) {
    let v = cx.target.version;
    let direct = guest.property(&binding::DIRECT_MAP).is_some();
    let hardware = v >= XenVersion::new(4, 21)
        && guest
            .capabilities()
            .is_some_and(|caps| caps & CAP_HARDWARE != 0);
    let Some(cpus) = guest.cpus() else { return };
    if !(direct || hardware) || u64::from(cpus) <= capacity {
        return;
    }
    let why = if direct {
        "`direct-map`"
    } else {
        "the hardware capability"
    };
    let span = guest
        .property(&binding::CPUS)
        .map_or(guest.name_span, |p| p.span);
    let mut d = Diagnostic::at(
        &c::VCPUS_EXCEED_REDISTRIBUTORS,
        span,
        format!(
            "`{}` has {cpus} vCPUs, but the host GIC's redistributors cover {capacity}",
            guest.name
        ),
    )
    .note(format!(
        "with {why} the guest uses the host's GIC layout, one 128 KiB redistributor per vCPU"
    ));
    d = if v >= XenVersion::new(4, 22) {
        d.severity(Severity::Warning).note(format!(
            "Xen {v} stops at vCPU {capacity} (\"Unable to find a re-distributor for VCPU {capacity}\") and the guest runs with {capacity} vCPUs"
        ))
    } else {
        d.note(format!(
            "Xen {v} creates vCPUs {capacity} and up without a redistributor: the guest hangs bringing them up"
        ))
    };
    diags.push(d.help(format!("give `{}` at most {capacity} vCPUs", guest.name)));
}

/// dom0 is the hardware domain: it always has the host's layout. Its
/// vCPUs are `dom0_max_vcpus=` (domain_build.c: an integer_param; 0 or
/// absent means one per pCPU of pool 0, which the redistributors cover),
/// at most 128.
fn dom0_vcpus(cx: &SectionView, capacity: u64, diags: &mut Diagnostics) {
    if !cx.has_dom0() {
        return;
    }
    let Some(options) = &cx.section.options else {
        return;
    };
    let text = options.value.as_str();
    let Some(word) = text.split(' ').rfind(|w| w.starts_with("dom0_max_vcpus=")) else {
        return;
    };
    let Some(vcpus) = crate::binding::value::parse_u64(&word["dom0_max_vcpus=".len()..])
        .ok()
        .map(|n| n.min(128))
    else {
        return;
    };
    // `word` is a slice of `text`: its offset is the pointer difference.
    let start = word.as_ptr() as usize - text.as_ptr() as usize;
    let span = crate::diag::sub_span(options.span, text, start, word.len());
    if vcpus <= capacity {
        return;
    }
    let v = cx.target.version;
    let mut d = Diagnostic::at(
        &c::VCPUS_EXCEED_REDISTRIBUTORS,
        span,
        format!("`dom0_max_vcpus={vcpus}` gives dom0 more vCPUs than the host GIC's redistributors cover ({capacity})"),
    )
    .note("dom0 uses the host's GIC layout, one 128 KiB redistributor per vCPU");
    d = if v >= XenVersion::new(4, 22) {
        d.severity(Severity::Warning).note(format!(
            "Xen {v} stops at vCPU {capacity} and dom0 runs with {capacity} vCPUs"
        ))
    } else {
        d.note(format!(
            "Xen {v} creates vCPUs {capacity} and up without a redistributor: dom0 hangs bringing them up"
        ))
    };
    diags.push(d.help(format!("use at most `dom0_max_vcpus={capacity}`")));
}

fn string_of<'g>(guest: &'g Guest, spec: &PropertySpec) -> Option<(&'g str, Span)> {
    let p = guest.property(spec)?;
    match &p.value {
        PropertyValue::Str(s) => Some((s.as_str(), p.span)),
        _ => None,
    }
}

/// Guests asking for xenstore (`xen,enhanced` = `enabled`, empty, `legacy`).
fn wants_xenstore(guest: &Guest) -> Option<Span> {
    let (value, span) = string_of(guest, &binding::XEN_ENHANCED)?;
    matches!(value, "enabled" | "" | "legacy").then_some(span)
}

fn caps_span(guest: &Guest) -> Span {
    guest
        .property(&binding::CAPABILITIES)
        .map_or(guest.name_span, |p| p.span)
}

fn xenstore(cx: &SectionView, diags: &mut Diagnostics) {
    let v = cx.target.version;
    let section = cx.section;
    if v < XenVersion::new(4, 21) {
        if cx.has_dom0() {
            return;
        }
        for guest in &section.guests {
            if let Some(span) = wants_xenstore(guest) {
                diags.push(
                    Diagnostic::at(&c::XENSTORE, span, format!("`{}` asks for xenstore, but `[{}]` has no dom0", guest.name, section.name))
                        .note(format!("Xen {v} runs xenstore in dom0 only and panics: \"Xenstore support requires dom0\""))
                        .help("use `xen,enhanced=no-xenstore`, or give the section dom0's `kernel=`"),
                );
            }
        }
        return;
    }
    let store_guests: Vec<&Guest> = section
        .guests
        .iter()
        .filter(|g| {
            g.capabilities()
                .is_some_and(|caps| caps & CAP_XENSTORE != 0)
        })
        .collect();
    let pair = match (cx.section.dom0_kernel.as_ref(), store_guests.as_slice()) {
        (Some(k), [g, ..]) => Some((*g, k.span, "dom0, which Xen makes the xenstore domain")),
        (None, [a, b, ..]) => Some((*b, caps_span(a), "the first one")),
        _ => None,
    };
    if let Some((second, first_at, first)) = pair {
        diags.push(
            Diagnostic::at(
                &c::XENSTORE,
                caps_span(second),
                format!("`{}` would be a second xenstore domain", second.name),
            )
            .related(Location::Text(first_at), first)
            .note(format!(
                "Xen {v} panics: \"Only 1 xenstore domain can be specified!\""
            ))
            .help("give the xenstore capability to one domain only"),
        );
    }
    let stores = store_guests.len() + usize::from(cx.has_dom0());
    if stores == 0 {
        for guest in &section.guests {
            if let Some(span) = wants_xenstore(guest) {
                diags.push(
                    Diagnostic::at(
                        &c::XENSTORE,
                        span,
                        format!(
                            "`{}` asks for xenstore, but no domain of `[{}]` runs it",
                            guest.name, section.name
                        ),
                    )
                    .note(format!(
                        "Xen {v} panics: \"xenstore requested, but xenstore domain not present\""
                    ))
                    .help(
                        "use `xen,enhanced=no-xenstore`, or give one guest `capabilities=xenstore`",
                    ),
                );
            }
        }
    }
}

fn hardware_domain(cx: &SectionView, diags: &mut Diagnostics) {
    let hardware: Vec<&Guest> = cx
        .section
        .guests
        .iter()
        .filter(|g| {
            g.capabilities()
                .is_some_and(|caps| caps & CAP_HARDWARE != 0)
        })
        .collect();
    let first = match (cx.section.dom0_kernel.as_ref(), hardware.first()) {
        (Some(k), _) => Some(k.span),
        (None, Some(g)) => Some(caps_span(g)),
        (None, None) => None,
    };
    let extra = if cx.has_dom0() {
        &hardware[..]
    } else {
        hardware.get(1..).unwrap_or(&[])
    };
    for guest in extra {
        let mut d = Diagnostic::at(
            &c::CAPABILITIES,
            caps_span(guest),
            format!("`{}` would be a second hardware domain", guest.name),
        )
        .note("Xen panics at boot: \"Only 1 hardware domain\"")
        .help(
            "give the hardware capability to one domain only (dom0, if the section has `kernel=`)",
        );
        if let Some(first) = first {
            d = d.related(Location::Text(first), "the first one");
        }
        diags.push(d);
    }
    for guest in &hardware {
        let forbidden = [
            guest
                .property(&binding::PASSTHROUGH)
                .map(|p| ("`passthrough`", p.span)),
            guest
                .property(&binding::NR_SPIS)
                .map(|p| ("`nr_spis`", p.span)),
            guest.dtb.as_ref().map(|m| ("a passthrough DTB", m.span)),
        ];
        for (what, span) in forbidden.into_iter().flatten() {
            diags.push(
                Diagnostic::at(&c::CAPABILITIES, span, format!("the hardware domain `{}` cannot have {what}", guest.name))
                    .note("the hardware domain sees the host's devices and interrupts as they are; Xen panics")
                    .help(format!("remove {what}")),
            );
        }
        if guest.property(&binding::DIRECT_MAP).is_none() {
            diags.push(
                Diagnostic::at(&c::CAPABILITIES, caps_span(guest), format!("the hardware domain `{}` is not direct-mapped", guest.name))
                    .severity(Severity::Warning)
                    .note("Xen needs the hardware domain direct-mapped unless an IOMMU translates its DMA")
                    .help("add `direct-map` with `static-mem`, unless the host has an IOMMU"),
            );
        }
    }
}

fn nr_spis(guest: &Guest, diags: &mut Diagnostics) {
    let (Some(spis), Some(_)) = (
        guest.property(&binding::NR_SPIS),
        guest.property(&binding::VPL011),
    ) else {
        return;
    };
    if spis.value == PropertyValue::U32(0) {
        diags.push(
            Diagnostic::at(&c::NR_SPIS_VPL011, spis.span, format!("`{}` has `nr_spis=0` and `vpl011`", guest.name))
                .note("the emulated UART needs SPI 0 (vIRQ 32); Xen raises the count only when `nr_spis` is absent, and panics")
                .help("remove `nr_spis`, or set it to at least 1"),
        );
    }
}

fn grant_version(cx: &SectionView, guest: &Guest, diags: &mut Diagnostics) {
    let Some(p) = guest.property(&binding::MAX_GRANT_VERSION) else {
        return;
    };
    if p.value != PropertyValue::U32(2) {
        return;
    }
    let options = cx.section.options.as_ref().map_or("", |o| o.value.as_str());
    let allows_v2 = options.split_ascii_whitespace().any(|w| {
        w.strip_prefix("gnttab=")
            .is_some_and(|v| v.split(',').any(|o| o == "max-ver:2"))
    });
    if !allows_v2 {
        diags.push(
            Diagnostic::at(&c::GRANT_VERSION, p.span, format!("`{}` asks for grant table version 2", guest.name))
                .note("Xen on Arm allows version 1 unless its command line says `gnttab=max-ver:2`; domain creation fails and Xen panics")
                .help("add `gnttab=max-ver:2` to `options=`, or use `max_grant_version=1`"),
        );
    }
}

fn sve(cx: &SectionView, guest: &Guest, diags: &mut Diagnostics) {
    let Some(p) = guest.property(&binding::SVE) else {
        return;
    };
    if p.value == PropertyValue::U32(0) {
        return;
    }
    let zimage = guest
        .kernel
        .as_ref()
        .and_then(|k| cx.facts.get(&k.source))
        .is_some_and(|f| f.format == ImageFormat::ZImage);
    if zimage {
        diags.push(
            Diagnostic::at(
                &c::SVE_32BIT,
                p.span,
                format!("`{}` has `sve` but a 32-bit kernel", guest.name),
            )
            .note("SVE exists only for AArch64 guests; Xen panics at boot")
            .help("remove `sve`, or boot an arm64 Image"),
        );
    }
}

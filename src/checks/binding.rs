//! Rules that come from the binding table: each property a guest was given
//! is held against its entry (the release that reads it, the build option
//! it needs, the range of a number, the choices of a string and the
//! releases and build options those choices need), and each structure key
//! against the release and build option it needs. Lowering keeps a
//! property only when [`binding::rules::refusal`] finds nothing; this check
//! says why the others were refused.

use crate::binding::rules::{Refusal, refusal, structure_refusal};
use crate::binding::{self, ESPI_NR_SPIS_MAX, ESPI_NR_SPIS_MIN, NR_SPIS_MAX};
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::structures::RefusedKey;
use crate::model::{RefusedProperty, System};
use crate::target::{Built, Target, XenVersion};
use std::collections::HashSet;

/// Report every refused property of every guest.
pub fn check(system: &System, target: &Target, diags: &mut Diagnostics) {
    // A guest section named by several boot sections is one text: each
    // refusal is reported once, at its text.
    let mut reported: HashSet<Span> = HashSet::new();
    for guest in system.sections.iter().flat_map(|s| &s.guests) {
        for property in &guest.refused {
            if !reported.insert(property.name_span) {
                continue;
            }
            if let Some(why) = refusal(property.spec, property.value.as_ref(), target) {
                report(property, &why, target, diags);
            }
        }
        for key in &guest.structures.refused {
            if !reported.insert(key.span) {
                continue;
            }
            if let Some(why) = structure_refusal(key.spec, target) {
                report_key(key, &why, target, diags);
            }
        }
    }
    // dom0's side of shared memory, given in the boot section.
    for key in system
        .sections
        .iter()
        .flat_map(|s| &s.dom0_structures.refused)
    {
        if let Some(why) = structure_refusal(key.spec, target) {
            report_key(key, &why, target, diags);
        }
    }
}

/// A structure key the target does not take.
fn report_key(key: &RefusedKey, refusal: &Refusal, target: &Target, diags: &mut Diagnostics) {
    let name = key.key.as_str();
    match *refusal {
        Refusal::NeedsBuild { symbol } => {
            super::target::require(target, name, symbol, key.span, diags);
        }
        _ => diags.push(
            Diagnostic::at(
                &c::UNKNOWN_PROPERTY,
                key.span,
                format!(
                    "`{name}` is read by Xen {} and later; the target is Xen {}",
                    key.spec.since, target.version
                ),
            )
            .note(format!("Xen {} does not read it", target.version))
            .help(format!(
                "remove it, or target a newer Xen with `--xen-version {}`",
                key.spec.since
            )),
        ),
    }
}

fn report(p: &RefusedProperty, refusal: &Refusal, target: &Target, diags: &mut Diagnostics) {
    let name = p.key.as_str();
    let span = p.value_span;
    let d = match *refusal {
        Refusal::NotRead => not_read(p, target),
        Refusal::NeedsBuild { symbol } => {
            super::target::require(target, name, symbol, p.name_span, diags);
            return;
        }
        Refusal::OutOfRange { n, min, max } => {
            let cpus = *p.spec == binding::CPUS;
            let check = if cpus { &c::BAD_CPUS } else { &c::BAD_NUMBER };
            let mut d = Diagnostic::at(
                check,
                span,
                format!("`{name}` must be between {min} and {max}, not {n}"),
            );
            if cpus {
                d = d.note("Xen panics at boot: \"Error creating domain\" (arm64 allows at most 128 vCPUs per domain)");
            }
            d.help(format!("use a value from {min} to {max}"))
        }
        Refusal::TooManySpis { n } => too_many_spis(n, name, p, target),
        Refusal::NoMemory => Diagnostic::at(&c::BAD_MEMORY, span, "`memory` is 0")
            .note("Xen cannot create a domain without memory")
            .help("give the guest memory, e.g. `memory=256M` (a bare number is KiB)"),
        Refusal::MemoryNotPages { kib } => Diagnostic::at(
            &c::BAD_MEMORY,
            span,
            format!("`memory` is {kib} KiB, which is not a multiple of 4 KiB"),
        )
        .note("Xen allocates guest memory in 4 KiB pages: boot stalls after \"Loading ramdisk from boot module\" and no guest starts")
        .help(match kib.checked_next_multiple_of(4) {
            Some(up) => format!("use {up} KiB (a bare number is KiB; units K, M, G are accepted)"),
            None => format!(
                "use {} KiB (a bare number is KiB; units K, M, G are accepted)",
                kib - kib % 4
            ),
        }),
        Refusal::EmptyP2mPool => Diagnostic::at(
            &c::BAD_NUMBER,
            span,
            format!("`{name}=0` leaves Xen an empty P2M pool for the guest"),
        )
        .note("Xen panics at boot: mapping the guest's memory needs P2M pages and the pool has none (\"Could not set up domain\")")
        .help(format!("leave `{name}` out for Xen's default pool, or give it at least a few MiB")),
        Refusal::NoChoice => {
            let expected = choices(p)
                .map(|v| format!("`{name}={v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            Diagnostic::at(&c::BAD_STRING, span, format!("`{name}` needs a value"))
                .help(format!("write one of {expected}"))
        }
        Refusal::NotAChoice => {
            let expected = choices(p)
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            Diagnostic::at(
                &c::BAD_STRING,
                span,
                format!("`{name}` cannot be `{}`", text(p)),
            )
            .help(format!("use one of {expected}"))
        }
        Refusal::ChoiceTooNew { since } => Diagnostic::at(
            &c::VALUE_TOO_NEW,
            span,
            format!(
                "`{name}={}` is read by Xen {since} and later; the target is Xen {}",
                text(p),
                target.version
            ),
        )
        .note(format!(
            "Xen {} treats an unknown value like no `{}` at all",
            target.version, p.spec.dt_name
        ))
        .help(format!(
            "use a value Xen {} knows, or target `--xen-version {since}`",
            target.version
        )),
        Refusal::ChoiceNeedsBuild { symbol } => {
            let what = format!("{name}={}", text(p));
            super::target::require(target, &what, symbol, span, diags);
            return;
        }
    };
    diags.push(d);
}

/// The accepted values of a string property.
fn choices(p: &RefusedProperty) -> impl Iterator<Item = &'static str> {
    let allowed = match p.spec.kind {
        binding::ValueKind::Str { allowed } => allowed,
        _ => &[],
    };
    allowed.iter().map(|a| a.value)
}

/// A refused string value as read.
fn text(p: &RefusedProperty) -> &str {
    match &p.value {
        Some(binding::value::PropertyValue::Str(s)) => s,
        _ => "",
    }
}

/// `nr_spis` above 960: only extended SPIs (Xen 4.22 with
/// CONFIG_GICV3_ESPI), whose rounded value + 32 must lie in 4096..=5120
/// (vgic.c:domain_vgic_init); anything else fails domain creation.
fn too_many_spis(n: u32, name: &str, p: &RefusedProperty, target: &Target) -> Diagnostic {
    let espi = target.version >= XenVersion::new(4, 22);
    let built = target.builds("CONFIG_GICV3_ESPI");
    let limit = NR_SPIS_MAX;
    let d = Diagnostic::at(
        &c::BAD_NUMBER,
        p.value_span,
        format!(
            "`{name}={n}` is more SPIs than Xen {} gives a guest",
            target.version
        ),
    )
    .note("Xen panics at boot: domain_vgic_init refuses it and the domain is not created");
    if !espi {
        d.note(format!(
            "Xen {} allows at most {limit} (988 after rounding up to 32)",
            target.version
        ))
        .help(format!("use at most `{name}={limit}`"))
    } else if built == Built::No {
        d.note(format!("without CONFIG_GICV3_ESPI at most {limit}"))
            .help(format!(
                "use at most `{name}={limit}`, or boot a Xen built with CONFIG_GICV3_ESPI=y"
            ))
    } else {
        d.note(format!(
            "above {limit} only extended SPIs: {ESPI_NR_SPIS_MIN} to {ESPI_NR_SPIS_MAX} (the rounded value plus 32 must be an eSPI INTID, 4096 to 5120)"
        ))
        .help(format!(
            "use at most {limit}, or from {ESPI_NR_SPIS_MIN} to {ESPI_NR_SPIS_MAX}"
        ))
    }
}

/// A property the target's release does not read.
fn not_read(p: &RefusedProperty, target: &Target) -> Diagnostic {
    let spec = p.spec;
    let since = match spec.backport {
        Some(b) => format!(
            "Xen {} and later (and {line}.{patch} and later on the {line} line)",
            spec.since,
            line = b.line,
            patch = b.patch
        ),
        None => format!("Xen {} and later", spec.since),
    };
    let d = Diagnostic::at(
        &c::UNKNOWN_PROPERTY,
        p.name_span,
        format!(
            "`{}` is read by {since}; the target is Xen {}",
            spec.dt_name,
            target.release_name()
        ),
    )
    .note(format!("Xen {} ignores it", target.release_name()));
    match spec.backport {
        Some(b) if b.line == target.version && target.patch.is_none() => d.help(format!(
            "if you boot {line}.{patch} or later, say so: `--xen-version {line}.{patch}` (or give `--xen`)",
            line = b.line,
            patch = b.patch
        )),
        _ => d.help(format!(
            "remove it, or target a newer Xen with `--xen-version {}`",
            spec.since
        )),
    }
}

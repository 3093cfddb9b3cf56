//! What each entry of the table accepts: the releases and build options a
//! property needs, and once its value is read, the range of a number, the
//! choices of a string and the releases and build options those choices
//! need. Lowering asks [`refusal`] whether to keep a property;
//! `checks::binding` asks again and reports why not.

use super::{
    ESPI_NR_SPIS_MAX, ESPI_NR_SPIS_MIN, NR_SPIS, NR_SPIS_MAX, PropertySpec, StructureSpec,
    ValueKind,
};
use crate::binding::value::PropertyValue;
use crate::target::{Built, Target, XenVersion};

/// Why the target does not take a property, or the value that was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The target's release does not read the property (or only a patch
    /// level xencfg does not know would tell).
    NotRead,
    /// The property needs a build option the target lacks.
    NeedsBuild { symbol: &'static str },
    /// A number outside the entry's range.
    OutOfRange { n: u32, min: u32, max: u32 },
    /// `nr_spis` above 960 that is not an extended-SPI count the target
    /// gives (vgic.c:domain_vgic_init).
    TooManySpis { n: u32 },
    /// `memory` of 0.
    NoMemory,
    /// `memory` that is not whole 4 KiB pages.
    MemoryNotPages { kib: u64 },
    /// A P2M pool of 0 MiB.
    EmptyP2mPool,
    /// No value for a string with choices.
    NoChoice,
    /// A string that is none of the choices.
    NotAChoice,
    /// A choice newer than the target.
    ChoiceTooNew { since: XenVersion },
    /// A choice that needs a build option the target lacks.
    ChoiceNeedsBuild { symbol: &'static str },
}

/// Why `target` does not take `spec` with `value` (`None`: not read),
/// if it does not: the property first, then its value.
pub fn refusal(
    spec: &PropertySpec,
    value: Option<&PropertyValue>,
    target: &Target,
) -> Option<Refusal> {
    property_refusal(spec, target).or_else(|| value_refusal(spec, value?, target))
}

/// Why `target` does not read `spec` whatever its value, if it does not.
pub fn property_refusal(spec: &PropertySpec, target: &Target) -> Option<Refusal> {
    // Unknown (only the patch level would tell) counts as not read.
    if super::reads(spec, target) != Some(true) {
        return Some(Refusal::NotRead);
    }
    let symbol = spec.requires?;
    (target.builds(symbol) == Built::No).then_some(Refusal::NeedsBuild { symbol })
}

/// Why `target` does not read the structure key `spec`, if it does not.
pub fn structure_refusal(spec: &StructureSpec, target: &Target) -> Option<Refusal> {
    if spec.since > target.version {
        return Some(Refusal::NotRead);
    }
    let symbol = spec.requires?;
    (target.builds(symbol) == Built::No).then_some(Refusal::NeedsBuild { symbol })
}

/// Why `target` does not take `value` for `spec`, if it does not.
pub fn value_refusal(
    spec: &PropertySpec,
    value: &PropertyValue,
    target: &Target,
) -> Option<Refusal> {
    match (spec.kind, value) {
        (ValueKind::U32 { .. }, PropertyValue::U32(n)) if *spec == NR_SPIS && *n > NR_SPIS_MAX => {
            (!extended_spis(*n, target)).then_some(Refusal::TooManySpis { n: *n })
        }
        (ValueKind::U32 { min, max }, PropertyValue::U32(n)) => {
            (!(min..=max).contains(n)).then_some(Refusal::OutOfRange { n: *n, min, max })
        }
        (ValueKind::MemoryKib, PropertyValue::Memory(kib)) => match kib.0 {
            0 => Some(Refusal::NoMemory),
            kib if kib % 4 != 0 => Some(Refusal::MemoryNotPages { kib }),
            _ => None,
        },
        // Only the P2M pool is in MiB; Xen sets the pool to exactly this
        // and takes every P2M page of the guest from it.
        (ValueKind::Mib, PropertyValue::Mib(0)) => Some(Refusal::EmptyP2mPool),
        (ValueKind::Str { allowed }, PropertyValue::Str(s)) if !allowed.is_empty() => {
            if s.is_empty() {
                return Some(Refusal::NoChoice);
            }
            let Some(choice) = allowed.iter().find(|a| a.value == s) else {
                return Some(Refusal::NotAChoice);
            };
            if choice.since > target.version {
                return Some(Refusal::ChoiceTooNew {
                    since: choice.since,
                });
            }
            let symbol = choice.requires?;
            (target.builds(symbol) == Built::No).then_some(Refusal::ChoiceNeedsBuild { symbol })
        }
        _ => None,
    }
}

/// `nr_spis` above 960: only extended SPIs (Xen 4.22 with
/// CONFIG_GICV3_ESPI), whose rounded value + 32 must lie in 4096..=5120.
fn extended_spis(n: u32, target: &Target) -> bool {
    target.version >= XenVersion::new(4, 22)
        && target.builds("CONFIG_GICV3_ESPI") != Built::No
        && (ESPI_NR_SPIS_MIN..=ESPI_NR_SPIS_MAX).contains(&n)
}

//! Checks against the target Xen build (XC09xx): a property or structure
//! whose build option the target lacks, and the list of build options a
//! configuration relies on (recorded in the manifest).

use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::target::kconfig;
use crate::target::{Built, Target};

/// Whether `what` (a property or key, as written) may be used on `target`,
/// given that it needs `symbol`. Reports XC0901 and returns false when the
/// target is known not to have it; without `--xen-config` nothing is judged.
pub fn require(
    target: &Target,
    what: &str,
    symbol: &str,
    span: Span,
    diags: &mut Diagnostics,
) -> bool {
    if target.builds(symbol) != Built::No {
        return true;
    }
    let option = kconfig::option(symbol);
    let known_for_efi = option.is_some_and(|o| o.efi_builds.is_some());
    let mut d = Diagnostic::at(
        &c::BUILD_OPTION_MISSING,
        span,
        format!("`{what}` needs Xen built with {symbol}"),
    );
    d = match (&target.config, known_for_efi) {
        (_, true) => d.note(format!(
            "every Xen that boots from EFI is built without {symbol}, so Xen {} never reads `{what}`",
            target.version
        )),
        (Some(config), false) => d.note(format!(
            "{} does not set it: Xen ignores `{what}` or panics on it",
            config.describe()
        )),
        (None, false) => d.note(format!("Xen {} does not have it", target.version)),
    };
    if let Some(o) = option {
        d = d.note(format!("{symbol}: {}", o.what));
    }
    diags.push(d.help(if known_for_efi {
        format!("remove `{what}`")
    } else {
        format!("remove `{what}`, or boot a Xen built with {symbol}=y")
    }));
    false
}

/// Guests need CONFIG_DOM0LESS_BOOT (4.19+, on by default): without it
/// the EFI loader treats their nodes as anything else under /chosen and
/// Xen never creates them, silently.
pub fn dom0less_boot(view: &crate::analyze::SectionView, diags: &mut Diagnostics) {
    let (section, target) = (view.section, view.target);
    const SYMBOL: &str = "CONFIG_DOM0LESS_BOOT";
    if target.builds(SYMBOL) != Built::No {
        return;
    }
    let Some(first) = section.guests.first() else {
        return;
    };
    let names: Vec<String> = section
        .guests
        .iter()
        .map(|g| format!("`{}`", g.name))
        .collect();
    let mut d = Diagnostic::at(
        &c::BUILD_OPTION_MISSING,
        first.name_span,
        format!("dom0less guests need Xen built with {SYMBOL}"),
    );
    if let Some(config) = &target.config {
        d = d.note(format!("{} does not set it", config.describe()));
    }
    diags.push(
        d.note(format!(
            "Xen {} creates none of the guests of `[{}]` ({}), silently",
            target.version,
            section.name,
            names.join(", ")
        ))
        .help(format!("boot a Xen built with {SYMBOL}=y (its default)")),
    );
}

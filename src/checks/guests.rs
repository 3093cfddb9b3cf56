//! Checks on guests as Xen names and builds them (XC0306, XC06xx).

use crate::binding;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::model::{BootSection, Guest};
use std::collections::HashMap;

/// Xen keeps 40 characters of a domain name (DT_MAX_NAME 41, reference §4).
pub const MAX_GUEST_NAME: usize = 40;
/// Module command lines live in 1024-byte buffers (BOOTMOD_MAX_CMDLINE).
pub const MAX_BOOTARGS: usize = 1023;

/// The guests' names and command lines within one boot section.
pub fn check(view: &crate::analyze::SectionView, diags: &mut Diagnostics) {
    check_section(view.section, diags);
}

fn check_section(section: &BootSection, diags: &mut Diagnostics) {
    let mut first_named: HashMap<&str, &Guest> = HashMap::new();
    for guest in &section.guests {
        check_name(guest, diags);
        if let Some(first) = first_named.get(guest.name.as_str()) {
            diags.push(
                Diagnostic::at(
                    &c::GUEST_NAME_DUP,
                    guest.name_span,
                    format!("two guests are named `{}`", guest.name),
                )
                .related(Location::Text(first.name_span), "the first one")
                .help("rename one of them"),
            );
        } else {
            first_named.insert(&guest.name, guest);
        }
        check_required(guest, diags);
        if let Some(k) = &guest.kernel {
            check_bootargs(k.bootargs.as_deref(), k.span, diags);
        }
    }
    if let Some(k) = &section.dom0_kernel {
        check_bootargs(k.bootargs.as_deref(), k.span, diags);
    }
}

fn check_bootargs(args: Option<&str>, span: crate::diag::Span, diags: &mut Diagnostics) {
    if let Some(args) = args.filter(|a| a.len() > MAX_BOOTARGS) {
        diags.push(
            Diagnostic::at(&c::BOOTARGS_TOO_LONG, span, format!("the kernel command line is {} bytes long", args.len()))
                .note("Xen keeps at most 1023 bytes: 1024 is silently truncated; longer stops Xen before its console is up (its \"command line too long\" is never shown)")
                .help("shorten it to 1023 bytes or less"),
        );
    }
}

fn check_required(guest: &Guest, diags: &mut Diagnostics) {
    for (spec, example) in [
        (&binding::CPUS, "cpus=1"),
        (&binding::MEMORY, "memory=256M"),
    ] {
        let name = spec.dt_name;
        if guest.property(spec).is_none() && !guest.rejected.iter().any(|r| r == name) {
            diags.push(
                Diagnostic::at(
                    &c::MISSING_REQUIRED,
                    guest.name_span,
                    format!("guest `{}` has no `{name}`", guest.name),
                )
                .note(format!(
                    "Xen panics at boot: the domain node needs `{name}`"
                ))
                .help(format!("add `{example}`")),
            );
        }
    }
}

fn check_name(guest: &Guest, diags: &mut Diagnostics) {
    let name = guest.name.as_str();
    let span = guest.name_span;
    if name.contains('@') {
        diags.push(
            Diagnostic::at(&c::GUEST_NAME_AT, span, format!("guest name `{name}` has a unit address"))
                .note("Xen stores the command line under `domU@1` but looks it up as `domU`: the guest loses its bootargs")
                .help(format!("rename it `{}`", name.replace('@', "-"))),
        );
        return;
    }
    let valid_char = |ch: char| ch.is_ascii_alphanumeric() || ",._+-".contains(ch);
    if name.is_empty()
        || !name.chars().all(valid_char)
        || !name.starts_with(|ch: char| ch.is_ascii_alphabetic())
    {
        diags.push(
            Diagnostic::at(
                &c::GUEST_NAME_INVALID,
                span,
                format!("`{name}` is not a valid device tree node name"),
            )
            .help("start with a letter and use only letters, digits and `,._+-`"),
        );
    }
    if name.len() > MAX_GUEST_NAME {
        diags.push(
            Diagnostic::at(&c::GUEST_NAME_LONG, span, format!("guest name `{name}` is {} characters long", name.len()))
                .note("Xen keeps 40 characters of a domain name; the guest would lose its kernel command line")
                .help("use at most 40 characters"),
        );
    }
    if matches!(name, "chosen" | "kernel" | "ramdisk" | "xsm") {
        diags.push(
            Diagnostic::at(
                &c::GUEST_NAME_RESERVED,
                span,
                format!("a guest cannot be named `{name}`"),
            )
            .help("choose another name, e.g. `domU1`"),
        );
    }
}

//! Checks of Xen's own command line (`options=`) against the host device
//! tree and the target (XC0609–XC0613): the parts that decide whether Xen
//! has a console at all, and dom0's memory.
//!
//! Xen on Arm writes its console only to the UART named by `dtuart=`
//! (an alias of `/aliases` or a full node path), else by `/chosen`'s
//! `stdout-path` (drivers/char/arm-uart.c @4.16–4.19, uart-init.c @4.20+:
//! `dt_uart_init`). When that names nothing, or a node none of Xen's
//! serial drivers matches, Xen runs without a console: the boot log stops
//! after the EFI loader's lines and `vpl011` guests print nowhere.

use crate::diag::codes as c;
use crate::diag::sub_span;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::fdt::query::{self, string_value};
use crate::fdt::{Fdt, Node};
use crate::model::{BootSection, Spanned};
use crate::target::{Built, Target};

/// One serial driver of Xen on Arm: the compatibles of its `DT_MATCH`
/// table (xen/drivers/char/*.c), the releases (4.x minors) that match
/// each, and the Kconfig symbol that builds it.
struct SerialDriver {
    name: &'static str,
    symbol: &'static str,
    /// (compatible, first release, last release)
    matches: &'static [(&'static str, u8, u8)],
}

const ANY: (u8, u8) = (16, u8::MAX);

static DRIVERS: &[SerialDriver] = &[
    SerialDriver {
        name: "PL011",
        symbol: "CONFIG_HAS_PL011",
        matches: &[("arm,pl011", ANY.0, ANY.1), ("arm,sbsa-uart", 18, ANY.1)],
    },
    SerialDriver {
        name: "NS16550",
        symbol: "CONFIG_HAS_NS16550",
        matches: &[
            ("ns16550", ANY.0, ANY.1),
            ("ns16550a", ANY.0, ANY.1),
            ("snps,dw-apb-uart", ANY.0, ANY.1),
            ("brcm,bcm2835-aux-uart", ANY.0, ANY.1),
        ],
    },
    SerialDriver {
        name: "Cadence UART",
        symbol: "CONFIG_HAS_CADENCE_UART",
        matches: &[
            ("cdns,uart-r1p8", ANY.0, ANY.1),
            ("cdns,uart-r1p12", ANY.0, ANY.1),
        ],
    },
    SerialDriver {
        name: "Amlogic UART",
        symbol: "CONFIG_HAS_MESON",
        matches: &[
            ("amlogic,meson-uart", ANY.0, ANY.1),
            ("amlogic,meson6-uart", ANY.0, ANY.1),
            ("amlogic,meson8-uart", ANY.0, ANY.1),
            ("amlogic,meson8b-uart", ANY.0, ANY.1),
            ("amlogic,meson-gx-uart", ANY.0, ANY.1),
        ],
    },
    SerialDriver {
        name: "Marvell Armada-3700 UART",
        symbol: "CONFIG_HAS_MVEBU",
        matches: &[("marvell,armada-3700-uart", ANY.0, ANY.1)],
    },
    SerialDriver {
        name: "OMAP UART",
        symbol: "CONFIG_HAS_OMAP",
        matches: &[
            ("ti,omap4-uart", ANY.0, ANY.1),
            ("ti,am654-uart", 19, ANY.1),
        ],
    },
    SerialDriver {
        name: "SCIF UART",
        symbol: "CONFIG_HAS_SCIF",
        matches: &[
            ("renesas,scif", ANY.0, ANY.1),
            ("renesas,scifa", ANY.0, ANY.1),
            ("renesas,hscif", 17, ANY.1),
        ],
    },
    SerialDriver {
        name: "i.MX LPUART",
        symbol: "CONFIG_HAS_IMX_LPUART",
        matches: &[
            ("fsl,imx8qm-lpuart", 17, 18),
            ("fsl,imx8qxp-lpuart", 19, ANY.1),
        ],
    },
    SerialDriver {
        name: "NXP LINFlexD UART",
        symbol: "CONFIG_HAS_LINFLEX",
        matches: &[
            ("nxp,s32g2-linflexuart", 20, ANY.1),
            ("nxp,s32g3-linflexuart", 20, ANY.1),
            ("fsl,s32v234-linflexuart", 20, ANY.1),
        ],
    },
    // Exynos 4210 (HAS_EXYNOS4210) depends on ARM_32: no arm64 Xen has it.
];

/// The driver of the target that matches `node`, or why none does.
fn serial_driver(node: &Node, target: &Target) -> Result<&'static str, String> {
    let compatibles = node.property_strings("compatible");
    let v = target.version.minor;
    let mut unbuilt = None;
    for driver in DRIVERS {
        let matched = driver.matches.iter().any(|(compat, from, to)| {
            (*from..=*to).contains(&v) && compatibles.iter().any(|c| c.eq_ignore_ascii_case(compat))
        });
        if !matched {
            continue;
        }
        // A configuration for another architecture is XC0904's business.
        if target.builds(driver.symbol) == Built::No && target.builds("CONFIG_ARM_64") == Built::Yes
        {
            unbuilt = Some(driver);
            continue;
        }
        return Ok(driver.name);
    }
    Err(match unbuilt {
        Some(d) => format!(
            "its {} driver is not built into this Xen ({} is not set)",
            d.name, d.symbol
        ),
        None if compatibles.is_empty() => "it has no `compatible`".to_string(),
        None => format!(
            "no serial driver of Xen {} matches its compatible \"{}\"",
            target.version,
            compatibles.join("\", \"")
        ),
    })
}

/// One `key=value` (or bare `key`) word of the command line.
struct Word<'a> {
    key: &'a str,
    value: Option<&'a str>,
    span: Span,
}

/// The words Xen's parse_params sees: blank-separated, a later word for
/// the same key overriding an earlier one.
fn words(options: &Spanned<String>) -> Vec<Word<'_>> {
    let text = options.value.as_str();
    let mut out = Vec::new();
    let mut at = 0;
    for word in text.split(' ') {
        let start = at;
        at += word.len() + 1;
        if word.is_empty() {
            continue;
        }
        let (key, value) = match word.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (word, None),
        };
        out.push(Word {
            key,
            value,
            span: sub_span(options.span, text, start, word.len()),
        });
    }
    out
}

fn last<'w, 'a>(words: &'w [Word<'a>], key: &str) -> Option<&'w Word<'a>> {
    words.iter().rev().find(|w| w.key == key)
}

/// The boot-critical parts of `options=`, against the host and target.
pub fn check(view: &crate::analyze::SectionView, diags: &mut Diagnostics) {
    check_section(view.section, view.host_tree, view.target, diags);
}

fn check_section(
    section: &BootSection,
    host_tree: Option<&Fdt>,
    target: &Target,
    diags: &mut Diagnostics,
) {
    let Some(options) = &section.options else {
        return;
    };
    let words = words(options);
    let console = last(&words, "console");
    let has_dtuart = check_console(console, target, diags);
    if let (true, Some(tree)) = (has_dtuart, host_tree) {
        check_dtuart(&words, options.span, tree, target, diags);
    }
    if let (true, Some(word)) = (section.dom0_kernel.is_some(), last(&words, "dom0_mem")) {
        check_dom0_mem(word, diags);
    }
}

/// `console=`: Xen's default on Arm is `dtuart`. Returns whether the
/// device-tree UART is among the consoles (console_has("dtuart")).
fn check_console(console: Option<&Word>, target: &Target, diags: &mut Diagnostics) -> bool {
    let Some(word) = console else {
        return true;
    };
    // A bare `console` is `console=` (parse_params: the value defaults to
    // the empty string), and an empty list has no `dtuart`.
    let value = word.value.unwrap_or("");
    let mut dtuart = false;
    for item in value
        .split(',')
        .filter(|i| !i.is_empty() || value.is_empty())
    {
        // console.c:console_init_preirq and serial.c:serial_parse_handle.
        let exact = |name: &str| item == name;
        let known = item.starts_with("vga")
            || item.starts_with("pv")
            || item.starts_with("none")
            || item.starts_with("com1")
            || item.starts_with("com2")
            || exact("dbgp")
            || exact("ehci")
            || exact("xhci")
            || item.starts_with("dtuart");
        dtuart |= item.starts_with("dtuart");
        if !known && !item.is_empty() {
            diags.push(
                Diagnostic::at(
                    &c::CONSOLE_BAD_OPTION,
                    word.span,
                    format!("`{item}` is not a console Xen knows"),
                )
                .note(format!(
                    "Xen {} prints \"Bad console= option '{item}'\" and ignores it",
                    target.version
                ))
                .help("Xen on Arm writes its console to the device-tree UART: `console=dtuart`"),
            );
        }
    }
    if !dtuart {
        diags.push(
            Diagnostic::at(
                &c::CONSOLE_WITHOUT_DTUART,
                word.span,
                match word.value {
                    Some(_) => format!("`console={value}` leaves Xen on Arm without a serial console"),
                    None => "a bare `console` is `console=` for Xen: it leaves Xen on Arm without a serial console".to_string(),
                },
            )
            .note("on Arm only `dtuart` reaches a UART (com1/com2, vga and pv have no device there): Xen's messages, its panics and every vpl011 guest's output go nowhere")
            .help("write `console=dtuart` (Xen's default on Arm)"),
        );
    }
    dtuart
}

/// `dtuart=` (else `/chosen/stdout-path`) must name a node of the host
/// tree that a serial driver of this Xen drives.
fn check_dtuart(
    words: &[Word],
    options_span: Span,
    tree: &Fdt,
    target: &Target,
    diags: &mut Diagnostics,
) {
    let given =
        last(words, "dtuart").and_then(|w| w.value.filter(|v| !v.is_empty()).map(|v| (v, w.span)));
    let chosen = tree.node("/chosen");
    let stdout = chosen.and_then(|c| string_value(c, "stdout-path"));
    let (spec, span, from) = match (&given, &stdout) {
        (Some((v, span)), _) => (v.to_string(), *span, "`dtuart=`".to_string()),
        (None, Some(s)) => (s.clone(), options_span, "/chosen/stdout-path".to_string()),
        (None, None) => {
            let mut d = Diagnostic::at(
                &c::DTUART_NOT_FOUND,
                options_span,
                "Xen is given no UART: no `dtuart=` and the host DTB's /chosen has no `stdout-path`",
            )
            .note("Xen prints \"No dtuart path configured\" and runs without a console: nothing is seen after the EFI loader");
            d = d.help(match uart_suggestion(tree, target) {
                Some(path) => format!("add `dtuart={path}` to `options=`"),
                None => "add `dtuart=<path of the UART node>` to `options=`".to_string(),
            });
            diags.push(d);
            return;
        }
    };
    let device = spec.split(':').next().unwrap_or("");
    let found = if device.starts_with('/') {
        query::find(tree, device, true)
            .filter(|a| a.path.eq_ignore_ascii_case(device))
            .map(|a| (a.path.clone(), a.node()))
    } else {
        alias_target(tree, device)
    };
    let Some((path, node)) = found else {
        let what = if device.starts_with('/') {
            format!("the host DTB has no node `{device}`")
        } else {
            let aliases = tree.node("/aliases").map(|a| {
                a.properties
                    .iter()
                    .map(|p| p.name.as_str())
                    .filter(|n| !matches!(*n, "name" | "phandle" | "linux,phandle"))
                    .collect::<Vec<_>>()
            });
            match aliases {
                None => format!("`{device}` is not an alias: the host DTB has no /aliases"),
                Some(names) if names.is_empty() => {
                    format!("`{device}` is not an alias: the host DTB's /aliases is empty")
                }
                Some(names) => format!(
                    "`{device}` is not an alias of the host DTB (it has {})",
                    names.join(", ")
                ),
            }
        };
        let mut d = Diagnostic::at(
            &c::DTUART_NOT_FOUND,
            span,
            format!("{from} names `{device}`, which Xen cannot find"),
        )
        .note(what)
        .note(format!(
            "Xen {} prints \"Unable to find device\" and runs without a console: nothing is seen after the EFI loader",
            target.version
        ));
        d = d.help(match uart_suggestion(tree, target) {
            Some(p) => format!("name the UART by its path: `dtuart={p}`"),
            None => "name the UART by its full node path, e.g. `dtuart=/soc/serial@fe001000`"
                .to_string(),
        });
        diags.push(d);
        return;
    };
    let problem = if !available(node) {
        Err("it is disabled (`status` is not \"okay\")".to_string())
    } else if node.property("xen,passthrough").is_some() {
        Err("it is marked `xen,passthrough`, so Xen leaves it to a guest".to_string())
    } else {
        serial_driver(node, target)
    };
    if let Err(why) = problem {
        let mut d = Diagnostic::at(
            &c::DTUART_NOT_A_UART,
            span,
            format!("{from} names `{path}`, which Xen cannot use as its console"),
        )
        .note(why)
        .note("Xen prints \"Unable to initialize dtuart\" and runs without a console: nothing is seen after the EFI loader");
        d = d.help(match uart_suggestion(tree, target).filter(|p| *p != path) {
            Some(p) => format!("name a UART Xen drives: `dtuart={p}`"),
            None => "name a UART that this Xen has a driver for".to_string(),
        });
        diags.push(d);
    }
}

/// dt_alias_scan: an `/aliases` property whose value is the path of an
/// existing node; looked up by its exact name.
fn alias_target<'a>(tree: &'a Fdt, alias: &str) -> Option<(String, &'a Node)> {
    let aliases = tree.node("/aliases")?;
    if matches!(alias, "name" | "phandle" | "linux,phandle") {
        return None;
    }
    let path = string_value(aliases, alias)?;
    let a = query::find(tree, &path, true).filter(|a| a.path.eq_ignore_ascii_case(&path))?;
    Some((a.path.clone(), a.node()))
}

/// dt_device_is_available: no `status`, or "okay" / "ok".
fn available(node: &Node) -> bool {
    match node.property("status") {
        None => true,
        Some(p) => {
            let s = p.value.split(|&b| b == 0).next().unwrap_or(&[]);
            s == b"okay" || s == b"ok"
        }
    }
}

/// A UART to suggest: the one `stdout-path` names if Xen can drive it,
/// else the first enabled node in DT order that a driver matches.
fn uart_suggestion(tree: &Fdt, target: &Target) -> Option<String> {
    let usable = |node: &Node| {
        available(node)
            && node.property("xen,passthrough").is_none()
            && serial_driver(node, target).is_ok()
    };
    if let Some(stdout) = tree
        .node("/chosen")
        .and_then(|c| string_value(c, "stdout-path"))
    {
        let device = stdout.split(':').next().unwrap_or("");
        let found = if device.starts_with('/') {
            query::find(tree, device, true).map(|a| (a.path.clone(), a.node()))
        } else {
            alias_target(tree, device)
        };
        if let Some((path, _)) = found.filter(|(_, node)| usable(node)) {
            return Some(path);
        }
    }
    query::walk(tree)
        .into_iter()
        .find(|(_, node)| usable(node))
        .map(|(path, _)| path)
}

/// `dom0_mem=` on Arm is one size (domain_build.c:parse_dom0_mem →
/// parse_size_and_unit): a C number (`0x` hex, leading `0` octal) and an
/// optional unit T/G/M/K/B (none: KiB). x86's `min:`/`max:`/lists are not
/// Arm's: Xen says the value is invalid and keeps only the leading size.
fn check_dom0_mem(word: &Word, diags: &mut Diagnostics) {
    let value = word.value.unwrap_or("");
    let (size, rest) = parse_size_and_unit(value);
    let problem = if size == 0 {
        Some("Xen reads it as 0 and gives dom0 512 MiB instead (\"PLEASE SPECIFY dom0_mem PARAMETER - USING 512M FOR NOW\")".to_string())
    } else if !rest.is_empty() {
        Some(format!(
            "Xen on Arm takes one size: it keeps {} and reports `{rest}` as an invalid value",
            crate::progress::approx(size)
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        diags.push(
            Diagnostic::at(
                &c::BAD_DOM0_MEM,
                word.span,
                format!("`dom0_mem={value}` is not a size Xen on Arm reads"),
            )
            .note(problem)
            .help("give dom0's memory as one size: `dom0_mem=1G` (x86's `min:`/`max:` forms do not exist on Arm)"),
        );
    }
}

/// lib.c:parse_size_and_unit: the size in bytes and what follows it.
pub fn parse_size_and_unit(text: &str) -> (u64, &str) {
    let (digits, radix) = if let Some(hex) = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .filter(|h| h.starts_with(|c: char| c.is_ascii_hexdigit()))
    {
        (hex, 16)
    } else if text.starts_with('0') {
        (text, 8)
    } else {
        (text, 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    // simple_strtoull wraps on overflow; a saturated value is as wrong.
    let number =
        u64::from_str_radix(&digits[..end], radix).unwrap_or(if end == 0 { 0 } else { u64::MAX });
    let rest = &digits[end..];
    let (shift, rest) = match rest.chars().next() {
        Some('T' | 't') => (40, &rest[1..]),
        Some('G' | 'g') => (30, &rest[1..]),
        Some('M' | 'm') => (20, &rest[1..]),
        Some('K' | 'k') => (10, &rest[1..]),
        Some('B' | 'b') => (0, &rest[1..]),
        _ => (10, rest),
    };
    (
        number
            .checked_shl(shift)
            .filter(|n| n >> shift == number)
            .unwrap_or(u64::MAX),
        rest,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_xen_on_arm_reads_them() {
        assert_eq!(parse_size_and_unit("512M"), (512 << 20, ""));
        assert_eq!(parse_size_and_unit("1g"), (1 << 30, ""));
        assert_eq!(parse_size_and_unit("1024"), (1 << 20, ""));
        assert_eq!(parse_size_and_unit("0x100M"), (256 << 20, ""));
        assert_eq!(parse_size_and_unit("010M"), (8 << 20, ""));
        assert_eq!(parse_size_and_unit("1G,max:1G"), (1 << 30, ",max:1G"));
        // Xen takes the unit letter even after no digits.
        assert_eq!(parse_size_and_unit("max:1G"), (0, "ax:1G"));
        assert_eq!(parse_size_and_unit(""), (0, ""));
        assert_eq!(parse_size_and_unit("99999999999999999999T").0, u64::MAX);
    }
}

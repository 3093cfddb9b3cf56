//! Printing an [`Fdt`] as DTS source that dtc accepts.
//!
//! The text is what `dtc -I dtb -O dts` (dtc 1.6) prints for the same
//! blob, so a reviewer can diff our `--emit-dts` output against dtc's, and
//! compiling it with dtc gives back the blob byte for byte (which dtc's own
//! text does not always do; see below). Like dtc, each
//! value's form is guessed from its bytes:
//! - a string (list) when it ends in NUL, every byte is printable or one
//!   of `\a \b \t \n \v \f \r` or NUL, and NULs are at most half the bytes
//!   (the list is printed as one string with `\0` between the items);
//! - otherwise `<cells>` when the length is a multiple of 4;
//! - otherwise `[bytes]`.
//!
//! One deliberate difference: where dtc would print a NUL followed by an
//! octal digit as `\0` + digit (which it then reads back as one octal
//! escape, changing the value), the NUL is printed as `\x00`.
//!
//! An overlay whose `__local_fixups__` lists a cell that is no valid
//! phandle is marked `/plugin/;`, which dtc 1.8 needs to read the text
//! back (see `needs_plugin`).
//!
//! Limits, shared with dtc's own output:
//! - `boot_cpuid_phys` is a header field with no DTS syntax; compile with
//!   `dtc -b <id>` to keep it (dtc otherwise takes the `reg` of the first
//!   CPU node).
//! - Names are printed as they are; a name with characters outside DTS's
//!   name syntax (`[a-zA-Z0-9,._+*#?@-]`), or an empty property name, makes
//!   text dtc cannot compile. Such names do not occur in real trees.

use std::fmt::Write;

use super::{Fdt, Node};

/// The tree as DTS source, exactly as `dtc -I dtb -O dts` prints it.
pub fn to_dts(fdt: &Fdt) -> String {
    let mut out = String::from("/dts-v1/;\n");
    if needs_plugin(fdt) {
        out.push_str("/plugin/;\n");
    }
    out.push('\n');
    for r in &fdt.reservations {
        let _ = writeln!(out, "/memreserve/\t{:#018x} {:#018x};", r.address, r.size);
    }
    write_node(&mut out, &fdt.root, 0);
    out
}

/// Whether the text must say `/plugin/;` for dtc 1.8 to read it back.
///
/// dtc 1.8 turns a root `__local_fixups__` into phandle references
/// (livetree.c:local_fixup_phandles → add_phandle_marker), looking up the
/// node of each phandle cell it lists; outside plugin mode a cell that is
/// no valid phandle (0 or `0xffffffff`, as in dtc's own test tree
/// `retain-fixups`) fails the assertion `generate_fixups` in
/// get_node_by_phandle and dtc aborts. `/plugin/;` avoids that, but in
/// plugin mode dtc 1.8 also regenerates `__fixups__` entries from the
/// references it made, normalising entries such as `overlay_bad_fixup_*`'s
/// (`…:prop:bad`), so the blob would change: the line is printed only when
/// dtc would abort without it. (dtc 1.8's own decompiler prints it for
/// every blob with fixup nodes, and reads some of its own output back
/// changed.) dtc 1.6 reads `/plugin/;` too (since 1.4.5) and, with no
/// references in the text, keeps both nodes as they are.
fn needs_plugin(fdt: &Fdt) -> bool {
    fdt.root
        .child("__local_fixups__")
        .is_some_and(|lf| invalid_local_fixup(lf, &fdt.root, 0))
}

/// Whether `fixups` (a `__local_fixups__` node mirroring `node`) lists a
/// cell of `node`'s properties that is not a valid phandle, as dtc 1.8
/// walks it. Depth-bounded like the reader.
fn invalid_local_fixup(fixups: &Node, node: &Node, depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    let listed = fixups.properties.iter().any(|lfp| {
        let Some(p) = node.property(&lfp.name) else {
            return false;
        };
        let offsets = lfp.value.chunks_exact(4);
        offsets.remainder().is_empty()
            && offsets.clone().any(|offset| {
                let at = u32::from_be_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
                p.value
                    .get(at..at.saturating_add(4))
                    .filter(|cell| cell.len() == 4)
                    .is_some_and(|cell| cell == [0; 4] || cell == [0xff; 4])
            })
    });
    listed
        || fixups.children.iter().any(|sub| {
            node.child(&sub.name)
                .is_some_and(|child| invalid_local_fixup(sub, child, depth + 1))
        })
}

/// Print `node` at `depth` tabs. Recursion is bounded by the reader's
/// depth cap for parsed trees.
fn write_node(out: &mut String, node: &Node, depth: usize) {
    indent(out, depth);
    out.push_str(if node.name.is_empty() {
        "/"
    } else {
        &node.name
    });
    out.push_str(" {\n");
    for p in &node.properties {
        indent(out, depth + 1);
        out.push_str(&p.name);
        if !p.value.is_empty() {
            out.push_str(" = ");
            write_value(out, &p.value);
        }
        out.push_str(";\n");
    }
    for child in &node.children {
        out.push('\n');
        write_node(out, child, depth + 1);
    }
    indent(out, depth);
    out.push_str("};\n");
}

fn indent(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n('\t', depth));
}

/// C's `isprint` in the C locale: printable ASCII, space included.
fn is_print(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Control characters dtc accepts (and prints as escapes) inside strings.
fn escape(b: u8) -> Option<&'static str> {
    Some(match b {
        0x07 => "\\a",
        0x08 => "\\b",
        b'\t' => "\\t",
        b'\n' => "\\n",
        0x0b => "\\v",
        0x0c => "\\f",
        b'\r' => "\\r",
        b'\\' => "\\\\",
        b'"' => "\\\"",
        0 => "\\0",
        _ => return None,
    })
}

fn looks_like_string(value: &[u8]) -> bool {
    let nuls = value.iter().filter(|&&b| b == 0).count();
    value.last() == Some(&0)
        && value
            .iter()
            .all(|&b| is_print(b) || b == 0 || escape(b).is_some())
        && nuls <= value.len() - nuls
}

fn write_value(out: &mut String, value: &[u8]) {
    if looks_like_string(value) {
        out.push('"');
        // The final NUL is implied by the quotes.
        let body = value.get(..value.len() - 1).unwrap_or(&[]);
        for (i, &b) in body.iter().enumerate() {
            match escape(b) {
                // dtc prints `\0` here, but reads `\0` and up to two more
                // octal digits as one escape, so `"\01"` would come back
                // as byte 1; a hex escape takes at most two digits.
                Some(_) if b == 0 && matches!(body.get(i + 1), Some(b'0'..=b'7')) => {
                    out.push_str("\\x00")
                }
                Some(e) => out.push_str(e),
                None => out.push(char::from(b)),
            }
        }
        out.push('"');
    } else if value.len() % 4 == 0 {
        out.push('<');
        for (i, cell) in value.chunks_exact(4).enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let v = u32::from_be_bytes([cell[0], cell[1], cell[2], cell[3]]);
            let _ = write!(out, "{v:#04x}");
        }
        out.push('>');
    } else {
        out.push('[');
        for (i, b) in value.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{b:02x}");
        }
        out.push(']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::{Property, Reservation, value};

    fn tree(props: &[(&str, Vec<u8>)]) -> Fdt {
        let mut root = Node::new("");
        for (n, v) in props {
            root.properties.push(Property {
                name: n.to_string(),
                value: v.clone(),
            });
        }
        Fdt {
            boot_cpuid_phys: 0,
            reservations: Vec::new(),
            root,
        }
    }

    /// An overlay: `/consumer` holds `clocks = <cell>`; `__local_fixups__`
    /// lists offset 0 of it; `__fixups__` names it for label `clk`.
    fn overlay(cell: u32, fixup_entry: &str) -> Fdt {
        let mut fdt = tree(&[]);
        let mut consumer = Node::new("consumer");
        consumer.set_property("clocks", value::u32(cell));
        fdt.root.children.push(consumer);
        let mut fixups = Node::new("__fixups__");
        fixups.set_property("clk", value::string(fixup_entry));
        fdt.root.children.push(fixups);
        let mut local = Node::new("__local_fixups__");
        let mut lc = Node::new("consumer");
        lc.set_property("clocks", value::u32(0));
        local.children.push(lc);
        fdt.root.children.push(local);
        fdt
    }

    #[test]
    fn plugin_only_where_dtc_1_8_would_abort_without_it() {
        // A local fixup at an unresolved phandle: dtc 1.8 asserts unless
        // in plugin mode.
        for unresolved in [0xffff_ffff, 0] {
            let dts = to_dts(&overlay(unresolved, "/consumer:clocks:0"));
            assert!(dts.starts_with("/dts-v1/;\n/plugin/;\n\n/ {\n"), "{dts}");
        }
        // A valid phandle: no abort, and plugin mode would rewrite the
        // malformed `__fixups__` entry.
        let dts = to_dts(&overlay(1, "/consumer:clocks:bad"));
        assert!(dts.starts_with("/dts-v1/;\n\n/ {\n"), "{dts}");
        // An offset past the property, or a fixup for a missing node, is
        // skipped by dtc (a warning), as here.
        let mut past_end = overlay(0xffff_ffff, "/consumer:clocks:0");
        past_end.root.children[2].children[0].set_property("clocks", value::u32(4));
        assert!(!to_dts(&past_end).contains("/plugin/"));
        let mut missing = overlay(0xffff_ffff, "/consumer:clocks:0");
        missing.root.children[2].children[0].name = "elsewhere".into();
        assert!(!to_dts(&missing).contains("/plugin/"));
    }

    #[test]
    fn value_forms_follow_dtc() {
        let fdt = tree(&[
            ("empty", vec![]),
            ("s", value::string("hi \"x\" \\ \t")),
            ("list", value::strings(&["a,b", "c"])),
            ("half-nul", b"ab\0\0".to_vec()),
            ("too-many-nuls", b"a\0\0".to_vec()),
            ("nul", vec![0]),
            ("cells", value::cells(&[0, 1, 0x1234_5678])),
            ("bytes", vec![0xde, 0xad, 0xbe]),
            ("high", vec![b'a', 0xc3, 0xa9, 0]),
            ("octal", b"1\x000\x001\x00".to_vec()),
            ("nine", b"8\x009\x00".to_vec()),
            ("lead", b"\x002K\x00".to_vec()),
        ]);
        let want = "/dts-v1/;\n\n/ {\n\
            \tempty;\n\
            \ts = \"hi \\\"x\\\" \\\\ \\t\";\n\
            \tlist = \"a,b\\0c\";\n\
            \thalf-nul = \"ab\\0\";\n\
            \ttoo-many-nuls = [61 00 00];\n\
            \tnul = [00];\n\
            \tcells = <0x00 0x01 0x12345678>;\n\
            \tbytes = [de ad be];\n\
            \thigh = <0x61c3a900>;\n\
            \toctal = \"1\\x000\\x001\";\n\
            \tnine = \"8\\09\";\n\
            \tlead = \"\\x002K\";\n\
            };\n";
        assert_eq!(to_dts(&fdt), want);
    }

    #[test]
    fn nodes_and_reservations() {
        let mut fdt = tree(&[("#address-cells", value::u32(2))]);
        fdt.reservations.push(Reservation {
            address: 0x8000_0000,
            size: 0x10_0000,
        });
        let mut chosen = Node::new("chosen");
        chosen.children.push(Node::new("domU1"));
        fdt.root.children.push(chosen);
        fdt.root.children.push(Node::new("memory@80000000"));
        let want = "/dts-v1/;\n\n\
            /memreserve/\t0x0000000080000000 0x0000000000100000;\n\
            / {\n\
            \t#address-cells = <0x02>;\n\
            \n\
            \tchosen {\n\
            \n\
            \t\tdomU1 {\n\
            \t\t};\n\
            \t};\n\
            \n\
            \tmemory@80000000 {\n\
            \t};\n\
            };\n";
        assert_eq!(to_dts(&fdt), want);
    }
}

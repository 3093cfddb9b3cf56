//! Writing an [`Fdt`] in exactly the layout `dtc -I dtb -O dtb` produces.
//!
//! Byte identity with dtc matters: the merged DTB is checked by comparing
//! it with dtc's rendering, and an untouched host tree must come back
//! unchanged. dtc (flattree.c) writes version 17 (last compatible 16):
//!
//! ```text
//! header (40 bytes)
//! memory reservation block at 40 (aligned to 8), entries + a zero entry
//! structure block: the tree depth first, each node's properties before
//!                  its children, then FDT_END
//! strings block:   property names in order of first use, deduplicated
//! padding          (`dtc -p N`: N zero bytes, counted in totalsize)
//! ```
//!
//! Names are written as C strings: a name containing a NUL is cut there,
//! as dtc would see it.

use std::collections::HashMap;

use super::{Fdt, Node};

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 0x1;
const FDT_END_NODE: u32 = 0x2;
const FDT_PROP: u32 = 0x3;
const FDT_END: u32 = 0x9;
const VERSION: u32 = 17;
const LAST_COMP_VERSION: u32 = 16;
const HEADER_SIZE: usize = 40;
const RESERVATION_SIZE: usize = 16;

/// Serialise `fdt` as dtc does, followed by `padding` zero bytes that are
/// counted in `totalsize` (room for in-place edits, like `dtc -p`).
///
/// # Panics
///
/// If the blob would exceed 4 GiB, which the format cannot express (Xen
/// accepts at most 2 MiB).
pub fn serialize(fdt: &Fdt, padding: usize) -> Vec<u8> {
    let mut strings = StringTable::default();
    let mut dt = Vec::with_capacity(structure_size(&fdt.root));

    // Depth first without recursion: a stack of (node, next child).
    write_node_start(&mut dt, &mut strings, &fdt.root);
    let mut stack: Vec<(&Node, usize)> = vec![(&fdt.root, 0)];
    while let Some((node, next)) = stack.last_mut() {
        match node.children.get(*next) {
            Some(child) => {
                *next += 1;
                write_node_start(&mut dt, &mut strings, child);
                stack.push((child, 0));
            }
            None => {
                put32(&mut dt, FDT_END_NODE);
                stack.pop();
            }
        }
    }
    put32(&mut dt, FDT_END);

    let strings = strings.bytes;
    let rsv_size = (fdt.reservations.len() + 1) * RESERVATION_SIZE;
    let off_mem_rsvmap = HEADER_SIZE; // already a multiple of 8
    let off_dt_struct = off_mem_rsvmap + rsv_size;
    let off_dt_strings = off_dt_struct + dt.len();
    let used = off_dt_strings + strings.len();
    let totalsize = used
        .checked_add(padding)
        .expect("device tree blob size overflows");

    let mut blob = Vec::with_capacity(totalsize);
    for field in [
        FDT_MAGIC,
        size32(totalsize),
        size32(off_dt_struct),
        size32(off_dt_strings),
        size32(off_mem_rsvmap),
        VERSION,
        LAST_COMP_VERSION,
        fdt.boot_cpuid_phys,
        size32(strings.len()),
        size32(dt.len()),
    ] {
        put32(&mut blob, field);
    }
    for r in &fdt.reservations {
        blob.extend_from_slice(&r.address.to_be_bytes());
        blob.extend_from_slice(&r.size.to_be_bytes());
    }
    blob.extend_from_slice(&[0; RESERVATION_SIZE]);
    blob.extend_from_slice(&dt);
    blob.extend_from_slice(&strings);
    blob.resize(totalsize, 0);
    blob
}

/// A length as a header or property field.
fn size32(n: usize) -> u32 {
    u32::try_from(n).expect("device tree blobs are limited to 4 GiB")
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn pad4(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

/// The bytes a C string holds: up to the first NUL.
fn c_str(name: &str) -> &[u8] {
    let b = name.as_bytes();
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    b.get(..end).unwrap_or(b)
}

/// `FDT_BEGIN_NODE`, the name, and every property of `node`.
fn write_node_start<'a>(dt: &mut Vec<u8>, strings: &mut StringTable<'a>, node: &'a Node) {
    put32(dt, FDT_BEGIN_NODE);
    dt.extend_from_slice(c_str(&node.name));
    dt.push(0);
    pad4(dt);
    for p in &node.properties {
        let nameoff = strings.offset(c_str(&p.name));
        put32(dt, FDT_PROP);
        put32(dt, size32(p.value.len()));
        put32(dt, nameoff);
        dt.extend_from_slice(&p.value);
        pad4(dt);
    }
}

/// The structure block's size, to allocate it once.
fn structure_size(root: &Node) -> usize {
    let mut size = 4; // FDT_END
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        size += 8 + (c_str(&node.name).len() + 1).next_multiple_of(4);
        for p in &node.properties {
            size += 12 + p.value.len().next_multiple_of(4);
        }
        stack.extend(&node.children);
    }
    size
}

/// dtc's string table: a name is stored once, and a name that already
/// occurs anywhere in the table, even as the tail of a longer name
/// (`cells` inside `#size-cells`), reuses that occurrence, the earliest
/// one. dtc finds it by scanning the whole table for each name. Any
/// occurrence of `name` followed by NUL is the tail of one stored name, so
/// a trie of the stored names read backwards answers the same question in
/// time linear in the name's length (hashing every suffix would be
/// quadratic in it, and hostile blobs carry megabyte names).
#[derive(Default)]
struct StringTable<'a> {
    bytes: Vec<u8>,
    /// Names already looked up: most names repeat, and one hash of the
    /// name is cheaper than a trie step per byte.
    known: HashMap<&'a [u8], u32>,
    /// Trie node `n` stands for the suffix spelled by the path to it; its
    /// value is the earliest table offset where that suffix starts. Node 0
    /// is the root (the empty suffix, i.e. the first NUL).
    earliest: Vec<u32>,
    /// (node, preceding byte) -> child node.
    edges: HashMap<(u32, u8), u32>,
}

impl<'a> StringTable<'a> {
    fn offset(&mut self, name: &'a [u8]) -> u32 {
        if let Some(&off) = self.known.get(name) {
            return off;
        }
        let off = self.insert(name);
        self.known.insert(name, off);
        off
    }

    fn insert(&mut self, name: &[u8]) -> u32 {
        if let Some(off) = self.find(name) {
            return off;
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(name);
        self.bytes.push(0);
        let nul = start + name.len();
        if self.earliest.is_empty() {
            self.earliest.push(size32(nul));
        }
        // Walk the name backwards; nodes created now get this name's
        // offsets, nodes that exist keep their earlier ones.
        let mut node = 0u32;
        for (depth, &b) in name.iter().rev().enumerate() {
            node = match self.edges.get(&(node, b)) {
                Some(&child) => child,
                None => {
                    let child = size32(self.earliest.len());
                    self.earliest.push(size32(nul - depth - 1));
                    self.edges.insert((node, b), child);
                    child
                }
            };
        }
        size32(start)
    }

    fn find(&self, name: &[u8]) -> Option<u32> {
        let mut node = 0u32;
        for &b in name.iter().rev() {
            node = *self.edges.get(&(node, b))?;
        }
        self.earliest.get(usize::try_from(node).ok()?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::{Property, Reservation, value};

    fn with_props(names: &[&str]) -> Fdt {
        let mut root = Node::new("");
        for n in names {
            root.properties.push(Property {
                name: n.to_string(),
                value: Vec::new(),
            });
        }
        Fdt {
            boot_cpuid_phys: 0,
            reservations: Vec::new(),
            root,
        }
    }

    /// The strings block of a serialised tree.
    fn strings_of(blob: &[u8]) -> &[u8] {
        let off = u32::from_be_bytes(blob[12..16].try_into().unwrap()) as usize;
        let len = u32::from_be_bytes(blob[32..36].try_into().unwrap()) as usize;
        &blob[off..off + len]
    }

    #[test]
    fn suffixes_are_shared_like_dtc() {
        let blob = serialize(&with_props(&["#size-cells", "size-cells", "cells", "s"]), 0);
        assert_eq!(strings_of(&blob), b"#size-cells\0");
        // A longer name after a shorter one is stored again.
        let blob = serialize(&with_props(&["cells", "#size-cells", "cells"]), 0);
        assert_eq!(strings_of(&blob), b"cells\0#size-cells\0");
    }

    #[test]
    fn earliest_occurrence_wins() {
        // "ab" occurs as a suffix of "xab" (offset 1) before the entry "ab".
        let fdt = with_props(&["xab", "yab", "ab"]);
        let blob = serialize(&fdt, 0);
        assert_eq!(strings_of(&blob), b"xab\0yab\0");
        let nameoff = |i: usize| {
            // root: BEGIN_NODE + empty name = 8 bytes, each empty prop 12.
            let at = 0x38 + 8 + 12 * i + 8;
            u32::from_be_bytes(blob[at..at + 4].try_into().unwrap())
        };
        assert_eq!([nameoff(0), nameoff(1), nameoff(2)], [0, 4, 1]);
    }

    #[test]
    fn empty_names_reuse_the_first_nul() {
        let blob = serialize(&with_props(&["", "ab", "", "b"]), 0);
        assert_eq!(strings_of(&blob), b"\0ab\0");
        let blob = serialize(&with_props(&["ab", ""]), 0);
        assert_eq!(strings_of(&blob), b"ab\0");
    }

    #[test]
    fn long_names_are_linear() {
        // A 64 KiB name and its tail: hashing every suffix would hash
        // 2 GiB; the trie takes one step per byte.
        let long = "x".repeat(1 << 16);
        let tail = &long[1000..];
        let blob = serialize(&with_props(&[&long, tail]), 0);
        assert_eq!(strings_of(&blob).len(), (1 << 16) + 1);
    }

    #[test]
    fn layout_and_padding() {
        let mut fdt = with_props(&["a"]);
        fdt.reservations.push(Reservation {
            address: 1,
            size: 2,
        });
        fdt.root.properties[0].value = value::string("hello");
        fdt.boot_cpuid_phys = 3;
        let blob = serialize(&fdt, 100);
        let word = |o: usize| u32::from_be_bytes(blob[o..o + 4].try_into().unwrap());
        assert_eq!(word(0), FDT_MAGIC);
        assert_eq!(word(4) as usize, blob.len());
        assert_eq!(word(16), 40); // reservations
        assert_eq!(word(8), 40 + 32); // one entry + terminator
        assert_eq!(word(20), 17);
        assert_eq!(word(24), 16);
        assert_eq!(word(28), 3);
        // BEGIN_NODE, "", PROP, len, nameoff, "hello\0" + 2, END_NODE, END.
        assert_eq!(word(36), 8 + 12 + 8 + 4 + 4);
        assert_eq!(word(12), 72 + 36);
        assert_eq!(word(32), 2);
        assert_eq!(blob.len(), 72 + 36 + 2 + 100);
        assert!(blob[blob.len() - 100..].iter().all(|&b| b == 0));
        assert_eq!(crate::fdt::read::parse(&blob).unwrap(), fdt);
    }

    #[test]
    fn deep_trees_do_not_recurse() {
        // Deeper than the reader accepts: the writer must still not
        // overflow the stack. (Dropping the tree is recursive, so it is
        // taken apart by hand below.)
        let depth = 100_000;
        let mut root = Node::new("");
        let mut node = &mut root;
        for _ in 1..depth {
            node.children.push(Node::new("n"));
            node = &mut node.children[0];
        }
        let fdt = Fdt {
            boot_cpuid_phys: 0,
            reservations: Vec::new(),
            root,
        };
        let blob = serialize(&fdt, 0);
        assert_eq!(blob.len(), 40 + 16 + 8 + (depth - 1) * 8 + depth * 4 + 4);
        let mut pending = vec![fdt.root];
        while let Some(mut n) = pending.pop() {
            pending.append(&mut n.children);
        }
    }
}

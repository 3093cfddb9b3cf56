//! Reading a flattened device tree blob into an [`Fdt`].
//!
//! The blob is untrusted input (a host DTB from anywhere), so every read is
//! bounds-checked and every malformed blob becomes an [`FdtError`] carrying
//! the byte offset of the problem: no panic, no hang (each loop advances
//! through the blob), no allocation beyond a small multiple of the blob's
//! size, and no recursion (a 10,000-deep tree is an error, not a stack
//! overflow).
//!
//! What is checked, beyond what dtc itself checks when it reads a blob:
//! - the header: magic, versions 16 and 17 (and later versions that declare
//!   themselves readable by a v17 reader), every block inside `totalsize`,
//!   the blocks not overlapping the header or each other;
//! - the memory reservation block: 8-byte aligned, terminated inside the
//!   blob (by an entry of size 0, as dtc and libfdt read it);
//! - the structure block: 4-byte aligned tokens, NUL-terminated names,
//!   property name offsets inside the strings block, balanced nesting up to
//!   [`MAX_DEPTH`], exactly one root, nothing after `FDT_END` inside the
//!   declared structure size;
//! - names: UTF-8, non-empty node names without `/` (the root's empty),
//!   no two siblings with the same name and no property twice in a node
//!   (dtc refuses such trees too; a lookup would silently see only the
//!   first). Other characters dtc refuses in names (spaces, non-ASCII) are
//!   read as they are, since Xen reads them too; checks may flag them.

use std::collections::HashSet;

use super::{Fdt, FdtError, Node, Property, Reservation};

/// `0xd00dfeed`, big-endian at offset 0.
const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 0x1;
const FDT_END_NODE: u32 = 0x2;
const FDT_PROP: u32 = 0x3;
const FDT_NOP: u32 = 0x4;
const FDT_END: u32 = 0x9;

/// The oldest layout we read: v16 introduced plain node names (not full
/// paths) and NOP tokens; earlier versions are not produced by any current
/// tool.
const MIN_VERSION: u32 = 16;
/// The newest layout we know; later blobs are readable if their
/// `last_comp_version` says a v17 reader may read them.
const MAX_COMP_VERSION: u32 = 17;

/// Deepest nesting accepted, counting the root as 1. Real trees are under
/// 10 deep; the cap keeps memory and every recursive consumer of the tree
/// (derived `Drop`, `Clone`, `PartialEq`) bounded.
pub const MAX_DEPTH: usize = 1024;

/// Field offsets in the header.
const OFF_TOTALSIZE: usize = 4;
const OFF_DT_STRUCT: usize = 8;
const OFF_DT_STRINGS: usize = 12;
const OFF_MEM_RSVMAP: usize = 16;
const OFF_VERSION: usize = 20;
const OFF_LAST_COMP_VERSION: usize = 24;
const OFF_BOOT_CPUID_PHYS: usize = 28;
const OFF_SIZE_DT_STRINGS: usize = 32;
const OFF_SIZE_DT_STRUCT: usize = 36;
/// Header sizes: v16 ends after `size_dt_strings`, v17 adds `size_dt_struct`.
const HEADER_V16: usize = 36;
const HEADER_V17: usize = 40;

/// One memory reservation entry: two big-endian u64s.
const RESERVATION_SIZE: usize = 16;

/// Parse `bytes` as an FDT (versions 16 and 17).
///
/// Bytes after `totalsize` are ignored (files are often padded).
pub fn parse(bytes: &[u8]) -> Result<Fdt, FdtError> {
    let header = Header::read(bytes)?;
    // Everything below reads inside `totalsize` only.
    let blob = bytes.get(..header.totalsize).unwrap_or(bytes);

    let (reservations, rsv_end) = read_reservations(blob, header.off_mem_rsvmap)?;
    let strings = header.strings_range();
    let (root, struct_end) = read_structure(blob, &header, strings.clone())?;
    let structure = header.off_dt_struct..struct_end;
    let rsvmap = header.off_mem_rsvmap..rsv_end;

    // The blocks must not share bytes: an edit to one would corrupt the
    // other. (dtc does not check this; its output never overlaps.)
    let blocks = [
        ("memory reservation block", rsvmap),
        ("structure block", structure),
        ("strings block", strings),
    ];
    for (i, (a_name, a)) in blocks.iter().enumerate() {
        for (b_name, b) in blocks.iter().skip(i + 1) {
            if !a.is_empty() && !b.is_empty() && a.start < b.end && b.start < a.end {
                return Err(err(
                    a.start.max(b.start),
                    format!(
                        "the {a_name} ({:#x}..{:#x}) overlaps the {b_name} ({:#x}..{:#x})",
                        a.start, a.end, b.start, b.end
                    ),
                ));
            }
        }
    }

    Ok(Fdt {
        boot_cpuid_phys: header.boot_cpuid_phys,
        reservations,
        root,
    })
}

fn err(offset: usize, message: impl Into<String>) -> FdtError {
    FdtError {
        offset,
        message: message.into(),
    }
}

/// A big-endian u32 at `offset`, or an error naming what was being read.
fn be32(bytes: &[u8], offset: usize, what: &str) -> Result<u32, FdtError> {
    offset
        .checked_add(4)
        .and_then(|end| bytes.get(offset..end))
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| err(offset, format!("blob ends inside the {what}")))
}

fn be64(bytes: &[u8], offset: usize, what: &str) -> Result<u64, FdtError> {
    offset
        .checked_add(8)
        .and_then(|end| bytes.get(offset..end))
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| err(offset, format!("blob ends inside the {what}")))
}

/// `n` rounded up to a multiple of 4, saturating (a saturated value is
/// always past any real block end, so it fails the next bounds check).
fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// The header fields we use, validated against each other and the buffer.
struct Header {
    totalsize: usize,
    off_dt_struct: usize,
    off_dt_strings: usize,
    off_mem_rsvmap: usize,
    boot_cpuid_phys: u32,
    size_dt_strings: usize,
    /// Known from v17 on.
    size_dt_struct: Option<usize>,
}

impl Header {
    fn read(bytes: &[u8]) -> Result<Header, FdtError> {
        let field = |offset: usize, name: &str| -> Result<usize, FdtError> {
            let v = be32(bytes, offset, &format!("header field {name}"))?;
            Ok(usize::try_from(v).unwrap_or(usize::MAX))
        };

        if bytes.len() < 4 {
            return Err(err(
                0,
                format!(
                    "blob is {} bytes, too short to be a device tree blob",
                    bytes.len()
                ),
            ));
        }
        let magic = be32(bytes, 0, "magic")?;
        if magic != FDT_MAGIC {
            return Err(err(
                0,
                format!("bad magic {magic:#010x}: not a device tree blob (expected 0xd00dfeed)"),
            ));
        }
        if bytes.len() < HEADER_V16 {
            return Err(err(
                bytes.len(),
                format!(
                    "blob is {} bytes, too short for the {HEADER_V16}-byte FDT header",
                    bytes.len()
                ),
            ));
        }
        let version = be32(bytes, OFF_VERSION, "header field version")?;
        let last_comp = be32(
            bytes,
            OFF_LAST_COMP_VERSION,
            "header field last_comp_version",
        )?;
        if version < MIN_VERSION {
            return Err(err(
                OFF_VERSION,
                format!("FDT version {version} is too old: versions {MIN_VERSION} and 17 are read"),
            ));
        }
        if last_comp > MAX_COMP_VERSION {
            return Err(err(
                OFF_LAST_COMP_VERSION,
                format!(
                    "FDT version {version} is not backwards compatible with version \
                     {MAX_COMP_VERSION} (last_comp_version {last_comp}): versions \
                     {MIN_VERSION} and 17 are read"
                ),
            ));
        }
        let header_size = if version >= 17 {
            HEADER_V17
        } else {
            HEADER_V16
        };
        if bytes.len() < header_size {
            return Err(err(
                bytes.len(),
                format!(
                    "blob is {} bytes, too short for the {header_size}-byte version {version} header",
                    bytes.len()
                ),
            ));
        }

        let totalsize = field(OFF_TOTALSIZE, "totalsize")?;
        if totalsize < header_size {
            return Err(err(
                OFF_TOTALSIZE,
                format!("totalsize {totalsize} is smaller than the {header_size}-byte header"),
            ));
        }
        if totalsize > bytes.len() {
            return Err(err(
                OFF_TOTALSIZE,
                format!(
                    "totalsize {totalsize} is larger than the blob ({} bytes): the blob is truncated",
                    bytes.len()
                ),
            ));
        }

        let header = Header {
            totalsize,
            off_dt_struct: field(OFF_DT_STRUCT, "off_dt_struct")?,
            off_dt_strings: field(OFF_DT_STRINGS, "off_dt_strings")?,
            off_mem_rsvmap: field(OFF_MEM_RSVMAP, "off_mem_rsvmap")?,
            boot_cpuid_phys: be32(bytes, OFF_BOOT_CPUID_PHYS, "header field boot_cpuid_phys")?,
            size_dt_strings: field(OFF_SIZE_DT_STRINGS, "size_dt_strings")?,
            size_dt_struct: if version >= 17 {
                Some(field(OFF_SIZE_DT_STRUCT, "size_dt_struct")?)
            } else {
                None
            },
        };
        header.check_block(
            "memory reservation block",
            OFF_MEM_RSVMAP,
            header.off_mem_rsvmap,
            None,
            header_size,
            8,
        )?;
        header.check_block(
            "structure block",
            OFF_DT_STRUCT,
            header.off_dt_struct,
            header.size_dt_struct.map(|s| (OFF_SIZE_DT_STRUCT, s)),
            header_size,
            4,
        )?;
        header.check_block(
            "strings block",
            OFF_DT_STRINGS,
            header.off_dt_strings,
            Some((OFF_SIZE_DT_STRINGS, header.size_dt_strings)),
            header_size,
            1,
        )?;
        Ok(header)
    }

    /// A block starts after the header, aligned, and (if its size is
    /// known) ends inside `totalsize`; otherwise it starts inside it.
    fn check_block(
        &self,
        name: &str,
        field: usize,
        offset: usize,
        size: Option<(usize, usize)>,
        header_size: usize,
        align: usize,
    ) -> Result<(), FdtError> {
        if offset < header_size {
            return Err(err(
                field,
                format!("the {name} offset {offset:#x} lies inside the {header_size}-byte header"),
            ));
        }
        if offset % align != 0 {
            return Err(err(
                field,
                format!("the {name} offset {offset:#x} is not {align}-byte aligned"),
            ));
        }
        match size {
            Some((size_field, size)) => match offset.checked_add(size) {
                Some(end) if end <= self.totalsize => Ok(()),
                _ => Err(err(
                    size_field,
                    format!(
                        "the {name} ({offset:#x} + {size:#x} bytes) extends past totalsize {:#x}",
                        self.totalsize
                    ),
                )),
            },
            None if offset >= self.totalsize => Err(err(
                field,
                format!(
                    "the {name} offset {offset:#x} is past totalsize {:#x}",
                    self.totalsize
                ),
            )),
            None => Ok(()),
        }
    }

    fn strings_range(&self) -> std::ops::Range<usize> {
        // Checked in `read`: no overflow, inside totalsize.
        self.off_dt_strings..self.off_dt_strings.saturating_add(self.size_dt_strings)
    }
}

/// The reservation entries and the offset just past the terminating entry.
fn read_reservations(blob: &[u8], start: usize) -> Result<(Vec<Reservation>, usize), FdtError> {
    let mut reservations = Vec::new();
    let mut pos = start;
    loop {
        if pos.saturating_add(RESERVATION_SIZE) > blob.len() {
            return Err(err(
                pos,
                "the memory reservation block runs past totalsize without a terminating \
                 entry",
            ));
        }
        let address = be64(blob, pos, "memory reservation block")?;
        let size = be64(blob, pos + 8, "memory reservation block")?;
        pos += RESERVATION_SIZE;
        // dtc and libfdt (so Xen) end the list at the first entry of
        // size 0, whatever its address.
        if size == 0 {
            return Ok((reservations, pos));
        }
        reservations.push(Reservation { address, size });
    }
}

/// A node being read: its name and contents so far, and the names already
/// used in it (borrowed from the blob, so checking costs no allocation).
struct Open<'a> {
    node: Node,
    offset: usize,
    property_names: HashSet<&'a [u8]>,
    child_names: HashSet<&'a [u8]>,
}

impl Open<'_> {
    fn new(name: String, offset: usize) -> Self {
        Open {
            node: Node::new(name),
            offset,
            property_names: HashSet::new(),
            child_names: HashSet::new(),
        }
    }
}

fn path(stack: &[Open<'_>]) -> String {
    if stack.len() <= 1 {
        return "/".to_string();
    }
    stack
        .iter()
        .skip(1)
        .map(|o| format!("/{}", o.node.name))
        .collect()
}

/// The NUL-terminated string starting at `start`, which must end before
/// `end`, as UTF-8.
fn c_string<'a>(
    blob: &'a [u8],
    start: usize,
    end: usize,
    what: &str,
) -> Result<(&'a [u8], &'a str), FdtError> {
    let region = blob.get(start..end).unwrap_or(&[]);
    let len = region
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| err(start, format!("{what} is not NUL-terminated")))?;
    let raw = region.get(..len).unwrap_or(&[]);
    let text = std::str::from_utf8(raw).map_err(|e| {
        err(
            start + e.valid_up_to(),
            format!(
                "{what} is not valid UTF-8: {}",
                String::from_utf8_lossy(raw)
            ),
        )
    })?;
    Ok((raw, text))
}

/// Read the structure block: the root node and the offset just past
/// `FDT_END`.
fn read_structure(
    blob: &[u8],
    header: &Header,
    strings: std::ops::Range<usize>,
) -> Result<(Node, usize), FdtError> {
    let start = header.off_dt_struct;
    // v16 blobs do not say where the structure block ends; it ends at
    // FDT_END, somewhere inside totalsize.
    let end = match header.size_dt_struct {
        Some(size) => start.saturating_add(size),
        None => blob.len(),
    };
    let block = blob.get(..end).unwrap_or(blob);
    let strings_block = blob.get(..strings.end).unwrap_or(blob);

    // Each property copies its name out of the strings block, and a blob
    // can point thousands of properties at one long name. Real trees copy
    // about as many name bytes as their structure block holds; this budget
    // is far above that yet keeps memory a small multiple of the blob.
    let mut name_budget = blob.len().saturating_mul(16).saturating_add(1 << 20);

    let mut stack: Vec<Open<'_>> = Vec::new();
    let mut root: Option<Node> = None;
    let mut pos = start;

    let first = be32(block, pos, "structure block")?;
    if first != FDT_BEGIN_NODE {
        return Err(err(
            pos,
            format!("the structure block starts with token {first:#010x}, not FDT_BEGIN_NODE"),
        ));
    }

    loop {
        let token_offset = pos;
        let token = be32(block, pos, "structure block (no FDT_END token)")?;
        pos += 4;
        match token {
            FDT_BEGIN_NODE => {
                if root.is_some() {
                    return Err(err(
                        token_offset,
                        "a second root node follows the first (a tree has exactly one root)",
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(err(
                        token_offset,
                        format!("nodes are nested more than {MAX_DEPTH} levels deep"),
                    ));
                }
                let (raw, name) = c_string(block, pos, end, "node name")?;
                match stack.last() {
                    None if !name.is_empty() => {
                        return Err(err(
                            pos,
                            format!("the root node has a name (\"{name}\"); it must be empty"),
                        ));
                    }
                    None => {}
                    Some(_) if name.is_empty() => {
                        return Err(err(
                            pos,
                            format!("a node in {} has an empty name", path(&stack)),
                        ));
                    }
                    // A `/` would make the node unreachable by path (and
                    // dtc refuses it).
                    Some(_) if name.contains('/') => {
                        return Err(err(
                            pos,
                            format!("node name \"{name}\" in {} contains '/'", path(&stack)),
                        ));
                    }
                    Some(parent) if parent.child_names.contains(raw) => {
                        return Err(err(
                            pos,
                            format!("duplicate node {name} in {}", path(&stack)),
                        ));
                    }
                    Some(_) => {}
                }
                if let Some(parent) = stack.last_mut() {
                    parent.child_names.insert(raw);
                }
                let node = Open::new(name.to_string(), token_offset);
                pos = align4(pos + raw.len() + 1);
                stack.push(node);
            }
            FDT_END_NODE => {
                let done = stack.pop().ok_or_else(|| {
                    err(
                        token_offset,
                        "FDT_END_NODE without a matching FDT_BEGIN_NODE",
                    )
                })?;
                match stack.last_mut() {
                    Some(parent) => parent.node.children.push(done.node),
                    None => root = Some(done.node),
                }
            }
            FDT_PROP => {
                let Some(open) = stack.last() else {
                    return Err(err(token_offset, "a property outside any node"));
                };
                let len = be32(block, pos, "property header")?;
                let nameoff = be32(block, pos + 4, "property header")?;
                pos += 8;
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                let value = pos
                    .checked_add(len)
                    .and_then(|value_end| block.get(pos..value_end))
                    .ok_or_else(|| {
                        err(
                            pos,
                            format!(
                                "a property value of {len} bytes in {} runs past the end \
                                 of the structure block ({end:#x})",
                                path(&stack)
                            ),
                        )
                    })?;
                let nameoff = usize::try_from(nameoff).unwrap_or(usize::MAX);
                if nameoff >= header.size_dt_strings {
                    return Err(err(
                        pos - 4,
                        format!(
                            "property name offset {nameoff:#x} in {} is outside the \
                             strings block ({:#x} bytes)",
                            path(&stack),
                            header.size_dt_strings
                        ),
                    ));
                }
                let name_at = strings.start + nameoff;
                let (raw, name) = c_string(strings_block, name_at, strings.end, "property name")?;
                if open.property_names.contains(raw) {
                    return Err(err(
                        token_offset,
                        format!("duplicate property {name} in {}", path(&stack)),
                    ));
                }
                name_budget = name_budget.checked_sub(raw.len()).ok_or_else(|| {
                    err(
                        token_offset,
                        "the property names take too much memory (long names reused very \
                         many times)",
                    )
                })?;
                if let Some(open) = stack.last_mut() {
                    open.property_names.insert(raw);
                    open.node.properties.push(Property {
                        name: name.to_string(),
                        value: value.to_vec(),
                    });
                }
                pos = align4(pos + len);
            }
            FDT_NOP => {}
            FDT_END => {
                if let Some(open) = stack.last() {
                    return Err(err(
                        token_offset,
                        format!(
                            "FDT_END inside node {} (begun at {:#x}): {} node(s) not closed",
                            path(&stack),
                            open.offset,
                            stack.len()
                        ),
                    ));
                }
                let Some(root) = root else {
                    // Unreachable in practice: the first token was checked.
                    return Err(err(token_offset, "the structure block has no root node"));
                };
                if header.size_dt_struct.is_some() && pos != end {
                    return Err(err(
                        pos,
                        format!(
                            "{} byte(s) follow FDT_END inside the structure block",
                            end.saturating_sub(pos)
                        ),
                    ));
                }
                return Ok((root, pos));
            }
            other => {
                return Err(err(
                    token_offset,
                    format!("unknown structure block token {other:#010x}"),
                ));
            }
        }
        if pos > end {
            return Err(err(
                end,
                "the structure block ends inside a node name or property value",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::value;

    /// A small tree touching every feature: reservations, nested nodes,
    /// shared and suffix-shared property names, empty values.
    fn sample() -> Fdt {
        let mut root = Node::new("");
        root.set_property("#address-cells", value::u32(2));
        root.set_property("#size-cells", value::u32(2));
        root.set_property(
            "compatible",
            value::strings(&["acme,board", "arm,vexpress"]),
        );
        let mut chosen = Node::new("chosen");
        chosen.set_property("bootargs", value::string("console=hvc0"));
        chosen.set_property("size-cells", Vec::new());
        let mut cpus = Node::new("cpus");
        let mut cpu = Node::new("cpu@0");
        cpu.set_property("reg", value::u32(0));
        cpu.set_property("odd", vec![1, 2, 3]);
        cpus.children.push(cpu);
        root.children.push(chosen);
        root.children.push(cpus);
        Fdt {
            boot_cpuid_phys: 0x100,
            reservations: vec![Reservation {
                address: 0x8000_0000,
                size: 0x1000,
            }],
            root,
        }
    }

    fn put32(blob: &mut [u8], offset: usize, v: u32) {
        blob[offset..offset + 4].copy_from_slice(&v.to_be_bytes());
    }

    fn get32(blob: &[u8], offset: usize) -> u32 {
        u32::from_be_bytes(blob[offset..offset + 4].try_into().unwrap())
    }

    /// Insert `bytes` into a dtc-laid-out blob's structure block at `at`
    /// (replacing `replace` bytes) and fix up the header around it.
    fn splice_structure(blob: &mut Vec<u8>, at: usize, replace: usize, bytes: &[u8]) {
        let grow = (bytes.len() - replace) as u32;
        blob.splice(at..at + replace, bytes.iter().copied());
        for field in [OFF_SIZE_DT_STRUCT, OFF_DT_STRINGS, OFF_TOTALSIZE] {
            let v = get32(blob, field);
            put32(blob, field, v + grow);
        }
    }

    fn message(blob: &[u8]) -> String {
        parse(blob).expect_err("blob must be rejected").message
    }

    #[test]
    fn round_trip() {
        let fdt = sample();
        let blob = fdt.to_bytes();
        assert_eq!(parse(&blob).unwrap(), fdt);
        // And the bytes are stable through a second trip.
        assert_eq!(parse(&blob).unwrap().to_bytes(), blob);
    }

    #[test]
    fn trailing_bytes_after_totalsize_are_ignored() {
        let mut blob = sample().to_bytes();
        blob.extend_from_slice(&[0xff; 13]);
        assert_eq!(parse(&blob).unwrap(), sample());
    }

    #[test]
    fn padding_is_accepted() {
        let blob = sample().to_bytes_padded(4096);
        assert_eq!(parse(&blob).unwrap(), sample());
    }

    #[test]
    fn bad_header_fields() {
        let good = sample().to_bytes();
        let cases: &[(usize, u32, &str, usize)] = &[
            (0, 0xfeed_d00d, "bad magic 0xfeedd00d", 0),
            (OFF_VERSION, 15, "FDT version 15 is too old", OFF_VERSION),
            (
                OFF_LAST_COMP_VERSION,
                18,
                "not backwards compatible",
                OFF_LAST_COMP_VERSION,
            ),
            (
                OFF_TOTALSIZE,
                20,
                "smaller than the 40-byte header",
                OFF_TOTALSIZE,
            ),
            (
                OFF_TOTALSIZE,
                100_000,
                "the blob is truncated",
                OFF_TOTALSIZE,
            ),
            (
                OFF_MEM_RSVMAP,
                8,
                "lies inside the 40-byte header",
                OFF_MEM_RSVMAP,
            ),
            (OFF_MEM_RSVMAP, 44, "not 8-byte aligned", OFF_MEM_RSVMAP),
            (OFF_MEM_RSVMAP, 0x10_0000, "past totalsize", OFF_MEM_RSVMAP),
            (OFF_DT_STRUCT, 0x4a, "not 4-byte aligned", OFF_DT_STRUCT),
            (OFF_DT_STRUCT, 0, "inside the 40-byte header", OFF_DT_STRUCT),
            (
                OFF_SIZE_DT_STRUCT,
                0xffff_fff0,
                "extends past totalsize",
                OFF_SIZE_DT_STRUCT,
            ),
            (
                OFF_DT_STRINGS,
                0xffff_fff0,
                "extends past totalsize",
                OFF_SIZE_DT_STRINGS,
            ),
            (
                OFF_SIZE_DT_STRINGS,
                0x1_0000,
                "extends past totalsize",
                OFF_SIZE_DT_STRINGS,
            ),
        ];
        for &(field, v, want, at) in cases {
            let mut blob = good.clone();
            put32(&mut blob, field, v);
            let e = parse(&blob).expect_err(want);
            assert!(
                e.message.contains(want),
                "field {field:#x} = {v:#x}: got {e}, want {want}"
            );
            assert_eq!(e.offset, at, "field {field:#x} = {v:#x}: {e}");
        }
    }

    #[test]
    fn too_short() {
        assert!(message(&[0xd0, 0x0d]).contains("too short to be a device tree blob"));
        let blob = sample().to_bytes();
        assert!(message(&blob[..30]).contains("too short for the 36-byte FDT header"));
        assert!(message(&blob[..38]).contains("too short for the 40-byte version 17 header"));
    }

    #[test]
    fn version_16_has_no_struct_size() {
        // A v16 header is 36 bytes; dtc still lays blocks out at 40.
        let mut blob = sample().to_bytes();
        put32(&mut blob, OFF_VERSION, 16);
        put32(&mut blob, OFF_SIZE_DT_STRUCT, 0xdead_beef);
        assert_eq!(parse(&blob).unwrap(), sample());
    }

    #[test]
    fn later_versions_compatible_with_17_are_read() {
        let mut blob = sample().to_bytes();
        put32(&mut blob, OFF_VERSION, 20);
        assert_eq!(parse(&blob).unwrap(), sample());
    }

    #[test]
    fn overlapping_blocks() {
        // A root without properties never reads the strings block, so the
        // overlap itself is what gets reported.
        let mut blob = nested_blob(1);
        put32(&mut blob, OFF_DT_STRINGS, HEADER_V17 as u32);
        put32(&mut blob, OFF_SIZE_DT_STRINGS, 16);
        let e = parse(&blob).unwrap_err();
        assert!(
            e.message
                .contains("memory reservation block (0x28..0x38) overlaps the strings block"),
            "{e}"
        );

        let mut blob = nested_blob(1);
        let off_struct = get32(&blob, OFF_DT_STRUCT);
        put32(&mut blob, OFF_DT_STRINGS, off_struct + 4);
        put32(&mut blob, OFF_SIZE_DT_STRINGS, 4);
        let e = parse(&blob).unwrap_err();
        assert!(
            e.message
                .contains("structure block (0x38..0x48) overlaps the strings block"),
            "{e}"
        );
    }

    #[test]
    fn reservation_block_without_terminator() {
        let mut fdt = sample();
        fdt.reservations.clear();
        let mut blob = fdt.to_bytes();
        // Move the reservation map to the last 8-aligned slot that cannot
        // hold a whole entry.
        let total = get32(&blob, OFF_TOTALSIZE) as usize;
        let last = (total - 8) & !7;
        put32(&mut blob, OFF_MEM_RSVMAP, last as u32);
        assert!(message(&blob).contains("without a terminating entry"));
    }

    #[test]
    fn reservation_list_ends_at_size_zero() {
        // dtc and libfdt stop at the first entry of size 0.
        let mut blob = sample().to_bytes();
        let rsv = get32(&blob, OFF_MEM_RSVMAP) as usize;
        put32(&mut blob, rsv + 12, 0);
        let fdt = parse(&blob).unwrap();
        assert!(fdt.reservations.is_empty());
    }

    /// Offset of the first occurrence of `needle` in `blob`.
    fn find(blob: &[u8], needle: &[u8]) -> usize {
        blob.windows(needle.len())
            .position(|w| w == needle)
            .expect("needle in blob")
    }

    #[test]
    fn structure_errors() {
        let good = sample().to_bytes();
        let off_struct = get32(&good, OFF_DT_STRUCT) as usize;
        let size_struct = get32(&good, OFF_SIZE_DT_STRUCT) as usize;

        let mut blob = good.clone();
        put32(&mut blob, off_struct, FDT_NOP);
        assert!(message(&blob).contains("not FDT_BEGIN_NODE"));

        let mut blob = good.clone();
        put32(&mut blob, off_struct, 7);
        assert!(message(&blob).contains("token 0x00000007"));

        // The token after the root's (empty, padded) name.
        let mut blob = good.clone();
        put32(&mut blob, off_struct + 8, 0x1234_5678);
        let e = parse(&blob).unwrap_err();
        assert!(
            e.message
                .contains("unknown structure block token 0x12345678")
        );
        assert_eq!(e.offset, off_struct + 8);

        // The final FDT_END replaced by a NOP: no end token.
        let mut blob = good.clone();
        put32(&mut blob, off_struct + size_struct - 4, FDT_NOP);
        assert!(message(&blob).contains("no FDT_END"));

        // The root's FDT_END_NODE replaced by FDT_END.
        let mut blob = good.clone();
        put32(&mut blob, off_struct + size_struct - 8, FDT_END);
        assert!(message(&blob).contains("FDT_END inside node /"));

        // A structure size with room after FDT_END.
        let mut blob = good.clone();
        put32(&mut blob, OFF_SIZE_DT_STRUCT, (size_struct + 4) as u32);
        assert!(message(&blob).contains("4 byte(s) follow FDT_END"));

        // A structure size that cuts FDT_END off.
        let mut blob = good.clone();
        put32(&mut blob, OFF_SIZE_DT_STRUCT, (size_struct - 4) as u32);
        assert!(message(&blob).contains("no FDT_END"));

        // A property name offset past the strings block.
        let mut blob = good.clone();
        let prop = off_struct + 8; // root: BEGIN_NODE, "" padded to 4
        assert_eq!(get32(&blob, prop), FDT_PROP);
        put32(&mut blob, prop + 8, 0x7fff);
        let e = parse(&blob).unwrap_err();
        assert!(e.message.contains("outside the strings block"), "{e}");
        assert_eq!(e.offset, prop + 8);

        // A property value longer than the structure block.
        let mut blob = good.clone();
        put32(&mut blob, prop + 4, 0x10_0000);
        assert!(message(&blob).contains("runs past the end of the structure block"));
    }

    #[test]
    fn names_must_be_utf8() {
        let mut blob = sample().to_bytes();
        let at = find(&blob, b"chosen\0");
        blob[at] = 0xff;
        let e = parse(&blob).unwrap_err();
        assert!(e.message.contains("node name is not valid UTF-8"), "{e}");
        assert_eq!(e.offset, at);

        let mut blob = sample().to_bytes();
        let at = find(&blob, b"bootargs\0");
        blob[at + 1] = 0xc3;
        let e = parse(&blob).unwrap_err();
        assert!(
            e.message.contains("property name is not valid UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn strings_must_be_terminated() {
        let mut blob = sample().to_bytes();
        // The last string in the strings block loses its NUL.
        let total = get32(&blob, OFF_TOTALSIZE) as usize;
        blob[total - 1] = b'x';
        assert!(message(&blob).contains("property name is not NUL-terminated"));
    }

    #[test]
    fn root_name_and_duplicates() {
        let mut fdt = sample();
        fdt.root.name = "root".into();
        assert!(message(&fdt.to_bytes()).contains("root node has a name"));

        let mut fdt = sample();
        fdt.root.children.push(Node::new("cpus"));
        assert!(message(&fdt.to_bytes()).contains("duplicate node cpus in /"));

        let mut fdt = sample();
        fdt.root.children[1].children[0].properties.push(Property {
            name: "reg".into(),
            value: Vec::new(),
        });
        assert!(message(&fdt.to_bytes()).contains("duplicate property reg in /cpus/cpu@0"));

        let mut fdt = sample();
        fdt.root.children.push(Node::new(""));
        assert!(message(&fdt.to_bytes()).contains("empty name"));

        let mut fdt = sample();
        fdt.root.children[1].children.push(Node::new("a/b"));
        assert!(message(&fdt.to_bytes()).contains("node name \"a/b\" in /cpus contains '/'"));
    }

    #[test]
    fn two_roots() {
        let mut blob = sample().to_bytes();
        let off_struct = get32(&blob, OFF_DT_STRUCT) as usize;
        let size_struct = get32(&blob, OFF_SIZE_DT_STRUCT) as usize;
        // Replace FDT_END by a second empty root, then FDT_END.
        let end = off_struct + size_struct - 4;
        let mut tail = Vec::new();
        for t in [FDT_BEGIN_NODE, 0, FDT_END_NODE, FDT_END] {
            tail.extend_from_slice(&t.to_be_bytes());
        }
        splice_structure(&mut blob, end, 4, &tail);
        assert!(message(&blob).contains("a second root node"));
    }

    #[test]
    fn nops_are_skipped_anywhere_inside() {
        let fdt = sample();
        let mut blob = fdt.to_bytes();
        let off_struct = get32(&blob, OFF_DT_STRUCT) as usize;
        let size_struct = get32(&blob, OFF_SIZE_DT_STRUCT) as usize;
        let end = off_struct + size_struct - 4;
        splice_structure(&mut blob, end, 0, &FDT_NOP.to_be_bytes());
        splice_structure(&mut blob, off_struct + 8, 0, &FDT_NOP.to_be_bytes());
        assert_eq!(parse(&blob).unwrap(), fdt);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let blob = sample().to_bytes();
        for len in 0..blob.len() {
            assert!(parse(&blob[..len]).is_err(), "truncated to {len} bytes");
        }
        // Also with totalsize patched to the truncated length, so the
        // blocks themselves are cut rather than the header noticing.
        for len in HEADER_V17..blob.len() {
            let mut cut = blob[..len].to_vec();
            put32(&mut cut, OFF_TOTALSIZE, len as u32);
            let _ = parse(&cut);
        }
    }

    #[test]
    fn every_byte_flip_is_handled() {
        let blob = sample().to_bytes();
        for i in 0..blob.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut b = blob.clone();
                b[i] ^= flip;
                let _ = parse(&b);
            }
        }
    }

    /// A blob of `depth` nested nodes, built by hand so no recursive code
    /// runs on a tree this deep.
    fn nested_blob(depth: usize) -> Vec<u8> {
        let mut dt = Vec::new();
        for i in 0..depth {
            dt.extend_from_slice(&FDT_BEGIN_NODE.to_be_bytes());
            // Root's name is empty, the others "n".
            dt.extend_from_slice(if i == 0 { &[0, 0, 0, 0] } else { b"n\0\0\0" });
        }
        for _ in 0..depth {
            dt.extend_from_slice(&FDT_END_NODE.to_be_bytes());
        }
        dt.extend_from_slice(&FDT_END.to_be_bytes());
        let off_struct = HEADER_V17 + RESERVATION_SIZE;
        let total = off_struct + dt.len();
        let mut blob = vec![0u8; off_struct];
        for (off, v) in [
            (0, FDT_MAGIC),
            (OFF_TOTALSIZE, total as u32),
            (OFF_DT_STRUCT, off_struct as u32),
            (OFF_DT_STRINGS, total as u32),
            (OFF_MEM_RSVMAP, HEADER_V17 as u32),
            (OFF_VERSION, 17),
            (OFF_LAST_COMP_VERSION, 16),
            (OFF_SIZE_DT_STRUCT, dt.len() as u32),
        ] {
            put32(&mut blob, off, v);
        }
        blob.extend_from_slice(&dt);
        blob
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let depth_ok = parse(&nested_blob(MAX_DEPTH)).unwrap();
        let mut node = &depth_ok.root;
        let mut depth = 1;
        while let Some(child) = node.children.first() {
            node = child;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH);

        let e = parse(&nested_blob(MAX_DEPTH + 1)).unwrap_err();
        assert!(e.message.contains("nested more than 1024 levels"), "{e}");
        let e = parse(&nested_blob(10_000)).unwrap_err();
        assert!(e.message.contains("nested more than 1024 levels"), "{e}");
    }

    #[test]
    fn reused_long_names_hit_the_budget() {
        // One 100 KiB property name used by an empty property in each of
        // 100 nodes: 10 MiB of names from a 100 KiB blob.
        let long = "p".repeat(100 * 1024);
        let mut fdt = Fdt {
            boot_cpuid_phys: 0,
            reservations: Vec::new(),
            root: Node::new(""),
        };
        for i in 0..100 {
            let mut n = Node::new(format!("n{i}"));
            n.set_property(&long, Vec::new());
            fdt.root.children.push(n);
        }
        let blob = fdt.to_bytes();
        assert!(message(&blob).contains("take too much memory"));
    }
}

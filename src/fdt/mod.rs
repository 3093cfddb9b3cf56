//! Our own flattened device tree codec (spec §7 explains why not vm-fdt/fdt).
//!
//! [`Fdt`] is the whole blob as a tree: header facts that must survive a
//! round trip (`boot_cpuid_phys`), the memory reservation block, and every
//! node and property in order, whatever their names. [`read`] turns bytes
//! into a tree and rejects malformed blobs with an [`FdtError`], never a
//! panic; [`write`](mod@write) lays the tree out exactly as `dtc -I dtb -O dtb` does,
//! so an unmodified tree is written back byte-identical to dtc's output;
//! [`dts`] prints the tree as DTS source that dtc accepts.

pub mod cells;
pub mod dts;
pub mod overlay;
pub mod query;
pub mod read;
pub mod references;
pub mod write;

use std::fmt;

/// A parsed device tree blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fdt {
    /// The physical id of the boot CPU (header field, v2+).
    pub boot_cpuid_phys: u32,
    /// `/memreserve/` entries, in order, without the terminating zero entry.
    pub reservations: Vec<Reservation>,
    /// The root node (its name is empty).
    pub root: Node,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub address: u64,
    pub size: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// Name with unit address (`uart@9000000`); empty for the root.
    pub name: String,
    pub properties: Vec<Property>,
    pub children: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub value: Vec<u8>,
}

/// Why a blob could not be read. `offset` is a byte offset into the blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdtError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for FdtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {:#x})", self.message, self.offset)
    }
}

impl std::error::Error for FdtError {}

impl Fdt {
    /// Parse a blob. See [`read::parse`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Fdt, FdtError> {
        read::parse(bytes)
    }

    /// Serialise as `dtc -I dtb -O dtb` would (no padding).
    pub fn to_bytes(&self) -> Vec<u8> {
        write::serialize(self, 0)
    }

    /// Serialise with `padding` zero bytes after the strings block counted
    /// in `totalsize` (room for in-place edits, like `dtc -p`).
    pub fn to_bytes_padded(&self, padding: usize) -> Vec<u8> {
        write::serialize(self, padding)
    }

    /// Find a node by absolute path (`/chosen`, `/cpus/cpu@0`).
    pub fn node(&self, path: &str) -> Option<&Node> {
        let mut node = &self.root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = node.child(part)?;
        }
        Some(node)
    }

    pub fn node_mut(&mut self, path: &str) -> Option<&mut Node> {
        let mut node = &mut self.root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = node.child_mut(part)?;
        }
        Some(node)
    }

    /// Every phandle value used in the tree (`phandle` and `linux,phandle`).
    pub fn max_phandle(&self) -> u32 {
        fn walk(node: &Node, max: &mut u32) {
            for name in ["phandle", "linux,phandle"] {
                if let Some(v) = node.property_u32(name) {
                    *max = (*max).max(v);
                }
            }
            node.children.iter().for_each(|c| walk(c, max));
        }
        let mut max = 0;
        walk(&self.root, &mut max);
        max
    }
}

impl Node {
    pub fn new(name: impl Into<String>) -> Node {
        Node {
            name: name.into(),
            ..Node::default()
        }
    }

    /// The child with exactly this name (with unit address if it has one).
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn child_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    /// The name without its unit address (`uart` for `uart@9000000`).
    pub fn base_name(&self) -> &str {
        self.name.split('@').next().unwrap_or("")
    }

    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The first cell of a property, if it has at least 4 bytes (what Xen's
    /// `dt_property_read_u32` reads).
    pub fn property_u32(&self, name: &str) -> Option<u32> {
        let v = &self.property(name)?.value;
        Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
    }

    /// The strings of a string-list property (`compatible`).
    pub fn property_strings(&self, name: &str) -> Vec<&str> {
        self.property(name)
            .map(|p| string_list(&p.value))
            .unwrap_or_default()
    }

    pub fn is_compatible(&self, compatible: &str) -> bool {
        self.property_strings("compatible").contains(&compatible)
    }

    /// Replace a property's value, or append the property.
    pub fn set_property(&mut self, name: &str, value: Vec<u8>) {
        match self.properties.iter_mut().find(|p| p.name == name) {
            Some(p) => p.value = value,
            None => self.properties.push(Property {
                name: name.to_string(),
                value,
            }),
        }
    }

    pub fn remove_property(&mut self, name: &str) -> Option<Property> {
        let i = self.properties.iter().position(|p| p.name == name)?;
        Some(self.properties.remove(i))
    }
}

/// Split a string-list value at its NULs (empty trailing piece dropped).
pub fn string_list(value: &[u8]) -> Vec<&str> {
    let value = value.strip_suffix(&[0]).unwrap_or(value);
    if value.is_empty() {
        return Vec::new();
    }
    value
        .split(|&b| b == 0)
        .map(|s| std::str::from_utf8(s).unwrap_or(""))
        .collect()
}

/// Encoders for property values, so callers never hand-assemble bytes.
pub mod value {
    pub fn u32(v: u32) -> Vec<u8> {
        v.to_be_bytes().to_vec()
    }

    pub fn cells(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// A 64-bit number as two cells (`<hi lo>`), what Xen's
    /// `dt_property_read_u64` reads.
    pub fn u64(v: u64) -> Vec<u8> {
        v.to_be_bytes().to_vec()
    }

    pub fn string(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }

    pub fn strings(list: &[&str]) -> Vec<u8> {
        list.iter().flat_map(|s| string(s)).collect()
    }
}

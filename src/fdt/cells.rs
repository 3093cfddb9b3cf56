//! Numbers and `(address, size)` entries stored in 32-bit big-endian
//! cells, decoded with the `#address-cells`/`#size-cells` a node gives its
//! children: the one cell decoder the host reader, the tree queries and
//! the explanations share.

use super::Node;
use crate::range::Range;

/// `#address-cells` and `#size-cells` of a node, for its children's `reg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cells {
    pub address: u32,
    pub size: u32,
}

impl Cells {
    /// The cells a node gives its children; absent ones take the DT
    /// defaults 2 and 1 (what Xen and Linux assume at the root).
    pub fn of(node: &Node) -> Cells {
        Cells {
            address: node.property_u32("#address-cells").unwrap_or(2),
            size: node.property_u32("#size-cells").unwrap_or(1),
        }
    }

    /// Whether entries decoded with these cells can be memory ranges: 1 or
    /// 2 address cells, at most 2 size cells (Xen reads no wider numbers).
    pub fn describe_memory(self) -> bool {
        (1..=2).contains(&self.address) && self.size <= 2
    }

    /// Cells in one `(address, size)` entry.
    pub fn per_entry(self) -> usize {
        (self.address + self.size) as usize
    }
}

/// A number of `cells` cells (0, 1 or 2) at cell `index` of `value`.
pub fn read_number(value: &[u8], index: usize, cells: u32) -> Option<u64> {
    let mut n: u64 = 0;
    for i in 0..cells as usize {
        let at = (index + i).checked_mul(4)?;
        let cell = u32::from_be_bytes(value.get(at..at.checked_add(4)?)?.try_into().ok()?);
        n = n.checked_shl(32).unwrap_or(0) | u64::from(cell);
    }
    (cells <= 2).then_some(n)
}

/// Exactly one number of 1 or 2 cells filling `value`.
pub fn whole_number(value: &[u8], cells: u32) -> Option<u64> {
    let fits = (1..=2).contains(&cells) && value.len() == 4 * cells as usize;
    fits.then(|| read_number(value, 0, cells)).flatten()
}

/// The whole `(address, size)` entries of a `reg`-style value (a trailing
/// partial entry is left out); `None` when the cells cannot describe
/// memory ([`Cells::describe_memory`]).
pub fn ranges(value: &[u8], cells: Cells) -> Option<Vec<Range>> {
    if !cells.describe_memory() {
        return None;
    }
    let stride = cells.per_entry();
    let count = value.len() / 4 / stride;
    let entries = (0..count).map(|i| {
        let start = read_number(value, i * stride, cells.address).unwrap_or(0);
        let size = read_number(value, i * stride + cells.address as usize, cells.size).unwrap_or(0);
        Range { start, size }
    });
    Some(entries.collect())
}

/// `(address, size)` entries in `cells` (1 or 2 address cells, 1 or 2
/// size cells, as Xen decodes memory ranges); `None` when the cells cannot
/// hold memory ranges or a number does not fit its cells.
pub fn encode_ranges(ranges: &[Range], cells: Cells) -> Option<Vec<u8>> {
    if !(1..=2).contains(&cells.address) || !(1..=2).contains(&cells.size) {
        return None;
    }
    let mut out = Vec::with_capacity(ranges.len() * cells.per_entry() * 4);
    for r in ranges {
        for (n, width) in [(r.start, cells.address), (r.size, cells.size)] {
            if width == 1 {
                out.extend(u32::try_from(n).ok()?.to_be_bytes());
            } else {
                out.extend(n.to_be_bytes());
            }
        }
    }
    Some(out)
}

/// The cells of a property value (`None` unless a whole number of cells).
pub fn cells_of(value: &[u8]) -> Option<Vec<u32>> {
    if value.len() % 4 != 0 {
        return None;
    }
    Some(
        value
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::value;

    #[test]
    fn encodes_ranges_in_the_cells_given() {
        let r = [Range {
            start: 0x6000_0000,
            size: 0x1000_0000,
        }];
        let one = Cells {
            address: 1,
            size: 1,
        };
        let two = Cells {
            address: 2,
            size: 2,
        };
        let bytes = encode_ranges(&r, one).unwrap();
        assert_eq!(bytes.len(), 8);
        assert_eq!(ranges(&bytes, one).unwrap(), r.to_vec());
        assert_eq!(
            ranges(&encode_ranges(&r, two).unwrap(), two).unwrap(),
            r.to_vec()
        );
        let high = [Range {
            start: 0x8_0000_0000,
            size: 0x1000,
        }];
        assert_eq!(encode_ranges(&high, one), None);
        assert_eq!(
            encode_ranges(
                &r,
                Cells {
                    address: 0,
                    size: 1
                }
            ),
            None
        );
    }

    #[test]
    fn decodes_entries_and_leaves_partial_ones_out() {
        let two_one = Cells {
            address: 2,
            size: 1,
        };
        let bytes = value::cells(&[1, 0x4000_0000, 0x1000, 9]);
        assert_eq!(
            ranges(&bytes, two_one),
            Some(vec![Range::new(0x1_4000_0000, 0x1000)])
        );
        assert_eq!(ranges(&[0; 13], two_one).map(|r| r.len()), Some(1));
    }

    #[test]
    fn odd_cells_give_nothing() {
        let cells = |address, size| Cells { address, size };
        assert_eq!(ranges(&[0; 12], cells(0, 1)), None);
        assert_eq!(ranges(&[0; 12], cells(3, 1)), None);
        assert_eq!(ranges(&[0; 12], cells(1, 3)), None);
        assert_eq!(ranges(&[0; 8], cells(1, 0)).map(|r| r.len()), Some(2));
    }

    #[test]
    fn reads_numbers_of_one_or_two_cells() {
        let bytes = value::cells(&[1, 2]);
        assert_eq!(read_number(&bytes, 0, 2), Some(0x1_0000_0002));
        assert_eq!(read_number(&bytes, 1, 1), Some(2));
        assert_eq!(read_number(&bytes, 1, 2), None);
        assert_eq!(read_number(&bytes, 0, 0), Some(0));
        assert_eq!(whole_number(&bytes, 2), Some(0x1_0000_0002));
        assert_eq!(whole_number(&bytes, 1), None);
    }
}

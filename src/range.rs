//! One range of addresses, `[start, start + size)`, for every address
//! space xencfg reasons about: host physical memory, MMIO, guest physical
//! memory.
//!
//! A leaf: it imports nothing from the crate, so the codec, the host
//! reader, the model and the checks can all share it.
//!
//! Zero-size ranges are empty: they hold no byte, so they overlap nothing
//! (Xen skips an empty bank when it records reserved memory, and checks
//! overlaps between the banks it recorded). The end is exact (`u128`): a
//! range may end at 2^64.

use std::fmt;

/// `[start, start + size)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    pub start: u64,
    pub size: u64,
}

impl Range {
    pub fn new(start: u64, size: u64) -> Range {
        Range { start, size }
    }

    /// One past the last byte.
    pub fn end(self) -> u128 {
        u128::from(self.start) + u128::from(self.size)
    }

    pub fn is_empty(self) -> bool {
        self.size == 0
    }

    /// Whether the two share a byte (an empty range shares none).
    pub fn overlaps(self, other: Range) -> bool {
        !self.is_empty()
            && !other.is_empty()
            && u128::from(self.start) < other.end()
            && u128::from(other.start) < self.end()
    }

    /// Whether `other` lies wholly inside `self` (an empty `other` does
    /// when its start is in `[self.start, self.end()]`).
    pub fn contains(self, other: Range) -> bool {
        self.start <= other.start && other.end() <= self.end()
    }

    /// The bytes both hold, if any.
    pub fn intersection(self, other: Range) -> Option<Range> {
        let start = self.start.max(other.start);
        let end = self.end().min(other.end());
        (u128::from(start) < end).then(|| Range::spanning(start, end))
    }

    /// The parts of `self` no range of `cuts` overlaps, ascending.
    pub fn minus(self, cuts: &[Range]) -> Vec<Range> {
        let mut inside: Vec<Range> = cuts.iter().copied().filter(|c| c.overlaps(self)).collect();
        inside.sort_by_key(|c| c.start);
        let mut pieces = Vec::new();
        let mut at = u128::from(self.start);
        for cut in inside {
            if u128::from(cut.start) > at {
                pieces.push(Range::spanning(at as u64, u128::from(cut.start)));
            }
            at = at.max(cut.end());
        }
        if self.end() > at {
            pieces.push(Range::spanning(at as u64, self.end()));
        }
        pieces
    }

    /// The smallest range covering this one whose start and end are
    /// multiples of `align` (a power of two).
    pub fn aligned_out(self, align: u64) -> Range {
        let start = self.start & !(align - 1);
        let end = self.end().div_ceil(u128::from(align)) * u128::from(align);
        Range::spanning(start, end)
    }

    /// `[start, end)`; a size past `u64::MAX` (only `[0, 2^64)`) is cut to it.
    fn spanning(start: u64, end: u128) -> Range {
        Range {
            start,
            size: u64::try_from(end - u128::from(start)).unwrap_or(u64::MAX),
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}..{:#x}", self.start, self.end())
    }
}

/// Bytes covered by `ranges`, each byte counted once.
pub fn union_size(ranges: &[Range]) -> u64 {
    let mut sorted = ranges.to_vec();
    sorted.sort();
    let mut total: u128 = 0;
    let mut covered_to: u128 = 0;
    for r in sorted {
        let start = u128::from(r.start).max(covered_to);
        if r.end() > start {
            total += r.end() - start;
        }
        covered_to = covered_to.max(r.end());
    }
    u64::try_from(total).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_overlap_and_nest() {
        let a = Range::new(0x1000, 0x1000);
        let b = Range::new(0x1800, 0x1000);
        let c = Range::new(0x2000, 0x1000);
        assert!(a.overlaps(b) && b.overlaps(c) && !a.overlaps(c));
        assert!(a.overlaps(Range::new(0x1fff, 2)));
        assert!(Range::new(0, 0x10000).contains(a));
        assert!(!a.contains(b));
        assert_eq!(a.intersection(b), Some(Range::new(0x1800, 0x800)));
        assert_eq!(a.intersection(c), None);
    }

    #[test]
    fn empty_ranges_overlap_nothing() {
        let a = Range::new(0x1000, 0x1000);
        let inside = Range::new(0x1800, 0);
        assert!(!a.overlaps(inside) && !inside.overlaps(a));
        assert!(!inside.overlaps(inside));
        assert!(a.contains(inside));
        assert_eq!(a.intersection(inside), None);
    }

    #[test]
    fn minus_leaves_the_uncovered_parts() {
        let r = Range::new;
        let bank = r(0x1000, 0x4000);
        let cuts = [
            r(0x3000, 0x100),
            r(0, 0x1800),
            r(0x2000, 0),
            r(0x9000, 0x10),
        ];
        assert_eq!(bank.minus(&cuts), [r(0x1800, 0x1800), r(0x3100, 0x1f00)]);
        assert_eq!(bank.minus(&[r(0, 0x10000)]), []);
    }

    #[test]
    fn the_end_is_exact_at_the_top() {
        let top = Range::new(u64::MAX - 0xfff, 0x1000);
        assert_eq!(top.end(), 1u128 << 64);
        assert_eq!(top.aligned_out(0x1000), top);
        assert!(top.overlaps(Range::new(u64::MAX, 1)));
        assert_eq!(
            Range::new(0x9010010, 0x10).aligned_out(0x1000),
            Range::new(0x9010000, 0x1000)
        );
    }

    #[test]
    fn union_counts_overlaps_once() {
        let r = Range::new;
        assert_eq!(
            union_size(&[r(0, 0x100), r(0x80, 0x100), r(0x1000, 0x10)]),
            0x190
        );
        assert_eq!(union_size(&[]), 0);
    }
}

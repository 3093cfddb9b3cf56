//! The linked structures of a guest (spec §1.4), typed: its cpupool, static
//! event channels, shared memory, static memory and vCPU affinities, plus
//! the cpupool sections they name. Addresses and sizes are bytes in the
//! host (or guest) physical address space.

use super::Spanned;
use crate::binding::StructureSpec;
use crate::diag::Span;
use crate::range::Range;

/// Everything a guest links to, in cfg order.
#[derive(Clone, Debug, Default)]
pub struct GuestStructures {
    pub cpupool: Option<Spanned<String>>,
    pub evtchns: Vec<EvtchnKey>,
    pub shared_mem: Vec<SharedMemKey>,
    pub static_mem: Option<HostRanges>,
    /// `static-mem` was given but rejected (already reported): `memory`
    /// cannot be derived, and its absence is not reported again.
    pub static_mem_rejected: bool,
    pub affinity: Vec<VcpuAffinity>,
    /// Keys the target does not read or lacks the build for
    /// (`checks::binding` reports them).
    pub refused: Vec<RefusedKey>,
}

impl GuestStructures {
    /// The structure keys in use (`cpupool`, `vcpu<N>-affinity`, …), as the
    /// binding's [`crate::binding::STRUCTURES`] names them.
    pub fn keys_used(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        let mut add = |used: bool, key| {
            if used {
                keys.push(key);
            }
        };
        add(self.cpupool.is_some(), "cpupool");
        add(!self.evtchns.is_empty(), "evtchn");
        add(!self.shared_mem.is_empty(), "shared-mem");
        add(self.static_mem.is_some(), "static-mem");
        add(!self.affinity.is_empty(), "vcpu<N>-affinity");
        keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys_used().is_empty()
    }
}

/// A structure key given to a target that does not take it
/// ([`crate::binding::rules::structure_refusal`]); its value is not read.
#[derive(Clone, Debug)]
pub struct RefusedKey {
    pub spec: &'static StructureSpec,
    /// The key as written (`vcpu1-affinity`).
    pub key: String,
    pub span: Span,
}

/// `evtchn=LOCAL-PORT PEER:PEER-PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvtchnKey {
    pub local_port: u32,
    /// A guest name of the same boot section, or `dom0`.
    pub peer: String,
    pub peer_port: u32,
    /// The whole value.
    pub span: Span,
}

/// The name that makes an event channel's peer dom0.
pub const DOM0: &str = "dom0";

/// Who owns a shared-memory region (reference §2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShmRole {
    Owner,
    Borrower,
}

impl ShmRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ShmRole::Owner => "owner",
            ShmRole::Borrower => "borrower",
        }
    }
}

/// `shared-mem=ID [host=ADDR] [guest=ADDR] size=SIZE [role=…]`. An address
/// left out is chosen by the analysis (`analyze::placement`) before any
/// check or writer reads the key: after it, both are `Some` unless placing
/// them failed (reported).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedMemKey {
    pub id: String,
    /// Host physical address.
    pub host: Option<u64>,
    /// Guest physical address.
    pub guest: Option<u64>,
    pub size: u64,
    pub role: Option<ShmRole>,
    /// Which addresses xencfg chose (`explain` says so).
    pub placed: Placed,
    pub span: Span,
}

/// Which addresses of a key xencfg chose rather than the cfg gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placed {
    pub host: bool,
    pub guest: bool,
}

/// Host RAM ranges written as `ADDR:SIZE` or `SIZE` (`static-mem=`,
/// `static-heap=`), in the order given: for a direct-mapped guest the first
/// one is its first bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRanges {
    pub banks: Vec<Spanned<HostBank>>,
    pub span: Span,
}

/// One bank of [`HostRanges`]: `start` is `None` for a size alone until
/// the analysis places it (`analyze::placement`); after it every bank has
/// a start, or the ranges were refused (reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostBank {
    pub start: Option<u64>,
    pub size: u64,
    /// xencfg chose `start`.
    pub placed: bool,
}

impl HostRanges {
    pub fn total(&self) -> u64 {
        self.banks
            .iter()
            .fold(0u64, |sum, b| sum.saturating_add(b.value.size))
    }

    /// The banks that have an address, as host ranges, in order.
    pub fn ranges(&self) -> Vec<Spanned<Range>> {
        self.banks
            .iter()
            .filter_map(|b| {
                let start = b.value.start?;
                Some(Spanned::new(
                    Range {
                        start,
                        size: b.value.size,
                    },
                    b.span,
                ))
            })
            .collect()
    }

    /// Some bank is a size alone, still to be placed.
    pub fn unplaced(&self) -> bool {
        self.banks.iter().any(|b| b.value.start.is_none())
    }
}

/// `vcpu<N>-affinity=CPU-LIST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VcpuAffinity {
    pub vcpu: u32,
    /// Physical CPU numbers, ascending, each once.
    pub pcpus: Vec<u32>,
    /// The key (`vcpu1-affinity`).
    pub key_span: Span,
    /// The list.
    pub span: Span,
}

impl VcpuAffinity {
    /// The list as Xen's `hard-affinity` parser reads it: `0-3,6`.
    pub fn hard_affinity(&self) -> String {
        list_text(&self.pcpus)
    }
}

/// Ascending numbers as Xen's list parsers read them (`hard-affinity`,
/// `llc-colors`): runs collapsed to ranges, `,` between, no blanks.
pub fn list_text(numbers: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(&first) = numbers.get(i) {
        let mut last = first;
        while numbers.get(i + 1) == Some(&(last + 1)) {
            last += 1;
            i += 1;
        }
        parts.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
        i += 1;
    }
    parts.join(",")
}

/// A `[NAME]` section named by some guest's `cpupool=NAME`.
#[derive(Clone, Debug)]
pub struct CpuPool {
    pub name: String,
    pub header: Span,
    pub cpus: Vec<Spanned<PoolCpu>>,
    /// Where `cpus=` is (or the header when it is missing).
    pub cpus_span: Span,
    pub sched: Option<Spanned<String>>,
}

/// One entry of a pool's `cpus=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolCpu {
    /// A host CPU node path (`/cpus/cpu@1`).
    Path(String),
    /// A CPU's hardware id (its `reg`, the MPIDR affinity bits).
    Mpidr(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affinity(pcpus: &[u32]) -> VcpuAffinity {
        let span = Span {
            file: crate::diag::FileId(0),
            offset: 0,
            len: 0,
            line: 1,
            col: 1,
        };
        VcpuAffinity {
            vcpu: 0,
            pcpus: pcpus.to_vec(),
            key_span: span,
            span,
        }
    }

    #[test]
    fn hard_affinity_collapses_runs() {
        assert_eq!(affinity(&[0, 1, 2, 3, 6]).hard_affinity(), "0-3,6");
        assert_eq!(affinity(&[5]).hard_affinity(), "5");
        assert_eq!(affinity(&[1, 3, 4]).hard_affinity(), "1,3-4");
        assert_eq!(affinity(&[]).hard_affinity(), "");
    }
}

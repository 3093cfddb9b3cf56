//! Tying the structure keys of one boot section together, once per
//! section ([`Links::resolve`], kept in its `SectionPlan`): the event
//! channels between its domains, the shared-memory regions its domains
//! (dom0 included) share, and the cpupools they run in. Checks and the merged tree both
//! read these, so they agree on what is linked to what.

use crate::diag::Span;
use crate::model::structures::{CpuPool, DOM0, SharedMemKey};
use crate::model::{BootSection, System};

/// A domain of the boot section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Domain {
    Dom0,
    /// Index into the section's guests.
    Guest(usize),
}

/// One end of an event channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    pub domain: Domain,
    pub port: u32,
}

/// A static event channel: `ends[0]` is the guest that declared it.
#[derive(Clone, Debug)]
pub struct Channel {
    pub ends: [End; 2],
    /// The declaring `evtchn=` value.
    pub span: Span,
}

/// The domain an `evtchn=` peer names, if any.
pub fn peer(section: &BootSection, name: &str) -> Option<Domain> {
    if name == DOM0 {
        return Some(Domain::Dom0);
    }
    section
        .guests
        .iter()
        .position(|g| g.name == name)
        .map(Domain::Guest)
}

/// Every event channel whose peer exists, in declaration order. A channel
/// declared from both ends with the same ports is one channel; any other
/// reuse of a port is kept for the checks to report.
fn channels(section: &BootSection) -> Vec<Channel> {
    let mut out: Vec<Channel> = Vec::new();
    for (i, guest) in section.guests.iter().enumerate() {
        for key in &guest.structures.evtchns {
            let Some(peer) = peer(section, &key.peer) else {
                continue;
            };
            let ends = [
                End {
                    domain: Domain::Guest(i),
                    port: key.local_port,
                },
                End {
                    domain: peer,
                    port: key.peer_port,
                },
            ];
            let same = |c: &Channel| {
                (c.ends[0] == ends[0] && c.ends[1] == ends[1])
                    || (c.ends[0] == ends[1] && c.ends[1] == ends[0])
            };
            if !out.iter().any(same) {
                out.push(Channel {
                    ends,
                    span: key.span,
                });
            }
        }
    }
    out
}

/// What links the domains of one boot section.
#[derive(Clone, Debug, Default)]
pub struct Links {
    pub channels: Vec<Channel>,
    /// Each region: (domain, index of its `shared-mem=`) per member.
    regions: Vec<Vec<(Domain, usize)>>,
    /// Indices into `System::pools` of the pools the guests run in.
    pools: Vec<usize>,
}

impl Links {
    pub fn resolve(system: &System, section: &BootSection) -> Links {
        let index_of = |domain: Domain, key: &SharedMemKey| {
            shared_mem_of(section, domain)
                .iter()
                .position(|k| std::ptr::eq(k, key))
                .map(|k| (domain, k))
        };
        Links {
            channels: channels(section),
            regions: regions(section)
                .iter()
                .map(|r| {
                    r.members
                        .iter()
                        .filter_map(|&(d, k)| index_of(d, k))
                        .collect()
                })
                .collect(),
            pools: pools(system, section)
                .iter()
                .filter_map(|p| system.pools.iter().position(|q| std::ptr::eq(*p, q)))
                .collect(),
        }
    }

    /// The section's shared-memory regions by id, in first-use order
    /// (dom0's keys, in the boot section, before the guests').
    pub fn regions<'s>(&self, section: &'s BootSection) -> Vec<Region<'s>> {
        self.regions
            .iter()
            .map(|members| {
                let members: Vec<(Domain, &SharedMemKey)> = members
                    .iter()
                    .map(|&(d, k)| (d, &shared_mem_of(section, d)[k]))
                    .collect();
                Region {
                    id: &members[0].1.id,
                    members,
                }
            })
            .collect()
    }

    /// The pools the section's guests run in, in first-use order.
    pub fn pools<'s>(&self, system: &'s System) -> Vec<&'s CpuPool> {
        self.pools.iter().map(|&i| &system.pools[i]).collect()
    }
}

/// The domains sharing one region id.
#[derive(Debug)]
pub struct Region<'s> {
    pub id: &'s str,
    /// (domain, its `shared-mem=`): dom0 first, then the guests in order.
    pub members: Vec<(Domain, &'s SharedMemKey)>,
}

/// The `shared-mem=` keys of one domain of the section (dom0's are the boot
/// section's own).
pub fn shared_mem_of(section: &BootSection, domain: Domain) -> &[SharedMemKey] {
    match domain {
        Domain::Dom0 => &section.dom0_structures.shared_mem,
        Domain::Guest(i) => section
            .guests
            .get(i)
            .map_or(&[][..], |g| &g.structures.shared_mem[..]),
    }
}

/// The section's shared-memory regions by id, in first-use order.
fn regions(section: &BootSection) -> Vec<Region<'_>> {
    let mut out: Vec<Region> = Vec::new();
    let domains = std::iter::once(Domain::Dom0).chain((0..section.guests.len()).map(Domain::Guest));
    for domain in domains {
        for key in shared_mem_of(section, domain) {
            match out.iter_mut().find(|r| r.id == key.id) {
                Some(r) => r.members.push((domain, key)),
                None => out.push(Region {
                    id: &key.id,
                    members: vec![(domain, key)],
                }),
            }
        }
    }
    out
}

/// The pools the section's guests run in, in first-use order (unknown
/// names are skipped: the checks report them).
fn pools<'s>(system: &'s System, section: &BootSection) -> Vec<&'s CpuPool> {
    let mut out: Vec<&CpuPool> = Vec::new();
    for guest in &section.guests {
        let Some(name) = &guest.structures.cpupool else {
            continue;
        };
        if let Some(pool) = system.pools.iter().find(|p| p.name == name.value) {
            if !out.iter().any(|p| p.name == pool.name) {
                out.push(pool);
            }
        }
    }
    out
}

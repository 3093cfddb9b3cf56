//! The checks: one table of rules ([`TABLE`]) run over the [`Plan`] by one
//! walker ([`run`]), after dtc's `checks.c`. Each entry names its rule
//! family, the function that finds its diagnostics and its prerequisites;
//! a section whose prerequisite is not met (no host tree) is skipped, so a
//! missing input is reported once and not again by every rule that reads
//! it. The codes, levels and explanations are the catalogue
//! [`crate::diag::codes`].

pub mod binding;
pub mod chain;
pub mod cmdline;
pub mod domains;
pub mod files;
pub mod guests;
pub mod heap;
pub mod host;
pub mod links;
pub mod memory;
pub mod merged;
pub mod sections;
pub mod target;

use crate::analyze::{Plan, SectionView};
use crate::diag::Diagnostics;

/// One rule family of the table.
pub struct Rule {
    /// Its name in the table (kebab-case).
    pub name: &'static str,
    pub scope: Scope,
    pub requires: &'static [Prerequisite],
}

/// What a rule looks at.
pub enum Scope {
    /// The whole system, once.
    System(fn(&Plan, &mut Diagnostics)),
    /// Each boot section in turn.
    Section(fn(&SectionView, &mut Diagnostics)),
}

/// What must hold for a rule to run on a section.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Prerequisite {
    /// The section's host tree was read (overlays applied).
    HostTree,
}

impl Prerequisite {
    fn holds(self, view: &SectionView) -> bool {
        match self {
            Prerequisite::HostTree => view.host_tree.is_some(),
        }
    }
}

/// Every rule, in the order they run (findings are sorted before they are
/// shown, so the order only matters for what a rule may assume).
pub static TABLE: &[Rule] = &[
    Rule {
        name: "binding",
        scope: Scope::System(binding_rules),
        requires: &[],
    },
    Rule {
        name: "chain",
        scope: Scope::System(chain::check),
        requires: &[],
    },
    Rule {
        name: "default-section",
        scope: Scope::System(sections::default_section),
        requires: &[],
    },
    Rule {
        name: "file-content",
        scope: Scope::System(files::check),
        requires: &[],
    },
    Rule {
        name: "output-names",
        scope: Scope::System(sections::names),
        requires: &[],
    },
    Rule {
        name: "host-dtb-named",
        scope: Scope::Section(sections::host_dtb_named),
        requires: &[],
    },
    Rule {
        name: "section",
        scope: Scope::Section(sections::check),
        requires: &[],
    },
    Rule {
        name: "command-line",
        scope: Scope::Section(cmdline::check),
        requires: &[],
    },
    Rule {
        name: "guest-names",
        scope: Scope::Section(guests::check),
        requires: &[],
    },
    Rule {
        name: "dom0less-boot",
        scope: Scope::Section(target::dom0less_boot),
        requires: &[],
    },
    Rule {
        name: "passthrough-fragments",
        scope: Scope::System(passthrough_fragments),
        requires: &[],
    },
    Rule {
        name: "passthrough",
        scope: Scope::Section(passthrough),
        requires: &[],
    },
    Rule {
        name: "placement",
        scope: Scope::Section(placement),
        requires: &[],
    },
    Rule {
        name: "links",
        scope: Scope::Section(links::check),
        requires: &[],
    },
    Rule {
        name: "memory",
        scope: Scope::Section(memory::check),
        requires: &[],
    },
    Rule {
        name: "static-heap",
        scope: Scope::Section(heap::check),
        requires: &[],
    },
    Rule {
        name: "domains",
        scope: Scope::Section(domains::check),
        requires: &[],
    },
    Rule {
        name: "host-chosen",
        scope: Scope::Section(host::check),
        requires: &[Prerequisite::HostTree],
    },
    Rule {
        name: "merged-trees",
        scope: Scope::System(merged::check),
        requires: &[],
    },
];

/// Run every rule of the table over the plan.
pub fn run(plan: &Plan, diags: &mut Diagnostics) {
    for rule in TABLE {
        match rule.scope {
            Scope::System(check) => check(plan, diags),
            Scope::Section(check) => {
                for view in plan.section_views() {
                    if rule.requires.iter().all(|p| p.holds(&view)) {
                        check(&view, diags);
                    }
                }
            }
        }
    }
}

/// Each typed property against its binding-table entry and the target.
fn binding_rules(plan: &Plan, diags: &mut Diagnostics) {
    binding::check(&plan.system, plan.target(), diags);
}

/// The fragments built from `passthrough=`: what building them found.
fn passthrough_fragments(plan: &Plan, diags: &mut Diagnostics) {
    diags.extend_from(&plan.fragment_findings);
}

/// The passthrough rules run while the analysis derives each guest's
/// devices (one walk of each fragment); their findings are reported here.
fn passthrough(view: &SectionView, diags: &mut Diagnostics) {
    diags.extend_from(&view.analysis().passthrough_findings);
}

/// Memory given as a size alone that the analysis could not place.
fn placement(view: &SectionView, diags: &mut Diagnostics) {
    diags.extend_from(&view.analysis().placement.findings);
}

//! `[global] chain=` (XC0206/XC0207): what following the chain means for
//! Xen, judged from the links [`crate::load::cfg`] followed.

use crate::analyze::Plan;
use crate::diag::codes as c;
use crate::diag::{Diagnostic, Diagnostics};
use crate::load::cfg::ChainEnd;

pub fn check(plan: &Plan, diags: &mut Diagnostics) {
    for link in &plan.chain {
        diags.push(
            Diagnostic::at(&c::CHAIN_USED, link.key_span, "`chain=` is checked but not emitted")
                .note("Xen frees the current cfg before it reads the chained one; xencfg emits one self-contained cfg")
                .help("merge the chained file into this one"),
        );
        if let ChainEnd::Cycle = link.end {
            diags.push(
                Diagnostic::at(
                    &c::CHAIN_CYCLE,
                    link.value_span,
                    format!(
                        "`chain={}` leads back to a file already in the chain",
                        link.value
                    ),
                )
                .note("Xen follows the chain forever at boot when no file has `kernel=`")
                .help("remove the `chain=` that closes the loop"),
            );
        }
    }
}

//! The `xen,domain` binding as data.

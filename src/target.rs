//! The Xen release being targeted.

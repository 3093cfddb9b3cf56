//! `xencfg import`: other tools' configurations as a xen.cfg.
//!
//! [`shell`] reads a bash-style variable file as data (never running it);
//! [`imagebuilder`] maps ImageBuilder's variables onto the cfg language and
//! reports what has no equivalent (XC11xx).

pub mod imagebuilder;
pub mod shell;

//! Ctrl-C (SIGINT), SIGTERM and SIGHUP while the output is being written.
//!
//! By default these end the process at once, leaving the staging directory
//! (hundreds of MiB with `--stage`) and the lock file for the next build to
//! remove. While [`Guard`] lives they only set a flag instead; the copy
//! loops look at it between chunks ([`check`]) and fail, so the normal
//! error path removes what the build made, and [`Guard::finish`] then dies
//! of the same signal, as the caller of xencfg expects (exit 130 for
//! Ctrl-C in a shell). SIGKILL cannot be caught: that case is the next
//! build's cleanup (see the module above).

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The signal received while a guard was installed; 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// The handlers that only take note, until dropped or finished.
pub struct Guard {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl Guard {
    pub fn install() -> Guard {
        let mut previous = Vec::new();
        for signal in SIGNALS {
            // SAFETY: sigaction with a zeroed, then filled, struct; the
            // handler only stores to an atomic. Without SA_RESTART a
            // blocking call (the lock wait) returns EINTR and fails.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = note as *const () as libc::sighandler_t;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) == 0 {
                    previous.push((signal, old));
                }
            }
        }
        Guard { previous }
    }

    /// Put the previous handlers back; if a signal came meanwhile, die of
    /// it now that the build has cleaned up.
    pub fn finish(self) {
        drop(self);
        let signal = RECEIVED.swap(0, Ordering::SeqCst);
        if signal != 0 {
            // SAFETY: restoring the default action and raising a signal
            // the process was sent anyway.
            unsafe {
                libc::signal(signal, libc::SIG_DFL);
                libc::raise(signal);
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for (signal, old) in self.previous.drain(..) {
            // SAFETY: reinstating the action sigaction returned.
            unsafe {
                libc::sigaction(signal, &old, std::ptr::null_mut());
            }
        }
    }
}

/// An error once a signal has asked the build to stop.
pub fn check() -> io::Result<()> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(io::Error::other(format!(
            "interrupted by signal {signal}; the output directory is left as it was"
        ))),
    }
}

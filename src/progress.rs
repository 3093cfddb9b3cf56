//! A progress line on stderr while `build` hashes the referenced files.
//!
//! Hashing hundreds of MiB of kernels and root filesystems takes seconds;
//! on a terminal the user sees `hashing 412.0 MiB of 1.2 GiB (33%)`
//! redrawn in place and erased when done. Nothing is drawn when stderr is
//! not a terminal (the caller decides), for small totals, or for the first
//! fraction of a second, so logs and fast builds stay clean.
//!
//! [`Progress`] is the shared counter the hashing workers add to;
//! [`Meter`] is the thread that draws it.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Totals below this finish too fast to be worth a progress line.
pub const MIN_TOTAL: u64 = 64 << 20;
/// Nothing is drawn before this, so a fast run draws nothing at all.
const FIRST_DRAW: Duration = Duration::from_millis(250);
const REDRAW: Duration = Duration::from_millis(100);

/// Bytes done out of bytes to do; updated from any thread.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Announce how many bytes will be read (before reading them).
    pub fn set_total(&self, bytes: u64) {
        self.total.store(bytes, Ordering::Relaxed);
    }

    pub fn add(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
    }

    fn snapshot(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// The text of the progress line.
pub fn line(done: u64, total: u64) -> String {
    let done = done.min(total);
    let percent = (done as f64 / total.max(1) as f64 * 100.0).floor();
    format!(
        "hashing {} of {} ({percent:.0}%)",
        approx(done),
        approx(total)
    )
}

/// A size for people: exact below 1 KiB, else one decimal (`72.0 MiB`).
pub fn approx(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Draws a [`Progress`] on stderr until dropped; the line is erased then.
pub struct Meter {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Meter {
    pub fn start(progress: Arc<Progress>) -> Meter {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&stop);
        let thread = std::thread::spawn(move || draw_until_stopped(&progress, &signal));
        Meter {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        let (lock, condvar) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        condvar.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn draw_until_stopped(progress: &Progress, stop: &(Mutex<bool>, Condvar)) {
    let started = Instant::now();
    let (lock, condvar) = stop;
    let mut drawn = false;
    let Ok(mut stopped) = lock.lock() else { return };
    while !*stopped {
        stopped = match condvar.wait_timeout(stopped, REDRAW) {
            Ok((guard, _)) => guard,
            Err(_) => return,
        };
        let (done, total) = progress.snapshot();
        if *stopped || total < MIN_TOTAL || started.elapsed() < FIRST_DRAW {
            continue;
        }
        // \r and "erase to end of line": redraw in place.
        let _ = write!(std::io::stderr(), "\r{}\x1b[K", line(done, total));
        drawn = true;
    }
    if drawn {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximate_sizes() {
        assert_eq!(approx(0), "0 B");
        assert_eq!(approx(1023), "1023 B");
        assert_eq!(approx(1024), "1.0 KiB");
        assert_eq!(approx(27 << 20), "27.0 MiB");
        assert_eq!(approx(3 << 30), "3.0 GiB");
    }

    #[test]
    fn line_shows_amounts_and_percent() {
        assert_eq!(line(0, 200 << 20), "hashing 0 B of 200.0 MiB (0%)");
        assert_eq!(
            line(100 << 20, 400 << 20),
            "hashing 100.0 MiB of 400.0 MiB (25%)"
        );
        // A file that grew while read never shows more than 100%.
        assert_eq!(line(3 << 30, 2 << 30), "hashing 2.0 GiB of 2.0 GiB (100%)");
    }

    #[test]
    fn meter_stops_promptly() {
        let progress = Arc::new(Progress::new());
        progress.set_total(1);
        let started = Instant::now();
        drop(Meter::start(Arc::clone(&progress)));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

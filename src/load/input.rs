//! Opening and reading input files without trusting them.
//!
//! Every file xencfg reads is named by a user or a cfg and may be anything:
//! a FIFO (opening it for reading blocks until a writer appears), a device
//! that never ends (`/dev/zero`), a directory, or a regular file far larger
//! than its role allows. So inputs are opened with `O_NONBLOCK` (an open
//! never waits), checked with `fstat` on the descriptor actually opened (no
//! window between a check and the open in which the path can be swapped),
//! and read whole only up to a cap that fits their role.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Open `path` for reading if it is a regular file. Anything else is an
/// error of kind `InvalidInput` whose message names what it is.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        // Without this, opening a FIFO blocks until some process opens it
        // for writing. It changes nothing for regular files.
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a regular file",
                path.display(),
                kind_of(&meta)
            ),
        ));
    }
    Ok(file)
}

/// What a non-regular file is, for messages.
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Why [`read_capped`] gave up.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// The file holds more than the cap; `size` is what it holds (at least
    /// `cap + 1` when it grew while being read).
    TooLarge {
        size: u64,
        cap: u64,
    },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => e.fmt(f),
            ReadError::TooLarge { size, cap } => {
                write!(f, "it is {size} bytes, more than the {cap} bytes read")
            }
        }
    }
}

impl ReadError {
    /// A one-line message naming `path`.
    pub fn message(&self, path: &Path) -> String {
        match self {
            // Already names the path and what it is (the kernel's own
            // EINVAL, also InvalidInput, does not).
            ReadError::Io(e)
                if e.kind() == io::ErrorKind::InvalidInput && e.raw_os_error().is_none() =>
            {
                e.to_string()
            }
            ReadError::Io(e) => format!("cannot read {}: {e}", path.display()),
            ReadError::TooLarge { size, cap } => format!(
                "{} is {size} bytes, more than the {cap} bytes xencfg reads for it",
                path.display()
            ),
        }
    }
}

/// Read a whole regular file of at most `cap` bytes. Memory never exceeds
/// `cap + 1` bytes, whatever the file claims or does while being read.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path).map_err(ReadError::Io)?;
    let size = file.metadata().map_err(ReadError::Io)?.len();
    if size > cap {
        return Err(ReadError::TooLarge { size, cap });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            cap,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn reads_regular_files_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5).unwrap(), b"12345");
        assert!(matches!(
            read_capped(&path, 4),
            Err(ReadError::TooLarge { size: 5, cap: 4 })
        ));
    }

    #[test]
    fn the_kernels_own_einval_is_named_with_the_path() {
        let e = ReadError::Io(io::Error::from_raw_os_error(22));
        let message = e.message(Path::new("/proc/x"));
        assert!(message.starts_with("cannot read /proc/x: "), "{message}");
    }

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_regular(dir.path()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(
            e.to_string()
                .ends_with("is a directory, not a regular file")
        );
        let e = open_regular(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
    }

    #[test]
    fn a_fifo_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        if !Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            eprintln!("mkfifo not available; skipping");
            return;
        }
        // A blocking open would hang here: nothing ever writes to it.
        let e = read_capped(&fifo, 10).unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");
    }
}

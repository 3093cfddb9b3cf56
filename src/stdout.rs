//! Writing a command's result to standard output.
//!
//! A reader that goes away (`xencfg explain | head -c1`) is not an error:
//! the output ends quietly, as `cat`'s does, and the command keeps the exit
//! status its work earned. Any other failure (`> /dev/full`, a full disk)
//! loses the result, so it is an error that says so (exit 2), never a
//! panic and never a silent success.

use crate::error::Error;
use std::io::{self, Write};

/// Write `bytes` to `out` and flush it; a closed pipe counts as written.
pub fn write_to(out: &mut impl Write, bytes: &[u8]) -> Result<(), Error> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Stdout(e)),
    }
}

/// Write `bytes` to standard output (see [`write_to`]).
pub fn write(bytes: &[u8]) -> Result<(), Error> {
    write_to(&mut io::stdout().lock(), bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_quietly_and_a_full_disk_is_an_error() {
        assert!(write_to(&mut Failing(io::ErrorKind::BrokenPipe), b"x").is_ok());
        let e = write_to(&mut Failing(io::ErrorKind::StorageFull), b"x").unwrap_err();
        let message = e.to_string();
        assert!(
            message.contains("cannot write to standard output"),
            "{message}"
        );
    }
}

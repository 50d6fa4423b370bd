//! Errnos of the `atoll` module (the WASI preview 1 numbering; `user/ABI.md`, "Conventions").

use core::fmt;

/// An error returned by an `atoll` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// `E2BIG` (1): an argument list is too long.
    TooBig,
    /// `EAGAIN` (6): a nonblocking call would block.
    WouldBlock,
    /// `EBADF` (8): not a handle of this process.
    BadHandle,
    /// `ECHILD` (12): no such child.
    NoChild,
    /// `EFAULT` (21): a pointer/length pair is outside memory.
    Fault,
    /// `EINVAL` (28): an invalid argument.
    Invalid,
    /// `EIO` (29): an I/O error.
    Io,
    /// `EMSGSIZE` (35): a message is too long (for the buffer, or over 64 KiB).
    MessageSize,
    /// `ENOENT` (44): no such program or file.
    NotFound,
    /// `ENOEXEC` (45): not a module atoll can run.
    NotExecutable,
    /// `ENOMEM` (48): out of memory.
    NoMemory,
    /// `ENOSYS` (52): not implemented (or not running on atoll).
    NotSupported,
    /// `EPERM` (63): not allowed.
    NotPermitted,
    /// `EPIPE` (64): the channel's peer is closed.
    BrokenPipe,
    /// `ESRCH` (71): no such process.
    NoProcess,
    /// Any other errno.
    Other(u16),
}

impl Error {
    /// The error for a non-zero errno.
    pub fn from_errno(errno: u16) -> Error {
        match errno {
            1 => Error::TooBig,
            6 => Error::WouldBlock,
            8 => Error::BadHandle,
            12 => Error::NoChild,
            21 => Error::Fault,
            28 => Error::Invalid,
            29 => Error::Io,
            35 => Error::MessageSize,
            44 => Error::NotFound,
            45 => Error::NotExecutable,
            48 => Error::NoMemory,
            52 => Error::NotSupported,
            63 => Error::NotPermitted,
            64 => Error::BrokenPipe,
            71 => Error::NoProcess,
            n => Error::Other(n),
        }
    }

    /// The errno number.
    pub fn errno(self) -> u16 {
        match self {
            Error::TooBig => 1,
            Error::WouldBlock => 6,
            Error::BadHandle => 8,
            Error::NoChild => 12,
            Error::Fault => 21,
            Error::Invalid => 28,
            Error::Io => 29,
            Error::MessageSize => 35,
            Error::NotFound => 44,
            Error::NotExecutable => 45,
            Error::NoMemory => 48,
            Error::NotSupported => 52,
            Error::NotPermitted => 63,
            Error::BrokenPipe => 64,
            Error::NoProcess => 71,
            Error::Other(n) => n,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Error::TooBig => "argument list too long (E2BIG)",
            Error::WouldBlock => "would block (EAGAIN)",
            Error::BadHandle => "bad handle (EBADF)",
            Error::NoChild => "no such child (ECHILD)",
            Error::Fault => "bad address (EFAULT)",
            Error::Invalid => "invalid argument (EINVAL)",
            Error::Io => "I/O error (EIO)",
            Error::MessageSize => "message too long (EMSGSIZE)",
            Error::NotFound => "no such file or program (ENOENT)",
            Error::NotExecutable => "not an executable module (ENOEXEC)",
            Error::NoMemory => "out of memory (ENOMEM)",
            Error::NotSupported => "not supported (ENOSYS)",
            Error::NotPermitted => "not permitted (EPERM)",
            Error::BrokenPipe => "peer closed (EPIPE)",
            Error::NoProcess => "no such process (ESRCH)",
            Error::Other(_) => "error",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Other(n) => write!(f, "errno {n}"),
            e => f.write_str(e.name()),
        }
    }
}

impl std::error::Error for Error {}

/// `Ok(())` for errno 0, the error otherwise.
pub fn check(errno: i32) -> Result<(), Error> {
    match errno {
        0 => Ok(()),
        n => Err(Error::from_errno(n as u16)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trips() {
        for n in 1..=100u16 {
            assert_eq!(Error::from_errno(n).errno(), n);
        }
        assert_eq!(check(0), Ok(()));
        assert_eq!(check(8), Err(Error::BadHandle));
        assert_eq!(Error::BrokenPipe.to_string(), "peer closed (EPIPE)");
        assert_eq!(Error::Other(99).to_string(), "errno 99");
    }
}

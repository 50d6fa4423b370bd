//! Errnos of the `atoll` module (the WASI preview 1 numbering; `user/ABI.md`, "Conventions").

use core::fmt;

use atoll_abi::Errno;

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

/// Each named error and its errno (`atoll_abi::Errno`, WASI's numbering).
const ERRNOS: [(Error, Errno); 15] = [
    (Error::TooBig, Errno::TooBig),
    (Error::WouldBlock, Errno::Again),
    (Error::BadHandle, Errno::Badf),
    (Error::NoChild, Errno::Child),
    (Error::Fault, Errno::Fault),
    (Error::Invalid, Errno::Inval),
    (Error::Io, Errno::Io),
    (Error::MessageSize, Errno::Msgsize),
    (Error::NotFound, Errno::Noent),
    (Error::NotExecutable, Errno::Noexec),
    (Error::NoMemory, Errno::Nomem),
    (Error::NotSupported, Errno::Nosys),
    (Error::NotPermitted, Errno::Perm),
    (Error::BrokenPipe, Errno::Pipe),
    (Error::NoProcess, Errno::Srch),
];

impl Error {
    /// The error for a non-zero errno.
    pub fn from_errno(errno: u16) -> Error {
        ERRNOS
            .iter()
            .find(|(_, e)| *e as u16 == errno)
            .map_or(Error::Other(errno), |(error, _)| *error)
    }

    /// The errno number.
    pub fn errno(self) -> u16 {
        match self {
            Error::Other(n) => n,
            named => ERRNOS
                .iter()
                .find(|(e, _)| *e == named)
                .map_or(0, |(_, errno)| *errno as u16),
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

//! Linux errno (from `Rlerror`) to WASI errno: one table.

use wasi_p1::Errno;

use crate::Error;
use crate::errno::*;

const TABLE: &[(u32, Errno)] = &[
    (EPERM, Errno::Perm),
    (ENOENT, Errno::Noent),
    (ESRCH, Errno::Srch),
    (EINTR, Errno::Intr),
    (EIO, Errno::Io),
    (ENXIO, Errno::Nxio),
    (E2BIG, Errno::TooBig),
    (ENOEXEC, Errno::Noexec),
    (EBADF, Errno::Badf),
    (ECHILD, Errno::Child),
    (EAGAIN, Errno::Again),
    (ENOMEM, Errno::Nomem),
    (EACCES, Errno::Acces),
    (EFAULT, Errno::Fault),
    (EBUSY, Errno::Busy),
    (EEXIST, Errno::Exist),
    (EXDEV, Errno::Xdev),
    (ENODEV, Errno::Nodev),
    (ENOTDIR, Errno::Notdir),
    (EISDIR, Errno::Isdir),
    (EINVAL, Errno::Inval),
    (ENFILE, Errno::Nfile),
    (EMFILE, Errno::Mfile),
    (ENOTTY, Errno::Notty),
    (ETXTBSY, Errno::Txtbsy),
    (EFBIG, Errno::Fbig),
    (ENOSPC, Errno::Nospc),
    (ESPIPE, Errno::Spipe),
    (EROFS, Errno::Rofs),
    (EMLINK, Errno::Mlink),
    (EPIPE, Errno::Pipe),
    (EDOM, Errno::Dom),
    (ERANGE, Errno::Range),
    (EDEADLK, Errno::Deadlk),
    (ENAMETOOLONG, Errno::Nametoolong),
    (ENOLCK, Errno::Nolck),
    (ENOSYS, Errno::Nosys),
    (ENOTEMPTY, Errno::Notempty),
    (ELOOP, Errno::Loop),
    (ENOMSG, Errno::Nomsg),
    (EIDRM, Errno::Idrm),
    (ENOLINK, Errno::Nolink),
    (EPROTO, Errno::Proto),
    (EMULTIHOP, Errno::Multihop),
    (EBADMSG, Errno::Badmsg),
    (EOVERFLOW, Errno::Overflow),
    (EILSEQ, Errno::Ilseq),
    (ENOTSOCK, Errno::Notsock),
    (EDESTADDRREQ, Errno::Destaddrreq),
    (EMSGSIZE, Errno::Msgsize),
    (EPROTOTYPE, Errno::Prototype),
    (ENOPROTOOPT, Errno::Noprotoopt),
    (EPROTONOSUPPORT, Errno::Protonosupport),
    (EOPNOTSUPP, Errno::Notsup),
    (EAFNOSUPPORT, Errno::Afnosupport),
    (EADDRINUSE, Errno::Addrinuse),
    (EADDRNOTAVAIL, Errno::Addrnotavail),
    (ENETDOWN, Errno::Netdown),
    (ENETUNREACH, Errno::Netunreach),
    (ENETRESET, Errno::Netreset),
    (ECONNABORTED, Errno::Connaborted),
    (ECONNRESET, Errno::Connreset),
    (ENOBUFS, Errno::Nobufs),
    (EISCONN, Errno::Isconn),
    (ENOTCONN, Errno::Notconn),
    (ETIMEDOUT, Errno::Timedout),
    (ECONNREFUSED, Errno::Connrefused),
    (EHOSTUNREACH, Errno::Hostunreach),
    (EALREADY, Errno::Already),
    (EINPROGRESS, Errno::Inprogress),
    (ESTALE, Errno::Stale),
    (EDQUOT, Errno::Dquot),
    (ECANCELED, Errno::Canceled),
    (EOWNERDEAD, Errno::Ownerdead),
    (ENOTRECOVERABLE, Errno::Notrecoverable),
];

/// The WASI errno for a Linux errno; [`Errno::Io`] for one WASI has no name for (such as
/// `ENODATA`).
pub fn from_linux(code: u32) -> Errno {
    TABLE
        .iter()
        .find(|(l, _)| *l == code)
        .map_or(Errno::Io, |(_, w)| *w)
}

/// The WASI errno for a client error.
pub fn from_error(e: Error) -> Errno {
    from_linux(e.errno())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_linux_errno_in_the_table_appears_once_and_maps_to_a_distinct_wasi_errno() {
        for (i, (l, w)) in TABLE.iter().enumerate() {
            for (l2, w2) in &TABLE[i + 1..] {
                assert_ne!(l, l2);
                assert_ne!(w, w2);
            }
            assert_eq!(from_linux(*l), *w);
        }
    }

    #[test]
    fn an_errno_wasi_has_no_name_for_becomes_io() {
        assert_eq!(from_linux(ENODATA), Errno::Io);
        assert_eq!(from_linux(0xdead), Errno::Io);
    }

    #[test]
    fn client_errors_that_are_not_the_servers_answer_become_io() {
        assert_eq!(from_error(Error::Protocol("x")), Errno::Io);
        assert_eq!(from_error(Error::Remote(ENOTEMPTY)), Errno::Notempty);
        assert_eq!(from_error(Error::TooLarge), Errno::Nametoolong);
    }
}

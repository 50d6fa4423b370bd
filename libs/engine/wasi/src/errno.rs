//! `errno` values of WASI preview 1 (witx `$errno`, an `u16`).

use core::fmt;

macro_rules! errnos {
    ($($name:ident = $val:literal, $msg:literal;)*) => {
        /// A WASI preview 1 error number. `Success` is 0; every host function returns one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Errno {
            $(#[doc = $msg] $name = $val,)*
        }

        impl Errno {
            /// A short description, as `strerror` would give.
            pub fn message(self) -> &'static str {
                match self {
                    $(Errno::$name => $msg,)*
                }
            }

            /// The errno with this number, if it is one.
            pub fn from_raw(raw: u16) -> Option<Errno> {
                match raw {
                    $($val => Some(Errno::$name),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    Success = 0, "no error";
    TooBig = 1, "argument list too long";
    Acces = 2, "permission denied";
    Addrinuse = 3, "address in use";
    Addrnotavail = 4, "address not available";
    Afnosupport = 5, "address family not supported";
    Again = 6, "resource unavailable, try again";
    Already = 7, "connection already in progress";
    Badf = 8, "bad file descriptor";
    Badmsg = 9, "bad message";
    Busy = 10, "device or resource busy";
    Canceled = 11, "operation canceled";
    Child = 12, "no child processes";
    Connaborted = 13, "connection aborted";
    Connrefused = 14, "connection refused";
    Connreset = 15, "connection reset";
    Deadlk = 16, "resource deadlock would occur";
    Destaddrreq = 17, "destination address required";
    Dom = 18, "mathematics argument out of domain of function";
    Dquot = 19, "reserved";
    Exist = 20, "file exists";
    Fault = 21, "bad address";
    Fbig = 22, "file too large";
    Hostunreach = 23, "host is unreachable";
    Idrm = 24, "identifier removed";
    Ilseq = 25, "illegal byte sequence";
    Inprogress = 26, "operation in progress";
    Intr = 27, "interrupted function";
    Inval = 28, "invalid argument";
    Io = 29, "I/O error";
    Isconn = 30, "socket is connected";
    Isdir = 31, "is a directory";
    Loop = 32, "too many levels of symbolic links";
    Mfile = 33, "file descriptor value too large";
    Mlink = 34, "too many links";
    Msgsize = 35, "message too large";
    Multihop = 36, "reserved";
    Nametoolong = 37, "filename too long";
    Netdown = 38, "network is down";
    Netreset = 39, "connection aborted by network";
    Netunreach = 40, "network unreachable";
    Nfile = 41, "too many files open in system";
    Nobufs = 42, "no buffer space available";
    Nodev = 43, "no such device";
    Noent = 44, "no such file or directory";
    Noexec = 45, "executable file format error";
    Nolck = 46, "no locks available";
    Nolink = 47, "reserved";
    Nomem = 48, "not enough space";
    Nomsg = 49, "no message of the desired type";
    Noprotoopt = 50, "protocol not available";
    Nospc = 51, "no space left on device";
    Nosys = 52, "function not supported";
    Notconn = 53, "the socket is not connected";
    Notdir = 54, "not a directory or a symbolic link to a directory";
    Notempty = 55, "directory not empty";
    Notrecoverable = 56, "state not recoverable";
    Notsock = 57, "not a socket";
    Notsup = 58, "not supported, or operation not supported on socket";
    Notty = 59, "inappropriate I/O control operation";
    Nxio = 60, "no such device or address";
    Overflow = 61, "value too large to be stored in data type";
    Ownerdead = 62, "previous owner died";
    Perm = 63, "operation not permitted";
    Pipe = 64, "broken pipe";
    Proto = 65, "protocol error";
    Protonosupport = 66, "protocol not supported";
    Prototype = 67, "protocol wrong type for socket";
    Range = 68, "result too large";
    Rofs = 69, "read-only file system";
    Spipe = 70, "invalid seek";
    Srch = 71, "no such process";
    Stale = 72, "reserved";
    Timedout = 73, "connection timed out";
    Txtbsy = 74, "text file busy";
    Xdev = 75, "cross-device link";
    Notcapable = 76, "extension: capabilities insufficient";
}

impl Errno {
    /// The raw number handed to the guest.
    pub fn raw(self) -> u16 {
        self as u16
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errno {})", self.message(), self.raw())
    }
}

impl core::error::Error for Errno {}

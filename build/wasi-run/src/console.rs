//! The program's standard streams are this process's own fds 0, 1 and 2, unbuffered (each
//! WASI write is one write to the fd), and each is a terminal exactly when the real fd is one.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::{AsFd, AsRawFd};

use wasi_p1::{Console, Errno, OutputStream};

pub struct StdioConsole {
    stdin: File,
    stdout: File,
    stderr: File,
    terminal: [bool; 3],
}

impl StdioConsole {
    /// Duplicates this process's fds 0, 1 and 2 (so no buffering of std's handles applies).
    pub fn new() -> std::io::Result<StdioConsole> {
        let (i, o, e) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
        Ok(StdioConsole {
            terminal: [i.is_terminal(), o.is_terminal(), e.is_terminal()],
            stdin: File::from(i.as_fd().try_clone_to_owned()?),
            stdout: File::from(o.as_fd().try_clone_to_owned()?),
            stderr: File::from(e.as_fd().try_clone_to_owned()?),
        })
    }
}

/// The errno for a failed read or write of a stream.
fn errno_of(e: &std::io::Error) -> Errno {
    match e.raw_os_error() {
        Some(libc::EPIPE) => Errno::Pipe,
        Some(libc::EAGAIN) => Errno::Again,
        Some(libc::EBADF) => Errno::Badf,
        Some(libc::ENOSPC) => Errno::Nospc,
        _ => Errno::Io,
    }
}

/// Retries an operation that a signal interrupted.
fn retry<T>(mut op: impl FnMut() -> std::io::Result<T>) -> Result<T, Errno> {
    loop {
        match op() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r.map_err(|e| errno_of(&e)),
        }
    }
}

impl Console for StdioConsole {
    fn write(&mut self, stream: OutputStream, data: &[u8]) -> Result<usize, Errno> {
        let out = match stream {
            OutputStream::Stdout => &mut self.stdout,
            OutputStream::Stderr => &mut self.stderr,
        };
        retry(|| out.write(data))
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        retry(|| self.stdin.read(buf))
    }

    fn stdin_ready(&mut self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.stdin.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid, writable `pollfd` for the duration of the call, and a
        // timeout of 0 makes `poll` return at once.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        // End of input (POLLHUP) and errors are "ready" too: a read returns at once.
        n != 0
    }

    fn is_terminal(&self, fd: u32) -> bool {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.terminal.get(i))
            .is_some_and(|t| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_epipe_and_other_stream_errors_are_eio() {
        assert_eq!(
            errno_of(&std::io::Error::from_raw_os_error(libc::EPIPE)),
            Errno::Pipe
        );
        assert_eq!(errno_of(&std::io::Error::other("x")), Errno::Io);
    }
}

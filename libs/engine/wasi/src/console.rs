//! [`MemConsole`]: a console over in-memory buffers, for tests and for capturing output.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::errno::Errno;
use crate::host::{Console, OutputStream};

/// Stdin from a fixed buffer (then end of input), stdout and stderr collected.
#[derive(Default)]
pub struct MemConsole {
    pub stdin: VecDeque<u8>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Which of fds 0, 1 and 2 claim to be terminals (none by default: captured streams).
    pub terminal: [bool; 3],
}

impl MemConsole {
    pub fn new(stdin: &[u8]) -> Self {
        MemConsole {
            stdin: stdin.iter().copied().collect(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            terminal: [false; 3],
        }
    }
}

impl Console for MemConsole {
    fn write(&mut self, stream: OutputStream, data: &[u8]) -> Result<usize, Errno> {
        match stream {
            OutputStream::Stdout => self.stdout.extend_from_slice(data),
            OutputStream::Stderr => self.stderr.extend_from_slice(data),
        }
        Ok(data.len())
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = buf.len().min(self.stdin.len());
        for (dst, src) in buf.iter_mut().zip(self.stdin.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }

    fn stdin_ready(&mut self) -> bool {
        // Data or end of input: a read never blocks.
        true
    }

    fn is_terminal(&self, fd: u32) -> bool {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.terminal.get(i))
            .is_some_and(|t| *t)
    }
}

/// A console shared with the embedder (e.g. to read captured output after a run).
impl<C: Console> Console for alloc::sync::Arc<spin::Mutex<C>> {
    fn write(&mut self, stream: OutputStream, data: &[u8]) -> Result<usize, Errno> {
        self.lock().write(stream, data)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.lock().read(buf)
    }

    fn stdin_ready(&mut self) -> bool {
        self.lock().stdin_ready()
    }

    fn is_terminal(&self, fd: u32) -> bool {
        self.lock().is_terminal(fd)
    }
}

//! The pure data structures behind atoll's handles and channels, kept free
//! of kernel dependencies so they are tested on the host:
//!
//! - [`HandleTable`]: small non-zero numbers naming a process's objects.
//! - [`Channel`]: the two message queues of a channel and whether each end
//!   is still open, with the send/receive rules of `user/ABI.md`.
//!
//! Blocking is the kernel's business: these calls never wait, they say
//! [`ChannelError::WouldBlock`] and the kernel parks the thread.

#![no_std]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Largest message and handles a process may hold at once: part of the ABI.
pub use atoll_abi::{MAX_HANDLES, MAX_MESSAGE};
/// Messages queued per direction before senders block.
pub const MAX_QUEUED: usize = 64;

/// A process's handles: `1..` map to objects; 0 is never valid.
pub struct HandleTable<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for HandleTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> HandleTable<T> {
    pub const fn new() -> Self {
        Self { slots: Vec::new() }
    }

    /// Stores `obj` under the lowest free handle; `None` if the table is full.
    pub fn insert(&mut self, obj: T) -> Option<u32> {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(obj);
            return Some(i as u32 + 1);
        }
        if self.slots.len() >= MAX_HANDLES {
            return None;
        }
        self.slots.push(Some(obj));
        Some(self.slots.len() as u32)
    }

    pub fn get(&self, handle: u32) -> Option<&T> {
        let i = (handle as usize).checked_sub(1)?;
        self.slots.get(i)?.as_ref()
    }

    /// Removes and returns the object of `handle`.
    pub fn remove(&mut self, handle: u32) -> Option<T> {
        let i = (handle as usize).checked_sub(1)?;
        let obj = self.slots.get_mut(i)?.take();
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        obj
    }

    /// Removes all of `handles` (for moving them elsewhere), or none if any
    /// is invalid or repeated.
    pub fn take_all(&mut self, handles: &[u32]) -> Option<Vec<T>> {
        for (i, &h) in handles.iter().enumerate() {
            if self.get(h).is_none() || handles[..i].contains(&h) {
                return None;
            }
        }
        Some(handles.iter().filter_map(|&h| self.remove(h)).collect())
    }

    /// Live handles.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every object (e.g. when the process ends).
    pub fn drain(&mut self) -> Vec<T> {
        self.slots.drain(..).flatten().collect()
    }
}

/// Why a channel operation did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelError {
    /// The queue is full (send) or empty (receive): wait or `EAGAIN`.
    WouldBlock,
    /// The peer end is closed (send), or closed and the queue drained (receive).
    PeerClosed,
    /// The message is over [`MAX_MESSAGE`] (send), or longer than the
    /// receiver's buffer (receive, with the needed length; it stays queued).
    TooBig(usize),
}

/// A channel: end 0 sends into `queues[1]` (received by end 1) and vice versa.
#[derive(Default)]
pub struct Channel {
    queues: [VecDeque<Vec<u8>>; 2],
    open: [bool; 2],
}

impl Channel {
    /// A channel with both ends open.
    pub fn new() -> Self {
        Self {
            queues: [VecDeque::new(), VecDeque::new()],
            open: [true, true],
        }
    }

    /// Queues `msg` from `end` to its peer.
    pub fn send(&mut self, end: usize, msg: &[u8]) -> Result<(), ChannelError> {
        if msg.len() > MAX_MESSAGE {
            return Err(ChannelError::TooBig(msg.len()));
        }
        if !self.open[1 - end] {
            return Err(ChannelError::PeerClosed);
        }
        let q = &mut self.queues[1 - end];
        if q.len() >= MAX_QUEUED {
            return Err(ChannelError::WouldBlock);
        }
        q.push_back(msg.to_vec());
        Ok(())
    }

    /// Takes the next message for `end` if it fits in `max` bytes.
    pub fn recv(&mut self, end: usize, max: usize) -> Result<Vec<u8>, ChannelError> {
        let q = &mut self.queues[end];
        match q.front() {
            Some(m) if m.len() > max => Err(ChannelError::TooBig(m.len())),
            Some(_) => Ok(q.pop_front().unwrap_or_default()),
            None if !self.open[1 - end] => Err(ChannelError::PeerClosed),
            None => Err(ChannelError::WouldBlock),
        }
    }

    /// Closes `end`: its queue is dropped, the peer sees `PeerClosed`.
    pub fn close(&mut self, end: usize) {
        self.open[end] = false;
        self.queues[end].clear();
    }

    pub fn is_open(&self, end: usize) -> bool {
        self.open[end]
    }

    /// Whether `send` from `end` would not block (it may still fail).
    pub fn can_send(&self, end: usize) -> bool {
        !self.open[1 - end] || self.queues[1 - end].len() < MAX_QUEUED
    }

    /// Whether `recv` on `end` would not block (it may still fail).
    pub fn can_recv(&self, end: usize) -> bool {
        !self.queues[end].is_empty() || !self.open[1 - end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_nonzero_reused_and_private() {
        let mut t = HandleTable::new();
        assert_eq!(t.get(0), None);
        assert_eq!(t.insert('a'), Some(1));
        assert_eq!(t.insert('b'), Some(2));
        assert_eq!(t.get(2), Some(&'b'));
        assert_eq!(t.get(3), None);
        assert_eq!(t.remove(1), Some('a'));
        assert_eq!(t.get(1), None);
        assert_eq!(t.remove(1), None);
        assert_eq!(t.insert('c'), Some(1));
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(u32::MAX), None);
    }

    #[test]
    fn take_all_is_all_or_nothing() {
        let mut t = HandleTable::new();
        let a = t.insert(1).unwrap();
        let b = t.insert(2).unwrap();
        assert_eq!(t.take_all(&[a, 99]), None);
        assert_eq!(t.take_all(&[a, a]), None);
        assert_eq!(t.len(), 2);
        assert_eq!(t.take_all(&[b, a]), Some(alloc::vec![2, 1]));
        assert!(t.is_empty());
    }

    #[test]
    fn table_has_a_limit() {
        let mut t = HandleTable::new();
        for _ in 0..MAX_HANDLES {
            assert!(t.insert(()).is_some());
        }
        assert_eq!(t.insert(()), None);
    }

    #[test]
    fn channel_send_recv_and_limits() {
        let mut c = Channel::new();
        assert_eq!(c.recv(1, 100), Err(ChannelError::WouldBlock));
        c.send(0, b"hello").unwrap();
        assert!(c.can_recv(1) && !c.can_recv(0));
        assert_eq!(c.recv(1, 2), Err(ChannelError::TooBig(5)));
        assert_eq!(c.recv(1, 5).unwrap(), b"hello");
        let big = alloc::vec![0u8; MAX_MESSAGE + 1];
        assert_eq!(c.send(0, &big), Err(ChannelError::TooBig(MAX_MESSAGE + 1)));
        c.send(0, &big[..MAX_MESSAGE]).unwrap();
        for _ in 1..MAX_QUEUED {
            c.send(0, b"x").unwrap();
        }
        assert!(!c.can_send(0));
        assert_eq!(c.send(0, b"x"), Err(ChannelError::WouldBlock));
        assert!(c.can_send(1));
    }

    #[test]
    fn closing_an_end() {
        let mut c = Channel::new();
        c.send(0, b"last").unwrap();
        c.close(0);
        assert_eq!(c.send(1, b"x"), Err(ChannelError::PeerClosed));
        // Queued messages are still delivered, then EPIPE.
        assert_eq!(c.recv(1, 10).unwrap(), b"last");
        assert_eq!(c.recv(1, 10), Err(ChannelError::PeerClosed));
        assert!(c.can_recv(1) && c.can_send(1));
    }
}

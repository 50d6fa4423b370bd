//! Channels as kernel objects: two ends shared by the handles that own them,
//! over `ipc::Channel`'s queues, with blocking sends and receives that a kill
//! ends.

use alloc::sync::Arc;
use alloc::vec::Vec;

use ipc::{Channel, ChannelError};

use crate::sched::thread::WaitQueue;

/// One end of a channel, owned by a handle; dropping it closes the end.
pub struct ChannelEnd(ChannelRef);

/// A reference to a channel end that does not own it (for one call).
#[derive(Clone)]
pub struct ChannelRef {
    shared: Arc<ChannelShared>,
    end: usize,
}

impl core::ops::Deref for ChannelEnd {
    type Target = ChannelRef;
    fn deref(&self) -> &ChannelRef {
        &self.0
    }
}

struct ChannelShared {
    chan: spin::Mutex<Channel>,
    /// Both directions' waiters: woken on every change.
    changed: WaitQueue,
}

impl Drop for ChannelEnd {
    fn drop(&mut self) {
        self.0.shared.chan.lock().close(self.0.end);
        self.0.shared.changed.wake_all();
    }
}

/// A new channel's two ends.
pub fn channel() -> (ChannelEnd, ChannelEnd) {
    let shared = Arc::new(ChannelShared {
        chan: spin::Mutex::new(Channel::new()),
        changed: WaitQueue::new(),
    });
    (
        ChannelEnd(ChannelRef {
            shared: shared.clone(),
            end: 0,
        }),
        ChannelEnd(ChannelRef { shared, end: 1 }),
    )
}

/// Why a blocking channel operation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChanErr {
    Again,
    Pipe,
    MsgSize(usize),
    /// The calling process was killed while waiting.
    Killed,
}

impl ChannelRef {
    pub fn send(&self, msg: &[u8], nonblocking: bool) -> Result<(), ChanErr> {
        loop {
            let r = self.shared.chan.lock().send(self.end, msg);
            match r {
                Ok(()) => {
                    self.shared.changed.wake_all();
                    return Ok(());
                }
                Err(ChannelError::TooBig(n)) => return Err(ChanErr::MsgSize(n)),
                Err(ChannelError::PeerClosed) => return Err(ChanErr::Pipe),
                Err(ChannelError::WouldBlock) if nonblocking => return Err(ChanErr::Again),
                Err(ChannelError::WouldBlock) => {
                    self.shared.changed.wait_until(
                        || self.shared.chan.lock().can_send(self.end),
                        None,
                        super::current_killed,
                    );
                    if super::current_killed() {
                        return Err(ChanErr::Killed);
                    }
                }
            }
        }
    }

    pub fn recv(&self, max: usize, nonblocking: bool) -> Result<Vec<u8>, ChanErr> {
        loop {
            let r = self.shared.chan.lock().recv(self.end, max);
            match r {
                Ok(m) => {
                    self.shared.changed.wake_all();
                    return Ok(m);
                }
                Err(ChannelError::TooBig(n)) => return Err(ChanErr::MsgSize(n)),
                Err(ChannelError::PeerClosed) => return Err(ChanErr::Pipe),
                Err(ChannelError::WouldBlock) if nonblocking => return Err(ChanErr::Again),
                Err(ChannelError::WouldBlock) => {
                    self.shared.changed.wait_until(
                        || self.shared.chan.lock().can_recv(self.end),
                        None,
                        super::current_killed,
                    );
                    if super::current_killed() {
                        return Err(ChanErr::Killed);
                    }
                }
            }
        }
    }
}

//! Requests in flight on one virtqueue, completed by the device's interrupt.
//!
//! A thread adds a request (one buffer for the device to read, at most one for it to
//! write), notes itself as the waiter and parks; the interrupt handler (or the waiter itself,
//! when it wakes for another reason) reaps the used ring in order, records each request's
//! length and unparks its waiter. No one spins waiting for a device, and nothing here
//! allocates, so reaping is safe in interrupt context.

use alloc::sync::Arc;
use core::ptr::NonNull;

use virtio_drivers::Error;
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{SomeTransport, Transport};

use super::hal::KernelHal;
use crate::sched::{thread, thread::Thread, timer};
use crate::sync::IrqMutex;

/// Threads that wait for a free descriptor are woken by name, up to this many; more retry
/// after a short sleep.
const SPACE_WAITERS: usize = 8;

/// One request, from `add` until its owner has taken the result. Requests are not keyed by
/// descriptor token: the device frees the descriptors when a request is reaped, and a new
/// request may reuse them before the owner of the old one has looked.
#[derive(Default)]
struct Slot {
    busy: bool,
    /// The buffers the device got, for `pop_used`.
    out: Option<NonNull<[u8]>>,
    inp: Option<NonNull<[u8]>>,
    /// Bytes the device wrote, once used.
    done: Option<u32>,
    waiter: Option<Arc<Thread>>,
}

/// One virtqueue of `N` descriptors and its requests.
pub struct Requests<const N: usize> {
    queue: VirtQueue<KernelHal, N>,
    index: u16,
    /// Twice the descriptors: every descriptor in flight, plus as many finished requests whose
    /// owners have not woken yet.
    slots: [[Slot; N]; 2],
    /// The slot of the request a descriptor token belongs to, while it is in flight.
    by_token: [u16; N],
    space_waiters: [Option<Arc<Thread>>; SPACE_WAITERS],
}

// SAFETY: the raw buffer pointers in the slots are only dereferenced by `pop_used` while the
// owning request is in flight; the owner (possibly on another hart) waits for it.
unsafe impl<const N: usize> Send for Requests<N> {}

impl<const N: usize> Requests<N> {
    /// Sets up virtqueue `index` of the device (between `begin_init` and `finish_init`).
    pub fn new(transport: &mut SomeTransport<'static>, index: u16) -> Result<Self, Error> {
        Ok(Requests {
            queue: VirtQueue::new(transport, index, false, false)?,
            index,
            slots: core::array::from_fn(|_| core::array::from_fn(|_| Slot::default())),
            by_token: [0; N],
            space_waiters: Default::default(),
        })
    }

    /// Hands `out` (device reads) and `inp` (device writes) to the device.
    ///
    /// # Safety
    /// Both buffers must stay valid and untouched until [`take`](Self::take) returns the
    /// request's length, and they must lie in the phys map (see `hal`).
    unsafe fn add(
        &mut self,
        transport: &mut SomeTransport<'static>,
        out: Option<&[u8]>,
        inp: Option<&mut [u8]>,
    ) -> Result<usize, Error> {
        let id = (0..2 * N)
            .find(|&i| !self.slot(i).busy)
            .ok_or(Error::QueueFull)?;
        let out_ptr = out.map(NonNull::from);
        let inp_ptr = inp.map(|b| NonNull::from(&mut *b));
        let outs: &[&[u8]] = match &out {
            Some(b) => core::slice::from_ref(b),
            None => &[],
        };
        // SAFETY: the pointer came from the `&mut` the caller gave up until the request ends.
        let mut inp_ref: Option<&mut [u8]> = inp_ptr.map(|p| unsafe { &mut *p.as_ptr() });
        let ins: &mut [&mut [u8]] = match &mut inp_ref {
            Some(b) => core::slice::from_mut(b),
            None => &mut [],
        };
        // SAFETY: the caller keeps the buffers alive and untouched until the request is reaped.
        let token = unsafe { self.queue.add(outs, ins)? };
        self.by_token[token as usize] = id as u16;
        *self.slot(id) = Slot {
            busy: true,
            out: out_ptr,
            inp: inp_ptr,
            done: None,
            waiter: None,
        };
        if self.queue.should_notify() {
            transport.notify(self.index);
        }
        Ok(id)
    }

    fn slot(&mut self, id: usize) -> &mut Slot {
        &mut self.slots[id / N][id % N]
    }

    /// Reaps every used request in order, waking the waiters; returns whether any was used.
    pub fn reap(&mut self) -> bool {
        let mut any = false;
        while let Some(token) = self.queue.peek_used() {
            let id = self.by_token[token as usize] as usize;
            let slot = &mut self.slots[id / N][id % N];
            let outs: &[&[u8]] = &[];
            // SAFETY: the pointers are the request's buffers, still valid (their owner waits).
            let len = unsafe {
                let out = slot.out.map(|p| &*p.as_ptr());
                let inp = slot.inp.map(|p| &mut *p.as_ptr());
                let outs = match &out {
                    Some(b) => core::slice::from_ref(b),
                    None => outs,
                };
                let mut inp = inp;
                let ins: &mut [&mut [u8]] = match &mut inp {
                    Some(b) => core::slice::from_mut(b),
                    None => &mut [],
                };
                self.queue.pop_used(token, outs, ins)
            };
            // A token the device used that we did not add cannot happen with this queue;
            // record 0 bytes rather than stop reaping.
            slot.done = Some(len.unwrap_or(0));
            if let Some(w) = &slot.waiter {
                thread::unpark(w);
            }
            any = true;
        }
        if any {
            for w in self.space_waiters.iter().flatten() {
                thread::unpark(w);
            }
        }
        any
    }

    /// The length the device wrote for request `id`, once it is done; frees its slot.
    fn take(&mut self, id: usize) -> Option<(u32, Option<Arc<Thread>>)> {
        let slot = self.slot(id);
        let len = slot.done?;
        let waiter = slot.waiter.take();
        *slot = Slot::default();
        Some((len, waiter))
    }
}

/// Something holding a transport and a queue of requests, behind one interrupt-safe lock.
pub trait Queue<const N: usize> {
    fn parts(&mut self) -> (&mut SomeTransport<'static>, &mut Requests<N>);
}

/// Runs one request on the queue of `dev` and blocks (parking, not spinning) until the device
/// has used it; returns the number of bytes the device wrote into `inp`.
///
/// The buffers must lie in the phys map (DMA buffers).
pub fn exchange<S: Queue<N>, const N: usize>(
    dev: &IrqMutex<S>,
    out: Option<&[u8]>,
    inp: Option<&mut [u8]>,
) -> Result<u32, Error> {
    let me = thread::current();
    let mut inp = inp;
    let token = loop {
        let mut g = dev.lock();
        let (transport, reqs) = g.parts();
        // SAFETY: this function does not return (so the caller's borrows of `out` and `inp`
        // stay alive and untouched) until `take` says the device is done with them.
        match unsafe { reqs.add(transport, out, inp.as_deref_mut()) } {
            Ok(id) => {
                reqs.slot(id).waiter = me.clone();
                break id;
            }
            Err(Error::QueueFull) => {
                let free = reqs.space_waiters.iter().position(Option::is_none);
                let registered = match (free, &me) {
                    (Some(i), Some(me)) => {
                        reqs.space_waiters[i] = Some(me.clone());
                        Some(i)
                    }
                    _ => None,
                };
                drop(g);
                // Woken when a request completes; without a place in the list, retry soon.
                let deadline = registered.is_none().then(|| timer::now_ns() + 1_000_000);
                thread::park(deadline);
                if let Some(i) = registered {
                    let mut g = dev.lock();
                    let old = g.parts().1.space_waiters[i].take();
                    drop(g);
                    drop(old);
                }
            }
            Err(e) => return Err(e),
        }
    };
    loop {
        let mut g = dev.lock();
        let (_, reqs) = g.parts();
        reqs.reap();
        if let Some((len, waiter)) = reqs.take(token) {
            drop(g);
            // Dropped here, with interrupts on, never in the interrupt handler.
            drop(waiter);
            return Ok(len);
        }
        drop(g);
        thread::park(None);
    }
}

/// The interrupt handler's part: acknowledge and reap.
pub fn on_interrupt<S: Queue<N>, const N: usize>(dev: &IrqMutex<S>) {
    let mut g = dev.lock();
    let (transport, reqs) = g.parts();
    transport.ack_interrupt();
    reqs.reap();
}

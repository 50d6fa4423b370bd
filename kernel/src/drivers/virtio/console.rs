//! virtio-console with multiple ports (`VIRTIO_CONSOLE_F_MULTIPORT`), driving port 1: a byte
//! stream to the host. atoll uses it as the host link (`hostlink`): QEMU's `-device
//! virtserialport,nr=1` on a `virtio-serial-*` bus. Port 0 (`virtconsole`) is not used: QEMU
//! drops console-port data whenever the host side is slow to read, while a serial port makes
//! the guest wait (`serial_ctl` holds the port handshake).
//!
//! Receiving: a few DMA buffers stay posted; the interrupt handler moves what the host sent
//! into a ring and posts the buffer again while the ring has room (so a reader that stops
//! reading stops the host, instead of losing bytes), and unparks readers. Sending: one
//! request per chunk through `requests::exchange`, blocking until the host took it.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bitflags::bitflags;
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{SomeTransport, Transport};

use super::dma::DmaBuf;
use super::hal::KernelHal;
use super::requests::{self, Queue, Requests};
use super::serial_ctl;
use crate::sched::thread::{self, Thread, WaitQueue};
use crate::sync::IrqMutex;

/// The port atoll uses, and its queues (port n >= 1 has queues 2n + 2 and 2n + 3).
pub const PORT: u32 = 1;
const RX_QUEUE: u16 = 2 * PORT as u16 + 2;
const TX_QUEUE: u16 = 2 * PORT as u16 + 3;
const QUEUE_SIZE: usize = 8;
/// Receive buffers kept posted, and their size.
const RX_BUFFERS: usize = 4;
const RX_BUFFER: usize = 4096;
/// Received bytes not yet read (a power of two).
const RING: usize = 64 * 1024;
/// Readers woken by name; more poll after a short sleep.
const READERS: usize = 8;
/// Bytes per send request.
pub const TX_CHUNK: usize = 64 * 1024 + 64;

bitflags! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Features: u64 {
        const MULTIPORT = 1 << 1;
        const VERSION_1 = 1 << 32;
    }
}

struct Rx {
    queue: VirtQueue<KernelHal, QUEUE_SIZE>,
    bufs: [DmaBuf; RX_BUFFERS],
    /// The buffer each descriptor token stands for, while posted.
    posted: [Option<usize>; QUEUE_SIZE],
    /// Buffers waiting for room in the ring before they are posted again.
    idle: [bool; RX_BUFFERS],
    ring: Box<[u8]>,
    head: usize,
    tail: usize,
    readers: [Option<Arc<Thread>>; READERS],
}

struct State {
    transport: SomeTransport<'static>,
    tx: Requests<QUEUE_SIZE>,
    rx: Rx,
    control: serial_ctl::Control,
}

impl Queue<QUEUE_SIZE> for State {
    fn parts(&mut self) -> (&mut SomeTransport<'static>, &mut Requests<QUEUE_SIZE>) {
        (&mut self.transport, &mut self.tx)
    }
}

pub struct ConsoleDevice {
    state: IrqMutex<State>,
    tx_bufs: spin::Mutex<Vec<DmaBuf>>,
    tx_freed: WaitQueue,
}

impl Rx {
    fn free(&self) -> usize {
        RING - (self.head - self.tail)
    }

    /// Posts every idle buffer the ring has room for.
    fn post_idle(&mut self, transport: &mut SomeTransport<'static>) {
        let mut notify = false;
        for i in 0..RX_BUFFERS {
            let in_flight = self.posted.iter().flatten().count();
            if !self.idle[i] || self.free() < (in_flight + 1) * RX_BUFFER {
                continue;
            }
            let buf = self.bufs[i].bytes_mut();
            // SAFETY: the buffer stays owned by `self.bufs` and untouched until popped
            // (`reap`), which passes the same buffer back.
            match unsafe { self.queue.add(&[], &mut [&mut buf[..RX_BUFFER]]) } {
                Ok(token) => {
                    self.posted[token as usize] = Some(i);
                    self.idle[i] = false;
                    notify = true;
                }
                Err(_) => break,
            }
        }
        if notify && self.queue.should_notify() {
            transport.notify(RX_QUEUE);
        }
    }

    /// Moves received bytes into the ring; returns whether any arrived.
    fn reap(&mut self) -> bool {
        let mut any = false;
        while let Some(token) = self.queue.peek_used() {
            let Some(i) = self.posted[token as usize].take() else {
                break;
            };
            let buf = self.bufs[i].bytes_mut();
            // SAFETY: the same buffer `post_idle` added under this token.
            let n = unsafe {
                self.queue
                    .pop_used(token, &[], &mut [&mut buf[..RX_BUFFER]])
            }
            .unwrap_or(0) as usize;
            // `post_idle` only posts a buffer while the ring has room for all posted ones.
            for &b in &self.bufs[i].bytes()[..n.min(RX_BUFFER)] {
                self.ring[self.head % RING] = b;
                self.head += 1;
            }
            self.idle[i] = true;
            any |= n > 0;
        }
        if any {
            for r in self.readers.iter().flatten() {
                thread::unpark(r);
            }
        }
        any
    }
}

impl ConsoleDevice {
    pub fn new(mut transport: SomeTransport<'static>) -> Result<ConsoleDevice, String> {
        let features = transport.begin_init(Features::VERSION_1 | Features::MULTIPORT);
        if !features.contains(Features::MULTIPORT) {
            return Err(String::from("the device has no ports besides the console"));
        }
        let err = |what: &str, e| alloc::format!("{what}: {e:?}");
        let mut control = serial_ctl::Control::new(&mut transport)?;
        let rx_queue = VirtQueue::new(&mut transport, RX_QUEUE, false, false)
            .map_err(|e| err("receive queue", e))?;
        let tx = Requests::new(&mut transport, TX_QUEUE).map_err(|e| err("send queue", e))?;
        transport.finish_init();
        control.open_port(&mut transport, PORT)?;
        let mut rx_bufs = Vec::new();
        for _ in 0..RX_BUFFERS {
            rx_bufs.push(DmaBuf::new(RX_BUFFER).ok_or("no memory for receive buffers")?);
        }
        let bufs: [DmaBuf; RX_BUFFERS] = rx_bufs
            .try_into()
            .map_err(|_| String::from("receive buffers"))?;
        let tx_bufs = (0..2)
            .map(|_| DmaBuf::new(TX_CHUNK).ok_or("no memory for send buffers"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut state = State {
            transport,
            tx,
            control,
            rx: Rx {
                queue: rx_queue,
                bufs,
                posted: [None; QUEUE_SIZE],
                idle: [true; RX_BUFFERS],
                ring: alloc::vec![0; RING].into_boxed_slice(),
                head: 0,
                tail: 0,
                readers: Default::default(),
            },
        };
        let State { transport, rx, .. } = &mut state;
        rx.post_idle(transport);
        Ok(ConsoleDevice {
            state: IrqMutex::new(state),
            tx_bufs: spin::Mutex::new(tx_bufs),
            tx_freed: WaitQueue::new(),
        })
    }

    /// Sends the concatenation of `parts` (at most [`TX_CHUNK`] bytes in all), blocking until
    /// the host has taken it.
    pub fn send(&self, parts: &[&[u8]]) -> Result<(), String> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total > TX_CHUNK {
            return Err(alloc::format!("{total} bytes in one send"));
        }
        let mut buf = loop {
            if let Some(b) = self.tx_bufs.lock().pop() {
                break b;
            }
            self.tx_freed
                .wait_until(|| !self.tx_bufs.lock().is_empty(), None, || false);
        };
        let mut at = 0;
        for p in parts {
            buf.bytes_mut()[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        let r = requests::exchange(&self.state, Some(&buf.bytes()[..at]), None);
        self.tx_bufs.lock().push(buf);
        self.tx_freed.wake_all();
        r.map(|_| ()).map_err(|e| alloc::format!("{e:?}"))
    }

    /// Runs `f` over the received bytes not yet consumed (it returns how many it consumed),
    /// and posts receive buffers the freed room allows.
    pub fn with_received<R>(&self, f: impl FnOnce(&[u8], &[u8]) -> (usize, R)) -> R {
        let mut g = self.state.lock();
        let State { transport, rx, .. } = &mut *g;
        rx.reap();
        let (a, b) = {
            let start = rx.tail % RING;
            let len = rx.head - rx.tail;
            let first = len.min(RING - start);
            (&rx.ring[start..start + first], &rx.ring[..len - first])
        };
        let (used, r) = f(a, b);
        rx.tail += used.min(a.len() + b.len());
        rx.post_idle(transport);
        r
    }

    /// Registers the current thread to be unparked when bytes arrive; false if the list is
    /// full (the caller then polls after a short sleep).
    pub fn add_reader(&self, me: &Arc<Thread>) -> bool {
        let mut g = self.state.lock();
        let readers = &mut g.rx.readers;
        if readers.iter().flatten().any(|r| Arc::ptr_eq(r, me)) {
            return true;
        }
        match readers.iter_mut().find(|r| r.is_none()) {
            Some(slot) => {
                *slot = Some(me.clone());
                true
            }
            None => false,
        }
    }

    pub fn remove_reader(&self, me: &Arc<Thread>) {
        let old = {
            let mut g = self.state.lock();
            g.rx.readers
                .iter_mut()
                .find(|r| r.as_ref().is_some_and(|r| Arc::ptr_eq(r, me)))
                .and_then(Option::take)
        };
        // Dropped with interrupts on.
        drop(old);
    }

    /// The interrupt handler: send completions, received bytes and control messages.
    pub fn on_interrupt(&self) {
        let mut g = self.state.lock();
        let State {
            transport,
            tx,
            rx,
            control,
        } = &mut *g;
        transport.ack_interrupt();
        tx.reap();
        rx.reap();
        rx.post_idle(transport);
        control.reap(transport);
    }
}

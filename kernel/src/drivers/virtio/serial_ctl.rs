//! The control queues of a multiport virtio-console (virtio 1.x, 5.3.6.2): the handshake that
//! makes a port usable. The driver says it is ready, the device adds its ports, the driver
//! answers each with "port ready" and opens the one it uses. The handshake runs once at boot,
//! before interrupts are on, so it polls the queues (bounded by a deadline); afterwards the
//! interrupt handler only takes the device's later messages (a host closing or opening its
//! end) and gives their buffers back.

use alloc::string::String;

use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{SomeTransport, Transport};

use super::dma::DmaBuf;
use super::hal::KernelHal;
use crate::sched::timer;

const CONTROL_RX: u16 = 2;
const CONTROL_TX: u16 = 3;
const QUEUE_SIZE: usize = 8;
/// Control messages: `id: u32, event: u16, value: u16`, a port name may follow.
const MSG: usize = 8;
/// Receive buffers (room for a port name too).
const RX_BUFFERS: usize = 4;
const RX_BUFFER: usize = 256;

const DEVICE_READY: u16 = 0;
const DEVICE_ADD: u16 = 1;
const PORT_READY: u16 = 3;
const PORT_OPEN: u16 = 6;

/// How long the boot-time handshake may take.
const HANDSHAKE_NS: u64 = 2_000_000_000;

pub struct Control {
    rx: VirtQueue<KernelHal, QUEUE_SIZE>,
    tx: VirtQueue<KernelHal, QUEUE_SIZE>,
    /// Receive buffers, `RX_BUFFER` bytes each, and the one each token stands for.
    rx_buf: DmaBuf,
    posted: [Option<usize>; QUEUE_SIZE],
    tx_buf: DmaBuf,
    /// Whether the host has its end of our port open.
    pub host_open: bool,
}

fn message(id: u32, event: u16, value: u16) -> [u8; MSG] {
    let mut m = [0u8; MSG];
    m[0..4].copy_from_slice(&id.to_le_bytes());
    m[4..6].copy_from_slice(&event.to_le_bytes());
    m[6..8].copy_from_slice(&value.to_le_bytes());
    m
}

impl Control {
    /// Sets up the control queues (between `begin_init` and `finish_init`).
    pub fn new(transport: &mut SomeTransport<'static>) -> Result<Control, String> {
        let err = |what: &str, e| alloc::format!("{what}: {e:?}");
        let rx = VirtQueue::new(transport, CONTROL_RX, false, false)
            .map_err(|e| err("control receive queue", e))?;
        let tx = VirtQueue::new(transport, CONTROL_TX, false, false)
            .map_err(|e| err("control send queue", e))?;
        let rx_buf = DmaBuf::new(RX_BUFFERS * RX_BUFFER).ok_or("no memory for control")?;
        let tx_buf = DmaBuf::new(MSG).ok_or("no memory for control")?;
        Ok(Control {
            rx,
            tx,
            rx_buf,
            posted: [None; QUEUE_SIZE],
            tx_buf,
            host_open: false,
        })
    }

    fn post(&mut self, transport: &mut SomeTransport<'static>, i: usize) {
        let buf = &mut self.rx_buf.bytes_mut()[i * RX_BUFFER..(i + 1) * RX_BUFFER];
        // SAFETY: the buffer belongs to `rx_buf`, which outlives the queue's use of it, and
        // nothing touches it until `take` pops it under the same token.
        if let Ok(token) = unsafe { self.rx.add(&[], &mut [buf]) } {
            self.posted[token as usize] = Some(i);
            if self.rx.should_notify() {
                transport.notify(CONTROL_RX);
            }
        }
    }

    /// The next message the device sent, if any; its buffer is posted again.
    fn take(&mut self, transport: &mut SomeTransport<'static>) -> Option<(u32, u16, u16)> {
        let token = self.rx.peek_used()?;
        let i = self.posted[token as usize].take()?;
        let buf = &mut self.rx_buf.bytes_mut()[i * RX_BUFFER..(i + 1) * RX_BUFFER];
        // SAFETY: the buffer `post` added under this token.
        let n = unsafe { self.rx.pop_used(token, &[], &mut [buf]) }.unwrap_or(0) as usize;
        let b = &self.rx_buf.bytes()[i * RX_BUFFER..];
        let msg = (n >= MSG).then(|| {
            (
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                u16::from_le_bytes([b[4], b[5]]),
                u16::from_le_bytes([b[6], b[7]]),
            )
        });
        self.post(transport, i);
        msg
    }

    /// Sends one message and waits (polling: boot time only) until the device took it.
    fn send(
        &mut self,
        transport: &mut SomeTransport<'static>,
        id: u32,
        event: u16,
        value: u16,
    ) -> Result<(), String> {
        let buf = &mut self.tx_buf.bytes_mut()[..MSG];
        buf.copy_from_slice(&message(id, event, value));
        let buf = &self.tx_buf.bytes()[..MSG];
        self.tx
            .add_notify_wait_pop(&[buf], &mut [], transport)
            .map(|_| ())
            .map_err(|e| alloc::format!("control message: {e:?}"))
    }

    /// The boot-time handshake: ready, ports added and answered, `port` opened.
    pub fn open_port(
        &mut self,
        transport: &mut SomeTransport<'static>,
        port: u32,
    ) -> Result<(), String> {
        for i in 0..RX_BUFFERS {
            self.post(transport, i);
        }
        self.send(transport, 0, DEVICE_READY, 1)?;
        let deadline = timer::now_ns() + HANDSHAKE_NS;
        let mut added = false;
        while !added {
            if timer::now_ns() > deadline {
                return Err(alloc::format!("the device never added port {port}"));
            }
            let Some((id, event, value)) = self.take(transport) else {
                crate::arch::relax();
                continue;
            };
            match event {
                DEVICE_ADD => {
                    self.send(transport, id, PORT_READY, 1)?;
                    if id == port {
                        self.send(transport, id, PORT_OPEN, 1)?;
                        added = true;
                    }
                }
                PORT_OPEN if id == port => self.host_open = value == 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Takes what the device sent since (interrupt context; no allocation).
    pub fn reap(&mut self, transport: &mut SomeTransport<'static>) {
        while let Some((id, event, value)) = self.take(transport) {
            if event == PORT_OPEN && id == super::console::PORT {
                self.host_open = value == 1;
            }
        }
    }
}

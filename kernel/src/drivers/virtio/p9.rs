//! virtio-9p: a 9P2000.L channel to a host directory (QEMU `-fsdev local,...` with a
//! `virtio-9p-device` or `virtio-9p-pci`), named by its mount tag.
//!
//! The protocol lives in `libs/kernel/ninep`; this is only the transport: one request message out,
//! one response message back, through DMA bounce buffers from a small pool, with requests
//! from several threads in flight at once and completed by interrupt.

use alloc::string::String;
use alloc::vec::Vec;

use bitflags::bitflags;
use ninep::{Transport, TransportError};
use virtio_drivers::transport::{SomeTransport, Transport as _};

use super::dma::DmaBuf;
use super::requests::{self, Queue, Requests};
use crate::sched::thread::WaitQueue;
use crate::sync::IrqMutex;

/// Descriptors in the request queue.
const QUEUE_SIZE: usize = 16;
/// Requests in flight at once (each holds a pair of `MSIZE` buffers).
const BUFFER_PAIRS: usize = 4;
/// The largest 9P message this transport carries (the client's msize).
pub const MSIZE: usize = 256 * 1024;

bitflags! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Features: u64 {
        /// The config space holds a mount tag.
        const MOUNT_TAG = 1 << 0;
        const VERSION_1 = 1 << 32;
    }
}

struct State {
    transport: SomeTransport<'static>,
    reqs: Requests<QUEUE_SIZE>,
}

impl Queue<QUEUE_SIZE> for State {
    fn parts(&mut self) -> (&mut SomeTransport<'static>, &mut Requests<QUEUE_SIZE>) {
        (&mut self.transport, &mut self.reqs)
    }
}

/// One virtio-9p device.
pub struct P9Device {
    tag: String,
    state: IrqMutex<State>,
    /// Free (request, response) buffer pairs.
    buffers: spin::Mutex<Vec<(DmaBuf, DmaBuf)>>,
    buffer_freed: WaitQueue,
}

impl P9Device {
    /// Initializes the device behind `transport`.
    pub fn new(mut transport: SomeTransport<'static>) -> Result<P9Device, String> {
        let features = transport.begin_init(Features::MOUNT_TAG | Features::VERSION_1);
        let reqs =
            Requests::new(&mut transport, 0).map_err(|e| alloc::format!("request queue: {e:?}"))?;
        transport.finish_init();
        let tag = if features.contains(Features::MOUNT_TAG) {
            read_tag(&transport)?
        } else {
            String::new()
        };
        let mut buffers = Vec::new();
        for _ in 0..BUFFER_PAIRS {
            match (DmaBuf::new(MSIZE), DmaBuf::new(MSIZE)) {
                (Some(a), Some(b)) => buffers.push((a, b)),
                _ => break,
            }
        }
        if buffers.is_empty() {
            return Err(String::from("no memory for its DMA buffers"));
        }
        Ok(P9Device {
            tag,
            state: IrqMutex::new(State { transport, reqs }),
            buffers: spin::Mutex::new(buffers),
            buffer_freed: WaitQueue::new(),
        })
    }

    /// The mount tag QEMU was given (`mount_tag=`).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    fn take_buffers(&self) -> (DmaBuf, DmaBuf) {
        loop {
            if let Some(pair) = self.buffers.lock().pop() {
                return pair;
            }
            self.buffer_freed
                .wait_until(|| !self.buffers.lock().is_empty(), None, || false);
        }
    }

    /// The interrupt handler.
    pub fn on_interrupt(&self) {
        requests::on_interrupt(&self.state);
    }
}

impl Transport for P9Device {
    /// Sends one 9P message and returns the length of the response written to `response`.
    /// Blocks the calling thread until the host answers.
    fn exchange(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        if request.len() > MSIZE {
            return Err(TransportError("request larger than the transport's msize"));
        }
        let (mut req, mut resp) = self.take_buffers();
        req.bytes_mut()[..request.len()].copy_from_slice(request);
        let want = response.len().min(MSIZE);
        let result = requests::exchange(
            &self.state,
            Some(&req.bytes()[..request.len()]),
            Some(&mut resp.bytes_mut()[..want]),
        );
        let out = match result {
            Ok(n) if (n as usize) <= want => {
                response[..n as usize].copy_from_slice(&resp.bytes()[..n as usize]);
                Ok(n as usize)
            }
            Ok(_) => Err(TransportError(
                "the device reported a longer reply than the buffer",
            )),
            Err(_) => Err(TransportError("the device refused the request")),
        };
        self.buffers.lock().push((req, resp));
        self.buffer_freed.wake_all();
        out
    }
}

fn read_tag(transport: &SomeTransport<'static>) -> Result<String, String> {
    let err = |e| alloc::format!("reading the mount tag: {e:?}");
    transport
        .read_consistent(|| {
            let len: u16 = transport.read_config_space(0)?;
            let mut bytes = Vec::with_capacity(usize::from(len));
            for i in 0..usize::from(len) {
                bytes.push(transport.read_config_space::<u8>(2 + i)?);
            }
            Ok(bytes)
        })
        .map_err(err)
        .and_then(|b| String::from_utf8(b).map_err(|_| String::from("mount tag is not UTF-8")))
}

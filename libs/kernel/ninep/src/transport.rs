//! The seam to the device: one synchronous request/response exchange.

use core::fmt;

/// Carries one 9P message to the server and its reply back.
///
/// The kernel implements this over virtio-9p: it copies `request` into a device-readable
/// buffer, posts it with a device-writable buffer of `response.len()` bytes, blocks the
/// calling thread until the device completes that chain (completions arrive out of order;
/// the chain, not the tag, says whose reply it is), and copies the reply into `response`.
///
/// Requirements:
/// - `&self` and thread-safe: several threads call `exchange` at once, each with its own
///   tag; the client never holds a lock of its own across the call, so blocking (or
///   spinning on the device) here cannot deadlock against the client.
/// - `request` is one complete message (`size[4] type[1] tag[2] ...`, at most the negotiated
///   `msize` bytes, except during `Tversion`, which is at most 64 bytes).
/// - `response.len()` is at least what the largest valid reply to this request (an
///   `Rlerror` included) can take and at most the negotiated `msize` (before `Tversion`
///   completes: at most the `msize` being proposed). Large buffers are only passed for
///   `Tread`/`Treaddir`; most are tens of bytes.
/// - Returns how many bytes the server wrote into `response` (virtio's used length).
pub trait Transport: Send + Sync {
    fn exchange(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError>;
}

/// The device failed the exchange (not a file system error: those come back as `Rlerror`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportError(pub &'static str);

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "9P transport: {}", self.0)
    }
}

impl core::error::Error for TransportError {}

impl<T: Transport + ?Sized> Transport for &T {
    fn exchange(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        (**self).exchange(request, response)
    }
}

impl<T: Transport + ?Sized> Transport for alloc::boxed::Box<T> {
    fn exchange(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        (**self).exchange(request, response)
    }
}

impl<T: Transport + ?Sized> Transport for alloc::sync::Arc<T> {
    fn exchange(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        (**self).exchange(request, response)
    }
}

//! Fibers: a body running on a stack of its own, which can suspend itself back to
//! whoever resumed it and be resumed later, on the same thread or another. Async calls
//! ([`super::func::asynchronous`]) run Wasm on one so that a host function can wait
//! without blocking the host thread. No threads or OS support: the stack comes from the
//! [`Platform`] (reserved, then committed above a guard page that stays faulting) and the
//! switch is per-arch assembly ([`crate::arch::atoll_fiber_switch`]).
//!
//! The platform's current activation (the innermost Wasm entry, which trap handling
//! follows) belongs to the stack: each switch saves the side's own and installs the other's.
//! A panic on a fiber cannot unwind past its first frame and aborts.

use alloc::boxed::Box;
use alloc::sync::Arc;

use crate::Error;
use crate::arch;
use crate::platform::Platform;

/// What both sides of a fiber share; boxed, so its address is stable.
struct Shared {
    /// Saved stack pointers of the resumer and of the fiber.
    resumer_sp: usize,
    fiber_sp: usize,
    /// The fiber's innermost activation while it is suspended.
    fiber_activation: *mut u8,
    body: Option<Box<dyn FnOnce() + Send>>,
    done: bool,
    platform: Arc<dyn Platform>,
}

/// A fiber and its stack.
pub(crate) struct Fiber {
    shared: Box<Shared>,
    stack: *mut u8,
    reserved: usize,
}

// SAFETY: the fiber's stack and shared state are only touched by whoever holds the
// `Fiber` (resume) or by the body running on it while resumed; the body is `Send`.
unsafe impl Send for Fiber {}

/// The handle the body uses to suspend itself.
#[derive(Clone, Copy)]
pub(crate) struct Suspend(*mut Shared);

impl Fiber {
    /// A fiber that will run `body` on a stack of `size` bytes when first resumed.
    pub fn new(
        platform: &Arc<dyn Platform>,
        size: usize,
        body: Box<dyn FnOnce() + Send>,
    ) -> Result<Fiber, Error> {
        let page = platform.page_size();
        let size = size.div_ceil(page) * page;
        let reserved = size + page;
        let stack = platform.reserve(reserved)?;
        // SAFETY: `page` is inside the reservation.
        let usable = unsafe { stack.add(page) };
        if let Err(e) = platform.commit(usable, size) {
            // SAFETY: just reserved, unused.
            unsafe { platform.release(stack, reserved) };
            return Err(e);
        }
        let mut shared = Box::new(Shared {
            resumer_sp: 0,
            fiber_sp: 0,
            fiber_activation: core::ptr::null_mut(),
            body: Some(body),
            done: false,
            platform: platform.clone(),
        });
        let top = (usable as usize + size) & !15;
        let arg = &mut *shared as *mut Shared as usize;
        // SAFETY: the top of the committed stack is ours and unused.
        shared.fiber_sp = unsafe { arch::fiber_init(top, fiber_main, arg) };
        Ok(Fiber {
            shared,
            stack,
            reserved,
        })
    }

    /// Runs the fiber until it suspends (false) or its body has returned (true).
    pub fn resume(&mut self) -> bool {
        if self.shared.done {
            return true;
        }
        let shared: *mut Shared = &mut *self.shared;
        // SAFETY: `shared` is live; the fiber's saved context is valid (its first frame,
        // or where it suspended), and it switches back here through `resumer_sp`.
        unsafe {
            let platform = (*shared).platform.clone();
            let mine = platform.activation();
            platform.set_activation((*shared).fiber_activation);
            arch::atoll_fiber_switch(&mut (*shared).resumer_sp, (*shared).fiber_sp);
            (*shared).fiber_activation = platform.activation();
            platform.set_activation(mine);
            (*shared).done
        }
    }

    pub fn is_done(&self) -> bool {
        self.shared.done
    }
}

impl Suspend {
    /// Switches back to the resumer; returns when the fiber is resumed again.
    ///
    /// # Safety
    /// Must be called on the fiber this handle belongs to, while it runs.
    pub unsafe fn suspend(self) {
        // SAFETY: per the contract, we are on the fiber and the resumer waits in `resume`.
        unsafe { arch::atoll_fiber_switch(&mut (*self.0).fiber_sp, (*self.0).resumer_sp) }
    }
}

impl Drop for Fiber {
    fn drop(&mut self) {
        // A fiber dropped while suspended has frames on its stack that will never run
        // again; its owner (an async call) finishes it first so that none hold resources.
        debug_assert!(self.shared.done || self.shared.body.is_some());
        // SAFETY: the reservation is ours and the fiber no longer runs.
        unsafe { self.shared.platform.release(self.stack, self.reserved) };
    }
}

/// The fiber's first function: runs the body, marks it done and switches back for good.
extern "C" fn fiber_main(arg: usize) -> ! {
    let shared = arg as *mut Shared;
    // SAFETY: `arg` is the fiber's `Shared`, live while the fiber can run.
    unsafe {
        if let Some(body) = (*shared).body.take() {
            body();
        }
        (*shared).done = true;
        arch::atoll_fiber_switch(&mut (*shared).fiber_sp, (*shared).resumer_sp);
    }
    unreachable!("a finished fiber was resumed");
}

/// The handle a body running on `fiber` suspends with.
pub(crate) fn suspend_handle(fiber: &mut Fiber) -> Suspend {
    Suspend(&mut *fiber.shared)
}

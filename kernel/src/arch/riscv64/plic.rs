//! The platform-level interrupt controller (PLIC) of one hart context, at
//! a kernel virtual address (the `plic` crate has its register layout).

use core::ptr::{read_volatile, write_volatile};

/// One hart context (S-mode) of a PLIC.
#[derive(Debug, Clone, Copy)]
pub struct Plic {
    base: usize,
    context: usize,
}

impl Plic {
    /// # Safety
    /// `base` must be the (virtual) address of a mapped PLIC and `context` one of its contexts.
    pub const unsafe fn new(base: usize, context: usize) -> Self {
        Self { base, context }
    }

    fn reg(&self, offset: usize) -> *mut u32 {
        (self.base + offset) as *mut u32
    }

    /// Gives `irq` priority 1 and enables it for this context, threshold 0.
    pub fn enable(&self, irq: u32) {
        let word = self.reg(plic::enable_word(self.context, irq));
        // SAFETY: registers of a mapped PLIC (see `new`).
        unsafe {
            write_volatile(self.reg(plic::priority(irq)), 1);
            write_volatile(word, read_volatile(word) | 1 << (irq % 32));
            write_volatile(self.reg(plic::threshold(self.context)), 0);
        }
    }

    /// Claims the highest-priority pending interrupt, if any.
    pub fn claim(&self) -> Option<u32> {
        // SAFETY: the claim register of a mapped PLIC.
        let irq = unsafe { read_volatile(self.reg(plic::claim(self.context))) };
        (irq != 0).then_some(irq)
    }

    /// Signals that `irq` has been handled.
    pub fn complete(&self, irq: u32) {
        // SAFETY: the completion register of a mapped PLIC.
        unsafe { write_volatile(self.reg(plic::claim(self.context)), irq) };
    }
}

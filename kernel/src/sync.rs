//! A spin lock that also masks interrupts on this hart while held, so that
//! interrupt handlers that take it cannot deadlock against the code they interrupted.

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};

use crate::arch::interrupts;

pub struct IrqMutex<T> {
    inner: spin::Mutex<T>,
}

pub struct IrqGuard<'a, T> {
    guard: ManuallyDrop<spin::MutexGuard<'a, T>>,
    were_enabled: bool,
}

impl<T> IrqMutex<T> {
    pub const fn new(value: T) -> Self {
        Self {
            inner: spin::Mutex::new(value),
        }
    }

    /// Waits with interrupts as they were (masked only while trying), so a
    /// hart waiting here still answers IPIs: the holder may be waiting for
    /// this hart, e.g. in an x86_64 TLB shootdown under the page-table lock.
    pub fn lock(&self) -> IrqGuard<'_, T> {
        loop {
            if let Some(g) = self.try_lock() {
                return g;
            }
            while self.inner.is_locked() {
                crate::arch::relax();
            }
        }
    }

    /// Takes the lock only if it is free.
    pub fn try_lock(&self) -> Option<IrqGuard<'_, T>> {
        let were_enabled = interrupts::disable();
        match self.inner.try_lock() {
            Some(g) => Some(IrqGuard {
                guard: ManuallyDrop::new(g),
                were_enabled,
            }),
            None => {
                interrupts::restore(were_enabled);
                None
            }
        }
    }
}

impl<T> Deref for IrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for IrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for IrqGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here, before interrupts come back.
        unsafe { ManuallyDrop::drop(&mut self.guard) };
        interrupts::restore(self.were_enabled);
    }
}

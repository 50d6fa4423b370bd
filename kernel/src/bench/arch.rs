//! The benchmark clock: the kernel's measurement counter (see
//! [`crate::counter`]), shared with the boot milestones.

pub use crate::arch::counter::probe;

//! Harts, per-hart data, the timer and cross-hart calls.

pub mod percpu;
pub mod smp;
pub mod timer;

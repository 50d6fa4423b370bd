//! Harts, per-hart data, the timer, cross-hart calls, and kernel threads
//! with the scheduler.

pub mod parallel;
pub mod percpu;
pub mod smp;
#[cfg(feature = "ktest")]
mod tests;
pub mod thread;
pub mod timer;

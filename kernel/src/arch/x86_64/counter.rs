//! x86_64 counter: the TSC (cycles at the TSC rate; under TCG a scaled
//! host clock, under KVM the real one).

/// The counter to use and its unit.
pub fn probe() -> (fn() -> u64, &'static str) {
    (crate::arch::read_time, "tsc")
}

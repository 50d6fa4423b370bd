//! The panic handler: a caught panic resumes its recovery context; any other
//! prints a backtrace and shuts down (never a silent hang).

use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::Ordering;

use crate::recover::{self, Fault};
use crate::sched::percpu;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let local = percpu::current();
    if let Some(regs) = recover::take_active(Fault::Panic, recover::current_depth()) {
        // SAFETY: only this hart touches its message buffer.
        let msg = unsafe { &mut *local.panic_msg.get() };
        msg.clear();
        let _ = write!(msg, "{}", info.message());
        if let Some(loc) = info.location() {
            let _ = write!(msg, " ({}:{})", loc.file(), loc.line());
        }
        // SAFETY: `take_active` returned a context whose `catch` is on this stack.
        unsafe { crate::recover::recovery_resume(regs) };
    }
    crate::arch::interrupts::disable();
    let mut out = crate::console::panic_writer();
    if local.panicking.swap(true, Ordering::Relaxed) {
        let _ = writeln!(
            out,
            "\npanic while panicking on hart {}: {}",
            local.id(),
            info.message()
        );
        crate::shutdown(false);
    }
    let _ = write!(
        out,
        "\nKERNEL PANIC on hart {}: {}",
        local.id(),
        info.message()
    );
    if let Some(loc) = info.location() {
        let _ = write!(out, " at {}:{}", loc.file(), loc.line());
    }
    let _ = writeln!(out, "\nbacktrace:");
    crate::backtrace::print_here(&mut out);
    crate::shutdown(false);
}

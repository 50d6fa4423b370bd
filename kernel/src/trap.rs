//! Trap dispatch: interrupts to their drivers, exceptions to recovery or to
//! the fault reporter.

use core::sync::atomic::Ordering;

use crate::arch::trap::{Cause, STORE_PAGE_FAULT, TrapFrame, exception_name, is_page_fault};
use crate::recover::redirect_to_recovery;
use crate::recover::{self, Fault};
use crate::sched::percpu;

/// Called by the trap entry assembly with interrupts disabled.
pub extern "C" fn handle_trap(frame: &mut TrapFrame) {
    let local = percpu::current();
    let depth = local.trap_depth.fetch_add(1, Ordering::Relaxed);
    match frame.cause() {
        Cause::TimerInterrupt => {
            crate::sched::timer::on_timer_interrupt();
            if let Some(regs) = recover::take_expired(depth, crate::sched::timer::now_ns()) {
                redirect_to_recovery(frame, regs);
            }
        }
        Cause::SoftwareInterrupt => crate::sched::smp::on_ipi(),
        Cause::ExternalInterrupt => crate::arch::machine::on_external_interrupt(frame),
        Cause::OtherInterrupt(code) => {
            crate::warn!("spurious interrupt {code} on hart {}", local.id());
        }
        // A store to a mapped, writable page that faulted only for want of
        // its dirty bit: set, retry the store.
        Cause::Exception(STORE_PAGE_FAULT)
            if crate::mem::vm::fix_up_store(frame.fault_addr() as u64) => {}
        // Wasm JIT code runs only outside trap handlers (depth 0): a fault
        // there at a trap site is a Wasm trap, resumed in the engine.
        Cause::Exception(_) if depth == 0 && crate::wasm::engine::resume_wasm_trap(frame) => {}
        Cause::Exception(code) => {
            let fault = Fault::Trap {
                cause: code,
                pc: frame.pc(),
                stval: frame.fault_addr(),
            };
            if let Some(regs) = recover::take_active(fault, depth) {
                redirect_to_recovery(frame, regs);
            } else {
                report_fault(frame, code);
            }
        }
    }
    local.trap_depth.fetch_sub(1, Ordering::Relaxed);
}

/// Reports an unrecoverable kernel fault with a backtrace and shuts down.
fn report_fault(frame: &TrapFrame, code: usize) -> ! {
    let local = percpu::current();
    let mut out = crate::console::panic_writer();
    use core::fmt::Write;
    if local.panicking.swap(true, Ordering::Relaxed) {
        // A fault inside the fault reporter: say the minimum and stop.
        let _ = writeln!(
            out,
            "\nnested kernel fault ({}) at pc {:#x}",
            exception_name(code),
            frame.pc()
        );
        crate::shutdown(false);
    }
    let _ = writeln!(
        out,
        "\nKERNEL FAULT on hart {}: {} at pc {:#x}, stval {:#x}",
        local.id(),
        exception_name(code),
        frame.pc(),
        frame.fault_addr()
    );
    if is_page_fault(code) && crate::mem::vm::is_guard_page(frame.fault_addr() as u64) {
        let _ = writeln!(
            out,
            "  the address is in a stack guard page: kernel stack overflow"
        );
    }
    let _ = frame.dump(&mut out);
    let _ = writeln!(out, "backtrace:");
    crate::backtrace::print_from(&mut out, frame.pc(), frame.fp());
    crate::shutdown(false);
}

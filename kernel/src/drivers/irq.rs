//! Device interrupt lines: handlers registered per line and dispatched by the interrupt
//! controller's driver (the PLIC on riscv64, the I/O APIC on x86_64). A line may be shared
//! (PCI INTx): every handler on it runs, and each must tolerate being called when its device
//! did not interrupt.

use crate::sync::IrqMutex;

/// An interrupt input of the platform's controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    /// PLIC source number, or I/O APIC global system interrupt.
    pub number: u32,
    /// Level-triggered (PCI INTx) rather than edge-triggered.
    pub level: bool,
    pub active_low: bool,
}

const MAX_HANDLERS: usize = 32;

type Handler = (u32, fn(usize), usize);

static HANDLERS: IrqMutex<[Option<Handler>; MAX_HANDLERS]> = IrqMutex::new([None; MAX_HANDLERS]);

/// Calls `handler(arg)` in interrupt context whenever `line` fires, and unmasks the line.
pub fn register(line: Line, handler: fn(usize), arg: usize) -> Result<(), &'static str> {
    {
        let mut h = HANDLERS.lock();
        let free = h
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or("too many interrupt handlers")?;
        *free = Some((line.number, handler, arg));
    }
    crate::arch::machine::enable_irq(line)
}

/// Runs the handlers of `line`; false if it has none (a spurious interrupt).
pub fn dispatch(line: u32) -> bool {
    let handlers = *HANDLERS.lock();
    let mut any = false;
    for (_, f, arg) in handlers.iter().flatten().filter(|(n, ..)| *n == line) {
        f(*arg);
        any = true;
    }
    any
}

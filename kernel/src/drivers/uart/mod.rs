//! The console's UART: the `uart` crate's drivers (16550 with any register
//! layout, DesignWare APB, SiFive) on the kernel's buses, MMIO at a kernel
//! virtual address and, on x86_64, I/O ports. The console uses the
//! [`Uart`] trait and never a concrete driver.

pub use ::uart::Uart;
use ::uart::ns16550::Variant;
use ::uart::{Bus, Ns16550, SifiveUart};

/// Registers in MMIO, `width` bytes per access (`reg-io-width`).
#[derive(Debug)]
pub struct Mmio {
    base: usize,
    width: u8,
}

impl Bus for Mmio {
    fn read(&self, offset: usize) -> u32 {
        let at = self.base + offset;
        // SAFETY: `at` is a register of the device `Device::mmio` was given,
        // mapped for the kernel's life; the width is the device's.
        unsafe {
            match self.width {
                1 => u32::from(core::ptr::read_volatile(at as *const u8)),
                2 => u32::from(core::ptr::read_volatile(at as *const u16)),
                _ => core::ptr::read_volatile(at as *const u32),
            }
        }
    }

    fn write(&self, offset: usize, value: u32) {
        let at = self.base + offset;
        // SAFETY: as in `read`.
        unsafe {
            match self.width {
                1 => core::ptr::write_volatile(at as *mut u8, value as u8),
                2 => core::ptr::write_volatile(at as *mut u16, value as u16),
                _ => core::ptr::write_volatile(at as *mut u32, value),
            }
        }
    }
}

/// Registers in x86 I/O space, one byte each.
#[cfg(target_arch = "x86_64")]
#[derive(Debug)]
pub struct Ports {
    base: u16,
}

#[cfg(target_arch = "x86_64")]
impl Bus for Ports {
    fn read(&self, offset: usize) -> u32 {
        // SAFETY: a port of the UART `Device::ports` was given.
        u32::from(unsafe { crate::arch::inb(self.base + offset as u16) })
    }

    fn write(&self, offset: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe { crate::arch::outb(self.base + offset as u16, value as u8) }
    }
}

/// Which driver the UART needs.
pub use ::uart::Kind;

/// A console UART with its driver.
#[derive(Debug)]
// x86_64 PCs use the I/O-port 16550; the MMIO drivers serve riscv64.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub enum Device {
    Ns16550(Ns16550<Mmio>),
    Sifive(SifiveUart<Mmio>),
    #[cfg(target_arch = "x86_64")]
    PortNs16550(Ns16550<Ports>),
}

impl Device {
    /// The UART of `kind` whose registers are mapped at virtual address `base`.
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    ///
    /// # Safety
    /// `base` must map the device's registers (device memory) for the rest of
    /// the kernel's life, and nothing else may drive the device.
    pub unsafe fn mmio(kind: Kind, base: usize, reg_shift: u32, io_width: u8) -> Self {
        let bus = Mmio {
            base,
            width: io_width,
        };
        match kind {
            Kind::Ns16550 => Self::Ns16550(Ns16550::new(bus, reg_shift, Variant::Standard)),
            Kind::DesignWare => Self::Ns16550(Ns16550::new(bus, reg_shift, Variant::DesignWare)),
            Kind::Sifive => Self::Sifive(SifiveUart::new(bus)),
        }
    }

    /// A 16550 at I/O port `base` (PC COM ports).
    ///
    /// # Safety
    /// The ports must be the UART's, and nothing else may drive it.
    #[cfg(target_arch = "x86_64")]
    pub unsafe fn ports(base: u16, reg_shift: u32) -> Self {
        Self::PortNs16550(Ns16550::new(Ports { base }, reg_shift, Variant::Standard))
    }

    fn uart(&self) -> &dyn Uart {
        match self {
            Self::Ns16550(u) => u,
            Self::Sifive(u) => u,
            #[cfg(target_arch = "x86_64")]
            Self::PortNs16550(u) => u,
        }
    }

    /// What it is, for the boot log.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ns16550(u) if u.variant() == Variant::DesignWare => "DesignWare 8250",
            Self::Ns16550(_) => "16550",
            Self::Sifive(_) => "SiFive UART",
            #[cfg(target_arch = "x86_64")]
            Self::PortNs16550(_) => "16550 (I/O ports)",
        }
    }
}

impl Uart for Device {
    fn init(&self) {
        self.uart().init();
    }
    fn try_write(&self, byte: u8) -> bool {
        self.uart().try_write(byte)
    }
    fn read(&self) -> Option<u8> {
        self.uart().read()
    }
    fn set_rx_interrupt(&self, on: bool) {
        self.uart().set_rx_interrupt(on);
    }
    fn acknowledge(&self) {
        self.uart().acknowledge();
    }
}

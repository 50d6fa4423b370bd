//! The boot report of where RAM went and how much is left for programs, so
//! a board with little memory (a 64 MiB Milk-V Duo, a 512 MiB VM) says up
//! front what it can run.

use core::fmt;

use boot_info::{BootInfo, MemoryKind};

use super::{PAGE_SIZE, Size};

/// Below this much free memory the report warns: compiling a program takes
/// a few MiB on top of its linear memory, and Rust programs start with 1 MiB
/// or more of it.
pub const LITTLE_FREE: u64 = 48 << 20;

/// RAM as the kernel sees it after boot.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// All RAM the memory map lists.
    pub ram: u64,
    /// Held by firmware (OpenSBI, reserved-memory nodes, UEFI runtime).
    pub firmware: u64,
    /// Free frames: what processes (and the kernel's growing heap) can have.
    pub free: u64,
}

impl Summary {
    pub fn now(bi: &BootInfo) -> Self {
        let ram = bi.memory_regions().iter().map(|r| r.len).sum();
        let firmware = bi
            .memory_regions()
            .iter()
            .filter(|r| matches!(r.kind, MemoryKind::Reserved))
            .map(|r| r.len)
            .sum();
        let (free, _, _) = super::frames::stats();
        Self {
            ram,
            firmware,
            free: free * PAGE_SIZE,
        }
    }

    /// What the kernel holds: its image and symbols, the initrd, page
    /// tables, stacks, heap.
    pub fn kernel(&self) -> u64 {
        self.ram.saturating_sub(self.firmware + self.free)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "memory: {} RAM, {} firmware, {} kernel (image, symbols, initrd, tables, heap); {} free for programs",
            Size(self.ram),
            Size(self.firmware),
            Size(self.kernel()),
            Size(self.free)
        )?;
        if self.free < LITTLE_FREE {
            write!(
                f,
                "\nwarning: only {} free: programs with big memories or much code fail to start (out of memory)",
                Size(self.free)
            )?;
        }
        Ok(())
    }
}

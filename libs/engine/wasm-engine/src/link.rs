//! Linking: lay the compiled functions out in one code region, apply relocations between
//! them, publish the region W^X through the platform and register it for trap lookup.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::Error;
use crate::code::{CompiledFunction, RelocKind, RelocTarget, trap_kind};
use crate::module::ModuleInfo;
use crate::platform::Platform;
use crate::runtime::engine::Engine;
use crate::runtime::libcalls::Libcall;
use crate::trap::{self, CodeRegion, FuncCode, TrapKind};

/// Published, registered machine code. Unregistered and released on drop.
pub(crate) struct LinkedCode {
    pub base: usize,
    reserved: usize,
    /// Offset of each defined function (index minus imported functions).
    pub func_offsets: Vec<usize>,
    platform: Arc<dyn Platform>,
}

// SAFETY: the code is immutable after publishing; the pointer is only an address.
unsafe impl Send for LinkedCode {}
// SAFETY: as above.
unsafe impl Sync for LinkedCode {}

impl LinkedCode {
    /// Address of defined function `def_index`.
    pub fn func_addr(&self, def_index: usize) -> usize {
        self.base + self.func_offsets[def_index]
    }
}

impl Drop for LinkedCode {
    fn drop(&mut self) {
        if self.reserved != 0 {
            trap::unregister(self.base);
            // SAFETY: the region came from `reserve` and its module (the only user) is gone.
            unsafe { self.platform.release(self.base as *mut u8, self.reserved) };
        }
    }
}

fn patch(
    code: &mut [u8],
    at: usize,
    kind: RelocKind,
    pc: usize,
    target: usize,
) -> Result<(), Error> {
    let delta = (target as i64).wrapping_sub(pc as i64);
    match kind {
        RelocKind::X86CallPCRel4 | RelocKind::X86PCRel4 => {
            let d = i32::try_from(delta).map_err(|_| Error::compile(None, "call out of range"))?;
            code[at..at + 4].copy_from_slice(&d.to_le_bytes());
        }
        RelocKind::Abs8 => code[at..at + 8].copy_from_slice(&(target as u64).to_le_bytes()),
        RelocKind::RiscvCallPlt => {
            // auipc ra, hi20 ; jalr ra, lo12(ra)
            let d = i32::try_from(delta).map_err(|_| Error::compile(None, "call out of range"))?;
            let hi = (d.wrapping_add(0x800) as u32) & 0xffff_f000;
            let lo = (d as u32) & 0xfff;
            let auipc = u32::from_le_bytes(code[at..at + 4].try_into().expect("4 bytes"));
            let jalr = u32::from_le_bytes(code[at + 4..at + 8].try_into().expect("4 bytes"));
            let auipc = (auipc & 0xfff) | hi;
            let jalr = (jalr & 0x000f_ffff) | (lo << 20);
            code[at..at + 4].copy_from_slice(&auipc.to_le_bytes());
            code[at + 4..at + 8].copy_from_slice(&jalr.to_le_bytes());
        }
    }
    Ok(())
}

/// Bytes a relocation of `kind` patches (unsupported kinds fail in `patch`).
fn reloc_size(kind: RelocKind) -> usize {
    match kind {
        RelocKind::X86CallPCRel4 | RelocKind::X86PCRel4 => 4,
        RelocKind::Abs8 | RelocKind::RiscvCallPlt => 8,
    }
}

/// The value of a relocation target once the module's code is at `base`.
fn resolve(
    info: &ModuleInfo,
    offsets: &[usize],
    base: usize,
    target: RelocTarget,
) -> Result<usize, Error> {
    match target {
        RelocTarget::Func(func) => func
            .checked_sub(info.imported_funcs)
            .and_then(|def| offsets.get(def as usize))
            .map(|o| base + o)
            .ok_or_else(|| Error::compile(None, "relocation to a function the module lacks")),
        RelocTarget::Libcall(i) => Libcall::from_index(i).map(Libcall::addr).ok_or_else(|| {
            Error::compile(None, format!("relocation to unknown runtime function {i}"))
        }),
        RelocTarget::SigId(ty) => info
            .sig_ids
            .get(ty as usize)
            .map(|id| *id as usize)
            .ok_or_else(|| Error::compile(None, format!("relocation to unknown type {ty}"))),
    }
}

fn round_up(x: usize, to: usize) -> usize {
    x.div_ceil(to) * to
}

/// Copies `image` into fresh RW memory, makes it RX and registers it.
pub(crate) fn publish(
    platform: &Arc<dyn Platform>,
    image: &[u8],
    traps: Vec<(u32, TrapKind)>,
    funcs: Vec<FuncCode>,
    names: Arc<alloc::collections::BTreeMap<u32, alloc::string::String>>,
) -> Result<(usize, usize), Error> {
    let reserved = round_up(image.len().max(1), platform.page_size());
    let ptr = platform.reserve(reserved)?;
    platform.commit(ptr, reserved)?;
    // SAFETY: `ptr` is a fresh RW mapping of `reserved >= image.len()` bytes.
    unsafe { core::ptr::copy_nonoverlapping(image.as_ptr(), ptr, image.len()) };
    platform.publish_code(ptr, reserved)?;
    trap::register(Arc::new(CodeRegion {
        start: ptr as usize,
        len: image.len(),
        traps,
        funcs,
        names,
    }));
    Ok((ptr as usize, reserved))
}

/// Links a module's functions into one published region.
pub(crate) fn link(
    engine: &Engine,
    info: &ModuleInfo,
    compiled: Vec<CompiledFunction>,
) -> Result<LinkedCode, Error> {
    let platform = engine.platform().clone();
    let mut offsets = Vec::with_capacity(compiled.len());
    let mut size = 0;
    for f in &compiled {
        size = round_up(size, 16);
        offsets.push(size);
        size += f.code.len();
    }
    if compiled.is_empty() {
        return Ok(LinkedCode {
            base: 0,
            reserved: 0,
            func_offsets: offsets,
            platform,
        });
    }
    // Relocations are PC-relative, so they can be resolved against the final address
    // only after reserving; lay out in a buffer first, then patch with the real base.
    let reserved = round_up(size, platform.page_size());
    let base = platform.reserve(reserved)?;
    let base_addr = base as usize;
    let result = (|| {
        let mut image = alloc::vec![0u8; size];
        let mut traps = Vec::new();
        let mut funcs = Vec::new();
        for (i, f) in compiled.iter().enumerate() {
            let off = offsets[i];
            image[off..off + f.code.len()].copy_from_slice(&f.code);
            let end = off + f.code.len();
            for r in &f.relocs {
                let target = resolve(info, &offsets, base_addr, r.target)?;
                let at = off + r.offset as usize;
                if at.checked_add(reloc_size(r.kind)).is_none_or(|e| e > end) {
                    return Err(Error::compile(None, "relocation outside its function"));
                }
                patch(
                    &mut image,
                    at,
                    r.kind,
                    base_addr + at,
                    (target as i64).wrapping_add(r.addend) as usize,
                )?;
            }
            for (o, code) in &f.traps {
                let kind =
                    trap_kind(*code).ok_or_else(|| Error::compile(None, "unknown trap code"))?;
                traps.push((o + off as u32, kind));
            }
            funcs.push(FuncCode {
                start: off as u32,
                len: f.code.len() as u32,
                func_index: info.imported_funcs + i as u32,
                srclocs: f.srclocs.clone(),
            });
        }
        traps.sort_by_key(|t| t.0);
        platform.commit(base, reserved)?;
        // SAFETY: fresh RW mapping of `reserved >= size` bytes.
        unsafe { core::ptr::copy_nonoverlapping(image.as_ptr(), base, size) };
        platform.publish_code(base, reserved)?;
        trap::register(Arc::new(CodeRegion {
            start: base_addr,
            len: size,
            traps,
            funcs,
            names: info.names.clone(),
        }));
        Ok(())
    })();
    if let Err(e) = result {
        // SAFETY: the reservation is ours and unused.
        unsafe { platform.release(base, reserved) };
        return Err(e);
    }
    Ok(LinkedCode {
        base: base_addr,
        reserved,
        func_offsets: offsets,
        platform,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn riscv_call_patch_round_trips() {
        for delta in [
            0i64,
            4,
            -4,
            0x7ff,
            0x800,
            -0x800,
            -0x801,
            0x1234_5678,
            -0x1234_5678,
        ] {
            // auipc ra, 0 ; jalr ra, 0(ra)
            let mut code = alloc::vec![0x97, 0x00, 0x00, 0x00, 0xe7, 0x80, 0x00, 0x00];
            let pc = 0x1000_0000usize;
            patch(
                &mut code,
                0,
                RelocKind::RiscvCallPlt,
                pc,
                (pc as i64 + delta) as usize,
            )
            .unwrap();
            let auipc = u32::from_le_bytes(code[0..4].try_into().unwrap());
            let jalr = u32::from_le_bytes(code[4..8].try_into().unwrap());
            assert_eq!(auipc & 0xfff, 0x097);
            assert_eq!(jalr & 0xf_ffff, 0x80e7);
            let hi = i64::from((auipc & 0xffff_f000) as i32);
            let lo = i64::from((jalr as i32) >> 20);
            assert_eq!(hi + lo, delta, "delta {delta:#x}");
        }
    }

    #[test]
    fn x86_call_patch() {
        let mut code = alloc::vec![0xe8, 0, 0, 0, 0];
        patch(&mut code, 1, RelocKind::X86CallPCRel4, 0x1001, 0x0ff0).unwrap();
        assert_eq!(i32::from_le_bytes(code[1..5].try_into().unwrap()), -0x11);
        assert!(patch(&mut code, 1, RelocKind::X86CallPCRel4, 0, 1 << 40).is_err());
    }
}

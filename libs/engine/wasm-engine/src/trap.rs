//! Trap handling: the global code registry (PC → code region), the per-thread chain of
//! activations (one per host → Wasm entry), and [`handle_fault`], which platform fault
//! handlers call.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::mem::MaybeUninit;

use crate::Error;
use crate::arch;
use crate::error::{FrameInfo, Trap, TrapCode};
use crate::runtime::store::StoreOpaque;
use crate::runtime::vmcontext::VMCTX_STORE;

/// What a trapping instruction means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    Wasm(TrapCode),
    OutOfFuel,
    Interrupted,
    /// A host function failed; its error waits in the activation.
    HostError,
}

/// Machine code of one Wasm function inside a region.
#[derive(Debug)]
pub(crate) struct FuncCode {
    pub start: u32,
    pub len: u32,
    pub func_index: u32,
    /// (start, end, wasm offset), relative to the function start, sorted.
    pub srclocs: Vec<(u32, u32, u32)>,
}

/// A range of published code: a module's functions or an engine trampoline.
#[derive(Debug)]
pub(crate) struct CodeRegion {
    pub start: usize,
    pub len: usize,
    /// (offset from region start, kind), sorted by offset.
    pub traps: Vec<(u32, TrapKind)>,
    /// Sorted by start; empty for trampolines.
    pub funcs: Vec<FuncCode>,
    pub names: Arc<BTreeMap<u32, String>>,
}

impl CodeRegion {
    fn trap_at(&self, offset: u32) -> Option<TrapKind> {
        let i = self.traps.binary_search_by_key(&offset, |t| t.0).ok()?;
        Some(self.traps[i].1)
    }

    fn frame(&self, pc: usize) -> Option<FrameInfo> {
        let off = (pc - self.start) as u32;
        let i = match self.funcs.binary_search_by_key(&off, |f| f.start) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        let f = &self.funcs[i];
        if off >= f.start + f.len {
            return None;
        }
        let rel = off - f.start;
        let module_offset = f
            .srclocs
            .iter()
            .find(|(s, e, _)| *s <= rel && rel < *e)
            .map(|(_, _, w)| *w as usize);
        Some(FrameInfo {
            func_index: f.func_index,
            func_name: self.names.get(&f.func_index).cloned(),
            module_offset,
            code_offset: rel as usize,
        })
    }
}

static REGISTRY: spin::RwLock<BTreeMap<usize, Arc<CodeRegion>>> =
    spin::RwLock::new(BTreeMap::new());

pub(crate) fn register(region: Arc<CodeRegion>) {
    REGISTRY.write().insert(region.start, region);
}

pub(crate) fn unregister(start: usize) {
    REGISTRY.write().remove(&start);
}

fn lookup(pc: usize) -> Option<Arc<CodeRegion>> {
    let reg = REGISTRY.read();
    let (_, r) = reg.range(..=pc).next_back()?;
    if pc < r.start + r.len {
        Some(r.clone())
    } else {
        None
    }
}

/// Is `pc` inside published Wasm or trampoline code?
pub fn is_wasm_pc(pc: usize) -> bool {
    lookup(pc).is_some()
}

/// Writes what the published code at `pc` is: `wasm func[N] <name> @ 0xOFF`
/// (name and module offset when known) or `wasm trampoline`. `None` (nothing
/// written) for other addresses, or while the registry is being changed:
/// kernel fault reports call this, so it neither blocks nor allocates.
pub fn describe_pc(pc: usize, out: &mut dyn core::fmt::Write) -> Option<core::fmt::Result> {
    let reg = REGISTRY.try_read()?;
    let (_, r) = reg.range(..=pc).next_back()?;
    if pc >= r.start + r.len {
        return None;
    }
    let off = (pc - r.start) as u32;
    let i = r.funcs.partition_point(|f| f.start <= off);
    let Some(f) = i
        .checked_sub(1)
        .map(|i| &r.funcs[i])
        .filter(|f| off < f.start + f.len)
    else {
        return Some(out.write_str("wasm trampoline"));
    };
    let rel = off - f.start;
    Some((|| {
        write!(out, "wasm func[{}]", f.func_index)?;
        if let Some(name) = r.names.get(&f.func_index) {
            write!(out, " <{name}>")?;
        }
        match f.srclocs.iter().find(|(s, e, _)| *s <= rel && rel < *e) {
            Some((_, _, w)) => write!(out, " @ {w:#x}"),
            None => write!(out, " +{rel:#x}"),
        }
    })())
}

const MAX_FRAMES: usize = 64;

/// One host → Wasm entry. Lives on the host stack for the duration of the call.
#[repr(C)]
pub(crate) struct Activation {
    /// Registers saved by `atoll_wasm_enter`; must stay the first field.
    pub save: [usize; arch::SAVE_WORDS],
    pub prev: *mut Activation,
    pub trap: Option<TrapKind>,
    /// Backtrace of the trap; only `..npcs` is initialized (left uninitialized so that
    /// entering Wasm does not pay for clearing it).
    pub pcs: [MaybeUninit<usize>; MAX_FRAMES],
    pub npcs: usize,
    pub host_error: Option<Error>,
}

impl Activation {
    pub fn new(prev: *mut Activation) -> Activation {
        Activation {
            save: [0; arch::SAVE_WORDS],
            prev,
            trap: None,
            pcs: [const { MaybeUninit::uninit() }; MAX_FRAMES],
            npcs: 0,
            host_error: None,
        }
    }

    /// Turns a recorded trap into the error the call returns.
    pub fn take_error(&mut self) -> Error {
        match self.trap.take() {
            Some(TrapKind::HostError) => self
                .host_error
                .take()
                .unwrap_or_else(|| Error::Host(String::from("host function failed"))),
            Some(TrapKind::OutOfFuel) => Error::OutOfFuel,
            Some(TrapKind::Interrupted) => Error::Interrupted,
            Some(TrapKind::Wasm(code)) => {
                let backtrace = self.pcs[..self.npcs]
                    .iter()
                    .enumerate()
                    .filter_map(|(i, pc)| {
                        // SAFETY: `handle_fault` initialized the first `npcs` entries.
                        let pc = unsafe { pc.assume_init() };
                        // Return addresses point after the call; look up the call itself.
                        let pc = if i == 0 { pc } else { pc - 1 };
                        lookup(pc)?.frame(pc)
                    })
                    .collect();
                Error::Trap(Trap { code, backtrace })
            }
            None => self
                .host_error
                .take()
                .unwrap_or_else(|| Error::Host(String::from("wasm call aborted"))),
        }
    }
}

/// Where a fault handler resumes: set the PC to `pc` and the first argument register
/// (rdi / a0) to `arg`.
#[derive(Clone, Copy, Debug)]
pub struct ResumeContext {
    pub pc: usize,
    pub arg: usize,
}

/// Called by the platform's fault handler (SIGSEGV/SIGILL/SIGFPE/SIGBUS on Linux, the trap
/// vector in a kernel). `activation` is [`crate::Platform::activation`] of the faulting
/// thread. Returns `None` if the fault is not a Wasm trap (the platform then treats it as a
/// genuine crash). Does not allocate or take blocking locks other than the registry's
/// read lock.
///
/// # Safety
/// `fp` must be the faulting context's frame pointer and `activation` the faulting thread's
/// activation pointer.
pub unsafe fn handle_fault(
    pc: usize,
    _fault_addr: usize,
    fp: usize,
    activation: *mut u8,
) -> Option<ResumeContext> {
    if activation.is_null() {
        return None;
    }
    let region = lookup(pc)?;
    let kind = region.trap_at((pc - region.start) as u32)?;
    // SAFETY: the platform passes the innermost live activation of this thread, and
    // `fp` is the faulting frame's.
    let save = unsafe { record(activation, kind, pc, fp) };
    Some(ResumeContext {
        pc: arch::landing_pad(),
        arg: save as usize,
    })
}

/// Records a trap of `kind` at `pc` (with the backtrace from frame pointer `fp`) in
/// `activation`, and returns its register save area for the landing pad.
///
/// # Safety
/// `activation` must be the thread's innermost live activation, and `fp` the frame
/// pointer of the Wasm frame containing `pc`.
unsafe fn record(activation: *mut u8, kind: TrapKind, pc: usize, fp: usize) -> *mut usize {
    // SAFETY: per the contract.
    let act = unsafe { &mut *(activation as *mut Activation) };
    act.trap = Some(kind);
    act.pcs[0].write(pc);
    let mut n = 1;
    let mut fp = fp;
    while n < MAX_FRAMES && fp != 0 && fp.is_multiple_of(8) {
        // SAFETY: fp is a frame pointer of Wasm code (checked via the return address of
        // the previous frame being in the registry); Cranelift keeps [fp] and [fp + 8]
        // as saved fp and return address.
        let (next, ret) = unsafe {
            (
                *(fp as *const usize),
                *((fp + arch::FP_TO_RETURN_ADDR) as *const usize),
            )
        };
        if !is_wasm_pc(ret) {
            break;
        }
        act.pcs[n].write(ret);
        n += 1;
        if next <= fp {
            break;
        }
        fp = next;
    }
    act.npcs = n;
    act.save.as_mut_ptr()
}

/// Raises trap `code` (a Cranelift trap code) for compiled code that called
/// `atoll_wasm_raise` at return address `ret` with frame pointer `fp`: records it and
/// resumes at the landing pad, as a fault would, without taking one. Returns only when
/// there is no activation to resume (the caller then executes its trap instruction).
///
/// # Safety
/// Called only by `atoll_wasm_raise`, from compiled code with its own vmctx.
pub(crate) unsafe extern "C" fn raise(vmctx: *const u64, code: u64, ret: usize, fp: usize) {
    // SAFETY: slot 0 of a live vmctx is its store.
    let store = unsafe { *vmctx.add(VMCTX_STORE as usize / 8) } as *const StoreOpaque;
    // SAFETY: the store outlives the Wasm code running in it.
    let activation = unsafe { (*store).engine.platform().activation() };
    let kind = u8::try_from(code).ok().and_then(crate::code::trap_kind);
    let (false, Some(kind)) = (activation.is_null(), kind) else {
        return;
    };
    // `ret - 1` lies inside the call, which is the trap site for backtraces.
    // SAFETY: the activation is the innermost one of this thread (Wasm runs only
    // inside one), and `fp` is the calling Wasm frame's.
    let save = unsafe { record(activation, kind, ret - 1, fp) };
    // SAFETY: the save area holds the registers of the `atoll_wasm_enter` that started
    // this activation; only Wasm frames (no destructors) lie between it and here.
    unsafe { arch::atoll_wasm_landing(save) }
}

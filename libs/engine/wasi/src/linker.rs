//! Registers every `wasi_snapshot_preview1` function into a `wasm_engine::Linker`.

use alloc::format;
use alloc::sync::Arc;

use wasm_engine::{Caller, Error, Extern, FuncType, Linker, Val, ValType};

use crate::MODULE;
use crate::calls::{Function, ParamType, Stop, dispatch};
use crate::ctx::WasiCtx;
use crate::mem::GuestMemory;

/// `proc_exit(code)` ends the call with `Error::Host` whose message is this prefix and the
/// code. [`WasiCtx::exit_code`] holds the same code; [`exit_status`] parses the error.
pub const PROC_EXIT_PREFIX: &str = "wasi proc_exit: ";

/// The exit code if `err` is the error `proc_exit` ended a call with.
pub fn exit_status(err: &Error) -> Option<u32> {
    match err {
        Error::Host(m) => m.strip_prefix(PROC_EXIT_PREFIX)?.parse().ok(),
        _ => None,
    }
}

/// Defines all preview 1 functions in `linker`. `get` finds the process's [`WasiCtx`] in the
/// store data. Functions read and write the caller's exported `memory`; a module without
/// one sees an empty memory (every pointer it passes is a host error when used).
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + 'static,
) -> Result<(), Error> {
    let get: Arc<dyn Fn(&mut T) -> &mut WasiCtx + Send + Sync> = Arc::new(get);
    for &func in Function::ALL {
        let params = func.params().iter().map(|p| match p {
            ParamType::I32 => ValType::I32,
            ParamType::I64 => ValType::I64,
        });
        let results: &[ValType] = if func.returns_errno() {
            &[ValType::I32]
        } else {
            &[]
        };
        let ty = FuncType::new(params, results.iter().copied());
        let get = get.clone();
        linker.func_new(MODULE, func.name(), ty, move |caller, params, results| {
            call(&*get, caller, func, params, results)
        })?;
    }
    Ok(())
}

fn call<T>(
    get: &dyn Fn(&mut T) -> &mut WasiCtx,
    mut caller: Caller<'_, T>,
    func: Function,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Error> {
    let mut raw = [0u64; 9];
    if params.len() > raw.len() {
        return Err(Error::Host(format!("{}: too many arguments", func.name())));
    }
    for (slot, v) in raw.iter_mut().zip(params) {
        *slot = match *v {
            Val::I32(x) => u64::from(x as u32),
            Val::I64(x) => x as u64,
            _ => {
                return Err(Error::Host(format!(
                    "{}: argument of the wrong type",
                    func.name()
                )));
            }
        };
    }
    let (base, len) = match caller.get_export("memory") {
        Some(Extern::Memory(m)) => {
            let bytes = m.data_mut(&mut caller);
            (bytes.as_mut_ptr(), bytes.len())
        }
        _ => (core::ptr::NonNull::<u8>::dangling().as_ptr(), 0),
    };
    // SAFETY: `base..base + len` is the caller's linear memory, a mapping owned by the store
    // apart from its data `T`, valid for the whole host call: no Wasm runs and nothing can
    // grow or free the memory until we return, and `get` only reaches `T`, never the store's
    // memories. So this slice and the `&mut WasiCtx` below never alias. (With no memory,
    // a dangling pointer and length 0 is a valid empty slice.)
    let bytes = unsafe { core::slice::from_raw_parts_mut(base, len) };
    let ctx = get(caller.data_mut());
    let mut mem = GuestMemory::new(bytes);
    match dispatch(ctx, &mut mem, func, &raw[..params.len()]) {
        Ok(errno) => {
            if let Some(slot) = results.first_mut() {
                *slot = Val::I32(i32::from(errno.raw()));
            }
            Ok(())
        }
        Err(Stop::Exit(code)) => Err(Error::Host(format!("{PROC_EXIT_PREFIX}{code}"))),
        Err(Stop::HostError(m)) => Err(Error::Host(format!("{}: {m}", func.name()))),
    }
}

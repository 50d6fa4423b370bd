//! Kernel tests of nested traps and faults (Wasm and host functions calling
//! each other, with traps and kernel faults at several levels), Wasm frames
//! in kernel backtraces, and the compile-time refusal of SIMD without
//! vector hardware. The module is `tests-wasm/nested.wat`.

use alloc::string::String;
use alloc::vec::Vec;

use ktest::ktest;
use wasm_engine::{
    Config, Engine, Error, Extern, FuncType, Linker, Module, Store, TrapCode, Val, ValType,
};

use crate::arch::trap::LOAD_PAGE_FAULT;
use crate::mem::heap;
use crate::recover::{self, Fault};
use crate::sched::percpu;

static NESTED_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nested.wasm"));

/// An unmapped kernel address (the first page).
const UNMAPPED: usize = 0x48;

/// What the host functions saw, level by level.
#[derive(Default)]
struct Seen {
    /// `inner`: the trap of the Wasm it called.
    inner_trap: Option<TrapCode>,
    /// `inner`: the kernel fault it caught after that trap.
    inner_fault: Option<Fault>,
    /// `outer`: the error of `middle` (which `inner` failed).
    middle_error: Option<String>,
    /// `outer`: the trap of the Wasm it called after that.
    outer_trap: Option<TrapCode>,
    /// `backtrace`: the kernel's backtrace from inside the host function.
    backtrace: String,
}

fn export(
    caller: &mut wasm_engine::Caller<'_, Seen>,
    name: &str,
) -> Result<wasm_engine::Func, Error> {
    caller
        .get_export(name)
        .and_then(Extern::into_func)
        .ok_or_else(|| Error::Host(alloc::format!("no export `{name}`")))
}

fn linker(engine: &Engine) -> Linker<Seen> {
    let mut l: Linker<Seen> = Linker::new(engine);
    // Innermost host level: a Wasm trap, then a kernel fault it recovers
    // from, then it fails its own call.
    l.func_new(
        "host",
        "inner",
        FuncType::new([], [ValType::I32]),
        |mut caller, _, _| {
            let boom = export(&mut caller, "boom")?;
            let r = boom.call(&mut caller, &[], &mut []);
            caller.data_mut().inner_trap = r.err().and_then(|e| e.trap_code());
            // SAFETY: a deliberate read of an unmapped address, under `catch`.
            let fault =
                recover::catch(|| unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) });
            caller.data_mut().inner_fault = fault.err();
            Err(Error::Host(String::from("inner failed on purpose")))
        },
    )
    .unwrap();
    // Outer host level: calls Wasm that calls `inner`, then traps itself.
    l.func_new(
        "host",
        "outer",
        FuncType::new([], [ValType::I32]),
        |mut caller, _, results| {
            let middle = export(&mut caller, "middle")?;
            let mut r = [Val::I32(0)];
            let e = middle.call(&mut caller, &[], &mut r);
            caller.data_mut().middle_error = e.err().map(|e| alloc::format!("{e}"));
            let div = export(&mut caller, "div")?;
            let t = div.call(&mut caller, &[Val::I32(0)], &mut r);
            caller.data_mut().outer_trap = t.err().and_then(|e| e.trap_code());
            // After all that, Wasm still runs normally from here.
            div.call(&mut caller, &[Val::I32(4)], &mut r)?;
            results[0] = r[0];
            Ok(())
        },
    )
    .unwrap();
    l.func_new("host", "crash", FuncType::new([], []), |_, _, _| {
        // SAFETY: a deliberate fault with no recovery point in this function:
        // the caller's (outside Wasm) must get it.
        let v = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
        Err(Error::Host(alloc::format!(
            "read {v} from an unmapped page"
        )))
    })
    .unwrap();
    l.func_new(
        "host",
        "backtrace",
        FuncType::new([], []),
        |mut caller, _, _| {
            let mut text = String::new();
            crate::backtrace::print_here(&mut text);
            caller.data_mut().backtrace = text;
            Ok(())
        },
    )
    .unwrap();
    l
}

fn engine() -> Engine {
    super::new_engine(&Config::new()).unwrap_or_else(|e| panic!("engine: {e}"))
}

fn call(
    store: &mut Store<Seen>,
    instance: wasm_engine::Instance,
    name: &str,
) -> Result<Vec<Val>, Error> {
    let f = instance
        .get_func(&*store, name)
        .unwrap_or_else(|| panic!("no export {name}"));
    let mut results = alloc::vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, &[], &mut results)?;
    Ok(results)
}

fn run<R>(f: impl FnOnce() -> R) -> R {
    super::on_wasm_stack(f).unwrap_or_else(|e| panic!("Wasm stack: {e}"))
}

ktest! {
    fn wasm_traps_and_faults_nest_through_host_functions() {
        run(|| {
            let e = engine();
            let m = Module::new(&e, NESTED_WASM).unwrap_or_else(|e| panic!("compile: {e}"));
            let linker = linker(&e);
            let nesting0 = recover::nesting();
            let mut heap0 = 0;
            for round in 0..50 {
                let mut store = Store::new(&e, Seen::default());
                let instance = linker.instantiate(&mut store, &m).unwrap();
                // Wasm -> outer -> Wasm -> inner -> Wasm (traps); inner
                // faults and fails; outer sees that, traps, then goes on.
                let r = call(&mut store, instance, "entry");
                assert!(matches!(r.as_deref(), Ok([Val::I32(26)])), "round {round}: {r:?}");
                let seen = store.data();
                assert_eq!(seen.inner_trap, Some(TrapCode::Unreachable));
                match seen.inner_fault {
                    Some(Fault::Trap { cause, stval, .. }) => {
                        assert_eq!((cause, stval), (LOAD_PAGE_FAULT, UNMAPPED));
                    }
                    other => panic!("inner fault: {other:?}"),
                }
                let middle = seen.middle_error.as_deref().unwrap_or("none");
                assert!(middle.contains("inner failed on purpose"), "middle: {middle}");
                assert_eq!(seen.outer_trap, Some(TrapCode::IntegerDivisionByZero));
                assert!(percpu::current().wasm_activation.get().is_null());
                assert_eq!(recover::nesting(), nesting0);
                drop(store);
                // The first rounds warm up lazily built tables and trampolines.
                if round == 10 {
                    heap0 = heap::stats().allocated;
                }
            }
            // Other harts' housekeeping may move the global count a little;
            // a leak per round would pass this bound within the 39 rounds.
            let grown = heap::stats().allocated.saturating_sub(heap0);
            assert!(grown < 512, "nested traps leak heap: {grown} bytes over 39 rounds");
        });
    }
}

ktest! {
    fn wasm_host_function_fault_without_recovery_reaches_the_caller() {
        run(|| {
            let e = engine();
            let m = Module::new(&e, NESTED_WASM).unwrap();
            let linker = linker(&e);
            let mut store = Store::new(&e, Seen::default());
            let instance = linker.instantiate(&mut store, &m).unwrap();
            // Kernel code faulting under Wasm is a kernel fault, not a Wasm
            // trap: the innermost recovery point (here, outside the Wasm
            // call) gets it, and the Wasm activation is cut back.
            let r = recover::catch(|| call(&mut store, instance, "call_crash"));
            match r {
                Err(Fault::Trap { cause, stval, .. }) => {
                    assert_eq!((cause, stval), (LOAD_PAGE_FAULT, UNMAPPED));
                }
                other => panic!("expected the host fault, got {other:?}"),
            }
            assert!(percpu::current().wasm_activation.get().is_null(), "activation left dangling");
            // Wasm keeps working (a fresh store; the abandoned one is dropped).
            drop(store);
            let mut store = Store::new(&e, Seen::default());
            let instance = linker.instantiate(&mut store, &m).unwrap();
            assert!(matches!(call(&mut store, instance, "entry").as_deref(), Ok([Val::I32(26)])));
        });
    }
}

ktest! {
    fn wasm_frames_are_named_in_kernel_backtraces() {
        run(|| {
            let e = engine();
            let m = Module::new(&e, NESTED_WASM).unwrap();
            let mut store = Store::new(&e, Seen::default());
            let instance = linker(&e).instantiate(&mut store, &m).unwrap();
            call(&mut store, instance, "wasm_caller").unwrap();
            let bt = &store.data().backtrace;
            // Kernel frames above, Wasm frames (from the engine's tables,
            // names from the name section) below, and kernel frames again
            // beneath the entry into Wasm.
            let at = |s: &str| bt.find(s).unwrap_or_else(|| panic!("no `{s}` in the backtrace:\n{bt}"));
            let host = at("print_here");
            let leaf = at("<wasm_leaf>");
            let caller = at("<wasm_caller>");
            let test = at("wasm_frames_are_named_in_kernel_backtraces");
            assert!(host < leaf && leaf < caller && caller < test, "frames out of order:\n{bt}");
            assert!(bt.contains("wasm func["), "{bt}");
        });
    }
}

/// x86_64 always has the SSE4.1 that Wasm SIMD needs; only riscv64 harts can lack V.
#[cfg(target_arch = "riscv64")]
mod no_vector {
    use alloc::sync::Arc;

    use super::*;

    ktest! {
        fn wasm_simd_is_refused_at_compile_time_without_vector_hardware() {
            // A hart without V: the same ISA settings as the kernel's engine,
            // minus the vector extension (QEMU always has V in our configs).
            let mut config = Config::new();
            crate::arch::wasm::configure(&mut config).unwrap();
            config.simd(false);
            let e = Engine::new(&config, Arc::new(crate::wasm::engine::KernelPlatform::default())).unwrap();
            let simd = include_bytes!(concat!(env!("OUT_DIR"), "/simd.wasm"));
            match Module::new(&e, simd) {
                Err(Error::Compile { message, .. }) => {
                    let m = message.to_lowercase();
                    assert!(m.contains("simd") && m.contains("not supported"), "unclear refusal: {message}");
                }
                Err(other) => panic!("expected a compile error, got: {other}"),
                Ok(_) => panic!("a SIMD module compiled for a target without vectors"),
            }
            // Modules without v128 still compile there.
            Module::new(&e, NESTED_WASM).unwrap_or_else(|e| panic!("scalar module refused: {e}"));
        }
    }
}

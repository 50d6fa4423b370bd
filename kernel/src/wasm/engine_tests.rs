//! Kernel tests that run Wasm on the engine: every trap with its exact
//! code, epoch interruption by the timer, host functions (failing, and
//! re-entering Wasm that traps), and leak checks over 1,000 traps and
//! 1,000 instances. The modules come from `tests-wasm/*.wat` (build.rs).

use alloc::string::String;

use ktest::ktest;
use wasm_engine::{
    Config, Engine, Error, Extern, FuncType, Instance, Linker, Module, Store, TrapCode, Val,
    ValType,
};

use super::platform;
use crate::mem::{frames, heap};
use crate::recover;
use crate::sched::{percpu, timer};

static TRAPS_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/traps.wasm"));
static SIMD_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/simd.wasm"));

/// What host functions record in the store.
#[derive(Default)]
struct HostState {
    inner_trap: Option<TrapCode>,
}

fn engine(epochs: bool) -> Engine {
    let mut config = Config::new();
    config.epoch_interruption(epochs);
    super::new_engine(&config).unwrap_or_else(|e| panic!("engine: {e}"))
}

fn linker(engine: &Engine) -> Linker<HostState> {
    let mut l: Linker<HostState> = Linker::new(engine);
    l.func_new("host", "fail", FuncType::new([], []), |_, _, _| {
        Err(Error::Host(String::from("deliberate host failure")))
    })
    .unwrap();
    l.func_new(
        "host",
        "reenter",
        FuncType::new([], [ValType::I32]),
        |mut caller, _, results| {
            // Call back into the same instance; the inner call traps.
            let f = caller
                .get_export("unreachable")
                .and_then(Extern::into_func)
                .ok_or_else(|| Error::Host(String::from("no export `unreachable`")))?;
            let r = f.call(&mut caller, &[], &mut []);
            caller.data_mut().inner_trap = r.err().and_then(|e| e.trap_code());
            results[0] = Val::I32(41);
            Ok(())
        },
    )
    .unwrap();
    // A CPU fault inside a host function: it catches it and fails the call.
    l.func_new(
        "host",
        "fault",
        FuncType::new([ValType::I32], [ValType::I32]),
        |_, params, results| {
            let Val::I32(addr) = params[0] else {
                return Err(Error::Host(String::from("bad argument")));
            };
            // SAFETY: a deliberate read of an unmapped address, under `catch`.
            let r = recover::catch(|| unsafe {
                core::ptr::read_volatile(addr as u32 as usize as *const u32)
            });
            match r {
                Ok(v) => {
                    results[0] = Val::I32(v as i32);
                    Ok(())
                }
                Err(fault) => Err(Error::Host(alloc::format!("host fault: {fault}"))),
            }
        },
    )
    .unwrap();
    l
}

struct Fixture {
    store: Store<HostState>,
    instance: Instance,
}

fn instantiate(engine: &Engine, module: &Module) -> Fixture {
    let mut store = Store::new(engine, HostState::default());
    let instance = linker(engine)
        .instantiate(&mut store, module)
        .unwrap_or_else(|e| panic!("instantiate: {e}"));
    Fixture { store, instance }
}

impl Fixture {
    fn call(&mut self, name: &str, params: &[Val]) -> Result<Option<Val>, Error> {
        let f = self
            .instance
            .get_func(&self.store, name)
            .unwrap_or_else(|| panic!("no export {name}"));
        let n = f.ty(&self.store).results().len();
        let mut results = [Val::I32(0)];
        f.call(&mut self.store, params, &mut results[..n])?;
        Ok((n == 1).then_some(results[0]))
    }

    fn i32(&mut self, name: &str, params: &[Val]) -> i32 {
        match self.call(name, params) {
            Ok(Some(Val::I32(v))) => v,
            other => panic!("{name}{params:?}: expected an i32, got {other:?}"),
        }
    }

    fn trap(&mut self, name: &str, params: &[Val]) -> TrapCode {
        match self.call(name, params) {
            Err(Error::Trap(t)) => t.code,
            other => panic!("{name}{params:?}: expected a trap, got {other:?}"),
        }
    }
}

/// Runs a test body on the Wasm stack (where Wasm must run).
fn run<R>(f: impl FnOnce() -> R) -> R {
    super::on_wasm_stack(f).unwrap_or_else(|e| panic!("Wasm stack: {e}"))
}

fn compile(engine: &Engine) -> Module {
    Module::new(engine, TRAPS_WASM).unwrap_or_else(|e| panic!("compile: {e}"))
}

const I: fn(i32) -> Val = Val::I32;

ktest! {
    fn wasm_functions_run_in_the_kernel() {
        run(|| {
            let e = engine(false);
            let m = compile(&e);
            let mut f = instantiate(&e, &m);
            assert_eq!(f.i32("add", &[I(2), I(40)]), 42);
            let sum = f.call("fadd", &[Val::F64(1.5f64.to_bits()), Val::F64(2.25f64.to_bits())]);
            assert!(matches!(sum, Ok(Some(Val::F64(b))) if f64::from_bits(b) == 3.75), "{sum:?}");
            f.call("store", &[I(100)]).unwrap();
            assert_eq!(f.i32("load", &[I(100)]), 0x1234);
            assert!(percpu::current().wasm_activation.get().is_null());
        });
    }
}

ktest! {
    fn wasm_out_of_bounds_accesses_trap() {
        run(|| {
            let e = engine(false);
            let m = compile(&e);
            let mut f = instantiate(&e, &m);
            let oob = TrapCode::MemoryOutOfBounds;
            assert_eq!(f.i32("load", &[I(65536 - 4)]), 0);
            // Across the end, at the end, past it, far into the 4 GiB.
            assert_eq!(f.trap("load", &[I(65536 - 3)]), oob);
            assert_eq!(f.trap("load", &[I(65536)]), oob);
            assert_eq!(f.trap("store", &[I(65536)]), oob);
            assert_eq!(f.trap("load", &[I(0x7fff_0000)]), oob);
            assert_eq!(f.trap("load", &[I(-4)]), oob);
            assert_eq!(f.trap("load64", &[I(65536 - 7)]), oob);
            // A static offset near 4 GiB: into the guard, and beyond it.
            assert_eq!(f.trap("load_high", &[I(0x20)]), oob);
            assert_eq!(f.trap("load_high", &[I(-1)]), oob);
            // Memory beyond the trap is intact.
            f.call("store", &[I(65536 - 4)]).unwrap();
            assert_eq!(f.i32("load", &[I(65536 - 4)]), 0x1234);
        });
    }
}

ktest! {
    fn wasm_memory_grow_commits_new_pages() {
        run(|| {
            let e = engine(false);
            let m = compile(&e);
            let mut f = instantiate(&e, &m);
            // Linear-memory bytes committed (the first call of a signature
            // also publishes an entry trampoline: code, not data).
            let data = || {
                let st = platform::stats();
                st.committed_bytes - st.code_bytes
            };
            let committed = data();
            assert_eq!(f.i32("grow", &[I(1)]), 1);
            assert_eq!(data(), committed + 65536);
            assert_eq!(f.i32("load", &[I(65536 + 4)]), 0, "grown memory is not zeroed");
            f.call("store", &[I(65536 + 8)]).unwrap();
            assert_eq!(f.i32("load", &[I(65536 + 8)]), 0x1234);
            assert_eq!(f.trap("load", &[I(2 * 65536)]), TrapCode::MemoryOutOfBounds);
            // The declared maximum is 4 pages.
            assert_eq!(f.i32("grow", &[I(3)]), -1);
            assert_eq!(f.i32("grow", &[I(2)]), 2);
            assert_eq!(f.trap("load", &[I(4 * 65536)]), TrapCode::MemoryOutOfBounds);
        });
    }
}

ktest! {
    fn wasm_arithmetic_and_control_traps() {
        run(|| {
            let e = engine(false);
            let m = compile(&e);
            let mut f = instantiate(&e, &m);
            assert_eq!(f.i32("div", &[I(7), I(2)]), 3);
            assert_eq!(f.trap("div", &[I(7), I(0)]), TrapCode::IntegerDivisionByZero);
            // Signed division: overflow traps, the matching remainder is 0
            // (x86_64's idiv faults on both; riscv64's div traps on neither).
            assert_eq!(f.i32("div_s", &[I(-7), I(2)]), -3);
            assert_eq!(f.trap("div_s", &[I(i32::MIN), I(-1)]), TrapCode::IntegerOverflow);
            assert_eq!(f.i32("rem_s", &[I(i32::MIN), I(-1)]), 0);
            assert_eq!(f.trap("rem_s", &[I(7), I(0)]), TrapCode::IntegerDivisionByZero);
            let div64 = f.call("div64", &[Val::I64(-1), Val::I64(0)]);
            assert!(
                matches!(&div64, Err(Error::Trap(t)) if t.code == TrapCode::IntegerDivisionByZero),
                "{div64:?}"
            );
            // Float to integer: NaN and out-of-range values trap.
            let trunc = |x: f32| [Val::F32(x.to_bits())];
            assert_eq!(f.i32("trunc", &trunc(-2.5)), -2);
            assert_eq!(f.trap("trunc", &trunc(f32::NAN)), TrapCode::BadConversionToInteger);
            assert_eq!(f.trap("trunc", &trunc(3e9)), TrapCode::IntegerOverflow);
            assert_eq!(f.trap("unreachable", &[]), TrapCode::Unreachable);
            assert_eq!(f.i32("call_indirect", &[I(9), I(0)]), 9);
            assert_eq!(f.trap("call_indirect", &[I(9), I(1)]), TrapCode::BadSignature);
            assert_eq!(f.trap("call_indirect", &[I(9), I(2)]), TrapCode::UndefinedElement);
            // The trap carries a Wasm backtrace.
            match f.call("unreachable", &[]) {
                Err(Error::Trap(t)) => assert!(!t.backtrace.is_empty(), "no backtrace"),
                other => panic!("{other:?}"),
            }
        });
    }
}

ktest! {
    fn wasm_deep_recursion_is_a_stack_overflow_trap() {
        run(|| {
            let e = engine(false);
            let m = compile(&e);
            let mut f = instantiate(&e, &m);
            assert_eq!(f.trap("recurse", &[I(0)]), TrapCode::StackOverflow);
            // Twice: the stack is whole again afterwards.
            assert_eq!(f.trap("recurse", &[I(0)]), TrapCode::StackOverflow);
            assert_eq!(f.i32("add", &[I(1), I(2)]), 3);
        });
    }
}

ktest! {
    fn wasm_infinite_loop_is_interrupted_by_the_timer() {
        run(|| {
            let e = engine(true);
            let _epochs = super::register_epoch(&e);
            let m = compile(&e);
            let mut f = instantiate(&e, &m);
            // 5 epochs = 5 ticks of the boot hart at 100 Hz.
            let ticks0 = super::engine::epoch_ticks();
            timer::spin_for_ns(30_000_000);
            let ticks = super::engine::epoch_ticks() - ticks0;
            assert!(ticks >= 2, "the timer advanced the epoch {ticks} times in 30 ms");
            // Not early: at least the 5 epochs passed (counted, not timed: a
            // loaded host delivers late ticks to a TCG guest in a burst).
            let ticks1 = super::engine::epoch_ticks();
            f.store.set_epoch_deadline(5);
            let r = f.call("spin", &[]);
            let during = super::engine::epoch_ticks() - ticks1;
            assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
            assert!(during >= 5, "interrupted after only {during} epoch ticks of 5");
            // The instance still works with a fresh deadline.
            f.store.set_epoch_deadline(5);
            assert_eq!(f.i32("add", &[I(1), I(1)]), 2);
        });
    }
}

ktest! {
    fn wasm_host_functions_fail_and_reenter() {
        run(|| {
            let e = engine(false);
            let m = compile(&e);
            let mut f = instantiate(&e, &m);
            match f.call("call_fail", &[]) {
                Err(Error::Host(msg)) => assert!(msg.contains("deliberate"), "{msg}"),
                other => panic!("expected the host error, got {other:?}"),
            }
            // Wasm -> host -> Wasm that traps: the inner trap returns to the
            // host function, and the outer call completes normally.
            assert_eq!(f.i32("call_reenter", &[]), 42);
            assert_eq!(f.store.data().inner_trap, Some(TrapCode::Unreachable));
            // A page fault in the host function (kernel code, not JIT code)
            // stays a kernel fault, caught by the host's own recovery point.
            match f.call("call_fault", &[I(0x40)]) {
                Err(Error::Host(msg)) => assert!(msg.contains("load page fault"), "{msg}"),
                other => panic!("expected the host fault, got {other:?}"),
            }
            assert_eq!(f.i32("add", &[I(2), I(2)]), 4, "the instance is unusable after a host fault");
            assert!(percpu::current().wasm_activation.get().is_null());
        });
    }
}

ktest! {
    fn wasm_1000_traps_leave_no_trace() {
        run(|| {
            let e = engine(false);
            let m = compile(&e);
            let mut f = instantiate(&e, &m);
            // Warm up (trampolines, lazily built tables).
            assert_eq!(f.trap("unreachable", &[]), TrapCode::Unreachable);
            assert_eq!(f.trap("load", &[I(65536)]), TrapCode::MemoryOutOfBounds);
            let heap0 = heap::stats().allocated;
            let frames0 = frames::stats().0;
            let sp0 = crate::arch::stack_pointer();
            let nesting0 = recover::nesting();
            for i in 0..1000 {
                let code = if i % 2 == 0 {
                    f.trap("unreachable", &[])
                } else {
                    f.trap("load", &[I(65536)])
                };
                assert!(matches!(code, TrapCode::Unreachable | TrapCode::MemoryOutOfBounds));
                assert_eq!(crate::arch::stack_pointer(), sp0, "stack moved after trap {i}");
            }
            assert_eq!(heap::stats().allocated, heap0, "heap use changed over 1000 traps");
            assert_eq!(frames::stats().0, frames0, "frames leaked over 1000 traps");
            assert_eq!(recover::nesting(), nesting0);
            assert!(percpu::current().wasm_activation.get().is_null());
            assert_eq!(f.i32("add", &[I(1), I(2)]), 3);
        });
    }
}

ktest! {
    fn wasm_1000_instances_leak_nothing() {
        run(|| {
            let e = engine(false);
            let m = compile(&e);
            // Warm up: trampolines (per signature, engine-wide) and page
            // tables are built once.
            {
                let mut f = instantiate(&e, &m);
                f.call("store", &[I(8)]).unwrap();
                assert_eq!(f.i32("load", &[I(8)]), 0x1234);
            }
            let space0 = platform::stats();
            let frames0 = frames::stats().0;
            let heap0 = heap::stats().allocated;
            for i in 0..1000 {
                let mut f = instantiate(&e, &m);
                assert_eq!(f.i32("load", &[I(8)]), 0, "instance {i} sees old memory");
                f.call("store", &[I(8)]).unwrap();
                assert_eq!(f.i32("load", &[I(8)]), 0x1234, "instance {i}");
            }
            assert_eq!(platform::stats(), space0, "virtual space leaked");
            assert_eq!(frames::stats().0, frames0, "frames leaked");
            assert_eq!(heap::stats().allocated, heap0, "heap leaked");
            // Compiling and dropping modules returns their code memory.
            for _ in 0..20 {
                drop(compile(&e));
            }
            assert_eq!(platform::stats(), space0, "code memory leaked");
            assert_eq!(frames::stats().0, frames0, "frames leaked by modules");
        });
    }
}

ktest! {
    fn wasm_simd_runs_where_the_cpu_has_vectors() {
        run(|| {
            let e = engine(false);
            match Module::new(&e, SIMD_WASM) {
                Ok(m) => {
                    assert!(
                        crate::arch::wasm::simd_supported(),
                        "a SIMD module compiled without vector hardware"
                    );
                    let mut f = instantiate(&e, &m);
                    assert_eq!(f.i32("splat_add", &[I(5)]), 6);
                    let a = Val::V128(0x0000_0004_0000_0003_0000_0002_0000_0001);
                    let b = Val::V128(0x0000_0010_0000_0020_0000_0030_0000_0040);
                    match f.call("add_v", &[a, b]) {
                        Ok(Some(Val::V128(v))) => {
                            assert_eq!(v, 0x0000_0014_0000_0023_0000_0032_0000_0041);
                        }
                        other => panic!("add_v: {other:?}"),
                    }
                    assert_eq!(f.i32("reverse", &[]), 0x10 + 256);
                    match f.call("sqrt_lane", &[Val::F32(16.0f32.to_bits())]) {
                        Ok(Some(Val::F32(bits))) => assert_eq!(bits, 4.0f32.to_bits()),
                        other => panic!("sqrt_lane: {other:?}"),
                    }
                }
                // Without vector hardware the refusal must say why.
                Err(err) => {
                    assert!(
                        !crate::arch::wasm::simd_supported(),
                        "SIMD refused with vector hardware: {err}"
                    );
                    let msg = alloc::format!("{err}").to_lowercase();
                    assert!(msg.contains("simd"), "unclear SIMD refusal: {msg}");
                }
            }
        });
    }
}

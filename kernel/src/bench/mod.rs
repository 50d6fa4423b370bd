//! `--features bench`: instead of init and the shell, runs the benchmarks of
//! `cargo xtask bench` and powers off. The workloads run natively (linked
//! from `bench-workloads`) and as Wasm (`/bench/workloads.wasm` from the
//! initrd, built from the same source), then host-call, trap, instantiate,
//! compile and memory measures follow. Every result is one console line
//! `BENCH <measure> <subject> <value> <unit>`, which xtask parses; the unit
//! is the architecture's counter (see [`arch`]).
//!
//! Built with `ATOLL_BENCH_ONLY=instantiate` in the environment, the kernel
//! runs only the instantiation measures (and their phase breakdown): the
//! workloads and the big compile take many minutes under QEMU.

mod arch;
mod process;

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use bench_workloads::{SCRATCH_BYTES, WORKLOADS, modules};
use wasm_engine::{Config, Engine, Error, Instance, Linker, Module, Store, Val};

use crate::mem::{frames, heap};
use crate::println;

/// `instantiate`: run only the instantiation measures (see the module docs).
const ONLY: Option<&str> = option_env!("ATOLL_BENCH_ONLY");

/// Repetitions of each workload (the fastest counts; under `-icount` they
/// differ only by timer interrupts).
const REPS: u32 = 2;

struct Bench {
    read: fn() -> u64,
    unit: &'static str,
    ok: bool,
}

impl Bench {
    fn emit(&self, measure: &str, subject: &str, value: f64, unit: &str) {
        println!("BENCH {measure} {subject} {value:.3} {unit}");
    }

    /// The fewest counter ticks over `reps` runs of `f`, and `f`'s result.
    fn best<R>(&self, reps: u32, mut f: impl FnMut() -> R) -> (f64, R) {
        let mut min = u64::MAX;
        let mut last = None;
        for _ in 0..reps.max(1) {
            let t = (self.read)();
            let r = f();
            min = min.min((self.read)().wrapping_sub(t));
            last = Some(r);
        }
        (min as f64, last.expect("at least one run"))
    }

    fn fail(&mut self, what: &str, e: impl core::fmt::Display) {
        println!("BENCH-ERROR {what}: {e}");
        self.ok = false;
    }
}

/// Runs every benchmark on the Wasm stack, then powers off (it does not
/// return): the exit status tells whether every checksum matched.
pub fn run() {
    let (read, unit) = arch::probe();
    let mut b = Bench {
        read,
        unit,
        ok: true,
    };
    println!("BENCH-BEGIN {unit}");
    match crate::wasm::on_wasm_stack(|| run_all(&mut b)) {
        Ok(()) => {}
        Err(e) => b.fail("Wasm stack", e),
    }
    // Waits for processes, which must not happen on the Wasm stack.
    if ONLY.is_none() {
        process::idle_process(&mut b);
    }
    println!("BENCH-END {}", if b.ok { "ok" } else { "failed" });
    crate::shutdown(b.ok);
}

fn run_all(b: &mut Bench) {
    let unit = b.unit;
    if ONLY == Some("instantiate") {
        match crate::wasm::new_engine(&Config::new()) {
            Ok(engine) => {
                instantiation(b, &engine);
                instantiation_phases(b, &engine);
            }
            Err(e) => b.fail("engine", e),
        }
        return;
    }
    // u128 storage gives the 16-byte alignment the workloads assume.
    let mut storage: Vec<u128> = vec![0; SCRATCH_BYTES / 16];
    // SAFETY: the same memory as bytes (u8 accepts any bit pattern); the
    // vector outlives the slice and nothing else uses it meanwhile.
    let scratch: &mut [u8] =
        unsafe { core::slice::from_raw_parts_mut(storage.as_mut_ptr().cast(), storage.len() * 16) };
    let mut native_sums = Vec::new();
    for w in WORKLOADS {
        let (t, sum) = b.best(REPS, || (w.run)(w.default_n, scratch));
        b.emit(&format!("code.{}", w.name), "native", t, unit);
        native_sums.push(sum);
    }
    drop(storage);

    let Some(wasm) = crate::initrd::lookup("bench/workloads.wasm") else {
        b.fail("wasm", "no /bench/workloads.wasm in the initrd");
        return;
    };
    // One hart: the counter counts only this hart's instructions.
    let one_hart = crate::wasm::engine::KernelPlatform { one_hart: true };
    let engine = match crate::wasm::engine::new_engine_on(&Config::new(), one_hart) {
        Ok(e) => e,
        Err(e) => return b.fail("engine", e),
    };
    let (t, module) = b.best(1, || Module::new(&engine, wasm));
    let module = match module {
        Ok(m) => m,
        Err(e) => return b.fail("compile workloads", e),
    };
    b.emit(
        "compile.workloads.insn_per_byte",
        "atoll",
        t / wasm.len() as f64,
        &format!("{unit}/B"),
    );
    precompiled_load(b, &engine, wasm);
    let simd =
        crate::initrd::lookup("bench/workloads-simd.wasm").map(|bytes| Module::new(&engine, bytes));

    let mut store = Store::new(&engine, ());
    let mut linker: Linker<()> = Linker::new(&engine);
    if let Err(e) = linker.func_wrap("env", "noop", || {}) {
        return b.fail("linker", e);
    }
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(i) => i,
        Err(e) => return b.fail("instantiate workloads", e),
    };
    let simd_instance = match simd {
        Some(Ok(m)) => match linker.instantiate(&mut store, &m) {
            Ok(i) => Some(i),
            Err(e) => {
                b.fail("instantiate simd", e);
                None
            }
        },
        Some(Err(e)) => {
            // No vector unit: the SIMD row stays empty.
            println!("BENCH-NOTE simd module not compiled: {e}");
            None
        }
        None => None,
    };
    for (w, want) in WORKLOADS.iter().zip(native_sums) {
        let inst = if w.name == "simd" {
            match simd_instance {
                Some(i) => i,
                None => continue,
            }
        } else {
            instance
        };
        let export = format!("bench_{}", w.name);
        let f = match inst.get_typed_func::<i32, i64>(&mut store, &export) {
            Ok(f) => f,
            Err(e) => {
                b.fail(&export, e);
                continue;
            }
        };
        let (t, r) = b.best(REPS, || f.call(&mut store, w.default_n as i32));
        match r {
            Ok(sum) if sum as u64 == want => b.emit(&format!("code.{}", w.name), "atoll", t, unit),
            Ok(sum) => b.fail(
                &export,
                format!("checksum {:#x}, native {want:#x}", sum as u64),
            ),
            Err(e) => b.fail(&export, e),
        }
    }

    calls(b, &mut store, instance);
    instantiation(b, &engine);
    if let Some(big) = crate::initrd::lookup("bench/big.wasm") {
        compile_big(b, big);
    }
}

/// Compiling the big module: the counter's work per byte on one hart (the
/// counter counts this hart only), and the time on one hart and on every
/// hart (the engine compiles bodies in parallel). Under `-icount` time is the
/// instructions of all harts together, so parallel work cannot show there:
/// the times are emitted only where the counter is not instructions.
fn compile_big(b: &mut Bench, big: &[u8]) {
    use crate::sched::timer;
    use crate::wasm::engine::{KernelPlatform, new_engine_on};
    // Where the times are not emitted, the all-harts compile would be wasted work.
    let timed = b.unit != "insn";
    let runs: &[(bool, &str)] = if timed {
        &[(true, "1"), (false, "all")]
    } else {
        &[(true, "1")]
    };
    for &(one_hart, threads) in runs {
        let engine = match new_engine_on(&Config::new(), KernelPlatform { one_hart }) {
            Ok(e) => e,
            Err(e) => return b.fail("engine", e),
        };
        let start = timer::now_ns();
        let (t, m) = b.best(1, || Module::new(&engine, big));
        let ms = (timer::now_ns() - start) as f64 / 1e6;
        if let Err(e) = m {
            return b.fail("compile big", e);
        }
        if one_hart {
            b.emit(
                "compile.big.insn_per_byte",
                "atoll",
                t / big.len() as f64,
                &format!("{}/B", b.unit),
            );
        }
        if timed {
            b.emit(&format!("compile.big.ms.{threads}"), "atoll", ms, "ms");
        }
    }
}

/// Loading a precompiled module (`Module::deserialize`: checksum, header,
/// metadata, placing and relocating the code), per KiB of artifact: what a
/// boot pays instead of compiling.
fn precompiled_load(b: &mut Bench, engine: &Engine, wasm: &[u8]) {
    let artifact = match engine.precompile(wasm) {
        Ok(a) => a,
        Err(e) => return b.fail("precompile workloads", e),
    };
    // Each module is dropped outside the measured region (see `best`).
    let (t, m) = b.best(REPS, || Module::deserialize(engine, &artifact, None));
    if let Err(e) = m {
        return b.fail("load precompiled workloads", e);
    }
    let kib = artifact.len() as f64 / 1024.0;
    b.emit(
        "load.precompiled",
        "atoll",
        t / kib,
        &format!("{}/KiB", b.unit),
    );
}

/// Guest → host calls, host → guest calls and traps, per call.
fn calls(b: &mut Bench, store: &mut Store<()>, instance: Instance) {
    const CALLS: u32 = 100_000;
    const TRAPS: u32 = 1_000;
    let unit = b.unit;
    match instance.get_typed_func::<i32, i64>(&mut *store, "bench_hostcall") {
        Ok(f) => match b.best(REPS, || f.call(&mut *store, CALLS as i32)) {
            (t, Ok(_)) => b.emit("hostcall", "atoll", t / CALLS as f64, unit),
            (_, Err(e)) => b.fail("hostcall", e),
        },
        Err(e) => b.fail("hostcall", e),
    }
    match instance.get_typed_func::<(), ()>(&mut *store, "bench_empty") {
        Ok(f) => {
            let (t, r) = b.best(REPS, || {
                (0..CALLS).try_for_each(|_| f.call(&mut *store, ()))
            });
            match r {
                Ok(()) => b.emit("host2wasm", "atoll", t / CALLS as f64, unit),
                Err(e) => b.fail("host2wasm", e),
            }
        }
        Err(e) => b.fail("host2wasm", e),
    }
    for (measure, export) in [
        ("trap.unreachable", "bench_unreachable"),
        ("trap.oob", "bench_oob"),
    ] {
        let Some(f) = instance.get_func(&mut *store, export) else {
            b.fail(export, "no such export");
            continue;
        };
        let n = f.ty(&*store).results().len();
        let mut results = [Val::I32(0)];
        let (t, r) = b.best(REPS, || {
            for _ in 0..TRAPS {
                match f.call(&mut *store, &[], &mut results[..n]) {
                    Err(Error::Trap(_)) => {}
                    Err(e) => return Err(format!("{e}")),
                    Ok(()) => return Err(format!("{export} returned")),
                }
            }
            Ok(())
        });
        match r {
            Ok(()) => b.emit(measure, "atoll", t / TRAPS as f64, unit),
            Err(e) => b.fail(measure, e),
        }
    }
}

/// Instantiate + drop of the tiny modules, and the kernel memory an idle
/// instance holds (heap bytes and frames).
fn instantiation(b: &mut Bench, engine: &Engine) {
    let unit = b.unit;
    for (measure, bytes, n) in [
        ("instantiate.1page", modules::SMALL, 1000u32),
        ("instantiate.1page_data", modules::SMALL_DATA, 1000),
        ("instantiate.64mib", modules::BIG, 20),
    ] {
        let module = match Module::new(engine, bytes) {
            Ok(m) => m,
            Err(e) => return b.fail(measure, e),
        };
        let (t, r) = b.best(REPS, || {
            (0..n).try_for_each(|_| {
                let mut store = Store::new(engine, ());
                Instance::new(&mut store, &module, &[]).map(drop)
            })
        });
        match r {
            Ok(()) => b.emit(measure, "atoll", t / n as f64, unit),
            Err(e) => b.fail(measure, e),
        }
    }

    // Memory: ten idle instances of the 1-page module, each in its own store.
    let module = match Module::new(engine, modules::SMALL) {
        Ok(m) => m,
        Err(e) => return b.fail("memory", e),
    };
    const IDLE: usize = 10;
    let mut idle = Vec::with_capacity(IDLE);
    let heap0 = heap::stats().allocated;
    let free0 = frames::stats().0;
    for _ in 0..IDLE {
        let mut store = Store::new(engine, ());
        match Instance::new(&mut store, &module, &[]) {
            Ok(_) => idle.push(store),
            Err(e) => return b.fail("memory", e),
        }
    }
    let heap_per = heap::stats().allocated.saturating_sub(heap0) / IDLE as u64;
    let frames_per = free0.saturating_sub(frames::stats().0) / IDLE as u64;
    drop(idle);
    b.emit("memory.instance_heap", "atoll", heap_per as f64, "B");
    b.emit(
        "memory.instance_frames",
        "atoll",
        frames_per as f64,
        "frames",
    );
}

/// Where an instantiate + drop spends its time: the store alone, and the
/// platform's reserve / commit / release of a guard-mode memory (4 GiB +
/// the configured guard), per operation.
fn instantiation_phases(b: &mut Bench, engine: &Engine) {
    use crate::wasm::platform;
    const N: u32 = 100;
    let unit = b.unit;
    let (t, ()) = b.best(REPS, || {
        for _ in 0..N {
            drop(Store::new(engine, ()));
        }
    });
    b.emit("instantiate.phase.store", "atoll", t / N as f64, unit);

    let size = (4usize << 30) + (2 << 30);
    for (measure, commit) in [
        ("instantiate.phase.reserve_release", 0u64),
        ("instantiate.phase.1page_memory", 64 << 10),
        ("instantiate.phase.64mib_memory", 64 << 20),
    ] {
        let n = if commit > (1 << 20) { 5 } else { N };
        let (t, r) = b.best(REPS, || {
            (0..n).try_for_each(|_| {
                let base = platform::reserve(size)?;
                let c = platform::commit(base, commit);
                platform::release(base)?;
                c
            })
        });
        match r {
            Ok(()) => b.emit(measure, "atoll", t / n as f64, unit),
            Err(e) => b.fail(measure, e),
        }
    }
    // Through the memory path the engine uses (kept memories are reused).
    for (measure, commit) in [
        ("instantiate.phase.1page_memory_reused", 64u64 << 10),
        ("instantiate.phase.64mib_memory_reused", 64 << 20),
    ] {
        let n = if commit > (1 << 20) { 5 } else { N };
        let (t, r) = b.best(REPS, || {
            (0..n).try_for_each(|_| {
                let base = platform::reserve_memory(size, commit)?;
                platform::release_memory(base)
            })
        });
        match r {
            Ok(()) => b.emit(measure, "atoll", t / n as f64, unit),
            Err(e) => b.fail(measure, e),
        }
    }
    // A kept memory zeroes only pages written since they were mapped: here
    // every page is written each time (the worst case for a 1-page memory).
    let (t, r) = b.best(REPS, || {
        (0..N).try_for_each(|_| {
            let base = platform::reserve_memory(size, 64 << 10)?;
            for page in (base..base + (64 << 10)).step_by(4096) {
                // SAFETY: the memory's 64 KiB are committed and ours.
                unsafe { (page as *mut u64).write_volatile(1) };
            }
            platform::release_memory(base)
        })
    });
    match r {
        Ok(()) => b.emit(
            "instantiate.phase.1page_memory_reused_written",
            "atoll",
            t / N as f64,
            unit,
        ),
        Err(e) => b.fail("instantiate.phase.1page_memory_reused_written", e),
    }
    // The same with the phases split (one run each, after the warm-up above).
    for (name, commit) in [("1page", 64u64 << 10), ("64mib", 64 << 20)] {
        let t0 = (b.read)();
        let base = match platform::reserve(size) {
            Ok(a) => a,
            Err(e) => return b.fail("phase reserve", e),
        };
        let t1 = (b.read)();
        if let Err(e) = platform::commit(base, commit) {
            return b.fail("phase commit", e);
        }
        let t2 = (b.read)();
        if let Err(e) = platform::release(base) {
            return b.fail("phase release", e);
        }
        let t3 = (b.read)();
        for (phase, v) in [
            ("reserve", t1 - t0),
            ("commit", t2 - t1),
            ("release", t3 - t2),
        ] {
            b.emit(
                &format!("instantiate.phase.{name}.{phase}"),
                "atoll",
                v as f64,
                unit,
            );
        }
    }
}

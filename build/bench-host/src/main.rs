//! Host benchmarks for `cargo xtask bench`: one subject per process (their
//! fault handlers must not meet), each printing `BENCH <measure> <subject>
//! <value> <unit>` lines:
//!
//! - `native`: the workloads compiled natively, and a Linux `getpid` syscall;
//! - `atoll`: the workloads module in atoll's engine (Linux backend), plus
//!   host-call, host→Wasm call, trap, instantiate and compile costs;
//! - `wasmtime`: the same through wasmtime (Cranelift, default settings).
//!
//! Times are the minimum over repetitions of this thread's CPU time (the
//! machine is shared: wall time would count waiting for a core), in ns;
//! parallel compilation is timed in wall-clock time.

mod subjects;

use std::process::ExitCode;
use std::time::Instant;

use bench_workloads::{SCRATCH_BYTES, WORKLOADS, Workload};

use subjects::{Instance, Runtime};

const USAGE: &str = "usage: bench-host native|atoll|wasmtime [--quick] \
    --workloads WASM --simd WASM --big WASM";

/// What to run, from the command line.
struct Args {
    subject: String,
    quick: bool,
    workloads: Vec<u8>,
    simd: Vec<u8>,
    big: Vec<u8>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let subject = it.next().ok_or(USAGE)?;
    let (mut quick, mut workloads, mut simd, mut big) = (false, None, None, None);
    while let Some(a) = it.next() {
        let mut file = |what: &str| -> Result<Vec<u8>, String> {
            let path = it.next().ok_or(format!("{what} needs a path"))?;
            std::fs::read(&path).map_err(|e| format!("{path}: {e}"))
        };
        match a.as_str() {
            "--quick" => quick = true,
            "--workloads" => workloads = Some(file("--workloads")?),
            "--simd" => simd = Some(file("--simd")?),
            "--big" => big = Some(file("--big")?),
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}")),
        }
    }
    let need = |v: Option<Vec<u8>>, what| v.ok_or(format!("missing {what}\n{USAGE}"));
    Ok(Args {
        subject,
        quick,
        workloads: need(workloads, "--workloads")?,
        simd: need(simd, "--simd")?,
        big: need(big, "--big")?,
    })
}

/// Scratch memory with the 16-byte alignment the workloads assume.
struct Scratch(Vec<u128>);

impl Scratch {
    fn new() -> Scratch {
        Scratch(vec![0; SCRATCH_BYTES / 16])
    }
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the same memory as bytes (u8 accepts any bit pattern and
        // has alignment 1); the borrow of `self` keeps it exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast(), self.0.len() * 16) }
    }
}

fn emit(measure: &str, subject: &str, value: f64, unit: &str) {
    println!("BENCH {measure} {subject} {value:.3} {unit}");
}

/// CPU time of this thread, in ns: unlike wall time it excludes the time
/// spent waiting for a core, which on a shared machine dominates the noise.
fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// The fastest of `reps` runs of `f` in this thread's CPU time, in ns, and
/// `f`'s last result.
fn best<R>(reps: u32, f: impl FnMut() -> R) -> (f64, R) {
    best_by(reps, thread_cpu_ns, f)
}

/// Like [`best`] in wall-clock time (for work spread over threads).
fn best_wall<R>(reps: u32, f: impl FnMut() -> R) -> (f64, R) {
    let start = Instant::now();
    best_by(reps, || start.elapsed().as_nanos() as f64, f)
}

fn best_by<R>(reps: u32, clock: impl Fn() -> f64, mut f: impl FnMut() -> R) -> (f64, R) {
    let mut min = f64::INFINITY;
    let mut last = None;
    for _ in 0..reps.max(1) {
        let t = clock();
        let r = f();
        min = min.min(clock() - t);
        last = Some(r);
    }
    (min, last.expect("at least one run"))
}

/// Sizes and repetitions of one run.
struct Plan {
    quick: bool,
}

impl Plan {
    fn n(&self, w: &Workload) -> u32 {
        if self.quick { w.test_n } else { w.default_n }
    }
    fn reps(&self) -> u32 {
        if self.quick { 1 } else { 5 }
    }
    /// Iterations of the per-call loops (host calls, traps, instantiations).
    fn calls(&self, base: u32) -> u32 {
        if self.quick {
            (base / 100).max(1)
        } else {
            base
        }
    }
}

fn native(plan: &Plan) {
    let mut scratch = Scratch::new();
    for w in WORKLOADS {
        let n = plan.n(w);
        (w.run)(n, scratch.bytes());
        let (ns, sum) = best(plan.reps(), || (w.run)(n, scratch.bytes()));
        emit(&format!("code.{}", w.name), "native", ns, "ns");
        std::hint::black_box(sum);
    }
    let calls = plan.calls(1_000_000);
    let (ns, _) = best(plan.reps(), || {
        for _ in 0..calls {
            // SAFETY: getpid has no arguments and no side effects.
            unsafe { libc::syscall(libc::SYS_getpid) };
        }
    });
    emit("hostcall", "linux-getpid", ns / calls as f64, "ns");
}

/// The measures shared by both engines.
fn engine<R: Runtime>(args: &Args, plan: &Plan) -> Result<bool, String> {
    let name = R::NAME;
    let mut ok = true;
    let rt = R::new(false)?;
    let module = rt.compile(&args.workloads)?;
    let simd_module = rt.compile(&args.simd)?;
    let mut inst = rt.instance(&module)?;
    let mut simd_inst = rt.instance(&simd_module)?;
    let mut scratch = Scratch::new();
    for w in WORKLOADS {
        let n = plan.n(w);
        let export = format!("bench_{}", w.name);
        let inst = if w.name == "simd" {
            &mut simd_inst
        } else {
            &mut inst
        };
        inst.call(&export, n as i32)?;
        let (ns, sum) = best(plan.reps(), || inst.call(&export, n as i32));
        let sum = sum? as u64;
        let want = (w.run)(n, scratch.bytes());
        if sum != want {
            eprintln!("{name}: {} checksum {sum:#x}, native {want:#x}", w.name);
            ok = false;
        }
        emit(&format!("code.{}", w.name), name, ns, "ns");
    }

    let calls = plan.calls(1_000_000);
    let (ns, r) = best(plan.reps(), || inst.call("bench_hostcall", calls as i32));
    r?;
    emit("hostcall", name, ns / calls as f64, "ns");
    let (ns, r) = best(plan.reps(), || inst.call_empty(calls));
    r?;
    emit("host2wasm", name, ns / calls as f64, "ns");

    let traps = plan.calls(10_000);
    for (measure, export) in [
        ("trap.unreachable", "bench_unreachable"),
        ("trap.oob", "bench_oob"),
    ] {
        let (ns, r) = best(plan.reps(), || inst.traps(export, traps));
        r?;
        emit(measure, name, ns / traps as f64, "ns");
    }

    let small = rt.compile(bench_workloads::modules::SMALL)?;
    let big = rt.compile(bench_workloads::modules::BIG)?;
    for (measure, m, n) in [
        ("instantiate.1page", &small, plan.calls(10_000)),
        ("instantiate.64mib", &big, plan.calls(1_000)),
    ] {
        let (ns, r) = best(plan.reps(), || {
            (0..n).try_for_each(|_| rt.instantiate_and_drop(m))
        });
        r?;
        emit(measure, name, ns / n as f64, "ns");
    }

    for parallel in [false, true] {
        let rt = R::new(parallel)?;
        for (what, bytes) in [("workloads", &args.workloads), ("big", &args.big)] {
            let compile = || rt.compile(bytes).map(drop);
            let (ns, r) = if parallel {
                best_wall(plan.reps().min(3), compile)
            } else {
                best(plan.reps().min(3), compile)
            };
            r?;
            let threads = if parallel { "all" } else { "1" };
            emit(
                &format!("compile.{what}.{threads}"),
                name,
                bytes.len() as f64 / 1024.0 / (ns / 1e9),
                "KiB/s",
            );
        }
    }
    emit("compile.big.bytes", name, args.big.len() as f64, "B");
    Ok(ok)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench-host: {e}");
            return ExitCode::from(2);
        }
    };
    let plan = Plan { quick: args.quick };
    let result = match args.subject.as_str() {
        "native" => {
            native(&plan);
            Ok(true)
        }
        "atoll" => engine::<subjects::Atoll>(&args, &plan),
        "wasmtime" => engine::<subjects::Wasmtime>(&args, &plan),
        other => Err(format!("unknown subject {other:?}\n{USAGE}")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench-host {}: {e}", args.subject);
            ExitCode::FAILURE
        }
    }
}

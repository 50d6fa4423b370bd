//! Kernel tests of threads and processes: preemption of CPU-bound
//! processes, exit/trap/kill statuses, out-of-memory, channels between a
//! process and the kernel, handle isolation, the module cache, sleeping,
//! and no leaks over 100 spawn+exit cycles. Modules: `tests-wasm/proc_*.wat`.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use ktest::ktest;

use super::abi::Object;
use super::channel::{ChanErr, channel};
use super::{ProcRef, SpawnError, SpawnRequest, Status, StatusKind, cache, trap_code};
use crate::mem::{frames, heap};
use crate::sched::{percpu, thread, timer};

static SPIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_spin.wasm"));
static EXIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_exit.wasm"));
static TRAP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_trap.wasm"));
static OOM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_oom.wasm"));
static HUGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_huge.wasm"));
static ECHO: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_echo.wasm"));
static HANDLES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_handles.wasm"));
static SLEEP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_sleep.wasm"));
static REACTOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_reactor.wasm"));
/// Imports every function of `atoll_abi::FUNCTIONS` with its listed signature (kernel/build.rs).
static ABI_IMPORTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/abi_imports.wasm"));

fn start(name: &str, wasm: &[u8], handles: Vec<Object>) -> Result<ProcRef, SpawnError> {
    super::spawn(SpawnRequest {
        name,
        wasm,
        image_path: None,
        args: vec![String::from(name)],
        env: vec![],
        preopens: vec![],
        handles,
        stdio: crate::proc::Stdio::Null,
        owns_console: false,
        entry: crate::proc::invoke::Request::Command,
    })
}

/// Spawns the reactor test module to serve calls on `handles` (the first should be a channel).
fn serve(handles: Vec<Object>) -> Result<ProcRef, SpawnError> {
    super::spawn(SpawnRequest {
        name: "reactor",
        wasm: REACTOR,
        image_path: None,
        args: vec![String::from("reactor")],
        env: vec![],
        preopens: vec![],
        handles,
        stdio: crate::proc::Stdio::Null,
        owns_console: false,
        entry: crate::proc::invoke::Request::Serve,
    })
}

/// Spawns the reactor test module calling `export` with `args`.
fn invoke(export: Option<&str>, args: &[&str]) -> Result<ProcRef, SpawnError> {
    let mut argv = vec![String::from("reactor")];
    argv.extend(args.iter().map(|a| String::from(*a)));
    super::spawn(SpawnRequest {
        name: "reactor",
        wasm: REACTOR,
        image_path: None,
        args: argv,
        env: vec![],
        preopens: vec![],
        handles: vec![],
        stdio: crate::proc::Stdio::Null,
        owns_console: false,
        entry: export.map_or(crate::proc::invoke::Request::Command, |e| {
            crate::proc::invoke::Request::Invoke(String::from(e))
        }),
    })
}

fn spawn_ok(name: &str, wasm: &[u8], handles: Vec<Object>) -> ProcRef {
    start(name, wasm, handles).unwrap_or_else(|e| panic!("spawn {name}: {e}"))
}

fn status(p: &ProcRef) -> Status {
    p.wait().expect("the test thread is not killed")
}

ktest! {
    fn threads_run_block_and_wake_across_harts() {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let wq = Arc::new(thread::WaitQueue::new());
        let mut ts = Vec::new();
        for _ in 0..8 {
            let wq = wq.clone();
            ts.push(thread::spawn("t", thread::KERNEL_STACK_SIZE, 0, move || {
                // Sleep, then count, then wake the test.
                thread::sleep_until(timer::now_ns() + 20_000_000);
                COUNT.fetch_add(1, Ordering::AcqRel);
                wq.wake_all();
            }).unwrap());
        }
        let done = wq.wait_until(
            || COUNT.load(Ordering::Acquire) == 8,
            Some(timer::now_ns() + 5_000_000_000),
            || false,
        );
        assert!(done, "only {} of 8 threads finished", COUNT.load(Ordering::Acquire));
    }
}

ktest! {
    fn the_kernel_provides_every_atoll_function_with_the_signature_the_abi_lists() {
        let p = spawn_ok("abi-imports", ABI_IMPORTS, vec![]);
        assert_eq!(status(&p).kind, StatusKind::Exited);
    }
}

ktest! {
    fn cpu_bound_processes_are_preempted() {
        // More spinning processes than harts: without preemption some
        // would never run.
        let n = percpu::online_mask().count_ones() as usize + 2;
        let procs: Vec<ProcRef> = (0..n).map(|_| spawn_ok("spin", SPIN, vec![])).collect();
        thread::sleep_until(timer::now_ns() + 300_000_000);
        let deadline = timer::now_ns() + 5_000_000_000;
        while procs.iter().any(|p| p.cpu_ns() == 0) && timer::now_ns() < deadline {
            thread::sleep_until(timer::now_ns() + 20_000_000);
        }
        let cpu: Vec<u64> = procs.iter().map(|p| p.cpu_ns()).collect();
        for p in &procs {
            super::kill(p.pid).unwrap();
        }
        for p in &procs {
            assert_eq!(status(p), Status { kind: StatusKind::Killed, code: 0 });
        }
        assert!(cpu.iter().all(|&c| c > 0), "some processes never ran: {cpu:?}");
    }
}

ktest! {
    fn exit_code_and_module_cache() {
        let p = spawn_ok("exit", EXIT, vec![]);
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 42 });
        // The bytes are cached now: a second spawn compiles nothing.
        let compiles = cache::compiles();
        let p = spawn_ok("exit", EXIT, vec![]);
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 42 });
        assert_eq!(cache::compiles(), compiles, "the second spawn recompiled");
        // Waiting again gives the same status.
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 42 });
    }
}

ktest! {
    fn a_reactor_runs_initialize_then_the_invoked_export_with_its_arguments() {
        let p = invoke(Some("exit_sum"), &["40", "2"]).expect("spawn");
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 42 });
        let p = invoke(Some("add"), &["-1", "0x10"]).expect("spawn");
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 0 });
    }
}

ktest! {
    fn a_reactor_serves_calls_on_its_channel_until_the_other_end_closes() {
        let (mine, theirs) = channel();
        let p = serve(vec![Object::Channel(theirs)]).expect("spawn");
        let ask = |call: &str| {
            mine.send(call.as_bytes(), false).expect("send");
            String::from_utf8(mine.recv(atoll_abi::MAX_MESSAGE, false).expect("reply")).expect("text")
        };
        // `add` traps unless `_initialize` ran; the same instance answers every call.
        assert_eq!(ask("add 40 2"), "42\n");
        let r = ask("add 1");
        assert!(r.starts_with("error: ") && r.contains("takes 2 argument(s), 1 given"), "{r}");
        assert_eq!(ask("nope 1"), "error: no exported function named `nope`\n");
        let r = ask("add 1 two");
        assert!(r.starts_with("error: ") && r.contains("`two` is not an i32"), "{r}");
        assert_eq!(ask("  add   -1 0x10 "), "15\n");
        drop(mine);
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 0 });
        assert!(matches!(serve(vec![]), Err(SpawnError::NoExec(m)) if m.contains("handle 1")));
    }
}

ktest! {
    fn an_argument_not_of_its_parameter_type_is_a_host_error() {
        let p = invoke(Some("add"), &["1", "two"]).expect("spawn");
        assert_eq!(status(&p), Status { kind: StatusKind::Trapped, code: trap_code::HOST });
        assert!(p.trap_message().is_some_and(|m| m.contains("`two` is not an i32")));
        let p = invoke(Some("add"), &["1"]).expect("spawn");
        assert_eq!(status(&p).kind, StatusKind::Trapped);
    }
}

ktest! {
    fn a_reactor_without_an_export_to_call_only_initializes_and_an_unknown_export_does_not_start() {
        // As `wasmtime run`: `_initialize`, then no `_start` to call: exit 0.
        let p = invoke(None, &[]).expect("spawn");
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 0 });
        assert!(matches!(invoke(Some("nope"), &[]), Err(SpawnError::NoExec(_))));
    }
}

ktest! {
    fn a_trap_ends_only_its_process_with_code_and_backtrace() {
        let p = spawn_ok("trap", TRAP, vec![]);
        assert_eq!(status(&p), Status { kind: StatusKind::Trapped, code: 9 });
        let msg = p.trap_message().expect("a trap message");
        assert!(msg.contains("unreachable"), "message: {msg}");
        assert!(msg.lines().count() >= 3, "no backtrace in: {msg}");
        // The system goes on.
        let q = spawn_ok("exit", EXIT, vec![]);
        assert_eq!(status(&q).code, 42);
    }
}

ktest! {
    fn out_of_memory_ends_only_its_process() {
        // One out-of-memory round: a process that grows its memory until
        // the cap stops it (it then traps), and one too big to start.
        let round = || {
            let p = spawn_ok("oom", OOM, vec![]);
            let s = status(&p);
            assert_eq!(s.kind, StatusKind::Trapped, "{s:?}");
            match start("huge", HUGE, vec![]) {
                Err(SpawnError::NoMem(_)) => {}
                Err(e) => panic!("huge: {e}"),
                Ok(_) => panic!("a 3.7 GiB process started"),
            }
            // The spawner can go on before the children's harts switched
            // away from them and returned their stacks.
            thread::sleep_until(timer::now_ns() + 20_000_000);
        };
        // The first round may keep memory for good: compiled modules in the
        // cache, page tables for the reservation (they stay for the next
        // one at that address), pooled thread stacks, a grown kernel heap.
        // A leak is per round, so rounds after it must give everything back.
        round();
        let mut deficit = 0;
        for _ in 0..3 {
            let frames0 = frames::stats().0;
            let heap_mapped0 = heap::stats().mapped;
            round();
            // Frames the kernel heap took (it never shrinks) are not the process's.
            let heap_growth = heap::stats().mapped.saturating_sub(heap_mapped0) / crate::mem::PAGE_SIZE;
            deficit = frames0.saturating_sub(frames::stats().0 + heap_growth);
            if deficit == 0 {
                break;
            }
        }
        assert_eq!(deficit, 0, "frames not returned in each of 3 out-of-memory rounds");
        // The system goes on.
        let q = spawn_ok("exit", EXIT, vec![]);
        assert_eq!(status(&q).code, 42);
    }
}

ktest! {
    fn kill_ends_a_spinning_process() {
        let p = spawn_ok("spin", SPIN, vec![]);
        thread::sleep_until(timer::now_ns() + 30_000_000);
        assert!(p.status().is_none());
        super::kill(p.pid).unwrap();
        assert_eq!(status(&p), Status { kind: StatusKind::Killed, code: 0 });
        assert!(super::kill(p.pid).is_err() || p.status().is_some());
    }
}

ktest! {
    fn channels_block_and_report_epipe_and_sizes() {
        let (mine, theirs) = channel();
        let p = spawn_ok("echo", ECHO, vec![Object::Channel(theirs)]);
        assert_eq!(mine.recv(64, true), Err(ChanErr::Again));
        mine.send(b"ping", false).unwrap();
        // Blocks until the process echoes.
        assert_eq!(mine.recv(64, false).unwrap(), b"ping");
        mine.send(b"longer message", false).unwrap();
        let deadline = timer::now_ns() + 5_000_000_000;
        loop {
            match mine.recv(4, true) {
                Err(ChanErr::MsgSize(14)) => break,
                Err(ChanErr::Again) if timer::now_ns() < deadline => thread::yield_now(),
                other => panic!("small buffer: {other:?}"),
            }
        }
        assert_eq!(mine.recv(64, false).unwrap(), b"longer message");
        assert_eq!(
            mine.send(&vec![0u8; ipc::MAX_MESSAGE + 1], true),
            Err(ChanErr::MsgSize(ipc::MAX_MESSAGE + 1))
        );
        // Fill the child's queue without blocking until it is full... the
        // child echoes, so stop it first: closing our end ends it (EPIPE).
        drop(mine);
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 64 });

        let (mine, theirs) = channel();
        drop(theirs);
        assert_eq!(mine.send(b"x", false), Err(ChanErr::Pipe));
        assert_eq!(mine.recv(8, false), Err(ChanErr::Pipe));
    }
}

ktest! {
    fn a_full_channel_blocks_the_sender() {
        let (a, b) = channel();
        for _ in 0..ipc::MAX_QUEUED {
            a.send(b"m", true).unwrap();
        }
        assert_eq!(a.send(b"m", true), Err(ChanErr::Again));
        // A thread drains one message later; the blocking send then completes.
        let t0 = timer::now_ns();
        let drainer = thread::spawn("drain", thread::KERNEL_STACK_SIZE, 0, move || {
            thread::sleep_until(timer::now_ns() + 30_000_000);
            assert_eq!(b.recv(8, false).unwrap(), b"m");
            // Keep `b` open until the sender is through.
            thread::sleep_until(timer::now_ns() + 100_000_000);
            drop(b);
        })
        .unwrap();
        a.send(b"m", false).unwrap();
        assert!(timer::now_ns() - t0 >= 20_000_000, "send did not block");
        drop(drainer);
    }
}

ktest! {
    fn handles_are_private_to_their_process() {
        let (mine, theirs) = channel();
        // Given a channel as handle 1, the process can send on it.
        let p = spawn_ok("handles", HANDLES, vec![Object::Channel(theirs)]);
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 0 });
        assert_eq!(mine.recv(8, false).unwrap(), b"ping");
        // Another process using the same number gets EBADF: handle 1
        // names nothing in its table (the echo process holds its own).
        let (_keep, other) = channel();
        let holder = spawn_ok("echo", ECHO, vec![Object::Channel(other)]);
        let q = spawn_ok("handles", HANDLES, vec![]);
        assert_eq!(status(&q), Status { kind: StatusKind::Exited, code: 8 });
        super::kill(holder.pid).unwrap();
        assert_eq!(status(&holder).kind, StatusKind::Killed);
    }
}

ktest! {
    fn a_process_sleeps_without_holding_a_hart() {
        let t0 = timer::now_ns();
        let p = spawn_ok("sleep", SLEEP, vec![]);
        // EINVAL (28) for the negative sleep after a real one.
        assert_eq!(status(&p), Status { kind: StatusKind::Exited, code: 28 });
        assert!(timer::now_ns() - t0 >= 50_000_000, "slept less than 50 ms");
        assert!(p.cpu_ns() < 40_000_000 || p.cpu_ns() == 0, "it spun: {} ns", p.cpu_ns());
    }
}

ktest! {
    fn a_hundred_spawns_leak_nothing() {
        // Warm up: the module is compiled and stacks are pooled (a parent
        // may spawn again before the last child's thread has switched
        // away and returned its stack, so a few are in use at once).
        for _ in 0..5 {
            let p = spawn_ok("exit", EXIT, vec![]);
            assert_eq!(status(&p).code, 42);
        }
        // A leak grows every round; a structure that grows once (a map's
        // capacity, a newly pooled stack) does not. So a round of 100 that
        // ends exactly where it started passes, and three rounds that each
        // grow fail.
        let mut growth = (0, 0);
        for _ in 0..3 {
            thread::sleep_until(timer::now_ns() + 20_000_000);
            let frames0 = frames::stats().0;
            let heap0 = heap::stats().allocated;
            for _ in 0..100 {
                let p = spawn_ok("exit", EXIT, vec![]);
                assert_eq!(status(&p).code, 42);
            }
            // The last thread's stack returns when its hart switches away.
            thread::sleep_until(timer::now_ns() + 20_000_000);
            growth = (
                frames0 as i64 - frames::stats().0 as i64,
                heap::stats().allocated as i64 - heap0 as i64,
            );
            if growth == (0, 0) {
                break;
            }
        }
        assert!(thread::pooled_stacks() > 0, "thread stacks are not reused");
        assert_eq!(growth, (0, 0), "(frames, heap bytes) leaked in each of 3 rounds of 100 spawns");
        assert!(super::list().iter().all(|p| p.status().is_none()), "ended processes stay listed");
    }
}

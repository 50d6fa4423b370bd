//! Kernel tests of hostile programs: a table larger than the machine, a module too big to
//! compile, unbounded recursion, trap storms, and a kill while a process is blocked in a
//! system call. Each must end (or refuse) that process alone, with a clear error, and leave
//! the kernel running with nothing leaked. (Tables until memory runs out grow the kernel heap
//! for good, so they run in the `stress` stage's own boot: `user/stress`.)
//! Modules: `tests-wasm/proc_{table_huge,recurse,block}.wat`.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use ktest::ktest;

use super::{ProcRef, SpawnError, SpawnRequest, Status, StatusKind, trap_code};
use crate::mem::{frames, heap};
use crate::sched::{thread, timer};

static EXIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_exit.wasm"));
static TRAP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_trap.wasm"));
static TABLE_HUGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_table_huge.wasm"));
static RECURSE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_recurse.wasm"));
static BLOCK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_block.wasm"));

fn start(name: &str, wasm: &[u8]) -> Result<ProcRef, SpawnError> {
    super::spawn(SpawnRequest {
        name,
        wasm,
        image_path: None,
        args: vec![String::from(name)],
        env: vec![],
        preopens: vec![],
        handles: vec![],
        stdio: crate::proc::Stdio::Null,
        owns_console: false,
        entry: crate::proc::invoke::Request::Command,
    })
}

fn status(p: &ProcRef) -> Status {
    p.wait().expect("the test thread is not killed")
}

/// The system still runs programs.
fn still_runs() {
    let p = start("exit", EXIT).unwrap_or_else(|e| panic!("spawn after the hostile program: {e}"));
    assert_eq!(
        status(&p),
        Status {
            kind: StatusKind::Exited,
            code: 42
        }
    );
}

ktest! {
    fn a_table_larger_than_the_machine_is_refused_for_its_process_alone() {
        match start("table-huge", TABLE_HUGE) {
            Err(SpawnError::NoMem(m)) => assert!(m.contains("table"), "message: {m}"),
            Err(e) => panic!("a 100,000,000-element table: {e}"),
            Ok(_) => panic!("a 100,000,000-element table was allocated"),
        }
        still_runs();
    }
}

ktest! {
    fn a_module_too_big_to_compile_is_refused_before_compiling() {
        // A valid module padded with a custom section to more than the free memory could
        // compile (by the kernel's estimate).
        let free = frames::stats().0 * crate::mem::PAGE_SIZE;
        let pad = (free / super::COMPILE_BYTES_PER_WASM_BYTE) as usize + (1 << 20);
        let mut wasm = Vec::new();
        wasm.extend_from_slice(b"\0asm\x01\0\0\0\0");
        // The custom section's size as a 5-byte LEB128: its name (1 byte of length, `x`)
        // and the padding.
        let size = pad as u32 + 2;
        for i in 0..5 {
            let b = ((size >> (7 * i)) & 0x7f) as u8;
            wasm.push(if i < 4 { b | 0x80 } else { b });
        }
        wasm.extend_from_slice(b"\x01x");
        wasm.resize(wasm.len() + pad, 0);
        match start("too-big", &wasm) {
            Err(SpawnError::NoMem(m)) => assert!(m.contains("to compile"), "message: {m}"),
            Err(e) => panic!("a {pad}-byte module: {e}"),
            Ok(_) => panic!("a module bigger than memory allows was compiled"),
        }
        drop(wasm);
        still_runs();
    }
}

ktest! {
    fn unbounded_recursion_traps_its_process_alone() {
        let p = start("recurse", RECURSE).unwrap_or_else(|e| panic!("spawn: {e}"));
        assert_eq!(status(&p), Status { kind: StatusKind::Trapped, code: trap_code::STACK_OVERFLOW });
        still_runs();
    }
}

ktest! {
    fn a_process_killed_while_blocked_in_a_system_call_ends_at_once() {
        let p = start("block", BLOCK).unwrap_or_else(|e| panic!("spawn: {e}"));
        thread::sleep_until(timer::now_ns() + 30_000_000);
        let t0 = timer::now_ns();
        super::kill(p.pid).unwrap();
        assert_eq!(status(&p), Status { kind: StatusKind::Killed, code: 0 });
        let took = timer::now_ns() - t0;
        assert!(took < 2_000_000_000, "the kill took {} ms", took / 1_000_000);
        still_runs();
    }
}

ktest! {
    fn a_storm_of_traps_leaks_nothing() {
        // As `a_hundred_spawns_leak_nothing`, with processes that trap (a backtrace each):
        // a round that ends where it started passes; three that each grow fail.
        for _ in 0..5 {
            let p = start("trap", TRAP).unwrap_or_else(|e| panic!("spawn: {e}"));
            assert_eq!(status(&p).kind, StatusKind::Trapped);
        }
        let mut growth = (0, 0);
        for _ in 0..3 {
            thread::sleep_until(timer::now_ns() + 20_000_000);
            let frames0 = frames::stats().0;
            let heap0 = heap::stats().allocated;
            for _ in 0..200 {
                let p = start("trap", TRAP).unwrap_or_else(|e| panic!("spawn: {e}"));
                assert_eq!(status(&p), Status { kind: StatusKind::Trapped, code: 9 });
            }
            thread::sleep_until(timer::now_ns() + 20_000_000);
            growth = (
                frames0 as i64 - frames::stats().0 as i64,
                heap::stats().allocated as i64 - heap0 as i64,
            );
            if growth == (0, 0) {
                break;
            }
        }
        assert_eq!(growth, (0, 0), "(frames, heap bytes) leaked in each of 3 rounds of 200 traps");
        still_runs();
    }
}

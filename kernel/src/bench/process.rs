//! Kernel memory per idle process: what the kernel holds for a process that
//! sleeps (thread and stack, store, instance, its 1-page memory, WASI state,
//! handle table), measured as the change in heap bytes and in frames. Frames
//! taken from the kernel's reuse pools (thread stacks, kept Wasm memories)
//! count as well: they are the process's while it lives.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::Bench;
use crate::mem::{PAGE_SIZE, frames, heap};
use crate::proc::{self, ProcRef, RunState, SpawnRequest};
use crate::sched::{thread, timer};
use crate::wasm::{WASM_STACK_SIZE, platform};

static IDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proc_idle.wasm"));

/// Processes measured together (the figure is per process).
const N: usize = 8;

fn spawn_idle() -> Result<ProcRef, proc::SpawnError> {
    proc::spawn(SpawnRequest {
        name: "idle",
        wasm: IDLE,
        image_path: None,
        args: vec![String::from("idle")],
        env: vec![],
        preopens: vec![],
        handles: vec![],
        stdio: crate::proc::Stdio::Null,
        owns_console: false,
        entry: crate::proc::invoke::Request::Command,
    })
}

/// Frames in use, counting the reuse pools' frames as free.
fn frames_in_use() -> u64 {
    let pooled_stacks = thread::pooled_stacks() as u64 * (WASM_STACK_SIZE / PAGE_SIZE);
    let kept = platform::stats().kept_bytes / PAGE_SIZE;
    frames::stats().1.saturating_sub(pooled_stacks + kept)
}

/// Waits (up to a second) until every process sleeps.
fn all_asleep(procs: &[ProcRef]) -> bool {
    let deadline = timer::now_ns() + 1_000_000_000;
    while timer::now_ns() < deadline {
        if procs.iter().all(|p| p.run_state() == RunState::Blocked) {
            return true;
        }
        thread::sleep_until(timer::now_ns() + 1_000_000);
    }
    false
}

fn end(procs: Vec<ProcRef>) {
    for p in &procs {
        let _ = proc::kill(p.pid);
    }
    for p in &procs {
        p.wait();
    }
}

/// Emits `memory.process_heap` (bytes) and `memory.process_frames` per idle
/// process. Must run on a thread that may block (not on a Wasm stack).
pub(super) fn idle_process(b: &mut Bench) {
    // One round first, so that the module cache and other one-time
    // structures exist before the measured one.
    for round in 0..2 {
        let heap0 = heap::stats().allocated;
        let frames0 = frames_in_use();
        let mut procs = Vec::with_capacity(N);
        for _ in 0..N {
            match spawn_idle() {
                Ok(p) => procs.push(p),
                Err(e) => {
                    end(procs);
                    return b.fail("memory.process", e);
                }
            }
        }
        if !all_asleep(&procs) {
            end(procs);
            return b.fail("memory.process", "the idle processes did not go to sleep");
        }
        let heap_per = heap::stats().allocated.saturating_sub(heap0) / N as u64;
        let frames_per = frames_in_use().saturating_sub(frames0) / N as u64;
        end(procs);
        if round == 1 {
            b.emit("memory.process_heap", "atoll", heap_per as f64, "B");
            b.emit(
                "memory.process_frames",
                "atoll",
                frames_per as f64,
                "frames",
            );
        }
    }
}

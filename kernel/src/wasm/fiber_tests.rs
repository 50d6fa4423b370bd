//! Kernel tests of the engine's async calls: Wasm on a fiber whose stack comes from the
//! kernel's platform, suspended by an async host function and resumed, with traps and
//! page faults on the fiber caught as on any Wasm stack. (The kernel's own processes block
//! their threads instead: see README, "Embedding patterns".)

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use ktest::ktest;
use wasm_engine::{Caller, Config, Error, HostFuture, Linker, Module, Store, TrapCode};

static FIBER_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fiber.wasm"));

/// Pending `n` times, then ready with `n`: (times left, n).
struct YieldTimes(i32, i32);

impl Future for YieldTimes {
    type Output = Result<i32, Error>;
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        if self.0 <= 0 {
            return Poll::Ready(Ok(self.1));
        }
        self.0 -= 1;
        Poll::Pending
    }
}

/// Polls `f` until it is ready; returns its output and how many polls it took.
fn drive<F: Future>(f: F) -> (F::Output, u32) {
    let mut f = core::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(o) = f.as_mut().poll(&mut cx) {
            return (o, polls);
        }
    }
}

/// Calls the export `name` of the fiber module with `arg` through `call_async`.
fn call(name: &str, arg: i32) -> (Result<i32, Error>, u32) {
    let engine = super::new_engine(&Config::new()).unwrap_or_else(|e| panic!("engine: {e}"));
    let module = Module::new(&engine, FIBER_WASM).unwrap_or_else(|e| panic!("compile: {e}"));
    let mut linker: Linker<()> = Linker::new(&engine);
    linker
        .func_wrap_async("env", "yield_times", |_: Caller<'_, ()>, n: i32| {
            alloc::boxed::Box::pin(YieldTimes(n, n)) as HostFuture<'_, i32>
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    if name == "yield_then_trap" {
        let f = instance.get_typed_func::<(), ()>(&store, name).unwrap();
        let (r, polls) = drive(f.call_async(&mut store, ()));
        return (r.map(|()| 0), polls);
    }
    if name == "yield_then_fault" {
        let f = instance.get_typed_func::<(), i32>(&store, name).unwrap();
        return drive(f.call_async(&mut store, ()));
    }
    let f = instance.get_typed_func::<i32, i32>(&store, name).unwrap();
    drive(f.call_async(&mut store, arg))
}

ktest! {
    fn an_async_host_function_suspends_a_call_on_a_kernel_fiber() {
        let (r, polls) = call("yield_then", 4);
        assert_eq!(r.unwrap(), 104);
        assert_eq!(polls, 5);
    }
}

ktest! {
    fn traps_and_page_faults_on_a_fiber_are_wasm_traps() {
        let (r, _) = call("yield_then_trap", 0);
        assert_eq!(r.unwrap_err().trap_code(), Some(TrapCode::Unreachable));
        let (r, _) = call("yield_then_fault", 0);
        assert_eq!(r.unwrap_err().trap_code(), Some(TrapCode::MemoryOutOfBounds));
        let (r, _) = call("deep", 0);
        assert_eq!(r.unwrap_err().trap_code(), Some(TrapCode::StackOverflow));
    }
}

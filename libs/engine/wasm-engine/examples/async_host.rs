//! Pattern 5, async host functions: a host function that must wait (for a timer, for
//! another instance) returns a future; the Wasm call, started with `call_async`, runs on
//! a fiber of the engine's own and is suspended while that future is pending, so the host
//! thread is free to run other calls. Here one thread drives two instances in two stores:
//! a producer that sends numbers and sleeps between them, and a consumer whose `recv`
//! waits until a number has been sent. Nothing blocks the thread but the executor itself
//! when every call waits.
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use wasm_engine::{Caller, Engine, Error, HostFuture, Instance, Linker, Module, Store};

/// Numbers sent from one instance to the other, and who waits for one.
#[derive(Default)]
pub struct Mailbox {
    queue: VecDeque<i32>,
    waiting: Option<Waker>,
}

pub type Shared = Arc<Mutex<Mailbox>>;

/// Ready once the mailbox holds a number, which it takes.
struct Recv(Shared);

impl Future for Recv {
    type Output = Result<i32, Error>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut mailbox = self.0.lock().expect("mailbox");
        match mailbox.queue.pop_front() {
            Some(v) => Poll::Ready(Ok(v)),
            None => {
                mailbox.waiting = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Ready once `deadline` has passed; a thread wakes the task then.
struct Sleep {
    deadline: Instant,
    armed: bool,
}

impl Future for Sleep {
    type Output = Result<(), Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(Ok(()));
        }
        if !self.armed {
            self.armed = true;
            let (waker, deadline) = (cx.waker().clone(), self.deadline);
            std::thread::spawn(move || {
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                waker.wake();
            });
        }
        Poll::Pending
    }
}

/// Pending `n` times (waking itself each time), then ready with `n`: (times left, n).
pub struct YieldTimes(i32, i32);

impl Future for YieldTimes {
    type Output = Result<i32, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.0 <= 0 {
            return Poll::Ready(Ok(self.1));
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The host functions: `send` (plain), `recv`, `sleep_ms` and `yield_times` (async).
pub fn linker(engine: &Engine) -> Result<Linker<Shared>, Error> {
    let mut linker = Linker::new(engine);
    linker.func_wrap("env", "send", |caller: Caller<'_, Shared>, v: i32| {
        let mut mailbox = caller.data().lock().expect("mailbox");
        mailbox.queue.push_back(v);
        if let Some(w) = mailbox.waiting.take() {
            w.wake();
        }
    })?;
    linker.func_wrap_async("env", "recv", |caller: Caller<'_, Shared>, ()| {
        Box::pin(Recv(caller.data().clone())) as HostFuture<'_, i32>
    })?;
    linker.func_wrap_async("env", "sleep_ms", |_: Caller<'_, Shared>, ms: i32| {
        let deadline = Instant::now() + Duration::from_millis(ms as u64);
        Box::pin(Sleep {
            deadline,
            armed: false,
        }) as HostFuture<'_, ()>
    })?;
    linker.func_wrap_async("env", "yield_times", |_: Caller<'_, Shared>, n: i32| {
        Box::pin(YieldTimes(n, n)) as HostFuture<'_, i32>
    })?;
    Ok(linker)
}

/// A producer (`produce(n)`: send 1..=n, sleeping 1 ms after each) and a consumer
/// (`consume(n)`: the sum of n numbers received), plus functions for the tests.
pub const GUEST: &str = r#"(module
  (import "env" "send" (func $send (param i32)))
  (import "env" "recv" (func $recv (result i32)))
  (import "env" "sleep_ms" (func $sleep (param i32)))
  (import "env" "yield_times" (func $yield (param i32) (result i32)))
  (func (export "produce") (param $n i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $send (local.get $i))
      (call $sleep (i32.const 1))
      (br_if $l (i32.lt_s (local.get $i) (local.get $n)))))
  (func (export "consume") (param $n i32) (result i32) (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (call $recv)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $sum))
  (func (export "yield_then") (param i32) (result i32)
    (i32.add (call $yield (local.get 0)) (i32.const 100)))
  (func $fail (export "yield_then_trap") (drop (call $yield (i32.const 3))) unreachable)
  (func $deep (export "deep") (param i32) (result i32)
    (drop (call $yield (i32.const 0)))
    (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))"#;

/// Wakes by unparking the executor's thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs every future on this thread until all are ready, parking when none can progress;
/// returns their outputs and how many times each was polled.
pub fn run_all<O>(mut futures: Vec<Pin<Box<dyn Future<Output = O> + '_>>>) -> Vec<(O, u32)> {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut outputs: Vec<Option<(O, u32)>> = futures.iter().map(|_| None).collect();
    let mut polls = vec![0u32; futures.len()];
    while outputs.iter().any(Option::is_none) {
        for (i, f) in futures.iter_mut().enumerate() {
            if outputs[i].is_none() {
                polls[i] += 1;
                if let Poll::Ready(o) = f.as_mut().poll(&mut cx) {
                    outputs[i] = Some((o, polls[i]));
                }
            }
        }
        if outputs.iter().any(Option::is_none) {
            std::thread::park_timeout(Duration::from_millis(5));
        }
    }
    outputs.into_iter().map(|o| o.expect("all ready")).collect()
}

/// The guest instantiated in a store of its own, sharing `mailbox`.
pub fn instance(engine: &Engine, mailbox: &Shared) -> Result<(Store<Shared>, Instance), Error> {
    let module = Module::new(engine, &wat::parse_str(GUEST).expect("valid wat"))?;
    let mut store = Store::new(engine, mailbox.clone());
    let instance = linker(engine)?.instantiate(&mut store, &module)?;
    Ok((store, instance))
}

fn main() -> Result<(), Error> {
    let engine = Engine::default();
    let mailbox = Shared::default();
    let (mut producer_store, producer) = instance(&engine, &mailbox)?;
    let (mut consumer_store, consumer) = instance(&engine, &mailbox)?;
    let produce = producer.get_typed_func::<i32, ()>(&producer_store, "produce")?;
    let consume = consumer.get_typed_func::<i32, i32>(&consumer_store, "consume")?;
    let start = Instant::now();
    let results = run_all(vec![
        Box::pin(async { consume.call_async(&mut consumer_store, 20).await.map(Some) }),
        Box::pin(async {
            produce
                .call_async(&mut producer_store, 20)
                .await
                .map(|()| None)
        }),
    ]);
    for (r, polls) in &results {
        println!("{r:?} after {polls} polls");
    }
    println!(
        "one thread, two instances waiting on each other, {:?}",
        start.elapsed()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_engine::TrapCode;

    fn guest() -> (Store<Shared>, Instance) {
        instance(&Engine::default(), &Shared::default()).expect("instance")
    }

    #[test]
    fn the_example_runs() {
        main().expect("example");
    }

    #[test]
    fn a_waiting_host_function_suspends_the_call_and_its_result_reaches_wasm() {
        let (mut store, i) = guest();
        let f = i.get_typed_func::<i32, i32>(&store, "yield_then").unwrap();
        let out = run_all(vec![Box::pin(f.call_async(&mut store, 5))]);
        let (result, polls) = &out[0];
        assert_eq!(*result.as_ref().unwrap(), 105);
        // Pending five times: the call's future returned Pending each time.
        assert_eq!(*polls, 6);
    }

    #[test]
    fn two_instances_on_one_thread_wait_for_each_other() {
        let engine = Engine::default();
        let mailbox = Shared::default();
        let (mut ps, p) = instance(&engine, &mailbox).unwrap();
        let (mut cs, c) = instance(&engine, &mailbox).unwrap();
        let produce = p.get_typed_func::<i32, ()>(&ps, "produce").unwrap();
        let consume = c.get_typed_func::<i32, i32>(&cs, "consume").unwrap();
        let out = run_all(vec![
            Box::pin(async { consume.call_async(&mut cs, 50).await.map(Some) }),
            Box::pin(async { produce.call_async(&mut ps, 50).await.map(|()| None) }),
        ]);
        assert_eq!(out[0].0.as_ref().unwrap(), &Some(50 * 51 / 2));
        assert!(out[1].0.is_ok());
        // The consumer waited for the producer many times rather than blocking the thread.
        assert!(out[0].1 > 10, "consumer polled {} times", out[0].1);
    }

    #[test]
    fn a_trap_after_resuming_has_its_code_and_backtrace() {
        let (mut store, i) = guest();
        let f = i
            .get_typed_func::<(), ()>(&store, "yield_then_trap")
            .unwrap();
        let out = run_all(vec![Box::pin(f.call_async(&mut store, ()))]);
        match &out[0].0 {
            Err(Error::Trap(t)) => {
                assert_eq!(t.code, TrapCode::Unreachable);
                assert_eq!(t.backtrace[0].func_name.as_deref(), Some("fail"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_async_host_function_in_a_plain_call_is_an_error() {
        let (mut store, i) = guest();
        let f = i.get_typed_func::<i32, i32>(&store, "yield_then").unwrap();
        assert!(matches!(f.call(&mut store, 1), Err(Error::Usage(_))));
    }

    #[test]
    fn dropping_a_waiting_call_cancels_it_and_the_store_goes_on() {
        let (mut store, i) = guest();
        let consume = i.get_typed_func::<i32, i32>(&store, "consume").unwrap();
        {
            let mut call = Box::pin(consume.call_async(&mut store, 1));
            let waker = Waker::noop();
            assert!(
                call.as_mut()
                    .poll(&mut Context::from_waker(waker))
                    .is_pending()
            );
        }
        let f = i.get_typed_func::<i32, i32>(&store, "yield_then").unwrap();
        let out = run_all(vec![Box::pin(f.call_async(&mut store, 2))]);
        assert_eq!(*out[0].0.as_ref().unwrap(), 102);
    }

    #[test]
    fn unbounded_recursion_on_the_fiber_is_a_stack_overflow_trap() {
        let (mut store, i) = guest();
        let deep = i.get_typed_func::<i32, i32>(&store, "deep").unwrap();
        let out = run_all(vec![Box::pin(deep.call_async(&mut store, 0))]);
        assert_eq!(
            out[0].0.as_ref().unwrap_err().trap_code(),
            Some(TrapCode::StackOverflow)
        );
        let f = i.get_typed_func::<i32, i32>(&store, "yield_then").unwrap();
        let out = run_all(vec![Box::pin(f.call_async(&mut store, 1))]);
        assert_eq!(*out[0].0.as_ref().unwrap(), 101);
    }
}

mod common;

use std::time::Duration;

use common::*;
use wasm_engine::{EpochAction, Error, Instance, Module, Store};

const SPIN: &str = r#"(module
  (func (export "spin") (loop br 0))
  (func (export "count") (param i32) (result i32) (local i32)
    block loop
      local.get 0 i32.eqz br_if 1
      local.get 0 i32.const 1 i32.sub local.set 0
      local.get 1 i32.const 1 i32.add local.set 1
      br 0
    end end
    local.get 1))"#;

#[test]
fn fuel() {
    let e = engine_with(|c| {
        c.consume_fuel(true);
    });
    let (mut store, inst) = instantiate(&e, SPIN);
    let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
    store.set_fuel(10_000).unwrap();
    assert!(matches!(spin.call(&mut store, ()), Err(Error::OutOfFuel)));
    assert_eq!(store.get_fuel().unwrap(), 0);
    let count = inst.get_typed_func::<i32, i32>(&store, "count").unwrap();
    store.set_fuel(1_000_000).unwrap();
    assert_eq!(count.call(&mut store, 100).unwrap(), 100);
    let used = 1_000_000 - store.get_fuel().unwrap();
    // ~14 operators per iteration.
    assert!((1000..3000).contains(&used), "used {used}");
    store.set_fuel(50).unwrap();
    assert!(matches!(count.call(&mut store, 100), Err(Error::OutOfFuel)));
    // Fuel APIs fail without fuel enabled.
    let plain = engine();
    let mut s2 = Store::new(&plain, ());
    assert!(s2.set_fuel(1).is_err());
}

/// The documented cost model (`translate`): one unit per operator executed, plus one
/// for entering a function; an `end` is executed only when control falls through it.
#[test]
fn fuel_is_exact() {
    let e = engine_with(|c| {
        c.consume_fuel(true);
    });
    let (mut store, inst) = instantiate(&e, SPIN);
    let count = inst.get_typed_func::<i32, i32>(&store, "count").unwrap();
    let mut used = |n: i32| {
        store.set_fuel(1_000_000).unwrap();
        assert_eq!(count.call(&mut store, n).unwrap(), n);
        1_000_000 - store.get_fuel().unwrap()
    };
    // Per iteration: local.get, i32.eqz, br_if, local.get, i32.const, i32.sub,
    // local.set, local.get, i32.const, i32.add, local.set, br.
    assert_eq!(used(101) - used(100), 12);
    // n = 0: entry, block, loop, local.get, i32.eqz, br_if (taken, past both
    // `end`s), local.get, end.
    assert_eq!(used(0), 8);
    assert_eq!(used(7), 8 + 7 * 12);
}

#[test]
fn epoch_interrupt_from_another_thread() {
    let e = engine_with(|c| {
        c.epoch_interruption(true);
    });
    let (mut store, inst) = instantiate(&e, SPIN);
    let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
    store.set_epoch_deadline(1);
    let e2 = e.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        e2.increment_epoch();
    });
    assert!(matches!(spin.call(&mut store, ()), Err(Error::Interrupted)));
    t.join().unwrap();
    // A fresh deadline lets normal code run.
    store.set_epoch_deadline(10);
    let count = inst.get_typed_func::<i32, i32>(&store, "count").unwrap();
    assert_eq!(count.call(&mut store, 1000).unwrap(), 1000);
}

/// With a callback, a passed deadline is a yield point: the guest keeps running
/// until the callback says to stop.
#[test]
fn epoch_callback_continues_then_interrupts() {
    let e = engine_with(|c| {
        c.epoch_interruption(true);
    });
    let module = Module::new(&e, &wat::parse_str(SPIN).unwrap()).unwrap();
    let mut store = Store::new(&e, 0u32);
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = inst.get_typed_func::<(), ()>(&store, "spin").unwrap();
    store.epoch_deadline_callback(|yields: &mut u32| {
        *yields += 1;
        if *yields < 5 {
            EpochAction::Continue(1)
        } else {
            EpochAction::Interrupt
        }
    });
    store.set_epoch_deadline(1);
    let e2 = e.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let ticker = std::thread::spawn(move || {
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
            e2.increment_epoch();
        }
    });
    assert!(matches!(spin.call(&mut store, ()), Err(Error::Interrupted)));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.join().unwrap();
    assert_eq!(*store.data(), 5, "four yields, then the interrupt");

    // Back to plain interruption.
    store.epoch_deadline_interrupt();
    store.set_epoch_deadline(0);
    assert!(matches!(spin.call(&mut store, ()), Err(Error::Interrupted)));
    assert_eq!(*store.data(), 5);
}

#[test]
fn wasm_on_many_threads() {
    let e = engine();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || {
                let (mut store, inst) = instantiate(
                    &e,
                    r#"(module (func (export "d") (param i32) (result i32) i32.const 10 local.get 0 i32.div_s))"#,
                );
                let d = inst.get_typed_func::<i32, i32>(&store, "d").unwrap();
                for _ in 0..100 {
                    assert_eq!(d.call(&mut store, 2).unwrap(), 5);
                    assert_trap(d.call(&mut store, 0), wasm_engine::TrapCode::IntegerDivisionByZero);
                }
                i
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

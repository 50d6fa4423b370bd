//! Pattern 4, execution deadlines and instance handles: a host runs many instances, keyed
//! by handle, each in a store of its own with a memory limit (4096 pages unless configured)
//! and, for every call, a deadline in time. A timer thread advances the engine's epoch
//! every tick (in atoll the kernel's timer does); an instance that overruns its deadline
//! is interrupted and can be dropped or called again, and the others are untouched, even
//! while they run on other threads at the same time.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{Config, Engine, Error, Instance, Module, Store, StoreLimitsBuilder};

/// How often the timer thread advances the epoch.
pub const TICK: Duration = Duration::from_millis(5);

/// The default memory limit of an instance, in 64 KiB pages.
pub const DEFAULT_MEMORY_PAGES: u64 = 4096;

/// An instance's key in the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle(u32);

/// One instance and its own store.
pub struct Slot {
    store: Store<()>,
    instance: Instance,
}

impl Slot {
    /// Calls the export `name` with `arg`, interrupted once `deadline` has passed.
    pub fn call(&mut self, name: &str, arg: i32, deadline: Duration) -> Result<i32, Error> {
        let ticks = deadline.as_nanos().div_ceil(TICK.as_nanos()).max(1);
        self.store.set_epoch_deadline(ticks as u64);
        let f = self
            .instance
            .get_typed_func::<i32, i32>(&self.store, name)?;
        f.call(&mut self.store, arg)
    }
}

/// Instances by handle, sharing one engine and its epoch timer.
pub struct Host {
    engine: Engine,
    memory_pages: u64,
    slots: HashMap<Handle, Slot>,
    next: u32,
    stop: Arc<AtomicBool>,
    timer: Option<JoinHandle<()>>,
}

impl Host {
    /// A host whose instances may use up to `memory_pages` pages each.
    pub fn new(memory_pages: u64) -> Result<Host, Error> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config, Arc::new(LinuxPlatform::new()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ticking, flag) = (engine.clone(), stop.clone());
        let timer = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                ticking.increment_epoch();
            }
        });
        Ok(Host {
            engine,
            memory_pages,
            slots: HashMap::new(),
            next: 0,
            stop,
            timer: Some(timer),
        })
    }

    /// Instantiates `wasm` in a store of its own; returns its handle.
    pub fn load(&mut self, wasm: &[u8]) -> Result<Handle, Error> {
        let module = Module::new(&self.engine, wasm)?;
        let mut store = Store::new(&self.engine, ());
        let bytes = self.memory_pages as usize * 65536;
        store.limiter(StoreLimitsBuilder::new().memory_size(bytes).build());
        let instance = Instance::new(&mut store, &module, &[])?;
        let handle = Handle(self.next);
        self.next += 1;
        self.slots.insert(handle, Slot { store, instance });
        Ok(handle)
    }

    pub fn slot(&mut self, handle: Handle) -> Result<&mut Slot, Error> {
        self.slots
            .get_mut(&handle)
            .ok_or_else(|| Error::Usage(format!("no instance {handle:?}")))
    }

    /// Drops an instance: its store, memory and code go with it.
    pub fn drop_instance(&mut self, handle: Handle) -> bool {
        self.slots.remove(&handle).is_some()
    }

    /// Calls the export `name` of several instances at once, each with its argument and on
    /// a thread of its own, with one deadline; the results in the order of `calls`.
    pub fn call_all(
        &mut self,
        calls: &[(Handle, i32)],
        name: &str,
        deadline: Duration,
    ) -> Vec<Result<i32, Error>> {
        let mut taken: Vec<(Handle, i32, Option<Slot>)> = calls
            .iter()
            .map(|&(h, arg)| (h, arg, self.slots.remove(&h)))
            .collect();
        let results = std::thread::scope(|scope| {
            let running: Vec<_> = taken
                .iter_mut()
                .map(|(h, arg, slot)| {
                    let arg = *arg;
                    scope.spawn(move || match slot {
                        Some(s) => s.call(name, arg, deadline),
                        None => Err(Error::Usage(format!("no instance {h:?}"))),
                    })
                })
                .collect();
            running
                .into_iter()
                .map(|t| t.join().expect("no panic"))
                .collect()
        });
        for (h, _, slot) in taken {
            if let Some(s) = slot {
                self.slots.insert(h, s);
            }
        }
        results
    }

    /// How many instances the host holds.
    pub fn instance_count(&self) -> usize {
        self.slots.len()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.timer.take() {
            let _ = t.join();
        }
    }
}

/// A worker: `work(n)` loops n million times and returns n (so n large never ends in
/// time); `grow(pages)` asks for more memory and returns memory.grow's answer.
pub const WORKER: &str = r#"(module
  (memory 1)
  (global $calls (mut i32) (i32.const 0))
  (func (export "work") (param $n i32) (result i32) (local $i i64)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (local.set $i (i64.mul (i64.extend_i32_u (local.get $n)) (i64.const 1000000)))
    (block (loop
      (br_if 1 (i64.eqz (local.get $i)))
      (local.set $i (i64.sub (local.get $i) (i64.const 1)))
      (br 0)))
    (local.get $n))
  (func (export "calls") (param i32) (result i32) (global.get $calls))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

fn main() -> Result<(), Error> {
    let wasm = wat::parse_str(WORKER).expect("valid wat");
    let mut host = Host::new(DEFAULT_MEMORY_PAGES)?;
    let handles: Vec<Handle> = (0..4).map(|_| host.load(&wasm)).collect::<Result<_, _>>()?;
    // Instance 2 is asked for far more work than its deadline allows.
    let deadline = Duration::from_millis(200);
    let start = Instant::now();
    let calls: Vec<_> = handles.iter().copied().zip([1, 2, 1_000_000, 3]).collect();
    for ((h, arg), r) in calls.iter().zip(host.call_all(&calls, "work", deadline)) {
        println!("{h:?} work({arg}) -> {r:?}");
    }
    println!("all four answered, in parallel, in {:?}", start.elapsed());
    host.drop_instance(handles[2]);
    println!(
        "{} instances left after dropping the runaway",
        host.instance_count()
    );
    let pages = host.slot(handles[0])?.call("grow", 5000, deadline)?;
    println!("growing by 5000 pages past the 4096-page limit: memory.grow = {pages}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_with(n: usize, pages: u64) -> (Host, Vec<Handle>) {
        let wasm = wat::parse_str(WORKER).unwrap();
        let mut host = Host::new(pages).unwrap();
        let handles = (0..n).map(|_| host.load(&wasm).unwrap()).collect();
        (host, handles)
    }

    const LONG: Duration = Duration::from_secs(60);

    #[test]
    fn the_example_runs() {
        main().expect("example");
    }

    #[test]
    fn an_overrunning_instance_is_interrupted_near_its_deadline() {
        let (mut host, h) = host_with(1, DEFAULT_MEMORY_PAGES);
        let start = Instant::now();
        let r = host
            .slot(h[0])
            .unwrap()
            .call("work", i32::MAX, Duration::from_millis(50));
        let took = start.elapsed();
        assert!(matches!(r, Err(Error::Interrupted)), "{r:?}");
        assert!(took >= Duration::from_millis(45), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    fn each(h: &[Handle], arg: i32) -> Vec<(Handle, i32)> {
        h.iter().map(|h| (*h, arg)).collect()
    }

    #[test]
    fn the_others_run_to_completion_while_one_overruns_at_the_same_time() {
        let (mut host, h) = host_with(4, DEFAULT_MEMORY_PAGES);
        // 2 million iterations take milliseconds; 2 billion, seconds.
        let calls = [(h[0], 2), (h[1], 2), (h[2], 2000), (h[3], 2)];
        let results = host.call_all(&calls, "work", Duration::from_millis(200));
        assert!(matches!(results[2], Err(Error::Interrupted)), "{results:?}");
        for i in [0, 1, 3] {
            assert!(matches!(results[i], Ok(2)), "{results:?}");
        }
        let again = host.call_all(&each(&h, 1), "work", LONG);
        assert!(again.iter().all(|r| matches!(r, Ok(1))), "{again:?}");
    }

    #[test]
    fn instances_running_in_parallel_are_interrupted_only_when_they_overrun() {
        let (mut host, h) = host_with(3, DEFAULT_MEMORY_PAGES);
        let results = host.call_all(&each(&h, 100_000), "work", Duration::from_millis(100));
        assert!(
            results.iter().all(|r| matches!(r, Err(Error::Interrupted))),
            "{results:?}"
        );
        let results = host.call_all(&each(&h, 1), "work", LONG);
        assert!(results.iter().all(|r| matches!(r, Ok(1))), "{results:?}");
    }

    #[test]
    fn an_interrupted_instance_can_be_reused_or_dropped() {
        let (mut host, h) = host_with(2, DEFAULT_MEMORY_PAGES);
        let short = Duration::from_millis(20);
        assert!(
            host.slot(h[0])
                .unwrap()
                .call("work", i32::MAX, short)
                .is_err()
        );
        // Reused: its state (a call counter in a global) is as the interrupted call left it.
        let slot = host.slot(h[0]).unwrap();
        assert_eq!(slot.call("work", 1, LONG).unwrap(), 1);
        assert_eq!(slot.call("calls", 0, LONG).unwrap(), 2);
        assert!(host.drop_instance(h[0]));
        assert!(matches!(host.slot(h[0]), Err(Error::Usage(_))));
        assert_eq!(host.slot(h[1]).unwrap().call("calls", 0, LONG).unwrap(), 0);
    }

    #[test]
    fn memory_is_limited_to_4096_pages_by_default_and_the_limit_is_configurable() {
        let (mut host, h) = host_with(1, DEFAULT_MEMORY_PAGES);
        let slot = host.slot(h[0]).unwrap();
        assert_eq!(slot.call("grow", 4096, LONG).unwrap(), -1);
        assert_eq!(slot.call("grow", 4095, LONG).unwrap(), 1);
        let (mut small, h) = host_with(1, 16);
        let slot = small.slot(h[0]).unwrap();
        assert_eq!(slot.call("grow", 16, LONG).unwrap(), -1);
        assert_eq!(slot.call("grow", 15, LONG).unwrap(), 1);
        let big = wat::parse_str("(module (memory 17))").unwrap();
        assert!(matches!(small.load(&big), Err(Error::ResourceLimit(_))));
    }
}

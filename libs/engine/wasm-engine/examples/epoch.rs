//! An epoch timer on another thread interrupts a runaway guest.
use std::sync::Arc;
use std::time::Duration;

use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{Config, Engine, Error, Instance, Module, Store};

fn main() -> Result<(), Error> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config, Arc::new(LinuxPlatform::new()))?;
    let wasm =
        wat::parse_str(r#"(module (func (export "forever") (loop br 0)))"#).expect("valid wat");
    let module = Module::new(&engine, &wasm)?;
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(1);
    let instance = Instance::new(&mut store, &module, &[])?;
    let forever = instance.get_typed_func::<(), ()>(&store, "forever")?;
    let timer = engine.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        timer.increment_epoch();
    });
    match forever.call(&mut store, ()) {
        Err(Error::Interrupted) => println!("interrupted after ~100 ms"),
        other => {
            return Err(Error::Usage(format!(
                "expected an interrupt, got {other:?}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_runs() {
        super::main().expect("example");
    }
}

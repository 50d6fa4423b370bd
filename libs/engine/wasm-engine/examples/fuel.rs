//! Fuel metering stops an infinite loop.
use std::sync::Arc;

use wasm_engine::linux::LinuxPlatform;
use wasm_engine::{Config, Engine, Error, Instance, Module, Store};

fn main() -> Result<(), Error> {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config, Arc::new(LinuxPlatform::new()))?;
    let wasm =
        wat::parse_str(r#"(module (func (export "forever") (loop br 0)))"#).expect("valid wat");
    let module = Module::new(&engine, &wasm)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let forever = instance.get_typed_func::<(), ()>(&store, "forever")?;
    match forever.call(&mut store, ()) {
        Err(e @ Error::OutOfFuel) => println!("result: {e}, fuel left: {}", store.get_fuel()?),
        other => {
            return Err(Error::Usage(format!(
                "expected to run out of fuel, got {other:?}"
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

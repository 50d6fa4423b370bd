//! A trap with its Wasm backtrace.
use wasm_engine::{Engine, Error, Instance, Module, Store};

fn main() -> Result<(), Error> {
    let engine = Engine::default();
    let wasm = wat::parse_str(
        r#"(module
             (func $divide (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
             (func $average (param i32 i32) (result i32) local.get 0 local.get 1 call $divide)
             (func (export "main") (result i32) i32.const 10 i32.const 0 call $average))"#,
    )
    .expect("valid wat");
    let module = Module::new(&engine, &wasm)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let main = instance.get_typed_func::<(), i32>(&store, "main")?;
    match main.call(&mut store, ()) {
        Err(Error::Trap(trap)) => println!("{trap}"),
        other => return Err(Error::Usage(format!("expected a trap, got {other:?}"))),
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

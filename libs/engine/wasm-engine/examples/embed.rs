//! Minimal embedding: compile a module, instantiate it, call an export.
use wasm_engine::{Engine, Instance, Module, Store};

fn main() -> Result<(), wasm_engine::Error> {
    let engine = Engine::default();
    let wasm = wat::parse_str(
        r#"(module (func (export "gcd") (param i32 i32) (result i32)
             (loop $l (if (local.get 1) (then
               local.get 1 local.get 0 local.get 1 i32.rem_u local.set 1 local.set 0 br $l)))
             local.get 0))"#,
    )
    .expect("valid wat");
    let module = Module::new(&engine, &wasm)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let gcd = instance.get_typed_func::<(i32, i32), i32>(&store, "gcd")?;
    let answer = gcd.call(&mut store, (1071, 462))?;
    println!("gcd(1071, 462) = {answer}");
    if answer != 21 {
        return Err(wasm_engine::Error::Usage(format!(
            "gcd is 21, got {answer}"
        )));
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

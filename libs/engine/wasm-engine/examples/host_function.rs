//! A host function that reads the guest's memory through `Caller`.
use wasm_engine::{Caller, Engine, Error, Extern, Linker, Module, Store};

fn main() -> Result<(), Error> {
    let engine = Engine::default();
    let mut linker = Linker::<u32>::new(&engine);
    linker.func_wrap(
        "host",
        "print",
        |mut caller: Caller<'_, u32>, ptr: u32, len: u32| -> Result<(), Error> {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .ok_or_else(|| Error::Host("no memory export".into()))?;
            // The guest's pointer and length: read checks them (an error, never a panic),
            // and the length is checked against the memory before anything is allocated.
            if len as usize > memory.data_size(&caller) {
                return Err(Error::Host(format!("{len} bytes is more than the memory")));
            }
            let mut buf = vec![0u8; len as usize];
            memory.read(&caller, ptr as usize, &mut buf)?;
            println!("guest says: {}", String::from_utf8_lossy(&buf));
            *caller.data_mut() += 1;
            Ok(())
        },
    )?;
    let wasm = wat::parse_str(
        r#"(module (import "host" "print" (func $print (param i32 i32)))
             (memory (export "memory") 1) (data (i32.const 0) "hello from wasm")
             (func (export "run") i32.const 0 i32.const 15 call $print))"#,
    )
    .expect("valid wat");
    let module = Module::new(&engine, &wasm)?;
    let mut store = Store::new(&engine, 0u32);
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&store, "run")?
        .call(&mut store, ())?;
    println!("host function called {} time(s)", store.data());
    if *store.data() != 1 {
        return Err(Error::Usage("the host function ran once".into()));
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

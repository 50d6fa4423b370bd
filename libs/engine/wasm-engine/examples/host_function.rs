//! A host function that reads the guest's memory through `Caller`.
use wasm_engine::{Caller, Engine, Extern, Linker, Module, Store};

fn main() -> Result<(), wasm_engine::Error> {
    let engine = Engine::default();
    let mut linker = Linker::<u32>::new(&engine);
    linker.func_wrap(
        "host",
        "print",
        |mut caller: Caller<'_, u32>, ptr: i32, len: i32| {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .expect("memory export");
            let mut buf = vec![0u8; len as usize];
            memory
                .read(&caller, ptr as usize, &mut buf)
                .expect("in bounds");
            println!("guest says: {}", String::from_utf8_lossy(&buf));
            *caller.data_mut() += 1;
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
    Ok(())
}

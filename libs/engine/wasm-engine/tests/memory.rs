mod common;

use common::*;
use wasm_engine::{Engine, Error, Memory, MemoryType, Store, TrapCode};

const MEM: &str = r#"(module
  (memory (export "mem") 1 4)
  (data (i32.const 16) "hello")
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "load8") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "load_hi") (param i32) (result i32) local.get 0 i32.load offset=0xfffffff0)
  (func (export "load64") (param i32) (result i64) local.get 0 i64.load offset=4)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
  (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy))"#;

fn check(e: &Engine) {
    let (mut store, inst) = instantiate(e, MEM);
    let load = inst.get_typed_func::<i32, i32>(&store, "load").unwrap();
    let load8 = inst.get_typed_func::<i32, i32>(&store, "load8").unwrap();
    let load_hi = inst.get_typed_func::<i32, i32>(&store, "load_hi").unwrap();
    let load64 = inst.get_typed_func::<i32, i64>(&store, "load64").unwrap();
    let st = inst
        .get_typed_func::<(i32, i32), ()>(&store, "store")
        .unwrap();
    let grow = inst.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    let size = inst.get_typed_func::<(), i32>(&store, "size").unwrap();
    let fill = inst
        .get_typed_func::<(i32, i32, i32), ()>(&store, "fill")
        .unwrap();
    let copy = inst
        .get_typed_func::<(i32, i32, i32), ()>(&store, "copy")
        .unwrap();

    assert_eq!(load8.call(&mut store, 16).unwrap(), b'h' as i32);
    st.call(&mut store, (100, 0x12345678)).unwrap();
    assert_eq!(load.call(&mut store, 100).unwrap(), 0x12345678);
    // Last valid word, then one byte past the end.
    assert_eq!(load.call(&mut store, 65532).unwrap(), 0);
    assert_trap(load.call(&mut store, 65533), TrapCode::MemoryOutOfBounds);
    assert_trap(load.call(&mut store, 65536), TrapCode::MemoryOutOfBounds);
    // Far beyond: into the guard region / beyond 4 GiB with the offset.
    assert_trap(load.call(&mut store, -1), TrapCode::MemoryOutOfBounds);
    assert_trap(
        load.call(&mut store, 0x7fff_ffff),
        TrapCode::MemoryOutOfBounds,
    );
    assert_trap(load_hi.call(&mut store, 0x100), TrapCode::MemoryOutOfBounds);
    assert_trap(load64.call(&mut store, 65530), TrapCode::MemoryOutOfBounds);
    assert_trap(st.call(&mut store, (65536, 1)), TrapCode::MemoryOutOfBounds);

    assert_eq!(size.call(&mut store, ()).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(size.call(&mut store, ()).unwrap(), 2);
    // Now the old end is accessible and zero.
    assert_eq!(load.call(&mut store, 65536).unwrap(), 0);
    st.call(&mut store, (131068, 7)).unwrap();
    assert_trap(load.call(&mut store, 131069), TrapCode::MemoryOutOfBounds);
    // Declared maximum is 4 pages.
    assert_eq!(grow.call(&mut store, 3).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 2).unwrap(), 2);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);

    fill.call(&mut store, (1000, 0xab, 8)).unwrap();
    assert_eq!(load.call(&mut store, 1000).unwrap() as u32, 0xabababab);
    assert_trap(
        fill.call(&mut store, (262140, 0, 5)),
        TrapCode::MemoryOutOfBounds,
    );
    copy.call(&mut store, (2000, 1000, 8)).unwrap();
    assert_eq!(load.call(&mut store, 2004).unwrap() as u32, 0xabababab);
    assert_trap(
        copy.call(&mut store, (0, 262140, 5)),
        TrapCode::MemoryOutOfBounds,
    );

    let mem = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(mem.size(&store), 4);
    let mut buf = [0u8; 5];
    mem.read(&store, 16, &mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    mem.write(&mut store, 3000, &[1, 2, 3, 4]).unwrap();
    assert_eq!(load.call(&mut store, 3000).unwrap(), 0x04030201);
    assert!(matches!(
        mem.read(&store, 4 * 65536 - 2, &mut buf),
        Err(Error::MemoryAccess {
            offset: 262142,
            len: 5,
            size: 262144
        })
    ));
    assert!(matches!(
        mem.write(&mut store, usize::MAX, &[1]),
        Err(Error::MemoryAccess { .. })
    ));
    assert_eq!(&mem.data(&store)[16..21], b"hello");
}

#[test]
fn guard_mode() {
    check(&engine());
}

#[test]
fn explicit_mode() {
    check(&explicit_engine());
}

#[test]
fn small_guard_falls_back_to_checks() {
    let e = engine_with(|c| {
        c.guard_size(0);
    });
    check(&e);
}

#[test]
fn store_limit_and_host_memory() {
    let e = engine();
    let mut store = Store::new(&e, ());
    let m = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    assert_eq!(m.grow(&mut store, 4095).unwrap(), 1);
    assert!(
        m.grow(&mut store, 1).is_err(),
        "default store limit is 4096 pages"
    );
    assert!(Memory::new(&mut store, MemoryType::new(5000, None)).is_err());
    let bytes = wat::parse_str(
        r#"(module (import "env" "m" (memory 1))
             (func (export "peek") (param i32) (result i32) local.get 0 i32.load8_u))"#,
    )
    .unwrap();
    let module = wasm_engine::Module::new(&e, &bytes).unwrap();
    m.data_mut(&mut store)[12345] = 99;
    let inst = wasm_engine::Instance::new(&mut store, &module, &[m.into()]).unwrap();
    let peek = inst.get_typed_func::<i32, i32>(&store, "peek").unwrap();
    assert_eq!(peek.call(&mut store, 12345).unwrap(), 99);
    assert_eq!(peek.call(&mut store, 4096 * 65536 - 1).unwrap(), 0);
    assert_trap(
        peek.call(&mut store, 4096 * 65536),
        TrapCode::MemoryOutOfBounds,
    );
}

#[test]
fn data_segment_out_of_bounds_traps_at_instantiation() {
    let e = engine();
    let bytes = wat::parse_str(r#"(module (memory 1) (data (i32.const 65535) "ab"))"#).unwrap();
    let module = wasm_engine::Module::new(&e, &bytes).unwrap();
    let mut store = Store::new(&e, ());
    assert_trap(
        wasm_engine::Instance::new(&mut store, &module, &[]),
        TrapCode::MemoryOutOfBounds,
    );
}

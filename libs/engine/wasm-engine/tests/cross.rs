//! Cross-compilation: the riscv64 backend compiles the same modules (the kernel's target).
//! The code is only compiled, linked (riscv call relocations) and published, never run.
mod common;

use common::*;
use wasm_engine::Module;

#[test]
fn riscv64_compiles_everything() {
    let e = engine_with(|c| {
        c.target("riscv64gc-unknown-none-elf");
    });
    let src = r#"(module
      (type $ii (func (param i32) (result i32)))
      (import "env" "h" (func $h (param i32) (result i32)))
      (memory 1) (table 2 funcref) (global $g (mut i64) (i64.const 0))
      (elem (i32.const 0) func $a $b)
      (func $a (type $ii) local.get 0 call $b call $h)
      (func $b (type $ii) local.get 0 i32.const 3 i32.div_s)
      (func (export "run") (param i32 f64) (result i32 f64)
        (local i64)
        local.get 0 i32.load offset=0x10000000
        i32.const 1 call_indirect (type $ii)
        local.get 1 f64.nearest f64.sqrt
        i32.const 0 memory.grow drop
        i32.const 0 i32.const 0 i32.const 10 memory.fill
        global.get $g i64.const 1 i64.add global.set $g
        local.get 1 i64.trunc_sat_f64_s local.set 2)
      (func (export "loop") (param i32) (result i32)
        block loop local.get 0 i32.eqz br_if 1 local.get 0 i32.const 1 i32.sub local.set 0 br 0 end end
        local.get 0))"#;
    let bytes = wat::parse_str(src).unwrap();
    Module::new(&e, &bytes).expect("riscv64 compile");
    let fuel = engine_with(|c| {
        c.target("riscv64gc-unknown-none-elf")
            .consume_fuel(true)
            .epoch_interruption(true);
    });
    Module::new(&fuel, &bytes).expect("riscv64 compile with fuel and epochs");
}

//! SIMD (v128) end to end: values through `Func::call`, locals, globals, memory, lanes
//! and a few operators whose Wasm semantics differ from the obvious machine instruction.

mod common;

use common::*;
use wasm_engine::{Global, GlobalType, Store, TrapCode, Val, ValType};

fn v(bytes: [u8; 16]) -> u128 {
    u128::from_le_bytes(bytes)
}

fn i32x4(l: [i32; 4]) -> u128 {
    l.iter()
        .rev()
        .fold(0u128, |acc, x| (acc << 32) | u128::from(*x as u32))
}

fn f32x4(l: [f32; 4]) -> u128 {
    i32x4(l.map(|f| f.to_bits() as i32))
}

fn call_v(store: &mut Store<()>, inst: &wasm_engine::Instance, name: &str, args: &[Val]) -> u128 {
    let f = inst.get_func(&*store, name).expect("export");
    let mut out = [Val::I32(0)];
    f.call(&mut *store, args, &mut out).expect("call");
    match out[0] {
        Val::V128(x) => x,
        other => panic!("{name}: expected v128, got {other:?}"),
    }
}

#[test]
fn v128_params_locals_results_and_select() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
            (func (export "add") (param v128 v128) (result v128)
                (i32x4.add (local.get 0) (local.get 1)))
            (func (export "pick") (param v128 v128 i32) (result v128)
                (local v128)
                (local.set 3 (select (local.get 0) (local.get 1) (local.get 2)))
                (block (result v128) (local.get 3)))
            (func (export "zero") (result v128) (local v128) (local.get 0)))"#,
    );
    let a = i32x4([1, -2, 3, i32::MAX]);
    let b = i32x4([10, 20, -30, 1]);
    let r = call_v(&mut store, &inst, "add", &[Val::V128(a), Val::V128(b)]);
    assert_eq!(r, i32x4([11, 18, -27, i32::MIN]));
    assert_eq!(
        call_v(
            &mut store,
            &inst,
            "pick",
            &[Val::V128(a), Val::V128(b), Val::I32(1)]
        ),
        a
    );
    assert_eq!(
        call_v(
            &mut store,
            &inst,
            "pick",
            &[Val::V128(a), Val::V128(b), Val::I32(0)]
        ),
        b
    );
    assert_eq!(call_v(&mut store, &inst, "zero", &[]), 0);
}

#[test]
fn v128_globals_and_constants() {
    let e = engine();
    let bytes = wat::parse_str(
        r#"(module
            (import "host" "g" (global $imp (mut v128)))
            (global $g (mut v128) (v128.const i64x2 0x0102030405060708 -1))
            (func (export "swap")
                (global.get $g)
                (global.set $g (global.get $imp))
                (global.set $imp))
            (func (export "get") (result v128) (global.get $g)))"#,
    )
    .unwrap();
    let module = wasm_engine::Module::new(&e, &bytes).expect("compile");
    let mut store = Store::new(&e, ());
    let imp = Global::new(
        &mut store,
        GlobalType::new(ValType::V128, true),
        Val::V128(7),
    )
    .unwrap();
    let inst = wasm_engine::Instance::new(&mut store, &module, &[imp.into()]).expect("instantiate");
    let init = (u128::MAX << 64) | 0x0102030405060708;
    assert_eq!(call_v(&mut store, &inst, "get", &[]), init);
    call_v_unit(&mut store, &inst, "swap");
    assert_eq!(call_v(&mut store, &inst, "get", &[]), 7);
    match imp.get(&store) {
        Val::V128(x) => assert_eq!(x, init),
        other => panic!("{other:?}"),
    }
}

fn call_v_unit(store: &mut Store<()>, inst: &wasm_engine::Instance, name: &str) {
    let f = inst.get_func(&*store, name).expect("export");
    f.call(&mut *store, &[], &mut []).expect("call");
}

#[test]
fn memory_lanes_and_bounds() {
    for e in [engine(), explicit_engine()] {
        let (mut store, inst) = instantiate(
            &e,
            r#"(module (memory 1)
                (data (i32.const 0) "\00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\80\ff")
                (func (export "load") (param i32) (result v128) (v128.load (local.get 0)))
                (func (export "load8x8_s") (param i32) (result v128) (v128.load8x8_s (local.get 0)))
                (func (export "splat16") (param i32) (result v128) (v128.load16_splat (local.get 0)))
                (func (export "zero32") (param i32) (result v128) (v128.load32_zero (local.get 0)))
                (func (export "lane") (param i32) (result v128)
                    (v128.load8_lane 15 (local.get 0) (v128.const i64x2 0 0)))
                (func (export "store_lane") (param i32 v128)
                    (v128.store16_lane 7 (local.get 0) (local.get 1)))
                (func (export "u16") (param i32) (result i32) (i32.load16_u (local.get 0))))"#,
        );
        let seq = v(core::array::from_fn(|i| i as u8));
        assert_eq!(call_v(&mut store, &inst, "load", &[Val::I32(0)]), seq);
        let s = call_v(&mut store, &inst, "load8x8_s", &[Val::I32(10)]);
        // Bytes 10..18: 0a 0b 0c 0d 0e 0f 80 ff, sign-extended to i16.
        let want: [u16; 8] = [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff80, 0xffff];
        let want = want
            .iter()
            .rev()
            .fold(0u128, |acc, x| (acc << 16) | u128::from(*x));
        assert_eq!(s, want);
        assert_eq!(
            call_v(&mut store, &inst, "splat16", &[Val::I32(2)]),
            v([2, 3].repeat(8).try_into().unwrap())
        );
        assert_eq!(
            call_v(&mut store, &inst, "zero32", &[Val::I32(4)]),
            0x07060504
        );
        assert_eq!(
            call_v(&mut store, &inst, "lane", &[Val::I32(17)]),
            0xffu128 << 120
        );
        let f = inst.get_func(&store, "store_lane").unwrap();
        f.call(
            &mut store,
            &[Val::I32(100), Val::V128(0xbeef << 112)],
            &mut [],
        )
        .unwrap();
        let u16 = inst.get_typed_func::<i32, i32>(&store, "u16").unwrap();
        assert_eq!(u16.call(&mut store, 100).unwrap(), 0xbeef);
        // The last in-bounds 16-byte access, then one byte past the end.
        let load = inst.get_typed_func::<i32, u128>(&store, "load").unwrap();
        assert_eq!(load.call(&mut store, 65536 - 16).unwrap(), 0);
        assert_trap(
            load.call(&mut store, 65536 - 15),
            TrapCode::MemoryOutOfBounds,
        );
    }
}

#[test]
fn operator_semantics() {
    let e = engine();
    let (mut store, inst) = instantiate(
        &e,
        r#"(module
            (func (export "shl") (param v128 i32) (result v128) (i32x4.shl (local.get 0) (local.get 1)))
            (func (export "pmin") (param v128 v128) (result v128) (f32x4.pmin (local.get 0) (local.get 1)))
            (func (export "min") (param v128 v128) (result v128) (f32x4.min (local.get 0) (local.get 1)))
            (func (export "shuffle") (param v128 v128) (result v128)
                (i8x16.shuffle 31 0 30 1 29 2 28 3 27 4 26 5 25 6 24 7 (local.get 0) (local.get 1)))
            (func (export "swizzle") (param v128 v128) (result v128) (i8x16.swizzle (local.get 0) (local.get 1)))
            (func (export "bitmask") (param v128) (result i32) (i8x16.bitmask (local.get 0)))
            (func (export "all_true") (param v128) (result i32) (i16x8.all_true (local.get 0)))
            (func (export "dot") (param v128 v128) (result v128) (i32x4.dot_i16x8_s (local.get 0) (local.get 1)))
            (func (export "trunc_zero") (param v128) (result v128) (i32x4.trunc_sat_f64x2_u_zero (local.get 0)))
            (func (export "extract") (param v128) (result i32) (i8x16.extract_lane_s 15 (local.get 0))))"#,
    );
    let x = i32x4([1, 2, -1, 0x4000_0000]);
    // Shift amounts are taken modulo the lane width: 33 shifts by 1.
    let r = call_v(&mut store, &inst, "shl", &[Val::V128(x), Val::I32(33)]);
    assert_eq!(r, i32x4([2, 4, -2, i32::MIN]));
    // pmin is `b < a ? b : a`: NaN in `a` is kept when b is not less, and -0/+0 keep `a`.
    let a = f32x4([f32::NAN, 0.0, -0.0, 3.0]);
    let b = f32x4([1.0, -0.0, 0.0, 2.0]);
    let r = call_v(&mut store, &inst, "pmin", &[Val::V128(a), Val::V128(b)]);
    assert!(f32::from_bits(r as u32).is_nan());
    assert_eq!((r >> 32) as u32, 0.0f32.to_bits());
    assert_eq!((r >> 96) as u32, 2.0f32.to_bits());
    assert_eq!((r >> 64) as u32, (-0.0f32).to_bits());
    // min propagates NaN and orders -0 below +0.
    let r = call_v(&mut store, &inst, "min", &[Val::V128(a), Val::V128(b)]);
    assert!(f32::from_bits(r as u32).is_nan());
    assert_eq!((r >> 32) as u32, (-0.0f32).to_bits());
    assert_eq!((r >> 64) as u32, (-0.0f32).to_bits());
    assert_eq!((r >> 96) as u32, 2.0f32.to_bits());
    let p = v(core::array::from_fn(|i| i as u8));
    let q = v(core::array::from_fn(|i| 0x10 + i as u8));
    let r = call_v(&mut store, &inst, "shuffle", &[Val::V128(p), Val::V128(q)]);
    // Lane l of p||q holds the byte l.
    assert_eq!(
        r,
        v([31, 0, 30, 1, 29, 2, 28, 3, 27, 4, 26, 5, 25, 6, 24, 7])
    );
    // Out-of-range swizzle indices give 0.
    let idx = v([15, 0, 16, 255, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0x80]);
    let r = call_v(
        &mut store,
        &inst,
        "swizzle",
        &[Val::V128(q), Val::V128(idx)],
    );
    assert_eq!(
        r,
        v([
            0x1f, 0x10, 0, 0, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0
        ])
    );
    let bitmask = inst.get_typed_func::<u128, i32>(&store, "bitmask").unwrap();
    assert_eq!(
        bitmask
            .call(
                &mut store,
                v([0x80, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x90])
            )
            .unwrap(),
        0x8005
    );
    let all_true = inst
        .get_typed_func::<u128, i32>(&store, "all_true")
        .unwrap();
    assert_eq!(all_true.call(&mut store, u128::MAX >> 8).unwrap(), 1);
    assert_eq!(all_true.call(&mut store, u128::MAX >> 16).unwrap(), 0);
    // dot: [1*3 + 2*4, -1*-1 + 32767*32767, ...].
    let h = |l: [i16; 8]| {
        l.iter()
            .rev()
            .fold(0u128, |acc, x| (acc << 16) | u128::from(*x as u16))
    };
    let r = call_v(
        &mut store,
        &inst,
        "dot",
        &[
            Val::V128(h([1, 2, -1, 32767, -32768, -32768, 0, 0])),
            Val::V128(h([3, 4, -1, 32767, -32768, -32768, 9, 9])),
        ],
    );
    assert_eq!(r, i32x4([11, 1 + 32767 * 32767, i32::MIN, 0]));
    let d = |x: f64| u128::from(x.to_bits());
    let r = call_v(
        &mut store,
        &inst,
        "trunc_zero",
        &[Val::V128(d(-3.5) | (d(1e20) << 64))],
    );
    assert_eq!(r, i32x4([0, -1, 0, 0]));
    let extract = inst.get_typed_func::<u128, i32>(&store, "extract").unwrap();
    assert_eq!(extract.call(&mut store, 0xfe << 120).unwrap(), -2);
}

/// riscv64 (the kernel's target) compiles SIMD only with the V extension enabled; the
/// code is compiled and published, never run.
#[test]
fn riscv64_needs_v_and_compiles_with_it() {
    let src = r#"(module (memory 1)
        (global $g (mut v128) (v128.const i32x4 1 2 3 4))
        (func (export "f") (param v128 v128 i32) (result v128 i32)
            (local $t v128)
            (local.set $t (i32x4.add (local.get 0) (global.get $g)))
            (local.set $t (i16x8.q15mulr_sat_s (local.get $t) (local.get 1)))
            (local.set $t (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 (local.get $t) (local.get 1)))
            (local.set $t (i8x16.swizzle (local.get $t) (local.get 1)))
            (local.set $t (i64x2.shr_s (local.get $t) (local.get 2)))
            (local.set $t (f32x4.pmin (local.get $t) (f32x4.splat (f32.const 1))))
            (local.set $t (f64x2.nearest (local.get $t)))
            (local.set $t (i32x4.trunc_sat_f64x2_u_zero (local.get $t)))
            (local.set $t (i32x4.dot_i16x8_s (local.get $t) (local.get 1)))
            (local.set $t (i16x8.extadd_pairwise_i8x16_u (local.get $t)))
            (local.set $t (i8x16.narrow_i16x8_s (local.get $t) (local.get 0)))
            (local.set $t (v128.load32_lane 1 (local.get 2) (local.get $t)))
            (v128.store (i32.const 0) (v128.bitselect (local.get $t) (local.get 0) (local.get 1)))
            (global.set $g (local.get $t))
            (select (local.get 0) (local.get $t) (local.get 2))
            (i32.add (i8x16.bitmask (local.get $t)) (v128.any_true (local.get $t)))))"#;
    let bytes = wat::parse_str(src).unwrap();
    let without = engine_with(|c| {
        c.target("riscv64gc-unknown-none-elf");
    });
    let err = wasm_engine::Module::new(&without, &bytes)
        .err()
        .expect("SIMD without V must fail");
    assert!(err.to_string().contains("SIMD is not supported"), "{err}");
    let with = engine_with(|c| {
        c.target("riscv64gc-unknown-none-elf").simd(true);
    });
    wasm_engine::Module::new(&with, &bytes).expect("riscv64 SIMD compile");
    // The same module runs on the host.
    let (mut store, inst) = instantiate(&engine(), src);
    let f = inst.get_func(&store, "f").unwrap();
    let mut out = [Val::I32(0), Val::I32(0)];
    f.call(
        &mut store,
        &[Val::V128(1), Val::V128(2), Val::I32(3)],
        &mut out,
    )
    .unwrap();
}

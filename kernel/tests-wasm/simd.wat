;; Needs V on riscv64 (SIMD is refused without it); x86_64 always has it.
(module
  (memory 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
  (func (export "splat_add") (param i32) (result i32)
    (i32x4.extract_lane 3
      (i32x4.add (i32x4.splat (local.get 0)) (i32x4.splat (i32.const 1)))))
  ;; v128 across the host boundary, both ways.
  (func (export "add_v") (param v128 v128) (result v128)
    (i32x4.add (local.get 0) (local.get 1)))
  ;; Load, byte-reverse shuffle, store: byte 16 becomes 0x10, byte 31 0x01.
  (func (export "reverse") (result i32)
    (v128.store (i32.const 16)
      (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0
        (v128.load (i32.const 0)) (v128.load (i32.const 0))))
    (i32.add (i32.load8_u (i32.const 16))
      (i32.mul (i32.const 256) (i32.load8_u (i32.const 31)))))
  (func (export "sqrt_lane") (param f32) (result f32)
    (f32x4.extract_lane 2 (f32x4.sqrt (f32x4.splat (local.get 0))))))

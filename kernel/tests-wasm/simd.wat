;; Needs V on riscv64 (SIMD is refused without it).
(module
  (func (export "splat_add") (param i32) (result i32)
    (i32x4.extract_lane 3
      (i32x4.add (i32x4.splat (local.get 0)) (i32x4.splat (i32.const 1))))))

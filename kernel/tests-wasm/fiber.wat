;; Async calls on a fiber (wasm/fiber_tests.rs): `yield_times` is an async host function
;; that is pending N times before it returns N.
(module
  (import "env" "yield_times" (func $yield (param i32) (result i32)))
  (memory 1)
  (func (export "yield_then") (param i32) (result i32)
    (i32.add (call $yield (local.get 0)) (i32.const 100)))
  (func $fail (export "yield_then_trap") (drop (call $yield (i32.const 3))) unreachable)
  (func (export "yield_then_fault") (result i32)
    (drop (call $yield (i32.const 2)))
    (i32.load (i32.const 0x7ffffff0)))
  (func $deep (export "deep") (param i32) (result i32)
    (drop (call $yield (i32.const 0)))
    (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))

;; Traps and faults nested through host functions, and Wasm frames in
;; kernel backtraces (kernel/src/wasm/nested_tests.rs).
(module
  (import "host" "outer" (func $outer (result i32)))
  (import "host" "inner" (func $inner (result i32)))
  (import "host" "crash" (func $crash))
  (import "host" "backtrace" (func $backtrace))

  ;; Wasm -> host `outer` -> Wasm `middle` -> host `inner` -> Wasm `boom`.
  (func (export "entry") (result i32)
    (i32.add (call $outer) (i32.const 1)))
  (func (export "middle") (result i32)
    (i32.add (call $inner) (i32.const 10)))
  (func (export "boom")
    unreachable)
  (func (export "div") (param i32) (result i32)
    (i32.div_u (i32.const 100) (local.get 0)))

  ;; A host function that faults with no recovery point of its own.
  (func (export "call_crash")
    (call $crash))

  ;; Two Wasm frames under a host function that prints a backtrace.
  (func $wasm_leaf (export "wasm_leaf")
    (call $backtrace))
  (func $wasm_caller (export "wasm_caller")
    (call $wasm_leaf))
)

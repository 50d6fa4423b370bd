;; A reactor: `_initialize` and exports, no `_start`. Its exports trap unless `_initialize`
;; ran first; `exit_sum` exits with the sum of its arguments through proc_exit.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $ready (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $ready (i32.const 1)))
  (func (export "add") (param i32 i32) (result i32)
    (if (i32.eqz (global.get $ready)) (then unreachable))
    (i32.add (local.get 0) (local.get 1)))
  (func (export "exit_sum") (param i32 i32)
    (if (i32.eqz (global.get $ready)) (then unreachable))
    (call $exit (i32.add (local.get 0) (local.get 1)))))

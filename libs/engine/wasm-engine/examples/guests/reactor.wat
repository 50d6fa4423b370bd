;; A reactor as `wasi-sdk -mexec-model=reactor` and plugin toolchains make them: `_initialize`
;; (which says so through WASI) and exports, but no `_start`. The exports trap unless
;; `_initialize` ran, as a C reactor's would without its constructors. Used by the `reactor`
;; example and by the `--invoke` cases of the user test stage (build/xtask).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $ready (mut i32) (i32.const 0))
  (global $total (mut i64) (i64.const 0))
  (data (i32.const 16) "reactor initialized\n")
  (func $check (if (i32.eqz (global.get $ready)) (then unreachable)))
  (func (export "_initialize")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 20))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (global.set $ready (i32.const 1)))
  ;; Adds to a running total and returns it.
  (func (export "add") (param i64) (result i64)
    (call $check)
    (global.set $total (i64.add (global.get $total) (local.get 0)))
    (global.get $total))
  ;; x * y, and x + 1.
  (func (export "scale") (param i32 f64) (result f64 i64)
    (call $check)
    (f64.mul (f64.convert_i32_s (local.get 0)) (local.get 1))
    (i64.extend_i32_s (i32.add (local.get 0) (i32.const 1)))))

;; Channel echo on handle 1: receives a message (blocking) and sends it
;; back, until receiving fails; exits with that errno (64 EPIPE when the
;; peer closed).
(module
  (import "atoll" "channel_recv" (func $recv (param i32 i32 i32 i32 i32) (result i32)))
  (import "atoll" "channel_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $e i32)
    (loop $l
      ;; buffer at 16 (1024 bytes), length at 8
      (local.set $e (call $recv (i32.const 1) (i32.const 16) (i32.const 1024) (i32.const 0) (i32.const 8)))
      (if (local.get $e) (then (call $exit (local.get $e))))
      (local.set $e (call $send (i32.const 1) (i32.const 16) (i32.load (i32.const 8)) (i32.const 0)))
      (if (local.get $e) (then (call $exit (i32.add (i32.const 100) (local.get $e)))))
      (br $l))))

;; Checks that an out pointer beyond memory is EFAULT (else exits 121),
;; then sends "ping" on handle 1 without blocking and exits with the
;; errno: 0 when given a channel as handle 1, 8 (EBADF) otherwise.
(module
  (import "atoll" "channel_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "atoll" "channel_create" (func $create (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ping")
  (func (export "_start")
    (local $e i32)
    (if (i32.ne (call $create (i32.const 0xfffffff0) (i32.const 4)) (i32.const 21))
      (then (call $exit (i32.const 121))))
    (call $exit (call $send (i32.const 1) (i32.const 0) (i32.const 4) (i32.const 1)))))

;; Sleeps 50 ms through atoll's sleep_ns, then exits with sleep_ns(-1)
;; (28, EINVAL) to show both paths.
(module
  (import "atoll" "sleep_ns" (func $sleep (param i64) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (call $sleep (i64.const 50000000)) (then (call $exit (i32.const 1))))
    (call $exit (call $sleep (i64.const -1)))))

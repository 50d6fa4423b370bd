;; Sleeps forever, a second at a time: the benchmarks' idle process.
(module
  (import "atoll" "sleep_ns" (func $sleep (param i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever
      (drop (call $sleep (i64.const 1000000000)))
      (br $forever))))

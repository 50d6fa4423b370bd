;; Blocks in a system call for a minute (atoll's sleep_ns): the process to kill while blocked.
(module
  (import "atoll" "sleep_ns" (func $sleep (param i64) (result i32)))
  (func (export "_start") (drop (call $sleep (i64.const 60000000000)))))

;; Exits with 40 + 2 computed through what precompiled code must relocate:
;; a direct call, call_indirect (a signature id), memory.grow (a runtime
;; function) and data in memory, then WASI proc_exit (an import).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (type $un (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $double)
  (data (i32.const 8) "\14\00\00\00")
  (func $double (type $un) (i32.mul (local.get 0) (i32.const 2)))
  (func $plus2 (param i32) (result i32) (i32.add (local.get 0) (i32.const 2)))
  (func (export "_start")
    (drop (memory.grow (i32.const 1)))
    (call $exit
      (call $plus2
        (call_indirect (type $un) (i32.load (i32.const 8)) (i32.const 0))))))

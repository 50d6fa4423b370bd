;; Multi-memory in a WASI program: the text lives in memory 1 ($text), is copied into
;; memory 0 (the one WASI reads) with `memory.copy`, and a byte is changed in each to
;; show they are separate; memory 1's size differs from memory 0's.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory $io (export "memory") 1)
  (memory $text 2)
  (data (memory $text) (i32.const 1000) "multi-memory: copied from memory 1\n")

  (func (export "_start")
    (memory.copy $io $text (i32.const 100) (i32.const 1000) (i32.const 35))
    ;; Change memory 1 after the copy: memory 0 keeps what was copied.
    (i32.store8 $text (i32.const 1000) (i32.const 0x58))
    (if (i32.ne (i32.load8_u $io (i32.const 100)) (i32.const 0x6d))
      (then (unreachable)))
    (if (i32.ne (memory.size $text) (i32.const 2))
      (then (unreachable)))
    (i32.store $io (i32.const 0) (i32.const 100))
    (i32.store $io (i32.const 4) (i32.const 35))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
)

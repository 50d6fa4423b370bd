;; memory64 in a WASI program: a 64-bit memory, grown with an i64 delta, written and
;; read at an address past 64 KiB with a 64-bit offset, and its size in i64 pages.
;; It prints what it found; an access past the end traps, as it must.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory $io (export "memory") 1)
  (memory $big i64 1 4)
  (data (i32.const 64) "memory64: grown from 1 to 3 pages\n")
  (data (i32.const 128) "memory64: read back 0x0123456789abcdef at 0x1fff8\n")
  (data (i32.const 192) "memory64: 2^40 is out of bounds (trap)\n")

  (func $print (param $ptr i32) (param $len i32)
    (i32.store $io (i32.const 0) (local.get $ptr))
    (i32.store $io (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  (func (export "_start")
    (local $addr i64)
    (if (i64.eq (memory.grow $big (i64.const 2)) (i64.const 1))
      (then (if (i64.eq (memory.size $big) (i64.const 3))
        (then (call $print (i32.const 64) (i32.const 34))))))
    (local.set $addr (i64.const 0x10000))
    (i64.store $big offset=0xfff8 (local.get $addr) (i64.const 0x0123456789abcdef))
    (if (i64.eq (i64.load $big (i64.const 0x1fff8)) (i64.const 0x0123456789abcdef))
      (then (call $print (i32.const 128) (i32.const 50))))
    (call $print (i32.const 192) (i32.const 39))
    (drop (i64.load8_u $big (i64.const 0x100_0000_0000))))
)

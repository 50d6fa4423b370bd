;; Grows its memory 16 MiB at a time, touching every new 64 KiB page,
;; until growing fails (the process memory cap or no frames), then traps.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (local $old i32) (local $p i32) (local $end i32)
    (loop $grow
      (local.set $old (memory.grow (i32.const 256)))
      (if (i32.eq (local.get $old) (i32.const -1)) (then unreachable))
      (local.set $p (i32.mul (local.get $old) (i32.const 65536)))
      (local.set $end (i32.add (local.get $p) (i32.const 16777216)))
      (loop $touch
        (i32.store8 (local.get $p) (i32.const 1))
        (local.set $p (i32.add (local.get $p) (i32.const 65536)))
        (br_if $touch (i32.lt_u (local.get $p) (local.get $end))))
      (br $grow))))

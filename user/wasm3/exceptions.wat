;; Wasm 3.0 exception handling in a WASI program (no toolchain here emits the final
;; exnref form: see user/README.md). `work` throws $oops with a payload from two calls
;; down; `main` catches it with `catch`, then rethrows a `catch_ref`'d exception with
;; `throw_ref` and catches that with `catch_all`, then lets one escape: the run ends
;; with an uncaught exception: an error on stderr and exit code 134, as under wasmtime.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (tag $oops (param i32))
  (tag $other)
  (data (i32.const 64) "caught oops 42\n")
  (data (i32.const 96) "rethrown and caught again\n")
  (data (i32.const 128) "about to throw past main\n")

  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  (func $deep (param $v i32)
    (if (i32.eq (local.get $v) (i32.const 42))
      (then (throw $oops (local.get $v)))))
  (func $work (param $v i32) (call $deep (local.get $v)))

  (func $catch_payload (result i32)
    (block $handler (result i32)
      (try_table (catch $oops $handler)
        (call $work (i32.const 42)))
      (i32.const -1)))

  ;; 1 if an exception caught with catch_ref and rethrown with throw_ref is caught
  ;; again (by catch_all); 0 if not.
  (func $rethrow (result i32)
    (local $e exnref)
    (block $outer
      (try_table (catch_all $outer)
        (block $h (result i32 exnref)
          (try_table (catch_ref $oops $h)
            (call $work (i32.const 42)))
          (return (i32.const 0)))
        (local.set $e)
        (drop)
        (throw_ref (local.get $e)))
      (return (i32.const 0)))
    (i32.const 1))

  (func (export "_start")
    (if (i32.eq (call $catch_payload) (i32.const 42))
      (then (call $print (i32.const 64) (i32.const 15))))
    (if (call $rethrow)
      (then (call $print (i32.const 96) (i32.const 26))))
    (call $print (i32.const 128) (i32.const 25))
    (throw $other))
)

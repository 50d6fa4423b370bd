;; A CPU-bound process: spins forever (preemption and kill tests).
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $l (br $l))))

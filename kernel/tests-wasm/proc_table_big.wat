;; A table of 10,000,000 funcrefs (80 MB, the store's limit), then spins until killed: a few
;; of these exhaust a small machine's memory.
(module
  (table 10000000 funcref)
  (func (export "_start") (loop (br 0))))

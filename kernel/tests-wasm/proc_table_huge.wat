;; Declares a table of 100,000,000 funcrefs (800 MB of elements), more than the machine has:
;; the spawn must fail for this process alone.
(module
  (table 100000000 funcref)
  (func (export "_start")))

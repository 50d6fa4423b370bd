;; Needs more memory at instantiation than a process may have.
(module
  (memory (export "memory") 60000)
  (func (export "_start")))

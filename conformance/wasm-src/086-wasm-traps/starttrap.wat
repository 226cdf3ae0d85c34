;; 086-wasm-traps: a start function that traps during instantiation.
(module
  (func $start (unreachable))
  (start $start)
)

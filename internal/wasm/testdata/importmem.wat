;; A module that imports a memory and traps in its start function: its
;; failed instantiation must leave the memory to its owner. Rebuild with
;; wat2wasm importmem.wat -o importmem.wasm
(module
  (import "env" "mem" (memory 1))
  (func $start (i32.store8 (i32.const 3) (i32.const 9)) unreachable)
  (start $start))

;; 084-wasm-memory: an exported memory of 1 page (at most 3) and functions
;; that read, write, measure and grow it from inside wasm.
(module
  (memory (export "memory") 1 3)
  (data (i32.const 16) "wasm!")
  (func (export "load8") (param i32) (result i32)
    (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32)
    (i32.store8 (local.get 0) (local.get 1)))
  (func (export "load32") (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
)

;; 085-wasm-imports: one import of each kind, to see each LinkError.
(module
  (import "m" "f" (func (param i32) (result i32)))
  (import "m" "g" (global i32))
  (import "m" "mg" (global (mut i64)))
  (import "m" "mem" (memory 1 2))
  (import "m" "tbl" (table 2 funcref))
  (func (export "readG") (result i32) (global.get 0))
  (func (export "readMG") (result i64) (global.get 1))
)

;; 085-wasm-imports: a second module whose exports are passed as imports.
(module
  (func (export "double") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 2)))
  (func (export "wrong") (param f64) (result f64) (local.get 0))
)

;; 087-wasm-codegen: a module with custom sections ("name" from
;; --debug-names, and two "meta" sections that build.sh appends).
(module $named
  (func $seven (export "seven") (result i32) (i32.const 7))
)

;; Instructions of each proposal wazero's CoreFeaturesV2 takes, so that the
;; instrumentation's decoder is run over them. Rebuild with
;; wat2wasm features.wat -o features.wasm
(module
  (memory 1)
  (table $t 2 funcref)
  (elem declare func $id)
  (func $id (param i32) (result i32) (local.get 0))
  (func (export "simd") (result i32)
    (v128.store (i32.const 0) (i32x4.add (v128.const i32x4 1 2 3 4) (v128.load (i32.const 16))))
    (i32x4.extract_lane 2 (v128.load (i32.const 0)))
    (drop (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (v128.const i64x2 0 0) (v128.const i64x2 0 0)))
    (drop (v128.load32_lane 1 (i32.const 0) (v128.const i64x2 0 0))))
  (func (export "bulk") (result i32)
    (memory.fill (i32.const 100) (i32.const 7) (i32.const 10))
    (memory.copy (i32.const 200) (i32.const 100) (i32.const 10))
    (i32.load8_u (i32.const 205)))
  (func (export "misc") (param f64) (result i32)
    (i32.add (i32.extend8_s (i32.const 255)) (i32.trunc_sat_f64_s (local.get 0))))
  (func (export "refs") (result i32)
    (table.set $t (i32.const 1) (ref.func $id))
    (i32.add (table.size $t) (call_indirect (param i32) (result i32) (i32.const 40) (i32.const 1))))
  (func (export "loops") (param $n i32) (result i32)
    (local $s i32)
    (block $out
      (loop $l
        (br_if $out (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_table $l $out (i32.const 0))))
    (local.get $s)))

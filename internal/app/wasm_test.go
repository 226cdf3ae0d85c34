package app

import (
	"log"
	"os"
	"testing"

	"github.com/isola-run/isola/internal/testutil/reference"
)

// An npm package written for workerd's WebAssembly runs unmodified:
// xxhash-wasm imports its .wasm file (its "workerd" export), instantiates
// it with WebAssembly.instantiate, passes i64s as BigInts and grows the
// memory from JavaScript to hash a long input. The expected hashes are
// github.com/cespare/xxhash/v2's (an independent implementation), and
// xxh32's published test vectors.
func TestWasmPackageFromNpm(t *testing.T) {
	dir := project(t, map[string]string{
		"worker.js": `
import xxhash from "xxhash-wasm";
let hasher;
export default {
  async fetch() {
    hasher ??= await xxhash();
    const { h32, h64, create64 } = hasher;
    const long = "Isola runs WebAssembly".repeat(10000);
    const streamed = create64().update(long.slice(0, 100000)).update(long.slice(100000)).digest();
    return Response.json({
      h32Empty: h32("").toString(16), h32A: h32("a").toString(16),
      h64Empty: h64("").toString(16), h64A: h64("a").toString(16),
      h64Text: h64("Isola runs WebAssembly").toString(16),
      streamedEqualsWhole: streamed === h64(long),
    });
  },
};`,
	})
	if err := reference.LinkPackages(dir, "xxhash-wasm"); err != nil {
		t.Fatal(err)
	}
	a, err := Load(dir, log.New(os.Stderr, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, body := get(t, a, "GET", "/", "")
	want := `{"h32Empty":"2cc5d05","h32A":"550d7456","h64Empty":"ef46db3751d8e999","h64A":"d24ec4f1a98c6e5b","h64Text":"4fc1e6cd23867be0","streamedEqualsWhole":true}`
	if body != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
}

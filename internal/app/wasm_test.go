package app

import (
	"bytes"
	"image/png"
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

// A wasm-bindgen package runs unmodified: @resvg/resvg-wasm (a 2.4 MB
// module) renders an SVG to a PNG. The oracle is the SVG itself: a green
// rectangle with a yellow circle in its middle.
func TestWasmBindgenPackageFromNpm(t *testing.T) {
	dir := project(t, map[string]string{
		"worker.js": `
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import wasm from "@resvg/resvg-wasm/index_bg.wasm";
let ready;
export default {
  async fetch() {
    ready ??= initWasm(wasm);
    await ready;
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect width="120" height="80" fill="#33aa66"/><circle cx="60" cy="40" r="30" fill="#ffcc00"/></svg>';
    return new Response(new Resvg(svg).render().asPng(), { headers: { "content-type": "image/png" } });
  },
};`,
	})
	if err := reference.LinkPackages(dir, "@resvg/resvg-wasm"); err != nil {
		t.Fatal(err)
	}
	a, err := Load(dir, log.New(os.Stderr, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for range 2 { // the second render runs on the instance the first made
		code, body := get(t, a, "GET", "/", "")
		img, err := png.Decode(bytes.NewReader([]byte(body)))
		if code != 200 || err != nil {
			t.Fatalf("%d %v %.200q", code, err, body)
		}
		if b := img.Bounds(); b.Dx() != 120 || b.Dy() != 80 {
			t.Fatalf("size %v", b)
		}
		for _, p := range []struct {
			x, y    int
			r, g, b uint32
		}{{60, 40, 0xff, 0xcc, 0x00}, {3, 3, 0x33, 0xaa, 0x66}, {116, 76, 0x33, 0xaa, 0x66}} {
			r, g, b, _ := img.At(p.x, p.y).RGBA()
			if r>>8 != p.r || g>>8 != p.g || b>>8 != p.b {
				t.Errorf("pixel (%d,%d) is #%02x%02x%02x, want #%02x%02x%02x", p.x, p.y, r>>8, g>>8, b>>8, p.r, p.g, p.b)
			}
		}
	}
}

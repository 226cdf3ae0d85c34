package js

import "testing"

// A lazy unit's globals are accessors of globalThis until their unit loads:
// reading one loads it, assigning one first makes it the value assigned,
// and they stay non-enumerable. Names that are no global still throw a
// ReferenceError.
func TestLazyGlobals(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"loaded when read", `
			const d = () => Object.getOwnPropertyDescriptor(globalThis, "URLSearchParams");
			const before = [typeof d().get, typeof d().set, d().enumerable];
			const p = new URLSearchParams("a=1");
			return [...before, "URLSearchParams" in globalThis, p.get("a"), typeof d().value, d().enumerable].join()`,
			"function,function,false,true,1,function,false"},
		{"assigned before use", `
			globalThis.TextDecoder = 7;
			return [TextDecoder, Object.getOwnPropertyDescriptor(globalThis, "TextDecoder").enumerable].join()`, "7,false"},
		{"strict assignment to a global not loaded yet", `
			"use strict"; Blob = "mine"; return Blob`, "mine"},
		{"unknown names", `
			let threw = false;
			try { notAGlobalAnywhere } catch (e) { threw = e instanceof ReferenceError }
			return [typeof notAGlobalAnywhere, "notAGlobalAnywhere" in globalThis, threw].join()`, "undefined,false,true"},
		{"new globals land on globalThis", `
			globalThis.myThing = 3; return [myThing, Object.prototype.hasOwnProperty.call(globalThis, "myThing")].join()`, "3,true"},
	} {
		if got := runJS(t, tc.script); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

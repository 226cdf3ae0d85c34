package js

import (
	"strings"
	"testing"

	"github.com/isola-run/isola/internal/jsvm"
	"modernc.org/quickjs"
)

// Tests for 40_streams.js and 50_blob.js. Each case is a script run by
// runJS (or runWithUnits for prelude-only helpers) and the exact string it
// must produce.

type streamCase struct {
	name   string
	script string
	want   string
}

func runStreamCases(t *testing.T, run func(*testing.T, string) string, cases []streamCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := run(t, c.script); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// runWithUnits runs script like runJS, except that the prelude's table of
// top-level names is reachable as the global `units`, so helpers only other
// prelude files call can be tested directly. Helpers no other file uses yet
// are not in that table, so they are added to their unit's exports here. It
// runs no timers.
func runWithUnits(t *testing.T, script string) string {
	t.Helper()
	us, err := Units()
	if err != nil {
		t.Fatalf("prelude: %v", err)
	}
	extra := map[string]string{
		"40_streams.js": "readAllBytes, isReadableStream, rsFromBytes, streamDisturbed, rsKnownLength",
		"50_blob.js":    "blobBytes, blobFromBytes, formDataToMultipart, parseMultipart, parseUrlEncodedForm, parseFormBody",
	}
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer jsvm.Close(vm)
	c := &Compiled{Lazy: map[string][]byte{}}
	for _, u := range us {
		src := u.Source
		if u.Name == "" {
			i := strings.LastIndex(src, "({})")
			if i < 0 {
				t.Fatalf("eager unit does not end in a call with ({}): %q", src[max(0, len(src)-80):])
			}
			src = src[:i] + "(globalThis.units = {})" + src[i+4:]
		} else if names, ok := extra[u.Name]; ok {
			i := strings.LastIndex(src, "return {")
			if i < 0 {
				t.Fatalf("unit %s has no return {", u.Name)
			}
			src = src[:i+len("return {")] + names + ", " + src[i+len("return {"):]
		}
		code, err := jsvm.Compile(vm, src, FileName, false)
		if err != nil {
			t.Fatalf("prelude unit %q: %v", u.Name, err)
		}
		if u.Name == "" {
			c.Eager = code
		} else {
			c.Lazy[u.Name] = code
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	h := newTestHost(t, vm)
	h.register("timerStart", func(id int, delay any, repeat bool) {})
	h.register("timerStop", func(id int) {})
	h.register("now", func() float64 { return 0 })
	for _, r := range extraHost {
		r(h)
	}
	h.adopt()
	must(c.Install(vm))
	// Touching a global loads its unit, and with it the added exports.
	_, err = vm.Eval(`globalThis.__done = false; ReadableStream; Blob; (async () => {`+script+`
})().then(v => { globalThis.__out = String(v); globalThis.__done = true },
          e => { globalThis.__out = "throw: " + (e && e.name ? e.name + ": " + e.message : String(e)); globalThis.__done = true })`, quickjs.EvalGlobal)
	must(err)
	for i := 0; i < 1000; i++ {
		if _, err := vm.ExecutePendingJobs(); err != nil {
			t.Fatalf("job: %v", err)
		}
		if done, _ := vm.Eval("__done", quickjs.EvalGlobal); done == true {
			out, _ := vm.Eval("__out", quickjs.EvalGlobal)
			return out.(string)
		}
	}
	t.Fatal("script did not settle")
	return ""
}

// Shared script helpers: drain a reader, show an error, show bytes.
const streamHelpers = `
const err = (e) => e.name + ": " + e.message;
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, "0")).join("");
async function drain(stream) {
  const r = stream.getReader(), out = [];
  for (;;) { const { value, done } = await r.read(); if (done) return out; out.push(value); }
}
// Lets every chain of pending promise jobs run; timers are off limits at
// the top level of a worker.
const tick = async () => { for (let i = 0; i < 100; i++) await null; };
`

func TestStreamsReadable(t *testing.T) {
	runStreamCases(t, runJS, []streamCase{
		{"enqueue and read", streamHelpers + `
			const rs = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue("two"); c.close(); } });
			const r = rs.getReader();
			const out = [await r.read(), await r.read(), await r.read(), await r.read()];
			return JSON.stringify(out) + " " + rs.locked;`,
			`[{"value":1,"done":false},{"value":"two","done":false},{"done":true},{"done":true}] true`},
		{"locked getReader", streamHelpers + `
			const rs = new ReadableStream();
			rs.getReader();
			try { rs.getReader(); } catch (e) { return err(e); }`,
			"TypeError: This ReadableStream is currently locked to a reader."},
		{"locked cancel and pipeTo reject", streamHelpers + `
			const rs = new ReadableStream();
			rs.getReader();
			const a = await rs.cancel().catch(err);
			const b = await rs.pipeTo(new WritableStream()).catch(err);
			return a + " | " + b;`,
			"TypeError: This ReadableStream is currently locked to a reader. | TypeError: This ReadableStream is currently locked to a reader."},
		{"settlement order", streamHelpers + `
			const log = [];
			const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.close(); } });
			const r = rs.getReader();
			r.closed.then(() => log.push("closed"));
			r.read().then((v) => log.push("read " + v.value));
			r.read().then((v) => log.push("done " + v.done));
			Promise.resolve().then(() => log.push("micro"));
			await tick();
			return log.join(",");`,
			"closed,read a,done true,micro"},
		{"pull respects highWaterMark", streamHelpers + `
			let pulls = 0;
			const rs = new ReadableStream({ pull(c) { pulls++; c.enqueue(pulls); } }, { highWaterMark: 3 });
			await tick();
			const before = pulls;
			const r = rs.getReader();
			const v = await r.read();
			await tick();
			return before + " " + v.value + " " + pulls;`,
			"3 1 4"},
		{"desiredSize with size()", streamHelpers + `
			let ctl;
			new ReadableStream({ start(c) { ctl = c; } }, { highWaterMark: 10, size: (ch) => ch.length });
			ctl.enqueue("abcd");
			const a = ctl.desiredSize;
			ctl.close();
			return a + " " + ctl.desiredSize;`,
			"6 6"},
		{"bad size errors stream", streamHelpers + `
			let ctl;
			const rs = new ReadableStream({ start(c) { ctl = c; } }, { size: () => -1 });
			try { ctl.enqueue("x"); } catch (e) { return err(e) + " / " + await rs.getReader().read().catch(err); }`,
			"RangeError: The return value of a queuing strategy's size function must be a finite, non-NaN, non-negative number. / RangeError: The return value of a queuing strategy's size function must be a finite, non-NaN, non-negative number."},
		{"enqueue and close after close", streamHelpers + `
			let ctl;
			new ReadableStream({ start(c) { ctl = c; } });
			ctl.close();
			const out = [];
			try { ctl.enqueue(1); } catch (e) { out.push(err(e)); }
			try { ctl.close(); } catch (e) { out.push(err(e)); }
			return out.join(" | ");`,
			"TypeError: Unable to enqueue | TypeError: This ReadableStream is closed."},
		{"controller.error rejects reads and closed", streamHelpers + `
			const rs = new ReadableStream({ pull(c) { c.error(new RangeError("boom")); } });
			const r = rs.getReader();
			const a = await r.read().catch(err);
			const b = await r.closed.catch(err);
			return a + " / " + b;`,
			"RangeError: boom / RangeError: boom"},
		{"start throws synchronously", streamHelpers + `
			try { new ReadableStream({ start() { throw new Error("no start"); } }); } catch (e) { return err(e); }`,
			"Error: no start"},
		{"invalid source members", streamHelpers + `
			const out = [];
			try { new ReadableStream({ pull: 5 }); } catch (e) { out.push(e.name); }
			try { new ReadableStream({ type: "nope" }); } catch (e) { out.push(err(e)); }
			try { new ReadableStream({}, { highWaterMark: -1 }); } catch (e) { out.push(e.name); }
			try { new ReadableStream().getReader({ mode: "x" }); } catch (e) { out.push(err(e)); }
			return out.join(" | ");`,
			`TypeError | TypeError: "nope" is not a valid type of ReadableStream. | RangeError | RangeError: mode must be undefined or 'byob' in call to getReader().`},
		{"cancel reaches source and pending reads", streamHelpers + `
			let reason;
			const rs = new ReadableStream({ cancel(r) { reason = r; } });
			const r = rs.getReader();
			const p = r.read();
			await r.cancel("enough");
			return reason + " " + JSON.stringify(await p);`,
			`enough {"done":true}`},
		{"releaseLock rejects pending reads", streamHelpers + `
			const rs = new ReadableStream();
			const r = rs.getReader();
			const p = r.read().catch(err);
			r.releaseLock();
			const c = await r.closed.catch(err);
			const again = await r.read().catch(err);
			return [await p, c, again, rs.locked].join(" | ");`,
			"TypeError: This ReadableStream reader has been released. | TypeError: This ReadableStream reader has been released. | TypeError: This ReadableStream reader has been released. | false"},
		{"tee", streamHelpers + `
			const rs = new ReadableStream({ start(c) { c.enqueue("x"); c.enqueue("y"); c.close(); } });
			const [a, b] = rs.tee();
			const [ra, rb] = await Promise.all([drain(a), drain(b)]);
			return ra.join("") + rb.join("") + " " + rs.locked;`,
			"xyxy true"},
		{"tee cancels source when both branches cancel", streamHelpers + `
			let reason;
			const [a, b] = new ReadableStream({ cancel(r) { reason = r; } }).tee();
			await Promise.all([a.cancel(1), b.cancel(2)]);
			return JSON.stringify(reason);`,
			"[1,2]"},
		{"async iteration and break cancels", streamHelpers + `
			let canceled = "no";
			let i = 0;
			const rs = new ReadableStream({ pull(c) { c.enqueue(++i); }, cancel() { canceled = "yes"; } });
			const seen = [];
			for await (const v of rs) { seen.push(v); if (v === 3) break; }
			return seen.join(",") + " " + canceled + " " + rs.locked;`,
			"1,2,3 yes false"},
		{"values preventCancel", streamHelpers + `
			const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
			for await (const v of rs.values({ preventCancel: true })) break;
			const rest = await drain(rs);
			return rest.join(",");`,
			"b"},
		{"iterator error", streamHelpers + `
			const rs = new ReadableStream({ start(c) { c.error(new TypeError("bad")); } });
			try { for await (const v of rs) {} } catch (e) { return err(e); }`,
			"TypeError: bad"},
		{"from iterables", streamHelpers + `
			async function* gen() { yield 1; yield 2; }
			const a = await drain(ReadableStream.from(gen()));
			const b = await drain(ReadableStream.from(["x", Promise.resolve("y")]));
			let e = "";
			try { ReadableStream.from(5); } catch (x) { e = x.name; }
			return a.join(",") + " " + b.join(",") + " " + e;`,
			"1,2 x,y TypeError"},
		{"from cancel calls return", streamHelpers + `
			let closed = false;
			function* gen() { try { yield 1; yield 2; } finally { closed = true; } }
			const r = ReadableStream.from(gen()).getReader();
			await r.read();
			await r.cancel();
			return closed;`,
			"true"},
		{"toStringTag and globals", streamHelpers + `
			return [Object.prototype.toString.call(new ReadableStream()),
				Object.getOwnPropertyDescriptor(globalThis, "ReadableStream").enumerable,
				typeof ReadableStreamBYOBRequest, typeof ReadableByteStreamController].join(" ");`,
			"[object ReadableStream] false function function"},
		{"controllers are not constructible", streamHelpers + `
			try { new ReadableStreamDefaultController(); } catch (e) { return e.name; }`,
			"TypeError"},
	})
}

func TestStreamsBytes(t *testing.T) {
	runStreamCases(t, runJS, []streamCase{
		{"byob reader and respond", streamHelpers + `
			const rs = new ReadableStream({
				type: "bytes",
				pull(c) {
					const v = c.byobRequest.view;
					v[0] = 1; v[1] = 2;
					c.byobRequest.respond(2);
				},
			});
			const r = rs.getReader({ mode: "byob" });
			const { value, done } = await r.read(new Uint8Array(8));
			return value.constructor.name + " " + hex(value) + " " + value.buffer.byteLength + " " + done;`,
			"Uint8Array 0102 8 false"},
		{"default reader gets auto-allocated byobRequest", streamHelpers + `
			let size;
			const rs = new ReadableStream({
				type: "bytes",
				pull(c) { size = c.byobRequest.view.byteLength; c.byobRequest.view[0] = 7; c.byobRequest.respond(1); },
			});
			const { value } = await rs.getReader().read();
			return size + " " + hex(value);`,
			"4096 07"},
		{"read min waits for enough bytes", streamHelpers + `
			let n = 0;
			const rs = new ReadableStream({ type: "bytes", autoAllocateChunkSize: 16, pull(c) { n++; c.enqueue(new Uint8Array([n, n])); } });
			const r = rs.getReader({ mode: "byob" });
			const { value } = await r.read(new Uint8Array(5), { min: 4 });
			return hex(value) + " " + n;`,
			"01010202 2"},
		{"enqueue detaches and splits across reads", streamHelpers + `
			const chunk = new Uint8Array([1, 2, 3, 4, 5]);
			const rs = new ReadableStream({ type: "bytes", start(c) { c.enqueue(chunk); c.close(); } });
			const detached = chunk.byteLength;
			const r = rs.getReader({ mode: "byob" });
			const a = await r.read(new Uint8Array(3));
			const b = await r.read(new Uint8Array(3));
			const c = await r.read(new Uint8Array(3));
			return [detached, hex(a.value), hex(b.value), c.done, c.value.byteLength].join(" ");`,
			"0 010203 0405 true 0"},
		{"Uint16Array views", streamHelpers + `
			const rs = new ReadableStream({ type: "bytes", start(c) { c.enqueue(new Uint8Array([1, 0, 2, 0, 3])); c.close(); } });
			const r = rs.getReader({ mode: "byob" });
			const { value } = await r.read(new Uint16Array(4));
			return value.constructor.name + " " + Array.from(value).join(",");`,
			"Uint16Array 1,2"},
		{"byte stream errors", streamHelpers + `
			let ctl;
			const rs = new ReadableStream({ type: "bytes", start(c) { ctl = c; } });
			const out = [];
			try { ctl.enqueue(new Uint8Array(0)); } catch (e) { out.push(err(e)); }
			try { ctl.enqueue("str"); } catch (e) { out.push(e.name); }
			ctl.close();
			try { ctl.enqueue(new Uint8Array(1)); } catch (e) { out.push(err(e)); }
			try { new ReadableStream().getReader({ mode: "byob" }); } catch (e) { out.push(err(e)); }
			try { new ReadableStream({ type: "bytes" }, { size() { return 1; } }); } catch (e) { out.push(e.name); }
			return out.join(" | ");`,
			"TypeError: Cannot enqueue a zero-length ArrayBuffer. | TypeError | TypeError: This ReadableByteStreamController is closed. | TypeError: This ReadableStream does not support BYOB reads. | RangeError"},
		{"byob read argument errors", streamHelpers + `
			const r = new ReadableStream({ type: "bytes" }).getReader({ mode: "byob" });
			const out = [];
			out.push(await r.read(new Uint8Array(0)).catch(err));
			out.push(await r.read(new Uint8Array(2), { min: 3 }).catch(err));
			out.push(await r.read("x").catch((e) => e.name));
			return out.join(" | ");`,
			`TypeError: You must call read() on a "byob" reader with a positive-sized TypedArray object. | TypeError: Minimum bytes to read (3) exceeds size of buffer (2). | TypeError`},
		{"respond errors", streamHelpers + `
			const out = [];
			const rs = new ReadableStream({
				type: "bytes",
				pull(c) {
					const req = c.byobRequest;
					try { req.respond(0); } catch (e) { out.push(err(e)); }
					req.view[0] = 9;
					req.respond(1);
					try { req.respond(1); } catch (e) { out.push(err(e)); }
				},
			});
			await rs.getReader().read();
			return out.join(" | ");`,
			"TypeError: The bytesWritten must be more than zero while the stream is open. | TypeError: This ReadableStreamBYOBRequest has been invalidated."},
		{"released byob reader leaves the response to the queue", streamHelpers + `
			let ctl;
			const rs = new ReadableStream({ type: "bytes", start(c) { ctl = c; } });
			const r1 = rs.getReader({ mode: "byob" });
			const p = r1.read(new Uint8Array(4)).catch(err);
			await tick();
			const req = ctl.byobRequest;
			r1.releaseLock();
			req.view[0] = 42;
			req.respond(1);
			const { value } = await rs.getReader().read();
			return await p + " | " + hex(value);`,
			"TypeError: This ReadableStream reader has been released. | 2a"},
		{"byte tee", streamHelpers + `
			const rs = new ReadableStream({ type: "bytes", start(c) { c.enqueue(new Uint8Array([5, 6])); c.close(); } });
			const [a, b] = rs.tee();
			const [x, y] = await Promise.all([drain(a), drain(b)]);
			return x.map(hex).join() + " " + y.map(hex).join() + " " + (x[0].buffer !== y[0].buffer);`,
			"0506 0506 true"},
		{"closing byte stream completes pending byob read", streamHelpers + `
			let ctl;
			const rs = new ReadableStream({ type: "bytes", start(c) { ctl = c; } });
			const r = rs.getReader({ mode: "byob" });
			const p = r.read(new Uint8Array(4));
			await tick();
			ctl.close();
			ctl.byobRequest.respond(0);
			const { value, done } = await p;
			return done + " " + value.byteLength + " " + value.buffer.byteLength;`,
			"true 0 4"},
	})
}

func TestStreamsWritable(t *testing.T) {
	runStreamCases(t, runJS, []streamCase{
		{"writes in order then close", streamHelpers + `
			const log = [];
			const ws = new WritableStream({
				start() { log.push("start"); },
				write(chunk) { log.push("w:" + chunk); return tick(); },
				close() { log.push("close"); },
			});
			const w = ws.getWriter();
			w.write("a").then(() => log.push("a done"));
			w.write("b").then(() => log.push("b done"));
			await w.close();
			await w.closed;
			return log.join(",");`,
			"start,w:a,w:b,a done,close,b done"},
		{"desiredSize and ready", streamHelpers + `
			let release;
			const ws = new WritableStream({ write() { return new Promise((r) => { release = r; }); } }, { highWaterMark: 2 });
			const w = ws.getWriter();
			const sizes = [w.desiredSize];
			w.write(1); w.write(2);
			sizes.push(w.desiredSize);
			let ready = false;
			w.ready.then(() => { ready = true; });
			await tick();
			const before = ready;
			release();
			await tick();
			return sizes.join(",") + " " + before + " " + ready + " " + w.desiredSize;`,
			"2,0 false true 1"},
		{"locked and released", streamHelpers + `
			const ws = new WritableStream();
			const w = ws.getWriter();
			const out = [];
			try { ws.getWriter(); } catch (e) { out.push(err(e)); }
			out.push(await ws.close().catch(err));
			w.releaseLock();
			out.push(await w.write(1).catch(err));
			try { w.desiredSize; } catch (e) { out.push(err(e)); }
			out.push(await w.closed.catch(err));
			out.push(ws.locked);
			return out.join(" | ");`,
			"TypeError: This WritableStream is currently locked to a writer. | TypeError: This WritableStream is currently locked to a writer. | TypeError: This WritableStream writer has been released. | TypeError: This WritableStream writer has been released. | TypeError: This WritableStream writer has been released. | false"},
		{"write after close", streamHelpers + `
			const w = new WritableStream().getWriter();
			w.close();
			const b = w.close().catch(err);
			const a = await w.write("x").catch(err);
			return a + " | " + await b + " | " + await w.close().catch(err);`,
			"TypeError: This WritableStream has been closed. | TypeError: Cannot close a writer that is already being closed | TypeError: This WritableStream has been closed."},
		{"abort", streamHelpers + `
			const log = [];
			let signal, release;
			const ws = new WritableStream({
				start(c) { signal = c.signal; },
				write() { return new Promise((r) => { release = r; }); },
				abort(r) { log.push("abort:" + r); },
			});
			const w = ws.getWriter();
			const p1 = w.write(1).then(() => "ok", err);
			const p2 = w.write(2).then(() => "ok", (e) => "rejected " + e);
			await tick();
			const ap = w.abort("why");
			log.push("signal:" + signal.aborted);
			release();
			await ap;
			log.push(await p1, await p2, signal.reason, await w.closed.catch((e) => "closed " + e));
			return log.join(",");`,
			"signal:true,abort:why,ok,rejected why,why,closed why"},
		{"sink write failure errors stream", streamHelpers + `
			const ws = new WritableStream({ write() { throw new Error("disk full"); } });
			const w = ws.getWriter();
			const a = await w.write("x").catch(err);
			const b = await w.write("y").catch(err);
			const c = await w.closed.catch(err);
			return [a, b, c].join(" | ");`,
			"Error: disk full | Error: disk full | Error: disk full"},
		{"controller.error", streamHelpers + `
			let ctl;
			const ws = new WritableStream({ start(c) { ctl = c; } });
			const w = ws.getWriter();
			ctl.error(new TypeError("nope"));
			return await w.write(1).catch(err);`,
			"TypeError: nope"},
		{"bad sink type", streamHelpers + `
			try { new WritableStream({ type: "bytes" }); } catch (e) { return e.name; }`,
			"RangeError"},
	})
}

func TestStreamsTransform(t *testing.T) {
	runStreamCases(t, runJS, []streamCase{
		{"transform and flush", streamHelpers + `
			const ts = new TransformStream({
				transform(chunk, c) { c.enqueue(chunk.toUpperCase()); },
				flush(c) { c.enqueue("!"); },
			});
			const src = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
			return (await drain(src.pipeThrough(ts))).join("");`,
			"AB!"},
		{"identity TransformStream rendezvous", streamHelpers + `
			const { readable, writable } = new TransformStream();
			const w = writable.getWriter();
			let written = false;
			w.write("x").then(() => { written = true; });
			await tick();
			const before = written;
			const r = readable.getReader();
			const v = await r.read();
			await tick();
			return before + " " + v.value + " " + written;`,
			"false x true"},
		{"transform error errors both sides", streamHelpers + `
			const ts = new TransformStream({ transform() { throw new TypeError("bad chunk"); } });
			const w = ts.writable.getWriter();
			const b = ts.readable.getReader().read().catch(err);
			const a = await w.write(1).catch(err);
			return a + " | " + await b;`,
			"TypeError: bad chunk | TypeError: bad chunk"},
		{"terminate", streamHelpers + `
			const ts = new TransformStream({ transform(ch, c) { c.enqueue(ch); c.terminate(); } });
			const w = ts.writable.getWriter();
			w.write("last");
			const got = await drain(ts.readable);
			const after = await w.write("more").catch((e) => e.name);
			return got.join(",") + " " + after;`,
			"last TypeError"},
		{"pipeTo closes destination", streamHelpers + `
			const seen = [];
			let closed = false;
			const src = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } });
			await src.pipeTo(new WritableStream({ write(ch) { seen.push(ch); }, close() { closed = true; } }));
			return seen.join(",") + " " + closed + " " + src.locked;`,
			"1,2 true false"},
		{"pipeTo preventClose", streamHelpers + `
			const seen = [];
			const dest = new WritableStream({ write(ch) { seen.push(ch); } });
			await new ReadableStream({ start(c) { c.enqueue("a"); c.close(); } }).pipeTo(dest, { preventClose: true });
			const w = dest.getWriter();
			await w.write("b");
			return seen.join(",");`,
			"a,b"},
		{"pipeTo propagates source error", streamHelpers + `
			let aborted;
			const src = new ReadableStream({ pull(c) { c.error(new Error("src broke")); } });
			const res = await src.pipeTo(new WritableStream({ abort(r) { aborted = r.message; } })).catch(err);
			return res + " / " + aborted;`,
			"Error: src broke / src broke"},
		{"pipeTo propagates destination error", streamHelpers + `
			let canceled;
			const src = new ReadableStream({ pull(c) { c.enqueue(1); }, cancel(r) { canceled = r.message; } });
			const res = await src.pipeTo(new WritableStream({ write() { throw new Error("dest broke"); } })).catch(err);
			return res + " / " + canceled;`,
			"Error: dest broke / dest broke"},
		{"pipeTo preventAbort and preventCancel", streamHelpers + `
			let aborted = false, canceled = false;
			const a = await new ReadableStream({ start(c) { c.error(new Error("E")); } })
				.pipeTo(new WritableStream({ abort() { aborted = true; } }), { preventAbort: true }).catch(err);
			const b = await new ReadableStream({ pull(c) { c.enqueue(1); }, cancel() { canceled = true; } })
				.pipeTo(new WritableStream({ write() { throw new Error("W"); } }), { preventCancel: true }).catch(err);
			return [a, aborted, b, canceled].join(" | ");`,
			"Error: E | false | Error: W | false"},
		{"encoder and decoder streams chained", streamHelpers + `
			const parts = await drain(ReadableStream.from(["he", "llo €"]).pipeThrough(new TextEncoderStream()).pipeThrough(new TextDecoderStream()));
			return parts.join("");`,
			"hello €"},
		{"pipeTo with abort signal", streamHelpers + `
			const ac = new AbortController();
			const src = new ReadableStream({ pull(c) { return tick().then(() => c.enqueue(1)); } });
			const dest = new WritableStream();
			const p = src.pipeTo(dest, { signal: ac.signal }).catch((e) => e.name);
			await tick();
			ac.abort();
			return await p;`,
			"AbortError"},
		{"pipeTo argument errors", streamHelpers + `
			const dest = new WritableStream();
			dest.getWriter();
			const a = await new ReadableStream().pipeTo(dest).catch(err);
			const b = await new ReadableStream().pipeTo({}).catch((e) => e.name);
			const c = await new ReadableStream().pipeTo(new WritableStream(), { signal: {} }).catch((e) => e.name);
			let d;
			try { new ReadableStream().pipeThrough({ readable: new ReadableStream(), writable: dest }); } catch (e) { d = err(e); }
			return [a, b, c, d].join(" | ");`,
			"TypeError: This WritableStream is currently locked to a writer | TypeError | TypeError | TypeError: This WritableStream is currently locked to a writer."},
		{"queuing strategies", streamHelpers + `
			const b = new ByteLengthQueuingStrategy({ highWaterMark: 16 });
			const c = new CountQueuingStrategy({ highWaterMark: 2 });
			const out = [b.highWaterMark, b.size(new Uint8Array(5)), c.highWaterMark, c.size("x"), b.size.name];
			try { new CountQueuingStrategy({}); } catch (e) { out.push(e.name); }
			let ctl;
			new ReadableStream({ start(x) { ctl = x; } }, b);
			ctl.enqueue(new Uint8Array(10));
			out.push(ctl.desiredSize);
			return out.join(",");`,
			"16,5,2,1,size,TypeError,6"},
		{"TextEncoderStream joins split surrogates", streamHelpers + `
			const ts = new TextEncoderStream();
			const w = ts.writable.getWriter();
			w.write("a\ud83d"); w.write("\ude00b"); w.write("\ud800"); w.close();
			const chunks = await drain(ts.readable);
			return ts.encoding + " " + chunks.map(hex).join(" ");`,
			"utf-8 61 f09f988062 efbfbd"},
		{"TextDecoderStream joins split sequences", streamHelpers + `
			const ts = new TextDecoderStream();
			const w = ts.writable.getWriter();
			w.write(new Uint8Array([0x61, 0xe2, 0x82])); w.write(new Uint8Array([0xac])); w.close();
			const chunks = await drain(ts.readable);
			return ts.encoding + " " + JSON.stringify(chunks);`,
			`utf-8 ["a","€"]`},
		{"TextDecoderStream rejects non-buffers", streamHelpers + `
			const ts = new TextDecoderStream();
			ts.readable.getReader().read().catch(() => {});
			return await ts.writable.getWriter().write("x").catch(err);`,
			"TypeError: This TransformStream is being used as a byte stream, but received a value that is not a BufferSource."},
	})
}

func TestStreamsIdentity(t *testing.T) {
	runStreamCases(t, runJS, []streamCase{
		{"identity passes bytes", streamHelpers + `
			const ts = new IdentityTransformStream();
			const w = ts.writable.getWriter();
			const src = new Uint8Array([1, 2, 3]);
			const wp = w.write(src);
			w.close();
			const chunks = await drain(ts.readable);
			await wp;
			return (ts instanceof TransformStream) + " " + chunks.map(hex).join(" ") + " " + src.byteLength;`,
			"true 010203 3"},
		{"identity byob reads split a write", streamHelpers + `
			const ts = new IdentityTransformStream();
			const w = ts.writable.getWriter();
			const wp = w.write(new Uint8Array([1, 2, 3, 4, 5]));
			const r = ts.readable.getReader({ mode: "byob" });
			const a = await r.read(new Uint8Array(2));
			let settled = false;
			wp.then(() => { settled = true; });
			await tick();
			const mid = settled;
			const b = await r.read(new Uint8Array(8));
			await wp;
			return hex(a.value) + " " + mid + " " + hex(b.value);`,
			"0102 false 030405"},
		{"identity refuses strings", streamHelpers + `
			const ts = new IdentityTransformStream();
			return await ts.writable.getWriter().write("text").catch(err);`,
			"TypeError: This TransformStream is being used as a byte stream, but received a string on its writable side. If you wish to write a string, you'll probably want to explicitly UTF-8-encode it with TextEncoder."},
		{"identity abort with a pending write", streamHelpers + `
			const ts = new IdentityTransformStream();
			const w = ts.writable.getWriter();
			const wp = w.write(new Uint8Array(4)).catch((e) => "write " + e);
			await w.abort("stop");
			return await wp + " / " + await ts.readable.getReader().read().catch((e) => "read " + e);`,
			"write stop / read stop"},
		{"FixedLengthStream exact", streamHelpers + `
			const fl = new FixedLengthStream(4);
			const w = fl.writable.getWriter();
			w.write(new Uint8Array([1, 2])); w.write(new Uint8Array([3, 4])); w.close();
			return (await drain(fl.readable)).map(hex).join(" ");`,
			"0102 0304"},
		{"FixedLengthStream too many bytes", streamHelpers + `
			const fl = new FixedLengthStream(2);
			const w = fl.writable.getWriter();
			const a = await w.write(new Uint8Array(3)).catch(err);
			const b = await fl.readable.getReader().read().catch(err);
			return a + " | " + b;`,
			"TypeError: Attempt to write too many bytes through a FixedLengthStream. | TypeError: Attempt to write too many bytes through a FixedLengthStream."},
		{"FixedLengthStream too few bytes", streamHelpers + `
			const fl = new FixedLengthStream(5);
			const w = fl.writable.getWriter();
			const r = fl.readable.getReader();
			w.write(new Uint8Array(2));
			await r.read();
			const a = await w.close().catch(err);
			const b = await r.read().catch(err);
			return a + " | " + b;`,
			"TypeError: FixedLengthStream did not see all expected bytes before close(). | TypeError: FixedLengthStream did not see all expected bytes before close()."},
		{"FixedLengthStream bad length", streamHelpers + `
			const out = [];
			for (const n of [-1, undefined, 2 ** 60]) { try { new FixedLengthStream(n); } catch (e) { out.push(err(e)); } }
			return out.join(" | ");`,
			"TypeError: FixedLengthStream requires a non-negative integer expected length. | TypeError: FixedLengthStream requires a non-negative integer expected length. | TypeError: FixedLengthStream requires an integer expected length less than 2^53."},
	})
}

func TestStreamsHelpers(t *testing.T) {
	runStreamCases(t, runWithUnits, []streamCase{
		{"readAllBytes concatenates", streamHelpers + `
			const rs = new ReadableStream({ start(c) {
				c.enqueue(new Uint8Array([1, 2])); c.enqueue(new Uint16Array([0x0403]).buffer); c.enqueue(new DataView(new Uint8Array([5]).buffer)); c.close();
			} });
			const out = await units.readAllBytes(rs);
			return hex(out) + " " + out.buffer.byteLength + " " + rs.locked + " " + units.streamDisturbed(rs);`,
			"0102030405 5 true true"},
		{"readAllBytes async chunks", streamHelpers + `
			let i = 0;
			const rs = new ReadableStream({ async pull(c) { await null; if (++i > 3) c.close(); else c.enqueue(new Uint8Array([i])); } });
			return hex(await units.readAllBytes(rs));`,
			"010203"},
		{"readAllBytes refuses non-bytes", streamHelpers + `
			let reason;
			const rs = new ReadableStream({ start(c) { c.enqueue("text"); }, cancel(r) { reason = r.message; } });
			const e = await units.readAllBytes(rs).catch(err);
			return e + " / " + reason;`,
			"TypeError: This ReadableStream did not return bytes. / This ReadableStream did not return bytes."},
		{"readAllBytes errors", streamHelpers + `
			const rs = new ReadableStream({ pull(c) { c.error(new Error("mid-stream")); } });
			const a = await units.readAllBytes(rs).catch(err);
			const locked = new ReadableStream();
			locked.getReader();
			const b = await units.readAllBytes(locked).catch(err);
			return a + " | " + b;`,
			"Error: mid-stream | TypeError: This ReadableStream is currently locked to a reader."},
		{"rsFromBytes fast path and stream path", streamHelpers + `
			const bytes = new Uint8Array([9, 8, 7, 6]);
			const s1 = units.rsFromBytes(bytes);
			const len = units.rsKnownLength(s1);
			const a = await units.readAllBytes(s1);
			a[0] = 0;
			const s2 = units.rsFromBytes(bytes);
			const r = s2.getReader({ mode: "byob" });
			const b = await r.read(new Uint8Array(3));
			const c = await r.read(new Uint8Array(3));
			const d = await r.read(new Uint8Array(3));
			return [len, hex(a), hex(bytes), hex(b.value), hex(c.value), d.done, units.isReadableStream(s2), units.isReadableStream({})].join(" ");`,
			"4 00080706 09080706 090807 06 true true false"},
		{"FixedLengthStream known length", streamHelpers + `
			return units.rsKnownLength(new FixedLengthStream(12).readable) + " " + units.rsKnownLength(new ReadableStream());`,
			"12 undefined"},
	})
}

func TestBlobBasics(t *testing.T) {
	runStreamCases(t, runJS, []streamCase{
		{"parts and text", streamHelpers + `
			const inner = new Blob(["ab"]);
			const b = new Blob(["héllo", new Uint8Array([33]), inner, new Uint16Array([0x6463]).buffer, 42]);
			return b.size + " " + JSON.stringify(await b.text()) + " " + JSON.stringify(b.type);`,
			`13 "héllo!abcd42" ""`},
		{"type normalization", streamHelpers + `
			return [new Blob([], { type: "Text/HTML;Charset=UTF-8" }).type, new Blob([], { type: "a\u00e9" }).type,
				new Blob([], { type: "x\ny" }).type].map((t) => JSON.stringify(t)).join(" ");`,
			`"text/html;charset=utf-8" "" ""`},
		{"slice", streamHelpers + `
			const b = new Blob(["0123456789"], { type: "text/plain" });
			const parts = [b.slice(2, 5), b.slice(-3), b.slice(-3, -1), b.slice(7, 2), b.slice(0, 100, "X/Y"), b.slice(3).slice(1, 2)];
			const texts = await Promise.all(parts.map((p) => p.text()));
			return texts.join(",") + " " + JSON.stringify(parts[0].type) + " " + parts[4].type;`,
			`234,789,78,,0123456789,4 "" x/y`},
		{"arrayBuffer and bytes are copies", streamHelpers + `
			const b = new Blob([new Uint8Array([1, 2, 3])]);
			const ab = await b.arrayBuffer();
			new Uint8Array(ab)[0] = 99;
			const u8 = await b.bytes();
			u8[1] = 99;
			return hex(await b.bytes()) + " " + (ab instanceof ArrayBuffer) + " " + u8.constructor.name;`,
			"010203 true Uint8Array"},
		{"stream", streamHelpers + `
			const b = new Blob(["stream me"]);
			const chunks = await drain(b.stream());
			const text = chunks.map((c) => String.fromCharCode(...c)).join("");
			return text + " " + (await drain(new Blob().stream())).length;`,
			"stream me 0"},
		{"text keeps BOM and replaces bad UTF-8", streamHelpers + `
			const t = await new Blob([new Uint8Array([0xef, 0xbb, 0xbf, 0x41, 0xff])]).text();
			return Array.from(t, (c) => c.codePointAt(0).toString(16)).join(",");`,
			"feff,41,fffd"},
		{"constructor errors", streamHelpers + `
			const out = [];
			try { new Blob("abc"); } catch (e) { out.push(e.name); }
			try { new Blob([], { endings: "weird" }); } catch (e) { out.push(e.name); }
			try { new Blob([Symbol()]); } catch (e) { out.push(e.name); }
			return out.join(",") + " " + Object.prototype.toString.call(new Blob());`,
			"TypeError,TypeError,TypeError [object Blob]"},
		{"File", streamHelpers + `
			const f = new File(["data"], "a.txt", { type: "Text/Plain", lastModified: 1234 });
			const g = new File([f], "b.bin");
			const out = [f.name, f.type, f.size, f.lastModified, f instanceof Blob, Object.prototype.toString.call(f), g.type, typeof g.lastModified, await g.text()];
			try { new File(["x"]); } catch (e) { out.push(err(e)); }
			return out.join(",");`,
			"a.txt,text/plain,4,1234,true,[object File],,number,data,TypeError: Failed to construct 'File': 2 arguments required, but only 1 present."},
	})
}

func TestBlobFormData(t *testing.T) {
	runStreamCases(t, runJS, []streamCase{
		{"append get getAll has delete", streamHelpers + `
			const fd = new FormData();
			fd.append("a", "1"); fd.append("b", 2); fd.append("a", "3");
			const out = [fd.get("a"), fd.getAll("a").join("+"), fd.has("b"), fd.get("b"), typeof fd.get("b"), fd.get("zz")];
			fd.delete("a");
			out.push(fd.has("a"), [...fd.keys()].join());
			return out.join(",");`,
			"1,1+3,true,2,string,,false,b"},
		{"set replaces first and drops the rest", streamHelpers + `
			const fd = new FormData();
			fd.append("x", "1"); fd.append("y", "2"); fd.append("x", "3"); fd.append("z", "4");
			fd.set("x", "new"); fd.set("w", "end");
			return JSON.stringify([...fd]);`,
			`[["x","new"],["y","2"],["z","4"],["w","end"]]`},
		{"blobs become files", streamHelpers + `
			const fd = new FormData();
			const f = new File(["f"], "orig.txt");
			fd.append("blob", new Blob(["hi"], { type: "text/plain" }));
			fd.append("named", new Blob(["yo"]), "given.bin");
			fd.append("file", f);
			fd.append("renamed", f, "other.txt");
			const [b, n, same, ren] = ["blob", "named", "file", "renamed"].map((k) => fd.get(k));
			return [b instanceof File, b.name, b.type, await b.text(), n.name, same === f, ren === f, ren.name].join(",");`,
			"true,blob,text/plain,hi,given.bin,true,false,other.txt"},
		{"iteration and forEach", streamHelpers + `
			const fd = new FormData();
			const self = {};
			fd.append("k1", "v1"); fd.append("k2", "v2");
			const it = fd.entries();
			const first = it.next().value.join("=");
			fd.append("k3", "v3");
			const rest = [...it].map((e) => e.join("=")).join("&");
			const seen = [];
			fd.forEach(function (v, k, obj) { seen.push(k + v + (obj === fd) + (this === self)); }, self);
			return [first, rest, [...fd.values()].join(), seen.join(" "), Object.prototype.toString.call(it)].join(" | ");`,
			"k1=v1 | k2=v2&k3=v3 | v1,v2,v3 | k1v1truetrue k2v2truetrue k3v3truetrue | [object FormData Iterator]"},
		{"argument errors", streamHelpers + `
			const fd = new FormData();
			const out = [];
			try { fd.append("only"); } catch (e) { out.push(err(e)); }
			try { fd.get(); } catch (e) { out.push(e.name); }
			try { fd.forEach(5); } catch (e) { out.push(e.name); }
			return out.join(" | ");`,
			"TypeError: Failed to execute 'append' on 'FormData': 2 arguments required, but only 1 present. | TypeError | TypeError"},
	})
}

func TestBlobFormCodecs(t *testing.T) {
	runStreamCases(t, runWithUnits, []streamCase{
		{"multipart round trip", streamHelpers + `
			const fd = new FormData();
			fd.append("text", "héllo\r\nworld");
			fd.append("file", new File([new Uint8Array([0, 13, 10, 255])], "a.bin", { type: "application/x-thing" }));
			fd.append("untyped", new Blob(["z"]));
			const { body, contentType } = units.formDataToMultipart(fd);
			const back = units.parseMultipart(body, contentType);
			const file = back.get("file"), untyped = back.get("untyped");
			return [contentType.startsWith("multipart/form-data; boundary="), JSON.stringify(back.get("text")),
				file.name, file.type, hex(await file.bytes()), untyped.name, untyped.type].join(" ");`,
			`true "héllo\r\nworld" a.bin application/x-thing 000d0aff blob application/octet-stream`},
		{"multipart body layout", streamHelpers + `
			const fd = new FormData();
			fd.append('we"ird\nname', "v");
			const { body, contentType } = units.formDataToMultipart(fd);
			const boundary = contentType.split("boundary=")[1];
			const text = new TextDecoder().decode(body).replaceAll(boundary, "B");
			return JSON.stringify(text);`,
			`"--B\r\nContent-Disposition: form-data; name=\"we%22ird%0Aname\"\r\n\r\nv\r\n--B--"`},
		{"multipart parse LF-only and quoted params", streamHelpers + `
			const body = new TextEncoder().encode('preamble\n--xyz\nContent-Disposition: form-data; name="a\\"b"\n\n1\n--xyz\r\ncontent-disposition: form-data; name=f; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--xyz--\r\n');
			const fd = units.parseMultipart(body, 'multipart/form-data; boundary="xyz"');
			const f = fd.get("f");
			return JSON.stringify([...fd.keys()]) + " " + fd.get('a"b') + " " + f.name + " " + f.type + " " + await f.text();`,
			`["a\"b","f"] 1 x.txt text/plain file body`},
		{"multipart errors", streamHelpers + `
			const enc = (s) => new TextEncoder().encode(s);
			const ct = "multipart/form-data; boundary=b";
			const tries = [
				() => units.parseMultipart(enc("--b--"), "multipart/form-data"),
				() => units.parseMultipart(enc("nothing here"), ct),
				() => units.parseMultipart(enc("--bX"), ct),
				() => units.parseMultipart(enc('--b\r\nContent-Disposition: form-data; name="a"'), ct),
				() => units.parseMultipart(enc("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"), ct),
				() => units.parseMultipart(enc('--b\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n--b--'), ct),
				() => units.parseMultipart(enc('--b\r\nContent-Disposition: form-data; filename="a"\r\n\r\nx\r\n--b--'), ct),
				() => units.parseMultipart(enc('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx'), ct),
				() => units.parseMultipart(enc('--b\r\nBad Header\r\n\r\nx\r\n--b--'), ct),
			];
			return tries.map((f) => { try { f(); return "ok"; } catch (e) { return err(e); } }).join("\n");`,
			"TypeError: No boundary string in Content-Type header. The multipart/form-data MIME type requires a boundary parameter, e.g. 'Content-Type: multipart/form-data; boundary=\"abcd\"'. See RFC 7578, section 4.\n" +
				"TypeError: No initial boundary string (or you have a truncated message).\n" +
				"TypeError: Boundary string was not succeeded by CRLF, LF, or '--'.\n" +
				"TypeError: No multipart message header termination found.\n" +
				"TypeError: No valid Content-Disposition header found in FormData part.\n" +
				"TypeError: Content-Disposition header for FormData part must have the value \"form-data\", possibly followed by parameters. Got: \"attachment\"\n" +
				"TypeError: Content-Disposition header in FormData part is missing a name.\n" +
				"TypeError: No subsequent boundary string after multipart message.\n" +
				"TypeError: FormData part had invalid headers."},
		{"urlencoded", streamHelpers + `
			const fd = units.parseUrlEncodedForm("a=1&b=x+y&c=%E2%82%AC&d=%zz%41&&e&=v&f=%FF");
			return JSON.stringify([...fd]);`,
			`[["a","1"],["b","x y"],["c","€"],["d","%zzA"],["e",""],["","v"],["f","�"]]`},
		{"parseFormBody dispatch", streamHelpers + `
			const enc = (s) => new TextEncoder().encode(s);
			const a = units.parseFormBody(enc("k=v"), "application/x-www-form-urlencoded; charset=UTF-8").get("k");
			const out = [a];
			for (const ct of ["text/plain", "application/x-www-form-urlencoded; charset=latin1"]) {
				try { units.parseFormBody(enc("k=v"), ct); } catch (e) { out.push(err(e)); }
			}
			return out.join(" | ");`,
			"v | TypeError: Unrecognized Content-Type header value. FormData can only parse the following MIME types: multipart/form-data, application/x-www-form-urlencoded | TypeError: Non-utf-8 application/x-www-form-urlencoded body."},
		{"blob helpers", streamHelpers + `
			const b = units.blobFromBytes(new Uint8Array([104, 105]), "TEXT/X");
			const s = b.slice(1);
			return [await b.text(), b.type, hex(units.blobBytes(s)), units.blobBytes(s).buffer === units.blobBytes(b).buffer].join(" ");`,
			"hi text/x 69 true"},
		{"trailing backslash refused", streamHelpers + `
			const fd = new FormData();
			fd.append("bad\\", "x");
			try { units.formDataToMultipart(fd); } catch (e) { return err(e); }`,
			"TypeError: Name or filename can't end with backslash"},
	})
}

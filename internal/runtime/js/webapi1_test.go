package js

import "testing"

// jsCase is a script run by runJS and the string it must produce.
type jsCase struct {
	name, script, want string
}

func runCases(t *testing.T, cases []jsCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runJS(t, c.script); got != c.want {
				t.Errorf("script:\n%s\ngot:  %q\nwant: %q", c.script, got, c.want)
			}
		})
	}
}

func TestTextEncoder(t *testing.T) {
	runCases(t, []jsCase{
		{"ascii", `return new TextEncoder().encode("hi!").join()`, "104,105,33"},
		{"multibyte", `return new TextEncoder().encode("é€😀").join()`, "195,169,226,130,172,240,159,152,128"},
		{"lone surrogates", `return new TextEncoder().encode("a\ud800b\udc00").join()`, "97,239,191,189,98,239,191,189"},
		{"default and coercion", `const e = new TextEncoder(); return [e.encode().length, e.encode(12).join(), e.encoding].join(" ")`, "0 49,50 utf-8"},
		{"exact buffer", `return new TextEncoder().encode("héllo").buffer.byteLength`, "6"},
		{"encodeInto whole characters", `
			const dst = new Uint8Array(5);
			const r = new TextEncoder().encodeInto("a€😀", dst);
			return [r.read, r.written, dst.join()].join(" ")`, "2 4 97,226,130,172,0"},
		{"encodeInto pair", `const d = new Uint8Array(8); const r = new TextEncoder().encodeInto("😀x", d); return r.read + " " + r.written`, "3 5"},
		{"encodeInto bad destination", `new TextEncoder().encodeInto("a", []); return "no"`,
			"throw: TypeError: Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'."},
	})
}

func TestTextDecoder(t *testing.T) {
	runCases(t, []jsCase{
		{"utf-8", `return new TextDecoder().decode(new Uint8Array([0xe2, 0x82, 0xac, 0x41, 0xf0, 0x9f, 0x98, 0x80]))`, "€A😀"},
		{"bom stripped once", `return escape(new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x61])))`, "%uFEFFa"},
		{"ignoreBOM", `return new TextDecoder("utf-8", {ignoreBOM: true}).decode(new Uint8Array([0xef, 0xbb, 0xbf])).charCodeAt(0)`, "65279"},
		{"replacement", `return escape(new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0xe2, 0x82, 0x62, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf0, 0x9f])))`,
			"a%uFFFD%uFFFDb%uFFFD%uFFFD%uFFFD%uFFFD%uFFFD%uFFFD"},
		{"fatal", `new TextDecoder("utf-8", {fatal: true}).decode(new Uint8Array([0x61, 0xff])); return "no"`, "throw: TypeError: Failed to decode input."},
		{"fatal accepts valid", `const d = new TextDecoder("utf-8", {fatal: true}); return d.decode(new Uint8Array([0xc3, 0xa9])) + d.fatal`, "étrue"},
		{"stream split sequence", `
			const d = new TextDecoder();
			const bytes = new TextEncoder().encode("a€😀b");
			let out = "";
			for (const b of bytes) out += "[" + d.decode(new Uint8Array([b]), {stream: true}) + "]";
			return out + d.decode()`, "[a][][][€][][][][😀][b]"},
		{"stream reports bad bytes at once", `
			const d = new TextDecoder();
			return [d.decode(new Uint8Array([0x41, 0xf8]), {stream: true}), d.decode(new Uint8Array([0xe0, 0x80]), {stream: true}),
				d.decode(new Uint8Array([0xe0, 0xa0]), {stream: true}), d.decode(new Uint8Array([0x80]))].map(escape).join("|")`,
			"A%uFFFD|%uFFFD%uFFFD||%u0800"},
		{"stream incomplete at end", `
			const d = new TextDecoder();
			const a = d.decode(new Uint8Array([0xe2, 0x82]), {stream: true});
			return JSON.stringify(a) + escape(d.decode())`, `""%uFFFD`},
		{"views and buffers", `
			const buf = new Uint8Array([0, 104, 105, 0]).buffer;
			const d = new TextDecoder();
			return d.decode(new DataView(buf, 1, 2)) + d.decode(new Uint8Array(buf).subarray(1, 3)) + d.decode(buf).length`, "hihi4"},
		{"utf-16le", `
			const d = new TextDecoder("utf-16le");
			return d.encoding + " " + d.decode(new Uint8Array([0xff, 0xfe, 0x3d, 0xd8, 0x00, 0xde, 0x41, 0x00]))`, "utf-16le 😀A"},
		{"utf-16le stream and odd byte", `
			const d = new TextDecoder("utf-16");
			const a = d.decode(new Uint8Array([0x3d, 0xd8, 0x00]), {stream: true});
			const b = d.decode(new Uint8Array([0xde, 0x41]));
			return JSON.stringify(a) + b.length + escape(b)`, `""3%uD83D%uDE00%uFFFD`},
		{"utf-16be", `return new TextDecoder("UTF-16BE").decode(new Uint8Array([0, 0x68, 0, 0x69]))`, "hi"},
		{"latin1 labels mean windows-1252", `
			const d = new TextDecoder(" Latin1 ");
			return d.encoding + " " + escape(d.decode(new Uint8Array([0x41, 0xe9, 0x80, 0x81, 0x9f])))`, "windows-1252 A%E9%u20AC%81%u0178"},
		{"unknown label", `new TextDecoder("xyz"); return "no"`, `throw: RangeError: "xyz" is not a valid encoding.`},
		{"replacement label rejected", `new TextDecoder("iso-2022-kr"); return "no"`, `throw: RangeError: "iso-2022-kr" is not a valid encoding.`},
		{"not a buffer", `new TextDecoder().decode("abc"); return "no"`,
			"throw: TypeError: Failed to execute 'decode' on 'TextDecoder': parameter 1 is not of type 'Array'."},
		{"shared and wide buffers", `return new TextDecoder().decode(new Uint16Array([0x6968])) + new TextDecoder().decode(new SharedArrayBuffer(2)).length`, "hi2"},
		{"bad options", `new TextDecoder("utf-8", 5); return "no"`,
			"throw: TypeError: Failed to construct 'TextDecoder': constructor parameter 2 is not of type 'ConstructorOptions'."},
		{"brand check", `Object.getOwnPropertyDescriptor(TextDecoder.prototype, "encoding").get.call({}); return "no"`,
			"throw: TypeError: Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details."},
		{"large round trip", `
			const s = "héllo wörld €uro 😀 ".repeat(5000);
			const b = new TextEncoder().encode(s);
			return [b.length, new TextDecoder().decode(b) === s].join()`, "130000,true"},
	})
}

func TestBase64(t *testing.T) {
	runCases(t, []jsCase{
		{"btoa", `return btoa("hello") + " " + btoa("\xff\xfe") + " " + btoa("")`, "aGVsbG8= //4= "},
		{"atob", `return atob("aGVsbG8=") + atob(" aGVs\nbG8 ") + escape(atob("//4="))`, "hellohello%FF%FE"},
		{"atob missing padding", `return [atob("YQ"), atob("YWI"), atob("YW\tI ="), atob("")].join()`, "a,ab,ab,"},
		{"atob coerces", `return atob(null).length`, "3"},
		{"atob bad length", `atob("abcde"); return "no"`,
			"throw: InvalidCharacterError: atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric ASCII, and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)"},
		{"atob bad characters", `
			const bad = ["ab=", "abc==", "a===", "ab-_", "ab==cd", "\u00e9abc", "ab\vcd", undefined];
			return bad.map(s => { try { atob(s); return "ok" } catch (e) { return e instanceof DOMException && e.code } }).join()`,
			"5,5,5,5,5,5,5,5"},
		{"btoa non-latin1", `btoa("€"); return "no"`,
			"throw: InvalidCharacterError: btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range."},
		{"no argument", `btoa(); return "no"`,
			"throw: TypeError: Failed to execute 'btoa' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'String'."},
		{"explicit undefined", `return btoa(undefined)`, "dW5kZWZpbmVk"},
		{"round trip all bytes", `
			let s = ""; for (let i = 0; i < 256; i++) s += String.fromCharCode(i);
			s = s.repeat(100);
			return atob(btoa(s)) === s`, "true"},
	})
}

func TestURL(t *testing.T) {
	runCases(t, []jsCase{
		{"components", `
			const u = new URL("HTTPS://user:pa%20ss@EXample.COM:8080/a/./b/../c?q=1 2#frag ment");
			return [u.href, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin].join("|")`,
			"https://user:pa%20ss@example.com:8080/a/c?q=1%202#frag%20ment|https:|user|pa%20ss|example.com:8080|example.com|8080|/a/c|?q=1%202|#frag%20ment|https://example.com:8080"},
		{"default port elided", `return [new URL("http://a.com:80/").href, new URL("wss://a.com:443").href, new URL("ftp://a.com:21/x").port].join()`,
			"http://a.com/,wss://a.com/,"},
		{"relative resolution", `
			const b = "http://a/b/c/d;p?q";
			return ["g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "..", "../g", "../../../g", "g;x=1/../y", ""].map(r => new URL(r, b).href).join(" ")`,
			"http://a/b/c/g http://a/b/c/g http://a/b/c/g/ http://a/g http://g/ http://a/b/c/d;p?y http://a/b/c/g?y http://a/b/c/d;p?q#s http://a/b/ http://a/b/g http://a/g http://a/b/c/y http://a/b/c/d;p?q"},
		{"base as URL object", `return new URL("x", new URL("http://h/a/b")).href`, "http://h/a/x"},
		{"backslashes and whitespace", `return new URL("  \thttp:\\\\h\\a\\b\n ").href`, "http://h/a/b"},
		{"ipv4 forms", `return ["http://0x7f.1/", "http://127.0.0.1./", "http://2130706433/", "http://0177.0.0.01/", "http://1.2.3/"].map(u => new URL(u).host).join()`,
			"127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,1.2.0.3"},
		{"ipv4 out of range", `new URL("http://256.256.256.256/"); return "no"`, "throw: TypeError: Invalid URL string."},
		{"ipv6", `return ["http://[0:0:0:0:0:0:0:1]/", "http://[2001:DB8:0:0:1:0:0:1]:8080/", "http://[::ffff:192.168.1.1]/", "http://[1:0:0:2::]/"].map(u => new URL(u).host).join()`,
			"[::1],[2001:db8::1:0:0:1]:8080,[::ffff:c0a8:101],[1:0:0:2::]"},
		{"bad ipv6", `new URL("http://[1::2::3]/"); return "no"`, "throw: TypeError: Invalid URL string."},
		{"idna", `return [new URL("http://Bücher.example/").hostname, new URL("http://ＥＸＡＭＰＬＥ。com").hostname, new URL("http://b%C3%BCcher.de").hostname].join()`,
			"xn--bcher-kva.example,example.com,xn--bcher-kva.de"},
		{"forbidden host", `return ["http://a b/", "http://a<b/", "http://%41%zz/", "http://exa%mple/"].map(u => URL.canParse(u)).join()`, "false,false,false,false"},
		{"opaque paths", `
			const m = new URL("mailto:Joe@Example.COM?subject=Hi there");
			const d = new URL("data:text/plain,hello world#x");
			return [m.pathname, m.search, m.host, m.origin, d.pathname, d.hash].join("|")`,
			"Joe@Example.COM|?subject=Hi%20there||null|text/plain,hello world|#x"},
		{"non-special with authority", `const u = new URL("foo://User@Host:99/p q/../r"); return [u.host, u.pathname, u.username].join("|")`, "Host:99|/r|User"},
		{"file urls", `return [new URL("file:///C:/a/../../b").href, new URL("file://localhost/etc/x").href, new URL("..", "file:///a/b/c").href, new URL("file:c:\\x").href].join(" ")`,
			"file:///C:/b file:///etc/x file:///a/ file:///c:/x"},
		{"percent-encoding sets", `
			const u = new URL("http://h/p a\"<>{}` + "`" + `^|é?q'a\"<>` + "`" + `#f \"<>` + "`" + `é");
			const n = new URL("x:/p?q'");
			return [u.pathname, u.search, u.hash, n.search].join("|")`,
			"/p%20a%22%3C%3E%7B%7D%60%5E|%C3%A9|?q%27a%22%3C%3E`|#f%20%22%3C%3E%60%C3%A9|?q'"},
		{"invalid", `
			const bad = ["", "http://", "http://a:99999/", "http://a:b/", "//x", "a", "http://[::1/", "http://user@/"];
			return bad.map(u => URL.canParse(u)).join()`, "false,false,false,false,false,false,false,false"},
		{"invalid throws", `new URL("not a url"); return "no"`, "throw: TypeError: Invalid URL string."},
		{"invalid base", `new URL("/x", "nope"); return "no"`, "throw: TypeError: Invalid URL string."},
		{"parse and canParse", `return [URL.parse("/a", "http://h") + "", URL.parse("nope"), URL.canParse("/a", "http://h"), URL.canParse("/a")].join()`,
			"http://h/a,,true,false"},
		{"setters", `
			const u = new URL("http://h/p?q#f");
			u.protocol = "https"; u.username = "a b"; u.password = "p@ss"; u.hostname = "EX.com"; u.port = "8443";
			u.pathname = "x y/../z"; u.search = "a=1&b=é"; u.hash = "top";
			return u.href`, "https://a%20b:p%40ss@ex.com:8443/z?a=1&b=%C3%A9#top"},
		{"setter edge cases", `
			const u = new URL("http://h:81/");
			u.port = "443x"; const a = u.port;
			u.port = "99999"; const b = u.port;
			u.protocol = "mailto"; const c = u.protocol;
			u.host = "other:80"; const d = u.host;
			u.port = ""; u.protocol = "https"; u.port = "443";
			u.hash = ""; u.search = "?";
			return [a, b, c, d, u.href].join("|")`, "443|443|http:|other|https://other/?"},
		{"href setter", `
			const u = new URL("http://a/?x=1"); const p = u.searchParams;
			u.href = "https://b/?y=2";
			let err; try { u.href = "bad" } catch (e) { err = e.name }
			return [u.href, p.get("y"), p.get("x"), err].join()`, "https://b/?y=2,2,,TypeError"},
		{"opaque path space before query", `const u = new URL("data:space   ?q"); const a = u.href; u.search = ""; return a + "|" + u.href`, "data:space  %20?q|data:space  %20"},
		{"href setter failure", `new URL("http://h/").href = "nope"; return "no"`,
			"throw: TypeError: Failed to set the 'href' property on 'URL': the provided value is not of type 'valid URL string'."},
		{"missing argument", `new URL(); return "no"`, "throw: TypeError: Failed to construct 'URL': constructor parameter 1 is not of type 'USVString'."},
		{"enumerable members", `return Object.keys(URL.prototype).length + " " + Object.keys(URL).sort().join()`, "14 canParse,createObjectURL,parse,revokeObjectURL"},
		{"toJSON and string", `const u = new URL("http://h/a"); return JSON.stringify({u}) + String(u) + Object.prototype.toString.call(u)`,
			`{"u":"http://h/a"}http://h/a[object URL]`},
		{"blob origin", `return new URL("blob:https://a.com:8/uuid").origin + " " + new URL("file:///x").origin`, "https://a.com:8 null"},
		{"searchParams linked", `
			const u = new URL("http://h/?a=1&b=2");
			u.searchParams.append("c", "x y");
			u.searchParams.delete("a");
			const s1 = u.search;
			u.search = "?z=9";
			return [s1, u.searchParams.get("z"), u.searchParams.size].join("|")`, "?b=2&c=x+y|9|1"},
		{"empty params clears query", `const u = new URL("http://h/?a=1"); u.searchParams.delete("a"); return u.href`, "http://h/"},
	})
}

func TestURLSearchParams(t *testing.T) {
	runCases(t, []jsCase{
		{"parse", `
			const p = new URLSearchParams("?a=1&b=x+y&a=%F0%9F%98%80&&c&=e&d=%zz");
			return JSON.stringify([...p])`, `[["a","1"],["b","x y"],["a","😀"],["c",""],["","e"],["d","%zz"]]`},
		{"from pairs and record", `
			const a = new URLSearchParams([["x", 1], ["y", "2"]]);
			const b = new URLSearchParams({k: "v", n: 5});
			const c = new URLSearchParams(a);
			return [a, b, c].join("|")`, "x=1&y=2|k=v&n=5|x=1&y=2"},
		{"bad pair", `new URLSearchParams([["a", "b", "c"]]); return "no"`, "throw: TypeError: Invalid URL search params sequence."},
		{"methods", `
			const p = new URLSearchParams("a=1&b=2&a=3");
			const r = [p.get("a"), p.getAll("a").join(), p.get("z"), p.has("b"), p.has("a", "3"), p.has("a", "9"), p.size];
			p.set("a", "9"); r.push(p.toString());
			p.delete("a", "nope"); r.push(p.toString());
			p.delete("b"); r.push(p.toString());
			return r.join("|")`, "1|1,3||true|true|false|3|a=9&b=2|a=9&b=2|a=9"},
		{"sort is stable", `
			const p = new URLSearchParams("z=1&a=2&z=0&\uD83D\uDE00=x&\uFFFD=y&a=1");
			p.sort();
			return [...p.keys()].join(",") + " " + [...p.values()].join(",")`, "a,a,z,z,😀,\ufffd 2,1,1,0,x,y"},
		{"serializer", `
			const p = new URLSearchParams();
			p.append("a b", "*-._~!'()&=+/é");
			return p.toString()`, "a+b=*-._%7E%21%27%28%29%26%3D%2B%2F%C3%A9"},
		{"iteration and forEach", `
			const p = new URLSearchParams("a=1&b=2");
			const seen = [];
			p.forEach(function (v, k, self) { seen.push(k + v + (self === p) + (this === seen)) }, seen);
			const it = p.entries();
			return seen.join() + " " + Object.prototype.toString.call(it) + " " + JSON.stringify(it.next()) + " " + typeof it[Symbol.iterator]`,
			`a1truetrue,b2truetrue [object EntryIterator] {"value":["a","1"],"done":false} function`},
		{"live iteration", `const p = new URLSearchParams("a=1&b=2&c=3"); const seen = []; for (const [k] of p) { seen.push(k); if (k === "a") p.delete("a") } return seen.join()`, "a,c"},
		{"record skips symbols", `return new URLSearchParams({ [Symbol()]: 1, a: [1, 2], b: null }).toString()`, "a=1%2C2&b=null"},
		{"bytes that are not UTF-8 survive", `
			const p = new URLSearchParams("%E9t%E9=caf%E9&%C3=1&z=%zz%C3");
			const u = new URL("http://h/?q=%E9"); u.searchParams.append("x", "1");
			return [p.toString(), JSON.stringify(p.get("\ufffdt\ufffd")), p.get("\ufffd"), p.has("\ufffd"), u.href].join("|")`,
			"%E9t%E9=caf%E9&%C3=1&z=%25zz%C3|null||false|http://h/?q=%E9&x=1"},
		{"sort with raw bytes", `const p = new URLSearchParams("%C3%AA=1&%E9=2&%FF=3&%E2%82%AC=4"); p.sort(); return p.toString()`,
			"%E9=2&%C3%AA=1&%FF=3&%E2%82%AC=4"},
		{"missing arguments", `new URLSearchParams().append("a"); return "no"`,
			"throw: TypeError: Failed to execute 'append' on 'URLSearchParams': parameter 2 is not of type 'USVString'."},
	})
}

func TestDOMException(t *testing.T) {
	runCases(t, []jsCase{
		{"shape", `
			const e = new DOMException("m", "AbortError");
			return [e instanceof Error, e instanceof DOMException, e.name, e.message, e.code, String(e),
				Object.prototype.toString.call(e), typeof e.stack, Object.getOwnPropertyNames(e).join()].join("|")`,
			"true|true|AbortError|m|20|AbortError: m|[object DOMException]|string|code,name,message,stack"},
		{"read-only", `const e = new DOMException("m", "AbortError"); e.name = "X"; e.code = 1; return e.name + e.code`, "AbortError20"},
		{"defaults and codes", `
			const d = new DOMException();
			return [d.name, JSON.stringify(d.message), d.code, new DOMException("x", "Custom").code, new DOMException("", "DataCloneError").code,
				DOMException.ABORT_ERR, DOMException.DATA_CLONE_ERR, d.INVALID_CHARACTER_ERR].join("|")`, `Error|""|0|0|25|20|25|5`},
		{"constants only on the prototype", `return Object.getOwnPropertyNames(DOMException.prototype).length + " " + (Object.getPrototypeOf(DOMException.prototype) === Error.prototype)`, "26 true"},
	})
}

func TestEvents(t *testing.T) {
	runCases(t, []jsCase{
		{"event defaults", `
			const e = new Event("x");
			return [e.type, e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.isTrusted, e.eventPhase, e.target, e.timeStamp, e.composedPath().length, Event.AT_TARGET].join()`,
			"x,false,false,false,false,false,0,,0,0,2"},
		{"event requires type", `new Event(); return "no"`, "throw: TypeError: Failed to construct 'Event': constructor parameter 1 is not of type 'string'."},
		{"event brand check", `Object.getOwnPropertyDescriptor(Event.prototype, "type").get.call({}); return "no"`,
			"throw: TypeError: Illegal invocation: function called with incorrect `this` reference. See https://developers.cloudflare.com/workers/observability/errors/#illegal-invocation-errors for details."},
		{"dispatch order and return", `
			const t = new EventTarget(); const log = [];
			t.addEventListener("x", (e) => { log.push("a" + e.eventPhase + (e.target === t) + (e.currentTarget === t) + e.composedPath().length); e.preventDefault() });
			t.addEventListener("x", { handleEvent(e) { log.push("b" + (this !== t)) } });
			const e = new Event("x", { cancelable: true });
			const r = t.dispatchEvent(e);
			return [log.join(), r, e.defaultPrevented, e.eventPhase, e.currentTarget === t, e.target === t, e.composedPath().length].join("|")`,
			"a2truetrue1,btrue|false|true|0|true|true|0"},
		{"preventDefault on a non-cancelable event", `
			const t = new EventTarget();
			t.addEventListener("x", (e) => e.preventDefault());
			const e = new Event("x");
			return t.dispatchEvent(e) + " " + e.defaultPrevented`, "false false"},
		{"dispatch clears an earlier preventDefault", `
			const e = new Event("x", { cancelable: true }); e.preventDefault();
			return [e.defaultPrevented, new EventTarget().dispatchEvent(e), e.defaultPrevented].join()`, "true,true,false"},
		{"returning true cancels", `
			const t = new EventTarget(); t.addEventListener("x", () => true);
			const e = new Event("x", { cancelable: true });
			return t.dispatchEvent(e) + " " + e.defaultPrevented`, "false true"},
		{"handleEvent taken when added", `
			const t = new EventTarget(); const log = [];
			const o = { handleEvent() { log.push(this === o ? 1 : 0) } };
			t.addEventListener("x", o); o.handleEvent = () => log.push(2);
			t.dispatchEvent(new Event("x"));
			try { t.addEventListener("y", { handleEvent: 5 }) } catch (e) { log.push(e.message) }
			return log.join()`, "1,Incorrect type for the 'handleEvent' field on 'HandlerObject': the provided value is not of type 'function'."},
		{"listener this is the target", `const t = new EventTarget(); let r; t.addEventListener("x", function () { r = this === t }); t.dispatchEvent(new Event("x")); return r`, "true"},
		{"bad listener", `new EventTarget().addEventListener("x"); return "no"`,
			"throw: TypeError: Failed to execute 'addEventListener' on 'EventTarget': parameter 2 is not of type 'function or HandlerObject'."},
		{"null listener", `const t = new EventTarget(); t.addEventListener("x", null); t.removeEventListener("x", null); return "ok"`, "ok"},
		{"passive accepted", `new EventTarget().addEventListener("x", () => {}, { passive: true }); return "ok"`, "ok"},
		{"bad signal", `new EventTarget().addEventListener("x", () => {}, { signal: 5 }); return "no"`,
			"throw: TypeError: Incorrect type for the 'signal' field on 'AddEventListenerOptions': the provided value is not of type 'AbortSignal'."},
		{"duplicates, once, remove", `
			const t = new EventTarget(); let n = 0;
			const f = () => n++;
			t.addEventListener("x", f); t.addEventListener("x", f);
			t.addEventListener("x", () => n += 10, { once: true });
			t.dispatchEvent(new Event("x")); t.dispatchEvent(new Event("x"));
			t.removeEventListener("x", f);
			t.dispatchEvent(new Event("x"));
			return n`, "12"},
		{"stopImmediatePropagation", `
			const t = new EventTarget(); const log = [];
			t.addEventListener("x", (e) => { log.push(1); e.stopImmediatePropagation() });
			t.addEventListener("x", () => log.push(2));
			const e = new Event("x"); t.dispatchEvent(e);
			// Like workerd, the event stays stopped for a later dispatch.
			t.dispatchEvent(e);
			return log.join() + e.cancelBubble`, "1false"},
		{"explicit undefined type", `return new Event(undefined).type + new CustomEvent(undefined).type`, "undefinedundefined"},
		{"stopPropagation", `const e = new Event("x"); e.stopPropagation(); return e.cancelBubble`, "true"},
		{"listener removed by earlier listener", `
			const t = new EventTarget(); const log = [];
			const b = () => log.push("b");
			t.addEventListener("x", () => { log.push("a"); t.removeEventListener("x", b); t.addEventListener("x", () => log.push("c")) });
			t.addEventListener("x", b);
			t.dispatchEvent(new Event("x"));
			return log.join()`, "a"},
		{"throwing listener reported", `
			const reported = [];
			globalThis.reportError = (e) => reported.push(e.message);
			const t = new EventTarget(); const log = [];
			t.addEventListener("x", () => { throw new Error("boom") });
			t.addEventListener("x", () => log.push("still"));
			t.dispatchEvent(new Event("x"));
			return reported.join() + " " + log.join()`, "boom still"},
		{"signal removes listener", `
			const t = new EventTarget(); const c = new AbortController(); let n = 0;
			t.addEventListener("x", () => n++, { signal: c.signal });
			t.dispatchEvent(new Event("x")); c.abort(); t.dispatchEvent(new Event("x"));
			t.addEventListener("x", () => n += 100, { signal: c.signal });
			t.dispatchEvent(new Event("x"));
			return n`, "1"},
		{"capture refused like workerd", `new EventTarget().addEventListener("x", () => {}, true); return "no"`,
			"throw: TypeError: addEventListener(): useCapture must be false."},
		{"capture false accepted", `const t = new EventTarget(); t.addEventListener("x", () => {}, false); t.addEventListener("x", () => {}, {capture: false}); t.removeEventListener("x", () => {}, false); return "ok"`, "ok"},
		{"redispatch refused", `
			const t = new EventTarget(); let err;
			t.addEventListener("x", (e) => { try { t.dispatchEvent(e) } catch (x) { err = x.name + ": " + x.message } });
			t.dispatchEvent(new Event("x"));
			return err`, "InvalidStateError: The event is already being dispatched."},
		{"custom event", `
			const t = new EventTarget(); let got;
			t.addEventListener("c", (e) => got = e.detail.n);
			t.dispatchEvent(new CustomEvent("c", { detail: { n: 7 } }));
			return [got, new CustomEvent("c").detail, new CustomEvent("c") instanceof Event].join()`, "7,,true"},
		{"subclass and on-property", `
			class T extends EventTarget {}
			const t = new T(); const log = [];
			t.onping = () => log.push("on");
			t.addEventListener("ping", () => log.push("listener"));
			t.dispatchEvent(new Event("ping"));
			return log.join()`, "on,listener"},
		{"dispatch non-event", `new EventTarget().dispatchEvent({type: "x"}); return "no"`,
			"throw: TypeError: Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'."},
	})
}

func TestAbort(t *testing.T) {
	runCases(t, []jsCase{
		{"controller", `
			const c = new AbortController(); const s = c.signal; const log = [];
			s.onabort = (e) => log.push("on:" + e.type + e.isTrusted);
			s.addEventListener("abort", () => log.push("listener"));
			const before = s.aborted;
			c.abort(); c.abort("again");
			return [before, s.aborted, s.reason.name, s.reason.message, s.reason instanceof DOMException, log.join()].join("|")`,
			"false|true|AbortError|The operation was aborted|true|on:aborttrue,listener"},
		{"onabort keeps a listener's place", `
			const order = (f) => { const c = new AbortController(); const s = c.signal; const log = []; f(s, log); c.abort(); return log.join() };
			return [
				order((s, log) => { s.addEventListener("abort", () => log.push("l1")); s.onabort = () => log.push("on"); s.addEventListener("abort", () => log.push("l2")) }),
				order((s, log) => { s.onabort = () => log.push("on1"); s.addEventListener("abort", () => log.push("l")); s.onabort = () => log.push("on2") }),
				order((s, log) => { s.onabort = () => log.push("on"); s.onabort = null; s.addEventListener("abort", () => log.push("l")); s.onabort = () => log.push("on2") }),
				order((s, log) => { s.onabort = function () { log.push(this === s) } }),
			].join(" ")`, "l1,on,l2 on2,l l,on2 false"},
		{"custom reason and throwIfAborted", `
			const c = new AbortController();
			c.signal.throwIfAborted();
			c.abort("why");
			try { c.signal.throwIfAborted() } catch (e) { return e }`, "why"},
		{"static abort", `const s = AbortSignal.abort(); return [s.aborted, s.reason.name, AbortSignal.abort(5).reason].join()`, "true,AbortError,5"},
		{"illegal constructor", `new AbortSignal(); return "no"`, "throw: TypeError: Illegal constructor"},
		{"timeout", `
			const s = AbortSignal.timeout(50);
			const before = s.aborted;
			await new Promise(r => s.addEventListener("abort", r));
			return [before, s.reason.name, s.reason.message, s.reason.code].join("|")`,
			"false|TimeoutError|The operation was aborted due to timeout|23"},
		{"timeout argument", `AbortSignal.timeout(); return "no"`,
			"throw: TypeError: Failed to execute 'timeout' on 'AbortSignal': parameter 1 is not of type 'number'."},
		{"odd timeouts", `return [AbortSignal.timeout(-5), AbortSignal.timeout(NaN), AbortSignal.timeout(Infinity)].map(s => s.aborted).join()`, "false,false,false"},
		{"any", `
			const a = new AbortController(), b = new AbortController();
			const s = AbortSignal.any([a.signal, b.signal]);
			const nested = AbortSignal.any([s]);
			const log = [];
			s.addEventListener("abort", () => log.push("s:" + s.reason));
			nested.addEventListener("abort", () => log.push("nested:" + nested.reason));
			b.abort("B"); a.abort("A");
			return [s.aborted, s.reason, log.join(), AbortSignal.any([AbortSignal.abort(1)]).reason, AbortSignal.any([]).aborted].join("|")`,
			"true|B|s:B,nested:B|1|false"},
		{"any rejects non-signals", `AbortSignal.any([{}]); return "no"`,
			"throw: TypeError: Incorrect type for array element 0: the provided value is not of type 'AbortSignal'."},
		{"any wants an array", `AbortSignal.any(new Set()); return "no"`,
			"throw: TypeError: Failed to execute 'any' on 'AbortSignal': parameter 1 is not of type 'Array'."},
		{"throwing abort listener", `
			globalThis.reportError = () => {};
			const c = new AbortController(); let after = false;
			c.signal.addEventListener("abort", () => { throw new Error("x") });
			c.signal.addEventListener("abort", () => after = true);
			c.abort();
			return c.signal.aborted + " " + after`, "true true"},
		{"signal is an EventTarget", `const s = new AbortController().signal; return [s instanceof EventTarget, Object.prototype.toString.call(s)].join()`,
			"true,[object AbortSignal]"},
	})
}

func TestStructuredClone(t *testing.T) {
	runCases(t, []jsCase{
		{"primitives", `return [1, "s", 10n, null, undefined, true, NaN].map(v => String(structuredClone(v))).join() + Object.is(structuredClone(-0), -0)`,
			"1,s,10,null,undefined,true,NaNtrue"},
		{"wrappers", `return structuredClone([Object(1), Object("s"), Object(true), Object(2n)]).map(x => typeof x + ":" + x.valueOf()).join()`,
			"object:1,object:s,object:true,object:2"},
		{"date and regexp", `
			const r = /a+/gi; r.lastIndex = 3;
			const [d, k] = structuredClone([new Date(5), r]);
			return [d instanceof Date, d.getTime(), k instanceof RegExp, k.source, k.flags, k.lastIndex].join()`, "true,5,true,a+,gi,0"},
		{"objects", `
			const o = { a: 1, [Symbol()]: 2, get g() { return 4 } };
			Object.defineProperty(o, "hidden", { value: 3 });
			class P { constructor() { this.x = 1 } m() {} }
			const p = structuredClone(new P());
			return JSON.stringify(structuredClone(o)) + " " + (p.constructor === Object) + p.x`, `{"a":1,"g":4} true1`},
		{"proto key", `const o = JSON.parse('{"__proto__": {"x": 1}}'); const c = structuredClone(o); return [Object.getPrototypeOf(c) === Object.prototype, Object.keys(c).join(), c.__proto__.x].join()`,
			"true,__proto__,1"},
		{"arrays keep holes", `
			const a = [1, , 3]; a.x = "y"; a.length = 5;
			const k = structuredClone(a);
			return [Array.isArray(k), k.length, 1 in k, k[2], k.x].join()`, "true,5,false,3,y"},
		{"cycles and shared references", `
			const o = {}; o.self = o; const shared = { v: 1 };
			const k = structuredClone({ o, list: [shared, shared] });
			return [k.o.self === k.o, k.list[0] === k.list[1], k.o !== o].join()`, "true,true,true"},
		{"map and set", `
			const key = { v: 1 };
			const [m, s] = structuredClone([new Map([[key, key]]), new Set([key, "x"])]);
			const [kk, vv] = [...m][0];
			return [m instanceof Map, kk === vv, [...s][0] === kk, s.has("x"), kk !== key].join()`, "true,true,true,true,true"},
		{"buffers and views", `
			const b = new ArrayBuffer(8); new Uint8Array(b).set([1, 2, 3, 4, 5, 6, 7, 8]);
			const u = new Uint16Array(b, 2, 2); const d = new DataView(b, 1, 3);
			const [u2, d2, b2] = structuredClone([u, d, b]);
			return [u2.constructor.name, u2.byteOffset, u2.length, u2.buffer === d2.buffer, d2.buffer === b2, b2 !== b, d2.getUint8(0), u2[0]].join()`,
			"Uint16Array,2,2,true,true,true,2,1027"},
		{"resizable buffer", `
			const b = new ArrayBuffer(4, { maxByteLength: 8 }); new Uint8Array(b)[0] = 7;
			const k = structuredClone(b);
			return [k.byteLength, k.resizable, k.maxByteLength, new Uint8Array(k)[0]].join()`, "4,true,8,7"},
		{"errors", `
			const e = new RangeError("m", { cause: { z: 1 } }); e.extra = 1;
			const k = structuredClone(e);
			const c = new Error("x"); c.name = "Custom";
			const a = structuredClone(new AggregateError([1], "agg"));
			const s = structuredClone(new (class My extends TypeError {})("sub"));
			return [k instanceof RangeError, k.name, k.message, JSON.stringify(k.cause), k.extra, k.stack === e.stack,
				structuredClone(c).name, structuredClone(c).constructor.name, a.constructor.name, a.message, JSON.stringify(a.errors),
				s.constructor.name, s.message].join()`,
			`true,RangeError,m,{"z":1},1,true,Custom,Error,AggregateError,agg,[1],TypeError,sub`},
		{"error own properties", `
			const e = new Error(); e.name = "TypeError"; Object.defineProperty(e, "hidden", { value: 1 });
			const k = structuredClone(e);
			return [k.constructor.name, JSON.stringify(k.message), Object.getOwnPropertyNames(k).join()].join()`,
			`TypeError,"",stack,message,hidden`},
		{"fake error is plain", `const k = structuredClone(Object.create(Error.prototype)); return k instanceof Error`, "false"},
		{"DOMException", `const e = structuredClone(new DOMException("m", "DataCloneError")); return [e instanceof DOMException, e.name, e.message, e.code].join()`,
			"true,DataCloneError,m,25"},
		{"function", `structuredClone({ f: () => 1 }); return "no"`, "throw: DataCloneError: () => 1 could not be cloned."},
		{"symbol", `structuredClone(Symbol("s")); return "no"`, "throw: DataCloneError: Symbol(s) could not be cloned."},
		{"uncloneables", `
			return [Promise.resolve(), new WeakMap(), new WeakSet(), (function () { return arguments })(), [].values(), Object(Symbol())].map(v => {
				try { structuredClone(v); return "cloned" } catch (e) { return e.name + ":" + e.code + ":" + e.message }
			}).join("|")`,
			"DataCloneError:25:#<Promise> could not be cloned.|DataCloneError:25:#<WeakMap> could not be cloned.|DataCloneError:25:#<WeakSet> could not be cloned.|" +
				"DataCloneError:25:#<Object> could not be cloned.|DataCloneError:25:[object Array Iterator] could not be cloned.|DataCloneError:25:[object Symbol] could not be cloned."},
		{"tag spoof is a plain object", `return JSON.stringify(structuredClone({ [Symbol.toStringTag]: "Date", a: 1 }))`, `{"a":1}`},
		{"getter throws", `structuredClone({ get x() { throw new RangeError("g") } }); return "no"`, "throw: RangeError: g"},
		{"transfer", `
			const b = new ArrayBuffer(4); new Uint8Array(b)[0] = 9;
			const k = structuredClone({ b }, { transfer: [b] });
			return [b.byteLength, b.detached, k.b.byteLength, new Uint8Array(k.b)[0]].join()`, "0,true,4,9"},
		{"transfer errors", `
			const b = new ArrayBuffer(4);
			const tries = [() => structuredClone(1, { transfer: [{}] }), () => structuredClone(1, { transfer: [new SharedArrayBuffer(1)] }),
				() => structuredClone(1, { transfer: new Set() }), () => structuredClone(() => 1, { transfer: [b] }), () => structuredClone(1, 5)];
			return tries.map(f => { try { f(); return "ok" } catch (e) { return e.name + ": " + e.message } }).join("|") + "|" + b.detached`,
			"TypeError: Object is not transferable|TypeError: Object is not transferable|" +
				"TypeError: Incorrect type for the 'transfer' field on 'StructuredCloneOptions': the provided value is not of type 'Array'.|" +
				"DataCloneError: () => 1 could not be cloned.|" +
				"TypeError: Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': parameter 2 is not of type 'StructuredCloneOptions'.|false"},
		{"transfer duplicates and detached", `
			const b = new ArrayBuffer(4); const d = new ArrayBuffer(2); d.transfer();
			const [k, e] = structuredClone([b, d], { transfer: [b, b, d] });
			return [b.detached, k.byteLength, e.byteLength].join()`, "true,4,0"},
		{"platform objects refused", `
			const objs = [new URL("http://a/"), new URLSearchParams(), new TextEncoder(), new Event("x"), new (class T extends EventTarget {})(),
				new AbortController(), new AbortController().signal];
			return objs.map(o => { try { structuredClone(o); return "ok" } catch (e) { return e.message } }).join("|")`,
			`Could not serialize object of type "URL". This type does not support serialization.|` +
				`Could not serialize object of type "URLSearchParams". This type does not support serialization.|` +
				`Could not serialize object of type "TextEncoder". This type does not support serialization.|` +
				`Could not serialize object of type "Event". This type does not support serialization.|` +
				`Could not serialize object of type "T". This type does not support serialization.|` +
				`Could not serialize object of type "AbortController". This type does not support serialization.|` +
				"AbortSignal serialization is not enabled."},
		{"builtin function", `structuredClone(Math.max); return "no"`, "throw: DataCloneError: function max() { [native code] } could not be cloned."},
		{"detached", `const b = new ArrayBuffer(4); b.transfer(); structuredClone(b); return "no"`,
			"throw: DataCloneError: An ArrayBuffer is detached and could not be cloned."},
		{"no argument", `structuredClone(); return "no"`,
			"throw: TypeError: Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Value'."},
		{"length-tracking view", `const b = new ArrayBuffer(4, { maxByteLength: 8 }); const u = structuredClone(new Uint8Array(b)); u.buffer.resize(8); return u.length`, "8"},
		{"cloneValue internal stays private", `return typeof cloneValue + typeof globalThis.cloneValue`, "undefinedundefined"},
	})
}

// TestGlobalsAreWebIDL checks how the globals are installed: writable,
// configurable and not enumerable once their (lazy) unit has loaded.
func TestGlobalsAreWebIDL(t *testing.T) {
	got := runJS(t, `
		const names = ["TextEncoder", "TextDecoder", "atob", "btoa", "URL", "URLSearchParams", "DOMException", "Event",
			"CustomEvent", "EventTarget", "AbortController", "AbortSignal", "structuredClone"];
		for (const n of names) globalThis[n];
		return names.filter(n => {
			const d = Object.getOwnPropertyDescriptor(globalThis, n);
			return !d || d.enumerable || !d.writable || !d.configurable || typeof d.value !== "function";
		}).join() || "ok"`)
	if got != "ok" {
		t.Fatalf("badly installed globals: %s", got)
	}
}

// The prelude's own names stay off the global object, where a worker would
// see them: no global but the harness's starts with "_" or "$", even after
// every lazy unit has loaded.
func TestPreludeLeavesNoPrivateGlobals(t *testing.T) {
	got := runJS(t, `
		for (const n of Object.getOwnPropertyNames(globalThis)) globalThis[n];
		return Object.getOwnPropertyNames(globalThis)
			.filter((n) => (n.startsWith("_") || n.startsWith("$")) && n !== "__done" && n !== "__out")
			.join() || "ok"`)
	if got != "ok" {
		t.Fatalf("private names on the global object: %s", got)
	}
}

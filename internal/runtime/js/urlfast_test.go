package js

import (
	"strings"
	"testing"
)

// urlFastInputs are URLs near the edges of the everyday form that URLFast
// parses in Go; each must come out as the URL Standard's parser (the
// prelude's state machine) gives it.
var urlFastInputs = []string{
	"http://example.com/", "HTTP://EXAMPLE.COM/A/B", "https://a.b-c.d:8443/x?y#z", "http://a", "http://a/",
	"http://a:80/", "https://a:443", "ws://a:80/x", "wss://a:443/", "ftp://a:21/f", "http://a:0/", "http://a:65535/",
	"http://a:65536/", "http://a:00080/", "http://a:/", "http://a:123456/", "http://a.:8080/", "http://a.b./p",
	"http://a..b/", "http://.a/", "http://1.2.3.4/", "http://1.2.3.4:80/", "http://01.2.3.4/", "http://1.2.3/",
	"http://256.1.1.1/", "http://0x7f.1/", "http://a.0x/", "http://a.1/", "http://1.2.3.4./", "http://a-1.b/",
	"http://a/p^q`r{s}t|u~v", "http://a/é/ü?é#é", "http://a/😀", "http://a/p q", "http://a/p\tq", "http://a/?q\tr",
	"http://a/#f\nr", "http://a/x ", "http://a/x\x01", "http://a/./b", "http://a/b/.", "http://a/b/..", "http://a/%2e/b",
	"http://a/%2E%2e/b", "http://a/.b", "http://a/b.c/d", "http://a/b\\c", "http://a/?b\\c", "http://a/#b\\c",
	"http://a?", "http://a#", "http://a/?", "http://a/#", "http://a/??#?#", "http://a/?'\"<>`#'\"<>`",
	"http://a/?q=%zz", "http://a/%zz", "http://a/\x7f", "http://a/?\x7f#\x7f", "file:///a", "foo://a/b", "h2://a/",
	"http://a@b/", "http://a:b@c/", "http://[::1]/", "http://a_b/", "http://a%41/", "http://ａ/", "http:/a/",
	"http:a", "http:///a", "https://a.com:8080", "HTTPS://A.COM:443/", "Http://A.B.C.D.E.F.G/h/i/j/k?l=m&n=o#p",
	"http://a/\u00a0", "http://a/\u2028", "http://xn--bcher-kva.example/", "http://a/;b=c/d;e", "http://a/b//c",
	"http://a//", "https://127.0.0.1:8787/warm", "http://localhost:8080/api/v1/items?limit=10&offset=20",
}

func TestURLFastMatchesTheParser(t *testing.T) {
	var b strings.Builder
	b.WriteString(`const inputs = [`)
	for _, in := range urlFastInputs {
		b.WriteString(jsString(in) + ",")
	}
	b.WriteString(`];
		return inputs.map((s) => {
			if (!URL.canParse(s)) return "invalid";
			const u = new URL(s);
			return [u.href, u.protocol, u.host, u.port, u.pathname, u.search, u.hash].join("|");
		}).join("\n");`)
	got := strings.Split(runJS(t, b.String()), "\n")
	if len(got) != len(urlFastWant) {
		t.Fatalf("%d results for %d inputs", len(got), len(urlFastWant))
	}
	for _, in := range []string{"http://example.com/", "https://127.0.0.1:8787/warm", "http://localhost:8080/api/v1/items?limit=10&offset=20", "http://a/é/ü?é#é"} {
		if URLFast(in) == "" {
			t.Errorf("URLFast(%q) leaves an everyday URL to the state machine", in)
		}
	}
	for i, in := range urlFastInputs {
		if got[i] != urlFastWant[i] {
			t.Errorf("%q:\ngot  %s\nwant %s", in, got[i], urlFastWant[i])
		}
		if goFast := URLFast(in); goFast != "" && !strings.HasPrefix(urlFastWant[i], "invalid") {
			if href := urlFastHref(goFast); !strings.HasPrefix(urlFastWant[i], href+"|") {
				t.Errorf("URLFast(%q) = %q, href %s, want %s", in, goFast, href, urlFastWant[i])
			}
		}
	}
}

// urlFastHref serializes URLFast's answer as the prelude does.
func urlFastHref(r string) string {
	f := strings.Split(r, "\x00")
	s := f[0] + "://" + f[1]
	if f[2] != "" {
		s += ":" + f[2]
	}
	return s + "/" + f[3] + f[4] + f[5]
}

// The answers the URL Standard's parser gives for urlFastInputs: the
// prelude's state machine, with no fast path, produced them.
var urlFastWant = []string{
	"http://example.com/|http:|example.com||/||",
	"http://example.com/A/B|http:|example.com||/A/B||",
	"https://a.b-c.d:8443/x?y#z|https:|a.b-c.d:8443|8443|/x|?y|#z",
	"http://a/|http:|a||/||",
	"http://a/|http:|a||/||",
	"http://a/|http:|a||/||",
	"https://a/|https:|a||/||",
	"ws://a/x|ws:|a||/x||",
	"wss://a/|wss:|a||/||",
	"ftp://a/f|ftp:|a||/f||",
	"http://a:0/|http:|a:0|0|/||",
	"http://a:65535/|http:|a:65535|65535|/||",
	"invalid",
	"http://a/|http:|a||/||",
	"http://a/|http:|a||/||",
	"invalid",
	"http://a.:8080/|http:|a.:8080|8080|/||",
	"http://a.b./p|http:|a.b.||/p||",
	"http://a..b/|http:|a..b||/||",
	"http://.a/|http:|.a||/||",
	"http://1.2.3.4/|http:|1.2.3.4||/||",
	"http://1.2.3.4/|http:|1.2.3.4||/||",
	"http://1.2.3.4/|http:|1.2.3.4||/||",
	"http://1.2.0.3/|http:|1.2.0.3||/||",
	"invalid",
	"http://127.0.0.1/|http:|127.0.0.1||/||",
	"invalid",
	"invalid",
	"http://1.2.3.4/|http:|1.2.3.4||/||",
	"http://a-1.b/|http:|a-1.b||/||",
	"http://a/p%5Eq%60r%7Bs%7Dt|u~v|http:|a||/p%5Eq%60r%7Bs%7Dt|u~v||",
	"http://a/%C3%A9/%C3%BC?%C3%A9#%C3%A9|http:|a||/%C3%A9/%C3%BC|?%C3%A9|#%C3%A9",
	"http://a/%F0%9F%98%80|http:|a||/%F0%9F%98%80||",
	"http://a/p%20q|http:|a||/p%20q||",
	"http://a/pq|http:|a||/pq||",
	"http://a/?qr|http:|a||/|?qr|",
	"http://a/#fr|http:|a||/||#fr",
	"http://a/x|http:|a||/x||",
	"http://a/x|http:|a||/x||",
	"http://a/b|http:|a||/b||",
	"http://a/b/|http:|a||/b/||",
	"http://a/|http:|a||/||",
	"http://a/b|http:|a||/b||",
	"http://a/b|http:|a||/b||",
	"http://a/.b|http:|a||/.b||",
	"http://a/b.c/d|http:|a||/b.c/d||",
	"http://a/b/c|http:|a||/b/c||",
	"http://a/?b\\c|http:|a||/|?b\\c|",
	"http://a/#b\\c|http:|a||/||#b\\c",
	"http://a/?|http:|a||/||",
	"http://a/#|http:|a||/||",
	"http://a/?|http:|a||/||",
	"http://a/#|http:|a||/||",
	"http://a/??#?#|http:|a||/|??|#?#",
	"http://a/?%27%22%3C%3E`#'%22%3C%3E%60|http:|a||/|?%27%22%3C%3E`|#'%22%3C%3E%60",
	"http://a/?q=%zz|http:|a||/|?q=%zz|",
	"http://a/%zz|http:|a||/%zz||",
	"http://a/%7F|http:|a||/%7F||",
	"http://a/?%7F#%7F|http:|a||/|?%7F|#%7F",
	"file:///a|file:|||/a||",
	"foo://a/b|foo:|a||/b||",
	"h2://a/|h2:|a||/||",
	"http://a@b/|http:|b||/||",
	"http://a:b@c/|http:|c||/||",
	"http://[::1]/|http:|[::1]||/||",
	"http://a_b/|http:|a_b||/||",
	"http://aa/|http:|aa||/||",
	"http://a/|http:|a||/||",
	"http://a/|http:|a||/||",
	"http://a/|http:|a||/||",
	"http://a/|http:|a||/||",
	"https://a.com:8080/|https:|a.com:8080|8080|/||",
	"https://a.com/|https:|a.com||/||",
	"http://a.b.c.d.e.f.g/h/i/j/k?l=m&n=o#p|http:|a.b.c.d.e.f.g||/h/i/j/k|?l=m&n=o|#p",
	"http://a/%C2%A0|http:|a||/%C2%A0||",
	"http://a/%E2%80%A8|http:|a||/%E2%80%A8||",
	"http://xn--bcher-kva.example/|http:|xn--bcher-kva.example||/||",
	"http://a/;b=c/d;e|http:|a||/;b=c/d;e||",
	"http://a/b//c|http:|a||/b//c||",
	"http://a//|http:|a||//||",
	"https://127.0.0.1:8787/warm|https:|127.0.0.1:8787|8787|/warm||",
	"http://localhost:8080/api/v1/items?limit=10&offset=20|http:|localhost:8080|8080|/api/v1/items|?limit=10&offset=20|",
}

func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString("\\" + string(r))
		case r < 0x20 || r == 0x7f || r == 0x2028:
			b.WriteString("\\u" + strings.ToUpper(strings.TrimPrefix(string([]byte{"0123456789abcdef"[r>>12&15], "0123456789abcdef"[r>>8&15], "0123456789abcdef"[r>>4&15], "0123456789abcdef"[r&15]}), "")))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// A URL parsed again comes from the records kept of recent inputs: each URL
// must still own its record, which setters edit in place.
func TestURLParsedAgainIsItsOwn(t *testing.T) {
	got := runJS(t, `
		const s = "http://a.example/x/y?q=1#f";
		const u1 = new URL(s);
		u1.pathname = "/changed";
		u1.searchParams.set("q", "2");
		u1.hash = "";
		u1.port = "8080";
		const u2 = new URL(s);
		const u3 = new URL(s);
		u3.pathname = "/other";
		const long = "http://a.example/l?" + "q".repeat(600);
		const l1 = new URL(long);
		l1.search = "";
		return [u1.href, u2.href, u3.href, new URL(s).href, l1.href, new URL(long).href === long].join(" ");`)
	want := "http://a.example:8080/changed?q=2 http://a.example/x/y?q=1#f http://a.example/other?q=1#f http://a.example/x/y?q=1#f" +
		" http://a.example/l true"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

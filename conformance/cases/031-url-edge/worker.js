// URL edge cases: invalid input, canParse, percent-encoding, IDNA,
// whitespace stripping, and special-scheme rules.
export default {
  async fetch() {
    const tryURL = (...args) => { try { return new URL(...args).href; } catch (e) { return e.name; } };
    return Response.json({
      invalid: tryURL("not a url"),
      noBase: tryURL("/path"),
      badBase: tryURL("/path", "also not a url"),
      badPort: tryURL("http://example.com:99999/"),
      badHost: tryURL("http://exa mple.com/"),
      emptyHost: tryURL("http:///x"),
      canParse: [URL.canParse("https://x.example"), URL.canParse("nope"), URL.canParse("/p", "https://x.example")],
      trimmed: tryURL("  \t https://example.com/trim \n "),
      tabsInside: tryURL("https://exa\tmple.com/a\nb"),
      percent: tryURL("https://example.com/%7Efoo/%zz/ü?q=ü&r=%20#ü"),
      punycode: tryURL("https://xn--mnchen-3ya.example/"),
      uppercaseScheme: tryURL("HTTPS://EXAMPLE.COM/PATH"),
      trailingDot: tryURL("https://example.com./"),
      ipv4Decimal: tryURL("http://2130706433/"),
      ipv6Compress: tryURL("http://[2001:db8:0:0:0:0:0:1]/"),
      opaque: tryURL("javascript:alert(1)"),
      customScheme: tryURL("custom://host/path?q"),
      blobLike: tryURL("blob:https://example.com/uuid"),
      searchParamsLive: (() => { const u = new URL("https://e.example/?a=1"); const p = u.searchParams; u.search = "?b=2"; return p.toString(); })(),
    });
  },
};

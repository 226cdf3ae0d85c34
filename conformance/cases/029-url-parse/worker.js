// URL parsing: every component of a variety of URLs.
export default {
  async fetch() {
    const parts = (u) => {
      const x = new URL(u);
      return {
        href: x.href, origin: x.origin, protocol: x.protocol, username: x.username, password: x.password,
        host: x.host, hostname: x.hostname, port: x.port, pathname: x.pathname, search: x.search, hash: x.hash,
      };
    };
    return Response.json({
      full: parts("https://user:pa%20ss@Sub.Example.com:8443/p/a/t/h?query=string&x=1#hash"),
      defaultPort: parts("http://example.com:80/"),
      httpsDefaultPort: parts("https://example.com:443"),
      dotSegments: parts("https://example.com/a/./b/../c/%2e%2E/d"),
      spaces: parts("https://example.com/a b?c d#e f"),
      unicodeHost: parts("https://münchen.example/straße"),
      ipv4: parts("http://0x7f.1/"),
      ipv6: parts("http://[0:0:0:0:0:0:0:1]:8080/"),
      file: parts("file:///etc/hosts"),
      mailto: parts("mailto:someone@example.com"),
      data: parts("data:text/plain,hello"),
      backslashes: parts("https:\\\\example.com\\a\\b"),
      relative: new URL("../up?x#y", "https://example.com/a/b/c").href,
      relativeQuery: new URL("?only", "https://example.com/a/b").href,
      protocolRelative: new URL("//other.example/x", "https://example.com/").href,
      toStringJson: [String(new URL("https://example.com")), JSON.stringify(new URL("https://example.com/j"))],
    });
  },
};

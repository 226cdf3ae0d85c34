import { connect } from "cloudflare:sockets";
const probe = (fn) => { try { const v = fn(); return v === undefined ? "undefined" : String(v); } catch (e) { return "threw " + e.name + ": " + e.message; } };
export default {
  async fetch() {
    const out = {};
    out.typeofConnect = typeof connect;
    out.length = connect.length;
    out.noPort = probe(() => connect("example.com"));
    out.noHost = probe(() => connect({ hostname: "", port: 80 }));
    out.bigPort = probe(() => connect({ hostname: "example.com", port: 70000 }));
    out.badSecure = probe(() => connect("example.com:80", { secureTransport: "bad" }));
    out.notObj = probe(() => connect(42));
    const s = connect("127.0.0.1:9");
    out.tag = Object.prototype.toString.call(s);
    out.keys = Object.keys(Object.getPrototypeOf(s)).concat(Object.getOwnPropertyNames(Object.getPrototypeOf(s))).sort().join(",");
    out.secureTransport = s.secureTransport;
    out.upgraded = s.upgraded;
    out.startTls = probe(() => s.startTls());
    out.opened = await s.opened.then((i) => "ok " + JSON.stringify(i), (e) => "rejected " + e.name + ": " + e.message);
    out.closed = await s.closed.then(() => "resolved", (e) => "rejected " + e.name + ": " + e.message);
    const s2 = connect("127.0.0.1:9");
    out.closeEarly = await s2.close().then(() => "resolved", (e) => "rejected " + e.message);
    out.openedAfterClose = await s2.opened.then(() => "ok", (e) => "rejected " + e.name + ": " + e.message);
    return Response.json(out);
  },
};

// ctx.exports loopbacks (on by default at this date, no flag needed): every
// entrypoint export is there, callable as X({props}) to set ctx.props, and
// the same loopbacks are importable as `exports` from cloudflare:workers
// (a different object there).
import { WorkerEntrypoint, exports as importedExports } from "cloudflare:workers";

export class Named extends WorkerEntrypoint {
  props() { return this.ctx.props; }
  greet(name) { return (this.ctx.props.greeting ?? "Hello") + ", " + name; }
  async fetch(request) { return new Response("Named sees " + JSON.stringify(this.ctx.props)); }
}

export const plainObject = {
  describe(arg, env, ctx) { return { arg, props: ctx.props }; },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/loop") {
      return new Response("default via loopback, props=" + JSON.stringify(ctx.props));
    }
    const out = {};
    out.keys = Object.keys(ctx.exports).sort();
    out.sameAsImported = ctx.exports === importedExports;
    out.importedKeys = Object.keys(importedExports).sort();
    out.importedCall = await probe(() => importedExports.Named({ props: { greeting: "Hey" } }).greet("Cy"));
    out.namedType = typeof ctx.exports.Named;
    out.noProps = await probe(() => ctx.exports.Named.props());
    out.withProps = await probe(() => ctx.exports.Named({ props: { greeting: "Howdy", n: [1, 2] } }).props());
    out.greet = await probe(() => ctx.exports.Named({ props: { greeting: "Welcome" } }).greet("Ann"));
    out.greetDefault = await probe(() => ctx.exports.Named.greet("Bo"));
    out.emptyOptions = await probe(() => ctx.exports.Named({}).props());
    out.fetchWithProps = await probe(async () => (await ctx.exports.Named({ props: { f: 1 } }).fetch("http://x/")).text());
    out.plainObject = await probe(() => ctx.exports.plainObject({ props: { q: "p" } }).describe("arg"));
    out.defaultLoop = await probe(async () => (await ctx.exports.default({ props: { d: 1 } }).fetch("http://x/loop")).text());
    out.propsWithDate = await probe(async () => {
      const p = await ctx.exports.Named({ props: { when: new Date(0) } }).props();
      return [p.when instanceof Date, p.when.toISOString()];
    });
    // The message quotes the function's source (masked: a bundler may reprint it).
    out.propsWithFunction = (await probe(() => ctx.exports.Named({ props: { f: () => 1 } }).props()))
      .replace(/^(threw DataCloneError: ).* (could not be cloned\.)$/s, "$1<source> $2");
    return Response.json(out);
  },
};

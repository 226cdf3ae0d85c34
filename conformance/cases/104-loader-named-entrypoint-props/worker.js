// getEntrypoint(name, {props}): named WorkerEntrypoint classes and plain
// object exports, RPC methods on them, and ctx.props inside the dynamic worker.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint {
        props() { return this.ctx.props; }
        add(a, b) { return a + b; }
      }
      export class Named extends WorkerEntrypoint {
        async add(a, b) { return a + b; }
        props() { return this.ctx.props; }
        greet(name) { return this.ctx.props.greeting + ", " + name; }
        fetch(request) { return new Response("Named fetch sees " + JSON.stringify(this.ctx.props)); }
      }
      export const plain = {
        greet(name, env, ctx) { return ctx.props.greeting + " from plain, " + name; },
        argCount(...args) { return args.length; },
        fetch(request, env, ctx) { return new Response("plain fetch sees " + JSON.stringify(ctx.props)); },
      };
    `,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const stub = env.LOADER.get("named", () => code);
    const named = stub.getEntrypoint("Named", { props: { greeting: "Welcome", n: 1, nested: { list: [1, 2] } } });
    const other = stub.getEntrypoint("Named", { props: { greeting: "Howdy" } });
    const plain = stub.getEntrypoint("plain", { props: { greeting: "Hi" } });
    return Response.json({
      add: await probe(() => named.add(1, 2)),
      addStrings: await probe(() => named.add("a", "b")),
      props: await probe(() => named.props()),
      greet: await probe(() => named.greet("Bob")),
      otherGreet: await probe(() => other.greet("Carol")),
      namedFetch: await probe(async () => (await named.fetch("http://x/")).text()),
      noPropsNamed: await probe(() => stub.getEntrypoint("Named").props()),
      emptyOpts: await probe(() => stub.getEntrypoint("Named", {}).props()),
      defaultProps: await probe(() => stub.getEntrypoint().props()),
      defaultWithProps: await probe(() => stub.getEntrypoint(undefined, { props: { d: true } }).props()),
      defaultAdd: await probe(() => stub.getEntrypoint().add(40, 2)),
      plainGreet: await probe(() => plain.greet("Dave")),
      plainArgCount: await probe(() => plain.argCount(1, 2, 3)),
      plainFetch: await probe(async () => (await plain.fetch("http://x/")).text()),
      unknownEntrypoint: await probe(() => stub.getEntrypoint("Missing").add(1, 2)),
      unknownEntrypointFetch: await probe(async () => (await stub.getEntrypoint("Missing").fetch("http://x/")).status),
    });
  },
};

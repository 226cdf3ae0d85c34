// Bad input to the binding: instance ids (charset, first character, empty,
// too long, not a string), a duplicate id, createBatch with no items, too
// many, an invalid id and repeated ids, get() of an id that does not
// exist, and create() without options (a generated id).
import { WorkflowEntrypoint } from "cloudflare:workers";

const fmt = (e) => `${e.name}: ${e.message}`;

export class Creator extends WorkflowEntrypoint {
  async run(event, step) {
    return await step.do("only", async () => event.instanceId);
  }
}

async function attempt(f) {
  try {
    const v = await f();
    return v === undefined ? "ok" : v;
  } catch (e) {
    return fmt(e);
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const create = (opts) => attempt(async () => (await env.WF.create(opts)).id);
    try {
      switch (url.pathname) {
        case "/ids":
          return Response.json({
            plain: await create({ id: "plain-id_1" }),
            underscoreFirst: await create({ id: "_under" }),
            digitFirst: await create({ id: "9lives" }),
            dashFirst: await create({ id: "-dash" }),
            space: await create({ id: "has space" }),
            dot: await create({ id: "a.b" }),
            slash: await create({ id: "a/b" }),
            unicode: await create({ id: "café" }),
            empty: await create({ id: "" }),
            length100: await attempt(async () => (await env.WF.create({ id: "x".repeat(100) })).id.length),
            length101: await create({ id: "y".repeat(101) }),
            number: await create({ id: 42 }),
          });
        case "/duplicate":
          return Response.json({
            first: await create({ id: "twice" }),
            second: await create({ id: "twice" }),
          });
        case "/generated": {
          const inst = await env.WF.create();
          return Response.json({
            type: typeof inst.id,
            uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(inst.id),
          });
        }
        case "/batch":
          return Response.json({
            empty: await attempt(() => env.WF.createBatch([])),
            tooMany: await attempt(() => env.WF.createBatch(Array.from({ length: 101 }, (_, i) => ({ id: `many-${i}` })))),
            badId: await attempt(() => env.WF.createBatch([{ id: "batch-ok" }, { id: "bad id" }])),
            // the invalid batch created nothing
            afterBadId: await attempt(async () => (await env.WF.get("batch-ok")).id),
            two: await attempt(async () => (await env.WF.createBatch([{ id: "batch-a", params: { n: 1 } }, { id: "batch-b" }])).map((i) => i.id)),
            // repeated and existing ids are skipped, not errors
            repeated: await attempt(async () =>
              (await env.WF.createBatch([{ id: "batch-c" }, { id: "batch-c" }, { id: "batch-a" }])).map((i) => i.id)),
            hundred: await attempt(async () => (await env.WF.createBatch(Array.from({ length: 100 }, () => ({})))).length),
          });
        case "/get":
          return Response.json({
            missing: await attempt(async () => (await env.WF.get("never-created")).id),
            invalid: await attempt(async () => (await env.WF.get("not a valid id")).id),
            existing: await attempt(async () => (await env.WF.get("batch-a")).id),
          });
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  },
};

// Durable Object namespaces and ids: idFromName (stable, equals, name),
// newUniqueId, idFromString round trips and errors, get / getByName, the
// stub's id and name, ctx.id inside the object, and the env binding next to
// the ctx.exports namespace of the same class (and of an unbound class).
// Raw ids are never printed: their hex differs between runtimes.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  whoAmI() {
    return { name: this.ctx.id.name ?? "undefined", length: this.ctx.id.toString().length, ctor: this.ctx.id.constructor.name };
  }
  idString() { return this.ctx.id.toString(); }
}

export class Other extends DurableObject {
  idString() { return this.ctx.id.toString(); }
}

const probe = async (fn) => {
  try {
    const v = await fn();
    return v === undefined ? "undefined" : v;
  } catch (e) {
    return "threw " + e.name + ": " + e.message;
  }
};

const chain = (o) => {
  const names = [];
  for (let p = Object.getPrototypeOf(o); p; p = Object.getPrototypeOf(p)) names.push(p.constructor?.name ?? "?");
  return names;
};

export default {
  async fetch(request, env, ctx) {
    const ns = env.COUNTER;
    const out = {};

    out.namespace = {
      type: typeof ns,
      string: String(ns),
      chain: chain(ns),
      methods: Object.getOwnPropertyNames(Object.getPrototypeOf(ns)).sort(),
      ownKeys: Object.keys(ns),
    };
    const exported = ctx.exports.Counter;
    out.exported = {
      type: typeof exported,
      string: String(exported),
      chain: chain(exported),
      sameObjectAsBinding: exported === ns,
      idFromName: typeof exported.idFromName,
      unboundClassIsNamespace: typeof ctx.exports.Other.getByName,
    };

    const alice = ns.idFromName("alice");
    const alice2 = ns.idFromName("alice");
    const bob = ns.idFromName("bob");
    const unique = ns.newUniqueId();
    out.ids = {
      type: typeof alice,
      string: Object.prototype.toString.call(alice),
      chain: chain(alice),
      methods: Object.getOwnPropertyNames(Object.getPrototypeOf(alice)).sort(),
      ownKeys: Object.keys(alice),
      json: JSON.stringify(alice),
      uniqueJson: JSON.stringify(unique),
      name: alice.name,
      uniqueName: unique.name ?? "undefined",
      jurisdiction: alice.jurisdiction ?? "undefined",
      hex: /^[0-9a-f]{64}$/.test(alice.toString()),
      uniqueHex: /^[0-9a-f]{64}$/.test(unique.toString()),
      templateIsToString: `${alice}` === alice.toString(),
      stable: alice.toString() === alice2.toString(),
      sameObject: alice === alice2,
      equals: alice.equals(alice2),
      equalsOther: alice.equals(bob),
      uniqueDiffer: unique.toString() !== ns.newUniqueId().toString(),
      nameNotString: ns.idFromName(5).name,
      emptyName: ns.idFromName("").name,
      sameNameOtherClassDiffers: ctx.exports.Other.idFromName("alice").toString() !== alice.toString(),
      exportedSameIdAsBinding: exported.idFromName("alice").equals(alice),
    };

    const parsed = ns.idFromString(alice.toString());
    const upper = ns.idFromString(alice.toString().toUpperCase());
    const hex = alice.toString();
    const flipped = hex.slice(0, 63) + (hex[63] === "0" ? "1" : "0");
    out.idFromString = {
      equals: parsed.equals(alice),
      name: parsed.name ?? "undefined",
      upperCaseAccepted: upper.equals(alice),
      upperCaseToString: upper.toString() === hex,
      badHex: await probe(() => ns.idFromString("z".repeat(64))),
      short: await probe(() => ns.idFromString("abc")),
      long: await probe(() => ns.idFromString(hex + "00")),
      empty: await probe(() => ns.idFromString("")),
      number: await probe(() => ns.idFromString(5)),
      missing: await probe(() => ns.idFromString()),
      otherNamespace: await probe(() => ns.idFromString(ctx.exports.Other.idFromName("alice").toString())),
      flippedDigit: await probe(() => ns.idFromString(flipped)),
    };
    out.argErrors = {
      idFromNameMissing: await probe(() => ns.idFromName()),
      getByNameMissing: await probe(() => ns.getByName()),
      getString: await probe(() => ns.get(hex)),
      getMissing: await probe(() => ns.get()),
      equalsString: await probe(() => alice.equals(hex)),
    };

    const byId = ns.get(alice);
    const byName = ns.getByName("alice");
    const byUnique = ns.get(unique);
    out.stubs = {
      type: typeof byId,
      string: String(byId),
      chain: chain(byId),
      ownKeys: Object.keys(byId).sort(),
      idIsTheSameObject: byId.id === alice,
      name: byId.name,
      byNameName: byName.name,
      byNameIdEquals: byName.id.equals(alice),
      uniqueName: byUnique.name ?? "undefined",
      parsedName: ns.get(parsed).name ?? "undefined",
      anyMemberIsFunction: [typeof byId.fetch, typeof byId.whoAmI, typeof byId.notAMethod],
      then: typeof byId.then,
      locationHint: ns.get(alice, { locationHint: "enam" }).name,
    };

    out.inside = {
      byId: await byId.whoAmI(),
      byName: await byName.whoAmI(),
      unique: await byUnique.whoAmI(),
      // The object already runs under the named id, so it keeps its name.
      parsedAfterNamed: await ns.get(parsed).whoAmI(),
      ctxIdMatchesStubId: (await byId.idString()) === hex,
      uniqueCtxId: (await byUnique.idString()) === unique.toString(),
      exported: await exported.getByName("alice").whoAmI(),
      exportedReachesSameObject: (await exported.getByName("alice").idString()) === hex,
      // get() does not check which namespace an id came from.
      foreignId: await probe(async () => {
        const foreign = ctx.exports.Other.idFromName("x");
        return [(await ns.get(foreign).idString()) === foreign.toString(), (await ns.get(foreign).whoAmI()).name];
      }),
    };
    return Response.json(out);
  },
};

// Invalid header names and values are TypeErrors.
export default {
  async fetch() {
    const errName = (fn) => { try { fn(); return "no error"; } catch (e) { return e.name; } };
    const h = new Headers();
    return Response.json({
      space: errName(() => h.set("bad name", "v")),
      colon: errName(() => h.append("bad:name", "v")),
      newlineValue: errName(() => h.set("x", "a\nb")),
      crValue: errName(() => h.set("x", "a\rb")),
      nulValue: errName(() => h.set("x", "a\0b")),
      getInvalid: errName(() => h.get("bad name")),
      hasInvalid: errName(() => h.has("bad name")),
      deleteInvalid: errName(() => h.delete("bad name")),
      initObject: errName(() => new Headers({ "bad name": "v" })),
      initPairTooShort: errName(() => new Headers([["only-name"]])),
      initPairTooLong: errName(() => new Headers([["a", "b", "c"]])),
      tokenChars: errName(() => h.set("!#$%&'*+-.^_`|~09azAZ", "ok")),
      // Not covered: workerd accepts an empty name and non-ASCII names
      // (storing them mangled), a leniency Isola need not copy.
      stored: [...h.keys()],
    });
  },
};
